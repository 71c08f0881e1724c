// SPDX-License-Identifier: MIT
#pragma once

/// Appending JSON scalars to a std::string; output is always valid JSON and valid UTF-8.

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

#include "notify/text.hpp"

namespace notify::detail {

/// Appends s as a JSON string literal. Invalid UTF-8 is written as U+FFFD.
inline void write_string(std::string& out, std::string_view s) {
  static constexpr char digits[] = "0123456789abcdef";
  out += '"';
  std::size_t plain = 0;  // start of the run not yet copied
  for (std::size_t i = 0; i < s.size();) {
    i = plain_ascii_end(s, i);
    if (i == s.size()) break;
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      // Fast path for the common well-formed 3-byte form (Hangul is U+AC00..U+D7A3):
      // lead E1..EC, or ED below the surrogates, then two continuation bytes.
      if (c >= 0xE1 && c <= 0xED && s.size() - i >= 3) {
        const auto c1 = static_cast<unsigned char>(s[i + 1]);
        const auto c2 = static_cast<unsigned char>(s[i + 2]);
        if ((c1 & 0xC0u) == 0x80u && (c2 & 0xC0u) == 0x80u && (c != 0xED || c1 < 0xA0)) {
          i += 3;
          continue;
        }
      }
      char32_t cp = 0;
      const std::size_t n = decode_utf8(s, i, cp);
      if (n != 0) { i += n; continue; }
      out.append(s.data() + plain, i - plain);
      out += replacement_character;
      plain = ++i;
      continue;
    }
    out.append(s.data() + plain, i - plain);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        out += "\\u00";
        out += digits[c >> 4];
        out += digits[c & 0xF];
    }
    plain = ++i;
  }
  out.append(s.data() + plain, s.size() - plain);
  out += '"';
}

/// Appends an integer.
inline void write_int(std::string& out, std::int64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, static_cast<std::size_t>(r.ptr - buf));
}

/// Appends `"key":`.
inline void write_key(std::string& out, std::string_view key) {
  write_string(out, key);
  out += ':';
}

}  // namespace notify::detail
