// SPDX-License-Identifier: MIT
/*
 * hello: the README's "Using it", as a whole program. A sigma0-backed
 * space of 64 MiB, a window onto its first MiB, one store: sigma0 hands
 * out a zeroed frame on the first touch.
 *
 *   cc -o hello hello.c $(pkg-config --cflags --libs l4u)
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <l4u/l4u.h>

int main(void)
{
	struct l4_space_info info;
	char *win;
	int dev, space, ret;

	dev = l4u_open();					/* /dev/l4 */
	if (dev < 0) {
		fprintf(stderr, "hello: /dev/l4: %s\n", l4u_open_strerror(dev));
		return 1;
	}
	space = l4u_space_create(dev, 64 << 20, L4_SPACE_SIGMA0, 0, NULL);
	if (space < 0) {
		fprintf(stderr, "hello: space: %s\n", strerror(-space));
		return 1;
	}
	ret = l4u_window_open(space, 0, 1 << 20, PROT_READ | PROT_WRITE, NULL,
			      (void **)&win);
	if (ret) {
		fprintf(stderr, "hello: window: %s\n", strerror(-ret));
		return 1;
	}
	win[0] = 1;				/* sigma0 hands out a zeroed frame */

	ret = l4u_space_info(space, &info);
	if (ret || win[0] != 1 || win[1] != 0 || info.frames != 1) {
		fprintf(stderr, "hello: expected one zeroed frame, got %llu\n",
			(unsigned long long)info.frames);
		return 1;
	}
	printf("hello: a space of %llu MiB, one store through its window: %llu frame\n",
	       (unsigned long long)(info.size >> 20), (unsigned long long)info.frames);
	l4u_window_close(win, 1 << 20);
	close(space);
	close(dev);
	return 0;
}
