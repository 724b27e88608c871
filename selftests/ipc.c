// SPDX-License-Identifier: GPL-2.0
/*
 * Gates, messages, threads and page-fault IPC: faults served by pager
 * processes (one page, fault bits, rights upgrade, a bulk answer, an error
 * answer), a pager dying under its waiters, a faulter dying under its
 * pager, threads racing on the same pages, a two-level pager hierarchy,
 * per-thread pagers, calls with a restricted receive window, readiness,
 * malformed replies, a multi-threaded pager, faults answered while their
 * faulter spins (a pager thread of the faulter's process) and the ioctls'
 * errnos.
 *
 * Pagers and faulters are forked children that die with the test process
 * (PR_SET_PDEATHSIG); only the main thread forks. No sleeps: children and
 * parent move in lock-step through pipes and the gates themselves. The
 * one timing assertion is the correctness bound of SIGBUS after a pager's
 * death (< 1 s).
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <l4u/l4u.h>

#include "l4_fixtures.h"

L4T_FIXTURE(ipc);

/*
 * Page faults served by a pager process, crossed with the space kinds
 * (l4_fixtures.h): the source the pager maps from is a root of the kind
 * (sigma0, itself paged, sigma0 with fault-around), the faulting client
 * has the kind's child flags (fault-around for the last).
 */
L4F_KIND_FIXTURE(fault);

#define PG		L4T_PAGE
#define SEED		0x17ULL
#define RW_		L4_FPAGE_RW
#define R_		L4_FPAGE_R
#define LOG_MAX		256

extern char __executable_start[], etext[];

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

/* What pagers saw, in memory shared with the test process. */
struct ipc_log {
	volatile int n;			/* messages received */
	int gate[LOG_MAX];		/* which gate (per-thread pagers) */
	pid_t server[LOG_MAX];		/* the receiving thread */
	struct l4_msg msg[LOG_MAX];
};

static pid_t ipc_gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static struct ipc_log *ipc_log_new(void)
{
	return l4t_shared(sizeof(struct ipc_log));
}

static void ipc_log_add(struct ipc_log *log, int gate, const struct l4_msg *m)
{
	int i = __atomic_fetch_add(&log->n, 1, __ATOMIC_SEQ_CST);

	if (i < LOG_MAX) {
		log->gate[i] = gate;
		log->server[i] = ipc_gettid();
		log->msg[i] = *m;
	}
}

#define ipc_fork	l4f_fork
#define ipc_gate	l4f_gate
#define ipc_set_pager	l4f_set_pager
#define ipc_map_reply	l4f_map_reply

static int ipc_recv(int gate, struct l4_msg *m)
{
	memset(m, 0xa5, sizeof(*m));
	return ioctl(gate, L4_IOC_RECV, m);
}

static int ipc_reply_map(int gate, __u64 token, int src, __u64 addr,
			 unsigned int order, __u64 rights)
{
	struct l4_reply r;

	ipc_map_reply(&r, token, src, addr, order, rights);
	return ioctl(gate, L4_IOC_REPLY, &r);
}

/* How a scripted pager answers its i-th fault. */
struct ipc_answer {
	unsigned int order;	/* map 2^order bytes around the fault ... */
	__u64 rights;		/* ... with these rights */
	int error;		/* or answer with this error */
};

/*
 * A pager process: serves exactly @n faults on @gate from @src (identity
 * placement), logs them, exits 0. One more fault would find the gate dead
 * once the test has closed its copy: SIGBUS, so the counts are exact.
 */
static pid_t ipc_pager(int gate, int src, const struct ipc_answer *ans, int n,
		       struct ipc_log *log)
{
	struct l4_reply r;
	struct l4_msg m;
	pid_t pid;
	int i;

	pid = ipc_fork();
	if (pid)
		return pid;
	for (i = 0; i < n; i++) {
		CHILD_CHECK(!ipc_recv(gate, &m));
		ipc_log_add(log, 0, &m);
		if (ans[i].error) {
			memset(&r, 0, sizeof(r));
			r.token = m.token;
			r.error = ans[i].error;
		} else {
			ipc_map_reply(&r, m.token, src, L4_PF_ADDR(m.words[0]),
				      ans[i].order, ans[i].rights);
		}
		CHILD_CHECK(!ioctl(gate, L4_IOC_REPLY, &r));
	}
	_exit(0);
}

/*
 * A pager process serving any number of faults with single pages (RW)
 * through REPLY_WAIT on a nonblocking gate, until @ctrl reads EOF.
 */
struct ipc_server_arg {
	int src;
	struct ipc_log *log;
};

static void ipc_server_answer(void *arg, const struct l4_msg *m,
			      struct l4_reply *r)
{
	struct ipc_server_arg *a = arg;

	ipc_log_add(a->log, 0, m);
	ipc_map_reply(r, m->token, a->src, L4_PF_ADDR(m->words[0]), 12, RW_);
}

static pid_t ipc_server(int gate, int src, const int ctrl_pipe[2],
			struct ipc_log *log)
{
	struct ipc_server_arg a = { .src = src, .log = log };
	pid_t pid;

	pid = ipc_fork();
	if (pid)
		return pid;
	CHILD_CHECK(!close(ctrl_pipe[1]));	/* EOF when the test closes it */
	l4f_serve(gate, ctrl_pipe[0], ipc_server_answer, &a);
	_exit(0);
}

/* The counters of IPC since @a. */
#define ASSERT_IPC(a, b, d_msgs, d_replies, d_pf) do {			\
	ASSERT_EQ((__u64)(d_msgs), (b)->messages - (a)->messages);	\
	ASSERT_EQ((__u64)(d_replies), (b)->replies - (a)->replies);	\
	ASSERT_EQ((__u64)(d_pf), (b)->pager_faults - (a)->pager_faults); \
} while (0)

/* A page-fault message, every field. */
#define ASSERT_PF_MSG(m, sid, w0, tid_, thread_id_) do {		\
	int k_;								\
									\
	ASSERT_NE(0ULL, (m)->token);					\
	ASSERT_EQ(L4_LABEL_PAGE_FAULT, (m)->label);			\
	ASSERT_EQ(2U, (m)->nwords);					\
	ASSERT_EQ(0U, (m)->flags);					\
	ASSERT_EQ((__u64)(w0), (m)->words[0]);				\
	ASSERT_LE((__u64)(uintptr_t)__executable_start, (m)->words[1]);	\
	ASSERT_GT((__u64)(uintptr_t)etext, (m)->words[1]);		\
	for (k_ = 2; k_ < L4_MSG_WORDS; k_++)				\
		ASSERT_EQ(0ULL, (m)->words[k_]);			\
	ASSERT_EQ((__u64)(sid), (m)->space_id);				\
	ASSERT_EQ((__u64)(thread_id_), (m)->thread_id);			\
	ASSERT_EQ((pid_t)(tid_), (m)->tid);				\
	ASSERT_EQ(0U, (m)->pad);					\
	ASSERT_EQ(L4_FPAGE_WHOLE_SPACE, (m)->rcv_window);		\
	ASSERT_EQ(0ULL, (m)->reserved[0]);				\
	ASSERT_EQ(0ULL, (m)->reserved[1]);				\
} while (0)

/*
 * What most tests set up: a source space (a root of a kind, filled with
 * pattern SEED through its window), a client space and a window onto it, a
 * gate (the client's pager unless .no_pager), a log for pagers, and the
 * counters once all that is there (s0).
 */
struct ipc_fx_cfg {
	size_t src_pages;	/* 0: no source */
	size_t cli_pages;
	__u64 win_addr;		/* the client's window: from here ... */
	size_t win_pages;	/* ... this long (0: all of the client) */
	bool no_pager;		/* the gate is not the client's pager */
	__u32 cli_flags;	/* the client's flags beyond the kind's */
};

struct ipc_fx {
	struct ipc_fx_cfg cfg;
	const struct l4f_kind *kind;
	struct ipc_log *log;
	struct l4f_root root;	/* the source */
	int src, cli, gate;
	char *swin, *cwin;
	__u64 cid;
	struct l4_stats s0;
};

static void ipc_fx_open(struct __test_metadata *_metadata, int dev,
			struct ipc_fx *fx, const struct l4f_kind *k,
			const struct ipc_fx_cfg *cfg)
{
	memset(fx, 0, sizeof(*fx));
	fx->cfg = *cfg;
	fx->kind = k;
	fx->src = fx->cli = fx->gate = -1;
	if (!fx->cfg.win_pages)
		fx->cfg.win_pages = cfg->cli_pages;
	fx->log = ipc_log_new();
	ASSERT_NE(NULL, fx->log);
	if (cfg->src_pages) {
		l4f_root_open(_metadata, dev, k, cfg->src_pages, &fx->root);
		fx->src = fx->root.fd;
		fx->swin = fx->root.win;
		l4t_fill(fx->swin, 0, cfg->src_pages * PG, SEED);
	}
	fx->cli = l4t_create(dev, cfg->cli_pages * PG, 0,
			     k->child_flags | cfg->cli_flags, &fx->cid);
	ASSERT_LE(0, fx->cli);
	fx->cwin = l4t_map(fx->cli, fx->cfg.win_addr, fx->cfg.win_pages * PG);
	ASSERT_NE(MAP_FAILED, fx->cwin);
	fx->gate = ipc_gate(dev);
	ASSERT_LE(0, fx->gate);
	if (!cfg->no_pager)
		ASSERT_EQ(0, ipc_set_pager(fx->cli, fx->gate));
	ASSERT_EQ(0, l4t_stats(dev, &fx->s0));
}

/* Set up @fx with a source of kind @k (sigma0 for IPC_FX) and @cfg's fields. */
#define IPC_FX_KIND(fx, k, ...)						\
	ipc_fx_open(_metadata, self->dev, (fx), (k),			\
		    &(struct ipc_fx_cfg){ __VA_ARGS__ })
#define IPC_FX(fx, ...)		IPC_FX_KIND((fx), &l4f_kind_sigma0, __VA_ARGS__)

/* Our copy of the gate goes: from now on a pager holds it, or nobody. */
static void ipc_fx_drop_gate(struct __test_metadata *_metadata,
			     struct ipc_fx *fx)
{
	ASSERT_EQ(0, close(fx->gate));
	fx->gate = -1;
}

/*
 * Everything of the set-up goes; then gates, threads and the live counters
 * are back where the test started.
 */
static void ipc_fx_release(struct __test_metadata *_metadata, struct ipc_fx *fx)
{
	if (fx->gate >= 0)
		ASSERT_EQ(0, close(fx->gate));
	ASSERT_EQ(0, munmap(fx->cwin, fx->cfg.win_pages * PG));
	ASSERT_EQ(0, close(fx->cli));
	if (fx->src >= 0)
		l4f_root_close(_metadata, &fx->root);
}

static void ipc_fx_close(struct __test_metadata *_metadata, int dev,
			 const struct l4_stats *before, struct ipc_fx *fx)
{
	ipc_fx_release(_metadata, fx);
	ASSERT_EQ(0, l4t_ipc_settled(dev, before));
}

#define IPC_FX_CLOSE(fx)	ipc_fx_close(_metadata, self->dev, &self->before, (fx))

/* A scripted pager (ipc_pager) on the set-up's gate, mapping from its source. */
static pid_t ipc_fx_pager(struct __test_metadata *_metadata, struct ipc_fx *fx,
			  const struct ipc_answer *ans, int n)
{
	pid_t pid = ipc_pager(fx->gate, fx->src, ans, n, fx->log);

	ASSERT_LE(0, pid);
	ipc_fx_drop_gate(_metadata, fx);
	return pid;
}

/*
 * The pager got exactly @n page faults, with words 0 @w0, all of this
 * thread (unregistered) in the client, each answered: the IPC counters
 * since fx->s0 say so too.
 */
static void ipc_fx_faults(struct __test_metadata *_metadata, int dev,
			  struct ipc_fx *fx, const __u64 *w0, int n)
{
	struct l4_stats s1;
	int i;

	ASSERT_EQ(0, l4t_stats(dev, &s1));
	ASSERT_IPC(&fx->s0, &s1, n, n, n);
	ASSERT_EQ(n, fx->log->n);
	for (i = 0; i < n; i++)
		ASSERT_PF_MSG(&fx->log->msg[i], fx->cid, w0[i], getpid(), 0);
}

#define ASSERT_FAULTS(fx, ...) do {					\
	const __u64 w0_[] = { __VA_ARGS__ };				\
									\
	ipc_fx_faults(_metadata, self->dev, (fx), w0_,			\
		      sizeof(w0_) / sizeof(w0_[0]));			\
} while (0)

#define IPC_FX_PAGER(fx, ans)						\
	ipc_fx_pager(_metadata, (fx), (ans), sizeof(ans) / sizeof((ans)[0]))

static __s64 ipc_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__s64)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ------------------------------------------------------------------ */
/* Faults served by a pager process                                    */
/* ------------------------------------------------------------------ */

/*
 * One read fault: the message tells everything exactly (the space address,
 * not the window's, with the offset in the page), the page arrives with
 * the source's contents, and a later write needs no second message.
 */
TEST_F(fault, one_page_fault)
{
	static const struct ipc_answer ans[] = { { 12, RW_, 0 } };
	struct ipc_fx fx;
	__u64 v;
	pid_t pid;

	/* the client window shows space 2..9 */
	IPC_FX_KIND(&fx, variant->kind, .src_pages = 16, .cli_pages = 16,
		    .win_addr = 2 * PG, .win_pages = 8);
	ASSERT_EQ(fx.s0.gates, self->before.gates + 1 + variant->kind->paged);

	pid = IPC_FX_PAGER(&fx, ans);

	/* space page 5, word at 0x128 */
	v = *(volatile __u64 *)(fx.cwin + 3 * PG + 0x128);
	ASSERT_EQ(l4t_word(SEED, 5 * PG + 0x128), v);
	ASSERT_EQ(0, l4t_wait(pid));
	ASSERT_EQ(-1L, l4t_check(fx.cwin + 3 * PG, 5 * PG, PG, SEED));
	/* mapped RW: the write needs nobody, and the source sees it */
	*(volatile __u64 *)(fx.cwin + 3 * PG + 8) = 42;
	ASSERT_EQ(42ULL, *(volatile __u64 *)(fx.swin + 5 * PG + 8));

	ASSERT_FAULTS(&fx, 5 * PG + 0x128);
	ASSERT_EQ(1ULL, l4t_nodes(fx.cli));
	/* the gate is dead: another absent page is a SIGBUS */
	ASSERT_SIGBUS(fx.cwin + 4 * PG, L4T_READ);
	ASSERT_EQ(1ULL, l4t_nodes(fx.cli));
	IPC_FX_CLOSE(&fx);
}

/* W only for writes, P = 0 for absent pages, X never (no exec window). */
TEST_F(fault, fault_bits_read_write)
{
	static const struct ipc_answer ans[] = {
		{ 12, RW_, 0 }, { 12, RW_, 0 }, { 12, RW_, 0 },
	};
	struct ipc_fx fx;
	__u64 v = 0x1234;
	pid_t pid;

	IPC_FX_KIND(&fx, variant->kind, .src_pages = 8, .cli_pages = 8);
	pid = IPC_FX_PAGER(&fx, ans);

	ASSERT_EQ(l4t_word(SEED, PG), *(volatile __u64 *)(fx.cwin + PG));
	*(volatile __u64 *)(fx.cwin + 5 * PG + 0x7f8) = v;
	ASSERT_EQ(v, *(volatile __u64 *)(fx.swin + 5 * PG + 0x7f8));
	ASSERT_EQ(l4t_word(SEED, 5 * PG), *(volatile __u64 *)(fx.cwin + 5 * PG));
	/* unaligned in its word: the low three bits are the flags' */
	ASSERT_EQ((__u8)(l4t_word(SEED, 7 * PG + 0x10) >> 24),
		  *(volatile __u8 *)(fx.cwin + 7 * PG + 0x13));
	ASSERT_EQ(0, l4t_wait(pid));

	ASSERT_FAULTS(&fx, PG, (5 * PG + 0x7f8) | L4_PF_WRITE, 7 * PG + 0x10);
	ASSERT_EQ(3ULL, l4t_nodes(fx.cli));
	IPC_FX_CLOSE(&fx);
}

/*
 * A page mapped read-only: a write is a rights fault (P = 1, W = 1); the
 * pager maps the same source page again with W, an upgrade in place, and
 * the write goes through to the shared frame.
 */
TEST_F(fault, rights_fault_upgrade)
{
	static const struct ipc_answer ans[] = { { 12, R_, 0 }, { 12, RW_, 0 } };
	struct ipc_fx fx;
	pid_t pid;

	IPC_FX_KIND(&fx, variant->kind, .src_pages = 4, .cli_pages = 4);
	pid = IPC_FX_PAGER(&fx, ans);

	ASSERT_EQ(-1L, l4t_check(fx.cwin + 2 * PG, 2 * PG, PG, SEED));
	ASSERT_EQ(1, fx.log->n);
	ASSERT_EQ(1ULL, l4t_nodes(fx.cli));
	*(volatile __u64 *)(fx.cwin + 2 * PG + 0x40) = 77;
	ASSERT_EQ(0, l4t_wait(pid));
	ASSERT_EQ(77ULL, *(volatile __u64 *)(fx.swin + 2 * PG + 0x40));
	ASSERT_EQ(77ULL, *(volatile __u64 *)(fx.cwin + 2 * PG + 0x40));
	ASSERT_EQ(l4t_word(SEED, 2 * PG + 0x48), *(volatile __u64 *)(fx.cwin + 2 * PG + 0x48));

	ASSERT_FAULTS(&fx, 2 * PG, (2 * PG + 0x40) | L4_PF_WRITE | L4_PF_PRESENT);
	ASSERT_EQ(1ULL, l4t_nodes(fx.cli));
	IPC_FX_CLOSE(&fx);
}

/*
 * A 2 MiB flexpage answers one fault; the other 511 pages are then
 * resolved in the kernel alone: exactly one message, one pager fault.
 *
 * With L4_SPACE_FAULT_AROUND (the fault_around kind), mapped read-only:
 * each fault also maps the 15 other pages of its 16-page block, so 32
 * faults (the retry of the first and one per later block) cover the 512
 * pages; the neighbours' PTEs keep the entry's rights (a write is a rights
 * fault, and with the pager gone, SIGBUS).
 */
TEST_F(fault, bulk_reply_2m)
{
	static const struct ipc_answer ans_rw[] = { { 21, RW_, 0 } };
	static const struct ipc_answer ans_r[] = { { 21, R_, 0 } };
	const bool around = variant->kind->child_flags & L4_SPACE_FAULT_AROUND;
	const size_t n = 512, blocks = n / L4_FAULT_AROUND_PAGES;
	struct l4_stats s1;
	struct ipc_fx fx;
	pid_t pid;

	IPC_FX_KIND(&fx, variant->kind, .src_pages = n, .cli_pages = n);
	pid = ipc_fx_pager(_metadata, &fx, around ? ans_r : ans_rw, 1);

	ASSERT_EQ(l4t_word(SEED, 7 * PG), *(volatile __u64 *)(fx.cwin + 7 * PG));
	ASSERT_EQ(0, l4t_wait(pid));	/* gate dead now: a pager fault would SIGBUS */
	if (around) {
		ASSERT_EQ(0, l4t_stats(self->dev, &s1));
		ASSERT_EQ((__u64)(L4_FAULT_AROUND_PAGES - 1),
			  s1.faultaround_pages - fx.s0.faultaround_pages);
	} else {
		ASSERT_EQ((__u64)n, l4t_nodes(fx.cli));
	}
	ASSERT_TOUCH(fx.cwin, n, L4T_READ);
	ASSERT_EQ(-1L, l4t_check(fx.cwin, 0, n * PG, SEED));

	ASSERT_EQ(0, l4t_stats(self->dev, &s1));
	ASSERT_IPC(&fx.s0, &s1, 1, 1, 1);
	if (around) {
		ASSERT_EQ((__u64)blocks, s1.kernel_faults - fx.s0.kernel_faults);
		ASSERT_EQ((__u64)(blocks * (L4_FAULT_AROUND_PAGES - 1)),
			  s1.faultaround_pages - fx.s0.faultaround_pages);
	} else {
		/* the retry of the first fault and the 511 others */
		ASSERT_EQ((__u64)n, s1.kernel_faults - fx.s0.kernel_faults);
	}
	ASSERT_EQ(1, fx.log->n);
	ASSERT_PF_MSG(&fx.log->msg[0], fx.cid, 7 * PG, getpid(), 0);
	ASSERT_EQ((__u64)n, l4t_nodes(fx.cli));

	if (around) {
		/* a neighbour mapped by fault-around is read-only like its entry */
		ASSERT_SIGBUS(fx.cwin + 20 * PG, L4T_WRITE);
		ASSERT_EQ(l4t_word(SEED, 20 * PG), *(volatile __u64 *)(fx.cwin + 20 * PG));
	}
	IPC_FX_CLOSE(&fx);
}

/* An error reply: SIGSEGV at the faulting address; then a retry is served. */
TEST_F(fault, error_reply_sigsegv)
{
	static const struct ipc_answer ans[] = {
		{ 12, RW_, EFAULT }, { 12, RW_, EPERM }, { 12, RW_, 0 },
	};
	struct l4t_fault f;
	struct ipc_fx fx;
	__u64 v = 5;
	pid_t pid;

	IPC_FX_KIND(&fx, variant->kind, .src_pages = 8, .cli_pages = 8);
	pid = IPC_FX_PAGER(&fx, ans);
	l4t_catch_faults();

	ASSERT_EQ(SIGSEGV, l4t_access((__u64 *)(fx.cwin + 5 * PG + 0x348), L4T_READ, &v, &f));
	ASSERT_EQ(SEGV_MAPERR, f.code);
	ASSERT_EQ(fx.cwin + 5 * PG + 0x348, (char *)f.addr);
	ASSERT_EQ(0ULL, l4t_nodes(fx.cli));
	ASSERT_EQ(SIGSEGV, l4t_access((__u64 *)(fx.cwin + 6 * PG + 0x10), L4T_WRITE, &v, &f));
	ASSERT_EQ(SEGV_MAPERR, f.code);
	ASSERT_EQ(fx.cwin + 6 * PG + 0x10, (char *)f.addr);
	ASSERT_EQ(0ULL, l4t_nodes(fx.cli));
	/* no verdict left behind: the same page again, served this time */
	ASSERT_EQ(0, l4t_access((__u64 *)(fx.cwin + 5 * PG + 0x348), L4T_READ, &v, &f));
	ASSERT_EQ(l4t_word(SEED, 5 * PG + 0x348), v);
	ASSERT_EQ(0, l4t_wait(pid));

	ASSERT_FAULTS(&fx, 5 * PG + 0x348, (6 * PG + 0x10) | L4_PF_WRITE,
		      5 * PG + 0x348);
	ASSERT_EQ(1ULL, l4t_nodes(fx.cli));
	IPC_FX_CLOSE(&fx);
}

/*
 * The kernel itself faults on the window (a syscall's user buffer): the
 * fault goes to the pager as well, and the syscall sees the page.
 */
TEST_F(fault, syscall_buffer_in_window)
{
	static const struct ipc_answer ans[] = { { 12, RW_, 0 }, { 12, RW_, 0 } };
	struct l4_stats s1;
	struct ipc_fx fx;
	__u64 v;
	pid_t pid;
	int p[2];

	IPC_FX_KIND(&fx, variant->kind, .src_pages = 4, .cli_pages = 4);
	ASSERT_EQ(0, pipe(p));
	pid = IPC_FX_PAGER(&fx, ans);

	/* copy_from_user out of an absent page: a read fault */
	ASSERT_EQ(8, write(p[1], fx.cwin + 3 * PG + 16, 8));
	ASSERT_EQ(8, read(p[0], &v, 8));
	ASSERT_EQ(l4t_word(SEED, 3 * PG + 16), v);
	/* copy_to_user into an absent page: a write fault */
	v = 0xabcdef;
	ASSERT_EQ(8, write(p[1], &v, 8));
	ASSERT_EQ(8, read(p[0], fx.cwin + PG + 32, 8));
	ASSERT_EQ(0, l4t_wait(pid));
	ASSERT_EQ(0xabcdefULL, *(volatile __u64 *)(fx.swin + PG + 32));

	ASSERT_EQ(0, l4t_stats(self->dev, &s1));
	ASSERT_IPC(&fx.s0, &s1, 2, 2, 2);
	ASSERT_EQ(2, fx.log->n);
	ASSERT_EQ(L4_LABEL_PAGE_FAULT, fx.log->msg[0].label);
	ASSERT_EQ(3 * PG + 16, fx.log->msg[0].words[0]);
	ASSERT_EQ((PG + 32) | L4_PF_WRITE, fx.log->msg[1].words[0]);
	ASSERT_EQ(getpid(), fx.log->msg[1].tid);
	ASSERT_EQ(2ULL, l4t_nodes(fx.cli));

	ASSERT_EQ(0, close(p[0]));
	ASSERT_EQ(0, close(p[1]));
	IPC_FX_CLOSE(&fx);
}

/*
 * Fault-around and revocation: the pager answers the first fault with the
 * client's whole 16-page block, and fault-around maps the 15 neighbours.
 * A neighbour revoked with R faults again (the pager gets P = 0 for it), one
 * revoked with W only takes a write as a rights fault (P = 1, W = 1): no
 * stale PTE lets either access through. With the pager gone, a write to a
 * W-revoked neighbour is a SIGBUS (and a read still works).
 */
TEST_F(fault, fault_around_revoke_neighbour)
{
	static const struct ipc_answer ans[] = {
		{ 16, RW_, 0 }, { 12, RW_, 0 }, { 12, RW_, 0 },
	};
	struct l4_unmap u;
	struct l4_stats s1;
	struct ipc_fx fx;
	pid_t pid;
	int i;

	/* the client faults around, whatever the source's kind */
	IPC_FX_KIND(&fx, variant->kind, .src_pages = 32, .cli_pages = 32,
		    .cli_flags = L4_SPACE_FAULT_AROUND);
	pid = IPC_FX_PAGER(&fx, ans);

	ASSERT_EQ(l4t_word(SEED, 16 * PG + 0x10), *(volatile __u64 *)(fx.cwin + 16 * PG + 0x10));
	ASSERT_EQ(0, l4t_stats(self->dev, &s1));
	ASSERT_EQ((__u64)(L4_FAULT_AROUND_PAGES - 1),
		  s1.faultaround_pages - fx.s0.faultaround_pages);
	ASSERT_EQ(16ULL, l4t_nodes(fx.cli));

	/* revoked with R: the next read is a page fault again */
	memset(&u, 0, sizeof(u));
	u.fpage = L4_FPAGE(21 * PG, 12, R_);
	ASSERT_EQ(0, ioctl(fx.src, L4_IOC_UNMAP, &u));
	ASSERT_EQ(1ULL, u.revoked);
	ASSERT_EQ(15ULL, l4t_nodes(fx.cli));
	ASSERT_EQ(l4t_word(SEED, 21 * PG + 0x20), *(volatile __u64 *)(fx.cwin + 21 * PG + 0x20));
	/* revoked with W: a write is a rights fault */
	memset(&u, 0, sizeof(u));
	u.fpage = L4_FPAGE(22 * PG, 12, L4_FPAGE_W);
	ASSERT_EQ(0, ioctl(fx.src, L4_IOC_UNMAP, &u));
	ASSERT_EQ(1ULL, u.revoked);
	*(volatile __u64 *)(fx.cwin + 22 * PG + 0x30) = 0x2230;
	ASSERT_EQ(0x2230ULL, *(volatile __u64 *)(fx.swin + 22 * PG + 0x30));
	ASSERT_EQ(0, l4t_wait(pid));

	ASSERT_FAULTS(&fx, 16 * PG + 0x10, 21 * PG + 0x20,
		      (22 * PG + 0x30) | L4_PF_WRITE | L4_PF_PRESENT);
	ASSERT_EQ(16ULL, l4t_nodes(fx.cli));

	/* the pager is gone: W revoked from a fault-around neighbour */
	memset(&u, 0, sizeof(u));
	u.fpage = L4_FPAGE(23 * PG, 12, L4_FPAGE_W);
	ASSERT_EQ(0, ioctl(fx.src, L4_IOC_UNMAP, &u));
	ASSERT_EQ(1ULL, u.revoked);
	ASSERT_SIGBUS(fx.cwin + 23 * PG, L4T_WRITE);
	ASSERT_EQ(-1L, l4t_check(fx.cwin + 23 * PG, 23 * PG, PG, SEED));
	for (i = 16; i < 32; i++)
		ASSERT_EQ(l4t_word(SEED, i * PG + 0x38),
			  *(volatile __u64 *)(fx.cwin + i * PG + 0x38));
	ASSERT_EQ(0, l4t_stats(self->dev, &s1));
	ASSERT_IPC(&fx.s0, &s1, 3, 3, 3);
	IPC_FX_CLOSE(&fx);
}

/* ------------------------------------------------------------------ */
/* Deaths                                                              */
/* ------------------------------------------------------------------ */

#define NWAIT_THREADS	3
#define NWAIT_PROCS	2
#define NWAIT		(NWAIT_THREADS + NWAIT_PROCS)

struct waiter {
	volatile __u64 *addr;
	pid_t tid;
	int sig, code;
	void *fault_addr;
	__s64 t;			/* CLOCK_MONOTONIC at the signal */
	__u64 val;			/* the word read */
	int done;
};

static void waiter_run(struct waiter *w)
{
	struct l4t_fault f;
	__u64 v;

	w->tid = ipc_gettid();
	l4t_access(w->addr, L4T_READ, &v, &f);
	w->t = ipc_now_ns();
	w->sig = f.sig;
	w->code = f.code;
	w->fault_addr = f.addr;
	__atomic_store_n(&w->done, 1, __ATOMIC_SEQ_CST);
}

static void *waiter_thread(void *arg)
{
	waiter_run(arg);
	return NULL;
}

/*
 * The pager is killed with five faulters (three threads, two processes)
 * blocked on it: each gets SIGBUS at its address within a second of the
 * kill, and a later fault gets it at once.
 */
TEST_F(ipc, pager_killed_sigbus_all)
{
	struct waiter *w = l4t_shared(NWAIT * sizeof(*w));
	pthread_t th[NWAIT_THREADS];
	pid_t pager, procs[NWAIT_PROCS];
	int ready[2], i, j;
	struct ipc_fx fx;
	struct l4_stats s1;
	__s64 t0, worst;

	ASSERT_NE(NULL, w);
	IPC_FX(&fx, .cli_pages = 8);
	ASSERT_EQ(0, pipe(ready));

	pager = ipc_fork();
	ASSERT_LE(0, pager);
	if (!pager) {
		struct l4_msg m;

		for (i = 0; i < NWAIT; i++) {
			CHILD_CHECK(!ipc_recv(fx.gate, &m));
			ipc_log_add(fx.log, 0, &m);
		}
		CHILD_CHECK(!l4t_post(ready[1]));
		for (;;)
			pause();	/* holds every message: nobody is answered */
	}
	/* from here on only the pager holds the gate */
	ipc_fx_drop_gate(_metadata, &fx);
	ASSERT_EQ(0, close(ready[1]));
	l4t_catch_faults();

	for (i = 0; i < NWAIT; i++)
		w[i].addr = (__u64 *)(fx.cwin + i * PG + 8 * i);
	for (i = 0; i < NWAIT_PROCS; i++) {
		procs[i] = ipc_fork();
		ASSERT_LE(0, procs[i]);
		if (!procs[i]) {
			waiter_run(&w[NWAIT_THREADS + i]);
			_exit(0);
		}
	}
	for (i = 0; i < NWAIT_THREADS; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, waiter_thread, &w[i]));

	/* every waiter's message was received: they are all blocked now */
	ASSERT_EQ(0, l4t_pend(ready[0]));
	for (i = 0; i < NWAIT; i++)
		ASSERT_EQ(0, __atomic_load_n(&w[i].done, __ATOMIC_SEQ_CST));

	t0 = ipc_now_ns();
	ASSERT_EQ(0, kill(pager, SIGKILL));
	for (i = 0; i < NWAIT_THREADS; i++)
		ASSERT_EQ(0, pthread_join(th[i], NULL));
	for (i = 0; i < NWAIT_PROCS; i++)
		ASSERT_EQ(0, l4t_wait(procs[i]));
	ASSERT_EQ(128 + SIGKILL, l4t_wait(pager));

	for (i = 0, worst = 0; i < NWAIT; i++) {
		if (w[i].t - t0 > worst)
			worst = w[i].t - t0;
		ASSERT_EQ(1, w[i].done);
		ASSERT_EQ(SIGBUS, w[i].sig);
		ASSERT_EQ(BUS_ADRERR, w[i].code);
		ASSERT_EQ((void *)w[i].addr, w[i].fault_addr);
		ASSERT_LT(w[i].t - t0, 1000000000LL)
			TH_LOG("waiter %d: SIGBUS %lld ns after the kill", i,
			       (long long)(w[i].t - t0));
	}
	TH_LOG("%d waiters: last SIGBUS %lld us after the kill", NWAIT,
	       (long long)(worst / 1000));
	/* every waiter sent exactly one message, for its own address */
	ASSERT_EQ(NWAIT, fx.log->n);
	for (i = 0; i < NWAIT; i++) {
		for (j = 0; j < NWAIT; j++)
			if (fx.log->msg[j].tid == w[i].tid)
				break;
		ASSERT_GT(NWAIT, j);
		ASSERT_PF_MSG(&fx.log->msg[j], fx.cid,
			      (__u64)((char *)w[i].addr - fx.cwin), w[i].tid, 0);
	}
	/* later faults: SIGBUS at once, no message */
	ASSERT_SIGBUS(fx.cwin + 6 * PG, L4T_READ);
	ASSERT_SIGBUS(fx.cwin + 7 * PG + 0x100, L4T_WRITE);
	ASSERT_EQ(0, l4t_stats(self->dev, &s1));
	ASSERT_IPC(&fx.s0, &s1, NWAIT, 0, NWAIT);
	ASSERT_EQ(0ULL, l4t_nodes(fx.cli));

	ASSERT_EQ(0, close(ready[0]));
	IPC_FX_CLOSE(&fx);
}

/*
 * Faulters killed while they wait: one whose message is queued (it is
 * withdrawn: no readiness, EAGAIN), one whose message was received (the
 * late reply gets ESRCH and maps nothing, and the token is then gone),
 * and one whose late answer comes through REPLY_WAIT (which goes on to
 * receive).
 */
TEST_F(ipc, faulter_killed_mid_wait)
{
	struct l4_reply_wait rw;
	struct l4_stats s1;
	struct pollfd pfd;
	struct ipc_fx fx;
	struct l4_msg m;
	pid_t f;

	IPC_FX(&fx, .src_pages = 4, .cli_pages = 4);

	/* queued, never received */
	f = ipc_fork();
	ASSERT_LE(0, f);
	if (!f) {
		(void)*(volatile char *)(fx.cwin + 2 * PG);
		_exit(0);
	}
	pfd.fd = fx.gate;
	pfd.events = POLLIN;
	ASSERT_EQ(1, poll(&pfd, 1, -1));
	ASSERT_EQ(0, kill(f, SIGKILL));
	ASSERT_EQ(128 + SIGKILL, l4t_wait(f));
	ASSERT_EQ(0, poll(&pfd, 1, 0));
	ASSERT_EQ(0, fcntl(fx.gate, F_SETFL, O_NONBLOCK));
	ASSERT_EQ(-1, ipc_recv(fx.gate, &m));
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, fcntl(fx.gate, F_SETFL, 0));

	/* received, then the faulter dies: the reply gets ESRCH */
	f = ipc_fork();
	ASSERT_LE(0, f);
	if (!f) {
		(void)*(volatile char *)(fx.cwin + PG);
		_exit(0);
	}
	ASSERT_EQ(0, ipc_recv(fx.gate, &m));
	ASSERT_PF_MSG(&m, fx.cid, PG, f, 0);
	ASSERT_EQ(0, kill(f, SIGKILL));
	ASSERT_EQ(128 + SIGKILL, l4t_wait(f));
	ASSERT_EQ(-1, ipc_reply_map(fx.gate, m.token, fx.src, PG, 12, RW_));
	ASSERT_EQ(ESRCH, errno);
	ASSERT_EQ(0ULL, l4t_nodes(fx.cli));
	ASSERT_EQ(-1, ipc_reply_map(fx.gate, m.token, fx.src, PG, 12, RW_));
	ASSERT_EQ(ENOENT, errno);

	/* the same through REPLY_WAIT: ESRCH is swallowed, the receive goes on */
	f = ipc_fork();
	ASSERT_LE(0, f);
	if (!f) {
		(void)*(volatile char *)(fx.cwin + 3 * PG);
		_exit(0);
	}
	ASSERT_EQ(0, ipc_recv(fx.gate, &m));
	ASSERT_PF_MSG(&m, fx.cid, 3 * PG, f, 0);
	ASSERT_EQ(0, kill(f, SIGKILL));
	ASSERT_EQ(128 + SIGKILL, l4t_wait(f));
	ASSERT_EQ(0, fcntl(fx.gate, F_SETFL, O_NONBLOCK));
	memset(&rw, 0, sizeof(rw));
	ipc_map_reply(&rw.reply, m.token, fx.src, 3 * PG, 12, RW_);
	ASSERT_EQ(-1, ioctl(fx.gate, L4_IOC_REPLY_WAIT, &rw));
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_EQ(-1, ipc_reply_map(fx.gate, m.token, fx.src, 3 * PG, 12, RW_));
	ASSERT_EQ(ENOENT, errno);
	ASSERT_EQ(0ULL, l4t_nodes(fx.cli));

	ASSERT_EQ(0, l4t_stats(self->dev, &s1));
	ASSERT_IPC(&fx.s0, &s1, 2, 0, 3);
	ASSERT_LIVE(&fx.s0, &s1, 0, 0, 0, 0);

	IPC_FX_CLOSE(&fx);
}

/* ------------------------------------------------------------------ */
/* Concurrency                                                         */
/* ------------------------------------------------------------------ */

#define RACE_THREADS	8
#define RACE_PAGES	16

struct racer {
	pthread_barrier_t *bar;
	char *win;
	int i;
	pid_t tid;
	int bad;
};

static void *racer_run(void *arg)
{
	struct racer *r = arg;
	int k, p;

	r->tid = ipc_gettid();
	pthread_barrier_wait(r->bar);
	for (k = 0; k < RACE_PAGES; k++) {
		p = (r->i * 5 + k) % RACE_PAGES;
		if (l4t_check(r->win + p * PG, p * PG, PG, SEED) != -1)
			r->bad++;
	}
	return NULL;
}

/*
 * Eight threads fault on the same sixteen pages at once: every one sees
 * the right contents, each page is mapped once however many messages it
 * caused, and every message was answered.
 */
TEST_F(ipc, threads_race_same_pages)
{
	struct racer r[RACE_THREADS];
	pthread_t th[RACE_THREADS];
	pthread_barrier_t bar;
	bool seen[RACE_PAGES] = { false };
	int ctrl[2], i, j, n;
	struct l4_stats s1;
	struct ipc_fx fx;
	pid_t pid;

	IPC_FX(&fx, .src_pages = RACE_PAGES, .cli_pages = RACE_PAGES);
	ASSERT_EQ(0, pipe(ctrl));
	pid = ipc_server(fx.gate, fx.src, ctrl, fx.log);
	ASSERT_LE(0, pid);
	ipc_fx_drop_gate(_metadata, &fx);
	ASSERT_EQ(0, close(ctrl[0]));

	ASSERT_EQ(0, pthread_barrier_init(&bar, NULL, RACE_THREADS));
	for (i = 0; i < RACE_THREADS; i++) {
		r[i] = (struct racer){ .bar = &bar, .win = fx.cwin, .i = i };
		ASSERT_EQ(0, pthread_create(&th[i], NULL, racer_run, &r[i]));
	}
	for (i = 0; i < RACE_THREADS; i++)
		ASSERT_EQ(0, pthread_join(th[i], NULL));
	ASSERT_EQ(0, close(ctrl[1]));
	ASSERT_EQ(0, l4t_wait(pid));
	pthread_barrier_destroy(&bar);

	for (i = 0; i < RACE_THREADS; i++)
		ASSERT_EQ(0, r[i].bad) TH_LOG("thread %d saw wrong contents", i);
	ASSERT_EQ((__u64)RACE_PAGES, l4t_nodes(fx.cli));
	ASSERT_EQ(-1L, l4t_check(fx.cwin, 0, RACE_PAGES * PG, SEED));

	n = fx.log->n;
	ASSERT_LE(RACE_PAGES, n);
	ASSERT_GE(RACE_THREADS * RACE_PAGES, n);
	ASSERT_EQ(0, l4t_stats(self->dev, &s1));
	ASSERT_IPC(&fx.s0, &s1, n, n, n);
	for (i = 0; i < n; i++) {
		__u64 a = fx.log->msg[i].words[0];

		ASSERT_EQ(0ULL, a & (PG - 1));	/* page starts, reads */
		ASSERT_GT((__u64)RACE_PAGES * PG, a);
		seen[a / PG] = true;
		for (j = 0; j < RACE_THREADS; j++)
			if (fx.log->msg[i].tid == r[j].tid)
				break;
		ASSERT_GT(RACE_THREADS, j);
		ASSERT_PF_MSG(&fx.log->msg[i], fx.cid, a, r[j].tid, 0);
	}
	for (i = 0; i < RACE_PAGES; i++)
		ASSERT_TRUE(seen[i]);

	IPC_FX_CLOSE(&fx);
}

/* Run on a CPU (never sleep) for @ms milliseconds. */
static void ipc_busy_ms(long ms)
{
	__s64 end = ipc_now_ns() + ms * 1000000LL;

	while (ipc_now_ns() < end)
		;
}

/*
 * A faulter spins for its answer before it sleeps (up to twice the measured
 * cost of a wake-up, at most spin_ns). Every way the wait ends gives the
 * same result: spin_ns = 0 (no spin); an answer at once (the spin's case);
 * a pager busy 20 ms on a CPU before it answers (the spin gives up, the
 * faulter sleeps); SIGKILL while the pager runs on without ever answering.
 * Contents and counts are exact.
 */
TEST_F(ipc, spin_before_sleep)
{
	static const struct ipc_answer ans[] = { { 12, RW_, 0 } };
	long long saved, wake;
	struct l4_stats s1;
	struct ipc_fx fx;
	struct l4_msg m;
	pid_t pid, f;
	int sync[2];

	ASSERT_EQ(0, l4u_param_get("spin_ns", &saved));
	ASSERT_LT(0LL, saved);
	IPC_FX(&fx, .src_pages = 4, .cli_pages = 4);
	ASSERT_EQ(0, pipe(sync));

	/* no spin: the faulter sleeps at once */
	ASSERT_EQ(0, l4u_param_set("spin_ns", 0));
	pid = ipc_pager(fx.gate, fx.src, ans, 1, fx.log);
	ASSERT_LE(0, pid);
	ASSERT_EQ(l4t_word(SEED, 0x10), *(volatile __u64 *)(fx.cwin + 0x10));
	ASSERT_EQ(0, l4t_wait(pid));
	ASSERT_EQ(0, l4u_param_set("spin_ns", saved));

	/* an answer at once */
	pid = ipc_pager(fx.gate, fx.src, ans, 1, fx.log);
	ASSERT_LE(0, pid);
	ASSERT_EQ(l4t_word(SEED, PG + 0x10), *(volatile __u64 *)(fx.cwin + PG + 0x10));
	ASSERT_EQ(0, l4t_wait(pid));

	/* the pager computes 20 ms on a CPU, then answers */
	pid = ipc_fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		CHILD_CHECK(!ipc_recv(fx.gate, &m));
		ipc_busy_ms(20);
		CHILD_CHECK(!ipc_reply_map(fx.gate, m.token, fx.src, L4_PF_ADDR(m.words[0]), 12, RW_));
		_exit(0);
	}
	ASSERT_EQ(l4t_word(SEED, 2 * PG + 0x10), *(volatile __u64 *)(fx.cwin + 2 * PG + 0x10));
	ASSERT_EQ(0, l4t_wait(pid));

	/* the pager takes the fault and runs on without answering: SIGKILL ends the wait */
	pid = ipc_fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		CHILD_CHECK(!ipc_recv(fx.gate, &m));
		CHILD_CHECK(!l4t_post(sync[1]));
		for (;;)
			ipc_busy_ms(1000);
	}
	f = ipc_fork();
	ASSERT_LE(0, f);
	if (!f) {
		(void)*(volatile char *)(fx.cwin + 3 * PG);
		_exit(0);
	}
	ASSERT_EQ(0, l4t_pend(sync[0]));
	ASSERT_EQ(0, kill(f, SIGKILL));
	ASSERT_EQ(128 + SIGKILL, l4t_wait(f));
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(128 + SIGKILL, l4t_wait(pid));

	/* the faulters that slept taught the module what a wake-up costs */
	ASSERT_EQ(0, l4u_param_get("wake_ns", &wake));
	ASSERT_LT(0LL, wake);
	ASSERT_EQ(0, l4t_stats(self->dev, &s1));
	ASSERT_IPC(&fx.s0, &s1, 4, 3, 4);
	ASSERT_EQ(3ULL, l4t_nodes(fx.cli));
	ASSERT_EQ(-1L, l4t_check(fx.cwin, 0, 3 * PG, SEED));
	ASSERT_EQ(0, close(sync[0]));
	ASSERT_EQ(0, close(sync[1]));
	IPC_FX_CLOSE(&fx);
}

/* A pager thread of the faulter's own process (answer_in_place). */
struct ipc_thread_pager {
	int gate, src;
	bool remap;	/* take the process's mmap lock for writing first */
	int err;	/* 0, or what failed */
};

static void *ipc_thread_pager_run(void *arg)
{
	struct ipc_thread_pager *tp = arg;
	struct l4_msg m;
	char *p;

	if (ipc_recv(tp->gate, &m)) {
		tp->err = errno;
		return NULL;
	}
	if (tp->remap) {
		p = mmap(NULL, PG, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED || munmap(p, PG)) {
			tp->err = errno;
			return NULL;
		}
	}
	if (ipc_reply_map(tp->gate, m.token, tp->src, L4_PF_ADDR(m.words[0]), 12, RW_))
		tp->err = errno;
	return NULL;
}

/* This thread's major faults so far. */
static long ipc_thread_majflt(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_THREAD, &ru) ? -1 : ru.ru_majflt;
}

/*
 * A fault the pager answers while its faulter still spins goes on in
 * place, the fault lock still held; one answered after the faulter gave
 * up and slept is retried. Either way it is one major fault of the
 * faulting thread, and a pager thread of the faulter's own process may
 * take the process's mmap lock for writing (mmap, munmap) before it
 * answers: the faulter's spin ends when the pager sleeps on that lock, and
 * the faulter drops it. With spin_ns = 0 every fault takes the retry.
 * Contents, counts and each fault's major count are exact.
 */
TEST_F(ipc, answer_in_place)
{
	struct ipc_thread_pager tp;
	long long saved, spin;
	struct l4_stats s1;
	struct ipc_fx fx;
	pthread_t th;
	int round = 0;
	long maj;

	ASSERT_EQ(0, l4u_param_get("spin_ns", &saved));
	ASSERT_LT(0LL, saved);
	IPC_FX(&fx, .src_pages = 4, .cli_pages = 4);

	for (spin = saved; spin >= 0; spin = spin ? 0 : -1) {
		ASSERT_EQ(0, l4u_param_set("spin_ns", spin));
		for (int remap = 0; remap < 2; remap++, round++) {
			tp = (struct ipc_thread_pager){
				.gate = fx.gate, .src = fx.src, .remap = remap,
			};
			ASSERT_EQ(0, pthread_create(&th, NULL, ipc_thread_pager_run, &tp));
			maj = ipc_thread_majflt();
			ASSERT_EQ(l4t_word(SEED, round * PG + 0x18),
				  *(volatile __u64 *)(fx.cwin + round * PG + 0x18));
			ASSERT_EQ(maj + 1, ipc_thread_majflt()) TH_LOG("round %d", round);
			ASSERT_EQ(0, pthread_join(th, NULL));
			ASSERT_EQ(0, tp.err) TH_LOG("round %d: %s", round, strerror(tp.err));
		}
	}
	ASSERT_EQ(0, l4u_param_set("spin_ns", saved));

	ASSERT_EQ(0, l4t_stats(self->dev, &s1));
	ASSERT_IPC(&fx.s0, &s1, 4, 4, 4);
	ASSERT_EQ(4ULL, l4t_nodes(fx.cli));
	ASSERT_EQ(-1L, l4t_check(fx.cwin, 0, 4 * PG, SEED));
	IPC_FX_CLOSE(&fx);
}

/* l4u_param_get/set: exact values, and every bad name or value refused. */
TEST_F(ipc, module_params)
{
	long long saved, v;

	ASSERT_EQ(0, l4u_param_get("spin_ns", &saved));
	ASSERT_EQ(0, l4u_param_set("spin_ns", 12345));
	ASSERT_EQ(0, l4u_param_get("spin_ns", &v));
	ASSERT_EQ(12345LL, v);
	/* an unsigned int parameter: the module refuses, the value stays */
	ASSERT_EQ(-EINVAL, l4u_param_set("spin_ns", -1));
	ASSERT_EQ(0, l4u_param_get("spin_ns", &v));
	ASSERT_EQ(12345LL, v);
	ASSERT_EQ(0, l4u_param_set("spin_ns", saved));
	ASSERT_EQ(0, l4u_param_get("spin_ns", &v));
	ASSERT_EQ(saved, v);
	ASSERT_EQ(0, l4u_param_get("max_frames", &v));
	ASSERT_LT(0LL, v);
	/* measured by the module, not set */
	ASSERT_EQ(0, l4u_param_get("wake_ns", &v));
	ASSERT_LT(0LL, v);
	ASSERT_EQ(-EACCES, l4u_param_set("wake_ns", 1));

	ASSERT_EQ(-ENOENT, l4u_param_get("no_such_param", &v));
	ASSERT_EQ(-ENOENT, l4u_param_set("no_such_param", 1));
	ASSERT_EQ(-EINVAL, l4u_param_get("", &v));
	ASSERT_EQ(-EINVAL, l4u_param_get("../l4/parameters/spin_ns", &v));
	ASSERT_EQ(-EINVAL, l4u_param_get("..", &v));
	ASSERT_EQ(-EINVAL, l4u_param_set(NULL, 1));
}

struct mt_pager {
	int gate, src;
	pthread_barrier_t *bar;
	struct ipc_log *log;
	int err;
};

/* One receiver thread: receive, wait until the other holds one too, reply. */
static void *mt_pager_run(void *arg)
{
	struct mt_pager *p = arg;
	struct l4_reply_wait rw;

	memset(&rw, 0, sizeof(rw));
	if (ioctl(p->gate, L4_IOC_REPLY_WAIT, &rw)) {
		p->err = errno;
		return NULL;
	}
	ipc_log_add(p->log, 0, &rw.msg);
	pthread_barrier_wait(p->bar);	/* two messages in flight at once */
	if (ipc_reply_map(p->gate, rw.msg.token, p->src,
			  L4_PF_ADDR(rw.msg.words[0]), 12, RW_))
		p->err = errno;
	return NULL;
}

static void *mt_fault_run(void *arg)
{
	struct waiter *w = arg;

	w->tid = ipc_gettid();
	w->val = *w->addr;
	return NULL;
}

/* Two receiver threads on one gate: each takes one fault, both answer. */
TEST_F(ipc, multithreaded_pager)
{
	struct waiter w[2] = { 0 };
	struct l4_stats s1;
	struct ipc_fx fx;
	pthread_t th[2];
	pid_t pid;
	int i, j;

	IPC_FX(&fx, .src_pages = 4, .cli_pages = 4);

	pid = ipc_fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		pthread_barrier_t bar;
		struct mt_pager p[2];
		pthread_t pt[2];

		CHILD_CHECK(!pthread_barrier_init(&bar, NULL, 2));
		for (i = 0; i < 2; i++) {
			p[i] = (struct mt_pager){ fx.gate, fx.src, &bar, fx.log, 0 };
			CHILD_CHECK(!pthread_create(&pt[i], NULL, mt_pager_run, &p[i]));
		}
		for (i = 0; i < 2; i++) {
			CHILD_CHECK(!pthread_join(pt[i], NULL));
			errno = p[i].err;
			CHILD_CHECK(!p[i].err);
		}
		_exit(0);
	}
	ipc_fx_drop_gate(_metadata, &fx);

	for (i = 0; i < 2; i++) {
		w[i].addr = (__u64 *)(fx.cwin + (i + 1) * PG + 16);
		ASSERT_EQ(0, pthread_create(&th[i], NULL, mt_fault_run, &w[i]));
	}
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_join(th[i], NULL));
	ASSERT_EQ(0, l4t_wait(pid));

	for (i = 0; i < 2; i++)
		ASSERT_EQ(l4t_word(SEED, (i + 1) * PG + 16), w[i].val);
	ASSERT_EQ(2, fx.log->n);
	ASSERT_NE(fx.log->server[0], fx.log->server[1]);
	ASSERT_NE(fx.log->msg[0].token, fx.log->msg[1].token);
	for (i = 0; i < 2; i++) {
		j = fx.log->msg[0].tid == w[i].tid ? 0 : 1;
		ASSERT_PF_MSG(&fx.log->msg[j], fx.cid, (i + 1) * PG + 16, w[i].tid, 0);
	}
	ASSERT_EQ(0, l4t_stats(self->dev, &s1));
	ASSERT_IPC(&fx.s0, &s1, 2, 2, 2);
	ASSERT_EQ(2ULL, l4t_nodes(fx.cli));

	IPC_FX_CLOSE(&fx);
}

/* ------------------------------------------------------------------ */
/* Hierarchies and per-thread pagers                                   */
/* ------------------------------------------------------------------ */

/*
 * root (sigma0) -> pager space P (non-sigma0, paged by the root pager)
 * -> client C (paged by a pager that maps from P). The middle pager
 * touches P itself first, a fault of its own that the root pager serves.
 * The client's write reaches the root's frame; revoking at the root
 * takes the page from both below.
 */
TEST_F(ipc, two_level_hierarchy)
{
	static const struct ipc_answer ans[] = {
		{ 12, RW_, 0 }, { 12, RW_, 0 }, { 12, RW_, 0 },
	};
	static const __u64 pages[3] = { 1, 5, 9 };
	struct l4_unmap u = { .fpage = L4_FPAGE(5 * PG, 12, R_) };
	struct ipc_fx up, down;	/* root -> P, P -> C */
	struct l4_stats s1;
	pid_t a, b;
	int i;

	IPC_FX(&up, .src_pages = 16, .cli_pages = 16);
	IPC_FX(&down, .cli_pages = 16);

	a = ipc_pager(up.gate, up.src, ans, 3, up.log);
	ASSERT_LE(0, a);
	b = ipc_fork();
	ASSERT_LE(0, b);
	if (!b) {
		struct l4_msg m;
		__u64 addr;

		close(up.gate);
		for (i = 0; i < 3; i++) {
			CHILD_CHECK(!ipc_recv(down.gate, &m));
			ipc_log_add(down.log, 0, &m);
			addr = L4_PF_ADDR(m.words[0]) & ~(PG - 1);
			/* have it in P first: a fault to the root pager */
			CHILD_CHECK(*(volatile __u64 *)(up.cwin + addr) ==
				    l4t_word(SEED, addr));
			CHILD_CHECK(!ipc_reply_map(down.gate, m.token, up.cli, addr, 12, RW_));
		}
		_exit(0);
	}
	ipc_fx_drop_gate(_metadata, &up);
	ipc_fx_drop_gate(_metadata, &down);

	ASSERT_EQ(-1L, l4t_check(down.cwin + PG, PG, PG, SEED));
	ASSERT_EQ(-1L, l4t_check(down.cwin + 5 * PG, 5 * PG, PG, SEED));
	*(volatile __u64 *)(down.cwin + 9 * PG + 24) = 99;
	ASSERT_EQ(0, l4t_wait(b));
	ASSERT_EQ(0, l4t_wait(a));
	ASSERT_EQ(99ULL, *(volatile __u64 *)(up.swin + 9 * PG + 24));
	ASSERT_EQ(99ULL, *(volatile __u64 *)(up.cwin + 9 * PG + 24));

	ASSERT_EQ(16ULL, l4t_nodes(up.src));
	ASSERT_EQ(3ULL, l4t_nodes(up.cli));
	ASSERT_EQ(3ULL, l4t_nodes(down.cli));
	ASSERT_EQ(3, up.log->n);
	ASSERT_EQ(3, down.log->n);
	for (i = 0; i < 3; i++) {
		ASSERT_PF_MSG(&down.log->msg[i], down.cid,
			      pages[i] * PG + (i == 2 ? 24 | L4_PF_WRITE : 0),
			      getpid(), 0);
		ASSERT_PF_MSG(&up.log->msg[i], up.cid, pages[i] * PG, b, 0);
	}
	ASSERT_EQ(0, l4t_stats(self->dev, &s1));
	ASSERT_IPC(&down.s0, &s1, 6, 6, 6);

	/* revoked at the root: gone from P and C; C's pager is dead now */
	ASSERT_EQ(0, ioctl(up.src, L4_IOC_UNMAP, &u));
	ASSERT_EQ(2ULL, u.revoked);
	ASSERT_EQ(2ULL, l4t_nodes(up.cli));
	ASSERT_EQ(2ULL, l4t_nodes(down.cli));
	ASSERT_SIGBUS(down.cwin + 5 * PG, L4T_READ);
	ASSERT_EQ(-1L, l4t_check(down.cwin + PG, PG, PG, SEED));

	ipc_fx_release(_metadata, &down);
	IPC_FX_CLOSE(&up);
}

struct pt_thread {
	int space, pager_fd;
	volatile __u64 *addr;
	__u64 thread_id, val;
	pid_t tid;
	int err;
};

static void *pt_run(void *arg)
{
	struct pt_thread *t = arg;
	struct l4_thread_control tc = { .pager_fd = t->pager_fd };

	t->tid = ipc_gettid();
	if (ioctl(t->space, L4_IOC_THREAD_CONTROL, &tc)) {
		t->err = errno;
		return NULL;
	}
	t->thread_id = tc.thread_id;
	t->val = *t->addr;
	return NULL;
}

/*
 * Two threads registered with their own pager gates, one unregistered
 * thread with the default pager: each fault arrives at the right gate
 * with the right thread id. Then one changes to the default pager.
 */
TEST_F(ipc, per_thread_pagers)
{
	struct pt_thread t[2] = { 0 };
	struct l4_thread_control tc;
	struct l4_stats s1;
	struct ipc_fx fx;
	int g[3], i, k;
	pthread_t th;
	pid_t pid;

	IPC_FX(&fx, .src_pages = 8, .cli_pages = 8);
	g[0] = fx.gate;		/* the default */
	for (i = 1; i < 3; i++) {
		g[i] = ipc_gate(self->dev);
		ASSERT_LE(0, g[i]);
	}
	ASSERT_EQ(0, l4t_stats(self->dev, &fx.s0));

	/* one pager process on the three gates, four faults in all */
	pid = ipc_fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct pollfd pfd[3];
		struct l4_msg m;
		int n = 0;

		while (n < 4) {
			for (i = 0; i < 3; i++)
				pfd[i] = (struct pollfd){ .fd = g[i], .events = POLLIN };
			CHILD_CHECK(poll(pfd, 3, -1) > 0);
			for (i = 0; i < 3; i++) {
				if (!(pfd[i].revents & POLLIN))
					continue;
				CHILD_CHECK(!ipc_recv(g[i], &m));
				ipc_log_add(fx.log, i, &m);
				CHILD_CHECK(!ipc_reply_map(g[i], m.token, fx.src,
							   L4_PF_ADDR(m.words[0]), 12, RW_));
				n++;
			}
		}
		_exit(0);
	}

	for (i = 0; i < 2; i++) {
		t[i] = (struct pt_thread){ .space = fx.cli, .pager_fd = g[i + 1],
			.addr = (__u64 *)(fx.cwin + (i + 1) * PG) };
		ASSERT_EQ(0, pthread_create(&th, NULL, pt_run, &t[i]));
		ASSERT_EQ(0, pthread_join(th, NULL));
		ASSERT_EQ(0, l4t_thread_gone(t[i].tid));
		ASSERT_EQ(0, t[i].err);
		ASSERT_NE(0ULL, t[i].thread_id);
		ASSERT_EQ(l4t_word(SEED, (i + 1) * PG), t[i].val);
	}
	ASSERT_NE(t[0].thread_id, t[1].thread_id);
	ASSERT_EQ(0, l4t_stats(self->dev, &s1));
	/* the second registration pruned the first thread's entry: it had exited */
	ASSERT_EQ(fx.s0.threads + 1, s1.threads);
	/* the main thread never registered: the default pager */
	ASSERT_EQ(l4t_word(SEED, 3 * PG), *(volatile __u64 *)(fx.cwin + 3 * PG));
	/* register the main thread with the default pager (-1) */
	memset(&tc, 0, sizeof(tc));
	tc.pager_fd = -1;
	ASSERT_EQ(0, ioctl(fx.cli, L4_IOC_THREAD_CONTROL, &tc));
	ASSERT_NE(0ULL, tc.thread_id);
	ASSERT_NE(t[0].thread_id, tc.thread_id);
	ASSERT_NE(t[1].thread_id, tc.thread_id);
	ASSERT_EQ(l4t_word(SEED, 4 * PG), *(volatile __u64 *)(fx.cwin + 4 * PG));
	ASSERT_EQ(0, l4t_wait(pid));

	ASSERT_EQ(4, fx.log->n);
	for (k = 0; k < 2; k++) {
		ASSERT_EQ(k + 1, fx.log->gate[k]);
		ASSERT_PF_MSG(&fx.log->msg[k], fx.cid, (k + 1) * PG, t[k].tid, t[k].thread_id);
	}
	ASSERT_EQ(0, fx.log->gate[2]);
	ASSERT_PF_MSG(&fx.log->msg[2], fx.cid, 3 * PG, getpid(), 0);
	ASSERT_EQ(0, fx.log->gate[3]);
	ASSERT_PF_MSG(&fx.log->msg[3], fx.cid, 4 * PG, getpid(), tc.thread_id);
	ASSERT_EQ(0, l4t_stats(self->dev, &s1));
	ASSERT_IPC(&fx.s0, &s1, 4, 4, 4);
	/* the main thread's registration pruned the exited second thread's entry */
	ASSERT_EQ(fx.s0.threads + 1, s1.threads);

	/* unregistering gives the id back */
	memset(&tc, 0, sizeof(tc));
	tc.pager_fd = -1;
	tc.flags = L4_THREAD_UNREGISTER;
	ASSERT_EQ(0, ioctl(fx.cli, L4_IOC_THREAD_CONTROL, &tc));
	ASSERT_EQ(fx.log->msg[3].thread_id, tc.thread_id);
	ASSERT_EQ(0, l4t_stats(self->dev, &s1));
	ASSERT_EQ(fx.s0.threads, s1.threads);

	for (i = 1; i < 3; i++)
		ASSERT_EQ(0, close(g[i]));
	IPC_FX_CLOSE(&fx);
}

/* ------------------------------------------------------------------ */
/* Calls                                                               */
/* ------------------------------------------------------------------ */

static void ipc_call_init(struct l4_call *c, __s64 label, int rcv_fd,
			  __u64 window)
{
	memset(c, 0, sizeof(*c));
	c->label = label;
	c->rcv_space_fd = rcv_fd;
	c->rcv_window = window;
}

/*
 * A call with a two-page receive window answered by a sixteen-page send
 * fpage: only the two pages the offset rule picks land, nothing outside
 * the window. Then an error reply, an item for a call without a window
 * (refused), and a call that times out and leaves no trace.
 */
TEST_F(ipc, call_restricted_window)
{
	const __u64 win = L4_FPAGE(8 * PG, 13, 0);
	struct l4_stats s1;
	struct l4_call c;
	struct ipc_fx fx;
	struct l4_msg m;
	pid_t pid;
	int i;

	IPC_FX(&fx, .src_pages = 16, .cli_pages = 16, .no_pager = true);

	pid = ipc_fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct l4_reply r;

		/* 1: items from 64 KiB at 0, hot spot 4 pages in */
		CHILD_CHECK(!ipc_recv(fx.gate, &m));
		ipc_log_add(fx.log, 0, &m);
		memset(&r, 0, sizeof(r));
		r.token = m.token;
		r.label = 7;
		r.nwords = 2;
		r.words[0] = m.words[0] + 1;
		r.words[1] = 0xfeed;
		r.nitems = 1;
		r.items[0].src_fd = fx.src;
		r.items[0].item.control = L4_MAP_ITEM(4 * PG, 0);
		r.items[0].item.fpage = L4_FPAGE(0, 16, RW_);
		CHILD_CHECK(!ioctl(fx.gate, L4_IOC_REPLY, &r));
		/* 2: an error */
		CHILD_CHECK(!ipc_recv(fx.gate, &m));
		ipc_log_add(fx.log, 0, &m);
		memset(&r, 0, sizeof(r));
		r.token = m.token;
		r.error = ENOSPC;
		CHILD_CHECK(!ioctl(fx.gate, L4_IOC_REPLY, &r));
		/* 3: no receive window: an item is refused, words go through */
		CHILD_CHECK(!ipc_recv(fx.gate, &m));
		ipc_log_add(fx.log, 0, &m);
		CHILD_CHECK(ipc_reply_map(fx.gate, m.token, fx.src, 0, 12, RW_) == -1 &&
			    errno == EINVAL);
		memset(&r, 0, sizeof(r));
		r.token = m.token;
		r.label = -5;
		r.nwords = 8;
		for (i = 0; i < 8; i++)
			r.words[i] = 100 + i;
		CHILD_CHECK(!ioctl(fx.gate, L4_IOC_REPLY, &r));
		_exit(0);
	}

	ipc_call_init(&c, 42, fx.cli, win);
	c.nwords = 3;
	c.words[0] = 1;
	c.words[1] = 2;
	c.words[2] = 3;
	ASSERT_EQ(0, ioctl(fx.gate, L4_IOC_CALL, &c));
	ASSERT_EQ(7LL, c.reply_label);
	ASSERT_EQ(2U, c.nwords);
	ASSERT_EQ(2ULL, c.words[0]);
	ASSERT_EQ(0xfeedULL, c.words[1]);
	ASSERT_EQ(2ULL, c.pages);
	ASSERT_EQ(2ULL, l4t_nodes(fx.cli));
	/* send 0..64K, R = 13 < S = 16: 8 KiB from 4 pages in, to 8 pages in */
	ASSERT_EQ(-1L, l4t_check(fx.cwin + 8 * PG, 4 * PG, 2 * PG, SEED));
	ASSERT_SIGBUS(fx.cwin + 7 * PG, L4T_READ);
	ASSERT_SIGBUS(fx.cwin + 10 * PG, L4T_READ);
	ASSERT_SIGBUS(fx.cwin + 4 * PG, L4T_READ);
	ASSERT_EQ(2ULL, l4t_nodes(fx.cli));

	ipc_call_init(&c, 43, fx.cli, win);
	ASSERT_EQ(-1, ioctl(fx.gate, L4_IOC_CALL, &c));
	ASSERT_EQ(ENOSPC, errno);

	ipc_call_init(&c, 44, -1, 0);
	ASSERT_EQ(0, ioctl(fx.gate, L4_IOC_CALL, &c));
	ASSERT_EQ(-5LL, c.reply_label);
	ASSERT_EQ(8U, c.nwords);
	for (i = 0; i < 8; i++)
		ASSERT_EQ((__u64)(100 + i), c.words[i]);
	ASSERT_EQ(0ULL, c.pages);
	ASSERT_EQ(0, l4t_wait(pid));

	ASSERT_EQ(3, fx.log->n);
	m = fx.log->msg[0];
	ASSERT_EQ(42LL, m.label);
	ASSERT_EQ(3U, m.nwords);
	ASSERT_EQ(1ULL, m.words[0]);
	ASSERT_EQ(2ULL, m.words[1]);
	ASSERT_EQ(3ULL, m.words[2]);
	ASSERT_EQ(0ULL, m.words[3]);
	ASSERT_EQ(fx.cid, m.space_id);
	ASSERT_EQ(0ULL, m.thread_id);
	ASSERT_EQ(getpid(), m.tid);
	ASSERT_EQ(win, m.rcv_window);
	ASSERT_EQ(0U, m.flags);
	ASSERT_EQ(43LL, fx.log->msg[1].label);
	ASSERT_EQ(0U, fx.log->msg[1].nwords);
	ASSERT_EQ(44LL, fx.log->msg[2].label);
	ASSERT_EQ(0ULL, fx.log->msg[2].space_id);
	ASSERT_EQ(0ULL, fx.log->msg[2].rcv_window);
	ASSERT_NE(fx.log->msg[0].token, fx.log->msg[1].token);

	/* nobody receives: the call times out and its message is withdrawn */
	ipc_call_init(&c, 45, -1, 0);
	c.timeout_ns = 20 * 1000 * 1000;
	ASSERT_EQ(-1, ioctl(fx.gate, L4_IOC_CALL, &c));
	ASSERT_EQ(ETIMEDOUT, errno);
	ASSERT_EQ(0, fcntl(fx.gate, F_SETFL, O_NONBLOCK));
	ASSERT_EQ(-1, ipc_recv(fx.gate, &m));
	ASSERT_EQ(EAGAIN, errno);

	ASSERT_EQ(0, l4t_stats(self->dev, &s1));
	ASSERT_IPC(&fx.s0, &s1, 3, 3, 0);
	IPC_FX_CLOSE(&fx);
}

/* ------------------------------------------------------------------ */
/* Readiness                                                           */
/* ------------------------------------------------------------------ */

/*
 * EPOLLIN exactly while a message is pending (not while it is in flight);
 * nonblocking RECV and read() give EAGAIN on an empty gate; read() with a
 * buffer smaller than a message is EINVAL and consumes nothing.
 */
TEST_F(ipc, poll_epoll_readiness)
{
	struct epoll_event ev = { .events = EPOLLIN };
	char buf[sizeof(struct l4_msg) + 16];
	struct l4_msg m, m2;
	struct l4_stats s1;
	struct pollfd pfd;
	struct ipc_fx fx;
	pid_t f;
	int ep;

	IPC_FX(&fx, .src_pages = 4, .cli_pages = 4);
	ep = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, fx.gate, &ev));
	ASSERT_EQ(0, l4t_stats(self->dev, &fx.s0));

	/* empty */
	ASSERT_EQ(0, epoll_wait(ep, &ev, 1, 0));
	pfd = (struct pollfd){ .fd = fx.gate, .events = POLLIN };
	ASSERT_EQ(0, poll(&pfd, 1, 0));
	ASSERT_EQ(0, fcntl(fx.gate, F_SETFL, O_NONBLOCK));
	ASSERT_EQ(-1, ipc_recv(fx.gate, &m));
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_EQ(-1, read(fx.gate, buf, sizeof(buf)));
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_EQ(-1, read(fx.gate, buf, sizeof(struct l4_msg) - 1));
	ASSERT_EQ(EINVAL, errno);

	f = ipc_fork();
	ASSERT_LE(0, f);
	if (!f) {
		CHILD_CHECK(*(volatile __u64 *)fx.cwin == l4t_word(SEED, 0));
		CHILD_CHECK(*(volatile __u64 *)(fx.cwin + 2 * PG) ==
			    l4t_word(SEED, 2 * PG));
		_exit(0);
	}

	/* pending: readable */
	ev.events = 0;
	ASSERT_EQ(1, epoll_wait(ep, &ev, 1, -1));
	ASSERT_EQ((__u32)EPOLLIN, ev.events & (EPOLLIN | EPOLLERR | EPOLLHUP));
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	ASSERT_EQ(POLLIN, pfd.revents & (POLLIN | POLLERR | POLLHUP));
	ASSERT_EQ(0, ipc_recv(fx.gate, &m));
	ASSERT_PF_MSG(&m, fx.cid, 0, f, 0);
	/* in flight: not readable */
	ASSERT_EQ(0, epoll_wait(ep, &ev, 1, 0));
	ASSERT_EQ(0, poll(&pfd, 1, 0));
	ASSERT_EQ(-1, ipc_recv(fx.gate, &m2));
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, ipc_reply_map(fx.gate, m.token, fx.src, 0, 12, RW_));

	/* the second fault, through read(2) */
	ASSERT_EQ(1, epoll_wait(ep, &ev, 1, -1));
	ASSERT_EQ(-1, read(fx.gate, buf, sizeof(struct l4_msg) - 1));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(1, epoll_wait(ep, &ev, 1, 0));	/* still there */
	ASSERT_EQ((ssize_t)sizeof(struct l4_msg), read(fx.gate, buf, sizeof(buf)));
	memcpy(&m, buf, sizeof(m));
	ASSERT_PF_MSG(&m, fx.cid, 2 * PG, f, 0);
	ASSERT_EQ(0, epoll_wait(ep, &ev, 1, 0));
	ASSERT_EQ(0, ipc_reply_map(fx.gate, m.token, fx.src, 2 * PG, 12, RW_));
	ASSERT_EQ(0, l4t_wait(f));
	ASSERT_EQ(0, epoll_wait(ep, &ev, 1, 0));

	ASSERT_EQ(0, l4t_stats(self->dev, &s1));
	ASSERT_IPC(&fx.s0, &s1, 2, 2, 2);
	ASSERT_EQ(2ULL, l4t_nodes(fx.cli));
	ASSERT_EQ(0, close(ep));
	IPC_FX_CLOSE(&fx);
}

/* ------------------------------------------------------------------ */
/* Malformed replies                                                   */
/* ------------------------------------------------------------------ */

/*
 * Each malformed reply to a held fault is refused with its errno and has
 * no effect: nothing mapped, nothing answered, the faulter still waiting.
 * Then the right reply with the same token lets the faulter go on.
 */
TEST_F(ipc, malformed_replies)
{
	int other, pfds[2], done[2], i;
	struct l4_reply_wait rw;
	struct l4_reply good, r;
	struct pollfd pfd[2];
	struct l4_stats s1;
	struct ipc_fx fx;
	struct l4_msg m;
	pid_t f;

	/* the pager's space is 32 pages, the faulter's 16 */
	IPC_FX(&fx, .src_pages = 32, .cli_pages = 16);
	other = ipc_gate(self->dev);
	ASSERT_LE(0, other);
	ASSERT_EQ(0, pipe(pfds));
	ASSERT_EQ(0, pipe(done));
	ASSERT_EQ(0, l4t_stats(self->dev, &fx.s0));

	f = ipc_fork();
	ASSERT_LE(0, f);
	if (!f) {
		CHILD_CHECK(l4t_check(fx.cwin + 2 * PG, 2 * PG, PG, SEED) == -1);
		CHILD_CHECK(!l4t_post(done[1]));
		_exit(0);
	}
	ASSERT_EQ(0, close(done[1]));
	ASSERT_EQ(0, ipc_recv(fx.gate, &m));
	ASSERT_PF_MSG(&m, fx.cid, 2 * PG, f, 0);
	ipc_map_reply(&good, m.token, fx.src, 2 * PG, 12, RW_);

#define REFUSED(err_, ...) do {						\
	r = good;							\
	__VA_ARGS__;							\
	ASSERT_EQ(-1, ioctl(fx.gate, L4_IOC_REPLY, &r));			\
	ASSERT_EQ(err_, errno);						\
	ASSERT_EQ(0ULL, l4t_nodes(fx.cli));				\
	ASSERT_EQ(0, l4t_stats(self->dev, &s1));			\
	ASSERT_IPC(&fx.s0, &s1, 1, 0, 1);					\
} while (0)

	REFUSED(ENOENT, r.token = m.token + 1000);
	REFUSED(ENOENT, r.token = 0);
	/* src_fd: no space, no fd */
	REFUSED(EINVAL, r.items[0].src_fd = fx.gate);
	REFUSED(EINVAL, r.items[0].src_fd = self->dev);
	REFUSED(EINVAL, r.items[0].src_fd = pfds[0]);
	REFUSED(EBADF, r.items[0].src_fd = -1);
	REFUSED(EBADF, r.items[0].src_fd = 1000);
	/* send fpages: outside the pager's space, misaligned, bad type, rights, order */
	REFUSED(EINVAL, r.items[0].item.fpage = L4_FPAGE(32 * PG, 12, RW_));
	REFUSED(EINVAL, r.items[0].item.fpage = L4_FPAGE(0, 18, RW_));
	REFUSED(EINVAL, r.items[0].item.fpage = L4_FPAGE(PG, 13, RW_));
	REFUSED(EINVAL, r.items[0].item.fpage = L4_FPAGE(2 * PG, 11, RW_));
	REFUSED(EINVAL, r.items[0].item.fpage = 2 * PG | (12 << 6) | RW_);
	REFUSED(EINVAL, r.items[0].item.fpage |= 0x8);
	/* control words */
	REFUSED(EINVAL, r.items[0].item.control = 2 * PG);
	REFUSED(EINVAL, r.items[0].item.control |= 0x1);
	REFUSED(EINVAL, r.items[0].item.control |= 0x100);
	/* the message's fields */
	REFUSED(EINVAL, r.flags = 1);
	REFUSED(EINVAL, r.flags = 0x80000000U);
	REFUSED(EINVAL, r.reserved[0] = 1);
	REFUSED(EINVAL, r.reserved[1] = 1);
	REFUSED(EINVAL, r.items[0].pad = 1);
	REFUSED(EINVAL, r.nwords = L4_MSG_WORDS + 1);
	REFUSED(EINVAL, r.nitems = L4_MSG_ITEMS + 1);
	REFUSED(EINVAL, r.error = -1);
	REFUSED(EINVAL, r.error = -EFAULT);
	REFUSED(EINVAL, r.error = 4096);
	REFUSED(EINVAL, r.error = EFAULT);	/* an error with items */
	/* a good item, then a bad one: all or nothing */
	REFUSED(EBADF, r.nitems = 2; r.items[1] = r.items[0];
		r.items[1].src_fd = 1000);
	REFUSED(EINVAL, r.nitems = 4; r.items[1] = r.items[0];
		r.items[2] = r.items[0]; r.items[3] = r.items[0];
		r.items[3].item.fpage = L4_FPAGE(64 * PG, 12, RW_));
	/* the right token on another gate */
	r = good;
	ASSERT_EQ(-1, ioctl(other, L4_IOC_REPLY, &r));
	ASSERT_EQ(ENOENT, errno);
	/* REPLY_WAIT refuses at once, receiving nothing */
	memset(&rw, 0x5a, sizeof(rw));
	rw.reply = good;
	rw.reply.flags = 2;
	ASSERT_EQ(-1, ioctl(fx.gate, L4_IOC_REPLY_WAIT, &rw));
	ASSERT_EQ(EINVAL, errno);
	for (i = 0; i < (int)sizeof(rw.msg); i++)
		ASSERT_EQ(0x5a, ((unsigned char *)&rw.msg)[i]);
	/* placed outside the faulter's 16-page space (the pager's is 32) */
	r = good;
	r.items[0].item.control = L4_MAP_ITEM(20 * PG, 0);
	r.items[0].item.fpage = L4_FPAGE(20 * PG, 12, RW_);
	ASSERT_EQ(-1, ioctl(fx.gate, L4_IOC_REPLY, &r));
	/* like L4_IOC_MAP's destination outside its space */
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(0ULL, l4t_nodes(fx.cli));

	/* still waiting: no message, nothing done */
	pfd[0] = (struct pollfd){ .fd = done[0], .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = fx.gate, .events = POLLIN };
	ASSERT_EQ(0, poll(pfd, 2, 0));

	/* the right answer, same token */
	ASSERT_EQ(0, ioctl(fx.gate, L4_IOC_REPLY, &good));
	ASSERT_EQ(1, poll(pfd, 2, -1));
	ASSERT_EQ(POLLIN, pfd[0].revents & POLLIN);	/* done ... */
	ASSERT_EQ(0, pfd[1].revents);		/* ... not another fault */
	ASSERT_EQ(0, l4t_wait(f));
	ASSERT_EQ(-1, ioctl(fx.gate, L4_IOC_REPLY, &good));	/* answered */
	ASSERT_EQ(ENOENT, errno);
	ASSERT_EQ(1ULL, l4t_nodes(fx.cli));
	ASSERT_EQ(0, l4t_stats(self->dev, &s1));
	ASSERT_IPC(&fx.s0, &s1, 1, 1, 1);
#undef REFUSED

	ASSERT_EQ(0, close(pfds[0]));
	ASSERT_EQ(0, close(pfds[1]));
	ASSERT_EQ(0, close(done[0]));
	ASSERT_EQ(0, close(other));
	IPC_FX_CLOSE(&fx);
}

/* ------------------------------------------------------------------ */
/* errnos of the ioctls                                                */
/* ------------------------------------------------------------------ */

TEST_F(ipc, create_gate_errors)
{
	struct l4_stats st;
	int lowest, gate;

	lowest = l4t_lowest_free_fd();
	ASSERT_EQ(-1, ioctl(self->dev, L4_IOC_CREATE_GATE, 1UL));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, ioctl(self->dev, L4_IOC_CREATE_GATE, 0x1000UL));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(lowest, l4t_lowest_free_fd());
	ASSERT_EQ(0, l4t_stats(self->dev, &st));
	ASSERT_EQ(self->before.gates, st.gates);

	gate = ipc_gate(self->dev);
	ASSERT_EQ(lowest, gate);
	ASSERT_EQ(FD_CLOEXEC, fcntl(gate, F_GETFD));
	ASSERT_EQ(O_RDWR, fcntl(gate, F_GETFL) & O_ACCMODE);
	ASSERT_EQ(0, l4t_stats(self->dev, &st));
	ASSERT_EQ(self->before.gates + 1, st.gates);
	/* space and device ioctls are no gate ioctls */
	ASSERT_EQ(-1, ioctl(gate, L4_IOC_STATS, &st));
	ASSERT_EQ(ENOTTY, errno);
	ASSERT_EQ(-1, ioctl(gate, L4_IOC_SET_PAGER, &(struct l4_pager){ .gate_fd = -1 }));
	ASSERT_EQ(ENOTTY, errno);
	ASSERT_EQ(0, close(gate));
	ASSERT_IPC_SETTLED(self);
}

TEST_F(ipc, set_pager_and_thread_control_errors)
{
	struct l4_thread_control tc;
	struct l4_pager p;
	struct l4_stats st;
	int sp, gate, pfd[2];
	__u64 id;

	sp = l4t_create(self->dev, 4 * PG, 0, 0, NULL);
	ASSERT_LE(0, sp);
	gate = ipc_gate(self->dev);
	ASSERT_LE(0, gate);
	ASSERT_EQ(0, pipe(pfd));

#define PAGER_ERR(err_, ...) do {					\
	memset(&p, 0, sizeof(p));					\
	p.gate_fd = gate;						\
	__VA_ARGS__;							\
	ASSERT_EQ(-1, ioctl(sp, L4_IOC_SET_PAGER, &p));			\
	ASSERT_EQ(err_, errno);						\
} while (0)
	PAGER_ERR(EINVAL, p.gate_fd = sp);
	PAGER_ERR(EINVAL, p.gate_fd = self->dev);
	PAGER_ERR(EINVAL, p.gate_fd = pfd[0]);
	PAGER_ERR(EBADF, p.gate_fd = 1000);
	PAGER_ERR(EBADF, p.gate_fd = -2);
	PAGER_ERR(EINVAL, p.flags = 1);
	PAGER_ERR(EINVAL, p.reserved[0] = 1);
	PAGER_ERR(EINVAL, p.reserved[1] = 1);
#undef PAGER_ERR
	/* on a gate or the device: unknown command */
	memset(&p, 0, sizeof(p));
	p.gate_fd = gate;
	ASSERT_EQ(-1, ioctl(self->dev, L4_IOC_SET_PAGER, &p));
	ASSERT_EQ(ENOTTY, errno);

	/* a space keeps its pager gate alive after the fd is gone */
	ASSERT_EQ(0, ipc_set_pager(sp, gate));
	ASSERT_EQ(0, close(gate));
	ASSERT_EQ(0, l4t_stats(self->dev, &st));
	ASSERT_EQ(self->before.gates + 1, st.gates);
	ASSERT_EQ(0, ipc_set_pager(sp, -1));
	ASSERT_EQ(0, l4t_stats(self->dev, &st));
	ASSERT_EQ(self->before.gates, st.gates);
	gate = ipc_gate(self->dev);
	ASSERT_LE(0, gate);

#define TC_ERR(err_, ...) do {						\
	memset(&tc, 0, sizeof(tc));					\
	tc.pager_fd = gate;						\
	__VA_ARGS__;							\
	ASSERT_EQ(-1, ioctl(sp, L4_IOC_THREAD_CONTROL, &tc));		\
	ASSERT_EQ(err_, errno);						\
} while (0)
	TC_ERR(EINVAL, tc.pager_fd = sp);
	TC_ERR(EINVAL, tc.pager_fd = pfd[1]);
	TC_ERR(EBADF, tc.pager_fd = 1000);
	TC_ERR(EINVAL, tc.flags = 2);
	TC_ERR(EINVAL, tc.thread_id = 1);
	TC_ERR(EINVAL, tc.reserved[1] = 1);
	TC_ERR(EINVAL, tc.flags = L4_THREAD_UNREGISTER);	/* with a gate */
	TC_ERR(ENOENT, tc.flags = L4_THREAD_UNREGISTER; tc.pager_fd = -1);
	ASSERT_EQ(0, l4t_stats(self->dev, &st));
	ASSERT_EQ(self->before.threads, st.threads);

	memset(&tc, 0, sizeof(tc));
	tc.pager_fd = gate;
	ASSERT_EQ(0, ioctl(sp, L4_IOC_THREAD_CONTROL, &tc));
	ASSERT_NE(0ULL, tc.thread_id);
	ASSERT_EQ(0, l4t_stats(self->dev, &st));
	ASSERT_EQ(self->before.threads + 1, st.threads);
	id = tc.thread_id;
	memset(&tc, 0, sizeof(tc));
	tc.pager_fd = -1;	/* change: same thread */
	ASSERT_EQ(0, ioctl(sp, L4_IOC_THREAD_CONTROL, &tc));
	ASSERT_EQ(id, tc.thread_id);
	memset(&tc, 0, sizeof(tc));
	tc.pager_fd = -1;
	tc.flags = L4_THREAD_UNREGISTER;
	ASSERT_EQ(0, ioctl(sp, L4_IOC_THREAD_CONTROL, &tc));
	ASSERT_EQ(id, tc.thread_id);
#undef TC_ERR
	ASSERT_EQ(0, l4t_stats(self->dev, &st));
	ASSERT_EQ(self->before.threads, st.threads);

	ASSERT_EQ(0, close(pfd[0]));
	ASSERT_EQ(0, close(pfd[1]));
	ASSERT_EQ(0, close(gate));
	ASSERT_EQ(0, close(sp));
	ASSERT_IPC_SETTLED(self);
}

/* Malformed calls fail at once and leave no message behind. */
TEST_F(ipc, call_errors)
{
	struct l4_stats s0, s1;
	struct l4_call c;
	struct l4_msg m;
	int sp, gate;

	sp = l4t_create(self->dev, 4 * PG, 0, 0, NULL);
	ASSERT_LE(0, sp);
	gate = ipc_gate(self->dev);
	ASSERT_LE(0, gate);
	ASSERT_EQ(0, l4t_stats(self->dev, &s0));

#define CALL_ERR(err_, ...) do {					\
	ipc_call_init(&c, 1, -1, 0);					\
	c.timeout_ns = 1;						\
	__VA_ARGS__;							\
	ASSERT_EQ(-1, ioctl(gate, L4_IOC_CALL, &c));			\
	ASSERT_EQ(err_, errno);						\
} while (0)
	CALL_ERR(EINVAL, c.flags = 1);
	CALL_ERR(EINVAL, c.pad = 1);
	CALL_ERR(EINVAL, c.nwords = L4_MSG_WORDS + 1);
	CALL_ERR(EINVAL, c.timeout_ns = -1);
	CALL_ERR(EINVAL, c.reply_label = 1);
	CALL_ERR(EINVAL, c.pages = 1);
	CALL_ERR(EINVAL, c.reserved[1] = 1);
	CALL_ERR(EINVAL, c.rcv_window = L4_FPAGE_WHOLE_SPACE);	/* no space */
	CALL_ERR(EINVAL, c.rcv_space_fd = -2);
	CALL_ERR(EBADF, c.rcv_space_fd = 1000; c.rcv_window = L4_FPAGE_WHOLE_SPACE);
	CALL_ERR(EINVAL, c.rcv_space_fd = gate; c.rcv_window = L4_FPAGE_WHOLE_SPACE);
	CALL_ERR(EINVAL, c.rcv_space_fd = sp; c.rcv_window = L4_FPAGE(4 * PG, 12, 0));
	CALL_ERR(EINVAL, c.rcv_space_fd = sp; c.rcv_window = L4_FPAGE(PG, 13, 0));
	CALL_ERR(EINVAL, c.rcv_space_fd = sp; c.rcv_window = L4_FPAGE(0, 11, 0));
	/* a call on a space or the device is no call */
	ipc_call_init(&c, 1, -1, 0);
	ASSERT_EQ(-1, ioctl(sp, L4_IOC_CALL, &c));
	ASSERT_EQ(ENOTTY, errno);
	ASSERT_EQ(-1, ioctl(self->dev, L4_IOC_CALL, &c));
	ASSERT_EQ(ENOTTY, errno);
#undef CALL_ERR
	ASSERT_EQ(0, fcntl(gate, F_SETFL, O_NONBLOCK));
	ASSERT_EQ(-1, ipc_recv(gate, &m));
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, l4t_stats(self->dev, &s1));
	ASSERT_IPC(&s0, &s1, 0, 0, 0);

	ASSERT_EQ(0, close(gate));
	ASSERT_EQ(0, close(sp));
	ASSERT_IPC_SETTLED(self);
}

/* ------------------------------------------------------------------ */
/* Send capabilities and the no-senders notification                   */
/* ------------------------------------------------------------------ */

static int ipc_send_cap(int gate)
{
	return ioctl(gate, L4_IOC_GATE_SEND_CAP, 0);
}

/* A NO_SENDERS notification is pending on @gate (nonblocking). */
#define ASSERT_NO_SENDERS(gate) do {					\
	struct l4_msg m_;						\
	ASSERT_EQ(0, ipc_recv(gate, &m_));				\
	ASSERT_EQ(L4_LABEL_NO_SENDERS, m_.label);			\
	ASSERT_EQ(0ULL, m_.token);					\
	ASSERT_EQ(0U, m_.nwords);					\
	ASSERT_EQ(0, m_.tid);						\
	ASSERT_EQ(0ULL, m_.space_id);					\
	ASSERT_EQ(0ULL, m_.rcv_window);					\
} while (0)

#define ASSERT_NOTHING(gate) do {					\
	struct l4_msg m_;						\
	ASSERT_EQ(-1, ipc_recv(gate, &m_));				\
	ASSERT_EQ(EAGAIN, errno);					\
} while (0)

/*
 * A send capability calls, but never receives; it does not keep the gate
 * alive: once the receive fd is closed a call gets EPIPE and poll HUP.
 */
TEST_F(ipc, send_cap_calls_only)
{
	struct l4_reply_wait rw;
	struct pollfd pfd;
	struct l4_reply r;
	struct l4_call c;
	struct l4_msg m;
	int gate, cap, cap2, ctl[2];
	char b;
	pid_t pid;

	gate = ipc_gate(self->dev);
	ASSERT_LE(0, gate);
	cap = ipc_send_cap(gate);
	ASSERT_LE(0, cap);
	ASSERT_EQ(FD_CLOEXEC, fcntl(cap, F_GETFD));
	ASSERT_EQ(-1, ioctl(gate, L4_IOC_GATE_SEND_CAP, 1));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, ioctl(cap, L4_IOC_GATE_SEND_CAP, 1));
	ASSERT_EQ(EINVAL, errno);

	/* nothing that receives works on it */
	ASSERT_EQ(-1, ipc_recv(cap, &m));
	ASSERT_EQ(EPERM, errno);
	memset(&r, 0, sizeof(r));
	r.token = 1;
	ASSERT_EQ(-1, ioctl(cap, L4_IOC_REPLY, &r));
	ASSERT_EQ(EPERM, errno);
	memset(&rw, 0, sizeof(rw));
	ASSERT_EQ(-1, ioctl(cap, L4_IOC_REPLY_WAIT, &rw));
	ASSERT_EQ(EPERM, errno);
	ASSERT_EQ(-1, read(cap, &m, sizeof(m)));
	ASSERT_EQ(EPERM, errno);
	ASSERT_EQ(-1, ioctl(cap, L4_IOC_STATS, &m));
	ASSERT_EQ(ENOTTY, errno);
	pfd = (struct pollfd){ .fd = cap, .events = POLLIN | POLLOUT };
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	ASSERT_EQ(POLLOUT, pfd.revents);

	/* a call through it reaches the server; a cap of a cap works too */
	cap2 = ipc_send_cap(cap);
	ASSERT_LE(0, cap2);
	ASSERT_EQ(0, pipe(ctl));
	pid = ipc_fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int i;

		CHILD_CHECK(!close(ctl[1]));
		for (i = 0; i < 2; i++) {
			CHILD_CHECK(!ipc_recv(gate, &m));
			memset(&r, 0, sizeof(r));
			r.token = m.token;
			r.label = m.label + 1;
			r.nwords = 1;
			r.words[0] = m.words[0] * 2;
			CHILD_CHECK(!ioctl(gate, L4_IOC_REPLY, &r));
		}
		CHILD_CHECK(read(ctl[0], &b, 1) == 0);	/* the test closed it */
		_exit(0);
	}
	ASSERT_EQ(0, close(ctl[0]));
	ipc_call_init(&c, 40, -1, 0);
	c.nwords = 1;
	c.words[0] = 21;
	ASSERT_EQ(0, ioctl(cap, L4_IOC_CALL, &c));
	ASSERT_EQ(41, c.reply_label);
	ASSERT_EQ(42ULL, c.words[0]);
	ipc_call_init(&c, 50, -1, 0);
	c.nwords = 1;
	c.words[0] = 4;
	ASSERT_EQ(0, ioctl(cap2, L4_IOC_CALL, &c));
	ASSERT_EQ(51, c.reply_label);
	ASSERT_EQ(8ULL, c.words[0]);

	/* the last receive fd goes (ours, then the server's): the gate dies */
	ASSERT_EQ(0, close(gate));
	ASSERT_EQ(0, close(ctl[1]));
	ASSERT_EQ(0, l4t_wait(pid));
	pfd = (struct pollfd){ .fd = cap, .events = POLLIN | POLLOUT };
	ASSERT_EQ(1, poll(&pfd, 1, 1000));
	ASSERT_EQ(POLLHUP | POLLERR, pfd.revents & (POLLHUP | POLLERR));
	ASSERT_EQ(0, pfd.revents & POLLOUT);
	ipc_call_init(&c, 1, -1, 0);
	ASSERT_EQ(-1, ioctl(cap, L4_IOC_CALL, &c));
	ASSERT_EQ(EPIPE, errno);
	ASSERT_EQ(-1, ipc_send_cap(cap));
	ASSERT_EQ(EPIPE, errno);

	ASSERT_EQ(0, close(cap));
	ASSERT_EQ(0, close(cap2));
	ASSERT_IPC_SETTLED(self);
}

/*
 * The gate hears when its last send capability closes -- and only then:
 * not while a dup, a forked child or a capability in flight over a Unix
 * socket still holds one; and again each time it happens.
 */
TEST_F(ipc, no_senders_notification)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	char b = 'x';
	struct iovec iov = { .iov_base = &b, .iov_len = 1 };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *cm;
	struct l4_reply r;
	int gate, c1, c2, d, sv[2];
	int got = -1;
	pid_t pid;

	gate = ipc_gate(self->dev);
	ASSERT_LE(0, gate);
	ASSERT_EQ(0, fcntl(gate, F_SETFL, O_NONBLOCK));
	ASSERT_NOTHING(gate);

	c1 = ipc_send_cap(gate);
	ASSERT_LE(0, c1);
	c2 = ipc_send_cap(c1);
	ASSERT_LE(0, c2);
	ASSERT_EQ(0, close(c1));
	ASSERT_NOTHING(gate);
	d = dup(c2);
	ASSERT_LE(0, d);
	ASSERT_EQ(0, close(c2));
	ASSERT_NOTHING(gate);
	ASSERT_EQ(0, close(d));
	ASSERT_NO_SENDERS(gate);
	ASSERT_NOTHING(gate);
	/* nobody answers a notification */
	memset(&r, 0, sizeof(r));
	ASSERT_EQ(-1, ioctl(gate, L4_IOC_REPLY, &r));
	ASSERT_EQ(ENOENT, errno);

	/* again: a child holds the last one */
	c1 = ipc_send_cap(gate);
	ASSERT_LE(0, c1);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = ipc_fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		CHILD_CHECK(read(sv[1], &b, 1) == 1);
		_exit(0);
	}
	ASSERT_EQ(0, close(c1));
	ASSERT_NOTHING(gate);
	ASSERT_EQ(1, write(sv[0], &b, 1));
	ASSERT_EQ(0, l4t_wait(pid));
	ASSERT_NO_SENDERS(gate);

	/* a capability in flight over SCM_RIGHTS still counts */
	c1 = ipc_send_cap(gate);
	ASSERT_LE(0, c1);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &c1, sizeof(int));
	ASSERT_EQ(1, sendmsg(sv[0], &mh, 0));
	ASSERT_EQ(0, close(c1));
	ASSERT_NOTHING(gate);
	mh.msg_controllen = sizeof(u.buf);
	ASSERT_EQ(1, recvmsg(sv[1], &mh, 0));
	cm = CMSG_FIRSTHDR(&mh);
	ASSERT_NE(NULL, cm);
	memcpy(&got, CMSG_DATA(cm), sizeof(int));
	ASSERT_NOTHING(gate);
	ASSERT_EQ(0, close(got));
	ASSERT_NO_SENDERS(gate);

	/* a pending notification dies quietly with the gate */
	c1 = ipc_send_cap(gate);
	ASSERT_LE(0, c1);
	ASSERT_EQ(0, close(c1));
	ASSERT_EQ(0, close(sv[0]));
	ASSERT_EQ(0, close(sv[1]));
	ASSERT_EQ(0, close(gate));
	ASSERT_IPC_SETTLED(self);
}

/*
 * A send capability names a pager (space default and per thread). Error
 * replies EIO and EPIPE end the fault in SIGBUS (the memory is gone),
 * others in SIGSEGV.
 */
TEST_F(ipc, send_cap_pager_bus_errors)
{
	static const struct ipc_answer ans[] = {
		{ 12, RW_, EIO }, { 12, RW_, EPIPE }, { 12, RW_, EACCES },
		{ 12, RW_, 0 },
	};
	struct l4_thread_control tc;
	struct l4t_fault f;
	struct ipc_fx fx;
	__u64 v = 0;
	pid_t pid;
	int cap;

	IPC_FX(&fx, .src_pages = 8, .cli_pages = 8, .no_pager = true);
	cap = ipc_send_cap(fx.gate);
	ASSERT_LE(0, cap);
	ASSERT_EQ(0, ipc_set_pager(fx.cli, cap));
	memset(&tc, 0, sizeof(tc));
	tc.pager_fd = cap;
	ASSERT_EQ(0, ioctl(fx.cli, L4_IOC_THREAD_CONTROL, &tc));
	pid = IPC_FX_PAGER(&fx, ans);
	ASSERT_EQ(0, close(cap));	/* the space and thread hold the fx.gate */
	l4t_catch_faults();

	ASSERT_EQ(SIGBUS, l4t_access((__u64 *)(fx.cwin + 1 * PG + 0x8), L4T_READ, &v, &f));
	ASSERT_EQ(fx.cwin + 1 * PG + 0x8, (char *)f.addr);
	ASSERT_EQ(SIGBUS, l4t_access((__u64 *)(fx.cwin + 2 * PG), L4T_WRITE, &v, &f));
	ASSERT_EQ(fx.cwin + 2 * PG, (char *)f.addr);
	ASSERT_EQ(SIGSEGV, l4t_access((__u64 *)(fx.cwin + 3 * PG), L4T_READ, &v, &f));
	ASSERT_EQ(fx.cwin + 3 * PG, (char *)f.addr);
	ASSERT_EQ(0ULL, l4t_nodes(fx.cli));
	ASSERT_EQ(0, l4t_access((__u64 *)(fx.cwin + 1 * PG + 0x8), L4T_READ, &v, &f));
	ASSERT_EQ(l4t_word(SEED, 1 * PG + 0x8), v);
	ASSERT_EQ(0, l4t_wait(pid));
	ASSERT_EQ(4, fx.log->n);
	ASSERT_EQ(tc.thread_id, fx.log->msg[0].thread_id);

	/* the pager is gone: its gate died with it */
	ASSERT_EQ(SIGBUS, l4t_access((__u64 *)(fx.cwin + 4 * PG), L4T_READ, &v, &f));

	IPC_FX_CLOSE(&fx);
}

TEST_HARNESS_MAIN
