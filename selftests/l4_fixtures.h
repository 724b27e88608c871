/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fixtures shared by the mapping-database and IPC selftests (mapdb.c,
 * ipc.c), on top of l4_test_util.h:
 *
 *  - children that die with the test process, gates, pagers;
 *  - the space kinds a test can be crossed with (the way uffd-unit-tests
 *    crosses its cases with memory types): a table of one row per kind,
 *    and FIXTURE_VARIANT_ADD rows generated from it;
 *  - a root space of a kind: the space the frames of a test come from,
 *    sigma0-backed, or paged by a pager process of its own that maps from
 *    a sigma0 space behind it, or sigma0-backed with fault-around.
 *
 * Every fixture here keeps L4T_FIXTURE's per-test leak check: the teardown
 * in the parent compares the module's live counters with those at setup.
 */
#ifndef L4_FIXTURES_H
#define L4_FIXTURES_H

#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <sys/prctl.h>

#include "l4_test_util.h"

/* ------------------------------------------------------------------ */
/* Children, gates                                                     */
/* ------------------------------------------------------------------ */

/* A child that dies with the test process (fork only from the main thread). */
static inline pid_t l4f_fork(void)
{
	pid_t parent = getpid();
	pid_t pid = fork();

	if (!pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(99);
	}
	return pid;
}

static inline int l4f_gate(int dev)
{
	return ioctl(dev, L4_IOC_CREATE_GATE, 0);
}

static inline int l4f_set_pager(int space, int gate)
{
	struct l4_pager p = { .gate_fd = gate };

	return ioctl(space, L4_IOC_SET_PAGER, &p);
}

/* A reply of one map item: 2^order bytes of @src around @addr, same place. */
static inline void l4f_map_reply(struct l4_reply *r, __u64 token, int src,
				 __u64 addr, unsigned int order, __u64 rights)
{
	memset(r, 0, sizeof(*r));
	addr &= ~((1ULL << order) - 1);
	r->token = token;
	r->nitems = 1;
	r->items[0].src_fd = src;
	r->items[0].item.control = L4_MAP_ITEM(addr, 0);
	r->items[0].item.fpage = L4_FPAGE(addr, order, rights);
}

/* ------------------------------------------------------------------ */
/* Waiting for a word (a futex: no polling, no sleeps)                 */
/* ------------------------------------------------------------------ */

static inline __s64 l4f_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__s64)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Wake the waiters of @p after changing it. */
static inline void l4f_wake(volatile int *p)
{
	syscall(SYS_futex, p, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/* Set *@p to 1 and wake its waiters. */
static inline void l4f_post(volatile int *p)
{
	__atomic_store_n(p, 1, __ATOMIC_SEQ_CST);
	l4f_wake(p);
}

/* Wait up to 10 s until *@p differs from @old: 0, or -1 on the timeout. */
static inline int l4f_wait_change(volatile int *p, int old)
{
	__s64 end = l4f_now_ns() + 10000000000LL;

	while (__atomic_load_n(p, __ATOMIC_SEQ_CST) == old) {
		__s64 left = end - l4f_now_ns();
		struct timespec ts = {
			.tv_sec = left / 1000000000LL,
			.tv_nsec = left % 1000000000LL,
		};

		if (left <= 0)
			return -1;
		syscall(SYS_futex, p, FUTEX_WAIT, old, &ts, NULL, 0);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Space kinds                                                         */
/* ------------------------------------------------------------------ */

/* What a touch of a root page shows after the root's own entry was revoked. */
enum l4f_refault {
	L4F_REFAULT_ZERO,	/* sigma0 hands out a fresh zeroed frame */
	L4F_REFAULT_SAME,	/* the pager maps the same frame again */
};

struct l4f_kind {
	const char *name;
	__u32 root_flags;	/* flags of a root space (where frames come from) */
	__u32 child_flags;	/* flags of the spaces its pages are mapped into */
	bool paged;		/* the root is paged by a pager process */
	bool root_frees;	/* revoking a root's own entry frees its frame */
	enum l4f_refault refault;
};

/*
 * The kinds, one row each: name, root flags, child flags, paged,
 * root_frees, refault. A new kind (superpage windows, say) is one more row
 * here; every crossed test then runs over it too. L4F_KINDS(ROW, a)
 * expands ROW(a, name, ...) for each row: @a is passed through, for the
 * fixture or table a row macro builds variants of.
 */
#define L4F_KINDS(ROW, a)						\
	ROW(a, sigma0, L4_SPACE_SIGMA0, 0, false, true, L4F_REFAULT_ZERO) \
	ROW(a, paged, 0, 0, true, false, L4F_REFAULT_SAME)		\
	ROW(a, fault_around, L4_SPACE_SIGMA0 | L4_SPACE_FAULT_AROUND,	\
	    L4_SPACE_FAULT_AROUND, false, true, L4F_REFAULT_ZERO)

#define L4F_KIND_DEF(a, name_, root_, child_, paged_, frees_, refault_) \
	static const struct l4f_kind l4f_kind_##name_ = {		\
		.name = #name_, .root_flags = (root_),			\
		.child_flags = (child_), .paged = (paged_),		\
		.root_frees = (frees_), .refault = (refault_),		\
	};
L4F_KINDS(L4F_KIND_DEF, _)
#undef L4F_KIND_DEF

/*
 * A fixture crossed with the kinds: its FIXTURE_VARIANT has a member
 * "const struct l4f_kind *kind"; L4F_KINDS(L4F_KIND_VARIANT, f) adds one
 * variant per kind. To cross the kinds with a table of its own, a test
 * writes a row macro of its own and expands L4F_KINDS with it.
 */
#define L4F_KIND_VARIANT(fixture, name_, ...)				\
	FIXTURE_VARIANT_ADD(fixture, name_) { .kind = &l4f_kind_##name_ };

/* ------------------------------------------------------------------ */
/* A root space of a kind                                              */
/* ------------------------------------------------------------------ */

struct l4f_root {
	int fd;			/* the root space */
	char *win;		/* the test's window onto all of it */
	size_t pages;
	__u64 id;
	pid_t pager;		/* paged: the pager process (0: none) */
	int ctl;		/* paged: closing it stops the pager */
	volatile int *faults;	/* paged: faults the pager served */
};

/*
 * A pager's loop (in a child): REPLY_WAIT on @gate, made nonblocking, and
 * @answer fills in the reply to each message; returns once @ctl reads EOF
 * and no message waits.
 */
static inline void l4f_serve(int gate, int ctl,
			     void (*answer)(void *arg, const struct l4_msg *m,
					    struct l4_reply *r),
			     void *arg)
{
	struct l4_reply_wait rw;

	CHILD_CHECK(!fcntl(gate, F_SETFL, O_NONBLOCK));
	memset(&rw, 0, sizeof(rw));
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = gate, .events = POLLIN },
			{ .fd = ctl, .events = POLLIN },
		};

		if (!ioctl(gate, L4_IOC_REPLY_WAIT, &rw)) {
			answer(arg, &rw.msg, &rw.reply);
			continue;
		}
		CHILD_CHECK(errno == EAGAIN);
		memset(&rw.reply, 0, sizeof(rw.reply));	/* it was delivered */
		CHILD_CHECK(poll(pfd, 2, -1) > 0);
		if (!(pfd[0].revents & POLLIN) && pfd[1].revents)
			return;
	}
}

struct l4f_root_pager {
	int backing;
	char *bwin;
	size_t pages;
	volatile int *faults;
};

static inline void l4f_root_answer(void *arg, const struct l4_msg *m,
				   struct l4_reply *r)
{
	struct l4f_root_pager *p = arg;
	__u64 a = L4_PF_ADDR(m->words[0]) & ~(L4T_PAGE - 1);

	CHILD_CHECK(m->label == L4_LABEL_PAGE_FAULT);
	CHILD_CHECK(a < p->pages * L4T_PAGE);
	(void)*(volatile char *)(p->bwin + a);
	l4f_map_reply(r, m->token, p->backing, a, 12, L4_FPAGE_RWX);
	__atomic_fetch_add(p->faults, 1, __ATOMIC_SEQ_CST);
}

/*
 * The pager of a paged root: a child serving each fault with the page of
 * @backing at the same address (RWX, what a sigma0 root holds), touched
 * first through a window of its own so that it is present. It holds only
 * what it needs; EOF on @ctl stops it.
 */
static inline void l4f_root_pager(int backing, int gate, int ctl, size_t pages,
				  volatile int *faults)
{
	struct l4f_root_pager p = {
		.backing = backing, .pages = pages, .faults = faults,
	};
	int fd;

	for (fd = 3; fd < 1024; fd++)
		if (fd != backing && fd != gate && fd != ctl)
			close(fd);
	p.bwin = l4t_map(backing, 0, pages * L4T_PAGE);
	CHILD_CHECK(p.bwin != MAP_FAILED);
	l4f_serve(gate, ctl, l4f_root_answer, &p);
	_exit(0);
}

/*
 * A root space of @pages pages of kind @k with a window onto all of it.
 * A paged root's pager is forked here: open roots before other spaces and
 * windows, which a pager would otherwise hold too.
 */
static inline void l4f_root_open(struct __test_metadata *_metadata, int dev,
				 const struct l4f_kind *k, size_t pages,
				 struct l4f_root *r)
{
	int backing, gate, ctl[2];

	memset(r, 0, sizeof(*r));
	r->ctl = -1;
	r->pages = pages;
	r->fd = l4t_create(dev, pages * L4T_PAGE, 0, k->root_flags, &r->id);
	ASSERT_LE(0, r->fd);
	if (k->paged) {
		r->faults = l4t_shared(sizeof(*r->faults));
		ASSERT_NE(NULL, r->faults);
		backing = l4t_create(dev, pages * L4T_PAGE, 0, L4_SPACE_SIGMA0,
				     NULL);
		ASSERT_LE(0, backing);
		gate = l4f_gate(dev);
		ASSERT_LE(0, gate);
		ASSERT_EQ(0, l4f_set_pager(r->fd, gate));
		ASSERT_EQ(0, pipe(ctl));
		r->pager = l4f_fork();
		ASSERT_LE(0, r->pager);
		if (!r->pager) {
			close(ctl[1]);
			l4f_root_pager(backing, gate, ctl[0], pages, r->faults);
		}
		/* the root holds the gate, the pager the rest */
		ASSERT_EQ(0, close(ctl[0]));
		ASSERT_EQ(0, close(gate));
		ASSERT_EQ(0, close(backing));
		r->ctl = ctl[1];
	}
	r->win = l4t_map(r->fd, 0, pages * L4T_PAGE);
	ASSERT_NE(MAP_FAILED, r->win);
}

/* Everything of the root goes (its window, its fd, its pager). */
static inline void l4f_root_close(struct __test_metadata *_metadata,
				  struct l4f_root *r)
{
	ASSERT_EQ(0, munmap(r->win, r->pages * L4T_PAGE));
	ASSERT_EQ(0, close(r->fd));
	if (r->pager) {
		ASSERT_EQ(0, close(r->ctl));
		ASSERT_EQ(0, l4t_wait(r->pager));
		munmap((void *)r->faults, sizeof(*r->faults));
	}
}

/*
 * The live counters a root adds beyond its own space and window, with
 * @present of its pages present: a paged root has a sigma0 space behind it
 * (a space, a node per page, the pager's window) and no frames of its own.
 */
#define L4F_ROOT_EXTRA_SPACES(k)		((k)->paged ? 1 : 0)
#define L4F_ROOT_EXTRA_NODES(k, present)	((k)->paged ? (present) : 0)
#define L4F_ROOT_EXTRA_WINDOWS(k)		((k)->paged ? 1 : 0)

/*
 * A fixture crossed with the space kinds: L4T_FIXTURE's device and leak
 * check, and a variant naming the kind. L4F_KIND_FIXTURE(f) declares it;
 * FIXTURE_VARIANT(f) is declared here with the member "kind".
 */
#define L4F_KIND_FIXTURE(fixture)					\
	L4T_FIXTURE(fixture);						\
	FIXTURE_VARIANT(fixture) {					\
		const struct l4f_kind *kind;				\
	};								\
	L4F_KINDS(L4F_KIND_VARIANT, fixture)

#endif /* L4_FIXTURES_H */
