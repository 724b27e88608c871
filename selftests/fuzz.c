// SPDX-License-Identifier: GPL-2.0
/*
 * A structure-aware fuzzer of /dev/l4: mostly valid calls (flexpages that
 * fit their spaces, windows inside them, live gates and tokens), mixed with
 * boundary values and garbage, on every kind of object, from several
 * processes and threads at once:
 *
 *  - worker processes (FZ_PROCS), each with FZ_ACTORS actor threads making
 *    random calls and one pager thread serving the process' pager gate
 *    (page faults answered from a sigma0 space, calls answered with words,
 *    errors or mappings);
 *  - objects travel between the workers over SCM_RIGHTS (a ring of unix
 *    sockets); children are forked with windows and SIGKILLed mid-call or
 *    mid-fault; RLIMIT_NOFILE is lowered at random moments so that object
 *    creation meets EMFILE; netlink dumps (stats, spaces, entries, trees)
 *    run among the rest.
 *
 * The budget is a count of calls (system calls and page touches of all
 * workers; L4_FUZZ_CALLS, default FZ_CALLS on the debug kernel and
 * FZ_CALLS_FAST elsewhere), never a time. The seed is printed; L4_FUZZ_SEED=<seed> replays each actor's
 * sequence of choices (the interleaving of threads is the scheduler's).
 *
 * Oracles: every errno must be one the ABI documents for that call (or that
 * the fuzzer provoked on purpose); children end with exit 0 or SIGKILL;
 * bad pointers give EFAULT, unknown commands ENOTTY; at the end every
 * worker exits 0 and the module's live counters (spaces, frames, nodes,
 * windows, gates, threads) are exactly zero again. The success rate of each
 * kind of call is printed; more than half of the map calls must succeed.
 *
 * Pages of windows are touched only where someone answers the fault: in
 * sigma0 spaces, spaces without a pager (SIGBUS) and spaces whose pager is
 * a worker's served gate ("touchable"). Spaces with an unserved gate as
 * pager are touched only by children that get killed.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/uio.h>

#include "l4_test_util.h"
#include "l4_nl.h"

#ifndef MADV_COLD
#define MADV_COLD		20
#endif
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT		21
#endif
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ	22
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE	23
#endif

L4T_FIXTURE(fuzz);

#define PG		L4T_PAGE
#define FZ_CALLS	100000	/* calls of all workers together (debug kernel) */
#define FZ_CALLS_FAST	25000	/* elsewhere (6.1: no KASAN, but less time) */
#define FZ_PROCS	3
#define FZ_ACTORS	2
#define FZ_SRC_PAGES	256	/* the pager's source space */
#define NSP		10
#define NWIN		14
#define NGATE		10
#define NTOK		8
#define NDEV		3
#define BMP_PAGES	512
#define NFRAME_IDS	32

/* ------------------------------------------------------------------ */
/* Call kinds, counts and the errno oracle                             */
/* ------------------------------------------------------------------ */

enum fz_kind {
	K_CREATE_SPACE, K_CLOSE, K_INFO, K_MAP, K_GRANT, K_UNMAP, K_SET_PAGER,
	K_THREAD_CTL, K_MMAP, K_MUNMAP, K_MREMAP, K_MPROTECT, K_MADVISE,
	K_TOUCH, K_KACCESS, K_CREATE_GATE, K_SEND_CAP, K_CALL, K_RECV, K_READ,
	K_REPLY, K_REPLY_WAIT, K_POLL, K_PASS, K_ACCEPT, K_NL_STATS,
	K_NL_SPACES, K_NL_ENTRIES, K_NL_TREE, K_DEV, K_BADPTR, K_BADCMD,
	K_RLIMIT, K_FORK, K_DUP, K_PAGER_REPLY, K_CHILD, K_NR
};

static const char *const fz_name[K_NR] = {
	"create_space", "close", "space_info", "map", "grant", "unmap",
	"set_pager", "thread_ctl", "mmap", "munmap", "mremap", "mprotect",
	"madvise", "touch", "kernel_access", "create_gate", "send_cap", "call",
	"recv", "read", "reply", "reply_wait", "poll", "scm_send", "scm_recv",
	"nl_stats", "nl_spaces", "nl_entries", "nl_tree", "dev_ioctl",
	"bad_pointer", "bad_command", "rlimit", "fork", "dup", "pager_reply",
	"child_ops",
};

/* errnos each kind may give (0-terminated); anything else is a finding */
#define E(...) (const int[]){ __VA_ARGS__, 0 }
static const int *const fz_allowed[K_NR] = {
	[K_CREATE_SPACE] = E(EINVAL, EMFILE, ENFILE, ENOMEM),
	[K_CLOSE]	= E(0),
	[K_INFO]	= E(0),
	[K_MAP]		= E(EINVAL, ENOENT, EMLINK, ENOMEM),
	[K_GRANT]	= E(EINVAL, ENOENT, EMLINK, ENOMEM),
	[K_UNMAP]	= E(EINVAL, ENOMEM),
	[K_SET_PAGER]	= E(EINVAL, EBADF),
	[K_THREAD_CTL]	= E(EINVAL, ENOENT, ENOMEM),
	[K_MMAP]	= E(EINVAL, ENXIO, ENOMEM, EMFILE),
	[K_MUNMAP]	= E(EINVAL, ENOMEM),
	[K_MREMAP]	= E(EFAULT, EINVAL, ENOMEM),
	[K_MPROTECT]	= E(EACCES, EINVAL, ENOMEM),
	/* ENOSYS: tinyconfig kernels may lack madvise (ADVISE_SYSCALLS) */
	[K_MADVISE]	= E(EINVAL, ENOMEM, EAGAIN, EPERM, EBUSY, EIO, EFAULT,
			    EOPNOTSUPP, ENODEV, ENOSYS),
	[K_TOUCH]	= E(0),
	[K_KACCESS]	= E(EFAULT, EAGAIN),
	[K_CREATE_GATE]	= E(EINVAL, EMFILE, ENFILE, ENOMEM),
	[K_SEND_CAP]	= E(EINVAL, EMFILE, ENFILE, ENOMEM, EPIPE),
	/* a call also fails with the replier's error: fz_reply_err */
	/* EFAULT: a call labelled as a page fault, answered as one */
	[K_CALL]	= E(EINVAL, EBADF, ENOMEM, ETIMEDOUT, EPIPE, EIO,
			    EACCES, ENOSPC, EFAULT),
	[K_RECV]	= E(EAGAIN, EPERM, EBUSY),	/* EBUSY: max_inflight */
	[K_READ]	= E(EAGAIN, EPERM, EINVAL, EBUSY),
	[K_REPLY]	= E(ENOENT, ESRCH, EINVAL, EBADF, EPERM, EBUSY, ENOMEM,
			    EMLINK),
	[K_REPLY_WAIT]	= E(EAGAIN, ENOENT, ESRCH, EINVAL, EBADF, EPERM, EBUSY,
			    ENOMEM, EMLINK),
	[K_POLL]	= E(0),
	[K_PASS]	= E(EAGAIN, ETOOMANYREFS, ENOBUFS, ENOMEM,
			    ECONNREFUSED, ENOTCONN),	/* the peer is done */
	[K_ACCEPT]	= E(EAGAIN, EMFILE, ENOMEM),
	[K_NL_STATS]	= E(EMFILE, ENFILE, ENOMEM, ENOBUFS),
	[K_NL_SPACES]	= E(EMFILE, ENFILE, ENOMEM, ENOBUFS),
	[K_NL_ENTRIES]	= E(ENOENT, EMFILE, ENFILE, ENOMEM, ENOBUFS),
	[K_NL_TREE]	= E(ENOENT, EMFILE, ENFILE, ENOMEM, ENOBUFS),
	[K_DEV]		= E(EMFILE, ENFILE, ENOMEM),
	[K_BADPTR]	= E(EFAULT),
	[K_BADCMD]	= E(ENOTTY),
	[K_RLIMIT]	= E(0),
	[K_FORK]	= E(EAGAIN, ENOMEM, EMFILE, ENFILE),
	[K_DUP]		= E(EMFILE),
	[K_PAGER_REPLY]	= E(EINVAL, ENOENT, ESRCH, ENOMEM, EMLINK),
	[K_CHILD]	= E(0),
};

static const int fz_reply_err[] = { EIO, EACCES, ENOSPC };

#define FZ_NOTES	8
#define FZ_OPS		34
struct fz_shared {
	__u64 calls[K_NR];
	__u64 ok[K_NR];
	__u64 sigsegv, sigbus, kills, emfile;
	__u64 bad;			/* unexpected results */
	__u64 total;			/* calls made: the budget */
	__u64 seen[K_NR];		/* errnos noted per kind (bit errno % 64) */
	__u64 op_ns[FZ_OPS], op_n[FZ_OPS];	/* time per choice, in the actors */
	int nnotes;
	char notes[FZ_NOTES][160];
};

static struct fz_shared *fz_sh;
static __u64 fz_seed;
static bool fz_inject;			/* fault injection: ENOMEM anywhere */

static void fz_note(const char *fmt, ...)
{
	int i = __atomic_fetch_add(&fz_sh->nnotes, 1, __ATOMIC_RELAXED);
	va_list ap;

	__atomic_fetch_add(&fz_sh->bad, 1, __ATOMIC_RELAXED);
	if (i >= FZ_NOTES)
		return;
	va_start(ap, fmt);
	vsnprintf(fz_sh->notes[i], sizeof(fz_sh->notes[i]), fmt, ap);
	va_end(ap);
}

/* The first time this kind of call gives this errno (the notes stay varied). */
static bool fz_first(enum fz_kind k, int err)
{
	__u64 bit = 1ULL << (err & 63);

	return !(__atomic_fetch_or(&fz_sh->seen[k], bit, __ATOMIC_RELAXED) & bit);
}

static bool fz_errno_ok(enum fz_kind k, int err)
{
	const int *a;

	if (fz_inject && (err == ENOMEM || err == EINTR))
		return true;
	for (a = fz_allowed[k]; *a; a++)
		if (*a == err)
			return true;
	return false;
}

/* Account one call of kind @k that returned @ret (errno if < 0). */
static long fz_res_line(enum fz_kind k, long ret, int line)
{
	int err = errno;

	__atomic_fetch_add(&fz_sh->calls[k], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&fz_sh->total, 1, __ATOMIC_RELAXED);
	if (ret >= 0) {
		__atomic_fetch_add(&fz_sh->ok[k], 1, __ATOMIC_RELAXED);
	} else {
		if (err == EMFILE)
			__atomic_fetch_add(&fz_sh->emfile, 1, __ATOMIC_RELAXED);
		if (!fz_errno_ok(k, err) && fz_first(k, err))
			fz_note("%s (line %d): errno %d (%s)", fz_name[k], line,
				err, strerror(err));
		else if (!fz_errno_ok(k, err))
			__atomic_fetch_add(&fz_sh->bad, 1, __ATOMIC_RELAXED);
	}
	errno = err;
	return ret;
}
#define fz_res(k, ret)	fz_res_line((k), (long)(ret), __LINE__)

/* A call that must fail with exactly @want. */
static void fz_want_line(enum fz_kind k, long ret, int want, int line)
{
	int err = errno;

	__atomic_fetch_add(&fz_sh->calls[k], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&fz_sh->total, 1, __ATOMIC_RELAXED);
	if (ret == -1 && err == want) {
		__atomic_fetch_add(&fz_sh->ok[k], 1, __ATOMIC_RELAXED);
		return;
	}
	if (fz_inject && ret == -1 && err == ENOMEM)
		return;
	fz_note("%s (line %d): ret %ld errno %d, want errno %d", fz_name[k],
		line, ret, ret < 0 ? err : 0, want);
}
#define fz_want(k, ret, want)	fz_want_line((k), (long)(ret), (want), __LINE__)

/* ------------------------------------------------------------------ */
/* Random numbers                                                      */
/* ------------------------------------------------------------------ */

static __u64 fz_next(__u64 *s)
{
	__u64 x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/* 0 .. n-1 */
static __u64 rnd(__u64 *s, __u64 n)
{
	return n ? fz_next(s) % n : 0;
}

/* true with probability pct % */
static bool pct(__u64 *s, unsigned int p)
{
	return rnd(s, 100) < p;
}

/* ------------------------------------------------------------------ */
/* Objects                                                             */
/* ------------------------------------------------------------------ */

struct fz_space {
	int fd;			/* -1: free slot */
	__u64 size, id;
	__u32 flags;
	bool touchable;		/* a fault in it is always answered */
	__u64 serial;		/* names this slot's occupant for windows */
	__u64 bmp[BMP_PAGES / 64];	/* pages probably present */
};

struct fz_win {
	char *addr;		/* NULL: free slot */
	size_t len;
	__u64 off;		/* space address at addr */
	bool touchable;
	int slot;		/* its space's slot, if serial still matches */
	__u64 serial;
};

struct fz_gate {
	int fd;			/* -1: free slot */
	bool cap;		/* a send capability */
	bool served;		/* a worker's pager gate: calls get answered */
};

struct fz_tok {
	int gfd;		/* the receive fd it came from (-1: free) */
	__u64 token;
	__u64 rcv_window;
};

struct fz_proc;

struct fz_actor {
	struct fz_proc *proc;
	__u64 rng;
	int idx;
	struct fz_space sp[NSP];
	struct fz_win win[NWIN];
	struct fz_gate gate[NGATE];
	struct fz_tok tok[NTOK];
	int dev[NDEV];
	int kpipe[2];		/* for kernel-mode accesses of windows */
	__u64 serial;
	bool child;		/* running in a forked child: no locks */
};

struct fz_proc {
	int idx;
	int dev;
	int pager;		/* receive fd of the pager gate */
	int pager_cap;
	int src;		/* the pager's sigma0 source space */
	char *srcwin;
	int ring_out, ring_in;
	int stop;		/* eventfd: the pager thread ends */
	long budget;		/* calls of all workers together */
	struct rlimit nofile;
	pthread_mutex_t nl_lock;
	struct l4nl nl;
	bool nl_open;
	__u64 frame_ids[NFRAME_IDS];
	int nframe_ids;
	struct fz_actor actor[FZ_ACTORS];
};

static void bmp_set(struct fz_space *s, __u64 addr, __u64 len)
{
	__u64 p;

	for (p = addr / PG; p < (addr + len) / PG && p < BMP_PAGES; p++)
		s->bmp[p / 64] |= 1ULL << (p % 64);
}

static void bmp_clear(struct fz_space *s, __u64 addr, __u64 len)
{
	__u64 p;

	for (p = addr / PG; p < (addr + len) / PG && p < BMP_PAGES; p++)
		s->bmp[p / 64] &= ~(1ULL << (p % 64));
}

/* A random page marked present, or -1. */
static long bmp_pick(struct fz_actor *a, struct fz_space *s)
{
	__u64 pages = s->size / PG < BMP_PAGES ? s->size / PG : BMP_PAGES;
	__u64 start = rnd(&a->rng, pages), i;

	for (i = 0; i < pages; i++) {
		__u64 p = (start + i) % pages;

		if (s->bmp[p / 64] & (1ULL << (p % 64)))
			return (long)p;
	}
	return -1;
}

static struct fz_space *pick_space(struct fz_actor *a)
{
	int i, start = rnd(&a->rng, NSP);

	for (i = 0; i < NSP; i++)
		if (a->sp[(start + i) % NSP].fd >= 0)
			return &a->sp[(start + i) % NSP];
	return NULL;
}

/* A space with pages probably present, or any. */
static struct fz_space *pick_full_space(struct fz_actor *a)
{
	int i, start = rnd(&a->rng, NSP);

	for (i = 0; i < NSP; i++) {
		struct fz_space *s = &a->sp[(start + i) % NSP];
		int w;

		if (s->fd < 0)
			continue;
		for (w = 0; w < BMP_PAGES / 64; w++)
			if (s->bmp[w])
				return s;
	}
	return pick_space(a);
}

static struct fz_win *pick_win(struct fz_actor *a, bool touchable)
{
	int i, start = rnd(&a->rng, NWIN);

	for (i = 0; i < NWIN; i++) {
		struct fz_win *w = &a->win[(start + i) % NWIN];

		if (w->addr && (!touchable || w->touchable))
			return w;
	}
	return NULL;
}

static struct fz_gate *pick_gate(struct fz_actor *a, int want_cap)
{
	int i, start = rnd(&a->rng, NGATE);

	for (i = 0; i < NGATE; i++) {
		struct fz_gate *g = &a->gate[(start + i) % NGATE];

		if (g->fd >= 0 && (want_cap < 0 || g->cap == want_cap))
			return g;
	}
	return NULL;
}

/* A served gate fd for a touchable space's pager: ours, or -1 (none). */
static int served_gate(struct fz_actor *a)
{
	struct fz_gate *g = pick_gate(a, -1);

	if (g && g->served && pct(&a->rng, 50))
		return g->fd;
	return pct(&a->rng, 50) ? a->proc->pager : a->proc->pager_cap;
}

static void close_space(struct fz_actor *a, struct fz_space *s)
{
	(void)a;
	fz_res(K_CLOSE, close(s->fd));
	s->fd = -1;
}

static void close_gate(struct fz_actor *a, struct fz_gate *g)
{
	int i;

	for (i = 0; i < NTOK; i++)
		if (a->tok[i].gfd == g->fd)
			a->tok[i].gfd = -1;
	fz_res(K_CLOSE, close(g->fd));
	g->fd = -1;
}

static struct fz_space *free_space_slot(struct fz_actor *a)
{
	int i;

	for (i = 0; i < NSP; i++)
		if (a->sp[i].fd < 0)
			return &a->sp[i];
	if (a->child)
		return NULL;
	i = rnd(&a->rng, NSP);
	close_space(a, &a->sp[i]);
	return &a->sp[i];
}

static struct fz_gate *free_gate_slot(struct fz_actor *a)
{
	int i;

	for (i = 0; i < NGATE; i++)
		if (a->gate[i].fd < 0)
			return &a->gate[i];
	if (a->child)
		return NULL;
	i = rnd(&a->rng, NGATE);
	close_gate(a, &a->gate[i]);
	return &a->gate[i];
}

static struct fz_win *free_win_slot(struct fz_actor *a)
{
	int i;

	for (i = 0; i < NWIN; i++)
		if (!a->win[i].addr)
			return &a->win[i];
	i = rnd(&a->rng, NWIN);
	fz_res(K_MUNMAP, munmap(a->win[i].addr, a->win[i].len));
	a->win[i].addr = NULL;
	return &a->win[i];
}

static void add_space(struct fz_actor *a, struct fz_space *s, int fd,
		      __u64 size, __u32 flags, __u64 id, bool touchable)
{
	memset(s, 0, sizeof(*s));
	s->fd = fd;
	s->size = size;
	s->flags = flags;
	s->id = id;
	s->touchable = touchable;
	s->serial = ++a->serial;
}

/* ------------------------------------------------------------------ */
/* Spaces                                                              */
/* ------------------------------------------------------------------ */

static __u64 random_size(struct fz_actor *a, bool *valid)
{
	__u64 *r = &a->rng;

	*valid = true;
	switch (rnd(r, 20)) {
	case 0:
		*valid = false;
		switch (rnd(r, 5)) {
		case 0: return 0;
		case 1: return L4_SPACE_MAX_SIZE + PG;
		case 2: return PG - 1;
		case 3: return (1 + rnd(r, 64)) * PG + 1 + rnd(r, PG - 1);
		default: return ~0ULL & ~(PG - 1);
		}
	case 1:
		return L4_SPACE_MAX_SIZE;
	case 2:
		return (1ULL << (30 + rnd(r, 17)));
	case 3: case 4: case 5:
		return (64 + rnd(r, 960)) * PG;
	default:
		return pct(r, 50) ? (1ULL << (12 + rnd(r, 7))) : (1 + rnd(r, 64)) * PG;
	}
}

static void op_create_space(struct fz_actor *a)
{
	struct l4_space_create req = { 0 };
	__u64 *r = &a->rng;
	struct fz_space *s;
	bool valid, touchable = true, garbage = false;
	int fd, dev = a->dev[rnd(r, NDEV)];

	if (dev < 0)
		dev = a->proc->dev;
	req.size = random_size(a, &valid);
	switch (rnd(r, 10)) {
	case 0: case 1: case 2: case 3:
		req.flags = L4_SPACE_SIGMA0;
		break;
	case 4:
		req.flags = L4_SPACE_SIGMA0 | L4_SPACE_FAULT_AROUND;
		break;
	case 5:
		req.flags = L4_SPACE_FAULT_AROUND;
		break;
	case 6:
		if (pct(r, 30)) {
			req.flags = 1U << rnd(r, 32);
			garbage = req.flags & ~L4_SPACE_FLAGS_KNOWN;
		}
		break;
	default:
		break;
	}
	if (pct(r, 30))
		req.max_frames = pct(r, 10) ? ~0ULL : 1 + rnd(r, 64);
	if (pct(r, 3)) {
		garbage = true;
		switch (rnd(r, 3)) {
		case 0: req.pad = 1; break;
		case 1: req.id = 1 + rnd(r, 1000); break;
		default: req.reserved[rnd(r, 4)] = 1; break;
		}
	}
	s = free_space_slot(a);
	if (!s)
		return;
	fd = fz_res(K_CREATE_SPACE, ioctl(dev, L4_IOC_CREATE_SPACE, &req));
	if ((!valid || garbage) && !(fz_inject && fd < 0)) {
		if (fd >= 0 || errno != EINVAL)
			fz_note("create_space: size %llx flags %x: fd %d errno %d, want EINVAL",
				req.size, req.flags, fd, errno);
		if (fd >= 0)
			close(fd);
		return;
	}
	if (fd < 0)
		return;
	if (!(req.flags & L4_SPACE_SIGMA0)) {
		struct l4_pager p = { .gate_fd = -1 };
		struct fz_gate *g;

		switch (rnd(r, 10)) {
		case 0: case 1:
			break;			/* no pager: SIGBUS */
		case 2:
			g = pick_gate(a, -1);
			if (g && !g->served) {
				p.gate_fd = g->fd;
				touchable = false;
			}
			break;
		default:
			p.gate_fd = served_gate(a);
			break;
		}
		if (p.gate_fd >= 0 &&
		    fz_res(K_SET_PAGER, ioctl(fd, L4_IOC_SET_PAGER, &p)))
			touchable = true;	/* it stayed without */
	}
	add_space(a, s, fd, req.size, req.flags, req.id, touchable);
}

static void op_info(struct fz_actor *a)
{
	struct fz_space *s = pick_space(a);
	struct l4_space_info info;

	if (!s)
		return;
	if (!fz_res(K_INFO, l4t_info(s->fd, &info))) {
		if (info.size != s->size || info.flags != s->flags || info.pad)
			fz_note("space_info: size %llx/%llx flags %x/%x",
				info.size, s->size, info.flags, s->flags);
		/*
		 * A sigma0 space's frames are its entries, but a first touch
		 * charges its frame before the entry is in (the limit must
		 * refuse before anything is allocated): another thread's
		 * touch may be in between. Only what stays so is a finding.
		 */
		for (int i = 0; (s->flags & L4_SPACE_SIGMA0) && !info.grants &&
				 info.frames > info.nodes; i++) {
			if (i == 3) {
				fz_note("space_info: frames %llu > nodes %llu",
					info.frames, info.nodes);
				break;
			}
			usleep(2000);
			if (l4t_info(s->fd, &info))
				break;
		}
		if (!s->id)
			s->id = info.id;
	}
}

/* An order that fits @size bytes at most (at least 12, up to 12 + @extra). */
static unsigned int fit_order(__u64 *r, __u64 size, unsigned int extra)
{
	unsigned int o = 12 + rnd(r, extra + 1);

	while (o > 12 && (1ULL << o) > size)
		o--;
	return o;
}

static void op_map(struct fz_actor *a, bool grant)
{
	struct fz_space *src = pick_full_space(a), *dst = pick_space(a);
	__u64 *r = &a->rng;
	struct l4_map m = { 0 };
	unsigned int so, ro;
	__u64 sbase, dbase, rights;
	long page;
	int ret;

	if (!src || !dst)
		return;
	page = bmp_pick(a, src);
	if (page < 0)
		page = rnd(r, src->size / PG < BMP_PAGES ? src->size / PG : BMP_PAGES);
	so = fit_order(r, src->size < dst->size ? src->size : dst->size, 4);
	sbase = ((__u64)page * PG) & ~((1ULL << so) - 1);
	if (sbase + (1ULL << so) > src->size)
		so = 12, sbase = (__u64)page * PG;
	rights = pct(r, 70) ? L4_FPAGE_RW : pct(r, 50) ? L4_FPAGE_R : 1 + rnd(r, 7);
	dbase = rnd(r, (dst->size >> so)) << so;
	if (dbase + (1ULL << so) > dst->size)
		dbase = 0;
	m.src_fd = src->fd;
	m.item.fpage = L4_FPAGE(sbase, so, rights);
	switch (rnd(r, 3)) {
	case 0:		/* the whole space as receive window */
		m.rcv_fpage = L4_FPAGE_WHOLE_SPACE;
		m.item.control = L4_MAP_ITEM(dbase, grant);
		break;
	case 1:		/* a receive window the size of the send fpage */
		m.rcv_fpage = L4_FPAGE(dbase, so, 0);
		m.item.control = L4_MAP_ITEM(rnd(r, 1ULL << 40) << 12, grant);
		break;
	default:	/* a smaller receive window: part of the send fpage */
		ro = 12 + rnd(r, so - 11);
		m.rcv_fpage = L4_FPAGE(dbase + (rnd(r, 1ULL << (so - ro)) << ro), ro, 0);
		m.item.control = L4_MAP_ITEM(sbase + (rnd(r, 1ULL << (so - 12)) << 12), grant);
		break;
	}
	if (pct(r, 4)) {	/* hostile */
		switch (rnd(r, 7)) {
		case 0: m.item.fpage = fz_next(r); break;
		case 1: m.rcv_fpage = fz_next(r); break;
		case 2: m.item.control |= 0x7ff & ~L4_MAP_ITEM_KNOWN; break;
		case 3: m.flags = 1U << rnd(r, 32); break;
		case 4: m.reserved[rnd(r, 3)] = 1; break;
		case 5: m.src_fd = a->proc->pager; break;	/* a gate */
		default: m.item.fpage = L4_FPAGE(sbase, 6 + rnd(r, 6), rights); break;
		}
	}
	ret = fz_res(grant ? K_GRANT : K_MAP, ioctl(dst->fd, L4_IOC_MAP, &m));
	if (!ret && m.pages) {
		bmp_set(dst, m.dst_addr, m.pages * PG);
		if (grant && src != dst)
			bmp_clear(src, sbase, 1ULL << so);
	} else if (ret && errno == ENOENT) {
		bmp_clear(src, sbase, 1ULL << so);
	}
}

static void op_unmap(struct fz_actor *a)
{
	struct fz_space *s = pick_full_space(a);
	__u64 *r = &a->rng;
	struct l4_unmap u = { 0 };
	unsigned int o;
	__u64 base, rights;
	long page;

	if (!s)
		return;
	page = bmp_pick(a, s);
	if (page < 0)
		page = 0;
	o = fit_order(r, s->size, pct(r, 5) ? 20 : 3);
	base = ((__u64)page * PG) & ~((1ULL << o) - 1);
	rights = pct(r, 60) ? L4_FPAGE_RWX : 1 + rnd(r, 7);
	u.fpage = L4_FPAGE(base, o, rights);
	u.flags = pct(r, 50) ? L4_UNMAP_ALL_SPACES : 0;
	if (pct(r, 2))
		u.fpage = L4_FPAGE_WHOLE_SPACE | L4_FPAGE_RWX;
	if (pct(r, 3)) {
		switch (rnd(r, 3)) {
		case 0: u.flags |= 1U << rnd(r, 31); break;
		case 1: u.pad = 1; break;
		default: u.fpage = fz_next(r); break;
		}
	}
	if (!fz_res(K_UNMAP, ioctl(s->fd, L4_IOC_UNMAP, &u)) &&
	    (u.flags & L4_UNMAP_ALL_SPACES) && (rights & L4_FPAGE_R))
		bmp_clear(s, base, 1ULL << o);
}

static void op_set_pager(struct fz_actor *a)
{
	struct fz_space *s = pick_space(a);
	struct l4_pager p = { .gate_fd = -1 };
	struct fz_gate *g;

	if (!s || (s->flags & L4_SPACE_SIGMA0 && pct(&a->rng, 50)))
		return;
	if (s->touchable) {
		if (pct(&a->rng, 80))
			p.gate_fd = served_gate(a);
	} else if ((g = pick_gate(a, -1))) {
		p.gate_fd = g->fd;
	}
	if (pct(&a->rng, 5)) {
		switch (rnd(&a->rng, 3)) {
		case 0: p.flags = 1; break;
		case 1: p.reserved[1] = 1; break;
		default: p.gate_fd = s->fd; break;	/* no gate */
		}
	}
	fz_res(K_SET_PAGER, ioctl(s->fd, L4_IOC_SET_PAGER, &p));
}

/* Register the calling thread; only with served pagers (it touches). */
static void op_thread_ctl(struct fz_actor *a)
{
	struct fz_space *s = pick_space(a);
	struct l4_thread_control tc = { .pager_fd = -1 };

	if (!s || !s->touchable)
		return;
	switch (rnd(&a->rng, 4)) {
	case 0:
		tc.flags = L4_THREAD_UNREGISTER;
		break;
	case 1:
		break;			/* the space's default pager */
	default:
		tc.pager_fd = served_gate(a);
		break;
	}
	if (pct(&a->rng, 4))
		tc.thread_id = 1;
	fz_res(K_THREAD_CTL, ioctl(s->fd, L4_IOC_THREAD_CONTROL, &tc));
}

/* ------------------------------------------------------------------ */
/* Windows                                                             */
/* ------------------------------------------------------------------ */

static void op_mmap(struct fz_actor *a)
{
	struct fz_space *s = pick_space(a);
	__u64 *r = &a->rng;
	struct fz_win *w;
	__u64 pages, len, off;
	int prot = pct(r, 85) ? PROT_READ | PROT_WRITE : PROT_READ;
	int flags = MAP_SHARED;
	bool bad = false;
	char *p;

	if (!s)
		return;
	pages = s->size / PG;
	len = 1 + rnd(r, pages < 32 ? pages : 32);
	off = rnd(r, pages - len + 1);
	if (pct(r, 4)) {
		bad = true;
		if (pct(r, 50))
			off = pages - len + 1 + rnd(r, 4);	/* ENXIO */
		else
			flags = MAP_PRIVATE;			/* EINVAL */
	}
	w = free_win_slot(a);
	p = mmap(NULL, len * PG, prot, flags, s->fd, (off_t)(off * PG));
	fz_res(K_MMAP, p == MAP_FAILED ? -1 : 0);
	if (p != MAP_FAILED && bad)
		fz_note("mmap of %llu pages at %llu of %llu, flags %x succeeded",
			len, off, pages, flags);
	if (p == MAP_FAILED)
		return;
	w->addr = p;
	w->len = len * PG;
	w->off = off * PG;
	w->touchable = s->touchable;
	w->slot = s - a->sp;
	w->serial = s->serial;
}

static void op_munmap(struct fz_actor *a)
{
	struct fz_win *w = pick_win(a, false);
	size_t cut;

	if (!w)
		return;
	if (w->len == PG || pct(&a->rng, 60)) {
		fz_res(K_MUNMAP, munmap(w->addr, w->len));
		w->addr = NULL;
		return;
	}
	cut = (1 + rnd(&a->rng, w->len / PG - 1)) * PG;
	if (pct(&a->rng, 50)) {		/* the head */
		fz_res(K_MUNMAP, munmap(w->addr, cut));
		w->addr += cut;
		w->off += cut;
		w->len -= cut;
	} else {			/* the tail */
		fz_res(K_MUNMAP, munmap(w->addr + cut, w->len - cut));
		w->len = cut;
	}
}

static void op_mremap(struct fz_actor *a)
{
	struct fz_win *w = pick_win(a, false);
	size_t nlen;
	char *p;

	if (!w)
		return;
	nlen = (1 + rnd(&a->rng, w->len / PG + 2)) * PG;
	p = mremap(w->addr, w->len, nlen, pct(&a->rng, 80) ? MREMAP_MAYMOVE : 0);
	fz_res(K_MREMAP, p == MAP_FAILED ? -1 : 0);
	if (p == MAP_FAILED)
		return;
	w->addr = p;
	w->len = nlen;
}

static void op_mprotect(struct fz_actor *a)
{
	static const int prots[] = {
		PROT_NONE, PROT_READ, PROT_READ | PROT_WRITE,
		PROT_READ | PROT_WRITE, PROT_READ | PROT_EXEC,
	};
	struct fz_win *w = pick_win(a, false);
	size_t start, len;

	if (!w)
		return;
	start = rnd(&a->rng, w->len / PG) * PG;
	len = (1 + rnd(&a->rng, (w->len - start) / PG)) * PG;
	fz_res(K_MPROTECT, mprotect(w->addr + start, len,
				    prots[rnd(&a->rng, ARRAY_SIZE(prots))]));
}

static void op_madvise(struct fz_actor *a)
{
	static const int advs[] = {
		MADV_DONTNEED, MADV_DONTNEED, MADV_WILLNEED, MADV_NORMAL,
		MADV_RANDOM, MADV_SEQUENTIAL, MADV_DONTFORK, MADV_DOFORK,
		MADV_COLD, MADV_PAGEOUT, MADV_REMOVE, MADV_FREE,
		MADV_DONTDUMP, MADV_DODUMP, MADV_WIPEONFORK, MADV_KEEPONFORK,
		/* these fault pages in from the kernel: touchable windows only */
		MADV_POPULATE_READ, MADV_POPULATE_WRITE,
	};
	struct fz_win *w = pick_win(a, false);
	size_t start, len;
	int adv;

	if (!w)
		return;
	adv = advs[rnd(&a->rng, ARRAY_SIZE(advs))];
	if ((adv == MADV_POPULATE_READ || adv == MADV_POPULATE_WRITE) &&
	    !w->touchable)
		adv = MADV_DONTNEED;
	start = rnd(&a->rng, w->len / PG) * PG;
	len = (1 + rnd(&a->rng, (w->len - start) / PG)) * PG;
	fz_res(K_MADVISE, madvise(w->addr + start, len, adv));
}

static void mark_touched(struct fz_actor *a, struct fz_win *w, size_t at)
{
	struct fz_space *s = &a->sp[w->slot];

	if (s->fd >= 0 && s->serial == w->serial)
		bmp_set(s, w->off + (at & ~(PG - 1)), PG);
}

static void op_touch(struct fz_actor *a)
{
	struct fz_win *w = pick_win(a, true);
	struct l4t_fault f;
	__u64 v = fz_next(&a->rng);
	size_t at;
	int n = 1 + rnd(&a->rng, 4), i;

	if (!w)
		return;
	for (i = 0; i < n; i++) {
		at = rnd(&a->rng, w->len / 8) * 8;
		l4t_access((volatile __u64 *)(w->addr + at),
			   pct(&a->rng, 50) ? L4T_WRITE : L4T_READ, &v, &f);
		__atomic_fetch_add(&fz_sh->calls[K_TOUCH], 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&fz_sh->total, 1, __ATOMIC_RELAXED);
		if (!f.sig)
			__atomic_fetch_add(&fz_sh->ok[K_TOUCH], 1, __ATOMIC_RELAXED);
		if (f.sig == SIGSEGV)
			__atomic_fetch_add(&fz_sh->sigsegv, 1, __ATOMIC_RELAXED);
		else if (f.sig == SIGBUS)
			__atomic_fetch_add(&fz_sh->sigbus, 1, __ATOMIC_RELAXED);
		else
			mark_touched(a, w, at);
		if (f.sig && f.addr != (void *)(w->addr + at) &&
		    f.addr != (void *)((uintptr_t)(w->addr + at) & ~(PG - 1)))
			fz_note("touch: signal %d at %p, touched %p", f.sig,
				f.addr, w->addr + at);
	}
}

/* The kernel reads or writes a window (copy_from/to_user). */
static void op_kaccess(struct fz_actor *a)
{
	struct fz_win *w = pick_win(a, true);
	char buf[64];
	size_t at;
	ssize_t n;

	if (!w || a->kpipe[0] < 0)
		return;
	at = rnd(&a->rng, w->len / PG) * PG;
	switch (rnd(&a->rng, 3)) {
	case 0:		/* the kernel reads the window */
		n = fz_res(K_KACCESS, write(a->kpipe[1], w->addr + at, 1 + rnd(&a->rng, 64)));
		if (n > 0 && read(a->kpipe[0], buf, n) != n)
			fz_note("kaccess: pipe lost bytes");
		break;
	case 1:		/* the kernel writes it */
		memset(buf, 0x3c, sizeof(buf));
		if (write(a->kpipe[1], buf, sizeof(buf)) != sizeof(buf))
			break;
		n = fz_res(K_KACCESS, read(a->kpipe[0], w->addr + at, sizeof(buf)));
		if (n < 0)	/* drain what the failed read left */
			n = read(a->kpipe[0], buf, sizeof(buf));
		break;
	default:	/* an ioctl's output lands in the window */
		fz_res(K_KACCESS, ioctl(a->proc->dev, L4_IOC_STATS, w->addr + at));
		break;
	}
}

/* ------------------------------------------------------------------ */
/* Gates                                                               */
/* ------------------------------------------------------------------ */

static void op_create_gate(struct fz_actor *a)
{
	struct fz_gate *g = free_gate_slot(a);
	int dev = a->dev[rnd(&a->rng, NDEV)], fd;

	if (!g)
		return;
	if (dev < 0)
		dev = a->proc->dev;
	if (pct(&a->rng, 3)) {
		fz_want(K_CREATE_GATE, ioctl(dev, L4_IOC_CREATE_GATE, 1 + rnd(&a->rng, 100)), EINVAL);
		return;
	}
	fd = fz_res(K_CREATE_GATE, ioctl(dev, L4_IOC_CREATE_GATE, 0));
	if (fd < 0)
		return;
	if (fcntl(fd, F_SETFL, O_NONBLOCK))
		fz_note("create_gate: O_NONBLOCK: errno %d", errno);
	g->fd = fd;
	g->cap = false;
	g->served = false;
}

static void op_send_cap(struct fz_actor *a)
{
	struct fz_gate *from = pick_gate(a, -1), *g;
	int src, fd;
	bool served;

	if (pct(&a->rng, 30) || !from) {
		src = a->proc->pager;
		served = true;
	} else {
		src = from->fd;
		served = from->served;
	}
	if (pct(&a->rng, 3)) {
		fz_want(K_SEND_CAP, ioctl(src, L4_IOC_GATE_SEND_CAP, 1), EINVAL);
		return;
	}
	g = free_gate_slot(a);
	if (!g)
		return;
	if (from && from->fd < 0)	/* the free slot was its own */
		return;
	fd = fz_res(K_SEND_CAP, ioctl(src, L4_IOC_GATE_SEND_CAP, 0));
	if (fd < 0)
		return;
	g->fd = fd;
	g->cap = true;
	g->served = served;
}

/* A receive window for a call or nothing (-1). */
static int call_window(struct fz_actor *a, __u64 *win)
{
	struct fz_space *s = pick_space(a);
	unsigned int o;

	*win = 0;
	if (!s || pct(&a->rng, 40))
		return -1;
	if (pct(&a->rng, 30)) {
		*win = L4_FPAGE_WHOLE_SPACE;
	} else {
		o = fit_order(&a->rng, s->size, 4);
		*win = L4_FPAGE(rnd(&a->rng, s->size >> o) << o, o, 0);
	}
	return s->fd;
}

static void op_call(struct fz_actor *a)
{
	struct fz_gate *g = pick_gate(a, -1);
	__u64 *r = &a->rng;
	struct l4_call c = { 0 };
	int fd;
	bool served;

	if (!g || pct(r, 20)) {
		fd = pct(r, 50) ? a->proc->pager : a->proc->pager_cap;
		served = true;
	} else {
		fd = g->fd;
		served = g->served;
	}
	c.label = pct(r, 3) ? L4_LABEL_PAGE_FAULT : (__s64)rnd(r, 1000);
	c.nwords = rnd(r, L4_MSG_WORDS + 1);
	c.words[0] = fz_next(r);
	c.rcv_space_fd = call_window(a, &c.rcv_window);
	/* a served gate answers; others make us wait at most a millisecond */
	c.timeout_ns = served ? 50000000LL :
		       pct(r, 85) ? 1000 + (__s64)rnd(r, 1000000) :
				    2000000 + (__s64)rnd(r, 6000000);
	if (pct(r, 4)) {
		switch (rnd(r, 5)) {
		case 0: c.flags = 1; break;
		case 1: c.nwords = L4_MSG_WORDS + 1 + rnd(r, 100); break;
		case 2: c.pages = 1; break;
		case 3: c.rcv_space_fd = a->proc->pager; c.rcv_window = L4_FPAGE_WHOLE_SPACE; break;
		default: c.timeout_ns = -1; break;
		}
	}
	fz_res(K_CALL, ioctl(fd, L4_IOC_CALL, &c));
}

static void reply_tok(struct fz_actor *a, struct fz_tok *t);

static struct fz_tok *keep_token(struct fz_actor *a, int gfd, const struct l4_msg *m)
{
	int i = rnd(&a->rng, NTOK);

	if (!m->token)		/* a no-senders notification: no reply */
		return NULL;
	a->tok[i].gfd = gfd;
	a->tok[i].token = m->token;
	a->tok[i].rcv_window = m->rcv_window;
	return &a->tok[i];
}

static void op_recv(struct fz_actor *a, bool use_read)
{
	struct fz_gate *g = pick_gate(a, -1);
	struct fz_tok *t;
	struct l4_msg m;
	size_t len = sizeof(m);

	if (!g || g->served)	/* a served gate's messages are its pager's */
		return;
	if (use_read) {
		if (pct(&a->rng, 5))
			len = rnd(&a->rng, sizeof(m));
		if (fz_res(K_READ, read(g->fd, &m, len)) == (long)sizeof(m))
			keep_token(a, g->fd, &m);
		return;
	}
	if (!fz_res(K_RECV, ioctl(g->fd, L4_IOC_RECV, &m))) {
		if (g->cap)
			fz_note("recv on a send capability succeeded");
		t = keep_token(a, g->fd, &m);
		if (t && pct(&a->rng, 60))
			reply_tok(a, t);	/* while the caller still waits */
	}
}

/* A reply to @t (or to a made-up token): words, an error or a mapping. */
static void make_reply(struct fz_actor *a, struct l4_reply *rep, struct fz_tok *t)
{
	__u64 *r = &a->rng;
	struct fz_space *s;

	memset(rep, 0, sizeof(*rep));
	rep->token = t ? t->token : fz_next(r) | 1;
	rep->label = rnd(r, 100);
	rep->nwords = rnd(r, L4_MSG_WORDS + 1);
	if (pct(r, 20)) {
		rep->error = fz_reply_err[rnd(r, ARRAY_SIZE(fz_reply_err))];
	} else if (t && t->rcv_window && pct(r, 50) && (s = pick_full_space(a))) {
		long page = bmp_pick(a, s);

		rep->nitems = 1;
		rep->items[0].src_fd = s->fd;
		rep->items[0].item.control = L4_MAP_ITEM(0, 0);
		rep->items[0].item.fpage = L4_FPAGE((page < 0 ? 0 : page) * PG, 12,
						    L4_FPAGE_RW);
	}
	if (pct(r, 3)) {
		switch (rnd(r, 4)) {
		case 0: rep->flags = 1; break;
		case 1: rep->nitems = L4_MSG_ITEMS + 1; break;
		case 2: rep->error = -1; break;
		default: rep->reserved[0] = 1; break;
		}
	}
}

static struct fz_tok *pick_tok(struct fz_actor *a)
{
	int i, start = rnd(&a->rng, NTOK);

	for (i = 0; i < NTOK; i++)
		if (a->tok[(start + i) % NTOK].gfd >= 0)
			return &a->tok[(start + i) % NTOK];
	return NULL;
}

static void op_reply(struct fz_actor *a)
{
	struct fz_tok *t = pick_tok(a);
	struct fz_gate *g;
	struct l4_reply rep;
	int fd;

	if (t && pct(&a->rng, 90)) {
		fd = t->gfd;
	} else {
		g = pick_gate(a, -1);
		if (!g || g->served)
			return;
		fd = g->fd;
		t = NULL;
	}
	make_reply(a, &rep, t);
	if (!fz_res(K_REPLY, ioctl(fd, L4_IOC_REPLY, &rep)) || !t)
		return;
	if (errno != EINVAL && errno != EBADF && errno != EBUSY)
		t->gfd = -1;		/* answered, or gone */
}

static void reply_tok(struct fz_actor *a, struct fz_tok *t)
{
	struct l4_reply rep;

	make_reply(a, &rep, t);
	if (!fz_res(K_REPLY, ioctl(t->gfd, L4_IOC_REPLY, &rep)) ||
	    (errno != EINVAL && errno != EBADF && errno != EBUSY))
		t->gfd = -1;
}

static void op_reply_wait(struct fz_actor *a)
{
	struct fz_gate *g = pick_gate(a, 0);
	struct l4_reply_wait rw;
	struct fz_tok *t = pick_tok(a);

	if (!g || g->served)
		return;
	if (t && t->gfd == g->fd && pct(&a->rng, 80)) {
		make_reply(a, &rw.reply, t);
		t->gfd = -1;
	} else {
		memset(&rw.reply, 0, sizeof(rw.reply));
	}
	if (!fz_res(K_REPLY_WAIT, ioctl(g->fd, L4_IOC_REPLY_WAIT, &rw)))
		keep_token(a, g->fd, &rw.msg);
}

static void op_poll(struct fz_actor *a)
{
	struct pollfd pfd[NGATE];
	int i, n = 0;

	for (i = 0; i < NGATE; i++)
		if (a->gate[i].fd >= 0) {
			pfd[n].fd = a->gate[i].fd;
			pfd[n].events = POLLIN | POLLOUT;
			n++;
		}
	fz_res(K_POLL, poll(pfd, n, 0));
}

/* ------------------------------------------------------------------ */
/* fds between the workers                                             */
/* ------------------------------------------------------------------ */

enum { FT_SPACE = 1, FT_GATE, FT_CAP, FT_DEV };

/* word: size (page multiple) | type | touchable << 4 | served << 5 | sigma0 << 6 */
static void op_pass(struct fz_actor *a)
{
	__u64 word = 0;
	struct fz_space *s;
	struct fz_gate *g;
	int fd = -1;

	switch (rnd(&a->rng, 3)) {
	case 0:
		if ((s = pick_space(a))) {
			fd = s->fd;
			word = s->size | FT_SPACE | (s->touchable << 4) |
			       ((s->flags & L4_SPACE_SIGMA0) ? 1 << 6 : 0);
		}
		break;
	case 1:
		if ((g = pick_gate(a, -1))) {
			fd = g->fd;
			word = (g->cap ? FT_CAP : FT_GATE) | (g->served << 5);
		}
		break;
	default:
		fd = a->proc->dev;
		word = FT_DEV;
		break;
	}
	if (fd < 0)
		return;
	{
		char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
		struct iovec iov = { .iov_base = &word, .iov_len = sizeof(word) };
		struct msghdr msg = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
		};
		struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
		fz_res(K_PASS, sendmsg(a->proc->ring_out, &msg, MSG_DONTWAIT));
	}
}

static void op_accept(struct fz_actor *a)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	__u64 word;
	struct iovec iov = { .iov_base = &word, .iov_len = sizeof(word) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	struct fz_space *s;
	struct fz_gate *g;
	int fd, type;

	if (fz_res(K_ACCEPT, recvmsg(a->proc->ring_in, &msg,
				     MSG_DONTWAIT | MSG_CMSG_CLOEXEC)) < 0)
		return;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS) {
		/* EMFILE: the kernel dropped the fd (MSG_CTRUNC) */
		if (!(msg.msg_flags & MSG_CTRUNC))
			fz_note("scm_recv: no fd and no MSG_CTRUNC");
		__atomic_fetch_add(&fz_sh->emfile, 1, __ATOMIC_RELAXED);
		return;
	}
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	type = word & 0xf;
	switch (type) {
	case FT_SPACE:
		s = free_space_slot(a);
		if (!s) {
			close(fd);
			return;
		}
		add_space(a, s, fd, word & ~(PG - 1),
			  (word >> 6) & 1 ? L4_SPACE_SIGMA0 : 0, 0, (word >> 4) & 1);
		/* its flags (fault-around) are not known: take them from info */
		{
			struct l4_space_info info;

			if (!fz_res(K_INFO, l4t_info(fd, &info))) {
				s->flags = info.flags;
				s->id = info.id;
			}
		}
		break;
	case FT_GATE:
	case FT_CAP:
		g = free_gate_slot(a);
		if (!g) {
			close(fd);
			return;
		}
		g->fd = fd;
		g->cap = type == FT_CAP;
		g->served = (word >> 5) & 1;
		break;
	default: {
		int i = rnd(&a->rng, NDEV);

		if (a->dev[i] >= 0)
			fz_res(K_CLOSE, close(a->dev[i]));
		a->dev[i] = fd;
	}
	}
}

/* ------------------------------------------------------------------ */
/* Netlink                                                             */
/* ------------------------------------------------------------------ */

static void nl_collect(const struct l4nl_rec *rec, void *arg)
{
	struct fz_proc *p = arg;

	if (L4NL_HAS(rec, L4_A_FRAME_ID))
		p->frame_ids[p->nframe_ids++ % NFRAME_IDS] = rec->v[L4_A_FRAME_ID];
}

static void op_netlink(struct fz_actor *a)
{
	struct fz_proc *p = a->proc;
	struct fz_space *s;
	__u64 id;
	int err;

	pthread_mutex_lock(&p->nl_lock);
	if (!p->nl_open) {
		err = l4nl_open(&p->nl);
		if (err) {
			errno = -err;
			fz_res(K_NL_STATS, -1);
			goto out;
		}
		p->nl_open = true;
	}
	switch (rnd(&a->rng, 5)) {
	case 0:
		err = l4nl_call(&p->nl, L4_CMD_STATS, 0, 0, 0, NULL, NULL, NULL);
		errno = -err;
		fz_res(K_NL_STATS, err ? -1 : 0);
		break;
	case 1:
		err = l4nl_call(&p->nl, L4_CMD_SPACES, NLM_F_DUMP, 0, 0, NULL, NULL, NULL);
		errno = -err;
		fz_res(K_NL_SPACES, err ? -1 : 0);
		break;
	case 2: case 3:
		s = pick_space(a);
		id = s && s->id && pct(&a->rng, 90) ? s->id : rnd(&a->rng, 1ULL << 20);
		err = l4nl_call(&p->nl, L4_CMD_ENTRIES, NLM_F_DUMP, L4_A_SPACE_ID,
				id, nl_collect, p, NULL);
		errno = -err;
		fz_res(K_NL_ENTRIES, err ? -1 : 0);
		break;
	default:
		id = p->nframe_ids && pct(&a->rng, 90) ?
		     p->frame_ids[rnd(&a->rng, p->nframe_ids < NFRAME_IDS ?
					     p->nframe_ids : NFRAME_IDS)] :
		     rnd(&a->rng, 1ULL << 20);
		err = l4nl_call(&p->nl, L4_CMD_TREE, NLM_F_DUMP, L4_A_FRAME_ID, id,
				NULL, NULL, NULL);
		errno = -err;
		fz_res(K_NL_TREE, err ? -1 : 0);
		break;
	}
	if (pct(&a->rng, 10)) {		/* a socket dies with its dump open */
		l4nl_close(&p->nl);
		p->nl_open = false;
	}
out:
	pthread_mutex_unlock(&p->nl_lock);
}

/* ------------------------------------------------------------------ */
/* /dev/l4, bad pointers, bad commands, limits                         */
/* ------------------------------------------------------------------ */

static void op_dev(struct fz_actor *a)
{
	int i = rnd(&a->rng, NDEV);
	struct l4_version v;
	struct l4_stats st;

	switch (rnd(&a->rng, 4)) {
	case 0:
		if (a->dev[i] >= 0)
			fz_res(K_CLOSE, close(a->dev[i]));
		a->dev[i] = fz_res(K_DEV, l4t_open());
		break;
	case 1:
		if (!fz_res(K_DEV, ioctl(a->proc->dev, L4_IOC_VERSION, &v)) &&
		    (v.major != L4_ABI_MAJOR || v.reserved[0] || v.reserved[1]))
			fz_note("version %u.%u", v.major, v.minor);
		break;
	default:
		if (!fz_res(K_DEV, l4t_stats(a->proc->dev, &st)) &&
		    (st.reserved[0] || st.frames_freed > st.frames_allocated))
			fz_note("stats: reserved %llu, frames freed %llu > allocated %llu",
				st.reserved[0], st.frames_freed, st.frames_allocated);
		break;
	}
}

/* Every command with a pointer the kernel cannot use: EFAULT. */
static void op_badptr(struct fz_actor *a)
{
	void *bad = pct(&a->rng, 50) ? NULL : (void *)(uintptr_t)(0xdead0000ULL + rnd(&a->rng, 4096));
	struct fz_space *s = pick_space(a);
	struct fz_gate *g = pick_gate(a, -1);

	switch (rnd(&a->rng, 4)) {
	case 0: {
		static const unsigned long cmds[] = {
			L4_IOC_VERSION, L4_IOC_STATS, L4_IOC_CREATE_SPACE,
		};
		fz_want(K_BADPTR, ioctl(a->proc->dev, cmds[rnd(&a->rng, 3)], bad), EFAULT);
		break;
	}
	case 1:
		if (s) {
			static const unsigned long cmds[] = {
				L4_IOC_SPACE_INFO, L4_IOC_MAP, L4_IOC_UNMAP,
				L4_IOC_SET_PAGER, L4_IOC_THREAD_CONTROL,
			};
			fz_want(K_BADPTR, ioctl(s->fd, cmds[rnd(&a->rng, 5)], bad), EFAULT);
		}
		break;
	case 2:
		if (g) {
			/* calls with a bad pointer fail before anything is sent */
			fz_want(K_BADPTR, ioctl(g->fd, L4_IOC_CALL, bad), EFAULT);
		}
		break;
	default:
		if (g && !g->cap && !g->served) {
			static const unsigned long cmds[] = {
				L4_IOC_REPLY, L4_IOC_REPLY_WAIT,
			};
			fz_want(K_BADPTR, ioctl(g->fd, cmds[rnd(&a->rng, 2)], bad), EFAULT);
		}
		break;
	}
}

/* Known commands with another size or direction, unknown numbers: ENOTTY. */
static void op_badcmd(struct fz_actor *a)
{
	static const unsigned long known[] = {
		L4_IOC_VERSION, L4_IOC_CREATE_SPACE, L4_IOC_STATS,
		L4_IOC_SPACE_INFO, L4_IOC_MAP, L4_IOC_UNMAP, L4_IOC_SET_PAGER,
		L4_IOC_THREAD_CONTROL, L4_IOC_RECV, L4_IOC_REPLY,
		L4_IOC_REPLY_WAIT, L4_IOC_CALL,
	};
	char buf[512] = { 0 };
	unsigned long cmd = known[rnd(&a->rng, ARRAY_SIZE(known))];
	struct fz_space *s;
	struct fz_gate *g;
	int fd;

	switch (rnd(&a->rng, 3)) {
	case 0:		/* the size field changed */
		cmd = (cmd & ~(_IOC_SIZEMASK << _IOC_SIZESHIFT)) |
		      ((unsigned long)((_IOC_SIZE(cmd) + 8 + 8 * rnd(&a->rng, 8)) & _IOC_SIZEMASK)
		       << _IOC_SIZESHIFT);
		break;
	case 1:		/* an unknown number */
		cmd = _IOWR(L4_IOC_MAGIC, 0xa0 + rnd(&a->rng, 0x50), struct l4_stats);
		break;
	default:	/* another magic */
		cmd = (cmd & ~(_IOC_TYPEMASK << _IOC_TYPESHIFT)) |
		      ((unsigned long)(L4_IOC_MAGIC + 1 + rnd(&a->rng, 3)) << _IOC_TYPESHIFT);
		break;
	}
	switch (rnd(&a->rng, 3)) {
	case 0:
		fd = a->proc->dev;
		break;
	case 1:
		s = pick_space(a);
		fd = s ? s->fd : a->proc->dev;
		break;
	default:
		g = pick_gate(a, 0);
		fd = g && !g->served ? g->fd : a->proc->dev;
		break;
	}
	fz_want(K_BADCMD, ioctl(fd, cmd, buf), ENOTTY);
}

/* Lower RLIMIT_NOFILE to about what is open now, or restore it. */
static void op_rlimit(struct fz_actor *a)
{
	struct rlimit rl = a->proc->nofile;
	int low;

	if (pct(&a->rng, 60)) {
		low = l4t_lowest_free_fd();
		if (low < 0)
			low = 64;
		rl.rlim_cur = low + rnd(&a->rng, 6) - 2;
	}
	fz_res(K_RLIMIT, setrlimit(RLIMIT_NOFILE, &rl));
}

static void op_dup(struct fz_actor *a)
{
	struct fz_space *s = pick_space(a), *n;
	int fd;

	if (!s || pct(&a->rng, 30)) {
		struct fz_gate *g = pick_gate(a, -1), *ng;

		if (!g)
			return;
		ng = free_gate_slot(a);
		if (!ng || g->fd < 0)
			return;
		fd = fz_res(K_DUP, fcntl(g->fd, F_DUPFD_CLOEXEC, 0));
		if (fd >= 0)
			*ng = (struct fz_gate){ fd, g->cap, g->served };
		return;
	}
	n = free_space_slot(a);
	if (!n || s->fd < 0)
		return;
	fd = fz_res(K_DUP, fcntl(s->fd, F_DUPFD_CLOEXEC, 0));
	if (fd >= 0)
		add_space(a, n, fd, s->size, s->flags, s->id, s->touchable);
}

/* ------------------------------------------------------------------ */
/* Children killed mid-call                                            */
/* ------------------------------------------------------------------ */

static void op_random(struct fz_actor *a);

/* What a child does; it may be SIGKILLed at any point. */
static void child_run(struct fz_actor *a, int mode)
{
	struct fz_win *w;
	int gate, i;

	switch (mode) {
	case 0:		/* calls on a gate nobody serves, no timeout */
		gate = ioctl(a->proc->dev, L4_IOC_CREATE_GATE, 0);
		if (gate >= 0) {
			struct l4_call c = { .nwords = 1, .rcv_space_fd = -1 };

			ioctl(gate, L4_IOC_CALL, &c);
		}
		break;
	case 1:		/* a fault nobody answers */
		w = pick_win(a, false);
		if (w && !w->touchable)
			(void)*(volatile char *)(w->addr + rnd(&a->rng, w->len));
		break;
	case 2: {	/* a blocking receive */
		gate = ioctl(a->proc->dev, L4_IOC_CREATE_GATE, 0);
		if (gate >= 0) {
			struct l4_msg m;

			ioctl(gate, L4_IOC_RECV, &m);
		}
		break;
	}
	case 3: {	/* a thread with an unserved pager faults */
		struct fz_space *s = pick_space(a);
		struct l4_thread_control tc = { .pager_fd = -1 };

		gate = ioctl(a->proc->dev, L4_IOC_CREATE_GATE, 0);
		if (!s || gate < 0 || (s->flags & L4_SPACE_SIGMA0))
			break;
		tc.pager_fd = gate;
		if (ioctl(s->fd, L4_IOC_THREAD_CONTROL, &tc))
			break;
		w = pick_win(a, false);
		if (w && w->slot == s - a->sp && w->serial == s->serial)
			(void)*(volatile char *)(w->addr + rnd(&a->rng, w->len));
		break;
	}
	default:	/* random calls on the inherited objects */
		for (i = 0; i < 10; i++) {
			op_random(a);
			__atomic_fetch_add(&fz_sh->calls[K_CHILD], 1, __ATOMIC_RELAXED);
			__atomic_fetch_add(&fz_sh->ok[K_CHILD], 1, __ATOMIC_RELAXED);
		}
		break;
	}
}

static void op_fork(struct fz_actor *a)
{
	int mode = rnd(&a->rng, 6), sync[2], status, i;
	bool blocks = mode <= 3, kill_it = blocks || pct(&a->rng, 50);
	pid_t pid;
	char c;

	if (pipe2(sync, O_CLOEXEC)) {
		fz_res(K_FORK, -1);
		return;
	}
	pid = fz_res(K_FORK, fork());
	if (pid < 0) {
		close(sync[0]);
		close(sync[1]);
		return;
	}
	if (!pid) {
		a->child = true;
		a->rng ^= 0x5bd1e995ULL * (__u64)getpid();
		close(sync[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (write(sync[1], "x", 1) != 1)
			_exit(2);
		child_run(a, mode);
		_exit(0);
	}
	close(sync[1]);
	/* the child runs: now kill it somewhere in what it does */
	if (read(sync[0], &c, 1) != 1)
		fz_note("fork: child %d died before it started", pid);
	close(sync[0]);
	if (kill_it) {
		for (i = rnd(&a->rng, 4); i > 0; i--)
			sched_yield();
		kill(pid, SIGKILL);
		__atomic_fetch_add(&fz_sh->kills, 1, __ATOMIC_RELAXED);
	}
	if (waitpid(pid, &status, 0) != pid)
		fz_note("fork: waitpid %d: errno %d", pid, errno);
	else if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0) &&
		 !(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && kill_it) &&
		 /* an unserved pager's gate may die or answer with an error */
		 !((mode == 1 || mode == 3) && WIFSIGNALED(status) &&
		   (WTERMSIG(status) == SIGBUS || WTERMSIG(status) == SIGSEGV)))
		fz_note("fork: child (mode %d) ended with status %#x", mode, status);
}

/* ------------------------------------------------------------------ */
/* The actor loop                                                      */
/* ------------------------------------------------------------------ */

/* op_random's choices by their upper bound (per mille), for the time table */
static const struct { unsigned int upto; const char *name; } fz_ops[FZ_OPS] = {
	{ 60, "create_space" }, { 75, "close_space" }, { 95, "space_info" },
	{ 255, "map" }, { 275, "grant" }, { 325, "unmap" }, { 340, "set_pager" },
	{ 350, "thread_ctl" }, { 420, "mmap" }, { 445, "munmap" },
	{ 455, "mremap" }, { 465, "mprotect" }, { 485, "madvise" },
	{ 625, "touch" }, { 645, "kernel_access" }, { 665, "create_gate" },
	{ 685, "send_cap" }, { 700, "close_gate" }, { 740, "call" },
	{ 760, "recv" }, { 770, "read" }, { 790, "reply" }, { 805, "reply_wait" },
	{ 815, "poll" }, { 830, "dev" }, { 845, "bad_pointer" },
	{ 860, "bad_command" }, { 875, "dup" }, { 905, "scm_send" },
	{ 935, "scm_recv" }, { 960, "rlimit" }, { 980, "netlink" },
	{ 999, "space_info" }, { 1000, "fork" },
};

static void op_dispatch(struct fz_actor *a, unsigned int x);

static void op_random(struct fz_actor *a)
{
	unsigned int x = rnd(&a->rng, 1000), b = 0;
	__s64 t0, t1;
	struct timespec ts;

	/* children leave out what takes locks or forks again */
	if (a->child && (x >= 960))
		x = rnd(&a->rng, 960);
	while (x >= fz_ops[b].upto)
		b++;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = ts.tv_sec * 1000000000LL + ts.tv_nsec;
	op_dispatch(a, x);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t1 = ts.tv_sec * 1000000000LL + ts.tv_nsec;
	if (!a->child) {
		__atomic_fetch_add(&fz_sh->op_ns[b], (__u64)(t1 - t0), __ATOMIC_RELAXED);
		__atomic_fetch_add(&fz_sh->op_n[b], 1, __ATOMIC_RELAXED);
	}
}

static void op_dispatch(struct fz_actor *a, unsigned int x)
{
	if (x < 60) op_create_space(a);
	else if (x < 75) { struct fz_space *s = pick_space(a); if (s && !a->child) close_space(a, s); }
	else if (x < 95) op_info(a);
	else if (x < 255) op_map(a, false);
	else if (x < 275) op_map(a, true);
	else if (x < 325) op_unmap(a);
	else if (x < 340) op_set_pager(a);
	else if (x < 350) op_thread_ctl(a);
	else if (x < 420) op_mmap(a);
	else if (x < 445) op_munmap(a);
	else if (x < 455) op_mremap(a);
	else if (x < 465) op_mprotect(a);
	else if (x < 485) op_madvise(a);
	else if (x < 625) op_touch(a);
	else if (x < 645) op_kaccess(a);
	else if (x < 665) op_create_gate(a);
	else if (x < 685) op_send_cap(a);
	else if (x < 700) { struct fz_gate *g = pick_gate(a, -1); if (g && !a->child) close_gate(a, g); }
	else if (x < 740) op_call(a);
	else if (x < 760) op_recv(a, false);
	else if (x < 770) op_recv(a, true);
	else if (x < 790) op_reply(a);
	else if (x < 805) op_reply_wait(a);
	else if (x < 815) op_poll(a);
	else if (x < 830) op_dev(a);
	else if (x < 845) op_badptr(a);
	else if (x < 860) op_badcmd(a);
	else if (x < 875) op_dup(a);
	else if (x < 905) op_pass(a);
	else if (x < 935) op_accept(a);
	else if (x < 960) op_rlimit(a);
	else if (x < 980) op_netlink(a);
	else if (x < 999) op_info(a);
	else op_fork(a);
}

static void *actor_run(void *arg)
{
	struct fz_actor *a = arg;

	while (__atomic_load_n(&fz_sh->total, __ATOMIC_RELAXED) < (__u64)a->proc->budget)
		op_random(a);
	return NULL;
}

static void actor_init(struct fz_proc *p, struct fz_actor *a, int idx)
{
	int i;

	memset(a, 0, sizeof(*a));
	a->proc = p;
	a->idx = idx;
	a->rng = fz_seed ^ (0x9e3779b97f4a7c15ULL * (__u64)(p->idx * FZ_ACTORS + idx + 1));
	if (!a->rng)
		a->rng = 1;
	for (i = 0; i < NSP; i++)
		a->sp[i].fd = -1;
	for (i = 0; i < NGATE; i++)
		a->gate[i].fd = -1;
	for (i = 0; i < NTOK; i++)
		a->tok[i].gfd = -1;
	for (i = 0; i < NDEV; i++)
		a->dev[i] = -1;
	if (pipe2(a->kpipe, O_CLOEXEC | O_NONBLOCK))
		a->kpipe[0] = a->kpipe[1] = -1;
}

static void actor_cleanup(struct fz_actor *a)
{
	int i;

	/* windows, spaces and gates go in a random order */
	for (i = 0; i < NWIN; i++) {
		struct fz_win *w = &a->win[(i * 7 + a->idx) % NWIN];

		if (w->addr)
			fz_res(K_MUNMAP, munmap(w->addr, w->len));
		w->addr = NULL;
	}
	for (i = 0; i < NSP; i++)
		if (a->sp[i].fd >= 0)
			close_space(a, &a->sp[i]);
	for (i = 0; i < NGATE; i++)
		if (a->gate[i].fd >= 0)
			close_gate(a, &a->gate[i]);
	for (i = 0; i < NDEV; i++)
		if (a->dev[i] >= 0)
			fz_res(K_CLOSE, close(a->dev[i]));
	if (a->kpipe[0] >= 0) {
		close(a->kpipe[0]);
		close(a->kpipe[1]);
	}
}

/* ------------------------------------------------------------------ */
/* The pager thread                                                    */
/* ------------------------------------------------------------------ */

/* The answer to @m: a page (or more) of the source space, or an error. */
static void pager_answer(struct fz_proc *p, __u64 *r, const struct l4_msg *m,
			 struct l4_reply *rep, bool plain)
{
	memset(rep, 0, sizeof(*rep));
	rep->token = m->token;
	if (m->label == L4_LABEL_PAGE_FAULT) {
		__u64 pfa = L4_PF_ADDR(m->words[0]) & ~(PG - 1);
		bool write = m->words[0] & L4_PF_WRITE;
		unsigned int o = 12;
		__u64 rights;
		unsigned int x = plain ? 99 : rnd(r, 100);

		if (x < 4) {
			rep->error = EFAULT;		/* SIGSEGV */
			return;
		}
		if (x < 6) {
			rep->error = EIO;		/* SIGBUS */
			return;
		}
		if (x < 8)
			return;				/* retry */
		if (x < 20)
			o = 13 + rnd(r, 4);		/* may leave the space */
		rights = write || pct(r, 70) ? L4_FPAGE_RW : L4_FPAGE_R;
		if (write && pct(r, 5))
			rights = L4_FPAGE_R;		/* faults again */
		rep->nitems = 1;
		rep->items[0].src_fd = p->src;
		rep->items[0].item.control = L4_MAP_ITEM(pfa & ~((1ULL << o) - 1), 0);
		rep->items[0].item.fpage =
			L4_FPAGE((pfa % (FZ_SRC_PAGES * PG)) & ~((1ULL << o) - 1), o, rights);
		return;
	}
	/* a call */
	rep->label = m->label + 1;
	rep->nwords = m->nwords;
	memcpy(rep->words, m->words, sizeof(rep->words));
	if (plain)
		return;
	if (pct(r, 15)) {
		rep->nwords = 0;
		rep->error = fz_reply_err[rnd(r, ARRAY_SIZE(fz_reply_err))];
	} else if (m->rcv_window && pct(r, 50)) {
		rep->nitems = 1;
		rep->items[0].src_fd = p->src;
		rep->items[0].item.control = L4_MAP_ITEM(0, 0);
		rep->items[0].item.fpage = L4_FPAGE(rnd(r, FZ_SRC_PAGES) * PG, 12,
						    L4_FPAGE_RW);
	}
}

static void *pager_run(void *arg)
{
	struct fz_proc *p = arg;
	__u64 rng = fz_seed ^ (0xabcdef12345ULL * (__u64)(p->idx + 1));
	struct l4_reply_wait rw;
	struct l4_msg last;

	memset(&rw, 0, sizeof(rw));
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = p->pager, .events = POLLIN },
			{ .fd = p->stop, .events = POLLIN },
		};
		bool replied = rw.reply.token != 0;

		if (!ioctl(p->pager, L4_IOC_REPLY_WAIT, &rw)) {
			if (replied)
				fz_res(K_PAGER_REPLY, 0);
			last = rw.msg;
			if (!last.token)	/* no-senders: nothing to answer */
				memset(&rw.reply, 0, sizeof(rw.reply));
			else
				pager_answer(p, &rng, &last, &rw.reply, false);
			continue;
		}
		if (errno != EAGAIN) {
			/* refused: the message is still ours to answer, plainly */
			fz_res(K_PAGER_REPLY, -1);
			if (errno != ENOENT && errno != ESRCH && errno != ENOMEM &&
			    errno != EMLINK && errno != EINTR) {
				struct l4_reply rep;

				pager_answer(p, &rng, &last, &rep, true);
				if (ioctl(p->pager, L4_IOC_REPLY, &rep) &&
				    errno != ESRCH && errno != ENOENT) {
					rep.nitems = 0;
					rep.error = EIO;
					if (ioctl(p->pager, L4_IOC_REPLY, &rep) &&
					    errno != ESRCH && errno != ENOENT)
						fz_note("pager: an answer to label %lld refused: errno %d",
							(long long)last.label, errno);
				}
			}
			memset(&rw.reply, 0, sizeof(rw.reply));
			continue;
		}
		if (replied)
			fz_res(K_PAGER_REPLY, 0);
		memset(&rw.reply, 0, sizeof(rw.reply));
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			fz_note("pager: poll: errno %d", errno);
		if (pfd[1].revents && !(pfd[0].revents & POLLIN))
			return NULL;
	}
}

/* ------------------------------------------------------------------ */
/* A worker process                                                    */
/* ------------------------------------------------------------------ */

static int worker_run(int idx, int ring_out, int ring_in, long budget)
{
	static struct fz_proc proc;
	struct fz_proc *p = &proc;
	pthread_t th[FZ_ACTORS], pager;
	__u64 one = 1;
	int i;

	memset(p, 0, sizeof(*p));
	p->idx = idx;
	p->ring_out = ring_out;
	p->ring_in = ring_in;
	p->budget = budget;
	pthread_mutex_init(&p->nl_lock, NULL);
	getrlimit(RLIMIT_NOFILE, &p->nofile);
	p->dev = l4t_open();
	CHILD_CHECK(p->dev >= 0);
	p->pager = ioctl(p->dev, L4_IOC_CREATE_GATE, 0);
	CHILD_CHECK(p->pager >= 0);
	CHILD_CHECK(!fcntl(p->pager, F_SETFL, O_NONBLOCK));
	p->pager_cap = ioctl(p->pager, L4_IOC_GATE_SEND_CAP, 0);
	CHILD_CHECK(p->pager_cap >= 0);
	p->src = l4t_space_window(p->dev, FZ_SRC_PAGES, 0, L4_SPACE_SIGMA0, &p->srcwin);
	CHILD_CHECK(p->src >= 0);
	l4t_fill(p->srcwin, 0, FZ_SRC_PAGES * PG, 0x42 + idx);
	p->stop = eventfd(0, EFD_CLOEXEC);
	CHILD_CHECK(p->stop >= 0);

	/* fault injection (if on) from here: the threads inherit it */
	if (fz_inject)
		CHILD_CHECK(!l4t_write_str("/proc/self/make-it-fail", "1"));
	CHILD_CHECK(!pthread_create(&pager, NULL, pager_run, p));
	for (i = 0; i < FZ_ACTORS; i++) {
		actor_init(p, &p->actor[i], i);
		CHILD_CHECK(!pthread_create(&th[i], NULL, actor_run, &p->actor[i]));
	}
	for (i = 0; i < FZ_ACTORS; i++)
		CHILD_CHECK(!pthread_join(th[i], NULL));
	CHILD_CHECK(!setrlimit(RLIMIT_NOFILE, &p->nofile));
	for (i = 0; i < FZ_ACTORS; i++)
		actor_cleanup(&p->actor[i]);
	CHILD_CHECK(write(p->stop, &one, sizeof(one)) == sizeof(one));
	CHILD_CHECK(!pthread_join(pager, NULL));

	if (p->nl_open)
		l4nl_close(&p->nl);
	CHILD_CHECK(!munmap(p->srcwin, FZ_SRC_PAGES * PG));
	CHILD_CHECK(!close(p->src));
	CHILD_CHECK(!close(p->pager_cap));
	CHILD_CHECK(!close(p->pager));
	CHILD_CHECK(!close(p->stop));
	CHILD_CHECK(!close(p->dev));
	CHILD_CHECK(!close(ring_out));
	/* whatever still travels towards us dies with the socket */
	CHILD_CHECK(!close(ring_in));
	return 0;
}

static int fz_count_fds(void)
{
	char path[64];
	int fd, n = 0;

	for (fd = 0; fd < 1024; fd++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if (!access(path, F_OK))
			n++;
	}
	return n;
}

TEST_F_TIMEOUT(fuzz, random_calls, 290)
{
	const char *env_seed = getenv("L4_FUZZ_SEED");
	const char *env_calls = getenv("L4_FUZZ_CALLS");
	int ring[FZ_PROCS][2], i, j, fds0;
	pid_t pid[FZ_PROCS];
	struct l4_stats st;
	/* the debug kernel (kmemleak there) gets the full budget */
	long calls = env_calls ? atol(env_calls) :
		     !access("/sys/kernel/debug/kmemleak", F_OK) ? FZ_CALLS : FZ_CALLS_FAST;
	__u64 total = 0;
	char mif[8] = "";

	fz_sh = l4t_shared(sizeof(*fz_sh));
	ASSERT_NE(NULL, fz_sh);
	if (env_seed) {
		fz_seed = strtoull(env_seed, NULL, 0);
	} else {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		fz_seed = (__u64)ts.tv_nsec ^ ((__u64)ts.tv_sec << 20) ^ getpid();
	}
	fz_seed |= 1;
	/* under fault injection (scripts/vm/init) any call may get ENOMEM */
	fz_inject = !l4t_read_str("/proc/self/make-it-fail", mif, sizeof(mif)) &&
		    mif[0] == '1';
	/* injection starts in the workers, once they are set up */
	if (fz_inject)
		l4t_write_str("/proc/self/make-it-fail", "0");
	TH_LOG("seed %#llx (replay: L4_FUZZ_SEED=%#llx), %ld calls by %d processes x %d threads%s",
	       fz_seed, fz_seed, calls, FZ_PROCS, FZ_ACTORS,
	       fz_inject ? ", fault injection on" : "");
	fds0 = fz_count_fds();

	/* worker i sends to i + 1 */
	for (i = 0; i < FZ_PROCS; i++)
		ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, ring[i]));
	for (i = 0; i < FZ_PROCS; i++) {
		pid[i] = fork();
		ASSERT_LE(0, pid[i]);
		if (!pid[i]) {
			int out = ring[i][0], in = ring[(i + FZ_PROCS - 1) % FZ_PROCS][1];

			for (j = 0; j < FZ_PROCS; j++) {
				if (ring[j][0] != out)
					close(ring[j][0]);
				if (ring[j][1] != in)
					close(ring[j][1]);
			}
			close(self->dev);
			_exit(worker_run(i, out, in, calls));
		}
	}
	for (i = 0; i < FZ_PROCS; i++) {
		ASSERT_EQ(0, close(ring[i][0]));
		ASSERT_EQ(0, close(ring[i][1]));
	}
	for (i = 0; i < FZ_PROCS; i++)
		EXPECT_EQ(0, l4t_wait(pid[i])) TH_LOG("worker %d", i);

	for (i = 0; i < K_NR; i++) {
		if (!fz_sh->calls[i])
			continue;
		ksft_print_msg("%-14s %8llu calls %5.1f %% succeeded\n", fz_name[i],
			       fz_sh->calls[i], 100.0 * fz_sh->ok[i] / fz_sh->calls[i]);
	}
	total = fz_sh->total;
	ksft_print_msg("%llu calls; %llu SIGSEGV, %llu SIGBUS caught; %llu children killed; %llu EMFILE\n",
		       total, fz_sh->sigsegv, fz_sh->sigbus, fz_sh->kills, fz_sh->emfile);
	/* where the time went (wall time in the actors, all of them) */
	for (i = 0; i < FZ_OPS; i++)
		if (fz_sh->op_n[i] && fz_sh->op_ns[i] / fz_sh->op_n[i] > 1000)
			ksft_print_msg("time %-14s %8llu ops %8llu us each, %6llu ms in all\n",
				       fz_ops[i].name, fz_sh->op_n[i],
				       fz_sh->op_ns[i] / fz_sh->op_n[i] / 1000,
				       fz_sh->op_ns[i] / 1000000);
	for (i = 0; i < fz_sh->nnotes && i < FZ_NOTES; i++)
		ksft_print_msg("finding: %s\n", fz_sh->notes[i]);
	EXPECT_EQ(0ULL, fz_sh->bad) TH_LOG("seed %#llx", fz_seed);
	EXPECT_LE((__u64)calls, total);
	/* hostile, not blind: most maps find something to map */
	if (!fz_inject)
		EXPECT_LT(fz_sh->calls[K_MAP], 2 * fz_sh->ok[K_MAP]);
	/* EMFILE was in the mix */
	EXPECT_LT(0ULL, fz_sh->emfile);

	/* every object is gone: the counters are exactly zero */
	l4t_ipc_settled(self->dev, &(struct l4_stats){ 0 });
	ASSERT_EQ(0, l4t_stats(self->dev, &st));
	EXPECT_EQ(0ULL, st.spaces);
	EXPECT_EQ(0ULL, st.frames);
	EXPECT_EQ(0ULL, st.nodes);
	EXPECT_EQ(0ULL, st.windows);
	EXPECT_EQ(0ULL, st.gates);
	EXPECT_EQ(0ULL, st.threads);
	EXPECT_EQ(st.frames_allocated, st.frames_freed);
	EXPECT_EQ(fds0, fz_count_fds());
}

TEST_HARNESS_MAIN
