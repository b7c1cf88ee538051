#!/bin/sh
# SPDX-License-Identifier: ISC
# 53-log-reopen: log rotation. With log.target a file, move the file away
# and send SIGUSR1: the master and the workers write to a new file of the
# same name from then on (the master's "log file reopened", a worker's
# access line), the moved file keeps what came before and gets nothing
# more. As root, the new file belongs to the workers' user so that they
# can reopen it after they have dropped privileges (given through the
# open descriptor: a symbolic link or a hard link planted at the path
# before SIGUSR1 does not make root give another file away). Then SIGUSR2
# writes the status summary to the new file.
. "${srcdir:-.}/tests/integration/lib.sh"
. "${srcdir:-.}/tests/integration/lib-ops.sh"

require_python

start_server echo echo
ECHO=$SERVER_PORT
LOG=$T/logdir/sockeye.log
mkdir "$T/logdir"
# Unprivileged workers reopen the file by name: they must reach it.
if [ "$(id -u)" = 0 ]; then
	chmod 0711 "$T"
fi
write_conf "$T/sockeye.conf" \
	"log = { target = \"$LOG\"; level = \"verbose\"; access = true; };"
start_sockeye "$T/sockeye.conf"
wait_log 10 'started with 2 workers' 1 "$LOG" || fail "no start line in $LOG"
if [ "$(id -u)" = 0 ]; then
	[ "$(stat -c %U:%G "$LOG")" = nobody:nogroup ] ||
		fail "the log at start belongs to $(stat -c %U:%G "$LOG"), not nobody:nogroup"
fi

session() {
	OUT=$(probe --dst "127.0.0.1:$ECHO" --send "$1" --expect-echo) ||
		fail "probe: $OUT"
	expect_line "$OUT" '^echo=ok$' "session $1"
}
session one
wait_log 10 ' access .*end=closed' 1 "$LOG" || fail "no access line in $LOG"

mv "$LOG" "$LOG.1"
kill -USR1 "$SOCKEYED_PID"
wait_log 10 'log file reopened' 1 "$LOG" || fail "no 'log file reopened' in the new file"
if [ "$(id -u)" = 0 ]; then
	[ "$(stat -c %U "$LOG")" = nobody ] ||
		fail "the new log belongs to $(stat -c %U "$LOG"), not nobody"
fi
# Both workers have reopened once they log to the new file; sessions
# land on either, so run a few.
for i in 1 2 3 4 5 6; do
	session "two-$i"
done
wait_log 10 ' access .*end=closed' 6 "$LOG" ||
	fail "access lines after the reopen are not in the new file: $(cat "$LOG")"
[ "$(log_count ' access ' "$LOG.1")" -eq 1 ] ||
	fail "the moved file got lines after the reopen: $(log_count ' access ' "$LOG.1")"
W=$(grep ' access ' "$LOG" | sed -n 's/.*sockeyed\[\([0-9]*\)\].*/\1/p' | sort -u | wc -l)
note "access lines in the new file from $W worker(s)"

kill -USR2 "$SOCKEYED_PID"
wait_log 10 'status: .*sessions: .* 7 since start' 1 "$LOG" ||
	fail "no status summary in the log: $(grep 'status:' "$LOG")"
wait_log 5 'status: worker [0-9]+ pid [0-9]+ generation 1 running' 2 "$LOG" ||
	fail "the summary does not list both workers"
wait_log 5 'status: ended sessions per command: connect 7,' 1 "$LOG" ||
	fail "the summary does not count 7 connects"
# Workers ignore SIGUSR2 (systemctl kill sends it to every process).
for p in $(worker_pids); do
	kill -USR2 "$p"
done
sleep 0.5
[ "$(worker_count)" -eq 2 ] || fail "a worker died of SIGUSR2"
grep -q 'killed by signal' "$LOG" && fail "a worker was killed: $(grep 'killed by' "$LOG")"

# As root: a link planted at the path before SIGUSR1 must not make the
# master give the file it points at to the workers' user.
if [ "$(id -u)" = 0 ]; then
	# plant KIND VICTIM: replace $LOG by a KIND link to VICTIM, reopen.
	plant() {
		printf 'root only\n' >"$2"
		chown root:root "$2"
		chmod 0600 "$2"
		rm -f "$LOG"
		if [ "$1" = symbolic ]; then
			ln -s "$2" "$LOG"
		else
			ln "$2" "$LOG"
		fi
		_n=$(log_count 'log file reopened' "$2")
		kill -USR1 "$SOCKEYED_PID"
		wait_log 10 'log file reopened' $((_n + 1)) "$2" ||
			fail "$1 link: no reopen: $(tail -n 3 "$2")"
		[ "$(stat -c %U:%G "$2")" = root:root ] ||
			fail "$1 link: the master gave $2 to $(stat -c %U:%G "$2")"
		grep -q "not giving the log file $LOG to nobody:nogroup" "$2" ||
			fail "$1 link: no warning: $(tail -n 3 "$2")"
	}
	plant symbolic "$T/victim"
	grep -q "not giving the log file $LOG to nobody:nogroup: it is a symbolic link" "$T/victim" ||
		fail "the warning does not say why: $(grep 'not giving' "$T/victim")"
	plant hard "$T/logdir/victim2"
	grep -q "not giving the log file $LOG to nobody:nogroup: it has other hard links" "$T/logdir/victim2" ||
		fail "the warning does not say why: $(grep 'not giving' "$T/logdir/victim2")"
	# A plain file at the path again: given to the workers' user.
	rm -f "$LOG"
	kill -USR1 "$SOCKEYED_PID"
	wait_log 10 'log file reopened' 1 "$LOG" || fail "no reopen after the links"
	[ "$(stat -c %U:%G "$LOG")" = nobody:nogroup ] ||
		fail "the new log belongs to $(stat -c %U:%G "$LOG"), not nobody:nogroup"
else
	note "not root: the planted-link part is skipped"
fi
exit 0
