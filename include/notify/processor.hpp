// SPDX-License-Identifier: MIT
#pragma once

/// The batch processor (records in, one outcome per record out) and the worker loop that
/// drives it over any Queue. Everything I/O goes through the transport concepts.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
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

/// The idempotency key of a request's inbox records.
inline std::string inbox_key(std::string_view request_id) { return std::string(request_id) + ":inbox"; }

/// Processes batches: decode, one member lookup, plan, skip what was already delivered,
/// push, clean dead tokens, publish inbox records, remember, and decide each outcome.
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
      emit("received", it);
      append_family_ids(*it.request, family_ids);
    }
    std::sort(family_ids.begin(), family_ids.end());
    family_ids.erase(std::unique(family_ids.begin(), family_ids.end()), family_ids.end());

    if (!family_ids.empty() || any_valid(items)) run(items, family_ids);

    std::vector<Outcome> out;
    out.reserve(items.size());
    for (Item& it : items) out.push_back(std::move(it.outcome));
    return out;
  }

 private:
  struct Item {
    const QueueRecord* record = nullptr;
    std::optional<Request> request;
    std::string request_id;
    Plan plan;
    Outcome outcome;
    bool pending = false;  // some delivery must be retried
    bool blocked = false;  // ... because of a fatal (configuration) error
    std::chrono::milliseconds retry_after{0};
    std::string retry_reason;
    std::string failure;  // a permanent failure of some push
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
    std::vector<Ref> refs;  // refs[k] belongs to keys[k]; token empty = inbox
    for (std::size_t i = 0; i < items.size(); ++i) {
      Item& it = items[i];
      if (!it.request) continue;
      it.plan = plan(*it.request, families);
      emit("planned", it, {}, std::to_string(it.plan.push_count()) + " pushes, " +
                                  std::to_string(it.plan.inbox_count()) + " inbox");
      for (const Message& m : it.plan.messages)
        for (std::string_view t : m.tokens) {
          keys.push_back(delivery_key(it.request_id, m, t));
          refs.push_back({i, &m, t});
        }
      if (it.plan.inbox_count() > 0) {
        keys.push_back(inbox_key(it.request_id));
        refs.push_back({i, nullptr, {}});
      }
    }
    std::vector<bool> seen(keys.size(), false);
    if (!keys.empty()) {
      auto r = ledger_.seen(keys);
      if (!r) return retry_all(items, r.error());
      if (r->size() == keys.size()) seen = std::move(*r);
    }
    // A request sent twice (same envelope id) may arrive twice in one batch: the ledger
    // knows neither copy yet, so only the first makes each delivery. Markers the ledger
    // has not taken yet count as seen too.
    {
      std::unordered_set<std::string_view> first;
      for (std::size_t k = 0; k < keys.size(); ++k)
        if (!seen[k] && (unremembered_.contains(keys[k]) || !first.insert(keys[k]).second)) seen[k] = true;
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
      for (std::size_t p = 0; p < pushes.size(); ++p) {
        const std::size_t k = push_key[p];
        Item& it = items[refs[k].item];
        const PushResult r = p < results.size() ? results[p] : PushResult{PushStatus::retry, {}, "no result from provider"};
        switch (r.status) {
          case PushStatus::sent:
            done_keys.push_back(keys[k]);
            emit("sent", it, pushes[p].token, r.detail);
            break;
          case PushStatus::invalid_token:
            emit("invalid_token", it, pushes[p].token, r.detail);
            forget_token(families, pushes[p].token, it);
            done_keys.push_back(keys[k]);
            break;
          case PushStatus::retry:
            it.pending = true;
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
            it.blocked = true;
            it.retry_reason = r.detail;
            if (!fatal_) fatal_ = Error{Errc::configuration, r.detail, {}};
            emit("push_fatal", it, pushes[p].token, r.detail);
            break;
        }
      }
    }

    // Inbox records, once per request.
    std::vector<std::string> bodies;
    std::vector<std::size_t> inbox_refs;
    for (std::size_t k = 0; k < refs.size(); ++k)
      if (!refs[k].message && !seen[k]) {
        bodies.push_back(encode_inbox(items[refs[k].item].plan));
        inbox_refs.push_back(k);
      }
    if (!bodies.empty()) {
      auto r = inbox_.publish(bodies);
      for (std::size_t k : inbox_refs) {
        Item& it = items[refs[k].item];
        if (r) {
          done_keys.push_back(keys[k]);
          emit("inbox_published", it);
        } else {
          it.pending = true;
          it.retry_reason = "inbox: " + r.error().message;
          emit("inbox_retry", it, {}, r.error().message);
        }
      }
    }

    if (!done_keys.empty() || !unremembered_.empty()) {
      // Markers the ledger could not take are kept here (and count as seen) until a
      // later batch stores them, so a retried record never repeats a push meanwhile.
      done_keys.insert(done_keys.end(), unremembered_.begin(), unremembered_.end());
      if (auto r = ledger_.remember(done_keys, opt_.idempotency_ttl)) {
        unremembered_.clear();
      } else {
        emit_plain("ledger_error", {}, r.error().message);
        for (std::string& k : done_keys)
          if (unremembered_.size() < max_unremembered) unremembered_.insert(std::move(k));
      }
    }

    for (Item& it : items) {
      if (!it.request) continue;
      if (it.pending) schedule_retry(it, it.retry_reason);
      else if (!it.failure.empty()) dead_letter(it, "push failed: " + it.failure);
      else {
        it.outcome = {Disposition::done, {}, {}};
        emit("done", it);
      }
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

  void retry_all(std::vector<Item>& items, const Error& e) {
    const bool blocked = !is_transient(e.code);
    if (blocked && !fatal_) fatal_ = e;
    for (Item& it : items)
      if (it.request) {
        it.blocked = blocked;
        schedule_retry(it, e.message);
      }
  }

  /// A record blocked by our own configuration is never dead-lettered for it: the
  /// worker stops, and the record waits for a fixed deployment.
  void schedule_retry(Item& it, const std::string& reason) {
    if (!it.blocked && it.record->receive_count >= opt_.max_deliveries) {
      return dead_letter(it, "gave up after " + std::to_string(it.record->receive_count) + " deliveries: " + reason);
    }
    it.outcome = {Disposition::retry, std::max(backoff(it.record->receive_count), it.retry_after), reason};
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
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 7;
    rng_ ^= rng_ << 17;
    return std::chrono::milliseconds(half + (half > 0 ? static_cast<std::int64_t>(rng_ % static_cast<std::uint64_t>(half + 1)) : 0));
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

/// The long-running loop: receive, process, settle; stops when `stop` is set (after the
/// batch in flight is settled), on a fatal error, or when drained.
template <Queue Q, class Processor>
Result<void> run_worker(Q& queue, Processor& processor, const std::atomic<bool>& stop, WorkerOptions options = {},
                        EventSink events = {}) {
  std::chrono::milliseconds delay{100};
  while (!stop.load(std::memory_order_relaxed)) {
    auto batch = queue.receive(options.batch_size, options.wait);
    if (!batch) {
      if (!is_transient(batch.error().code)) return batch.error();
      if (events) events(Event{"queue_error", {}, {}, {}, batch.error().message});
      std::this_thread::sleep_for(delay);
      delay = std::min(delay * 2, options.max_reconnect_delay);
      continue;
    }
    delay = std::chrono::milliseconds(100);
    if (batch->empty()) {
      if (!options.drain) continue;
      if constexpr (requires { queue.pending(); }) {
        if (queue.pending() > 0) continue;
      }
      return {};
    }
    std::vector<Outcome> outcomes = processor.process(*batch);
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
