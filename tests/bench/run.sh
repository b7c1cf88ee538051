#!/bin/sh
# SPDX-License-Identifier: ISC
# run.sh [SCENARIO...] - run benchmark scenarios (tests/bench/scenarios/
# NAME.sh; default: all of them, in name order) and report each one's
# verdict. Not part of `make check`: `make bench` runs this, and
# `make bench BENCH=happy-eyeballs` one scenario. See README.md here.
#
# Environment: SOCKEYED (the daemon, default ./sockeyed), srcdir (the
# source tree, default .); each scenario documents its own knobs.
# Exit 0 when every scenario that ran met its goal, 1 otherwise.

: "${SOCKEYED:=./sockeyed}"
: "${srcdir:=.}"
export SOCKEYED srcdir

dir=$srcdir/tests/bench/scenarios
if [ $# -eq 0 ]; then
	for f in "$dir"/*.sh; do
		[ -f "$f" ] && set -- "$@" "$(basename "$f" .sh)"
	done
fi
status=0
summary=
for name in "$@"; do
	script=$dir/$name.sh
	if [ ! -f "$script" ]; then
		echo "bench: no scenario '$name' (in $dir)" >&2
		status=1
		continue
	fi
	echo "=== $name"
	rc=0
	"${SHELL:-/bin/sh}" "$script" || rc=$?
	case $rc in
	0) verdict=PASS ;;
	77) verdict=SKIP ;;
	*) verdict=FAIL; status=1 ;;
	esac
	summary="$summary$verdict: $name
"
done
echo "==="
printf '%s' "$summary"
exit $status
