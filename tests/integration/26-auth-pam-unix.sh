#!/bin/sh
# SPDX-License-Identifier: ISC
# 26-auth-pam-unix: the PAM backend against a real system account, with
# pam_unix, as root (exit 77 otherwise). The test creates a login user
# with a password (useradd, chpasswd) and a workers' user, and deletes
# both on the way out. The service file is pam_wrapper's (lib-pam.sh), so
# /etc/pam.d is not touched; pam_unix itself reads /etc/passwd and
# /etc/shadow as the workers' user, after the privilege drop.
#
#  - workers running as a user outside group shadow cannot read
#    /etc/shadow: the right password is refused with reason=pam-error,
#    and the log says why ("Authentication service cannot retrieve
#    authentication info"); pam_unix's helper unix_chkpwd checks only
#    the calling user's own password, and it could not gain its group
#    anyway (the workers run with no_new_privs);
#  - workers running as a user in group shadow (a supplementary group,
#    as `adduser sockeye shadow` makes it) have it after the drop, and
#    pam_unix checks the password in the worker: the right one gets
#    through (access line user=NAME), a wrong one is bad-password;
#  - the account phase: an expired account (chage -E 0) is
#    account-expired, a password that must be changed (chage -d 0) is
#    password-expired, a locked account (usermod -L) is refused as a
#    wrong password (pam_unix does not tell the two apart);
#  - a wrong password is answered at once: sockeyed takes over PAM's
#    failure delay (pam_unix's 2 s would hold a verifier thread).
. "${srcdir:-.}/tests/integration/lib.sh"
. "${srcdir:-.}/tests/integration/lib-auth.sh"
. "${srcdir:-.}/tests/integration/lib-pam.sh"

[ "$(id -u)" = 0 ] || skip "needs root: it creates and deletes system users"
for c in useradd userdel usermod chpasswd chage getent; do
	command -v "$c" >/dev/null 2>&1 || skip "$c not found"
done
getent group shadow >/dev/null || skip "no group shadow on this system"
require_python
pam_wrapper_setup

LOGIN=sktu$$
WORKER=sktw$$
PW='Unix-pam-Pw1'

del_users() {
	# The workers first: userdel refuses a user with processes.
	if [ -f "$T/pids/sockeyed" ]; then
		_du=$(cat "$T/pids/sockeyed")
		kill -TERM "$_du" 2>/dev/null
		wait_for 20 proc_gone "$_du" || true
	fi
	for _u in "$LOGIN" "$WORKER"; do
		if getent passwd "$_u" >/dev/null; then
			userdel "$_u" >/dev/null 2>&1 ||
				echo "# could not delete user $_u" >&2
		fi
	done
}
trap '_pu_rc=$?; set +e; del_users; (exit $_pu_rc); cleanup' EXIT

getent passwd "$LOGIN" >/dev/null && error "user $LOGIN exists already"
getent passwd "$WORKER" >/dev/null && error "user $WORKER exists already"
useradd -M -d /nonexistent -s /usr/sbin/nologin "$LOGIN" ||
	error "useradd $LOGIN failed"
printf '%s:%s\n' "$LOGIN" "$PW" | chpasswd || error "chpasswd failed"
useradd -r -M -d /nonexistent -s /usr/sbin/nologin -G shadow "$WORKER" ||
	error "useradd $WORKER failed"

start_server echo echo
ECHO=$SERVER_PORT
pam_file sockeye-unix \
	"auth required pam_unix.so" \
	"account required pam_unix.so"

# conf USER: the workers run as USER (group nogroup); no cache, so that
# each attempt reaches pam_unix.
conf() {
	write_conf "$T/sockeye.conf" \
		'workers = 1;' \
		"user = \"$1\";" \
		"auth = { methods = [ \"password\" ]; password_backend = \"pam\";
		  pam_service = \"sockeye-unix\"; cache_ttl_s = 0; };"
}

# try SOURCE WANT REASON WHAT: a login as LOGIN from SOURCE; WANT is
# "ok" (and a CONNECT through) or a failure with REASON in the log.
try() {
	_t_pw=${PWTRY:-$PW}
	out=$(authc "$_t_pw" -u "$LOGIN" --source "$1" --dst "127.0.0.1:$ECHO" --send hi)
	if [ "$2" = ok ]; then
		expect_line "$out" '^auth=ok$' "$4"
		expect_line "$out" '^echo=ok$' "$4"
		L=$(wait_access " user=$LOGIN " " client=$(echo "$1" | sed 's/\./\\./g'):")
		field_ok "$L" 'rep=0'
	else
		expect_line "$out" '^auth=fail status=01$' "$4"
		wait_log_re 5 "auth failed: user=$LOGIN client=$(echo "$1" | sed 's/\./\\./g'):[0-9]+ method=password reason=$3" ||
			fail "$4: no 'auth failed ... reason=$3' line"
	fi
}
wait_log_re() {
	_wl_s=$1
	_wl_re=$2
	wait_for "$_wl_s" grep -Eq -- "$_wl_re" "$T/sockeyed.log"
}

# --- workers outside group shadow --------------------------------------------------
conf nobody
pam_in_build "$T/sockeye.conf"
start_sockeye_pam "$T/sockeye.conf"
try 127.0.0.2 fail pam-error "the right password, workers outside group shadow"
grep -Eq "pam: user=$LOGIN client=127\.0\.0\.2:[0-9]+: pam_authenticate: Authentication service cannot retrieve authentication info" "$T/sockeyed.log" ||
	fail "no line saying why pam_unix failed"
stop_sockeye

# --- workers in group shadow ---------------------------------------------------------
mv "$T/sockeyed.log" "$T/sockeyed-1.log"
conf "$WORKER"
start_sockeye_pam "$T/sockeye.conf"
SHADOW_GID=$(getent group shadow | cut -d: -f3)
W=$(child_pids "$SOCKEYED_PID" | head -n 1)
[ "$(stat -c %U "/proc/$W")" = "$WORKER" ] || fail "the worker does not run as $WORKER"
grep '^Groups:' "/proc/$W/status" | tr -s ' \t' '\n' | grep -qx "$SHADOW_GID" ||
	fail "the worker lost its supplementary group shadow: $(grep '^Groups:' "/proc/$W/status")"
try 127.0.0.3 ok - "the right password"
PWTRY='Wr0ng-unix' try 127.0.0.4 fail bad-password "a wrong password"
el=$(printf '%s\n' "$out" | sed -n 's/^elapsed=//p')
awk -v e="$el" 'BEGIN { exit !(e < 1.5) }' ||
	fail "a wrong password took ${el} s: pam_unix's failure delay held the thread"
chage -E 0 "$LOGIN"
try 127.0.0.5 fail account-expired "an expired account"
chage -E -1 "$LOGIN"
chage -d 0 "$LOGIN"
try 127.0.0.6 fail password-expired "a password that must be changed"
printf '%s:%s\n' "$LOGIN" "$PW" | chpasswd || error "chpasswd failed"
try 127.0.0.7 ok - "the right password again"
usermod -L "$LOGIN"
try 127.0.0.8 fail bad-password "a locked account"
usermod -U "$LOGIN"

cat "$T/sockeyed-1.log" >>"$T/sockeyed.log"
no_secret_in_log "$PW" 'Wr0ng-unix'
exit 0
