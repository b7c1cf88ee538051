#!/bin/sh
# SPDX-License-Identifier: ISC
# 29-connect-socks6: sockeye-connect --socks6 against the daemon with
# socks6.enable: no authentication and a password carried in the request,
# initial data sent with the request in ONE write (counted with strace on
# the socket to the proxy, before its first byte), the access line
# (proto=socks6), a wrong password (exit 3), the legacy version byte 212
# refused (exit 1, the mismatch named) and accepted when configured, a
# refused destination (exit 4), -v, 1 MiB both ways with the destination
# talking first, Happy Eyeballs asked for and not (a name of both
# families, one listening), and the command line's refusals.
# STRACE overrides the strace used (the key check skips, exit 77, with
# the reason when it is missing or ptrace is refused).
. "${srcdir:-.}/tests/integration/lib.sh"
. "$srcdir/tests/integration/lib-connect.sh"
require_python

# --- the command line, no daemon needed ---------------------------------

sc u1 --socks6 -a chap -u alice 127.0.0.1:1080 host 22
sc_expect "--socks6 with chap" 2 "--socks6 supports -a none and -a password only"
sc u2 --initial-data=10 127.0.0.1:1080 host 22
sc_expect "--initial-data without --socks6" 2 "--initial-data needs --socks6"
sc u3 --socks6 --initial-data=16385 127.0.0.1:1080 host 22
sc_expect "--initial-data too big" 2 "bad --initial-data '16385'"
sc u4 --socks6 --initial-data=0 127.0.0.1:1080 host 22
sc_expect "--initial-data=0" 2 "bad --initial-data '0'"
sc u5 --happy-eyeballs=on 127.0.0.1:1080 host 22
sc_expect "--happy-eyeballs without --socks6" 2 "--happy-eyeballs needs --socks6"
sc u6 --socks6 --happy-eyeballs=maybe 127.0.0.1:1080 host 22
sc_expect "--happy-eyeballs=maybe" 2 "want on or off"

# --- legacy_version = true, no authentication ---------------------------

start_server echo echo
ECHO=$SERVER_PORT
write_conf "$T/legacy.conf" \
	'socks6 = { enable = true; legacy_version = true; };'
start_sockeye "$T/legacy.conf"
P=127.0.0.1:$SOCKS_PORT
echo_roundtrip "s6 legacy" --socks6-legacy "$P" 127.0.0.1 "$ECHO"
echo_roundtrip "s6 none" --socks6 "$P" 127.0.0.1 "$ECHO"
L=$(wait_access ' proto=socks6( |$)' " dst=127\.0\.0\.1:$ECHO( |\$)")
field_ok "$L" 'cmd=connect'
field_ok "$L" 'rep=0'

# Both ways at once, with the destination talking first: its bytes may
# come in the same read as the Operation Reply (they must reach stdout
# first), and our first 16 KiB go as initial data, the rest through the
# relay, in order.
start_server sinksrc sink-source --bytes 1048576 --result "$T/sinksrc.result"
SINKSRC=$SERVER_PORT
"$PYTHON" -c 'import random, sys; sys.stdout.buffer.write(random.Random(29).randbytes(1048576))' >"$T/sinksrc.in"
SC_IN=$T/sinksrc.in
sc sinksrc --socks6 --initial-data=16384 "$P" 127.0.0.1 "$SINKSRC"
unset SC_IN
sc_ok "1 MiB both ways, 16 KiB of it initial data"
wait_for 10 test -s "$T/sinksrc.result" || fail "1 MiB both ways: the server wrote no result"
RES=$(cat "$T/sinksrc.result")
IN_SHA=$(sha256sum <"$T/sinksrc.in" | cut -d' ' -f1)
OUT_SHA=$(sha256sum <"$T/sinksrc.out" | cut -d' ' -f1)
expect_line "$RES" "^recv_bytes=1048576 recv_sha256=$IN_SHA " "the server got our 1 MiB"
expect_line "$RES" " sent_sha256=$OUT_SHA\$" "we got the server's 1 MiB"

stop_sockeye
[ "$SOCKEYED_STATUS" -eq 0 ] || fail "sockeyed exited $SOCKEYED_STATUS"

# --- password, legacy_version = false ----------------------------------

add_user "$T/users" alice 'correct horse'
# dual.test: ::1 and 127.0.0.1, where only 127.0.0.1 listens (the echo
# server), for Happy Eyeballs asked for and not.
_start_helper dnsstub "$T/dnsstub.port" "$PYTHON" "$HELPERS/dnsstub.py" \
	--port-file "$T/dnsstub.port" --bind 127.0.0.1 \
	dual.test=::1 dual.test=127.0.0.1
DNS_PORT=$HELPER_PORT
auth_conf "$T/sockeye.conf" 'methods = [ "password" ];' \
	'socks6 = { enable = true; legacy_version = false; };' \
	"resolver = { servers = [ \"127.0.0.1:$DNS_PORT\" ]; };"
start_sockeye "$T/sockeye.conf"
P=127.0.0.1:$SOCKS_PORT

# The right password, a line through the echo server.
with_pw 'correct horse' echo_roundtrip "s6 password" \
	--socks6 -a password -u alice "$P" 127.0.0.1 "$ECHO"
L=$(wait_access ' proto=socks6( |$)' ' user=alice( |$)' \
	" dst=127\.0\.0\.1:$ECHO( |\$)")
field_ok "$L" 'cmd=connect'
field_ok "$L" 'rep=0'

# -v: the bound address, and Happy Eyeballs (asked for, towards a name).
printf 'hello with -v\n' >"$T/v.in"
SC_IN=$T/v.in
with_pw 'correct horse' sc verbose -v --socks6 -a password \
	-u alice --happy-eyeballs=on --initial-data=5 "$P" dual.test "$ECHO"
[ "$SC_RC" -eq 0 ] || fail "-v: exit $SC_RC: $SC_ERR"
cmp -s "$T/v.in" "$T/verbose.out" || fail "-v: echo came back as '$(cat "$T/verbose.out")'"
expect_line "$SC_ERR" '^sockeye-connect: SOCKS 6: connected to dual\.test port [0-9]+, bound .+:[0-9]+$' \
	"-v: the bound address"
expect_line "$SC_ERR" '^sockeye-connect: SOCKS 6: sent 5 bytes of initial data' \
	"-v: the initial data"
expect_line "$SC_ERR" '^sockeye-connect: SOCKS 6: happy eyeballs: ' \
	"-v: the Happy Eyeballs answer"
unset SC_IN

# A wrong password: exit 3, named; nothing relayed.
printf 'must not arrive\n' >"$T/wrong.in"
SC_IN=$T/wrong.in
with_pw 'wrong horse' sc wrongpw --socks6 -a password \
	-u alice --initial-data=16 "$P" 127.0.0.1 "$ECHO"
unset SC_IN
sc_expect "s6 wrong password" 3 "password authentication failed" "user 'alice'"
[ ! -s "$T/wrongpw.out" ] || fail "a failed login relayed data"

# No method advertised to a proxy that wants a password: its Method
# Selection says "no acceptable method" (0xFF), exit 3.
sc nopw --socks6 "$P" 127.0.0.1 "$ECHO"
sc_expect "s6 none to a password proxy" 3 "no acceptable method" "(offered: none)"

# The legacy version byte, not configured: the mismatch byte, exit 1.
with_pw 'correct horse' sc legacy_off --socks6-legacy -a password -u alice \
	"$P" 127.0.0.1 "$ECHO"
sc_expect "legacy byte refused" 1 "does not speak SOCKS 6 version 212"

# A destination nobody listens on: the Operation Reply's code, exit 4.
DEAD=$(free_port)
with_pw 'correct horse' sc refused --socks6 -a password -u alice \
	"$P" 127.0.0.1 "$DEAD"
sc_expect "s6 refused" 4 "(REP 5)"

# Happy Eyeballs asked for (the -v case above) reached dual.test's
# 127.0.0.1 after its ::1 refused; not desired, one family only (IPv6,
# connect.prefer_family's default), one attempt, refused: exit 4.
L=$(wait_access ' proto=socks6( |$)' " dst=dual\.test:$ECHO( |\$)" ' rep=0( |$)')
field_ok "$L" "addr=127\.0\.0\.1:$ECHO"
field_ok "$L" 'attempts=2'
with_pw 'correct horse' sc heoff --socks6 -a password -u alice \
	--happy-eyeballs=off "$P" dual.test "$ECHO"
sc_expect "happy eyeballs off" 4 "(REP 5)"
L=$(wait_access ' proto=socks6( |$)' " dst=dual\.test:$ECHO( |\$)" ' rep=5( |$)')
field_ok "$L" 'attempts=1'
field_ok "$L" "addr=\[::1\]:$ECHO"

# The KEY CHECK, last since it may skip (all above has passed by then):
# 1 KiB of initial data goes with the request in exactly
# one write on the socket to the proxy, before the proxy's first byte,
# and comes back intact through the echo server.
"$PYTHON" -c 'import os, sys; sys.stdout.buffer.write(os.urandom(1024))' \
	>"$T/init.in"
: "${STRACE:=strace}"
if ! command -v "$STRACE" >/dev/null 2>&1; then
	skip "$STRACE not found: cannot count the client's writes before the proxy's answer"
fi
# Does ptrace work here at all (containers may forbid it)?
"$STRACE" -o /dev/null true >/dev/null 2>&1 ||
	skip "$STRACE cannot trace here (ptrace refused): cannot count writes"
# LeakSanitizer cannot run under ptrace: it would turn a clean exit into 1.
SOCKEYE_PASSWORD='correct horse' ASAN_OPTIONS="${ASAN_OPTIONS}:detect_leaks=0" \
	$NOTTY timeout 30 "$STRACE" -f -o "$T/strace.out" \
	-e trace=connect,write,sendto,sendmsg,send,recvfrom,read,recvmsg \
	"$SOCKEYE_CONNECT" --socks6 -a password -u alice --initial-data=1024 \
	"$P" 127.0.0.1 "$ECHO" <"$T/init.in" >"$T/init.out" 2>"$T/init.err" ||
	fail "strace'd client exited $?: $(cat "$T/init.err")"
unset SOCKEYE_PASSWORD
[ ! -s "$T/init.err" ] || fail "initial data: stderr: $(cat "$T/init.err")"
cmp -s "$T/init.in" "$T/init.out" ||
	fail "initial data: the 1 KiB did not come back intact ($(wc -c <"$T/init.out") bytes)"
# Find the socket connected to the proxy's port; count the writes on it
# before the first read on it that returned bytes. strace -f may split a
# call in "<unfinished ...>" and "<... resumed>" lines: join them by pid.
COUNT=$("$PYTHON" - "$T/strace.out" "$SOCKS_PORT" <<'EOF'
import re, sys
path, port = sys.argv[1], sys.argv[2]
pending = {}
lines = []
for raw in open(path, errors="replace"):
    m = re.match(r"^(\d+)\s+(.*)$", raw.rstrip("\n"))
    if not m:
        continue
    pid, rest = m.groups()
    if rest.endswith("<unfinished ...>"):
        pending[pid] = rest[: -len("<unfinished ...>")]
        continue
    r = re.match(r"^<\.\.\. \w+ resumed>(.*)$", rest)
    if r and pid in pending:
        rest = pending.pop(pid) + r.group(1)
    lines.append(rest)
fd = None
writes = 0
for l in lines:
    m = re.match(r"^connect\((\d+), .*htons\(%s\)" % port, l)
    if m and fd is None:
        fd = m.group(1)
        continue
    if fd is None:
        continue
    m = re.match(r"^(\w+)\(%s, .*\)\s+= (-?\d+)" % fd, l)
    if not m:
        continue
    call, ret = m.group(1), int(m.group(2))
    if call in ("write", "sendto", "sendmsg", "send"):
        writes += 1
    elif call in ("read", "recvfrom", "recvmsg") and ret > 0:
        print(writes)
        sys.exit(0)
print("no-read" if fd is not None else "no-connect")
EOF
) || fail "parsing the strace output failed"
case $COUNT in
1) ;;
no-connect) fail "strace: no connect() to port $SOCKS_PORT: $(head -c 2000 "$T/strace.out")" ;;
no-read) fail "strace: no read on the proxy socket returned bytes" ;;
*) fail "the client made $COUNT writes to the proxy before its first answer byte, want 1" ;;
esac
# The proxy's side of it: the session with exactly those 1024 bytes.
L=$(wait_access ' proto=socks6( |$)' ' user=alice( |$)' ' bytes_up=1024( |$)' \
	" dst=127\.0\.0\.1:$ECHO( |\$)")
field_ok "$L" 'cmd=connect'
field_ok "$L" 'rep=0'
field_ok "$L" 'bytes_down=1024'

exit 0
