# SPDX-License-Identifier: ISC
# he-netns.sh - a dual-stack test network in two namespaces, for the
# Happy Eyeballs tests and the benchmark (POSIX sh, sourced after
# tests/integration/lib.sh, whose $T, pid files, bg and cleanup it uses).
#
#   namespace P (proxy, clients)              namespace S (destination)
#   he0 198.51.100.1/24   ---- veth ----      he0 198.51.100.2/24
#       2001:db8:1::1/64                          2001:db8:1::2/64  <- ip6tables DROP
#                                                 2001:db8:1::3/64  (healthy)
#   he6 2001:db8:2::1/64  -- tun wire --      he6 2001:db8:2::2/64  (he_wire_up:
#                            (hetool.py)           DELAY ms each way)
#
# Names, as he_hosts writes them (hosts file or DNS stub records):
#   healthy.test  2001:db8:1::3  198.51.100.2   both paths work
#   broken.test   2001:db8:1::2  198.51.100.2   IPv6 black-holed (he_drop_v6)
#   slow.test     2001:db8:2::2  198.51.100.2   IPv6 over the slow wire
#
# Every address is added with nodad, so it is usable at once. Everything
# is torn down on exit: processes inside the namespaces (by the pids the
# kernel lists for them: only this run's), the wire, the namespaces and
# with them the veth, the tun devices and the ip6tables rules.

HE_V4_P=198.51.100.1
HE_V4_S=198.51.100.2
HE_V6_P=2001:db8:1::1
HE_V6_BROKEN=2001:db8:1::2
HE_V6_HEALTHY=2001:db8:1::3
HE_V6_SLOW_P=2001:db8:2::1
HE_V6_SLOW=2001:db8:2::2
HE_NS_P=
HE_NS_S=
HE_WIRE_PID=

# he_netns_require: root, iproute2, netns, python; exit 77 (skip)
# otherwise. he_need_ip6tables, he_need_tun: the same for those.
he_netns_require() {
	[ "$(id -u)" = 0 ] || skip "needs root (network namespaces)"
	command -v ip >/dev/null 2>&1 || skip "ip (iproute2) not installed"
	require_python
}
he_need_ip6tables() {
	command -v ip6tables >/dev/null 2>&1 || skip "ip6tables (iptables) not installed"
}
he_need_tun() {
	[ -c /dev/net/tun ] || skip "no /dev/net/tun"
}

# he_ns_kill NS: TERM, then KILL, every process in NS (bounded).
he_ns_kill() {
	_hk_pids=$(ip netns pids "$1" 2>/dev/null || true)
	[ -n "$_hk_pids" ] || return 0
	# shellcheck disable=SC2086
	kill -TERM $_hk_pids 2>/dev/null || true
	_hk_i=0
	while [ $_hk_i -lt 30 ] && [ -n "$(ip netns pids "$1" 2>/dev/null || true)" ]; do
		sleep 0.1
		_hk_i=$((_hk_i + 1))
	done
	_hk_pids=$(ip netns pids "$1" 2>/dev/null || true)
	# shellcheck disable=SC2086
	[ -z "$_hk_pids" ] || kill -KILL $_hk_pids 2>/dev/null || true
}

he_netns_down() {
	for _hd_ns in $HE_NS_P $HE_NS_S; do
		he_ns_kill "$_hd_ns"
	done
	if [ -n "$HE_WIRE_PID" ]; then
		kill_pid "$HE_WIRE_PID"
		HE_WIRE_PID=
	fi
	for _hd_ns in $HE_NS_P $HE_NS_S; do
		ip netns del "$_hd_ns" 2>/dev/null || true
	done
	HE_NS_P=
	HE_NS_S=
}

# Run before lib.sh's cleanup, handing it the exit status.
_he_cleanup() {
	_hc_rc=$?
	set +e
	he_netns_down
	(exit $_hc_rc)
	cleanup
}

# inP CMD..., inS CMD...: run in namespace P or S.
inP() { ip netns exec "$HE_NS_P" "$@"; }
inS() { ip netns exec "$HE_NS_S" "$@"; }

# he_netns_up: make both namespaces, the veth between them and the
# addresses; the cleanup trap takes them down again.
he_netns_up() {
	HE_NS_P="sockeye-$$-p"
	HE_NS_S="sockeye-$$-s"
	trap _he_cleanup EXIT
	# Root without the power to make namespaces (a build chroot, a
	# container): this host cannot run the test, which is not a failure.
	ip netns add "$HE_NS_P" || skip "cannot create network namespaces here"
	ip netns add "$HE_NS_S" || skip "cannot create network namespaces here"
	# No duplicate address detection, not even for link-local addresses:
	# while those are tentative the first neighbour lookup costs 1 s.
	for _hu_ns in "$HE_NS_P" "$HE_NS_S"; do
		ip netns exec "$_hu_ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
			net.ipv6.conf.default.accept_dad=0 >/dev/null 2>&1 || true
	done
	ip link add he0 netns "$HE_NS_P" type veth peer name he0 netns "$HE_NS_S" ||
		skip "cannot make a veth pair here"
	ip -n "$HE_NS_P" link set lo up
	ip -n "$HE_NS_S" link set lo up
	ip -n "$HE_NS_P" addr add "$HE_V4_P/24" dev he0
	ip -n "$HE_NS_P" -6 addr add "$HE_V6_P/64" dev he0 nodad
	ip -n "$HE_NS_S" addr add "$HE_V4_S/24" dev he0
	ip -n "$HE_NS_S" -6 addr add "$HE_V6_BROKEN/64" dev he0 nodad
	ip -n "$HE_NS_S" -6 addr add "$HE_V6_HEALTHY/64" dev he0 nodad
	ip -n "$HE_NS_P" link set he0 up
	ip -n "$HE_NS_S" link set he0 up
	# Fixed neighbours: for about a second after a link comes up the
	# kernel's first IPv6 neighbour solicitation goes unanswered, and the
	# first connection would pay for it with a 1 s retransmission.
	_hu_mp=$(inP cat /sys/class/net/he0/address)
	_hu_ms=$(inS cat /sys/class/net/he0/address)
	for _hu_a in "$HE_V4_S" "$HE_V6_BROKEN" "$HE_V6_HEALTHY"; do
		ip -n "$HE_NS_P" neigh replace "$_hu_a" lladdr "$_hu_ms" dev he0 nud permanent
	done
	for _hu_a in "$HE_V4_P" "$HE_V6_P"; do
		ip -n "$HE_NS_S" neigh replace "$_hu_a" lladdr "$_hu_mp" dev he0 nud permanent
	done
	he_settle
}

# he_settle: wait (up to 5 s) until no address is tentative any more.
he_settle() {
	wait_for 5 sh -c "! { ip -n '$HE_NS_P' -6 addr show tentative; ip -n '$HE_NS_S' -6 addr show tentative; } | grep -q ." ||
		note "addresses still tentative after 5 s"
}

# he_drop_v6 PORT: S silently drops TCP to [broken]:PORT (a black hole).
he_drop_v6() {
	inS ip6tables -w -A INPUT -d "$HE_V6_BROKEN" -p tcp --dport "$1" -j DROP ||
		skip "ip6tables cannot add a rule here (no netfilter?)"
}

# he_wire_up DELAY_MS: the slow IPv6 path, DELAY_MS added in each direction.
he_wire_up() {
	rm -f "$T/wire.ready"
	bg wire "$PYTHON" "$HELPERS/hetool.py" wire --ns-a "$HE_NS_P" --dev-a he6 \
		--ns-b "$HE_NS_S" --dev-b he6 --delay-ms "$1" --ready "$T/wire.ready"
	HE_WIRE_PID=$BG_PID
	if ! wait_for 10 test -s "$T/wire.ready"; then
		proc_alive "$HE_WIRE_PID" &&
			error "the tun wire did not start: $(cat "$T/wire.log")"
		skip "cannot make tun devices here: $(tail -n 1 "$T/wire.log")"
	fi
	ip -n "$HE_NS_P" -6 addr add "$HE_V6_SLOW_P/64" dev he6 nodad
	ip -n "$HE_NS_S" -6 addr add "$HE_V6_SLOW/64" dev he6 nodad
	ip -n "$HE_NS_P" link set he6 up
	ip -n "$HE_NS_S" link set he6 up
	he_settle
}

# he_records: the names as DNS stub arguments (NAME=ADDR ...).
he_records() {
	echo "healthy.test=$HE_V6_HEALTHY healthy.test=$HE_V4_S" \
		"broken.test=$HE_V6_BROKEN broken.test=$HE_V4_S" \
		"slow.test=$HE_V6_SLOW slow.test=$HE_V4_S"
}

# he_hosts FILE: the names as a hosts file.
he_hosts() {
	{
		echo "127.0.0.1 localhost"
		echo "::1 localhost"
		echo "$HE_V6_HEALTHY healthy.test"
		echo "$HE_V4_S healthy.test"
		echo "$HE_V6_BROKEN broken.test"
		echo "$HE_V4_S broken.test"
		echo "$HE_V6_SLOW slow.test"
		echo "$HE_V4_S slow.test"
	} >"$1"
}

# he_serve PORT: the destination in S, on every address of S, port PORT
# (hetool serve: answers "served-by ADDR").
he_serve() {
	rm -f "$T/dest.port"
	bg dest ip netns exec "$HE_NS_S" "$PYTHON" "$HELPERS/hetool.py" serve \
		--port-file "$T/dest.port" --port "$1" --listen "$HE_V4_S" \
		--listen "$HE_V6_BROKEN" --listen "$HE_V6_HEALTHY" \
		${HE_WIRE_PID:+--listen "$HE_V6_SLOW"}
	wait_for 10 test -s "$T/dest.port" ||
		error "the destination server did not start: $(cat "$T/dest.log")"
}
