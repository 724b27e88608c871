// SPDX-License-Identifier: MIT
/*
 * Access traces for the replacement policies of libl4u-server
 * (l4u/policy.h): Belady's MIN, and a replay that drives a policy the way
 * a manager would (bench/policy.c, selftests/policy.c). Not part of the
 * libraries: only benchmarks and tests need it.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include <linux/l4.h>
#include <l4u/policy.h>
#include "trace.h"

#define ACC_R		((uint32_t)L4_FPAGE_R)
#define ACC_W		((uint32_t)L4_FPAGE_W)

struct pos {
	uint64_t page;
	size_t i;
};

static int pos_cmp(const void *a, const void *b)
{
	const struct pos *x = a, *y = b;

	if (x->page != y->page)
		return x->page < y->page ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/*
 * Dense ids 0 .. *@distinct-1 for the pages of @trace (sorting: O(n log n));
 * with @next, also each use's next use of the same page (n + id if none,
 * distinct and later than any real one).
 */
static int trace_ids(const uint64_t *trace, size_t n, size_t *ids,
		     size_t *next, size_t *distinct)
{
	struct pos *p = malloc((n ? n : 1) * sizeof(*p));
	size_t d = 0;

	if (!p)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		p[i] = (struct pos){ TRACE_PAGE(trace[i]), i };
	qsort(p, n, sizeof(*p), pos_cmp);
	for (size_t k = 0; k < n; k++) {
		if (k && p[k].page != p[k - 1].page)
			d++;
		ids[p[k].i] = d;
		if (next)
			next[p[k].i] = (k + 1 < n && p[k + 1].page == p[k].page) ?
				       p[k + 1].i : n + d;
	}
	*distinct = n ? d + 1 : 0;
	free(p);
	return 0;
}

struct heap_ent {
	size_t next;	/* next use */
	size_t id;
};

static void heap_push(struct heap_ent *h, size_t *len, struct heap_ent e)
{
	size_t i = (*len)++;

	while (i && h[(i - 1) / 2].next < e.next) {
		h[i] = h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h[i] = e;
}

static struct heap_ent heap_pop(struct heap_ent *h, size_t *len)
{
	struct heap_ent top = h[0], last = h[--(*len)];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= *len)
			break;
		if (c + 1 < *len && h[c + 1].next > h[c].next)
			c++;
		if (h[c].next <= last.next)
			break;
		h[i] = h[c];
		i = c;
	}
	if (*len)
		h[i] = last;
	return top;
}

/*
 * MIN: on a fault with a full pool, evict the resident page whose next use
 * is farthest away. A max-heap of (next use, page) with lazy deletion: an
 * entry is current iff the page is resident and its next use is still that.
 */
int trace_min(const uint64_t *trace, size_t n, uint32_t frames,
	      uint64_t *faults)
{
	size_t *ids, *next, *cur, distinct, len = 0, resident = 0;
	struct heap_ent *heap;
	uint64_t count = 0;
	int ret;

	if ((!trace && n) || !frames || !faults)
		return -EINVAL;
	if (n >= SIZE_MAX / 2 / sizeof(struct heap_ent))
		return -ENOMEM;
	ids = malloc((n + 1) * sizeof(*ids));
	next = malloc((n + 1) * sizeof(*next));
	cur = malloc((n + 1) * sizeof(*cur));
	heap = malloc((n + 1) * sizeof(*heap));
	ret = -ENOMEM;
	if (!ids || !next || !cur || !heap)
		goto out;
	ret = trace_ids(trace, n, ids, next, &distinct);
	if (ret)
		goto out;
	for (size_t d = 0; d < distinct; d++)
		cur[d] = SIZE_MAX;	/* not resident */
	for (size_t i = 0; i < n; i++) {
		size_t id = ids[i];

		if (cur[id] == SIZE_MAX) {
			count++;
			if (resident == frames) {
				for (;;) {
					struct heap_ent e = heap_pop(heap, &len);

					if (cur[e.id] == e.next) {
						cur[e.id] = SIZE_MAX;
						break;
					}
				}
				resident--;
			}
			resident++;
		}
		cur[id] = next[i];
		heap_push(heap, &len, (struct heap_ent){ next[i], id });
	}
	*faults = count;
	ret = 0;
out:
	free(ids);
	free(next);
	free(cur);
	free(heap);
	return ret;
}

/*
 * The replay plays manager and kernel: kbits[] are the R/W bits /dev/l4
 * would hold for each frame (set by uses, reported and cleared by an
 * unmap: the sample callback and the evicting revoke).
 */
struct replay {
	uint8_t *kbits;
	size_t *page_of;	/* slot -> page id */
	size_t *slot_of;	/* page id -> slot or SIZE_MAX */
	uint8_t *on_swap;	/* page id has a copy in swap */
	int sampled;
};

static int replay_sample(void *arg, uint32_t slot, uint64_t page)
{
	struct replay *r = arg;
	int a = r->kbits[slot];

	(void)page;
	r->kbits[slot] = 0;
	return a;
}

static int replay_evict(struct l4u_policy *pol, struct replay *r, uint32_t slot)
{
	uint32_t access = r->sampled ? r->kbits[slot] : 0;
	size_t pg = r->page_of[slot];
	int dirty, ret;

	r->kbits[slot] = 0;
	ret = l4u_policy_evict(pol, slot, access, &dirty);
	if (ret)
		return ret;
	if (dirty)
		r->on_swap[pg] = 1;
	r->slot_of[pg] = SIZE_MAX;
	return 0;
}

int trace_replay(const struct l4u_policy_params *params,
		 const uint64_t *trace, size_t n, uint32_t flags,
		 struct l4u_policy_stats *st)
{
	struct l4u_policy_params p;
	struct l4u_policy *pol = NULL;
	struct replay r = { 0 };
	size_t *ids, distinct;
	uint64_t hits = 0;
	int ret;

	if (!params || (!trace && n) || !st ||
	    (flags & ~(TRACE_REPLAY_SAMPLED | TRACE_REPLAY_TRIM)))
		return -EINVAL;
	if (n >= SIZE_MAX / 2 / sizeof(struct pos))
		return -ENOMEM;
	p = *params;
	r.sampled = !!(flags & TRACE_REPLAY_SAMPLED);
	if (r.sampled && p.kind == L4U_POLICY_LRU)
		return -EINVAL;
	p.sample = r.sampled ? replay_sample : NULL;
	p.sample_arg = &r;
	ret = l4u_policy_create(&p, &pol);
	if (ret)
		return ret;
	ret = -ENOMEM;
	ids = malloc((n + 1) * sizeof(*ids));
	r.slot_of = malloc((n + 1) * sizeof(*r.slot_of));
	r.on_swap = calloc(n + 1, 1);
	r.kbits = calloc(p.frames, 1);
	r.page_of = calloc(p.frames, sizeof(*r.page_of));
	if (!ids || !r.slot_of || !r.on_swap || !r.kbits || !r.page_of)
		goto out;
	ret = trace_ids(trace, n, ids, NULL, &distinct);
	if (ret)
		goto out;
	for (size_t d = 0; d < distinct; d++)
		r.slot_of[d] = SIZE_MAX;

	for (size_t i = 0; i < n; i++) {
		size_t id = ids[i];
		int write = !!(trace[i] & TRACE_WRITE);
		uint32_t slot;

		if ((flags & TRACE_REPLAY_TRIM) && p.kind == L4U_POLICY_WS) {
			while (!(ret = l4u_policy_expired(pol, &slot, NULL))) {
				ret = replay_evict(pol, &r, slot);
				if (ret)
					goto out;
			}
			if (ret != -ENOENT)
				goto out;
		}
		if (r.slot_of[id] != SIZE_MAX) {
			slot = (uint32_t)r.slot_of[id];
			if (r.sampled) {
				r.kbits[slot] |= ACC_R | (write ? ACC_W : 0);
				hits++;
				ret = l4u_policy_tick(pol, 1);
			} else {
				ret = l4u_policy_hit(pol, slot,
						     write ? L4U_POLICY_WRITE : 0);
			}
			if (ret)
				goto out;
			continue;
		}
		ret = l4u_policy_free_slot(pol, &slot);
		if (ret == -ENOSPC) {
			ret = l4u_policy_victim(pol, &slot, NULL);
			if (!ret)
				ret = replay_evict(pol, &r, slot);
		}
		if (ret)
			goto out;
		ret = l4u_policy_fault(pol, slot, id,
				       (write ? L4U_POLICY_WRITE : 0) |
				       (r.on_swap[id] ? L4U_POLICY_SWAPIN : 0));
		if (ret)
			goto out;
		r.slot_of[id] = slot;
		r.page_of[slot] = id;
		r.kbits[slot] = r.sampled ? (ACC_R | (write ? ACC_W : 0)) : 0;
	}
	ret = l4u_policy_stats(pol, st);
	if (!ret && r.sampled) {
		st->hits = hits;
		st->hit_ratio = n ? (double)hits / (double)n : 0.0;
	}
out:
	l4u_policy_destroy(pol);
	free(ids);
	free(r.slot_of);
	free(r.on_swap);
	free(r.kbits);
	free(r.page_of);
	return ret;
}
