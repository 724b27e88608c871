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
#define L4_ABI_MINOR		1

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

/* ------------------------------------------------------------------ */
/* /dev/l4 ioctls                                                      */
/* ------------------------------------------------------------------ */

/* Feature bits reported by L4_IOC_VERSION. */
#define L4_FEAT_SPACES		(1ULL << 0)	/* spaces, windows */
#define L4_FEAT_SIGMA0		(1ULL << 1)	/* sigma0-backed spaces */
#define L4_FEATURES_KNOWN	(L4_FEAT_SPACES | L4_FEAT_SIGMA0)

struct l4_version {
	__u32 major;		/* out: L4_ABI_MAJOR of the module */
	__u32 minor;		/* out: L4_ABI_MINOR of the module */
	__u64 features;		/* out: L4_FEAT_* */
	__u64 reserved[2];	/* out: zero */
};

/* Space creation flags. */
#define L4_SPACE_SIGMA0		(1U << 0)	/* first touch gets a zeroed frame */
#define L4_SPACE_FLAGS_KNOWN	(L4_SPACE_SIGMA0)

/* The largest space: 2^47 bytes, a user half of x86-64. */
#define L4_SPACE_MAX_SIZE	(1ULL << 47)

struct l4_space_create {
	__u64 size;		/* in: bytes, a multiple of 4096, 1 .. L4_SPACE_MAX_SIZE */
	__u64 max_frames;	/* in: frame limit of this space; 0 = no own limit */
	__u32 flags;		/* in: L4_SPACE_* */
	__u32 pad;		/* in: zero */
	__u64 id;		/* out: the space's id (never reused while loaded) */
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
	__u64 reserved[7];	/* out: zero */
};

/* on /dev/l4 */
#define L4_IOC_VERSION		_IOR(L4_IOC_MAGIC, 0x00, struct l4_version)
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
	__u64 frames;		/* frames this space's sigma0 allocated, live */
	__u64 nodes;		/* pages present in the space */
	__u64 windows;		/* window vmas onto the space, all processes */
	__u32 flags;		/* L4_SPACE_* given at creation */
	__u32 pad;		/* zero */
	__u64 reserved[5];	/* zero */
};

#define L4_IOC_SPACE_INFO	_IOR(L4_IOC_MAGIC, 0x40, struct l4_space_info)

/*
 * Windows: mmap(MAP_SHARED) of a space fd; the file offset is the space
 * address. Errors of mmap on a space fd:
 *   EINVAL  MAP_PRIVATE (a window is always shared)
 *   ENXIO   the range lies (partly) outside the space
 * Faults in a window:
 *   SIGBUS  the page is absent and the space has no pager, or a frame
 *           limit (per space, global module parameter max_frames, or the
 *           toucher's memory cgroup) refused a frame
 */

#endif /* _UAPI_LINUX_L4_H */
