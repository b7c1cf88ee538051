#!/bin/sh
# SPDX-License-Identifier: ISC
# 16-auth-slowdown: after repeated failures from one address every answer
# to it waits, longer with each failure (FAILTAB_FREE = 3 free failures,
# then 250 ms doubling), a success clears it; and clients that hang up
# while their password is being checked or while their answer is held
# leave nothing behind (the check's result finds the session gone, the
# sanitizers watch).
. "${srcdir:-.}/tests/integration/lib.sh"
. "${srcdir:-.}/tests/integration/lib-auth.sh"
require_python

start_server echo echo
ECHO=$SERVER_PORT
# alice's hash is the cheapest (-c 1): this test is about the waits the
# failures earn, not the cost of a hash under the sanitizers.
mkuser "$T/users" alice 'alice-pw' -c 1 --chap
mkuser "$T/users" slow 'slow-pw' -c 9
write_conf "$T/sockeye.conf" "workers = 1;" \
	"auth = { methods = [ \"password\", \"chap\" ]; users_file = \"$T/users\"; verify_threads = 1; };" \
	'limits = { handshake_timeout_s = 30; };'
start_sockeye "$T/sockeye.conf"

# elapsed_ms OUTPUT: the client's elapsed= in milliseconds.
elapsed_ms() {
	printf '%s\n' "$1" | sed -n 's/^elapsed=\([0-9]*\)\.\([0-9][0-9][0-9]\).*/\1\2/p' |
		sed 's/^0*\([0-9]\)/\1/'
}

# held: how many attempts the daemon has held for their turn so far (its
# debug line says so; a wall-clock upper bound would flake on a busy
# machine, the lower bounds below cannot).
held() {
	grep -c 'holding the attempt for [0-9]* ms' "$T/sockeyed.log"
}

# The first three failures are answered at once: none is held.
i=1
while [ $i -le 3 ]; do
	out=$(authc "bad-$i" -u alice)
	expect_line "$out" '^auth=fail status=01$' "failure $i"
	ms=$(elapsed_ms "$out")
	note "failure $i answered after $ms ms"
	[ "$(held)" = 0 ] || fail "failure $i already slowed down (held; $ms ms)"
	i=$((i + 1))
done
# Then 250, 500, 1000 ms at least.
for want in 250 500 1000; do
	out=$(authc "bad-$i" -u alice)
	expect_line "$out" '^auth=fail status=01$' "failure $i"
	ms=$(elapsed_ms "$out")
	note "failure $i answered after $ms ms (at least $want)"
	[ "$ms" -ge "$want" ] || fail "failure $i answered after $ms ms, want >= $want"
	i=$((i + 1))
done
# The right password from this address waits too (2000 ms now), then
# clears the slate.
out=$(authc alice-pw -u alice --dst "127.0.0.1:$ECHO" --send x)
expect_line "$out" '^echo=ok$' "success after failures"
ms=$(elapsed_ms "$out")
note "success after 6 failures answered after $ms ms"
[ "$ms" -ge 2000 ] || fail "success answered after $ms ms, want >= 2000"
[ "$(held)" = 4 ] || fail "$(held) attempts held, want 4 (failures 4-6 and the success)"
out=$(authc alice-pw -u alice --dst "127.0.0.1:$ECHO" --send x)
expect_line "$out" '^echo=ok$' "success after a success"
ms=$(elapsed_ms "$out")
[ "$(held)" = 4 ] || fail "still slowed down after a success (held; $ms ms)"
grep -c 'auth failed: user=alice client=127\.0\.0\.1:[0-9]* method=password reason=bad-password' \
	"$T/sockeyed.log" >"$T/n"
[ "$(cat "$T/n")" = 6 ] || fail "$(cat "$T/n") failure lines, want 6"

# CHAP failures count too, and a mutual CHAP success is held the same
# way (its STATUS and RESPONSE wait, then the client's STATUS goes on).
for k in 1 2 3 4; do
	out=$(authc "chap-bad-$k" -m chap -u alice)
	expect_line "$out" '^auth=fail status=ff$' "CHAP failure $k"
done
out=$(authc alice-pw -m chap -u alice --mutual --dst "127.0.0.1:$ECHO" --send y)
expect_line "$out" '^mutual=ok$' "held mutual CHAP"
expect_line "$out" '^echo=ok$' "held mutual CHAP session"
ms=$(elapsed_ms "$out")
note "mutual CHAP after 4 failures answered after $ms ms"
[ "$ms" -ge 500 ] || fail "mutual CHAP after 4 failures took $ms ms, want >= 500"
no_secret_in_log bad-1 bad-5 alice-pw chap-bad-1

# Hanging up during a slow check (about 0.5 s), several at once, and
# during a held answer: the daemon carries on, cleanly.
n=0
pids=
while [ $n -lt 6 ]; do
	authc slow-pw -u slow --close-after-request 0.05 >"$T/hang$n.out" &
	pids="$pids $!"
	n=$((n + 1))
done
# (Not a bare `wait`: that would wait for the echo server too.)
for p in $pids; do
	wait "$p"
done
for k in 1 2 3 4; do
	authc "bad-again-$k" -u alice >/dev/null
done
authc bad-held -u alice --close-after-request 0.05 >/dev/null
# Give the checks time to finish and land on the gone sessions.
sleep 4
out=$(authc slow-pw -u slow --dst "127.0.0.1:$ECHO" --send after)
expect_line "$out" '^echo=ok$' "a slow login after the hang-ups"
[ "$(grep -c ' end=client-eof' "$T/sockeyed.log")" -ge 7 ] ||
	fail "expected 7 client-eof sessions: $(grep -c ' end=client-eof' "$T/sockeyed.log")"
proc_alive "$SOCKEYED_PID" || fail "sockeyed died"
[ "$(worker_count)" = 1 ] || fail "the worker was replaced"
stop_sockeye
[ "$SOCKEYED_STATUS" = 0 ] || fail "sockeyed exited $SOCKEYED_STATUS"
exit 0
