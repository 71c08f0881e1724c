// SPDX-License-Identifier: MIT
#pragma once

/// A small HTTP/1.1 listener for /metrics, /healthz and /readyz: epoll, non-blocking,
/// one request per connection (answers carry `Connection: close`), GET and HEAD only.
///
/// It runs on its own thread (start()) so that the delivery loop, which blocks in the
/// queue's receive, never waits for a client and a stuck loop can still be reported by
/// /healthz. A loop that prefers to own every fd can instead poll fd() and call
/// run_once(0) when it is readable and at least every next_wait().
///
/// Bounded whatever clients do: at most `max_connections` at once (a new one evicts the
/// connection that has waited longest for its request, or is refused when every slot
/// is answering); a request head over `max_header_bytes` is answered 431 and closed;
/// a head not complete within `request_timeout`, an answer not taken within
/// `write_timeout`, and a closing connection after `linger_timeout` are closed.
/// Memory held is at most about max_connections x (max_header_bytes + an answer).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "notify/ops/http_request.hpp"
#include "notify/result.hpp"

namespace notify::ops {

/// What a handler answers. The listener adds Content-Length and Connection: close.
struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  ///< extra ones; no CR or LF
};

/// Called on the listener's thread for each well-formed GET or HEAD (for HEAD the body
/// is dropped). An exception it throws becomes a 500.
using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

/// Where and how to listen.
struct HttpListenerOptions {
  std::string listen = "127.0.0.1:0";  ///< HOST:PORT ("[::1]:9100", ":9100" for every IPv4 address); port 0: any free one
  std::size_t max_connections = 64;
  std::size_t max_header_bytes = 8 * 1024;
  std::chrono::milliseconds request_timeout{5000};  ///< accept to the end of the request head
  std::chrono::milliseconds write_timeout{5000};    ///< for the client to take the answer
  std::chrono::milliseconds linger_timeout{1000};   ///< after the answer, for the client's close
};

/// Counts since open(); read with relaxed atomics.
struct HttpListenerStats {
  std::uint64_t accepted = 0;
  std::uint64_t served = 0;     ///< answers handed to the kernel in full (any status)
  std::uint64_t rejected = 0;   ///< of which 4xx/5xx decided by the listener (parse errors, 405)
  std::uint64_t evicted = 0;    ///< closed to make room for a newer connection
  std::uint64_t refused = 0;    ///< closed at once: every slot busy answering
  std::uint64_t timed_out = 0;  ///< closed by a timeout
  std::size_t connections = 0;  ///< open now
  std::size_t peak_connections = 0;
};

/// Dispatches by exact path; anything else is 404.
class HttpRoutes {
 public:
  HttpRoutes& add(std::string path, HttpHandler handler) {
    routes_.emplace_back(std::move(path), std::move(handler));
    return *this;
  }
  HttpResponse operator()(const HttpRequest& request) const {
    for (const auto& [path, handler] : routes_)
      if (path == request.path) return handler(request);
    return HttpResponse{404, "text/plain; charset=utf-8", "not found\n", {}};
  }

 private:
  std::vector<std::pair<std::string, HttpHandler>> routes_;
};

/// The listener. Movable; its destructor stops the thread and closes every socket.
class HttpListener {
 public:
  /// Binds and listens (no thread yet). Errors: `configuration` for a malformed address
  /// or one that cannot be bound.
  static Result<HttpListener> open(HttpListenerOptions options, HttpHandler handler);

  HttpListener(HttpListener&&) noexcept;
  HttpListener& operator=(HttpListener&&) noexcept;
  ~HttpListener();

  /// The bound port (the ephemeral one when asked for port 0).
  std::uint16_t port() const noexcept;
  /// The bound address as HOST:PORT, e.g. "127.0.0.1:40123" or "[::1]:9100".
  std::string address() const;

  /// Serves on a thread of its own until stop() or destruction.
  void start();
  /// Stops the thread (if started); connections stay open until destruction.
  void stop();

  /// For a caller's own loop: an fd that is readable when run_once() has work.
  int fd() const noexcept;
  /// Handles what is ready, waiting up to `wait` for something; then closes what timed out.
  void run_once(std::chrono::milliseconds wait);
  /// The longest a caller's loop may wait before calling run_once() again.
  std::chrono::milliseconds next_wait() const;

  HttpListenerStats stats() const noexcept;

 private:
  struct Impl;
  explicit HttpListener(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// The reason phrase of a status this listener uses ("" for others).
std::string_view reason_phrase(int status) noexcept;

}  // namespace notify::ops
