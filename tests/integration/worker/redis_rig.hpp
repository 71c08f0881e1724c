// SPDX-License-Identifier: MIT
#pragma once

// What the worker process tests set up on their redis-server: the connection options
// (reconnecting fast, so a restarted server is back at once) and the queue they publish to.

#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "notify/redis/redis.hpp"

namespace notify::test {

inline redis::Options fast_reconnect_options(const std::string& url) {
  auto o = redis::parse_url(url);
  REQUIRE(o.has_value());
  o->reconnect_min = std::chrono::milliseconds(10);
  o->reconnect_max = std::chrono::milliseconds(200);
  return *o;
}

/// The stream "notify", as the producer side of the tests sees it.
inline redis::QueueOptions producer_queue_options() {
  redis::QueueOptions q;
  q.stream = "notify";
  q.consumer = "test-producer";
  return q;
}

}  // namespace notify::test
