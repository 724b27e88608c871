// SPDX-License-Identifier: MIT
/*
 * Tasks (a space and its window) and threads (pthreads registered as L4
 * threads of the space), with ex_regs emulated by a real-time signal whose
 * handler rewrites the interrupted context's RIP and RSP (x86-64).
 */
#define _GNU_SOURCE
#undef _FORTIFY_SOURCE		/* longjmp between stacks is the point here */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "l4u/l4u.h"
#include "l4u/task.h"
#include "task_int.h"

#if !defined(__x86_64__)
#error "l4u threads (ex_regs) are implemented for x86-64 only"
#endif

/* ---- tasks --------------------------------------------------------------- */

/* Map @len bytes of @space from @addr at an address aligned to @align. */
static int task_window_aligned(int space, uint64_t addr, uint64_t len,
			       uint64_t align, char **win)
{
	uint64_t total = len + align, base, lead, tail;
	char *res, *p;

	res = mmap(NULL, total, PROT_NONE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (res == MAP_FAILED)
		return -errno;
	base = ((uint64_t)(uintptr_t)res + align - 1) & ~(align - 1);
	/* replaces part of the reservation atomically: nobody can slip in */
	p = mmap((void *)(uintptr_t)base, len, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, space, (off_t)addr);
	if (p == MAP_FAILED) {
		int err = -errno;

		munmap(res, total);
		return err;
	}
	lead = base - (uint64_t)(uintptr_t)res;
	tail = total - lead - len;
	if (lead)
		munmap(res, lead);
	if (tail)
		munmap(p + len, tail);
	*win = p;
	return 0;
}

int l4u_task_create(int dev, const struct l4u_task_attr *attr,
		    struct l4u_task **task)
{
	struct l4u_task_attr a = { 0 };
	struct l4u_task *t;
	void *win;
	int ret;

	if (!task)
		return -EINVAL;
	if (attr)
		a = *attr;
	if (!a.size)
		a.size = L4U_TASK_DEFAULT_SIZE;
	if ((a.size & 0xfff) || a.size > L4_SPACE_MAX_SIZE ||
	    (a.flags & ~L4U_TASK_FLAGS_KNOWN) || a.reserved[0] || a.reserved[1])
		return -EINVAL;
	if (a.flags & L4U_TASK_IDENTITY) {
		if ((a.identity_lo & 0xfff) || !a.identity_lo ||
		    a.identity_lo >= a.size)
			return -EINVAL;
	} else if (a.identity_lo) {
		return -EINVAL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	pthread_mutex_init(&t->lock, NULL);
	t->flags = a.flags;
	t->size = a.size;
	t->space = l4u_space_create(dev, a.size, a.space_flags, a.max_frames,
				    &t->space_id);
	if (t->space < 0) {
		ret = t->space;
		goto free;
	}
	if (a.flags & L4U_TASK_IDENTITY) {
		t->win_addr = a.identity_lo;
		t->win_len = a.size - a.identity_lo;
		ret = l4u_window_open(t->space, t->win_addr, t->win_len,
				      PROT_READ | PROT_WRITE,
				      (void *)(uintptr_t)t->win_addr, &win);
		t->win = win;
	} else {
		t->win_addr = 0;
		t->win_len = a.size;
		ret = task_window_aligned(t->space, 0, a.size, L4U_TASK_ALIGN,
					  &t->win);
	}
	if (ret)
		goto close;
	*task = t;
	return 0;
close:
	close(t->space);
free:
	pthread_mutex_destroy(&t->lock);
	free(t);
	return ret;
}

int l4u_task_destroy(struct l4u_task *t)
{
	int ret;

	if (!t)
		return -EINVAL;
	pthread_mutex_lock(&t->lock);
	ret = (t->threads || t->rm) ? -EBUSY : 0;
	pthread_mutex_unlock(&t->lock);
	if (ret)
		return ret;
	munmap(t->win, t->win_len);
	close(t->space);
	pthread_mutex_destroy(&t->lock);
	free(t);
	return 0;
}

int l4u_task_info(const struct l4u_task *t, struct l4u_task_info *info)
{
	if (!t || !info)
		return -EINVAL;
	*info = (struct l4u_task_info){
		.space		= t->space,
		.flags		= t->flags,
		.space_id	= t->space_id,
		.size		= t->size,
		.win_addr	= t->win_addr,
		.win_len	= t->win_len,
		.win		= t->win,
	};
	return 0;
}

/* ---- threads ------------------------------------------------------------- */

enum { THREAD_INACTIVE, THREAD_RUNNING, THREAD_EXITED };

struct l4u_thread {
	struct l4u_task *task;
	pthread_t pt;
	pid_t tid;
	int pager;
	int start_error;		/* registration result, for create */
	uint64_t thread_id;
	sem_t ready;			/* the thread is registered and waiting */
	sigjmp_buf exit_jmp;		/* on the thread's own stack */
	pthread_mutex_t lock;		/* one ex_regs at a time */
	/* the request the signal handler serves */
	int req_pending;		/* atomic: 1 while a request waits */
	int exiting;			/* atomic: the thread is leaving */
	int state;			/* atomic: THREAD_* */
	int quit;			/* the request is: end the thread */
	int set_pager;			/* the request is: Thread::control */
	int req_pager;
	uint64_t req_ip, req_sp;
	uint64_t old_ip, old_sp;
	unsigned int old_flags;
	int req_result;
	sem_t ack;			/* the handler served the request */
};

static __thread struct l4u_thread *thread_self;
static pthread_once_t thread_sig_once = PTHREAD_ONCE_INIT;
static int thread_sig_error;

/* Fetch and clear the pending request; 1 if there was one. */
static int thread_take_request(struct l4u_thread *t)
{
	return __atomic_exchange_n(&t->req_pending, 0, __ATOMIC_SEQ_CST);
}

static void thread_ex_regs_handler(int sig, siginfo_t *si, void *ucv)
{
	struct l4u_thread *t = thread_self;
	ucontext_t *uc = ucv;
	greg_t *g = uc->uc_mcontext.gregs;
	int inactive;

	(void)sig;
	(void)si;
	if (!t || !thread_take_request(t))
		return;
	if (__atomic_load_n(&t->exiting, __ATOMIC_SEQ_CST)) {
		t->req_result = -ESRCH;
		sem_post(&t->ack);
		return;
	}
	if (t->set_pager) {
		/* registration is per calling thread: done here, on it */
		int saved = errno;

		t->req_result = l4u_space_bind_thread(t->task->space, t->req_pager,
						   NULL);
		errno = saved;
		sem_post(&t->ack);
		return;
	}
	inactive = __atomic_load_n(&t->state, __ATOMIC_SEQ_CST) == THREAD_INACTIVE;
	t->old_ip = inactive ? 0 : (uint64_t)g[REG_RIP];
	t->old_sp = inactive ? 0 : (uint64_t)g[REG_RSP];
	t->old_flags = inactive ? L4U_THREAD_INACTIVE : 0;
	t->req_result = 0;
	if (t->quit) {
		__atomic_store_n(&t->exiting, 1, __ATOMIC_SEQ_CST);
		sem_post(&t->ack);
		siglongjmp(t->exit_jmp, 1);
	}
	if (t->req_ip != L4U_EX_REGS_KEEP)
		g[REG_RIP] = (greg_t)t->req_ip;
	if (t->req_sp != L4U_EX_REGS_KEEP)
		g[REG_RSP] = (greg_t)t->req_sp;
	if (t->req_ip != L4U_EX_REGS_KEEP || t->req_sp != L4U_EX_REGS_KEEP)
		__atomic_store_n(&t->state, THREAD_RUNNING, __ATOMIC_SEQ_CST);
	sem_post(&t->ack);
}

static void thread_sig_install(void)
{
	struct sigaction sa = {
		.sa_sigaction	= thread_ex_regs_handler,
		/* SA_RESTART: a thread only read keeps its system call */
		.sa_flags	= SA_SIGINFO | SA_RESTART,
	};

	sigfillset(&sa.sa_mask);
	if (sigaction(L4U_EX_REGS_SIGNAL, &sa, NULL))
		thread_sig_error = -errno;
}

void l4u_thread_exit(void)
{
	struct l4u_thread *t = thread_self;

	if (!t)
		pthread_exit(NULL);
	__atomic_store_n(&t->exiting, 1, __ATOMIC_SEQ_CST);
	siglongjmp(t->exit_jmp, 1);
}

/* Where a function started on an l4u_thread_stack() returns to. */
__attribute__((force_align_arg_pointer, noreturn, used))
static void thread_return(void)
{
	l4u_thread_exit();
}

int l4u_thread_stack(void *stack, size_t size, uint64_t *sp)
{
	uint64_t top;

	if (!stack || size < 64 || !sp)
		return -EINVAL;
	top = ((uint64_t)(uintptr_t)stack + size) & ~15ULL;
	if (top - 16 < (uint64_t)(uintptr_t)stack)
		return -EINVAL;
	/* at a function's entry RSP + 8 is 16-aligned: [RSP] is the return */
	*(uint64_t *)(uintptr_t)(top - 8) = (uint64_t)(uintptr_t)thread_return;
	*sp = top - 8;
	return 0;
}

static void *thread_main(void *arg)
{
	struct l4u_thread *t = arg;
	struct l4u_task *task = t->task;

	t->tid = (pid_t)syscall(SYS_gettid);
	t->start_error = l4u_space_bind_thread(task->space, t->pager, &t->thread_id);
	if (t->start_error) {
		sem_post(&t->ready);
		return NULL;
	}
	/*
	 * The thread started with every signal blocked but the ex_regs one:
	 * that comes only from requests, and those only once create returned
	 * (after ready), so thread_self is set by then.
	 */
	if (!sigsetjmp(t->exit_jmp, 1)) {
		thread_self = t;
		sem_post(&t->ready);
		/* inactive: only ex_regs (the signal's handler) gets it out */
		for (;;)
			pause();
	}
	/*
	 * l4u_thread_exit() or deletion: back on the thread's own stack. From
	 * here on a late ex_regs signal finds exiting (its handler answers
	 * -ESRCH) or no thread_self (it returns at once).
	 */
	__atomic_store_n(&t->exiting, 1, __ATOMIC_SEQ_CST);
	thread_self = NULL;
	/* a request that raced with the exit is answered here */
	if (thread_take_request(t)) {
		t->req_result = -ESRCH;
		sem_post(&t->ack);
	}
	__atomic_store_n(&t->state, THREAD_EXITED, __ATOMIC_SEQ_CST);
	l4u_space_unbind_thread(task->space);
	return NULL;
}

int l4u_thread_create(struct l4u_task *task, int pager,
		      struct l4u_thread **thread)
{
	struct l4u_thread *t;
	sigset_t mask;
	int ret;

	if (!task || !thread || pager < -1)
		return -EINVAL;
	pthread_once(&thread_sig_once, thread_sig_install);
	if (thread_sig_error)
		return thread_sig_error;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->task = task;
	t->pager = pager;
	t->state = THREAD_INACTIVE;
	pthread_mutex_init(&t->lock, NULL);
	sem_init(&t->ready, 0, 0);
	sem_init(&t->ack, 0, 0);
	/* the thread starts with every signal blocked but ours */
	sigfillset(&mask);
	sigdelset(&mask, L4U_EX_REGS_SIGNAL);
	ret = task_pthread_create(&t->pt, thread_main, t, &mask);
	if (ret)
		goto free;
	while (sem_wait(&t->ready) && errno == EINTR)
		;
	if (t->start_error) {
		ret = t->start_error;
		pthread_join(t->pt, NULL);
		goto free;
	}
	pthread_mutex_lock(&task->lock);
	task->threads++;
	pthread_mutex_unlock(&task->lock);
	*thread = t;
	return 0;
free:
	sem_destroy(&t->ready);
	sem_destroy(&t->ack);
	pthread_mutex_destroy(&t->lock);
	free(t);
	return ret;
}

int l4u_thread_id(const struct l4u_thread *t, uint64_t *thread_id, pid_t *tid)
{
	if (!t)
		return -EINVAL;
	if (thread_id)
		*thread_id = t->thread_id;
	if (tid)
		*tid = t->tid;
	return 0;
}

/* One request to the thread's handler, with t->lock held. */
static int thread_request(struct l4u_thread *t)
{
	int ret;

	__atomic_store_n(&t->req_pending, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&t->exiting, __ATOMIC_SEQ_CST)) {
		/* whoever takes the request answers it */
		if (thread_take_request(t))
			return -ESRCH;
	} else {
		ret = pthread_kill(t->pt, L4U_EX_REGS_SIGNAL);
		if (ret && thread_take_request(t))
			return -ret;
	}
	while (sem_wait(&t->ack) && errno == EINTR)
		;
	return t->req_result;
}

int l4u_thread_ex_regs(struct l4u_thread *t, uint64_t ip, uint64_t sp,
		       unsigned int flags, uint64_t *old_ip, uint64_t *old_sp,
		       unsigned int *old_flags)
{
	int ret;

	if (!t || flags)
		return -EINVAL;
	if (t == thread_self)
		return -EDEADLK;
	pthread_mutex_lock(&t->lock);
	if (__atomic_load_n(&t->state, __ATOMIC_SEQ_CST) == THREAD_INACTIVE &&
	    ip == L4U_EX_REGS_KEEP && sp == L4U_EX_REGS_KEEP) {
		/* nothing to do and nothing to read: it sits in its wait */
		t->old_ip = t->old_sp = 0;
		t->old_flags = L4U_THREAD_INACTIVE;
		ret = 0;
	} else {
		t->quit = 0;
		t->set_pager = 0;
		t->req_ip = ip;
		t->req_sp = sp;
		ret = thread_request(t);
	}
	if (!ret) {
		if (old_ip)
			*old_ip = t->old_ip;
		if (old_sp)
			*old_sp = t->old_sp;
		if (old_flags)
			*old_flags = t->old_flags;
	}
	pthread_mutex_unlock(&t->lock);
	return ret;
}

int l4u_thread_set_pager(struct l4u_thread *t, int pager)
{
	int ret;

	if (!t || pager < -1)
		return -EINVAL;
	if (t == thread_self)
		return l4u_space_bind_thread(t->task->space, pager, NULL);
	pthread_mutex_lock(&t->lock);
	t->quit = 0;
	t->set_pager = 1;
	t->req_pager = pager;
	ret = thread_request(t);
	t->set_pager = 0;
	pthread_mutex_unlock(&t->lock);
	return ret;
}

int l4u_thread_delete(struct l4u_thread *t)
{
	struct l4u_task *task;

	if (!t)
		return -EINVAL;
	if (t == thread_self || pthread_equal(t->pt, pthread_self()))
		return -EDEADLK;
	task = t->task;
	pthread_mutex_lock(&t->lock);
	if (__atomic_load_n(&t->state, __ATOMIC_SEQ_CST) != THREAD_EXITED) {
		t->quit = 1;
		t->set_pager = 0;
		thread_request(t);	/* -ESRCH: it was leaving anyway */
	}
	pthread_mutex_unlock(&t->lock);
	pthread_join(t->pt, NULL);
	sem_destroy(&t->ready);
	sem_destroy(&t->ack);
	pthread_mutex_destroy(&t->lock);
	free(t);
	pthread_mutex_lock(&task->lock);
	task->threads--;
	pthread_mutex_unlock(&task->lock);
	return 0;
}
