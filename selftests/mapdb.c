// SPDX-License-Identifier: GPL-2.0
/*
 * The mapping database: L4_IOC_MAP (map and grant, the flexpage offset
 * rule, rights), L4_IOC_UNMAP (recursive revocation, W-only downgrade,
 * L4_UNMAP_ALL_SPACES, holes), re-mapping, the depth limit, cycles, space
 * destruction, big trees, bad input and the counters. Every result is
 * checked through windows: contents, SIGBUS for absent pages of spaces
 * without sigma0, SIGSEGV for writes to read-only pages, with si_addr.
 */
#include <pthread.h>
#include <stdarg.h>

#include "l4_fixtures.h"

L4T_FIXTURE(mapdb);

/*
 * The core cases run over every space kind (l4_fixtures.h): the frames come
 * from a root of the kind (sigma0, paged by a pager process, sigma0 with
 * fault-around) and land in spaces of the kind's child flags.
 */
L4F_KIND_FIXTURE(mdb);

#define PG		L4T_PAGE
#define R_		L4_FPAGE_R
#define W_		L4_FPAGE_W
#define RW		L4_FPAGE_RW
#define ALL		L4_UNMAP_ALL_SPACES
#define WHOLE		L4_FPAGE_WHOLE_SPACE
#define SIGMA0		L4_SPACE_SIGMA0

/* ------------------------------------------------------------------ */
/* Probes: one word read or written, SIGBUS/SIGSEGV caught             */
/* ------------------------------------------------------------------ */

/* Read *@val from, or write it to, the word at @p; returns the signal. */
static int mdb_word(void *p, int op, __u64 *val, void **addr)
{
	struct l4t_fault f;
	int sig = l4t_access(p, op, val, &f);

	if (addr)
		*addr = f.addr;
	return sig;
}

/* l4t_check() that survives a signal: -2 then. */
static long mdb_check(const void *p, __u64 addr, size_t len, __u64 seed)
{
	struct l4t_fault f;
	volatile long r = -2;

	L4T_CATCH(&f, r = l4t_check(p, addr, len, seed));
	return r;
}

/* As l4t_check_zero(), -2 on a signal. */
static long mdb_check_zero(const void *p, size_t len)
{
	struct l4t_fault f;
	volatile long r = -2;

	L4T_CATCH(&f, r = l4t_check_zero(p, len));
	return r;
}

/* @n pages at @p show pattern @seed of (source) space address @addr. */
#define ASSERT_PAGES(p, addr, n, seed) do {				\
	ASSERT_EQ(-1L, mdb_check((p), (addr), (n) * PG, (seed)));	\
} while (0)

#define ASSERT_FAULT(p, op, sig_) do {					\
	__u64 v_ = 0xbad0c0deULL;					\
	void *a_ = NULL;						\
									\
	ASSERT_EQ((sig_), mdb_word((p), (op), &v_, &a_));		\
	ASSERT_EQ((void *)(p), a_);					\
} while (0)

/* absent: a read gets SIGBUS at exactly @p */
#define ASSERT_BUS(p)		ASSERT_FAULT((p), L4T_READ, SIGBUS)
/* read-only: a write gets SIGSEGV at exactly @p (and changes nothing) */
#define ASSERT_RO(p)		ASSERT_FAULT((p), L4T_WRITE, SIGSEGV)

#define ASSERT_WORD(p, want) do {					\
	__u64 v_ = 0;							\
									\
	ASSERT_EQ(0, mdb_word((p), L4T_READ, &v_, NULL));		\
	ASSERT_EQ((__u64)(want), v_);					\
} while (0)

#define ASSERT_PUT(p, val) do {						\
	__u64 v_ = (val);						\
									\
	ASSERT_EQ(0, mdb_word((p), L4T_WRITE, &v_, NULL));		\
} while (0)

/* ------------------------------------------------------------------ */
/* Map and unmap                                                       */
/* ------------------------------------------------------------------ */

static int mdb_map(int dst, int src, __u64 hot, bool grant, __u64 snd,
		   __u64 rcv, struct l4_map *m)
{
	struct l4_map tmp;

	if (!m)
		m = &tmp;
	memset(m, 0, sizeof(*m));
	m->src_fd = src;
	m->item.control = L4_MAP_ITEM(hot, grant);
	m->item.fpage = snd;
	m->rcv_fpage = rcv;
	return ioctl(dst, L4_IOC_MAP, m);
}

#define ASSERT_MAP(dst, src, hot, grant, snd, rcv, want_dst, want_pages) do { \
	struct l4_map m_;						\
									\
	ASSERT_EQ(0, mdb_map((dst), (src), (hot), (grant), (snd), (rcv), &m_)) \
		TH_LOG("map: %s", strerror(errno));			\
	ASSERT_EQ((__u64)(want_dst), m_.dst_addr);			\
	ASSERT_EQ((__u64)(want_pages), m_.pages);			\
	ASSERT_EQ(0ULL, m_.reserved[0] | m_.reserved[1] | m_.reserved[2]); \
} while (0)

/* one page: @src's address @a to @dst's address @b */
#define MAP1(dst, src, a, b, rights)					\
	ASSERT_MAP((dst), (src), (b), false, L4_FPAGE((a), 12, (rights)), WHOLE, (b), 1)
#define GRANT1(dst, src, a, b, rights)					\
	ASSERT_MAP((dst), (src), (b), true, L4_FPAGE((a), 12, (rights)), WHOLE, (b), 1)

/* A map that must fail with @err */
#define ASSERT_MAP_ERR(err, dst, src, hot, grant, snd, rcv) do {	\
	ASSERT_EQ(-1, mdb_map((dst), (src), (hot), (grant), (snd), (rcv), NULL)); \
	ASSERT_EQ((err), errno);					\
} while (0)

static int mdb_unmap(int space, __u64 fpage, __u32 flags, __u64 *revoked)
{
	struct l4_unmap u = { .fpage = fpage, .flags = flags };
	int ret;

	ret = ioctl(space, L4_IOC_UNMAP, &u);
	if (revoked)
		*revoked = u.revoked;
	return ret;
}

#define ASSERT_UNMAP(space, fpage, flags, want) do {			\
	__u64 r_ = ~0ULL;						\
									\
	ASSERT_EQ(0, mdb_unmap((space), (fpage), (flags), &r_))		\
		TH_LOG("unmap: %s", strerror(errno));			\
	ASSERT_EQ((__u64)(want), r_);					\
} while (0)

static int mdb_space(int dev, size_t pages, __u32 flags, char **win)
{
	return l4t_space_window(dev, pages, 0, flags, win);
}

static __u64 mdb_frames(int space)
{
	struct l4_space_info info;

	if (l4t_info(space, &info))
		return ~0ULL;
	return info.frames;
}

/* The root of a crossed test: a space of the variant's kind, opened first. */
static int mdb_root(struct __test_metadata *_metadata, int dev,
		    const struct l4f_kind *k, size_t pages, struct l4f_root *root,
		    char **win)
{
	l4f_root_open(_metadata, dev, k, pages, root);
	*win = root->win;
	return root->fd;
}

#define ROOT(root, pages, win)						\
	mdb_root(_metadata, self->dev, variant->kind, (pages), (root), (win))
/* the flags of the spaces a crossed test maps into */
#define CHILD		(variant->kind->child_flags)

/*
 * Spaces of @pages pages with @flags and a window each: pairs of (int *fd,
 * char **win), ended by NULL.
 */
static void mdb_spaces(struct __test_metadata *_metadata, int dev, size_t pages,
		       __u32 flags, ...)
{
	va_list ap;
	int *fd;

	va_start(ap, flags);
	while ((fd = va_arg(ap, int *))) {
		char **win = va_arg(ap, char **);

		*fd = mdb_space(dev, pages, flags, win);
		if (*fd < 0)
			break;
	}
	va_end(ap);
	ASSERT_TRUE(fd == NULL) TH_LOG("space: %s", strerror(errno));
}

#define SPACES(pages, flags, ...)					\
	mdb_spaces(_metadata, self->dev, (pages), (flags), __VA_ARGS__, NULL)

/* The operation counters moved by exactly these amounts since @s0. */
#define ASSERT_OPS(dev, s0, d_maps, d_grants, d_unmaps, d_revoked) do {	\
	struct l4_stats s_;						\
									\
	ASSERT_EQ(0, l4t_stats((dev), &s_));				\
	ASSERT_EQ((s0)->maps + (d_maps), s_.maps);			\
	ASSERT_EQ((s0)->grants + (d_grants), s_.grants);		\
	ASSERT_EQ((s0)->unmaps + (d_unmaps), s_.unmaps);		\
	ASSERT_EQ((s0)->revoked + (d_revoked), s_.revoked);		\
} while (0)

#define ASSERT_SPACE_OPS(space, maps_, grants_, unmaps_, revoked_) do {	\
	struct l4_space_info i_;					\
	ASSERT_EQ(0, l4t_info((space), &i_));				\
	EXPECT_EQ((__u64)(maps_), i_.maps);				\
	EXPECT_EQ((__u64)(grants_), i_.grants);				\
	EXPECT_EQ((__u64)(unmaps_), i_.unmaps);				\
	EXPECT_EQ((__u64)(revoked_), i_.revoked);			\
	EXPECT_EQ(0ULL, i_.superpages);					\
} while (0)

static double mdb_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------------ */
/* The flexpage offset rule                                            */
/* ------------------------------------------------------------------ */

#define OFS_A_PAGES	256		/* 1 MiB, sigma0, all filled */
#define OFS_B_PAGES	16384		/* 64 MiB, no sigma0 */

L4T_FIXTURE(offset);

FIXTURE_VARIANT(offset) {
	__u64 snd;		/* send fpage, with rights */
	__u64 hot;		/* send base */
	__u64 rcv;		/* receive window */
	bool grant;
	__u64 src;		/* expected: first source address used */
	__u64 dst;		/* expected: dst_addr */
	__u64 pages;		/* expected: pages */
};

/*
 * One row a case: name, send fpage, send base (hot spot), receive window,
 * grant; expected first source address, dst_addr, pages.
 */
#define OFS(name, snd_, hot_, rcv_, grant_, src_, dst_, pages_)		\
	FIXTURE_VARIANT_ADD(offset, name) {				\
		.snd = (snd_), .hot = (hot_), .rcv = (rcv_), .grant = (grant_), \
		.src = (src_), .dst = (dst_), .pages = (pages_),	\
	}

/* S < R, whole space: lands at the hot spot */
OFS(page_into_whole, L4_FPAGE(0x3000, 12, RW), 0x5000, WHOLE, false, 0x3000, 0x5000, 1);
/* 0x100000 + ((0x345000 mod 2^20) & ~(2^14 - 1)) */
OFS(order14_into_1m, L4_FPAGE(0x8000, 14, RW), 0x345000, L4_FPAGE(0x100000, 20, 0), false, 0x8000, 0x144000, 4);
/* S > R: the window picks A's 0x6000..0x7fff */
OFS(larger_than_rcv, L4_FPAGE(0, 16, R_), 0x6000, L4_FPAGE(0x100000, 13, 0), false, 0x6000, 0x100000, 2);
OFS(equal_orders, L4_FPAGE(0x10000, 16, RW), 0x12345000, L4_FPAGE(0x30000, 16, 0), false, 0x10000, 0x30000, 16);
OFS(whole_hot_rounded_down, L4_FPAGE(0x20000, 16, RW), 0x2bcd000, WHOLE, false, 0x20000, 0x2bc0000, 16);
/* 0x40000 + ((0x7a000 mod 2^18) & ~(2^15 - 1)) = 0x78000 */
OFS(rcv_selects_middle, L4_FPAGE(0x40000, 18, RW), 0x7a000, L4_FPAGE(0x8000, 15, 0), false, 0x78000, 0x8000, 8);
/* 0x200000 + (0xffff3000 mod 2^21) */
OFS(hot_mod_rcv, L4_FPAGE(0x1000, 12, R_), 0xffff3000, L4_FPAGE(0x200000, 21, 0), false, 0x1000, 0x3f3000, 1);
/* receive-window rights are ignored */
OFS(rcv_rights_ignored, L4_FPAGE(0x4000, 14, RW), 0, L4_FPAGE(0x10000, 14, L4_FPAGE_RWX), false, 0x4000, 0x10000, 4);
OFS(whole_a_into_whole_b, L4_FPAGE(0, 20, RW), 0x3000000, WHOLE, false, 0, 0x3000000, 256);
/* 0x2000000 + (0x2d000 & ~(2^15 - 1)) */
OFS(grant_into_window, L4_FPAGE(0x80000, 15, RW), 0x2d000, L4_FPAGE(0x2000000, 22, 0), true, 0x80000, 0x2028000, 8);
OFS(grant_larger_than_rcv, L4_FPAGE(0, 20, R_), 0xf3000, L4_FPAGE(0x5000, 12, 0), true, 0xf3000, 0x5000, 1);

TEST_F(offset, rule)
{
	__u64 len = variant->pages * PG, end = variant->dst + len;
	struct l4_stats s0;
	char *aw, *bw;
	int a, b;

	SPACES(OFS_A_PAGES, SIGMA0, &a, &aw);
	SPACES(OFS_B_PAGES, 0, &b, &bw);
	l4t_fill(aw, 0, OFS_A_PAGES * PG, 1);
	ASSERT_EQ(0, l4t_stats(self->dev, &s0));

	ASSERT_MAP(b, a, variant->hot, variant->grant, variant->snd,
		   variant->rcv, variant->dst, variant->pages);
	ASSERT_OPS(self->dev, &s0, variant->grant ? 0 : variant->pages,
		   variant->grant ? variant->pages : 0, 0, 0);
	ASSERT_EQ(variant->pages, l4t_nodes(b));
	ASSERT_EQ(variant->grant ? OFS_A_PAGES - variant->pages : OFS_A_PAGES,
		  l4t_nodes(a));

	/* exactly the expected range arrived, nothing next to it */
	ASSERT_PAGES(bw + variant->dst, variant->src, variant->pages, 1);
	if (variant->dst)
		ASSERT_BUS(bw + variant->dst - PG);
	if (end < OFS_B_PAGES * PG)
		ASSERT_BUS(bw + end);

	if (variant->grant) {
		/* A's slots are empty now: sigma0 hands out fresh zero pages */
		ASSERT_EQ(-1L, mdb_check_zero(aw + variant->src, len));
		ASSERT_EQ(OFS_A_PAGES - variant->pages + variant->pages,
			  mdb_frames(a));
		ASSERT_EQ(variant->pages, mdb_frames(b));
	} else {
		ASSERT_PAGES(aw + variant->src, variant->src, variant->pages, 1);
		ASSERT_EQ(0ULL, mdb_frames(b));
	}

	if (L4_FPAGE_RIGHTS(variant->snd) & W_) {
		char *last = bw + end - PG + 8;

		ASSERT_PUT(last, 0x5151);
		if (!variant->grant)
			ASSERT_WORD(aw + variant->src + len - PG + 8, 0x5151);
		ASSERT_WORD(last, 0x5151);
	} else {
		ASSERT_RO(bw + variant->dst);
		ASSERT_RO(bw + end - PG);
		ASSERT_PAGES(bw + variant->dst, variant->src, variant->pages, 1);
	}
}

/* ------------------------------------------------------------------ */
/* Multi-MiB flexpages, with holes                                     */
/* ------------------------------------------------------------------ */

L4T_FIXTURE(bigfpage);

FIXTURE_VARIANT(bigfpage) {
	unsigned int stride;	/* every stride-th page of A is present */
};

FIXTURE_VARIANT_ADD(bigfpage, all)	{ .stride = 1 };
FIXTURE_VARIANT_ADD(bigfpage, every3rd)	{ .stride = 3 };
FIXTURE_VARIANT_ADD(bigfpage, two)	{ .stride = 1000 };
FIXTURE_VARIANT_ADD(bigfpage, one)	{ .stride = 1024 };

/* A 4 MiB fpage (order 22) at A 0x400000 mapped whole to B 0xc00000. */
TEST_F(bigfpage, order22)
{
	unsigned int i, n = 0, s = variant->stride;
	char *aw, *bw;
	int a, b;

	SPACES(2048, SIGMA0, &a, &aw);
	SPACES(4096, 0, &b, &bw);
	for (i = 0; i < 1024; i += s, n++)
		l4t_fill(aw + 0x400000 + i * PG, 0x400000 + i * PG, PG, 2);
	ASSERT_EQ((__u64)n, mdb_frames(a));

	ASSERT_MAP(b, a, 0xc00000, false, L4_FPAGE(0x400000, 22, RW), WHOLE,
		   0xc00000, n);
	ASSERT_EQ((__u64)n, l4t_nodes(b));
	for (i = 0; i < 1024; i++) {
		char *p = bw + 0xc00000 + i * PG;

		if (i % s == 0)
			ASSERT_PAGES(p, 0x400000 + i * PG, 1, 2);
		else
			ASSERT_BUS(p);
	}
	/* the holes stayed holes in A */
	ASSERT_EQ((__u64)n, l4t_nodes(a));

	/* order 23 into a 4 MiB receive window: the hot spot picks the half */
	ASSERT_UNMAP(a, L4_FPAGE(0, 23, R_), 0, n);
	ASSERT_EQ(0ULL, l4t_nodes(b));
	ASSERT_BUS(bw + 0xc00000);
	ASSERT_MAP(b, a, 0x400000, false, L4_FPAGE(0, 23, R_),
		   L4_FPAGE(0, 22, 0), 0, n);
	ASSERT_PAGES(bw, 0x400000, 1, 2);
	ASSERT_RO(bw);
	ASSERT_UNMAP(a, L4_FPAGE(0x400000, 22, R_), ALL, 2 * n);
	ASSERT_EQ(0ULL, mdb_frames(a));
	ASSERT_BUS(bw);
}

/* ------------------------------------------------------------------ */
/* Map, rights, grant                                                  */
/* ------------------------------------------------------------------ */

TEST_F(mdb, write_both_ways)
{
	struct l4f_root root;
	char *aw, *bw;
	int a, b;

	a = ROOT(&root, 16, &aw);
	SPACES(16, CHILD, &b, &bw);
	l4t_fill(aw + 2 * PG, 2 * PG, PG, 1);
	MAP1(b, a, 2 * PG, 7 * PG, RW);
	ASSERT_PAGES(bw + 7 * PG, 2 * PG, 1, 1);

	ASSERT_PUT(bw + 7 * PG + 8, 0x1111);
	ASSERT_WORD(aw + 2 * PG + 8, 0x1111);
	ASSERT_PUT(aw + 2 * PG + 16, 0x2222);
	ASSERT_WORD(bw + 7 * PG + 16, 0x2222);
	ASSERT_WORD(bw + 7 * PG, l4t_word(1, 2 * PG));
	ASSERT_BUS(bw + 6 * PG);
	ASSERT_BUS(bw + 8 * PG);
	ASSERT_EQ(1ULL, l4t_nodes(b));
	ASSERT_EQ(0ULL, mdb_frames(b));
}

TEST_F(mdb, readonly_then_upgrade)
{
	struct l4f_root root;
	char *aw, *bw, *cw;
	int a, b, c;

	a = ROOT(&root, 16, &aw);
	SPACES(16, CHILD, &b, &bw, &c, &cw);
	l4t_fill(aw + PG, PG, PG, 2);

	MAP1(b, a, PG, 3 * PG, R_);
	ASSERT_PAGES(bw + 3 * PG, PG, 1, 2);
	ASSERT_RO(bw + 3 * PG);
	ASSERT_RO(bw + 3 * PG + 8);
	ASSERT_PAGES(bw + 3 * PG, PG, 1, 2);
	/* the sender keeps W */
	ASSERT_PUT(aw + PG + 8, 0x77);
	ASSERT_WORD(bw + 3 * PG + 8, 0x77);
	MAP1(c, b, 3 * PG, 5 * PG, R_);

	/* the same map with W: an upgrade in place, C's child survives */
	MAP1(b, a, PG, 3 * PG, RW);
	ASSERT_EQ(1ULL, l4t_nodes(b));
	ASSERT_PUT(bw + 3 * PG + 8, 0x88);
	ASSERT_WORD(aw + PG + 8, 0x88);
	ASSERT_WORD(cw + 5 * PG + 8, 0x88);
	ASSERT_RO(cw + 5 * PG);
}

TEST_F(mdb, rights_never_grow)
{
	struct l4f_root root;
	char *aw, *bw, *cw, *dw;
	int a, b, c, d;

	a = ROOT(&root, 4, &aw);
	SPACES(4, CHILD, &b, &bw, &c, &cw, &d, &dw);
	l4t_fill(aw, 0, PG, 3);

	MAP1(b, a, 0, 0, R_);
	/* asking for RW from an R-only entry gives R */
	MAP1(c, b, 0, PG, RW);
	ASSERT_PAGES(cw + PG, 0, 1, 3);
	ASSERT_RO(cw + PG);
	ASSERT_RO(bw);
	/* RX from RW: readable, not writable */
	MAP1(d, a, 0, 2 * PG, L4_FPAGE_RX);
	ASSERT_PAGES(dw + 2 * PG, 0, 1, 3);
	ASSERT_RO(dw + 2 * PG);

	/* B gets W; C's entry was clamped to R and stays so */
	MAP1(b, a, 0, 0, RW);
	ASSERT_PUT(bw + 8, 0x99);
	ASSERT_WORD(aw + 8, 0x99);
	ASSERT_RO(cw + PG);
	ASSERT_WORD(cw + PG + 8, 0x99);
	/* now C can get W from B */
	MAP1(c, b, 0, PG, RW);
	ASSERT_PUT(cw + PG + 16, 0xaa);
	ASSERT_WORD(aw + 16, 0xaa);
	ASSERT_WORD(dw + 2 * PG + 16, 0xaa);
	ASSERT_EQ(1ULL, l4t_nodes(c));
}

/*
 * R (sigma0) maps a page to A (no sigma0) and to C; A maps it on to D and
 * then grants it to B: A's entry is gone, B's entry is still R's child and
 * D's parent, C's alias is untouched.
 */
TEST_F(mdb, grant_moves_entry)
{
	const struct l4f_kind *k = variant->kind;
	char *rw, *aw, *bw, *cw, *dw;
	struct l4f_root root;
	int r, a, b, c, d;
	struct l4_stats s0;

	r = ROOT(&root, 16, &rw);
	SPACES(16, CHILD, &a, &aw, &b, &bw, &c, &cw, &d, &dw);
	l4t_fill(rw + PG, PG, PG, 3);
	ASSERT_EQ(0, l4t_stats(self->dev, &s0));

	MAP1(a, r, PG, PG, RW);
	MAP1(c, r, PG, 3 * PG, RW);
	MAP1(d, a, PG, 4 * PG, RW);
	ASSERT_PAGES(aw + PG, PG, 1, 3);	/* A has a PTE to lose */
	GRANT1(b, a, PG, 2 * PG, RW);
	ASSERT_OPS(self->dev, &s0, 3, 1, 0, 0);
	ASSERT_LIVE(&self->before, &s0, 5 + L4F_ROOT_EXTRA_SPACES(k), 1,
		    1 + L4F_ROOT_EXTRA_NODES(k, 1), 5 + L4F_ROOT_EXTRA_WINDOWS(k));

	ASSERT_BUS(aw + PG);
	ASSERT_EQ(0ULL, l4t_nodes(a));
	ASSERT_EQ(1ULL, l4t_nodes(b));
	ASSERT_PAGES(bw + 2 * PG, PG, 1, 3);
	ASSERT_PAGES(cw + 3 * PG, PG, 1, 3);
	ASSERT_PAGES(dw + 4 * PG, PG, 1, 3);

	ASSERT_PUT(bw + 2 * PG + 8, 0xb0b);
	ASSERT_WORD(cw + 3 * PG + 8, 0xb0b);
	ASSERT_WORD(dw + 4 * PG + 8, 0xb0b);
	ASSERT_WORD(rw + PG + 8, 0xb0b);
	ASSERT_PUT(cw + 3 * PG + 16, 0xc0c);
	ASSERT_WORD(bw + 2 * PG + 16, 0xc0c);

	/* A's old slot is no source any more */
	ASSERT_MAP_ERR(ENOENT, d, a, 5 * PG, false, L4_FPAGE(PG, 12, RW), WHOLE);

	/* the granted entry kept its child D ... */
	ASSERT_UNMAP(b, L4_FPAGE(2 * PG, 12, R_), 0, 1);
	ASSERT_BUS(dw + 4 * PG);
	ASSERT_WORD(bw + 2 * PG + 8, 0xb0b);
	/* ... and its parent R */
	ASSERT_UNMAP(r, L4_FPAGE(PG, 12, R_), 0, 2);
	ASSERT_BUS(bw + 2 * PG);
	ASSERT_BUS(cw + 3 * PG);
	ASSERT_WORD(rw + PG + 16, 0xc0c);
}

/* Granting a sigma0 root moves the frame and its charge. */
TEST_F(mapdb, grant_root)
{
	struct l4_stats st;
	char *rw, *bw;
	int r, b;

	SPACES(4, SIGMA0, &r, &rw);
	SPACES(4, 0, &b, &bw);
	l4t_fill(rw, 0, PG, 4);
	ASSERT_EQ(1ULL, mdb_frames(r));

	GRANT1(b, r, 0, 3 * PG, RW);
	ASSERT_EQ(0ULL, mdb_frames(r));
	ASSERT_EQ(1ULL, mdb_frames(b));
	ASSERT_PAGES(bw + 3 * PG, 0, 1, 4);
	/* R's slot is empty: a new zero frame */
	ASSERT_EQ(-1L, mdb_check_zero(rw, PG));
	ASSERT_EQ(1ULL, mdb_frames(r));

	/* B holds the root now: R going away does not touch it */
	ASSERT_EQ(0, munmap(rw, 4 * PG));
	ASSERT_EQ(0, close(r));
	ASSERT_PAGES(bw + 3 * PG, 0, 1, 4);
	ASSERT_EQ(0, l4t_stats(self->dev, &st));
	ASSERT_LIVE(&self->before, &st, 1, 1, 1, 1);
}

/* ------------------------------------------------------------------ */
/* Unmap                                                               */
/* ------------------------------------------------------------------ */

L4T_FIXTURE(chain);

FIXTURE_VARIANT(chain) {
	int n;			/* spaces below R */
	__u32 flags;
	const struct l4f_kind *kind;
};

/* chain lengths crossed with the space kinds: three_sigma0, ... */
#define CHAIN_ROWS(a, k, ...)						\
	FIXTURE_VARIANT_ADD(chain, three_##k)	{ .n = 3, .kind = &l4f_kind_##k }; \
	FIXTURE_VARIANT_ADD(chain, four_##k)	{ .n = 4, .kind = &l4f_kind_##k }; \
	FIXTURE_VARIANT_ADD(chain, seven_##k)	{ .n = 7, .kind = &l4f_kind_##k }; \
	FIXTURE_VARIANT_ADD(chain, four_all_##k) {			\
		.n = 4, .flags = ALL, .kind = &l4f_kind_##k };
L4F_KINDS(CHAIN_ROWS, _)

/* R -> S1 -> ... -> Sn, one page; R unmaps it. */
TEST_F(chain, recursive)
{
	const struct l4f_kind *k = variant->kind;
	int fd[8], i, n = variant->n;
	bool all = variant->flags & ALL;
	struct l4f_root root;
	__u64 at[8];
	char *w[8];
	struct l4_stats s0, st;

	fd[0] = ROOT(&root, 16, &w[0]);
	for (i = 0; i <= n; i++) {
		if (i)
			SPACES(16, CHILD, &fd[i], &w[i]);
		at[i] = ((5 + 3 * i) % 16) * PG;
	}
	l4t_fill(w[0] + at[0], at[0], PG, 4);
	for (i = 1; i <= n; i++)
		MAP1(fd[i], fd[i - 1], at[i - 1], at[i], RW);
	for (i = 1; i <= n; i++)
		ASSERT_PAGES(w[i] + at[i], at[0], 1, 4);
	ASSERT_PUT(w[n] + at[n] + 8, 0xe0e);
	ASSERT_WORD(w[0] + at[0] + 8, 0xe0e);
	ASSERT_EQ(0, l4t_stats(self->dev, &s0));

	ASSERT_UNMAP(fd[0], L4_FPAGE(at[0], 12, R_), variant->flags, n + all);
	ASSERT_OPS(self->dev, &s0, 0, 0, 1, n + all);
	ASSERT_EQ(0, l4t_stats(self->dev, &st));
	ASSERT_EQ(s0.nodes - n - all, st.nodes);
	ASSERT_EQ(s0.frames - (all && k->root_frees), st.frames);
	for (i = 1; i <= n; i++) {
		ASSERT_BUS(w[i] + at[i]);
		ASSERT_EQ(0ULL, l4t_nodes(fd[i]));
	}
	/* a paged root's pager maps the same frame again */
	if (all && k->refault == L4F_REFAULT_ZERO) {
		ASSERT_EQ(-1L, mdb_check_zero(w[0] + at[0], PG));
	} else {
		ASSERT_WORD(w[0] + at[0] + 8, 0xe0e);
		ASSERT_EQ(-1L, mdb_check(w[0] + at[0] + 16, at[0] + 16,
					 PG - 16, 4));
	}
	/* nothing left to revoke */
	ASSERT_UNMAP(fd[0], L4_FPAGE(at[0], 12, R_), 0, 0);
}

/* The windows of another process lose the pages too. */
TEST_F(mdb, unmap_across_processes)
{
	int r, a, b, to_child[2], to_parent[2];
	struct l4f_root root;
	char *rw, *aw, *bw;
	pid_t pid;

	r = ROOT(&root, 4, &rw);
	SPACES(4, CHILD, &a, &aw, &b, &bw);
	l4t_fill(rw, 0, PG, 5);
	MAP1(a, r, 0, PG, RW);
	MAP1(b, a, PG, 2 * PG, RW);
	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		char *ca = l4t_map(a, 0, 4 * PG), *cb = l4t_map(b, 0, 4 * PG);
		char *probe[4] = { aw + PG, bw + 2 * PG, ca + PG, cb + 2 * PG };
		__u64 v = 0x4242;
		void *addr;
		int i;

		CHILD_CHECK(ca != MAP_FAILED && cb != MAP_FAILED);
		/* writable PTEs in this process */
		for (i = 0; i < 4; i++) {
			CHILD_CHECK(mdb_check(probe[i] + 16, 16, PG - 16, 5) == -1);
			CHILD_CHECK(mdb_word(probe[i] + 8, L4T_WRITE, &v, NULL) == 0);
		}
		CHILD_CHECK(!l4t_post(to_parent[1]));
		CHILD_CHECK(!l4t_pend(to_child[0]));
		for (i = 0; i < 4; i++) {
			CHILD_CHECK(mdb_word(probe[i], L4T_READ, &v, &addr) == SIGBUS);
			CHILD_CHECK(addr == probe[i]);
		}
		_exit(0);
	}
	ASSERT_EQ(0, l4t_pend(to_parent[0]));
	ASSERT_WORD(rw + 8, 0x4242);
	ASSERT_UNMAP(r, L4_FPAGE(0, 12, R_), 0, 2);
	ASSERT_EQ(0, l4t_post(to_child[1]));
	ASSERT_EQ(0, l4t_wait(pid));
	ASSERT_BUS(aw + PG);
	ASSERT_BUS(bw + 2 * PG);
	ASSERT_WORD(rw + 8, 0x4242);
}

/* Revoking W downgrades the subtree; ALL_SPACES includes the caller. */
TEST_F(mdb, unmap_write_only)
{
	const struct l4f_kind *k = variant->kind;
	char *rw, *aw, *bw, *cw, *dw;
	struct l4f_root root;
	int r, a, b, c, d;

	r = ROOT(&root, 4, &rw);
	SPACES(4, CHILD, &a, &aw, &b, &bw, &c, &cw, &d, &dw);
	l4t_fill(rw, 0, PG, 5);
	MAP1(a, r, 0, PG, RW);
	MAP1(b, a, PG, 2 * PG, RW);
	MAP1(c, b, 2 * PG, 3 * PG, RW);
	/* writable PTEs everywhere first */
	ASSERT_PUT(aw + PG + 8, 1);
	ASSERT_PUT(bw + 2 * PG + 8, 2);
	ASSERT_PUT(cw + 3 * PG + 8, 3);
	ASSERT_WORD(rw + 8, 3);

	/* from the middle: B and C lose W, A keeps it */
	ASSERT_UNMAP(a, L4_FPAGE(PG, 12, W_), 0, 2);
	ASSERT_RO(bw + 2 * PG);
	ASSERT_RO(cw + 3 * PG + 8);
	ASSERT_PUT(aw + PG + 8, 4);
	ASSERT_WORD(bw + 2 * PG + 8, 4);
	ASSERT_WORD(cw + 3 * PG + 8, 4);

	/* from the root: only A still had W */
	ASSERT_UNMAP(r, L4_FPAGE(0, 12, W_), 0, 1);
	ASSERT_RO(aw + PG + 8);
	ASSERT_RO(bw + 2 * PG + 8);
	ASSERT_RO(cw + 3 * PG + 8);
	ASSERT_PUT(rw + 8, 5);		/* R itself stays writable */
	ASSERT_WORD(aw + PG + 8, 5);
	ASSERT_WORD(cw + 3 * PG + 8, 5);
	ASSERT_EQ(-1L, mdb_check(cw + 3 * PG + 16, 16, PG - 16, 5));
	ASSERT_EQ(-1L, mdb_check(aw + PG + 16, 16, PG - 16, 5));
	ASSERT_UNMAP(r, L4_FPAGE(0, 12, W_), 0, 0);
	/* no child has X; the root has RWX (sigma0's, or its pager's) */
	ASSERT_UNMAP(r, L4_FPAGE(0, 12, L4_FPAGE_X), 0, 0);
	ASSERT_UNMAP(r, L4_FPAGE(0, 12, L4_FPAGE_X), ALL, 1);

	/*
	 * with ALL_SPACES R's own entry becomes read-only too: a write is
	 * refused; in a paged root it is a rights fault that its pager
	 * answers (W again), so revoke once more after it
	 */
	ASSERT_UNMAP(r, L4_FPAGE(0, 12, W_), ALL, 1);
	if (k->paged) {
		int f0 = *root.faults;

		ASSERT_PUT(rw + 8, 5);
		ASSERT_EQ(f0 + 1, *root.faults);
		ASSERT_UNMAP(r, L4_FPAGE(0, 12, W_), ALL, 1);
	} else {
		ASSERT_RO(rw + 8);
	}
	ASSERT_WORD(rw + 8, 5);
	ASSERT_EQ(-1L, mdb_check(rw + 16, 16, PG - 16, 5));
	/* and W cannot come back from there */
	MAP1(d, r, 0, 0, RW);
	ASSERT_RO(dw);
	MAP1(a, r, 0, PG, RW);
	ASSERT_RO(aw + PG);
	ASSERT_EQ(1ULL, l4t_nodes(a));
	ASSERT_WORD(cw + 3 * PG + 8, 5);	/* the upgrade kept A's subtree */
}

/*
 * A writer thread stores a counter into a page while W is granted and
 * revoked under it, again and again. A store refused (SIGSEGV: W gone, no
 * pager) parks the writer in its handler until W is back.
 */
static volatile sig_atomic_t race_go, race_parked, race_stop;

static void race_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	race_parked = 1;
	while (!race_go)
		;
	race_parked = 0;
}

static void *race_writer(void *arg)
{
	volatile __u64 *p = arg;
	__u64 v;

	for (v = 1; !race_stop; v++)
		*p = v;
	return NULL;
}

#define RACE_ROUNDS	2000

/*
 * No store lands after an unmap of W has returned, with a writer storing
 * all the time: half the rounds revoke after the writer's stores landed,
 * half while it is still coming back from its handler to take its write
 * fault (the revocation swept over that by a growing delay). After the
 * unmap the value must stay put until the writer is parked. (The windows
 * the fault path's page-lock protocol closes are far narrower than what
 * this can hit reliably; it checks the whole, not those.)
 */
TEST_F_TIMEOUT(mapdb, revoke_write_races_writer, 120)
{
	struct sigaction sa = { .sa_sigaction = race_segv, .sa_flags = SA_SIGINFO };
	struct sigaction old;
	volatile __u64 *src;
	char *rw, *aw;
	pthread_t th;
	__u64 v1, v0;
	int r, a, i, d;

	SPACES(1, SIGMA0, &r, &rw);
	SPACES(1, 0, &a, &aw);
	src = (volatile __u64 *)(rw + 8);
	*src = 0;
	ASSERT_EQ(0, sigaction(SIGSEGV, &sa, &old));
	race_go = 0;
	race_parked = 0;
	race_stop = 0;
	MAP1(a, r, 0, 0, RW);	/* an absent page would be a SIGBUS */
	ASSERT_EQ(0, pthread_create(&th, NULL, race_writer, aw + 8));

	for (i = 0; i < RACE_ROUNDS; i++) {
		if (i)
			MAP1(a, r, 0, 0, RW);
		v0 = *src;
		race_go = 1;
		/* the writer is out of its handler (or never was in it) */
		while (race_parked)
			;
		if (i & 1) {
			/* let stores land first */
			while (*src == v0)
				;
		} else {
			/* sweep the revocation through the writer's fault */
			for (d = 0; d < (i / 2 % 128) * 16; d++)
				__asm__ volatile("" ::: "memory");
		}
		race_go = 0;
		ASSERT_UNMAP(r, L4_FPAGE(0, 12, W_), 0, 1);
		v1 = *src;
		/* nothing may land from here until the writer parks */
		while (!race_parked)
			ASSERT_EQ(v1, *src) TH_LOG("round %d: a store after the unmap", i);
		ASSERT_EQ(v1, *src) TH_LOG("round %d: a store after the unmap", i);
	}
	race_stop = 1;
	MAP1(a, r, 0, 0, RW);
	race_go = 1;
	ASSERT_EQ(0, pthread_join(th, NULL));
	ASSERT_EQ(0, sigaction(SIGSEGV, &old, NULL));
	/* the writer's last store went through the window into the source */
	ASSERT_NE(0ULL, *src);
	ASSERT_EQ(*src, *(volatile __u64 *)(aw + 8));
	ASSERT_EQ(1ULL, l4t_nodes(a));
}

/* R revoked with ALL_SPACES: in a non-sigma0 intermediary the page is gone. */
TEST_F(mdb, unmap_all_spaces_read)
{
	const struct l4f_kind *k = variant->kind;
	struct l4_stats st, s0;
	struct l4f_root root;
	char *rw, *aw, *bw;
	int r, a, b;

	r = ROOT(&root, 4, &rw);
	SPACES(4, CHILD, &a, &aw, &b, &bw);
	l4t_fill(rw, 0, PG, 6);
	MAP1(a, r, 0, PG, RW);
	MAP1(b, a, PG, 2 * PG, RW);
	ASSERT_PAGES(bw + 2 * PG, 0, 1, 6);

	ASSERT_UNMAP(a, L4_FPAGE(PG, 12, R_), 0, 1);
	ASSERT_BUS(bw + 2 * PG);
	ASSERT_PAGES(aw + PG, 0, 1, 6);

	MAP1(b, a, PG, 2 * PG, RW);
	ASSERT_UNMAP(a, L4_FPAGE(PG, 12, R_), ALL, 2);
	ASSERT_BUS(aw + PG);
	ASSERT_BUS(bw + 2 * PG);
	ASSERT_PAGES(rw, 0, 1, 6);
	ASSERT_EQ(0ULL, l4t_nodes(a));

	/* at the root: the frame itself goes (a paged root's stays behind it) */
	ASSERT_EQ(0, l4t_stats(self->dev, &s0));
	ASSERT_UNMAP(r, L4_FPAGE(0, 12, R_), ALL, 1);
	ASSERT_EQ(0, l4t_stats(self->dev, &st));
	ASSERT_EQ(s0.frames - k->root_frees, st.frames);
	ASSERT_EQ(s0.frames_freed + k->root_frees, st.frames_freed);
	ASSERT_EQ(0ULL, l4t_nodes(r));
	if (k->refault == L4F_REFAULT_ZERO) {
		ASSERT_EQ(-1L, mdb_check_zero(rw, PG));
	} else {
		ASSERT_PAGES(rw, 0, 1, 6);
	}
}

/* A 64 KiB range with 3 present pages: exactly their subtrees count. */
TEST_F(mdb, unmap_holes)
{
	struct l4_stats s0, st;
	struct l4f_root root;
	char *rw, *aw, *bw;
	int r, a, b;

	r = ROOT(&root, 32, &rw);
	SPACES(128, CHILD, &a, &aw);
	SPACES(4, CHILD, &b, &bw);
	l4t_fill(rw + 16 * PG, 16 * PG, PG, 7);
	l4t_fill(rw + 21 * PG, 21 * PG, PG, 7);
	l4t_fill(rw + 31 * PG, 31 * PG, PG, 7);
	ASSERT_EQ(0, l4t_stats(self->dev, &s0));
	ASSERT_MAP(a, r, 0x40000, false, L4_FPAGE(0x10000, 16, RW), WHOLE,
		   0x40000, 3);
	ASSERT_PAGES(aw + 0x40000, 0x10000, 1, 7);
	ASSERT_BUS(aw + 0x41000);
	ASSERT_PAGES(aw + 0x45000, 0x15000, 1, 7);
	ASSERT_BUS(aw + 0x4e000);
	ASSERT_PAGES(aw + 0x4f000, 0x1f000, 1, 7);
	MAP1(b, a, 0x45000, PG, RW);

	ASSERT_UNMAP(r, L4_FPAGE(0x10000, 16, W_), 0, 4);
	ASSERT_RO(bw + PG);
	ASSERT_RO(aw + 0x4f000);
	ASSERT_UNMAP(r, L4_FPAGE(0x10000, 16, R_), ALL, 7);
	ASSERT_OPS(self->dev, &s0, 4, 0, 2, 11);
	ASSERT_EQ(0, l4t_stats(self->dev, &st));
	ASSERT_EQ(s0.frames - 3 * variant->kind->root_frees, st.frames);
	ASSERT_EQ(s0.nodes - 3, st.nodes);
	ASSERT_BUS(bw + PG);
	ASSERT_BUS(aw + 0x40000);
	ASSERT_UNMAP(r, L4_FPAGE(0x10000, 16, R_), ALL, 0);

	/* the whole space at once */
	l4t_fill(rw, 0, 2 * PG, 7);
	ASSERT_MAP(a, r, 0, false, L4_FPAGE(0, 13, RW), WHOLE, 0, 2);
	ASSERT_UNMAP(r, WHOLE | R_, 0, 2);
	ASSERT_UNMAP(r, WHOLE | R_, ALL, 2);
	ASSERT_EQ(0ULL, l4t_nodes(r));
}

/* ------------------------------------------------------------------ */
/* Revocation after fault-around                                       */
/* ------------------------------------------------------------------ */

#define FA		L4_SPACE_FAULT_AROUND
#define FA_BLOCK	L4_FAULT_AROUND_PAGES

/* The pages fault-around mapped into windows since @s0. */
static __u64 mdb_faultaround(int dev, const struct l4_stats *s0)
{
	struct l4_stats st;

	if (l4t_stats(dev, &st))
		return ~0ULL;
	return st.faultaround_pages - s0->faultaround_pages;
}

/*
 * The root's 16 pages (pattern 20) in A's second 16-page block, RW; a read
 * of the block's first page through @aw maps the other 15 by fault-around.
 */
static void mdb_fa_block(struct __test_metadata *_metadata, int dev, int a,
			 int r, char *rw, char *aw)
{
	struct l4_stats s0;

	l4t_fill(rw, 0, FA_BLOCK * PG, 20);
	ASSERT_MAP(a, r, FA_BLOCK * PG, false, L4_FPAGE(0, 16, RW), WHOLE,
		   FA_BLOCK * PG, FA_BLOCK);
	ASSERT_EQ(0, l4t_stats(dev, &s0));
	ASSERT_WORD(aw + FA_BLOCK * PG + 8, l4t_word(20, 8));
	ASSERT_EQ((__u64)(FA_BLOCK - 1), mdb_faultaround(dev, &s0));
}

/*
 * Neighbours that fault-around mapped lose their PTEs with their entries:
 * revoked with R, the next access is a SIGBUS at exactly its address (A
 * has no pager); revoked with W only, a write is a SIGSEGV and changes
 * nothing, while a neighbour that kept W takes the write. A later read
 * fault in the block runs fault-around again: the downgraded neighbour
 * comes back read-only, the revoked one not at all.
 */
TEST_F(mdb, fault_around_revoke_neighbour)
{
	struct l4f_root root;
	char *rw, *aw;
	int r, a;

	r = ROOT(&root, FA_BLOCK, &rw);
	SPACES(2 * FA_BLOCK, FA, &a, &aw);
	mdb_fa_block(_metadata, self->dev, a, r, rw, aw);
	/* page 22 gets a writable PTE of its own first */
	ASSERT_PUT(aw + 22 * PG + 8, 0x2222);
	ASSERT_WORD(rw + 6 * PG + 8, 0x2222);

	ASSERT_UNMAP(r, L4_FPAGE(5 * PG, 12, R_), 0, 1);
	ASSERT_UNMAP(r, L4_FPAGE(6 * PG, 12, W_), 0, 1);
	ASSERT_UNMAP(r, L4_FPAGE(7 * PG, 12, W_), 0, 1);
	ASSERT_EQ((__u64)(FA_BLOCK - 1), l4t_nodes(a));
	ASSERT_BUS(aw + 21 * PG);
	ASSERT_FAULT(aw + 21 * PG + 8, L4T_WRITE, SIGBUS);
	ASSERT_RO(aw + 22 * PG + 8);		/* had a writable PTE */
	ASSERT_RO(aw + 23 * PG);		/* had a fault-around one */
	ASSERT_WORD(aw + 22 * PG + 8, 0x2222);
	ASSERT_PAGES(aw + 23 * PG, 7 * PG, 1, 20);
	ASSERT_PAGES(aw + 20 * PG, 4 * PG, 1, 20);
	ASSERT_PUT(aw + 24 * PG + 8, 0x2424);	/* kept W */
	ASSERT_WORD(rw + 8 * PG + 8, 0x2424);

	/* page 21 again, read-only: its read fault maps the block around */
	MAP1(a, r, 5 * PG, 21 * PG, R_);
	ASSERT_PAGES(aw + 21 * PG, 5 * PG, 1, 20);
	ASSERT_RO(aw + 21 * PG);
	ASSERT_RO(aw + 22 * PG);
	ASSERT_RO(aw + 23 * PG + 16);
	ASSERT_WORD(aw + 22 * PG + 8, 0x2222);
	ASSERT_PAGES(aw + 23 * PG, 7 * PG, 1, 20);
	/* nothing beyond the block, and the revoked root page stays writable */
	ASSERT_BUS(aw + 15 * PG);
	ASSERT_PUT(rw + 6 * PG + 16, 0x6);
	ASSERT_WORD(aw + 22 * PG + 16, 0x6);
}

/*
 * The same across two windows of A in two processes (and a third: the
 * child's copy of the parent's): every window had the neighbours by
 * fault-around; after the revocation none of them keeps a stale PTE.
 */
TEST_F(mdb, fault_around_revoke_two_processes)
{
	int r, a, to_child[2], to_parent[2];
	struct l4f_root root;
	char *rw, *aw;
	pid_t pid;

	r = ROOT(&root, FA_BLOCK, &rw);
	SPACES(2 * FA_BLOCK, FA, &a, &aw);
	mdb_fa_block(_metadata, self->dev, a, r, rw, aw);
	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		char *cw = l4t_map(a, 0, 2 * FA_BLOCK * PG);
		char *win[2] = { cw, aw };
		struct l4_stats s0;
		__u64 v = 0;
		void *addr;
		int i;

		CHILD_CHECK(cw != MAP_FAILED);
		/* its own window faults around; the inherited one may have
		 * the parent's PTEs already */
		CHILD_CHECK(!l4t_stats(self->dev, &s0));
		CHILD_CHECK(mdb_word(cw + FA_BLOCK * PG, L4T_READ, &v, NULL) == 0);
		CHILD_CHECK(mdb_faultaround(self->dev, &s0) == FA_BLOCK - 1);
		CHILD_CHECK(mdb_word(aw + FA_BLOCK * PG, L4T_READ, &v, NULL) == 0);
		CHILD_CHECK(!l4t_post(to_parent[1]));
		CHILD_CHECK(!l4t_pend(to_child[0]));
		for (i = 0; i < 2; i++) {
			char *p = win[i];

			CHILD_CHECK(mdb_word(p + 21 * PG, L4T_READ, &v, &addr) == SIGBUS);
			CHILD_CHECK(addr == p + 21 * PG);
			v = 0xbad;
			CHILD_CHECK(mdb_word(p + 22 * PG + 8, L4T_WRITE, &v, &addr) == SIGSEGV);
			CHILD_CHECK(addr == p + 22 * PG + 8);
			CHILD_CHECK(mdb_check(p + 22 * PG, 6 * PG, PG, 20) == -1);
			CHILD_CHECK(mdb_check(p + 23 * PG, 7 * PG, PG, 20) == -1);
		}
		_exit(0);
	}
	ASSERT_EQ(0, l4t_pend(to_parent[0]));
	ASSERT_UNMAP(r, L4_FPAGE(5 * PG, 12, R_), 0, 1);
	ASSERT_UNMAP(r, L4_FPAGE(6 * PG, 12, W_), 0, 1);
	ASSERT_EQ(0, l4t_post(to_child[1]));
	ASSERT_EQ(0, l4t_wait(pid));
	ASSERT_BUS(aw + 21 * PG);
	ASSERT_RO(aw + 22 * PG + 8);
	ASSERT_PAGES(aw + 22 * PG, 6 * PG, 1, 20);
	ASSERT_PUT(aw + 23 * PG + 8, 0x2323);
	ASSERT_WORD(rw + 7 * PG + 8, 0x2323);
}

/* ------------------------------------------------------------------ */
/* Re-mapping, depth, cycles, destruction                              */
/* ------------------------------------------------------------------ */

TEST_F(mdb, remap_flushes_old)
{
	char *r1w, *r2w, *aw, *bw, *cw;
	struct l4f_root root1, root2;
	int r1, r2, a, b, c;
	struct l4_stats s0, st;

	r1 = ROOT(&root1, 4, &r1w);
	r2 = ROOT(&root2, 4, &r2w);
	SPACES(4, CHILD, &a, &aw, &b, &bw, &c, &cw);
	l4t_fill(r1w, 0, PG, 7);
	l4t_fill(r2w, 0, PG, 8);
	MAP1(a, r1, 0, PG, RW);
	MAP1(b, a, PG, 2 * PG, RW);
	MAP1(c, b, 2 * PG, 3 * PG, RW);
	ASSERT_PAGES(cw + 3 * PG, 0, 1, 7);
	ASSERT_EQ(0, l4t_stats(self->dev, &s0));

	/* another frame onto A's slot: the old entry and its subtree go */
	MAP1(a, r2, 0, PG, RW);
	ASSERT_OPS(self->dev, &s0, 1, 0, 0, 3);
	ASSERT_EQ(0, l4t_stats(self->dev, &st));
	ASSERT_EQ(s0.nodes - 2, st.nodes);
	ASSERT_PAGES(aw + PG, 0, 1, 8);
	ASSERT_BUS(bw + 2 * PG);
	ASSERT_BUS(cw + 3 * PG);
	ASSERT_PAGES(r1w, 0, 1, 7);

	/* a grandchild of the same frame is replaced, not upgraded */
	MAP1(b, a, PG, 2 * PG, R_);
	MAP1(c, b, 2 * PG, 3 * PG, R_);
	ASSERT_EQ(0, l4t_stats(self->dev, &s0));
	MAP1(b, r2, 0, 2 * PG, RW);
	ASSERT_OPS(self->dev, &s0, 1, 0, 0, 2);
	ASSERT_BUS(cw + 3 * PG);
	ASSERT_PUT(bw + 2 * PG + 8, 0x3131);
	ASSERT_WORD(r2w + 8, 0x3131);
	/* B's entry is R2's child now, not A's */
	ASSERT_UNMAP(a, L4_FPAGE(PG, 12, R_), 0, 0);
	ASSERT_WORD(bw + 2 * PG + 8, 0x3131);
	ASSERT_UNMAP(r2, L4_FPAGE(0, 12, R_), 0, 2);
	ASSERT_BUS(aw + PG);
	ASSERT_BUS(bw + 2 * PG);
}

/* A chain inside one space: depth 255 exists, 256 is EMLINK. */
TEST_F(mapdb, depth_limit)
{
	struct l4_map m;
	char *rw, *bw, *cw;
	int r, b, c, i;

	SPACES(260, SIGMA0, &r, &rw);
	SPACES(4, 0, &b, &bw, &c, &cw);
	l4t_fill(rw, 0, PG, 9);
	for (i = 0; i < 255; i++)
		MAP1(r, r, i * PG, (i + 1) * PG, RW);
	ASSERT_EQ(256ULL, l4t_nodes(r));
	ASSERT_EQ(1ULL, mdb_frames(r));
	ASSERT_PAGES(rw + 255 * PG, 0, 1, 9);

	ASSERT_EQ(-1, mdb_map(r, r, 256 * PG, false, L4_FPAGE(255 * PG, 12, RW),
			      WHOLE, &m));
	ASSERT_EQ(EMLINK, errno);
	ASSERT_EQ(256ULL, l4t_nodes(r));
	ASSERT_MAP_ERR(EMLINK, b, r, 0, false, L4_FPAGE(255 * PG, 12, R_), WHOLE);
	/* depth 254 can still map */
	MAP1(b, r, 254 * PG, PG, R_);
	ASSERT_PAGES(bw + PG, 0, 1, 9);

	/* a grant keeps the depth: still nothing below it */
	GRANT1(b, r, 255 * PG, 0, RW);
	ASSERT_MAP_ERR(EMLINK, c, b, 0, false, L4_FPAGE(0, 12, RW), WHOLE);
	ASSERT_EQ(0ULL, l4t_nodes(c));
	ASSERT_PAGES(bw, 0, 1, 9);

	ASSERT_UNMAP(r, L4_FPAGE(0, 12, R_), 0, 256);
	ASSERT_EQ(1ULL, l4t_nodes(r));
	ASSERT_BUS(bw);
	ASSERT_BUS(bw + PG);
}

TEST_F(mapdb, cycles_impossible)
{
	char *rw, *aw, *bw, *cw;
	struct l4_stats s0, st;
	int r, a, b, c;

	SPACES(4, SIGMA0, &r, &rw);
	SPACES(4, 0, &a, &aw, &b, &bw, &c, &cw);
	l4t_fill(rw, 0, PG, 10);

	/* B:x back onto its parent A:y */
	MAP1(a, r, 0, PG, RW);
	MAP1(b, a, PG, 2 * PG, RW);
	ASSERT_EQ(0, l4t_stats(self->dev, &s0));
	ASSERT_MAP_ERR(ENOENT, a, b, PG, false, L4_FPAGE(2 * PG, 12, RW), WHOLE);
	ASSERT_OPS(self->dev, &s0, 0, 0, 0, 2);
	ASSERT_BUS(aw + PG);
	ASSERT_BUS(bw + 2 * PG);
	ASSERT_PAGES(rw, 0, 1, 10);
	ASSERT_EQ(0ULL, l4t_nodes(a) + l4t_nodes(b));

	/* a longer loop, by grant */
	MAP1(a, r, 0, PG, RW);
	MAP1(b, a, PG, 2 * PG, RW);
	MAP1(c, b, 2 * PG, 3 * PG, RW);
	ASSERT_EQ(0, l4t_stats(self->dev, &s0));
	ASSERT_MAP_ERR(ENOENT, a, c, PG, true, L4_FPAGE(3 * PG, 12, RW), WHOLE);
	ASSERT_OPS(self->dev, &s0, 0, 0, 0, 3);
	ASSERT_EQ(0ULL, l4t_nodes(a) + l4t_nodes(b) + l4t_nodes(c));
	ASSERT_BUS(cw + 3 * PG);

	/* inside one space */
	MAP1(r, r, 0, PG, RW);
	MAP1(r, r, PG, 2 * PG, RW);
	ASSERT_MAP_ERR(ENOENT, r, r, PG, false, L4_FPAGE(2 * PG, 12, RW), WHOLE);
	ASSERT_EQ(1ULL, l4t_nodes(r));
	ASSERT_PAGES(rw, 0, 1, 10);

	/* nothing reachable in a loop: closing frees everything */
	ASSERT_EQ(0, munmap(rw, 4 * PG));
	ASSERT_EQ(0, munmap(aw, 4 * PG));
	ASSERT_EQ(0, munmap(bw, 4 * PG));
	ASSERT_EQ(0, munmap(cw, 4 * PG));
	ASSERT_EQ(0, close(r));
	ASSERT_EQ(0, close(a));
	ASSERT_EQ(0, close(b));
	ASSERT_EQ(0, close(c));
	ASSERT_EQ(0, l4t_stats_settle(self->dev, &self->before, &st));
}

/*
 * A (sigma0, with a frame of its own and a page from R) feeds B and C.
 * Its fd closed, its window keeps it alive; the window gone, it is gone
 * and so is everything derived from it.
 */
TEST_F(mapdb, destroy_revokes_children)
{
	char *rw, *aw, *bw, *cw;
	struct l4_stats s0, st;
	int r, a, b, c;

	SPACES(4, SIGMA0, &r, &rw, &a, &aw);
	SPACES(4, 0, &b, &bw, &c, &cw);
	l4t_fill(rw, 0, PG, 11);
	l4t_fill(aw, 0, PG, 12);
	MAP1(a, r, 0, PG, RW);
	MAP1(b, a, 0, 0, RW);
	MAP1(c, b, 0, 0, RW);
	MAP1(b, a, PG, PG, RW);
	MAP1(c, b, PG, PG, RW);
	ASSERT_PAGES(cw, 0, 1, 12);
	ASSERT_PAGES(cw + PG, 0, 1, 11);

	ASSERT_EQ(0, close(a));
	ASSERT_PAGES(bw, 0, 1, 12);
	ASSERT_PAGES(cw + PG, 0, 1, 11);
	ASSERT_EQ(0, l4t_stats(self->dev, &s0));

	ASSERT_EQ(0, munmap(aw, 4 * PG));
	ASSERT_OPS(self->dev, &s0, 0, 0, 0, 6);
	ASSERT_EQ(0, l4t_stats(self->dev, &st));
	ASSERT_EQ(s0.spaces - 1, st.spaces);
	ASSERT_EQ(s0.frames - 1, st.frames);
	ASSERT_EQ(s0.nodes - 6, st.nodes);
	ASSERT_BUS(bw);
	ASSERT_BUS(cw);
	ASSERT_BUS(bw + PG);
	ASSERT_BUS(cw + PG);
	ASSERT_PAGES(rw, 0, 1, 11);
	ASSERT_EQ(0ULL, l4t_nodes(b) + l4t_nodes(c));
}

/* ------------------------------------------------------------------ */
/* Big trees                                                           */
/* ------------------------------------------------------------------ */

#define BIG_N	100000

/*
 * R's page 0 revoked from the @n mappings of it in B, all of B's pages
 * from @bw on: one unmap takes them all. Returns the seconds it took.
 */
static double mdb_revoke_tree(struct __test_metadata *_metadata, int dev,
			      const struct l4_stats *s0, int r, int b, char *bw,
			      __u64 n)
{
	struct l4_stats st;
	double t0, t1;

	t0 = mdb_now();
	ASSERT_UNMAP(r, L4_FPAGE(0, 12, R_), 0, n);
	t1 = mdb_now();
	ASSERT_OPS(dev, s0, n, 0, 1, n);
	ASSERT_EQ(0, l4t_stats(dev, &st));
	ASSERT_EQ(s0->nodes, st.nodes);
	ASSERT_EQ(0ULL, l4t_nodes(b));
	ASSERT_BUS(bw);
	ASSERT_BUS(bw + (n - 1) * PG);
	return t1 - t0;
}

/*
 * One page of R in 100,000 pages of B, built by doubling (B maps its own
 * range on): 17 map calls, a tree of depth 17; one unmap revokes it.
 */
TEST_F_TIMEOUT(mapdb, tree_100k_doubling, 280)
{
	static const struct { unsigned int order; __u64 at; } tail[] = {
		{ 27, 65536 }, { 22, 98304 }, { 21, 99328 }, { 19, 99840 },
		{ 17, 99968 },
	};
	struct l4_stats s0;
	double t0, t1, tu;
	unsigned int k, i;
	char *rw, *bw;
	int r, b;

	SPACES(4, SIGMA0, &r, &rw);
	SPACES(131072, 0, &b, &bw);
	l4t_fill(rw, 0, PG, 13);
	ASSERT_EQ(0, l4t_stats(self->dev, &s0));

	t0 = mdb_now();
	MAP1(b, r, 0, 0, RW);
	for (k = 0; k < 16; k++)
		ASSERT_MAP(b, b, PG << k, false, L4_FPAGE(0, 12 + k, RW), WHOLE,
			   PG << k, 1ULL << k);
	for (k = 0; k < sizeof(tail) / sizeof(tail[0]); k++)
		ASSERT_MAP(b, b, tail[k].at * PG, false,
			   L4_FPAGE(0, tail[k].order, RW), WHOLE, tail[k].at * PG,
			   1ULL << (tail[k].order - 12));
	t1 = mdb_now();
	ASSERT_EQ((__u64)BIG_N, l4t_nodes(b));
	ASSERT_OPS(self->dev, &s0, BIG_N, 0, 0, 0);
	for (i = 0; i < BIG_N; i += 997)
		ASSERT_PAGES(bw + (__u64)i * PG, 0, 1, 13);
	ASSERT_PAGES(bw + (__u64)(BIG_N - 1) * PG, 0, 1, 13);
	ASSERT_BUS(bw + (__u64)BIG_N * PG);

	tu = mdb_revoke_tree(_metadata, self->dev, &s0, r, b, bw, BIG_N);
	TH_LOG("100000 nodes by doubling: map %.2f s, unmap %.2f s",
	       t1 - t0, tu);
}

/* One page of R in 100,000 pages of B, one map call each: a flat tree. */
TEST_F_TIMEOUT(mapdb, tree_100k_flat, 280)
{
	struct l4_stats s0;
	double t0, t1, tu;
	char *rw, *bw;
	int r, b, i;

	SPACES(4, SIGMA0, &r, &rw);
	SPACES(BIG_N, 0, &b, &bw);
	l4t_fill(rw, 0, PG, 14);
	ASSERT_EQ(0, l4t_stats(self->dev, &s0));

	t0 = mdb_now();
	for (i = 0; i < BIG_N; i++) {
		struct l4_map m;

		if (mdb_map(b, r, (__u64)i * PG, false, L4_FPAGE(0, 12, RW),
			    WHOLE, &m) || m.pages != 1)
			ASSERT_EQ(-1, i) TH_LOG("map %d: %s", i, strerror(errno));
	}
	t1 = mdb_now();
	ASSERT_EQ((__u64)BIG_N, l4t_nodes(b));
	ASSERT_OPS(self->dev, &s0, BIG_N, 0, 0, 0);
	for (i = 0; i < BIG_N; i += 997)
		ASSERT_PAGES(bw + (__u64)i * PG, 0, 1, 14);

	/* (and B is empty after it) */
	tu = mdb_revoke_tree(_metadata, self->dev, &s0, r, b, bw, BIG_N);
	TH_LOG("100000 nodes, one map call each: map %.2f s, unmap %.2f s",
	       t1 - t0, tu);
}

/*
 * 40 chains of depth 250: R's 64-page fpage with 40 pages present, mapped
 * on stage by stage in B (250 calls of 40 pages: 10,000 mappings).
 */
TEST_F_TIMEOUT(mapdb, chains_40x250, 280)
{
	const __u64 stage = 64 * PG;
	struct l4_stats s0, st;
	double t0, t1, t2, tu;
	char *rw, *bw;
	int r, b, k;

	SPACES(64, SIGMA0, &r, &rw);
	SPACES(250 * 64, 0, &b, &bw);
	l4t_fill(rw, 0, 40 * PG, 15);
	ASSERT_EQ(0, l4t_stats(self->dev, &s0));

	t0 = mdb_now();
	ASSERT_MAP(b, r, 0, false, L4_FPAGE(0, 18, RW), WHOLE, 0, 40);
	for (k = 0; k < 249; k++)
		ASSERT_MAP(b, b, (k + 1) * stage, false,
			   L4_FPAGE(k * stage, 18, RW), WHOLE, (k + 1) * stage, 40);
	t1 = mdb_now();
	ASSERT_EQ(10000ULL, l4t_nodes(b));
	ASSERT_OPS(self->dev, &s0, 10000, 0, 0, 0);
	ASSERT_PAGES(bw + 249 * stage, 0, 40, 15);
	ASSERT_BUS(bw + 249 * stage + 40 * PG);
	ASSERT_PUT(bw + 249 * stage + 39 * PG + 8, 0x250);
	ASSERT_WORD(rw + 39 * PG + 8, 0x250);

	tu = mdb_now();
	ASSERT_UNMAP(r, L4_FPAGE(0, 18, R_), 0, 10000);
	t2 = mdb_now();
	ASSERT_OPS(self->dev, &s0, 10000, 0, 1, 10000);
	ASSERT_EQ(0, l4t_stats(self->dev, &st));
	ASSERT_EQ(s0.nodes, st.nodes);
	ASSERT_EQ(0ULL, l4t_nodes(b));
	ASSERT_BUS(bw + 249 * stage);
	ASSERT_BUS(bw);
	TH_LOG("10000 nodes in 40 chains of 250: map %.2f s, unmap %.2f s",
	       t1 - t0, t2 - tu);

	ASSERT_EQ(0, munmap(bw, 250 * 64 * PG));
	ASSERT_EQ(0, munmap(rw, 64 * PG));
	ASSERT_EQ(0, close(b));
	ASSERT_EQ(0, close(r));
	ASSERT_EQ(0, l4t_stats_settle(self->dev, &self->before, &st));
}

/* ------------------------------------------------------------------ */
/* Bad input                                                           */
/* ------------------------------------------------------------------ */

enum { SRC_A, SRC_EMPTY, SRC_NEG, SRC_CLOSED, SRC_DEV, SRC_PIPE };

#define OKC	L4_MAP_ITEM(0x20000, 0)
#define OKF	L4_FPAGE(0, 16, RW)
#define NOTYPE(fp)	((fp) & ~L4_FPAGE_TYPE_MASK)
#define WRAP	0xfffffffffffff000ULL

L4T_FIXTURE(badmap);

FIXTURE_VARIANT(badmap) {
	int src;
	__u64 control, fpage, rcv;
	__u32 flags;
	__u64 dst_addr, pages;
	int reserved;		/* 1 + index of a nonzero reserved word */
	int err;		/* 0: must work */
};

#define BADMAP(name, ...)						\
	FIXTURE_VARIANT_ADD(badmap, name) {				\
		.src = SRC_A, .control = OKC, .fpage = OKF, .rcv = WHOLE, \
		__VA_ARGS__						\
	}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
BADMAP(ok, .err = 0);
BADMAP(ok_grant, .control = L4_MAP_ITEM(0x20000, 1), .err = 0);
BADMAP(misaligned, .fpage = L4_FPAGE(0x1000, 13, RW), .err = EINVAL);
BADMAP(misaligned_1m, .fpage = L4_FPAGE(0x10000, 20, RW), .err = EINVAL);
BADMAP(order11, .fpage = L4_FPAGE(0, 11, RW), .err = EINVAL);
BADMAP(order0, .fpage = L4_FPAGE(0, 0, RW), .err = EINVAL);
BADMAP(order_beyond_space, .fpage = L4_FPAGE(0, 21, RW), .err = EINVAL);
BADMAP(order48, .fpage = L4_FPAGE(0, 48, RW), .err = EINVAL);
BADMAP(order63_send, .fpage = L4_FPAGE(0, 63, RW), .err = EINVAL);
BADMAP(past_end, .fpage = L4_FPAGE(0x100000, 12, RW), .err = EINVAL);
BADMAP(addr_wraps, .fpage = L4_FPAGE(WRAP, 12, RW), .err = EINVAL);
BADMAP(addr_wraps_order13, .fpage = L4_FPAGE(WRAP - 0x1000, 13, RW), .err = EINVAL);
BADMAP(rights_bit3, .fpage = OKF | 0x8, .err = EINVAL);
BADMAP(type0, .fpage = NOTYPE(OKF), .err = EINVAL);
BADMAP(type2, .fpage = NOTYPE(OKF) | (2ULL << L4_FPAGE_TYPE_SHIFT), .err = EINVAL);
BADMAP(type3, .fpage = OKF | L4_FPAGE_TYPE_MASK, .err = EINVAL);
BADMAP(rcv_type0, .rcv = NOTYPE(WHOLE), .err = EINVAL);
BADMAP(rcv_order11, .rcv = L4_FPAGE(0, 11, 0), .err = EINVAL);
BADMAP(rcv_misaligned, .rcv = L4_FPAGE(0x1000, 13, 0), .err = EINVAL);
BADMAP(rcv_beyond_space, .rcv = L4_FPAGE(0, 21, 0), .err = EINVAL);
BADMAP(rcv_order63_not_0, .rcv = L4_FPAGE(0x100000, 63, 0), .err = EINVAL);
BADMAP(rcv_wraps, .rcv = L4_FPAGE(WRAP, 12, 0), .err = EINVAL);
BADMAP(rcv_wraps_same_order, .fpage = L4_FPAGE(0, 12, RW),
       .rcv = L4_FPAGE(WRAP, 12, 0), .err = EINVAL);
BADMAP(dst_outside, .control = L4_MAP_ITEM(0x100000, 0), .err = EINVAL);
BADMAP(ctl_no_map, .control = 0x20000, .err = EINVAL);
BADMAP(ctl_grant_only, .control = 0x20000 | L4_MAP_ITEM_GRANT, .err = EINVAL);
BADMAP(ctl_bit0, .control = OKC | 0x1, .err = EINVAL);
BADMAP(ctl_bit2, .control = OKC | 0x4, .err = EINVAL);
BADMAP(ctl_bit4, .control = OKC | 0x10, .err = EINVAL);
BADMAP(ctl_bit11, .control = OKC | 0x800, .err = EINVAL);
BADMAP(flags_bit0, .flags = 1, .err = EINVAL);
BADMAP(flags_bit31, .flags = 0x80000000U, .err = EINVAL);
BADMAP(dst_addr_set, .dst_addr = 0x20000, .err = EINVAL);
BADMAP(pages_set, .pages = 1, .err = EINVAL);
BADMAP(reserved0, .reserved = 1, .err = EINVAL);
BADMAP(reserved1, .reserved = 2, .err = EINVAL);
BADMAP(reserved2, .reserved = 3, .err = EINVAL);
BADMAP(src_negative, .src = SRC_NEG, .err = EBADF);
BADMAP(src_closed, .src = SRC_CLOSED, .err = EBADF);
BADMAP(src_dev_l4, .src = SRC_DEV, .err = EINVAL);
BADMAP(src_pipe, .src = SRC_PIPE, .err = EINVAL);
BADMAP(src_unmapped, .fpage = L4_FPAGE(0x80000, 16, RW), .err = ENOENT);
BADMAP(src_empty_space, .src = SRC_EMPTY, .err = ENOENT);
#pragma GCC diagnostic pop

TEST_F(badmap, map)
{
	struct l4_stats s0, st;
	int a, e, b, p[2], src = -1;
	struct l4_map m;
	char *aw, *ew, *bw;

	SPACES(256, SIGMA0, &a, &aw);
	SPACES(256, 0, &e, &ew, &b, &bw);
	ASSERT_EQ(0, pipe(p));
	l4t_fill(aw, 0, 16 * PG, 16);

	switch (variant->src) {
	case SRC_A:	src = a; break;
	case SRC_EMPTY:	src = e; break;
	case SRC_NEG:	src = -1; break;
	case SRC_CLOSED: src = l4t_lowest_free_fd(); break;
	case SRC_DEV:	src = self->dev; break;
	case SRC_PIPE:	src = p[0]; break;
	}
	memset(&m, 0, sizeof(m));
	m.src_fd = src;
	m.flags = variant->flags;
	m.item.control = variant->control;
	m.item.fpage = variant->fpage;
	m.rcv_fpage = variant->rcv;
	m.dst_addr = variant->dst_addr;
	m.pages = variant->pages;
	if (variant->reserved)
		m.reserved[variant->reserved - 1] = 1;
	ASSERT_EQ(0, l4t_stats(self->dev, &s0));

	errno = 0;
	if (variant->err) {
		ASSERT_EQ(-1, ioctl(b, L4_IOC_MAP, &m))
			TH_LOG("dst_addr %#llx pages %llu", m.dst_addr, m.pages);
		ASSERT_EQ(variant->err, errno);
		ASSERT_EQ(0ULL, l4t_nodes(b));
		ASSERT_EQ(16ULL, l4t_nodes(a));
		ASSERT_OPS(self->dev, &s0, 0, 0, 0, 0);
		ASSERT_EQ(0, l4t_stats(self->dev, &st));
		ASSERT_EQ(s0.nodes, st.nodes);
		ASSERT_BUS(bw + 0x20000);
	} else {
		bool grant = variant->control & L4_MAP_ITEM_GRANT;

		ASSERT_EQ(0, ioctl(b, L4_IOC_MAP, &m));
		ASSERT_EQ(0x20000ULL, m.dst_addr);
		ASSERT_EQ(16ULL, m.pages);
		ASSERT_EQ(16ULL, l4t_nodes(b));
		ASSERT_EQ(grant ? 0ULL : 16ULL, l4t_nodes(a));
		ASSERT_OPS(self->dev, &s0, grant ? 0 : 16, grant ? 16 : 0, 0, 0);
		ASSERT_PAGES(bw + 0x20000, 0, 16, 16);
	}
}

L4T_FIXTURE(badunmap);

FIXTURE_VARIANT(badunmap) {
	__u64 fpage;
	__u32 flags, pad;
	int reserved;		/* 1 + index of a nonzero reserved word */
	int err;
	__u64 revoked;		/* when it works */
};

FIXTURE_VARIANT_ADD(badunmap, ok)	{ .fpage = L4_FPAGE(0, 14, R_), .revoked = 4 };
FIXTURE_VARIANT_ADD(badunmap, ok_w)	{ .fpage = L4_FPAGE(0, 14, W_), .revoked = 4 };
FIXTURE_VARIANT_ADD(badunmap, ok_whole_all) { .fpage = WHOLE | R_, .flags = ALL, .revoked = 8 };
FIXTURE_VARIANT_ADD(badunmap, ok_hole)	{ .fpage = L4_FPAGE(0x80000, 14, R_), .flags = ALL };
FIXTURE_VARIANT_ADD(badunmap, flags_bit0) { .fpage = L4_FPAGE(0, 14, R_), .flags = 1, .err = EINVAL };
FIXTURE_VARIANT_ADD(badunmap, flags_bit30) { .fpage = L4_FPAGE(0, 14, R_), .flags = 0x40000000U, .err = EINVAL };
FIXTURE_VARIANT_ADD(badunmap, rights0)	{ .fpage = L4_FPAGE(0, 14, 0), .err = EINVAL };
FIXTURE_VARIANT_ADD(badunmap, rights0_whole) { .fpage = WHOLE, .flags = ALL, .err = EINVAL };
FIXTURE_VARIANT_ADD(badunmap, rights_bit3) { .fpage = L4_FPAGE(0, 14, R_) | 0x8, .err = EINVAL };
FIXTURE_VARIANT_ADD(badunmap, pad)	{ .fpage = L4_FPAGE(0, 14, R_), .pad = 1, .err = EINVAL };
FIXTURE_VARIANT_ADD(badunmap, reserved0) { .fpage = L4_FPAGE(0, 14, R_), .reserved = 1, .err = EINVAL };
FIXTURE_VARIANT_ADD(badunmap, reserved1) { .fpage = L4_FPAGE(0, 14, R_), .reserved = 2, .err = EINVAL };
FIXTURE_VARIANT_ADD(badunmap, type0)	{ .fpage = NOTYPE(L4_FPAGE(0, 14, R_)), .err = EINVAL };
FIXTURE_VARIANT_ADD(badunmap, order11)	{ .fpage = L4_FPAGE(0, 11, R_), .err = EINVAL };
FIXTURE_VARIANT_ADD(badunmap, misaligned) { .fpage = L4_FPAGE(0x1000, 13, R_), .err = EINVAL };
FIXTURE_VARIANT_ADD(badunmap, beyond_space) { .fpage = L4_FPAGE(0, 21, R_), .err = EINVAL };
FIXTURE_VARIANT_ADD(badunmap, past_end)	{ .fpage = L4_FPAGE(0x100000, 12, R_), .err = EINVAL };
FIXTURE_VARIANT_ADD(badunmap, addr_wraps) { .fpage = L4_FPAGE(WRAP, 12, R_), .err = EINVAL };
FIXTURE_VARIANT_ADD(badunmap, order63_not_0) { .fpage = L4_FPAGE(0x100000, 63, R_), .err = EINVAL };

TEST_F(badunmap, unmap)
{
	struct l4_stats s0;
	struct l4_unmap u;
	char *aw, *bw;
	int a, b;

	SPACES(256, SIGMA0, &a, &aw);
	SPACES(256, 0, &b, &bw);
	l4t_fill(aw, 0, 4 * PG, 17);
	ASSERT_MAP(b, a, 0, false, L4_FPAGE(0, 14, RW), WHOLE, 0, 4);
	ASSERT_EQ(0, l4t_stats(self->dev, &s0));

	memset(&u, 0, sizeof(u));
	u.fpage = variant->fpage;
	u.flags = variant->flags;
	u.pad = variant->pad;
	if (variant->reserved)
		u.reserved[variant->reserved - 1] = 1;
	if (variant->err) {
		ASSERT_EQ(-1, ioctl(a, L4_IOC_UNMAP, &u));
		ASSERT_EQ(variant->err, errno);
		ASSERT_OPS(self->dev, &s0, 0, 0, 0, 0);
		ASSERT_EQ(4ULL, l4t_nodes(b));
		ASSERT_PUT(bw + 3 * PG + 8, 1);
	} else {
		ASSERT_EQ(0, ioctl(a, L4_IOC_UNMAP, &u));
		ASSERT_EQ(variant->revoked, u.revoked);
		ASSERT_OPS(self->dev, &s0, 0, 0, 1, variant->revoked);
		ASSERT_EQ(0ULL, u.reserved[0] | u.reserved[1] | u.pad);
	}
}

TEST_F(mapdb, bad_pointers)
{
	struct l4_map *m;
	struct l4_unmap *u;
	char *aw, *bw, *pg;
	int a, b;

	SPACES(4, SIGMA0, &a, &aw);
	SPACES(4, 0, &b, &bw);
	l4t_fill(aw, 0, PG, 18);

	ASSERT_EQ(-1, ioctl(b, L4_IOC_MAP, NULL));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, ioctl(b, L4_IOC_MAP, (void *)8));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, ioctl(a, L4_IOC_UNMAP, NULL));
	ASSERT_EQ(EFAULT, errno);

	/* a struct running into an unmapped page */
	pg = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, pg);
	ASSERT_EQ(0, munmap(pg + PG, PG));
	m = (struct l4_map *)(pg + PG - sizeof(*m) / 2);
	memset(m, 0, sizeof(*m) / 2);
	ASSERT_EQ(-1, ioctl(b, L4_IOC_MAP, m));
	ASSERT_EQ(EFAULT, errno);
	u = (struct l4_unmap *)(pg + PG - 8);
	memset(u, 0, 8);
	ASSERT_EQ(-1, ioctl(a, L4_IOC_UNMAP, u));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(0ULL, l4t_nodes(b));
	ASSERT_EQ(1ULL, l4t_nodes(a));
}

/* ------------------------------------------------------------------ */
/* Counters                                                            */
/* ------------------------------------------------------------------ */

TEST_F(mapdb, stats_script)
{
	struct l4_stats s0, st;
	char *rw, *aw, *bw;
	int r, a, b;

	SPACES(16, SIGMA0, &r, &rw);
	SPACES(16, 0, &a, &aw, &b, &bw);
	l4t_fill(rw, 0, 4 * PG, 19);
	ASSERT_EQ(0, l4t_stats(self->dev, &s0));
	ASSERT_LIVE(&self->before, &s0, 3, 4, 4, 3);

	ASSERT_MAP(a, r, 0, false, L4_FPAGE(0, 14, RW), WHOLE, 0, 4);
	ASSERT_OPS(self->dev, &s0, 4, 0, 0, 0);
	MAP1(b, a, 0, 0, R_);
	ASSERT_OPS(self->dev, &s0, 5, 0, 0, 0);
	MAP1(b, a, 0, 0, RW);			/* upgrade */
	ASSERT_OPS(self->dev, &s0, 6, 0, 0, 0);
	GRANT1(b, a, PG, PG, RW);
	ASSERT_OPS(self->dev, &s0, 6, 1, 0, 0);
	ASSERT_MAP_ERR(ENOENT, b, a, 0, false, L4_FPAGE(8 * PG, 13, RW), WHOLE);
	ASSERT_OPS(self->dev, &s0, 6, 1, 0, 0);
	ASSERT_EQ(0, l4t_stats(self->dev, &st));
	ASSERT_LIVE(&s0, &st, 0, 0, 5, 0);

	/* W from A:0, B:0, B:1 (granted), A:2, A:3 */
	ASSERT_UNMAP(r, L4_FPAGE(0, 14, W_), 0, 5);
	ASSERT_OPS(self->dev, &s0, 6, 1, 1, 5);
	ASSERT_EQ(-1, mdb_unmap(r, L4_FPAGE(0, 14, R_), 1, NULL));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_OPS(self->dev, &s0, 6, 1, 1, 5);
	/* those five, and R's four roots */
	ASSERT_UNMAP(r, L4_FPAGE(0, 14, R_), ALL, 9);
	ASSERT_OPS(self->dev, &s0, 6, 1, 2, 14);
	ASSERT_UNMAP(r, L4_FPAGE(0, 14, R_), ALL, 0);
	ASSERT_OPS(self->dev, &s0, 6, 1, 3, 14);
	ASSERT_EQ(0, l4t_stats(self->dev, &st));
	ASSERT_LIVE(&s0, &st, 0, -4, -4, 0);
	ASSERT_EQ(s0.frames_freed + 4, st.frames_freed);
	ASSERT_EQ(s0.frames_allocated, st.frames_allocated);
	ASSERT_EQ(0ULL, st.reserved[0] | st.reserved[1] | st.reserved[2]);

	/* the same, per space: maps and grants into it, unmaps on it, its
	 * entries revoked (R: its four roots; A: three downgraded, then
	 * removed; B: two downgraded, then removed) */
	ASSERT_SPACE_OPS(r, 0, 0, 3, 4);
	ASSERT_SPACE_OPS(a, 4, 0, 0, 6);
	ASSERT_SPACE_OPS(b, 2, 1, 0, 4);
}

TEST_HARNESS_MAIN
