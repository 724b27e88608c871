/* SPDX-License-Identifier: MIT */
/* libl4u internals shared by task.c and rm.c. */
#ifndef L4U_TASK_INT_H
#define L4U_TASK_INT_H

#include <pthread.h>
#include <signal.h>
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

/*
 * A pthread of the library's own that starts with signal mask @mask: set
 * through its attributes, so the calling thread's mask never changes.
 * Returns 0 or -errno.
 */
static inline int task_pthread_create(pthread_t *pt, void *(*fn)(void *),
				      void *arg, const sigset_t *mask)
{
	pthread_attr_t attr;
	int ret = pthread_attr_init(&attr);

	if (ret)
		return -ret;
	ret = pthread_attr_setsigmask_np(&attr, mask);
	if (!ret)
		ret = pthread_create(pt, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	return -ret;
}

#endif /* L4U_TASK_INT_H */
