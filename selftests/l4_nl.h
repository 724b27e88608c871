/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A minimal generic-netlink client for the selftests (raw sockets, no
 * libnl): resolve family "l4", send one request, read the answer into
 * flat records of the l4 attributes.
 */
#ifndef L4_NL_H
#define L4_NL_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>

#include <linux/l4_netlink.h>

#define L4NL_BUF	(64 * 1024)

/* One message: every l4 attribute as a number; present: a bit per attr. */
struct l4nl_rec {
	__u64 v[L4_A_MAX + 1];
	__u64 present;
	__u16 nlflags;
	__u8 cmd;
};

#define L4NL_HAS(r, a)	(!!((r)->present & (1ULL << (a))))

struct l4nl {
	int fd;
	__u16 family;
	__u32 events_group;
	__u32 seq;
};

/* Attributes of a request under construction. */
struct l4nl_req {
	struct nlmsghdr nlh;
	struct genlmsghdr genl;
	char attrs[256];
};

static inline void l4nl_put(struct l4nl_req *req, __u16 type, const void *data,
			    __u16 len)
{
	struct nlattr *nla = (struct nlattr *)((char *)req + NLMSG_ALIGN(req->nlh.nlmsg_len));

	nla->nla_type = type;
	nla->nla_len = NLA_HDRLEN + len;
	memcpy((char *)nla + NLA_HDRLEN, data, len);
	req->nlh.nlmsg_len = NLMSG_ALIGN(req->nlh.nlmsg_len) + NLA_ALIGN(nla->nla_len);
}

static inline void l4nl_put_u64(struct l4nl_req *req, __u16 type, __u64 v)
{
	l4nl_put(req, type, &v, sizeof(v));
}

static inline void l4nl_init(struct l4nl_req *req, __u16 family, __u8 cmd,
			     __u16 flags)
{
	memset(req, 0, sizeof(*req));
	req->nlh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	req->nlh.nlmsg_type = family;
	req->nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	req->genl.cmd = cmd;
	req->genl.version = L4_GENL_VERSION;
}

static inline int l4nl_send(struct l4nl *nl, struct l4nl_req *req)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

	req->nlh.nlmsg_seq = ++nl->seq;
	if (sendto(nl->fd, req, req->nlh.nlmsg_len, 0, (struct sockaddr *)&sa,
		   sizeof(sa)) != (ssize_t)req->nlh.nlmsg_len)
		return -errno;
	return 0;
}

static inline void l4nl_parse(const struct nlmsghdr *nlh, struct l4nl_rec *rec)
{
	const struct genlmsghdr *g = NLMSG_DATA(nlh);
	const struct nlattr *nla = (const void *)((const char *)g + GENL_HDRLEN);
	int rem = nlh->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);

	memset(rec, 0, sizeof(*rec));
	rec->nlflags = nlh->nlmsg_flags;
	rec->cmd = g->cmd;
	while (rem >= NLA_HDRLEN && nla->nla_len >= NLA_HDRLEN &&
	       nla->nla_len <= rem) {
		int type = nla->nla_type & NLA_TYPE_MASK;
		int len = nla->nla_len - NLA_HDRLEN;
		const void *d = (const char *)nla + NLA_HDRLEN;
		__u64 v = 0;

		if (len == 1)
			v = *(const __u8 *)d;
		else if (len == 2)
			v = *(const __u16 *)d;
		else if (len == 4)
			v = *(const __u32 *)d;
		else if (len == 8)
			memcpy(&v, d, 8);
		if (type <= L4_A_MAX) {
			rec->v[type] = v;
			rec->present |= 1ULL << type;
		}
		rem -= NLA_ALIGN(nla->nla_len);
		nla = (const void *)((const char *)nla + NLA_ALIGN(nla->nla_len));
	}
}

/*
 * Read the answer to the last request: each data message goes to @fn
 * (which may be NULL); returns 0, or -errno from the kernel's error
 * message. *@intr (if given) tells whether any message, the final DONE
 * included, carried NLM_F_DUMP_INTR.
 */
static inline int l4nl_recv(struct l4nl *nl,
			    void (*fn)(const struct l4nl_rec *, void *),
			    void *arg, bool *intr)
{
	static char buf[L4NL_BUF];
	struct l4nl_rec rec;

	if (intr)
		*intr = false;
	for (;;) {
		ssize_t n = recv(nl->fd, buf, sizeof(buf), 0);
		struct nlmsghdr *nlh;

		if (n < 0)
			return -errno;
		for (nlh = (void *)buf; NLMSG_OK(nlh, n); nlh = NLMSG_NEXT(nlh, n)) {
			if (nlh->nlmsg_seq != nl->seq)
				continue;
			if (intr && (nlh->nlmsg_flags & NLM_F_DUMP_INTR))
				*intr = true;
			/* a dump's DONE carries its error (0: complete) */
			if (nlh->nlmsg_type == NLMSG_DONE)
				return nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(int)) ?
				       *(int *)NLMSG_DATA(nlh) : 0;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(nlh);

				return e->error;	/* 0: the ACK */
			}
			if (nlh->nlmsg_type == nl->family && fn) {
				l4nl_parse(nlh, &rec);
				fn(&rec, arg);
			}
		}
	}
}

/* A request with at most one u64 attribute (0: none), and its answer. */
static inline int l4nl_call(struct l4nl *nl, __u8 cmd, __u16 flags, __u16 attr,
			    __u64 val, void (*fn)(const struct l4nl_rec *, void *),
			    void *arg, bool *intr)
{
	struct l4nl_req req;
	int err;

	l4nl_init(&req, nl->family, cmd, flags);
	if (attr)
		l4nl_put_u64(&req, attr, val);
	err = l4nl_send(nl, &req);
	return err ? err : l4nl_recv(nl, fn, arg, intr);
}

/* Family id and events group from the generic-netlink controller. */
static inline void l4nl_ctrl_rec(const struct nlmsghdr *nlh, struct l4nl *nl)
{
	const struct nlattr *nla = (const void *)((const char *)NLMSG_DATA(nlh) + GENL_HDRLEN);
	int rem = nlh->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);

	for (; rem >= NLA_HDRLEN && nla->nla_len >= NLA_HDRLEN && nla->nla_len <= rem;
	     rem -= NLA_ALIGN(nla->nla_len),
	     nla = (const void *)((const char *)nla + NLA_ALIGN(nla->nla_len))) {
		const struct nlattr *grp, *a;
		int grem, arem;

		if (nla->nla_type == CTRL_ATTR_FAMILY_ID)
			nl->family = *(const __u16 *)((const char *)nla + NLA_HDRLEN);
		if ((nla->nla_type & NLA_TYPE_MASK) != CTRL_ATTR_MCAST_GROUPS)
			continue;
		grp = (const void *)((const char *)nla + NLA_HDRLEN);
		for (grem = nla->nla_len - NLA_HDRLEN;
		     grem >= NLA_HDRLEN && grp->nla_len >= NLA_HDRLEN && grp->nla_len <= grem;
		     grem -= NLA_ALIGN(grp->nla_len),
		     grp = (const void *)((const char *)grp + NLA_ALIGN(grp->nla_len))) {
			__u32 id = 0;
			bool ours = false;

			a = (const void *)((const char *)grp + NLA_HDRLEN);
			for (arem = grp->nla_len - NLA_HDRLEN;
			     arem >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= arem;
			     arem -= NLA_ALIGN(a->nla_len),
			     a = (const void *)((const char *)a + NLA_ALIGN(a->nla_len))) {
				const char *d = (const char *)a + NLA_HDRLEN;

				if (a->nla_type == CTRL_ATTR_MCAST_GRP_ID)
					id = *(const __u32 *)d;
				if (a->nla_type == CTRL_ATTR_MCAST_GRP_NAME &&
				    !strcmp(d, L4_GENL_MCGRP_EVENTS))
					ours = true;
			}
			if (ours)
				nl->events_group = id;
		}
	}
}

/* Open a socket and resolve the family: 0, or -errno (-ENOENT: no module). */
static inline int l4nl_open(struct l4nl *nl)
{
	static char buf[8192];
	struct l4nl_req req;
	struct nlmsghdr *nlh;
	ssize_t n;
	int err;

	memset(nl, 0, sizeof(*nl));
	nl->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (nl->fd < 0)
		return -errno;
	l4nl_init(&req, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0);
	req.genl.version = 2;
	l4nl_put(&req, CTRL_ATTR_FAMILY_NAME, L4_GENL_NAME, sizeof(L4_GENL_NAME));
	err = l4nl_send(nl, &req);
	while (!err) {
		n = recv(nl->fd, buf, sizeof(buf), 0);
		if (n < 0) {
			err = -errno;
			break;
		}
		for (nlh = (void *)buf; NLMSG_OK(nlh, n); nlh = NLMSG_NEXT(nlh, n)) {
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				err = ((struct nlmsgerr *)NLMSG_DATA(nlh))->error;
				if (!err)
					return nl->family ? 0 : -ENOENT;
				break;
			}
			if (nlh->nlmsg_type == GENL_ID_CTRL)
				l4nl_ctrl_rec(nlh, nl);
		}
	}
	close(nl->fd);
	nl->fd = -1;
	return err;
}

static inline int l4nl_join_events(struct l4nl *nl)
{
	int grp = nl->events_group;

	if (setsockopt(nl->fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &grp,
		       sizeof(grp)))
		return -errno;
	return 0;
}

static inline void l4nl_close(struct l4nl *nl)
{
	if (nl->fd >= 0)
		close(nl->fd);
	nl->fd = -1;
}

#endif /* L4_NL_H */
