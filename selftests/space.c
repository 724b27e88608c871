// SPDX-License-Identifier: GPL-2.0
/*
 * Spaces: creation, the space fd, SPACE_INFO, lifetime, and many spaces
 * made and destroyed in a row.
 */
#include "l4_test_util.h"

L4T_FIXTURE(space);

TEST_F(space, fd_flags)
{
	struct l4_space_info info;
	int fd, dup_fd, fl;
	__u64 id;

	fd = l4t_create(self->dev, 4 * L4T_PAGE, 0, L4_SPACE_SIGMA0, &id);
	ASSERT_LE(0, fd);
	fl = fcntl(fd, F_GETFD);
	ASSERT_LE(0, fl);
	EXPECT_EQ(FD_CLOEXEC, fl & FD_CLOEXEC);
	fl = fcntl(fd, F_GETFL);
	ASSERT_LE(0, fl);
	EXPECT_EQ(O_RDWR, fl & O_ACCMODE);

	/* the space fd does not need /dev/l4, nor its first fd */
	ASSERT_EQ(0, close(self->dev));
	dup_fd = dup(fd);
	ASSERT_LE(0, dup_fd);
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, l4t_info(dup_fd, &info));
	EXPECT_EQ(id, info.id);
	ASSERT_EQ(0, close(dup_fd));
}

TEST_F(space, ids_distinct)
{
	enum { N = 24 };
	__u64 ids[N];
	int fds[N];
	int i, j;

	/* half of them closed before the rest exist: ids are never reused */
	for (i = 0; i < N; i++) {
		fds[i] = l4t_create(self->dev, L4T_PAGE, 0, 0, &ids[i]);
		ASSERT_LE(0, fds[i]);
		if (i < N / 2 && i % 2 == 0)
			ASSERT_EQ(0, close(fds[i]));
	}
	for (i = 0; i < N; i++)
		for (j = 0; j < i; j++)
			EXPECT_NE(ids[j], ids[i]) TH_LOG("spaces %d, %d", j, i);
	for (i = 0; i < N; i++)
		if (i >= N / 2 || i % 2)
			ASSERT_EQ(0, close(fds[i]));
}

TEST_F(space, info_as_created)
{
	static const struct l4_space_create reqs[] = {
		{ .size = 4096 },
		{ .size = 4096, .flags = L4_SPACE_SIGMA0 },
		{ .size = 16 * 4096, .max_frames = 5, .flags = L4_SPACE_SIGMA0 },
		{ .size = 1ULL << 30, .max_frames = 1 },
		{ .size = L4_SPACE_MAX_SIZE, .max_frames = ~0ULL,
		  .flags = L4_SPACE_SIGMA0 },
	};
	struct l4_space_info info;
	size_t i;
	__u64 id;
	int fd;

	for (i = 0; i < ARRAY_SIZE(reqs); i++) {
		fd = l4t_create(self->dev, reqs[i].size, reqs[i].max_frames,
				reqs[i].flags, &id);
		ASSERT_LE(0, fd) TH_LOG("request %zu", i);
		ASSERT_EQ(0, l4t_info(fd, &info));
		EXPECT_EQ(id, info.id);
		EXPECT_EQ(reqs[i].size, info.size);
		EXPECT_EQ(reqs[i].max_frames, info.max_frames);
		EXPECT_EQ(reqs[i].flags, info.flags);
		EXPECT_EQ(0ULL, info.frames);
		EXPECT_EQ(0ULL, info.nodes);
		EXPECT_EQ(0ULL, info.windows);
		EXPECT_EQ(0U, info.pad);
		EXPECT_EQ(0ULL, info.superpages);
		ASSERT_EQ(0, close(fd));
	}
}

/* frames and nodes count the distinct pages touched, by reads or writes. */
TEST_F(space, info_counts_touched_pages)
{
	static const size_t reads[] = { 0, 3, 7, 40 }, writes[] = { 10, 11, 63 };
	struct l4_space_info info;
	struct l4_stats st;
	char *win, *win2;
	size_t i;
	int fd;

	fd = l4t_space_window(self->dev, 64, 0, L4_SPACE_SIGMA0, &win);
	ASSERT_LE(0, fd);
	for (i = 0; i < ARRAY_SIZE(reads); i++)
		ASSERT_TOUCH(win + reads[i] * L4T_PAGE, 1, L4T_READ);
	for (i = 0; i < ARRAY_SIZE(writes); i++)
		ASSERT_TOUCH(win + writes[i] * L4T_PAGE, 1, L4T_WRITE);
	/* again, and through a second window: no new frames */
	win2 = l4t_map(fd, 0, 64 * L4T_PAGE);
	ASSERT_NE(MAP_FAILED, win2);
	ASSERT_TOUCH(win + 3 * L4T_PAGE, 1, L4T_WRITE);
	ASSERT_TOUCH(win2 + 10 * L4T_PAGE, 1, L4T_READ);
	ASSERT_TOUCH(win2, 1, L4T_WRITE);

	ASSERT_EQ(0, l4t_info(fd, &info));
	EXPECT_EQ(7ULL, info.frames);
	EXPECT_EQ(7ULL, info.nodes);
	EXPECT_EQ(2ULL, info.windows);
	ASSERT_EQ(0, l4t_stats(self->dev, &st));
	ASSERT_LIVE(&self->before, &st, 1, 7, 7, 2);
	EXPECT_EQ(self->before.frames_allocated + 7, st.frames_allocated);
	EXPECT_LE(self->before.kernel_faults + 7, st.kernel_faults);
	EXPECT_EQ(self->before.limit_faults, st.limit_faults);

	/* what was written is there, what was only read is zero */
	EXPECT_EQ(L4T_TOUCH_BYTE, win2[10 * L4T_PAGE]);
	EXPECT_EQ(L4T_TOUCH_BYTE, win2[3 * L4T_PAGE]);
	EXPECT_EQ(-1, l4t_check_zero(win2 + 40 * L4T_PAGE, L4T_PAGE));

	ASSERT_EQ(0, munmap(win, 64 * L4T_PAGE));
	ASSERT_EQ(0, munmap(win2, 64 * L4T_PAGE));
	ASSERT_EQ(0, l4t_info(fd, &info));
	EXPECT_EQ(7ULL, info.frames);
	EXPECT_EQ(0ULL, info.windows);
	ASSERT_EQ(0, close(fd));
}

/*
 * The window keeps the space alive after its last fd is closed: contents
 * stay, new pages can be touched, and only the munmap frees it all.
 */
TEST_F(space, window_outlives_fd)
{
	enum { PAGES = 16 };
	struct l4_stats st;
	char *win;
	int fd;

	fd = l4t_space_window(self->dev, PAGES, 0, L4_SPACE_SIGMA0, &win);
	ASSERT_LE(0, fd);
	l4t_fill(win, 0, 8 * L4T_PAGE, 1);
	ASSERT_EQ(0, close(fd));

	ASSERT_EQ(0, l4t_stats(self->dev, &st));
	ASSERT_LIVE(&self->before, &st, 1, 8, 8, 1);
	EXPECT_EQ(-1, l4t_check(win, 0, 8 * L4T_PAGE, 1));

	l4t_fill(win + 8 * L4T_PAGE, 8 * L4T_PAGE, 8 * L4T_PAGE, 2);
	ASSERT_EQ(0, l4t_stats(self->dev, &st));
	ASSERT_LIVE(&self->before, &st, 1, 16, 16, 1);
	EXPECT_EQ(-1, l4t_check(win, 0, 8 * L4T_PAGE, 1));
	EXPECT_EQ(-1, l4t_check(win + 8 * L4T_PAGE, 8 * L4T_PAGE,
				8 * L4T_PAGE, 2));

	ASSERT_EQ(0, munmap(win, PAGES * L4T_PAGE));
	ASSERT_SETTLED(self->dev, &self->before, &st);
	EXPECT_EQ(self->before.frames_allocated + 16, st.frames_allocated);
	EXPECT_EQ(self->before.frames_freed + 16, st.frames_freed);
}

/*
 * 1000 spaces made and destroyed; every 8th gets a window and two touched
 * pages, every 100th stays open until the end with one touched page.
 */
TEST_F(space, create_close_many)
{
	enum { N = 1000, KEEP = 100, WIN = 8 };
	struct l4_stats *b = &self->before, st;
	int kept[N / KEEP], nkept = 0;
	__u64 touched = 0;
	char *win;
	int i, fd;

	for (i = 0; i < N; i++) {
		if (i % KEEP == 0) {
			fd = l4t_space_window(self->dev, 2, 0, L4_SPACE_SIGMA0,
					      &win);
			ASSERT_LE(0, fd) TH_LOG("space %d", i);
			ASSERT_TOUCH(win + L4T_PAGE, 1, L4T_WRITE);
			ASSERT_EQ(0, munmap(win, 2 * L4T_PAGE));
			kept[nkept++] = fd;
			touched++;
		} else if (i % WIN == 0) {
			fd = l4t_space_window(self->dev, 4, 0, L4_SPACE_SIGMA0,
					      &win);
			ASSERT_LE(0, fd) TH_LOG("space %d", i);
			ASSERT_TOUCH(win, 2, L4T_WRITE);
			ASSERT_EQ(0, close(fd));
			ASSERT_EQ(0, munmap(win, 4 * L4T_PAGE));
			touched += 2;
		} else {
			fd = l4t_create(self->dev, (i % 7 + 1) * L4T_PAGE, 0,
					i % 2 ? L4_SPACE_SIGMA0 : 0, NULL);
			ASSERT_LE(0, fd) TH_LOG("space %d", i);
			ASSERT_EQ(0, close(fd));
		}
	}

	ASSERT_EQ(0, l4t_stats(self->dev, &st));
	ASSERT_LIVE(b, &st, nkept, nkept, nkept, 0);
	EXPECT_EQ(touched, st.frames_allocated - b->frames_allocated);
	EXPECT_EQ(touched - nkept, st.frames_freed - b->frames_freed);
	EXPECT_EQ(st.frames - b->frames,
		  (st.frames_allocated - b->frames_allocated) -
		  (st.frames_freed - b->frames_freed));

	for (i = 0; i < nkept; i++)
		ASSERT_EQ(0, close(kept[i]));
	ASSERT_SETTLED(self->dev, b, &st);
	EXPECT_EQ(touched, st.frames_allocated - b->frames_allocated);
	EXPECT_EQ(touched, st.frames_freed - b->frames_freed);
}

TEST_HARNESS_MAIN
