#!/bin/sh
# SPDX-License-Identifier: ISC
# 18-auth-guessing: 100 connections from 127.0.0.2 guessing passwords
# nonstop cost the guesser, not the server: meanwhile every right login
# from 127.0.0.1 succeeds (never "wrong password") and is answered in
# under 1 s. Real yescrypt hashes, the credential cache off (every login
# is hashed), two workers with two verifier threads each.
#
# It used to fail: every guess was hashed at once (the slow-down only
# held the answer), so the guessers kept each worker's queue about 50
# hashes deep and a right login waited behind them all (seconds, up to
# its client's timeout); with a full queue it was even answered "wrong
# password". Now the failure count is shared by the workers, each
# attempt counts from when it is made, a penalised source waits for its
# turn (turns spaced by its delay, whatever the connection) before it is
# hashed, it never has more than its share of verifier threads, and a
# full queue parks instead of refusing.
. "${srcdir:-.}/tests/integration/lib.sh"
. "${srcdir:-.}/tests/integration/lib-auth.sh"
require_python
# 127.0.0.2 is loopback on Linux without any setup; check it anyway.
"$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.2", 0))' \
	2>/dev/null || skip "cannot bind 127.0.0.2"

mkuser "$T/users" alice 'alice-right-pw'
write_conf "$T/sockeye.conf" "workers = 2;" \
	"auth = { methods = [ \"password\" ]; users_file = \"$T/users\"; verify_threads = 2; cache_ttl_s = 0; };" \
	'limits = { handshake_timeout_s = 10; };'
start_sockeye "$T/sockeye.conf"

# (--timeout 8: a login the old code kept waiting fails in 8 s, and the
# whole run is bounded: 25 logins of at most 8 s.)
SOCKEYE_PASSWORD='alice-right-pw' timeout 240 "$PYTHON" \
	"$HELPERS/guessload.py" -p "$SOCKS_PORT" -u alice --guessers 100 \
	--guess-from 127.0.0.2 --login-from 127.0.0.1 --logins 25 \
	--interval 0.3 --warmup 0.5 --timeout 8 >"$T/load.out" 2>"$T/load.err" ||
	fail "guessload failed: $(cat "$T/load.out" "$T/load.err")"
cat "$T/load.out" >&2
sum=$(tail -n 1 "$T/load.out")
field() { printf '%s\n' "$sum" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
note "$sum"
# The load was real: 100 connections or more guessed, and failed.
[ "$(field guesses)" -ge 100 ] || fail "only $(field guesses) guesses made"
[ "$(grep -c 'session [0-9]* 127\.0\.0\.2:[0-9]*: accepted' "$T/sockeyed.log")" -ge 100 ] ||
	fail "fewer than 100 guessing connections reached the daemon"
[ "$(grep -c 'auth failed: user=alice client=127\.0\.0\.2:' "$T/sockeyed.log")" -ge 3 ] ||
	fail "fewer than 3 failed guesses logged"
# Every right login succeeded...
[ "$(field wrong)" = 0 ] || fail "$(field wrong) right logins answered 'wrong password'"
[ "$(field error)" = 0 ] || fail "$(field error) right logins failed: $(grep -v result=ok "$T/load.out")"
[ "$(field ok)" = 25 ] || fail "$(field ok) of 25 right logins succeeded"
# ...each in under 1 s.
note "slowest right login: $(field max_ms) ms (bound 1000 ms)"
[ "$(field max_ms)" -lt 1000 ] ||
	fail "a right login took $(field max_ms) ms next to the guessers (want < 1000)"
grep -q 'verifier-busy' "$T/sockeyed.log" && fail "a login was refused as verifier-busy"
grep -q 'auth failed: user=alice client=127\.0\.0\.1:' "$T/sockeyed.log" &&
	fail "a right login from 127.0.0.1 was logged as failed"
no_secret_in_log alice-right-pw wrong-1-1
note "held guesses: $(grep -c 'holding the attempt' "$T/sockeyed.log")"
proc_alive "$SOCKEYED_PID" || fail "sockeyed died"
# The guessers still waiting (held, parked) go with the daemon, cleanly
# (the sanitizers watch).
stop_sockeye
[ "$SOCKEYED_STATUS" = 0 ] || fail "sockeyed exited $SOCKEYED_STATUS"
note "guessing sessions by end: $(grep 'access .*client=127\.0\.0\.2:' "$T/sockeyed.log" |
	sed -n 's/.* end=\([a-z-]*\).*/\1/p' | sort | uniq -c | tr -s ' \n' ' ')"
exit 0
