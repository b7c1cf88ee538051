/* SPDX-License-Identifier: ISC */
/*
 * unit_util.h - what several unit suites need from the machine: how many
 * descriptors this process has open (the "nothing left behind" checks),
 * and whether there is an IPv6 loopback to test against.
 */
#ifndef SOCKEYE_UNIT_UTIL_H
#define SOCKEYE_UNIT_UTIL_H

#include <stdbool.h>

/* Descriptors open in this process now (from /proc/self/fd). */
int unit_open_fds(void);

/*
 * Whether ::1 can be bound here. Suites leave the tests that need it out
 * when it cannot, and exit 77 (skipped) when the rest passed: never a
 * pass for tests that did not run.
 */
bool unit_have_ipv6_loopback(void);

#endif
