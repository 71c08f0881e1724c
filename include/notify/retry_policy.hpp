// SPDX-License-Identifier: MIT
#pragma once

/// When a record that failed on its own comes back, and when it is given up.

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace notify {

struct RetryPolicy {
  /// Deliveries after which a record that still fails on its own is dead-lettered
  /// (deliveries that ended in an outage do not count).
  int max_deliveries = 5;
  /// Retry delay after the first delivery; doubled per delivery, capped, with jitter.
  std::chrono::milliseconds base_delay{1000};
  std::chrono::milliseconds max_delay{std::chrono::minutes(5)};

  /// base * 2^(n-1), capped, with "equal jitter": half fixed, half from `random`.
  std::chrono::milliseconds backoff(int receive_count, std::uint64_t random) const noexcept {
    const int shift = std::clamp(receive_count - 1, 0, 20);
    const auto full = std::min(max_delay, base_delay * (std::int64_t{1} << shift));
    const auto half = full.count() / 2;
    if (half <= 0) return std::chrono::milliseconds(half);
    return std::chrono::milliseconds(half + static_cast<std::int64_t>(random % static_cast<std::uint64_t>(half + 1)));
  }
};

/// xorshift64: the jitter source (no global state, deterministic per processor).
struct Jitter {
  std::uint64_t state = 0x9E3779B97F4A7C15ull;
  std::uint64_t next() noexcept {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  }
};

}  // namespace notify
