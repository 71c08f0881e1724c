// SPDX-License-Identifier: MIT
// Private to the adapters that sign with OpenSSL: loading a PEM private key and signing
// with it. Include only from src/ files of adapters linking OpenSSL::Crypto.
#pragma once

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "notify/result.hpp"

namespace notify::toolkit {

struct FreePrivateKey {
  void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
};

/// An OpenSSL private key, freed with its owner.
using PrivateKey = std::unique_ptr<EVP_PKEY, FreePrivateKey>;

/// What a caller says, in its own words, when its key cannot be loaded.
struct PrivateKeyErrors {
  Error out_of_memory;  ///< the PEM text could not be read at all
  Error not_pem;        ///< it holds no PEM private key
  Error wrong_type;     ///< the key is not of the type asked for
};

/// The private key in `pem`, of OpenSSL type `type` (EVP_PKEY_RSA, EVP_PKEY_EC, ...).
/// Leaves OpenSSL's error queue empty.
inline Result<PrivateKey> load_private_key(std::string_view pem, int type, PrivateKeyErrors errors) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (!bio) return std::move(errors.out_of_memory);
  PrivateKey key(PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  ERR_clear_error();
  if (!key) return std::move(errors.not_pem);
  if (EVP_PKEY_get_base_id(key.get()) != type) return std::move(errors.wrong_type);
  return key;
}

/// The signature of `data` with SHA-256 and `key` as OpenSSL makes it (RSA: PKCS #1 v1.5;
/// EC: DER-encoded ECDSA); nullopt when signing fails. Leaves OpenSSL's error queue empty.
inline std::optional<std::string> sign_sha256(EVP_PKEY* key, std::string_view data) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::string sig;
  std::size_t len = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(data.data());
  bool ok = ctx && EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestSign(ctx, nullptr, &len, in, data.size()) == 1;
  if (ok) {
    sig.resize(len);
    ok = EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len, in, data.size()) == 1;
    sig.resize(len);
  }
  EVP_MD_CTX_free(ctx);
  ERR_clear_error();
  if (!ok) return std::nullopt;
  return sig;
}

}  // namespace notify::toolkit
