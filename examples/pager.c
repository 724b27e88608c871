// SPDX-License-Identifier: MIT
/*
 * pager: a raw pager -- a gate, a space whose faults go to it, and the
 * reply loop of the README, in a process of its own. The client space has
 * no memory; each first touch of a page becomes a page-fault message, and
 * the pager answers by mapping the page at the same address of its own
 * sigma0-backed space (flexpage offset rule: send page = receive page).
 * A call with label STOP ends the loop; the reply says how many faults
 * were served.
 *
 *   cc -o pager pager.c $(pkg-config --cflags --libs l4u)
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <l4u/l4u.h>

#define SIZE	(1 << 20)
#define STOP	1

static int serve(int gate, int my_space)
{
	struct l4_reply_wait rw = { 0 };
	uint64_t faults = 0;

	for (;;) {
		if (l4u_reply_wait(gate, &rw))		/* answer the last, get the next */
			return 1;
		l4u_reply_init(&rw.reply, &rw.msg);
		if (rw.msg.label == STOP) {
			rw.reply.nwords = 1;
			rw.reply.words[0] = faults;
			return l4u_reply(gate, &rw.reply) ? 1 : 0;
		}
		if (rw.msg.label != L4_LABEL_PAGE_FAULT) {
			rw.reply.error = ENOSYS;
			continue;
		}
		uint64_t pfa = L4_PF_ADDR(rw.msg.words[0]);
		l4u_reply_map(&rw.reply, my_space,
			      L4_FPAGE(pfa & ~0xfffULL, 12, L4_FPAGE_RW), pfa, 0);
		faults++;
	}
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "pager: %s: %s\n", what, err == -EACCES || err == -ENOENT ?
		l4u_open_strerror(err) : strerror(-err));
	return 1;
}

int main(void)
{
	struct l4_call stop = { .label = STOP, .rcv_space_fd = -1 };
	int dev, mem, client, gate, ret, status;
	char *mem_win, *win;
	pid_t pager;

	dev = l4u_open();
	if (dev < 0)
		return fail("/dev/l4", dev);
	/* the pager's memory, labelled page by page; a client space without any */
	mem = l4u_space_create(dev, SIZE, L4_SPACE_SIGMA0, 0, NULL);
	client = l4u_space_create(dev, SIZE, 0, 0, NULL);
	gate = l4u_gate_create(dev);
	if (mem < 0 || client < 0 || gate < 0)
		return fail("create", mem < 0 ? mem : client < 0 ? client : gate);
	ret = l4u_window_open(mem, 0, SIZE, PROT_READ | PROT_WRITE, NULL, (void **)&mem_win);
	if (ret)
		return fail("pager's window", ret);
	for (int off = 0; off < SIZE; off += 4096)
		sprintf(mem_win + off, "page %#x", off);
	ret = l4u_space_set_pager(client, gate);		/* the client's faults go to gate */
	if (ret)
		return fail("set pager", ret);

	pager = fork();
	if (pager == 0) {
		close(client);
		_exit(serve(gate, mem));
	}

	ret = l4u_window_open(client, 0, SIZE, PROT_READ | PROT_WRITE, NULL, (void **)&win);
	if (ret)
		return fail("client's window", ret);
	printf("client reads 0x0000: \"%s\"\n", win);
	printf("client reads 0x3000: \"%s\"\n", win + 0x3000);
	strcpy(win + 0x3100, "written by the client");
	printf("client wrote 0x3100; the pager's page says \"%s\"\n", mem_win + 0x3100);
	if (strcmp(win, "page 0") || strcmp(win + 0x3000, "page 0x3000") ||
	    strcmp(mem_win + 0x3100, "written by the client"))
		return fail("contents", -EIO);

	ret = l4u_call(gate, &stop);			/* STOP: how many faults? */
	if (ret)
		return fail("stop", ret);
	if (waitpid(pager, &status, 0) != pager || status)
		return fail("the pager's exit", -ECHILD);
	printf("the pager served %llu faults (one per page touched)\n",
	       (unsigned long long)stop.words[0]);
	return stop.words[0] == 2 ? 0 : 1;
}
