#!/usr/bin/env bash
# Runs every test suite (tests/*.test, in name order) and prints the total as
# "N passed, N failed". A suite prints TAP-style lines, "ok - what" or
# "not ok - what", and exits non-zero when any check failed; a suite that
# fails without printing a "not ok" line counts as one failure.
set -u
cd "$(dirname "$0")/.."
passed=0 failed=0
only=${1:-}
for suite in tests/*.test; do
	[ -n "$only" ] && [[ "$suite" != *"$only"* ]] && continue
	name=$(basename "$suite" .test)
	echo "# suite $name"
	out=$(mktemp)
	start=$SECONDS
	timeout --kill-after=10 900 "$suite" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	p=$(grep -c '^ok ' "$out")
	f=$(grep -c '^not ok ' "$out")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - suite $name exited with status $rc"
		f=1
	fi
	echo "# suite $name: $p passed, $f failed ($((SECONDS - start)) s)"
	passed=$((passed + p))
	failed=$((failed + f))
	rm -f "$out"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
