#!/bin/sh
# SPDX-License-Identifier: ISC
# 57-notify: readiness for systemd's Type=notify, with a stand-in for
# systemd's notification socket (NOTIFY_SOCKET). READY=1 comes once the
# listeners are open and the workers up; a reload sends RELOADING=1 and
# then READY=1 (also when the reload fails: the old configuration still
# serves); SIGTERM sends STOPPING=1. Skipped when sockeyed was built
# without libsystemd (configure --without-systemd).
. "${srcdir:-.}/tests/integration/lib.sh"
. "${srcdir:-.}/tests/integration/lib-ops.sh"

require_python
command -v ldd >/dev/null 2>&1 || skip "ldd not found"
ldd "$SOCKEYED" 2>/dev/null | grep -q libsystemd ||
	skip "sockeyed was built without libsystemd"

cat >"$T/notifyd.py" <<'EOF'
import os, socket, sys, time
path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
open(out + ".ready", "w").close()
with open(out, "a") as f:
    while True:
        d = s.recv(4096).decode(errors="replace")
        f.write(" | ".join(d.strip().split("\n")) + "\n")
        f.flush()
EOF
bg notifyd "$PYTHON" "$T/notifyd.py" "$T/notify.sock" "$T/notify.txt"
wait_for 10 test -e "$T/notify.txt.ready" || error "notify listener did not start"

write_conf "$T/sockeye.conf" 'workers = 2;'
cp "$T/sockeye.conf" "$T/good.conf"
NOTIFY_SOCKET=$T/notify.sock
export NOTIFY_SOCKET
start_sockeye "$T/sockeye.conf"
unset NOTIFY_SOCKET

# msgs REGEX: how many notifications match.
msgs() { grep -Ec -- "$1" "$T/notify.txt" 2>/dev/null || true; }
has_msg() { [ "$(msgs "$1")" -ge "${2:-1}" ]; }

wait_for 10 has_msg '^READY=1' || fail "no READY=1: $(cat "$T/notify.txt")"
grep -q '^READY=1 | STATUS=serving, generation 1, 2 workers' "$T/notify.txt" ||
	fail "READY=1 without the serving status: $(cat "$T/notify.txt")"
# READY=1 means serving: the workers said they were ready first.
[ "$(worker_count)" -eq 2 ] || fail "READY=1 but $(worker_count) workers"

reload_sockeye
[ "$RELOAD_RESULT" = done ] || fail "reload failed"
wait_for 5 has_msg '^READY=1' 2 || fail "no READY=1 after the reload: $(cat "$T/notify.txt")"
sed -n 2,3p "$T/notify.txt" >"$T/reload.txt"
grep -Eq '^RELOADING=1 \| MONOTONIC_USEC=[0-9]+' "$T/reload.txt" ||
	fail "no RELOADING=1 before READY=1: $(cat "$T/notify.txt")"
grep -q '^READY=1 | STATUS=serving, generation 2' "$T/reload.txt" ||
	fail "READY=1 after the reload is not generation 2: $(cat "$T/notify.txt")"

# A failed reload: RELOADING=1, then READY=1 (still serving).
echo 'workers = "many";' >>"$T/sockeye.conf"
reload_sockeye
[ "$RELOAD_RESULT" = failed ] || fail "a broken config reloaded"
wait_for 5 has_msg '^READY=1' 3 || fail "no READY=1 after a failed reload"
[ "$(msgs '^RELOADING=1')" -eq 2 ] || fail "want 2 RELOADING=1: $(cat "$T/notify.txt")"
grep -q '^READY=1 | STATUS=reload failed' "$T/notify.txt" ||
	fail "no 'reload failed' status: $(cat "$T/notify.txt")"

stop_sockeye
[ "$SOCKEYED_STATUS" -eq 0 ] || fail "exit status $SOCKEYED_STATUS"
wait_for 5 has_msg '^STOPPING=1' || fail "no STOPPING=1: $(cat "$T/notify.txt")"
# Workers never talk to systemd.
[ "$(msgs '.')" -eq 6 ] || fail "want 6 notifications: $(cat "$T/notify.txt")"
exit 0
