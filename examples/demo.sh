#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The demo, end to end on a real Redis: installs what the build needs, builds notifyctl
# and notify-worker (Release) into build-demo, starts a redis-server on a free loopback
# port (nothing kept on disk), seeds the sample families, publishes one sample request
# of each of the 14 types (plus one invalid request), runs the worker until the queue is
# drained, prints a report per request and the dead-letter stream, and stops Redis.
#
#   bash examples/demo.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$root/build-demo"
data="$root/examples/data"
cd "$root"

cleanup=""
if [ -n "${NOTIFY_DEMO_WORKER:-}" ]; then
  # Tests run the demo with the programs they built: no install, no build.
  worker="$NOTIFY_DEMO_WORKER"
  notifyctl="${NOTIFY_DEMO_NOTIFYCTL:-$(dirname "$worker")/notifyctl}"
  build="$(mktemp -d)"
  cleanup="$build"
else
  echo "== installing dependencies (cmake/install-deps.sh)"
  bash cmake/install-deps.sh ||
    echo "demo: cmake/install-deps.sh failed; trying the build with what is installed" >&2

  echo "== building notifyctl and notify-worker into build-demo"
  mkdir -p "$build"
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DNOTIFY_BUILD_TESTS=OFF >"$build/configure.log" 2>&1 ||
    { cat "$build/configure.log"; exit 1; }
  cmake --build "$build" --target notifyctl notify-worker -j2 >"$build/build.log" 2>&1 ||
    { cat "$build/build.log"; exit 1; }
  worker="$build/examples/notify-worker"
  notifyctl="$build/examples/notifyctl"
fi

# shellcheck source=tests/support/redis.sh
source "$root/tests/support/redis.sh"
trap 'redis_stop; [ -z "$cleanup" ] || rm -rf "$cleanup"' EXIT

echo "== starting redis-server on a free loopback port (--save \"\" --appendonly no)"
rm -rf "$build/redis"
redis_start "$build/redis" --save "" --appendonly no
url="$REDIS_URL"
queue="$url/notify"
echo "$url, pid $REDIS_PID"

echo
echo "== notifyctl members import --members examples/data/members.json --store $url"
"$notifyctl" members import --members "$data/members.json" --store "$url" 2>&1

echo
echo "== notifyctl publish --queue $queue --file examples/data/requests.jsonl --skip-invalid"
"$notifyctl" publish --queue "$queue" --file "$data/requests.jsonl" --skip-invalid 2>&1
# The invalid lines are sent too, as they are, to show the worker dead-lettering them.
while IFS= read -r line; do
  printf '%s\n' "$line" | "$notifyctl" validate --request - >/dev/null || printf '%s\n' "$line"
done <"$data/requests.jsonl" >"$build/invalid.jsonl"
echo "== notifyctl publish --queue $queue --file - --no-validate   (the invalid line, as it is)"
"$notifyctl" publish --queue "$queue" --file - --no-validate <"$build/invalid.jsonl" 2>&1

out="$build/worker.out"
echo
echo "== notify-worker --queue $queue --members $url --push log --drain --log-format text"
# stdout (pushes, inbox records, dead letters) and stderr (events) in one file, in order.
"$worker" --queue "$queue" --members "$url" --push log --drain --log-format text >"$out" 2>&1 ||
  { cat "$out"; echo "notify-worker failed"; exit 1; }

grep -E '^(push|dead_letter) ' "$out" || true
grep -E '^step=member_skipped ' "$out" | sort -u || true
grep -E '^step=(drained|stopped) ' "$out" || true
echo "($(grep -c '^inbox ' "$out") inbox bodies published; full output with every event: $out)"

echo
echo "== report: one entry per request, in queue order"
# Events name each request; the push and inbox lines that follow a batch's "planned"
# events come in the same order, so each line is given to the first planned request
# that still expects one.
awk '
  function field(line, key,    rest, n) {   # the value of key=..., quoted or not
    n = index(line, " " key "=")
    if (!n) return ""
    rest = substr(line, n + length(key) + 2)
    if (substr(rest, 1, 1) == "\"") {
      rest = substr(rest, 2)
      n = index(rest, "\" ")
      return n ? substr(rest, 1, n - 1) : substr(rest, 1, length(rest) - 1)
    }
    n = index(rest, " ")
    return n ? substr(rest, 1, n - 1) : rest
  }
  function between(line, from, to,    a, b) {   # from "from" up to "to" or the end
    a = index(line, from)
    if (!a) return ""
    line = substr(line, a + length(from))
    b = index(line, to)
    return b ? substr(line, 1, b - 1) : line
  }
  function push_body(line,    body, n) {   # body= runs up to screen=, param= or the end
    body = between(line, " body=", " screen=")
    n = index(body, " param=")
    return n ? substr(body, 1, n - 1) : body
  }
  function error_list(json,    out, path, code) {   # " path code," for each error
    gsub(/\\"/, "\"", json)
    out = ""
    while ((path = between(json, "\"path\":\"", "\"")) != "" || index(json, "\"code\":")) {
      code = between(json, "\"code\":\"", "\"")
      out = out (out == "" ? " " : ", ") (path == "" ? "(body)" : path) " " code
      json = substr(json, index(json, "\"code\":") + 7)
    }
    return out
  }
  function add_text(r, text) {
    if (index(texts[r] "\n", "\n" text "\n")) return
    texts[r] = texts[r] "\n" text
  }
  /^step=(received|invalid) / {
    r = field(" " $0, "request")
    order[++count] = r
    if ($0 ~ /^step=invalid/) invalid[r] = field(" " $0, "detail")
    next
  }
  /^step=planned / {
    r = field(" " $0, "request")
    type[r] = field(" " $0, "type")
    split(field(" " $0, "detail"), parts, " ")
    tokens[r] = parts[1]; inboxes[r] = parts[3]
    push_left[r] = parts[1] + 0; inbox_left[r] = (parts[3] + 0 > 0)
    planned[++nplanned] = r
    next
  }
  /^push / {
    for (i = 1; i <= nplanned && push_left[planned[i]] == 0; i++) {}
    if (i > nplanned) next
    r = planned[i]; push_left[r]--
    add_text(r, between($0, " title=", " body=") " | " push_body($0))
    pushed_type[type[r]] = 1
    next
  }
  /^inbox / {
    for (i = 1; i <= nplanned && !inbox_left[planned[i]]; i++) {}
    if (i > nplanned) next
    inbox_left[planned[i]] = 0
    next
  }
  /^dead_letter / {
    dead++
    r = field(" " $0, "id")
    dead_type[r] = between($0, "\"type\":\"", "\"")
    next
  }
  END {
    w = 9   # the id column: as wide as the longest id
    for (i = 1; i <= count; i++) if (length(order[i]) > w) w = length(order[i])
    for (i = 1; i <= count; i++) {
      r = order[i]
      if (r in invalid) {
        printf "%-" w "s %-24s invalid, dead-lettered:%s\n", r, dead_type[r], error_list(invalid[r])
        continue
      }
      printf "%-" w "s %-24s %s tokens / %s inbox\n", r, type[r], tokens[r], inboxes[r]
      n = split(substr(texts[r], 2), lines, "\n")
      for (j = 1; j <= n; j++) printf "%-" w "s %-24s %s\n", "", "", lines[j]
    }
    types = 0
    for (t in pushed_type) types++
    printf "\npushes for %d of 14 types; %d request(s) dead-lettered\n", types, dead
    if (types != 14) { print "demo: expected pushes for all 14 types" > "/dev/stderr"; exit 1 }
  }
' "$out"

echo
echo "== notifyctl dlq list --queue $queue"
"$notifyctl" dlq list --queue "$queue"

echo
echo "== stopping redis-server (pid $REDIS_PID)"
redis_stop
