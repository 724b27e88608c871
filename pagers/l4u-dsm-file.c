// SPDX-License-Identifier: MIT
/*
 * l4u-dsm-file: a dataspace manager for regular files.
 *
 *   l4u-dsm-file --socket PATH|@name [--frames N] [-v]
 *                [--alloc bitmap|freelist|buddy]
 *
 * A client opens the file itself and hands the fd over
 * (l4u_ds_open_file(): capability style, the manager opens nothing by
 * name). Pages are read on their first MAP into frames of the manager's
 * own sigma0-backed space; with L4_FPAGE_W dirty pages are written back on
 * SYNC, when the last capability closes, and when the manager exits.
 * A dataspace of size 0 asked for is the file's size; the tail of the last
 * page beyond the end of the file reads as zero and is never written.
 * See docs/dataspaces.md.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <l4u/dsm.h>
#include "mgr/mgr.h"

struct file_ds {
	int fd;
	uint64_t end;	/* bytes of the file the dataspace covers */
	int write;	/* written back (the dataspace is writable) */
};

#define PAGE	L4U_FRAME_SIZE

/* "file NAME" from /proc/self/fd, for the messages */
static void file_name(int fd, char *buf, size_t len)
{
	char link[64], target[PATH_MAX];
	const char *base;
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0) {
		snprintf(buf, len, "file");
		return;
	}
	target[n] = '\0';
	base = strrchr(target, '/');
	snprintf(buf, len, "file %.50s", base ? base + 1 : target);
}

static int file_open(void *arg, const struct l4u_dsm_req *req, int fd,
		     struct l4u_dsm_ds_info *ds)
{
	struct file_ds *f;
	struct stat st;
	int mode;

	(void)arg;
	if (fd < 0)
		return -EBADF;
	if (fstat(fd, &st) || (mode = fcntl(fd, F_GETFL)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	/* the fd's access mode is what the client may do with the file */
	if (((req->flags & L4_FPAGE_W) && (mode & O_ACCMODE) == O_RDONLY) ||
	    (mode & O_ACCMODE) == O_WRONLY) {
		close(fd);
		return -EACCES;
	}
	ds->size = req->size ? req->size : (uint64_t)st.st_size;
	if (!ds->size) {
		close(fd);
		return -EINVAL;		/* an empty file has no page to map */
	}
	f = malloc(sizeof(*f));
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	f->fd = fd;
	f->end = ds->size;
	f->write = !!(req->flags & L4_FPAGE_W);
	ds->priv = f;
	ds->flags = req->flags | L4_FPAGE_R;
	file_name(fd, ds->what, sizeof(ds->what));
	return 0;
}

static int file_fill(void *priv, uint64_t page, void *dst)
{
	struct file_ds *f = priv;
	uint64_t off = page * PAGE;
	size_t want = f->end - off < PAGE ? f->end - off : PAGE, done = 0;
	ssize_t n;

	while (done < want) {
		n = pread(f->fd, (char *)dst + done, want - done, off + done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;	/* past the end of the file: the rest stays zero */
		done += n;
	}
	return 0;
}

static int file_writeback(void *priv, uint64_t page, const void *src)
{
	struct file_ds *f = priv;
	uint64_t off = page * PAGE;
	size_t want = f->end - off < PAGE ? f->end - off : PAGE, done = 0;
	ssize_t n;

	if (!f->write)
		return 0;
	while (done < want) {
		n = pwrite(f->fd, (const char *)src + done, want - done, off + done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += n;
	}
	return 0;
}

static void file_close(void *priv)
{
	struct file_ds *f = priv;

	if (!f)
		return;
	if (f->write)
		fdatasync(f->fd);
	close(f->fd);
	free(f);
}

static const struct l4u_dsm_backend file = {
	.op		= L4U_DSM_OPEN_FILE,
	.max_order	= 16,	/* read-around: up to 64 KiB per fault */
	.open		= file_open,
	.fill		= file_fill,
	.writeback	= file_writeback,
	.close		= file_close,
};

static const char usage[] =
	"usage: %s --socket PATH|@name [--frames N] [-v]\n"
	"          [--alloc bitmap|freelist|buddy]\n"
	MGR_USAGE;

int main(int argc, char **argv)
{
	static const struct option opts[] = { MGR_LONGOPTS, { 0 } };
	struct mgr m;
	int opt, ret = MGR_CONTINUE;

	mgr_init(&m, "l4u-dsm-file", usage);
	while (ret == MGR_CONTINUE &&
	       (opt = getopt_long(argc, argv, MGR_SHORTOPTS, opts, NULL)) != -1)
		ret = mgr_option(&m, opt, optarg);
	if (ret == MGR_CONTINUE)
		ret = mgr_options_done(&m, optind, argc);
	return ret == MGR_CONTINUE ? mgr_serve(&m, &file) : ret;
}
