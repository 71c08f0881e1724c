// SPDX-License-Identifier: MIT
#pragma once

/// RoutingPusher: several push providers at once (`--push fcm,apns`), each push handed to
/// the provider of its device's service (Push::service).

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "notify/app/any.hpp"
#include "notify/transport.hpp"

namespace notify::app {

/// Holds one provider per PushService (any may be absent) and routes each push by its
/// `service`. A push for a service without a provider is answered at once as failed
/// ("no <service> provider"): it can never be sent by this worker, and retrying it would
/// only hold its record back. Tags pass through unchanged (they are the caller's, unique
/// among the pushes in flight), so answers need no translation.
class RoutingPusher {
 public:
  /// Counters the worker reads through AnyPusher (the FCM provider's access-token time).
  struct Stats {
    std::chrono::steady_clock::time_point token_obtained{};
  };

  RoutingPusher() = default;

  /// Installs the provider for `service` (replacing one already there).
  void set(PushService service, AnyPusher provider) { slot(service).emplace(std::move(provider)); }
  bool has(PushService service) const { return slot(service).has_value(); }
  AnyPusher* get(PushService service) { return slot(service) ? &*slot(service) : nullptr; }

  /// One result per push, in order: each provider gets its pushes as one batch.
  std::vector<PushResult> send(std::span<const Push> pushes) {
    std::vector<PushResult> results(pushes.size());
    for (std::size_t s = 0; s < providers_.size(); ++s) {
      std::vector<Push> mine;
      std::vector<std::size_t> at;
      for (std::size_t i = 0; i < pushes.size(); ++i) {
        if (static_cast<std::size_t>(pushes[i].service) != s) continue;
        mine.push_back(pushes[i]);
        at.push_back(i);
      }
      if (mine.empty()) continue;
      if (!providers_[s]) {
        for (std::size_t i : at) results[i] = missing(static_cast<PushService>(s));
        continue;
      }
      const std::vector<PushResult> got = providers_[s]->send(mine);
      for (std::size_t k = 0; k < at.size() && k < got.size(); ++k) results[at[k]] = got[k];
    }
    return results;
  }

  void submit(const Push& push, std::uint64_t tag) {
    auto& p = slot(push.service);
    if (p) p->submit(push, tag);
    else orphans_.push_back({tag, missing(push.service)});
  }

  /// Answers from every provider. With several in flight, none may hold the others up: each
  /// is looked at without waiting, then they are polled in turn with short waits until an
  /// answer is there or `wait` has passed.
  void poll(std::chrono::milliseconds wait, std::vector<PushDone>& out) {
    const std::size_t before = out.size();
    if (!orphans_.empty()) {
      out.insert(out.end(), orphans_.begin(), orphans_.end());
      orphans_.clear();
    }
    std::vector<AnyPusher*> busy;
    for (auto& p : providers_)
      if (p && p->in_flight() > 0) busy.push_back(&*p);
    if (busy.empty()) return;
    if (busy.size() == 1) {
      busy.front()->poll(out.size() > before ? std::chrono::milliseconds(0) : wait, out);
      return;
    }
    const auto deadline = std::chrono::steady_clock::now() + wait;
    constexpr std::chrono::milliseconds slice{2};
    for (bool first = true;; first = false) {
      for (AnyPusher* p : busy) p->poll(first ? std::chrono::milliseconds(0) : slice, out);
      if (out.size() > before || std::chrono::steady_clock::now() >= deadline) return;
    }
  }

  std::size_t in_flight() const {
    std::size_t n = orphans_.size();
    for (const auto& p : providers_)
      if (p) n += p->in_flight();
    return n;
  }

  /// Checks every provider's credentials; the first failure answers.
  Result<void> connect() {
    for (auto& p : providers_)
      if (p)
        if (auto r = p->connect(); !r) return r;
    return {};
  }

  Stats stats() const {
    Stats s;
    if (const auto& fcm = slot(PushService::fcm))
      if (auto at = fcm->token_obtained()) s.token_obtained = *at;
    return s;
  }

 private:
  static PushResult missing(PushService service) {
    return {PushStatus::failed, {}, "no " + std::string(to_string(service)) + " provider (see --push)"};
  }
  std::optional<AnyPusher>& slot(PushService s) { return providers_[static_cast<std::size_t>(s)]; }
  const std::optional<AnyPusher>& slot(PushService s) const { return providers_[static_cast<std::size_t>(s)]; }

  std::array<std::optional<AnyPusher>, service_count> providers_;  ///< by PushService
  std::vector<PushDone> orphans_;                       ///< pushes for a missing provider
};

static_assert(notify::PushProvider<RoutingPusher>);
static_assert(notify::AsyncPushProvider<RoutingPusher>);

}  // namespace notify::app
