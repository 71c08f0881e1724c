#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Compiles every public header on its own and prints how big it is once preprocessed.
#
#   header_sizes.sh MANIFEST CXX [OUTPUT]
#
# MANIFEST (written by tests/cmake/CMakeLists.txt) has one line per public header:
#   <name as included><TAB><target><TAB><-I flags of a consumer linking that target>
# For each header, a translation unit holding only `#include <name>` twice is
#   - preprocessed (-E): "lines" counts its non-blank lines, line markers left out;
#     "nlohmann" says whether nlohmann/json's headers are among those it reads;
#   - compiled (-fsyntax-only, the project's warnings as errors): self-contained and guarded.
# Prints the table (also to OUTPUT when given); fails when a header does not compile on its
# own, or when one outside the notify_json target reads nlohmann (only notify::json and notify::app, the programs' wiring, may).
set -uo pipefail
manifest=$1
cxx=$2
output=${3:-}
flags=(-std=c++20 -x c++ -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion -Werror)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

status=0
total=0
table="$tmp/table"
printf '%-40s %-14s %9s %9s  %s\n' header target lines KiB nlohmann >"$table"
while IFS=$'\t' read -r name target includes; do
  [ -n "$name" ] || continue
  incs=()
  for flag in $includes; do  # the compiler's own directories left out (an -I of them upsets #include_next)
    case " ${incs[*]} " in *" $flag "*) continue ;; esac
    [ "$flag" = -I/usr/include ] || [ "$flag" = -I/usr/local/include ] || incs+=("$flag")
  done
  printf '#include <%s>\n#include <%s>\n' "$name" "$name" >"$tmp/tu.cpp"
  if ! "$cxx" "${flags[@]}" "${incs[@]}" -fsyntax-only "$tmp/tu.cpp" 2>"$tmp/err"; then
    echo "FAILED: <$name> does not compile on its own (${target}):" >&2
    head -n 20 "$tmp/err" >&2
    status=1
  fi
  if ! "$cxx" -std=c++20 -x c++ "${incs[@]}" -E "$tmp/tu.cpp" -o "$tmp/pp" 2>/dev/null; then
    printf '%-40s %-14s %9s %9s  %s\n' "$name" "$target" - - - >>"$table"
    continue
  fi
  lines=$(grep -v '^#' "$tmp/pp" | grep -c '[^[:space:]]')
  kib=$(($(wc -c <"$tmp/pp") / 1024))
  json=-
  if grep -q '^# [0-9]* "[^"]*/nlohmann/' "$tmp/pp"; then
    json=yes
    # notify::app (the programs' wiring) prints JSON documents with it and links notify::json.
    if [ "$target" != notify_json ] && [ "$target" != notify_app ]; then
      echo "FAILED: <$name> (${target}) reads nlohmann/json; only notify::json's and notify::app's headers may" >&2
      status=1
    fi
  fi
  total=$((total + lines))
  printf '%-40s %-14s %9s %9s  %s\n' "$name" "$target" "$lines" "$kib" "$json" >>"$table"
done <"$manifest"
printf '%-40s %-14s %9s\n' "(sum)" "" "$total" >>"$table"
echo "Public headers, each alone in a translation unit: non-blank lines after -E (line markers"
echo "left out), size of the -E output, and whether nlohmann/json is read."
cat "$table"
[ -z "$output" ] || cp "$table" "$output"
exit "$status"
