// SPDX-License-Identifier: MIT
#include "notify/ops/engine_metrics.hpp"

#include <algorithm>
#include <array>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

namespace notify::ops {

namespace {


std::string type_label(std::size_t i) {
  return i < type_count ? std::string(type_names[i]) : std::string(EngineMetrics::unknown_type);
}

std::size_t type_index(std::optional<NotificationType> type) {
  return type ? static_cast<std::size_t>(*type) : type_count;
}

constexpr PushStatus push_statuses[] = {PushStatus::sent, PushStatus::invalid_token, PushStatus::retry,
                                        PushStatus::failed, PushStatus::fatal};
static_assert(static_cast<std::size_t>(PushStatus::fatal) + 1 == std::size(push_statuses));
static_assert(static_cast<std::size_t>(ReasonClass::deferred) + 1 == reason_class_count);

constexpr SkipReason skip_reasons[] = {SkipReason::muted_by_preference, SkipReason::no_marketing_consent,
                                      SkipReason::consent_unreadable, SkipReason::night_ads, SkipReason::quiet_hours};

}  // namespace

EngineMetrics::EngineMetrics(Registry& registry, std::string_view provider)
    : records_in_flight(registry.gauge("notify_records_in_flight",
                                       "Records held by the engine: received and not yet decided.")),
      pushes_in_flight(registry.gauge("notify_pushes_in_flight",
                                      "Pushes submitted to the provider and not yet answered.",
                                      {{"provider", std::string(provider)}})),
      pushes_queued(registry.gauge("notify_pushes_queued",
                                   "Pushes lined up: submitted, or waiting for the window, a throttled device or "
                                   "a paused provider.",
                                   {{"provider", std::string(provider)}})),
      circuit_state(registry.gauge("notify_provider_circuit_state",
                                   "The push provider's circuit breaker: 0 closed (sending), 1 half-open (one probe "
                                   "push at a time), 2 open (paused after a provider-wide failure or throttling).",
                                   {{"provider", std::string(provider)}})),
      inbox_records_(registry.counter("notify_inbox_records_published_total",
                                      "Inbox records handed to the inbox (one request's records are one message).")),
      push_seconds_(registry.histogram("notify_push_duration_seconds",
                                       "Round trip of one push, from its submission to the provider to its answer.",
                                       latency_buckets(), {{"provider", std::string(provider)}})),
      record_seconds_(registry.histogram(
          "notify_record_latency_seconds",
          "From the producer's send (the queue's own timestamp) to the record's final decision: done or "
          "dead-lettered (a retry is observed when it ends, from the same send time). Records whose queue gives "
          "no send time are not observed.",
          end_to_end_buckets())) {
  for (std::size_t t = 0; t < types; ++t)
    received_[t] = &registry.counter("notify_records_received_total",
                                     "Records taken from the queue, by notification type (unknown: the body did "
                                     "not decode).",
                                     {{"type", type_label(t)}});
  for (std::size_t t = 0; t < type_count; ++t)
    done_[t] = &registry.counter("notify_records_done_total",
                                 "Records done: every push and inbox record delivered (or already delivered).",
                                 {{"type", type_label(t)}});
  for (std::size_t t = 0; t < type_count; ++t)
    for (ReasonClass why : {ReasonClass::outage, ReasonClass::failure, ReasonClass::deferred})
      retried_[t][static_cast<std::size_t>(why)] = &registry.counter(
          "notify_records_retried_total",
          "Records given back to the queue to come again, by type and reason: outage (a service down or "
          "throttling, the worker stopping; never counts toward dead-lettering), failure (its own pushes) or "
          "deferred (held until its sendAt or a member's deferred push; never counts either).",
          {{"type", type_label(t)}, {"reason", std::string(to_string(why))}});
  for (std::size_t t = 0; t < types; ++t) {
    auto add = [&](ReasonClass why) {
      dead_[t][static_cast<std::size_t>(why)] = &registry.counter(
          "notify_records_dead_lettered_total",
          "Records dead-lettered, by type and reason: invalid (did not decode or validate, or a sendAt too far "
          "ahead), push_failed, "
          "inbox_refused, max_deliveries (its own failures reached the limit).",
          {{"type", type_label(t)}, {"reason", std::string(to_string(why))}});
    };
    add(ReasonClass::invalid);  // a known type too: a sendAt too far ahead
    if (t < type_count) {
      add(ReasonClass::push_failed);
      add(ReasonClass::inbox_refused);
      add(ReasonClass::max_deliveries);
    }
  }
  for (SkipReason r : skip_reasons)
    skipped_[static_cast<std::size_t>(r)] = &registry.counter(
        "notify_pushes_skipped_total",
        "Members' pushes left out or deferred by their settings, by reason: muted_by_preference, "
        "no_marketing_consent, consent_unreadable, deferred_night_ads, deferred_quiet_hours.",
        {{"reason", std::string(to_string(r))}});
  // One set of push counters per service of a list ("fcm,email"), else one set labelled
  // with the provider as given.
  std::vector<std::string_view> services;
  for (std::string_view rest = provider;;) {
    const std::size_t comma = rest.find(',');
    services.push_back(rest.substr(0, comma));
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  const bool listed = services.size() > 1 && std::all_of(services.begin(), services.end(), [](std::string_view s) {
                        return parse_service(s).has_value();
                      });
  const auto register_set = [&](std::size_t at, std::string_view label) {
    for (PushStatus s : push_statuses)
      pushes_[at][static_cast<std::size_t>(s)] = &registry.counter(
          "notify_pushes_total",
          "Pushes answered by the provider, by result: sent, invalid_token (the token was dropped), retry (sent "
          "again later), failed (for good), fatal (credentials or configuration).",
          {{"provider", std::string(label)}, {"result", std::string(to_string(s))}});
  };
  if (listed) {
    for (std::string_view s : services) register_set(static_cast<std::size_t>(*parse_service(s)), s);
  } else {
    register_set(service_count, provider);
  }
}

EngineMetrics::Totals EngineMetrics::totals() const noexcept {
  auto sum = [](const auto& counters) {
    std::uint64_t n = 0;
    for (const Counter* c : counters)
      if (c) n += c->value();
    return n;
  };
  Totals t;
  t.received = sum(received_);
  t.done = sum(done_);
  for (const auto& row : retried_) t.retried += sum(row);
  for (const auto& row : dead_) t.dead_lettered += sum(row);
  const auto of = [&](PushStatus s) {
    std::uint64_t n = 0;
    for (const auto& set : pushes_)
      if (const Counter* c = set[static_cast<std::size_t>(s)]) n += c->value();
    return n;
  };
  for (const auto& set : pushes_) t.pushes += sum(set);
  t.sent = of(PushStatus::sent);
  t.invalid_tokens = of(PushStatus::invalid_token);
  t.push_retries = of(PushStatus::retry);
  t.push_failures = of(PushStatus::failed) + of(PushStatus::fatal);
  t.inbox_records = inbox_records_.value();
  return t;
}

void EngineMetrics::received(std::optional<NotificationType> type) { received_[type_index(type)]->inc(); }

void EngineMetrics::push_answered(PushStatus status, std::chrono::steady_clock::duration round_trip,
                                  std::string_view trace_id) {
  // Without the service: the provider's own set, else the first service's.
  std::size_t at = service_count;
  if (!pushes_[at][0])
    for (at = 0; at < service_count && !pushes_[at][0];) ++at;
  if (const auto i = static_cast<std::size_t>(status); at <= service_count && pushes_[at][0] && i < statuses)
    pushes_[at][i]->inc();
  push_seconds_.observe(std::chrono::duration<double>(round_trip).count(), trace_id);
}

void EngineMetrics::delivery_answered(PushService service, PushStatus status,
                                      std::chrono::steady_clock::duration round_trip, std::string_view trace_id) {
  const auto at = static_cast<std::size_t>(service);
  if (at < service_count && pushes_[at][0]) {
    if (const auto i = static_cast<std::size_t>(status); i < statuses) pushes_[at][i]->inc();
    push_seconds_.observe(std::chrono::duration<double>(round_trip).count(), trace_id);
    return;
  }
  push_answered(status, round_trip, trace_id);
}

void EngineMetrics::inbox_published(std::size_t records) { inbox_records_.inc(records); }

void EngineMetrics::skipped(NotificationType, SkipReason reason) {
  if (const auto i = static_cast<std::size_t>(reason); i < skipped_.size()) skipped_[i]->inc();
}

void EngineMetrics::decided(std::optional<NotificationType> type, Disposition disposition, ReasonClass why,
                            std::int64_t sent_at_ms, std::string_view trace_id) {
  const std::size_t t = type_index(type);
  const auto w = static_cast<std::size_t>(why);
  Counter* c = nullptr;
  switch (disposition) {
    case Disposition::done: c = t < type_count ? done_[t] : nullptr; break;
    case Disposition::retry: c = w < reason_class_count ? retried_[t][w] : nullptr; break;
    case Disposition::dead_letter: c = w < reason_class_count ? dead_[t][w] : nullptr; break;
  }
  if (c) c->inc();
  if (sent_at_ms > 0 && disposition != Disposition::retry) {
    const std::int64_t now = unix_ms ? unix_ms() : unix_now_ms();
    if (now >= sent_at_ms) record_seconds_.observe(static_cast<double>(now - sent_at_ms) / 1000.0, trace_id);
  }
}

}  // namespace notify::ops
