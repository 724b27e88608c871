// SPDX-License-Identifier: GPL-2.0
/*
 * What a hostile or unlucky user can do to the module, each found by a
 * fuzzer or a probe once and pinned down here: a space creation failing
 * for want of an fd, a kernel-mode access to a pager-backed page under a
 * stream of signals, a signal handler running between a fault and its
 * retry, the NO_SENDERS notification and received-but-unanswered messages
 * piling up, threads coming and going by the thousand, execute rights, and
 * every kind of object charged to the memory cgroup of its maker.
 *
 * No sleeps stand in for synchronisation: a stream of signals runs for a
 * while on purpose (that is the scenario), and what is asserted afterwards
 * is exact (messages received, signals, contents, counters).
 */
#include <pthread.h>
#include <sys/resource.h>

#include "l4_fixtures.h"
#include "l4_nl.h"

L4T_FIXTURE(hostile);

#define PG		L4T_PAGE
#define SEED		0x4bULL
#define PARAM(name)	"/sys/module/l4/parameters/" name

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static int h_recv(int gate, struct l4_msg *m)
{
	memset(m, 0xa5, sizeof(*m));
	return ioctl(gate, L4_IOC_RECV, m);
}

/*
 * Receive (without answering) what waits at @gate right now: how many, the
 * last of them in *@last.
 */
static int h_drain(int gate, struct l4_msg *last)
{
	int n = 0, fl = fcntl(gate, F_GETFL);
	struct l4_msg m;

	fcntl(gate, F_SETFL, fl | O_NONBLOCK);
	for (; !h_recv(gate, &m); n++)
		*last = m;
	if (errno != EAGAIN)
		n = -errno;
	fcntl(gate, F_SETFL, fl);
	return n;
}

/* Answer @token with 2^12 bytes of @src at the fault address. */
static int h_reply_map(int gate, __u64 token, int src, __u64 addr, __u64 rights)
{
	struct l4_reply r = { .token = token, .nitems = 1 };

	addr &= ~(PG - 1);
	r.items[0].src_fd = src;
	r.items[0].item.control = L4_MAP_ITEM(addr, 0);
	r.items[0].item.fpage = L4_FPAGE(addr, 12, rights);
	return ioctl(gate, L4_IOC_REPLY, &r);
}

static int h_reply_error(int gate, __u64 token, int error)
{
	struct l4_reply r = { .token = token, .error = error };

	return ioctl(gate, L4_IOC_REPLY, &r);
}

static int h_map(int dst, int src, __u64 from, __u64 to, __u64 rights)
{
	struct l4_map m = {
		.src_fd		= src,
		.item.control	= L4_MAP_ITEM(to, 0),
		.item.fpage	= L4_FPAGE(from, 12, rights),
		.rcv_fpage	= L4_FPAGE_WHOLE_SPACE,
	};

	return ioctl(dst, L4_IOC_MAP, &m);
}

static int h_unmap(int space, __u64 addr, __u64 rights)
{
	struct l4_unmap u = { .fpage = L4_FPAGE(addr, 12, rights) };

	return ioctl(space, L4_IOC_UNMAP, &u);
}

/* A module parameter, set for one test and put back by h_param_restore(). */
struct h_param {
	const char *path;
	__u64 old;
};

static int h_param_set(struct h_param *p, const char *path, __u64 v)
{
	p->path = path;
	if (l4t_read_u64(path, &p->old))
		return -1;
	return l4t_write_u64(path, v);
}

static void h_param_restore(struct h_param *p)
{
	if (p->path)
		l4t_write_u64(p->path, p->old);
}

/* A sigma0 space of @pages pages filled with pattern SEED, and its window. */
static int h_source(int dev, size_t pages, char **win)
{
	int fd = l4t_space_window(dev, pages, 0, L4_SPACE_SIGMA0, win);

	if (fd >= 0)
		l4t_fill(*win, 0, pages * PG, SEED);
	return fd;
}

/* A source space, a paged client space with its window, and the pager gate. */
struct h_paged {
	int src, cli, gate;
	char *swin, *cwin;
};

static void h_paged_open(struct __test_metadata *_metadata, int dev,
			 struct h_paged *pg)
{
	pg->src = h_source(dev, 4, &pg->swin);
	ASSERT_LE(0, pg->src);
	pg->cli = l4t_space_window(dev, 4, 0, 0, &pg->cwin);
	ASSERT_LE(0, pg->cli);
	pg->gate = l4f_gate(dev);
	ASSERT_LE(0, pg->gate);
	ASSERT_EQ(0, l4f_set_pager(pg->cli, pg->gate));
}

static void h_paged_close(struct h_paged *pg)
{
	munmap(pg->cwin, 4 * PG);
	munmap(pg->swin, 4 * PG);
	close(pg->gate);
	close(pg->cli);
	close(pg->src);
}

static void h_on_usr1_count(int sig)
{
	(void)sig;
}

/* ------------------------------------------------------------------ */
/* Creation failing half way                                           */
/* ------------------------------------------------------------------ */

static void h_count_rec(const struct l4nl_rec *r, void *arg)
{
	(void)r;
	++*(int *)arg;
}

/*
 * CREATE_SPACE with no fd left fails with EMFILE, and nothing of that
 * space stays behind: the netlink dump (anyone may run it) lists exactly
 * the spaces there were, the counters did not move, and with fds again a
 * space is made as ever. (It used to leave a freed space in the id table.)
 */
TEST_F(hostile, create_space_emfile_leaves_nothing)
{
	struct rlimit old, lim;
	struct l4_stats s0, s1;
	int n0 = 0, n1 = 0, fd, i;
	struct l4nl nl;

	ASSERT_EQ(0, l4nl_open(&nl));
	ASSERT_EQ(0, l4nl_call(&nl, L4_CMD_SPACES, NLM_F_DUMP, 0, 0,
			       h_count_rec, &n0, NULL));
	ASSERT_EQ(0, l4t_stats(self->dev, &s0));
	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &old));
	lim = old;
	lim.rlim_cur = l4t_lowest_free_fd();	/* no fd left */
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &lim));
	for (i = 0; i < 16; i++) {
		ASSERT_EQ(-1, l4t_create(self->dev, 16 * PG, 0, L4_SPACE_SIGMA0, NULL));
		ASSERT_EQ(EMFILE, errno);
		ASSERT_EQ(-1, ioctl(self->dev, L4_IOC_CREATE_GATE, 0));
		ASSERT_EQ(EMFILE, errno);
	}
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &old));

	ASSERT_EQ(0, l4nl_call(&nl, L4_CMD_SPACES, NLM_F_DUMP, 0, 0,
			       h_count_rec, &n1, NULL));
	ASSERT_EQ(n0, n1);
	ASSERT_EQ(0, l4t_stats(self->dev, &s1));
	ASSERT_EQ(s0.spaces, s1.spaces);
	ASSERT_EQ(s0.gates, s1.gates);
	fd = l4t_create(self->dev, 16 * PG, 0, L4_SPACE_SIGMA0, NULL);
	ASSERT_LE(0, fd);
	n1 = 0;
	ASSERT_EQ(0, l4nl_call(&nl, L4_CMD_SPACES, NLM_F_DUMP, 0, 0,
			       h_count_rec, &n1, NULL));
	ASSERT_EQ(n0 + 1, n1);
	ASSERT_EQ(0, close(fd));
	l4nl_close(&nl);
}

/* ------------------------------------------------------------------ */
/* A kernel-mode access under a stream of signals                      */
/* ------------------------------------------------------------------ */

struct h_writer {
	volatile int done;
	volatile long ret;
	volatile int err;
};

/*
 * write(pipe, window page) in a child: copy_from_user() faults on the
 * absent page, and the fault goes to the pager (this test). The child
 * catches SIGUSR1 (SA_RESTART), which the test sends every millisecond
 * for 200 ms while it holds the fault unanswered.
 */
static pid_t h_writer_start(char *page, int pipe_w, struct h_writer *w)
{
	struct sigaction sa = { .sa_handler = h_on_usr1_count, .sa_flags = SA_RESTART };
	pid_t pid = l4f_fork();

	if (pid)
		return pid;
	CHILD_CHECK(!sigaction(SIGUSR1, &sa, NULL));
	w->ret = write(pipe_w, page, 1);
	w->err = errno;
	__atomic_store_n(&w->done, 1, __ATOMIC_SEQ_CST);
	_exit(0);
}

static void h_signal_stream(pid_t pid, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		kill(pid, SIGUSR1);
		usleep(1000);
	}
}

/*
 * The fault reaches the pager once, however many signals arrive: a
 * kernel-mode access waits for its answer (killably), and completes when
 * the pager answers -- or, if it never does, ends on SIGKILL. (It used to
 * abandon the message at each signal and ask again at once: a livelock
 * that flooded the pager.)
 */
static void h_kernel_access(struct __test_metadata *_metadata, int dev,
			    bool answer)
{
	struct h_writer *w = l4t_shared(sizeof(*w));
	struct h_paged pg;
	char c;
	int p[2];
	struct l4_msg m, last;
	pid_t pid;

	ASSERT_NE(NULL, w);
	h_paged_open(_metadata, dev, &pg);
	ASSERT_EQ(0, pipe(p));

	pid = h_writer_start(pg.cwin + 2 * PG + 5, p[1], w);
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, h_recv(pg.gate, &m));
	ASSERT_EQ(L4_LABEL_PAGE_FAULT, m.label);
	ASSERT_EQ(2 * PG, m.words[0]);	/* a read of an absent page */
	ASSERT_EQ(pid, m.tid);

	h_signal_stream(pid, 200);
	/* still the one message, and the writer still waits */
	ASSERT_EQ(0, h_drain(pg.gate, &last));
	ASSERT_EQ(0, w->done);

	if (answer) {
		ASSERT_EQ(0, h_reply_map(pg.gate, m.token, pg.src, 2 * PG, L4_FPAGE_R));
		ASSERT_EQ(0, l4t_wait(pid));
		ASSERT_EQ(1, w->ret);
		ASSERT_EQ(1, read(p[0], &c, 1));
		ASSERT_EQ(pg.swin[2 * PG + 5], c);
	} else {
		ASSERT_EQ(0, kill(pid, SIGKILL));
		ASSERT_EQ(128 + SIGKILL, l4t_wait(pid));
		ASSERT_EQ(0, w->done);
		/* the abandoned message still takes its (late) answer */
		ASSERT_EQ(-1, h_reply_error(pg.gate, m.token, EFAULT));
		ASSERT_EQ(ESRCH, errno);
	}
	ASSERT_EQ(0, h_drain(pg.gate, &last));

	close(p[0]);
	close(p[1]);
	h_paged_close(&pg);
}

TEST_F(hostile, kernel_access_signals_pager_answers)
{
	h_kernel_access(_metadata, self->dev, true);
}

TEST_F(hostile, kernel_access_signals_pager_silent)
{
	h_kernel_access(_metadata, self->dev, false);
}

/* ------------------------------------------------------------------ */
/* A signal handler between a fault and its retry                      */
/* ------------------------------------------------------------------ */

#define VERDICT_ROUNDS	30

struct h_round {
	volatile int interrupted;	/* SIGUSR1 took the first access away */
	volatile int sig2;		/* the second access's signal */
	volatile __u64 val2;		/* and what it read */
};

static sigjmp_buf h_usr1_jmp;
static volatile sig_atomic_t h_usr1_armed, h_usr1_seen;

static void h_on_usr1_jump(int sig)
{
	(void)sig;
	h_usr1_seen = 1;
	if (h_usr1_armed) {
		h_usr1_armed = 0;
		siglongjmp(h_usr1_jmp, 1);
	}
}

/*
 * The faulter: each round reads the page twice. The pager answers the
 * first fault with an error and at once sends SIGUSR1, which usually
 * arrives before the faulter ran again: the handler runs between the
 * fault and its retry and jumps away. The second read, a fresh access,
 * must reach the pager (which maps the page): no outcome of the first
 * fault may be left for it.
 */
static void h_verdict_child(volatile __u64 *page, struct h_round *rounds,
			    int done_w, int go_r)
{
	struct sigaction sa = { .sa_handler = h_on_usr1_jump };
	struct l4t_fault f;
	__u64 v;
	int i;

	CHILD_CHECK(!sigaction(SIGUSR1, &sa, NULL));
	for (i = 0; i < VERDICT_ROUNDS; i++) {
		h_usr1_seen = 0;
		if (!sigsetjmp(h_usr1_jmp, 1)) {
			h_usr1_armed = 1;
			l4t_access(page, L4T_READ, &v, &f);
			h_usr1_armed = 0;
			CHILD_CHECK(f.sig == SIGSEGV);
		} else {
			l4t_armed = 0;	/* jumped out of l4t_access() */
			rounds[i].interrupted = 1;
		}
		while (!h_usr1_seen)
			sched_yield();
		rounds[i].sig2 = l4t_access(page, L4T_READ, &v, &f);
		rounds[i].val2 = v;
		CHILD_CHECK(!l4t_post(done_w));
		CHILD_CHECK(!l4t_pend(go_r));	/* the page is absent again */
	}
	_exit(0);
}

TEST_F(hostile, no_stale_verdict_after_handler)
{
	struct h_round *rounds = l4t_shared(sizeof(*rounds) * VERDICT_ROUNDS);
	struct h_param spin = { 0 };
	int done[2], go[2], i, hit = 0;
	struct h_paged pg;
	struct l4_msg m;
	pid_t pid;

	ASSERT_NE(NULL, rounds);
	/* no spinning: the faulter sleeps, and the signal overtakes its wake-up */
	ASSERT_EQ(0, h_param_set(&spin, PARAM("spin_ns"), 0));
	h_paged_open(_metadata, self->dev, &pg);
	ASSERT_EQ(0, pipe(done));
	ASSERT_EQ(0, pipe(go));

	pid = l4f_fork();
	ASSERT_LE(0, pid);
	if (!pid)
		h_verdict_child((volatile __u64 *)(pg.cwin + PG + 64), rounds,
				done[1], go[0]);

	for (i = 0; i < VERDICT_ROUNDS; i++) {
		struct pollfd pfd[2] = {
			{ .fd = pg.gate, .events = POLLIN },
			{ .fd = done[0], .events = POLLIN },
		};

		ASSERT_EQ(0, h_recv(pg.gate, &m));
		ASSERT_EQ(PG + 64, m.words[0]);
		ASSERT_EQ(0, h_reply_error(pg.gate, m.token, EFAULT));
		ASSERT_EQ(0, kill(pid, SIGUSR1));
		/* the second access asks again; the round ends with its report */
		for (;;) {
			ASSERT_LT(0, poll(pfd, 2, -1));
			if (pfd[0].revents & POLLIN) {
				ASSERT_EQ(0, h_recv(pg.gate, &m));
				ASSERT_EQ(PG + 64, m.words[0]);
				ASSERT_EQ(0, h_reply_map(pg.gate, m.token, pg.src, PG,
							 L4_FPAGE_R));
				continue;
			}
			ASSERT_EQ(0, l4t_pend(done[0]));
			break;
		}
		ASSERT_EQ(0, rounds[i].sig2) TH_LOG("round %d: a stale outcome", i);
		ASSERT_EQ(l4t_word(SEED, PG + 64), rounds[i].val2);
		hit += rounds[i].interrupted;
		/* next round: the page is absent again */
		ASSERT_EQ(0, h_unmap(pg.src, PG, L4_FPAGE_RWX));
		ASSERT_EQ(0, l4t_post(go[1]));
	}
	ASSERT_EQ(0, l4t_wait(pid));
	h_param_restore(&spin);
	TH_LOG("the handler ran between fault and retry in %d of %d rounds",
	       hit, VERDICT_ROUNDS);

	close(done[0]);
	close(done[1]);
	close(go[0]);
	close(go[1]);
	h_paged_close(&pg);
}

/* ------------------------------------------------------------------ */
/* What a server can leave lying                                       */
/* ------------------------------------------------------------------ */

/*
 * A thousand send capabilities made and closed with nobody receiving:
 * one NO_SENDERS notification waits, not a thousand. Once received, the
 * next last close queues the next one.
 */
TEST_F(hostile, no_senders_coalesced)
{
	struct l4_msg m;
	int gate, cap, i;

	gate = l4f_gate(self->dev);
	ASSERT_LE(0, gate);
	for (i = 0; i < 1000; i++) {
		cap = ioctl(gate, L4_IOC_GATE_SEND_CAP, 0);
		ASSERT_LE(0, cap);
		ASSERT_EQ(0, close(cap));
	}
	ASSERT_EQ(1, h_drain(gate, &m));
	ASSERT_EQ(L4_LABEL_NO_SENDERS, m.label);
	ASSERT_EQ(0ULL, m.token);
	cap = ioctl(gate, L4_IOC_GATE_SEND_CAP, 0);
	ASSERT_LE(0, cap);
	ASSERT_EQ(0, close(cap));
	ASSERT_EQ(1, h_drain(gate, &m));
	ASSERT_EQ(L4_LABEL_NO_SENDERS, m.label);
	ASSERT_EQ(0, close(gate));
}

struct h_caller {
	int gate;
	long ret;
	int err;
};

static void *h_call_thread(void *arg)
{
	struct h_caller *c = arg;
	struct l4_call call = { .rcv_space_fd = -1, .nwords = 1, .words = { 7 } };

	c->ret = ioctl(c->gate, L4_IOC_CALL, &call);
	c->err = errno;
	return NULL;
}

/*
 * max_inflight bounds the messages a gate holds received and unanswered:
 * beyond it a receive fails with EBUSY (the message stays queued), and an
 * answer makes room again.
 */
TEST_F(hostile, max_inflight_bound)
{
	struct h_caller c[5];
	struct h_param lim = { 0 };
	__u64 tokens[5];
	pthread_t th[5];
	struct l4_msg m;
	int gate, i;

	ASSERT_EQ(0, h_param_set(&lim, PARAM("max_inflight"), 4));
	gate = l4f_gate(self->dev);
	ASSERT_LE(0, gate);
	for (i = 0; i < 5; i++) {
		c[i].gate = gate;
		ASSERT_EQ(0, pthread_create(&th[i], NULL, h_call_thread, &c[i]));
	}
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, h_recv(gate, &m));
		tokens[i] = m.token;
	}
	/* a blocking receive waits for the fifth, then refuses it */
	ASSERT_EQ(-1, h_recv(gate, &m));
	ASSERT_EQ(EBUSY, errno);
	ASSERT_EQ(0, h_reply_error(gate, tokens[0], 0));
	ASSERT_EQ(0, h_recv(gate, &m));
	tokens[4] = m.token;
	for (i = 1; i < 5; i++)
		ASSERT_EQ(0, h_reply_error(gate, tokens[i], 0));
	for (i = 0; i < 5; i++) {
		ASSERT_EQ(0, pthread_join(th[i], NULL));
		ASSERT_EQ(0, c[i].ret);
	}
	h_param_restore(&lim);
	ASSERT_EQ(0, close(gate));
}

/* ------------------------------------------------------------------ */
/* Threads by the thousand                                             */
/* ------------------------------------------------------------------ */

struct h_reg {
	int space;
	pid_t tid;
	int err;
};

static void *h_register_thread(void *arg)
{
	struct l4_thread_control tc = { .pager_fd = -1 };
	struct h_reg *r = arg;

	r->tid = (pid_t)syscall(SYS_gettid);
	r->err = ioctl(r->space, L4_IOC_THREAD_CONTROL, &tc) ? errno : 0;
	return NULL;
}

/*
 * 500 threads register in one space and exit, one after the other: each
 * registration prunes the entry of the thread before it (gone by then),
 * so exactly one entry is left, not 2000.
 */
TEST_F(hostile, exited_threads_pruned)
{
	struct h_reg r = { 0 };
	struct l4_stats st;
	pthread_t th;
	int i;

	r.space = l4t_create(self->dev, 16 * PG, 0, 0, NULL);
	ASSERT_LE(0, r.space);
	for (i = 0; i < 500; i++) {
		ASSERT_EQ(0, pthread_create(&th, NULL, h_register_thread, &r));
		ASSERT_EQ(0, pthread_join(th, NULL));
		ASSERT_EQ(0, r.err);
		ASSERT_EQ(0, l4t_thread_gone(r.tid));
	}
	ASSERT_EQ(0, l4t_stats(self->dev, &st));
	ASSERT_EQ(self->before.threads + 1, st.threads);
	ASSERT_EQ(0, close(r.space));
	ASSERT_IPC_SETTLED(self);
}

/* ------------------------------------------------------------------ */
/* Execute rights                                                      */
/* ------------------------------------------------------------------ */

/* mov eax, 42; ret */
static const unsigned char h_code[] = { 0xb8, 0x2a, 0x00, 0x00, 0x00, 0xc3 };

static int h_call_code(void *p, struct l4t_fault *f)
{
	int (*fn)(void) = (int (*)(void))p;
	volatile int r = -1;

	L4T_CATCH(f, r = fn());
	return r;
}

/*
 * X in L4's sense: a window mapped PROT_EXEC runs code only from entries
 * with X (any access through it needs X; without, SIGSEGV when nobody
 * pages the space), revoking X takes it away at once, and a window mapped
 * without PROT_EXEC can never gain it.
 */
TEST_F(hostile, exec_needs_x)
{
	char *swin, *sx, *cx, *cr;
	struct l4t_fault f;
	int src, cli;

	src = l4t_space_window(self->dev, 4, 0, L4_SPACE_SIGMA0, &swin);
	ASSERT_LE(0, src);
	memcpy(swin, h_code, sizeof(h_code));
	memcpy(swin + PG, h_code, sizeof(h_code));
	ASSERT_EQ(-1, mprotect(swin, 4 * PG, PROT_READ | PROT_WRITE | PROT_EXEC));
	ASSERT_EQ(EACCES, errno);

	/* sigma0's own frames have X */
	sx = mmap(NULL, 4 * PG, PROT_READ | PROT_EXEC, MAP_SHARED, src, 0);
	ASSERT_NE(MAP_FAILED, sx);
	ASSERT_EQ(42, h_call_code(sx, &f));
	ASSERT_EQ(0, f.sig);

	cli = l4t_create(self->dev, 4 * PG, 0, 0, NULL);
	ASSERT_LE(0, cli);
	ASSERT_EQ(0, h_map(cli, src, 0, 0, L4_FPAGE_R));
	ASSERT_EQ(0, h_map(cli, src, PG, PG, L4_FPAGE_RX));
	cx = mmap(NULL, 4 * PG, PROT_READ | PROT_EXEC, MAP_SHARED, cli, 0);
	ASSERT_NE(MAP_FAILED, cx);
	cr = mmap(NULL, 4 * PG, PROT_READ, MAP_SHARED, cli, 0);
	ASSERT_NE(MAP_FAILED, cr);

	/* R only: readable through a plain window, nothing through an exec one */
	ASSERT_EQ(h_code[0], (unsigned char)cr[0]);
	ASSERT_EQ(-1, h_call_code(cx, &f));
	ASSERT_EQ(SIGSEGV, f.sig);
	ASSERT_EQ(cx, f.addr);
	ASSERT_EQ((size_t)0, l4t_touch(cx, 1, L4T_READ, &f));
	ASSERT_EQ(SIGSEGV, f.sig);
	/* RX runs */
	ASSERT_EQ(42, h_call_code(cx + PG, &f));
	ASSERT_EQ(0, f.sig);
	/* X revoked at the source: gone from the derived entry's PTE too */
	ASSERT_EQ(0, h_unmap(src, PG, L4_FPAGE_X));
	ASSERT_EQ(-1, h_call_code(cx + PG, &f));
	ASSERT_EQ(SIGSEGV, f.sig);
	ASSERT_EQ(h_code[0], (unsigned char)cr[PG]);

	munmap(cr, 4 * PG);
	munmap(cx, 4 * PG);
	munmap(sx, 4 * PG);
	munmap(swin, 4 * PG);
	close(cli);
	close(src);
}

/*
 * An instruction fetch from an absent page of an exec window reaches the
 * pager with the X bit (and a present page without X with P and X); the
 * pager's RX answer runs.
 */
TEST_F(hostile, exec_fault_reported)
{
	struct l4_reply r = { 0 };
	int src, cli, gate, status;
	struct l4_msg m;
	char *swin, *cx;
	pid_t pid;

	src = l4t_space_window(self->dev, 4, 0, L4_SPACE_SIGMA0, &swin);
	ASSERT_LE(0, src);
	memcpy(swin + 2 * PG, h_code, sizeof(h_code));
	cli = l4t_create(self->dev, 4 * PG, 0, 0, NULL);
	ASSERT_LE(0, cli);
	gate = l4f_gate(self->dev);
	ASSERT_LE(0, gate);
	ASSERT_EQ(0, l4f_set_pager(cli, gate));
	ASSERT_EQ(0, h_map(cli, src, 2 * PG, 3 * PG, L4_FPAGE_R));
	cx = mmap(NULL, 4 * PG, PROT_READ | PROT_EXEC, MAP_SHARED, cli, 0);
	ASSERT_NE(MAP_FAILED, cx);

	pid = l4f_fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct l4t_fault f;

		CHILD_CHECK(h_call_code(cx + 2 * PG, &f) == 42 && !f.sig);
		CHILD_CHECK(h_call_code(cx + 3 * PG, &f) == 42 && !f.sig);
		_exit(0);
	}
	ASSERT_EQ(0, h_recv(gate, &m));
	ASSERT_EQ(2 * PG | L4_PF_EXEC, m.words[0]);
	ASSERT_EQ((__u64)(uintptr_t)(cx + 2 * PG), m.words[1]);
	ASSERT_EQ(0, h_reply_map(gate, m.token, src, 2 * PG, L4_FPAGE_RX));
	ASSERT_EQ(0, h_recv(gate, &m));
	ASSERT_EQ(3 * PG | L4_PF_EXEC | L4_PF_PRESENT, m.words[0]);
	r.token = m.token;
	r.nitems = 1;
	r.items[0].src_fd = src;
	r.items[0].item.control = L4_MAP_ITEM(3 * PG, 0);
	r.items[0].item.fpage = L4_FPAGE(2 * PG, 12, L4_FPAGE_RX);
	ASSERT_EQ(0, ioctl(gate, L4_IOC_REPLY, &r));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));

	munmap(cx, 4 * PG);
	munmap(swin, 4 * PG);
	close(gate);
	close(cli);
	close(src);
}

/* ------------------------------------------------------------------ */
/* Charged to the maker's memory cgroup                                */
/* ------------------------------------------------------------------ */

enum { CH_SPACES, CH_GATES, CH_CAPS, CH_MESSAGES, CH_KINDS };

static const char *const h_kind[CH_KINDS] = {
	"spaces", "gates", "send capabilities", "unanswered messages",
};

struct h_charge {
	__s64 cg[CH_KINDS];	/* memory.current growth, bytes */
	__s64 slab[CH_KINDS];	/* /proc/meminfo Slab growth, bytes, less... */
	__s64 debug[CH_KINDS];	/* ... the debugging tools' own caches' growth */
	long n[CH_KINDS];	/* objects made */
};

#define CH_OBJECTS	4000	/* spaces, gates, capabilities */
#define CH_MESSAGES_N	10000
#define CH_CALLERS	64

static __s64 h_meminfo_slab(void)
{
	char buf[4096], *p;
	int fd = open("/proc/meminfo", O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	p = strstr(buf, "\nSlab:");
	return p ? strtoll(p + 6, NULL, 10) * 1024 : -1;
}

/*
 * Slab bytes of the debugging tools' own caches (kmemleak keeps an object
 * of its own per allocation; nobody's cgroup pays for those): 0 without
 * /proc/slabinfo or such caches.
 */
static __s64 h_debug_slab(void)
{
	unsigned long nobj, objs, size, perslab, pages, active, nslabs;
	char line[512], name[64];
	__s64 sum = 0;
	FILE *f = fopen("/proc/slabinfo", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %lu %lu %lu %lu %lu : tunables %*u %*u %*u : slabdata %lu %lu",
			   name, &nobj, &objs, &size, &perslab, &pages, &active,
			   &nslabs) != 8)
			continue;
		if (!strncmp(name, "kmemleak_", 9) || !strncmp(name, "debug_objects", 13))
			sum += (__s64)nslabs * pages * 4096;
	}
	fclose(f);
	return sum;
}

static __s64 h_cg_current(const char *cg)
{
	char path[256];
	__u64 v;

	snprintf(path, sizeof(path), "%s/memory.current", cg);
	return l4t_read_u64(path, &v) ? -1 : (__s64)v;
}

struct h_flood {
	int gate;
	volatile int stop;
};

/*
 * Calls that give up after 50 ms, long after the receiver took them (few
 * give up still queued: their freed messages would leave holes in the
 * slab pages that no cgroup pays for): received ones stay with the gate.
 */
static void *h_flood_thread(void *arg)
{
	struct h_flood *fl = arg;
	struct l4_call c;

	while (!fl->stop) {
		memset(&c, 0, sizeof(c));
		c.rcv_space_fd = -1;
		c.timeout_ns = 50000000;
		ioctl(fl->gate, L4_IOC_CALL, &c);
	}
	return NULL;
}

/* The child in the cgroup: make each kind of object, measure around it. */
static void h_charge_child(const char *cg, int dev, struct h_charge *r)
{
	static int fds[3 * CH_OBJECTS];
	struct rlimit lim = { 4 * CH_OBJECTS, 4 * CH_OBJECTS };
	pthread_t th[CH_CALLERS];
	struct h_flood fl = { 0 };
	__s64 cg0, slab0, debug0;
	struct l4_msg m;
	char path[256];
	int k, i, gate = -1;

	snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
	CHILD_CHECK(!l4t_write_str(path, "0"));
	CHILD_CHECK(!setrlimit(RLIMIT_NOFILE, &lim));
	/* the fd table grows to its size now, outside the measurements */
	CHILD_CHECK(dup2(dev, 4 * CH_OBJECTS - 1) >= 0);
	CHILD_CHECK(!close(4 * CH_OBJECTS - 1));

	for (k = 0; k < CH_KINDS; k++) {
		if (k == CH_MESSAGES) {
			fl.gate = gate;
			for (i = 0; i < CH_CALLERS; i++)
				CHILD_CHECK(!pthread_create(&th[i], NULL, h_flood_thread, &fl));
		}
		cg0 = h_cg_current(cg);
		slab0 = h_meminfo_slab();
		debug0 = h_debug_slab();
		for (i = 0; i < CH_OBJECTS && k != CH_MESSAGES; i++) {
			int *fd = &fds[k * CH_OBJECTS + i];

			if (k == CH_SPACES)
				*fd = l4t_create(dev, 16 * PG, 0, 0, NULL);
			else if (k == CH_GATES)
				*fd = l4f_gate(dev);
			else
				*fd = ioctl(fds[CH_GATES * CH_OBJECTS], L4_IOC_GATE_SEND_CAP, 0);
			CHILD_CHECK(*fd >= 0);
			r->n[k]++;
		}
		if (k == CH_GATES)
			gate = fds[CH_GATES * CH_OBJECTS + 1];
		while (k == CH_MESSAGES && r->n[k] < CH_MESSAGES_N) {
			CHILD_CHECK(!h_recv(gate, &m));
			r->n[k]++;
		}
		/*
		 * Measured before the callers end: an exiting thread's kernel
		 * stack leaves the cgroup at once, its task_struct the slab
		 * only after an RCU grace period.
		 */
		r->cg[k] = h_cg_current(cg) - cg0;
		r->debug[k] = h_debug_slab() - debug0;
		r->slab[k] = h_meminfo_slab() - slab0 - r->debug[k];
		if (k == CH_MESSAGES) {
			fl.stop = 1;
			for (i = 0; i < CH_CALLERS; i++)
				CHILD_CHECK(!pthread_join(th[i], NULL));
		}
	}
	_exit(0);
}

/*
 * Every kind of object a user makes the module allocate is charged to the
 * user's memory cgroup: memory.current grows within 20 % of what the
 * kernel's slab grows (less the debugging tools' own caches on a debug
 * kernel), for spaces, gates, send capabilities and messages received and
 * left unanswered (10000 of them, max_inflight raised).
 */
TEST_F(hostile, charged_to_cgroup)
{
	struct h_param lim = { 0 };
	struct h_charge *r;
	const char *why;
	char cg[128];
	pid_t pid;
	int k;

	why = l4t_memcg_unavailable();
	if (why)
		SKIP(return, "memory cgroup: %s", why);
	r = l4t_shared(sizeof(*r));
	ASSERT_NE(NULL, r);
	ASSERT_EQ(0, h_param_set(&lim, PARAM("max_inflight"), 2 * CH_MESSAGES_N));
	snprintf(cg, sizeof(cg), L4T_CG_ROOT "/l4-hostile-%d", getpid());
	ASSERT_EQ(0, mkdir(cg, 0755));

	pid = l4f_fork();
	ASSERT_LE(0, pid);
	if (!pid)
		h_charge_child(cg, self->dev, r);
	ASSERT_EQ(0, l4t_wait(pid));
	h_param_restore(&lim);
	ASSERT_EQ(0, rmdir(cg));

	for (k = 0; k < CH_KINDS; k++) {
		TH_LOG("%s: %ld made, cgroup +%lld B, slab +%lld B (%lld B each; kmemleak's own +%lld B left out)",
		       h_kind[k], r->n[k], (long long)r->cg[k],
		       (long long)r->slab[k], (long long)(r->slab[k] / r->n[k]),
		       (long long)r->debug[k]);
		ASSERT_LE(r->slab[k] * 8 / 10, r->cg[k]) TH_LOG("%s", h_kind[k]);
		ASSERT_GE(r->slab[k] * 12 / 10, r->cg[k]) TH_LOG("%s", h_kind[k]);
	}
}

/* ------------------------------------------------------------------ */
/* One tenant's server and another's spin                              */
/* ------------------------------------------------------------------ */

static int h_gate_info(int gate, struct l4_gate_info *gi)
{
	memset(gi, 0xa5, sizeof(*gi));
	return ioctl(gate, L4_IOC_GATE_INFO, gi);
}

/* A server answering @n calls on @gate with an empty reply. */
static pid_t h_echo_server(int gate, int n)
{
	struct l4_msg m;
	pid_t pid = l4f_fork();
	int i;

	if (pid)
		return pid;
	for (i = 0; i < n; i++) {
		CHILD_CHECK(!h_recv(gate, &m));
		CHILD_CHECK(!h_reply_error(gate, m.token, 0));
	}
	_exit(0);
}

/*
 * L4_IOC_GATE_INFO tells what waits at a gate, exactly; and the wake-up
 * estimate that sets how long a gate's senders spin is the gate's own:
 * 200 sleeping calls at gate B move B's and leave gate A's where it was.
 */
TEST_F(hostile, spin_estimate_per_gate)
{
	struct l4_call c = { .rcv_space_fd = -1 };
	struct h_param spin = { 0 };
	struct l4_gate_info a0, a1, b0, b1, gi;
	struct pollfd pfd;
	int a, b, cap, i;
	struct l4_msg m;
	pid_t pid;

	a = l4f_gate(self->dev);
	ASSERT_LE(0, a);
	b = l4f_gate(self->dev);
	ASSERT_LE(0, b);
	cap = ioctl(a, L4_IOC_GATE_SEND_CAP, 0);
	ASSERT_LE(0, cap);

	/* what waits: a call queued, then received, then answered */
	ASSERT_EQ(0, h_gate_info(cap, &gi));
	ASSERT_EQ(0ULL, gi.queued);
	ASSERT_EQ(0ULL, gi.inflight);
	ASSERT_EQ(1ULL, gi.senders);
	ASSERT_EQ(0U, gi.dead);
	ASSERT_EQ(0U, gi.pad);
	ASSERT_EQ(0ULL, gi.reserved[0] | gi.reserved[1] | gi.reserved[2]);
	ASSERT_LT(0ULL, gi.wake_ns);
	pid = l4f_fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(ioctl(cap, L4_IOC_CALL, &c) ? 1 : 0);
	pfd = (struct pollfd){ .fd = a, .events = POLLIN };
	ASSERT_EQ(1, poll(&pfd, 1, -1));
	ASSERT_EQ(0, h_gate_info(a, &gi));
	ASSERT_EQ(1ULL, gi.queued);
	ASSERT_EQ(0ULL, gi.inflight);
	ASSERT_EQ(0, h_recv(a, &m));
	ASSERT_EQ(0, h_gate_info(a, &gi));
	ASSERT_EQ(0ULL, gi.queued);
	ASSERT_EQ(1ULL, gi.inflight);
	ASSERT_EQ(0, h_reply_error(a, m.token, 0));
	ASSERT_EQ(0, l4t_wait(pid));
	ASSERT_EQ(0, h_gate_info(a, &gi));
	ASSERT_EQ(0ULL, gi.inflight);

	/* every call sleeps: each gives its gate a sample */
	ASSERT_EQ(0, h_param_set(&spin, PARAM("spin_ns"), 0));
	ASSERT_EQ(0, h_gate_info(a, &a0));
	ASSERT_EQ(0, h_gate_info(b, &b0));
	pid = h_echo_server(b, 200);
	ASSERT_LE(0, pid);
	for (i = 0; i < 200; i++) {
		memset(&c, 0, sizeof(c));
		c.rcv_space_fd = -1;
		ASSERT_EQ(0, ioctl(b, L4_IOC_CALL, &c));
	}
	ASSERT_EQ(0, l4t_wait(pid));
	h_param_restore(&spin);
	ASSERT_EQ(0, h_gate_info(a, &a1));
	ASSERT_EQ(0, h_gate_info(b, &b1));
	ASSERT_EQ(a0.wake_ns, a1.wake_ns);
	ASSERT_NE(b0.wake_ns, b1.wake_ns);
	TH_LOG("gate B's wake-up estimate %llu -> %llu ns, gate A's stays %llu",
	       b0.wake_ns, b1.wake_ns, a1.wake_ns);

	ASSERT_EQ(0, close(cap));
	ASSERT_EQ(0, close(a));
	ASSERT_EQ(0, h_gate_info(b, &gi));
	ASSERT_EQ(0U, gi.dead);
	ASSERT_EQ(0, close(b));
}

TEST_HARNESS_MAIN
