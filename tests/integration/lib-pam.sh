# SPDX-License-Identifier: ISC
# lib-pam.sh - sourced (after lib.sh) by the PAM tests 25-auth-pam.sh and
# 26-auth-pam-unix.sh: the daemon run under Debian's libpam-wrapper, so
# that its PAM calls read the test's own service files instead of
# /etc/pam.d. pam_wrapper (LD_PRELOAD) gives every process that calls PAM
# a private copy of libpam that looks in PAM_WRAPPER_SERVICE_DIR; modules
# named by path load from there (pam_matrix, its test password table),
# modules named bare (pam_exec.so, pam_deny.so, pam_unix.so) from the
# system's module directory. Nothing of the machine's PAM is read or
# changed.
#
# Run as root, the workers drop to `user` (nobody in write_conf) and copy
# the service files as that user: $T becomes traversable (0711) and the
# files under $PAMD readable by all.
#
# Gives: pam_wrapper_setup (or skip 77), PAMD (the service directory),
# PAM_MATRIX (the module's path), pam_file, pam_in_build CONF (or skip
# 77), start_sockeye_pam CONF.

# pam_wrapper_setup: find libpam_wrapper.so and pam_matrix.so, make
# $T/pam.d; skip the test when libpam-wrapper is not installed.
pam_wrapper_setup() {
	PAM_WRAPPER_LIB=
	_pw_mods=
	if command -v pkg-config >/dev/null 2>&1 &&
	    pkg-config --exists pam_wrapper 2>/dev/null; then
		PAM_WRAPPER_LIB=$(pkg-config --libs pam_wrapper | awk '{ print $1 }')
		_pw_mods=$(pkg-config --variable=modules pam_wrapper)
	fi
	if [ ! -f "$PAM_WRAPPER_LIB" ]; then
		for _pw_l in /usr/lib/*/libpam_wrapper.so /usr/lib64/libpam_wrapper.so \
		    /usr/lib/libpam_wrapper.so; do
			if [ -f "$_pw_l" ]; then
				PAM_WRAPPER_LIB=$_pw_l
				_pw_mods=$(dirname "$_pw_l")/pam_wrapper
				break
			fi
		done
	fi
	[ -f "$PAM_WRAPPER_LIB" ] ||
		skip "libpam-wrapper is not installed (apt-get install libpam-wrapper)"
	PAM_MATRIX=$_pw_mods/pam_matrix.so
	[ -f "$PAM_MATRIX" ] || skip "no pam_matrix.so beside $PAM_WRAPPER_LIB"
	chmod 711 "$T"
	PAMD=$T/pam.d
	mkdir "$PAMD"
	chmod 755 "$PAMD"
	# pam_wrapper leaks its directory's name (34 bytes, once per
	# process): not ours to fix, not to be reported, nor counted (an
	# asan.PID file, even of counts alone, fails the test).
	printf 'leak:libpam_wrapper.so\n' >"$T/lsan.supp"
	chmod 644 "$T/lsan.supp"
}

# pam_file NAME LINE...: the service file $PAMD/NAME, readable by all.
pam_file() {
	_pf=$PAMD/$1
	shift
	printf '%s\n' "$@" >"$_pf"
	chmod 644 "$_pf"
}

# pam_in_build CONF: skip the test when this sockeyed was built without
# PAM (`sockeyed -t` says so for auth.password_backend = "pam").
pam_in_build() {
	if "$SOCKEYED" -t -f "$1" 2>&1 | grep -q 'built without PAM'; then
		skip "this sockeyed was built without PAM (configure --without-pam, or no libpam0g-dev)"
	fi
}

# start_sockeye_pam CONF: start_sockeye with pam_wrapper preloaded, for
# the daemon only (the helpers run without it). The sanitizer build is
# told that its runtime need not come first (pam_wrapper does), and
# pam_wrapper not to dlopen libpam with RTLD_DEEPBIND, which ASan
# refuses (version 1.1.4 reads UID_WRAPPER_DISABLE_DEEPBIND for it).
start_sockeye_pam() {
	_sp_asan=${ASAN_OPTIONS:-}
	_sp_lsan=${LSAN_OPTIONS:-}
	LD_PRELOAD=$PAM_WRAPPER_LIB
	PAM_WRAPPER=1
	PAM_WRAPPER_SERVICE_DIR=$PAMD
	PAM_WRAPPER_DISABLE_DEEPBIND=1
	UID_WRAPPER_DISABLE_DEEPBIND=1
	ASAN_OPTIONS="${_sp_asan:+$_sp_asan:}verify_asan_link_order=0"
	LSAN_OPTIONS="${_sp_lsan:+$_sp_lsan:}suppressions=$T/lsan.supp:print_suppressions=0"
	export LD_PRELOAD PAM_WRAPPER PAM_WRAPPER_SERVICE_DIR \
		PAM_WRAPPER_DISABLE_DEEPBIND UID_WRAPPER_DISABLE_DEEPBIND \
		ASAN_OPTIONS LSAN_OPTIONS
	start_sockeye "$1"
	unset LD_PRELOAD PAM_WRAPPER PAM_WRAPPER_SERVICE_DIR \
		PAM_WRAPPER_DISABLE_DEEPBIND UID_WRAPPER_DISABLE_DEEPBIND
	ASAN_OPTIONS=$_sp_asan
	if [ -n "$_sp_lsan" ]; then
		LSAN_OPTIONS=$_sp_lsan
	else
		unset LSAN_OPTIONS
	fi
}
