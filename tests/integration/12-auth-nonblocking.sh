#!/bin/sh
# SPDX-License-Identifier: ISC
# 12-auth-nonblocking: crypt runs off the event loop. With a crypt cost
# high enough that one password check takes at least 50 ms, one worker,
# one verifier thread and the credential cache off (every login pays),
# a stream of password logins keeps the verifier busy while no-auth
# sessions on the same worker must still be answered at once: their
# median latency stays far below one crypt.
. "${srcdir:-.}/tests/integration/lib.sh"
. "${srcdir:-.}/tests/integration/lib-auth.sh"
require_python

start_server echo echo
ECHO=$SERVER_PORT
PW='slow-hash-pw'

# The cheapest yescrypt cost that takes >= 50 ms here (7 is ~100 ms on a
# laptop; a fast machine may need more).
for cost in 7 8 9 10; do
	rm -f "$T/users"
	mkuser "$T/users" alice "$PW" -c "$cost"
	write_conf "$T/sockeye.conf" "workers = 1;" \
		"auth = { methods = [ \"password\", \"none\" ]; users_file = \"$T/users\";
		          verify_threads = 1; cache_ttl_s = 0; };" \
		'log = { target = "stderr"; level = "info"; access = true; };' \
		'limits = { handshake_timeout_s = 60; };'
	start_sockeye "$T/sockeye.conf"
	idle=$(authload "$PW" -m password --dst "127.0.0.1:$ECHO" --sessions 3 --concurrency 1)
	[ "$(field "$idle" ok)" = 3 ] || fail "password logins failed: $idle"
	crypt_ms=$(field "$idle" p50_ms)
	note "cost $cost: a password session takes $crypt_ms ms ($idle)"
	if [ "${crypt_ms%.*}" -ge 50 ]; then
		break
	fi
	stop_sockeye
done
[ "${crypt_ms%.*}" -ge 50 ] || skip "cannot make crypt take 50 ms here"

# Keep the verifier busy: 4 clients logging in back to back.
SOCKEYE_PASSWORD=$PW bg load "$PYTHON" "$HELPERS/authload.py" -p "$SOCKS_PORT" \
	-m password --dst "127.0.0.1:$ECHO" --duration 6 --concurrency 4
sleep 1
fast=$(authload x -m none --dst "127.0.0.1:$ECHO" --sessions 40 --concurrency 1)
note "no-auth sessions meanwhile: $fast"
wait_for 30 proc_gone "$BG_PID" || fail "the password load did not end"
busy=$(cat "$T/load.out")
note "password sessions meanwhile: $busy"

[ "$(field "$fast" ok)" = 40 ] || fail "no-auth sessions failed: $fast"
[ "$(field "$busy" ok)" -ge 4 ] || fail "too few password sessions: $busy"
p50=$(field "$fast" p50_ms)
half=$((${crypt_ms%.*} / 2))
# Blocking the loop would put a crypt in front of most sessions.
[ "${p50%.*}" -lt "$half" ] ||
	fail "no-auth median $p50 ms during password checks (one check: $crypt_ms ms)"
exit 0
