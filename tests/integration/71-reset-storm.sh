#!/bin/sh
# SPDX-License-Identifier: ISC
# 71-reset-storm: 1,000 relayed sessions (1,000 bytes each way checked on
# each), then at once the clients of half of them and the destinations
# of the other half reset: every reset reaches the other side as a reset
# (ECONNRESET, not a clean end of stream), the access log says which side
# reset each, and the status counters and each worker's descriptors
# return to their baseline.
. "${srcdir:-.}/tests/integration/lib.sh"
. "${srcdir:-.}/tests/integration/lib-ops.sh"
. "${srcdir:-.}/tests/integration/lib-faults.sh"
require_python
need_fds 8192

S=$T/status.sock
write_conf "$T/sockeye.conf" \
	'limits = { max_sessions = 10000; max_sessions_per_client = 10000; };' \
	"status_socket = \"$S\";" \
	'log = { target = "stderr"; level = "info"; access = true; };'
start_sockeye "$T/sockeye.conf"
wait_for 10 test -S "$S" || fail "no status socket"
BASE=$(fd_counts)

out=$(timeout 300 "$PYTHON" "$HELPERS/faults.py" resets -p "$SOCKS_PORT" -n 1000) ||
	fail "resets: $(printf '%s\n' "$out" | tail -n 20)"
note "$out"
[ "$out" = "sessions=1000 client_resets=500 remote_resets=500 as_reset=1000 eof=0 silent=0" ] ||
	fail "want every reset seen as a reset: $out"

settled 30 "$BASE" "$S"
n=$(log_count 'access .*end=reset reset_by=client')
[ "$n" -eq 500 ] || fail "$n access lines say reset_by=client, want 500"
n=$(log_count 'access .*end=reset reset_by=remote')
[ "$n" -eq 500 ] || fail "$n access lines say reset_by=remote, want 500"
[ "$(statusq "$S" sessions.total)" = 1000 ] ||
	fail "status sessions.total $(statusq "$S" sessions.total), want 1000"
[ "$(statusq "$S" sessions.ended)" = 1000 ] ||
	fail "status sessions.ended $(statusq "$S" sessions.ended), want 1000"
exit 0
