// SPDX-License-Identifier: MIT
#pragma once

/// APNs token-based authentication: the .p8 signing key (EC P-256), its key id and the
/// team id, and the ES256 JWT made from them (header {"alg":"ES256","kid"}, claims
/// {"iss","iat"}). The key never appears in logs or error messages.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "notify/result.hpp"

namespace notify::apns {

/// What token-based authentication needs.
struct Credentials {
  std::string key_pem;  ///< the .p8 file's contents (a PKCS#8 EC P-256 private key): a secret
  std::string key_id;   ///< the key's 10-character id (JWT header "kid")
  std::string team_id;  ///< the developer team's 10-character id (JWT claim "iss")
};

/// Reads the .p8 file; fails with Errc::configuration (naming the file, never its content).
Result<Credentials> read_credentials(const std::string& key_file, std::string key_id, std::string team_id);

/// base64url(header) "." base64url(claims) for a token issued at `iat` (Unix seconds).
std::string jwt_signing_input(std::string_view key_id, std::string_view team_id, std::int64_t iat);

/// An ECDSA signature as DER (SEQUENCE { r INTEGER, s INTEGER }) to JWS's fixed-size
/// r || s (32 bytes each for P-256). Empty when the DER is malformed or a part is too long.
std::string der_to_raw(std::string_view der, std::size_t part_bytes = 32);

/// An EC P-256 private key loaded once, signing with ECDSA SHA-256 (JWS "ES256").
class Signer {
 public:
  /// Loads a PEM private key (PKCS#8, as the .p8 file holds it). Errc::configuration when it
  /// is not a PEM key or not on P-256.
  static Result<Signer> load(std::string_view pem);

  Signer(Signer&&) noexcept;
  Signer& operator=(Signer&&) noexcept;
  ~Signer();

  /// The JWS signature of `data`: r || s, 64 bytes.
  Result<std::string> sign(std::string_view data) const;

 private:
  struct Key;
  explicit Signer(std::unique_ptr<Key> key) noexcept;
  std::unique_ptr<Key> key_;
};

/// The complete provider token (header.claims.signature) issued at `iat`.
Result<std::string> make_jwt(std::string_view key_id, std::string_view team_id, const Signer& signer, std::int64_t iat);

}  // namespace notify::apns
