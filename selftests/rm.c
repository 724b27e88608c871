// SPDX-License-Identifier: GPL-2.0
/*
 * libl4u's region manager (l4u/rm.h): attach in every form and every error,
 * detach (whole, head, tail, split, several regions), areas, find, faults
 * resolved through the region manager and a dataspace manager, the
 * receive window restricted to the region, read-only and private regions,
 * eager mapping, a manager that dies (SIGBUS), identity placement, and 8
 * threads using it at once.
 *
 * The dataspace manager here is a test fixture (fx_dsm_*): a thread of the
 * test process serving one gate with the dataspace protocol of
 * l4u/dataspace.h, backed by a sigma0 space filled with a pattern that
 * depends on the dataspace offset. A "greedy" one always answers with the
 * largest flexpage its alignment allows (up to 2 MiB), ignoring the
 * receive window, so that the kernel's clipping to the window is what
 * keeps pages out of neighbouring ranges.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/un.h>

#include "l4_fixtures.h"
#include <l4u/l4u.h>
#include <l4u/dataspace.h>
#include <l4u/rm.h>
#include <l4u/task.h>
#include <l4u/util.h>

L4T_FIXTURE(rm);

#define PG		L4T_PAGE
#define FX_STOP		0x73746f70LL	/* 'stop' */

/* ------------------------------------------------------------------ */
/* The dataspace manager fixture                                       */
/* ------------------------------------------------------------------ */

struct fx_dsm {
	int gate;		/* receive fd */
	int space;		/* sigma0 backing store, space address = offset */
	char *win;		/* window onto all of it */
	uint64_t size;
	uint32_t flags;		/* L4U_DS_* */
	uint64_t seed;		/* contents: l4t_word(seed, offset) */
	unsigned int max_order;	/* largest flexpage sent (12: single pages) */
	pthread_t thread;
	volatile int maps;	/* MAP calls served */
	volatile unsigned int last_order;
	volatile uint64_t last_rcv;	/* receive window of the last MAP */
};

/* The flexpage order for @off landing at @hot: alike alignment, in range. */
static unsigned int fx_order(const struct fx_dsm *d, uint64_t off, uint64_t hot)
{
	unsigned int k = 12;

	while (k < d->max_order) {
		uint64_t s = 1ULL << (k + 1);

		if ((off & (s - 1)) != (hot & (s - 1)) ||
		    (off & ~(s - 1)) + s > d->size)
			break;
		k++;
	}
	return k;
}

/* One message to the fixture (served with l4u_gate_serve()). */
static int fx_dsm_handle(void *arg, const struct l4_msg *m, struct l4_reply *r)
{
	struct fx_dsm *d = arg;

	if (m->label == FX_STOP)
		return L4U_GATE_SERVE_STOP;
	if (!m->token)
		return L4U_GATE_SERVE_NO_REPLY;	/* e.g. no senders */
	if (m->label == L4U_DS_INFO) {
		r->nwords = 3;
		r->words[0] = d->size;
		r->words[1] = d->flags;
		r->words[2] = (uint64_t)(uintptr_t)d;
	} else if (m->label == L4U_DS_MAP) {
		uint64_t off = m->words[0], hot = m->words[1];
		uint64_t rights = m->words[2];
		unsigned int k;

		if ((off & (PG - 1)) || (hot & (PG - 1)) ||
		    (rights & ~L4_FPAGE_RWX)) {
			r->error = EINVAL;
		} else if (off >= d->size) {
			r->error = ERANGE;
		} else if (rights & ~d->flags & L4_FPAGE_RWX) {
			r->error = EACCES;
		} else {
			k = fx_order(d, off, hot);
			d->last_order = k;
			d->last_rcv = m->rcv_window;
			__atomic_fetch_add(&d->maps, 1, __ATOMIC_SEQ_CST);
			l4f_wake(&d->maps);
			l4u_reply_map(r, d->space,
				      L4_FPAGE(off & ~((1ULL << k) - 1), k, rights),
				      hot, 0);
		}
	} else {
		r->error = ENOSYS;
	}
	return 0;
}

static void *fx_dsm_main(void *arg)
{
	struct fx_dsm *d = arg;

	l4u_gate_serve(d->gate, fx_dsm_handle, d);
	return NULL;
}

/* A manager of one dataspace of @pages pages with rights @flags. */
static int fx_dsm_start(int dev, struct fx_dsm *d, size_t pages, uint32_t flags,
			uint64_t seed, unsigned int max_order)
{
	memset(d, 0, sizeof(*d));
	d->size = pages * PG;
	d->flags = flags;
	d->seed = seed;
	d->max_order = max_order;
	d->space = l4t_space_window(dev, pages, 0, L4_SPACE_SIGMA0, &d->win);
	if (d->space < 0)
		return -1;
	l4t_fill(d->win, 0, d->size, seed);	/* every frame present */
	d->gate = l4u_gate_create(dev);
	if (d->gate < 0)
		return -1;
	return pthread_create(&d->thread, NULL, fx_dsm_main, d) ? -1 : 0;
}

static void fx_dsm_stop(struct fx_dsm *d)
{
	struct l4_call c = { .label = FX_STOP, .rcv_space_fd = -1 };

	l4u_call(d->gate, &c);
	pthread_join(d->thread, NULL);
	close(d->gate);
	munmap(d->win, d->size);
	close(d->space);
}

/* The client's view of the fixture's dataspace (its receive fd as cap). */
static struct l4u_ds fx_ds(const struct fx_dsm *d)
{
	return (struct l4u_ds){
		.cap	= d->gate,
		.flags	= d->flags,
		.size	= d->size,
		.id	= (uint64_t)(uintptr_t)d,
	};
}

/*
 * An anonymous-memory manager fixture (for copy-on-write): listens on an
 * abstract Unix socket; each L4U_DSM_OPEN_ANON starts a new fx_dsm (its
 * pages pre-filled with pattern 0x99, so that a copy must overwrite them)
 * and hands out a send capability of its gate.
 */
#define FX_MAX_DS	16

struct fx_factory {
	int dev;
	int lsock;
	int stop_pipe[2];
	char name[64];		/* "@..." */
	pthread_t thread;
	struct fx_dsm *ds[FX_MAX_DS];
	volatile int n;
};

static void fx_factory_serve(struct fx_factory *f, int c)
{
	struct l4u_dsm_resp resp = { 0 };
	struct l4u_dsm_req req;
	struct fx_dsm *d;
	int fd, n, cap = -1;

	n = l4u_cap_recv(c, &fd, &req, sizeof(req));
	if (fd >= 0)
		close(fd);
	if (n != (int)sizeof(req) || req.op != L4U_DSM_OPEN_ANON ||
	    !req.size || req.size % PG || f->n >= FX_MAX_DS) {
		resp.error = EINVAL;
	} else {
		d = calloc(1, sizeof(*d));
		if (!d || fx_dsm_start(f->dev, d, req.size / PG,
				       req.flags & L4_FPAGE_RWX, 0x99, 12)) {
			resp.error = ENOMEM;	/* (a test failure anyway) */
		} else {
			f->ds[f->n] = d;
			__atomic_fetch_add(&f->n, 1, __ATOMIC_SEQ_CST);
			cap = l4u_gate_send_cap(d->gate);
			resp.flags = d->flags;
			resp.size = d->size;
			resp.id = (uint64_t)(uintptr_t)d;
		}
	}
	l4u_cap_send(c, cap, &resp, sizeof(resp));
	if (cap >= 0)
		close(cap);
}

static void *fx_factory_main(void *arg)
{
	struct fx_factory *f = arg;

	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = f->lsock, .events = POLLIN },
			{ .fd = f->stop_pipe[0], .events = POLLIN },
		};
		int c;

		if (poll(pfd, 2, -1) < 0)
			continue;
		if (pfd[1].revents)
			return NULL;
		c = accept4(f->lsock, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		fx_factory_serve(f, c);
		close(c);
	}
}

static int fx_factory_start(int dev, struct fx_factory *f)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n;

	memset(f, 0, sizeof(*f));
	f->dev = dev;
	snprintf(f->name, sizeof(f->name), "@l4u-selftest-rm-%d", getpid());
	n = strlen(f->name);
	memcpy(sa.sun_path + 1, f->name + 1, n - 1);	/* sun_path[0] = 0 */
	f->lsock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (f->lsock < 0 ||
	    bind(f->lsock, (struct sockaddr *)&sa,
		 offsetof(struct sockaddr_un, sun_path) + n) ||
	    listen(f->lsock, 8) || pipe2(f->stop_pipe, O_CLOEXEC))
		return -1;
	return pthread_create(&f->thread, NULL, fx_factory_main, f) ? -1 : 0;
}

static void fx_factory_stop(struct fx_factory *f)
{
	int i;

	l4t_post(f->stop_pipe[1]);
	pthread_join(f->thread, NULL);
	close(f->lsock);
	close(f->stop_pipe[0]);
	close(f->stop_pipe[1]);
	for (i = 0; i < f->n; i++) {
		fx_dsm_stop(f->ds[i]);
		free(f->ds[i]);
	}
}

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

/* A task (64 GiB default) and its region manager. */
struct rmt {
	struct l4u_task *task;
	struct l4u_rm *rm;
	struct l4u_task_info ti;
};

static int rmt_start(int dev, struct rmt *t, const struct l4u_task_attr *attr)
{
	int ret;

	ret = l4u_task_create(dev, attr, &t->task);
	if (!ret)
		ret = l4u_task_info(t->task, &t->ti);
	if (!ret)
		ret = l4u_rm_create(dev, t->task, &t->rm);
	return ret;
}

static int rmt_stop(struct rmt *t)
{
	int ret = l4u_rm_destroy(t->rm);

	return ret ? ret : l4u_task_destroy(t->task);
}

/*
 * The usual set-up: a manager of one dataspace (fx_dsm_start()'s
 * arguments), the client's view of it, a task and its region manager.
 */
struct rmfx {
	struct fx_dsm d;	/* the dataspace manager */
	struct l4u_ds ds;	/* the client's view of its dataspace */
	struct rmt t;		/* the task and its region manager */
};

static int rmfx_start(int dev, struct rmfx *fx, size_t pages, uint32_t flags,
		      uint64_t seed, unsigned int max_order)
{
	if (fx_dsm_start(dev, &fx->d, pages, flags, seed, max_order))
		return -1;
	fx->ds = fx_ds(&fx->d);
	return rmt_start(dev, &fx->t, NULL);
}

/* ... and its end: then nothing of the test is left */
#define RMFX_STOP(fx) do {						\
	ASSERT_EQ(0, rmt_stop(&(fx)->t));				\
	fx_dsm_stop(&(fx)->d);						\
	ASSERT_IPC_SETTLED(self);					\
} while (0)

/* A touch of @p must raise @sig with si_addr @p. */
#define ASSERT_SIG(sig_, p, mode) do {					\
	struct l4t_fault f_;						\
									\
	ASSERT_EQ((size_t)0, l4t_touch((p), 1, (mode), &f_));		\
	ASSERT_EQ((sig_), f_.sig);					\
	ASSERT_EQ((void *)(p), f_.addr);				\
} while (0)

/* ------------------------------------------------------------------ */
/* Faults through the region manager                                   */
/* ------------------------------------------------------------------ */

/*
 * A region of a dataspace from offset 4 pages: reads show the dataspace's
 * contents at the right offsets, one MAP per page (single-page manager),
 * writes reach the dataspace, the task's space holds exactly the touched
 * pages, and the task's window is aligned to 1 GiB.
 */
TEST_F(rm, fault_read_write)
{
	struct rmfx fx;
	struct l4u_region reg;
	char *p = NULL;
	int i;

	ASSERT_EQ(0, rmfx_start(self->dev, &fx, 16, L4_FPAGE_RWX, 0x21, 12));
	ASSERT_EQ(0ULL, (uint64_t)(uintptr_t)fx.t.ti.win & (L4U_TASK_ALIGN - 1));
	ASSERT_EQ(L4U_TASK_DEFAULT_SIZE, fx.t.ti.win_len);
	ASSERT_EQ(0ULL, fx.t.ti.win_addr);

	ASSERT_EQ(0, l4u_rm_attach(fx.t.rm, (void **)&p, 8 * PG,
				   L4_FPAGE_RW | L4U_RM_SEARCH_ADDR, &fx.ds, 4 * PG, 0));
	ASSERT_EQ(fx.t.ti.win, p);		/* the first free range */
	ASSERT_EQ(0, l4u_rm_find(fx.t.rm, p + 3 * PG, 1, &reg));
	ASSERT_EQ(p, reg.start);
	ASSERT_EQ(8 * PG, reg.size);
	ASSERT_EQ(4 * PG, reg.offset);
	ASSERT_EQ((uint32_t)L4_FPAGE_RW, reg.flags);
	ASSERT_EQ(fx.ds.id, reg.ds_id);
	ASSERT_NE(fx.ds.cap, reg.ds_cap);	/* its own duplicate */
	ASSERT_EQ(0ULL, l4t_nodes(fx.t.ti.space));

	ASSERT_EQ(-1L, l4t_check(p + 2 * PG, 6 * PG, PG, 0x21));
	ASSERT_EQ(1, fx.d.maps);
	ASSERT_EQ(1ULL, l4t_nodes(fx.t.ti.space));
	for (i = 0; i < 8; i++)
		ASSERT_EQ(-1L, l4t_check(p + i * PG, (4 + i) * PG, PG, 0x21));
	ASSERT_EQ(8, fx.d.maps);
	ASSERT_EQ(8ULL, l4t_nodes(fx.t.ti.space));
	/* RW was asked for: a write needs no second fault */
	*(volatile __u64 *)(p + 5 * PG + 16) = 77;
	ASSERT_EQ(77ULL, *(volatile __u64 *)(fx.d.win + 9 * PG + 16));
	ASSERT_EQ(8, fx.d.maps);

	RMFX_STOP(&fx);
}

/*
 * SIGSEGV where no region is, and for a write into a read-only region
 * (whose reads work); the faulting address is exact.
 */
TEST_F(rm, segv_no_region_and_read_only)
{
	struct rmfx fx;
	char *p;

	ASSERT_EQ(0, rmfx_start(self->dev, &fx, 8, L4_FPAGE_RWX, 0x22, 12));
	p = fx.t.ti.win + 4 * PG;
	ASSERT_EQ(0, l4u_rm_attach(fx.t.rm, (void **)&p, 2 * PG, L4_FPAGE_R, &fx.ds, 0, 0));
	ASSERT_EQ(fx.t.ti.win + 4 * PG, p);

	ASSERT_SIG(SIGSEGV, fx.t.ti.win + 3 * PG, L4T_READ);
	ASSERT_SIG(SIGSEGV, p + 2 * PG + 8, L4T_WRITE);
	ASSERT_SIG(SIGSEGV, fx.t.ti.win + (1ULL << 35), L4T_READ);
	ASSERT_EQ(0, fx.d.maps);
	ASSERT_EQ(-1L, l4t_check(p, 0, 2 * PG, 0x22));
	ASSERT_EQ(2, fx.d.maps);
	ASSERT_SIG(SIGSEGV, p + PG + 24, L4T_WRITE);
	ASSERT_SIG(SIGSEGV, p, L4T_WRITE);
	ASSERT_EQ(-1L, l4t_check(fx.d.win, 0, 2 * PG, 0x22));	/* unchanged */
	ASSERT_EQ(2ULL, l4t_nodes(fx.t.ti.space));

	RMFX_STOP(&fx);
}

/*
 * The receive window is the largest aligned block around the fault inside
 * the region: a greedy manager offering 2 MiB flexpages lands only pages
 * of the region, never those of its neighbours or of a gap.
 */
TEST_F(rm, receive_window_restricted)
{
	struct rmfx fx;
	char *base, *a, *b;

	ASSERT_EQ(0, rmfx_start(self->dev, &fx, 1024, L4_FPAGE_RWX, 0x23, 21));
	base = fx.t.ti.win + (2ULL << 20);		/* 2 MiB aligned */
	/* A: 3 pages at base + 1 page, from offset 2 MiB + 1 page */
	a = base + PG;
	ASSERT_EQ(0, l4u_rm_attach(fx.t.rm, (void **)&a, 3 * PG, L4_FPAGE_RW, &fx.ds,
				   (2ULL << 20) + PG, 0));
	/* B: right after A (one page gap), same alignment */
	b = base + 5 * PG;
	ASSERT_EQ(0, l4u_rm_attach(fx.t.rm, (void **)&b, 4 * PG, L4_FPAGE_RW, &fx.ds,
				   (2ULL << 20) + 5 * PG, 0));

	/* fault in A's 2nd page: window [base+2p, base+4p), 2 pages */
	ASSERT_EQ(-1L, l4t_check(a + PG, (2ULL << 20) + 2 * PG, PG, 0x23));
	ASSERT_EQ(1, fx.d.maps);
	ASSERT_EQ(21U, fx.d.last_order);		/* it offered 2 MiB */
	ASSERT_EQ(L4_FPAGE((2ULL << 20) + 2 * PG, 13, 0), fx.d.last_rcv);
	ASSERT_EQ(2ULL, l4t_nodes(fx.t.ti.space));
	ASSERT_EQ(-1L, l4t_check(a + 2 * PG, (2ULL << 20) + 3 * PG, PG, 0x23));
	ASSERT_EQ(1, fx.d.maps);			/* already there */
	ASSERT_EQ(-1L, l4t_check(a, (2ULL << 20) + PG, PG, 0x23));
	ASSERT_EQ(2, fx.d.maps);
	ASSERT_EQ(L4_FPAGE((2ULL << 20) + PG, 12, 0), fx.d.last_rcv);
	ASSERT_EQ(3ULL, l4t_nodes(fx.t.ti.space));
	/* nothing landed in the gap, in B, or below A */
	ASSERT_SIG(SIGSEGV, base + 4 * PG, L4T_READ);
	ASSERT_SIG(SIGSEGV, base, L4T_READ);
	ASSERT_EQ(3ULL, l4t_nodes(fx.t.ti.space));
	/* B faults on its own: [base+8p, base+9p) is B's aligned 1-page block
	 * at its end, base+6p..8p a 2-page one */
	ASSERT_EQ(-1L, l4t_check(b + 3 * PG, (2ULL << 20) + 8 * PG, PG, 0x23));
	ASSERT_EQ(3, fx.d.maps);
	ASSERT_EQ(L4_FPAGE((2ULL << 20) + 8 * PG, 12, 0), fx.d.last_rcv);
	ASSERT_EQ(-1L, l4t_check(b + PG, (2ULL << 20) + 6 * PG, PG, 0x23));
	ASSERT_EQ(L4_FPAGE((2ULL << 20) + 6 * PG, 13, 0), fx.d.last_rcv);
	ASSERT_EQ(6ULL, l4t_nodes(fx.t.ti.space));

	RMFX_STOP(&fx);
}

/* A 2 MiB aligned region of a greedy manager: one fault maps all of it. */
TEST_F(rm, large_flexpage)
{
	struct rmfx fx;
	char *p = NULL;

	ASSERT_EQ(0, rmfx_start(self->dev, &fx, 1024, L4_FPAGE_RWX, 0x24, 21));
	ASSERT_EQ(0, l4u_rm_attach(fx.t.rm, (void **)&p, 2ULL << 20,
				   L4_FPAGE_RW | L4U_RM_SEARCH_ADDR, &fx.ds, 2ULL << 20, 21));
	ASSERT_EQ(0ULL, (uint64_t)(uintptr_t)p & ((2ULL << 20) - 1));
	ASSERT_EQ(-1L, l4t_check(p + 100 * PG, (2ULL << 20) + 100 * PG, PG, 0x24));
	ASSERT_EQ(512ULL, l4t_nodes(fx.t.ti.space));
	ASSERT_EQ(-1L, l4t_check(p, 2ULL << 20, 2ULL << 20, 0x24));
	ASSERT_EQ(1, fx.d.maps);
	RMFX_STOP(&fx);
}

/* Eager mapping: every page is there after attach, no fault follows. */
TEST_F(rm, eager_map)
{
	struct l4_stats s0, s1;
	struct l4u_region reg;
	struct rmfx fx;
	char *p = NULL;

	ASSERT_EQ(0, rmfx_start(self->dev, &fx, 16, L4_FPAGE_RWX, 0x25, 12));
	ASSERT_EQ(0, l4u_rm_attach(fx.t.rm, (void **)&p, 6 * PG,
				   L4_FPAGE_RW | L4U_RM_SEARCH_ADDR | L4U_RM_EAGER_MAP,
				   &fx.ds, 3 * PG, 0));
	ASSERT_EQ(6, fx.d.maps);
	ASSERT_EQ(6ULL, l4t_nodes(fx.t.ti.space));
	ASSERT_EQ(0, l4t_stats(self->dev, &s0));
	ASSERT_EQ(-1L, l4t_check(p, 3 * PG, 6 * PG, 0x25));
	ASSERT_EQ(0, l4t_stats(self->dev, &s1));
	ASSERT_EQ(s0.pager_faults, s1.pager_faults);
	ASSERT_EQ(6, fx.d.maps);
	/* rights the dataspace refuses at map time: attach fails, no region */
	fx.d.flags = L4_FPAGE_R;
	p = NULL;
	fx.ds = fx_ds(&fx.d);
	fx.ds.flags = L4_FPAGE_RWX;	/* the client believes it may write */
	ASSERT_EQ(-EACCES, l4u_rm_attach(fx.t.rm, (void **)&p, 2 * PG,
					 L4_FPAGE_RW | L4U_RM_SEARCH_ADDR | L4U_RM_EAGER_MAP,
					 &fx.ds, 0, 0));
	ASSERT_EQ(0, l4u_rm_find(fx.t.rm, fx.t.ti.win, 1ULL << 30, &reg));
	ASSERT_EQ(6 * PG, reg.size);
	ASSERT_EQ(-ENOENT, l4u_rm_find(fx.t.rm, (char *)reg.start + 6 * PG,
				       1ULL << 30, &reg));
	RMFX_STOP(&fx);
}

/*
 * Copy-on-write: reads of a private region show the dataspace, the first
 * write to a page copies it (one anonymous dataspace per page, from the
 * factory fixture) and the dataspace never changes; detach drops copies.
 */
TEST_F(rm, private_copy_on_write)
{
	struct fx_factory f;
	struct fx_dsm d;
	struct l4u_ds ds;
	struct l4u_region reg;
	unsigned int res;
	struct rmt t;
	char *p = NULL, *q;

	ASSERT_EQ(0, fx_dsm_start(self->dev, &d, 8, L4_FPAGE_RWX, 0x31, 12));
	ds = fx_ds(&d);
	ASSERT_EQ(0, fx_factory_start(self->dev, &f));
	ASSERT_EQ(0, rmt_start(self->dev, &t, NULL));
	ASSERT_EQ(-EOPNOTSUPP, l4u_rm_attach(t.rm, (void **)&p, 4 * PG,
					     L4_FPAGE_RW | L4U_RM_PRIVATE | L4U_RM_SEARCH_ADDR,
					     &ds, 2 * PG, 0));
	ASSERT_EQ(-EINVAL, l4u_rm_set_cow(t.rm, self->dev, NULL));
	ASSERT_EQ(-EINVAL, l4u_rm_set_cow(NULL, self->dev, f.name));
	ASSERT_EQ(0, l4u_rm_set_cow(t.rm, self->dev, f.name));
	ASSERT_EQ(-EBUSY, l4u_rm_set_cow(t.rm, self->dev, f.name));
	ASSERT_EQ(0, l4u_rm_attach(t.rm, (void **)&p, 4 * PG,
				   L4_FPAGE_RW | L4U_RM_PRIVATE | L4U_RM_SEARCH_ADDR,
				   &ds, 2 * PG, 0));
	ASSERT_EQ(0, l4u_rm_find(t.rm, p, PG, &reg));
	ASSERT_EQ((uint32_t)(L4_FPAGE_RW | L4U_RM_PRIVATE), reg.flags);

	/* reads share the dataspace's pages */
	ASSERT_EQ(-1L, l4t_check(p, 2 * PG, PG, 0x31));
	ASSERT_EQ(0, f.n);
	/* a write copies its page */
	*(volatile __u64 *)(p + PG + 8) = 1234;
	ASSERT_EQ(1, f.n);
	ASSERT_EQ(1234ULL, *(volatile __u64 *)(p + PG + 8));
	ASSERT_EQ(-1L, l4t_check(p + PG, 3 * PG, 8, 0x31));
	ASSERT_EQ(-1L, l4t_check(p + PG + 16, 3 * PG + 16, PG - 16, 0x31));
	ASSERT_EQ(-1L, l4t_check(d.win + 3 * PG, 3 * PG, PG, 0x31));
	*(volatile __u64 *)(p + PG + 24) = 5;		/* no second copy */
	ASSERT_EQ(1, f.n);
	/* page 0 was mapped shared, read-only: its write copies too */
	*(volatile __u64 *)(p + 64) = 77;
	ASSERT_EQ(2, f.n);
	ASSERT_EQ(77ULL, *(volatile __u64 *)(p + 64));
	ASSERT_EQ(-1L, l4t_check(d.win + 2 * PG, 2 * PG, PG, 0x31));
	/* other pages still come from the dataspace, one by one */
	ASSERT_EQ(-1L, l4t_check(p + 2 * PG, 4 * PG, 2 * PG, 0x31));
	ASSERT_EQ(4ULL, l4t_nodes(t.ti.space));
	ASSERT_EQ(2, f.n);
	/* a change of the dataspace shows in pages not copied only */
	*(volatile __u64 *)(d.win + 4 * PG) = 99;
	ASSERT_EQ(99ULL, *(volatile __u64 *)(p + 2 * PG));
	ASSERT_EQ(1234ULL, *(volatile __u64 *)(p + PG + 8));

	/* detaching the copied page drops its copy; attached again: shared */
	ASSERT_EQ(0, l4u_rm_detach(t.rm, p + PG, PG, 0, &res, NULL));
	ASSERT_EQ((unsigned int)L4U_RM_SPLIT_DS, res);
	ASSERT_SIG(SIGSEGV, p + PG, L4T_READ);
	q = p + PG;
	ASSERT_EQ(0, l4u_rm_attach(t.rm, (void **)&q, PG, L4_FPAGE_R, &ds, 3 * PG, 0));
	ASSERT_EQ(p + PG, q);
	ASSERT_EQ(-1L, l4t_check(q, 3 * PG, PG, 0x31));	/* not the copy */
	ASSERT_EQ(77ULL, *(volatile __u64 *)(p + 64));	/* page 0's copy stays */

	ASSERT_EQ(0, rmt_stop(&t));
	fx_dsm_stop(&d);
	fx_factory_stop(&f);
	ASSERT_IPC_SETTLED(self);
}

/* Private regions without copy-on-write: read-only. */
TEST_F(rm, private_region)
{
	struct rmfx fx;
	struct l4u_region reg;
	char *p = NULL;

	ASSERT_EQ(0, rmfx_start(self->dev, &fx, 4, L4_FPAGE_RWX, 0x26, 12));
	ASSERT_EQ(-EOPNOTSUPP, l4u_rm_attach(fx.t.rm, (void **)&p, 4 * PG,
					     L4_FPAGE_RW | L4U_RM_PRIVATE | L4U_RM_SEARCH_ADDR,
					     &fx.ds, 0, 0));
	ASSERT_EQ(0, l4u_rm_attach(fx.t.rm, (void **)&p, 4 * PG,
				   L4_FPAGE_R | L4U_RM_PRIVATE | L4U_RM_SEARCH_ADDR,
				   &fx.ds, 0, 0));
	ASSERT_EQ(0, l4u_rm_find(fx.t.rm, p, PG, &reg));
	ASSERT_EQ((uint32_t)(L4_FPAGE_R | L4U_RM_PRIVATE), reg.flags);
	ASSERT_EQ(-1L, l4t_check(p, 0, 4 * PG, 0x26));
	ASSERT_SIG(SIGSEGV, p + PG, L4T_WRITE);
	ASSERT_EQ(-1L, l4t_check(fx.d.win, 0, 4 * PG, 0x26));
	RMFX_STOP(&fx);
}

/* ------------------------------------------------------------------ */
/* attach and its errors                                               */
/* ------------------------------------------------------------------ */

TEST_F(rm, attach_errors)
{
	struct fx_dsm d, dro;
	struct l4u_ds ds, rods, bad;
	struct l4u_region reg;
	struct rmt t;
	char *w, *p;

	ASSERT_EQ(0, fx_dsm_start(self->dev, &d, 16, L4_FPAGE_RWX, 0x27, 12));
	ASSERT_EQ(0, fx_dsm_start(self->dev, &dro, 4, L4_FPAGE_R, 0x28, 12));
	ds = fx_ds(&d);
	rods = fx_ds(&dro);
	ASSERT_EQ(0, rmt_start(self->dev, &t, NULL));
	w = t.ti.win;

#define ATT(err, start, size, flags, dsp, off, al) do {			\
	p = (start);							\
	ASSERT_EQ((err), l4u_rm_attach(t.rm, (void **)&p, (size), (flags), \
				       (dsp), (off), (al)));		\
} while (0)
	/* arguments */
	ASSERT_EQ(-EINVAL, l4u_rm_attach(NULL, (void **)&p, PG, L4_FPAGE_R, &ds, 0, 0));
	ASSERT_EQ(-EINVAL, l4u_rm_attach(t.rm, NULL, PG, L4_FPAGE_R, &ds, 0, 0));
	ATT(-EINVAL, w, PG, L4_FPAGE_R, NULL, 0, 0);
	ATT(-EINVAL, w, PG, L4_FPAGE_R | (1U << 20), &ds, 0, 0);	/* unknown flag */
	ATT(-EINVAL, w, PG, L4_FPAGE_W, &ds, 0, 0);		/* no R */
	ATT(-EINVAL, w, 0, L4_FPAGE_R, &ds, 0, 0);
	ATT(-EINVAL, w, PG + 1, L4_FPAGE_R, &ds, 0, 0);
	ATT(-EINVAL, w, PG, L4_FPAGE_R, &ds, 100, 0);		/* offset */
	ATT(-EINVAL, w, PG, L4_FPAGE_R, &ds, 0, 11);		/* alignment */
	ATT(-EINVAL, w, PG, L4_FPAGE_R, &ds, 0, 48);
	ATT(-EINVAL, w + 8, PG, L4_FPAGE_R, &ds, 0, 0);		/* unaligned start */
	ATT(-EINVAL, NULL, PG, L4_FPAGE_R, &ds, 0, 0);		/* fixed needs one */
	/* the dataspace */
	bad = ds;
	bad.cap = -1;
	ATT(-EBADF, w, PG, L4_FPAGE_R, &bad, 0, 0);
	bad.cap = 1000;						/* not open */
	ATT(-EBADF, w, PG, L4_FPAGE_R, &bad, 0, 0);
	ATT(-EACCES, w, PG, L4_FPAGE_RW, &rods, 0, 0);
	ATT(-EACCES, w, PG, L4_FPAGE_RX, &rods, 0, 0);
	ATT(-ERANGE, w, PG, L4_FPAGE_R, &ds, 16 * PG, 0);		/* offset >= size */
	ATT(-ERANGE, w, 2 * PG, L4_FPAGE_R, &ds, 15 * PG, 0);	/* runs past the end */
	ATT(-EOPNOTSUPP, w, PG, L4_FPAGE_RW | L4U_RM_PRIVATE, &ds, 0, 0);
	/* the window */
	ATT(-ERANGE, w - PG, PG, L4_FPAGE_R, &ds, 0, 0);
	ATT(-ERANGE, w + t.ti.win_len, PG, L4_FPAGE_R, &ds, 0, 0);
	ATT(-ERANGE, w + t.ti.win_len - PG, 2 * PG, L4_FPAGE_R, &ds, 0, 0);
	ATT(0, w + t.ti.win_len - PG, PG, L4_FPAGE_R, &ds, 0, 0);	/* the last page */
	ASSERT_EQ(-1L, l4t_check(p, 0, PG, 0x27));
	/* overlaps: every way */
	ATT(0, w + 8 * PG, 4 * PG, L4_FPAGE_RW, &ds, 0, 0);
	ATT(-EEXIST, w + 8 * PG, 4 * PG, L4_FPAGE_R, &ds, 0, 0);	/* same */
	ATT(-EEXIST, w + 6 * PG, 3 * PG, L4_FPAGE_R, &ds, 0, 0);	/* head */
	ATT(-EEXIST, w + 11 * PG, 3 * PG, L4_FPAGE_R, &ds, 0, 0);	/* tail */
	ATT(-EEXIST, w + 9 * PG, PG, L4_FPAGE_R, &ds, 0, 0);	/* inside */
	ATT(-EEXIST, w + 7 * PG, 6 * PG, L4_FPAGE_R, &ds, 0, 0);	/* around */
	ATT(0, w + 12 * PG, PG, L4_FPAGE_R, &ds, 0, 0);		/* adjacent ok */
	ATT(0, w + 7 * PG, PG, L4_FPAGE_R, &ds, 0, 0);
	/* IN_AREA without an area */
	ATT(-ENOENT, w + 20 * PG, PG, L4_FPAGE_R | L4U_RM_IN_AREA, &ds, 0, 0);
	/* search: first fit from the hint, aligned */
	ATT(0, w + 8 * PG, 2 * PG, L4_FPAGE_R | L4U_RM_SEARCH_ADDR, &ds, 0, 0);
	ASSERT_EQ(w + 13 * PG, p);
	ATT(0, w + 8 * PG, PG, L4_FPAGE_R | L4U_RM_SEARCH_ADDR, &ds, 0, 16);
	ASSERT_EQ(w + 16 * PG, p);
	ATT(0, NULL, PG, L4_FPAGE_R | L4U_RM_SEARCH_ADDR, &ds, 0, 0);
	ASSERT_EQ(w, p);
	/* search that cannot fit */
	ATT(-ENOMEM, w + t.ti.win_len - 2 * PG, 2 * PG,
	    L4_FPAGE_R | L4U_RM_SEARCH_ADDR, &ds, 0, 0);
	ATT(-ERANGE, w - PG, PG, L4_FPAGE_R | L4U_RM_SEARCH_ADDR, &ds, 0, 0);
	/* nothing of the failed attempts stayed */
	ASSERT_EQ(-ENOENT, l4u_rm_find(t.rm, w + PG, 6 * PG, &reg));
	ASSERT_EQ(0, l4u_rm_find(t.rm, w + PG, 7 * PG, &reg));
	ASSERT_EQ(w + 7 * PG, reg.start);
	ASSERT_EQ(-ENOENT, l4u_rm_find(t.rm, w + 17 * PG, PG, &reg));
	ASSERT_EQ(-EINVAL, l4u_rm_find(t.rm, w, 0, &reg));
	ASSERT_EQ(-ENOENT, l4u_rm_find(t.rm, w - PG, PG, &reg));
#undef ATT
	ASSERT_EQ(0, rmt_stop(&t));
	fx_dsm_stop(&d);
	fx_dsm_stop(&dro);
	ASSERT_IPC_SETTLED(self);
}

/* ------------------------------------------------------------------ */
/* detach                                                              */
/* ------------------------------------------------------------------ */

/*
 * Head, tail, middle (split), whole, several at once; the removed part's
 * pages are unmapped (a touch faults again: SIGSEGV), what remains keeps
 * its pages and its offsets.
 */
TEST_F(rm, detach_variants)
{
	struct rmfx fx;
	struct l4u_region old, reg;
	unsigned int res;
	char *p;

	ASSERT_EQ(0, rmfx_start(self->dev, &fx, 32, L4_FPAGE_RWX, 0x29, 12));
	p = fx.t.ti.win + 16 * PG;
	ASSERT_EQ(0, l4u_rm_attach(fx.t.rm, (void **)&p, 12 * PG, L4_FPAGE_RW, &fx.ds,
				   8 * PG, 0));
	ASSERT_EQ(-1L, l4t_check(p, 8 * PG, 12 * PG, 0x29));
	ASSERT_EQ(12ULL, l4t_nodes(fx.t.ti.space));

	/* errors */
	ASSERT_EQ(-EINVAL, l4u_rm_detach(NULL, p, PG, 0, &res, &old));
	ASSERT_EQ(-EINVAL, l4u_rm_detach(fx.t.rm, p, 0, 0, &res, &old));
	ASSERT_EQ(-EINVAL, l4u_rm_detach(fx.t.rm, p, 100, 0, &res, &old));
	ASSERT_EQ(-EINVAL, l4u_rm_detach(fx.t.rm, p + 1, PG, 0, &res, &old));
	ASSERT_EQ(-EINVAL, l4u_rm_detach(fx.t.rm, p, PG, 8, &res, &old));
	ASSERT_EQ(-ENOENT, l4u_rm_detach(fx.t.rm, p - 4 * PG, 4 * PG, 0, &res, &old));
	ASSERT_EQ(-ENOENT, l4u_rm_detach(fx.t.rm, fx.t.ti.win - PG, PG, 0, &res, &old));

	/* head: 2 pages (the range may start before the region) */
	ASSERT_EQ(0, l4u_rm_detach(fx.t.rm, p - PG, 3 * PG, 0, &res, &old));
	ASSERT_EQ((unsigned int)L4U_RM_KEPT_DS, res);
	ASSERT_EQ(p, old.start);
	ASSERT_EQ(2 * PG, old.size);
	ASSERT_EQ(8 * PG, old.offset);
	ASSERT_EQ(fx.ds.id, old.ds_id);
	ASSERT_EQ(10ULL, l4t_nodes(fx.t.ti.space));
	ASSERT_SIG(SIGSEGV, p + PG, L4T_READ);
	ASSERT_EQ(0, l4u_rm_find(fx.t.rm, p, 4 * PG, &reg));
	ASSERT_EQ(p + 2 * PG, reg.start);
	ASSERT_EQ(10 * PG, reg.size);
	ASSERT_EQ(10 * PG, reg.offset);

	/* tail: 2 pages, range running past the end */
	ASSERT_EQ(0, l4u_rm_detach(fx.t.rm, p + 10 * PG, 8 * PG, 0, &res, &old));
	ASSERT_EQ((unsigned int)L4U_RM_KEPT_DS, res);
	ASSERT_EQ(p + 10 * PG, old.start);
	ASSERT_EQ(2 * PG, old.size);
	ASSERT_EQ(18 * PG, old.offset);
	ASSERT_EQ(8ULL, l4t_nodes(fx.t.ti.space));
	ASSERT_SIG(SIGSEGV, p + 11 * PG, L4T_WRITE);

	/* middle: [p+5, p+7) out of [p+2, p+10) */
	ASSERT_EQ(0, l4u_rm_detach(fx.t.rm, p + 5 * PG, 2 * PG, 0, &res, &old));
	ASSERT_EQ((unsigned int)L4U_RM_SPLIT_DS, res);
	ASSERT_EQ(13 * PG, old.offset);
	ASSERT_EQ(6ULL, l4t_nodes(fx.t.ti.space));
	ASSERT_EQ(0, l4u_rm_find(fx.t.rm, p, 6 * PG, &reg));
	ASSERT_EQ(p + 2 * PG, reg.start);
	ASSERT_EQ(3 * PG, reg.size);
	ASSERT_EQ(10 * PG, reg.offset);
	ASSERT_EQ(0, l4u_rm_find(fx.t.rm, p + 5 * PG, 6 * PG, &reg));
	ASSERT_EQ(p + 7 * PG, reg.start);
	ASSERT_EQ(3 * PG, reg.size);
	ASSERT_EQ(15 * PG, reg.offset);
	ASSERT_SIG(SIGSEGV, p + 6 * PG, L4T_READ);
	/* the halves still show their pages, through the same mappings */
	ASSERT_EQ(-1L, l4t_check(p + 2 * PG, 10 * PG, 3 * PG, 0x29));
	ASSERT_EQ(-1L, l4t_check(p + 7 * PG, 15 * PG, 3 * PG, 0x29));
	ASSERT_EQ(6ULL, l4t_nodes(fx.t.ti.space));

	/* one range over both halves: two calls, AGAIN on the first */
	ASSERT_EQ(0, l4u_rm_detach(fx.t.rm, p + 3 * PG, 6 * PG, 0, &res, NULL));
	ASSERT_EQ((unsigned int)(L4U_RM_KEPT_DS | L4U_RM_DETACH_AGAIN), res);
	ASSERT_EQ(0, l4u_rm_detach(fx.t.rm, p + 3 * PG, 6 * PG, 0, &res, NULL));
	ASSERT_EQ((unsigned int)L4U_RM_KEPT_DS, res);
	ASSERT_EQ(2ULL, l4t_nodes(fx.t.ti.space));
	ASSERT_EQ(-ENOENT, l4u_rm_detach(fx.t.rm, p + 3 * PG, 6 * PG, 0, &res, NULL));
	ASSERT_EQ(-1L, l4t_check(p + 2 * PG, 10 * PG, PG, 0x29));
	ASSERT_EQ(-1L, l4t_check(p + 9 * PG, 17 * PG, PG, 0x29));

	/* whole: a one-page range inside, DETACH_WHOLE */
	ASSERT_EQ(0, l4u_rm_detach(fx.t.rm, p + 2 * PG, PG, L4U_RM_DETACH_WHOLE,
				   &res, &old));
	ASSERT_EQ((unsigned int)L4U_RM_DETACHED_DS, res);
	ASSERT_EQ(PG, old.size);
	ASSERT_EQ(0, l4u_rm_detach(fx.t.rm, p, 16 * PG, 0, &res, &old));
	ASSERT_EQ((unsigned int)L4U_RM_DETACHED_DS, res);
	ASSERT_EQ(p + 9 * PG, old.start);
	ASSERT_EQ(0ULL, l4t_nodes(fx.t.ti.space));
	ASSERT_EQ(-ENOENT, l4u_rm_find(fx.t.rm, fx.t.ti.win, fx.t.ti.win_len, &reg));

	/* detached and attached again: faults anew, sees the dataspace */
	*(volatile __u64 *)(fx.d.win + 19 * PG) = 5;
	ASSERT_EQ(0, l4u_rm_attach(fx.t.rm, (void **)&p, 12 * PG, L4_FPAGE_RW, &fx.ds,
				   8 * PG, 0));
	ASSERT_EQ(5ULL, *(volatile __u64 *)(p + 11 * PG));
	ASSERT_EQ(1ULL, l4t_nodes(fx.t.ti.space));
	RMFX_STOP(&fx);
}

/* ------------------------------------------------------------------ */
/* areas                                                               */
/* ------------------------------------------------------------------ */

TEST_F(rm, areas)
{
	struct rmfx fx;
	char *w, *a1, *a2, *p;

	ASSERT_EQ(0, rmfx_start(self->dev, &fx, 16, L4_FPAGE_RWX, 0x2a, 12));
	w = fx.t.ti.win;

	/* errors */
	a1 = w;
	ASSERT_EQ(-EINVAL, l4u_rm_reserve_area(NULL, (void **)&a1, PG, 0, 0));
	ASSERT_EQ(-EINVAL, l4u_rm_reserve_area(fx.t.rm, NULL, PG, 0, 0));
	ASSERT_EQ(-EINVAL, l4u_rm_reserve_area(fx.t.rm, (void **)&a1, 0, 0, 0));
	ASSERT_EQ(-EINVAL, l4u_rm_reserve_area(fx.t.rm, (void **)&a1, PG + 1, 0, 0));
	ASSERT_EQ(-EINVAL, l4u_rm_reserve_area(fx.t.rm, (void **)&a1, PG, L4U_RM_IN_AREA, 0));
	ASSERT_EQ(-EINVAL, l4u_rm_reserve_area(fx.t.rm, (void **)&a1, PG, 0, 3));
	a1 = w + 1;
	ASSERT_EQ(-EINVAL, l4u_rm_reserve_area(fx.t.rm, (void **)&a1, PG, 0, 0));
	a1 = w - PG;
	ASSERT_EQ(-ERANGE, l4u_rm_reserve_area(fx.t.rm, (void **)&a1, PG, 0, 0));
	a1 = w + fx.t.ti.win_len - PG;
	ASSERT_EQ(-ERANGE, l4u_rm_reserve_area(fx.t.rm, (void **)&a1, 2 * PG, 0, 0));

	/* a fixed area [w+16p, w+32p) and a searched one after it */
	a1 = w + 16 * PG;
	ASSERT_EQ(0, l4u_rm_reserve_area(fx.t.rm, (void **)&a1, 16 * PG, 0, 0));
	ASSERT_EQ(w + 16 * PG, a1);
	a2 = w + 20 * PG;
	ASSERT_EQ(0, l4u_rm_reserve_area(fx.t.rm, (void **)&a2, 4 * PG,
					 L4U_RM_SEARCH_ADDR, 0));
	ASSERT_EQ(w + 32 * PG, a2);
	a2 = w + 30 * PG;
	ASSERT_EQ(-EEXIST, l4u_rm_reserve_area(fx.t.rm, (void **)&a2, 4 * PG, 0, 0));
	a2 = w + 32 * PG;

	/* regions and areas */
	p = w + 18 * PG;
	ASSERT_EQ(-EEXIST, l4u_rm_attach(fx.t.rm, (void **)&p, PG, L4_FPAGE_R, &fx.ds, 0, 0));
	p = w + 14 * PG;
	ASSERT_EQ(-EEXIST, l4u_rm_attach(fx.t.rm, (void **)&p, 4 * PG, L4_FPAGE_R, &fx.ds, 0, 0));
	p = w + 18 * PG;
	ASSERT_EQ(0, l4u_rm_attach(fx.t.rm, (void **)&p, 2 * PG,
				   L4_FPAGE_RW | L4U_RM_IN_AREA, &fx.ds, 0, 0));
	ASSERT_EQ(-1L, l4t_check(p, 0, 2 * PG, 0x2a));
	p = w + 30 * PG;	/* runs out of the area */
	ASSERT_EQ(-ERANGE, l4u_rm_attach(fx.t.rm, (void **)&p, 4 * PG,
					 L4_FPAGE_R | L4U_RM_IN_AREA, &fx.ds, 0, 0));
	p = w + 40 * PG;	/* no area there */
	ASSERT_EQ(-ENOENT, l4u_rm_attach(fx.t.rm, (void **)&p, PG,
					 L4_FPAGE_R | L4U_RM_IN_AREA, &fx.ds, 0, 0));
	/* search in the area, from its start */
	p = a1;
	ASSERT_EQ(0, l4u_rm_attach(fx.t.rm, (void **)&p, 3 * PG,
				   L4_FPAGE_R | L4U_RM_IN_AREA | L4U_RM_SEARCH_ADDR,
				   &fx.ds, 0, 0));
	ASSERT_EQ(w + 20 * PG, p);
	p = a2;
	ASSERT_EQ(-ENOMEM, l4u_rm_attach(fx.t.rm, (void **)&p, 5 * PG,
					 L4_FPAGE_R | L4U_RM_IN_AREA | L4U_RM_SEARCH_ADDR,
					 &fx.ds, 0, 0));
	/* search outside areas skips both */
	p = w + 15 * PG;
	ASSERT_EQ(0, l4u_rm_attach(fx.t.rm, (void **)&p, 2 * PG,
				   L4_FPAGE_R | L4U_RM_SEARCH_ADDR, &fx.ds, 0, 0));
	ASSERT_EQ(w + 36 * PG, p);
	/* an area may not cover a region */
	p = w + 34 * PG;
	ASSERT_EQ(-EEXIST, l4u_rm_reserve_area(fx.t.rm, (void **)&p, 4 * PG, 0, 0));

	/* free: only at an area's start; its regions stay */
	ASSERT_EQ(-ENOENT, l4u_rm_free_area(fx.t.rm, w + 17 * PG));
	ASSERT_EQ(-ENOENT, l4u_rm_free_area(fx.t.rm, w + 40 * PG));
	ASSERT_EQ(-ENOENT, l4u_rm_free_area(fx.t.rm, w - PG));
	ASSERT_EQ(-EINVAL, l4u_rm_free_area(NULL, a1));
	ASSERT_EQ(0, l4u_rm_free_area(fx.t.rm, a1));
	ASSERT_EQ(-ENOENT, l4u_rm_free_area(fx.t.rm, a1));
	ASSERT_EQ(-1L, l4t_check(w + 18 * PG, 0, 2 * PG, 0x2a));
	p = w + 24 * PG;	/* free space now: no IN_AREA needed */
	ASSERT_EQ(0, l4u_rm_attach(fx.t.rm, (void **)&p, PG, L4_FPAGE_R, &fx.ds, 0, 0));
	ASSERT_EQ(0, l4u_rm_free_area(fx.t.rm, a2));

	RMFX_STOP(&fx);
}

/* ------------------------------------------------------------------ */
/* placement, lifetime                                                 */
/* ------------------------------------------------------------------ */

/* Identity placement: space address == virtual address. */
TEST_F(rm, identity_task)
{
	const uint64_t lo = 0x300000000000ULL;	/* 48 TiB: free in a test */
	struct l4u_task_attr attr = {
		.size		= lo + (1ULL << 30),
		.flags		= L4U_TASK_IDENTITY,
		.identity_lo	= lo,
	};
	struct fx_dsm d;
	struct l4u_ds ds;
	struct rmt t;
	char *p = NULL;

	ASSERT_EQ(0, fx_dsm_start(self->dev, &d, 8, L4_FPAGE_RWX, 0x2b, 12));
	ds = fx_ds(&d);
	ASSERT_EQ(0, rmt_start(self->dev, &t, &attr));
	ASSERT_EQ((char *)(uintptr_t)lo, t.ti.win);
	ASSERT_EQ(lo, t.ti.win_addr);
	ASSERT_EQ(1ULL << 30, t.ti.win_len);
	ASSERT_EQ(0, l4u_rm_attach(t.rm, (void **)&p, 8 * PG,
				   L4_FPAGE_RW | L4U_RM_SEARCH_ADDR, &ds, 0, 0));
	ASSERT_EQ((char *)(uintptr_t)lo, p);
	p[8] = 1;
	ASSERT_EQ(1, d.win[8]);
	/* the fault message named the space address == this address */
	ASSERT_EQ(L4_FPAGE(lo, 15, 0), d.last_rcv);
	ASSERT_EQ(0, rmt_stop(&t));
	fx_dsm_stop(&d);
	ASSERT_IPC_SETTLED(self);
}

/* Destroying a region manager unmaps everything; one per task. */
TEST_F(rm, destroy_unmaps)
{
	struct rmfx fx;
	struct l4u_rm *rm2;
	char *p = NULL;

	ASSERT_EQ(0, rmfx_start(self->dev, &fx, 8, L4_FPAGE_RWX, 0x2c, 12));
	ASSERT_EQ(-EBUSY, l4u_rm_create(self->dev, fx.t.task, &rm2));
	ASSERT_EQ(-EBUSY, l4u_task_destroy(fx.t.task));
	ASSERT_EQ(0, l4u_rm_attach(fx.t.rm, (void **)&p, 8 * PG,
				   L4_FPAGE_RW | L4U_RM_SEARCH_ADDR | L4U_RM_EAGER_MAP,
				   &fx.ds, 0, 0));
	ASSERT_EQ(8ULL, l4t_nodes(fx.t.ti.space));
	ASSERT_EQ(0, l4u_rm_destroy(fx.t.rm));
	ASSERT_EQ(0ULL, l4t_nodes(fx.t.ti.space));
	/* no pager any more: SIGBUS */
	ASSERT_SIG(SIGBUS, p, L4T_READ);
	/* a new one */
	ASSERT_EQ(0, l4u_rm_create(self->dev, fx.t.task, &fx.t.rm));
	ASSERT_SIG(SIGSEGV, p, L4T_READ);
	RMFX_STOP(&fx);
}

/*
 * The dataspace's manager dies (its receive fd closes; the region manager
 * holds a send capability): the pages it had mapped are revoked with its
 * space, and every fault in the region is answered EPIPE: SIGBUS. Eager
 * attaching fails with -EPIPE.
 */
TEST_F(rm, manager_gone_sigbus)
{
	struct fx_dsm d;
	struct l4u_ds ds;
	struct rmt t;
	char *p = NULL, *q = NULL;

	ASSERT_EQ(0, fx_dsm_start(self->dev, &d, 8, L4_FPAGE_RWX, 0x2e, 12));
	ds = fx_ds(&d);
	ds.cap = l4u_gate_send_cap(d.gate);
	ASSERT_LE(0, ds.cap);
	ASSERT_EQ(0, rmt_start(self->dev, &t, NULL));
	ASSERT_EQ(0, l4u_rm_attach(t.rm, (void **)&p, 4 * PG,
				   L4_FPAGE_RW | L4U_RM_SEARCH_ADDR, &ds, 0, 0));
	ASSERT_EQ(-1L, l4t_check(p, 0, PG, 0x2e));
	ASSERT_EQ(1ULL, l4t_nodes(t.ti.space));
	fx_dsm_stop(&d);
	ASSERT_EQ(0ULL, l4t_nodes(t.ti.space));
	ASSERT_SIG(SIGBUS, p, L4T_READ);
	ASSERT_SIG(SIGBUS, p + 3 * PG + 8, L4T_WRITE);
	ASSERT_SIG(SIGSEGV, p + 4 * PG, L4T_READ);	/* no region: still SEGV */
	ASSERT_EQ(-EPIPE, l4u_rm_attach(t.rm, (void **)&q, PG,
					L4_FPAGE_R | L4U_RM_SEARCH_ADDR | L4U_RM_EAGER_MAP,
					&ds, 0, 0));
	ASSERT_EQ(0, close(ds.cap));
	ASSERT_EQ(0, rmt_stop(&t));
	ASSERT_IPC_SETTLED(self);
}

/*
 * An L4 thread of the task (l4u_thread_create) whose pager is the region
 * manager's gate, started by ex_regs: its read and its write fault are
 * served through the region manager and the dataspace manager.
 */
static char *volatile lt_addr;
static volatile uint64_t lt_value;
static volatile int lt_done;

__attribute__((noinline)) static void lt_main(void)
{
	lt_value = *(volatile uint64_t *)lt_addr;
	*(volatile uint64_t *)(lt_addr + PG) = lt_value + 1;
	__atomic_store_n(&lt_done, 1, __ATOMIC_SEQ_CST);
	l4f_wake(&lt_done);
}

TEST_F(rm, l4_thread_paged_by_rm)
{
	struct l4u_thread *th;
	struct rmfx fx;
	char *p = NULL, *stack;
	uint64_t sp;

	ASSERT_EQ(0, rmfx_start(self->dev, &fx, 4, L4_FPAGE_RWX, 0x2f, 12));
	ASSERT_EQ(0, l4u_rm_attach(fx.t.rm, (void **)&p, 4 * PG,
				   L4_FPAGE_RW | L4U_RM_SEARCH_ADDR, &fx.ds, 0, 0));
	ASSERT_LE(0, l4u_rm_gate(fx.t.rm));
	ASSERT_EQ(-EINVAL, l4u_rm_gate(NULL));
	ASSERT_EQ(0, l4u_thread_create(fx.t.task, l4u_rm_gate(fx.t.rm), &th));
	stack = malloc(64 * 1024);
	ASSERT_NE(NULL, stack);
	ASSERT_EQ(0, l4u_thread_stack(stack, 64 * 1024, &sp));
	lt_addr = p + 2 * PG + 8;
	ASSERT_EQ(0, l4u_thread_ex_regs(th, (uint64_t)(uintptr_t)lt_main, sp, 0,
					NULL, NULL, NULL));
	ASSERT_EQ(0, l4f_wait_change(&lt_done, 0));
	ASSERT_EQ(1, lt_done);
	ASSERT_EQ(l4t_word(0x2f, 2 * PG + 8), lt_value);
	ASSERT_EQ(lt_value + 1, *(volatile uint64_t *)(fx.d.win + 3 * PG + 8));
	ASSERT_EQ(2, fx.d.maps);
	ASSERT_EQ(0, l4u_thread_delete(th));
	ASSERT_EQ(0, rmt_stop(&fx.t));
	fx_dsm_stop(&fx.d);
	free(stack);
	ASSERT_IPC_SETTLED(self);
}

/* ------------------------------------------------------------------ */
/* The helpers of l4u/util.h                                           */
/* ------------------------------------------------------------------ */

TEST_F(rm, fpage_helpers)
{
	const uint64_t M2 = 2ULL << 20;
	uint64_t revoked = 7;
	struct l4_space_info si;
	char *win;
	int sp;

	ASSERT_EQ(13U, l4u_fpage_order_fit(M2 + 2 * PG, M2 + PG, M2 + 4 * PG));
	ASSERT_EQ(12U, l4u_fpage_order_fit(M2 + PG + 5, M2 + PG, M2 + 4 * PG));
	ASSERT_EQ(15U, l4u_fpage_order_fit(5 * PG, 0, 8 * PG));
	ASSERT_EQ(47U, l4u_fpage_order_fit(12345, 0, 1ULL << 47));
	ASSERT_EQ(21U, l4u_fpage_order_fit(M2 + 77 * PG, M2, 2 * M2));
	ASSERT_EQ(0U, l4u_fpage_order_fit(M2, M2 + PG, M2 + 4 * PG));	/* below */
	ASSERT_EQ(0U, l4u_fpage_order_fit(M2 + 4 * PG, M2, M2 + 4 * PG));	/* at hi */
	ASSERT_EQ(0U, l4u_fpage_order_fit(0x1800, 0x1800, 0x3000));	/* page sticks out */
	ASSERT_EQ(L4_FPAGE(M2 + 2 * PG, 13, L4_FPAGE_RW),
		  l4u_fpage_fit(M2 + 3 * PG, M2 + PG, M2 + 4 * PG, L4_FPAGE_RW));
	ASSERT_EQ(0ULL, l4u_fpage_fit(0, PG, 2 * PG, L4_FPAGE_RW));

	sp = l4t_space_window(self->dev, 16, 0, L4_SPACE_SIGMA0, &win);
	ASSERT_LE(0, sp);
	ASSERT_TOUCH(win, 16, L4T_WRITE);
	ASSERT_EQ(-EINVAL, l4u_unmap_range(sp, PG, PG, L4_FPAGE_RWX, 0, NULL));
	ASSERT_EQ(-EINVAL, l4u_unmap_range(sp, PG + 1, 2 * PG, L4_FPAGE_RWX, 0, NULL));
	ASSERT_EQ(-EINVAL, l4u_unmap_range(sp, PG, 2 * PG + 8, L4_FPAGE_RWX, 0, NULL));
	/* 3..13: 3, 4-7, 8-11, 12: four flexpages, ten pages */
	ASSERT_EQ(0, l4u_unmap_range(sp, 3 * PG, 13 * PG, L4_FPAGE_RWX,
				     L4_UNMAP_ALL_SPACES, &revoked));
	ASSERT_EQ(10ULL, revoked);
	ASSERT_EQ(0, l4t_info(sp, &si));
	ASSERT_EQ(6ULL, si.nodes);
	ASSERT_EQ(0, munmap(win, 16 * PG));
	ASSERT_EQ(0, close(sp));
}

static int serve_count(void *arg, const struct l4_msg *m, struct l4_reply *r)
{
	int *n = arg;

	(*n)++;
	if (m->label == 1) {
		r->nwords = 1;
		r->words[0] = m->words[0] + 1;
		return 0;
	}
	if (m->label == 2)
		return -ENOSPC;
	return L4U_GATE_SERVE_STOP;
}

static void *serve_thread(void *arg)
{
	int *gate = arg;
	int n = 0;

	/* two answered calls, then a stop: l4u_gate_serve returns 0 */
	if (l4u_gate_serve(*gate, serve_count, &n) || n != 3)
		return (void *)1;
	/* a handler's error ends it */
	if (l4u_gate_serve(*gate, serve_count, &n) != -ENOSPC || n != 4)
		return (void *)2;
	return NULL;
}

TEST_F(rm, serve_loop)
{
	struct l4_call c = { .label = 1, .nwords = 1, .rcv_space_fd = -1 };
	pthread_t th;
	void *res;
	int gate, n = 0;

	gate = l4u_gate_create(self->dev);
	ASSERT_LE(0, gate);
	ASSERT_EQ(-EINVAL, l4u_gate_serve(gate, NULL, NULL));
	ASSERT_EQ(0, pthread_create(&th, NULL, serve_thread, &gate));
	c.words[0] = 41;
	ASSERT_EQ(0, l4u_call(gate, &c));
	ASSERT_EQ(42ULL, c.words[0]);
	c.words[0] = 9;
	ASSERT_EQ(0, l4u_call(gate, &c));
	ASSERT_EQ(10ULL, c.words[0]);
	c.label = 3;
	ASSERT_EQ(0, l4u_call(gate, &c));
	c.label = 2;
	c.timeout_ns = 50 * 1000 * 1000;	/* never answered */
	ASSERT_EQ(-ETIMEDOUT, l4u_call(gate, &c));
	ASSERT_EQ(0, pthread_join(th, &res));
	ASSERT_EQ(NULL, res);
	/* nothing queued on a nonblocking gate */
	ASSERT_EQ(0, fcntl(gate, F_SETFL, O_NONBLOCK));
	ASSERT_EQ(-EAGAIN, l4u_gate_serve(gate, serve_count, &n));
	ASSERT_EQ(0, n);
	ASSERT_EQ(0, close(gate));
	ASSERT_IPC_SETTLED(self);
}

/* ------------------------------------------------------------------ */
/* 8 threads at once                                                   */
/* ------------------------------------------------------------------ */

#define MT_THREADS	8
#define MT_ROUNDS	12
#define MT_PAGES	4

struct mt_arg {
	struct rmt *t;
	struct fx_dsm *d;
	int idx;
	int err;		/* 0 or the line that failed */
};

#define MT_CHECK(c) do { if (!(c)) { a->err = __LINE__; return NULL; } } while (0)

/*
 * Each thread attaches its own slice of one dataspace (searching), writes a
 * pattern through the region, checks it in the manager's window, detaches
 * half, checks the other half still reads back and the detached half
 * faults, detaches the rest.
 */
static void *mt_main(void *arg)
{
	struct mt_arg *a = arg;
	struct l4u_ds ds = fx_ds(a->d);
	uint64_t off = (uint64_t)a->idx * MT_PAGES * PG;
	struct l4u_region reg;
	struct l4t_fault f;
	unsigned int res;
	int r;

	for (r = 0; r < MT_ROUNDS; r++) {
		uint64_t seed = 0x100 + a->idx * 64 + r;
		char *p = NULL;

		MT_CHECK(!l4u_rm_attach(a->t->rm, (void **)&p, MT_PAGES * PG,
					L4_FPAGE_RW | L4U_RM_SEARCH_ADDR, &ds, off, 0));
		MT_CHECK(!l4u_rm_find(a->t->rm, p, PG, &reg));
		MT_CHECK(reg.start == p && reg.offset == off);
		l4t_fill(p, off, MT_PAGES * PG, seed);
		MT_CHECK(l4t_check(a->d->win + off, off, MT_PAGES * PG, seed) == -1);
		MT_CHECK(!l4u_rm_detach(a->t->rm, p, 2 * PG, 0, &res, NULL));
		MT_CHECK(res == L4U_RM_KEPT_DS);
		MT_CHECK(l4t_check(p + 2 * PG, off + 2 * PG, 2 * PG, seed) == -1);
		MT_CHECK(l4t_touch(p, 1, L4T_READ, &f) == 0 && f.sig == SIGSEGV);
		MT_CHECK(!l4u_rm_detach(a->t->rm, p, MT_PAGES * PG, 0, &res, NULL));
		MT_CHECK(res == L4U_RM_DETACHED_DS);
	}
	return NULL;
}

/*
 * Detach racing with faults in the same range: readers fault continuously
 * while the range is attached and detached again and again (alternating
 * between two offsets of the dataspace). A reader sees the contents of one
 * of the two offsets or SIGSEGV, never anything else; and right after each
 * detach returns the task's space holds no page at all: no map that was in
 * flight can land after the unmap.
 */
#define RACE_READERS	4
#define RACE_ROUNDS	60
#define RACE_PAGES	8

struct race_arg {
	char *p;
	volatile int *stop;
	int err;
	unsigned long reads, segvs;
};

static void *race_reader(void *arg)
{
	struct race_arg *a = arg;
	unsigned int i = 0;

	while (!*a->stop) {
		unsigned int pg = i++ % RACE_PAGES;
		__u64 v = 0, at = pg * PG + 64;
		struct l4t_fault f;

		if (l4t_access((volatile __u64 *)(a->p + at), L4T_READ, &v, &f)) {
			if (f.sig != SIGSEGV) {
				a->err = __LINE__;
				return NULL;
			}
			a->segvs++;
			continue;
		}
		if (v != l4t_word(0x30, at) && v != l4t_word(0x30, RACE_PAGES * PG + at)) {
			a->err = __LINE__;
			return NULL;
		}
		a->reads++;
	}
	return NULL;
}

TEST_F(rm, detach_races_faults)
{
	struct race_arg args[RACE_READERS];
	pthread_t th[RACE_READERS];
	volatile int stop = 0;
	struct rmfx fx;
	unsigned int res;
	unsigned long reads = 0;
	char *p;
	int i, r;

	ASSERT_EQ(0, rmfx_start(self->dev, &fx, 2 * RACE_PAGES, L4_FPAGE_RWX,
				  0x30, 12));
	p = fx.t.ti.win + (1ULL << 21);
	for (i = 0; i < RACE_READERS; i++) {
		args[i] = (struct race_arg){ .p = p, .stop = &stop };
		ASSERT_EQ(0, pthread_create(&th[i], NULL, race_reader, &args[i]));
	}
	for (r = 0; r < RACE_ROUNDS; r++) {
		char *q = p;

		int maps = fx.d.maps;

		ASSERT_EQ(0, l4u_rm_attach(fx.t.rm, (void **)&q, RACE_PAGES * PG,
					   L4_FPAGE_R, &fx.ds, (r & 1) * RACE_PAGES * PG, 0));
		/* the readers fault in the range: detach once one was served */
		ASSERT_EQ(0, l4f_wait_change(&fx.d.maps, maps)) TH_LOG("round %d", r);
		ASSERT_EQ(0, l4u_rm_detach(fx.t.rm, p, RACE_PAGES * PG, 0, &res, NULL));
		ASSERT_EQ((unsigned int)L4U_RM_DETACHED_DS, res);
		ASSERT_EQ(0ULL, l4t_nodes(fx.t.ti.space)) TH_LOG("round %d", r);
	}
	stop = 1;
	for (i = 0; i < RACE_READERS; i++) {
		ASSERT_EQ(0, pthread_join(th[i], NULL));
		EXPECT_EQ(0, args[i].err) TH_LOG("reader %d failed at line %d",
						  i, args[i].err);
		reads += args[i].reads;
	}
	TH_LOG("%lu reads in %d rounds", reads, RACE_ROUNDS);
	RMFX_STOP(&fx);
}

TEST_F(rm, eight_threads)
{
	struct mt_arg args[MT_THREADS];
	pthread_t th[MT_THREADS];
	struct fx_dsm d;
	struct rmt t;
	int i;

	ASSERT_EQ(0, fx_dsm_start(self->dev, &d, MT_THREADS * MT_PAGES,
				  L4_FPAGE_RWX, 0x2d, 12));
	ASSERT_EQ(0, rmt_start(self->dev, &t, NULL));
	for (i = 0; i < MT_THREADS; i++) {
		args[i] = (struct mt_arg){ .t = &t, .d = &d, .idx = i };
		ASSERT_EQ(0, pthread_create(&th[i], NULL, mt_main, &args[i]));
	}
	for (i = 0; i < MT_THREADS; i++) {
		ASSERT_EQ(0, pthread_join(th[i], NULL));
		EXPECT_EQ(0, args[i].err) TH_LOG("thread %d failed at line %d",
						  i, args[i].err);
	}
	ASSERT_EQ(0ULL, l4t_nodes(t.ti.space));
	ASSERT_EQ(MT_THREADS * MT_ROUNDS * MT_PAGES, d.maps);
	ASSERT_EQ(0, rmt_stop(&t));
	fx_dsm_stop(&d);
	ASSERT_IPC_SETTLED(self);
}

TEST_HARNESS_MAIN
