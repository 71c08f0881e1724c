// SPDX-License-Identifier: MIT
#pragma once

/// What the engine counts for metrics: an interface it calls at the steps an operator
/// watches (a record taken in, a push answered, inbox records published, a record
/// decided). Unlike the EventSink it carries no text and is never filtered by level, so
/// an implementation can count every push with a few atomic increments.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "notify/plan.hpp"
#include "notify/schema.hpp"
#include "notify/transport.hpp"

namespace notify {

/// Why a record was retried or dead-lettered, as a small fixed set (a label, not a text).
enum class ReasonClass : std::uint8_t {
  none,            ///< done
  invalid,         ///< dead letter: the body did not decode or validate
  push_failed,     ///< dead letter: a push failed for good (e.g. a payload FCM rejects)
  inbox_refused,   ///< dead letter: the inbox refused the record's inbox body
  max_deliveries,  ///< dead letter: its own failures reached max_deliveries
  outage,          ///< retry: a service was down, throttling, or the worker stopped
  failure,         ///< retry: a failure of this record's own pushes
  deferred,        ///< retry: held until its sendAt, or until a member's deferred push is due
};

inline constexpr std::size_t reason_class_count = 8;

constexpr std::string_view to_string(ReasonClass r) noexcept {
  switch (r) {
    case ReasonClass::none: return "none";
    case ReasonClass::invalid: return "invalid";
    case ReasonClass::push_failed: return "push_failed";
    case ReasonClass::inbox_refused: return "inbox_refused";
    case ReasonClass::max_deliveries: return "max_deliveries";
    case ReasonClass::outage: return "outage";
    case ReasonClass::failure: return "failure";
    case ReasonClass::deferred: return "deferred";
  }
  return "";
}

/// The engine's metrics hooks. Every call comes from the engine's thread, at most once
/// per push or record step: keep them cheap (relaxed atomics) and never block. The
/// defaults do nothing, so an implementation overrides what it counts. A record another
/// worker took over (Pipeline::lost) is received here but decided there: it never
/// reaches decided() in this process.
///
/// A virtual interface, unlike the transports' concepts: the engine is a template over
/// its transports already, and metrics are chosen at run time (on or off, Prometheus or
/// EMF) by programs that should not instantiate the engine twice.
class EngineObserver {
 public:
  virtual ~EngineObserver() = default;

  /// A record was taken in: `type` is its notification type, or nullopt when its body
  /// did not decode (it is dead-lettered as invalid at once).
  virtual void received(std::optional<NotificationType> type) { (void)type; }

  /// A push was answered `round_trip` after it was submitted to the provider. `trace_id`
  /// is its request's W3C trace id (empty without a traceparent), for exemplars.
  virtual void push_answered(PushStatus status, std::chrono::steady_clock::duration round_trip,
                             std::string_view trace_id) {
    (void)status;
    (void)round_trip;
    (void)trace_id;
  }

  /// The same, with the service that answered (fcm, apns, email, sms, alimtalk): what the
  /// engine calls. By default it forwards to push_answered().
  virtual void delivery_answered(PushService service, PushStatus status, std::chrono::steady_clock::duration round_trip,
                                 std::string_view trace_id) {
    (void)service;
    push_answered(status, round_trip, trace_id);
  }

  /// A member's push of a request was left out or deferred by their settings (plan.hpp).
  virtual void skipped(NotificationType type, SkipReason reason) {
    (void)type;
    (void)reason;
  }

  /// One request's inbox records (`records` of them) were published.
  virtual void inbox_published(std::size_t records) { (void)records; }

  /// A record was decided: done, retried or dead-lettered, and why. `sent_at_ms` is when
  /// its producer sent it (QueueRecord::sent_at_ms, Unix ms; 0 unknown).
  virtual void decided(std::optional<NotificationType> type, Disposition disposition, ReasonClass why,
                       std::int64_t sent_at_ms, std::string_view trace_id) {
    (void)type;
    (void)disposition;
    (void)why;
    (void)sent_at_ms;
    (void)trace_id;
  }
};

}  // namespace notify
