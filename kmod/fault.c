// SPDX-License-Identifier: GPL-2.0
/*
 * Page faults that go to a user pager as IPC.
 *
 * A fault the space cannot resolve itself becomes a message to the pager
 * gate of the faulting thread (or the space's default pager). The faulter
 * never sleeps with the fault lock held. It first spins for the answer
 * with the lock held, bounded (l4_fault_to_pager()'s @hold): an answer
 * that comes then lets this very fault go on, to find what the pager
 * mapped, and an error is its result. Else, like handle_userfault(), it
 * drops mmap_lock (or the VMA lock), waits killably -- or interruptibly
 * when the fault allows -- and returns VM_FAULT_RETRY; the retried fault
 * finds what the pager mapped, or asks again.
 *
 * Having dropped the lock, the faulter can no longer return an error for
 * this fault: it leaves a verdict (SIGSEGV for an error reply, SIGBUS for
 * a dead pager or an EIO/EPIPE reply) keyed by its tid in space->verdicts
 * -- a task has no slot of its own a module could use -- and the retry,
 * which the architecture's fault handler makes at once, returns it. Only
 * that retry (FAULT_FLAG_TRIED) may take it: a first attempt at a fault
 * throws away whatever its thread left, so a verdict whose retry never
 * came (a signal handler ran first and jumped away) never meets a later
 * fault.
 *
 * How the faulter waits: killably, and interruptibly only for a fault from
 * user mode. A kernel-mode access (copy_from_user() into a window page) is
 * retried by the architecture at once unless the signal is fatal, so an
 * interruptible wait would end at once again on the same pending signal:
 * a livelock that floods the pager. userfaultfd's handle_userfault() has
 * the same split. Such an access completes when the pager answers, or
 * fails on SIGKILL.
 *
 * Who keeps the module: the faulter holds the window's file while it waits
 * and until it has left l4 code (the file pins the module through its
 * f_op, and the final fput() of a file is deferred to task work).
 */
#include <linux/file.h>
#include <linux/mm.h>
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <linux/sched/task_stack.h>
#include <linux/xarray.h>

#include "compat.h"
#include "observe.h"

enum { L4_VERDICT_SEGV = 1, L4_VERDICT_BUS = 2 };

/* What a fault returns for a verdict. */
static vm_fault_t l4_verdict_fault(int verdict)
{
	return verdict == L4_VERDICT_SEGV ? VM_FAULT_SIGSEGV : VM_FAULT_SIGBUS;
}

static void l4_verdict_set(struct l4_space *space, pgoff_t index, int verdict)
{
	/* a failed store only loses the signal: the retry asks again */
	xa_store(&space->verdicts, current->pid,
		 xa_mk_value((index << 2) | verdict), L4_GFP_META);
}

/*
 * The verdict the previous attempt of this fault left, or 0. A first
 * attempt only clears what an abandoned fault of this thread left.
 */
vm_fault_t l4_fault_verdict(struct vm_fault *vmf)
{
	struct l4_space *space = vmf->vma->vm_private_data;
	unsigned long val;
	void *entry;

	if (xa_empty(&space->verdicts))
		return 0;
	entry = xa_erase(&space->verdicts, current->pid);
	if (!xa_is_value(entry) || !(vmf->flags & FAULT_FLAG_TRIED))
		return 0;
	val = xa_to_value(entry);
	if ((val >> 2) != vmf->pgoff)
		return 0;	/* stale: left by a fault elsewhere */
	return l4_verdict_fault(val & 3);
}

/* Would a fault of the current thread in @space go to a pager? */
bool l4_fault_has_pager(struct l4_space *space)
{
	return l4_pager_exists(space);
}

/* What an answer to a fault means for it: 0 (look again), or a signal. */
static int l4_fault_answer_verdict(int err, const struct l4_ipc *ipc)
{
	/* a dead pager, or one saying the memory behind the page is gone */
	if (err == -EPIPE || (!err && (ipc->status == EPIPE || ipc->status == EIO)))
		return L4_VERDICT_BUS;
	if (!err && ipc->status)
		return L4_VERDICT_SEGV;
	return 0;
}

/*
 * Send the fault at vmf to the pager and wait for its answer. @rights: what
 * the access needs; @present: the page is there but with fewer rights.
 *
 * @hold: first spin for the answer with the fault lock held, and if it
 * comes, go on with this very fault: returns 0, and the caller looks again
 * (or the signal the answer means). A fault answered in place takes no
 * retry through the architecture's fault handler and no second walk to the
 * VMA: UFFDIO_CONTINUE gets the same by installing the PTE from the
 * pager's call, here the faulter does it on its own CPU. Holding the lock
 * is bounded by the spin, which ends when the receiver sleeps (for
 * instance on this very lock: a pager thread of the same process that
 * maps), when anything else could run here, or after twice a wake-up's
 * cost; then the faulter drops the lock and sleeps as without @hold. A
 * caller passes @hold for the first message of a fault only, so a pager
 * that keeps answering without a mapping meets the retry path.
 */
vm_fault_t l4_fault_to_pager(struct vm_fault *vmf, u8 rights, bool present,
			     bool hold)
{
	struct l4_space *space = vmf->vma->vm_private_data;
	pgoff_t index = vmf->pgoff;
	struct file *window;
	struct l4_gate *gate;
	struct l4_ipc *ipc;
	unsigned int state;
	u64 pfa, thread_id;
	int err, verdict;

	gate = l4_pager_get(space, &thread_id);
	if (!gate)
		return present ? VM_FAULT_SIGSEGV : VM_FAULT_SIGBUS;
	/* no way to drop the lock (e.g. GUP without `locked`): like uffd */
	if (!(vmf->flags & FAULT_FLAG_ALLOW_RETRY) || READ_ONCE(gate->dead)) {
		l4_gate_put(gate);
		return VM_FAULT_SIGBUS;
	}
	if (vmf->flags & FAULT_FLAG_RETRY_NOWAIT) {
		l4_gate_put(gate);
		return VM_FAULT_RETRY;
	}

	ipc = l4_ipc_alloc(gate);	/* our gate reference is the message's */
	if (!ipc)
		return VM_FAULT_SIGBUS;
	pfa = ((u64)index << PAGE_SHIFT) | (vmf->real_address & ~PAGE_MASK);
	ipc->label = L4_LABEL_PAGE_FAULT;
	ipc->nwords = 2;
	ipc->words[0] = (pfa & ~7ULL) |
			(rights & L4_FPAGE_X ? L4_PF_EXEC : 0) |
			(rights & L4_FPAGE_W ? L4_PF_WRITE : 0) |
			(present ? L4_PF_PRESENT : 0);
	ipc->words[1] = instruction_pointer(task_pt_regs(current));
	ipc->space_id = space->id;
	ipc->thread_id = thread_id;
	kref_get(&space->ref);		/* outlives the vma once we unlock */
	ipc->rcv_space = space;
	ipc->rcv_window = L4_FPAGE_WHOLE_SPACE;

	/* counted and observed before the pager can see it */
	l4_count_inc(pager_faults);
	l4_obs_fault(space, ipc->words[0], thread_id);
	err = l4_gate_send(gate, ipc);
	if (err) {
		l4_count_dec(pager_faults);
		l4_ipc_put(ipc);
		return VM_FAULT_SIGBUS;
	}

	if (hold && l4_gate_spin(gate, ipc)) {
		verdict = l4_fault_answer_verdict(ipc->error, ipc);
		l4_ipc_put(ipc);
		return verdict ? l4_verdict_fault(verdict) : 0;
	}

	state = (vmf->flags & FAULT_FLAG_INTERRUPTIBLE) &&
		(vmf->flags & FAULT_FLAG_USER) ? TASK_INTERRUPTIBLE : TASK_KILLABLE;
	window = get_file(vmf->vma->vm_file);	/* keeps the module */
	l4_release_fault_lock(vmf);
	/* from here on, vmf->vma may be gone: only space, gate and ipc */
	if (hold)	/* spun already */
		err = l4_gate_sleep(gate, ipc, state, MAX_SCHEDULE_TIMEOUT);
	else
		err = l4_gate_wait(gate, ipc, state, MAX_SCHEDULE_TIMEOUT);
	verdict = l4_fault_answer_verdict(err, ipc);
	if (verdict)
		l4_verdict_set(space, index, verdict);
	l4_ipc_put(ipc);
	fput(window);
	/* MAJOR: a retry after a VMA-locked attempt is then marked TRIED too */
	return VM_FAULT_RETRY | VM_FAULT_MAJOR;
}
