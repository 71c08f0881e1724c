// SPDX-License-Identifier: MIT
// Fuzz target: notify::ops's sans-IO HTTP/1.1 request-head parser (notify/ops/http_request.hpp).
// The first byte picks how the rest is split into feeds; the rest is the wire.
// Properties checked on every input:
// - the outcome (done / failed / waiting, bytes used unless failed, the request, the
//   status and message of a failure) does not depend on how the bytes are split;
// - the parser never accounts for more head bytes than its budget;
// - a failure answers 400, 414, 431 or 505;
// - a done request is well-formed: a token method, a target starting with '/' that is
//   path + '?' + query, HTTP/1.x, lower-case token header names, values trimmed and free
//   of control bytes; re-serialised it parses to the same request.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "notify/ops/http_request.hpp"
#include "notify/result.hpp"

namespace {

using notify::ops::HttpRequest;
using notify::ops::HttpRequestParser;

constexpr std::size_t budget = 512;

struct Outcome {
  std::size_t used = 0;
  bool done = false, failed = false;
};

Outcome feed(HttpRequestParser& p, std::string_view wire, std::size_t step) {
  Outcome o;
  while (o.used < wire.size() && !p.done() && !p.failed()) {
    const std::string_view piece = wire.substr(o.used, step);
    const std::size_t n = p.feed(piece);
    NOTIFY_ASSERT(n <= piece.size());
    o.used += n;
    if (n < piece.size()) break;
  }
  o.done = p.done();
  o.failed = p.failed();
  NOTIFY_ASSERT(!(o.done && o.failed));
  NOTIFY_ASSERT(p.head_bytes() <= budget);
  return o;
}

bool same(const HttpRequest& a, const HttpRequest& b) {
  return a.method == b.method && a.target == b.target && a.path == b.path && a.query == b.query &&
         a.minor_version == b.minor_version && a.headers == b.headers;
}

bool clean_value(std::string_view v) {
  for (char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) return false;
  }
  return v.empty() || (v.front() != ' ' && v.front() != '\t' && v.back() != ' ' && v.back() != '\t');
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t step = 1 + data[0] % 64;
  const std::string_view wire(reinterpret_cast<const char*>(data) + 1, size - 1);

  HttpRequestParser whole(budget), split(budget);
  const Outcome a = feed(whole, wire, wire.size() + 1);
  const Outcome b = feed(split, wire, step);
  NOTIFY_ASSERT(a.done == b.done && a.failed == b.failed);
  NOTIFY_ASSERT(a.failed || a.used == b.used);
  NOTIFY_ASSERT(a.used <= wire.size());

  if (a.failed) {
    const int s = whole.error_status();
    NOTIFY_ASSERT(s == 400 || s == 414 || s == 431 || s == 505);
    NOTIFY_ASSERT(s == split.error_status());
    NOTIFY_ASSERT(!whole.error().empty() && whole.error() == split.error());
    return 0;
  }
  if (!a.done) {
    NOTIFY_ASSERT(a.used == wire.size());  // waiting: everything offered was taken
    return 0;
  }
  const HttpRequest& r = whole.request();
  NOTIFY_ASSERT(same(r, split.request()));
  NOTIFY_ASSERT(!r.method.empty());
  for (char c : r.method) NOTIFY_ASSERT(HttpRequestParser::is_tchar(c));
  NOTIFY_ASSERT(!r.target.empty() && r.target[0] == '/' && r.path[0] == '/');
  NOTIFY_ASSERT(r.target == (r.target.find('?') == std::string::npos ? r.path : r.path + "?" + r.query));
  NOTIFY_ASSERT(r.minor_version >= 0 && r.minor_version <= 9);
  NOTIFY_ASSERT(r.headers.size() <= HttpRequestParser::max_headers);
  for (const auto& h : r.headers) {
    NOTIFY_ASSERT(!h.first.empty());
    for (char c : h.first) NOTIFY_ASSERT(HttpRequestParser::is_tchar(c) && !(c >= 'A' && c <= 'Z'));
    NOTIFY_ASSERT(clean_value(h.second));
    NOTIFY_ASSERT(r.header(h.first).data() != nullptr);
  }

  // Round trip: the canonical form of the head parses to the same request.
  std::string again = r.method + " " + r.target + " HTTP/1." + std::to_string(r.minor_version) + "\r\n";
  for (const auto& h : r.headers) again += h.first + ": " + h.second + "\r\n";
  again += "\r\n";
  HttpRequestParser p(again.size());
  NOTIFY_ASSERT(p.feed(again) == again.size());
  NOTIFY_ASSERT(p.done());
  NOTIFY_ASSERT(same(p.request(), r));
  return 0;
}
