#!/bin/sh
# SPDX-License-Identifier: ISC
# 01-options: the command line (-V, -h, a bad option), `-t` on good and bad
# configs with FILE:LINE messages, and the open-proxy refusal.
. "${srcdir:-.}/tests/integration/lib.sh"

[ -x "$SOCKEYED" ] || error "no daemon binary at $SOCKEYED"

# run_daemon ARGS...: sockeyed bounded to 10 s; output (stdout and stderr)
# in $OUT, exit status in $RC.
run_daemon() {
	RC=0
	OUT=$(timeout 10 "$SOCKEYED" "$@" 2>&1 </dev/null) || RC=$?
}

# -V: a version on stdout, exit 0.
RC=0
OUT=$(timeout 10 "$SOCKEYED" -V 2>/dev/null) || RC=$?
[ $RC -eq 0 ] || fail "-V exited $RC"
expect_line "$OUT" '[0-9]+\.[0-9]+' "-V prints a version"

# -h: usage naming -f -F -t -V on stdout, exit 0. An option may be
# written alone ("-f FILE") or in a group of flags ("[-FhtV]").
RC=0
OUT=$(timeout 10 "$SOCKEYED" -h 2>/dev/null) || RC=$?
[ $RC -eq 0 ] || fail "-h exited $RC"
for letter in f F t V; do
	printf '%s\n' "$OUT" |
		grep -Eq -- "(^|[^[:alnum:]-])-$letter([^[:alnum:]]|\$)|\[-[[:alpha:]]*$letter[[:alpha:]]*\]" ||
		fail "-h does not mention -$letter: $OUT"
done

# A bad option: non-zero, with something said.
run_daemon -Z
[ $RC -ne 0 ] || fail "-Z exited 0"
[ $RC -ne 124 ] || fail "-Z: still running after 10 s"
[ -n "$OUT" ] || fail "-Z: no message"

# -t on a good config.
write_conf "$T/good.conf"
run_daemon -t -f "$T/good.conf"
[ $RC -eq 0 ] || fail "-t on a good config exited $RC: $OUT"
expect_line "$OUT" '^configuration OK$' "-t on a good config"

# -t on a config with a typo'd key (line 4) and a bad value (line 3):
# both reported as FILE:LINE, exit 1.
cat >"$T/bad.conf" <<'EOF'
# two mistakes: a negative worker count and a misspelt key
listen = [ "127.0.0.1:0" ];
workers = -3;
shutdown_timeuot_s = 2;
user = "nobody"; group = "nogroup";
auth = { methods = [ "none" ]; };
log = { target = "stderr"; level = "debug"; access = true; };
clients = [ "127.0.0.0/8" ];
EOF
run_daemon -t -f "$T/bad.conf"
[ $RC -eq 1 ] || fail "-t on a bad config exited $RC (want 1): $OUT"
expect_line "$OUT" "^$T/bad.conf:3: .*" "bad value reported at line 3"
expect_line "$OUT" "^$T/bad.conf:4: .*shutdown_timeuot_s" "unknown key reported at line 4 by name"
if printf '%s\n' "$OUT" | grep -q '^configuration OK'; then
	fail "-t on a bad config says OK: $OUT"
fi

# An unknown key inside a group is an error too, at its own line.
cat >"$T/nested.conf" <<'EOF'
listen = [ "127.0.0.1:0" ];
user = "nobody"; group = "nogroup";
auth = { methods = [ "none" ]; };
clients = [ "127.0.0.0/8" ];
limits = {
  handshake_timeout_s = 2;
  idle_timeuot_s = 60;
};
EOF
run_daemon -t -f "$T/nested.conf"
[ $RC -eq 1 ] || fail "-t with an unknown key in a group exited $RC (want 1): $OUT"
expect_line "$OUT" "^$T/nested.conf:7: .*idle_timeuot_s" "unknown key in a group reported at line 7"

# The open-proxy refusal: a non-loopback listener, auth none, no clients.
cat >"$T/open.conf" <<'EOF'
listen = [ "0.0.0.0:0" ];
workers = 1;
user = "nobody"; group = "nogroup";
auth = { methods = [ "none" ]; };
log = { target = "stderr"; level = "debug"; access = true; };
EOF
echo "pid_file = \"$T/open.pid\";" >>"$T/open.conf"
run_daemon -F -f "$T/open.conf" -P "$T/open.ports"
[ $RC -ne 124 ] || fail "open proxy: sockeyed started and ran (killed after 10 s)"
[ $RC -ne 0 ] || fail "open proxy: sockeyed exited 0: $OUT"
expect_line "$OUT" 'open proxy' "open-proxy refusal"
# The message names the ways out.
expect_line "$OUT" 'allow_open_proxy' "open-proxy refusal names allow_open_proxy"
expect_line "$OUT" 'clients' "open-proxy refusal names clients"
[ ! -s "$T/open.ports" ] || fail "open proxy: sockeyed listened: $(cat "$T/open.ports")"

exit 0
