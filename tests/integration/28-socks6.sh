#!/bin/sh
# SPDX-License-Identifier: ISC
# 28-socks6: SOCKS 6 (draft-olteanu-intarea-socks-6-12) on the SOCKS 5
# listener, checked byte for byte by tests/tools/socks6_replay.py, whose
# requests and expected replies are written by hand from the draft (not
# by sockeye's codec). Three daemons in turn, each on 127.0.0.1 (and ::1)
# port 0, with an echo server on 127.0.0.1 as the destination:
#
#  A. methods [ "password" ], socks6 = { enable = true;
#     legacy_version = false; }:
#   - every option kind in one CONNECT (all Stack options on valid legs,
#     Method Advertisement, Authentication Data, Session Request,
#     Idempotence Request, Session Teardown, kinds 0x1234 and 64512):
#     success; only Happy Eyeballs is echoed, and only for a name;
#   - password + 1 KiB of initial data in one write, in four writes, and
#     with the request cut inside option headers (and byte by byte over
#     its first 12 octets): auth reply 06 00 00 08 00 04 00 08 02 01 00 00,
#     an Operation Reply with REP 0 bound to 127.0.0.1:PORT, the 1 KiB
#     echoed; the access line proto=socks6 cmd=connect rep=0
#     bytes_up=1024;
#   - refusals, each then EOF: a wrong password (02 01 01 00; the access
#     line end=auth-failed), method 2 without its data (selection 2), no
#     method (selection ff); a Session ID and an Idempotence Expenditure,
#     ignored as the draft has unsupported options ignored (NOOPs
#     answered as any); NOOP (cmd=noop),
#     BIND and UDP ASSOCIATE (REP 7), a closed port (REP 5);
#   - version 0xD4: the Version Mismatch Reply 06; malformed requests,
#     Options Length over 20 KB and Initial Data Length over 2^14: EOF
#     without a byte; exactly 20480 octets of options, and 16 KiB of
#     initial data in one write (bytes_up=16384): accepted;
#   - SOCKS 5 with RFC 1929 still works on the same port; no password in
#     the log.
#  B. methods [ "none" ], legacy_version = true: 0xD4 is answered with
#     0xD4; NOOP, a false start (data right behind the request) and every
#     option kind without authentication.
#  C. socks6.enable = false: a SOCKS 6 request gets EOF and no byte;
#     SOCKS 5 works.
. "${srcdir:-.}/tests/integration/lib.sh"
. "$srcdir/tests/integration/lib-auth.sh"

require_python
REPLAY=$srcdir/tests/tools/socks6_replay.py
[ -r "$REPLAY" ] || error "no $REPLAY"

PW='correct horse s6'
printf '%s\n' "$PW" >"$T/pw"
mkuser "$T/users" alice "$PW"

start_server echo echo
ECHO=$SERVER_PORT
CLOSED=$(free_port)

# replay [ARGS...] CASE...: run the cases in turn (one python start for
# them all: this machine may be loaded) against the current daemon; fail
# with the tool's own account of the first differing byte. ARGS (up to
# the first word without a leading "--") go to every case. OUT is the
# tool's stdout, a line per case.
replay() {
	_rp_args=
	while [ $# -gt 0 ]; do
		case $1 in
		--*) _rp_args="$_rp_args $1 $2"; shift 2 ;;
		*) break ;;
		esac
	done
	_rp_cases=
	for _rp_c in "$@"; do
		_rp_cases="$_rp_cases --case $_rp_c"
	done
	_rp_rc=0
	# shellcheck disable=SC2086
	timeout 120 "$PYTHON" "$REPLAY" --proxy "127.0.0.1:$SOCKS_PORT" \
		--dest "127.0.0.1:$ECHO" --user alice --password-file "$T/pw" \
		$_rp_args $_rp_cases >"$T/replay.out" 2>"$T/replay.err" ||
		_rp_rc=$?
	OUT=$(cat "$T/replay.out")
	printf '%s\n' "$OUT" | sed 's/^/# /' >&2
	[ "$_rp_rc" -eq 0 ] ||
		fail "socks6_replay$_rp_args$_rp_cases: exit $_rp_rc: $(cat "$T/replay.err")"
	for _rp_c in "$@"; do
		expect_line "$OUT" "^case=$_rp_c .* match\$" "case $_rp_c"
	done
}

# access_count REGEX...: how many access lines match every REGEX.
access_count() {
	grep -E ' info: access ' "$T/sockeyed.log" >"$T/ac.tmp" || true
	for _acr in "$@"; do
		grep -E -- "$_acr" "$T/ac.tmp" >"$T/ac.tmp2" || true
		mv "$T/ac.tmp2" "$T/ac.tmp"
	done
	wc -l <"$T/ac.tmp" | tr -d ' '
}

# finish NAME: stop the daemon (it must exit 0), keep its log as
# $T/sockeyed-NAME.log, look for a sanitizer report in it.
finish() {
	stop_sockeye
	[ "$SOCKEYED_STATUS" -eq 0 ] || fail "daemon $1 exited $SOCKEYED_STATUS"
	if grep -Eq 'ERROR: [A-Za-z]+Sanitizer|runtime error: |Sanitizer has encountered' "$T/sockeyed.log"; then
		fail "daemon $1: sanitizer report: $(grep -E 'Sanitizer|runtime error' "$T/sockeyed.log" | head -n 5)"
	fi
	mv "$T/sockeyed.log" "$T/sockeyed-$1.log"
}

# --- A: password, SOCKS 6 on, legacy off -----------------------------------
write_conf "$T/a.conf" \
	"auth = { methods = [ \"password\" ]; users_file = \"$T/users\"; };" \
	'socks6 = { enable = true; legacy_version = false; };' 'workers = 1;'
start_sockeye "$T/a.conf"

replay all-options-domain all-options-ipv4 \
	connect-data-1write connect-data-3seg connect-split-option \
	wrong-password password-no-data no-acceptable-method session-id \
	idempotence-spend noop bind udp-associate legacy-mismatch \
	bad-optlen bad-option-length dup-auth-method bad-domain-padding \
	optlen-over optlen-20481 optlen-max initial-data-16k \
	initial-data-over socks5-password
expect_line "$OUT" '^case=connect-data-1write segments=1 writes_before_first_reply_byte=1 ' \
	"one write before the first answer byte"
expect_line "$OUT" '^case=connect-data-3seg segments=4 ' "request + 3 data writes"
expect_line "$OUT" '^case=connect-split-option segments=4 writes_before_first_reply_byte=4 ' \
	"request cut in 3 places, no answer before its last piece"
for c in wrong-password password-no-data no-acceptable-method session-id \
	idempotence-spend noop bind udp-associate legacy-mismatch; do
	expect_line "$OUT" "^case=$c .* end=eof " "$c: closed with a FIN"
done
for c in bad-optlen bad-option-length dup-auth-method bad-domain-padding \
	optlen-over optlen-20481 initial-data-over; do
	expect_line "$OUT" "^case=$c .* end=eof received=\(none\) match\$" "$c: closed, no byte"
done
# The request's first 12 octets one by one (VER, CMD, OPTLEN, PORT, PAD,
# ATYP, ADDR), then the rest with the data.
replay --split 1,2,3,4,5,6,7,8,9,10,11,12 --pause 10 connect-data-1write
expect_line "$OUT" ' segments=13 writes_before_first_reply_byte=13 ' "byte by byte"
replay --dest "127.0.0.1:$CLOSED" connect-refused

# The tool is not blind: the same bytes with the expectation of another
# server (0xD4 taken) are a mismatch, named at byte 0.
if timeout 60 "$PYTHON" "$REPLAY" --proxy "127.0.0.1:$SOCKS_PORT" \
	--case legacy-noop >"$T/neg.out" 2>"$T/neg.err"; then
	fail "legacy-noop matched a server without legacy_version"
fi
grep -q 'MISMATCH: first difference at byte 0 .*expected d4, got 06' "$T/neg.err" ||
	fail "mismatch report: $(cat "$T/neg.err")"

# The access log.
L=$(wait_access ' proto=socks6' ' cmd=connect ' " dst=127\.0\.0\.1:$ECHO " ' bytes_up=1024 ')
field_ok "$L" 'user=alice'
field_ok "$L" 'rep=0'
field_ok "$L" 'bytes_up=1024'
field_ok "$L" 'bytes_down=1024'
field_ok "$L" 'proto=socks6'
# Four sessions, each with 1 KiB up and down.
four_lines() {
	[ "$(access_count ' proto=socks6' ' cmd=connect ' ' rep=0 ' \
		" dst=127\.0\.0\.1:$ECHO " ' bytes_up=1024 ' ' bytes_down=1024 ')" -eq 4 ]
}
wait_for 5 four_lines ||
	fail "expected 4 access lines with bytes_up=1024 bytes_down=1024, got $(access_count ' proto=socks6' ' bytes_up=1024 ')"
L=$(wait_access ' proto=socks6' ' cmd=connect ' ' bytes_up=16384 ')
field_ok "$L" 'bytes_down=16384'
L=$(wait_access ' proto=socks6' ' end=auth-failed')
field_ok "$L" 'user=-'
L=$(wait_access ' proto=socks6' ' cmd=noop ')
field_ok "$L" 'rep=0'
L=$(wait_access ' proto=socks6' " dst=127\.0\.0\.1:$CLOSED ")
field_ok "$L" 'rep=5'
# Three sessions sent 26 bytes after the reply: the two all-options ones
# (SOCKS 6) and the SOCKS 5 one, which is not marked.
three_lines() {
	[ "$(access_count ' cmd=connect ' ' user=alice ' ' bytes_up=26 ')" -eq 3 ]
}
wait_for 5 three_lines || fail "expected 3 access lines with bytes_up=26"
[ "$(access_count ' cmd=connect ' ' user=alice ' ' bytes_up=26 ' ' proto=socks6')" -eq 2 ] ||
	fail "expected 2 of them with proto=socks6: $(grep ' bytes_up=26 ' "$T/sockeyed.log")"

no_secret_in_log "$PW" 'wrong horse'
finish A

# --- B: method none, legacy version on --------------------------------------
write_conf "$T/b.conf" \
	'auth = { methods = [ "none" ]; };' \
	'socks6 = { enable = true; legacy_version = true; };' 'workers = 1;'
start_sockeye "$T/b.conf"
replay legacy-noop none-noop none-false-start none-all-options socks5-none
L=$(wait_access ' proto=socks6' ' cmd=connect ' ' bytes_up=1024 ')
field_ok "$L" 'user=-'
no_secret_in_log "$PW"
finish B

# --- C: SOCKS 6 off ------------------------------------------------------------
write_conf "$T/c.conf" \
	'auth = { methods = [ "none" ]; };' \
	'socks6 = { enable = false; };' 'workers = 1;'
start_sockeye "$T/c.conf"
replay disabled socks5-none
expect_line "$OUT" '^case=disabled .* received=\(none\) match$' "disabled: no byte"
[ "$(access_count ' proto=socks6')" -eq 0 ] ||
	fail "proto=socks6 logged with socks6.enable = false"
finish C

exit 0
