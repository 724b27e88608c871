// SPDX-License-Identifier: MIT
/*
 * The dataspace managers' common main() parts (mgr.h): options, messages,
 * signals.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <l4u/l4u.h>
#include <l4u/dsm.h>
#include "mgr.h"

void mgr_init(struct mgr *m, const char *name, const char *usage)
{
	*m = (struct mgr){ .name = name, .usage = usage };
	m->cfg.alloc = L4U_FRAMES_BITMAP;
	m->cfg.swap_fd = -1;
}

static void mgr_usage(const struct mgr *m)
{
	fprintf(stderr, m->usage, m->name);
}

int mgr_usage_error(struct mgr *m, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", m->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 2;
}

int mgr_count(const char *arg, uint64_t *count)
{
	char *end;

	errno = 0;
	*count = strtoull(arg, &end, 0);
	return errno || *end || !*count ? -1 : 0;
}

/* --alloc NAME: the strategy called that. */
static int mgr_alloc(struct mgr *m, const char *arg)
{
	unsigned int s;

	for (s = 0; l4u_frames_strategy_name(s); s++) {
		if (!strcmp(arg, l4u_frames_strategy_name(s))) {
			m->cfg.alloc = s;
			return MGR_CONTINUE;
		}
	}
	return mgr_usage_error(m, "--alloc %s: not one of bitmap, freelist, buddy", arg);
}

int mgr_option(struct mgr *m, int opt, const char *arg)
{
	switch (opt) {
	case 's':
		m->cfg.socket = arg;
		return MGR_CONTINUE;
	case 'f':
		if (mgr_count(arg, &m->cfg.frames))
			return mgr_usage_error(m, "--frames %s: not a frame count", arg);
		return MGR_CONTINUE;
	case 'a':
		return mgr_alloc(m, arg);
	case 'v':
		m->cfg.flags |= L4U_DSM_VERBOSE;
		return MGR_CONTINUE;
	case 'h':
		mgr_usage(m);
		return 0;
	default:
		mgr_usage(m);
		return 2;
	}
}

int mgr_options_done(struct mgr *m, int optind, int argc)
{
	if (m->cfg.socket && optind == argc)
		return MGR_CONTINUE;
	mgr_usage(m);
	return 2;
}

/* The engine's lines: what it did on stdout, what failed on stderr. */
static void mgr_log(void *arg, int level, const char *msg)
{
	struct mgr *m = arg;

	if (level == L4U_DSM_LOG_INFO) {
		printf("%s: %s\n", m->name, msg);
		return;
	}
	m->warned = 1;
	fprintf(stderr, "%s: %s\n", m->name, msg);
}

/* SIGTERM or SIGINT came: serving ends after the request at hand. */
static int mgr_on_signal(struct l4u_server *srv, int fd, void *arg)
{
	struct signalfd_siginfo si;

	(void)arg;
	if (read(fd, &si, sizeof(si)) == sizeof(si))
		l4u_server_stop(srv);
	return 0;
}

/* A signalfd for SIGTERM and SIGINT, blocked from now on; -errno. */
static int mgr_signals(void)
{
	sigset_t stop;
	int fd;

	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	if (sigprocmask(SIG_BLOCK, &stop, NULL))
		return -errno;
	fd = signalfd(-1, &stop, SFD_CLOEXEC | SFD_NONBLOCK);
	return fd < 0 ? -errno : fd;
}

/* Run @dsm's server until a signal: 0, or what failed. */
static int mgr_run(struct l4u_dsm *dsm, int sig)
{
	struct l4u_server *srv = l4u_dsm_server(dsm);
	int ret;

	ret = l4u_server_watch(srv, sig, mgr_on_signal, NULL);
	if (!ret)
		ret = l4u_server_run(srv);
	return ret;
}

int mgr_serve(struct mgr *m, const struct l4u_dsm_backend *be)
{
	struct l4u_dsm *dsm;
	int sig, dev, ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	sig = mgr_signals();
	if (sig < 0) {
		fprintf(stderr, "%s: signals: %s\n", m->name, strerror(-sig));
		return 1;
	}
	dev = l4u_open();
	if (dev < 0) {
		fprintf(stderr, "%s: %s: %s\n", m->name, L4_DEVICE_PATH,
			l4u_open_strerror(dev));
		close(sig);
		return 1;
	}
	m->cfg.log = mgr_log;
	m->cfg.log_arg = m;
	ret = l4u_dsm_create(dev, be, &m->cfg, &dsm);
	close(dev);	/* the pool's space and window stay */
	if (ret) {
		if (!m->warned)	/* what failed was said unless this */
			fprintf(stderr, "%s: %s\n", m->name, strerror(-ret));
		close(sig);
		return 1;
	}
	ret = mgr_run(dsm, sig);
	if (ret)
		fprintf(stderr, "%s: serving: %s\n", m->name, strerror(-ret));
	/* write back and free what is left; clients' calls then get EPIPE */
	l4u_dsm_destroy(dsm);
	if (m->cfg.flags & L4U_DSM_VERBOSE)
		printf("%s: exiting\n", m->name);
	close(sig);
	return ret ? 1 : 0;
}
