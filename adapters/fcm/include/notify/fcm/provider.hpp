// SPDX-License-Identifier: MIT
#pragma once

/// notify::fcm::PushProvider: FCM HTTP v1 over multiplexed HTTP/2 (nghttp2 + OpenSSL, or
/// libcurl multi, behind a pimpl: this header needs neither nghttp2, curl nor OpenSSL).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "notify/fcm/auth.hpp"
#include "notify/result.hpp"
#include "notify/transport.hpp"

namespace notify::fcm {

/// The real FCM API.
inline constexpr std::string_view default_endpoint = "https://fcm.googleapis.com";

/// The HTTP/2 client that carries messages:send (access tokens always come through libcurl).
enum class HttpClient : std::uint8_t {
  nghttp2,  ///< nghttp2 sessions over OpenSSL or plain sockets: few system calls per push
  curl,     ///< libcurl multi; on libcurl before 8.0 h2c connections are not reused and
            ///< streams answered without content-length end with RST_STREAM
};

struct Options {
  HttpClient transport = HttpClient::nghttp2;
  /// Base URL of the FCM API. An `http://` URL speaks HTTP/2 in cleartext (prior
  /// knowledge), for tests (with the curl client before libcurl 8.0, one request per
  /// connection: it cannot reuse such a connection); `https://` always verifies the
  /// server's certificate (ALPN h2, SNI, host name or IP address checked).
  std::string endpoint = std::string(default_endpoint);
  /// Overrides the service account's project_id when not empty.
  std::string project_id;
  /// A PEM file of CA certificates trusted instead of the system's (e.g. a test CA).
  std::string ca_file;
  /// HTTP/2 connections to the endpoint, kept open across send() calls.
  std::size_t connections = 8;
  /// Concurrent streams per connection (the server's own limit applies too). With the curl
  /// client, libcurl's work per wake-up grows with the streams of a connection: prefer
  /// more connections there.
  std::size_t streams_per_connection = 50;
  /// Time allowed for one request, from queueing to the last byte of the answer.
  std::chrono::milliseconds request_timeout{15000};
  std::chrono::milliseconds connect_timeout{5000};
  /// The access token is renewed this long before it expires (at most half its lifetime).
  std::chrono::seconds renew_before{300};
  /// Dry run: FCM validates every message but delivers none.
  bool validate_only = false;
};

/// Counters since construction, for tests, logs and benchmarks.
struct Stats {
  std::uint64_t requests = 0;        ///< messages:send requests made (retries included)
  std::uint64_t token_requests = 0;  ///< access-token requests made
  std::uint64_t auth_retries = 0;    ///< pushes re-sent once after a 401 with a new token
  std::uint64_t connection_retries = 0;  ///< pushes re-sent once after their connection broke
};

/// Sends pushes to FCM, one messages:send request per token, all multiplexed over a few
/// warm HTTP/2 connections.
///
/// send() returns one result per push, in order, and only waits for the answers: it never
/// sleeps. The retries it makes itself, at most one of each per push and call:
///  - a push answered 401 UNAUTHENTICATED is sent again after the access token has been
///    renewed (one renewal however many pushes are in flight);
///  - a push whose stream or connection broke (reset, GOAWAY, closed) is sent again at
///    once on a fresh stream. FCM may already have taken it: the caller's own retry would
///    repeat it just the same, only later. (With the nghttp2 client, a stream the server
///    did not process, refused or above a GOAWAY's last stream id, is simply queued again
///    and is not counted as a retry.)
/// Everything else that may pass later (timeouts, refused connections, 429, 5xx) comes
/// back as PushStatus::retry, with FCM's Retry-After, for the caller's backoff. After a
/// fatal answer (credentials, configuration) pushes not yet started come back as retry
/// and are not sent.
/// Not thread-safe to share without care: concurrent send() calls are serialized.
class PushProvider {
 public:
  /// Loads the key and prepares the connection pool; no network traffic yet.
  static Result<PushProvider> create(ServiceAccount account, Options options = {});

  PushProvider(PushProvider&&) noexcept;
  PushProvider& operator=(PushProvider&&) noexcept;
  ~PushProvider();

  std::vector<PushResult> send(std::span<const Push> pushes);

  /// Obtains an access token now unless a valid one is cached: checks the credentials
  /// at start-up rather than at the first push.
  Result<void> connect();

  Stats stats() const;

 private:
  class Impl;
  explicit PushProvider(std::unique_ptr<Impl> impl) noexcept;
  std::unique_ptr<Impl> impl_;
};

static_assert(notify::PushProvider<PushProvider>);

}  // namespace notify::fcm
