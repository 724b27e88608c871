/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * l4u introspection over generic netlink: family "l4".
 *
 * Requests (all with a per-command attribute policy; strict: unknown
 * attributes, attributes of the wrong size and unknown commands are
 * refused with EINVAL / EOPNOTSUPP):
 *
 *   L4_CMD_STATS      do:   no attributes. Reply: the L4_A_ST_* counters.
 *                           Free for everyone.
 *   L4_CMD_SPACES     dump: one message per space (L4_A_SPACE_*), by id.
 *                     do:   L4_A_SPACE_ID: that space alone.
 *   L4_CMD_ENTRIES    dump: L4_A_SPACE_ID required; one message per entry
 *                           of that space, by address (L4_A_E_*).
 *   L4_CMD_TREE       dump: L4_A_FRAME_ID required; one message per node of
 *                           the frame's derivation tree, in pre-order from
 *                           the root, children newest first (L4_A_E_*;
 *                           L4_A_E_DEPTH gives the shape).
 *
 * Permissions: without CAP_SYS_ADMIN a caller sees only spaces whose owner
 * (the effective uid of the creator) is its own effective uid. Dumps skip
 * the others; asking for one by id, or for the entries of one, gives
 * EPERM; a tree dump leaves out the nodes in others' spaces. An unknown
 * space or frame: ENOENT.
 *
 * Dumps that take several messages carry NLM_F_DUMP_INTR on the messages
 * after the mapping database or the space table changed under them: the
 * caller should dump again.
 *
 * Events: multicast group "events" (L4_GENL_MCGRP_EVENTS). One
 * L4_CMD_EVENT message per event. Every event concerns the spaces of one
 * owner, given as L4_A_SPACE_UID (in the initial user namespace): that of
 * L4_A_SPACE_ID, so for MAP and GRANT the destination's, whose entries dump
 * shows the new entry with the source as its parent (the source's owner
 * is not told: its dumps do not show the copy either). The one exception,
 * a REPLY to a call that named no receive space, has no owner.
 *
 * Anyone may join. A subscriber receives the events whose owner is the
 * effective uid its socket was opened with; one whose socket was opened
 * with CAP_SYS_ADMIN (in the initial user namespace) receives all. Kernels
 * before 6.8 cannot filter a multicast: there joining needs CAP_SYS_ADMIN
 * (EPERM otherwise). L4_A_ST_EVENTS_ALL in a L4_CMD_STATS reply says which
 * kind the requesting socket is.
 *
 * Sequence numbers, consecutive over the events sent while anyone listens,
 * including those the module failed to send (no memory): L4_A_EV_SEQ over
 * all events, L4_A_EV_UID_SEQ over those of one owner (present whenever
 * L4_A_SPACE_UID is; an owner's sequence never starts over while the
 * module is loaded). An unfiltered subscriber checks L4_A_EV_SEQ, a
 * filtered one L4_A_EV_UID_SEQ (it legitimately misses other owners'
 * events, so L4_A_EV_SEQ has gaps for it): a gap in its sequence is how
 * many it lost, to ENOBUFS or to the module. L4_A_EV_LOST, when present,
 * counts the events of all owners the module could not send since the last
 * event that went out (for unfiltered subscribers). Events from concurrent
 * tasks may arrive out of sequence order.
 */
#ifndef _UAPI_LINUX_L4_NETLINK_H
#define _UAPI_LINUX_L4_NETLINK_H

#define L4_GENL_NAME		"l4"
#define L4_GENL_VERSION		1
#define L4_GENL_MCGRP_EVENTS	"events"

enum l4_cmd {
	L4_CMD_UNSPEC,
	L4_CMD_STATS,
	L4_CMD_SPACES,
	L4_CMD_ENTRIES,
	L4_CMD_TREE,
	L4_CMD_EVENT,		/* multicast only */
	__L4_CMD_MAX,
};
#define L4_CMD_MAX	(__L4_CMD_MAX - 1)

enum l4_event_type {
	L4_EV_FAULT = 1,	/* a page fault sent to a pager */
	L4_EV_REPLY,		/* a reply delivered (to a fault or a call) */
	L4_EV_MAP,		/* a map (ioctl or reply item) */
	L4_EV_GRANT,		/* a grant */
	L4_EV_UNMAP,		/* an L4_IOC_UNMAP */
	L4_EV_SPACE_CREATE,
	L4_EV_SPACE_DESTROY,	/* the space's file was released */
	__L4_EV_MAX,
};
#define L4_EV_MAX	(__L4_EV_MAX - 1)

/*
 * One attribute space for every command. Requests may carry only the
 * attributes their command names; everything else is refused.
 */
enum l4_attr {
	L4_A_UNSPEC,
	L4_A_PAD,

	/* requests and replies */
	L4_A_SPACE_ID,		/* u64 */
	L4_A_FRAME_ID,		/* u64 */

	/* L4_CMD_STATS reply: u64 each */
	L4_A_ST_SPACES,		/* live spaces */
	L4_A_ST_FRAMES,		/* live frames */
	L4_A_ST_NODES,		/* live mapping nodes */
	L4_A_ST_WINDOWS,	/* live windows */
	L4_A_ST_GATES,		/* live gates */
	L4_A_ST_KERNEL_FAULTS,	/* faults served in the kernel */
	L4_A_ST_PAGER_FAULTS,	/* faults delivered to pagers */
	L4_A_ST_REPLIES,	/* replies delivered */
	L4_A_ST_MAPS,		/* pages mapped */
	L4_A_ST_GRANTS,		/* pages granted */
	L4_A_ST_UNMAPS,		/* unmap calls */
	L4_A_ST_REVOKED,	/* nodes removed or downgraded */
	L4_A_ST_ERRORS,		/* faults refused by a frame limit (SIGBUS) */
	L4_A_ST_EVENTS,		/* events sent */
	L4_A_ST_EVENTS_LOST,	/* events the module failed to send */

	/* L4_CMD_SPACES reply */
	L4_A_SPACE_UID,		/* u32: owner (creator's euid) */
	L4_A_SPACE_PID,		/* u32: creating process (tgid), 0 outside your pid ns */
	L4_A_SPACE_SIZE,	/* u64: bytes */
	L4_A_SPACE_FLAGS,	/* u32: L4_SPACE_* */
	L4_A_SPACE_FRAMES,	/* u64: frames charged to it */
	L4_A_SPACE_NODES,	/* u64: entries */
	L4_A_SPACE_WINDOWS,	/* u32 */
	L4_A_SPACE_PAGER,	/* u8: 1 if it has a default pager */
	L4_A_SPACE_MAX_FRAMES,	/* u64: own limit, 0 = none */

	/* L4_CMD_ENTRIES / L4_CMD_TREE reply (with L4_A_SPACE_ID, L4_A_FRAME_ID) */
	L4_A_E_ADDR,		/* u64: address in the space */
	L4_A_E_RIGHTS,		/* u8: L4_FPAGE_R/W/X */
	L4_A_E_DEPTH,		/* u8: 0 for the root (sigma0's) */
	L4_A_E_PARENT_SPACE,	/* u64: absent for the root */
	L4_A_E_PARENT_ADDR,	/* u64: absent for the root */

	/*
	 * L4_CMD_EVENT, with L4_A_SPACE_ID (FAULT, REPLY: the faulting or
	 * calling space; MAP, GRANT: the destination) and its owner
	 * L4_A_SPACE_UID, L4_A_E_ADDR, L4_A_E_RIGHTS (FAULT: the access,
	 * MAP/GRANT/UNMAP: the flexpage's), for SPACE_CREATE/DESTROY
	 * L4_A_SPACE_SIZE, and L4_A_EV_UID_SEQ (below).
	 */
	L4_A_EV_TYPE,		/* u32: enum l4_event_type */
	L4_A_EV_SEQ,		/* u64 */
	L4_A_EV_LOST,		/* u64 */
	L4_A_EV_PID,		/* u32: the acting process (tgid) */
	L4_A_EV_SRC_SPACE,	/* u64: MAP/GRANT source */
	L4_A_EV_SRC_ADDR,	/* u64 */
	L4_A_EV_ORDER,		/* u32: log2 of the flexpage size */
	L4_A_EV_PAGES,		/* u64: pages mapped, or nodes revoked */
	L4_A_EV_LABEL,		/* s64: REPLY: the reply's label */
	L4_A_EV_ERROR,		/* u32: REPLY: its error (0: a map reply) */
	L4_A_EV_THREAD,		/* u64: FAULT: the L4 thread id */

	L4_A_ST_EVENTS_ALL,	/* u8, STATS: 1 if events reach the requesting
				 * socket unfiltered, 0 if only its own uid's
				 */
	L4_A_EV_UID_SEQ,	/* u64: the owner's own sequence number */

	/* L4_CMD_STATS reply, u64 each: the rest of struct l4_stats */
	L4_A_ST_MAX_FRAMES,	/* global frame limit */
	L4_A_ST_FRAMES_ALLOCATED, /* frames ever allocated */
	L4_A_ST_FRAMES_FREED,	/* frames ever freed */
	L4_A_ST_THREADS,	/* registered L4 threads */
	L4_A_ST_MESSAGES,	/* messages received from gates */
	L4_A_ST_FAULTAROUND_PAGES, /* pages mapped by fault-around */

	L4_A_ST_SUPERPAGES,	/* u64, STATS: 2 MiB frames now */
	L4_A_SPACE_SUPERPAGES,	/* u64, SPACES: its 2 MiB frames */
	L4_A_E_ORDER,		/* u8, ENTRIES/TREE: log2 of its size (12, 21) */
	L4_A_E_FRAME_OFFSET,	/* u64, ENTRIES/TREE: its offset in the frame */

	__L4_A_MAX,
};
#define L4_A_MAX	(__L4_A_MAX - 1)

#endif /* _UAPI_LINUX_L4_NETLINK_H */
