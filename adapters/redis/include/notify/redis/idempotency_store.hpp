// SPDX-License-Identifier: MIT
#pragma once

/// "This delivery was made" markers on Redis: one key per delivery key, with a TTL.

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "notify/redis/connection.hpp"
#include "notify/transport.hpp"

namespace notify::redis {

/// notify::IdempotencyStore on one Redis connection; keys are `prefix + key`.
class IdempotencyStore {
 public:
  explicit IdempotencyStore(Options options, std::string prefix = "notify:sent:");

  /// Which keys are marked: one MGET, one round trip.
  Result<std::vector<bool>> seen(std::span<const std::string> keys);
  /// Marks keys for `ttl` (SET key 1 PX ttl, by an EVAL of a script taking up to 256
  /// keys a call, pipelined): one round trip.
  Result<void> remember(std::span<const std::string> keys, std::chrono::seconds ttl);

  const std::string& prefix() const noexcept { return prefix_; }
  std::uint64_t round_trips() const noexcept { return conn_.round_trips(); }
  Connection& connection() noexcept { return conn_; }

 private:
  Connection conn_;
  std::string prefix_;
};

static_assert(notify::IdempotencyStore<IdempotencyStore>);

}  // namespace notify::redis
