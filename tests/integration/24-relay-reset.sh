#!/bin/sh
# SPDX-License-Identifier: ISC
# 24-relay-reset: a reset passes on as a reset, on both relay paths
# (splice, and buffers with SOCKEYE_RELAY=copy). A destination that sends
# 300,000 bytes and resets: the client gets every byte, then a reset, not
# a clean end (a download cut short is seen as cut short). A client that
# sends 256,000 bytes and resets: the destination gets every byte, then a
# reset. The access line says end=reset and which side.
. "${srcdir:-.}/tests/integration/lib.sh"

N=300000
M=256000
start_server rst reset --bytes $N --seed 5
RST=$SERVER_PORT
start_server watch watch --result "$T/watch.result"
WATCH=$SERVER_PORT
start_server echo echo
ECHO=$SERVER_PORT
DOWN_SHA=$("$PYTHON" -c "import hashlib, random
print(hashlib.sha256(random.Random(5).randbytes($N)).hexdigest())")
# socks5probe.py's --send-size pattern.
UP_SHA=$("$PYTHON" -c "import hashlib
n = $M
d = bytes((i * 7 + 1) & 0xFF for i in range(256)) * (n // 256) + b's' * (n % 256)
print(hashlib.sha256(d).hexdigest())")

for mode in splice copy; do
	if [ $mode = copy ]; then
		SOCKEYE_RELAY=copy
		export SOCKEYE_RELAY
	else
		unset SOCKEYE_RELAY
	fi
	write_conf "$T/sockeye.conf" 'workers = 1;'
	start_sockeye "$T/sockeye.conf"

	# The destination resets after its bytes.
	OUT=$(probe --dst "127.0.0.1:$RST" --transfer 0 --timeout 20) ||
		fail "$mode: probe failed: $OUT"
	expect_line "$OUT" '^rep=0 ' "$mode: CONNECT"
	expect_line "$OUT" "^recv_bytes=$N recv_sha256=$DOWN_SHA\$" \
		"$mode: every byte before the destination's reset"
	expect_line "$OUT" '^closed rst$' "$mode: the reset passed on to the client"
	L=$(wait_access " dst=127\.0\.0\.1:$RST( |\$)")
	field_ok "$L" 'end=reset'
	field_ok "$L" 'reset_by=remote'
	field_ok "$L" "bytes_down=$N"

	# The client resets after its bytes.
	rm -f "$T/watch.result"
	OUT=$(probe --dst "127.0.0.1:$WATCH" --send-size $M --reset --timeout 20) ||
		fail "$mode: probe failed: $OUT"
	expect_line "$OUT" '^reset$' "$mode: the probe reset"
	wait_for 10 test -s "$T/watch.result" ||
		fail "$mode: the destination never saw its connection end"
	RES=$(cat "$T/watch.result")
	[ "$RES" = "recv_bytes=$M recv_sha256=$UP_SHA end=rst" ] ||
		fail "$mode: the destination saw '$RES', want $M bytes then a reset"
	L=$(wait_access " dst=127\.0\.0\.1:$WATCH( |\$)")
	field_ok "$L" 'end=reset'
	field_ok "$L" 'reset_by=client'
	field_ok "$L" "bytes_up=$M"

	# A clean end stays clean.
	OUT=$(probe --dst "127.0.0.1:$ECHO" --send hello --shutdown --timeout 10) ||
		fail "$mode: probe failed: $OUT"
	expect_line "$OUT" '^recv=hello$' "$mode: the echo"
	expect_line "$OUT" '^closed$' "$mode: a clean close (FIN)"
	L=$(wait_access " dst=127\.0\.0\.1:$ECHO( |\$)")
	field_ok "$L" 'end=closed'

	if [ $mode = copy ]; then
		grep -q 'relay: SOCKEYE_RELAY=copy' "$T/sockeyed.log" ||
			fail "copy: the worker did not take the copy path"
	else
		! grep -q 'SOCKEYE_RELAY=copy' "$T/sockeyed.log" ||
			fail "splice: the worker took the copy path"
	fi
	stop_sockeye
done
exit 0
