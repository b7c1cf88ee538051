#!/bin/sh
# SPDX-License-Identifier: ISC
# 13-passwd: sockeye-passwd add / passwd / del / list / check, its errors
# and exit codes, the file it writes (created 0600, mode and owner kept,
# replaced atomically, nothing left behind), concurrent writers, and that
# the daemon reads what it writes.
. "${srcdir:-.}/tests/integration/lib.sh"
. "${srcdir:-.}/tests/integration/lib-auth.sh"

U=$T/users
# sp ARGS...: sockeye-passwd with stdin from $IN; output in $OUT, status in $RC.
sp() {
	RC=0
	printf '%s' "$IN" | timeout 60 "$SOCKEYE_PASSWD" "$@" >"$T/sp.out" 2>"$T/sp.err" || RC=$?
	OUT=$(cat "$T/sp.out" "$T/sp.err")
}
# must RC TEXT-REGEX WHAT: the last sp exited RC and said something matching.
must() {
	[ "$RC" = "$1" ] || fail "$3: exit $RC, want $1: $OUT"
	[ -z "$2" ] || printf '%s\n' "$OUT" | grep -Eq -- "$2" ||
		fail "$3: output does not match /$2/: $OUT"
}

# add: creates the file, 0600.
IN='first-pw
'
sp -f "$U" add alice
must 0 '' "add alice"
[ -f "$U" ] || fail "no users file"
[ "$(stat -c %a "$U")" = 600 ] || fail "new file has mode $(stat -c %a "$U")"
grep -Eq '^alice:\$y\$' "$U" || grep -Eq '^alice:\$' "$U" || fail "bad line: $(cat "$U")"
grep -q 'first-pw' "$U" && fail "the password is in the file"

# add --chap, a second user.
IN='bob-pw
'
sp -f "$U" add --chap bob
must 0 '' "add --chap bob"
grep -Eq '^bob:\$[^:]*:\{HMAC-MD5\}[0-9a-f]{64}$' "$U" || fail "bob's line: $(grep ^bob "$U")"

# add an existing user: refused, file untouched.
cp "$U" "$T/before"
IN='x
'
sp -f "$U" add alice
must 1 'already exists' "add alice again"
cmp -s "$U" "$T/before" || fail "a refused add changed the file"

# list
sp -f "$U" list
must 0 '' "list"
[ "$OUT" = "$(printf 'alice\tpassword\nbob\tpassword,chap')" ] || fail "list said: $OUT"

# check: right (0), wrong (1), unknown user (1).
IN='first-pw
'
sp -f "$U" check alice
must 0 '' "check right"
IN='first-pW
'
sp -f "$U" check alice
must 1 'wrong password' "check wrong"
IN='first-pw
'
sp -f "$U" check carol
must 1 'no such user' "check unknown"

# passwd: changes the password, keeps the others' lines and the order.
IN='second-pw
'
sp -f "$U" passwd alice
must 0 '' "passwd alice"
IN='first-pw
'
sp -f "$U" check alice
must 1 '' "old password after passwd"
IN='second-pw
'
sp -f "$U" check alice
must 0 '' "new password after passwd"
[ "$(sed -n 1p "$U" | cut -d: -f1)" = alice ] || fail "order changed: $(cut -d: -f1 "$U")"
grep -q '^bob:' "$U" || fail "bob lost"
# passwd without --chap drops a CHAP key; with --chap sets it.
IN='bob-pw2
'
sp -f "$U" passwd bob
must 0 '' "passwd bob"
grep -q '^bob:.*HMAC-MD5' "$U" && fail "stale CHAP key kept"
sp -f "$U" passwd --chap bob
must 0 '' "passwd --chap bob"
grep -q '^bob:.*HMAC-MD5' "$U" || fail "no CHAP key after passwd --chap"

# passwd / del of someone who does not exist.
sp -f "$U" passwd carol
must 1 'no such user' "passwd unknown"
sp -f "$U" del carol
must 1 'no such user' "del unknown"

# Comments and blank lines survive a rewrite.
printf '# the team\n\n' >"$T/head"
cat "$T/head" "$U" >"$T/u2" && cat "$T/u2" >"$U"
IN='dave-pw
'
sp -f "$U" add dave
must 0 '' "add after comments"
[ "$(sed -n 1p "$U")" = '# the team' ] || fail "comment lost: $(head -n 2 "$U")"

# del
sp -f "$U" del dave
must 0 '' "del dave"
grep -q '^dave:' "$U" && fail "dave still there"

# Mode and owner (group) are kept; no temporary file is left.
chmod 640 "$U"
grp=$(id -gn)
if [ "$(id -u)" = 0 ] && getent group nogroup >/dev/null; then
	grp=nogroup
	chgrp nogroup "$U"
fi
IN='third-pw
'
sp -f "$U" passwd alice
must 0 '' "passwd with mode 0640"
[ "$(stat -c %a "$U")" = 640 ] || fail "mode became $(stat -c %a "$U")"
[ "$(stat -c %G "$U")" = "$grp" ] || fail "group became $(stat -c %G "$U")"
[ -z "$(ls "$T" | grep '^users\.')" ] || fail "left behind: $(ls "$T" | grep '^users\.')"

# As root, on a file that belongs to another user and group: add, passwd
# and del leave its owner, group and mode (0640) as they were.
if [ "$(id -u)" = 0 ] && getent passwd nobody >/dev/null &&
	getent group nogroup >/dev/null; then
	O=$T/owned
	cp "$U" "$O"
	chown nobody:nogroup "$O"
	chmod 640 "$O"
	want="nobody:nogroup $(id -u nobody):$(getent group nogroup | cut -d: -f3) 640"
	# kept WHAT: owner, group and mode of $O are still nobody:nogroup 0640.
	kept() {
		got=$(stat -c '%U:%G %u:%g %a' "$O")
		[ "$got" = "$want" ] || fail "$1: the file is now $got, was $want"
	}
	IN='owned-pw
'
	sp -f "$O" add erin
	must 0 '' "add on a nobody:nogroup file"
	kept "add"
	sp -f "$O" passwd erin
	must 0 '' "passwd on a nobody:nogroup file"
	kept "passwd"
	sp -f "$O" add --chap fred
	must 0 '' "add --chap on a nobody:nogroup file"
	kept "add --chap"
	sp -f "$O" del erin
	must 0 '' "del on a nobody:nogroup file"
	kept "del"
	grep -q '^erin:' "$O" && fail "erin still there"
	grep -q '^fred:' "$O" || fail "fred is missing"
	[ -z "$(ls "$T" | grep '^owned\.')" ] || fail "left behind: $(ls "$T" | grep '^owned\.')"
else
	note "not root (or no nobody/nogroup): the foreign-owner part is skipped"
fi

# Errors: bad names, empty and over-long passwords, usage, a broken file.
IN='pw
'
sp -f "$U" add 'a:b'
must 1 "cannot contain ':'" "name with a colon"
sp -f "$U" add 'a b'
must 1 'spaces' "name with a space"
sp -f "$U" add '#x'
must 1 "start with '#'" "name with a hash"
IN='
'
sp -f "$U" add erin
must 1 'empty password' "empty password"
IN=''
sp -f "$U" add erin
must 1 'no password' "no password at all"
IN="$(head -c 300 /dev/zero | tr '\0' x)
"
sp -f "$U" add erin
must 1 'longer than 255' "long password"
grep -q '^erin:' "$U" && fail "erin was added"
sp -f "$U"
must 2 'usage' "no command"
sp -f "$U" frobnicate x
must 2 'unknown command' "unknown command"
sp -f "$U" add
must 2 'needs a user NAME' "add without a name"
sp -f "$U" list extra
must 2 '' "list with an argument"
sp -f "$U" del --chap alice
must 2 'unknown option' "del --chap"
sp -f "$T/nonexistent" del alice
must 1 'cannot open' "del in a missing file"
sp -f "$T/nonexistent" list
must 1 'cannot open' "list of a missing file"
[ -e "$T/nonexistent" ] && fail "list or del created the file"
cp "$U" "$T/broken"
echo 'garbage line' >>"$T/broken"
IN='pw
'
sp -f "$T/broken" add frank
must 1 'broken:[0-9]+: .*fix the file first' "add to a broken file"
if [ "$(id -u)" != 0 ]; then
	chmod 000 "$T/broken"
	sp -f "$T/broken" list
	must 1 'Permission denied' "unreadable file"
fi
sp -h
must 0 'usage' "-h"

# Concurrent writers: every add lands (the lock), the file stays valid.
pids=
for n in 1 2 3 4 5 6; do
	( printf 'pw%s\n' "$n" | "$SOCKEYE_PASSWD" -f "$U" add "par$n" ) \
		>"$T/par$n.log" 2>&1 &
	pids="$pids $!"
done
for p in $pids; do
	wait "$p" || true
done
for n in 1 2 3 4 5 6; do
	grep -q "^par$n:" "$U" || fail "concurrent add par$n lost: $(cat "$T/par$n.log")"
done
[ -z "$(ls "$T" | grep '^users\.')" ] || fail "left behind: $(ls "$T" | grep '^users\.')"

# As root, on a file that belongs to another user and group: add, passwd
# and del leave its owner, group and mode (0640) as they were.
if [ "$(id -u)" = 0 ] && getent passwd nobody >/dev/null &&
	getent group nogroup >/dev/null; then
	O=$T/owned
	cp "$U" "$O"
	chown nobody:nogroup "$O"
	chmod 640 "$O"
	want="nobody:nogroup $(id -u nobody):$(getent group nogroup | cut -d: -f3) 640"
	# kept WHAT: owner, group and mode of $O are still nobody:nogroup 0640.
	kept() {
		got=$(stat -c '%U:%G %u:%g %a' "$O")
		[ "$got" = "$want" ] || fail "$1: the file is now $got, was $want"
	}
	IN='owned-pw
'
	sp -f "$O" add erin
	must 0 '' "add on a nobody:nogroup file"
	kept "add"
	sp -f "$O" passwd erin
	must 0 '' "passwd on a nobody:nogroup file"
	kept "passwd"
	sp -f "$O" add --chap fred
	must 0 '' "add --chap on a nobody:nogroup file"
	kept "add --chap"
	sp -f "$O" del erin
	must 0 '' "del on a nobody:nogroup file"
	kept "del"
	grep -q '^erin:' "$O" && fail "erin still there"
	grep -q '^fred:' "$O" || fail "fred is missing"
	[ -z "$(ls "$T" | grep '^owned\.')" ] || fail "left behind: $(ls "$T" | grep '^owned\.')"
else
	note "not root (or no nobody/nogroup): the foreign-owner part is skipped"
fi

# The man page documents every command and lints clean.
PAGE=$srcdir/man/sockeye-passwd.8
for c in add passwd del list check; do
	grep -q "^\.It Cm $c" "$PAGE" || fail "sockeye-passwd.8 lacks '.It Cm $c'"
done
if command -v mandoc >/dev/null 2>&1; then
	lint=$(mandoc -Tlint -W warning "$PAGE" 2>&1) || true
	[ -z "$lint" ] || fail "mandoc -Tlint sockeye-passwd.8: $lint"
fi

# The daemon reads it all.
start_server echo echo
ECHO=$SERVER_PORT
write_conf "$T/sockeye.conf" \
	"auth = { methods = [ \"password\", \"chap\" ]; users_file = \"$U\"; };"
"$SOCKEYED" -t -f "$T/sockeye.conf" >"$T/t.out" 2>&1 || fail "-t: $(cat "$T/t.out")"
start_sockeye "$T/sockeye.conf"
out=$(authc pw4 -u par4 --dst "127.0.0.1:$ECHO" --send x)
expect_line "$out" '^echo=ok$' "par4's login"
out=$(authc bob-pw2 -m chap -u bob --dst "127.0.0.1:$ECHO" --send x)
expect_line "$out" '^echo=ok$' "bob's CHAP login"
exit 0
