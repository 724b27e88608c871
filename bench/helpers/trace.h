/* SPDX-License-Identifier: MIT */
/*
 * Access traces for the replacement policies (l4u/policy.h): Belady's MIN
 * and a replay of a policy over a trace (bench/helpers/trace.c). For
 * benchmarks and tests, not part of the libraries.
 */
#ifndef L4U_BENCH_TRACE_H
#define L4U_BENCH_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include <l4u/policy.h>

/* A trace is an array of page numbers; this bit marks a write. */
#define TRACE_WRITE		(1ULL << 63)
#define TRACE_PAGE(e)		((e) & ~TRACE_WRITE)

/* Belady's MIN (OPT) on @trace with @frames frames: *@faults. O(n log n). */
int trace_min(const uint64_t *trace, size_t n, uint32_t frames,
	      uint64_t *faults);

/* trace_replay() flags */
#define TRACE_REPLAY_SAMPLED	(1U << 0)	/* policy learns uses only as /dev/l4 tells */
#define TRACE_REPLAY_TRIM	(1U << 1)	/* WS: free expired pages before each use */

/*
 * Run @trace through a new policy made from @params (its sample callback
 * is replaced by the replay's own) as a demand-paging manager would, and
 * return its statistics. Without TRACE_REPLAY_SAMPLED every use is a hit()
 * (exact information); with it the policy sees only faults and the R/W
 * bits a sample or an evicting unmap would report, hits are then counted
 * by the replay. -EINVAL for LRU with SAMPLED (LRU needs every use).
 * Returns 0 or -errno.
 */
int trace_replay(const struct l4u_policy_params *params,
		 const uint64_t *trace, size_t n, uint32_t flags,
		 struct l4u_policy_stats *st);

#endif /* L4U_BENCH_TRACE_H */
