// SPDX-License-Identifier: GPL-2.0
/*
 * Statistics: the per-CPU counters (observe.c) summed into struct l4_stats. One table says
 * which field of it each netlink attribute carries, so that L4_IOC_STATS
 * and L4_CMD_STATS report the same counters, read the same way.
 */
#include <linux/stddef.h>

#include <linux/l4_netlink.h>

#include "l4u.h"

#define L4_SUM(st, field)	((st)->field += READ_ONCE(c->field))

void l4_stats_read(struct l4_stats *st)
{
	int cpu;

	memset(st, 0, sizeof(*st));
	for_each_possible_cpu(cpu) {
		const struct l4_counters *c = per_cpu_ptr(&l4_counters, cpu);

		L4_SUM(st, spaces);
		L4_SUM(st, nodes);
		L4_SUM(st, windows);
		L4_SUM(st, frames_allocated);
		L4_SUM(st, frames_freed);
		L4_SUM(st, kernel_faults);
		L4_SUM(st, limit_faults);
		L4_SUM(st, maps);
		L4_SUM(st, grants);
		L4_SUM(st, unmaps);
		L4_SUM(st, revoked);
		L4_SUM(st, gates);
		L4_SUM(st, threads);
		L4_SUM(st, messages);
		L4_SUM(st, replies);
		L4_SUM(st, pager_faults);
		L4_SUM(st, faultaround_pages);
	}
	st->frames = l4_frames_live();
	st->superpages = l4_superpages_live();
	st->max_frames = READ_ONCE(l4_max_frames);
}

#define L4_STAT(a, field)	{ a, offsetof(struct l4_stats, field) }

const struct l4_stat_attr l4_stat_attrs[] = {
	L4_STAT(L4_A_ST_SPACES,			spaces),
	L4_STAT(L4_A_ST_FRAMES,			frames),
	L4_STAT(L4_A_ST_MAX_FRAMES,		max_frames),
	L4_STAT(L4_A_ST_NODES,			nodes),
	L4_STAT(L4_A_ST_WINDOWS,		windows),
	L4_STAT(L4_A_ST_FRAMES_ALLOCATED,	frames_allocated),
	L4_STAT(L4_A_ST_FRAMES_FREED,		frames_freed),
	L4_STAT(L4_A_ST_KERNEL_FAULTS,		kernel_faults),
	L4_STAT(L4_A_ST_ERRORS,			limit_faults),
	L4_STAT(L4_A_ST_MAPS,			maps),
	L4_STAT(L4_A_ST_GRANTS,			grants),
	L4_STAT(L4_A_ST_UNMAPS,			unmaps),
	L4_STAT(L4_A_ST_REVOKED,		revoked),
	L4_STAT(L4_A_ST_GATES,			gates),
	L4_STAT(L4_A_ST_THREADS,		threads),
	L4_STAT(L4_A_ST_MESSAGES,		messages),
	L4_STAT(L4_A_ST_REPLIES,		replies),
	L4_STAT(L4_A_ST_PAGER_FAULTS,		pager_faults),
	L4_STAT(L4_A_ST_FAULTAROUND_PAGES,	faultaround_pages),
	L4_STAT(L4_A_ST_SUPERPAGES,		superpages),
};

const unsigned int l4_stat_nattrs = ARRAY_SIZE(l4_stat_attrs);
