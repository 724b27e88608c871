// SPDX-License-Identifier: GPL-2.0
/*
 * The mapping database: which page of which space maps which frame, with
 * which rights, derived from which other mapping.
 *
 * Each space keeps an xarray from page number to its l4_node. Each frame
 * keeps a derivation tree of the nodes that map it, rooted in the node of
 * the sigma0-backed space that allocated it (depth 0). This file holds the
 * lookups the fault path needs and sigma0's root insertion; map, grant and
 * recursive unmap build on the same nodes.
 *
 * Fault-path protocol (no lock held across the lookup):
 *   1. rcu_read_lock, xa_load, take a speculative page reference
 *      (get_page_unless_zero: the frame may be dying), rcu_read_unlock;
 *   2. lock_page, then recheck with l4_space_maps_page() that the slot
 *      still maps that very page with the rights asked for;
 *   3. return the page locked; the core installs the PTE before unlocking.
 * A revoker removes the slot first, then locks and unlocks each page, then
 * zaps the PTEs: a fault that passed step 2 before the removal holds the
 * page lock until its PTE exists, so the zap finds it; a fault after the
 * removal fails the recheck and retries.
 */
#include <linux/mm.h>
#include <linux/slab.h>

#include "l4u.h"

/*
 * The page that @index of @space maps, with a reference, and the node's
 * rights in @rights; NULL if the slot is empty or its frame is dying.
 */
struct page *l4_space_get_page(struct l4_space *space, unsigned long index,
			       u8 *rights)
{
	struct l4_node *node;
	struct page *page = NULL;

	rcu_read_lock();
	node = xa_load(&space->entries, index);
	if (node) {
		page = node->frame->page;
		*rights = READ_ONCE(node->rights);
		if (!get_page_unless_zero(page))
			page = NULL;
	}
	rcu_read_unlock();
	return page;
}

/* Does @index of @space (still) map @page with at least @rights? */
bool l4_space_maps_page(struct l4_space *space, unsigned long index,
			struct page *page, u8 rights)
{
	struct l4_node *node;
	bool ret;

	rcu_read_lock();
	node = xa_load(&space->entries, index);
	ret = node && node->frame->page == page &&
	      (READ_ONCE(node->rights) & rights) == rights;
	rcu_read_unlock();
	return ret;
}

static void l4_node_account(struct l4_space *space, long delta)
{
	atomic_long_add(delta, &space->nodes);
	atomic_long_add(delta, &l4_counters.nodes);
}

/*
 * Sigma0: put a fresh zeroed frame at @index of @space. -EEXIST if the slot
 * got filled meanwhile (the caller looks again), -ENOSPC past a frame
 * limit, -ENOMEM if the page allocator or the memory cgroup refuses.
 */
int l4_sigma0_populate(struct l4_space *space, unsigned long index)
{
	struct l4_frame *frame;
	void *old;

	frame = l4_frame_alloc(space);
	if (IS_ERR(frame))
		return PTR_ERR(frame);
	frame->root.space = space;
	frame->root.index = index;

	old = xa_cmpxchg(&space->entries, index, NULL, &frame->root, L4_GFP_META);
	if (old) {
		l4_frame_free(frame);
		return xa_is_err(old) ? xa_err(old) : -EEXIST;
	}
	l4_node_account(space, 1);
	return 0;
}

/* Drop a node that has left its space's xarray. */
static void l4_node_release(struct l4_node *node)
{
	l4_node_account(node->space, -1);
	if (!node->parent) {
		l4_frame_free(node->frame);
		return;
	}
	/* derived nodes arrive with map/grant */
	WARN_ON_ONCE(1);
}

/*
 * Empty a space that no window maps any more (its last file reference is
 * gone, so no fault can run on it and there are no PTEs to zap).
 */
void l4_space_flush_all(struct l4_space *space)
{
	struct l4_node *node;
	unsigned long index;

	xa_for_each(&space->entries, index, node) {
		xa_erase(&space->entries, index);
		l4_node_release(node);
		cond_resched();
	}
}
