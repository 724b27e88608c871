// SPDX-License-Identifier: MIT
/*
 * ex-dsm: a dataspace manager of your own, on libl4u-server (l4u/dsm.h).
 * Its dataspaces are read-only and page N reads "page N": the backend
 * only says what a dataspace is (open) and what a page holds (fill); the
 * engine does the rest -- the socket, the frame pool, MAP with the
 * flexpage offset rule, INFO, the no-senders clean-up. main() is ours: the
 * command line, the signal that ends it, what it prints.
 *
 *   ex-dsm PATH|@name [-v]                          (l4u_dsm_create(3))
 *   cc -o ex-dsm dsm.c $(pkg-config --cflags --libs l4u-server)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <l4u/l4u.h>
#include <l4u/dsm.h>

/* A client asked for a dataspace: check the request, say what it is. */
static int pattern_open(void *arg, const struct l4u_dsm_req *req, int fd,
			struct l4u_dsm_ds_info *ds)
{
	(void)arg;
	if (fd >= 0)
		close(fd);			/* no file behind these */
	if (!req->size)
		return -EINVAL;
	if (req->flags & (L4_FPAGE_W | L4_FPAGE_X))
		return -EACCES;			/* read-only */
	ds->size = req->size;
	ds->flags = L4_FPAGE_R;
	snprintf(ds->what, sizeof(ds->what), "pattern");
	return 0;
}

/* The first MAP of page @page: fill its frame (zeroed) before it goes out. */
static int pattern_fill(void *priv, uint64_t page, void *dst)
{
	(void)priv;
	snprintf(dst, L4U_FRAME_SIZE, "page %llu", (unsigned long long)page);
	return 0;
}

static const struct l4u_dsm_backend pattern = {
	.op	= L4U_DSM_OPEN_ANON,	/* opened with l4u_ds_open_anon() */
	.open	= pattern_open,
	.fill	= pattern_fill,
};

/* The engine's lines (-v: one per request). */
static void say(void *arg, int level, const char *msg)
{
	(void)arg;
	fprintf(level == L4U_DSM_LOG_WARN ? stderr : stdout, "ex-dsm: %s\n", msg);
}

/* SIGTERM or SIGINT: stop serving. */
static int on_signal(struct l4u_server *srv, int fd, void *arg)
{
	struct signalfd_siginfo si;

	(void)arg;
	if (read(fd, &si, sizeof(si)) == sizeof(si))
		l4u_server_stop(srv);
	return 0;
}

int main(int argc, char **argv)
{
	struct l4u_dsm_config cfg = { .frames = 64, .log = say };
	struct l4u_dsm *dsm;
	sigset_t stop;
	int dev, sig, ret;

	if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "-v"))) {
		fprintf(stderr, "usage: ex-dsm PATH|@name [-v]\n");
		return 2;
	}
	cfg.socket = argv[1];
	if (argc == 3)
		cfg.flags |= L4U_DSM_VERBOSE;
	/* the signals that end us come through a signalfd the server watches */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigprocmask(SIG_BLOCK, &stop, NULL);
	sig = signalfd(-1, &stop, SFD_CLOEXEC);
	dev = l4u_open();
	if (sig < 0 || dev < 0) {
		fprintf(stderr, "ex-dsm: %s\n", dev < 0 ? l4u_open_strerror(dev) : "signalfd");
		return 1;
	}
	ret = l4u_dsm_create(dev, &pattern, &cfg, &dsm);
	close(dev);
	if (ret) {
		fprintf(stderr, "ex-dsm: %s\n", strerror(-ret));
		return 1;
	}
	ret = l4u_server_watch(l4u_dsm_server(dsm), sig, on_signal, NULL);
	if (!ret)
		ret = l4u_server_run(l4u_dsm_server(dsm));
	l4u_dsm_destroy(dsm);			/* every dataspace goes */
	return ret ? 1 : 0;
}
