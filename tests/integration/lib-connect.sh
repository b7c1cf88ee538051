# SPDX-License-Identifier: ISC
# lib-connect.sh - sourced after lib.sh by the sockeye-connect tests
# (tests/integration/3N-*.sh): run the client, make users files, start a
# daemon with authentication.
#
# Environment: SOCKEYE_CONNECT and SOCKEYE_PASSWD (the binaries, default
# ./sockeye-connect and ./sockeye-passwd), exported by automake's
# AM_TESTS_ENVIRONMENT like SOCKEYED.

: "${SOCKEYE_CONNECT:=./sockeye-connect}"
: "${SOCKEYE_PASSWD:=./sockeye-passwd}"

# Secrets come only from with_pw/with_env: never from the caller's
# environment.
unset SOCKEYE_PASSWORD SOCKEYE_SERVER_SECRET

[ -x "$SOCKEYE_CONNECT" ] ||
	error "no sockeye-connect binary at $SOCKEYE_CONNECT (set SOCKEYE_CONNECT)"

# The client asks for a password on /dev/tty when SOCKEYE_PASSWORD is not
# set. A test must never stop at such a prompt on a developer's terminal:
# run the client in a new session, without a controlling terminal.
if command -v setsid >/dev/null 2>&1; then
	NOTTY="setsid -w"
else
	NOTTY=
fi

# with_pw PW CMD [ARGS...]: run the shell function or command CMD with
# SOCKEYE_PASSWORD=PW exported, then unset it again. with_srv SECRET
# CMD...: the same for SOCKEYE_SERVER_SECRET. They nest.
with_pw() {
	SOCKEYE_PASSWORD=$1
	export SOCKEYE_PASSWORD
	shift
	"$@"
	unset SOCKEYE_PASSWORD
}
with_srv() {
	SOCKEYE_SERVER_SECRET=$1
	export SOCKEYE_SERVER_SECRET
	shift
	"$@"
	unset SOCKEYE_SERVER_SECRET
}

# sc NAME [ARGS...]: run sockeye-connect ARGS (bounded by `timeout`, no
# terminal) with stdin from $SC_IN (default /dev/null); stdout in
# $T/NAME.out, stderr in $T/NAME.err (and in SC_ERR). Sets SC_RC; never
# fails by itself.
sc() {
	_sc_name=$1
	shift
	SC_RC=0
	$NOTTY timeout "${SC_TIMEOUT:-30}" "$SOCKEYE_CONNECT" "$@" \
		<"${SC_IN:-/dev/null}" >"$T/$_sc_name.out" 2>"$T/$_sc_name.err" ||
		SC_RC=$?
	SC_ERR=$(cat "$T/$_sc_name.err")
}

# sc_expect NAME RC [FIXED-STRING...]: run `sc NAME` first; its status is
# RC and its stderr contains each FIXED-STRING.
sc_expect() {
	_se_name=$1
	_se_rc=$2
	shift 2
	[ "$SC_RC" -eq "$_se_rc" ] ||
		fail "$_se_name: sockeye-connect exited $SC_RC, want $_se_rc; stderr: $SC_ERR"
	for _se_s in "$@"; do
		printf '%s\n' "$SC_ERR" | grep -Fq -- "$_se_s" ||
			fail "$_se_name: stderr lacks '$_se_s': $SC_ERR"
	done
}

# sc_ok NAME: `sc NAME` exited 0 with nothing on stderr.
sc_ok() {
	[ "$SC_RC" -eq 0 ] ||
		fail "$1: sockeye-connect exited $SC_RC; stderr: $SC_ERR"
	[ -z "$SC_ERR" ] || fail "$1: unexpected stderr: $SC_ERR"
}

# echo_roundtrip NAME ARGS...: send a line through sockeye-connect ARGS
# (which must end in the echo server) and expect it back, exit 0.
echo_roundtrip() {
	_er_name=$1
	shift
	printf 'hello through %s\n' "$_er_name" >"$T/$_er_name.in"
	SC_IN=$T/$_er_name.in sc "$_er_name" "$@"
	sc_ok "$_er_name"
	cmp -s "$T/$_er_name.in" "$T/$_er_name.out" ||
		fail "$_er_name: echo came back as '$(cat "$T/$_er_name.out")'"
}

# require_passwd: the users file tool is built.
require_passwd() {
	[ -x "$SOCKEYE_PASSWD" ] ||
		error "no sockeye-passwd binary at $SOCKEYE_PASSWD (set SOCKEYE_PASSWD)"
}

# add_user FILE NAME SECRET [--chap]: add NAME to the users file FILE
# (created 0600 when missing) with password SECRET, one line on stdin.
add_user() {
	require_passwd
	_au_file=$1
	_au_name=$2
	_au_secret=$3
	shift 3
	printf '%s\n' "$_au_secret" |
		$NOTTY timeout 30 "$SOCKEYE_PASSWD" -f "$_au_file" add "$@" "$_au_name" \
		>"$T/passwd.out" 2>"$T/passwd.log" ||
		error "sockeye-passwd add $* $_au_name failed: $(cat "$T/passwd.log")"
}

# auth_conf FILE AUTH-SETTINGS [LINE...]: write_conf with
# `auth = { AUTH-SETTINGS users_file = "$T/users"; };`. The handshake
# timeout is the default 15 s, not lib.sh's 2 s: after a few failed logins
# from one address the daemon holds its answers for up to 8 s, and a test
# that checks failures must get the answer, not a timeout.
auth_conf() {
	_ac_file=$1
	_ac_auth=$2
	shift 2
	write_conf "$_ac_file" "auth = { $_ac_auth users_file = \"$T/users\"; };" \
		'limits = { handshake_timeout_s = 15; };' "$@"
}
