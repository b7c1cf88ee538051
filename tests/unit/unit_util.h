/* SPDX-License-Identifier: ISC */
/*
 * unit_util.h - what several unit suites need from the machine: how many
 * descriptors this process has open (the "nothing left behind" checks),
 * whether there is an IPv6 loopback to test against, and a fork that is
 * safe under Check; and the main() every suite has.
 */
#ifndef SOCKEYE_UNIT_UTIL_H
#define SOCKEYE_UNIT_UTIL_H

#include <check.h>
#include <stdbool.h>
#include <sys/types.h>

/* Descriptors open in this process now (from /proc/self/fd). */
int unit_open_fds(void);

/*
 * Whether ::1 can be bound here. Suites leave the tests that need it out
 * when it cannot, and exit 77 (skipped) when the rest passed: never a
 * pass for tests that did not run.
 */
bool unit_have_ipv6_loopback(void);

/*
 * fork(2) for a test that runs children: the test fails (in the parent)
 * when fork fails; the child gets 0 having written nothing. A child must
 * never call ck_assert or mark_point: each passing assertion writes a
 * message to the file Check reads the test's result from, a child killed
 * in the middle of that write leaves half a message there, and Check then
 * fails the whole suite with "Bad message type". A child reports through
 * its exit status or a pipe instead.
 */
pid_t unit_fork(void);

/*
 * Run suite `s` (CK_VERBOSITY chooses the output) and return main()'s
 * exit status: 1 when a test failed; else 0, or, when `skipped` says
 * which tests were left out and why, 77 (automake's SKIP) after saying
 * so on stderr: a suite that could not run all its tests never passes.
 */
int unit_run(Suite *s, const char *skipped);

#endif
