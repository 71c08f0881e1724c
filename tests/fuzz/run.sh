#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the libFuzzer targets with clang++ (ASan + UBSan) and runs each for a bounded
# time on a copy of its committed corpus, so the corpus in git never grows by itself.
# Prints the number of executions per target; exits non-zero if any target crashed,
# leaked, timed out or could not be built.
#
# Environment:
#   FUZZ_SECONDS     seconds per target (default 30); FUZZ_SECONDS=3600 to fuzz longer
#   FUZZ_TARGETS     space-separated subset (default: every tests/fuzz/<target>.cpp)
#   FUZZ_KEEP=1      keep the grown corpus copies (paths are printed) for merging
#   NOTIFY_BUILD_ROOT  build under $NOTIFY_BUILD_ROOT/fuzz-clang (default: build-fuzz-clang)
#   JOBS             parallel build jobs (default: nproc)
#
# A crash leaves its input as <work dir>/crash-<sha1>; once fixed, commit it to
# tests/fuzz/corpus/<target>/ so ctest replays it ("fuzz-replay: <target>").
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
seconds=${FUZZ_SECONDS:-30}
jobs=${JOBS:-$(nproc)}
if [ -n "${NOTIFY_BUILD_ROOT:-}" ]; then build=$NOTIFY_BUILD_ROOT/fuzz-clang; else build=$root/build-fuzz-clang; fi

if [ -n "${FUZZ_TARGETS:-}" ]; then
  read -r -a targets <<<"$FUZZ_TARGETS"
else
  targets=()
  for src in "$here"/*.cpp; do
    name=$(basename "$src" .cpp)
    [ "$name" = replay_main ] || targets+=("$name")
  done
fi

command -v clang++ >/dev/null || { echo "run.sh: clang++ not found (apt-get install clang)" >&2; exit 1; }

echo "== configuring $build"
cmake -S "$root" -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DNOTIFY_FUZZ=ON -DNOTIFY_BUILD_EXAMPLES=OFF -DNOTIFY_BUILD_TESTS=ON >/dev/null
fuzzers=()
for t in "${targets[@]}"; do fuzzers+=("${t}_fuzzer"); done
echo "== building ${fuzzers[*]}"
cmake --build "$build" -j"$jobs" --target "${fuzzers[@]}"

failed=0
summary=()
for t in "${targets[@]}"; do
  bin=$build/tests/fuzz/${t}_fuzzer
  work=$(mktemp -d "${TMPDIR:-/tmp}/notify-fuzz-$t.XXXXXX")
  mkdir "$work/corpus"
  cp -R "$here/corpus/$t/." "$work/corpus/"
  log=$work/fuzz.log
  # A target's own dictionary (tests/fuzz/<target>.dict) if it has one, else the JSON one.
  dict=$here/notify.dict
  if [ -f "$here/$t.dict" ]; then dict=$here/$t.dict; fi
  echo "== fuzzing $t for ${seconds}s (work dir $work)"
  status=0
  # -timeout: one input taking over 10 s counts as a hang; -rss_limit_mb: as a leak of memory.
  (cd "$work" && "$bin" -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -dict="$dict" -artifact_prefix="$work/" "$work/corpus") >"$log" 2>&1 || status=$?

  runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n1)
  secs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\2/p' "$log" | tail -n1)
  files=$(find "$work/corpus" -type f | wc -l)
  if [ "$status" -ne 0 ] || [ -z "$runs" ]; then
    failed=1
    echo "FAILED: $t (exit $status); the end of its log:"
    tail -n 40 "$log"
    ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* 2>/dev/null || true
    summary+=("$t: FAILED (log: $log)")
    continue
  fi
  rate=$((runs / (secs > 0 ? secs : 1)))
  units=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n1)
  summary+=("$t: $runs runs in ${secs} s ($rate exec/s, ${units:-?} executed units), corpus $(find "$here/corpus/$t" -type f | wc -l) -> $files files")
  if [ "${FUZZ_KEEP:-0}" = 1 ]; then summary+=("  grown corpus kept in $work/corpus"); else rm -rf "$work"; fi
done

echo "== summary"
printf '%s\n' "${summary[@]}"
exit "$failed"
