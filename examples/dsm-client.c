// SPDX-License-Identifier: MIT
/*
 * ex-dsm-client: a client of ex-dsm (dsm.c). It starts the manager (the
 * ex-dsm beside its own binary), opens a dataspace of four pages there,
 * asks the manager to map pages into a space of its own (the manager is
 * the pager: the pages come from its frames) and reads them through a
 * window. Then it checks what a read-only dataspace refuses, closes the
 * dataspace and stops the manager.
 *
 *   cc -o ex-dsm-client dsm-client.c $(pkg-config --cflags --libs l4u)
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <l4u/l4u.h>
#include <l4u/dataspace.h>

#define PAGE	4096

static int fail(const char *what, int err)
{
	fprintf(stderr, "ex-dsm-client: %s: %s\n", what, strerror(-err));
	return 1;
}

/* Start ex-dsm from the directory this program lives in; wait until it listens. */
static pid_t start_manager(const char *sock)
{
	char self[PATH_MAX], prog[PATH_MAX + 8];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	pid_t pid;

	if (n < 0)
		return -1;
	self[n] = 0;
	snprintf(prog, sizeof(prog), "%s/ex-dsm", dirname(self));
	pid = fork();
	if (pid == 0) {
		execl(prog, "ex-dsm", sock, (char *)NULL);
		perror(prog);
		_exit(127);
	}
	for (int i = 0; pid > 0 && i < 500; i++) {
		if (!l4u_dsm_ping(sock))
			return pid;
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return -1;
		usleep(10000);
	}
	return -1;
}

int main(void)
{
	struct l4u_dsm_stats st;
	struct l4u_ds ds;
	char sock[64], *win;
	uint64_t pages;
	int dev, space, ret, status;
	pid_t mgr;

	dev = l4u_open();
	if (dev < 0) {
		fprintf(stderr, "ex-dsm-client: /dev/l4: %s\n", l4u_open_strerror(dev));
		return 1;
	}
	snprintf(sock, sizeof(sock), "@ex-dsm-%d", (int)getpid());
	mgr = start_manager(sock);
	if (mgr < 0)
		return fail("start ex-dsm", -ECHILD);

	ret = l4u_ds_open_anon(sock, 4 * PAGE, L4_FPAGE_R, &ds);
	if (ret)
		return fail("open", ret);
	printf("opened a dataspace of %llu pages at ex-dsm, flags r\n",
	       (unsigned long long)(ds.size / PAGE));

	/* a space of our own without a pager, and a window onto it */
	space = l4u_space_create(dev, 16 * PAGE, 0, 0, NULL);
	if (space < 0)
		return fail("space", space);
	ret = l4u_window_open(space, 0, 16 * PAGE, PROT_READ, NULL, (void **)&win);
	if (ret)
		return fail("window", ret);
	/* page 2 of the dataspace to space address 0x5000 (receive window: all) */
	ret = l4u_ds_map(&ds, 2 * PAGE, 5 * PAGE, L4_FPAGE_R, space,
			 L4_FPAGE(0, 16, L4_FPAGE_RWX), &pages);
	if (ret)
		return fail("map", ret);
	printf("mapped page 2 at 0x5000 (%llu page): reads \"%s\"\n",
	       (unsigned long long)pages, win + 5 * PAGE);
	if (strcmp(win + 5 * PAGE, "page 2"))
		return fail("contents of page 2", -EIO);

	/* what a read-only dataspace refuses */
	ret = l4u_ds_map(&ds, 0, 0, L4_FPAGE_RW, space, L4_FPAGE(0, 16, L4_FPAGE_RWX), NULL);
	printf("map page 0 writable: %s\n", strerror(-ret));
	if (ret != -EACCES)
		return fail("a writable map", ret ? ret : -EINVAL);
	ret = l4u_ds_map(&ds, 4 * PAGE, 0, L4_FPAGE_R, space, L4_FPAGE(0, 16, L4_FPAGE_RWX), NULL);
	printf("map page 4 (beyond the end): %s\n", strerror(-ret));
	if (ret != -ERANGE)
		return fail("a map beyond the end", ret ? ret : -EINVAL);

	ret = l4u_dsm_stats(&ds, &st);
	if (ret)
		return fail("stats", ret);
	printf("ex-dsm: %llu dataspace, %llu frame in use, %llu page filled\n",
	       (unsigned long long)st.dataspaces, (unsigned long long)st.frames_used,
	       (unsigned long long)st.pages_read);

	/* the last capability goes: the manager frees the dataspace and its frames */
	l4u_ds_close(&ds);
	l4u_window_close(win, 16 * PAGE);
	close(space);
	kill(mgr, SIGTERM);
	if (waitpid(mgr, &status, 0) != mgr || !WIFEXITED(status) || WEXITSTATUS(status))
		return fail("ex-dsm's exit", -ECHILD);
	printf("ex-dsm exited with status 0\n");
	return st.dataspaces == 1 && st.frames_used == 1 && st.pages_read == 1 ? 0 : 1;
}
