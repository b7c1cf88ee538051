#!/bin/sh
# SPDX-License-Identifier: ISC
# 56c-prometheus: the real Prometheus server (Debian's prometheus
# package) scrapes metrics_listen every second, on loopback, with its
# storage in the test's temp dir; once it has scraped twice, its HTTP API
# is asked for sockeye_sessions_total: the sum is the number of sessions
# this test made (four CONNECTs that succeed, one refused by the
# destination, one to a command that is not served), and the series with
# their labels are as the test made them. Skipped (77) when prometheus is
# not installed.
. "${srcdir:-.}/tests/integration/lib.sh"

require_python
command -v prometheus >/dev/null 2>&1 ||
	skip "prometheus not found (Debian's prometheus package)"
command -v curl >/dev/null 2>&1 || skip "curl not found"

start_server echo echo
ECHO=$SERVER_PORT
write_conf "$T/sockeye.conf" 'metrics_listen = "127.0.0.1:0";' \
	'commands = [ "connect" ];'
start_sockeye "$T/sockeye.conf"
[ -n "$METRICS_PORT" ] || fail "no metrics line in the -P file: $(cat "$T/ports")"

# The sessions: 4 CONNECTs relayed, 1 refused (REP 5), 1 BIND (REP 7).
for i in 1 2 3 4; do
	out=$(probe --dst "127.0.0.1:$ECHO" --send "p$i" --wait-close) ||
		fail "session $i: $out"
	expect_line "$out" '^rep=0 ' "session $i"
done
DEAD=$(free_port)
out=$(probe --dst "127.0.0.1:$DEAD" --wait-close) || fail "refused: $out"
expect_line "$out" '^rep=5 ' "a refused CONNECT"
out=$(probe --cmd 2 --dst "127.0.0.1:$ECHO" --wait-close) || fail "BIND: $out"
expect_line "$out" '^rep=7 ' "a BIND, not served"
_access_count() {
	[ "$(grep -c ' info: access ' "$T/sockeyed.log" || true)" -ge "$1" ]
}
wait_for 10 _access_count 6 || fail "want 6 access lines"

# Prometheus, on a free loopback port, scraping every second.
PROM_PORT=$(free_port)
cat >"$T/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: sockeye
    static_configs:
      - targets: [ "127.0.0.1:$METRICS_PORT" ]
EOF
mkdir "$T/tsdb"
bg prometheus prometheus --config.file="$T/prometheus.yml" \
	--storage.tsdb.path="$T/tsdb" \
	--web.listen-address="127.0.0.1:$PROM_PORT"
API=http://127.0.0.1:$PROM_PORT/api/v1/query

# query PROMQL: the one value of an instant vector of one element, or
# "none" (no such series yet), or "error".
query() {
	curl -s --max-time 5 "$API" --data-urlencode "query=$1" 2>/dev/null |
		"$PYTHON" -c '
import json, sys
try:
    d = json.load(sys.stdin)
except ValueError:
    print("error")
    sys.exit(0)
r = d.get("data", {}).get("result", []) if d.get("status") == "success" else None
if r is None:
    print("error")
elif not r:
    print("none")
else:
    v = float(r[0]["value"][1])
    print(int(v) if v == int(v) else v)'
}
_ready() {
	curl -s --max-time 2 -o /dev/null "http://127.0.0.1:$PROM_PORT/-/ready"
}
wait_for 60 _ready || fail "prometheus is not ready after 60 s"
# Two scrapes at least, both up.
_scraped_twice() {
	[ "$(query 'count_over_time(up{job="sockeye"}[5m])')" -ge 2 ] 2>/dev/null &&
		[ "$(query 'min_over_time(up{job="sockeye"}[5m])')" = 1 ]
}
wait_for 60 _scraped_twice ||
	fail "prometheus did not scrape twice in 60 s (up: $(query 'up{job="sockeye"}'), targets: $(curl -s --max-time 5 "http://127.0.0.1:$PROM_PORT/api/v1/targets"))"

v=$(query 'sum(sockeye_sessions_total{job="sockeye"})')
[ "$v" = 6 ] || fail "sum(sockeye_sessions_total) is $v, want 6"
v=$(query 'sockeye_sessions_total{job="sockeye",command="connect",reply="0"}')
[ "$v" = 4 ] || fail "connect, reply 0: $v, want 4"
v=$(query 'sockeye_sessions_total{job="sockeye",command="connect",reply="5"}')
[ "$v" = 1 ] || fail "connect, reply 5: $v, want 1"
v=$(query 'sockeye_sessions_total{job="sockeye",command="bind",reply="7"}')
[ "$v" = 1 ] || fail "bind, reply 7: $v, want 1"
v=$(query 'sum(sockeye_sessions_active{job="sockeye"})')
[ "$v" = 0 ] || fail "sockeye_sessions_active is $v, want 0"
v=$(query 'count(sockeye_build_info{job="sockeye"} == 1)')
[ "$v" = 1 ] || fail "sockeye_build_info: $v"
v=$(query 'sockeye_connect_duration_seconds_count{job="sockeye",result="success"}')
[ "$v" = 4 ] || fail "connect durations (success): $v, want 4"
# No sample was dropped as malformed or out of order.
v=$(query 'scrape_samples_post_metric_relabeling{job="sockeye"} - scrape_samples_scraped{job="sockeye"}')
[ "$v" = 0 ] || fail "samples lost in the scrape: $v"
exit 0
