// SPDX-License-Identifier: MIT
#pragma once

/// UTF-8 helpers for user-supplied text: validation, cleaning and truncation by code point.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace notify {

namespace detail {

/// Decodes one code point at s[i]; returns its length in bytes, or 0 if the bytes there
/// are not well-formed UTF-8 (overlong forms, surrogates and values past U+10FFFF included).
constexpr std::size_t decode_utf8(std::string_view s, std::size_t i, char32_t& cp) noexcept {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) { cp = b0; return 1; }
  const std::size_t left = s.size() - i;
  auto cont = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]) & 0xC0u; };
  auto bits = [&](std::size_t k) { return static_cast<char32_t>(static_cast<unsigned char>(s[i + k]) & 0x3Fu); };
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    if (left < 2 || cont(1) != 0x80) return 0;
    cp = (static_cast<char32_t>(b0 & 0x1Fu) << 6) | bits(1);
    return 2;
  }
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    if (left < 3 || cont(1) != 0x80 || cont(2) != 0x80) return 0;
    cp = (static_cast<char32_t>(b0 & 0x0Fu) << 12) | (bits(1) << 6) | bits(2);
    if (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return 3;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    if (left < 4 || cont(1) != 0x80 || cont(2) != 0x80 || cont(3) != 0x80) return 0;
    cp = (static_cast<char32_t>(b0 & 0x07u) << 18) | (bits(1) << 12) | (bits(2) << 6) | bits(3);
    if (cp < 0x10000 || cp > 0x10FFFF) return 0;
    return 4;
  }
  return 0;
}

/// Appends the UTF-8 encoding of a valid code point.
inline void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

/// Control and bidi-override characters that must never reach a notification.
constexpr bool is_unwanted(char32_t cp) noexcept {
  return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 ||
         (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0xFEFF;
}

/// The end of the run of bytes from `i` that a JSON string holds as they are: printable
/// ASCII other than '"' and '\\'. Eight bytes at a time while whole words are plain.
inline std::size_t plain_ascii_end(std::string_view s, std::size_t i) noexcept {
  constexpr std::uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
  for (; s.size() - i >= 8; i += 8) {
    std::uint64_t w;  // byte order does not matter: only whether some byte is flagged
    std::memcpy(&w, s.data() + i, sizeof w);
    const std::uint64_t quote = w ^ (ones * '"'), backslash = w ^ (ones * '\\');
    // A byte is flagged when it is zero (after the xor), below 0x20, or has its high bit.
    const std::uint64_t special = ((quote - ones) & ~quote) | ((backslash - ones) & ~backslash) |
                                  ((w - ones * 0x20) & ~w) | w;
    if (special & highs) break;
  }
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') break;
    ++i;
  }
  return i;
}

}  // namespace detail

/// The replacement character U+FFFD, put where invalid UTF-8 was.
inline constexpr std::string_view replacement_character = "\xEF\xBF\xBD";

/// True when s is well-formed UTF-8.
constexpr bool is_valid_utf8(std::string_view s) noexcept {
  for (std::size_t i = 0; i < s.size();) {
    if (static_cast<unsigned char>(s[i]) < 0x80) { ++i; continue; }
    char32_t cp = 0;
    const std::size_t n = detail::decode_utf8(s, i, cp);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

/// Number of code points in s, counting each invalid byte as one.
constexpr std::size_t utf8_length(std::string_view s) noexcept {
  std::size_t count = 0;
  for (std::size_t i = 0; i < s.size(); ++count) {
    char32_t cp = 0;
    const std::size_t n = detail::decode_utf8(s, i, cp);
    i += n == 0 ? 1 : n;
  }
  return count;
}

/// Appends user text cleaned for display, keeping at most `max_code_points` of it and
/// adding "..." when more was there. Invalid UTF-8 becomes U+FFFD; tab, CR and LF become
/// a space; other control, line-separator and bidi-override characters are removed.
/// Returns true when the text was cut.
inline bool append_clean(std::string& out, std::string_view in,
                         std::size_t max_code_points = std::string_view::npos) {
  std::size_t kept = 0;
  for (std::size_t i = 0; i < in.size();) {
    char32_t cp = 0;
    std::size_t n = detail::decode_utf8(in, i, cp);
    const bool invalid = n == 0;
    if (invalid) n = 1;
    if (!invalid && detail::is_unwanted(cp) && cp != '\t' && cp != '\n' && cp != '\r') {
      i += n;
      continue;
    }
    if (kept == max_code_points) {
      out += "...";
      return true;
    }
    if (invalid) out += replacement_character;
    else if (cp == '\t' || cp == '\n' || cp == '\r') out += ' ';
    else out.append(in.data() + i, n);
    ++kept;
    i += n;
  }
  return false;
}

/// User text cleaned for display (see append_clean).
inline std::string clean_text(std::string_view in, std::size_t max_code_points = std::string_view::npos) {
  std::string out;
  out.reserve(in.size());
  append_clean(out, in, max_code_points);
  return out;
}

/// The longest prefix of valid UTF-8 text s that fits in max_bytes without splitting a code point.
constexpr std::string_view utf8_prefix(std::string_view s, std::size_t max_bytes) noexcept {
  if (s.size() <= max_bytes) return s;
  std::size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0u) == 0x80u) --end;
  return s.substr(0, end);
}

}  // namespace notify
