/* SPDX-License-Identifier: MIT */
/*
 * What the dataspace managers' main()s share (l4u-dsm-anon, l4u-dsm-file):
 * the common options, messages on stdout and stderr, and serving until
 * SIGTERM or SIGINT. The engine is libl4u-server's (l4u/dsm.h); the
 * command line, the signals and the output are the program's.
 */
#ifndef L4U_PAGERS_MGR_H
#define L4U_PAGERS_MGR_H

#include <getopt.h>
#include <stdint.h>
#include <l4u/dsm.h>

struct mgr {
	const char *name;		/* the program, for messages */
	const char *usage;		/* its usage text (%s: the name) */
	struct l4u_dsm_config cfg;	/* what the options said */
	int warned;			/* the engine said something went wrong */
};

/* The options of every manager, for its getopt_long() tables. */
#define MGR_SHORTOPTS	"s:f:a:vh"
#define MGR_LONGOPTS							\
	{ "socket", required_argument, NULL, 's' },			\
	{ "frames", required_argument, NULL, 'f' },			\
	{ "alloc", required_argument, NULL, 'a' },			\
	{ "verbose", no_argument, NULL, 'v' },				\
	{ "help", no_argument, NULL, 'h' }

/* Their usage lines. */
#define MGR_USAGE							\
	"  --socket  where clients open dataspaces (a path, or @name: abstract)\n" \
	"  --frames  memory budget in 4 KiB frames (default 16384: 64 MiB)\n" \
	"  --alloc   how frames are allocated (default bitmap)\n"	\
	"  -v        one line per request on stdout\n"

/* What mgr_option() returns when main() goes on parsing. */
#define MGR_CONTINUE	(-1)

void mgr_init(struct mgr *m, const char *name, const char *usage);

/*
 * A common option (or getopt's '?'): MGR_CONTINUE, or the status main()
 * exits with now (0 after --help, 2 after a usage error, said on stderr).
 */
int mgr_option(struct mgr *m, int opt, const char *arg);

/* After the options: MGR_CONTINUE, or 2 (no --socket, or arguments left). */
int mgr_options_done(struct mgr *m, int optind, int argc);

/* A usage error: says "NAME: message" on stderr; returns 2. */
int mgr_usage_error(struct mgr *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* @arg as a positive count: 0, or -1 if it is not one. */
int mgr_count(const char *arg, uint64_t *count);

/*
 * Serve dataspaces of backend @be as m->cfg says until SIGTERM or SIGINT
 * (blocked from here on and taken through a signalfd the server watches,
 * so that one that comes early still ends serving cleanly), write back and
 * free everything. Returns the exit status: 0, or 1 (said on stderr).
 */
int mgr_serve(struct mgr *m, const struct l4u_dsm_backend *be);

#endif /* L4U_PAGERS_MGR_H */
