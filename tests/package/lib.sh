# SPDX-License-Identifier: ISC
# lib.sh - sourced by tests/package/*.sh (bash).
#
# Exit codes as in the rest of the suite: skip 77, fail 1, error 99. Each
# step is announced with "== " and ends with its time, so CI's log shows
# where the minutes go.
#
# Environment (set by `make ci-package`): srcdir, the source tree; builddir,
# the configured build tree (default: the current directory); MAKE.

: "${builddir:=$(pwd)}"
: "${srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${MAKE:=make}"
TEST_NAME=$(basename "$0" .sh)

skip()  { echo "SKIP: $TEST_NAME: $*" >&2; exit 77; }
fail()  { echo "FAIL: $TEST_NAME: $*" >&2; exit 1; }
error() { echo "ERROR: $TEST_NAME: $*" >&2; exit 99; }
note()  { echo "# $*"; }

T=$(mktemp -d "${TMPDIR:-/tmp}/sockeye-$TEST_NAME.XXXXXX") || error "mktemp failed"

_step_name=""
_step_start=0
_test_start=$(date +%s.%N)
_secs() { echo "$1 $2" | awk '{ printf "%.1f", $2 - $1 }'; }
step_end() {
	if [ -n "$_step_name" ]; then
		echo "   ($_step_name: $(_secs "$_step_start" "$(date +%s.%N)") s)"
	fi
	_step_name=""
}
step() {
	step_end
	_step_name=$*
	_step_start=$(date +%s.%N)
	echo "== $*"
}
total_time() {
	step_end
	echo "== $TEST_NAME: $(_secs "$_test_start" "$(date +%s.%N)") s in all"
}

need() {
	for _c in "$@"; do
		command -v "$_c" >/dev/null 2>&1 || skip "$_c not found"
	done
}
