#!/bin/sh
# 14-usersfile: the daemon's checks of the users file, at -t and at start:
# refused when others can read it (with a message saying why and what to
# do), when its group can read it and is not the daemon's group, or when
# it is missing or malformed (FILE:LINE: message); accepted when only the
# owner or the daemon's group can read it. The master reads it before
# dropping privileges: a file only root can read works for a root-started
# daemon whose workers run as nobody.
. "${srcdir:-.}/tests/integration/lib.sh"
. "${srcdir:-.}/tests/integration/lib-auth.sh"

U=$T/users
mkuser "$U" alice 'alice-pw'
write_conf "$T/sockeye.conf" \
	"auth = { methods = [ \"password\" ]; users_file = \"$U\"; };"

# check_t WANT-RC REGEX WHAT: sockeyed -t exits WANT-RC saying REGEX.
check_t() {
	_rc=0
	"$SOCKEYED" -t -f "$T/sockeye.conf" >"$T/t.out" 2>&1 || _rc=$?
	[ "$_rc" = "$1" ] || fail "$3: -t exited $_rc: $(cat "$T/t.out")"
	grep -Eq -- "$2" "$T/t.out" || fail "$3: -t said: $(cat "$T/t.out")"
}

# The daemon's group, as sockeyed sees it.
if [ "$(id -u)" = 0 ]; then
	DGROUP=nogroup
	getent group nogroup >/dev/null || skip "no group nogroup"
else
	DGROUP=$(id -gn)
fi

chmod 600 "$U"
check_t 0 '^configuration OK$' "mode 0600"
chmod 644 "$U"
check_t 1 "^$U: refusing a users file that others can access \(mode 0644\).*chmod o-rwx" "mode 0644"
chmod 604 "$U"
check_t 1 'others can access \(mode 0604\)' "mode 0604"
chmod 660 "$U"
check_t 1 'its group can write' "mode 0660"

# Group-readable: fine for the daemon's group only.
chmod 640 "$U"
chgrp "$DGROUP" "$U" 2>/dev/null || skip "cannot chgrp to $DGROUP"
check_t 0 '^configuration OK$' "mode 0640, daemon's group"
OTHER=
for g in $(id -Gn 2>/dev/null) daemon adm sys; do
	[ "$g" != "$DGROUP" ] && chgrp "$g" "$U" 2>/dev/null && { OTHER=$g; break; }
done
if [ -n "$OTHER" ]; then
	check_t 1 "readable by group [0-9]+, which is not the daemon's group" \
		"mode 0640, group $OTHER"
	# And the daemon refuses to start with it (before listening).
	rc=0
	"$SOCKEYED" -F -f "$T/sockeye.conf" >"$T/run.out" 2>&1 || rc=$?
	[ "$rc" = 1 ] || fail "sockeyed started with a users file group $OTHER can read (rc $rc)"
	grep -q "not the daemon's group" "$T/run.out" || fail "start said: $(cat "$T/run.out")"
else
	note "no second group to chgrp to: that case is skipped"
fi
chgrp "$DGROUP" "$U" 2>/dev/null || true
chmod 600 "$U"

# A world-readable file stops the daemon at start, with the reason.
chmod 644 "$U"
rc=0
"$SOCKEYED" -F -f "$T/sockeye.conf" >"$T/run.out" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "sockeyed started with a world-readable users file (rc $rc)"
grep -q 'others can access' "$T/run.out" || fail "start said: $(cat "$T/run.out")"
chmod 600 "$U"

# Malformed lines: every one reported as FILE:LINE: message.
cp "$U" "$T/u.good"
printf 'bob\ncarol:$1$old$md5\nalice:$6$x$y\n' >>"$U"
check_t 1 "^$U:2: want NAME:HASH" "line 2"
grep -q "^$U:3: unsupported password hash" "$T/t.out" || fail "line 3: $(cat "$T/t.out")"
grep -q "^$U:4: user \"alice\" is already listed on line 1" "$T/t.out" ||
	fail "line 4: $(cat "$T/t.out")"
grep -q 'configuration OK' "$T/t.out" && fail "-t said OK as well"
cp "$T/u.good" "$U"

# Missing file.
write_conf "$T/sockeye.conf" \
	"auth = { methods = [ \"chap\" ]; users_file = \"$T/missing\"; };"
check_t 1 "^$T/missing: cannot open the users file: No such file" "missing file"

# A file only its owner (root) can read still works when root starts the
# daemon: the master reads it before the workers become nobody.
write_conf "$T/sockeye.conf" \
	"auth = { methods = [ \"password\" ]; users_file = \"$U\"; };"
chmod 400 "$U"
start_sockeye "$T/sockeye.conf"
start_server echo echo
out=$(authc alice-pw --dst "127.0.0.1:$SERVER_PORT" --send x)
expect_line "$out" '^echo=ok$' "login with a 0400 users file"
if [ "$(id -u)" = 0 ]; then
	for w in $(worker_pids); do
		[ "$(stat -c %U "/proc/$w")" = nobody ] ||
			fail "worker $w runs as $(stat -c %U "/proc/$w")"
	done
fi
exit 0
