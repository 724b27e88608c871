// SPDX-License-Identifier: MIT
/*
 * fault_ipc benchmark: page faults resolved by a user pager over l4 IPC,
 * against userfaultfd, in one process (pagers are pthreads).
 *
 *  1. 4 KiB fault round trip (touch -> pager -> map -> resume):
 *       l4       pager thread in L4_IOC_REPLY_WAIT (one syscall per fault)
 *                maps 4 KiB from its pre-touched sigma0 space into the
 *                client's non-sigma0 space; once as l4.ko is (the
 *                faulter spins for its answer before it sleeps) and once
 *                with spin_ns=0 (it sleeps at once, like uffd's)
 *       COPY     uffd pager (poll + read + UFFDIO_COPY of 4 KiB) on
 *                anonymous private memory
 *       CONTINUE uffd pager (poll + read + UFFDIO_CONTINUE of 4 KiB) on a
 *                memfd mapping registered MINOR, pages already in the page
 *                cache (zero copy)
 *  2. sequential first touch of 64 MiB: l4 with 2 MiB flexpages (one
 *     message per 2 MiB, the other 511 pages are kernel-resolved faults),
 *     uffd COPY/CONTINUE per 4 KiB and per 2 MiB, against plain shmem
 *     first-touch faults (the floor).
 *  3. refault resolved by the kernel alone: the space holds the pages, the
 *     window's PTEs are zapped (MADV_DONTNEED), touch again; against a
 *     shmem minor fault (memfd page in the page cache, PTE zapped).
 *
 * Every touch is a store of 8 bytes at offset 8 of the page (a write
 * fault: no fault-around on either side); afterwards the first 16 bytes of
 * every page are checked (offset 0: the source's marker, offset 8: the
 * store). Each measurement runs 3 times: "best" is the minimum, "med" the
 * median; the ratios use the best. Goals are informational: the exit
 * status is non-zero only for a functional failure.
 *
 * Under TCG a fault that needs a wakeup of another thread costs
 * milliseconds, so every single run stops touching after a time budget
 * (default 1.5 s; the "pages" column tells how many pages the shortest
 * run touched), which keeps the whole program inside the guest's limit.
 * Section 0 measures the bare thread wakeup round trip (eventfd, and an
 * empty l4 call) to tell how much of a fault is scheduling.
 *
 * The "cpu" column is the process's CPU time (faulter and pager threads
 * together) per page: what spinning costs.
 *
 * Usage: fault_ipc [pages-for-1 [MiB-for-2-and-3 [seconds-per-run]]]
 *        (default 2000 64 1.5)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <l4u/l4u.h>

#define PAGE		4096UL
#define HUGE		(2UL << 20)
#define MIB		(1UL << 20)
#define REPS		3
#define WATCHDOG_S	60	/* per single run of a measurement */

static int dev;
static const char *volatile current_what = "setup";
static uint64_t stamp_seed;
static double run_budget_ns = 1.5e9;	/* one run of one row stops after this */

/* ------------------------------------------------------------------ */
/* helpers                                                             */
/* ------------------------------------------------------------------ */

static void die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "fault_ipc: FAIL [%s]: ", current_what);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* a libl4u call: 0/fd or -errno */
static int check(int ret, const char *what)
{
	if (ret < 0)
		die("%s: %s", what, strerror(-ret));
	return ret;
}

/* a raw syscall: -1 and errno */
static long sys(long ret, const char *what)
{
	if (ret < 0)
		die("%s: %s", what, strerror(errno));
	return ret;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void on_alarm(int sig)
{
	char buf[512];
	struct l4_stats st;
	int n;

	(void)sig;
	memset(&st, 0, sizeof(st));
	ioctl(dev, L4_IOC_STATS, &st);
	n = snprintf(buf, sizeof(buf),
		     "fault_ipc: FAIL [%s]: no progress for %d s (hang?); l4 stats: "
		     "messages %llu replies %llu pager_faults %llu kernel_faults %llu "
		     "nodes %llu\n", current_what, WATCHDOG_S,
		     (unsigned long long)st.messages, (unsigned long long)st.replies,
		     (unsigned long long)st.pager_faults,
		     (unsigned long long)st.kernel_faults, (unsigned long long)st.nodes);
	if (write(2, buf, n) < 0)
		_exit(3);
	_exit(2);
}

/*
 * 2 MiB-aligned mappings (a 2 MiB uffd chunk must lie inside the range):
 * reserve len + 2 MiB, place the mapping at the aligned start, trim.
 */
static void *map_aligned(int fd, int flags, size_t len)
{
	char *res, *p;
	uintptr_t start;

	res = mmap(NULL, len + HUGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (res == MAP_FAILED)
		die("mmap reserve %zu: %s", len + HUGE, strerror(errno));
	start = ((uintptr_t)res + HUGE - 1) & ~(HUGE - 1);
	p = mmap((void *)start, len, PROT_READ | PROT_WRITE, flags | MAP_FIXED, fd, 0);
	if (p == MAP_FAILED)
		die("mmap fixed %zu (fd %d): %s", len, fd, strerror(errno));
	if (start > (uintptr_t)res)
		sys(munmap(res, start - (uintptr_t)res), "munmap head");
	if ((uintptr_t)res + len + HUGE > start + len)
		sys(munmap((void *)(start + len), (uintptr_t)res + len + HUGE - (start + len)),
		    "munmap tail");
	return p;
}

static void *map_anon(size_t len)
{
	return map_aligned(-1, MAP_PRIVATE | MAP_ANONYMOUS, len);
}

static void *map_shared(int fd, size_t len)
{
	return map_aligned(fd, MAP_SHARED, len);
}

static uint64_t marker(unsigned int tag, size_t i)
{
	return 0x4c34000000000000ULL | (uint64_t)tag << 32 | i;
}

static void fill_markers(char *base, size_t npages, unsigned int tag)
{
	for (size_t i = 0; i < npages; i++)
		*(volatile uint64_t *)(base + i * PAGE) = marker(tag, i);
}

/*
 * The timed part: one 8-byte store at offset 8 of every page, in order,
 * until @npages pages are done or the run's time budget is spent (checked
 * every 32 pages). *done: pages touched.
 */
/* touch() reads the marker word instead of writing (read faults) */
static int touch_reads;
/* CPU time of the whole process (faulter and pager threads) in touch() */
static double touch_cpu_ns;
static size_t touch_cpu_pages;

static double cpu_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static double touch(char *base, size_t npages, uint64_t *seed, size_t *done)
{
	uint64_t s = ++stamp_seed << 32, sink = 0;
	double t0, t, c0 = cpu_now_ns();
	size_t i;

	*seed = s;
	t0 = now_ns();
	for (i = 0; i < npages; i++) {
		if (touch_reads)
			sink += *(volatile uint64_t *)(base + i * PAGE);
		else
			*(volatile uint64_t *)(base + i * PAGE + 8) = s | i;
		if ((i & 31) == 31 && now_ns() - t0 > run_budget_ns) {
			i++;
			break;
		}
	}
	t = now_ns() - t0;
	touch_cpu_ns += cpu_now_ns() - c0;
	touch_cpu_pages += i;
	*done = i;
	(void)sink;
	return t;
}

/* tag 0: the page must be zero-filled; else marker(tag, i) at offset 0 */
static void verify(const char *what, char *base, size_t npages, unsigned int tag,
		   uint64_t seed)
{
	for (size_t i = 0; i < npages; i++) {
		volatile uint64_t *p = (volatile uint64_t *)(base + i * PAGE);
		uint64_t want0 = tag ? marker(tag, i) : 0, want1 = seed | i;

		if (p[0] != want0 || (!touch_reads && p[1] != want1))
			die("%s: page %zu (%p) holds %#llx %#llx, expected %#llx %#llx",
			    what, i, (void *)p, (unsigned long long)p[0],
			    (unsigned long long)p[1], (unsigned long long)want0,
			    (unsigned long long)want1);
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct result {
	double best, med;	/* ns per page touched */
	size_t pages;		/* pages touched in the shortest run */
	unsigned long msgs;	/* pager messages in that run */
	unsigned long kfaults;	/* l4: faults the kernel resolved in one run */
	double cpu;		/* process CPU ns per page in touch(), all runs; <0: n/a */
	int valid;
};

/* runs[]: ns per page of each run; pages: the fewest pages of a run */
static struct result summarize(double *runs, size_t pages, unsigned long msgs,
			       unsigned long kfaults)
{
	struct result r;

	qsort(runs, REPS, sizeof(runs[0]), cmp_double);
	r.best = runs[0];
	r.med = runs[REPS / 2];
	r.pages = pages;
	r.msgs = msgs;
	r.kfaults = kfaults;
	r.cpu = touch_cpu_pages ? touch_cpu_ns / touch_cpu_pages : -1;
	touch_cpu_ns = 0;
	touch_cpu_pages = 0;
	r.valid = 1;
	return r;
}

static void print_row(const char *name, const struct result *r, const struct result *base)
{
	if (!r->valid) {
		printf("  %-44s    skipped\n", name);
		return;
	}
	printf("  %-44s %9.0f %9.0f %7zu %6lu", name, r->best, r->med, r->pages, r->msgs);
	if (r->kfaults != (unsigned long)-1)
		printf(" %8lu", r->kfaults);
	else
		printf(" %8s", "-");
	if (r->cpu >= 0)
		printf(" %9.0f", r->cpu);
	else
		printf(" %9s", "-");
	if (base && base->valid)
		printf("   x%.2f", r->best / base->best);
	putchar('\n');
}

static void print_header(const char *ratio)
{
	printf("  %-44s %9s %9s %7s %6s %8s %9s   %s\n", "", "best", "med", "pages", "msgs",
	       "kfaults", "cpu", ratio ? ratio : "");
	printf("  %-44s %9s %9s %7s %6s %8s %9s\n", "", "ns/page", "ns/page", "/run", "/run",
	       "/run", "ns/page");
}

static void print_goal(const char *name, const struct result *a, const struct result *b,
		       double goal)
{
	double ratio;

	if (!a->valid || !b->valid) {
		printf("  ratio %-28s   n/a    (skipped)\n", name);
		return;
	}
	ratio = a->best / b->best;
	if (goal <= 0) {	/* no goal: for information */
		printf("  ratio %-28s %6.2fx  (no goal)               [median: %.2fx]\n", name, ratio,
		       a->med / b->med);
		return;
	}
	printf("  ratio %-28s %6.2fx  (goal <= %.2fx)  %s   [median: %.2fx]\n", name, ratio,
	       goal, ratio <= goal ? "PASS" : "MISS", a->med / b->med);
}

static struct l4_stats l4_stats_now(void)
{
	struct l4_stats st;

	check(l4u_stats(dev, &st), "L4_IOC_STATS");
	return st;
}

/* ------------------------------------------------------------------ */
/* the l4 pager                                                        */
/* ------------------------------------------------------------------ */

#define QUIT_LABEL	0x71756974LL
#define PING_LABEL	0x70696e67LL

struct l4_pager_ctx {
	int gate;
	int src;			/* source space fd */
	uint64_t src_size;
	volatile unsigned int order;	/* flexpage order of the replies */
	volatile unsigned long msgs;
	pthread_t thread;
};

static void *l4_pager_main(void *arg)
{
	struct l4_pager_ctx *c = arg;
	struct l4_reply_wait rw;

	memset(&rw, 0, sizeof(rw));
	for (;;) {
		struct l4_msg *m = &rw.msg;
		uint64_t pfa, base, token;
		unsigned int order;

		if (ioctl(c->gate, L4_IOC_REPLY_WAIT, &rw)) {
			if (errno == EINTR)
				continue;
			die("l4 pager: L4_IOC_REPLY_WAIT (reply token %llu, item fpage %#llx): %s",
			    (unsigned long long)rw.reply.token,
			    (unsigned long long)rw.reply.items[0].item.fpage, strerror(errno));
		}
		token = m->token;
		if (m->label == QUIT_LABEL) {
			struct l4_reply r;

			memset(&r, 0, sizeof(r));
			r.token = token;
			sys(ioctl(c->gate, L4_IOC_REPLY, &r), "l4 pager: L4_IOC_REPLY (quit)");
			return NULL;
		}
		if (m->label == PING_LABEL) {	/* an empty round trip */
			memset(&rw.reply, 0, sizeof(rw.reply));
			rw.reply.token = token;
			c->msgs++;
			continue;
		}
		if (m->label != L4_LABEL_PAGE_FAULT)
			die("l4 pager: message with label %lld", (long long)m->label);
		if (m->rcv_window != L4_FPAGE_WHOLE_SPACE)
			die("l4 pager: fault with receive window %#llx",
			    (unsigned long long)m->rcv_window);
		pfa = L4_PF_ADDR(m->words[0]);
		if (pfa >= c->src_size)
			die("l4 pager: fault at %#llx outside the source (%#llx bytes), word0 %#llx",
			    (unsigned long long)pfa, (unsigned long long)c->src_size,
			    (unsigned long long)m->words[0]);
		order = c->order;
		base = pfa & ~((1ULL << order) - 1);
		memset(&rw.reply, 0, sizeof(rw.reply));
		rw.reply.token = token;
		rw.reply.nitems = 1;
		rw.reply.items[0].src_fd = c->src;
		rw.reply.items[0].item.control = L4_MAP_ITEM(base, 0);
		rw.reply.items[0].item.fpage = L4_FPAGE(base, order, L4_FPAGE_RW);
		c->msgs++;
	}
}

/* A sigma0 space of @size, every page touched with marker(tag, i). */
static int l4_source_space(uint64_t size, unsigned int tag)
{
	char *win;
	int space = check(l4u_space_create(dev, size, L4_SPACE_SIGMA0, 0, NULL),
			  "create sigma0 space");

	check(l4u_window_open(space, 0, size, PROT_READ | PROT_WRITE, NULL, (void **)&win),
	      "window onto the sigma0 space");
	fill_markers(win, size / PAGE, tag);
	check(l4u_window_close(win, size), "close sigma0 window");
	return space;
}

static void l4_pager_start(struct l4_pager_ctx *c, int src, uint64_t src_size)
{
	int err;

	memset(c, 0, sizeof(*c));
	c->gate = sys(ioctl(dev, L4_IOC_CREATE_GATE, 0), "L4_IOC_CREATE_GATE");
	c->src = src;
	c->src_size = src_size;
	c->order = 12;
	err = pthread_create(&c->thread, NULL, l4_pager_main, c);
	if (err)
		die("pthread_create: %s", strerror(err));
}

static void l4_pager_stop(struct l4_pager_ctx *c)
{
	struct l4_call call;
	int err;

	memset(&call, 0, sizeof(call));
	call.label = QUIT_LABEL;
	call.rcv_space_fd = -1;
	call.timeout_ns = 20000000000LL;
	sys(ioctl(c->gate, L4_IOC_CALL, &call), "L4_IOC_CALL (quit the pager)");
	err = pthread_join(c->thread, NULL);
	if (err)
		die("pthread_join: %s", strerror(err));
	close(c->gate);
}

/*
 * One run: a fresh non-sigma0 client space paged by @c with flexpages of
 * @order; touch @npages pages through a window. Returns ns; *msgs: pager
 * messages, *kfaults: faults the kernel resolved on its own.
 */
/* L4_SPACE_* flags of the client spaces l4_fault_run() creates */
static uint32_t l4_client_flags;

static double l4_fault_run(struct l4_pager_ctx *c, size_t npages, unsigned int order,
			   unsigned int tag, size_t *done, unsigned long *msgs,
			   unsigned long *kfaults)
{
	size_t per_msg = (1UL << order) / PAGE;
	uint64_t size = npages * PAGE, seed;
	struct l4_pager pg = { .gate_fd = c->gate };
	struct l4_stats st0, st1;
	unsigned long m0;
	char *win;
	double t;
	int client;

	client = check(l4u_space_create(dev, size, l4_client_flags, 0, NULL),
		       "create client space");
	sys(ioctl(client, L4_IOC_SET_PAGER, &pg), "L4_IOC_SET_PAGER");
	check(l4u_window_open(client, 0, size, PROT_READ | PROT_WRITE, NULL, (void **)&win),
	      "client window");
	c->order = order;
	m0 = c->msgs;
	st0 = l4_stats_now();
	t = touch(win, npages, &seed, done);
	st1 = l4_stats_now();
	*msgs = c->msgs - m0;
	*kfaults = st1.kernel_faults - st0.kernel_faults;
	/* pages fault-around mapped count as resolved by the kernel */
	*kfaults += st1.faultaround_pages - st0.faultaround_pages;
	if (st1.pager_faults - st0.pager_faults != *msgs)
		die("module counted %llu pager faults, the pager got %lu messages",
		    (unsigned long long)(st1.pager_faults - st0.pager_faults), *msgs);
	if (*msgs != (*done + per_msg - 1) / per_msg)
		die("%lu pager messages for %zu pages of %zu per flexpage", *msgs, *done,
		    per_msg);
	if (*msgs + *kfaults < *done)
		die("%lu messages + %lu kernel-resolved faults for %zu pages", *msgs,
		    *kfaults, *done);
	verify(current_what, win, *done, tag, seed);
	check(l4u_window_close(win, size), "close client window");
	close(client);
	return t;
}

static struct result l4_fault_bench(const char *what, struct l4_pager_ctx *c, size_t npages,
				    unsigned int order, unsigned int tag)
{
	unsigned long msgs = 0, kfaults = 0, m, k;
	size_t pages = npages, done;
	double runs[REPS];

	current_what = what;
	for (int r = 0; r < REPS; r++) {
		alarm(WATCHDOG_S);
		runs[r] = l4_fault_run(c, npages, order, tag, &done, &m, &k) / done;
		alarm(0);
		if (done <= pages) {
			pages = done;
			msgs = m;
			kfaults = k;
		}
	}
	return summarize(runs, pages, msgs, kfaults);
}

/* ------------------------------------------------------------------ */
/* the userfaultfd pager                                               */
/* ------------------------------------------------------------------ */

enum uffd_mode { UFFD_COPY, UFFD_CONTINUE };

struct uffd_ctx {
	int uffd, stop;
	enum uffd_mode mode;
	char *dst;		/* registered range */
	char *src;		/* COPY: the source, same layout as dst */
	size_t len, chunk;	/* chunk: bytes resolved per fault */
	volatile unsigned long msgs;
	pthread_t thread;
};

static int uffd_open(uint64_t features)
{
	struct uffdio_api api = { .api = UFFD_API, .features = features };
	int fd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		die("userfaultfd(O_CLOEXEC|O_NONBLOCK): %s", strerror(errno));
	if (ioctl(fd, UFFDIO_API, &api)) {
		if (errno == EINVAL && features) {
			close(fd);
			return -1;
		}
		die("UFFDIO_API: %s", strerror(errno));
	}
	if ((api.features & features) != features) {
		close(fd);
		return -1;
	}
	return fd;
}

static void *uffd_pager_main(void *arg)
{
	struct uffd_ctx *c = arg;
	struct pollfd pfd[2] = {
		{ .fd = c->uffd, .events = POLLIN },
		{ .fd = c->stop, .events = POLLIN },
	};
	struct uffd_msg msg;

	for (;;) {
		unsigned long addr;
		ssize_t n;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("uffd pager: poll: %s", strerror(errno));
		}
		if (pfd[1].revents)
			return NULL;
		if (pfd[0].revents & (POLLERR | POLLHUP))
			die("uffd pager: poll revents %#x", pfd[0].revents);
		n = read(c->uffd, &msg, sizeof(msg));
		if (n < 0 && errno == EAGAIN)
			continue;
		if (n != sizeof(msg))
			die("uffd pager: read: %zd (%s)", n, n < 0 ? strerror(errno) : "short");
		if (msg.event != UFFD_EVENT_PAGEFAULT)
			die("uffd pager: event %u", msg.event);
		addr = msg.arg.pagefault.address & ~(c->chunk - 1);
		if (addr < (unsigned long)c->dst || addr + c->chunk > (unsigned long)c->dst + c->len)
			die("uffd pager: fault at %#llx outside the range",
			    (unsigned long long)msg.arg.pagefault.address);
		if (c->mode == UFFD_COPY) {
			struct uffdio_copy cp = {
				.dst = addr,
				.src = (unsigned long)c->src + (addr - (unsigned long)c->dst),
				.len = c->chunk,
			};

			while (ioctl(c->uffd, UFFDIO_COPY, &cp)) {
				if (errno != EAGAIN)
					die("UFFDIO_COPY at %#lx: %s (copied %lld)", addr,
					    strerror(errno), (long long)cp.copy);
				/* partial: go on after what was done */
				if (cp.copy > 0) {
					cp.dst += cp.copy;
					cp.src += cp.copy;
					cp.len -= cp.copy;
				}
				cp.copy = 0;
			}
		} else {
			struct uffdio_continue co = {
				.range = { .start = addr, .len = c->chunk },
			};

			while (ioctl(c->uffd, UFFDIO_CONTINUE, &co)) {
				if (errno != EAGAIN)
					die("UFFDIO_CONTINUE at %#lx: %s (mapped %lld)", addr,
					    strerror(errno), (long long)co.mapped);
				if (co.mapped > 0) {
					co.range.start += co.mapped;
					co.range.len -= co.mapped;
				}
				co.mapped = 0;
			}
		}
		c->msgs++;
	}
}

/*
 * One run. COPY: fresh anonymous private memory, the source @src (markers).
 * CONTINUE: a fresh mapping of @memfd (whose pages are in the page cache),
 * registered MINOR. Returns ns; *msgs: uffd messages.
 */
static double uffd_run(enum uffd_mode mode, char *src, int memfd, size_t npages,
		       size_t chunk, unsigned int tag, size_t *done, unsigned long *msgs)
{
	size_t per_msg = chunk / PAGE;
	struct uffd_ctx c = { .mode = mode, .src = src, .len = npages * PAGE, .chunk = chunk };
	struct uffdio_register reg;
	uint64_t need, seed, one = 1;
	double t;
	int err;

	c.uffd = uffd_open(mode == UFFD_CONTINUE ? UFFD_FEATURE_MINOR_SHMEM : 0);
	if (c.uffd < 0)
		die("UFFDIO_API: features refused");
	c.stop = sys(eventfd(0, EFD_CLOEXEC), "eventfd");
	if (mode == UFFD_COPY) {
		c.dst = map_anon(c.len);
		/* 4 KiB pages on both sides: no THP in the way (none without CONFIG_TRANSPARENT_HUGEPAGE) */
		if (madvise(c.dst, c.len, MADV_NOHUGEPAGE) && errno != EINVAL && errno != ENOSYS)
			die("madvise(MADV_NOHUGEPAGE): %s", strerror(errno));
	} else {
		c.dst = map_shared(memfd, c.len);
	}
	memset(&reg, 0, sizeof(reg));
	reg.range.start = (unsigned long)c.dst;
	reg.range.len = c.len;
	reg.mode = mode == UFFD_COPY ? UFFDIO_REGISTER_MODE_MISSING : UFFDIO_REGISTER_MODE_MINOR;
	sys(ioctl(c.uffd, UFFDIO_REGISTER, &reg), "UFFDIO_REGISTER");
	need = mode == UFFD_COPY ? 1ULL << _UFFDIO_COPY : 1ULL << _UFFDIO_CONTINUE;
	if ((reg.ioctls & need) != need)
		die("UFFDIO_REGISTER: ioctls %#llx lack %#llx", (unsigned long long)reg.ioctls,
		    (unsigned long long)need);
	err = pthread_create(&c.thread, NULL, uffd_pager_main, &c);
	if (err)
		die("pthread_create: %s", strerror(err));

	t = touch(c.dst, npages, &seed, done);

	sys(write(c.stop, &one, sizeof(one)), "eventfd write");
	err = pthread_join(c.thread, NULL);
	if (err)
		die("pthread_join: %s", strerror(err));
	*msgs = c.msgs;
	if (*msgs != (*done + per_msg - 1) / per_msg)
		die("%lu uffd messages for %zu pages of %zu per fault", *msgs, *done, per_msg);
	verify(current_what, c.dst, *done, tag, seed);
	sys(ioctl(c.uffd, UFFDIO_UNREGISTER, &reg.range), "UFFDIO_UNREGISTER");
	sys(munmap(c.dst, c.len), "munmap");
	close(c.stop);
	close(c.uffd);
	return t;
}

static struct result uffd_bench(const char *what, enum uffd_mode mode, char *src, int memfd,
				size_t npages, size_t chunk, unsigned int tag)
{
	unsigned long msgs = 0, m;
	size_t pages = npages, done;
	double runs[REPS];

	current_what = what;
	for (int r = 0; r < REPS; r++) {
		alarm(WATCHDOG_S);
		runs[r] = uffd_run(mode, src, memfd, npages, chunk, tag, &done, &m) / done;
		alarm(0);
		if (done <= pages) {
			pages = done;
			msgs = m;
		}
	}
	return summarize(runs, pages, msgs, (unsigned long)-1);
}

/* A memfd of @npages pages, all in the page cache with marker(tag, i). */
static int populated_memfd(size_t npages, unsigned int tag)
{
	size_t len = npages * PAGE;
	int fd = sys(memfd_create("fault_ipc", MFD_CLOEXEC), "memfd_create");
	char *p;

	sys(ftruncate(fd, len), "ftruncate memfd");
	p = map_shared(fd, len);
	fill_markers(p, npages, tag);
	sys(munmap(p, len), "munmap populate mapping");
	return fd;
}

/* ------------------------------------------------------------------ */
/* the sections                                                        */
/* ------------------------------------------------------------------ */

static int minor_shmem_ok;

struct pingpong {
	int a, b;	/* eventfds: main -> thread, thread -> main */
	size_t n;
};

static void *pong_main(void *arg)
{
	struct pingpong *pp = arg;
	uint64_t v;

	for (;;) {
		sys(read(pp->a, &v, sizeof(v)), "pong: read eventfd");
		if (v > 1)
			return NULL;	/* stop */
		sys(write(pp->b, &v, sizeof(v)), "pong: write eventfd");
	}
}

/* Round trips between two threads of this process, up to @n, budgeted. */
static void section0(size_t n)
{
	double runs_efd[REPS], runs_l4[REPS];
	size_t pages_efd = n, pages_l4 = n;
	struct l4_pager_ctx pager;
	struct pingpong pp;
	struct result efd, l4;
	pthread_t thr;
	uint64_t v = 1, stop = 2;
	int err;

	printf("\n[0] baseline: wakeup round trip between two threads (no fault), up to %zu\n", n);
	print_header(NULL);

	current_what = "0 eventfd ping-pong";
	pp.a = sys(eventfd(0, EFD_CLOEXEC), "eventfd");
	pp.b = sys(eventfd(0, EFD_CLOEXEC), "eventfd");
	err = pthread_create(&thr, NULL, pong_main, &pp);
	if (err)
		die("pthread_create: %s", strerror(err));
	for (int r = 0; r < REPS; r++) {
		double t0 = now_ns(), t;
		size_t i;

		alarm(WATCHDOG_S);
		for (i = 0; i < n; ) {
			sys(write(pp.a, &v, sizeof(v)), "ping: write eventfd");
			sys(read(pp.b, &v, sizeof(v)), "ping: read eventfd");
			if (v != 1)
				die("eventfd gave %llu", (unsigned long long)v);
			if ((++i & 31) == 0 && now_ns() - t0 > run_budget_ns)
				break;
		}
		t = now_ns() - t0;
		alarm(0);
		runs_efd[r] = t / i;
		if (i < pages_efd)
			pages_efd = i;
	}
	sys(write(pp.a, &stop, sizeof(stop)), "stop: write eventfd");
	err = pthread_join(thr, NULL);
	if (err)
		die("pthread_join: %s", strerror(err));
	close(pp.a);
	close(pp.b);
	efd = summarize(runs_efd, pages_efd, 0, (unsigned long)-1);
	print_row("eventfd write+read <-> read+write", &efd, NULL);

	current_what = "0 l4 CALL ping";
	l4_pager_start(&pager, -1, 0);
	for (int r = 0; r < REPS; r++) {
		double t0 = now_ns(), t;
		unsigned long m0 = pager.msgs;
		size_t i;

		alarm(WATCHDOG_S);
		for (i = 0; i < n; ) {
			struct l4_call call;

			memset(&call, 0, sizeof(call));
			call.label = PING_LABEL;
			call.nwords = 1;
			call.words[0] = i;
			call.rcv_space_fd = -1;
			sys(ioctl(pager.gate, L4_IOC_CALL, &call), "L4_IOC_CALL (ping)");
			if ((++i & 31) == 0 && now_ns() - t0 > run_budget_ns)
				break;
		}
		t = now_ns() - t0;
		alarm(0);
		if (pager.msgs - m0 != i)
			die("the server got %lu pings of %zu", pager.msgs - m0, i);
		runs_l4[r] = t / i;
		if (i < pages_l4)
			pages_l4 = i;
	}
	l4_pager_stop(&pager);
	l4 = summarize(runs_l4, pages_l4, pages_l4, (unsigned long)-1);
	print_row("l4 CALL <-> REPLY_WAIT, empty message", &l4, NULL);
	printf("  (\"pages\" = round trips per run, ns/page = ns per round trip)\n");
}

/* l4.ko's spin_ns (the longest a faulter spins for its answer), or -1 */
static long spin_get(void)
{
	long long v;

	return l4u_param_get("spin_ns", &v) ? -1 : (long)v;
}

/* l4.ko's wake_ns (what waking a sleeping faulter costs, measured), or -1 */
static long long wake_get(void)
{
	long long v;

	return l4u_param_get("wake_ns", &v) ? -1 : v;
}

/*
 * FAULT_IPC_ONLY=l4|nospin|copy|cont|native|refault: that row of section [1]
 * or [3] alone (a profiling aid: run it under `perf record -a`); nothing
 * else.
 */
static const char *only;

static int row_wanted(const char *row)
{
	return !only || !strcmp(only, row);
}

static void section1(size_t npages)
{
	struct result l4 = { .valid = 0 }, nospin = { .valid = 0 }, copy = { .valid = 0 },
		      cont = { .valid = 0 };
	struct l4_pager_ctx pager;
	long spin = spin_get();
	int src, memfd;
	char *usrc;

	printf("\n[1] 4 KiB fault round trip (touch -> pager -> map -> resume), %zu pages\n",
	       npages);
	print_header(NULL);

	if (row_wanted("l4")) {
		src = l4_source_space(npages * PAGE, 1);
		l4_pager_start(&pager, src, npages * PAGE);
		l4 = l4_fault_bench("1 l4 REPLY_WAIT 4K", &pager, npages, 12, 1);
		l4_pager_stop(&pager);
		close(src);
		print_row("l4 pager, REPLY_WAIT, 4 KiB map items", &l4, NULL);
	}

	/* the same without the faulter's spin before it sleeps */
	if (spin > 0 && row_wanted("nospin")) {
		check(l4u_param_set("spin_ns", 0), "set l4.ko's spin_ns to 0");
		src = l4_source_space(npages * PAGE, 1);
		l4_pager_start(&pager, src, npages * PAGE);
		nospin = l4_fault_bench("1 l4 REPLY_WAIT 4K spin_ns=0", &pager, npages, 12, 1);
		l4_pager_stop(&pager);
		close(src);
		check(l4u_param_set("spin_ns", spin), "set l4.ko's spin_ns back");
		print_row("l4 pager, REPLY_WAIT, 4 KiB, spin_ns=0", &nospin, NULL);
		printf("  (its sleeping faulters measured a wake-up: wake_ns=%lld)\n", wake_get());
	}

	if (row_wanted("copy")) {
		usrc = map_anon(npages * PAGE);
		fill_markers(usrc, npages, 2);
		copy = uffd_bench("1 uffd COPY 4K", UFFD_COPY, usrc, -1, npages, PAGE, 2);
		munmap(usrc, npages * PAGE);
		print_row("uffd poll+read+UFFDIO_COPY 4 KiB, anon", &copy, NULL);
	}

	if (minor_shmem_ok && row_wanted("cont")) {
		memfd = populated_memfd(npages, 3);
		cont = uffd_bench("1 uffd CONTINUE 4K", UFFD_CONTINUE, NULL, memfd, npages,
				  PAGE, 3);
		close(memfd);
	}
	print_row("uffd poll+read+UFFDIO_CONTINUE 4 KiB, memfd", &cont, NULL);

	if (only)
		return;
	print_goal("l4 / uffd COPY", &l4, &copy, 0.8);
	print_goal("l4 / uffd CONTINUE", &l4, &cont, 1.0);
	if (nospin.valid) {
		print_goal("l4 spin_ns=0 / uffd COPY", &nospin, &copy, 0);
		print_goal("l4 spin_ns=0 / uffd CONTINUE", &nospin, &cont, 0);
	}
}

/* plain shmem first touch: a fresh memfd, every page touched once */
static struct result shmem_first_touch(size_t npages)
{
	size_t len = npages * PAGE;
	size_t pages = npages, done;
	double runs[REPS];
	uint64_t seed;

	current_what = "2 shmem first touch";
	for (int r = 0; r < REPS; r++) {
		int fd = sys(memfd_create("fault_ipc-floor", MFD_CLOEXEC), "memfd_create");
		char *p;

		alarm(WATCHDOG_S);
		sys(ftruncate(fd, len), "ftruncate");
		p = map_shared(fd, len);
		runs[r] = touch(p, npages, &seed, &done) / done;
		verify(current_what, p, done, 0, seed);
		if (done < pages)
			pages = done;
		sys(munmap(p, len), "munmap");
		close(fd);
		alarm(0);
	}
	return summarize(runs, pages, 0, (unsigned long)-1);
}

static void section2(size_t mib)
{
	size_t npages = mib * MIB / PAGE;
	struct result floor, l4_2m, l4_2m_rd, l4_2m_fa, l4_4k, copy4k, copy2m;
	struct result cont4k = { .valid = 0 }, cont2m = { .valid = 0 };
	struct l4_pager_ctx pager;
	int src, memfd;
	char *usrc;

	printf("\n[2] sequential first touch of %zu MiB (%zu pages), ns per 4 KiB page\n",
	       mib, npages);
	print_header("vs floor");

	floor = shmem_first_touch(npages);
	print_row("floor: shmem (memfd) first-touch faults", &floor, NULL);

	src = l4_source_space(mib * MIB, 4);
	l4_pager_start(&pager, src, mib * MIB);
	l4_2m = l4_fault_bench("2 l4 REPLY_WAIT 2M", &pager, npages, 21, 4);
	print_row("l4 pager, 2 MiB flexpages (1 msg per 2 MiB)", &l4_2m, &floor);
	/* read faults: fault-around maps 15 neighbours each (writes it skips) */
	touch_reads = 1;
	l4_2m_rd = l4_fault_bench("2 l4 REPLY_WAIT 2M reads", &pager, npages, 21, 4);
	print_row("l4 pager, 2 MiB flexpages, reads", &l4_2m_rd, &floor);
	l4_client_flags = L4_SPACE_FAULT_AROUND;
	l4_2m_fa = l4_fault_bench("2 l4 REPLY_WAIT 2M reads fault-around", &pager, npages,
				  21, 4);
	l4_client_flags = 0;
	touch_reads = 0;
	print_row("l4 pager, 2 MiB, reads, fault-around 16", &l4_2m_fa, &floor);
	l4_4k = l4_fault_bench("2 l4 REPLY_WAIT 4K", &pager, npages, 12, 4);
	print_row("l4 pager, 4 KiB flexpages", &l4_4k, &floor);
	l4_pager_stop(&pager);
	close(src);

	usrc = map_anon(mib * MIB);
	fill_markers(usrc, npages, 5);
	copy4k = uffd_bench("2 uffd COPY 4K", UFFD_COPY, usrc, -1, npages, PAGE, 5);
	print_row("uffd COPY 4 KiB per fault, anon", &copy4k, &floor);
	copy2m = uffd_bench("2 uffd COPY 2M", UFFD_COPY, usrc, -1, npages, HUGE, 5);
	print_row("uffd COPY 2 MiB per fault (1 msg per 2 MiB)", &copy2m, &floor);
	munmap(usrc, mib * MIB);

	if (minor_shmem_ok) {
		memfd = populated_memfd(npages, 6);
		cont4k = uffd_bench("2 uffd CONTINUE 4K", UFFD_CONTINUE, NULL, memfd, npages,
				    PAGE, 6);
		cont2m = uffd_bench("2 uffd CONTINUE 2M", UFFD_CONTINUE, NULL, memfd, npages,
				    HUGE, 6);
		close(memfd);
	}
	print_row("uffd CONTINUE 4 KiB per fault, memfd", &cont4k, &floor);
	print_row("uffd CONTINUE 2 MiB per fault, memfd", &cont2m, &floor);

	print_goal("l4 2 MiB / shmem floor", &l4_2m, &floor, 2.0);
	print_goal("l4 2 MiB reads, fault-around / reads", &l4_2m_fa, &l4_2m_rd, 0);
	print_goal("l4 2 MiB / uffd COPY 4K", &l4_2m, &copy4k, 0);
	print_goal("l4 2 MiB / uffd COPY 2M", &l4_2m, &copy2m, 0);
	print_goal("l4 2 MiB / uffd CONTINUE 2M", &l4_2m, &cont2m, 0);
}

static const char *zap_how = "MADV_DONTNEED";

/*
 * Zap the PTEs of @map (a MAP_SHARED mapping of @fd at offset 0): with
 * MADV_DONTNEED, or where madvise(2) is not built in (ENOSYS: the debug
 * kernel has no CONFIG_ADVISE_SYSCALLS) by munmap + mmap at the same place.
 */
static void zap(char *map, size_t len, int fd)
{
	void *p;

	if (!madvise(map, len, MADV_DONTNEED))
		return;
	if (errno != ENOSYS)
		die("madvise(MADV_DONTNEED): %s", strerror(errno));
	zap_how = "munmap+mmap (no madvise in this kernel)";
	sys(munmap(map, len), "munmap (zap)");
	p = mmap(map, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED_NOREPLACE, fd, 0);
	if (p != map)
		die("mmap again at %p: %s", (void *)map, p == MAP_FAILED ? strerror(errno) :
		    "placed elsewhere");
}

/*
 * Refault: the PTEs of an already-populated mapping are zapped with
 * MADV_DONTNEED and every page touched again. @map is the populated
 * mapping of @npages, filled with marker(tag, i).
 */
static struct result refault_bench(const char *what, char *map, int fd, size_t npages,
				   unsigned int tag, int is_l4)
{
	unsigned long kfaults = 0;
	size_t pages = npages, done;
	double runs[REPS];
	uint64_t seed;

	current_what = what;
	for (int r = 0; r < REPS; r++) {
		struct l4_stats st0, st1;

		alarm(WATCHDOG_S);
		zap(map, npages * PAGE, fd);
		if (is_l4)
			st0 = l4_stats_now();
		runs[r] = touch(map, npages, &seed, &done) / done;
		if (is_l4) {
			st1 = l4_stats_now();
			if (done <= pages)
				kfaults = st1.kernel_faults - st0.kernel_faults;
			if (st1.pager_faults != st0.pager_faults)
				die("%llu faults went to a pager",
				    (unsigned long long)(st1.pager_faults - st0.pager_faults));
		}
		verify(what, map, done, tag, seed);
		alarm(0);
		if (done < pages)
			pages = done;
	}
	return summarize(runs, pages, 0, is_l4 ? kfaults : (unsigned long)-1);
}

static void section3(size_t mib)
{
	size_t npages = mib * MIB / PAGE, len = mib * MIB;
	struct result native = { .valid = 0 }, l4_mapped = { .valid = 0 },
		      l4_sigma0 = { .valid = 0 };
	uint64_t dst, pages;
	char *p, *win, *swin;
	int memfd, src, client;

	printf("\n[3] refault resolved by the kernel alone (PTEs zapped, pages kept), %zu MiB\n",
	       mib);
	print_header("vs native");

	if (row_wanted("native")) {
		memfd = populated_memfd(npages, 7);
		p = map_shared(memfd, len);
		native = refault_bench("3 shmem minor refault", p, memfd, npages, 7, 0);
		print_row("native: shmem minor fault (page in cache)", &native, NULL);
		munmap(p, len);
		close(memfd);
	}
	if (!row_wanted("refault"))
		return;

	/* pages mapped from a sigma0 space into a non-sigma0 space (a pager's work) */
	current_what = "3 l4 setup";
	src = l4_source_space(len, 8);
	client = check(l4u_space_create(dev, len, 0, 0, NULL), "create client space");
	check(l4u_map(client, src, L4_FPAGE(0, __builtin_ctzl(len), L4_FPAGE_RW), 0, 0,
		      L4_FPAGE_WHOLE_SPACE, &dst, &pages), "L4_IOC_MAP");
	if (dst != 0 || pages != npages)
		die("L4_IOC_MAP: %llu pages at %#llx, expected %zu at 0",
		    (unsigned long long)pages, (unsigned long long)dst, npages);
	check(l4u_window_open(client, 0, len, PROT_READ | PROT_WRITE, NULL, (void **)&win),
	      "client window");
	l4_mapped = refault_bench("3 l4 refault (mapped)", win, client, npages, 8, 1);
	print_row("l4 window, pages mapped from another space", &l4_mapped, &native);
	check(l4u_window_close(win, len), "close window");
	close(client);

	/* the sigma0 space itself */
	check(l4u_window_open(src, 0, len, PROT_READ | PROT_WRITE, NULL, (void **)&swin),
	      "sigma0 window");
	l4_sigma0 = refault_bench("3 l4 refault (sigma0)", swin, src, npages, 8, 1);
	print_row("l4 window, sigma0 space's own pages", &l4_sigma0, &native);
	check(l4u_window_close(swin, len), "close window");
	close(src);

	printf("  (PTEs zapped by %s)\n", zap_how);
	print_goal("l4 (mapped) / shmem minor", &l4_mapped, &native, 1.5);
	print_goal("l4 (sigma0) / shmem minor", &l4_sigma0, &native, 1.5);
}

int main(int argc, char **argv)
{
	size_t npages = argc > 1 ? strtoul(argv[1], NULL, 0) : 2000;
	size_t mib = argc > 2 ? strtoul(argv[2], NULL, 0) : 64;
	double budget_s = argc > 3 ? strtod(argv[3], NULL) : 1.5;
	struct sigaction sa = { .sa_handler = on_alarm };
	struct l4_version ver;
	struct l4_stats st;
	char buf[32] = "?";
	FILE *f;
	int fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!npages || !mib || mib % 2 || (mib & (mib - 1)) || !(budget_s > 0))
		die("usage: fault_ipc [pages [MiB, a power of two >= 2 [seconds per run]]]");
	run_budget_ns = budget_s * 1e9;
	sigaction(SIGALRM, &sa, NULL);
	dev = check(l4u_open(), "open " L4_DEVICE_PATH);
	check(l4u_version(dev, &ver), "L4_IOC_VERSION");
	if (!(ver.features & L4_FEAT_IPC))
		die("the module lacks L4_FEAT_IPC (features %#llx)",
		    (unsigned long long)ver.features);

	f = fopen("/proc/sys/vm/unprivileged_userfaultfd", "r");
	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			strcpy(buf, "?");
		buf[strcspn(buf, "\n")] = 0;
		fclose(f);
	}
	fd = uffd_open(UFFD_FEATURE_MINOR_SHMEM);
	minor_shmem_ok = fd >= 0;
	if (fd >= 0)
		close(fd);
	printf("fault_ipc: l4 ABI %u.%u, euid %d, vm.unprivileged_userfaultfd=%s "
	       "(irrelevant as root), UFFD_FEATURE_MINOR_SHMEM %s\n", ver.major, ver.minor,
	       (int)geteuid(), buf, minor_shmem_ok ? "yes" : "NO: CONTINUE rows skipped");
	printf("fault_ipc: every touch is an 8-byte store; pagers are threads of this process; "
	       "best/median of %d runs\n", REPS);
	printf("fault_ipc: l4.ko spin_ns=%ld, wake_ns=%lld (a faulter or caller spins up to twice "
	       "what a wake-up costs, at most spin_ns, before it sleeps); cpu = process CPU time "
	       "per page, all threads\n", spin_get(), wake_get());

	only = getenv("FAULT_IPC_ONLY");
	if (only) {
		if (!strcmp(only, "native") || !strcmp(only, "refault"))
			section3(mib);
		else
			section1(npages);
		return 0;
	}
	section0(npages);
	section1(npages);
	section2(mib);
	section3(mib);

	st = l4_stats_now();
	printf("\nmodule: %llu spaces, %llu frames, %llu nodes, %llu gates left; "
	       "%llu pager faults, %llu messages, %llu replies in all\n",
	       (unsigned long long)st.spaces, (unsigned long long)st.frames,
	       (unsigned long long)st.nodes, (unsigned long long)st.gates,
	       (unsigned long long)st.pager_faults, (unsigned long long)st.messages,
	       (unsigned long long)st.replies);
	if (st.spaces || st.frames || st.nodes || st.gates)
		die("the module still holds objects after every fd was closed");
	return 0;
}
