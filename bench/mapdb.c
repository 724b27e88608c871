// SPDX-License-Identifier: MIT
/*
 * mapdb benchmark.
 *
 * [map]      cost of map and unmap per page for 4 KiB and 2 MiB flexpages;
 * [revoke]   cost of revocation per node for trees of 1e3, 1e4 and 1e5
 *            nodes (a wide tree: one page mapped into n pages of another
 *            space, and a deep one: chains of depth 250). Revocation must
 *            stay linear: the per-node cost should stay flat as the tree
 *            grows.
 * [metadata] what the module's objects cost in memory, read from the
 *            kernel (/proc/meminfo: Slab, SUnreclaim, PageTables) and not
 *            from sizeof: the growth per frame (a sigma0 space touched
 *            through a window), per derived mapping (frames of that space
 *            mapped again and again into one huge client space, 1e5 and
 *            1e6 times: many mappings from few frames), per mapping a
 *            window shows (PageTables), and mapping-database entries per
 *            aligned 2 MiB mapping (the module's `nodes` counter). With
 *            L4_FEAT_SUPERPAGES the same for 2 MiB frames and mappings.
 *            Before each reading the caches are dropped, empty slabs
 *            shrunk and the counters left to settle (RCU frees); the whole
 *            section runs twice and the goals take the second pass.
 *
 * Rows are "  <label, 44 columns> <number> <unit> ...", goal lines as in
 * bench.h. Run it in a guest (make bench); absolute times under TCG mean
 * little, the ratios between rows of one run do; the memory figures are
 * exact counts of the kernel.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <l4u/l4u.h>

#include "bench.h"

#define PAGE		4096ULL
#define HUGE		(1ULL << L4_SUPERPAGE_ORDER)
#define MIB		(1ULL << 20)

static int dev;
static int have_superpages;	/* the module has L4_FEAT_SUPERPAGES */

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void check(int ret, const char *what)
{
	if (ret < 0) {
		fprintf(stderr, "mapdb-bench: %s: %s\n", what, strerror(-ret));
		exit(1);
	}
}

static void die(const char *what)
{
	fprintf(stderr, "mapdb-bench: %s\n", what);
	exit(1);
}

static struct l4_stats stats(void)
{
	struct l4_stats st;

	check(l4u_stats(dev, &st), "L4_IOC_STATS");
	return st;
}

/*
 * A window onto @space from @addr placed 2 MiB-aligned relative to it, so
 * that a superpage can be mapped by one PMD: reserve len + 4 MiB, map over
 * the aligned start, give back the rest.
 */
static char *window_open(int space, uint64_t addr, size_t len)
{
	size_t span = len + 2 * HUGE;
	uintptr_t res, start;
	void *p;

	p = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die("mmap: reserving room for a window");
	res = (uintptr_t)p;
	start = ((res + HUGE - 1) & ~(HUGE - 1)) + (addr & (HUGE - 1));
	p = mmap((void *)start, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, space,
		 (off_t)addr);
	if (p == MAP_FAILED)
		die("mmap: window");
	if (start > res)
		munmap((void *)res, start - res);
	if (res + span > start + len)
		munmap((void *)(start + len), res + span - (start + len));
	return p;
}

/* A sigma0 space of @size (L4_SPACE_* @flags besides), one word written every @step. */
static int touched_space(uint64_t size, uint32_t flags, uint64_t step)
{
	int space = l4u_space_create(dev, size, L4_SPACE_SIGMA0 | flags, 0, NULL);
	char *win;

	check(space, "create sigma0 space");
	win = window_open(space, 0, size);
	for (uint64_t off = 0; off < size; off += step)
		win[off] = 1;
	l4u_window_close(win, size);
	return space;
}

/* ------------------------------------------------------------------ */
/* [map], [revoke]                                                     */
/* ------------------------------------------------------------------ */

/* map + unmap of @rounds fpages of @order each: ns per page. */
static void bench_map(unsigned int order, unsigned int rounds)
{
	uint64_t size = 1ULL << order, pages, total = 0;
	int src = touched_space(size, 0, PAGE);
	int dst = l4u_space_create(dev, size, 0, 0, NULL);
	double t_map = 0, t_unmap = 0, t;
	const char *what = order == 12 ? "4 KiB" : "2 MiB";
	char label[64];

	check(dst, "create space");
	for (unsigned int i = 0; i < rounds; i++) {
		t = now_ns();
		check(l4u_map(dst, src, L4_FPAGE(0, order, L4_FPAGE_RW), 0, 0,
			      L4_FPAGE_WHOLE_SPACE, NULL, &pages), "map");
		t_map += now_ns() - t;
		total += pages;
		t = now_ns();
		check(l4u_unmap(src, L4_FPAGE(0, order, L4_FPAGE_RWX), 0, NULL, NULL),
		      "unmap");
		t_unmap += now_ns() - t;
	}
	snprintf(label, sizeof(label), "map %s fpages (%llu pages)", what,
		 (unsigned long long)total);
	printf("  %-44s %10.0f ns/page\n", label, t_map / total);
	snprintf(label, sizeof(label), "unmap %s fpages (%llu pages)", what,
		 (unsigned long long)total);
	printf("  %-44s %10.0f ns/page\n", label, t_unmap / total);
	close(dst);
	close(src);
}

/* Revoke a tree of @nodes nodes; wide: one level, deep: chains of 250. */
static double bench_revoke(unsigned long nodes, int deep)
{
	int src = touched_space(PAGE, 0, PAGE);
	int dst = l4u_space_create(dev, 1ULL << 40, 0, 0, NULL);
	unsigned long made = 0, chain = 250;
	uint64_t revoked;
	double t;

	check(dst, "create space");
	while (made < nodes) {
		/* the first link of a chain (or every node of a wide tree) */
		check(l4u_map(dst, src, L4_FPAGE(0, 12, L4_FPAGE_RW), 0, 0,
			      L4_FPAGE(made * PAGE, 12, 0), NULL, NULL), "map");
		made++;
		for (unsigned long d = 1; deep && d < chain && made < nodes; d++, made++)
			check(l4u_map(dst, dst, L4_FPAGE((made - 1) * PAGE, 12, L4_FPAGE_RW),
				      0, 0, L4_FPAGE(made * PAGE, 12, 0), NULL, NULL),
			      "map chain");
	}
	t = now_ns();
	check(l4u_unmap(src, L4_FPAGE(0, 12, L4_FPAGE_RWX), 0, &revoked, NULL), "unmap");
	t = now_ns() - t;
	if (revoked != nodes) {
		fprintf(stderr, "mapdb-bench: revoked %llu of %lu nodes\n",
			(unsigned long long)revoked, nodes);
		exit(1);
	}
	close(dst);
	close(src);
	return t / nodes;
}

static void section_revoke(void)
{
	static const unsigned long sizes[] = { 1000, 10000, 100000 };
	double base[2] = { 0, 0 };

	printf("\n[revoke] revocation cost per node; (xN) = against 1e3 nodes\n");
	for (unsigned int i = 0; i < 3; i++) {
		for (int deep = 0; deep < 2; deep++) {
			double t = bench_revoke(sizes[i], deep);
			char label[64];

			if (!i)
				base[deep] = t;
			snprintf(label, sizeof(label), "revoke %lu nodes, %s", sizes[i],
				 deep ? "deep (chains of 250)" : "wide");
			printf("  %-44s %10.0f ns/node  (x%.2f)\n", label, t, t / base[deep]);
		}
	}
}

/* ------------------------------------------------------------------ */
/* [metadata]                                                          */
/* ------------------------------------------------------------------ */

/* the /proc/meminfo fields read, in bytes */
struct mem {
	long long slab, sunreclaim, pagetables;
};

static struct mem meminfo(void)
{
	struct mem m = { -1, -1, -1 };
	char line[128];
	long long kb;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		die("cannot read /proc/meminfo");
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Slab: %lld kB", &kb) == 1)
			m.slab = kb << 10;
		else if (sscanf(line, "SUnreclaim: %lld kB", &kb) == 1)
			m.sunreclaim = kb << 10;
		else if (sscanf(line, "PageTables: %lld kB", &kb) == 1)
			m.pagetables = kb << 10;
	}
	fclose(f);
	if (m.slab < 0 || m.sunreclaim < 0 || m.pagetables < 0)
		die("/proc/meminfo lacks Slab, SUnreclaim or PageTables");
	return m;
}

/* write @s to @path; quietly nothing where that is not allowed (not root) */
static void put(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	if (write(fd, s, strlen(s)) < 0) {
		/* not every cache can be shrunk: that is all right */
	}
	close(fd);
}

/*
 * Let the counters settle before a reading: drop the reclaimable caches,
 * give empty slabs back (SLUB's shrink of every cache), and wait until
 * Slab stays put for a while (RCU frees of what was just released).
 */
static struct mem settle(void)
{
	struct mem m = meminfo(), prev;
	DIR *d;

	for (int tries = 0; tries < 40; tries++) {
		struct dirent *e;

		put("/proc/sys/vm/drop_caches", "2");
		d = opendir("/sys/kernel/slab");
		while (d && (e = readdir(d))) {
			char path[512];

			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/sys/kernel/slab/%s/shrink", e->d_name);
			put(path, "1");
		}
		if (d)
			closedir(d);
		usleep(250000);
		prev = m;
		m = meminfo();
		if (tries && llabs(m.slab - prev.slab) <= 16 << 10)
			break;
	}
	return m;
}

/* one row of [metadata]: the growth from @a to @b over @n objects */
struct growth {
	double slab, sunreclaim, pagetables, nodes;	/* per object */
};

static struct growth meta_row(const char *label, unsigned long long n, struct mem a,
			      struct mem b, long long nodes)
{
	struct growth g = {
		.slab = (double)(b.slab - a.slab) / n,
		.sunreclaim = (double)(b.sunreclaim - a.sunreclaim) / n,
		.pagetables = (double)(b.pagetables - a.pagetables) / n,
		.nodes = (double)nodes / n,
	};

	printf("  %-44s %10.1f B  %10.1f B  %10.1f B  %8.2f  %9llu\n", label, g.slab,
	       g.sunreclaim, g.pagetables, g.nodes, n);
	return g;
}

/*
 * Frames: a sigma0 space of @nframes frames of 2^@order bytes, touched once
 * per frame through a window that is closed again. The space is returned
 * in *@space (the source of the derived mappings).
 */
static struct growth meta_frames(const char *label, unsigned long nframes, unsigned int order,
				 int *space)
{
	uint32_t flags = order > 12 ? L4_SPACE_SUPERPAGES : 0;
	struct l4_stats s0, s1;
	struct mem a, b;

	a = settle();
	s0 = stats();
	*space = touched_space((uint64_t)nframes << order, flags, 1ULL << order);
	b = settle();
	s1 = stats();
	if (order > 12 && s1.superpages - s0.superpages != nframes)
		printf("  (%llu of %lu 2 MiB blocks got a superpage; the rest 4 KiB frames)\n",
		       (unsigned long long)(s1.superpages - s0.superpages), nframes);
	return meta_row(label, nframes, a, b, (long long)(s1.nodes - s0.nodes));
}

/*
 * Derived mappings: fpages of 2^@chunk bytes from @src (of @src_size bytes,
 * cycled through) mapped into one client space of L4_SPACE_MAX_SIZE, each
 * at its own address, until at least @want mappings of 2^@order bytes
 * exist. With @window, a window over the first @window bytes of the client
 * is touched once per mapping afterwards (its page tables), a row of its
 * own. The client goes away at the end.
 */
static struct growth meta_derived(const char *label, int src, uint64_t src_size,
				  unsigned int chunk, unsigned int order, unsigned long want,
				  uint64_t window)
{
	uint64_t per_call = 1ULL << (chunk - order), made = 0, k, pages;
	int client = l4u_space_create(dev, L4_SPACE_MAX_SIZE, 0, 0, NULL);
	struct l4_stats s0, s1;
	struct growth g;
	struct mem a, b;
	char row[96];

	check(client, "create client space");
	a = settle();
	s0 = stats();
	for (k = 0; made < want; k++) {
		uint64_t from = (k << chunk) % src_size;

		check(l4u_map(client, src, L4_FPAGE(from, chunk, L4_FPAGE_RW), from, 0,
			      L4_FPAGE(k << chunk, chunk, 0), NULL, &pages), "map");
		/* in 4 KiB pages, or in entries of 2^order bytes */
		if (pages != 1ULL << (chunk - 12) && pages != per_call)
			die("a map did not map the whole fpage");
		made += per_call;
	}
	b = settle();
	s1 = stats();
	g = meta_row(label, made, a, b, (long long)(s1.nodes - s0.nodes));
	if (window) {
		uint64_t n = window >> order;
		char *win = window_open(client, 0, window);

		a = b;
		for (uint64_t i = 0; i < n; i++)
			(void)*(volatile char *)(win + (i << order));
		b = settle();
		snprintf(row, sizeof(row), "  a window over %llu of them, touched",
			 (unsigned long long)n);
		meta_row(row, n, a, b, 0);
		l4u_window_close(win, window);
	}
	close(client);
	return g;
}

static void meta_header(int pass)
{
	printf("\n[metadata, pass %d of 2] growth per object: /proc/meminfo and the module's "
	       "nodes\n", pass);
	printf("  %-44s %12s  %12s  %12s  %8s  %9s\n", "", "Slab", "SUnreclaim", "PageTables",
	       "entries", "objects");
}

/* the figures the goals take */
struct meta {
	struct growth frame4k, map4k, map2m;
	const char *map4k_n;	/* "1e6", or "1e5" when 1e6 would take too long */
	int map2m_super;	/* map2m is from superpage frames */
};

/*
 * Limits on time: on the debug kernels (lockdep, kmemleak, KASAN) a mapping
 * costs 30-50 times what it does on 6.1, and the guest gives one program
 * 240 s; there the 1e6 rows are left out when the 1e5 row (with its window)
 * took longer than META_STEP_NS, and the second pass when the first took
 * longer than META_PASS_NS. On 6.1 they take about 3 and 25 s.
 */
#define META_STEP_NS	15e9
#define META_PASS_NS	60e9

static struct meta section_metadata(int pass)
{
	const unsigned long nframes = 32768, nsuper = 64;	/* 128 MiB each */
	struct meta r = { .map4k_n = "1e5", .map2m_super = 0 };
	int src, big;
	double t;

	meta_header(pass);
	r.frame4k = meta_frames("4 KiB frames (sigma0, touched once each)", nframes, 12, &src);
	/* 4 MiB fpages: 1024 mappings a call */
	t = now_ns();
	r.map4k = meta_derived("derived 4 KiB mappings, 1e5", src, nframes * PAGE, 22, 12,
			       100000, 100000 * PAGE);
	big = now_ns() - t < META_STEP_NS;
	if (big) {
		r.map4k = meta_derived("derived 4 KiB mappings, 1e6", src, nframes * PAGE, 22,
				       12, 1000000, 0);
		r.map4k_n = "1e6";
	} else {
		printf("  (no 1e6 rows: the 1e5 row alone took %.0f s)\n", (now_ns() - t) / 1e9);
	}
	/* 2 MiB flexpages out of 4 KiB frames: 64 of them (entries per mapping) */
	r.map2m = meta_derived("2 MiB mappings of 4 KiB frames", src, nframes * PAGE, 21, 21,
			       64, 0);
	close(src);
	if (!have_superpages) {
		printf("  (no 2 MiB frames: the module lacks L4_FEAT_SUPERPAGES)\n");
		return r;
	}
	meta_frames("2 MiB frames (superpages), per frame", nsuper, 21, &src);
	/* 128 MiB fpages: 64 superpage mappings a call */
	r.map2m = meta_derived("derived 2 MiB mappings, 1e5", src, nsuper * HUGE, 27, 21,
			       100000, 256 * HUGE);
	if (big)
		r.map2m = meta_derived("derived 2 MiB mappings, 1e6", src, nsuper * HUGE, 27,
				       21, 1000000, 0);
	r.map2m_super = 1;
	close(src);
	return r;
}

int main(void)
{
	struct l4_version ver;
	char what[64];
	struct meta m;
	double t;

	setvbuf(stdout, NULL, _IOLBF, 0);
	dev = l4u_open();
	check(dev, "open /dev/l4");
	check(l4u_version(dev, &ver), "L4_IOC_VERSION");
	have_superpages = !!(ver.features & L4_FEAT_SUPERPAGES);
	printf("mapdb: l4 ABI %u.%u, %s L4_FEAT_SUPERPAGES\n", ver.major, ver.minor,
	       have_superpages ? "with" : "without");

	printf("\n[map] map and unmap cost per page\n");
	bench_map(12, 2000);
	bench_map(21, 8);
	section_revoke();

	t = now_ns();
	m = section_metadata(1);
	if (now_ns() - t < META_PASS_NS)
		m = section_metadata(2);
	else
		printf("  (no second pass: the first took %.0f s; the goals take it)\n",
		       (now_ns() - t) / 1e9);
	printf("\n");
	snprintf(what, sizeof(what), "metadata-per-derived-4K-mapping(%s)", m.map4k_n);
	bench_goal(what, m.map4k.slab, 48, "%.1fB", NULL);
	bench_goal("metadata-per-4K-frame", m.frame4k.slab, 96, "%.1fB", NULL);
	bench_goal(m.map2m_super ? "entries-per-2M-mapping" :
		   "entries-per-2M-mapping(4K-frames)", m.map2m.nodes, 1, "%.2f", NULL);
	return 0;
}
