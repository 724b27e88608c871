// SPDX-License-Identifier: MIT
/*
 * Page-replacement policies for a dataspace manager with a fixed frame
 * budget (include/l4u/policy.h, docs/policies.md). Belady's MIN and the
 * trace replay, which only benchmarks and tests need, are
 * bench/helpers/trace.c.
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
