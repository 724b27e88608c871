/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few kernel API differences between Debian's 6.1 and 6.12 that l4u
 * touches, kept in one place. It covers 6.1 to 7.3 (tested: 6.1, 6.12 and
 * 7.3, the newest Debian ships); 7.3 needs nothing beyond 6.12.
 */
#ifndef _L4U_COMPAT_H
#define _L4U_COMPAT_H

#include <linux/mm.h>
#include <linux/version.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
/* 6.3 made vma->vm_flags const behind vm_flags_set()/vm_flags_clear(). */
static inline void l4_vm_flags_set(struct vm_area_struct *vma, unsigned long flags)
{
	vma->vm_flags |= flags;
}

static inline void l4_vm_flags_clear(struct vm_area_struct *vma, unsigned long flags)
{
	vma->vm_flags &= ~flags;
}
#else
static inline void l4_vm_flags_set(struct vm_area_struct *vma, unsigned long flags)
{
	vm_flags_set(vma, flags);
}

static inline void l4_vm_flags_clear(struct vm_area_struct *vma, unsigned long flags)
{
	vm_flags_clear(vma, flags);
}
#endif

/* Drop the lock a fault runs under: mmap_lock, or (6.5+) maybe the VMA lock. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 5, 0)
static inline void l4_release_fault_lock(struct vm_fault *vmf)
{
	mmap_read_unlock(vmf->vma->vm_mm);
}
#else
static inline void l4_release_fault_lock(struct vm_fault *vmf)
{
	release_fault_lock(vmf);
}
#endif

/* 6.2 moved a dump's parsed attributes into a struct genl_info */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
#define l4_nl_dump_attrs(cb)	(genl_dumpit_info(cb)->attrs)
#else
#define l4_nl_dump_attrs(cb)	(genl_info_dump(cb)->attrs)
#endif

/*
 * Filtered multicast: 6.8 brought genlmsg_multicast_netns_filtered(), whose
 * filter runs for every subscribing socket (a nonzero return skips it).
 * Debian's 6.1 exports no filtered broadcast at all (neither that nor
 * netlink_broadcast_filtered(): see its headers and Module.symvers), so
 * there the group stays CAP_SYS_ADMIN-only and the filter is not called:
 * every subscriber may see everything.
 */
#include <net/genetlink.h>

typedef int (*l4_nl_filter_fn)(struct sock *dsk, struct sk_buff *skb,
			       void *data);

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 8, 0)
#define L4_NL_MCAST_FILTERED	0
static inline int l4_genl_multicast_filtered(const struct genl_family *family,
					     struct sk_buff *skb,
					     unsigned int group,
					     l4_nl_filter_fn filter, void *data)
{
	return genlmsg_multicast(family, skb, 0, group, GFP_ATOMIC);
}
#else
#define L4_NL_MCAST_FILTERED	1
static inline int l4_genl_multicast_filtered(const struct genl_family *family,
					     struct sk_buff *skb,
					     unsigned int group,
					     l4_nl_filter_fn filter, void *data)
{
	return genlmsg_multicast_netns_filtered(family, &init_net, skb, 0,
						group, GFP_ATOMIC, filter,
						data);
}
#endif

/* 6.12 hides struct fd's members behind fd_file() */
#include <linux/file.h>
#ifndef fd_file
#define fd_file(f)	((f).file)
#endif

#endif /* _L4U_COMPAT_H */
