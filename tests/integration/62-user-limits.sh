#!/bin/sh
# SPDX-License-Identifier: ISC
# 62-user-limits: per-user limits. alice's downloads are capped by
# limits.user_bandwidth_bps: a 20 MiB transfer through curl takes the
# time the cap says, within 10 %; bob's user_limits entry allows him two
# sessions at once: a third request gets REP 1 and a log line naming
# the limit, and once one ends he gets in again.
. "${srcdir:-.}/tests/integration/lib.sh"
. "${srcdir:-.}/tests/integration/lib-auth.sh"
require_python
command -v curl >/dev/null 2>&1 || skip "curl not installed"

RATE=4194304			# 4 MiB/s
SIZE=$((20 * 1024 * 1024))	# 20 MiB: 5 s at the cap

mkdir "$T/www"
head -c "$SIZE" /dev/urandom >"$T/www/big"
HTTP=$(free_port)
bg http "$PYTHON" -m http.server --bind 127.0.0.1 --directory "$T/www" "$HTTP"
wait_for 10 "$PYTHON" -c "import socket; socket.create_connection(('127.0.0.1', $HTTP), 1)" ||
	fail "the HTTP server did not start"
start_server echo echo
ECHO=$SERVER_PORT

mkuser "$T/users" alice alice-pw
mkuser "$T/users" bob bob-pw
write_conf "$T/sockeye.conf" \
	"auth = { methods = [ \"password\" ]; users_file = \"$T/users\"; };" \
	"limits = { user_bandwidth_bps = $RATE; handshake_timeout_s = 30; };" \
	'user_limits = ( { users = [ "bob" ]; max_sessions = 2; bandwidth_bps = 0; } );'
start_sockeye "$T/sockeye.conf"

# The cap: 20 MiB at 4 MiB/s.
out=$(timeout 60 curl -sS -o "$T/got" -w '%{size_download} %{time_total}\n' \
	--socks5 "127.0.0.1:$SOCKS_PORT" -U alice:alice-pw "http://127.0.0.1:$HTTP/big") ||
	fail "curl: $out"
set -- $out
[ "$1" -eq "$SIZE" ] || fail "downloaded $1 bytes, want $SIZE"
cmp -s "$T/got" "$T/www/big" || fail "the download differs from the file"
awk -v s="$1" -v t="$2" -v r="$RATE" 'BEGIN {
	rate = s / t
	printf "# %.0f bytes/s measured, cap %d (%.1f %%)\n", rate, r, 100 * (rate - r) / r
	exit !(rate >= 0.9 * r && rate <= 1.1 * r)
}' >&2 || fail "rate outside 10 % of the cap: $1 bytes in $2 s"

# bob: two sessions held open (their requests are in), a third refused.
CONNECT=${SOCKEYE_CONNECT:-./sockeye-connect}
hold_bob() {
	bg "$1" sh -c "sleep 20 | SOCKEYE_PASSWORD=bob-pw timeout 30 '$CONNECT' \
		-a password -u bob '127.0.0.1:$SOCKS_PORT' 127.0.0.1 '$ECHO'"
}
connected() { grep -c 'session [0-9]* .*CONNECTING -> REPLYING' "$T/sockeyed.log"; }
BEFORE=$(connected)
hold_bob bob1
hold_bob bob2
# Both relaying: two more CONNECTs (bob's) have been answered.
two_in() { [ "$(connected)" -ge $((BEFORE + 2)) ]; }
wait_for 20 two_in || fail "bob's first two sessions did not start: $(cat "$T/bob1.log" "$T/bob2.log")"
out=$(authc bob-pw -u bob --dst "127.0.0.1:$ECHO" --send x)
expect_line "$out" '^rep=1$' "bob's third session"
grep -q 'refused: user=bob client=127\.0\.0\.1:[0-9]*: 2 sessions, the user.s limit' "$T/sockeyed.log" ||
	fail "no log line names bob's limit"
grep -q 'access user=bob .* rep=1 .*end=user-max-sessions' "$T/sockeyed.log" ||
	fail "no access line with end=user-max-sessions"
# alice is not limited in sessions.
out=$(authc alice-pw -u alice --dst "127.0.0.1:$ECHO" --send x)
expect_line "$out" '^echo=ok$' "alice meanwhile"
# One of bob's ends: he gets in again.
pkill -P "$(cat "$T/pids/bob1")" 2>/dev/null || true
kill_pid "$(cat "$T/pids/bob1")" || true
again() { authc bob-pw -u bob --dst "127.0.0.1:$ECHO" --send x | grep -q '^echo=ok$'; }
wait_for 10 again || fail "bob not admitted again after a session ended"
exit 0
