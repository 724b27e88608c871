/* SPDX-License-Identifier: MIT */
/*
 * libl4u-server: a frame pool (pkg-config l4u-server).
 *
 * The frames of a pool are the pages of a sigma0-backed space of the
 * caller's own (its memory budget: the space's frame limit is the pool's
 * size), reached through a read-write window onto all of it. Frame i is
 * at space address i * L4U_FRAME_SIZE. Allocation strategies: see
 * docs/swapping.md. Not thread-safe: one pool, one thread at a time.
 */
#ifndef L4U_FRAMES_H
#define L4U_FRAMES_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define L4U_FRAME_SIZE		((uint64_t)4096)

/* Allocation strategies. */
#define L4U_FRAMES_BITMAP	0	/* next fit for one frame, first fit for blocks */
#define L4U_FRAMES_FREELIST	1	/* one frame: LIFO stack of free frames; blocks: bitmap */
#define L4U_FRAMES_BUDDY	2	/* binary buddy: free lists per order, coalescing */

struct l4u_frames;

/* What a pool is (plain data). */
struct l4u_frames_info {
	int space;		/* the sigma0-backed space fd (the pool's) */
	unsigned int strategy;	/* L4U_FRAMES_* */
	uint64_t nframes;	/* frames in all */
	uint64_t nfree;		/* frames free now */
};

/*
 * A pool of @nframes frames (1 .. 2^32 - 2) in a new space on /dev/l4 fd
 * @dev (which the caller may close afterwards), allocated by @strategy.
 */
int l4u_frames_create(int dev, uint64_t nframes, unsigned int strategy,
		      struct l4u_frames **fr);
/* Close the space: every mapping derived from the pool's frames goes. */
void l4u_frames_destroy(struct l4u_frames *fr);

int l4u_frames_info(const struct l4u_frames *fr, struct l4u_frames_info *info);

/* "bitmap", "freelist", "buddy"; NULL for an unknown strategy. */
const char *l4u_frames_strategy_name(unsigned int strategy);

/*
 * Allocate 2^@order frames (order <= 20), aligned to their size (so that
 * they can go out as one flexpage): returns the first frame's number, or
 * -ENOMEM. The frames are present in the space and zero-filled.
 */
int64_t l4u_frames_alloc(struct l4u_frames *fr, unsigned int order);
/*
 * Free 2^@order frames from @frame: every mapping derived from them is
 * revoked and the space gives their memory back (the next allocation gets
 * fresh zeroed frames). Returns what l4u_unmap() reported as access
 * (L4_FPAGE_R / L4_FPAGE_W) or -errno.
 */
int64_t l4u_frames_free(struct l4u_frames *fr, uint64_t frame, unsigned int order);

/* Where frame @frame is in the pool's window (no checks). */
void *l4u_frames_ptr(const struct l4u_frames *fr, uint64_t frame);

#ifdef __cplusplus
}
#endif

#endif /* L4U_FRAMES_H */
