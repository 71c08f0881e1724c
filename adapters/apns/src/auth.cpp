// SPDX-License-Identifier: MIT
#include "notify/apns/auth.hpp"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include <fstream>
#include <iterator>

#include "notify/detail/json_writer.hpp"
#include "notify/fcm/auth.hpp"  // base64url
#include "notify/toolkit/private_key.hpp"
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
  toolkit::PrivateKey pkey;
};

Signer::Signer(std::unique_ptr<Key> key) noexcept : key_(std::move(key)) {}
Signer::Signer(Signer&&) noexcept = default;
Signer& Signer::operator=(Signer&&) noexcept = default;
Signer::~Signer() = default;

Result<Signer> Signer::load(std::string_view pem) {
  auto pkey = toolkit::load_private_key(pem, EVP_PKEY_EC,
                                        {config_error("apns: out of memory reading the signing key"),
                                         config_error("apns: the signing key is not a PEM private key", "key"),
                                         config_error("apns: the signing key is not an EC key", "key")});
  if (!pkey) return pkey.error();
  char group[64] = {};
  std::size_t len = 0;
  if (EVP_PKEY_get_group_name(pkey->get(), group, sizeof group, &len) != 1 ||
      std::string_view(group, len) != std::string_view(SN_X9_62_prime256v1)) {
    ERR_clear_error();
    return config_error("apns: the signing key is not on the P-256 curve", "key");
  }
  return Signer(std::make_unique<Key>(Key{std::move(*pkey)}));
}

Result<std::string> Signer::sign(std::string_view data) const {
  const auto der = toolkit::sign_sha256(key_->pkey.get(), data);
  std::string raw = der ? der_to_raw(*der) : std::string();
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
