// SPDX-License-Identifier: MIT
#pragma once

/// An InboxSink that appends each request's inbox body to a Redis stream (notify-worker's
/// `--inbox redis://HOST:PORT/STREAM`), for the main API to consume. Each entry has one field, `body`:
/// the JSON array of inbox records of one request (SPEC.md, "Inbox record").

#include <cstddef>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "notify/redis/connection.hpp"
#include "notify/transport.hpp"

namespace notify::redis {

/// notify::InboxSink on a Redis stream: one pipelined XADD per batch.
class StreamInbox {
 public:
  StreamInbox(Options options, std::string stream, std::size_t max_length = 1000000)
      : conn_(std::move(options)), stream_(std::move(stream)), max_length_(max_length) {}

  /// Appends every body (XADD MAXLEN ~): one round trip. A failure leaves the caller to
  /// retry, so a body may be appended twice when only the reply was lost.
  notify::Result<void> publish(std::span<const std::string> bodies) {
    if (bodies.empty()) return {};
    std::vector<Command> commands;
    commands.reserve(bodies.size());
    for (const std::string& body : bodies) {
      Command c{"XADD", stream_};
      if (max_length_ > 0) c.insert(c.end(), {"MAXLEN", "~", std::to_string(max_length_)});
      c.insert(c.end(), {"*", "body", body});
      commands.push_back(std::move(c));
    }
    auto replies = conn_.pipeline(commands);
    if (!replies) return replies.error();
    for (const Reply& r : *replies)
      if (r.is_error()) return reply_error(r, "XADD " + stream_);
    return {};
  }

  const std::string& stream() const noexcept { return stream_; }

 private:
  Connection conn_;
  std::string stream_;
  std::size_t max_length_;
};

static_assert(notify::InboxSink<StreamInbox>);

}  // namespace notify::redis
