# SPDX-License-Identifier: ISC
# lib-auth.sh - sourced (after lib.sh) by the authentication tests
# tests/integration/1N-*.sh: users files made with the real sockeye-passwd,
# and the python clients that authenticate (tests/helpers/authclient.py,
# authload.py). Secrets travel in the environment, never in argv.
#
# Environment: SOCKEYE_PASSWD (default ./sockeye-passwd), exported by
# automake's AM_TESTS_ENVIRONMENT like SOCKEYED.

: "${SOCKEYE_PASSWD:=./sockeye-passwd}"

[ -x "$SOCKEYE_PASSWD" ] ||
	error "no sockeye-passwd binary at $SOCKEYE_PASSWD (set SOCKEYE_PASSWD)"

# mkuser FILE NAME SECRET [OPTION...]: sockeye-passwd [OPTIONS] add NAME,
# the secret as one line on stdin. Options before "add" (-c COST) and
# after it (--chap) are told apart by their spelling.
mkuser() {
	_mu_file=$1
	_mu_name=$2
	_mu_secret=$3
	shift 3
	_mu_pre=
	_mu_post=
	for _mu_o in "$@"; do
		case $_mu_o in
		--chap) _mu_post="$_mu_post $_mu_o" ;;
		*) _mu_pre="$_mu_pre $_mu_o" ;;
		esac
	done
	# shellcheck disable=SC2086
	printf '%s\n' "$_mu_secret" | timeout 60 "$SOCKEYE_PASSWD" \
		-f "$_mu_file" $_mu_pre add $_mu_post "$_mu_name" \
		>"$T/passwd.out" 2>"$T/passwd.log" ||
		error "sockeye-passwd add $_mu_name failed: $(cat "$T/passwd.log")"
}

# authc SECRET ARGS...: authclient.py against the first listener with
# SOCKEYE_PASSWORD=SECRET; its output on stdout.
authc() {
	_ac_secret=$1
	shift
	SOCKEYE_PASSWORD=$_ac_secret timeout 60 "$PYTHON" \
		"$HELPERS/authclient.py" -p "$SOCKS_PORT" "$@"
}

# authload SECRET ARGS...: authload.py against the first listener.
authload() {
	_al_secret=$1
	shift
	SOCKEYE_PASSWORD=$_al_secret timeout 300 "$PYTHON" \
		"$HELPERS/authload.py" -p "$SOCKS_PORT" "$@"
}

# field VALUE-LINE KEY: the value of KEY=VALUE in an authload line.
field() {
	printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# no_secret_in_log SECRET...: none of them appears in the daemon's log.
no_secret_in_log() {
	for _ns in "$@"; do
		if grep -qF -- "$_ns" "$T/sockeyed.log"; then
			fail "a secret appears in the daemon's log: $(grep -nF -- "$_ns" "$T/sockeyed.log" | head -n 3)"
		fi
	done
}
