/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Observers of the core: tracepoints and one registered observer (the
 * netlink family). The core calls the inline hooks below where an event
 * happens; a tracepoint costs a static branch when off, and the observer
 * is called only while somebody listens to its multicast group (the
 * kernel's own netlink_has_listeners(): no call into l4's netlink code).
 * The generation that netlink dumps check for consistency moves here and
 * only here.
 */
#ifndef _L4U_OBSERVE_H
#define _L4U_OBSERVE_H

#include <linux/netlink.h>

#include "l4u.h"
#include "trace.h"

struct l4_observer_ops {
	/* an owner is about to have its first space (process context) */
	int (*owner_add)(kuid_t uid);
	void (*space)(struct l4_space *space, bool create);
	void (*fault)(struct l4_space *space, u64 word0, u64 thread_id);
	void (*reply)(const struct l4_ipc *ipc);
	void (*map)(const struct l4_transfer *t, u64 pages);
	void (*unmap)(struct l4_space *space, u64 addr, unsigned int order,
		      u8 rights, u64 revoked);
};

struct l4_observer {
	const struct l4_observer_ops *ops;	/* NULL: none */
	struct sock *sk;			/* where its listeners are */
	unsigned int group;			/* its multicast group */
};

extern struct l4_observer l4_observer;
extern atomic_t l4_generation;

void l4_observer_register(const struct l4_observer_ops *ops, struct sock *sk,
			  unsigned int group);
void l4_observer_unregister(void);

static inline bool l4_observed(void)
{
	return l4_observer.ops &&
	       netlink_has_listeners(l4_observer.sk, l4_observer.group);
}

/* Something a dump can see changed: entries, rights, spaces. */
static inline void l4_obs_changed(void)
{
	atomic_inc(&l4_generation);
}

static inline int l4_obs_owner_add(kuid_t uid)
{
	return l4_observer.ops ? l4_observer.ops->owner_add(uid) : 0;
}

static inline void l4_obs_space(struct l4_space *space, bool create)
{
	l4_obs_changed();
	if (l4_observed())
		l4_observer.ops->space(space, create);
}

static inline void l4_obs_fault(struct l4_space *space, u64 word0, u64 thread_id)
{
	trace_l4_fault(space->id, word0, thread_id);
	if (l4_observed())
		l4_observer.ops->fault(space, word0, thread_id);
}

static inline void l4_obs_reply(const struct l4_ipc *ipc)
{
	trace_l4_reply(ipc->space_id, ipc->reply_label, ipc->status, ipc->pages);
	if (l4_observed())
		l4_observer.ops->reply(ipc);
}

static inline void l4_obs_map(const struct l4_transfer *t, u64 pages)
{
	l4_obs_changed();
	trace_l4_map(t->src->id, t->from, t->dst->id, t->to, t->order,
		     t->rights, t->grant, pages);
	if (l4_observed())
		l4_observer.ops->map(t, pages);
}

static inline void l4_obs_unmap(struct l4_space *space, u64 addr,
				unsigned int order, u8 rights, u64 revoked)
{
	l4_obs_changed();
	trace_l4_unmap(space->id, addr, order, rights, revoked);
	if (l4_observed())
		l4_observer.ops->unmap(space, addr, order, rights, revoked);
}

/* A node removed (@rights_left 0) or downgraded: a tracepoint only. */
static inline void l4_obs_revoke(const struct l4_node *node, u8 rights_left)
{
	l4_obs_changed();
	trace_l4_revoke(node->space->id, (u64)l4_node_index(node) << PAGE_SHIFT,
			node->frame->id, rights_left, l4_node_depth(node));
}

#endif /* _L4U_OBSERVE_H */
