#!/bin/sh
# SPDX-License-Identifier: ISC
# 73-rlimit-as: a worker whose address space is capped (RLIMIT_AS a few
# MiB above what it uses) faces 3,000 sessions: it keeps those it could
# start, refuses the rest with a clear log line, does not crash (the same
# pid throughout) and does not spin (its CPU time while holding them
# stays low); once they close, it serves new sessions again under the
# same cap. Needs a build without AddressSanitizer (which reserves
# terabytes of address space): `make distcheck`'s build runs it.
. "${srcdir:-.}/tests/integration/lib.sh"
. "${srcdir:-.}/tests/integration/lib-ops.sh"
. "${srcdir:-.}/tests/integration/lib-faults.sh"
require_python
asan_build && skip "an AddressSanitizer build cannot run under RLIMIT_AS"
need_fds 8192

start_server echo echo
ECHO=$SERVER_PORT
S=$T/status.sock
write_conf "$T/sockeye.conf" 'workers = 1;' \
	'limits = { max_sessions = 10000; max_sessions_per_client = 10000; handshake_timeout_s = 10; };' \
	"status_socket = \"$S\";" \
	'log = { target = "stderr"; level = "info"; access = true; };'
# A first run tells how much address space a worker uses; the second
# runs under a cap a few MiB above it (a soft limit, raised again after:
# RLIMIT_AS of another user's process needs CAP_SYS_RESOURCE).
start_sockeye "$T/sockeye.conf"
W=$(worker_pids)
VS=$(awk '/^VmSize:/ { print $2 }' "/proc/$W/status")
stop_sockeye
CAP=$((VS + 3072))
OLD=$(ulimit -S -v)
ulimit -S -v "$CAP" || skip "cannot set RLIMIT_AS"
start_sockeye "$T/sockeye.conf"
ulimit -S -v "$OLD"
wait_for 10 test -S "$S" || fail "no status socket"
W=$(worker_pids)
[ "$(echo "$W" | wc -w)" -eq 1 ] || fail "want one worker: $W"
grep -Eq "^Max address space +$((CAP * 1024)) " "/proc/$W/limits" ||
	fail "worker limit: $(grep 'address space' "/proc/$W/limits")"
note "worker $W: VmSize $(awk '/^VmSize:/ { print $2 }' "/proc/$W/status") KiB, capped at $CAP KiB"

cpu() { awk '{ print $14 + $15 }' "/proc/$W/stat"; }
bg hold timeout 300 "$PYTHON" "$HELPERS/faults.py" hold -p "$SOCKS_PORT" \
	--dst "127.0.0.1:$ECHO" -n 3000 --ready "$T/ready" --go "$T/go"
wait_for 240 test -f "$T/ready" || fail "3,000 sessions not tried in 240 s"
HELD=$(cat "$T/ready")
note "under the cap: $HELD"
C0=$(cpu)
sleep 3
C1=$(cpu)
note "worker CPU while holding: $((C1 - C0)) ticks in 3 s"
[ $((C1 - C0)) -lt 100 ] || fail "the worker spins: $((C1 - C0)) ticks in 3 s"
proc_alive "$W" || fail "the worker died"
[ "$(worker_pids)" = "$W" ] || fail "the worker was replaced: $(worker_pids)"
case $HELD in
"ok=3000 refused=0") fail "the cap did not bite: $HELD" ;;
"ok=0 "*) fail "nothing served under the cap: $HELD" ;;
esac
wait_log 10 'out of memory' || fail "no 'out of memory' line in the log"
note "$(grep -m 1 'out of memory' "$T/sockeyed.log")"

touch "$T/go"
wait_for 120 grep -q '^sessions=' "$T/hold.out" || fail "the hold did not end"
last=$(grep '^sessions=' "$T/hold.out")
note "$last"
ok=$(printf '%s\n' "$last" | sed -n 's/.* ok=\([0-9]*\).*/\1/p')
printf '%s\n' "$last" | grep -q " still_ok=$ok\$" ||
	fail "sessions it held were lost: $last $(head -n 3 "$T/hold.out")"
_idle() { [ "$(statusq "$S" sessions.active)" = 0 ]; }
wait_for 20 _idle || fail "sessions still active"
# The trim timer returns the freed memory within a few seconds.
sleep 4
out=$(timeout 60 "$PYTHON" "$HELPERS/sessions.py" -p "$SOCKS_PORT" \
	--dst "127.0.0.1:$ECHO" -n 50 --timeout 30) ||
	fail "after the pressure, under the same cap: $out"
[ "$(worker_pids)" = "$W" ] || fail "the worker was replaced: $(worker_pids)"
exit 0
