/* SPDX-License-Identifier: MIT */
/*
 * libl4u tasks and threads: Factory::create_task / create_thread,
 * Thread::control and Thread::ex_regs on Linux.
 *
 * A task is a space, the one window through which this process reaches it
 * (its "window area") and the L4 threads that run in it. Space addresses
 * and virtual addresses differ by a constant: the window starts at a base
 * aligned to L4U_TASK_ALIGN, so alignment in the space equals alignment in
 * virtual memory (2 MiB and 1 GiB flexpages stay usable). With
 * L4U_TASK_IDENTITY the window is placed so that space address == virtual
 * address.
 *
 * A thread of a task is a Linux thread (pthread) registered as an L4 thread
 * of the task's space with its own pager (L4_IOC_THREAD_CONTROL). It is
 * created inactive and starts running when l4u_thread_ex_regs() gives it an
 * instruction and a stack pointer; ex_regs on a running thread redirects
 * it. ex_regs is emulated with a real-time signal (L4U_EX_REGS_SIGNAL)
 * whose handler rewrites the saved register context (x86-64 only).
 */
#ifndef L4U_TASK_H
#define L4U_TASK_H

#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <sys/types.h>
#include <linux/l4.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- tasks --------------------------------------------------------------- */

#define L4U_TASK_DEFAULT_SIZE	(64ULL << 30)	/* 64 GiB */
#define L4U_TASK_ALIGN		(1ULL << 30)	/* window base alignment */

/* struct l4u_task_attr.flags */
#define L4U_TASK_IDENTITY	(1U << 0)	/* space address == virtual address */
#define L4U_TASK_FLAGS_KNOWN	(L4U_TASK_IDENTITY)

struct l4u_task_attr {
	uint64_t size;		/* space size (page multiple); 0: L4U_TASK_DEFAULT_SIZE */
	uint64_t max_frames;	/* the space's own frame limit (0: none) */
	uint32_t space_flags;	/* L4_SPACE_* */
	uint32_t flags;		/* L4U_TASK_* */
	uint64_t identity_lo;	/* L4U_TASK_IDENTITY: the window covers space
				   [identity_lo, size) at the same virtual
				   addresses (page-aligned, < size) */
	uint64_t reserved[2];	/* zero */
};

/* What a task is made of (plain data; the fds stay the task's). */
struct l4u_task_info {
	int space;		/* the space fd */
	uint32_t flags;		/* L4U_TASK_* */
	uint64_t space_id;	/* its id */
	uint64_t size;		/* its size */
	uint64_t win_addr;	/* space address of the window's first byte */
	uint64_t win_len;	/* window length in bytes */
	char *win;		/* virtual address of the window's first byte */
};

struct l4u_task;

/*
 * Create a task: a space (on /dev/l4 fd @dev) and its window (read/write).
 * @attr may be NULL (defaults). Errors: -EINVAL bad attribute, -EEXIST
 * (identity) the virtual range is taken, -ENOMEM, or what creating the
 * space or mapping the window returns.
 */
int l4u_task_create(int dev, const struct l4u_task_attr *attr,
		    struct l4u_task **task);

/*
 * Destroy a task: unmap its window and close its space. Its threads must
 * have been deleted and its region manager destroyed first (-EBUSY).
 */
int l4u_task_destroy(struct l4u_task *task);

int l4u_task_info(const struct l4u_task *task, struct l4u_task_info *info);

/* Space address <-> virtual address of a task's window (no checks). */
static inline void *l4u_task_va(const struct l4u_task_info *ti, uint64_t addr)
{
	return ti->win + (addr - ti->win_addr);
}

static inline uint64_t l4u_task_addr(const struct l4u_task_info *ti,
				     const void *va)
{
	return (uint64_t)((const char *)va - ti->win) + ti->win_addr;
}

/* ---- threads ------------------------------------------------------------- */

struct l4u_thread;

/*
 * Create an L4 thread of @task with pager @pager (a gate fd, or -1 for the
 * space's default pager, e.g. the task's region manager). The thread is
 * inactive until l4u_thread_ex_regs() gives it ip and sp.
 */
int l4u_thread_create(struct l4u_task *task, int pager,
		      struct l4u_thread **thread);

/*
 * Thread::control for another thread: make @pager (a gate fd, or -1 for
 * the space's default pager) the pager of @thread, running or inactive.
 * The registration is done by the thread itself, in the ex_regs signal's
 * handler. Errors: -EINVAL, -EBADF / -EINVAL (@pager), -ESRCH ended.
 */
int l4u_thread_set_pager(struct l4u_thread *thread, int pager);

/* The thread's L4 thread id (as fault messages carry it) and Linux tid. */
int l4u_thread_id(const struct l4u_thread *thread, uint64_t *thread_id,
		  pid_t *tid);

/* ex_regs: ip or sp L4U_EX_REGS_KEEP leaves that register as it is. */
#define L4U_EX_REGS_KEEP	(~0ULL)

/* old flags (*old_flags of l4u_thread_ex_regs) */
#define L4U_THREAD_INACTIVE	(1U << 0)	/* had not been started */

/* real-time signal used to emulate ex_regs (do not use it otherwise) */
#define L4U_EX_REGS_SIGNAL	(SIGRTMIN + 4)

/*
 * Thread::ex_regs: set the thread's instruction pointer @ip and stack
 * pointer @sp. An inactive thread starts there; a running thread is
 * interrupted (a system call or a page-fault wait in progress is abandoned)
 * and continues there. @flags: zero. *@old_ip, *@old_sp, *@old_flags (each
 * may be NULL) get the values before the change; an inactive thread
 * reports ip 0, sp 0 and L4U_THREAD_INACTIVE. With both ip and sp
 * L4U_EX_REGS_KEEP nothing changes (a running thread is still interrupted
 * to read its registers). Errors: -EINVAL, -ESRCH the thread has exited.
 */
int l4u_thread_ex_regs(struct l4u_thread *thread, uint64_t ip, uint64_t sp,
		       unsigned int flags, uint64_t *old_ip, uint64_t *old_sp,
		       unsigned int *old_flags);

/*
 * Prepare a fresh stack of @size bytes at @stack for a C function started
 * by ex_regs: *@sp is aligned as the x86-64 ABI wants it at a function's
 * entry and holds a return address that ends the thread when the function
 * returns.
 */
int l4u_thread_stack(void *stack, size_t size, uint64_t *sp);

/* End the calling thread (an l4u thread); does not return. */
void l4u_thread_exit(void) __attribute__((noreturn));

/*
 * Delete a thread (Fiasco's thread deletion): an inactive or running thread
 * is stopped where it is (it must hold no locks, as with asynchronous
 * cancellation), unregistered from the space, joined, and the handle freed.
 * -EDEADLK when called by the thread itself.
 */
int l4u_thread_delete(struct l4u_thread *thread);

#ifdef __cplusplus
}
#endif

#endif /* L4U_TASK_H */
