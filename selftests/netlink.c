// SPDX-License-Identifier: GPL-2.0
/*
 * Introspection over generic netlink (family "l4"): statistics move by
 * exactly what scripted operations do; dumps of spaces, entries and trees
 * match what the test built; the event stream reports a scripted sequence
 * in order; an unprivileged subscriber gets exactly its own uid's events,
 * with a sequence of their own that shows what it lost; a second uid is
 * refused what it must not see; malformed
 * requests are refused; dumps of 100,000 entries complete; a tracepoint
 * fires through tracefs.
 */
#include "l4_test_util.h"
#include "l4_nl.h"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/utsname.h>

/* expected counts are plain int literals, compared with __u64 attributes */
#pragma GCC diagnostic ignored "-Wsign-compare"

L4T_FIXTURE(netlink);

#define PG		L4T_PAGE
#define R_		L4_FPAGE_R
#define RW		L4_FPAGE_RW
#define WHOLE		L4_FPAGE_WHOLE_SPACE
#define SIGMA0		L4_SPACE_SIGMA0
#define NOBODY		65534

/* Records of one answer, kept in order. */
struct recs {
	struct l4nl_rec *r;
	size_t n, cap;
};

static void recs_add(const struct l4nl_rec *rec, void *arg)
{
	struct recs *rs = arg;

	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? 2 * rs->cap : 16;
		rs->r = realloc(rs->r, rs->cap * sizeof(*rs->r));
		if (!rs->r)
			abort();
	}
	rs->r[rs->n++] = *rec;
}

static void recs_free(struct recs *rs)
{
	free(rs->r);
	memset(rs, 0, sizeof(*rs));
}

/* The record whose @attr is @val, or NULL. */
static const struct l4nl_rec *recs_find(const struct recs *rs, int attr, __u64 val)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		if (L4NL_HAS(&rs->r[i], attr) && rs->r[i].v[attr] == val)
			return &rs->r[i];
	return NULL;
}

static int nl_stats(struct l4nl *nl, struct l4nl_rec *st)
{
	struct recs rs = { 0 };
	int err = l4nl_call(nl, L4_CMD_STATS, 0, 0, 0, recs_add, &rs, NULL);

	if (!err && rs.n != 1)
		err = -EPROTO;
	if (!err)
		*st = rs.r[0];
	recs_free(&rs);
	return err;
}

static int nl_dump(struct l4nl *nl, __u8 cmd, __u16 attr, __u64 val,
		   struct recs *rs)
{
	memset(rs, 0, sizeof(*rs));
	return l4nl_call(nl, cmd, NLM_F_DUMP, attr, val, recs_add, rs, NULL);
}

static int map1(int dst, int src, __u64 from, __u64 to, __u64 rights, bool grant)
{
	struct l4_map m = {
		.src_fd		= src,
		.item.control	= L4_MAP_ITEM(to, grant),
		.item.fpage	= L4_FPAGE(from, 12, rights),
		.rcv_fpage	= WHOLE,
	};

	return ioctl(dst, L4_IOC_MAP, &m);
}

static int unmap1(int space, __u64 addr, __u64 rights, __u32 flags)
{
	struct l4_unmap u = { .fpage = L4_FPAGE(addr, 12, rights), .flags = flags };

	return ioctl(space, L4_IOC_UNMAP, &u);
}

#define NL_OPEN(nl) do {						\
	int e_ = l4nl_open(nl);						\
									\
	ASSERT_EQ(0, e_) TH_LOG("family l4: %s", strerror(-e_));	\
} while (0)

/* the l4 attribute @a of record @r moved by exactly @d */
#define ASSERT_DELTA(a, b, attr, d)					\
	ASSERT_EQ((__u64)(d), (b)->v[attr] - (a)->v[attr]) TH_LOG("attr %d", attr)

TEST_F(netlink, stats_move_exactly)
{
	struct l4nl_rec a, b;
	struct l4_stats st;
	struct l4nl nl;
	int sa, sb;
	char *wa;

	NL_OPEN(&nl);
	ASSERT_EQ(0, nl_stats(&nl, &a));
	ASSERT_EQ(0, l4t_stats(self->dev, &st));
	ASSERT_EQ(st.spaces, a.v[L4_A_ST_SPACES]);
	ASSERT_EQ(st.maps, a.v[L4_A_ST_MAPS]);

	sa = l4t_space_window(self->dev, 4, 0, SIGMA0, &wa);
	ASSERT_LE(0, sa);
	sb = l4t_create(self->dev, 4 * PG, 0, 0, NULL);
	ASSERT_LE(0, sb);
	wa[0] = 1;
	wa[PG] = 2;
	ASSERT_EQ(0, map1(sb, sa, 0, PG, R_, false));
	ASSERT_EQ(0, map1(sb, sa, PG, 2 * PG, RW, true));
	ASSERT_EQ(0, unmap1(sa, 0, R_, 0));	/* revokes B's copy */

	ASSERT_EQ(0, nl_stats(&nl, &b));
	ASSERT_DELTA(&a, &b, L4_A_ST_SPACES, 2);
	ASSERT_DELTA(&a, &b, L4_A_ST_FRAMES, 2);
	ASSERT_DELTA(&a, &b, L4_A_ST_NODES, 2);	/* A:0, B:0x2000 */
	ASSERT_DELTA(&a, &b, L4_A_ST_WINDOWS, 1);
	ASSERT_DELTA(&a, &b, L4_A_ST_KERNEL_FAULTS, 2);
	ASSERT_DELTA(&a, &b, L4_A_ST_MAPS, 1);
	ASSERT_DELTA(&a, &b, L4_A_ST_GRANTS, 1);
	ASSERT_DELTA(&a, &b, L4_A_ST_UNMAPS, 1);
	ASSERT_DELTA(&a, &b, L4_A_ST_REVOKED, 1);
	ASSERT_DELTA(&a, &b, L4_A_ST_PAGER_FAULTS, 0);
	ASSERT_DELTA(&a, &b, L4_A_ST_ERRORS, 0);

	ASSERT_EQ(0, munmap(wa, 4 * PG));
	ASSERT_EQ(0, close(sa));
	ASSERT_EQ(0, close(sb));
	ASSERT_EQ(0, nl_stats(&nl, &b));
	ASSERT_DELTA(&a, &b, L4_A_ST_SPACES, 0);
	ASSERT_DELTA(&a, &b, L4_A_ST_NODES, 0);
	l4nl_close(&nl);
}

TEST_F(netlink, spaces_dump_and_get)
{
	const struct l4nl_rec *r;
	__u64 ida, idb, idc;
	struct recs rs;
	struct l4nl nl;
	int sa, sb, sc;
	char *wa;

	NL_OPEN(&nl);
	sa = l4t_space_window_id(self->dev, 8, 0, SIGMA0, &ida, &wa);
	ASSERT_LE(0, sa);
	sb = l4t_create(self->dev, 16 * PG, 5, 0, &idb);
	ASSERT_LE(0, sb);
	sc = l4t_create(self->dev, 1 << 20, 0, SIGMA0, &idc);
	ASSERT_LE(0, sc);
	wa[0] = wa[3 * PG] = wa[7 * PG] = 1;
	ASSERT_EQ(0, map1(sb, sa, 3 * PG, 0, RW, false));

	ASSERT_EQ(0, nl_dump(&nl, L4_CMD_SPACES, 0, 0, &rs));
	r = recs_find(&rs, L4_A_SPACE_ID, ida);
	ASSERT_NE(NULL, r);
	ASSERT_EQ(L4_CMD_SPACES, r->cmd);
	ASSERT_EQ(8 * PG, r->v[L4_A_SPACE_SIZE]);
	ASSERT_EQ(0, r->v[L4_A_SPACE_UID]);
	ASSERT_EQ((__u64)getpid(), r->v[L4_A_SPACE_PID]);
	ASSERT_EQ(3, r->v[L4_A_SPACE_FRAMES]);
	ASSERT_EQ(3, r->v[L4_A_SPACE_NODES]);
	ASSERT_EQ(1, r->v[L4_A_SPACE_WINDOWS]);
	ASSERT_EQ(SIGMA0, r->v[L4_A_SPACE_FLAGS]);
	ASSERT_EQ(0, r->v[L4_A_SPACE_PAGER]);
	r = recs_find(&rs, L4_A_SPACE_ID, idb);
	ASSERT_NE(NULL, r);
	ASSERT_EQ(16 * PG, r->v[L4_A_SPACE_SIZE]);
	ASSERT_EQ(0, r->v[L4_A_SPACE_FRAMES]);
	ASSERT_EQ(1, r->v[L4_A_SPACE_NODES]);
	ASSERT_EQ(0, r->v[L4_A_SPACE_WINDOWS]);
	ASSERT_EQ(5, r->v[L4_A_SPACE_MAX_FRAMES]);
	r = recs_find(&rs, L4_A_SPACE_ID, idc);
	ASSERT_NE(NULL, r);
	ASSERT_EQ(1 << 20, r->v[L4_A_SPACE_SIZE]);
	/* in id order, every message a multi-part one */
	for (size_t i = 1; i < rs.n; i++)
		ASSERT_LT(rs.r[i - 1].v[L4_A_SPACE_ID], rs.r[i].v[L4_A_SPACE_ID]);
	for (size_t i = 0; i < rs.n; i++)
		ASSERT_TRUE(rs.r[i].nlflags & NLM_F_MULTI);
	recs_free(&rs);

	/* one by id */
	memset(&rs, 0, sizeof(rs));
	ASSERT_EQ(0, l4nl_call(&nl, L4_CMD_SPACES, 0, L4_A_SPACE_ID, idb,
			       recs_add, &rs, NULL));
	ASSERT_EQ(1, rs.n);
	ASSERT_EQ(idb, rs.r[0].v[L4_A_SPACE_ID]);
	ASSERT_EQ(1, rs.r[0].v[L4_A_SPACE_NODES]);
	recs_free(&rs);

	ASSERT_EQ(0, close(sc));
	ASSERT_EQ(-ENOENT, l4nl_call(&nl, L4_CMD_SPACES, 0, L4_A_SPACE_ID, idc,
				     NULL, NULL, NULL));
	ASSERT_EQ(-ENOENT, nl_dump(&nl, L4_CMD_ENTRIES, L4_A_SPACE_ID, idc, &rs));
	ASSERT_EQ(0, munmap(wa, 8 * PG));
	ASSERT_EQ(0, close(sa));
	ASSERT_EQ(0, close(sb));
	l4nl_close(&nl);
}

#define ASSERT_NODE(r, space, addr, rights, depth, pspace, paddr) do {	\
	ASSERT_EQ((__u64)(space), (r)->v[L4_A_SPACE_ID]);		\
	ASSERT_EQ((__u64)(addr), (r)->v[L4_A_E_ADDR]);			\
	ASSERT_EQ((__u64)(rights), (r)->v[L4_A_E_RIGHTS]);		\
	ASSERT_EQ((__u64)(depth), (r)->v[L4_A_E_DEPTH]);		\
	ASSERT_EQ(!!(depth), L4NL_HAS((r), L4_A_E_PARENT_SPACE));	\
	ASSERT_EQ((__u64)(pspace), (r)->v[L4_A_E_PARENT_SPACE]);	\
	ASSERT_EQ((__u64)(paddr), (r)->v[L4_A_E_PARENT_ADDR]);		\
} while (0)

TEST_F(netlink, entries_and_tree)
{
	__u64 ida, idb, idc, frame0, frame2;
	struct recs rs;
	struct l4nl nl;
	int sa, sb, sc;
	char *wa;

	NL_OPEN(&nl);
	sa = l4t_space_window_id(self->dev, 4, 0, SIGMA0, &ida, &wa);
	ASSERT_LE(0, sa);
	sb = l4t_create(self->dev, 8 * PG, 0, 0, &idb);
	ASSERT_LE(0, sb);
	sc = l4t_create(self->dev, 8 * PG, 0, 0, &idc);
	ASSERT_LE(0, sc);
	wa[0] = wa[2 * PG] = 1;
	ASSERT_EQ(0, map1(sb, sa, 0, PG, RW, false));		/* B:1 <- A:0 */
	ASSERT_EQ(0, map1(sb, sa, 2 * PG, 5 * PG, R_, false));	/* B:5 <- A:2 */
	ASSERT_EQ(0, map1(sc, sb, PG, 3 * PG, R_, false));	/* C:3 <- B:1 */
	ASSERT_EQ(0, map1(sc, sa, 0, 0, RW, false));		/* C:0 <- A:0 */

	ASSERT_EQ(0, nl_dump(&nl, L4_CMD_ENTRIES, L4_A_SPACE_ID, ida, &rs));
	ASSERT_EQ(2, rs.n);
	ASSERT_NODE(&rs.r[0], ida, 0, L4_FPAGE_RWX, 0, 0, 0);
	ASSERT_NODE(&rs.r[1], ida, 2 * PG, L4_FPAGE_RWX, 0, 0, 0);
	frame0 = rs.r[0].v[L4_A_FRAME_ID];
	frame2 = rs.r[1].v[L4_A_FRAME_ID];
	ASSERT_NE(frame0, frame2);
	recs_free(&rs);

	ASSERT_EQ(0, nl_dump(&nl, L4_CMD_ENTRIES, L4_A_SPACE_ID, idb, &rs));
	ASSERT_EQ(2, rs.n);
	ASSERT_NODE(&rs.r[0], idb, PG, RW, 1, ida, 0);
	ASSERT_EQ(frame0, rs.r[0].v[L4_A_FRAME_ID]);
	ASSERT_NODE(&rs.r[1], idb, 5 * PG, R_, 1, ida, 2 * PG);
	ASSERT_EQ(frame2, rs.r[1].v[L4_A_FRAME_ID]);
	recs_free(&rs);

	ASSERT_EQ(0, nl_dump(&nl, L4_CMD_ENTRIES, L4_A_SPACE_ID, idc, &rs));
	ASSERT_EQ(2, rs.n);
	ASSERT_NODE(&rs.r[0], idc, 0, RW, 1, ida, 0);
	ASSERT_NODE(&rs.r[1], idc, 3 * PG, R_, 2, idb, PG);
	recs_free(&rs);

	/* the tree of A's first frame, in pre-order, children newest first */
	ASSERT_EQ(0, nl_dump(&nl, L4_CMD_TREE, L4_A_FRAME_ID, frame0, &rs));
	ASSERT_EQ(4, rs.n);
	ASSERT_NODE(&rs.r[0], ida, 0, L4_FPAGE_RWX, 0, 0, 0);
	ASSERT_NODE(&rs.r[1], idc, 0, RW, 1, ida, 0);
	ASSERT_NODE(&rs.r[2], idb, PG, RW, 1, ida, 0);
	ASSERT_NODE(&rs.r[3], idc, 3 * PG, R_, 2, idb, PG);
	for (size_t i = 0; i < rs.n; i++) {
		ASSERT_EQ(L4_CMD_TREE, rs.r[i].cmd);
		ASSERT_EQ(frame0, rs.r[i].v[L4_A_FRAME_ID]);
	}
	recs_free(&rs);

	/* revoke B's copy: C's child goes with it */
	ASSERT_EQ(0, unmap1(sb, PG, R_, L4_UNMAP_ALL_SPACES));
	ASSERT_EQ(0, nl_dump(&nl, L4_CMD_TREE, L4_A_FRAME_ID, frame0, &rs));
	ASSERT_EQ(2, rs.n);
	ASSERT_NODE(&rs.r[1], idc, 0, RW, 1, ida, 0);
	recs_free(&rs);

	/* a frame that is gone */
	ASSERT_EQ(0, unmap1(sa, 2 * PG, R_, L4_UNMAP_ALL_SPACES));
	ASSERT_EQ(-ENOENT, nl_dump(&nl, L4_CMD_TREE, L4_A_FRAME_ID, frame2, &rs));

	ASSERT_EQ(0, munmap(wa, 4 * PG));
	ASSERT_EQ(0, close(sa));
	ASSERT_EQ(0, close(sb));
	ASSERT_EQ(0, close(sc));
	l4nl_close(&nl);
}

/* Events until @n arrived or 5 s passed. */
static size_t read_events(struct l4nl *nl, struct recs *rs, size_t n)
{
	static char buf[L4NL_BUF];
	struct l4nl_rec rec;

	while (rs->n < n) {
		struct pollfd pfd = { .fd = nl->fd, .events = POLLIN };
		struct nlmsghdr *nlh;
		ssize_t len;

		if (poll(&pfd, 1, 5000) <= 0)
			break;
		len = recv(nl->fd, buf, sizeof(buf), 0);
		if (len <= 0)
			break;
		for (nlh = (void *)buf; NLMSG_OK(nlh, len); nlh = NLMSG_NEXT(nlh, len)) {
			if (nlh->nlmsg_type != nl->family)
				continue;
			l4nl_parse(nlh, &rec);
			if (rec.cmd == L4_CMD_EVENT)
				recs_add(&rec, rs);
		}
	}
	return rs->n;
}

/* The events already queued on @nl, without waiting. */
static size_t drain_events(struct l4nl *nl, struct recs *rs)
{
	static char buf[L4NL_BUF];
	struct l4nl_rec rec;
	struct nlmsghdr *nlh;
	ssize_t len;

	while ((len = recv(nl->fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		for (nlh = (void *)buf; NLMSG_OK(nlh, len); nlh = NLMSG_NEXT(nlh, len)) {
			if (nlh->nlmsg_type != nl->family)
				continue;
			l4nl_parse(nlh, &rec);
			if (rec.cmd == L4_CMD_EVENT)
				recs_add(&rec, rs);
		}
	}
	return rs->n;
}

/* Linux 6.8 brought the filtered multicast that opens the group to all. */
static bool kernel_filters(void)
{
	struct utsname u;
	int major, minor;

	if (uname(&u) || sscanf(u.release, "%d.%d", &major, &minor) != 2)
		return false;
	return major > 6 || (major == 6 && minor >= 8);
}

static void drop_to_nobody(void)
{
	CHILD_CHECK(!setresgid(NOBODY, NOBODY, NOBODY));
	CHILD_CHECK(!setresuid(NOBODY, NOBODY, NOBODY));
}

#define ASSERT_EVENT(r, type, space, addr) do {				\
	ASSERT_EQ((__u64)(type), (r)->v[L4_A_EV_TYPE]);			\
	ASSERT_EQ((__u64)(space), (r)->v[L4_A_SPACE_ID]);		\
	if ((addr) != ~0ULL)						\
		ASSERT_EQ((__u64)(addr), (r)->v[L4_A_E_ADDR]);		\
} while (0)

TEST_F(netlink, events_in_order)
{
	__u64 ida, idb, none = ~0ULL;
	struct l4_reply r;
	struct l4_msg m;
	struct l4_pager p;
	struct l4nl nl;
	struct recs ev = { 0 };
	int sa, sb, gate;
	char *wa, *wb;
	pid_t child;

	NL_OPEN(&nl);
	ASSERT_EQ(0, l4nl_join_events(&nl));

	sa = l4t_space_window_id(self->dev, 4, 0, SIGMA0, &ida, &wa);
	ASSERT_LE(0, sa);
	wa[0] = wa[PG] = 1;				/* kernel faults: no events */
	sb = l4t_create(self->dev, 8 * PG, 0, 0, &idb);
	ASSERT_LE(0, sb);
	ASSERT_EQ(0, map1(sb, sa, 0, PG, R_, false));
	ASSERT_EQ(0, map1(sb, sa, PG, 2 * PG, RW, true));
	ASSERT_EQ(0, unmap1(sa, 0, R_, 0));		/* revokes B:1 */

	/* a fault on B goes to a pager: us */
	gate = ioctl(self->dev, L4_IOC_CREATE_GATE, 0);
	ASSERT_LE(0, gate);
	memset(&p, 0, sizeof(p));
	p.gate_fd = gate;
	ASSERT_EQ(0, ioctl(sb, L4_IOC_SET_PAGER, &p));
	wb = l4t_map(sb, 0, 8 * PG);
	ASSERT_NE(MAP_FAILED, wb);
	child = fork();
	ASSERT_LE(0, child);
	if (!child)
		_exit(wb[3 * PG] == 1 ? 0 : 1);	/* A's first page */
	ASSERT_EQ(0, ioctl(gate, L4_IOC_RECV, &m));
	ASSERT_EQ(3 * PG, L4_PF_ADDR(m.words[0]));
	memset(&r, 0, sizeof(r));
	r.token = m.token;
	r.nitems = 1;
	r.items[0].src_fd = sa;
	r.items[0].item.control = L4_MAP_ITEM(3 * PG, 0);
	r.items[0].item.fpage = L4_FPAGE(0, 12, R_);
	ASSERT_EQ(0, ioctl(gate, L4_IOC_REPLY, &r));
	ASSERT_EQ(0, l4t_wait(child));

	ASSERT_EQ(0, munmap(wb, 8 * PG));
	ASSERT_EQ(0, close(sb));
	ASSERT_EQ(0, munmap(wa, 4 * PG));
	ASSERT_EQ(0, close(sa));
	ASSERT_EQ(0, close(gate));

	ASSERT_EQ(10, read_events(&nl, &ev, 10));
	ASSERT_EVENT(&ev.r[0], L4_EV_SPACE_CREATE, ida, none);
	ASSERT_EQ(4 * PG, ev.r[0].v[L4_A_SPACE_SIZE]);
	ASSERT_EVENT(&ev.r[1], L4_EV_SPACE_CREATE, idb, none);
	ASSERT_EVENT(&ev.r[2], L4_EV_MAP, idb, PG);
	ASSERT_EQ(ida, ev.r[2].v[L4_A_EV_SRC_SPACE]);
	ASSERT_EQ(0, ev.r[2].v[L4_A_EV_SRC_ADDR]);
	ASSERT_EQ(1, ev.r[2].v[L4_A_EV_PAGES]);
	ASSERT_EQ(R_, ev.r[2].v[L4_A_E_RIGHTS]);
	ASSERT_EVENT(&ev.r[3], L4_EV_GRANT, idb, 2 * PG);
	ASSERT_EQ(PG, ev.r[3].v[L4_A_EV_SRC_ADDR]);
	ASSERT_EVENT(&ev.r[4], L4_EV_UNMAP, ida, 0);
	ASSERT_EQ(1, ev.r[4].v[L4_A_EV_PAGES]);
	ASSERT_EVENT(&ev.r[5], L4_EV_FAULT, idb, 3 * PG);
	ASSERT_EQ(R_, ev.r[5].v[L4_A_E_RIGHTS]);
	ASSERT_EQ((__u64)child, ev.r[5].v[L4_A_EV_PID]);
	ASSERT_EVENT(&ev.r[6], L4_EV_MAP, idb, 3 * PG);
	ASSERT_EQ(ida, ev.r[6].v[L4_A_EV_SRC_SPACE]);
	ASSERT_EVENT(&ev.r[7], L4_EV_REPLY, idb, none);
	ASSERT_EQ(1, ev.r[7].v[L4_A_EV_PAGES]);
	ASSERT_EQ(0, ev.r[7].v[L4_A_EV_ERROR]);
	ASSERT_EVENT(&ev.r[8], L4_EV_SPACE_DESTROY, idb, none);
	ASSERT_EVENT(&ev.r[9], L4_EV_SPACE_DESTROY, ida, none);
	for (int i = 0; i < 10; i++) {
		ASSERT_EQ(ev.r[0].v[L4_A_EV_SEQ] + i, ev.r[i].v[L4_A_EV_SEQ]);
		/* all root's: its own sequence moves in step */
		ASSERT_EQ(0, ev.r[i].v[L4_A_SPACE_UID]);
		ASSERT_TRUE(L4NL_HAS(&ev.r[i], L4_A_SPACE_UID));
		ASSERT_EQ(ev.r[0].v[L4_A_EV_UID_SEQ] + i, ev.r[i].v[L4_A_EV_UID_SEQ]);
		ASSERT_FALSE(L4NL_HAS(&ev.r[i], L4_A_EV_LOST));
		if (i != 5)
			ASSERT_EQ((__u64)getpid(), ev.r[i].v[L4_A_EV_PID]);
	}
	recs_free(&ev);
	l4nl_close(&nl);
}

/* A subscriber that does not read loses events, and the sequence says how many. */
TEST_F(netlink, events_lost_are_counted)
{
	struct recs ev = { 0 };
	struct l4nl nl;
	int rcvbuf = 4096, sa, i;
	__u64 first = 0;
	char *wa;

	NL_OPEN(&nl);
	ASSERT_EQ(0, setsockopt(nl.fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)));
	ASSERT_EQ(0, l4nl_join_events(&nl));
	sa = l4t_space_window(self->dev, 4, 0, SIGMA0, &wa);
	ASSERT_LE(0, sa);
	wa[0] = 1;
	for (i = 0; i < 200; i++)
		ASSERT_EQ(0, unmap1(sa, PG, R_, 0));
	/* the socket overran: ENOBUFS once, then what fitted, with gaps */
	ASSERT_EQ(-1, recv(nl.fd, &first, sizeof(first), MSG_PEEK));
	ASSERT_EQ(ENOBUFS, errno);
	read_events(&nl, &ev, 201);
	ASSERT_LT(0, ev.n);
	ASSERT_GT(201, ev.n);
	first = ev.r[0].v[L4_A_EV_SEQ];
	/* the last unmap's number tells how many were lost in between */
	ASSERT_LE(ev.n, ev.r[ev.n - 1].v[L4_A_EV_SEQ] - first + 1);
	recs_free(&ev);
	ASSERT_EQ(0, munmap(wa, 4 * PG));
	ASSERT_EQ(0, close(sa));
	l4nl_close(&nl);
}

/* What an unprivileged subscriber received (a child records it). */
struct filtered {
	int join, all_present, all, n;
	__u64 ida, idb;
	struct l4nl_rec ev[16];
};

/* a nobody-owned event seen by root and by nobody: the same numbers */
#define ASSERT_SAME_EVENT(a, b) do {					\
	ASSERT_EQ((a)->v[L4_A_EV_TYPE], (b)->v[L4_A_EV_TYPE]);		\
	ASSERT_EQ((a)->v[L4_A_SPACE_ID], (b)->v[L4_A_SPACE_ID]);	\
	ASSERT_EQ((a)->v[L4_A_EV_SEQ], (b)->v[L4_A_EV_SEQ]);		\
	ASSERT_EQ((a)->v[L4_A_EV_UID_SEQ], (b)->v[L4_A_EV_UID_SEQ]);	\
} while (0)

/*
 * uid NOBODY subscribes and works on spaces of its own, root works on its
 * own in between, and each maps from the other's space into its own: the
 * unprivileged subscriber gets exactly its uid's events (a map: the
 * destination's), its sequence without gaps while the global one has
 * root's; root's subscriber gets both, each owner's sequence in step.
 */
TEST_F(netlink, events_filtered_by_owner)
{
	struct filtered *f = l4t_shared(sizeof(*f));
	int up[2], down[2], sr, sd;
	const struct l4nl_rec *e;
	__u64 idr, idd;
	struct recs ev = { 0 };
	struct l4nl nl;
	char *wr, c;
	pid_t pid;

	ASSERT_NE(NULL, f);
	ASSERT_EQ(0, pipe(up));
	ASSERT_EQ(0, pipe(down));
	/* root's spaces, before anyone listens: R with page 0, D empty */
	sr = l4t_space_window_id(self->dev, 4, 0, SIGMA0, &idr, &wr);
	ASSERT_LE(0, sr);
	wr[0] = 1;
	sd = l4t_create(self->dev, 8 * PG, 0, 0, &idd);
	ASSERT_LE(0, sd);
	NL_OPEN(&nl);
	ASSERT_EQ(0, l4nl_join_events(&nl));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct recs got = { 0 };
		struct l4nl_rec st;
		struct l4nl cnl;
		int sa, sb;
		char *wa;

		drop_to_nobody();
		CHILD_CHECK(!l4nl_open(&cnl));
		CHILD_CHECK(!nl_stats(&cnl, &st));
		f->all_present = L4NL_HAS(&st, L4_A_ST_EVENTS_ALL);
		f->all = st.v[L4_A_ST_EVENTS_ALL];
		f->join = l4nl_join_events(&cnl);
		/* its spaces, through root's /dev/l4 fd: owned by NOBODY */
		sa = l4t_space_window_id(self->dev, 4, 0, SIGMA0, &f->ida, &wa);
		CHILD_CHECK(sa >= 0);
		wa[0] = 1;				/* no event */
		CHILD_CHECK(write(up[1], "a", 1) == 1);
		CHILD_CHECK(read(down[0], &c, 1) == 1);	/* root mapped */
		sb = l4t_create(self->dev, 8 * PG, 0, 0, &f->idb);
		CHILD_CHECK(sb >= 0);
		CHILD_CHECK(!map1(sb, sa, 0, PG, R_, false));
		CHILD_CHECK(!map1(sb, sr, 0, 2 * PG, R_, false));	/* root's page */
		CHILD_CHECK(!map1(sd, sa, 0, PG, R_, false));	/* into root's D */
		CHILD_CHECK(!unmap1(sa, 0, R_, 0));	/* revokes B:1, D:1 */
		CHILD_CHECK(!munmap(wa, 4 * PG));
		CHILD_CHECK(!close(sb));
		CHILD_CHECK(!close(sa));
		CHILD_CHECK(write(up[1], "d", 1) == 1);
		CHILD_CHECK(read(down[0], &c, 1) == 1);	/* root unmapped */
		/* events are queued when the call that caused them returns */
		if (!f->join)
			drain_events(&cnl, &got);
		f->n = got.n;
		for (size_t i = 0; i < got.n && i < 16; i++)
			f->ev[i] = got.r[i];
		_exit(0);
	}
	ASSERT_EQ(1, read(up[0], &c, 1));
	ASSERT_EQ(0, map1(sd, sr, 0, 0, R_, false));	/* root's, into D */
	ASSERT_EQ(1, write(down[1], "b", 1));
	ASSERT_EQ(1, read(up[0], &c, 1));
	ASSERT_EQ(0, unmap1(sr, 0, R_, 0));		/* revokes D:0 */
	ASSERT_EQ(1, write(down[1], "e", 1));
	ASSERT_EQ(0, l4t_wait(pid));

	/* root: everything, in order, the global sequence without gaps */
	ASSERT_EQ(10, drain_events(&nl, &ev));
	ASSERT_EVENT(&ev.r[0], L4_EV_SPACE_CREATE, f->ida, ~0ULL);
	ASSERT_EVENT(&ev.r[1], L4_EV_MAP, idd, 0);
	ASSERT_EVENT(&ev.r[2], L4_EV_SPACE_CREATE, f->idb, ~0ULL);
	ASSERT_EVENT(&ev.r[3], L4_EV_MAP, f->idb, PG);
	ASSERT_EVENT(&ev.r[4], L4_EV_MAP, f->idb, 2 * PG);
	ASSERT_EQ(idr, ev.r[4].v[L4_A_EV_SRC_SPACE]);
	ASSERT_EVENT(&ev.r[5], L4_EV_MAP, idd, PG);
	ASSERT_EQ(f->ida, ev.r[5].v[L4_A_EV_SRC_SPACE]);
	ASSERT_EQ((__u64)pid, ev.r[5].v[L4_A_EV_PID]);	/* NOBODY's act */
	ASSERT_EVENT(&ev.r[6], L4_EV_UNMAP, f->ida, 0);
	ASSERT_EQ(2, ev.r[6].v[L4_A_EV_PAGES]);
	ASSERT_EVENT(&ev.r[7], L4_EV_SPACE_DESTROY, f->idb, ~0ULL);
	ASSERT_EVENT(&ev.r[8], L4_EV_SPACE_DESTROY, f->ida, ~0ULL);
	ASSERT_EVENT(&ev.r[9], L4_EV_UNMAP, idr, 0);
	for (int i = 0; i < 10; i++) {
		bool root = i == 1 || i == 5 || i == 9;

		e = &ev.r[i];
		ASSERT_EQ(ev.r[0].v[L4_A_EV_SEQ] + i, e->v[L4_A_EV_SEQ]);
		ASSERT_TRUE(L4NL_HAS(e, L4_A_SPACE_UID));
		ASSERT_TRUE(L4NL_HAS(e, L4_A_EV_UID_SEQ));
		ASSERT_EQ(root ? 0 : NOBODY, e->v[L4_A_SPACE_UID]) TH_LOG("event %d", i);
	}
	/* each owner's sequence: NOBODY's events 0 2 3 4 6 7 8, root's 1 5 9 */
	ASSERT_EQ(ev.r[0].v[L4_A_EV_UID_SEQ] + 1, ev.r[2].v[L4_A_EV_UID_SEQ]);
	ASSERT_EQ(ev.r[0].v[L4_A_EV_UID_SEQ] + 2, ev.r[3].v[L4_A_EV_UID_SEQ]);
	ASSERT_EQ(ev.r[0].v[L4_A_EV_UID_SEQ] + 3, ev.r[4].v[L4_A_EV_UID_SEQ]);
	ASSERT_EQ(ev.r[0].v[L4_A_EV_UID_SEQ] + 4, ev.r[6].v[L4_A_EV_UID_SEQ]);
	ASSERT_EQ(ev.r[0].v[L4_A_EV_UID_SEQ] + 5, ev.r[7].v[L4_A_EV_UID_SEQ]);
	ASSERT_EQ(ev.r[0].v[L4_A_EV_UID_SEQ] + 6, ev.r[8].v[L4_A_EV_UID_SEQ]);
	ASSERT_EQ(ev.r[1].v[L4_A_EV_UID_SEQ] + 1, ev.r[5].v[L4_A_EV_UID_SEQ]);
	ASSERT_EQ(ev.r[1].v[L4_A_EV_UID_SEQ] + 2, ev.r[9].v[L4_A_EV_UID_SEQ]);

	/* NOBODY: filtered, it knows it, and it got exactly its own */
	ASSERT_TRUE(f->all_present);
	ASSERT_EQ(0, f->all);
	if (!kernel_filters()) {
		ASSERT_EQ(-EPERM, f->join);
	} else {
		static const int own[] = { 0, 2, 3, 4, 6, 7, 8 };

		ASSERT_EQ(0, f->join);
		ASSERT_EQ(7, f->n);
		for (int i = 0; i < 7; i++) {
			ASSERT_SAME_EVENT(&f->ev[i], &ev.r[own[i]]);
			ASSERT_EQ(NOBODY, f->ev[i].v[L4_A_SPACE_UID]);
			ASSERT_EQ(f->ev[0].v[L4_A_EV_UID_SEQ] + i,
				  f->ev[i].v[L4_A_EV_UID_SEQ]);
			ASSERT_FALSE(L4NL_HAS(&f->ev[i], L4_A_EV_LOST));
		}
		/* root's in between: gaps in the global sequence only */
		ASSERT_EQ(f->ev[0].v[L4_A_EV_SEQ] + 2, f->ev[1].v[L4_A_EV_SEQ]);
		ASSERT_EQ(f->ev[3].v[L4_A_EV_SEQ] + 2, f->ev[4].v[L4_A_EV_SEQ]);
		ASSERT_EQ(idr, f->ev[3].v[L4_A_EV_SRC_SPACE]);
	}
	recs_free(&ev);
	l4nl_close(&nl);
	ASSERT_EQ(0, munmap(wr, 4 * PG));
	ASSERT_EQ(0, close(sr));
	ASSERT_EQ(0, close(sd));
	close(up[0]);
	close(up[1]);
	close(down[0]);
	close(down[1]);
}

/* What a filtered subscriber that overran got (a child records it). */
struct overrun {
	int join, enobufs, n;
	__u64 first, last, bad;
};

/*
 * An unprivileged subscriber that does not read overruns; its own uid's
 * sequence says exactly how many it lost, while root's events go on.
 */
TEST_F(netlink, events_lost_filtered)
{
	struct overrun *o = l4t_shared(sizeof(*o));
	int sr;
	char *wr;
	pid_t pid;

	ASSERT_NE(NULL, o);
	if (!kernel_filters())
		SKIP(return, "no filtered multicast before Linux 6.8");
	sr = l4t_space_window(self->dev, 4, 0, SIGMA0, &wr);
	ASSERT_LE(0, sr);
	wr[0] = 1;
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct recs ev = { 0 };
		int rcvbuf = 4096, sa, i;
		struct l4nl cnl;
		char *wa, b;

		drop_to_nobody();
		CHILD_CHECK(!l4nl_open(&cnl));
		CHILD_CHECK(!setsockopt(cnl.fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
					sizeof(rcvbuf)));
		o->join = l4nl_join_events(&cnl);
		CHILD_CHECK(!o->join);
		/* 201 events of its own, root's in between */
		sa = l4t_space_window(self->dev, 4, 0, SIGMA0, &wa);
		CHILD_CHECK(sa >= 0);
		wa[0] = 1;
		for (i = 0; i < 200; i++) {
			CHILD_CHECK(!unmap1(sa, PG, R_, 0));
			CHILD_CHECK(!unmap1(sr, PG, R_, 0));
		}
		o->enobufs = recv(cnl.fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) < 0 &&
			     errno == ENOBUFS;
		drain_events(&cnl, &ev);
		/* one more, after the drain: the gap before it is the loss */
		CHILD_CHECK(!unmap1(sa, PG, R_, 0));
		drain_events(&cnl, &ev);
		o->n = ev.n;
		if (ev.n) {
			o->first = ev.r[0].v[L4_A_EV_UID_SEQ];
			o->last = ev.r[ev.n - 1].v[L4_A_EV_UID_SEQ];
		}
		for (size_t k = 0; k < ev.n; k++) {
			const struct l4nl_rec *r = &ev.r[k];

			/* all its own; what fitted came without gaps */
			o->bad += r->v[L4_A_SPACE_UID] != NOBODY;
			if (k && k < ev.n - 1)
				o->bad += r->v[L4_A_EV_UID_SEQ] != o->first + k;
		}
		CHILD_CHECK(!munmap(wa, 4 * PG));
		_exit(0);
	}
	ASSERT_EQ(0, l4t_wait(pid));
	ASSERT_EQ(0, o->join);
	ASSERT_TRUE(o->enobufs);
	ASSERT_EQ(0, o->bad);
	/* some fitted, the rest lost; the last event tells how many */
	ASSERT_LT(1, o->n);
	ASSERT_GT(100, o->n);
	ASSERT_EQ(201, o->last - o->first);	/* so 202 - n were lost */
	ASSERT_EQ(0, munmap(wr, 4 * PG));
	ASSERT_EQ(0, close(sr));
}

/* What uid NOBODY may see of root's spaces (run in a child that drops to it). */
struct view {
	int stats, spaces_dump, get, entries, tree, join, tree_n;
	size_t own_found;
};

TEST_F(netlink, second_uid_is_refused)
{
	struct view *v = l4t_shared(sizeof(*v));
	__u64 ida, frame;
	struct recs rs;
	struct l4nl nl;
	int sa;
	char *wa;
	pid_t pid;

	ASSERT_NE(NULL, v);
	NL_OPEN(&nl);
	sa = l4t_space_window_id(self->dev, 4, 0, SIGMA0, &ida, &wa);
	ASSERT_LE(0, sa);
	wa[0] = 1;
	ASSERT_EQ(0, nl_dump(&nl, L4_CMD_ENTRIES, L4_A_SPACE_ID, ida, &rs));
	ASSERT_EQ(1, rs.n);
	frame = rs.r[0].v[L4_A_FRAME_ID];
	recs_free(&rs);
	l4nl_close(&nl);

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct l4nl_rec st;
		struct l4nl cnl;

		CHILD_CHECK(!setresgid(NOBODY, NOBODY, NOBODY));
		CHILD_CHECK(!setresuid(NOBODY, NOBODY, NOBODY));
		CHILD_CHECK(!l4nl_open(&cnl));
		v->stats = nl_stats(&cnl, &st);
		v->spaces_dump = nl_dump(&cnl, L4_CMD_SPACES, 0, 0, &rs);
		v->own_found = !!recs_find(&rs, L4_A_SPACE_ID, ida) + rs.n * 100;
		v->get = l4nl_call(&cnl, L4_CMD_SPACES, 0, L4_A_SPACE_ID, ida,
				   NULL, NULL, NULL);
		v->entries = nl_dump(&cnl, L4_CMD_ENTRIES, L4_A_SPACE_ID, ida, &rs);
		v->tree = nl_dump(&cnl, L4_CMD_TREE, L4_A_FRAME_ID, frame, &rs);
		v->tree_n = rs.n;
		v->join = l4nl_join_events(&cnl);
		_exit(0);
	}
	ASSERT_EQ(0, l4t_wait(pid));
	ASSERT_EQ(0, v->stats);			/* statistics are free */
	ASSERT_EQ(0, v->spaces_dump);
	ASSERT_EQ(0, v->own_found);		/* root's spaces are not listed */
	ASSERT_EQ(-EPERM, v->get);
	ASSERT_EQ(-EPERM, v->entries);
	ASSERT_EQ(-ENOENT, v->tree);		/* as if the frame did not exist */
	ASSERT_EQ(0, v->tree_n);
	/* anyone may join where the kernel can filter (events_filtered_*) */
	ASSERT_EQ(kernel_filters() ? 0 : -EPERM, v->join);
	ASSERT_EQ(0, munmap(wa, 4 * PG));
	ASSERT_EQ(0, close(sa));
}

TEST_F(netlink, malformed_requests)
{
	struct l4nl_req req;
	struct l4nl nl;
	__u32 small = 1;
	__u8 junk[64];

	NL_OPEN(&nl);
	memset(junk, 0xa5, sizeof(junk));

	/* unknown commands, and the event command, which is no request */
	l4nl_init(&req, nl.family, 99, 0);
	ASSERT_EQ(0, l4nl_send(&nl, &req));
	ASSERT_EQ(-EOPNOTSUPP, l4nl_recv(&nl, NULL, NULL, NULL));
	l4nl_init(&req, nl.family, L4_CMD_EVENT, 0);
	ASSERT_EQ(0, l4nl_send(&nl, &req));
	ASSERT_EQ(-EOPNOTSUPP, l4nl_recv(&nl, NULL, NULL, NULL));
	l4nl_init(&req, nl.family, L4_CMD_UNSPEC, 0);
	ASSERT_EQ(0, l4nl_send(&nl, &req));
	ASSERT_EQ(-EOPNOTSUPP, l4nl_recv(&nl, NULL, NULL, NULL));

	/* statistics take no attribute */
	ASSERT_EQ(-EINVAL, l4nl_call(&nl, L4_CMD_STATS, 0, L4_A_SPACE_ID, 1,
				     NULL, NULL, NULL));
	/* a space id of the wrong size */
	l4nl_init(&req, nl.family, L4_CMD_SPACES, 0);
	l4nl_put(&req, L4_A_SPACE_ID, &small, sizeof(small));
	ASSERT_EQ(0, l4nl_send(&nl, &req));
	ASSERT_EQ(-EINVAL, l4nl_recv(&nl, NULL, NULL, NULL));
	/* required attributes missing */
	ASSERT_EQ(-EINVAL, l4nl_call(&nl, L4_CMD_SPACES, 0, 0, 0, NULL, NULL, NULL));
	ASSERT_EQ(-EINVAL, l4nl_call(&nl, L4_CMD_ENTRIES, NLM_F_DUMP, 0, 0,
				     NULL, NULL, NULL));
	ASSERT_EQ(-EINVAL, l4nl_call(&nl, L4_CMD_TREE, NLM_F_DUMP, 0, 0,
				     NULL, NULL, NULL));
	/* attributes of another command, unknown ones, the padding */
	ASSERT_EQ(-EINVAL, l4nl_call(&nl, L4_CMD_TREE, NLM_F_DUMP, L4_A_SPACE_ID,
				     1, NULL, NULL, NULL));
	ASSERT_EQ(-EINVAL, l4nl_call(&nl, L4_CMD_ENTRIES, NLM_F_DUMP,
				     L4_A_FRAME_ID, 1, NULL, NULL, NULL));
	ASSERT_EQ(-EINVAL, l4nl_call(&nl, L4_CMD_SPACES, NLM_F_DUMP,
				     L4_A_MAX + 7, 1, NULL, NULL, NULL));
	ASSERT_EQ(-EINVAL, l4nl_call(&nl, L4_CMD_SPACES, NLM_F_DUMP, L4_A_PAD,
				     1, NULL, NULL, NULL));
	/* an attribute whose length runs past the message */
	l4nl_init(&req, nl.family, L4_CMD_SPACES, 0);
	l4nl_put_u64(&req, L4_A_SPACE_ID, 1);
	((struct nlattr *)req.attrs)->nla_len = 200;
	ASSERT_EQ(0, l4nl_send(&nl, &req));
	ASSERT_EQ(-EINVAL, l4nl_recv(&nl, NULL, NULL, NULL));
	/* garbage attributes */
	l4nl_init(&req, nl.family, L4_CMD_ENTRIES, NLM_F_DUMP);
	memcpy(req.attrs, junk, sizeof(junk));
	req.nlh.nlmsg_len += sizeof(junk);
	ASSERT_EQ(0, l4nl_send(&nl, &req));
	ASSERT_EQ(-EINVAL, l4nl_recv(&nl, NULL, NULL, NULL));
	/* ids that name nothing */
	ASSERT_EQ(-ENOENT, l4nl_call(&nl, L4_CMD_SPACES, 0, L4_A_SPACE_ID, ~0ULL,
				     NULL, NULL, NULL));
	ASSERT_EQ(-ENOENT, l4nl_call(&nl, L4_CMD_TREE, NLM_F_DUMP, L4_A_FRAME_ID,
				     0, NULL, NULL, NULL));
	ASSERT_EQ(-ENOENT, l4nl_call(&nl, L4_CMD_ENTRIES, NLM_F_DUMP,
				     L4_A_SPACE_ID, 0, NULL, NULL, NULL));
	l4nl_close(&nl);
}

struct big {
	__u64 n, next_addr, space, bad, multi;
};

static void big_entry(const struct l4nl_rec *r, void *arg)
{
	struct big *b = arg;

	if (r->v[L4_A_SPACE_ID] != b->space || r->v[L4_A_E_ADDR] != b->next_addr)
		b->bad++;
	b->next_addr += PG;
	b->n++;
}

static void big_count(const struct l4nl_rec *r, void *arg)
{
	struct big *b = arg;

	b->n++;
	b->multi += !!(r->nlflags & NLM_F_MULTI);
}

/* 64 frames of A mapped 1563 times into B: 100,032 entries. */
TEST_F(netlink, dump_100k_entries)
{
	const unsigned int copies = 1563, order = 18;	/* 64 pages */
	static char part[4096];
	struct l4nl_req req;
	__u64 ida, idb, frame;
	struct big b = { 0 };
	struct recs rs;
	struct l4nl nl;
	int sa, sb;
	bool intr;
	char *wa;

	NL_OPEN(&nl);
	sa = l4t_space_window_id(self->dev, 64, 0, SIGMA0, &ida, &wa);
	ASSERT_LE(0, sa);
	for (int i = 0; i < 64; i++)
		wa[i * PG] = 1;
	sb = l4t_create(self->dev, (__u64)copies << order, 0, 0, &idb);
	ASSERT_LE(0, sb);
	for (unsigned int i = 0; i < copies; i++) {
		struct l4_map m = {
			.src_fd		= sa,
			.item.control	= L4_MAP_ITEM((__u64)i << order, 0),
			.item.fpage	= L4_FPAGE(0, order, R_),
			.rcv_fpage	= WHOLE,
		};

		ASSERT_EQ(0, ioctl(sb, L4_IOC_MAP, &m));
		ASSERT_EQ(64, m.pages);
	}

	b.space = idb;
	ASSERT_EQ(0, l4nl_call(&nl, L4_CMD_ENTRIES, NLM_F_DUMP, L4_A_SPACE_ID,
			       idb, big_entry, &b, &intr));
	ASSERT_EQ(64ULL * copies, b.n);
	ASSERT_EQ(0, b.bad);
	ASSERT_FALSE(intr);

	ASSERT_EQ(0, nl_dump(&nl, L4_CMD_ENTRIES, L4_A_SPACE_ID, ida, &rs));
	ASSERT_EQ(64, rs.n);
	frame = rs.r[17].v[L4_A_FRAME_ID];
	recs_free(&rs);
	memset(&b, 0, sizeof(b));
	ASSERT_EQ(0, l4nl_call(&nl, L4_CMD_TREE, NLM_F_DUMP, L4_A_FRAME_ID,
			       frame, big_count, &b, &intr));
	ASSERT_EQ(copies + 1, b.n);
	ASSERT_EQ(b.n, b.multi);
	ASSERT_FALSE(intr);

	/* a dump that the mapping database changes under says so */
	l4nl_init(&req, nl.family, L4_CMD_ENTRIES, NLM_F_DUMP);
	l4nl_put_u64(&req, L4_A_SPACE_ID, idb);
	ASSERT_EQ(0, l4nl_send(&nl, &req));
	ASSERT_LT(0, recv(nl.fd, part, sizeof(part), 0));	/* the first part */
	ASSERT_EQ(0, unmap1(sa, 17 * PG, R_, 0));
	memset(&b, 0, sizeof(b));
	ASSERT_EQ(0, l4nl_recv(&nl, big_count, &b, &intr));
	ASSERT_TRUE(intr);

	ASSERT_EQ(0, munmap(wa, 64 * PG));
	ASSERT_EQ(0, close(sa));
	ASSERT_EQ(0, close(sb));
	l4nl_close(&nl);
}

#define TRACEFS		"/sys/kernel/tracing"

TEST_F(netlink, tracepoint_map)
{
	char buf[65536], want[64];
	__u64 ida, idb;
	int sa, sb, fd;
	ssize_t n, len = 0;
	char *wa;

	if (access(TRACEFS "/events/l4/l4_map/enable", W_OK))
		SKIP(return, "no tracefs with events/l4 at " TRACEFS);
	fd = open(TRACEFS "/trace", O_WRONLY | O_TRUNC | O_CLOEXEC);	/* clear */
	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_EQ(0, l4t_write_str(TRACEFS "/events/l4/l4_map/enable", "1"));
	sa = l4t_space_window_id(self->dev, 4, 0, SIGMA0, &ida, &wa);
	ASSERT_LE(0, sa);
	wa[PG] = 1;
	sb = l4t_create(self->dev, 4 * PG, 0, 0, &idb);
	ASSERT_LE(0, sb);
	ASSERT_EQ(0, map1(sb, sa, PG, 3 * PG, R_, false));
	ASSERT_EQ(0, l4t_write_str(TRACEFS "/events/l4/l4_map/enable", "0"));

	fd = open(TRACEFS "/trace", O_RDONLY);
	ASSERT_LE(0, fd);
	while (len < (ssize_t)sizeof(buf) - 1 &&
	       (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	buf[len] = 0;
	close(fd);
	snprintf(want, sizeof(want), "l4_map: map src=%llu:0x1000 dst=%llu:0x3000",
		 (unsigned long long)ida, (unsigned long long)idb);
	ASSERT_NE(NULL, strstr(buf, want)) TH_LOG("trace:\n%s", buf);

	ASSERT_EQ(0, munmap(wa, 4 * PG));
	ASSERT_EQ(0, close(sa));
	ASSERT_EQ(0, close(sb));
}

/* A mutator process: spaces come and go, get mapped, granted and unmapped. */
static void churn(int dev, int seconds)
{
	time_t end = time(NULL) + seconds;

	while (time(NULL) < end) {
		int sa, sb, sc;
		char *wa;

		sa = l4t_space_window(dev, 16, 0, SIGMA0, &wa);
		CHILD_CHECK(sa >= 0);
		for (int i = 0; i < 16; i++)
			wa[i * PG] = 1;
		sb = l4t_create(dev, 64 * PG, 0, 0, NULL);
		sc = l4t_create(dev, 64 * PG, 0, 0, NULL);
		CHILD_CHECK(sb >= 0 && sc >= 0);
		for (int i = 0; i < 16; i++) {
			CHILD_CHECK(!map1(sb, sa, i * PG, i * PG, RW, false));
			CHILD_CHECK(!map1(sc, sb, i * PG, (16 + i) * PG, R_, i & 1));
		}
		CHILD_CHECK(!unmap1(sa, 3 * PG, R_, 0));
		CHILD_CHECK(!unmap1(sb, 5 * PG, L4_FPAGE_W, L4_UNMAP_ALL_SPACES));
		CHILD_CHECK(!munmap(wa, 16 * PG));
		close(sb);		/* first the middle: its subtrees go */
		close(sa);
		close(sc);
	}
}

struct seen {
	__u64 frames[64];
	int nframes, bad;
};

static void seen_entry(const struct l4nl_rec *r, void *arg)
{
	struct seen *s = arg;

	if (!L4NL_HAS(r, L4_A_FRAME_ID) || !L4NL_HAS(r, L4_A_E_ADDR) ||
	    L4NL_HAS(r, L4_A_E_PARENT_SPACE) != !!r->v[L4_A_E_DEPTH])
		s->bad++;
	if (s->nframes < 64)
		s->frames[s->nframes++] = r->v[L4_A_FRAME_ID];
}

/* Dumps and events while the mapping database changes: no harm, no lies. */
TEST_F(netlink, dumps_race_changes)
{
	struct l4nl nl, ev;
	struct recs spaces;
	int rcvbuf = 8192, rounds = 0, err;
	time_t end;
	pid_t pid;

	NL_OPEN(&nl);
	NL_OPEN(&ev);
	ASSERT_EQ(0, setsockopt(ev.fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)));
	ASSERT_EQ(0, l4nl_join_events(&ev));	/* overruns, never read */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		churn(self->dev, 4);
		_exit(0);
	}
	end = time(NULL) + 4;
	while (time(NULL) < end) {
		struct seen seen = { 0 };

		ASSERT_EQ(0, nl_dump(&nl, L4_CMD_SPACES, 0, 0, &spaces));
		for (size_t i = 0; i < spaces.n; i++) {
			err = l4nl_call(&nl, L4_CMD_ENTRIES, NLM_F_DUMP, L4_A_SPACE_ID,
					spaces.r[i].v[L4_A_SPACE_ID], seen_entry, &seen, NULL);
			ASSERT_TRUE(err == 0 || err == -ENOENT) TH_LOG("entries: %d", err);
		}
		recs_free(&spaces);
		ASSERT_EQ(0, seen.bad);
		for (int i = 0; i < seen.nframes; i += 7) {
			struct seen tree = { 0 };

			err = l4nl_call(&nl, L4_CMD_TREE, NLM_F_DUMP, L4_A_FRAME_ID,
					seen.frames[i], seen_entry, &tree, NULL);
			ASSERT_TRUE(err == 0 || err == -ENOENT) TH_LOG("tree: %d", err);
			ASSERT_EQ(0, tree.bad);
		}
		rounds++;
	}
	ASSERT_EQ(0, l4t_wait(pid));
	ASSERT_LT(0, rounds);
	l4nl_close(&ev);
	l4nl_close(&nl);
}

#define L4CTL		"/bin/l4ctl"

/* Run @cmd through the shell (as uid NOBODY if @nobody); output into @buf. */
static int run_as(bool nobody, const char *cmd, char *buf, size_t size)
{
	size_t len = 0;
	int p[2], status;
	ssize_t n;
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		if (nobody && (setresgid(NOBODY, NOBODY, NOBODY) ||
			       setresuid(NOBODY, NOBODY, NOBODY)))
			_exit(99);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(98);
	}
	close(p[1]);
	while (len < size - 1 && (n = read(p[0], buf + len, size - 1 - len)) > 0)
		len += n;
	buf[len] = 0;
	close(p[0]);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

#define run(cmd, buf, size)	run_as(false, (cmd), (buf), (size))

/* l4ctl in the guest: listings, JSON, DOT, and its refusals. */
TEST_F(netlink, l4ctl_tool)
{
	static char out[65536];
	char cmd[256], want[256];
	__u64 ida, idb, idc, frame;
	struct recs rs;
	struct l4nl nl;
	int sa, sb, sc;
	char *wa;

	if (access(L4CTL, X_OK))
		SKIP(return, "no " L4CTL);
	NL_OPEN(&nl);
	sa = l4t_space_window_id(self->dev, 4, 0, SIGMA0, &ida, &wa);
	ASSERT_LE(0, sa);
	sb = l4t_create(self->dev, 8 * PG, 0, 0, &idb);
	ASSERT_LE(0, sb);
	sc = l4t_create(self->dev, 8 * PG, 0, 0, &idc);
	ASSERT_LE(0, sc);
	wa[0] = wa[PG] = 1;
	ASSERT_EQ(0, map1(sb, sa, 0, PG, RW, false));
	ASSERT_EQ(0, map1(sb, sa, PG, 4 * PG, R_, false));
	ASSERT_EQ(0, map1(sc, sb, PG, 2 * PG, R_, false));
	ASSERT_EQ(0, nl_dump(&nl, L4_CMD_ENTRIES, L4_A_SPACE_ID, ida, &rs));
	ASSERT_EQ(2, rs.n);
	frame = rs.r[0].v[L4_A_FRAME_ID];
	recs_free(&rs);

	ASSERT_EQ(0, run(L4CTL " stats 2>&1", out, sizeof(out)));
	ASSERT_NE(NULL, strstr(out, "spaces")) TH_LOG("%s", out);
	snprintf(cmd, sizeof(cmd), L4CTL " --json spaces 2>&1");
	ASSERT_EQ(0, run(cmd, out, sizeof(out)));
	snprintf(want, sizeof(want), "{\"id\": %llu, \"uid\": 0, \"pid\": %d, \"size\": 32768,",
		 (unsigned long long)idb, getpid());
	ASSERT_NE(NULL, strstr(out, want)) TH_LOG("%s", out);

	snprintf(cmd, sizeof(cmd), L4CTL " --json space %llu 2>&1", (unsigned long long)idc);
	ASSERT_EQ(0, run(cmd, out, sizeof(out)));
	snprintf(want, sizeof(want),
		 "[{\"space\": %llu, \"addr\": 8192, \"frame\": %llu, \"rights\": \"r--\", \"depth\": 2, \"size\": 4096, \"parent_space\": %llu, \"parent_addr\": 4096}]",
		 (unsigned long long)idc, (unsigned long long)frame, (unsigned long long)idb);
	ASSERT_NE(NULL, strstr(out, want)) TH_LOG("%s", out);

	snprintf(cmd, sizeof(cmd), L4CTL " tree %llu 2>&1", (unsigned long long)frame);
	ASSERT_EQ(0, run(cmd, out, sizeof(out)));
	snprintf(want, sizeof(want), "space %llu 0 rwx\n  space %llu 0x1000 rw-\n    space %llu 0x2000 r--\n",
		 (unsigned long long)ida, (unsigned long long)idb, (unsigned long long)idc);
	ASSERT_NE(NULL, strstr(out, want)) TH_LOG("%s", out);

	ASSERT_EQ(0, run(L4CTL " dot 2>&1", out, sizeof(out)));
	ASSERT_EQ(0, strncmp(out, "digraph l4 {", 12)) TH_LOG("%s", out);
	snprintf(want, sizeof(want), "n%llu_1000 -> n%llu_2000 [label=\"r--\"];",
		 (unsigned long long)idb, (unsigned long long)idc);
	ASSERT_NE(NULL, strstr(out, want)) TH_LOG("%s", out);
	/* for the README's picture: the DOT text in the log */
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"))
		printf("# dot| %s\n", line);

	/* refusals, in words */
	snprintf(cmd, sizeof(cmd), L4CTL " space %llu", (unsigned long long)ida);
	ASSERT_EQ(1, run_as(true, cmd, out, sizeof(out)));
	ASSERT_NE(NULL, strstr(out, "permission denied")) TH_LOG("%s", out);
	if (!kernel_filters()) {	/* else it monitors: l4ctl_monitor_lost */
		ASSERT_EQ(1, run_as(true, L4CTL " monitor", out, sizeof(out)));
		ASSERT_NE(NULL, strstr(out, "CAP_SYS_ADMIN")) TH_LOG("%s", out);
	}
	ASSERT_EQ(1, run(L4CTL " tree 0 2>&1", out, sizeof(out)));
	ASSERT_NE(NULL, strstr(out, "no such space or frame")) TH_LOG("%s", out);

	ASSERT_EQ(0, munmap(wa, 4 * PG));
	ASSERT_EQ(0, close(sa));
	ASSERT_EQ(0, close(sb));
	ASSERT_EQ(0, close(sc));
	l4nl_close(&nl);
}

/* l4ctl --json monitor -n @count, as NOBODY if @nobody; its output in *@fd. */
static pid_t monitor_start(bool nobody, int count, int *fd)
{
	char n[16];
	int p[2];
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		if (nobody && (setresgid(NOBODY, NOBODY, NOBODY) ||
			       setresuid(NOBODY, NOBODY, NOBODY)))
			_exit(99);
		/* gone with the test, should it fail (after the uid change) */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() == 1)
			_exit(97);
		snprintf(n, sizeof(n), "%d", count);
		execl(L4CTL, "l4ctl", "--json", "monitor", "-n", n, (char *)NULL);
		_exit(98);
	}
	close(p[1]);
	*fd = p[0];
	return pid;
}

/*
 * Append what @fd has to @buf (@len so far) until @until appears, EOF, or
 * no output for @quiet_ms.
 */
static size_t monitor_read(int fd, char *buf, size_t size, size_t len,
			   const char *until, int quiet_ms)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		buf[len] = 0;
		if (until && strstr(buf, until))
			break;
		if (len >= size - 1 || poll(&pfd, 1, quiet_ms) <= 0)
			break;
		n = read(fd, buf + len, size - 1 - len);
		if (n <= 0)
			break;
		len += n;
	}
	return len;
}

/* Events shown and lost, in l4ctl --json monitor's output. */
static void monitor_count(const char *out, long *shown, long *lost)
{
	const char *p;

	*shown = *lost = 0;
	for (p = out; (p = strstr(p, "\"event\": ")); p++)
		++*shown;
	for (p = out; (p = strstr(p, "{\"lost\": ")); p++)
		*lost += atol(p + 9);
}

/* NOBODY creates a space and lets it go, with @unmaps unmaps in between. */
static void nobody_space(int dev, int unmaps)
{
	pid_t pid = fork();

	if (!pid) {
		int sa;

		drop_to_nobody();
		sa = l4t_create(dev, 4 * PG, 0, 0, NULL);
		CHILD_CHECK(sa >= 0);
		for (int i = 0; i < unmaps; i++)
			CHILD_CHECK(!unmap1(sa, PG, R_, 0));
		_exit(0);
	}
	if (pid < 0 || l4t_wait(pid))
		abort();
}

/*
 * l4ctl monitor for root and for NOBODY (where the kernel filters), both
 * stopped while 502 events go by: each tells how many it lost by the
 * sequence that applies to it, so that shown + lost is exactly what each had
 * to see (-n makes it exit there).
 */
TEST_F(netlink, l4ctl_monitor_lost)
{
	static char out0[1 << 20], out1[1 << 20];
	bool filters = kernel_filters();
	size_t len0, len1 = 0;
	long shown, lost;
	int fd0, fd1 = -1, sd;
	pid_t m0, m1 = 0;

	if (access(L4CTL, X_OK))
		SKIP(return, "no " L4CTL);
	/* root: 2 of root's + 504 of NOBODY's; NOBODY: its 504 */
	m0 = monitor_start(false, 506, &fd0);
	ASSERT_LT(0, m0);
	len0 = monitor_read(fd0, out0, sizeof(out0), 0, "\n", 20000);
	ASSERT_NE(NULL, strstr(out0, "l4ctl: monitor: all events\n")) TH_LOG("%s", out0);
	if (filters) {
		m1 = monitor_start(true, 504, &fd1);
		ASSERT_LT(0, m1);
		len1 = monitor_read(fd1, out1, sizeof(out1), 0, "\n", 20000);
		ASSERT_NE(NULL, strstr(out1, "l4ctl: monitor: the events of uid 65534's spaces\n"))
			TH_LOG("%s", out1);
		ASSERT_EQ(0, kill(m1, SIGSTOP));
	}
	ASSERT_EQ(0, kill(m0, SIGSTOP));
	sd = l4t_create(self->dev, 4 * PG, 0, 0, NULL);	/* root's 2 */
	ASSERT_LE(0, sd);
	ASSERT_EQ(0, close(sd));
	nobody_space(self->dev, 500);			/* NOBODY's 502 */
	ASSERT_EQ(0, kill(m0, SIGCONT));
	if (filters)
		ASSERT_EQ(0, kill(m1, SIGCONT));
	/* until they read what fitted: an overrun socket takes no more before */
	len0 = monitor_read(fd0, out0, sizeof(out0), len0, NULL, 1500);
	if (filters)
		len1 = monitor_read(fd1, out1, sizeof(out1), len1, NULL, 1500);
	nobody_space(self->dev, 0);			/* NOBODY's last 2 */
	len0 = monitor_read(fd0, out0, sizeof(out0), len0, NULL, 20000);
	close(fd0);
	ASSERT_EQ(0, l4t_wait(m0)) TH_LOG("%s", out0);
	monitor_count(out0, &shown, &lost);
	ASSERT_LT(0, lost) TH_LOG("%s", out0);
	ASSERT_EQ(506, shown + lost) TH_LOG("%s", out0);
	ASSERT_NE(NULL, strstr(out0, "\"uid\": 0}"));
	ASSERT_NE(NULL, strstr(out0 + len0 - 120, "\"event\": \"destroy\"")) TH_LOG("%s", out0);
	if (!filters)
		return;

	len1 = monitor_read(fd1, out1, sizeof(out1), len1, NULL, 20000);
	close(fd1);
	ASSERT_EQ(0, l4t_wait(m1)) TH_LOG("%s", out1);
	monitor_count(out1, &shown, &lost);
	ASSERT_LT(0, lost) TH_LOG("%s", out1);
	ASSERT_EQ(504, shown + lost) TH_LOG("%s", out1);
	ASSERT_EQ(NULL, strstr(out1, "\"uid\": 0}"));	/* none of root's */
	ASSERT_NE(NULL, strstr(out1, "\"uid\": 65534}"));
	/* the last one: NOBODY's last space going */
	ASSERT_NE(NULL, strstr(out1 + len1 - 120, "\"event\": \"destroy\"")) TH_LOG("%s", out1);
}

TEST_HARNESS_MAIN
