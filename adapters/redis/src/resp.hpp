// SPDX-License-Identifier: MIT
// Private to notify::redis (and its fuzz target): RESP2 replies (the only protocol spoken
// here: no HELLO 3), found whole in what was read, then built into Replies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "notify/redis/connection.hpp"

namespace notify::redis::resp {

inline constexpr std::size_t max_depth = 16;
/// Redis's own limit on a bulk string (proto-max-bulk-len's default): a longer length is
/// no reply, and waiting for it would only grow the buffer.
inline constexpr std::int64_t max_bulk = std::int64_t{512} * 1024 * 1024;

/// A RESP integer or length: an optional '-' and digits, within 64 bits.
inline bool resp_number(std::string_view s, std::int64_t& out) noexcept {
  const bool negative = !s.empty() && s[0] == '-';
  if (negative) s.remove_prefix(1);
  if (s.empty() || s.size() > 19) return false;
  std::uint64_t v = 0;  // 19 digits fit
  for (const char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (v > max + (negative ? 1 : 0)) return false;
  out = negative ? static_cast<std::int64_t>(0 - v) : static_cast<std::int64_t>(v);
  return true;
}

/// Finds where the reply that starts at `start` ends, without building it. Resumable:
/// `at` and `open` (the elements still to come in each array entered) carry over to the
/// next call when the reply is not complete yet, so the elements of an array that arrives
/// in many reads are scanned once (only the element a read cut is looked at again). `at`
/// is the end once it returns `complete`.
struct Scanner {
  enum class Status : std::uint8_t { complete, partial, bad };
  std::size_t at = 0;
  std::vector<std::int64_t> open;
  std::string problem;

  void reset(std::size_t start) {
    at = start;
    open.clear();
  }

  Status scan(std::string_view in) {
    for (;;) {
      const std::size_t eol = in.find("\r\n", at);
      if (eol == std::string_view::npos) return Status::partial;
      const char type = in[at];
      const std::string_view line = in.substr(at + 1, eol - at - 1);
      std::size_t next = eol + 2;
      std::int64_t n = 0;
      switch (type) {
        case '+':
        case '-': break;
        case ':':
          if (!resp_number(line, n)) return bad("bad integer reply");
          break;
        case '$':
          if (!resp_number(line, n) || n < -1) return bad("bad bulk length");
          if (n > max_bulk) return bad("a bulk string longer than 512 MiB");
          if (n >= 0) {
            const auto len = static_cast<std::size_t>(n);
            if (in.size() - next < len + 2) return Status::partial;
            if (in.substr(next + len, 2) != "\r\n") return bad("a bulk string without its CRLF");
            next += len + 2;
          }
          break;
        case '*':
          if (!resp_number(line, n) || n < -1) return bad("bad multi-bulk length");
          break;
        default:
          return bad("Protocol error, got \"" + printable(type) + "\" as reply type byte");
      }
      at = next;
      if (type == '*' && n > 0) {
        if (open.size() == max_depth) return bad("replies nested too deep");
        open.push_back(n);
        continue;
      }
      while (!open.empty() && --open.back() == 0) open.pop_back();
      if (open.empty()) return Status::complete;
    }
  }

 private:
  Status bad(std::string why) {
    problem = std::move(why);
    return Status::bad;
  }
  static std::string printable(char c) {
    if (c >= 0x20 && c < 0x7f) return std::string(1, c);
    static constexpr char digits[] = "0123456789abcdef";
    const auto u = static_cast<unsigned char>(c);
    return std::string("\\x") + digits[u >> 4] + digits[u & 0xf];
  }
};

/// One item of a reply the Scanner found complete and well formed: a whole reply but for
/// an array, whose elements follow it as items of their own.
struct Item {
  char type = 0;          ///< '+' status, '-' error, ':' integer, '$' bulk string, '*' array
  std::int64_t n = 0;     ///< the integer, or a bulk string's or an array's length (-1: nil)
  std::string_view text;  ///< a status or error line, a bulk string's bytes, or the digits of n

  bool is_string() const noexcept { return type == '$' && n >= 0; }
};

/// Reads the item at `at` and moves `at` past it, in place.
inline Item next_item(std::string_view in, std::size_t& at) {
  const std::size_t eol = in.find("\r\n", at);
  Item item;
  item.type = in[at];
  item.text = in.substr(at + 1, eol - at - 1);
  at = eol + 2;
  if (item.type == ':' || item.type == '$' || item.type == '*') resp_number(item.text, item.n);
  if (item.type == '$') {
    item.text = {};
    if (item.n >= 0) {
      item.text = in.substr(at, static_cast<std::size_t>(item.n));
      at += item.text.size() + 2;
    }
  }
  return item;
}

/// Builds the reply that starts at `at`, which the Scanner found complete and well formed.
inline void build(std::string_view in, std::size_t& at, Reply& out) {
  const Item item = next_item(in, at);
  switch (item.type) {
    case '+':
      out.kind = Reply::Kind::status;
      out.str.assign(item.text);
      return;
    case '-':
      out.kind = Reply::Kind::error;
      out.str.assign(item.text);
      return;
    case ':':
      out.kind = Reply::Kind::integer;
      out.integer = item.n;
      return;
    case '$':
      if (item.n < 0) return;  // nil
      out.kind = Reply::Kind::string;
      out.str.assign(item.text);
      return;
    default:  // '*'
      if (item.n < 0) return;  // a nil array reads as nil, as hiredis had it
      out.kind = Reply::Kind::array;
      out.elements.resize(static_cast<std::size_t>(item.n));
      for (Reply& e : out.elements) build(in, at, e);
      return;
  }
}

}  // namespace notify::redis::resp
