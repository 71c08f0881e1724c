// SPDX-License-Identifier: MIT
// RESP2 replies as the Redis connection reads them: whatever the bytes, the scanner says
// complete, partial or bad without reading past them; fed in pieces (as reads bring
// them) it ends each reply where it does when fed all at once; a complete reply is built
// to exactly its end; and a built reply written back in RESP reads back the same.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "notify/result.hpp"
#include "resp.hpp"

namespace {

using notify::redis::Reply;
using notify::redis::resp::Scanner;

void encode(const Reply& r, std::string& out) {
  switch (r.kind) {
    case Reply::Kind::nil: out += "$-1\r\n"; return;
    case Reply::Kind::status: out += "+" + r.str + "\r\n"; return;
    case Reply::Kind::error: out += "-" + r.str + "\r\n"; return;
    case Reply::Kind::integer: out += ":" + std::to_string(r.integer) + "\r\n"; return;
    case Reply::Kind::string: out += "$" + std::to_string(r.str.size()) + "\r\n" + r.str + "\r\n"; return;
    case Reply::Kind::array:
      out += "*" + std::to_string(r.elements.size()) + "\r\n";
      for (const Reply& e : r.elements) encode(e, out);
      return;
  }
}

bool same(const Reply& a, const Reply& b) {
  if (a.kind != b.kind || a.str != b.str || a.integer != b.integer || a.elements.size() != b.elements.size()) return false;
  for (std::size_t i = 0; i < a.elements.size(); ++i)
    if (!same(a.elements[i], b.elements[i])) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t piece = 1 + data[0] % 64;  // how much each "read" brings
  const std::string in(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::size_t start = 0;
  while (start < in.size()) {
    Scanner whole;
    whole.reset(start);
    const auto status = whole.scan(in);
    NOTIFY_ASSERT(whole.at <= in.size());
    // As the connection reads: `buf` holds in[base, base + buf.size()); before each
    // further read the bytes before the reply are dropped and the scanner moved down.
    std::string buf = in.substr(0, std::min(in.size(), start + piece));
    std::size_t base = 0;
    Scanner pieces;
    pieces.reset(start);
    auto piecewise = pieces.scan(buf);
    while (piecewise == Scanner::Status::partial && base + buf.size() < in.size()) {
      if (base < start) {
        buf.erase(0, start - base);
        pieces.at -= start - base;
        base = start;
      }
      buf.append(in, base + buf.size(), piece);
      piecewise = pieces.scan(buf);
    }
    NOTIFY_ASSERT(piecewise == status);
    if (status != Scanner::Status::complete) break;
    NOTIFY_ASSERT(base + pieces.at == whole.at);
    Reply reply;
    std::size_t at = start;
    notify::redis::resp::build(in, at, reply);
    NOTIFY_ASSERT(at == whole.at);
    std::string again;
    encode(reply, again);
    Scanner rescan;
    rescan.reset(0);
    NOTIFY_ASSERT(rescan.scan(again) == Scanner::Status::complete && rescan.at == again.size());
    Reply reread;
    std::size_t from = 0;
    notify::redis::resp::build(again, from, reread);
    NOTIFY_ASSERT(same(reply, reread));
    start = whole.at;
  }
  return 0;
}
