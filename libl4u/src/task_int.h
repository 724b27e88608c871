/* SPDX-License-Identifier: MIT */
/* libl4u internals shared by task.c and rm.c. */
#ifndef L4U_TASK_INT_H
#define L4U_TASK_INT_H

#include <pthread.h>
#include <stdint.h>

struct l4u_rm;

struct l4u_task {
	int space;
	uint32_t flags;
	uint64_t space_id;
	uint64_t size;
	uint64_t win_addr;	/* space address of the window's start */
	uint64_t win_len;
	char *win;
	pthread_mutex_t lock;	/* threads, rm */
	unsigned int threads;	/* l4u threads not yet deleted */
	struct l4u_rm *rm;	/* its region manager, if any */
};

#endif /* L4U_TASK_INT_H */
