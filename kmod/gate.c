// SPDX-License-Identifier: GPL-2.0
/*
 * Gates: IPC endpoints. Senders (faulting threads, callers) queue messages;
 * servers receive them, and answer each by its token with a reply that may
 * carry map items into the sender's receive window.
 *
 * Objects and locks:
 *   l4_gate   kref: its file holds one, every space or thread that names it
 *             as pager holds one, every sender in flight holds one.
 *             gate->inflight's xa_lock is THE gate lock: it protects the
 *             pending list, the token table, message states and `dead`.
 *   l4_ipc    refcount: the sender holds one, the gate one while the
 *             message is pending or in flight. States:
 *               QUEUED    on gate->pending
 *               RECEIVED  in gate->inflight under its token
 *               CLAIMED   a good answer is being applied (out of the
 *                         table: no other answer can find it)
 *               DONE      answered (or failed); `done` completed
 *               ABANDONED the sender left (killed, timed out) while the
 *                         message was RECEIVED or CLAIMED: a late reply
 *                         gets ESRCH; an answer at work finishes alone
 * A sender that gives up never waits for anyone: a killed task gets out.
 * The last receive fd of a gate closing makes it dead: every QUEUED and
 * RECEIVED message fails with EPIPE, and every later send too. No receiver
 * or replier can run then (each holds the file), so nothing races the death.
 *
 * Send capabilities are files of their own (abi.c) that hold a gate
 * reference and count in gate->senders (l4_gate_sender_add()/_drop(), under
 * the gate lock). They
 * can call, and name the gate as a pager, but never receive: so they do
 * not keep the gate alive. When the count drops to zero on a live gate,
 * the NO_SENDERS notification that L4_IOC_GATE_SEND_CAP allocated in
 * advance (gate->no_senders; closing a file can't fail for lack of memory)
 * is queued, unless one is queued already (no_senders_queued): a gate
 * holds at most one notification queued and one ready. A notification has
 * no sender and takes no reply: a receiver takes it out of the gate whole,
 * with token 0.
 */
#include <linux/module.h>
#include <linux/pid.h>
#include <linux/poll.h>
#include <linux/sched/clock.h>
#include <linux/sched/signal.h>
#include <linux/sched/stat.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/wait.h>

#include "compat.h"
#include "observe.h"

/*
 * How long a waiting sender spins before it sleeps: up to twice what a
 * wake-up has cost lately (measured per gate; l4_wake_ns over all gates,
 * where new gates start), at most spin_ns.
 */
unsigned int l4_spin_ns = 500000;
module_param_named(spin_ns, l4_spin_ns, uint, 0644);
MODULE_PARM_DESC(spin_ns, "the longest a faulter or caller spins for its answer before it sleeps, in ns, per phase: queued, and held by a running receiver (0: never)");
unsigned long l4_wake_ns = 50000;
module_param_named(wake_ns, l4_wake_ns, ulong, 0444);
MODULE_PARM_DESC(wake_ns, "what waking a sleeping sender has cost lately over all gates, in ns (moving average); each gate keeps its own, starting from this (L4_IOC_GATE_INFO)");
unsigned int l4_max_inflight = 4096;
module_param_named(max_inflight, l4_max_inflight, uint, 0644);
MODULE_PARM_DESC(max_inflight, "most messages one gate may hold received and not yet answered (receive: EBUSY beyond; at most 2^24)");

enum {
	L4_IPC_QUEUED, L4_IPC_RECEIVED, L4_IPC_CLAIMED, L4_IPC_DONE,
	L4_IPC_ABANDONED
};

/*
 * A token is a sequence number above the message's slot in the token
 * table. Slots are the lowest free index, so the usual single message in
 * flight sits at index 0, which the xarray keeps in its head: no node is
 * allocated and freed (through RCU) per message. The sequence number keeps
 * a stale token from naming a later message in the same slot (it wraps
 * after 2^40 messages of one gate).
 */
#define L4_TOKEN_SLOT_BITS	24
#define L4_TOKEN_SLOT_MASK	((1ULL << L4_TOKEN_SLOT_BITS) - 1)

/*
 * The highest token slot a message may take: a gate holds at most
 * max_inflight messages received and not answered (EBUSY beyond). Each
 * one is kernel memory that a server can leave lying: messages whose
 * callers timed out stay until answered (ESRCH) or the gate dies.
 */
static u32 l4_gate_max_slot(void)
{
	unsigned int max = READ_ONCE(l4_max_inflight);

	return clamp_t(u64, max, 1, L4_TOKEN_SLOT_MASK + 1) - 1;
}

/* The message in flight under @token, or NULL. */
static struct l4_ipc *l4_gate_lookup(struct l4_gate *gate, u64 token)
{
	struct l4_ipc *ipc = xa_load(&gate->inflight, token & L4_TOKEN_SLOT_MASK);

	lockdep_assert_held(&gate->inflight.xa_lock);
	return ipc && ipc->token == token ? ipc : NULL;
}

static void l4_gate_free(struct kref *ref)
{
	struct l4_gate *gate = container_of(ref, struct l4_gate, ref);

	WARN_ON_ONCE(!list_empty(&gate->pending));
	WARN_ON_ONCE(!xa_empty(&gate->inflight));
	WARN_ON_ONCE(gate->senders);
	xa_destroy(&gate->inflight);
	if (gate->no_senders)
		l4_ipc_put(gate->no_senders);
	kfree(gate->spare);
	l4_count_dec(gates);
	kfree(gate);
}

void l4_gate_get(struct l4_gate *gate)
{
	kref_get(&gate->ref);
}

void l4_gate_put(struct l4_gate *gate)
{
	if (gate)
		kref_put(&gate->ref, l4_gate_free);
}

/* A new gate, its one reference the caller's (its receive file's). */
struct l4_gate *l4_gate_alloc(void)
{
	struct l4_gate *gate = kzalloc(sizeof(*gate), L4_GFP_META);

	if (!gate)
		return NULL;
	kref_init(&gate->ref);
	xa_init_flags(&gate->inflight, XA_FLAGS_ALLOC);
	INIT_LIST_HEAD(&gate->pending);
	init_waitqueue_head(&gate->wq);
	gate->wake_ns = READ_ONCE(l4_wake_ns);
	l4_count_inc(gates);
	return gate;
}

/*
 * One spare message per gate. Every fault and call allocates a message and
 * frees it right after the answer: recycling it keeps the allocator (and,
 * on a debug kernel, KASAN's and kmemleak's bookkeeping) off the round
 * trip. Per gate, not per CPU: the last reference to an answered message
 * is dropped by whichever of sender and replier comes last -- often the
 * replier, since a sender that spun takes its answer without waiting on
 * the completion -- so frees would land on the pager's CPU and allocations
 * on the faulter's, and a per-CPU spare would never be there. A message
 * holds a reference on its gate and goes back to it; the spare holds none
 * (the gate frees it). Notifications are not recycled.
 *
 * Messages are charged to the memory cgroup of the sender that allocated
 * them; a recycled one stays charged to its first sender, which is at
 * most one message per gate. What bounds their number: a queued or
 * in-flight message has a sender waiting for it (one per thread), except
 * those whose sender gave up after a receiver took them (at most
 * max_inflight per gate, see l4_gate_take()) and notifications (at most
 * one queued and one ready per gate).
 */
static void l4_ipc_free(struct l4_ipc *ipc)
{
	struct l4_gate *gate = ipc->gate;

	if (!gate || cmpxchg(&gate->spare, NULL, ipc))
		kfree(ipc);
	l4_gate_put(gate);
}

/* A message, @spare reused or a new one: one reference, on no list. */
static struct l4_ipc *l4_ipc_new(struct l4_ipc *spare)
{
	struct l4_ipc *ipc = spare;

	if (ipc) {
		/* the completion stays initialised (no new lockdep class) */
		memset((char *)ipc + offsetofend(struct l4_ipc, done), 0,
		       sizeof(*ipc) - offsetofend(struct l4_ipc, done));
		reinit_completion(&ipc->done);
	} else {
		ipc = kzalloc(sizeof(*ipc), L4_GFP_META);
		if (!ipc)
			return NULL;
		init_completion(&ipc->done);
	}
	refcount_set(&ipc->ref, 1);
	INIT_LIST_HEAD(&ipc->link);
	return ipc;
}

/*
 * A message from the current task to @gate. The caller's reference on
 * @gate becomes the message's (and is dropped if there is no memory).
 */
struct l4_ipc *l4_ipc_alloc(struct l4_gate *gate)
{
	struct l4_ipc *ipc = l4_ipc_new(xchg(&gate->spare, NULL));

	if (!ipc) {
		l4_gate_put(gate);
		return NULL;
	}
	ipc->sender = get_pid(task_pid(current));
	ipc->gate = gate;
	return ipc;
}

/* A NO_SENDERS notification, made when a send capability is. */
struct l4_ipc *l4_ipc_alloc_notify(void)
{
	struct l4_ipc *ipc = l4_ipc_new(NULL);

	if (!ipc)
		return NULL;
	ipc->notify = true;
	ipc->label = L4_LABEL_NO_SENDERS;
	return ipc;
}

void l4_ipc_put(struct l4_ipc *ipc)
{
	if (!refcount_dec_and_test(&ipc->ref))
		return;
	if (ipc->rcv_space)
		l4_space_put(ipc->rcv_space);
	if (ipc->receiver)
		put_task_struct(ipc->receiver);
	put_pid(ipc->sender);
	l4_ipc_free(ipc);
}

/*
 * Finish @ipc with @error (ours: 0 answered, -EPIPE the gate died). Whoever
 * calls it owns the message's state: it holds the gate lock, or took the
 * message out of the token table after claiming it.
 */
static void l4_ipc_finish(struct l4_ipc *ipc, int error)
{
	ipc->error = error;
	/* only a sender that sleeps measures its wake-up (the clock is not free) */
	if (READ_ONCE(ipc->sleeps))
		ipc->done_ns = local_clock();
	/* the answer before the state: a spinning sender takes it without the lock */
	smp_store_release(&ipc->state, L4_IPC_DONE);
	complete(&ipc->done);
}

/* Queue @ipc on @gate; -EPIPE if the gate is dead. */
int l4_gate_send(struct l4_gate *gate, struct l4_ipc *ipc)
{
	xa_lock(&gate->inflight);
	if (gate->dead) {
		xa_unlock(&gate->inflight);
		return -EPIPE;
	}
	refcount_inc(&ipc->ref);	/* the gate's */
	ipc->state = L4_IPC_QUEUED;
	list_add_tail(&ipc->link, &gate->pending);
	xa_unlock(&gate->inflight);
	/*
	 * A receiver spinning for it needs no wake-up: only sleepers and
	 * pollers do. The barrier in wq_has_sleeper() pairs with the one in
	 * set_current_state() of a sleeping receiver and with the one after
	 * poll_wait() in l4_gate_poll().
	 */
	if (wq_has_sleeper(&gate->wq))
		wake_up_interruptible_poll(&gate->wq, EPOLLIN | EPOLLRDNORM);
	return 0;
}

/*
 * A spin polls its condition L4_SPIN_POLLS times per cpu_relax() and per
 * look at the clock. A pause is not free for the other CPUs everywhere:
 * under QEMU's TCG, our test bed, a pause leaves the translated code
 * through the vCPU loop, which takes the emulator's global lock, and so
 * does every exception another vCPU delivers. A pager pausing on every
 * poll while it waited for the next fault slowed its faulter's round trip
 * by 2.4 us of 25 -- the faulter's page fault waited for that lock; a
 * pause every 16 polls took that back and one every 64 another 4 %
 * (docs/benchmarks.md). Under KVM, pauses closer together than the
 * pause-loop-exiting gap make a VM exit. A poll is a few loads: 64 of
 * them take well under a microsecond on hardware, so a spinning
 * hyperthread still pauses often enough for its sibling. The clock is
 * read as seldom: where the TSC is unstable (it is under TCG),
 * local_clock() costs more than a poll.
 */
#define L4_SPIN_POLLS	64

/* How long a spin at @gate may last, in ns: see l4_gate_spin(); 0: none. */
static u64 l4_spin_limit(struct l4_gate *gate)
{
	return min_t(u64, READ_ONCE(l4_spin_ns), 2 * READ_ONCE(gate->wake_ns));
}

/*
 * May a spin that started at @start go on after @polls polls? Not if
 * anything else could run here, a signal is pending or @limit has passed.
 */
static bool l4_spin_go_on(unsigned int polls, u64 start, u64 limit)
{
	if (!single_task_running() || need_resched() || signal_pending(current))
		return false;
	if (polls % L4_SPIN_POLLS)
		return true;
	if (local_clock() - start > limit)
		return false;
	cpu_relax();
	return true;
}

/*
 * Before it sleeps, a sender spins for its answer, the way a mutex waiter
 * spins on a running owner: going to sleep and being woken up costs more
 * than a short answer (a wake-up of an idle CPU is the bulk of a fault
 * round trip). How long is worth it is what blocking costs -- spinning
 * that long and no longer is within twice the best choice whatever the
 * answer's time (the classic spin-then-block argument) -- and that differs
 * by machine and kernel, so it is measured, per gate: gate->wake_ns is a
 * moving average of how long a sleeping sender took to run after its answer
 * came (one tenant's slow server must not change how long another's clients
 * spin). A sender spins up to twice that, at most l4_spin_ns, while the message is
 * queued, and as long again from the moment a receiver took it, as long as
 * that receiver is on a CPU; never while another task could run on this
 * CPU (KVM's halt polling stops on the same test: a pager further down a
 * chain may be the one waiting for it) or a signal is pending. True if
 * answered: then ipc->error and the server's answer in @ipc are final.
 */
bool l4_gate_spin(struct l4_gate *gate, struct l4_ipc *ipc)
{
	u64 limit = l4_spin_limit(gate);
	struct task_struct *seen = NULL, *rcv;
	unsigned int polls = 0;
	u64 start;

	if (!limit)
		return false;
	start = local_clock();
	for (;;) {
		/* pairs with l4_ipc_finish(): the answer is there once DONE is */
		switch (smp_load_acquire(&ipc->state)) {
		case L4_IPC_DONE:
			return true;
		case L4_IPC_QUEUED:
			break;
		default:
			/* the reference lives as long as the message */
			rcv = READ_ONCE(ipc->receiver);
			if (!rcv || !owner_on_cpu(rcv))
				return false;
			if (rcv != seen) {
				seen = rcv;
				start = local_clock();
			}
		}
		if (!l4_spin_go_on(++polls, start, limit))
			return false;
	}
}

/* One sample into a moving average of 1/8 weight. */
static void l4_wake_average(unsigned long *avg, s64 d)
{
	unsigned long old = READ_ONCE(*avg);

	WRITE_ONCE(*avg, old - old / 8 + d / 8);
}

/*
 * A sender that slept was woken for its answer: how long that took goes
 * into the gate's estimate, and into the module-wide one that new gates
 * start from (the parameter wake_ns). Racing updates may lose a sample,
 * which a moving average does not mind. The two clocks are two CPUs'
 * local_clock(): a sample out of bounds is dropped.
 */
static void l4_wake_sample(struct l4_gate *gate, const struct l4_ipc *ipc)
{
	s64 d = local_clock() - ipc->done_ns;

	if (!ipc->done_ns || d <= 0 || d > 10 * NSEC_PER_MSEC)
		return;
	l4_wake_average(&gate->wake_ns, d);
	l4_wake_average(&l4_wake_ns, d);
}

/*
 * Sleep until @ipc is answered, after a spin that did not see the answer.
 * @state: TASK_KILLABLE or TASK_INTERRUPTIBLE; @timeout in jiffies
 * (MAX_SCHEDULE_TIMEOUT: none). Returns 0 when it was answered (the
 * server's own errno, if any, is in ipc->status), -EPIPE when the gate
 * died, or -EINTR / -ETIMEDOUT when the sender gives up; then the message
 * is withdrawn so that no trace remains (a late reply gets ESRCH).
 */
int l4_gate_sleep(struct l4_gate *gate, struct l4_ipc *ipc, unsigned int state,
		  long timeout)
{
	long left;

	/* may come too late for the answer: then there is no sample */
	WRITE_ONCE(ipc->sleeps, true);
	if (state == TASK_INTERRUPTIBLE)
		left = wait_for_completion_interruptible_timeout(&ipc->done, timeout);
	else
		left = wait_for_completion_killable_timeout(&ipc->done, timeout);
	if (left > 0) {
		l4_wake_sample(gate, ipc);
		return ipc->error;
	}

	xa_lock(&gate->inflight);
	switch (ipc->state) {
	case L4_IPC_QUEUED:
		list_del_init(&ipc->link);
		ipc->state = L4_IPC_ABANDONED;
		xa_unlock(&gate->inflight);
		l4_ipc_put(ipc);	/* the gate's */
		break;
	case L4_IPC_RECEIVED:
	case L4_IPC_CLAIMED:
		/*
		 * The token stays until a reply (ESRCH) or the gate's death;
		 * an answer at work finishes without us (it still maps).
		 * Never wait here: a killed task must get out.
		 */
		ipc->state = L4_IPC_ABANDONED;
		xa_unlock(&gate->inflight);
		break;
	default:
		/* answered just now: take the answer */
		xa_unlock(&gate->inflight);
		return ipc->error;
	}
	return left ? -EINTR : -ETIMEDOUT;
}

/* Spin, then sleep, for the answer to @ipc: see l4_gate_sleep(). */
int l4_gate_wait(struct l4_gate *gate, struct l4_ipc *ipc, unsigned int state,
		 long timeout)
{
	if (l4_gate_spin(gate, ipc))
		return ipc->error;
	return l4_gate_sleep(gate, ipc, state, timeout);
}

/*
 * Take the first pending message, give it a token and move it in flight.
 * Returns it (the gate's reference now belongs to the token table), NULL
 * if none is pending, or ERR_PTR(-ENOMEM / -EBUSY). A notification leaves
 * the gate with token 0 instead: the gate's reference goes to the receiver.
 */
static struct l4_ipc *l4_gate_take(struct l4_gate *gate)
{
	struct l4_ipc *ipc;
	u64 seq;
	u32 slot;
	int err;

	xa_lock(&gate->inflight);
	ipc = list_first_entry_or_null(&gate->pending, struct l4_ipc, link);
	if (ipc && ipc->notify) {
		list_del_init(&ipc->link);
		gate->no_senders_queued = false;
		ipc->token = 0;
		ipc->state = L4_IPC_DONE;
	} else if (ipc) {
		list_del_init(&ipc->link);
		/* before the state: a spinning sender reads them in turn */
		if (!ipc->receiver)
			WRITE_ONCE(ipc->receiver, get_task_struct(current));
		WRITE_ONCE(ipc->state, L4_IPC_RECEIVED);
		/* may drop the lock to allocate; the message is ours meanwhile */
		err = __xa_alloc(&gate->inflight, &slot, ipc,
				 XA_LIMIT(0, l4_gate_max_slot()), L4_GFP_META);
		if (!err) {
			seq = ++gate->next_token;
			if (!(seq << L4_TOKEN_SLOT_BITS))	/* never token 0 */
				seq = ++gate->next_token;
			ipc->token = (seq << L4_TOKEN_SLOT_BITS) | slot;
		}
		if (err && ipc->state == L4_IPC_ABANDONED) {
			/* its sender left while the lock was dropped */
			xa_unlock(&gate->inflight);
			l4_ipc_put(ipc);
			return ERR_PTR(err);
		}
		if (err) {
			ipc->state = L4_IPC_QUEUED;
			list_add(&ipc->link, &gate->pending);
			ipc = ERR_PTR(err);
		}
	}
	xa_unlock(&gate->inflight);
	return ipc;
}

bool l4_gate_readable(struct l4_gate *gate)
{
	return !list_empty_careful(&gate->pending);
}

bool l4_gate_dead(struct l4_gate *gate)
{
	return READ_ONCE(gate->dead);
}

wait_queue_head_t *l4_gate_waitq(struct l4_gate *gate)
{
	return &gate->wq;
}

/* What waits at @gate now (L4_IOC_GATE_INFO). */
void l4_gate_info(struct l4_gate *gate, struct l4_gate_info *info)
{
	struct l4_ipc *ipc;
	unsigned long slot;

	memset(info, 0, sizeof(*info));
	xa_lock(&gate->inflight);
	list_for_each_entry(ipc, &gate->pending, link)
		info->queued++;
	xa_for_each(&gate->inflight, slot, ipc)
		info->inflight++;
	info->senders = gate->senders;
	info->dead = gate->dead;
	xa_unlock(&gate->inflight);
	info->wake_ns = READ_ONCE(gate->wake_ns);
}

/*
 * Before a receiver sleeps it spins for the next message the way a sender
 * spins for its answer (l4_gate_spin()), with the same limit and the same
 * tests: a pager answering a stream of faults with REPLY_WAIT then finds
 * the next fault without being woken, as a busy-polling pager would, but
 * gives the CPU up as soon as anything else wants it. True if one came.
 */
static bool l4_gate_spin_receive(struct l4_gate *gate)
{
	u64 limit = l4_spin_limit(gate);
	unsigned int polls;
	u64 start;

	if (!limit)
		return false;
	start = local_clock();
	for (polls = 1; !l4_gate_readable(gate); polls++)
		if (!l4_spin_go_on(polls, start, limit))
			return false;
	return true;
}

/*
 * Receive one message: it is in flight under its token (a notification:
 * out of the gate with token 0). Blocks (interruptibly) unless @nonblock.
 * The caller delivers it and then calls l4_gate_delivered(), or, if it
 * could not, l4_gate_unreceive().
 */
struct l4_ipc *l4_gate_receive(struct l4_gate *gate, bool nonblock)
{
	struct l4_ipc *ipc;
	int err;

	for (;;) {
		ipc = l4_gate_take(gate);
		if (ipc)
			return ipc;
		if (nonblock)
			return ERR_PTR(-EAGAIN);
		if (l4_gate_spin_receive(gate))
			continue;
		/* exclusive: one message wakes one receiver */
		err = wait_event_interruptible_exclusive(gate->wq,
							 l4_gate_readable(gate));
		if (err)
			return ERR_PTR(err);
	}
}

/* @ipc reached its receiver. */
void l4_gate_delivered(struct l4_ipc *ipc)
{
	if (ipc->notify)
		l4_ipc_put(ipc);	/* nothing answers it */
	l4_count_inc(messages);
}

/* Put a received message back at the head (its receiver could not take it). */
void l4_gate_unreceive(struct l4_gate *gate, struct l4_ipc *ipc)
{
	xa_lock(&gate->inflight);
	if (ipc->notify)
		gate->no_senders_queued = true;
	else
		__xa_erase(&gate->inflight, ipc->token & L4_TOKEN_SLOT_MASK);
	if (ipc->state == L4_IPC_ABANDONED) {
		xa_unlock(&gate->inflight);
		l4_ipc_put(ipc);
		return;
	}
	ipc->state = L4_IPC_QUEUED;
	list_add(&ipc->link, &gate->pending);
	xa_unlock(&gate->inflight);
	wake_up_interruptible_poll(&gate->wq, EPOLLIN | EPOLLRDNORM);
}

/*
 * Claim the message @token names for an answer that @accept finds good:
 * it leaves the token table, so that nobody else can answer it, in one
 * hold of the gate lock with the check. @accept runs under that lock and
 * must not sleep. The message's sender still waits, or left (then nothing
 * waits for the answer, which still maps). ERR_PTR: -ENOENT no such
 * message (or it is answered, or being answered), -ESRCH its sender left
 * (the message is dropped), or @accept's error (the message stays in
 * flight under its token, as it was).
 */
struct l4_ipc *l4_gate_claim(struct l4_gate *gate, u64 token,
			     int (*accept)(const struct l4_ipc *ipc, void *arg),
			     void *arg)
{
	struct l4_ipc *ipc;
	int err;

	xa_lock(&gate->inflight);
	ipc = l4_gate_lookup(gate, token);
	if (ipc && ipc->state == L4_IPC_ABANDONED) {
		__xa_erase(&gate->inflight, token & L4_TOKEN_SLOT_MASK);
		xa_unlock(&gate->inflight);
		l4_ipc_put(ipc);	/* the table's */
		return ERR_PTR(-ESRCH);
	}
	err = ipc ? accept(ipc, arg) : -ENOENT;
	if (!err) {
		__xa_erase(&gate->inflight, token & L4_TOKEN_SLOT_MASK);
		ipc->state = L4_IPC_CLAIMED;
	}
	xa_unlock(&gate->inflight);
	return err ? ERR_PTR(err) : ipc;
}

/* Wake the sender of a claimed message with its answer (in @ipc). */
void l4_gate_answer(struct l4_ipc *ipc)
{
	/* counted and observed before its sender can run */
	l4_count_inc(replies);
	l4_obs_reply(ipc);
	l4_ipc_finish(ipc, 0);
	l4_ipc_put(ipc);
}

/*
 * A send capability of @gate is made: count it, and keep *@notify as the
 * gate's ready NO_SENDERS notification if it has none (then *@notify
 * becomes NULL; the caller puts what is left). -EPIPE if the gate is dead,
 * -EAGAIN if it has none ready and *@notify is NULL: make one and call
 * again (most capabilities find one ready and need none).
 */
int l4_gate_sender_add(struct l4_gate *gate, struct l4_ipc **notify)
{
	xa_lock(&gate->inflight);
	if (gate->dead) {
		xa_unlock(&gate->inflight);
		return -EPIPE;
	}
	if (!gate->no_senders) {
		if (!*notify) {
			xa_unlock(&gate->inflight);
			return -EAGAIN;
		}
		swap(gate->no_senders, *notify);
	}
	gate->senders++;
	kref_get(&gate->ref);		/* the capability's */
	xa_unlock(&gate->inflight);
	return 0;
}

/*
 * A send capability of @gate is gone (@never_was: it was never handed
 * out). The last one queues the notification, unless one already waits:
 * while it waits unreceived it tells the server the same.
 */
void l4_gate_sender_drop(struct l4_gate *gate, bool never_was)
{
	struct l4_ipc *ipc = NULL;

	xa_lock(&gate->inflight);
	if (!--gate->senders && !gate->dead && !gate->no_senders_queued &&
	    !never_was) {
		swap(ipc, gate->no_senders);
		if (ipc) {
			/* the reference it was made with is now the gate's */
			ipc->state = L4_IPC_QUEUED;
			list_add_tail(&ipc->link, &gate->pending);
			gate->no_senders_queued = true;
		}
	}
	xa_unlock(&gate->inflight);
	if (ipc)
		wake_up_interruptible_poll(&gate->wq, EPOLLIN | EPOLLRDNORM);
	l4_gate_put(gate);
}

/*
 * The last receive fd is gone: no server is left. Fail everything, then
 * and later. No receiver or replier can be running (each holds the file).
 */
void l4_gate_kill(struct l4_gate *gate)
{
	struct l4_ipc *ipc, *next;
	unsigned long token;
	LIST_HEAD(drop);

	xa_lock(&gate->inflight);
	gate->dead = true;
	list_for_each_entry_safe(ipc, next, &gate->pending, link) {
		list_move(&ipc->link, &drop);
		l4_ipc_finish(ipc, -EPIPE);
	}
	xa_for_each(&gate->inflight, token, ipc) {
		__xa_erase(&gate->inflight, token);
		if (ipc->state != L4_IPC_ABANDONED)
			l4_ipc_finish(ipc, -EPIPE);
		list_add(&ipc->link, &drop);
	}
	xa_unlock(&gate->inflight);

	list_for_each_entry_safe(ipc, next, &drop, link) {
		list_del_init(&ipc->link);
		l4_ipc_put(ipc);	/* the gate's */
	}
	/* send capabilities polling for the end */
	wake_up_interruptible_poll(&gate->wq, EPOLLHUP | EPOLLERR);
}
