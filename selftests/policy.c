// SPDX-License-Identifier: GPL-2.0
/*
 * libl4u's replacement policies (l4u/policy.h): fault counts on textbook
 * reference strings computed by hand, the interface driven directly as a
 * manager would, exact errnos, and MIN as the floor of every policy on
 * generated traces (pure user space: plain TEST()s); and, with /dev/l4, the
 * referenced/dirty reporting of unmap the policies are built on.
 */
#include "l4_test_util.h"

/* plain TEST()s pass an unused variant */
#pragma GCC diagnostic ignored "-Wunused-parameter"

#include <stdlib.h>
#include <l4u/policy.h>
#include "trace.h"

#define N(a)	(sizeof(a) / sizeof((a)[0]))

/* Belady's anomaly string (FIFO: more frames, more faults) */
static const uint64_t belady[] = { 1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5 };
/* Silberschatz's string */
static const uint64_t classic[] = { 7, 0, 1, 2, 0, 3, 0, 4, 2, 3, 0, 3, 2, 1,
				    2, 0, 1, 7, 0, 1 };
/* Stallings' string (his clock figure) */
static const uint64_t stallings[] = { 2, 3, 2, 1, 5, 2, 4, 5, 3, 2, 5, 2 };

static struct l4u_policy_params params(uint32_t kind, uint32_t frames, uint64_t tau)
{
	return (struct l4u_policy_params){
		.kind = kind, .frames = frames, .tau = tau,
	};
}

/* Faults of @kind on @trace; -errno as a huge number never matches. */
static uint64_t faults(uint32_t kind, uint32_t frames, uint64_t tau,
		       const uint64_t *trace, size_t n, uint32_t flags)
{
	struct l4u_policy_params p = params(kind, frames, tau);
	struct l4u_policy_stats st;
	int ret = trace_replay(&p, trace, n, flags, &st);

	return ret ? (uint64_t)(int64_t)ret : st.faults;
}

static uint64_t opt(uint32_t frames, const uint64_t *trace, size_t n)
{
	uint64_t f;
	int ret = trace_min(trace, n, frames, &f);

	return ret ? (uint64_t)(int64_t)ret : f;
}

TEST(fifo_belady_anomaly)
{
	EXPECT_EQ(9ULL, faults(L4U_POLICY_FIFO, 3, 0, belady, N(belady), 0));
	EXPECT_EQ(10ULL, faults(L4U_POLICY_FIFO, 4, 0, belady, N(belady), 0));
	/* LRU and MIN are stack algorithms: no anomaly */
	EXPECT_EQ(10ULL, faults(L4U_POLICY_LRU, 3, 0, belady, N(belady), 0));
	EXPECT_EQ(8ULL, faults(L4U_POLICY_LRU, 4, 0, belady, N(belady), 0));
	EXPECT_EQ(7ULL, opt(3, belady, N(belady)));
	EXPECT_EQ(6ULL, opt(4, belady, N(belady)));
	/* every R bit is set when the hand comes: clock degenerates to FIFO */
	EXPECT_EQ(9ULL, faults(L4U_POLICY_CLOCK, 3, 0, belady, N(belady), 0));
}

TEST(classic_string)
{
	EXPECT_EQ(15ULL, faults(L4U_POLICY_FIFO, 3, 0, classic, N(classic), 0));
	EXPECT_EQ(12ULL, faults(L4U_POLICY_LRU, 3, 0, classic, N(classic), 0));
	EXPECT_EQ(9ULL, opt(3, classic, N(classic)));
}

TEST(clock_stallings)
{
	/* R set on load and use; hand in slot order; faults 2 3 1 5 2 4 3 5 */
	EXPECT_EQ(8ULL, faults(L4U_POLICY_CLOCK, 3, 0, stallings, N(stallings), 0));
	/* the same R bits learned only by sampling (unmap) at the hand */
	EXPECT_EQ(8ULL, faults(L4U_POLICY_CLOCK, 3, 0, stallings, N(stallings),
			    TRACE_REPLAY_SAMPLED));
	EXPECT_EQ(9ULL, faults(L4U_POLICY_FIFO, 3, 0, stallings, N(stallings), 0));
	EXPECT_EQ(7ULL, faults(L4U_POLICY_LRU, 3, 0, stallings, N(stallings), 0));
	EXPECT_EQ(6ULL, opt(3, stallings, N(stallings)));
}

/*
 * Working set, tau 3: a use faults iff the page was not used in the 3 uses
 * before. 1 2 3 2 1 4 5 4 5 1: F F F H F F F H H F = 7 faults; pages
 * leave at t5 (1), t7 (3), t8 (2), t10 (1); at most 4 resident (3 in the
 * window and the one faulting in).
 */
static const uint64_t ws_string[] = { 1, 2, 3, 2, 1, 4, 5, 4, 5, 1 };

TEST(working_set_tau)
{
	struct l4u_policy_params p = params(L4U_POLICY_WS, 4, 3);
	struct l4u_policy_stats st;

	ASSERT_EQ(0, trace_replay(&p, ws_string, N(ws_string),
				  TRACE_REPLAY_TRIM, &st));
	EXPECT_EQ(7ULL, st.faults);
	EXPECT_EQ(3ULL, st.hits);
	EXPECT_EQ(4ULL, st.evictions);
	EXPECT_EQ(4ULL, st.max_resident);
	EXPECT_EQ(0ULL, st.ws_overflows);
	/* LRU keeps 3 frames and faults less: WS trades faults for memory */
	EXPECT_EQ(5ULL, faults(L4U_POLICY_LRU, 3, 0, ws_string, N(ws_string), 0));

	/* a pool of 2 is smaller than the working set: LRU among it, counted */
	p.frames = 2;
	ASSERT_EQ(0, trace_replay(&p, ws_string, N(ws_string),
				  TRACE_REPLAY_TRIM, &st));
	EXPECT_EQ(7ULL, st.faults);
	EXPECT_EQ(5ULL, st.ws_overflows);
	EXPECT_EQ(2ULL, st.max_resident);
}

TEST(working_set_expired_first)
{
	struct l4u_policy_params p = params(L4U_POLICY_WS, 3, 2);
	struct l4u_policy *pol;
	uint32_t slot;
	uint64_t page;

	ASSERT_EQ(0, l4u_policy_create(&p, &pol));
	ASSERT_EQ(0, l4u_policy_fault(pol, 0, 10, 0));		/* t1 */
	ASSERT_EQ(0, l4u_policy_fault(pol, 1, 20, 0));		/* t2 */
	ASSERT_EQ(-ENOENT, l4u_policy_expired(pol, &slot, &page));
	ASSERT_EQ(0, l4u_policy_fault(pol, 2, 30, 0));		/* t3: 10 leaves */
	ASSERT_EQ(0, l4u_policy_expired(pol, &slot, &page));
	EXPECT_EQ(0ULL, slot);
	EXPECT_EQ(10ULL, page);
	ASSERT_EQ(0, l4u_policy_hit(pol, 0, 0));		/* t4: back */
	ASSERT_EQ(0, l4u_policy_expired(pol, &slot, &page));	/* 20 (t2) */
	EXPECT_EQ(20ULL, page);
	ASSERT_EQ(0, l4u_policy_victim(pol, &slot, &page));
	EXPECT_EQ(1ULL, slot);
	ASSERT_EQ(0, l4u_policy_evict(pol, 1, 0, NULL));
	ASSERT_EQ(0, l4u_policy_victim(pol, &slot, &page));	/* 30: t3, inside */
	EXPECT_EQ(30ULL, page);
	ASSERT_EQ(0, l4u_policy_destroy(pol));
}

/*
 * Aging sees uses only per period: A B C load at t1..t3, B used at t4,
 * round at t4 (period 4) gives all three 0x80; A used at t5. Exact LRU
 * evicts C (last use t3); aging cannot order B and C and takes the older
 * load, B.
 */
TEST(aging_vs_lru)
{
	struct l4u_policy_params p = params(L4U_POLICY_AGING, 3, 0);
	struct l4u_policy *pol;
	uint32_t kinds[] = { L4U_POLICY_AGING, L4U_POLICY_LRU };
	uint32_t expect[] = { 1, 2 };
	struct l4u_policy_stats st;
	uint32_t slot;

	for (size_t k = 0; k < N(kinds); k++) {
		p = params(kinds[k], 3, 0);
		if (kinds[k] == L4U_POLICY_AGING)
			p.period = 4;
		ASSERT_EQ(0, l4u_policy_create(&p, &pol));
		ASSERT_EQ(0, l4u_policy_fault(pol, 0, 'A', 0));
		ASSERT_EQ(0, l4u_policy_fault(pol, 1, 'B', 0));
		ASSERT_EQ(0, l4u_policy_fault(pol, 2, 'C', 0));
		ASSERT_EQ(0, l4u_policy_hit(pol, 1, 0));
		ASSERT_EQ(0, l4u_policy_hit(pol, 0, 0));
		ASSERT_EQ(0, l4u_policy_victim(pol, &slot, NULL));
		EXPECT_EQ(expect[k], slot);
		ASSERT_EQ(0, l4u_policy_stats(pol, &st));
		EXPECT_EQ(kinds[k] == L4U_POLICY_AGING ? 1ULL : 0ULL, st.aging_rounds);
		EXPECT_EQ(3ULL, st.faults);
		EXPECT_EQ(2ULL, st.hits);
		EXPECT_EQ(5ULL, st.now);
		ASSERT_EQ(0, l4u_policy_destroy(pol));
	}
}

/* A manager's sample callback: bits per slot, consumed like /dev/l4's. */
struct fake_kernel {
	int bits[4];
	int calls;
	int fail;
	struct l4u_policy *pol;
};

static int fake_sample(void *arg, uint32_t slot, uint64_t page)
{
	struct fake_kernel *k = arg;
	int a = k->bits[slot];
	uint32_t s;

	(void)page;
	k->calls++;
	if (k->pol && l4u_policy_victim(k->pol, &s, NULL) != -EDEADLK)
		return -EINVAL;
	if (k->fail)
		return k->fail;
	k->bits[slot] = 0;
	return a;
}

TEST(clock_samples_at_hand)
{
	struct fake_kernel k = { .bits = { L4_FPAGE_R, 0 } };
	struct l4u_policy_params p = params(L4U_POLICY_CLOCK, 2, 0);
	struct l4u_policy_stats st;
	struct l4u_policy *pol;
	uint32_t slot;
	int dirty = -1;

	p.sample = fake_sample;
	p.sample_arg = &k;
	ASSERT_EQ(0, l4u_policy_create(&p, &pol));
	ASSERT_EQ(0, l4u_policy_fault(pol, 0, 100, 0));
	ASSERT_EQ(0, l4u_policy_fault(pol, 1, 101, L4U_POLICY_SWAPIN));
	/* both R from their faults: a turn clears them, the hand is at 0 again */
	k.pol = pol;
	ASSERT_EQ(0, l4u_policy_victim(pol, &slot, NULL));
	k.pol = NULL;
	EXPECT_EQ(0ULL, slot);
	EXPECT_EQ(3, k.calls);
	/* slot 0 goes (dirty: the revoking unmap said W) */
	k.bits[1] = L4_FPAGE_R;
	ASSERT_EQ(0, l4u_policy_evict(pol, 0, L4_FPAGE_W, &dirty));
	EXPECT_EQ(1, dirty);
	ASSERT_EQ(0, l4u_policy_fault(pol, 0, 102, 0));
	ASSERT_EQ(0, l4u_policy_victim(pol, &slot, NULL));
	/* 1 (sampled R), 0 (R from its fault): second chances; 1 again, clear */
	EXPECT_EQ(1ULL, slot);
	EXPECT_EQ(6, k.calls);
	/* a failing callback fails the call */
	k.fail = -EIO;
	EXPECT_EQ(-EIO, l4u_policy_victim(pol, &slot, NULL));
	ASSERT_EQ(0, l4u_policy_stats(pol, &st));
	EXPECT_EQ(3ULL, st.faults);
	EXPECT_EQ(1ULL, st.evictions);
	EXPECT_EQ(1ULL, st.swap_outs);
	EXPECT_EQ(1ULL, st.swap_ins);
	EXPECT_EQ(st.samples, (uint64_t)k.calls);
	ASSERT_EQ(0, l4u_policy_destroy(pol));
}

/* WS asks before it gives a page up: a referenced one is back in the window */
TEST(working_set_samples_expired)
{
	struct fake_kernel k = { .bits = { L4_FPAGE_R, 0 } };
	struct l4u_policy_params p = params(L4U_POLICY_WS, 2, 2);
	struct l4u_policy_stats st;
	struct l4u_policy *pol;
	uint32_t slot;
	uint64_t page;

	p.sample = fake_sample;
	p.sample_arg = &k;
	ASSERT_EQ(0, l4u_policy_create(&p, &pol));
	ASSERT_EQ(0, l4u_policy_fault(pol, 0, 10, 0));		/* t1 */
	ASSERT_EQ(0, l4u_policy_fault(pol, 1, 20, 0));		/* t2 */
	ASSERT_EQ(0, l4u_policy_tick(pol, 1));			/* t3 */
	/* 10 (t1) is past the window, but R says it was used: now t3 */
	EXPECT_EQ(-ENOENT, l4u_policy_expired(pol, &slot, &page));
	EXPECT_EQ(1, k.calls);
	ASSERT_EQ(0, l4u_policy_tick(pol, 1));			/* t4 */
	ASSERT_EQ(0, l4u_policy_expired(pol, &slot, &page));	/* 20 (t2) */
	EXPECT_EQ(1U, slot);
	EXPECT_EQ(20ULL, page);
	EXPECT_EQ(2, k.calls);
	ASSERT_EQ(0, l4u_policy_stats(pol, &st));
	EXPECT_EQ(2ULL, st.samples);
	EXPECT_EQ(4ULL, st.now);
	EXPECT_EQ(0ULL, st.hits);
	ASSERT_EQ(0, l4u_policy_destroy(pol));
}

TEST(bad_arguments)
{
	struct l4u_policy_params p = params(L4U_POLICY_FIFO, 2, 0);
	struct l4u_policy_stats st;
	struct l4u_policy *pol;
	uint64_t f;
	uint32_t slot;

	EXPECT_EQ(-EINVAL, l4u_policy_create(NULL, &pol));
	EXPECT_EQ(-EINVAL, l4u_policy_create(&p, NULL));
	p.kind = 0;
	EXPECT_EQ(-EINVAL, l4u_policy_create(&p, &pol));
	p.kind = L4U_POLICY_KINDS;
	EXPECT_EQ(-EINVAL, l4u_policy_create(&p, &pol));
	p = params(L4U_POLICY_FIFO, 0, 0);
	EXPECT_EQ(-EINVAL, l4u_policy_create(&p, &pol));
	p.frames = L4U_POLICY_MAX_FRAMES + 1;
	EXPECT_EQ(-EINVAL, l4u_policy_create(&p, &pol));
	p = params(L4U_POLICY_WS, 2, 0);			/* WS needs tau */
	EXPECT_EQ(-EINVAL, l4u_policy_create(&p, &pol));
	p = params(L4U_POLICY_FIFO, 2, 5);			/* only WS has one */
	EXPECT_EQ(-EINVAL, l4u_policy_create(&p, &pol));
	p = params(L4U_POLICY_AGING, 2, 0);
	p.aging_bits = 33;
	EXPECT_EQ(-EINVAL, l4u_policy_create(&p, &pol));
	p = params(L4U_POLICY_CLOCK, 2, 0);
	p.period = 1;
	EXPECT_EQ(-EINVAL, l4u_policy_create(&p, &pol));
	p = params(L4U_POLICY_CLOCK, 2, 0);
	p.flags = 1;
	EXPECT_EQ(-EINVAL, l4u_policy_create(&p, &pol));
	p = params(L4U_POLICY_CLOCK, 2, 0);
	p.reserved[1] = 1;
	EXPECT_EQ(-EINVAL, l4u_policy_create(&p, &pol));

	p = params(L4U_POLICY_LRU, 2, 0);
	ASSERT_EQ(0, l4u_policy_create(&p, &pol));
	EXPECT_EQ(-ENOENT, l4u_policy_victim(pol, &slot, NULL));
	EXPECT_EQ(-EINVAL, l4u_policy_victim(pol, NULL, NULL));
	EXPECT_EQ(-EINVAL, l4u_policy_fault(pol, 2, 1, 0));
	EXPECT_EQ(-EINVAL, l4u_policy_fault(pol, 0, 1, 4));
	EXPECT_EQ(-ENOENT, l4u_policy_hit(pol, 0, 0));
	EXPECT_EQ(-ENOENT, l4u_policy_report(pol, 0, L4_FPAGE_R));
	EXPECT_EQ(-ENOENT, l4u_policy_evict(pol, 1, 0, NULL));
	ASSERT_EQ(0, l4u_policy_fault(pol, 0, 1, 0));
	EXPECT_EQ(-EBUSY, l4u_policy_fault(pol, 0, 2, 0));
	EXPECT_EQ(-EINVAL, l4u_policy_hit(pol, 0, L4U_POLICY_SWAPIN));
	EXPECT_EQ(-EINVAL, l4u_policy_report(pol, 0, 8));
	EXPECT_EQ(-EINVAL, l4u_policy_evict(pol, 0, 8, NULL));
	EXPECT_EQ(-EINVAL, l4u_policy_free_slot(pol, NULL));
	ASSERT_EQ(0, l4u_policy_free_slot(pol, &slot));
	EXPECT_EQ(1ULL, slot);
	ASSERT_EQ(0, l4u_policy_fault(pol, 1, 2, 0));
	EXPECT_EQ(-ENOSPC, l4u_policy_free_slot(pol, &slot));
	EXPECT_EQ(-ENOENT, l4u_policy_expired(pol, &slot, NULL));	/* not WS */
	EXPECT_EQ(-EINVAL, l4u_policy_stats(pol, NULL));
	EXPECT_EQ(-EINVAL, l4u_policy_stats(NULL, &st));
	EXPECT_EQ(-EINVAL, l4u_policy_tick(NULL, 1));
	EXPECT_EQ(-EINVAL, l4u_policy_destroy(NULL));
	ASSERT_EQ(0, l4u_policy_destroy(pol));

	EXPECT_EQ(-EINVAL, trace_min(belady, N(belady), 0, &f));
	EXPECT_EQ(-EINVAL, trace_min(NULL, 3, 2, &f));
	EXPECT_EQ(-EINVAL, trace_min(belady, N(belady), 2, NULL));
	ASSERT_EQ(0, trace_min(NULL, 0, 2, &f));
	EXPECT_EQ(0ULL, f);
	p = params(L4U_POLICY_LRU, 2, 0);	/* LRU cannot run on samples */
	EXPECT_EQ(-EINVAL, trace_replay(&p, belady, N(belady),
					TRACE_REPLAY_SAMPLED, &st));
	EXPECT_EQ(-EINVAL, trace_replay(&p, belady, N(belady), 4, &st));
	EXPECT_STREQ("clock", l4u_policy_name(L4U_POLICY_CLOCK));
	EXPECT_EQ(NULL, l4u_policy_name(0));
	EXPECT_EQ(NULL, l4u_policy_name(L4U_POLICY_KINDS));
}

/* ---- properties on generated traces ------------------------------------ */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

#define TRACE_LEN	3000
#define FOOTPRINT	60

static void gen(int kind, uint64_t *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t r = next_rand();

		switch (kind) {
		case 0:	t[i] = i % (FOOTPRINT + 7); break;	/* loop */
		case 1:	t[i] = r % FOOTPRINT; break;		/* uniform */
		case 2:	t[i] = (r % 10) ? (r >> 8) % 6 : (r >> 8) % FOOTPRINT;
			break;					/* hot/cold */
		default: t[i] = (i / 500) * 10 + (r >> 8) % 15;	/* phases */
		}
		if ((r >> 40) % 4 == 0)
			t[i] |= TRACE_WRITE;
	}
}

TEST(min_is_the_floor)
{
	static uint64_t t[TRACE_LEN];
	const uint32_t kinds[] = { L4U_POLICY_FIFO, L4U_POLICY_LRU,
				   L4U_POLICY_AGING, L4U_POLICY_CLOCK,
				   L4U_POLICY_WS };

	for (int g = 0; g < 4; g++) {
		uint64_t prev_min = UINT64_MAX, prev_lru = UINT64_MAX;

		gen(g, t, TRACE_LEN);
		for (uint32_t frames = 4; frames <= 76; frames += 8) {
			uint64_t m = opt(frames, t, TRACE_LEN);

			/* stack algorithms: more frames never fault more */
			EXPECT_LE(m, prev_min);
			prev_min = m;
			for (size_t k = 0; k < N(kinds); k++) {
				uint64_t tau = kinds[k] == L4U_POLICY_WS ? 2 * frames : 0;

				for (uint32_t fl = 0; fl < 4; fl++) {
					uint64_t f;

					if (kinds[k] == L4U_POLICY_LRU &&
					    (fl & TRACE_REPLAY_SAMPLED))
						continue;
					f = faults(kinds[k], frames, tau, t,
						   TRACE_LEN, fl);
					ASSERT_GT((int64_t)f, 0);
					EXPECT_LE(m, f) {
						TH_LOG("trace %d frames %u %s flags %u",
						       g, frames,
						       l4u_policy_name(kinds[k]), fl);
					}
				}
			}
			uint64_t l = faults(L4U_POLICY_LRU, frames, 0, t, TRACE_LEN, 0);

			EXPECT_LE(l, prev_lru);
			prev_lru = l;
		}
	}
}

/*
 * Clock needs nothing but what /dev/l4's unmap reports: fed by sampling at
 * the hand it faults exactly as with every use reported. (Aging does not:
 * between its rounds a sampled policy has not seen the uses yet.)
 */
TEST(sampling_loses_nothing_for_clock)
{
	static uint64_t t[TRACE_LEN];

	for (int g = 0; g < 4; g++) {
		gen(g, t, TRACE_LEN);
		for (uint32_t frames = 8; frames <= 64; frames += 28)
			EXPECT_EQ(faults(L4U_POLICY_CLOCK, frames, 0, t, TRACE_LEN, 0),
				  faults(L4U_POLICY_CLOCK, frames, 0, t, TRACE_LEN,
					 TRACE_REPLAY_SAMPLED));
	}
}

/* MIN against a quadratic reference implementation */
TEST(min_matches_brute_force)
{
	static uint64_t t[600];

	for (int g = 0; g < 4; g++) {
		gen(g, t, N(t));
		for (uint32_t frames = 1; frames <= 40; frames += 13) {
			uint64_t res[64], count = 0;
			uint32_t nres = 0;

			for (size_t i = 0; i < N(t); i++) {
				uint64_t pg = TRACE_PAGE(t[i]);
				uint32_t j, far = 0;
				size_t farthest = 0;

				for (j = 0; j < nres && res[j] != pg; j++)
					;
				if (j < nres)
					continue;
				count++;
				if (nres < frames) {
					res[nres++] = pg;
					continue;
				}
				for (j = 0; j < nres; j++) {
					size_t k;

					for (k = i + 1; k < N(t); k++)
						if (TRACE_PAGE(t[k]) == res[j])
							break;
					if (k > farthest) {
						farthest = k;
						far = j;
					}
				}
				res[far] = pg;
			}
			EXPECT_EQ(count, opt(frames, t, N(t)));
		}
	}
}

/* ---- what /dev/l4 tells a manager (docs/policies.md relies on it) ------- */

#include <l4u/l4u.h>

L4T_FIXTURE(policy_dev);

#define PG	L4T_PAGE

static uint64_t unmap1(struct __test_metadata *_metadata, int space,
		       uint64_t addr, uint64_t rights, uint64_t *acc)
{
	uint64_t n = ~0ULL;

	*acc = ~0ULL;
	EXPECT_EQ(0, l4u_unmap(space, L4_FPAGE(addr, 12, rights), 0, &n, acc));
	return n;
}

static int map1(int dst, int src, uint64_t addr, uint64_t rights)
{
	return l4u_map(dst, src, L4_FPAGE(addr, 12, rights), addr, 0,
		       L4_FPAGE_WHOLE_SPACE, NULL, NULL);
}

/*
 * A manager (sigma0 space a) maps two frames to a client (space b). The
 * referenced bit says "used since the last report", the dirty bit
 * "written", a W-revoke of a page nobody holds writable reports nothing,
 * and the bits are per frame: the manager's own write fault counts.
 */
TEST_F(policy_dev, unmap_reports_use)
{
	volatile char *aw, *bw;
	uint64_t acc;
	char c;
	int a, b;

	a = l4u_space_create(self->dev, 2 * PG, L4_SPACE_SIGMA0, 0, NULL);
	ASSERT_LE(0, a);
	b = l4u_space_create(self->dev, 2 * PG, 0, 0, NULL);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, l4u_window_open(a, 0, 2 * PG, PROT_READ | PROT_WRITE,
				     NULL, (void **)&aw));
	ASSERT_EQ(0, l4u_window_open(b, 0, 2 * PG, PROT_READ | PROT_WRITE,
				     NULL, (void **)&bw));
	aw[0] = 1;				/* the manager fills its frames */
	aw[PG] = 2;
	ASSERT_EQ(0, map1(b, a, 0, L4_FPAGE_RW));
	ASSERT_EQ(0, map1(b, a, PG, L4_FPAGE_RW));
	/* consume what the filling left, then give W back */
	EXPECT_EQ(1ULL, unmap1(_metadata, a, 0, L4_FPAGE_W, &acc));
	EXPECT_EQ(L4_FPAGE_W, acc & L4_FPAGE_W);	/* the manager's write */
	EXPECT_EQ(1ULL, unmap1(_metadata, a, PG, L4_FPAGE_W, &acc));
	ASSERT_EQ(0, map1(b, a, 0, L4_FPAGE_RW));
	ASSERT_EQ(0, map1(b, a, PG, L4_FPAGE_RW));

	/* the client reads page 0 only: referenced, not dirty; page 1: nothing */
	c = bw[0];
	EXPECT_EQ(1, c);
	EXPECT_EQ(1ULL, unmap1(_metadata, a, 0, L4_FPAGE_W, &acc));
	EXPECT_EQ(L4_FPAGE_R, acc);
	EXPECT_EQ(1ULL, unmap1(_metadata, a, PG, L4_FPAGE_W, &acc));
	EXPECT_EQ(0ULL, acc);

	/* nobody holds page 0 writable now: a W-revoke hits nothing, says nothing */
	EXPECT_EQ(0ULL, unmap1(_metadata, a, 0, L4_FPAGE_W, &acc));
	EXPECT_EQ(0ULL, acc);
	/* the W-revoke zapped the PTE: the next read is seen again */
	c = bw[0];
	EXPECT_EQ(1ULL, unmap1(_metadata, a, 0, L4_FPAGE_R, &acc));	/* gone */
	EXPECT_EQ(L4_FPAGE_R, acc);
	EXPECT_EQ(0ULL, unmap1(_metadata, a, 0, L4_FPAGE_R, &acc));

	/* a client write: referenced and dirty */
	ASSERT_EQ(0, map1(b, a, PG, L4_FPAGE_RW));
	bw[PG] = 3;
	EXPECT_EQ(1ULL, unmap1(_metadata, a, PG, L4_FPAGE_W, &acc));
	EXPECT_EQ(L4_FPAGE_R | L4_FPAGE_W, acc);
	EXPECT_EQ(3, aw[PG]);

	EXPECT_EQ(0, l4u_window_close((void *)bw, 2 * PG));
	EXPECT_EQ(0, l4u_window_close((void *)aw, 2 * PG));
	close(b);
	close(a);
}

TEST_HARNESS_MAIN
