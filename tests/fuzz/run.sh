#!/usr/bin/env bash
# make fuzz: every libFuzzer target for SECONDS, starting from its checked-in
# corpus (tests/fuzz/corpus/TARGET, read only: what the fuzzer finds goes to
# a scratch folder). A crash, leak, sanitizer report or broken invariant
# leaves its input in fuzz-findings/ and fails the run; add such an input to
# the corpus once fixed, so that make test replays it.
#   tests/fuzz/run.sh SECONDS BUILD_FUZZ_DIR
set -u
cd "$(dirname "$0")/../.." || exit 1
seconds=${1:-60}
bins=${2:-build/fuzz}
work=$(mktemp -d /tmp/fx-fuzz.XXXXXX)
findings=fuzz-findings
trap 'rm -rf "$work"' EXIT
mkdir -p "$findings"
failed=0
for src in tests/fuzz/fuzz_*.c; do
	t=$(basename "$src" .c)
	name=${t#fuzz_}
	mkdir -p "$work/$name"
	opts=()
	[ -f "tests/fuzz/$name.dict" ] && opts+=(-dict="tests/fuzz/$name.dict")
	start=$SECONDS
	"$bins/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-max_len=65536 -print_final_stats=1 \
		-artifact_prefix="$findings/$name-" \
		"${opts[@]}" \
		"$work/$name" "tests/fuzz/corpus/$name" >"$work/$name.log" 2>&1
	rc=$?
	runs=$(grep -ao 'stat::number_of_executed_units: *[0-9]*' "$work/$name.log" | grep -o '[0-9]*$')
	cov=$(grep -a 'DONE\|#[0-9].*cov:' "$work/$name.log" | tail -1 | grep -o 'cov: [0-9]*')
	if [ "$rc" -eq 0 ]; then
		echo "ok - fuzz $name: ${runs:-?} runs in $((SECONDS - start)) s, ${cov:-cov: ?}, nothing found"
	else
		echo "not ok - fuzz $name: exit $rc, input kept in $findings/ ; the report:"
		grep -a -A30 'ERROR\|invariant broken\|deadly signal' "$work/$name.log" | head -60 | sed 's/^/#   /'
		cp "$work/$name.log" "$findings/$name.log"
		failed=$((failed + 1))
	fi
done
rmdir "$findings" 2>/dev/null
[ "$failed" -eq 0 ]
