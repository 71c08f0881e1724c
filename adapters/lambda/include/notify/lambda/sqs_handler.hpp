// SPDX-License-Identifier: MIT
#pragma once

/// The Lambda handler for SQS events: parse the event, run the worker's batch processor,
/// settle what failed, and answer with `batchItemFailures`. Header-only, generic over the
/// processor and the settle target, so it is unit-tested with the in-memory adapters.

#include <algorithm>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "notify/lambda/driver.hpp"
#include "notify/lambda/event.hpp"
#include "notify/batch_processor.hpp"
#include "notify/transport.hpp"

namespace notify::lambda {

/// Where the records that failed are settled before the response: the SQS queue they
/// came from (retry: change the visibility to the retry delay; dead letter: send to the
/// DLQ with the reason, then delete). Done records are not passed: Lambda deletes them.
/// A target may also offer `use_source(const RecordSource&)`, called before each settle
/// with the queue the settlements belong to.
template <class T>
concept SettleTarget = requires(T& t, std::span<const Settlement> settlements) {
  { t.settle(settlements) } -> std::same_as<Result<void>>;
};

/// Report-only mode, when the function has no access to the queue: nothing is settled.
/// Retries come back after the queue's visibility timeout (the computed delay is lost),
/// and dead letters are reported as failures, so the queue's redrive policy moves them
/// after maxReceiveCount deliveries: they are never lost, but the REASON is (it only
/// appears in the logs).
struct NoSettle {
  Result<void> settle(std::span<const Settlement>) {
    return Error{Errc::not_found, "no queue access configured: failures are left to SQS redelivery and redrive", {}};
  }
};

static_assert(SettleTarget<NoSettle>);

/// What the handler needs of the batch processor: notify::RecordProcessor, in the core
/// (notify::BatchProcessor satisfies it).
using notify::RecordProcessor;

struct HandlerOptions {
  /// FIFO batches: a record is not started when less than this is left before the
  /// invocation's deadline (Lambda-Runtime-Deadline-Ms); it and the rest are handed back
  /// unprocessed, so a timeout does not cut a record off halfway and make the whole batch
  /// come back. At most half the time the invocation had when it started is reserved, so
  /// a short function timeout still gets through a batch; the first record always runs.
  /// Keep it above one record's longest run (with FCM: its request timeout). 0: no check.
  std::chrono::milliseconds time_reserve{5000};
  /// The clock compared with the deadline (tests replace it).
  std::function<std::int64_t()> now_ms = unix_now_ms;
};

/// Handles one SQS event per invocation: the whole batch goes through processor.process()
/// at once, then the records to retry or dead-letter are settled.
///
/// FIFO queue: the engine's order, the same as the worker's. The records of one message
/// group go one after the other, other groups alongside; once one is retried, it and
/// the later records of its group are reported, and the other groups go on. (AWS's text
/// asks to stop the whole batch at the first failure; keeping to the failed group is the
/// refinement Powertools offers as skip_group_on_error: it is the group's order that
/// matters.) A FIFO record is not started when the invocation is about to run out of time
/// (HandlerOptions::time_reserve); it and the rest of its group are handed back at once.
///
/// In the response, retry is always a failure (SQS redelivers it, after the delay set by
/// the settle target); dead_letter is a failure only when its settle failed (then the
/// queue's redrive policy is the safety net: never lost). On a FIFO queue a failure
/// reports the later records of its group too.
///
/// A fatal processor error (credentials, configuration) fails the whole invocation
/// (/error) and asks the runtime to exit, so Lambda starts afresh; the records stay in
/// the queue. A malformed event fails the whole invocation too.
template <RecordProcessor Processor, SettleTarget Target>
class SqsHandler {
 public:
  SqsHandler(Processor& processor, Target& target, EventSink events = {}, HandlerOptions options = {})
      : processor_(processor), target_(target), events_(std::move(events)), options_(options) {}

  Reply operator()(const Invocation& invocation) {
    return handle(invocation.body, invocation.request_id, invocation.deadline_ms);
  }

  /// Handles one event JSON; `request_id` only labels the logs; `deadline_ms` is the
  /// invocation's deadline in Unix milliseconds (0: none known).
  Reply handle(std::string_view event_json, std::string_view request_id = {}, std::int64_t deadline_ms = 0) {
    auto event = parse_sqs_event(event_json);
    if (!event) {
      const Error& e = event.error();
      std::string message = e.path.empty() ? e.message : e.path + ": " + e.message;
      emit("invalid_event", request_id, message);
      return Reply::failure(ErrorReport{"InvalidEvent", "not a valid SQS event: " + message});
    }
    // What the settle target knows of these records (outage retries it settled before).
    if constexpr (requires { target_.recall(event->records, event->sources); })
      target_.recall(event->records, event->sources);
    const std::vector<QueueRecord>& records = event->records;
    const bool fifo = event->fifo();
    emit("batch", request_id, std::to_string(records.size()) + (fifo ? " records, fifo" : " records"));

    std::vector<Outcome> outcomes;
    if (!records.empty()) {
      const std::int64_t reserve_ms = fifo ? reserve_for(deadline_ms) : -1;
      bool short_of_time = false;
      auto may_start = [&] {
        if (!short_of_time && running_out(deadline_ms, reserve_ms)) {
          short_of_time = true;
          emit("time_short", request_id, "records not started yet are handed back before the deadline");
        }
        return !short_of_time;
      };
      outcomes = processor_.process(records, may_start, "not processed: the invocation's time was running out");
    }
    if (processor_.fatal()) return fatal(request_id);
    settle(*event, outcomes, 0, outcomes.size());

    std::string body = batch_response(*event, outcomes);
    emit("answered", request_id, body);
    return Reply::response(std::move(body));
  }

 private:
  /// The time to keep in hand for an invocation with this deadline, or -1: no check.
  std::int64_t reserve_for(std::int64_t deadline_ms) const {
    if (deadline_ms <= 0 || options_.time_reserve.count() <= 0) return -1;
    const std::int64_t half = std::max<std::int64_t>(0, (deadline_ms - options_.now_ms()) / 2);
    return std::min<std::int64_t>(options_.time_reserve.count(), half);
  }

  /// True when less than `reserve_ms` is left (and there is a check at all).
  bool running_out(std::int64_t deadline_ms, std::int64_t reserve_ms) const {
    return reserve_ms >= 0 && deadline_ms - options_.now_ms() < reserve_ms;
  }

  /// Settles the failed records of outcomes[from, to), one call per source queue; a dead
  /// letter that was settled becomes `done` (handled) in `outcomes`.
  void settle(const SqsEvent& event, std::vector<Outcome>& outcomes, std::size_t from, std::size_t to) {
    std::vector<bool> taken(to, false);
    for (std::size_t first = from; first < to; ++first) {
      if (taken[first] || outcomes[first].disposition == Disposition::done) continue;
      const RecordSource& source = event.sources[first];
      std::vector<Settlement> batch;
      std::vector<std::size_t> index;
      for (std::size_t i = first; i < to; ++i) {
        if (taken[i] || outcomes[i].disposition == Disposition::done || event.sources[i].arn != source.arn) continue;
        taken[i] = true;
        batch.push_back({&event.records[i], outcomes[i]});
        index.push_back(i);
      }
      if constexpr (requires { target_.use_source(source); }) target_.use_source(source);
      if (auto r = target_.settle(batch); !r) {
        emit("settle_failed", source.arn, r.error().message);
        continue;  // every one of them is reported: SQS redelivers, the redrive policy catches dead letters
      }
      for (std::size_t i : index)
        if (outcomes[i].disposition == Disposition::dead_letter) outcomes[i] = Outcome{Disposition::done, {}, {}};
    }
  }

  Reply fatal(std::string_view request_id) {
    const std::string message = processor_.fatal()->message;
    emit("fatal", request_id, message);
    return Reply::failure(ErrorReport{"ConfigurationError", message}, true);
  }

  void emit(std::string_view step, std::string_view request, std::string_view detail) {
    if (events_) events_(Event{step, request, {}, {}, detail});
  }

  Processor& processor_;
  Target& target_;
  EventSink events_;
  HandlerOptions options_;
};

}  // namespace notify::lambda
