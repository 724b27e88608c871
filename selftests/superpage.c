// SPDX-License-Identifier: GPL-2.0
/*
 * Superpages (L4_SPACE_SUPERPAGES): 2 MiB frames from sigma0, one mapping
 * entry for a 2 MiB map or grant of one, 4 KiB entries for smaller
 * flexpages out of it, unmap of part of one (the whole node goes, and below
 * it exactly what maps the pages unmapped), and windows that map a
 * superpage with one PMD where the window is 2 MiB-aligned (read from
 * /proc/self/smaps: FilePmdMapped) and page by page elsewhere -- never a
 * page the space does not hold.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "l4_test_util.h"

#define SP		(2UL << 20)		/* a superpage */
#define SP_PAGES	(SP / L4T_PAGE)
#define WHOLE		L4_FPAGE_WHOLE_SPACE
#define SIGMA0_SP	(L4_SPACE_SIGMA0 | L4_SPACE_SUPERPAGES)

/* The kB a line @key of /proc/self/smaps gives for the vma at @addr, or -1. */
static long sp_smaps_kb(const void *addr, const char *key)
{
	unsigned long start, end;
	char line[512];
	bool in = false;
	long kb = -1;
	FILE *f;

	f = fopen("/proc/self/smaps", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2)
			in = start == (unsigned long)addr;
		else if (in && !strncmp(line, key, strlen(key)) &&
			 line[strlen(key)] == ':')
			kb = strtol(line + strlen(key) + 1, NULL, 10);
	}
	fclose(f);
	return kb;
}

/* A window of @len bytes of @space from @addr placed @skew bytes past 2 MiB. */
static char *sp_window_at(int space, __u64 addr, size_t len, size_t skew)
{
	char *area, *win;

	area = mmap(NULL, len + 2 * SP, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (area == MAP_FAILED)
		return MAP_FAILED;
	win = (char *)(((unsigned long)area + SP - 1) & ~(SP - 1)) + skew;
	return mmap(win, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		    space, (off_t)addr);
}

static int sp_map(int dst, int src, __u64 hot, bool grant, __u64 snd,
		  __u64 rcv, __u64 *pages)
{
	struct l4_map m = {
		.src_fd = src,
		.item = { .control = L4_MAP_ITEM(hot, grant), .fpage = snd },
		.rcv_fpage = rcv,
	};
	int ret = ioctl(dst, L4_IOC_MAP, &m);

	if (pages)
		*pages = m.pages;
	return ret;
}

static int sp_unmap(int space, __u64 fpage, __u32 flags, __u64 *revoked)
{
	struct l4_unmap u = { .fpage = fpage, .flags = flags };
	int ret = ioctl(space, L4_IOC_UNMAP, &u);

	if (revoked)
		*revoked = u.revoked;
	return ret;
}

#define ASSERT_INFO(fd, nodes_, frames_, superpages_) do {		\
	struct l4_space_info i_;					\
									\
	ASSERT_EQ(0, l4t_info((fd), &i_));				\
	EXPECT_EQ((__u64)(nodes_), i_.nodes);				\
	EXPECT_EQ((__u64)(frames_), i_.frames);				\
	EXPECT_EQ((__u64)(superpages_), i_.superpages);			\
} while (0)

#define ASSERT_SP_MAP(dst, src, hot, grant, snd, rcv, want) do {	\
	__u64 p_ = 0;							\
									\
	ASSERT_EQ(0, sp_map((dst), (src), (hot), (grant), (snd), (rcv), &p_)) \
		TH_LOG("map: %s", strerror(errno));			\
	ASSERT_EQ((__u64)(want), p_);					\
} while (0)

#define ASSERT_SP_UNMAP(space, fpage, flags, want) do {		\
	__u64 r_ = ~0ULL;						\
									\
	ASSERT_EQ(0, sp_unmap((space), (fpage), (flags), &r_))		\
		TH_LOG("unmap: %s", strerror(errno));			\
	ASSERT_EQ((__u64)(want), r_);					\
} while (0)

/* A write to @p must raise SIGSEGV: held without W, nobody to ask. */
#define ASSERT_SIGSEGV_WRITE(p) do {					\
	struct l4t_fault f_;						\
									\
	ASSERT_EQ((size_t)0, l4t_touch((p), 1, L4T_WRITE, &f_));	\
	ASSERT_EQ(SIGSEGV, f_.sig);					\
} while (0)

L4T_FIXTURE(sp);

/*
 * A sigma0 space of 3 MiB + 8 KiB with superpages, a window onto it: the
 * first 2 MiB come as one frame (one entry, 512 pages of the limit, one
 * PMD in the aligned window); the rest is too short for one and comes in
 * 4 KiB frames; without the flag, 4 KiB frames only.
 */
TEST_F(sp, first_touch)
{
	size_t len = 3 * SP / 2 + 2 * L4T_PAGE;
	struct l4_stats st;
	char *win;
	int fd;

	fd = l4t_create(self->dev, len, 0, SIGMA0_SP, NULL);
	ASSERT_LE(0, fd) TH_LOG("superpage space: %s", strerror(errno));
	win = l4t_map(fd, 0, len);
	ASSERT_NE(MAP_FAILED, win);
	ASSERT_EQ(0UL, (unsigned long)win & (SP - 1))
		TH_LOG("get_unmapped_area did not align the window");

	win[5 * L4T_PAGE + 17] = 1;
	ASSERT_INFO(fd, 1, SP_PAGES, 1);
	ASSERT_EQ(0, l4t_stats(self->dev, &st));
	EXPECT_EQ(self->before.superpages + 1, st.superpages);
	EXPECT_EQ(self->before.frames + SP_PAGES, st.frames);
	EXPECT_EQ(2048, sp_smaps_kb(win, "FilePmdMapped"));
	/* the rest of it is there, zeroed, with no further frame */
	ASSERT_EQ(-1, l4t_check_zero(win, 5 * L4T_PAGE + 17));
	ASSERT_EQ(-1, l4t_check_zero(win + 5 * L4T_PAGE + 18,
				    SP - 5 * L4T_PAGE - 18));
	l4t_fill(win, 0, SP, 11);
	ASSERT_EQ(-1, l4t_check(win, 0, SP, 11));
	ASSERT_INFO(fd, 1, SP_PAGES, 1);

	/* past the last whole superpage: 4 KiB frames */
	win[SP + 3 * L4T_PAGE] = 1;
	ASSERT_INFO(fd, 2, SP_PAGES + 1, 1);
	ASSERT_EQ(0, munmap(win, len));
	ASSERT_EQ(0, close(fd));

	fd = l4t_space_window(self->dev, SP_PAGES, 0, L4_SPACE_SIGMA0, &win);
	ASSERT_LE(0, fd);
	win[0] = 1;
	ASSERT_INFO(fd, 1, 1, 0);
	ASSERT_EQ(0, munmap(win, SP));
	ASSERT_EQ(0, close(fd));
}

/* Superpages are sigma0's: the flag alone is refused. */
TEST_F(sp, flag_needs_sigma0)
{
	ASSERT_EQ(-1, l4t_create(self->dev, SP, 0, L4_SPACE_SUPERPAGES, NULL));
	ASSERT_EQ(EINVAL, errno);
}

/* A limit of fewer than 512 frames: 4 KiB frames, as THP falls back. */
TEST_F(sp, limit_falls_back)
{
	char *win;
	int fd;

	fd = l4t_space_window(self->dev, SP_PAGES, 100, SIGMA0_SP, &win);
	ASSERT_LE(0, fd);
	ASSERT_TOUCH(win, 100, L4T_WRITE);
	ASSERT_INFO(fd, 100, 100, 0);
	ASSERT_SIGBUS(win + 100 * L4T_PAGE, L4T_WRITE);
	ASSERT_EQ(0, munmap(win, SP));
	ASSERT_EQ(0, close(fd));
}

/* Two sigma0 superpages and a client of 8 MiB with a window onto it all. */
struct sp_pair {
	int s0, cl;
	char *s0win, *clwin;
};

static void sp_pair_open(struct __test_metadata *_metadata, int dev,
			 struct sp_pair *p, size_t skew)
{
	p->s0 = l4t_create(dev, 2 * SP, 0, SIGMA0_SP, NULL);
	ASSERT_LE(0, p->s0) TH_LOG("superpage space: %s", strerror(errno));
	p->s0win = l4t_map(p->s0, 0, 2 * SP);
	ASSERT_NE(MAP_FAILED, p->s0win);
	l4t_fill(p->s0win, 0, 2 * SP, 7);
	ASSERT_INFO(p->s0, 2, 2 * SP_PAGES, 2);
	p->cl = l4t_create(dev, 4 * SP, 0, 0, NULL);
	ASSERT_LE(0, p->cl);
	p->clwin = sp_window_at(p->cl, 0, 3 * SP, skew);
	ASSERT_NE(MAP_FAILED, p->clwin);
}

/*
 * A 2 MiB flexpage of a superpage: one entry in the client, one PMD in its
 * aligned window, the same memory both ways; 4 MiB: two entries.
 */
TEST_F(sp, map_whole)
{
	struct sp_pair p;

	sp_pair_open(_metadata, self->dev, &p, 0);
	ASSERT_SP_MAP(p.cl, p.s0, 0, false, L4_FPAGE(0, 21, L4_FPAGE_RW),
		      L4_FPAGE(SP, 21, 0), SP_PAGES);
	ASSERT_INFO(p.cl, 1, 0, 0);
	ASSERT_EQ(-1, l4t_check(p.clwin + SP, 0, SP, 7));
	EXPECT_EQ(2048, sp_smaps_kb(p.clwin, "FilePmdMapped"));
	l4t_fill(p.clwin + SP, 0, SP, 8);
	ASSERT_EQ(-1, l4t_check(p.s0win, 0, SP, 8));
	/* nothing else of the client came with it */
	ASSERT_SIGBUS(p.clwin, L4T_READ);
	ASSERT_SIGBUS(p.clwin + 2 * SP, L4T_READ);

	ASSERT_SP_MAP(p.cl, p.s0, 0, false, L4_FPAGE(0, 22, L4_FPAGE_R),
		      L4_FPAGE(0, 22, 0), 2 * SP_PAGES);
	ASSERT_INFO(p.cl, 2, 0, 0);
	ASSERT_EQ(-1, l4t_check(p.clwin, 0, SP, 8));
	ASSERT_EQ(-1, l4t_check(p.clwin + SP, SP, SP, 7));
	/* R only: a write is a rights fault, and there is no pager */
	ASSERT_SIGSEGV_WRITE(p.clwin);
}

/*
 * Smaller flexpages out of a superpage: 4 KiB entries, one per page, and
 * the client's window shows those pages and no other page of the frame --
 * in an aligned window (no PMD for the folio) and a skewed one alike.
 */
static void sp_partial(struct __test_metadata *_metadata, int dev, size_t skew)
{
	struct sp_pair p;
	char *w;

	sp_pair_open(_metadata, dev, &p, skew);
	w = p.clwin;
	/* page 7 of the first superpage to client page 3 */
	ASSERT_SP_MAP(p.cl, p.s0, 3 * L4T_PAGE, false,
		      L4_FPAGE(7 * L4T_PAGE, 12, L4_FPAGE_RW),
		      L4_FPAGE(3 * L4T_PAGE, 12, 0), 1);
	/* 64 KiB from page 16 of the second to client 64 KiB .. 128 KiB */
	ASSERT_SP_MAP(p.cl, p.s0, 0, false,
		      L4_FPAGE(SP + 16 * L4T_PAGE, 16, L4_FPAGE_RW),
		      L4_FPAGE(16 * L4T_PAGE, 16, 0), 16);
	ASSERT_INFO(p.cl, 17, 0, 0);
	ASSERT_EQ(-1, l4t_check(w + 3 * L4T_PAGE, 7 * L4T_PAGE, L4T_PAGE, 7));
	ASSERT_EQ(-1, l4t_check(w + 16 * L4T_PAGE, SP + 16 * L4T_PAGE,
			       16 * L4T_PAGE, 7));
	EXPECT_EQ(0, sp_smaps_kb(w, "FilePmdMapped"));
	/* the frame's other pages are not the client's */
	ASSERT_SIGBUS(w + 2 * L4T_PAGE, L4T_READ);
	ASSERT_SIGBUS(w + 4 * L4T_PAGE, L4T_READ);
	ASSERT_SIGBUS(w + 15 * L4T_PAGE, L4T_READ);
	ASSERT_SIGBUS(w + 32 * L4T_PAGE, L4T_READ);
	ASSERT_SIGBUS(w + SP - L4T_PAGE, L4T_READ);
	/* writes go to the frame */
	w[3 * L4T_PAGE] = 0x5a;
	ASSERT_EQ(0x5a, p.s0win[7 * L4T_PAGE]);
	/* 17 pages mapped, no more */
	EXPECT_EQ(17 * 4, sp_smaps_kb(w, "Rss"));
}

TEST_F(sp, map_partial_aligned)
{
	sp_partial(_metadata, self->dev, 0);
}

TEST_F(sp, map_partial_skewed)
{
	sp_partial(_metadata, self->dev, L4T_PAGE);
}

/* A window not 2 MiB-aligned to the space: the superpage page by page. */
TEST_F(sp, map_whole_skewed_window)
{
	struct sp_pair p;

	sp_pair_open(_metadata, self->dev, &p, 5 * L4T_PAGE);
	ASSERT_SP_MAP(p.cl, p.s0, 0, false, L4_FPAGE(SP, 21, L4_FPAGE_RW),
		      L4_FPAGE(0, 21, 0), SP_PAGES);
	ASSERT_INFO(p.cl, 1, 0, 0);
	ASSERT_EQ(-1, l4t_check(p.clwin, SP, SP, 7));
	EXPECT_EQ(0, sp_smaps_kb(p.clwin, "FilePmdMapped"));
	ASSERT_SIGBUS(p.clwin + SP, L4T_READ);
}

/*
 * Grant of a whole superpage moves its one entry and its charge; a grant
 * of part of one is refused (a node moves whole), and changes nothing.
 */
TEST_F(sp, grant)
{
	__u64 pages = 0;
	struct sp_pair p;

	sp_pair_open(_metadata, self->dev, &p, 0);
	ASSERT_EQ(-1, sp_map(p.cl, p.s0, 0, true,
			     L4_FPAGE(SP, 20, L4_FPAGE_RW), WHOLE, &pages));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_INFO(p.s0, 2, 2 * SP_PAGES, 2);
	ASSERT_INFO(p.cl, 0, 0, 0);

	ASSERT_SP_MAP(p.cl, p.s0, 0, true, L4_FPAGE(SP, 21, L4_FPAGE_RW),
		      L4_FPAGE(2 * SP, 21, 0), SP_PAGES);
	ASSERT_INFO(p.s0, 1, SP_PAGES, 1);
	ASSERT_INFO(p.cl, 1, SP_PAGES, 1);
	ASSERT_EQ(-1, l4t_check(p.clwin + 2 * SP, SP, SP, 7));
	EXPECT_EQ(2048, sp_smaps_kb(p.clwin, "FilePmdMapped"));
	/* the sigma0 lost it: its next touch there gets a fresh one */
	ASSERT_EQ(-1, l4t_check_zero(p.s0win + SP, SP));
	ASSERT_INFO(p.s0, 2, 2 * SP_PAGES, 2);
}

/*
 * Unmap of part of a superpage: a 2 MiB entry below goes as a whole (as
 * in Fiasco), a 4 KiB entry below goes only if it maps a page unmapped;
 * with L4_UNMAP_ALL_SPACES the superpage itself goes, and its frame.
 */
TEST_F(sp, unmap_part)
{
	struct l4_stats st;
	struct sp_pair p;
	__u64 id;
	char *w;
	int c2;

	sp_pair_open(_metadata, self->dev, &p, 0);
	w = p.clwin;
	c2 = l4t_create(self->dev, SP, 0, 0, &id);
	ASSERT_LE(0, c2);
	/* client: all of superpage 0 at 0; c2: its pages 3 and 9 */
	ASSERT_SP_MAP(p.cl, p.s0, 0, false, L4_FPAGE(0, 21, L4_FPAGE_RW),
		      L4_FPAGE(0, 21, 0), SP_PAGES);
	ASSERT_SP_MAP(c2, p.s0, 0, false, L4_FPAGE(3 * L4T_PAGE, 12, L4_FPAGE_RW),
		      L4_FPAGE(3 * L4T_PAGE, 12, 0), 1);
	ASSERT_SP_MAP(c2, p.s0, 0, false, L4_FPAGE(9 * L4T_PAGE, 12, L4_FPAGE_RW),
		      L4_FPAGE(9 * L4T_PAGE, 12, 0), 1);
	ASSERT_TOUCH(w, SP_PAGES, L4T_READ);
	EXPECT_EQ(2048, sp_smaps_kb(w, "FilePmdMapped"));

	/* W of page 9: the client's 2 MiB entry and c2's page 9 */
	ASSERT_SP_UNMAP(p.s0, L4_FPAGE(9 * L4T_PAGE, 12, L4_FPAGE_W), 0, 2);
	ASSERT_SIGSEGV_WRITE(w + 100 * L4T_PAGE);
	ASSERT_TOUCH(w + 100 * L4T_PAGE, 1, L4T_READ);

	/* page 3 (R): the client's entry, whole, and c2's page 3 only */
	ASSERT_SP_UNMAP(p.s0, L4_FPAGE(3 * L4T_PAGE, 12, L4_FPAGE_R), 0, 2);
	ASSERT_INFO(p.cl, 0, 0, 0);
	ASSERT_INFO(c2, 1, 0, 0);
	ASSERT_SIGBUS(w + 200 * L4T_PAGE, L4T_READ);
	ASSERT_INFO(p.s0, 2, 2 * SP_PAGES, 2);

	/* 8 KiB of superpage 0 with the sigma0's own: all of it, c2's page 9 */
	ASSERT_SP_UNMAP(p.s0, L4_FPAGE(8 * L4T_PAGE, 13, L4_FPAGE_R),
			L4_UNMAP_ALL_SPACES, 2);
	ASSERT_INFO(p.s0, 1, SP_PAGES, 1);
	ASSERT_INFO(c2, 0, 0, 0);
	ASSERT_EQ(0, l4t_stats(self->dev, &st));
	EXPECT_EQ(self->before.superpages + 1, st.superpages);
	/* its first touch again: a fresh, zeroed superpage */
	ASSERT_EQ(-1, l4t_check_zero(p.s0win, SP));
	ASSERT_INFO(p.s0, 2, 2 * SP_PAGES, 2);
	ASSERT_EQ(0, close(c2));
}

/*
 * The superpage itself revoked through a 4 KiB part of it: its whole
 * subtree goes, 4 KiB entries of pages the unmap did not name included
 * (nothing may outlive the node it derives from).
 */
TEST_F(sp, unmap_self_takes_subtree)
{
	struct sp_pair p;
	int c2;

	sp_pair_open(_metadata, self->dev, &p, 0);
	c2 = l4t_create(self->dev, SP, 0, 0, NULL);
	ASSERT_LE(0, c2);
	ASSERT_SP_MAP(c2, p.s0, 0, false, L4_FPAGE(3 * L4T_PAGE, 12, L4_FPAGE_RW),
		      L4_FPAGE(3 * L4T_PAGE, 12, 0), 1);
	ASSERT_SP_MAP(c2, p.s0, 0, false, L4_FPAGE(9 * L4T_PAGE, 12, L4_FPAGE_RW),
		      L4_FPAGE(9 * L4T_PAGE, 12, 0), 1);
	ASSERT_SP_MAP(p.cl, c2, 0, false, L4_FPAGE(9 * L4T_PAGE, 12, L4_FPAGE_RW),
		      L4_FPAGE(0, 12, 0), 1);
	/* W of page 3 through the superpage itself: all of its subtree */
	ASSERT_SP_UNMAP(p.s0, L4_FPAGE(3 * L4T_PAGE, 12, L4_FPAGE_W),
			L4_UNMAP_ALL_SPACES, 4);
	ASSERT_SIGSEGV_WRITE(p.clwin);
	ASSERT_SP_UNMAP(p.s0, L4_FPAGE(3 * L4T_PAGE, 12, L4_FPAGE_R),
			L4_UNMAP_ALL_SPACES, 4);
	ASSERT_INFO(c2, 0, 0, 0);
	ASSERT_INFO(p.cl, 0, 0, 0);
	ASSERT_INFO(p.s0, 1, SP_PAGES, 1);
	ASSERT_SIGBUS(p.clwin, L4T_READ);
	ASSERT_EQ(0, close(c2));
}

/* A 4 KiB entry where a superpage is about to go: flushed first, and back. */
TEST_F(sp, map_over)
{
	struct sp_pair p;

	sp_pair_open(_metadata, self->dev, &p, 0);
	ASSERT_SP_MAP(p.cl, p.s0, 0, false, L4_FPAGE(SP + 4 * L4T_PAGE, 12, L4_FPAGE_RW),
		      L4_FPAGE(10 * L4T_PAGE, 12, 0), 1);
	ASSERT_SP_MAP(p.cl, p.s0, 0, false, L4_FPAGE(0, 21, L4_FPAGE_RW),
		      L4_FPAGE(0, 21, 0), SP_PAGES);
	ASSERT_INFO(p.cl, 1, 0, 0);
	ASSERT_EQ(-1, l4t_check(p.clwin + 10 * L4T_PAGE, 10 * L4T_PAGE, L4T_PAGE, 7));
	/* and a 4 KiB one into it: the superpage entry goes first */
	ASSERT_SP_MAP(p.cl, p.s0, 0, false, L4_FPAGE(SP + 4 * L4T_PAGE, 12, L4_FPAGE_RW),
		      L4_FPAGE(10 * L4T_PAGE, 12, 0), 1);
	ASSERT_INFO(p.cl, 1, 0, 0);
	ASSERT_EQ(-1, l4t_check(p.clwin + 10 * L4T_PAGE, SP + 4 * L4T_PAGE, L4T_PAGE, 7));
	ASSERT_SIGBUS(p.clwin + 11 * L4T_PAGE, L4T_READ);
	/* a superpage onto itself: nothing changes */
	ASSERT_SP_MAP(p.s0, p.s0, 0, false, L4_FPAGE(0, 21, L4_FPAGE_RW),
		      L4_FPAGE(0, 21, 0), SP_PAGES);
	ASSERT_INFO(p.s0, 2, 2 * SP_PAGES, 2);
}

/* GUP (write(2) from, read(2) into a PMD-mapped window) and fork. */
TEST_F(sp, gup_and_fork)
{
	struct sp_pair p;
	int pipefd[2], status;
	char *buf;
	pid_t pid;

	sp_pair_open(_metadata, self->dev, &p, 0);
	ASSERT_SP_MAP(p.cl, p.s0, 0, false, L4_FPAGE(0, 21, L4_FPAGE_RW),
		      L4_FPAGE(0, 21, 0), SP_PAGES);
	buf = malloc(SP);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* the child's window comes with the fork and faults anew */
		CHILD_CHECK(write(pipefd[1], p.clwin, SP) == (ssize_t)SP);
		_exit(0);
	}
	for (size_t got = 0; got < SP; ) {
		ssize_t n = read(pipefd[0], buf + got, SP - got);

		ASSERT_LT(0, n);
		got += n;
	}
	ASSERT_EQ(-1, l4t_check(buf, 0, SP, 7));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, status);
	close(pipefd[0]);
	close(pipefd[1]);

	/* read(2) into the window (8 pages: within a pipe's buffer) */
	ASSERT_EQ(0, pipe(pipefd));
	l4t_fill(buf, 0, 8 * L4T_PAGE, 9);
	ASSERT_EQ((ssize_t)(8 * L4T_PAGE), write(pipefd[1], buf, 8 * L4T_PAGE));
	ASSERT_EQ((ssize_t)(8 * L4T_PAGE), read(pipefd[0], p.clwin + 100 * L4T_PAGE,
						 8 * L4T_PAGE));
	ASSERT_EQ(-1, l4t_check(p.s0win + 100 * L4T_PAGE, 0, 8 * L4T_PAGE, 9));
	close(pipefd[0]);
	close(pipefd[1]);
	free(buf);
}

/*
 * A fault-around space (VM_MIXEDMAP windows): one fault puts all of a
 * superpage's PTEs in, no PMD.
 */
TEST_F(sp, fault_around)
{
	char *win;
	int fd;

	fd = l4t_create(self->dev, SP, 0, SIGMA0_SP | L4_SPACE_FAULT_AROUND, NULL);
	ASSERT_LE(0, fd) TH_LOG("superpage space: %s", strerror(errno));
	win = l4t_map(fd, 0, SP);
	ASSERT_NE(MAP_FAILED, win);
	(void)*(volatile char *)(win + 77 * L4T_PAGE);
	ASSERT_INFO(fd, 1, SP_PAGES, 1);
	EXPECT_EQ(2048, sp_smaps_kb(win, "Rss"));
	EXPECT_EQ(0, sp_smaps_kb(win, "FilePmdMapped"));
	l4t_fill(win, 0, SP, 3);
	ASSERT_EQ(-1, l4t_check(win, 0, SP, 3));
	ASSERT_EQ(0, munmap(win, SP));
	ASSERT_EQ(0, close(fd));
}

TEST_HARNESS_MAIN
