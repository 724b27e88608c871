/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the l4u selftests.
 *
 * Every test binary is one .c file that includes this header once. The
 * helpers return what the system call returns (-1 and errno on error) and
 * the tests ASSERT on that, so a failure names the line of the test.
 *
 * Code running in a child the test forks itself uses CHILD_CHECK(), never
 * ASSERT_*() or EXPECT_*(): those belong to the test process.
 *
 * Each binary declares its fixture with L4T_FIXTURE(name). Its setup opens
 * /dev/l4 and snapshots the module's counters; its teardown runs in the
 * parent after the test process is gone (all its fds and windows with it)
 * and checks that the live counters are back where they were: every test
 * is also a leak test.
 */
#ifndef L4_TEST_UTIL_H
#define L4_TEST_UTIL_H

/*
 * The harness is not -Wextra clean: an unused handler parameter, and its
 * TEST_F() wrapper keeps a local across setjmp() (-Wclobbered, reported
 * where the macro expands, so that one stays off for the whole file).
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop
#pragma GCC diagnostic ignored "-Wclobbered"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/l4.h>
#include <linux/magic.h>
#include <l4u/dataspace.h>
#include <l4u/rm.h>
#include <l4u/task.h>

/* The guests are slow (TCG, KASAN): more headroom than the default 30 s. */
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT	90

#define L4T_PAGE		4096UL
#define L4T_PARAM_MAX_FRAMES	"/sys/module/l4/parameters/max_frames"

/* ------------------------------------------------------------------ */
/* /dev/l4 and spaces                                                  */
/* ------------------------------------------------------------------ */

static inline int l4t_open(void)
{
	return open(L4_DEVICE_PATH, O_RDWR | O_CLOEXEC);
}

/* Create a space; returns its fd (and its id in *id) or -1 and errno. */
static inline int l4t_create(int dev, __u64 size, __u64 max_frames,
			     __u32 flags, __u64 *id)
{
	struct l4_space_create req = {
		.size		= size,
		.max_frames	= max_frames,
		.flags		= flags,
	};
	int fd;

	fd = ioctl(dev, L4_IOC_CREATE_SPACE, &req);
	if (fd >= 0 && id)
		*id = req.id;
	return fd;
}

/* The out structs are filled with garbage first: the module must zero. */
static inline int l4t_info(int space, struct l4_space_info *info)
{
	memset(info, 0xa5, sizeof(*info));
	return ioctl(space, L4_IOC_SPACE_INFO, info);
}

static inline int l4t_stats(int dev, struct l4_stats *st)
{
	memset(st, 0xa5, sizeof(*st));
	return ioctl(dev, L4_IOC_STATS, st);
}

/* SPACE_INFO's frames (checked equal to nodes: sigma0 spaces) and windows */
static inline __u64 l4t_frames(struct __test_metadata *_metadata, int space)
{
	struct l4_space_info info;

	EXPECT_EQ(0, l4t_info(space, &info));
	EXPECT_EQ(info.frames, info.nodes);
	return info.frames;
}

static inline __u64 l4t_windows(struct __test_metadata *_metadata, int space)
{
	struct l4_space_info info;

	EXPECT_EQ(0, l4t_info(space, &info));
	return info.windows;
}

/* A window: @len bytes of the space from space address @addr. */
static inline char *l4t_map(int space, __u64 addr, size_t len)
{
	return mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, space,
		    (off_t)addr);
}

/* A space of @pages pages, its id (if @id), and one window onto all of it. */
static inline int l4t_space_window_id(int dev, size_t pages, __u64 max_frames,
				      __u32 flags, __u64 *id, char **win)
{
	int fd = l4t_create(dev, pages * L4T_PAGE, max_frames, flags, id);

	if (fd < 0)
		return -1;
	*win = l4t_map(fd, 0, pages * L4T_PAGE);
	if (*win == MAP_FAILED) {
		close(fd);
		return -1;
	}
	return fd;
}

static inline int l4t_space_window(int dev, size_t pages, __u64 max_frames,
				   __u32 flags, char **win)
{
	return l4t_space_window_id(dev, pages, max_frames, flags, NULL, win);
}

/* The lowest free fd number: it must not move across failing calls. */
static inline int l4t_lowest_free_fd(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (fd >= 0)
		close(fd);
	return fd;
}

/* ------------------------------------------------------------------ */
/* Counters                                                            */
/* ------------------------------------------------------------------ */

static inline bool l4t_live_equal(const struct l4_stats *a,
				  const struct l4_stats *b)
{
	return a->spaces == b->spaces && a->frames == b->frames &&
	       a->nodes == b->nodes && a->windows == b->windows;
}

/* The entries present in @space, or ~0 if its info cannot be read. */
static inline __u64 l4t_nodes(int space)
{
	struct l4_space_info info;

	if (l4t_info(space, &info))
		return ~0ULL;
	return info.nodes;
}

/*
 * At the end of a test, with everything closed and every child reaped:
 * gates, threads and the live counters are back at @base (waits up to a
 * second; the fixture checks the rest).
 */
static inline int l4t_ipc_settled(int dev, const struct l4_stats *base)
{
	struct l4_stats st;
	int i;

	for (i = 0; i < 100; i++) {
		if (l4t_stats(dev, &st))
			return -1;
		if (st.gates == base->gates && st.threads == base->threads &&
		    l4t_live_equal(&st, base))
			return 0;
		usleep(10000);
	}
	return -1;
}

#define ASSERT_IPC_SETTLED(self) \
	ASSERT_EQ(0, l4t_ipc_settled((self)->dev, &(self)->before))

/*
 * Read the stats until their live counters equal @want, for at most a
 * second (a module may free through RCU or a workqueue). Returns 0 when
 * they matched; @st holds the last reading either way.
 */
static inline int l4t_stats_settle(int dev, const struct l4_stats *want,
				   struct l4_stats *st)
{
	int i;

	for (i = 0; i < 100; i++) {
		if (l4t_stats(dev, st))
			return -1;
		if (l4t_live_equal(st, want))
			return 0;
		usleep(10000);
	}
	return -1;
}

/* After a wait for them to settle, the live counters are those of @base. */
#define ASSERT_SETTLED(dev, base, st) do {				\
	l4t_stats_settle((dev), (base), (st));				\
	ASSERT_LIVE((base), (st), 0, 0, 0, 0);				\
} while (0)

/* Live counters of @st must be those of @base plus the given deltas. */
#define ASSERT_LIVE(base, st, d_spaces, d_frames, d_nodes, d_windows) do { \
	ASSERT_EQ((base)->spaces + (d_spaces), (st)->spaces);		\
	ASSERT_EQ((base)->frames + (d_frames), (st)->frames);		\
	ASSERT_EQ((base)->nodes + (d_nodes), (st)->nodes);		\
	ASSERT_EQ((base)->windows + (d_windows), (st)->windows);	\
} while (0)

/* ------------------------------------------------------------------ */
/* sysfs and cgroup files                                              */
/* ------------------------------------------------------------------ */

static inline int l4t_read_str(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

static inline int l4t_write_str(const char *path, const char *s)
{
	ssize_t n, len = strlen(s);
	int fd;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = write(fd, s, len);
	close(fd);
	return n == len ? 0 : -1;
}

static inline int l4t_read_u64(const char *path, __u64 *val)
{
	char buf[64], *end;

	if (l4t_read_str(path, buf, sizeof(buf)))
		return -1;
	errno = 0;
	*val = strtoull(buf, &end, 10);
	if (errno || end == buf)
		return -1;
	return 0;
}

static inline int l4t_write_u64(const char *path, __u64 val)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)val);
	return l4t_write_str(path, buf);
}

#define L4T_CG_ROOT	"/sys/fs/cgroup"

/*
 * Make the memory controller available below L4T_CG_ROOT (mounting cgroup2
 * there if need be); NULL, or why it is not.
 */
static inline const char *l4t_memcg_unavailable(void)
{
	char buf[256];
	struct statfs sfs;

	if (statfs(L4T_CG_ROOT, &sfs))
		return "no " L4T_CG_ROOT;
	if (sfs.f_type != CGROUP2_SUPER_MAGIC &&
	    mount("cgroup2", L4T_CG_ROOT, "cgroup2", 0, NULL))
		return "cannot mount cgroup2 at " L4T_CG_ROOT;
	if (l4t_read_str(L4T_CG_ROOT "/cgroup.controllers", buf, sizeof(buf)))
		return "no cgroup.controllers";
	if (!strstr(buf, "memory"))
		return "no memory controller";
	if (l4t_write_str(L4T_CG_ROOT "/cgroup.subtree_control", "+memory"))
		return "cannot enable the memory controller";
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Page contents                                                       */
/* ------------------------------------------------------------------ */

/*
 * The 8-byte word at space address @addr in pattern @seed: depends on the
 * space address, not on the window, so that any window can check it.
 */
static inline __u64 l4t_word(__u64 seed, __u64 addr)
{
	__u64 x = (seed << 48) ^ addr ^ 0x9e3779b97f4a7c15ULL;

	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 29;
	return x | 1;	/* never zero: zero is what sigma0 hands out */
}

/* Fill @len bytes at @p, which shows space address @addr. */
static inline void l4t_fill(void *p, __u64 addr, size_t len, __u64 seed)
{
	volatile __u64 *w = p;
	size_t i;

	for (i = 0; i < len / 8; i++)
		w[i] = l4t_word(seed, addr + i * 8);
}

/* Returns the offset of the first wrong word, or -1 if all match. */
static inline long l4t_check(const void *p, __u64 addr, size_t len, __u64 seed)
{
	const volatile __u64 *w = p;
	size_t i;

	for (i = 0; i < len / 8; i++)
		if (w[i] != l4t_word(seed, addr + i * 8))
			return i * 8;
	return -1;
}

/* Returns the offset of the first nonzero word, or -1 if all are zero. */
static inline long l4t_check_zero(const void *p, size_t len)
{
	const volatile __u64 *w = p;
	size_t i;

	for (i = 0; i < len / 8; i++)
		if (w[i])
			return i * 8;
	return -1;
}

/* ------------------------------------------------------------------ */
/* Touching pages and catching the signal                              */
/* ------------------------------------------------------------------ */

struct l4t_fault {
	int sig;	/* 0: no signal */
	int code;	/* si_code */
	void *addr;	/* si_addr */
};

enum { L4T_READ, L4T_WRITE };
#define L4T_TOUCH_BYTE	0x5a

/*
 * Catching SIGBUS / SIGSEGV around an access, in any thread: the state is
 * per thread, the handlers are installed for the whole process (a test is a
 * forked child) and stay. A fault nobody armed for kills the process as if
 * there were no handler.
 */
static __thread sigjmp_buf l4t_jmp;
static __thread volatile sig_atomic_t l4t_armed;
static __thread struct l4t_fault l4t_caught;

static void l4t_on_fault(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (!l4t_armed) {
		signal(sig, SIG_DFL);
		return;
	}
	l4t_armed = 0;
	l4t_caught.sig = sig;
	l4t_caught.code = si->si_code;
	l4t_caught.addr = si->si_addr;
	siglongjmp(l4t_jmp, 1);
}

static inline void l4t_catch_faults(void)
{
	struct sigaction sa = {
		.sa_sigaction	= l4t_on_fault,
		.sa_flags	= SA_SIGINFO | SA_ONSTACK,	/* if one is set */
	};

	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
}

/*
 * Run @stmt with SIGBUS and SIGSEGV caught; *(@f) tells the signal
 * (sig 0: none). Variables @stmt changes and the caller reads afterwards
 * must be volatile.
 */
#define L4T_CATCH(f, stmt) do {						\
	l4t_catch_faults();						\
	memset(&l4t_caught, 0, sizeof(l4t_caught));			\
	if (!sigsetjmp(l4t_jmp, 1)) {					\
		l4t_armed = 1;						\
		stmt;							\
		l4t_armed = 0;						\
	}								\
	*(f) = l4t_caught;						\
} while (0)

/*
 * Touch one byte in each of @n pages starting at @p (a read, or a write of
 * L4T_TOUCH_BYTE), catching SIGBUS and SIGSEGV. Returns the number of pages
 * touched before the first signal (@n if none); *f tells the signal.
 */
static inline size_t l4t_touch(void *p, size_t n, int mode, struct l4t_fault *f)
{
	struct l4t_fault caught;
	volatile size_t i = 0;

	L4T_CATCH(&caught, for (; i < n; i++) {
		volatile char *c = (char *)p + i * L4T_PAGE;

		if (mode == L4T_WRITE)
			*c = L4T_TOUCH_BYTE;
		else
			(void)*c;
	});
	if (f)
		*f = caught;
	return i;
}

/* Read *@val from, or write it to, the word at @p; returns the signal. */
static inline int l4t_access(volatile __u64 *p, int mode, __u64 *val,
			     struct l4t_fault *f)
{
	struct l4t_fault caught;

	L4T_CATCH(&caught, if (mode == L4T_WRITE) *p = *val; else *val = *p);
	if (f)
		*f = caught;
	return caught.sig;
}

/* A touch of @p must raise SIGBUS (BUS_ADRERR) with si_addr exactly @p. */
#define ASSERT_SIGBUS(p, mode) do {					\
	struct l4t_fault f_;						\
									\
	ASSERT_EQ((size_t)0, l4t_touch((p), 1, (mode), &f_));		\
	ASSERT_EQ(SIGBUS, f_.sig);					\
	ASSERT_EQ(BUS_ADRERR, f_.code);					\
	ASSERT_EQ((void *)(p), f_.addr);				\
} while (0)

/* @n pages from @p must all be touchable. */
#define ASSERT_TOUCH(p, n, mode) do {					\
	struct l4t_fault f_;						\
									\
	ASSERT_EQ((size_t)(n), l4t_touch((p), (n), (mode), &f_));	\
	ASSERT_EQ(0, f_.sig);						\
} while (0)

/* ------------------------------------------------------------------ */
/* Children                                                            */
/* ------------------------------------------------------------------ */

#define CHILD_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "# child %d: %s:%d: %s (errno %d)\n",	\
			getpid(), __FILE__, __LINE__, #cond, errno);	\
		_exit(1);						\
	}								\
} while (0)

/* A 64 MiB task served by a region manager of its own (libl4u). */
struct l4t_rmtask {
	struct l4u_task *task;
	struct l4u_rm *rm;
};

static inline int l4t_rmtask_start(int dev, struct l4t_rmtask *t)
{
	struct l4u_task_attr attr = { .size = 64ULL << 20 };
	int ret = l4u_task_create(dev, &attr, &t->task);

	if (!ret)
		ret = l4u_rm_create(dev, t->task, &t->rm);
	return ret;
}

static inline void l4t_rmtask_stop(struct l4t_rmtask *t)
{
	l4u_rm_destroy(t->rm);
	l4u_task_destroy(t->task);
}

/*
 * Wait (up to 5 s) until the dataspace manager @pid just started listens
 * on @sock: 0, or -1 if it died or never got there.
 */
static inline int l4t_dsm_ready(pid_t pid, const char *sock)
{
	int i;

	for (i = 0; i < 500; i++) {
		if (!l4u_dsm_ping(sock))
			return 0;
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return -1;
		usleep(10000);
	}
	return -1;
}

/* CHILD_CHECK() of a libl4u call: errno shows what it returned */
#define CHILD_OK(call) do {						\
	int r_ = (call);						\
									\
	errno = r_ < 0 ? -r_ : 0;					\
	CHILD_CHECK(r_ == 0);						\
} while (0)

/* The child's exit code, or 128 + the signal that killed it. */
static inline int l4t_wait(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/*
 * Wait (up to 10 s) until thread @tid of this process is gone from the
 * kernel: pthread_join() returns when the thread cleared its tid, a little
 * before the kernel lets go of it, and Linux gives no event for the rest.
 */
static inline int l4t_thread_gone(pid_t tid)
{
	char path[64];
	int i;

	snprintf(path, sizeof(path), "/proc/self/task/%d", tid);
	for (i = 0; i < 10000; i++) {
		if (access(path, F_OK))
			return 0;
		usleep(1000);
	}
	return -1;
}

/* One byte through a pipe or socket: lock-step between processes. */
static inline int l4t_post(int fd)
{
	char c = 0;

	return write(fd, &c, 1) == 1 ? 0 : -1;
}

static inline int l4t_pend(int fd)
{
	char c;

	return read(fd, &c, 1) == 1 ? 0 : -1;
}

/* Pass @fd and one word over a unix socket (SCM_RIGHTS). */
static inline int l4t_send_fd(int sock, int fd, __u64 word)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = &word, .iov_len = sizeof(word) };
	struct msghdr msg = {
		.msg_iov	= &iov,
		.msg_iovlen	= 1,
		.msg_control	= cbuf,
		.msg_controllen	= sizeof(cbuf),
	};
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);

	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == sizeof(word) ? 0 : -1;
}

/* Returns the received fd (O_CLOEXEC) or -1. */
static inline int l4t_recv_fd(int sock, __u64 *word)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = word, .iov_len = sizeof(*word) };
	struct msghdr msg = {
		.msg_iov	= &iov,
		.msg_iovlen	= 1,
		.msg_control	= cbuf,
		.msg_controllen	= sizeof(cbuf),
	};
	struct cmsghdr *cmsg;
	int fd;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != sizeof(*word))
		return -1;
	cmsg = CMSG_FIRSTHDR(&msg);
	if (!cmsg || cmsg->cmsg_level != SOL_SOCKET ||
	    cmsg->cmsg_type != SCM_RIGHTS ||
	    cmsg->cmsg_len != CMSG_LEN(sizeof(int)))
		return -1;
	memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
	return fd;
}

/* Anonymous memory shared with forked children, for their results. */
static inline void *l4t_shared(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* ------------------------------------------------------------------ */
/* The fixture                                                         */
/* ------------------------------------------------------------------ */

static inline void l4t_setup(struct __test_metadata *_metadata, int *dev,
			     struct l4_stats *before)
{
	*dev = l4t_open();
	if (*dev < 0 && access("/sys/module/l4", F_OK))
		SKIP(return, "module l4 not loaded");
	ASSERT_LE(0, *dev) TH_LOG("open %s: %s", L4_DEVICE_PATH,
				  strerror(errno));
	ASSERT_EQ(0, l4t_stats(*dev, before));
	/*
	 * make check FAULT_INJECT=1 (scripts/vm/init): from here on this test
	 * and its children are the tasks whose allocations may fail; the
	 * harness around it and the teardown's checks are not.
	 */
	if (getenv("L4U_FAULT_INJECT") && !strcmp(getenv("L4U_FAULT_INJECT"), "1"))
		l4t_write_str("/proc/self/make-it-fail", "1");
}

/*
 * In the parent, after the test process exited: nothing may be left over,
 * and the global frame limit must be what it was (a test that changed it
 * and failed to restore it is put right here, and fails).
 */
static inline void l4t_teardown(struct __test_metadata *_metadata,
				const struct l4_stats *before)
{
	struct l4_stats st;
	__u64 max;
	int dev;

	/* no ASSERT here: this runs in the parent, outside the test's jump */
	dev = l4t_open();
	EXPECT_LE(0, dev)
		return;
	if (l4t_stats_settle(dev, before, &st))
		TH_LOG("leaked: spaces %llu->%llu frames %llu->%llu nodes %llu->%llu windows %llu->%llu",
		       before->spaces, st.spaces, before->frames, st.frames,
		       before->nodes, st.nodes, before->windows, st.windows);
	EXPECT_TRUE(l4t_live_equal(before, &st));
	EXPECT_EQ(st.frames_allocated - before->frames_allocated,
		  st.frames_freed - before->frames_freed);
	if (!l4t_read_u64(L4T_PARAM_MAX_FRAMES, &max) &&
	    max != before->max_frames) {
		TH_LOG("max_frames left at %llu, restoring %llu", max,
		       before->max_frames);
		l4t_write_u64(L4T_PARAM_MAX_FRAMES, before->max_frames);
		EXPECT_EQ(before->max_frames, max);
	}
	close(dev);
}

#define L4T_FIXTURE(fixture)						\
	FIXTURE(fixture) {						\
		int dev;			/* /dev/l4 */		\
		struct l4_stats before;		/* at setup */		\
	};								\
	FIXTURE_SETUP(fixture)						\
	{								\
		l4t_setup(_metadata, &self->dev, &self->before);	\
	}								\
	FIXTURE_TEARDOWN_PARENT(fixture)				\
	{								\
		l4t_teardown(_metadata, &self->before);			\
	}

#endif /* L4_TEST_UTIL_H */
