// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "notify/apns/auth.hpp"

using notify::Errc;
using notify::apns::Signer;

namespace {

/// A fresh P-256 key for this test run (never a committed key), as PKCS#8 PEM and EVP_PKEY.
struct TestKey {
  EVP_PKEY* pkey = EVP_EC_gen("P-256");
  std::string pem;
  TestKey() {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, pkey, nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    pem.assign(data, static_cast<std::size_t>(n));
    BIO_free(bio);
  }
  ~TestKey() { EVP_PKEY_free(pkey); }
};

const TestKey& test_key() {
  static const TestKey key;
  return key;
}

std::string base64url_decode(std::string_view s) {
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const char* at = std::strchr(alphabet, c);
    REQUIRE(at != nullptr);
    acc = acc << 6 | static_cast<std::uint32_t>(at - alphabet);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

/// r || s back to DER, to check a JWS signature with OpenSSL's own verifier.
std::string raw_to_der(const std::string& raw) {
  ECDSA_SIG* sig = ECDSA_SIG_new();
  const auto* p = reinterpret_cast<const unsigned char*>(raw.data());
  ECDSA_SIG_set0(sig, BN_bin2bn(p, 32, nullptr), BN_bin2bn(p + 32, 32, nullptr));
  unsigned char* der = nullptr;
  const int n = i2d_ECDSA_SIG(sig, &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(n));
  OPENSSL_free(der);
  ECDSA_SIG_free(sig);
  return out;
}

bool verifies(EVP_PKEY* key, std::string_view data, const std::string& der) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
                  EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(der.data()), der.size(),
                                   reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

}  // namespace

TEST_CASE("the provider token's header is ES256 with the key id and its claims the team id and iat") {
  const std::string input = notify::apns::jwt_signing_input("ABC123DEFG", "DEF123GHIJ", 1700000000);
  const auto dot = input.find('.');
  REQUIRE(dot != std::string::npos);
  CHECK(nlohmann::json::parse(base64url_decode(input.substr(0, dot))) ==
        nlohmann::json{{"alg", "ES256"}, {"kid", "ABC123DEFG"}});
  CHECK(nlohmann::json::parse(base64url_decode(input.substr(dot + 1))) ==
        nlohmann::json{{"iss", "DEF123GHIJ"}, {"iat", 1700000000}});
}

TEST_CASE("the provider token is signed ES256: a 64-byte r||s signature that verifies with the public key") {
  auto signer = Signer::load(test_key().pem);
  REQUIRE(signer.has_value());
  for (int i = 0; i < 20; ++i) {  // r or s with leading zero bytes come up now and then
    auto jwt = notify::apns::make_jwt("ABC123DEFG", "DEF123GHIJ", *signer, 1700000000 + i);
    REQUIRE(jwt.has_value());
    const auto last = jwt->rfind('.');
    const std::string raw = base64url_decode(std::string_view(*jwt).substr(last + 1));
    REQUIRE(raw.size() == 64);
    CHECK(verifies(test_key().pkey, std::string_view(*jwt).substr(0, last), raw_to_der(raw)));
  }
}

TEST_CASE("der_to_raw pads short integers, drops DER's sign byte and refuses malformed input") {
  // SEQUENCE { INTEGER 0x01, INTEGER 0x00 0xff... (33 bytes with the sign byte) }
  std::string der = "\x30\x26\x02\x01\x01\x02\x21";
  der += '\0';
  der += std::string(32, '\xff');
  der[1] = static_cast<char>(der.size() - 2);
  const std::string raw = notify::apns::der_to_raw(der);
  REQUIRE(raw.size() == 64);
  CHECK(raw.substr(0, 31) == std::string(31, '\0'));
  CHECK(raw[31] == '\x01');
  CHECK(raw.substr(32) == std::string(32, '\xff'));
  CHECK(notify::apns::der_to_raw("not der").empty());
  CHECK(notify::apns::der_to_raw(der + "x").empty());  // trailing bytes
  std::string big = "\x30\x27\x02\x01\x01\x02\x22";
  big += std::string(34, '\x7f');
  big[1] = static_cast<char>(big.size() - 2);
  CHECK(notify::apns::der_to_raw(big).empty());  // a 34-byte integer does not fit P-256
}

TEST_CASE("a key that is not an EC P-256 PEM key is refused without quoting it") {
  const auto garbage = Signer::load("-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n");
  REQUIRE_FALSE(garbage.has_value());
  CHECK(garbage.error().code == Errc::configuration);
  CHECK(garbage.error().message.find("not base64") == std::string::npos);
  EVP_PKEY* p384 = EVP_EC_gen("P-384");
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, p384, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  const std::string pem(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  EVP_PKEY_free(p384);
  const auto wrong_curve = Signer::load(pem);
  REQUIRE_FALSE(wrong_curve.has_value());
  CHECK(wrong_curve.error().message.find("P-256") != std::string::npos);
}

TEST_CASE("credentials are read from the .p8 file and a missing file or id is a configuration error") {
  const auto path = std::filesystem::temp_directory_path() / "notify-apns-unit-test.p8";
  std::ofstream(path) << test_key().pem;
  const auto c = notify::apns::read_credentials(path.string(), "ABC123DEFG", "DEF123GHIJ");
  std::filesystem::remove(path);
  REQUIRE(c.has_value());
  CHECK(c->key_pem == test_key().pem);
  CHECK(c->key_id == "ABC123DEFG");
  CHECK(notify::apns::read_credentials("/nonexistent/key.p8", "a", "b").error().code == Errc::configuration);
  CHECK(notify::apns::read_credentials(path.string(), "", "b").error().path == "key_id");
  CHECK(notify::apns::read_credentials(path.string(), "a", "").error().path == "team_id");
}
