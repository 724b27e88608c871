/* SPDX-License-Identifier: GPL-2.0 */
/*
 * l4u tracepoints: events l4:l4_fault, l4_reply, l4_map, l4_unmap and
 * l4_revoke, for perf and trace-cmd (tracefs: events/l4/).
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM l4

#if !defined(_L4U_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _L4U_TRACE_H

#include <linux/tracepoint.h>

TRACE_EVENT(l4_fault,
	TP_PROTO(u64 space, u64 word0, u64 thread),
	TP_ARGS(space, word0, thread),
	TP_STRUCT__entry(
		__field(u64, space)
		__field(u64, word0)
		__field(u64, thread)
	),
	TP_fast_assign(
		__entry->space = space;
		__entry->word0 = word0;
		__entry->thread = thread;
	),
	TP_printk("space=%llu addr=0x%llx flags=0x%llx thread=%llu",
		  __entry->space, __entry->word0 & ~7ULL, __entry->word0 & 7,
		  __entry->thread)
);

TRACE_EVENT(l4_reply,
	TP_PROTO(u64 space, s64 label, int error, u64 pages),
	TP_ARGS(space, label, error, pages),
	TP_STRUCT__entry(
		__field(u64, space)
		__field(s64, label)
		__field(int, error)
		__field(u64, pages)
	),
	TP_fast_assign(
		__entry->space = space;
		__entry->label = label;
		__entry->error = error;
		__entry->pages = pages;
	),
	TP_printk("space=%llu label=%lld error=%d pages=%llu",
		  __entry->space, __entry->label, __entry->error, __entry->pages)
);

TRACE_EVENT(l4_map,
	TP_PROTO(u64 src, u64 from, u64 dst, u64 to, unsigned int order,
		 u8 rights, bool grant, u64 pages),
	TP_ARGS(src, from, dst, to, order, rights, grant, pages),
	TP_STRUCT__entry(
		__field(u64, src)
		__field(u64, from)
		__field(u64, dst)
		__field(u64, to)
		__field(unsigned int, order)
		__field(u8, rights)
		__field(bool, grant)
		__field(u64, pages)
	),
	TP_fast_assign(
		__entry->src = src;
		__entry->from = from;
		__entry->dst = dst;
		__entry->to = to;
		__entry->order = order;
		__entry->rights = rights;
		__entry->grant = grant;
		__entry->pages = pages;
	),
	TP_printk("%s src=%llu:0x%llx dst=%llu:0x%llx order=%u rights=0x%x pages=%llu",
		  __entry->grant ? "grant" : "map", __entry->src, __entry->from,
		  __entry->dst, __entry->to, __entry->order, __entry->rights,
		  __entry->pages)
);

TRACE_EVENT(l4_unmap,
	TP_PROTO(u64 space, u64 addr, unsigned int order, u8 rights, u64 revoked),
	TP_ARGS(space, addr, order, rights, revoked),
	TP_STRUCT__entry(
		__field(u64, space)
		__field(u64, addr)
		__field(unsigned int, order)
		__field(u8, rights)
		__field(u64, revoked)
	),
	TP_fast_assign(
		__entry->space = space;
		__entry->addr = addr;
		__entry->order = order;
		__entry->rights = rights;
		__entry->revoked = revoked;
	),
	TP_printk("space=%llu addr=0x%llx order=%u rights=0x%x revoked=%llu",
		  __entry->space, __entry->addr, __entry->order, __entry->rights,
		  __entry->revoked)
);

/* one node removed (rights 0) or downgraded (rights left) */
TRACE_EVENT(l4_revoke,
	TP_PROTO(u64 space, u64 addr, u64 frame, u8 rights, u8 depth),
	TP_ARGS(space, addr, frame, rights, depth),
	TP_STRUCT__entry(
		__field(u64, space)
		__field(u64, addr)
		__field(u64, frame)
		__field(u8, rights)
		__field(u8, depth)
	),
	TP_fast_assign(
		__entry->space = space;
		__entry->addr = addr;
		__entry->frame = frame;
		__entry->rights = rights;
		__entry->depth = depth;
	),
	TP_printk("space=%llu addr=0x%llx frame=%llu rights=0x%x depth=%u",
		  __entry->space, __entry->addr, __entry->frame,
		  __entry->rights, __entry->depth)
);

#endif /* _L4U_TRACE_H */

/* out of tree (and under DKMS): this directory, found through -I$(src)/kmod */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
