#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/package/deb-git.sh - the Debian package built the way a packager
# working from git builds it: no `make dist`, no configure script yet.
#
#  1. copy the files git tracks, as they are in the work tree (what a
#     checkout holds: no configure, no Makefile.in, nothing built), to a
#     temporary directory;
#  2. cp -r packaging/debian debian; dpkg-buildpackage -b -us -uc (with
#     DEB_BUILD_OPTIONS=nocheck: deb.sh runs the unit tests in its package
#     build already; this test is about what gets built and packaged);
#  3. the .deb holds the programs (/usr/sbin/sockeyed first of all), and
#     lintian finds no error and no warning on it, in particular not
#     empty-binary-package (what debian/rules made of a checkout while it
#     never generated the configure script).
#
# It builds only, in its own temporary directory, and installs nothing.
# It takes about as long as one build of the tree (a minute or two; the
# time of each step is printed).
#
# Exit: 0 pass, 1 fail, 77 skip (not root, tool missing, the source tree is
# not a git checkout), 99 error.

if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
. "$(dirname "$0")/lib.sh"

# Not needed by dpkg-buildpackage itself (Rules-Requires-Root: no); the
# package tests are for a CI or throw-away machine, as root, all of them.
[ "$(id -u)" = 0 ] || skip "needs root, like the other package tests (make ci-package)"
need git tar dpkg-buildpackage dh lintian
git -C "$srcdir" rev-parse --is-inside-work-tree >/dev/null 2>&1 ||
	skip "$srcdir is not a git checkout (a release tarball has its configure script; deb.sh builds from that)"

trap 'rm -rf "$T"' EXIT
trap 'exit 99' INT TERM HUP

step "copy the checkout (the files git tracks) to a temporary directory"
src=$T/sockeye
mkdir "$src"
# --no-recursion: git names files, never a directory to take whole.
(cd "$srcdir" && git ls-files -z |
    tar --null --no-recursion --ignore-failed-read -T - -cf -) 2>"$T/tar.err" |
    tar -C "$src" -xf - || error "copying the tracked files failed: $(cat "$T/tar.err")"
[ -f "$src/configure.ac" ] && [ -d "$src/packaging/debian" ] ||
	error "the copy has no configure.ac or packaging/debian"
[ -e "$src/configure" ] && error "git tracks a configure script: this test is about a checkout without one"
note "$(git -C "$srcdir" rev-parse --short HEAD)$(git -C "$srcdir" diff --quiet HEAD 2>/dev/null || echo ' with uncommitted changes'): $(find "$src" -type f | wc -l) files, no configure script"

step "cp -r packaging/debian debian; dpkg-buildpackage -b -us -uc"
cp -r "$src/packaging/debian" "$src/debian"
if ! (cd "$src" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" \
    DEB_BUILD_PROFILES=nocheck dpkg-buildpackage -b -us -uc) >"$T/build.log" 2>&1; then
	tail -n 60 "$T/build.log"
	fail "dpkg-buildpackage failed in a checkout (the log's end is above)"
fi
grep -qx 'debian/rules: no configure script (a git checkout): running autoreconf' "$T/build.log" &&
	note "debian/rules generated the configure script (dh_autoreconf)"
deb=$(ls "$T"/sockeye_*.deb 2>/dev/null | head -n 1)
changes=$(ls "$T"/sockeye_*.changes 2>/dev/null | head -n 1)
[ -f "$deb" ] && [ -f "$changes" ] || fail "no .deb or .changes next to the checkout"
note "built $(basename "$deb") ($(stat -c %s "$deb") bytes)"

step "package contents"
dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|; s|/$||' >"$T/contents"
for p in /usr/sbin/sockeyed /usr/sbin/sockeye-passwd /usr/bin/sockeye-connect \
    /usr/share/man/man8/sockeyed.8.gz /etc/sockeye/sockeye.conf \
    /lib/systemd/system/sockeye.service /usr/share/doc/sockeye/copyright; do
	grep -qx "$p" "$T/contents" || fail "the package built from a checkout lacks $p"
done
note "$(wc -l <"$T/contents") entries, /usr/sbin/sockeyed among them"

step "lintian (no error, no warning; no empty-binary-package)"
lintian --fail-on error,warning "$changes" >"$T/lintian.out" 2>"$T/lintian.err"
lrc=$?
grep -v 'running with root privileges' "$T/lintian.err" >&2
if [ -s "$T/lintian.out" ]; then
	sed 's/^/   lintian: /' "$T/lintian.out"
else
	note "lintian: no tags"
fi
grep -q 'empty-binary-package' "$T/lintian.out" &&
	fail "lintian: empty-binary-package: debian/rules built nothing from the checkout"
[ $lrc -eq 0 ] || fail "lintian (exit $lrc): see above"
grep -q '^[EW]: ' "$T/lintian.out" && fail "lintian reports errors or warnings: see above"

total_time
echo "PASS: $TEST_NAME"
exit 0
