// SPDX-License-Identifier: MIT
/*
 * l4u-dsm-anon: a dataspace manager for anonymous memory.
 *
 *   l4u-dsm-anon --socket PATH|@name [--frames N] [-v]
 *                [--alloc bitmap|freelist|buddy]
 *                [--policy fifo|lru|aging|clock|ws [--tau T] --swap FILE]
 *                [--lazy-w] [--pinned]
 *
 * Clients open zero-filled dataspaces of any page-multiple size
 * (l4u_ds_open_anon()). Frames come from the manager's own sigma0-backed
 * space of N frames (its memory budget) on first MAP; they go back when
 * the dataspace's last capability closes. With --policy a full pool
 * evicts pages to the swap file; with --pinned every dataspace gets all
 * its frames at open. See docs/dataspaces.md and docs/swapping.md.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <l4u/dsm.h>
#include <l4u/policy.h>
#include "mgr/mgr.h"

static int anon_open(void *arg, const struct l4u_dsm_req *req, int fd,
		     struct l4u_dsm_ds_info *ds)
{
	(void)arg;
	if (fd >= 0)
		close(fd);
	if (!req->size)
		return -EINVAL;
	ds->size = req->size;
	/* anonymous memory is readable at least */
	ds->flags = req->flags | L4_FPAGE_R;
	snprintf(ds->what, sizeof(ds->what), "anon");
	return 0;
}

static const struct l4u_dsm_backend anon = {
	.op		= L4U_DSM_OPEN_ANON,
	.max_order	= 21,	/* 2 MiB flexpages where the caller can take them */
	.open		= anon_open,
};

static const char usage[] =
	"usage: %s --socket PATH|@name [--frames N] [-v]\n"
	"          [--policy fifo|lru|aging|clock|ws [--tau T] --swap FILE] [--pinned]\n"
	"          [--alloc bitmap|freelist|buddy] [--lazy-w]\n"
	MGR_USAGE
	"  --policy  when the pool is full, evict pages to the swap file by this\n"
	"            replacement policy\n"
	"  --tau     the working-set window (ws), in faults (default: frames)\n"
	"  --swap    the swap file (created or truncated; emptied at exit)\n"
	"  --lazy-w  (swapping) map a page read-only when it comes in, writable\n"
	"            on the next MAP: pages only read stay clean\n"
	"  --pinned  every dataspace gets all its frames at open, never evicted\n";

/* --policy NAME: the policy called that. */
static int anon_policy(struct mgr *m, const char *arg)
{
	uint32_t kind;

	for (kind = 1; kind < L4U_POLICY_KINDS; kind++) {
		if (!strcmp(arg, l4u_policy_name(kind))) {
			m->cfg.policy = kind;
			return MGR_CONTINUE;
		}
	}
	return mgr_usage_error(m, "--policy %s: not one of fifo, lru, aging, clock, ws", arg);
}

/* The swapping options go together. */
static int anon_check(struct mgr *m, const char *swap)
{
	const struct l4u_dsm_config *c = &m->cfg;

	if (!c->policy != !swap)
		return mgr_usage_error(m, "--policy and --swap go together");
	if (c->tau && c->policy != L4U_POLICY_WS)
		return mgr_usage_error(m, "--tau is for --policy ws");
	if ((c->flags & L4U_DSM_LAZY_W) && !c->policy)
		return mgr_usage_error(m, "--lazy-w is for --policy");
	if (c->policy && c->frames > L4U_POLICY_MAX_FRAMES)
		return mgr_usage_error(m, "--frames %" PRIu64 ": too many for a policy",
				       c->frames);
	return MGR_CONTINUE;
}

static int anon_option(struct mgr *m, int opt, const char *arg, const char **swap)
{
	switch (opt) {
	case 'p':
		return anon_policy(m, arg);
	case 't':
		if (mgr_count(arg, &m->cfg.tau))
			return mgr_usage_error(m, "--tau %s: not a positive number", arg);
		return MGR_CONTINUE;
	case 'w':
		*swap = arg;
		return MGR_CONTINUE;
	case 'P':
		m->cfg.flags |= L4U_DSM_PINNED;
		return MGR_CONTINUE;
	case 'L':
		m->cfg.flags |= L4U_DSM_LAZY_W;
		return MGR_CONTINUE;
	default:
		return mgr_option(m, opt, arg);
	}
}

/* Serve with swap file @swap (NULL: none), emptied at the end. */
static int anon_serve(struct mgr *m, const char *swap)
{
	int ret;

	if (!swap)
		return mgr_serve(m, &anon);
	m->cfg.swap_fd = open(swap, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (m->cfg.swap_fd < 0) {
		fprintf(stderr, "%s: --swap %s: %s\n", m->name, swap, strerror(errno));
		return 1;
	}
	ret = mgr_serve(m, &anon);
	if (ftruncate(m->cfg.swap_fd, 0))
		fprintf(stderr, "%s: truncating the swap file: %s\n", m->name,
			strerror(errno));
	close(m->cfg.swap_fd);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		MGR_LONGOPTS,
		{ "policy", required_argument, NULL, 'p' },
		{ "tau", required_argument, NULL, 't' },
		{ "swap", required_argument, NULL, 'w' },
		{ "pinned", no_argument, NULL, 'P' },
		{ "lazy-w", no_argument, NULL, 'L' },
		{ 0 }
	};
	const char *swap = NULL;
	struct mgr m;
	int opt, ret = MGR_CONTINUE;

	mgr_init(&m, "l4u-dsm-anon", usage);
	while (ret == MGR_CONTINUE &&
	       (opt = getopt_long(argc, argv, MGR_SHORTOPTS "p:t:w:PL", opts, NULL)) != -1)
		ret = anon_option(&m, opt, optarg, &swap);
	if (ret == MGR_CONTINUE)
		ret = mgr_options_done(&m, optind, argc);
	if (ret == MGR_CONTINUE)
		ret = anon_check(&m, swap);
	return ret == MGR_CONTINUE ? anon_serve(&m, swap) : ret;
}
