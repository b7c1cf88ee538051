#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/package/deb.sh - the Debian package, end to end, on this machine.
#
#  1. build it from `make dist`'s tarball (packaging/build-deb.sh);
#  2. lintian on the .changes: no error, no warning;
#  3. check its contents: programs, man pages, conffiles (the config,
#     the PAM service /etc/pam.d/sockeye), unit;
#  4. dpkg -i: user and group sockeye, /etc/sockeye/users empty 0640
#     root:sockeye, the unit enabled;
#  5. sockeyed -t -f /etc/sockeye/sockeye.conf;
#  6. add a user with sockeye-passwd, then start the packaged daemon the
#     way the unit does (as root, -F, the packaged config, a clean
#     environment, the unit's capability bounding set, no new privileges),
#     fetch a page through it with curl, and stop it with SIGTERM;
#  7. every system call it made is allowed by the unit's SystemCallFilter
#     (strace, checked against systemd-analyze syscall-filter);
#  8. dpkg -i again keeps the users file; dpkg -r, then dpkg -P: nothing
#     left behind, user and group gone.
#
# While this build cannot serve "password" (`sockeyed -t` says it is "not
# supported by this build yet"), step 6 runs on a temporary copy of the
# packaged config with auth.methods = [ "none" ] and says so.
#
# It changes this machine: run it as root on a CI or throw-away machine
# (`make ci-package`). It refuses to run when a sockeye package or a
# sockeye user is already there, or port 1080 is taken, and it purges the
# package again on the way out, also when it fails.
#
# Exit: 0 pass, 1 fail, 77 skip (not root, not Debian, tool missing),
# 99 error.

if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
. "$(dirname "$0")/lib.sh"

CONF=/etc/sockeye/sockeye.conf
USERS=/etc/sockeye/users
UNIT=/lib/systemd/system/sockeye.service
PAMD=/etc/pam.d/sockeye
TEST_USER=ci-user
# No characters that a proxy URL would need escaped.
TEST_PASS="Correct-Horse-$$"
BODY="hello through the packaged sockeye $$"

[ "$(id -u)" = 0 ] || skip "needs root: it installs the package with dpkg"
[ -f /etc/debian_version ] || skip "not a Debian system"
need dpkg dpkg-buildpackage dh lintian curl python3

installed=0
launcher_pid=""
master_pid=""
http_pid=""
syslog_pid=""
made_devlog=0

cleanup() {
	local rc=$?
	set +e
	trap - EXIT INT TERM HUP
	step_end
	if [ -n "$master_pid" ] && kill -0 "$master_pid" 2>/dev/null; then
		kill -TERM "$master_pid"
		sleep 2
		kill -KILL "$master_pid" 2>/dev/null
	fi
	[ -n "$launcher_pid" ] && kill -KILL "$launcher_pid" 2>/dev/null
	for p in $(pgrep -u sockeye 2>/dev/null); do
		kill -KILL "$p" 2>/dev/null
	done
	[ -n "$http_pid" ] && kill "$http_pid" 2>/dev/null
	[ -n "$syslog_pid" ] && kill "$syslog_pid" 2>/dev/null
	[ "$made_devlog" = 1 ] && rm -f /dev/log
	if [ "$installed" = 1 ] &&
	    dpkg-query -W -f='${Status}' sockeye 2>/dev/null | grep -qv not-installed; then
		echo "# cleaning up: dpkg -P sockeye"
		dpkg -P sockeye >/dev/null 2>&1
	fi
	rm -rf "$T"
	exit $rc
}
trap cleanup EXIT
trap 'exit 99' INT TERM HUP

# port_open HOST PORT: something accepts TCP connections there.
port_open() {
	(exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

have_ipv6_lo() {
	grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6 2>/dev/null
}

pkg_status() {
	dpkg-query -W -f='${Status}' sockeye 2>/dev/null || echo "unknown ok not-installed"
}

# --- 0. the machine ---------------------------------------------------------

step "preconditions"
case $(pkg_status) in
*not-installed*) ;;
*) error "a sockeye package is installed here ($(pkg_status)): this test installs and purges its own; remove it first (dpkg -P sockeye)" ;;
esac
if getent passwd sockeye >/dev/null || getent group sockeye >/dev/null; then
	error "a user or group 'sockeye' exists already: the purge step would delete it; remove it first"
fi
if port_open 127.0.0.1 1080 || { have_ipv6_lo && port_open ::1 1080; }; then
	error "port 1080 on loopback is taken: the packaged config listens there"
fi

# --- 1. build -----------------------------------------------------------------

step "build the .deb (packaging/build-deb.sh, dpkg-buildpackage -us -uc -b)"
out=$builddir/pkg-out/deb
rm -rf "$out"
if ! (cd "$builddir" && PKG_OUT="$out" MAKE="$MAKE" \
    sh "$srcdir/packaging/build-deb.sh") >"$T/build.log" 2>&1; then
	tail -n 100 "$T/build.log"
	fail "the package did not build (the log's end is above)"
fi
# The suite ran in dh_auto_test: its summary (and any failure) for the log.
grep -E '^(FAIL|ERROR|# (TOTAL|PASS|SKIP|FAIL|ERROR):)' "$T/build.log" | sed 's/^/   build: /'
deb=$(ls "$out"/sockeye_*.deb 2>/dev/null | head -n 1)
changes=$(ls "$out"/sockeye_*.changes 2>/dev/null | head -n 1)
[ -f "$deb" ] && [ -f "$changes" ] || fail "no .deb or .changes in $out"
note "built $(basename "$deb") ($(stat -c %s "$deb") bytes)"

# --- 2. lintian -----------------------------------------------------------------

step "lintian (no error, no warning; overrides shown)"
lintian --fail-on error,warning --display-info "$changes" \
    >"$T/lintian.out" 2>"$T/lintian.err"
lrc=$?
grep -v 'running with root privileges' "$T/lintian.err" >&2
if [ -s "$T/lintian.out" ]; then
	sed 's/^/   lintian: /' "$T/lintian.out"
else
	note "lintian: no tags at all"
fi
[ $lrc -eq 0 ] || fail "lintian (exit $lrc): see above"
grep -q '^[EW]: ' "$T/lintian.out" && fail "lintian reports errors or warnings: see above"
# The overrides and their reasons, for the log (with --show-overrides,
# lintian counts an overridden warning in its exit status: shown apart).
lintian --show-overrides "$changes" 2>/dev/null | grep -E '^(O|N): ' |
    sed 's/^/   lintian: /'

# --- 3. contents ------------------------------------------------------------------

step "package contents"
dpkg-deb -c "$deb" | awk '{ print $1, $2, $NF }' | sed 's/^/   /'
dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|; s|/$||' >"$T/contents"
# What this build tree makes: its programs and man pages, as `make install`
# names them.
printf '_v:\n\t@echo sbin $(sbin_PROGRAMS); echo bin $(bin_PROGRAMS); echo man $(dist_man_MANS) $(man_MANS)\n' >"$T/vars.mk"
(cd "$builddir" && $MAKE -s -f Makefile -f "$T/vars.mk" _v EXEEXT=) >"$T/vars" ||
	error "cannot read the program and man page lists from $builddir/Makefile"
expect=("$CONF" "$UNIT" "$PAMD" /usr/share/doc/sockeye/copyright)
for p in $(sed -n 's/^sbin //p' "$T/vars"); do expect+=("/usr/sbin/$p"); done
for p in $(sed -n 's/^bin //p' "$T/vars"); do expect+=("/usr/bin/$p"); done
for m in $(sed -n 's/^man //p' "$T/vars"); do
	m=$(basename "$m")
	expect+=("/usr/share/man/man${m##*.}/$m.gz")
done
for p in "${expect[@]}"; do
	grep -qx "$p" "$T/contents" || fail "the package lacks $p"
done
note "has all of: ${expect[*]}"
grep -qx "$USERS" "$T/contents" &&
	fail "$USERS is in the package: postinst creates it (dpkg must never replace the admin's users)"
# The licence travels as Debian wants it: the ISC text in the
# machine-readable copyright file (not a second copy in the doc dir).
dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/share/doc/sockeye/copyright >"$T/copyright" ||
	error "cannot extract /usr/share/doc/sockeye/copyright from $deb"
grep -qx 'License: ISC' "$T/copyright" || fail "the package's copyright file does not say License: ISC"
grep -q 'Permission to use, copy, modify, and distribute this software' "$T/copyright" ||
	fail "the package's copyright file lacks the ISC licence text"
note "copyright: License: ISC, with its text"
mkdir "$T/ctrl" && dpkg-deb -e "$deb" "$T/ctrl"
grep -qx "$CONF" "$T/ctrl/conffiles" || fail "$CONF is not a conffile"
grep -qx "$PAMD" "$T/ctrl/conffiles" || fail "$PAMD is not a conffile"
dpkg-deb --fsys-tarfile "$deb" | tar -xO ".$PAMD" >"$T/pam" ||
	error "cannot extract $PAMD from $deb"
grep -qx '@include common-auth' "$T/pam" && grep -qx '@include common-account' "$T/pam" ||
	fail "$PAMD does not include common-auth and common-account"
note "$PAMD: common-auth, common-account"
note "conffiles: $(tr '\n' ' ' <"$T/ctrl/conffiles")"

# --- 4. install ---------------------------------------------------------------------

step "dpkg -i"
installed=1
if ! dpkg -i "$deb" >"$T/dpkg-i.log" 2>&1; then
	cat "$T/dpkg-i.log"
	fail "dpkg -i failed"
fi
sed 's/^/   /' "$T/dpkg-i.log"
[ "$(pkg_status)" = "install ok installed" ] || fail "after dpkg -i the status is '$(pkg_status)'"
dpkg -L sockeye >"$T/files"
getent group sockeye >/dev/null || fail "no group sockeye"
pw=$(getent passwd sockeye) || fail "no user sockeye"
note "user: $pw"
IFS=: read -r _ _ uid _ _ home shell <<<"$pw"
[ "$uid" -lt 1000 ] || fail "user sockeye is not a system user (uid $uid)"
case $shell in */nologin|/bin/false) ;; *) fail "user sockeye has a login shell ($shell)" ;; esac
[ "$(id -gn sockeye)" = sockeye ] || fail "user sockeye's group is $(id -gn sockeye)"
[ -e "$home" ] && fail "user sockeye's home $home exists"
st=$(stat -c '%F %a %U:%G %s' "$USERS" 2>/dev/null) || fail "$USERS was not created"
[ "$st" = "regular empty file 640 root:sockeye 0" ] || fail "$USERS is '$st', want an empty file, 0640 root:sockeye"
note "$USERS: $st"
cmp -s "$CONF" "$srcdir/conf/sockeye.conf" || fail "$CONF is not conf/sockeye.conf"
if [ -d /run/systemd/system ]; then
	systemctl is-enabled --quiet sockeye.service || fail "sockeye.service is not enabled"
	note "systemd runs here: sockeye.service is enabled; stopping it for the foreground test"
	systemctl stop sockeye.service
else
	[ -L /etc/systemd/system/multi-user.target.wants/sockeye.service ] ||
		fail "sockeye.service is not enabled (no multi-user.target.wants link)"
	note "sockeye.service enabled (systemd is not running here, so not started)"
fi

# --- the unit ----------------------------------------------------------------------------

step "the systemd unit"
sed -n '/^[A-Z]/p' "$UNIT" | sed 's/^/   /'
unit_val() { sed -n "s/^$1=//p" "$UNIT"; }
[ "$(unit_val ExecStart)" = "/usr/sbin/sockeyed -F -f $CONF" ] ||
	fail "ExecStart= is '$(unit_val ExecStart)'"
[ "$(unit_val KillMode)" = mixed ] || fail "KillMode= is not mixed"
unit_val ExecReload | head -n 1 | grep -q -- 'sockeyed -t' ||
	fail "ExecReload= does not check the config (sockeyed -t) first"
unit_val ExecReload | tail -n 1 | grep -q -- '-HUP \$MAINPID' ||
	fail "ExecReload= does not end with kill -HUP \$MAINPID"
stop_s=$(unit_val TimeoutStopSec | sed 's/s$//')
shut_s=$(sed -n 's/^[[:space:]]*shutdown_timeout_s[[:space:]]*=[[:space:]]*\([0-9]*\).*/\1/p' "$CONF")
: "${shut_s:=30}"
[ "${stop_s:-0}" -gt "$shut_s" ] ||
	fail "TimeoutStopSec=${stop_s:-unset} is not longer than shutdown_timeout_s ($shut_s)"
# Type=notify exactly when the daemon tells systemd it is ready.
if nm -D /usr/sbin/sockeyed 2>/dev/null | grep -q ' sd_notify' ||
    grep -aq NOTIFY_SOCKET /usr/sbin/sockeyed; then
	[ "$(unit_val Type)" = notify ] ||
		fail "sockeyed speaks sd_notify now: make the unit Type=notify"
else
	[ "$(unit_val Type)" = simple ] ||
		fail "Type=$(unit_val Type), but sockeyed does not call sd_notify"
fi
note "Type=$(unit_val Type), TimeoutStopSec=${stop_s}s > shutdown_timeout_s=${shut_s}s"
if command -v systemd-analyze >/dev/null 2>&1; then
	if ! systemd-analyze verify "$UNIT" >"$T/verify" 2>&1; then
		cat "$T/verify"
		fail "systemd-analyze verify $UNIT"
	fi
	sed 's/^/   verify: /' "$T/verify"
	note "systemd-analyze verify: OK"
fi

# --- 5. sockeyed -t ----------------------------------------------------------------------

step "sockeyed -t -f $CONF"
runconf=$CONF
if out=$(/usr/sbin/sockeyed -t -f "$CONF" 2>&1); then
	mode=password
	note "$out"
elif grep -q 'auth method "password" is not supported by this build yet' <<<"$out"; then
	mode=none
	echo "$out" | sed 's/^/   /'
	note "NOTE: this build cannot serve password authentication yet, so the"
	note "NOTE: rest runs on a copy of $CONF with auth.methods = [ \"none\" ]"
	runconf=$T/sockeye.conf
	sed 's/^\([[:space:]]*methods[[:space:]]*=[[:space:]]*\)\[ "password" \]/\1[ "none" ]/' \
	    "$CONF" >"$runconf"
	grep -q 'methods = \[ "none" \]' "$runconf" || error "could not rewrite auth.methods in a copy of $CONF"
	chmod 0644 "$runconf"
	out=$(/usr/sbin/sockeyed -t -f "$runconf" 2>&1) ||
		fail "sockeyed -t rejects the packaged config even with methods none: $out"
	note "with auth.methods = [ \"none\" ]: $out"
else
	fail "sockeyed -t -f $CONF: $out"
fi

# --- 6. run it -----------------------------------------------------------------------------

if [ "$mode" = password ]; then
	step "sockeye-passwd add $TEST_USER"
	command -v sockeye-passwd >/dev/null ||
		fail "the config needs password auth, but the package has no sockeye-passwd"
	printf '%s\n' "$TEST_PASS" | sockeye-passwd -f "$USERS" add "$TEST_USER" ||
		fail "sockeye-passwd add $TEST_USER failed"
	sockeye-passwd -f "$USERS" list | grep -qw "$TEST_USER" ||
		fail "sockeye-passwd list does not show $TEST_USER"
	st=$(stat -c '%a %U:%G' "$USERS")
	[ "$st" = "640 root:sockeye" ] || fail "after sockeye-passwd add, $USERS is $st (want 640 root:sockeye)"
	/usr/sbin/sockeyed -t -f "$CONF" >/dev/null 2>&1 || fail "sockeyed -t fails once a user is added"
	note "$USERS: $(wc -l <"$USERS") line(s), $st"
fi

step "local HTTP server, syslog catcher"
python3 "$srcdir/tests/helpers/testserver.py" http --port-file "$T/http.port" \
    --body "$BODY" 2>"$T/http.log" &
http_pid=$!
# The packaged config logs to syslog. Where nothing listens on /dev/log
# (a container without a syslog daemon), catch the lines for the checks.
if [ ! -e /dev/log ]; then
	python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
os.chmod("/dev/log", 0o666)
with open(sys.argv[1], "ab", buffering=0) as f:
    while True:
        f.write(s.recv(65536).rstrip(b"\n") + b"\n")
' "$T/syslog" &
	syslog_pid=$!
	made_devlog=1
fi
for _ in $(seq 50); do
	[ -s "$T/http.port" ] && { [ "$made_devlog" = 0 ] || [ -S /dev/log ]; } && break
	sleep 0.1
done
[ -s "$T/http.port" ] || error "the HTTP server did not start: $(cat "$T/http.log")"
hport=$(cat "$T/http.port")
note "HTTP server on 127.0.0.1:$hport${syslog_pid:+, syslog lines to a file}"

# The packaged rules deny loopback (and link-local, and 0.0.0.0/8 and
# ::): the test server on loopback is opened for this run only, in a
# copy, by one allow rule for its port put before them, as the comment in
# the packaged config shows. Everything else on loopback stays denied
# (checked below).
grep -q '^access = ($' "$runconf" || fail "$CONF has no top-level access rules"
sed "/^access = (\$/a\\
	{ action = \"allow\"; to = [ \"127.0.0.1\", \"::1\" ]; ports = [ \"$hport\" ]; commands = [ \"connect\" ]; }," \
    "$runconf" >"$T/run.conf"
grep -q "ports = \[ \"$hport\" \]" "$T/run.conf" || error "could not add the test server's rule to a copy of $runconf"
chmod 0644 "$T/run.conf"
runconf=$T/run.conf
out=$(/usr/sbin/sockeyed -t -f "$runconf" 2>&1) ||
	fail "sockeyed -t rejects the packaged config with one allow rule added: $out"
note "loopback port $hport opened in a copy of the config: $out"

step "start the packaged sockeyed as the unit does"
# The unit's CapabilityBoundingSet, as setpriv(1) takes it.
caps=$(unit_val CapabilityBoundingSet | tr 'A-Z' 'a-z' | sed 's/cap_//g; s/ \{1,\}/,+/g; s/^/-all,+/')
cmd=(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin)
if command -v setpriv >/dev/null 2>&1; then
	cmd+=(setpriv --bounding-set "$caps" --no-new-privs)
	note "capability bounding set $caps, no new privileges"
else
	note "setpriv not found: running with full capabilities"
fi
if command -v strace >/dev/null 2>&1; then
	cmd+=(strace -f -qq -o "$T/strace")
	note "under strace -f, to check the system call filter"
fi
cmd+=(/usr/sbin/sockeyed -F -f "$runconf")
(cd / && exec "${cmd[@]}") </dev/null >"$T/daemon.out" 2>&1 &
launcher_pid=$!
for _ in $(seq 100); do
	port_open 127.0.0.1 1080 && break
	kill -0 "$launcher_pid" 2>/dev/null || break
	sleep 0.1
done
port_open 127.0.0.1 1080 || {
	cat "$T/daemon.out" "$T/syslog" 2>/dev/null
	fail "sockeyed is not listening on 127.0.0.1:1080"
}
# The master: the launcher itself, or the sockeyed that strace started.
master_pid=$launcher_pid
for _ in $(seq 20); do
	[ "$(cat /proc/$master_pid/comm 2>/dev/null)" = sockeyed ] && break
	c=$(pgrep -P "$master_pid" | head -n 1)
	[ -n "$c" ] && master_pid=$c
done
[ "$(cat /proc/$master_pid/comm 2>/dev/null)" = sockeyed ] || error "cannot find the master process"
workers=$(pgrep -P "$master_pid" | wc -l)
[ "$workers" -ge 1 ] || fail "the master has no workers"
[ "$(ps -o user= -p "$master_pid")" = root ] || fail "the master does not run as root"
for w in $(pgrep -P "$master_pid"); do
	u=$(ps -o user=,group= -p "$w" | tr -s ' ')
	[ "$u" = "sockeye sockeye" ] || fail "worker $w runs as '$u', not sockeye:sockeye"
done
note "master pid $master_pid (root), $workers worker(s) as sockeye:sockeye"

step "curl through the proxy"
url=http://localhost:$hport/
if [ "$mode" = password ]; then
	cred="$TEST_USER:$TEST_PASS@"
	# Refused by the proxy: curl's 97, "proxy handshake error" (not 5, a
	# bad proxy URL, nor 7, no connection).
	curl -sS --max-time 10 --socks5-hostname "127.0.0.1:1080" "$url" >/dev/null 2>"$T/curl.err"
	rc=$?
	[ $rc -eq 97 ] || fail "curl without credentials: exit $rc, want 97: $(cat "$T/curl.err")"
	curl -sS --max-time 10 --socks5-hostname "$TEST_USER:wrong@127.0.0.1:1080" "$url" >/dev/null 2>"$T/curl.err"
	rc=$?
	[ $rc -eq 97 ] || fail "curl with a wrong password: exit $rc, want 97: $(cat "$T/curl.err")"
	note "refused (curl exit 97): no credentials; a wrong password"
else
	cred=""
fi
got=$(curl -sS --max-time 10 --socks5-hostname "${cred}127.0.0.1:1080" "$url") ||
	fail "curl --socks5-hostname ${cred:+$TEST_USER:***@}127.0.0.1:1080 $url failed"
[ "$got" = "$BODY" ] || fail "curl through 127.0.0.1:1080 got '$got'"
note "curl --socks5-hostname ${cred:+$TEST_USER:***@}127.0.0.1:1080 $url: OK"
# The rest of loopback is still denied by the packaged rules: the
# proxy's own port through the proxy gets REP 2 (curl's 97), not a
# connection.
curl -sS --max-time 10 --socks5-hostname "${cred}127.0.0.1:1080" \
    "http://127.0.0.1:1080/" >/dev/null 2>"$T/curl.err"
rc=$?
[ $rc -eq 97 ] || fail "curl to 127.0.0.1:1080 through the proxy: exit $rc, want 97 (denied): $(cat "$T/curl.err")"
curl -sS --max-time 10 --socks5-hostname "${cred}127.0.0.1:1080" \
    "http://0.0.0.0:$hport/" >/dev/null 2>"$T/curl.err"
rc=$?
[ $rc -eq 97 ] || fail "curl to 0.0.0.0:$hport through the proxy: exit $rc, want 97 (denied): $(cat "$T/curl.err")"
note "denied by the packaged rules (curl exit 97): 127.0.0.1:1080, 0.0.0.0:$hport"
if have_ipv6_lo; then
	got=$(curl -sS --max-time 10 --proxy "socks5h://${cred}[::1]:1080" "$url") ||
		fail "curl through [::1]:1080 failed"
	[ "$got" = "$BODY" ] || fail "curl through [::1]:1080 got '$got'"
	note "curl through [::1]:1080: OK"
fi
if [ -n "$syslog_pid" ]; then
	want="user=${cred:+$TEST_USER}"
	[ -n "$cred" ] || want="user=-"
	for _ in $(seq 30); do
		grep -q "access $want .*rep=0" "$T/syslog" 2>/dev/null && break
		sleep 0.1
	done
	grep "access " "$T/syslog" | sed 's/^/   syslog: /'
	grep -q "access $want .*rep=0" "$T/syslog" || fail "no access line with $want and rep=0 in syslog"
	grep -qF "$TEST_PASS" "$T/syslog" && fail "the password appears in the log"
fi

step "SIGTERM: master and workers gone within shutdown_timeout_s + 1 s"
kill -TERM "$master_pid"
for _ in $(seq $(( (shut_s + 1) * 10 ))); do
	kill -0 "$master_pid" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$master_pid" 2>/dev/null && fail "the master still runs $((shut_s + 1)) s after SIGTERM"
wait "$launcher_pid"
mrc=$?
launcher_pid=""
master_pid=""
[ $mrc -eq 0 ] || { cat "$T/daemon.out"; fail "sockeyed exited with status $mrc"; }
left=$(pgrep -u sockeye)
[ -z "$left" ] || fail "processes of user sockeye left: $left"
note "stopped, exit status 0"

# --- 7. the system call filter -----------------------------------------------------------

if [ -s "$T/strace" ] && command -v systemd-analyze >/dev/null 2>&1; then
	step "system calls vs SystemCallFilter=$(unit_val SystemCallFilter)"
	# expand GROUP...: the system calls a filter's groups allow.
	expand() {
		local g
		for g in "$@"; do
			case $g in
			@*) systemd-analyze syscall-filter "$g" | sed -n 's/^[[:space:]]\{1,\}\([@a-z0-9_-]*\)$/\1/p' |
			    while read -r m; do expand "$m"; done ;;
			*) echo "$g" ;;
			esac
		done
	}
	expand $(unit_val SystemCallFilter) | sort -u >"$T/allowed"
	sed -n 's/^[0-9]\{1,\} \{1,\}\([a-z0-9_]\{1,\}\)(.*/\1/p' "$T/strace" | sort -u >"$T/used"
	denied=$(comm -23 "$T/used" "$T/allowed")
	note "$(wc -l <"$T/used") distinct system calls used, $(wc -l <"$T/allowed") allowed"
	note "used: $(tr '\n' ' ' <"$T/used")"
	# The relay's zero-copy path must stay allowed even where this run
	# did not take it.
	for c in splice pipe2; do
		grep -qx "$c" "$T/allowed" || fail "the unit's SystemCallFilter refuses $c(2), which the relay uses"
	done
	if grep -qx splice "$T/used"; then
		note "splice(2) used, and allowed"
	else
		note "splice(2) not used by this run, but allowed"
	fi
	[ -z "$denied" ] || fail "system calls the unit's filter would refuse (EPERM): $denied"
	# And the socket families against RestrictAddressFamilies=.
	fams=$(sed -n 's/^[0-9]\{1,\} \{1,\}socket(\(AF_[A-Z0-9]*\),.*/\1/p' "$T/strace" | sort -u | tr '\n' ' ')
	for f in $fams; do
		unit_val RestrictAddressFamilies | tr ' ' '\n' | grep -qx "$f" ||
			fail "sockeyed opens $f sockets, which RestrictAddressFamilies= refuses"
	done
	note "socket families used: $fams(allowed: $(unit_val RestrictAddressFamilies))"
fi

# --- 8. reinstall, remove, purge ------------------------------------------------------------

step "dpkg -i again (as an upgrade would): the users file is kept"
before=$(stat -c '%a %U:%G' "$USERS") && before="$before $(sha256sum <"$USERS")"
dpkg -i "$deb" >"$T/dpkg-i2.log" 2>&1 || { cat "$T/dpkg-i2.log"; fail "dpkg -i over the installed package failed"; }
after=$(stat -c '%a %U:%G' "$USERS") && after="$after $(sha256sum <"$USERS")"
[ "$before" = "$after" ] || fail "reinstalling changed $USERS: '$before' -> '$after'"
/usr/sbin/sockeyed -t -f "$runconf" >/dev/null 2>&1 || fail "sockeyed -t fails after the reinstall"
note "$USERS unchanged (${after%% *}), config still OK"


step "dpkg -r"
dpkg -r sockeye >"$T/dpkg-r.log" 2>&1 || { cat "$T/dpkg-r.log"; fail "dpkg -r failed"; }
sed 's/^/   /' "$T/dpkg-r.log"
case $(pkg_status) in *config-files*) ;; *) fail "after dpkg -r the status is '$(pkg_status)'" ;; esac
[ -e /usr/sbin/sockeyed ] && fail "dpkg -r left /usr/sbin/sockeyed"
[ -f "$CONF" ] || fail "dpkg -r removed the conffile $CONF"
[ -f "$USERS" ] || fail "dpkg -r removed $USERS"
getent passwd sockeye >/dev/null || fail "dpkg -r removed user sockeye (only purge should)"
note "binaries gone; $CONF, $USERS and user sockeye kept"

step "dpkg -P"
dpkg -P sockeye >"$T/dpkg-p.log" 2>&1 || { cat "$T/dpkg-p.log"; fail "dpkg -P failed"; }
sed 's/^/   /' "$T/dpkg-p.log"
installed=0
case $(pkg_status) in *not-installed*) ;; *) fail "after dpkg -P the status is '$(pkg_status)'" ;; esac
left=""
while read -r p; do
	[ -e "$p" ] || [ -L "$p" ] || continue
	# Shared directories (/usr, /etc, /lib, ...) stay; nothing of ours may.
	if [ -d "$p" ]; then
		case $p in *sockeye*) ;; *) continue ;; esac
	fi
	left="$left $p"
done <"$T/files"
for p in /etc/sockeye /etc/systemd/system/multi-user.target.wants/sockeye.service \
    /var/lib/systemd/deb-systemd-helper-enabled/sockeye.service.dsh-also \
    /var/lib/systemd/deb-systemd-helper-enabled/multi-user.target.wants/sockeye.service; do
	{ [ -e "$p" ] || [ -L "$p" ]; } && left="$left $p"
done
[ -z "$left" ] || fail "left behind after purge:$left"
getent passwd sockeye >/dev/null && fail "user sockeye still exists after purge"
getent group sockeye >/dev/null && fail "group sockeye still exists after purge"
note "nothing left: files, /etc/sockeye, unit links, user and group all gone"

total_time
if [ "$mode" = none ]; then
	echo "PASS: $TEST_NAME (the daemon ran with auth.methods = [ \"none\" ]: no password auth in this build yet)"
else
	echo "PASS: $TEST_NAME"
fi
exit 0
