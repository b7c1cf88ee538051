#!/bin/sh
# SPDX-License-Identifier: ISC
# 05-halfclose: a client's shutdown(SHUT_WR) reaches the destination as a
# FIN (not a reset), after all its data, and the other direction keeps
# working: the halfclose server answers only after EOF.
. "${srcdir:-.}/tests/integration/lib.sh"

start_server half halfclose
HALF=$SERVER_PORT
write_conf "$T/sockeye.conf"
start_sockeye "$T/sockeye.conf"

# A few bytes.
MSG="hello, half-closed world"
LEN=${#MSG}
OUT=$(probe --dst "127.0.0.1:$HALF" --send "$MSG" --shutdown --timeout 10) ||
	fail "probe failed: $OUT"
expect_line "$OUT" '^rep=0 ' "CONNECT"
expect_line "$OUT" "^recv=got $LEN bytes\\\\x0a\$" "the answer after the half-close"
expect_line "$OUT" '^closed$' "a clean close (FIN, no reset)"

L=$(wait_access " dst=127\.0\.0\.1:$HALF( |\$)" " bytes_up=$LEN( |\$)")
field_ok "$L" 'rep=0'
ANSWER_LEN=$(printf 'got %d bytes\n' "$LEN" | wc -c)
field_ok "$L" "bytes_down=$ANSWER_LEN"

# 8 MiB and then the half-close: the FIN must wait until every byte has
# gone through.
BIG=8388608
OUT=$(probe --dst "127.0.0.1:$HALF" --send-size $BIG --shutdown --timeout 20) ||
	fail "probe failed: $OUT"
expect_line "$OUT" "^recv=got $BIG bytes\\\\x0a\$" "the answer after 8 MiB and a half-close"
expect_line "$OUT" '^closed$' "a clean close after 8 MiB (FIN, no reset)"
L=$(wait_access " dst=127\.0\.0\.1:$HALF( |\$)" " bytes_up=$BIG( |\$)")
field_ok "$L" 'rep=0'

exit 0
