#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# End-to-end tests of the programs' command-line contract (DESIGN.md). One case per run:
#   cli_test.sh CASE NOTIFYCTL NOTIFY_WORKER SOURCE_DIR
# Each case prints what it checked and exits non-zero on the first mismatch.
set -uo pipefail

case_name="$1"
notifyctl="$2"
worker="$3"
src="$4"
here="$src/tests/e2e"
members="$here/data/members.json"
tmp="$(mktemp -d)"
pid=""
trap '[ -z "$pid" ] || kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT

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
    ;;

  schema)
    run 0 "$notifyctl" schema
    has "$tmp/out" '"$schema": "https://json-schema.org/draft/2020-12/schema"'
    for type in MESSAGE_TODAY MESSAGE_BIRTHDAY COMMENT_MESSAGE PHOTO_CREATE COMMENT_PHOTO LETTER_SEND \
      TIMECAPSULE_OPEN NOTIFY_BIRTHDAY EMOTION_CHOSEN EMOTION_POKE PEDIA_QUESTION_CREATED \
      PEDIA_QUESTION_EDITTED PEDIA_ANSWER PEDIA_EDIT_PHOTO; do
      has "$tmp/out" "\"\$ref\": \"#/\$defs/$type\""
    done
    ;;

  worker_drains_sample_data)
    run 0 "$worker" --queue "memory:$src/examples/data/requests.jsonl" --members "$src/examples/data/members.json" \
      --push log --drain --log-format text
    for type in MESSAGE_TODAY MESSAGE_BIRTHDAY COMMENT_MESSAGE PHOTO_CREATE COMMENT_PHOTO LETTER_SEND \
      TIMECAPSULE_OPEN NOTIFY_BIRTHDAY EMOTION_CHOSEN EMOTION_POKE PEDIA_QUESTION_CREATED \
      PEDIA_QUESTION_EDITTED PEDIA_ANSWER PEDIA_EDIT_PHOTO; do
      grep -q "^step=sent .*type=$type " "$tmp/err" || fail "no push sent for $type"
    done
    pushes=$(grep -c '^push token=' "$tmp/out")
    sent=$(grep -c '^step=sent ' "$tmp/err")
    [ "$pushes" -eq "$sent" ] || fail "$pushes push lines but $sent sent events"
    [ "$(grep -c '^dead_letter ' "$tmp/out")" -eq 1 ] || fail "expected exactly one dead letter"
    has "$tmp/out" 'dead_letter id=m16 reason=[{"path":"param.photoId","code":"expected_integer"'
    has "$tmp/out" '"id":"demo-16"}'
    has "$tmp/out" 'push token=eR9tY4...3d5a title=우리가 편지 body=우리가족이 민준 님에게 작성한 편지가 도착했습니다! screen=LetterReceived param={"letterId":7001}'
    has "$tmp/out" 'inbox [{"receiverId":3,"title":"우리가 편지","body":"우리가족이 민준 님에게 작성한 편지가 도착했습니다!","screen":"LetterReceived","param":{"letterId":7001}}]'
    has "$tmp/err" 'step=member_skipped request=family:2.user:13'
    has "$tmp/err" 'step=drained detail="16 records: 15 done, 1 dead-lettered, 0 pending; 26 pushes"'
    ;;

  demo_report)
    # examples/demo.sh with the worker built here (it skips its install and build).
    NOTIFY_DEMO_WORKER="$worker" run 0 bash "$src/examples/demo.sh"
    has "$tmp/out" "pushes for 14 of 14 types; 1 request(s) dead-lettered"
    has "$tmp/out" "demo-03   COMMENT_MESSAGE          2 tokens / 3 inbox"
    has "$tmp/out" '우리가 이야기 | 엄마 님이 이야기에 댓글을 작성했습니다! "오늘 저녁은 다 같..."'
    has "$tmp/out" "m10       EMOTION_CHOSEN           1 tokens / 0 inbox"
    has "$tmp/out" "m16       COMMENT_PHOTO            invalid, dead-lettered: param.photoId expected_integer, param.authorId out_of_range"
    ;;

  worker_flags_from_environment)
    NOTIFY_QUEUE="memory:$src/examples/data/requests.jsonl" NOTIFY_MEMBERS="$src/examples/data/members.json" \
      NOTIFY_PUSH=null NOTIFY_DRAIN=1 NOTIFY_LOG_FORMAT=json run 0 "$worker"
    ! grep -q '^push ' "$tmp/out" || fail "--push null printed pushes"
    while IFS= read -r line; do
      case "$line" in
        '{"ts":'*'}') ;;
        *) fail "not a JSON event line: $line" ;;
      esac
    done <"$tmp/err"
    has "$tmp/err" '"step":"sent","request":"demo-15","type":"PEDIA_EDIT_PHOTO"'
    has "$tmp/err" '"step":"drained"'
    # The command line wins over the environment.
    NOTIFY_PUSH=fcm run 0 "$worker" --queue "memory:$src/examples/data/requests.jsonl" \
      --members "$src/examples/data/members.json" --push log --drain
    has "$tmp/out" "push token="
    NOTIFY_DRAIN=maybe run 64 "$worker" --queue "memory:$tmp/none" --members "$members" --push log
    has "$tmp/err" "NOTIFY_DRAIN"
    ;;

  worker_reads_stdin)
    run 0 "$worker" --queue memory:- --members "$members" --push log --drain <"$here/requests/letter_time_capsule.json"
    has "$tmp/out" 'inbox [{"receiverId":3,"title":"우리가 편지","body":"우리가족이 민준 님에게 새로운 타임캡슐을 작성했습니다!","screen":"TimeCapsulesNav"}]'
    ! grep -q '^push ' "$tmp/out" || fail "a member without a token got a push"
    ;;

  worker_rejects_unsupported_transports)
    run 64 "$worker" --queue redis://127.0.0.1:6379/notify --members "$members" --push log
    has "$tmp/err" "not supported yet in this build"
    run 64 "$worker" --queue "https://sqs.ap-northeast-2.amazonaws.com/1/notify.fifo" --members "$members" --push log
    has "$tmp/err" "not supported yet in this build"
    run 64 "$worker" --queue "memory:$tmp/q" --members redis://127.0.0.1:6379/0 --push log
    has "$tmp/err" "not supported yet in this build"
    run 64 "$worker" --queue "memory:$tmp/q" --members "$members" --push fcm
    has "$tmp/err" "not supported yet in this build"
    run 64 "$worker" --queue "memory:$tmp/q" --members "$members" --push log --inbox https://sqs.example/inbox
    has "$tmp/err" "not supported yet in this build"
    run 64 "$worker" --queue "$tmp/q" --members "$members" --push log
    run 64 "$worker" --queue "memory:$tmp/q" --members "$members" --push carrier-pigeon
    run 64 "$worker" --queue "memory:$tmp/q" --members "$members" --push log --batch-size 11
    run 66 "$worker" --queue "memory:$tmp/missing.jsonl" --members "$members" --push log --drain
    ;;

  worker_stops_on_sigterm)
    # Without --drain the worker waits for more work; SIGTERM ends it with status 0.
    "$worker" --queue "memory:$here/requests/emotion_chosen.json" --members "$members" --push log \
      >"$tmp/out" 2>"$tmp/err" &
    pid=$!
    for _ in $(seq 1 200); do
      grep -q '^step=done ' "$tmp/err" && break
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

  *)
    fail "unknown case"
    ;;
esac
echo "ok [$case_name]"
