// SPDX-License-Identifier: MIT

#include "notify/outbox/metrics.hpp"

namespace notify::outbox {

OutboxMetrics::OutboxMetrics(ops::Registry& r)
    : depth_(r.gauge("notify_outbox_depth", "Requests waiting in the producer outbox.")),
      bytes_(r.gauge("notify_outbox_bytes", "Size of the outbox journal file in bytes.")),
      oldest_age_(r.gauge("notify_outbox_oldest_age_seconds",
                          "Age of the oldest request waiting in the outbox (0 when empty).")),
      appended_(r.counter("notify_outbox_appended_total", "Requests stored in the outbox because the queue refused them.")),
      relayed_(r.counter("notify_outbox_relayed_total", "Requests the outbox relay sent to their queue.")),
      failures_(r.counter("notify_outbox_relay_failures_total", "Relay attempts the queue refused (retried later).")),
      damaged_(r.counter("notify_outbox_damaged_records_total",
                         "Damaged journal stretches skipped when the outbox was read.")) {}

void OutboxMetrics::update(const Stats& s, std::int64_t now_ms) {
  depth_.set(static_cast<double>(s.depth));
  bytes_.set(static_cast<double>(s.file_bytes));
  oldest_age_.set(s.oldest_enqueued_ms < 0 || now_ms < s.oldest_enqueued_ms
                      ? 0.0
                      : static_cast<double>(now_ms - s.oldest_enqueued_ms) / 1000.0);
  const auto move_to = [](ops::Counter& c, std::uint64_t total) {
    if (total > c.value()) c.inc(total - c.value());
  };
  move_to(appended_, s.appended);
  move_to(relayed_, s.relayed);
  move_to(failures_, s.relay_failures);
  move_to(damaged_, s.damaged_records);
}

}  // namespace notify::outbox
