#!/usr/bin/env bash
# make test SANITIZE=1: every suite against the ASan+UBSan build in BUILD
# (build-san), one at a time through tests/run.sh. The suites call
# ./flowexport and build/*, so they run in BUILD/tree, a copy of this
# checkout (without .git and the builds) whose flowexport is a link to the
# sanitized binary (its templates/ beside it, as for ./flowexport) and
# whose build/ is BUILD. SANITIZE=1 is exported, so a suite that runs make
# there (27-install) builds and installs the sanitized binary. A sanitizer
# report (memory error, undefined behaviour, a leak not in tests/lsan.supp)
# lands in BUILD/reports/SUITE and fails that suite even when its own checks
# passed. Ends, like tests/run.sh, with "N passed, N failed".
#   tests/sanitize.sh [BUILD] [SUITE-SUBSTRING]
set -u
cd "$(dirname "$0")/.." || exit 1
repo=$PWD
build=$repo/${1:-build-san}
only=${2:-}
tree=$build/tree
reports=$build/reports
if [ ! -x "$build/flowexport" ]; then
	echo "not ok - sanitized build missing: run make test SANITIZE=1"
	echo "0 passed, 1 failed"
	exit 1
fi
rm -rf "$tree" "$reports"
mkdir -p "$tree" "$reports"
for f in "$repo"/* "$repo"/.[!.]*; do
	case $(basename "$f") in
	build | build-san | flowexport | .git | fuzz-findings) ;;
	*) cp -a "$f" "$tree/" ;;
	esac
done
ln -s "$build" "$tree/build"
ln "$build/flowexport" "$tree/flowexport" 2>/dev/null || cp -a "$build/flowexport" "$tree/flowexport"

# Suites left out of this pass, each because the sanitized build adds
# nothing to it; the normal pass (make test) runs them.
skip() { rm -f "$tree/tests/$1.test"; [[ "$1" == *"$only"* ]] && echo "# suite $1: not run under sanitizers: $2"; }
skip 28-deb "it builds the package with dpkg-buildpackage and Debian's release flags from a copy of the source, and runs only --version of that binary; a package of the ASan build is not one anybody ships"
skip 40-fuzz-corpus "the libFuzzer targets are always built with ASan and UBSan (make fuzz-build), so the normal pass already replays their corpus under both"
skip 41-valgrind "valgrind and ASan cannot share a process; the normal pass runs it on the plain build"

# verify_asan_link_order=0: 24-clock-step preloads libfaketime before ASan.
# handle_segv=0: 23-crash sends SIGSEGV itself (kill -SEGV) to play a
# crash, which ASan would report as one; a real fault in our code still
# kills the process and fails its suite, and ASan's checks catch bad
# accesses before they fault.
asan="detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1:verify_asan_link_order=0:handle_segv=0"
export LSAN_OPTIONS="suppressions=$repo/tests/lsan.supp:print_suppressions=0"
export SANITIZE=1
# make test SANITIZE=1 runs this from make: its flags (the jobserver) are
# not for the suites' own make runs.
unset MAKEFLAGS MFLAGS MAKELEVEL

passed=0 failed=0 start=$SECONDS
for suite in "$tree"/tests/*.test; do
	name=$(basename "$suite" .test)
	[[ "$name" == *"$only"* ]] || continue
	mkdir -p "$reports/$name"
	out=$(mktemp)
	ASAN_OPTIONS="log_path=$reports/$name/report:$asan" \
		UBSAN_OPTIONS="log_path=$reports/$name/report:print_stacktrace=1:halt_on_error=1" \
		"$tree/tests/run.sh" "$name.test" | tee "$out"
	p=$(tail -1 "$out" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
	f=$(tail -1 "$out" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
	[ -n "$p" ] || { p=0 f=1; }
	rm -f "$out"
	n=$(find "$reports/$name" -type f | wc -l)
	if [ "$n" -eq 0 ]; then
		echo "ok - $name: no ASan, UBSan or LeakSanitizer report"
		p=$((p + 1))
	else
		echo "not ok - $name: $n sanitizer report(s) in $reports/$name:"
		for r in "$reports/$name"/*; do
			echo "# --- $r"
			head -40 "$r" | sed 's/^/#   /'
		done
		f=$((f + 1))
	fi
	passed=$((passed + p))
	failed=$((failed + f))
done
echo "# sanitizer pass: $((SECONDS - start)) s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
