/* SPDX-License-Identifier: MIT */
/*
 * libl4u region manager (L4Re::Rm on Linux).
 *
 * A region manager keeps the region map of one task: which range of the
 * task's window shows which dataspace, from which offset, with which
 * rights. It runs a thread in the calling process that serves a gate; that
 * gate is the default pager of the task's space (and may be named as the
 * pager of single threads). On a page fault it finds the region, checks
 * the rights, and asks the dataspace's manager (L4U_DS_MAP) to map the page
 * directly into the task's space, within a receive window restricted to
 * the region; then the faulting thread retries. No region, or a write to a
 * read-only region: the faulter gets SIGSEGV. The dataspace's manager gone:
 * SIGBUS.
 *
 * Addresses are virtual addresses in the task's window (l4u_task_info()).
 * All functions are thread-safe; the map is read by the pager thread while
 * any thread attaches and detaches.
 */
#ifndef L4U_RM_H
#define L4U_RM_H

#include <stddef.h>
#include <stdint.h>
#include <linux/l4.h>
#include <l4u/dataspace.h>
#include <l4u/task.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Region rights are the flexpage rights (as L4Re's: R = 4, W = 2, X = 1):
 * L4_FPAGE_R, L4_FPAGE_W, L4_FPAGE_X and their unions L4_FPAGE_RW, ...
 */
/*
 * Private (copy-on-write) region: writes never reach the dataspace. Its
 * pages are mapped read-only from the dataspace; the first write to a page
 * copies it into a new one-page anonymous dataspace (from the manager named
 * by l4u_rm_set_cow()), mapped writable from then on. Without
 * l4u_rm_set_cow(), attaching a private region with W is refused
 * (-EOPNOTSUPP).
 */
#define L4U_RM_PRIVATE		(1U << 4)
/* attach flags */
#define L4U_RM_SEARCH_ADDR	(1U << 8)	/* *start is a hint: find a free range */
#define L4U_RM_IN_AREA		(1U << 9)	/* inside the area holding *start */
#define L4U_RM_EAGER_MAP	(1U << 10)	/* map the whole region now */
#define L4U_RM_ATTACH_KNOWN	(L4_FPAGE_RWX | L4U_RM_PRIVATE | \
				 L4U_RM_SEARCH_ADDR | L4U_RM_IN_AREA | \
				 L4U_RM_EAGER_MAP)
#define L4U_RM_AREA_KNOWN	(L4U_RM_SEARCH_ADDR)

/* detach flags */
#define L4U_RM_DETACH_WHOLE	(1U << 0)	/* remove the region whole */
#define L4U_RM_DETACH_KNOWN	(L4U_RM_DETACH_WHOLE)

/* detach results (L4Re's Detach_result) */
#define L4U_RM_DETACHED_DS	0	/* the region is gone */
#define L4U_RM_KEPT_DS		1	/* a part of it remains */
#define L4U_RM_SPLIT_DS		2	/* it was split in two */
#define L4U_RM_DETACH_RESULT	3	/* mask of the above */
#define L4U_RM_DETACH_AGAIN	4	/* more regions overlap the range */

/* A region as find() and detach() report it (plain data). */
struct l4u_region {
	void *start;		/* first byte */
	uint64_t size;		/* bytes */
	uint64_t offset;	/* in the dataspace */
	uint32_t flags;		/* rights | L4U_RM_PRIVATE */
	int ds_cap;		/* the region manager's own capability fd of the
				   dataspace (valid while attached) */
	uint64_t ds_id;		/* the dataspace's id at its manager */
};

struct l4u_rm;

/*
 * Create the region manager of @task: starts its pager thread and makes
 * its gate the default pager of the task's space (on /dev/l4 fd @dev).
 * A task has at most one (-EBUSY).
 */
int l4u_rm_create(int dev, struct l4u_task *task, struct l4u_rm **rm);

/*
 * Stop the pager thread, detach every region (unmapping its pages) and
 * free the areas; the task's space has no default pager afterwards.
 */
int l4u_rm_destroy(struct l4u_rm *rm);

/*
 * Enable copy-on-write for private regions: copies are one-page anonymous
 * dataspaces opened at the manager listening on @dsm (see
 * l4u_ds_open_anon()); a scratch space of two pages (on /dev/l4 fd @dev)
 * is what the copies are made through. Once per region manager (-EBUSY).
 */
int l4u_rm_set_cow(struct l4u_rm *rm, int dev, const char *dsm);

/* The region manager's gate (to name it as a thread's pager). */
int l4u_rm_gate(const struct l4u_rm *rm);

/*
 * Attach @size bytes of dataspace @ds from @offset at *@start.
 * @flags: rights (L4_FPAGE_R/W/X, at least R), L4U_RM_PRIVATE,
 * L4U_RM_SEARCH_ADDR (*start is where to start searching; NULL: the
 * window's start; the result is aligned to 2^@align_order), L4U_RM_IN_AREA
 * (the region must lie in the area containing *start), L4U_RM_EAGER_MAP.
 * @align_order: 0 or 12..47 (0 means 12). The region manager keeps its own
 * duplicate of ds->cap. *@start gets the region's address.
 * Errors: -EINVAL bad flags, sizes, alignment; -EBADF bad capability;
 * -EACCES rights the dataspace does not allow; -ERANGE offset + size beyond
 * the dataspace, or the range outside the window (or the area);
 * -EEXIST the range overlaps a region or (without IN_AREA) an area;
 * -ENOENT IN_AREA and no area at *start; -ENOMEM no free range (search)
 * or no memory; -EOPNOTSUPP PRIVATE with W and no l4u_rm_set_cow();
 * with EAGER_MAP the manager's errors (-EPIPE: it is gone), the region
 * then being removed again.
 */
int l4u_rm_attach(struct l4u_rm *rm, void **start, uint64_t size,
		  uint32_t flags, const struct l4u_ds *ds, uint64_t offset,
		  unsigned int align_order);

/*
 * Detach what of the first region overlapping [@start, @start + @size)
 * lies in that range (all of the region with L4U_RM_DETACH_WHOLE) and
 * unmap its pages from the task's space. *@result (if non-NULL):
 * L4U_RM_DETACHED_DS, L4U_RM_KEPT_DS or L4U_RM_SPLIT_DS, plus
 * L4U_RM_DETACH_AGAIN when more regions overlap the range (call again).
 * *@old (if non-NULL) describes the part removed (its ds_cap is closed).
 * Errors: -EINVAL unaligned or empty range, flags; -ENOENT no region there.
 */
int l4u_rm_detach(struct l4u_rm *rm, void *start, uint64_t size,
		  uint32_t flags, unsigned int *result, struct l4u_region *old);

/* The first region overlapping [@start, @start + @size); -ENOENT if none. */
int l4u_rm_find(struct l4u_rm *rm, void *start, uint64_t size,
		struct l4u_region *region);

/*
 * Reserve an area: a range where regions are attached only with
 * L4U_RM_IN_AREA. @flags: L4U_RM_SEARCH_ADDR; @align_order as for attach.
 * Errors: -EINVAL, -ERANGE outside the window, -EEXIST overlaps an area or
 * a region, -ENOMEM.
 */
int l4u_rm_reserve_area(struct l4u_rm *rm, void **start, uint64_t size,
			uint32_t flags, unsigned int align_order);

/* Free the area starting at @start (its regions stay); -ENOENT if none. */
int l4u_rm_free_area(struct l4u_rm *rm, void *start);

#ifdef __cplusplus
}
#endif

#endif /* L4U_RM_H */
