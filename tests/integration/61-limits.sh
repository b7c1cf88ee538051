#!/bin/sh
# SPDX-License-Identifier: ISC
# 61-limits: limits.max_sessions and limits.max_sessions_per_client hold
# exactly across both workers, under 2,000 concurrent connections;
# refusals are logged with the limit's name; once sessions close, new
# ones are admitted again.
. "${srcdir:-.}/tests/integration/lib.sh"
require_python

# 2,000 sockets here and as many in the daemon.
ulimit -n 8192 2>/dev/null || ulimit -n 4096 2>/dev/null ||
	skip "cannot raise the open-files limit to 4096"
[ "$(ulimit -n)" -ge 4096 ] || skip "open-files limit $(ulimit -n) < 4096"

write_conf "$T/sockeye.conf" \
	'limits = { max_sessions = 1500; max_sessions_per_client = 120; handshake_timeout_s = 60; };' \
	"status_socket = \"$T/status.sock\";"
start_sockeye "$T/sockeye.conf"

# 2,000 at once from 20 addresses, 100 each: per-client 120 does not bite;
# the global 1500 does, exactly.
srcs=
i=1
while [ $i -le 20 ]; do
	srcs="$srcs --src 127.0.1.$i:100"
	i=$((i + 1))
done
# shellcheck disable=SC2086
out=$(timeout 120 "$PYTHON" "$HELPERS/limitprobe.py" -p "$SOCKS_PORT" $srcs --timeout 60) ||
	fail "limitprobe: $out"
note "$(printf '%s\n' "$out" | tail -n 1)"
expect_line "$out" '^total admitted=1500 refused=500 undecided=0$' "global limit of 1500"
grep -q "refused 127\.0\.1\.[0-9]*:[0-9]*: limits\.max_sessions (1500) reached" "$T/sockeyed.log" ||
	fail "no log line names limits.max_sessions"

# Everything closed: the counts are back to zero, so a new burst is
# admitted again (bounded wait for the workers to see the closes).
again() {
	_o=$(timeout 60 "$PYTHON" "$HELPERS/limitprobe.py" -p "$SOCKS_PORT" \
		--src 127.0.2.1:50 --timeout 20) || return 1
	printf '%s\n' "$_o" | grep -q '^total admitted=50 refused=0 '
}
wait_for 10 again || fail "sessions not admitted again after the others closed"

# Per client: 2,000 from 10 addresses, 200 each; each may have 120.
srcs=
i=1
while [ $i -le 10 ]; do
	srcs="$srcs --src 127.0.3.$i:200"
	i=$((i + 1))
done
# shellcheck disable=SC2086
out=$(timeout 120 "$PYTHON" "$HELPERS/limitprobe.py" -p "$SOCKS_PORT" $srcs --timeout 60) ||
	fail "limitprobe: $out"
note "$(printf '%s\n' "$out" | tail -n 1)"
printf '%s\n' "$out" | grep '^127\.0\.3\.' | while read -r src adm ref und; do
	a=${adm#admitted=}
	# Exact, however many workers admit at the same instant.
	[ "$a" -eq 120 ] ||
		{ echo "FAIL: $src $adm $ref $und (want 120)" >&2; exit 1; }
	[ "$und" = undecided=0 ] || { echo "FAIL: $src $und" >&2; exit 1; }
done || fail "per-client limit not held: $out"
grep -q "refused 127\.0\.3\.[0-9]*:[0-9]*: limits\.max_sessions_per_client (120) reached" \
	"$T/sockeyed.log" || fail "no log line names limits.max_sessions_per_client"

# The status socket counts both kinds of refusal.
g=$(timeout 20 "$PYTHON" "$HELPERS/statusq.py" "$T/status.sock" refused.max_sessions) || fail "status socket"
c=$(timeout 20 "$PYTHON" "$HELPERS/statusq.py" "$T/status.sock" refused.max_sessions_per_client) || fail "status socket"
[ "$g" -ge 500 ] || fail "status refused.max_sessions = $g, want >= 500"
[ "$c" -ge 780 ] || fail "status refused.max_sessions_per_client = $c, want >= 780"
# The workers are the ones that started: nothing crashed.
[ "$(worker_count)" -eq 2 ] || fail "workers: $(worker_count)"
exit 0
