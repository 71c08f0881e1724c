// SPDX-License-Identifier: MIT
// Private to the adapters that sign with OpenSSL: HMAC-SHA256 and standard Base64.
// Include only from src/ files of adapters linking OpenSSL::Crypto.
#pragma once

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>
#include <string_view>

#include "notify/result.hpp"

namespace notify::toolkit {

/// Raw HMAC-SHA256 of `data` under `key` (32 bytes). Leaves no copy of the MAC on the stack.
inline std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  const unsigned char* ok = HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
                                 reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &len);
  NOTIFY_ASSERT(ok != nullptr);
  std::string out(reinterpret_cast<const char*>(md), len);
  OPENSSL_cleanse(md, sizeof md);
  return out;
}

/// Standard Base64 (RFC 4648 section 4, '+' '/' and '=' padding) of `bytes`.
inline std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  NOTIFY_ASSERT(n >= 0);
  out.resize(static_cast<std::size_t>(n));
  return out;
}

}  // namespace notify::toolkit
