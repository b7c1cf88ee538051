#!/bin/sh
# SPDX-License-Identifier: ISC
# 30-connect-none: sockeye-connect without authentication against the
# daemon: the relay (echo, large transfer both ways at once, data the
# destination sends first), the half-close, proxy addresses (IPv4, [IPv6],
# a name), destination forms, the exit statuses and the messages that name
# the SOCKS reply or the failed step, and the command line.
. "${srcdir:-.}/tests/integration/lib.sh"
. "$srcdir/tests/integration/lib-connect.sh"

# --- the command line, no daemon needed ---------------------------------

sc help -h
sc_ok "-h"
grep -q '^usage: sockeye-connect' "$T/help.out" || fail "-h: no usage line on stdout"
sc version -V
sc_ok "-V"
grep -Eq '^sockeye-connect [0-9]' "$T/version.out" || fail "-V: got '$(cat "$T/version.out")'"

sc u1 127.0.0.1:1080 host
sc_expect "two arguments" 2 "want 3 arguments"
sc u2 -a kerberos 127.0.0.1:1080 host 22
sc_expect "unknown method" 2 "unknown method 'kerberos'"
sc u3 --mutual 127.0.0.1:1080 host 22
sc_expect "--mutual without chap" 2 "--mutual needs -a chap"
sc u4 -a password --mutual -u alice 127.0.0.1:1080 host 22
sc_expect "--mutual with password" 2 "--mutual needs -a chap"
sc u5 127.0.0.1:1080 host 0
sc_expect "port 0" 2 "bad port '0'"
sc u6 127.0.0.1:1080 host 65536
sc_expect "port 65536" 2 "bad port '65536'"
sc u7 ::1:1080 host 22
sc_expect "bare IPv6 proxy" 2 "in brackets"
sc u8 127.0.0.1 host 22
sc_expect "proxy without port" 2 "want HOST:PORT"
sc u9 --bogus 127.0.0.1:1080 host 22
[ "$SC_RC" -eq 2 ] || fail "unknown option: exit $SC_RC, want 2"
LONG=$(printf '%0256d' 0)
sc u10 127.0.0.1:1080 "$LONG" 22
sc_expect "256-byte host name" 2 "a name is 1 to 255 bytes"

# The man page documents every option letter and lints clean.
PAGE=$srcdir/man/sockeye-connect.1
[ -r "$PAGE" ] || fail "cannot read $PAGE"
for l in a h m u V; do
	grep -Eq "^\.It Fl $l( |\$)" "$PAGE" ||
		fail "option -$l is not documented in man/sockeye-connect.1 (want '.It Fl $l')"
	grep -Eq -- "^  -$l[ ,]" "$T/help.out" || fail "option -$l is missing from -h"
done
grep -Fq "ProxyCommand='sockeye-connect -a chap --mutual -u alice proxy:1080 %h %p'" "$PAGE" ||
	fail "man/sockeye-connect.1 lacks the ssh ProxyCommand example"
if command -v mandoc >/dev/null 2>&1; then
	LINT=$(mandoc -Tlint -W warning "$PAGE" 2>&1) ||
		fail "mandoc -Tlint -W warning man/sockeye-connect.1: $LINT"
	[ -z "$LINT" ] || fail "mandoc -Tlint -W warning man/sockeye-connect.1: $LINT"
else
	note "mandoc not installed: lint of man/sockeye-connect.1 not run"
fi

# A password is needed but neither the environment nor a terminal has one:
# a clear message, no hang (sc runs without a controlling terminal).
if [ -n "$NOTTY" ]; then
	sc nopw -a password -u alice 127.0.0.1:1 127.0.0.1 22
	sc_expect "no password" 3 "SOCKEYE_PASSWORD is not set"
fi
with_pw '' sc emptypw -a chap -u alice 127.0.0.1:1 127.0.0.1 22
sc_expect "empty secret" 2 "the CHAP secret is empty"

# No proxy listening: exit 1 and the proxy named.
DEAD=$(free_port)
sc noproxy "127.0.0.1:$DEAD" 127.0.0.1 22
sc_expect "no proxy" 1 "cannot connect to proxy 127.0.0.1:$DEAD" "refused"

# --- against the daemon -------------------------------------------------

start_server echo echo
ECHO=$SERVER_PORT
start_server half halfclose
HALF=$SERVER_PORT
start_server sinksrc sink-source --bytes 4194304 --seed 30 --result "$T/sinksrc.result"
SINKSRC=$SERVER_PORT
ECHO6=
if have_ipv6; then
	start_server echo6 echo --v6
	ECHO6=$SERVER_PORT
fi
write_conf "$T/sockeye.conf"
start_sockeye "$T/sockeye.conf"
P=127.0.0.1:$SOCKS_PORT

# A line there and back, with -a none given and by default.
echo_roundtrip "echo" "$P" 127.0.0.1 "$ECHO"
echo_roundtrip "echo -a none" -a none "$P" 127.0.0.1 "$ECHO"
L=$(wait_access " dst=127\.0\.0\.1:$ECHO( |\$)")
field_ok "$L" 'user=-'
field_ok "$L" 'rep=0'

# The proxy by name and the destination by name (resolved by the proxy).
echo_roundtrip "names" "localhost:$SOCKS_PORT" localhost "$ECHO"
wait_access " dst=localhost:$ECHO( |\$)" >/dev/null

# IPv6: the proxy as [::1]:PORT, destinations [::1] and ::1.
if [ -n "$SOCKS_PORT6" ] && [ -n "$ECHO6" ]; then
	echo_roundtrip "ipv6 proxy" "[::1]:$SOCKS_PORT6" 127.0.0.1 "$ECHO"
	echo_roundtrip "ipv6 dst bracketed" "$P" "[::1]" "$ECHO6"
	echo_roundtrip "ipv6 dst" "$P" ::1 "$ECHO6"
	L=$(wait_access " dst=\[::1\]:$ECHO6( |\$)")
	field_ok "$L" 'rep=0'
else
	note "no IPv6 here: IPv6 cases not run"
fi

# 8 MiB through the echo server: every byte back, in order.
head -c 8388608 /dev/urandom >"$T/big.in"
SC_IN=$T/big.in sc big "$P" 127.0.0.1 "$ECHO"
sc_ok "8 MiB echo"
cmp -s "$T/big.in" "$T/big.out" ||
	fail "8 MiB echo: $(wc -c <"$T/big.out") bytes came back, or different ones"

# Half-close: stdin EOF arrives as a FIN after all the data, and the
# answer the server sends only after that EOF still comes back.
printf 'half-closed hello' >"$T/half.in"
SC_IN=$T/half.in sc half "$P" 127.0.0.1 "$HALF"
sc_ok "half-close"
[ "$(cat "$T/half.out")" = "got 17 bytes" ] ||
	fail "half-close: the server answered '$(cat "$T/half.out")', want 'got 17 bytes'"
SC_IN=$T/big.in sc halfbig "$P" 127.0.0.1 "$HALF"
sc_ok "half-close after 8 MiB"
[ "$(cat "$T/halfbig.out")" = "got 8388608 bytes" ] ||
	fail "half-close after 8 MiB: got '$(cat "$T/halfbig.out")'"
L=$(wait_access " dst=127\.0\.0\.1:$HALF( |\$)" " bytes_up=8388608( |\$)")
field_ok "$L" 'end=closed'

# Both directions at once, and the destination talking first: the
# sink-source server sends 4 MiB while it reads 4 MiB. A client that
# wrote all of stdin before reading would deadlock here.
"$PYTHON" -c 'import random, sys; sys.stdout.buffer.write(random.Random(31).randbytes(4194304))' >"$T/sinksrc.in"
SC_IN=$T/sinksrc.in sc sinksrc "$P" 127.0.0.1 "$SINKSRC"
sc_ok "4 MiB both ways"
wait_for 10 test -s "$T/sinksrc.result" || fail "4 MiB both ways: the server wrote no result"
RES=$(cat "$T/sinksrc.result")
IN_SHA=$(sha256sum <"$T/sinksrc.in" | cut -d' ' -f1)
OUT_SHA=$(sha256sum <"$T/sinksrc.out" | cut -d' ' -f1)
expect_line "$RES" "^recv_bytes=4194304 recv_sha256=$IN_SHA " "the server got our 4 MiB"
expect_line "$RES" " sent_sha256=$OUT_SHA\$" "we got the server's 4 MiB"

# Refused destination: exit 4, the reply named with its code.
DEAD=$(free_port)
sc refused "$P" 127.0.0.1 "$DEAD"
sc_expect "refused destination" 4 "connection refused (REP 5)" "127.0.0.1 port $DEAD"
[ ! -s "$T/refused.out" ] || fail "refused destination: wrote to stdout"
L=$(wait_access " dst=127\.0\.0\.1:$DEAD( |\$)")
field_ok "$L" 'rep=5'

# A method the proxy does not accept (it runs with "none" only): refused
# at the method selection, exit 3, and the message says which.
with_pw secret sc nomethod -a password -u alice "$P" 127.0.0.1 "$ECHO"
sc_expect "password offered to a none-only proxy" 3 \
	"accepts none of the offered authentication methods (offered: password)"
with_pw secret sc nomethod2 -a chap -u alice "$P" 127.0.0.1 "$ECHO"
sc_expect "chap offered to a none-only proxy" 3 "(offered: chap)"

exit 0
