#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/package/rpm.sh - the RPM, built as a packager would: `rpmbuild -ta`
# on `make dist`'s tarball, then its contents, scriptlets and file
# attributes checked. On Debian, rpmbuild (package rpm) cannot see the
# build dependencies installed with dpkg, so it runs with --nodeps, and
# without the test suite (--without check), which `make check` and
# `make distcheck` have run already. Nothing is installed.
#
# Exit: 0 pass, 1 fail, 77 skip (rpmbuild not found), 99 error.

if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
. "$(dirname "$0")/lib.sh"

need rpmbuild rpm

trap 'rm -rf "$T"' EXIT

step "make dist-gzip"
version=$(sed -n 's/^PACKAGE_VERSION = //p' "$builddir/Makefile")
[ -n "$version" ] || error "no PACKAGE_VERSION in $builddir/Makefile"
(cd "$builddir" && $MAKE dist-gzip) >"$T/dist.log" 2>&1 ||
	{ cat "$T/dist.log"; fail "make dist-gzip"; }
tarball=$builddir/sockeye-$version.tar.gz
tar -tzf "$tarball" | grep -qx "sockeye-$version/packaging/rpm/sockeye.spec" ||
	fail "the tarball has no packaging/rpm/sockeye.spec"

step "rpmbuild -ta --nodeps --without check"
out=$builddir/pkg-out/rpm
rm -rf "$out"
mkdir -p "$out"
flags=(--define "_topdir $T/rpmbuild")
[ -f /etc/debian_version ] && flags+=(--nodeps)
if ! rpmbuild -ta "${flags[@]}" --without check "$tarball" >"$T/rpmbuild.log" 2>&1; then
	tail -n 60 "$T/rpmbuild.log"
	fail "rpmbuild -ta failed (the log's end is above)"
fi
grep -E '^(Wrote|warning):' "$T/rpmbuild.log" | sed 's/^/   /'
rpmfile=$(ls "$T"/rpmbuild/RPMS/*/sockeye-"$version"-*.rpm 2>/dev/null | grep -v -- -debug | head -n 1)
[ -f "$rpmfile" ] || fail "no binary RPM was written"
cp "$T"/rpmbuild/RPMS/*/*.rpm "$T"/rpmbuild/SRPMS/*.rpm "$out"/ 2>/dev/null
note "built $(basename "$rpmfile"), copied to $out"

step "RPM contents and scriptlets"
rpm -qp --qf '%{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}: %{SUMMARY}\n' "$rpmfile" | sed 's/^/   /'
rpm -qlvp "$rpmfile" | awk '{ print $1, $3, $4, $NF }' | sed 's/^/   /'
rpm -qlp "$rpmfile" >"$T/files"
expect=(/usr/sbin/sockeyed /etc/sockeye/sockeye.conf /etc/sockeye/users
    /etc/pam.d/sockeye /usr/lib/systemd/system/sockeye.service)
for m in $(cd "$builddir" && printf '_v:\n\t@echo $(dist_man_MANS)\n' | $MAKE -s -f Makefile -f - _v); do
	m=$(basename "$m")
	expect+=("/usr/share/man/man${m##*.}/$m")
done
for p in "${expect[@]}"; do
	grep -q "^$p\(\.gz\|\.bz2\|\.xz\|\.zst\)\{0,1\}\$" "$T/files" || fail "the RPM lacks $p"
done
lic=$(rpm -qp --qf '%{LICENSE}' "$rpmfile")
[ "$lic" = ISC ] || fail "the RPM's License: is '$lic', want ISC"
# %license: Fedora's licence directory is sockeye/, rpm's default (here
# on Debian) sockeye-VERSION/.
licfile=$(rpm -qp --qf '[%{FILEFLAGS:fflags} %{FILENAMES}\n]' "$rpmfile" |
    sed -n 's|^l \(/usr/share/licenses/sockeye[^/]*/LICENSE\)$|\1|p')
[ -n "$licfile" ] || fail "the RPM has no /usr/share/licenses/sockeye*/LICENSE marked %license"
note "License: ISC, $licfile (%license)"
rpm -qp --configfiles "$rpmfile" | grep -qx /etc/sockeye/sockeye.conf ||
	fail "/etc/sockeye/sockeye.conf is not %config"
rpm -qlvp "$rpmfile" | awk '$NF == "/etc/sockeye/users" { print $1, $3, $4 }' >"$T/users"
[ "$(cat "$T/users")" = "-rw-r----- root sockeye" ] ||
	fail "/etc/sockeye/users is '$(cat "$T/users")', want -rw-r----- root sockeye"
rpm -qp --scripts "$rpmfile" >"$T/scripts"
grep -q 'useradd -r -g sockeye' "$T/scripts" || fail "no %pre creating user sockeye"
rpm -qp --qf '[%{FILEFLAGS:fflags} %{FILENAMES}\n]' "$rpmfile" | grep -q '^cn /etc/sockeye/users$' ||
	fail "/etc/sockeye/users is not %config(noreplace)"
rpm -qp --qf '[%{FILEFLAGS:fflags} %{FILENAMES}\n]' "$rpmfile" | grep -q '^cn /etc/pam.d/sockeye$' ||
	fail "/etc/pam.d/sockeye is not %config(noreplace)"
if command -v rpm2cpio >/dev/null 2>&1 && command -v cpio >/dev/null 2>&1; then
	(cd "$T" && rpm2cpio "$rpmfile" | cpio -idm --quiet ./usr/lib/systemd/system/sockeye.service)
	grep -qx 'ExecStart=/usr/sbin/sockeyed -F -f /etc/sockeye/sockeye.conf' \
	    "$T/usr/lib/systemd/system/sockeye.service" ||
		fail "the RPM's unit does not run /usr/sbin/sockeyed -F -f /etc/sockeye/sockeye.conf"
	note "the unit runs /usr/sbin/sockeyed -F -f /etc/sockeye/sockeye.conf"
else
	note "rpm2cpio or cpio not found: the unit's paths are not checked"
fi
note "programs, man pages, config (noreplace), users file 0640 root:sockeye, PAM service (noreplace), unit, user creation: OK"

total_time
echo "PASS: $TEST_NAME"
exit 0
