// SPDX-License-Identifier: MIT
#pragma once

/// /healthz and /readyz answers: a heartbeat the delivery loop beats (so a stuck loop is
/// seen from the listener's thread) and readiness checks rendered as a JSON body.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <span>
#include <string>

#include "notify/ops/http_listener.hpp"

namespace notify::ops {

/// The time of the delivery loop's last turn. beat() is one relaxed store.
class Heartbeat {
 public:
  using Clock = std::chrono::steady_clock;

  Heartbeat() noexcept { beat(); }
  /// Called by the loop once per turn.
  void beat(Clock::time_point now = Clock::now()) noexcept {
    at_.store(now.time_since_epoch().count(), std::memory_order_relaxed);
  }
  /// How long ago the loop last beat.
  Clock::duration age(Clock::time_point now = Clock::now()) const noexcept {
    return now - Clock::time_point(Clock::duration(at_.load(std::memory_order_relaxed)));
  }

 private:
  std::atomic<Clock::rep> at_{0};
};

/// One dependency's state as a readiness probe sees it.
struct ReadinessCheck {
  std::string name;    ///< "queue", "members", "push"
  bool ok = false;
  std::string detail;  ///< why it is down (empty when up)
};

/// /healthz: 200 `{"status":"ok","loop_age_seconds":...}` while the loop beat within
/// `max_age`, else 503 with `"status":"stuck"`.
HttpResponse health_response(const Heartbeat& heartbeat, std::chrono::milliseconds max_age);

/// /readyz: 200 `{"status":"ready","checks":{...}}` when every check is ok, else 503
/// `{"status":"not ready","down":["queue",...],"checks":{"queue":{"ok":false,"detail":"..."}}}`.
HttpResponse readiness_response(std::span<const ReadinessCheck> checks);

}  // namespace notify::ops
