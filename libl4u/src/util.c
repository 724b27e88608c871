// SPDX-License-Identifier: MIT
/* Flexpages over arbitrary ranges; a gate server loop. */
#include <errno.h>
#include <string.h>

#include "l4u/l4u.h"
#include "l4u/util.h"

int l4u_unmap_range(int space, uint64_t lo, uint64_t hi, unsigned int rights,
		    uint32_t flags, uint64_t *revoked)
{
	uint64_t sum = 0;
	int ret = 0;

	if ((lo | hi) & ((1ULL << L4_FPAGE_MIN_ORDER) - 1) || lo >= hi)
		return -EINVAL;
	while (lo < hi) {
		unsigned int k = l4u_fpage_order_fit(lo, lo, hi);
		uint64_t n = 0;

		ret = l4u_unmap(space, L4_FPAGE(lo, k, rights), flags, &n, NULL);
		sum += n;
		if (ret)
			break;
		lo += 1ULL << k;
	}
	if (revoked)
		*revoked = sum;
	return ret;
}

int l4u_gate_serve(int gate, l4u_gate_serve_fn fn, void *arg)
{
	struct l4_reply_wait rw;
	int ret, stop;

	if (!fn)
		return -EINVAL;
	memset(&rw, 0, sizeof(rw));
	for (;;) {
		ret = l4u_reply_wait(gate, &rw);
		if (ret) {
			/*
			 * Either the reply was refused (nothing received) or
			 * the receive failed after it went out: in both cases
			 * the reply is done with; try receiving alone.
			 */
			if (rw.reply.token || ret == -EINTR) {
				memset(&rw.reply, 0, sizeof(rw.reply));
				continue;
			}
			return ret;
		}
		l4u_reply_init(&rw.reply, &rw.msg);
		ret = fn(arg, &rw.msg, &rw.reply);
		if (ret < 0)
			return ret;
		stop = ret == L4U_GATE_SERVE_STOP;
		if (ret == L4U_GATE_SERVE_NO_REPLY || !rw.msg.token)
			rw.reply.token = 0;
		if (stop) {
			if (rw.reply.token)
				l4u_reply(gate, &rw.reply);
			return 0;
		}
	}
}
