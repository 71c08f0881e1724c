// SPDX-License-Identifier: MIT
#pragma once

/// Shared by the Redis integration tests: options for a test server and INFO readers.

#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "notify/redis/redis.hpp"
#include "redis_server.hpp"

namespace notify::test {

using namespace std::chrono_literals;

/// Options for `server` with a short reconnect backoff.
inline redis::Options options_for(const RedisServer& server) {
  auto o = redis::parse_url(server.url());
  REQUIRE(o.has_value());
  o->reconnect_min = 10ms;
  o->reconnect_max = 200ms;
  return *o;
}

/// The value of `field` in `INFO section` (for commandstats, the "calls=" of a command).
inline std::int64_t info_number(redis::Connection& c, const std::string& section, std::string_view field) {
  auto r = c.command({"INFO", section});
  REQUIRE(r.has_value());
  const std::string& text = r->str;
  const std::string key = std::string(field) + ":";
  const auto at = text.find(key);
  if (at == std::string::npos) return 0;
  std::size_t from = at + key.size();
  if (section == "commandstats") from = text.find("calls=", at) + 6;
  return std::stoll(text.substr(from, text.find_first_of(",\r\n", from) - from));
}

/// How many times the server ran `command` (lower case), from INFO commandstats.
inline std::int64_t command_calls(redis::Connection& c, std::string_view command) {
  return info_number(c, "commandstats", "cmdstat_" + std::string(command));
}

}  // namespace notify::test
