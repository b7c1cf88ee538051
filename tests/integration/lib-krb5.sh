# SPDX-License-Identifier: ISC
# lib-krb5.sh - sourced (after lib.sh) by the GSS-API tests
# (tests/integration/27-auth-gssapi.sh): a throwaway MIT Kerberos realm,
# SOCKEYE.TEST, whose KDC runs as the test's user on 127.0.0.1 on a free
# high port, with its database, stash, keytabs, credential caches, logs
# and configuration all in $T/krb5. Nothing of the machine's Kerberos is
# read or changed: every program the test runs (kinit, the clients,
# sockeyed) finds the realm through KRB5_CONFIG and KRB5_KDC_PROFILE, and
# its credential cache through KRB5CCNAME; no DNS lookups, no reverse
# lookups, no short-name qualification (MIT 1.18+ appends the first DNS
# search domain to "localhost" otherwise: rcmd/localhost.example.org).
#
# Principals: alice and bob (users, passwords in files, tickets with
# krb5_kinit), carol (a user who never gets a ticket), and the services
# rcmd/localhost, rcmd/127.0.0.1 and HTTP/localhost, whose keys are all
# in the proxy's keytab $PROXY_KEYTAB (so that a test can show that the
# proxy refuses a ticket for HTTP although it holds that key).
#
# Run as root, sockeyed's workers drop to `user` (nobody in write_conf):
# $T and $KRB_DIR become traversable, krb5.conf readable by all, the
# replay cache directory writable by all (sticky); secrets (the database,
# its stash, the keytabs, the passwords, the caches) stay mode 0600.
#
# Gives: krb5_require (or skip 77), krb5_setup (the realm, its KDC
# started; prints how long that took), krb5_kinit NAME, krb5_ccache NAME,
# krb5_stop; and the variables KRB_DIR, KRB_REALM, KDC_PORT,
# PROXY_KEYTAB, PYTHON_GSS (the python with the gssapi module; Debian's,
# not a pyenv's), and the tools' paths KRB5KDC, KDB5_UTIL, KADMIN_LOCAL,
# KINIT, KLIST.
#
# Exports, for everything the test starts afterwards: KRB5_CONFIG,
# KRB5_KDC_PROFILE, KRB5RCACHEDIR, KRB5_TRACE (MIT's trace, appended to
# by every process: $T/krb5-trace.log, shown by dump_logs on failure),
# KRB5CCNAME (a cache that does not exist: a test names a user's cache
# per command) and KRB5_KTNAME (a keytab that does not exist: the proxy
# must use the file its configuration names, not the default).

: "${PYTHON_GSS:=/usr/bin/python3}"
KRB_REALM=SOCKEYE.TEST

# _krb5_tool NAME: the path of a Kerberos program, from PATH or from the
# sbin directories a non-root PATH lacks; empty when not found.
_krb5_tool() {
	command -v "$1" 2>/dev/null && return 0
	for _kt_d in /usr/sbin /sbin /usr/local/sbin /usr/lib/mit/sbin; do
		if [ -x "$_kt_d/$1" ]; then
			echo "$_kt_d/$1"
			return 0
		fi
	done
	return 0
}

# krb5_require: skip the test unless the MIT KDC and its tools, kinit and
# klist, and python3-gssapi in $PYTHON_GSS are installed.
krb5_require() {
	KRB5KDC=$(_krb5_tool krb5kdc)
	KDB5_UTIL=$(_krb5_tool kdb5_util)
	KADMIN_LOCAL=$(_krb5_tool kadmin.local)
	KINIT=$(_krb5_tool kinit)
	KLIST=$(_krb5_tool klist)
	[ -n "$KRB5KDC" ] && [ -n "$KDB5_UTIL" ] && [ -n "$KADMIN_LOCAL" ] ||
		skip "no MIT KDC (krb5kdc, kdb5_util, kadmin.local: apt-get install krb5-kdc krb5-admin-server)"
	[ -n "$KINIT" ] && [ -n "$KLIST" ] ||
		skip "no kinit/klist (apt-get install krb5-user)"
	[ -x "$PYTHON_GSS" ] ||
		skip "no python at PYTHON_GSS=$PYTHON_GSS (Debian's /usr/bin/python3 with python3-gssapi)"
	_kr_err=$("$PYTHON_GSS" -c 'import gssapi' 2>&1) ||
		skip "$PYTHON_GSS cannot import gssapi (apt-get install python3-gssapi, or set PYTHON_GSS): $(printf '%s' "$_kr_err" | tail -n 1)"
}

# _krb5_free_port: a loopback port free for both TCP and UDP (the KDC
# listens on both, on the same number).
_krb5_free_port() {
	"$PYTHON" -c '
import socket
for _ in range(100):
    t = socket.socket()
    t.bind(("127.0.0.1", 0))
    p = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", p))
    except OSError:
        t.close()
        continue
    print(p)
    break
else:
    raise SystemExit("no port free for both TCP and UDP")
'
}

# _krb5_write_confs PORT: krb5.conf (clients, sockeyed) and kdc.conf (the
# KDC, kdb5_util, kadmin.local) for a KDC on 127.0.0.1:PORT.
_krb5_write_confs() {
	cat >"$KRB_DIR/krb5.conf" <<EOF
# written by $TEST_NAME (lib-krb5.sh)
[libdefaults]
	default_realm = $KRB_REALM
	dns_lookup_kdc = false
	dns_lookup_realm = false
	dns_canonicalize_hostname = false
	rdns = false
	qualify_shortname = ""
	udp_preference_limit = 1
	default_ccache_name = FILE:$KRB_DIR/cc.default
	default_keytab_name = FILE:$KRB_DIR/no-default.keytab
	default_client_keytab_name = FILE:$KRB_DIR/no-client.keytab
	forwardable = false
	ticket_lifetime = 1h
	permitted_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96
	default_tkt_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96
	default_tgs_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96
[realms]
	$KRB_REALM = {
		kdc = 127.0.0.1:$1
	}
[domain_realm]
	localhost = $KRB_REALM
	127.0.0.1 = $KRB_REALM
EOF
	cat >"$KRB_DIR/kdc.conf" <<EOF
# written by $TEST_NAME (lib-krb5.sh)
[kdcdefaults]
	kdc_listen = 127.0.0.1:$1
	kdc_tcp_listen = 127.0.0.1:$1
[realms]
	$KRB_REALM = {
		database_name = $KRB_DIR/principal
		key_stash_file = $KRB_DIR/stash
		acl_file = $KRB_DIR/kadm5.acl
		kdc_listen = 127.0.0.1:$1
		kdc_tcp_listen = 127.0.0.1:$1
		max_life = 1h
		max_renewable_life = 0
		master_key_type = aes256-cts-hmac-sha1-96
		supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
	}
[logging]
	kdc = FILE:$T/krb5kdc.log
	admin_server = FILE:$T/krb5kdc.log
	default = FILE:$T/krb5kdc.log
EOF
	chmod 644 "$KRB_DIR/krb5.conf" "$KRB_DIR/kdc.conf"
}

# _krb5_kadmin QUERY [STDIN-FILE]: kadmin.local -q QUERY (bounded), its
# input from STDIN-FILE (a password twice) or /dev/null.
_krb5_kadmin() {
	timeout 60 "$KADMIN_LOCAL" -r "$KRB_REALM" -q "$1" \
		<"${2:-/dev/null}" >>"$T/kadmin.out" 2>&1 ||
		error "kadmin.local -q '$1' failed: $(tail -n 5 "$T/kadmin.out")"
	# kadmin.local exits 0 even when a query fails: krb5_setup checks
	# the outcome (listprincs, klist -k).
}

# krb5_add_user NAME PASSWORD: the principal NAME@SOCKEYE.TEST with this
# password, kept in $KRB_DIR/NAME.pw (0600) for krb5_kinit; kadmin.local
# reads it on stdin (twice: password and confirmation), never in argv.
krb5_add_user() {
	( umask 077; printf '%s\n' "$2" >"$KRB_DIR/$1.pw"
	  printf '%s\n%s\n' "$2" "$2" >"$KRB_DIR/$1.pw2" )
	_krb5_kadmin "addprinc $1" "$KRB_DIR/$1.pw2"
	rm -f "$KRB_DIR/$1.pw2"
}

# krb5_add_service PRINCIPAL KEYTAB: a service with a random key,
# written to KEYTAB (mode 0600, the test's user: root when root).
krb5_add_service() {
	_krb5_kadmin "addprinc -randkey $1"
	_krb5_kadmin "ktadd -k $2 $1"
	chmod 600 "$2"
}

# _krb5_kdc_answers: the KDC accepts TCP connections on its port.
_krb5_kdc_answers() {
	proc_alive "$KDC_PID" || return 2
	"$PYTHON" -c '
import socket, sys
s = socket.socket()
s.settimeout(1)
try:
    s.connect(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
' "$KDC_PORT"
}

# _krb5_start_kdc: krb5kdc in the foreground (-n), in the background of
# this shell, pid in $T/pids/krb5kdc (lib.sh's cleanup stops it), on a
# free port; up to three ports are tried (another program may take the
# port between the probe and the KDC's bind). Waits up to 10 s a try.
_krb5_start_kdc() {
	_ks_try=0
	while [ $_ks_try -lt 3 ]; do
		_ks_try=$((_ks_try + 1))
		KDC_PORT=$(_krb5_free_port) || error "no free port for the KDC"
		_krb5_write_confs "$KDC_PORT"
		"$KRB5KDC" -n -r "$KRB_REALM" </dev/null >>"$T/krb5kdc.log" 2>&1 &
		KDC_PID=$!
		echo "$KDC_PID" >"$T/pids/krb5kdc"
		if wait_for 10 _krb5_kdc_answers; then
			return 0
		fi
		if proc_alive "$KDC_PID"; then
			error "krb5kdc (pid $KDC_PID) does not answer on 127.0.0.1:$KDC_PORT after 10 s"
		fi
		wait "$KDC_PID" 2>/dev/null || true
		rm -f "$T/pids/krb5kdc"
		note "krb5kdc exited on port $KDC_PORT: $(tail -n 2 "$T/krb5kdc.log" | tr '\n' ' ')"
	done
	error "krb5kdc did not start (3 ports tried): $(tail -n 5 "$T/krb5kdc.log")"
}

# krb5_setup: the realm, its principals and the proxy's keytab, the KDC
# started and answering (alice and bob have tickets: krb5_kinit). Prints
# the time it took.
krb5_setup() {
	_kst=$(date +%s.%N)
	chmod 711 "$T"
	KRB_DIR=$T/krb5
	mkdir "$KRB_DIR"
	chmod 755 "$KRB_DIR"
	PROXY_KEYTAB=$KRB_DIR/proxy.keytab
	KRB5_CONFIG=$KRB_DIR/krb5.conf
	KRB5_KDC_PROFILE=$KRB_DIR/kdc.conf
	KRB5CCNAME=FILE:$KRB_DIR/cc.nobody
	KRB5_KTNAME=FILE:$KRB_DIR/no-such.keytab
	KRB5RCACHEDIR=$KRB_DIR/rcache
	KRB5_TRACE=$T/krb5-trace.log
	export KRB5_CONFIG KRB5_KDC_PROFILE KRB5CCNAME KRB5_KTNAME \
		KRB5RCACHEDIR KRB5_TRACE
	unset KRB5_CLIENT_KTNAME KRB5RCACHETYPE KRB5RCACHENAME KPROP_PORT \
		2>/dev/null || true
	mkdir "$KRB5RCACHEDIR"
	chmod 1777 "$KRB5RCACHEDIR"
	: >"$KRB5_TRACE"
	chmod 666 "$KRB5_TRACE"
	# The port goes in later (_krb5_start_kdc); kdb5_util and kadmin.local
	# need only the database's place.
	_krb5_write_confs 88
	: >"$KRB_DIR/kadm5.acl"
	# The master key's password, twice, on stdin (not in argv).
	( umask 077; printf 'sockeye-kdb-master\nsockeye-kdb-master\n' >"$KRB_DIR/master.pw2" )
	timeout 120 "$KDB5_UTIL" -r "$KRB_REALM" create -s \
		<"$KRB_DIR/master.pw2" >"$T/kdb5_util.out" 2>&1 ||
		error "kdb5_util create failed: $(tail -n 5 "$T/kdb5_util.out")"
	rm -f "$KRB_DIR/master.pw2"
	[ -s "$KRB_DIR/stash" ] || error "kdb5_util wrote no stash file"
	krb5_add_user alice 'Alice-krb5-pw'
	krb5_add_user bob 'Bob-krb5-pw'
	krb5_add_user carol 'Carol-krb5-pw'
	krb5_add_service rcmd/localhost "$PROXY_KEYTAB"
	krb5_add_service rcmd/127.0.0.1 "$PROXY_KEYTAB"
	krb5_add_service HTTP/localhost "$PROXY_KEYTAB"
	timeout 60 "$KADMIN_LOCAL" -r "$KRB_REALM" -q listprincs </dev/null \
		>"$T/listprincs.out" 2>&1 || error "kadmin.local listprincs failed"
	timeout 20 "$KLIST" -k "FILE:$PROXY_KEYTAB" >"$T/klist-k.out" 2>&1 ||
		error "klist -k $PROXY_KEYTAB failed: $(cat "$T/klist-k.out")"
	for _kp in alice bob carol rcmd/localhost rcmd/127.0.0.1 HTTP/localhost; do
		grep -qx "$_kp@$KRB_REALM" "$T/listprincs.out" ||
			error "no principal $_kp@$KRB_REALM in the database: $(tail -n 5 "$T/kadmin.out")"
	done
	for _kp in rcmd/localhost rcmd/127.0.0.1 HTTP/localhost; do
		grep -Eq "[[:space:]]$_kp@$KRB_REALM\$" "$T/klist-k.out" ||
			error "no key for $_kp@$KRB_REALM in $PROXY_KEYTAB: $(cat "$T/klist-k.out")"
	done
	_krb5_start_kdc
	krb5_kinit alice
	krb5_kinit bob
	KRB5_SETUP_S=$(awk -v a="$_kst" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
	note "KDC setup took $KRB5_SETUP_S s (realm $KRB_REALM, KDC on 127.0.0.1:$KDC_PORT, pid $KDC_PID)"
}

# krb5_ccache NAME: the credential cache of user NAME (which exists only
# after krb5_kinit NAME).
krb5_ccache() { echo "FILE:$KRB_DIR/cc.$1"; }

# krb5_kinit NAME: a ticket-granting ticket for NAME, with the password
# from its file on stdin, in `krb5_ccache NAME`. The KDC has just come
# up: a failure is retried for up to 10 s.
_krb5_kinit_once() {
	KRB5CCNAME=$(krb5_ccache "$1") timeout 20 "$KINIT" "$1@$KRB_REALM" \
		<"$KRB_DIR/$1.pw" >>"$T/kinit.log" 2>&1
}
krb5_kinit() {
	wait_for 10 _krb5_kinit_once "$1" ||
		error "kinit $1 failed: $(tail -n 3 "$T/kinit.log")"
}

# krb5_stop: stop the KDC now (cleanup does it otherwise).
krb5_stop() {
	[ -f "$T/pids/krb5kdc" ] || return 0
	kill_pid "$(cat "$T/pids/krb5kdc")"
	rm -f "$T/pids/krb5kdc"
}
