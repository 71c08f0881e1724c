// SPDX-License-Identifier: MIT
// ops::EngineMetrics: each engine hook lands in the series its name and labels promise.

#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "notify/ops/engine_metrics.hpp"

namespace {

using namespace std::chrono_literals;
using notify::Disposition;
using notify::NotificationType;
using notify::PushStatus;
using notify::ReasonClass;

/// The value of the one sample line that starts with `series` + ' ', or -1.
double sample(const std::string& text, const std::string& series) {
  const std::string key = "\n" + series + " ";
  const auto at = ("\n" + text).find(key);
  if (at == std::string::npos) return -1;
  const auto begin = at + key.size() - 1;
  return std::stod(text.substr(begin, text.find('\n', begin) - begin));
}

}  // namespace

TEST_CASE("engine metrics: every series is there from the start, at 0") {
  notify::ops::Registry r;
  notify::ops::EngineMetrics m(r, "fcm");
  const std::string text = r.render_prometheus();
  CHECK(sample(text, R"(notify_records_received_total{type="MESSAGE_TODAY"})") == 0);
  CHECK(sample(text, R"(notify_records_received_total{type="unknown"})") == 0);
  CHECK(sample(text, R"(notify_records_done_total{type="PEDIA_EDIT_PHOTO"})") == 0);
  CHECK(sample(text, R"(notify_records_retried_total{type="LETTER_SEND",reason="outage"})") == 0);
  CHECK(sample(text, R"(notify_records_dead_lettered_total{type="unknown",reason="invalid"})") == 0);
  CHECK(sample(text, R"(notify_records_dead_lettered_total{type="EMOTION_POKE",reason="max_deliveries"})") == 0);
  CHECK(sample(text, R"(notify_pushes_total{provider="fcm",result="invalid_token"})") == 0);
  CHECK(sample(text, R"(notify_push_duration_seconds_count{provider="fcm"})") == 0);
  CHECK(sample(text, "notify_record_latency_seconds_count") == 0);
  CHECK(sample(text, R"(notify_provider_circuit_state{provider="fcm"})") == 0);
}

TEST_CASE("engine metrics: hooks count by type, result and reason class, latencies in seconds") {
  notify::ops::Registry r;
  notify::ops::EngineMetrics m(r, "fcm");
  m.unix_ms = [] { return std::int64_t{1700000002500}; };
  m.received(NotificationType::COMMENT_MESSAGE);
  m.received(NotificationType::COMMENT_MESSAGE);
  m.received(std::nullopt);
  m.push_answered(PushStatus::sent, 40ms, {});
  m.push_answered(PushStatus::invalid_token, 60ms, {});
  m.push_answered(PushStatus::retry, 3s, {});
  m.inbox_published(2);
  m.decided(NotificationType::COMMENT_MESSAGE, Disposition::done, ReasonClass::none, 1700000000000, {});
  m.decided(NotificationType::COMMENT_MESSAGE, Disposition::retry, ReasonClass::outage, 1700000001000, {});  // not final
  m.decided(std::nullopt, Disposition::dead_letter, ReasonClass::invalid, 1700000002000, {});
  const std::string t = r.render_prometheus();
  CHECK(sample(t, R"(notify_records_received_total{type="COMMENT_MESSAGE"})") == 2);
  CHECK(sample(t, R"(notify_records_received_total{type="unknown"})") == 1);
  CHECK(sample(t, R"(notify_pushes_total{provider="fcm",result="sent"})") == 1);
  CHECK(sample(t, R"(notify_pushes_total{provider="fcm",result="invalid_token"})") == 1);
  CHECK(sample(t, R"(notify_pushes_total{provider="fcm",result="retry"})") == 1);
  CHECK(sample(t, R"(notify_push_duration_seconds_bucket{provider="fcm",le="0.05"})") == 1);
  CHECK(sample(t, R"(notify_push_duration_seconds_bucket{provider="fcm",le="0.1"})") == 2);
  CHECK(sample(t, R"(notify_push_duration_seconds_count{provider="fcm"})") == 3);
  CHECK(sample(t, R"(notify_push_duration_seconds_sum{provider="fcm"})") == doctest::Approx(3.1));
  CHECK(sample(t, "notify_inbox_records_published_total") == 2);
  CHECK(sample(t, R"(notify_records_done_total{type="COMMENT_MESSAGE"})") == 1);
  CHECK(sample(t, R"(notify_records_retried_total{type="COMMENT_MESSAGE",reason="outage"})") == 1);
  CHECK(sample(t, R"(notify_records_retried_total{type="COMMENT_MESSAGE",reason="failure"})") == 0);
  CHECK(sample(t, R"(notify_records_dead_lettered_total{type="unknown",reason="invalid"})") == 1);
  // Two final decisions: 2.5 s and 0.5 s from their producer; the retry is observed when it ends.
  CHECK(sample(t, "notify_record_latency_seconds_count") == 2);
  CHECK(sample(t, "notify_record_latency_seconds_sum") == doctest::Approx(3.0));
}

TEST_CASE("engine metrics: with several services, pushes are counted per service (the channel)") {
  notify::ops::Registry r;
  notify::ops::EngineMetrics m(r, "fcm,email,alimtalk");
  m.delivery_answered(notify::PushService::fcm, PushStatus::sent, 40ms, {});
  m.delivery_answered(notify::PushService::email, PushStatus::sent, 2ms, {});
  m.delivery_answered(notify::PushService::email, PushStatus::invalid_token, 2ms, {});
  m.delivery_answered(notify::PushService::alimtalk, PushStatus::retry, 1ms, {});
  m.delivery_answered(notify::PushService::sms, PushStatus::sent, 1ms, {});  // no SMS series: the first service's
  const std::string t = r.render_prometheus();
  CHECK(sample(t, R"(notify_pushes_total{provider="fcm",result="sent"})") == 2);
  CHECK(sample(t, R"(notify_pushes_total{provider="email",result="sent"})") == 1);
  CHECK(sample(t, R"(notify_pushes_total{provider="email",result="invalid_token"})") == 1);
  CHECK(sample(t, R"(notify_pushes_total{provider="alimtalk",result="retry"})") == 1);
  CHECK(sample(t, R"(notify_pushes_total{provider="apns",result="sent"})") == -1);  // not in use: no series
  CHECK(sample(t, R"(notify_pushes_total{provider="fcm,email,alimtalk",result="sent"})") == -1);
  CHECK(sample(t, R"(notify_push_duration_seconds_count{provider="fcm,email,alimtalk"})") == 5);
  const auto totals = m.totals();
  CHECK(totals.pushes == 5);
  CHECK(totals.sent == 3);
  CHECK(totals.invalid_tokens == 1);
  CHECK(totals.push_retries == 1);
}
