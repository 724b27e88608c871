// SPDX-License-Identifier: GPL-2.0
/*
 * Hard faults: pagers and faulters dying or stalling at the worst moment.
 *
 *  - a pager is SIGKILLed while a faulter waits for it: the faulter gets
 *    SIGBUS (a user access) or EFAULT (the kernel's access to the window:
 *    write(2) from it, MADV_POPULATE_READ) within a second of the kill;
 *  - a multi-threaded faulter is SIGKILLed while its pager holds all its
 *    messages: each late reply gets ESRCH and maps nothing, the tokens are
 *    gone afterwards (ENOENT), nothing leaks;
 *  - a pager that never answers (message queued or received; the faulter
 *    in user mode, in a kernel access, or in a call; with a handled signal
 *    sent first): the faulter stays killable and dies of SIGKILL;
 *  - a kernel access to a pager-backed window (write(2) from it) while a
 *    non-fatal signal is pending must not spin: the faulter sleeps until
 *    the page is there and then completes (or gives up with EFAULT) and the
 *    pager hears of the fault once or twice, not over and over;
 *  - a client dropping send capabilities in a loop leaves one no-senders
 *    notice on the gate, not one per drop.
 *
 * (ipc.c has the user-mode basics of both deaths; unload.c what keeps the
 * module loaded.) The only timing assertion is the one-second bound.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>

#include "l4_test_util.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ	22
#endif

L4T_FIXTURE(hardfault);

#define PG		L4T_PAGE

static __s64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__s64)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static pid_t hf_gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/* A child that dies with the test process. */
static pid_t hf_fork(void)
{
	pid_t parent = getpid(), pid = fork();

	if (!pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(99);
	}
	return pid;
}

static int hf_gate(int dev)
{
	return ioctl(dev, L4_IOC_CREATE_GATE, 0);
}

static int hf_set_pager(int space, int gate)
{
	struct l4_pager p = { .gate_fd = gate };

	return ioctl(space, L4_IOC_SET_PAGER, &p);
}

static int hf_reply_map(int gate, __u64 token, int src, __u64 addr)
{
	struct l4_reply r = { .token = token, .nitems = 1 };

	r.items[0].src_fd = src;
	r.items[0].item.control = L4_MAP_ITEM(addr, 0);
	r.items[0].item.fpage = L4_FPAGE(addr, 12, L4_FPAGE_RW);
	return ioctl(gate, L4_IOC_REPLY, &r);
}

/* ------------------------------------------------------------------ */
/* The pager dies under a waiting faulter                              */
/* ------------------------------------------------------------------ */

enum access { ACC_READ, ACC_WRITE, ACC_KERNEL_READ, ACC_POPULATE };

FIXTURE(pager_death) {
	int dev;
	struct l4_stats before;
};

FIXTURE_VARIANT(pager_death) {
	enum access access;
};

FIXTURE_VARIANT_ADD(pager_death, user_read) { .access = ACC_READ };
FIXTURE_VARIANT_ADD(pager_death, user_write) { .access = ACC_WRITE };
FIXTURE_VARIANT_ADD(pager_death, kernel_reads_window) { .access = ACC_KERNEL_READ };
FIXTURE_VARIANT_ADD(pager_death, madv_populate) { .access = ACC_POPULATE };

FIXTURE_SETUP(pager_death)
{
	l4t_setup(_metadata, &self->dev, &self->before);
}

FIXTURE_TEARDOWN_PARENT(pager_death)
{
	l4t_teardown(_metadata, &self->before);
}

struct death_result {
	int sig, code;
	void *addr;
	long ret;
	int err;
	__s64 t;		/* when the access ended */
};

/* Make the access @acc at @p; what happened goes to @res. */
static void do_access(enum access acc, char *p, struct death_result *res)
{
	struct l4t_fault f;
	__u64 v = 1;
	int pfd[2];

	switch (acc) {
	case ACC_READ:
	case ACC_WRITE:
		l4t_access((volatile __u64 *)p, acc == ACC_READ ? L4T_READ : L4T_WRITE,
			   &v, &f);
		res->sig = f.sig;
		res->code = f.code;
		res->addr = f.addr;
		break;
	case ACC_KERNEL_READ:
		CHILD_CHECK(!pipe(pfd));
		errno = 0;
		res->ret = write(pfd[1], p, 1);
		res->err = errno;
		break;
	case ACC_POPULATE:
		errno = 0;
		res->ret = madvise((void *)((uintptr_t)p & ~(PG - 1)), PG,
				   MADV_POPULATE_READ);
		res->err = errno;
		break;
	}
	res->t = now_ns();
}

TEST_F(pager_death, faulter_fails_within_a_second)
{
	struct death_result *res = l4t_shared(sizeof(*res));
	int cli, gate, ready[2], alive[2];
	struct pollfd pfd[2];
	pid_t pager, faulter;
	char *cwin, *p;
	__s64 t0;

	ASSERT_NE(NULL, res);
	/* tinyconfig kernels may come without madvise (ADVISE_SYSCALLS) */
	if (variant->access == ACC_POPULATE && madvise(res, PG, MADV_NORMAL) &&
	    errno == ENOSYS)
		SKIP(return, "no madvise(2) in this kernel");
	cli = l4t_space_window(self->dev, 4, 0, 0, &cwin);
	ASSERT_LE(0, cli);
	p = cwin + 2 * PG + 0x40;
	gate = hf_gate(self->dev);
	ASSERT_LE(0, gate);
	ASSERT_EQ(0, hf_set_pager(cli, gate));
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(alive));

	pager = hf_fork();
	ASSERT_LE(0, pager);
	if (!pager) {
		struct l4_msg m;

		close(alive[0]);	/* the faulter's end of life is not ours */
		close(alive[1]);
		CHILD_CHECK(!ioctl(gate, L4_IOC_RECV, &m));
		/* a user access tells the byte, the kernel's GUP the page */
		CHILD_CHECK((L4_PF_ADDR(m.words[0]) & ~(PG - 1)) == 2 * PG);
		CHILD_CHECK(!l4t_post(ready[1]));
		for (;;)
			pause();	/* holds the message; never answers */
	}
	ASSERT_EQ(0, close(gate));	/* the pager holds the only receive fd */
	ASSERT_EQ(0, close(ready[1]));

	faulter = hf_fork();
	ASSERT_LE(0, faulter);
	if (!faulter) {
		close(alive[0]);
		do_access(variant->access, p, res);
		_exit(0);
	}
	ASSERT_EQ(0, close(alive[1]));	/* EOF: the faulter is gone */

	/* the pager has the fault (or the faulter ended without asking) */
	pfd[0] = (struct pollfd){ .fd = ready[0], .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = alive[0], .events = POLLIN };
	ASSERT_LT(0, poll(pfd, 2, -1));
	ASSERT_TRUE(pfd[0].revents & POLLIN)
		TH_LOG("the faulter ended before its pager heard of the fault");
	ASSERT_EQ(0, l4t_pend(ready[0]));

	t0 = now_ns();
	ASSERT_EQ(0, kill(pager, SIGKILL));
	ASSERT_EQ(0, l4t_wait(faulter));
	ASSERT_EQ(128 + SIGKILL, l4t_wait(pager));

	switch (variant->access) {
	case ACC_READ:
	case ACC_WRITE:
		ASSERT_EQ(SIGBUS, res->sig);
		ASSERT_EQ(BUS_ADRERR, res->code);
		ASSERT_EQ((void *)p, res->addr);
		break;
	default:
		ASSERT_EQ(-1, res->ret);
		ASSERT_EQ(EFAULT, res->err);
		break;
	}
	ASSERT_LT(res->t - t0, 1000000000LL)
		TH_LOG("the faulter ended %lld ms after its pager's death",
		       (long long)(res->t - t0) / 1000000);
	TH_LOG("the faulter ended %lld us after its pager's death",
	       (long long)(res->t - t0) / 1000);
	ASSERT_EQ(0ULL, l4t_nodes(cli));

	ASSERT_EQ(0, munmap(cwin, 4 * PG));
	ASSERT_EQ(0, close(cli));
	ASSERT_EQ(0, close(ready[0]));
	ASSERT_EQ(0, close(alive[0]));
	ASSERT_IPC_SETTLED(self);
}

/* ------------------------------------------------------------------ */
/* The faulter dies under a working pager                              */
/* ------------------------------------------------------------------ */

#define NTHREADS	3

static char *mt_win;

static void *mt_fault(void *arg)
{
	(void)*(volatile char *)(mt_win + (uintptr_t)arg * PG);
	return NULL;
}

/*
 * Three threads of one process fault on three pages; the pager (the test)
 * receives all three messages, then the process is SIGKILLed. The replies
 * come too late: ESRCH each, nothing mapped, and then the tokens are gone.
 */
TEST_F(hardfault, faulter_killed_replies_get_esrch)
{
	struct l4_stats s0, s1;
	struct l4_msg m[NTHREADS];
	int src, cli, gate, i;
	char *swin;
	pid_t f;

	src = l4t_space_window(self->dev, 4, 0, L4_SPACE_SIGMA0, &swin);
	ASSERT_LE(0, src);
	l4t_fill(swin, 0, 4 * PG, 5);
	cli = l4t_space_window(self->dev, 4, 0, 0, &mt_win);
	ASSERT_LE(0, cli);
	gate = hf_gate(self->dev);
	ASSERT_LE(0, gate);
	ASSERT_EQ(0, hf_set_pager(cli, gate));
	ASSERT_EQ(0, l4t_stats(self->dev, &s0));

	f = hf_fork();
	ASSERT_LE(0, f);
	if (!f) {
		pthread_t th[NTHREADS];

		close(gate);
		for (i = 0; i < NTHREADS; i++)
			CHILD_CHECK(!pthread_create(&th[i], NULL, mt_fault,
						    (void *)(uintptr_t)(i + 1)));
		for (i = 0; i < NTHREADS; i++)
			pthread_join(th[i], NULL);
		_exit(0);
	}
	for (i = 0; i < NTHREADS; i++)
		ASSERT_EQ(0, ioctl(gate, L4_IOC_RECV, &m[i]));
	ASSERT_EQ(0, kill(f, SIGKILL));
	ASSERT_EQ(128 + SIGKILL, l4t_wait(f));

	for (i = 0; i < NTHREADS; i++) {
		__u64 addr = L4_PF_ADDR(m[i].words[0]) & ~(PG - 1);

		ASSERT_EQ(-1, hf_reply_map(gate, m[i].token, src, addr));
		ASSERT_EQ(ESRCH, errno);
		ASSERT_EQ(-1, hf_reply_map(gate, m[i].token, src, addr));
		ASSERT_EQ(ENOENT, errno);
	}
	ASSERT_EQ(0ULL, l4t_nodes(cli));
	ASSERT_EQ(0, l4t_stats(self->dev, &s1));
	ASSERT_EQ((__u64)NTHREADS, s1.pager_faults - s0.pager_faults);
	ASSERT_EQ((__u64)NTHREADS, s1.messages - s0.messages);
	ASSERT_EQ(0ULL, s1.replies - s0.replies);
	ASSERT_LIVE(&s0, &s1, 0, 0, 0, 0);

	ASSERT_EQ(0, close(gate));
	ASSERT_EQ(0, munmap(mt_win, 4 * PG));
	ASSERT_EQ(0, munmap(swin, 4 * PG));
	ASSERT_EQ(0, close(cli));
	ASSERT_EQ(0, close(src));
	ASSERT_IPC_SETTLED(self);
}

/* ------------------------------------------------------------------ */
/* A pager that never answers: the faulter stays killable              */
/* ------------------------------------------------------------------ */

enum stall { ST_QUEUED, ST_RECEIVED, ST_KERNEL, ST_CALL, ST_SIGNAL_FIRST };

FIXTURE(stall) {
	int dev;
	struct l4_stats before;
};

FIXTURE_VARIANT(stall) {
	enum stall how;
};

FIXTURE_VARIANT_ADD(stall, message_queued) { .how = ST_QUEUED };
FIXTURE_VARIANT_ADD(stall, message_received) { .how = ST_RECEIVED };
FIXTURE_VARIANT_ADD(stall, kernel_access) { .how = ST_KERNEL };
FIXTURE_VARIANT_ADD(stall, call_no_timeout) { .how = ST_CALL };
FIXTURE_VARIANT_ADD(stall, handled_signal_first) { .how = ST_SIGNAL_FIRST };

FIXTURE_SETUP(stall)
{
	l4t_setup(_metadata, &self->dev, &self->before);
}

FIXTURE_TEARDOWN_PARENT(stall)
{
	l4t_teardown(_metadata, &self->before);
}

static volatile sig_atomic_t usr1_seen;

static void on_usr1(int sig)
{
	(void)sig;
	usr1_seen++;
}

TEST_F(stall, faulter_dies_of_sigkill)
{
	struct l4_msg m;
	struct pollfd pfd;
	int cli, gate, cap, pfds[2];
	char *cwin;
	pid_t f;

	cli = l4t_space_window(self->dev, 4, 0, 0, &cwin);
	ASSERT_LE(0, cli);
	gate = hf_gate(self->dev);
	ASSERT_LE(0, gate);
	cap = ioctl(gate, L4_IOC_GATE_SEND_CAP, 0);
	ASSERT_LE(0, cap);
	ASSERT_EQ(0, hf_set_pager(cli, cap));
	ASSERT_EQ(0, pipe(pfds));

	f = hf_fork();
	ASSERT_LE(0, f);
	if (!f) {
		struct sigaction sa = { .sa_handler = on_usr1 };

		close(gate);
		sigaction(SIGUSR1, &sa, NULL);	/* no SA_RESTART */
		switch (variant->how) {
		case ST_KERNEL:
			(void)!write(pfds[1], cwin + PG, 1);
			break;
		case ST_CALL: {
			struct l4_call c = { .nwords = 1, .rcv_space_fd = -1 };

			for (;;)	/* a handled signal ends it with EINTR? again */
				(void)ioctl(cap, L4_IOC_CALL, &c);
		}
		default:
			(void)*(volatile char *)(cwin + PG);
			break;
		}
		_exit(0);
	}
	ASSERT_EQ(0, close(cap));

	/* the faulter's message is there: it waits */
	pfd = (struct pollfd){ .fd = gate, .events = POLLIN };
	ASSERT_EQ(1, poll(&pfd, 1, -1));
	if (variant->how != ST_QUEUED) {
		ASSERT_EQ(0, ioctl(gate, L4_IOC_RECV, &m));
		if (variant->how == ST_CALL) {
			ASSERT_EQ(0, m.label);
		} else {
			ASSERT_EQ(PG, L4_PF_ADDR(m.words[0]) & ~(PG - 1));
		}
	}
	if (variant->how == ST_SIGNAL_FIRST)
		ASSERT_EQ(0, kill(f, SIGUSR1));
	ASSERT_EQ(0, kill(f, SIGKILL));
	ASSERT_EQ(128 + SIGKILL, l4t_wait(f));

	/* nothing of it is left to answer */
	ASSERT_EQ(0, fcntl(gate, F_SETFL, O_NONBLOCK));
	if (variant->how == ST_QUEUED) {
		/* only the notice that its send capability is gone */
		ASSERT_EQ(0, ioctl(gate, L4_IOC_RECV, &m));
		ASSERT_EQ(L4_LABEL_NO_SENDERS, m.label);
		ASSERT_EQ(0ULL, m.token);
		ASSERT_EQ(-1, ioctl(gate, L4_IOC_RECV, &m));
		ASSERT_EQ(EAGAIN, errno);
	} else {
		struct l4_reply r = { .token = m.token };

		ASSERT_EQ(-1, ioctl(gate, L4_IOC_REPLY, &r));
		ASSERT_EQ(ESRCH, errno);
	}
	ASSERT_EQ(0ULL, l4t_nodes(cli));

	ASSERT_EQ(0, close(gate));
	ASSERT_EQ(0, munmap(cwin, 4 * PG));
	ASSERT_EQ(0, close(cli));
	ASSERT_EQ(0, close(pfds[0]));
	ASSERT_EQ(0, close(pfds[1]));
	ASSERT_IPC_SETTLED(self);
}

/* ------------------------------------------------------------------ */
/* A kernel access with a non-fatal signal pending                     */
/* ------------------------------------------------------------------ */

struct kacc {
	char *p;
	int pipe_w;
	pid_t tid;
	volatile int started, done;
	long ret;
	int err;
};

static void *kacc_run(void *arg)
{
	struct kacc *k = arg;

	k->tid = hf_gettid();
	__atomic_store_n(&k->started, 1, __ATOMIC_SEQ_CST);
	errno = 0;
	k->ret = write(k->pipe_w, k->p, 1);
	k->err = errno;
	__atomic_store_n(&k->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* The state letter of thread @tid of this process ('R', 'S', ...). */
static char thread_state(pid_t tid)
{
	char path[64], buf[512], *c;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	if (l4t_read_str(path, buf, sizeof(buf)))
		return '?';
	c = strrchr(buf, ')');
	return c && c[1] == ' ' ? c[2] : '?';
}

/*
 * A thread write(2)s one byte from a window page whose pager (this test)
 * has received the fault and not answered yet; then it gets SIGUSR1, which
 * it handles. The kernel cannot deliver the signal before the write ends,
 * so it must sleep until the page comes (or fail the copy with EFAULT):
 * faulting again and again, each time a new message to the pager, is a
 * livelock. We watch the pager-fault counter while waiting for the thread
 * to be asleep (20 looks in a row) or done; 50 faults for the one access
 * mean it spins. Then
 * the page is mapped in directly, and the write completes.
 */
TEST_F(hardfault, kernel_access_with_signal_pending_sleeps)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	struct kacc *k = calloc(1, sizeof(*k));
	struct l4_stats s0, st;
	struct l4_map mp = { 0 };
	struct l4_reply r = { 0 };
	struct l4_msg m;
	int src, cli, gate, pfd[2], reply_ret, reply_err;
	__u64 spins = 0, last_spins = ~0ULL;
	int asleep = 0;
	char *swin, *cwin, state = '?', c;
	pthread_t th;

	ASSERT_NE(NULL, k);
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	src = l4t_space_window(self->dev, 4, 0, L4_SPACE_SIGMA0, &swin);
	ASSERT_LE(0, src);
	l4t_fill(swin, 0, 4 * PG, 11);
	cli = l4t_space_window(self->dev, 4, 0, 0, &cwin);
	ASSERT_LE(0, cli);
	gate = hf_gate(self->dev);
	ASSERT_LE(0, gate);
	ASSERT_EQ(0, hf_set_pager(cli, gate));
	ASSERT_EQ(0, pipe(pfd));
	ASSERT_EQ(0, l4t_stats(self->dev, &s0));

	k->p = cwin + 3 * PG + 5;
	k->pipe_w = pfd[1];
	ASSERT_EQ(0, pthread_create(&th, NULL, kacc_run, k));
	ASSERT_EQ(0, ioctl(gate, L4_IOC_RECV, &m));
	ASSERT_EQ(3 * PG, L4_PF_ADDR(m.words[0]) & ~(PG - 1));
	ASSERT_EQ(0, pthread_kill(th, SIGUSR1));

	/* asleep, done, or spinning */
	for (;;) {
		if (__atomic_load_n(&k->done, __ATOMIC_SEQ_CST))
			break;
		state = thread_state(k->tid);
		ASSERT_EQ(0, l4t_stats(self->dev, &st));
		spins = st.pager_faults - s0.pager_faults;
		if (spins > 50)
			break;
		/* asleep at 20 looks in a row, and no new fault meanwhile */
		if ((state == 'S' || state == 'D') && spins == last_spins)
			asleep++;
		else
			asleep = 0;
		last_spins = spins;
		if (asleep >= 20)
			break;
		sched_yield();
	}
	/* let it finish either way: the page goes straight into C */
	mp.src_fd = src;
	mp.item.control = L4_MAP_ITEM(3 * PG, 0);
	mp.item.fpage = L4_FPAGE(3 * PG, 12, L4_FPAGE_RW);
	mp.rcv_fpage = L4_FPAGE_WHOLE_SPACE;
	ASSERT_EQ(0, ioctl(cli, L4_IOC_MAP, &mp));
	r.token = m.token;			/* retry: the page is there now */
	reply_ret = ioctl(gate, L4_IOC_REPLY, &r);
	reply_err = errno;
	ASSERT_EQ(0, pthread_join(th, NULL));

	EXPECT_GE(2ULL, spins) TH_LOG("%llu page faults sent for one kernel access (thread state %c): it spins",
				      spins, state);
	/* it wrote the byte, or gave the copy up */
	if (k->ret == 1) {
		ASSERT_EQ(1, (int)read(pfd[0], &c, 1));
		ASSERT_EQ((char)(l4t_word(11, 3 * PG) >> 40), c);
	} else {
		ASSERT_EQ(-1, k->ret);
		ASSERT_EQ(EFAULT, k->err);
	}
	/* the first message was answered, or its sender had left it */
	if (reply_ret)
		ASSERT_EQ(ESRCH, reply_err);
	EXPECT_EQ(1, usr1_seen);

	ASSERT_EQ(0, fcntl(gate, F_SETFL, O_NONBLOCK));
	while (!ioctl(gate, L4_IOC_RECV, &m)) {	/* any retries left over */
		struct l4_reply rr = { .token = m.token };

		ioctl(gate, L4_IOC_REPLY, &rr);
	}
	ASSERT_EQ(0, close(gate));
	ASSERT_EQ(0, munmap(cwin, 4 * PG));
	ASSERT_EQ(0, munmap(swin, 4 * PG));
	ASSERT_EQ(0, close(cli));
	ASSERT_EQ(0, close(src));
	ASSERT_EQ(0, close(pfd[0]));
	ASSERT_EQ(0, close(pfd[1]));
	free(k);
	ASSERT_IPC_SETTLED(self);
}

/* ------------------------------------------------------------------ */
/* No-senders notices do not pile up                                   */
/* ------------------------------------------------------------------ */

#define NCAPS	1000

/*
 * A client makes and drops a send capability over and over while the
 * server does not read its gate: each drop of the last capability is a
 * no-senders event, but the gate holds at most one notice at a time (they
 * say the same thing), so a hostile client cannot make the kernel queue
 * messages without bound.
 */
TEST_F(hardfault, no_senders_notices_bounded)
{
	struct l4_msg m;
	int gate, cap, i, n = 0;

	gate = hf_gate(self->dev);
	ASSERT_LE(0, gate);
	for (i = 0; i < NCAPS; i++) {
		cap = ioctl(gate, L4_IOC_GATE_SEND_CAP, 0);
		ASSERT_LE(0, cap);
		ASSERT_EQ(0, close(cap));
	}
	ASSERT_EQ(0, fcntl(gate, F_SETFL, O_NONBLOCK));
	while (!ioctl(gate, L4_IOC_RECV, &m)) {
		ASSERT_EQ(L4_LABEL_NO_SENDERS, m.label);
		ASSERT_EQ(0ULL, m.token);
		if (++n > NCAPS)
			break;
	}
	ASSERT_EQ(EAGAIN, errno);
	EXPECT_EQ(1, n) TH_LOG("%d no-senders notices queued for %d drops", n, NCAPS);
	ASSERT_EQ(0, close(gate));
	ASSERT_IPC_SETTLED(self);
}

TEST_HARNESS_MAIN
