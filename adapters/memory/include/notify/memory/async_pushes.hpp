// SPDX-License-Identifier: MIT
#pragma once

/// An in-memory AsyncPushProvider for engine tests: pushes stay in flight until polled,
/// and each poll answers at most `answers_per_poll` of them (oldest first), so a test
/// decides what is in flight when. Answers come from the wrapped memory::PushProvider
/// (its faults and per-token outcomes), unless a scripted answer for the token applies.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "notify/memory/memory.hpp"
#include "notify/transport.hpp"

namespace notify::memory {

class AsyncPushes {
 public:
  explicit AsyncPushes(PushProvider& inner) : inner_(inner) {}

  /// How many pushes one poll answers (0: all).
  std::size_t answers_per_poll = 0;

  /// The next `times` pushes to `token` are answered `result` without reaching the inner
  /// provider (a 429 from FCM, say).
  void script(std::string token, PushResult result, int times = 1) {
    for (int i = 0; i < times; ++i) scripted_[token].push_back(result);
  }

  void submit(const Push& push, std::uint64_t tag) {
    queue_.push_back({push, tag});
    max_in_flight_ = std::max(max_in_flight_, queue_.size());
  }

  void poll(std::chrono::milliseconds, std::vector<PushDone>& out) {
    std::size_t n = answers_per_poll == 0 ? queue_.size() : std::min(answers_per_poll, queue_.size());
    while (n-- > 0) {
      auto [push, tag] = queue_.front();
      queue_.pop_front();
      if (auto it = scripted_.find(std::string(push.token)); it != scripted_.end() && !it->second.empty()) {
        out.push_back({tag, it->second.front()});
        it->second.pop_front();
        continue;
      }
      std::vector<PushResult> r = inner_.send(std::span<const Push>(&push, 1));
      out.push_back({tag, r.empty() ? PushResult{PushStatus::retry, {}, "no result", true} : std::move(r.front())});
    }
  }

  std::size_t in_flight() const noexcept { return queue_.size(); }
  /// The most pushes that were in flight at once.
  std::size_t max_in_flight() const noexcept { return max_in_flight_; }
  void reset_max_in_flight() noexcept { max_in_flight_ = queue_.size(); }

 private:
  PushProvider& inner_;
  std::deque<std::pair<Push, std::uint64_t>> queue_;
  std::map<std::string, std::deque<PushResult>> scripted_;
  std::size_t max_in_flight_ = 0;
};

static_assert(notify::AsyncPushProvider<AsyncPushes>);

}  // namespace notify::memory
