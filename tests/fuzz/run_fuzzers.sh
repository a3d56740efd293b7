#!/bin/sh
# A short run of every fuzz target on its saved corpus (tests/fuzz/corpus): a crash,
# a sanitizer report or a broken invariant fails the test and leaves the input in
# the run's directory, named in the output.
# Usage: run_fuzzers.sh FUZZ_BUILD_DIR CORPUS_DIR SECONDS_EACH
set -u
build="$1"; corpus="$2"; seconds="$3"
work=$(mktemp -d /tmp/pyprofd-fuzz-XXXXXX)
failed=0
for name in session_request request_target folded config attach elf; do
  binary="$build/fuzz_$name"
  if [ ! -x "$binary" ]; then
    echo "FAIL $binary is missing: the fuzz targets need clang-14 and libclang-rt-14-dev (scripts/deps-test.txt)"
    failed=1; continue
  fi
  mkdir -p "$work/$name"
  cp "$corpus/$name"/* "$work/$name"/  # the saved corpus stays as it is
  if "$binary" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$work/" "$work/$name" \
       >"$work/$name.log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$name.log")
    echo "ok   fuzz_$name: $runs inputs in $seconds s, no crash"
  else
    echo "FAIL fuzz_$name found a crash; the input and the report are in $work:"
    grep -E "ERROR|SUMMARY|Test unit written" "$work/$name.log" | head -5
    failed=1
  fi
done
[ $failed -eq 0 ] && rm -rf "$work"
exit $failed
