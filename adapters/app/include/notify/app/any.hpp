// SPDX-License-Identifier: MIT
#pragma once

/// Type-erased transports: one queue, member store, idempotency store, inbox and push
/// provider type that holds any adapter satisfying the concept, chosen at run time from a
/// URL (see wiring.hpp). Each forwards to the adapter it holds; what an adapter does not
/// offer (dead letters of a memory queue, priorities off Redis) answers an error, or
/// reports itself absent through a `has_*()` query, so the programs need no `#if`.

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "notify/redis/member_store.hpp"
#include "notify/redis/queue.hpp"
#include "notify/transport.hpp"

namespace notify::app {

/// A Redis queue's priority levels (other queues have one level: normal).
using Priority = notify::redis::Priority;

/// What a queue settled, counted by AnyQueue::settle().
struct SettleCounts {
  std::size_t settled = 0, done = 0, retried = 0, dead = 0;
};

/// Any notify::LeasedQueue, plus the administration notifyctl needs (dead letters,
/// redrive, priorities) where the adapter has it. Counts what it settles and calls
/// `on_dead_letter` for each record it dead-letters.
class AnyQueue {
 public:
  /// Holds `queue`; `label` names it in messages when the adapter cannot (memory:FILE).
  template <LeasedQueue Q>
    requires(!std::same_as<std::remove_cvref_t<Q>, AnyQueue>)
  explicit AnyQueue(Q queue, std::string label = {})
      : self_(std::make_unique<Model<Q>>(std::move(queue))), label_(std::move(label)) {}
  /// Builds a Q in place from `args` (for queues that cannot move, such as memory::Queue).
  template <LeasedQueue Q, class... Args>
  AnyQueue(std::in_place_type_t<Q>, std::string label, Args&&... args)
      : self_(std::make_unique<Model<Q>>(std::in_place, std::forward<Args>(args)...)), label_(std::move(label)) {}

  Result<std::vector<QueueRecord>> receive(std::size_t max, std::chrono::milliseconds wait) {
    return self_->receive(max, wait);
  }
  /// Settles, then counts each settlement and reports each dead letter.
  Result<void> settle(std::span<const Settlement> settlements) {
    auto r = self_->settle(settlements);
    if (!r) return r;
    for (const Settlement& s : settlements) {
      ++counts_.settled;
      switch (s.outcome.disposition) {
        case Disposition::done: ++counts_.done; break;
        case Disposition::retry: ++counts_.retried; break;
        case Disposition::dead_letter:
          ++counts_.dead;
          if (on_dead_letter) on_dead_letter(s);
          break;
      }
    }
    return r;
  }
  Result<void> send(std::span<const std::string> bodies) { return self_->send(bodies, Priority::normal); }
  /// Sends at a priority; a queue without priorities (has_priorities() false) takes only normal.
  Result<void> send(std::span<const std::string> bodies, Priority priority) { return self_->send(bodies, priority); }
  Result<std::vector<bool>> keep_alive(std::span<const QueueRecord* const> records) {
    return self_->keep_alive(records);
  }
  std::chrono::milliseconds lease_interval() { return self_->lease_interval(); }
  /// Records that will still come back (for --drain).
  Result<std::size_t> pending_count() { return self_->pending_count(); }
  /// pending_count() where a failure counts as "some" (the maximum).
  std::size_t pending() {
    auto n = pending_count();
    return n ? *n : std::numeric_limits<std::size_t>::max();
  }

  /// True if send() takes Priority::high (a Redis queue).
  bool has_priorities() const { return self_->has_priorities(); }
  /// Up to `max` dead letters, left where they are.
  Result<std::vector<DeadLetter>> dead_letters(std::size_t max) { return self_->dead_letters(max); }
  /// Moves dead letters (by id; none: the oldest `max`) back to the queue; how many moved.
  Result<std::size_t> redrive(std::span<const std::string> ids, std::size_t max) { return self_->redrive(ids, max); }
  /// How many dead letters there are now.
  Result<std::size_t> dead_letter_count() { return self_->dead_letter_count(); }
  /// The queue's counts (notifyctl queue stats, the worker's gauges); see each adapter.
  Result<QueueStats> stats() { return self_->stats(); }
  /// Where the dead letters are, for messages: a stream name or a queue URL.
  std::string dead_letter_place() { return self_->dead_letter_place(); }
  /// The queue for messages and logs (no password): `redis://HOST:PORT/STREAM` (the
  /// stream of `priority`), the SQS URL, or the label it was given.
  std::string where(Priority priority = Priority::normal) {
    std::string w = self_->where(priority);
    return w.empty() ? label_ : w;
  }

  /// The adapter inside, or nullptr when it is of another type.
  template <class Q>
  Q* get() noexcept {
    auto* m = dynamic_cast<Model<Q>*>(self_.get());
    return m ? &m->queue : nullptr;
  }

  const SettleCounts& counts() const noexcept { return counts_; }
  /// Called with each settlement that dead-lettered its record (after the settle succeeded).
  std::function<void(const Settlement&)> on_dead_letter;

 private:
  struct Concept {
    virtual ~Concept() = default;
    virtual Result<std::vector<QueueRecord>> receive(std::size_t, std::chrono::milliseconds) = 0;
    virtual Result<void> settle(std::span<const Settlement>) = 0;
    virtual Result<void> send(std::span<const std::string>, Priority) = 0;
    virtual Result<std::vector<bool>> keep_alive(std::span<const QueueRecord* const>) = 0;
    virtual std::chrono::milliseconds lease_interval() = 0;
    virtual Result<std::size_t> pending_count() = 0;
    virtual bool has_priorities() const = 0;
    virtual Result<std::vector<DeadLetter>> dead_letters(std::size_t) = 0;
    virtual Result<std::size_t> redrive(std::span<const std::string>, std::size_t) = 0;
    virtual Result<std::size_t> dead_letter_count() = 0;
    virtual Result<QueueStats> stats() = 0;
    virtual std::string dead_letter_place() = 0;
    virtual std::string where(Priority) = 0;
  };

  static Error unsupported(std::string_view what) {
    return Error{Errc::configuration, "this queue has no " + std::string(what), {}};
  }

  template <class Q>
  struct Model final : Concept {
    explicit Model(Q q) : queue(std::move(q)) {}
    template <class... Args>
    explicit Model(std::in_place_t, Args&&... args) : queue(std::forward<Args>(args)...) {}
    Q queue;

    Result<std::vector<QueueRecord>> receive(std::size_t max, std::chrono::milliseconds wait) override {
      return queue.receive(max, wait);
    }
    Result<void> settle(std::span<const Settlement> s) override { return queue.settle(s); }
    Result<void> send(std::span<const std::string> bodies, Priority priority) override {
      if constexpr (requires { queue.send(bodies, priority); }) {
        return queue.send(bodies, priority);
      } else {
        if (priority != Priority::normal) return unsupported("priorities (a Redis queue has)");
        return queue.send(bodies);
      }
    }
    Result<std::vector<bool>> keep_alive(std::span<const QueueRecord* const> records) override {
      return queue.keep_alive(records);
    }
    std::chrono::milliseconds lease_interval() override { return queue.lease_interval(); }
    Result<std::size_t> pending_count() override {
      if constexpr (requires { { queue.pending_count() } -> std::same_as<Result<std::size_t>>; })
        return queue.pending_count();
      else
        return unsupported("pending count");
    }
    bool has_priorities() const override {
      return requires(Q& q, std::span<const std::string> b) { q.send(b, Priority::high); };
    }
    Result<std::vector<DeadLetter>> dead_letters(std::size_t max) override {
      if constexpr (requires { { queue.dead_letters(max) } -> std::same_as<Result<std::vector<DeadLetter>>>; })
        return queue.dead_letters(max);
      else
        return unsupported("dead-letter listing");
    }
    Result<std::size_t> redrive(std::span<const std::string> ids, std::size_t max) override {
      if constexpr (requires { { queue.redrive(ids, max) } -> std::same_as<Result<std::size_t>>; })
        return queue.redrive(ids, max);
      else
        return unsupported("redrive");
    }
    Result<std::size_t> dead_letter_count() override {
      if constexpr (requires { { queue.dead_letter_count() } -> std::same_as<Result<std::size_t>>; }) {
        return queue.dead_letter_count();
      } else if constexpr (requires { queue.dead_letter_url(); Q::open(std::string(), queue.options()); }) {
        // Dead letters in a queue of the same kind (SQS): count what waits there.
        auto url = queue.dead_letter_url();
        if (!url) return url.error();
        auto options = queue.options();
        options.dead_letter_url.clear();
        auto dead = Q::open(*url, options);
        if (!dead) return dead.error();
        return dead->pending_count();
      } else {
        return unsupported("dead-letter count");
      }
    }
    Result<QueueStats> stats() override {
      if constexpr (requires { { queue.stats() } -> std::same_as<Result<QueueStats>>; })
        return queue.stats();
      else
        return unsupported("statistics");
    }
    std::string dead_letter_place() override {
      if constexpr (requires { { queue.dead_letter_stream() } -> std::convertible_to<std::string>; }) {
        return queue.dead_letter_stream();
      } else if constexpr (requires { { queue.dead_letter_url() } -> std::same_as<Result<std::string>>; }) {
        auto url = queue.dead_letter_url();
        return url ? *url : "the dead-letter queue";
      } else {
        return "the dead-letter queue";
      }
    }
    std::string where(Priority priority) override {
      if constexpr (requires { queue.stream(priority); queue.connection().options(); }) {
        return notify::redis::describe(queue.connection().options()) + "/" + queue.stream(priority);
      } else if constexpr (requires { queue.url().url; }) {
        return queue.url().url;
      } else {
        return {};
      }
    }
  };

  std::unique_ptr<Concept> self_;
  std::string label_;
  SettleCounts counts_;
};

static_assert(notify::LeasedQueue<AnyQueue>);

/// Any notify::MemberStore, plus the reads and bulk writes of notifyctl where the adapter
/// has them.
class AnyStore {
 public:
  template <notify::MemberStore S>
    requires(!std::same_as<std::remove_cvref_t<S>, AnyStore>)
  explicit AnyStore(S store) : self_(std::make_unique<Model<S>>(std::move(store))) {}

  Result<FamilyLookup> families(std::span<const Id> ids) { return self_->families(ids); }
  Result<void> set_member(Id family, const Member& m) { return self_->set_member(family, m); }
  Result<void> remove_member(Id family, Id user) { return self_->remove_member(family, user); }
  Result<void> remove_family(Id family) { return self_->remove_family(family); }
  Result<bool> remove_token(Id family, Id user, std::string_view token, std::string_view registered_at = {}) {
    return self_->remove_token(family, user, token, registered_at);
  }
  /// One member; empty when there is none.
  Result<std::optional<Member>> get_member(Id family, Id user) { return self_->get_member(family, user); }
  /// Stored values written as they are (an import).
  Result<void> put_raw(std::span<const notify::redis::StoredValue> values) { return self_->put_raw(values); }
  /// Whether the store answers (one round trip; a store in this process always does).
  Result<void> ping() { return self_->ping(); }

  template <class S>
  S* get() noexcept {
    auto* m = dynamic_cast<Model<S>*>(self_.get());
    return m ? &m->store : nullptr;
  }

 private:
  struct Concept {
    virtual ~Concept() = default;
    virtual Result<FamilyLookup> families(std::span<const Id>) = 0;
    virtual Result<void> set_member(Id, const Member&) = 0;
    virtual Result<void> remove_member(Id, Id) = 0;
    virtual Result<void> remove_family(Id) = 0;
    virtual Result<bool> remove_token(Id, Id, std::string_view, std::string_view) = 0;
    virtual Result<std::optional<Member>> get_member(Id, Id) = 0;
    virtual Result<void> put_raw(std::span<const notify::redis::StoredValue>) = 0;
    virtual Result<void> ping() = 0;
  };
  template <class S>
  struct Model final : Concept {
    explicit Model(S s) : store(std::move(s)) {}
    S store;
    Result<FamilyLookup> families(std::span<const Id> ids) override { return store.families(ids); }
    Result<void> set_member(Id f, const Member& m) override { return store.set_member(f, m); }
    Result<void> remove_member(Id f, Id u) override { return store.remove_member(f, u); }
    Result<void> remove_family(Id f) override { return store.remove_family(f); }
    Result<bool> remove_token(Id f, Id u, std::string_view t, std::string_view r) override {
      return store.remove_token(f, u, t, r);
    }
    Result<std::optional<Member>> get_member(Id f, Id u) override {
      if constexpr (requires { { store.get_member(f, u) } -> std::same_as<Result<std::optional<Member>>>; })
        return store.get_member(f, u);
      else
        return Error{Errc::configuration, "this member store cannot read one member", {}};
    }
    Result<void> ping() override {
      if constexpr (requires { { store.ping() } -> std::same_as<Result<void>>; }) return store.ping();
      else return {};
    }
    Result<void> put_raw(std::span<const notify::redis::StoredValue> values) override {
      if constexpr (requires { { store.put_raw(values) } -> std::same_as<Result<void>>; }) {
        return store.put_raw(values);
      } else if constexpr (requires(const notify::redis::StoredValue& v) { store.put_raw(v.familyId, v.field, v.value); }) {
        for (const auto& v : values) {
          if constexpr (requires { { store.put_raw(v.familyId, v.field, v.value) } -> std::same_as<Result<void>>; }) {
            if (auto r = store.put_raw(v.familyId, v.field, v.value); !r) return r;
          } else {
            store.put_raw(v.familyId, v.field, v.value);
          }
        }
        return {};
      } else {
        return Error{Errc::configuration, "this member store cannot take stored values", {}};
      }
    }
  };
  std::unique_ptr<Concept> self_;
};

static_assert(notify::MemberStore<AnyStore>);

/// Any notify::IdempotencyStore.
class AnyLedger {
 public:
  template <notify::IdempotencyStore L>
    requires(!std::same_as<std::remove_cvref_t<L>, AnyLedger>)
  explicit AnyLedger(L ledger) : self_(std::make_unique<Model<L>>(std::move(ledger))) {}

  Result<std::vector<bool>> seen(std::span<const std::string> keys) { return self_->seen(keys); }
  Result<void> remember(std::span<const std::string> keys, std::chrono::seconds ttl) {
    return self_->remember(keys, ttl);
  }

 private:
  struct Concept {
    virtual ~Concept() = default;
    virtual Result<std::vector<bool>> seen(std::span<const std::string>) = 0;
    virtual Result<void> remember(std::span<const std::string>, std::chrono::seconds) = 0;
  };
  template <class L>
  struct Model final : Concept {
    explicit Model(L l) : ledger(std::move(l)) {}
    L ledger;
    Result<std::vector<bool>> seen(std::span<const std::string> keys) override { return ledger.seen(keys); }
    Result<void> remember(std::span<const std::string> keys, std::chrono::seconds ttl) override {
      return ledger.remember(keys, ttl);
    }
  };
  std::unique_ptr<Concept> self_;
};

static_assert(notify::IdempotencyStore<AnyLedger>);

/// Any notify::InboxSink.
class AnyInbox {
 public:
  template <notify::InboxSink I>
    requires(!std::same_as<std::remove_cvref_t<I>, AnyInbox>)
  explicit AnyInbox(I inbox) : self_(std::make_unique<Model<I>>(std::move(inbox))) {}

  Result<void> publish(std::span<const std::string> bodies) { return self_->publish(bodies); }

  template <class I>
  I* get() noexcept {
    auto* m = dynamic_cast<Model<I>*>(self_.get());
    return m ? &m->inbox : nullptr;
  }

 private:
  struct Concept {
    virtual ~Concept() = default;
    virtual Result<void> publish(std::span<const std::string>) = 0;
  };
  template <class I>
  struct Model final : Concept {
    explicit Model(I i) : inbox(std::move(i)) {}
    I inbox;
    Result<void> publish(std::span<const std::string> bodies) override { return inbox.publish(bodies); }
  };
  std::unique_ptr<Concept> self_;
};

static_assert(notify::InboxSink<AnyInbox>);

/// Any notify::PushProvider, offered to the engine as a notify::AsyncPushProvider: an
/// asynchronous provider (FCM) gets each push at once; a synchronous one gets the pushes
/// submitted since the last poll together, at the next poll, on the caller's thread (as
/// in-memory providers under a test's clock need). A synchronous provider that talks to a
/// server goes in a ThreadedPusher (threaded.hpp) first. Counts the pushes handed to it
/// (retries included).
class AnyPusher {
 public:
  template <notify::PushProvider P>
    requires(!std::same_as<std::remove_cvref_t<P>, AnyPusher>)
  explicit AnyPusher(P provider) : self_(std::make_unique<Model<P>>(std::move(provider))) {}

  std::vector<PushResult> send(std::span<const Push> pushes) {
    count_ += pushes.size();
    return self_->send(pushes);
  }
  void submit(const Push& push, std::uint64_t tag) {
    ++count_;
    self_->submit(push, tag);
  }
  void poll(std::chrono::milliseconds wait, std::vector<PushDone>& out) { self_->poll(wait, out); }
  std::size_t in_flight() const { return self_->in_flight(); }
  /// Checks the provider's credentials now where it has any to check (FCM: fetches the
  /// access token); otherwise succeeds.
  Result<void> connect() { return self_->connect(); }
  /// When the provider's current access token was obtained (FCM's OAuth token); nullopt
  /// while it has none, or for a provider without tokens.
  std::optional<std::chrono::steady_clock::time_point> token_obtained() const { return self_->token_obtained(); }

  /// Pushes handed to the provider so far.
  std::size_t count() const noexcept { return count_; }

  template <class P>
  P* get() noexcept {
    auto* m = dynamic_cast<Model<P>*>(self_.get());
    return m ? &m->provider : nullptr;
  }

 private:
  struct Concept {
    virtual ~Concept() = default;
    virtual std::vector<PushResult> send(std::span<const Push>) = 0;
    virtual void submit(const Push&, std::uint64_t) = 0;
    virtual void poll(std::chrono::milliseconds, std::vector<PushDone>&) = 0;
    virtual std::size_t in_flight() const = 0;
    virtual Result<void> connect() = 0;
    virtual std::optional<std::chrono::steady_clock::time_point> token_obtained() const = 0;
  };
  template <class P>
  struct Model final : Concept {
    explicit Model(P p) : provider(std::move(p)) {}
    P provider;
    std::vector<Push> queued;  // a synchronous provider's pushes waiting for the next poll
    std::vector<std::uint64_t> tags;

    std::vector<PushResult> send(std::span<const Push> pushes) override { return provider.send(pushes); }
    void submit(const Push& push, std::uint64_t tag) override {
      if constexpr (notify::AsyncPushProvider<P>) {
        provider.submit(push, tag);
      } else {
        queued.push_back(push);
        tags.push_back(tag);
      }
    }
    void poll(std::chrono::milliseconds wait, std::vector<PushDone>& out) override {
      if constexpr (notify::AsyncPushProvider<P>) {
        provider.poll(wait, out);
      } else {
        if (queued.empty()) return;
        const std::vector<PushResult> results = provider.send(queued);
        for (std::size_t i = 0; i < tags.size() && i < results.size(); ++i) out.push_back({tags[i], results[i]});
        queued.clear();
        tags.clear();
      }
    }
    std::size_t in_flight() const override {
      if constexpr (notify::AsyncPushProvider<P>)
        return provider.in_flight();
      else
        return queued.size();
    }
    Result<void> connect() override {
      if constexpr (requires { { provider.connect() } -> std::same_as<Result<void>>; })
        return provider.connect();
      else
        return {};
    }
    std::optional<std::chrono::steady_clock::time_point> token_obtained() const override {
      if constexpr (requires { { provider.stats().token_obtained } -> std::convertible_to<std::chrono::steady_clock::time_point>; }) {
        const auto at = provider.stats().token_obtained;
        if (at != std::chrono::steady_clock::time_point{}) return at;
      }
      return std::nullopt;
    }
  };
  std::unique_ptr<Concept> self_;
  std::size_t count_ = 0;
};

static_assert(notify::PushProvider<AnyPusher>);
static_assert(notify::AsyncPushProvider<AnyPusher>);

}  // namespace notify::app
