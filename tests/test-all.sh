#!/usr/bin/env bash
# make test-all (what CI runs): every suite on the plain build
# (tests/run.sh, as make test), then every suite again against the ASan and
# UBSan build in BUILD (tests/sanitize.sh, as make test SANITIZE=1). Both
# passes run whatever the first gives; ends with "N passed, N failed" summed
# over both, and fails if either pass failed.
#   tests/test-all.sh [BUILD]
set -u
cd "$(dirname "$0")/.." || exit 1
build=${1:-build-san}
passed=0 failed=0 summary=()
# pass NAME COMMAND...: runs it, adds up its closing "N passed, N failed"
pass() {
	local name=$1 out p f rc start=$SECONDS
	shift
	out=$(mktemp)
	"$@" | tee "$out"
	rc=${PIPESTATUS[0]}
	p=$(tail -1 "$out" | sed -n 's/^\([0-9]*\) passed, [0-9]* failed$/\1/p')
	f=$(tail -1 "$out" | sed -n 's/^[0-9]* passed, \([0-9]*\) failed$/\1/p')
	rm -f "$out"
	if [ -z "$p" ]; then
		echo "not ok - $name pass ended without its totals (exit $rc)"
		p=0 f=1
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name pass exited with status $rc"
		f=1
	fi
	summary+=("# $name pass: $p passed, $f failed ($((SECONDS - start)) s)")
	passed=$((passed + p))
	failed=$((failed + f))
}
pass plain tests/run.sh
pass sanitizer tests/sanitize.sh "$build"
printf '%s\n' "${summary[@]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
