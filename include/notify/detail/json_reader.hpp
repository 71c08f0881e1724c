// SPDX-License-Identifier: MIT
#pragma once

/// A small pull reader over a JSON text in memory: no allocation on the common path,
/// strings without escapes are returned as views into the input, and the first syntax
/// error is kept with its byte offset. It never throws.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "notify/text.hpp"

namespace notify::detail {

enum class JsonKind : std::uint8_t { object, array, string, number, boolean, null, invalid };

/// How reading a string ended.
enum class StringStatus : std::uint8_t { ok, bad_utf8, syntax };

/// A number's lexeme and whether it is written as an integer (no fraction, no exponent).
struct JsonNumber {
  std::string_view text;
  bool integral = false;
};

class JsonReader {
 public:
  JsonReader(std::string_view text, std::size_t max_depth) noexcept : s_(text), max_depth_(max_depth) {}

  bool failed() const noexcept { return !error_.empty(); }
  std::string_view error() const noexcept { return error_; }
  std::size_t error_offset() const noexcept { return error_offset_; }
  std::size_t offset() const noexcept { return pos_; }
  bool depth_exceeded() const noexcept { return depth_exceeded_; }

  /// Kind of the next value (skipping white space), without consuming it.
  JsonKind peek() noexcept {
    skip_ws();
    if (pos_ >= s_.size()) return JsonKind::invalid;
    switch (s_[pos_]) {
      case '{': return JsonKind::object;
      case '[': return JsonKind::array;
      case '"': return JsonKind::string;
      case 't': case 'f': return JsonKind::boolean;
      case 'n': return JsonKind::null;
      default:
        return (s_[pos_] == '-' || (s_[pos_] >= '0' && s_[pos_] <= '9')) ? JsonKind::number : JsonKind::invalid;
    }
  }

  /// Consumes '{' or '['; false (with an error) when nesting is too deep.
  bool enter() noexcept {
    if (++depth_ > max_depth_) {
      depth_exceeded_ = true;
      return fail("nesting too deep");
    }
    ++pos_;
    first_ = true;
    return true;
  }

  /// Advances to the next key of the object entered last; false at '}' or on error.
  /// The key is a view into the input or, when it has escapes, into `scratch`.
  bool next_key(std::string_view& key, std::string& scratch) noexcept {
    if (!next_item('}')) return false;
    if (peek() != JsonKind::string) return fail("expected a string key");
    if (read_string(key, scratch) != StringStatus::ok) return fail("invalid key");
    skip_ws();
    if (pos_ >= s_.size() || s_[pos_] != ':') return fail("expected ':'");
    ++pos_;
    return true;
  }

  /// Advances to the next element of the array entered last; false at ']' or on error.
  bool next_element() noexcept { return next_item(']'); }

  /// Reads a string value. On bad_utf8 the reader has still moved past the string.
  StringStatus read_string(std::string_view& out, std::string& scratch) noexcept {
    skip_ws();
    if (pos_ >= s_.size() || s_[pos_] != '"') return fail("expected a string"), StringStatus::syntax;
    const std::size_t start = ++pos_;
    // Fast path: plain ASCII up to the closing quote.
    pos_ = plain_ascii_end(s_, pos_);
    if (pos_ < s_.size() && s_[pos_] == '"') {
      out = s_.substr(start, pos_ - start);
      ++pos_;
      return StringStatus::ok;
    }
    return read_string_slow(start, out, scratch);
  }

  /// Reads a number lexeme following the JSON grammar.
  bool read_number(JsonNumber& out) noexcept {
    skip_ws();
    const std::size_t start = pos_;
    if (pos_ < s_.size() && s_[pos_] == '-') ++pos_;
    if (pos_ >= s_.size() || s_[pos_] < '0' || s_[pos_] > '9') return fail("invalid number");
    if (s_[pos_] == '0') ++pos_;
    else while (pos_ < s_.size() && is_digit(s_[pos_])) ++pos_;
    bool integral = true;
    if (pos_ < s_.size() && s_[pos_] == '.') {
      integral = false;
      ++pos_;
      if (pos_ >= s_.size() || !is_digit(s_[pos_])) return fail("invalid number");
      while (pos_ < s_.size() && is_digit(s_[pos_])) ++pos_;
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      integral = false;
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (pos_ >= s_.size() || !is_digit(s_[pos_])) return fail("invalid number");
      while (pos_ < s_.size() && is_digit(s_[pos_])) ++pos_;
    }
    out = {s_.substr(start, pos_ - start), integral};
    return true;
  }

  /// Reads true or false.
  bool read_bool(bool& out) noexcept {
    skip_ws();
    if (s_.substr(pos_, 4) == "true") { pos_ += 4; out = true; return true; }
    if (s_.substr(pos_, 5) == "false") { pos_ += 5; out = false; return true; }
    return fail("invalid literal");
  }

  /// Reads null.
  bool read_null() noexcept {
    skip_ws();
    if (s_.substr(pos_, 4) == "null") { pos_ += 4; return true; }
    return fail("invalid literal");
  }

  /// Skips one whole value of any kind, checking its syntax and UTF-8. With
  /// allow_bad_utf8, invalid UTF-8 in string values is let through (keys are always
  /// checked): for a value that is read again later, where it becomes a field error.
  bool skip_value(bool allow_bad_utf8 = false) noexcept {
    std::string_view sv;
    switch (peek()) {
      case JsonKind::object: {
        if (!enter()) return false;
        while (next_key(sv, scratch_)) if (!skip_value(allow_bad_utf8)) return false;
        return !failed();
      }
      case JsonKind::array: {
        if (!enter()) return false;
        while (next_element()) if (!skip_value(allow_bad_utf8)) return false;
        return !failed();
      }
      case JsonKind::string: {
        const StringStatus st = read_string(sv, scratch_);
        if (st == StringStatus::bad_utf8) return allow_bad_utf8 || fail("invalid UTF-8 in a string");
        return st == StringStatus::ok;
      }
      case JsonKind::number: { JsonNumber n; return read_number(n); }
      case JsonKind::boolean: { bool b = false; return read_bool(b); }
      case JsonKind::null: return read_null();
      case JsonKind::invalid: break;
    }
    return fail(pos_ >= s_.size() ? "unexpected end of input" : "unexpected character");
  }

  /// True when only white space is left.
  bool at_end() noexcept {
    skip_ws();
    return pos_ >= s_.size();
  }

  /// Records a syntax error at the current offset (the first one wins); returns false.
  bool fail(std::string_view what) noexcept {
    if (error_.empty()) {
      error_ = what;
      error_offset_ = pos_;
    }
    pos_ = s_.size();
    return false;
  }

 private:
  static constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

  void skip_ws() noexcept {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\r' || s_[pos_] == '\t')) ++pos_;
  }

  bool next_item(char close) noexcept {
    if (failed()) return false;
    skip_ws();
    if (pos_ >= s_.size()) return fail("unexpected end of input");
    if (s_[pos_] == close) {
      ++pos_;
      --depth_;
      first_ = false;
      return false;
    }
    if (!first_) {
      if (s_[pos_] != ',') return fail(close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
      ++pos_;
      skip_ws();
      if (pos_ < s_.size() && s_[pos_] == close) return fail("trailing comma");
    }
    first_ = false;
    return true;
  }

  static int hex(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  bool read_hex4(char32_t& v) noexcept {
    if (s_.size() - pos_ < 4) return false;
    v = 0;
    for (int k = 0; k < 4; ++k) {
      const int h = hex(s_[pos_ + static_cast<std::size_t>(k)]);
      if (h < 0) return false;
      v = (v << 4) | static_cast<char32_t>(h);
    }
    pos_ += 4;
    return true;
  }

  // Escapes, control characters or non-ASCII: decode into scratch only if an escape
  // appears, otherwise validate UTF-8 in place and return a view.
  StringStatus read_string_slow(std::size_t start, std::string_view& out, std::string& scratch) noexcept {
    bool escaped = false;
    bool bad = false;
    scratch.clear();
    std::size_t copied_to = start;  // input before this offset is already in scratch
    while (pos_ < s_.size()) {
      const auto c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        if (escaped) {
          scratch.append(s_.data() + copied_to, pos_ - copied_to);
          out = scratch;
        } else {
          out = s_.substr(start, pos_ - start);
        }
        ++pos_;
        return bad ? StringStatus::bad_utf8 : StringStatus::ok;
      }
      if (c < 0x20) return fail("control character in a string"), StringStatus::syntax;
      if (c >= 0x80) {
        char32_t cp = 0;
        const std::size_t n = decode_utf8(s_, pos_, cp);
        if (n == 0) {
          bad = true;
          ++pos_;
        } else {
          pos_ += n;
        }
        continue;
      }
      if (c != '\\') { ++pos_; continue; }
      // An escape: move what came before into scratch.
      if (!escaped) scratch.reserve(pos_ - start + 16);
      escaped = true;
      scratch.append(s_.data() + copied_to, pos_ - copied_to);
      ++pos_;
      if (pos_ >= s_.size()) break;
      const char e = s_[pos_++];
      switch (e) {
        case '"': scratch += '"'; break;
        case '\\': scratch += '\\'; break;
        case '/': scratch += '/'; break;
        case 'b': scratch += '\b'; break;
        case 'f': scratch += '\f'; break;
        case 'n': scratch += '\n'; break;
        case 'r': scratch += '\r'; break;
        case 't': scratch += '\t'; break;
        case 'u': {
          char32_t cp = 0;
          if (!read_hex4(cp)) return fail("invalid \\u escape"), StringStatus::syntax;
          if (cp >= 0xD800 && cp <= 0xDBFF && s_.substr(pos_, 2) == "\\u") {
            const std::size_t save = pos_;
            pos_ += 2;
            char32_t lo = 0;
            if (read_hex4(lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else {
              pos_ = save;
            }
          }
          // A lone surrogate (as JavaScript's JSON.stringify writes for a cut emoji)
          // becomes U+FFFD rather than failing the whole request.
          if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;
          append_utf8(scratch, cp);
          break;
        }
        default: return fail("invalid escape"), StringStatus::syntax;
      }
      copied_to = pos_;
    }
    return fail("unterminated string"), StringStatus::syntax;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  std::size_t depth_ = 0;
  std::size_t max_depth_;
  bool first_ = true;
  bool depth_exceeded_ = false;
  std::string_view error_;
  std::size_t error_offset_ = 0;
  std::string scratch_;
};

}  // namespace notify::detail
