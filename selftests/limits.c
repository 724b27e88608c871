// SPDX-License-Identifier: GPL-2.0
/*
 * Frame limits: a space's own max_frames, the module parameter max_frames
 * (global) and the memory cgroup of the task that touches a page. A limit
 * refuses a frame with SIGBUS at the touched address -- never an OOM kill
 * -- and the module keeps working afterwards.
 */

#include "l4_test_util.h"

L4T_FIXTURE(limits);

#define PG	L4T_PAGE

TEST_F(limits, space_limit)
{
	struct l4_stats st;
	char *w1, *w2, *w3;
	int fd1, fd2, fd3;

	fd1 = l4t_space_window(self->dev, 64, 8, L4_SPACE_SIGMA0, &w1);
	ASSERT_LE(0, fd1);
	l4t_fill(w1, 0, 8 * PG, 1);
	ASSERT_SIGBUS(w1 + 8 * PG, L4T_WRITE);
	ASSERT_SIGBUS(w1 + 63 * PG + 5, L4T_READ);
	EXPECT_EQ(8ULL, l4t_frames(_metadata, fd1));
	EXPECT_EQ(-1, l4t_check(w1, 0, 8 * PG, 1));
	ASSERT_EQ(0, l4t_stats(self->dev, &st));
	EXPECT_EQ(self->before.limit_faults + 2, st.limit_faults);

	/* other spaces are not affected */
	fd2 = l4t_space_window(self->dev, 16, 16, L4_SPACE_SIGMA0, &w2);
	ASSERT_LE(0, fd2);
	l4t_fill(w2, 0, 16 * PG, 2);
	EXPECT_EQ(-1, l4t_check(w2, 0, 16 * PG, 2));
	EXPECT_EQ(16ULL, l4t_frames(_metadata, fd2));

	fd3 = l4t_space_window(self->dev, 4, 1, L4_SPACE_SIGMA0, &w3);
	ASSERT_LE(0, fd3);
	ASSERT_TOUCH(w3 + 2 * PG, 1, L4T_READ);
	ASSERT_SIGBUS(w3, L4T_WRITE);
	EXPECT_EQ(1ULL, l4t_frames(_metadata, fd3));

	/* and the first one still refuses */
	ASSERT_SIGBUS(w1 + 9 * PG, L4T_WRITE);
	ASSERT_EQ(0, l4t_stats(self->dev, &st));
	ASSERT_LIVE(&self->before, &st, 3, 25, 25, 3);
	EXPECT_EQ(self->before.limit_faults + 4, st.limit_faults);

	ASSERT_EQ(0, close(fd1));
	ASSERT_EQ(0, close(fd2));
	ASSERT_EQ(0, close(fd3));
	ASSERT_EQ(0, munmap(w1, 64 * PG));
	ASSERT_EQ(0, munmap(w2, 16 * PG));
	ASSERT_EQ(0, munmap(w3, 4 * PG));
}

static void set_max_frames(struct __test_metadata *_metadata, int dev,
			   __u64 val)
{
	struct l4_stats st;

	ASSERT_EQ(0, l4t_write_u64(L4T_PARAM_MAX_FRAMES, val));
	ASSERT_EQ(0, l4t_stats(dev, &st));
	ASSERT_EQ(val, st.max_frames);
}

/* The teardown restores max_frames should an ASSERT end the test early. */
TEST_F(limits, global_limit)
{
	const __u64 orig = self->before.max_frames;
	struct l4_stats st;
	char *w1, *w2;
	int fd1, fd2;
	__u64 base;

	fd1 = l4t_space_window(self->dev, 32, 0, L4_SPACE_SIGMA0, &w1);
	ASSERT_LE(0, fd1);
	fd2 = l4t_space_window(self->dev, 4, 0, L4_SPACE_SIGMA0, &w2);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, l4t_stats(self->dev, &st));
	base = st.frames;

	set_max_frames(_metadata, self->dev, base + 8);
	l4t_fill(w1, 0, 8 * PG, 1);
	ASSERT_SIGBUS(w1 + 8 * PG, L4T_WRITE);
	ASSERT_SIGBUS(w2 + 3 * PG + 17, L4T_READ);	/* any space */
	EXPECT_EQ(8ULL, l4t_frames(_metadata, fd1));
	EXPECT_EQ(0ULL, l4t_frames(_metadata, fd2));
	EXPECT_EQ(-1, l4t_check(w1, 0, 8 * PG, 1));
	ASSERT_EQ(0, l4t_stats(self->dev, &st));
	EXPECT_EQ(base + 8, st.frames);
	EXPECT_EQ(self->before.limit_faults + 2, st.limit_faults);

	/* below what is in use: nothing is taken away, nothing new given */
	set_max_frames(_metadata, self->dev, base + 4);
	EXPECT_EQ(-1, l4t_check(w1, 0, 8 * PG, 1));
	l4t_fill(w1, 0, 8 * PG, 2);
	EXPECT_EQ(-1, l4t_check(w1, 0, 8 * PG, 2));
	ASSERT_SIGBUS(w1 + 31 * PG, L4T_READ);
	EXPECT_EQ(8ULL, l4t_frames(_metadata, fd1));

	set_max_frames(_metadata, self->dev, orig);
	ASSERT_TOUCH(w1 + 8 * PG, 24, L4T_WRITE);
	ASSERT_TOUCH(w2, 4, L4T_READ);
	EXPECT_EQ(32ULL, l4t_frames(_metadata, fd1));
	EXPECT_EQ(4ULL, l4t_frames(_metadata, fd2));
	EXPECT_EQ(-1, l4t_check(w1, 0, 8 * PG, 2));
	ASSERT_EQ(0, l4t_stats(self->dev, &st));
	EXPECT_EQ(self->before.limit_faults + 3, st.limit_faults);

	ASSERT_EQ(0, munmap(w1, 32 * PG));
	ASSERT_EQ(0, munmap(w2, 4 * PG));
	ASSERT_EQ(0, close(fd1));
	ASSERT_EQ(0, close(fd2));
}

/*
 * Memory cgroup: frames are charged to the cgroup of the task that
 * touches them (here a child moved into a small cgroup, touching a space
 * its parent created). Over memory.max the touch gets SIGBUS, and the
 * child is not OOM-killed.
 */
#define CG_ROOT		L4T_CG_ROOT
#define CG_LIMIT	(4UL << 20)
#define CG_TOUCH	(16UL << 20)
#define CG_FIRST	256	/* pages touched before memory.current is read */

struct memcg_result {
	__u64 cur0;		/* memory.current before touching */
	__u64 cur1;		/* after CG_FIRST pages */
	size_t touched;		/* pages touched before the signal */
	struct l4t_fault f;
};

/*
 * A window at a 2 MiB-aligned address: the page tables of its first two
 * 2 MiB are then allocated (and charged) at pages 0 and 512, long before
 * the cgroup fills up at about page 1000, and the third one at page 1024
 * is never needed.
 */
static char *map_aligned(int fd, size_t len)
{
	const size_t align = 2UL << 20;
	char *p, *a;

	p = mmap(NULL, len + align, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	if (p == MAP_FAILED)
		return p;
	a = (char *)(((uintptr_t)p + align - 1) & ~(align - 1));
	if (a > p)
		munmap(p, a - p);
	munmap(a + len, p + align - a);
	return mmap(a, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		    fd, 0);
}

static void __attribute__((noinline)) prefault_stack(void)
{
	volatile char buf[16 << 10];
	size_t i;

	for (i = 0; i < sizeof(buf); i += 512)
		buf[i] = 0;
}

/* The static binary's writable data: copied on the first write after fork. */
extern char __data_start[], _end[];

static void prefault_data(void)
{
	volatile char *p = (char *)((uintptr_t)__data_start & ~(PG - 1));

	for (; p < (volatile char *)_end; p += PG)
		*p = *p;
}

static void memcg_child(const char *cg, char *win, struct memcg_result *r)
{
	static char altstack[64 << 10];
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	char procs[256], current[256];

	/*
	 * Once the frames fill the cgroup, any other charge of this child --
	 * a stack page for the SIGBUS frame, a copy-on-write of .data/.bss
	 * (the signal handler's globals), a page table -- would OOM-kill it
	 * before the SIGBUS under test arrives. Fault all of that in now,
	 * while still in the parent's cgroup.
	 */
	memset(altstack, 0, sizeof(altstack));
	prefault_data();
	CHILD_CHECK(!sigaltstack(&ss, NULL));
	prefault_stack();
	memset(r, 0, sizeof(*r));
	l4t_touch(win, 0, L4T_WRITE, NULL);
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg);
	snprintf(current, sizeof(current), "%s/memory.current", cg);

	CHILD_CHECK(!l4t_write_str(procs, "0"));
	CHILD_CHECK(!l4t_read_u64(current, &r->cur0));
	CHILD_CHECK(l4t_touch(win, CG_FIRST, L4T_WRITE, &r->f) == CG_FIRST);
	CHILD_CHECK(!l4t_read_u64(current, &r->cur1));
	r->touched = CG_FIRST + l4t_touch(win + CG_FIRST * PG,
					  CG_TOUCH / PG - CG_FIRST,
					  L4T_WRITE, &r->f);
	_exit(0);
}

/* The value of @key in a flat-keyed file like memory.events. */
static int read_key(const char *path, const char *key, __u64 *val)
{
	char buf[1024], *p;
	size_t len = strlen(key);

	if (l4t_read_str(path, buf, sizeof(buf)))
		return -1;
	for (p = buf; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, len) && p[len] == ' ') {
			*val = strtoull(p + len + 1, NULL, 10);
			return 0;
		}
	return -1;
}

TEST_F(limits, memcg_limit)
{
	const size_t pages = CG_TOUCH / PG, limit = CG_LIMIT / PG;
	__u64 cur_before = 0, cur_after = 0, oom_kills = ~0ULL;
	struct memcg_result *r;
	char cg[128], path[192];
	struct l4_stats st;
	const char *why;
	int fd, status, i;
	char *win;
	pid_t pid;

	why = l4t_memcg_unavailable();
	if (why)
		SKIP(return, "memory cgroup: %s", why);
	ASSERT_EQ(0, l4t_stats(self->dev, &st));
	if (st.max_frames < st.frames + pages)
		SKIP(return, "max_frames %llu too low", st.max_frames);

	r = l4t_shared(sizeof(*r));
	ASSERT_NE(NULL, r);
	memset(r, 0, sizeof(*r));
	fd = l4t_create(self->dev, CG_TOUCH, 0, L4_SPACE_SIGMA0, NULL);
	ASSERT_LE(0, fd);
	win = map_aligned(fd, CG_TOUCH);
	ASSERT_NE(MAP_FAILED, win);

	snprintf(cg, sizeof(cg), CG_ROOT "/l4-selftest-%d", getpid());
	ASSERT_EQ(0, mkdir(cg, 0755));
	snprintf(path, sizeof(path), "%s/memory.max", cg);
	EXPECT_EQ(0, l4t_write_u64(path, CG_LIMIT));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		memcg_child(cg, win, r);
	status = l4t_wait(pid);
	EXPECT_EQ(0, status) TH_LOG("child %s", status == 128 + SIGKILL ?
				    "killed (OOM?) instead of SIGBUS" :
				    "failed");
	if (!status) {
		TH_LOG("SIGBUS after %zu pages; memory.current %llu -> %llu after %d",
		       r->touched, r->cur0, r->cur1, CG_FIRST);
		/* charged to the toucher's cgroup */
		EXPECT_LE(r->cur0 + CG_FIRST * PG, r->cur1)
			TH_LOG("memory.current %llu -> %llu", r->cur0, r->cur1);
		/* and refused at its limit, with most of it used by frames */
		EXPECT_EQ(SIGBUS, r->f.sig);
		EXPECT_EQ(BUS_ADRERR, r->f.code);
		EXPECT_EQ((void *)(win + r->touched * PG), r->f.addr);
		EXPECT_LT(r->touched, limit);
		EXPECT_LE(limit * 3 / 4, r->touched);
		EXPECT_EQ((__u64)r->touched, l4t_frames(_metadata, fd));
	}
	snprintf(path, sizeof(path), "%s/memory.events", cg);
	EXPECT_EQ(0, read_key(path, "oom_kill", &oom_kills));
	EXPECT_EQ(0ULL, oom_kills);

	/* freeing the frames uncharges them (per-cpu stocks may keep some) */
	snprintf(path, sizeof(path), "%s/memory.current", cg);
	EXPECT_EQ(0, l4t_read_u64(path, &cur_before));
	EXPECT_EQ(0, munmap(win, pages * PG));
	EXPECT_EQ(0, close(fd));
	EXPECT_EQ(0, l4t_read_u64(path, &cur_after));
	if (r->touched > 128)
		EXPECT_LE(cur_after + (r->touched - 128) * PG, cur_before)
			TH_LOG("memory.current %llu -> %llu", cur_before,
			       cur_after);

	for (i = 0; rmdir(cg) && errno == EBUSY && i < 100; i++)
		usleep(10000);
	EXPECT_NE(0, access(cg, F_OK)) TH_LOG("%s left behind", cg);
}

TEST_HARNESS_MAIN
