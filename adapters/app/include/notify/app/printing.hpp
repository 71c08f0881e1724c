// SPDX-License-Identifier: MIT
#pragma once

/// The programs' own small transports and their event log: a push provider that prints
/// or drops each push (--push log|null), an inbox that prints or drops records (--inbox
/// log|null), and the event log on stderr (--log-format text|json).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "notify/events.hpp"
#include "notify/transport.hpp"

namespace notify::app {

/// Formats events one per line: key=value pairs (logfmt) led by `ts=` (RFC 3339, UTC,
/// milliseconds), or one JSON object with `ts` in Unix milliseconds. Retries carry
/// `attempt` (the delivery that failed) and `delay_ms` (the delay chosen); the events of
/// a request with a traceparent end with its `trace` id.
class EventLog {
 public:
  explicit EventLog(bool json) : json_(json) {}

  /// Writes the event's line to stderr.
  void operator()(const notify::Event& e) const;
  /// The line for an event, without the newline; `ts_ms` is its time in Unix milliseconds.
  std::string line(const notify::Event& e, std::int64_t ts_ms) const;

 private:
  bool json_;
};

/// A push provider that prints each push to stdout (log) or drops it (null); every push
/// succeeds. With a delay it waits before each batch, as a slow provider would.
class PrintingPushProvider {
 public:
  PrintingPushProvider(bool print, std::chrono::milliseconds delay = {}) : print_(print), delay_(delay) {}

  std::vector<notify::PushResult> send(std::span<const notify::Push> pushes);
  /// The line printed for a push, without the newline.
  static std::string line(const notify::Push& push);
  std::size_t count() const noexcept { return count_; }

 private:
  bool print_;
  std::chrono::milliseconds delay_;
  std::size_t count_ = 0;
};

/// Prints each request's inbox records as "inbox <JSON array>" (log), or drops them (null).
class PrintingInbox {
 public:
  explicit PrintingInbox(bool print = true) : print_(print) {}
  notify::Result<void> publish(std::span<const std::string> bodies);

 private:
  bool print_;
};

static_assert(notify::PushProvider<PrintingPushProvider>);
static_assert(notify::InboxSink<PrintingInbox>);

}  // namespace notify::app
