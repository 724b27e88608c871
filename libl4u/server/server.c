// SPDX-License-Identifier: MIT
/*
 * The server loop: one epoll over the bootstrap socket, its connections,
 * an eventfd that l4u_server_stop() writes, the fds the program watches
 * and the gates of the objects served.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "l4u/l4u.h"
#include "l4u/dataspace.h"
#include "l4u/server.h"

enum { SRV_LISTEN, SRV_CONN, SRV_WAKE, SRV_WATCH, SRV_GATE };

/* Everything in the epoll set starts with its kind. */
struct srv_item {
	int kind;
	int fd;
	int dead;			/* removed; freed at the end of the round */
	struct srv_item *next;		/* on its list: connections, watches, zombies */
};

struct l4u_server_gate {
	struct srv_item item;		/* SRV_GATE, the receive fd */
	void *obj;
	struct l4u_server_gate *next;	/* on the server's list */
};

struct srv_watch {
	struct srv_item item;		/* SRV_WATCH, the caller's fd */
	l4u_server_fd_fn fn;
	void *arg;
};

struct srv_handler {
	int64_t label;
	l4u_server_fn fn;
};

struct l4u_server {
	const struct l4u_server_ops *ops;
	void *priv;
	int dev, epfd;
	struct srv_item listen, wake;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)]; /* to unlink */
	struct srv_handler *handlers;
	unsigned int nhandlers;
	struct l4u_server_gate *gates;
	struct srv_item *conns;		/* open bootstrap connections */
	struct srv_item *watches;
	struct srv_item *zombies;	/* removed gates and watches */
	int stop;			/* atomic: l4u_server_stop() was called */
	int send_caps;			/* the kernel has send capabilities */
};

/* Messages served from one gate before the others get their turn. */
#define SRV_BATCH	16

static int srv_epoll_add(struct l4u_server *srv, struct srv_item *it)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = it };

	return epoll_ctl(srv->epfd, EPOLL_CTL_ADD, it->fd, &ev) ? -errno : 0;
}

static int srv_listen(struct l4u_server *srv, const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n = strlen(name);
	socklen_t len;
	int s;

	if (!n || n >= sizeof(sa.sun_path))
		return -EINVAL;
	memcpy(sa.sun_path, name, n);
	if (name[0] == '@') {
		sa.sun_path[0] = '\0';
		len = offsetof(struct sockaddr_un, sun_path) + n;
	} else {
		len = sizeof(sa);
		unlink(name);
		memcpy(srv->path, name, n + 1);
	}
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s < 0)
		return -errno;
	if (bind(s, (struct sockaddr *)&sa, len) || listen(s, 64)) {
		int err = -errno;

		close(s);
		srv->path[0] = '\0';
		return err;
	}
	return s;
}

/* The bootstrap protocol's sizes and hook (with a socket). */
static int srv_protocol_ok(const struct l4u_server_ops *ops)
{
	return ops->open && ops->req_size && ops->req_size <= L4U_SERVER_MSG_MAX &&
	       ops->resp_size >= sizeof(int32_t) &&
	       ops->resp_size <= L4U_SERVER_MSG_MAX;
}

int l4u_server_create(const char *sock_name, const struct l4u_server_ops *ops,
		      void *priv, struct l4u_server **srvp)
{
	struct l4u_server *srv;
	struct l4_version v;
	int ret;

	if (!ops || !srvp || (sock_name && !srv_protocol_ok(ops)))
		return -EINVAL;
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	srv->ops = ops;
	srv->priv = priv;
	srv->listen = (struct srv_item){ .kind = SRV_LISTEN, .fd = -1 };
	srv->wake = (struct srv_item){ .kind = SRV_WAKE, .fd = -1 };
	srv->epfd = -1;
	srv->dev = l4u_open();
	if (srv->dev < 0) {
		ret = srv->dev;
		free(srv);
		return ret;
	}
	if (!l4u_version(srv->dev, &v) && (v.features & L4_FEAT_SEND_CAP)) {
		/* a module may announce the feature before it has it: try */
		int g = l4u_gate_create(srv->dev), cap = g < 0 ? g : l4u_gate_send_cap(g);

		srv->send_caps = cap >= 0;
		if (cap >= 0)
			close(cap);
		if (g >= 0)
			close(g);
	}
	srv->epfd = epoll_create1(EPOLL_CLOEXEC);
	srv->wake.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (srv->epfd < 0 || srv->wake.fd < 0) {
		ret = -errno;
		goto fail;
	}
	ret = srv_epoll_add(srv, &srv->wake);
	if (ret)
		goto fail;
	if (sock_name) {
		ret = srv_listen(srv, sock_name);
		if (ret < 0)
			goto fail;
		srv->listen.fd = ret;
		ret = srv_epoll_add(srv, &srv->listen);
		if (ret)
			goto fail;
	}
	*srvp = srv;
	return 0;
fail:
	l4u_server_destroy(srv);
	return ret;
}

/* Removed gates and watches: events of this round may still point at them. */
static void srv_bury(struct l4u_server *srv, struct srv_item *it)
{
	epoll_ctl(srv->epfd, EPOLL_CTL_DEL, it->fd, NULL);
	it->dead = 1;
	it->next = srv->zombies;
	srv->zombies = it;
}

static void srv_free_zombies(struct l4u_server *srv)
{
	while (srv->zombies) {
		struct srv_item *it = srv->zombies;

		srv->zombies = it->next;
		free(it);	/* the item is the first member */
	}
}

void l4u_server_destroy(struct l4u_server *srv)
{
	if (!srv)
		return;
	while (srv->gates)
		l4u_server_gate_remove(srv, srv->gates);
	while (srv->watches)
		l4u_server_unwatch(srv, srv->watches->fd);
	srv_free_zombies(srv);
	while (srv->conns) {
		struct srv_item *c = srv->conns;

		srv->conns = c->next;
		close(c->fd);
		free(c);
	}
	if (srv->listen.fd >= 0)
		close(srv->listen.fd);
	if (srv->path[0])
		unlink(srv->path);
	if (srv->wake.fd >= 0)
		close(srv->wake.fd);
	if (srv->epfd >= 0)
		close(srv->epfd);
	if (srv->dev >= 0)
		close(srv->dev);
	free(srv->handlers);
	free(srv);
}

void *l4u_server_priv(struct l4u_server *srv)
{
	return srv->priv;
}

int l4u_server_dev(struct l4u_server *srv)
{
	return srv->dev;
}

int l4u_server_on(struct l4u_server *srv, int64_t label, l4u_server_fn fn)
{
	struct srv_handler *h;
	unsigned int i;

	for (i = 0; i < srv->nhandlers; i++) {
		if (srv->handlers[i].label == label) {
			srv->handlers[i].fn = fn;
			return 0;
		}
	}
	h = realloc(srv->handlers, (srv->nhandlers + 1) * sizeof(*h));
	if (!h)
		return -ENOMEM;
	h[srv->nhandlers++] = (struct srv_handler){ label, fn };
	srv->handlers = h;
	return 0;
}

int l4u_server_gate_add(struct l4u_server *srv, void *obj,
			struct l4u_server_gate **gatep)
{
	struct l4u_server_gate *g;
	int fd, ret;

	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	fd = l4u_gate_create(srv->dev);
	if (fd < 0) {
		free(g);
		return fd;
	}
	/* a ready gate is drained with non-blocking receives */
	if (fcntl(fd, F_SETFL, O_NONBLOCK)) {
		ret = -errno;
		goto fail;
	}
	g->item = (struct srv_item){ .kind = SRV_GATE, .fd = fd };
	g->obj = obj;
	ret = srv_epoll_add(srv, &g->item);
	if (ret)
		goto fail;
	g->next = srv->gates;
	srv->gates = g;
	*gatep = g;
	return 0;
fail:
	close(fd);
	free(g);
	return ret;
}

int l4u_server_gate_cap(struct l4u_server *srv, struct l4u_server_gate *g)
{
	int fd;

	if (srv->send_caps)
		return l4u_gate_send_cap(g->item.fd);
	fd = fcntl(g->item.fd, F_DUPFD_CLOEXEC, 0);
	return fd < 0 ? -errno : fd;
}

int l4u_server_send_caps(struct l4u_server *srv)
{
	return srv->send_caps;
}

void l4u_server_gate_remove(struct l4u_server *srv, struct l4u_server_gate *g)
{
	struct l4u_server_gate **pp;

	if (g->item.dead)
		return;
	for (pp = &srv->gates; *pp; pp = &(*pp)->next) {
		if (*pp == g) {
			*pp = g->next;
			break;
		}
	}
	srv_bury(srv, &g->item);
	close(g->item.fd);
	g->item.fd = -1;
}

/* ---- other fds, stopping ------------------------------------------------- */

int l4u_server_watch(struct l4u_server *srv, int fd, l4u_server_fd_fn fn,
		     void *arg)
{
	struct srv_watch *w;
	int ret;

	if (!srv || fd < 0 || !fn)
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->item = (struct srv_item){ .kind = SRV_WATCH, .fd = fd };
	w->fn = fn;
	w->arg = arg;
	ret = srv_epoll_add(srv, &w->item);
	if (ret) {
		free(w);
		return ret;
	}
	w->item.next = srv->watches;
	srv->watches = &w->item;
	return 0;
}

int l4u_server_unwatch(struct l4u_server *srv, int fd)
{
	struct srv_item **pp, *it;

	for (pp = &srv->watches; *pp; pp = &(*pp)->next) {
		it = *pp;
		if (it->fd == fd) {
			*pp = it->next;
			srv_bury(srv, it);
			return 0;
		}
	}
	return -ENOENT;
}

/*
 * The stop flag is what counts; the eventfd only wakes the loop. Both are
 * async-signal-safe, and errno is kept for an interrupted caller.
 */
void l4u_server_stop(struct l4u_server *srv)
{
	uint64_t one = 1;
	int saved = errno;
	ssize_t n;

	__atomic_store_n(&srv->stop, 1, __ATOMIC_SEQ_CST);
	n = write(srv->wake.fd, &one, sizeof(one));	/* fails only when full */
	(void)n;
	errno = saved;
}

static int srv_stopping(struct l4u_server *srv)
{
	return __atomic_load_n(&srv->stop, __ATOMIC_SEQ_CST);
}

static void srv_wake_drain(struct l4u_server *srv)
{
	uint64_t count;
	ssize_t n;

	n = read(srv->wake.fd, &count, sizeof(count));	/* EAGAIN: taken already */
	(void)n;
}

/* ---- the bootstrap socket ---------------------------------------------- */

static void srv_accept(struct l4u_server *srv)
{
	struct srv_item *it;
	int c;

	for (;;) {
		c = accept4(srv->listen.fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (c < 0)
			return;	/* EAGAIN, or a connection that went away */
		it = malloc(sizeof(*it));
		if (!it) {
			close(c);
			continue;
		}
		*it = (struct srv_item){ .kind = SRV_CONN, .fd = c, .next = srv->conns };
		if (srv_epoll_add(srv, it)) {
			close(c);
			free(it);
			continue;
		}
		srv->conns = it;
	}
}

static void srv_conn_close(struct l4u_server *srv, struct srv_item *it)
{
	struct srv_item **pp;

	for (pp = &srv->conns; *pp; pp = &(*pp)->next) {
		if (*pp == it) {
			*pp = it->next;
			break;
		}
	}
	epoll_ctl(srv->epfd, EPOLL_CTL_DEL, it->fd, NULL);
	close(it->fd);
	free(it);
}

/* The response to a refused request: zeros but the error. */
static void srv_refusal(void *resp, size_t len, int err)
{
	int32_t e = -err;

	memset(resp, 0, len);
	memcpy(resp, &e, sizeof(e));
}

/* One request on a connection; the connection stays for more. */
static void srv_request(struct l4u_server *srv, struct srv_item *it)
{
	const struct l4u_server_ops *ops = srv->ops;
	/* aligned for any struct a protocol sends */
	unsigned char req[L4U_SERVER_MSG_MAX] __attribute__((aligned(16)));
	unsigned char resp[L4U_SERVER_MSG_MAX] __attribute__((aligned(16)));
	struct l4u_server_gate *gate = NULL;
	int n, fd, cap = -1, ret;

	n = l4u_cap_recv(it->fd, &fd, req, ops->req_size);
	if (n == -EAGAIN)
		return;
	if (n != (int)ops->req_size) {
		/* end of stream, an error, or a torn request: hang up */
		if (fd >= 0)
			close(fd);
		srv_conn_close(srv, it);
		return;
	}
	memset(resp, 0, ops->resp_size);
	ret = ops->open(srv, req, fd, resp, &gate);
	if (!ret) {
		cap = l4u_server_gate_cap(srv, gate);
		if (cap < 0) {
			ret = cap;
			/* nobody ever held it: the object goes */
			if (ops->no_senders)
				ops->no_senders(srv, gate->obj);
		}
	}
	if (ret) {
		srv_refusal(resp, ops->resp_size, ret);
		cap = -1;
	}
	n = l4u_cap_send(it->fd, cap, resp, ops->resp_size);
	if (cap >= 0) {
		close(cap);	/* the client's copy (in flight) holds the gate */
		if (n != (int)ops->resp_size && !srv->send_caps && ops->no_senders)
			ops->no_senders(srv, gate->obj);	/* no NO_SENDERS will come */
	}
	if (n != (int)ops->resp_size)
		srv_conn_close(srv, it);
}

/* ---- gates --------------------------------------------------------------- */

static l4u_server_fn srv_handler(struct l4u_server *srv, int64_t label)
{
	unsigned int i;

	for (i = 0; i < srv->nhandlers; i++)
		if (srv->handlers[i].label == label)
			return srv->handlers[i].fn;
	return srv->ops->fallback;
}

/*
 * A reply the kernel refused (a handler's bug: EINVAL, EBADF) leaves the
 * message unanswered: fail the call with that error instead. True if so.
 */
static int srv_refused(struct l4u_server_gate *g, const struct l4_reply *r, int ret)
{
	struct l4_reply err = { .token = r->token, .error = -ret };

	if (!r->token || (ret != -EINVAL && ret != -EBADF))
		return 0;
	l4u_reply(g->item.fd, &err);
	return 1;
}

/*
 * Serve a ready gate: up to SRV_BATCH messages, each reply sent with the
 * receive of the next one (a non-blocking reply-and-wait).
 */
static int srv_gate(struct l4u_server *srv, struct l4u_server_gate *g)
{
	struct l4_reply_wait rw;
	unsigned int n;
	int ret;

	memset(&rw, 0, sizeof(rw));
	for (n = 0; ; n++) {
		if (g->item.dead)
			return 0;
		if (n == SRV_BATCH) {
			/* the others' turn: answer alone; epoll (level-
			 * triggered) brings us back if more are queued */
			if (rw.reply.token)
				srv_refused(g, &rw.reply, l4u_reply(g->item.fd, &rw.reply));
			return 0;
		}
		ret = l4u_reply_wait(g->item.fd, &rw);
		if (srv_refused(g, &rw.reply, ret)) {
			memset(&rw, 0, sizeof(rw));
			continue;
		}
		if (ret == -EAGAIN)
			return 0;
		if (ret && rw.reply.token) {
			/* answered although applying it failed (ENOMEM, EMLINK,
			 * EINTR: the caller sees fewer pages), or abandoned
			 * (ENOENT): go on receiving */
			memset(&rw, 0, sizeof(rw));
			continue;
		}
		if (ret)
			return 0;	/* nothing received: back to epoll */

		l4u_reply_init(&rw.reply, &rw.msg);
		if (rw.msg.label == L4_LABEL_NO_SENDERS) {
			rw.reply.token = 0;	/* nothing to answer */
			if (srv->ops->no_senders)
				srv->ops->no_senders(srv, g->obj);
			continue;
		}
		if (!rw.msg.token)
			continue;	/* a notification we do not know */
		l4u_server_fn fn = srv_handler(srv, rw.msg.label);

		ret = fn ? fn(srv, g->obj, &rw.msg, &rw.reply) : -ENOSYS;
		if (ret) {
			uint64_t token = rw.reply.token;

			rw.reply = (struct l4_reply){ .token = token, .error = -ret };
		}
	}
}

int l4u_server_run(struct l4u_server *srv)
{
	struct epoll_event ev[32];
	int ret = 0, n, i;

	while (!ret && !srv_stopping(srv)) {
		n = epoll_wait(srv->epfd, ev, 32, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		for (i = 0; i < n && !ret && !srv_stopping(srv); i++) {
			struct srv_item *it = ev[i].data.ptr;

			if (it->dead)
				continue;
			switch (it->kind) {
			case SRV_LISTEN:
				srv_accept(srv);
				break;
			case SRV_CONN:
				srv_request(srv, it);
				break;
			case SRV_WAKE:
				srv_wake_drain(srv);
				break;
			case SRV_WATCH: {
				struct srv_watch *w = (struct srv_watch *)it;

				ret = w->fn(srv, it->fd, w->arg);
				break;
			}
			case SRV_GATE:
				ret = srv_gate(srv, (struct l4u_server_gate *)it);
				break;
			}
		}
		srv_free_zombies(srv);
	}
	/* this stop is used up; one that comes later ends the next run */
	if (srv_stopping(srv))
		__atomic_store_n(&srv->stop, 0, __ATOMIC_SEQ_CST);
	return ret;
}
