/* SPDX-License-Identifier: MIT */
/*
 * libl4u-server: a dataspace manager around a backend (pkg-config
 * l4u-server; the protocol is l4u/dataspace.h, docs/dataspaces.md).
 *
 * The engine is everything a manager does but what its dataspaces hold:
 * the bootstrap socket and a gate per dataspace (l4u/server.h), a frame
 * pool (l4u/frames.h) and per page its frame, MAP with the flexpage offset
 * rule and big flexpages, INFO, CLEAR, COPY_IN, SYNC, ALLOCATE, the
 * managers' counters, write-back, freeing a dataspace when its last
 * capability closes, and swapping to a file by a replacement policy
 * (l4u/policy.h) or pinning. The backend says what a dataspace is (open)
 * and what its pages hold (fill, writeback).
 *
 * The program owns the rest: its command line, its signals and its output
 * (the engine says what it does through cfg->log). It runs the engine's
 * server:
 *
 *	l4u_dsm_create(dev, &backend, &cfg, &dsm);
 *	l4u_server_watch(l4u_dsm_server(dsm), sigfd, on_signal, NULL);
 *	l4u_server_run(l4u_dsm_server(dsm));	// until l4u_server_stop()
 *	l4u_dsm_destroy(dsm);			// write back, free
 */
#ifndef L4U_DSM_H
#define L4U_DSM_H

#include <stddef.h>
#include <stdint.h>
#include <l4u/dataspace.h>
#include <l4u/frames.h>
#include <l4u/server.h>

#ifdef __cplusplus
extern "C" {
#endif

struct l4u_dsm;

/* What a backend's open() says about a new dataspace (plain data). */
struct l4u_dsm_ds_info {
	uint64_t size;		/* bytes, > 0 */
	uint32_t flags;		/* L4_FPAGE_R/W/X it may be mapped with, L4U_DS_PINNED */
	void *priv;		/* the backend's: what fill, writeback, close get */
	char what[64];		/* for messages: "anon", "file name" */
};

struct l4u_dsm_backend {
	uint32_t op;		/* the L4U_DSM_OPEN_* it serves */
	/*
	 * The biggest flexpage a MAP is answered with (log2 bytes, 12..30;
	 * below 12: single pages), as far as the caller's receive window and
	 * the alignment of offset and hot spot allow.
	 */
	unsigned int max_order;
	/*
	 * Check @req (and @fd, the callee's), fill @ds (zeroed). @arg is
	 * cfg->backend_arg. Return 0 or -errno (the client gets it).
	 */
	int (*open)(void *arg, const struct l4u_dsm_req *req, int fd,
		    struct l4u_dsm_ds_info *ds);
	/* Fill page @page into @dst (a zeroed frame); NULL: stays zero. */
	int (*fill)(void *priv, uint64_t page, void *dst);
	/* Write page @page back from @src; NULL: nothing to write back. */
	int (*writeback)(void *priv, uint64_t page, const void *src);
	/* The dataspace goes (after its last write-back): free @priv. */
	void (*close)(void *priv);
};

/* l4u_dsm_config.flags */
#define L4U_DSM_PINNED		(1U << 0)	/* every dataspace pinned (all frames at open) */
#define L4U_DSM_LAZY_W		(1U << 1)	/* swapping: W only on a page's second MAP */
#define L4U_DSM_VERBOSE		(1U << 2)	/* a log line per request */
#define L4U_DSM_FLAGS_KNOWN	(L4U_DSM_PINNED | L4U_DSM_LAZY_W | L4U_DSM_VERBOSE)

/* log levels */
#define L4U_DSM_LOG_WARN	0	/* something failed, serving goes on */
#define L4U_DSM_LOG_INFO	1	/* what was done (L4U_DSM_VERBOSE) */

/* One line without a newline; @msg lives for the call only. */
typedef void (*l4u_dsm_log_fn)(void *arg, int level, const char *msg);

struct l4u_dsm_config {
	const char *socket;	/* where clients open dataspaces: a path or "@name" */
	uint64_t frames;	/* the pool's size (memory budget); 0: 16384 (64 MiB) */
	unsigned int alloc;	/* L4U_FRAMES_* */
	uint32_t policy;	/* 0, or swap by L4U_POLICY_* (backends without fill
				   and writeback only) */
	uint64_t tau;		/* L4U_POLICY_WS: the window, 0: frames */
	int swap_fd;		/* with a policy: a file open for reading and writing
				   where evicted pages go (the caller's) */
	uint32_t flags;		/* L4U_DSM_* */
	void *backend_arg;	/* passed to the backend's open() */
	l4u_dsm_log_fn log;	/* NULL: nothing said */
	void *log_arg;
};

/*
 * A manager for backend @be (which must outlive it) as @cfg says, with its
 * frame pool in a space on /dev/l4 fd @dev (the caller may close @dev
 * afterwards). Clients can open dataspaces from the return on; they are
 * served while the program runs l4u_dsm_server(). -EINVAL for a bad
 * configuration.
 */
int l4u_dsm_create(int dev, const struct l4u_dsm_backend *be,
		   const struct l4u_dsm_config *cfg, struct l4u_dsm **dsm);

/* The manager's server: run it (l4u_server_run()), watch fds, stop it. */
struct l4u_server *l4u_dsm_server(struct l4u_dsm *dsm);

/*
 * Write back and free every dataspace (clients' calls then get EPIPE),
 * close the socket and the pool. The swap file stays the caller's.
 */
void l4u_dsm_destroy(struct l4u_dsm *dsm);

#ifdef __cplusplus
}
#endif

#endif /* L4U_DSM_H */
