#!/bin/sh
# SPDX-License-Identifier: ISC
# 46-udp-pysocks: interop with a real client library's UDP support:
# python3-socks (PySocks), whose UDP socket sends its UDP ASSOCIATE with
# DST.ADDR the name "0" and its own port, ignores BND.ADDR (it uses the
# proxy's address with BND.PORT), and checks the header of each answer.
# An IPv4 destination and a name resolved by the daemon (rdns) echo back;
# with a password, too. Skipped when no python has the socks module.
. "${srcdir:-.}/tests/integration/lib.sh"
. "$srcdir/tests/integration/lib-auth.sh"
require_python

PYS=
for _py in "$PYTHON" python3 /usr/bin/python3; do
	if command -v "$_py" >/dev/null 2>&1 && "$_py" -c 'import socks' 2>/dev/null; then
		PYS=$_py
		break
	fi
done
[ -n "$PYS" ] || skip "python3-socks (PySocks) not installed for any python3"
note "PySocks $("$PYS" -c 'import socks; print(socks.__version__)') with $PYS"

_start_helper echo "$T/echo.port" "$PYTHON" "$HELPERS/udpecho.py" \
	--port-file "$T/echo.port" --bind 127.0.0.1
E=$HELPER_PORT
start_dnsstub pysocks.test=127.0.0.1
mkuser "$T/users" carol carol-pw
write_conf "$T/sockeye.conf" 'workers = 1;' \
	"resolver = { servers = [ \"127.0.0.1:$DNS_PORT\" ]; timeout_ms = 1000; tries = 2; };" \
	"auth = { methods = [ \"password\", \"none\" ]; users_file = \"$T/users\"; };"
start_sockeye "$T/sockeye.conf"

# pysocks [USER PASSWORD]: two round trips; prints one line per answer.
pysocks() {
	timeout 60 "$PYS" - "$SOCKS_PORT" "$E" "$@" <<'EOF'
import socket, sys
import socks
port, echo = int(sys.argv[1]), int(sys.argv[2])
user = sys.argv[3] if len(sys.argv) > 3 else None
pw = sys.argv[4] if len(sys.argv) > 4 else None
s = socks.socksocket(socket.AF_INET, socket.SOCK_DGRAM)
s.set_proxy(socks.SOCKS5, "127.0.0.1", port, rdns=True, username=user, password=pw)
s.settimeout(5)
for dst in (("127.0.0.1", echo), ("pysocks.test", echo)):
    s.sendto(b"pysocks to %s" % dst[0].encode(), dst)
    data, src = s.recvfrom(1024)
    print("dst=%s from=%s:%d data=%s" % (dst[0], src[0], src[1], data.decode()))
s.close()
EOF
}

out=$(pysocks) || fail "PySocks, no auth: $out"
note "$out"
expect_line "$out" "^dst=127\\.0\\.0\\.1 from=127\\.0\\.0\\.1:$E data=pysocks to 127\\.0\\.0\\.1\$" "PySocks: IPv4"
expect_line "$out" "^dst=pysocks\\.test from=127\\.0\\.0\\.1:$E data=pysocks to pysocks\\.test\$" "PySocks: a name"
line=$(wait_access 'cmd=udp_associate' 'user=-')
field_ok "$line" 'dgrams_up=2'
field_ok "$line" 'dgrams_down=2'

out=$(pysocks carol carol-pw) || fail "PySocks, password: $out"
note "$out"
expect_line "$out" "^dst=pysocks\\.test from=127\\.0\\.0\\.1:$E " "PySocks with a password"
wait_access 'cmd=udp_associate' 'user=carol' >/dev/null
exit 0
