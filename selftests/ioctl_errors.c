// SPDX-License-Identifier: GPL-2.0
/*
 * The error contract of the ioctls: unknown commands (also a known number
 * with another size or direction, or a command of the other kind of fd),
 * unknown flags, nonzero padding, bad sizes, bad pointers. A failed call
 * must leave nothing behind: no space, no fd.
 */
#include "l4_test_util.h"

L4T_FIXTURE(ioctl_errors);

#define M		L4_IOC_MAGIC
#define RW		(_IOC_READ | _IOC_WRITE)
#define SZ(type)	sizeof(struct type)

struct bad_cmd {
	const char *name;
	unsigned long cmd;
};

/* Not commands of /dev/l4. */
static const struct bad_cmd dev_bad_cmds[] = {
	{ "cmd 0",			0 },
	{ "unused nr 0x03",		_IOR(M, 0x03, struct l4_stats) },
	{ "unused nr 0x3f",		_IO(M, 0x3f) },
	{ "other magic",		_IOR('X', 0x00, struct l4_version) },
	{ "VERSION, size - 8",		_IOC(_IOC_READ, M, 0x00, SZ(l4_version) - 8) },
	{ "VERSION, size + 8",		_IOC(_IOC_READ, M, 0x00, SZ(l4_version) + 8) },
	{ "VERSION as _IOW",		_IOW(M, 0x00, struct l4_version) },
	{ "VERSION as _IOWR",		_IOWR(M, 0x00, struct l4_version) },
	{ "VERSION as _IO",		_IO(M, 0x00) },
	{ "CREATE_SPACE, size - 8",	_IOC(RW, M, 0x01, SZ(l4_space_create) - 8) },
	{ "CREATE_SPACE, size + 8",	_IOC(RW, M, 0x01, SZ(l4_space_create) + 8) },
	{ "CREATE_SPACE as _IOW",	_IOW(M, 0x01, struct l4_space_create) },
	{ "CREATE_SPACE as _IOR",	_IOR(M, 0x01, struct l4_space_create) },
	{ "STATS, size - 8",		_IOC(_IOC_READ, M, 0x02, SZ(l4_stats) - 8) },
	{ "STATS, size + 8",		_IOC(_IOC_READ, M, 0x02, SZ(l4_stats) + 8) },
	{ "STATS as _IOWR",		_IOWR(M, 0x02, struct l4_stats) },
	{ "SPACE_INFO, a space fd command", L4_IOC_SPACE_INFO },
};

/* Not commands of a space fd. */
static const struct bad_cmd space_bad_cmds[] = {
	{ "cmd 0",			0 },
	{ "unused nr 0x41",		_IOR(M, 0x41, struct l4_space_info) },
	{ "unused nr 0x7f",		_IO(M, 0x7f) },
	{ "other magic",		_IOR('X', 0x40, struct l4_space_info) },
	{ "SPACE_INFO, size - 8",	_IOC(_IOC_READ, M, 0x40, SZ(l4_space_info) - 8) },
	{ "SPACE_INFO, size + 8",	_IOC(_IOC_READ, M, 0x40, SZ(l4_space_info) + 8) },
	{ "SPACE_INFO as _IOWR",	_IOWR(M, 0x40, struct l4_space_info) },
	{ "SPACE_INFO as _IO",		_IO(M, 0x40) },
	{ "VERSION, a /dev/l4 command",	L4_IOC_VERSION },
	{ "CREATE_SPACE, a /dev/l4 command", L4_IOC_CREATE_SPACE },
	{ "STATS, a /dev/l4 command",	L4_IOC_STATS },
};

/* Each command on @fd fails with ENOTTY and leaves no fd behind. */
static void check_enotty(struct __test_metadata *_metadata, int fd,
			 const struct bad_cmd *cmds, size_t n)
{
	/* valid, zeroed memory: the only thing wrong is the command */
	static __u64 buf[128];
	int lowest = l4t_lowest_free_fd();
	size_t i;

	for (i = 0; i < n; i++) {
		memset(buf, 0, sizeof(buf));
		errno = 0;
		EXPECT_EQ(-1, ioctl(fd, cmds[i].cmd, buf))
			TH_LOG("%s: succeeded", cmds[i].name);
		EXPECT_EQ(ENOTTY, errno)
			TH_LOG("%s: errno %d", cmds[i].name, errno);
	}
	EXPECT_EQ(lowest, l4t_lowest_free_fd());
}

TEST_F(ioctl_errors, dev_unknown_commands)
{
	check_enotty(_metadata, self->dev, dev_bad_cmds,
		     ARRAY_SIZE(dev_bad_cmds));
}

TEST_F(ioctl_errors, space_unknown_commands)
{
	struct l4_stats st;
	int fd;

	fd = l4t_create(self->dev, L4T_PAGE, 0, L4_SPACE_SIGMA0, NULL);
	ASSERT_LE(0, fd);
	check_enotty(_metadata, fd, space_bad_cmds, ARRAY_SIZE(space_bad_cmds));
	/* CREATE_SPACE on a space fd created nothing */
	ASSERT_EQ(0, l4t_stats(self->dev, &st));
	ASSERT_LIVE(&self->before, &st, 1, 0, 0, 0);
	ASSERT_EQ(0, close(fd));
}

struct bad_create {
	const char *name;
	struct l4_space_create req;
};

#define MAX_SIZE	L4_SPACE_MAX_SIZE

static const struct bad_create bad_creates[] = {
	{ "size 0",		{ .size = 0 } },
	{ "size 1",		{ .size = 1 } },
	{ "size 4095",		{ .size = 4095 } },
	{ "size 4097",		{ .size = 4097 } },
	{ "size 3 pages + 8",	{ .size = 3 * 4096 + 8 } },
	{ "size max - 1",	{ .size = MAX_SIZE - 1 } },
	{ "size max + 1 page",	{ .size = MAX_SIZE + 4096 } },
	{ "size 2 * max",	{ .size = 2 * MAX_SIZE } },
	{ "size 2^63",		{ .size = 1ULL << 63 } },
	{ "size ~0 & ~4095",	{ .size = ~0xfffULL } },
	{ "size ~0",		{ .size = ~0ULL } },
	{ "lowest unknown flag", { .size = 4096,
	  .flags = (L4_SPACE_FLAGS_KNOWN + 1) & ~L4_SPACE_FLAGS_KNOWN } },
	{ "flags bit 31",	{ .size = 4096, .flags = 1U << 31 } },
	{ "flags all unknown",	{ .size = 4096, .flags = ~L4_SPACE_FLAGS_KNOWN } },
	{ "flags sigma0 | bit 3", { .size = 4096, .flags = L4_SPACE_SIGMA0 | 1U << 3 } },
	{ "superpages without sigma0", { .size = 4096, .flags = L4_SPACE_SUPERPAGES } },
	{ "pad 1",		{ .size = 4096, .pad = 1 } },
	{ "pad bit 31",		{ .size = 4096, .flags = L4_SPACE_SIGMA0, .pad = 1U << 31 } },
	{ "reserved[0]",	{ .size = 4096, .reserved = { 1 } } },
	{ "reserved[1]",	{ .size = 4096, .reserved = { 0, 1 } } },
	{ "reserved[2]",	{ .size = 4096, .reserved = { 0, 0, 1 } } },
	{ "reserved[3]",	{ .size = 4096, .reserved = { 0, 0, 0, 1ULL << 63 } } },
};

TEST_F(ioctl_errors, create_space_einval)
{
	int lowest = l4t_lowest_free_fd();
	struct l4_space_create req;
	struct l4_stats st;
	size_t i;
	int fd;

	for (i = 0; i < ARRAY_SIZE(bad_creates); i++) {
		req = bad_creates[i].req;
		errno = 0;
		fd = ioctl(self->dev, L4_IOC_CREATE_SPACE, &req);
		EXPECT_EQ(-1, fd)
			TH_LOG("%s: succeeded", bad_creates[i].name);
		EXPECT_EQ(EINVAL, errno)
			TH_LOG("%s: errno %d", bad_creates[i].name, errno);
		if (fd >= 0)
			close(fd);
	}
	EXPECT_EQ(lowest, l4t_lowest_free_fd());
	ASSERT_EQ(0, l4t_stats(self->dev, &st));
	ASSERT_LIVE(&self->before, &st, 0, 0, 0, 0);
}

/* The extremes of what is valid, next to what is not. */
TEST_F(ioctl_errors, create_space_limits_valid)
{
	static const __u64 sizes[] = { 4096, 2 * 4096, MAX_SIZE - 4096, MAX_SIZE };
	struct l4_space_info info;
	size_t i;
	int fd;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		fd = l4t_create(self->dev, sizes[i], ~0ULL, L4_SPACE_FLAGS_KNOWN,
				NULL);
		ASSERT_LE(0, fd) TH_LOG("size %llu: errno %d", sizes[i], errno);
		ASSERT_EQ(0, l4t_info(fd, &info));
		EXPECT_EQ(sizes[i], info.size);
		EXPECT_EQ(~0ULL, info.max_frames);
		ASSERT_EQ(0, close(fd));
	}
}

/*
 * Addresses no ioctl can use: NULL, 1, a PROT_NONE page, an unmapped page,
 * a struct running from a good page into a PROT_NONE one, a kernel
 * address, the first address above 47-bit user space.
 */
struct bad_addr {
	const char *name;
	void *p;
};

#define NR_BAD_ADDRS	7

static void bad_addrs(struct __test_metadata *_metadata,
		      struct bad_addr bad[NR_BAD_ADDRS], size_t size)
{
	char *p;

	/* good page, PROT_NONE page, hole */
	p = mmap(NULL, 3 * L4T_PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, mprotect(p + L4T_PAGE, L4T_PAGE, PROT_NONE));
	ASSERT_EQ(0, munmap(p + 2 * L4T_PAGE, L4T_PAGE));

	bad[0] = (struct bad_addr){ "NULL", NULL };
	bad[1] = (struct bad_addr){ "(void *)1", (void *)1 };
	bad[2] = (struct bad_addr){ "PROT_NONE page", p + L4T_PAGE };
	bad[3] = (struct bad_addr){ "unmapped page", p + 2 * L4T_PAGE };
	bad[4] = (struct bad_addr){ "straddling into PROT_NONE",
				    p + L4T_PAGE - size / 2 };
	bad[5] = (struct bad_addr){ "kernel address",
				    (void *)0xffffffff81000000UL };
	bad[6] = (struct bad_addr){ "1 << 47", (void *)(1UL << 47) };
}

/* A read-only page holding @len bytes of @data: readable, not writable. */
static void *rdonly_copy(struct __test_metadata *_metadata,
			 const void *data, size_t len)
{
	char *p;

	p = mmap(NULL, L4T_PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	memcpy(p, data, len);
	ASSERT_EQ(0, mprotect(p, L4T_PAGE, PROT_READ));
	return p;
}

static void check_efault(struct __test_metadata *_metadata, int fd,
			 unsigned long cmd, const char *what, size_t size)
{
	struct bad_addr bad[NR_BAD_ADDRS];
	int i, lowest = l4t_lowest_free_fd();

	bad_addrs(_metadata, bad, size);
	for (i = 0; i < NR_BAD_ADDRS; i++) {
		errno = 0;
		EXPECT_EQ(-1, ioctl(fd, cmd, bad[i].p))
			TH_LOG("%s, %s: succeeded", what, bad[i].name);
		EXPECT_EQ(EFAULT, errno)
			TH_LOG("%s, %s: errno %d", what, bad[i].name, errno);
	}
	EXPECT_EQ(lowest, l4t_lowest_free_fd());
}

TEST_F(ioctl_errors, version_efault)
{
	struct l4_version v = { 0 };

	check_efault(_metadata, self->dev, L4_IOC_VERSION, "VERSION",
		     sizeof(struct l4_version));
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->dev, L4_IOC_VERSION,
			    rdonly_copy(_metadata, &v, sizeof(v))));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(ioctl_errors, stats_efault)
{
	struct l4_stats st = { 0 };

	check_efault(_metadata, self->dev, L4_IOC_STATS, "STATS",
		     sizeof(struct l4_stats));
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->dev, L4_IOC_STATS,
			    rdonly_copy(_metadata, &st, sizeof(st))));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(ioctl_errors, space_info_efault)
{
	struct l4_space_info info = { 0 };
	int fd;

	fd = l4t_create(self->dev, L4T_PAGE, 0, 0, NULL);
	ASSERT_LE(0, fd);
	check_efault(_metadata, fd, L4_IOC_SPACE_INFO, "SPACE_INFO",
		     sizeof(struct l4_space_info));
	errno = 0;
	EXPECT_EQ(-1, ioctl(fd, L4_IOC_SPACE_INFO,
			    rdonly_copy(_metadata, &info, sizeof(info))));
	EXPECT_EQ(EFAULT, errno);
	ASSERT_EQ(0, close(fd));
}

/*
 * A good request in a read-only page: the space is made, then the id
 * cannot be written back. The caller must get EFAULT, and the space and
 * its fd must be gone again.
 */
TEST_F(ioctl_errors, create_space_efault)
{
	struct l4_space_create req = {
		.size	= 4 * L4T_PAGE,
		.flags	= L4_SPACE_SIGMA0,
	};
	int lowest = l4t_lowest_free_fd();
	struct l4_stats st;

	check_efault(_metadata, self->dev, L4_IOC_CREATE_SPACE, "CREATE_SPACE",
		     sizeof(struct l4_space_create));
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->dev, L4_IOC_CREATE_SPACE,
			    rdonly_copy(_metadata, &req, sizeof(req))));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(lowest, l4t_lowest_free_fd());
	ASSERT_SETTLED(self->dev, &self->before, &st);
}

TEST_HARNESS_MAIN
