// SPDX-License-Identifier: GPL-2.0
/*
 * libl4u tasks and threads (l4u/task.h): task placement and attributes,
 * threads created inactive and started by ex_regs on a fresh stack,
 * ex_regs reading and redirecting a running thread, deletion, a thread's
 * own pager (its faults carry its thread id), and 8 threads doing all of
 * it at once.
 */
#include <pthread.h>
#include <stdlib.h>

#include "l4_fixtures.h"
#include <l4u/l4u.h>
#include <l4u/task.h>

L4T_FIXTURE(task);

#define PG		L4T_PAGE
#define STACK		(64 * 1024UL)	/* stacks are aligned to their size */

extern char __executable_start[], etext[];

static pid_t task_gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/* Wait (a futex, no polling) up to 10 s for l4f_post(@p). */
static int task_wait_for(volatile int *p)
{
	return l4f_wait_change(p, 0);
}

/*
 * Wait up to 10 s until @th has ended (ex_regs finds it gone: -ESRCH).
 * The thread ends inside libl4u after the test's function returned, and
 * nothing tells the test when; so this asks again, yielding the CPU in
 * between (no sleep stands in for the event: each answer is exact).
 */
static int task_wait_ended(struct l4u_thread *th)
{
	__s64 end = l4f_now_ns() + 10000000000LL;

	while (l4u_thread_ex_regs(th, L4U_EX_REGS_KEEP, L4U_EX_REGS_KEEP, 0,
				  NULL, NULL, NULL) != -ESRCH) {
		if (l4f_now_ns() > end)
			return -1;
		sched_yield();
	}
	return 0;
}

/* A fresh stack whose first word names its slot; and an sp on it. */
static char *task_stack(int slot, uint64_t *sp)
{
	char *s = aligned_alloc(STACK, STACK);

	if (!s)
		return NULL;
	*(int *)s = slot;
	if (l4u_thread_stack(s, STACK, sp)) {
		free(s);
		return NULL;
	}
	return s;
}

/* The slot of the stack the caller runs on. */
static int task_my_slot(void)
{
	volatile char here;

	return *(int *)((uintptr_t)&here & ~(STACK - 1));
}

#define SLOTS 16

static volatile int hit[SLOTS];
static volatile uint64_t hit_sp[SLOTS];
static volatile pid_t hit_tid[SLOTS];
static volatile unsigned long spins[SLOTS];
static volatile int redirected[SLOTS];
static volatile uint64_t pager_value;

/* Started by ex_regs: records where it runs, returns (ends the thread). */
__attribute__((noinline)) static void fn_mark(void)
{
	int s = task_my_slot();
	volatile char here;

	hit_sp[s] = (uint64_t)(uintptr_t)&here;
	hit_tid[s] = task_gettid();
	/* a libc call on the new stack: SSE alignment must be right */
	{
		char buf[64];

		snprintf(buf, sizeof(buf), "%d %f", s, 1.5);
	}
	l4f_post(&hit[s]);
}

/* Runs until redirected. */
__attribute__((noinline)) static void fn_spin(void)
{
	int s = task_my_slot();

	for (;;)
		spins[s]++;
}

/* Where a spinning thread is redirected to: marks, ends explicitly. */
__attribute__((noinline)) static void fn_redirected(void)
{
	int s = task_my_slot();
	volatile char here;

	hit_sp[s] = (uint64_t)(uintptr_t)&here;
	hit_tid[s] = task_gettid();
	l4f_post(&redirected[s]);
	l4u_thread_exit();
}

/* ------------------------------------------------------------------ */

TEST_F(task, create_attributes)
{
	struct l4u_task_attr attr = { 0 };
	struct l4u_task_info ti;
	struct l4u_task *t, *t2;
	struct l4_space_info si;

	ASSERT_EQ(-EINVAL, l4u_task_create(self->dev, NULL, NULL));
	attr.size = PG + 1;
	ASSERT_EQ(-EINVAL, l4u_task_create(self->dev, &attr, &t));
	attr.size = L4_SPACE_MAX_SIZE + PG;
	ASSERT_EQ(-EINVAL, l4u_task_create(self->dev, &attr, &t));
	attr = (struct l4u_task_attr){ .flags = 1U << 7 };
	ASSERT_EQ(-EINVAL, l4u_task_create(self->dev, &attr, &t));
	attr = (struct l4u_task_attr){ .identity_lo = 1ULL << 40 };
	ASSERT_EQ(-EINVAL, l4u_task_create(self->dev, &attr, &t));
	attr = (struct l4u_task_attr){ .flags = L4U_TASK_IDENTITY };
	ASSERT_EQ(-EINVAL, l4u_task_create(self->dev, &attr, &t));
	attr.identity_lo = L4U_TASK_DEFAULT_SIZE;
	ASSERT_EQ(-EINVAL, l4u_task_create(self->dev, &attr, &t));
	attr = (struct l4u_task_attr){ .reserved = { 1 } };
	ASSERT_EQ(-EINVAL, l4u_task_create(self->dev, &attr, &t));
	attr = (struct l4u_task_attr){ .space_flags = 1U << 30 };
	ASSERT_EQ(-EINVAL, l4u_task_create(self->dev, &attr, &t));

	/* defaults: 64 GiB, window aligned to 1 GiB, space address 0 */
	ASSERT_EQ(0, l4u_task_create(self->dev, NULL, &t));
	ASSERT_EQ(0, l4u_task_info(t, &ti));
	ASSERT_EQ(L4U_TASK_DEFAULT_SIZE, ti.size);
	ASSERT_EQ(0ULL, ti.win_addr);
	ASSERT_EQ(L4U_TASK_DEFAULT_SIZE, ti.win_len);
	ASSERT_EQ(0ULL, (uint64_t)(uintptr_t)ti.win & (L4U_TASK_ALIGN - 1));
	ASSERT_EQ(0, l4t_info(ti.space, &si));
	ASSERT_EQ(ti.space_id, si.id);
	ASSERT_EQ(1ULL, si.windows);
	ASSERT_EQ(ti.win + 5 * PG, l4u_task_va(&ti, 5 * PG));
	ASSERT_EQ(5 * PG, l4u_task_addr(&ti, ti.win + 5 * PG));
	ASSERT_EQ(-EINVAL, l4u_task_info(t, NULL));
	ASSERT_EQ(0, l4u_task_destroy(t));
	ASSERT_EQ(-EINVAL, l4u_task_destroy(NULL));

	/* sigma0 and identity: the window is where the space addresses are */
	attr = (struct l4u_task_attr){
		.size		= 0x310000000000ULL + (2ULL << 20),
		.space_flags	= L4_SPACE_SIGMA0,
		.flags		= L4U_TASK_IDENTITY,
		.identity_lo	= 0x310000000000ULL,
	};
	ASSERT_EQ(0, l4u_task_create(self->dev, &attr, &t));
	ASSERT_EQ(0, l4u_task_info(t, &ti));
	ASSERT_EQ((char *)0x310000000000ULL, ti.win);
	ASSERT_EQ(2ULL << 20, ti.win_len);
	ti.win[PG + 3] = 9;			/* sigma0: a zeroed frame */
	ASSERT_EQ(0, l4t_info(ti.space, &si));
	ASSERT_EQ(1ULL, si.nodes);
	/* the same range again: taken */
	ASSERT_EQ(-EEXIST, l4u_task_create(self->dev, &attr, &t2));
	ASSERT_EQ(0, l4u_task_destroy(t));
}

/*
 * A thread is inactive until ex_regs; then it runs the function on the
 * fresh stack, in its own Linux thread, and ends when the function returns.
 */
TEST_F(task, ex_regs_starts_thread)
{
	uint64_t sp, oip = 1, osp = 1, tid64;
	unsigned int ofl = 0;
	struct l4u_thread *th;
	struct l4u_task *t;
	pid_t tid;
	char *stack;

	ASSERT_EQ(0, l4u_task_create(self->dev, NULL, &t));
	ASSERT_EQ(-EINVAL, l4u_thread_create(NULL, -1, &th));
	ASSERT_EQ(-EINVAL, l4u_thread_create(t, -1, NULL));
	ASSERT_EQ(-EINVAL, l4u_thread_create(t, -2, &th));
	ASSERT_EQ(-EBADF, l4u_thread_create(t, 1000, &th));
	ASSERT_EQ(0, l4u_thread_create(t, -1, &th));
	ASSERT_EQ(-EBUSY, l4u_task_destroy(t));
	ASSERT_EQ(0, l4u_thread_id(th, &tid64, &tid));
	ASSERT_NE(0ULL, tid64);
	ASSERT_NE(task_gettid(), tid);
	ASSERT_LT(0, tid);

	/* reading an inactive thread */
	ASSERT_EQ(0, l4u_thread_ex_regs(th, L4U_EX_REGS_KEEP, L4U_EX_REGS_KEEP,
					0, &oip, &osp, &ofl));
	ASSERT_EQ(0ULL, oip);
	ASSERT_EQ(0ULL, osp);
	ASSERT_EQ((unsigned int)L4U_THREAD_INACTIVE, ofl);
	ASSERT_EQ(-EINVAL, l4u_thread_ex_regs(th, 0, 0, 1, NULL, NULL, NULL));
	ASSERT_EQ(-EINVAL, l4u_thread_ex_regs(NULL, 0, 0, 0, NULL, NULL, NULL));
	ASSERT_EQ(-EINVAL, l4u_thread_stack(NULL, STACK, &sp));
	ASSERT_EQ(-EINVAL, l4u_thread_stack(&sp, 8, &sp));

	stack = task_stack(0, &sp);
	ASSERT_NE(NULL, stack);
	ASSERT_EQ(8ULL, sp % 16);		/* as at a function's entry */
	ASSERT_EQ(0, hit[0]);
	ASSERT_EQ(0, l4u_thread_ex_regs(th, (uint64_t)(uintptr_t)fn_mark, sp, 0,
					&oip, &osp, &ofl));
	ASSERT_EQ((unsigned int)L4U_THREAD_INACTIVE, ofl);
	ASSERT_EQ(0, task_wait_for(&hit[0]));
	ASSERT_EQ(tid, hit_tid[0]);
	ASSERT_LT((uint64_t)(uintptr_t)stack, hit_sp[0]);
	ASSERT_GT(sp, hit_sp[0]);
	/* it returned: the thread ends; ex_regs then finds it gone */
	ASSERT_EQ(0, task_wait_ended(th));
	ASSERT_EQ(-ESRCH, l4u_thread_ex_regs(th, 0, 0, 0, NULL, NULL, NULL));
	ASSERT_EQ(0, l4u_thread_delete(th));
	ASSERT_EQ(0, l4u_task_destroy(t));
	free(stack);
}

/*
 * ex_regs on a running thread: reading returns its ip (in fn_spin's text)
 * and sp (on its stack) and lets it run on; redirecting moves it to
 * another function on another stack, where it ends explicitly.
 */
TEST_F(task, ex_regs_redirects_running_thread)
{
	uint64_t sp1, sp2, oip, osp;
	unsigned int ofl;
	struct l4u_thread *th;
	struct l4u_task *t;
	char *s1, *s2;
	unsigned long n;
	pid_t tid;

	ASSERT_EQ(0, l4u_task_create(self->dev, NULL, &t));
	ASSERT_EQ(0, l4u_thread_create(t, -1, &th));
	s1 = task_stack(1, &sp1);
	s2 = task_stack(2, &sp2);
	ASSERT_NE(NULL, s1);
	ASSERT_NE(NULL, s2);
	ASSERT_EQ(0, l4u_thread_ex_regs(th, (uint64_t)(uintptr_t)fn_spin, sp1, 0,
					NULL, NULL, NULL));
	while (spins[1] < 1000)
		;
	ASSERT_EQ(0, l4u_thread_ex_regs(th, L4U_EX_REGS_KEEP, L4U_EX_REGS_KEEP, 0,
					&oip, &osp, &ofl));
	ASSERT_EQ(0U, ofl);
	ASSERT_LE((uint64_t)(uintptr_t)__executable_start, oip);
	ASSERT_GT((uint64_t)(uintptr_t)etext, oip);
	ASSERT_LT((uint64_t)(uintptr_t)s1, osp);
	ASSERT_GE(sp1, osp);
	n = spins[1];
	while (spins[1] < n + 1000)		/* it runs on */
		;

	ASSERT_EQ(0, l4u_thread_ex_regs(th, (uint64_t)(uintptr_t)fn_redirected,
					sp2, 0, &oip, &osp, &ofl));
	ASSERT_EQ(0U, ofl);
	ASSERT_LE((uint64_t)(uintptr_t)fn_spin, oip);
	ASSERT_GT((uint64_t)(uintptr_t)etext, oip);
	ASSERT_LT((uint64_t)(uintptr_t)s1, osp);
	ASSERT_EQ(0, task_wait_for(&redirected[2]));
	ASSERT_LT((uint64_t)(uintptr_t)s2, hit_sp[2]);
	ASSERT_GT(sp2, hit_sp[2]);
	ASSERT_EQ(0, l4u_thread_id(th, NULL, &tid));
	ASSERT_EQ(tid, hit_tid[2]);		/* the same thread, moved */
	n = spins[1];
	/* it left the loop: once it has ended, nothing counted on */
	ASSERT_EQ(0, task_wait_ended(th));
	ASSERT_EQ(n, spins[1]);
	ASSERT_EQ(0, l4u_thread_delete(th));
	ASSERT_EQ(n, spins[1]);
	ASSERT_EQ(0, l4u_task_destroy(t));
	free(s1);
	free(s2);
}

/* Deleting inactive and running threads. */
TEST_F(task, delete_threads)
{
	struct l4u_thread *a, *b;
	struct l4u_task *t;
	struct l4_stats st;
	uint64_t sp;
	char *s;

	ASSERT_EQ(0, l4u_task_create(self->dev, NULL, &t));
	ASSERT_EQ(0, l4u_thread_create(t, -1, &a));
	ASSERT_EQ(0, l4u_thread_create(t, -1, &b));
	ASSERT_EQ(0, l4t_stats(self->dev, &st));
	ASSERT_EQ(self->before.threads + 2, st.threads);
	ASSERT_EQ(0, l4u_thread_delete(a));
	s = task_stack(3, &sp);
	ASSERT_NE(NULL, s);
	ASSERT_EQ(0, l4u_thread_ex_regs(b, (uint64_t)(uintptr_t)fn_spin, sp, 0,
					NULL, NULL, NULL));
	while (spins[3] < 1000)
		;
	ASSERT_EQ(0, l4u_thread_delete(b));
	ASSERT_EQ(0, l4t_stats(self->dev, &st));
	ASSERT_EQ(self->before.threads, st.threads);
	ASSERT_EQ(-EINVAL, l4u_thread_delete(NULL));
	ASSERT_EQ(0, l4u_task_destroy(t));
	free(s);
}

/*
 * A thread's own pager, set after creation (while inactive): its fault
 * arrives there with its thread id.
 */
static char *pager_addr;

__attribute__((noinline)) static void fn_read_task(void)
{
	int s = task_my_slot();

	pager_value = *(volatile uint64_t *)pager_addr;
	l4f_post(&hit[s]);
}

TEST_F(task, thread_pager)
{
	struct l4u_task_info ti;
	struct l4u_thread *th;
	struct l4u_task *t;
	struct l4_reply r;
	struct l4_msg m;
	uint64_t sp, id;
	char *s, *swin;
	int gate, src;
	pid_t tid;

	src = l4t_space_window(self->dev, 4, 0, L4_SPACE_SIGMA0, &swin);
	ASSERT_LE(0, src);
	l4t_fill(swin, 0, 4 * PG, 0x31);
	gate = l4u_gate_create(self->dev);
	ASSERT_LE(0, gate);
	ASSERT_EQ(0, l4u_task_create(self->dev, NULL, &t));
	ASSERT_EQ(0, l4u_task_info(t, &ti));
	ASSERT_EQ(0, l4u_thread_create(t, -1, &th));
	ASSERT_EQ(-EBADF, l4u_thread_set_pager(th, 1000));
	ASSERT_EQ(-EINVAL, l4u_thread_set_pager(th, -2));
	ASSERT_EQ(-EINVAL, l4u_thread_set_pager(NULL, gate));
	ASSERT_EQ(0, l4u_thread_set_pager(th, gate));	/* Thread::control */
	ASSERT_EQ(0, l4u_thread_id(th, &id, &tid));
	pager_addr = ti.win + 2 * PG + 40;
	s = task_stack(4, &sp);
	ASSERT_NE(NULL, s);
	ASSERT_EQ(0, l4u_thread_ex_regs(th, (uint64_t)(uintptr_t)fn_read_task, sp,
					0, NULL, NULL, NULL));
	ASSERT_EQ(0, l4u_recv(gate, &m));
	ASSERT_EQ(L4_LABEL_PAGE_FAULT, m.label);
	ASSERT_EQ(2 * PG + 40, L4_PF_ADDR(m.words[0]));
	ASSERT_EQ(id, m.thread_id);
	ASSERT_EQ(tid, m.tid);
	ASSERT_EQ(ti.space_id, m.space_id);
	l4u_reply_init(&r, &m);
	ASSERT_EQ(0, l4u_reply_map(&r, src, L4_FPAGE(2 * PG, 12, L4_FPAGE_R),
				   2 * PG, 0));
	ASSERT_EQ(0, l4u_reply(gate, &r));
	ASSERT_EQ(0, task_wait_for(&hit[4]));
	ASSERT_EQ(l4t_word(0x31, 2 * PG + 40), pager_value);
	ASSERT_EQ(0, l4u_thread_delete(th));
	ASSERT_EQ(0, l4u_task_destroy(t));
	ASSERT_EQ(0, close(gate));
	ASSERT_EQ(0, munmap(swin, 4 * PG));
	ASSERT_EQ(0, close(src));
	free(s);
}

/* 8 threads create, start, read, redirect and delete threads at once. */
#define MT	8
#define ROUNDS	10

struct mt_arg {
	struct l4u_task *t;
	int idx;
	int err;
};

#define MT_CHECK(c) do { if (!(c)) { a->err = __LINE__; return NULL; } } while (0)

static void *mt_main(void *arg)
{
	struct mt_arg *a = arg;
	int r;
	uint64_t sp1, sp2, oip, osp;
	unsigned int ofl;
	char *st1, *st2;

	st1 = aligned_alloc(STACK, STACK);
	st2 = aligned_alloc(STACK, STACK);
	MT_CHECK(st1 && st2);
	for (r = 0; r < ROUNDS; r++) {
		struct l4u_thread *th;

		/* slots of their own: fn_spin counts in spins[SLOTS - 1] */
		*(int *)st1 = SLOTS - 1;
		*(int *)st2 = SLOTS - 2;
		MT_CHECK(!l4u_thread_stack(st1, STACK, &sp1));
		MT_CHECK(!l4u_thread_stack(st2, STACK, &sp2));
		MT_CHECK(!l4u_thread_create(a->t, -1, &th));
		MT_CHECK(!l4u_thread_ex_regs(th, (uint64_t)(uintptr_t)fn_spin,
					     sp1, 0, NULL, NULL, &ofl));
		MT_CHECK(ofl == L4U_THREAD_INACTIVE);
		MT_CHECK(!l4u_thread_ex_regs(th, L4U_EX_REGS_KEEP, L4U_EX_REGS_KEEP,
					     0, &oip, &osp, &ofl));
		MT_CHECK(ofl == 0);
		MT_CHECK(osp > (uint64_t)(uintptr_t)st1 && osp <= sp1);
		if (r & 1) {
			MT_CHECK(!l4u_thread_ex_regs(th,
				(uint64_t)(uintptr_t)fn_redirected, sp2, 0,
				&oip, &osp, &ofl));
			MT_CHECK(osp > (uint64_t)(uintptr_t)st1 && osp <= sp1);
		}
		MT_CHECK(!l4u_thread_delete(th));
	}
	free(st1);
	free(st2);
	return NULL;
}

TEST_F(task, eight_threads)
{
	struct mt_arg args[MT];
	pthread_t th[MT];
	struct l4u_task *t;
	struct l4_stats st;
	int i;

	ASSERT_EQ(0, l4u_task_create(self->dev, NULL, &t));
	for (i = 0; i < MT; i++) {
		args[i] = (struct mt_arg){ .t = t, .idx = i };
		ASSERT_EQ(0, pthread_create(&th[i], NULL, mt_main, &args[i]));
	}
	for (i = 0; i < MT; i++) {
		ASSERT_EQ(0, pthread_join(th[i], NULL));
		EXPECT_EQ(0, args[i].err) TH_LOG("thread %d failed at line %d",
						  i, args[i].err);
	}
	ASSERT_EQ(0, l4t_stats(self->dev, &st));
	ASSERT_EQ(self->before.threads, st.threads);
	ASSERT_EQ(0, l4u_task_destroy(t));
}

TEST_HARNESS_MAIN
