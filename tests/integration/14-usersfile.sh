#!/bin/sh
# SPDX-License-Identifier: ISC
# 14-usersfile: the daemon's checks of the users file, at -t and at start:
# refused when others can read it (with a message saying why and what to
# do), when its group can read it and is not the daemon's group, or when
# it is missing or malformed (FILE:LINE: message); accepted when only the
# owner or the daemon's group can read it. Like OpenSSH's StrictModes, it
# is refused when it belongs to anyone but root or the user sockeyed runs
# as (here: owned by nobody), or when a directory on its path is writable
# by others or its group without the sticky bit (at -t, at start and at a
# reload, which keeps the running generation). The master reads it before
# dropping privileges: a file only root can read works for a root-started
# daemon whose workers run as nobody.
. "${srcdir:-.}/tests/integration/lib.sh"
. "${srcdir:-.}/tests/integration/lib-auth.sh"
. "${srcdir:-.}/tests/integration/lib-ops.sh"

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

# start_refused REGEX WHAT: sockeyed -F exits 1 before listening, saying
# REGEX (which names the users file).
start_refused() {
	_rc=0
	timeout 20 "$SOCKEYED" -F -f "$T/sockeye.conf" >"$T/run.out" 2>&1 || _rc=$?
	[ "$_rc" = 1 ] || fail "$2: sockeyed started (rc $_rc): $(cat "$T/run.out")"
	grep -Eq -- "$1" "$T/run.out" || fail "$2: start said: $(cat "$T/run.out")"
}

# Writable by everybody: refused, by -t and at start.
chmod 666 "$U"
check_t 1 "^$U: refusing a users file that others can access \(mode 0666\)" "mode 0666"
start_refused "$U: .*others can access \(mode 0666\)" "mode 0666"
chmod 600 "$U"

# Owned by somebody else (nobody), who could rewrite it.
if [ "$(id -u)" = 0 ]; then
	NOBODY=$(id -u nobody 2>/dev/null) || skip "no user nobody"
	chown nobody "$U"
	check_t 1 "^$U: refusing a users file owned by uid $NOBODY, who could rewrite it" "owner nobody"
	start_refused "^$U: refusing a users file owned by uid $NOBODY" "owner nobody"
	chown root "$U"
	check_t 0 '^configuration OK$' "owner root again"
else
	note "not root: the owner check (a file owned by nobody) is skipped"
fi

# In a directory that others can write (no sticky bit): they could put
# another users file in its place. Refused; with the sticky bit, fine.
mkdir "$T/wdir"
cp "$U" "$T/wdir/users"
chmod 600 "$T/wdir/users"
write_conf "$T/sockeye.conf" \
	"auth = { methods = [ \"password\" ]; users_file = \"$T/wdir/users\"; };"
check_t 0 '^configuration OK$' "directory 0755"
chmod 777 "$T/wdir"
check_t 1 "^$T/wdir/users: refusing the users file: its directory $T/wdir is writable by others \(mode 0777\)" "directory 0777"
start_refused "^$T/wdir/users: .*its directory $T/wdir is writable by others" "directory 0777"
chmod 775 "$T/wdir"
check_t 1 "its directory $T/wdir is writable by its group \(mode 0775\)" "directory 0775"
chmod 1777 "$T/wdir"
check_t 0 '^configuration OK$' "directory 1777 (sticky)"
# A symlink to it is judged by where it really is.
chmod 777 "$T/wdir"
ln -s "$T/wdir/users" "$T/users.link"
write_conf "$T/sockeye.conf" \
	"auth = { methods = [ \"password\" ]; users_file = \"$T/users.link\"; };"
check_t 1 "^$T/users.link: .*its directory $T/wdir is writable by others" "symlink into a directory 0777"
chmod 755 "$T/wdir"
write_conf "$T/sockeye.conf" \
	"auth = { methods = [ \"password\" ]; users_file = \"$U\"; };"

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

# A reload with a users file that fails the checks keeps the running
# generation (and its users), and the log says why.
BEFORE=$(worker_pids)
chmod 777 "$T"
reload_sockeye
[ "$RELOAD_RESULT" = failed ] || fail "reloaded with a users file in a world-writable directory"
grep -Eq "error: .*$U: refusing the users file: its directory $T is writable by others" "$T/sockeyed.log" ||
	fail "the log lacks the reason: $(tail -n 5 "$T/sockeyed.log")"
chmod 700 "$T"
if [ "$(id -u)" = 0 ]; then
	chown nobody "$U"
	reload_sockeye
	[ "$RELOAD_RESULT" = failed ] || fail "reloaded with a users file owned by nobody"
	grep -Eq "error: .*$U: refusing a users file owned by uid $NOBODY" "$T/sockeyed.log" ||
		fail "the log lacks the owner: $(tail -n 5 "$T/sockeyed.log")"
	chown root "$U"
fi
[ "$(worker_pids)" = "$BEFORE" ] || fail "workers changed after a failed reload"
out=$(authc alice-pw --dst "127.0.0.1:$SERVER_PORT" --send x)
expect_line "$out" '^echo=ok$' "login after the refused reloads"
exit 0
