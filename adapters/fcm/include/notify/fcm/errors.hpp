// SPDX-License-Identifier: MIT
#pragma once

/// The one place where FCM answers (HTTP status, error body, Retry-After) and transport
/// failures become push outcomes. Pure: no I/O, tested as a table.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "notify/http2/transport.hpp"
#include "notify/result.hpp"
#include "notify/transport.hpp"

namespace notify::fcm {

/// How an exchange ended below HTTP (shared with notify::apns and the HTTP/2 client).
using Transport = http2::Transport;

/// One answer as the provider saw it.
struct Reply {
  Transport transport = Transport::ok;
  int status = 0;                ///< the HTTP status when transport == ok
  std::string_view body;
  std::string_view retry_after;  ///< the Retry-After header, empty when absent
  std::string_view error;        ///< the transport's description when transport != ok
};

/// The interesting part of a Google API error body
/// {"error":{"code","message","status","details":[{"@type":"...FcmError","errorCode"},...]}}.
struct ErrorBody {
  std::string code;          ///< the FcmError errorCode if any, else error.status; empty if unreadable
  std::string message;       ///< error.message, at most 200 bytes
  bool about_token = false;  ///< a BadRequest field violation names message.token, or the message
                             ///< speaks of the registration token
  /// A quota of the whole project was exceeded: a google.rpc.QuotaFailure violation whose
  /// subject names a project ("project:<id>", "project_number:<n>", "projects/<id>"), or a
  /// google.rpc.ErrorInfo with reason RATE_LIMIT_EXCEEDED whose metadata.consumer does.
  bool project_quota = false;
};

/// Reads an error body; never fails (an unreadable body gives an empty code).
ErrorBody parse_error_body(std::string_view body);

/// Retry-After as delta-seconds or an HTTP-date; nullopt when absent or unreadable.
/// A date in the past gives 0 s.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                      std::chrono::system_clock::time_point now);

/// The delay after a 429 without Retry-After: FCM asks for an initial backoff of at least a
/// minute (kept from before the scopes existed).
inline constexpr std::chrono::seconds default_quota_delay{60};
/// Retry-After values are honoured up to this bound.
inline constexpr std::chrono::seconds max_retry_after{3600};

/// The outcome of one push from its reply:
///  2xx                                         sent (detail: the message name)
///  UNREGISTERED, SENDER_ID_MISMATCH,
///  INVALID_ARGUMENT about the token             invalid_token
///  QUOTA_EXCEEDED / 429                         retry, outage, after Retry-After, else 60 s;
///                                               scope token (a device's message rate), or
///                                               provider when the project's quota ran out
///  UNAVAILABLE, INTERNAL, other 5xx, 408,
///  timeouts, broken or refused connections      retry, outage, scope provider (after
///                                               Retry-After when given)
///  THIRD_PARTY_AUTH_ERROR, UNAUTHENTICATED,
///  PERMISSION_DENIED, other 401/403/404, TLS     fatal (credentials or configuration)
///  other INVALID_ARGUMENT and 4xx               failed (this payload will never pass)
///  anything else (1xx, 3xx)                      retry, scope push, not an outage
/// An outage is a service condition (down, unreachable, throttled): it never counts
/// toward dead-lettering a record.
/// `now` dates an HTTP-date Retry-After.
PushResult classify(const Reply& reply, std::chrono::system_clock::time_point now);
/// The same at the current time, read only when the answer is not a success.
PushResult classify(const Reply& reply);

/// True for a 401 a fresh access token may cure (not THIRD_PARTY_AUTH_ERROR).
bool needs_new_token(const Reply& reply);

/// The "name" of a success body ("projects/<p>/messages/<id>"), empty when absent.
std::string message_name(std::string_view body);

/// What a failed access-token request means: Errc::unauthenticated when the token endpoint
/// rejected the service account (fatal), Errc::unavailable / timeout when it may pass later.
Error token_error(const Reply& reply);

}  // namespace notify::fcm
