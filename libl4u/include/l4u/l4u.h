/* SPDX-License-Identifier: MIT */
/*
 * libl4u: the C library over /dev/l4 (uapi/linux/l4.h).
 *
 * Every function returns 0 (or a non-negative fd) on success and -errno on
 * failure; none of them touches errno's value visibly to the caller.
 * A space is an fd (a capability): pass it over fork or SCM_RIGHTS to share.
 */
#ifndef L4U_L4U_H
#define L4U_L4U_H

#include <stddef.h>
#include <errno.h>
#include <stdint.h>
#include <linux/l4.h>

#ifdef __cplusplus
extern "C" {
#endif

#define L4U_VERSION_MAJOR	0
#define L4U_VERSION_MINOR	1
#define L4U_VERSION_PATCH	0
#define L4U_CHECK_VERSION(major, minor)					\
	(L4U_VERSION_MAJOR > (major) ||					\
	 (L4U_VERSION_MAJOR == (major) && L4U_VERSION_MINOR >= (minor)))

/* Open /dev/l4 (O_RDWR | O_CLOEXEC) and check that its ABI major matches. */
int l4u_open(void);

/*
 * What to tell the user when l4u_open() failed with @err: for -EACCES
 * "permission denied: join group l4 (see README)", for -ENOENT "no such
 * device: load the module: modprobe l4", for -EPROTO the ABI mismatch,
 * else strerror(-@err). Every l4u program prints this.
 */
const char *l4u_open_strerror(int err);

int l4u_version(int dev, struct l4_version *v);
int l4u_stats(int dev, struct l4_stats *st);

/*
 * Read or write l4.ko's module parameter @name (max_frames, spin_ns) through
 * /sys/module/l4/parameters; writing needs root.
 */
int l4u_param_get(const char *name, long long *value);
int l4u_param_set(const char *name, long long value);

/*
 * Create a space of @size bytes. @flags: L4_SPACE_*; @max_frames: its own
 * frame limit (0: none). Returns the space fd; *@id gets its id if @id.
 */
int l4u_space_create(int dev, uint64_t size, uint32_t flags,
		     uint64_t max_frames, uint64_t *id);
int l4u_space_info(int space, struct l4_space_info *info);

/*
 * Open a window of @len bytes onto space address @addr with @prot
 * (PROT_READ/PROT_WRITE/PROT_EXEC). With @at non-NULL the window is placed
 * at @at exactly (MAP_FIXED_NOREPLACE); pass @at == (void *)@addr to make
 * space addresses equal virtual addresses. The window's address goes to
 * *@win.
 */
int l4u_window_open(int space, uint64_t addr, size_t len, int prot,
		    void *at, void **win);
int l4u_window_close(void *win, size_t len);

/*
 * Map (or, with @grant, grant) send flexpage @fpage of space @src, with hot
 * spot @base, into receive window @rcv of space @dst (L4::Task::map).
 * *@dst_addr / *@pages (if non-NULL) tell where it landed and how many
 * pages were mapped.
 */
int l4u_map(int dst, int src, uint64_t fpage, uint64_t base, int grant,
	    uint64_t rcv, uint64_t *dst_addr, uint64_t *pages);

/*
 * Revoke the rights in @fpage from what was derived from @space's entries
 * in that range (and from the entries themselves with L4_UNMAP_ALL_SPACES).
 * *@revoked: nodes hit; *@access: L4_FPAGE_R referenced, L4_FPAGE_W dirty.
 */
int l4u_unmap(int space, uint64_t fpage, uint32_t flags, uint64_t *revoked,
	      uint64_t *access);

/* ---- gates and pagers ------------------------------------------------ */

/* A new gate (IPC endpoint); returns its fd (the receive end). */
int l4u_gate_create(int dev);

/*
 * A send capability of @gate (a receive fd or another send capability):
 * an fd that can call the gate and be named as a pager, but not receive.
 * Hand it to clients; the gate still dies with its last receive fd, and
 * receives an L4_LABEL_NO_SENDERS message when its last send capability
 * closes. Returns the new fd.
 */
int l4u_gate_send_cap(int gate);

/*
 * What waits at @gate (a receive fd or a send capability) now, and the
 * gate's own estimate of a sleeping sender's wake-up (how long its
 * senders spin).
 */
int l4u_gate_info(int gate, struct l4_gate_info *info);

/* Receive one message (blocks unless the fd is O_NONBLOCK: -EAGAIN). */
int l4u_recv(int gate, struct l4_msg *msg);

/* Answer a message: l4u_reply_init() + l4u_reply_map() build the reply. */
int l4u_reply(int gate, const struct l4_reply *reply);

/*
 * Reply (unless rw->reply.token is 0) and receive the next message into
 * rw->msg, in one system call: a pager's steady state.
 */
int l4u_reply_wait(int gate, struct l4_reply_wait *rw);

static inline void l4u_reply_init(struct l4_reply *r, const struct l4_msg *msg)
{
	*r = (struct l4_reply){ .token = msg->token };
}

/* Add a map (or grant) item: send fpage @fpage of space @src, hot spot @base. */
static inline int l4u_reply_map(struct l4_reply *r, int src, uint64_t fpage,
				uint64_t base, int grant)
{
	if (r->nitems >= L4_MSG_ITEMS)
		return -E2BIG;
	r->items[r->nitems++] = (struct l4_reply_item){
		.src_fd	= src,
		.item	= { L4_MAP_ITEM(base, grant), fpage },
	};
	return 0;
}

/*
 * Call @gate with @call (label, words; rcv_space_fd -1 or a space with
 * rcv_window) and wait for the reply, which comes back in @call.
 */
int l4u_call(int gate, struct l4_call *call);

/* Make @gate the space's default pager (-1: none). */
int l4u_space_set_pager(int space, int gate);

/*
 * Bind the calling thread to @space as an L4 thread with pager @gate (-1:
 * the space's default pager), or change the pager of a bound one
 * (Thread::control); *@thread_id if non-NULL. Unbind it again.
 * (L4 threads of a task are struct l4u_thread, l4u/task.h.)
 */
int l4u_space_bind_thread(int space, int gate, uint64_t *thread_id);
int l4u_space_unbind_thread(int space);

/* Human-readable name of an L4_FPAGE_* rights mask, e.g. "rw-". */
const char *l4u_rights_str(unsigned int rights, char buf[4]);

#ifdef __cplusplus
}
#endif

#endif /* L4U_L4U_H */
