// SPDX-License-Identifier: MIT
#pragma once

/// An outbox's figures as Prometheus series in a notify::ops::Registry (the worker's and
/// a producer's /metrics): depth, bytes, oldest entry age, and what was appended,
/// relayed, refused and found damaged. Registered up front; update() copies a Stats in.

#include <cstdint>

#include "notify/ops/metrics.hpp"
#include "notify/outbox/outbox.hpp"

namespace notify::outbox {

class OutboxMetrics {
 public:
  /// Registers the series in `registry` (which must outlive this object).
  explicit OutboxMetrics(ops::Registry& registry);
  /// Sets the gauges and moves the counters to `s` (the outbox's own running totals);
  /// `now_ms` is the wall clock the oldest entry's age is measured against.
  void update(const Stats& s, std::int64_t now_ms);

 private:
  ops::Gauge& depth_;
  ops::Gauge& bytes_;
  ops::Gauge& oldest_age_;
  ops::Counter& appended_;
  ops::Counter& relayed_;
  ops::Counter& failures_;
  ops::Counter& damaged_;
};

}  // namespace notify::outbox
