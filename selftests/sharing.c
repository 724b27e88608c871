// SPDX-License-Identifier: GPL-2.0
/*
 * One space, several processes: a forked child's inherited window, a
 * window the child maps itself, a space fd passed over SCM_RIGHTS either
 * way, and processes and threads racing to first-touch the same pages.
 */
#include <pthread.h>
#include <sched.h>

#include "l4_test_util.h"

L4T_FIXTURE(sharing);

#define PG	L4T_PAGE

/*
 * Parent and child write in turn, each checking the other's writes: a
 * window is shared, never copied on write, in both directions.
 */
TEST_F(sharing, fork_shares_both_ways)
{
	struct l4_space_info info;
	int fd, to_child[2], to_parent[2];
	char *win;
	pid_t pid;

	fd = l4t_space_window(self->dev, 8, 0, L4_SPACE_SIGMA0, &win);
	ASSERT_LE(0, fd);
	l4t_fill(win, 0, 2 * PG, 1);
	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		CHILD_CHECK(l4t_check(win, 0, 2 * PG, 1) == -1);
		l4t_fill(win + 2 * PG, 2 * PG, 2 * PG, 2);
		CHILD_CHECK(!l4t_post(to_parent[1]));
		CHILD_CHECK(!l4t_pend(to_child[0]));
		/* written by the parent after the fork */
		CHILD_CHECK(l4t_check(win + 4 * PG, 4 * PG, 2 * PG, 3) == -1);
		l4t_fill(win, 0, PG, 4);
		_exit(0);
	}
	ASSERT_EQ(0, l4t_pend(to_parent[0]));
	EXPECT_EQ(-1, l4t_check(win + 2 * PG, 2 * PG, 2 * PG, 2));
	l4t_fill(win + 4 * PG, 4 * PG, 2 * PG, 3);
	ASSERT_EQ(0, l4t_post(to_child[1]));
	ASSERT_EQ(0, l4t_wait(pid));

	EXPECT_EQ(-1, l4t_check(win, 0, PG, 4));
	EXPECT_EQ(-1, l4t_check(win + PG, PG, PG, 1));
	EXPECT_EQ(-1, l4t_check(win + 2 * PG, 2 * PG, 2 * PG, 2));
	EXPECT_EQ(-1, l4t_check(win + 4 * PG, 4 * PG, 2 * PG, 3));
	EXPECT_EQ(-1, l4t_check_zero(win + 6 * PG, 2 * PG));
	ASSERT_EQ(0, l4t_info(fd, &info));
	EXPECT_EQ(8ULL, info.frames);
	EXPECT_EQ(1ULL, info.windows);
	ASSERT_EQ(0, munmap(win, 8 * PG));
	ASSERT_EQ(0, close(fd));
}

/* The child maps the inherited fd itself, at another offset, then exits. */
TEST_F(sharing, child_maps_inherited_fd)
{
	struct l4_space_info info;
	char *win;
	pid_t pid;
	int fd;

	fd = l4t_space_window(self->dev, 8, 0, L4_SPACE_SIGMA0, &win);
	ASSERT_LE(0, fd);
	l4t_fill(win, 0, 4 * PG, 1);

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		char *w;

		CHILD_CHECK(!munmap(win, 8 * PG));
		w = l4t_map(fd, 2 * PG, 6 * PG);
		CHILD_CHECK(w != MAP_FAILED);
		CHILD_CHECK(l4t_check(w, 2 * PG, 2 * PG, 1) == -1);
		l4t_fill(w + 2 * PG, 4 * PG, 4 * PG, 2);
		_exit(0);
	}
	ASSERT_EQ(0, l4t_wait(pid));
	EXPECT_EQ(-1, l4t_check(win, 0, 4 * PG, 1));
	EXPECT_EQ(-1, l4t_check(win + 4 * PG, 4 * PG, 4 * PG, 2));
	ASSERT_EQ(0, l4t_info(fd, &info));
	EXPECT_EQ(8ULL, info.frames);
	EXPECT_EQ(1ULL, info.windows);
	ASSERT_EQ(0, munmap(win, 8 * PG));
	ASSERT_EQ(0, close(fd));
}

/*
 * A child forked before the space exists gets it only over SCM_RIGHTS.
 * It maps it and both sides see each other's writes; the parent has
 * closed its fd meanwhile and keeps only its window.
 */
TEST_F(sharing, scm_rights_to_child)
{
	int sv[2], fd;
	__u64 id;
	char *win;
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct l4_space_info info;
		__u64 sent_id;
		int sfd;
		char *w;

		close(sv[0]);
		sfd = l4t_recv_fd(sv[1], &sent_id);
		CHILD_CHECK(sfd >= 0);
		CHILD_CHECK(!l4t_info(sfd, &info));
		CHILD_CHECK(info.id == sent_id);
		CHILD_CHECK(info.size == 8 * PG);
		CHILD_CHECK(info.flags == L4_SPACE_SIGMA0);
		w = l4t_map(sfd, 0, 8 * PG);
		CHILD_CHECK(w != MAP_FAILED);
		CHILD_CHECK(!l4t_info(sfd, &info));
		CHILD_CHECK(info.windows == 2);
		CHILD_CHECK(l4t_check(w, 0, 2 * PG, 1) == -1);
		l4t_fill(w + 2 * PG, 2 * PG, 2 * PG, 2);
		CHILD_CHECK(!l4t_post(sv[1]));
		CHILD_CHECK(!l4t_pend(sv[1]));
		CHILD_CHECK(l4t_check(w + 4 * PG, 4 * PG, 2 * PG, 3) == -1);
		CHILD_CHECK(!l4t_info(sfd, &info));
		CHILD_CHECK(info.frames == 6);
		_exit(0);
	}
	close(sv[1]);

	fd = l4t_create(self->dev, 8 * PG, 0, L4_SPACE_SIGMA0, &id);
	ASSERT_LE(0, fd);
	win = l4t_map(fd, 0, 8 * PG);
	ASSERT_NE(MAP_FAILED, win);
	l4t_fill(win, 0, 2 * PG, 1);
	ASSERT_EQ(0, l4t_send_fd(sv[0], fd, id));
	ASSERT_EQ(0, close(fd));

	ASSERT_EQ(0, l4t_pend(sv[0]));
	EXPECT_EQ(-1, l4t_check(win + 2 * PG, 2 * PG, 2 * PG, 2));
	l4t_fill(win + 4 * PG, 4 * PG, 2 * PG, 3);
	ASSERT_EQ(0, l4t_post(sv[0]));
	ASSERT_EQ(0, l4t_wait(pid));
	EXPECT_EQ(-1, l4t_check(win, 0, 2 * PG, 1));
	ASSERT_EQ(0, munmap(win, 8 * PG));
	close(sv[0]);
}

/*
 * The other way round: the child creates a space, fills it, passes it
 * and exits. The space lives on in the parent's received fd.
 */
TEST_F(sharing, scm_rights_from_child)
{
	struct l4_space_info info;
	struct l4_stats st;
	int sv[2], fd;
	__u64 id;
	char *win;
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		__u64 cid;
		char *w;
		int cfd;

		cfd = l4t_create(self->dev, 4 * PG, 0, L4_SPACE_SIGMA0, &cid);
		CHILD_CHECK(cfd >= 0);
		w = l4t_map(cfd, 0, 4 * PG);
		CHILD_CHECK(w != MAP_FAILED);
		l4t_fill(w, 0, 4 * PG, 5);
		CHILD_CHECK(!l4t_send_fd(sv[1], cfd, cid));
		_exit(0);
	}
	ASSERT_EQ(0, l4t_wait(pid));
	fd = l4t_recv_fd(sv[0], &id);
	ASSERT_LE(0, fd);
	close(sv[0]);
	close(sv[1]);

	ASSERT_EQ(0, l4t_info(fd, &info));
	EXPECT_EQ(id, info.id);
	EXPECT_EQ(4ULL, info.frames);
	EXPECT_EQ(0ULL, info.windows);
	win = l4t_map(fd, 0, 4 * PG);
	ASSERT_NE(MAP_FAILED, win);
	EXPECT_EQ(-1, l4t_check(win, 0, 4 * PG, 5));
	ASSERT_EQ(0, l4t_stats(self->dev, &st));
	ASSERT_LIVE(&self->before, &st, 1, 4, 4, 1);
	ASSERT_EQ(0, munmap(win, 4 * PG));
	ASSERT_EQ(0, close(fd));
}

/*
 * Two processes with two threads each first-touch the same pages at once,
 * in opposite orders, each writing its own word of every page. A page must
 * get exactly one frame: every word is then visible in one page.
 */
enum { RACE_PAGES = 128, RACE_PROCS = 2, RACE_THREADS = 2 };

struct race {
	char *win;
	int *ready, *go;	/* in shared memory */
	int slot;
};

static void *race_thread(void *arg)
{
	struct race *r = arg;
	int i, n;

	__atomic_add_fetch(r->ready, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(r->go, __ATOMIC_ACQUIRE))
		sched_yield();
	for (n = 0; n < RACE_PAGES; n++) {
		i = r->slot % 2 ? RACE_PAGES - 1 - n : n;
		((volatile __u64 *)(r->win + i * PG))[r->slot] =
			l4t_word(r->slot + 1, i * PG);
	}
	return NULL;
}

static int race_process(char *win, int *shm, int first_slot)
{
	struct race r[RACE_THREADS];
	pthread_t t[RACE_THREADS];
	int i;

	for (i = 0; i < RACE_THREADS; i++) {
		r[i] = (struct race){ win, &shm[0], &shm[1], first_slot + i };
		if (pthread_create(&t[i], NULL, race_thread, &r[i]))
			return 1;
	}
	for (i = 0; i < RACE_THREADS; i++)
		pthread_join(t[i], NULL);
	return 0;
}

TEST_F(sharing, concurrent_first_touch)
{
	const int slots = RACE_PROCS * RACE_THREADS;
	struct l4_space_info info;
	pid_t pids[RACE_PROCS];
	int fd, i, p, *shm;
	char *win;

	fd = l4t_space_window(self->dev, RACE_PAGES, 0, L4_SPACE_SIGMA0, &win);
	ASSERT_LE(0, fd);
	shm = l4t_shared(PG);
	ASSERT_NE(NULL, shm);

	for (p = 0; p < RACE_PROCS; p++) {
		pids[p] = fork();
		ASSERT_LE(0, pids[p]);
		if (!pids[p])
			_exit(race_process(win, shm, p * RACE_THREADS));
	}
	for (i = 0; __atomic_load_n(&shm[0], __ATOMIC_ACQUIRE) < slots; i++) {
		ASSERT_LT(i, 10000) TH_LOG("racers not ready");
		usleep(1000);
	}
	__atomic_store_n(&shm[1], 1, __ATOMIC_RELEASE);
	for (p = 0; p < RACE_PROCS; p++)
		ASSERT_EQ(0, l4t_wait(pids[p]));

	for (i = 0; i < RACE_PAGES; i++) {
		volatile __u64 *w = (__u64 *)(win + i * PG);
		int s;

		for (s = 0; s < slots; s++)
			EXPECT_EQ(l4t_word(s + 1, i * PG), w[s])
				TH_LOG("page %d, slot %d", i, s);
		EXPECT_EQ(-1, l4t_check_zero((char *)w + slots * 8,
					     PG - slots * 8));
	}
	ASSERT_EQ(0, l4t_info(fd, &info));
	EXPECT_EQ((__u64)RACE_PAGES, info.frames);
	EXPECT_EQ((__u64)RACE_PAGES, info.nodes);
	ASSERT_EQ(0, munmap(win, RACE_PAGES * PG));
	ASSERT_EQ(0, close(fd));
}

TEST_HARNESS_MAIN
