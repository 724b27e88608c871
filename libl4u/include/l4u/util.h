/* SPDX-License-Identifier: MIT */
/*
 * libl4u helpers: flexpage arithmetic over arbitrary ranges, and a gate
 * server loop (reply-and-wait around a handler).
 */
#ifndef L4U_UTIL_H
#define L4U_UTIL_H

#include <stdint.h>
#include <linux/l4.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- flexpages ------------------------------------------------------------ */

/*
 * The order of the largest size-aligned flexpage that contains @addr and
 * lies entirely in [@lo, @hi) (at most 47); 0 if not even @addr's page
 * does. The receive window a pager offers for a fault at @addr in a
 * region [@lo, @hi).
 */
static inline unsigned int l4u_fpage_order_fit(uint64_t addr, uint64_t lo,
					       uint64_t hi)
{
	unsigned int k = L4_FPAGE_MIN_ORDER;
	uint64_t page = addr & ~((1ULL << k) - 1);

	if (addr < lo || addr >= hi || page < lo || hi - page < (1ULL << k))
		return 0;
	while (k < 47) {
		uint64_t s = 1ULL << (k + 1);
		uint64_t b = addr & ~(s - 1);

		if (b < lo || hi - b < s)
			break;
		k++;
	}
	return k;
}

/* That flexpage, with @rights; 0 (no flexpage) if none fits. */
static inline uint64_t l4u_fpage_fit(uint64_t addr, uint64_t lo, uint64_t hi,
				     unsigned int rights)
{
	unsigned int k = l4u_fpage_order_fit(addr, lo, hi);

	return k ? L4_FPAGE(addr & ~((1ULL << k) - 1), k, rights) : 0;
}

/*
 * l4u_unmap() over [@lo, @hi) (page-aligned), as the fewest aligned
 * flexpages; *@revoked (if non-NULL) sums what each call revoked. Stops at
 * the first error. -EINVAL for an unaligned or empty range.
 */
int l4u_unmap_range(int space, uint64_t lo, uint64_t hi, unsigned int rights,
		    uint32_t flags, uint64_t *revoked);

/* ---- a gate server loop ------------------------------------------------------ */

/* What a handler returns (besides 0: send the reply as filled in). */
#define L4U_GATE_SERVE_NO_REPLY	1	/* do not answer this message (yet) */
#define L4U_GATE_SERVE_STOP	2	/* send the reply, then return 0 */

/*
 * Called for each message with @reply initialized for it (token set,
 * nothing else): fill in words, map items (l4u_reply_map()) or
 * reply->error. Return 0, L4U_GATE_SERVE_NO_REPLY, L4U_GATE_SERVE_STOP,
 * or -errno to make l4u_gate_serve() return that (without replying).
 * Notifications (token 0, e.g. L4_LABEL_NO_SENDERS) come with a reply that
 * is not sent.
 */
typedef int (*l4u_gate_serve_fn)(void *arg, const struct l4_msg *msg,
				 struct l4_reply *reply);

/*
 * Serve @gate: receive, call @fn, reply and receive the next message in
 * one system call (l4u_reply_wait()). A reply the kernel refuses (e.g. its
 * sender left) is dropped and serving goes on. Returns 0 after
 * L4U_GATE_SERVE_STOP, the handler's -errno, or the error that made
 * receiving impossible (e.g. -EAGAIN on an O_NONBLOCK gate with nothing queued).
 */
int l4u_gate_serve(int gate, l4u_gate_serve_fn fn, void *arg);

#ifdef __cplusplus
}
#endif

#endif /* L4U_UTIL_H */
