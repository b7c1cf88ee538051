#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/package/systemd.sh - the packaged unit under a real systemd, in a
# container: a Debian tree (debootstrap --variant=minbase, with systemd,
# dbus, python3-minimal and the package's dependencies) booted with
# systemd-nspawn on a private network (loopback only), driven from here
# with nsenter.
#
#  1. dpkg -i the .deb in the container: the unit is enabled and started;
#  2. a user, and loopback echo servers opened in a copy of the rules;
#     `systemctl start sockeye`: active (running), its status text set
#     (Type=notify: systemd waited for READY=1); a CONNECT through it with
#     sockeye-connect and a password;
#  3. the sandboxing: systemd read every line of the unit, `systemctl
#     show` has the directives, `systemd-analyze security` gives a score
#     (printed as "systemd-analyze security: X.Y") that systemd calls OK
#     or better, and the processes have it: no new privileges, a seccomp
#     filter, the capability bounding set, a read-only /etc and /usr, a
#     private /tmp, no /root;
#  4. `systemctl reload` with a broken config: refused by ExecReload's
#     `sockeyed -t`, the unit stays active, the same generation serves;
#     then a good reload: a new generation, the new rules in force;
#  5. `systemctl stop` with a session open: the listeners close, the
#     session's data still flows to its end, the unit ends inactive with
#     result success, within shutdown_timeout_s + 1 s.
#
# The .deb is the one deb.sh built (pkg-out/deb/, when it is newer than
# the sources), else `make deb` builds it (without the test suite unless
# DEB_BUILD_OPTIONS says otherwise). debootstrap takes its mirror from
# this machine's apt sources (the first `deb` source of this release's
# suite, /etc/apt/sources.list and sources.list.d/, one-line or deb822),
# so it needs the network; it is most of the test's time (65 to 95 s on
# 2 shared CPUs; booting, the checks and the power-off take about 15 s,
# a build of the .deb 30 to 55 s more). Nothing is installed on this machine: the tree (about
# 260 MB) lives under /var/tmp and is removed on the way out, with the
# container and the cgroups nspawn made, also when the test fails.
#
# Exit: 0 pass, 1 fail, 77 skip (not root, tool missing, no apt source
# or mirror unreachable, no namespaces or cgroups for a container here),
# 99 error.

if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
. "$(dirname "$0")/lib.sh"

PROXY=127.0.0.1:1080
ECHO_PORT=7001		# allowed from the start
NEW_PORT=7002		# allowed by the reloaded config only
TICK_PORT=7003		# a slow server for the drain on stop
TICKS=10		# lines the slow server sends, one every TICK_S
TICK_S=0.4
TEST_USER=ci-user
TEST_PASS="Correct-Horse-$$"
CONF=/etc/sockeye/sockeye.conf

work=""
nspawn_pid=""
cpid=""
bg_pids=""
new_cgroups=""
had_nspawn_run=1

# cg_dirs: this process's cgroup in the hierarchies systemd-nspawn uses
# (cgroup2, and the name=systemd v1 one on a hybrid or legacy setup).
cg_dirs() {
	local mp path
	mp=$(awk '{ for (i = 7; $i != "-"; i++) ; if ($(i + 1) == "cgroup2") { print $5; exit } }' /proc/self/mountinfo)
	path=$(sed -n 's/^0:://p' /proc/self/cgroup)
	[ -n "$mp" ] && [ -n "$path" ] && echo "$mp${path%/}"
	mp=$(awk '{ for (i = 7; $i != "-"; i++) ; if ($(i + 1) == "cgroup" && $(i + 3) ~ /(^|,)name=systemd(,|$)/) { print $5; exit } }' /proc/self/mountinfo)
	path=$(sed -n 's/^[0-9]*:name=systemd://p' /proc/self/cgroup)
	[ -n "$mp" ] && [ -n "$path" ] && echo "$mp${path%/}"
}

stop_container() {

	[ -n "$nspawn_pid" ] || return 0
	# SIGTERM to nspawn powers the booted container off (SIGRTMIN+3 to
	# its systemd); then SIGKILL to its init, which ends every process
	# in it, and to nspawn.
	kill -TERM "$nspawn_pid" 2>/dev/null
	for _ in $(seq 150); do
		kill -0 "$nspawn_pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$nspawn_pid" 2>/dev/null; then
		echo "# the container did not power off within 15 s: killing it"
		[ -n "$cpid" ] && kill -KILL "$cpid" 2>/dev/null
		kill -KILL "$nspawn_pid" 2>/dev/null
		for _ in $(seq 50); do
			kill -0 "$nspawn_pid" 2>/dev/null || break
			sleep 0.1
		done
	fi
	wait "$nspawn_pid" 2>/dev/null
	nspawn_pid=""
	cpid=""
}

cleanup() {
	local rc=$? p d
	set +e
	trap - EXIT INT TERM HUP
	step_end
	for p in $bg_pids; do kill -KILL "$p" 2>/dev/null; done
	stop_container
	for p in $bg_pids; do wait "$p" 2>/dev/null; done
	# What nspawn --keep-unit made below this process's cgroup, and its
	# state directory in /run, when it was not there before.
	for d in $new_cgroups; do
		[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	if [ "$had_nspawn_run" = 0 ] && [ -d /run/systemd/nspawn ]; then
		find /run/systemd/nspawn -depth -type d -empty -delete 2>/dev/null
	fi
	if [ -n "$work" ] && [ -d "$work" ]; then
		# An interrupted debootstrap leaves its /proc and /sys there.
		awk -v w="$work/" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo |
		    sort -r | while read -r d; do umount -l "$d"; done
		if grep -qF " $work/" /proc/self/mountinfo; then
			echo "# something is still mounted under $work: left in place" >&2
		else
			rm -rf --one-file-system "$work"
		fi
	fi
	rm -rf "$T"
	exit $rc
}
trap cleanup EXIT
trap 'exit 99' INT TERM HUP

[ "$(id -u)" = 0 ] || skip "needs root: debootstrap and systemd-nspawn"
command -v debootstrap >/dev/null 2>&1 ||
	skip "debootstrap not found (Debian: apt-get install debootstrap)"
command -v systemd-nspawn >/dev/null 2>&1 ||
	skip "systemd-nspawn not found (Debian: apt-get install systemd-container)"
need nsenter unshare timeout pgrep dpkg-deb awk

# --- 0. can a container run here? ----------------------------------------------

step "preconditions: namespaces, cgroups, an apt source"
capeff=$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status)
(( (16#$capeff >> 21) & 1 )) ||
	skip "no CAP_SYS_ADMIN here (CapEff $capeff): systemd-nspawn cannot set up a container"
if ! err=$(unshare --mount --uts --ipc --net --pid --fork true 2>&1); then
	skip "cannot create mount, UTS, IPC, network and PID namespaces here (unshare: $err)"
fi
cgs=$(cg_dirs)
[ -n "$cgs" ] ||
	skip "no cgroup hierarchy for systemd here (neither cgroup2 nor a name=systemd v1 hierarchy is mounted)"
for d in $cgs; do
	if ! err=$(mkdir "$d/sockeye-probe.$$" 2>&1); then
		skip "cannot create a cgroup under $d (${err##*: }): systemd-nspawn --keep-unit puts the container in one there"
	fi
	rmdir "$d/sockeye-probe.$$"
	for sub in payload supervisor; do
		[ -e "$d/$sub" ] || new_cgroups="$new_cgroups $d/$sub"
	done
done
[ -d /run/systemd/nspawn ] || had_nspawn_run=0
note "CAP_SYS_ADMIN, namespaces, cgroups: ${cgs//$'\n'/ }"

# This machine's release: the tree must be the same one, for the .deb
# built here to find its libraries there.
suite=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
[ -n "$suite" ] || skip "no VERSION_CODENAME in /etc/os-release: which Debian release is this?"
[ -e "/usr/share/debootstrap/scripts/$suite" ] || skip "debootstrap does not know $suite"

# apt_mirrors SUITE: the http(s) URIs of the enabled `deb` sources that
# serve SUITE, in apt's order of the files.
apt_mirrors() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk -v s="$1" '{ sub(/#.*/, "") }
		$1 == "deb" {
			i = 2
			if ($2 ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; i++ }
			if ($(i + 1) == s && $i ~ /^https?:\/\//) print $i
		}' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk -v s="$1" '
		function flush() {
			if (types ~ / deb / && enabled != "no" && suites ~ (" " s " "))
				for (j = 1; j <= n; j++) if (uri[j] ~ /^https?:\/\//) print uri[j]
			types = suites = enabled = ""; n = 0
		}
		BEGIN { n = 0 }
		/^[ \t]*#/ { next }
		/^[ \t]*$/ { flush(); next }
		{ k = tolower($1) }
		k == "types:" { types = " "; for (j = 2; j <= NF; j++) types = types $j " " }
		k == "suites:" { suites = " "; for (j = 2; j <= NF; j++) suites = suites $j " " }
		k == "enabled:" { enabled = tolower($2) }
		k == "uris:" { n = 0; for (j = 2; j <= NF; j++) uri[++n] = $j }
		END { flush() }' "$f"
	done
}
mirror=$(apt_mirrors "$suite" | head -n 1)
[ -n "$mirror" ] ||
	skip "no http(s) apt source for $suite in /etc/apt/sources.list or sources.list.d: no mirror for debootstrap"
mirror=${mirror%/}
if command -v wget >/dev/null 2>&1; then
	wget -q -T 20 -t 2 -O /dev/null "$mirror/dists/$suite/Release" ||
		skip "the apt source $mirror does not answer for dists/$suite/Release: debootstrap needs it"
fi
note "suite $suite from $mirror (this machine's apt sources)"

# --- 1. the package ---------------------------------------------------------------

step "the .deb"
out=$builddir/pkg-out/deb
deb=$(ls -t "$out"/sockeye_*.deb 2>/dev/null | head -n 1)
if [ -n "$deb" ]; then
	newer=$(cd "$srcdir" && find configure.ac Makefile.am src auth conf man packaging \
	    -type f \( -name '*.[ch]' -o -name '*.in' -o -name '*.a[cm]' -o -name '*.conf' \
	    -o -name '*.[158]' -o -path 'packaging/debian/*' \) -newer "$deb" 2>/dev/null | head -n 1)
	if [ -n "$newer" ]; then
		note "$(basename "$deb") is older than $newer: building again"
		deb=""
	else
		note "reusing $(basename "$deb") from pkg-out/deb/ (what deb.sh built)"
	fi
fi
if [ -z "$deb" ]; then
	need dpkg-buildpackage dh
	note "make deb (${DEB_BUILD_OPTIONS-nocheck})"
	if ! (cd "$builddir" && DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS-nocheck} \
	    DEB_BUILD_PROFILES=${DEB_BUILD_PROFILES-nocheck} $MAKE deb) >"$T/build.log" 2>&1; then
		tail -n 60 "$T/build.log"
		fail "make deb failed (the log's end is above)"
	fi
	deb=$(ls -t "$out"/sockeye_*.deb 2>/dev/null | head -n 1)
	[ -f "$deb" ] || fail "make deb left no sockeye_*.deb in $out"
fi
# Its dependencies go into the tree with debootstrap (no apt in the
# container afterwards): the first of each set of alternatives.
deps=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' |
    sed 's/|.*//; s/(.*)//; s/:any//; s/[[:space:]]//g' | grep -v '^$' | tr '\n' ',')
note "$(basename "$deb"): Depends: ${deps%,}"

# --- 2. the tree ----------------------------------------------------------------------

step "debootstrap --variant=minbase $suite"
work=$(mktemp -d /var/tmp/sockeye-systemd.XXXXXX) || error "mktemp in /var/tmp failed"
tree=$work/tree
include="systemd,systemd-sysv,dbus,python3-minimal,${deps%,}"
note "--include=$include"
if ! debootstrap --variant=minbase --include="$include" "$suite" "$tree" "$mirror" \
    >"$T/debootstrap.log" 2>&1; then
	tail -n 30 "$T/debootstrap.log"
	[ -f "$tree/debootstrap/debootstrap.log" ] && tail -n 30 "$tree/debootstrap/debootstrap.log"
	fail "debootstrap failed (the ends of its logs are above)"
fi
note "$(du -sh "$tree" | cut -f1) in $(find "$tree" -type f | wc -l) files"

# What runs in the container: an echo server (sends back what a client
# sends, closes after the client's end of file) and a slow one (TICKS
# lines, TICK_S apart, whatever the client does), a process a connection.
cat >"$tree/root/sockeye-test-srv.py" <<'EOF'
import os, signal, socket, sys, time
mode, port = sys.argv[1], int(sys.argv[2])
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(16)
while True:
    c, _ = s.accept()
    if os.fork() == 0:
        s.close()
        if mode == "echo":
            while True:
                d = c.recv(65536)
                if not d:
                    break
                c.sendall(d)
        else:
            n, gap = int(sys.argv[3]), float(sys.argv[4])
            for i in range(1, n + 1):
                c.sendall(b"tick %d\n" % i)
                time.sleep(gap)
        c.close()
        os._exit(0)
    c.close()
EOF
# /tmp in the container is its own tmpfs: the package goes to /root.
cp "$deb" "$tree/root/" || error "cannot copy $deb into the tree"

# --- 3. boot ------------------------------------------------------------------------------

step "systemd-nspawn --boot (private network)"
# --keep-unit: no scope unit from the host's systemd (there may be none);
# --register=no: no systemd-machined either.
systemd-nspawn --register=no --keep-unit --private-network \
    --console=read-only --machine=sockeye-ci -D "$tree" --boot \
    </dev/null >"$T/boot.log" 2>&1 &
nspawn_pid=$!

# boot_failed WHY: nspawn's last words, then skip when they name a limit
# of this machine, fail otherwise.
boot_failed() {
	echo "--- systemd-nspawn's output:" >&2
	tail -n 40 "$T/boot.log" >&2
	env_err=$(grep -E -m 1 'Operation not permitted|Permission denied|Read-only file system|Failed to (allocate|create|mount|set up).*(cgroup|namespace)|cgroup.*(not supported|Invalid argument)|Failed to (mount|set up) (cgroup|/sys)' "$T/boot.log")
	[ -n "$env_err" ] && skip "the container cannot boot here: $1; systemd-nspawn: $env_err"
	fail "the container did not boot: $1 (systemd-nspawn's output above)"
}

for _ in $(seq 200); do
	kill -0 "$nspawn_pid" 2>/dev/null || break
	for p in $(pgrep -P "$nspawn_pid"); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = systemd ] && cpid=$p
	done
	[ -n "$cpid" ] && break
	sleep 0.1
done
[ -n "$cpid" ] || boot_failed "no systemd in the container after 20 s"

# n CMD...: run CMD in the container (all its namespaces), with a clean
# environment, killed after NT seconds (30 by default).
n() {
	local t=${NT:-30}
	timeout $((t + 5)) nsenter -t "$cpid" -a -- env -i \
	    PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C SYSTEMD_PAGER= SYSTEMD_COLORS=0 \
	    timeout "$t" "$@"
}

state=""
for _ in $(seq 180); do
	kill -0 "$nspawn_pid" 2>/dev/null || boot_failed "systemd-nspawn exited"
	state=$(NT=5 n systemctl is-system-running 2>/dev/null)
	case $state in running|degraded) break ;; esac
	sleep 0.5
done
case $state in
running) ;;
degraded)
	note "the container is degraded; failed units:"
	NT=10 n systemctl --failed --no-legend | sed 's/^/   /' ;;
*) boot_failed "is-system-running still '${state:-no answer}' after 90 s" ;;
esac
note "container's systemd: host pid $cpid, $(NT=5 n systemctl --version | head -n 1), is-system-running: $state"

# On a failure from here on: the unit's status and journal first.
cfail() {
	echo "--- systemctl status sockeye; journalctl -u sockeye:" >&2
	NT=10 n systemctl status --no-pager -l sockeye >&2
	NT=10 n journalctl --no-pager -o short -n 40 -u sockeye >&2
	fail "$@"
}
show() { NT=10 n systemctl show -P "$1" sockeye.service; }
# via_proxy PORT: what comes back through the proxy from 127.0.0.1:PORT
# for one line of input; sockeye-connect's status is the function's.
via_proxy() {
	printf 'hello %s via sockeye\n' "$1" |
	    NT=15 n env SOCKEYE_PASSWORD="$TEST_PASS" sockeye-connect -a password \
	    -u "$TEST_USER" "$PROXY" 127.0.0.1 "$1" 2>"$T/connect.err"
}
expect_echo() {
	local got
	got=$(via_proxy "$1") || cfail "$2: sockeye-connect to 127.0.0.1:$1 through $PROXY failed (exit $?): $(cat "$T/connect.err")"
	[ "$got" = "hello $1 via sockeye" ] || cfail "$2: 127.0.0.1:$1 through $PROXY answered '$got'"
}
# port_open PORT: something in the container accepts on 127.0.0.1:PORT.
port_open() { NT=5 n bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# --- 4. install -----------------------------------------------------------------------------

step "dpkg -i in the container"
NT=120 n dpkg -i "/root/$(basename "$deb")" >"$T/dpkg.log" 2>&1 ||
	{ cat "$T/dpkg.log"; fail "dpkg -i in the container failed"; }
sed 's/^/   /' "$T/dpkg.log"
[ "$(NT=10 n systemctl is-enabled sockeye)" = enabled ] || cfail "the package did not enable sockeye.service"
[ "$(NT=10 n systemctl is-active sockeye)" = active ] || cfail "the package did not start sockeye.service"
note "enabled and started by the package; stopping it to configure"
NT=60 n systemctl stop sockeye || cfail "systemctl stop sockeye (after the install) failed"

# systemd's verdict on each line of the unit, with the real paths.
unit_warn=$(NT=10 n journalctl -b --no-pager -o cat _PID=1 | grep -E 'sockeye\.service:[0-9]+:')
[ -z "$unit_warn" ] || cfail "systemd ignored lines of the unit: $unit_warn"
NT=30 n systemd-analyze verify --man=no sockeye.service >"$T/verify" 2>&1 ||
	{ cat "$T/verify"; cfail "systemd-analyze verify sockeye.service"; }
note "systemd parsed every line of the unit; systemd-analyze verify: OK"

# --- 5. start ---------------------------------------------------------------------------------

step "configure: a user, the test servers' ports opened"
printf '%s\n' "$TEST_PASS" | NT=30 n sockeye-passwd -f /etc/sockeye/users add "$TEST_USER" >/dev/null ||
	fail "sockeye-passwd add $TEST_USER in the container failed"
# As deb.sh does: the packaged rules deny loopback; one allow rule before
# them opens the test servers' ports (in the container, nothing else
# listens there).
conf=$tree$CONF
cp -p "$conf" "$T/packaged.conf"
sed "/^access = (\$/a\\
	{ action = \"allow\"; to = [ \"127.0.0.1\" ]; ports = [ \"$ECHO_PORT\", \"$TICK_PORT\" ]; commands = [ \"connect\" ]; }," \
    "$T/packaged.conf" >"$conf"
grep -q "ports = \[ \"$ECHO_PORT\", \"$TICK_PORT\" \]" "$conf" || error "could not add the test rule to $CONF"
NT=30 n sockeyed -t -f "$CONF" >"$T/t.out" 2>&1 || { cat "$T/t.out"; fail "sockeyed -t rejects the test config"; }
for srv in "echo $ECHO_PORT" "echo $NEW_PORT" "tick $TICK_PORT $TICKS $TICK_S"; do
	set -- $srv
	NT=10 n systemd-run --quiet --unit="sockeye-test-$1-$2" python3 /root/sockeye-test-srv.py $srv ||
		fail "systemd-run of the $1 server on port $2 failed"
done
for p in $ECHO_PORT $NEW_PORT $TICK_PORT; do
	for _ in $(seq 50); do port_open "$p" && break; sleep 0.1; done
	port_open "$p" || fail "the test server on 127.0.0.1:$p in the container does not answer"
done
note "user $TEST_USER; echo servers on $ECHO_PORT and $NEW_PORT, a slow one on $TICK_PORT; rule for $ECHO_PORT and $TICK_PORT"

step "systemctl start sockeye"
NT=60 n systemctl start sockeye || cfail "systemctl start sockeye failed"
[ "$(NT=10 n systemctl is-active sockeye)" = active ] || cfail "sockeye is not active after systemctl start"
st="$(show ActiveState)/$(show SubState)"
[ "$st" = active/running ] || cfail "after start: $st, want active/running"
status=$(show StatusText)
case $status in serving*) ;; *) cfail "the status text is '$status': sockeyed did not say it serves (sd_notify)" ;; esac
main=$(show MainPID)
[ "${main:-0}" -gt 0 ] || cfail "no MainPID"
NT=10 n systemctl status --no-pager sockeye | sed -n '1,/CGroup:/p' | sed 's/^/   /'
note "active (running), Type=$(show Type), MainPID $main, status: $status"

step "CONNECT through the unit's daemon"
expect_echo "$ECHO_PORT" "after start"
note "127.0.0.1:$ECHO_PORT through $PROXY with password: echoed"
via_proxy "$NEW_PORT" >/dev/null
rc=$?
[ $rc -eq 4 ] || cfail "127.0.0.1:$NEW_PORT (no rule) through the proxy: sockeye-connect exit $rc, want 4 (refused): $(cat "$T/connect.err")"
note "127.0.0.1:$NEW_PORT refused by the rules: $(cat "$T/connect.err")"

# --- 6. sandboxing ------------------------------------------------------------------------------

step "sandboxing"
NT=60 n systemd-analyze security --no-pager sockeye.service >"$T/security" 2>&1 ||
	{ cat "$T/security"; cfail "systemd-analyze security sockeye.service failed"; }
line=$(grep 'Overall exposure level for sockeye.service' "$T/security")
score=$(sed -n 's/.*sockeye\.service: *\([0-9.]*\) .*/\1/p' <<<"$line")
verdict=$(sed -n 's/.*sockeye\.service: *[0-9.]* \([A-Z]*\).*/\1/p' <<<"$line")
[ -n "$score" ] || { cat "$T/security"; cfail "no exposure level in systemd-analyze security's output"; }
# What counts against it (marked ✗, or - in the C locale), with its share.
grep -E '^(✗|-) ' "$T/security" | awk '{ print "   exposure: " $2 " " $NF }'
echo "systemd-analyze security: $score ($verdict)"
case $verdict in SAFE|OK) ;; *) cfail "systemd-analyze security rates the unit $score $verdict (want OK or SAFE)" ;; esac

# Each sandboxing directive with a plain value, as systemd has it.
unit=$(NT=10 n systemctl cat sockeye.service) || cfail "systemctl cat sockeye.service"
checked=""
for key in NoNewPrivileges ProtectSystem ProtectHome PrivateTmp PrivateDevices \
    ProtectKernelTunables ProtectKernelModules ProtectKernelLogs ProtectControlGroups \
    ProtectClock ProtectHostname ProtectProc RestrictNamespaces RestrictRealtime \
    RestrictSUIDSGID LockPersonality MemoryDenyWriteExecute RestrictAddressFamilies \
    SystemCallArchitectures UMask KillMode; do
	want=$(sed -n "s/^$key=//p" <<<"$unit" | tail -n 1)
	[ -n "$want" ] || continue
	got=$(show "$key")
	case $key in UMask) want=$(printf '%04o' "$((8#$want))") ;; esac
	[ "$got" = "$want" ] || cfail "$key=$want in the unit, but systemctl show says $key=$got"
	checked="$checked $key=$got"
done
[ -n "$checked" ] || cfail "the unit sets none of the sandboxing directives"
note "in force:$checked"

# The processes themselves: the master (root) and its workers.
proc_field() { NT=10 n sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status"; }
[ "$(proc_field "$main" NoNewPrivs)" = 1 ] || cfail "the master has NoNewPrivs $(proc_field "$main" NoNewPrivs)"
[ "$(proc_field "$main" Seccomp)" = 2 ] || cfail "the master has no seccomp filter (Seccomp $(proc_field "$main" Seccomp))"
names=$(show CapabilityBoundingSet)
mask=0
while read -r _ num; do
	case $num in [0-9]*) mask=$(( mask | (1 << num) )) ;; esac
done < <(NT=10 n systemd-analyze capability $names)
bnd=$(proc_field "$main" CapBnd)
[ $((16#$bnd)) -eq $mask ] ||
	cfail "the master's capability bounding set is $bnd, want $(printf %016x $mask) ($names)"
sockeye_uid=$(NT=10 n id -u sockeye)
workers=$(NT=10 n bash -c 'for d in /proc/[0-9]*; do read -r _ _ _ pp _ <"$d/stat" 2>/dev/null && [ "$pp" = "$1" ] && echo "${d#/proc/}"; done' _ "$main")
[ -n "$workers" ] || cfail "the master has no workers"
for w in $workers; do
	uids=$(proc_field "$w" Uid | tr -s '\t ' ' ')
	[ "$uids" = "$sockeye_uid $sockeye_uid $sockeye_uid $sockeye_uid" ] || cfail "worker $w runs with uids $uids, not sockeye ($sockeye_uid)"
	[ $((16#$(proc_field "$w" CapEff))) -eq 0 ] || cfail "worker $w has capabilities $(proc_field "$w" CapEff)"
	[ "$(proc_field "$w" Seccomp)" = 2 ] || cfail "worker $w has no seccomp filter"
done
note "master $main: NoNewPrivs 1, Seccomp 2, CapBnd $bnd ($names); workers ${workers//$'\n'/ }: uid sockeye, no capabilities, Seccomp 2"
# Its view of the file system: nsenter into the master's mount namespace.
in_unit() { NT=10 n nsenter -t "$main" -m -- sh -c "$1" 2>&1; }
for p in /etc/sockeye/.probe /usr/.probe; do
	out=$(in_unit "touch $p") && { in_unit "rm -f $p"; cfail "the unit can write $p (ProtectSystem=)"; }
	grep -q 'Read-only file system' <<<"$out" || cfail "touch $p in the unit: '$out', want a read-only file system"
done
in_unit "echo x >/tmp/sockeye-probe.$$" >/dev/null || cfail "the unit cannot write its /tmp"
[ -e "$tree/tmp/sockeye-probe.$$" ] && cfail "the unit's /tmp is the container's (PrivateTmp=)"
NT=10 n test -e "/tmp/sockeye-probe.$$" && cfail "the unit's /tmp is the container's (PrivateTmp=)"
in_unit "rm -f /tmp/sockeye-probe.$$"
out=$(in_unit "if test -e /root/sockeye-test-srv.py; then echo seen; else echo hidden; fi")
[ "$out" = hidden ] || cfail "the unit's /root: '$out', want it hidden (ProtectHome=)"
note "the unit's file system: /etc and /usr read-only, /tmp its own, /root hidden"

# --- 7. reload ----------------------------------------------------------------------------------

step "systemctl reload with a broken config: refused"
gen() { show StatusText | sed -n 's/.*generation \([0-9]*\).*/\1/p'; }
gen0=$(gen)
cp -p "$conf" "$T/good.conf"
printf 'this line is not libconfig\n' >>"$conf"
if NT=30 n systemctl reload sockeye >"$T/reload.out" 2>&1; then
	cfail "systemctl reload succeeded with a broken config"
fi
for _ in $(seq 50); do
	NT=10 n journalctl --no-pager -o cat -n 20 -u sockeye >"$T/journal"
	grep -q "^$CONF:[0-9]*:" "$T/journal" && break
	sleep 0.1
done
grep -q "^$CONF:[0-9]*:" "$T/journal" || cfail "no $CONF:LINE error from ExecReload's sockeyed -t in the journal"
[ "$(NT=10 n systemctl is-active sockeye)" = active ] || cfail "after the refused reload the unit is not active"
[ "$(show MainPID)" = "$main" ] || cfail "after the refused reload the main pid is $(show MainPID), not $main"
[ "$(gen)" = "$gen0" ] || cfail "after the refused reload the generation is $(gen), not $gen0"
expect_echo "$ECHO_PORT" "after the refused reload"
note "refused: $(grep -m 1 "^$CONF:" "$T/journal"); still active, generation $gen0, main pid $main, serving"

step "systemctl reload with a good config (one more port open)"
sed "s/ports = \[ \"$ECHO_PORT\", \"$TICK_PORT\" \]/ports = [ \"$ECHO_PORT\", \"$NEW_PORT\", \"$TICK_PORT\" ]/" \
    "$T/good.conf" >"$conf"
grep -q "\"$NEW_PORT\"" "$conf" || error "could not open port $NEW_PORT in $CONF"
NT=30 n systemctl reload sockeye >"$T/reload.out" 2>&1 || { cat "$T/reload.out"; cfail "systemctl reload with a good config failed"; }
for _ in $(seq 100); do
	[ "$(gen)" = $((gen0 + 1)) ] && break
	sleep 0.1
done
[ "$(gen)" = $((gen0 + 1)) ] || cfail "10 s after the reload the status is '$(show StatusText)', want generation $((gen0 + 1))"
[ "$(NT=10 n systemctl is-active sockeye)" = active ] || cfail "after the reload the unit is not active"
[ "$(show MainPID)" = "$main" ] || cfail "the reload restarted the daemon (main pid $(show MainPID), was $main)"
expect_echo "$NEW_PORT" "after the reload"
expect_echo "$ECHO_PORT" "after the reload"
note "status: $(show StatusText); 127.0.0.1:$NEW_PORT now allowed; main pid $main"

# --- 8. stop ------------------------------------------------------------------------------------

step "systemctl stop with a session open: drained"
shut_s=$(sed -n 's/^[[:space:]]*shutdown_timeout_s[[:space:]]*=[[:space:]]*\([0-9]*\).*/\1/p' "$conf")
: "${shut_s:=30}"
NT=60 n env SOCKEYE_PASSWORD="$TEST_PASS" sockeye-connect -a password -u "$TEST_USER" \
    "$PROXY" 127.0.0.1 "$TICK_PORT" </dev/null >"$T/ticks" 2>"$T/ticks.err" &
tick_pid=$!
bg_pids="$bg_pids $tick_pid"
for _ in $(seq 100); do
	[ "$(wc -l <"$T/ticks")" -ge 2 ] && break
	sleep 0.1
done
[ "$(wc -l <"$T/ticks")" -ge 2 ] || cfail "the slow session through the proxy sent nothing in 10 s: $(cat "$T/ticks.err")"
t0=$(date +%s.%N)
NT=$((shut_s + 15)) n systemctl stop sockeye >"$T/stop.out" 2>&1 &
stop_pid=$!
bg_pids="$bg_pids $stop_pid"
at_stop=$(wc -l <"$T/ticks")
# The listeners close at once; the session goes on.
for _ in $(seq 30); do
	port_open 1080 || break
	sleep 0.1
done
port_open 1080 && cfail "3 s after systemctl stop, $PROXY still accepts connections"
kill -0 "$tick_pid" 2>/dev/null && closed="while the session went on" || closed="(after the session)"
for _ in $(seq $(( (shut_s + 1) * 10 ))); do
	kill -0 "$stop_pid" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$stop_pid" 2>/dev/null && cfail "systemctl stop still runs $((shut_s + 1)) s later"
wait "$stop_pid"
src=$?
took=$(_secs "$t0" "$(date +%s.%N)")
[ $src -eq 0 ] || { cat "$T/stop.out"; cfail "systemctl stop failed (exit $src)"; }
for _ in $(seq 50); do
	kill -0 "$tick_pid" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$tick_pid" 2>/dev/null && cfail "the session is still open 5 s after the daemon stopped"
wait "$tick_pid"
trc=$?
got=$(wc -l <"$T/ticks")
[ $trc -eq 0 ] || cfail "the session through the stopping proxy ended with sockeye-connect exit $trc: $(cat "$T/ticks.err")"
[ "$got" -eq "$TICKS" ] || cfail "the session got $got of $TICKS lines: the stop cut it ($at_stop when it began)"
[ "$at_stop" -lt "$TICKS" ] || error "the slow session ended before the stop began: no drain seen"
st="$(show ActiveState)/$(show Result)/$(show ExecMainStatus)"
[ "$st" = inactive/success/0 ] || cfail "after stop: ActiveState/Result/ExecMainStatus $st, want inactive/success/0"
for _ in $(seq 50); do
	NT=10 n journalctl --no-pager -o cat -n 30 -u sockeye >"$T/journal"
	grep -q "addr=127.0.0.1:$TICK_PORT .*end=closed" "$T/journal" && break
	sleep 0.1
done
grep "addr=127.0.0.1:$TICK_PORT" "$T/journal" | sed 's/^/   /'
grep -q "addr=127.0.0.1:$TICK_PORT .*end=closed" "$T/journal" ||
	cfail "no access line with end=closed for the drained session"
note "stopped in $took s (shutdown_timeout_s $shut_s): listeners closed $closed, $((TICKS - at_stop)) of $TICKS lines after the stop began, unit inactive, result success"

step "power the container off"
stop_container
total_time
echo "PASS: $TEST_NAME (systemd-analyze security: $score $verdict)"
exit 0
