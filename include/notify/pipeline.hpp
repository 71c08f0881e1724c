// SPDX-License-Identifier: MIT
#pragma once

/// The delivery engine's core: records in, pushes out, each record decided (done / retry /
/// dead-letter) as soon as its own deliveries are. Many records and pushes are in flight
/// at once; pushes of different records share the provider's connections.
///
/// A record's way through: admit (decode, ONE member lookup for everything admitted
/// together, plan, ONE ledger check) -> its pushes wait their turn (FIFO group, throttled
/// device, paused provider) -> submitted -> answered -> inbox records published ->
/// decided. "Already sent" markers are written as answers arrive, coalesced into one
/// write every `marker_batch` answers or `marker_interval`, and always before a record is
/// decided; so a crash repeats at most the pushes in flight and the markers not yet
/// written. Throttling (429) and outages are service conditions: they pace or pause the
/// sending and, when `hold` is on, the push waits in the engine and goes out again once
/// the provider takes pushes (a circuit breaker with a half-open probe), instead of the
/// record going back to the queue with a grown backoff. Nothing here does I/O except
/// through the transport concepts.

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "notify/codec.hpp"
#include "notify/delivery_keys.hpp"
#include "notify/detail/claims.hpp"
#include "notify/detail/json_writer.hpp"
#include "notify/events.hpp"
#include "notify/observer.hpp"
#include "notify/plan.hpp"
#include "notify/retry_policy.hpp"
#include "notify/transport.hpp"

namespace notify {

struct ProcessorOptions : RetryPolicy {
  Limits limits;
  /// How long "sent" markers are kept: longer than any record can keep coming back.
  std::chrono::seconds idempotency_ttl{std::chrono::hours(24)};
  /// Records held at once (received and not yet decided); the worker receives no more.
  std::size_t max_records_in_flight = 256;
  /// Pushes submitted to the provider and not yet answered, at most; the rest wait. The
  /// pacer lowers this when the provider throttles and raises it again after.
  std::size_t max_pushes_in_flight = 1000;
  /// Pushes lined up (submitted or waiting) at most before more records are taken: a burst
  /// of bulk requests is taken in as the pushes drain, not all at once.
  std::size_t max_pushes_queued = 2000;
  /// Markers are written once this many wait, or the oldest has waited `marker_interval`.
  std::size_t marker_batch = 64;
  std::chrono::milliseconds marker_interval{5};
  /// How long a push may wait in the worker through an outage or throttling before its
  /// record goes back to the queue (a retry that does not count toward dead-lettering).
  std::chrono::milliseconds max_hold{std::chrono::minutes(2)};
  /// The circuit breaker's pause after a provider-wide failure: it doubles while probes
  /// fail, up to the maximum, so sending resumes within that long of the provider's return.
  std::chrono::milliseconds probe_delay{250};
  std::chrono::milliseconds max_probe_delay{std::chrono::seconds(2)};
  /// Events below this level are not emitted at all (per-push events are debug).
  Level log_level = Level::debug;
  /// Metrics hooks (not owned; must outlive the engine). Null: nothing is counted.
  EngineObserver* observer = nullptr;
  /// The engine's clock (pauses, Retry-After, holding, marker intervals); empty: the
  /// steady clock. Tests and fuzzers set it to make time deterministic.
  std::function<std::chrono::steady_clock::time_point()> clock;
  /// The wall clock in Unix ms (sendAt, quiet hours, night-time ads, consent age); empty:
  /// the system clock.
  std::function<std::int64_t()> wall_clock;
  /// Members' settings (consent age, the first version's flag); its now_ms is ignored:
  /// the engine plans at wall_clock's time.
  PlanPolicy plan_policy;
  /// A request whose sendAt is further ahead than this is dead-lettered.
  std::chrono::milliseconds max_schedule_ahead{std::chrono::hours(24 * 30)};
};

namespace detail {

/// Lets a map keyed by std::string be searched with a string_view, without a copy.
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

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

/// Any PushProvider seen as an AsyncPushProvider: the pushes submitted since the last
/// poll go out in one send() call when polled.
template <PushProvider P>
class SequentialPushes {
 public:
  explicit SequentialPushes(P& provider) : provider_(provider) {}

  void submit(const Push& push, std::uint64_t tag) {
    pushes_.push_back(push);
    tags_.push_back(tag);
  }
  void poll(std::chrono::milliseconds, std::vector<PushDone>& out) {
    if (pushes_.empty()) return;
    const std::vector<PushResult> results = provider_.send(pushes_);
    for (std::size_t i = 0; i < tags_.size(); ++i)
      out.push_back({tags_[i], i < results.size() ? results[i]
                                                  : PushResult{PushStatus::retry, {}, "no result from provider", true}});
    pushes_.clear();
    tags_.clear();
  }
  std::size_t in_flight() const noexcept { return pushes_.size(); }

 private:
  P& provider_;
  std::vector<Push> pushes_;
  std::vector<std::uint64_t> tags_;
};

namespace detail {
template <class P>
struct AdapterOf {
  using type = std::nullptr_t;  // already asynchronous
};
template <class P>
  requires(!AsyncPushProvider<P>)
struct AdapterOf<P> {
  using type = SequentialPushes<P>;
};
}  // namespace detail

/// A record the pipeline has decided, with its outcome.
struct Decided {
  QueueRecord record;
  Outcome outcome;
  std::uint64_t order = 0;  ///< admission order
};

/// Counters since construction.
struct PipelineStats {
  std::uint64_t admitted = 0;
  std::uint64_t decided = 0;
  std::uint64_t pushes_submitted = 0;
  std::uint64_t pushes_held = 0;       ///< answers that made a push wait and go again
  std::uint64_t marker_writes = 0;     ///< ledger round trips that stored markers
  std::uint64_t breaker_trips = 0;     ///< provider-wide pauses
  std::size_t window = 0;              ///< the pacer's current limit of pushes in flight
};

template <MemberStore Store, class Pusher, InboxSink Inbox, IdempotencyStore Ledger>
  requires PushProvider<Pusher> || AsyncPushProvider<Pusher>
class Pipeline {
  using Clock = std::chrono::steady_clock;

 public:
  Pipeline(Store& store, Pusher& pusher, Inbox& inbox, Ledger& ledger, ProcessorOptions options = {},
           EventSink events = {})
      : store_(store), pusher_(pusher), adapter_(make_adapter(pusher)), inbox_(inbox), ledger_(ledger),
        opt_(std::move(options)), events_(std::move(events)) {
    for (Lane& l : lanes_) {
      l.window = std::max<std::size_t>(1, opt_.max_pushes_in_flight);
      l.probe_delay = opt_.probe_delay;
    }
  }

  /// Whether outage and throttling answers make a push wait here and go again (the
  /// long-running worker), or decide the record as a retry at once (a single batch).
  void hold(bool on) noexcept { hold_ = on; }

  /// Decodes, looks up and plans `records` (one member lookup, one ledger check for all),
  /// and lines up their pushes. Invalid records are decided at once. A record whose
  /// receipt is already held is a second delivery of it: dropped.
  /// Returns each record's flight id (0: dropped as a second delivery).
  std::vector<std::uint64_t> admit(std::vector<QueueRecord> records) {
    std::vector<std::uint64_t> ids(records.size(), 0);
    std::vector<Flight*> admitted;
    for (std::size_t i = 0; i < records.size(); ++i) {
      QueueRecord& rec = records[i];
      if (!rec.receipt.empty() && receipts_.contains(rec.receipt)) {
        emit_plain("duplicate_delivery", rec.id, "already held", Level::info);
        continue;
      }
      auto owned = std::make_unique<Flight>();
      Flight& f = *owned;
      f.id = next_flight_++;
      ids[i] = f.id;
      f.record = std::move(rec);
      f.since = now();
      flights_.emplace(f.id, std::move(owned));
      ++stats_.admitted;
      auto decoded = decode(f.record.body, opt_.limits);
      if (!decoded) {
        const std::string why = detail::errors_json(decoded.error());
        emit("invalid", f, {}, why, Level::warn);
        if (opt_.observer) opt_.observer->received(std::nullopt);
        dead_letter(f, why, ReasonClass::invalid);
        continue;
      }
      f.request = std::move(*decoded);
      f.request_id = f.request->id.empty() ? f.record.id : f.request->id;
      f.trace = trace_id_of(f.request->traceparent);
      // Producer ids and queue ids live in separate key spaces. A record with neither
      // has no idempotency across its redeliveries: its keys are unique to this flight.
      f.keyed = !f.request->id.empty() || !f.record.id.empty();
      f.key_id = !f.request->id.empty() ? "e:" + f.request->id
                 : !f.record.id.empty() ? "q:" + f.record.id
                                        : "n:" + std::to_string(f.id);
      emit("received", f, {}, {}, Level::debug);
      if (opt_.observer) opt_.observer->received(f.request->type());
      if (f.request->sendAt && held_until_send_at(f)) continue;
      admitted.push_back(&f);
    }
    for (std::uint64_t id : ids)  // copies within one batch are twins, not second deliveries
      if (auto it = flights_.find(id); id != 0 && it != flights_.end() && !it->second->record.receipt.empty())
        receipts_.insert(it->second->record.receipt);
    if (admitted.empty()) return ids;
    plan_and_check(admitted);
    return ids;
  }

  /// Submits what may go, waits up to `wait` for answers (less when something else falls
  /// due), handles them, and decides the records that are complete.
  void step(std::chrono::milliseconds wait) {
    submit_due();
    std::vector<PushDone>& answers = answers_;
    answers.clear();
    auto& provider = this->provider();
    if (provider.in_flight() > 0) {
      provider.poll(bounded_wait(wait), answers);
    } else if (wait.count() > 0 && (!later_.empty() || waiting_for_pause())) {
      if (opt_.clock) return finish();  // a test's clock: time moves when the test says
      std::this_thread::sleep_for(bounded_wait(wait));
    }
    if (!answers.empty()) {
      answer_all(answers);
      // The answers freed room: what may go now is put on the wire before finish() and
      // the caller turns to the stores and the queue, so the provider is not left idle
      // through those round trips. (A synchronous provider sends it here, as the next
      // step would have.)
      const std::uint64_t submitted = stats_.pushes_submitted;
      submit_due();
      if (stats_.pushes_submitted != submitted) {
        answers.clear();
        provider.poll(std::chrono::milliseconds(0), answers);
        answer_all(answers);
      }
    }
    finish();
  }

  /// Stops holding pushes: those waiting through an outage or throttling are given back
  /// (their records retried without counting), and so are FIFO records still waiting for
  /// an earlier one. Pushes already submitted are still answered.
  void give_back(std::string_view why) {
    hold_ = false;
    std::vector<std::uint64_t> tags;
    for (auto& [due, tag] : later_) tags.push_back(tag);
    later_.clear();
    for (Lane& l : lanes_) {
      std::deque<std::uint64_t> ready;
      for (std::uint64_t tag : l.ready) {
        auto it = slots_.find(tag);
        if (it != slots_.end() && it->second.held) tags.push_back(tag);
        else ready.push_back(tag);
      }
      l.ready = std::move(ready);
    }
    for (std::uint64_t tag : tags) unsent(tag, std::string(why), true);
    std::vector<std::uint64_t> gated;
    for (auto& [id, f] : flights_)
      if (f->gated && !f->decided) gated.push_back(id);
    std::sort(gated.begin(), gated.end());
    for (std::uint64_t id : gated)
      if (auto it = flights_.find(id); it != flights_.end()) gate_out(*it->second, std::string(why));
    finish();
  }

  /// Asks before a FIFO record waiting for an earlier one of its group is started: when
  /// `allowed` says no, it and the rest of its group are handed back unprocessed (a retry
  /// at once, as an outage) with `why`. A driver with a deadline (the Lambda runtime)
  /// uses it not to start what it cannot finish. Empty: always allowed.
  void check_starts(std::function<bool()> allowed, std::string why = {}) {
    start_allowed_ = std::move(allowed);
    not_started_why_ = std::move(why);
  }

  /// The records decided since the last call, oldest admission first.
  std::vector<Decided> take_decided() { return std::exchange(decided_, {}); }

  /// Records held (admitted and not yet decided).
  std::size_t held() const noexcept { return flights_.size(); }
  bool idle() const noexcept { return flights_.empty() && decided_.empty(); }
  /// Room for more records: within the records in flight, and as many as the pushes room
  /// holds at the pushes per record seen lately (at least one while there is push room).
  std::size_t room() const noexcept {
    if (slots_.size() >= opt_.max_pushes_queued || flights_.size() >= opt_.max_records_in_flight) return 0;
    const std::size_t records = opt_.max_records_in_flight - flights_.size();
    const std::size_t per_record = (pushes_per_record_ + fixed_one - 1) / fixed_one;
    if (per_record <= 1) return records;
    return std::min(records, std::max<std::size_t>(1, (opt_.max_pushes_queued - slots_.size()) / per_record));
  }
  /// Pushes submitted to the provider and not yet answered.
  std::size_t pushes_in_flight() { return provider().in_flight(); }
  /// Pushes lined up: submitted, or waiting for their turn, a device or the provider.
  std::size_t pushes_queued() const noexcept { return slots_.size(); }

  /// The circuit breaker's state: closed (sending), open (paused after a provider-wide
  /// failure or throttling) or half-open (the pause is over; one probe push at a time).
  /// Each service has its own breaker (see Lane); without an argument, the worst of them.
  enum class Circuit : std::uint8_t { closed, half_open, open };
  Circuit circuit() const {
    Circuit worst = Circuit::closed;
    for (std::size_t s = 0; s < service_count; ++s) worst = std::max(worst, circuit(static_cast<PushService>(s)));
    return worst;
  }
  Circuit circuit(PushService service) const {
    const Lane& l = lanes_[static_cast<std::size_t>(service)];
    if (!l.half_open) return Circuit::closed;
    return now() < l.paused_until ? Circuit::open : Circuit::half_open;
  }
  /// Why a circuit opened last ("service: the provider's answer"); empty before any pause.
  const std::string& pause_reason() const noexcept { return pause_reason_; }

  /// Whether pushes are waiting for a provider (a pause, a throttled device, the window).
  bool backlogged() const noexcept {
    return !later_.empty() || std::any_of(lanes_.begin(), lanes_.end(), [](const Lane& l) { return !l.ready.empty(); });
  }

  /// The records whose leases should be kept alive.
  std::vector<const QueueRecord*> leased() const {
    std::vector<const QueueRecord*> out;
    out.reserve(flights_.size());
    for (const auto& [id, f] : flights_)
      if (!f->decided && !f->lost) out.push_back(&f->record);
    return out;
  }

  /// The queue says another worker took this record over: stop working on it, and never
  /// decide it here. Pushes already submitted are still answered (and remembered).
  void lost(const QueueRecord* record) {
    for (auto& entry : flights_) {
      Flight& f = *entry.second;
      if (&f.record != record || f.lost) continue;
      f.lost = true;
      emit("lease_lost", f, {}, {}, Level::warn);
      const std::uint64_t id = f.id;
      for (Lane& l : lanes_) std::erase_if(l.ready, [&](std::uint64_t tag) { return drop_slot_of(tag, id); });
      std::erase_if(later_, [&](const auto& e) { return drop_slot_of(e.second, id); });
      for (std::uint64_t tag : f.parked) drop_slot_of(tag, id);
      f.parked.clear();
    }
    finish();
  }

  /// Writes the markers waiting to be written now.
  void flush_markers() { remember(); }

  /// A credentials or configuration error: the worker must stop.
  const std::optional<Error>& fatal() const noexcept { return fatal_; }
  void clear_fatal() noexcept { fatal_.reset(); }

  const PipelineStats& stats() noexcept {
    // The narrowest window of the services used so far (one service: its own).
    stats_.window = 0;
    for (const Lane& l : lanes_)
      if (l.used && (stats_.window == 0 || l.window < stats_.window)) stats_.window = l.window;
    if (stats_.window == 0) stats_.window = std::max<std::size_t>(1, opt_.max_pushes_in_flight);
    return stats_;
  }
  const ProcessorOptions& options() const noexcept { return opt_; }

 private:
  /// One service's way out: the pushes that may go now, and its own pacer (a window of
  /// pushes in flight: halved on throttling, widened by an eighth per window of answers)
  /// and circuit breaker (paused after a service-wide failure, then one probe at a time).
  /// An SMTP relay down or SENS throttling never holds up FCM, nor the other way round.
  struct Lane {
    std::deque<std::uint64_t> ready;
    std::size_t in_flight = 0;  // submitted through this service, not yet answered
    bool used = false;          // something was submitted through it
    std::size_t window = 1;
    std::size_t successes = 0;
    Clock::time_point last_decrease{};
    Clock::time_point paused_until{};
    bool half_open = false;
    bool probing = false;
    std::uint64_t probe_tag = 0;
    std::chrono::milliseconds probe_delay{};
    int failures_in_a_row = 0;
    bool several_tokens_failed = false;
    std::string first_failed_token;
  };

  /// A member's deliveries of one message with fallbacks behind them (Message::standby
  /// entries [begin, end)): when every delivery of the current rank ends without reaching
  /// the member, the next rank goes out.
  struct Chain {
    const Message* message = nullptr;
    std::uint32_t begin = 0, end = 0;
    std::uint32_t next = 0;          // the first standby entry not yet released
    std::size_t waiting = 0;         // deliveries of the current rank not yet answered
    bool reached = false;            // one of them reached the member (now or on an earlier delivery)
    bool stopped = false;            // one of them is retried with the record: no fallback now
    std::string failure;             // a permanent failure, reported if no fallback reaches them
    std::vector<std::string> keys;   // the markers of the standby entries, from `begin`
  };
  static constexpr std::uint32_t no_chain = UINT32_MAX;

  /// How a delivery ended, as far as a member's fallbacks care.
  enum class Reach : std::uint8_t { reached, gone, stopped };

  struct Flight {
    std::uint64_t id = 0;
    QueueRecord record;
    std::optional<Request> request;
    std::string request_id;  // for logs: the envelope id, else the queue's id
    std::string_view trace;  // the W3C trace id, in request->traceparent (empty without one)
    std::string key_id;      // the idempotency namespace of this request
    bool keyed = false;      // key_id names the request beyond this flight (ledger in use)
    Plan plan;
    std::string inbox_body;
    std::string inbox_key;  // empty: no inbox records to publish (none, or already published)
    Clock::time_point since;
    std::size_t unanswered = 0;          // pushes not yet decided
    std::vector<std::uint64_t> parked;   // push tags waiting for the FIFO gate
    std::vector<std::uint64_t> owners;   // earlier flights making some of our deliveries
    std::vector<std::uint64_t> dependents;
    Families families;  // its request's, as looked up: the tokens its pushes go to, for cleaning dead ones up
    std::size_t owners_left = 0;
    bool gated = false;    // FIFO: an earlier record of its group is still held
    bool planned = false;  // member lookup and ledger check done
    bool lost = false;     // taken over by another worker: never decided here
    bool decided = false;
    bool pending = false;  // some delivery must be retried
    bool outage = false;   // ... because a service (or our configuration) failed, not this record
    ReasonClass why = ReasonClass::none;  // the class of the outcome's reason, for metrics
    std::chrono::milliseconds retry_after{0};
    std::int64_t defer_until = 0;  // some member's push is deferred until then (Unix ms)
    std::string retry_reason;
    std::string failure;  // a permanent failure of some push
    std::vector<Chain> chains;  // members with fallbacks behind their planned deliveries
    Outcome outcome;
  };

  struct Slot {
    std::uint64_t flight = 0;
    const Message* message = nullptr;
    std::string_view token;
    PushService service = PushService::fcm;
    bool sms_fallback = false;
    std::uint32_t chain = no_chain;  // its member's fallbacks (Flight::chains), if any
    std::string key;     // its marker
    bool claimed = false;  // owns `key` in claims_ (no other flight makes this delivery)
    bool held = false;     // waited through an outage or throttling at least once
    Clock::time_point submitted{};  // when last handed to the provider
  };

  using Adapter = typename detail::AdapterOf<Pusher>::type;
  static Adapter make_adapter(Pusher& p) {
    if constexpr (AsyncPushProvider<Pusher>) return nullptr;
    else return SequentialPushes<Pusher>(p);
  }
  auto& provider() {
    if constexpr (AsyncPushProvider<Pusher>) return pusher_;
    else return adapter_;
  }

  Clock::time_point now() const { return opt_.clock ? opt_.clock() : Clock::now(); }
  std::int64_t wall_now() const { return opt_.wall_clock ? opt_.wall_clock() : unix_now_ms(); }

  // ---- admission ----------------------------------------------------------------------

  void plan_and_check(const std::vector<Flight*>& flights) {
    // Each record's family ids, and all of them for the batch's one lookup.
    std::vector<std::vector<Id>> ids_of(flights.size());
    std::vector<Id> family_ids;
    for (std::size_t i = 0; i < flights.size(); ++i) {
      std::vector<Id>& ids = ids_of[i];
      append_family_ids(*flights[i]->request, ids);
      std::sort(ids.begin(), ids.end());
      ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
      family_ids.insert(family_ids.end(), ids.begin(), ids.end());
    }
    std::sort(family_ids.begin(), family_ids.end());
    family_ids.erase(std::unique(family_ids.begin(), family_ids.end()), family_ids.end());
    auto lookup = store_.families(family_ids);
    if (!lookup) return retry_all(flights, lookup.error());
    for (const Error& e : lookup->problems) emit_plain("member_skipped", e.path, e.message, Level::warn);
    hand_out(flights, ids_of, std::move(lookup->families));

    // Every delivery of these records, and the keys to check in one round trip.
    struct Ref {
      Flight* flight;
      const Message* message;
      Target target;
      std::string key;
      std::uint32_t chain = no_chain;
      bool standby = false;  // a fallback's marker: only asked whether it went out before
    };
    std::vector<Ref> refs;  // no message = the inbox records
    PlanPolicy policy = opt_.plan_policy;
    policy.now_ms = wall_now();
    for (Flight* f : flights) {
      f->plan = plan(*f->request, f->families, policy);
      f->planned = true;
      if (wants(Level::debug))
        emit("planned", *f, {},
             std::to_string(f->plan.push_count()) + " pushes, " + std::to_string(f->plan.inbox_count()) + " inbox",
             Level::debug);
      for (const Skip& skip : f->plan.skipped) on_skipped(*f, skip);
      f->defer_until = f->plan.next_due();
      for (const Message& m : f->plan.messages) {
        const Digest64 content = message_digest(m);
        const std::size_t first_ref = refs.size();
        for (const Target& t : m.targets) refs.push_back({f, &m, t, delivery_key(f->key_id, content, t.token)});
        add_chains(*f, m, content, first_ref, refs);
      }
      if (f->plan.inbox_count() > 0) {
        // The key is the records' without the traceparent: a request sent again with
        // another one (a new publish, a retry through other spans) is the same delivery.
        std::string plain = encode_inbox(f->plan);
        std::string key = inbox_key(f->key_id, plain);
        f->inbox_body = f->request->traceparent.empty() ? std::move(plain) : encode_inbox(f->plan, f->request->traceparent);
        refs.push_back({f, nullptr, Target{{}}, std::move(key)});
      }
    }
    std::vector<bool> seen(refs.size(), false);
    {
      std::vector<std::string> asked;  // the keys of keyed requests, in order (lent by refs)
      std::vector<std::size_t> asked_at;
      for (std::size_t k = 0; k < refs.size(); ++k)
        if (refs[k].flight->keyed) {
          asked.push_back(std::move(refs[k].key));
          asked_at.push_back(k);
        }
      if (!asked.empty()) {
        auto r = ledger_.seen(asked);
        for (std::size_t a = 0; a < asked.size(); ++a) refs[asked_at[a]].key = std::move(asked[a]);
        if (!r) return retry_all(flights, r.error());
        // An answer that does not fit the question cannot say what was sent: trust none of it.
        if (r->size() != asked.size())
          return retry_all(flights, Error{Errc::unavailable,
                                          "idempotency store answered " + std::to_string(r->size()) + " of " +
                                              std::to_string(asked.size()) + " keys",
                                          {}});
        for (std::size_t a = 0; a < asked.size(); ++a) seen[asked_at[a]] = (*r)[a];
      }
    }
    // A fallback that went out on an earlier delivery reached its member: nothing more of
    // theirs goes (their planned pushes had failed then, or a retry would repeat them).
    for (std::size_t k = 0; k < refs.size(); ++k)
      if (refs[k].standby && (seen[k] || unremembered_.contains(refs[k].key)))
        refs[k].flight->chains[refs[k].chain].reached = true;
    for (std::size_t k = 0; k < refs.size(); ++k) {
      Ref& ref = refs[k];
      Flight& f = *ref.flight;
      if (ref.standby) continue;
      if (ref.chain != no_chain && f.chains[ref.chain].reached) {
        emit("already_sent", f, ref.target.token, "reached by a fallback before", Level::debug);
        continue;
      }
      if (seen[k] || unremembered_.contains(ref.key)) {
        if (ref.chain != no_chain) f.chains[ref.chain].reached = true;
        if (ref.message) emit("already_sent", f, ref.target.token, {}, Level::debug);
        continue;
      }
      // A delivery another held flight makes (a request sent twice, same envelope id):
      // only that flight makes it, and this one shares its fate (see decide()).
      if (const std::uint64_t owner = claims_.owner(ref.key); owner != 0 && owner != f.id) {
        depend(f, owner);
        if (ref.message) emit("already_sent", f, ref.target.token, "by an earlier copy", Level::debug);
        continue;
      }
      if (!ref.message) {
        f.inbox_key = std::move(ref.key);
        if (f.keyed) claims_.claim(f.inbox_key, f.id);
        continue;
      }
      f.parked.push_back(add_slot(f, ref.message, ref.target, std::move(ref.key), ref.chain));
    }
    for (Flight* f : flights) {
      // The pushes a record brings, as a moving average (1/8 per record, in 1/256ths).
      const std::size_t pushes = std::min<std::size_t>(f->unanswered, opt_.max_pushes_queued) * fixed_one;
      pushes_per_record_ = std::exchange(planned_any_, true) ? pushes_per_record_ - pushes_per_record_ / 8 + pushes / 8
                                                             : pushes;
      if (!f->record.group.empty()) {
        std::deque<std::uint64_t>& order = groups_[f->record.group];
        f->gated = !order.empty();
        order.push_back(f->id);
      }
      if (!f->gated) release(*f);
    }
  }

  /// Gives each record the families its request names, out of its batch's one lookup:
  /// moved when one record names a family, copied for all but the last when several do.
  /// A record's members then go when it is decided, not when the last of its batch is.
  /// `ids_of[i]`: the family ids flights[i] names, sorted and distinct.
  static void hand_out(const std::vector<Flight*>& flights, const std::vector<std::vector<Id>>& ids_of,
                       Families&& looked_up) {
    std::vector<Family> all = std::move(looked_up).take();  // sorted by family id
    std::vector<std::uint32_t> users(all.size(), 0);
    std::vector<std::vector<std::size_t>> wanted(flights.size());
    for (std::size_t i = 0; i < flights.size(); ++i) {
      for (Id id : ids_of[i]) {
        const auto it = std::lower_bound(all.begin(), all.end(), id, [](const Family& f, Id v) { return f.familyId < v; });
        if (it == all.end() || it->familyId != id) continue;
        const auto at = static_cast<std::size_t>(it - all.begin());
        wanted[i].push_back(at);
        ++users[at];
      }
    }
    for (std::size_t i = 0; i < flights.size(); ++i) {
      std::vector<Family> mine;
      mine.reserve(wanted[i].size());
      for (std::size_t at : wanted[i]) {
        if (--users[at] == 0) mine.push_back(std::move(all[at]));
        else mine.push_back(all[at]);
      }
      flights[i]->families = Families(std::move(mine));
    }
  }

  /// A delivery `f` makes: its slot, claiming its marker (no other flight makes it meanwhile).
  std::uint64_t add_slot(Flight& f, const Message* message, const Target& target, std::string key,
                         std::uint32_t chain) {
    const std::uint64_t tag = next_tag_++;
    Slot& s = slots_[tag];
    s.flight = f.id;
    s.message = message;
    s.token = target.token;
    s.service = target.service;
    s.sms_fallback = target.sms_fallback;
    s.chain = chain;
    if (chain != no_chain) ++f.chains[chain].waiting;
    s.key = std::move(key);
    s.claimed = claims_.claim(s.key, f.id);
    ++f.unanswered;
    return tag;
  }

  void depend(Flight& f, std::uint64_t owner) {
    if (std::find(f.owners.begin(), f.owners.end(), owner) != f.owners.end()) return;
    auto it = flights_.find(owner);
    if (it == flights_.end()) return;
    f.owners.push_back(owner);
    ++f.owners_left;
    it->second->dependents.push_back(f.id);
  }

  /// The record's pushes may go.
  void release(Flight& f) {
    for (std::uint64_t tag : f.parked) enqueue(tag);
    f.parked.clear();
  }

  // ---- sending ------------------------------------------------------------------------

  void submit_due() {
    const auto now = this->now();
    while (!later_.empty() && later_.begin()->first <= now) {
      enqueue(later_.begin()->second);
      later_.erase(later_.begin());
    }
    for (std::size_t service = 0; service < service_count && !fatal_; ++service) submit_due(lanes_[service], now);
    if (fatal_) {  // after a fatal answer nothing more is sent: the rest waits for a worker that can
      for (Lane& l : lanes_)
        for (std::uint64_t tag : std::exchange(l.ready, {})) unsent(tag, "not sent after: " + fatal_->message, true);
      for (auto& [due, tag] : std::exchange(later_, {})) unsent(tag, "not sent after: " + fatal_->message, true);
    }
  }

  /// Submits what may go through one service: not while it is paused or probing, and
  /// within its window.
  void submit_due(Lane& lane, Clock::time_point now) {
    auto& provider = this->provider();
    while (!lane.ready.empty() && !fatal_) {
      if (now < lane.paused_until) return;
      if (lane.probing) return;  // half-open: one push at a time until it is answered
      if (lane.in_flight >= lane.window) return;
      const std::uint64_t tag = lane.ready.front();
      lane.ready.pop_front();
      auto it = slots_.find(tag);
      if (it == slots_.end()) continue;
      Slot& s = it->second;
      if (auto t = throttled_.empty() ? throttled_.end() : throttled_.find(s.token); t != throttled_.end()) {
        if (t->second > now) {
          if (hold_) later_.emplace(t->second, tag);
          else unsent(tag, "device throttled", true, t->second - now);
          continue;
        }
        throttled_.erase(t);
      }
      if (lane.half_open) {
        lane.probing = true;
        lane.probe_tag = tag;
      }
      s.submitted = now;
      ++lane.in_flight;
      lane.used = true;
      provider.submit(Push{s.message, s.token, s.service, s.sms_fallback}, tag);
      ++stats_.pushes_submitted;
    }
  }

  /// The push may go, through its service's lane (`first`: ahead of those waiting).
  void enqueue(std::uint64_t tag, bool first = false) {
    auto it = slots_.find(tag);
    if (it == slots_.end()) return;
    auto& ready = lane(it->second.service).ready;
    if (first) ready.push_front(tag);
    else ready.push_back(tag);
  }

  Lane& lane(PushService s) noexcept { return lanes_[static_cast<std::size_t>(s)]; }

  /// Whether pushes wait for a paused service.
  bool waiting_for_pause() const {
    const auto now = this->now();
    return std::any_of(lanes_.begin(), lanes_.end(), [&](const Lane& l) { return !l.ready.empty() && now < l.paused_until; });
  }

  std::chrono::milliseconds bounded_wait(std::chrono::milliseconds wait) const {
    auto w = wait;
    const auto now = this->now();
    auto until = [&](Clock::time_point t) {
      w = std::min(w, std::max(std::chrono::milliseconds(0), std::chrono::ceil<std::chrono::milliseconds>(t - now)));
    };
    if (!markers_.empty()) until(markers_since_ + opt_.marker_interval);
    if (!later_.empty()) until(later_.begin()->first);
    for (const Lane& l : lanes_)
      if (!l.ready.empty() && now < l.paused_until) until(l.paused_until);
    return w;
  }

  /// The answers of one poll, with one clock reading: they came in together.
  void answer_all(std::vector<PushDone>& answers) {
    if (answers.empty()) return;
    const auto at = now();
    for (PushDone& d : answers) answered(d.tag, d.result, at);
  }

  /// A push answered.
  void answered(std::uint64_t tag, const PushResult& r, Clock::time_point now) {
    auto it = slots_.find(tag);
    if (it == slots_.end()) return;
    Slot& s = it->second;
    Lane& lane = this->lane(s.service);
    if (lane.in_flight > 0) --lane.in_flight;
    const bool probe = lane.probing && tag == lane.probe_tag;
    if (probe) lane.probing = false;
    auto fit = flights_.find(s.flight);
    if (fit == flights_.end()) {
      slots_.erase(it);
      return;
    }
    Flight& f = *fit->second;
    if (opt_.observer)
      opt_.observer->delivery_answered(s.service, r.status, now - s.submitted, f.trace);
    switch (r.status) {
      case PushStatus::sent:
      case PushStatus::invalid_token:
        on_success(lane, s.service, probe);
        if (r.status == PushStatus::sent) {
          emit("sent", f, s.token, r.detail, Level::debug);
        } else {
          emit("invalid_token", f, s.token, r.detail, Level::info);
          forget_token(f, s.token, r.invalid_since_ms);
        }
        if (f.keyed) add_marker(std::move(s.key), s.claimed);
        else release_claim(s);
        return close_slot(it, f, r.status == PushStatus::sent ? Reach::reached : Reach::gone);
      case PushStatus::failed:
        on_success(lane, s.service, probe);  // the provider answered: it is up
        // Behind a fallback, the failure counts only if no fallback reaches the member.
        (s.chain == no_chain ? f.failure : f.chains[s.chain].failure) = r.detail;
        emit("push_failed", f, s.token, r.detail, Level::warn);
        release_claim(s);
        return close_slot(it, f, Reach::gone);
      case PushStatus::fatal:
        f.pending = true;
        f.outage = true;
        f.retry_reason = r.detail;
        if (!fatal_) fatal_ = Error{Errc::configuration, r.detail, {}};
        emit("push_fatal", f, s.token, r.detail, Level::error);
        release_claim(s);
        return close_slot(it, f);
      case PushStatus::retry:
        break;
    }
    // A retry. It is an outage (never counted against the record) when the provider says
    // so, or when pushes to several devices fail in a row with nothing getting through.
    ++lane.failures_in_a_row;
    if (lane.failures_in_a_row == 1) lane.first_failed_token = std::string(s.token);
    else if (s.token != lane.first_failed_token) lane.several_tokens_failed = true;
    const bool outage = r.outage || (lane.failures_in_a_row >= 2 && lane.several_tokens_failed);
    if (r.scope == RetryScope::token && (r.retry_after.count() > 0 || outage)) {
      auto& until = throttled_[std::string(s.token)];
      until = std::max(until, now + std::max(r.retry_after, opt_.probe_delay));
    }
    if (hold_ && ((outage && r.scope != RetryScope::token) || probe)) trip(lane, s.service, r, probe);
    if (hold_ && outage && !f.lost && now - f.since < opt_.max_hold) {
      s.held = true;
      ++stats_.pushes_held;
      emit("push_held", f, s.token, r.detail, Level::debug);
      lane.ready.push_back(tag);  // submit_due() sends it when the pause, the device and the window allow
      return;
    }
    f.pending = true;
    f.outage |= outage;
    f.retry_after = std::max(f.retry_after, r.retry_after);
    f.retry_reason = r.detail;
    emit("push_retry", f, s.token, r.detail, Level::info);
    release_claim(s);
    close_slot(it, f);
  }

  /// A push that will not be submitted: its record is retried (an outage, or not).
  void unsent(std::uint64_t tag, std::string why, bool outage, Clock::duration wait = {}) {
    auto it = slots_.find(tag);
    if (it == slots_.end()) return;
    auto fit = flights_.find(it->second.flight);
    if (fit == flights_.end()) {
      slots_.erase(it);
      return;
    }
    Flight& f = *fit->second;
    f.pending = true;
    f.outage |= outage;
    f.retry_after = std::max(f.retry_after, std::chrono::ceil<std::chrono::milliseconds>(wait));
    f.retry_reason = std::move(why);
    release_claim(it->second);
    close_slot(it, f);
  }

  /// A delivery is over (answered for good, or handed back with its record).
  void close_slot(typename std::unordered_map<std::uint64_t, Slot>::iterator it, Flight& f,
                  Reach reach = Reach::stopped) {
    const std::uint32_t chain = it->second.chain;
    slots_.erase(it);
    --f.unanswered;
    if (chain == no_chain) return;
    Chain& c = f.chains[chain];
    c.reached |= reach == Reach::reached;
    c.stopped |= reach == Reach::stopped;
    if (--c.waiting == 0 && !c.reached && !c.stopped && !f.lost) fall_back(f, chain);
  }

  // ---- fallbacks ------------------------------------------------------------------------

  /// The member fallbacks of message `m` (see Message::standby), and the refs of their
  /// markers; ties the refs of the members' planned deliveries (from `first_ref`) to them.
  void add_chains(Flight& f, const Message& m, Digest64 content, std::size_t first_ref, auto& refs) {
    const auto& standby = m.standby;
    for (std::uint32_t b = 0; b < standby.size();) {
      std::uint32_t e = b + 1;
      while (e < standby.size() && standby[e].first == standby[b].first) ++e;
      const auto index = static_cast<std::uint32_t>(f.chains.size());
      Chain& c = f.chains.emplace_back();
      c.message = &m;
      c.begin = c.next = b;
      c.end = e;
      for (std::uint32_t k = b; k < e; ++k) {
        c.keys.push_back(delivery_key(f.key_id, content, standby[k].target.token));
        if (f.keyed) refs.push_back({&f, &m, standby[k].target, c.keys.back(), index, true});
      }
      for (std::uint32_t t = standby[b].first; t < standby[b].last && first_ref + t < refs.size(); ++t)
        refs[first_ref + t].chain = index;
      b = e;
    }
  }

  /// None of the member's deliveries of the current rank reached them: the next rank goes
  /// out, ahead of the pushes waiting (its record is otherwise complete). When no rank is
  /// left, a permanent failure among them decides the record.
  void fall_back(Flight& f, std::uint32_t index) {
    Chain& c = f.chains[index];
    const auto& standby = c.message->standby;
    while (c.next < c.end) {
      const std::uint8_t rank = standby[c.next].rank;
      bool released = false;
      for (; c.next < c.end && standby[c.next].rank == rank; ++c.next) {
        const Standby& e = standby[c.next];
        std::string& key = c.keys[c.next - c.begin];
        // Already stored, or being made by a copy of this request: it reaches the member.
        if (unremembered_.contains(key) || claims_.contains(key)) {
          c.reached = true;
          continue;
        }
        enqueue(add_slot(f, c.message, e.target, std::move(key), index), true);
        released = true;
        emit("fallback", f, e.target.token, std::string("to ") + std::string(to_string(channel_of(e.target.service))),
             Level::info);
      }
      if (released || c.reached) return;
    }
    if (!c.reached && !c.failure.empty() && f.failure.empty()) f.failure = std::move(c.failure);
  }

  bool drop_slot_of(std::uint64_t tag, std::uint64_t flight) {
    auto it = slots_.find(tag);
    if (it == slots_.end() || it->second.flight != flight) return false;
    release_claim(it->second);
    auto fit = flights_.find(flight);
    if (fit != flights_.end()) --fit->second->unanswered;
    slots_.erase(it);
    return true;
  }

  void release_claim(const Slot& s) {
    if (!s.claimed) return;
    claims_.release(s.key, s.flight);
  }

  // ---- pacing and the circuit breaker ---------------------------------------------------

  void on_success(Lane& lane, PushService service, bool probe) {
    lane.failures_in_a_row = 0;
    lane.several_tokens_failed = false;
    if (probe || lane.half_open) {
      lane.half_open = false;
      lane.probe_delay = opt_.probe_delay;
      emit_plain("provider_resumed", {}, to_string(service), Level::info);
    }
    // Additive increase: a window's worth of answers raises the window by an eighth.
    if (lane.window < opt_.max_pushes_in_flight && ++lane.successes >= lane.window) {
      lane.successes = 0;
      lane.window = std::min(opt_.max_pushes_in_flight, lane.window + std::max<std::size_t>(1, lane.window / 8));
    }
  }

  /// A service as a whole is failing or throttling: pause it, then probe with one push.
  /// The other services go on.
  void trip(Lane& lane, PushService service, const PushResult& r, bool probe_failed) {
    const auto now = this->now();
    if (r.status == PushStatus::retry && r.outage && r.retry_after.count() > 0 &&
        now - lane.last_decrease > std::chrono::milliseconds(100)) {
      lane.window = std::max<std::size_t>(1, lane.window / 2);  // multiplicative decrease on throttling
      lane.successes = 0;
      lane.last_decrease = now;
    }
    if (now < lane.paused_until && !probe_failed) return;  // already paused
    const auto pause = std::max(r.retry_after, lane.probe_delay);
    if (probe_failed || !lane.half_open) lane.probe_delay = std::min(opt_.max_probe_delay, lane.probe_delay * 2);
    lane.paused_until = now + pause;
    lane.half_open = true;
    pause_reason_ = std::string(to_string(service)) + ": " + r.detail;
    ++stats_.breaker_trips;
    emit_plain("provider_paused", {}, pause_reason_, Level::warn);
  }

  // ---- deciding -------------------------------------------------------------------------

  /// Publishes the inbox records of records whose pushes are all answered, writes the
  /// markers due, and decides every record that is complete.
  void finish() {
    std::vector<Flight*> complete;
    for (auto& [id, f] : flights_)
      if (!f->decided && f->planned && !f->gated && f->unanswered == 0 && f->parked.empty()) complete.push_back(f.get());
    std::sort(complete.begin(), complete.end(), [](const Flight* a, const Flight* b) { return a->id < b->id; });
    // Push markers go in before the inbox, so a crash there repeats no push.
    if (!markers_.empty() && std::any_of(complete.begin(), complete.end(), [](const Flight* f) { return !f->inbox_key.empty(); }))
      remember();
    publish_inbox(complete);
    if (!complete.empty() || markers_.size() >= opt_.marker_batch ||
        (!markers_.empty() && now() - markers_since_ >= opt_.marker_interval))
      remember();
    std::vector<std::uint64_t> ids;
    for (const Flight* f : complete) ids.push_back(f->id);
    for (std::uint64_t id : ids) {  // deciding one may decide (and free) its copies too
      auto it = flights_.find(id);
      if (it == flights_.end()) continue;
      Flight& f = *it->second;
      if (!f.decided && f.owners_left == 0 && !f.lost) decide(f);
    }
    // Lost flights whose pushes are answered are dropped: their copies cannot count on
    // them (they retry, uncounted), and the later records of their group go back too.
    std::vector<std::uint64_t> gone;
    for (const auto& entry : flights_)
      if (entry.second->lost && entry.second->unanswered == 0) gone.push_back(entry.first);
    std::sort(gone.begin(), gone.end());
    for (std::uint64_t id : gone) drop_lost(id);
  }

  void publish_inbox(const std::vector<Flight*>& complete) {
    std::vector<std::string> bodies;
    std::vector<Flight*> whose;
    for (Flight* f : complete)
      if (!f->inbox_key.empty() && !f->lost) {
        bodies.push_back(f->inbox_body);
        whose.push_back(f);
      }
    if (bodies.empty()) return;
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
    for (std::size_t i = 0; i < whose.size(); ++i) {
      Flight& f = *whose[i];
      const Result<void>& r = each[i];
      if (r) {
        emit("inbox_published", f, {}, {}, Level::debug);
        if (opt_.observer) opt_.observer->inbox_published(f.plan.inbox_count());
        if (f.keyed) add_marker(std::move(f.inbox_key), true);
        else claims_.release(f.inbox_key);
      } else if (refused(r)) {
        f.failure += (f.failure.empty() ? "inbox: " : "; inbox: ") + r.error().message;
        emit("inbox_refused", f, {}, r.error().message, Level::warn);
        claims_.release(f.inbox_key);
      } else {
        f.pending = true;
        f.outage = true;
        f.retry_reason = "inbox: " + r.error().message;
        emit("inbox_retry", f, {}, r.error().message, Level::warn);
        claims_.release(f.inbox_key);
      }
      f.inbox_key.clear();
    }
  }

  void add_marker(std::string key, bool claimed) {
    if (markers_.empty()) markers_since_ = now();
    markers_.push_back({std::move(key), claimed});
  }

  /// Stores the markers waiting in one round trip. Markers the ledger could not take are
  /// kept here (and count as seen) until a later write stores them, so a retried record
  /// never repeats a push meanwhile.
  void remember() {
    if (markers_.empty() && unremembered_.empty()) return;
    // Stored, or kept as seen here below: no flight needs to own these deliveries any more.
    std::vector<std::string>& keys = marker_keys_;
    keys.clear();
    keys.reserve(markers_.size() + unremembered_.size());
    for (Marker& m : markers_) {
      if (m.claimed) claims_.release(m.key);
      keys.push_back(std::move(m.key));
    }
    markers_.clear();
    const std::size_t fresh = keys.size();
    keys.insert(keys.end(), unremembered_.begin(), unremembered_.end());
    ++stats_.marker_writes;
    if (auto r = ledger_.remember(keys, opt_.idempotency_ttl)) {
      unremembered_.clear();
    } else {
      emit_plain("ledger_error", {}, r.error().message, Level::warn);
      for (std::size_t k = 0; k < fresh && unremembered_.size() < max_unremembered; ++k)
        unremembered_.insert(std::move(keys[k]));
    }
    keys.clear();
  }

  void decide(Flight& f) {
    if (f.pending) schedule_retry(f, f.retry_reason);
    else if (f.failure.starts_with("inbox: "))
      dead_letter(f, f.failure, ReasonClass::inbox_refused);
    else if (!f.failure.empty())
      dead_letter(f, "push failed: " + f.failure, ReasonClass::push_failed);
    else if (f.defer_until != 0)
      defer(f, f.defer_until, "pushes deferred until " + format_rfc3339(f.defer_until));
    else {
      f.outcome = {Disposition::done, {}, {}};
      emit("done", f);
      settle_flight(f);
    }
  }

  /// An outage (a service down, or our own configuration) never dead-letters a record:
  /// only its own failures count toward max_deliveries, not the deliveries the queue
  /// reports as earlier outages (QueueRecord::outages).
  void schedule_retry(Flight& f, const std::string& reason) {
    const int own = f.record.receive_count - std::max(f.record.outages, 0);
    if (!f.outage && own >= opt_.max_deliveries) {
      std::string why = "gave up after " + std::to_string(own) + " deliveries";
      if (f.record.outages > 0) why += " (and " + std::to_string(f.record.outages) + " in outages)";
      return dead_letter(f, why + ": " + reason, ReasonClass::max_deliveries);
    }
    f.outcome = {Disposition::retry, std::max(opt_.backoff(f.record.receive_count, jitter_.next()), f.retry_after),
                 reason, f.outage};
    f.why = f.outage ? ReasonClass::outage : ReasonClass::failure;
    emit_retry(f, reason);
    settle_flight(f);
  }

  /// Brings the record back at `until` (Unix ms): a retry that never counts toward
  /// dead-lettering. Its deliveries made so far are remembered, so only the deferred go then.
  void defer(Flight& f, std::int64_t until, std::string reason) {
    const auto delay = std::chrono::milliseconds(std::max<std::int64_t>(until - wall_now(), 1));
    f.outcome = {Disposition::retry, delay, std::move(reason), true};
    f.why = ReasonClass::deferred;
    emit("deferred", f, {}, f.outcome.reason, Level::info);
    settle_flight(f);
  }

  /// A request to send later: true when it is held (retried at its sendAt) or refused
  /// (too far ahead), false when it is due.
  bool held_until_send_at(Flight& f) {
    const std::int64_t at = *f.request->sendAt, now = wall_now();
    if (at <= now) return false;
    if (at - now > opt_.max_schedule_ahead.count()) {
      dead_letter(f, "sendAt " + format_rfc3339(at) + " is more than " +
                         std::to_string(opt_.max_schedule_ahead.count() / 3'600'000) + " hours ahead",
                  ReasonClass::invalid);
      return true;
    }
    defer(f, at, "scheduled for " + format_rfc3339(at));
    return true;
  }

  void on_skipped(const Flight& f, const Skip& skip) {
    if (opt_.observer) opt_.observer->skipped(f.request->type(), skip.reason);
    if (!wants(Level::info)) return;
    std::string detail = "user:" + std::to_string(skip.userId);
    if (skip.until != 0) detail += " until " + format_rfc3339(skip.until);
    emit(to_string(skip.reason), f, {}, detail, Level::info);
  }

  void dead_letter(Flight& f, std::string reason, ReasonClass why) {
    f.outcome = {Disposition::dead_letter, {}, std::move(reason)};
    f.why = why;
    emit("dead_letter", f, {}, f.outcome.reason, Level::warn);
    settle_flight(f);
  }

  /// The record is decided: hand it out, let its copies and its FIFO group go on.
  void settle_flight(Flight& f) {
    f.decided = true;
    ++stats_.decided;
    if (opt_.observer)
      opt_.observer->decided(f.request ? std::optional(f.request->type()) : std::nullopt, f.outcome.disposition, f.why,
                             f.record.sent_at_ms, f.trace);
    const bool retried = f.outcome.disposition == Disposition::retry;
    // Copies whose deliveries this one made share its fate: they are not acked while it
    // still has to retry.
    for (std::uint64_t d : f.dependents) {
      auto it = flights_.find(d);
      if (it == flights_.end()) continue;
      Flight& twin = *it->second;
      if (retried) {
        if (!twin.pending) twin.retry_reason = f.retry_reason.empty() ? f.outcome.reason : f.retry_reason;
        twin.pending = true;
        twin.outage |= f.outage;
        twin.retry_after = std::max(twin.retry_after, f.retry_after);
      }
      if (twin.owners_left > 0) --twin.owners_left;
    }
    forget_flight(f);
    const std::uint64_t id = f.id;
    const std::string group = f.record.group;
    const bool had_dependents = !f.dependents.empty();
    decided_.push_back({std::move(f.record), std::move(f.outcome), id});
    flights_.erase(id);
    if (!group.empty()) next_of_group(group, id, retried);
    if (had_dependents) decide_free_copies();
  }

  /// Decides the copies that were only waiting for the records they depended on.
  void decide_free_copies() {
    for (;;) {
      Flight* next = nullptr;
      for (auto& [fid, other] : flights_)
        if (!other->decided && other->planned && !other->gated && other->owners_left == 0 && other->unanswered == 0 &&
            other->parked.empty() && other->inbox_key.empty() && !other->lost && !other->owners.empty()) {
          next = other.get();
          break;
        }
      if (!next) break;
      next->owners.clear();
      decide(*next);
    }
  }

  void drop_lost(std::uint64_t id) {
    auto it = flights_.find(id);
    if (it == flights_.end()) return;
    Flight& f = *it->second;
    for (std::uint64_t d : f.dependents) {
      auto dep = flights_.find(d);
      if (dep == flights_.end()) continue;
      Flight& twin = *dep->second;
      if (!twin.pending) twin.retry_reason = "an earlier copy was taken over by another worker";
      twin.pending = true;
      twin.outage = true;
      if (twin.owners_left > 0) --twin.owners_left;
    }
    const std::string group = f.record.group;
    const bool had_dependents = !f.dependents.empty();
    forget_flight(f);
    flights_.erase(it);
    if (!group.empty()) next_of_group(group, id, true);
    if (had_dependents) decide_free_copies();
  }

  /// The group's next record may go; after a retry, the later records of the group come
  /// back right after it (an outage: not their own failure), so none overtakes it.
  void next_of_group(const std::string& group, std::uint64_t id, bool retried) {
    auto it = groups_.find(group);
    if (it == groups_.end()) return;
    std::deque<std::uint64_t>& order = it->second;
    const auto at = std::find(order.begin(), order.end(), id);
    if (at == order.end()) return;
    const std::vector<std::uint64_t> later(std::next(at), order.end());
    order.erase(at);
    if (retried) {
      for (std::uint64_t next : later) {
        auto f = flights_.find(next);
        if (f != flights_.end()) gate_out(*f->second, "an earlier request of its group " + group + " is retried first");
      }
    } else if (!order.empty()) {
      auto f = flights_.find(order.front());
      if (f != flights_.end() && f->second->gated) {
        if (start_allowed_ && !start_allowed_()) {
          gate_out(*f->second, not_started_why_);  // and, through its retry, the rest of the group
        } else {
          f->second->gated = false;
          release(*f->second);
        }
      }
    }
    if (auto again = groups_.find(group); again != groups_.end() && again->second.empty()) groups_.erase(again);
  }


  /// A FIFO record that waited for an earlier one and is handed back unprocessed.
  void gate_out(Flight& f, std::string why) {
    if (!f.gated || f.decided) return;  // let go meanwhile (its group moved on), or decided
    for (std::uint64_t tag : f.parked) {
      auto it = slots_.find(tag);
      if (it == slots_.end()) continue;
      release_claim(it->second);
      slots_.erase(it);
      --f.unanswered;
    }
    f.parked.clear();
    if (!f.inbox_key.empty()) claims_.release(f.inbox_key);
    f.inbox_key.clear();
    f.gated = false;
    f.outcome = Outcome{Disposition::retry, std::chrono::milliseconds(0), std::move(why), true};
    f.why = ReasonClass::outage;
    emit_retry(f, f.outcome.reason);
    settle_flight(f);
  }

  void forget_flight(const Flight& f) {
    if (!f.record.receipt.empty()) receipts_.erase(f.record.receipt);
    if (!f.inbox_key.empty()) claims_.release(f.inbox_key, f.id);
  }

  /// Services failed for these records: every one is retried as an outage.
  void retry_all(const std::vector<Flight*>& flights, const Error& e) {
    if (!is_transient(e.code) && !fatal_) fatal_ = e;
    for (Flight* f : flights) {
      f->planned = true;
      f->outage = true;
      f->pending = true;
      schedule_retry(*f, e.message);
    }
  }

  /// Removes a dead token from the members holding it, unless the device was registered
  /// after the provider saw the token die (`since`, Unix ms; 0 unknown): the app
  /// registered it again meanwhile. The store removes it only if the device is still
  /// the one looked up (same registeredAt).
  void forget_token(Flight& f, std::string_view token, std::int64_t since) {
    for (const Family& fam : f.families.all())
      for (const Member& m : fam.members) {
        const Device* d = m.device(token);
        if (!d) continue;
        const auto registered = d->registeredAt.empty() ? std::nullopt : parse_rfc3339(d->registeredAt);
        if (since != 0 && registered && *registered > since) {
          emit("token_kept", f, token, "registered after the provider's answer", Level::info);
          continue;
        }
        auto r = store_.remove_token(fam.familyId, m.userId, token, d->registeredAt);
        if (!r) emit("token_cleanup_failed", f, token, r.error().message, Level::warn);
      }
  }

  // ---- events -------------------------------------------------------------------------

  bool wants(Level level) const noexcept { return events_ && level >= opt_.log_level; }

  /// The record's event of `step`: its request id, type and trace.
  static Event event_of(const Flight& f, std::string_view step, std::string_view detail, Level level) {
    Event e{step, f.request_id.empty() ? std::string_view(f.record.id) : std::string_view(f.request_id),
            f.request ? to_string(f.request->type()) : std::string_view{}, {}, detail, level};
    e.trace = f.trace;
    return e;
  }
  void emit(std::string_view step, const Flight& f, std::string_view token = {}, std::string_view detail = {},
            Level level = Level::info) {
    if (!wants(level)) return;
    const std::string shortened = token.empty() ? std::string() : short_token(token);
    Event e = event_of(f, step, detail, level);
    e.token = shortened;
    events_(e);
  }
  /// "retry" with the delivery it ends and the delay chosen.
  void emit_retry(const Flight& f, std::string_view reason) {
    if (!wants(Level::info)) return;
    Event e = event_of(f, "retry", reason, Level::info);
    e.attempt = f.record.receive_count;
    e.delay_ms = f.outcome.delay.count();
    events_(e);
  }
  void emit_plain(std::string_view step, std::string_view where, std::string_view detail, Level level) {
    if (wants(level)) events_(Event{step, where, {}, {}, detail, level});
  }

  struct Marker {
    std::string key;
    bool claimed = false;
  };

  Store& store_;
  Pusher& pusher_;
  Adapter adapter_;
  Inbox& inbox_;
  Ledger& ledger_;
  ProcessorOptions opt_;
  EventSink events_;
  std::optional<Error> fatal_;
  bool hold_ = false;

  std::unordered_map<std::uint64_t, std::unique_ptr<Flight>> flights_;
  std::uint64_t next_flight_ = 1;
  std::unordered_set<std::string> receipts_;  // of held records
  std::vector<Decided> decided_;
  std::function<bool()> start_allowed_;  // see check_starts()
  std::string not_started_why_;
  std::unordered_map<std::string, std::deque<std::uint64_t>> groups_;  // FIFO group -> held flights in order

  static constexpr std::size_t fixed_one = 256;
  std::size_t pushes_per_record_ = 0;  // moving average, in 1/fixed_one
  bool planned_any_ = false;
  std::unordered_map<std::uint64_t, Slot> slots_;  // by tag
  std::uint64_t next_tag_ = 1;
  std::multimap<Clock::time_point, std::uint64_t> later_;  // waiting for a throttled device
  std::vector<PushDone> answers_;
  detail::Claims claims_;  // delivery key -> the flight making it

  std::vector<Marker> markers_;  // answered deliveries whose markers are not written yet
  std::vector<std::string> marker_keys_;  // remember()'s, kept for its capacity
  Clock::time_point markers_since_{};
  static constexpr std::size_t max_unremembered = 100000;
  std::unordered_set<std::string> unremembered_;

  // pacing and breaking, per service
  std::array<Lane, service_count> lanes_;
  std::string pause_reason_;
  std::unordered_map<std::string, Clock::time_point, detail::StringHash, std::equal_to<>> throttled_;  // device -> Retry-After

  Jitter jitter_;
  PipelineStats stats_;
};

}  // namespace notify
