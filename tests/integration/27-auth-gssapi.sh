#!/bin/sh
# SPDX-License-Identifier: ISC
# 27-auth-gssapi: the GSS-API method (RFC 1961) with Kerberos, against a
# throwaway MIT realm SOCKEYE.TEST whose KDC runs on 127.0.0.1 on a free
# port (lib-krb5.sh): nothing of the machine's Kerberos is read or
# changed, and root is not needed. The clients: tests/tools/
# gss_socks_client.py (python3-gssapi; PYTHON_GSS, default Debian's
# /usr/bin/python3), sockeye-connect -a gssapi, and curl --socks5-gssapi.
# The proxy's keytab holds rcmd/localhost, rcmd/127.0.0.1 and
# HTTP/localhost; sockeyed serves gssapi_service "rcmd".
#
#  - sockeyed -t: a keytab that is not there, and one with no key of the
#    service (the message lists the principals it holds), at FILE:LINE;
#  - each level asked for and granted (none, integrity, confidentiality):
#    the page comes back whole, the client sees granted=LEVEL, the log
#    says "auth ok: user=alice@SOCKEYE.TEST ... method=gssapi" and the
#    access line user=alice@SOCKEYE.TEST protection=LEVEL; at integrity and
#    confidentiality every byte after the negotiation travels in MTYP 3
#    messages (the client checks it; 300 KB both ways through an echo
#    server too);
#  - the level octet unwrapped (NEC style, curl --socks5-gssapi-nec), at
#    none and at confidentiality; the service name rcmd/127.0.0.1;
#  - a config that allows only confidentiality grants it to a client
#    that asks for none (a stronger level the client can do, rather than
#    a refusal); one that allows only none grants none to a client that
#    asks for confidentiality;
#  - a destination that resets: at integrity the client sees the reset
#    too (gsstun_reset_end), not a clean end;
#  - UDP ASSOCIATE at integrity: REP 7 (datagrams are not
#    encapsulated), end=udp-with-gssapi-protection; at none it is served;
#  - carol, who has no ticket: the client fails, the proxy logs a
#    hang-up (user=- end=client-eof);
#  - a ticket for HTTP/localhost, whose key the proxy holds: refused
#    with 01 FF ("auth failed ... method=gssapi");
#  - a first token that is no GSS-API token: 01 FF, "auth failed";
#  - access rules name principals: bob@SOCKEYE.TEST is denied (REP 2,
#    the rule's line in the log), alice allowed;
#  - gssapi_strip_realms = [ "SOCKEYE.TEST" ]: alice is "alice";
#  - sockeye-connect -a gssapi at each level (the proxy logs the level),
#    and its refusal of a weaker level than it asked for (exit 3);
#  - curl --socks5-gssapi (protection none), except curl 7.88.x, whose
#    SOCKS5 GSS-API fails before it sends a token ("SOCKS5 GSSAPI
#    per-message authentication is not supported"): that one case is
#    skipped, the test goes on.
#
# Skips (77) without the MIT KDC tools, without python3-gssapi, or when
# this sockeyed was built without GSS-API (`sockeyed -t` refuses the
# method "gssapi" or its keys). Run as root, the workers drop to nobody
# as in the other tests: the keytab stays root's, mode 0600 (the master
# reads it before the drop); the replay cache directory (KRB5RCACHEDIR)
# is writable by all.
. "${srcdir:-.}/tests/integration/lib.sh"
. "${srcdir:-.}/tests/integration/lib-ops.sh"
. "${srcdir:-.}/tests/integration/lib-connect.sh"
. "${srcdir:-.}/tests/integration/lib-krb5.sh"

require_python
krb5_require
GSSC=$srcdir/tests/tools/gss_socks_client.py

# --- is GSS-API in this build? ------------------------------------------------------
# Cheap, before the realm: a build without it refuses the method name
# (or the keys) in `sockeyed -t`. Any other complaint (a missing keytab)
# is for the real config below to show.
printf '%s\n' '# gssapi probe' 'listen = [ "127.0.0.1:0" ];' \
	'auth = { methods = [ "gssapi" ]; };' >"$T/probe.conf"
"$SOCKEYED" -t -f "$T/probe.conf" >"$T/probe.out" 2>&1 || true
if grep -Eqi 'unknown method "gssapi"|unknown key .auth\.gssapi_|without GSS-?API|"gssapi" is not supported' "$T/probe.out"; then
	skip "this sockeyed was built without GSS-API ($(head -n 1 "$T/probe.out"))"
fi

krb5_setup
BODY="sockeye 27-auth-gssapi page $$"
start_server web http --body "$BODY"
WEB=$SERVER_PORT
start_server echo echo
ECHO=$SERVER_PORT
start_server rst reset --bytes 100000 --seed 5
RST=$SERVER_PORT

# conf PROTECTION STRIP: the config, with the levels allowed (a list's
# insides: "none", "integrity") and the realms stripped. Rule lines
# matter (the log names them): keep the layout.
conf() {
	write_conf "$T/sockeye.conf" \
		'listen = [ "127.0.0.1:0" ];' \
		'limits = { handshake_timeout_s = 15; };' \
		"auth = { methods = [ \"gssapi\" ];
		  gssapi_keytab = \"$PROXY_KEYTAB\";
		  gssapi_service = \"rcmd\";
		  gssapi_protection = [ $1 ];
		  gssapi_strip_realms = [ $2 ]; };" \
		'access = (
  { action = "deny"; users = [ "bob@SOCKEYE.TEST", "bob" ]; },
  { action = "allow"; users = [ "alice@SOCKEYE.TEST", "alice" ]; }
);'
}

# start CONF-ARGS...: (re)start the daemon with conf CONF-ARGS; the
# previous run's log is kept as sockeyed-N.log.
RUN=0
start() {
	if [ -f "$T/pids/sockeyed" ]; then
		stop_sockeye
		[ "$SOCKEYED_STATUS" = 0 ] ||
			fail "sockeyed exited with status $SOCKEYED_STATUS on SIGTERM"
		RUN=$((RUN + 1))
		mv "$T/sockeyed.log" "$T/sockeyed-$RUN.log"
	fi
	conf "$@"
	"$SOCKEYED" -t -f "$T/sockeye.conf" >"$T/check.out" 2>&1 ||
		fail "sockeyed -t refuses the GSS-API config: $(cat "$T/check.out")"
	start_sockeye "$T/sockeye.conf"
}

# gssc NAME USER ARGS...: the python client as USER (their ticket cache;
# carol's does not exist) against the first listener, through
# localhost:PORT unless ARGS give --proxy; stdout in $T/NAME.out, stderr
# in $T/NAME.err and GSSC_ERR, status in GSSC_RC.
gssc() {
	_g_name=$1
	_g_user=$2
	shift 2
	case " $* " in
	*" --proxy "*) _g_proxy= ;;
	*) _g_proxy="--proxy localhost:$SOCKS_PORT" ;;
	esac
	GSSC_RC=0
	# shellcheck disable=SC2086
	KRB5CCNAME=$(krb5_ccache "$_g_user") timeout 60 "$PYTHON_GSS" "$GSSC" \
		$_g_proxy "$@" <"${GSSC_IN:-/dev/null}" >"$T/$_g_name.out" \
		2>"$T/$_g_name.err" || GSSC_RC=$?
	GSSC_ERR=$(cat "$T/$_g_name.err")
}

# with_cc USER CMD [ARGS...]: run the shell function or command CMD with
# KRB5CCNAME set to USER's cache, then put it back.
with_cc() {
	_wc_old=$KRB5CCNAME
	KRB5CCNAME=$(krb5_ccache "$1")
	shift
	"$@"
	KRB5CCNAME=$_wc_old
}

# page_ok NAME FILE: FILE holds the whole HTTP answer with $BODY.
page_ok() {
	head -n 1 "$2" | grep -q '^HTTP/1\.[01] 200 ' ||
		fail "$1: no HTTP 200: $(head -c 200 "$2" | tr '\r\n' '  ')"
	[ "$(tail -n 1 "$2")" = "$BODY" ] ||
		fail "$1: the page came back as '$(tail -n 1 "$2")', want '$BODY'"
}

# re_quote STRING: STRING with the dots of an address escaped for ERE.
re_quote() { printf '%s\n' "$1" | sed 's/\./\\./g'; }

# fetch NAME USER SOURCE WANT-LEVEL CLIENT-ARGS...: the page through
# the proxy from 127.0.0.x SOURCE; the client sees granted=WANT-LEVEL,
# the log has the auth line and the access line of USER@SOCKEYE.TEST
# (or of $LOGUSER when set: the name as logged).
fetch() {
	_f_name=$1
	_f_user=$2
	_f_src=$3
	_f_level=$4
	shift 4
	gssc "$_f_name" "$_f_user" --source "$_f_src" "$@" --http / 127.0.0.1 "$WEB"
	[ "$GSSC_RC" = 0 ] ||
		fail "$_f_name: the client exited $GSSC_RC: $GSSC_ERR"
	expect_line "$GSSC_ERR" "^granted=$_f_level\$" "$_f_name"
	page_ok "$_f_name" "$T/$_f_name.out"
	_f_as=${LOGUSER:-$_f_user@$KRB_REALM}
	_f_re=$(re_quote "$_f_as")
	_f_sre=$(re_quote "$_f_src")
	wait_log 5 "auth ok: user=$_f_re client=$_f_sre:[0-9]+ method=gssapi( |\$)" ||
		fail "$_f_name: no 'auth ok: user=$_f_as client=$_f_src:... method=gssapi' line"
	L=$(wait_access " user=$_f_re " " client=$_f_sre:" " dst=127\.0\.0\.1:$WEB( |\$)")
	field_ok "$L" 'rep=0'
	field_ok "$L" 'bytes_down=[1-9][0-9]*'
	# The level the proxy says the session ran at.
	field_ok "$L" "protection=$_f_level"
}

# refused_abort NAME SOURCE: the client from SOURCE got 01 FF (exit 3),
# nothing was relayed, and the log has an "auth failed" line for the
# GSS-API method from SOURCE.
refused_abort() {
	[ "$GSSC_RC" = 3 ] ||
		fail "$1: the client exited $GSSC_RC, want 3 (01 FF): $GSSC_ERR"
	expect_line "$GSSC_ERR" '^aborted by proxy$' "$1"
	[ ! -s "$T/$1.out" ] || fail "$1: data came through: $(head -c 200 "$T/$1.out")"
	_ra_sre=$(re_quote "$2")
	wait_log 5 "auth failed: user=[^ ]+ client=$_ra_sre:[0-9]+ method=gssapi reason=" ||
		fail "$1: no 'auth failed: ... client=$2:... method=gssapi reason=...' line"
	[ "$(log_count "auth ok: .* client=$_ra_sre:")" = 0 ] ||
		fail "$1: the log says auth ok for $2"
	# Every connection gets its access line: this one ended at the login.
	expect_line "$(access_line " client=$_ra_sre:")" \
		'^.*access user=- .* rep=- bytes_up=0 bytes_down=0 .* end=auth-failed( |$)' \
		"$1: the access line"
}

# --- sockeyed -t on the keytab ------------------------------------------------------------
# A keytab that is not there, and one without a key of the service: the
# key's FILE:LINE, the reason, and the principals it does hold.
conf '"none"' ''
sed "s|gssapi_keytab = \"$PROXY_KEYTAB\"|gssapi_keytab = \"$T/no.keytab\"|" \
	"$T/sockeye.conf" >"$T/bad1.conf"
KT_LINE=$(grep -n 'gssapi_keytab' "$T/bad1.conf" | cut -d: -f1)
_rc=0
"$SOCKEYED" -t -f "$T/bad1.conf" >"$T/bad1.out" 2>&1 || _rc=$?
[ "$_rc" = 1 ] || fail "sockeyed -t with a missing keytab exited $_rc, want 1"
grep -q "^$T/bad1.conf:$KT_LINE: cannot read $T/no.keytab: No such file or directory\$" \
	"$T/bad1.out" || fail "sockeyed -t with a missing keytab said: $(cat "$T/bad1.out")"
sed 's|gssapi_service = "rcmd"|gssapi_service = "socks"|' "$T/sockeye.conf" >"$T/bad2.conf"
_rc=0
"$SOCKEYED" -t -f "$T/bad2.conf" >"$T/bad2.out" 2>&1 || _rc=$?
[ "$_rc" = 1 ] || fail "sockeyed -t with no key of the service exited $_rc, want 1"
grep -q "holds no key of service \"socks\" (it has .*rcmd/localhost@SOCKEYE\.TEST" \
	"$T/bad2.out" || fail "sockeyed -t with no key of the service said: $(cat "$T/bad2.out")"

# --- every level allowed -------------------------------------------------------------
start '"none", "integrity", "confidentiality"' ''
if [ "$(id -u)" = 0 ]; then
	[ "$(stat -c '%U %a' "$PROXY_KEYTAB")" = "root 600" ] ||
		error "the keytab is not root's, mode 0600: $(stat -c '%U %a' "$PROXY_KEYTAB")"
fi

fetch none alice 127.0.0.2 none --level none
fetch integrity alice 127.0.0.3 integrity --level integrity
fetch confidentiality alice 127.0.0.4 confidentiality --level confidentiality
# NEC style: the level octet bare both ways.
fetch nec-none alice 127.0.0.5 none --level none --nec
fetch nec-conf alice 127.0.0.6 confidentiality --level confidentiality --nec
# The other service principal: rcmd/127.0.0.1.
fetch by-address alice 127.0.0.7 integrity --level integrity \
	--proxy "127.0.0.1:$SOCKS_PORT"

# Data both ways, more than one MTYP 3 message each way, through an echo
# server.
head -c 300000 /dev/urandom >"$T/big.in"
GSSC_IN=$T/big.in
for lv in integrity confidentiality; do
	gssc "echo-$lv" alice --source 127.0.0.8 --level "$lv" 127.0.0.1 "$ECHO"
	[ "$GSSC_RC" = 0 ] || fail "echo at $lv: the client exited $GSSC_RC: $GSSC_ERR"
	expect_line "$GSSC_ERR" "^granted=$lv\$" "echo at $lv"
	cmp -s "$T/big.in" "$T/echo-$lv.out" ||
		fail "echo at $lv: $(wc -c <"$T/echo-$lv.out") bytes came back, not the 300000 sent"
done
GSSC_IN=

# The destination resets after its bytes: at integrity the client, too,
# sees a reset after them (through the tunnel), not a clean end.
gssc reset-integrity alice --source 127.0.0.15 --level integrity 127.0.0.1 "$RST"
[ "$GSSC_RC" = 1 ] ||
	fail "a remote reset at integrity: the client exited $GSSC_RC, want 1 (a reset): $GSSC_ERR"
printf '%s\n' "$GSSC_ERR" | grep -qi 'reset' ||
	fail "a remote reset at integrity: the client did not see a reset: $GSSC_ERR"
[ "$(wc -c <"$T/reset-integrity.out")" -le 100000 ] ||
	fail "a remote reset at integrity: more bytes than the destination sent"
L=$(wait_access ' client=127\.0\.0\.15:')
field_ok "$L" 'end=reset'
field_ok "$L" 'reset_by=remote'
field_ok "$L" 'protection=integrity'

# UDP ASSOCIATE in a protected session: refused (REP 7), since sockeyed
# does not encapsulate datagrams; at none it is served as usual.
gssc udp-integrity alice --source 127.0.0.13 --level integrity \
	--udp-associate 0.0.0.0 0
[ "$GSSC_RC" = 4 ] || fail "UDP ASSOCIATE at integrity: the client exited $GSSC_RC, want 4: $GSSC_ERR"
expect_line "$GSSC_ERR" '^rep=7$' "UDP ASSOCIATE at integrity"
L=$(wait_access ' client=127\.0\.0\.13:' ' cmd=udp_associate ')
field_ok "$L" 'rep=7'
field_ok "$L" 'end=udp-with-gssapi-protection'
field_ok "$L" 'protection=integrity'
gssc udp-none alice --source 127.0.0.14 --level none --udp-associate 0.0.0.0 0
[ "$GSSC_RC" = 0 ] || fail "UDP ASSOCIATE at none: the client exited $GSSC_RC: $GSSC_ERR"

# carol has no ticket: the client cannot make a token.
gssc carol carol --source 127.0.0.9 --level none --http / 127.0.0.1 "$WEB"
[ "$GSSC_RC" = 1 ] || fail "carol without a ticket: the client exited $GSSC_RC, want 1: $GSSC_ERR"
printf '%s\n' "$GSSC_ERR" | grep -qi 'credentials' ||
	fail "carol without a ticket: the client does not say credentials are missing: $GSSC_ERR"
[ ! -s "$T/carol.out" ] || fail "carol without a ticket: data came through"
# The proxy saw a greeting and a hang-up: one access line, no user.
expect_line "$(access_line ' client=127\.0\.0\.9:')" \
	'user=- .* end=client-eof' "carol without a ticket: the access line"

# A ticket for HTTP/localhost: the proxy holds that key too, but serves
# rcmd only.
gssc http-service alice --source 127.0.0.10 --service HTTP --http / 127.0.0.1 "$WEB"
refused_abort http-service 127.0.0.10

# A first token that is no GSS-API token.
gssc bad-token alice --source 127.0.0.11 --bad-token --http / 127.0.0.1 "$WEB"
refused_abort bad-token 127.0.0.11

# bob is denied by the access rule at the line that names him.
BOB_LINE=$(grep -n '"bob@SOCKEYE.TEST"' "$T/sockeye.conf" | cut -d: -f1)
gssc bob bob --source 127.0.0.12 --level confidentiality --http / 127.0.0.1 "$WEB"
[ "$GSSC_RC" = 4 ] || fail "bob: the client exited $GSSC_RC, want 4 (REP not 0): $GSSC_ERR"
expect_line "$GSSC_ERR" '^granted=confidentiality$' "bob's negotiation"
expect_line "$GSSC_ERR" '^rep=2$' "bob's CONNECT"
wait_log 5 'auth ok: user=bob@SOCKEYE\.TEST client=127\.0\.0\.12:[0-9]+ method=gssapi( |$)' ||
	fail "bob: no 'auth ok' line"
L=$(wait_access ' user=bob@SOCKEYE\.TEST ' ' client=127\.0\.0\.12:')
field_ok "$L" 'rep=2'
grep -q "refused: user=bob@SOCKEYE\.TEST client=127\.0\.0\.12:[0-9]* cmd=connect .*denied by the access rule at $T/sockeye.conf:$BOB_LINE" \
	"$T/sockeyed.log" || fail "bob's refusal does not name the rule at line $BOB_LINE"

# --- only confidentiality allowed -----------------------------------------------------------
start '"confidentiality"' ''
# A client that asks for none is granted confidentiality (the one level
# allowed; this client can do it) and gets the page through MTYP 3.
fetch only-conf alice 127.0.0.2 confidentiality --level none
fetch only-conf-int alice 127.0.0.3 confidentiality --level integrity

# --- only none allowed ------------------------------------------------------------------------
start '"none"' ''
fetch only-none alice 127.0.0.2 none --level confidentiality
fetch only-none-nec alice 127.0.0.3 none --level integrity --nec

# --- the realm stripped ---------------------------------------------------------------------------
start '"none", "integrity", "confidentiality"' '"SOCKEYE.TEST"'
LOGUSER=alice fetch stripped alice 127.0.0.2 integrity --level integrity
[ "$(log_count 'auth ok: user=alice@SOCKEYE')" = 0 ] &&
	[ -z "$(access_line ' user=alice@SOCKEYE')" ] ||
	fail "with the realm stripped, a login or access line names alice@SOCKEYE.TEST"
gssc stripped-bob bob --source 127.0.0.3 --level none --http / 127.0.0.1 "$WEB"
[ "$GSSC_RC" = 4 ] || fail "bob, stripped: the client exited $GSSC_RC, want 4: $GSSC_ERR"
L=$(wait_access ' user=bob ' ' client=127\.0\.0\.3:')
field_ok "$L" 'rep=2'

# --- sockeye-connect -a gssapi ------------------------------------------------------------
# Last, in a run of their own: the python client's cases above do not
# depend on the C client being there.
start '"none", "integrity", "confidentiality"' ''
printf 'GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >"$T/get.in"
SC_IN=$T/get.in
N0=$(log_count 'auth ok: user=alice@SOCKEYE\.TEST client=127\.0\.0\.1:[0-9]+ method=gssapi')
n=0
for lv in none integrity confidentiality; do
	with_cc alice sc "connect-$lv" \
		-a gssapi --gssapi-service rcmd --gssapi-protection "$lv" \
		"127.0.0.1:$SOCKS_PORT" 127.0.0.1 "$WEB"
	[ "$SC_RC" = 0 ] ||
		fail "sockeye-connect -a gssapi --gssapi-protection $lv exited $SC_RC: $SC_ERR"
	page_ok "sockeye-connect at $lv" "$T/connect-$lv.out"
	n=$((n + 1))
	wait_log 5 'auth ok: user=alice@SOCKEYE\.TEST client=127\.0\.0\.1:[0-9]+ method=gssapi' $((N0 + n)) ||
		fail "sockeye-connect at $lv: no 'auth ok ... method=gssapi' line"
	[ "$(log_count "auth ok: user=alice@SOCKEYE\\.TEST client=127\\.0\\.0\\.1:[0-9]+ method=gssapi protection=$lv\$")" = 1 ] ||
		fail "sockeye-connect at $lv: the proxy did not log protection=$lv"
done
# A proxy that grants less than sockeye-connect asked for: it gives up
# (exit 3) rather than send in the clear what was to be encrypted.
start '"none"' ''
with_cc alice sc connect-weaker \
	-a gssapi --gssapi-protection confidentiality \
	"127.0.0.1:$SOCKS_PORT" 127.0.0.1 "$WEB"
sc_expect connect-weaker 3 "the proxy granted protection none; asked for confidentiality"
[ ! -s "$T/connect-weaker.out" ] || fail "sockeye-connect at a weaker level: data came through"
SC_IN=

# --- curl --socks5-gssapi -------------------------------------------------------------------
CURL_VER=
command -v curl >/dev/null 2>&1 &&
	CURL_VER=$(curl --version 2>/dev/null | sed -n '1s/^curl \([0-9][0-9.]*\).*/\1/p')
if [ -z "$CURL_VER" ]; then
	echo "SKIP: $TEST_NAME: curl case: curl not installed" >&2
elif ! curl --version | grep -q '^Features:.*GSS-API'; then
	echo "SKIP: $TEST_NAME: curl case: curl $CURL_VER is built without GSS-API" >&2
else
	case $CURL_VER in
	7.88|7.88.*)
		echo "SKIP: $TEST_NAME: curl case: curl $CURL_VER is 7.88, whose SOCKS5 GSS-API fails before it sends a token (\"SOCKS5 GSSAPI per-message authentication is not supported\")" >&2 ;;
	*)
		N0=$(log_count 'auth ok: user=alice@SOCKEYE\.TEST client=127\.0\.0\.1:[0-9]+ method=gssapi')
		_rc=0
		KRB5CCNAME=$(krb5_ccache alice) timeout 30 curl -sS --max-time 20 \
			-x "socks5h://localhost:$SOCKS_PORT" --socks5-gssapi \
			--socks5-gssapi-service rcmd "http://127.0.0.1:$WEB/" \
			>"$T/curl.out" 2>"$T/curl.err" || _rc=$?
		[ $_rc = 0 ] || fail "curl $CURL_VER --socks5-gssapi exited $_rc: $(cat "$T/curl.err")"
		[ "$(cat "$T/curl.out")" = "$BODY" ] ||
			fail "curl --socks5-gssapi: got '$(head -c 200 "$T/curl.out")', want '$BODY'"
		wait_log 5 'auth ok: user=alice@SOCKEYE\.TEST client=127\.0\.0\.1:[0-9]+ method=gssapi' $((N0 + 1)) ||
			fail "curl --socks5-gssapi: no 'auth ok ... method=gssapi' line" ;;
	esac
fi

for f in "$T"/sockeyed-*.log; do
	cat "$f" >>"$T/sockeyed.log"
done
for pw in 'Alice-krb5-pw' 'Bob-krb5-pw' 'Carol-krb5-pw' 'sockeye-kdb-master'; do
	! grep -qF -- "$pw" "$T/sockeyed.log" ||
		fail "a password appears in the daemon's log: $(grep -nF -- "$pw" "$T/sockeyed.log" | head -n 3)"
done
exit 0
