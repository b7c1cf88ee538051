#!/bin/sh
# SPDX-License-Identifier: ISC
# 04-bigtransfer: 64 MiB each way at the same time through the proxy,
# checked by sha256 at both ends and by the access log's byte counts.
. "${srcdir:-.}/tests/integration/lib.sh"

N=67108864

start_server sink sink-source --bytes $N --seed 11 --result "$T/sink.result"
SINK=$SERVER_PORT
write_conf "$T/sockeye.conf"
start_sockeye "$T/sockeye.conf"

# The probe sends N bytes (seed 22) while reading what the server sends,
# then half-closes and reads to EOF. --timeout bounds each wait for data.
OUT=$(timeout 300 "$PYTHON" "$HELPERS/socks5probe.py" -p "$SOCKS_PORT" \
	--dst "127.0.0.1:$SINK" --transfer $N --seed 22 --timeout 30) ||
	fail "probe failed: $OUT"
expect_line "$OUT" '^rep=0 ' "CONNECT"
expect_line "$OUT" "^sent_bytes=$N " "client sent everything"
expect_line "$OUT" "^recv_bytes=$N " "client received everything"
expect_line "$OUT" '^closed$' "the server closed cleanly after the transfer"

wait_for 10 test -s "$T/sink.result" || fail "the sink-source server wrote no result"
RES=$(cat "$T/sink.result")
val() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

C_SENT=$(val "$OUT" sent_sha256)
C_RECV=$(val "$OUT" recv_sha256)
S_SENT=$(val "$RES" sent_sha256)
S_RECV=$(val "$RES" recv_sha256)
[ "$(val "$RES" recv_bytes)" = $N ] || fail "server received $(val "$RES" recv_bytes) bytes, want $N: $RES"
[ "$(val "$RES" sent_bytes)" = $N ] || fail "server sent $(val "$RES" sent_bytes) bytes, want $N: $RES"
[ -n "$C_SENT" ] && [ "$C_SENT" = "$S_RECV" ] ||
	fail "upstream corrupted: client sent sha256 $C_SENT, server got $S_RECV"
[ -n "$S_SENT" ] && [ "$S_SENT" = "$C_RECV" ] ||
	fail "downstream corrupted: server sent sha256 $S_SENT, client got $C_RECV"

L=$(wait_access " dst=127\.0\.0\.1:$SINK( |\$)")
field_ok "$L" 'rep=0'
field_ok "$L" "bytes_up=$N"
field_ok "$L" "bytes_down=$N"

exit 0
