// SPDX-License-Identifier: GPL-2.0
/*
 * Dataspace managers (pagers/l4u-dsm-anon, pagers/l4u-dsm-file, in the
 * guest's /bin) and their clients (libl4u dataspace.h), without a region
 * manager: a client maps a dataspace's pages into a space of its own with
 * l4u_ds_map() and looks at them through a window.
 *
 * Every test starts its managers itself (abstract sockets named after the
 * test process) and stops them before it ends: the fixture's leak check
 * then covers the managers' spaces and frames too.
 */
#define _GNU_SOURCE
#include "l4_test_util.h"

#include <pthread.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/un.h>

#include <l4u/l4u.h>
#include <l4u/dataspace.h>
#include <l4u/rm.h>
#include <l4u/server.h>
#include <l4u/task.h>

#define PG		L4T_PAGE
#define SEED		0xd5
#define CLIENT_PAGES	256

L4T_FIXTURE(dsm);

/* ---- helpers ------------------------------------------------------------- */

struct mgr {
	pid_t pid;
	char sock[64];
};

/* Start manager @prog ("l4u-dsm-anon", ...) with @frames frames. */
static int mgr_start(struct mgr *m, const char *prog, unsigned int frames)
{
	static int seq;
	char nf[16];

	snprintf(m->sock, sizeof(m->sock), "@l4u-dsm-test-%d-%d", getpid(), ++seq);
	snprintf(nf, sizeof(nf), "%u", frames);
	m->pid = fork();
	if (m->pid < 0)
		return -1;
	if (m->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execlp(prog, prog, "--socket", m->sock, "--frames", nf, (char *)NULL);
		fprintf(stderr, "# exec %s: %s\n", prog, strerror(errno));
		_exit(127);
	}
	return l4t_dsm_ready(m->pid, m->sock);
}

/* SIGTERM, then its exit status (0: a clean exit). */
static int mgr_stop(struct mgr *m)
{
	int rc;

	kill(m->pid, SIGTERM);
	rc = l4t_wait(m->pid);
	m->pid = 0;
	return rc;
}

/* A client space of CLIENT_PAGES pages and a window onto it. */
static int client_space(int dev, char **win)
{
	int sp = l4u_space_create(dev, CLIENT_PAGES * PG, 0, 0, NULL);

	if (sp < 0)
		return sp;
	if (l4u_window_open(sp, 0, CLIENT_PAGES * PG, PROT_READ | PROT_WRITE,
			    NULL, (void **)win)) {
		close(sp);
		return -1;
	}
	return sp;
}

/*
 * Map @n pages of @ds from @off at client address @at with @rights, one
 * request per page (a one-page receive window each: exactly that page).
 */
static int ds_map_pages(const struct l4u_ds *ds, uint64_t off, size_t n,
			uint64_t at, unsigned int rights, int space)
{
	uint64_t pages;
	size_t i;
	int ret;

	for (i = 0; i < n; i++) {
		ret = l4u_ds_map(ds, off + i * PG, at + i * PG, rights, space,
				 L4_FPAGE(at + i * PG, 12, 0), &pages);
		if (ret)
			return ret;
		if (pages != 1)
			return -EPROTO;
	}
	return 0;
}

/* Wait (up to 10 s) until the manager counts @want dataspaces; its stats. */
static int stats_settle(const struct l4u_ds *probe, uint64_t want,
			struct l4u_dsm_stats *st)
{
	int i, ret = 0;

	for (i = 0; i < 1000; i++) {
		ret = l4u_dsm_stats(probe, st);
		if (ret || st->dataspaces == want)
			return ret;
		usleep(10000);
	}
	return ret;
}

/* A touch of @p must raise SIGSEGV (a rights fault, no pager to ask). */
#define ASSERT_SIGSEGV(p, mode) do {					\
	struct l4t_fault f_;						\
									\
	ASSERT_EQ((size_t)0, l4t_touch((p), 1, (mode), &f_));		\
	ASSERT_EQ(SIGSEGV, f_.sig);					\
	ASSERT_EQ((void *)(p), f_.addr);				\
} while (0)

/* ---- anonymous memory ---------------------------------------------------- */

/*
 * Pages of an anonymous dataspace start zeroed, keep what was written,
 * are frames of the manager's pool (counted), and a second dataspace is
 * other memory. Closing the capability frees the dataspace and its
 * frames; frames used again come back zeroed.
 */
TEST_F(dsm, anon_map_zero_fill_free)
{
	struct l4u_ds a, b, probe;
	struct l4u_dsm_stats st;
	struct mgr m;
	char *win;
	int sp;

	ASSERT_EQ(0, mgr_start(&m, "l4u-dsm-anon", 64));
	ASSERT_EQ(0, l4u_ds_open_anon(m.sock, 8 * PG, L4_FPAGE_RW, &a));
	ASSERT_EQ(8 * PG, a.size);
	ASSERT_EQ(L4_FPAGE_RW, a.flags);
	ASSERT_EQ(0, l4u_ds_open_anon(m.sock, 4 * PG, L4_FPAGE_RWX & ~L4_FPAGE_X, &b));
	ASSERT_NE(a.id, b.id);
	ASSERT_EQ(0, l4u_ds_open_anon(m.sock, PG, 0, &probe));
	ASSERT_EQ(L4_FPAGE_R, probe.flags);	/* anonymous memory is readable */

	sp = client_space(self->dev, &win);
	ASSERT_LE(0, sp);
	ASSERT_EQ(0, ds_map_pages(&a, 0, 8, 0, L4_FPAGE_RW, sp));
	ASSERT_EQ(-1L, l4t_check_zero(win, 8 * PG));
	l4t_fill(win, 0, 8 * PG, SEED);
	ASSERT_EQ(0, ds_map_pages(&b, 0, 4, 16 * PG, L4_FPAGE_RW, sp));
	ASSERT_EQ(-1L, l4t_check_zero(win + 16 * PG, 4 * PG));
	l4t_fill(win + 16 * PG, 16 * PG, 4 * PG, SEED + 1);

	/* mapping a page again lands the same frame elsewhere */
	ASSERT_EQ(0, ds_map_pages(&a, 3 * PG, 1, 32 * PG, L4_FPAGE_R, sp));
	ASSERT_EQ(0, memcmp(win + 3 * PG, win + 32 * PG, PG));
	ASSERT_EQ(0, l4u_dsm_stats(&probe, &st));
	ASSERT_EQ(3ULL, st.dataspaces);
	ASSERT_EQ(12ULL, st.frames_used);
	ASSERT_EQ(64ULL, st.frames_total);
	ASSERT_EQ(-1L, l4t_check(win, 0, 8 * PG, SEED));

	/* INFO from the capability alone */
	struct l4u_ds c;

	ASSERT_EQ(0, l4u_ds_from_cap(a.cap, &c));
	ASSERT_EQ(a.size, c.size);
	ASSERT_EQ(a.flags, c.flags);
	ASSERT_EQ(a.id, c.id);

	/* the last capability goes: the dataspace and its frames go,
	 * and so do the client's mappings of it */
	ASSERT_EQ(0, l4u_ds_close(&a));
	ASSERT_EQ(0, stats_settle(&probe, 2, &st));
	ASSERT_EQ(2ULL, st.dataspaces);
	ASSERT_EQ(4ULL, st.frames_used);
	ASSERT_SIGBUS(win, L4T_READ);
	ASSERT_SIGBUS(win + 32 * PG, L4T_READ);
	ASSERT_EQ(-1L, l4t_check(win + 16 * PG, 16 * PG, 4 * PG, SEED + 1));
	/* frames used again are zeroed */
	ASSERT_EQ(0, l4u_ds_open_anon(m.sock, 16 * PG, L4_FPAGE_RW, &a));
	ASSERT_EQ(0, ds_map_pages(&a, 0, 16, 64 * PG, L4_FPAGE_R, sp));
	ASSERT_EQ(-1L, l4t_check_zero(win + 64 * PG, 16 * PG));
	ASSERT_EQ(0, l4u_ds_close(&a));
	ASSERT_EQ(0, l4u_ds_close(&b));
	ASSERT_EQ(0, stats_settle(&probe, 1, &st));
	ASSERT_EQ(0ULL, st.frames_used);
	ASSERT_EQ(0, l4u_ds_close(&probe));
	ASSERT_EQ(0, mgr_stop(&m));
	ASSERT_EQ(0, munmap(win, CLIENT_PAGES * PG));
	ASSERT_EQ(0, close(sp));
}

/* What MAP refuses, and the other requests' range checks. */
TEST_F(dsm, anon_errors)
{
	struct l4u_ds ro, rw, none = { .cap = -1 };
	uint64_t pages;
	struct mgr m;
	char *win;
	int sp;

	ASSERT_EQ(0, mgr_start(&m, "l4u-dsm-anon", 4));
	ASSERT_EQ(-EINVAL, l4u_ds_open_anon(m.sock, 0, L4_FPAGE_R, &none));
	ASSERT_EQ(-EINVAL, l4u_ds_open_anon(m.sock, 100, L4_FPAGE_R, &none));
	ASSERT_EQ(-EINVAL, l4u_ds_open_anon(m.sock, PG, 1U << 20, &none));
	ASSERT_EQ(-EOPNOTSUPP, l4u_ds_open_file(m.sock, 0, 0, L4_FPAGE_R, &none));
	ASSERT_EQ(-1, none.cap);
	ASSERT_EQ(0, l4u_ds_open_anon(m.sock, 2 * PG, L4_FPAGE_R, &ro));
	ASSERT_EQ(0, l4u_ds_open_anon(m.sock, 8 * PG, L4_FPAGE_RW, &rw));
	sp = client_space(self->dev, &win);
	ASSERT_LE(0, sp);

	ASSERT_EQ(-EACCES, l4u_ds_map(&ro, 0, 0, L4_FPAGE_RW, sp, L4_FPAGE_WHOLE_SPACE, &pages));
	ASSERT_EQ(-EACCES, l4u_ds_map(&rw, 0, 0, L4_FPAGE_RX, sp, L4_FPAGE_WHOLE_SPACE, &pages));
	ASSERT_EQ(-ERANGE, l4u_ds_map(&ro, 2 * PG, 0, L4_FPAGE_R, sp, L4_FPAGE_WHOLE_SPACE, &pages));
	ASSERT_EQ(-EINVAL, l4u_ds_map(&ro, 100, 0, L4_FPAGE_R, sp, L4_FPAGE_WHOLE_SPACE, &pages));
	ASSERT_EQ(-EACCES, l4u_ds_clear(&ro, 0, PG));
	ASSERT_EQ(-ERANGE, l4u_ds_clear(&rw, 0, 9 * PG));
	ASSERT_EQ(-EINVAL, l4u_ds_allocate(&rw, 1, PG));
	ASSERT_EQ(-ESRCH, l4u_ds_copy_in(&rw, 0, &(struct l4u_ds){ .id = rw.id + 1 }, 0, PG));
	/* mapped read-only: a write is a rights fault (no pager: SIGSEGV) */
	ASSERT_EQ(0, ds_map_pages(&ro, 0, 1, 0, L4_FPAGE_R, sp));
	ASSERT_EQ(0, *(volatile char *)win);
	ASSERT_SIGSEGV(win, L4T_WRITE);
	/* the pool of 4 frames runs out: ENOMEM, and the pages held stay */
	ASSERT_EQ(0, ds_map_pages(&rw, 0, 3, 8 * PG, L4_FPAGE_RW, sp));
	ASSERT_EQ(-ENOMEM, l4u_ds_map(&rw, 3 * PG, 0, L4_FPAGE_RW, sp, L4_FPAGE_WHOLE_SPACE, &pages));
	ASSERT_EQ(-ENOMEM, l4u_ds_allocate(&rw, 0, 8 * PG));
	/* CLEAR gives frames back: now there is room */
	ASSERT_EQ(0, l4u_ds_clear(&rw, 0, 2 * PG));
	ASSERT_EQ(0, l4u_ds_allocate(&rw, 3 * PG, 2 * PG));

	ASSERT_EQ(0, l4u_ds_close(&ro));
	ASSERT_EQ(0, l4u_ds_close(&rw));
	ASSERT_EQ(0, mgr_stop(&m));
	ASSERT_EQ(0, munmap(win, CLIENT_PAGES * PG));
	ASSERT_EQ(0, close(sp));
}

/*
 * MAP answers with the biggest flexpage the receive window, the alignment
 * of offset and hot spot, and the dataspace's frames allow: a 2 MiB block
 * of fresh frames, the same block again elsewhere, part of it through a
 * smaller window; single pages where alignment or a partly backed block
 * forbid more.
 */
TEST_F(dsm, anon_big_flexpages)
{
	const uint64_t M2 = 2ULL << 20;
	struct l4u_dsm_stats st;
	uint64_t pages;
	struct l4u_ds ds;
	struct mgr m;
	char *win;
	int sp;

	ASSERT_EQ(0, mgr_start(&m, "l4u-dsm-anon", 2048));
	ASSERT_EQ(0, l4u_ds_open_anon(m.sock, 2 * M2, L4_FPAGE_RW, &ds));
	sp = l4u_space_create(self->dev, 4 * M2, 0, 0, NULL);
	ASSERT_LE(0, sp);
	ASSERT_EQ(0, l4u_window_open(sp, 0, 4 * M2, PROT_READ | PROT_WRITE, NULL,
				     (void **)&win));

	/* ds [2M, 4M) -> client [2M, 4M), asked for by one page in it */
	ASSERT_EQ(0, l4u_ds_map(&ds, M2 + 0x5000, M2 + 0x5000, L4_FPAGE_RW, sp,
				L4_FPAGE(M2, 21, 0), &pages));
	ASSERT_EQ(512ULL, pages);
	ASSERT_EQ(0, l4u_dsm_stats(&ds, &st));
	ASSERT_EQ(512ULL, st.frames_used);
	ASSERT_EQ(-1L, l4t_check_zero(win + M2, M2));
	l4t_fill(win + M2, M2, M2, SEED);
	/* the same block again at [6M, 8M): the same frames */
	ASSERT_EQ(0, l4u_ds_map(&ds, M2, 3 * M2, L4_FPAGE_R, sp,
				L4_FPAGE_WHOLE_SPACE, &pages));
	ASSERT_EQ(512ULL, pages);
	ASSERT_EQ(-1L, l4t_check(win + 3 * M2, M2, M2, SEED));
	/* a 64 KiB window takes 16 pages of it */
	ASSERT_EQ(0, l4u_ds_map(&ds, M2 + 0x30000, 0x30000, L4_FPAGE_R, sp,
				L4_FPAGE(0x30000, 16, 0), &pages));
	ASSERT_EQ(16ULL, pages);
	ASSERT_EQ(-1L, l4t_check(win + 0x30000, M2 + 0x30000, 0x10000, SEED));

	/* offset and hot spot aligned differently: one page */
	ASSERT_EQ(0, l4u_ds_map(&ds, 0x1000, M2 - 0x2000, L4_FPAGE_RW, sp,
				L4_FPAGE_WHOLE_SPACE, &pages));
	ASSERT_EQ(1ULL, pages);
	/* a block partly backed: one page */
	ASSERT_EQ(0, l4u_ds_map(&ds, 0, M2 - 0x4000, L4_FPAGE_RW, sp,
				L4_FPAGE_WHOLE_SPACE, &pages));
	ASSERT_EQ(1ULL, pages);
	ASSERT_EQ(0, l4u_dsm_stats(&ds, &st));
	ASSERT_EQ(514ULL, st.frames_used);

	ASSERT_EQ(0, l4u_ds_close(&ds));
	ASSERT_EQ(0, l4u_ds_open_anon(m.sock, PG, L4_FPAGE_R, &ds));
	ASSERT_EQ(0, stats_settle(&ds, 1, &st));
	ASSERT_EQ(0ULL, st.frames_used);
	ASSERT_SIGBUS(win + M2, L4T_READ);
	ASSERT_EQ(0, l4u_ds_close(&ds));
	ASSERT_EQ(0, mgr_stop(&m));
	ASSERT_EQ(0, munmap(win, 4 * M2));
	ASSERT_EQ(0, close(sp));
}

/* CLEAR zeroes (the old frames' mappings go), COPY_IN copies by id. */
TEST_F(dsm, anon_clear_copy_in)
{
	struct l4u_ds a, b;
	struct mgr m;
	char *win;
	int sp;

	ASSERT_EQ(0, mgr_start(&m, "l4u-dsm-anon", 64));
	ASSERT_EQ(0, l4u_ds_open_anon(m.sock, 4 * PG, L4_FPAGE_RW, &a));
	ASSERT_EQ(0, l4u_ds_open_anon(m.sock, 8 * PG, L4_FPAGE_RW, &b));
	sp = client_space(self->dev, &win);
	ASSERT_LE(0, sp);
	ASSERT_EQ(0, ds_map_pages(&a, 0, 4, 0, L4_FPAGE_RW, sp));
	l4t_fill(win, 0, 3 * PG, SEED);		/* page 3 stays untouched zero */
	ASSERT_EQ(0, ds_map_pages(&b, 0, 8, 16 * PG, L4_FPAGE_RW, sp));
	memset(win + 16 * PG, 0x77, 8 * PG);

	/* b[2..5] = a[0..3]: three pages of data and a zero page */
	ASSERT_EQ(0, l4u_ds_copy_in(&b, 2 * PG, &a, 0, 4 * PG));
	ASSERT_EQ(-1L, l4t_check(win + 18 * PG, 0, 3 * PG, SEED));
	ASSERT_EQ(-1L, l4t_check_zero(win + 21 * PG, PG));
	ASSERT_EQ(0x77, win[16 * PG]);
	ASSERT_EQ(0x77, win[22 * PG]);
	ASSERT_EQ(-ERANGE, l4u_ds_copy_in(&b, 6 * PG, &a, 0, 4 * PG));

	/* CLEAR: the frames go back, the client maps fresh zero pages */
	ASSERT_EQ(0, l4u_ds_clear(&a, 0, 2 * PG));
	ASSERT_SIGBUS(win, L4T_READ);
	ASSERT_EQ(0, ds_map_pages(&a, 0, 2, 0, L4_FPAGE_RW, sp));
	ASSERT_EQ(-1L, l4t_check_zero(win, 2 * PG));
	ASSERT_EQ(-1L, l4t_check(win + 2 * PG, 2 * PG, PG, SEED));

	ASSERT_EQ(0, l4u_ds_close(&a));
	ASSERT_EQ(0, l4u_ds_close(&b));
	ASSERT_EQ(0, mgr_stop(&m));
	ASSERT_EQ(0, munmap(win, CLIENT_PAGES * PG));
	ASSERT_EQ(0, close(sp));
}

/*
 * Two processes share a dataspace: one opens it and hands the capability
 * over a Unix socket (SCM_RIGHTS); each maps it into a space of its own;
 * what one writes the other reads, both ways.
 */
TEST_F(dsm, shared_between_processes)
{
	struct l4u_dsm_stats st;
	struct l4u_ds ds;
	int sv[2], sp, n;
	struct mgr m;
	char *win;
	pid_t pid;

	ASSERT_EQ(0, mgr_start(&m, "l4u-dsm-anon", 64));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct l4u_ds sh;
		char *cwin, tag;
		int cap, csp;

		close(sv[0]);
		n = l4u_cap_recv(sv[1], &cap, &tag, 1);
		CHILD_CHECK(n == 1 && cap >= 0);
		CHILD_OK(l4u_ds_from_cap(cap, &sh));
		CHILD_CHECK(sh.size == 4 * PG);
		csp = client_space(l4u_open(), &cwin);
		CHILD_CHECK(csp >= 0);
		/* other addresses than the parent's */
		CHILD_OK(ds_map_pages(&sh, 0, 4, 100 * PG, L4_FPAGE_RW, csp));
		CHILD_CHECK(l4t_check(cwin + 100 * PG, 0, 2 * PG, SEED) == -1);
		l4t_fill(cwin + 102 * PG, 2 * PG, 2 * PG, SEED + 1);
		CHILD_CHECK(l4t_post(sv[1]) == 0);
		CHILD_CHECK(l4t_pend(sv[1]) == 0);
		CHILD_CHECK(*(volatile __u64 *)(cwin + 100 * PG) == 0x1234);
		_exit(0);
	}
	close(sv[1]);
	ASSERT_EQ(0, l4u_ds_open_anon(m.sock, 4 * PG, L4_FPAGE_RW, &ds));
	sp = client_space(self->dev, &win);
	ASSERT_LE(0, sp);
	ASSERT_EQ(0, ds_map_pages(&ds, 0, 2, 0, L4_FPAGE_RW, sp));
	l4t_fill(win, 0, 2 * PG, SEED);
	ASSERT_EQ(1, l4u_cap_send(sv[0], ds.cap, "c", 1));
	ASSERT_EQ(0, l4t_pend(sv[0]));
	ASSERT_EQ(0, ds_map_pages(&ds, 2 * PG, 2, 2 * PG, L4_FPAGE_R, sp));
	ASSERT_EQ(-1L, l4t_check(win + 2 * PG, 2 * PG, 2 * PG, SEED + 1));
	*(volatile __u64 *)win = 0x1234;
	ASSERT_EQ(0, l4t_post(sv[0]));
	ASSERT_EQ(0, l4t_wait(pid));
	/* one dataspace, four frames, whoever asked */
	ASSERT_EQ(0, l4u_dsm_stats(&ds, &st));
	ASSERT_EQ(1ULL, st.dataspaces);
	ASSERT_EQ(4ULL, st.frames_used);
	/* the child's exit closed its capability: the dataspace lives on */
	ASSERT_EQ(0x1234ULL, *(volatile __u64 *)win);
	ASSERT_EQ(0, l4u_ds_close(&ds));
	ASSERT_EQ(0, mgr_stop(&m));
	close(sv[0]);
	ASSERT_EQ(0, munmap(win, CLIENT_PAGES * PG));
	ASSERT_EQ(0, close(sp));
}

/* Many dataspaces at once, from several client processes. */
TEST_F(dsm, many_clients_many_dataspaces)
{
	struct l4u_dsm_stats st;
	struct l4u_ds probe;
	struct mgr m;
	pid_t pid[4];
	int i, go[2], ready[2];

	ASSERT_EQ(0, mgr_start(&m, "l4u-dsm-anon", 256));
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(ready));
	for (i = 0; i < 4; i++) {
		pid[i] = fork();
		ASSERT_LE(0, pid[i]);
		if (pid[i] == 0) {
			struct l4u_ds d[8];
			char *w;
			int s, j, k;

			close(go[1]);
			close(ready[0]);
			s = client_space(l4u_open(), &w);
			CHILD_CHECK(s >= 0);
			for (j = 0; j < 8; j++) {
				CHILD_OK(l4u_ds_open_anon(m.sock, 2 * PG, L4_FPAGE_RW, &d[j]));
				CHILD_OK(ds_map_pages(&d[j], 0, 2, j * 2 * PG, L4_FPAGE_RW, s));
				l4t_fill(w + j * 2 * PG, j * 2 * PG, 2 * PG, SEED + i);
			}
			for (k = 0; k < 3; k++)		/* map again, check again */
				for (j = 0; j < 8; j++) {
					CHILD_OK(ds_map_pages(&d[j], 0, 2, (64 + j * 2) * PG, L4_FPAGE_R, s));
					CHILD_CHECK(l4t_check(w + (64 + j * 2) * PG, j * 2 * PG, 2 * PG, SEED + i) == -1);
				}
			CHILD_CHECK(l4t_post(ready[1]) == 0);
			CHILD_CHECK(l4t_pend(go[0]) == 0);	/* exits holding them all */
			_exit(0);
		}
	}
	close(go[0]);
	close(ready[1]);
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, l4t_pend(ready[0]));
	ASSERT_EQ(0, l4u_ds_open_anon(m.sock, PG, L4_FPAGE_R, &probe));
	ASSERT_EQ(0, l4u_dsm_stats(&probe, &st));
	ASSERT_EQ(33ULL, st.dataspaces);
	ASSERT_EQ(64ULL, st.frames_used);
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, l4t_post(go[1]));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, l4t_wait(pid[i]));
	/* the clients died: their dataspaces are freed */
	ASSERT_EQ(0, stats_settle(&probe, 1, &st));
	ASSERT_EQ(1ULL, st.dataspaces);
	ASSERT_EQ(0ULL, st.frames_used);
	close(go[1]);
	close(ready[0]);
	ASSERT_EQ(0, l4u_ds_close(&probe));
	ASSERT_EQ(0, mgr_stop(&m));
}

/*
 * A client dies (SIGKILL) holding a dataspace and mappings of it: the
 * kernel revokes its mappings with its space, its capability closes, the
 * manager frees the dataspace; a dataspace the dead client shared with a
 * live one stays.
 */
TEST_F(dsm, client_death_frees)
{
	struct l4u_dsm_stats st;
	struct l4u_ds probe, shared;
	int sv[2], sp;
	struct mgr m;
	char *win;
	pid_t pid;

	ASSERT_EQ(0, mgr_start(&m, "l4u-dsm-anon", 64));
	ASSERT_EQ(0, l4u_ds_open_anon(m.sock, PG, L4_FPAGE_R, &probe));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct l4u_ds own, sh;
		char *cwin;
		int s;

		s = client_space(l4u_open(), &cwin);
		CHILD_CHECK(s >= 0);
		CHILD_OK(l4u_ds_open_anon(m.sock, 16 * PG, L4_FPAGE_RW, &own));
		CHILD_OK(ds_map_pages(&own, 0, 16, 0, L4_FPAGE_RW, s));
		memset(cwin, 1, 16 * PG);
		CHILD_OK(l4u_ds_open_anon(m.sock, 2 * PG, L4_FPAGE_RW, &sh));
		CHILD_OK(ds_map_pages(&sh, 0, 2, 32 * PG, L4_FPAGE_RW, s));
		l4t_fill(cwin + 32 * PG, 0, 2 * PG, SEED);
		CHILD_CHECK(l4u_cap_send(sv[1], sh.cap, "s", 1) == 1);
		for (;;)
			pause();
	}
	close(sv[1]);
	{
		char tag;
		int cap;

		ASSERT_EQ(1, l4u_cap_recv(sv[0], &cap, &tag, 1));
		ASSERT_LE(0, cap);
		ASSERT_EQ(0, l4u_ds_from_cap(cap, &shared));
	}
	ASSERT_EQ(0, l4u_dsm_stats(&probe, &st));
	ASSERT_EQ(3ULL, st.dataspaces);
	ASSERT_EQ(18ULL, st.frames_used);
	kill(pid, SIGKILL);
	ASSERT_EQ(128 + SIGKILL, l4t_wait(pid));
	ASSERT_EQ(0, stats_settle(&probe, 2, &st));
	ASSERT_EQ(2ULL, st.dataspaces);
	ASSERT_EQ(2ULL, st.frames_used);
	/* the shared one still holds what the dead client wrote */
	sp = client_space(self->dev, &win);
	ASSERT_LE(0, sp);
	ASSERT_EQ(0, ds_map_pages(&shared, 0, 2, 0, L4_FPAGE_R, sp));
	ASSERT_EQ(-1L, l4t_check(win, 0, 2 * PG, SEED));
	ASSERT_EQ(0, l4u_ds_close(&shared));
	ASSERT_EQ(0, stats_settle(&probe, 1, &st));
	ASSERT_EQ(0ULL, st.frames_used);
	ASSERT_SIGBUS(win, L4T_READ);
	ASSERT_EQ(0, l4u_ds_close(&probe));
	ASSERT_EQ(0, mgr_stop(&m));
	close(sv[0]);
	ASSERT_EQ(0, munmap(win, CLIENT_PAGES * PG));
	ASSERT_EQ(0, close(sp));
}

/*
 * A manager dies (SIGKILL): the pages its dataspaces had mapped go, the
 * next operation on them fails with EPIPE, a touch of what was mapped is
 * a SIGBUS (nobody pages the client space); the client lives on, and a
 * dataspace of another manager goes on working.
 */
TEST_F(dsm, manager_death)
{
	struct mgr a, b;
	struct l4u_ds da, db;
	uint64_t pages;
	char *win;
	int sp;

	ASSERT_EQ(0, mgr_start(&a, "l4u-dsm-anon", 64));
	ASSERT_EQ(0, mgr_start(&b, "l4u-dsm-anon", 64));
	ASSERT_EQ(0, l4u_ds_open_anon(a.sock, 4 * PG, L4_FPAGE_RW, &da));
	ASSERT_EQ(0, l4u_ds_open_anon(b.sock, 4 * PG, L4_FPAGE_RW, &db));
	sp = client_space(self->dev, &win);
	ASSERT_LE(0, sp);
	ASSERT_EQ(0, ds_map_pages(&da, 0, 2, 0, L4_FPAGE_RW, sp));
	ASSERT_EQ(0, ds_map_pages(&db, 0, 2, 16 * PG, L4_FPAGE_RW, sp));
	l4t_fill(win, 0, 2 * PG, SEED);
	l4t_fill(win + 16 * PG, 16 * PG, 2 * PG, SEED);

	kill(a.pid, SIGKILL);
	ASSERT_EQ(128 + SIGKILL, l4t_wait(a.pid));
	ASSERT_EQ(-EPIPE, l4u_ds_map(&da, 0, 0, L4_FPAGE_R, sp, L4_FPAGE_WHOLE_SPACE, &pages));
	ASSERT_EQ(-EPIPE, l4u_ds_info(&da));
	ASSERT_SIGBUS(win, L4T_READ);
	ASSERT_SIGBUS(win + PG, L4T_WRITE);
	/* the other manager's pages and requests are untouched */
	ASSERT_EQ(-1L, l4t_check(win + 16 * PG, 16 * PG, 2 * PG, SEED));
	ASSERT_EQ(0, ds_map_pages(&db, 2 * PG, 2, 18 * PG, L4_FPAGE_RW, sp));
	ASSERT_EQ(-1L, l4t_check_zero(win + 18 * PG, 2 * PG));
	/* nor is anyone stuck on the dead one's socket */
	ASSERT_EQ(-ECONNREFUSED, l4u_ds_open_anon(a.sock, PG, L4_FPAGE_R, &da));

	ASSERT_EQ(0, l4u_ds_close(&da));
	ASSERT_EQ(0, l4u_ds_close(&db));
	ASSERT_EQ(0, mgr_stop(&b));
	ASSERT_EQ(0, munmap(win, CLIENT_PAGES * PG));
	ASSERT_EQ(0, close(sp));
}

/*
 * The same through page faults: a pager thread of the client (a region
 * manager of two regions, one per dataspace) forwards each fault as a MAP
 * to the dataspace's manager and answers an error with that error. Once
 * manager A is dead, a fault in A's region ends in SIGBUS (EPIPE), one in
 * B's region is served as before.
 */
struct fwd {
	int gate, space;
	struct l4u_ds *ds[2];		/* pages 0..15: ds[0], 16..31: ds[1] */
	volatile int faults;
};

static void *fwd_pager(void *arg)
{
	struct fwd *f = arg;
	struct l4_reply_wait rw = { 0 };

	while (!l4u_reply_wait(f->gate, &rw)) {
		uint64_t page = L4_PF_ADDR(rw.msg.words[0]) & ~(PG - 1);
		unsigned int rights = rw.msg.words[0] & L4_PF_WRITE ? L4_FPAGE_RW : L4_FPAGE_R;
		struct l4u_ds *ds = f->ds[page >= 16 * PG];
		int ret;

		l4u_reply_init(&rw.reply, &rw.msg);
		if (rw.msg.label != L4_LABEL_PAGE_FAULT) {
			l4u_reply(f->gate, &rw.reply);	/* the test's "stop" call */
			break;
		}
		f->faults++;
		ret = l4u_ds_map(ds, page % (16 * PG), page, rights, f->space,
				 L4_FPAGE(page, 12, 0), NULL);
		rw.reply.error = -ret;
	}
	return NULL;
}

TEST_F(dsm, manager_death_faults)
{
	struct l4_call stop = { .label = 1, .rcv_space_fd = -1 };
	struct l4u_ds da, db;
	struct mgr a, b;
	struct fwd f;
	pthread_t th;
	char *win;

	ASSERT_EQ(0, mgr_start(&a, "l4u-dsm-anon", 64));
	ASSERT_EQ(0, mgr_start(&b, "l4u-dsm-anon", 64));
	ASSERT_EQ(0, l4u_ds_open_anon(a.sock, 16 * PG, L4_FPAGE_RW, &da));
	ASSERT_EQ(0, l4u_ds_open_anon(b.sock, 16 * PG, L4_FPAGE_RW, &db));
	f = (struct fwd){ .ds = { &da, &db } };
	f.space = client_space(self->dev, &win);
	ASSERT_LE(0, f.space);
	f.gate = l4u_gate_create(self->dev);
	ASSERT_LE(0, f.gate);
	ASSERT_EQ(0, l4u_space_set_pager(f.space, f.gate));
	ASSERT_EQ(0, pthread_create(&th, NULL, fwd_pager, &f));

	l4t_fill(win, 0, 4 * PG, SEED);			/* A's pages 0..3 */
	l4t_fill(win + 16 * PG, 16 * PG, 4 * PG, SEED);	/* B's pages 0..3 */
	ASSERT_EQ(8, f.faults);
	ASSERT_EQ(-1L, l4t_check(win, 0, 4 * PG, SEED));

	kill(a.pid, SIGKILL);
	ASSERT_EQ(128 + SIGKILL, l4t_wait(a.pid));
	/* A's frames went with it: a mapped page faults again, as does a new one */
	ASSERT_SIGBUS(win, L4T_READ);
	ASSERT_SIGBUS(win + 8 * PG, L4T_WRITE);
	/* B's region: what was there stays, new pages come */
	ASSERT_EQ(-1L, l4t_check(win + 16 * PG, 16 * PG, 4 * PG, SEED));
	ASSERT_TOUCH(win + 20 * PG, 4, L4T_WRITE);
	ASSERT_EQ(L4T_TOUCH_BYTE, win[23 * PG]);
	ASSERT_EQ(14, f.faults);

	ASSERT_EQ(0, l4u_call(f.gate, &stop));
	ASSERT_EQ(0, pthread_join(th, NULL));
	ASSERT_EQ(0, l4u_ds_close(&da));
	ASSERT_EQ(0, l4u_ds_close(&db));
	ASSERT_EQ(0, mgr_stop(&b));
	ASSERT_EQ(0, munmap(win, CLIENT_PAGES * PG));
	ASSERT_EQ(0, close(f.space));
	ASSERT_EQ(0, close(f.gate));
}

/* ---- files ----------------------------------------------------------------- */

#define FILE_SIZE	((int)(3 * PG + 1000))		/* a partial last page (8-aligned) */

static int make_file(const char *path, size_t len)
{
	char *buf = malloc(len);
	int fd;
	size_t i;

	if (!buf)
		return -1;
	for (i = 0; i < len; i++)
		buf[i] = (char)(i * 7 + i / PG);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd >= 0 && pwrite(fd, buf, len, 0) != (ssize_t)len) {
		close(fd);
		fd = -1;
	}
	free(buf);
	return fd;
}

static char file_byte(size_t i)
{
	return (char)(i * 7 + i / PG);
}

static int file_get(int fd, off_t off, void *buf, size_t len)
{
	return pread(fd, buf, len, off) == (ssize_t)len ? 0 : -1;
}

/*
 * A file dataspace reads the file on fault (the tail past its end reads
 * zero), writes dirty pages back on SYNC (only those written), on close of
 * the last capability, and when the manager exits; never past the file's
 * end. A read-only fd gives a read-only dataspace.
 */
TEST_F(dsm, file_round_trip)
{
	const char *path = "/tmp/l4u-dsm-file-test";
	struct l4u_dsm_stats st;
	struct l4u_ds ds, ro;
	struct stat sb;
	char *win, buf[PG];
	int fd, rfd, sp, i;
	struct mgr m;

	ASSERT_EQ(0, mgr_start(&m, "l4u-dsm-file", 64));
	fd = make_file(path, FILE_SIZE);
	ASSERT_LE(0, fd);
	rfd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, rfd);
	ASSERT_EQ(-EACCES, l4u_ds_open_file(m.sock, rfd, 0, L4_FPAGE_RW, &ro));
	ASSERT_EQ(0, l4u_ds_open_file(m.sock, rfd, 0, L4_FPAGE_R, &ro));
	ASSERT_EQ(0, l4u_ds_open_file(m.sock, fd, 0, L4_FPAGE_RW, &ds));
	ASSERT_EQ((uint64_t)FILE_SIZE, ds.size);
	sp = client_space(self->dev, &win);
	ASSERT_LE(0, sp);

	ASSERT_EQ(0, ds_map_pages(&ds, 0, 4, 0, L4_FPAGE_R, sp));
	for (i = 0; i < FILE_SIZE; i++)
		ASSERT_EQ(file_byte(i), win[i]);
	ASSERT_EQ(-1L, l4t_check_zero(win + FILE_SIZE, 4 * PG - FILE_SIZE));
	ASSERT_EQ(-ERANGE, l4u_ds_map(&ds, 4 * PG, 0, L4_FPAGE_R, sp, L4_FPAGE_WHOLE_SPACE, NULL));
	ASSERT_EQ(-EACCES, l4u_ds_map(&ro, 0, 0, L4_FPAGE_RW, sp, L4_FPAGE_WHOLE_SPACE, NULL));

	/* write page 1 and the partial page 3; SYNC writes those back */
	ASSERT_EQ(0, ds_map_pages(&ds, PG, 1, PG, L4_FPAGE_RW, sp));
	ASSERT_EQ(0, ds_map_pages(&ds, 3 * PG, 1, 3 * PG, L4_FPAGE_RW, sp));
	memcpy(win + PG + 100, "written through the dataspace", 29);
	win[3 * PG + 999] = 'Z';
	win[3 * PG + 2000] = 'Q';	/* past the end: not written back */
	ASSERT_EQ(0, l4u_dsm_stats(&ds, &st));
	ASSERT_EQ(0ULL, st.pages_written);
	ASSERT_EQ(0, l4u_ds_sync(&ds, 0, 0));
	ASSERT_EQ(0, l4u_dsm_stats(&ds, &st));
	ASSERT_EQ(2ULL, st.pages_written);
	ASSERT_EQ(0, file_get(fd, PG + 100, buf, 29));
	ASSERT_EQ(0, memcmp(buf, "written through the dataspace", 29));
	ASSERT_EQ(0, file_get(fd, 3 * PG + 999, buf, 1));
	ASSERT_EQ('Z', buf[0]);
	ASSERT_EQ(0, fstat(fd, &sb));
	ASSERT_EQ((off_t)FILE_SIZE, sb.st_size);
	/* after SYNC the pages are clean: nothing more to write */
	ASSERT_EQ(0, l4u_ds_sync(&ds, 0, 0));
	ASSERT_EQ(0, l4u_dsm_stats(&ds, &st));
	ASSERT_EQ(2ULL, st.pages_written);
	/* W was revoked: a write faults (no pager: SIGSEGV); map W again */
	ASSERT_SIGSEGV(win + PG, L4T_WRITE);
	ASSERT_EQ(0, ds_map_pages(&ds, 0, 1, 0, L4_FPAGE_RW, sp));
	memcpy(win + 10, "page zero", 9);

	/* the read-only dataspace of the same file is another cache */
	ASSERT_EQ(0, ds_map_pages(&ro, 0, 1, 32 * PG, L4_FPAGE_R, sp));
	ASSERT_EQ(file_byte(10), win[32 * PG + 10]);

	/* the last capability closes: written back, then freed */
	ASSERT_EQ(0, l4u_ds_close(&ds));
	ASSERT_EQ(0, stats_settle(&ro, 1, &st));
	ASSERT_EQ(3ULL, st.pages_written);
	ASSERT_EQ(0, file_get(fd, 10, buf, 9));
	ASSERT_EQ(0, memcmp(buf, "page zero", 9));
	ASSERT_SIGBUS(win, L4T_READ);
	/* the read-only one sees the file as it is now */
	ASSERT_EQ(0, ds_map_pages(&ro, PG, 1, 33 * PG, L4_FPAGE_R, sp));
	ASSERT_EQ(0, memcmp(win + 33 * PG + 100, "written through the dataspace", 29));
	ASSERT_EQ(0, l4u_ds_close(&ro));
	/* the manager's exit writes back too: one more round */
	ASSERT_EQ(0, l4u_ds_open_file(m.sock, fd, 0, L4_FPAGE_RW, &ds));
	ASSERT_EQ(0, ds_map_pages(&ds, 2 * PG, 1, 2 * PG, L4_FPAGE_RW, sp));
	memcpy(win + 2 * PG, "at exit", 7);
	ASSERT_EQ(0, mgr_stop(&m));
	ASSERT_EQ(0, l4u_ds_close(&ds));
	ASSERT_EQ(0, file_get(fd, 2 * PG, buf, 7));
	ASSERT_EQ(0, memcmp(buf, "at exit", 7));
	ASSERT_EQ(0, file_get(fd, 2 * PG + 7, buf, 1));
	ASSERT_EQ(file_byte(2 * PG + 7), buf[0]);
	ASSERT_EQ(0, fstat(fd, &sb));
	ASSERT_EQ((off_t)FILE_SIZE, sb.st_size);
	close(fd);
	close(rfd);
	unlink(path);
	ASSERT_EQ(0, munmap(win, CLIENT_PAGES * PG));
	ASSERT_EQ(0, close(sp));
}

/* ---- end to end: region managers over the real managers ------------------- */

/*
 * A task built from a file dataspace and an anonymous one through its
 * region manager: the file's contents appear in the region, writes reach
 * the file on SYNC and on the last close; a second process attaches the
 * anonymous dataspace in a task of its own and sees what the first wrote;
 * the anonymous manager's death makes its region SIGBUS while the file
 * region goes on working.
 */
TEST_F(dsm, rm_end_to_end)
{
	const char *path = "/tmp/l4u-dsm-e2e";
	struct l4u_ds file, anon;
	struct l4t_rmtask t;
	struct mgr fm, am;
	char *fp = NULL, *ap = NULL, buf[16];
	int fd, sv[2], i;
	pid_t pid;

	ASSERT_EQ(0, mgr_start(&fm, "l4u-dsm-file", 64));
	ASSERT_EQ(0, mgr_start(&am, "l4u-dsm-anon", 64));
	fd = make_file(path, 8 * PG);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, l4u_ds_open_file(fm.sock, fd, 0, L4_FPAGE_RW, &file));
	ASSERT_EQ(0, l4u_ds_open_anon(am.sock, 4 * PG, L4_FPAGE_RW, &anon));
	ASSERT_EQ(0, l4t_rmtask_start(self->dev, &t));
	ASSERT_EQ(0, l4u_rm_attach(t.rm, (void **)&fp, 8 * PG,
				   L4_FPAGE_RW | L4U_RM_SEARCH_ADDR, &file, 0, 0));
	ASSERT_EQ(0, l4u_rm_attach(t.rm, (void **)&ap, 4 * PG,
				   L4_FPAGE_RW | L4U_RM_SEARCH_ADDR, &anon, 0, 0));

	/* the file through the region, then a write reaching it on SYNC */
	for (i = 0; i < 8 * (int)PG; i += 509)
		ASSERT_EQ(file_byte(i), fp[i]);
	memcpy(fp + 5 * PG + 7, "via the rm", 10);
	ASSERT_EQ(0, l4u_ds_sync(&file, 0, 0));
	ASSERT_EQ(0, file_get(fd, 5 * PG + 7, buf, 10));
	ASSERT_EQ(0, memcmp(buf, "via the rm", 10));
	/* W was revoked by SYNC: the region manager maps it again on write */
	memcpy(fp + 6 * PG, "after sync", 10);

	/* anonymous memory, shared with a second process and its own task */
	ASSERT_EQ(-1L, l4t_check_zero(ap, 4 * PG));
	l4t_fill(ap, 0, 4 * PG, SEED);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct l4t_rmtask t2;
		struct l4u_ds sh;
		char *p2 = NULL, tag;
		int cap;

		close(sv[0]);
		CHILD_CHECK(l4u_cap_recv(sv[1], &cap, &tag, 1) == 1 && cap >= 0);
		CHILD_OK(l4u_ds_from_cap(cap, &sh));
		CHILD_OK(l4t_rmtask_start(l4u_open(), &t2));
		CHILD_OK(l4u_rm_attach(t2.rm, (void **)&p2, 4 * PG,
				       L4_FPAGE_R | L4U_RM_SEARCH_ADDR, &sh, 0, 0));
		CHILD_CHECK(l4t_check(p2, 0, 4 * PG, SEED) == -1);
		l4t_rmtask_stop(&t2);
		_exit(0);
	}
	close(sv[1]);
	ASSERT_EQ(1, l4u_cap_send(sv[0], anon.cap, "a", 1));
	ASSERT_EQ(0, l4t_wait(pid));
	close(sv[0]);

	/* the anonymous manager dies: its region faults to SIGBUS */
	kill(am.pid, SIGKILL);
	ASSERT_EQ(128 + SIGKILL, l4t_wait(am.pid));
	ASSERT_SIGBUS(ap, L4T_READ);
	ASSERT_SIGBUS(ap + 3 * PG, L4T_WRITE);
	ASSERT_EQ(file_byte(7 * PG + 1), fp[7 * PG + 1]);

	/* the last close writes back */
	l4t_rmtask_stop(&t);
	ASSERT_EQ(0, l4u_ds_close(&anon));
	ASSERT_EQ(0, l4u_ds_close(&file));
	for (i = 0; i < 1000; i++) {
		if (file_get(fd, 6 * PG, buf, 10) == 0 && !memcmp(buf, "after sync", 10))
			break;
		usleep(10000);	/* the manager gets NO_SENDERS, writes back */
	}
	ASSERT_EQ(0, memcmp(buf, "after sync", 10));
	ASSERT_EQ(0, mgr_stop(&fm));
	close(fd);
	unlink(path);
}

/*
 * A file whose size is no page multiple attaches in whole pages, as mmap
 * does: the tail of the last page reads zero, a write there never reaches
 * the file (its size stays), a write before the end does; one more page
 * is out of range.
 */
TEST_F(dsm, rm_file_tail_page)
{
	const char *path = "/tmp/l4u-dsm-tail";
	struct l4u_ds file;
	struct l4t_rmtask t;
	struct stat sb;
	char *fp = NULL, *more = NULL, c;
	struct mgr fm;
	int fd, i;

	ASSERT_EQ(0, mgr_start(&fm, "l4u-dsm-file", 16));
	fd = make_file(path, FILE_SIZE);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, l4u_ds_open_file(fm.sock, fd, 0, L4_FPAGE_RW, &file));
	ASSERT_EQ((uint64_t)FILE_SIZE, file.size);
	ASSERT_EQ(0, l4t_rmtask_start(self->dev, &t));
	ASSERT_EQ(-ERANGE, l4u_rm_attach(t.rm, (void **)&more, 5 * PG,
					 L4_FPAGE_R | L4U_RM_SEARCH_ADDR, &file, 0, 0));
	ASSERT_EQ(-ERANGE, l4u_rm_attach(t.rm, (void **)&more, PG,
					 L4_FPAGE_R | L4U_RM_SEARCH_ADDR, &file, 4 * PG, 0));
	ASSERT_EQ(0, l4u_rm_attach(t.rm, (void **)&fp, 4 * PG,
				   L4_FPAGE_RW | L4U_RM_SEARCH_ADDR, &file, 0, 0));
	for (i = 0; i < FILE_SIZE; i += 97)
		ASSERT_EQ(file_byte(i), fp[i]);
	ASSERT_EQ(file_byte(FILE_SIZE - 1), fp[FILE_SIZE - 1]);
	ASSERT_EQ(-1L, l4t_check_zero(fp + FILE_SIZE, 4 * PG - FILE_SIZE));

	fp[FILE_SIZE - 2] = 'e';
	fp[FILE_SIZE + 5] = 'x';
	ASSERT_EQ(0, l4u_ds_sync(&file, 0, 0));
	ASSERT_EQ(0, file_get(fd, FILE_SIZE - 2, &c, 1));
	ASSERT_EQ('e', c);
	ASSERT_EQ(0, fstat(fd, &sb));
	ASSERT_EQ((off_t)FILE_SIZE, sb.st_size);

	l4t_rmtask_stop(&t);
	ASSERT_EQ(0, l4u_ds_close(&file));
	ASSERT_EQ(0, mgr_stop(&fm));
	ASSERT_EQ(0, fstat(fd, &sb));
	ASSERT_EQ((off_t)FILE_SIZE, sb.st_size);
	close(fd);
	unlink(path);
}

/* The managers' command lines: usage errors, and a clean SIGTERM exit. */
TEST_F(dsm, command_line)
{
	struct mgr m;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 2);
		execlp("l4u-dsm-anon", "l4u-dsm-anon", "--frames", "x", (char *)NULL);
		_exit(127);
	}
	ASSERT_EQ(2, l4t_wait(pid));
	ASSERT_EQ(0, mgr_start(&m, "l4u-dsm-file", 16));
	ASSERT_EQ(0, mgr_stop(&m));
}

/* ---- the server loop (libl4u-server) ------------------------------------- */

/* A watched pipe: take a byte, count it, stop the loop. */
static int watch_stop(struct l4u_server *srv, int fd, void *arg)
{
	int *n = arg;
	char c;

	if (read(fd, &c, 1) != 1)
		return -EIO;
	(*n)++;
	l4u_server_stop(srv);
	return 0;
}

/* A watched pipe whose callback fails: the run returns that. */
static int watch_fail(struct l4u_server *srv, int fd, void *arg)
{
	char c;

	(void)srv;
	(void)arg;
	return read(fd, &c, 1) == 1 ? -ECANCELED : -EIO;
}

static void *stop_later(void *srv)
{
	usleep(50000);
	l4u_server_stop(srv);
	return NULL;
}

/*
 * The loop stops without signals: a stop before the run ends it at once, a
 * watch callback and another thread stop it, a failing callback ends it
 * with its error; no run changes the caller's signal mask. A bootstrap
 * socket needs a whole protocol.
 */
TEST_F(dsm, server_stop_and_watch)
{
	static const struct l4u_server_ops gates_only = { 0 };
	struct l4u_server *srv, *other = NULL;
	sigset_t before, after;
	pthread_t t;
	int p[2], n = 0;

	ASSERT_EQ(0, sigprocmask(SIG_SETMASK, NULL, &before));
	ASSERT_EQ(0, l4u_server_create(NULL, &gates_only, NULL, &srv));
	l4u_server_stop(srv);
	ASSERT_EQ(0, l4u_server_run(srv));		/* stopped before: at once */

	ASSERT_EQ(0, pipe(p));
	ASSERT_EQ(0, l4u_server_watch(srv, p[0], watch_stop, &n));
	ASSERT_EQ(1, write(p[1], "x", 1));
	ASSERT_EQ(0, l4u_server_run(srv));
	ASSERT_EQ(1, n);
	ASSERT_EQ(0, l4u_server_unwatch(srv, p[0]));
	ASSERT_EQ(-ENOENT, l4u_server_unwatch(srv, p[0]));

	ASSERT_EQ(0, pthread_create(&t, NULL, stop_later, srv));
	ASSERT_EQ(0, l4u_server_run(srv));		/* another thread stops it */
	ASSERT_EQ(0, pthread_join(t, NULL));

	ASSERT_EQ(0, l4u_server_watch(srv, p[0], watch_fail, NULL));
	ASSERT_EQ(1, write(p[1], "y", 1));
	ASSERT_EQ(-ECANCELED, l4u_server_run(srv));
	ASSERT_EQ(0, sigprocmask(SIG_SETMASK, NULL, &after));
	for (int sig = 1; sig <= SIGRTMAX; sig++)
		ASSERT_EQ(sigismember(&before, sig), sigismember(&after, sig));

	ASSERT_EQ(-EINVAL, l4u_server_create("@l4u-no-protocol", &gates_only, NULL, &other));
	ASSERT_EQ(NULL, other);
	l4u_server_destroy(srv);
	close(p[0]);
	close(p[1]);
}

TEST_HARNESS_MAIN
