// SPDX-License-Identifier: MIT
// Prints a scrape of the worker's own series (ops::EngineMetrics, build info) after some
// traffic, plus a gauge with every character that needs escaping, for `promtool check
// metrics` (promtool_check.sh); with --openmetrics in the OpenMetrics format, exemplars
// included, for the Python client's strict parser (openmetrics_check.sh). The worker's live scrape is linted too, in
// tests/integration/worker.

#include <chrono>
#include <cstdio>
#include <string>

#include "notify/ops/build_info.hpp"
#include "notify/ops/engine_metrics.hpp"
#include "notify/ops/metrics.hpp"

int main(int argc, char** argv) {
  const bool openmetrics = argc > 1 && std::string(argv[1]) == "--openmetrics";
  using namespace std::chrono_literals;
  notify::ops::Registry r;
  notify::ops::register_build_info(r);
  notify::ops::EngineMetrics m(r, "fcm");
  m.unix_ms = [] { return std::int64_t{1700000005000}; };
  for (auto type : {notify::NotificationType::MESSAGE_TODAY, notify::NotificationType::COMMENT_PHOTO}) {
    m.received(type);
    m.push_answered(notify::PushStatus::sent, 30ms, "4bf92f3577b34da6a3ce929d0e0e4736");
    m.push_answered(notify::PushStatus::retry, 2s, {});
    m.inbox_published(2);
    m.decided(type, notify::Disposition::done, notify::ReasonClass::none, 1700000000000, {});
  }
  m.received(std::nullopt);
  m.decided(std::nullopt, notify::Disposition::dead_letter, notify::ReasonClass::invalid, 1700000004000, {});
  m.records_in_flight.set(3);
  m.circuit_state.set(2);
  r.gauge("notify_test_escaping", "Help with a backslash \\ and a\nnewline.", {{"value", "a\\b\"c\nd"}}).set(1);
  const std::string text = openmetrics ? r.render_openmetrics() : r.render_prometheus();
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}
