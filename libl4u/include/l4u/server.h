/* SPDX-License-Identifier: MIT */
/*
 * libl4u servers: the loop every dataspace manager runs, and the parts
 * managers share.
 *
 *  - struct l4u_server: one epoll over the bootstrap socket (struct
 *    l4u_dsm_req in, struct l4u_dsm_resp and a capability out; see
 *    l4u/dataspace.h), its connections, SIGTERM/SIGINT (a clean return),
 *    and many gates -- the receive fds of the objects served. Messages are
 *    dispatched by label to handlers; the reply goes out together with the
 *    receive of the next message on the same gate (reply-and-wait on a
 *    non-blocking gate), L4_LABEL_NO_SENDERS goes to the object's
 *    no_senders callback.
 *  - struct l4u_frames: a frame allocator over a sigma0-backed space of the
 *    manager's own (its memory budget), with a window onto it.
 *  - l4u_dsm_main(): a complete dataspace manager around a backend (anonymous
 *    memory, files): the programs pagers/l4u-dsm-* are a backend each.
 *
 * Single-threaded: handlers run in the thread that called l4u_server_run().
 */
#ifndef L4U_SERVER_H
#define L4U_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <linux/l4.h>
#include <l4u/dataspace.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the server loop --------------------------------------------------- */

struct l4u_server;
struct l4u_server_gate;

/*
 * A handler: @obj is what the gate was added with, @msg the message, @reply
 * already initialised for it (token set, no words, no items). Add words and
 * map items to @reply and return 0, or return -errno: the caller gets that
 * error (reply.error). The server sends the reply.
 */
typedef int (*l4u_server_fn)(struct l4u_server *srv, void *obj,
			     const struct l4_msg *msg, struct l4_reply *reply);

struct l4u_server_ops {
	/*
	 * A request on the bootstrap socket (@fd: the fd that came with it,
	 * or -1; the callee owns it). Fill @resp and return the gate of the
	 * new object in *@gate (from l4u_server_gate_add()); the server sends
	 * a send capability of it with @resp and keeps nothing. Or return
	 * -errno: the client gets that error.
	 */
	int (*open)(struct l4u_server *srv, const struct l4u_dsm_req *req,
		    int fd, struct l4u_dsm_resp *resp,
		    struct l4u_server_gate **gate);
	/* The last send capability of @obj's gate was closed. May remove it. */
	void (*no_senders)(struct l4u_server *srv, void *obj);
	/* Labels without a handler (NULL: -ENOSYS). */
	l4u_server_fn fallback;
};

/*
 * A server listening on @sock_name (a path, replaced if it exists, or
 * "@name" for an abstract Unix socket). @priv: see l4u_server_priv().
 */
int l4u_server_create(const char *sock_name, const struct l4u_server_ops *ops,
		      void *priv, struct l4u_server **srv);
/* Close everything (every gate dies), unlink the socket path. */
void l4u_server_destroy(struct l4u_server *srv);

void *l4u_server_priv(struct l4u_server *srv);
/* The server's /dev/l4 fd. */
int l4u_server_dev(struct l4u_server *srv);

/* Handle messages labelled @label with @fn (replaces an earlier one). */
int l4u_server_on(struct l4u_server *srv, int64_t label, l4u_server_fn fn);

/* A new gate served for @obj. */
int l4u_server_gate_add(struct l4u_server *srv, void *obj,
			struct l4u_server_gate **gate);
/*
 * A new send capability of @gate (an fd, the caller's). On a kernel without
 * send capabilities (L4_FEAT_SEND_CAP), a dup of the receive fd: that works
 * for calls, but the gate then neither dies with the server nor tells of
 * its last sender.
 */
int l4u_server_gate_cap(struct l4u_server *srv, struct l4u_server_gate *gate);
/* Does the kernel have send capabilities (see l4u_server_gate_cap())? */
int l4u_server_send_caps(struct l4u_server *srv);
/* Stop serving @gate and close it: the gate dies, callers get EPIPE. */
void l4u_server_gate_remove(struct l4u_server *srv, struct l4u_server_gate *gate);

/*
 * Serve until SIGTERM or SIGINT (blocked and taken through a signalfd while
 * running) or l4u_server_stop(): returns 0 then, -errno on failure.
 */
int l4u_server_run(struct l4u_server *srv);
void l4u_server_stop(struct l4u_server *srv);

/* ---- frames: an allocator over a sigma0-backed space ------------------- */

/* Allocation strategies (docs/swapping.md). */
#define L4U_FRAMES_BITMAP	0	/* next fit for one frame, first fit for blocks */
#define L4U_FRAMES_FREELIST	1	/* one frame: LIFO stack of free frames; blocks: bitmap */
#define L4U_FRAMES_BUDDY	2	/* binary buddy: free lists per order, coalescing */
#define L4U_FRAMES_ORDERS	21	/* orders 0 .. 20 (4 KiB .. 4 GiB) */

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
	uint32_t free_list[L4U_FRAMES_ORDERS];
};

#define L4U_FRAME_SIZE	((uint64_t)4096)

/* A pool of @nframes frames (the space's frame limit is that too). */
int l4u_frames_init(struct l4u_frames *fr, int dev, uint64_t nframes);
/* The same with strategy @strategy (L4U_FRAMES_*). */
int l4u_frames_init_strategy(struct l4u_frames *fr, int dev, uint64_t nframes,
			     unsigned int strategy);
/* "bitmap", "freelist", "buddy"; NULL for an unknown one. */
const char *l4u_frames_strategy_name(unsigned int strategy);
void l4u_frames_fini(struct l4u_frames *fr);
/*
 * Allocate 2^@order frames, aligned to their size (so that they can go out
 * as one flexpage): returns the first frame's number, or -ENOMEM. The
 * frames are present in the space and zero-filled.
 */
int64_t l4u_frames_alloc(struct l4u_frames *fr, unsigned int order);
/*
 * Free 2^@order frames from @frame: every mapping derived from them is
 * revoked and the space gives their memory back (the next allocation gets
 * fresh zeroed frames). Returns what l4u_unmap() reported as access
 * (L4_FPAGE_R / L4_FPAGE_W) or -errno.
 */
int64_t l4u_frames_free(struct l4u_frames *fr, uint64_t frame, unsigned int order);

static inline void *l4u_frame_ptr(const struct l4u_frames *fr, uint64_t frame)
{
	return fr->win + frame * L4U_FRAME_SIZE;
}

static inline uint64_t l4u_frame_addr(uint64_t frame)
{
	return frame * L4U_FRAME_SIZE;
}

/* ---- dataspace managers ------------------------------------------------ */

/*
 * STATS (a manager's counters, for tests and tools), asked on any of its
 * dataspaces: reply w[0] live dataspaces, w[1] frames in use, w[2] frames
 * in all, w[3] pages read in (files), w[4] pages written back (files),
 * w[5] requests served.
 */
#define L4U_DSM_STATS		L4U_DS_LABEL(0x7f)

struct l4u_dsm_stats {
	uint64_t dataspaces;
	uint64_t frames_used;
	uint64_t frames_total;
	uint64_t pages_read;
	uint64_t pages_written;
	uint64_t requests;
};

int l4u_dsm_stats(const struct l4u_ds *ds, struct l4u_dsm_stats *st);

/*
 * SWAP_STATS (a swapping or pinning manager's paging counters, see
 * docs/swapping.md), asked on any of its dataspaces: reply w[0] MAP
 * requests, w[1] faults (MAPs that needed a frame: zero-fill or swap-in),
 * w[2] hits (MAPs of a resident page), w[3] evictions, w[4] swap-ins,
 * w[5] swap-outs, w[6] pinned frames, w[7] swap slots in use. Zero where
 * the manager does not swap; a manager older than this gets -ENOSYS.
 */
#define L4U_DSM_SWAP_STATS	L4U_DS_LABEL(0x7e)

struct l4u_dsm_swap_stats {
	uint64_t maps;
	uint64_t faults;
	uint64_t hits;
	uint64_t evictions;
	uint64_t swap_ins;
	uint64_t swap_outs;
	uint64_t pinned;
	uint64_t swap_used;
	double hit_ratio;	/* hits / (hits + faults), 0 if none */
};

int l4u_dsm_swap_stats(const struct l4u_ds *ds, struct l4u_dsm_swap_stats *st);

struct l4u_dsm;

/* A dataspace as its manager sees it. */
struct l4u_dsm_ds {
	struct l4u_server_gate *gate;
	uint64_t id;		/* random, what INFO and COPY_IN call it */
	unsigned int num;	/* small number for messages: ds 1, ds 2, ... */
	uint32_t flags;		/* L4U_DS_* */
	uint64_t size;		/* bytes */
	uint64_t npages;
	uint32_t *frames;	/* per page: frame number, or L4U_DSM_NO_FRAME */
	uint8_t *state;		/* per page: L4U_DSM_PAGE_* */
	uint32_t *swap;		/* per page: swap slot + 1, 0: none (swapping managers) */
	void *priv;		/* the backend's */
	char what[64];		/* for messages: "anon", "file name" */
	struct l4u_dsm_ds *next;
};

#define L4U_DSM_NO_FRAME	UINT32_MAX
#define L4U_DSM_PAGE_WMAPPED	0x1	/* mapped writable since its last sync */
#define L4U_DSM_PAGE_DIRTY	0x2	/* written by the manager itself */
#define L4U_DSM_PAGE_PINNED	0x4	/* a pinned dataspace's frame */

struct l4u_dsm_backend {
	const char *name;	/* program name for messages */
	uint32_t op;		/* the L4U_DSM_OPEN_* it serves */
	/*
	 * The biggest flexpage a MAP is answered with (log2 bytes, 12..30;
	 * below 12: single pages), as far as the caller's receive window and
	 * the alignment of offset and hot spot allow.
	 */
	unsigned int max_order;
	/*
	 * Check @req (and @fd, owned by the callee), set ds->size, ds->flags,
	 * ds->what, ds->priv. Return 0 or -errno.
	 */
	int (*open)(struct l4u_dsm *dsm, struct l4u_dsm_ds *ds,
		    const struct l4u_dsm_req *req, int fd);
	/* Fill page @page into @dst (a zeroed frame); NULL: stays zero. */
	int (*fill)(struct l4u_dsm_ds *ds, uint64_t page, void *dst);
	/* Write page @page back from @src; NULL: nothing to write back. */
	int (*writeback)(struct l4u_dsm_ds *ds, uint64_t page, const void *src);
	/* The dataspace goes (after its last write-back): free ds->priv. */
	void (*close)(struct l4u_dsm_ds *ds);
};

/*
 * A dataspace manager's main(): parses
 *   --socket PATH|@name  [--frames N]  [-v]
 *   [--policy fifo|lru|aging|clock|ws [--tau T] --swap FILE [--lazy-w]]
 *   [--pinned]  [--alloc bitmap|freelist|buddy]
 * (--policy: evict to FILE when the pool is full, anonymous memory only;
 * --lazy-w: pages come in read-only, W on the next MAP;
 * --pinned: every dataspace gets all its frames at open, never evicted;
 * see docs/swapping.md),
 * serves until SIGTERM/SIGINT, writes back and frees everything, and
 * returns the process's exit status.
 */
int l4u_dsm_main(int argc, char **argv, const struct l4u_dsm_backend *be);

#ifdef __cplusplus
}
#endif

#endif /* L4U_SERVER_H */
