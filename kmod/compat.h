/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few kernel API differences between Debian's 6.1 and 6.12 that l4u
 * touches, kept in one place. It covers 6.1 to 7.3 (tested: 6.1, 6.12 and
 * 7.3, the newest Debian ships); 7.3 needs nothing beyond 6.12.
 */
#ifndef _L4U_COMPAT_H
#define _L4U_COMPAT_H

#include <linux/mm.h>
#include <linux/pagemap.h>
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

/*
 * One PTE for one page of a large folio, from ->fault (the page locked and
 * referenced; both are dropped here on success). Since 6.15
 * vmf_insert_page_mkwrite() does it, writable at once for a write fault.
 * Before, finish_fault() maps just the one page it gets as long as a page
 * table is there (else it would try a PMD for the folio), so make sure of
 * that and let it: VM_FAULT_LOCKED. apply_to_page_range() allocates page
 * tables in any mm and is exported; its callback has nothing to do.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 15, 0)
static inline vm_fault_t l4_fault_one_pte(struct vm_fault *vmf, struct page *page)
{
	vm_fault_t ret;

	ret = vmf_insert_page_mkwrite(vmf, page, vmf->flags & FAULT_FLAG_WRITE);
	unlock_page(page);
	put_page(page);
	return ret;
}
#else
static inline int l4_pte_table_only(pte_t *pte, unsigned long addr, void *data)
{
	return 0;
}

static inline vm_fault_t l4_fault_one_pte(struct vm_fault *vmf, struct page *page)
{
	if (pmd_none(*vmf->pmd) &&
	    apply_to_page_range(vmf->vma->vm_mm, vmf->address & PAGE_MASK,
				PAGE_SIZE, l4_pte_table_only, NULL)) {
		unlock_page(page);
		put_page(page);
		return VM_FAULT_OOM;
	}
	vmf->page = page;
	return VM_FAULT_LOCKED;
}
#endif

/* 6.12 hides struct fd's members behind fd_file() */
#include <linux/file.h>
#ifndef fd_file
#define fd_file(f)	((f).file)
#endif

#endif /* _L4U_COMPAT_H */
