#!/bin/sh
# SPDX-License-Identifier: ISC
# 06-worker-kill: SIGKILL a worker; the master logs it and starts a new one
# within 5 s (at once, in fact: the bound is for a loaded machine running
# the sanitizers), and new sessions keep working during and after.
. "${srcdir:-.}/tests/integration/lib.sh"

command -v curl >/dev/null 2>&1 || skip "curl not installed"
command -v pgrep >/dev/null 2>&1 || skip "pgrep not installed"

BODY="sockeye 06-worker-kill page"
start_server web http --body "$BODY"
P=$SERVER_PORT
write_conf "$T/sockeye.conf"
start_sockeye "$T/sockeye.conf"

two_workers() { [ "$(worker_count)" -eq 2 ]; }
wait_for 5 two_workers || fail "want 2 workers, have: $(worker_pids | tr '\n' ' ')"
BEFORE=$(worker_pids)
VICTIM=$(printf '%s\n' "$BEFORE" | head -n 1)
SURVIVOR=$(printf '%s\n' "$BEFORE" | tail -n 1)

fetch() {
	timeout 20 curl -sS --max-time 15 --socks5-hostname "127.0.0.1:$SOCKS_PORT" \
		"http://localhost:$P/" 2>>"$T/curl.err"
}

# fetch_loop: 20 fetches through the proxy, one line each ("ok N" or
# "bad N ..."), then "done".
fetch_loop() {
	i=0
	while [ $i -lt 20 ]; do
		i=$((i + 1))
		if GOT=$(fetch) && [ "$GOT" = "$BODY" ]; then
			echo "ok $i"
		else
			echo "bad $i: got '$GOT'"
		fi
	done
	echo done
}

# check_fetches WHEN: the loop finished and every fetch got the page.
check_fetches() {
	wait_for 120 grep -q '^done$' "$T/$1.out" || fail "fetches $1: loop did not finish"
	! grep -q '^bad' "$T/$1.out" ||
		fail "fetches $1: $(grep '^bad' "$T/$1.out" | head -n 3 | tr '\n' ' ') $(tail -n 3 "$T/curl.err")"
	[ "$(grep -c '^ok' "$T/$1.out")" -eq 20 ] || fail "fetches $1: $(cat "$T/$1.out")"
}

kill -KILL "$VICTIM"

# Sessions started at once, while the master notices and restarts.
fetch_loop >"$T/during.out" 2>&1 &
echo $! >"$T/pids/during"

# Within 5 s of the kill there are two workers again: the survivor and a
# new one.
replaced() {
	_now=$(worker_pids)
	[ "$(printf '%s\n' "$_now" | grep -c .)" -eq 2 ] &&
		! printf '%s\n' "$_now" | grep -qx "$VICTIM" &&
		printf '%s\n' "$_now" | grep -qx "$SURVIVOR"
}
wait_for 5 replaced || fail "worker $VICTIM not replaced within 5 s: workers now $(worker_pids | tr '\n' ' ')"
worker_pids >>"$T/pids/workers"
check_fetches during

# The master said which worker died and how.
wait_for 5 grep -Eq "[^0-9]$VICTIM([^0-9].*)?(signal 9|SIGKILL|killed)" "$T/sockeyed.log" ||
	fail "the log does not mention worker pid $VICTIM killed by signal 9"

# And after the restart.
fetch_loop >"$T/after.out" 2>&1
check_fetches after
proc_alive "$SOCKEYED_PID" || fail "the master died"

exit 0
