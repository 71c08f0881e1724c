// SPDX-License-Identifier: MIT
#include "notify/sqs/sigv4.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <map>
#include <utility>

#include "notify/result.hpp"
#include "notify/toolkit/ascii.hpp"
#include "notify/toolkit/hmac.hpp"
#include "notify/toolkit/secure.hpp"

namespace notify::sqs {
namespace {

constexpr std::string_view algorithm = "AWS4-HMAC-SHA256";

std::string hex(const unsigned char* p, std::size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    out += digits[p[i] >> 4];
    out += digits[p[i] & 0x0F];
  }
  return out;
}

using toolkit::to_lower;
using toolkit::trim;
using toolkit::wipe;

bool is_space(char c) { return c == ' ' || c == '\t'; }

/// RFC 3986 unreserved: what AWS leaves unencoded.
bool unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

void encode_into(std::string& out, std::string_view s) {
  static constexpr char digits[] = "0123456789ABCDEF";
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (unreserved(c)) {
      out += ch;
    } else {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 0x0F];
    }
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// Percent-decoding; a '%' not followed by two hex digits stays as it is. '+' is kept.
std::string decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

/// The canonical URI. Normalising: RFC 3986 dot-segment removal plus collapsed slashes
/// (a trailing slash is kept), then each segment encoded again, '%' included.
std::string canonical_path(std::string_view path, bool normalize) {
  if (path.empty()) return "/";
  if (!normalize) return std::string(path);
  std::vector<std::string_view> segments;
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t slash = std::min(path.find('/', start), path.size());
    const std::string_view seg = path.substr(start, slash - start);
    if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!seg.empty() && seg != ".") {
      segments.push_back(seg);
    }
    start = slash + 1;
  }
  std::string out = "/";
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) out += '/';
    encode_into(out, segments[i]);
  }
  if (!segments.empty() && path.back() == '/') out += '/';
  return out;
}

/// The canonical query: each name and value decoded and encoded again, sorted by name then
/// value, a missing value written as "name=".
std::string canonical_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  std::size_t start = 0;
  while (start <= query.size()) {
    const std::size_t amp = std::min(query.find('&', start), query.size());
    const std::string_view part = query.substr(start, amp - start);
    start = amp + 1;
    if (part.empty()) continue;
    const std::size_t eq = part.find('=');
    std::pair<std::string, std::string> p;
    encode_into(p.first, decode(part.substr(0, eq)));
    if (eq != std::string_view::npos) encode_into(p.second, decode(part.substr(eq + 1)));
    params.push_back(std::move(p));
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out += '&';
    out += name;
    out += '=';
    out += value;
  }
  return out;
}

/// A header value trimmed with inner runs of spaces collapsed. A value folded over several
/// lines (obs-fold) becomes its lines joined with ',' (what the AWS suite expects).
std::string canonical_value(std::string_view value) {
  std::string out;
  bool first_line = true;
  std::size_t start = 0;
  while (start <= value.size()) {
    const std::size_t nl = std::min(value.find('\n', start), value.size());
    const std::string_view line = trim(value.substr(start, nl - start));
    start = nl + 1;
    if (line.empty() && !first_line) continue;
    if (!first_line) out += ',';
    first_line = false;
    bool in_space = false;
    for (char c : line) {
      if (is_space(c)) {
        in_space = true;
        continue;
      }
      if (in_space) out += ' ';
      in_space = false;
      out += c;
    }
  }
  return out;
}

bool unsigned_header(std::string_view lower_name) {
  return lower_name == "authorization" || lower_name == "user-agent" || lower_name == "expect" ||
         lower_name == "transfer-encoding" || lower_name == "x-amzn-trace-id";
}

std::string two_digits(unsigned v) {
  return {static_cast<char>('0' + v / 10 % 10), static_cast<char>('0' + v % 10)};
}

std::string format_amz_date(std::chrono::system_clock::time_point now) {
  using namespace std::chrono;
  const auto secs = floor<seconds>(now);
  const auto day = floor<days>(secs);
  const year_month_day ymd(day);
  const hh_mm_ss<seconds> hms(secs - day);
  const int y = static_cast<int>(ymd.year());
  std::string out = std::to_string(y);
  while (out.size() < 4) out.insert(out.begin(), '0');
  out += two_digits(static_cast<unsigned>(ymd.month()));
  out += two_digits(static_cast<unsigned>(ymd.day()));
  out += 'T';
  out += two_digits(static_cast<unsigned>(hms.hours().count()));
  out += two_digits(static_cast<unsigned>(hms.minutes().count()));
  out += two_digits(static_cast<unsigned>(hms.seconds().count()));
  out += 'Z';
  return out;
}

}  // namespace

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  const int ok = EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  NOTIFY_ASSERT(ok == 1);
  return hex(md, len);
}

Signature sign(const SigningInput& in, const Credentials& creds, const Scope& scope,
               std::chrono::system_clock::time_point now, SigningOptions options) {
  Signature out;
  // Lowercase name -> canonical values joined by ',' in input order; std::map sorts names.
  std::map<std::string, std::string> headers;
  for (const HttpHeader& h : in.headers) {
    std::string name = to_lower(trim(h.name));
    if (unsigned_header(name)) continue;
    auto [it, fresh] = headers.try_emplace(std::move(name));
    if (!fresh) it->second += ',';
    it->second += canonical_value(h.value);
  }

  if (const auto it = headers.find("x-amz-date"); it != headers.end()) {
    out.amz_date = it->second;
  } else {
    out.amz_date = format_amz_date(now);
    headers.emplace("x-amz-date", out.amz_date);
    out.headers_to_add.push_back({"X-Amz-Date", out.amz_date});
  }
  if (!creds.session_token.empty() && !headers.contains("x-amz-security-token")) {
    headers.emplace("x-amz-security-token", canonical_value(creds.session_token));
    out.headers_to_add.push_back({"X-Amz-Security-Token", creds.session_token});
  }

  std::string payload_hash;
  if (const auto it = headers.find("x-amz-content-sha256"); it != headers.end()) payload_hash = it->second;
  else payload_hash = sha256_hex(in.body);

  std::string signed_headers;
  std::string& cr = out.canonical_request;
  cr += in.method;
  cr += '\n';
  cr += canonical_path(in.path, options.normalize_path);
  cr += '\n';
  cr += canonical_query(in.query);
  cr += '\n';
  for (const auto& [name, value] : headers) {
    cr += name;
    cr += ':';
    cr += value;
    cr += '\n';
    if (!signed_headers.empty()) signed_headers += ';';
    signed_headers += name;
  }
  cr += '\n';
  cr += signed_headers;
  cr += '\n';
  cr += payload_hash;

  const std::string date = out.amz_date.substr(0, 8);
  const std::string credential_scope = date + "/" + scope.region + "/" + scope.service + "/aws4_request";
  out.string_to_sign = std::string(algorithm) + "\n" + out.amz_date + "\n" + credential_scope + "\n" + sha256_hex(cr);

  std::string key = "AWS4" + creds.secret_access_key;
  for (std::string_view part : {std::string_view(date), std::string_view(scope.region),
                                std::string_view(scope.service), std::string_view("aws4_request")}) {
    std::string next = toolkit::hmac_sha256(key, part);
    wipe(key);
    key = std::move(next);
  }
  const std::string mac = toolkit::hmac_sha256(key, out.string_to_sign);
  wipe(key);
  out.signature = hex(reinterpret_cast<const unsigned char*>(mac.data()), mac.size());

  out.authorization = std::string(algorithm) + " Credential=" + creds.access_key_id + "/" + credential_scope +
                      ", SignedHeaders=" + signed_headers + ", Signature=" + out.signature;
  out.headers_to_add.push_back({"Authorization", out.authorization});
  return out;
}

}  // namespace notify::sqs
