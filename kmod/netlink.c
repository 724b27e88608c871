// SPDX-License-Identifier: GPL-2.0
/*
 * Introspection over generic netlink: family "l4" (uapi/linux/l4_netlink.h).
 * Statistics, dumps of the space table, of one space's entries and of one
 * frame's derivation tree, and a multicast group of events. It observes
 * the core through observe.h: the core calls its event functions (through
 * l4_observer) only while the events group has listeners.
 *
 * What a dump holds between two of its calls is a cursor in cb->args, never
 * a pointer: the next space id, the next page index, or the (space id,
 * index) of the next tree node. Each call pins what it walks again: a space
 * by id under the space table's lock (l4_space_get_next), an entry with its
 * frame locked (l4_slot_lock), a frame by id (l4_frame_get_id) and then
 * its lock, under which the whole tree is stable. Nothing sleeps under RCU,
 * and every message is built in process context with GFP_KERNEL.
 *
 * Consistency: l4_generation (observe.h) moves with every change a dump
 * can see (entries inserted, removed or changed, spaces created or gone);
 * each dump call takes it as cb->seq, so genl_dump_check_consistent() marks
 * messages (and the final DONE) NLM_F_DUMP_INTR when it moved in between.
 *
 * Events are sent from wherever they happen, some of them (faults) with
 * mmap_lock held: GFP_ATOMIC, no sleeping; nothing is called at all when
 * nobody listens.
 *
 * Every event concerns the spaces of one owner (MAP and GRANT: the
 * destination's, whose entries dump shows the new entry with the source as
 * its parent), except a reply to a call that named no receive space, which
 * concerns none. Anyone may join the group; a filtered multicast
 * (compat.h) hands each event only to the subscribers whose socket was
 * opened with the owner as euid, and to those opened with CAP_SYS_ADMIN.
 * Each owner has a sequence of its own (L4_A_EV_UID_SEQ) next to the global
 * one, so that both kinds of subscribers can tell what they lost.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/net.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/xarray.h>
#include <net/genetlink.h>
#include <net/sock.h>

#include <linux/l4_netlink.h>

#include "compat.h"
#include "observe.h"

#define L4_NL_EVENT_SIZE	512

static atomic64_t l4_ev_seq;		/* last sequence number given out */
static atomic64_t l4_ev_sent;		/* events handed to the group */
static atomic64_t l4_ev_lost;		/* not sent since the last that was */
static atomic64_t l4_ev_lost_total;

/*
 * Per-owner event sequence numbers: a counter for every uid that ever
 * created a space, made in process context when it does (a space's events
 * then need no allocation for it) and kept until the module goes, so that
 * an owner's sequence never starts over. One small allocation per distinct
 * kuid: a creator cannot choose its uid, so unprivileged users add at most
 * the uids their user namespaces map.
 */
struct l4_ev_owner {
	atomic64_t seq;			/* last number given out */
};

static DEFINE_XARRAY(l4_ev_owners);	/* __kuid_val(uid) -> l4_ev_owner */

/* What the multicast filter needs to know of an event. */
struct l4_ev_filter {
	kuid_t owner;
	bool has_owner;			/* false: for the unfiltered only */
};

static struct genl_family l4_genl_family;

enum l4_nl_mcgrp { L4_NL_MCGRP_EVENTS };

static const struct genl_multicast_group l4_nl_mcgrps[] = {
	[L4_NL_MCGRP_EVENTS] = {
		.name	= L4_GENL_MCGRP_EVENTS,
		/* without a filter, only those who may see everything */
		.flags	= L4_NL_MCAST_FILTERED ? 0 : GENL_MCAST_CAP_SYS_ADMIN,
	},
};

/* ------------------------------------------------------------------ */
/* helpers                                                             */
/* ------------------------------------------------------------------ */

static unsigned int l4_nl_seq(void)
{
	/* 0 would mean "no sequence" to nl_dump_check_consistent() */
	return (unsigned int)atomic_read(&l4_generation) ?: 1;
}

static bool l4_nl_may_see(const struct l4_space *space, bool admin)
{
	return admin || uid_eq(space->owner_uid, current_euid());
}

/*
 * Whether events reach netlink socket @sk unfiltered: its opener had
 * CAP_SYS_ADMIN in the initial user namespace. Judged by the credentials
 * the socket's file was opened with, never by current (at broadcast time
 * that is whoever caused the event); the cheap commoncap test first, so
 * that unprivileged subscribers never get as far as an LSM (and its
 * audit), then the full check.
 *
 * From the multicast filter: the broadcast walks the group's members with
 * the netlink table locked for reading, and netlink_release() takes it for
 * writing to unlink the socket before sock_orphan() clears ->sk_socket;
 * the file, freed only after its release, outlives that. A socket without
 * a file (a kernel socket) gets nothing filtered.
 */
static const struct cred *l4_nl_sk_cred(const struct sock *sk)
{
	const struct socket *sock = sk->sk_socket;

	return sock && sock->file ? sock->file->f_cred : NULL;
}

static bool l4_nl_sk_unfiltered(const struct sock *sk)
{
	const struct cred *cred = l4_nl_sk_cred(sk);

	return cred && cred->user_ns == &init_user_ns &&
	       cap_raised(cred->cap_effective, CAP_SYS_ADMIN) &&
	       file_ns_capable(sk->sk_socket->file, &init_user_ns,
			       CAP_SYS_ADMIN);
}

/* The live space @id with a reference, or NULL. */
static struct l4_space *l4_nl_space_get(u64 id)
{
	struct l4_space *space;
	u64 found = id;

	space = l4_space_get_next(&found);
	if (space && found != id) {
		l4_space_put(space);
		space = NULL;
	}
	return space;
}

static int l4_nl_put_u64(struct sk_buff *skb, int attr, u64 val)
{
	return nla_put_u64_64bit(skb, attr, val, L4_A_PAD);
}

/* ------------------------------------------------------------------ */
/* L4_CMD_STATS                                                        */
/* ------------------------------------------------------------------ */

static int l4_nl_stats(struct sk_buff *skb, struct genl_info *info)
{
	struct l4_stats st;
	struct sk_buff *msg;
	unsigned int i;
	void *hdr;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &l4_genl_family, 0, L4_CMD_STATS);
	if (!hdr)
		goto nospace;
	/* the very numbers L4_IOC_STATS reports, one table for both */
	l4_stats_read(&st);
	for (i = 0; i < l4_stat_nattrs; i++)
		if (l4_nl_put_u64(msg, l4_stat_attrs[i].attr,
				  *(u64 *)((char *)&st + l4_stat_attrs[i].offset)))
			goto nospace;
	if (l4_nl_put_u64(msg, L4_A_ST_EVENTS, atomic64_read(&l4_ev_sent)) ||
	    l4_nl_put_u64(msg, L4_A_ST_EVENTS_LOST,
			  atomic64_read(&l4_ev_lost_total)) ||
	    nla_put_u8(msg, L4_A_ST_EVENTS_ALL,
		       l4_nl_sk_unfiltered(NETLINK_CB(skb).sk)))
		goto nospace;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

nospace:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

/* ------------------------------------------------------------------ */
/* L4_CMD_SPACES                                                       */
/* ------------------------------------------------------------------ */

static int l4_nl_fill_space(struct sk_buff *skb, struct l4_space *space,
			    u32 portid, u32 seq, int flags,
			    struct netlink_callback *cb)
{
	bool pager;
	void *hdr;

	hdr = genlmsg_put(skb, portid, seq, &l4_genl_family, flags,
			  L4_CMD_SPACES);
	if (!hdr)
		return -EMSGSIZE;
	if (cb)
		genl_dump_check_consistent(cb, hdr);

	pager = l4_space_has_default_pager(space);

	if (l4_nl_put_u64(skb, L4_A_SPACE_ID, space->id) ||
	    nla_put_u32(skb, L4_A_SPACE_UID,
			from_kuid_munged(current_user_ns(), space->owner_uid)) ||
	    nla_put_u32(skb, L4_A_SPACE_PID, pid_vnr(space->owner)) ||
	    l4_nl_put_u64(skb, L4_A_SPACE_SIZE, (u64)space->pages << PAGE_SHIFT) ||
	    nla_put_u32(skb, L4_A_SPACE_FLAGS, space->flags) ||
	    l4_nl_put_u64(skb, L4_A_SPACE_FRAMES, atomic_long_read(&space->frames)) ||
	    l4_nl_put_u64(skb, L4_A_SPACE_NODES, atomic_long_read(&space->nodes)) ||
	    nla_put_u32(skb, L4_A_SPACE_WINDOWS, atomic_read(&space->windows)) ||
	    nla_put_u8(skb, L4_A_SPACE_PAGER, pager) ||
	    l4_nl_put_u64(skb, L4_A_SPACE_MAX_FRAMES, space->max_frames) ||
	    l4_nl_put_u64(skb, L4_A_SPACE_SUPERPAGES,
			  atomic_long_read(&space->superpages))) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

static int l4_nl_space_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct l4_space *space;
	struct sk_buff *msg;
	int err;

	if (!info->attrs[L4_A_SPACE_ID]) {
		NL_SET_ERR_MSG(info->extack, "space id missing");
		return -EINVAL;
	}
	space = l4_nl_space_get(nla_get_u64(info->attrs[L4_A_SPACE_ID]));
	if (!space)
		return -ENOENT;
	err = -EPERM;
	if (!l4_nl_may_see(space, netlink_capable(skb, CAP_SYS_ADMIN)))
		goto out;
	err = -ENOMEM;
	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		goto out;
	err = l4_nl_fill_space(msg, space, info->snd_portid, info->snd_seq, 0,
			       NULL);
	if (err) {
		nlmsg_free(msg);
		goto out;
	}
	err = genlmsg_reply(msg, info);
out:
	l4_space_put(space);
	return err;
}

/* args[0]: the next space id to look at */
static int l4_nl_spaces_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	bool admin = netlink_capable(cb->skb, CAP_SYS_ADMIN);
	struct l4_space *space;
	u64 id = cb->args[0];
	int err = 0;

	cb->seq = l4_nl_seq();
	while ((space = l4_space_get_next(&id))) {
		if (l4_nl_may_see(space, admin))
			err = l4_nl_fill_space(skb, space,
					       NETLINK_CB(cb->skb).portid,
					       cb->nlh->nlmsg_seq, NLM_F_MULTI, cb);
		l4_space_put(space);
		if (err)
			break;
		id++;
	}
	cb->args[0] = id;
	return err && !skb->len ? err : skb->len;
}

/* ------------------------------------------------------------------ */
/* L4_CMD_ENTRIES and L4_CMD_TREE                                      */
/* ------------------------------------------------------------------ */

/*
 * One node, with its @parent (NULL for the root), as a message; its frame
 * is locked, so the tree around is stable.
 */
static int l4_nl_fill_node(struct sk_buff *skb, const struct l4_node *node,
			   const struct l4_node *parent,
			   struct netlink_callback *cb, u8 cmd)
{
	void *hdr;

	l4_frame_assert_locked(node->frame);
	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &l4_genl_family, NLM_F_MULTI, cmd);
	if (!hdr)
		return -EMSGSIZE;
	genl_dump_check_consistent(cb, hdr);
	if (l4_nl_put_u64(skb, L4_A_SPACE_ID, node->space->id) ||
	    l4_nl_put_u64(skb, L4_A_E_ADDR, (u64)l4_node_index(node) << PAGE_SHIFT) ||
	    l4_nl_put_u64(skb, L4_A_FRAME_ID, node->frame->id) ||
	    nla_put_u8(skb, L4_A_E_RIGHTS, l4_node_rights(node)) ||
	    nla_put_u8(skb, L4_A_E_DEPTH, l4_node_depth(node)) ||
	    nla_put_u8(skb, L4_A_E_ORDER, l4_node_order(node) + PAGE_SHIFT) ||
	    l4_nl_put_u64(skb, L4_A_E_FRAME_OFFSET,
			  (u64)l4_node_pgoff(node) << PAGE_SHIFT) ||
	    (parent &&
	     (l4_nl_put_u64(skb, L4_A_E_PARENT_SPACE, parent->space->id) ||
	      l4_nl_put_u64(skb, L4_A_E_PARENT_ADDR,
			    (u64)l4_node_index(parent) << PAGE_SHIFT)))) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

/* What a dump call returns after @err: the messages, or the error alone. */
static int l4_nl_dump_ret(struct sk_buff *skb, int err)
{
	if (err == -EMSGSIZE && skb->len)
		return skb->len;
	return err ?: skb->len;
}

/*
 * Before the first part of an entries dump: the space must exist and be the
 * caller's to see, so that refusals come back as the request's error.
 */
static int l4_nl_entries_start(struct netlink_callback *cb)
{
	struct nlattr **attrs = l4_nl_dump_attrs(cb);
	struct l4_space *space;
	int err = 0;

	if (!attrs[L4_A_SPACE_ID]) {
		NL_SET_ERR_MSG(cb->extack, "space id missing");
		return -EINVAL;
	}
	space = l4_nl_space_get(nla_get_u64(attrs[L4_A_SPACE_ID]));
	if (!space)
		return -ENOENT;
	if (!l4_nl_may_see(space, netlink_capable(cb->skb, CAP_SYS_ADMIN)))
		err = -EPERM;
	l4_space_put(space);
	return err;
}

/* args[0]: the next page index */
static int l4_nl_entries_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct nlattr **attrs = l4_nl_dump_attrs(cb);
	unsigned long index = cb->args[0];
	struct l4_space *space;
	struct l4_frame *frame;
	struct l4_node *node;
	int err = 0;

	space = l4_nl_space_get(nla_get_u64(attrs[L4_A_SPACE_ID]));
	if (!space)
		return 0;	/* gone meanwhile: the end */

	cb->seq = l4_nl_seq();
	while (xa_find(&space->entries, &index, ULONG_MAX, XA_PRESENT)) {
		node = l4_slot_lock(space, index, true);
		if (IS_ERR(node)) {
			err = PTR_ERR(node);
			break;
		}
		if (node) {
			frame = node->frame;
			err = l4_nl_fill_node(skb, node, l4_node_parent(node), cb,
					      L4_CMD_ENTRIES);
			/* a superpage entry covers 512 indices: once is enough */
			if (!err)
				index = l4_node_index(node) + l4_node_pages(node) - 1;
			l4_frame_unlock(frame);
			if (err)
				break;
		}
		if (index == ULONG_MAX)
			break;
		index++;
		cond_resched();
	}
	cb->args[0] = index;
	l4_space_put(space);
	return l4_nl_dump_ret(skb, err);
}

/*
 * args[1], args[2]: space id and index of the next node
 * (args[1] == 0: the root); args[3]: done.
 *
 * The frame is found by id and pinned, then locked: under its lock the
 * tree cannot change. L4_FRAME_LIVE, read under the lock, says that the
 * root is still in its slot, and so every node of the tree is in its own and
 * every node's space is alive (a space is flushed under its frames' locks
 * before its last reference can go). A dump resumes at the node it stopped
 * at, found again by its slot; if that node is gone the tree changed, the
 * dump ends, and its DONE message carries NLM_F_DUMP_INTR.
 */
/*
 * A tree dump of a frame the caller sees no node of answers as if the frame
 * did not exist: frame ids must not tell one user about another's memory.
 */
static int l4_nl_tree_start(struct netlink_callback *cb)
{
	struct nlattr **attrs = l4_nl_dump_attrs(cb);
	bool admin = netlink_capable(cb->skb, CAP_SYS_ADMIN);
	struct l4_frame *frame;
	struct l4_node *node;
	int err = -ENOENT;

	if (!attrs[L4_A_FRAME_ID]) {
		NL_SET_ERR_MSG(cb->extack, "frame id missing");
		return -EINVAL;
	}
	frame = l4_frame_get_id(nla_get_u64(attrs[L4_A_FRAME_ID]));
	if (!frame)
		return -ENOENT;
	if (l4_frame_lock_killable(frame)) {
		l4_frame_put(frame);
		return -EINTR;
	}
	/* while the frame is live, every node of its tree is in its slot */
	if (test_bit(L4_FRAME_LIVE, &frame->flags)) {
		for (node = &frame->root; node; node = l4_tree_next(&frame->root, node)) {
			if (l4_nl_may_see(node->space, admin)) {
				err = 0;
				break;
			}
			cond_resched();
		}
	}
	l4_frame_unlock(frame);
	return err;
}

/*
 * args[1], args[2]: space id and index of the node to resume at (0: the
 * root); args[3]: done. Parents come from a stack of the walk down from the
 * root (the tree is a list in pre-order: a node's parent is the last node
 * before it one level up).
 */
static int l4_nl_tree_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct nlattr **attrs = l4_nl_dump_attrs(cb);
	bool admin = netlink_capable(cb->skb, CAP_SYS_ADMIN);
	struct l4_node *node, *resume = NULL, **up;
	struct l4_space *cursor = NULL;
	struct l4_frame *frame;
	unsigned int depth;
	int err = 0;

	if (cb->args[3])
		return 0;
	frame = l4_frame_get_id(nla_get_u64(attrs[L4_A_FRAME_ID]));
	if (!frame)
		return 0;	/* gone meanwhile: the end */
	up = kmalloc_array(L4_MAPDB_MAX_DEPTH + 1, sizeof(*up), L4_GFP_META);
	if (!up) {
		err = -ENOMEM;
		goto out;
	}
	if (cb->args[1])
		cursor = l4_nl_space_get(cb->args[1]);

	cb->seq = l4_nl_seq();
	if (l4_frame_lock_killable(frame)) {
		err = -EINTR;
		goto out;
	}
	if (!test_bit(L4_FRAME_LIVE, &frame->flags)) {
		node = NULL;
	} else if (!cb->args[1]) {
		node = &frame->root;
	} else {
		resume = cursor ? xa_load(&cursor->entries, cb->args[2]) : NULL;
		node = resume && resume->frame == frame ? &frame->root : NULL;
	}
	for (; node; node = node->next) {
		depth = l4_node_depth(node);
		up[depth] = node;
		if (resume && node != resume)
			continue;
		resume = NULL;
		if (!l4_nl_may_see(node->space, admin))
			continue;
		err = l4_nl_fill_node(skb, node, depth ? up[depth - 1] : NULL,
				      cb, L4_CMD_TREE);
		if (err)
			break;
	}
	if (node) {
		cb->args[1] = node->space->id;
		cb->args[2] = l4_node_index(node);
	} else {
		cb->args[3] = 1;
	}
	l4_frame_unlock_only(frame);
out:
	kfree(up);
	if (cursor)
		l4_space_put(cursor);
	l4_frame_put(frame);
	return l4_nl_dump_ret(skb, err);
}

/* ------------------------------------------------------------------ */
/* events                                                              */
/* ------------------------------------------------------------------ */

/*
 * Make sure that @uid has an event sequence before it owns a space: at
 * space creation, in process context. 0 or -ENOMEM.
 */
static int l4_ev_owner_add(kuid_t uid)
{
	unsigned long key = __kuid_val(uid);
	struct l4_ev_owner *owner;
	int err;

	if (xa_load(&l4_ev_owners, key))
		return 0;
	/* charged to the first creator of that uid; kept until unload */
	owner = kzalloc(sizeof(*owner), L4_GFP_META);
	if (!owner)
		return -ENOMEM;
	err = xa_insert(&l4_ev_owners, key, owner, L4_GFP_META);
	if (err)
		kfree(owner);
	return err == -EBUSY ? 0 : err;	/* EBUSY: a racing creator's */
}

/* Called for every subscriber, atomically: nonzero skips @dsk. */
static int l4_ev_filter(struct sock *dsk, struct sk_buff *skb, void *data)
{
	const struct cred *cred = l4_nl_sk_cred(dsk);
	const struct l4_ev_filter *f = data;

	if (f->has_owner && cred && uid_eq(cred->euid, f->owner))
		return 0;
	return !l4_nl_sk_unfiltered(dsk);
}

/*
 * A new event message about the spaces of @owner (NULL: of nobody) with its
 * type, sequence numbers, sender and lost count, or NULL (counted as lost:
 * the sequence numbers are used up, so subscribers see the gap). @f is
 * filled in for l4_ev_send().
 */
static struct sk_buff *l4_ev_new(u32 type, const kuid_t *owner,
				 struct l4_ev_filter *f, void **hdr)
{
	struct l4_ev_owner *counter = NULL;
	u64 seq, uid_seq = 0, lost;
	struct sk_buff *skb;

	f->has_owner = !!owner;
	if (owner) {
		f->owner = *owner;
		counter = xa_load(&l4_ev_owners, __kuid_val(*owner));
		WARN_ON_ONCE(!counter);	/* l4_ev_owner_add() at creation */
	}
	seq = atomic64_inc_return(&l4_ev_seq);
	if (counter)
		uid_seq = atomic64_inc_return(&counter->seq);
	skb = genlmsg_new(L4_NL_EVENT_SIZE, GFP_ATOMIC | __GFP_NOWARN);
	if (!skb)
		goto lost;
	*hdr = genlmsg_put(skb, 0, 0, &l4_genl_family, 0, L4_CMD_EVENT);
	if (!*hdr)
		goto free;
	lost = atomic64_xchg(&l4_ev_lost, 0);
	if (nla_put_u32(skb, L4_A_EV_TYPE, type) ||
	    l4_nl_put_u64(skb, L4_A_EV_SEQ, seq) ||
	    nla_put_u32(skb, L4_A_EV_PID, task_tgid_nr(current)) ||
	    (lost && l4_nl_put_u64(skb, L4_A_EV_LOST, lost)) ||
	    (owner &&
	     nla_put_u32(skb, L4_A_SPACE_UID,
			 from_kuid_munged(&init_user_ns, *owner))) ||
	    (counter && l4_nl_put_u64(skb, L4_A_EV_UID_SEQ, uid_seq))) {
		atomic64_add(lost, &l4_ev_lost);
		goto free;
	}
	return skb;

free:
	nlmsg_free(skb);
lost:
	atomic64_inc(&l4_ev_lost);
	atomic64_inc(&l4_ev_lost_total);
	return NULL;
}

static void l4_ev_send(struct sk_buff *skb, void *hdr, struct l4_ev_filter *f)
{
	int err;

	genlmsg_end(skb, hdr);
	err = l4_genl_multicast_filtered(&l4_genl_family, skb,
					 L4_NL_MCGRP_EVENTS, l4_ev_filter, f);
	/*
	 * ESRCH: no listener took it (left, or all filtered it out);
	 * ENOBUFS: one of them overran
	 */
	if (err && err != -ESRCH)
		atomic64_inc(&l4_ev_lost_total);
	atomic64_inc(&l4_ev_sent);
}

static void l4_ev_fail(struct sk_buff *skb)
{
	nlmsg_free(skb);
	atomic64_inc(&l4_ev_lost);
	atomic64_inc(&l4_ev_lost_total);
}

static void l4_ev_space(struct l4_space *space, bool create)
{
	struct l4_ev_filter f;
	struct sk_buff *skb;
	void *hdr;

	skb = l4_ev_new(create ? L4_EV_SPACE_CREATE : L4_EV_SPACE_DESTROY,
			&space->owner_uid, &f, &hdr);
	if (!skb)
		return;
	if (l4_nl_put_u64(skb, L4_A_SPACE_ID, space->id) ||
	    l4_nl_put_u64(skb, L4_A_SPACE_SIZE, (u64)space->pages << PAGE_SHIFT))
		l4_ev_fail(skb);
	else
		l4_ev_send(skb, hdr, &f);
}

static void l4_ev_fault(struct l4_space *space, u64 word0, u64 thread_id)
{
	u8 rights = L4_FPAGE_R;
	struct l4_ev_filter f;
	struct sk_buff *skb;
	void *hdr;

	if (word0 & L4_PF_WRITE)
		rights |= L4_FPAGE_W;
	if (word0 & L4_PF_EXEC)
		rights |= L4_FPAGE_X;
	skb = l4_ev_new(L4_EV_FAULT, &space->owner_uid, &f, &hdr);
	if (!skb)
		return;
	if (l4_nl_put_u64(skb, L4_A_SPACE_ID, space->id) ||
	    l4_nl_put_u64(skb, L4_A_E_ADDR, word0 & ~7ULL) ||
	    nla_put_u8(skb, L4_A_E_RIGHTS, rights) ||
	    l4_nl_put_u64(skb, L4_A_EV_THREAD, thread_id))
		l4_ev_fail(skb);
	else
		l4_ev_send(skb, hdr, &f);
}

static void l4_ev_reply(const struct l4_ipc *ipc)
{
	struct l4_ev_filter f;
	struct sk_buff *skb;
	void *hdr;

	/* a call without a receive space: nobody's, for admins only */
	skb = l4_ev_new(L4_EV_REPLY,
			ipc->rcv_space ? &ipc->rcv_space->owner_uid : NULL,
			&f, &hdr);
	if (!skb)
		return;
	if (l4_nl_put_u64(skb, L4_A_SPACE_ID, ipc->space_id) ||
	    nla_put_s64(skb, L4_A_EV_LABEL, ipc->reply_label, L4_A_PAD) ||
	    nla_put_u32(skb, L4_A_EV_ERROR, ipc->status) ||
	    l4_nl_put_u64(skb, L4_A_EV_PAGES, ipc->pages))
		l4_ev_fail(skb);
	else
		l4_ev_send(skb, hdr, &f);
}

static void l4_ev_map(const struct l4_transfer *t, u64 pages)
{
	struct l4_ev_filter f;
	struct sk_buff *skb;
	void *hdr;

	/* the destination's: its entries show the new entry and its parent */
	skb = l4_ev_new(t->grant ? L4_EV_GRANT : L4_EV_MAP, &t->dst->owner_uid,
			&f, &hdr);
	if (!skb)
		return;
	if (l4_nl_put_u64(skb, L4_A_SPACE_ID, t->dst->id) ||
	    l4_nl_put_u64(skb, L4_A_E_ADDR, t->to) ||
	    l4_nl_put_u64(skb, L4_A_EV_SRC_SPACE, t->src->id) ||
	    l4_nl_put_u64(skb, L4_A_EV_SRC_ADDR, t->from) ||
	    nla_put_u32(skb, L4_A_EV_ORDER, t->order) ||
	    nla_put_u8(skb, L4_A_E_RIGHTS, t->rights) ||
	    l4_nl_put_u64(skb, L4_A_EV_PAGES, pages))
		l4_ev_fail(skb);
	else
		l4_ev_send(skb, hdr, &f);
}

static void l4_ev_unmap(struct l4_space *space, u64 addr, unsigned int order,
			u8 rights, u64 revoked)
{
	struct l4_ev_filter f;
	struct sk_buff *skb;
	void *hdr;

	skb = l4_ev_new(L4_EV_UNMAP, &space->owner_uid, &f, &hdr);
	if (!skb)
		return;
	if (l4_nl_put_u64(skb, L4_A_SPACE_ID, space->id) ||
	    l4_nl_put_u64(skb, L4_A_E_ADDR, addr) ||
	    nla_put_u32(skb, L4_A_EV_ORDER, order) ||
	    nla_put_u8(skb, L4_A_E_RIGHTS, rights) ||
	    l4_nl_put_u64(skb, L4_A_EV_PAGES, revoked))
		l4_ev_fail(skb);
	else
		l4_ev_send(skb, hdr, &f);
}

static const struct l4_observer_ops l4_nl_observer = {
	.owner_add	= l4_ev_owner_add,
	.space		= l4_ev_space,
	.fault		= l4_ev_fault,
	.reply		= l4_ev_reply,
	.map		= l4_ev_map,
	.unmap		= l4_ev_unmap,
};

/* ------------------------------------------------------------------ */
/* the family                                                          */
/* ------------------------------------------------------------------ */

static const struct nla_policy l4_nl_space_policy[L4_A_SPACE_ID + 1] = {
	[L4_A_SPACE_ID]	= { .type = NLA_U64 },
};

static const struct nla_policy l4_nl_tree_policy[L4_A_FRAME_ID + 1] = {
	[L4_A_SPACE_ID]	= { .type = NLA_REJECT },
	[L4_A_FRAME_ID]	= { .type = NLA_U64 },
};

/* statistics take no attribute at all */
static const struct nla_policy l4_nl_stats_policy[L4_A_PAD + 1] = {
	[L4_A_PAD]	= { .type = NLA_REJECT },
};

static const struct genl_ops l4_nl_ops[] = {
	{
		.cmd	= L4_CMD_STATS,
		.doit	= l4_nl_stats,
		.policy	= l4_nl_stats_policy,
		.maxattr = L4_A_PAD,
	},
	{
		.cmd	= L4_CMD_SPACES,
		.doit	= l4_nl_space_doit,
		.dumpit	= l4_nl_spaces_dump,
		.policy	= l4_nl_space_policy,
		.maxattr = L4_A_SPACE_ID,
	},
	{
		.cmd	= L4_CMD_ENTRIES,
		.start	= l4_nl_entries_start,
		.dumpit	= l4_nl_entries_dump,
		.policy	= l4_nl_space_policy,
		.maxattr = L4_A_SPACE_ID,
	},
	{
		.cmd	= L4_CMD_TREE,
		.start	= l4_nl_tree_start,
		.dumpit	= l4_nl_tree_dump,
		.policy	= l4_nl_tree_policy,
		.maxattr = L4_A_FRAME_ID,
	},
};

static struct genl_family l4_genl_family = {
	.name		= L4_GENL_NAME,
	.version	= L4_GENL_VERSION,
	.module		= THIS_MODULE,
	.ops		= l4_nl_ops,
	.n_ops		= ARRAY_SIZE(l4_nl_ops),
	.resv_start_op	= L4_CMD_EVENT + 1,	/* strict for every command */
	.mcgrps		= l4_nl_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(l4_nl_mcgrps),
	.parallel_ops	= true,
};

int l4_netlink_init(void)
{
	int err = genl_register_family(&l4_genl_family);

	if (err)
		return err;
	/* what genl_has_listeners() would look at, for observe.h */
	l4_observer_register(&l4_nl_observer, init_net.genl_sock,
			     l4_genl_family.mcgrp_offset + L4_NL_MCGRP_EVENTS);
	return 0;
}

void l4_netlink_exit(void)
{
	struct l4_ev_owner *owner;
	unsigned long key;

	l4_observer_unregister();
	genl_unregister_family(&l4_genl_family);
	xa_for_each(&l4_ev_owners, key, owner)
		kfree(owner);
	xa_destroy(&l4_ev_owners);
}
