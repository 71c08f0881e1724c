// SPDX-License-Identifier: MIT
// Fuzz target: SigV4 canonicalisation and signing (adapters/sqs/src/sigv4.cpp). The input
// is split at '\n' into method, path, query, then header lines "name:value" up to an
// empty line, then the body. The first byte picks normalize_path and a session token.
// Properties checked on every input:
// - signing is deterministic, and does not depend on the order of headers with distinct
//   names;
// - the canonical request starts with the method; with header names that are tokens,
//   its signed headers are lower-case, sorted and distinct;
// - the signature is 64 lower-case hex digits and the Authorization value carries it
//   with the scope; the string to sign ends with the canonical request's hash.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "notify/result.hpp"
#include "notify/sqs/sigv4.hpp"
#include "notify/toolkit/ascii.hpp"

namespace {

using notify::sqs::HttpHeader;

std::string_view next_line(std::string_view& in) {
  const auto nl = in.find('\n');
  const std::string_view line = in.substr(0, nl);
  in = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
  return line;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool is_lower_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

/// An HTTP token (RFC 9110 tchar): what a header name is. Names that are not tokens are
/// still signed (the signer does not validate), but SignedHeaders cannot be split back.
bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos) return false;
  }
  return true;
}

bool same(const notify::sqs::Signature& a, const notify::sqs::Signature& b) {
  return a.amz_date == b.amz_date && a.canonical_request == b.canonical_request &&
         a.string_to_sign == b.string_to_sign && a.signature == b.signature && a.authorization == b.authorization;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t flags = data[0];
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);

  notify::sqs::SigningInput input;
  input.method = next_line(in);
  input.path = next_line(in);
  input.query = next_line(in);
  while (!in.empty()) {
    const std::string_view line = next_line(in);
    if (line.empty()) break;
    const auto colon = line.find(':');
    input.headers.push_back(HttpHeader{std::string(line.substr(0, colon)),
                                       colon == std::string_view::npos ? std::string() : std::string(line.substr(colon + 1))});
  }
  input.body = in;

  notify::sqs::Credentials creds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                 (flags & 2) ? "session-token" : "", {}};
  const notify::sqs::Scope scope{"us-east-1", "sqs"};
  const notify::sqs::SigningOptions options{(flags & 1) != 0};
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'440'938'160));

  const auto a = notify::sqs::sign(input, creds, scope, now, options);
  const auto b = notify::sqs::sign(input, creds, scope, now, options);
  NOTIFY_ASSERT(same(a, b));

  NOTIFY_ASSERT(a.signature.size() == 64 && is_lower_hex(a.signature));
  NOTIFY_ASSERT(a.authorization.find("Signature=" + a.signature) != std::string::npos);
  NOTIFY_ASSERT(a.authorization.find("/us-east-1/sqs/aws4_request") != std::string::npos);
  NOTIFY_ASSERT(a.canonical_request.substr(0, input.method.size() + 1) == std::string(input.method) + "\n");
  const std::string hash = notify::sqs::sha256_hex(a.canonical_request);
  NOTIFY_ASSERT(a.string_to_sign.size() >= hash.size() &&
                a.string_to_sign.substr(a.string_to_sign.size() - hash.size()) == hash);
  NOTIFY_ASSERT(!a.headers_to_add.empty() && a.headers_to_add.back().name == "Authorization");

  // The signed headers line (second to last line): lower-case names, sorted, distinct,
  // when every input name is a token.
  bool tokens = true;
  for (const auto& h : input.headers) tokens = tokens && is_token(notify::toolkit::trim(h.name));
  const std::string_view creq = a.canonical_request;
  const auto last_nl = creq.rfind('\n');
  NOTIFY_ASSERT(last_nl != std::string_view::npos);
  const auto prev_nl = creq.rfind('\n', last_nl - 1);
  NOTIFY_ASSERT(prev_nl != std::string_view::npos);
  const std::string_view signed_headers = creq.substr(prev_nl + 1, last_nl - prev_nl - 1);
  std::string previous;
  bool first = true;
  std::string_view rest = signed_headers;
  while (tokens && (!rest.empty() || first)) {
    const auto semi = rest.find(';');
    const std::string name(rest.substr(0, semi));
    rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
    NOTIFY_ASSERT(name == lower(name));
    NOTIFY_ASSERT(first || previous < name);
    previous = name;
    first = false;
  }

  // Headers with distinct names: their order does not matter.
  std::set<std::string> names;
  for (const auto& h : input.headers) names.insert(notify::toolkit::to_lower(notify::toolkit::trim(h.name)));
  if (names.size() == input.headers.size()) {
    notify::sqs::SigningInput reversed = input;
    std::reverse(reversed.headers.begin(), reversed.headers.end());
    NOTIFY_ASSERT(same(a, notify::sqs::sign(reversed, creds, scope, now, options)));
  }
  return 0;
}
