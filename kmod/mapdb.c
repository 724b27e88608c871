// SPDX-License-Identifier: GPL-2.0
/*
 * The mapping database: which page of which space maps which frame, with
 * which rights, derived from which other mapping.
 *
 * Each space keeps an xarray from page number to its l4_node. Each frame
 * keeps a derivation tree of the nodes that map it, rooted in the node of
 * the sigma0-backed space that allocated it (depth 0).
 *
 * Two sizes, as in Fiasco's mapping database: a node maps 4 KiB, or a whole
 * superpage frame (2 MiB, one multi-index xarray entry, 2 MiB-aligned in its
 * space). A superpage goes as one node only where all of it goes to an
 * aligned place (a flexpage of 2 MiB or more); a smaller flexpage out of it
 * makes 4 KiB nodes below it, one per page (node->pgoff: which). A grant
 * moves nodes, so a grant of part of a superpage node is refused (EINVAL).
 * A node is revoked or downgraded as a whole: an unmap that touches any
 * page of it takes all of it (the superpage included, as in Fiasco), and
 * below it exactly the derived nodes that map a page of the frame the unmap
 * touched (a 2 MiB one maps them all).
 *
 * Locking:
 *   frame->lock (mutex)  the tree of that frame: parent/children links,
 *                        rights, and every change of a slot that holds one
 *                        of its nodes (insert, remove, move).
 *     xa_lock            taken inside (by the xarray calls).
 *     page lock          taken inside, to order revocation with faults.
 *     i_mmap_rwsem, PTL  inside, by unmap_mapping_range().
 * Only one frame lock is held at a time: where an operation needs another
 * frame's slot emptied it drops its lock, flushes, and starts over.
 * Every node of a subtree maps the same frame, so revoking a subtree takes
 * one lock. A slot that holds a node of a locked frame is stable.
 *
 * Fault-path protocol (no lock held across the lookup):
 *   1. rcu_read_lock, xa_load, take a speculative page reference
 *      (get_page_unless_zero: the frame may be dying), rcu_read_unlock;
 *   2. lock_page, then recheck with l4_space_access_page() that the slot
 *      still maps that very page with the rights asked for;
 *   3. return the page locked; the core installs the PTE before unlocking.
 * A revoker changes the slot or the rights first, then locks and unlocks the
 * page, then zaps the PTEs: a fault that passed step 2 before the change
 * holds the page lock until its PTE exists, so the zap finds it; a fault
 * after the change fails the recheck and looks again. Under that lock the
 * revoker also clears the folio's private, where a write fault hands its
 * validation on to ->page_mkwrite (window.c).
 *
 * Lifetime: nodes and frames are freed through RCU (lock-free readers). A
 * removed node's space is pinned (kref) until its PTEs are zapped; that
 * kref is safe to take under the frame lock while the node is still in the
 * slot, because tearing a space down removes every node under its frame's
 * lock while the space file still holds its reference.
 */
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "compat.h"
#include "observe.h"

static struct kmem_cache *l4_node_cache;

/*
 * The page of @node's frame that @index maps. Not from node->index: a
 * grant moves a node to another index while lock-free readers look at it
 * (a superpage node's indices are 2 MiB-aligned wherever it is).
 */
static struct page *l4_node_page(const struct l4_node *node, unsigned long index)
{
	unsigned long n = node->order ? index & (L4_SUPER_PAGES - 1) : node->pgoff;

	return folio_page(page_folio(node->frame->page), n);
}

/*
 * A reference on @page's folio unless it is being freed. The frame may be
 * gone and its memory reused meanwhile: the folio must still be the one
 * that holds @page once the reference is taken (the page cache's rule).
 */
static bool l4_page_tryget(struct page *page)
{
	struct folio *folio = page_folio(page);

	if (!folio_try_get(folio))
		return false;
	if (likely(page_folio(page) == folio))
		return true;
	folio_put(folio);
	return false;
}

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
		page = l4_node_page(node, index);
		*rights = READ_ONCE(node->rights);
		if (!l4_page_tryget(page))
			page = NULL;
	}
	rcu_read_unlock();
	return page;
}

/*
 * Does @index of @space map @page with at least @rights? If so the access
 * goes ahead, which is what unmap reports as
 * "referenced": every access after a revocation faults here again (its
 * PTEs were zapped). The PTE young bit would not do: the zap turns it into
 * page-flag changes of the LRU code, which a non-LRU page does not keep.
 * *@order (if not NULL): the node's size, for the fault to map as much.
 */
static bool l4_slot_maps(struct l4_space *space, unsigned long index,
			 struct page *page, u8 rights, u8 *order)
{
	struct l4_node *node;

	RCU_LOCKDEP_WARN(!rcu_read_lock_held(), "slot recheck outside RCU");
	node = xa_load(&space->entries, index);
	if (!node || l4_node_page(node, index) != page ||
	    (READ_ONCE(node->rights) & rights) != rights)
		return false;
	if (!test_bit(L4_FRAME_REFERENCED, &node->frame->flags))
		set_bit(L4_FRAME_REFERENCED, &node->frame->flags);
	if (order)
		*order = node->order;
	return true;
}

/* The fault path's recheck (page locked): l4_slot_maps() on its own. */
bool l4_space_access_page(struct l4_space *space, unsigned long index,
			  struct page *page, u8 rights, u8 *order)
{
	bool ret;

	rcu_read_lock();
	ret = l4_slot_maps(space, index, page, rights, order);
	rcu_read_unlock();
	return ret;
}

/*
 * The fault path's fast case, in one RCU read section: the page at @index
 * with at least @rights, referenced and locked (a trylock: no sleeping
 * under RCU), the slot rechecked after the lock (l4_slot_maps()). NULL if
 * anything is not so (empty slot, fewer rights, a dying frame, a contended
 * lock): the caller takes the slow path. *@have: the rights the slot held
 * at the first look, 0 if it was empty; *@order: the node's size.
 */
struct page *l4_space_trylock_page(struct l4_space *space, unsigned long index,
				   u8 rights, u8 *have, u8 *order)
{
	struct l4_node *node;
	struct page *page = NULL;

	*have = 0;
	rcu_read_lock();
	node = xa_load(&space->entries, index);
	if (node)
		*have = READ_ONCE(node->rights);
	if (!node || (*have & rights) != rights)
		goto out;
	page = l4_node_page(node, index);
	if (!l4_page_tryget(page)) {
		page = NULL;
		goto out;
	}
	if (!trylock_page(page))
		goto drop;
	/* the recheck: a revoker changes the slot before it locks the page */
	if (l4_slot_maps(space, index, page, rights, order))
		goto out;
	unlock_page(page);
drop:
	put_page(page);
	page = NULL;
out:
	rcu_read_unlock();
	return page;
}

/*
 * Store @entry for the 2^@order indices from @index if they are all empty:
 * 0, -EEXIST if one is not, -ENOMEM.
 */
static int l4_xa_insert(struct xarray *xa, unsigned long index,
			unsigned int order, void *entry)
{
	XA_STATE_ORDER(xas, xa, index, order);

	do {
		xas_lock(&xas);
		if (xas_find_conflict(&xas))
			xas_set_err(&xas, -EEXIST);
		else
			xas_store(&xas, entry);
		xas_unlock(&xas);
	} while (xas_nomem(&xas, L4_GFP_META));
	return xas_error(&xas);
}

/* Is any of the 2^@order indices from @index of @space taken? */
static bool l4_range_busy(struct l4_space *space, unsigned long index,
			  unsigned int order)
{
	void *entry;

	rcu_read_lock();
	entry = xa_find(&space->entries, &index, index + (1UL << order) - 1,
			XA_PRESENT);
	rcu_read_unlock();
	return entry;
}

static void l4_node_account(struct l4_space *space, long delta)
{
	atomic_long_add(delta, &space->nodes);
	l4_count_add(nodes, delta);
	l4_obs_changed();
}

/*
 * Pin and lock the frame of the node at @index of @space. Returns the node
 * (its frame locked and pinned), NULL if the slot is empty, or, if
 * @killable, ERR_PTR(-EINTR) when a fatal signal cuts the wait short.
 * Teardown is not killable: a process that exits with a fatal signal
 * pending still flushes its spaces.
 */
struct l4_node *l4_slot_lock(struct l4_space *space, unsigned long index,
			     bool killable)
{
	struct l4_frame *frame;
	struct l4_node *node;

	for (;;) {
		rcu_read_lock();
		node = xa_load(&space->entries, index);
		frame = node ? node->frame : NULL;
		if (frame && !refcount_inc_not_zero(&frame->users))
			frame = ERR_PTR(-EAGAIN);	/* dying: look again */
		rcu_read_unlock();
		if (!frame)
			return NULL;
		if (IS_ERR(frame)) {
			cond_resched();
			continue;
		}
		if (!killable)
			mutex_lock(&frame->lock);
		else if (mutex_lock_killable(&frame->lock)) {
			l4_frame_put(frame);
			return ERR_PTR(-EINTR);
		}
		node = xa_load(&space->entries, index);
		if (node && node->frame == frame)
			return node;
		mutex_unlock(&frame->lock);
		l4_frame_put(frame);
	}
}

void l4_frame_unlock(struct l4_frame *frame)
{
	mutex_unlock(&frame->lock);
	l4_frame_put(frame);
}

/* Zap the PTEs and PMDs of @pages pages from @index in all windows of @space. */
static void l4_zap(struct l4_space *space, unsigned long index, unsigned long pages)
{
	unmap_mapping_range(space->inode->i_mapping, (loff_t)index << PAGE_SHIFT,
			    (loff_t)pages << PAGE_SHIFT, 1);
}

/*
 * Wait for faults that validated the old state to finish installing PTEs,
 * and void a write fault's handoff to ->page_mkwrite (window.c).
 */
static void l4_fault_barrier(struct l4_frame *frame)
{
	lock_page(frame->page);
	set_page_private(frame->page, 0);
	unlock_page(frame->page);
}

/*
 * Take @node out of its slot. Its space is pinned and the
 * node queued on @dead for l4_reap() after the frame is unlocked. A root
 * leaving its space uncharges the frame there and drops the root's frame
 * reference (the caller's pin keeps the frame until the reap).
 */
static void l4_node_detach(struct l4_node *node, struct list_head *dead)
{
	struct l4_space *space = node->space;

	lockdep_assert_held(&node->frame->lock);
	l4_obs_revoke(node, 0);
	if (!node->parent)
		clear_bit(L4_FRAME_LIVE, &node->frame->flags);
	kref_get(&space->ref);
	WARN_ON_ONCE(xa_erase(&space->entries, node->index) != node);
	l4_node_account(space, -1);
	list_del(&node->sibling);
	list_add_tail(&node->sibling, dead);
	if (!node->parent)
		l4_frame_uncharge(node->frame, space);
	atomic_long_inc(&space->revoked);
	l4_count_inc(revoked);
}

static void l4_node_free_rcu(struct rcu_head *head)
{
	kmem_cache_free(l4_node_cache, container_of(head, struct l4_node, rcu));
}

/*
 * Zap and free detached nodes of @frame (frame unlocked, still pinned by
 * the caller), and drop their space references.
 */
static void l4_reap(struct l4_frame *frame, struct list_head *dead)
{
	struct l4_node *node, *next;

	lockdep_assert_not_held(&frame->lock);
	if (list_empty(dead))
		return;
	l4_fault_barrier(frame);
	list_for_each_entry_safe(node, next, dead, sibling) {
		l4_zap(node->space, node->index, l4_node_pages(node));
		l4_space_put(node->space);
		if (node->parent)
			call_rcu(&node->rcu, l4_node_free_rcu);
		else
			l4_frame_put(frame);	/* the root's reference */
		cond_resched();
	}
}

/* Remove @top and its descendants, iteratively (post-order, O(nodes)). */
static unsigned long l4_revoke_subtree(struct l4_node *top,
				       struct list_head *dead)
{
	struct l4_node *node = top, *parent;
	unsigned long count = 0;

	lockdep_assert_held(&top->frame->lock);
	for (;;) {
		if (!list_empty(&node->children)) {
			node = list_first_entry(&node->children, struct l4_node, sibling);
			continue;
		}
		parent = node->parent;
		l4_node_detach(node, dead);
		count++;
		if (node == top)
			return count;
		node = parent;
		cond_resched();
	}
}

/*
 * Pages [@first, @last] of a frame: which nodes below @top an unmap hits.
 * A node maps pages [pgoff, pgoff + its size) of its frame; a child of @top
 * that maps none of the range is left with its subtree (all of whose nodes
 * map its page: only a superpage node has 4 KiB nodes of other pages below).
 */
struct l4_frame_range {
	unsigned long first, last;
};

static bool l4_node_hit(const struct l4_node *node, const struct l4_frame_range *r)
{
	return node->pgoff <= r->last &&
	       r->first <= node->pgoff + l4_node_pages(node) - 1;
}

/*
 * Remove @top's descendants that map a page of @r, with their subtrees,
 * and @top itself if @self.
 */
static unsigned long l4_revoke_tree(struct l4_node *top, bool self,
				    const struct l4_frame_range *r,
				    struct list_head *dead)
{
	struct l4_node *child, *next;
	unsigned long count = 0;

	lockdep_assert_held(&top->frame->lock);
	list_for_each_entry_safe(child, next, &top->children, sibling)
		if (l4_node_hit(child, r))
			count += l4_revoke_subtree(child, dead);
	if (self) {
		l4_node_detach(top, dead);
		count++;
	}
	return count;
}

/* The next node of @top's subtree in pre-order after @node's subtree, or NULL. */
static struct l4_node *l4_tree_skip(struct l4_node *top, struct l4_node *node)
{
	while (node != top) {
		if (!list_is_last(&node->sibling, &node->parent->children))
			return list_next_entry(node, sibling);
		node = node->parent;
	}
	return NULL;
}

/* The next node of @top's subtree in pre-order after @node, or NULL. */
struct l4_node *l4_tree_next(struct l4_node *top, struct l4_node *node)
{
	lockdep_assert_held(&top->frame->lock);
	if (!list_empty(&node->children))
		return list_first_entry(&node->children, struct l4_node, sibling);
	return l4_tree_skip(top, node);
}

/* l4_tree_next(), leaving out the subtrees of @top's children @r misses. */
static struct l4_node *l4_hit_next(struct l4_node *top, struct l4_node *node,
				   const struct l4_frame_range *r)
{
	node = l4_tree_next(top, node);
	while (node && node->parent == top && !l4_node_hit(node, r))
		node = l4_tree_skip(top, node);
	return node;
}

/*
 * Take @rights from @top's descendants that map a page of @r (and from @top
 * if @self) without removing them; zap their PTEs so that the next access
 * faults with the new rights.
 */
static unsigned long l4_downgrade_tree(struct l4_node *top, u8 rights, bool self,
				       const struct l4_frame_range *r)
{
	struct l4_node *node = self ? top : l4_hit_next(top, top, r);
	unsigned long count = 0;

	lockdep_assert_held(&top->frame->lock);
	for (; node; node = l4_hit_next(top, node, r)) {
		if (node->rights & rights) {
			WRITE_ONCE(node->rights, node->rights & ~rights);
			l4_obs_revoke(node, node->rights);
			atomic_long_inc(&node->space->revoked);
			count++;
		}
	}
	if (!count)
		return 0;
	l4_fault_barrier(top->frame);
	/* every node is still in its slot: its space is pinned by our lock */
	node = self ? top : l4_hit_next(top, top, r);
	for (; node; node = l4_hit_next(top, node, r)) {
		l4_zap(node->space, node->index, l4_node_pages(node));
		cond_resched();
	}
	l4_count_add(revoked, count);
	return count;
}

/* All of a frame: what an unmap of a whole node hits. */
static const struct l4_frame_range l4_whole_frame = { 0, ULONG_MAX };

/*
 * Collect and clear what the kernel knows of accesses to a flushed frame:
 * referenced by our fault path, dirty by the core (a write fault on a
 * shared window, or a dirty PTE at zap time, dirties the page).
 */
static u64 l4_frame_access(struct l4_frame *frame)
{
	u64 access = 0;

	if (test_and_clear_bit(L4_FRAME_REFERENCED, &frame->flags))
		access |= L4_FPAGE_R;
	if (folio_test_clear_dirty(page_folio(frame->page)))
		access |= L4_FPAGE_W;
	return access;
}

/*
 * Revoke @rights from the node at @index of @space and from what derives
 * from pages [@first, @last] of the space through it (see struct l4_unmap
 * and the top of this file). Returns the number of nodes hit, or -EINTR
 * (only if @killable); ORs access bits into *@access; *@next: the first
 * index after the node.
 */
static long l4_unmap_one(struct l4_space *space, unsigned long index,
			 unsigned long first, unsigned long last, u8 rights,
			 bool self, u64 *access, bool killable,
			 unsigned long *next)
{
	struct l4_frame_range r;
	struct l4_node *node;
	struct l4_frame *frame;
	long count;
	LIST_HEAD(dead);

	*next = index + 1;
	node = l4_slot_lock(space, index, killable);
	if (IS_ERR_OR_NULL(node))
		return PTR_ERR_OR_ZERO(node);
	frame = node->frame;
	*next = node->index + l4_node_pages(node);
	r.first = node->pgoff + (max(first, node->index) - node->index);
	r.last = node->pgoff + (min(last, *next - 1) - node->index);
	if (rights & L4_FPAGE_R)
		count = l4_revoke_tree(node, self, &r, &dead);
	else
		count = l4_downgrade_tree(node, rights, self, &r);
	mutex_unlock(&frame->lock);
	l4_reap(frame, &dead);
	if (count && access)
		*access |= l4_frame_access(frame);
	l4_frame_put(frame);
	return count;
}

/*
 * Remove every node in the 2^@order pages from @index of @space, whole,
 * with all that derives from them. 0 or -EINTR.
 */
static int l4_flush_range(struct l4_space *space, unsigned long index,
			  unsigned int order)
{
	unsigned long last = index + (1UL << order) - 1, next;

	while (xa_find(&space->entries, &index, last, XA_PRESENT)) {
		if (l4_unmap_one(space, index, 0, ULONG_MAX, L4_FPAGE_RWX, true,
				 NULL, true, &next) < 0 ||
		    fatal_signal_pending(current))
			return -EINTR;
		if (next > last)
			break;
		index = next;
	}
	return 0;
}

/*
 * Sigma0: put a fresh zeroed frame at @index of @space: a superpage for
 * the aligned 2 MiB around it if the space has them and that block is
 * empty and inside the space, else (or if none is to be had) 4 KiB.
 * -EEXIST if the slot got filled meanwhile (the caller looks again),
 * -ENOSPC past a frame limit, -ENOMEM if the page allocator or the memory
 * cgroup refuses.
 */
int l4_sigma0_populate(struct l4_space *space, unsigned long index)
{
	unsigned long block = ALIGN_DOWN(index, L4_SUPER_PAGES);
	struct l4_frame *frame = ERR_PTR(-ENOMEM);
	int err;

	if ((space->flags & L4_SPACE_SUPERPAGES) &&
	    block + L4_SUPER_PAGES <= space->pages &&
	    !l4_range_busy(space, block, L4_SUPER_ORDER)) {
		frame = l4_frame_alloc(space, L4_SUPER_ORDER);
		if (!IS_ERR(frame))
			index = block;
	}
	if (IS_ERR(frame))
		frame = l4_frame_alloc(space, 0);
	if (IS_ERR(frame))
		return PTR_ERR(frame);
	frame->root.index = index;
	/* before the insert: a revocation right after it clears the bit */
	set_bit(L4_FRAME_LIVE, &frame->flags);

	err = l4_xa_insert(&space->entries, index, frame->order, &frame->root);
	if (err) {
		/* under the lock: a tree dump may be reading root.space */
		mutex_lock(&frame->lock);
		clear_bit(L4_FRAME_LIVE, &frame->flags);
		mutex_unlock(&frame->lock);
		l4_frame_uncharge(frame, space);
		l4_frame_put(frame);
		return err;
	}
	l4_node_account(space, 1);
	return 0;
}

/*
 * Empty a space whose file is going away (no window maps it any more, so
 * there is nothing to zap in it), revoking everything derived from it.
 */
void l4_space_flush_all(struct l4_space *space)
{
	unsigned long index, next;
	struct l4_node *node;

	xa_for_each(&space->entries, index, node) {
		l4_unmap_one(space, index, 0, ULONG_MAX, L4_FPAGE_RWX, true, NULL,
			     false, &next);
		cond_resched();
	}
}

/*
 * Put @node into the empty slot @index of @space. -EAGAIN: the slot is taken; -ESRCH: the space's file is gone. The space's
 * release sets `dead` and then flushes; here the store comes first and the
 * check after it, with full barriers on both sides: either we see `dead`
 * and take the node out again, or the flush sees the node.
 */
static int l4_slot_insert(struct l4_space *space, unsigned long index,
			  struct l4_node *node)
{
	int err;

	lockdep_assert_held(&node->frame->lock);
	err = l4_xa_insert(&space->entries, index, node->order, node);
	if (err)
		return err == -EEXIST ? -EAGAIN : err;
	smp_mb();	/* pairs with l4_space_release(): store entry, then read dead */
	if (READ_ONCE(space->dead)) {
		xa_erase(&space->entries, index);
		return -ESRCH;
	}
	l4_node_account(space, 1);
	return 0;
}

/* Move @node from its slot to @index of @dst. */
static int l4_node_move(struct l4_node *node, struct l4_space *dst,
			unsigned long index)
{
	struct l4_space *src = node->space;
	int err;

	lockdep_assert_held(&node->frame->lock);
	err = l4_slot_insert(dst, index, node);
	if (err)
		return err;
	xa_erase(&src->entries, node->index);
	l4_node_account(src, -1);
	/* the space holding the root is charged for the frame */
	if (!node->parent)
		l4_frame_move_charge(node->frame, src, dst);
	/* the sender's PTEs: the slot changed before this barrier */
	l4_fault_barrier(node->frame);
	l4_zap(src, node->index, l4_node_pages(node));
	WRITE_ONCE(node->space, dst);
	WRITE_ONCE(node->index, index);
	return 0;
}

/* One step of a transfer: l4_map_one() maps what one source node offers. */
struct l4_map_step {
	unsigned long sidx, didx;	/* in: where the step starts */
	unsigned long next;		/* out: the source index after it */
	bool whole;			/* in: superpages may go whole */
};

/*
 * Map (or grant) what the node at @step->sidx of @src offers to @dst with
 * at most @rights: all of it to one node if it is a superpage and
 * @step->whole says the transfer takes all of it to an aligned place, else
 * the one page at sidx to a 4 KiB node. Returns the number of pages mapped
 * (0 if the source slot is empty or nothing could be mapped), or -errno.
 */
static long l4_map_one(struct l4_space *src, struct l4_space *dst,
		       struct l4_map_step *step, u8 rights, bool grant)
{
	unsigned long sidx = step->sidx, didx;
	struct l4_node *snode, *dnode, *child;
	struct l4_frame *frame;
	unsigned int order;
	bool is_child;
	long ret;
	u16 pgoff;

again:
	didx = step->didx;
	step->next = sidx + 1;
	snode = l4_slot_lock(src, sidx, true);
	if (IS_ERR_OR_NULL(snode))
		return PTR_ERR_OR_ZERO(snode);
	frame = snode->frame;
	order = snode->order;
	pgoff = snode->pgoff;
	ret = -EINVAL;
	if (order && step->whole) {
		/* the transfer covers all of it, 2 MiB-aligned in both spaces */
		didx -= sidx - snode->index;
		step->next = snode->index + L4_SUPER_PAGES;
	} else if (order) {
		if (grant)
			goto out;	/* a node moves whole or not at all */
		pgoff = sidx - snode->index;
		order = 0;
	}
	rights &= snode->rights;
	ret = 0;
	if (!rights)
		goto out;

	/* a node of another frame may be freed under us: RCU for the look */
	rcu_read_lock();
	dnode = xa_load(&dst->entries, didx);
	is_child = dnode && dnode->frame == frame && dnode->parent == snode &&
		   dnode->order == order && dnode->pgoff == pgoff;
	rcu_read_unlock();
	if (dnode == snode && step->didx == sidx) {
		ret = 1L << order;	/* onto itself: nothing changes */
		goto out;
	}
	if (is_child && !grant) {
		/* an existing child: upgrade within the parent's rights */
		WRITE_ONCE(dnode->rights, dnode->rights | rights);
		l4_obs_changed();
		ret = 1L << order;
		atomic_long_add(ret, &dst->maps);
		l4_count_add(maps, ret);
		goto out;
	}
	if (dnode || (order && l4_range_busy(dst, didx, order))) {
		/* anything else there goes first, with its subtree */
		l4_frame_unlock(frame);
		if (l4_flush_range(dst, didx, order))
			return -EINTR;
		goto again;
	}

	if (grant) {
		ret = l4_node_move(snode, dst, didx);
		if (ret == -EAGAIN) {
			l4_frame_unlock(frame);
			goto again;
		}
		if (ret)
			goto out;
		if (rights != snode->rights) {
			WRITE_ONCE(snode->rights, rights);
			l4_downgrade_tree(snode, (u8)~rights & L4_FPAGE_RWX, false,
					  &l4_whole_frame);
		}
		ret = 1L << order;
		atomic_long_add(ret, &dst->grants);
		l4_count_add(grants, ret);
		goto out;
	}

	ret = -EMLINK;
	if (snode->depth >= L4_MAPDB_MAX_DEPTH)
		goto out;
	ret = -ENOMEM;
	child = kmem_cache_zalloc(l4_node_cache, L4_GFP_META);
	if (!child)
		goto out;
	child->frame = frame;
	child->space = dst;
	child->index = didx;
	child->parent = snode;
	child->rights = rights;
	child->depth = snode->depth + 1;
	child->order = order;
	child->pgoff = pgoff;
	INIT_LIST_HEAD(&child->children);
	ret = l4_slot_insert(dst, didx, child);
	if (ret) {
		/* it may have been visible to lock-free readers for a moment */
		call_rcu(&child->rcu, l4_node_free_rcu);
		if (ret == -EAGAIN) {
			l4_frame_unlock(frame);
			goto again;
		}
		goto out;
	}
	list_add_tail(&child->sibling, &snode->children);
	ret = 1L << order;
	atomic_long_add(ret, &dst->maps);
	l4_count_add(maps, ret);
out:
	l4_frame_unlock(frame);
	return ret;
}

/*
 * Carry out a prepared transfer. Returns the number of pages mapped
 * (absent source pages are skipped) or -errno (then *@pages tells how far
 * it got).
 */
long l4_map_apply(const struct l4_transfer *t, u64 *pages)
{
	unsigned long first = t->from >> PAGE_SHIFT, last, index = first;
	struct l4_map_step step = {
		.whole = t->order >= L4_SUPERPAGE_ORDER,
	};
	long ret;

	*pages = 0;
	last = first + (1UL << (t->order - PAGE_SHIFT)) - 1;
	/* only present source pages: holes are skipped by the xarray search */
	while (xa_find(&t->src->entries, &index, last, XA_PRESENT)) {
		step.sidx = index;
		step.didx = (t->to >> PAGE_SHIFT) + (index - first);
		ret = l4_map_one(t->src, t->dst, &step, t->rights, t->grant);
		if (ret < 0)
			return ret;
		*pages += ret;
		if (fatal_signal_pending(current))
			return -EINTR;
		if (step.next > last)
			break;
		index = step.next;
		cond_resched();
	}
	l4_obs_map(t, *pages);
	return *pages;
}

/*
 * Revoke @rights from the entries of @space in the flexpage at @addr of
 * 2^@order bytes (L4_FPAGE_WHOLE_ORDER: all of it), from the space's own
 * entries too if @self (struct l4_unmap). Holes are skipped. The nodes hit
 * go to *@revoked, what the kernel knows of accesses to the flushed frames
 * is ORed into *@access. 0, or -EINTR when a fatal signal cut it short.
 */
long l4_unmap(struct l4_space *space, u64 addr, unsigned int order, u8 rights,
	      bool self, u64 *access, u64 *revoked)
{
	unsigned long first = addr >> PAGE_SHIFT, index = first, last, next;
	long ret = 0;

	last = order == L4_FPAGE_WHOLE_ORDER ? space->pages - 1 :
		first + (1UL << (order - PAGE_SHIFT)) - 1;
	*revoked = 0;
	while (xa_find(&space->entries, &index, last, XA_PRESENT)) {
		long hit = l4_unmap_one(space, index, first, last, rights, self,
					access, true, &next);

		if (hit < 0 || fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		*revoked += hit;
		if (next > last)
			break;
		index = next;
		cond_resched();
	}
	atomic_long_inc(&space->unmaps);
	l4_count_inc(unmaps);
	l4_obs_unmap(space, addr, order, rights, *revoked);
	return ret;
}

int l4_mapdb_init(void)
{
	l4_node_cache = KMEM_CACHE(l4_node, SLAB_ACCOUNT);
	return l4_node_cache ? 0 : -ENOMEM;
}

void l4_mapdb_exit(void)
{
	rcu_barrier();
	kmem_cache_destroy(l4_node_cache);
}
