#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs every test of notify on a fresh Debian machine: installs what is missing, builds
# with warnings as errors, runs ctest (unit, golden, schema, CLI, packaging, must-not-
# compile, corpus replay), the unit tests (core, FCM, APNs, e-mail, SENS, SQS, Lambda, outbox, app) again under ASan+UBSan, and each libFuzzer
# target for a bounded time. Environment: FUZZ_SECONDS (per target, default 20),
# JOBS (default: nproc), NOTIFY_SKIP_FUZZ=1 to leave out the fuzzing stage.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
jobs=${JOBS:-$(nproc)}
build=${NOTIFY_BUILD_ROOT:-$root/build}
passed=0
failed=0

timings=""
stage_name=""
stage_start=$SECONDS
stage() {  # closes the stage before (its wall time goes to the summary), opens the next
  [ -n "$stage_name" ] && timings+=$(printf '%6d s  %s' $((SECONDS - stage_start)) "$stage_name")$'\n'
  stage_name=$*
  stage_start=$SECONDS
  printf '\n=== %s ===\n' "$*"
}
count() {  # count <name> <command...>: runs a stage, tallies it
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $name"; fi
}

stage "dependencies"
bash cmake/install-deps.sh
for node_tools in tests/schema tests/support/sqs; do  # ajv; local-aws-sqs
  (cd "$node_tools" && npm ci --no-audit --no-fund --loglevel=error)
done

stage "build (warnings are errors) and ctest"
cmake -S . -B "$build/release" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNOTIFY_WERROR=ON -DNOTIFY_BUILD_BENCHMARKS=ON >/dev/null
cmake --build "$build/release" -j"$jobs"
count "ctest" ctest --test-dir "$build/release" --output-on-failure -j"$jobs"

stage "public headers: each compiled on its own, preprocessed size"
sizes="$build/release/tests/cmake/header_sizes.txt"  # written by ctest's run of tests/cmake/header_sizes.sh
if [ -f "$sizes" ]; then cat "$sizes"; else echo "no table: the header test did not run"; fi

stage "unit tests under AddressSanitizer + UndefinedBehaviorSanitizer"
cmake -S . -B "$build/asan" -DCMAKE_BUILD_TYPE=Debug -DNOTIFY_WERROR=ON -DNOTIFY_BUILD_EXAMPLES=OFF \
  -DCMAKE_CXX_FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" >/dev/null
asan_tests=(unit/notify_unit_tests unit-fcm/notify_fcm_unit_tests unit-apns/notify_apns_unit_tests unit-email/notify_email_unit_tests
            unit-sens/notify_sens_unit_tests unit-sqs/notify_sqs_unit_tests unit-lambda/notify_lambda_unit_tests unit-outbox/notify_outbox_unit_tests
            unit-app/notify_app_unit_tests)
cmake --build "$build/asan" -j"$jobs" --target "${asan_tests[@]##*/}"
for t in "${asan_tests[@]}"; do
  count "asan+ubsan ${t##*/}" env ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "$build/asan/tests/$t" --no-version
done

if [ "${NOTIFY_SKIP_FUZZ:-0}" != 1 ] && [ -x tests/fuzz/run.sh ]; then
  stage "fuzzing (${FUZZ_SECONDS:-20} s per target)"
  count "fuzz" env FUZZ_SECONDS="${FUZZ_SECONDS:-20}" NOTIFY_BUILD_ROOT="$build" tests/fuzz/run.sh
fi

stage "summary"
printf 'wall time per stage:\n%s%6d s  in all\n' "$timings" "$SECONDS"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
