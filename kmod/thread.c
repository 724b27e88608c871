// SPDX-License-Identifier: GPL-2.0
/*
 * Threads and pagers (Thread::control). A Linux thread registers as an L4
 * thread of a space and names its pager gate; threads that never did use
 * the space's default pager.
 *
 * The lock of the threads xarray (space->threads, keyed by Linux tid) is
 * the pager lock: it protects the default pager, every entry and every
 * entry's pager pointer. Each entry keeps a reference on its struct pid,
 * so a reused tid is never taken for the old thread. Linux tells a module
 * nothing when a thread exits, so entries of exited threads are pruned
 * lazily: every registration looks at the next two entries after a
 * rotating cursor and drops those whose thread is gone. Dead entries thus
 * never outnumber the live ones by more than a few, whatever the churn.
 * Allocations (the entry, xarray nodes) are charged to the registering
 * thread's memory cgroup and made without the lock held.
 */
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "l4u.h"

/* Entries looked at for pruning per registration. */
#define L4_THREAD_PRUNE	2

static atomic64_t l4_next_thread_id = ATOMIC64_INIT(0);

/* -1 means none; anything else must be a gate fd. */
static struct l4_gate *l4_gate_arg(int fd)
{
	if (fd == -1)
		return NULL;
	return l4_gate_get_fd(fd);
}

long l4_set_pager_ioctl(struct l4_space *space, struct l4_pager __user *uarg)
{
	struct l4_gate *gate, *old;
	struct l4_pager req;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if (req.flags || !l4_reserved_zero(req.reserved, ARRAY_SIZE(req.reserved)))
		return -EINVAL;
	gate = l4_gate_arg(req.gate_fd);
	if (IS_ERR(gate))
		return PTR_ERR(gate);

	xa_lock(&space->threads);
	old = space->default_pager;
	WRITE_ONCE(space->default_pager, gate);
	xa_unlock(&space->threads);
	l4_gate_put(old);
	return 0;
}

/* The calling thread's entry in @space, or NULL. */
static struct l4_thread *l4_thread_self(struct l4_space *space)
{
	struct l4_thread *thread = xa_load(&space->threads, current->pid);

	lockdep_assert_held(&space->threads.xa_lock);
	return thread && thread->pid == task_pid(current) ? thread : NULL;
}

static void l4_thread_free(struct l4_thread *thread)
{
	l4_gate_put(thread->pager);
	put_pid(thread->pid);
	atomic_long_dec(&l4_counters.threads);
	kfree(thread);
}

/*
 * Take up to L4_THREAD_PRUNE entries of exited threads out of @space
 * into @dead; returns how many.
 */
static unsigned int l4_thread_prune(struct l4_space *space,
				    struct l4_thread **dead)
{
	unsigned long tid = space->prune_cursor;
	struct l4_thread *thread;
	unsigned int n = 0, seen;

	lockdep_assert_held(&space->threads.xa_lock);
	for (seen = 0; seen < L4_THREAD_PRUNE; seen++) {
		thread = xa_find_after(&space->threads, &tid, ULONG_MAX, XA_PRESENT);
		if (!thread) {
			tid = 0;
			thread = xa_find(&space->threads, &tid, ULONG_MAX, XA_PRESENT);
			if (!thread)
				break;
		}
		if (!pid_has_task(thread->pid, PIDTYPE_PID)) {
			__xa_erase(&space->threads, tid);
			dead[n++] = thread;
		}
	}
	space->prune_cursor = tid;
	return n;
}

static long l4_thread_unregister(struct l4_space *space,
				 struct l4_thread_control *req)
{
	struct l4_thread *thread;

	if (req->pager_fd != -1)
		return -EINVAL;
	xa_lock(&space->threads);
	thread = l4_thread_self(space);
	if (thread)
		__xa_erase(&space->threads, current->pid);
	xa_unlock(&space->threads);
	if (!thread)
		return -ENOENT;
	req->thread_id = thread->id;
	l4_thread_free(thread);
	return 0;
}

static long l4_thread_register(struct l4_space *space,
			       struct l4_thread_control *req)
{
	struct l4_thread *thread, *fresh, *stale = NULL;
	struct l4_thread *dead[L4_THREAD_PRUNE];
	struct l4_gate *gate;
	unsigned int ndead;
	int err;

	gate = l4_gate_arg(req->pager_fd);
	if (IS_ERR(gate))
		return PTR_ERR(gate);

	/* made in advance; unused if the thread is registered already */
	fresh = kzalloc(sizeof(*fresh), L4_GFP_META);
	if (!fresh) {
		l4_gate_put(gate);
		return -ENOMEM;
	}

	fresh->pid = get_pid(task_pid(current));
	fresh->pager = gate;

	xa_lock(&space->threads);
	thread = l4_thread_self(space);
	if (thread) {
		/* already registered: change the pager */
		swap(thread->pager, fresh->pager);
	} else {
		/*
		 * An entry of an exited thread whose tid this one got is
		 * replaced. May drop the lock to allocate: only pruning can
		 * come in between, and it never touches a live thread's slot.
		 */
		stale = __xa_store(&space->threads, current->pid, fresh, L4_GFP_META);
		err = xa_err(stale);
		if (err) {
			xa_unlock(&space->threads);
			put_pid(fresh->pid);
			kfree(fresh);
			l4_gate_put(gate);
			return err;
		}
		thread = fresh;
		fresh = NULL;
		thread->id = atomic64_inc_return(&l4_next_thread_id);
		atomic_long_inc(&l4_counters.threads);
	}
	req->thread_id = thread->id;
	ndead = l4_thread_prune(space, dead);
	xa_unlock(&space->threads);

	if (fresh) {
		/* unused: it carries the old pager away */
		l4_gate_put(fresh->pager);
		put_pid(fresh->pid);
		kfree(fresh);
	}
	if (stale)
		l4_thread_free(stale);
	while (ndead)
		l4_thread_free(dead[--ndead]);
	return 0;
}

long l4_thread_control_ioctl(struct l4_space *space,
			     struct l4_thread_control __user *uarg)
{
	struct l4_thread_control req;
	long err;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if ((req.flags & ~L4_THREAD_FLAGS_KNOWN) || req.thread_id ||
	    !l4_reserved_zero(req.reserved, ARRAY_SIZE(req.reserved)))
		return -EINVAL;
	if (req.flags & L4_THREAD_UNREGISTER)
		err = l4_thread_unregister(space, &req);
	else
		err = l4_thread_register(space, &req);
	if (err)
		return err;
	return copy_to_user(uarg, &req, sizeof(req)) ? -EFAULT : 0;
}

/*
 * The pager gate for a fault of the current thread in @space, with a
 * reference, or NULL if there is none; *@thread_id gets the L4 thread id
 * (0: unregistered).
 */
struct l4_gate *l4_pager_get(struct l4_space *space, u64 *thread_id)
{
	struct l4_thread *thread;
	struct l4_gate *gate;

	xa_lock(&space->threads);
	thread = l4_thread_self(space);
	*thread_id = thread ? thread->id : 0;
	gate = thread && thread->pager ? thread->pager : space->default_pager;
	if (gate)
		kref_get(&gate->ref);
	xa_unlock(&space->threads);
	return gate;
}

/* Whether a fault of the current thread in @space would go to a pager. */
bool l4_pager_exists(struct l4_space *space)
{
	struct l4_thread *thread;
	bool exists;

	xa_lock(&space->threads);
	thread = l4_thread_self(space);
	exists = (thread && thread->pager) || space->default_pager;
	xa_unlock(&space->threads);
	return exists;
}

/* The space's file is gone: drop its threads and its default pager. */
void l4_space_release_threads(struct l4_space *space)
{
	struct l4_thread *thread;
	struct l4_gate *pager;
	unsigned long tid;

	xa_for_each(&space->threads, tid, thread) {
		xa_erase(&space->threads, tid);
		l4_thread_free(thread);
	}
	xa_lock(&space->threads);
	pager = space->default_pager;
	WRITE_ONCE(space->default_pager, NULL);
	xa_unlock(&space->threads);
	l4_gate_put(pager);
}
