// SPDX-License-Identifier: GPL-2.0
/*
 * Windows: mmap(MAP_SHARED) of a space fd at offset = space address.
 * What mmap accepts, what a touch gives (zeroed sigma0 frames, SIGBUS
 * without a pager), that every window of a space shows the same pages,
 * and that SPACE_INFO counts window vmas through munmap, splits, mremap
 * and fork.
 */
#include "l4_test_util.h"

L4T_FIXTURE(window);

#define PG	L4T_PAGE

TEST_F(window, map_private_einval)
{
	static const int prots[] = { PROT_READ, PROT_READ | PROT_WRITE };
	size_t i;
	int fd;

	fd = l4t_create(self->dev, 4 * PG, 0, L4_SPACE_SIGMA0, NULL);
	ASSERT_LE(0, fd);
	for (i = 0; i < ARRAY_SIZE(prots); i++) {
		errno = 0;
		EXPECT_EQ(MAP_FAILED, mmap(NULL, PG, prots[i], MAP_PRIVATE,
					   fd, 0));
		EXPECT_EQ(EINVAL, errno);
	}
	EXPECT_EQ(0ULL, l4t_windows(_metadata, fd));
	ASSERT_EQ(0, close(fd));
}

TEST_F(window, map_outside_enxio)
{
	static const struct {
		__u64 off, pages;
		int err;	/* 0: must map */
	} cases[] = {
		{ 0,		16,	0 },
		{ 15 * PG,	1,	0 },
		{ 8 * PG,	8,	0 },
		{ 0,		17,	ENXIO },
		{ 15 * PG,	2,	ENXIO },
		{ 16 * PG,	1,	ENXIO },
		{ 17 * PG,	1,	ENXIO },
		{ 1ULL << 40,	1,	ENXIO },
		{ L4_SPACE_MAX_SIZE, 1,	ENXIO },
		{ 1ULL << 62,	1,	ENXIO },
	};
	struct l4_stats st;
	size_t i;
	char *p;
	int fd;

	fd = l4t_create(self->dev, 16 * PG, 0, L4_SPACE_SIGMA0, NULL);
	ASSERT_LE(0, fd);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		errno = 0;
		p = l4t_map(fd, cases[i].off, cases[i].pages * PG);
		if (!cases[i].err) {
			EXPECT_NE(MAP_FAILED, p) TH_LOG("case %zu: errno %d",
							i, errno);
			if (p != MAP_FAILED)
				munmap(p, cases[i].pages * PG);
			continue;
		}
		EXPECT_EQ(MAP_FAILED, p) TH_LOG("case %zu mapped", i);
		EXPECT_EQ(cases[i].err, errno) TH_LOG("case %zu", i);
	}
	EXPECT_EQ(0ULL, l4t_windows(_metadata, fd));
	ASSERT_EQ(0, l4t_stats(self->dev, &st));
	ASSERT_LIVE(&self->before, &st, 1, 0, 0, 0);
	ASSERT_EQ(0, close(fd));
}

TEST_F(window, sigma0_zero_fill)
{
	enum { PAGES = 256 };
	char *win;
	long off;
	int fd;

	fd = l4t_space_window(self->dev, PAGES, 0, L4_SPACE_SIGMA0, &win);
	ASSERT_LE(0, fd);
	off = l4t_check_zero(win, PAGES * PG);
	EXPECT_EQ(-1, off) TH_LOG("nonzero at page %ld + %ld",
				  off / (long)PG, off % (long)PG);
	EXPECT_EQ((__u64)PAGES, l4t_frames(_metadata, fd));

	/* a written page does not leak into its neighbours */
	l4t_fill(win + 7 * PG, 7 * PG, PG, 1);
	EXPECT_EQ(-1, l4t_check(win + 7 * PG, 7 * PG, PG, 1));
	EXPECT_EQ(-1, l4t_check_zero(win, 7 * PG));
	EXPECT_EQ(-1, l4t_check_zero(win + 8 * PG, (PAGES - 8) * PG));
	EXPECT_EQ((__u64)PAGES, l4t_frames(_metadata, fd));
	ASSERT_EQ(0, munmap(win, PAGES * PG));
	ASSERT_EQ(0, close(fd));
}

TEST_F(window, no_pager_sigbus)
{
	struct l4_stats st;
	char *win;
	int fd;

	fd = l4t_space_window(self->dev, 8, 0, 0, &win);
	ASSERT_LE(0, fd);
	ASSERT_SIGBUS(win + 3 * PG + 123, L4T_READ);
	ASSERT_SIGBUS(win + 5 * PG, L4T_WRITE);
	ASSERT_SIGBUS(win + 7 * PG + PG - 1, L4T_WRITE);
	/* and again: nothing was filled in behind the signal */
	ASSERT_SIGBUS(win + 3 * PG + 123, L4T_READ);

	EXPECT_EQ(0ULL, l4t_frames(_metadata, fd));
	ASSERT_EQ(0, l4t_stats(self->dev, &st));
	ASSERT_LIVE(&self->before, &st, 1, 0, 0, 1);
	EXPECT_EQ(self->before.limit_faults, st.limit_faults);
	EXPECT_EQ(self->before.frames_allocated, st.frames_allocated);
	ASSERT_EQ(0, munmap(win, 8 * PG));
	ASSERT_EQ(0, close(fd));
}

TEST_F(window, read_only_window)
{
	struct l4t_fault f;
	char *ro, *rw;
	int fd;

	fd = l4t_space_window(self->dev, 4, 0, L4_SPACE_SIGMA0, &rw);
	ASSERT_LE(0, fd);
	ro = mmap(NULL, 4 * PG, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, ro);

	ASSERT_TOUCH(ro, 2, L4T_READ);
	EXPECT_EQ(-1, l4t_check_zero(ro, 2 * PG));
	l4t_fill(rw, 0, 4 * PG, 3);
	EXPECT_EQ(-1, l4t_check(ro, 0, 4 * PG, 3));

	ASSERT_EQ((size_t)0, l4t_touch(ro + PG + 8, 1, L4T_WRITE, &f));
	EXPECT_EQ(SIGSEGV, f.sig);
	EXPECT_EQ(SEGV_ACCERR, f.code);
	EXPECT_EQ((void *)(ro + PG + 8), f.addr);
	EXPECT_EQ(-1, l4t_check(rw, 0, 4 * PG, 3));
	EXPECT_EQ(4ULL, l4t_frames(_metadata, fd));
	EXPECT_EQ(2ULL, l4t_windows(_metadata, fd));
	ASSERT_EQ(0, munmap(ro, 4 * PG));
	ASSERT_EQ(0, munmap(rw, 4 * PG));
	ASSERT_EQ(0, close(fd));
}

TEST_F(window, two_windows_same_pages)
{
	char *w1, *w2;
	int fd;

	fd = l4t_space_window(self->dev, 8, 0, L4_SPACE_SIGMA0, &w1);
	ASSERT_LE(0, fd);
	w2 = l4t_map(fd, 0, 8 * PG);
	ASSERT_NE(MAP_FAILED, w2);
	ASSERT_NE(w1, w2);

	l4t_fill(w1, 0, 4 * PG, 1);
	EXPECT_EQ(-1, l4t_check(w2, 0, 4 * PG, 1));
	l4t_fill(w2 + 4 * PG, 4 * PG, 4 * PG, 2);
	EXPECT_EQ(-1, l4t_check(w1 + 4 * PG, 4 * PG, 4 * PG, 2));
	/* overwrite through the other one */
	l4t_fill(w2 + PG, PG, PG, 3);
	EXPECT_EQ(-1, l4t_check(w1 + PG, PG, PG, 3));
	EXPECT_EQ(-1, l4t_check(w1, 0, PG, 1));
	EXPECT_EQ(-1, l4t_check(w1 + 2 * PG, 2 * PG, 2 * PG, 1));

	EXPECT_EQ(8ULL, l4t_frames(_metadata, fd));
	EXPECT_EQ(2ULL, l4t_windows(_metadata, fd));
	ASSERT_EQ(0, munmap(w1, 8 * PG));
	ASSERT_EQ(0, munmap(w2, 8 * PG));
	ASSERT_EQ(0, close(fd));
}

/* Windows onto [0, 8) and [4, 12): page 5 is w1 + 5 and w2 + 1. */
TEST_F(window, windows_at_offsets)
{
	char *w1, *w2, *w3;
	int fd;

	fd = l4t_create(self->dev, 16 * PG, 0, L4_SPACE_SIGMA0, NULL);
	ASSERT_LE(0, fd);
	w1 = l4t_map(fd, 0, 8 * PG);
	ASSERT_NE(MAP_FAILED, w1);
	w2 = l4t_map(fd, 4 * PG, 8 * PG);
	ASSERT_NE(MAP_FAILED, w2);

	l4t_fill(w1, 0, 8 * PG, 1);
	EXPECT_EQ(-1, l4t_check(w2, 4 * PG, 4 * PG, 1));
	EXPECT_EQ(-1, l4t_check_zero(w2 + 4 * PG, 4 * PG));
	l4t_fill(w2 + PG, 5 * PG, 4 * PG, 2);
	EXPECT_EQ(-1, l4t_check(w1 + 5 * PG, 5 * PG, 3 * PG, 2));
	EXPECT_EQ(-1, l4t_check(w1, 0, 5 * PG, 1));

	/* a third window sees all of it where it belongs */
	w3 = l4t_map(fd, 0, 16 * PG);
	ASSERT_NE(MAP_FAILED, w3);
	EXPECT_EQ(-1, l4t_check(w3, 0, 5 * PG, 1));
	EXPECT_EQ(-1, l4t_check(w3 + 5 * PG, 5 * PG, 4 * PG, 2));
	EXPECT_EQ(-1, l4t_check_zero(w3 + 9 * PG, 7 * PG));
	EXPECT_EQ(16ULL, l4t_frames(_metadata, fd));
	EXPECT_EQ(3ULL, l4t_windows(_metadata, fd));

	ASSERT_EQ(0, munmap(w1, 8 * PG));
	ASSERT_EQ(0, munmap(w2, 8 * PG));
	ASSERT_EQ(0, munmap(w3, 16 * PG));
	ASSERT_EQ(0, close(fd));
}

TEST_F(window, remap_keeps_contents)
{
	char *win;
	int fd, i;

	fd = l4t_space_window(self->dev, 8, 0, L4_SPACE_SIGMA0, &win);
	ASSERT_LE(0, fd);
	l4t_fill(win, 0, 8 * PG, 1);
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, munmap(win, 8 * PG));
		EXPECT_EQ(0ULL, l4t_windows(_metadata, fd));
		EXPECT_EQ(8ULL, l4t_frames(_metadata, fd));
		win = l4t_map(fd, 0, 8 * PG);
		ASSERT_NE(MAP_FAILED, win);
		EXPECT_EQ(-1, l4t_check(win, 0, 8 * PG, 1)) TH_LOG("round %d", i);
	}
	ASSERT_EQ(0, munmap(win, 8 * PG));
	ASSERT_EQ(0, close(fd));
}

/*
 * Fault-around (L4_SPACE_FAULT_AROUND): a read fault maps the 15 other
 * present pages of its 16-page block (counted), not the absent ones (a
 * window of a sigma0 space: they would be allocated); a forked child sees
 * the same pages (VM_MIXEDMAP windows copy their PTEs on fork) and its
 * writes reach the parent; a write fault maps no neighbours.
 */
TEST_F(window, fault_around)
{
	struct l4_stats s0, s1;
	char *win;
	int fd, status;
	pid_t pid;

	fd = l4t_space_window(self->dev, 32, 0,
			      L4_SPACE_SIGMA0 | L4_SPACE_FAULT_AROUND, &win);
	ASSERT_LE(0, fd);
	l4t_fill(win, 0, 12 * PG, 7);		/* pages 0..11 present */
	ASSERT_EQ(0, munmap(win, 32 * PG));
	win = l4t_map(fd, 0, 32 * PG);
	ASSERT_NE(MAP_FAILED, win);

	ASSERT_EQ(0, l4t_stats(self->dev, &s0));
	ASSERT_EQ(-1, l4t_check(win + 3 * PG, 3 * PG, PG, 7));	/* read fault */
	ASSERT_EQ(0, l4t_stats(self->dev, &s1));
	EXPECT_EQ(11ULL, s1.faultaround_pages - s0.faultaround_pages);
	EXPECT_EQ(1ULL, s1.kernel_faults - s0.kernel_faults);
	EXPECT_EQ(12ULL, l4t_frames(_metadata, fd));
	ASSERT_EQ(-1, l4t_check(win, 0, 12 * PG, 7));
	ASSERT_EQ(0, l4t_stats(self->dev, &s0));
	EXPECT_EQ(s1.kernel_faults, s0.kernel_faults);	/* all mapped already */

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		CHILD_CHECK(l4t_check(win, 0, 12 * PG, 7) == -1);
		l4t_fill(win + 5 * PG, 5 * PG, PG, 8);
		_exit(0);
	}
	status = l4t_wait(pid);
	ASSERT_EQ(0, status);
	ASSERT_EQ(-1, l4t_check(win + 5 * PG, 5 * PG, PG, 8));

	/* a write fault: the new page only, no neighbours */
	ASSERT_EQ(0, l4t_stats(self->dev, &s0));
	win[20 * PG] = 1;
	ASSERT_EQ(0, l4t_stats(self->dev, &s1));
	EXPECT_EQ(0ULL, s1.faultaround_pages - s0.faultaround_pages);
	EXPECT_EQ(13ULL, l4t_frames(_metadata, fd));

	ASSERT_EQ(0, munmap(win, 32 * PG));
	ASSERT_EQ(0, close(fd));
}

/* windows counts vmas: mmap, a split by munmap, fork, exit, munmap. */
TEST_F(window, window_counts)
{
	struct l4_stats st;
	int fd, go[2], ready[2];
	char *w1, *w2;
	pid_t pid;

	fd = l4t_create(self->dev, 8 * PG, 0, L4_SPACE_SIGMA0, NULL);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0ULL, l4t_windows(_metadata, fd));
	w1 = l4t_map(fd, 0, 4 * PG);
	ASSERT_NE(MAP_FAILED, w1);
	EXPECT_EQ(1ULL, l4t_windows(_metadata, fd));
	w2 = l4t_map(fd, 2 * PG, 2 * PG);
	ASSERT_NE(MAP_FAILED, w2);
	EXPECT_EQ(2ULL, l4t_windows(_metadata, fd));

	/* a hole in w1 leaves two vmas of it */
	l4t_fill(w1, 0, 4 * PG, 1);
	ASSERT_EQ(0, munmap(w1 + PG, PG));
	EXPECT_EQ(3ULL, l4t_windows(_metadata, fd));
	EXPECT_EQ(-1, l4t_check(w1, 0, PG, 1));
	EXPECT_EQ(-1, l4t_check(w1 + 2 * PG, 2 * PG, 2 * PG, 1));

	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(ready));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		CHILD_CHECK(!l4t_post(ready[1]));
		CHILD_CHECK(!l4t_pend(go[0]));
		_exit(0);
	}
	ASSERT_EQ(0, l4t_pend(ready[0]));
	EXPECT_EQ(6ULL, l4t_windows(_metadata, fd));
	ASSERT_EQ(0, l4t_stats(self->dev, &st));
	ASSERT_LIVE(&self->before, &st, 1, 4, 4, 6);
	ASSERT_EQ(0, l4t_post(go[1]));
	ASSERT_EQ(0, l4t_wait(pid));
	EXPECT_EQ(3ULL, l4t_windows(_metadata, fd));

	ASSERT_EQ(0, munmap(w1, 4 * PG));
	EXPECT_EQ(1ULL, l4t_windows(_metadata, fd));
	ASSERT_EQ(0, munmap(w2, 2 * PG));
	EXPECT_EQ(0ULL, l4t_windows(_metadata, fd));
	ASSERT_EQ(0, close(fd));
}

/* mremap: moving keeps one window and the contents; growing past the
 * space's end must not reach beyond it. */
TEST_F(window, mremap)
{
	struct l4t_fault f;
	char *win, *dst, *q;
	int fd;

	fd = l4t_space_window(self->dev, 4, 0, L4_SPACE_SIGMA0, &win);
	ASSERT_LE(0, fd);
	l4t_fill(win, 0, 4 * PG, 1);

	dst = mmap(NULL, 4 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, dst);
	q = mremap(win, 4 * PG, 4 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	ASSERT_EQ(dst, q);
	EXPECT_EQ(1ULL, l4t_windows(_metadata, fd));
	EXPECT_EQ(-1, l4t_check(q, 0, 4 * PG, 1));

	/* shrink to the last page alone */
	ASSERT_EQ(0, munmap(q, 3 * PG));
	win = q + 3 * PG;
	EXPECT_EQ(1ULL, l4t_windows(_metadata, fd));
	EXPECT_EQ(-1, l4t_check(win, 3 * PG, PG, 1));

	q = mremap(win, PG, 2 * PG, MREMAP_MAYMOVE);
	if (q == MAP_FAILED) {
		TH_LOG("growing a window is refused (errno %d)", errno);
		q = win;
	} else {
		EXPECT_EQ(-1, l4t_check(q, 3 * PG, PG, 1));
		EXPECT_EQ((size_t)0, l4t_touch(q + PG, 1, L4T_READ, &f));
		EXPECT_EQ(SIGBUS, f.sig);
		ASSERT_EQ(0, munmap(q + PG, PG));
	}
	EXPECT_EQ(4ULL, l4t_frames(_metadata, fd));
	EXPECT_EQ(1ULL, l4t_windows(_metadata, fd));
	ASSERT_EQ(0, munmap(q, PG));
	EXPECT_EQ(0ULL, l4t_windows(_metadata, fd));
	ASSERT_EQ(0, close(fd));
}

/* The top of the largest space is reachable, and nothing beyond it. */
TEST_F(window, max_size_last_page)
{
	const __u64 top = L4_SPACE_MAX_SIZE - PG;
	char *w1, *w2;
	int fd;

	fd = l4t_create(self->dev, L4_SPACE_MAX_SIZE, 0, L4_SPACE_SIGMA0, NULL);
	ASSERT_LE(0, fd);
	errno = 0;
	EXPECT_EQ(MAP_FAILED, l4t_map(fd, top, 2 * PG));
	EXPECT_EQ(ENXIO, errno);

	w1 = l4t_map(fd, top, PG);
	ASSERT_NE(MAP_FAILED, w1);
	EXPECT_EQ(-1, l4t_check_zero(w1, PG));
	l4t_fill(w1, top, PG, 1);
	w2 = l4t_map(fd, top - PG, 2 * PG);
	ASSERT_NE(MAP_FAILED, w2);
	EXPECT_EQ(-1, l4t_check(w2 + PG, top, PG, 1));
	EXPECT_EQ(1ULL, l4t_frames(_metadata, fd));
	ASSERT_EQ(0, munmap(w1, PG));
	ASSERT_EQ(0, munmap(w2, 2 * PG));
	ASSERT_EQ(0, close(fd));
}

TEST_HARNESS_MAIN
