// SPDX-License-Identifier: MIT
#pragma once

/// In-memory implementations of every transport concept, with fault injection (fail the
/// Nth call, fail given tokens, add delay). For unit and fault-injection tests and the
/// offline demo; never a substitute for the integration tests on real services.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "notify/members.hpp"
#include "notify/plan.hpp"
#include "notify/transport.hpp"

namespace notify::memory {

using Clock = std::chrono::steady_clock;

/// Makes chosen calls fail: by call number (1-based), always, and with a delay first.
class Faults {
 public:
  /// Call number `n` (counting every call from 1) fails with `code`.
  void fail_call(std::size_t n, Errc code = Errc::unavailable) { calls_to_fail_[n] = code; }
  /// Every call from now on fails with `code` until clear().
  void fail_always(Errc code = Errc::unavailable) { always_ = code; }
  void delay(std::chrono::milliseconds d) { delay_ = d; }
  void clear() {
    calls_to_fail_.clear();
    always_.reset();
    delay_ = {};
  }
  std::size_t calls() const noexcept { return calls_; }

  /// Counts a call and says whether it must fail.
  Result<void> enter(std::string_view what) {
    ++calls_;
    if (delay_.count() > 0) std::this_thread::sleep_for(delay_);
    if (always_) return Error{*always_, std::string(what) + ": injected failure", {}};
    if (auto it = calls_to_fail_.find(calls_); it != calls_to_fail_.end())
      return Error{it->second, std::string(what) + ": injected failure of call " + std::to_string(calls_), {}};
    return {};
  }

 private:
  std::map<std::size_t, Errc> calls_to_fail_;
  std::optional<Errc> always_;
  std::chrono::milliseconds delay_{0};
  std::size_t calls_ = 0;
};

/// A queue with visibility (renewed by keep_alive), delayed redelivery, receive counts
/// (and how many deliveries ended in an outage retry) and a dead-letter list.
class Queue {
 public:
  struct DeadLetter {
    QueueRecord record;
    std::string reason;
  };

  Faults faults;

  /// A received record not settled within this time comes back, as on SQS or after
  /// XAUTOCLAIM. Zero (the default) keeps it in flight until redeliver_unsettled().
  std::chrono::milliseconds visibility_timeout{0};

  /// Records are named id_prefix + 1, 2, ... ("m1", "m2", ... by default). A queue loaded
  /// afresh by each run of a program wants a prefix of its own per run: the ids key the
  /// idempotency markers, which may outlive the run (a Redis member store keeps them).
  std::string id_prefix = "m";

  /// Producer side.
  Result<void> send(std::span<const std::string> bodies) {
    if (auto r = faults.enter("send"); !r) return r;
    std::lock_guard lock(mu_);
    for (const std::string& b : bodies) {
      Entry e;
      e.id = id_prefix + std::to_string(++next_id_);
      e.body = b;
      e.sent_at_ms = unix_now_ms();
      ready_.push_back(std::move(e));
    }
    return {};
  }
  Result<void> send(std::string body) { return send(std::span<const std::string>(&body, 1)); }

  Result<std::vector<QueueRecord>> receive(std::size_t max, std::chrono::milliseconds wait) {
    if (auto r = faults.enter("receive"); !r) return r.error();
    const auto deadline = Clock::now() + wait;
    std::vector<QueueRecord> out;
    for (;;) {
      {
        std::lock_guard lock(mu_);
        promote_delayed();
        while (!ready_.empty() && out.size() < max) {
          Entry e = std::move(ready_.front());
          ready_.pop_front();
          ++e.receive_count;
          const std::string receipt = "r" + std::to_string(++next_receipt_);
          out.push_back(QueueRecord{e.id, receipt, e.body, e.receive_count, e.sent_at_ms, {}, e.outages});
          e.received = Clock::now();
          e.visible_again = visibility_timeout.count() > 0 ? e.received + visibility_timeout : Clock::time_point::max();
          in_flight_.emplace(receipt, std::move(e));
        }
        if (!out.empty() || Clock::now() >= deadline) return out;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }

  Result<void> settle(std::span<const Settlement> settlements) {
    if (auto r = faults.enter("settle"); !r) return r;
    std::lock_guard lock(mu_);
    for (const Settlement& s : settlements) {
      auto it = in_flight_.find(s.record->receipt);
      if (it == in_flight_.end()) continue;  // a stale receipt: the record was already redelivered
      Entry e = std::move(it->second);
      in_flight_.erase(it);
      switch (s.outcome.disposition) {
        case Disposition::done: ++acked_; break;
        case Disposition::retry:
          e.outages += s.outcome.outage ? 1 : 0;
          delayed_.emplace(Clock::now() + s.outcome.delay, std::move(e));
          break;
        case Disposition::dead_letter:
          dead_.push_back({QueueRecord{e.id, {}, e.body, e.receive_count, e.sent_at_ms, {}, e.outages}, s.outcome.reason});
          break;
      }
    }
    return {};
  }

  /// Per record: true while it is in flight under this receipt, and then it stays hidden
  /// for another visibility_timeout; false once it was settled, its visibility ended
  /// (whether or not another receive took it since), or redeliver_unsettled() ran.
  Result<std::vector<bool>> keep_alive(std::span<const QueueRecord* const> records) {
    if (auto r = faults.enter("keep_alive"); !r) return r.error();
    std::lock_guard lock(mu_);
    promote_delayed();  // an expired lease is lost even if nobody received the record yet
    std::vector<bool> out;
    out.reserve(records.size());
    for (const QueueRecord* rec : records) {
      auto it = rec == nullptr ? in_flight_.end() : in_flight_.find(rec->receipt);
      const bool held = it != in_flight_.end();
      if (held && visibility_timeout.count() > 0) it->second.visible_again = Clock::now() + visibility_timeout;
      out.push_back(held);
    }
    ++renewals_;
    return out;
  }
  /// visibility_timeout / 3 (at least 1 ms); a minute when records never become visible again.
  std::chrono::milliseconds lease_interval() const {
    if (visibility_timeout.count() <= 0) return std::chrono::minutes(1);
    return std::max(visibility_timeout / 3, std::chrono::milliseconds(1));
  }
  /// keep_alive() calls that got past the fault injection.
  std::size_t renewals() const {
    std::lock_guard lock(mu_);
    return renewals_;
  }

  /// Records delivered but never settled come back, as after a visibility timeout.
  void redeliver_unsettled() {
    std::lock_guard lock(mu_);
    for (auto& [receipt, e] : in_flight_) ready_.push_back(std::move(e));
    in_flight_.clear();
  }

  /// Records not yet acked or dead-lettered that will come back (in flight or delayed).
  std::size_t pending() const {
    std::lock_guard lock(mu_);
    return in_flight_.size() + delayed_.size();
  }
  /// pending() as the network queues count it, for run_worker's drain (never fails here).
  Result<std::size_t> pending_count() const { return pending(); }
  /// Everything it knows: depth (ready, and records whose delay or visibility ended),
  /// pending (in flight), delayed, dead, and how long the oldest in flight has been held
  /// since it was received. No consumers: it has no names for them.
  Result<QueueStats> stats() {
    if (auto r = faults.enter("stats"); !r) return r.error();
    std::lock_guard lock(mu_);
    promote_delayed();
    QueueStats out;
    out.depth = static_cast<std::int64_t>(ready_.size());
    out.pending = static_cast<std::int64_t>(in_flight_.size());
    out.delayed = static_cast<std::int64_t>(delayed_.size());
    out.dead = static_cast<std::int64_t>(dead_.size());
    const auto now = Clock::now();
    for (const auto& [receipt, e] : in_flight_)
      out.oldest_pending_ms = std::max<std::int64_t>(
          out.oldest_pending_ms, std::chrono::duration_cast<std::chrono::milliseconds>(now - e.received).count());
    return out;
  }
  std::size_t ready() const {
    std::lock_guard lock(mu_);
    return ready_.size();
  }
  std::size_t acked() const {
    std::lock_guard lock(mu_);
    return acked_;
  }
  std::vector<DeadLetter> dead_letters() const {
    std::lock_guard lock(mu_);
    return dead_;
  }
  /// Bodies waiting to be received, oldest first.
  std::vector<std::string> bodies() const {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const Entry& e : ready_) out.push_back(e.body);
    return out;
  }

 private:
  struct Entry {
    std::string id;
    std::string body;
    int receive_count = 0;
    int outages = 0;  // deliveries settled as an outage retry
    std::int64_t sent_at_ms = 0;
    Clock::time_point received{};  // when its latest delivery began
    Clock::time_point visible_again = Clock::time_point::max();
  };

  void promote_delayed() {
    const auto now = Clock::now();
    for (auto it = in_flight_.begin(); it != in_flight_.end();) {
      if (it->second.visible_again <= now) {
        ready_.push_back(std::move(it->second));
        it = in_flight_.erase(it);
      } else {
        ++it;
      }
    }
    while (!delayed_.empty() && delayed_.begin()->first <= now) {
      ready_.push_back(std::move(delayed_.begin()->second));
      delayed_.erase(delayed_.begin());
    }
  }

  mutable std::mutex mu_;
  std::deque<Entry> ready_;
  std::multimap<Clock::time_point, Entry> delayed_;
  std::unordered_map<std::string, Entry> in_flight_;
  std::vector<DeadLetter> dead_;
  std::size_t acked_ = 0;
  std::size_t renewals_ = 0;
  std::uint64_t next_id_ = 0;
  std::uint64_t next_receipt_ = 0;
};

/// The member store as Redis holds it: family id -> (user field -> stored JSON string).
class MemberStore {
 public:
  Faults faults;

  /// Stores a raw value (possibly malformed, for tests).
  void put_raw(Id familyId, std::string field, std::string value) { data_[familyId][std::move(field)] = std::move(value); }

  Result<FamilyLookup> families(std::span<const Id> ids) {
    if (auto r = faults.enter("families"); !r) return r.error();
    ++round_trips_;
    FamilyLookup out;
    std::vector<Family> found;
    for (Id id : ids) {
      auto it = data_.find(id);
      if (it == data_.end()) continue;
      Family f{id, {}};
      for (const auto& [field, value] : it->second) {
        const auto user = parse_member_field(field);
        if (!user) {
          out.problems.push_back({Errc::invalid_member, "field is not user:<id>", family_key(id) + "." + field});
          continue;
        }
        auto m = parse_member(*user, value);
        if (!m) {
          out.problems.push_back({m.error().code, m.error().message, family_key(id) + "." + field});
          continue;
        }
        f.members.push_back(std::move(*m));
      }
      found.push_back(std::move(f));
    }
    out.families = Families(std::move(found));
    return out;
  }

  Result<void> set_member(Id familyId, const Member& m) {
    if (auto r = faults.enter("set_member"); !r) return r;
    data_[familyId][member_field(m.userId)] = encode_member(m);
    return {};
  }
  Result<void> remove_member(Id familyId, Id userId) {
    if (auto r = faults.enter("remove_member"); !r) return r;
    if (auto it = data_.find(familyId); it != data_.end()) {
      it->second.erase(member_field(userId));
      if (it->second.empty()) data_.erase(it);
    }
    return {};
  }
  Result<void> remove_family(Id familyId) {
    if (auto r = faults.enter("remove_family"); !r) return r;
    data_.erase(familyId);
    return {};
  }
  Result<bool> remove_token(Id familyId, Id userId, std::string_view token, std::string_view registered_at = {}) {
    if (auto r = faults.enter("remove_token"); !r) return r.error();
    auto fam = data_.find(familyId);
    if (fam == data_.end()) return false;
    auto it = fam->second.find(member_field(userId));
    if (it == fam->second.end() || token.empty()) return false;
    auto m = parse_member(userId, it->second);
    if (!m) return false;
    const auto n = std::erase_if(m->devices, [&](const Device& d) {
      return d.token == token && (registered_at.empty() || d.registeredAt == registered_at);
    });
    if (n == 0) return false;
    it->second = encode_member(*m);
    return true;
  }

  /// How many families() calls reached the store.
  std::size_t round_trips() const noexcept { return round_trips_; }

 private:
  std::map<Id, std::map<std::string, std::string>> data_;
  std::size_t round_trips_ = 0;
};

/// A push provider that records every push and fails the tokens it is told to.
class PushProvider {
 public:
  struct Sent {
    std::string token;
    std::string title;
    std::string body;
    std::string screen;
    std::string param;
    PushService service = PushService::fcm;
  };

  Faults faults;

  /// Pushes to `token` answer `status` (with `retry_after`) until cleared.
  void fail_token(std::string token, PushStatus status, std::chrono::milliseconds retry_after = {}) {
    token_faults_[std::move(token)] = {status, retry_after};
  }
  void clear_token(const std::string& token) { token_faults_.erase(token); }
  /// What an injected invalid_token answer says about when the token died (APNs' 410).
  std::int64_t invalid_since_ms = 0;

  std::vector<PushResult> send(std::span<const Push> pushes) {
    std::vector<PushResult> out;
    out.reserve(pushes.size());
    if (auto r = faults.enter("send"); !r) {
      out.assign(pushes.size(), PushResult{PushStatus::retry, {}, r.error().message, true});  // the provider is down
      return out;
    }
    for (const Push& p : pushes) {
      auto it = token_faults_.find(std::string(p.token));
      if (it != token_faults_.end()) {
        PushResult r{it->second.first, it->second.second, "injected " + std::string(to_string(it->second.first))};
        r.invalid_since_ms = invalid_since_ms;
        out.push_back(std::move(r));
        continue;
      }
      sent_.push_back({std::string(p.token), std::string(p.message->title), p.message->body,
                       std::string(to_string(p.message->link.screen)),
                       p.message->link.has_param() ? p.message->link.param_json() : std::string(), p.service});
      out.push_back({PushStatus::sent, {}, "memory/" + std::to_string(sent_.size())});
    }
    return out;
  }

  const std::vector<Sent>& sent() const noexcept { return sent_; }
  /// How many pushes reached `token`.
  std::size_t count(std::string_view token) const {
    std::size_t n = 0;
    for (const Sent& s : sent_) n += s.token == token;
    return n;
  }

 private:
  std::map<std::string, std::pair<PushStatus, std::chrono::milliseconds>> token_faults_;
  std::vector<Sent> sent_;
};

/// An inbox sink that keeps every published body.
class InboxSink {
 public:
  Faults faults;

  Result<void> publish(std::span<const std::string> bodies) {
    if (auto r = faults.enter("publish"); !r) return r;
    published_.insert(published_.end(), bodies.begin(), bodies.end());
    return {};
  }
  const std::vector<std::string>& published() const noexcept { return published_; }

 private:
  std::vector<std::string> published_;
};

/// Delivery markers with a TTL.
class IdempotencyStore {
 public:
  Faults faults;

  Result<std::vector<bool>> seen(std::span<const std::string> keys) {
    if (auto r = faults.enter("seen"); !r) return r.error();
    const auto now = Clock::now();
    std::vector<bool> out;
    out.reserve(keys.size());
    for (const std::string& k : keys) {
      auto it = marks_.find(k);
      out.push_back(it != marks_.end() && it->second > now);
    }
    return out;
  }
  Result<void> remember(std::span<const std::string> keys, std::chrono::seconds ttl) {
    if (auto r = faults.enter("remember"); !r) return r;
    const auto until = Clock::now() + ttl;
    for (const std::string& k : keys) marks_[k] = until;
    return {};
  }
  std::size_t size() const noexcept { return marks_.size(); }

 private:
  std::unordered_map<std::string, Clock::time_point> marks_;
};

static_assert(notify::LeasedQueue<Queue>);
static_assert(notify::MemberStore<MemberStore>);
static_assert(notify::PushProvider<PushProvider>);
static_assert(notify::InboxSink<InboxSink>);
static_assert(notify::IdempotencyStore<IdempotencyStore>);

}  // namespace notify::memory
