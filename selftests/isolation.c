// SPDX-License-Identifier: GPL-2.0
/*
 * What one unprivileged user can learn of or do to another's memory.
 *
 * The guest runs as root; the tests fork children that drop to uids 1001
 * and 1002 (setgroups(0), setresgid, setresuid). /dev/l4 is opened by the
 * parent and inherited (the owner of a space is the euid at CREATE_SPACE,
 * not at open): access to /dev/l4 is the permission to make spaces, and
 * nothing else the test does needs root.
 *
 *  - introspection: another user's spaces are not listed, a get or an
 *    entries dump of one is EPERM, a tree dump of another user's frame
 *    answers ENOENT exactly as for a frame that does not exist, and no
 *    event of another user's spaces reaches a subscriber (before Linux 6.8
 *    joining the events group needs CAP_SYS_ADMIN: EPERM);
 *  - frames arrive zeroed, also right after another user freed frames
 *    full of data;
 *  - a mapping never widens rights: R mapped on asking RW stays R, and the
 *    window's PTE refuses the write (SIGSEGV);
 *  - frame limits hold for users: a space's own limit and the global
 *    module parameter (which only root may change) end in SIGBUS.
 */
#define _GNU_SOURCE
#include <grp.h>
#include <sys/utsname.h>

#include "l4_test_util.h"
#include "l4_nl.h"

L4T_FIXTURE(isolation);

#define PG		L4T_PAGE
#define UID_A		1001
#define UID_B		1002

static void become(uid_t uid)
{
	CHILD_CHECK(!setgroups(0, NULL));
	CHILD_CHECK(!setresgid(uid, uid, uid));
	CHILD_CHECK(!setresuid(uid, uid, uid));
	CHILD_CHECK(geteuid() == uid);
}

static bool kernel_filters_events(void)
{
	struct utsname u;
	int major, minor;

	if (uname(&u) || sscanf(u.release, "%d.%d", &major, &minor) != 2)
		return false;
	return major > 6 || (major == 6 && minor >= 8);
}

/* Netlink records, collected into shared memory. */
#define NREC 64
struct recset {
	int n;
	struct l4nl_rec r[NREC];
};

static void rec_add(const struct l4nl_rec *rec, void *arg)
{
	struct recset *rs = arg;

	if (rs->n < NREC)
		rs->r[rs->n] = *rec;
	rs->n++;
}

static int dump(struct l4nl *nl, __u8 cmd, __u16 attr, __u64 val,
		struct recset *rs)
{
	rs->n = 0;
	return l4nl_call(nl, cmd, NLM_F_DUMP, attr, val, rec_add, rs, NULL);
}

/* What user B saw of user A's space. */
struct view {
	__u64 ida, frame_a;		/* A's space and its frame */
	__u64 idb;			/* B's own space */
	int a_entries, a_entries_n;	/* A's own view */
	int spaces, spaces_n, spaces_own, spaces_uid_ok;
	int get, entries, tree, tree_n, tree_missing, get_missing;
	int root_spaces_n, root_tree, root_tree_n;
};

/*
 * A (1001) holds a space with one frame; B (1002) holds one of its own and
 * looks at A's through every netlink request.
 */
TEST_F(isolation, netlink_hides_other_users)
{
	struct view *v = l4t_shared(sizeof(*v));
	struct recset *rs = l4t_shared(sizeof(*rs));
	int a_ready[2], a_done[2];
	struct l4nl nl;
	pid_t a, b;
	int i, found_a = 0, found_b = 0;

	ASSERT_NE(NULL, v);
	ASSERT_NE(NULL, rs);
	ASSERT_EQ(0, pipe(a_ready));
	ASSERT_EQ(0, pipe(a_done));

	a = fork();
	ASSERT_LE(0, a);
	if (!a) {
		struct l4nl anl;
		char *win;
		int fd;

		become(UID_A);
		fd = l4t_space_window_id(self->dev, 4, 0, L4_SPACE_SIGMA0, &v->ida, &win);
		CHILD_CHECK(fd >= 0);
		win[PG] = 1;
		CHILD_CHECK(!l4nl_open(&anl));
		v->a_entries = dump(&anl, L4_CMD_ENTRIES, L4_A_SPACE_ID, v->ida, rs);
		v->a_entries_n = rs->n;
		if (rs->n == 1)
			v->frame_a = rs->r[0].v[L4_A_FRAME_ID];
		l4nl_close(&anl);
		CHILD_CHECK(!l4t_post(a_ready[1]));
		CHILD_CHECK(!l4t_pend(a_done[0]));	/* keeps its space till then */
		_exit(0);
	}
	ASSERT_EQ(0, l4t_pend(a_ready[0]));
	ASSERT_EQ(0, v->a_entries);
	ASSERT_EQ(1, v->a_entries_n);
	ASSERT_NE(0ULL, v->frame_a);

	b = fork();
	ASSERT_LE(0, b);
	if (!b) {
		struct l4nl bnl;
		char *win;
		int fd;

		become(UID_B);
		fd = l4t_space_window_id(self->dev, 4, 0, L4_SPACE_SIGMA0, &v->idb, &win);
		CHILD_CHECK(fd >= 0);
		win[0] = 1;
		CHILD_CHECK(!l4nl_open(&bnl));
		v->spaces = dump(&bnl, L4_CMD_SPACES, 0, 0, rs);
		v->spaces_n = rs->n;
		for (i = 0; i < rs->n && i < NREC; i++) {
			v->spaces_own += rs->r[i].v[L4_A_SPACE_ID] == v->idb;
			v->spaces_uid_ok += rs->r[i].v[L4_A_SPACE_UID] == UID_B;
		}
		v->get = l4nl_call(&bnl, L4_CMD_SPACES, 0, L4_A_SPACE_ID, v->ida,
				   NULL, NULL, NULL);
		v->get_missing = l4nl_call(&bnl, L4_CMD_SPACES, 0, L4_A_SPACE_ID,
					   v->idb + 1000000, NULL, NULL, NULL);
		v->entries = dump(&bnl, L4_CMD_ENTRIES, L4_A_SPACE_ID, v->ida, rs);
		v->tree = dump(&bnl, L4_CMD_TREE, L4_A_FRAME_ID, v->frame_a, rs);
		v->tree_n = rs->n;
		v->tree_missing = dump(&bnl, L4_CMD_TREE, L4_A_FRAME_ID,
				       v->frame_a + 1000000, rs);
		l4nl_close(&bnl);
		CHILD_CHECK(!munmap(win, 4 * PG));
		CHILD_CHECK(!close(fd));
		_exit(0);
	}
	ASSERT_EQ(0, l4t_wait(b));

	/* root (CAP_SYS_ADMIN) sees A's space and its tree */
	ASSERT_EQ(0, l4nl_open(&nl));
	ASSERT_EQ(0, dump(&nl, L4_CMD_SPACES, 0, 0, rs));
	for (i = 0; i < rs->n && i < NREC; i++) {
		found_a += rs->r[i].v[L4_A_SPACE_ID] == v->ida &&
			   rs->r[i].v[L4_A_SPACE_UID] == UID_A;
		found_b += rs->r[i].v[L4_A_SPACE_ID] == v->idb;
	}
	EXPECT_EQ(1, found_a);
	EXPECT_EQ(0, found_b);			/* B closed its space */
	EXPECT_EQ(0, dump(&nl, L4_CMD_TREE, L4_A_FRAME_ID, v->frame_a, rs));
	EXPECT_EQ(1, rs->n);
	l4nl_close(&nl);

	ASSERT_EQ(0, l4t_post(a_done[1]));
	ASSERT_EQ(0, l4t_wait(a));

	/* B's dump: exactly its own space */
	EXPECT_EQ(0, v->spaces);
	EXPECT_EQ(1, v->spaces_n);
	EXPECT_EQ(1, v->spaces_own);
	EXPECT_EQ(1, v->spaces_uid_ok);
	EXPECT_EQ(-EPERM, v->get);
	EXPECT_EQ(-ENOENT, v->get_missing);
	EXPECT_EQ(-EPERM, v->entries);
	/* another user's frame is answered like a missing one */
	EXPECT_EQ(-ENOENT, v->tree_missing);
	EXPECT_EQ(-ENOENT, v->tree) TH_LOG("tree dump of another user's frame: %d, %d nodes",
					   v->tree, v->tree_n);
	EXPECT_EQ(0, v->tree_n);
	for (i = 0; i < 2; i++) {
		close(i ? a_ready[0] : a_done[1]);
		close(i ? a_ready[1] : a_done[0]);
	}
}

/* Read events from @nl until B's own SPACE_CREATE of @idb; count others. */
static int read_events(struct l4nl *nl, __u64 idb, int *own, int *others,
		       __u64 *other_uid)
{
	static char buf[L4NL_BUF];
	struct l4nl_rec rec;

	for (;;) {
		ssize_t n = recv(nl->fd, buf, sizeof(buf), 0);
		struct nlmsghdr *nlh;

		if (n < 0)
			return -errno;
		for (nlh = (void *)buf; NLMSG_OK(nlh, n); nlh = NLMSG_NEXT(nlh, n)) {
			if (nlh->nlmsg_type != nl->family)
				continue;
			l4nl_parse(nlh, &rec);
			if (rec.cmd != L4_CMD_EVENT)
				continue;
			if (rec.v[L4_A_SPACE_UID] != UID_B ||
			    !L4NL_HAS(&rec, L4_A_SPACE_UID)) {
				(*others)++;
				*other_uid = rec.v[L4_A_SPACE_UID];
				continue;
			}
			(*own)++;
			if (rec.v[L4_A_EV_TYPE] == L4_EV_SPACE_CREATE &&
			    rec.v[L4_A_SPACE_ID] == idb)
				return 0;
		}
	}
}

struct ev_view {
	int join, read, own, others;
	__u64 other_uid;
};

/*
 * B subscribes, then A works on its spaces (create, fault, map, unmap,
 * close); then B makes a space itself. Everything A did happened before
 * B's event, so B's socket holds whatever of A's reached it before its own
 * SPACE_CREATE: nothing may.
 */
TEST_F(isolation, no_events_of_other_users)
{
	struct ev_view *v = l4t_shared(sizeof(*v));
	int joined[2], a_done[2];
	pid_t a, b;

	ASSERT_NE(NULL, v);
	ASSERT_EQ(0, pipe(joined));
	ASSERT_EQ(0, pipe(a_done));

	b = fork();
	ASSERT_LE(0, b);
	if (!b) {
		struct timeval tv = { .tv_sec = 20 };	/* a failure, not a pace */
		struct l4nl nl;
		__u64 idb;
		int fd;

		become(UID_B);
		CHILD_CHECK(!l4nl_open(&nl));
		v->join = l4nl_join_events(&nl);
		CHILD_CHECK(!l4t_post(joined[1]));
		if (v->join)
			_exit(0);
		CHILD_CHECK(!setsockopt(nl.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
		CHILD_CHECK(!l4t_pend(a_done[0]));
		fd = l4t_create(self->dev, 4 * PG, 0, L4_SPACE_SIGMA0, &idb);
		CHILD_CHECK(fd >= 0);
		v->read = read_events(&nl, idb, &v->own, &v->others, &v->other_uid);
		CHILD_CHECK(!close(fd));
		_exit(0);
	}
	ASSERT_EQ(0, l4t_pend(joined[0]));

	a = fork();
	ASSERT_LE(0, a);
	if (!a) {
		struct l4_map m = { 0 };
		struct l4_unmap u = { 0 };
		char *w1;
		int s1, s2;

		become(UID_A);
		s1 = l4t_space_window(self->dev, 8, 0, L4_SPACE_SIGMA0, &w1);
		CHILD_CHECK(s1 >= 0);
		l4t_fill(w1, 0, 4 * PG, 3);
		s2 = l4t_create(self->dev, 8 * PG, 0, 0, NULL);
		CHILD_CHECK(s2 >= 0);
		m.src_fd = s1;
		m.item.control = L4_MAP_ITEM(0, 0);
		m.item.fpage = L4_FPAGE(0, 14, L4_FPAGE_RW);
		m.rcv_fpage = L4_FPAGE_WHOLE_SPACE;
		CHILD_CHECK(!ioctl(s2, L4_IOC_MAP, &m));
		u.fpage = L4_FPAGE(0, 13, L4_FPAGE_RWX);
		CHILD_CHECK(!ioctl(s1, L4_IOC_UNMAP, &u));
		CHILD_CHECK(!munmap(w1, 8 * PG));
		CHILD_CHECK(!close(s2));
		CHILD_CHECK(!close(s1));
		_exit(0);
	}
	ASSERT_EQ(0, l4t_wait(a));
	ASSERT_EQ(0, l4t_post(a_done[1]));
	ASSERT_EQ(0, l4t_wait(b));

	if (!kernel_filters_events()) {
		/* before 6.8: no filtered multicast, so no join without the cap */
		ASSERT_EQ(-EPERM, v->join);
		return;
	}
	ASSERT_EQ(0, v->join);
	ASSERT_EQ(0, v->read);
	EXPECT_EQ(0, v->others) TH_LOG("an event of uid %llu reached uid %d",
				       v->other_uid, UID_B);
	EXPECT_EQ(1, v->own);			/* its SPACE_CREATE */
}

/*
 * Root fills frames with data and frees them; user A then gets as many
 * frames (likely the same pages): every byte is zero. And A's own freed
 * frames come back zeroed to A as well.
 */
TEST_F(isolation, frames_arrive_zeroed)
{
	const size_t pages = 256;
	volatile long *res = l4t_shared(2 * sizeof(long));
	char *win;
	pid_t pid;
	int fd;

	ASSERT_NE(NULL, res);
	fd = l4t_space_window(self->dev, pages, 0, L4_SPACE_SIGMA0, &win);
	ASSERT_LE(0, fd);
	memset(win, 0xa5, pages * PG);
	ASSERT_EQ(0, munmap(win, pages * PG));
	ASSERT_EQ(0, close(fd));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int round;

		become(UID_A);
		for (round = 0; round < 2; round++) {
			fd = l4t_space_window(self->dev, pages, 0, L4_SPACE_SIGMA0, &win);
			CHILD_CHECK(fd >= 0);
			res[round] = l4t_check_zero(win, pages * PG);
			memset(win, 0x5a, pages * PG);
			CHILD_CHECK(!munmap(win, pages * PG));
			CHILD_CHECK(!close(fd));
		}
		_exit(0);
	}
	ASSERT_EQ(0, l4t_wait(pid));
	EXPECT_EQ(-1L, res[0]);
	EXPECT_EQ(-1L, res[1]);
}

struct rights_view {
	int map_rw, map_pages, grant_rw, grant_pages;
	int read_sig, write_sig, write_first_sig, grant_write_sig;
	__u64 read_val, rights_u, rights_v;
	int dump;
};

/*
 * S (sigma0) -> T with R; T -> U asking RW: U holds R only, its window
 * reads S's data and refuses writes with SIGSEGV, whether the page was read
 * first (a write-protect fault) or not; a grant T -> V asking RW is R too.
 * The entries dump says R.
 */
TEST_F(isolation, map_never_widens_rights)
{
	struct rights_view *v = l4t_shared(sizeof(*v));
	pid_t pid;

	ASSERT_NE(NULL, v);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct l4_map m = { 0 };
		struct l4t_fault f;
		struct recset *rs = l4t_shared(sizeof(*rs));
		struct l4nl nl;
		__u64 idu = 0, idv = 0, val = 7;
		char *sw, *uw = NULL, *vw = NULL;
		int s, t, u, w;

		become(UID_A);
		CHILD_CHECK(rs);
		s = l4t_space_window(self->dev, 4, 0, L4_SPACE_SIGMA0, &sw);
		CHILD_CHECK(s >= 0);
		l4t_fill(sw, 0, 4 * PG, 9);
		t = l4t_create(self->dev, 4 * PG, 0, 0, NULL);
		u = l4t_space_window_id(self->dev, 4, 0, 0, &idu, &uw);
		w = l4t_space_window_id(self->dev, 4, 0, 0, &idv, &vw);
		CHILD_CHECK(t >= 0 && u >= 0 && w >= 0);

		m.src_fd = s;
		m.item.control = L4_MAP_ITEM(0, 0);
		m.item.fpage = L4_FPAGE(0, 14, L4_FPAGE_R);
		m.rcv_fpage = L4_FPAGE_WHOLE_SPACE;
		CHILD_CHECK(!ioctl(t, L4_IOC_MAP, &m) && m.pages == 4);

		memset(&m, 0, sizeof(m));
		m.src_fd = t;
		m.item.control = L4_MAP_ITEM(0, 0);
		m.item.fpage = L4_FPAGE(0, 13, L4_FPAGE_RW);	/* pages 0, 1 */
		m.rcv_fpage = L4_FPAGE_WHOLE_SPACE;
		v->map_rw = ioctl(u, L4_IOC_MAP, &m);
		v->map_pages = m.pages;

		memset(&m, 0, sizeof(m));
		m.src_fd = t;
		m.item.control = L4_MAP_ITEM(2 * PG, 1);	/* grant page 2 */
		m.item.fpage = L4_FPAGE(2 * PG, 12, L4_FPAGE_RWX);
		m.rcv_fpage = L4_FPAGE_WHOLE_SPACE;
		v->grant_rw = ioctl(w, L4_IOC_MAP, &m);
		v->grant_pages = m.pages;

		v->read_sig = l4t_access((volatile __u64 *)(uw + 8), L4T_READ,
					 &v->read_val, &f);
		v->write_sig = l4t_access((volatile __u64 *)(uw + 8), L4T_WRITE, &val, &f);
		v->write_first_sig = l4t_access((volatile __u64 *)(uw + PG), L4T_WRITE,
						&val, &f);
		v->grant_write_sig = l4t_access((volatile __u64 *)(vw + 2 * PG),
						L4T_WRITE, &val, &f);

		CHILD_CHECK(!l4nl_open(&nl));
		v->dump = dump(&nl, L4_CMD_ENTRIES, L4_A_SPACE_ID, idu, rs);
		if (rs->n >= 1)
			v->rights_u = rs->r[0].v[L4_A_E_RIGHTS] | (__u64)rs->n << 8;
		v->dump |= dump(&nl, L4_CMD_ENTRIES, L4_A_SPACE_ID, idv, rs);
		if (rs->n >= 1)
			v->rights_v = rs->r[0].v[L4_A_E_RIGHTS] | (__u64)rs->n << 8;
		l4nl_close(&nl);
		/* S's data is untouched */
		CHILD_CHECK(l4t_check(sw, 0, 4 * PG, 9) == -1);
		_exit(0);
	}
	ASSERT_EQ(0, l4t_wait(pid));
	ASSERT_EQ(0, v->map_rw);
	ASSERT_EQ(2, v->map_pages);
	ASSERT_EQ(0, v->grant_rw);
	ASSERT_EQ(1, v->grant_pages);
	ASSERT_EQ(0, v->read_sig);
	ASSERT_EQ(l4t_word(9, 8), v->read_val);
	ASSERT_EQ(SIGSEGV, v->write_sig);
	ASSERT_EQ(SIGSEGV, v->write_first_sig);
	ASSERT_EQ(SIGSEGV, v->grant_write_sig);
	ASSERT_EQ(0, v->dump);
	ASSERT_EQ(L4_FPAGE_R | 2 << 8, v->rights_u);	/* 2 entries, R */
	ASSERT_EQ(L4_FPAGE_R | 1 << 8, v->rights_v);
}

struct limit_view {
	int own_sig, own_code, global_sig, param_write, param_errno;
	size_t own_ok, global_ok;
	__u64 own_frames;
};

/*
 * A user's space with its own limit of 4 frames: the 5th touch is a
 * SIGBUS. The global limit (set by root to what is in use + 8) stops the
 * user's 9th frame, whatever the space says; and the user cannot raise it.
 */
TEST_F(isolation, frame_limits_hold_for_users)
{
	struct limit_view *v = l4t_shared(sizeof(*v));
	const __u64 orig = self->before.max_frames;
	struct l4_stats st;
	int go[2], done[2];
	pid_t pid;

	ASSERT_NE(NULL, v);
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(done));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct l4t_fault f;
		char *w;
		int s;

		become(UID_A);
		s = l4t_space_window(self->dev, 16, 4, L4_SPACE_SIGMA0, &w);
		CHILD_CHECK(s >= 0);
		v->own_ok = l4t_touch(w, 16, L4T_WRITE, &f);
		v->own_sig = f.sig;
		v->own_code = f.code;
		{
			struct l4_space_info info;

			CHILD_CHECK(!l4t_info(s, &info));
			v->own_frames = info.frames;
		}
		CHILD_CHECK(!munmap(w, 16 * PG));
		CHILD_CHECK(!close(s));

		v->param_write = l4t_write_u64(L4T_PARAM_MAX_FRAMES, 1ULL << 40);
		v->param_errno = errno;

		CHILD_CHECK(!l4t_post(done[1]));
		CHILD_CHECK(!l4t_pend(go[0]));	/* root set the global limit */
		s = l4t_space_window(self->dev, 32, 0, L4_SPACE_SIGMA0, &w);
		CHILD_CHECK(s >= 0);
		v->global_ok = l4t_touch(w, 32, L4T_READ, &f);
		v->global_sig = f.sig;
		CHILD_CHECK(!munmap(w, 32 * PG));
		CHILD_CHECK(!close(s));
		_exit(0);
	}
	ASSERT_EQ(0, l4t_pend(done[0]));
	ASSERT_EQ(0, l4t_stats(self->dev, &st));
	ASSERT_EQ(0, l4t_write_u64(L4T_PARAM_MAX_FRAMES, st.frames + 8));
	ASSERT_EQ(0, l4t_post(go[1]));
	ASSERT_EQ(0, l4t_wait(pid));
	ASSERT_EQ(0, l4t_write_u64(L4T_PARAM_MAX_FRAMES, orig));

	EXPECT_EQ((size_t)4, v->own_ok);
	EXPECT_EQ(SIGBUS, v->own_sig);
	EXPECT_EQ(BUS_ADRERR, v->own_code);
	EXPECT_EQ(4ULL, v->own_frames);
	EXPECT_EQ(-1, v->param_write);
	EXPECT_EQ(EACCES, v->param_errno);
	EXPECT_EQ((size_t)8, v->global_ok);
	EXPECT_EQ(SIGBUS, v->global_sig);
	close(go[0]); close(go[1]); close(done[0]); close(done[1]);
}

TEST_HARNESS_MAIN
