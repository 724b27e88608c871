/* SPDX-License-Identifier: GPL-2.0 */
/*
 * l4u internal objects. The lifetime and locking rules are written down in
 * docs/design.md; the short form:
 *
 *   l4_space   kref. The space file holds one reference (file->private_data);
 *              windows pin the file (vma->vm_file), so a space lives until
 *              its last fd and its last window are gone. The space holds a
 *              reference on its own inode so that revocation can always
 *              reach inode->i_mapping.
 *   l4_frame   one module-allocated page, or one 2 MiB folio (a superpage),
 *              plus the root of its derivation tree; refcount_t users: the
 *              root node holds one, operations that must lock the frame pin
 *              it with another. Its lock is its folio's lock. Freed through
 *              RCU so that lock-free lookups may dereference it; its folio
 *              is put at once (readers take folio references speculatively
 *              and recheck under the folio lock).
 *   l4_node    one entry of one space: (space, page index) -> frame, rights,
 *              for 4 KiB or, mapping a whole superpage, 2 MiB of the space
 *              (one multi-index xarray entry). Stored in space->entries,
 *              linked into its frame's tree; freed through RCU. The root
 *              node is embedded in its frame.
 */
#ifndef _L4U_INTERNAL_H
#define _L4U_INTERNAL_H

#include <linux/atomic.h>
#include <linux/bitfield.h>
#include <linux/completion.h>
#include <linux/refcount.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/mm_types.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/xarray.h>

#include <linux/l4.h>

#define L4_MAPDB_MAX_DEPTH	255

/* a superpage in pages, as an order: 2 MiB / 4 KiB */
#define L4_SUPER_ORDER		(L4_SUPERPAGE_ORDER - PAGE_SHIFT)
#define L4_SUPER_PAGES		(1UL << L4_SUPER_ORDER)

/*
 * Allocations on behalf of a user: charged to its memory cgroup, and never
 * an OOM kill of the user -- a refused charge becomes an error (SIGBUS).
 */
#define L4_GFP_META	(GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL | __GFP_NOWARN)
#define L4_GFP_FRAME	(GFP_HIGHUSER | __GFP_ZERO | __GFP_ACCOUNT | \
			 __GFP_RETRY_MAYFAIL | __GFP_NOWARN)
/* a superpage: no hard reclaim for it, 4 KiB frames are the fallback (THP's way) */
#define L4_GFP_SUPER	(GFP_HIGHUSER | __GFP_ZERO | __GFP_ACCOUNT | __GFP_COMP | \
			 __GFP_NORETRY | __GFP_NOWARN)

struct l4_frame;
struct l4_space;

/*
 * A mapping-database node: one entry of one space, in 32 bytes. A frame's
 * derivation tree is a list of its nodes in pre-order, each with its depth
 * (Fiasco's mapping tree as a list): the subtree of a node is the nodes
 * after it with a greater depth, its children those one deeper. The list
 * and every field but `next` change only under the frame lock; `word` is
 * written whole (WRITE_ONCE), so the lock-free lookups of the fault path
 * (RCU, then a recheck under the frame lock) read one consistent value.
 */
struct l4_node {
	struct l4_node *next;		/* pre-order successor in the tree */
	struct l4_space *space;		/* owner; stable while in the tree */
	struct l4_frame *frame;
	u64 word;			/* L4_NODE_* */
};

#define L4_NODE_RIGHTS		GENMASK_ULL(2, 0)	/* L4_FPAGE_R/W/X */
#define L4_NODE_SUPER		BIT_ULL(3)	/* maps all of a superpage frame */
#define L4_NODE_DEPTH		GENMASK_ULL(11, 4)	/* 0 for the root */
#define L4_NODE_PGOFF		GENMASK_ULL(20, 12)	/* 4 KiB of a superpage: which */
#define L4_NODE_INDEX		GENMASK_ULL(63, 21)	/* page number in the space */

static inline u64 l4_node_word(unsigned long index, unsigned int pgoff,
			       unsigned int order, unsigned int depth, u8 rights)
{
	return FIELD_PREP(L4_NODE_INDEX, index) | FIELD_PREP(L4_NODE_PGOFF, pgoff) |
	       (order ? L4_NODE_SUPER : 0) | FIELD_PREP(L4_NODE_DEPTH, depth) |
	       FIELD_PREP(L4_NODE_RIGHTS, rights);
}

static inline unsigned long l4_node_index(const struct l4_node *node)
{
	return FIELD_GET(L4_NODE_INDEX, READ_ONCE(node->word));
}

static inline u8 l4_node_rights(const struct l4_node *node)
{
	return FIELD_GET(L4_NODE_RIGHTS, READ_ONCE(node->word));
}

static inline unsigned int l4_node_depth(const struct l4_node *node)
{
	return FIELD_GET(L4_NODE_DEPTH, READ_ONCE(node->word));
}

static inline unsigned int l4_node_pgoff(const struct l4_node *node)
{
	return FIELD_GET(L4_NODE_PGOFF, READ_ONCE(node->word));
}

/* 0 for 4 KiB, L4_SUPER_ORDER for a whole superpage */
static inline unsigned int l4_node_order(const struct l4_node *node)
{
	return READ_ONCE(node->word) & L4_NODE_SUPER ? L4_SUPER_ORDER : 0;
}

static inline unsigned long l4_node_pages(const struct l4_node *node)
{
	return 1UL << l4_node_order(node);
}

/* frame lock held: the one writer */
static inline void l4_node_set_rights(struct l4_node *node, u8 rights)
{
	WRITE_ONCE(node->word, (node->word & ~L4_NODE_RIGHTS) |
		   FIELD_PREP(L4_NODE_RIGHTS, rights));
}

static inline void l4_node_set_index(struct l4_node *node, unsigned long index)
{
	WRITE_ONCE(node->word, (node->word & ~L4_NODE_INDEX) |
		   FIELD_PREP(L4_NODE_INDEX, index));
}

/* a fault mapped the frame since unmap last reported on it */
#define L4_FRAME_REFERENCED	0
/* the root is in its slot: set once inserted, cleared (frame lock) on removal */
#define L4_FRAME_LIVE		1

/*
 * 64 bytes. Its lock -- the tree, and every change of a slot that holds
 * one of its nodes -- is the folio lock of its page: a fault validates an
 * entry and installs its PTE under that lock, so a revoker that holds it
 * knows no fault is between the two (the page cache's truncation rule).
 */
struct l4_frame {
	struct l4_node root;		/* first: the head of the tree's list */
	struct page *page;		/* the head page: one module reference */
	unsigned long flags;		/* L4_FRAME_* bits */
	refcount_t users;		/* the root node + pinning operations */
	u64 id;				/* never reused; key of the frame table */
};

/* 0, or L4_SUPER_ORDER for a superpage: its root maps all of it */
static inline unsigned int l4_frame_order(const struct l4_frame *frame)
{
	return l4_node_order(&frame->root);
}

static inline struct folio *l4_frame_folio(const struct l4_frame *frame)
{
	return page_folio(frame->page);
}

/* The frame lock, as an assertion: the folio lock has no lockdep map. */
static inline void l4_frame_assert_locked(const struct l4_frame *frame)
{
	VM_WARN_ON_ONCE(!folio_test_locked(l4_frame_folio(frame)));
}

struct l4_space {
	struct kref ref;
	u64 id;
	u32 flags;			/* L4_SPACE_* */
	kuid_t owner_uid;		/* creator's euid (introspection) */
	struct pid *owner;		/* creating process, one reference */
	unsigned long pages;		/* size in pages */
	unsigned long max_frames;	/* 0: no own limit */
	atomic_long_t frames;		/* frame pages charged to this space */
	atomic_long_t superpages;	/* of them in superpages, each 512 */
	atomic_long_t nodes;		/* entries present */
	atomic_t windows;		/* window vmas, all processes */
	atomic_long_t maps, grants;	/* pages mapped / granted into it */
	atomic_long_t unmaps;		/* unmap calls on it */
	atomic_long_t revoked;		/* its nodes removed or downgraded */
	struct xarray entries;		/* page index -> struct l4_node * */
	struct inode *inode;		/* own inode, one reference */
	bool dead;			/* file released: no new entries */
	struct l4_node *spare_node;	/* made ahead for a map out of it (mapdb.c) */

	/* the threads' xa_lock is the pager lock: it covers these three */
	struct xarray threads;		/* Linux tid -> struct l4_thread * */
	struct l4_gate *default_pager;	/* one reference, or NULL */
	unsigned long prune_cursor;	/* tid where pruning goes on */
	struct xarray verdicts;		/* tid -> xa_value: a fault's outcome */
};

/* A Linux thread registered as an L4 thread of a space (Thread::control). */
struct l4_thread {
	struct pid *pid;		/* one reference: tids get reused */
	struct l4_gate *pager;		/* one reference, or NULL: the default */
	u64 id;
};

/* An IPC endpoint; see gate.c for the lock and state rules. */
struct l4_gate {
	struct kref ref;
	struct xarray inflight;		/* token slot -> l4_ipc; xa_lock: the gate lock */
	struct list_head pending;	/* queued, not yet received */
	wait_queue_head_t wq;		/* receivers, poll */
	u64 next_token;			/* sequence number of the last token */
	bool dead;			/* the last receive fd is gone */
	unsigned long senders;		/* open send-capability files */
	struct l4_ipc *no_senders;	/* the next NO_SENDERS message, ready */
	bool no_senders_queued;		/* one is on the pending list */
	unsigned long wake_ns;		/* its senders' wake-up cost (gate.c) */
	struct l4_ipc *spare;		/* a free message to recycle (gate.c) */
};

/* One message in flight: from a faulter or a caller to a gate. */
struct l4_ipc {
	struct completion done;		/* first: kept when recycled (gate.c) */
	refcount_t ref;			/* the sender, and the gate while queued */
	struct list_head link;
	u64 token;
	int state;
	int error;			/* ours: 0 or -errno (-EPIPE: dead gate) */
	bool notify;			/* a notification: no sender, no reply */
	bool sleeps;			/* the sender sleeps for the answer */
	struct l4_gate *gate;		/* one reference; NULL for a notification */
	/* the message */
	s64 label;
	u32 nwords;
	u64 words[L4_MSG_WORDS];
	u64 space_id, thread_id;
	struct pid *sender;
	struct task_struct *receiver;	/* the first to take it: one reference */
	struct l4_space *rcv_space;	/* one reference, or NULL */
	u64 rcv_window;
	/* the answer */
	u64 done_ns;			/* local_clock() when answered, if it sleeps */
	int status;			/* the server's: 0 or its errno (> 0) */
	s64 reply_label;
	u64 pages;
};

/*
 * Module-wide counters, per CPU (no shared cache line on the fault path),
 * defined in observe.c; stats.c sums them into struct l4_stats, for the
 * ioctl and netlink alike.
 * The live frame count is not here: frame.c keeps it exact (a limit).
 */
struct l4_counters {
	long spaces;
	long nodes;
	long windows;
	long frames_allocated;
	long frames_freed;
	long kernel_faults;
	long limit_faults;
	long maps;
	long grants;
	long unmaps;
	long revoked;
	long gates;
	long threads;
	long messages;
	long replies;
	long pager_faults;
	long faultaround_pages;
};

DECLARE_PER_CPU(struct l4_counters, l4_counters);
#define l4_count_add(field, n)	this_cpu_add(l4_counters.field, (n))
#define l4_count_inc(field)	this_cpu_inc(l4_counters.field)
#define l4_count_dec(field)	this_cpu_dec(l4_counters.field)

/* A map item checked and placed by the flexpage offset rule. */
struct l4_transfer {
	struct l4_space *src, *dst;
	u64 from, to;			/* space addresses */
	unsigned int order;		/* 2^order bytes */
	u8 rights;
	bool grant;
};

/*
 * The files below call each other only one way (checked by
 * scripts/kmod-deps.sh on the object files), from the bottom: observe,
 * trace <- frame <- stats, space <- mapdb <- gate <- thread <- fault <-
 * window <- abi, netlink <- main. Observers (netlink) hang off the core through
 * observe.h; the core never calls them by name.
 */

/* stats.c */
void l4_stats_read(struct l4_stats *st);
struct l4_stat_attr {
	u16 attr;			/* L4_A_ST_* */
	u16 offset;			/* in struct l4_stats */
};
extern const struct l4_stat_attr l4_stat_attrs[];
extern const unsigned int l4_stat_nattrs;

/* frame.c */
extern unsigned long l4_max_frames;
int l4_frame_init(void);
void l4_frame_exit(void);
long l4_frames_live(void);
long l4_superpages_live(void);
struct l4_frame *l4_frame_alloc(struct l4_space *space, unsigned int order);
void l4_frame_uncharge(struct l4_frame *frame, struct l4_space *space);
void l4_frame_move_charge(struct l4_frame *frame, struct l4_space *from,
			  struct l4_space *to);
void l4_frame_put(struct l4_frame *frame);
struct l4_frame *l4_frame_get_id(u64 id);

/* space.c */
int l4_space_init(void);
void l4_space_exit(void);
struct l4_space *l4_space_alloc(u64 size, u64 max_frames, u32 flags);
struct file *l4_space_file(struct l4_space *space,
			   const struct file_operations *fops);
void l4_space_publish(struct l4_space *space);
void l4_space_unpublish(struct l4_space *space);
void l4_space_unreserve(struct l4_space *space);
void l4_space_put(struct l4_space *space);
struct l4_space *l4_space_get_next(u64 *id);

/* mapdb.c */
void l4_space_stock_node(struct l4_space *space);
long l4_map_apply(const struct l4_transfer *t, u64 *pages);
long l4_unmap(struct l4_space *space, u64 addr, unsigned int order, u8 rights,
	      bool self, u64 *access, u64 *revoked);
struct page *l4_space_get_page(struct l4_space *space, unsigned long index,
			       u8 *rights);
struct page *l4_space_trylock_page(struct l4_space *space, unsigned long index,
				   u8 rights, u8 *have, u8 *order);
bool l4_space_access_page(struct l4_space *space, unsigned long index,
			  struct page *page, u8 rights, u8 *order);
int l4_sigma0_populate(struct l4_space *space, unsigned long index);
void l4_space_flush_all(struct l4_space *space);
struct l4_node *l4_slot_lock(struct l4_space *space, unsigned long index,
			     bool killable);
int l4_frame_lock_killable(struct l4_frame *frame);
void l4_frame_unlock_only(struct l4_frame *frame);
void l4_frame_unlock(struct l4_frame *frame);
struct l4_node *l4_tree_next(struct l4_node *top, struct l4_node *node);
struct l4_node *l4_node_parent(struct l4_node *node);

/* gate.c */
extern unsigned int l4_spin_ns;
extern unsigned long l4_wake_ns;
extern unsigned int l4_max_inflight;
struct l4_gate *l4_gate_alloc(void);
void l4_gate_get(struct l4_gate *gate);
void l4_gate_put(struct l4_gate *gate);
void l4_gate_kill(struct l4_gate *gate);
struct l4_ipc *l4_ipc_alloc(struct l4_gate *gate);
struct l4_ipc *l4_ipc_alloc_notify(void);
void l4_ipc_put(struct l4_ipc *ipc);
int l4_gate_send(struct l4_gate *gate, struct l4_ipc *ipc);
bool l4_gate_spin(struct l4_gate *gate, struct l4_ipc *ipc);
int l4_gate_sleep(struct l4_gate *gate, struct l4_ipc *ipc, unsigned int state,
		  long timeout);
int l4_gate_wait(struct l4_gate *gate, struct l4_ipc *ipc, unsigned int state,
		 long timeout);
struct l4_ipc *l4_gate_receive(struct l4_gate *gate, bool nonblock);
void l4_gate_delivered(struct l4_ipc *ipc);
void l4_gate_unreceive(struct l4_gate *gate, struct l4_ipc *ipc);
struct l4_ipc *l4_gate_claim(struct l4_gate *gate, u64 token,
			     int (*accept)(const struct l4_ipc *ipc, void *arg),
			     void *arg);
void l4_gate_answer(struct l4_ipc *ipc);
bool l4_gate_readable(struct l4_gate *gate);
bool l4_gate_dead(struct l4_gate *gate);
wait_queue_head_t *l4_gate_waitq(struct l4_gate *gate);
void l4_gate_info(struct l4_gate *gate, struct l4_gate_info *info);
int l4_gate_sender_add(struct l4_gate *gate, struct l4_ipc **notify);
void l4_gate_sender_drop(struct l4_gate *gate, bool never_was);

/* thread.c */
void l4_space_set_pager(struct l4_space *space, struct l4_gate *gate);
int l4_thread_register(struct l4_space *space, struct l4_gate *pager,
		       u64 *thread_id);
int l4_thread_unregister(struct l4_space *space, u64 *thread_id);
struct l4_gate *l4_pager_get(struct l4_space *space, u64 *thread_id);
bool l4_pager_exists(struct l4_space *space);
bool l4_space_has_default_pager(struct l4_space *space);
void l4_space_release_threads(struct l4_space *space);

/* fault.c */
vm_fault_t l4_fault_to_pager(struct vm_fault *vmf, u8 rights, bool present,
			      bool hold);
vm_fault_t l4_fault_verdict(struct vm_fault *vmf);
bool l4_fault_has_pager(struct l4_space *space);

/* window.c */
int l4_window_mmap(struct l4_space *space, struct vm_area_struct *vma);

/* abi.c: the files and their ioctls */
extern const struct file_operations l4_dev_fops;

/* netlink.c: introspection and events, an observer (observe.h) */
int l4_netlink_init(void);
void l4_netlink_exit(void);

#endif /* _L4U_INTERNAL_H */
