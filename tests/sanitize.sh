#!/usr/bin/env bash
# make test SANITIZE=1: every suite against the ASan+UBSan build in BUILD
# (build-san). The suites call ./flowexport and build/tests/*, so they run
# in BUILD/tree, a tree of links to this checkout whose flowexport and
# build/ are the sanitized ones. A sanitizer report (memory error, undefined
# behaviour, a leak not in tests/lsan.supp) goes to BUILD/reports and fails
# the run even when the suite itself passed.
#   tests/sanitize.sh [BUILD] [SUITE-SUBSTRING]
set -u
cd "$(dirname "$0")/.." || exit 1
repo=$PWD
build=$repo/${1:-build-san}
tree=$build/tree
reports=$build/reports
if [ ! -x "$build/flowexport" ]; then
	echo "not ok - sanitized build missing: run make test SANITIZE=1"
	exit 1
fi
rm -rf "$tree" "$reports"
mkdir -p "$tree" "$reports"
for f in "$repo"/* "$repo"/.[!.]*; do
	case $(basename "$f") in
	build | build-san | flowexport | .git) ;;
	*) ln -s "$f" "$tree/" ;;
	esac
done
ln -s "$build" "$tree/build"
ln -s "$build/flowexport" "$tree/flowexport"

# verify_asan_link_order=0: 24-clock-step preloads libfaketime before ASan.
# handle_segv=0: 23-crash sends SIGSEGV itself (kill -SEGV) to play a
# crash, which ASan would report as one; a real fault in our code still
# kills the process and fails its suite, and ASan's checks catch bad
# accesses before they fault.
export ASAN_OPTIONS="log_path=$reports/asan:detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1:verify_asan_link_order=0:handle_segv=0"
export UBSAN_OPTIONS="log_path=$reports/ubsan:print_stacktrace=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$repo/tests/lsan.supp:print_suppressions=0"
start=$SECONDS
"$tree/tests/run.sh" "${2:-}"
rc=$?
n=$(find "$reports" -type f | wc -l)
if [ "$n" -eq 0 ]; then
	echo "ok - sanitizers: no ASan, UBSan or LeakSanitizer report ($((SECONDS - start)) s)"
else
	echo "not ok - sanitizers: $n report(s) in $reports:"
	for r in "$reports"/*; do
		echo "# --- $r"
		head -40 "$r" | sed 's/^/#   /'
	done
	rc=1
fi
exit $rc
