// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/l4 itself: the ABI version and the global counters.
 */
#include "l4_test_util.h"

L4T_FIXTURE(version);

TEST_F(version, device_node)
{
	struct stat st;

	ASSERT_EQ(0, stat(L4_DEVICE_PATH, &st));
	ASSERT_TRUE(S_ISCHR(st.st_mode));
}

TEST_F(version, abi_version)
{
	struct l4_version v;

	memset(&v, 0xa5, sizeof(v));
	ASSERT_EQ(0, ioctl(self->dev, L4_IOC_VERSION, &v));
	EXPECT_EQ((__u32)L4_ABI_MAJOR, v.major);
	EXPECT_EQ((__u32)L4_ABI_MINOR, v.minor);
	EXPECT_EQ(L4_FEAT_SPACES | L4_FEAT_SIGMA0,
		  v.features & (L4_FEAT_SPACES | L4_FEAT_SIGMA0));
	/* same minor as this header: no feature it does not know */
	EXPECT_EQ(0ULL, v.features & ~L4_FEATURES_KNOWN);
	EXPECT_EQ(0ULL, v.reserved[0]);
	EXPECT_EQ(0ULL, v.reserved[1]);
}

TEST_F(version, stats_consistent)
{
	struct l4_stats st;
	__u64 max;
	size_t i;

	ASSERT_EQ(0, l4t_stats(self->dev, &st));
	for (i = 0; i < ARRAY_SIZE(st.reserved); i++)
		EXPECT_EQ(0ULL, st.reserved[i]);
	EXPECT_EQ(st.frames, st.frames_allocated - st.frames_freed);
	EXPECT_LE(st.frames, st.max_frames);
	ASSERT_EQ(0, l4t_read_u64(L4T_PARAM_MAX_FRAMES, &max));
	EXPECT_EQ(max, st.max_frames);
}

/* The counters follow one space through its life. */
TEST_F(version, stats_follow_a_space)
{
	struct l4_stats *b = &self->before, st;
	char *win;
	int fd;

	fd = l4t_space_window(self->dev, 8, 0, L4_SPACE_SIGMA0, &win);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, l4t_stats(self->dev, &st));
	ASSERT_LIVE(b, &st, 1, 0, 0, 1);

	ASSERT_TOUCH(win, 3, L4T_WRITE);
	ASSERT_EQ(0, l4t_stats(self->dev, &st));
	ASSERT_LIVE(b, &st, 1, 3, 3, 1);
	EXPECT_EQ(b->frames_allocated + 3, st.frames_allocated);
	EXPECT_EQ(b->frames_freed, st.frames_freed);
	EXPECT_LE(b->kernel_faults + 3, st.kernel_faults);
	EXPECT_EQ(b->limit_faults, st.limit_faults);

	ASSERT_EQ(0, munmap(win, 8 * L4T_PAGE));
	ASSERT_EQ(0, l4t_stats(self->dev, &st));
	ASSERT_LIVE(b, &st, 1, 3, 3, 0);

	ASSERT_EQ(0, close(fd));
	ASSERT_SETTLED(self->dev, b, &st);
	EXPECT_EQ(b->frames_allocated + 3, st.frames_allocated);
	EXPECT_EQ(b->frames_freed + 3, st.frames_freed);
}

TEST_HARNESS_MAIN
