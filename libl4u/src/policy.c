// SPDX-License-Identifier: MIT
/*
 * Page-replacement policies for a dataspace manager with a fixed frame
 * budget (include/l4u/policy.h, docs/policies.md), Belady's MIN on a trace,
 * and a trace replay that drives a policy the way a manager would.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/l4.h>
#include "l4u/policy.h"

#define NIL		UINT32_MAX
#define ACC_R		((uint32_t)L4_FPAGE_R)
#define ACC_W		((uint32_t)L4_FPAGE_W)
#define ACC_KNOWN	((uint32_t)L4_FPAGE_RWX)

struct slot {
	uint64_t page;		/* the manager's cookie */
	uint64_t last_use;	/* virtual time of the last known use */
	uint64_t load_seq;	/* order of loading (ties) */
	uint32_t prev, next;	/* the list: oldest first */
	uint32_t age;		/* AGING counter */
	uint8_t used;		/* a page is resident */
	uint8_t ref;		/* referenced since the policy last looked */
	uint8_t dirty;		/* written while resident (sticky until evicted) */
};

struct l4u_policy {
	struct l4u_policy_params p;
	struct slot *s;
	/*
	 * The list holds every resident slot. FIFO, CLOCK, AGING: load order.
	 * LRU, WS: order of last known use (every use sets last_use = now and
	 * moves the slot to the tail), so the head is the least recently used.
	 */
	uint32_t head, tail;
	uint32_t hand;		/* CLOCK */
	uint32_t free_hint;	/* no free slot below it */
	uint64_t next_round;	/* AGING: virtual time of the next round */
	uint64_t load_seq;
	uint64_t resident_sum;	/* sum over virtual time of resident pages */
	int busy;		/* inside the sample callback */
	struct l4u_policy_stats st;
};

const char *l4u_policy_name(uint32_t kind)
{
	static const char *const names[L4U_POLICY_KINDS] = {
		[L4U_POLICY_FIFO]	= "fifo",
		[L4U_POLICY_LRU]	= "lru",
		[L4U_POLICY_AGING]	= "aging",
		[L4U_POLICY_CLOCK]	= "clock",
		[L4U_POLICY_WS]		= "ws",
	};

	return kind < L4U_POLICY_KINDS ? names[kind] : NULL;
}

/* ---- the list ------------------------------------------------------------ */

static void list_unlink(struct l4u_policy *pol, uint32_t i)
{
	struct slot *s = &pol->s[i];

	if (s->prev != NIL)
		pol->s[s->prev].next = s->next;
	else
		pol->head = s->next;
	if (s->next != NIL)
		pol->s[s->next].prev = s->prev;
	else
		pol->tail = s->prev;
	s->prev = s->next = NIL;
}

static void list_append(struct l4u_policy *pol, uint32_t i)
{
	struct slot *s = &pol->s[i];

	s->next = NIL;
	s->prev = pol->tail;
	if (pol->tail != NIL)
		pol->s[pol->tail].next = i;
	else
		pol->head = i;
	pol->tail = i;
}

static int by_recency(const struct l4u_policy *pol)
{
	return pol->p.kind == L4U_POLICY_LRU || pol->p.kind == L4U_POLICY_WS;
}

/* A use of @i known to have happened by now. */
static void touch(struct l4u_policy *pol, uint32_t i)
{
	struct slot *s = &pol->s[i];

	s->ref = 1;
	s->last_use = pol->st.now;
	if (by_recency(pol) && pol->tail != i) {
		list_unlink(pol, i);
		list_append(pol, i);
	}
}

/* Fold in what an unmap reported for @i. */
static void apply(struct l4u_policy *pol, uint32_t i, uint32_t access)
{
	if (access & ACC_W)
		pol->s[i].dirty = 1;
	if (access & ACC_R)
		touch(pol, i);
}

/* Ask the manager (sample callback) about @i and fold the answer in. */
static int sample(struct l4u_policy *pol, uint32_t i, uint32_t *access)
{
	int ret;

	pol->busy = 1;
	ret = pol->p.sample(pol->p.sample_arg, i, pol->s[i].page);
	pol->busy = 0;
	pol->st.samples++;
	if (ret < 0)
		return ret;
	*access = (uint32_t)ret & ACC_KNOWN;
	apply(pol, i, *access);
	return 0;
}

/* ---- aging ------------------------------------------------------------- */

static uint32_t age_mask(const struct l4u_policy *pol)
{
	return pol->p.aging_bits == 32 ? UINT32_MAX : (1U << pol->p.aging_bits) - 1;
}

/*
 * One aging round (sampling every resident page first if there is a
 * callback), then @extra more shifts for rounds that passed with nothing
 * new to learn. On a callback error the remaining pages age without it.
 */
static int aging_round(struct l4u_policy *pol, uint64_t extra)
{
	uint32_t top = 1U << (pol->p.aging_bits - 1);
	int err = 0;

	for (uint32_t i = pol->head; i != NIL; i = pol->s[i].next) {
		struct slot *s = &pol->s[i];
		uint32_t a;

		if (pol->p.sample && !err)
			err = sample(pol, i, &a);
		s->age = ((s->age >> 1) | (s->ref ? top : 0)) & age_mask(pol);
		s->age = extra >= 32 ? 0 : s->age >> extra;
		s->ref = 0;
	}
	pol->st.aging_rounds += 1 + extra;
	return err;
}

/* Virtual time moves on by @ticks; due aging rounds run. */
static int advance(struct l4u_policy *pol, uint64_t ticks)
{
	uint64_t rounds;

	pol->st.now += ticks;
	pol->resident_sum += pol->st.resident * ticks;
	if (pol->p.kind != L4U_POLICY_AGING || pol->st.now < pol->next_round)
		return 0;
	rounds = (pol->st.now - pol->next_round) / pol->p.period + 1;
	pol->next_round += rounds * pol->p.period;
	return aging_round(pol, rounds - 1);
}

/* ---- the interface -------------------------------------------------------- */

int l4u_policy_create(const struct l4u_policy_params *params,
		      struct l4u_policy **polp)
{
	struct l4u_policy_params p;
	struct l4u_policy *pol;

	if (!params || !polp)
		return -EINVAL;
	p = *params;
	if (p.kind < L4U_POLICY_FIFO || p.kind >= L4U_POLICY_KINDS ||
	    !p.frames || p.frames > L4U_POLICY_MAX_FRAMES || p.flags ||
	    p.reserved[0] || p.reserved[1] || p.aging_bits > 32)
		return -EINVAL;
	if ((p.kind == L4U_POLICY_WS) != (p.tau != 0))
		return -EINVAL;
	if (p.kind != L4U_POLICY_AGING && (p.period || p.aging_bits))
		return -EINVAL;
	if (p.kind == L4U_POLICY_AGING) {
		if (!p.aging_bits)
			p.aging_bits = L4U_POLICY_AGING_BITS;
		if (!p.period)
			p.period = p.frames;
	}
	pol = calloc(1, sizeof(*pol));
	if (!pol)
		return -ENOMEM;
	pol->s = calloc(p.frames, sizeof(*pol->s));
	if (!pol->s) {
		free(pol);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < p.frames; i++)
		pol->s[i].prev = pol->s[i].next = NIL;
	pol->p = p;
	pol->head = pol->tail = NIL;
	pol->next_round = p.period;
	*polp = pol;
	return 0;
}

int l4u_policy_destroy(struct l4u_policy *pol)
{
	if (!pol)
		return -EINVAL;
	if (pol->busy)
		return -EDEADLK;
	free(pol->s);
	free(pol);
	return 0;
}

/* Common checks: a handle, not re-entered, a slot in range. */
static int check(const struct l4u_policy *pol, uint32_t slot)
{
	if (!pol)
		return -EINVAL;
	if (pol->busy)
		return -EDEADLK;
	if (slot >= pol->p.frames)
		return -EINVAL;
	return 0;
}

int l4u_policy_fault(struct l4u_policy *pol, uint32_t slot, uint64_t page,
		     uint32_t flags)
{
	struct slot *s;
	int ret = check(pol, slot);

	if (ret)
		return ret;
	if (flags & ~(L4U_POLICY_WRITE | L4U_POLICY_SWAPIN))
		return -EINVAL;
	s = &pol->s[slot];
	if (s->used)
		return -EBUSY;
	*s = (struct slot){
		.page		= page,
		.last_use	= pol->st.now + 1,
		.load_seq	= pol->load_seq++,
		.prev		= NIL,
		.next		= NIL,
		.used		= 1,
		.ref		= 1,	/* the faulting use */
		.dirty		= !!(flags & L4U_POLICY_WRITE),
	};
	list_append(pol, slot);
	pol->st.resident++;
	if (pol->st.resident > pol->st.max_resident)
		pol->st.max_resident = pol->st.resident;
	pol->st.faults++;
	if (flags & L4U_POLICY_SWAPIN)
		pol->st.swap_ins++;
	return advance(pol, 1);
}

int l4u_policy_hit(struct l4u_policy *pol, uint32_t slot, uint32_t flags)
{
	int ret = check(pol, slot);

	if (ret)
		return ret;
	if (flags & ~L4U_POLICY_WRITE)
		return -EINVAL;
	if (!pol->s[slot].used)
		return -ENOENT;
	pol->st.hits++;
	pol->st.now++;
	touch(pol, slot);
	if (flags & L4U_POLICY_WRITE)
		pol->s[slot].dirty = 1;
	pol->st.now--;
	return advance(pol, 1);
}

int l4u_policy_report(struct l4u_policy *pol, uint32_t slot, uint32_t access)
{
	int ret = check(pol, slot);

	if (ret)
		return ret;
	if (access & ~ACC_KNOWN)
		return -EINVAL;
	if (!pol->s[slot].used)
		return -ENOENT;
	apply(pol, slot, access);
	return 0;
}

int l4u_policy_tick(struct l4u_policy *pol, uint64_t ticks)
{
	int ret = check(pol, 0);

	if (ret)
		return ret;
	return advance(pol, ticks);
}

int l4u_policy_free_slot(struct l4u_policy *pol, uint32_t *slot)
{
	int ret = check(pol, 0);

	if (ret)
		return ret;
	if (!slot)
		return -EINVAL;
	if (pol->st.resident == pol->p.frames)
		return -ENOSPC;
	while (pol->s[pol->free_hint].used)
		pol->free_hint++;
	*slot = pol->free_hint;
	return 0;
}

static uint32_t victim_clock(struct l4u_policy *pol, int *err)
{
	uint64_t steps = 2 * (uint64_t)pol->p.frames + 1;
	uint32_t a;

	/* Two turns of the hand clear every R bit; a third finds one clear. */
	for (; steps; steps--) {
		uint32_t i = pol->hand;

		pol->hand = (i + 1) % pol->p.frames;
		if (!pol->s[i].used)
			continue;
		if (pol->p.sample) {
			*err = sample(pol, i, &a);
			if (*err) {
				pol->hand = i;
				return NIL;
			}
		}
		if (!pol->s[i].ref)
			return i;
		pol->s[i].ref = 0;
	}
	/* uses keep coming while we sample: take the one under the hand */
	while (!pol->s[pol->hand].used)
		pol->hand = (pol->hand + 1) % pol->p.frames;
	a = pol->hand;
	pol->hand = (a + 1) % pol->p.frames;
	return a;
}

static uint32_t victim_aging(struct l4u_policy *pol)
{
	uint32_t best = NIL;
	uint64_t best_key = 0;

	/* load order: among equal counters the oldest load goes first */
	for (uint32_t i = pol->head; i != NIL; i = pol->s[i].next) {
		uint64_t key = ((uint64_t)pol->s[i].ref << 32) | pol->s[i].age;

		if (best == NIL || key < best_key) {
			best = i;
			best_key = key;
		}
	}
	return best;
}

/*
 * LRU list with second chance by sampling: the head is the page with the
 * oldest known use; ask about it, and if it was used meanwhile it moves to
 * the tail (used now). At most one turn.
 */
static uint32_t oldest_unreferenced(struct l4u_policy *pol, int *err)
{
	uint32_t a;

	if (pol->p.sample) {
		for (uint64_t n = pol->st.resident; n; n--) {
			*err = sample(pol, pol->head, &a);
			if (*err)
				return NIL;
			if (!(a & ACC_R))
				break;
		}
	}
	return pol->head;
}

int l4u_policy_victim(struct l4u_policy *pol, uint32_t *slot, uint64_t *page)
{
	uint32_t v = NIL;
	int ret = check(pol, 0);

	if (ret)
		return ret;
	if (!slot)
		return -EINVAL;
	if (!pol->st.resident)
		return -ENOENT;
	switch (pol->p.kind) {
	case L4U_POLICY_FIFO:
	case L4U_POLICY_LRU:
		v = pol->head;
		break;
	case L4U_POLICY_CLOCK:
		v = victim_clock(pol, &ret);
		break;
	case L4U_POLICY_AGING:
		v = victim_aging(pol);
		break;
	case L4U_POLICY_WS:
		v = oldest_unreferenced(pol, &ret);
		if (v != NIL && pol->st.now - pol->s[v].last_use < pol->p.tau)
			pol->st.ws_overflows++;	/* the working set exceeds the pool */
		break;
	}
	if (ret)
		return ret;
	*slot = v;
	if (page)
		*page = pol->s[v].page;
	return 0;
}

int l4u_policy_expired(struct l4u_policy *pol, uint32_t *slot, uint64_t *page)
{
	uint32_t a;
	int ret = check(pol, 0);

	if (ret)
		return ret;
	if (!slot)
		return -EINVAL;
	if (pol->p.kind != L4U_POLICY_WS)
		return -ENOENT;
	/* each referenced head moves to the tail, used now: not expired */
	while (pol->head != NIL &&
	       pol->st.now - pol->s[pol->head].last_use >= pol->p.tau) {
		uint32_t h = pol->head;

		if (pol->p.sample) {
			ret = sample(pol, h, &a);
			if (ret)
				return ret;
			if (a & ACC_R)
				continue;
		}
		*slot = h;
		if (page)
			*page = pol->s[h].page;
		return 0;
	}
	return -ENOENT;
}

int l4u_policy_evict(struct l4u_policy *pol, uint32_t slot, uint32_t access,
		     int *dirty)
{
	struct slot *s;
	int ret = check(pol, slot);

	if (ret)
		return ret;
	if (access & ~ACC_KNOWN)
		return -EINVAL;
	s = &pol->s[slot];
	if (!s->used)
		return -ENOENT;
	if (access & ACC_W)
		s->dirty = 1;
	if (dirty)
		*dirty = s->dirty;
	if (s->dirty)
		pol->st.swap_outs++;
	pol->st.evictions++;
	list_unlink(pol, slot);
	s->used = 0;
	pol->st.resident--;
	if (slot < pol->free_hint)
		pol->free_hint = slot;
	return 0;
}

int l4u_policy_stats(const struct l4u_policy *pol, struct l4u_policy_stats *st)
{
	uint64_t uses;

	if (!pol || !st)
		return -EINVAL;
	*st = pol->st;
	uses = st->hits + st->faults;
	st->hit_ratio = uses ? (double)st->hits / (double)uses : 0.0;
	st->mean_resident = st->now ? (double)pol->resident_sum / (double)st->now : 0.0;
	return 0;
}

/* ---- traces ---------------------------------------------------------------- */

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
		p[i] = (struct pos){ L4U_TRACE_PAGE(trace[i]), i };
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
int l4u_policy_min(const uint64_t *trace, size_t n, uint32_t frames,
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

int l4u_policy_replay(const struct l4u_policy_params *params,
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
	    (flags & ~(L4U_REPLAY_SAMPLED | L4U_REPLAY_TRIM)))
		return -EINVAL;
	if (n >= SIZE_MAX / 2 / sizeof(struct pos))
		return -ENOMEM;
	p = *params;
	r.sampled = !!(flags & L4U_REPLAY_SAMPLED);
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
		int write = !!(trace[i] & L4U_TRACE_WRITE);
		uint32_t slot;

		if ((flags & L4U_REPLAY_TRIM) && p.kind == L4U_POLICY_WS) {
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
