// SPDX-License-Identifier: MIT
#pragma once

/// The batch processor (records in, one outcome per record out) and the worker loop that
/// drives it over any Queue. Everything I/O goes through the transport concepts.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "notify/codec.hpp"
#include "notify/detail/json_writer.hpp"
#include "notify/plan.hpp"
#include "notify/transport.hpp"

namespace notify {

/// One step of a record's life, for structured logs and counting. `request` is the parent
/// id (the envelope id, or the queue message id when absent); `token` is shortened.
struct Event {
  std::string_view step;  ///< received, invalid, planned, sent, invalid_token, push_failed, retry, dead_letter, done, ...
  std::string_view request;
  std::string_view type;
  std::string_view token;
  std::string_view detail;
};

using EventSink = std::function<void(const Event&)>;

struct ProcessorOptions {
  Limits limits;
  /// Deliveries after which a record that still fails is dead-lettered.
  int max_deliveries = 5;
  /// Retry delay after the first delivery; doubled per delivery, capped, with jitter.
  std::chrono::milliseconds base_delay{1000};
  std::chrono::milliseconds max_delay{std::chrono::minutes(5)};
  /// How long "sent" markers are kept: longer than any record can keep coming back.
  std::chrono::seconds idempotency_ttl{std::chrono::hours(24)};
};

namespace detail {

inline std::uint64_t fnv1a(std::uint64_t h, std::string_view s) noexcept {
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return (h ^ 0xFF) * 0x100000001b3ull;  // a separator, so "ab"+"c" != "a"+"bc"
}

inline std::string hex64(std::uint64_t v) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) s[static_cast<std::size_t>(i)] = digits[v & 0xF];
  return s;
}

inline std::string errors_json(const Errors& errors) {
  std::string out = "[";
  for (std::size_t i = 0; i < errors.size(); ++i) {
    if (i) out += ',';
    out += "{\"path\":";
    write_string(out, errors[i].path);
    out += ",\"code\":";
    write_string(out, to_string(errors[i].code));
    out += ",\"message\":";
    write_string(out, errors[i].message);
    out += '}';
  }
  out += ']';
  return out;
}

}  // namespace detail

/// The idempotency key of one delivery: a request id plus a hash of content and token,
/// so the same token may still get two different messages of one request.
inline std::string delivery_key(std::string_view request_id, const Message& m, std::string_view token) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  h = detail::fnv1a(h, m.title);
  h = detail::fnv1a(h, m.body);
  h = detail::fnv1a(h, to_string(m.link.screen));
  h = detail::fnv1a(h, m.link.param_json());
  h = detail::fnv1a(h, token);
  std::string key(request_id);
  key += ':';
  key += detail::hex64(h);
  return key;
}

/// The idempotency key of a request's inbox records: the request id plus a hash of the
/// inbox body, so two different requests that share an id both get theirs.
inline std::string inbox_key(std::string_view request_id, std::string_view inbox_body) {
  std::string key(request_id);
  key += ":inbox:";
  key += detail::hex64(detail::fnv1a(0xcbf29ce484222325ull, inbox_body));
  return key;
}

/// Processes batches: decode, one member lookup, plan, skip what was already delivered,
/// push, clean dead tokens, remember, publish inbox records, and decide each outcome.
template <MemberStore Store, PushProvider Pusher, InboxSink Inbox, IdempotencyStore Ledger>
class BatchProcessor {
 public:
  BatchProcessor(Store& store, Pusher& pusher, Inbox& inbox, Ledger& ledger, ProcessorOptions options = {},
                 EventSink events = {})
      : store_(store), pusher_(pusher), inbox_(inbox), ledger_(ledger), opt_(std::move(options)),
        events_(std::move(events)) {}

  /// A credentials or configuration error seen by the last batch: the worker must stop.
  const std::optional<Error>& fatal() const noexcept { return fatal_; }

  /// One outcome per record, in order. Never throws on bad input or transport failures.
  std::vector<Outcome> process(std::span<const QueueRecord> batch) {
    fatal_.reset();
    std::vector<Item> items(batch.size());
    std::vector<Id> family_ids;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      Item& it = items[i];
      it.record = &batch[i];
      auto decoded = decode(batch[i].body, opt_.limits);
      if (!decoded) {
        it.outcome = {Disposition::dead_letter, {}, detail::errors_json(decoded.error())};
        emit("invalid", it, {}, it.outcome.reason);
        emit("dead_letter", it, {}, it.outcome.reason);
        continue;
      }
      it.request = std::move(*decoded);
      it.request_id = it.request->id.empty() ? batch[i].id : it.request->id;
      // Producer ids and queue ids live in separate key spaces. A record with neither
      // has no idempotency across its redeliveries: its keys (unique in this batch) never
      // reach the ledger, so they cannot match another record's markers.
      it.keyed = !it.request->id.empty() || !batch[i].id.empty();
      it.key_id = !it.request->id.empty() ? "e:" + it.request->id
                  : !batch[i].id.empty()  ? "q:" + batch[i].id
                                          : "n:" + std::to_string(i);
      emit("received", it);
      append_family_ids(*it.request, family_ids);
    }
    std::sort(family_ids.begin(), family_ids.end());
    family_ids.erase(std::unique(family_ids.begin(), family_ids.end()), family_ids.end());

    if (any_valid(items)) run(items, family_ids);

    std::vector<Outcome> out;
    out.reserve(items.size());
    for (Item& it : items) out.push_back(std::move(it.outcome));
    return out;
  }

 private:
  struct Item {
    const QueueRecord* record = nullptr;
    std::optional<Request> request;
    std::string request_id;  // for logs: the envelope id, else the queue's id
    std::string key_id;      // the idempotency namespace of this request
    bool keyed = false;      // key_id names the request beyond this batch (ledger in use)
    Plan plan;
    std::string inbox_body;  // encode_inbox(plan), when there are inbox records
    Outcome outcome;
    bool pending = false;  // some delivery must be retried
    bool outage = false;   // ... because a service (or our configuration) failed, not this record
    std::chrono::milliseconds retry_after{0};
    std::string retry_reason;
    std::string failure;  // a permanent failure of some push
    std::vector<std::size_t> twins;  // earlier copies in this batch that make some of our deliveries
  };

  static bool any_valid(const std::vector<Item>& items) {
    return std::any_of(items.begin(), items.end(), [](const Item& it) { return it.request.has_value(); });
  }

  void run(std::vector<Item>& items, const std::vector<Id>& family_ids) {
    auto lookup = store_.families(family_ids);
    if (!lookup) return retry_all(items, lookup.error());
    for (const Error& e : lookup->problems) emit_plain("member_skipped", e.path, e.message);
    const Families& families = lookup->families;

    // Every delivery of the batch, and the keys to check in one round trip.
    std::vector<std::string> keys;
    struct Ref { std::size_t item; const Message* message; std::string_view token; };
    std::vector<Ref> refs;  // refs[k] belongs to keys[k]; no message = the inbox records
    for (std::size_t i = 0; i < items.size(); ++i) {
      Item& it = items[i];
      if (!it.request) continue;
      it.plan = plan(*it.request, families);
      emit("planned", it, {}, std::to_string(it.plan.push_count()) + " pushes, " +
                                  std::to_string(it.plan.inbox_count()) + " inbox");
      for (const Message& m : it.plan.messages)
        for (std::string_view t : m.tokens) {
          keys.push_back(delivery_key(it.key_id, m, t));
          refs.push_back({i, &m, t});
        }
      if (it.plan.inbox_count() > 0) {
        it.inbox_body = encode_inbox(it.plan);
        keys.push_back(inbox_key(it.key_id, it.inbox_body));
        refs.push_back({i, nullptr, {}});
      }
    }
    std::vector<bool> seen(keys.size(), false);
    {
      std::vector<std::string> asked;  // the keys of keyed requests, in order
      std::vector<std::size_t> asked_at;
      for (std::size_t k = 0; k < keys.size(); ++k)
        if (items[refs[k].item].keyed) {
          asked.push_back(keys[k]);
          asked_at.push_back(k);
        }
      if (!asked.empty()) {
        auto r = ledger_.seen(asked);
        if (!r) return retry_all(items, r.error());
        // An answer that does not fit the question cannot say what was sent: trust none of it.
        if (r->size() != asked.size())
          return retry_all(items, Error{Errc::unavailable,
                                        "idempotency store answered " + std::to_string(r->size()) + " of " +
                                            std::to_string(asked.size()) + " keys",
                                        {}});
        for (std::size_t a = 0; a < asked.size(); ++a) seen[asked_at[a]] = (*r)[a];
      }
    }
    // A request sent twice (same envelope id) may arrive twice in one batch: the ledger
    // knows neither copy yet, so only the first makes each delivery, and the later copy
    // shares its fate (see settle_twins). Markers the ledger has not taken yet count as
    // seen too.
    {
      std::unordered_map<std::string_view, std::size_t> first;
      for (std::size_t k = 0; k < keys.size(); ++k) {
        if (seen[k]) continue;
        if (unremembered_.contains(keys[k])) {
          seen[k] = true;
          continue;
        }
        const auto [at, inserted] = first.emplace(keys[k], refs[k].item);
        if (!inserted) {
          seen[k] = true;
          std::vector<std::size_t>& twins = items[refs[k].item].twins;
          if (at->second != refs[k].item && std::find(twins.begin(), twins.end(), at->second) == twins.end())
            twins.push_back(at->second);
        }
      }
    }

    // Pushes not yet made.
    std::vector<Push> pushes;
    std::vector<std::size_t> push_key;  // index into keys
    for (std::size_t k = 0; k < refs.size(); ++k) {
      if (seen[k]) {
        if (refs[k].message) emit("already_sent", items[refs[k].item], refs[k].token);
        continue;
      }
      if (!refs[k].message) continue;
      pushes.push_back({refs[k].message, refs[k].token});
      push_key.push_back(k);
    }
    std::vector<std::string> done_keys;
    if (!pushes.empty()) {
      const std::vector<PushResult> results = pusher_.send(pushes);
      // A retry is an outage (not the record's own failure) when the provider says so, or
      // when pushes to several devices all failed and none went out: the provider, or
      // the way to it, is down. A lone device that keeps failing is its record's problem.
      const bool none_out = std::none_of(results.begin(), results.end(), [](const PushResult& r) {
        return r.status == PushStatus::sent || r.status == PushStatus::invalid_token || r.status == PushStatus::failed;
      });
      const bool outage = none_out && std::any_of(pushes.begin(), pushes.end(), [&](const Push& p) {
                            return p.token != pushes.front().token;
                          });
      for (std::size_t p = 0; p < pushes.size(); ++p) {
        const std::size_t k = push_key[p];
        Item& it = items[refs[k].item];
        const PushResult r = p < results.size() ? results[p] : PushResult{PushStatus::retry, {}, "no result from provider", true};
        switch (r.status) {
          case PushStatus::sent:
            if (it.keyed) done_keys.push_back(keys[k]);
            emit("sent", it, pushes[p].token, r.detail);
            break;
          case PushStatus::invalid_token:
            emit("invalid_token", it, pushes[p].token, r.detail);
            forget_token(families, pushes[p].token, it);
            if (it.keyed) done_keys.push_back(keys[k]);
            break;
          case PushStatus::retry:
            it.pending = true;
            it.outage |= outage || r.outage;
            it.retry_after = std::max(it.retry_after, r.retry_after);
            it.retry_reason = r.detail;
            emit("push_retry", it, pushes[p].token, r.detail);
            break;
          case PushStatus::failed:
            it.failure = r.detail;
            emit("push_failed", it, pushes[p].token, r.detail);
            break;
          case PushStatus::fatal:
            it.pending = true;
            it.outage = true;
            it.retry_reason = r.detail;
            if (!fatal_) fatal_ = Error{Errc::configuration, r.detail, {}};
            emit("push_fatal", it, pushes[p].token, r.detail);
            break;
        }
      }
    }
    // Markers go in right after the pushes (before the inbox), so a crash from here on
    // repeats nothing that was sent.
    remember(std::move(done_keys));

    // Inbox records, once per request.
    std::vector<std::string> bodies;
    std::vector<std::size_t> inbox_refs;
    for (std::size_t k = 0; k < refs.size(); ++k)
      if (!refs[k].message && !seen[k]) {
        bodies.push_back(items[refs[k].item].inbox_body);
        inbox_refs.push_back(k);
      }
    if (!bodies.empty()) {
      // A body the inbox refuses for what it is (too large, not allowed) fails its own
      // record only: the others are published one by one, and that record is
      // dead-lettered with the reason rather than retried for ever.
      auto refused = [](const Result<void>& r) {
        return !r && (r.error().code == Errc::body_too_large || r.error().code == Errc::invalid_value ||
                      r.error().code == Errc::too_long);
      };
      const auto all = inbox_.publish(bodies);
      std::vector<Result<void>> each(bodies.size(), all);
      if (refused(all) && bodies.size() > 1)
        for (std::size_t i = 0; i < bodies.size(); ++i) each[i] = inbox_.publish(std::span<const std::string>(&bodies[i], 1));
      std::vector<std::string> inbox_keys;
      for (std::size_t i = 0; i < inbox_refs.size(); ++i) {
        const std::size_t k = inbox_refs[i];
        Item& it = items[refs[k].item];
        const Result<void>& r = each[i];
        if (r) {
          if (it.keyed) inbox_keys.push_back(keys[k]);
          emit("inbox_published", it);
        } else if (refused(r)) {
          it.failure += (it.failure.empty() ? "inbox: " : "; inbox: ") + r.error().message;
          emit("inbox_refused", it, {}, r.error().message);
        } else {
          it.pending = true;
          it.outage = true;
          it.retry_reason = "inbox: " + r.error().message;
          emit("inbox_retry", it, {}, r.error().message);
        }
      }
      if (!inbox_keys.empty()) remember(std::move(inbox_keys));
    }

    settle_twins(items);
    for (Item& it : items) {
      if (!it.request) continue;
      if (it.pending) schedule_retry(it, it.retry_reason);
      else if (!it.failure.empty())
        dead_letter(it, it.failure.starts_with("inbox: ") ? it.failure : "push failed: " + it.failure);
      else {
        it.outcome = {Disposition::done, {}, {}};
        emit("done", it);
      }
    }
  }

  /// A later copy whose deliveries an earlier copy made is not acked while that copy
  /// still has to retry: it retries too, so neither copy's budget decides alone. Earlier
  /// copies come first, so a chain of copies is settled in one pass.
  static void settle_twins(std::vector<Item>& items) {
    for (Item& it : items)
      for (std::size_t t : it.twins) {
        const Item& first = items[t];
        if (!first.pending) continue;
        if (!it.pending) it.retry_reason = first.retry_reason;
        it.pending = true;
        it.outage |= first.outage;
        it.retry_after = std::max(it.retry_after, first.retry_after);
      }
  }

  /// Stores markers in one round trip. Markers the ledger could not take are kept here
  /// (and count as seen) until a later batch stores them, so a retried record never
  /// repeats a push meanwhile.
  void remember(std::vector<std::string> keys) {
    if (keys.empty() && unremembered_.empty()) return;
    keys.insert(keys.end(), unremembered_.begin(), unremembered_.end());
    if (auto r = ledger_.remember(keys, opt_.idempotency_ttl)) {
      unremembered_.clear();
    } else {
      emit_plain("ledger_error", {}, r.error().message);
      for (std::string& k : keys)
        if (unremembered_.size() < max_unremembered) unremembered_.insert(std::move(k));
    }
  }

  void forget_token(const Families& families, std::string_view token, Item& it) {
    for (const Family& f : families.all())
      for (const Member& m : f.members)
        if (m.fcmToken == token) {
          auto r = store_.remove_token(f.familyId, m.userId, token);
          if (!r) emit("token_cleanup_failed", it, token, r.error().message);
        }
  }

  /// A service failed for the whole batch: every valid record is retried as an outage.
  void retry_all(std::vector<Item>& items, const Error& e) {
    if (!is_transient(e.code) && !fatal_) fatal_ = e;
    for (Item& it : items)
      if (it.request) {
        it.outage = true;
        schedule_retry(it, e.message);
      }
  }

  /// An outage (a service down, or our own configuration) never dead-letters a record:
  /// only its own failures count toward max_deliveries, not the deliveries the queue
  /// reports as earlier outages (QueueRecord::outages).
  void schedule_retry(Item& it, const std::string& reason) {
    const int own = it.record->receive_count - std::max(it.record->outages, 0);
    if (!it.outage && own >= opt_.max_deliveries) {
      std::string why = "gave up after " + std::to_string(own) + " deliveries";
      if (it.record->outages > 0) why += " (and " + std::to_string(it.record->outages) + " in outages)";
      return dead_letter(it, why + ": " + reason);
    }
    it.outcome = {Disposition::retry, std::max(backoff(it.record->receive_count), it.retry_after), reason,
                  it.outage};
    emit("retry", it, {}, reason);
  }

  void dead_letter(Item& it, std::string reason) {
    it.outcome = {Disposition::dead_letter, {}, std::move(reason)};
    emit("dead_letter", it, {}, it.outcome.reason);
  }

  /// base * 2^(n-1), capped, with "equal jitter": half fixed, half random.
  std::chrono::milliseconds backoff(int receive_count) {
    const int shift = std::clamp(receive_count - 1, 0, 20);
    const auto full = std::min(opt_.max_delay, opt_.base_delay * (std::int64_t{1} << shift));
    const auto half = full.count() / 2;
    const std::uint64_t r = next_random();
    return std::chrono::milliseconds(half + (half > 0 ? static_cast<std::int64_t>(r % static_cast<std::uint64_t>(half + 1)) : 0));
  }

  std::uint64_t next_random() noexcept {
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 7;
    rng_ ^= rng_ << 17;
    return rng_;
  }

  void emit(std::string_view step, const Item& it, std::string_view token = {}, std::string_view detail = {}) {
    if (!events_) return;
    const std::string shortened = token.empty() ? std::string() : short_token(token);
    events_(Event{step, it.request_id.empty() ? std::string_view(it.record->id) : std::string_view(it.request_id),
                  it.request ? to_string(it.request->type()) : std::string_view{}, shortened, detail});
  }
  void emit_plain(std::string_view step, std::string_view where, std::string_view detail) {
    if (events_) events_(Event{step, where, {}, {}, detail});
  }

  Store& store_;
  Pusher& pusher_;
  Inbox& inbox_;
  Ledger& ledger_;
  ProcessorOptions opt_;
  EventSink events_;
  std::optional<Error> fatal_;
  static constexpr std::size_t max_unremembered = 100000;
  std::unordered_set<std::string> unremembered_;
  std::uint64_t rng_ = 0x9E3779B97F4A7C15ull;
};

struct WorkerOptions {
  std::size_t batch_size = 10;
  std::chrono::milliseconds wait{1000};
  /// Return once a receive comes back empty and the queue holds nothing delayed.
  bool drain = false;
  std::chrono::milliseconds max_reconnect_delay{std::chrono::seconds(30)};
};

/// Processes a batch keeping the order of FIFO groups (QueueRecord::group): records
/// without a group, and the first record of each group, go in one processor call; the
/// second record of each group in the next, and so on. Once a record of a group is to be
/// retried, the later records of its group are not processed: they come back right after
/// it (retry without delay, flagged as an outage: not their own failure), so no message
/// of a group overtakes an earlier one. A batch without groups is one call.
template <class Processor>
std::vector<Outcome> process_in_order(Processor& processor, std::span<const QueueRecord> batch) {
  const bool grouped = std::any_of(batch.begin(), batch.end(), [](const QueueRecord& r) { return !r.group.empty(); });
  if (!grouped) return processor.process(batch);
  std::vector<Outcome> outcomes(batch.size());
  std::vector<std::size_t> wave_of(batch.size(), 0);  // the record's place in its group
  for (std::size_t i = 0; i < batch.size(); ++i)
    if (!batch[i].group.empty())
      for (std::size_t j = 0; j < i; ++j) wave_of[i] += batch[j].group == batch[i].group;
  std::vector<std::string> stopped;  // groups with a record to retry
  const std::size_t waves = *std::max_element(wave_of.begin(), wave_of.end()) + 1;
  for (std::size_t wave = 0; wave < waves; ++wave) {
    std::vector<QueueRecord> records;
    std::vector<std::size_t> at;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (wave_of[i] != wave) continue;
      if (std::find(stopped.begin(), stopped.end(), batch[i].group) != stopped.end()) {
        outcomes[i] = Outcome{Disposition::retry, std::chrono::milliseconds(0),
                              "an earlier request of its group " + batch[i].group + " is retried first", true};
        continue;
      }
      records.push_back(batch[i]);
      at.push_back(i);
    }
    if (records.empty()) continue;
    std::vector<Outcome> got = processor.process(records);
    for (std::size_t k = 0; k < at.size(); ++k) {
      if (got[k].disposition == Disposition::retry && !batch[at[k]].group.empty())
        stopped.push_back(batch[at[k]].group);
      outcomes[at[k]] = std::move(got[k]);
    }
    if constexpr (requires { processor.fatal(); }) {
      if (processor.fatal()) {  // the rest waits for a worker that can deliver it
        for (std::size_t i = 0; i < batch.size(); ++i)
          if (wave_of[i] > wave)
            outcomes[i] = Outcome{Disposition::retry, std::chrono::milliseconds(0), "not processed: the worker stopped", true};
        break;
      }
    }
  }
  return outcomes;
}

/// The long-running loop: receive, process, settle; stops when `stop` is set (after the
/// batch in flight is settled), on a fatal error, or when drained.
template <Queue Q, class Processor>
Result<void> run_worker(Q& queue, Processor& processor, const std::atomic<bool>& stop, WorkerOptions options = {},
                        EventSink events = {}) {
  std::chrono::milliseconds delay{100};
  // A queue error: a transient one is waited out with growing pauses, a permanent one ends the worker.
  auto fault = [&](const Error& e) -> bool {
    if (!is_transient(e.code)) return false;
    if (events) events(Event{"queue_error", {}, {}, {}, e.message});
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, options.max_reconnect_delay);
    return true;
  };
  while (!stop.load(std::memory_order_relaxed)) {
    auto batch = queue.receive(options.batch_size, options.wait);
    if (!batch) {
      if (fault(batch.error())) continue;
      return batch.error();
    }
    if (batch->empty()) {
      if (!options.drain) {
        delay = std::chrono::milliseconds(100);
        continue;
      }
      // Drained means nothing is left to come back: in flight elsewhere, delayed, or hidden.
      if constexpr (requires { { queue.pending_count() } -> std::same_as<Result<std::size_t>>; }) {
        auto left = queue.pending_count();
        if (!left) {
          if (fault(left.error())) continue;
          return left.error();
        }
        delay = std::chrono::milliseconds(100);  // reset only once counting works again
        if (*left > 0) continue;
      }
      return {};
    }
    delay = std::chrono::milliseconds(100);
    std::vector<Outcome> outcomes = process_in_order(processor, std::span<const QueueRecord>(*batch));
    std::vector<Settlement> settlements;
    settlements.reserve(outcomes.size());
    for (std::size_t i = 0; i < outcomes.size(); ++i) settlements.push_back({&(*batch)[i], std::move(outcomes[i])});
    // A failed settle leaves the records to come back; the ledger stops repeats.
    if (auto r = queue.settle(settlements); !r && events) events(Event{"settle_error", {}, {}, {}, r.error().message});
    if (processor.fatal()) return *processor.fatal();
  }
  return {};
}

}  // namespace notify
