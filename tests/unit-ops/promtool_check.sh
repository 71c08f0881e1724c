#!/bin/sh
# SPDX-License-Identifier: MIT
# Usage: promtool_check.sh SAMPLE_PROGRAM
# Pipes the program's Prometheus text into `promtool check metrics`; fails on any lint
# finding. Exits 77 (ctest: SKIPPED) with a message when promtool is not installed.
set -eu
if ! command -v promtool >/dev/null 2>&1; then
  echo "SKIPPED: promtool not found; install Debian's prometheus package (cmake/install-deps.sh does)" >&2
  exit 77
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$1" >"$out"
echo "checking $(grep -c '^# TYPE' "$out") metric families with $(promtool --version 2>&1 | head -n1)"
# promtool prints its findings and exits non-zero on problems; print them either way.
if ! promtool check metrics <"$out" 2>&1; then
  echo "promtool check metrics failed on:" >&2
  cat "$out" >&2
  exit 1
fi
echo "promtool check metrics: ok"
