// SPDX-License-Identifier: GPL-2.0
/*
 * Windows: MAP_SHARED mappings of a space fd. The file offset is the space
 * address. The PTEs of a window are a cache of the space's entries, filled
 * here on access and zapped through the space inode's i_mapping when an
 * entry goes away. A window holds no reference of its own: vma->vm_file
 * pins the space file, which holds the space.
 *
 * Execute rights: a PTE takes its protection from the window
 * (vm_page_prot), so it is executable in an executable window and in no
 * other. Hence X is enforced per window: in a window mapped PROT_EXEC every
 * access needs X on the entry (a fault without it goes to the pager with
 * the X bit set, and revoking X zaps the PTEs like revoking W), and a window
 * mapped without PROT_EXEC can never gain it (no VM_MAYEXEC: mprotect()
 * says EACCES).
 *
 * Superpages: ->fault hands the core a page of a superpage frame only where
 * the node maps all of it, and the core then maps the folio at its size
 * (finish_fault(): one PMD where the window is 2 MiB-aligned to the space
 * and no page table is there yet; since 6.15 else all its PTEs). A 4 KiB
 * node of a superpage gets its one PTE (compat.h). Windows of fault-around
 * spaces are VM_MIXEDMAP, and the core would take a PMD there for a pfn
 * map at zap time and leak its reference: there a superpage node's PTEs
 * are all inserted at once instead. The space file's get_unmapped_area
 * places windows 2 MiB-aligned where they are big enough.
 */
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/sched/signal.h>

#include "compat.h"
#include "l4u.h"

static void l4_window_open(struct vm_area_struct *vma)
{
	struct l4_space *space = vma->vm_private_data;

	atomic_inc(&space->windows);
	l4_count_inc(windows);
}

static void l4_window_close(struct vm_area_struct *vma)
{
	struct l4_space *space = vma->vm_private_data;

	atomic_dec(&space->windows);
	l4_count_dec(windows);
}

/* What every access through @vma needs besides R (and W for a write). */
static u8 l4_window_rights(const struct vm_area_struct *vma)
{
	return vma->vm_flags & VM_EXEC ? L4_FPAGE_R | L4_FPAGE_X : L4_FPAGE_R;
}

/*
 * Fault-around (L4_SPACE_FAULT_AROUND): map the present neighbours of the
 * faulting page in its aligned block, each the way a fault's fast case
 * finds its page (l4_space_trylock_page(): a trylock only, we hold the
 * faulting page's lock). Windows of such spaces are VM_MIXEDMAP, which
 * vm_insert_page() needs under a shared mmap_lock. The PTEs come from
 * vm_page_prot: read-only while write-notify is on, so a write still goes
 * through ->page_mkwrite and its W check.
 */
static void l4_window_fault_around(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct l4_space *space = vma->vm_private_data;
	pgoff_t first = ALIGN_DOWN(vmf->pgoff, L4_FAULT_AROUND_PAGES);
	pgoff_t last = first + L4_FAULT_AROUND_PAGES - 1;
	pgoff_t index;
	struct page *page;
	u8 have;

	first = max(first, vma->vm_pgoff);
	last = min(last, vma->vm_pgoff + vma_pages(vma) - 1);
	for (index = first; index <= last; index++) {
		if (index == vmf->pgoff)
			continue;
		page = l4_space_trylock_page(space, index, l4_window_rights(vma),
					     &have, NULL);
		if (!page)
			continue;
		if (!vm_insert_page(vma, vma->vm_start +
				    ((index - vma->vm_pgoff) << PAGE_SHIFT), page))
			l4_count_inc(faultaround_pages);
		unlock_page(page);
		put_page(page);
	}
}

/* A write's handoff to ->page_mkwrite: see there. Under the folio lock. */
static void l4_window_token_set(struct page *page, struct vm_fault *vmf)
{
	page_folio(page)->private = vmf;
}

static bool l4_window_token_take(struct page *page, struct vm_fault *vmf)
{
	struct folio *folio = page_folio(page);

	if (folio->private != vmf)
		return false;
	folio->private = NULL;
	return true;
}

#define L4_INSERT_BATCH	32

/*
 * A VM_MIXEDMAP window: put PTEs for all of the superpage node that maps
 * @page (locked and referenced; both dropped here) into the window, as far
 * as the window reaches. They come read-only (vm_page_prot: write-notify),
 * so a write goes through ->page_mkwrite and its W check.
 */
static vm_fault_t l4_window_insert_super(struct vm_fault *vmf, struct page *page)
{
	struct vm_area_struct *vma = vmf->vma;
	struct folio *folio = page_folio(page);
	struct page *batch[L4_INSERT_BATCH];
	pgoff_t first = ALIGN_DOWN(vmf->pgoff, L4_SUPER_PAGES);
	pgoff_t last = first + L4_SUPER_PAGES - 1, index;
	unsigned long n, left, i;
	int err = 0;

	first = max(first, vma->vm_pgoff);
	last = min(last, vma->vm_pgoff + vma_pages(vma) - 1);
	for (index = first; index <= last; index += n) {
		n = min_t(unsigned long, L4_INSERT_BATCH, last - index + 1);
		for (i = 0; i < n; i++)
			batch[i] = folio_page(folio, (index + i) & (L4_SUPER_PAGES - 1));
		left = n;
		err = vm_insert_pages(vma, vma->vm_start +
				      ((index - vma->vm_pgoff) << PAGE_SHIFT),
				      batch, &left);
		l4_count_add(faultaround_pages, n - left);
		if (err == -EBUSY)	/* one was there: go on after it */
			n = n - left + 1;
		else if (err)
			break;
	}
	unlock_page(page);
	put_page(page);
	return err && err != -EBUSY ? vmf_error(err) : VM_FAULT_NOPAGE;
}

/*
 * Ask the pager about vmf (l4_fault_to_pager()): the first time for this
 * fault with the lock held while it spins. 0: answered in place, look
 * again; else the fault's result.
 */
static vm_fault_t l4_window_ask(struct vm_fault *vmf, u8 rights, bool present,
				bool *asked)
{
	vm_fault_t ret = l4_fault_to_pager(vmf, rights, present, !*asked);

	*asked = true;
	return ret;
}

/*
 * Find (or, in a sigma0-backed space, create) the entry at @index with at
 * least @rights and return its page locked and referenced in vmf->page.
 */
static vm_fault_t l4_window_get_locked(struct vm_fault *vmf, u8 rights)
{
	struct l4_space *space = vmf->vma->vm_private_data;
	unsigned long index = vmf->pgoff;
	bool asked = false;
	struct page *page;
	vm_fault_t ret;
	u8 have, order;
	int err;

	ret = l4_fault_verdict(vmf);
	if (ret)
		return ret;
again:
	page = l4_space_trylock_page(space, index, rights, &have, &order);
	if (page)
		goto locked;
	/* a miss: straight to the pager (a sigma0 space fills the slot below) */
	if (!(space->flags & L4_SPACE_SIGMA0) && (have & rights) != rights) {
		ret = l4_window_ask(vmf, rights, have != 0, &asked);
		goto asked;
	}
	for (;;) {
		if (fatal_signal_pending(current))
			return VM_FAULT_SIGBUS;

		page = l4_space_get_page(space, index, &have);
		if (page) {
			if ((have & rights) != rights) {
				put_page(page);
				ret = l4_window_ask(vmf, rights, true, &asked);
				goto asked;
			}
			/*
			 * The folio lock is the frame lock: a map or unmap
			 * of a wide tree may hold it for a while.
			 */
			if (folio_lock_killable(page_folio(page))) {
				put_page(page);
				return VM_FAULT_SIGBUS;
			}
			if (l4_space_access_page(space, index, page, rights, &order))
				goto locked;
			unlock_page(page);
			put_page(page);
			continue;
		}

		if (!(space->flags & L4_SPACE_SIGMA0)) {
			ret = l4_window_ask(vmf, rights, false, &asked);
			goto asked;
		}

		err = l4_sigma0_populate(space, index);
		if (err == -EEXIST || !err)
			continue;
		l4_count_inc(limit_faults);
		return VM_FAULT_SIGBUS;
	}

asked:
	/* answered with the lock held: the fault goes on */
	if (!ret)
		goto again;
	return ret;

locked:
	l4_count_inc(kernel_faults);
	/* one the pager answered in place counts as major, as a retried one */
	ret = asked ? VM_FAULT_MAJOR : 0;
	/* a superpage's page: where the core may map the folio whole, see top */
	if (folio_test_large(page_folio(page))) {
		if (!order)
			return ret | l4_fault_one_pte(vmf, page);
		if (vmf->vma->vm_flags & VM_MIXEDMAP)
			return ret | l4_window_insert_super(vmf, page);
	}
	vmf->page = page;
	/* a write: the handoff to ->page_mkwrite, see there */
	if (vmf->flags & FAULT_FLAG_WRITE)
		l4_window_token_set(page, vmf);
	/*
	 * Only for reads: neighbours come read-only (write-notify), so after
	 * a write fault each would take a write-protect fault anyway.
	 */
	if ((space->flags & L4_SPACE_FAULT_AROUND) && !(vmf->flags & FAULT_FLAG_WRITE))
		l4_window_fault_around(vmf);
	return ret | VM_FAULT_LOCKED;
}

static vm_fault_t l4_window_fault(struct vm_fault *vmf)
{
	u8 rights = l4_window_rights(vmf->vma);

	/*
	 * A write needs W already here: a rights fault must reach the pager
	 * from ->fault, the only place where the core lets us drop the lock
	 * (->page_mkwrite runs without FAULT_FLAG_ALLOW_RETRY).
	 */
	if (vmf->flags & FAULT_FLAG_WRITE)
		rights |= L4_FPAGE_W;
	return l4_window_get_locked(vmf, rights);
}

/*
 * The first write to a page that is mapped read-only. The page has no
 * ->mapping, so it must come back locked (VM_FAULT_LOCKED): the core's
 * fallback would treat an unlocked mapping-less page as truncated.
 */
static vm_fault_t l4_window_page_mkwrite(struct vm_fault *vmf)
{
	struct l4_space *space = vmf->vma->vm_private_data;
	struct page *page = vmf->page;

	if (folio_lock_killable(page_folio(page)))
		return VM_FAULT_SIGBUS;	/* dying anyway */
	/*
	 * Right after our ->fault validated this very write (the PTE was
	 * none: do_shared_fault() unlocks the page in between), ->fault left
	 * the fault's vmf in its folio's private under the lock. Every revoker
	 * clears it under the frame lock, the folio lock
	 * (l4_frame_void_handoff()), and any other fault overwrites it, so
	 * finding it unchanged means nothing came in between: no second
	 * lookup. The pointer is a token, never followed.
	 * A write-protect fault (a present PTE) always looks again.
	 */
	if (pte_none(vmf->orig_pte) && l4_window_token_take(page, vmf))
		return VM_FAULT_LOCKED;
	if (l4_space_access_page(space, vmf->pgoff, page, L4_FPAGE_W, NULL))
		return VM_FAULT_LOCKED;
	unlock_page(page);
	/* gone meanwhile: let the fault start over */
	if (!l4_space_access_page(space, vmf->pgoff, page, 0, NULL))
		return VM_FAULT_NOPAGE;
	/* held without W, and nobody to ask: refuse */
	if (!l4_fault_has_pager(space))
		return VM_FAULT_SIGSEGV;
	/*
	 * A rights fault for the pager. Drop the read-only PTE and let the
	 * access repeat: it then comes to ->fault as a write to an absent
	 * PTE, which may sleep on the pager (here we may not).
	 */
	unmap_mapping_range(space->inode->i_mapping,
			    (loff_t)vmf->pgoff << PAGE_SHIFT, PAGE_SIZE, 1);
	return VM_FAULT_NOPAGE;
}

static const struct vm_operations_struct l4_window_vm_ops = {
	.open		= l4_window_open,
	.close		= l4_window_close,
	.fault		= l4_window_fault,
	.page_mkwrite	= l4_window_page_mkwrite,
};

int l4_window_mmap(struct l4_space *space, struct vm_area_struct *vma)
{
	/* a window is a view of the space, never a private copy of it */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	if (vma->vm_pgoff >= space->pages ||
	    vma_pages(vma) > space->pages - vma->vm_pgoff)
		return -ENXIO;

	l4_vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
	if (!(vma->vm_flags & VM_EXEC))
		l4_vm_flags_clear(vma, VM_MAYEXEC);
	if (space->flags & L4_SPACE_FAULT_AROUND)
		l4_vm_flags_set(vma, VM_MIXEDMAP);
	vma->vm_ops = &l4_window_vm_ops;
	vma->vm_private_data = space;
	l4_window_open(vma);
	return 0;
}
