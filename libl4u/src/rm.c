// SPDX-License-Identifier: MIT
/*
 * The region manager: a region map (sorted arrays of regions and areas
 * under a rwlock) and a pager thread that turns page faults of the task's
 * space into L4U_DS_MAP calls to dataspace managers.
 *
 * Locks: rm->map_lock (mutex) serializes putting pages into the task's
 * space (the pager thread, eager attach) against taking them out
 * (detach); rm->lock (rwlock) protects the arrays. Order: map_lock, then
 * lock. A manager is called holding map_lock only: attach, find and the
 * area calls never wait for a manager; detach waits for at most the one
 * call in progress (so that no page of a detached region can land after
 * its unmap).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

#include "l4u/l4u.h"
#include "l4u/dataspace.h"
#include "l4u/task.h"
#include "l4u/rm.h"
#include "l4u/util.h"
#include "task_int.h"

#define PAGE		4096ULL

static inline uint64_t rm_page_up(uint64_t n)
{
	return (n + PAGE - 1) & ~(PAGE - 1);
}
#define RM_LABEL_STOP	0x524d53544f50LL	/* 'RMSTOP': from l4u_rm_destroy */

/* A dataspace capability shared by the regions made of one attach. */
struct rm_copy {
	uint64_t off;		/* of the page in the shared dataspace */
	struct l4u_ds ds;	/* the private copy: one page, anonymous */
};

struct rm_ds {
	struct l4u_ds ds;	/* with the region manager's own cap */
	unsigned int refs;	/* under rm->lock (write) */
	/* private regions: pages copied on write, sorted (under map_lock) */
	struct rm_copy *copies;
	size_t ncopies, capcopies;
};

struct rm_region {
	uint64_t start, end;	/* space addresses */
	uint64_t offset;
	uint32_t flags;		/* rights | L4U_RM_PRIVATE */
	struct rm_ds *ds;
};

struct rm_area {
	uint64_t start, end;
};

struct l4u_rm {
	struct l4u_task *task;
	int gate;
	uint64_t cookie;	/* the stop message's proof of origin */
	/* copy-on-write (l4u_rm_set_cow): set once, before any use */
	char *cow_dsm;		/* anonymous-memory manager for copies */
	int scratch;		/* a space of two pages to copy through */
	char *scratch_win;
	pthread_t thread;
	int done;		/* atomic: the pager thread has left its loop */
	pthread_mutex_t map_lock;
	pthread_rwlock_t lock;
	struct rm_region *reg;
	size_t nreg, capreg;
	struct rm_area *area;
	size_t narea, caparea;
};

/* ---- address arithmetic ---------------------------------------------------- */

static uint64_t rm_addr(const struct l4u_rm *rm, const void *va)
{
	return (uint64_t)((const char *)va - rm->task->win) + rm->task->win_addr;
}

static void *rm_va(const struct l4u_rm *rm, uint64_t addr)
{
	return rm->task->win + (addr - rm->task->win_addr);
}

static uint64_t rm_lo(const struct l4u_rm *rm)
{
	return rm->task->win_addr;
}

static uint64_t rm_hi(const struct l4u_rm *rm)
{
	return rm->task->win_addr + rm->task->win_len;
}

static int rm_va_ok(const struct l4u_rm *rm, const void *va)
{
	const char *p = va;

	return p >= rm->task->win && p < rm->task->win + rm->task->win_len;
}

/* ---- the arrays -------------------------------------------------------------- */

/*
 * Index of the first element of a sorted array of regions or areas (both
 * begin with start, end) ending above @addr.
 */
static size_t rm_idx(const void *arr, size_t n, size_t stride, uint64_t addr)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct rm_area *x = (const void *)((const char *)arr + mid * stride);

		if (x->end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

_Static_assert(offsetof(struct rm_region, start) == offsetof(struct rm_area, start) &&
	       offsetof(struct rm_region, end) == offsetof(struct rm_area, end),
	       "regions and areas begin alike");

static size_t rm_reg_idx(const struct l4u_rm *rm, uint64_t addr)
{
	return rm_idx(rm->reg, rm->nreg, sizeof(*rm->reg), addr);
}

static size_t rm_area_idx(const struct l4u_rm *rm, uint64_t addr)
{
	return rm_idx(rm->area, rm->narea, sizeof(*rm->area), addr);
}

static struct rm_region *rm_reg_overlap(const struct l4u_rm *rm, uint64_t s,
					uint64_t e)
{
	size_t i = rm_reg_idx(rm, s);

	return i < rm->nreg && rm->reg[i].start < e ? &rm->reg[i] : NULL;
}

static struct rm_area *rm_area_overlap(const struct l4u_rm *rm, uint64_t s,
				       uint64_t e)
{
	size_t i = rm_area_idx(rm, s);

	return i < rm->narea && rm->area[i].start < e ? &rm->area[i] : NULL;
}

/*
 * Room for one more element in @arr, an array of @n elements of @size bytes
 * with capacity *@cap (doubled, from @first): @arr or its reallocation
 * (*@cap updated), NULL when out of memory (@arr untouched).
 */
static void *rm_grow(void *arr, size_t *cap, size_t n, size_t size, size_t first)
{
	size_t c;
	void *p;

	if (n < *cap)
		return arr;
	c = *cap ? 2 * *cap : first;
	p = realloc(arr, c * size);
	if (p)
		*cap = c;
	return p;
}

static int rm_reg_insert(struct l4u_rm *rm, const struct rm_region *r)
{
	struct rm_region *reg = rm_grow(rm->reg, &rm->capreg, rm->nreg, sizeof(*r), 16);
	size_t i = rm_reg_idx(rm, r->start);

	if (!reg)
		return -ENOMEM;
	rm->reg = reg;
	memmove(&rm->reg[i + 1], &rm->reg[i], (rm->nreg - i) * sizeof(*r));
	rm->reg[i] = *r;
	rm->nreg++;
	return 0;
}

static void rm_reg_remove(struct l4u_rm *rm, struct rm_region *r)
{
	size_t i = (size_t)(r - rm->reg);

	memmove(&rm->reg[i], &rm->reg[i + 1], (rm->nreg - i - 1) * sizeof(*r));
	rm->nreg--;
}

static int rm_area_insert(struct l4u_rm *rm, uint64_t s, uint64_t e)
{
	struct rm_area *area = rm_grow(rm->area, &rm->caparea, rm->narea, sizeof(*area), 8);
	size_t i = rm_area_idx(rm, s);

	if (!area)
		return -ENOMEM;
	rm->area = area;
	memmove(&rm->area[i + 1], &rm->area[i],
		(rm->narea - i) * sizeof(rm->area[0]));
	rm->area[i] = (struct rm_area){ s, e };
	rm->narea++;
	return 0;
}

/* A free range of @size bytes aligned to @align in [lo, hi) from @hint. */
static int rm_search(const struct l4u_rm *rm, uint64_t hint, uint64_t size,
		     uint64_t align, uint64_t lo, uint64_t hi, int in_area,
		     uint64_t *out)
{
	uint64_t c = hint < lo ? lo : hint;

	for (;;) {
		const struct rm_region *r;
		const struct rm_area *a;

		c = (c + align - 1) & ~(align - 1);
		if (c < lo || c > hi || size > hi - c)
			return -ENOMEM;
		r = rm_reg_overlap(rm, c, c + size);
		if (r) {
			c = r->end;
			continue;
		}
		a = in_area ? NULL : rm_area_overlap(rm, c, c + size);
		if (a) {
			c = a->end;
			continue;
		}
		*out = c;
		return 0;
	}
}

/* The area containing @addr, or NULL. */
static struct rm_area *rm_area_at(const struct l4u_rm *rm, uint64_t addr)
{
	struct rm_area *a = rm_area_overlap(rm, addr, addr + 1);

	return a && a->start <= addr ? a : NULL;
}

/* ---- putting pages in, taking them out ---------------------------------------- */

/* ---- copy-on-write (map_lock held throughout) ------------------------------- */

static struct rm_copy *rm_copy_find(struct rm_ds *d, uint64_t off)
{
	size_t lo = 0, hi = d->ncopies;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (d->copies[mid].off < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < d->ncopies && d->copies[lo].off == off ? &d->copies[lo] : NULL;
}

static int rm_copy_insert(struct rm_ds *d, uint64_t off, const struct l4u_ds *c)
{
	size_t i = 0;

	if (d->ncopies == d->capcopies) {
		size_t cap = d->capcopies ? 2 * d->capcopies : 8;
		struct rm_copy *n = realloc(d->copies, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		d->copies = n;
		d->capcopies = cap;
	}
	while (i < d->ncopies && d->copies[i].off < off)
		i++;
	memmove(&d->copies[i + 1], &d->copies[i],
		(d->ncopies - i) * sizeof(*d->copies));
	d->copies[i] = (struct rm_copy){ .off = off, .ds = *c };
	d->ncopies++;
	return 0;
}

/* Close the copies of the pages at offsets [lo, hi). */
static void rm_copies_drop(struct rm_ds *d, uint64_t lo, uint64_t hi)
{
	size_t i = 0, j = 0;

	for (i = 0; i < d->ncopies; i++) {
		if (d->copies[i].off >= lo && d->copies[i].off < hi)
			l4u_ds_close(&d->copies[i].ds);
		else
			d->copies[j++] = d->copies[i];
	}
	d->ncopies = j;
}

/*
 * The write fault at @addr in a private region: a new anonymous page gets
 * the contents of the shared page at @off (both mapped into the scratch
 * space, copied through its window), and the shared page leaves the
 * task's space. *@c: the copy.
 */
static int rm_cow(struct l4u_rm *rm, struct rm_ds *d, uint64_t off,
		  uint64_t addr, struct rm_copy **c)
{
	uint64_t n1 = 0, n2 = 0;
	struct l4u_ds copy;
	int ret;

	ret = l4u_ds_open_anon(rm->cow_dsm, PAGE, L4_FPAGE_RW, &copy);
	if (ret)
		return ret;
	/*
	 * The same manager copies itself (COPY_IN): a swapping manager may
	 * evict the source's frame to give the copy one, which would leave
	 * nothing to copy from in the scratch space. Another manager does
	 * not know the source (ESRCH, EXDEV, ENOSYS): copy through the
	 * scratch space.
	 */
	ret = l4u_ds_copy_in(&copy, 0, &d->ds, off, PAGE);
	if (!ret)
		goto copied;
	if (ret != -ESRCH && ret != -EXDEV && ret != -ENOSYS) {
		l4u_ds_close(&copy);
		return ret;
	}
	ret = l4u_ds_map(&d->ds, off, 0, L4_FPAGE_R, rm->scratch,
			 L4_FPAGE(0, 12, 0), &n1);
	if (!ret)
		ret = l4u_ds_map(&copy, 0, PAGE, L4_FPAGE_RW, rm->scratch,
				 L4_FPAGE(PAGE, 12, 0), &n2);
	if (!ret && (n1 != 1 || n2 != 1))
		ret = -EIO;	/* nothing there: touching it would fault */
	if (!ret)
		memcpy(rm->scratch_win + PAGE, rm->scratch_win, PAGE);
	l4u_unmap_range(rm->scratch, 0, 2 * PAGE, L4_FPAGE_RWX,
			L4_UNMAP_ALL_SPACES, NULL);
copied:
	if (!ret)
		ret = rm_copy_insert(d, off, &copy);
	if (ret) {
		l4u_ds_close(&copy);
		return ret;
	}
	l4u_unmap_range(rm->task->space, addr, addr + PAGE, L4_FPAGE_RWX,
			L4_UNMAP_ALL_SPACES, NULL);
	*c = rm_copy_find(d, off);
	return 0;
}

/*
 * Have the manager map the page at space address @addr (and what of the
 * region around it fits one flexpage) into the task's space. @need: the
 * rights the access needs. 0 or -errno: -ENOENT no region, -EACCES rights,
 * or the manager's error.
 */
static int rm_resolve(struct l4u_rm *rm, uint64_t addr, unsigned int need,
		      uint64_t *pages)
{
	struct rm_region r = { 0 };
	struct l4u_ds ds;
	unsigned int order, rights;
	uint64_t off;
	int ret = 0;

	*pages = 0;
	pthread_mutex_lock(&rm->map_lock);
	pthread_rwlock_rdlock(&rm->lock);
	{
		struct rm_region *p = rm_reg_overlap(rm, addr, addr + 1);

		if (!p)
			ret = -ENOENT;
		else if (need & ~p->flags & L4_FPAGE_RWX)
			ret = -EACCES;
		else
			r = *p;
	}
	pthread_rwlock_unlock(&rm->lock);
	if (ret)
		goto out;
	/* the cap stays open: only holders of map_lock close it */
	ds = r.ds->ds;
	off = r.offset + (addr - r.start);
	rights = r.flags & L4_FPAGE_RWX;
	order = l4u_fpage_order_fit(addr, r.start, r.end);
	if (r.flags & L4U_RM_PRIVATE) {
		struct rm_copy *c = rm_copy_find(r.ds, off);

		if (!c && (need & L4_FPAGE_W))
			ret = rm_cow(rm, r.ds, off, addr, &c);
		if (ret)
			goto out;
		if (c) {		/* the page's own copy, writable */
			ret = l4u_ds_map(&c->ds, 0, addr, rights, rm->task->space,
					 L4_FPAGE(addr, 12, 0), pages);
			goto out;
		}
		/* the shared page, read-only; never over a copy */
		rights &= ~L4_FPAGE_W;
		if (r.ds->ncopies)
			order = 12;
	}
	ret = l4u_ds_map(&ds, off, addr, rights, rm->task->space,
			 L4_FPAGE(addr & ~((1ULL << order) - 1), order, 0),
			 pages);
out:
	pthread_mutex_unlock(&rm->map_lock);
	return ret;
}

/* Take every page of [s, e) out of the task's space (map_lock held). */
static void rm_unmap_range(struct l4u_rm *rm, uint64_t s, uint64_t e)
{
	l4u_unmap_range(rm->task->space, s, e, L4_FPAGE_RWX,
			L4_UNMAP_ALL_SPACES, NULL);
}

static void rm_ds_free(struct rm_ds *d)
{
	if (d) {
		rm_copies_drop(d, 0, ~0ULL);
		free(d->copies);
		close(d->ds.cap);
		free(d);
	}
}

/* ---- the pager thread ------------------------------------------------------------ */

/* The errno a fault is answered with for @err from rm_resolve(). */
static int rm_fault_errno(int err)
{
	switch (err) {
	case 0:
		return 0;		/* the page is there: retry */
	case -EPIPE:
		return EPIPE;		/* the manager is gone: SIGBUS */
	case -ENOMEM:
	case -EIO:
		return EIO;		/* no memory behind it: SIGBUS */
	default:
		return EFAULT;		/* no region, rights: SIGSEGV */
	}
}

/* One message to the pager thread. */
static int rm_handle(void *arg, const struct l4_msg *m, struct l4_reply *reply)
{
	struct l4u_rm *rm = arg;
	uint64_t w0 = m->words[0], pages;
	unsigned int need;

	if (m->label == RM_LABEL_STOP && m->nwords == 1 &&
	    m->words[0] == rm->cookie)
		return L4U_GATE_SERVE_STOP;
	if (!m->token)			/* a notification */
		return L4U_GATE_SERVE_NO_REPLY;
	if (m->label != L4_LABEL_PAGE_FAULT) {
		reply->error = ENOSYS;
		return 0;
	}
	if (m->space_id != rm->task->space_id) {
		reply->error = EFAULT;
		return 0;
	}
	need = L4_FPAGE_R;
	if (w0 & L4_PF_WRITE)
		need |= L4_FPAGE_W;
	if (w0 & L4_PF_EXEC)
		need |= L4_FPAGE_X;
	reply->error = rm_fault_errno(rm_resolve(rm, L4_PF_ADDR(w0) & ~(PAGE - 1),
						 need, &pages));
	return 0;
}

static void *rm_main(void *arg)
{
	struct l4u_rm *rm = arg;

	/* returns on the stop message, or when the gate became unusable */
	l4u_gate_serve(rm->gate, rm_handle, rm);
	__atomic_store_n(&rm->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/*
 * Stop the pager thread: a call carrying the cookie. Timed, so that a
 * thread that already gave up (its gate failed) cannot leave us waiting.
 */
static int rm_stop_thread(struct l4u_rm *rm)
{
	int ret;

	for (;;) {
		struct l4_call c = {
			.label		= RM_LABEL_STOP,
			.nwords		= 1,
			.words		= { rm->cookie },
			.rcv_space_fd	= -1,
			.timeout_ns	= 100 * 1000 * 1000,
		};

		if (__atomic_load_n(&rm->done, __ATOMIC_SEQ_CST))
			break;
		ret = l4u_call(rm->gate, &c);
		if (!ret)
			break;
		if (ret != -ETIMEDOUT && ret != -EINTR)
			return ret;
	}
	pthread_join(rm->thread, NULL);
	return 0;
}

/* ---- creation and destruction ------------------------------------------------------ */

int l4u_rm_create(int dev, struct l4u_task *task, struct l4u_rm **out)
{
	struct l4u_rm *rm;
	sigset_t all;
	int ret;

	if (!task || !out)
		return -EINVAL;
	rm = calloc(1, sizeof(*rm));
	if (!rm)
		return -ENOMEM;
	pthread_mutex_lock(&task->lock);
	if (task->rm) {
		pthread_mutex_unlock(&task->lock);
		free(rm);
		return -EBUSY;
	}
	task->rm = rm;
	pthread_mutex_unlock(&task->lock);
	rm->task = task;
	pthread_mutex_init(&rm->map_lock, NULL);
	pthread_rwlock_init(&rm->lock, NULL);
	if (getrandom(&rm->cookie, sizeof(rm->cookie), 0) != sizeof(rm->cookie))
		rm->cookie = (uint64_t)(uintptr_t)rm ^ 0x5bd1e9955bd1e995ULL;
	rm->gate = l4u_gate_create(dev);
	if (rm->gate < 0) {
		ret = rm->gate;
		goto free;
	}
	/* the pager thread takes no signal */
	sigfillset(&all);
	ret = task_pthread_create(&rm->thread, rm_main, rm, &all);
	if (ret)
		goto close;
	ret = l4u_space_set_pager(task->space, rm->gate);
	if (ret) {
		rm_stop_thread(rm);
		goto close;
	}
	*out = rm;
	return 0;
close:
	close(rm->gate);
free:
	pthread_rwlock_destroy(&rm->lock);
	pthread_mutex_destroy(&rm->map_lock);
	pthread_mutex_lock(&task->lock);
	task->rm = NULL;
	pthread_mutex_unlock(&task->lock);
	free(rm);
	return ret;
}

int l4u_rm_destroy(struct l4u_rm *rm)
{
	size_t i;
	int ret;

	if (!rm)
		return -EINVAL;
	l4u_space_set_pager(rm->task->space, -1);
	ret = rm_stop_thread(rm);
	if (ret)
		return ret;
	pthread_mutex_lock(&rm->map_lock);
	for (i = 0; i < rm->nreg; i++) {
		struct rm_region *r = &rm->reg[i];

		rm_unmap_range(rm, r->start, r->end);
		if (!--r->ds->refs)
			rm_ds_free(r->ds);
	}
	pthread_mutex_unlock(&rm->map_lock);
	close(rm->gate);
	if (rm->cow_dsm) {
		munmap(rm->scratch_win, 2 * PAGE);
		close(rm->scratch);
		free(rm->cow_dsm);
	}
	pthread_mutex_lock(&rm->task->lock);
	rm->task->rm = NULL;
	pthread_mutex_unlock(&rm->task->lock);
	pthread_rwlock_destroy(&rm->lock);
	pthread_mutex_destroy(&rm->map_lock);
	free(rm->reg);
	free(rm->area);
	free(rm);
	return 0;
}

int l4u_rm_gate(const struct l4u_rm *rm)
{
	return rm ? rm->gate : -EINVAL;
}

/* ---- the region map ---------------------------------------------------------------- */

static int rm_align(unsigned int order, uint64_t *align)
{
	if (!order)
		order = 12;
	if (order < 12 || order > 47)
		return -EINVAL;
	*align = 1ULL << order;
	return 0;
}

/* Internal detach; map_lock held by the caller. */
static int rm_detach_locked(struct l4u_rm *rm, uint64_t s, uint64_t e,
			    uint32_t flags, unsigned int *result,
			    struct l4u_region *old)
{
	struct rm_region *r, removed, rest;
	struct rm_ds *gone = NULL;
	unsigned int res;
	int ret = 0;

	pthread_rwlock_wrlock(&rm->lock);
	r = rm_reg_overlap(rm, s, e);
	if (!r) {
		pthread_rwlock_unlock(&rm->lock);
		return -ENOENT;
	}
	if ((flags & L4U_RM_DETACH_WHOLE) || (s <= r->start && e >= r->end)) {
		removed = *r;
		rm_reg_remove(rm, r);
		if (!--removed.ds->refs)
			gone = removed.ds;
		res = L4U_RM_DETACHED_DS;
	} else if (s <= r->start) {		/* the head goes */
		removed = *r;
		removed.end = e;
		r->offset += e - r->start;
		r->start = e;
		res = L4U_RM_KEPT_DS;
	} else if (e >= r->end) {		/* the tail goes */
		removed = *r;
		removed.start = s;
		removed.offset += s - r->start;
		r->end = s;
		res = L4U_RM_KEPT_DS;
	} else {				/* a hole in the middle */
		size_t idx = (size_t)(r - rm->reg);

		rest = *r;
		rest.start = e;
		rest.offset += e - r->start;
		removed = *r;
		removed.start = s;
		removed.end = e;
		removed.offset += s - r->start;
		r->end = s;			/* first: the array stays sorted */
		ret = rm_reg_insert(rm, &rest);	/* may move the array */
		r = &rm->reg[idx];
		if (ret)
			r->end = rest.end;
		else
			r->ds->refs++;
		res = L4U_RM_SPLIT_DS;
	}
	if (!ret && rm_reg_overlap(rm, s, e))
		res |= L4U_RM_DETACH_AGAIN;
	pthread_rwlock_unlock(&rm->lock);
	if (ret)
		return ret;
	rm_unmap_range(rm, removed.start, removed.end);
	rm_copies_drop(removed.ds, removed.offset,
		       removed.offset + (removed.end - removed.start));
	if (old)
		*old = (struct l4u_region){
			.start	= rm_va(rm, removed.start),
			.size	= removed.end - removed.start,
			.offset	= removed.offset,
			.flags	= removed.flags,
			.ds_cap	= -1,
			.ds_id	= removed.ds->ds.id,
		};
	rm_ds_free(gone);
	if (result)
		*result = res;
	return 0;
}

int l4u_rm_attach(struct l4u_rm *rm, void **start, uint64_t size,
		  uint32_t flags, const struct l4u_ds *ds, uint64_t offset,
		  unsigned int align_order)
{
	struct rm_region reg = { 0 };
	struct rm_ds *d;
	uint64_t align, s, lo, hi, a, pages;
	int ret;

	if (!rm || !start || !ds || (flags & ~L4U_RM_ATTACH_KNOWN) ||
	    !(flags & L4_FPAGE_R) || !size || (size & (PAGE - 1)) ||
	    (offset & (PAGE - 1)) || rm_align(align_order, &align))
		return -EINVAL;
	if ((flags & L4U_RM_PRIVATE) && (flags & L4_FPAGE_W) && !rm->cow_dsm)
		return -EOPNOTSUPP;
	if (ds->cap < 0)
		return -EBADF;
	if (flags & L4_FPAGE_RWX & ~ds->flags)
		return -EACCES;
	/* whole pages: the tail of a file's last page is part of it (as mmap) */
	if (offset >= ds->size || size > rm_page_up(ds->size) - offset)
		return -ERANGE;
	if (*start && !rm_va_ok(rm, *start))
		return -ERANGE;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->ds = *ds;
	d->refs = 1;
	d->ds.cap = fcntl(ds->cap, F_DUPFD_CLOEXEC, 3);
	if (d->ds.cap < 0) {
		ret = -errno;
		free(d);
		return ret;
	}

	pthread_rwlock_wrlock(&rm->lock);
	lo = rm_lo(rm);
	hi = rm_hi(rm);
	s = *start ? rm_addr(rm, *start) : lo;
	if (flags & L4U_RM_IN_AREA) {
		struct rm_area *ar = rm_area_at(rm, s);

		if (!ar) {
			ret = -ENOENT;
			goto unlock;
		}
		lo = ar->start;
		hi = ar->end;
	}
	if (flags & L4U_RM_SEARCH_ADDR) {
		ret = rm_search(rm, s, size, align, lo, hi,
				!!(flags & L4U_RM_IN_AREA), &s);
		if (ret)
			goto unlock;
	} else {
		ret = -EINVAL;
		if (!*start || (s & (PAGE - 1)))
			goto unlock;
		ret = -ERANGE;
		if (size > hi - s)
			goto unlock;
		ret = -EEXIST;
		if (rm_reg_overlap(rm, s, s + size))
			goto unlock;
		if (!(flags & L4U_RM_IN_AREA) && rm_area_overlap(rm, s, s + size))
			goto unlock;
	}
	reg = (struct rm_region){
		.start	= s,
		.end	= s + size,
		.offset	= offset,
		.flags	= flags & (L4_FPAGE_RWX | L4U_RM_PRIVATE),
		.ds	= d,
	};
	ret = rm_reg_insert(rm, &reg);
unlock:
	pthread_rwlock_unlock(&rm->lock);
	if (ret) {
		rm_ds_free(d);
		return ret;
	}
	if (flags & L4U_RM_EAGER_MAP) {
		for (a = s; a < s + size; a += (pages ? pages : 1) * PAGE) {
			ret = rm_resolve(rm, a, 0, &pages);
			if (ret)
				break;
		}
		if (ret) {
			pthread_mutex_lock(&rm->map_lock);
			rm_detach_locked(rm, s, s + size, L4U_RM_DETACH_WHOLE,
					 NULL, NULL);
			pthread_mutex_unlock(&rm->map_lock);
			return ret;
		}
	}
	*start = rm_va(rm, s);
	return 0;
}

int l4u_rm_detach(struct l4u_rm *rm, void *start, uint64_t size,
		  uint32_t flags, unsigned int *result, struct l4u_region *old)
{
	uint64_t s;
	int ret;

	if (!rm || (flags & ~L4U_RM_DETACH_KNOWN) || !size ||
	    (size & (PAGE - 1)) || ((uintptr_t)start & (PAGE - 1)))
		return -EINVAL;
	if (!rm_va_ok(rm, start))
		return -ENOENT;
	s = rm_addr(rm, start);
	if (size > rm_hi(rm) - s)
		size = rm_hi(rm) - s;
	pthread_mutex_lock(&rm->map_lock);
	ret = rm_detach_locked(rm, s, s + size, flags, result, old);
	pthread_mutex_unlock(&rm->map_lock);
	return ret;
}

int l4u_rm_find(struct l4u_rm *rm, void *start, uint64_t size,
		struct l4u_region *region)
{
	const struct rm_region *r;
	uint64_t s;
	int ret = 0;

	if (!rm || !size || !region)
		return -EINVAL;
	if (!rm_va_ok(rm, start))
		return -ENOENT;
	s = rm_addr(rm, start);
	if (size > rm_hi(rm) - s)
		size = rm_hi(rm) - s;
	pthread_rwlock_rdlock(&rm->lock);
	r = rm_reg_overlap(rm, s, s + size);
	if (r)
		*region = (struct l4u_region){
			.start	= rm_va(rm, r->start),
			.size	= r->end - r->start,
			.offset	= r->offset,
			.flags	= r->flags,
			.ds_cap	= r->ds->ds.cap,
			.ds_id	= r->ds->ds.id,
		};
	else
		ret = -ENOENT;
	pthread_rwlock_unlock(&rm->lock);
	return ret;
}

int l4u_rm_reserve_area(struct l4u_rm *rm, void **start, uint64_t size,
			uint32_t flags, unsigned int align_order)
{
	uint64_t align, s;
	int ret;

	if (!rm || !start || (flags & ~L4U_RM_AREA_KNOWN) || !size ||
	    (size & (PAGE - 1)) || rm_align(align_order, &align))
		return -EINVAL;
	if (*start && !rm_va_ok(rm, *start))
		return -ERANGE;
	pthread_rwlock_wrlock(&rm->lock);
	s = *start ? rm_addr(rm, *start) : rm_lo(rm);
	if (flags & L4U_RM_SEARCH_ADDR) {
		ret = rm_search(rm, s, size, align, rm_lo(rm), rm_hi(rm), 0, &s);
	} else if (!*start || (s & (PAGE - 1))) {
		ret = -EINVAL;
	} else if (size > rm_hi(rm) - s) {
		ret = -ERANGE;
	} else if (rm_reg_overlap(rm, s, s + size) ||
		   rm_area_overlap(rm, s, s + size)) {
		ret = -EEXIST;
	} else {
		ret = 0;
	}
	if (!ret)
		ret = rm_area_insert(rm, s, s + size);
	pthread_rwlock_unlock(&rm->lock);
	if (!ret)
		*start = rm_va(rm, s);
	return ret;
}

int l4u_rm_free_area(struct l4u_rm *rm, void *start)
{
	struct rm_area *a;
	uint64_t s;
	int ret = -ENOENT;

	if (!rm)
		return -EINVAL;
	if (!rm_va_ok(rm, start))
		return -ENOENT;
	s = rm_addr(rm, start);
	pthread_rwlock_wrlock(&rm->lock);
	a = rm_area_at(rm, s);
	if (a && a->start == s) {
		size_t i = (size_t)(a - rm->area);

		memmove(&rm->area[i], &rm->area[i + 1],
			(rm->narea - i - 1) * sizeof(*a));
		rm->narea--;
		ret = 0;
	}
	pthread_rwlock_unlock(&rm->lock);
	return ret;
}

int l4u_rm_set_cow(struct l4u_rm *rm, int dev, const char *dsm)
{
	char *name;
	void *win;
	int sp, ret;

	if (!rm || !dsm || !*dsm)
		return -EINVAL;
	name = strdup(dsm);
	if (!name)
		return -ENOMEM;
	sp = l4u_space_create(dev, 2 * PAGE, 0, 0, NULL);
	if (sp < 0) {
		free(name);
		return sp;
	}
	ret = l4u_window_open(sp, 0, 2 * PAGE, PROT_READ | PROT_WRITE, NULL, &win);
	if (ret) {
		close(sp);
		free(name);
		return ret;
	}
	pthread_mutex_lock(&rm->map_lock);
	pthread_rwlock_wrlock(&rm->lock);
	if (rm->cow_dsm) {
		ret = -EBUSY;
	} else {
		rm->scratch = sp;
		rm->scratch_win = win;
		rm->cow_dsm = name;
	}
	pthread_rwlock_unlock(&rm->lock);
	pthread_mutex_unlock(&rm->map_lock);
	if (ret) {
		munmap(win, 2 * PAGE);
		close(sp);
		free(name);
	}
	return ret;
}
