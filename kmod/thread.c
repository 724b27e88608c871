// SPDX-License-Identifier: GPL-2.0
/*
 * Threads and pagers (Thread::control). A Linux thread registers as an L4
 * thread of a space and names its pager gate; threads that never did use
 * the space's default pager. space->pager_lock protects the default pager
 * and every registered thread's pager pointer; the threads xarray is keyed
 * by Linux tid and each entry keeps a reference on its struct pid, so a
 * reused tid is never taken for the old thread.
 */
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "l4u.h"

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

	spin_lock(&space->pager_lock);
	old = space->default_pager;
	space->default_pager = gate;
	spin_unlock(&space->pager_lock);
	l4_gate_put(old);
	return 0;
}

/*
 * The calling thread's entry in @space (pager_lock or RCU not needed:
 * only the thread itself adds or removes its entry).
 */
static struct l4_thread *l4_thread_self(struct l4_space *space)
{
	struct l4_thread *thread = xa_load(&space->threads, current->pid);

	return thread && thread->pid == task_pid(current) ? thread : NULL;
}

static void l4_thread_free(struct l4_thread *thread)
{
	l4_gate_put(thread->pager);
	put_pid(thread->pid);
	atomic_long_dec(&l4_counters.threads);
	kfree(thread);
}

long l4_thread_control_ioctl(struct l4_space *space,
			     struct l4_thread_control __user *uarg)
{
	struct l4_thread_control req;
	struct l4_thread *thread, *stale;
	struct l4_gate *gate, *old;
	int err;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if ((req.flags & ~L4_THREAD_FLAGS_KNOWN) || req.thread_id ||
	    !l4_reserved_zero(req.reserved, ARRAY_SIZE(req.reserved)))
		return -EINVAL;

	if (req.flags & L4_THREAD_UNREGISTER) {
		if (req.pager_fd != -1)
			return -EINVAL;
		thread = l4_thread_self(space);
		if (!thread)
			return -ENOENT;
		spin_lock(&space->pager_lock);
		xa_erase(&space->threads, current->pid);
		spin_unlock(&space->pager_lock);
		req.thread_id = thread->id;
		l4_thread_free(thread);
		goto out;
	}

	gate = l4_gate_arg(req.pager_fd);
	if (IS_ERR(gate))
		return PTR_ERR(gate);

	thread = l4_thread_self(space);
	if (thread) {
		/* already registered: change the pager */
		spin_lock(&space->pager_lock);
		old = thread->pager;
		thread->pager = gate;
		spin_unlock(&space->pager_lock);
		l4_gate_put(old);
		req.thread_id = thread->id;
		goto out;
	}

	thread = kzalloc(sizeof(*thread), L4_GFP_META);
	if (!thread) {
		l4_gate_put(gate);
		return -ENOMEM;
	}
	thread->pid = get_pid(task_pid(current));
	thread->pager = gate;
	thread->id = atomic64_inc_return(&l4_next_thread_id);
	atomic_long_inc(&l4_counters.threads);

	/* an entry of a dead thread whose tid this one got is replaced */
	spin_lock(&space->pager_lock);
	stale = xa_store(&space->threads, current->pid, thread, GFP_ATOMIC);
	spin_unlock(&space->pager_lock);
	if (xa_is_err(stale)) {
		err = xa_err(stale);
		l4_thread_free(thread);
		return err;
	}
	if (stale)
		l4_thread_free(stale);
	req.thread_id = thread->id;
out:
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

	spin_lock(&space->pager_lock);
	thread = xa_load(&space->threads, current->pid);
	if (thread && thread->pid != task_pid(current))
		thread = NULL;
	*thread_id = thread ? thread->id : 0;
	gate = thread && thread->pager ? thread->pager : space->default_pager;
	if (gate)
		kref_get(&gate->ref);
	spin_unlock(&space->pager_lock);
	return gate;
}

/* The space's file is gone: drop its threads and its default pager. */
void l4_space_release_threads(struct l4_space *space)
{
	struct l4_thread *thread;
	unsigned long tid;

	xa_for_each(&space->threads, tid, thread) {
		xa_erase(&space->threads, tid);
		l4_thread_free(thread);
	}
	l4_gate_put(space->default_pager);
	space->default_pager = NULL;
}
