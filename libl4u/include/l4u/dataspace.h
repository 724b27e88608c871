/* SPDX-License-Identifier: MIT */
/*
 * libl4u dataspaces: the protocol between clients (region managers) and
 * dataspace managers, and the client side of it (L4Re::Dataspace and
 * Mem_alloc on Linux).
 *
 * A dataspace is an unstructured data container (anonymous memory, a file,
 * ...) implemented by a dataspace manager, a separate process that is the
 * pager of its dataspaces. Each dataspace is a gate of its manager; a
 * client holds a *send capability* of that gate (an fd, see
 * l4u_gate_send_cap()): the capability IS the dataspace. Hand it to another
 * process (SCM_RIGHTS, fork) and that process shares the dataspace. When
 * the last capability closes, the manager gets L4_LABEL_NO_SENDERS on the
 * gate and frees the dataspace; when the manager dies, the gate dies, and
 * every later operation on the dataspace fails with EPIPE (a region
 * manager answers the fault with EPIPE: the faulting thread gets SIGBUS).
 *
 * Bootstrap (how a client gets a first capability): a manager listens on a
 * Unix stream socket (a path, or an abstract name starting with '@'). On a
 * connection the client sends one struct l4u_dsm_req (for L4U_DSM_OPEN_FILE
 * with the file's fd attached as SCM_RIGHTS) and reads one struct
 * l4u_dsm_resp; on success the response carries the dataspace's send
 * capability as SCM_RIGHTS. One connection may carry many requests.
 *
 * Operations on a dataspace are L4_IOC_CALLs on its capability with the
 * labels below; words are given as w[i]. Errors come back as the reply's
 * errno (l4u_call() returns -errno).
 */
#ifndef L4U_DATASPACE_H
#define L4U_DATASPACE_H

#include <stddef.h>
#include <stdint.h>
#include <linux/l4.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- bootstrap over a Unix socket -------------------------------------- */

#define L4U_DSM_OPEN_ANON	1	/* anonymous memory, zero-filled */
#define L4U_DSM_OPEN_FILE	2	/* a regular file (fd attached) */

/*
 * Dataspace flags (struct l4u_dsm_req.flags, l4u_ds.flags): the rights it
 * may be mapped with (L4_FPAGE_R, L4_FPAGE_W, L4_FPAGE_X), and these:
 */
#define L4U_DS_PINNED		(1U << 4)	/* frames never evicted */
#define L4U_DS_FLAGS_KNOWN	(L4_FPAGE_RWX | L4U_DS_PINNED)

struct l4u_dsm_req {
	uint32_t op;		/* L4U_DSM_OPEN_* */
	uint32_t flags;		/* L4U_DS_* (for files: W asks for write-back) */
	uint64_t size;		/* bytes, page multiple; files: 0 = the file's size */
	uint64_t reserved[2];	/* zero */
};

struct l4u_dsm_resp {
	int32_t error;		/* 0 or a positive errno */
	uint32_t flags;		/* the dataspace's L4U_DS_* */
	uint64_t size;		/* its size in bytes; mapped in whole pages, the
				   tail of the last one reads as zeros (as mmap) */
	uint64_t id;		/* its id at the manager (unguessable, see COPY_IN) */
	uint64_t reserved[1];
};

/* ---- operations: L4_IOC_CALL labels on a dataspace capability ---------- */

#define L4U_PROTO_DS		0x4453LL	/* 'DS' */
#define L4U_DS_LABEL(op)	((L4U_PROTO_DS << 16) | (op))

/*
 * MAP: w[0] offset (page-aligned, < size), w[1] hot spot (the address in
 * the receive window the page at @offset must land at; see the flexpage
 * offset rule), w[2] rights wanted (L4_FPAGE_*). The call's receive window
 * bounds what may be mapped: the manager may answer with a larger flexpage
 * (up to the window) when offsets and addresses are aligned alike.
 * Errors: EINVAL offset, ERANGE offset >= size, EACCES rights the
 * dataspace does not allow, ENOMEM no frame.
 */
#define L4U_DS_MAP		L4U_DS_LABEL(1)
/* INFO: reply w[0] size, w[1] flags, w[2] id. */
#define L4U_DS_INFO		L4U_DS_LABEL(2)
/* CLEAR: w[0] offset, w[1] size (page multiples): zero that range. */
#define L4U_DS_CLEAR		L4U_DS_LABEL(3)
/*
 * COPY_IN: w[0] dst offset, w[1] src id (INFO's w[2]; a dataspace of the
 * same manager), w[2] src offset, w[3] size: copy from src into this one.
 * Errors: ESRCH unknown id, EXDEV another manager's, ERANGE out of range.
 */
#define L4U_DS_COPY_IN		L4U_DS_LABEL(4)
/* SYNC: w[0] offset, w[1] size (0: all): write dirty pages back (files). */
#define L4U_DS_SYNC		L4U_DS_LABEL(5)
/* ALLOCATE: w[0] offset, w[1] size: back the range now (L4Re allocate). */
#define L4U_DS_ALLOCATE		L4U_DS_LABEL(6)

/*
 * STATS (a manager's counters, for tests and tools), asked on any of its
 * dataspaces: reply w[0] live dataspaces, w[1] frames in use, w[2] frames
 * in all, w[3] pages read in (files), w[4] pages written back (files),
 * w[5] requests served.
 */
#define L4U_DSM_STATS		L4U_DS_LABEL(0x7f)
/*
 * SWAP_STATS (a swapping or pinning manager's paging counters, see
 * docs/swapping.md), asked on any of its dataspaces: reply w[0] MAP
 * requests, w[1] faults (MAPs that needed a frame: zero-fill or swap-in),
 * w[2] hits (MAPs of a resident page), w[3] evictions, w[4] swap-ins,
 * w[5] swap-outs, w[6] pinned frames, w[7] swap slots in use. Zero where
 * the manager does not swap; a manager older than this gets -ENOSYS.
 */
#define L4U_DSM_SWAP_STATS	L4U_DS_LABEL(0x7e)

/* ---- client side (libl4u) ---------------------------------------------- */

/* A dataspace as a client holds it. */
struct l4u_ds {
	int cap;		/* send capability of the dataspace's gate */
	uint32_t flags;		/* L4U_DS_* */
	uint64_t size;		/* bytes */
	uint64_t id;		/* id at its manager */
};

/*
 * Open a new dataspace at the manager listening on @dsm (socket path, or
 * "@name" for an abstract socket): anonymous memory of @size bytes, or the
 * file behind @file_fd (@size 0: the file's size). @flags: L4U_DS_*.
 */
int l4u_ds_open_anon(const char *dsm, uint64_t size, uint32_t flags,
		     struct l4u_ds *ds);
int l4u_ds_open_file(const char *dsm, int file_fd, uint64_t size,
		     uint32_t flags, struct l4u_ds *ds);

/*
 * 0 when a manager listens on @dsm (it accepts a connection, which is
 * closed again at once), else -errno (-ECONNREFUSED, -ENOENT: nobody
 * there yet). For waiting until a manager just started is ready.
 */
int l4u_dsm_ping(const char *dsm);

/* Fill @ds for a capability received from elsewhere (asks INFO). */
int l4u_ds_from_cap(int cap, struct l4u_ds *ds);

/* Close the capability (the manager frees the dataspace after the last). */
int l4u_ds_close(struct l4u_ds *ds);

int l4u_ds_info(struct l4u_ds *ds);	/* refresh size, flags, id */

/*
 * Ask the manager to map the page at @offset with @rights so that it lands
 * at @hot_spot within receive window @rcv_window of space @rcv_space.
 * *@pages: how many pages the manager mapped.
 */
int l4u_ds_map(const struct l4u_ds *ds, uint64_t offset, uint64_t hot_spot,
	       unsigned int rights, int rcv_space, uint64_t rcv_window,
	       uint64_t *pages);
int l4u_ds_clear(const struct l4u_ds *ds, uint64_t offset, uint64_t size);
int l4u_ds_copy_in(const struct l4u_ds *dst, uint64_t dst_offset,
		   const struct l4u_ds *src, uint64_t src_offset, uint64_t size);
int l4u_ds_sync(const struct l4u_ds *ds, uint64_t offset, uint64_t size);
int l4u_ds_allocate(const struct l4u_ds *ds, uint64_t offset, uint64_t size);

/* A manager's counters (STATS), asked through any of its dataspaces. */
struct l4u_dsm_stats {
	uint64_t dataspaces;
	uint64_t frames_used;
	uint64_t frames_total;
	uint64_t pages_read;
	uint64_t pages_written;
	uint64_t requests;
};

int l4u_dsm_stats(const struct l4u_ds *ds, struct l4u_dsm_stats *st);

/* A swapping or pinning manager's paging counters (SWAP_STATS). */
struct l4u_dsm_swap_stats {
	uint64_t maps;
	uint64_t faults;
	uint64_t hits;
	uint64_t evictions;
	uint64_t swap_ins;
	uint64_t swap_outs;
	uint64_t pinned;
	uint64_t swap_used;
	double hit_ratio;	/* hits / (hits + faults), 0 if none */
};

int l4u_dsm_swap_stats(const struct l4u_ds *ds, struct l4u_dsm_swap_stats *st);

/*
 * Capabilities over Unix sockets: send @len bytes of @data with @fd
 * attached (-1: none); receive up to @len bytes with an optional fd
 * (*@fd = -1 if none came). Both return bytes moved or -errno.
 */
int l4u_cap_send(int sock, int fd, const void *data, size_t len);
int l4u_cap_recv(int sock, int *fd, void *data, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* L4U_DATASPACE_H */
