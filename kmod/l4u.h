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
 *   l4_frame   one module-allocated page plus the root of its derivation
 *              tree; refcount_t users: the root node holds one, operations
 *              that must lock the frame pin it with another. Freed through
 *              RCU so that lock-free lookups may dereference it; its page is
 *              put at once (readers take page references speculatively and
 *              recheck under the page lock).
 *   l4_node    one entry of one space: (space, page index) -> frame, rights.
 *              Stored in space->entries, linked into its frame's tree; freed
 *              through RCU. The root node is embedded in its frame.
 */
#ifndef _L4U_INTERNAL_H
#define _L4U_INTERNAL_H

#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/refcount.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mm_types.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/xarray.h>

#include <linux/l4.h>

#define L4_MAPDB_MAX_DEPTH	255

/*
 * Allocations on behalf of a user: charged to its memory cgroup, and never
 * an OOM kill of the user -- a refused charge becomes an error (SIGBUS).
 */
#define L4_GFP_META	(GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL | __GFP_NOWARN)
#define L4_GFP_FRAME	(GFP_HIGHUSER | __GFP_ZERO | __GFP_ACCOUNT | \
			 __GFP_RETRY_MAYFAIL | __GFP_NOWARN)

struct l4_frame;
struct l4_space;

/*
 * A mapping-database node: one page of one space. Nodes of one frame form
 * its derivation tree (parent/children), protected by frame->lock. The
 * space's xarray slot points to the node; lookups on the fault path read it
 * under RCU and recheck under the page lock.
 */
struct l4_node {
	struct l4_frame *frame;
	struct l4_space *space;		/* owner; stable while in the tree */
	unsigned long index;		/* page number in the space */
	struct l4_node *parent;		/* NULL for the root (sigma0's) */
	struct list_head children;	/* derived nodes */
	struct list_head sibling;	/* entry in parent->children */
	u8 rights;			/* L4_FPAGE_R/W/X */
	u8 depth;			/* 0 for the root, <= L4_MAPDB_MAX_DEPTH */
	struct rcu_head rcu;
};

/* a fault mapped the frame since unmap last reported on it */
#define L4_FRAME_REFERENCED	0
/* the root is in its slot: set once inserted, cleared (frame lock) on removal */
#define L4_FRAME_LIVE		1

struct l4_frame {
	struct page *page;		/* one module reference */
	refcount_t users;		/* the root node + pinning operations */
	unsigned long flags;		/* L4_FRAME_* bits */
	u64 id;				/* never reused; key of the frame table */
	struct mutex lock;		/* the derivation tree of this frame */
	struct rcu_head rcu;
	struct l4_node root;		/* root->space is charged for the frame */
};

struct l4_space {
	struct kref ref;
	u64 id;
	u32 flags;			/* L4_SPACE_* */
	kuid_t owner_uid;		/* creator's euid (introspection) */
	struct pid *owner;		/* creating process, one reference */
	unsigned long pages;		/* size in pages */
	unsigned long max_frames;	/* 0: no own limit */
	atomic_long_t frames;		/* frames charged to this space */
	atomic_long_t nodes;		/* entries present */
	atomic_t windows;		/* window vmas, all processes */
	atomic_long_t maps, grants;	/* pages mapped / granted into it */
	atomic_long_t unmaps;		/* unmap calls on it */
	atomic_long_t revoked;		/* its nodes removed or downgraded */
	struct xarray entries;		/* page index -> struct l4_node * */
	struct inode *inode;		/* own inode, one reference */
	bool dead;			/* file released: no new entries */

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
};

/* One message in flight: from a faulter or a caller to a gate. */
struct l4_ipc {
	struct completion done;		/* first: kept when recycled (gate.c) */
	refcount_t ref;			/* the sender, and the gate while queued */
	struct list_head link;
	u64 token;
	int state;
	int error;			/* >0 the reply's errno, <0 ours */
	bool notify;			/* a notification: no sender, no reply */
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
	u64 done_ns;			/* local_clock() when answered */
	s64 reply_label;
	u64 pages;
};

/* Module-wide counters (struct l4_stats). */
struct l4_counters {
	atomic_long_t spaces;
	atomic_long_t frames;
	atomic_long_t nodes;
	atomic_long_t windows;
	atomic_long_t frames_allocated;
	atomic_long_t frames_freed;
	atomic_long_t kernel_faults;
	atomic_long_t limit_faults;
	atomic_long_t maps;
	atomic_long_t grants;
	atomic_long_t unmaps;
	atomic_long_t revoked;
	atomic_long_t gates;
	atomic_long_t threads;
	atomic_long_t messages;
	atomic_long_t replies;
	atomic_long_t pager_faults;
	atomic_long_t faultaround_pages;
};

extern struct l4_counters l4_counters;
extern unsigned long l4_max_frames;
extern unsigned int l4_spin_ns;
extern unsigned long l4_wake_ns;
extern unsigned int l4_max_inflight;

/* space.c */
int l4_space_init(void);
void l4_space_exit(void);
long l4_space_create_ioctl(struct l4_space_create __user *uarg);
void l4_space_put(struct l4_space *space);
struct l4_space *l4_space_from_file(struct file *file);
struct l4_space *l4_space_get_next(u64 *id);

/* gate.c */
void l4_gate_exit(void);
long l4_gate_create_ioctl(unsigned long arg);
struct l4_gate *l4_gate_get_fd(int fd);
void l4_gate_put(struct l4_gate *gate);
struct l4_ipc *l4_ipc_alloc(void);
void l4_ipc_put(struct l4_ipc *ipc);
int l4_gate_send(struct l4_gate *gate, struct l4_ipc *ipc);
int l4_gate_wait(struct l4_gate *gate, struct l4_ipc *ipc, unsigned int state,
		 long timeout);

/* thread.c */
long l4_set_pager_ioctl(struct l4_space *space, struct l4_pager __user *uarg);
long l4_thread_control_ioctl(struct l4_space *space,
			     struct l4_thread_control __user *uarg);
struct l4_gate *l4_pager_get(struct l4_space *space, u64 *thread_id);
bool l4_pager_exists(struct l4_space *space);
void l4_space_release_threads(struct l4_space *space);

/* fault.c */
vm_fault_t l4_fault_to_pager(struct vm_fault *vmf, u8 rights, bool present);
vm_fault_t l4_fault_verdict(struct vm_fault *vmf);

/* window.c */
extern const struct vm_operations_struct l4_window_vm_ops;
int l4_window_mmap(struct l4_space *space, struct vm_area_struct *vma);

/* frame.c */
int l4_frame_init(void);
void l4_frame_exit(void);
struct l4_frame *l4_frame_alloc(struct l4_space *space);
void l4_frame_put(struct l4_frame *frame);
struct l4_frame *l4_frame_get_id(u64 id);

/* A map item checked and placed by the flexpage offset rule. */
struct l4_transfer {
	struct l4_space *src, *dst;
	u64 from, to;			/* space addresses */
	unsigned int order;		/* 2^order bytes */
	u8 rights;
	bool grant;
};

/* mapdb.c */
bool l4_reserved_zero(const u64 *r, int n);
int l4_fpage_range(u64 fpage, struct l4_space *space, bool whole,
		   u64 *addr, unsigned int *order);
int l4_map_prepare(struct l4_space *src, struct l4_space *dst,
		   const struct l4_map_item *item, u64 rcv_fpage,
		   struct l4_transfer *t);
long l4_map_apply(const struct l4_transfer *t, u64 *pages);
struct page *l4_space_get_page(struct l4_space *space, unsigned long index,
			       u8 *rights);
struct page *l4_space_trylock_page(struct l4_space *space, unsigned long index,
				   u8 rights, u8 *have);
bool l4_space_access_page(struct l4_space *space, unsigned long index,
			  struct page *page, u8 rights);
int l4_sigma0_populate(struct l4_space *space, unsigned long index);
void l4_space_flush_all(struct l4_space *space);
int l4_mapdb_init(void);
void l4_mapdb_exit(void);
long l4_map_ioctl(struct l4_space *dst, struct l4_map __user *uarg);
long l4_unmap_ioctl(struct l4_space *space, struct l4_unmap __user *uarg);
struct l4_node *l4_slot_lock(struct l4_space *space, unsigned long index,
			     bool killable);
void l4_frame_unlock(struct l4_frame *frame);
struct l4_node *l4_tree_next(struct l4_node *top, struct l4_node *node);

/* netlink.c: introspection, events (and their tracepoints) */
extern atomic_t l4_generation;	/* bumped by every change dumps can see */
int l4_netlink_init(void);
void l4_netlink_exit(void);
int l4_ev_owner_add(kuid_t uid);
void l4_ev_space(struct l4_space *space, bool create);
void l4_ev_fault(struct l4_space *space, u64 word0, u64 thread_id);
void l4_ev_reply(const struct l4_ipc *ipc, int error);
void l4_ev_map(const struct l4_transfer *t, u64 pages);
void l4_ev_unmap(struct l4_space *space, u64 addr, unsigned int order,
		 u8 rights, u64 revoked);
void l4_ev_revoke(const struct l4_node *node, u8 rights_left);

#endif /* _L4U_INTERNAL_H */
