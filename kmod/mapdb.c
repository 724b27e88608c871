// SPDX-License-Identifier: GPL-2.0
/*
 * The mapping database: which page of which space maps which frame, with
 * which rights, derived from which other mapping.
 *
 * Each space keeps an xarray from page number to its l4_node. Each frame
 * keeps a derivation tree of the nodes that map it, rooted in the node of
 * the sigma0-backed space that allocated it (depth 0). The tree is a list
 * in pre-order with a depth per node, as Fiasco keeps its mapping trees: a
 * node's subtree is the run of nodes after it that are deeper, a child is
 * put right after its parent, and a node is 32 bytes (l4u.h).
 *
 * Two sizes, as in Fiasco's mapping database: a node maps 4 KiB, or a whole
 * superpage frame (2 MiB, one multi-index xarray entry, 2 MiB-aligned in its
 * space). A superpage goes as one node only where all of it goes to an
 * aligned place (a flexpage of 2 MiB or more); a smaller flexpage out of it
 * makes 4 KiB nodes below it, one per page (the node's pgoff: which). A
 * grant moves nodes, so a grant of part of a superpage node is refused
 * (EINVAL). A node is revoked or downgraded as a whole, with all of its
 * subtree: an unmap that touches any page of a node takes all of it (the
 * superpage included, as in Fiasco); below the node it was issued on it
 * hits exactly the derived nodes that map a page of the frame the unmap
 * touched (a 2 MiB one maps them all).
 *
 * Locking:
 *   frame lock           the frame's folio lock (l4_frame_assert_locked()):
 *                        the tree, rights, and every change of a slot that
 *                        holds one of its nodes (insert, remove, move).
 *     xa_lock            taken inside (by the xarray calls).
 *     i_mmap_rwsem, PTL  inside, by unmap_mapping_range(), as truncation
 *                        does under the page lock.
 * Only one frame lock is held at a time: where an operation needs another
 * frame's slot emptied it drops its lock, flushes, and starts over.
 * Every node of a subtree maps the same frame, so revoking a subtree takes
 * one lock. A slot that holds a node of a locked frame is stable.
 *
 * Fault-path protocol (no lock held across the lookup):
 *   1. rcu_read_lock, xa_load, take a speculative folio reference (the
 *      frame may be dying), rcu_read_unlock;
 *   2. lock the folio, then recheck that the slot still maps that very page
 *      with the rights asked for;
 *   3. return the page locked; the core installs the PTE before unlocking.
 * A revoker changes slots and rights under the same lock, so no fault is
 * between its check and its PTE meanwhile; it zaps the PTEs after the
 * change (still under the lock, or after it: a fault after the change
 * fails the recheck). Under the lock it also clears the folio's private,
 * where a write fault hands its validation on to ->page_mkwrite (window.c).
 *
 * Lifetime: nodes and frames are freed through RCU (lock-free readers),
 * headless (kvfree_rcu_mightsleep(): no rcu_head in them). A removed node's
 * space is pinned (kref) until its PTEs are zapped; that kref is safe to
 * take under the frame lock while the node is still in the slot, because
 * tearing a space down removes every node under its frame's lock while the
 * space file still holds its reference.
 */
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "compat.h"
#include "observe.h"

/*
 * The page of @node's frame that @index maps, from one read of the node's
 * word: a grant moves a node to another index while lock-free readers look
 * at it (a superpage node's indices are 2 MiB-aligned wherever it is).
 */
static struct page *l4_node_page(const struct l4_node *node, u64 word,
				 unsigned long index)
{
	unsigned long n = word & L4_NODE_SUPER ? index & (L4_SUPER_PAGES - 1) :
			  FIELD_GET(L4_NODE_PGOFF, word);

	return folio_page(l4_frame_folio(node->frame), n);
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
	u64 word;

	rcu_read_lock();
	node = xa_load(&space->entries, index);
	if (node) {
		word = READ_ONCE(node->word);
		page = l4_node_page(node, word, index);
		*rights = FIELD_GET(L4_NODE_RIGHTS, word);
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
	u64 word;

	RCU_LOCKDEP_WARN(!rcu_read_lock_held(), "slot recheck outside RCU");
	node = xa_load(&space->entries, index);
	if (!node)
		return false;
	word = READ_ONCE(node->word);
	if (l4_node_page(node, word, index) != page ||
	    (FIELD_GET(L4_NODE_RIGHTS, word) & rights) != rights)
		return false;
	if (!test_bit(L4_FRAME_REFERENCED, &node->frame->flags))
		set_bit(L4_FRAME_REFERENCED, &node->frame->flags);
	if (order)
		*order = word & L4_NODE_SUPER ? L4_SUPER_ORDER : 0;
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
	u64 word = 0;

	*have = 0;
	rcu_read_lock();
	node = xa_load(&space->entries, index);
	if (node) {
		word = READ_ONCE(node->word);
		*have = FIELD_GET(L4_NODE_RIGHTS, word);
	}
	if (!node || (*have & rights) != rights)
		goto out;
	page = l4_node_page(node, word, index);
	if (!l4_page_tryget(page)) {
		page = NULL;
		goto out;
	}
	if (!trylock_page(page))
		goto drop;
	/* the recheck: a revoker changes the slot under this lock */
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
	return xa_find(&space->entries, &index, index + (1UL << order) - 1,
		       XA_PRESENT);
}

static void l4_node_account(struct l4_space *space, long delta)
{
	atomic_long_add(delta, &space->nodes);
	l4_count_add(nodes, delta);
	l4_obs_changed();
}

/* The frame lock (the folio lock), killable or not. */
static int l4_frame_lock(struct l4_frame *frame, bool killable)
{
	if (killable)
		return folio_lock_killable(l4_frame_folio(frame));
	folio_lock(l4_frame_folio(frame));
	return 0;
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
		if (l4_frame_lock(frame, killable)) {
			l4_frame_put(frame);
			return ERR_PTR(-EINTR);
		}
		node = xa_load(&space->entries, index);
		if (node && node->frame == frame)
			return node;
		folio_unlock(l4_frame_folio(frame));
		l4_frame_put(frame);
	}
}

/* Lock @frame, pinned by the caller, for introspection: 0 or -EINTR. */
int l4_frame_lock_killable(struct l4_frame *frame)
{
	return l4_frame_lock(frame, true);
}

/* Unlock a frame; l4_frame_unlock() also drops the caller's pin. */
void l4_frame_unlock_only(struct l4_frame *frame)
{
	folio_unlock(l4_frame_folio(frame));
}

void l4_frame_unlock(struct l4_frame *frame)
{
	l4_frame_unlock_only(frame);
	l4_frame_put(frame);
}

/* Zap the PTEs and PMDs of @pages pages from @index in all windows of @space. */
static void l4_zap(struct l4_space *space, unsigned long index, unsigned long pages)
{
	unmap_mapping_range(space->inode->i_mapping, (loff_t)index << PAGE_SHIFT,
			    (loff_t)pages << PAGE_SHIFT, 1);
}

/* Void a write fault's handoff to ->page_mkwrite (window.c): rights change. */
static void l4_frame_void_handoff(struct l4_frame *frame)
{
	l4_frame_assert_locked(frame);
	l4_frame_folio(frame)->private = NULL;
}

/* ------------------------------------------------------------------ */
/* The tree: a list in pre-order                                       */
/* ------------------------------------------------------------------ */

/* The last node of @node's subtree (@node itself if it has no children). */
static struct l4_node *l4_subtree_last(struct l4_node *node)
{
	unsigned int depth = l4_node_depth(node);

	while (node->next && l4_node_depth(node->next) > depth)
		node = node->next;
	return node;
}

/* The node before @node in its frame's list; @node is not the root. */
static struct l4_node *l4_tree_prev(struct l4_node *node)
{
	struct l4_node *prev = &node->frame->root;

	while (prev->next != node)
		prev = prev->next;
	return prev;
}

/* The next node of @top's subtree in pre-order after @node, or NULL. */
struct l4_node *l4_tree_next(struct l4_node *top, struct l4_node *node)
{
	l4_frame_assert_locked(top->frame);
	node = node->next;
	return node && l4_node_depth(node) > l4_node_depth(top) ? node : NULL;
}

/*
 * @node's parent: the last node before it one level up (a walk from the
 * root, but for the usual depth 1); NULL for the root.
 */
struct l4_node *l4_node_parent(struct l4_node *node)
{
	struct l4_node *n = &node->frame->root, *parent = NULL;
	unsigned int depth = l4_node_depth(node);

	l4_frame_assert_locked(node->frame);
	if (depth <= 1)
		return depth ? n : NULL;
	for (; n != node; n = n->next)
		if (l4_node_depth(n) == depth - 1)
			parent = n;
	return parent;
}

/*
 * Pages [@first, @last] of a frame: which nodes below a node an unmap
 * hits. A node maps pages [pgoff, pgoff + its size) of its frame; a child
 * that maps none of the range is left with its subtree (all of whose nodes
 * map its page: only a superpage node has 4 KiB nodes of other pages below).
 */
struct l4_frame_range {
	unsigned long first, last;
};

/* All of a frame: what the revocation of a whole node hits. */
static const struct l4_frame_range l4_whole_frame = { 0, ULONG_MAX };

static bool l4_node_hit(const struct l4_node *node, const struct l4_frame_range *r)
{
	unsigned long pgoff = l4_node_pgoff(node);

	return pgoff <= r->last && r->first <= pgoff + l4_node_pages(node) - 1;
}

/*
 * From @node on (inside @top's subtree), the first node an unmap through
 * @top hits: a child of @top that maps a page of @r, or any node below
 * one (the walk skips the subtrees of the others whole). NULL at the end.
 */
static struct l4_node *l4_hit_from(struct l4_node *top, struct l4_node *node,
				   const struct l4_frame_range *r)
{
	unsigned int depth = l4_node_depth(top);

	while (node && l4_node_depth(node) > depth) {
		if (l4_node_depth(node) > depth + 1 || l4_node_hit(node, r))
			return node;
		node = l4_subtree_last(node)->next;
	}
	return NULL;
}

/*
 * Take @node out of its slot. Its space is pinned until l4_reap() has
 * zapped its PTEs. A root leaving its space uncharges the frame there (its
 * frame reference goes in the reap; the caller's pin keeps the frame).
 */
static void l4_node_detach(struct l4_node *node)
{
	struct l4_space *space = node->space;
	bool root = node == &node->frame->root;

	l4_frame_assert_locked(node->frame);
	l4_obs_revoke(node, 0);
	if (root)
		clear_bit(L4_FRAME_LIVE, &node->frame->flags);
	kref_get(&space->ref);
	WARN_ON_ONCE(xa_erase(&space->entries, l4_node_index(node)) != node);
	l4_node_account(space, -1);
	if (root)
		l4_frame_uncharge(node->frame, space);
	atomic_long_inc(&space->revoked);
	l4_count_inc(revoked);
}

/*
 * Detach the run @first .. @last (whole subtrees, already cut out of the
 * list) and put it on the list @dead for l4_reap(). Returns its length.
 */
static unsigned long l4_detach_run(struct l4_node *first, struct l4_node *last,
				   struct l4_node **dead)
{
	struct l4_node *node = first;
	unsigned long count = 1;

	for (; node != last; node = node->next, count++) {
		l4_node_detach(node);
		cond_resched();
	}
	l4_node_detach(last);
	last->next = *dead;
	*dead = first;
	return count;
}

/* Cut @node's subtree out of the list after @prev and detach it onto @dead. */
static unsigned long l4_cut_subtree(struct l4_node *prev, struct l4_node *node,
				    struct l4_node **dead)
{
	struct l4_node *last = l4_subtree_last(node);

	prev->next = last->next;
	return l4_detach_run(node, last, dead);
}

/*
 * Zap and free the detached nodes on @dead of @frame (frame unlocked, still
 * pinned by the caller), and drop their space references.
 */
static void l4_reap(struct l4_frame *frame, struct l4_node *dead)
{
	struct l4_node *node;

	while (dead) {
		node = dead;
		dead = node->next;
		l4_zap(node->space, l4_node_index(node), l4_node_pages(node));
		l4_space_put(node->space);
		if (node == &frame->root) {
			node->next = NULL;	/* its tree is empty now */
			l4_frame_put(frame);	/* the root's reference */
		} else
			kvfree_rcu_mightsleep(node);
		cond_resched();
	}
}

/*
 * Remove what an unmap through @top hits (l4_hit_from()) and, if @self,
 * @top itself -- and so its whole subtree. Returns the number of nodes
 * removed; they go on the list @dead.
 */
static unsigned long l4_revoke_tree(struct l4_node *top, bool self,
				    const struct l4_frame_range *r,
				    struct l4_node **dead)
{
	struct l4_node *prev = top, *node;
	unsigned long count = 0;

	l4_frame_assert_locked(top->frame);
	l4_frame_void_handoff(top->frame);
	if (self && top == &top->frame->root)	/* the list's head: all of it */
		return l4_detach_run(top, l4_subtree_last(top), dead);
	if (self)
		return l4_cut_subtree(l4_tree_prev(top), top, dead);
	while ((node = l4_hit_from(top, prev->next, r))) {
		/* a hit child of @top: everything from prev->next to it stays */
		while (prev->next != node)
			prev = prev->next;
		count += l4_cut_subtree(prev, node, dead);
	}
	return count;
}

/*
 * Remove every node of @space from @frame's tree with its subtree, in one
 * walk of the list: a space's flush costs O(tree) per frame, not per node.
 */
static unsigned long l4_revoke_space(struct l4_frame *frame,
				     struct l4_space *space,
				     struct l4_node **dead)
{
	struct l4_node *prev = &frame->root, *node;
	unsigned long count = 0;

	l4_frame_assert_locked(frame);
	l4_frame_void_handoff(frame);
	if (frame->root.space == space)
		return l4_detach_run(&frame->root, l4_subtree_last(&frame->root),
				     dead);
	while ((node = prev->next)) {
		if (node->space == space)
			count += l4_cut_subtree(prev, node, dead);
		else
			prev = node;
	}
	return count;
}

/*
 * Take @rights from what an unmap through @top hits (and from @top and its
 * whole subtree if @self) without removing anything; zap their PTEs so
 * that the next access faults with the new rights.
 */
static unsigned long l4_downgrade_tree(struct l4_node *top, u8 rights, bool self,
				       const struct l4_frame_range *r)
{
	struct l4_node *node;
	unsigned long count = 0;
	u8 have;

	l4_frame_assert_locked(top->frame);
	if (self)
		r = &l4_whole_frame;
	node = self ? top : l4_hit_from(top, top->next, r);
	for (; node; node = l4_hit_from(top, node->next, r)) {
		have = l4_node_rights(node);
		if (!(have & rights))
			continue;
		l4_node_set_rights(node, have & ~rights);
		l4_obs_revoke(node, have & ~rights);
		atomic_long_inc(&node->space->revoked);
		count++;
	}
	if (!count)
		return 0;
	l4_frame_void_handoff(top->frame);
	/* every node is still in its slot: its space is pinned by our lock */
	node = self ? top : l4_hit_from(top, top->next, r);
	for (; node; node = l4_hit_from(top, node->next, r)) {
		l4_zap(node->space, l4_node_index(node), l4_node_pages(node));
		cond_resched();
	}
	l4_count_add(revoked, count);
	return count;
}

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
	if (folio_test_clear_dirty(l4_frame_folio(frame)))
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
	struct l4_node *node, *dead = NULL;
	struct l4_frame_range r;
	struct l4_frame *frame;
	unsigned long start;
	long count;

	*next = index + 1;
	node = l4_slot_lock(space, index, killable);
	if (IS_ERR_OR_NULL(node))
		return PTR_ERR_OR_ZERO(node);
	frame = node->frame;
	start = l4_node_index(node);
	*next = start + l4_node_pages(node);
	r.first = l4_node_pgoff(node) + (max(first, start) - start);
	r.last = l4_node_pgoff(node) + (min(last, *next - 1) - start);
	if (rights & L4_FPAGE_R)
		count = l4_revoke_tree(node, self, &r, &dead);
	else
		count = l4_downgrade_tree(node, rights, self, &r);
	l4_frame_unlock_only(frame);
	l4_reap(frame, dead);
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
	l4_node_set_index(&frame->root, index);
	/* before the insert: a revocation right after it clears the bit */
	set_bit(L4_FRAME_LIVE, &frame->flags);

	err = l4_xa_insert(&space->entries, index, l4_frame_order(frame),
			   &frame->root);
	if (err) {
		/* under the lock: a tree dump may be reading root.space */
		l4_frame_lock(frame, false);
		clear_bit(L4_FRAME_LIVE, &frame->flags);
		l4_frame_unlock_only(frame);
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
	struct l4_node *node, *dead;
	struct l4_frame *frame;
	unsigned long index;

	xa_for_each(&space->entries, index, node) {
		node = l4_slot_lock(space, index, false);
		if (!node)
			continue;
		frame = node->frame;
		dead = NULL;
		l4_revoke_space(frame, space, &dead);
		l4_frame_unlock_only(frame);
		l4_reap(frame, dead);
		l4_frame_put(frame);
		cond_resched();
	}
}

/*
 * Put @node into the empty slot @index of @space. -EAGAIN: the slot is
 * taken; -ESRCH: the space's file is gone. The space's release sets `dead`
 * and then flushes; here the store comes first and the check after it,
 * with full barriers on both sides: either we see `dead` and take the node
 * out again, or the flush sees the node.
 */
static int l4_slot_insert(struct l4_space *space, unsigned long index,
			  struct l4_node *node)
{
	int err;

	l4_frame_assert_locked(node->frame);
	err = l4_xa_insert(&space->entries, index, l4_node_order(node), node);
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

/* Move @node from its slot to @index of @dst (a grant). */
static int l4_node_move(struct l4_node *node, struct l4_space *dst,
			unsigned long index)
{
	struct l4_space *src = node->space;
	unsigned long old = l4_node_index(node);
	int err;

	l4_frame_assert_locked(node->frame);
	err = l4_slot_insert(dst, index, node);
	if (err)
		return err;
	xa_erase(&src->entries, old);
	l4_node_account(src, -1);
	/* the space holding the root is charged for the frame */
	if (node == &node->frame->root)
		l4_frame_move_charge(node->frame, src, dst);
	l4_frame_void_handoff(node->frame);
	/* the sender's PTEs: no fault maps the old slot while we hold the lock */
	l4_zap(src, old, l4_node_pages(node));
	WRITE_ONCE(node->space, dst);
	l4_node_set_index(node, index);
	return 0;
}

/* One step of a transfer: l4_map_one() maps what one source node offers. */
struct l4_map_step {
	unsigned long sidx, didx;	/* in: where the step starts */
	unsigned long next;		/* out: the source index after it */
	bool whole;			/* in: superpages may go whole */
};

/*
 * Is @dnode what a map of @snode's pages (@order, @pgoff) made before: a
 * child of @snode of that size at that page of the frame?
 */
static bool l4_is_child(struct l4_node *dnode, struct l4_node *snode,
			unsigned int order, unsigned int pgoff)
{
	return l4_node_depth(dnode) == l4_node_depth(snode) + 1 &&
	       l4_node_order(dnode) == order && l4_node_pgoff(dnode) == pgoff &&
	       l4_node_parent(dnode) == snode;
}

static struct l4_node *l4_node_new(void)
{
	return kmalloc(sizeof(struct l4_node), L4_GFP_META);
}

/* A node for a map out of @space: its spare, or a new one. */
static struct l4_node *l4_node_alloc(struct l4_space *space)
{
	return xchg(&space->spare_node, NULL) ?: l4_node_new();
}

/* A node a map made and did not use: @space's spare if it has none. */
static void l4_node_unused(struct l4_space *space, struct l4_node *node)
{
	if (node && cmpxchg(&space->spare_node, NULL, node))
		kfree(node);
}

/*
 * One node made ahead per space, for the next map out of it. A reply to a
 * page fault maps one page while its faulter waits, and the new node's
 * allocation -- with its memory cgroup charge the costliest step of a 4 KiB
 * map -- can be made before: after the answer went out, while the faulter
 * is on its way (l4_space_stock_node()). A map takes it, and a node it made
 * and did not use goes there. The spare stays charged to whoever made it:
 * one node per space, the rule of the gate's spare message.
 */
void l4_space_stock_node(struct l4_space *space)
{
	if (!READ_ONCE(space->spare_node))
		l4_node_unused(space, l4_node_new());
}

/*
 * Put a new child of @snode for its pages (@order, @pgoff) with @rights into
 * the slot @didx of @dst: 1 << @order, or -EAGAIN if the slot (or a slot of
 * the range) is taken, -ENOMEM, -ESRCH (@dst is going away). *@child: a node
 * a failed attempt left, or NULL; what is left there, never visible, the
 * caller hands to l4_node_unused().
 */
static long l4_map_child(struct l4_node *snode, struct l4_space *dst,
			 unsigned long didx, unsigned int order,
			 unsigned int pgoff, u8 rights, struct l4_node **child)
{
	struct l4_node *node = *child;
	long ret;

	if (!node) {
		node = l4_node_alloc(snode->space);
		if (!node)
			return -ENOMEM;
		*child = node;
	}
	node->frame = snode->frame;
	node->space = dst;
	node->word = l4_node_word(didx, pgoff, order, l4_node_depth(snode) + 1,
				  rights);
	ret = l4_slot_insert(dst, didx, node);
	if (ret == -EAGAIN || ret == -ENOMEM)
		return ret;		/* never stored */
	*child = NULL;
	if (ret) {
		/* it was visible to lock-free readers for a moment */
		kvfree_rcu_mightsleep(node);
		return ret;
	}
	/* its parent's first child: pre-order holds */
	node->next = snode->next;
	snode->next = node;
	ret = 1L << order;
	atomic_long_add(ret, &dst->maps);
	l4_count_add(maps, ret);
	return ret;
}

/*
 * Map (or grant) what the node at @step->sidx of @src offers to @dst with
 * at most @rights: all of it to one node if it is a superpage and
 * @step->whole says the transfer takes all of it to an aligned place, else
 * the one page at sidx to a 4 KiB node. Returns the number of pages mapped
 * (0 if the source slot is empty or nothing could be mapped), or -errno.
 *
 * A map tries the usual case first, a new child into an empty slot, which
 * looks at the slot once (the insert's own look); only when the slot is
 * taken does it find out by what.
 */
static long l4_map_one(struct l4_space *src, struct l4_space *dst,
		       struct l4_map_step *step, u8 rights, bool grant)
{
	unsigned long sidx = step->sidx, didx, start;
	struct l4_node *snode, *dnode, *child = NULL;
	unsigned int order, pgoff;
	struct l4_frame *frame;
	bool ours, deep;
	long ret;

again:
	didx = step->didx;
	step->next = sidx + 1;
	snode = l4_slot_lock(src, sidx, true);
	if (IS_ERR_OR_NULL(snode)) {
		ret = PTR_ERR_OR_ZERO(snode);
		goto free;
	}
	frame = snode->frame;
	start = l4_node_index(snode);
	order = l4_node_order(snode);
	pgoff = l4_node_pgoff(snode);
	ret = -EINVAL;
	if (order && step->whole) {
		/* the transfer covers all of it, 2 MiB-aligned in both spaces */
		didx -= sidx - start;
		step->next = start + L4_SUPER_PAGES;
	} else if (order) {
		if (grant)
			goto out;	/* a node moves whole or not at all */
		pgoff = sidx - start;
		order = 0;
	}
	rights &= l4_node_rights(snode);
	ret = 0;
	if (!rights)
		goto out;

	deep = l4_node_depth(snode) >= L4_MAPDB_MAX_DEPTH;
	if (!grant && !deep) {
		ret = l4_map_child(snode, dst, didx, order, pgoff, rights, &child);
		if (ret != -EAGAIN)
			goto out;
	}

	/*
	 * A node of another frame there may be freed under us: RCU for the
	 * look. One of our frame is stable under its lock, which we hold.
	 */
	rcu_read_lock();
	dnode = xa_load(&dst->entries, didx);
	ours = dnode && dnode->frame == frame;
	rcu_read_unlock();
	if (dnode == snode && step->didx == sidx) {
		ret = 1L << order;	/* onto itself: nothing changes */
		goto out;
	}
	if (ours && !grant && l4_is_child(dnode, snode, order, pgoff)) {
		/* an existing child: upgrade within the parent's rights */
		l4_node_set_rights(dnode, l4_node_rights(dnode) | rights);
		l4_obs_changed();
		ret = 1L << order;
		atomic_long_add(ret, &dst->maps);
		l4_count_add(maps, ret);
		goto out;
	}
	if (dnode || (order && l4_range_busy(dst, didx, order))) {
		/* anything else there goes first, with its subtree */
		l4_frame_unlock(frame);
		if (l4_flush_range(dst, didx, order)) {
			ret = -EINTR;
			goto free;
		}
		goto again;
	}

	if (!grant) {
		ret = -EMLINK;
		if (deep)
			goto out;
		/* emptied since the insert found it taken */
		l4_frame_unlock(frame);
		goto again;
	}

	ret = l4_node_move(snode, dst, didx);
	if (ret == -EAGAIN) {
		l4_frame_unlock(frame);
		goto again;
	}
	if (ret)
		goto out;
	if (rights != l4_node_rights(snode)) {
		l4_node_set_rights(snode, rights);
		l4_downgrade_tree(snode, (u8)~rights & L4_FPAGE_RWX, false,
				  &l4_whole_frame);
	}
	ret = 1L << order;
	atomic_long_add(ret, &dst->grants);
	l4_count_add(grants, ret);
out:
	l4_frame_unlock(frame);
free:
	l4_node_unused(src, child);
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
	/*
	 * Only present source pages: holes are skipped by the xarray search.
	 * One page needs no search: l4_map_one() finds an empty slot itself.
	 */
	while (first == last ||
	       xa_find(&t->src->entries, &index, last, XA_PRESENT)) {
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
