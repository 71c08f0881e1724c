// SPDX-License-Identifier: MIT
// Adapters are checked against the transport concepts: a push provider whose send returns
// the wrong type (NOTIFY_BREAK=1) or a queue missing send (NOTIFY_BREAK=2) must not compile.

#include <chrono>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "notify/transport.hpp"

namespace {

struct Provider {
#if NOTIFY_BREAK == 1
  notify::Result<void> send(std::span<const notify::Push>) { return {}; }
#else
  std::vector<notify::PushResult> send(std::span<const notify::Push> pushes) {
    return std::vector<notify::PushResult>(pushes.size());
  }
#endif
};

struct Queue {
  notify::Result<std::vector<notify::QueueRecord>> receive(std::size_t, std::chrono::milliseconds) {
    return std::vector<notify::QueueRecord>{};
  }
  notify::Result<void> settle(std::span<const notify::Settlement>) { return {}; }
#if NOTIFY_BREAK != 2
  notify::Result<void> send(std::span<const std::string>) { return {}; }
#endif
};

#if NOTIFY_BREAK != 2
static_assert(notify::PushProvider<Provider>);
#endif
#if NOTIFY_BREAK != 1
static_assert(notify::Queue<Queue>);
#endif

}  // namespace
