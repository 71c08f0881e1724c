// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <nlohmann/json.hpp>
#include <cstring>
#include <string>

#include "notify/fcm/auth.hpp"
#include "notify/fcm/provider.hpp"

using notify::Errc;
using notify::fcm::base64url;
using notify::fcm::ServiceAccount;

namespace {

/// A fresh RSA key for this test run (never a committed key), as PEM and as EVP_PKEY.
struct TestKey {
  EVP_PKEY* pkey = EVP_RSA_gen(2048);
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

std::string account_json(const std::string& pem, std::string_view token_uri = {}) {
  nlohmann::json j = {{"type", "service_account"},
                      {"project_id", "family-app"},
                      {"private_key_id", "abc123"},
                      {"private_key", pem},
                      {"client_email", "worker@family-app.iam.gserviceaccount.com"},
                      {"client_id", "42"}};
  if (!token_uri.empty()) j["token_uri"] = token_uri;
  return j.dump();
}

}  // namespace

TEST_CASE("base64url encodes without padding (RFC 4648 vectors)") {
  CHECK(base64url("") == "");
  CHECK(base64url("f") == "Zg");
  CHECK(base64url("fo") == "Zm8");
  CHECK(base64url("foo") == "Zm9v");
  CHECK(base64url("foob") == "Zm9vYg");
  CHECK(base64url("fooba") == "Zm9vYmE");
  CHECK(base64url("foobar") == "Zm9vYmFy");
  CHECK(base64url("\xfb\xff\xbf") == "-_-_");
}

TEST_CASE("a service-account file gives the project, the account, the key and its token_uri") {
  const auto sa = notify::fcm::parse_service_account(account_json("-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n",
                                                                   "https://token.example/token"));
  REQUIRE(sa.has_value());
  CHECK(sa->project_id == "family-app");
  CHECK(sa->client_email == "worker@family-app.iam.gserviceaccount.com");
  CHECK(sa->private_key_id == "abc123");
  CHECK(sa->private_key == "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n");
  CHECK(sa->token_uri == "https://token.example/token");
}

TEST_CASE("a service-account file without token_uri uses Google's token endpoint") {
  const auto sa = notify::fcm::parse_service_account(account_json("k"));
  REQUIRE(sa.has_value());
  CHECK(sa->token_uri == "https://oauth2.googleapis.com/token");
}

TEST_CASE("a broken service-account file is refused without quoting the private key") {
  auto missing = nlohmann::json::parse(account_json("-----BEGIN PRIVATE KEY-----secret"));
  missing.erase("client_email");
  const auto r1 = notify::fcm::parse_service_account(missing.dump());
  REQUIRE_FALSE(r1.has_value());
  CHECK(r1.error().code == Errc::missing_field);
  CHECK(r1.error().path == "client_email");

  auto wrong = nlohmann::json::parse(account_json("k"));
  wrong["project_id"] = 5;
  const auto r2 = notify::fcm::parse_service_account(wrong.dump());
  REQUIRE_FALSE(r2.has_value());
  CHECK(r2.error().code == Errc::expected_string);

  const std::string truncated = account_json("-----BEGIN PRIVATE KEY-----secret");
  const auto r3 = notify::fcm::parse_service_account(truncated.substr(0, truncated.size() - 3));
  REQUIRE_FALSE(r3.has_value());
  CHECK(r3.error().code == Errc::invalid_json);
  for (const auto* e : {&r1.error(), &r2.error(), &r3.error()}) CHECK(e->message.find("secret") == std::string::npos);

  const auto r4 = notify::fcm::read_service_account("/nonexistent/key.json");
  REQUIRE_FALSE(r4.has_value());
  CHECK(r4.error().code == Errc::configuration);
}

TEST_CASE("the assertion claims name the account, FCM's scope, the token endpoint and a one-hour lifetime") {
  ServiceAccount sa;
  sa.client_email = "worker@family-app.iam.gserviceaccount.com";
  sa.private_key_id = "abc123";
  sa.token_uri = "https://oauth2.googleapis.com/token";
  const std::string input = notify::fcm::jwt_signing_input(sa, 1700000000);
  const auto dot = input.find('.');
  REQUIRE(dot != std::string::npos);
  const auto header = nlohmann::json::parse(base64url_decode(input.substr(0, dot)));
  const auto claims = nlohmann::json::parse(base64url_decode(input.substr(dot + 1)));
  CHECK(header == nlohmann::json{{"alg", "RS256"}, {"typ", "JWT"}, {"kid", "abc123"}});
  CHECK(claims == nlohmann::json{{"iss", "worker@family-app.iam.gserviceaccount.com"},
                                 {"scope", "https://www.googleapis.com/auth/firebase.messaging"},
                                 {"aud", "https://oauth2.googleapis.com/token"},
                                 {"iat", 1700000000},
                                 {"exp", 1700003600}});
}

TEST_CASE("the signed assertion verifies with the service account's public key (RS256)") {
  const TestKey& key = test_key();
  auto signer = notify::fcm::Signer::load(key.pem);
  REQUIRE(signer.has_value());
  ServiceAccount sa;
  sa.client_email = "w@p.iam.gserviceaccount.com";
  const auto jwt = notify::fcm::make_assertion(sa, *signer, 1700000000);
  REQUIRE(jwt.has_value());
  const auto last = jwt->rfind('.');
  const std::string input = jwt->substr(0, last);
  CHECK(input == notify::fcm::jwt_signing_input(sa, 1700000000));
  const std::string sig = base64url_decode(jwt->substr(last + 1));
  CHECK(sig.size() == 256);

  auto verify = [&](const std::string& data) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    const bool ok = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key.pkey) == 1 &&
                    EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
  };
  CHECK(verify(input));
  CHECK_FALSE(verify(input + "x"));
}

TEST_CASE("a private key that is not an RSA PEM key is refused with a configuration error") {
  const auto garbage = notify::fcm::Signer::load("-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n");
  REQUIRE_FALSE(garbage.has_value());
  CHECK(garbage.error().code == Errc::configuration);
  CHECK(garbage.error().message.find("not base64") == std::string::npos);

  EVP_PKEY* ec = EVP_EC_gen("P-256");
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, ec, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const std::string pem(data, static_cast<std::size_t>(BIO_get_mem_data(bio, &data)));
  BIO_free(bio);
  EVP_PKEY_free(ec);
  const auto not_rsa = notify::fcm::Signer::load(pem);
  REQUIRE_FALSE(not_rsa.has_value());
  CHECK(not_rsa.error().message.find("RSA") != std::string::npos);
}

TEST_CASE("the token request is the JWT-bearer grant form") {
  CHECK(notify::fcm::token_request_body("a.b.c") ==
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=a.b.c");
}

TEST_CASE("the token endpoint's answer gives the access token and its lifetime") {
  const auto t = notify::fcm::parse_token_response(R"({"access_token":"ya29.x","expires_in":3599,"token_type":"Bearer"})");
  REQUIRE(t.has_value());
  CHECK(t->value == "ya29.x");
  CHECK(t->expires_in == std::chrono::seconds(3599));
  const auto no_lifetime = notify::fcm::parse_token_response(R"({"access_token":"ya29.y"})");
  REQUIRE(no_lifetime.has_value());
  CHECK(no_lifetime->expires_in == std::chrono::seconds(3600));
}

TEST_CASE("a malformed token answer is a protocol error that does not echo the token") {
  for (std::string_view body : {R"({"expires_in":3600})", R"({"access_token":"ya29.secret","expires_in":"soon"})",
                                R"({"access_token":"ya29.secret","token_type":"MAC"})",
                                R"({"access_token":"ya29.secret","expires_in":0})", "[]", "{"}) {
    CAPTURE(body);
    const auto t = notify::fcm::parse_token_response(body);
    REQUIRE_FALSE(t.has_value());
    CHECK(t.error().code == Errc::protocol_error);
    CHECK(t.error().message.find("secret") == std::string::npos);
  }
}

TEST_CASE("a provider is refused for a non-HTTP endpoint, no connections, no project or a key that does not load") {
  ServiceAccount sa;
  sa.project_id = "family-app";
  sa.client_email = "w@family-app.iam.gserviceaccount.com";
  sa.private_key = test_key().pem;
  auto refused = [&](ServiceAccount account, notify::fcm::Options o) {
    auto p = notify::fcm::PushProvider::create(std::move(account), std::move(o));
    return !p.has_value() && p.error().code == Errc::configuration;
  };
  notify::fcm::Options ftp;
  ftp.endpoint = "ftp://fcm.example";
  CHECK(refused(sa, ftp));
  notify::fcm::Options none;
  none.connections = 0;
  CHECK(refused(sa, none));
  ServiceAccount no_project = sa;
  no_project.project_id.clear();
  CHECK(refused(no_project, {}));
  ServiceAccount bad_key = sa;
  bad_key.private_key = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
  CHECK(refused(bad_key, {}));
  auto fine = notify::fcm::PushProvider::create(sa, {});
  CHECK(fine.has_value());
  CHECK(fine->stats().requests == 0);  // nothing is sent before the first push
}
