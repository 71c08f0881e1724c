// SPDX-License-Identifier: MIT
#pragma once

/// What the worker tells about its work: one event per step of a record's life, with a
/// level so that a sink (or the engine itself) can leave out the per-push detail.

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

namespace notify {

/// How much an event matters. Per-push events are debug; per-record events are info.
enum class Level : std::uint8_t { debug, info, warn, error };

constexpr std::string_view to_string(Level l) noexcept {
  switch (l) {
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warn";
    case Level::error: return "error";
  }
  return "";
}

constexpr std::optional<Level> parse_level(std::string_view s) noexcept {
  for (Level l : {Level::debug, Level::info, Level::warn, Level::error})
    if (s == to_string(l)) return l;
  return std::nullopt;
}

/// One step of a record's life, for structured logs and counting. `request` is the parent
/// id (the envelope id, or the queue message id when absent); `token` is shortened.
struct Event {
  std::string_view step;  ///< received, invalid, planned, sent, invalid_token, push_failed, retry, dead_letter, done, ...
  std::string_view request;
  std::string_view type;
  std::string_view token;
  std::string_view detail;
  Level level = Level::info;
  /// A retry: the delivery it ends (1: the first) and the delay chosen before the next;
  /// 0 and -1 (not a retry) are left out of logs.
  int attempt = 0;
  std::int64_t delay_ms = -1;
  /// The W3C trace id (32 hex digits) of the request's traceparent; empty without one.
  std::string_view trace = {};
};

using EventSink = std::function<void(const Event&)>;

}  // namespace notify
