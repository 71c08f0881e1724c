// SPDX-License-Identifier: MIT
#pragma once

/// Service-account credentials and the OAuth2 JWT-bearer grant FCM needs: parsing the key
/// file, building and RS256-signing the assertion, reading the token endpoint's answer.
/// The private key and access tokens never appear in an error message.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "notify/result.hpp"

namespace notify::fcm {

/// The OAuth2 scope of FCM HTTP v1.
inline constexpr std::string_view messaging_scope = "https://www.googleapis.com/auth/firebase.messaging";
/// Google's token endpoint, used when the key file names none.
inline constexpr std::string_view default_token_uri = "https://oauth2.googleapis.com/token";
/// Lifetime asked for in the assertion (Google accepts at most one hour).
inline constexpr std::chrono::seconds assertion_lifetime{3600};

/// The fields of a service-account JSON key file that FCM needs.
struct ServiceAccount {
  std::string project_id;
  std::string client_email;
  std::string private_key;     ///< PEM; a secret
  std::string private_key_id;  ///< optional; sent as the JWT "kid"
  std::string token_uri = std::string(default_token_uri);
};

/// Reads a service-account key file's JSON. project_id, client_email and private_key are
/// required; token_uri is honoured when present.
Result<ServiceAccount> parse_service_account(std::string_view json);
/// Reads and parses a service-account key file.
Result<ServiceAccount> read_service_account(const std::string& path);

/// Base64url without padding (RFC 7515 section 2).
std::string base64url(std::string_view bytes);

/// The unsigned part of the assertion: base64url(header) "." base64url(claims), with
/// iss = client_email, scope, aud = token_uri, iat = now, exp = now + assertion_lifetime.
std::string jwt_signing_input(const ServiceAccount& account, std::int64_t now_unix);

/// An RSA private key loaded once, signing with RSASSA-PKCS1-v1_5 SHA-256 (JWS "RS256").
class Signer {
 public:
  /// Loads a PEM private key (PKCS#8 or PKCS#1). Fails with Errc::configuration.
  static Result<Signer> load(std::string_view pem);

  Signer(Signer&&) noexcept;
  Signer& operator=(Signer&&) noexcept;
  ~Signer();

  /// The raw signature of `data`.
  Result<std::string> sign(std::string_view data) const;

 private:
  struct Key;
  explicit Signer(std::unique_ptr<Key> key) noexcept;
  std::unique_ptr<Key> key_;
};

/// The complete signed assertion (header.claims.signature).
Result<std::string> make_assertion(const ServiceAccount& account, const Signer& signer, std::int64_t now_unix);

/// The form body of the token request for an assertion.
std::string token_request_body(std::string_view assertion);

/// An access token as the token endpoint issued it.
struct AccessToken {
  std::string value;  ///< a secret
  std::chrono::seconds expires_in{0};
};

/// Reads {"access_token","expires_in","token_type"}. Fails with Errc::protocol_error.
Result<AccessToken> parse_token_response(std::string_view json);

/// Overwrites a secret's bytes before its memory is released.
void wipe(std::string& secret) noexcept;

}  // namespace notify::fcm
