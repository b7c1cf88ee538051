#!/bin/sh
# SPDX-License-Identifier: ISC
# 15-auth-chap: the daemon's CHAP, driven by sockeye's own python client
# (tests/helpers/authclient.py): one-way, the PuTTY message order, mutual
# with the user's secret and with auth.chap_server_secret, chap_mutual
# allow / require / deny, and every refusal (wrong secret, unknown user, a
# user without a CHAP secret, a reflected challenge, a client that finds
# the server's proof wrong). sockeye-connect and plink interop are tests
# 3N; this one pins the server's behaviour.
. "${srcdir:-.}/tests/integration/lib.sh"
. "${srcdir:-.}/tests/integration/lib-auth.sh"
require_python

start_server echo echo
ECHO=$SERVER_PORT
mkuser "$T/users" alice 'alice-chap' --chap
mkuser "$T/users" bob 'bob-pw'			# no CHAP secret

# conf MUTUAL [SERVER-SECRET]
conf() {
	_ss=
	[ -z "${2:-}" ] || _ss="chap_server_secret = \"$2\";"
	write_conf "$T/sockeye.conf" \
		"auth = { methods = [ \"chap\" ]; users_file = \"$T/users\"; chap_mutual = \"$1\"; $_ss };"
	chmod 600 "$T/sockeye.conf"
}

# 1. allow (the default)
conf allow
start_sockeye "$T/sockeye.conf"
out=$(authc alice-chap -m chap -u alice --dst "127.0.0.1:$ECHO" --send one-way)
expect_line "$out" '^method=03$' "one-way: method"
expect_line "$out" '^auth=ok$' "one-way: auth"
expect_line "$out" '^echo=ok$' "one-way: echo"
out=$(authc alice-chap -m chap -u alice --user-first --dst "127.0.0.1:$ECHO" --send putty)
expect_line "$out" '^echo=ok$' "PuTTY order"
out=$(authc alice-chap -m chap -u alice --mutual --dst "127.0.0.1:$ECHO" --send mutual)
expect_line "$out" '^mutual=ok$' "mutual: the server's proof"
expect_line "$out" '^echo=ok$' "mutual: echo"
L=$(wait_access ' user=alice ' ' rep=0')
field_ok "$L" 'user=alice'

out=$(authc wrong-secret -m chap -u alice --dst "127.0.0.1:$ECHO")
expect_line "$out" '^auth=fail status=ff$' "wrong secret"
expect_line "$out" '^closed$' "wrong secret: closed"
out=$(authc whatever -m chap -u mallory --dst "127.0.0.1:$ECHO")
expect_line "$out" '^auth=fail status=ff$' "unknown user"
out=$(authc bob-pw -m chap -u bob --dst "127.0.0.1:$ECHO")
expect_line "$out" '^auth=fail status=ff$' "user without a CHAP secret"
out=$(authc alice-chap -m chap -u alice --mutual --reflect --dst "127.0.0.1:$ECHO")
expect_line "$out" '^auth=fail' "reflected challenge"
wait_for 5 grep -q 'auth failed: user=alice client=127\.0\.0\.1:[0-9]* method=chap reason=bad-response' "$T/sockeyed.log" ||
	fail "no failure line for the wrong secret"
grep -q 'auth failed: user=mallory client=127\.0\.0\.1:[0-9]* method=chap reason=unknown-user' "$T/sockeyed.log" ||
	fail "no failure line for the unknown user"
grep -q 'reason=reflected-challenge' "$T/sockeyed.log" ||
	fail "no failure line for the reflection"
stop_sockeye

# 2. a server-wide secret answers the client's challenge.
conf allow 'the-server-secret'
start_sockeye "$T/sockeye.conf"
out=$(SOCKEYE_SERVER_SECRET=the-server-secret authc alice-chap -m chap -u alice --mutual --dst "127.0.0.1:$ECHO" --send x)
expect_line "$out" '^mutual=ok$' "server secret: proof"
expect_line "$out" '^echo=ok$' "server secret: echo"
# A client expecting the user's secret finds the proof wrong, says so,
# and the server logs it and closes.
out=$(authc alice-chap -m chap -u alice --mutual --dst "127.0.0.1:$ECHO")
expect_line "$out" '^mutual=bad$' "wrong server proof detected"
wait_for 5 grep -q 'method=chap reason=client-rejected-server' "$T/sockeyed.log" ||
	fail "no log line for the client's rejection"
stop_sockeye
# ... and -t refuses that secret in a world-readable config.
chmod 644 "$T/sockeye.conf"
rc=0
"$SOCKEYED" -t -f "$T/sockeye.conf" >"$T/t.out" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q "chap_server_secret' is set, but" "$T/t.out" ||
	fail "world-readable server secret: rc $rc: $(cat "$T/t.out")"

# 3. require: one-way is refused, mutual works.
conf require
start_sockeye "$T/sockeye.conf"
out=$(authc alice-chap -m chap -u alice --dst "127.0.0.1:$ECHO")
expect_line "$out" '^auth=fail status=ff$' "require: one-way refused"
out=$(authc alice-chap -m chap -u alice --mutual --dst "127.0.0.1:$ECHO" --send x)
expect_line "$out" '^mutual=ok$' "require: mutual"
expect_line "$out" '^echo=ok$' "require: echo"
grep -q 'reason=mutual-required' "$T/sockeyed.log" || fail "no mutual-required line"
stop_sockeye

# 4. deny: the client's challenge is not answered.
conf deny
start_sockeye "$T/sockeye.conf"
out=$(authc alice-chap -m chap -u alice --mutual --dst "127.0.0.1:$ECHO" --send x)
expect_line "$out" '^mutual=none$' "deny: no proof"
expect_line "$out" '^echo=ok$' "deny: the session goes on"
out=$(authc alice-chap -m chap -u alice --mutual --require-mutual --dst "127.0.0.1:$ECHO")
expect_line "$out" '^mutual=none$' "deny: strict client"

no_secret_in_log alice-chap the-server-secret wrong-secret bob-pw
exit 0
