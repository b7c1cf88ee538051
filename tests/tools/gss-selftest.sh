#!/bin/sh
# SPDX-License-Identifier: ISC
# gss-selftest: the GSS-API test tools against each other, without
# sockeyed: gss_socks_client.py (and sockeye-connect -a gssapi, when this
# build's has it) through gss_mock_proxy.py, in lib-krb5.sh's throwaway
# realm. A check of the tools and of the machine's Kerberos and
# python3-gssapi, for whoever changes them or writes a client; not part
# of `make check` (27-auth-gssapi.sh is the test of the daemon).
#
#   sh tests/tools/gss-selftest.sh            (from the source tree)
#   SOCKEYE_CONNECT=./sockeye-connect sh tests/tools/gss-selftest.sh
#
# Exit 0 when every case passed, 77 when a tool is missing, 1 otherwise.
. "${srcdir:-.}/tests/integration/lib.sh"
. "${srcdir:-.}/tests/integration/lib-krb5.sh"

require_python
krb5_require
TOOLS=$srcdir/tests/tools
krb5_setup
BODY="gss-selftest page $$"
start_server web http --body "$BODY"
WEB=$SERVER_PORT
start_server echo echo
ECHO=$SERVER_PORT
_start_helper mock "$T/mock.port" "$PYTHON_GSS" "$TOOLS/gss_mock_proxy.py" \
	--keytab "$PROXY_KEYTAB" --port-file "$T/mock.port" --deny-user bob@SOCKEYE.TEST
MOCK=$HELPER_PORT

# gc NAME USER WANT-RC ARGS...: the python client as USER through the
# mock; its status must be WANT-RC.
gc() {
	_n=$1
	_u=$2
	_want=$3
	shift 3
	_rc=0
	KRB5CCNAME=$(krb5_ccache "$_u") timeout 60 "$PYTHON_GSS" \
		"$TOOLS/gss_socks_client.py" "$@" <"${GC_IN:-/dev/null}" \
		>"$T/$_n.out" 2>"$T/$_n.err" || _rc=$?
	[ "$_rc" = "$_want" ] ||
		fail "$_n: exit $_rc, want $_want: $(cat "$T/$_n.err")"
}
page() {
	[ "$(tail -n 1 "$T/$1.out")" = "$BODY" ] || fail "$1: no page"
	grep -qx "granted=$2" "$T/$1.err" || fail "$1: not granted=$2: $(cat "$T/$1.err")"
}

out=$(KRB5CCNAME=$(krb5_ccache alice) "$PYTHON_GSS" "$TOOLS/gss_socks_client.py" \
	--dry-run --proxy localhost:1) || fail "--dry-run: $out"
expect_line "$out" '^token_len=[1-9][0-9]*$' "--dry-run"

for lv in none integrity confidentiality; do
	gc "$lv" alice 0 --proxy "localhost:$MOCK" --level "$lv" --http / 127.0.0.1 "$WEB"
	page "$lv" "$lv"
	gc "nec-$lv" alice 0 --proxy "127.0.0.1:$MOCK" --nec --level "$lv" --http / 127.0.0.1 "$WEB"
	page "nec-$lv" "$lv"
done
head -c 300000 /dev/urandom >"$T/big.in"
GC_IN=$T/big.in
gc big alice 0 --proxy "localhost:$MOCK" --level confidentiality 127.0.0.1 "$ECHO"
cmp -s "$T/big.in" "$T/big.out" || fail "big: the echo differs"
GC_IN=
gc carol carol 1 --proxy "localhost:$MOCK" --http / 127.0.0.1 "$WEB"
gc http alice 3 --proxy "localhost:$MOCK" --service HTTP --http / 127.0.0.1 "$WEB"
grep -qx 'aborted by proxy' "$T/http.err" || fail "http: no abort"
gc bad alice 3 --proxy "localhost:$MOCK" --bad-token --http / 127.0.0.1 "$WEB"
gc bob bob 4 --proxy "localhost:$MOCK" --http / 127.0.0.1 "$WEB"
grep -qx 'rep=2' "$T/bob.err" || fail "bob: no rep=2"
note "gss_socks_client.py: all cases passed"

: "${SOCKEYE_CONNECT:=./sockeye-connect}"
if [ -x "$SOCKEYE_CONNECT" ] && "$SOCKEYE_CONNECT" -h 2>&1 | grep -q gssapi; then
	printf 'GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >"$T/get.in"
	for lv in none integrity confidentiality; do
		_n0=$(grep -c "auth ok: .* level=$lv nec=no" "$T/mock.log" || true)
		_rc=0
		KRB5CCNAME=$(krb5_ccache alice) timeout 60 "$SOCKEYE_CONNECT" \
			-a gssapi --gssapi-service rcmd --gssapi-protection "$lv" \
			"localhost:$MOCK" 127.0.0.1 "$WEB" <"$T/get.in" \
			>"$T/sc-$lv.out" 2>"$T/sc-$lv.err" || _rc=$?
		[ $_rc = 0 ] || fail "sockeye-connect at $lv: exit $_rc: $(cat "$T/sc-$lv.err")"
		[ "$(tail -n 1 "$T/sc-$lv.out")" = "$BODY" ] ||
			fail "sockeye-connect at $lv: no page"
		[ "$(grep -c "auth ok: .* level=$lv nec=no" "$T/mock.log")" -gt "$_n0" ] ||
			fail "sockeye-connect at $lv: the mock did not grant $lv"
	done
	note "sockeye-connect -a gssapi: all levels passed"
else
	note "sockeye-connect at $SOCKEYE_CONNECT has no -a gssapi: not tried"
fi
exit 0
