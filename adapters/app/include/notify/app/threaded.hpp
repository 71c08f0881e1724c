// SPDX-License-Identifier: MIT
#pragma once

/// ThreadedPusher: a synchronous push provider (e-mail over SMTP, SENS over HTTPS) run on
/// a thread of its own and offered to the engine as a notify::AsyncPushProvider, so a slow
/// or stalled server holds up only its own pushes, never the engine's thread (answers of
/// other providers, markers, lease renewals).

#include <algorithm>
#include <chrono>
#include <concepts>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <iterator>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "notify/app/printing.hpp"
#include "notify/result.hpp"
#include "notify/transport.hpp"

namespace notify::app {

/// Runs a synchronous notify::PushProvider on a thread of its own. submit() queues the
/// push and returns; the thread takes what was queued since its last call (oldest first,
/// at most max_batch pushes) and hands it to the provider's send() as one batch; poll()
/// moves the answers that are ready to `out` under their tags, waiting up to `wait` only
/// while there are none. in_flight() counts pushes submitted and not yet handed out by
/// poll(). The thread reads what a push points to until its answer is handed out, as
/// AsyncPushProvider allows.
///
/// The provider is used by one thread at a time: the thread's batches, and connect() and
/// send() called from outside, take the same lock, so those two wait for a batch in
/// progress (the programs call connect() before the first submit).
///
/// Destruction (or stop()) lets the batch in progress finish, since a provider call cannot
/// be cut short and may still be reading its pushes, and sends nothing more: pushes still
/// queued are dropped unanswered. So the destructor waits for at most one send(), which
/// the provider's own timeouts bound. The engine destroys its provider only after
/// draining, when nothing is in flight. A moved-from ThreadedPusher may only be destroyed
/// or assigned to.
template <notify::PushProvider P>
class ThreadedPusher {
 public:
  /// The most pushes one send() gets. A batch's answers all come back when its send()
  /// returns, so a bigger batch only delays the first answers (e-mail: ~2.5 ms a message,
  /// 100 of them a quarter second); 100 is also the most recipients of one SENS call, so a
  /// message to many numbers still fills one call.
  static constexpr std::size_t default_max_batch = 100;

  /// Takes `provider` and starts the thread (idle until the first submit).
  explicit ThreadedPusher(P provider, std::size_t max_batch = default_max_batch)
      : state_(std::make_unique<State>(std::move(provider), std::max<std::size_t>(1, max_batch))),
        thread_(&ThreadedPusher::run, state_.get()) {}

  ThreadedPusher(ThreadedPusher&&) noexcept = default;
  ThreadedPusher& operator=(ThreadedPusher&& other) noexcept {
    if (this != &other) {
      join();
      state_ = std::move(other.state_);
      thread_ = std::move(other.thread_);
    }
    return *this;
  }
  ~ThreadedPusher() { join(); }

  /// Queues the push for the thread; never waits on the network.
  void submit(const Push& push, std::uint64_t tag) {
    {
      const std::lock_guard lock(state_->mutex);
      state_->queued.push_back({push, tag});
      ++state_->in_flight;
    }
    state_->work.notify_one();
  }

  /// Moves the answers that are ready to `out`; waits up to `wait` for one while there is
  /// none and a push is in flight.
  void poll(std::chrono::milliseconds wait, std::vector<PushDone>& out) {
    State& s = *state_;
    std::unique_lock lock(s.mutex);
    if (s.done.empty() && s.in_flight > 0 && wait.count() > 0)
      s.answered.wait_for(lock, std::min(wait, longest_wait), [&] { return !s.done.empty(); });
    s.in_flight -= s.done.size();
    out.insert(out.end(), std::make_move_iterator(s.done.begin()), std::make_move_iterator(s.done.end()));
    s.done.clear();
  }

  /// Pushes submitted and not yet handed out by poll() (queued, being sent, or answered).
  std::size_t in_flight() const {
    const std::lock_guard lock(state_->mutex);
    return state_->in_flight;
  }

  /// The provider's send() on the caller's thread, after the batch in progress if any.
  std::vector<PushResult> send(std::span<const Push> pushes) {
    const std::lock_guard lock(state_->provider_mutex);
    return state_->provider.send(pushes);
  }

  /// The provider's credential check on the caller's thread, after the batch in progress
  /// if any.
  Result<void> connect()
    requires requires(P& p) {
      { p.connect() } -> std::same_as<Result<void>>;
    }
  {
    const std::lock_guard lock(state_->provider_mutex);
    return state_->provider.connect();
  }

  /// Asks the thread to end after the batch in progress, without waiting for it: nothing
  /// is sent afterwards (pushes queued or submitted later stay unanswered and counted in
  /// in_flight()), and poll() still hands out the answers of that batch. The destructor
  /// does this, then waits for the thread.
  void stop() {
    if (!state_) return;
    {
      const std::lock_guard lock(state_->mutex);
      state_->stopping = true;
    }
    state_->work.notify_all();
  }

  std::size_t max_batch() const noexcept { return state_->max_batch; }

 private:
  /// A cap on one wait, so a caller's "forever" cannot overflow the clock.
  static constexpr std::chrono::milliseconds longest_wait = std::chrono::hours(24);

  struct Queued {
    Push push;
    std::uint64_t tag = 0;
  };

  struct State {
    State(P p, std::size_t max) : provider(std::move(p)), max_batch(max) {}

    std::mutex provider_mutex;  ///< held while the provider is used, on any thread
    P provider;
    const std::size_t max_batch;

    mutable std::mutex mutex;  ///< guards what follows
    std::condition_variable work;      ///< the thread waits here for pushes or stop()
    std::condition_variable answered;  ///< poll() waits here for answers
    std::deque<Queued> queued;         ///< submitted, not yet taken by the thread
    std::vector<PushDone> done;        ///< answered, not yet handed out by poll()
    std::size_t in_flight = 0;         ///< submitted, not yet handed out by poll()
    bool stopping = false;
  };

  void join() {
    if (!thread_.joinable()) return;
    stop();
    thread_.join();
  }

  static void run(State* state) {
    State& s = *state;
    std::vector<Push> pushes;
    std::vector<std::uint64_t> tags;
    for (;;) {
      {
        std::unique_lock lock(s.mutex);
        s.work.wait(lock, [&] { return s.stopping || !s.queued.empty(); });
        if (s.stopping) return;
        pushes.clear();
        tags.clear();
        const std::size_t n = std::min(s.max_batch, s.queued.size());
        for (std::size_t i = 0; i < n; ++i) {
          pushes.push_back(s.queued.front().push);
          tags.push_back(s.queued.front().tag);
          s.queued.pop_front();
        }
      }
      std::vector<PushDone> answers = send_batch(s, pushes, tags);
      {
        const std::lock_guard lock(s.mutex);
        s.done.insert(s.done.end(), std::make_move_iterator(answers.begin()), std::make_move_iterator(answers.end()));
      }
      s.answered.notify_all();
    }
  }

  /// One answer per push, under its tag. A provider that answers short, or throws (the
  /// thread must not end the process), leaves its pushes to be retried as an outage.
  static std::vector<PushDone> send_batch(State& s, const std::vector<Push>& pushes,
                                          const std::vector<std::uint64_t>& tags) {
    std::vector<PushResult> results;
    std::string failure = "no result from provider";
    try {
      const std::lock_guard lock(s.provider_mutex);
      results = s.provider.send(pushes);
    } catch (const std::exception& e) {
      results.clear();
      failure = std::string("the provider failed: ") + e.what();
    } catch (...) {
      results.clear();
      failure = "the provider failed";
    }
    std::vector<PushDone> answers;
    answers.reserve(tags.size());
    for (std::size_t i = 0; i < tags.size(); ++i)
      answers.push_back({tags[i], i < results.size() ? std::move(results[i])
                                                     : PushResult{PushStatus::retry, {}, failure, true, RetryScope::provider}});
    return answers;
  }

  std::unique_ptr<State> state_;
  std::thread thread_;
};

static_assert(notify::PushProvider<ThreadedPusher<PrintingPushProvider>>);
static_assert(notify::AsyncPushProvider<ThreadedPusher<PrintingPushProvider>>);

}  // namespace notify::app
