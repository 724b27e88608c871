// SPDX-License-Identifier: MIT
/*
 * mapdb benchmark: cost of map and unmap per page for 4 KiB and 2 MiB
 * flexpages, and of revocation per node for trees of 1e3, 1e4 and 1e5
 * nodes (a wide tree: one page mapped into n pages of another space, and a
 * deep one: chains of depth 250). Revocation must stay linear: the
 * per-node cost column should stay flat as the tree grows.
 *
 * Run it in a guest (make bench); absolute times under TCG mean little,
 * the ratios between rows of one run do.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <l4u/l4u.h>

#define MIB		(1ULL << 20)

static int dev;

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

/* A sigma0 space of @size with every page touched. */
static int touched_space(uint64_t size)
{
	char *win;
	int space = l4u_space_create(dev, size, L4_SPACE_SIGMA0, 0, NULL);

	check(space, "create sigma0 space");
	check(l4u_window_open(space, 0, size, PROT_READ | PROT_WRITE, NULL, (void **)&win),
	      "window");
	for (uint64_t off = 0; off < size; off += 4096)
		win[off] = 1;
	l4u_window_close(win, size);
	return space;
}

/* map + unmap of @rounds fpages of @order each: ns per page. */
static void bench_map(unsigned int order, unsigned int rounds)
{
	uint64_t size = 1ULL << order, pages, total = 0;
	int src = touched_space(size);
	int dst = l4u_space_create(dev, size, 0, 0, NULL);
	double t_map = 0, t_unmap = 0, t;

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
	printf("%-28s %10llu pages  map %8.0f ns/page  unmap %8.0f ns/page\n",
	       order == 12 ? "map/unmap 4 KiB fpages" : "map/unmap 2 MiB fpages",
	       (unsigned long long)total, t_map / total, t_unmap / total);
	close(dst);
	close(src);
}

/* Revoke a tree of @nodes nodes; wide: one level, deep: chains of 250. */
static double bench_revoke(unsigned long nodes, int deep)
{
	uint64_t size = (uint64_t)(nodes + 1) * 4096, revoked;
	int src = touched_space(4096);
	int dst = l4u_space_create(dev, 1ULL << 40, 0, 0, NULL);
	unsigned long made = 0, chain = 250;
	double t;

	(void)size;
	check(dst, "create space");
	while (made < nodes) {
		/* the first link of a chain (or every node of a wide tree) */
		check(l4u_map(dst, src, L4_FPAGE(0, 12, L4_FPAGE_RW), 0, 0,
			      L4_FPAGE(made * 4096, 12, 0), NULL, NULL), "map");
		made++;
		for (unsigned long d = 1; deep && d < chain && made < nodes; d++, made++)
			check(l4u_map(dst, dst, L4_FPAGE((made - 1) * 4096, 12, L4_FPAGE_RW),
				      0, 0, L4_FPAGE(made * 4096, 12, 0), NULL, NULL),
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

int main(void)
{
	static const unsigned long sizes[] = { 1000, 10000, 100000 };
	double base_wide = 0, base_deep = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	dev = l4u_open();
	check(dev, "open /dev/l4");

	bench_map(12, 2000);
	bench_map(21, 8);
	for (unsigned int i = 0; i < 3; i++) {
		double wide = bench_revoke(sizes[i], 0);
		double deep = bench_revoke(sizes[i], 1);

		if (!i) {
			base_wide = wide;
			base_deep = deep;
		}
		printf("revoke %6lu nodes  wide %8.0f ns/node (x%.2f of 1e3)  "
		       "deep(250) %8.0f ns/node (x%.2f of 1e3)\n", sizes[i],
		       wide, wide / base_wide, deep, deep / base_deep);
	}
	return 0;
}
