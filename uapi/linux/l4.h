/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * l4u: L4 address spaces for Linux -- the user/kernel ABI of /dev/l4.
 *
 * This is the only header shared by the module (kmod/) and user space.
 *
 * Rules of this ABI:
 *  - every struct has a fixed size with explicit padding; padding and
 *    reserved fields must be zero on input (EINVAL otherwise) and are zero
 *    on output;
 *  - every flags field has a mask of its known bits; unknown bits: EINVAL;
 *  - ioctl commands are matched whole, including the size encoded in them:
 *    a command with another size is an unknown command (ENOTTY);
 *  - a bad user pointer gives EFAULT;
 *  - L4_IOC_VERSION tells the ABI version; the major number changes when
 *    an existing struct or command changes meaning, the minor when
 *    something is added.
 */
#ifndef _UAPI_LINUX_L4_H
#define _UAPI_LINUX_L4_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define L4_DEVICE_PATH		"/dev/l4"

#define L4_ABI_MAJOR		0
#define L4_ABI_MINOR		6

#define L4_IOC_MAGIC		0xBC

/* ------------------------------------------------------------------ */
/* Flexpages (Fiasco.OC's one-word encoding)                           */
/* ------------------------------------------------------------------ */

/*
 * bits 0-3   rights: X = 1, W = 2, R = 4
 * bits 4-5   type (memory = 1)
 * bits 6-11  order: the flexpage covers 2^order bytes, size-aligned
 * bits 12-63 address (page number << 12)
 */
#define L4_FPAGE_X		0x1ULL
#define L4_FPAGE_W		0x2ULL
#define L4_FPAGE_R		0x4ULL
#define L4_FPAGE_RW		(L4_FPAGE_R | L4_FPAGE_W)
#define L4_FPAGE_RX		(L4_FPAGE_R | L4_FPAGE_X)
#define L4_FPAGE_RWX		(L4_FPAGE_R | L4_FPAGE_W | L4_FPAGE_X)
#define L4_FPAGE_RIGHTS_MASK	0xfULL

#define L4_FPAGE_TYPE_SHIFT	4
#define L4_FPAGE_TYPE_MASK	(0x3ULL << L4_FPAGE_TYPE_SHIFT)
#define L4_FPAGE_TYPE_MEMORY	1ULL

#define L4_FPAGE_ORDER_SHIFT	6
#define L4_FPAGE_ORDER_MASK	(0x3fULL << L4_FPAGE_ORDER_SHIFT)
#define L4_FPAGE_ADDR_MASK	(~0xfffULL)

/* The smallest flexpage is one page; smaller orders map nothing. */
#define L4_FPAGE_MIN_ORDER	12

#define L4_FPAGE(addr, order, rights)					\
	((((__u64)(addr)) & L4_FPAGE_ADDR_MASK) |			\
	 ((((__u64)(order)) & 0x3f) << L4_FPAGE_ORDER_SHIFT) |		\
	 (L4_FPAGE_TYPE_MEMORY << L4_FPAGE_TYPE_SHIFT) |		\
	 (((__u64)(rights)) & L4_FPAGE_RIGHTS_MASK))

#define L4_FPAGE_ADDR(fp)	((__u64)(fp) & L4_FPAGE_ADDR_MASK)
#define L4_FPAGE_ORDER(fp)	(((__u64)(fp) & L4_FPAGE_ORDER_MASK) >> L4_FPAGE_ORDER_SHIFT)
#define L4_FPAGE_RIGHTS(fp)	((__u64)(fp) & L4_FPAGE_RIGHTS_MASK)
#define L4_FPAGE_TYPE(fp)	(((__u64)(fp) & L4_FPAGE_TYPE_MASK) >> L4_FPAGE_TYPE_SHIFT)

/* Order 63 at address 0: the whole space (as a receive window). */
#define L4_FPAGE_WHOLE_ORDER	63
#define L4_FPAGE_WHOLE_SPACE	L4_FPAGE(0, L4_FPAGE_WHOLE_ORDER, 0)

/*
 * A map item: {control, send fpage}. control = send base (the "hot spot",
 * page-aligned) | L4_MAP_ITEM_MAP, plus L4_MAP_ITEM_GRANT to grant instead
 * of map (Fiasco's L4_MAP_ITEM_MAP / L4_MAP_ITEM_GRANT).
 */
#define L4_MAP_ITEM_GRANT	0x2ULL
#define L4_MAP_ITEM_MAP		0x8ULL
#define L4_MAP_ITEM_KNOWN	(L4_MAP_ITEM_GRANT | L4_MAP_ITEM_MAP)

struct l4_map_item {
	__u64 control;		/* send base | L4_MAP_ITEM_MAP [| L4_MAP_ITEM_GRANT] */
	__u64 fpage;		/* send flexpage in the source space, with rights */
};

#define L4_MAP_ITEM(base, grant)					\
	((((__u64)(base)) & L4_FPAGE_ADDR_MASK) | L4_MAP_ITEM_MAP |	\
	 ((grant) ? L4_MAP_ITEM_GRANT : 0))

/* ------------------------------------------------------------------ */
/* /dev/l4 ioctls                                                      */
/* ------------------------------------------------------------------ */

/* Feature bits reported by L4_IOC_VERSION. */
#define L4_FEAT_SPACES		(1ULL << 0)	/* spaces, windows */
#define L4_FEAT_SIGMA0		(1ULL << 1)	/* sigma0-backed spaces */
#define L4_FEAT_MAPDB		(1ULL << 2)	/* map, grant, unmap */
#define L4_FEAT_IPC		(1ULL << 3)	/* gates, threads, fault IPC */
#define L4_FEAT_FAULT_AROUND	(1ULL << 4)	/* L4_SPACE_FAULT_AROUND */
#define L4_FEAT_SEND_CAP	(1ULL << 5)	/* send capabilities, no-senders */
#define L4_FEAT_SUPERPAGES	(1ULL << 6)	/* L4_SPACE_SUPERPAGES, 2 MiB entries */
#define L4_FEATURES_KNOWN	(L4_FEAT_SPACES | L4_FEAT_SIGMA0 | L4_FEAT_MAPDB | \
				 L4_FEAT_IPC | L4_FEAT_FAULT_AROUND | \
				 L4_FEAT_SEND_CAP | L4_FEAT_SUPERPAGES)

struct l4_version {
	__u32 major;		/* out: L4_ABI_MAJOR of the module */
	__u32 minor;		/* out: L4_ABI_MINOR of the module */
	__u64 features;		/* out: L4_FEAT_* */
	__u64 reserved[2];	/* out: zero */
};

/* Space creation flags. */
#define L4_SPACE_SIGMA0		(1U << 0)	/* first touch gets a zeroed frame */
/*
 * Fault-around: a read fault in a window also maps the present neighbours
 * in its aligned block of L4_FAULT_AROUND_PAGES pages, read-only (fewer
 * faults after a big flexpage; a write still faults). Unmap then reports those neighbours referenced although
 * they may not have been touched: leave it off where reference tracking
 * matters more than fault count (page replacement).
 */
#define L4_SPACE_FAULT_AROUND	(1U << 1)
#define L4_SPACE_FLAGS_KNOWN	(L4_SPACE_SIGMA0 | L4_SPACE_FAULT_AROUND | \
				 L4_SPACE_SUPERPAGES)
#define L4_FAULT_AROUND_PAGES	16
/*
 * Superpages (with L4_SPACE_SIGMA0): the first touch of an empty, aligned
 * 2 MiB block of the space allocates one 2 MiB frame for all of it (one
 * mapping-database entry; one PMD in a window placed 2 MiB-aligned), or a
 * 4 KiB frame when no 2 MiB one is to be had. A 2 MiB frame counts 512
 * against the frame limits. docs/design.md has the rules for mappings of
 * parts of a superpage.
 */
#define L4_SPACE_SUPERPAGES	(1U << 2)
#define L4_SUPERPAGE_ORDER	21	/* log2 of the superpage size */

/* The largest space: 2^47 bytes, a user half of x86-64. */
#define L4_SPACE_MAX_SIZE	(1ULL << 47)

struct l4_space_create {
	__u64 size;		/* in: bytes, a multiple of 4096, 1 .. L4_SPACE_MAX_SIZE */
	__u64 max_frames;	/* in: frame limit of this space; 0 = no own limit */
	__u32 flags;		/* in: L4_SPACE_* */
	__u32 pad;		/* in: zero */
	__u64 id;		/* out: the space's id (never reused while loaded); in: zero */
	__u64 reserved[4];	/* in: zero */
};

/*
 * Global counters of the module. Frames are pages the module allocated
 * (sigma0), nodes are mapping-database nodes (one per page a space holds).
 */
struct l4_stats {
	__u64 spaces;		/* live spaces */
	__u64 frames;		/* frames allocated now */
	__u64 max_frames;	/* global frame limit (module parameter) */
	__u64 nodes;		/* mapping nodes now */
	__u64 windows;		/* window vmas now */
	__u64 frames_allocated;	/* frames ever allocated */
	__u64 frames_freed;	/* frames ever freed */
	__u64 kernel_faults;	/* faults resolved in the kernel */
	__u64 limit_faults;	/* faults refused by a frame limit (SIGBUS) */
	__u64 maps;		/* pages mapped (L4_IOC_MAP without grant) */
	__u64 grants;		/* pages granted */
	__u64 unmaps;		/* L4_IOC_UNMAP calls */
	__u64 revoked;		/* nodes removed or downgraded by revocation */
	__u64 gates;		/* live gates */
	__u64 threads;		/* registered L4 threads */
	__u64 messages;		/* messages received from gates */
	__u64 replies;		/* replies delivered */
	__u64 pager_faults;	/* page faults sent to pagers */
	__u64 faultaround_pages; /* pages mapped into windows by fault-around */
	__u64 superpages;	/* 2 MiB frames allocated now (in frames: 512 each) */
	__u64 reserved[4];	/* out: zero */
};

/* on /dev/l4 */
#define L4_IOC_VERSION		_IOR(L4_IOC_MAGIC, 0x00, struct l4_version)
/* returns a new gate fd (O_RDWR | O_CLOEXEC); arg: unused, must be 0 */
#define L4_IOC_CREATE_GATE	_IO(L4_IOC_MAGIC, 0x03)
/* returns a new space fd (O_RDWR | O_CLOEXEC) */
#define L4_IOC_CREATE_SPACE	_IOWR(L4_IOC_MAGIC, 0x01, struct l4_space_create)
#define L4_IOC_STATS		_IOR(L4_IOC_MAGIC, 0x02, struct l4_stats)

/* ------------------------------------------------------------------ */
/* space fd ioctls                                                     */
/* ------------------------------------------------------------------ */

struct l4_space_info {
	__u64 id;		/* the space's id */
	__u64 size;		/* bytes */
	__u64 max_frames;	/* own frame limit, 0 = none */
	__u64 frames;		/* frames (pages) this space's sigma0 allocated, live */
	__u64 nodes;		/* pages present in the space */
	__u64 windows;		/* window vmas onto the space, all processes */
	__u32 flags;		/* L4_SPACE_* given at creation */
	__u32 pad;		/* zero */
	__u64 maps;		/* pages mapped into this space */
	__u64 grants;		/* pages granted into this space */
	__u64 unmaps;		/* L4_IOC_UNMAP calls on this space */
	__u64 revoked;		/* its entries removed or downgraded */
	__u64 superpages;	/* 2 MiB frames among its frames (512 each there) */
};

#define L4_IOC_SPACE_INFO	_IOR(L4_IOC_MAGIC, 0x40, struct l4_space_info)

/*
 * Map or grant from a source space into this one (L4::Task::map): issued on
 * the destination space's fd. The receive window rcv_fpage (rights ignored;
 * L4_FPAGE_WHOLE_SPACE for all of it) and the send fpage place the mapping
 * by the flexpage offset rule (S = send order, R = receive order, h = send
 * base):
 *   R >= S: 2^S bytes from the send fpage to
 *           rcv + ((h mod 2^R) & ~(2^S - 1))
 *   R <  S: 2^R bytes from send + ((h mod 2^S) & ~(2^R - 1)) to rcv
 * Rights are those of the send fpage, never more than the source entry's.
 * Pages absent from the source are skipped. A destination page holding
 * another mapping is flushed (with its subtree) first; one holding a child
 * of the same source entry gets its rights upgraded. Grant moves the source
 * entry (its derived mappings stay attached); other aliases remain.
 * Errors: EBADF src_fd is no fd; EINVAL it is no space, or bad fpage (type,
 * order < 12, misaligned, unknown rights, outside its space), bad control
 * word, pad/reserved/flags; ENOENT nothing in the source range; EMLINK the
 * derivation tree would grow deeper than 255; ENOMEM; EINTR (fatal signal,
 * partly done: see mapped).
 */
struct l4_map {
	__s32 src_fd;		/* in: source space fd (may be this space) */
	__u32 flags;		/* in: zero (none defined yet) */
	struct l4_map_item item; /* in: send base + grant bit, send fpage */
	__u64 rcv_fpage;	/* in: receive window in this space */
	__u64 dst_addr;		/* out: where the mapped range starts here */
	__u64 pages;		/* out: pages mapped or granted */
	__u64 reserved[3];	/* in: zero */
};

/*
 * Revoke rights from everything derived from the entries of this space in
 * fpage (no partner's consent). The fpage's rights say what to revoke:
 * with R the derived mappings go away with their whole subtrees; with only
 * W and/or X they are downgraded. L4_UNMAP_ALL_SPACES also revokes from
 * this space's own entries (Fiasco's L4_FP_ALL_SPACES); without it only
 * other spaces (descendants) are hit. Holes in the range are skipped.
 * access reports, where the kernel can tell, whether the flushed pages were
 * referenced (L4_FPAGE_R) or written (L4_FPAGE_W) since the last report.
 */
#define L4_UNMAP_ALL_SPACES	0x80000000U
#define L4_UNMAP_FLAGS_KNOWN	(L4_UNMAP_ALL_SPACES)

struct l4_unmap {
	__u64 fpage;		/* in: range and rights to revoke */
	__u32 flags;		/* in: L4_UNMAP_* */
	__u32 pad;		/* in: zero */
	__u64 revoked;		/* out: nodes removed or downgraded */
	__u64 access;		/* out: L4_FPAGE_R referenced, L4_FPAGE_W dirty */
	__u64 reserved[2];	/* in: zero */
};

#define L4_IOC_MAP		_IOWR(L4_IOC_MAGIC, 0x41, struct l4_map)
#define L4_IOC_UNMAP		_IOWR(L4_IOC_MAGIC, 0x42, struct l4_unmap)

/*
 * Windows: mmap(MAP_SHARED) of a space fd; the file offset is the space
 * address. Errors of mmap on a space fd:
 *   EINVAL  MAP_PRIVATE (a window is always shared)
 *   ENXIO   the range lies (partly) outside the space
 * mprotect() adding PROT_EXEC to a window mapped without it: EACCES.
 *
 * Execute rights are enforced per window: in a window mapped PROT_EXEC
 * every access needs X on the entry as well (its PTEs are executable), so
 * a fault there reaches the pager with L4_PF_EXEC set, and revoking X
 * takes the page out of such windows. Windows without PROT_EXEC never
 * execute anything.
 *
 * Faults in a window:
 *   SIGBUS  the page is absent and the space has no pager, or a frame
 *           limit (per space, global module parameter max_frames, or the
 *           toucher's memory cgroup) refused a frame
 *   SIGSEGV the page is there without the rights the access needs and
 *           the space has no pager, or the pager answered with an error
 * A kernel-mode access (a system call reading or writing a window page)
 * waits for the pager killably: a non-fatal signal does not end the wait.
 */

/* ------------------------------------------------------------------ */
/* Gates, messages, threads                                            */
/* ------------------------------------------------------------------ */

/*
 * A gate is an IPC endpoint (an fd). Servers receive messages from it
 * (read(2) of struct l4_msg, poll/epoll, L4_IOC_RECV) and answer each with
 * a reply naming its token (L4_IOC_REPLY), or reply and wait for the next
 * in one call (L4_IOC_REPLY_WAIT: one system call per fault in steady
 * state). Clients call it (L4_IOC_CALL) and block for the reply. A space's
 * page faults arrive at its pager gate as messages labelled
 * L4_LABEL_PAGE_FAULT.
 *
 * Tokens name a message until it is answered; a token is never 0, and a
 * stale one gets ENOENT. A receive fails with EBUSY while max_inflight
 * (module parameter, default 4096, at most 2^24) messages of the gate are
 * received and not yet answered -- including those whose callers gave up:
 * they stay until answered (ESRCH) or the gate dies.
 *
 * When the last fd of a gate is closed the gate is dead: every waiting
 * caller and faulter gets EPIPE (a faulter: SIGBUS), now and later.
 *
 * Send capabilities (L4_IOC_GATE_SEND_CAP): an fd that names the same gate
 * but can only send -- L4_IOC_CALL, and being named as a pager
 * (L4_IOC_SET_PAGER, L4_IOC_THREAD_CONTROL). It is what a server hands to
 * its clients (fork, SCM_RIGHTS). Receiving on it (read, L4_IOC_RECV,
 * L4_IOC_REPLY, L4_IOC_REPLY_WAIT) gives EPERM; poll reports EPOLLHUP once
 * the gate is dead. Send capabilities do not keep a gate alive: it dies
 * when its last *receive* fd (what L4_IOC_CREATE_GATE returned, and dups
 * of it) closes. When the last send capability of a gate closes, the gate
 * receives one message labelled L4_LABEL_NO_SENDERS (token 0, no words, no
 * reply): the server learns that no client holds the object any more
 * (Mach's no-senders notification). While one waits unreceived, later
 * drops to zero add none: it tells the same.
 */
#define L4_MSG_WORDS		8	/* message registers */
#define L4_MSG_ITEMS		4	/* map items in one reply */

/* Fiasco's page-fault protocol label */
#define L4_LABEL_PAGE_FAULT	(-2LL)
/* the last send capability of the gate was closed (token 0, no reply) */
#define L4_LABEL_NO_SENDERS	(-3LL)

/*
 * word 0 of a page-fault message: (pfa & ~7) | X << 2 | W << 1 | P: the
 * rights the access needs (X in an executable window) and whether the
 * page is there with fewer
 */
#define L4_PF_PRESENT		0x1ULL	/* a rights fault: the page is there */
#define L4_PF_WRITE		0x2ULL
#define L4_PF_EXEC		0x4ULL
#define L4_PF_ADDR(w0)		((w0) & ~7ULL)

struct l4_msg {
	__u64 token;		/* name of this message in the reply */
	__s64 label;		/* L4_LABEL_PAGE_FAULT or the caller's */
	__u32 nwords;		/* words used */
	__u32 flags;		/* zero */
	__u64 words[L4_MSG_WORDS];
	__u64 space_id;		/* the sender's space (0: none) */
	__u64 thread_id;	/* the sender's L4 thread id (0: unregistered) */
	__s32 tid;		/* the sender's Linux tid (receiver's pid ns; 0 if
				   not visible there) */
	__u32 pad;
	__u64 rcv_window;	/* fpage the sender receives mappings in */
	__u64 reserved[2];
};

struct l4_reply_item {
	__s32 src_fd;		/* source space of the map item */
	__u32 pad;
	struct l4_map_item item; /* send base + grant bit, send fpage */
};

/*
 * A reply. error 0: success; then the map items are applied into the
 * sender's receive window (each by the flexpage offset rule) before it
 * resumes; for a page fault, a reply with no item means "retry". error > 0
 * (an errno): a call fails with it; a page fault ends in SIGSEGV at the
 * faulting address -- or in SIGBUS for EIO and EPIPE (the memory behind
 * the address is gone, e.g. its dataspace manager died), as for a dead
 * pager. Malformed replies are refused with an errno and leave
 * the message unanswered: EINVAL bad field or flag, ENOENT unknown token
 * (or the message is answered, or another reply to it is being applied),
 * ESRCH the sender is gone (the message is then dropped), EBADF/EINVAL an
 * item's src_fd, EINVAL an item whose target would leave the receiver's
 * space (by the offset rule an item never lands outside the receive
 * window). The whole reply is checked before anything is mapped. Once it
 * passed the check the message is answered, even if applying an item then
 * fails (ENOMEM, EMLINK, EINTR: returned to the replier; a faulter just
 * faults again).
 */
struct l4_reply {
	__u64 token;
	__s64 label;
	__u32 nwords;
	__u32 nitems;
	__s32 error;		/* 0 or a positive errno */
	__u32 flags;		/* zero */
	__u64 words[L4_MSG_WORDS];
	struct l4_reply_item items[L4_MSG_ITEMS];
	__u64 reserved[2];
};

/*
 * L4_IOC_REPLY_WAIT: reply (skipped when reply.token == 0), then receive.
 * A reply refused with ESRCH (its sender left) does not stop the receive;
 * any other refusal returns at once, with nothing received.
 */
struct l4_reply_wait {
	struct l4_reply reply;
	struct l4_msg msg;
};

/*
 * L4_IOC_CALL on a gate: send a message and wait (killable) for the reply.
 * Map items of the reply land in rcv_space_fd's receive window rcv_window.
 * timeout_ns 0: wait forever. reply_label and pages are outputs and must
 * be zero on input. Errors: EINVAL (a field, flag or receive window),
 * EBADF (rcv_space_fd), ENOMEM, ETIMEDOUT, EPIPE (gate dead), EINTR (fatal
 * signal), or the reply's error.
 */
struct l4_call {
	__s64 label;		/* in */
	__u32 nwords;		/* in/out: words sent / received */
	__u32 flags;		/* in: zero */
	__u64 words[L4_MSG_WORDS]; /* in: message; out: reply */
	__s32 rcv_space_fd;	/* in: -1 for no receive window */
	__u32 pad;
	__u64 rcv_window;	/* in: fpage in rcv_space_fd */
	__s64 timeout_ns;	/* in */
	__s64 reply_label;	/* out */
	__u64 pages;		/* out: pages mapped by the reply */
	__u64 reserved[2];
};

#define L4_IOC_RECV		_IOR(L4_IOC_MAGIC, 0x80, struct l4_msg)
#define L4_IOC_REPLY		_IOW(L4_IOC_MAGIC, 0x81, struct l4_reply)
#define L4_IOC_REPLY_WAIT	_IOWR(L4_IOC_MAGIC, 0x82, struct l4_reply_wait)
#define L4_IOC_CALL		_IOWR(L4_IOC_MAGIC, 0x83, struct l4_call)
/* on a gate fd (receive or send): a new send capability fd; arg must be 0 */
#define L4_IOC_GATE_SEND_CAP	_IO(L4_IOC_MAGIC, 0x84)

/*
 * On a gate fd (receive or send): what waits at the gate now, and its
 * senders' measured wake-up cost. A sender spins for its answer before it
 * sleeps for up to twice wake_ns (at most the module parameter spin_ns):
 * the estimate is the gate's own, so one slow server does not change how
 * long the clients of another spin.
 */
struct l4_gate_info {
	__u64 queued;		/* messages waiting to be received */
	__u64 inflight;		/* received and not yet answered */
	__u64 senders;		/* open send capabilities */
	__u64 wake_ns;		/* moving average: a sleeping sender's wake-up */
	__u32 dead;		/* 1: its last receive fd is gone */
	__u32 pad;
	__u64 reserved[3];	/* out: zero */
};

#define L4_IOC_GATE_INFO	_IOR(L4_IOC_MAGIC, 0x85, struct l4_gate_info)

/*
 * On a space fd. L4_IOC_SET_PAGER: the space's default pager gate (faults
 * of threads that never registered); gate_fd -1 removes it.
 * L4_IOC_THREAD_CONTROL (Thread::control): register the calling Linux
 * thread as an L4 thread of the space with its own pager gate (-1: the
 * space's default pager), or change that later; L4_THREAD_UNREGISTER
 * removes it. thread_id comes back.
 */
struct l4_pager {
	__s32 gate_fd;
	__u32 flags;		/* zero */
	__u64 reserved[2];
};

#define L4_THREAD_UNREGISTER	(1U << 0)
#define L4_THREAD_FLAGS_KNOWN	(L4_THREAD_UNREGISTER)

struct l4_thread_control {
	__s32 pager_fd;		/* in: gate fd, or -1 for the default pager */
	__u32 flags;		/* in: L4_THREAD_* */
	__u64 thread_id;	/* out */
	__u64 reserved[2];
};

#define L4_IOC_SET_PAGER	_IOW(L4_IOC_MAGIC, 0x43, struct l4_pager)
#define L4_IOC_THREAD_CONTROL	_IOWR(L4_IOC_MAGIC, 0x44, struct l4_thread_control)

#endif /* _UAPI_LINUX_L4_H */
