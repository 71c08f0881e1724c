// SPDX-License-Identifier: MIT
// Fuzz target: the adapters' sans-IO HTTP/1.1 response parser (notify/toolkit/http1.hpp).
// The first byte picks how the rest is split into feeds; the rest is the wire.
// Properties checked on every input:
// - the outcome (done / failed / waiting, bytes used unless failed, status, headers,
//   body, error message) does not depend on how the bytes are split;
// - a done response stays within the limits; header names are lower-case, values trimmed;
// - the response re-serialised with Content-Length parses to the same status, headers
//   and body, and with its body re-chunked at input-chosen sizes the decoded body is the
//   concatenation of the chunks;
// - a failure is a protocol_error with a message.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "notify/result.hpp"
#include "notify/toolkit/http1.hpp"

namespace {

using notify::toolkit::Http1Limits;
using notify::toolkit::Http1Response;
using notify::toolkit::Http1ResponseParser;

constexpr Http1Limits limits{512, 4096};

struct Outcome {
  std::size_t used = 0;
  bool done = false, failed = false;
};

Outcome feed(Http1ResponseParser& p, std::string_view wire, std::size_t step, bool eof) {
  Outcome o;
  while (o.used < wire.size() && !p.done() && !p.failed()) {
    const std::string_view piece = wire.substr(o.used, step);
    const std::size_t n = p.feed(piece);
    NOTIFY_ASSERT(n <= piece.size());
    o.used += n;
    if (n < piece.size()) break;
  }
  if (eof) p.feed_eof();
  o.done = p.done();
  o.failed = p.failed();
  NOTIFY_ASSERT(!(o.done && o.failed));
  return o;
}

bool same(const Http1Response& a, const Http1Response& b) {
  return a.status == b.status && a.headers == b.headers && a.body == b.body && a.keep_alive == b.keep_alive;
}

bool is_framing(std::string_view name) {
  return name == "content-length" || name == "transfer-encoding" || name == "connection";
}

/// The response with its own headers (but framing), Content-Length or chunked at `sizes`.
std::string serialise(const Http1Response& r, bool chunked, std::string_view sizes) {
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + " X\r\n";
  for (const auto& [name, value] : r.headers)
    if (!is_framing(name)) out += name + ": " + value + "\r\n";
  if (!r.keep_alive) out += "Connection: close\r\n";
  if (!chunked) return out + "Content-Length: " + std::to_string(r.body.size()) + "\r\n\r\n" + r.body;
  out += "Transfer-Encoding: chunked\r\n\r\n";
  std::size_t pos = 0, k = 0;
  while (pos < r.body.size()) {
    const std::size_t n = sizes.empty() ? 7 : 1 + static_cast<unsigned char>(sizes[k++ % sizes.size()]) % 97;
    const std::string_view chunk = std::string_view(r.body).substr(pos, n);
    char hex[32];
    std::snprintf(hex, sizeof hex, "%zx", chunk.size());
    out += std::string(hex) + (k % 2 ? ";ext=1" : "") + "\r\n";
    out.append(chunk).append("\r\n");
    pos += chunk.size();
  }
  return out + "0\r\n\r\n";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t step = 1 + data[0] % 64;
  const std::string_view wire(reinterpret_cast<const char*>(data) + 1, size - 1);
  const bool eof = (data[0] & 0x80) != 0;

  Http1ResponseParser whole(limits), split(limits);
  const Outcome a = feed(whole, wire, wire.size() + 1, eof);
  const Outcome b = feed(split, wire, step, eof);
  NOTIFY_ASSERT(a.done == b.done && a.failed == b.failed);
  // After a failure the count of bytes used says nothing (the parser stops mid-piece).
  NOTIFY_ASSERT(a.failed || a.used == b.used);
  NOTIFY_ASSERT(a.used <= wire.size());

  if (a.failed) {
    NOTIFY_ASSERT(whole.error().code == notify::Errc::protocol_error);
    NOTIFY_ASSERT(!whole.error().message.empty());
    NOTIFY_ASSERT(whole.error().message == split.error().message);
    return 0;
  }
  if (!a.done) return 0;
  const Http1Response& r = whole.response();
  NOTIFY_ASSERT(same(r, split.response()));
  NOTIFY_ASSERT(r.status >= 200 && r.status <= 599);
  NOTIFY_ASSERT(r.body.size() <= limits.max_body_bytes);
  for (const auto& [name, value] : r.headers) {
    NOTIFY_ASSERT(!name.empty());
    for (char c : name) NOTIFY_ASSERT(!(c >= 'A' && c <= 'Z') && c != ':');
    NOTIFY_ASSERT(notify::toolkit::trim(value) == value);
  }
  if (r.status == 204 || r.status == 304) NOTIFY_ASSERT(r.body.empty());

  // Round trips, with limits that fit what was accepted (re-serialising adds framing).
  if (r.status == 204 || r.status == 304) return 0;
  for (const char* h : {"\r", "\n"})
    for (const auto& [name, value] : r.headers)
      if (name.find(h) != std::string::npos || value.find(h) != std::string::npos) return 0;
  const Http1Limits roomy{64 * 1024, limits.max_body_bytes};
  for (const bool chunked : {false, true}) {
    const std::string again = serialise(r, chunked, wire.substr(0, 16));
    Http1ResponseParser p(roomy);
    NOTIFY_ASSERT(p.feed(again) == again.size());
    NOTIFY_ASSERT(p.done());
    Http1Response expected = r;
    std::erase_if(expected.headers, [](const auto& h) { return is_framing(h.first); });
    Http1Response got = p.response();
    std::erase_if(got.headers, [](const auto& h) { return is_framing(h.first); });
    NOTIFY_ASSERT(got.status == expected.status && got.body == expected.body && got.headers == expected.headers);
  }
  return 0;
}
