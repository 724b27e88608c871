// SPDX-License-Identifier: MIT
/*
 * l4u-demo: a sigma0-backed space at work, narrated.
 *
 * One process creates a space backed by the in-kernel sigma0, opens two
 * windows onto it, forks a child that opens a third, and both sides write
 * and read each other's pages. Then the space's frame limit is hit (SIGBUS),
 * and at the end every frame goes back.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <l4u/l4u.h>

#define SPACE_SIZE	(64ULL << 20)
#define LIMIT		64	/* frames */
#define PAGE		4096UL

static sigjmp_buf sigbus_jmp;
static volatile void *sigbus_addr;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	(void)sig; (void)uc;
	sigbus_addr = si->si_addr;
	siglongjmp(sigbus_jmp, 1);
}

static void die(const char *what, int err)
{
	fprintf(stderr, "l4u-demo: %s: %s\n", what, strerror(-err));
	exit(1);
}

static void show_space(const char *who, int space)
{
	struct l4_space_info info;
	int ret = l4u_space_info(space, &info);

	if (ret)
		die("space info", ret);
	printf("%-8s space %llu: %llu frames, %llu entries, %llu windows\n", who,
	       (unsigned long long)info.id, (unsigned long long)info.frames,
	       (unsigned long long)info.nodes, (unsigned long long)info.windows);
}

/*
 * The mapping database: the sigma0 space (the "pager") maps one of its pages
 * into a client space read-only, the client reads it, tries to write
 * (SIGSEGV), and the pager revokes it again (the client's next read: SIGBUS,
 * since nobody pages the client).
 */
/*
 * l4ctl (tools/), when the guest has it: the introspection side of what the
 * demo does. The monitor runs in its own process group for the whole demo.
 */
#define L4CTL	"/bin/l4ctl"

static void l4ctl(const char *args)
{
	char cmd[256];

	if (access(L4CTL, X_OK))
		return;
	snprintf(cmd, sizeof(cmd), L4CTL " %s | sed 's/^/l4ctl    /'", args);
	printf("$ l4ctl %s\n", args);
	fflush(stdout);
	if (system(cmd))
		printf("l4ctl    failed\n");
}

static pid_t l4ctl_monitor(void)
{
	pid_t pid;

	if (access(L4CTL, X_OK))
		return 0;
	printf("$ l4ctl monitor -t map,grant,unmap,fault,reply &\n");
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		execl("/bin/sh", "sh", "-c", "exec " L4CTL
		      " monitor -t map,grant,unmap,fault,reply | sed 's/^/monitor  /'",
		      (char *)NULL);
		_exit(127);
	}
	usleep(300 * 1000);	/* let it subscribe */
	return pid;
}

static void l4ctl_monitor_stop(pid_t pid)
{
	if (pid <= 0)
		return;
	usleep(300 * 1000);	/* let it print the last events */
	kill(-pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

static void mapdb_demo(int dev, int pager, char *pager_win)
{
	uint64_t dst, pages, revoked, access, cid;
	char *client_win, args[32];
	int client, ret, status;
	pid_t pid;

	client = l4u_space_create(dev, SPACE_SIZE, 0, 0, &cid);
	if (client < 0)
		die("create client space", client);
	ret = l4u_window_open(client, 0, 1 << 20, PROT_READ | PROT_WRITE, NULL,
			      (void **)&client_win);
	if (ret)
		die("client window", ret);
	/* send fpage: pager's 4 KiB page 0x1000, read-only; hot spot 0x7000;
	 * receive window: the whole client space -> lands at 0x7000 */
	ret = l4u_map(client, pager, L4_FPAGE(0x1000, 12, L4_FPAGE_R), 0x7000, 0,
		      L4_FPAGE_WHOLE_SPACE, &dst, &pages);
	if (ret)
		die("map", ret);
	printf("pager    mapped its page 0x1000 read-only into the client: %llu page at 0x%llx\n",
	       (unsigned long long)pages, (unsigned long long)dst);
	printf("client   reads 0x%llx: \"%s\"\n", (unsigned long long)dst, client_win + dst);
	l4ctl("spaces");
	snprintf(args, sizeof(args), "dot %llu", (unsigned long long)cid);
	l4ctl(args);

	pid = fork();
	if (pid == 0) {
		client_win[dst] = 'X';
		_exit(0);
	}
	waitpid(pid, &status, 0);
	printf("client   writes 0x%llx: %s\n", (unsigned long long)dst,
	       WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "no signal?!");

	ret = l4u_unmap(pager, L4_FPAGE(0x1000, 12, L4_FPAGE_RWX), 0, &revoked, &access);
	if (ret)
		die("unmap", ret);
	printf("pager    unmapped 0x1000 from everything derived from it: %llu mapping(s) revoked, %s\n",
	       (unsigned long long)revoked, access & L4_FPAGE_R ? "it had been read" : "never read");
	pid = fork();
	if (pid == 0) {
		printf("%d", client_win[dst]);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	printf("client   reads 0x%llx again: %s (no pager serves the client)\n",
	       (unsigned long long)dst,
	       WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "no signal?!");
	printf("pager    still reads its own page: \"%s\"\n", pager_win + PAGE);
	l4u_window_close(client_win, 1 << 20);
	close(client);
}

/*
 * Page-fault IPC: a pager process serves the faults of a client space from
 * its own sigma0-backed space. The client's first touch of each page
 * becomes a message; the pager answers with a flexpage. For the last fault
 * it answers with a whole 64 KiB flexpage: the next 15 pages then fault in
 * the kernel alone, with no message at all.
 */
static void pager_loop(int gate, int mem)
{
	struct l4_reply_wait rw = { 0 };
	char rights[4];
	int ret;

	for (;;) {
		ret = l4u_reply_wait(gate, &rw);
		if (ret)
			_exit(ret == -EINTR ? 0 : 1);
		struct l4_msg *m = &rw.msg;
		uint64_t pfa = L4_PF_ADDR(m->words[0]), page = pfa & ~(PAGE - 1);
		int write = !!(m->words[0] & L4_PF_WRITE);
		unsigned int order = pfa >= 0x40000 ? 16 : 12;
		uint64_t fp = L4_FPAGE(page & ~((1ULL << order) - 1), order,
				       write ? L4_FPAGE_RW : L4_FPAGE_R);

		printf("pager    fault from tid %d at 0x%llx (%s%s) ip 0x%llx -> map %llu KiB [%s] from my 0x%llx\n",
		       m->tid, (unsigned long long)pfa, write ? "write" : "read",
		       m->words[0] & L4_PF_PRESENT ? ", page present" : "",
		       (unsigned long long)m->words[1], (1ULL << order) >> 10,
		       l4u_rights_str(L4_FPAGE_RIGHTS(fp), rights),
		       (unsigned long long)L4_FPAGE_ADDR(fp));
		l4u_reply_init(&rw.reply, m);
		l4u_reply_map(&rw.reply, mem, fp, pfa, 0);
	}
}

static void fault_ipc_demo(int dev)
{
	uint64_t before, after;
	struct l4_stats st;
	int mem, client, gate, ret, status;
	char *mem_win, *win;
	pid_t pager;

	/* the pager's memory: a sigma0-backed space, filled with page labels */
	mem = l4u_space_create(dev, 1 << 20, L4_SPACE_SIGMA0, 0, NULL);
	client = l4u_space_create(dev, 1 << 20, 0, 0, NULL);
	gate = l4u_gate_create(dev);
	if (mem < 0 || client < 0 || gate < 0)
		die("create pager objects", mem < 0 ? mem : client < 0 ? client : gate);
	ret = l4u_window_open(mem, 0, 1 << 20, PROT_READ | PROT_WRITE, NULL, (void **)&mem_win);
	if (ret)
		die("pager window", ret);
	for (unsigned long off = 0; off < (1 << 20); off += PAGE)
		sprintf(mem_win + off, "pager page 0x%lx", off);
	ret = l4u_set_pager(client, gate);
	if (ret)
		die("set pager", ret);
	printf("\nclient   space without memory of its own; its pager is a gate served by another process\n");

	pager = fork();
	if (pager == 0) {
		close(client);
		pager_loop(gate, mem);
	}
	close(gate);	/* the pager holds the only gate fd now */

	ret = l4u_window_open(client, 0, 1 << 20, PROT_READ | PROT_WRITE, NULL, (void **)&win);
	if (ret)
		die("client window", ret);
	printf("client   reads 0x3000: \"%s\"\n", win + 0x3000);
	strcpy(win + 0x5000 + 64, "client was here");
	printf("client   wrote 0x5040; the pager's memory says \"%s\"\n", mem_win + 0x5000 + 64);
	l4u_stats(dev, &st);
	before = st.pager_faults;
	printf("client   reads 0x40000: \"%s\"\n", win + 0x40000);
	for (unsigned long off = 0x41000; off < 0x50000; off += PAGE)
		if (strncmp(win + off, "pager page", 10))
			die("wrong contents", -EIO);
	l4u_stats(dev, &st);
	after = st.pager_faults;
	printf("client   read 15 more pages of that 64 KiB flexpage: %llu more message(s)\n",
	       (unsigned long long)(after - before - 1));

	kill(pager, SIGKILL);
	waitpid(pager, &status, 0);
	pid_t pid = fork();
	if (pid == 0) {
		(void)*(volatile char *)(win + 0x80000);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	printf("client   after the pager died, a new fault ends in: %s\n",
	       WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "no signal?!");
	l4u_window_close(win, 1 << 20);
	l4u_window_close(mem_win, 1 << 20);
	close(client);
	close(mem);
}

int main(void)
{
	struct sigaction sa = { .sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO };
	struct l4_version ver;
	struct l4_stats st;
	char *win_a, *win_b, *win_hi;
	int dev, space, ret, status;
	volatile unsigned long i;
	uint64_t id;
	pid_t child, monitor;

	setvbuf(stdout, NULL, _IOLBF, 0);
	dev = l4u_open();
	if (dev < 0)
		die("open " L4_DEVICE_PATH " (is l4.ko loaded?)", dev);
	l4u_version(dev, &ver);
	printf("l4u demo: /dev/l4 speaks ABI %u.%u\n", ver.major, ver.minor);

	space = l4u_space_create(dev, SPACE_SIZE, L4_SPACE_SIGMA0, LIMIT, &id);
	if (space < 0)
		die("create space", space);
	printf("parent   created space %llu: 64 MiB, backed by sigma0, at most %d frames\n",
	       (unsigned long long)id, LIMIT);

	/* two windows onto the same first 1 MiB, a third onto the last 1 MiB */
	if ((ret = l4u_window_open(space, 0, 1 << 20, PROT_READ | PROT_WRITE, NULL, (void **)&win_a)) ||
	    (ret = l4u_window_open(space, 0, 1 << 20, PROT_READ | PROT_WRITE, NULL, (void **)&win_b)) ||
	    (ret = l4u_window_open(space, SPACE_SIZE - (1 << 20), 1 << 20, PROT_READ, NULL, (void **)&win_hi)))
		die("open window", ret);
	printf("parent   window A at %p, window B at %p: both show space 0x0-0xfffff\n",
	       (void *)win_a, (void *)win_b);

	printf("parent   reads space 0x0 through A: %d (a fresh zeroed frame from sigma0)\n", win_a[0]);
	strcpy(win_a + PAGE, "written through window A");
	printf("parent   wrote space 0x1000 through A; B reads \"%s\"\n", win_b + PAGE);
	show_space("parent", space);

	child = fork();
	if (child < 0)
		die("fork", -1);
	if (child == 0) {
		char *win_c;

		ret = l4u_window_open(space, PAGE, PAGE, PROT_READ | PROT_WRITE, NULL, (void **)&win_c);
		if (ret)
			die("child window", ret);
		printf("child    own window C onto space 0x1000 reads \"%s\"\n", win_c);
		strcpy(win_a + 2 * PAGE, "written by the child through its inherited A");
		strcpy(win_c + 64, "and a note through C");
		_exit(0);
	}
	waitpid(child, &status, 0);
	printf("parent   after the child: space 0x2000 says \"%s\"\n", win_b + 2 * PAGE);
	printf("parent                    space 0x1040 says \"%s\"\n", win_b + PAGE + 64);

	/* the frame limit: touch pages until sigma0 refuses */
	sigaction(SIGBUS, &sa, NULL);
	for (i = 0; i < 256; i++) {
		if (sigsetjmp(sigbus_jmp, 1)) {
			printf("parent   touching page %lu gave SIGBUS at %p: the space's limit of %d frames\n",
			       i, (void *)sigbus_addr, LIMIT);
			break;
		}
		win_a[i * PAGE + PAGE - 1] = 1;	/* last byte: keep the notes */
	}
	signal(SIGBUS, SIG_DFL);
	show_space("parent", space);
	printf("parent   pages it holds still work: space 0x1000 says \"%s\"\n", win_b + PAGE);
	printf("parent   window %p onto space 0x%llx was never touched: it holds no frame\n",
	       (void *)win_hi, SPACE_SIZE - (1 << 20));

	monitor = l4ctl_monitor();
	mapdb_demo(dev, space, win_b);
	fault_ipc_demo(dev);
	l4ctl_monitor_stop(monitor);

	l4u_stats(dev, &st);
	printf("module   %llu spaces, %llu frames, %llu windows, %llu faults served in the kernel\n",
	       (unsigned long long)st.spaces, (unsigned long long)st.frames,
	       (unsigned long long)st.windows, (unsigned long long)st.kernel_faults);

	close(space);
	l4u_window_close(win_a, 1 << 20);
	l4u_window_close(win_b, 1 << 20);
	l4u_window_close(win_hi, 1 << 20);
	l4u_stats(dev, &st);
	printf("module   after close and unmap: %llu spaces, %llu frames (%llu allocated, %llu freed)\n",
	       (unsigned long long)st.spaces, (unsigned long long)st.frames,
	       (unsigned long long)st.frames_allocated, (unsigned long long)st.frames_freed);
	close(dev);
	return st.frames == 0 && st.spaces == 0 ? 0 : 1;
}
