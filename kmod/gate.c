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
 *               CLAIMED   a replier is answering it (still in the table)
 *               DONE      answered (or failed); `done` completed
 *               ABANDONED the sender left (killed, timed out) while the
 *                         message was RECEIVED or CLAIMED: a late reply
 *                         gets ESRCH; a reply at work finishes alone
 * A sender that gives up never waits for anyone: a killed task gets out.
 * The last receive fd of a gate closing makes it dead: every QUEUED and
 * RECEIVED message fails with EPIPE, and every later send too. No receiver
 * or replier can run then (each holds the file), so nothing races the death.
 *
 * Send capabilities are files of their own (l4_gate_send_fops) that hold a
 * gate reference and count in gate->senders (under the gate lock). They
 * can call, and name the gate as a pager, but never receive: so they do
 * not keep the gate alive. When the count drops to zero on a live gate,
 * the NO_SENDERS notification that L4_IOC_GATE_SEND_CAP allocated in
 * advance (gate->no_senders; closing a file can't fail for lack of memory)
 * is queued, unless one is queued already (no_senders_queued): a gate
 * holds at most one notification queued and one ready. A notification has
 * no sender and takes no reply: a receiver takes it out of the gate whole,
 * with token 0.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/pid.h>
#include <linux/poll.h>
#include <linux/sched/clock.h>
#include <linux/sched/signal.h>
#include <linux/sched/stat.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

#include "compat.h"
#include "l4u.h"

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

static const struct file_operations l4_gate_fops;
static const struct file_operations l4_gate_send_fops;

static void l4_gate_free(struct kref *ref)
{
	struct l4_gate *gate = container_of(ref, struct l4_gate, ref);

	WARN_ON_ONCE(!list_empty(&gate->pending));
	WARN_ON_ONCE(!xa_empty(&gate->inflight));
	WARN_ON_ONCE(gate->senders);
	xa_destroy(&gate->inflight);
	if (gate->no_senders)
		l4_ipc_put(gate->no_senders);
	atomic_long_dec(&l4_counters.gates);
	kfree(gate);
}

void l4_gate_put(struct l4_gate *gate)
{
	if (gate)
		kref_put(&gate->ref, l4_gate_free);
}

/*
 * The gate behind @fd (a receive fd or a send capability) with a
 * reference, or ERR_PTR (EBADF / EINVAL).
 */
struct l4_gate *l4_gate_get_fd(int fd)
{
	struct l4_gate *gate = ERR_PTR(-EINVAL);
	struct fd f = fdget(fd);

	if (!fd_file(f))
		return ERR_PTR(-EBADF);
	if (fd_file(f)->f_op == &l4_gate_fops ||
	    fd_file(f)->f_op == &l4_gate_send_fops) {
		gate = fd_file(f)->private_data;
		kref_get(&gate->ref);
	}
	fdput(f);
	return gate;
}

/*
 * One spare message per CPU. Every fault and call allocates a message and
 * frees it right after the answer: recycling it keeps the allocator (and,
 * on a debug kernel, KASAN's and kmemleak's bookkeeping) off the round
 * trip. Messages are charged to the memory cgroup of the sender that
 * allocated them; a recycled one stays charged to its first sender, which
 * is at most one message per CPU. What bounds their number: a queued or
 * in-flight message has a sender waiting for it (one per thread), except
 * those whose sender gave up after a receiver took them (at most
 * max_inflight per gate, see l4_gate_take()) and notifications (at most
 * one queued and one ready per gate).
 */
static DEFINE_PER_CPU(struct l4_ipc *, l4_ipc_spare);

static void l4_ipc_free(struct l4_ipc *ipc)
{
	if (this_cpu_cmpxchg(l4_ipc_spare, NULL, ipc))
		kfree(ipc);
}

void l4_gate_exit(void)
{
	int cpu;

	for_each_possible_cpu(cpu)
		kfree(per_cpu(l4_ipc_spare, cpu));
}

struct l4_ipc *l4_ipc_alloc(void)
{
	struct l4_ipc *ipc = this_cpu_xchg(l4_ipc_spare, NULL);

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
	ipc->sender = get_pid(task_pid(current));
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
 * Finish @ipc with @error. Whoever calls it owns the message's state: it
 * holds the gate lock, or claimed the message (L4_IPC_CLAIMED) under it.
 */
static void l4_ipc_finish(struct l4_ipc *ipc, int error)
{
	ipc->error = error;
	ipc->done_ns = local_clock();
	WRITE_ONCE(ipc->state, L4_IPC_DONE);
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
	wake_up_interruptible_poll(&gate->wq, EPOLLIN | EPOLLRDNORM);
	return 0;
}

/*
 * Before it sleeps, a sender spins for its answer, the way a mutex waiter
 * spins on a running owner: going to sleep and being woken up costs more
 * than a short answer (a wake-up of an idle CPU is the bulk of a fault
 * round trip). How long is worth it is what blocking costs -- spinning
 * that long and no longer is within twice the best choice whatever the
 * answer's time (the classic spin-then-block argument) -- and that differs
 * by machine and kernel, so it is measured: l4_wake_ns is a moving average
 * of how long a sleeping sender took to run after its answer came. A
 * sender spins up to twice that, at most l4_spin_ns, while the message is
 * queued, and as long again from the moment a receiver took it, as long as
 * that receiver is on a CPU; never while another task could run on this
 * CPU (KVM's halt polling stops on the same test: a pager further down a
 * chain may be the one waiting for it) or a signal is pending. True if
 * answered.
 */
static bool l4_gate_spin(struct l4_ipc *ipc)
{
	u64 limit = min_t(u64, READ_ONCE(l4_spin_ns), 2 * READ_ONCE(l4_wake_ns));
	struct task_struct *seen = NULL, *rcv;
	u64 start;

	if (!limit)
		return false;
	start = local_clock();
	for (;;) {
		switch (READ_ONCE(ipc->state)) {
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
		if (!single_task_running() || need_resched() ||
		    signal_pending(current) || local_clock() - start > limit)
			return false;
		cpu_relax();
	}
}

/*
 * A sender that slept was woken for its answer: how long that took goes
 * into l4_wake_ns (a moving average of 1/8 weight; racing updates may lose
 * one, which a moving average does not mind). The two clocks are two
 * CPUs' local_clock(): a sample out of bounds is dropped.
 */
static void l4_wake_sample(const struct l4_ipc *ipc)
{
	s64 d = local_clock() - ipc->done_ns;
	unsigned long avg;

	if (d <= 0 || d > 10 * NSEC_PER_MSEC)
		return;
	avg = READ_ONCE(l4_wake_ns);
	WRITE_ONCE(l4_wake_ns, avg - avg / 8 + d / 8);
}

/*
 * Wait for the answer to @ipc. @state: TASK_KILLABLE or TASK_INTERRUPTIBLE;
 * @timeout in jiffies (MAX_SCHEDULE_TIMEOUT: none). Returns the message's
 * error, or -EINTR / -ETIMEDOUT when the sender gives up; then the message
 * is withdrawn so that no trace remains (a late reply gets ESRCH).
 */
int l4_gate_wait(struct l4_gate *gate, struct l4_ipc *ipc, unsigned int state,
		 long timeout)
{
	bool spun;
	long left;

	spun = l4_gate_spin(ipc);	/* answered or not, the completion tells */
	if (state == TASK_INTERRUPTIBLE)
		left = wait_for_completion_interruptible_timeout(&ipc->done, timeout);
	else
		left = wait_for_completion_killable_timeout(&ipc->done, timeout);
	if (left > 0) {
		if (!spun)
			l4_wake_sample(ipc);
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
		 * a replier at work finishes without us (a good reply still
		 * maps, a refused one drops the message). Never wait here: a
		 * killed task must get out.
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

static void l4_ipc_to_user_msg(struct l4_ipc *ipc, struct l4_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->token = ipc->token;
	m->label = ipc->label;
	m->nwords = ipc->nwords;
	memcpy(m->words, ipc->words, sizeof(m->words));
	m->space_id = ipc->space_id;
	m->thread_id = ipc->thread_id;
	m->tid = pid_vnr(ipc->sender);
	m->rcv_window = ipc->rcv_window;
}

/*
 * Take the first pending message, give it a token and move it in flight.
 * Returns it (the gate's reference now belongs to the token table), NULL
 * if none is pending, or ERR_PTR(-ENOMEM). A notification leaves the gate
 * with token 0 instead: the gate's reference goes to the receiver.
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

/* Put a taken message back at the head (its receiver could not copy it). */
static void l4_gate_untake(struct l4_gate *gate, struct l4_ipc *ipc)
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

static bool l4_gate_readable(struct l4_gate *gate)
{
	return !list_empty_careful(&gate->pending);
}

/* Receive one message into @m; blocks (interruptibly) unless @nonblock. */
static int l4_gate_recv(struct l4_gate *gate, struct l4_msg __user *um,
			bool nonblock)
{
	struct l4_ipc *ipc;
	struct l4_msg m;
	int err;

	for (;;) {
		ipc = l4_gate_take(gate);
		if (IS_ERR(ipc))
			return PTR_ERR(ipc);
		if (ipc)
			break;
		if (nonblock)
			return -EAGAIN;
		/* exclusive: one message wakes one receiver */
		err = wait_event_interruptible_exclusive(gate->wq,
							 l4_gate_readable(gate));
		if (err)
			return err;
	}
	l4_ipc_to_user_msg(ipc, &m);
	if (copy_to_user(um, &m, sizeof(m))) {
		l4_gate_untake(gate, ipc);
		return -EFAULT;
	}
	if (ipc->notify)
		l4_ipc_put(ipc);	/* delivered: nothing answers it */
	atomic_long_inc(&l4_counters.messages);
	return 0;
}

/* Resolved reply items: their source spaces are pinned by the files. */
struct l4_reply_ctx {
	struct fd files[L4_MSG_ITEMS];
	struct l4_transfer t[L4_MSG_ITEMS];
	unsigned int n;
};

static void l4_reply_ctx_release(struct l4_reply_ctx *ctx)
{
	while (ctx->n)
		fdput(ctx->files[--ctx->n]);
}

static int l4_reply_check(const struct l4_reply *r)
{
	int i;

	if (r->flags || r->nwords > L4_MSG_WORDS || r->nitems > L4_MSG_ITEMS ||
	    r->error < 0 || r->error > MAX_ERRNO ||
	    !l4_reserved_zero(r->reserved, ARRAY_SIZE(r->reserved)))
		return -EINVAL;
	if (r->error && r->nitems)
		return -EINVAL;
	for (i = 0; i < r->nitems; i++)
		if (r->items[i].pad)
			return -EINVAL;
	return 0;
}

/*
 * Check every item of @r against @ipc's receive window before anything
 * happens (a malformed reply has no side effect).
 */
static int l4_reply_prepare(struct l4_ipc *ipc, const struct l4_reply *r,
			    struct l4_reply_ctx *ctx)
{
	const struct l4_reply_item *it;
	struct l4_space *src;
	struct fd f;
	int err;

	for (ctx->n = 0; ctx->n < r->nitems; ) {
		it = &r->items[ctx->n];
		if (!ipc->rcv_space)
			return -EINVAL;		/* the sender takes no mappings */
		f = fdget(it->src_fd);
		if (!fd_file(f))
			return -EBADF;
		ctx->files[ctx->n++] = f;
		src = l4_space_from_file(fd_file(f));
		if (!src)
			return -EINVAL;
		err = l4_map_prepare(src, ipc->rcv_space, &it->item, ipc->rcv_window,
				     &ctx->t[ctx->n - 1]);
		if (err)
			return err;
	}
	return 0;
}

/*
 * Answer the message @r->token names. On a malformed reply nothing
 * happens and the message stays in flight.
 */
static int l4_gate_reply(struct l4_gate *gate, const struct l4_reply *r)
{
	struct l4_reply_ctx ctx = { .n = 0 };
	struct l4_ipc *ipc;
	long err;
	u64 pages;
	int i;

	err = l4_reply_check(r);
	if (err)
		return err;

	/*
	 * Claim the message: nobody else may answer it from here on. It stays
	 * in the table until the reply is known to be good, so a refused
	 * reply needs no memory to put it back.
	 */
	xa_lock(&gate->inflight);
	ipc = l4_gate_lookup(gate, r->token);
	if (!ipc || ipc->state == L4_IPC_CLAIMED) {
		xa_unlock(&gate->inflight);
		return ipc ? -EBUSY : -ENOENT;
	}
	if (ipc->state == L4_IPC_ABANDONED) {
		__xa_erase(&gate->inflight, r->token & L4_TOKEN_SLOT_MASK);
		xa_unlock(&gate->inflight);
		l4_ipc_put(ipc);
		return -ESRCH;
	}
	ipc->state = L4_IPC_CLAIMED;
	xa_unlock(&gate->inflight);

	err = l4_reply_prepare(ipc, r, &ctx);
	xa_lock(&gate->inflight);
	if (err && ipc->state != L4_IPC_ABANDONED) {
		/* refused: in flight again under the same token, untouched */
		ipc->state = L4_IPC_RECEIVED;
		xa_unlock(&gate->inflight);
		l4_reply_ctx_release(&ctx);
		return err;
	}
	__xa_erase(&gate->inflight, r->token & L4_TOKEN_SLOT_MASK);
	xa_unlock(&gate->inflight);
	if (err) {
		/* refused, and its sender left meanwhile: drop it */
		l4_reply_ctx_release(&ctx);
		l4_ipc_put(ipc);
		return err;
	}

	ipc->reply_label = r->label;
	ipc->nwords = r->nwords;
	memcpy(ipc->words, r->words, sizeof(ipc->words));
	ipc->pages = 0;
	for (i = 0, err = 0; i < ctx.n && err >= 0; i++) {
		err = l4_map_apply(&ctx.t[i], &pages);
		ipc->pages += pages;
	}
	l4_reply_ctx_release(&ctx);
	/*
	 * The sender resumes either way; a failed map (nothing in the source
	 * range, out of memory) is the replier's error, and a faulter then
	 * simply faults again.
	 */
	l4_ev_reply(ipc, r->error);
	l4_ipc_finish(ipc, r->error);
	l4_ipc_put(ipc);
	atomic_long_inc(&l4_counters.replies);
	return err < 0 ? err : 0;
}

static long l4_gate_reply_ioctl(struct l4_gate *gate, struct l4_reply __user *ur)
{
	struct l4_reply r;

	if (copy_from_user(&r, ur, sizeof(r)))
		return -EFAULT;
	return l4_gate_reply(gate, &r);
}

static long l4_gate_reply_wait_ioctl(struct file *file, struct l4_gate *gate,
				     struct l4_reply_wait __user *urw)
{
	struct l4_reply r;
	int err;

	if (copy_from_user(&r, &urw->reply, sizeof(r)))
		return -EFAULT;
	if (r.token) {
		err = l4_gate_reply(gate, &r);
		/* a sender that left needs no answer: go on receiving */
		if (err && err != -ESRCH)
			return err;
	}
	return l4_gate_recv(gate, &urw->msg, file->f_flags & O_NONBLOCK);
}

static long l4_gate_call_ioctl(struct l4_gate *gate, struct l4_call __user *uc)
{
	struct l4_space *rcv = NULL;
	struct l4_ipc *ipc;
	struct l4_call c;
	struct fd f;
	long timeout;
	int err;

	if (copy_from_user(&c, uc, sizeof(c)))
		return -EFAULT;
	if (c.flags || c.pad || c.nwords > L4_MSG_WORDS || c.timeout_ns < 0 ||
	    c.reply_label || c.pages ||
	    !l4_reserved_zero(c.reserved, ARRAY_SIZE(c.reserved)))
		return -EINVAL;
	if (c.rcv_space_fd >= 0) {
		u64 addr;
		unsigned int order;

		f = fdget(c.rcv_space_fd);
		if (!fd_file(f))
			return -EBADF;
		rcv = l4_space_from_file(fd_file(f));
		err = rcv ? l4_fpage_range(c.rcv_window, rcv, true, &addr, &order) : -EINVAL;
		if (!err)
			kref_get(&rcv->ref);
		fdput(f);
		if (err)
			return err;
	} else if (c.rcv_space_fd != -1 || c.rcv_window) {
		return -EINVAL;
	}

	ipc = l4_ipc_alloc();
	if (!ipc) {
		l4_space_put(rcv);
		return -ENOMEM;
	}
	ipc->label = c.label;
	ipc->nwords = c.nwords;
	memcpy(ipc->words, c.words, sizeof(c.words));
	ipc->rcv_space = rcv;
	ipc->space_id = rcv ? rcv->id : 0;
	ipc->rcv_window = rcv ? c.rcv_window : 0;

	err = l4_gate_send(gate, ipc);
	if (!err) {
		timeout = c.timeout_ns ? nsecs_to_jiffies(c.timeout_ns) + 1 :
			  MAX_SCHEDULE_TIMEOUT;
		err = l4_gate_wait(gate, ipc, TASK_KILLABLE, timeout);
	}
	if (err > 0)
		err = -err;	/* the server's errno */
	if (!err) {
		c.reply_label = ipc->reply_label;
		c.nwords = ipc->nwords;
		memcpy(c.words, ipc->words, sizeof(c.words));
		c.pages = ipc->pages;
		if (copy_to_user(uc, &c, sizeof(c)))
			err = -EFAULT;
	}
	l4_ipc_put(ipc);
	return err;
}

/* A send capability of @gate: a new fd. */
static long l4_gate_send_cap_ioctl(struct l4_gate *gate, unsigned long arg)
{
	struct l4_ipc *ipc;
	int fd;

	if (arg)
		return -EINVAL;
	/* the notification this capability's end may need, made now */
	ipc = l4_ipc_alloc();
	if (!ipc)
		return -ENOMEM;
	put_pid(ipc->sender);
	ipc->sender = NULL;
	ipc->notify = true;
	ipc->label = L4_LABEL_NO_SENDERS;

	xa_lock(&gate->inflight);
	if (gate->dead) {
		xa_unlock(&gate->inflight);
		l4_ipc_put(ipc);
		return -EPIPE;
	}
	if (!gate->no_senders)
		swap(gate->no_senders, ipc);
	gate->senders++;
	kref_get(&gate->ref);		/* the new file's */
	xa_unlock(&gate->inflight);
	if (ipc)
		l4_ipc_put(ipc);	/* one was ready already */

	fd = anon_inode_getfd("l4-gate-send", &l4_gate_send_fops, gate,
			      O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		/* never was: no notification */
		xa_lock(&gate->inflight);
		gate->senders--;
		xa_unlock(&gate->inflight);
		l4_gate_put(gate);
	}
	return fd;
}

static long l4_gate_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct l4_gate *gate = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case L4_IOC_RECV:
		return l4_gate_recv(gate, uarg, file->f_flags & O_NONBLOCK);
	case L4_IOC_REPLY:
		return l4_gate_reply_ioctl(gate, uarg);
	case L4_IOC_REPLY_WAIT:
		return l4_gate_reply_wait_ioctl(file, gate, uarg);
	case L4_IOC_CALL:
		return l4_gate_call_ioctl(gate, uarg);
	case L4_IOC_GATE_SEND_CAP:
		return l4_gate_send_cap_ioctl(gate, arg);
	default:
		return -ENOTTY;
	}
}

/* A send capability calls and hands out send capabilities; it never receives. */
static long l4_gate_send_ioctl(struct file *file, unsigned int cmd,
			       unsigned long arg)
{
	struct l4_gate *gate = file->private_data;

	switch (cmd) {
	case L4_IOC_CALL:
		return l4_gate_call_ioctl(gate, (void __user *)arg);
	case L4_IOC_GATE_SEND_CAP:
		return l4_gate_send_cap_ioctl(gate, arg);
	case L4_IOC_RECV:
	case L4_IOC_REPLY:
	case L4_IOC_REPLY_WAIT:
		return -EPERM;
	default:
		return -ENOTTY;
	}
}

static ssize_t l4_gate_send_read(struct file *file, char __user *buf,
				 size_t count, loff_t *ppos)
{
	return -EPERM;
}

static __poll_t l4_gate_send_poll(struct file *file, poll_table *wait)
{
	struct l4_gate *gate = file->private_data;

	poll_wait(file, &gate->wq, wait);
	return READ_ONCE(gate->dead) ? EPOLLHUP | EPOLLERR : EPOLLOUT | EPOLLWRNORM;
}

/* The last reference to a send capability is gone. */
static int l4_gate_send_release(struct inode *inode, struct file *file)
{
	struct l4_gate *gate = file->private_data;
	struct l4_ipc *ipc = NULL;

	xa_lock(&gate->inflight);
	/*
	 * One notification queued at a time: while one waits unreceived, it
	 * already tells the server that the count dropped to zero.
	 */
	if (!--gate->senders && !gate->dead && !gate->no_senders_queued) {
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
	return 0;
}

static const struct file_operations l4_gate_send_fops = {
	.owner		= THIS_MODULE,
	.read		= l4_gate_send_read,
	.poll		= l4_gate_send_poll,
	.unlocked_ioctl	= l4_gate_send_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.release	= l4_gate_send_release,
	.llseek		= noop_llseek,
};

static ssize_t l4_gate_read(struct file *file, char __user *buf, size_t count,
			    loff_t *ppos)
{
	int err;

	if (count < sizeof(struct l4_msg))
		return -EINVAL;
	err = l4_gate_recv(file->private_data, (struct l4_msg __user *)buf,
			   file->f_flags & O_NONBLOCK);
	return err ? err : sizeof(struct l4_msg);
}

static __poll_t l4_gate_poll(struct file *file, poll_table *wait)
{
	struct l4_gate *gate = file->private_data;

	poll_wait(file, &gate->wq, wait);
	return l4_gate_readable(gate) ? EPOLLIN | EPOLLRDNORM : 0;
}

/* The last receive fd is gone: no server is left. Fail everything, then and later. */
static int l4_gate_release(struct inode *inode, struct file *file)
{
	struct l4_gate *gate = file->private_data;
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
	l4_gate_put(gate);
	return 0;
}

static const struct file_operations l4_gate_fops = {
	.owner		= THIS_MODULE,
	.read		= l4_gate_read,
	.poll		= l4_gate_poll,
	.unlocked_ioctl	= l4_gate_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.release	= l4_gate_release,
	.llseek		= noop_llseek,
};

long l4_gate_create_ioctl(unsigned long arg)
{
	struct l4_gate *gate;
	int fd;

	if (arg)
		return -EINVAL;
	gate = kzalloc(sizeof(*gate), L4_GFP_META);
	if (!gate)
		return -ENOMEM;
	kref_init(&gate->ref);
	xa_init_flags(&gate->inflight, XA_FLAGS_ALLOC);
	INIT_LIST_HEAD(&gate->pending);
	init_waitqueue_head(&gate->wq);
	atomic_long_inc(&l4_counters.gates);

	/* anon_inode_getfd takes the module reference for the fops */
	fd = anon_inode_getfd("l4-gate", &l4_gate_fops, gate, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		l4_gate_put(gate);
	return fd;
}
