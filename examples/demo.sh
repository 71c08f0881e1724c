#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The demo, end to end on a real Redis: installs what the build needs, builds notifyctl
# and notify-worker (Release) into build-demo, starts a redis-server on a free loopback
# port (nothing kept on disk), seeds the sample families, publishes one sample request
# of each of the 14 family types (plus one invalid request), runs the worker until the
# queue is drained, prints a report per request and the dead-letter stream, shows how
# members' settings (mute, consent, night-time ads, quiet hours) shape a SERVICE_NOTICE,
# and stops Redis.
# When node is installed (and the worker was built with notify::fcm), the worker pushes
# through the FCM emulator (tests/support/fcm-emulator) over TLS with a throw-away test CA,
# and the report's texts come from the requests the emulator recorded; otherwise the
# worker logs its pushes (--push log) and the report reads them from its output. With
# the APNs emulator beside it (one test CA for both), a second run sends a notice to a
# family whose mother has an Android phone and an iPhone: --push fcm,apns. With
# python3-aiosmtpd too, a third run reaches a family on every channel: push where a
# member has the app, KakaoTalk AlimTalk or SMS (the SENS emulator) or e-mail (a local
# SMTP server with STARTTLS) where not, along the routes (built in, and
# examples/data/routing.json).
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
emulator_pid=""
apns_pid=""
smtp_pid=""
sens_pid=""
pki=""
stop_pid() {
  [ -z "$1" ] || { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
}
emulator_stop() {
  stop_pid "$emulator_pid"
  emulator_pid=""
}
# Starts an emulator (node SCRIPT ARGS...) in the background; its port, the first line it
# prints, in $started_port and its pid in $started_pid.
start_emulator() {
  local log="$1"
  shift
  start_service "$log" node "$@"
}
# start_service LOG PROGRAM ARGS...: the same for any program that prints its port first.
start_service() {
  local log="$1"
  shift
  "$@" <&0 >"$log.port" 2>"$log" &  # <&0: a caller's stdin, not the /dev/null of a background job
  started_pid=$!
  for _ in $(seq 1 200); do
    [ -s "$log.port" ] && break
    kill -0 "$started_pid" 2>/dev/null || break
    sleep 0.05
  done
  started_port="$(head -n 1 "$log.port")"
  [ -n "$started_port" ] || { cat "$log"; echo "demo: $1 did not start"; exit 1; }
}
trap 'emulator_stop; stop_pid "$apns_pid"; stop_pid "$smtp_pid"; stop_pid "$sens_pid"; redis_stop; [ -z "$pki" ] || rm -rf "$pki"; [ -z "$cleanup" ] || rm -rf "$cleanup"' EXIT

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

# The FCM emulator when node, openssl and a worker built with notify::fcm are at hand
# (without credentials such a worker answers "needs --fcm-credentials").
use_fcm=0
probe="$("$worker" --queue memory:/dev/null --members /dev/null --push fcm 2>&1 || true)"
if command -v node >/dev/null && command -v openssl >/dev/null && [[ "$probe" == *"needs --fcm-credentials"* ]]; then
  use_fcm=1
fi
# And the APNs emulator beside it when the worker was built with notify::apns.
use_apns=0
probe="$("$worker" --queue memory:/dev/null --members /dev/null --push apns 2>&1 || true)"
if [ "$use_fcm" = 1 ] && [[ "$probe" == *"needs --apns-key"* ]]; then
  use_apns=1
fi

out="$build/worker.out"
if [ "$use_fcm" = 1 ]; then
  emulator="$root/tests/support/fcm-emulator"
  pki="$(mktemp -d)"
  echo
  echo "== starting the FCM emulator (TLS, test CA and service account from make-pki.sh in a temporary directory)"
  # The APNs emulator's make-pki.sh makes the FCM emulator's files and an APNs signing key:
  # one test CA for both emulators.
  bash "$root/tests/support/apns-emulator/make-pki.sh" "$pki"
  # Its one fault rule: a device token with "-expired-" in it is answered 404 UNREGISTERED
  # (family 60's 삼촌, below: his app is gone, the store does not know it yet).
  start_emulator "$pki/emulator.log" "$emulator/emulator.js" --sa-public-key "$pki/sa.pub" --tls-cert "$pki/server.pem" \
    --tls-key "$pki/server.key" --service-account-out "$pki/service-account.json" --sa-private-key "$pki/sa.key" \
    --faults '[{"match": "-expired-", "action": "unregistered"}]'
  emulator_pid=$started_pid
  fcm="https://127.0.0.1:$started_port"
  echo "$fcm, pid $emulator_pid"

  echo
  echo "== notify-worker --queue $queue --members $url --push fcm --fcm-credentials service-account.json --fcm-endpoint $fcm --ca-file ca.pem --batch-size 1 --max-in-flight 1 --drain --log-format text --log-level debug"
  # One request at a time: the emulator then records each request's pushes together, in
  # queue order, which is how the report below gives each push to its request.
  "$worker" --queue "$queue" --members "$url" --push fcm --fcm-credentials "$pki/service-account.json" \
    --fcm-endpoint "$fcm" --ca-file "$pki/ca.pem" --batch-size 1 --max-in-flight 1 --drain --log-format text --log-level debug >"$out" 2>&1 ||
    { cat "$out"; echo "notify-worker failed"; exit 1; }

  # The requests the emulator accepted, as "push" lines like --push log prints them.
  # shellcheck disable=SC2016  # JavaScript, not shell
  NOTIFY_DEMO_FCM="$fcm" NOTIFY_DEMO_CA="$pki/ca.pem" node -e '
    const http2 = require("node:http2");
    const fs = require("node:fs");
    const session = http2.connect(process.env.NOTIFY_DEMO_FCM, { ca: fs.readFileSync(process.env.NOTIFY_DEMO_CA) });
    session.on("error", (e) => { console.error(`demo: ${e.message}`); process.exit(1); });
    const req = session.request({ ":method": "GET", ":path": "/_emulator/requests" });
    let text = "";
    req.setEncoding("utf8");
    req.on("data", (d) => { text += d; });
    req.on("end", () => {
      session.close();
      const short = (t) => t.length <= 12 ? `${t.slice(0, 3)}...` : `${t.slice(0, 6)}...${t.slice(-4)}`;
      for (const r of JSON.parse(text)) {
        if (r.status !== 200) continue;
        const m = JSON.parse(r.body).message;
        let line = `push token=${short(m.token)} title=${m.notification.title} body=${m.notification.body}`;
        if (m.data && m.data.screen !== undefined) line += ` screen=${m.data.screen}`;
        if (m.data && m.data.param !== undefined) line += ` param=${m.data.param}`;
        console.log(line);
      }
    });
    req.end();
  ' >"$build/fcm-pushes.txt"
  echo "(the emulator accepted $(grep -c '^push ' "$build/fcm-pushes.txt") messages:send requests)"
  cat "$build/fcm-pushes.txt" >>"$out"
else
  echo
  echo "== notify-worker --queue $queue --members $url --push log --batch-size 1 --max-in-flight 1 --drain --log-format text --log-level debug"
  echo "(node, openssl or notify::fcm missing: the pushes are logged instead of sent to the FCM emulator)"
  # stdout (pushes, inbox records, dead letters) and stderr (events) in one file, in order.
  "$worker" --queue "$queue" --members "$url" --push log --batch-size 1 --max-in-flight 1 --drain --log-format text \
    --log-level debug >"$out" 2>&1 ||
    { cat "$out"; echo "notify-worker failed"; exit 1; }
fi

grep -E '^(push|dead_letter) ' "$out" || true
grep -E '^(ts=[^ ]* )?step=member_skipped ' "$out" | sort -u || true
grep -E '^(ts=[^ ]* )?step=(stats|drained|stopped) ' "$out" || true
echo "($(grep -c '^inbox ' "$out") inbox bodies published; full output with every event: $out)"

echo
echo "== report: one entry per request, in queue order"
# Events name each request; the push and inbox lines that follow a batch's "planned"
# events (or the emulator's records, appended at the end) come in the same order, so each
# line is given to the first planned request that still expects one.
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
  /^(ts=[^ ]* )?step=(received|invalid) / {
    r = field(" " $0, "request")
    order[++count] = r
    if ($0 ~ /^(ts=[^ ]* )?step=invalid/) invalid[r] = field(" " $0, "detail")
    next
  }
  /^(ts=[^ ]* )?step=planned / {
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

if [ "$use_apns" = 1 ]; then
  # An iPhone beside the Android phones: family 50's members (examples/data/notice-members.json),
  # 엄마 with an Android phone and an iPhone; the worker sends each push to its device's service.
  echo
  echo "== starting the APNs emulator (TLS with the same test CA; the signing key apns.p8 from make-pki.sh)"
  start_emulator "$pki/apns.log" "$root/tests/support/apns-emulator/emulator.js" --key-public "$pki/apns.pub" \
    --key-id DEMOKEY001 --team-id DEMOTEAM01 --topic kr.woorigah.app --tls-cert "$pki/server.pem" --tls-key "$pki/server.key"
  apns_pid=$started_pid
  apns="https://127.0.0.1:$started_port"
  echo "$apns, pid $apns_pid"
  echo "== notifyctl members import --members examples/data/notice-members.json --store $url"
  "$notifyctl" members import --members "$data/notice-members.json" --store "$url" 2>&1
  # A service notice that is not an ad: no consent needed, and it reaches members in their
  # quiet hours, so the demo shows the same at any time of day (아빠 muted everything).
  echo "== notifyctl publish --queue $queue   (a maintenance SERVICE_NOTICE to family 50, id demo-ios-1)"
  echo '{"type":"SERVICE_NOTICE","param":{"familyIds":[50],"title":"우리가 점검 안내","body":"12월 10일 02:00부터 04:00까지 서비스 점검이 있습니다.","marketing":false},"id":"demo-ios-1"}' |
    "$notifyctl" publish --queue "$queue" --file - 2>&1
  echo "== notify-worker --queue $queue --members $url --push fcm,apns --fcm-credentials service-account.json --fcm-endpoint $fcm --apns-key apns.p8 --apns-key-id DEMOKEY001 --apns-team-id DEMOTEAM01 --apns-topic kr.woorigah.app --apns-endpoint $apns --ca-file ca.pem --drain --log-level debug"
  "$worker" --queue "$queue" --members "$url" --push fcm,apns --fcm-credentials "$pki/service-account.json" \
    --fcm-endpoint "$fcm" --apns-key "$pki/apns.p8" --apns-key-id DEMOKEY001 --apns-team-id DEMOTEAM01 \
    --apns-topic kr.woorigah.app --apns-endpoint "$apns" --ca-file "$pki/ca.pem" --drain --log-format text \
    --log-level debug >"$build/mixed.out" 2>&1 ||
    { cat "$build/mixed.out"; echo "notify-worker failed"; exit 1; }
  # Each push the worker sent (tokens shortened), with the service that took it: FCM answers
  # with a message name, APNs with an apns-id (a UUID).
  grep -E '^(ts=[^ ]* )?step=sent ' "$build/mixed.out" | sed -E 's/^(ts=[^ ]* )?step=sent .*(token=[^ ]*) detail=([^ ]*).*/\2 \3/' |
    awk '{ print "sent " $1 " via " ($2 ~ /^projects\// ? "fcm" : "apns") " (" $2 ")" }'
  grep -E '^(ts=[^ ]* )?step=(drained|muted_by_preference) ' "$build/mixed.out" | sed -E 's/^ts=[^ ]* //' || true
  echo "== stopping the APNs emulator (pid $apns_pid)"
  stop_pid "$apns_pid"
fi
if [ "$use_fcm" = 1 ] && /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null; then
  # Family 60 (examples/data/channels-members.json): 엄마 and 민지 have the app, 할아버지 only
  # a phone, 이모 only an e-mail address, 삼촌 a dead device and a phone. A birthday reminder
  # goes by push, else AlimTalk (built in: notify::catalog::route_of); the notice, by
  # examples/data/routing.json, by push, else e-mail, else SMS. 삼촌's pushes are planned
  # (the store still lists his device), FCM answers UNREGISTERED, and each falls back at
  # run time to his next channel.
  echo
  echo "== starting a local SMTP server (aiosmtpd, STARTTLS and AUTH) and the SENS emulator (HTTPS), same test CA"
  mkfifo "$pki/smtp.stdin"
  exec 7<>"$pki/smtp.stdin"  # the server stops when its stdin closes: held open until the demo ends
  start_service "$pki/smtp.log" /usr/bin/python3 "$root/tests/support/smtp-server/server.py" --maildir "$pki/mail" \
    --cert "$pki/server.pem" --key "$pki/server.key" --user notify --password demo-smtp-password <"$pki/smtp.stdin"
  smtp_pid=$started_pid
  smtp="smtp://127.0.0.1:$started_port"
  echo "$smtp, pid $smtp_pid"
  printf 'demo-smtp-password\n' >"$pki/smtp.password"
  printf 'demo/sens+secret=\n' >"$pki/sens.secret"
  start_emulator "$pki/sens.log" "$root/tests/support/sens-emulator/emulator.js" --access-key ncp_iam_DEMOKEY \
    --secret-key-file "$pki/sens.secret" --tls-cert "$pki/server.pem" --tls-key "$pki/server.key"
  sens_pid=$started_pid
  sens="https://127.0.0.1:$started_port"
  echo "$sens, pid $sens_pid"
  echo "== notifyctl members import --members examples/data/channels-members.json --store $url"
  "$notifyctl" members import --members "$data/channels-members.json" --store "$url" 2>&1
  echo "== notifyctl publish --queue $queue   (민지's birthday reminder and a maintenance notice to family 60)"
  printf '%s\n' '{"type":"NOTIFY_BIRTHDAY","param":{"familyIdsWithBirthdayUserId":[{"familyId":60,"birthdayUserId":64}]},"id":"demo-channels-1"}' \
    '{"type":"SERVICE_NOTICE","param":{"familyIds":[60],"title":"우리가 점검 안내","body":"12월 10일 02:00부터 04:00까지 서비스 점검이 있습니다.","marketing":false},"id":"demo-channels-2"}' |
    "$notifyctl" publish --queue "$queue" --file - 2>&1
  echo "== notifyctl routing --routing examples/data/routing.json   (the routes in force)"
  "$notifyctl" routing --routing "$data/routing.json" | grep -E 'BIRTHDAY|SERVICE_NOTICE'
  echo "== notify-worker --queue $queue --members $url --push fcm,email,sms,alimtalk --routing examples/data/routing.json --fcm-credentials service-account.json --fcm-endpoint $fcm --smtp-url $smtp --smtp-from notify@woorigah.example --smtp-from-name 우리가 --smtp-user notify --smtp-password-file smtp.password --sens-endpoint $sens --sens-access-key ncp_iam_DEMOKEY --sens-secret-key-file sens.secret --sens-sms-service ncp:sms:kr:demo --sens-alimtalk-service ncp:kkobizmsg:kr:demo --sens-from 0212345678 --sens-plus-friend @woorigah --sens-templates NOTIFY_BIRTHDAY=birthday01,MESSAGE_BIRTHDAY=birthday02 --sens-sms-failover --ca-file ca.pem --drain --log-level debug"
  "$worker" --queue "$queue" --members "$url" --push fcm,email,sms,alimtalk --routing "$data/routing.json" \
    --fcm-credentials "$pki/service-account.json" \
    --fcm-endpoint "$fcm" --smtp-url "$smtp" --smtp-from notify@woorigah.example --smtp-from-name 우리가 \
    --smtp-user notify --smtp-password-file "$pki/smtp.password" --sens-endpoint "$sens" \
    --sens-access-key ncp_iam_DEMOKEY --sens-secret-key-file "$pki/sens.secret" \
    --sens-sms-service ncp:sms:kr:demo --sens-alimtalk-service ncp:kkobizmsg:kr:demo --sens-from 0212345678 \
    --sens-plus-friend @woorigah \
    --sens-templates NOTIFY_BIRTHDAY=birthday01,MESSAGE_BIRTHDAY=birthday02 --sens-sms-failover --ca-file "$pki/ca.pem" --drain \
    --log-format text --log-level debug >"$build/channels.out" 2>&1 ||
    { cat "$build/channels.out"; echo "notify-worker failed"; exit 1; }
  # What each service took: the worker's sent events (addresses shortened), then what the
  # SMTP server and the SENS emulator received.
  grep -E '^(ts=[^ ]* )?step=sent ' "$build/channels.out" | sed -E 's/^(ts=[^ ]* )?step=sent request=([^ ]*) type=[^ ]* (token=[^ ]*) detail=("[^"]*"|[^ ]*).*/sent \2 \3 (\4)/'
  /usr/bin/python3 - "$pki/mail" <<'PY'
import json, pathlib, sys
for f in sorted(pathlib.Path(sys.argv[1]).glob('*.json')):
    m = json.loads(f.read_text())
    print(f"smtp: to {m['rcpt_tos'][0]} subject \"{m['headers']['subject']}\" parts "
          f"{'+'.join(p['content_type'] for p in m['parts'])} tls={m['tls']}")
PY
  # shellcheck disable=SC2016  # JavaScript, not shell
  NODE_EXTRA_CA_CERTS="$pki/ca.pem" node -e '
    fetch(process.argv[1] + "/_received").then((r) => r.json()).then((j) => {
      for (const c of j.requests)
        for (const m of c.body.messages)
          console.log(c.kind === "sms"
            ? `sens: sms ${c.body.type} to ${m.to} "${c.body.content.replace(/\n/g, " / ")}"`
            : `sens: ${c.kind} ${c.body.templateCode} to ${m.to} failover=${m.useSmsFailover} "${m.content.replace(/\n/g, " / ")}"`);
    });' "$sens"
  grep -E '^(ts=[^ ]* )?step=(invalid_token|fallback) ' "$build/channels.out" | sed -E 's/^ts=[^ ]* //' || true
  grep -E '^(ts=[^ ]* )?step=drained ' "$build/channels.out" | sed -E 's/^ts=[^ ]* //' || true
  echo "== notifyctl render --request (the reminder) --members examples/data/channels-members.json   (the plan per channel)"
  echo '{"type":"NOTIFY_BIRTHDAY","param":{"familyIdsWithBirthdayUserId":[{"familyId":60,"birthdayUserId":64}]}}' |
    "$notifyctl" render --request - --members "$data/channels-members.json"
  echo "== stopping the SMTP server (pid $smtp_pid) and the SENS emulator (pid $sens_pid)"
  stop_pid "$smtp_pid"
  stop_pid "$sens_pid"
  exec 7>&-
fi
if [ "$use_fcm" = 1 ]; then
  echo "== stopping the FCM emulator (pid $emulator_pid)"
  emulator_stop
fi

# Members' settings: a marketing SERVICE_NOTICE to family 50 at 23:30 KST, planned as the
# worker would plan it then (a fixed time, so the demo shows the same whenever it runs).
at="2026-12-04T23:30:00+09:00"
echo
echo "== notifyctl render --request examples/data/notice.json --members examples/data/notice-members.json --at $at"
echo "   (a marketing notice at night: 엄마 has consent for night-time ads and an Android and an iPhone,"
echo "    아빠 muted everything, 민준 agreed to ads but not at night, 할머니 is in her quiet hours,"
echo "    삼촌 never agreed to ads)"
"$notifyctl" render --request "$data/notice.json" --members "$data/notice-members.json" --at "$at"

echo
echo "== stopping redis-server (pid $REDIS_PID)"
redis_stop
