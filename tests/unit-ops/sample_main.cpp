// SPDX-License-Identifier: MIT
// Prints a scrape of a registry shaped like the worker's (the names proposed for
// issue 11) with some values, for `promtool check metrics` (promtool_check.sh).

#include <cstdio>
#include <string>

#include "notify/ops/build_info.hpp"
#include "notify/ops/metrics.hpp"

int main() {
  notify::ops::Registry r;
  notify::ops::register_build_info(r);
  const char* records_help = "Queue records settled, by outcome and notification type.";
  for (const char* outcome : {"done", "retry", "dead_letter", "invalid"})
    for (const char* type : {"MESSAGE_TODAY", "COMMENT_PHOTO"})
      r.counter("notify_records_total", records_help, {{"outcome", outcome}, {"type", type}}).inc(3);
  r.counter("notify_records_received_total", "Queue records received.").inc(24);
  for (const char* outcome : {"sent", "invalid_token", "retry", "failed"})
    r.counter("notify_pushes_total", "Pushes decided, by outcome and provider.", {{"outcome", outcome}, {"provider", "fcm"}})
        .inc(10);
  r.counter("notify_inbox_records_published_total", "Inbox records published.").inc(7);
  auto& push = r.histogram("notify_push_duration_seconds", "Push round trip to the provider.",
                           notify::ops::latency_buckets(), {{"provider", "fcm"}});
  for (double v : {0.004, 0.03, 0.2, 0.2, 1.5, 30.0}) push.observe(v);
  auto& e2e = r.histogram("notify_record_duration_seconds", "Record latency from enqueue to settled.",
                          notify::ops::end_to_end_buckets());
  for (double v : {0.2, 2.0, 9000.0}) e2e.observe(v);
  r.gauge("notify_records_in_flight", "Records admitted and not yet settled.").set(3);
  r.gauge("notify_pushes_in_flight", "Pushes sent and not yet answered.").set(12);
  r.gauge("notify_queue_depth", "Records waiting in the queue (refreshed on an interval).").set(1234);
  r.gauge("notify_queue_pending", "Records delivered to a consumer and not yet settled.").set(5);
  r.gauge("notify_provider_circuit_open", "1 while the provider's circuit is open (sending paused).",
          {{"provider", "fcm"}}).set(0);
  r.gauge("notify_oauth_token_age_seconds", "Age of the provider's OAuth access token.", {{"provider", "fcm"}})
      .set(1800.5);
  r.gauge("notify_test_escaping", "Help with a backslash \\ and a\nnewline.", {{"value", "a\\b\"c\nd"}}).set(1);
  const std::string text = r.render_prometheus();
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}
