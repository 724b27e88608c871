// SPDX-License-Identifier: MIT
/*
 * ex-dsm: a dataspace manager of your own, on libl4u's l4u_dsm_main().
 * Its dataspaces are read-only and page N reads "page N": the backend
 * only says what a dataspace is (open) and what a page holds (fill);
 * libl4u does the rest -- the socket, the frame pool, MAP with the
 * flexpage offset rule, INFO, the no-senders clean-up, SIGTERM.
 *
 *   ex-dsm --socket PATH|@name [--frames N] [-v]      (l4u_dsm_main(3))
 *   cc -o ex-dsm dsm.c $(pkg-config --cflags --libs l4u)
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include <l4u/server.h>

/* A client asked for a dataspace: check the request, say what it is. */
static int pattern_open(struct l4u_dsm *dsm, struct l4u_dsm_ds *ds,
			const struct l4u_dsm_req *req, int fd)
{
	(void)dsm;
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
static int pattern_fill(struct l4u_dsm_ds *ds, uint64_t page, void *dst)
{
	(void)ds;
	snprintf(dst, L4U_FRAME_SIZE, "page %llu", (unsigned long long)page);
	return 0;
}

static const struct l4u_dsm_backend pattern = {
	.name	= "ex-dsm",
	.op	= L4U_DSM_OPEN_ANON,	/* opened with l4u_ds_open_anon() */
	.open	= pattern_open,
	.fill	= pattern_fill,
};

int main(int argc, char **argv)
{
	return l4u_dsm_main(argc, argv, &pattern);
}
