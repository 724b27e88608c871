/* SPDX-License-Identifier: MIT */
/*
 * libl4u-server: the server loop (pkg-config l4u-server).
 *
 * struct l4u_server is one epoll over a bootstrap socket (clients connect,
 * send a request of a fixed size, get a response and a send capability of
 * a new object's gate), its connections, fds the program adds
 * (l4u_server_watch(): a signalfd, a timer), and many gates -- the receive
 * fds of the objects served. Messages are dispatched by label to handlers;
 * each reply goes out together with the receive of the next message on the
 * same gate (reply-and-wait on a non-blocking gate); L4_LABEL_NO_SENDERS
 * goes to the no_senders callback.
 *
 * Single-threaded: handlers run in the thread that called l4u_server_run().
 * The server neither touches signals nor prints: l4u_server_stop() ends the
 * loop, from a signal handler or another thread too.
 */
#ifndef L4U_SERVER_H
#define L4U_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <linux/l4.h>

#ifdef __cplusplus
extern "C" {
#endif

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

/* The largest bootstrap request or response, in bytes. */
#define L4U_SERVER_MSG_MAX	256

struct l4u_server_ops {
	/*
	 * The bootstrap protocol: a request is req_size bytes (1 ..
	 * L4U_SERVER_MSG_MAX, with at most one fd attached), a response
	 * resp_size bytes (4 .. L4U_SERVER_MSG_MAX) starting with an int32_t
	 * error: 0, or a positive errno (see open).
	 */
	size_t req_size;
	size_t resp_size;
	/*
	 * A request on the bootstrap socket (@fd: the fd that came with it,
	 * or -1; the callee owns it). @req and @resp are aligned for any
	 * struct. Fill @resp (zeroed) and return the gate of the new object
	 * in *@gate (from l4u_server_gate_add()): the server sends @resp with
	 * a send capability of it and keeps nothing. Or return -errno: the
	 * client gets resp_size zero bytes but the error, and no capability.
	 */
	int (*open)(struct l4u_server *srv, const void *req, int fd, void *resp,
		    struct l4u_server_gate **gate);
	/* The last send capability of @obj's gate was closed. May remove it. */
	void (*no_senders)(struct l4u_server *srv, void *obj);
	/* Labels without a handler (NULL: -ENOSYS). */
	l4u_server_fn fallback;
};

/*
 * A server listening on @sock_name (a path, replaced if it exists, or
 * "@name" for an abstract Unix socket; NULL: no bootstrap socket, gates
 * only). @priv: see l4u_server_priv(). The server opens /dev/l4 itself.
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
 * Called when @fd, added with l4u_server_watch(), is readable: consume what
 * is there (the fd is level-triggered) and return 0, or -errno to make
 * l4u_server_run() return that.
 */
typedef int (*l4u_server_fd_fn)(struct l4u_server *srv, int fd, void *arg);

/* Watch @fd (the caller's; it stays open) from the loop. */
int l4u_server_watch(struct l4u_server *srv, int fd, l4u_server_fd_fn fn,
		     void *arg);
/* Stop watching @fd (-ENOENT: not watched). */
int l4u_server_unwatch(struct l4u_server *srv, int fd);

/*
 * Serve until l4u_server_stop(): returns 0 then, -errno on failure (or a
 * watch callback's). A stop that came while no run was going ends the
 * next run at once.
 */
int l4u_server_run(struct l4u_server *srv);
/*
 * End l4u_server_run() after the message or event at hand. Safe from any
 * thread and from a signal handler (it writes an eventfd).
 */
void l4u_server_stop(struct l4u_server *srv);

#ifdef __cplusplus
}
#endif

#endif /* L4U_SERVER_H */
