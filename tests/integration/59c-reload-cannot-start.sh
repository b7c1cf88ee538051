#!/bin/sh
# SPDX-License-Identifier: ISC
# 59c-reload-cannot-start: a reload whose new generation cannot start
# leaves the old one serving. The daemon runs in a pids cgroup (what
# systemd's TasksMax= sets up); the reload raises auth.verify_threads
# beyond what the cgroup has room for, so the new workers cannot start
# their threads (or cannot be forked) and exit before they are ready.
# The master logs "reload failed", retires the new generation, and the
# old workers go on accepting: none of them is told to drain, and the
# status socket still shows the old generation serving with both workers.
# Once the limit is raised, the same reload succeeds.
. "${srcdir:-.}/tests/integration/lib.sh"
. "${srcdir:-.}/tests/integration/lib-auth.sh"
. "${srcdir:-.}/tests/integration/lib-ops.sh"

require_python
[ "$(id -u)" -eq 0 ] || skip "needs root (a pids cgroup)"

# A pids cgroup of our own: cgroup v1's pids hierarchy, or cgroup v2
# with the pids controller enabled.
CG=
for _root in /sys/fs/cgroup/pids /sys/fs/cgroup /sys/fs/cgroup/unified; do
	if [ -f "$_root/cgroup.procs" ] && { [ "$_root" = /sys/fs/cgroup/pids ] ||
	    grep -qw pids "$_root/cgroup.subtree_control" 2>/dev/null; }; then
		if mkdir "$_root/sockeye-test-$$" 2>/dev/null; then
			CG=$_root/sockeye-test-$$
			break
		fi
	fi
done
[ -n "$CG" ] && [ -f "$CG/pids.max" ] || skip "no pids cgroup to make"
# Removed once the test's processes are gone, whatever the outcome.
(
	while kill -0 $$ 2>/dev/null; do sleep 1; done
	sleep 3
	rmdir "$CG"
) >/dev/null 2>&1 &

start_server echo echo
ECHO=$SERVER_PORT
PW='carol secret 9'
mkuser "$T/users" carol "$PW"
conf() {
	write_conf "$T/sockeye.conf" \
		"auth = { methods = [ \"password\" ]; users_file = \"$T/users\"; verify_threads = $1; };" \
		"status_socket = \"$T/status.sock\";" \
		'log = { target = "stderr"; level = "verbose"; access = true; };'
}
conf 1
start_sockeye "$T/sockeye.conf"
wait_log 10 'sockeyed .* started with 2 workers' || fail "no start line"
OLD=$(worker_pids)
[ "$(printf '%s\n' "$OLD" | grep -c .)" -eq 2 ] || fail "want 2 workers: $OLD"

login() {
	OUT=$(authc "$PW" -m password -u carol --dst "127.0.0.1:$ECHO" \
		--send "$1" --timeout 10)
	printf '%s\n' "$OUT" | grep -q '^echo=ok$'
}
login before || fail "no login before the reload: $OUT"

# The master, alone, into the cgroup: what it forks from now on is
# counted. Room for the master and one worker with its 8 threads, and
# a little more: never for two.
echo "$SOCKEYED_PID" >"$CG/cgroup.procs" || skip "cannot move the master into $CG"
CUR=$(cat "$CG/pids.current")
echo $((CUR + 1 + 8 + 2)) >"$CG/pids.max"
note "pids.current $CUR, pids.max $(cat "$CG/pids.max")"

conf 8
reload_sockeye
[ "$RELOAD_RESULT" = failed ] || fail "the reload that cannot start its workers was reported done"
LINE=$(grep -E 'reload failed: generation 2 cannot start' "$T/sockeyed.log" | head -n 1)
[ -n "$LINE" ] || fail "no 'reload failed: generation 2 cannot start' error"
note "$LINE"
printf '%s\n' "$LINE" | grep -q 'still serving with the running configuration (generation 1)' ||
	fail "the error does not say the old generation still serves: $LINE"

# Past the old RELOAD_SWITCH_MS and more: the old generation still
# accepts, with both workers; nothing told it to drain.
sleep 3
for p in $OLD; do
	proc_alive "$p" || fail "old worker $p exited after the failed reload"
done
[ "$(log_count 'older generations stop accepting')" -eq 0 ] ||
	fail "the old generation was told to drain for a generation that never started"
[ "$(statusq "$T/status.sock" generation)" = 1 ] || fail "status: generation is not 1"
RUNNING=$(statusq "$T/status.sock" workers | "$PYTHON" -c '
import json, sys
print(" ".join(str(x["pid"]) for x in json.load(sys.stdin)
               if x["generation"] == 1 and x["state"] == "running"))')
[ "$(echo $RUNNING | wc -w)" -eq 2 ] || fail "status: generation 1 running workers: '$RUNNING', want 2"
for i in 1 2 3 4; do
	login "after-fail-$i" || fail "no login after the failed reload: $OUT"
done
# The failed generation's workers are gone: only the old two are left.
only_old() {
	[ "$(worker_pids | sort | tr '\n' ' ')" = "$(printf '%s\n' $OLD | sort | tr '\n' ' ')" ]
}
wait_for 10 only_old || fail "workers of the failed generation still run: $(worker_pids | tr '\n' ' ') (old: $(echo $OLD))"

# With room again, the same configuration reloads.
echo max >"$CG/pids.max"
reload_sockeye
[ "$RELOAD_RESULT" = done ] || fail "the reload failed with the limit lifted"
wait_log 5 'reload done: generation 3 is serving \(2 of 2 workers ready\)' ||
	fail "generation 3 did not take over with 2 workers"
login after-fix || fail "no login after the second reload: $OUT"
old_gone() {
	for p in $OLD; do
		proc_alive "$p" && return 1
	done
	return 0
}
wait_for 10 old_gone || fail "the old workers did not drain after the good reload"
exit 0
