// SPDX-License-Identifier: MIT
// Unit tests for include/notify/text.hpp: UTF-8 validation, cleaning and truncation.

#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "notify/text.hpp"

using namespace std::string_literals;
using notify::append_clean;
using notify::clean_text;
using notify::is_valid_utf8;
using notify::utf8_length;
using notify::utf8_prefix;

namespace {
// Ten Hangul syllables: 30 bytes, 10 code points.
constexpr std::string_view ten_korean = "가나다라마바사아자차";
constexpr std::string_view fffd = "\xEF\xBF\xBD";
}  // namespace

TEST_CASE("well-formed UTF-8 of one to four bytes per code point is valid") {
  CHECK(is_valid_utf8(""));
  CHECK(is_valid_utf8("plain ascii"));
  CHECK(is_valid_utf8(std::string_view("\0", 1)));
  CHECK(is_valid_utf8("\x7F"));
  CHECK(is_valid_utf8("\xC2\x80"));          // U+0080, smallest 2-byte
  CHECK(is_valid_utf8("\xC3\xA9"));          // é
  CHECK(is_valid_utf8("\xDF\xBF"));          // U+07FF, largest 2-byte
  CHECK(is_valid_utf8("\xE0\xA0\x80"));      // U+0800, smallest 3-byte
  CHECK(is_valid_utf8("엄마"));
  CHECK(is_valid_utf8("\xED\x9F\xBF"));      // U+D7FF, just below the surrogates
  CHECK(is_valid_utf8("\xEE\x80\x80"));      // U+E000, just above the surrogates
  CHECK(is_valid_utf8("\xEF\xBF\xBF"));      // U+FFFF
  CHECK(is_valid_utf8("\xF0\x90\x80\x80"));  // U+10000, smallest 4-byte
  CHECK(is_valid_utf8("😀"));
  CHECK(is_valid_utf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF, the last code point
  CHECK(is_valid_utf8("a엄😀é"));
}

TEST_CASE("overlong encodings are not valid UTF-8") {
  CHECK_FALSE(is_valid_utf8("\xC0\x80"));          // U+0000 in two bytes
  CHECK_FALSE(is_valid_utf8("\xC0\xAF"));          // '/' in two bytes
  CHECK_FALSE(is_valid_utf8("\xC1\xBF"));          // U+007F in two bytes
  CHECK_FALSE(is_valid_utf8("\xE0\x80\x80"));      // U+0000 in three bytes
  CHECK_FALSE(is_valid_utf8("\xE0\x9F\xBF"));      // U+07FF in three bytes
  CHECK_FALSE(is_valid_utf8("\xF0\x80\x80\x80"));  // U+0000 in four bytes
  CHECK_FALSE(is_valid_utf8("\xF0\x8F\xBF\xBF"));  // U+FFFF in four bytes
}

TEST_CASE("UTF-16 surrogates encoded in UTF-8 are not valid") {
  CHECK_FALSE(is_valid_utf8("\xED\xA0\x80"));                  // U+D800
  CHECK_FALSE(is_valid_utf8("\xED\xAF\xBF"));                  // U+DBFF
  CHECK_FALSE(is_valid_utf8("\xED\xB0\x80"));                  // U+DC00
  CHECK_FALSE(is_valid_utf8("\xED\xBF\xBF"));                  // U+DFFF
  CHECK_FALSE(is_valid_utf8("\xED\xA0\xBD\xED\xB8\x80"));      // a CESU-8 surrogate pair
}

TEST_CASE("code points above U+10FFFF and bytes F5 to FF are not valid") {
  CHECK_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // U+110000
  CHECK_FALSE(is_valid_utf8("\xF5\x80\x80\x80"));
  CHECK_FALSE(is_valid_utf8("\xF7\xBF\xBF\xBF"));
  CHECK_FALSE(is_valid_utf8("\xF8\x88\x80\x80\x80"));  // old 5-byte form
  CHECK_FALSE(is_valid_utf8("\xFE"));
  CHECK_FALSE(is_valid_utf8("\xFF"));
}

TEST_CASE("truncated sequences and stray continuation bytes are not valid") {
  CHECK_FALSE(is_valid_utf8("\xC3"));
  CHECK_FALSE(is_valid_utf8("\xEC\x97"));          // first two bytes of 엄
  CHECK_FALSE(is_valid_utf8("\xEC"));
  CHECK_FALSE(is_valid_utf8("\xF0\x9F\x98"));      // first three bytes of 😀
  CHECK_FALSE(is_valid_utf8("\xF0\x9F"));
  CHECK_FALSE(is_valid_utf8("엄\xEC\x97"));         // cut at the end of a longer text
  CHECK_FALSE(is_valid_utf8("\xEC\x97" "a"));      // a lead byte followed by ASCII
  CHECK_FALSE(is_valid_utf8("\xC3" "a"));
  CHECK_FALSE(is_valid_utf8("\x80"));
  CHECK_FALSE(is_valid_utf8("a\xBF" "b"));
  CHECK_FALSE(is_valid_utf8("\xC3\xA9\xA9"));      // one continuation too many
}

TEST_CASE("utf8 validation is usable at compile time") {
  static_assert(notify::is_valid_utf8("엄마"));
  static_assert(!notify::is_valid_utf8("\xC0\x80"));
  static_assert(notify::utf8_length("엄마😀") == 3);
  CHECK(true);
}

TEST_CASE("utf8_length counts code points, never bytes") {
  CHECK(utf8_length("") == 0);
  CHECK(utf8_length("abc") == 3);
  CHECK(utf8_length(ten_korean) == 10);
  CHECK(ten_korean.size() == 30);
  CHECK(utf8_length("😀") == 1);
  CHECK(utf8_length("😀😀a") == 3);
  CHECK(utf8_length("\xC3\xA9") == 1);
  CHECK(utf8_length("a엄😀é") == 4);
}

TEST_CASE("utf8_length counts each invalid byte as one") {
  CHECK(utf8_length("\xFF") == 1);
  CHECK(utf8_length("\xEC\x97") == 2);  // a truncated 3-byte sequence: two stray bytes
  CHECK(utf8_length("a\xFF" "b") == 3);
  CHECK(utf8_length("\xED\xA0\x80") == 3);  // a surrogate is three invalid bytes
}

TEST_CASE("clean_text keeps ordinary text unchanged") {
  CHECK(clean_text("") == "");
  CHECK(clean_text("엄마 hello 😀 é") == "엄마 hello 😀 é");
  CHECK(clean_text("\"quoted\" \\ back") == "\"quoted\" \\ back");
}

TEST_CASE("clean_text turns tab, newline and carriage return into a space") {
  CHECK(clean_text("a\tb") == "a b");
  CHECK(clean_text("첫줄\n둘째줄") == "첫줄 둘째줄");
  CHECK(clean_text("a\r\nb") == "a  b");
}

TEST_CASE("clean_text removes control, separator, bidi and BOM characters") {
  CHECK(clean_text(std::string_view("a\0b", 3)) == "ab");
  CHECK(clean_text("a\x01\x1F" "b") == "ab");
  CHECK(clean_text("a\x1B[31mb") == "a[31mb");                    // ESC removed
  CHECK(clean_text("a\x7F" "b") == "ab");                          // DEL
  CHECK(clean_text("a\xC2\x80" "b\xC2\x9F" "c") == "abc");         // C1 U+0080, U+009F
  CHECK(clean_text("a\xC2\xA0" "b") == "a\xC2\xA0" "b");           // U+00A0 is kept
  CHECK(clean_text("a\xE2\x80\xA8" "b\xE2\x80\xA9" "c") == "abc");  // U+2028, U+2029
  CHECK(clean_text("\xE2\x80\xAA" "a\xE2\x80\xAB\xE2\x80\xAC\xE2\x80\xAD\xE2\x80\xAE" "b") == "ab");  // U+202A-202E
  CHECK(clean_text("\xE2\x81\xA6" "a\xE2\x81\xA7\xE2\x81\xA8\xE2\x81\xA9" "b") == "ab");  // U+2066-2069
  CHECK(clean_text("\xEF\xBB\xBF" "엄마") == "엄마");               // U+FEFF
  CHECK(clean_text("a\xE2\x80\xA7" "b") == "a\xE2\x80\xA7" "b");    // U+2027 is kept
  CHECK(clean_text("a\xE2\x80\xAF" "b") == "a\xE2\x80\xAF" "b");    // U+202F is kept
}

TEST_CASE("clean_text replaces each invalid byte with U+FFFD") {
  CHECK(clean_text("\xFF") == fffd);
  CHECK(clean_text("엄\xFF마") == "엄"s + std::string(fffd) + "마");
  CHECK(clean_text("a\xC0\x80" "b") == "a"s + std::string(fffd) + std::string(fffd) + "b");
  CHECK(clean_text("\xED\xA0\x80") == std::string(fffd) + std::string(fffd) + std::string(fffd));
  CHECK(is_valid_utf8(clean_text("\xF0\x9F\x98 \xEC\x97\xC3")));
}

TEST_CASE("append_clean adds nothing and reports no cut when the text fits") {
  std::string out = "prefix:";
  CHECK_FALSE(append_clean(out, "엄마", 10));
  CHECK(out == "prefix:엄마");
  CHECK_FALSE(append_clean(out, "", 0));
  CHECK(out == "prefix:엄마");
}

TEST_CASE("append_clean adds no dots when the text has exactly the limit") {
  std::string out;
  CHECK_FALSE(append_clean(out, ten_korean, 10));
  CHECK(out == ten_korean);

  out.clear();
  CHECK_FALSE(append_clean(out, "😀😀😀😀😀😀😀😀😀😀", 10));
  CHECK(out == "😀😀😀😀😀😀😀😀😀😀");
}

TEST_CASE("append_clean cuts after the limit and adds three dots") {
  std::string out;
  CHECK(append_clean(out, "가나다라마바사아자차카", 10));
  CHECK(out == "가나다라마바사아자차...");

  out.clear();
  CHECK(append_clean(out, "가나다라마바사아자😀카타파", 10));
  CHECK(out == "가나다라마바사아자😀...");

  out = "x";
  CHECK(append_clean(out, "abc", 0));
  CHECK(out == "x...");
}

TEST_CASE("append_clean never splits a multi-byte code point") {
  for (std::size_t limit = 0; limit <= 12; ++limit) {
    CAPTURE(limit);
    std::string out;
    (void)append_clean(out, "엄마😀é가나다라마바사아", limit);
    CHECK(is_valid_utf8(out));
  }
}

TEST_CASE("unwanted characters after the limit do not trigger the dots") {
  std::string out;
  CHECK_FALSE(append_clean(out, "가나다라마바사아자차\x01\xE2\x80\xAE\xEF\xBB\xBF", 10));
  CHECK(out == ten_korean);
}

TEST_CASE("removed characters do not count towards the limit") {
  std::string out;
  CHECK_FALSE(append_clean(out, "가\x01나\x7F다라마바사아자차", 10));
  CHECK(out == ten_korean);
}

TEST_CASE("whitespace turned into a space counts towards the limit") {
  std::string out;
  CHECK(append_clean(out, "가나다라마\n바사아자차", 10));
  CHECK(out == "가나다라마 바사아자...");
  out.clear();
  // A newline after the limit is a visible (space) character, so the text was longer.
  CHECK(append_clean(out, "가나다라마바사아자차\n", 10));
  CHECK(out == "가나다라마바사아자차...");
}

TEST_CASE("an invalid byte counts as one character against the limit") {
  std::string out;
  CHECK(append_clean(out, "가나다라마바사아자\xFF\xFF", 10));
  CHECK(out == "가나다라마바사아자"s + std::string(fffd) + "...");
}

TEST_CASE("clean_text with a limit behaves like append_clean") {
  CHECK(clean_text("가나다라마바사아자차카", 10) == "가나다라마바사아자차...");
  CHECK(clean_text(ten_korean, 10) == ten_korean);
  CHECK(clean_text("a\nb", 2) == "a ...");
}

TEST_CASE("utf8_prefix returns the whole text when it fits") {
  CHECK(utf8_prefix("엄마", 6) == "엄마");
  CHECK(utf8_prefix("엄마", 100) == "엄마");
  CHECK(utf8_prefix("", 0) == "");
  CHECK(utf8_prefix("abc", 3) == "abc");
}

TEST_CASE("utf8_prefix never splits a code point") {
  CHECK(utf8_prefix("엄마", 5) == "엄");
  CHECK(utf8_prefix("엄마", 4) == "엄");
  CHECK(utf8_prefix("엄마", 3) == "엄");
  CHECK(utf8_prefix("엄마", 2) == "");
  CHECK(utf8_prefix("엄마", 0) == "");
  CHECK(utf8_prefix("a😀", 4) == "a");
  CHECK(utf8_prefix("a😀", 5) == "a😀");
  CHECK(utf8_prefix("ab", 1) == "a");

  const std::string_view mixed = "a엄😀é가b";
  for (std::size_t n = 0; n <= mixed.size(); ++n) {
    CAPTURE(n);
    const std::string_view p = utf8_prefix(mixed, n);
    CHECK(p.size() <= n);
    CHECK(is_valid_utf8(p));
    CHECK(mixed.substr(0, p.size()) == p);
    // Longest: the next code point would not fit.
    if (p.size() < mixed.size()) {
      char32_t cp = 0;
      const std::size_t next = notify::detail::decode_utf8(mixed, p.size(), cp);
      CHECK(p.size() + next > n);
    }
  }
}
