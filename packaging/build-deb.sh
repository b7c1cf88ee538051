#!/bin/sh
# SPDX-License-Identifier: ISC
# build-deb.sh - build the Debian package of sockeye.
#
#   packaging/build-deb.sh [TARBALL]
#
# Run it in a configured build tree (after ./configure), or use `make deb`.
# It makes the release tarball with `make dist` (or takes TARBALL),
# unpacks it in a temporary directory, places packaging/debian at debian/
# and runs `dpkg-buildpackage -us -uc -b` there, so the package is built
# from exactly what the tarball holds. The .deb, .changes and .buildinfo
# land in pkg-out/deb/ (or $PKG_OUT). The environment is passed on:
# DEB_BUILD_OPTIONS=nocheck DEB_BUILD_PROFILES=nocheck skips the test suite
# and its build dependencies.
#
# Needs dpkg-dev, debhelper and the Build-Depends of packaging/debian/control
# (not fakeroot: the package says Rules-Requires-Root: no).
set -eu

say() { echo "build-deb: $*" >&2; }
die() { say "$*"; exit 1; }

command -v dpkg-buildpackage >/dev/null 2>&1 ||
	die "dpkg-buildpackage not found: apt-get install dpkg-dev debhelper"
[ -f Makefile ] ||
	die "run me in a configured build tree (./configure first), or use 'make deb'"

out=${PKG_OUT:-$(pwd)/pkg-out/deb}
mkdir -p "$out"
out=$(cd "$out" && pwd)

if [ $# -ge 1 ]; then
	tarball=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
else
	${MAKE:-make} dist-gzip >&2 || die "make dist-gzip failed"
	version=$(sed -n 's/^PACKAGE_VERSION = //p' Makefile)
	tarball=$(pwd)/sockeye-$version.tar.gz
fi
[ -f "$tarball" ] || die "no tarball $tarball"
base=$(basename "$tarball" .tar.gz)		# sockeye-VERSION
version=${base#sockeye-}

work=$(mktemp -d "${TMPDIR:-/tmp}/sockeye-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
tar -C "$work" -xzf "$tarball"
src=$work/$base
[ -d "$src/packaging/debian" ] || die "$tarball has no packaging/debian"
cp -R "$src/packaging/debian" "$src/debian"
# What a source upload would use; lets `dpkg-buildpackage` (without -b)
# work from this directory too.
cp "$tarball" "$work/sockeye_$version.orig.tar.gz"

# debian/changelog names the version: it must be this tarball's.
debversion=$(cd "$src" && dpkg-parsechangelog -S Version)
case $debversion in
"$version"-*) ;;
*) die "packaging/debian/changelog is at $debversion, the tarball at $version: add a changelog entry ($version-1) first" ;;
esac

say "building $debversion in $src"
# -Jauto: as many jobs as CPUs (the test suite runs in dh_auto_test).
(cd "$src" && dpkg-buildpackage -us -uc -b -Jauto) >&2 ||
	die "dpkg-buildpackage failed"

arch=$(dpkg-architecture -qDEB_HOST_ARCH)
for f in "$work"/sockeye*_"$debversion"_*.deb \
    "$work"/sockeye*_"$debversion"_*.ddeb \
    "$work/sockeye_${debversion}_$arch.changes" \
    "$work/sockeye_${debversion}_$arch.buildinfo"; do
	[ -f "$f" ] || continue
	cp "$f" "$out/"
	echo "$out/$(basename "$f")"
done
