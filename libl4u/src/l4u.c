// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "l4u/l4u.h"

/* ioctl() with the result as 0/fd or -errno. */
static int l4u_ioctl(int fd, unsigned long cmd, void *arg)
{
	int ret = ioctl(fd, cmd, arg);

	return ret < 0 ? -errno : ret;
}

int l4u_version(int dev, struct l4_version *v)
{
	return l4u_ioctl(dev, L4_IOC_VERSION, v);
}

int l4u_stats(int dev, struct l4_stats *st)
{
	return l4u_ioctl(dev, L4_IOC_STATS, st);
}

#define L4U_PARAM_DIR	"/sys/module/l4/parameters/"

/* The sysfs file of module parameter @name, or -EINVAL for a bad name. */
static int l4u_param_path(const char *name, char *path, size_t size)
{
	if (!name || !*name || strchr(name, '/') || !strcmp(name, ".") ||
	    !strcmp(name, ".."))
		return -EINVAL;
	if ((size_t)snprintf(path, size, L4U_PARAM_DIR "%s", name) >= size)
		return -ENAMETOOLONG;
	return 0;
}

int l4u_param_get(const char *name, long long *value)
{
	char path[PATH_MAX], buf[32], *end;
	long long v;
	ssize_t n;
	int fd, ret;

	ret = l4u_param_path(name, path, sizeof(path));
	if (ret)
		return ret;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	ret = n < 0 ? -errno : 0;
	close(fd);
	if (ret)
		return ret;
	buf[n] = 0;
	errno = 0;
	v = strtoll(buf, &end, 0);
	if (errno || end == buf || (*end && *end != '\n'))
		return -EPROTO;	/* not a number: not a parameter of ours */
	*value = v;
	return 0;
}

int l4u_param_set(const char *name, long long value)
{
	char path[PATH_MAX], buf[32];
	int fd, len, ret;
	ssize_t n;

	ret = l4u_param_path(name, path, sizeof(path));
	if (ret)
		return ret;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%lld\n", value);
	n = write(fd, buf, len);
	ret = n < 0 ? -errno : n != len ? -EIO : 0;
	close(fd);
	return ret;
}

int l4u_open(void)
{
	struct l4_version v;
	int dev, ret;

	dev = open(L4_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return -errno;
	ret = l4u_version(dev, &v);
	if (!ret && v.major != L4_ABI_MAJOR)
		ret = -EPROTO;
	if (ret) {
		close(dev);
		return ret;
	}
	return dev;
}

const char *l4u_open_strerror(int err)
{
	switch (err) {
	case -EACCES:
	case -EPERM:
		return "permission denied: join group l4 (see README)";
	case -ENOENT:
	case -ENODEV:
	case -ENXIO:
		return "no such device: load the module: modprobe l4";
	case -EPROTO:
		return "l4.ko speaks another ABI major version than this program: rebuild one of them";
	default:
		return strerror(-err);
	}
}

int l4u_space_create(int dev, uint64_t size, uint32_t flags,
		     uint64_t max_frames, uint64_t *id)
{
	struct l4_space_create req = {
		.size		= size,
		.max_frames	= max_frames,
		.flags		= flags,
	};
	int fd;

	fd = l4u_ioctl(dev, L4_IOC_CREATE_SPACE, &req);
	if (fd >= 0 && id)
		*id = req.id;
	return fd;
}

int l4u_space_info(int space, struct l4_space_info *info)
{
	return l4u_ioctl(space, L4_IOC_SPACE_INFO, info);
}

int l4u_map(int dst, int src, uint64_t fpage, uint64_t base, int grant,
	    uint64_t rcv, uint64_t *dst_addr, uint64_t *pages)
{
	struct l4_map req = {
		.src_fd		= src,
		.item		= { L4_MAP_ITEM(base, grant), fpage },
		.rcv_fpage	= rcv,
	};
	int ret = l4u_ioctl(dst, L4_IOC_MAP, &req);

	if (dst_addr)
		*dst_addr = req.dst_addr;
	if (pages)
		*pages = req.pages;
	return ret;
}

int l4u_unmap(int space, uint64_t fpage, uint32_t flags, uint64_t *revoked,
	      uint64_t *access)
{
	struct l4_unmap req = {
		.fpage	= fpage,
		.flags	= flags,
	};
	int ret = l4u_ioctl(space, L4_IOC_UNMAP, &req);

	if (revoked)
		*revoked = req.revoked;
	if (access)
		*access = req.access;
	return ret;
}

int l4u_gate_create(int dev)
{
	return l4u_ioctl(dev, L4_IOC_CREATE_GATE, NULL);
}

int l4u_gate_send_cap(int gate)
{
	return l4u_ioctl(gate, L4_IOC_GATE_SEND_CAP, NULL);
}

int l4u_gate_info(int gate, struct l4_gate_info *info)
{
	return l4u_ioctl(gate, L4_IOC_GATE_INFO, info);
}

int l4u_recv(int gate, struct l4_msg *msg)
{
	return l4u_ioctl(gate, L4_IOC_RECV, msg);
}

int l4u_reply(int gate, const struct l4_reply *reply)
{
	return l4u_ioctl(gate, L4_IOC_REPLY, (void *)reply);
}

int l4u_reply_wait(int gate, struct l4_reply_wait *rw)
{
	return l4u_ioctl(gate, L4_IOC_REPLY_WAIT, rw);
}

int l4u_call(int gate, struct l4_call *call)
{
	/* outputs of a previous call must not count as input */
	call->reply_label = 0;
	call->pages = 0;
	return l4u_ioctl(gate, L4_IOC_CALL, call);
}

int l4u_space_set_pager(int space, int gate)
{
	struct l4_pager req = { .gate_fd = gate };

	return l4u_ioctl(space, L4_IOC_SET_PAGER, &req);
}

int l4u_space_bind_thread(int space, int gate, uint64_t *thread_id)
{
	struct l4_thread_control req = { .pager_fd = gate };
	int ret = l4u_ioctl(space, L4_IOC_THREAD_CONTROL, &req);

	if (!ret && thread_id)
		*thread_id = req.thread_id;
	return ret;
}

int l4u_space_unbind_thread(int space)
{
	struct l4_thread_control req = {
		.pager_fd	= -1,
		.flags		= L4_THREAD_UNREGISTER,
	};

	return l4u_ioctl(space, L4_IOC_THREAD_CONTROL, &req);
}

int l4u_window_open(int space, uint64_t addr, size_t len, int prot,
		    void *at, void **win)
{
	int flags = MAP_SHARED | (at ? MAP_FIXED_NOREPLACE : 0);
	void *p;

	p = mmap(at, len, prot, flags, space, (off_t)addr);
	if (p == MAP_FAILED)
		return -errno;
	if (at && p != at) {
		/* kernels before 4.17 ignore MAP_FIXED_NOREPLACE */
		munmap(p, len);
		return -EEXIST;
	}
	*win = p;
	return 0;
}

int l4u_window_close(void *win, size_t len)
{
	return munmap(win, len) ? -errno : 0;
}

const char *l4u_rights_str(unsigned int rights, char buf[4])
{
	buf[0] = rights & L4_FPAGE_R ? 'r' : '-';
	buf[1] = rights & L4_FPAGE_W ? 'w' : '-';
	buf[2] = rights & L4_FPAGE_X ? 'x' : '-';
	buf[3] = '\0';
	return buf;
}
