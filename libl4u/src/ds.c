// SPDX-License-Identifier: MIT
/*
 * Dataspaces, client side: opening one at a manager (a Unix socket),
 * capabilities over Unix sockets, the operations as gate calls, and a
 * manager's counters.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "l4u/l4u.h"
#include "l4u/dataspace.h"

int l4u_cap_send(int sock, int fd, const void *data, size_t len)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;
	ssize_t n;

	if (fd >= 0) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : (int)n;
}

int l4u_cap_recv(int sock, int *fd, void *data, size_t len)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = data, .iov_len = len };
	struct msghdr mh = {
		.msg_iov	= &iov,
		.msg_iovlen	= 1,
		.msg_control	= u.buf,
		.msg_controllen	= sizeof(u.buf),
	};
	struct cmsghdr *c;
	ssize_t n;

	*fd = -1;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len >= CMSG_LEN(sizeof(int))) {
			int extra, i;

			memcpy(fd, CMSG_DATA(c), sizeof(int));
			/* more than one fd: keep the first, close the rest */
			extra = (c->cmsg_len - CMSG_LEN(sizeof(int))) / sizeof(int);
			for (i = 1; i <= extra; i++) {
				int other;

				memcpy(&other, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
				close(other);
			}
		}
	}
	if (mh.msg_flags & MSG_CTRUNC) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		return -EMSGSIZE;
	}
	return (int)n;
}

/* Connect to a manager's socket: a path, or "@name" (abstract). */
static int l4u_dsm_connect(const char *dsm)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n = strlen(dsm);
	socklen_t len;
	int s;

	if (!n || n >= sizeof(sa.sun_path))
		return -EINVAL;
	memcpy(sa.sun_path, dsm, n);
	if (dsm[0] == '@') {
		sa.sun_path[0] = '\0';
		len = offsetof(struct sockaddr_un, sun_path) + n;
	} else {
		len = sizeof(sa);
	}
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	if (connect(s, (struct sockaddr *)&sa, len)) {
		int err = -errno;

		close(s);
		return err;
	}
	return s;
}

int l4u_dsm_ping(const char *dsm)
{
	int s;

	if (!dsm)
		return -EINVAL;
	s = l4u_dsm_connect(dsm);
	if (s < 0)
		return s;
	close(s);
	return 0;
}

static int l4u_dsm_open(const char *dsm, const struct l4u_dsm_req *req,
			int file_fd, struct l4u_ds *ds)
{
	struct l4u_dsm_resp resp;
	int s, n, cap;

	if (!dsm || !ds)
		return -EINVAL;
	s = l4u_dsm_connect(dsm);
	if (s < 0)
		return s;
	n = l4u_cap_send(s, file_fd, req, sizeof(*req));
	if (n >= 0 && n != (int)sizeof(*req))
		n = -EPROTO;
	if (n >= 0)
		n = l4u_cap_recv(s, &cap, &resp, sizeof(resp));
	close(s);
	if (n < 0)
		return n;
	if (n != (int)sizeof(resp) || (resp.error == 0) != (cap >= 0)) {
		if (cap >= 0)
			close(cap);
		return -EPROTO;
	}
	if (resp.error)
		return -resp.error;
	*ds = (struct l4u_ds){
		.cap	= cap,
		.flags	= resp.flags,
		.size	= resp.size,
		.id	= resp.id,
	};
	return 0;
}

int l4u_ds_open_anon(const char *dsm, uint64_t size, uint32_t flags,
		     struct l4u_ds *ds)
{
	struct l4u_dsm_req req = {
		.op	= L4U_DSM_OPEN_ANON,
		.flags	= flags,
		.size	= size,
	};

	if (flags & ~L4U_DS_FLAGS_KNOWN)
		return -EINVAL;
	return l4u_dsm_open(dsm, &req, -1, ds);
}

int l4u_ds_open_file(const char *dsm, int file_fd, uint64_t size,
		     uint32_t flags, struct l4u_ds *ds)
{
	struct l4u_dsm_req req = {
		.op	= L4U_DSM_OPEN_FILE,
		.flags	= flags,
		.size	= size,
	};

	if (file_fd < 0 || (flags & ~L4U_DS_FLAGS_KNOWN))
		return -EINVAL;
	return l4u_dsm_open(dsm, &req, file_fd, ds);
}

/* One operation on a dataspace: label, up to four words in, three out. */
static int l4u_ds_op(int cap, int64_t label, const uint64_t *in, unsigned int nin,
		     int rcv_space, uint64_t rcv_window, uint64_t *out,
		     uint64_t *pages)
{
	struct l4_call c = {
		.label		= label,
		.nwords		= nin,
		.rcv_space_fd	= rcv_space,
		.rcv_window	= rcv_window,
	};
	int ret;

	if (nin)
		memcpy(c.words, in, nin * sizeof(*in));
	ret = l4u_call(cap, &c);
	if (ret)
		return ret;
	if (out)
		memcpy(out, c.words, 3 * sizeof(*out));
	if (pages)
		*pages = c.pages;
	return 0;
}

int l4u_ds_info(struct l4u_ds *ds)
{
	uint64_t out[3];
	int ret;

	ret = l4u_ds_op(ds->cap, L4U_DS_INFO, NULL, 0, -1, 0, out, NULL);
	if (ret)
		return ret;
	ds->size = out[0];
	ds->flags = (uint32_t)out[1];
	ds->id = out[2];
	return 0;
}

int l4u_ds_from_cap(int cap, struct l4u_ds *ds)
{
	struct l4u_ds d = { .cap = cap };
	int ret = l4u_ds_info(&d);

	if (!ret)
		*ds = d;
	return ret;
}

int l4u_ds_close(struct l4u_ds *ds)
{
	int ret = 0;

	if (ds->cap >= 0 && close(ds->cap))
		ret = -errno;
	ds->cap = -1;
	return ret;
}

int l4u_ds_map(const struct l4u_ds *ds, uint64_t offset, uint64_t hot_spot,
	       unsigned int rights, int rcv_space, uint64_t rcv_window,
	       uint64_t *pages)
{
	const uint64_t in[3] = { offset, hot_spot, rights };

	return l4u_ds_op(ds->cap, L4U_DS_MAP, in, 3, rcv_space, rcv_window,
			 NULL, pages);
}

int l4u_ds_clear(const struct l4u_ds *ds, uint64_t offset, uint64_t size)
{
	const uint64_t in[2] = { offset, size };

	return l4u_ds_op(ds->cap, L4U_DS_CLEAR, in, 2, -1, 0, NULL, NULL);
}

int l4u_ds_copy_in(const struct l4u_ds *dst, uint64_t dst_offset,
		   const struct l4u_ds *src, uint64_t src_offset, uint64_t size)
{
	const uint64_t in[4] = { dst_offset, src->id, src_offset, size };

	return l4u_ds_op(dst->cap, L4U_DS_COPY_IN, in, 4, -1, 0, NULL, NULL);
}

int l4u_ds_sync(const struct l4u_ds *ds, uint64_t offset, uint64_t size)
{
	const uint64_t in[2] = { offset, size };

	return l4u_ds_op(ds->cap, L4U_DS_SYNC, in, 2, -1, 0, NULL, NULL);
}

int l4u_ds_allocate(const struct l4u_ds *ds, uint64_t offset, uint64_t size)
{
	const uint64_t in[2] = { offset, size };

	return l4u_ds_op(ds->cap, L4U_DS_ALLOCATE, in, 2, -1, 0, NULL, NULL);
}

int l4u_dsm_stats(const struct l4u_ds *ds, struct l4u_dsm_stats *st)
{
	struct l4_call c = { .label = L4U_DSM_STATS, .rcv_space_fd = -1 };
	int ret = l4u_call(ds->cap, &c);

	if (ret)
		return ret;
	*st = (struct l4u_dsm_stats){
		.dataspaces	= c.words[0],
		.frames_used	= c.words[1],
		.frames_total	= c.words[2],
		.pages_read	= c.words[3],
		.pages_written	= c.words[4],
		.requests	= c.words[5],
	};
	return 0;
}

int l4u_dsm_swap_stats(const struct l4u_ds *ds, struct l4u_dsm_swap_stats *st)
{
	struct l4_call c = { .label = L4U_DSM_SWAP_STATS, .rcv_space_fd = -1 };
	int ret = l4u_call(ds->cap, &c);

	if (ret)
		return ret;
	*st = (struct l4u_dsm_swap_stats){
		.maps		= c.words[0],
		.faults		= c.words[1],
		.hits		= c.words[2],
		.evictions	= c.words[3],
		.swap_ins	= c.words[4],
		.swap_outs	= c.words[5],
		.pinned		= c.words[6],
		.swap_used	= c.words[7],
	};
	if (st->hits + st->faults)
		st->hit_ratio = (double)st->hits / (double)(st->hits + st->faults);
	return 0;
}
