// SPDX-License-Identifier: MIT
/*
 * Replacement policies on access traces (libl4u policy.h): the same
 * deterministic traces through FIFO, LRU, aging, Clock and working set at
 * pool sizes from 25 % to 125 % of the footprint, with Belady's MIN beside
 * them (computed offline on the trace: the floor) and each policy's ratio
 * to it. Needs no /dev/l4; runs in the guest like the other benchmarks.
 *
 * LRU and FIFO are told every use (exact: what a simulator knows). The
 * starred policies see only what a manager on /dev/l4 can learn: faults,
 * and the referenced/dirty bits an unmap reports, sampled by the policy
 * (aging: every resident page once per period; Clock: the page under the
 * hand; WS: the oldest page, and pages past the window before each use).
 * "unmaps" is the number of such samples per fault: the price of knowing.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <l4u/policy.h>
#include "helpers/trace.h"

#define FOOTPRINT	256		/* pages */
#define LEN		(100 * FOOTPRINT)
#define WRITE_PCT	25

static uint64_t rng_state;

static void seed(uint64_t s)
{
	rng_state = s;
}

/* splitmix64 */
static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t below(uint64_t n)
{
	return rnd() % n;
}

/* each generator returns the trace length */
static size_t gen_seq(uint64_t *t)
{
	size_t n = 0;

	/* one pass, each page used 8 times in a row (records of 512 bytes) */
	for (uint64_t p = 0; p < FOOTPRINT; p++)
		for (int k = 0; k < 8; k++)
			t[n++] = p;
	return n;
}

static size_t gen_loop(uint64_t *t)
{
	for (size_t i = 0; i < LEN; i++)
		t[i] = i % FOOTPRINT;
	return LEN;
}

static size_t gen_random(uint64_t *t)
{
	for (size_t i = 0; i < LEN; i++)
		t[i] = below(FOOTPRINT);
	return LEN;
}

static size_t gen_hotcold(uint64_t *t)
{
	const uint64_t hot = FOOTPRINT / 10;

	/* 90 % of uses go to 10 % of the pages */
	for (size_t i = 0; i < LEN; i++)
		t[i] = below(10) ? below(hot) : hot + below(FOOTPRINT - hot);
	return LEN;
}

static size_t gen_phase(uint64_t *t)
{
	const uint64_t ws = FOOTPRINT / 4, step = FOOTPRINT / 4 - FOOTPRINT / 16;

	/* four phases, each with its own working set of 64 pages (16 shared) */
	for (size_t i = 0; i < LEN; i++)
		t[i] = (i / (LEN / 4)) * step + below(ws);
	return LEN;
}

static const struct {
	const char *name;
	const char *what;
	size_t (*gen)(uint64_t *t);
} traces[] = {
	{ "seq",	"one sequential pass, 8 uses per page",		gen_seq },
	{ "loop",	"cyclic loop over all pages, 100 times",	gen_loop },
	{ "random",	"uniform random",				gen_random },
	{ "hotcold",	"90 % of uses to 10 % of the pages",		gen_hotcold },
	{ "phase",	"4 phases, working sets of 64 pages",		gen_phase },
};

static const int pool_pct[] = { 25, 50, 75, 100, 125 };

struct col {
	const char *title;
	uint32_t kind;
	uint32_t flags;
};

static const struct col cols[] = {
	{ "FIFO",	L4U_POLICY_FIFO,	0 },
	{ "LRU",	L4U_POLICY_LRU,		0 },
	{ "AGING*",	L4U_POLICY_AGING,	TRACE_REPLAY_SAMPLED },
	{ "CLOCK*",	L4U_POLICY_CLOCK,	TRACE_REPLAY_SAMPLED },
	{ "WS*",	L4U_POLICY_WS,		TRACE_REPLAY_SAMPLED | TRACE_REPLAY_TRIM },
};

#define NCOLS	(sizeof(cols) / sizeof(cols[0]))

int main(void)
{
	uint64_t *t = malloc(LEN * sizeof(*t) + 8 * FOOTPRINT * sizeof(*t));
	struct timespec t0, t1;

	if (!t) {
		perror("malloc");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	printf("policy: %d pages footprint, faults per policy, (xN) = ratio to MIN\n"
	       "  FIFO, LRU: every use reported; * = only what unmap reports "
	       "(sampled R/W bits)\n"
	       "  WS*: tau = 2 x pool, pages past the window freed before each use; "
	       "mean resident pages in []\n", FOOTPRINT);
	for (size_t k = 0; k < sizeof(traces) / sizeof(traces[0]); k++) {
		size_t n;
		uint64_t unmaps[NCOLS] = { 0 }, flt[NCOLS] = { 0 }, outs[NCOLS] = { 0 };

		seed(0x6c347521 + k);
		n = traces[k].gen(t);
		for (size_t i = 0; i < n; i++)
			if (below(100) < WRITE_PCT)
				t[i] |= TRACE_WRITE;
		printf("\n%s (%s; %zu uses)\n  pool    MIN", traces[k].name,
		       traces[k].what, n);
		for (size_t c = 0; c < NCOLS; c++)
			printf("  %14s", cols[c].title);
		printf("\n");
		for (size_t s = 0; s < sizeof(pool_pct) / sizeof(pool_pct[0]); s++) {
			uint32_t frames = FOOTPRINT * pool_pct[s] / 100;
			struct l4u_policy_stats st;
			uint64_t min;
			int ret;

			ret = trace_min(t, n, frames, &min);
			if (ret) {
				fprintf(stderr, "min: %s\n", strerror(-ret));
				return 1;
			}
			printf("  %3d%% %6" PRIu64, pool_pct[s], min);
			for (size_t c = 0; c < NCOLS; c++) {
				struct l4u_policy_params p = {
					.kind = cols[c].kind,
					.frames = frames,
					.tau = cols[c].kind == L4U_POLICY_WS ? 2ULL * frames : 0,
				};
				char cell[40];

				ret = trace_replay(&p, t, n, cols[c].flags, &st);
				if (ret) {
					fprintf(stderr, "%s: %s\n", cols[c].title,
						strerror(-ret));
					return 1;
				}
				if (st.faults < min) {
					fprintf(stderr, "BUG: %s below MIN\n", cols[c].title);
					return 1;
				}
				unmaps[c] += st.samples;
				flt[c] += st.faults;
				if (pool_pct[s] == 50)
					outs[c] = st.swap_outs;
				if (cols[c].kind == L4U_POLICY_WS)
					snprintf(cell, sizeof(cell), "%" PRIu64 " x%.2f [%.0f]",
						 st.faults, min ? (double)st.faults / min : 1.0,
						 st.mean_resident);
				else
					snprintf(cell, sizeof(cell), "%" PRIu64 " x%.2f",
						 st.faults, min ? (double)st.faults / min : 1.0);
				printf("  %14s", cell);
			}
			printf("\n");
		}
		printf("  unmaps per fault:");
		for (size_t c = 0; c < NCOLS; c++)
			if (cols[c].flags & TRACE_REPLAY_SAMPLED)
				printf("  %s %.2f", cols[c].title,
				       flt[c] ? (double)unmaps[c] / flt[c] : 0.0);
		printf("\n  swap-outs at 50 %%:");
		for (size_t c = 0; c < NCOLS; c++)
			printf("  %s %" PRIu64, cols[c].title, outs[c]);
		printf("\n");
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("\n(%.2f s)\n", (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	free(t);
	return 0;
}
