// SPDX-License-Identifier: GPL-2.0
/*
 * A stress test after userfaultfd's uffd-stress: faulter threads, pager
 * threads and revokers race on one pager-backed window.
 *
 * A sigma0 space S holds NPAGES pages of known content; a space C without
 * memory of its own has S's pages mapped in by pager threads (one gate,
 * several threads in REPLY_WAIT), page by page or in bigger flexpages.
 * Each page carries its index, a generation and a pattern of both. Faulter
 * threads pick pages at random and, under the page's lock, check the whole
 * page through C's window against the generation they expect, then bump
 * the generation and rewrite the page. Revoker threads meanwhile take the
 * pages away again in every way there is: unmap of S's range without its
 * own entries (C's copies go), revoke of W only (C's copies become
 * read-only: the next write is a rights fault and the pager upgrades it),
 * unmap of C's own entries, and MADV_DONTNEED on the window (only PTEs
 * go).
 *
 * Exact checks: every read of a page during the run saw exactly what the
 * last bump wrote; at the end every page, through S's window and through
 * C's, holds its index, the number of bumps it got and their pattern, and
 * the bumps add up to the faulters' iterations; every fault the pager
 * answered was for a page of C; every counter is back where it was.
 * Budgets are counts: faulter iterations; the revokers revoke once every
 * REVOKE_EVERY of them and the faulters never run more than REVOKE_SLACK
 * iterations ahead (a progress counter under a condition variable), never
 * by time.
 */
#include <pthread.h>
#include <sys/prctl.h>

#include "l4_test_util.h"

L4T_FIXTURE(stress);

FIXTURE_VARIANT(stress) {
	unsigned int order;	/* the pager maps 2^order bytes a fault */
	__u32 flags;		/* of C */
};

FIXTURE_VARIANT_ADD(stress, page) {
	.order = 12,
	.flags = 0,
};

FIXTURE_VARIANT_ADD(stress, bulk_fault_around) {
	.order = 15,
	.flags = L4_SPACE_FAULT_AROUND,
};

#define PG		L4T_PAGE
#define NPAGES		128
#define NFAULTERS	4
#define NPAGERS		2
#define NREVOKERS	2
#define ITERS		200	/* per faulter */
#define REVOKE_EVERY	3	/* faulter iterations per revocation */
#define REVOKE_SLACK	8
#define WORDS		(PG / 8)
#define STOP_LABEL	0x5709

struct stress {
	int s, c, gate;
	char *swin, *cwin;
	__u32 gen[NPAGES];		/* expected generation, under lock[i] */
	pthread_mutex_t lock[NPAGES];
	unsigned int order;
	/* results */
	__u64 bad_reads;		/* a page read that did not match */
	__u64 first_bad;		/* page << 32 | word + 1 */
	__u64 faults, bad_faults, pager_errors, revokes, revoke_errors;
	int first_revoke_error;		/* kind << 16 | errno */
	bool no_madvise;		/* tinyconfig: no ADVISE_SYSCALLS */
	pthread_mutex_t pace;		/* faulters and revokers in step: */
	pthread_cond_t pace_cv;
	__u64 progress;			/* faulter iterations done */
	__u64 claimed;			/* revocations begun */
};

static __u64 st_word(__u32 gen, __u64 page, __u64 k)
{
	if (k == 0)
		return page;
	if (k == 1)
		return gen;
	return l4t_word(gen + 1, page * PG + k * 8);
}

/* Write generation @gen of @page at @p. */
static void st_write(volatile __u64 *p, __u64 page, __u32 gen)
{
	__u64 k;

	for (k = 0; k < WORDS; k++)
		p[k] = st_word(gen, page, k);
}

/* The first mismatching word + 1, or 0. */
static __u64 st_check(const volatile __u64 *p, __u64 page, __u32 gen)
{
	__u64 k;

	for (k = 0; k < WORDS; k++)
		if (p[k] != st_word(gen, page, k))
			return k + 1;
	return 0;
}

static __u64 st_rand(__u64 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

struct faulter_arg {
	struct stress *st;
	int idx;
};

static void *faulter_run(void *arg)
{
	struct faulter_arg *fa = arg;
	struct stress *st = fa->st;
	__u64 rng = 0x1234567ULL * (fa->idx + 1), bad;
	int i;

	for (i = 0; i < ITERS; i++) {
		__u64 page = st_rand(&rng) % NPAGES;
		volatile __u64 *p = (volatile __u64 *)(st->cwin + page * PG);

		/* no more than REVOKE_SLACK iterations ahead of the revokers */
		pthread_mutex_lock(&st->pace);
		while (st->progress >= (st->claimed + 1) * REVOKE_EVERY + REVOKE_SLACK)
			pthread_cond_wait(&st->pace_cv, &st->pace);
		pthread_mutex_unlock(&st->pace);

		pthread_mutex_lock(&st->lock[page]);
		bad = st_check(p, page, st->gen[page]);
		if (bad && !__atomic_fetch_add(&st->bad_reads, 1, __ATOMIC_SEQ_CST))
			st->first_bad = page << 32 | bad;
		st->gen[page]++;
		st_write(p, page, st->gen[page]);
		pthread_mutex_unlock(&st->lock[page]);
		pthread_mutex_lock(&st->pace);
		st->progress++;
		pthread_cond_broadcast(&st->pace_cv);
		pthread_mutex_unlock(&st->pace);
	}
	return NULL;
}

static void *pager_run(void *arg)
{
	struct stress *st = arg;
	struct l4_reply_wait rw;

	memset(&rw, 0, sizeof(rw));
	for (;;) {
		__u64 pfa, base;

		if (ioctl(st->gate, L4_IOC_REPLY_WAIT, &rw)) {
			__atomic_fetch_add(&st->pager_errors, 1, __ATOMIC_SEQ_CST);
			memset(&rw.reply, 0, sizeof(rw.reply));
			if (errno == EPIPE || errno == EBADF)
				return NULL;
			continue;
		}
		memset(&rw.reply, 0, sizeof(rw.reply));
		rw.reply.token = rw.msg.token;
		if (rw.msg.label == STOP_LABEL)
			break;
		pfa = L4_PF_ADDR(rw.msg.words[0]);
		if (rw.msg.label != L4_LABEL_PAGE_FAULT || pfa >= NPAGES * PG) {
			__atomic_fetch_add(&st->bad_faults, 1, __ATOMIC_SEQ_CST);
			rw.reply.error = EFAULT;
			continue;
		}
		__atomic_fetch_add(&st->faults, 1, __ATOMIC_SEQ_CST);
		base = pfa & ~((1ULL << st->order) - 1);
		rw.reply.nitems = 1;
		rw.reply.items[0].src_fd = st->s;
		rw.reply.items[0].item.control = L4_MAP_ITEM(base, 0);
		rw.reply.items[0].item.fpage = L4_FPAGE(base, st->order, L4_FPAGE_RW);
	}
	/* answer the stop call, then leave */
	if (ioctl(st->gate, L4_IOC_REPLY, &rw.reply))
		__atomic_fetch_add(&st->pager_errors, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

struct revoker_arg {
	struct stress *st;
	int idx;
};

static void *revoker_run(void *arg)
{
	struct revoker_arg *ra = arg;
	struct stress *st = ra->st;
	__u64 rng = 0xfeedULL * (ra->idx + 3);
	/* revocation n is due once the faulters did n * REVOKE_EVERY iterations */
	for (;;) {
		pthread_mutex_lock(&st->pace);
		while (st->progress < (__u64)NFAULTERS * ITERS &&
		       st->progress < (st->claimed + 1) * REVOKE_EVERY)
			pthread_cond_wait(&st->pace_cv, &st->pace);
		if (st->progress >= (__u64)NFAULTERS * ITERS) {
			pthread_cond_broadcast(&st->pace_cv);
			pthread_mutex_unlock(&st->pace);
			break;
		}
		st->claimed++;
		pthread_cond_broadcast(&st->pace_cv);
		pthread_mutex_unlock(&st->pace);
		unsigned int o = 12 + st_rand(&rng) % 4, how;
		__u64 base = (st_rand(&rng) % (NPAGES * PG >> o)) << o;
		struct l4_unmap u = { 0 };
		int ret;

		how = st_rand(&rng) % 4;
		switch (how) {
		case 0:		/* C's copies go, S keeps its pages */
			u.fpage = L4_FPAGE(base, o, L4_FPAGE_RWX);
			ret = ioctl(st->s, L4_IOC_UNMAP, &u);
			break;
		case 1:		/* C's copies lose W */
			u.fpage = L4_FPAGE(base, o, L4_FPAGE_W);
			ret = ioctl(st->s, L4_IOC_UNMAP, &u);
			break;
		case 2:		/* C's own entries go */
			u.fpage = L4_FPAGE(base, o, L4_FPAGE_RWX);
			u.flags = L4_UNMAP_ALL_SPACES;
			ret = ioctl(st->c, L4_IOC_UNMAP, &u);
			break;
		default:	/* only the PTEs (if the kernel has madvise) */
			if (st->no_madvise) {
				u.fpage = L4_FPAGE(base, o, L4_FPAGE_RWX);
				ret = ioctl(st->s, L4_IOC_UNMAP, &u);
				break;
			}
			ret = madvise(st->cwin + base, 1ULL << o, MADV_DONTNEED);
			break;
		}
		if (ret && !__atomic_fetch_add(&st->revoke_errors, 1, __ATOMIC_SEQ_CST))
			st->first_revoke_error = how << 16 | errno;
		else
			__atomic_fetch_add(&st->revokes, 1, __ATOMIC_SEQ_CST);
	}
	return NULL;
}

TEST_F_TIMEOUT(stress, faulters_pagers_revokers, 240)
{
	pthread_t ft[NFAULTERS], pt[NPAGERS], rt[NREVOKERS];
	struct faulter_arg fa[NFAULTERS];
	struct revoker_arg ra[NREVOKERS];
	struct l4_stats s0, s1;
	struct l4_pager pg;
	struct stress *st;
	__u64 total = 0, i, bad;
	bool inject;
	int k;

	if (getenv("L4U_FAULT_INJECT"))		/* not in the setup */
		l4t_write_str("/proc/self/make-it-fail", "0");
	st = calloc(1, sizeof(*st));
	ASSERT_NE(NULL, st);
	st->order = variant->order;
	ASSERT_EQ(0, pthread_mutex_init(&st->pace, NULL));
	ASSERT_EQ(0, pthread_cond_init(&st->pace_cv, NULL));
	for (i = 0; i < NPAGES; i++)
		ASSERT_EQ(0, pthread_mutex_init(&st->lock[i], NULL));

	st->s = l4t_space_window(self->dev, NPAGES, 0, L4_SPACE_SIGMA0, &st->swin);
	ASSERT_LE(0, st->s);
	for (i = 0; i < NPAGES; i++)
		st_write((volatile __u64 *)(st->swin + i * PG), i, 0);
	st->c = l4t_space_window(self->dev, NPAGES, 0, variant->flags, &st->cwin);
	ASSERT_LE(0, st->c);
	st->no_madvise = madvise(st->swin, PG, MADV_NORMAL) && errno == ENOSYS;
	st->gate = ioctl(self->dev, L4_IOC_CREATE_GATE, 0);
	ASSERT_LE(0, st->gate);
	pg = (struct l4_pager){ .gate_fd = st->gate };
	ASSERT_EQ(0, ioctl(st->c, L4_IOC_SET_PAGER, &pg));
	ASSERT_EQ(0, l4t_stats(self->dev, &s0));

	/* under fault injection (scripts/vm/init) only the threads' work may fail */
	inject = getenv("L4U_FAULT_INJECT") && !strcmp(getenv("L4U_FAULT_INJECT"), "1");
	if (inject)
		l4t_write_str("/proc/self/make-it-fail", "1");
	for (k = 0; k < NPAGERS; k++)
		ASSERT_EQ(0, pthread_create(&pt[k], NULL, pager_run, st));
	for (k = 0; k < NREVOKERS; k++) {
		ra[k] = (struct revoker_arg){ st, k };
		ASSERT_EQ(0, pthread_create(&rt[k], NULL, revoker_run, &ra[k]));
	}
	for (k = 0; k < NFAULTERS; k++) {
		fa[k] = (struct faulter_arg){ st, k };
		ASSERT_EQ(0, pthread_create(&ft[k], NULL, faulter_run, &fa[k]));
	}
	for (k = 0; k < NFAULTERS; k++)
		ASSERT_EQ(0, pthread_join(ft[k], NULL));
	for (k = 0; k < NREVOKERS; k++)
		ASSERT_EQ(0, pthread_join(rt[k], NULL));
	/* C's window, while the pagers still answer: every page as last written */
	for (i = 0; i < NPAGES; i++) {
		bad = st_check((volatile __u64 *)(st->cwin + i * PG), i, st->gen[i]);
		ASSERT_EQ(0ULL, bad) TH_LOG("C page %llu word %llu (gen %u)", i,
					   bad - 1, st->gen[i]);
	}
	/* one stop call per pager thread: each answers one and leaves */
	for (k = 0; k < NPAGERS; k++) {
		struct l4_call c = { .label = STOP_LABEL, .rcv_space_fd = -1 };

		ASSERT_EQ(0, ioctl(st->gate, L4_IOC_CALL, &c));
	}
	for (k = 0; k < NPAGERS; k++)
		ASSERT_EQ(0, pthread_join(pt[k], NULL));
	ASSERT_EQ(0, l4t_stats(self->dev, &s1));

	EXPECT_EQ(0ULL, st->bad_reads)
		TH_LOG("first bad read: page %llu word %llu",
		       st->first_bad >> 32, (st->first_bad & 0xffffffff) - 1);
	EXPECT_EQ(0ULL, st->bad_faults);
	EXPECT_EQ(0ULL, st->pager_errors);
	EXPECT_EQ(0ULL, st->revoke_errors)
		TH_LOG("first: revocation kind %d, errno %d", st->first_revoke_error >> 16,
		       st->first_revoke_error & 0xffff);
	EXPECT_LE((__u64)(NFAULTERS * ITERS - REVOKE_SLACK) / REVOKE_EVERY - 1, st->revokes);
	/* every fault the pager saw was one message and one reply */
	EXPECT_EQ(st->faults + NPAGERS, s1.messages - s0.messages);
	EXPECT_EQ(st->faults + NPAGERS, s1.replies - s0.replies);
	EXPECT_EQ(st->faults, s1.pager_faults - s0.pager_faults);
	EXPECT_LT(0ULL, st->faults);
	EXPECT_LT(s0.revoked, s1.revoked);
	/* S allocated its frames once: nothing was lost or duplicated */
	EXPECT_EQ(s0.frames, s1.frames);
	EXPECT_EQ((__u64)NPAGES, l4t_frames(_metadata, st->s));

	/* every page: its index, its number of bumps, their pattern */
	for (i = 0; i < NPAGES; i++) {
		total += st->gen[i];
		bad = st_check((volatile __u64 *)(st->swin + i * PG), i, st->gen[i]);
		ASSERT_EQ(0ULL, bad) TH_LOG("S page %llu word %llu (gen %u)", i,
					   bad - 1, st->gen[i]);
	}
	ASSERT_EQ((__u64)NFAULTERS * ITERS, total);
	TH_LOG("%llu faults served, %llu revocations, %llu nodes revoked",
	       st->faults, st->revokes, s1.revoked - s0.revoked);

	ASSERT_EQ(0, munmap(st->cwin, NPAGES * PG));
	ASSERT_EQ(0, munmap(st->swin, NPAGES * PG));
	ASSERT_EQ(0, close(st->gate));
	ASSERT_EQ(0, close(st->c));
	ASSERT_EQ(0, close(st->s));
	for (i = 0; i < NPAGES; i++)
		pthread_mutex_destroy(&st->lock[i]);
	free(st);
	ASSERT_IPC_SETTLED(self);
}

TEST_HARNESS_MAIN
