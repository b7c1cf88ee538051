# SPDX-License-Identifier: ISC
# lib.sh - sourced by every tests/integration/NN-topic.sh (POSIX sh).
#
# Gives a test: a private temp dir $T (removed on exit), a trap that stops
# every process the test started (by the pid files in $T/pids), the
# automake exit codes (skip 77, fail 1, error 99), a config writer, the real
# sockeyed started on loopback port 0, and the python helpers (HTTP, echo,
# sink-source and half-close servers, DNS stub, SOCKS5 probe).
#
# Environment: SOCKEYED (the daemon binary, default ./sockeyed) and srcdir
# (the source tree, default .), both exported by automake's
# AM_TESTS_ENVIRONMENT. PYTHON overrides the python3 used for the helpers.

set -eu

: "${SOCKEYED:=./sockeyed}"
: "${srcdir:=.}"
: "${PYTHON:=python3}"
HELPERS=$srcdir/tests/helpers
TEST_NAME=$(basename "$0" .sh)

skip()  { echo "SKIP: $TEST_NAME: $*" >&2; exit 77; }
fail()  { echo "FAIL: $TEST_NAME: $*" >&2; exit 1; }
error() { echo "ERROR: $TEST_NAME: $*" >&2; exit 99; }
note()  { echo "# $*" >&2; }

T=$(mktemp -d "${TMPDIR:-/tmp}/sockeye-$TEST_NAME.XXXXXX") ||
	{ echo "ERROR: mktemp failed" >&2; exit 99; }
mkdir "$T/pids"

# AddressSanitizer's and LeakSanitizer's reports of every program the test
# runs go to files in $SAN, not to stderr: the daemon's, its workers' (as
# another user, hence a directory anyone may write to but only we may
# list), a `sockeyed -t`'s, a daemonised run's. cleanup fails the test on
# any of them; a sanitizer build's daemon checks for leaks when it exits.
# UBSan's reports (GCC's runtime writes them to stderr, then exits: the
# build has -fno-sanitize-recover) are looked for in the daemon's log.
SAN=$(mktemp -d "${TMPDIR:-/tmp}/sockeye-san-$TEST_NAME.XXXXXX") ||
	{ echo "ERROR: mktemp failed" >&2; rm -rf "$T"; exit 99; }
chmod 1733 "$SAN"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$SAN/asan"

# proc_alive PID: the process exists and is not a zombie.
proc_alive() {
	[ -r "/proc/$1/stat" ] || return 1
	# Field 3 of /proc/PID/stat is the state; comm (field 2) has no
	# spaces for our processes.
	case $(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) in
	Z|X|"") return 1 ;;
	esac
	return 0
}

# is_sockeyed PID: the process runs the daemon binary (by its comm name).
is_sockeyed() {
	[ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$(basename "$SOCKEYED" | cut -c1-15)" ]
}

# child_pids PID: the live children of PID, one per line, sorted.
child_pids() {
	for _c in $(pgrep -P "$1" 2>/dev/null || true); do
		proc_alive "$_c" && echo "$_c"
	done | sort -n
}

# kill_pid PID: TERM it and its children (a subshell's running `timeout`
# passes it on), up to 3 s grace, then KILL. Never fails.
kill_pid() {
	proc_alive "$1" || return 0
	for _k in $(child_pids "$1"); do
		kill -TERM "$_k" 2>/dev/null
	done
	kill -TERM "$1" 2>/dev/null || return 0
	_i=0
	while [ $_i -lt 30 ] && proc_alive "$1"; do
		sleep 0.1
		_i=$((_i + 1))
	done
	kill -KILL "$1" 2>/dev/null || true
}

cleanup() {
	_rc=$?
	set +e
	trap - EXIT INT TERM HUP
	# Helpers first (clients and servers: the daemon's sessions with them
	# end), then sockeyed, which must stop cleanly on SIGTERM: killing it
	# would skip its leak check. Its workers a TERMed master takes down
	# itself; any left over are killed by pid.
	for _f in "$T"/pids/*; do
		case $_f in */pids/sockeyed|*/pids/workers) continue ;; esac
		[ -f "$_f" ] || continue
		for _p in $(cat "$_f"); do
			kill_pid "$_p"
		done
	done
	if [ -f "$T/pids/sockeyed" ]; then
		_m=$(cat "$T/pids/sockeyed")
		_w=$(child_pids "$_m")
		if proc_alive "$_m"; then
			kill -TERM "$_m" 2>/dev/null
			_i=0
			while [ $_i -lt 200 ] && proc_alive "$_m"; do
				sleep 0.1
				_i=$((_i + 1))
			done
			if proc_alive "$_m"; then
				kill -KILL "$_m" 2>/dev/null
				echo "FAIL: $TEST_NAME: sockeyed still running 20 s after SIGTERM (killed: no leak check)" >&2
				case $_rc in 0|77) _rc=1 ;; esac
			fi
		fi
		# Workers left behind by a master that died: only processes
		# still running our binary (a pid may have been reused).
		for _p in $_w $(cat "$T/pids/workers" 2>/dev/null); do
			proc_alive "$_p" && is_sockeyed "$_p" &&
				kill -KILL "$_p" 2>/dev/null
		done
		rm -f "$T/pids/sockeyed"
	fi
	# A sanitizer build reports memory errors, undefined behaviour and
	# leaks (at exit, so after the kill above): any report fails the
	# test, whatever the test itself checked.
	for _f in "$SAN"/* "$T/sockeyed.log"; do
		[ -s "$_f" ] || continue
		case $_f in
		"$T/sockeyed.log")
			grep -Eq 'ERROR: [A-Za-z]+Sanitizer|runtime error: |Sanitizer has encountered' "$_f" || continue ;;
		esac
		echo "FAIL: $TEST_NAME: sanitizer report ($(basename "$_f"))" >&2
		head -n 60 "$_f" >&2
		case $_rc in 0|77) _rc=1 ;; esac
	done
	case $_rc in
	0|77) ;;
	1|99)
		dump_logs ;;
	*)
		echo "FAIL: $TEST_NAME: a command failed (exit status $_rc)" >&2
		dump_logs
		_rc=1 ;;
	esac
	rm -rf "$T" "$SAN"
	exit $_rc
}

# dump_logs: show what the daemon and helpers said, for test-suite.log.
dump_logs() {
	for _f in "$T"/*.log; do
		[ -s "$_f" ] || continue
		echo "--- $(basename "$_f") (last 60 lines) ---" >&2
		tail -n 60 "$_f" >&2
	done
}

trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# wait_for SECONDS CMD [ARGS...]: run CMD every 0.1 s until it succeeds
# (return 0) or SECONDS pass (return 1).
wait_for() {
	_wf_n=$(($1 * 10))
	shift
	while [ "$_wf_n" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		_wf_n=$((_wf_n - 1))
	done
	return 1
}

# have_ipv6: binding ::1 works here (cached).
have_ipv6() {
	if [ -z "${HAVE_IPV6:-}" ]; then
		if "$PYTHON" -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null; then
			HAVE_IPV6=yes
		else
			HAVE_IPV6=no
		fi
	fi
	[ "$HAVE_IPV6" = yes ]
}

require_python() {
	"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 9))' 2>/dev/null ||
		skip "python3 >= 3.9 not found"
}

# write_conf FILE [LINE...]: a test config on loopback port 0, with the
# given extra lines appended. A line that sets a top-level key written
# here ("workers = 1;", "limits = { ... };") replaces the default one:
# libconfig refuses a key set twice.
write_conf() {
	_wc_file=$1
	shift
	{
		echo "# written by $TEST_NAME"
		if have_ipv6; then
			_wc_listen='listen = [ "127.0.0.1:0", "[::1]:0" ];'
		else
			_wc_listen='listen = [ "127.0.0.1:0" ];'
		fi
		_conf_default listen "$_wc_listen" "$@"
		_conf_default workers 'workers = 2;' "$@"
		_conf_default user 'user = "nobody";' "$@"
		_conf_default group 'group = "nogroup";' "$@"
		_conf_default pid_file "pid_file = \"$T/sockeyed-own.pid\";" "$@"
		_conf_default auth 'auth = { methods = [ "none" ]; };' "$@"
		_conf_default log 'log = { target = "stderr"; level = "debug"; access = true; };' "$@"
		_conf_default clients 'clients = [ "127.0.0.0/8", "::1/128" ];' "$@"
		_conf_default limits 'limits = { handshake_timeout_s = 2; };' "$@"
		for _wc_line in "$@"; do
			echo "$_wc_line"
		done
	} >"$_wc_file"
}

# _conf_default KEY LINE [EXTRA...]: print LINE unless an EXTRA sets KEY.
_conf_default() {
	_cd_key=$1
	_cd_line=$2
	shift 2
	for _cd_x in "$@"; do
		case $_cd_x in
		"$_cd_key "*|"$_cd_key="*|"$_cd_key:"*) return 0 ;;
		esac
	done
	echo "$_cd_line"
}

# _listen_count CONF: how many addresses the listen line names.
_listen_count() {
	_lc=$(grep -E '^[[:space:]]*listen[[:space:]]*[=:]' "$1" | head -n 1 |
		tr -cd '"' | wc -c)
	_lc=$((_lc / 2))
	[ "$_lc" -gt 0 ] || _lc=1
	echo "$_lc"
}

_ports_ready() {
	[ -s "$T/ports" ] || return 1
	# The last line is complete (ends in a newline).
	[ -z "$(tail -c 1 "$T/ports")" ] || return 1
	# Complete lines only: as many as listeners, each IP:PORT.
	[ "$(grep -cE '^(\[[0-9a-fA-F:.]+\]|[0-9.]+):[0-9]+$' "$T/ports")" -ge "$1" ]
}

# start_sockeye CONF: run the daemon in the foreground (in the background
# of this shell) with -P, wait up to 10 s for its ports file, and set
# SOCKEYED_PID, SOCKS_PORT (first listener), SOCKS_PORT6 (second, or
# empty) and METRICS_PORT (metrics_listen's, or empty). stderr goes to
# $T/sockeyed.log.
start_sockeye() {
	[ -x "$SOCKEYED" ] || error "no daemon binary at $SOCKEYED (set SOCKEYED)"
	_ss_conf=$1
	_ss_n=$(_listen_count "$_ss_conf")
	rm -f "$T/ports"
	"$SOCKEYED" -F -f "$_ss_conf" -P "$T/ports" </dev/null 2>"$T/sockeyed.log" &
	SOCKEYED_PID=$!
	echo "$SOCKEYED_PID" >"$T/pids/sockeyed"
	_ss_i=0
	while ! _ports_ready "$_ss_n"; do
		if ! proc_alive "$SOCKEYED_PID"; then
			_ss_rc=0
			wait "$SOCKEYED_PID" || _ss_rc=$?
			rm -f "$T/pids/sockeyed"
			fail "sockeyed exited with status $_ss_rc before listening"
		fi
		_ss_i=$((_ss_i + 1))
		[ $_ss_i -le 100 ] || fail "no $_ss_n listener(s) in $T/ports after 10 s"
		sleep 0.1
	done
	# The listeners' lines, then "metrics IP:PORT" when it is on.
	SOCKS_PORT=$(grep -v '^metrics ' "$T/ports" |
		sed -n '1s/.*:\([0-9][0-9]*\)$/\1/p')
	SOCKS_PORT6=$(grep -v '^metrics ' "$T/ports" |
		sed -n '2s/.*:\([0-9][0-9]*\)$/\1/p')
	METRICS_PORT=$(sed -n 's/^metrics .*:\([0-9][0-9]*\)$/\1/p' "$T/ports")
	[ -n "$SOCKS_PORT" ] && [ "$SOCKS_PORT" -gt 0 ] ||
		fail "bad ports file: $(cat "$T/ports")"
	# Remember the workers too, so that cleanup can reach them even if
	# the master dies first.
	child_pids "$SOCKEYED_PID" >"$T/pids/workers"
}

# stop_sockeye: SIGTERM the master and wait (bounded) for it; sets
# SOCKEYED_STATUS to its exit status.
stop_sockeye() {
	kill -TERM "$SOCKEYED_PID" 2>/dev/null || true
	wait_for 10 proc_gone "$SOCKEYED_PID" || fail "sockeyed still running 10 s after SIGTERM"
	SOCKEYED_STATUS=0
	wait "$SOCKEYED_PID" || SOCKEYED_STATUS=$?
	rm -f "$T/pids/sockeyed"
}

proc_gone() { ! proc_alive "$1"; }

# worker_pids: the master's live children, one per line, sorted.
worker_pids() { child_pids "$SOCKEYED_PID"; }

worker_count() { worker_pids | wc -l; }

# _start_helper NAME PORTFILE CMD...: run a helper in the background with
# its pid in $T/pids/NAME and stderr in $T/NAME.log; wait up to 10 s for
# PORTFILE and set HELPER_PORT.
_start_helper() {
	_sh_name=$1
	_sh_pf=$2
	shift 2
	rm -f "$_sh_pf"
	"$@" </dev/null >>"$T/$_sh_name.log" 2>&1 &
	_sh_pid=$!
	echo "$_sh_pid" >"$T/pids/$_sh_name"
	wait_for 10 test -s "$_sh_pf" || {
		proc_alive "$_sh_pid" || error "helper $_sh_name exited: $(cat "$T/$_sh_name.log")"
		error "helper $_sh_name wrote no port file in 10 s"
	}
	HELPER_PORT=$(cat "$_sh_pf")
}

# start_server NAME MODE [ARGS...]: a testserver.py (http, echo,
# sink-source, halfclose; --v6 for ::1); sets SERVER_PORT.
start_server() {
	require_python
	_sv_name=$1
	shift
	_start_helper "$_sv_name" "$T/$_sv_name.port" \
		"$PYTHON" "$HELPERS/testserver.py" "$@" --port-file "$T/$_sv_name.port"
	SERVER_PORT=$HELPER_PORT
}

# start_dnsstub NAME=ADDR...: the DNS stub on 127.0.0.1; sets DNS_PORT.
# Queries are logged to $T/dns.queries.
start_dnsstub() {
	require_python
	_start_helper dnsstub "$T/dnsstub.port" \
		"$PYTHON" "$HELPERS/dnsstub.py" --port-file "$T/dnsstub.port" \
		--log "$T/dns.queries" "$@"
	DNS_PORT=$HELPER_PORT
}

# bg NAME CMD...: run CMD in the background, registered for cleanup; its
# stdout in $T/NAME.out, stderr in $T/NAME.log; sets BG_PID.
bg() {
	_bg_name=$1
	shift
	"$@" </dev/null >"$T/$_bg_name.out" 2>"$T/$_bg_name.log" &
	BG_PID=$!
	echo "$BG_PID" >"$T/pids/$_bg_name"
}

# probe ARGS...: socks5probe.py against the first listener, bounded by
# `timeout`; its output on stdout. Usage: out=$(probe --dst ...).
probe() {
	timeout 60 "$PYTHON" "$HELPERS/socks5probe.py" -p "$SOCKS_PORT" "$@"
}

# free_port: a loopback TCP port that nothing listens on (just released).
free_port() {
	"$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# expect_line OUTPUT REGEX WHAT: OUTPUT has a line matching REGEX (ERE).
expect_line() {
	printf '%s\n' "$1" | grep -Eq "$2" ||
		fail "$3: expected a line matching /$2/, got: $(printf '%s' "$1" | tr '\n' '|')"
}

# access_line REGEX...: the first access log line matching every REGEX
# (may be empty). wait_access REGEX...: wait up to 5 s for one, print it.
access_line() {
	grep -E ' info: access ' "$T/sockeyed.log" >"$T/access.tmp" || true
	for _al in "$@"; do
		grep -E -- "$_al" "$T/access.tmp" >"$T/access.tmp2" || true
		mv "$T/access.tmp2" "$T/access.tmp"
	done
	head -n 1 "$T/access.tmp"
}
_has_access() { [ -n "$(access_line "$@")" ]; }
wait_access() {
	wait_for 5 _has_access "$@" || fail "no access log line matching /$*/"
	access_line "$@"
}

# field_ok LINE REGEX: the access line has this key=value (REGEX anchored
# at a field boundary).
field_ok() {
	printf '%s\n' "$1" | grep -Eq "(^| )$2( |\$)" ||
		fail "access line lacks /$2/: $1"
}
