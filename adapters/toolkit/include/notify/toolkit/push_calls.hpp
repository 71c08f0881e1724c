// SPDX-License-Identifier: MIT
// Private to the push providers: send() / submit() / poll() / in_flight() over one
// asynchronous engine, the same for every provider.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <mutex>
#include <span>
#include <utility>
#include <vector>

#include "notify/transport.hpp"

namespace notify::toolkit {

/// The calls of notify::PushProvider and notify::AsyncPushProvider, written once over a
/// provider's engine (CRTP). `Engine` derives from PushCalls<Engine>, befriends it, and has:
///  - `bool admit(const Push&, std::uint64_t tag, bool sync)`: takes a push in and queues
///    it, false (nothing taken) when it has no message or no token;
///  - `void drive(std::chrono::steady_clock::time_point deadline, Done done)`: sends and
///    collects until `done()` holds, nothing can come any more, or `deadline`;
///  - `void fresh_start()`: forgets the failures of earlier pushes; called before new
///    pushes are taken in while none is unanswered.
/// It answers each push it admitted exactly once through `deliver()`. Every call takes
/// `mu_`, which the engine's own public members take too.
template <class Engine>
class PushCalls {
 public:
  /// One result per push, in order, once every push is answered.
  std::vector<PushResult> send(std::span<const Push> pushes) {
    std::lock_guard lock(mu_);
    start();
    std::vector<PushResult> results(pushes.size());
    sync_results_ = &results;
    sync_left_ = 0;
    for (std::size_t i = 0; i < pushes.size(); ++i) {
      if (!take(pushes[i], i, true)) results[i] = skipped();
      else ++sync_left_;
    }
    engine().drive(Clock::time_point::max(), [&] { return sync_left_ == 0; });
    sync_results_ = nullptr;
    return results;
  }

  /// Queues one push under `tag`; never waits on the network.
  void submit(const Push& push, std::uint64_t tag) {
    std::lock_guard lock(mu_);
    start();
    if (!take(push, tag, false)) ready_.push_back({tag, skipped()});
  }

  /// Sends what is queued and appends the answers that are ready; waits up to `wait` only
  /// while none is.
  void poll(std::chrono::milliseconds wait, std::vector<PushDone>& out) {
    std::lock_guard lock(mu_);
    const auto now = Clock::now();
    const auto deadline = wait <= std::chrono::milliseconds::zero() ? now
                          : wait >= std::chrono::hours(24 * 365) ? Clock::time_point::max()
                                                                 : now + wait;
    engine().drive(deadline, [&] { return !ready_.empty(); });
    out.insert(out.end(), std::make_move_iterator(ready_.begin()), std::make_move_iterator(ready_.end()));
    ready_.clear();
  }

  /// Pushes submitted and not yet returned by poll().
  std::size_t in_flight() const {
    std::lock_guard lock(mu_);
    return live_ + ready_.size();
  }

 protected:
  using Clock = std::chrono::steady_clock;

  PushCalls() = default;

  /// Hands the result of an admitted push to send() (`sync`) or to the next poll().
  void deliver(std::uint64_t tag, bool sync, PushResult result) {
    if (sync) {
      (*sync_results_)[tag] = std::move(result);
      --sync_left_;
    } else {
      ready_.push_back({tag, std::move(result)});
    }
    --live_;
  }

  mutable std::mutex mu_;

 private:
  static PushResult skipped() { return {PushStatus::sent, {}, "skipped: no token"}; }

  Engine& engine() { return static_cast<Engine&>(*this); }

  void start() {
    if (live_ == 0) engine().fresh_start();
  }

  bool take(const Push& push, std::uint64_t tag, bool sync) {
    if (!engine().admit(push, tag, sync)) return false;
    ++live_;
    return true;
  }

  std::size_t live_ = 0;                             ///< pushes admitted and not yet answered
  std::vector<PushDone> ready_;                      ///< answers of submit()ted pushes for poll()
  std::vector<PushResult>* sync_results_ = nullptr;  ///< send()'s results while it runs
  std::size_t sync_left_ = 0;                        ///< send()'s pushes not yet answered
};

}  // namespace notify::toolkit
