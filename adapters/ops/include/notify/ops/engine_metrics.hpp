// SPDX-License-Identifier: MIT
#pragma once

/// The engine's counters and histograms (notify::EngineObserver) as Prometheus series:
/// what the worker serves on /metrics and notify-lambda writes as EMF. Every series is
/// registered up front (a counter that has not moved reads 0 instead of being absent),
/// and each hook is an array index and a relaxed atomic add.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include "notify/observer.hpp"
#include "notify/ops/metrics.hpp"

namespace notify::ops {

class EngineMetrics final : public EngineObserver {
 public:
  /// Registers the series in `registry` (which must outlive this object); `provider`
  /// labels the push series ("fcm", "log", "null", "memory"). When it lists services
  /// ("fcm,apns", "fcm,email,alimtalk"), notify_pushes_total is counted per service, each
  /// labelled with its own name.
  EngineMetrics(Registry& registry, std::string_view provider);

  void received(std::optional<NotificationType> type) override;
  void push_answered(PushStatus status, std::chrono::steady_clock::duration round_trip,
                     std::string_view trace_id) override;
  void delivery_answered(PushService service, PushStatus status, std::chrono::steady_clock::duration round_trip,
                         std::string_view trace_id) override;
  void inbox_published(std::size_t records) override;
  void skipped(NotificationType type, SkipReason reason) override;
  void decided(std::optional<NotificationType> type, Disposition disposition, ReasonClass why,
               std::int64_t sent_at_ms, std::string_view trace_id) override;

  /// The wall clock decided() measures end-to-end latency against (Unix ms); tests set it.
  std::function<std::int64_t()> unix_ms;

  /// Gauges the driver refreshes from the engine (see the app's WorkerMonitor).
  Gauge& records_in_flight;
  Gauge& pushes_in_flight;
  Gauge& pushes_queued;
  /// 0 closed (sending), 1 half-open (probing), 2 open (paused).
  Gauge& circuit_state;

  /// The counters summed over their labels, for a periodic summary line.
  struct Totals {
    std::uint64_t received = 0, done = 0, retried = 0, dead_lettered = 0;
    std::uint64_t pushes = 0, sent = 0, invalid_tokens = 0, push_retries = 0, push_failures = 0;
    std::uint64_t inbox_records = 0;
  };
  Totals totals() const noexcept;

  /// The label value of a record whose type is not known (its body did not decode).
  static constexpr std::string_view unknown_type = "unknown";

 private:
  static constexpr std::size_t types = type_count + 1;  // the last: unknown
  static constexpr std::size_t statuses = 5;            // PushStatus values

  std::array<Counter*, types> received_{};
  std::array<Counter*, type_count> done_{};
  std::array<Counter*, 5> skipped_{};  // by SkipReason
  std::array<std::array<Counter*, reason_class_count>, types> retried_{};  // null where impossible
  std::array<std::array<Counter*, reason_class_count>, types> dead_{};
  /// notify_pushes_total by service (null where that service is not in use), and last
  /// the set labelled with the whole provider string (log, null, memory, or a single service).
  std::array<std::array<Counter*, statuses>, service_count + 1> pushes_{};
  Counter& inbox_records_;
  Histogram& push_seconds_;
  Histogram& record_seconds_;
};

}  // namespace notify::ops
