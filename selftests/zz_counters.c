// SPDX-License-Identifier: GPL-2.0
/*
 * Runs last: after the whole suite nothing of the module may be left in
 * use -- no space, frame, mapping node or window.
 */
#include "l4_test_util.h"

L4T_FIXTURE(zz_counters);

TEST_F(zz_counters, nothing_leaked)
{
	const struct l4_stats zero = { 0 };
	struct l4_stats st;
	size_t i;

	if (l4t_stats_settle(self->dev, &zero, &st))
		TH_LOG("still live after the suite");
	EXPECT_EQ(0ULL, st.spaces);
	EXPECT_EQ(0ULL, st.frames);
	EXPECT_EQ(0ULL, st.nodes);
	EXPECT_EQ(0ULL, st.windows);
	EXPECT_EQ(st.frames_allocated, st.frames_freed);
	for (i = 0; i < ARRAY_SIZE(st.reserved); i++)
		EXPECT_EQ(0ULL, st.reserved[i]);
	TH_LOG("frames allocated %llu, kernel faults %llu, limit faults %llu",
	       st.frames_allocated, st.kernel_faults, st.limit_faults);
}

TEST_HARNESS_MAIN
