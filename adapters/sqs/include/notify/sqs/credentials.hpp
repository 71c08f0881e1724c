// SPDX-License-Identifier: MIT
#pragma once

/// Where AWS credentials come from: the environment (AWS_ACCESS_KEY_ID, as in Lambda) or the
/// container credentials endpoint (ECS, EKS Pod Identity, Lambda SnapStart). Errors never
/// contain a secret key, a session token or the endpoint's authorization token.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "notify/result.hpp"
#include "notify/sqs/sigv4.hpp"

namespace notify::sqs {

/// Looks up one environment variable; nullopt when unset. std::getenv by default.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

/// Tuning of the container endpoint fetch.
struct CredentialOptions {
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds timeout{5000};        ///< the whole exchange
  std::chrono::seconds refresh_before{300};       ///< refresh this long before `expires`
};

/// Reads the container endpoint's answer {AccessKeyId, SecretAccessKey, Token, Expiration}.
/// Fails with Errc::protocol_error (the message names the field, never a value).
Result<Credentials> parse_container_credentials(std::string_view json);

/// An ISO 8601 UTC time as the endpoint writes it ("2026-11-23T20:38:25Z", fractions and
/// "+00:00" allowed); nullopt when unreadable.
std::optional<std::chrono::system_clock::time_point> parse_iso8601(std::string_view text);

/// Hands out credentials, fetching and caching them as their source requires.
/// get() may be called from several threads.
class CredentialProvider {
 public:
  /// AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN) first; else the
  /// container endpoint named by AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (on
  /// http://169.254.170.2) or AWS_CONTAINER_CREDENTIALS_FULL_URI, authorized by the
  /// contents of AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (re-read on each fetch) or by
  /// AWS_CONTAINER_AUTHORIZATION_TOKEN. Reads the environment once. Errc::configuration
  /// when nothing usable is set.
  static Result<CredentialProvider> from_environment();
  /// The same with an injected lookup (tests) and options.
  static Result<CredentialProvider> from_environment(const EnvLookup& getenv, CredentialOptions options = {});
  /// Always the given credentials.
  static CredentialProvider fixed(Credentials);

  CredentialProvider(CredentialProvider&&) noexcept;
  CredentialProvider& operator=(CredentialProvider&&) noexcept;
  ~CredentialProvider();

  /// Cached; container credentials are fetched again `refresh_before` ahead of `expires`
  /// (if that fetch fails while the cached ones are still valid, those are returned).
  /// Transport failures and 5xx answers give transient codes (Errc::unavailable, timeout,
  /// io_error, rate_limited).
  Result<Credentials> get();
  /// "environment", "container" or "fixed" (for logs; never secrets).
  std::string_view source() const noexcept;

 private:
  struct State;
  explicit CredentialProvider(std::unique_ptr<State>) noexcept;
  std::unique_ptr<State> state_;
};

}  // namespace notify::sqs
