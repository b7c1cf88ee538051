#!/bin/sh
# SPDX-License-Identifier: ISC
# 60-access: access rules. A deny rule refuses with REP 2 and the log
# names the rule's line; a request no rule matches is refused (REP 2,
# "no access rule matched"); a name that resolves to a denied address is
# refused although the name itself is fine; to_hosts patterns; ports;
# users (with password authentication). Commands: check_acl.
. "${srcdir:-.}/tests/integration/lib.sh"
. "${srcdir:-.}/tests/integration/lib-auth.sh"

start_dnsstub evil.test=127.0.0.3 good.test=127.0.0.1 www.ok.test=127.0.0.1 \
	other.test=127.0.0.1
start_server echo echo
ECHO=$SERVER_PORT
mkuser "$T/users" alice alice-pw
mkuser "$T/users" bob bob-pw

# Rule lines matter: the log must name them. Keep this layout.
cat >"$T/access.inc" <<EOC
access = (
  { action = "deny"; to = [ "127.0.0.3/32" ]; },
  { action = "deny"; users = [ "bob" ]; },
  { action = "allow"; to_hosts = [ "*.ok.test", "good.test" ]; ports = [ "$ECHO" ]; },
  { action = "allow"; to = [ "127.0.0.1" ]; ports = [ "1-1023", "$ECHO" ]; commands = [ "connect" ]; }
);
EOC
write_conf "$T/sockeye.conf" \
	"resolver = { servers = [ \"127.0.0.1:$DNS_PORT\" ]; timeout_ms = 500; tries = 1; };" \
	"auth = { methods = [ \"none\", \"password\" ]; users_file = \"$T/users\"; };" \
	"status_socket = \"$T/status.sock\";"
cat "$T/access.inc" >>"$T/sockeye.conf"
DENY_LINE=$(grep -n '"127.0.0.3/32"' "$T/sockeye.conf" | cut -d: -f1)
BOB_LINE=$(grep -n '"bob"' "$T/sockeye.conf" | cut -d: -f1)
start_sockeye "$T/sockeye.conf"

# allowed / denied DESC PROBE-ARGS...
allowed() {
	_d=$1; shift
	_o=$(probe "$@" --send ping --expect-echo) || fail "$_d: probe: $_o"
	expect_line "$_o" '^rep=0 ' "$_d"
	expect_line "$_o" '^echo=ok$' "$_d"
}
denied() {
	_d=$1; shift
	_o=$(probe "$@" --wait-close) || fail "$_d: probe: $_o"
	expect_line "$_o" '^rep=2 ' "$_d"
}

allowed "IPv4 in an allow rule" --dst "127.0.0.1:$ECHO"
denied "a deny rule" --dst "127.0.0.3:$ECHO"
grep -q "refused: user=- client=127\.0\.0\.1:[0-9]* cmd=connect dst=127\.0\.0\.3:$ECHO: denied by the access rule at $T/sockeye.conf:$DENY_LINE" \
	"$T/sockeyed.log" || fail "the refusal does not name the rule at line $DENY_LINE: $(grep refused "$T/sockeyed.log")"
denied "no rule matches (127.0.0.2)" --dst "127.0.0.2:$ECHO"
grep -q "refused: .*dst=127\.0\.0\.2:$ECHO: no access rule matched" "$T/sockeyed.log" ||
	fail "no 'no access rule matched' line"
# A name allowed by to_hosts, but resolving to a denied address.
denied "name resolving to a denied address" --dst "evil.test:$ECHO"
grep -q '^evil\.test A$' "$T/dns.queries" || fail "evil.test was not resolved"
grep -q "refused: .*dst=evil\.test:$ECHO: denied by the access rule at $T/sockeye.conf:$DENY_LINE" \
	"$T/sockeyed.log" || fail "evil.test refusal does not name the deny rule"
# to_hosts: matching names, case-insensitively; a name no pattern covers
# but whose address a later rule allows.
allowed "to_hosts *.ok.test" --dst "WWW.OK.test:$ECHO"
allowed "to_hosts good.test" --dst "good.test:$ECHO"
allowed "other.test -> 127.0.0.1 (address rule)" --dst "other.test:$ECHO"
# Ports: the port list of the address rule does not include 1024..ECHO-1.
OTHER=$(free_port)
denied "a port outside the rule" --dst "127.0.0.1:$OTHER"
# Users: bob is denied everything, alice follows the other rules.
out=$(authc alice-pw -u alice --dst "127.0.0.1:$ECHO" --send x) || fail "alice: $out"
expect_line "$out" '^echo=ok$' "alice"
out=$(authc bob-pw -u bob --dst "127.0.0.1:$ECHO" --send x) || true
expect_line "$out" 'rep=2' "bob"
grep -q "refused: user=bob .*denied by the access rule at $T/sockeye.conf:$BOB_LINE" \
	"$T/sockeyed.log" || fail "bob's refusal does not name the users rule"
# The status socket counts the refusals by reason.
n=$(timeout 20 "$PYTHON" "$HELPERS/statusq.py" "$T/status.sock" refused.access_rule) ||
	fail "status socket"
[ "$n" -ge 5 ] || fail "status refused.access_rule = $n, want >= 5"
# The access lines say rep=2 with end=access-denied.
[ "$(grep -c 'access .* rep=2 .*end=access-denied' "$T/sockeyed.log")" -ge 5 ] ||
	fail "too few rep=2 access lines: $(grep 'rep=2' "$T/sockeyed.log")"
exit 0
