// SPDX-License-Identifier: GPL-2.0
/*
 * Frames: the "physical memory" of l4u, handed out by the in-kernel sigma0.
 *
 * A frame is a page the module allocated itself (zeroed, charged to the
 * memory cgroup of the task that touched it first), or a superpage: one
 * 2 MiB folio, allocated without hard reclaim (THP's way: the caller falls
 * back to 4 KiB frames). Frames are bounded, in pages (a superpage counts
 * 512), by the space's own limit and by the module parameter max_frames.
 * Each frame carries the root node of its derivation tree.
 */
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "l4u.h"

unsigned long l4_max_frames;
module_param_named(max_frames, l4_max_frames, ulong, 0644);
MODULE_PARM_DESC(max_frames, "most frames (pages) all spaces together may hold (default: half of RAM)");

/* frame pages allocated now: exact, since it is checked against max_frames */
static atomic_long_t l4_frames = ATOMIC_LONG_INIT(0);
static atomic_long_t l4_superpages = ATOMIC_LONG_INIT(0);

static DEFINE_XARRAY(l4_frame_ids);	/* id -> frame, for introspection */
static atomic64_t l4_next_frame_id = ATOMIC64_INIT(0);

/* Take @n units of @count unless that would pass @limit (0: no limit). */
static bool l4_charge(atomic_long_t *count, long n, unsigned long limit)
{
	long old = atomic_long_read(count);

	do {
		if (limit && old + n > (long)limit)
			return false;
	} while (!atomic_long_try_cmpxchg(count, &old, old + n));
	return true;
}

static struct page *l4_frame_alloc_pages(unsigned int order)
{
	struct page *page;

	page = order ? alloc_pages(L4_GFP_SUPER, order) : alloc_page(L4_GFP_FRAME);
	/*
	 * Not in any page cache: the index only steers finish_fault(), which
	 * maps a large folio with a PMD only if it ends within i_size.
	 */
	if (page)
		page_folio(page)->index = 0;
	return page;
}

/*
 * Allocate a zeroed frame of 2^@order pages (0 or L4_SUPER_ORDER) for
 * @space. The root node is set up for the caller to insert: it maps the
 * whole frame with all rights at depth 0. Returns ERR_PTR(-ENOSPC) when a
 * frame limit refuses, ERR_PTR(-ENOMEM) when the page allocator or the
 * memory cgroup does.
 */
struct l4_frame *l4_frame_alloc(struct l4_space *space, unsigned int order)
{
	long pages = 1L << order;
	struct l4_frame *frame;
	int err = -ENOSPC;

	if (!l4_charge(&space->frames, pages, space->max_frames))
		return ERR_PTR(-ENOSPC);
	if (!l4_charge(&l4_frames, pages, READ_ONCE(l4_max_frames)))
		goto err_space;

	err = -ENOMEM;
	frame = kzalloc(sizeof(*frame), L4_GFP_META);
	if (!frame)
		goto err_global;
	frame->page = l4_frame_alloc_pages(order);
	if (!frame->page)
		goto err_frame;
	frame->id = atomic64_inc_return(&l4_next_frame_id);
	if (xa_insert(&l4_frame_ids, frame->id, frame, L4_GFP_META))
		goto err_page;

	refcount_set(&frame->users, 1);
	frame->root.frame = frame;
	frame->root.space = space;
	frame->root.word = l4_node_word(0, 0, order, 0, L4_FPAGE_RWX);
	if (order) {
		atomic_long_inc(&space->superpages);
		atomic_long_inc(&l4_superpages);
	}
	l4_count_inc(frames_allocated);
	return frame;

err_page:
	put_page(frame->page);
err_frame:
	kfree(frame);
err_global:
	atomic_long_sub(pages, &l4_frames);
err_space:
	atomic_long_sub(pages, &space->frames);
	return ERR_PTR(err);
}

/*
 * The root of @frame left @space (revoked, or its insert lost a race): the
 * space is no longer charged for the frame. The frame stays in the module's
 * count until its last put.
 */
void l4_frame_uncharge(struct l4_frame *frame, struct l4_space *space)
{
	atomic_long_sub(1L << l4_frame_order(frame), &space->frames);
	if (l4_frame_order(frame))
		atomic_long_dec(&space->superpages);
}

/* A grant moved the root of @frame from @from to @to: so does its charge. */
void l4_frame_move_charge(struct l4_frame *frame, struct l4_space *from,
			  struct l4_space *to)
{
	l4_frame_uncharge(frame, from);
	atomic_long_add(1L << l4_frame_order(frame), &to->frames);
	if (l4_frame_order(frame))
		atomic_long_inc(&to->superpages);
}

long l4_frames_live(void)
{
	return atomic_long_read(&l4_frames);
}

long l4_superpages_live(void)
{
	return atomic_long_read(&l4_superpages);
}

/*
 * Drop a frame reference. The last one goes when the root node has left its
 * space (which uncharged it) and no operation pins the frame any more, by
 * then with no PTE left on the page (revocation zapped them). Lock-free
 * readers may still hold the frame pointer, hence RCU (headless: a frame
 * has no rcu_head, and this may sleep), and may still try to take a
 * speculative page reference, hence put_page and not a free.
 */
void l4_frame_put(struct l4_frame *frame)
{
	if (!refcount_dec_and_test(&frame->users))
		return;
	WARN_ON_ONCE(frame->root.next);
	xa_erase(&l4_frame_ids, frame->id);
	atomic_long_sub(1L << l4_frame_order(frame), &l4_frames);
	if (l4_frame_order(frame))
		atomic_long_dec(&l4_superpages);
	l4_count_inc(frames_freed);
	put_page(frame->page);
	kvfree_rcu_mightsleep(frame);
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
	return 0;
}

void l4_frame_exit(void)
{
	WARN_ON_ONCE(!xa_empty(&l4_frame_ids));
}
