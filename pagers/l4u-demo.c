// SPDX-License-Identifier: MIT
/*
 * l4u-demo: l4u at work, narrated.
 *
 * By default: an address space built from dataspaces (see ds_demo() below);
 * --dot also prints the client's mapping graph as Graphviz DOT.
 * With --basics: the tour of the layers underneath --
 * one process creates a space backed by the in-kernel sigma0, opens two
 * windows onto it, forks a child that opens a third, and both sides write
 * and read each other's pages. Then the space's frame limit is hit (SIGBUS),
 * and at the end every frame goes back.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <l4u/l4u.h>
#include <l4u/dataspace.h>
#include <l4u/rm.h>
#include <l4u/task.h>

static int show_dot;

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
	ret = l4u_space_set_pager(client, gate);
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

static int basics_main(void)
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
	if (dev < 0) {
		fprintf(stderr, "l4u-demo: %s: %s\n", L4_DEVICE_PATH, l4u_open_strerror(dev));
		return 1;
	}
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

/* ==================================================================== */
/* The dataspace demo                                                    */
/* ==================================================================== */

/*
 * Client A's address space (a task) is built from three dataspaces served
 * by two manager processes: program text (a file, read-only) from
 * l4u-dsm-file, a heap and a buffer shared with client B (anonymous memory)
 * from l4u-dsm-anon. A's region manager (libl4u rm.h: a thread that is the
 * pager of A's space) turns each page fault into a MAP request to the
 * dataspace's manager, whose answer lands directly in A's space. Both
 * managers run with -v: one line per request, naming the address the page
 * landed at. The tasks are identity-mapped: space address == pointer.
 */

#define DS_SOCK_FILE	"@l4u-demo-file"
#define DS_SOCK_ANON	"@l4u-demo-anon"
#define DS_TEXT_PATH	"/tmp/prog.txt"
static unsigned long long a_base = 0x10000000;	/* client A's window: 16 MiB from here */
static unsigned long long b_base = 0x20000000;	/* client B's */
#define TEXT		(a_base + 0x10000)
#define HEAP		(a_base + 0x20000)
#define SHARED		(a_base + 0x40000)

/* What the region map printout says about each dataspace. */
struct ds_name {
	uint64_t id;
	const char *what, *mgr;
};

static struct ds_name ds_names[3];

static sigjmp_buf touch_jmp;
static volatile int touch_sig;

static void on_touch_fault(int sig, siginfo_t *si, void *uc)
{
	(void)si; (void)uc;
	touch_sig = sig;
	siglongjmp(touch_jmp, 1);
}

/* Read or write one byte at @addr; returns the signal it raised, or 0. */
static int touch(uint64_t addr, int write, char val)
{
	struct sigaction sa = { .sa_sigaction = on_touch_fault, .sa_flags = SA_SIGINFO };
	volatile char *p = (volatile char *)(uintptr_t)addr;

	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	touch_sig = 0;
	if (!sigsetjmp(touch_jmp, 1)) {
		if (write)
			*p = val;
		else
			(void)*p;
	}
	signal(SIGBUS, SIG_DFL);
	signal(SIGSEGV, SIG_DFL);
	return touch_sig;
}

static pid_t start_manager(const char *prog, const char *sock)
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork", -errno);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);	/* the demo dies: so do they */
		execlp(prog, prog, "--socket", sock, "--frames", "1024", "-v", (char *)NULL);
		fprintf(stderr, "l4u-demo: exec %s: %s\n", prog, strerror(errno));
		_exit(127);
	}
	for (int i = 0; i < 500; i++) {
		if (!l4u_dsm_ping(sock))
			return pid;
		usleep(10000);
	}
	die(prog, -ETIMEDOUT);
	return -1;
}

/* A task whose window shows space [base, base + 16 MiB) at address base. */
static struct l4u_task *identity_task(int dev, unsigned long long *base)
{
	struct l4u_task_attr attr = { .flags = L4U_TASK_IDENTITY };
	struct l4u_task *task;
	int ret;

	/* address space layout randomization may have put something there */
	for (int i = 0; i < 8; i++) {
		attr.identity_lo = *base;
		attr.size = *base + (16 << 20);
		ret = l4u_task_create(dev, &attr, &task);
		if (ret != -EEXIST)
			break;
		*base += 0x40000000;
	}
	if (ret)
		die("create task", ret);
	return task;
}

static void attach(struct l4u_rm *rm, uint64_t at, uint32_t rights,
		   const struct l4u_ds *ds)
{
	void *start = (void *)(uintptr_t)at;
	int ret = l4u_rm_attach(rm, &start, (ds->size + PAGE - 1) & ~(PAGE - 1),
				rights, ds, 0, 0);

	if (ret)
		die("attach", ret);
}

static void print_region_map(struct l4u_rm *rm, int space)
{
	struct l4_space_info info;
	struct l4u_region r;
	char *p = (char *)(uintptr_t)a_base;
	char rs[4];

	printf("client A region map:\n");
	while (!l4u_rm_find(rm, p, a_base + (16 << 20) - (uintptr_t)p, &r)) {
		const struct ds_name *n = NULL;

		for (int i = 0; i < 3; i++)
			if (ds_names[i].id == r.ds_id)
				n = &ds_names[i];
		printf("         %p-%p %s  %-24s %s\n", r.start,
		       (char *)r.start + r.size - 1,
		       l4u_rights_str(r.flags & L4_FPAGE_RWX, rs),
		       n ? n->what : "?", n ? n->mgr : "?");
		p = (char *)r.start + r.size;
	}
	if (!l4u_space_info(space, &info))
		printf("         pages present in A's space: %llu\n",
		       (unsigned long long)info.nodes);
}

/* Client B: gets the shared dataspace over a socket, attaches it itself. */
static void client_b(int sock)
{
	struct l4u_task *task;
	struct l4u_rm *rm;
	struct l4u_ds sh;
	char *buf, tag;
	int dev, cap;

	if (l4u_cap_recv(sock, &cap, &tag, 1) != 1 || cap < 0)
		_exit(1);
	dev = l4u_open();
	if (dev < 0 || l4u_ds_from_cap(cap, &sh))
		_exit(2);
	task = identity_task(dev, &b_base);
	if (l4u_rm_create(dev, task, &rm))
		_exit(3);
	attach(rm, b_base + 0x80000, L4_FPAGE_RW, &sh);
	buf = (char *)(uintptr_t)(b_base + 0x80000);
	printf("client B got the capability, attached the dataspace at %p in its own task, reads it:\n", buf);
	printf("client B %p says \"%s\"\n", buf, buf);
	strcpy(buf + 64, "hi A, B here");
	printf("client B wrote \"%s\" at %p\n", buf + 64, buf + 64);
	if (write(sock, "b", 1) != 1)
		_exit(5);
	l4u_rm_destroy(rm);
	l4u_task_destroy(task);
	l4u_ds_close(&sh);
	_exit(0);
}

static void write_text_file(void)
{
	static const char text[] =
		"int main(void) { puts(\"hello, dataspaces\"); }  /* page 0 of prog.txt */";
	int fd = open(DS_TEXT_PATH, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	/* a page and a bit: the region covers two pages, the tail reads zero */
	if (fd < 0 || pwrite(fd, text, sizeof(text), 0) != sizeof(text) ||
	    pwrite(fd, "/* page 1 of prog.txt */", 25, PAGE) != 25 ||
	    ftruncate(fd, PAGE + 25))
		die("write " DS_TEXT_PATH, -errno);
	close(fd);
}

static int ds_demo(void)
{
	struct l4u_ds text, heap, shared;
	struct l4u_task_info ti;
	struct l4u_task *task;
	struct l4_version ver;
	struct l4_stats st;
	struct l4u_rm *rm;
	pid_t anon_mgr, file_mgr, b, monitor;
	int dev, sv[2], ret, fd, status;
	char c, args[64];

	setvbuf(stdout, NULL, _IOLBF, 0);
	dev = l4u_open();
	if (dev < 0) {
		fprintf(stderr, "l4u-demo: %s: %s\n", L4_DEVICE_PATH, l4u_open_strerror(dev));
		return 1;
	}
	l4u_version(dev, &ver);
	printf("l4u demo: an address space built from dataspaces (/dev/l4 ABI %u.%u)\n\n",
	       ver.major, ver.minor);

	/* client B first, before any thread exists */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		die("socketpair", -errno);
	b = fork();
	if (b < 0)
		die("fork", -errno);
	if (b == 0) {
		close(sv[0]);
		client_b(sv[1]);
	}
	close(sv[1]);

	file_mgr = start_manager("l4u-dsm-file", DS_SOCK_FILE);
	anon_mgr = start_manager("l4u-dsm-anon", DS_SOCK_ANON);
	printf("managers l4u-dsm-file (pid %d) and l4u-dsm-anon (pid %d) run with -v: lines starting\n"
	       "         with their names are theirs, one per request\n\n", file_mgr, anon_mgr);

	write_text_file();
	fd = open(DS_TEXT_PATH, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("open " DS_TEXT_PATH, -errno);
	printf("client A opens three dataspaces (the file by handing over its fd):\n");
	if ((ret = l4u_ds_open_file(DS_SOCK_FILE, fd, 0, L4_FPAGE_RX, &text)) ||
	    (ret = l4u_ds_open_anon(DS_SOCK_ANON, 4 * PAGE, L4_FPAGE_RW, &heap)) ||
	    (ret = l4u_ds_open_anon(DS_SOCK_ANON, PAGE, L4_FPAGE_RW, &shared)))
		die("open dataspaces", ret);
	close(fd);
	ds_names[0] = (struct ds_name){ text.id, "text  file " DS_TEXT_PATH, "l4u-dsm-file" };
	ds_names[1] = (struct ds_name){ heap.id, "heap  anonymous", "l4u-dsm-anon" };
	ds_names[2] = (struct ds_name){ shared.id, "buf   anonymous, with B", "l4u-dsm-anon" };

	task = identity_task(dev, &a_base);
	if ((ret = l4u_rm_create(dev, task, &rm)))
		die("region manager", ret);
	l4u_task_info(task, &ti);
	attach(rm, TEXT, L4_FPAGE_RX, &text);
	attach(rm, HEAP, L4_FPAGE_RW, &heap);
	attach(rm, SHARED, L4_FPAGE_RW, &shared);
	printf("\nclient A attached them to its task (space %llu); its region manager thread is the pager\n",
	       (unsigned long long)ti.space_id);
	print_region_map(rm, ti.space);

	printf("\nclient A reads its text at 0x%llx:\n", TEXT);
	touch(TEXT, 0, 0);
	printf("client A 0x%llx says \"%.40s...\"\n", TEXT, (char *)(uintptr_t)TEXT);

	printf("\nclient A writes one byte into each of its 4 heap pages (the module's event stream beside):\n");
	monitor = l4ctl_monitor();
	for (uint64_t a = HEAP; a < HEAP + 4 * PAGE; a += PAGE)
		touch(a, 1, 'h');
	l4ctl_monitor_stop(monitor);
	printf("client A one fault, one request: the flexpage brought all 4 pages; 0x%llx holds '%c'\n"
	       "         and zeros after it (zero-filled frames)\n",
	       HEAP + 2 * PAGE, *(char *)(uintptr_t)(HEAP + 2 * PAGE));

	printf("\nclient A writes a note into its buffer at 0x%llx and sends the capability to B:\n", SHARED);
	strcpy((char *)(uintptr_t)SHARED, "hello from A");
	if (l4u_cap_send(sv[0], shared.cap, "s", 1) != 1 || read(sv[0], &c, 1) != 1)
		die("client B", -EPIPE);
	waitpid(b, &status, 0);
	printf("client A reads 0x%llx: \"%s\" (the same frame: no fault, no request)\n",
	       SHARED + 64, (char *)(uintptr_t)(SHARED + 64));

	printf("\nclient A writes to its read-only text:\n");
	printf("client A got %s (the region manager refused; no manager was asked)\n",
	       strsignal(touch(TEXT, 1, 'X')));
	printf("\n");
	print_region_map(rm, ti.space);
	printf("\nthe module's view of A's space: every entry, and whose mapping it derives from\n");
	snprintf(args, sizeof(args), "space %llu", (unsigned long long)ti.space_id);
	l4ctl(args);
	/* the graph is long to read as text: --dot prints it (docs/demo-space.png) */
	snprintf(args, sizeof(args), show_dot ? "dot %llu" : "dot %llu >/tmp/l4u-demo.dot",
		 (unsigned long long)ti.space_id);
	l4ctl(args);
	if (!show_dot)
		printf("         (the same as a Graphviz graph; README.md shows it drawn)\n");

	if (ver.features & L4_FEAT_SEND_CAP) {
		printf("\nkill -9 l4u-dsm-anon: its frames vanish from A's space, its dataspaces die\n");
		kill(anon_mgr, SIGKILL);
		waitpid(anon_mgr, &status, 0);
		printf("client A reads its heap again:\n");
		printf("client A got %s: the heap is gone...\n", strsignal(touch(HEAP, 0, 0)));
		touch(TEXT + PAGE, 0, 0);
		printf("client A ...but its text page 0x%llx still reads \"%s\"\n", TEXT + PAGE,
		       (char *)(uintptr_t)(TEXT + PAGE));
	} else {
		printf("\n(this kernel has no send capabilities: a manager's death is not shown)\n");
		kill(anon_mgr, SIGTERM);
		waitpid(anon_mgr, &status, 0);
	}

	printf("\nclient A ends: detaches everything, closes its capabilities:\n");
	l4u_rm_destroy(rm);
	l4u_task_destroy(task);
	l4u_ds_close(&text);
	l4u_ds_close(&heap);
	l4u_ds_close(&shared);
	usleep(200000);		/* the no-senders message reaches the manager */
	kill(file_mgr, SIGTERM);
	waitpid(file_mgr, &status, 0);
	close(sv[0]);
	unlink(DS_TEXT_PATH);

	l4u_stats(dev, &st);
	printf("module   at the end: %llu spaces, %llu frames, %llu gates\n",
	       (unsigned long long)st.spaces, (unsigned long long)st.frames,
	       (unsigned long long)st.gates);
	close(dev);
	return st.spaces == 0 && st.frames == 0 && WIFEXITED(status) &&
	       WEXITSTATUS(status) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--basics"))
		return basics_main();
	if (argc > 1 && !strcmp(argv[1], "--dot"))
		show_dot = 1;
	else if (argc > 1) {
		fprintf(stderr, "usage: l4u-demo [--basics | --dot]\n");
		return 2;
	}
	return ds_demo();
}
