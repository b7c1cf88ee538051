#!/bin/sh
# SPDX-License-Identifier: ISC
# 25-auth-pam: RFC 1929 passwords checked by a PAM service
# (auth.password_backend = "pam"), with the real daemon under Debian's
# libpam-wrapper (lib-pam.sh): pam_matrix checks a test password table,
# and a pam_exec hook before it records each call (user and PAM_RHOST)
# and hangs for one user. No root, nothing of the machine's PAM.
#
#  - no users file is needed (auth.users_file names none);
#  - the right password: CONNECT works, the access line has user=NAME,
#    the stack saw the client as PAM_RHOST;
#  - the same user and password again: answered from the cache (the
#    stack is not called again);
#  - a wrong password, an unknown user: RFC 1929 failure (status 1),
#    "auth failed ... reason=bad-password";
#  - an access rule naming PAM users: bob logs in, his CONNECT gets REP 2;
#  - a stack that hangs: the client gets its failure after
#    auth.pam_timeout_s (2 s), not the hook's 4 s, the log says "PAM did
#    not answer within 2 s" and reason=timeout; meanwhile another client
#    from another address logs in at once, through the stack; the late success is logged as ignored and not
#    cached (the next attempt calls the stack again); a client that hangs
#    up while its check hangs leaves nothing behind (the sanitizer build
#    checks for use after free and leaks when the daemon stops);
#  - a reload to a service whose account phase refuses (pam_deny): the
#    right password is refused, reason=account-refused, with the PAM
#    call and its message in the log;
#  - CHAP next to PAM: a CHAP user of the users file logs in with CHAP,
#    but not with RFC 1929 (PAM decides, the file is no fallback), and a
#    PAM user's password still works;
#  - no password in the log.
. "${srcdir:-.}/tests/integration/lib.sh"
. "${srcdir:-.}/tests/integration/lib-auth.sh"
. "${srcdir:-.}/tests/integration/lib-ops.sh"
. "${srcdir:-.}/tests/integration/lib-pam.sh"

require_python
pam_wrapper_setup

PW_ALICE='A1ice pam-pw'
PW_BOB='B0b-pam-pw'
PW_SLOW='Sl0w-pam-pw'
PW_CAROL='C4rol-pam-pw'
PW_CARL='C4rl-chap-secret'

start_server echo echo
ECHO=$SERVER_PORT

# The password table (user:password:service) and the hook.
printf '%s\n' "alice:$PW_ALICE:sockeye" "bob:$PW_BOB:sockeye" \
	"carol:$PW_CAROL:sockeye" "slowpoke:$PW_SLOW:sockeye" >"$PAMD/passdb"
chmod 644 "$PAMD/passdb"
: >"$T/calls"
chmod 666 "$T/calls"
cat >"$PAMD/hook.sh" <<EOF
#!/bin/sh
# pam_exec's environment: PAM_USER, PAM_RHOST, PAM_SERVICE, PAM_TYPE.
echo "\$PAM_SERVICE \$PAM_USER \$PAM_RHOST" >>"$T/calls"
if [ "\$PAM_USER" = slowpoke ]; then
	/bin/sleep 4
fi
exit 0
EOF
chmod 755 "$PAMD/hook.sh"
pam_file sockeye \
	"auth requisite pam_exec.so quiet $PAMD/hook.sh" \
	"auth required $PAM_MATRIX passdb=$PAMD/passdb" \
	"account required $PAM_MATRIX passdb=$PAMD/passdb"
# The account phase refuses everyone.
pam_file sockeye-deny \
	"auth required $PAM_MATRIX passdb=$PAMD/passdb" \
	"account requisite pam_deny.so"

conf() {
	write_conf "$T/sockeye.conf" \
		'workers = 1;' \
		"auth = { methods = [ \"password\" ]; password_backend = \"pam\";
		  pam_service = \"$1\"; pam_timeout_s = 2;
		  users_file = \"$T/no-such-users\"; };" \
		'access = ( { action = "allow"; users = [ "alice" ]; },
		  { action = "deny"; } );'
}
conf sockeye
pam_in_build "$T/sockeye.conf"
start_sockeye_pam "$T/sockeye.conf"

# calls USER: how many times the stack ran for USER.
calls() { grep -c " $1 " "$T/calls" || true; }

# --- the right password, then the cache ---------------------------------------
out=$(authc "$PW_ALICE" -u alice --dst "127.0.0.1:$ECHO" --send hello)
expect_line "$out" '^auth=ok$' "alice's login"
expect_line "$out" '^echo=ok$' "alice's echo"
L=$(wait_access ' user=alice ' " dst=127\.0\.0\.1:$ECHO( |\$)")
field_ok "$L" 'rep=0'
grep -qx "sockeye alice 127.0.0.1" "$T/calls" ||
	fail "the stack did not see alice from 127.0.0.1: $(cat "$T/calls")"
[ "$(calls alice)" = 1 ] || fail "the stack ran $(calls alice) times for alice"
out=$(authc "$PW_ALICE" -u alice --dst "127.0.0.1:$ECHO" --send again)
expect_line "$out" '^echo=ok$' "alice's second login"
[ "$(calls alice)" = 1 ] ||
	fail "alice's second login was not answered from the cache ($(calls alice) calls)"

# --- wrong password, unknown user ------------------------------------------------
out=$(authc 'Wr0ng-guess' -u alice)
expect_line "$out" '^auth=fail status=01$' "alice's wrong password"
wait_log 5 'auth failed: user=alice client=127\.0\.0\.1:[0-9]+ method=password reason=bad-password' ||
	fail "no failure line for alice's wrong password"
[ "$(calls alice)" = 2 ] || fail "a wrong password was answered without the stack"
out=$(authc "$PW_ALICE" -u mallory)
expect_line "$out" '^auth=fail status=01$' "an unknown user"
wait_log 5 'auth failed: user=mallory client=127\.0\.0\.1:[0-9]+ method=password reason=' ||
	fail "no failure line for mallory"

# --- an access rule names PAM users ------------------------------------------------
out=$(authc "$PW_BOB" -u bob --dst "127.0.0.1:$ECHO")
expect_line "$out" '^auth=ok$' "bob's login"
expect_line "$out" '^rep=2$' "bob's CONNECT (no rule allows bob)"
L=$(wait_access ' user=bob ')
field_ok "$L" 'rep=2'

# --- a stack that hangs -----------------------------------------------------------------
bg slowpoke authc "$PW_SLOW" -u slowpoke --timeout 15
SLOW_PID=$BG_PID
wait_for 5 grep -q ' slowpoke ' "$T/calls" || fail "slowpoke's check did not start"
# Another client, meanwhile, not in the cache: the other thread runs
# its check at once.
out=$(authc "$PW_CAROL" -u carol --source 127.0.0.2)
expect_line "$out" '^auth=ok$' "carol's login while slowpoke's check hangs"
el=$(printf '%s\n' "$out" | sed -n 's/^elapsed=//p')
awk -v e="$el" 'BEGIN { exit !(e < 1.5) }' ||
	fail "carol's login took ${el} s while slowpoke's check hung"
grep -qx "sockeye carol 127.0.0.2" "$T/calls" ||
	fail "carol's login did not go through the stack: $(cat "$T/calls")"
wait_for 10 proc_gone "$SLOW_PID" || fail "slowpoke's client still waiting after 10 s"
out=$(cat "$T/slowpoke.out")
expect_line "$out" '^auth=fail status=01$' "slowpoke, whose check hangs"
el=$(printf '%s\n' "$out" | sed -n 's/^elapsed=//p')
awk -v e="$el" 'BEGIN { exit !(e >= 1.9 && e < 3.5) }' ||
	fail "slowpoke got the answer after ${el} s, not after pam_timeout_s (2 s)"
grep -Eq 'pam: user=slowpoke client=127\.0\.0\.1:[0-9]+: PAM did not answer within 2 s' "$T/sockeyed.log" ||
	fail "no 'PAM did not answer within 2 s' line"
grep -Eq 'auth failed: user=slowpoke client=127\.0\.0\.1:[0-9]+ method=password reason=timeout' "$T/sockeyed.log" ||
	fail "no 'auth failed ... reason=timeout' line for slowpoke"
# The hook returns at 4 s with success: logged, ignored, not cached.
wait_log 5 'pam: user=slowpoke client=127\.0\.0\.1:[0-9]+: PAM answered after [0-9.]+ s, too late: ok ignored' ||
	fail "no line for slowpoke's late answer"
[ "$(calls slowpoke)" = 1 ] || fail "the stack ran $(calls slowpoke) times for slowpoke"
# Again, hanging up while it hangs: the stack runs again (nothing was
# cached), the session is gone before any answer.
out=$(authc "$PW_SLOW" -u slowpoke --source 127.0.0.3 --close-after-request 0.3)
slow_twice() { [ "$(calls slowpoke)" = 2 ]; }
wait_for 5 slow_twice || fail "slowpoke's retry did not reach the stack (cached?)"
wait_log 8 'pam: user=slowpoke client=127\.0\.0\.3:[0-9]+: PAM answered after' ||
	fail "no late line for the check of the client that hung up"
[ "$(log_count 'auth failed: user=slowpoke client=127\.0\.0\.3')" = 0 ] ||
	fail "a session that had gone got an answer"
# The worker still serves.
out=$(authc "$PW_CAROL" -u carol --source 127.0.0.2)
expect_line "$out" '^auth=ok$' "carol's login after the hang"

# --- the account phase refuses -----------------------------------------------------
conf sockeye-deny
reload_sockeye
[ "$RELOAD_RESULT" = done ] || fail "the reload to sockeye-deny failed"
out=$(authc "$PW_ALICE" -u alice --source 127.0.0.4)
expect_line "$out" '^auth=fail status=01$' "alice refused by the account phase"
wait_log 5 'auth failed: user=alice client=127\.0\.0\.4:[0-9]+ method=password reason=account-refused' ||
	fail "no 'reason=account-refused' line"
grep -Eq 'pam: user=alice client=127\.0\.0\.4:[0-9]+: pam_acct_mgmt: ' "$T/sockeyed.log" ||
	fail "no line with the account phase's result"
out=$(authc 'Wr0ng-guess' -u alice --source 127.0.0.4)
wait_log 5 'auth failed: user=alice client=127\.0\.0\.4:[0-9]+ method=password reason=bad-password' ||
	fail "a wrong password under sockeye-deny is not bad-password"

# --- CHAP next to PAM: CHAP keeps the users file ------------------------------------
mkuser "$T/users" carl "$PW_CARL" --chap
write_conf "$T/sockeye.conf" \
	'workers = 1;' \
	"auth = { methods = [ \"chap\", \"password\" ]; password_backend = \"pam\";
	  pam_service = \"sockeye\"; users_file = \"$T/users\"; };"
reload_sockeye
[ "$RELOAD_RESULT" = done ] || fail "the reload with chap and a users file failed"
out=$(authc "$PW_CARL" -m chap -u carl --source 127.0.0.5 --dst "127.0.0.1:$ECHO" --send chap)
expect_line "$out" '^echo=ok$' "carl's CHAP login (users file)"
# RFC 1929 goes to PAM, which does not know carl: the users file's
# password is not a fallback.
out=$(authc "$PW_CARL" -u carl --source 127.0.0.5)
expect_line "$out" '^auth=fail status=01$' "carl's password login (PAM, not the file)"
out=$(authc "$PW_ALICE" -u alice --source 127.0.0.5 --dst "127.0.0.1:$ECHO" --send pam)
expect_line "$out" '^echo=ok$' "alice's password login (PAM) next to CHAP"

no_secret_in_log "$PW_ALICE" "$PW_BOB" "$PW_CAROL" "$PW_SLOW" "$PW_CARL" 'Wr0ng-guess'
exit 0
