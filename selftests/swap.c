// SPDX-License-Identifier: GPL-2.0
/*
 * The swapping anonymous-memory manager (l4u-dsm-anon --policy P --swap F)
 * and the pinning one (--pinned) beside it: exact paging counts against the
 * policy engine's prediction, checksummed data under 4x over-commit with
 * several client processes and threads, a pinned (real-time) client that
 * takes no faults while the other is evicted, a killed manager (SIGBUS,
 * never stale data), and the command line. docs/swapping.md.
 */
#define _GNU_SOURCE
#include "l4_test_util.h"

#include <pthread.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <l4u/l4u.h>
#include <l4u/dataspace.h>
#include <l4u/policy.h>
#include "trace.h"
#include <l4u/rm.h>
#include <l4u/frames.h>
#include <l4u/task.h>

#define PG		L4T_PAGE

L4T_FIXTURE(swap);

/* ---- helpers ------------------------------------------------------------- */

struct mgr {
	pid_t pid;
	char sock[64];
	char swap[64];
};

/*
 * Start l4u-dsm-anon with @frames frames: swapping by @policy (NULL: no
 * swapping) to a swap file of its own, or pinned (@pinned); frames
 * allocated by strategy @alloc (NULL: the default); @extra: one more
 * option (NULL: none).
 */
static int mgr_start_opt(struct mgr *m, unsigned int frames, const char *policy,
			 int pinned, const char *alloc, const char *extra)
{
	static int seq;
	const char *argv[16];
	char nf[16];
	int n = 0;

	++seq;
	snprintf(m->sock, sizeof(m->sock), "@l4u-swap-test-%d-%d", getpid(), seq);
	snprintf(m->swap, sizeof(m->swap), "/tmp/l4u-swap-%d-%d", getpid(), seq);
	snprintf(nf, sizeof(nf), "%u", frames);
	m->pid = fork();
	if (m->pid < 0)
		return -1;
	if (m->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		argv[n++] = "l4u-dsm-anon";
		argv[n++] = "--socket";
		argv[n++] = m->sock;
		argv[n++] = "--frames";
		argv[n++] = nf;
		if (policy) {
			argv[n++] = "--policy";
			argv[n++] = policy;
			argv[n++] = "--swap";
			argv[n++] = m->swap;
		}
		if (pinned)
			argv[n++] = "--pinned";
		if (alloc) {
			argv[n++] = "--alloc";
			argv[n++] = alloc;
		}
		if (extra)
			argv[n++] = extra;
		argv[n] = NULL;
		execvp(argv[0], (char *const *)argv);
		fprintf(stderr, "# exec l4u-dsm-anon: %s\n", strerror(errno));
		_exit(127);
	}
	return l4t_dsm_ready(m->pid, m->sock);
}

static int mgr_start(struct mgr *m, unsigned int frames, const char *policy,
		     int pinned)
{
	return mgr_start_opt(m, frames, policy, pinned, NULL, NULL);
}

static int mgr_stop(struct mgr *m)
{
	int rc;

	kill(m->pid, SIGTERM);
	rc = l4t_wait(m->pid);
	m->pid = 0;
	unlink(m->swap);
	return rc;
}

/* Map page @pg of @ds at client address @pg * PG with @rights (one page). */
static int map1(const struct l4u_ds *ds, uint64_t pg, unsigned int rights, int space)
{
	uint64_t pages;
	int ret = l4u_ds_map(ds, pg * PG, pg * PG, rights, space,
			     L4_FPAGE(pg * PG, 12, 0), &pages);

	return ret ? ret : pages == 1 ? 0 : -EPROTO;
}

#define ASSERT_SW(st, f, e, i, o) do {					\
	ASSERT_EQ((uint64_t)(f), (st).faults);				\
	ASSERT_EQ((uint64_t)(e), (st).evictions);			\
	ASSERT_EQ((uint64_t)(i), (st).swap_ins);			\
	ASSERT_EQ((uint64_t)(o), (st).swap_outs);			\
} while (0)

/* ---- exact counts -------------------------------------------------------- */

/*
 * FIFO on a pool of 4 frames, 8 pages, the reference string 0..7, 0..3,
 * 4..7, 0..3, 4..7: the manager's faults and evictions are what the policy
 * engine's replay predicts for that string; swap-outs are the evicted pages
 * that were mapped writable since they came in (pages only mapped read-only
 * since their swap-in are clean: their swap copy stays good); every page
 * keeps its contents.
 */
TEST_F(swap, fifo_exact)
{
	static const uint64_t trace[] = { 0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3,
					  4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7 };
	struct l4u_policy_params pp = { .kind = L4U_POLICY_FIFO, .frames = 4 };
	struct l4u_policy_stats pst;
	struct l4u_dsm_swap_stats st;
	struct l4u_dsm_stats ds_st;
	struct l4u_ds ds;
	struct mgr m;
	char *win;
	int sp;
	uint64_t i;

	ASSERT_EQ(0, mgr_start(&m, 4, "fifo", 0));
	ASSERT_EQ(0, l4u_ds_open_anon(m.sock, 8 * PG, L4_FPAGE_RW, &ds));
	sp = l4u_space_create(self->dev, 8 * PG, 0, 0, NULL);
	ASSERT_LE(0, sp);
	ASSERT_EQ(0, l4u_window_open(sp, 0, 8 * PG, PROT_READ | PROT_WRITE, NULL,
				     (void **)&win));

	for (i = 0; i < 8; i++) {		/* 0..7 written */
		ASSERT_EQ(0, map1(&ds, i, L4_FPAGE_RW, sp));
		l4t_fill(win + i * PG, i * PG, PG, 1);
	}
	ASSERT_EQ(0, l4u_dsm_swap_stats(&ds, &st));
	ASSERT_SW(st, 8, 4, 0, 4);
	for (i = 0; i < 4; i++) {		/* 0..3 back, rewritten */
		ASSERT_EQ(0, map1(&ds, i, L4_FPAGE_RW, sp));
		ASSERT_EQ(-1L, l4t_check(win + i * PG, i * PG, PG, 1));
		l4t_fill(win + i * PG, i * PG, PG, 2);
	}
	ASSERT_EQ(0, l4u_dsm_swap_stats(&ds, &st));
	ASSERT_SW(st, 12, 8, 4, 8);
	for (i = 4; i < 8; i++) {		/* 4..7 read only */
		ASSERT_EQ(0, map1(&ds, i, L4_FPAGE_R, sp));
		ASSERT_EQ(-1L, l4t_check(win + i * PG, i * PG, PG, 1));
	}
	ASSERT_EQ(0, l4u_dsm_swap_stats(&ds, &st));
	ASSERT_SW(st, 16, 12, 8, 12);
	for (i = 0; i < 4; i++) {		/* 0..3: 4..7 leave clean */
		ASSERT_EQ(0, map1(&ds, i, L4_FPAGE_R, sp));
		ASSERT_EQ(-1L, l4t_check(win + i * PG, i * PG, PG, 2));
	}
	ASSERT_EQ(0, l4u_dsm_swap_stats(&ds, &st));
	ASSERT_SW(st, 20, 16, 12, 12);
	for (i = 4; i < 8; i++) {		/* from the clean copies */
		ASSERT_EQ(0, map1(&ds, i, L4_FPAGE_R, sp));
		ASSERT_EQ(-1L, l4t_check(win + i * PG, i * PG, PG, 1));
	}
	ASSERT_EQ(0, l4u_dsm_swap_stats(&ds, &st));
	ASSERT_SW(st, 24, 20, 16, 12);
	ASSERT_EQ(0u, st.hits);
	ASSERT_EQ(8u, st.swap_used);
	ASSERT_EQ(0, map1(&ds, 7, L4_FPAGE_R, sp));	/* resident: a hit */
	ASSERT_EQ(0, l4u_dsm_swap_stats(&ds, &st));
	ASSERT_EQ(1u, st.hits);
	ASSERT_EQ(25u, st.maps);

	/* the policy engine predicts the same */
	ASSERT_EQ(0, trace_replay(&pp, trace, sizeof(trace) / sizeof(trace[0]),
				  0, &pst));
	ASSERT_EQ(24u, pst.faults);
	ASSERT_EQ(20u, pst.evictions);

	ASSERT_EQ(0, l4u_dsm_stats(&ds, &ds_st));
	ASSERT_EQ(4u, ds_st.frames_used);
	ASSERT_EQ(0, munmap(win, 8 * PG));
	ASSERT_EQ(0, close(sp));
	ASSERT_EQ(0, l4u_ds_close(&ds));
	ASSERT_EQ(0, mgr_stop(&m));
}

/* ---- data integrity under heavy eviction ---------------------------------- */

/*
 * Two client processes, each with its own task, region manager and
 * dataspace of 32 pages, four threads each writing and checking 8 pages of
 * checksummed words, five rounds, all over 16 frames (4x over-commit):
 * every check of every page holds, for each policy (and allocation
 * strategy), and everything comes back when the clients are gone.
 */
#define INT_CLIENTS	2
#define INT_THREADS	4
#define INT_PAGES	32	/* per client: 2 x 32 pages over 16 frames */
#define INT_FRAMES	16
#define INT_ROUNDS	5

struct int_thread {
	char *base;
	unsigned int client, first, n;
	int bad;
};

static __u64 int_seed(unsigned int client, unsigned int round)
{
	return 0x100 + client * 16 + round;
}

static void *int_worker(void *arg)
{
	struct int_thread *t = arg;
	unsigned int r, i;

	for (r = 0; r < INT_ROUNDS; r++) {
		for (i = t->first; i < t->first + t->n; i++) {
			if (r && l4t_check(t->base + i * PG, i * PG, PG,
					   int_seed(t->client, r - 1)) != -1)
				t->bad++;
			l4t_fill(t->base + i * PG, i * PG, PG, int_seed(t->client, r));
		}
		for (i = t->first; i < t->first + t->n; i++)
			if (l4t_check(t->base + i * PG, i * PG, PG,
				      int_seed(t->client, r)) != -1)
				t->bad++;
	}
	return NULL;
}

/* One client process: its own task, region manager, dataspace and threads. */
static void int_client(const char *sock, unsigned int client)
{
	struct int_thread th[INT_THREADS];
	pthread_t tid[INT_THREADS];
	struct l4t_rmtask t;
	struct l4u_ds ds;
	char *p = NULL;
	unsigned int i;
	int bad = 0;

	CHILD_OK(l4u_ds_open_anon(sock, INT_PAGES * PG, L4_FPAGE_RW, &ds));
	CHILD_OK(l4t_rmtask_start(l4u_open(), &t));
	CHILD_OK(l4u_rm_attach(t.rm, (void **)&p, INT_PAGES * PG,
			       L4_FPAGE_RW | L4U_RM_SEARCH_ADDR, &ds, 0, 0));
	for (i = 0; i < INT_THREADS; i++) {
		th[i] = (struct int_thread){ .base = p, .client = client,
			.first = i * (INT_PAGES / INT_THREADS), .n = INT_PAGES / INT_THREADS };
		CHILD_CHECK(!pthread_create(&tid[i], NULL, int_worker, &th[i]));
	}
	for (i = 0; i < INT_THREADS; i++) {
		CHILD_CHECK(!pthread_join(tid[i], NULL));
		bad += th[i].bad;
	}
	/* everything once more, after the other client's evictions */
	for (i = 0; i < INT_PAGES; i++)
		if (l4t_check(p + i * PG, i * PG, PG, int_seed(client, INT_ROUNDS - 1)) != -1)
			bad++;
	if (bad)
		fprintf(stderr, "# client %u: %d bad page checks\n", client, bad);
	CHILD_CHECK(bad == 0);
	l4t_rmtask_stop(&t);
	CHILD_OK(l4u_ds_close(&ds));
	_exit(0);
}

static void integrity(struct __test_metadata *_metadata, const char *policy,
		      const char *alloc, const char *extra)
{
	struct l4u_dsm_swap_stats st;
	struct l4u_dsm_stats dst;
	pid_t pid[INT_CLIENTS];
	struct l4u_ds probe;
	struct mgr m;
	unsigned int i;
	int j;

	ASSERT_EQ(0, mgr_start_opt(&m, INT_FRAMES, policy, 0, alloc, extra));
	ASSERT_EQ(0, l4u_ds_open_anon(m.sock, PG, L4_FPAGE_R, &probe));
	for (i = 0; i < INT_CLIENTS; i++) {
		pid[i] = fork();
		ASSERT_LE(0, pid[i]);
		if (pid[i] == 0)
			int_client(m.sock, i);
	}
	for (i = 0; i < INT_CLIENTS; i++)
		ASSERT_EQ(0, l4t_wait(pid[i]));
	ASSERT_EQ(0, l4u_dsm_swap_stats(&probe, &st));
	TH_LOG("%s, %s%s: %llu faults, %llu hits, %llu evictions, %llu swap-ins, %llu swap-outs, hit ratio %.3f",
	       policy, alloc, extra ? ", --lazy-w" : "", (unsigned long long)st.faults, (unsigned long long)st.hits,
	       (unsigned long long)st.evictions, (unsigned long long)st.swap_ins,
	       (unsigned long long)st.swap_outs, st.hit_ratio);
	/*
	 * 4x over-commit: every page came in at least once, and was evicted
	 * and swapped in again; only a full pool evicts (a client that ends
	 * first frees its frames: the other's next faults take no victim);
	 * every page was written, so every eviction wrote it out.
	 */
	ASSERT_LE((uint64_t)INT_CLIENTS * INT_PAGES, st.faults);
	ASSERT_LE((uint64_t)INT_CLIENTS * INT_PAGES, st.evictions);
	ASSERT_LE(st.evictions, st.faults - INT_FRAMES);
	ASSERT_LE(st.faults, st.evictions + INT_CLIENTS * INT_FRAMES);
	ASSERT_LT(0u, st.swap_ins);
	if (!extra) {
		/* every page mapped writable (the region's rights): all dirty */
		ASSERT_LE(st.swap_ins, st.swap_outs);
		ASSERT_EQ(st.evictions, st.swap_outs);
	} else {
		/* a page evicted between a thread's check and its fill is clean */
		ASSERT_LE(st.swap_outs, st.evictions);
		ASSERT_LE((uint64_t)INT_CLIENTS * INT_PAGES, st.swap_outs);
	}
	/*
	 * A fault is a swap-in or a zero fill. Each page's first touch is a
	 * zero fill; with --lazy-w a page evicted clean before anything was
	 * written to it has no swap copy, so its next fault fills zeros again.
	 */
	if (!extra) {
		ASSERT_EQ(st.faults, st.swap_ins + INT_CLIENTS * INT_PAGES);
	} else {
		ASSERT_LE(st.swap_ins + INT_CLIENTS * INT_PAGES, st.faults);
	}
	/* the clients' dataspaces went: their frames and swap slots too */
	for (j = 0; j < 1000; j++) {
		ASSERT_EQ(0, l4u_dsm_stats(&probe, &dst));
		if (dst.dataspaces == 1)
			break;
		usleep(10000);
	}
	ASSERT_EQ(1u, dst.dataspaces);
	ASSERT_EQ(0u, dst.frames_used);
	ASSERT_EQ(0, l4u_dsm_swap_stats(&probe, &st));
	ASSERT_EQ(0u, st.swap_used);
	ASSERT_EQ(0, l4u_ds_close(&probe));
	ASSERT_EQ(0, mgr_stop(&m));
}

TEST_F(swap, integrity_fifo)
{
	integrity(_metadata, "fifo", "bitmap", NULL);
}

TEST_F(swap, integrity_clock)
{
	integrity(_metadata, "clock", "buddy", NULL);
}

TEST_F(swap, integrity_lru)
{
	integrity(_metadata, "lru", "freelist", NULL);
}

TEST_F(swap, integrity_ws)
{
	integrity(_metadata, "ws", "buddy", NULL);
}

TEST_F(swap, integrity_aging)
{
	integrity(_metadata, "aging", "freelist", NULL);
}

TEST_F(swap, integrity_clock_lazy_w)
{
	integrity(_metadata, "clock", "bitmap", "--lazy-w");
}

/*
 * --lazy-w through a region manager (which asks for W on every fault of a
 * writable region): a page comes in read-only, a write faults again and
 * gets W; pages only read while resident are evicted clean. FIFO, 8
 * frames, 32 pages: a write pass, two read passes, counts exact.
 */
TEST_F(swap, lazy_w_clean_reads)
{
	struct l4u_dsm_swap_stats st;
	struct l4u_ds ds;
	struct l4t_rmtask t;
	struct mgr m;
	char *p = NULL;
	unsigned int i;

	ASSERT_EQ(0, mgr_start_opt(&m, 8, "fifo", 0, NULL, "--lazy-w"));
	ASSERT_EQ(0, l4u_ds_open_anon(m.sock, 32 * PG, L4_FPAGE_RW, &ds));
	ASSERT_EQ(0, l4t_rmtask_start(self->dev, &t));
	ASSERT_EQ(0, l4u_rm_attach(t.rm, (void **)&p, 32 * PG,
				   L4_FPAGE_RW | L4U_RM_SEARCH_ADDR, &ds, 0, 0));
	for (i = 0; i < 32; i++)		/* each: MAP (R), MAP again (W) */
		l4t_fill(p + i * PG, i * PG, PG, 4);
	ASSERT_EQ(0, l4u_dsm_swap_stats(&ds, &st));
	ASSERT_SW(st, 32, 24, 0, 24);
	ASSERT_EQ(32u, st.hits);
	/* read: the 8 written pages still resident go out dirty, the rest clean */
	ASSERT_EQ(-1L, l4t_check(p, 0, 32 * PG, 4));
	ASSERT_EQ(0, l4u_dsm_swap_stats(&ds, &st));
	ASSERT_SW(st, 64, 56, 32, 32);
	ASSERT_EQ(-1L, l4t_check(p, 0, 32 * PG, 4));	/* all clean now */
	ASSERT_EQ(0, l4u_dsm_swap_stats(&ds, &st));
	ASSERT_SW(st, 96, 88, 64, 32);
	ASSERT_EQ(32u, st.hits);
	/* a write after a clean swap-in still reaches swap */
	l4t_fill(p, 0, PG, 5);
	ASSERT_EQ(-1L, l4t_check(p + PG, PG, 31 * PG, 4));
	ASSERT_EQ(-1L, l4t_check(p, 0, PG, 5));
	ASSERT_EQ(32u, st.swap_used);

	l4t_rmtask_stop(&t);
	ASSERT_EQ(0, l4u_ds_close(&ds));
	ASSERT_EQ(0, mgr_stop(&m));
}

/* ---- copy-on-write and sharing under eviction ------------------------------ */

/*
 * One dataspace of the swapping manager (16 pages over 8 frames), three
 * tasks: B and C attach it shared, A private (copy-on-write, the copies
 * from the same manager). Under eviction B's writes reach C; A's writes
 * stay A's; B's later writes show in A's pages not copied only. FIFO, and
 * the first page A writes is the oldest resident one: the copy's frame
 * evicts the page being copied (the region manager has the manager copy
 * it, COPY_IN, rather than copying through its scratch space).
 */
TEST_F(swap, cow_and_sharing)
{
	struct l4u_dsm_swap_stats st;
	struct l4t_rmtask a, b, c;
	struct l4u_ds ds;
	struct mgr m;
	char *pa = NULL, *pb = NULL, *pc = NULL;
	unsigned int i;

	ASSERT_EQ(0, mgr_start(&m, 8, "fifo", 0));
	ASSERT_EQ(0, l4u_ds_open_anon(m.sock, 16 * PG, L4_FPAGE_RW, &ds));
	ASSERT_EQ(0, l4t_rmtask_start(self->dev, &a));
	ASSERT_EQ(0, l4t_rmtask_start(self->dev, &b));
	ASSERT_EQ(0, l4t_rmtask_start(self->dev, &c));
	ASSERT_EQ(0, l4u_rm_set_cow(a.rm, self->dev, m.sock));
	ASSERT_EQ(0, l4u_rm_attach(a.rm, (void **)&pa, 16 * PG, L4_FPAGE_RW |
				   L4U_RM_PRIVATE | L4U_RM_SEARCH_ADDR, &ds, 0, 0));
	ASSERT_EQ(0, l4u_rm_attach(b.rm, (void **)&pb, 16 * PG,
				   L4_FPAGE_RW | L4U_RM_SEARCH_ADDR, &ds, 0, 0));
	ASSERT_EQ(0, l4u_rm_attach(c.rm, (void **)&pc, 16 * PG,
				   L4_FPAGE_R | L4U_RM_SEARCH_ADDR, &ds, 0, 0));

	l4t_fill(pb, 0, 16 * PG, 1);				/* B writes */
	ASSERT_EQ(-1L, l4t_check(pc, 0, 16 * PG, 1));		/* C sees it */
	ASSERT_EQ(-1L, l4t_check(pa, 0, 16 * PG, 1));		/* A too */
	/* resident now: pages 8..15, 8 the oldest */
	for (i = 8; i < 16; i++)				/* A's copies */
		l4t_fill(pa + i * PG, i * PG, PG, 2);
	ASSERT_EQ(-1L, l4t_check(pb, 0, 16 * PG, 1));		/* not in B */
	ASSERT_EQ(-1L, l4t_check(pc, 0, 16 * PG, 1));		/* nor in C */
	ASSERT_EQ(-1L, l4t_check(pa + 8 * PG, 8 * PG, 8 * PG, 2));
	for (i = 0; i < 16; i++)				/* B again */
		l4t_fill(pb + i * PG, i * PG, PG, 3);
	ASSERT_EQ(-1L, l4t_check(pa + 8 * PG, 8 * PG, 8 * PG, 2));	/* A's copies */
	ASSERT_EQ(-1L, l4t_check(pa, 0, 8 * PG, 3));		/* shared */
	ASSERT_EQ(-1L, l4t_check(pc, 0, 16 * PG, 3));
	ASSERT_EQ(0, l4u_dsm_swap_stats(&ds, &st));
	ASSERT_LT(40u, st.evictions);
	ASSERT_LT(0u, st.swap_ins);

	l4t_rmtask_stop(&a);
	l4t_rmtask_stop(&b);
	l4t_rmtask_stop(&c);
	ASSERT_EQ(0, l4u_ds_close(&ds));
	ASSERT_EQ(0, mgr_stop(&m));
}

/* ---- a pinned (real-time) pager beside the swapping one ------------------- */

#define RT_PAGES	16
#define PAGING_PAGES	64
#define PAGING_FRAMES	16
#define PAGING_ROUNDS	3

/*
 * Two managers under one root (sigma0): l4u-dsm-anon --pinned (the RT
 * pager) and l4u-dsm-anon --policy fifo (the paging one). After warm-up
 * the RT client's accesses cause no MAP at its manager at all while the
 * paging client's working set (4x its frames) is evicted under it; the
 * paging counts are FIFO's on a cyclic reference string.
 */
TEST_F(swap, rt_beside_paging)
{
	struct l4u_dsm_swap_stats rt0, rt1, pg;
	struct l4u_ds rt, paging, extra;
	struct mgr mrt, mpg;
	struct l4t_rmtask t;
	char *rp = NULL, *pp = NULL;
	unsigned int r, i;

	ASSERT_EQ(0, mgr_start(&mrt, RT_PAGES, NULL, 1));
	ASSERT_EQ(0, mgr_start(&mpg, PAGING_FRAMES, "fifo", 0));
	ASSERT_EQ(0, l4u_ds_open_anon(mrt.sock, RT_PAGES * PG, L4_FPAGE_RW, &rt));
	ASSERT_NE(0u, rt.flags & L4U_DS_PINNED);
	/* the RT budget is spent: a pinned manager refuses, never overcommits */
	ASSERT_EQ(-ENOMEM, l4u_ds_open_anon(mrt.sock, PG, L4_FPAGE_R, &extra));
	ASSERT_EQ(0, l4u_ds_open_anon(mpg.sock, PAGING_PAGES * PG, L4_FPAGE_RW,
				      &paging));
	ASSERT_EQ(0, l4u_dsm_swap_stats(&rt, &rt0));
	ASSERT_EQ((uint64_t)RT_PAGES, rt0.pinned);
	ASSERT_EQ(0u, rt0.maps);

	ASSERT_EQ(0, l4t_rmtask_start(self->dev, &t));
	ASSERT_EQ(0, l4u_rm_attach(t.rm, (void **)&rp, RT_PAGES * PG,
				   L4_FPAGE_RW | L4U_RM_SEARCH_ADDR, &rt, 0, 0));
	ASSERT_EQ(0, l4u_rm_attach(t.rm, (void **)&pp, PAGING_PAGES * PG,
				   L4_FPAGE_RW | L4U_RM_SEARCH_ADDR, &paging, 0, 0));
	l4t_fill(rp, 0, RT_PAGES * PG, 7);		/* warm-up */
	ASSERT_EQ(0, l4u_dsm_swap_stats(&rt, &rt0));
	ASSERT_LT(0u, rt0.maps);
	ASSERT_EQ(0u, rt0.faults);			/* all there since open */

	for (r = 0; r < PAGING_ROUNDS; r++) {
		for (i = 0; i < PAGING_PAGES; i++) {
			l4t_fill(pp + i * PG, i * PG, PG, 10 + r);
			/* the RT client works all the while */
			ASSERT_EQ(-1L, l4t_check(rp + (i % RT_PAGES) * PG,
						 (i % RT_PAGES) * PG, PG, 7));
		}
	}
	ASSERT_EQ(0, l4u_dsm_swap_stats(&paging, &pg));
	/* round 1: 64 faults, 48 evictions; rounds 2, 3: 64 swap-ins each */
	ASSERT_SW(pg, PAGING_ROUNDS * PAGING_PAGES,
		  PAGING_ROUNDS * PAGING_PAGES - PAGING_FRAMES,
		  (PAGING_ROUNDS - 1) * PAGING_PAGES,
		  PAGING_ROUNDS * PAGING_PAGES - PAGING_FRAMES);
	ASSERT_EQ(0, l4u_dsm_swap_stats(&rt, &rt1));
	ASSERT_EQ(rt0.maps, rt1.maps);			/* no fault after warm-up */
	ASSERT_EQ(0u, rt1.evictions);
	for (i = 0; i < PAGING_PAGES; i++)
		ASSERT_EQ(-1L, l4t_check(pp + i * PG, i * PG, PG, 10 + PAGING_ROUNDS - 1));

	l4t_rmtask_stop(&t);
	ASSERT_EQ(0, l4u_ds_close(&rt));
	ASSERT_EQ(0, l4u_ds_close(&paging));
	ASSERT_EQ(0, mgr_stop(&mrt));
	ASSERT_EQ(0, mgr_stop(&mpg));
}

/* ---- the swapping manager dies -------------------------------------------- */

/*
 * Killing the swapping manager loses what it had swapped out (the swap
 * file's slots are known only to the manager's memory): its clients get
 * SIGBUS on every page of its dataspaces, resident or swapped, never stale
 * or zeroed data. A new manager on the same swap file starts it afresh.
 */
TEST_F(swap, manager_killed)
{
	struct l4u_dsm_swap_stats st;
	struct l4u_ds ds, ds2;
	struct l4t_rmtask t;
	struct stat sb;
	struct mgr m;
	char *p = NULL, *p2 = NULL;

	ASSERT_EQ(0, mgr_start(&m, 8, "fifo", 0));
	ASSERT_EQ(0, l4u_ds_open_anon(m.sock, 32 * PG, L4_FPAGE_RW, &ds));
	ASSERT_EQ(0, l4t_rmtask_start(self->dev, &t));
	ASSERT_EQ(0, l4u_rm_attach(t.rm, (void **)&p, 32 * PG,
				   L4_FPAGE_RW | L4U_RM_SEARCH_ADDR, &ds, 0, 0));
	l4t_fill(p, 0, 32 * PG, 3);
	ASSERT_EQ(0, l4u_dsm_swap_stats(&ds, &st));
	ASSERT_SW(st, 32, 24, 0, 24);
	ASSERT_EQ(0, stat(m.swap, &sb));
	ASSERT_EQ((off_t)(24 * PG), sb.st_size);

	kill(m.pid, SIGKILL);
	ASSERT_EQ(128 + SIGKILL, l4t_wait(m.pid));
	ASSERT_SIGBUS(p, L4T_READ);			/* was swapped out */
	ASSERT_SIGBUS(p + 31 * PG, L4T_READ);		/* was resident */
	ASSERT_SIGBUS(p + 5 * PG, L4T_WRITE);

	/* a new manager on the same file: empty, new dataspaces are zero */
	m.pid = 0;
	{
		char keep[64];

		memcpy(keep, m.swap, sizeof(keep));
		ASSERT_EQ(0, mgr_start(&m, 8, "fifo", 0));
		unlink(keep);
	}
	ASSERT_EQ(0, l4u_ds_open_anon(m.sock, 4 * PG, L4_FPAGE_RW, &ds2));
	ASSERT_EQ(0, l4u_rm_attach(t.rm, (void **)&p2, 4 * PG,
				   L4_FPAGE_RW | L4U_RM_SEARCH_ADDR, &ds2, 0, 0));
	ASSERT_EQ(-1L, l4t_check_zero(p2, 4 * PG));
	ASSERT_SIGBUS(p + PG, L4T_READ);		/* the old one stays dead */

	l4t_rmtask_stop(&t);
	ASSERT_EQ(0, l4u_ds_close(&ds));
	ASSERT_EQ(0, l4u_ds_close(&ds2));
	ASSERT_EQ(0, mgr_stop(&m));
}

/* ---- allocation strategies ------------------------------------------------- */

static uint64_t frames_nfree(const struct l4u_frames *fr)
{
	struct l4u_frames_info fi;

	return l4u_frames_info(fr, &fi) ? UINT64_MAX : fi.nfree;
}

/*
 * The frame pool's strategies, on 1536 frames (6 MiB), frame numbers
 * exact: buddy splits the smallest block that fits and coalesces on free
 * (a single frame and three 2 MiB blocks do not fit; freeing the frame
 * makes the last block whole again); free list reuses the frame freed last
 * and skips frames a block allocation took; bitmap is next fit.
 */
TEST_F(swap, allocators)
{
	struct l4u_frames *fr;
	uint64_t n;
	int64_t f;

	ASSERT_EQ(-EINVAL, l4u_frames_create(self->dev, 16, 3, &fr));
	ASSERT_STREQ("buddy", l4u_frames_strategy_name(L4U_FRAMES_BUDDY));

	ASSERT_EQ(0, l4u_frames_create(self->dev, 1536, L4U_FRAMES_BUDDY, &fr));
	ASSERT_EQ(1024, l4u_frames_alloc(fr, 0));	/* from the order-9 block */
	ASSERT_EQ(0, l4u_frames_alloc(fr, 9));		/* the order-10 one, split */
	ASSERT_EQ(512, l4u_frames_alloc(fr, 9));
	ASSERT_EQ(-ENOMEM, l4u_frames_alloc(fr, 9));	/* 511 free, in pieces */
	ASSERT_EQ(511u, frames_nfree(fr));
	memset(l4u_frames_ptr(fr, 1024), 0x5a, PG);
	ASSERT_LE(0, l4u_frames_free(fr, 1024, 0));	/* coalesces to 1024 + 512 */
	ASSERT_EQ(1024, l4u_frames_alloc(fr, 9));
	ASSERT_EQ(-1L, l4t_check_zero(l4u_frames_ptr(fr, 1024), PG));	/* fresh */
	ASSERT_LE(0, l4u_frames_free(fr, 0, 9));
	ASSERT_LE(0, l4u_frames_free(fr, 512, 9));
	ASSERT_EQ(0, l4u_frames_alloc(fr, 10));	/* 0 + 512 coalesced */
	ASSERT_LE(0, l4u_frames_free(fr, 0, 10));
	ASSERT_LE(0, l4u_frames_free(fr, 1024, 9));
	ASSERT_EQ(1536u, frames_nfree(fr));
	l4u_frames_destroy(fr);

	ASSERT_EQ(0, l4u_frames_create(self->dev, 1536, L4U_FRAMES_FREELIST, &fr));
	ASSERT_EQ(0, l4u_frames_alloc(fr, 0));
	ASSERT_EQ(1, l4u_frames_alloc(fr, 0));
	ASSERT_EQ(2, l4u_frames_alloc(fr, 0));
	ASSERT_LE(0, l4u_frames_free(fr, 1, 0));
	ASSERT_EQ(1, l4u_frames_alloc(fr, 0));		/* the last freed first */
	ASSERT_EQ(512, l4u_frames_alloc(fr, 9));	/* blocks: aligned, first fit */
	for (n = 0; (f = l4u_frames_alloc(fr, 0)) >= 0; n++)
		ASSERT_TRUE(f >= 3 && (f < 512 || f >= 1024));
	ASSERT_EQ(-ENOMEM, f);
	ASSERT_EQ(1536u - 3 - 512, n);
	ASSERT_EQ(0u, frames_nfree(fr));
	l4u_frames_destroy(fr);

	ASSERT_EQ(0, l4u_frames_create(self->dev, 1536, L4U_FRAMES_BITMAP, &fr));
	ASSERT_EQ(0, l4u_frames_alloc(fr, 0));
	ASSERT_EQ(1, l4u_frames_alloc(fr, 0));
	ASSERT_LE(0, l4u_frames_free(fr, 0, 0));
	ASSERT_EQ(2, l4u_frames_alloc(fr, 0));		/* next fit */
	ASSERT_EQ(512, l4u_frames_alloc(fr, 9));
	l4u_frames_destroy(fr);
}

/* Each strategy in a manager: a 2 MiB flexpage goes out whole. */
TEST_F(swap, alloc_big_flexpages)
{
	static const char *const strategies[] = { "bitmap", "freelist", "buddy" };
	struct l4u_dsm_stats st;
	struct l4u_ds ds;
	uint64_t pages;
	unsigned int i;
	char *win;
	int sp;

	for (i = 0; i < 3; i++) {
		struct mgr m;
		char sock[64];
		int j;

		snprintf(m.sock, sizeof(m.sock), "@l4u-swap-alloc-%d-%u", getpid(), i);
		m.swap[0] = '\0';
		memcpy(sock, m.sock, sizeof(sock));
		m.pid = fork();
		ASSERT_LE(0, m.pid);
		if (m.pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			execlp("l4u-dsm-anon", "l4u-dsm-anon", "--socket", sock,
			       "--frames", "1536", "--alloc", strategies[i], (char *)NULL);
			_exit(127);
		}
		for (j = 0; j < 500 && l4u_dsm_ping(sock); j++)
			usleep(10000);
		ASSERT_EQ(0, l4u_ds_open_anon(sock, 4 << 20, L4_FPAGE_RW, &ds));
		sp = l4u_space_create(self->dev, 4 << 20, 0, 0, NULL);
		ASSERT_LE(0, sp);
		ASSERT_EQ(0, l4u_window_open(sp, 0, 4 << 20, PROT_READ | PROT_WRITE,
					     NULL, (void **)&win));
		ASSERT_EQ(0, map1(&ds, 0, L4_FPAGE_RW, sp));	/* one frame */
		ASSERT_EQ(0, l4u_ds_map(&ds, 2 << 20, 2 << 20, L4_FPAGE_RW, sp,
					L4_FPAGE(2 << 20, 21, 0), &pages));
		ASSERT_EQ(512u, pages);
		l4t_fill(win + (2 << 20), 2 << 20, 2 << 20, 9);
		ASSERT_EQ(0, l4u_dsm_stats(&ds, &st));
		ASSERT_EQ(513u, st.frames_used);
		ASSERT_EQ(-1L, l4t_check(win + (2 << 20), 2 << 20, 2 << 20, 9));
		ASSERT_EQ(0, munmap(win, 4 << 20));
		ASSERT_EQ(0, close(sp));
		ASSERT_EQ(0, l4u_ds_close(&ds));
		ASSERT_EQ(0, mgr_stop(&m));
	}
}

/* ---- command line --------------------------------------------------------- */

static int run_quiet(const char *prog, const char *const *argv)
{
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 2);
		execvp(prog, (char *const *)argv);
		_exit(127);
	}
	return l4t_wait(pid);
}

TEST_F(swap, command_line)
{
	static const char *const bad_policy[] = { "l4u-dsm-anon", "--socket", "@x",
		"--policy", "optimal", "--swap", "/tmp/x", NULL };
	static const char *const no_swap[] = { "l4u-dsm-anon", "--socket", "@x",
		"--policy", "fifo", NULL };
	static const char *const no_policy[] = { "l4u-dsm-anon", "--socket", "@x",
		"--swap", "/tmp/x", NULL };
	static const char *const tau_fifo[] = { "l4u-dsm-anon", "--socket", "@x",
		"--policy", "fifo", "--tau", "5", "--swap", "/tmp/x", NULL };
	static const char *const file[] = { "l4u-dsm-file", "--socket", "@x",
		"--policy", "clock", "--swap", "/tmp/x", NULL };
	static const char *const bad_swap[] = { "l4u-dsm-anon", "--socket", "@x",
		"--policy", "ws", "--tau", "8", "--swap", "/nonexistent/dir/swap", NULL };

	ASSERT_EQ(2, run_quiet("l4u-dsm-anon", bad_policy));
	ASSERT_EQ(2, run_quiet("l4u-dsm-anon", no_swap));
	ASSERT_EQ(2, run_quiet("l4u-dsm-anon", no_policy));
	ASSERT_EQ(2, run_quiet("l4u-dsm-anon", tau_fifo));
	ASSERT_EQ(2, run_quiet("l4u-dsm-file", file));
	static const char *const bad_alloc[] = { "l4u-dsm-anon", "--socket", "@x",
		"--alloc", "slab", NULL };
	static const char *const lazy_alone[] = { "l4u-dsm-anon", "--socket", "@x",
		"--lazy-w", NULL };

	ASSERT_EQ(1, run_quiet("l4u-dsm-anon", bad_swap));
	ASSERT_EQ(2, run_quiet("l4u-dsm-anon", bad_alloc));
	ASSERT_EQ(2, run_quiet("l4u-dsm-anon", lazy_alone));
}

TEST_HARNESS_MAIN
