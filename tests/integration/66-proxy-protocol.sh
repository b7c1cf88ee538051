#!/bin/sh
# SPDX-License-Identifier: ISC
# 66-proxy-protocol: a proxy_protocol listener, with headers written here
# byte by byte (no balancer; 80-haproxy runs the real one). From the
# trusted balancer (127.0.0.1):
#  - PROXY v1 TCP4, v2 over IPv4 with TLVs (part of them sent 0.2 s after
#    the rest), v2 over IPv6: the CONNECT works and the access line says
#    client= the header's client and via= the balancer;
#  - the header's client is the one `access` and `clients` judge: a
#    client a deny rule names gets REP 2, one outside `clients` is closed;
#  - a v2 LOCAL header followed by a request is served as the
#    connection's own address (no via=); followed by nothing, or a
#    connection that sends nothing at all (health checks), ends without a
#    log line;
#  - no header (a plain SOCKS greeting), a malformed one, or one cut off
#    by the client: closed without a reply, one "refused" line each,
#    counted in the status as proxy_header.
# From 127.0.0.2, outside proxy_protocol.trusted, a valid header is
# refused (proxy_untrusted). The plain listener beside it is unchanged,
# and takes a PROXY header for what it is: not SOCKS.
. "${srcdir:-.}/tests/integration/lib.sh"
. "${srcdir:-.}/tests/integration/lib-ops.sh"

require_python
"$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.2", 0))' 2>/dev/null ||
	skip "cannot bind 127.0.0.2 (no 127.0.0.0/8 on lo)"

start_server echo echo
ECHO=$SERVER_PORT
S=$T/status.sock
# Ports of our own: the reload at the end moves one between the lists.
P1=$(free_port)
P2=$(free_port)
[ "$P1" != "$P2" ] || P2=$(free_port)
write_conf "$T/sockeye.conf" \
	"listen = [ \"127.0.0.1:$P1\" ];" \
	"proxy_protocol = { listen = [ \"127.0.0.1:$P2\" ]; trusted = [ \"127.0.0.1\" ]; };" \
	'clients = [ "127.0.0.0/8", "192.0.2.0/24", "198.51.100.0/24", "2001:db8::/32" ];' \
	'access = ( { action = "deny"; from = [ "198.51.100.0/24" ]; },' \
	'           { action = "allow"; } );' \
	"status_socket = \"$S\";"
start_sockeye "$T/sockeye.conf"
PPORT=$(sed -n '2s/.*:\([0-9][0-9]*\)$/\1/p' "$T/ports")
[ -n "$PPORT" ] || fail "no second listener in the ports file: $(cat "$T/ports")"

# pprobe HEADER_HEX ARGS...: socks5probe to the PROXY listener, sending
# the header first.
pprobe() {
	_h=$1
	shift
	timeout 60 "$PYTHON" "$HELPERS/socks5probe.py" -p "$PPORT" \
		--prefix-hex "$_h" "$@"
}
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
SIG=0d0a0d0a000d0a515549540a
PORTHEX=$(printf '%04x' "$PPORT")
# v1 SRC SPORT [TCP4|TCP6 DST]
v1() { hex "PROXY ${3:-TCP4} $1 ${4:-127.0.0.1} $2 $PPORT
" | sed 's/0a$/0d0a/'; }

refused_count() { grep -c "refused .*$1" "$T/sockeyed.log" || true; }

# --- v1, TCP4 -------------------------------------------------------------
OUT=$(pprobe "$(v1 192.0.2.7 40001)" --dst "127.0.0.1:$ECHO" --send v1 --expect-echo)
expect_line "$OUT" '^echo=ok$' "v1 TCP4"
L=$(wait_access 'client=192\.0\.2\.7:40001 ')
field_ok "$L" 'via=127\.0\.0\.1:[0-9]+'
field_ok "$L" 'rep=0'
field_ok "$L" 'cmd=connect'

# --- v2 over IPv4, with TLVs after the addresses ---------------------------
# 12 bytes of addresses, a NOOP TLV (4 bytes), a unique-id TLV (8 bytes).
TLVS=040001000500050102030405
LEN=$(printf '%04x' $((12 + ${#TLVS} / 2)))
V2=${SIG}2111${LEN}c00002087f0000019c42${PORTHEX}${TLVS}
# The TLVs come 0.2 s after the addresses: the header is parsed, and
# the greeting is looked for only after its last byte.
OUT=$(pprobe "$V2" --prefix-split 30 --dst "127.0.0.1:$ECHO" --send v2 --expect-echo)
expect_line "$OUT" '^echo=ok$' "v2 INET with TLVs"
L=$(wait_access 'client=192\.0\.2\.8:40002 ')
field_ok "$L" 'via=127\.0\.0\.1:[0-9]+'

# --- v2 over IPv6 ------------------------------------------------------------
V6=${SIG}2121002420010db8000000000000000000000009000000000000000000000000000000019c43${PORTHEX}
OUT=$(pprobe "$V6" --dst "127.0.0.1:$ECHO" --send v6 --expect-echo)
expect_line "$OUT" '^echo=ok$' "v2 INET6"
L=$(wait_access 'client=\[2001:db8::9\]:40003 ')
field_ok "$L" 'via=127\.0\.0\.1:[0-9]+'

# --- the header's client is the one the policy sees -------------------------
OUT=$(pprobe "$(v1 198.51.100.9 40004)" --dst "127.0.0.1:$ECHO")
expect_line "$OUT" '^rep=2 ' "a client a deny rule names"
L=$(wait_access 'client=198\.51\.100\.9:40004 ')
field_ok "$L" 'rep=2'
wait_log 5 "refused: user=- client=198\.51\.100\.9:40004 .*denied by the access rule" ||
	fail "no refusal line naming the header's client"

OUT=$(pprobe "$(v1 203.0.113.5 40005)" --dst "127.0.0.1:$ECHO" --wait-close)
expect_line "$OUT" '^closed' "a client outside 'clients'"
wait_log 5 "refused 203\.0\.113\.5:40005: not in 'clients'" ||
	fail "no 'not in clients' line for the header's client"
[ -z "$(access_line 'client=203\.0\.113\.5')" ] || fail "an access line for a refused client"

# --- LOCAL: the connection's own address ----------------------------------
LOCAL=${SIG}20000000
OUT=$(pprobe "$LOCAL" --dst "127.0.0.1:$ECHO" --send local --expect-echo)
expect_line "$OUT" '^echo=ok$' "v2 LOCAL then a request"
L=$(wait_access 'client=127\.0\.0\.1:' 'dst=127\.0\.0\.1:'"$ECHO")
printf '%s\n' "$L" | grep -q ' via=' && fail "via= after a LOCAL header: $L"

# Health checks: LOCAL then nothing; nothing at all. No line, no count.
N_ACCESS=$(grep -c ' info: access ' "$T/sockeyed.log")
N_REFUSED=$(grep -c 'refused ' "$T/sockeyed.log")
"$PYTHON" - "$PPORT" "$LOCAL" <<'EOF' || fail "health check connections"
import socket, sys, time
port, local = int(sys.argv[1]), bytes.fromhex(sys.argv[2])
for payload in (local, b""):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    if payload:
        s.sendall(payload)
    s.close()
# And one that resets instead of closing.
s = socket.create_connection(("127.0.0.1", port), timeout=5)
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
s.close()
time.sleep(0.5)
EOF
# A session that ends after them shows they were handled first.
OUT=$(pprobe "$LOCAL" --dst "127.0.0.1:$ECHO" --send after --expect-echo)
expect_line "$OUT" '^echo=ok$' "a request after the health checks"
wait_for 5 test "$(grep -c ' info: access ' "$T/sockeyed.log")" -ge $((N_ACCESS + 1)) ||
	fail "no access line for the request after the health checks"
sleep 0.3
[ "$(grep -c ' info: access ' "$T/sockeyed.log")" -eq $((N_ACCESS + 1)) ] ||
	fail "health checks wrote access lines: $(grep ' info: access ' "$T/sockeyed.log" | tail -n 4)"
[ "$(grep -c 'refused ' "$T/sockeyed.log")" -eq "$N_REFUSED" ] ||
	fail "health checks were refused: $(grep 'refused ' "$T/sockeyed.log" | tail -n 3)"

# --- no valid header: closed, no reply, counted ------------------------------
OUT=$(timeout 60 "$PYTHON" "$HELPERS/socks5probe.py" -p "$PPORT" --dst "127.0.0.1:$ECHO")
expect_line "$OUT" '^closed' "plain SOCKS on a PROXY listener"
printf '%s\n' "$OUT" | grep -q '^method=' && fail "a SOCKS answer without a PROXY header: $OUT"
OUT=$(pprobe "$(hex 'PROXY TCP4 192.0.2.7 127.0.0.1 040001 1 ')0d0a" --dst "127.0.0.1:$ECHO")
expect_line "$OUT" '^closed' "a malformed v1 header"
OUT=$(pprobe "${SIG}2111000cc0000207" --wait-close --timeout 10)
expect_line "$OUT" '^closed' "a header cut short"
wait_for 5 test "$(refused_count 'a valid PROXY header\|unfinished PROXY header\|no PROXY header')" -ge 3 ||
	fail "not 3 'refused' lines for bad headers: $(grep 'refused ' "$T/sockeyed.log" | tail -n 4)"
[ "$(statusq "$S" refused.proxy_header)" = 3 ] ||
	fail "status refused.proxy_header = $(statusq "$S" refused.proxy_header), want 3"

# --- untrusted source -------------------------------------------------------
OUT=$(pprobe "$(v1 192.0.2.7 40006)" --source 127.0.0.2 --dst "127.0.0.1:$ECHO")
expect_line "$OUT" '^closed' "a header from outside proxy_protocol.trusted"
wait_log 5 "refused 127\.0\.0\.2:[0-9]+: not in 'proxy_protocol\.trusted'" ||
	fail "no 'not in proxy_protocol.trusted' line"
[ "$(statusq "$S" refused.proxy_untrusted)" = 1 ] ||
	fail "status refused.proxy_untrusted = $(statusq "$S" refused.proxy_untrusted), want 1"
[ -z "$(access_line 'client=192\.0\.2\.7:40006')" ] || fail "a forged header was believed"

# --- the plain listener: a PROXY header is not SOCKS --------------------------
OUT=$(probe --prefix-hex "$(v1 192.0.2.7 40007)" --dst "127.0.0.1:$ECHO")
printf '%s\n' "$OUT" | grep -q '^rep=0' && fail "the plain listener took a PROXY header: $OUT"
OUT=$(probe --dst "127.0.0.1:$ECHO" --send plain --expect-echo)
expect_line "$OUT" '^echo=ok$' "the plain listener"
L=$(wait_access 'client=127\.0\.0\.1:' 'bytes_up=5 ')
printf '%s\n' "$L" | grep -q ' via=' && fail "via= on a plain listener: $L"

# --- a reload moves the plain listener's address into proxy_protocol ---------
sed -i "s/^listen = .*/listen = [ ];/; s/^proxy_protocol = { listen = \[/&\"127.0.0.1:$P1\", /" "$T/sockeye.conf"
grep -q "^proxy_protocol = { listen = \[\"127.0.0.1:$P1\", *\"127.0.0.1:$P2\"" "$T/sockeye.conf" ||
	error "config not rewritten: $(cat "$T/sockeye.conf")"
reload_sockeye
[ "$RELOAD_RESULT" = done ] || fail "reload refused: $(tail -n 5 "$T/sockeyed.log")"
OUT=$(probe --dst "127.0.0.1:$ECHO")
expect_line "$OUT" '^closed' "plain SOCKS on the moved listener"
OUT=$(probe --prefix-hex "$(v1 192.0.2.9 40008)" --dst "127.0.0.1:$ECHO" --send moved --expect-echo)
expect_line "$OUT" '^echo=ok$' "a PROXY header on the moved listener"
wait_access 'client=192\.0\.2\.9:40008 ' >/dev/null

stop_sockeye
[ "$SOCKEYED_STATUS" = 0 ] || fail "sockeyed exited with $SOCKEYED_STATUS"
echo "PASS: $TEST_NAME"
