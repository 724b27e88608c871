/* SPDX-License-Identifier: MIT */
/*
 * libl4u-server page-replacement policies (pkg-config l4u-server): the
 * decision half of a swapping dataspace manager (docs/policies.md).
 *
 * A policy watches a pool of @frames frame slots (0 .. frames-1, the
 * manager's frame numbers). The manager tells it what happens and what it
 * learned; the policy only decides. It never calls /dev/l4 itself: when it
 * needs fresh use information it calls the manager's sample callback,
 * which the manager implements with l4u_unmap() (a W- or R-revoke reports
 * L4_FPAGE_R "referenced" and L4_FPAGE_W "dirty" since the last report).
 *
 *   fault:    slot free?  l4u_policy_free_slot()
 *             else        l4u_policy_victim() -> revoke the victim
 *                         (l4u_unmap R), write it back if dirty,
 *                         l4u_policy_evict()
 *             read the page in, map it, l4u_policy_fault()
 *   hit:      l4u_policy_hit() when the manager sees a use of a resident
 *             page (a trace simulator sees all; a pager only soft faults)
 *   learned:  l4u_policy_report() with the access bits of any unmap
 *   time:     l4u_policy_tick() advances virtual time without a known use
 *
 * Virtual time advances by one with every fault and hit, by n with tick.
 *
 * Locking: none inside. One policy handle must not be used by two threads
 * at once (the caller serialises, e.g. under its pool lock); distinct
 * handles are independent. The sample callback runs inside the call that
 * needs it (victim, expired, tick/fault/hit for aging rounds) and must not
 * call into the same handle (-EDEADLK).
 *
 * Every function returns 0 or -errno (EINVAL: bad argument or a slot out
 * of range; EBUSY: slot occupied; ENOENT: slot empty / nothing to choose;
 * ENOSPC: no free slot; EDEADLK: called from the sample callback).
 */
#ifndef L4U_POLICY_H
#define L4U_POLICY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct l4u_policy;	/* opaque */

enum l4u_policy_kind {
	L4U_POLICY_FIFO = 1,	/* evict in load order; uses nothing learned */
	L4U_POLICY_LRU,		/* exact LRU: every use reported (hit/report) */
	L4U_POLICY_AGING,	/* approximate LRU: aging counters from sampled R bits */
	L4U_POLICY_CLOCK,	/* second chance, R bit sampled at the hand */
	L4U_POLICY_WS,		/* working set, window tau (virtual time) */
	L4U_POLICY_KINDS
};

#define L4U_POLICY_MAX_FRAMES	(1U << 28)
#define L4U_POLICY_AGING_BITS	8	/* default counter width */

/*
 * Fresh use information for the page in @slot: return what l4u_unmap()
 * reported for it (L4_FPAGE_R referenced, L4_FPAGE_W dirty, since the last
 * report), or -errno (the policy call fails with it).
 */
typedef int (*l4u_policy_sample_fn)(void *arg, uint32_t slot, uint64_t page);

struct l4u_policy_params {
	uint32_t kind;		/* L4U_POLICY_* */
	uint32_t frames;	/* pool size, 1 .. L4U_POLICY_MAX_FRAMES */
	uint64_t tau;		/* WS: window in virtual time (>= 1); others: 0 */
	uint64_t period;	/* AGING: virtual time between aging rounds, 0: frames */
	uint32_t aging_bits;	/* AGING: counter width 1..32, 0: L4U_POLICY_AGING_BITS */
	uint32_t flags;		/* zero */
	l4u_policy_sample_fn sample; /* NULL: only what hit/report tell */
	void *sample_arg;
	uint64_t reserved[2];	/* zero */
};

struct l4u_policy_stats {
	uint64_t faults;	/* l4u_policy_fault() calls (misses) */
	uint64_t hits;		/* l4u_policy_hit() calls */
	uint64_t evictions;	/* l4u_policy_evict() calls */
	uint64_t swap_ins;	/* faults flagged L4U_POLICY_SWAPIN */
	uint64_t swap_outs;	/* evictions of dirty pages (write-backs) */
	uint64_t samples;	/* sample callback calls (unmaps a manager does) */
	uint64_t ws_overflows;	/* WS victims still inside the window */
	uint64_t aging_rounds;	/* AGING: rounds done */
	uint64_t resident;	/* pages resident now */
	uint64_t max_resident;	/* most pages resident at once */
	uint64_t now;		/* virtual time */
	double hit_ratio;	/* hits / (hits + faults), 0 if none */
	double mean_resident;	/* resident pages averaged over virtual time */
};

/* l4u_policy_fault() / l4u_policy_hit() flags */
#define L4U_POLICY_WRITE	(1U << 0)	/* the use was a write: page dirty */
#define L4U_POLICY_SWAPIN	(1U << 1)	/* fault: page read back from swap */

int l4u_policy_create(const struct l4u_policy_params *params,
		      struct l4u_policy **pol);
int l4u_policy_destroy(struct l4u_policy *pol);

/* Page @page (the manager's cookie) was loaded into free @slot. */
int l4u_policy_fault(struct l4u_policy *pol, uint32_t slot, uint64_t page,
		     uint32_t flags);
/* A use of the page resident in @slot, seen now. */
int l4u_policy_hit(struct l4u_policy *pol, uint32_t slot, uint32_t flags);
/* @access (L4_FPAGE_R / L4_FPAGE_W) learned for @slot, e.g. from l4u_unmap(). */
int l4u_policy_report(struct l4u_policy *pol, uint32_t slot, uint32_t access);
/* Advance virtual time by @ticks without a known use. */
int l4u_policy_tick(struct l4u_policy *pol, uint64_t ticks);

/* The lowest free slot (-ENOSPC: pool full). */
int l4u_policy_free_slot(struct l4u_policy *pol, uint32_t *slot);
/* The page to evict next (it stays resident until l4u_policy_evict()). */
int l4u_policy_victim(struct l4u_policy *pol, uint32_t *slot, uint64_t *page);
/* WS: a resident page outside the window (-ENOENT: none; other kinds: none). */
int l4u_policy_expired(struct l4u_policy *pol, uint32_t *slot, uint64_t *page);
/*
 * The page in @slot is gone; @access: the bits the revoking unmap reported.
 * *@dirty (if non-NULL): whether it was written while resident (write it back).
 */
int l4u_policy_evict(struct l4u_policy *pol, uint32_t slot, uint32_t access,
		     int *dirty);

int l4u_policy_stats(const struct l4u_policy *pol, struct l4u_policy_stats *st);

/* "fifo", "lru", "aging", "clock", "ws"; NULL for an unknown kind. */
const char *l4u_policy_name(uint32_t kind);

#ifdef __cplusplus
}
#endif

#endif /* L4U_POLICY_H */
