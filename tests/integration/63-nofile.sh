#!/bin/sh
# SPDX-License-Identifier: ISC
# 63-nofile: a daemon whose RLIMIT_NOFILE is 64 faces 500 connections at
# once: it serves what it can, pauses accepting while out of descriptors
# (no busy loop: the worker's CPU time stays low), logs it, never
# crashes, and serves again once the connections close. Also: a client
# outside `clients` is closed at once, with a log line.
. "${srcdir:-.}/tests/integration/lib.sh"
require_python

start_server echo echo
ECHO=$SERVER_PORT
write_conf "$T/sockeye.conf" "workers = 1;" \
	'clients = [ "127.0.0.0/9", "::1/128" ];' \
	'limits = { handshake_timeout_s = 30; };'
# Only the daemon gets the low limit (a soft limit: raised again after).
OLD=$(ulimit -S -n)
ulimit -S -n 64
start_sockeye "$T/sockeye.conf"
ulimit -S -n "$OLD"
[ "$(ulimit -S -n)" -ge 1024 ] || ulimit -S -n 1024 2>/dev/null ||
	skip "cannot open 500 sockets here (ulimit -n $(ulimit -S -n))"
W=$(worker_pids)
[ "$(echo "$W" | wc -w)" -eq 1 ] || fail "want one worker: $W"
grep -q 'Max open files *64 ' "/proc/$W/limits" || fail "worker limit: $(grep 'open files' "/proc/$W/limits")"

cpu() { awk '{ print $14 + $15 }' "/proc/$W/stat"; }
C0=$(cpu)
# 500 at once, held 3 s after all are sent: most wait in the backlog.
out=$(timeout 60 "$PYTHON" "$HELPERS/limitprobe.py" -p "$SOCKS_PORT" \
	--src 127.0.0.1:500 --timeout 3) || fail "limitprobe: $out"
C1=$(cpu)
note "$(printf '%s\n' "$out" | tail -n 1); worker CPU $((C1 - C0)) ticks"
expect_line "$out" '^total admitted=[1-9][0-9]* ' "some sessions served"
HZ=$(getconf CLK_TCK)
# A busy loop would burn the whole 3 s; allow a third of it under ASan.
[ $((C1 - C0)) -lt "$HZ" ] || fail "the worker used $((C1 - C0)) ticks in 3 s: busy loop?"
grep -q 'accept: Too many open files; pausing accepts' "$T/sockeyed.log" ||
	fail "no log line about running out of descriptors"

# All closed: the same worker serves again.
served() { probe --dst "127.0.0.1:$ECHO" --send hi --expect-echo | grep -q '^echo=ok$'; }
wait_for 20 served || fail "not serving after the connections closed"
[ "$(worker_pids)" = "$W" ] || fail "the worker changed: $W -> $(worker_pids)"

# Outside `clients` (127.0.0.0/9 leaves out 127.128.0.0/9): closed at once.
out=$(timeout 30 "$PYTHON" "$HELPERS/limitprobe.py" -p "$SOCKS_PORT" \
	--src 127.200.0.1:1 --timeout 5) || fail "limitprobe: $out"
expect_line "$out" '^total admitted=0 refused=1 ' "a client outside 'clients'"
grep -q "refused 127\.200\.0\.1:[0-9]*: not in 'clients'" "$T/sockeyed.log" ||
	fail "no log line for the client outside 'clients'"
exit 0
