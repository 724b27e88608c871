// SPDX-License-Identifier: GPL-2.0
/*
 * The ABI (uapi/linux/l4.h): the files user space holds -- /dev/l4, spaces,
 * gates, send capabilities -- and their ioctls. Everything that crosses
 * the user boundary is copied, checked and parsed here (reserved fields,
 * unknown flags, flexpages and the offset rule), and only then handed to
 * the objects as kernel values; the objects never see a __user pointer.
 *
 * Files and what they hold:
 *   /dev/l4            nothing (open is the permission)
 *   space file         one space reference (file->private_data), the
 *                      space's inode, the module (l4_space_file())
 *   gate file          one gate reference; the last close kills the gate
 *   send capability    one gate reference, counted in gate->senders
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/pid.h>
#include <linux/poll.h>
#include <linux/uaccess.h>

#include "compat.h"
#include "observe.h"

static const struct file_operations l4_space_fops;
static const struct file_operations l4_gate_fops;
static const struct file_operations l4_gate_send_fops;

/*
 * The structs of the IPC path (messages, replies, calls, maps) cross by
 * 8-byte moves in one user access section instead of copy_{from,to}_user(),
 * which are string copies (rep movsb). Under emulation -- QEMU's TCG, where
 * the test bed and the benchmarks run -- a string copy costs about one
 * translated block per byte: the 344 bytes a pager's REPLY_WAIT moves were
 * a tenth of a fault round trip. On hardware, for structs this small, the
 * moves are no slower. Every such struct is a multiple of 8 bytes.
 */
static int l4_get_user_words(void *dst, const void __user *src, size_t len)
{
	const u64 __user *from = src;
	u64 *to = dst;

	if (!user_read_access_begin(src, len))
		return -EFAULT;
	for (; len; len -= sizeof(u64))
		unsafe_get_user(*to++, from++, fault);
	user_read_access_end();
	return 0;
fault:
	user_read_access_end();
	return -EFAULT;
}

static int l4_put_user_words(void __user *dst, const void *src, size_t len)
{
	if (!user_write_access_begin(dst, len))
		return -EFAULT;
	unsafe_copy_to_user(dst, src, len, fault);
	user_write_access_end();
	return 0;
fault:
	user_write_access_end();
	return -EFAULT;
}

#define l4_get_user_struct(kptr, uptr) ({				\
	BUILD_BUG_ON(sizeof(*(kptr)) != sizeof(*(uptr)) ||		\
		     sizeof(*(kptr)) % sizeof(u64));			\
	l4_get_user_words(kptr, uptr, sizeof(*(kptr)));			\
})

#define l4_put_user_struct(uptr, kptr) ({				\
	BUILD_BUG_ON(sizeof(*(kptr)) != sizeof(*(uptr)) ||		\
		     sizeof(*(kptr)) % sizeof(u64));			\
	l4_put_user_words(uptr, kptr, sizeof(*(kptr)));			\
})

static bool l4_reserved_zero(const u64 *r, int n)
{
	while (n--)
		if (r[n])
			return false;
	return true;
}

/* The space behind @file, or NULL if @file is no space file. */
static struct l4_space *l4_space_from_file(struct file *file)
{
	return file->f_op == &l4_space_fops ? file->private_data : NULL;
}

/*
 * The gate behind @fd (a receive fd or a send capability) with a
 * reference; NULL for -1 if @none_ok; ERR_PTR (EBADF / EINVAL).
 */
static struct l4_gate *l4_gate_get_fd(int fd, bool none_ok)
{
	struct l4_gate *gate = ERR_PTR(-EINVAL);
	struct fd f;

	if (fd == -1 && none_ok)
		return NULL;
	f = fdget(fd);
	if (!fd_file(f))
		return ERR_PTR(-EBADF);
	if (fd_file(f)->f_op == &l4_gate_fops ||
	    fd_file(f)->f_op == &l4_gate_send_fops) {
		gate = fd_file(f)->private_data;
		l4_gate_get(gate);
	}
	fdput(f);
	return gate;
}

/* ------------------------------------------------------------------ */
/* Flexpages and the offset rule                                       */
/* ------------------------------------------------------------------ */

/* Does [@addr, @addr + @size) lie inside @space? (No overflow at 2^64.) */
static bool l4_range_fits(struct l4_space *space, u64 addr, u64 size)
{
	u64 end = (u64)space->pages << PAGE_SHIFT;

	return addr < end && size <= end - addr;
}

/* A flexpage's range in @space; @whole allows order 63 (all of it). */
static int l4_fpage_range(u64 fpage, struct l4_space *space, bool whole,
			  u64 *addr, unsigned int *order)
{
	u64 size;

	if (L4_FPAGE_TYPE(fpage) != L4_FPAGE_TYPE_MEMORY)
		return -EINVAL;
	if (L4_FPAGE_RIGHTS(fpage) & ~L4_FPAGE_RWX)
		return -EINVAL;
	*order = L4_FPAGE_ORDER(fpage);
	*addr = L4_FPAGE_ADDR(fpage);
	if (whole && *order == L4_FPAGE_WHOLE_ORDER && !*addr)
		return 0;
	if (*order < L4_FPAGE_MIN_ORDER || *order >= 48)
		return -EINVAL;
	size = 1ULL << *order;
	if (*addr & (size - 1))
		return -EINVAL;
	return l4_range_fits(space, *addr, size) ? 0 : -EINVAL;
}

/*
 * Check a map item against its source and the receive window @rcv_fpage of
 * @dst and work out the transfer by the flexpage offset rule; no side
 * effect.
 */
static int l4_map_prepare(struct l4_space *src, struct l4_space *dst,
			  const struct l4_map_item *item, u64 rcv_fpage,
			  struct l4_transfer *t)
{
	unsigned int sorder, rorder;
	u64 saddr, raddr, hot;
	int ret;

	if (!(item->control & L4_MAP_ITEM_MAP) ||
	    (item->control & ~L4_FPAGE_ADDR_MASK & ~L4_MAP_ITEM_KNOWN))
		return -EINVAL;
	ret = l4_fpage_range(item->fpage, src, false, &saddr, &sorder);
	if (ret)
		return ret;
	ret = l4_fpage_range(rcv_fpage, dst, true, &raddr, &rorder);
	if (ret)
		return ret;

	hot = item->control & L4_FPAGE_ADDR_MASK;
	if (rorder >= sorder) {
		t->order = sorder;
		t->from = saddr;
		t->to = raddr + ((hot & ((1ULL << rorder) - 1)) & ~((1ULL << sorder) - 1));
	} else {
		t->order = rorder;
		t->from = saddr + ((hot & ((1ULL << sorder) - 1)) & ~((1ULL << rorder) - 1));
		t->to = raddr;
	}
	if (!l4_range_fits(dst, t->to, 1ULL << t->order))
		return -EINVAL;
	t->src = src;
	t->dst = dst;
	t->grant = item->control & L4_MAP_ITEM_GRANT;
	t->rights = L4_FPAGE_RIGHTS(item->fpage);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Spaces                                                              */
/* ------------------------------------------------------------------ */

static long l4_space_info_ioctl(struct l4_space *space,
				struct l4_space_info __user *uarg)
{
	struct l4_space_info info = {
		.id		= space->id,
		.size		= (u64)space->pages << PAGE_SHIFT,
		.max_frames	= space->max_frames,
		.frames		= atomic_long_read(&space->frames),
		.nodes		= atomic_long_read(&space->nodes),
		.windows	= atomic_read(&space->windows),
		.flags		= space->flags,
		.maps		= atomic_long_read(&space->maps),
		.grants		= atomic_long_read(&space->grants),
		.unmaps		= atomic_long_read(&space->unmaps),
		.revoked	= atomic_long_read(&space->revoked),
		.superpages	= atomic_long_read(&space->superpages),
	};

	return copy_to_user(uarg, &info, sizeof(info)) ? -EFAULT : 0;
}

static long l4_map_ioctl(struct l4_space *dst, struct l4_map __user *uarg)
{
	struct l4_transfer t;
	struct l4_space *src;
	struct l4_map req __uninitialized;	/* all of it from user space */
	struct fd f;
	u64 pages = 0;
	long ret;

	if (l4_get_user_struct(&req, uarg))
		return -EFAULT;
	if (req.flags || req.dst_addr || req.pages ||
	    !l4_reserved_zero(req.reserved, ARRAY_SIZE(req.reserved)))
		return -EINVAL;

	f = fdget(req.src_fd);
	if (!fd_file(f))
		return -EBADF;
	ret = -EINVAL;
	src = l4_space_from_file(fd_file(f));
	if (src)
		ret = l4_map_prepare(src, dst, &req.item, req.rcv_fpage, &t);
	if (ret)
		goto out;

	ret = l4_map_apply(&t, &pages);
	if (ret >= 0)
		ret = pages ? 0 : -ENOENT;
	req.dst_addr = t.to;
	req.pages = pages;
	if (l4_put_user_struct(uarg, &req))
		ret = -EFAULT;
out:
	fdput(f);
	return ret;
}

static long l4_unmap_ioctl(struct l4_space *space, struct l4_unmap __user *uarg)
{
	struct l4_unmap req __uninitialized;	/* all of it from user space */
	unsigned int order;
	u64 addr, access = 0, revoked;
	u8 rights;
	long ret;

	if (l4_get_user_struct(&req, uarg))
		return -EFAULT;
	if ((req.flags & ~L4_UNMAP_FLAGS_KNOWN) || req.pad || req.revoked ||
	    req.access || !l4_reserved_zero(req.reserved, ARRAY_SIZE(req.reserved)))
		return -EINVAL;
	ret = l4_fpage_range(req.fpage, space, true, &addr, &order);
	if (ret)
		return ret;
	rights = L4_FPAGE_RIGHTS(req.fpage);
	if (!rights)
		return -EINVAL;

	ret = l4_unmap(space, addr, order, rights, req.flags & L4_UNMAP_ALL_SPACES,
		       &access, &revoked);
	req.revoked = revoked;
	req.access = access;
	if (l4_put_user_struct(uarg, &req))
		return -EFAULT;
	return ret;
}

static long l4_set_pager_ioctl(struct l4_space *space, struct l4_pager __user *uarg)
{
	struct l4_pager req;
	struct l4_gate *gate;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if (req.flags || !l4_reserved_zero(req.reserved, ARRAY_SIZE(req.reserved)))
		return -EINVAL;
	gate = l4_gate_get_fd(req.gate_fd, true);
	if (IS_ERR(gate))
		return PTR_ERR(gate);
	l4_space_set_pager(space, gate);
	return 0;
}

static long l4_thread_control_ioctl(struct l4_space *space,
				    struct l4_thread_control __user *uarg)
{
	struct l4_thread_control req;
	struct l4_gate *gate;
	long err;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if ((req.flags & ~L4_THREAD_FLAGS_KNOWN) || req.thread_id ||
	    !l4_reserved_zero(req.reserved, ARRAY_SIZE(req.reserved)))
		return -EINVAL;
	if (req.flags & L4_THREAD_UNREGISTER) {
		if (req.pager_fd != -1)
			return -EINVAL;
		err = l4_thread_unregister(space, &req.thread_id);
	} else {
		gate = l4_gate_get_fd(req.pager_fd, true);
		if (IS_ERR(gate))
			return PTR_ERR(gate);
		err = l4_thread_register(space, gate, &req.thread_id);
	}
	if (err)
		return err;
	return copy_to_user(uarg, &req, sizeof(req)) ? -EFAULT : 0;
}

static long l4_space_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct l4_space *space = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case L4_IOC_SPACE_INFO:
		return l4_space_info_ioctl(space, uarg);
	case L4_IOC_MAP:
		return l4_map_ioctl(space, uarg);
	case L4_IOC_UNMAP:
		return l4_unmap_ioctl(space, uarg);
	case L4_IOC_SET_PAGER:
		return l4_set_pager_ioctl(space, uarg);
	case L4_IOC_THREAD_CONTROL:
		return l4_thread_control_ioctl(space, uarg);
	default:
		return -ENOTTY;
	}
}

static int l4_space_mmap(struct file *file, struct vm_area_struct *vma)
{
	return l4_window_mmap(file->private_data, vma);
}

/*
 * The last fd and the last window are gone: nothing can reach the space's
 * entries any more except revocations from other spaces' trees. Flush it
 * (revoking all that was derived from it) while the file's reference still
 * keeps it alive, then drop that reference.
 */
static int l4_space_release(struct inode *inode, struct file *file)
{
	struct l4_space *space = file->private_data;

	l4_space_unpublish(space);
	/* no new entries from here on (see l4_slot_insert()) */
	WRITE_ONCE(space->dead, true);
	smp_mb();	/* pairs with l4_slot_insert(): store dead, then read entries */
	l4_space_flush_all(space);
	l4_space_release_threads(space);
	l4_space_put(space);
	return 0;
}

static const struct file_operations l4_space_fops = {
	.owner		= THIS_MODULE,
	.release	= l4_space_release,
	.unlocked_ioctl	= l4_space_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.mmap		= l4_space_mmap,
	/* windows of 2 MiB and more start 2 MiB-aligned: superpages fit */
	.get_unmapped_area = thp_get_unmapped_area,
	.llseek		= noop_llseek,
};

/*
 * L4_IOC_CREATE_SPACE. Publishing comes last (l4_space_publish() just
 * before fd_install()): a failure on the way unwinds a space nobody saw.
 */
static long l4_space_create_ioctl(struct l4_space_create __user *uarg)
{
	struct l4_space_create req;
	struct l4_space *space;
	struct file *file;
	int fd, err;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if (req.flags & ~L4_SPACE_FLAGS_KNOWN || req.pad || req.id ||
	    !l4_reserved_zero(req.reserved, ARRAY_SIZE(req.reserved)))
		return -EINVAL;
	if (!req.size || req.size > L4_SPACE_MAX_SIZE ||
	    !IS_ALIGNED(req.size, PAGE_SIZE))
		return -EINVAL;
	/* superpages are what a sigma0 hands out */
	if ((req.flags & L4_SPACE_SUPERPAGES) && !(req.flags & L4_SPACE_SIGMA0))
		return -EINVAL;

	space = l4_space_alloc(req.size, req.max_frames, req.flags);
	if (IS_ERR(space))
		return PTR_ERR(space);
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		err = fd;
		goto err_space;
	}
	file = l4_space_file(space, &l4_space_fops);
	if (IS_ERR(file)) {
		err = PTR_ERR(file);
		goto err_fd;
	}
	req.id = space->id;
	if (copy_to_user(uarg, &req, sizeof(req))) {
		/* the file owns the space (and its reserved id) now */
		put_unused_fd(fd);
		fput(file);
		return -EFAULT;
	}
	l4_space_publish(space);
	fd_install(fd, file);
	return fd;

err_fd:
	put_unused_fd(fd);
err_space:
	l4_space_unreserve(space);
	l4_space_put(space);
	return err;
}

/* ------------------------------------------------------------------ */
/* Gates                                                               */
/* ------------------------------------------------------------------ */

/*
 * @ipc as a struct l4_msg at @um, field by field, unused ones as zeros: no
 * struct on the stack to clear and copy (the kernels we run zero every
 * stack variable, CONFIG_INIT_STACK_ALL_ZERO: one more string operation).
 */
static int l4_msg_to_user(struct l4_msg __user *um, const struct l4_ipc *ipc)
{
	s32 tid = pid_vnr(ipc->sender);
	int i;

	if (!user_write_access_begin(um, sizeof(*um)))
		return -EFAULT;
	unsafe_put_user(ipc->token, &um->token, fault);
	unsafe_put_user(ipc->label, &um->label, fault);
	unsafe_put_user(ipc->nwords, &um->nwords, fault);
	unsafe_put_user(0, &um->flags, fault);
	for (i = 0; i < L4_MSG_WORDS; i++)
		unsafe_put_user(ipc->words[i], &um->words[i], fault);
	unsafe_put_user(ipc->space_id, &um->space_id, fault);
	unsafe_put_user(ipc->thread_id, &um->thread_id, fault);
	unsafe_put_user(tid, &um->tid, fault);
	unsafe_put_user(0, &um->pad, fault);
	unsafe_put_user(ipc->rcv_window, &um->rcv_window, fault);
	for (i = 0; i < ARRAY_SIZE(um->reserved); i++)
		unsafe_put_user(0, &um->reserved[i], fault);
	user_write_access_end();
	return 0;
fault:
	user_write_access_end();
	return -EFAULT;
}

/* Receive one message into @um; blocks (interruptibly) unless @nonblock. */
static int l4_gate_recv(struct l4_gate *gate, struct l4_msg __user *um,
			bool nonblock)
{
	struct l4_ipc *ipc;

	ipc = l4_gate_receive(gate, nonblock);
	if (IS_ERR(ipc))
		return PTR_ERR(ipc);
	if (l4_msg_to_user(um, ipc)) {
		l4_gate_unreceive(gate, ipc);
		return -EFAULT;
	}
	l4_gate_delivered(ipc);
	return 0;
}

/* A reply and its resolved items: their source spaces are pinned by the files. */
struct l4_reply_ctx {
	const struct l4_reply *r;
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
 * Check every item of the reply in @arg (a struct l4_reply_ctx) against
 * @ipc's receive window before anything happens (a malformed reply has no
 * side effect). Under the gate lock (l4_gate_claim()): nothing here sleeps.
 */
static int l4_reply_prepare(const struct l4_ipc *ipc, void *arg)
{
	struct l4_reply_ctx *ctx = arg;
	const struct l4_reply *r = ctx->r;
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
	/* filled up to ctx.n: not cleared first (INIT_STACK_ALL_ZERO) */
	struct l4_reply_ctx ctx __uninitialized;
	struct l4_ipc *ipc;
	long err;
	u64 pages;
	int i;

	err = l4_reply_check(r);
	if (err)
		return err;
	ctx.r = r;
	ctx.n = 0;
	ipc = l4_gate_claim(gate, r->token, l4_reply_prepare, &ctx);
	if (IS_ERR(ipc)) {
		l4_reply_ctx_release(&ctx);
		return PTR_ERR(ipc);
	}

	ipc->status = r->error;
	ipc->reply_label = r->label;
	ipc->nwords = r->nwords;
	memcpy(ipc->words, r->words, sizeof(ipc->words));
	ipc->pages = 0;
	for (i = 0, err = 0; i < ctx.n && err >= 0; i++) {
		err = l4_map_apply(&ctx.t[i], &pages);
		ipc->pages += pages;
	}
	/*
	 * The sender resumes either way; a failed map (nothing in the source
	 * range, out of memory) is the replier's error, and a faulter then
	 * simply faults again. The files go after the answer: the sender
	 * need not wait for that.
	 */
	l4_gate_answer(ipc);
	/* the next fault's node, made while this one's faulter goes on */
	for (i = 0; i < ctx.n; i++)
		if (!ctx.t[i].grant)	/* a grant moves its node */
			l4_space_stock_node(ctx.t[i].src);
	l4_reply_ctx_release(&ctx);
	return err < 0 ? err : 0;
}

static long l4_gate_reply_ioctl(struct l4_gate *gate, struct l4_reply __user *ur)
{
	struct l4_reply r __uninitialized;	/* all of it from user space */

	if (l4_get_user_struct(&r, ur))
		return -EFAULT;
	return l4_gate_reply(gate, &r);
}

static long l4_gate_reply_wait_ioctl(struct file *file, struct l4_gate *gate,
				     struct l4_reply_wait __user *urw)
{
	struct l4_reply r __uninitialized;	/* all of it from user space */
	int err;

	if (l4_get_user_struct(&r, &urw->reply))
		return -EFAULT;
	if (r.token) {
		err = l4_gate_reply(gate, &r);
		/* a sender that left needs no answer: go on receiving */
		if (err && err != -ESRCH)
			return err;
	}
	return l4_gate_recv(gate, &urw->msg, file->f_flags & O_NONBLOCK);
}

/* The receive window of a call: a space reference, or NULL for none. */
static struct l4_space *l4_call_rcv_space(const struct l4_call *c)
{
	struct l4_space *rcv;
	unsigned int order;
	struct fd f;
	u64 addr;
	int err;

	if (c->rcv_space_fd == -1)
		return c->rcv_window ? ERR_PTR(-EINVAL) : NULL;
	if (c->rcv_space_fd < 0)
		return ERR_PTR(-EINVAL);
	f = fdget(c->rcv_space_fd);
	if (!fd_file(f))
		return ERR_PTR(-EBADF);
	rcv = l4_space_from_file(fd_file(f));
	err = rcv ? l4_fpage_range(c->rcv_window, rcv, true, &addr, &order) : -EINVAL;
	if (!err)
		kref_get(&rcv->ref);
	fdput(f);
	return err ? ERR_PTR(err) : rcv;
}

static long l4_gate_call_ioctl(struct l4_gate *gate, struct l4_call __user *uc)
{
	struct l4_space *rcv;
	struct l4_ipc *ipc;
	struct l4_call c __uninitialized;	/* all of it from user space */
	long timeout;
	int err;

	if (l4_get_user_struct(&c, uc))
		return -EFAULT;
	if (c.flags || c.pad || c.nwords > L4_MSG_WORDS || c.timeout_ns < 0 ||
	    c.reply_label || c.pages ||
	    !l4_reserved_zero(c.reserved, ARRAY_SIZE(c.reserved)))
		return -EINVAL;
	rcv = l4_call_rcv_space(&c);
	if (IS_ERR(rcv))
		return PTR_ERR(rcv);

	l4_gate_get(gate);
	ipc = l4_ipc_alloc(gate);
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
	if (!err)
		err = -ipc->status;	/* the server's errno */
	if (!err) {
		c.reply_label = ipc->reply_label;
		c.nwords = ipc->nwords;
		memcpy(c.words, ipc->words, sizeof(c.words));
		c.pages = ipc->pages;
		if (l4_put_user_struct(uc, &c))
			err = -EFAULT;
	}
	l4_ipc_put(ipc);
	return err;
}

static long l4_gate_info_ioctl(struct l4_gate *gate,
			       struct l4_gate_info __user *uarg)
{
	struct l4_gate_info info;

	l4_gate_info(gate, &info);
	return copy_to_user(uarg, &info, sizeof(info)) ? -EFAULT : 0;
}

/* A send capability of @gate: a new fd. */
static long l4_gate_send_cap_ioctl(struct l4_gate *gate, unsigned long arg)
{
	struct l4_ipc *notify = NULL;
	int fd;

	if (arg)
		return -EINVAL;
	/* the notification this capability's end may need, made if none is ready */
	while ((fd = l4_gate_sender_add(gate, &notify)) == -EAGAIN) {
		notify = l4_ipc_alloc_notify();
		if (!notify)
			return -ENOMEM;
	}
	if (notify)
		l4_ipc_put(notify);	/* not needed after all */
	if (fd)
		return fd;
	fd = anon_inode_getfd("l4-gate-send", &l4_gate_send_fops, gate,
			      O_RDWR | O_CLOEXEC);
	if (fd < 0)
		l4_gate_sender_drop(gate, true);
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
	case L4_IOC_GATE_INFO:
		return l4_gate_info_ioctl(gate, uarg);
	default:
		return -ENOTTY;
	}
}

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

	poll_wait(file, l4_gate_waitq(gate), wait);
	/* on the wait queue before the look: pairs with l4_gate_send() */
	smp_mb();
	return l4_gate_readable(gate) ? EPOLLIN | EPOLLRDNORM : 0;
}

static int l4_gate_release(struct inode *inode, struct file *file)
{
	struct l4_gate *gate = file->private_data;

	l4_gate_kill(gate);
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
	case L4_IOC_GATE_INFO:
		return l4_gate_info_ioctl(gate, (void __user *)arg);
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

	poll_wait(file, l4_gate_waitq(gate), wait);
	return l4_gate_dead(gate) ? EPOLLHUP | EPOLLERR : EPOLLOUT | EPOLLWRNORM;
}

static int l4_gate_send_release(struct inode *inode, struct file *file)
{
	l4_gate_sender_drop(file->private_data, false);
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

static long l4_gate_create_ioctl(unsigned long arg)
{
	struct l4_gate *gate;
	int fd;

	if (arg)
		return -EINVAL;
	gate = l4_gate_alloc();
	if (!gate)
		return -ENOMEM;
	/* anon_inode_getfd takes the module reference for the fops */
	fd = anon_inode_getfd("l4-gate", &l4_gate_fops, gate, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		l4_gate_put(gate);
	return fd;
}

/* ------------------------------------------------------------------ */
/* /dev/l4                                                             */
/* ------------------------------------------------------------------ */

static long l4_version_ioctl(struct l4_version __user *uarg)
{
	struct l4_version v = {
		.major		= L4_ABI_MAJOR,
		.minor		= L4_ABI_MINOR,
		.features	= L4_FEATURES_KNOWN,
	};

	return copy_to_user(uarg, &v, sizeof(v)) ? -EFAULT : 0;
}

static long l4_stats_ioctl(struct l4_stats __user *uarg)
{
	struct l4_stats st;

	l4_stats_read(&st);
	return copy_to_user(uarg, &st, sizeof(st)) ? -EFAULT : 0;
}

static long l4_dev_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case L4_IOC_VERSION:
		return l4_version_ioctl(uarg);
	case L4_IOC_CREATE_SPACE:
		return l4_space_create_ioctl(uarg);
	case L4_IOC_STATS:
		return l4_stats_ioctl(uarg);
	case L4_IOC_CREATE_GATE:
		return l4_gate_create_ioctl(arg);
	default:
		return -ENOTTY;
	}
}

const struct file_operations l4_dev_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= l4_dev_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};
