// SPDX-License-Identifier: GPL-2.0
/*
 * l4ctl: look into l4u through its generic-netlink family "l4"
 * (uapi/linux/l4_netlink.h), on libnl-genl-3.
 *
 *   l4ctl [-j|--json] stats          global statistics
 *   l4ctl [-j|--json] spaces         the spaces you may see
 *   l4ctl [-j|--json] space ID       one space's entries
 *   l4ctl [-j|--json] tree FRAME     one frame's derivation tree
 *   l4ctl [-j|--json] monitor [-n N] [-s ID] [-p PID] [-t TYPE,...]   live events
 *   l4ctl dot [ID]                   the mapping database as Graphviz DOT
 *   l4ctl help | --help | --version
 *
 * The arguments are checked before anything talks to the module. Exit
 * status: 0 done, 1 the module refused or is not there, 2 bad usage
 * (l4ctl(8)).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include <linux/l4_netlink.h>
#include <l4u/l4u.h>

/* exit codes (l4ctl(8)) */
#define EXIT_FAIL	1	/* the module is not there or refused */
#define EXIT_USAGE	2	/* bad command line */

static bool json;
static struct nl_sock *sk;
static int family;

/* ------------------------------------------------------------------ */
/* netlink                                                             */
/* ------------------------------------------------------------------ */

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "l4ctl: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(EXIT_FAIL);
}

/* A bad command line: "l4ctl: CMD: what", exit status 2. */
static const char *cur_cmd;

static void __attribute__((format(printf, 1, 2))) usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "l4ctl: ");
	if (cur_cmd)
		fprintf(stderr, "%s: ", cur_cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_USAGE);
}

static void l4_connect(void)
{
	sk = nl_socket_alloc();
	if (!sk)
		die("%s", "out of memory");
	if (genl_connect(sk))
		die("%s", "cannot open a generic netlink socket");
	family = genl_ctrl_resolve(sk, L4_GENL_NAME);
	if (family < 0)
		die("no generic netlink family \"l4\": %s", l4u_open_strerror(-ENOENT));
}

static const char *l4_strerror(int err)
{
	switch (-err) {
	case NLE_PERM:
		return "permission denied: that belongs to another user (needs CAP_SYS_ADMIN)";
	case NLE_OBJ_NOTFOUND:
		return "no such space or frame";
	case NLE_DUMP_INTR:
		return "the mapping database kept changing during the dump; try again";
	default:
		return nl_geterror(err);
	}
}

typedef void (*rec_fn)(struct nlattr **tb, void *arg);

struct handler {
	rec_fn fn;
	void *arg;
};

static int l4_valid(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[L4_A_MAX + 1];
	struct handler *h = arg;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, L4_A_MAX, NULL))
		return NL_SKIP;
	h->fn(tb, h->arg);
	return NL_OK;
}

/*
 * One request (a dump if @dump) with at most one u64 attribute; each answer
 * goes to @fn. An interrupted dump is tried again a few times (the caller's
 * @fn must cope: it is given a @reset call first, when set).
 */
static int l4_request(int cmd, bool dump, int attr, uint64_t val, rec_fn fn,
		      void *arg, void (*reset)(void *))
{
	struct handler h = { fn, arg };
	int err, tries = 0;

	do {
		struct nl_msg *msg = nlmsg_alloc();

		if (!msg)
			return -NLE_NOMEM;
		if (reset)
			reset(arg);
		genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0,
			    dump ? NLM_F_DUMP : 0, cmd, L4_GENL_VERSION);
		if (attr)
			nla_put_u64(msg, attr, val);
		nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, l4_valid, &h);
		err = nl_send_auto(sk, msg);
		nlmsg_free(msg);
		if (err < 0)
			return err;
		err = nl_recvmsgs_default(sk);
		if (!err && !dump)
			err = nl_wait_for_ack(sk);
	} while (err == -NLE_DUMP_INTR && ++tries < 5);
	return err;
}

static void l4_check(int err, const char *what)
{
	if (err < 0) {
		fprintf(stderr, "l4ctl: %s: %s\n", what, l4_strerror(err));
		exit(EXIT_FAIL);
	}
}

static uint64_t u64(struct nlattr **tb, int a)
{
	return tb[a] ? nla_get_u64(tb[a]) : 0;
}

static uint32_t u32(struct nlattr **tb, int a)
{
	return tb[a] ? nla_get_u32(tb[a]) : 0;
}

static uint8_t u8(struct nlattr **tb, int a)
{
	return tb[a] ? nla_get_u8(tb[a]) : 0;
}

static const char *rights_str(unsigned int r)
{
	static char s[4];

	s[0] = r & 4 ? 'r' : '-';
	s[1] = r & 2 ? 'w' : '-';
	s[2] = r & 1 ? 'x' : '-';
	s[3] = 0;
	return s;
}

/* ------------------------------------------------------------------ */
/* stats                                                               */
/* ------------------------------------------------------------------ */

static const struct {
	int attr;
	const char *name;
} stat_names[] = {
	{ L4_A_ST_SPACES, "spaces" },
	{ L4_A_ST_FRAMES, "frames" },
	{ L4_A_ST_SUPERPAGES, "superpages" },
	{ L4_A_ST_NODES, "nodes" },
	{ L4_A_ST_WINDOWS, "windows" },
	{ L4_A_ST_GATES, "gates" },
	{ L4_A_ST_KERNEL_FAULTS, "kernel_faults" },
	{ L4_A_ST_PAGER_FAULTS, "pager_faults" },
	{ L4_A_ST_REPLIES, "replies" },
	{ L4_A_ST_MAPS, "maps" },
	{ L4_A_ST_GRANTS, "grants" },
	{ L4_A_ST_UNMAPS, "unmaps" },
	{ L4_A_ST_REVOKED, "revoked" },
	{ L4_A_ST_ERRORS, "errors" },
	{ L4_A_ST_EVENTS, "events" },
	{ L4_A_ST_EVENTS_LOST, "events_lost" },
};

static void stats_rec(struct nlattr **tb, void *arg)
{
	size_t i;

	(void)arg;
	if (json)
		putchar('{');
	for (i = 0; i < sizeof(stat_names) / sizeof(stat_names[0]); i++) {
		uint64_t v = u64(tb, stat_names[i].attr);

		if (json)
			printf("%s\"%s\": %" PRIu64, i ? ", " : "", stat_names[i].name, v);
		else
			printf("%-14s %" PRIu64 "\n", stat_names[i].name, v);
	}
	if (json)
		printf("}\n");
}

static int cmd_stats(void)
{
	l4_check(l4_request(L4_CMD_STATS, false, 0, 0, stats_rec, NULL, NULL), "stats");
	return 0;
}

/* ------------------------------------------------------------------ */
/* spaces                                                              */
/* ------------------------------------------------------------------ */

struct list {
	int n;
};

static void list_reset(void *arg)
{
	((struct list *)arg)->n = 0;
}

static void space_rec(struct nlattr **tb, void *arg)
{
	struct list *l = arg;

	if (json) {
		printf("%s{\"id\": %" PRIu64 ", \"uid\": %u, \"pid\": %u, \"size\": %" PRIu64
		       ", \"flags\": %u, \"frames\": %" PRIu64 ", \"nodes\": %" PRIu64
		       ", \"windows\": %u, \"pager\": %s, \"max_frames\": %" PRIu64
		       ", \"superpages\": %" PRIu64 "}",
		       l->n ? ",\n " : "[", u64(tb, L4_A_SPACE_ID), u32(tb, L4_A_SPACE_UID),
		       u32(tb, L4_A_SPACE_PID), u64(tb, L4_A_SPACE_SIZE),
		       u32(tb, L4_A_SPACE_FLAGS), u64(tb, L4_A_SPACE_FRAMES),
		       u64(tb, L4_A_SPACE_NODES), u32(tb, L4_A_SPACE_WINDOWS),
		       u8(tb, L4_A_SPACE_PAGER) ? "true" : "false",
		       u64(tb, L4_A_SPACE_MAX_FRAMES), u64(tb, L4_A_SPACE_SUPERPAGES));
	} else {
		if (!l->n)
			printf("%6s %6s %7s %12s %8s %6s %8s %7s %5s %5s\n", "ID", "UID",
			       "PID", "SIZE", "FRAMES", "SUPER", "NODES", "WINDOWS", "PAGER",
			       "FLAGS");
		printf("%6" PRIu64 " %6u %7u %12" PRIu64 " %8" PRIu64 " %6" PRIu64
		       " %8" PRIu64 " %7u %5s %#5x\n",
		       u64(tb, L4_A_SPACE_ID), u32(tb, L4_A_SPACE_UID),
		       u32(tb, L4_A_SPACE_PID), u64(tb, L4_A_SPACE_SIZE),
		       u64(tb, L4_A_SPACE_FRAMES), u64(tb, L4_A_SPACE_SUPERPAGES),
		       u64(tb, L4_A_SPACE_NODES),
		       u32(tb, L4_A_SPACE_WINDOWS),
		       u8(tb, L4_A_SPACE_PAGER) ? "yes" : "no", u32(tb, L4_A_SPACE_FLAGS));
	}
	l->n++;
}

static int cmd_spaces(void)
{
	struct list l = { 0 };

	l4_check(l4_request(L4_CMD_SPACES, true, 0, 0, space_rec, &l, list_reset),
		 "spaces");
	if (json)
		printf(l.n ? "]\n" : "[]\n");
	else if (!l.n)
		printf("no spaces (that you may see)\n");
	return 0;
}

/* ------------------------------------------------------------------ */
/* space ID, tree FRAME                                                */
/* ------------------------------------------------------------------ */

struct entries {
	int n;
	bool tree;
};

static void entries_reset(void *arg)
{
	((struct entries *)arg)->n = 0;
}

static void entry_rec(struct nlattr **tb, void *arg)
{
	struct entries *e = arg;
	unsigned int depth = u8(tb, L4_A_E_DEPTH);
	/* the module's size of the entry: 4 KiB, or a whole 2 MiB superpage */
	uint64_t size = 1ULL << (tb[L4_A_E_ORDER] ? u8(tb, L4_A_E_ORDER) : 12);
	char parent[64] = "-";

	if (tb[L4_A_E_PARENT_SPACE])
		snprintf(parent, sizeof(parent), "%" PRIu64 ":%#" PRIx64,
			 u64(tb, L4_A_E_PARENT_SPACE), u64(tb, L4_A_E_PARENT_ADDR));
	if (json) {
		printf("%s{\"space\": %" PRIu64 ", \"addr\": %" PRIu64 ", \"frame\": %" PRIu64
		       ", \"rights\": \"%s\", \"depth\": %u, \"size\": %" PRIu64,
		       e->n ? ",\n " : "[", u64(tb, L4_A_SPACE_ID), u64(tb, L4_A_E_ADDR),
		       u64(tb, L4_A_FRAME_ID), rights_str(u8(tb, L4_A_E_RIGHTS)), depth,
		       size);
		if (tb[L4_A_E_PARENT_SPACE])
			printf(", \"parent_space\": %" PRIu64 ", \"parent_addr\": %" PRIu64,
			       u64(tb, L4_A_E_PARENT_SPACE), u64(tb, L4_A_E_PARENT_ADDR));
		putchar('}');
	} else if (e->tree) {
		printf("%*sspace %" PRIu64 " %#" PRIx64 " %s%s\n", 2 * depth, "",
		       u64(tb, L4_A_SPACE_ID), u64(tb, L4_A_E_ADDR),
		       rights_str(u8(tb, L4_A_E_RIGHTS)), size > 4096 ? " 2M" : "");
	} else {
		if (!e->n)
			printf("%18s %4s %8s %6s %5s %s\n", "ADDR", "SIZE", "FRAME",
			       "RIGHTS", "DEPTH", "PARENT (space:addr)");
		printf("%#18" PRIx64 " %4s %8" PRIu64 " %6s %5u %s\n", u64(tb, L4_A_E_ADDR),
		       size > 4096 ? "2M" : "4K", u64(tb, L4_A_FRAME_ID),
		       rights_str(u8(tb, L4_A_E_RIGHTS)), depth, parent);
	}
	e->n++;
}

static uint64_t parse_id(const char *s, const char *what)
{
	char *end;
	uint64_t v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || !*s || *end || *s == '-')
		usage_error("bad %s '%s'", what, s);
	return v;
}

static int cmd_entries(bool tree, uint64_t id)
{
	struct entries e = { .tree = tree };

	l4_check(l4_request(tree ? L4_CMD_TREE : L4_CMD_ENTRIES, true,
			    tree ? L4_A_FRAME_ID : L4_A_SPACE_ID, id, entry_rec, &e,
			    entries_reset), tree ? "tree" : "space");
	if (json)
		printf(e.n ? "]\n" : "[]\n");
	else if (!e.n)
		printf(tree ? "no nodes (that you may see)\n" : "no entries\n");
	return 0;
}

/* ------------------------------------------------------------------ */
/* dot                                                                 */
/* ------------------------------------------------------------------ */

struct ids {
	uint64_t *v;
	size_t n, cap;
};

static void ids_add(struct ids *ids, uint64_t v)
{
	if (ids->n == ids->cap) {
		ids->cap = ids->cap ? 2 * ids->cap : 16;
		ids->v = realloc(ids->v, ids->cap * sizeof(*ids->v));
		if (!ids->v)
			die("%s", "out of memory");
	}
	ids->v[ids->n++] = v;
}

static void ids_reset(void *arg)
{
	((struct ids *)arg)->n = 0;
}

static void space_id_rec(struct nlattr **tb, void *arg)
{
	ids_add(arg, u64(tb, L4_A_SPACE_ID));
}

static void dot_entry(struct nlattr **tb, void *arg)
{
	uint64_t space = u64(tb, L4_A_SPACE_ID), addr = u64(tb, L4_A_E_ADDR);

	(void)arg;
	printf("\t\tn%" PRIu64 "_%" PRIx64 " [label=\"%#" PRIx64 "\\nframe %" PRIu64 "\"%s];\n",
	       space, addr, addr, u64(tb, L4_A_FRAME_ID),
	       tb[L4_A_E_PARENT_SPACE] ? "" : ", shape=box");
}

static void dot_edge(struct nlattr **tb, void *arg)
{
	(void)arg;
	if (!tb[L4_A_E_PARENT_SPACE])
		return;
	printf("\tn%" PRIu64 "_%" PRIx64 " -> n%" PRIu64 "_%" PRIx64 " [label=\"%s\"];\n",
	       u64(tb, L4_A_E_PARENT_SPACE), u64(tb, L4_A_E_PARENT_ADDR),
	       u64(tb, L4_A_SPACE_ID), u64(tb, L4_A_E_ADDR),
	       rights_str(u8(tb, L4_A_E_RIGHTS)));
}

/* Parents of one space's entries that live in other spaces. */
struct parents {
	struct { uint64_t space, addr, frame; } *v;
	size_t n, cap;
};

static void parent_rec(struct nlattr **tb, void *arg)
{
	struct parents *p = arg;

	if (!tb[L4_A_E_PARENT_SPACE])
		return;
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 16;
		p->v = realloc(p->v, p->cap * sizeof(*p->v));
		if (!p->v)
			die("%s", "out of memory");
	}
	p->v[p->n].space = u64(tb, L4_A_E_PARENT_SPACE);
	p->v[p->n].addr = u64(tb, L4_A_E_PARENT_ADDR);
	p->v[p->n].frame = u64(tb, L4_A_FRAME_ID);
	p->n++;
}

static int parent_cmp(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;	/* space, then address */

	if (x[0] != y[0])
		return x[0] < y[0] ? -1 : 1;
	return x[1] < y[1] ? -1 : x[1] > y[1];
}

/*
 * With one space: the entries its mappings come from, each in a cluster
 * of its own space, so that every edge starts at a labelled node.
 */
static void dot_parents(uint64_t id)
{
	struct parents p = { 0 };
	size_t i;

	l4_check(l4_request(L4_CMD_ENTRIES, true, L4_A_SPACE_ID, id,
			    parent_rec, &p, NULL), "space");
	qsort(p.v, p.n, sizeof(*p.v), parent_cmp);
	for (i = 0; i < p.n; i++) {
		if (p.v[i].space == id)
			continue;
		if (!i || p.v[i - 1].space != p.v[i].space)
			printf("\tsubgraph cluster_%" PRIu64 " {\n\t\tlabel=\"space %" PRIu64 "\";\n",
			       p.v[i].space, p.v[i].space);
		if (!i || p.v[i - 1].space != p.v[i].space || p.v[i - 1].addr != p.v[i].addr)
			printf("\t\tn%" PRIu64 "_%" PRIx64 " [label=\"%#" PRIx64 "\\nframe %" PRIu64 "\"];\n",
			       p.v[i].space, p.v[i].addr, p.v[i].addr, p.v[i].frame);
		if (i + 1 == p.n || p.v[i + 1].space != p.v[i].space)
			printf("\t}\n");
	}
	free(p.v);
}

static int cmd_dot(bool one, uint64_t id)
{
	struct ids ids = { 0 };
	size_t i;

	if (one)
		ids_add(&ids, id);
	else
		l4_check(l4_request(L4_CMD_SPACES, true, 0, 0, space_id_rec, &ids,
				    ids_reset), "spaces");
	printf("digraph l4 {\n\trankdir=LR;\n\tnode [shape=ellipse, fontsize=10];\n"
	       "\tedge [fontsize=9];\n");
	for (i = 0; i < ids.n; i++) {
		printf("\tsubgraph cluster_%" PRIu64 " {\n\t\tlabel=\"space %" PRIu64 "\";\n",
		       ids.v[i], ids.v[i]);
		l4_check(l4_request(L4_CMD_ENTRIES, true, L4_A_SPACE_ID, ids.v[i],
				    dot_entry, NULL, NULL), "space");
		printf("\t}\n");
	}
	if (one)
		dot_parents(ids.v[0]);
	for (i = 0; i < ids.n; i++)
		l4_check(l4_request(L4_CMD_ENTRIES, true, L4_A_SPACE_ID, ids.v[i],
				    dot_edge, NULL, NULL), "space");
	printf("}\n");
	free(ids.v);
	return 0;
}

/* ------------------------------------------------------------------ */
/* monitor                                                             */
/* ------------------------------------------------------------------ */

static const char *const ev_names[] = {
	[L4_EV_FAULT] = "fault",
	[L4_EV_REPLY] = "reply",
	[L4_EV_MAP] = "map",
	[L4_EV_GRANT] = "grant",
	[L4_EV_UNMAP] = "unmap",
	[L4_EV_SPACE_CREATE] = "create",
	[L4_EV_SPACE_DESTROY] = "destroy",
};

struct monitor {
	uint64_t space, last_seq;
	uint64_t seen, limit;	/* events shown, skipped or lost; -n */
	uint32_t pid;
	unsigned int types;	/* bit per event type, 0: all */
	bool all;		/* unfiltered: every user's events */
};

static void monitor_count(struct monitor *m, uint64_t n)
{
	m->seen += n;
	if (m->limit && m->seen >= m->limit) {
		fflush(stdout);
		exit(0);
	}
}

static void event_rec(struct nlattr **tb, void *arg)
{
	struct monitor *m = arg;
	uint32_t type = u32(tb, L4_A_EV_TYPE);
	uint64_t seq = u64(tb, L4_A_EV_SEQ), space = u64(tb, L4_A_SPACE_ID);
	uint64_t lost = 0;
	const char *name = type <= L4_EV_MAX && ev_names[type] ? ev_names[type] : "?";

	/*
	 * The sequence that has no gaps unless we lost events: the global one
	 * if we get everything, else our own uid's (we miss other users' events
	 * by design, and L4_A_EV_LOST counts theirs too).
	 */
	if (m->all)
		lost = u64(tb, L4_A_EV_LOST);
	else
		seq = u64(tb, L4_A_EV_UID_SEQ);
	if (m->last_seq && seq > m->last_seq + 1)
		lost = seq - m->last_seq - 1;
	m->last_seq = seq;
	if (lost) {
		if (json)
			printf("{\"lost\": %" PRIu64 "}\n", lost);
		else
			printf("-- %" PRIu64 " events lost\n", lost);
		monitor_count(m, lost);
	}
	if ((m->types && !(m->types & (1u << type))) ||
	    (m->space && m->space != space && m->space != u64(tb, L4_A_EV_SRC_SPACE)) ||
	    (m->pid && m->pid != u32(tb, L4_A_EV_PID))) {
		monitor_count(m, 1);
		return;
	}

	if (json) {
		printf("{\"seq\": %" PRIu64 ", \"event\": \"%s\", \"pid\": %u, \"space\": %" PRIu64,
		       seq, name, u32(tb, L4_A_EV_PID), space);
		if (tb[L4_A_E_ADDR])
			printf(", \"addr\": %" PRIu64, u64(tb, L4_A_E_ADDR));
		if (tb[L4_A_E_RIGHTS])
			printf(", \"rights\": \"%s\"", rights_str(u8(tb, L4_A_E_RIGHTS)));
		if (tb[L4_A_EV_SRC_SPACE])
			printf(", \"src_space\": %" PRIu64 ", \"src_addr\": %" PRIu64,
			       u64(tb, L4_A_EV_SRC_SPACE), u64(tb, L4_A_EV_SRC_ADDR));
		if (tb[L4_A_EV_ORDER])
			printf(", \"order\": %u", u32(tb, L4_A_EV_ORDER));
		if (tb[L4_A_EV_PAGES])
			printf(", \"pages\": %" PRIu64, u64(tb, L4_A_EV_PAGES));
		if (tb[L4_A_EV_LABEL])
			printf(", \"label\": %" PRId64 ", \"error\": %u",
			       (int64_t)u64(tb, L4_A_EV_LABEL), u32(tb, L4_A_EV_ERROR));
		if (tb[L4_A_SPACE_SIZE])
			printf(", \"size\": %" PRIu64 ", \"uid\": %u",
			       u64(tb, L4_A_SPACE_SIZE), u32(tb, L4_A_SPACE_UID));
		printf("}\n");
		fflush(stdout);
		monitor_count(m, 1);
		return;
	}
	printf("%8" PRIu64 " pid %-6u %-7s space %" PRIu64, seq, u32(tb, L4_A_EV_PID),
	       name, space);
	switch (type) {
	case L4_EV_FAULT:
		printf(" addr %#" PRIx64 " %s thread %" PRIu64, u64(tb, L4_A_E_ADDR),
		       rights_str(u8(tb, L4_A_E_RIGHTS)), u64(tb, L4_A_EV_THREAD));
		break;
	case L4_EV_REPLY:
		printf(" label %" PRId64 " error %u pages %" PRIu64,
		       (int64_t)u64(tb, L4_A_EV_LABEL), u32(tb, L4_A_EV_ERROR),
		       u64(tb, L4_A_EV_PAGES));
		break;
	case L4_EV_MAP:
	case L4_EV_GRANT:
		printf(" addr %#" PRIx64 " <- space %" PRIu64 " %#" PRIx64
		       " order %u %s pages %" PRIu64,
		       u64(tb, L4_A_E_ADDR), u64(tb, L4_A_EV_SRC_SPACE),
		       u64(tb, L4_A_EV_SRC_ADDR), u32(tb, L4_A_EV_ORDER),
		       rights_str(u8(tb, L4_A_E_RIGHTS)), u64(tb, L4_A_EV_PAGES));
		break;
	case L4_EV_UNMAP:
		printf(" addr %#" PRIx64 " order %u %s revoked %" PRIu64,
		       u64(tb, L4_A_E_ADDR), u32(tb, L4_A_EV_ORDER),
		       rights_str(u8(tb, L4_A_E_RIGHTS)), u64(tb, L4_A_EV_PAGES));
		break;
	case L4_EV_SPACE_CREATE:
		printf(" size %#" PRIx64 " uid %u", u64(tb, L4_A_SPACE_SIZE),
		       u32(tb, L4_A_SPACE_UID));
		break;
	}
	putchar('\n');
	fflush(stdout);
	monitor_count(m, 1);
}

static unsigned int parse_types(char *s)
{
	unsigned int types = 0, t;
	char *tok;

	for (tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
		for (t = 1; t <= L4_EV_MAX; t++)
			if (!strcmp(tok, ev_names[t]))
				break;
		if (t > L4_EV_MAX)
			usage_error("unknown event type '%s' (fault reply map grant unmap create destroy)", tok);
		types |= 1u << t;
	}
	return types;
}

/* From a stats reply: whether this socket gets every user's events. */
static void all_rec(struct nlattr **tb, void *arg)
{
	/* a module from before filtering: whoever may join gets everything */
	*(bool *)arg = !tb[L4_A_ST_EVENTS_ALL] || u8(tb, L4_A_ST_EVENTS_ALL);
}

static void monitor_args(struct monitor *m, int argc, char **argv)
{
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt(argc, argv, ":n:s:p:t:")) != -1) {
		switch (opt) {
		case 'n':
			m->limit = parse_id(optarg, "event count");
			break;
		case 's':
			m->space = parse_id(optarg, "space id");
			break;
		case 'p':
			m->pid = parse_id(optarg, "pid");
			break;
		case 't':
			m->types = parse_types(optarg);
			break;
		case ':':
			usage_error("option '-%c' needs an argument", optopt);
			break;
		default:
			usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
}

static int cmd_monitor(struct monitor *mon)
{
	struct monitor m = *mon;
	struct handler h = { event_rec, &m };
	int grp, err;

	grp = genl_ctrl_resolve_grp(sk, L4_GENL_NAME, L4_GENL_MCGRP_EVENTS);
	if (grp < 0)
		l4_check(grp, "events group");
	l4_check(l4_request(L4_CMD_STATS, false, 0, 0, all_rec, &m.all, NULL),
		 "monitor");
	err = nl_socket_add_membership(sk, grp);
	if (err == -NLE_PERM || err == -NLE_FAILURE)
		die("%s", "monitor: before Linux 6.8 the event stream needs CAP_SYS_ADMIN");
	l4_check(err, "monitor");
	/* on stderr, so that a reader of stdout knows when it may start */
	if (m.all)
		fprintf(stderr, "l4ctl: monitor: all events\n");
	else
		fprintf(stderr, "l4ctl: monitor: the events of uid %u's spaces\n",
			(unsigned int)geteuid());
	nl_socket_disable_seq_check(sk);
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, l4_valid, &h);
	for (;;) {
		err = nl_recvmsgs_default(sk);
		/* -NLE_NOMEM is ENOBUFS: the socket overran, the sequence
		 * numbers say how many events went */
		if (err < 0 && err != -NLE_NOMEM)
			break;
	}
	l4_check(err, "monitor");
	return EXIT_FAIL;
}

/* ------------------------------------------------------------------ */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: l4ctl [-j|--json] COMMAND [ARGS]\n"
		"       l4ctl help | --help | --version\n"
		"  stats                 global statistics\n"
		"  spaces                the spaces you may see\n"
		"  space ID              the entries of space ID\n"
		"  tree FRAME            the derivation tree of frame FRAME\n"
		"  monitor [-n N] [-s ID] [-p PID] [-t TYPE,...]\n"
		"                        live events (types: fault reply map grant unmap\n"
		"                        create destroy) of your spaces, everyone's with\n"
		"                        CAP_SYS_ADMIN; -n: exit after N (shown, skipped\n"
		"                        or lost)\n"
		"  dot [ID]              the mapping database as a Graphviz graph (no --json)\n"
		"exit status: 0 done, 1 the module is not loaded or refused, 2 bad usage\n"
		"see l4ctl(8)\n");
}

enum cmd { C_STATS, C_SPACES, C_SPACE, C_TREE, C_MONITOR, C_DOT, C_HELP };

static const struct {
	const char *name;
	enum cmd cmd;
	int min, max;		/* arguments after the command (-1: its own options) */
	const char *arg;	/* what a missing one is called */
	bool json;		/* has a JSON form */
} cmds[] = {
	{ "stats",	C_STATS,	0, 0, NULL,	true },
	{ "spaces",	C_SPACES,	0, 0, NULL,	true },
	{ "space",	C_SPACE,	1, 1, "ID",	true },
	{ "tree",	C_TREE,		1, 1, "FRAME",	true },
	{ "monitor",	C_MONITOR,	0, -1, NULL,	true },
	{ "dot",	C_DOT,		0, 1, NULL,	false },
	{ "help",	C_HELP,		0, 0, NULL,	true },
};

int main(int argc, char **argv)
{
	struct monitor mon = { 0 };
	uint64_t id = 0;
	size_t i;
	int nargs;

	while (argc > 1 && argv[1][0] == '-') {
		if (!strcmp(argv[1], "-j") || !strcmp(argv[1], "--json")) {
			json = true;
		} else if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
			printf("l4ctl %d.%d.%d (libl4u %d.%d.%d, netlink family %s version %d)\n",
			       L4U_VERSION_MAJOR, L4U_VERSION_MINOR, L4U_VERSION_PATCH,
			       L4U_VERSION_MAJOR, L4U_VERSION_MINOR, L4U_VERSION_PATCH,
			       L4_GENL_NAME, L4_GENL_VERSION);
			return 0;
		} else if (!strcmp(argv[1], "--")) {
			argc--;
			argv++;
			break;
		} else {
			usage_error("unknown option '%s' (see 'l4ctl help')", argv[1]);
		}
		argc--;
		argv++;
	}
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			break;
	if (i == sizeof(cmds) / sizeof(cmds[0]))
		usage_error("unknown command '%s' (see 'l4ctl help')", argv[1]);
	cur_cmd = cmds[i].name;
	nargs = argc - 2;
	if (!cmds[i].json && json)
		usage_error("no JSON form: its output is a Graphviz graph (drop --json)");
	if (cmds[i].max >= 0) {
		if (nargs < cmds[i].min)
			usage_error("missing argument %s", cmds[i].arg);
		if (nargs > cmds[i].max)
			usage_error("unexpected argument '%s'", argv[2 + cmds[i].max]);
	}
	switch (cmds[i].cmd) {
	case C_SPACE:
	case C_DOT:
		if (nargs)
			id = parse_id(argv[2], "space id");
		break;
	case C_TREE:
		id = parse_id(argv[2], "frame id");
		break;
	case C_MONITOR:
		monitor_args(&mon, argc - 1, argv + 1);
		break;
	case C_HELP:
		usage(stdout);
		return 0;
	default:
		break;
	}

	l4_connect();
	switch (cmds[i].cmd) {
	case C_STATS:
		return cmd_stats();
	case C_SPACES:
		return cmd_spaces();
	case C_SPACE:
		return cmd_entries(false, id);
	case C_TREE:
		return cmd_entries(true, id);
	case C_DOT:
		return cmd_dot(nargs == 1, id);
	case C_MONITOR:
		return cmd_monitor(&mon);
	default:
		return EXIT_FAIL;
	}
}
