// SPDX-License-Identifier: MIT
#pragma once

/// notify::apns::PushProvider: Apple Push Notification service over the shared HTTP/2
/// client (notify::http2) with token-based authentication. Behind a pimpl: this header
/// needs neither nghttp2 nor OpenSSL.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "notify/apns/auth.hpp"
#include "notify/result.hpp"
#include "notify/transport.hpp"

namespace notify::apns {

inline constexpr std::string_view production_endpoint = "https://api.push.apple.com";
inline constexpr std::string_view sandbox_endpoint = "https://api.sandbox.push.apple.com";

/// "production" and "sandbox" name Apple's hosts; anything else must be an http(s) URL
/// (http:// speaks HTTP/2 in cleartext, for tests). Errc::configuration otherwise.
Result<std::string> resolve_endpoint(std::string_view name_or_url);

struct Options {
  /// Base URL: production_endpoint, sandbox_endpoint, or an emulator's. Requests go to
  /// <endpoint>/3/device/<token>. `https://` always verifies the certificate.
  std::string endpoint = std::string(production_endpoint);
  /// apns-topic: the app's bundle id. Required.
  std::string topic;
  /// A PEM file of CA certificates trusted instead of the system's (e.g. a test CA).
  std::string ca_file;
  std::size_t connections = 2;
  std::size_t streams_per_connection = 100;
  std::chrono::milliseconds request_timeout{15000};
  std::chrono::milliseconds connect_timeout{5000};
  /// The provider token is reused for this long, then made afresh. APNs rejects tokens
  /// older than an hour and answers 429 TooManyProviderTokenUpdates to renewals more often
  /// than every 20 minutes: kept within [20, 55] minutes.
  std::chrono::minutes token_refresh{40};
  /// apns-expiration = now + this (APNs keeps an undelivered notification until then).
  std::chrono::seconds time_to_live{std::chrono::hours(24 * 28)};
};

/// Counters since construction, for tests, logs and benchmarks.
struct Stats {
  std::uint64_t requests = 0;            ///< POST /3/device requests made (retries included)
  std::uint64_t tokens_made = 0;         ///< provider tokens (JWTs) signed
  std::uint64_t auth_retries = 0;        ///< pushes re-sent once after a 403 provider-token error
  std::uint64_t connection_retries = 0;  ///< pushes re-sent once after their connection broke
};

/// Sends pushes to APNs, one POST /3/device/<token> per push, multiplexed over a few warm
/// HTTP/2 connections; the same two ways in as notify::fcm::PushProvider (submit / poll /
/// in_flight, and send for a batch), the same guarantees: every submitted push is answered
/// exactly once, nothing ever sleeps, not thread-safe by design (one lock serializes calls).
///
/// The provider token is signed locally (no network) when the first push needs it and
/// reused until `token_refresh` has passed. Retries made inside, at most one of each per
/// push: after a 403 provider-token error (the token is made afresh, once for all the
/// pushes that saw it and at most once in 20 minutes; a token made so and rejected again
/// is fatal), and after a broken stream or
/// connection. After a fatal answer the pushes not yet started come back as retry (an
/// outage) until every push submitted so far has been answered.
class PushProvider {
 public:
  /// Loads the key and prepares the connection pool; no network traffic yet.
  static Result<PushProvider> create(Credentials credentials, Options options);

  PushProvider(PushProvider&&) noexcept;
  PushProvider& operator=(PushProvider&&) noexcept;
  ~PushProvider();

  std::vector<PushResult> send(std::span<const Push> pushes);
  void submit(const Push& push, std::uint64_t tag);
  void poll(std::chrono::milliseconds wait, std::vector<PushDone>& out);
  std::size_t in_flight() const;
  Stats stats() const;

 private:
  class Impl;
  explicit PushProvider(std::unique_ptr<Impl> impl) noexcept;
  std::unique_ptr<Impl> impl_;
};

static_assert(notify::PushProvider<PushProvider>);
static_assert(notify::AsyncPushProvider<PushProvider>);

}  // namespace notify::apns
