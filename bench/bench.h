/* SPDX-License-Identifier: MIT */
/*
 * What the benchmarks share: their goal lines. `make bench` prints each
 * limit of the issues as exactly one line,
 *
 *   goal: <what> <measured> (limit <limit>) PASS|FAIL
 *   goal: <what> <measured> (limit <limit>) SKIP (<why it does not apply here>)
 *
 * so that a reader and a script (grep '^goal:') see them alike. A limit
 * that applies but could not be measured (a row skipped) prints "-" and
 * FAIL. Goals never change the exit status: that is for functional
 * failures.
 */
#ifndef L4U_BENCH_H
#define L4U_BENCH_H

#include <stdio.h>

/*
 * @num: printf format of one number with its unit ("%.2fx", "%.1fB");
 * @measured < 0: not measured; @why: NULL, or why the limit does not apply.
 * Returns 1 for PASS, 0 otherwise.
 */
static inline int bench_goal(const char *what, double measured, double limit,
			     const char *num, const char *why)
{
	int pass = measured >= 0 && measured <= limit;

	printf("goal: %s ", what);
	if (measured >= 0)
		printf(num, measured);
	else
		putchar('-');
	printf(" (limit ");
	printf(num, limit);
	if (why)
		printf(") SKIP (%s)\n", why);
	else
		printf(") %s\n", pass ? "PASS" : "FAIL");
	return pass && !why;
}

#endif /* L4U_BENCH_H */
