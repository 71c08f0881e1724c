// SPDX-License-Identifier: MIT
#include "notify/apns/auth.hpp"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>

#include <fstream>
#include <iterator>

#include "notify/detail/json_writer.hpp"
#include "notify/fcm/auth.hpp"  // base64url
#include "notify/toolkit/secure.hpp"

namespace notify::apns {
namespace {

Error config_error(std::string message, std::string path = {}) {
  return {Errc::configuration, std::move(message), std::move(path)};
}

}  // namespace

Result<Credentials> read_credentials(const std::string& key_file, std::string key_id, std::string team_id) {
  if (key_id.empty()) return config_error("apns: the key id is missing", "key_id");
  if (team_id.empty()) return config_error("apns: the team id is missing", "team_id");
  std::ifstream in(key_file, std::ios::binary);
  if (!in) return config_error("apns: cannot read the signing key file " + key_file, "key");
  Credentials c;
  c.key_pem.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  c.key_id = std::move(key_id);
  c.team_id = std::move(team_id);
  return c;
}

std::string jwt_signing_input(std::string_view key_id, std::string_view team_id, std::int64_t iat) {
  using detail::write_int;
  using detail::write_string;
  std::string header = R"({"alg":"ES256","kid":)";
  write_string(header, key_id);
  header += '}';
  std::string claims = R"({"iss":)";
  write_string(claims, team_id);
  claims += R"(,"iat":)";
  write_int(claims, iat);
  claims += '}';
  return fcm::base64url(header) + "." + fcm::base64url(claims);
}

std::string der_to_raw(std::string_view der, std::size_t part_bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  ERR_clear_error();
  if (!sig) return {};
  std::string out;
  const bool whole = p == reinterpret_cast<const unsigned char*>(der.data() + der.size());
  const BIGNUM* r = ECDSA_SIG_get0_r(sig);
  const BIGNUM* s = ECDSA_SIG_get0_s(sig);
  const auto part = static_cast<int>(part_bytes);
  if (whole && BN_num_bytes(r) <= part && BN_num_bytes(s) <= part) {
    out.resize(2 * part_bytes);
    auto* o = reinterpret_cast<unsigned char*>(out.data());
    if (BN_bn2binpad(r, o, part) != part || BN_bn2binpad(s, o + part_bytes, part) != part) out.clear();
  }
  ECDSA_SIG_free(sig);
  return out;
}

struct Signer::Key {
  EVP_PKEY* pkey = nullptr;
  ~Key() { EVP_PKEY_free(pkey); }
};

Signer::Signer(std::unique_ptr<Key> key) noexcept : key_(std::move(key)) {}
Signer::Signer(Signer&&) noexcept = default;
Signer& Signer::operator=(Signer&&) noexcept = default;
Signer::~Signer() = default;

Result<Signer> Signer::load(std::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (!bio) return config_error("apns: out of memory reading the signing key");
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  ERR_clear_error();
  if (!pkey) return config_error("apns: the signing key is not a PEM private key", "key");
  auto key = std::make_unique<Key>();
  key->pkey = pkey;
  if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_EC)
    return config_error("apns: the signing key is not an EC key", "key");
  char group[64] = {};
  std::size_t len = 0;
  if (EVP_PKEY_get_group_name(pkey, group, sizeof group, &len) != 1 ||
      std::string_view(group, len) != std::string_view(SN_X9_62_prime256v1)) {
    ERR_clear_error();
    return config_error("apns: the signing key is not on the P-256 curve", "key");
  }
  return Signer(std::move(key));
}

Result<std::string> Signer::sign(std::string_view data) const {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::string der;
  std::size_t len = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(data.data());
  bool ok = ctx && EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key_->pkey) == 1 &&
            EVP_DigestSign(ctx, nullptr, &len, in, data.size()) == 1;
  if (ok) {
    der.resize(len);
    ok = EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(der.data()), &len, in, data.size()) == 1;
    der.resize(len);
  }
  EVP_MD_CTX_free(ctx);
  ERR_clear_error();
  std::string raw = ok ? der_to_raw(der) : std::string();
  if (raw.empty()) return config_error("apns: signing the provider token failed");
  return raw;
}

Result<std::string> make_jwt(std::string_view key_id, std::string_view team_id, const Signer& signer,
                             std::int64_t iat) {
  std::string input = jwt_signing_input(key_id, team_id, iat);
  auto sig = signer.sign(input);
  if (!sig) return sig.error();
  input += '.';
  input += fcm::base64url(*sig);
  return input;
}

}  // namespace notify::apns
