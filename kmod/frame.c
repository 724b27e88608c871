// SPDX-License-Identifier: GPL-2.0
/*
 * Frames: the "physical memory" of l4u, handed out by the in-kernel sigma0.
 *
 * A frame is a page the module allocated itself (zeroed, charged to the
 * memory cgroup of the task that touched it first), bounded by the space's
 * own limit and by the module parameter max_frames. Each frame carries the
 * root node of its derivation tree.
 */
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "l4u.h"

unsigned long l4_max_frames;
module_param_named(max_frames, l4_max_frames, ulong, 0644);
MODULE_PARM_DESC(max_frames, "most frames (pages) all spaces together may hold (default: half of RAM)");

/* frames allocated now: exact, since it is checked against max_frames */
static atomic_long_t l4_frames = ATOMIC_LONG_INIT(0);

static struct kmem_cache *l4_frame_cache;
static DEFINE_XARRAY(l4_frame_ids);	/* id -> frame, for introspection */
static atomic64_t l4_next_frame_id = ATOMIC64_INIT(0);

/* Take one unit of @count unless that would pass @limit (0: no limit). */
static bool l4_charge(atomic_long_t *count, unsigned long limit)
{
	long old = atomic_long_read(count);

	do {
		if (limit && old >= (long)limit)
			return false;
	} while (!atomic_long_try_cmpxchg(count, &old, old + 1));
	return true;
}

/*
 * Allocate a zeroed frame for @space. The root node is set up for the caller
 * to insert: it maps the frame with all rights at depth 0. Returns
 * ERR_PTR(-ENOSPC) when a frame limit refuses, ERR_PTR(-ENOMEM) when the
 * page allocator or the memory cgroup does.
 */
struct l4_frame *l4_frame_alloc(struct l4_space *space)
{
	struct l4_frame *frame;
	int err = -ENOSPC;

	if (!l4_charge(&space->frames, space->max_frames))
		return ERR_PTR(-ENOSPC);
	if (!l4_charge(&l4_frames, READ_ONCE(l4_max_frames)))
		goto err_space;

	err = -ENOMEM;
	frame = kmem_cache_zalloc(l4_frame_cache, L4_GFP_META);
	if (!frame)
		goto err_global;
	frame->page = alloc_page(L4_GFP_FRAME);
	if (!frame->page)
		goto err_frame;
	frame->id = atomic64_inc_return(&l4_next_frame_id);
	if (xa_insert(&l4_frame_ids, frame->id, frame, L4_GFP_META))
		goto err_page;

	refcount_set(&frame->users, 1);
	mutex_init(&frame->lock);
	frame->root.frame = frame;
	frame->root.space = space;
	frame->root.rights = L4_FPAGE_RWX;
	INIT_LIST_HEAD(&frame->root.children);
	INIT_LIST_HEAD(&frame->root.sibling);
	l4_count_inc(frames_allocated);
	return frame;

err_page:
	put_page(frame->page);
err_frame:
	kmem_cache_free(l4_frame_cache, frame);
err_global:
	atomic_long_dec(&l4_frames);
err_space:
	atomic_long_dec(&space->frames);
	return ERR_PTR(err);
}

/*
 * A root left @space (revoked, or its insert lost a race): the space is no
 * longer charged for its frame. The frame stays in the module's count
 * until its last put.
 */
void l4_frame_uncharge(struct l4_space *space)
{
	atomic_long_dec(&space->frames);
}

/* A grant moved a root from @from to @to: so does its charge. */
void l4_frame_move_charge(struct l4_space *from, struct l4_space *to)
{
	atomic_long_dec(&from->frames);
	atomic_long_inc(&to->frames);
}

long l4_frames_live(void)
{
	return atomic_long_read(&l4_frames);
}

static void l4_frame_free_rcu(struct rcu_head *head)
{
	kmem_cache_free(l4_frame_cache, container_of(head, struct l4_frame, rcu));
}

/*
 * Drop a frame reference. The last one goes when the root node has left its
 * space (which uncharged it) and no operation pins the frame any more, by
 * then with no PTE left on the page (revocation zapped them). Lock-free
 * readers may still hold the frame pointer, hence RCU, and may still try to
 * take a speculative page reference, hence put_page and not a free.
 */
void l4_frame_put(struct l4_frame *frame)
{
	if (!refcount_dec_and_test(&frame->users))
		return;
	WARN_ON_ONCE(!list_empty(&frame->root.children));
	xa_erase(&l4_frame_ids, frame->id);
	atomic_long_dec(&l4_frames);
	l4_count_inc(frames_freed);
	put_page(frame->page);
	/* call_rcu, not kfree_rcu: rcu_barrier() at exit must cover it */
	call_rcu(&frame->rcu, l4_frame_free_rcu);
}

/* The frame with id @id, pinned (put it with l4_frame_put), or NULL. */
struct l4_frame *l4_frame_get_id(u64 id)
{
	struct l4_frame *frame;

	rcu_read_lock();
	frame = xa_load(&l4_frame_ids, id);
	if (frame && !refcount_inc_not_zero(&frame->users))
		frame = NULL;
	rcu_read_unlock();
	return frame;
}

int l4_frame_init(void)
{
	if (!l4_max_frames)
		l4_max_frames = totalram_pages() / 2;
	l4_frame_cache = KMEM_CACHE(l4_frame, SLAB_ACCOUNT);
	return l4_frame_cache ? 0 : -ENOMEM;
}

void l4_frame_exit(void)
{
	/* l4_frame_free_rcu() callbacks must have run before the cache goes */
	rcu_barrier();
	WARN_ON_ONCE(!xa_empty(&l4_frame_ids));
	kmem_cache_destroy(l4_frame_cache);
}
