// SPDX-License-Identifier: MIT
#pragma once

/// The programs' own small transports and their event log: a push provider that prints
/// or drops each push (--push log|null), an inbox that prints or drops records (--inbox
/// log|null), and the event log on stderr (--log-format text|json).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
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
///
/// Buffered (the worker's loop), lines below warn are kept until flush() (the loop calls it
/// before each wait), until `kept_limit` bytes are kept, or until buffering ends; a warn or
/// error line writes out what is kept and itself at once. A few write(2)s per turn of the
/// loop instead of one per line; the price is that a process killed outright loses the
/// info lines of at most its last turn.
class EventLog {
 public:
  static constexpr std::size_t kept_limit = 16 * 1024;

  explicit EventLog(bool json) : json_(json) {}
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;
  ~EventLog() { flush(); }

  /// Writes the event's line to stderr (or keeps it, see above).
  void operator()(const notify::Event& e) const;
  /// Starts or ends keeping lines below warn (ending writes out what is kept).
  void buffer(bool on);
  /// Writes out the lines kept.
  void flush();
  /// flush() for a terminate handler: never waits (nothing is written while another call
  /// holds the log) and never throws.
  void salvage() noexcept;
  /// The line for an event, without the newline; `ts_ms` is its time in Unix milliseconds.
  std::string line(const notify::Event& e, std::int64_t ts_ms) const;

 private:
  void write_kept() const;  // with mu_ held

  bool json_;
  bool buffered_ = false;  // guarded by mu_, like kept_
  mutable std::mutex mu_;
  mutable std::string kept_;
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
