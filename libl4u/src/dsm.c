// SPDX-License-Identifier: MIT
/*
 * Dataspace managers: the manager around a backend (anonymous memory,
 * files) that the programs pagers/l4u-dsm-* run, with swapping and pinning
 * on a frame pool (frames.c). See docs/dataspaces.md, docs/swapping.md.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include "l4u/l4u.h"
#include "l4u/dataspace.h"
#include "l4u/policy.h"
#include "l4u/server.h"

/* ---- the manager --------------------------------------------------------- */

struct l4u_dsm {
	const struct l4u_dsm_backend *be;
	struct l4u_server *srv;
	struct l4u_frames fr;
	struct l4u_dsm_ds *list;
	unsigned int next_num;
	int verbose;
	unsigned int max_order;	/* the backend's, 12 when swapping */
	int pinned;		/* --pinned: every dataspace pinned */
	int lazy_w;		/* --lazy-w: W only on a second MAP (swapping) */
	struct l4u_dsm_stats st;
	struct l4u_dsm_swap_stats sw;
	/* swapping (--policy): NULL pol otherwise */
	struct l4u_policy *pol;
	int swap_fd;
	uint32_t swap_next;	/* slots below it were used once */
	uint32_t *swap_free;	/* released slots, a stack */
	uint32_t nswap_free;
	struct l4u_dsm_ds **owner;	/* per frame: whose page (evictable ones) */
	uint32_t *owner_page;
};

#define PAGE	L4U_FRAME_SIZE

static void dsm_log(struct l4u_dsm *dsm, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void dsm_log(struct l4u_dsm *dsm, const char *fmt, ...)
{
	va_list ap;

	if (!dsm->verbose)
		return;
	va_start(ap, fmt);
	printf("%s: ", dsm->be->name);
	vprintf(fmt, ap);
	putchar('\n');
	va_end(ap);
}

static void dsm_warn(struct l4u_dsm *dsm, const char *what, int err)
{
	fprintf(stderr, "%s: %s: %s\n", dsm->be->name, what, strerror(-err));
}

static const char *size_str(uint64_t size, char *buf, size_t len)
{
	if (size >= (1ULL << 20) && !(size & ((1ULL << 20) - 1)))
		snprintf(buf, len, "%" PRIu64 " MiB", size >> 20);
	else if (size >= 1024 && !(size & 1023))
		snprintf(buf, len, "%" PRIu64 " KiB", size >> 10);
	else
		snprintf(buf, len, "%" PRIu64 " B", size);
	return buf;
}

/* ---- swapping ------------------------------------------------------------ */

static void swap_slot_put(struct l4u_dsm *dsm, struct l4u_dsm_ds *ds, uint64_t page)
{
	if (!ds->swap || !ds->swap[page])
		return;
	/* the stack holds at most swap_next slots: sized at the first use */
	dsm->swap_free[dsm->nswap_free++] = ds->swap[page] - 1;
	ds->swap[page] = 0;
	dsm->sw.swap_used--;
}

static int swap_slot_get(struct l4u_dsm *dsm, uint32_t *slot)
{
	uint32_t *st;

	if (dsm->nswap_free) {
		*slot = dsm->swap_free[--dsm->nswap_free];
	} else {
		if (dsm->swap_next == UINT32_MAX - 1)
			return -ENOSPC;
		/* room for every slot ever used, so that put never fails */
		st = realloc(dsm->swap_free, (dsm->swap_next + 1) * sizeof(*st));
		if (!st)
			return -ENOMEM;
		dsm->swap_free = st;
		*slot = dsm->swap_next++;
	}
	dsm->sw.swap_used++;
	return 0;
}

/*
 * Page @page of @ds leaves frame @f: revoke it from every client (an unmap
 * of the frame without L4_UNMAP_ALL_SPACES: what was derived from it), write
 * it to the swap file if it may have been written since it came in, and
 * give the frame back to sigma0 (it comes back zeroed). Pages never written
 * and never swapped read as zero again later: they take no slot.
 */
static int dsm_evict(struct l4u_dsm *dsm, uint32_t f)
{
	struct l4u_dsm_ds *ds = dsm->owner[f];
	uint64_t page = dsm->owner_page[f], revoked = 0, access = 0;
	uint32_t slot;
	ssize_t n;
	int ret, dirty;

	ret = l4u_unmap(dsm->fr.space, L4_FPAGE(l4u_frame_addr(f), 12, L4_FPAGE_RWX),
			0, &revoked, &access);
	if (ret)
		return ret;
	l4u_policy_evict(dsm->pol, f, (uint32_t)access, NULL);
	/*
	 * Dirty: mapped writable or written by the manager since it came in.
	 * Not the W bit unmap reports: the manager's own copy into its window
	 * (swap-in) sets it too (docs/swapping.md).
	 */
	dirty = ds->state[page] & (L4U_DSM_PAGE_WMAPPED | L4U_DSM_PAGE_DIRTY);
	if (dirty) {
		if (!ds->swap[page]) {
			ret = swap_slot_get(dsm, &slot);
			if (ret)
				goto keep;
			ds->swap[page] = slot + 1;
		}
		n = pwrite(dsm->swap_fd, l4u_frame_ptr(&dsm->fr, f), PAGE,
			   (off_t)(ds->swap[page] - 1) * (off_t)PAGE);
		if (n != (ssize_t)PAGE) {
			ret = n < 0 ? -errno : -EIO;
			goto keep;
		}
		dsm->sw.swap_outs++;
	}
	dsm->sw.evictions++;
	dsm->owner[f] = NULL;
	ds->frames[page] = L4U_DSM_NO_FRAME;
	ds->state[page] = 0;
	l4u_frames_free(&dsm->fr, f, 0);
	dsm_log(dsm, "ds %u (%s): evicted page 0x%" PRIx64 " from frame 0x%" PRIx64 "%s",
		ds->num, ds->what, page * PAGE, l4u_frame_addr(f),
		dirty ? ", written to swap" : ", clean");
	return 0;
keep:
	/* it stays resident (the clients fault it back in from the manager) */
	dsm_warn(dsm, "swap-out", ret);
	l4u_policy_fault(dsm->pol, f, f, 0);
	return ret;
}

/* A free frame: from the pool, or one the policy's victim leaves. */
static int64_t dsm_frame(struct l4u_dsm *dsm)
{
	int64_t f = l4u_frames_alloc(&dsm->fr, 0);
	uint32_t slot;
	uint64_t cookie;
	int ret;

	if (f != -ENOMEM || !dsm->pol)
		return f;
	ret = l4u_policy_victim(dsm->pol, &slot, &cookie);
	if (ret)
		return ret == -ENOENT ? -ENOMEM : ret;	/* all pinned */
	ret = dsm_evict(dsm, slot);
	if (ret)
		return ret;
	return l4u_frames_alloc(&dsm->fr, 0);
}

/* Forget page @page's frame and swap slot (CLEAR, close). */
static void dsm_drop(struct l4u_dsm *dsm, struct l4u_dsm_ds *ds, uint64_t page)
{
	uint32_t f = ds->frames[page];

	if (f != L4U_DSM_NO_FRAME) {
		if (dsm->owner && dsm->owner[f] == ds) {
			l4u_policy_evict(dsm->pol, f, 0, NULL);
			dsm->owner[f] = NULL;
		}
		if (ds->state[page] & L4U_DSM_PAGE_PINNED)
			dsm->sw.pinned--;
		l4u_frames_free(&dsm->fr, f, 0);
		ds->frames[page] = L4U_DSM_NO_FRAME;
	}
	ds->state[page] = 0;
	swap_slot_put(dsm, ds, page);
}

/* The policy's sample: an R-revoke of the frame in the clients. */
static int dsm_sample(void *arg, uint32_t slot, uint64_t cookie)
{
	struct l4u_dsm *dsm = arg;
	uint64_t revoked = 0, access = 0;
	int ret;

	(void)cookie;
	ret = l4u_unmap(dsm->fr.space, L4_FPAGE(l4u_frame_addr(slot), 12, L4_FPAGE_RWX),
			0, &revoked, &access);
	return ret ? ret : (int)(access & L4_FPAGE_RW);
}

/* The frame of @page, read in (or zeroed, or swapped in) on first use. */
static int dsm_page(struct l4u_dsm *dsm, struct l4u_dsm_ds *ds, uint64_t page,
		    uint32_t *frame)
{
	int64_t f;
	ssize_t n;
	int ret;

	if (ds->frames[page] != L4U_DSM_NO_FRAME) {
		*frame = ds->frames[page];
		return 0;
	}
	f = dsm_frame(dsm);
	if (f < 0)
		return (int)f;
	if (ds->swap && ds->swap[page]) {
		static char buf[L4U_FRAME_SIZE];

		/* through a buffer: the kernel's copy into the window would
		 * take the window's fault path from inside read (slow) */
		n = pread(dsm->swap_fd, buf, PAGE,
			  (off_t)(ds->swap[page] - 1) * (off_t)PAGE);
		if (n != (ssize_t)PAGE) {
			ret = n < 0 ? -errno : -EIO;
			dsm_warn(dsm, "swap-in", ret);
			l4u_frames_free(&dsm->fr, f, 0);
			return ret;
		}
		memcpy(l4u_frame_ptr(&dsm->fr, f), buf, PAGE);
		dsm->sw.swap_ins++;
	} else if (dsm->be->fill) {
		ret = dsm->be->fill(ds, page, l4u_frame_ptr(&dsm->fr, f));
		if (ret) {
			l4u_frames_free(&dsm->fr, f, 0);
			return ret;
		}
		dsm->st.pages_read++;
	}
	ds->frames[page] = (uint32_t)f;
	ds->state[page] = 0;
	if (ds->flags & L4U_DS_PINNED) {
		ds->state[page] = L4U_DSM_PAGE_PINNED;
		dsm->sw.pinned++;
	} else if (dsm->pol) {
		dsm->owner[f] = ds;
		dsm->owner_page[f] = (uint32_t)page;
		ret = l4u_policy_fault(dsm->pol, (uint32_t)f, (uint64_t)f,
				       ds->swap[page] ? L4U_POLICY_SWAPIN : 0);
		if (ret)
			dsm_warn(dsm, "policy", ret);
	}
	*frame = (uint32_t)f;
	return 0;
}

/*
 * Write back the dirty pages of [@first, @first + @n): pages the manager
 * wrote itself, and pages mapped writable whose clients' W the kernel
 * reports dirty when it is revoked (a client's next write faults again, so
 * the next MAP with W marks the page again). A page whose mappings are
 * already gone (its client died: the access bits went with the mapping)
 * is written back if it was mapped writable at all.
 */
static int dsm_sync(struct l4u_dsm *dsm, struct l4u_dsm_ds *ds, uint64_t first,
		    uint64_t n, int final)
{
	uint64_t p, revoked, access;
	int ret, err = 0;

	if (!dsm->be->writeback)
		return 0;
	for (p = first; p < first + n; p++) {
		uint32_t f = ds->frames[p];
		int dirty;

		if (f == L4U_DSM_NO_FRAME ||
		    !(ds->state[p] & (L4U_DSM_PAGE_WMAPPED | L4U_DSM_PAGE_DIRTY)))
			continue;
		dirty = ds->state[p] & L4U_DSM_PAGE_DIRTY;
		if (ds->state[p] & L4U_DSM_PAGE_WMAPPED) {
			revoked = access = 0;
			ret = l4u_unmap(dsm->fr.space,
					L4_FPAGE(l4u_frame_addr(f), 12, L4_FPAGE_W),
					0, &revoked, &access);
			if (ret || !revoked || (access & L4_FPAGE_W) || final)
				dirty = 1;
		}
		if (dirty) {
			ret = dsm->be->writeback(ds, p, l4u_frame_ptr(&dsm->fr, f));
			if (ret) {
				err = ret;
				continue;	/* stays marked: tried again */
			}
			dsm->st.pages_written++;
		}
		ds->state[p] &= L4U_DSM_PAGE_PINNED;
	}
	return err;
}

static void dsm_free(struct l4u_dsm *dsm, struct l4u_dsm_ds *ds)
{
	struct l4u_dsm_ds **pp;
	uint64_t p, used = 0;
	int ret;

	ret = dsm_sync(dsm, ds, 0, ds->npages, 1);
	if (ret)
		dsm_warn(dsm, "write-back", ret);
	for (p = 0; p < ds->npages; p++) {
		used += ds->frames[p] != L4U_DSM_NO_FRAME;
		dsm_drop(dsm, ds, p);
	}
	if (ds->gate)
		l4u_server_gate_remove(dsm->srv, ds->gate);
	if (dsm->be->close)
		dsm->be->close(ds);
	for (pp = &dsm->list; *pp; pp = &(*pp)->next) {
		if (*pp == ds) {
			*pp = ds->next;
			break;
		}
	}
	dsm->st.dataspaces--;
	dsm_log(dsm, "ds %u (%s) freed: %" PRIu64 " frame(s) back, %" PRIu64 " of %" PRIu64 " free",
		ds->num, ds->what, used, dsm->fr.nfree, dsm->fr.nframes);
	free(ds->frames);
	free(ds->state);
	free(ds->swap);
	free(ds);
}

static int dsm_open(struct l4u_server *srv, const struct l4u_dsm_req *req,
		    int fd, struct l4u_dsm_resp *resp, struct l4u_server_gate **gate)
{
	struct l4u_dsm *dsm = l4u_server_priv(srv);
	struct l4u_dsm_ds *ds;
	char sz[32];
	uint64_t p;
	int ret;

	if (req->op != dsm->be->op || (req->flags & ~L4U_DS_FLAGS_KNOWN) ||
	    (req->size % PAGE)) {
		if (fd >= 0)
			close(fd);
		return req->op != dsm->be->op ? -EOPNOTSUPP : -EINVAL;
	}
	ds = calloc(1, sizeof(*ds));
	if (!ds) {
		if (fd >= 0)
			close(fd);
		return -ENOMEM;
	}
	ret = dsm->be->open(dsm, ds, req, fd);
	if (ret) {
		free(ds);
		return ret;
	}
	ds->npages = (ds->size + PAGE - 1) / PAGE;
	if (!ds->npages || ds->npages > UINT32_MAX) {
		ret = -EINVAL;
		goto fail;
	}
	if (dsm->pinned)
		ds->flags |= L4U_DS_PINNED;
	ds->frames = malloc(ds->npages * sizeof(*ds->frames));
	ds->state = calloc(ds->npages, 1);
	if (dsm->pol)
		ds->swap = calloc(ds->npages, sizeof(*ds->swap));
	if (!ds->frames || !ds->state || (dsm->pol && !ds->swap)) {
		ret = -ENOMEM;
		goto fail;
	}
	for (p = 0; p < ds->npages; p++)
		ds->frames[p] = L4U_DSM_NO_FRAME;
	if (getrandom(&ds->id, sizeof(ds->id), 0) != sizeof(ds->id)) {
		ret = -errno;
		goto fail;
	}
	if (ds->flags & L4U_DS_PINNED) {
		/* pinned: every frame now, or none (never evicted later) */
		uint32_t f;

		for (p = 0; p < ds->npages; p++) {
			ret = dsm_page(dsm, ds, p, &f);
			if (ret) {
				while (p--)
					dsm_drop(dsm, ds, p);
				if (ret == -ENOMEM)
					dsm_log(dsm, "pinned %s: not enough frames",
						size_str(ds->size, sz, sizeof(sz)));
				goto fail;
			}
		}
	}
	ret = l4u_server_gate_add(srv, ds, &ds->gate);
	if (ret)
		goto fail;
	ds->num = ++dsm->next_num;
	ds->next = dsm->list;
	dsm->list = ds;
	dsm->st.dataspaces++;
	dsm->st.requests++;
	*resp = (struct l4u_dsm_resp){ .flags = ds->flags, .size = ds->size, .id = ds->id };
	*gate = ds->gate;
	dsm_log(dsm, "ds %u: new %s, %s, rights %c%c%c", ds->num, ds->what,
		size_str(ds->size, sz, sizeof(sz)),
		ds->flags & L4_FPAGE_R ? 'r' : '-', ds->flags & L4_FPAGE_W ? 'w' : '-',
		ds->flags & L4_FPAGE_X ? 'x' : '-');
	return 0;
fail:
	if (dsm->be->close)
		dsm->be->close(ds);
	free(ds->frames);
	free(ds->state);
	free(ds->swap);
	free(ds);
	return ret;
}

static void dsm_no_senders(struct l4u_server *srv, void *obj)
{
	struct l4u_dsm *dsm = l4u_server_priv(srv);
	struct l4u_dsm_ds *ds = obj;

	dsm_log(dsm, "ds %u: no capability left", ds->num);
	dsm_free(dsm, ds);
}

/* A range of pages from words @off, @size (page multiples, in the dataspace). */
static int dsm_range(const struct l4u_dsm_ds *ds, uint64_t off, uint64_t size,
		     uint64_t *first, uint64_t *n)
{
	if ((off | size) % PAGE)
		return -EINVAL;
	if (off >= ds->npages * PAGE || size > ds->npages * PAGE - off)
		return -ERANGE;
	*first = off / PAGE;
	*n = size / PAGE;
	return 0;
}

/*
 * The biggest flexpage that serves a MAP of @off with hot spot @hot: up to
 * the backend's max_order and the caller's receive window, the dataspace
 * range and the hot spot aligned alike (so that by the offset rule it lands
 * where asked), inside the dataspace, and its pages either all without a
 * frame (then a size-aligned block of frames is allocated for them) or
 * already backed by one aligned run of frames. Returns the order (12: one
 * page) with the first frame in *@frame, or -errno.
 */
static int dsm_block(struct l4u_dsm *dsm, struct l4u_dsm_ds *ds, uint64_t off,
		     uint64_t hot, uint64_t rcv_window, uint32_t *frame)
{
	unsigned int k = dsm->max_order, rorder = L4_FPAGE_ORDER(rcv_window);
	uint64_t size, first, n, i;
	int64_t f;
	int ret;

	if (k > rorder)
		k = rorder;
	for (; k > 12; k--) {
		size = 1ULL << k;
		n = size / PAGE;
		first = (off & ~(size - 1)) / PAGE;
		if (((hot ^ off) & (size - 1)) || first + n > ds->npages)
			continue;
		if (ds->frames[first] == L4U_DSM_NO_FRAME) {
			for (i = 1; i < n; i++)
				if (ds->frames[first + i] != L4U_DSM_NO_FRAME)
					break;
			if (i < n)
				continue;
			f = l4u_frames_alloc(&dsm->fr, k - 12);
			if (f < 0)
				continue;
			for (i = 0; i < n; i++) {
				if (dsm->be->fill) {
					ret = dsm->be->fill(ds, first + i,
							    l4u_frame_ptr(&dsm->fr, f + i));
					if (ret) {
						while (i--)
							ds->frames[first + i] = L4U_DSM_NO_FRAME;
						l4u_frames_free(&dsm->fr, f, k - 12);
						return ret;
					}
					dsm->st.pages_read++;
				}
				ds->frames[first + i] = (uint32_t)(f + i);
				ds->state[first + i] = 0;
			}
			*frame = (uint32_t)f;
			return k;
		}
		if (ds->frames[first] % n)
			continue;
		for (i = 1; i < n; i++)
			if (ds->frames[first + i] != ds->frames[first] + i)
				break;
		if (i == n) {
			*frame = ds->frames[first];
			return k;
		}
	}
	ret = dsm_page(dsm, ds, off / PAGE, frame);
	return ret ? ret : 12;
}

static int dsm_map(struct l4u_server *srv, void *obj, const struct l4_msg *m,
		   struct l4_reply *r)
{
	struct l4u_dsm *dsm = l4u_server_priv(srv);
	struct l4u_dsm_ds *ds = obj;
	uint64_t off = m->words[0], hot = m->words[1];
	unsigned int rights = m->words[2] & L4_FPAGE_RWX;
	uint64_t size, p;
	char rs[4], sz[32];
	uint32_t f;
	int ret, order, fault = 0;

	dsm->st.requests++;
	if (m->nwords < 3 || off % PAGE || (m->words[2] & ~L4_FPAGE_RWX))
		return -EINVAL;
	if (off >= ds->size)
		return -ERANGE;
	if (!rights)
		rights = L4_FPAGE_R;
	if (rights & ~(ds->flags & L4_FPAGE_RWX))
		return -EACCES;
	dsm->sw.maps++;
	if (ds->frames[off / PAGE] == L4U_DSM_NO_FRAME) {
		dsm->sw.faults++;
		fault = 1;
	} else {
		dsm->sw.hits++;
		if (dsm->pol && dsm->owner[ds->frames[off / PAGE]] == ds)
			l4u_policy_hit(dsm->pol, ds->frames[off / PAGE],
				       rights & L4_FPAGE_W ? L4U_POLICY_WRITE : 0);
	}
	order = dsm_block(dsm, ds, off, hot, m->rcv_window, &f);
	if (order < 0)
		return order;
	/*
	 * --lazy-w: a page just brought in goes out read-only even if W was
	 * asked; a writer faults again and its second MAP (a hit) gets W. So
	 * a page only read while resident stays clean: its eviction writes
	 * nothing (a region manager asks for the region's rights on any
	 * fault, so without this every page of a writable region is dirty).
	 */
	if (dsm->lazy_w && fault && order == 12 && (rights & L4_FPAGE_W) &&
	    !(ds->state[off / PAGE] & (L4U_DSM_PAGE_WMAPPED | L4U_DSM_PAGE_DIRTY))) {
		rights &= ~L4_FPAGE_W;
		if (!rights)
			rights = L4_FPAGE_R;
	}
	size = 1ULL << order;
	if (rights & L4_FPAGE_W)
		for (p = 0; p < size / PAGE; p++)
			ds->state[(off & ~(size - 1)) / PAGE + p] |= L4U_DSM_PAGE_WMAPPED;
	ret = l4u_reply_map(r, dsm->fr.space,
			    L4_FPAGE(l4u_frame_addr(f), order, rights), hot & ~(PAGE - 1), 0);
	if (ret)
		return ret;
	if (order == 12)
		dsm_log(dsm, "ds %u (%s): MAP offset 0x%" PRIx64 " [%s] for tid %d -> frame 0x%" PRIx64
			" mapped at 0x%" PRIx64 " in the caller's space", ds->num, ds->what, off,
			l4u_rights_str(rights, rs), m->tid, l4u_frame_addr(f), hot & ~(PAGE - 1));
	else
		dsm_log(dsm, "ds %u (%s): MAP offset 0x%" PRIx64 " [%s] for tid %d -> frames 0x%" PRIx64
			"-0x%" PRIx64 " as one %s flexpage at 0x%" PRIx64 " in the caller's space",
			ds->num, ds->what, off, l4u_rights_str(rights, rs), m->tid,
			l4u_frame_addr(f), l4u_frame_addr(f) + size - 1,
			size_str(size, sz, sizeof(sz)), hot & ~(size - 1));
	return 0;
}

static int dsm_info(struct l4u_server *srv, void *obj, const struct l4_msg *m,
		    struct l4_reply *r)
{
	struct l4u_dsm *dsm = l4u_server_priv(srv);
	struct l4u_dsm_ds *ds = obj;

	(void)m;
	dsm->st.requests++;
	r->nwords = 3;
	r->words[0] = ds->size;
	r->words[1] = ds->flags;
	r->words[2] = ds->id;
	dsm_log(dsm, "ds %u (%s): INFO", ds->num, ds->what);
	return 0;
}

static int dsm_stats_fn(struct l4u_server *srv, void *obj, const struct l4_msg *m,
			struct l4_reply *r)
{
	struct l4u_dsm *dsm = l4u_server_priv(srv);

	(void)obj; (void)m;
	dsm->st.requests++;
	dsm->st.frames_used = dsm->fr.nframes - dsm->fr.nfree;
	dsm->st.frames_total = dsm->fr.nframes;
	r->nwords = 6;
	r->words[0] = dsm->st.dataspaces;
	r->words[1] = dsm->st.frames_used;
	r->words[2] = dsm->st.frames_total;
	r->words[3] = dsm->st.pages_read;
	r->words[4] = dsm->st.pages_written;
	r->words[5] = dsm->st.requests;
	return 0;
}

static int dsm_swap_stats_fn(struct l4u_server *srv, void *obj, const struct l4_msg *m,
			     struct l4_reply *r)
{
	struct l4u_dsm *dsm = l4u_server_priv(srv);

	(void)obj; (void)m;
	dsm->st.requests++;
	r->nwords = 8;
	r->words[0] = dsm->sw.maps;
	r->words[1] = dsm->sw.faults;
	r->words[2] = dsm->sw.hits;
	r->words[3] = dsm->sw.evictions;
	r->words[4] = dsm->sw.swap_ins;
	r->words[5] = dsm->sw.swap_outs;
	r->words[6] = dsm->sw.pinned;
	r->words[7] = dsm->sw.swap_used;
	return 0;
}

/* Zero pages: anonymous ones go back to the pool, file pages are zeroed. */
static int dsm_zero(struct l4u_dsm *dsm, struct l4u_dsm_ds *ds, uint64_t first,
		    uint64_t n)
{
	uint64_t p;
	uint32_t f;
	int ret;

	for (p = first; p < first + n; p++) {
		if (!dsm->be->writeback && !(ds->flags & L4U_DS_PINNED)) {
			dsm_drop(dsm, ds, p);
			continue;
		}
		ret = dsm_page(dsm, ds, p, &f);
		if (ret)
			return ret;
		memset(l4u_frame_ptr(&dsm->fr, f), 0, PAGE);
		ds->state[p] |= L4U_DSM_PAGE_DIRTY;
	}
	return 0;
}

static int dsm_clear(struct l4u_server *srv, void *obj, const struct l4_msg *m,
		     struct l4_reply *r)
{
	struct l4u_dsm *dsm = l4u_server_priv(srv);
	struct l4u_dsm_ds *ds = obj;
	uint64_t first, n;
	int ret;

	(void)r;
	dsm->st.requests++;
	if (!(ds->flags & L4_FPAGE_W))
		return -EACCES;
	ret = dsm_range(ds, m->words[0], m->words[1], &first, &n);
	if (ret)
		return ret;
	dsm_log(dsm, "ds %u (%s): CLEAR 0x%" PRIx64 "+0x%" PRIx64, ds->num, ds->what,
		(uint64_t)m->words[0], (uint64_t)m->words[1]);
	return dsm_zero(dsm, ds, first, n);
}

static int dsm_allocate(struct l4u_server *srv, void *obj, const struct l4_msg *m,
			struct l4_reply *r)
{
	struct l4u_dsm *dsm = l4u_server_priv(srv);
	struct l4u_dsm_ds *ds = obj;
	uint64_t first, n, p;
	uint32_t f;
	int ret;

	(void)r;
	dsm->st.requests++;
	ret = dsm_range(ds, m->words[0], m->words[1], &first, &n);
	if (ret)
		return ret;
	dsm_log(dsm, "ds %u (%s): ALLOCATE 0x%" PRIx64 "+0x%" PRIx64, ds->num, ds->what,
		(uint64_t)m->words[0], (uint64_t)m->words[1]);
	for (p = first; p < first + n; p++) {
		ret = dsm_page(dsm, ds, p, &f);
		if (ret)
			return ret;
	}
	return 0;
}

static int dsm_copy_in(struct l4u_server *srv, void *obj, const struct l4_msg *m,
		       struct l4_reply *r)
{
	struct l4u_dsm *dsm = l4u_server_priv(srv);
	struct l4u_dsm_ds *dst = obj, *src;
	static char buf[L4U_FRAME_SIZE];
	uint64_t dfirst, sfirst, n, dn;
	uint32_t df, sf;
	int ret;

	(void)r;
	dsm->st.requests++;
	if (m->nwords < 4)
		return -EINVAL;
	if (!(dst->flags & L4_FPAGE_W))
		return -EACCES;
	for (src = dsm->list; src; src = src->next)
		if (src->id == m->words[1])
			break;
	if (!src)
		return -ESRCH;
	ret = dsm_range(src, m->words[2], m->words[3], &sfirst, &n);
	if (!ret)
		ret = dsm_range(dst, m->words[0], m->words[3], &dfirst, &dn);
	if (ret)
		return ret;
	dsm_log(dsm, "ds %u (%s): COPY_IN 0x%" PRIx64 " bytes from ds %u", dst->num,
		dst->what, (uint64_t)m->words[3], src->num);
	for (uint64_t k = 0; k < n; k++) {
		/* overlapping within one dataspace: copy from the far end */
		uint64_t i = src == dst && dfirst > sfirst ? n - 1 - k : k;
		uint64_t sp = sfirst + i, dp = dfirst + i;

		if (src == dst && sp == dp)
			continue;
		if (src->frames[sp] == L4U_DSM_NO_FRAME && !dsm->be->fill &&
		    !(src->swap && src->swap[sp])) {
			/* an untouched anonymous page reads as zero */
			ret = dsm_zero(dsm, dst, dp, 1);
			if (ret)
				return ret;
			continue;
		}
		ret = dsm_page(dsm, src, sp, &sf);
		if (ret)
			return ret;
		/* through a buffer: getting dst's frame may evict src's */
		memcpy(buf, l4u_frame_ptr(&dsm->fr, sf), PAGE);
		ret = dsm_page(dsm, dst, dp, &df);
		if (ret)
			return ret;
		memcpy(l4u_frame_ptr(&dsm->fr, df), buf, PAGE);
		dst->state[dp] |= L4U_DSM_PAGE_DIRTY;
	}
	return 0;
}

static int dsm_sync_fn(struct l4u_server *srv, void *obj, const struct l4_msg *m,
		       struct l4_reply *r)
{
	struct l4u_dsm *dsm = l4u_server_priv(srv);
	struct l4u_dsm_ds *ds = obj;
	uint64_t first = 0, n = ds->npages, before = dsm->st.pages_written;
	int ret = 0;

	(void)r;
	dsm->st.requests++;
	if (m->words[1])
		ret = dsm_range(ds, m->words[0], m->words[1], &first, &n);
	else if (m->words[0])
		ret = -EINVAL;
	if (ret)
		return ret;
	ret = dsm_sync(dsm, ds, first, n, 0);
	dsm_log(dsm, "ds %u (%s): SYNC: %" PRIu64 " page(s) written back", ds->num,
		ds->what, dsm->st.pages_written - before);
	return ret;
}

int l4u_dsm_stats(const struct l4u_ds *ds, struct l4u_dsm_stats *st)
{
	struct l4_call c = { .label = L4U_DSM_STATS, .rcv_space_fd = -1 };
	int ret = l4u_call(ds->cap, &c);

	if (ret)
		return ret;
	*st = (struct l4u_dsm_stats){
		.dataspaces	= c.words[0],
		.frames_used	= c.words[1],
		.frames_total	= c.words[2],
		.pages_read	= c.words[3],
		.pages_written	= c.words[4],
		.requests	= c.words[5],
	};
	return 0;
}

int l4u_dsm_swap_stats(const struct l4u_ds *ds, struct l4u_dsm_swap_stats *st)
{
	struct l4_call c = { .label = L4U_DSM_SWAP_STATS, .rcv_space_fd = -1 };
	int ret = l4u_call(ds->cap, &c);

	if (ret)
		return ret;
	*st = (struct l4u_dsm_swap_stats){
		.maps		= c.words[0],
		.faults		= c.words[1],
		.hits		= c.words[2],
		.evictions	= c.words[3],
		.swap_ins	= c.words[4],
		.swap_outs	= c.words[5],
		.pinned		= c.words[6],
		.swap_used	= c.words[7],
	};
	if (st->hits + st->faults)
		st->hit_ratio = (double)st->hits / (double)(st->hits + st->faults);
	return 0;
}

static const struct l4u_server_ops dsm_ops = {
	.open		= dsm_open,
	.no_senders	= dsm_no_senders,
};

static void dsm_usage(const char *name)
{
	fprintf(stderr,
		"usage: %s --socket PATH|@name [--frames N] [-v]\n"
		"          [--policy fifo|lru|aging|clock|ws [--tau T] --swap FILE] [--pinned]\n"
		"          [--alloc bitmap|freelist|buddy] [--lazy-w]\n"
		"  --socket  where clients open dataspaces (a path, or @name: abstract)\n"
		"  --frames  memory budget in 4 KiB frames (default 16384: 64 MiB)\n"
		"  --policy  when the pool is full, evict pages to the swap file by this\n"
		"            replacement policy (anonymous memory only)\n"
		"  --tau     the working-set window (ws), in faults (default: frames)\n"
		"  --swap    the swap file (created or truncated; emptied at exit)\n"
		"  --lazy-w  (swapping) map a page read-only when it comes in, writable\n"
		"            on the next MAP: pages only read stay clean\n"
		"  --pinned  every dataspace gets all its frames at open, never evicted\n"
		"  --alloc   how frames are allocated (default bitmap)\n"
		"  -v        one line per request on stdout\n", name);
}

int l4u_dsm_main(int argc, char **argv, const struct l4u_dsm_backend *be)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "frames", required_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "policy", required_argument, NULL, 'p' },
		{ "tau", required_argument, NULL, 't' },
		{ "swap", required_argument, NULL, 'w' },
		{ "pinned", no_argument, NULL, 'P' },
		{ "alloc", required_argument, NULL, 'a' },
		{ "lazy-w", no_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	static const struct {
		int64_t label;
		l4u_server_fn fn;
	} handlers[] = {
		{ L4U_DS_MAP, dsm_map },
		{ L4U_DS_INFO, dsm_info },
		{ L4U_DS_CLEAR, dsm_clear },
		{ L4U_DS_COPY_IN, dsm_copy_in },
		{ L4U_DS_SYNC, dsm_sync_fn },
		{ L4U_DS_ALLOCATE, dsm_allocate },
		{ L4U_DSM_STATS, dsm_stats_fn },
		{ L4U_DSM_SWAP_STATS, dsm_swap_stats_fn },
	};
	struct l4u_dsm dsm = { .be = be, .swap_fd = -1, .max_order = be->max_order };
	const char *sock = NULL, *swap = NULL;
	uint64_t nframes = 16384, tau = 0;
	uint32_t kind = 0;
	unsigned int strategy = L4U_FRAMES_BITMAP;
	char *end;
	unsigned int i;
	int opt, ret, dev;
	sigset_t stop;

	while ((opt = getopt_long(argc, argv, "s:f:vhp:t:w:Pa:L", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			sock = optarg;
			break;
		case 'f':
			errno = 0;
			nframes = strtoull(optarg, &end, 0);
			if (errno || *end || !nframes) {
				fprintf(stderr, "%s: --frames %s: not a frame count\n",
					be->name, optarg);
				return 2;
			}
			break;
		case 'v':
			dsm.verbose = 1;
			break;
		case 'p':
			for (kind = 1; kind < L4U_POLICY_KINDS; kind++)
				if (!strcmp(optarg, l4u_policy_name(kind)))
					break;
			if (kind == L4U_POLICY_KINDS) {
				fprintf(stderr, "%s: --policy %s: not one of fifo, lru, aging, clock, ws\n",
					be->name, optarg);
				return 2;
			}
			break;
		case 't':
			errno = 0;
			tau = strtoull(optarg, &end, 0);
			if (errno || *end || !tau) {
				fprintf(stderr, "%s: --tau %s: not a positive number\n",
					be->name, optarg);
				return 2;
			}
			break;
		case 'w':
			swap = optarg;
			break;
		case 'P':
			dsm.pinned = 1;
			break;
		case 'L':
			dsm.lazy_w = 1;
			break;
		case 'a':
			for (strategy = 0; l4u_frames_strategy_name(strategy); strategy++)
				if (!strcmp(optarg, l4u_frames_strategy_name(strategy)))
					break;
			if (!l4u_frames_strategy_name(strategy)) {
				fprintf(stderr, "%s: --alloc %s: not one of bitmap, freelist, buddy\n",
					be->name, optarg);
				return 2;
			}
			break;
		case 'h':
			dsm_usage(be->name);
			return 0;
		default:
			dsm_usage(be->name);
			return 2;
		}
	}
	if (!sock || optind != argc) {
		dsm_usage(be->name);
		return 2;
	}
	if (!kind != !swap || (tau && kind != L4U_POLICY_WS) || (dsm.lazy_w && !kind)) {
		fprintf(stderr, "%s: %s\n", be->name, !kind != !swap ?
			"--policy and --swap go together" : tau && kind != L4U_POLICY_WS ?
			"--tau is for --policy ws" : "--lazy-w is for --policy");
		return 2;
	}
	if (kind && (be->fill || be->writeback)) {
		fprintf(stderr, "%s: --policy: swapping is for anonymous memory only\n",
			be->name);
		return 2;
	}
	if (kind && nframes > L4U_POLICY_MAX_FRAMES) {
		fprintf(stderr, "%s: --frames %" PRIu64 ": too many for a policy\n",
			be->name, nframes);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* SIGTERM/SIGINT from here on end the loop cleanly (server.c takes
	 * them through a signalfd), even one that comes before it runs */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigprocmask(SIG_BLOCK, &stop, NULL);
	dev = l4u_open();
	if (dev < 0) {
		fprintf(stderr, "%s: %s: %s\n", be->name, L4_DEVICE_PATH,
			l4u_open_strerror(dev));
		return 1;
	}
	ret = l4u_frames_init_strategy(&dsm.fr, dev, nframes, strategy);
	close(dev);	/* the pool's space and window stay */
	if (ret) {
		fprintf(stderr, "%s: %" PRIu64 " frames: %s\n", be->name, nframes,
			strerror(-ret));
		return 1;
	}
	if (kind) {
		struct l4u_policy_params pp = {
			.kind = kind, .frames = (uint32_t)nframes,
			.tau = kind == L4U_POLICY_WS ? (tau ? tau : nframes) : 0,
			.sample = dsm_sample, .sample_arg = &dsm,
		};

		dsm.max_order = 12;	/* evicted at the granularity handed out */
		dsm.swap_fd = open(swap, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (dsm.swap_fd < 0) {
			fprintf(stderr, "%s: --swap %s: %s\n", be->name, swap, strerror(errno));
			l4u_frames_fini(&dsm.fr);
			return 1;
		}
		dsm.owner = calloc(nframes, sizeof(*dsm.owner));
		dsm.owner_page = calloc(nframes, sizeof(*dsm.owner_page));
		ret = !dsm.owner || !dsm.owner_page ? -ENOMEM : l4u_policy_create(&pp, &dsm.pol);
		if (ret) {
			fprintf(stderr, "%s: policy %s: %s\n", be->name,
				l4u_policy_name(kind), strerror(-ret));
			goto out_swap;
		}
	}
	/* said before the socket exists: a client that got in finds it said */
	dsm_log(&dsm, "%" PRIu64 " frames (%" PRIu64 " KiB), serving on %s%s%s%s", nframes,
		nframes * 4, sock, kind ? ", swapping by " : "",
		kind ? l4u_policy_name(kind) : "", dsm.pinned ? ", pinned" : "");
	ret = l4u_server_create(sock, &dsm_ops, &dsm, &dsm.srv);
	if (ret) {
		fprintf(stderr, "%s: listen on %s: %s\n", be->name, sock, strerror(-ret));
		goto out_swap;
	}
	for (i = 0; i < sizeof(handlers) / sizeof(handlers[0]) && !ret; i++)
		ret = l4u_server_on(dsm.srv, handlers[i].label, handlers[i].fn);
	if (!ret)
		ret = l4u_server_run(dsm.srv);
	if (ret)
		dsm_warn(&dsm, "serving", ret);
	/* write back and free what is left; clients' calls then get EPIPE */
	while (dsm.list)
		dsm_free(&dsm, dsm.list);
	dsm_log(&dsm, "exiting");
	l4u_server_destroy(dsm.srv);
	l4u_frames_fini(&dsm.fr);
	if (dsm.swap_fd >= 0) {
		if (ftruncate(dsm.swap_fd, 0))
			dsm_warn(&dsm, "truncating the swap file", -errno);
		close(dsm.swap_fd);
	}
	if (dsm.pol)
		l4u_policy_destroy(dsm.pol);
	free(dsm.owner);
	free(dsm.owner_page);
	free(dsm.swap_free);
	return ret ? 1 : 0;
out_swap:
	if (dsm.pol)
		l4u_policy_destroy(dsm.pol);
	free(dsm.owner);
	free(dsm.owner_page);
	if (dsm.swap_fd >= 0)
		close(dsm.swap_fd);
	l4u_frames_fini(&dsm.fr);
	return 1;
}
