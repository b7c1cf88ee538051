/* SPDX-License-Identifier: ISC */
/*
 * unit_util.h - what several unit suites need from the machine: how many
 * descriptors this process has open (the "nothing left behind" checks),
 * whether there is an IPv6 loopback to test against, and a fork that is
 * safe under Check; addresses written as text; a libev loop run for a
 * bounded time; a configuration loaded from text; and the main() every
 * suite has.
 */
#ifndef SOCKEYE_UNIT_UTIL_H
#define SOCKEYE_UNIT_UTIL_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sockaddr.h"
#include "socks5.h"

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
 * Addresses for tests, from text. A string that does not parse fails
 * the test (it is the test's mistake, never an outcome).
 *
 * unit_addr: an IP literal ("192.0.2.1", "::1", "[::1]") and a port.
 * unit_saddr: the same as SOCKS has it (ATYP 1 or 4; a mapped address,
 * ::ffff:a.b.c.d, becomes IPv4, as socks5_addr_from_sockaddr does).
 * unit_sname: a DOMAINNAME, strlen(name) bytes; unit_sname_len: `len`
 * bytes of `name`, NULs and all (up to 255).
 */
union sockaddr_any unit_addr(const char *ip, uint16_t port);
struct socks5_addr unit_saddr(const char *ip, uint16_t port);
struct socks5_addr unit_sname(const char *name, uint16_t port);
struct socks5_addr unit_sname_len(const char *name, size_t len,
    uint16_t port);

/*
 * A libev loop run with a bound, so that code that never calls back fails
 * its test instead of hanging it:
 *
 * unit_loop_run: until a callback breaks the loop (ev_break) or `secs`
 * pass, whichever is first.
 * unit_loop_until: a turn at a time until *count reaches `want` or `secs`
 * pass; whether it reached it. Callbacks need not break the loop.
 * unit_loop_for: `secs`, whatever the callbacks do (to give something
 * that must not happen the time to happen).
 */
struct ev_loop;
void unit_loop_run(struct ev_loop *loop, double secs);
bool unit_loop_until(struct ev_loop *loop, const int *count, int want,
    double secs);
void unit_loop_for(struct ev_loop *loop, double secs);

/*
 * Load `text` as a configuration, after a minimal valid head (a listener
 * on 127.0.0.1:1080, no authentication): its first line is line 3. NULL
 * when it was refused. unit_cfg_msgs() holds what the last load said,
 * "LINE: message\n" each, warnings too. unit_cfg_refused() fails the test
 * unless `text` is refused with a message that contains `msg`.
 */
struct config;
struct config *unit_cfg_load(const char *text);
const char *unit_cfg_msgs(void);
void unit_cfg_refused(const char *text, const char *msg);

/*
 * Run suite `s` (CK_VERBOSITY chooses the output) and return main()'s
 * exit status: 1 when a test failed; else 0, or, when `skipped` says
 * which tests were left out and why, 77 (automake's SKIP) after saying
 * so on stderr: a suite that could not run all its tests never passes.
 */
int unit_run(Suite *s, const char *skipped);

#endif
