#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A throw-away redis-server for shell scripts (tests, examples/demo.sh): on a free
# loopback port, its files in a directory of the caller's, stopped by its PID.
# Source this file, then:
#   redis_start DIR [redis-server options...]  start; sets REDIS_PORT, REDIS_PID, REDIS_URL
#   redis_stop                                  SIGTERM and wait
#   redis_kill                                  SIGKILL and wait (a crash)
#   redis_restart                               start again on the same port, directory
#                                               and options (after redis_stop or redis_kill)
# The default options keep nothing on disk (--save "" --appendonly no); pass
# --appendonly yes --appendfsync always to keep data over a restart. NOTIFY_REDIS_SERVER
# names the binary (default: redis-server on PATH). A watchdog stops the server if the
# shell that started it dies without calling redis_stop. Safe under `set -euo pipefail`.

# shellcheck disable=SC2034  # REDIS_URL is for the caller
REDIS_PORT=""
REDIS_PID=""
REDIS_URL=""
REDIS_DIR=""
REDIS_OPTIONS=()
REDIS_WATCHDOG=""

# _redis_up: true once the server just launched says it is ready (within about 10 s).
# Its own log line, with its PID, is read rather than a PING answered on the port: the
# port may belong to another server, and then this one exits instead.
_redis_up() {
  for _ in $(seq 1 400); do
    kill -0 "$REDIS_PID" 2>/dev/null || return 1  # it exited: port taken or a bad option
    grep -q "^$REDIS_PID:M .*Ready to accept connections" "$REDIS_DIR/redis.log" 2>/dev/null && return 0
    sleep 0.025
  done
  return 1
}

# _redis_launch PORT: starts the server in the background; true once it answers.
_redis_launch() {
  local port="$1"
  "${NOTIFY_REDIS_SERVER:-redis-server}" --port "$port" --bind 127.0.0.1 --dir "$REDIS_DIR" \
    --daemonize no --save "" --appendonly no --logfile "" "${REDIS_OPTIONS[@]}" \
    >>"$REDIS_DIR/redis.log" 2>&1 &
  REDIS_PID=$!
  if _redis_up; then
    REDIS_PORT="$port"
    REDIS_URL="redis://127.0.0.1:$port"
    # Stops the server when the shell that started it is gone.
    (
      parent=$$
      while kill -0 "$parent" 2>/dev/null && kill -0 "$REDIS_PID" 2>/dev/null; do sleep 1; done
      kill -KILL "$REDIS_PID" 2>/dev/null
    ) >/dev/null 2>&1 &
    REDIS_WATCHDOG=$!
    disown "$REDIS_WATCHDOG" 2>/dev/null || true
    return 0
  fi
  kill -KILL "$REDIS_PID" 2>/dev/null || true
  wait "$REDIS_PID" 2>/dev/null || true
  REDIS_PID=""
  return 1
}

redis_start() {
  REDIS_DIR="$1"
  shift
  REDIS_OPTIONS=("$@")
  mkdir -p "$REDIS_DIR"
  local port
  for _ in $(seq 1 20); do
    port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
    _redis_launch "$port" && return 0
  done
  echo "redis.sh: redis-server did not start; see $REDIS_DIR/redis.log" >&2
  return 1
}

redis_restart() {
  [ -z "$REDIS_PID" ] || return 0
  _redis_launch "$REDIS_PORT" || { echo "redis.sh: redis-server did not restart on port $REDIS_PORT" >&2; return 1; }
}

_redis_signal() {
  [ -n "$REDIS_PID" ] || return 0
  kill "-$1" "$REDIS_PID" 2>/dev/null || true
  wait "$REDIS_PID" 2>/dev/null || true
  [ -z "$REDIS_WATCHDOG" ] || kill -KILL "$REDIS_WATCHDOG" 2>/dev/null || true
  REDIS_PID=""
  REDIS_WATCHDOG=""
}

redis_stop() { _redis_signal TERM; }
redis_kill() { _redis_signal KILL; }
