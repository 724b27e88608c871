// SPDX-License-Identifier: MIT
/*
 * Dataspace managers: the engine around a backend (anonymous memory,
 * files) that the programs pagers/l4u-dsm-* run, with swapping and pinning
 * on a frame pool (frames.c). No command line, no signals, no output: the
 * program has those (l4u/dsm.h). See docs/dataspaces.md, docs/swapping.md.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "l4u/l4u.h"
#include "l4u/dataspace.h"
#include "l4u/dsm.h"
#include "l4u/frames.h"
#include "l4u/policy.h"
#include "l4u/server.h"

/* ---- the manager --------------------------------------------------------- */

#define PAGE		L4U_FRAME_SIZE
#define FRAME_ADDR(f)	((uint64_t)(f) * PAGE)	/* in the pool's space */

#define NO_FRAME	UINT32_MAX
#define PAGE_WMAPPED	0x1	/* mapped writable since its last sync */
#define PAGE_DIRTY	0x2	/* written by the manager itself */
#define PAGE_PINNED	0x4	/* a pinned dataspace's frame */

/* A dataspace as its manager sees it. */
struct dsm_ds {
	struct l4u_server_gate *gate;
	uint64_t id;		/* random, what INFO and COPY_IN call it */
	unsigned int num;	/* small number for messages: ds 1, ds 2, ... */
	uint32_t flags;		/* L4_FPAGE_* rights, L4U_DS_PINNED */
	uint64_t size;		/* bytes */
	uint64_t npages;
	uint32_t *frames;	/* per page: frame number, or NO_FRAME */
	uint8_t *state;		/* per page: PAGE_* */
	uint32_t *swap;		/* per page: swap slot + 1, 0: none (swapping) */
	void *priv;		/* the backend's */
	char what[64];		/* for messages: "anon", "file name" */
	struct dsm_ds *next;
};

struct l4u_dsm {
	const struct l4u_dsm_backend *be;
	struct l4u_dsm_config cfg;
	struct l4u_server *srv;
	struct l4u_frames *fr;
	int space;		/* the pool's */
	uint64_t nframes;
	struct dsm_ds *list;
	unsigned int next_num;
	unsigned int max_order;	/* the backend's, 12 when swapping */
	struct l4u_dsm_stats st;
	struct l4u_dsm_swap_stats sw;
	/* swapping (cfg.policy): NULL pol otherwise */
	struct l4u_policy *pol;
	int swap_fd;
	uint32_t swap_next;	/* slots below it were used once */
	uint32_t *swap_free;	/* released slots, a stack */
	uint32_t nswap_free;
	struct dsm_ds **owner;	/* per frame: whose page (evictable ones) */
	uint32_t *owner_page;
	char buf[L4U_FRAME_SIZE];	/* a page in transit (swap-in, COPY_IN) */
};

/* A line about what was done: only with L4U_DSM_VERBOSE. */
static void dsm_log(struct l4u_dsm *dsm, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void dsm_log(struct l4u_dsm *dsm, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (!dsm->cfg.log || !(dsm->cfg.flags & L4U_DSM_VERBOSE))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	dsm->cfg.log(dsm->cfg.log_arg, L4U_DSM_LOG_INFO, line);
}

/* Something failed (@err: -errno): creating the manager, or a request. */
static void dsm_warn(struct l4u_dsm *dsm, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void dsm_warn(struct l4u_dsm *dsm, int err, const char *fmt, ...)
{
	char what[256], line[384];
	va_list ap;

	if (!dsm->cfg.log)
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(line, sizeof(line), "%s: %s", what, strerror(-err));
	dsm->cfg.log(dsm->cfg.log_arg, L4U_DSM_LOG_WARN, line);
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

static uint64_t dsm_nfree(const struct l4u_dsm *dsm)
{
	struct l4u_frames_info fi;

	return l4u_frames_info(dsm->fr, &fi) ? 0 : fi.nfree;
}

/* ---- swapping ------------------------------------------------------------ */

static void swap_slot_put(struct l4u_dsm *dsm, struct dsm_ds *ds, uint64_t page)
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
	struct dsm_ds *ds = dsm->owner[f];
	uint64_t page = dsm->owner_page[f], revoked = 0, access = 0;
	uint32_t slot;
	ssize_t n;
	int ret, dirty;

	ret = l4u_unmap(dsm->space, L4_FPAGE(FRAME_ADDR(f), 12, L4_FPAGE_RWX),
			0, &revoked, &access);
	if (ret)
		return ret;
	l4u_policy_evict(dsm->pol, f, (uint32_t)access, NULL);
	/*
	 * Dirty: mapped writable or written by the manager since it came in.
	 * Not the W bit unmap reports: the manager's own copy into its window
	 * (swap-in) sets it too (docs/swapping.md).
	 */
	dirty = ds->state[page] & (PAGE_WMAPPED | PAGE_DIRTY);
	if (dirty) {
		if (!ds->swap[page]) {
			ret = swap_slot_get(dsm, &slot);
			if (ret)
				goto keep;
			ds->swap[page] = slot + 1;
		}
		n = pwrite(dsm->swap_fd, l4u_frames_ptr(dsm->fr, f), PAGE,
			   (off_t)(ds->swap[page] - 1) * (off_t)PAGE);
		if (n != (ssize_t)PAGE) {
			ret = n < 0 ? -errno : -EIO;
			goto keep;
		}
		dsm->sw.swap_outs++;
	}
	dsm->sw.evictions++;
	dsm->owner[f] = NULL;
	ds->frames[page] = NO_FRAME;
	ds->state[page] = 0;
	l4u_frames_free(dsm->fr, f, 0);
	dsm_log(dsm, "ds %u (%s): evicted page 0x%" PRIx64 " from frame 0x%" PRIx64 "%s",
		ds->num, ds->what, page * PAGE, FRAME_ADDR(f),
		dirty ? ", written to swap" : ", clean");
	return 0;
keep:
	/* it stays resident (the clients fault it back in from the manager) */
	dsm_warn(dsm, ret, "swap-out");
	l4u_policy_fault(dsm->pol, f, f, 0);
	return ret;
}

/* A free frame: from the pool, or one the policy's victim leaves. */
static int64_t dsm_frame(struct l4u_dsm *dsm)
{
	int64_t f = l4u_frames_alloc(dsm->fr, 0);
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
	return l4u_frames_alloc(dsm->fr, 0);
}

/* Forget page @page's frame and swap slot (CLEAR, close). */
static void dsm_drop(struct l4u_dsm *dsm, struct dsm_ds *ds, uint64_t page)
{
	uint32_t f = ds->frames[page];

	if (f != NO_FRAME) {
		if (dsm->owner && dsm->owner[f] == ds) {
			l4u_policy_evict(dsm->pol, f, 0, NULL);
			dsm->owner[f] = NULL;
		}
		if (ds->state[page] & PAGE_PINNED)
			dsm->sw.pinned--;
		l4u_frames_free(dsm->fr, f, 0);
		ds->frames[page] = NO_FRAME;
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
	ret = l4u_unmap(dsm->space, L4_FPAGE(FRAME_ADDR(slot), 12, L4_FPAGE_RWX),
			0, &revoked, &access);
	return ret ? ret : (int)(access & L4_FPAGE_RW);
}

/* The frame of @page, read in (or zeroed, or swapped in) on first use. */
static int dsm_page(struct l4u_dsm *dsm, struct dsm_ds *ds, uint64_t page,
		    uint32_t *frame)
{
	int64_t f;
	ssize_t n;
	int ret;

	if (ds->frames[page] != NO_FRAME) {
		*frame = ds->frames[page];
		return 0;
	}
	f = dsm_frame(dsm);
	if (f < 0)
		return (int)f;
	if (ds->swap && ds->swap[page]) {
		char *buf = dsm->buf;

		/* through a buffer: the kernel's copy into the window would
		 * take the window's fault path from inside read (slow) */
		n = pread(dsm->swap_fd, buf, PAGE,
			  (off_t)(ds->swap[page] - 1) * (off_t)PAGE);
		if (n != (ssize_t)PAGE) {
			ret = n < 0 ? -errno : -EIO;
			dsm_warn(dsm, ret, "swap-in");
			l4u_frames_free(dsm->fr, f, 0);
			return ret;
		}
		memcpy(l4u_frames_ptr(dsm->fr, f), buf, PAGE);
		dsm->sw.swap_ins++;
	} else if (dsm->be->fill) {
		ret = dsm->be->fill(ds->priv, page, l4u_frames_ptr(dsm->fr, f));
		if (ret) {
			l4u_frames_free(dsm->fr, f, 0);
			return ret;
		}
		dsm->st.pages_read++;
	}
	ds->frames[page] = (uint32_t)f;
	ds->state[page] = 0;
	if (ds->flags & L4U_DS_PINNED) {
		ds->state[page] = PAGE_PINNED;
		dsm->sw.pinned++;
	} else if (dsm->pol) {
		dsm->owner[f] = ds;
		dsm->owner_page[f] = (uint32_t)page;
		ret = l4u_policy_fault(dsm->pol, (uint32_t)f, (uint64_t)f,
				       ds->swap[page] ? L4U_POLICY_SWAPIN : 0);
		if (ret)
			dsm_warn(dsm, ret, "policy");
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
static int dsm_sync(struct l4u_dsm *dsm, struct dsm_ds *ds, uint64_t first,
		    uint64_t n, int final)
{
	uint64_t p, revoked, access;
	int ret, err = 0;

	if (!dsm->be->writeback)
		return 0;
	for (p = first; p < first + n; p++) {
		uint32_t f = ds->frames[p];
		int dirty;

		if (f == NO_FRAME ||
		    !(ds->state[p] & (PAGE_WMAPPED | PAGE_DIRTY)))
			continue;
		dirty = ds->state[p] & PAGE_DIRTY;
		if (ds->state[p] & PAGE_WMAPPED) {
			revoked = access = 0;
			ret = l4u_unmap(dsm->space,
					L4_FPAGE(FRAME_ADDR(f), 12, L4_FPAGE_W),
					0, &revoked, &access);
			if (ret || !revoked || (access & L4_FPAGE_W) || final)
				dirty = 1;
		}
		if (dirty) {
			ret = dsm->be->writeback(ds->priv, p, l4u_frames_ptr(dsm->fr, f));
			if (ret) {
				err = ret;
				continue;	/* stays marked: tried again */
			}
			dsm->st.pages_written++;
		}
		ds->state[p] &= PAGE_PINNED;
	}
	return err;
}

static void dsm_free(struct l4u_dsm *dsm, struct dsm_ds *ds)
{
	struct dsm_ds **pp;
	uint64_t p, used = 0;
	int ret;

	ret = dsm_sync(dsm, ds, 0, ds->npages, 1);
	if (ret)
		dsm_warn(dsm, ret, "write-back");
	for (p = 0; p < ds->npages; p++) {
		used += ds->frames[p] != NO_FRAME;
		dsm_drop(dsm, ds, p);
	}
	if (ds->gate)
		l4u_server_gate_remove(dsm->srv, ds->gate);
	if (dsm->be->close)
		dsm->be->close(ds->priv);
	for (pp = &dsm->list; *pp; pp = &(*pp)->next) {
		if (*pp == ds) {
			*pp = ds->next;
			break;
		}
	}
	dsm->st.dataspaces--;
	dsm_log(dsm, "ds %u (%s) freed: %" PRIu64 " frame(s) back, %" PRIu64 " of %" PRIu64 " free",
		ds->num, ds->what, used, dsm_nfree(dsm), dsm->nframes);
	free(ds->frames);
	free(ds->state);
	free(ds->swap);
	free(ds);
}

/* A request the manager refuses before the backend sees it; 0 if none. */
static int dsm_req_check(const struct l4u_dsm *dsm, const struct l4u_dsm_req *req)
{
	if (req->reserved[0] || req->reserved[1])
		return -EINVAL;
	if (req->op != dsm->be->op)
		return -EOPNOTSUPP;
	if ((req->flags & ~L4U_DS_FLAGS_KNOWN) || (req->size % PAGE))
		return -EINVAL;
	return 0;
}

/* The backend says what the new dataspace is. */
static int dsm_be_open(struct l4u_dsm *dsm, struct dsm_ds *ds,
		       const struct l4u_dsm_req *req, int fd)
{
	struct l4u_dsm_ds_info info = { 0 };
	int ret;

	ret = dsm->be->open(dsm->cfg.backend_arg, req, fd, &info);
	if (ret)
		return ret;
	ds->size = info.size;
	ds->flags = info.flags;
	ds->priv = info.priv;
	memcpy(ds->what, info.what, sizeof(ds->what));
	ds->what[sizeof(ds->what) - 1] = '\0';
	return 0;
}

static int dsm_open(struct l4u_server *srv, const void *request, int fd,
		    void *response, struct l4u_server_gate **gate)
{
	const struct l4u_dsm_req *req = request;
	struct l4u_dsm_resp *resp = response;
	struct l4u_dsm *dsm = l4u_server_priv(srv);
	struct dsm_ds *ds;
	char sz[32];
	uint64_t p;
	int ret;

	ret = dsm_req_check(dsm, req);
	ds = ret ? NULL : calloc(1, sizeof(*ds));
	if (!ds) {
		if (fd >= 0)
			close(fd);
		return ret ? ret : -ENOMEM;
	}
	ret = dsm_be_open(dsm, ds, req, fd);
	if (ret) {
		free(ds);
		return ret;
	}
	ds->npages = (ds->size + PAGE - 1) / PAGE;
	if (!ds->npages || ds->npages > UINT32_MAX) {
		ret = -EINVAL;
		goto fail;
	}
	if (dsm->cfg.flags & L4U_DSM_PINNED)
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
		ds->frames[p] = NO_FRAME;
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
		dsm->be->close(ds->priv);
	free(ds->frames);
	free(ds->state);
	free(ds->swap);
	free(ds);
	return ret;
}

static void dsm_no_senders(struct l4u_server *srv, void *obj)
{
	struct l4u_dsm *dsm = l4u_server_priv(srv);
	struct dsm_ds *ds = obj;

	dsm_log(dsm, "ds %u: no capability left", ds->num);
	dsm_free(dsm, ds);
}

/* A range of pages from words @off, @size (page multiples, in the dataspace). */
static int dsm_range(const struct dsm_ds *ds, uint64_t off, uint64_t size,
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
static int dsm_block(struct l4u_dsm *dsm, struct dsm_ds *ds, uint64_t off,
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
		if (ds->frames[first] == NO_FRAME) {
			for (i = 1; i < n; i++)
				if (ds->frames[first + i] != NO_FRAME)
					break;
			if (i < n)
				continue;
			f = l4u_frames_alloc(dsm->fr, k - 12);
			if (f < 0)
				continue;
			for (i = 0; i < n; i++) {
				if (dsm->be->fill) {
					ret = dsm->be->fill(ds->priv, first + i,
							    l4u_frames_ptr(dsm->fr, f + i));
					if (ret) {
						while (i--)
							ds->frames[first + i] = NO_FRAME;
						l4u_frames_free(dsm->fr, f, k - 12);
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
	struct dsm_ds *ds = obj;
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
	if (ds->frames[off / PAGE] == NO_FRAME) {
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
	if ((dsm->cfg.flags & L4U_DSM_LAZY_W) && fault && order == 12 && (rights & L4_FPAGE_W) &&
	    !(ds->state[off / PAGE] & (PAGE_WMAPPED | PAGE_DIRTY))) {
		rights &= ~L4_FPAGE_W;
		if (!rights)
			rights = L4_FPAGE_R;
	}
	size = 1ULL << order;
	if (rights & L4_FPAGE_W)
		for (p = 0; p < size / PAGE; p++)
			ds->state[(off & ~(size - 1)) / PAGE + p] |= PAGE_WMAPPED;
	ret = l4u_reply_map(r, dsm->space,
			    L4_FPAGE(FRAME_ADDR(f), order, rights), hot & ~(PAGE - 1), 0);
	if (ret)
		return ret;
	if (order == 12)
		dsm_log(dsm, "ds %u (%s): MAP offset 0x%" PRIx64 " [%s] for tid %d -> frame 0x%" PRIx64
			" mapped at 0x%" PRIx64 " in the caller's space", ds->num, ds->what, off,
			l4u_rights_str(rights, rs), m->tid, FRAME_ADDR(f), hot & ~(PAGE - 1));
	else
		dsm_log(dsm, "ds %u (%s): MAP offset 0x%" PRIx64 " [%s] for tid %d -> frames 0x%" PRIx64
			"-0x%" PRIx64 " as one %s flexpage at 0x%" PRIx64 " in the caller's space",
			ds->num, ds->what, off, l4u_rights_str(rights, rs), m->tid,
			FRAME_ADDR(f), FRAME_ADDR(f) + size - 1,
			size_str(size, sz, sizeof(sz)), hot & ~(size - 1));
	return 0;
}

static int dsm_info(struct l4u_server *srv, void *obj, const struct l4_msg *m,
		    struct l4_reply *r)
{
	struct l4u_dsm *dsm = l4u_server_priv(srv);
	struct dsm_ds *ds = obj;

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
	dsm->st.frames_used = dsm->nframes - dsm_nfree(dsm);
	dsm->st.frames_total = dsm->nframes;
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
static int dsm_zero(struct l4u_dsm *dsm, struct dsm_ds *ds, uint64_t first,
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
		memset(l4u_frames_ptr(dsm->fr, f), 0, PAGE);
		ds->state[p] |= PAGE_DIRTY;
	}
	return 0;
}

static int dsm_clear(struct l4u_server *srv, void *obj, const struct l4_msg *m,
		     struct l4_reply *r)
{
	struct l4u_dsm *dsm = l4u_server_priv(srv);
	struct dsm_ds *ds = obj;
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
	struct dsm_ds *ds = obj;
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
	struct dsm_ds *dst = obj, *src;
	char *buf = dsm->buf;
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
		if (src->frames[sp] == NO_FRAME && !dsm->be->fill &&
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
		memcpy(buf, l4u_frames_ptr(dsm->fr, sf), PAGE);
		ret = dsm_page(dsm, dst, dp, &df);
		if (ret)
			return ret;
		memcpy(l4u_frames_ptr(dsm->fr, df), buf, PAGE);
		dst->state[dp] |= PAGE_DIRTY;
	}
	return 0;
}

static int dsm_sync_fn(struct l4u_server *srv, void *obj, const struct l4_msg *m,
		       struct l4_reply *r)
{
	struct l4u_dsm *dsm = l4u_server_priv(srv);
	struct dsm_ds *ds = obj;
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


/* ---- creation and destruction ---------------------------------------------- */

static const struct l4u_server_ops dsm_ops = {
	.req_size	= sizeof(struct l4u_dsm_req),
	.resp_size	= sizeof(struct l4u_dsm_resp),
	.open		= dsm_open,
	.no_senders	= dsm_no_senders,
};

static const struct {
	int64_t label;
	l4u_server_fn fn;
} dsm_handlers[] = {
	{ L4U_DS_MAP, dsm_map },
	{ L4U_DS_INFO, dsm_info },
	{ L4U_DS_CLEAR, dsm_clear },
	{ L4U_DS_COPY_IN, dsm_copy_in },
	{ L4U_DS_SYNC, dsm_sync_fn },
	{ L4U_DS_ALLOCATE, dsm_allocate },
	{ L4U_DSM_STATS, dsm_stats_fn },
	{ L4U_DSM_SWAP_STATS, dsm_swap_stats_fn },
};

#define DSM_DEFAULT_FRAMES	16384	/* 64 MiB */

/* A configuration the engine can serve (swapping: anonymous memory only). */
static int dsm_config_ok(const struct l4u_dsm_backend *be,
			 const struct l4u_dsm_config *cfg, uint64_t nframes)
{
	if (!be->open || !cfg->socket || (cfg->flags & ~L4U_DSM_FLAGS_KNOWN) ||
	    !l4u_frames_strategy_name(cfg->alloc))
		return 0;
	if (!cfg->policy)
		return !cfg->tau && !(cfg->flags & L4U_DSM_LAZY_W);
	return l4u_policy_name(cfg->policy) && cfg->swap_fd >= 0 &&
	       !be->fill && !be->writeback && nframes <= L4U_POLICY_MAX_FRAMES &&
	       (!cfg->tau || cfg->policy == L4U_POLICY_WS);
}

/* Swapping: a policy over the pool, who owns each frame, swap slots. */
static int dsm_swap_init(struct l4u_dsm *dsm)
{
	const struct l4u_dsm_config *cfg = &dsm->cfg;
	struct l4u_policy_params pp = {
		.kind		= cfg->policy,
		.frames		= (uint32_t)dsm->nframes,
		.tau		= cfg->policy == L4U_POLICY_WS ?
				  (cfg->tau ? cfg->tau : dsm->nframes) : 0,
		.sample		= dsm_sample,
		.sample_arg	= dsm,
	};
	int ret;

	dsm->max_order = 12;	/* evicted at the granularity handed out */
	dsm->swap_fd = cfg->swap_fd;
	dsm->owner = calloc(dsm->nframes, sizeof(*dsm->owner));
	dsm->owner_page = calloc(dsm->nframes, sizeof(*dsm->owner_page));
	ret = !dsm->owner || !dsm->owner_page ? -ENOMEM :
	      l4u_policy_create(&pp, &dsm->pol);
	if (ret)
		dsm_warn(dsm, ret, "policy %s", l4u_policy_name(cfg->policy));
	return ret;
}

int l4u_dsm_create(int dev, const struct l4u_dsm_backend *be,
		   const struct l4u_dsm_config *cfg, struct l4u_dsm **out)
{
	struct l4u_frames_info fi;
	struct l4u_dsm *dsm;
	uint64_t nframes;
	unsigned int i;
	int ret;

	if (!be || !cfg || !out)
		return -EINVAL;
	nframes = cfg->frames ? cfg->frames : DSM_DEFAULT_FRAMES;
	if (!dsm_config_ok(be, cfg, nframes))
		return -EINVAL;
	dsm = calloc(1, sizeof(*dsm));
	if (!dsm)
		return -ENOMEM;
	dsm->be = be;
	dsm->cfg = *cfg;
	dsm->cfg.socket = NULL;		/* the caller's string: not kept */
	dsm->swap_fd = -1;
	dsm->max_order = be->max_order;
	dsm->nframes = nframes;
	ret = l4u_frames_create(dev, nframes, cfg->alloc, &dsm->fr);
	if (ret) {
		dsm_warn(dsm, ret, "%" PRIu64 " frames", nframes);
		goto fail;
	}
	l4u_frames_info(dsm->fr, &fi);
	dsm->space = fi.space;
	if (cfg->policy) {
		ret = dsm_swap_init(dsm);
		if (ret)
			goto fail;
	}
	/* said before the socket exists: a client that got in finds it said */
	dsm_log(dsm, "%" PRIu64 " frames (%" PRIu64 " KiB), serving on %s%s%s%s",
		nframes, nframes * 4, cfg->socket,
		cfg->policy ? ", swapping by " : "",
		cfg->policy ? l4u_policy_name(cfg->policy) : "",
		cfg->flags & L4U_DSM_PINNED ? ", pinned" : "");
	ret = l4u_server_create(cfg->socket, &dsm_ops, dsm, &dsm->srv);
	if (ret) {
		dsm_warn(dsm, ret, "listen on %s", cfg->socket);
		goto fail;
	}
	for (i = 0; i < sizeof(dsm_handlers) / sizeof(dsm_handlers[0]) && !ret; i++)
		ret = l4u_server_on(dsm->srv, dsm_handlers[i].label, dsm_handlers[i].fn);
	if (ret)
		goto fail;
	*out = dsm;
	return 0;
fail:
	l4u_dsm_destroy(dsm);
	return ret;
}

struct l4u_server *l4u_dsm_server(struct l4u_dsm *dsm)
{
	return dsm ? dsm->srv : NULL;
}

void l4u_dsm_destroy(struct l4u_dsm *dsm)
{
	if (!dsm)
		return;
	/* write back and free what is left; clients' calls then get EPIPE */
	while (dsm->list)
		dsm_free(dsm, dsm->list);
	l4u_server_destroy(dsm->srv);
	l4u_frames_destroy(dsm->fr);
	if (dsm->pol)
		l4u_policy_destroy(dsm->pol);
	free(dsm->owner);
	free(dsm->owner_page);
	free(dsm->swap_free);
	free(dsm);
}
