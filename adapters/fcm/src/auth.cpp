// SPDX-License-Identifier: MIT
#include "notify/fcm/auth.hpp"

#include <openssl/evp.h>

#include <charconv>
#include <fstream>
#include <iterator>

#include "notify/detail/json_reader.hpp"
#include "notify/detail/json_writer.hpp"
#include "notify/toolkit/ascii.hpp"
#include "notify/toolkit/private_key.hpp"
#include "notify/toolkit/secure.hpp"

namespace notify::fcm {
namespace {

using detail::JsonKind;
using detail::JsonReader;
using detail::StringStatus;

Error config_error(std::string message, std::string path = {}) {
  return {Errc::configuration, std::move(message), std::move(path)};
}

using toolkit::iequals;

}  // namespace

void wipe(std::string& secret) noexcept { toolkit::wipe(secret); }

Result<ServiceAccount> parse_service_account(std::string_view json) {
  ServiceAccount sa;
  JsonReader r(json, 4);
  std::string ks, scratch;
  std::string_view key, value;
  if (r.peek() != JsonKind::object) return config_error("service account: not a JSON object");
  r.enter();
  while (r.next_key(key, ks)) {
    std::string* field = key == "project_id"       ? &sa.project_id
                         : key == "client_email"   ? &sa.client_email
                         : key == "private_key"    ? &sa.private_key
                         : key == "private_key_id" ? &sa.private_key_id
                         : key == "token_uri"      ? &sa.token_uri
                                                   : nullptr;
    if (!field) {
      r.skip_value();
      continue;
    }
    const std::string name(key);
    if (r.peek() != JsonKind::string) {
      wipe(scratch);
      wipe(sa.private_key);
      return Error{Errc::expected_string, "service account: " + name + " is not a string", name};
    }
    if (r.read_string(value, scratch) != StringStatus::ok) break;
    field->assign(value);
  }
  wipe(scratch);
  if (r.failed() || !r.at_end()) {
    wipe(sa.private_key);
    return Error{Errc::invalid_json, "service account: not valid JSON", {}};
  }
  for (auto [name, field] : {std::pair{"project_id", &sa.project_id}, std::pair{"client_email", &sa.client_email},
                             std::pair{"private_key", &sa.private_key}, std::pair{"token_uri", &sa.token_uri}}) {
    if (field->empty()) {
      wipe(sa.private_key);
      return Error{Errc::missing_field, std::string("service account: ") + name + " is missing", name};
    }
  }
  return sa;
}

Result<ServiceAccount> read_service_account(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return config_error("cannot read the service account file " + path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto sa = parse_service_account(text);
  wipe(text);
  if (!sa) return Error{sa.error().code, sa.error().message + " (" + path + ")", sa.error().path};
  return sa;
}

std::string base64url(std::string_view bytes) {
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  auto byte = [&](std::size_t k) { return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[k])); };
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    out += alphabet[v >> 18];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  if (const std::size_t left = bytes.size() - i; left > 0) {
    const std::uint32_t v = byte(i) << 16 | (left == 2 ? byte(i + 1) << 8 : 0);
    out += alphabet[v >> 18];
    out += alphabet[(v >> 12) & 63];
    if (left == 2) out += alphabet[(v >> 6) & 63];
  }
  return out;
}

std::string jwt_signing_input(const ServiceAccount& account, std::int64_t now_unix) {
  using detail::write_int;
  using detail::write_string;
  std::string header = R"({"alg":"RS256","typ":"JWT")";
  if (!account.private_key_id.empty()) {
    header += R"(,"kid":)";
    write_string(header, account.private_key_id);
  }
  header += '}';
  std::string claims = R"({"iss":)";
  write_string(claims, account.client_email);
  claims += R"(,"scope":)";
  write_string(claims, messaging_scope);
  claims += R"(,"aud":)";
  write_string(claims, account.token_uri);
  claims += R"(,"iat":)";
  write_int(claims, now_unix);
  claims += R"(,"exp":)";
  write_int(claims, now_unix + assertion_lifetime.count());
  claims += '}';
  return base64url(header) + "." + base64url(claims);
}

struct Signer::Key {
  toolkit::PrivateKey pkey;
};

Signer::Signer(std::unique_ptr<Key> key) noexcept : key_(std::move(key)) {}
Signer::Signer(Signer&&) noexcept = default;
Signer& Signer::operator=(Signer&&) noexcept = default;
Signer::~Signer() = default;

Result<Signer> Signer::load(std::string_view pem) {
  auto pkey = toolkit::load_private_key(
      pem, EVP_PKEY_RSA,
      {config_error("service account: out of memory reading private_key"),
       config_error("service account: private_key is not a PEM private key", "private_key"),
       config_error("service account: private_key is not an RSA key", "private_key")});
  if (!pkey) return pkey.error();
  return Signer(std::make_unique<Key>(Key{std::move(*pkey)}));
}

Result<std::string> Signer::sign(std::string_view data) const {
  auto sig = toolkit::sign_sha256(key_->pkey.get(), data);
  if (!sig) return config_error("service account: signing the assertion failed");
  return std::move(*sig);
}

Result<std::string> make_assertion(const ServiceAccount& account, const Signer& signer, std::int64_t now_unix) {
  std::string input = jwt_signing_input(account, now_unix);
  auto sig = signer.sign(input);
  if (!sig) return sig.error();
  input += '.';
  input += base64url(*sig);
  return input;
}

std::string token_request_body(std::string_view assertion) {
  // The assertion is base64url and dots: nothing in it needs percent-encoding.
  std::string out = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=";
  out += assertion;
  return out;
}

Result<AccessToken> parse_token_response(std::string_view json) {
  AccessToken t;
  t.expires_in = std::chrono::seconds(3600);  // RFC 6749 only recommends expires_in
  JsonReader r(json, 4);
  std::string ks, scratch;
  std::string_view key, value;
  auto bad = [&](std::string what) {
    wipe(t.value);
    wipe(scratch);
    return Error{Errc::protocol_error, "access token: " + std::move(what), {}};
  };
  if (r.peek() != JsonKind::object) return bad("the answer is not a JSON object");
  r.enter();
  while (r.next_key(key, ks)) {
    if (key == "access_token" || key == "token_type") {
      const bool is_token = key == "access_token";
      if (r.peek() != JsonKind::string || r.read_string(value, scratch) != StringStatus::ok)
        return bad(is_token ? "access_token is not a string" : "token_type is not a string");
      if (is_token) t.value.assign(value);
      else if (!iequals(value, "Bearer")) return bad("token_type is not Bearer");
    } else if (key == "expires_in") {
      detail::JsonNumber n;
      std::int64_t s = 0;
      if (r.peek() != JsonKind::number || !r.read_number(n) || !n.integral) return bad("expires_in is not an integer");
      const auto res = std::from_chars(n.text.data(), n.text.data() + n.text.size(), s);
      if (res.ec != std::errc{} || s <= 0) return bad("expires_in is out of range");
      t.expires_in = std::chrono::seconds(s);
    } else {
      r.skip_value();
    }
  }
  wipe(scratch);
  if (r.failed() || !r.at_end()) return bad("the answer is not valid JSON");
  if (t.value.empty()) return bad("access_token is missing");
  return t;
}

}  // namespace notify::fcm
