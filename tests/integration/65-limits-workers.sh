#!/bin/sh
# SPDX-License-Identifier: ISC
# 65-limits-workers: limits hold across workers (workers = 4), not once
# per worker:
#
#  - alice's bandwidth cap holds for the sum of several parallel
#    downloads that land on different workers (within 10 %);
#  - carol's max_sessions (5) admits exactly 5 of 20 sessions asking at
#    the same instant, whichever workers they land on;
#  - with limits.client_prefix_ipv4 = 24, 127.0.5.2 and 127.0.5.3 are one
#    client for max_sessions_per_client, and 127.0.6.1 another;
#  - as root, in a network namespace of its own: two IPv6 addresses of
#    one /64 are one client (client_prefix_ipv6 defaults to 64).
#
# The log says how many workers served the sessions measured (the kernel
# spreads them; nothing can force it to).
. "${srcdir:-.}/tests/integration/lib.sh"

# The IPv6 part, re-executed inside the namespace made below.
if [ "${LW_INNER:-}" = 1 ]; then
	write_conf "$T/sockeye.conf" \
		'listen = [ "[::1]:0" ];' \
		'workers = 4;' \
		'clients = [ "fd00:65::/48", "::1/128" ];' \
		'limits = { max_sessions_per_client = 6; handshake_timeout_s = 30; };'
	start_sockeye "$T/sockeye.conf"
	out=$(timeout 60 "$PYTHON" "$HELPERS/limitprobe.py" --host ::1 \
		-p "$SOCKS_PORT" --src fd00:65::2:10 --src fd00:65::3:10 \
		--src fd00:65:0:1::2:10 --timeout 30) || fail "limitprobe: $out"
	note "$(printf '%s\n' "$out" | tr '\n' ' ')"
	a2=$(printf '%s\n' "$out" | sed -n 's/^fd00:65::2 admitted=\([0-9]*\).*/\1/p')
	a3=$(printf '%s\n' "$out" | sed -n 's/^fd00:65::3 admitted=\([0-9]*\).*/\1/p')
	b=$(printf '%s\n' "$out" | sed -n 's/^fd00:65:0:1::2 admitted=\([0-9]*\).*/\1/p')
	[ $((a2 + a3)) -eq 6 ] ||
		fail "fd00:65::2 and ::3 (one /64) got $a2 + $a3 sessions, want 6 together"
	[ "$b" -eq 6 ] || fail "fd00:65:0:1::2 (another /64) got $b sessions, want 6"
	grep -q 'refused \[fd00:65::[23]\]:[0-9]*: limits\.max_sessions_per_client (6) reached' \
		"$T/sockeyed.log" || fail "no log line names limits.max_sessions_per_client"
	exit 0
fi

. "${srcdir:-.}/tests/integration/lib-auth.sh"
require_python
command -v curl >/dev/null 2>&1 || skip "curl not installed"

RATE=2097152			# 2 MiB/s for alice, all her sessions together
NDL=6				# parallel downloads ...
SIZE=$((3 * 1024 * 1024))	# ... of 3 MiB: 18 MiB, 9 s at the cap

# workers_of USER: the distinct workers that logged USER's ended sessions.
workers_of() {
	sed -n "s/.*worker \([0-9]*\): info: access user=$1 .* rep=0 .*/\1/p" \
		"$T/sockeyed.log" | sort -u | wc -l
}

mkdir "$T/www"
head -c "$SIZE" /dev/urandom >"$T/www/big"
HTTP=$(free_port)
bg http "$PYTHON" -m http.server --bind 127.0.0.1 --directory "$T/www" "$HTTP"
wait_for 10 "$PYTHON" -c "import socket; socket.create_connection(('127.0.0.1', $HTTP), 1)" ||
	fail "the HTTP server did not start"
start_server echo echo
ECHO=$SERVER_PORT

mkuser "$T/users" alice alice-pw
mkuser "$T/users" carol carol-pw
# "none" second: limitprobe offers only it; curl and userprobe get "password".
write_conf "$T/sockeye.conf" \
	'workers = 4;' \
	"auth = { methods = [ \"password\", \"none\" ]; users_file = \"$T/users\"; };" \
	"limits = { user_bandwidth_bps = $RATE; max_sessions_per_client = 40; client_prefix_ipv4 = 24; handshake_timeout_s = 30; };" \
	'user_limits = ( { users = [ "carol" ]; max_sessions = 5; bandwidth_bps = 0; } );'
start_sockeye "$T/sockeye.conf"
[ "$(worker_count)" -eq 4 ] || fail "workers: $(worker_count), want 4"

# --- alice's cap, for the sum of parallel downloads ---------------------------
# Each download notes when it was launched, when its first byte came (so
# the logins, hashed first, are not counted as transfer time) and when
# it ended.
i=1
while [ $i -le $NDL ]; do
	( t=$(date +%s.%N)
	  timeout 120 curl -sS -o "$T/got$i" -w '%{size_download} %{time_starttransfer}\n' \
		--socks5 "127.0.0.1:$SOCKS_PORT" -U alice:alice-pw \
		"http://127.0.0.1:$HTTP/big" >"$T/dl$i" 2>&1
	  echo "$t $(date +%s.%N) $(cat "$T/dl$i")" >"$T/end$i" ) &
	i=$((i + 1))
done
wait_for 150 sh -c "ls '$T'/end* 2>/dev/null | wc -l | grep -qx $NDL" ||
	fail "the downloads did not finish"
i=1
while [ $i -le $NDL ]; do
	set -- $(cat "$T/end$i")
	[ "${3:-}" = "$SIZE" ] || fail "download $i: $(cat "$T/dl$i")"
	cmp -s "$T/got$i" "$T/www/big" || fail "download $i differs from the file"
	i=$((i + 1))
done
wait_for 10 sh -c "grep -c 'access user=alice .* rep=0 ' '$T/sockeyed.log' | grep -qx $NDL" ||
	fail "no access line for each of alice's downloads"
w=$(workers_of alice)
note "alice's $NDL downloads were served by $w workers"
# One worker alone would show the cap, not that it holds across workers.
[ "$w" -ge 2 ] || note "all of alice's downloads landed on one worker"
cat "$T"/end* | awk -v s="$((NDL * SIZE))" -v r="$RATE" '
{ b = $1 + $4; if (NR == 1 || b < t0) t0 = b; if ($2 > t1) t1 = $2 }
END {
	rate = s / (t1 - t0)
	printf "# %d bytes in %.2f s: %.0f bytes/s, cap %d (%+.1f %%)\n",
	    s, t1 - t0, rate, r, 100 * (rate - r) / r
	exit !(rate >= 0.9 * r && rate <= 1.1 * r)
}' >&2 || fail "alice's downloads together are not held to the cap (within 10 %)"

# --- carol: exactly 5 sessions, whichever worker ------------------------------
out=$(SOCKEYE_PASSWORD=carol-pw timeout 90 "$PYTHON" "$HELPERS/userprobe.py" \
	-p "$SOCKS_PORT" -u carol --dst "127.0.0.1:$ECHO" -n 20 --timeout 60) ||
	fail "userprobe: $out"
note "$(printf '%s\n' "$out" | tr '\n' ' ')"
expect_line "$out" '^total admitted=5 refused=15 undecided=0$' "carol's 20 at once, limit 5"
expect_line "$out" '^rep=1 count=15$' "carol's refusals"
grep -q 'refused: user=carol client=127\.0\.0\.1:[0-9]*: 5 sessions, the user.s limit' \
	"$T/sockeyed.log" || fail "no log line names carol's limit"
refusers() {
	sed -n 's/.*worker \([0-9]*\): info: refused: user=carol .*/\1/p' \
		"$T/sockeyed.log" | sort -u | wc -l
}
note "carol's refusals came from $(refusers) workers"
# Once they are gone, she gets in again: nothing stays counted.
again() {
	SOCKEYE_PASSWORD=carol-pw timeout 60 "$PYTHON" "$HELPERS/userprobe.py" \
		-p "$SOCKS_PORT" -u carol --dst "127.0.0.1:$ECHO" -n 5 --timeout 20 |
		grep -q '^total admitted=5 refused=0 undecided=0$'
}
wait_for 10 again || fail "carol not admitted 5 times again after her sessions ended"

# --- clients by /24 -------------------------------------------------------------
out=$(timeout 60 "$PYTHON" "$HELPERS/limitprobe.py" -p "$SOCKS_PORT" \
	--src 127.0.5.2:30 --src 127.0.5.3:30 --src 127.0.6.1:45 --timeout 30) ||
	fail "limitprobe: $out"
note "$(printf '%s\n' "$out" | tr '\n' ' ')"
a2=$(printf '%s\n' "$out" | sed -n 's/^127\.0\.5\.2 admitted=\([0-9]*\).*/\1/p')
a3=$(printf '%s\n' "$out" | sed -n 's/^127\.0\.5\.3 admitted=\([0-9]*\).*/\1/p')
b=$(printf '%s\n' "$out" | sed -n 's/^127\.0\.6\.1 admitted=\([0-9]*\).*/\1/p')
[ $((a2 + a3)) -eq 40 ] ||
	fail "127.0.5.2 and .3 (one /24) got $a2 + $a3 sessions, want 40 together"
[ "$b" -eq 40 ] || fail "127.0.6.1 (another /24) got $b sessions, want 40"
grep -q 'refused 127\.0\.5\.[23]:[0-9]*: limits\.max_sessions_per_client (40) reached' \
	"$T/sockeyed.log" || fail "no log line names limits.max_sessions_per_client"
[ "$(worker_count)" -eq 4 ] || fail "workers: $(worker_count): one died"
stop_sockeye

# --- IPv6 /64, in a namespace of our own (root only) ---------------------------
if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null 2>&1; then
	note "not root or no ip(8): the IPv6 /64 part is left to check_quota"
	exit 0
fi
NS=sockeye65-$$
ip netns add "$NS" 2>/dev/null || { note "cannot make a network namespace: IPv6 part skipped"; exit 0; }
trap '_lw_rc=$?; ip netns del "$NS" 2>/dev/null; (exit $_lw_rc); cleanup' EXIT
ip -n "$NS" link set lo up &&
	ip -n "$NS" addr add fd00:65::2/64 dev lo nodad &&
	ip -n "$NS" addr add fd00:65::3/64 dev lo nodad &&
	ip -n "$NS" addr add fd00:65:0:1::2/64 dev lo nodad ||
	error "cannot set up addresses in namespace $NS"
rc=0
LW_INNER=1 ip netns exec "$NS" "${SHELL:-/bin/sh}" "$0" || rc=$?
exit $rc
