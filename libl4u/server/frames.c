// SPDX-License-Identifier: MIT
/*
 * The frame pool of a dataspace manager: frames are the pages of a
 * sigma0-backed space of the manager's own, handed out by one of three
 * strategies (bitmap, free list, buddy). See docs/dataspaces.md and
 * docs/swapping.md.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "l4u/l4u.h"
#include "l4u/frames.h"

#define NIL		UINT32_MAX
#define ORDERS		21	/* orders 0 .. 20 (4 KiB .. 4 GiB) */

struct l4u_frames {
	int space;		/* sigma0-backed space fd, frame i at i * 4096 */
	char *win;		/* read-write window onto all of it */
	uint64_t nframes;	/* frames in all */
	uint64_t nfree;		/* frames free now */
	uint64_t *bitmap;	/* bit set: allocated (every strategy) */
	uint64_t hint;		/* where the next search for one frame starts */
	unsigned int strategy;	/* L4U_FRAMES_* */
	/* FREELIST: free frames, the last freed on top; instack[f]: f is in it */
	uint32_t *stack;
	uint64_t nstack;
	uint8_t *instack;
	/* BUDDY: per order a doubly linked list of free blocks (by first frame) */
	uint32_t *next, *prev;
	uint8_t *head;		/* per frame: order + 1 if it heads a free block */
	uint32_t free_list[ORDERS];
};

const char *l4u_frames_strategy_name(unsigned int strategy)
{
	static const char *const names[] = { "bitmap", "freelist", "buddy" };

	return strategy < 3 ? names[strategy] : NULL;
}

/* ---- buddy lists ---- */

static void buddy_push(struct l4u_frames *fr, uint32_t f, unsigned int k)
{
	fr->prev[f] = NIL;
	fr->next[f] = fr->free_list[k];
	if (fr->free_list[k] != NIL)
		fr->prev[fr->free_list[k]] = f;
	fr->free_list[k] = f;
	fr->head[f] = (uint8_t)(k + 1);
}

static void buddy_del(struct l4u_frames *fr, uint32_t f, unsigned int k)
{
	if (fr->prev[f] != NIL)
		fr->next[fr->prev[f]] = fr->next[f];
	else
		fr->free_list[k] = fr->next[f];
	if (fr->next[f] != NIL)
		fr->prev[fr->next[f]] = fr->prev[f];
	fr->head[f] = 0;
}

/* Give [@f, @f + @n) to the lists as maximal aligned blocks. */
static void buddy_add_range(struct l4u_frames *fr, uint64_t f, uint64_t n)
{
	while (n) {
		unsigned int k = 0;

		while (k + 1 < ORDERS && !(f & ((2ULL << k) - 1)) &&
		       (2ULL << k) <= n)
			k++;
		buddy_push(fr, (uint32_t)f, k);
		f += 1ULL << k;
		n -= 1ULL << k;
	}
}

static int64_t buddy_alloc(struct l4u_frames *fr, unsigned int order)
{
	unsigned int k;
	uint32_t f;

	for (k = order; k < ORDERS && fr->free_list[k] == NIL; k++)
		;
	if (k == ORDERS)
		return -ENOMEM;
	f = fr->free_list[k];
	buddy_del(fr, f, k);
	while (k > order) {	/* split: the upper halves stay free */
		k--;
		buddy_push(fr, f + (1U << k), k);
	}
	return f;
}

static void buddy_free(struct l4u_frames *fr, uint64_t f, unsigned int k)
{
	while (k + 1 < ORDERS) {
		uint64_t b = f ^ (1ULL << k);

		if (b + (1ULL << k) > fr->nframes || fr->head[b] != k + 1)
			break;
		buddy_del(fr, (uint32_t)b, k);
		f &= ~(1ULL << k);
		k++;
	}
	buddy_push(fr, (uint32_t)f, k);
}

int l4u_frames_create(int dev, uint64_t nframes, unsigned int strategy,
		      struct l4u_frames **frp)
{
	uint64_t words = (nframes + 63) / 64, i;
	struct l4u_frames *fr;
	unsigned int k;
	int ret;

	if (!frp || !nframes || nframes > (1ULL << 32) - 2 ||
	    !l4u_frames_strategy_name(strategy))
		return -EINVAL;
	fr = calloc(1, sizeof(*fr));
	if (!fr)
		return -ENOMEM;
	fr->space = -1;
	fr->strategy = strategy;
	fr->bitmap = calloc(words, sizeof(uint64_t));
	if (!fr->bitmap) {
		ret = -ENOMEM;
		goto fail;
	}
	if (strategy == L4U_FRAMES_FREELIST) {
		fr->stack = malloc(nframes * sizeof(*fr->stack));
		fr->instack = malloc(nframes);
		if (!fr->stack || !fr->instack) {
			ret = -ENOMEM;
			goto fail;
		}
		/* frame 0 on top: the first allocations go upwards */
		for (i = 0; i < nframes; i++)
			fr->stack[i] = (uint32_t)(nframes - 1 - i);
		fr->nstack = nframes;
		memset(fr->instack, 1, nframes);
	} else if (strategy == L4U_FRAMES_BUDDY) {
		fr->next = malloc(nframes * sizeof(*fr->next));
		fr->prev = malloc(nframes * sizeof(*fr->prev));
		fr->head = calloc(nframes, 1);
		if (!fr->next || !fr->prev || !fr->head) {
			ret = -ENOMEM;
			goto fail;
		}
		for (k = 0; k < ORDERS; k++)
			fr->free_list[k] = NIL;
		/* from the top down, so that the lowest block is first in its list */
		for (i = nframes; i; ) {
			uint64_t f = i - 1, n;

			/* the biggest aligned block ending at i */
			for (k = 0; k + 1 < ORDERS; k++) {
				n = 2ULL << k;
				if (n > i || ((i - n) & (n - 1)))
					break;
			}
			f = i - (1ULL << k);
			buddy_add_range(fr, f, 1ULL << k);
			i = f;
		}
	}
	fr->space = l4u_space_create(dev, nframes * L4U_FRAME_SIZE,
				     L4_SPACE_SIGMA0, nframes, NULL);
	if (fr->space < 0) {
		ret = fr->space;
		goto fail;
	}
	ret = l4u_window_open(fr->space, 0, nframes * L4U_FRAME_SIZE,
			      PROT_READ | PROT_WRITE, NULL, (void **)&fr->win);
	if (ret)
		goto fail;
	fr->nframes = fr->nfree = nframes;
	*frp = fr;
	return 0;
fail:
	l4u_frames_destroy(fr);
	return ret;
}

void l4u_frames_destroy(struct l4u_frames *fr)
{
	if (!fr)
		return;
	if (fr->win)
		l4u_window_close(fr->win, fr->nframes * L4U_FRAME_SIZE);
	if (fr->space >= 0)
		close(fr->space);
	free(fr->bitmap);
	free(fr->stack);
	free(fr->instack);
	free(fr->next);
	free(fr->prev);
	free(fr->head);
	free(fr);
}

int l4u_frames_info(const struct l4u_frames *fr, struct l4u_frames_info *info)
{
	if (!fr || !info)
		return -EINVAL;
	*info = (struct l4u_frames_info){
		.space		= fr->space,
		.strategy	= fr->strategy,
		.nframes	= fr->nframes,
		.nfree		= fr->nfree,
	};
	return 0;
}

void *l4u_frames_ptr(const struct l4u_frames *fr, uint64_t frame)
{
	return fr->win + frame * L4U_FRAME_SIZE;
}

static int frame_used(const struct l4u_frames *fr, uint64_t f)
{
	return (fr->bitmap[f / 64] >> (f % 64)) & 1;
}

static void frames_mark(struct l4u_frames *fr, uint64_t f, uint64_t n, int used)
{
	for (; n; n--, f++) {
		if (used)
			fr->bitmap[f / 64] |= 1ULL << (f % 64);
		else
			fr->bitmap[f / 64] &= ~(1ULL << (f % 64));
	}
}

/* Are the @n frames from @f free? Whole words at a time where possible. */
static int frames_free_run(const struct l4u_frames *fr, uint64_t f, uint64_t n)
{
	while (n) {
		if (f % 64 == 0 && n >= 64) {
			if (fr->bitmap[f / 64])
				return 0;
			f += 64;
			n -= 64;
		} else {
			if (frame_used(fr, f))
				return 0;
			f++;
			n--;
		}
	}
	return 1;
}

int64_t l4u_frames_alloc(struct l4u_frames *fr, unsigned int order)
{
	uint64_t n = 1ULL << order, f, i, start;
	volatile char *p;

	if (order > 20 || n > fr->nfree)
		return -ENOMEM;
	if (fr->strategy == L4U_FRAMES_BUDDY) {
		int64_t b = buddy_alloc(fr, order);

		if (b < 0)
			return b;
		f = (uint64_t)b;
		goto found;
	}
	if (fr->strategy == L4U_FRAMES_FREELIST && order == 0) {
		/* entries a block allocation took meanwhile are skipped */
		while (fr->nstack) {
			f = fr->stack[--fr->nstack];
			fr->instack[f] = 0;
			if (!frame_used(fr, f))
				goto found;
		}
		return -ENOMEM;
	}
	if (order == 0) {
		/* next fit from the hint, skipping full words */
		start = fr->hint % fr->nframes;
		for (i = 0; i < fr->nframes; i++) {
			f = (start + i) % fr->nframes;
			if (f % 64 == 0 && fr->bitmap[f / 64] == ~0ULL &&
			    f + 64 <= fr->nframes) {
				i += 63;
				continue;
			}
			if (!frame_used(fr, f))
				goto found;
		}
		return -ENOMEM;
	}
	for (f = 0; f + n <= fr->nframes; f += n)
		if (frames_free_run(fr, f, n))
			goto found;
	return -ENOMEM;
found:
	frames_mark(fr, f, n, 1);
	fr->nfree -= n;
	fr->hint = f + n;
	/* make them present: sigma0 hands out zeroed frames on first touch */
	for (i = 0; i < n; i++) {
		p = (volatile char *)l4u_frames_ptr(fr, f + i);
		(void)*p;
	}
	return (int64_t)f;
}

int64_t l4u_frames_free(struct l4u_frames *fr, uint64_t frame, unsigned int order)
{
	uint64_t n = 1ULL << order, access = 0;
	int ret;

	if (frame + n > fr->nframes || frame % n)
		return -EINVAL;
	/* revoke what clients hold, and the space's own entries: sigma0
	 * gives the memory back, the next touch gets a fresh zeroed frame */
	ret = l4u_unmap(fr->space, L4_FPAGE(frame * L4U_FRAME_SIZE, 12 + order,
					    L4_FPAGE_RWX),
			L4_UNMAP_ALL_SPACES, NULL, &access);
	frames_mark(fr, frame, n, 0);
	fr->nfree += n;
	if (fr->strategy == L4U_FRAMES_BUDDY) {
		buddy_free(fr, frame, order);
	} else if (fr->strategy == L4U_FRAMES_FREELIST) {
		for (uint64_t i = frame + n; i-- > frame; ) {
			if (!fr->instack[i]) {
				fr->instack[i] = 1;
				fr->stack[fr->nstack++] = (uint32_t)i;
			}
		}
	}
	return ret ? ret : (int64_t)access;
}
