// SPDX-License-Identifier: GPL-2.0
/*
 * What the core's observers read: the counters (summed by stats.c), the
 * dumps' generation and the registered observer (observe.h).
 */
#include "observe.h"

DEFINE_PER_CPU(struct l4_counters, l4_counters);

struct l4_observer l4_observer;
atomic_t l4_generation = ATOMIC_INIT(1);

/*
 * Set at module load before /dev/l4 exists and cleared at unload after it
 * is gone (no space or gate left): no event can race either.
 */
void l4_observer_register(const struct l4_observer_ops *ops, struct sock *sk,
			  unsigned int group)
{
	l4_observer.sk = sk;
	l4_observer.group = group;
	WRITE_ONCE(l4_observer.ops, ops);
}

void l4_observer_unregister(void)
{
	WRITE_ONCE(l4_observer.ops, NULL);
}
