// SPDX-License-Identifier: MIT
/*
 * fault_ipc benchmark: page faults resolved by a user pager over l4 IPC,
 * against userfaultfd, in one process (pagers are pthreads).
 *
 *  1. 4 KiB fault round trip (touch -> pager -> map -> resume):
 *       l4       pager thread in L4_IOC_REPLY_WAIT (one syscall per fault)
 *                maps 4 KiB from its pre-touched sigma0 space into the
 *                client's non-sigma0 space; once as l4.ko is (the
 *                faulter spins for its answer before it sleeps), once
 *                with a pager polling its O_NONBLOCK gate (it never
 *                sleeps), and once with spin_ns=0 (the faulter sleeps at
 *                once, like uffd's)
 *       COPY     uffd pager (read + UFFDIO_COPY of 4 KiB) on anonymous
 *                private memory
 *       CONTINUE uffd pager (read + UFFDIO_CONTINUE of 4 KiB) on a memfd
 *                mapping registered MINOR, pages already in the page
 *                cache (zero copy)
 *     each uffd pager three ways, so that the peer is at its best: poll(2)
 *     then a non-blocking read, a blocking read(2) alone, and a busy-polling
 *     pager spinning on a non-blocking read
 *  2. sequential first touch of 64 MiB: l4 with 2 MiB flexpages (one
 *     message per 2 MiB; the source space has superpages where the module
 *     offers them, every window sits 2 MiB-aligned), uffd COPY/CONTINUE per
 *     4 KiB and per 2 MiB, against plain shmem first-touch faults (the
 *     floor) and shmem with transparent huge pages (shmem_enabled=always
 *     for that row, restored after; MADV_HUGEPAGE).
 *  3. refault resolved by the kernel alone: the space holds the pages, the
 *     window's PTEs are zapped (MADV_DONTNEED), touch again; against a
 *     shmem minor fault (memfd page in the page cache, PTE zapped).
 *
 * Every touch is a store of 8 bytes at offset 8 of the page (a write
 * fault: no fault-around on either side); afterwards the first 16 bytes of
 * every page are checked (offset 0: the source's marker, offset 8: the
 * store). Each measurement runs 3 times (section 1: 5, its rows
 * interleaved run by run, so that slow phases of the shared host hit every
 * row alike): "best" is the minimum, "med" the median; the ratios use the
 * best. The faulter runs on CPU 0 and every pager thread on CPU 1. Each l4 row is compared with the
 * fastest peer row of its kind (uffd: a user pager; native: the kernel
 * alone), found by measurement. The limits of the issues come as one
 * "goal:" line each (bench.h); the exit status is non-zero only for a
 * functional failure.
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
#include <sched.h>
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
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <l4u/l4u.h>

#include "bench.h"

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

/*
 * Every measurement runs its faulting (or pinging) thread on CPU 0 and its
 * pager (or ponger) on CPU 1, as a skilled user of either mechanism would
 * place them: left to the scheduler, the two sometimes shared a CPU for a
 * run, and that run measured the scheduler. No-op on a single CPU.
 */
static int pin_cpus;

static void pin_self(int cpu)
{
	cpu_set_t set;

	if (!pin_cpus)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity(CPU %d): %s", cpu, strerror(errno));
}

static void thp_shmem_restore(void);

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
	thp_shmem_restore();
	_exit(2);
}

/*
 * A shared or anonymous mapping of @len bytes of @fd from file offset @off,
 * placed 2 MiB-aligned relative to that offset (address and offset agree
 * modulo 2 MiB): a 2 MiB uffd chunk lies inside it, and a huge page of
 * shmem or a superpage of a space can be mapped by one PMD. Reserve
 * len + 4 MiB, map over the aligned start (MAP_FIXED), trim the rest.
 */
static void *map_aligned(int fd, int flags, size_t len, uint64_t off)
{
	size_t span = len + 2 * HUGE;
	uintptr_t res, start;
	void *p;

	p = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die("mmap reserve %zu: %s", span, strerror(errno));
	res = (uintptr_t)p;
	start = ((res + HUGE - 1) & ~(HUGE - 1)) + (off & (HUGE - 1));
	p = mmap((void *)start, len, PROT_READ | PROT_WRITE, flags | MAP_FIXED, fd, off);
	if (p == MAP_FAILED)
		die("mmap fixed %zu at offset %#llx (fd %d): %s", len, (unsigned long long)off,
		    fd, strerror(errno));
	if (start > res)
		sys(munmap((void *)res, start - res), "munmap head");
	if (res + span > start + len)
		sys(munmap((void *)(start + len), res + span - (start + len)), "munmap tail");
	return p;
}

static void *map_anon(size_t len)
{
	return map_aligned(-1, MAP_PRIVATE | MAP_ANONYMOUS, len, 0);
}

static void *map_shared(int fd, size_t len)
{
	return map_aligned(fd, MAP_SHARED, len, 0);
}

/* a window onto @space from @addr, 2 MiB-aligned as above */
static char *window_open(int space, uint64_t addr, size_t len)
{
	return map_aligned(space, MAP_SHARED, len, addr);
}

static void window_close(char *win, size_t len)
{
	sys(munmap(win, len), "munmap window");
}

/*
 * Bytes of the mapping at @addr that are mapped by PMDs (smaps:
 * AnonHugePages + ShmemPmdMapped + FilePmdMapped), or -1 if unknown.
 */
static long long pmd_mapped(const void *addr)
{
	unsigned long long start, end, kb;
	long long sum = -1;
	char line[512];
	int in = 0;
	FILE *f;

	f = fopen("/proc/self/smaps", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx-%llx ", &start, &end) == 2) {	/* a vma's first line */
			if (in)
				break;
			in = start == (uintptr_t)addr;
			if (in)
				sum = 0;
			continue;
		}
		if (in && (sscanf(line, "AnonHugePages: %llu kB", &kb) == 1 ||
			   sscanf(line, "ShmemPmdMapped: %llu kB", &kb) == 1 ||
			   sscanf(line, "FilePmdMapped: %llu kB", &kb) == 1))
			sum += kb << 10;
	}
	fclose(f);
	return sum;
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
static struct result summarize_n(double *runs, int n, size_t pages, unsigned long msgs,
				 unsigned long kfaults)
{
	struct result r;

	qsort(runs, n, sizeof(runs[0]), cmp_double);
	r.best = runs[0];
	r.med = runs[n / 2];
	r.pages = pages;
	r.msgs = msgs;
	r.kfaults = kfaults;
	r.cpu = touch_cpu_pages ? touch_cpu_ns / touch_cpu_pages : -1;
	touch_cpu_ns = 0;
	touch_cpu_pages = 0;
	r.valid = 1;
	return r;
}

static struct result summarize(double *runs, size_t pages, unsigned long msgs,
			       unsigned long kfaults)
{
	return summarize_n(runs, REPS, pages, msgs, kfaults);
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

/* an informational ratio a / b (no limit) */
static void print_ratio(const char *name, const struct result *a, const struct result *b)
{
	if (!a->valid || !b->valid) {
		printf("  ratio %-44s   n/a    (skipped)\n", name);
		return;
	}
	printf("  ratio %-44s %6.2fx  (no goal)   [median: %.2fx]\n", name, a->best / b->best,
	       a->med / b->med);
}

/* a limit on a / b: one goal line (bench.h); @why: NULL, or why it does not apply */
static void print_goal(const char *what, const struct result *a, const struct result *b,
		       double limit, const char *why)
{
	double ratio = a->valid && b->valid ? a->best / b->best : -1;

	bench_goal(what, ratio, limit, "%.2fx", why);
}

/* a row that l4 rows are compared with: a user pager (uffd) or the kernel alone */
struct peer {
	const char *key;	/* its name in ratio and goal lines */
	struct result r;
};

/* the fastest measured row of @n peers, or NULL when none was measured */
static const struct peer *fastest(const struct peer *p, size_t n)
{
	const struct peer *best = NULL;

	for (size_t i = 0; i < n; i++)
		if (p[i].r.valid && (!best || p[i].r.best < best->r.best))
			best = &p[i];
	return best;
}

static const struct result none = { .valid = 0 };

/* the fastest result of @n peers, or an unmeasured one */
static const struct result *fastest_result(const struct peer *p, size_t n)
{
	const struct peer *best = fastest(p, n);

	return best ? &best->r : &none;
}

/* l4 row @r against the fastest of @n peers of one @kind ("uffd", "native") */
static void print_vs_fastest(const char *l4, const struct result *r, const char *kind,
			     const struct peer *p, size_t n)
{
	const struct peer *best = fastest(p, n);
	char name[128];

	snprintf(name, sizeof(name), "%s / fastest %s (%s)", l4, kind, best ? best->key : "-");
	print_ratio(name, r, fastest_result(p, n));
}

/* a limit on l4 row @r against the fastest of @n peers of one @kind */
static void goal_fastest(const char *what, const struct result *r, const char *kind,
			 const struct peer *p, size_t n, double limit)
{
	const struct peer *best = fastest(p, n);
	char name[128];

	snprintf(name, sizeof(name), "%s/fastest-%s(%s)", what, kind, best ? best->key : "none");
	print_goal(name, r, fastest_result(p, n), limit, NULL);
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

	pin_self(1);

	memset(&rw, 0, sizeof(rw));
	for (;;) {
		struct l4_msg *m = &rw.msg;
		uint64_t pfa, base, token;
		unsigned int order;

		if (ioctl(c->gate, L4_IOC_REPLY_WAIT, &rw)) {
			if (errno == EINTR)
				continue;
			/* a busy pager's gate is O_NONBLOCK: replied, nothing came yet */
			if (errno == EAGAIN) {
				rw.reply.token = 0;
				continue;
			}
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

/*
 * A sigma0 space of @size with L4_SPACE_* @flags besides L4_SPACE_SIGMA0,
 * every page touched with marker(tag, i) through a 2 MiB-aligned window.
 */
static int l4_source_space(uint64_t size, uint32_t flags, unsigned int tag)
{
	int space = check(l4u_space_create(dev, size, L4_SPACE_SIGMA0 | flags, 0, NULL),
			  "create sigma0 space");
	char *win = window_open(space, 0, size);

	fill_markers(win, size / PAGE, tag);
	window_close(win, size);
	return space;
}

/*
 * A pager thread on a new gate. @busy: the gate is O_NONBLOCK, so that
 * REPLY_WAIT replies and returns EAGAIN when nothing waits: the pager
 * polls and never sleeps (as the busy-polling uffd pager does).
 */
static void l4_pager_start(struct l4_pager_ctx *c, int src, uint64_t src_size, int busy)
{
	int err;

	memset(c, 0, sizeof(*c));
	c->gate = sys(ioctl(dev, L4_IOC_CREATE_GATE, 0), "L4_IOC_CREATE_GATE");
	if (busy)
		sys(fcntl(c->gate, F_SETFL, O_NONBLOCK), "fcntl(O_NONBLOCK) on the gate");
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

/* L4_SPACE_* flags of the client spaces l4_fault_run() creates */
static uint32_t l4_client_flags;
/* what the last l4_fault_run() left: bytes of its window mapped by PMDs, entries */
static long long l4_run_pmd_bytes;
static uint64_t l4_run_nodes;

/*
 * One run: a fresh non-sigma0 client space paged by @c with flexpages of
 * @order; touch @npages pages through a 2 MiB-aligned window. Returns ns;
 * *msgs: pager messages, *kfaults: faults the kernel resolved on its own
 * (fewer than the pages when one fault maps several).
 */
static double l4_fault_run(struct l4_pager_ctx *c, size_t npages, unsigned int order,
			   unsigned int tag, size_t *done, unsigned long *msgs,
			   unsigned long *kfaults)
{
	size_t per_msg = (1UL << order) / PAGE;
	uint64_t size = npages * PAGE, seed;
	struct l4_pager pg = { .gate_fd = c->gate };
	struct l4_space_info info;
	struct l4_stats st0, st1;
	unsigned long m0;
	char *win;
	double t;
	int client;

	client = check(l4u_space_create(dev, size, l4_client_flags, 0, NULL),
		       "create client space");
	sys(ioctl(client, L4_IOC_SET_PAGER, &pg), "L4_IOC_SET_PAGER");
	win = window_open(client, 0, size);
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
	l4_run_pmd_bytes = pmd_mapped(win);
	check(l4u_space_info(client, &info), "L4_IOC_SPACE_INFO (client)");
	l4_run_nodes = info.nodes;
	verify(current_what, win, *done, tag, seed);
	window_close(win, size);
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

/* how a uffd pager thread waits for the next fault */
enum uffd_wait {
	UFFD_POLL,	/* poll(2), then a non-blocking read(2) */
	UFFD_READ,	/* a blocking read(2) alone */
	UFFD_BUSY,	/* non-blocking read(2) in a loop: the pager never sleeps */
};

struct uffd_ctx {
	int uffd;
	enum uffd_mode mode;
	enum uffd_wait wait;
	char *dst;		/* registered range */
	char *src;		/* COPY: the source, same layout as dst */
	size_t len, chunk;	/* chunk: bytes resolved per fault */
	char *quit;		/* a page of its own: its fault ends the pager */
	volatile unsigned long msgs;
	pthread_t thread;
};

/* a userfaultfd with @features, or -1 when the kernel lacks them */
static int uffd_open(uint64_t features, int flags)
{
	struct uffdio_api api = { .api = UFFD_API, .features = features };
	int fd = syscall(__NR_userfaultfd, O_CLOEXEC | flags);

	if (fd < 0)
		die("userfaultfd: %s", strerror(errno));
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

/* The next fault message, waited for as c->wait says. */
static void uffd_read_msg(struct uffd_ctx *c, struct uffd_msg *msg)
{
	struct pollfd pfd = { .fd = c->uffd, .events = POLLIN };
	ssize_t n;

	for (;;) {
		if (c->wait == UFFD_POLL) {
			if (poll(&pfd, 1, -1) < 0) {
				if (errno == EINTR)
					continue;
				die("uffd pager: poll: %s", strerror(errno));
			}
			if (pfd.revents & (POLLERR | POLLHUP))
				die("uffd pager: poll revents %#x", pfd.revents);
		}
		n = read(c->uffd, msg, sizeof(*msg));
		if (n == sizeof(*msg))
			break;
		/* EAGAIN: nothing yet (poll raced with another reader, or busy) */
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		die("uffd pager: read: %zd (%s)", n, n < 0 ? strerror(errno) : "short");
	}
	if (msg->event != UFFD_EVENT_PAGEFAULT)
		die("uffd pager: event %u", msg->event);
}

static void uffd_resolve(struct uffd_ctx *c, unsigned long addr)
{
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
}

static void *uffd_pager_main(void *arg)
{
	struct uffd_ctx *c = arg;
	struct uffd_msg msg;

	pin_self(1);

	for (;;) {
		unsigned long addr;

		uffd_read_msg(c, &msg);
		addr = msg.arg.pagefault.address;
		if (addr - (unsigned long)c->quit < PAGE) {
			struct uffdio_zeropage zp = {
				.range = { .start = (unsigned long)c->quit, .len = PAGE },
			};

			sys(ioctl(c->uffd, UFFDIO_ZEROPAGE, &zp), "UFFDIO_ZEROPAGE (quit page)");
			return NULL;
		}
		addr &= ~(c->chunk - 1);
		if (addr < (unsigned long)c->dst || addr + c->chunk > (unsigned long)c->dst + c->len)
			die("uffd pager: fault at %#llx outside the range",
			    (unsigned long long)msg.arg.pagefault.address);
		uffd_resolve(c, addr);
		c->msgs++;
	}
}

/* register @len bytes at @p in @mode; the ioctls @need must come with it */
static void uffd_register(int uffd, void *p, size_t len, uint64_t mode, uint64_t need)
{
	struct uffdio_register reg = {
		.range = { .start = (unsigned long)p, .len = len },
		.mode = mode,
	};

	sys(ioctl(uffd, UFFDIO_REGISTER, &reg), "UFFDIO_REGISTER");
	if ((reg.ioctls & need) != need)
		die("UFFDIO_REGISTER: ioctls %#llx lack %#llx", (unsigned long long)reg.ioctls,
		    (unsigned long long)need);
}

static void uffd_unregister(int uffd, void *p, size_t len)
{
	struct uffdio_range range = { .start = (unsigned long)p, .len = len };

	sys(ioctl(uffd, UFFDIO_UNREGISTER, &range), "UFFDIO_UNREGISTER");
}

/*
 * One run. COPY: fresh anonymous private memory, the source @src (markers).
 * CONTINUE: a fresh mapping of @memfd (whose pages are in the page cache),
 * registered MINOR. The pager thread waits as @wait says; it ends at the
 * fault of a page of its own (c.quit), which works for every way of
 * waiting. Returns ns; *msgs: uffd messages.
 */
static double uffd_run(enum uffd_mode mode, enum uffd_wait wait, char *src, int memfd,
		       size_t npages, size_t chunk, unsigned int tag, size_t *done,
		       unsigned long *msgs)
{
	size_t per_msg = chunk / PAGE;
	struct uffd_ctx c = { .mode = mode, .wait = wait, .src = src, .len = npages * PAGE,
			      .chunk = chunk };
	uint64_t seed;
	double t;
	int err;

	c.uffd = uffd_open(mode == UFFD_CONTINUE ? UFFD_FEATURE_MINOR_SHMEM : 0,
			   wait == UFFD_READ ? 0 : O_NONBLOCK);
	if (c.uffd < 0)
		die("UFFDIO_API: features refused");
	if (mode == UFFD_COPY) {
		c.dst = map_anon(c.len);
		/* 4 KiB pages on both sides: no THP in the way (none without CONFIG_TRANSPARENT_HUGEPAGE) */
		if (madvise(c.dst, c.len, MADV_NOHUGEPAGE) && errno != EINVAL && errno != ENOSYS)
			die("madvise(MADV_NOHUGEPAGE): %s", strerror(errno));
		uffd_register(c.uffd, c.dst, c.len, UFFDIO_REGISTER_MODE_MISSING,
			      1ULL << _UFFDIO_COPY);
	} else {
		c.dst = map_shared(memfd, c.len);
		uffd_register(c.uffd, c.dst, c.len, UFFDIO_REGISTER_MODE_MINOR,
			      1ULL << _UFFDIO_CONTINUE);
	}
	c.quit = map_anon(PAGE);
	uffd_register(c.uffd, c.quit, PAGE, UFFDIO_REGISTER_MODE_MISSING,
		      1ULL << _UFFDIO_ZEROPAGE);
	err = pthread_create(&c.thread, NULL, uffd_pager_main, &c);
	if (err)
		die("pthread_create: %s", strerror(err));

	t = touch(c.dst, npages, &seed, done);

	if (*(volatile char *)c.quit)	/* the pager resolves it and ends */
		die("the quit page is not zero");
	err = pthread_join(c.thread, NULL);
	if (err)
		die("pthread_join: %s", strerror(err));
	*msgs = c.msgs;
	if (*msgs != (*done + per_msg - 1) / per_msg)
		die("%lu uffd messages for %zu pages of %zu per fault", *msgs, *done, per_msg);
	verify(current_what, c.dst, *done, tag, seed);
	uffd_unregister(c.uffd, c.dst, c.len);
	uffd_unregister(c.uffd, c.quit, PAGE);
	sys(munmap(c.dst, c.len), "munmap");
	sys(munmap(c.quit, PAGE), "munmap quit page");
	close(c.uffd);
	return t;
}

static struct result uffd_bench(const char *what, enum uffd_mode mode, enum uffd_wait wait,
				char *src, int memfd, size_t npages, size_t chunk,
				unsigned int tag)
{
	unsigned long msgs = 0, m;
	size_t pages = npages, done;
	double runs[REPS];

	current_what = what;
	for (int r = 0; r < REPS; r++) {
		alarm(WATCHDOG_S);
		runs[r] = uffd_run(mode, wait, src, memfd, npages, chunk, tag, &done, &m) / done;
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

	pin_self(1);

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
	l4_pager_start(&pager, -1, 0, 0);
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
 * FAULT_IPC_ONLY=<row>: that row of section [1] or [3] alone (a profiling
 * aid: run it under `perf record -a`); nothing else. Rows: l4, l4-busy, nospin,
 * copy, copy-read, copy-busy, cont, cont-read, cont-busy, native, refault.
 */
static const char *only;

static int row_wanted(const char *row)
{
	return !only || !strcmp(only, row);
}

/* a uffd row: an operation, a way of waiting, bytes resolved per fault */
struct uffd_row {
	const char *key, *only, *label;
	enum uffd_mode mode;
	enum uffd_wait wait;
	size_t chunk;
};

/*
 * Measure @n uffd rows over @npages pages into @peers and print them (x
 * against @base, if any); the rows @only leaves out stay unmeasured. The
 * COPY source (markers @tag) and the CONTINUE memfd (markers @tag + 1) are
 * made once for all rows.
 */
static void uffd_rows_bench(const struct uffd_row *rows, size_t n, struct peer *peers,
			    size_t npages, unsigned int tag, const struct result *base)
{
	char *usrc = NULL;
	int memfd = -1;

	for (size_t i = 0; i < n; i++) {
		const struct uffd_row *u = &rows[i];
		int cont = u->mode == UFFD_CONTINUE;

		peers[i] = (struct peer){ .key = u->key, .r = { .valid = 0 } };
		if ((u->only && !row_wanted(u->only)) || (cont && !minor_shmem_ok)) {
			print_row(u->label, &peers[i].r, NULL);
			continue;
		}
		if (!cont && !usrc) {
			usrc = map_anon(npages * PAGE);
			fill_markers(usrc, npages, tag);
		}
		if (cont && memfd < 0)
			memfd = populated_memfd(npages, tag + 1);
		peers[i].r = uffd_bench(u->key, u->mode, u->wait, usrc, memfd, npages, u->chunk,
					tag + cont);
		print_row(u->label, &peers[i].r, base);
	}
	if (usrc)
		munmap(usrc, npages * PAGE);
	if (memfd >= 0)
		close(memfd);
}

/* the uffd rows of section [1]: each operation with each way of waiting */
static const struct uffd_row uffd_rows_4k[] = {
	{ "uffd-copy-4K-poll", "copy", "uffd COPY 4 KiB, anon: poll + read",
	  UFFD_COPY, UFFD_POLL, PAGE },
	{ "uffd-copy-4K-read", "copy-read", "uffd COPY 4 KiB, anon: blocking read",
	  UFFD_COPY, UFFD_READ, PAGE },
	{ "uffd-copy-4K-busy", "copy-busy", "uffd COPY 4 KiB, anon: busy-polling read",
	  UFFD_COPY, UFFD_BUSY, PAGE },
	{ "uffd-continue-4K-poll", "cont", "uffd CONTINUE 4 KiB, memfd: poll + read",
	  UFFD_CONTINUE, UFFD_POLL, PAGE },
	{ "uffd-continue-4K-read", "cont-read", "uffd CONTINUE 4 KiB, memfd: blocking read",
	  UFFD_CONTINUE, UFFD_READ, PAGE },
	{ "uffd-continue-4K-busy", "cont-busy", "uffd CONTINUE 4 KiB, memfd: busy read",
	  UFFD_CONTINUE, UFFD_BUSY, PAGE },
};

#define NUFFD4K		(sizeof(uffd_rows_4k) / sizeof(uffd_rows_4k[0]))

/*
 * Section [1]'s rows run interleaved: one run of each row per round,
 * REPS_4K rounds, and each row's best and median over its runs. The
 * shared 2-core test host has slow phases of seconds to minutes in which
 * every row, eventfd's too, runs up to 1.5x slower; rows measured one
 * after the other met different phases (one module's ratio against the
 * fastest uffd row spread 0.38x-0.73x over a day's runs). Interleaved,
 * every row meets every phase.
 */
#define REPS_4K		5

enum row4k_kind { ROW_L4, ROW_L4_BUSY, ROW_L4_NOSPIN, ROW_UFFD };

struct row4k {
	enum row4k_kind kind;
	const char *what, *label;
	const struct uffd_row *u;	/* ROW_UFFD */
	int src;			/* l4 rows: a source space each */
	double runs[REPS_4K];
	size_t pages;
	unsigned long msgs, kfaults;
	double cpu_ns;
	size_t cpu_pages;
};

/* one run of @r, recorded as its @rep-th */
static void row4k_run(struct row4k *r, int rep, size_t npages, char *usrc, int memfd,
		      long spin)
{
	unsigned long msgs, kfaults = (unsigned long)-1;
	double t, cpu0 = touch_cpu_ns;
	size_t pages0 = touch_cpu_pages, done;

	current_what = r->what;
	alarm(WATCHDOG_S);
	if (r->kind == ROW_UFFD) {
		int cont = r->u->mode == UFFD_CONTINUE;

		t = uffd_run(r->u->mode, r->u->wait, usrc, memfd, npages, r->u->chunk,
			     2 + cont, &done, &msgs);
	} else {
		struct l4_pager_ctx pager;

		/* a pager thread per run: a busy one must not poll through other rows */
		l4_pager_start(&pager, r->src, npages * PAGE, r->kind == ROW_L4_BUSY);
		if (r->kind == ROW_L4_NOSPIN)
			check(l4u_param_set("spin_ns", 0), "set l4.ko's spin_ns to 0");
		t = l4_fault_run(&pager, npages, 12, 1, &done, &msgs, &kfaults);
		if (r->kind == ROW_L4_NOSPIN)
			check(l4u_param_set("spin_ns", spin), "set l4.ko's spin_ns back");
		l4_pager_stop(&pager);
	}
	alarm(0);
	r->runs[rep] = t / done;
	if (!rep || done <= r->pages) {
		r->pages = done;
		r->msgs = msgs;
		r->kfaults = kfaults;
	}
	r->cpu_ns += touch_cpu_ns - cpu0;
	r->cpu_pages += touch_cpu_pages - pages0;
}

static struct result row4k_result(struct row4k *r)
{
	struct result res;

	res = summarize_n(r->runs, REPS_4K, r->pages, r->msgs, r->kfaults);
	/* the CPU time of this row's runs, not of the rows interleaved with it */
	res.cpu = r->cpu_pages ? r->cpu_ns / r->cpu_pages : -1;
	if (r->kind != ROW_UFFD)
		print_row(r->label, &res, NULL);
	return res;
}

static void section1(size_t npages)
{
	struct result l4 = { .valid = 0 }, nospin = { .valid = 0 }, busy = { .valid = 0 };
	struct row4k rows[3 + NUFFD4K];
	struct peer uffd[NUFFD4K];
	long spin = spin_get();
	size_t n = 0, i;
	char *usrc = NULL;
	int memfd = -1, rep;

	printf("\n[1] 4 KiB fault round trip (touch -> pager -> map -> resume), %zu pages,\n"
	       "    rows interleaved: %d rounds of one run each\n", npages, REPS_4K);
	print_header(NULL);

	memset(rows, 0, sizeof(rows));
	if (row_wanted("l4"))
		rows[n++] = (struct row4k){ .kind = ROW_L4, .what = "1 l4 REPLY_WAIT 4K",
					    .label = "l4 pager, REPLY_WAIT, 4 KiB map items" };
	/* l4 at its best too: a pager that polls its gate and never sleeps */
	if (row_wanted("l4-busy"))
		rows[n++] = (struct row4k){ .kind = ROW_L4_BUSY,
					    .what = "1 l4 busy REPLY_WAIT 4K",
					    .label = "l4 pager, busy-polling REPLY_WAIT, 4 KiB" };
	/* the same without the faulter's spin before it sleeps */
	if (spin > 0 && row_wanted("nospin"))
		rows[n++] = (struct row4k){ .kind = ROW_L4_NOSPIN,
					    .what = "1 l4 REPLY_WAIT 4K spin_ns=0",
					    .label = "l4 pager, REPLY_WAIT, 4 KiB, spin_ns=0" };
	for (i = 0; i < n; i++)
		rows[i].src = l4_source_space(npages * PAGE, 0, 1);
	for (i = 0; i < NUFFD4K; i++) {
		const struct uffd_row *u = &uffd_rows_4k[i];

		uffd[i] = (struct peer){ .key = u->key, .r = { .valid = 0 } };
		if ((u->only && !row_wanted(u->only)) ||
		    (u->mode == UFFD_CONTINUE && !minor_shmem_ok))
			continue;
		if (u->mode == UFFD_COPY && !usrc) {
			usrc = map_anon(npages * PAGE);
			fill_markers(usrc, npages, 2);
		}
		if (u->mode == UFFD_CONTINUE && memfd < 0)
			memfd = populated_memfd(npages, 3);
		rows[n++] = (struct row4k){ .kind = ROW_UFFD, .what = u->label,
					    .label = u->label, .u = u };
	}

	for (rep = 0; rep < REPS_4K; rep++)
		for (i = 0; i < n; i++)
			row4k_run(&rows[i], rep, npages, usrc, memfd, spin);

	for (i = 0; i < n; i++) {
		struct result res = row4k_result(&rows[i]);

		switch (rows[i].kind) {
		case ROW_L4:
			l4 = res;
			break;
		case ROW_L4_BUSY:
			busy = res;
			break;
		case ROW_L4_NOSPIN:
			nospin = res;
			if (wake_get() >= 0)
				printf("  (its sleeping faulters measured a wake-up: wake_ns=%lld)\n",
				       wake_get());
			break;
		case ROW_UFFD:
			uffd[rows[i].u - uffd_rows_4k].r = res;
			break;
		}
		if (rows[i].kind != ROW_UFFD)
			close(rows[i].src);
	}
	for (i = 0; i < NUFFD4K; i++)
		print_row(uffd_rows_4k[i].label, &uffd[i].r, NULL);
	if (usrc)
		munmap(usrc, npages * PAGE);
	if (memfd >= 0)
		close(memfd);

	if (only)
		return;
	print_vs_fastest("l4", &l4, "uffd", uffd, NUFFD4K);
	print_vs_fastest("l4 spin_ns=0", &nospin, "uffd", uffd, NUFFD4K);
	print_vs_fastest("l4 busy pager", &busy, "uffd", uffd, NUFFD4K);
	print_ratio("l4 / uffd COPY (poll)", &l4, &uffd[0].r);
	print_ratio("l4 / uffd CONTINUE (poll)", &l4, &uffd[3].r);
	if (nospin.valid) {
		print_ratio("l4 spin_ns=0 / uffd COPY (poll)", &nospin, &uffd[0].r);
		print_ratio("l4 spin_ns=0 / uffd CONTINUE (poll)", &nospin, &uffd[3].r);
	}
	goal_fastest("fault-4K-round-trip", &l4, "uffd", uffd, NUFFD4K, 0.6);
}

/*
 * Transparent huge pages for shmem (memfd): the first touch of an aligned
 * 2 MiB block allocates a huge page, mapped by one PMD. Debian's kernels
 * ship shmem_enabled=never; the THP row sets it to "always" and puts the
 * old value back after it (and at exit).
 */
#define THP_SHMEM	"/sys/kernel/mm/transparent_hugepage/shmem_enabled"

static char thp_saved[32];	/* the value to put back, "" when nothing changed */

/* write @v to shmem_enabled: 0 or -errno (async-signal-safe: on_alarm uses it) */
static int thp_shmem_set(const char *v)
{
	int fd = open(THP_SHMEM, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, v, strlen(v)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static void thp_shmem_restore(void)
{
	if (*thp_saved && !thp_shmem_set(thp_saved))
		*thp_saved = 0;
}

/* shmem_enabled := always, the old value saved; NULL or why THP cannot be had */
static const char *thp_shmem_always(void)
{
	char buf[128], *l, *r;
	FILE *f = fopen(THP_SHMEM, "r");

	if (!f)
		return "no " THP_SHMEM;
	l = fgets(buf, sizeof(buf), f);
	fclose(f);
	/* "always within_size advise [never] deny force": the bracketed one is set */
	if (!l || !(l = strchr(buf, '[')) || !(r = strchr(l, ']')) ||
	    (size_t)(r - l) >= sizeof(thp_saved))
		return "unreadable " THP_SHMEM;
	memcpy(thp_saved, l + 1, r - l - 1);
	thp_saved[r - l - 1] = 0;
	if (thp_shmem_set("always")) {
		*thp_saved = 0;
		return "cannot write " THP_SHMEM " (not root?)";
	}
	return NULL;
}

/* bytes the last shmem_first_touch() found mapped by PMDs */
static long long shmem_pmd_bytes;

/*
 * shmem first touch: a fresh memfd, every page touched once; @thp: with
 * MADV_HUGEPAGE (and shmem_enabled=always set by the caller).
 */
static struct result shmem_first_touch(const char *what, size_t npages, int thp)
{
	size_t len = npages * PAGE;
	size_t pages = npages, done;
	double runs[REPS];
	uint64_t seed;

	current_what = what;
	shmem_pmd_bytes = 0;
	for (int r = 0; r < REPS; r++) {
		int fd = sys(memfd_create("fault_ipc-floor", MFD_CLOEXEC), "memfd_create");
		char *p;

		alarm(WATCHDOG_S);
		sys(ftruncate(fd, len), "ftruncate");
		p = map_shared(fd, len);
		/* shmem_enabled=always does it alone where madvise(2) is not built in */
		if (thp && madvise(p, len, MADV_HUGEPAGE) && errno != EINVAL && errno != ENOSYS)
			die("madvise(MADV_HUGEPAGE): %s", strerror(errno));
		runs[r] = touch(p, npages, &seed, &done) / done;
		shmem_pmd_bytes = pmd_mapped(p);
		verify(current_what, p, done, 0, seed);
		if (done < pages)
			pages = done;
		sys(munmap(p, len), "munmap");
		close(fd);
		alarm(0);
	}
	return summarize(runs, pages, 0, (unsigned long)-1);
}

/*
 * uffd peers of section [2]: per 4 KiB (the kind of l4's 4 KiB flexpages),
 * per 2 MiB (l4's 2 MiB flexpages), 2 MiB CONTINUE (the peer) in
 * each way of waiting
 */
static const struct uffd_row uffd_rows_2m[] = {
	{ "uffd-copy-4K-poll", NULL, "uffd COPY 4 KiB per fault, anon",
	  UFFD_COPY, UFFD_POLL, PAGE },
	{ "uffd-continue-4K-poll", NULL, "uffd CONTINUE 4 KiB per fault, memfd",
	  UFFD_CONTINUE, UFFD_POLL, PAGE },
	{ "uffd-copy-2M-poll", NULL, "uffd COPY 2 MiB per fault (1 msg per 2 MiB)",
	  UFFD_COPY, UFFD_POLL, HUGE },
	{ "uffd-continue-2M-poll", NULL, "uffd CONTINUE 2 MiB per fault, memfd",
	  UFFD_CONTINUE, UFFD_POLL, HUGE },
	{ "uffd-continue-2M-read", NULL, "uffd CONTINUE 2 MiB, memfd: blocking read",
	  UFFD_CONTINUE, UFFD_READ, HUGE },
	{ "uffd-continue-2M-busy", NULL, "uffd CONTINUE 2 MiB, memfd: busy read",
	  UFFD_CONTINUE, UFFD_BUSY, HUGE },
};

#define NUFFD2M		(sizeof(uffd_rows_2m) / sizeof(uffd_rows_2m[0]))
#define U4K		0	/* the 4 KiB rows of uffd_rows_2m: [U4K, U2M) */
#define U2M		2	/* the 2 MiB rows: [U2M, NUFFD2M) */
#define UCONT2M		3	/* the 2 MiB CONTINUE rows: [UCONT2M, NUFFD2M) */

/* the newest kernel of the test bed (7.3) or a later one: @major.@minor or above */
static int kernel_at_least(int major, int minor)
{
	struct utsname u;
	int ma, mi;

	return !uname(&u) && sscanf(u.release, "%d.%d", &ma, &mi) == 2 &&
	       (ma > major || (ma == major && mi >= minor));
}

static int have_superpages;	/* the module has L4_FEAT_SUPERPAGES */

static void section2(size_t mib)
{
	size_t npages = mib * MIB / PAGE;
	uint32_t sflags = have_superpages ? L4_SPACE_SUPERPAGES : 0;
	struct result floor, l4_2m, l4_2m_rd, l4_2m_fa, l4_4k;
	struct peer native[2], uffd[NUFFD2M];
	long long l4_pmd_bytes;
	struct l4_space_info info;
	struct l4_pager_ctx pager;
	const char *no_thp, *why;
	int src;
	char what[96];
	uint64_t nodes_2m;
	int newest = kernel_at_least(7, 3);

	printf("\n[2] sequential first touch of %zu MiB (%zu pages), ns per 4 KiB page\n",
	       mib, npages);
	print_header("vs floor");

	floor = shmem_first_touch("2 shmem first touch", npages, 0);
	print_row("floor: shmem (memfd) first-touch faults", &floor, NULL);
	native[0] = (struct peer){ .key = "shmem-4K", .r = floor };

	native[1] = (struct peer){ .key = "shmem-thp", .r = { .valid = 0 } };
	no_thp = thp_shmem_always();
	if (!no_thp) {
		snprintf(what, sizeof(what), "%s", thp_saved);
		native[1].r = shmem_first_touch("2 shmem THP first touch", npages, 1);
		thp_shmem_restore();
	}
	print_row("shmem THP first touch (shmem_enabled=always)", &native[1].r, &floor);
	if (no_thp)
		printf("  (no THP row: %s)\n", no_thp);
	else
		printf("  (THP: %lld of %zu MiB mapped by PMDs; shmem_enabled put back to %s)\n",
		       shmem_pmd_bytes >> 20, mib, what);

	src = l4_source_space(mib * MIB, sflags, 4);
	check(l4u_space_info(src, &info), "L4_IOC_SPACE_INFO (source)");
	printf("  (l4: the pager's sigma0 space %s L4_SPACE_SUPERPAGES (module %s "
	       "L4_FEAT_SUPERPAGES): %llu superpages in it, %llu in the module; windows "
	       "2 MiB-aligned)\n", sflags ? "with" : "without", have_superpages ? "has" : "lacks",
	       (unsigned long long)info.superpages,
	       (unsigned long long)l4_stats_now().superpages);
	l4_pager_start(&pager, src, mib * MIB, 0);
	l4_2m = l4_fault_bench("2 l4 REPLY_WAIT 2M", &pager, npages, 21, 4);
	l4_pmd_bytes = l4_run_pmd_bytes;
	nodes_2m = l4_run_nodes;
	print_row("l4 pager, 2 MiB flexpages (1 msg per 2 MiB)", &l4_2m, &floor);
	printf("  (l4 2 MiB: %lld of %zu MiB of the client's window mapped by PMDs, "
	       "%llu entries in the client space)\n", l4_pmd_bytes >> 20, mib,
	       (unsigned long long)nodes_2m);
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

	uffd_rows_bench(uffd_rows_2m, NUFFD2M, uffd, npages, 5, &floor);

	print_vs_fastest("l4 2 MiB", &l4_2m, "uffd 2M", uffd + U2M, NUFFD2M - U2M);
	print_vs_fastest("l4 2 MiB", &l4_2m, "uffd CONTINUE 2M", uffd + UCONT2M,
			 NUFFD2M - UCONT2M);
	print_vs_fastest("l4 2 MiB", &l4_2m, "native", native, 2);
	print_vs_fastest("l4 2 MiB reads", &l4_2m_rd, "native", native, 2);
	print_vs_fastest("l4 2 MiB reads, fault-around", &l4_2m_fa, "native", native, 2);
	print_vs_fastest("l4 4 KiB flexpages", &l4_4k, "uffd 4K", uffd + U4K, U2M - U4K);
	print_ratio("l4 2 MiB reads, fault-around / reads", &l4_2m_fa, &l4_2m_rd);
	print_ratio("l4 2 MiB / uffd COPY 4K", &l4_2m, &uffd[U4K].r);
	print_ratio("l4 2 MiB / uffd COPY 2M", &l4_2m, &uffd[U2M].r);
	print_ratio("l4 2 MiB / uffd CONTINUE 2M (poll)", &l4_2m, &uffd[UCONT2M].r);

	/* issue 14: against uffd CONTINUE of 2 MiB at its best, and shmem THP */
	snprintf(what, sizeof(what), "first-touch-%zuM-2M-fpage/uffd-continue-2M", mib);
	print_goal(what, &l4_2m, fastest_result(uffd + UCONT2M, NUFFD2M - UCONT2M),
		   newest ? 1.0 : 2.0, NULL);
	why = newest || l4_pmd_bytes > 0 ? NULL : "l4's windows use no PMDs on this kernel";
	if (!why && !native[1].r.valid)
		why = no_thp;
	snprintf(what, sizeof(what), "first-touch-%zuM-2M-fpage/shmem-thp", mib);
	print_goal(what, &l4_2m, &native[1].r, 1.0, why);
	/* issue 4 */
	snprintf(what, sizeof(what), "first-touch-%zuM-2M-fpage/shmem-4K", mib);
	print_goal(what, &l4_2m, &floor, 2.0, NULL);
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
	src = l4_source_space(len, 0, 8);
	client = check(l4u_space_create(dev, len, 0, 0, NULL), "create client space");
	check(l4u_map(client, src, L4_FPAGE(0, __builtin_ctzl(len), L4_FPAGE_RW), 0, 0,
		      L4_FPAGE_WHOLE_SPACE, &dst, &pages), "L4_IOC_MAP");
	if (dst != 0 || pages != npages)
		die("L4_IOC_MAP: %llu pages at %#llx, expected %zu at 0",
		    (unsigned long long)pages, (unsigned long long)dst, npages);
	win = window_open(client, 0, len);
	l4_mapped = refault_bench("3 l4 refault (mapped)", win, client, npages, 8, 1);
	print_row("l4 window, pages mapped from another space", &l4_mapped, &native);
	window_close(win, len);
	close(client);

	/* the sigma0 space itself */
	swin = window_open(src, 0, len);
	l4_sigma0 = refault_bench("3 l4 refault (sigma0)", swin, src, npages, 8, 1);
	print_row("l4 window, sigma0 space's own pages", &l4_sigma0, &native);
	window_close(swin, len);
	close(src);

	printf("  (PTEs zapped by %s)\n", zap_how);
	/* issue 4 */
	print_goal("refault-mapped/shmem-minor", &l4_mapped, &native, 1.5, NULL);
	print_goal("refault-sigma0/shmem-minor", &l4_sigma0, &native, 1.5, NULL);
}

int main(int argc, char **argv)
{
	size_t npages = argc > 1 ? strtoul(argv[1], NULL, 0) : 2000;
	size_t mib = argc > 2 ? strtoul(argv[2], NULL, 0) : 64;
	double budget_s = argc > 3 ? strtod(argv[3], NULL) : 1.5;
	struct sigaction sa = { .sa_handler = on_alarm };
	struct l4_version ver;
	struct utsname uts;
	struct l4_stats st;
	char buf[32] = "?";
	FILE *f;
	int fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!npages || !mib || mib % 2 || (mib & (mib - 1)) || !(budget_s > 0))
		die("usage: fault_ipc [pages [MiB, a power of two >= 2 [seconds per run]]]");
	run_budget_ns = budget_s * 1e9;
	sigaction(SIGALRM, &sa, NULL);
	pin_cpus = sysconf(_SC_NPROCESSORS_ONLN) >= 2;
	pin_self(0);
	dev = check(l4u_open(), "open " L4_DEVICE_PATH);
	check(l4u_version(dev, &ver), "L4_IOC_VERSION");
	if (!(ver.features & L4_FEAT_IPC))
		die("the module lacks L4_FEAT_IPC (features %#llx)",
		    (unsigned long long)ver.features);
	have_superpages = !!(ver.features & L4_FEAT_SUPERPAGES);
	atexit(thp_shmem_restore);

	f = fopen("/proc/sys/vm/unprivileged_userfaultfd", "r");
	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			strcpy(buf, "?");
		buf[strcspn(buf, "\n")] = 0;
		fclose(f);
	}
	fd = uffd_open(UFFD_FEATURE_MINOR_SHMEM, 0);
	minor_shmem_ok = fd >= 0;
	if (fd >= 0)
		close(fd);
	printf("fault_ipc: l4 ABI %u.%u, euid %d, vm.unprivileged_userfaultfd=%s "
	       "(irrelevant as root), UFFD_FEATURE_MINOR_SHMEM %s\n", ver.major, ver.minor,
	       (int)geteuid(), buf, minor_shmem_ok ? "yes" : "NO: CONTINUE rows skipped");
	if (uname(&uts))
		strcpy(uts.release, "?");
	printf("fault_ipc: kernel %s: 2 MiB first touch limit %.1fx of uffd CONTINUE 2 MiB "
	       "(1.0x from 7.3 on, the newest kernel of the test bed; 2.0x before)\n",
	       uts.release, kernel_at_least(7, 3) ? 1.0 : 2.0);
	printf("fault_ipc: every touch is an 8-byte store; pagers are threads of this process%s; "
	       "best/median of %d runs (section [1]: %d, interleaved)\n",
	       pin_cpus ? " on CPU 1, the faulter on CPU 0" : "", REPS, REPS_4K);
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
