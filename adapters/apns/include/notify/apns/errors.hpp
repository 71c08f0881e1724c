// SPDX-License-Identifier: MIT
#pragma once

/// The one place where APNs answers (HTTP status, {"reason","timestamp"} body, Retry-After)
/// and transport failures become push outcomes. Pure: no I/O, tested as a table.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "notify/http2/transport.hpp"
#include "notify/transport.hpp"

namespace notify::apns {

using Transport = http2::Transport;

/// One answer as the provider saw it.
struct Reply {
  Transport transport = Transport::ok;
  int status = 0;                ///< the HTTP status when transport == ok
  std::string_view body;
  std::string_view retry_after;  ///< the Retry-After header, empty when absent
  std::string_view error;        ///< the transport's description when transport != ok
  std::string_view apns_id;      ///< the request's apns-id (the detail of a sent push)
};

/// An APNs error body {"reason":"...","timestamp":<Unix ms>}.
struct ErrorBody {
  std::string reason;          ///< empty when absent or unreadable (at most 64 bytes kept)
  std::int64_t timestamp_ms = 0;  ///< 410 only: since when the token is invalid; 0 if absent
};

/// Reads an error body; never fails (an unreadable body gives an empty reason).
ErrorBody parse_error_body(std::string_view body);

/// The delay after a 429 without Retry-After.
inline constexpr std::chrono::seconds default_throttle_delay{60};

/// The outcome of one push from its reply:
///  200                                             sent (detail: the apns-id)
///  410 (Unregistered, ExpiredToken)                invalid_token, invalid_since_ms = timestamp
///  400 BadDeviceToken, DeviceTokenNotForTopic      invalid_token
///  429 TooManyRequests                             retry, outage, scope token (one device's rate)
///  429 TooManyProviderTokenUpdates, other 429      retry, outage, scope provider
///  500, 503, other 5xx, timeouts, broken or
///  refused connections                             retry, outage, scope provider
///      (429/5xx after Retry-After when given, else 60 s for 429)
///  403 (ExpiredProviderToken, InvalidProviderToken,
///  MissingProviderToken, Forbidden, BadCertificate…),
///  400 BadTopic / MissingTopic / TopicDisallowed,
///  404, 405, TLS, setup                            fatal (credentials or configuration)
///  413 PayloadTooLarge, other 400                  failed (this payload will never pass)
///  anything else                                   retry, scope push, not an outage
PushResult classify(const Reply& reply, std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

/// True for a 403 a fresh provider token may cure (ExpiredProviderToken,
/// InvalidProviderToken, MissingProviderToken).
bool needs_new_token(const Reply& reply);

}  // namespace notify::apns
