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

/// The HTTP/2 client that carries messages:send and the access-token requests.
enum class HttpClient : std::uint8_t {
  /// nghttp2 sessions over OpenSSL or plain sockets: few system calls per push. libcurl is
  /// never called. The token endpoint must speak HTTP/2 (Google's does).
  nghttp2,
  curl,  ///< libcurl multi; on libcurl before 8.0 h2c connections are not reused and
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
  /// HTTP/2 connections to the endpoint, kept open across calls.
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
  /// When the access token in use was obtained (the epoch: none yet).
  std::chrono::steady_clock::time_point token_obtained{};
};

/// Sends pushes to FCM, one messages:send request per token, all multiplexed over a few
/// warm HTTP/2 connections.
///
/// Two ways in, one engine underneath:
///  - submit() / poll() / in_flight() (notify::AsyncPushProvider): submit() only queues a
///    push under the caller's tag and never touches the network; poll() sends what is
///    queued (up to connections * streams_per_connection at once), appends every answer
///    that is ready to `out` as {tag, result}, and waits up to `wait` only while none is
///    ready. Each submitted push is answered exactly once, in completion order. With
///    nothing in flight poll() returns at once (after handling what idle connections
///    received). in_flight() counts pushes submitted and not yet returned by poll(). What
///    a submitted Push points to (message, token) must stay valid until it is answered.
///  - send() submits a batch and polls until all of it is answered: one result per push,
///    in order. It may run while submitted pushes are in flight; their answers are kept
///    for poll().
/// Neither ever sleeps: they only wait for the network.
///
/// The retries made inside, at most one of each per submitted push:
///  - a push answered 401 UNAUTHENTICATED is sent again after the access token has been
///    renewed (one renewal however many pushes are in flight);
///  - a push whose stream or connection broke (reset, GOAWAY, closed) is sent again at
///    once on a fresh stream. FCM may already have taken it: the caller's own retry would
///    repeat it just the same, only later. (With the nghttp2 client, a stream the server
///    did not process, refused or above a GOAWAY's last stream id, is simply queued again
///    and is not counted as a retry.)
/// Everything else that may pass later (timeouts, refused connections, 429, 5xx) comes
/// back as PushStatus::retry, with FCM's Retry-After and its RetryScope (see classify()).
/// After a fatal answer (credentials, configuration) pushes not yet started come back as
/// retry (an outage) and are not sent; when the access token cannot be had, the pushes
/// waiting for it fail (retry or fatal, as the token endpoint's answer says), and a token
/// request that failed for a passing reason is repeated at most once a second. Once every
/// push submitted so far has been answered, the next one starts afresh.
///
/// Meant to be driven from one thread (not thread-safe by design). Every member takes one
/// lock, so calls from several threads are serialized rather than racing: a submit() or
/// stats() from another thread waits for a running poll() (up to its `wait`) or send().
class PushProvider {
 public:
  /// Loads the key and prepares the connection pools; no network traffic yet. With the
  /// nghttp2 client a token_uri that is no http(s) URL fails here (path "token_uri").
  static Result<PushProvider> create(ServiceAccount account, Options options = {});

  PushProvider(PushProvider&&) noexcept;
  PushProvider& operator=(PushProvider&&) noexcept;
  ~PushProvider();

  /// One result per push, in order, once every push is answered.
  std::vector<PushResult> send(std::span<const Push> pushes);

  /// Queues one push under `tag`; never waits on the network. A push without a message or
  /// a token is answered at once as sent ("skipped: no token").
  void submit(const Push& push, std::uint64_t tag);

  /// Sends what is queued and appends the answers that are ready; waits up to `wait` only
  /// while none is, and returns at once when nothing is in flight.
  void poll(std::chrono::milliseconds wait, std::vector<PushDone>& out);

  /// Pushes submitted and not yet returned by poll().
  std::size_t in_flight() const;

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
static_assert(notify::AsyncPushProvider<PushProvider>);

}  // namespace notify::fcm
