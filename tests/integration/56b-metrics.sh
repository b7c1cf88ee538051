#!/bin/sh
# SPDX-License-Identifier: ISC
# 56b-metrics: GET /metrics on metrics_listen (port 0, learnt from the -P
# file) after sessions with known outcomes: three CONNECTs that succeed,
# one refused by the destination (REP 5), a failed login, a UDP
# association (two datagrams echoed, a fragment dropped), a client
# outside `clients`, a client that hangs up before its greeting. The
# counters are exactly those, summed over both workers, and agree with
# the access log and the status socket. Then the HTTP side: the content
# type, HEAD, 404, 405 with Allow, 400, promtool's check (skipped with a
# note when promtool is missing), a silent connection closed within the
# 5 s deadline while other scrapes are answered at once, a crowd of
# silent connections that does not keep a scrape out; and a reload that
# keeps the address and the counts.
. "${srcdir:-.}/tests/integration/lib.sh"
. "${srcdir:-.}/tests/integration/lib-auth.sh"
. "${srcdir:-.}/tests/integration/lib-ops.sh"

require_python
command -v curl >/dev/null 2>&1 || skip "curl not found"

start_server echo echo
ECHO=$SERVER_PORT
_start_helper udpecho "$T/udpecho.port" "$PYTHON" "$HELPERS/udpecho.py" \
	--port-file "$T/udpecho.port" --bind 127.0.0.1
UECHO=$HELPER_PORT
PW='alice-metrics-pw'
mkuser "$T/users" alice "$PW"
S=$T/status.sock
write_conf "$T/sockeye.conf" \
	"auth = { methods = [ \"password\" ]; users_file = \"$T/users\"; };" \
	'clients = [ "127.0.0.1/32", "::1/128" ];' \
	"status_socket = \"$S\";" \
	'metrics_listen = "127.0.0.1:0";'
start_sockeye "$T/sockeye.conf"
wait_log 10 'started with 2 workers' || fail "no start line"
[ -n "$METRICS_PORT" ] || fail "no metrics line in the -P file: $(cat "$T/ports")"
expect_line "$(cat "$T/ports")" "^metrics 127\\.0\\.0\\.1:$METRICS_PORT\$" "-P file"
URL=http://127.0.0.1:$METRICS_PORT/metrics

# scrape: the text into $T/m.txt (fails the test unless 200).
scrape() {
	_code=$(curl -s --max-time 10 -o "$T/m.txt" -w '%{http_code}' "$URL") ||
		fail "curl $URL failed"
	[ "$_code" = 200 ] || fail "GET /metrics: $_code"
}
# want SERIES VALUE: the last scrape has the line "SERIES VALUE".
want() {
	grep -qxF -- "$1 $2" "$T/m.txt" ||
		fail "want '$1 $2', got: $(grep -F -- "$1 " "$T/m.txt" || echo none)"
}
# sum NAME: the sum of a family's samples in the last scrape.
sum() {
	awk -v n="$1" '$1 == n || index($1, n "{") == 1 { s += $NF }
		END { printf "%d\n", s }' "$T/m.txt"
}

scrape
want 'sockeye_build_info{version="'"$("$SOCKEYED" -V | sed 's/^sockeyed //')"'"}' 1
want sockeye_generation 1
want 'sockeye_workers{state="running"}' 2
[ "$(sum sockeye_sessions_total)" = 0 ] || fail "sessions before any"

# --- Sessions with known outcomes ----------------------------------------------
for i in 1 2 3; do
	OUT=$(authc "$PW" -m password -u alice --dst "127.0.0.1:$ECHO" --send "m$i")
	expect_line "$OUT" '^echo=ok$' "session $i"
done
DEAD=$(free_port)
OUT=$(authc "$PW" -m password -u alice --dst "127.0.0.1:$DEAD")
expect_line "$OUT" '^rep=5' "a refused CONNECT"
OUT=$(authc 'wrong' -m password -u alice --dst "127.0.0.1:$ECHO")
expect_line "$OUT" '^auth=fail' "a wrong password"
# A fragment (FRAG 1) to the echo server: dropped, counted as frag.
FRAG=000001017f000001$(printf %04x "$UECHO")66726167
OUT=$(SOCKEYE_PASSWORD=$PW timeout 60 "$PYTHON" "$HELPERS/socks5udp.py" \
	--proxy "127.0.0.1:$SOCKS_PORT" --user alice --wait 1 \
	--echo "127.0.0.1:$UECHO" --echo "127.0.0.1:$UECHO" --raw "$FRAG")
n=$(printf '%s\n' "$OUT" | grep -c '^echo .* ok$' || true)
[ "$n" = 2 ] || fail "UDP: want 2 echoes, got: $OUT"
"$PYTHON" -c '
import socket, sys
s = socket.socket()
s.bind(("127.0.0.2", 0))
s.settimeout(10)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"\x05\x01\x02")
try:
    d = s.recv(10)
except OSError:
    d = b""
sys.exit(0 if d == b"" else 1)' "$SOCKS_PORT" || fail "a client outside clients got an answer"
"$PYTHON" -c '
import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1]))).close()' "$SOCKS_PORT"
wait_for 10 _log_has ' access .*end=' 7 || fail "want 7 access lines"
wait_log 10 ' access .*end=client-eof' || fail "no client-eof line"

scrape
want 'sockeye_sessions_total{command="connect",reply="0"}' 3
want 'sockeye_sessions_total{command="connect",reply="5"}' 1
want 'sockeye_sessions_total{command="udp_associate",reply="0"}' 1
want 'sockeye_sessions_total{command="none",reply="1"}' 0
[ "$(sum sockeye_sessions_total)" = 5 ] || fail "sum of sessions_total: $(sum sockeye_sessions_total)"
want 'sockeye_connections_unanswered_total{reason="auth_failed"}' 1
want 'sockeye_connections_unanswered_total{reason="clients"}' 1
want 'sockeye_connections_unanswered_total{reason="client_closed"}' 1
want 'sockeye_connections_unanswered_total{reason="handshake_timeout"}' 0
[ "$(sum sockeye_connections_unanswered_total)" = 3 ] ||
	fail "sum of connections_unanswered_total: $(sum sockeye_connections_unanswered_total)"
want sockeye_sessions_started_total 7
want sockeye_sessions_active 0
want 'sockeye_refusals_total{reason="auth_failed"}' 1
want 'sockeye_refusals_total{reason="clients"}' 1
want 'sockeye_authentications_total{method="password",result="success"}' 5
want 'sockeye_authentications_total{method="password",result="failure"}' 1
want 'sockeye_authentications_total{method="none",result="success"}' 0
want 'sockeye_connect_successes_total{family="ipv4"}' 3
want 'sockeye_connect_successes_total{family="ipv6"}' 0
want sockeye_connect_failures_total 1
want 'sockeye_connect_duration_seconds_count{result="success"}' 3
want 'sockeye_connect_duration_seconds_count{result="failure"}' 1
want 'sockeye_connect_duration_seconds_bucket{result="success",le="+Inf"}' 3
want 'sockeye_connect_attempts_bucket{le="1"}' 4
want sockeye_connect_attempts_sum 4
want sockeye_connect_attempts_count 4
want 'sockeye_udp_datagrams_total{direction="up"}' 2
want 'sockeye_udp_datagrams_total{direction="down"}' 2
want 'sockeye_udp_datagrams_dropped_total{reason="frag"}' 1
want 'sockeye_relayed_bytes_total{direction="up"}' "$(access_sum bytes_up)"
want 'sockeye_relayed_bytes_total{direction="down"}' "$(access_sum bytes_down)"
# The status socket counts the same sessions.
want sockeye_sessions_started_total "$(statusq "$S" sessions.total)"
want 'sockeye_refusals_total{reason="auth_failed"}' "$(statusq "$S" refused.auth_failed)"

# A CONNECT to "localhost" is answered without DNS: two local lookups.
OUT=$(authc "$PW" -m password -u alice --dst "localhost:$ECHO" --send lh)
expect_line "$OUT" '^echo=ok$' "CONNECT to localhost"
wait_for 10 _log_has ' access .*end=' 8 || fail "want 8 access lines"
scrape
want 'sockeye_dns_lookups_total{source="local"}' 2
want 'sockeye_dns_lookups_total{source="server"}' 0
want 'sockeye_sessions_total{command="connect",reply="0"}' 4

# --- HTTP -------------------------------------------------------------------------
H=$(curl -s --max-time 10 -D - -o /dev/null "$URL" | tr -d '\r')
expect_line "$H" '^HTTP/1\.1 200 OK$' "status line"
expect_line "$H" '^Content-Type: text/plain; version=0\.0\.4; charset=utf-8$' "content type"
expect_line "$H" '^Connection: close$' "Connection: close"
H=$(curl -s --max-time 10 -I "$URL" | tr -d '\r')
expect_line "$H" '^HTTP/1\.1 200 OK$' "HEAD"
expect_line "$H" "^Content-Length: $(wc -c <"$T/m.txt" | tr -d ' ')\$" "HEAD's length"
c=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$METRICS_PORT/")
[ "$c" = 404 ] || fail "GET /: $c"
c=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' "$URL?x=1")
[ "$c" = 200 ] || fail "GET /metrics?x=1: $c"
H=$(curl -s --max-time 10 -D - -o /dev/null -X POST -d x "$URL" | tr -d '\r')
expect_line "$H" '^HTTP/1\.1 405 ' "POST"
expect_line "$H" '^Allow: GET, HEAD$' "405's Allow"
c=$("$PYTHON" -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"GET /metrics HTTP/1.1\r\nHost : x\r\n\r\n")
print(s.recv(64).split(b" ")[1].decode())' "$METRICS_PORT")
[ "$c" = 400 ] || fail "a malformed head: $c"

if command -v promtool >/dev/null 2>&1; then
	promtool check metrics <"$T/m.txt" >"$T/promtool.out" 2>&1 ||
		fail "promtool check metrics: $(cat "$T/promtool.out")"
	[ ! -s "$T/promtool.out" ] || fail "promtool: $(cat "$T/promtool.out")"
else
	note "promtool not found (Debian's prometheus package has it): its check skipped"
fi

# --- Silent connections ----------------------------------------------------------
# One connection that sends nothing: closed within the deadline (5 s;
# 9 s allowed), while scrapes meanwhile are answered at once. Then 30
# at once (more than the 16 served): a scrape still gets through.
bg silent "$PYTHON" -c '
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(20)
t = time.monotonic()
d = s.recv(1)
print("closed %.2f %d" % (time.monotonic() - t, len(d)))' "$METRICS_PORT"
SILENT_PID=$BG_PID
sleep 0.5
for i in 1 2 3; do
	t=$(curl -s --max-time 10 -o /dev/null -w '%{http_code} %{time_total}' "$URL")
	case $t in 200\ *) ;; *) fail "a scrape beside a silent connection: $t" ;; esac
	below "${t#* }" 1 || fail "a scrape beside a silent connection took ${t#* } s"
done
wait_for 12 grep -q '^closed' "$T/silent.out" || fail "the silent connection is still open"
s=$(sed -n 's/^closed \([0-9.]*\) 0$/\1/p' "$T/silent.out")
[ -n "$s" ] || fail "the silent connection: $(cat "$T/silent.out")"
below "$s" 9 || fail "the silent connection was closed after $s s"
below 4 "$s" || fail "the silent connection was closed after $s s, before its deadline"
note "a silent connection was closed after $s s"
wait "$SILENT_PID" 2>/dev/null || true
bg crowd "$PYTHON" -c '
import socket, sys, time
c = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for _ in range(30)]
print("open", flush=True)
time.sleep(8)' "$METRICS_PORT"
wait_for 10 grep -q '^open' "$T/crowd.out" || fail "the crowd did not connect"
t=$(curl -s --max-time 10 -o /dev/null -w '%{http_code} %{time_total}' "$URL")
case $t in 200\ *) ;; *) fail "a scrape in a crowd of silent connections: $t" ;; esac
below "${t#* }" 1 || fail "a scrape in a crowd of silent connections took ${t#* } s"

# --- Reload: the address and its socket stay, so do the counts -------------------
reload_sockeye
[ "$RELOAD_RESULT" = done ] || fail "reload failed"
expect_line "$(cat "$T/ports")" "^metrics 127\\.0\\.0\\.1:$METRICS_PORT\$" "-P file after the reload"
scrape
want sockeye_generation 2
want sockeye_reloads_total 1
want 'sockeye_sessions_total{command="connect",reply="0"}' 4
want 'sockeye_sessions_total{command="connect",reply="5"}' 1
exit 0
