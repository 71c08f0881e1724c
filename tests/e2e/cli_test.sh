#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# End-to-end tests of the programs' command-line contract (DESIGN.md). One case per run:
#   cli_test.sh CASE NOTIFYCTL NOTIFY_WORKER SOURCE_DIR
# Each case prints what it checked and exits non-zero on the first mismatch. The redis_*
# cases (and demo_report) start their own redis-server (tests/support/redis.sh;
# NOTIFY_REDIS_SERVER and NOTIFY_REDIS_CLI name the binaries) and stop it on exit.
set -uo pipefail

case_name="$1"
notifyctl="$2"
worker="$3"
src="$4"
here="$src/tests/e2e"
members="$here/data/members.json"
tmp="$(mktemp -d)"
pid=""
# shellcheck source=tests/support/redis.sh
source "$src/tests/support/redis.sh"
sqs_pid=""
trap '[ -z "$pid" ] || kill "$pid" 2>/dev/null; [ -z "$sqs_pid" ] || kill "$sqs_pid" 2>/dev/null; redis_stop; rm -rf "$tmp"' EXIT

fail() {
  echo "FAIL [$case_name]: $*" >&2
  exit 1
}

# run EXPECTED_STATUS CMD...: runs CMD with stdout in $tmp/out, stderr in $tmp/err.
run() {
  local expected="$1"
  shift
  "$@" >"$tmp/out" 2>"$tmp/err"
  local status=$?
  if [ "$status" -ne "$expected" ]; then
    echo "--- stdout" >&2; cat "$tmp/out" >&2
    echo "--- stderr" >&2; cat "$tmp/err" >&2
    fail "'$*' exited $status, expected $expected"
  fi
}

# same_as FILE: stdout must equal FILE byte for byte.
same_as() {
  diff -u "$1" "$tmp/out" >&2 || fail "output differs from $1"
}

# has FILE TEXT: FILE contains TEXT (fixed string).
has() {
  grep -qF -- "$2" "$1" || { cat "$1" >&2; fail "expected '$2' in $(basename "$1")"; }
}

# start_redis: a fresh redis-server for this case (REDIS_URL, REDIS_PORT).
start_redis() {
  redis_start "$tmp/redis" || fail "redis-server did not start"
}

# rcli ARGS...: redis-cli against this case's server.
rcli() {
  "${NOTIFY_REDIS_CLI:-redis-cli}" -p "$REDIS_PORT" "$@"
}

# start_sqs: the test SQS server (tests/support/sqs/server.mjs: local-aws-sqs behind a
# SigV4-checking front) for this case; sets SQS_ENDPOINT (signed calls), SQS_DIRECT (its
# queue URLs' prefix) and the AWS_* variables the programs read.
start_sqs() {
  mkfifo "$tmp/sqs.in"
  node "$src/tests/support/sqs/server.mjs" --access-key-id AKIDE2E --secret e2e-secret <"$tmp/sqs.in" >"$tmp/sqs.out" &
  sqs_pid=$!
  exec 7>"$tmp/sqs.in"  # the server exits when this closes
  for _ in $(seq 1 200); do [ -s "$tmp/sqs.out" ] && break; sleep 0.05; done
  SQS_ENDPOINT=$(sed -n 's/.*"endpoint":"\([^"]*\)".*/\1/p' "$tmp/sqs.out")
  SQS_DIRECT=$(sed -n 's/.*"direct":"\([^"]*\)".*/\1/p' "$tmp/sqs.out")
  [ -n "$SQS_ENDPOINT" ] || fail "the SQS server did not start"
  export AWS_ACCESS_KEY_ID=AKIDE2E AWS_SECRET_ACCESS_KEY=e2e-secret AWS_REGION=us-east-1
  export AWS_ENDPOINT_URL_SQS="$SQS_ENDPOINT"
}

# sqs_call OPERATION JSON: an (unsigned) call straight to the SQS server, for set-up.
sqs_call() {
  curl -sS -X POST "$SQS_DIRECT/" -H 'Content-Type: application/x-amz-json-1.0' \
    -H "X-Amz-Target: AmazonSQS.$1" -d "$2"
}

# sqs_create NAME [ATTRIBUTES-JSON]: creates a queue; prints its URL.
sqs_create() {
  sqs_call CreateQueue "{\"QueueName\":\"$1\",\"Attributes\":${2:-{\}}}" | sed -n 's/.*"QueueUrl":"\([^"]*\)".*/\1/p'
}

# equals ACTUAL EXPECTED WHAT
equals() {
  [ "$1" = "$2" ] || fail "$3: got '$1', expected '$2'"
}

# render the expected plan of tests/e2e/requests/NAME.json
render_case() {
  run 0 "$notifyctl" render --request "$here/requests/$1.json" --members "$members"
  same_as "$here/expected/$1.json"
}

case "$case_name" in
  render_comment_message | render_photo_create | render_letter_time_capsule | render_timecapsule_open | \
    render_notify_birthday | render_message_today | render_emotion_chosen)
    render_case "${case_name#render_}"
    ;;

  render_reports_malformed_members)
    render_case message_today
    has "$tmp/err" "family:2.user:12"
    has "$tmp/err" "skipped"
    ;;

  render_invalid_request)
    run 2 "$notifyctl" render --request "$here/requests/invalid.json" --members "$members"
    same_as "$here/expected/invalid.json"
    ;;

  render_reads_stdin)
    run 0 "$notifyctl" render --request - --members "$members" <"$here/requests/timecapsule_open.json"
    same_as "$here/expected/timecapsule_open.json"
    run 2 "$notifyctl" render --request - --members "$members" <"$here/requests/invalid.json"
    same_as "$here/expected/invalid.json"
    # The members file may come from stdin too.
    run 0 "$notifyctl" render --request "$here/requests/comment_message.json" --members - <"$members"
    same_as "$here/expected/comment_message.json"
    ;;

  render_malformed_json_request)
    printf '{"type": "EMOTION_POKE", "param": {"familyId": 1,' >"$tmp/req.json"
    run 2 "$notifyctl" render --request "$tmp/req.json" --members "$members"
    has "$tmp/out" '"code": "invalid_json"'
    has "$tmp/out" 'at byte'
    ;;

  validate)
    run 0 "$notifyctl" validate --request "$here/requests/photo_create.json"
    [ ! -s "$tmp/out" ] || fail "validate printed something for a valid request"
    run 0 "$notifyctl" validate --request=- <"$here/requests/notify_birthday.json"
    run 2 "$notifyctl" validate --request "$here/requests/invalid.json"
    same_as "$here/expected/invalid.json"
    ;;

  usage_errors)
    run 64 "$notifyctl"
    has "$tmp/err" "usage: notifyctl"
    run 64 "$notifyctl" frobnicate
    has "$tmp/err" "unknown command"
    run 64 "$notifyctl" render --request "$here/requests/photo_create.json"
    has "$tmp/err" "--members"
    run 64 "$notifyctl" render --request - --members -
    run 64 "$notifyctl" validate --request
    run 64 "$notifyctl" validate --request x --bogus
    has "$tmp/err" "unknown option --bogus"
    run 64 "$notifyctl" schema extra
    run 0 "$notifyctl" --help
    has "$tmp/out" "render --request FILE|- --members FILE"
    ;;

  unreadable_files)
    run 66 "$notifyctl" render --request "$tmp/missing.json" --members "$members"
    has "$tmp/err" "cannot read"
    run 66 "$notifyctl" render --request "$here/requests/photo_create.json" --members "$tmp/missing.json"
    run 66 "$notifyctl" validate --request "$tmp/missing.json"
    printf '{"family:1": ' >"$tmp/members.json"
    run 65 "$notifyctl" render --request "$here/requests/photo_create.json" --members "$tmp/members.json"
    has "$tmp/err" "not valid JSON"
    # Where the JSON breaks, as a byte offset (issue 12).
    printf '{"family:1": {"user:1": "x",}}' >"$tmp/members.json"
    run 65 "$notifyctl" render --request "$here/requests/photo_create.json" --members "$tmp/members.json"
    has "$tmp/err" "$tmp/members.json: not valid JSON at byte 28"
    run 65 "$worker" --queue memory:- --members "$tmp/members.json" --push log --drain </dev/null
    has "$tmp/err" "not valid JSON at byte 28"
    ;;

  directories_as_files)
    # A directory where a file is expected: exit 66 with a message, never an abort (issue 12).
    mkdir "$tmp/dir"
    run 66 "$notifyctl" validate --request "$tmp/dir"
    has "$tmp/err" "cannot read request file '$tmp/dir': is a directory"
    run 66 "$notifyctl" render --request "$tmp/dir" --members "$members"
    has "$tmp/err" "is a directory"
    run 66 "$notifyctl" render --request "$here/requests/photo_create.json" --members "$tmp/dir"
    has "$tmp/err" "cannot read members file '$tmp/dir': is a directory"
    run 66 "$worker" --queue "memory:$tmp/dir" --members "$members" --push log --drain
    has "$tmp/err" "cannot read queue file '$tmp/dir': is a directory"
    run 66 "$worker" --queue "memory:$here/requests/photo_create.json" --members "$tmp/dir" --push log --drain
    has "$tmp/err" "cannot read members file '$tmp/dir': is a directory"
    run 66 "$worker" --queue "memory:$here/requests/photo_create.json" --members "memory:$tmp/dir" --push log --drain
    has "$tmp/err" "is a directory"
    # A file that is missing says why too.
    run 66 "$notifyctl" validate --request "$tmp/missing.json"
    has "$tmp/err" "cannot read request file '$tmp/missing.json': No such file or directory"
    ;;

  schema)
    run 0 "$notifyctl" schema
    has "$tmp/out" '"$schema": "https://json-schema.org/draft/2020-12/schema"'
    for type in MESSAGE_TODAY MESSAGE_BIRTHDAY COMMENT_MESSAGE PHOTO_CREATE COMMENT_PHOTO LETTER_SEND \
      TIMECAPSULE_OPEN NOTIFY_BIRTHDAY EMOTION_CHOSEN EMOTION_POKE PEDIA_QUESTION_CREATED \
      PEDIA_QUESTION_EDITTED PEDIA_ANSWER PEDIA_EDIT_PHOTO; do
      has "$tmp/out" "\"\$ref\": \"#/\$defs/$type\""
    done
    # Previews: notify::Limits allows 4096 bytes of UTF-8, so at most 4096 code points; the
    # schema must not refuse what validate accepts (issue 12).
    has "$tmp/out" '"maxLength": 4096'
    ! grep -q '"maxLength": 1024' "$tmp/out" || fail "the schema still says maxLength 1024"
    preview=$(head -c 4096 /dev/zero | tr '\0' a)
    printf '{"type":"PHOTO_CREATE","param":{"photoId":1,"authorId":2,"familyId":3,"titlePreview":"%s"}}' "$preview" \
      >"$tmp/long.json"
    run 0 "$notifyctl" validate --request "$tmp/long.json"
    printf '{"type":"PHOTO_CREATE","param":{"photoId":1,"authorId":2,"familyId":3,"titlePreview":"%sa"}}' "$preview" \
      >"$tmp/long.json"
    run 2 "$notifyctl" validate --request "$tmp/long.json"
    has "$tmp/out" '"code": "too_long"'
    ;;

  worker_drains_sample_data)
    run 0 "$worker" --queue "memory:$src/examples/data/requests.jsonl" --members "$src/examples/data/members.json" \
      --push log --drain --log-format text --log-level debug
    for type in MESSAGE_TODAY MESSAGE_BIRTHDAY COMMENT_MESSAGE PHOTO_CREATE COMMENT_PHOTO LETTER_SEND \
      TIMECAPSULE_OPEN NOTIFY_BIRTHDAY EMOTION_CHOSEN EMOTION_POKE PEDIA_QUESTION_CREATED \
      PEDIA_QUESTION_EDITTED PEDIA_ANSWER PEDIA_EDIT_PHOTO; do
      grep -q "^ts=[^ ]* step=sent .*type=$type " "$tmp/err" || fail "no push sent for $type"
    done
    pushes=$(grep -c '^push token=' "$tmp/out")
    sent=$(grep -c '^ts=[^ ]* step=sent ' "$tmp/err")
    [ "$pushes" -eq "$sent" ] || fail "$pushes push lines but $sent sent events"
    [ "$(grep -c '^dead_letter ' "$tmp/out")" -eq 1 ] || fail "expected exactly one dead letter"
    grep -qE '^dead_letter id=m-[0-9a-f]{16}-16 reason=\[\{"path":"param.photoId","code":"expected_integer"' "$tmp/out" ||
      fail "no dead letter named m-<run>-16"
    has "$tmp/out" '"id":"demo-16"}'
    has "$tmp/out" 'push token=eR9tY4...3d5a title=우리가 편지 body=우리가족이 민준 님에게 작성한 편지가 도착했습니다! screen=LetterReceived param={"letterId":7001}'
    has "$tmp/out" 'inbox [{"receiverId":3,"title":"우리가 편지","body":"우리가족이 민준 님에게 작성한 편지가 도착했습니다!","screen":"LetterReceived","param":{"letterId":7001}}]'
    has "$tmp/err" 'step=member_skipped request=family:2.user:13'
    has "$tmp/err" 'step=drained detail="16 records: 15 done, 1 dead-lettered, 0 pending; 26 pushes"'
    # The default level, info, tells each record's outcome but writes no line per push.
    run 0 "$worker" --queue "memory:$src/examples/data/requests.jsonl" --members "$src/examples/data/members.json" \
      --push log --drain --log-format text
    grep -q '^ts=[^ ]* step=done ' "$tmp/err" || fail "no record outcome at the default log level"
    ! grep -q '^ts=[^ ]* step=sent ' "$tmp/err" || fail "a line per push at the default log level"
    ;;

  demo_report)
    # examples/demo.sh with the programs built here (it skips its install and build); it
    # starts and stops its own redis-server.
    NOTIFY_DEMO_WORKER="$worker" NOTIFY_DEMO_NOTIFYCTL="$notifyctl" run 0 bash "$src/examples/demo.sh"
    has "$tmp/out" "pushes for 14 of 14 types; 1 request(s) dead-lettered"
    grep -qE '^demo-03 +COMMENT_MESSAGE +2 tokens / 3 inbox$' "$tmp/out" || fail "no report line for demo-03"
    has "$tmp/out" '우리가 이야기 | 엄마 님이 이야기에 댓글을 작성했습니다! "오늘 저녁은 다 같..."'
    # A request without an envelope id is named by the id the queue gave it.
    grep -qE '^q-[0-9a-f]{16}-[0-9]+ +EMOTION_CHOSEN +1 tokens / 0 inbox$' "$tmp/out" ||
      fail "no report line for the request without an id"
    grep -qE '^q-[0-9a-f]{16}-[0-9]+ +COMMENT_PHOTO +invalid, dead-lettered: param.photoId expected_integer, param.authorId out_of_range$' \
      "$tmp/out" || fail "no report line for the invalid request"
    has "$tmp/out" 'published 15 request(s) to redis://127.0.0.1:'
    # The notice at 23:30 KST: one member gets it on both devices, the others are skipped
    # or deferred, each with the reason.
    has "$tmp/out" '"title": "(광고) 우리가 연말 포토북",'
    has "$tmp/out" '"apns": ['
    has "$tmp/out" '"reason": "muted_by_preference"'
    has "$tmp/out" '"reason": "no_marketing_consent"'
    grep -A1 '"userId": 53,' "$tmp/out" | grep -q '"reason": "deferred_night_ads",' || fail "민준 is not deferred for night-time ads"
    has "$tmp/out" '"until": "2026-12-04T23:00:00.000Z"'
    grep -A1 '"userId": 54,' "$tmp/out" | grep -q '"reason": "deferred_quiet_hours",' || fail "할머니 is not deferred for her quiet hours"
    has "$tmp/out" '"until": "2026-12-04T22:00:00.000Z"'
    has "$tmp/out" '{"line":16,"errors":[{"path":"param.photoId","code":"expected_integer"'
    has "$tmp/out" 'step=drained detail="16 records: 15 done, 0 retried, 1 dead-lettered, 0 pending; 26 pushes"'
    # dlq list shows the dead letter with its reason and original body.
    grep -qE '^\{"id":"[0-9]+-[0-9]+","requestId":"q-[0-9a-f]{16}-[0-9]+","reason":"\[\{\\"path\\":\\"param.photoId\\"' \
      "$tmp/out" || fail "dlq list printed no dead letter"
    has "$tmp/out" '\"id\":\"demo-16\"}"}'
    if grep -q '^== starting the FCM emulator' "$tmp/out"; then
      # With node: the pushes went to the FCM emulator, and the report's texts came from it.
      has "$tmp/out" "(the emulator accepted 26 messages:send requests)"
      has "$tmp/out" "--push fcm --fcm-credentials service-account.json --fcm-endpoint https://127.0.0.1:"
      emulator_pid=$(sed -n 's/^== stopping the FCM emulator (pid \([0-9]*\))$/\1/p' "$tmp/out")
      [ -n "$emulator_pid" ] || fail "the demo did not say it stopped the FCM emulator"
      ! kill -0 "$emulator_pid" 2>/dev/null || fail "the FCM emulator $emulator_pid still runs after the demo"
    fi
    if grep -q '^== starting the APNs emulator' "$tmp/out"; then
      # An iPhone: 엄마's notice went to FCM for her Android phone and to APNs for her iPhone.
      has "$tmp/out" "sent token=dKq3mZ...50a1 via fcm (projects/notify-test/messages/"
      grep -qE '^sent token=7c1e5b\.\.\.100f via apns \([0-9a-f-]{36}\)$' "$tmp/out" || fail "no push to 엄마's iPhone via APNs"
      has "$tmp/out" 'step=muted_by_preference request=demo-ios-1 type=SERVICE_NOTICE detail=user:52'
      has "$tmp/out" 'step=drained detail="1 records: 1 done, 0 retried, 0 dead-lettered, 0 pending; 5 pushes"'
      apns_pid=$(sed -n 's/^== stopping the APNs emulator (pid \([0-9]*\))$/\1/p' "$tmp/out")
      [ -n "$apns_pid" ] || fail "the demo did not say it stopped the APNs emulator"
      ! kill -0 "$apns_pid" 2>/dev/null || fail "the APNs emulator $apns_pid still runs after the demo"
    elif command -v node >/dev/null; then
      fail "node is installed but the demo did not send to the APNs emulator"
    fi
    if grep -q '^== starting a local SMTP server' "$tmp/out"; then
      # Family 60 on every channel: 엄마 by push for both, 할아버지 (a phone only) the reminder
      # by AlimTalk and the notice by SMS, 이모 (an address only) the notice by e-mail, 민지
      # the notice by push.
      has "$tmp/out" "sent demo-channels-1 token=fA3kL9...60a1 (projects/notify-test/messages/"
      has "$tmp/out" "sent demo-channels-1 token=+82...6202 (\"requestId="
      has "$tmp/out" "sent demo-channels-2 token=au...@example.kr (<"
      has "$tmp/out" "sent demo-channels-2 token=+82...6202 (\"requestId="
      has "$tmp/out" 'sens: sms SMS to 01055506202 "우리가 점검 안내 / 12월 10일 02:00부터 04:00까지 서비스 점검이 있습니다."'
      has "$tmp/out" '"SERVICE_NOTICE": {"channels": ["push", "email", "sms"]}'
      has "$tmp/out" "sent demo-channels-2 token=mJ7nB4...60d4 (projects/notify-test/messages/"
      has "$tmp/out" 'smtp: to aunt.kim@example.kr subject "우리가 점검 안내" parts text/plain+text/html tls=True'
      has "$tmp/out" 'sens: alimtalk birthday01 to 01055506202 failover=false "우리가 생일 / 곧 사랑하는 우리가족 민지 님의 생일이에요!'
      # 삼촌's device is dead (the emulator's fault rule): each of his pushes falls back at
      # run time, the reminder to AlimTalk, the notice to SMS.
      has "$tmp/out" 'step=fallback request=demo-channels-1 type=NOTIFY_BIRTHDAY token=+82...6505 detail="to alimtalk"'
      has "$tmp/out" 'step=fallback request=demo-channels-2 type=SERVICE_NOTICE token=+82...6505 detail="to sms"'
      has "$tmp/out" 'sens: sms SMS to 01055506505 "우리가 점검 안내 / 12월 10일 02:00부터 04:00까지 서비스 점검이 있습니다."'
      has "$tmp/out" 'sens: alimtalk birthday01 to 01055506505 failover=false "우리가 생일 / 곧 사랑하는 우리가족 민지 님의 생일이에요!'
      has "$tmp/out" '"fallbacks": ['
      has "$tmp/out" 'step=drained detail="2 records: 2 done, 0 retried, 0 dead-lettered, 0 pending; 10 pushes"'
      [ "$(grep -c '^sent demo-channels-' "$tmp/out")" = 8 ] || fail "family 60 did not get exactly 8 deliveries"
      stopped=$(grep '^== stopping the SMTP server (pid' "$tmp/out") || fail "the demo did not say it stopped the SMTP server"
      for pid in $(echo "$stopped" | sed -E 's/.*SMTP server \(pid ([0-9]+)\) and the SENS emulator \(pid ([0-9]+)\)$/\1 \2/'); do
        ! kill -0 "$pid" 2>/dev/null || fail "the SMTP server or SENS emulator ($pid) still runs after the demo"
      done
    elif command -v node >/dev/null && /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null; then
      fail "node and aiosmtpd are installed but the demo did not reach family 60 on every channel"
    fi
    # The server it started is gone.
    redis_pid=$(sed -n 's/^== stopping redis-server (pid \([0-9]*\))$/\1/p' "$tmp/out")
    [ -n "$redis_pid" ] || fail "the demo did not say it stopped redis-server"
    ! kill -0 "$redis_pid" 2>/dev/null || fail "redis-server $redis_pid still runs after the demo"
    ;;

  worker_flags_from_environment)
    NOTIFY_QUEUE="memory:$src/examples/data/requests.jsonl" NOTIFY_MEMBERS="$src/examples/data/members.json" \
      NOTIFY_PUSH=null NOTIFY_DRAIN=1 NOTIFY_LOG_FORMAT=json NOTIFY_LOG_LEVEL=debug run 0 "$worker"
    ! grep -q '^push ' "$tmp/out" || fail "--push null printed pushes"
    while IFS= read -r line; do
      case "$line" in
        '{"ts":'*'}') ;;
        *) fail "not a JSON event line: $line" ;;
      esac
    done <"$tmp/err"
    has "$tmp/err" '"step":"sent","request":"demo-15","type":"PEDIA_EDIT_PHOTO"'
    ! grep -q '"step":"warning"' "$tmp/err" || fail "a warning about a setting the worker reads"
    has "$tmp/err" '"step":"drained"'
    # The command line wins over the environment.
    NOTIFY_PUSH=fcm run 0 "$worker" --queue "memory:$src/examples/data/requests.jsonl" \
      --members "$src/examples/data/members.json" --push log --drain
    has "$tmp/out" "push token="
    NOTIFY_DRAIN=maybe run 64 "$worker" --queue "memory:$tmp/none" --members "$members" --push log
    has "$tmp/err" "NOTIFY_DRAIN"
    ;;

  worker_environment_errors)
    mkdir "$tmp/dir"
    # An error caused by a NOTIFY_* variable names the variable, not the flag (issue 12).
    NOTIFY_PUSH=carrier-pigeon run 64 "$worker" --queue "memory:$tmp/q" --members "$members"
    has "$tmp/err" "NOTIFY_PUSH must be log, null, or services from fcm, apns, email, sms, alimtalk separated by commas"
    run 64 "$worker" --queue "memory:$tmp/q" --members "$members" --push carrier-pigeon
    has "$tmp/err" "--push must be log, null, or services from fcm, apns, email, sms, alimtalk separated by commas"
    NOTIFY_BATCH_SIZE=11 run 64 "$worker" --queue "memory:$tmp/q" --members "$members" --push log
    has "$tmp/err" "NOTIFY_BATCH_SIZE must be 1 to 10"
    NOTIFY_CLAIM_IDLE_MS=0 run 64 "$worker" --queue "memory:$tmp/q" --members "$members" --push log
    has "$tmp/err" "NOTIFY_CLAIM_IDLE_MS must be a whole number from 1 up"
    NOTIFY_LOG_FORMAT=xml run 64 "$worker" --queue "memory:$tmp/q" --members "$members" --push log
    has "$tmp/err" "NOTIFY_LOG_FORMAT must be text or json"
    NOTIFY_LOG_LEVEL=loud run 64 "$worker" --queue "memory:$tmp/q" --members "$members" --push log
    has "$tmp/err" "NOTIFY_LOG_LEVEL must be debug, info, warn or error"
    run 64 "$worker" --queue "memory:$tmp/q" --members "$members" --push log --log-level loud
    has "$tmp/err" "--log-level must be debug, info, warn or error"
    NOTIFY_MAX_IN_FLIGHT=0 run 64 "$worker" --queue "memory:$tmp/q" --members "$members" --push log
    has "$tmp/err" "NOTIFY_MAX_IN_FLIGHT must be a whole number from 1 up"
    NOTIFY_INBOX=stdout run 64 "$worker" --queue "memory:$tmp/q" --members "$members" --push log
    has "$tmp/err" "NOTIFY_INBOX must be log, null"
    NOTIFY_QUEUE=amqp://broker/notify run 64 "$worker" --members "$members" --push log
    has "$tmp/err" "NOTIFY_QUEUE amqp://broker/notify"
    NOTIFY_QUEUE="$tmp/q" run 64 "$worker" --members "$members" --push log
    has "$tmp/err" "NOTIFY_QUEUE must be"
    NOTIFY_FCM_ENDPOINT=http://127.0.0.1:1 run 64 "$worker" --queue "memory:$tmp/q" --members "$members" --push log
    has "$tmp/err" "NOTIFY_FCM_ENDPOINT goes with --push fcm"
    NOTIFY_MEMBERS="$tmp/dir" run 66 "$worker" --queue "memory:$here/requests/photo_create.json" --push log --drain
    has "$tmp/err" "NOTIFY_MEMBERS: cannot read members file '$tmp/dir': is a directory"
    # A NOTIFY_* variable that no program reads is reported, not silently ignored; the
    # worker still runs (one environment may serve several programs).
    NOTIFY_PUHS=null NOTIFY_MEMBRES=x run 0 "$worker" --queue memory:- --members "$members" --push log --drain \
      <"$here/requests/emotion_chosen.json"
    has "$tmp/err" 'step=warning detail="NOTIFY_MEMBRES is not a setting of notify-worker (ignored); did you mean NOTIFY_MEMBERS?"'
    has "$tmp/err" 'step=warning detail="NOTIFY_PUHS is not a setting of notify-worker (ignored); did you mean NOTIFY_PUSH?"'
    NOTIFY_PUHS=null run 0 "$worker" --queue memory:- --members "$members" --push log --drain --log-format json \
      <"$here/requests/emotion_chosen.json"
    has "$tmp/err" '"step":"warning","detail":"NOTIFY_PUHS is not a setting of notify-worker'
    has "$tmp/out" "push token="
    # The Lambda bootstrap's own setting is known (a shared environment is fine).
    NOTIFY_TIME_RESERVE_MS=100 run 0 "$worker" --queue memory:- --members "$members" --push null --drain \
      <"$here/requests/emotion_chosen.json"
    ! grep -q "warning" "$tmp/err" || fail "warned about a known variable: $(cat "$tmp/err")"
    ;;

  worker_help)
    run 0 "$worker" --help
    # --inbox takes an SQS queue URL as well as a Redis stream (issue 12).
    sed -n '/^  --inbox/,/^  --dead-letter/p' "$tmp/out" >"$tmp/inbox-help"
    has "$tmp/inbox-help" "redis://HOST:PORT/STREAM"
    has "$tmp/inbox-help" "SQS queue URL"
    has "$tmp/out" "--inbox log|null|URL"
    ;;

  version)
    # --version names the program, the CMake version and a git revision (or "unknown").
    for program in "$worker" "$notifyctl"; do
      run 0 "$program" --version
      grep -qE '^notify(-worker|ctl) [0-9]+\.[0-9]+\.[0-9]+ \(([0-9a-f]{7,}|unknown)\)$' "$tmp/out" ||
        fail "$program --version printed: $(cat "$tmp/out")"
    done
    ;;

  readme_matches_programs)
    # The README's tables and synopses say what the programs do (issue 12).
    readme="$src/README.md"
    run 0 "$worker" --help
    for flag in $(grep -oE '^  --[a-z-]+' "$tmp/out" | sort -u); do
      grep -qF -- "| \`$flag" "$readme" || fail "README's worker flag table omits $flag"
    done
    # Every variable tests/run.sh reads is documented.
    for var in $(grep -oE '\$\{[A-Z_]+:-' "$src/tests/run.sh" | sed 's/^\${//; s/:-$//' | sort -u); do
      grep -qF -- "$var" "$readme" || fail "README does not document tests/run.sh's $var"
    done
    # Documents it cites are in the repository.
    for doc in $(grep -oE '\b[A-Z]+\.md\b' "$readme" | sort -u); do
      [ -e "$src/$doc" ] || fail "README cites $doc, which is not in the repository"
    done
    # The library snippet sticks to what g++ 12's C++20 library has.
    ! grep -qE 'std::print(ln)?\(' "$readme" || fail "README uses std::print/std::println"
    ;;

  worker_reads_stdin)
    run 0 "$worker" --queue memory:- --members "$members" --push log --drain <"$here/requests/letter_time_capsule.json"
    has "$tmp/out" 'inbox [{"receiverId":3,"title":"우리가 편지","body":"우리가족이 민준 님에게 새로운 타임캡슐을 작성했습니다!","screen":"TimeCapsulesNav"}]'
    ! grep -q '^push ' "$tmp/out" || fail "a member without a token got a push"
    ;;

  worker_rejects_unsupported_transports)
    # SQS without credentials: it says which variables it looked for.
    run 64 env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_CONTAINER_CREDENTIALS_RELATIVE_URI \
      -u AWS_CONTAINER_CREDENTIALS_FULL_URI "$worker" --queue "https://sqs.ap-northeast-2.amazonaws.com/1/notify.fifo" \
      --members "$members" --push log
    has "$tmp/err" "AWS_ACCESS_KEY_ID"
    run 64 "$worker" --queue "https://sqs.ap-northeast-2.amazonaws.com/notify" --members "$members" --push log
    has "$tmp/err" "not an SQS queue URL"
    run 64 "$worker" --queue "https://sqs.ap-northeast-2.amazonaws.com/1/notify" --members "$members" --push log \
      --claim-idle-ms 100
    has "$tmp/err" "--claim-idle-ms goes with Redis and memory queues"
    run 64 "$worker" --queue "memory:$tmp/q" --members "https://members.example/" --push log
    has "$tmp/err" "unknown kind of member store; use redis://HOST:PORT[/DB] or a members FILE"
    # The FCM flags are checked before anything is read.
    run 64 "$worker" --queue "memory:$tmp/q" --members "$members" --push fcm
    has "$tmp/err" "--push fcm needs --fcm-credentials FILE"
    run 64 "$worker" --queue "memory:$tmp/q" --members "$members" --push log --fcm-endpoint http://127.0.0.1:1
    has "$tmp/err" "--fcm-endpoint goes with --push fcm"
    run 64 "$worker" --queue "memory:$tmp/q" --members "$members" --push fcm --fcm-credentials "$tmp/sa.json" \
      --fcm-connections 0
    has "$tmp/err" "--fcm-connections must be a whole number from 1 up"
    NOTIFY_FCM_CREDENTIALS="$tmp/missing-sa.json" run 66 "$worker" --queue "memory:$tmp/q" --members "$members" \
      --push fcm
    has "$tmp/err" "cannot read the service-account file '$tmp/missing-sa.json'"
    printf '{"project_id":"p","client_email":"e@example.com","private_key":"SECRET-NOT-A-KEY"}' >"$tmp/bad-sa.json"
    run 65 "$worker" --queue "memory:$tmp/q" --members "$members" --push fcm --fcm-credentials "$tmp/bad-sa.json"
    ! grep -q "SECRET-NOT-A-KEY" "$tmp/err" || fail "the private key was printed"
    run 64 "$worker" --queue "memory:$tmp/q" --members "$members" --push fcm --fcm-credentials "$tmp/bad-sa.json" \
      --fcm-endpoint ftp://fcm.example
    has "$tmp/err" "endpoint must be an http:// or https:// URL"
    run 64 "$worker" --queue "memory:$tmp/q" --members "$members" --push log --inbox https://sqs.example/inbox
    has "$tmp/err" "not an SQS queue URL"
    run 64 "$worker" --queue "memory:$tmp/q" --members "$members" --push log --dead-letter https://sqs.example/dlq
    has "$tmp/err" "--dead-letter goes with Redis and SQS queues"
    run 64 "$worker" --queue "$tmp/q" --members "$members" --push log
    run 64 "$worker" --queue "memory:$tmp/q" --members "$members" --push carrier-pigeon
    run 64 "$worker" --queue "memory:$tmp/q" --members "$members" --push log --batch-size 11
    run 64 "$worker" --queue "memory:$tmp/q" --members "$members" --push log --inbox stdout
    run 64 "$worker" --queue "memory:$tmp/q" --members "$members" --push log --claim-idle-ms 0
    run 64 "$worker" --queue "memory:$tmp/q" --members "$members" --push log --push-delay-ms -1
    run 66 "$worker" --queue "memory:$tmp/missing.jsonl" --members "$members" --push log --drain
    # An unknown scheme is a usage error that lists the valid forms (issue 12).
    run 64 "$worker" --queue amqp://broker/notify --members "$members" --push log
    has "$tmp/err" "--queue amqp://broker/notify: unknown kind of queue; use redis://HOST:PORT/STREAM, an SQS queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME) or memory:FILE"
    run 64 "$worker" --queue "memory:$tmp/q" --members ftp://store.example --push log
    has "$tmp/err" "--members ftp://store.example: unknown kind of member store; use redis://HOST:PORT[/DB] or a members FILE"
    run 64 "$worker" --queue "memory:$tmp/q" --members https://sqs.example/q --push log
    has "$tmp/err" "use redis://HOST:PORT[/DB] or a members FILE"
    run 64 "$worker" --queue "memory:$tmp/q" --members "$members" --push log --inbox amqp://broker/inbox
    has "$tmp/err" "--inbox amqp://broker/inbox: unknown kind of inbox; use log, null, redis://HOST:PORT/STREAM or an SQS queue URL"
    ! grep -q "not supported yet" "$tmp/err" || fail "an unknown scheme is reported as not supported yet"
    # notifyctl has no memory queue: it says which queues it takes, not a Redis-only message.
    run 64 "$notifyctl" publish --queue "memory:$tmp/q" --type EMOTION_POKE --param '{"familyId":1,"userId":2}'
    has "$tmp/err" "--queue memory:$tmp/q: notifyctl needs redis://HOST:PORT/STREAM[?db=N] or an SQS queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME); memory: queues live inside one notify-worker"
    run 64 "$notifyctl" dlq list --queue memory:x
    has "$tmp/err" "notifyctl needs redis://HOST:PORT/STREAM[?db=N] or an SQS queue URL"
    run 64 "$notifyctl" publish --queue amqp://broker/notify --type EMOTION_POKE --param '{"familyId":1,"userId":2}'
    has "$tmp/err" "notifyctl needs redis://HOST:PORT/STREAM[?db=N] or an SQS queue URL"
    # Redis URLs are checked before anything connects (nothing listens on port 1).
    run 64 "$worker" --queue redis://127.0.0.1:1 --members "$members" --push log
    has "$tmp/err" "names no stream"
    run 64 "$worker" --queue redis://127.0.0.1:1/notify --members redis://127.0.0.1:1/notify --push log
    has "$tmp/err" "--members"
    run 64 "$worker" --queue redis://127.0.0.1:1/notify --members "$members" --push log --dead-letter notify:dlq
    has "$tmp/err" "'notify:dead'"
    run 64 "$worker" --queue redis://127.0.0.1:1/notify --members "$members" --push log \
      --dead-letter redis://127.0.0.1:2/notify:dead
    run 64 "$worker" --queue redis://127.0.0.1:1/notify --members "$members" --push log --inbox redis://127.0.0.1:1
    has "$tmp/err" "--inbox"
    ;;

  worker_stops_on_sigterm)
    # Without --drain the worker waits for more work; SIGTERM ends it with status 0.
    "$worker" --queue "memory:$here/requests/emotion_chosen.json" --members "$members" --push log \
      >"$tmp/out" 2>"$tmp/err" &
    pid=$!
    for _ in $(seq 1 200); do
      grep -q '^ts=[^ ]* step=done ' "$tmp/err" && break
      sleep 0.05
    done
    has "$tmp/err" "step=done"
    kill -TERM "$pid"
    wait "$pid"
    status=$?
    pid=""
    [ "$status" -eq 0 ] || fail "worker exited $status after SIGTERM"
    has "$tmp/err" 'step=stopped'
    ;;

  redis_publish_worker_inbox)
    start_redis
    run 0 "$notifyctl" members import --members "$members" --store "$REDIS_URL"
    has "$tmp/err" "family:2.user:12: stored value is not a JSON object (stored as it is; the worker will skip it)"
    has "$tmp/err" "imported 8 member(s) of 3 family(ies)"
    equals "$(rcli HGET family:2 user:12)" "not json" "a malformed value is imported as it is"
    cat "$here/requests/comment_message.json" "$here/requests/letter_time_capsule.json" >"$tmp/requests.jsonl"
    printf '\n{"type":"EMOTION_POKE","param":{"familyId":4,"userId":31},"id":"poke-31"}\n' >>"$tmp/requests.jsonl"
    echo '{"type":"PEDIA_QUESTION_CREATED","param":{"familyId":2,"ownerId":11},"id":"pedia-11"}' >>"$tmp/requests.jsonl"
    run 0 "$notifyctl" publish --queue "$REDIS_URL/notify" --file "$tmp/requests.jsonl"
    has "$tmp/err" "published 4 request(s) to $REDIS_URL/notify"
    equals "$(rcli XLEN notify)" 4 "entries in the stream"
    # The flags are read from the environment too.
    NOTIFY_QUEUE="$REDIS_URL/notify" NOTIFY_MEMBERS="$REDIS_URL" NOTIFY_PUSH=log NOTIFY_DRAIN=1 \
      NOTIFY_INBOX="$REDIS_URL/notify:inbox" run 0 "$worker"
    equals "$(grep -c '^push ' "$tmp/out")" 4 "push lines"
    has "$tmp/out" 'push token=tok-da...0002 title=우리가 이야기 body=엄마 님이 이야기에 댓글을 작성했습니다! "오늘 저녁은 다 같..." screen=MessageFamily param={"messageId":29001}'
    has "$tmp/out" 'push token=tok-mo...0001 title=우리가 이야기'
    has "$tmp/out" 'push token=tok-yu...0031 title=오늘의 감정을 선택해주세요 body=가족들이 유진 님의 기분을 궁금해합니다! screen=MessageHome param={"openEmotion":true,"userId":31}'
    ! grep -q '^inbox ' "$tmp/out" || fail "inbox records printed although they go to a stream"
    has "$tmp/err" 'step=member_skipped request=family:2.user:12'
    has "$tmp/err" 'step=drained detail="4 records: 4 done, 0 retried, 0 dead-lettered, 0 pending; 4 pushes"'
    # One inbox entry per request with inbox records, each the JSON array; every record
    # carries the traceparent notifyctl publish gave its request.
    rcli XRANGE notify:inbox - + >"$tmp/inbox"
    equals "$(rcli XLEN notify:inbox)" 3 "inbox entries"
    has "$tmp/inbox" '[{"receiverId":2,"title":"우리가 이야기","body":"엄마 님이 이야기에 댓글을 작성했습니다! \"오늘 저녁은 다 같...\"","screen":"MessageFamily","param":{"messageId":29001},"traceparent":"00-'
    has "$tmp/inbox" '[{"receiverId":3,"title":"우리가 편지","body":"우리가족이 민준 님에게 새로운 타임캡슐을 작성했습니다!","screen":"TimeCapsulesNav","traceparent":"00-'
    has "$tmp/inbox" '[{"receiverId":11,"title":"우리가 인물사전","body":"서연 님의 인물사전에 새로운 질문이 등록되었습니다!","screen":"FamilyPediaMember","param":{"pediaId":11},"traceparent":"00-'
    # Everything was acked (and deleted): nothing left, nothing pending, nothing dead.
    equals "$(rcli XLEN notify)" 0 "entries left in the stream"
    equals "$(rcli XPENDING notify notify | head -1)" 0 "pending entries"
    equals "$(rcli XLEN notify:dead)" 0 "dead letters"
    # The same request again (same envelope id): the idempotency markers stop a second push.
    run 0 "$notifyctl" publish --queue "$REDIS_URL/notify" --type EMOTION_POKE \
      --param '{"familyId":4,"userId":31}' --id poke-31
    run 0 "$worker" --queue "$REDIS_URL/notify" --members "$REDIS_URL" --push log --drain --log-level debug
    ! grep -q '^push ' "$tmp/out" || fail "a request published twice was pushed twice"
    has "$tmp/err" 'step=already_sent request=poke-31 type=EMOTION_POKE token=tok-yu...0031'
    ;;

  redis_publish)
    start_redis
    queue="$REDIS_URL/notify"
    # From flags, at either priority.
    run 0 "$notifyctl" publish --queue "$queue" --type EMOTION_POKE --param '{"familyId":1,"userId":3}' --id p-1
    run 0 "$notifyctl" publish --queue "$queue" --type EMOTION_POKE --param '{"familyId":1,"userId":2}' --priority high
    has "$tmp/err" "published 1 request(s) to $REDIS_URL/notify:high"
    equals "$(rcli XLEN notify)" 1 "normal entries"
    equals "$(rcli XLEN notify:high)" 1 "high entries"
    rcli XRANGE notify - + >"$tmp/entry"
    # ... with a fresh W3C traceparent, as the producer side gives every request without one.
    grep -Eq '^\{"type":"EMOTION_POKE","param":\{"familyId":1,"userId":3\},"id":"p-1","traceparent":"00-[0-9a-f]{32}-[0-9a-f]{16}-01"\}$' "$tmp/entry" ||
      fail "no traceparent added: $(cat "$tmp/entry")"
    # A traceparent the caller set is kept.
    tp=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
    printf '%s\n' '{"type":"EMOTION_POKE","param":{"familyId":1,"userId":4},"traceparent":"'$tp'"}' >"$tmp/traced.jsonl"
    run 0 "$notifyctl" publish --queue "$queue" --file "$tmp/traced.jsonl"
    rcli XRANGE notify - + >"$tmp/entry"
    equals "$(grep -c "$tp" "$tmp/entry")" 1 "entries with the caller's traceparent"
    rcli XTRIM notify MAXLEN 1 >/dev/null
    has "$tmp/entry" 'p-1'
    # An invalid request from flags is not sent.
    run 2 "$notifyctl" publish --queue "$queue" --type EMOTION_POKE --param '{"familyId":0}'
    has "$tmp/out" '"path": "param.familyId"'
    has "$tmp/out" '"code": "missing_field"'
    run 2 "$notifyctl" publish --queue "$queue" --type EMOTION_POKE --param '{"familyId":'
    has "$tmp/out" '"code": "invalid_json"'
    run 2 "$notifyctl" publish --queue "$queue" --type NO_SUCH_TYPE --param '{}'
    has "$tmp/out" '"code": "unknown_type"'
    # A file with invalid lines: each reported with its line number, nothing sent...
    {
      echo '{"type":"EMOTION_POKE","param":{"familyId":1,"userId":3}}'
      echo
      echo '{"type":"EMOTION_POKE","param":{"familyId":"1","userId":3}}'
      echo '{"type":"EMOTION_POKE",'
      printf '{"type":"PEDIA_ANSWER","param":{"familyId":2,"ownerId":11}}\r\n'
    } >"$tmp/mixed.jsonl"
    run 2 "$notifyctl" publish --queue "$queue" --file "$tmp/mixed.jsonl"
    has "$tmp/out" '{"line":3,"errors":[{"path":"param.familyId","code":"expected_integer"'
    has "$tmp/out" '{"line":4,"errors":[{"path":"","code":"invalid_json"'
    equals "$(wc -l <"$tmp/out")" 2 "lines reported"
    has "$tmp/err" "2 invalid line(s); nothing was sent"
    equals "$(rcli XLEN notify)" 1 "normal entries after a refused file"
    # ... unless --skip-invalid (the valid ones go) or --no-validate (all go, as they are).
    run 0 "$notifyctl" publish --queue "$queue" --file - --skip-invalid <"$tmp/mixed.jsonl"
    has "$tmp/err" "published 2 request(s) to $REDIS_URL/notify, skipped 2 invalid line(s)"
    equals "$(rcli XLEN notify)" 3 "normal entries after --skip-invalid"
    run 0 "$notifyctl" publish --queue "$queue" --file "$tmp/mixed.jsonl" --no-validate
    [ ! -s "$tmp/out" ] || fail "--no-validate reported lines"
    equals "$(rcli XLEN notify)" 7 "normal entries after --no-validate"
    rcli XREVRANGE notify + - COUNT 1 >"$tmp/entry"
    has "$tmp/entry" '{"type":"PEDIA_ANSWER","param":{"familyId":2,"ownerId":11},"traceparent":"00-'
    # Usage errors, an unreadable file, and a Redis that is not there.
    run 64 "$notifyctl" publish --type EMOTION_POKE --param '{}'
    has "$tmp/err" "--queue"
    run 64 "$notifyctl" publish --queue "$queue"
    run 64 "$notifyctl" publish --queue "$queue" --file "$tmp/mixed.jsonl" --type EMOTION_POKE
    run 64 "$notifyctl" publish --queue "$queue" --type EMOTION_POKE
    run 64 "$notifyctl" publish --queue "$queue" --type EMOTION_POKE --param '{}' --skip-invalid
    run 64 "$notifyctl" publish --queue "$queue" --file "$tmp/mixed.jsonl" --skip-invalid --no-validate
    run 64 "$notifyctl" publish --queue "$queue" --file "$tmp/mixed.jsonl" --priority urgent
    run 64 "$notifyctl" publish --queue "$REDIS_URL" --file "$tmp/mixed.jsonl"
    has "$tmp/err" "names no stream"
    run 64 "$notifyctl" publish --queue https://sqs.example/q --file "$tmp/mixed.jsonl"
    run 66 "$notifyctl" publish --queue "$queue" --file "$tmp/missing.jsonl"
    run 69 "$notifyctl" publish --queue redis://127.0.0.1:1/notify --type EMOTION_POKE --param '{"familyId":1,"userId":3}'
    has "$tmp/err" "cannot connect"
    ;;

  redis_memory_queue_twice)
    # A memory:FILE queue run twice against one Redis (markers kept 24 h): the second run
    # sends too, since the records of each run have ids of their own (issue 12). Requests
    # with an envelope id are still sent once.
    start_redis
    run 0 "$notifyctl" members import --members "$members" --store "$REDIS_URL"
    echo '{"type":"EMOTION_POKE","param":{"familyId":4,"userId":31}}' >"$tmp/requests.jsonl"
    echo '{"type":"EMOTION_POKE","param":{"familyId":1,"userId":2},"id":"poke-2"}' >>"$tmp/requests.jsonl"
    run 0 "$worker" --queue "memory:$tmp/requests.jsonl" --members "$REDIS_URL" --push log --drain
    equals "$(grep -c '^push ' "$tmp/out")" 2 "pushes of the first run"
    grep -oE 'request=m-[0-9a-f]{16}-1 ' "$tmp/err" | head -1 >"$tmp/first-id"
    [ -s "$tmp/first-id" ] || fail "no record id m-<run>-1 in the first run's log"
    run 0 "$worker" --queue "memory:$tmp/requests.jsonl" --members "$REDIS_URL" --push log --drain --log-level debug
    equals "$(grep -c '^push ' "$tmp/out")" 1 "pushes of the second run"
    has "$tmp/out" "push token=tok-yu...0031"
    has "$tmp/err" "step=already_sent request=poke-2"
    ! grep -qF "$(cat "$tmp/first-id")" "$tmp/err" || fail "the second run reused the first run's record ids"
    ;;

  redis_members)
    start_redis
    store="$REDIS_URL"
    run 0 "$notifyctl" members import --members - --store "$store" <"$members"
    run 0 "$notifyctl" members get --store "$store" --family 1 --user 2
    equals "$(cat "$tmp/out")" '{"userName":"아빠","fcmToken":"tok-dad-phone-0002","mktPushAgreed":true}' "member 1/2"
    run 0 "$notifyctl" members set --store "$store" --family 7 --user 70 --name '할머니 "큰"' --token tok-grandma-0070 --mkt
    run 0 "$notifyctl" members get --store "$store" --family 7 --user 70
    equals "$(cat "$tmp/out")" '{"userName":"할머니 \"큰\"","fcmToken":"tok-grandma-0070","mktPushAgreed":true}' "member 7/70"
    run 0 "$notifyctl" members set --store "$store" --family 7 --user 71 --name 할아버지
    run 0 "$notifyctl" members get --store "$store" --family 7 --user 71
    equals "$(cat "$tmp/out")" '{"userName":"할아버지","fcmToken":"","mktPushAgreed":false}' "member 7/71"
    # set overwrites.
    run 0 "$notifyctl" members set --store "$store" --family 7 --user 71 --name 할아버지 --token tok-grandpa-0071
    run 0 "$notifyctl" members get --store "$store" --family 7 --user 71
    has "$tmp/out" '"fcmToken":"tok-grandpa-0071"'
    # The legacy mktPushAreed spelling is read.
    rcli HSET family:7 user:72 '{"userName":"삼촌","fcmToken":"t","mktPushAreed":true}' >/dev/null
    run 0 "$notifyctl" members get --store "$store" --family 7 --user 72
    has "$tmp/out" '"mktPushAgreed":true'
    # Not found (1), a stored value that cannot be read (65).
    run 1 "$notifyctl" members get --store "$store" --family 7 --user 99
    has "$tmp/err" "family:7 has no user:99"
    run 65 "$notifyctl" members get --store "$store" --family 2 --user 12
    has "$tmp/err" "family:2.user:12"
    # remove one member, then a whole family.
    run 0 "$notifyctl" members remove --store "$store" --family 7 --user 70
    run 1 "$notifyctl" members get --store "$store" --family 7 --user 70
    run 0 "$notifyctl" members get --store "$store" --family 7 --user 71
    equals "$(rcli HLEN family:7)" 2 "fields left in family:7"
    run 0 "$notifyctl" members remove --store "$store" --family 7
    equals "$(rcli EXISTS family:7)" 0 "family:7 exists"
    run 0 "$notifyctl" members remove --store "$store" --family 7
    # A database number in the URL.
    run 0 "$notifyctl" members set --store "$store/3" --family 1 --user 1 --name 다른DB
    equals "$(rcli -n 3 HGET family:1 user:1)" '{"userName":"다른DB","fcmToken":"","mktPushAgreed":false}' "member in db 3"
    # Usage errors, bad files, and a Redis that is not there.
    run 64 "$notifyctl" members
    run 64 "$notifyctl" members frobnicate --store "$store"
    has "$tmp/err" "unknown members command"
    run 64 "$notifyctl" members get --store "$store" --family 0 --user 1
    has "$tmp/err" "--family must be an id"
    run 64 "$notifyctl" members get --store "$store" --family 1 --user 01
    run 64 "$notifyctl" members get --store "$store" --family 1
    run 64 "$notifyctl" members set --store "$store" --family 1 --user 1
    has "$tmp/err" "--name"
    run 64 "$notifyctl" members set --store "not-a-url" --family 1 --user 1 --name x
    has "$tmp/err" "--store"
    run 64 "$notifyctl" members import --members "$members"
    run 66 "$notifyctl" members import --members "$tmp/missing.json" --store "$store"
    mkdir "$tmp/dir"
    run 66 "$notifyctl" members import --members "$tmp/dir" --store "$store"
    has "$tmp/err" "cannot read members file '$tmp/dir': is a directory"
    printf '{"family:1": {"user:1": "x",}}' >"$tmp/broken.json"
    run 65 "$notifyctl" members import --members "$tmp/broken.json" --store "$store"
    has "$tmp/err" "not valid JSON at byte 28"
    printf '["family:1"]' >"$tmp/array.json"
    run 65 "$notifyctl" members import --members "$tmp/array.json" --store "$store"
    run 69 "$notifyctl" members get --store redis://127.0.0.1:1 --family 1 --user 1
    run 69 "$notifyctl" members import --members "$members" --store redis://127.0.0.1:1
    ;;

  redis_auth)
    # A server with a password: the URLs carry it, the logs never show it.
    redis_start "$tmp/redis" --requirepass 's3cret:pw' || fail "redis-server did not start"
    good="redis://:s3cret%3Apw@127.0.0.1:$REDIS_PORT"
    run 0 "$notifyctl" members import --members "$members" --store "$good"
    run 0 "$notifyctl" publish --queue "$good/notify" --file "$here/requests/comment_message.json"
    run 0 "$worker" --queue "$good/notify" --members "$good" --push log --drain
    equals "$(grep -c '^push ' "$tmp/out")" 2 "push lines"
    has "$tmp/err" "queue=redis://:***@127.0.0.1:$REDIS_PORT/notify"
    ! grep -q 's3cret' "$tmp/err" || fail "the password shows in the worker's log"
    # A wrong password is a configuration error: the worker stops with status 1, notifyctl 69.
    bad="redis://:wrong@127.0.0.1:$REDIS_PORT"
    run 0 "$notifyctl" publish --queue "$good/notify" --file "$here/requests/comment_message.json"
    run 1 "$worker" --queue "$bad/notify" --members "$good" --push log --drain
    has "$tmp/err" "step=fatal"
    ! grep -q '^push ' "$tmp/out" || fail "pushed with a queue it could not read"
    run 69 "$notifyctl" members get --store "$bad" --family 1 --user 1
    run 69 "$notifyctl" dlq list --queue "$bad/notify"
    # No password at all: the server wants one, and the message says so (issue 12).
    none="redis://127.0.0.1:$REDIS_PORT"
    cat "$here/requests/comment_message.json" "$here/requests/photo_create.json" >"$tmp/two.jsonl"
    for file in "$here/requests/comment_message.json" "$tmp/two.jsonl"; do
      run 69 "$notifyctl" publish --queue "$none/notify" --file "$file"
      has "$tmp/err" "NOAUTH"
      has "$tmp/err" "the server requires a password"
      ! grep -q "Server closed the connection" "$tmp/err" || fail "NOAUTH reported as a closed connection"
    done
    run 69 "$notifyctl" publish --queue "$none/notify" --type EMOTION_POKE --param '{"familyId":1,"userId":3}'
    has "$tmp/err" "NOAUTH"
    run 69 "$notifyctl" members import --members "$members" --store "$none"
    has "$tmp/err" "NOAUTH"
    run 69 "$notifyctl" members get --store "$none" --family 1 --user 1
    has "$tmp/err" "NOAUTH"
    run 69 "$notifyctl" dlq list --queue "$none/notify"
    has "$tmp/err" "NOAUTH"
    run 1 "$worker" --queue "$none/notify" --members "$good" --push log --drain
    has "$tmp/err" "NOAUTH"
    # A worker whose member store refuses it stops too, and leaves the record to come back.
    run 1 "$worker" --queue "$good/notify" --members "$bad" --push log --drain
    has "$tmp/err" "step=fatal"
    run 0 "$worker" --queue "$good/notify" --members "$good" --push log --drain --claim-idle-ms 1
    equals "$(grep -c '^push ' "$tmp/out")" 2 "push lines once the store is reachable"
    ;;

  redis_dlq)
    start_redis
    queue="$REDIS_URL/notify"
    run 0 "$notifyctl" members import --members "$members" --store "$REDIS_URL"
    run 0 "$notifyctl" publish --queue "$queue" --file "$here/requests/invalid.json" --no-validate
    run 0 "$notifyctl" publish --queue "$queue" --file - --no-validate <<<'{"type":"EMOTION_POKE","param":{"familyId":4}}'
    run 0 "$worker" --queue "$queue" --members "$REDIS_URL" --push log --drain
    has "$tmp/err" "2 dead-lettered"
    run 0 "$notifyctl" dlq list --queue "$queue"
    equals "$(wc -l <"$tmp/out")" 2 "dead letters listed"
    while IFS= read -r line; do
      case "$line" in
        '{"id":"'*'","requestId":"'*'","reason":"'*'","deliveries":1,"deadAt":'*',"origin":"notify","body":"'*'"}') ;;
        *) fail "not a dead-letter line: $line" ;;
      esac
    done <"$tmp/out"
    has "$tmp/out" '\"path\":\"param.userId\",\"code\":\"missing_field\"'
    has "$tmp/out" '"body":"{\"type\":\"EMOTION_POKE\",\"param\":{\"familyId\":4}}"'
    # --all lists every one (the synopsis offers it; issue 12).
    run 0 "$notifyctl" dlq list --queue "$queue" --all
    equals "$(wc -l <"$tmp/out")" 2 "dead letters listed with --all"
    run 64 "$notifyctl" dlq list --queue "$queue" --all --max 1
    has "$tmp/err" "--all or --max"
    run 0 "$notifyctl" dlq list --queue "$queue" --max 1
    equals "$(wc -l <"$tmp/out")" 1 "dead letters listed with --max 1"
    first=$(sed 's/^{"id":"\([^"]*\)".*/\1/' "$tmp/out")
    # Redrive one by id: it goes back to its stream, with a fresh delivery count.
    run 0 "$notifyctl" dlq redrive --queue "$queue" --id "$first"
    has "$tmp/err" "moved 1 dead letter(s) back from notify:dead"
    equals "$(rcli XLEN notify:dead)" 1 "dead letters after one redrive"
    equals "$(rcli XLEN notify)" 1 "entries back in the stream"
    run 1 "$notifyctl" dlq redrive --queue "$queue" --id "$first"
    has "$tmp/err" "no dead letter with id $first"
    # The worker dead-letters it again; --all moves both back.
    run 0 "$worker" --queue "$queue" --members "$REDIS_URL" --push log --drain
    equals "$(rcli XLEN notify:dead)" 2 "dead letters after the second run"
    run 0 "$notifyctl" dlq redrive --queue "$queue" --all
    has "$tmp/err" "moved 2 dead letter(s)"
    equals "$(rcli XLEN notify:dead)" 0 "dead letters after --all"
    equals "$(rcli XLEN notify)" 2 "entries back in the stream after --all"
    run 0 "$notifyctl" dlq list --queue "$queue"
    [ ! -s "$tmp/out" ] || fail "dlq list printed something for an empty dead-letter stream"
    # The worker may name the dead-letter stream it uses, and no other.
    run 0 "$worker" --queue "$queue" --members "$REDIS_URL" --push null --drain --dead-letter notify:dead
    run 0 "$worker" --queue "$queue" --members "$REDIS_URL" --push null --drain --dead-letter "$REDIS_URL/notify:dead"
    # Usage errors and a Redis that is not there.
    run 64 "$notifyctl" dlq
    run 64 "$notifyctl" dlq list
    run 64 "$notifyctl" dlq list --queue "$queue" --max 0
    run 64 "$notifyctl" dlq redrive --queue "$queue"
    run 64 "$notifyctl" dlq redrive --queue "$queue" --all --id 1-0
    run 64 "$notifyctl" dlq redrive --queue "$queue" --id banana
    run 69 "$notifyctl" dlq list --queue redis://127.0.0.1:1/notify
    ;;

  redis_queue_stats)
    start_redis
    queue="$REDIS_URL/notify"
    run 0 "$notifyctl" queue stats --queue "$queue" --json
    equals "$(cat "$tmp/out")" '{"depth":0,"pending":0,"delayed":0,"dead":0,"oldest_pending_ms":null,"consumers":[]}' \
      "stats of a queue never used"
    printf '%s\n' '{"type":"EMOTION_POKE","param":{"familyId":4,"userId":5}}' \
      '{"type":"EMOTION_POKE","param":{"familyId":4,"userId":6}}' \
      '{"type":"EMOTION_POKE","param":{"familyId":4,"userId":7}}' >"$tmp/requests.jsonl"
    run 0 "$notifyctl" publish --queue "$queue" --file "$tmp/requests.jsonl"
    # A worker (consumer w1) holds one record; a retry waits, a dead letter is there.
    rcli XGROUP CREATE notify notify 0 >/dev/null
    rcli XREADGROUP GROUP notify w1 COUNT 1 STREAMS notify '>' >/dev/null
    rcli ZADD notify:delayed 99999999999999 later >/dev/null
    rcli XADD notify:dead '*' rid r1 body '{}' reason bad n 1 sent 0 origin notify at 0 >/dev/null
    run 0 "$notifyctl" queue stats --queue "$queue"
    grep -qE '^depth +2$' "$tmp/out" || fail "depth: $(cat "$tmp/out")"
    grep -qE '^pending +1$' "$tmp/out" || fail "pending: $(cat "$tmp/out")"
    grep -qE '^delayed +1$' "$tmp/out" || fail "delayed: $(cat "$tmp/out")"
    grep -qE '^dead +1$' "$tmp/out" || fail "dead: $(cat "$tmp/out")"
    grep -qE '^oldest pending +[0-9]+ ms$' "$tmp/out" || fail "oldest pending: $(cat "$tmp/out")"
    grep -qE '^consumer w1 +1 pending, idle [0-9]+ ms$' "$tmp/out" || fail "consumer: $(cat "$tmp/out")"
    equals "$(wc -l <"$tmp/out")" 6 "table lines"
    equals "$(awk '{ match($0, /  +/); print RSTART + RLENGTH }' "$tmp/out" | sort -u | wc -l)" 1 "columns of the figures"
    run 0 "$notifyctl" queue stats --queue "$queue" --json
    case "$(cat "$tmp/out")" in
      '{"depth":2,"pending":1,"delayed":1,"dead":1,"oldest_pending_ms":'[0-9]*',"consumers":[{"name":"w1","pending":1,"idle_ms":'[0-9]*'}]}') ;;
      *) fail "queue stats --json: $(cat "$tmp/out")" ;;
    esac
    # Usage errors and a Redis that is not there.
    run 64 "$notifyctl" queue
    run 64 "$notifyctl" queue list --queue "$queue"
    run 64 "$notifyctl" queue stats
    run 64 "$notifyctl" queue stats --queue memory:x
    run 64 "$notifyctl" queue stats --queue "$queue" --dead-letter notify:dead
    run 64 "$notifyctl" queue stats --queue "$queue" --json=yes
    run 69 "$notifyctl" queue stats --queue redis://127.0.0.1:1/notify
    has "$tmp/err" "queue stats for redis://127.0.0.1:1/notify"
    ;;

  sqs_publish_worker_dlq)
    start_sqs
    dead=$(sqs_create notify-dead)
    queue=$(sqs_create notify "{\"RedrivePolicy\":\"{\\\"deadLetterTargetArn\\\":\\\"arn:aws:sqs:us-east-1:123456789012:notify-dead\\\",\\\"maxReceiveCount\\\":\\\"10\\\"}\",\"VisibilityTimeout\":\"5\"}")
    [ -n "$queue" ] && [ -n "$dead" ] || fail "queues not created"
    # A bulk request over more families than --max-families goes out in parts.
    cat "$here/requests/comment_message.json" >"$tmp/requests.jsonl"
    echo '{"type":"MESSAGE_TODAY","id":"noon","param":{"familyIds":[1,2,4]}}' >>"$tmp/requests.jsonl"
    run 0 "$notifyctl" publish --queue "$queue" --file "$tmp/requests.jsonl" --max-families 2
    has "$tmp/err" "published 3 request(s) to $queue (2 before splitting bulk requests)"
    run 0 "$notifyctl" publish --queue "$queue" --file "$here/requests/invalid.json" --no-validate
    run 64 "$notifyctl" publish --queue "$queue" --file "$tmp/requests.jsonl" --priority high
    has "$tmp/err" "--priority goes with Redis queues"
    inbox=$(sqs_create notify-inbox)
    run 0 "$worker" --queue "$queue" --members "$members" --push log --drain --inbox "$inbox"
    has "$tmp/err" 'step=drained detail="4 records: 3 done, 0 retried, 1 dead-lettered, 0 pending;'
    # The comment's inbox records arrived on the inbox queue, one message for the request.
    sqs_call ReceiveMessage "{\"QueueUrl\":\"$inbox\",\"MaxNumberOfMessages\":10}" >"$tmp/inbox"
    has "$tmp/inbox" 'receiverId'
    equals "$(grep -o '"MessageId"' "$tmp/inbox" | wc -l)" 1 "inbox messages"
    has "$tmp/out" 'push token=tok-da...0002 title=우리가 이야기 body=엄마 님이 이야기에 댓글을 작성했습니다!'
    has "$tmp/out" 'push token=tok-yu...0031 title=우리가 이야기 body=오늘의 이야기가 도착했습니다!'
    grep -q '^dead_letter ' "$tmp/out" || fail "no dead letter printed"
    # The dead letter keeps its reason; redrive brings it back, the worker dead-letters it again.
    run 0 "$notifyctl" dlq list --queue "$queue"
    equals "$(wc -l <"$tmp/out")" 1 "dead letters listed"
    has "$tmp/out" '"reason":"[{\"path\":\"param.photoId\",\"code\":\"expected_integer\"'
    has "$tmp/out" "\"origin\":\"$queue\""
    has "$tmp/out" '"deliveries":1'
    letter=$(sed -n 's/^{"id":"\([^"]*\)".*/\1/p' "$tmp/out")
    run 0 "$notifyctl" dlq redrive --queue "$queue" --id "$letter"
    has "$tmp/err" "moved 1 dead letter(s) back from $dead"
    run 0 "$notifyctl" dlq list --queue "$queue"
    [ ! -s "$tmp/out" ] || fail "dlq list after redrive: $(cat "$tmp/out")"
    run 1 "$notifyctl" dlq redrive --queue "$queue" --id "$letter"
    run 0 "$worker" --queue "$queue" --members "$members" --push log --drain --inbox null
    has "$tmp/err" '1 records: 0 done, 0 retried, 1 dead-lettered, 0 pending; 0 pushes'
    # queue stats: SQS's counts, the dead-letter queue's included; it cannot tell the oldest pending.
    run 0 "$notifyctl" queue stats --queue "$queue" --json
    equals "$(cat "$tmp/out")" '{"depth":0,"pending":0,"delayed":0,"dead":1,"oldest_pending_ms":null,"consumers":[]}' \
      "queue stats --json on SQS"
    run 0 "$notifyctl" queue stats --queue "$queue"
    grep -qE '^oldest pending +unknown$' "$tmp/out" || fail "oldest pending on SQS: $(cat "$tmp/out")"
    run 0 "$notifyctl" dlq redrive --queue "$queue" --all
    has "$tmp/err" "moved 1 dead letter(s)"
    # A queue without a dead-letter queue is refused before anything is taken.
    plain=$(sqs_create plain)
    run 0 "$notifyctl" queue stats --queue "$plain"
    grep -qE '^dead +unknown$' "$tmp/out" || fail "dead without a dead-letter queue: $(cat "$tmp/out")"
    run 0 "$notifyctl" queue stats --queue "$plain" --dead-letter "$dead" --json
    has "$tmp/out" '"dead":0,'
    run 64 "$worker" --queue "$plain" --members "$members" --push log --drain
    has "$tmp/err" "has no dead-letter queue"
    run 0 "$worker" --queue "$plain" --members "$members" --push log --drain --dead-letter "$dead"
    # Wrong credentials: refused by the server's signature check, secret never printed.
    AWS_SECRET_ACCESS_KEY=wrong-secret-123 run 69 "$notifyctl" publish --queue "$queue" --file "$tmp/requests.jsonl"
    has "$tmp/err" "SignatureDoesNotMatch"
    ! grep -q "wrong-secret-123" "$tmp/err" || fail "the secret was printed"
    ;;

  redis_outbox)
    # The queue is down: publishes land in the outbox, in order; it comes back: a drain
    # sends them in order with their ids and createdAt, and the worker delivers each once.
    start_redis
    queue="$REDIS_URL/notify"
    box="$tmp/box"
    redis_stop
    for i in 1 2 3; do
      run 0 "$notifyctl" publish --queue "$queue" --outbox "$box" --type EMOTION_POKE \
        --param '{"familyId":4,"userId":31}' --id "o-$i"
      has "$tmp/err" "stored 1 request(s) for $queue in the outbox $box ($i waiting): redis: cannot connect"
    done
    printf '%s\n' '{"type":"EMOTION_POKE","param":{"familyId":4,"userId":31},"id":"o-4","createdAt":1700000000000}' \
      '{"type":"EMOTION_POKE","param":{"familyId":4,"userId":31}}' >"$tmp/more.jsonl"
    run 0 "$notifyctl" publish --queue "$queue" --outbox "$box" --file "$tmp/more.jsonl"
    has "$tmp/err" "stored 2 request(s)"
    run 0 "$notifyctl" outbox status --outbox "$box" --json
    grep -Eq '^\{"depth":5,"bytes":[0-9]+,"oldest_age_ms":[0-9]+,"damaged":0,"torn_bytes":0,"queues":\[\{"queue":"'"$queue"'","priority":"normal","depth":5\}\]\}$' "$tmp/out" ||
      fail "outbox status --json: $(cat "$tmp/out")"
    run 0 "$notifyctl" outbox list --outbox "$box"
    equals "$(wc -l <"$tmp/out")" 5 "requests listed"
    has "$tmp/out" '\"id\":\"o-4\",\"createdAt\":1700000000000'
    grep -q '\\"id\\":\\"ob-[0-9a-f]\{32\}\\"' "$tmp/out" || fail "no id given to a request without one"
    # A drain while the queue is still down keeps everything (exit 69, for cron).
    run 69 "$notifyctl" outbox drain --outbox "$box"
    has "$tmp/err" "relayed 0 request(s) from the outbox $box, 5 waiting; stopped ($queue)"
    redis_restart
    run 0 "$notifyctl" members import --members "$members" --store "$REDIS_URL"  # (not kept over a restart)
    # A publish while the outbox holds requests sends those first, then its own.
    run 0 "$notifyctl" publish --queue "$queue" --outbox "$box" --type EMOTION_POKE \
      --param '{"familyId":4,"userId":31}' --id o-6
    has "$tmp/err" "relayed 5 request(s) from the outbox $box"
    has "$tmp/err" "published 1 request(s) to $queue"
    rcli XRANGE notify - + | grep '^{' >"$tmp/bodies"
    sed -n 's/.*"id":"\([^"]*\)".*/\1/p' "$tmp/bodies" | sed 's/^ob-.*/ob/' | tr '\n' ' ' >"$tmp/order"
    equals "$(cat "$tmp/order")" "o-1 o-2 o-3 o-4 ob o-6 " "the order at the queue"
    has "$tmp/bodies" '"id":"o-4","createdAt":1700000000000,'
    run 0 "$notifyctl" outbox drain --outbox "$box"
    has "$tmp/err" "relayed 0 request(s) from the outbox $box, 0 waiting"
    run 0 "$notifyctl" outbox status --outbox "$box"
    grep -Eq '^depth +0$' "$tmp/out" || fail "outbox status: $(cat "$tmp/out")"
    # The worker delivers each request once.
    run 0 "$worker" --queue "$queue" --members "$REDIS_URL" --push log --drain
    has "$tmp/err" 'step=drained detail="6 records: 6 done'
    equals "$(grep -c '^push ' "$tmp/out")" 6 "push lines"
    # A request the queue will never take can be dropped (printed), by its seq.
    redis_stop
    run 0 "$notifyctl" publish --queue "$queue" --outbox "$box" --type EMOTION_POKE \
      --param '{"familyId":4,"userId":31}' --id o-7
    run 0 "$notifyctl" publish --queue "$queue" --outbox "$box" --type EMOTION_POKE \
      --param '{"familyId":4,"userId":31}' --id o-8
    run 0 "$notifyctl" outbox list --outbox "$box"
    seq=$(head -1 "$tmp/out" | sed -n 's/^{"seq":\([0-9]*\),.*/\1/p')
    run 0 "$notifyctl" outbox drop --outbox "$box" --through "$seq"
    has "$tmp/out" '"id":"o-7"'
    has "$tmp/err" "dropped 1 request(s) from the outbox $box (printed on stdout), 1 waiting"
    run 1 "$notifyctl" outbox drop --outbox "$box" --through "$seq"
    run 0 "$notifyctl" outbox list --outbox "$box"
    equals "$(wc -l <"$tmp/out")" 1 "requests left after the drop"
    has "$tmp/out" 'o-8'
    # Usage and a locked outbox.
    run 64 "$notifyctl" outbox drain
    run 64 "$notifyctl" outbox frob --outbox "$box"
    run 64 "$notifyctl" publish --queue "$queue" --type EMOTION_POKE --param '{}' --outbox-max-bytes 9999
    exec 8>"$box/lock"
    flock -n 8 || fail "cannot take the outbox lock"
    run 74 timeout 30 "$notifyctl" outbox drain --outbox "$box"
    has "$tmp/err" "in use by another process"
    exec 8>&-
    ;;

  redis_outbox_kill9)
    # 100 producers killed with SIGKILL at random points of their append: every request
    # one of them acknowledged (exit 0) reaches the queue exactly once after a drain.
    start_redis
    queue="$REDIS_URL/notify"
    box="$tmp/box"
    redis_stop
    : >"$tmp/acked"
    for i in $(seq 1 100); do
      "$notifyctl" publish --queue "$queue" --outbox "$box" --type EMOTION_POKE \
        --param '{"familyId":4,"userId":31}' --id "k-$i" 2>/dev/null &
      victim=$!
      sleep "0.0$((2 + RANDOM % 4))$((RANDOM % 10))"  # 20-59 ms: a run takes about 40
      kill -KILL "$victim" 2>/dev/null
      # Exit 0 means it returned before the kill: an acknowledged request.
      if wait "$victim"; then echo "k-$i" >>"$tmp/acked"; fi
    done
    acked=$(wc -l <"$tmp/acked")
    echo "acknowledged $acked of 100 before their kill"
    run 0 "$notifyctl" outbox status --outbox "$box" --json
    has "$tmp/out" '"damaged":0'
    cp -p "$box/journal" "$tmp/journal.before-drain"
    redis_restart
    run 0 "$notifyctl" members import --members "$members" --store "$REDIS_URL"  # (not kept over a restart)
    run 0 "$notifyctl" outbox drain --outbox "$box"
    rcli XRANGE notify - + | grep '^{' | sed -n 's/.*"id":"\([^"]*\)".*/\1/p' | sort >"$tmp/queued"
    equals "$(uniq -d "$tmp/queued" | wc -l)" 0 "ids in the queue more than once"
    sort "$tmp/acked" >"$tmp/acked.sorted"
    equals "$(comm -23 "$tmp/acked.sorted" "$tmp/queued" | wc -l)" 0 "acknowledged ids missing from the queue"
    queued=$(wc -l <"$tmp/queued")
    echo "$queued in the queue: the $acked acknowledged and $((queued - acked)) stored by a producer killed before it exited"
    run 0 "$worker" --queue "$queue" --members "$REDIS_URL" --push log --drain
    has "$tmp/err" "step=drained detail=\"$queued records: $queued done"
    equals "$(grep -c '^push ' "$tmp/out")" "$queued" "push lines (one per request)"
    # A relay that crashed after sending and before journalling its acknowledgements
    # sends everything again: the worker's idempotency delivers none of it a second time.
    cp -p "$tmp/journal.before-drain" "$box/journal"
    run 0 "$notifyctl" outbox drain --outbox "$box"
    has "$tmp/err" "relayed $queued request(s)"
    run 0 "$worker" --queue "$queue" --members "$REDIS_URL" --push log --drain --log-level debug
    has "$tmp/err" "step=drained detail=\"$queued records: $queued done"
    equals "$(grep -c '^push ' "$tmp/out")" 0 "push lines for requests sent twice"
    equals "$(grep -c 'step=already_sent' "$tmp/err")" "$queued" "requests recognised as already sent"
    ;;

  redis_outbox_damage)
    # A damaged record in the middle of the journal is reported and skipped; the rest go.
    start_redis
    queue="$REDIS_URL/notify"
    box="$tmp/box"
    redis_stop
    for i in 1 2 3; do
      run 0 "$notifyctl" publish --queue "$queue" --outbox "$box" --type EMOTION_POKE \
        --param '{"familyId":4,"userId":31}' --id "d-$i"
    done
    # Overwrite a byte inside the second request's body (its id).
    at=$(grep -abo 'd-2' "$box/journal" | head -1 | cut -d: -f1)
    [ -n "$at" ] || fail "d-2 not found in the journal"
    printf 'X' | dd of="$box/journal" bs=1 seek="$at" conv=notrunc status=none
    run 0 "$notifyctl" outbox status --outbox "$box"
    grep -Eq '^depth +2$' "$tmp/out" || fail "outbox status: $(cat "$tmp/out")"
    grep -Eq '^damaged +1$' "$tmp/out" || fail "outbox status: $(cat "$tmp/out")"
    has "$tmp/out" "damaged at"
    redis_restart
    run 0 "$notifyctl" outbox drain --outbox "$box"
    has "$tmp/err" "1 damaged record(s) in the journal skipped"
    has "$tmp/err" "relayed 2 request(s)"
    equals "$(rcli XRANGE notify - + | grep -c '"id":"d-[13]"')" 2 "requests relayed"
    run 0 "$notifyctl" outbox status --outbox "$box"
    grep -Eq '^damaged +0$' "$tmp/out" || fail "damage left after the drain: $(cat "$tmp/out")"
    ;;

  outbox_disk_full)
    # A disk that refuses (a file size limit): a clear error, exit 74, nothing stored of
    # that call; and a full outbox (its own bound) likewise.
    queue="redis://127.0.0.1:1/notify"  # nobody listens on port 1
    box="$tmp/box"
    run 0 "$notifyctl" publish --queue "$queue" --outbox "$box" --type EMOTION_POKE \
      --param '{"familyId":4,"userId":31}' --id f-1
    for i in $(seq 2 40); do
      echo "{\"type\":\"EMOTION_POKE\",\"param\":{\"familyId\":4,\"userId\":31},\"id\":\"f-$i-$(head -c 300 /dev/zero | tr '\0' x)\"}"
    done | cut -c1-250 | sed 's/x*$/"}/' >"$tmp/many.jsonl"
    run 74 bash -c 'ulimit -f 4; exec "$@"' - "$notifyctl" publish --queue "$queue" --outbox "$box" --file "$tmp/many.jsonl"
    has "$tmp/err" "cannot append: File too large (nothing stored)"
    has "$tmp/err" "the others were not stored"
    run 0 "$notifyctl" outbox status --outbox "$box"
    grep -Eq '^depth +1$' "$tmp/out" || fail "outbox status after a refused append: $(cat "$tmp/out")"
    grep -Eq '^torn +0 bytes$' "$tmp/out" || fail "a short write was left: $(cat "$tmp/out")"
    run 74 "$notifyctl" publish --queue "$queue" --outbox "$box" --outbox-max-bytes 4096 --file "$tmp/many.jsonl"
    has "$tmp/err" "full: "
    run 0 "$notifyctl" outbox list --outbox "$box"
    equals "$(wc -l <"$tmp/out")" 1 "requests stored"
    ;;

  sqs_outbox)
    # SQS unreachable (the endpoint refuses): publishes land in the outbox; with the
    # endpoint back, a drain sends them in order, once each.
    start_sqs
    dead=$(sqs_create notify-outbox-dead)
    queue=$(sqs_create notify-outbox)
    [ -n "$queue" ] && [ -n "$dead" ] || fail "queues not created"
    box="$tmp/box"
    for i in 1 2 3; do
      AWS_ENDPOINT_URL_SQS=http://127.0.0.1:1 run 0 "$notifyctl" publish --queue "$queue" --outbox "$box" \
        --type EMOTION_POKE --param '{"familyId":4,"userId":31}' --id "s-$i"
      has "$tmp/err" "stored 1 request(s) for $queue in the outbox $box ($i waiting)"
    done
    run 0 "$notifyctl" outbox drain --outbox "$box"
    has "$tmp/err" "relayed 3 request(s) from the outbox $box, 0 waiting"
    run 0 "$worker" --queue "$queue" --dead-letter "$dead" --members "$members" --push log --drain --inbox null
    has "$tmp/err" 'step=drained detail="3 records: 3 done'
    equals "$(grep -c '^push ' "$tmp/out")" 3 "push lines"
    ;;

  *)
    fail "unknown case"
    ;;
esac
echo "ok [$case_name]"
