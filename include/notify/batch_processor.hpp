// SPDX-License-Identifier: MIT
#pragma once

/// A batch at a time through the engine: records in, one outcome per record out, for
/// drivers that are handed a batch and must answer for it (the Lambda runtime, tests).
/// The long-running worker (worker.hpp) drives the same pipeline continuously instead.

#include <chrono>
#include <concepts>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "notify/pipeline.hpp"

namespace notify {

/// What a driver needs of a processor: one outcome per record, in order, and whether a
/// credentials or configuration error means the runtime must stop.
template <class P>
concept RecordProcessor = requires(P& p, std::span<const QueueRecord> batch) {
  { p.process(batch) } -> std::same_as<std::vector<Outcome>>;
  { p.process(batch, std::function<bool()>{}, std::string{}) } -> std::same_as<std::vector<Outcome>>;
  { p.fatal() } -> std::convertible_to<const std::optional<Error>&>;
};

/// Processes batches: decode, one member lookup, plan, skip what was already delivered,
/// push, clean dead tokens, remember, publish inbox records, and decide each outcome.
template <MemberStore Store, class Pusher, InboxSink Inbox, IdempotencyStore Ledger>
  requires PushProvider<Pusher> || AsyncPushProvider<Pusher>
class BatchProcessor {
 public:
  using Engine = Pipeline<Store, Pusher, Inbox, Ledger>;

  BatchProcessor(Store& store, Pusher& pusher, Inbox& inbox, Ledger& ledger, ProcessorOptions options = {},
                 EventSink events = {})
      : pipeline_(store, pusher, inbox, ledger, std::move(options), std::move(events)) {}

  /// A credentials or configuration error seen by the last batch: the worker must stop.
  const std::optional<Error>& fatal() const noexcept { return pipeline_.fatal(); }

  /// One outcome per record, in order. Never throws on bad input or transport failures.
  /// Nothing is held across calls: outages and throttling come back as retries.
  ///
  /// FIFO groups (QueueRecord::group) keep the engine's order, the same as the worker's:
  /// the records of a group go one after the other, other groups alongside; once one is
  /// retried, the later records of its group come back right after it (a retry at once,
  /// flagged as an outage), so none overtakes it.
  std::vector<Outcome> process(std::span<const QueueRecord> batch) { return process(batch, {}, {}); }

  /// The same; a FIFO record that would start after `may_start` says no is handed back
  /// unprocessed with the rest of its group (a retry at once, as an outage), with `why`.
  /// The first record of each group always runs.
  std::vector<Outcome> process(std::span<const QueueRecord> batch, std::function<bool()> may_start, std::string why) {
    pipeline_.clear_fatal();
    pipeline_.hold(false);
    pipeline_.check_starts(std::move(may_start), std::move(why));
    const std::vector<std::uint64_t> ids = pipeline_.admit(std::vector<QueueRecord>(batch.begin(), batch.end()));
    while (pipeline_.held() > 0) pipeline_.step(std::chrono::milliseconds(100));
    pipeline_.check_starts({});
    std::unordered_map<std::uint64_t, Outcome> by_id;
    for (Decided& d : pipeline_.take_decided()) by_id.emplace(d.order, std::move(d.outcome));
    std::vector<Outcome> out(batch.size());
    for (std::size_t i = 0; i < ids.size(); ++i)
      if (auto it = by_id.find(ids[i]); it != by_id.end()) out[i] = std::move(it->second);
    return out;
  }

  /// The engine underneath, for the long-running worker.
  Engine& pipeline() noexcept { return pipeline_; }

 private:
  Engine pipeline_;
};

}  // namespace notify
