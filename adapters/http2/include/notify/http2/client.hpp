// SPDX-License-Identifier: MIT
#pragma once

// A small HTTP/2 client for one origin, on nghttp2 (framing) and OpenSSL (TLS through
// memory BIOs), driven by the caller's epoll loop. Shared by the push providers
// (notify::fcm, notify::apns) as the static library notify::http2, so one copy of it is
// linked however many providers a program uses. This header includes neither nghttp2 nor
// OpenSSL.
//
// A pool of up to N connections, each an nghttp2 client session carrying up to M streams
// (fewer if the server's SETTINGS_MAX_CONCURRENT_STREAMS says so). Per connection and loop
// iteration: at most one read() per readiness event and one write() for every frame ready.
// Connections stay open between calls; a connection that broke or received GOAWAY is
// replaced on demand. Requests the server did not process (above GOAWAY's last stream id,
// REFUSED_STREAM) are queued again; the others on a broken connection end as broken.

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "notify/http2/transport.hpp"
#include "notify/result.hpp"

namespace notify::http2 {

using Clock = std::chrono::steady_clock;

/// epoll data of the pool's sockets carry this bit, the pool's Config::epoll_id in bits
/// 32-62 and the connection's slot in bits 0-31.
inline constexpr std::uint64_t epoll_tag = std::uint64_t{1} << 63;

/// The Config::epoll_id of the pool whose socket an epoll event with `data` (epoll_tag
/// set) is about: tells apart several pools on one epoll fd.
constexpr std::uint32_t epoll_id_of(std::uint64_t data) noexcept {
  return static_cast<std::uint32_t>((data & ~epoll_tag) >> 32);
}

struct Target {
  bool tls = true;
  std::string host;       ///< without brackets for IPv6
  std::string port;
  std::string authority;  ///< host[:port] as in the URL
  std::string path;       ///< from the first '/', "/" when absent
};

/// Splits an http:// or https:// URL.
Result<Target> parse_url(std::string_view url);

struct Config {
  Target target;
  std::string ca_file;  ///< empty: the system's CAs; read once per process, shared by every pool
  std::size_t connections = 8;
  std::size_t streams_per_connection = 50;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds request_timeout{15000};
  /// Put in the epoll data of this pool's sockets (at most 2^31 - 1): a caller with two
  /// pools on one epoll fd gives them different ids and routes events by epoll_id_of().
  std::uint32_t epoll_id = 0;
};

/// A finished request.
struct Done {
  std::uint64_t tag = 0;
  Transport transport = Transport::ok;
  int status = 0;
  std::string body;
  std::string retry_after;
  std::string error;
};

/// One request header beyond the pseudo-headers, content-type, content-length and
/// authorization (names in lower case, as HTTP/2 wants them).
struct Header {
  std::string name;
  std::string value;
  /// Kept in the HPACK dynamic table (repeated values cost a byte or two after the first
  /// request); false for values that change with every request (ids).
  bool indexed = true;
};

/// A POST to the pool's origin.
struct Request {
  std::string path;  ///< empty: the target's path
  std::string body;
  std::vector<Header> headers;
  std::string content_type;  ///< empty: application/json
  /// The body and the answer are secrets (an OAuth assertion, an access token): the
  /// pool's copies are overwritten before their memory is released.
  bool secret = false;
};

class Pool {
 public:
  /// `epoll_fd` is the caller's; the pool adds its sockets with data.u64 = epoll_tag |
  /// config.epoll_id << 32 | slot.
  static Result<std::unique_ptr<Pool>> create(Config config, int epoll_fd);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  /// Queues a POST of `body` to the target's path; its Done comes back from take().
  void post(std::uint64_t tag, std::string body, std::string_view authorization);

  /// Queues a POST to `request.path` (the target's path when empty) with its extra headers.
  /// The authorization value is stored once for all the requests that share it; an empty
  /// one sends no authorization header.
  void post(std::uint64_t tag, Request request, std::string_view authorization);

  /// A readiness event for one of this pool's sockets: data.u64 (epoll_tag and the
  /// epoll_id bits may be left in or masked off).
  void on_event(std::uint64_t data, std::uint32_t events);

  /// Closes the connections that carry no request, when none is queued (a pool used once
  /// an hour need not keep one open; the next post() opens a fresh one).
  void close_idle();

  /// Opens connections as needed, starts queued requests, writes what is ready, expires
  /// what took too long. Call once per loop iteration, after the events.
  void pump();

  /// Moves the finished requests out (appends to `out`).
  void take(std::vector<Done>& out);

  /// When pump() must run again at the latest.
  Clock::time_point next_deadline() const;

  std::size_t pending() const;  ///< requests queued or in flight
  /// TLS handshakes that resumed a session the server handed out on an earlier connection
  /// (the first connection opens alone so that the others can).
  std::size_t resumed() const;

 private:
  struct Impl;
  explicit Pool(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace notify::http2
