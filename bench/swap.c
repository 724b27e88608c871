// SPDX-License-Identifier: MIT
/*
 * swap benchmark: the swapping anonymous manager (l4u-dsm-anon --policy
 * fifo --swap FILE, docs/swapping.md) under a task with a region manager.
 *
 * A dataspace of 4x the manager's frames is written page by page, twice,
 * then read once:
 *   1. first touch while the pool has room: fault -> region manager ->
 *      MAP (a zero frame)
 *   2. first touch with a full pool: the same plus an eviction (revoke +
 *      pwrite of 4 KiB to the swap file)
 *   3. second pass: eviction + swap-out + swap-in (pread) per fault
 *   4. a read pass: the same (the region is writable, so evicted pages are
 *      written out again: docs/swapping.md, dirtiness)
 * and, beside it, a pinned manager's dataspace read after warm-up (no
 * fault at all). Prints microseconds per page and the manager's counters.
 *
 * Usage: swap [frames] (default 1024: 4 MiB pool, 16 MiB dataspace)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <l4u/l4u.h>
#include <l4u/dataspace.h>
#include <l4u/rm.h>
#include <l4u/task.h>

#define PG	4096UL

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static pid_t start(const char *sock, const char *frames, int pinned)
{
	pid_t pid = fork();
	int i;

	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (pinned)
			execlp("l4u-dsm-anon", "l4u-dsm-anon", "--socket", sock,
			       "--frames", frames, "--pinned", (char *)NULL);
		else
			execlp("l4u-dsm-anon", "l4u-dsm-anon", "--socket", sock,
			       "--frames", frames, "--policy", "fifo", "--swap",
			       "/tmp/bench-swap", (char *)NULL);
		perror("exec l4u-dsm-anon");
		_exit(127);
	}
	for (i = 0; i < 500 && pid > 0; i++) {
		if (!l4u_dsm_ping(sock))
			return pid;
		usleep(10000);
	}
	return -1;
}

static void row(const char *what, double us, uint64_t pages)
{
	printf("  %-44s %6lu pages  %8.1f us/page\n", what, (unsigned long)pages,
	       pages ? us / pages : 0.0);
}

int main(int argc, char **argv)
{
	unsigned long frames = argc > 1 ? strtoul(argv[1], NULL, 0) : 1024;
	unsigned long pages = 4 * frames, i;
	struct l4u_task_attr attr = { .size = 64ULL << 20 };
	struct l4u_dsm_swap_stats st, rt0, rt1;
	volatile char *p = NULL, *r = NULL;
	struct l4u_ds ds, rt;
	struct l4u_task *task;
	struct l4u_rm *rm;
	char nf[32];
	pid_t m, mr;
	double t;
	int dev, ret;
	unsigned long sum = 0;

	if (!frames || pages * PG > (48ULL << 20)) {
		fprintf(stderr, "swap: frames 1..3072\n");
		return 2;
	}
	snprintf(nf, sizeof(nf), "%lu", frames);
	m = start("@bench-swap", nf, 0);
	mr = start("@bench-rt", "256", 1);
	dev = l4u_open();
	if (m < 0 || mr < 0 || dev < 0) {
		fprintf(stderr, "swap: cannot start the managers\n");
		return 1;
	}
	ret = l4u_ds_open_anon("@bench-swap", pages * PG, L4_FPAGE_RW, &ds);
	if (!ret)
		ret = l4u_ds_open_anon("@bench-rt", 256 * PG, L4_FPAGE_RW, &rt);
	if (!ret)
		ret = l4u_task_create(dev, &attr, &task);
	if (!ret)
		ret = l4u_rm_create(dev, task, &rm);
	if (!ret)
		ret = l4u_rm_attach(rm, (void **)&p, pages * PG,
				    L4_FPAGE_RW | L4U_RM_SEARCH_ADDR, &ds, 0, 0);
	if (!ret)
		ret = l4u_rm_attach(rm, (void **)&r, 256 * PG,
				    L4_FPAGE_RW | L4U_RM_SEARCH_ADDR, &rt, 0, 0);
	if (ret) {
		fprintf(stderr, "swap: setup: %s\n", strerror(-ret));
		return 1;
	}
	printf("swapping manager: %lu frames, dataspace %lu pages (FIFO, region manager)\n",
	       frames, pages);

	t = now_us();
	for (i = 0; i < frames; i++)
		p[i * PG] = (char)i;
	row("1. first touch, pool has room", now_us() - t, frames);
	t = now_us();
	for (; i < pages; i++)
		p[i * PG] = (char)i;
	row("2. first touch, evict + swap-out", now_us() - t, pages - frames);
	t = now_us();
	for (i = 0; i < pages; i++)
		p[i * PG + 1] = (char)i;
	row("3. rewrite: evict + swap-out + swap-in", now_us() - t, pages);
	t = now_us();
	for (i = 0; i < pages; i++) {
		if (p[i * PG] != (char)i || p[i * PG + 1] != (char)i) {
			fprintf(stderr, "swap: page %lu corrupt\n", i);
			return 1;
		}
	}
	row("4. read back: the same", now_us() - t, pages);
	l4u_dsm_swap_stats(&ds, &st);
	printf("  counters: %lu faults, %lu evictions, %lu swap-ins, %lu swap-outs\n",
	       (unsigned long)st.faults, (unsigned long)st.evictions,
	       (unsigned long)st.swap_ins, (unsigned long)st.swap_outs);

	for (i = 0; i < 256; i++)
		r[i * PG] = 1;				/* warm-up */
	l4u_dsm_swap_stats(&rt, &rt0);
	t = now_us();
	for (int k = 0; k < 100; k++)
		for (i = 0; i < 256; i++)
			sum += r[i * PG];
	row("5. pinned, after warm-up (x100)", now_us() - t, 256 * 100);
	l4u_dsm_swap_stats(&rt, &rt1);
	printf("  pinned manager: %lu MAPs during the reads (sum %lu)\n",
	       (unsigned long)(rt1.maps - rt0.maps), sum);

	l4u_rm_destroy(rm);
	l4u_task_destroy(task);
	l4u_ds_close(&ds);
	l4u_ds_close(&rt);
	kill(m, SIGTERM);
	kill(mr, SIGTERM);
	waitpid(m, NULL, 0);
	waitpid(mr, NULL, 0);
	unlink("/tmp/bench-swap");
	return 0;
}
