// SPDX-License-Identifier: MIT
// EUC-KR byte counts. Expected values were checked once against CPython's codec:
//   /usr/bin/python3 -c "print(len('안녕하세요'.encode('euc-kr')))"   -> 10
//   ... 'Hello, world!' -> 13, '가나다라마바사아자차카타파하' -> 28, '·※★' -> 6,
//   '😀' -> UnicodeEncodeError, '똠' -> 8 (CPython writes a syllable outside KS X 1001 as
//   an 8-byte jamo composition; this adapter replaces it instead, so '똠방각하' is 1 + 6).
#include <doctest/doctest.h>

#include <string>

#include "notify/plan.hpp"
#include "notify/sens/text.hpp"

using notify::Message;
using namespace notify::sens;

TEST_CASE("ASCII counts one byte per character and common Hangul two") {
  CHECK(euckr_length("Hello, world!") == 13);
  CHECK(euckr_length("안녕하세요") == 10);
  CHECK(euckr_length("가나다라마바사아자차카타파하") == 28);
  CHECK(euckr_length("·※★") == 6);
  CHECK(euckr_length("한글 ASCII 1") == 12);
  CHECK(euckr_length("") == 0);
}

TEST_CASE("a code point has one byte, two, or no EUC-KR form") {
  CHECK(euckr_bytes(U'A') == 1);
  CHECK(euckr_bytes(U'\n') == 1);
  CHECK(euckr_bytes(U'가') == 2);
  CHECK(euckr_bytes(U'힝') == 2);
  CHECK(euckr_bytes(U'똠') == 0);  // not among KS X 1001's 2,350 syllables
  CHECK(euckr_bytes(U'햏') == 0);
  CHECK(euckr_bytes(U'\U0001F600') == 0);  // emoji
  CHECK(euckr_bytes(U'\u00E9') == 0);      // é: Latin-1 letters are not in KS X 1001
}

TEST_CASE("characters EUC-KR cannot carry are replaced by a visible ASCII character") {
  const FitText fit = euckr_fit("똠방각하 😀!", 90);
  CHECK(fit.utf8 == "?방각하 ?!");
  CHECK(fit.replaced == 2);
  CHECK(fit.bytes == 1 + 6 + 1 + 1 + 1);
  CHECK_FALSE(fit.truncated);
  CHECK(euckr_length("똠방각하") == 7);
  CHECK(euckr_fit("\xFF" "a", 10).utf8 == "?a");  // invalid UTF-8 too
}

TEST_CASE("a text of exactly the limit is kept and one byte more is cut with two dots") {
  const std::string ninety = std::string(88, 'a') + "가";  // 90 bytes
  CHECK(euckr_length(ninety) == 90);
  FitText fit = euckr_fit(ninety, 90);
  CHECK(fit.utf8 == ninety);
  CHECK_FALSE(fit.truncated);

  const std::string ninety_one = std::string(89, 'a') + "가";  // 91 bytes
  fit = euckr_fit(ninety_one, 90);
  CHECK(fit.truncated);
  CHECK(fit.bytes == 90);
  CHECK(fit.utf8 == std::string(88, 'a') + "..");
}

TEST_CASE("a cut never splits a Hangul syllable") {
  std::string hangul;
  for (int i = 0; i < 50; ++i) hangul += "가";  // 100 bytes
  const FitText fit = euckr_fit(hangul, 91);     // 89 bytes for text: 44 syllables
  CHECK(fit.truncated);
  CHECK(fit.bytes == 88 + 2);
  std::string expected;
  for (int i = 0; i < 44; ++i) expected += "가";
  CHECK(fit.utf8 == expected + "..");
}

TEST_CASE("LMS content is cut to 2,000 bytes") {
  std::string long_text;
  for (int i = 0; i < 1500; ++i) long_text += "한";  // 3,000 bytes
  const FitText fit = euckr_fit(long_text, lms_max_bytes);
  CHECK(fit.truncated);
  CHECK(fit.bytes == 2000);
  CHECK(euckr_length(fit.utf8) == 2000);
  CHECK(fit.utf8.ends_with("한.."));
}

TEST_CASE("a message fitting 90 bytes is an SMS of title and body, a longer one an LMS") {
  Message m;
  m.title = "새 사진";
  m.body = "엄마가 사진을 올렸어요.";
  SmsText t = sms_text(m);
  CHECK(t.type == SmsType::sms);
  CHECK(t.content == "새 사진\n엄마가 사진을 올렸어요.");
  CHECK(t.subject.empty());

  m.body = std::string(80, 'x');  // 7 + 1 + 80 = 88 bytes
  CHECK(sms_text(m).type == SmsType::sms);
  m.body = std::string(83, 'x');  // 91 bytes
  t = sms_text(m);
  CHECK(t.type == SmsType::lms);
  CHECK(t.subject == "새 사진");
  CHECK(t.content == std::string(83, 'x'));
}

TEST_CASE("an LMS subject is the title cut to 40 bytes") {
  Message m;
  for (int i = 0; i < 30; ++i) m.title += "가";  // 60 bytes
  m.body = std::string(200, 'b');
  const SmsText t = sms_text(m);
  REQUIRE(t.type == SmsType::lms);
  CHECK(euckr_length(t.subject) == 40);
  CHECK(t.subject.ends_with(".."));
  CHECK(t.truncated);
}

TEST_CASE("plain text leaves out an empty title or body") {
  Message m;
  m.body = "본문";
  CHECK(plain_text(m) == "본문");
  m.title = "제목";
  CHECK(plain_text(m) == "제목\n본문");
  m.body.clear();
  CHECK(plain_text(m) == "제목");
}

TEST_CASE("an advertisement is marked by its (광고) title") {
  Message m;
  m.title = "(광고) 봄맞이 이벤트";
  m.body = "혜택을 확인하세요.";
  CHECK(sms_text(m).advertising);
  m.title = "봄맞이 이벤트";
  CHECK_FALSE(sms_text(m).advertising);
}
