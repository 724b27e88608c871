// SPDX-License-Identifier: GPL-2.0
/*
 * The module cannot go while anything of it is in use: an open /dev/l4, a
 * space fd, only a window whose fd is closed, a gate, or only a send
 * capability of a dead gate. delete_module() with
 * O_NONBLOCK then fails with EWOULDBLOCK (kernel/module/main.c,
 * try_stop_module) and the module stays usable. The real unload is the
 * guest's rmmod after the suite.
 */
#include "l4_test_util.h"

L4T_FIXTURE(unload);

static int try_unload(const char *name)
{
	return syscall(__NR_delete_module, name, O_NONBLOCK);
}

static void check_alive(struct __test_metadata *_metadata)
{
	struct l4_version v;
	struct stat st;
	int dev;

	ASSERT_EQ(0, stat("/sys/module/l4", &st));
	dev = l4t_open();
	ASSERT_LE(0, dev);
	ASSERT_EQ(0, ioctl(dev, L4_IOC_VERSION, &v));
	EXPECT_EQ((__u32)L4_ABI_MAJOR, v.major);
	ASSERT_EQ(0, close(dev));
}

static void expect_busy(struct __test_metadata *_metadata)
{
	errno = 0;
	ASSERT_EQ(-1, try_unload("l4"));
	ASSERT_EQ(EWOULDBLOCK, errno);
}

/* The syscall works here at all (root, module unloading enabled). */
TEST_F(unload, no_such_module)
{
	errno = 0;
	ASSERT_EQ(-1, try_unload("l4_no_such_module"));
	if (errno == EPERM)
		SKIP(return, "delete_module not permitted");
	ASSERT_EQ(ENOENT, errno);
}

TEST_F(unload, busy_with_dev_fd)
{
	expect_busy(_metadata);
	check_alive(_metadata);
}

TEST_F(unload, busy_with_space_fd)
{
	struct l4_space_info info;
	__u64 id;
	int fd;

	fd = l4t_create(self->dev, 4 * L4T_PAGE, 0, L4_SPACE_SIGMA0, &id);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, close(self->dev));
	expect_busy(_metadata);
	ASSERT_EQ(0, l4t_info(fd, &info));
	EXPECT_EQ(id, info.id);
	check_alive(_metadata);
	ASSERT_EQ(0, close(fd));
}

TEST_F(unload, busy_with_window_only)
{
	char *win;
	int fd;

	fd = l4t_space_window(self->dev, 4, 0, L4_SPACE_SIGMA0, &win);
	ASSERT_LE(0, fd);
	l4t_fill(win, 0, 2 * L4T_PAGE, 1);
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, close(self->dev));
	expect_busy(_metadata);
	EXPECT_EQ(-1, l4t_check(win, 0, 2 * L4T_PAGE, 1));
	l4t_fill(win + 2 * L4T_PAGE, 2 * L4T_PAGE, 2 * L4T_PAGE, 2);
	EXPECT_EQ(-1, l4t_check(win + 2 * L4T_PAGE, 2 * L4T_PAGE,
				2 * L4T_PAGE, 2));
	check_alive(_metadata);
	ASSERT_EQ(0, munmap(win, 4 * L4T_PAGE));
}

/* A gate alone (its receive fd) holds the module. */
TEST_F(unload, busy_with_gate_only)
{
	int gate = ioctl(self->dev, L4_IOC_CREATE_GATE, 0);

	ASSERT_LE(0, gate);
	ASSERT_EQ(0, close(self->dev));
	expect_busy(_metadata);
	check_alive(_metadata);
	ASSERT_EQ(0, close(gate));
}

/* So does a send capability of a gate that is already dead. */
TEST_F(unload, busy_with_dead_gates_send_cap)
{
	struct l4_call c = { .nwords = 1, .rcv_space_fd = -1 };
	int gate, cap;

	gate = ioctl(self->dev, L4_IOC_CREATE_GATE, 0);
	ASSERT_LE(0, gate);
	cap = ioctl(gate, L4_IOC_GATE_SEND_CAP, 0);
	ASSERT_LE(0, cap);
	ASSERT_EQ(0, close(gate));
	ASSERT_EQ(0, close(self->dev));
	expect_busy(_metadata);
	ASSERT_EQ(-1, ioctl(cap, L4_IOC_CALL, &c));
	ASSERT_EQ(EPIPE, errno);
	check_alive(_metadata);
	ASSERT_EQ(0, close(cap));
}

TEST_HARNESS_MAIN
