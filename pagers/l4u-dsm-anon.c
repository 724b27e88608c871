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
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include <l4u/server.h>

static int anon_open(struct l4u_dsm *dsm, struct l4u_dsm_ds *ds,
		     const struct l4u_dsm_req *req, int fd)
{
	(void)dsm;
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
	.name	= "l4u-dsm-anon",
	.op	= L4U_DSM_OPEN_ANON,
	.max_order = 21,	/* 2 MiB flexpages where the caller can take them */
	.open	= anon_open,
};

int main(int argc, char **argv)
{
	return l4u_dsm_main(argc, argv, &anon);
}
