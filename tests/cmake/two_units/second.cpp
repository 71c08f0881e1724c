// SPDX-License-Identifier: MIT
// The second translation unit of the two-unit link check (see first.cpp).

#include "notify/json.hpp"
#include "notify/memory/memory.hpp"
#include "notify/notify.hpp"

#include <chrono>
#include <string>
#include <string_view>

notify::Result<notify::Request, notify::Errors> decode_in_second_unit(std::string_view body) {
  // Through the in-memory queue and nlohmann as well, so this unit instantiates them too.
  notify::memory::Queue queue;
  if (!queue.send(std::string(body))) return notify::Errors{notify::Error{notify::Errc::unavailable, "send", {}}};
  auto received = queue.receive(1, std::chrono::milliseconds(0));
  if (!received || received->empty()) return notify::Errors{notify::Error{notify::Errc::unavailable, "receive", {}}};
  const nlohmann::json json = nlohmann::json::parse(received->front().body);
  return notify::decode(json.dump());
}
