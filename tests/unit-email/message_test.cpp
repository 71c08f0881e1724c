// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "mime_reader.hpp"
#include "notify/email/message.hpp"
#include "notify/plan.hpp"

using notify::email::build_mail;
using notify::email::encode_header_text;
using notify::test::decode_base64;
using notify::test::decode_words;
using notify::test::unfold;

namespace {

// 2026-12-04 17:28:37 UTC, a Friday.
const auto when = std::chrono::system_clock::time_point(std::chrono::seconds(1796405317));

notify::Message message(std::string title, std::string body) {
  notify::Message m;
  m.title = std::move(title);
  m.body = std::move(body);
  return m;
}

notify::email::Envelope envelope(std::string_view to, std::string_view key = {}) {
  notify::email::Envelope e;
  e.from = {"notify@family.example", "가족 알림"};
  e.to = to;
  e.date = when;
  e.delivery_key = key;
  return e;
}

std::vector<std::string> lines_of(std::string_view text) {
  std::vector<std::string> lines;
  std::size_t i = 0;
  while (i <= text.size()) {
    const std::size_t end = text.find("\r\n", i);
    if (end == std::string_view::npos) {
      if (i < text.size()) lines.emplace_back(text.substr(i));
      break;
    }
    lines.emplace_back(text.substr(i, end - i));
    i = end + 2;
  }
  return lines;
}

// Every "=?...?=" of a header value, as written.
std::vector<std::string> encoded_words(std::string_view value) {
  std::vector<std::string> words;
  for (std::size_t i = value.find("=?"); i != std::string_view::npos; i = value.find("=?", i)) {
    const std::size_t q = value.find('?', value.find('?', i + 2) + 1);
    const std::size_t end = value.find("?=", q + 1);
    words.emplace_back(value.substr(i, end + 2 - i));
    i = end + 2;
  }
  return words;
}

bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t n = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n;
  }
  return true;
}

}  // namespace

TEST_CASE("ASCII header text stays plain") {
  CHECK(encode_header_text("Hello, family!", 9) == "Hello, family!");
  CHECK(encode_header_text("", 9).empty());
}

TEST_CASE("Korean header text becomes UTF-8 B encoded-words that decode back") {
  const std::string title = "민지님이 사진을 올렸어요";
  const std::string encoded = encode_header_text(title, 9);
  CHECK(encoded.rfind("=?UTF-8?B?", 0) == 0);
  CHECK(decode_words(unfold(encoded)) == title);
}

TEST_CASE("text that looks like an encoded-word is encoded, not passed through") {
  const std::string encoded = encode_header_text("=?UTF-8?B?7JWI64WV?=", 9);
  CHECK(encoded.rfind("=?UTF-8?B?", 0) == 0);
  CHECK(decode_words(unfold(encoded)) == "=?UTF-8?B?7JWI64WV?=");
}

TEST_CASE("a long Korean subject is split into encoded-words of at most 75 characters at character boundaries") {
  std::string title;
  for (int i = 0; i < 12; ++i) title += "할머니께서 손주에게 편지를 보냈어요 🎉 ";
  for (std::size_t used : {std::size_t{0}, std::size_t{9}, std::size_t{40}, std::size_t{70}}) {
    CAPTURE(used);
    const std::string encoded = encode_header_text(title, used);
    const auto words = encoded_words(encoded);
    REQUIRE(words.size() > 5);
    for (const std::string& w : words) {
      CHECK(w.size() <= 75);
      // Each word on its own is whole UTF-8: no character was split between two words.
      const std::string payload = w.substr(10, w.size() - 12);
      CHECK(valid_utf8(decode_base64(payload)));
    }
    const auto lines = lines_of(encoded);
    // The first word fits what is left of the first line, but is never shorter than 20.
    CHECK(lines.front().size() <= std::max<std::size_t>(76 - std::min<std::size_t>(used, 76), 20));
    for (std::size_t i = 1; i < lines.size(); ++i) {
      CHECK(lines[i].front() == ' ');  // folded: every line after the first starts with a space
      CHECK(lines[i].size() <= 76);
    }
    CHECK(decode_words(unfold(encoded)) == title);
  }
}

TEST_CASE("a long ASCII subject is folded at spaces and unfolds to itself") {
  std::string title;
  for (int i = 0; i < 20; ++i) title += "word" + std::to_string(i) + " ";
  title += "end";
  const std::string encoded = encode_header_text(title, 9);
  CHECK(encoded.find("=?") == std::string::npos);
  for (const auto& line : lines_of(encoded)) CHECK(line.size() <= 78);
  CHECK(unfold(encoded) == title);
}

TEST_CASE("CR and LF in header text never start a new header line") {
  for (std::string_view text : {"Hi\r\nBcc: victim@example.com", "Hi\nBcc: victim@example.com",
                                "Hi\rBcc: victim@example.com", "안녕\r\nBcc: victim@example.com"}) {
    CAPTURE(text);
    const std::string encoded = encode_header_text(text, 9);
    // A line break may only be folding (followed by a space), and no decoded CR/LF remains.
    for (std::size_t i = encoded.find('\n'); i != std::string::npos; i = encoded.find('\n', i + 1)) {
      REQUIRE(i > 0);
      CHECK(encoded[i - 1] == '\r');
      CHECK(i + 1 < encoded.size());
      CHECK(encoded[i + 1] == ' ');
    }
    const std::string decoded = decode_words(unfold(encoded));
    CHECK(decoded.find('\r') == std::string::npos);
    CHECK(decoded.find('\n') == std::string::npos);
  }
}

TEST_CASE("display names: atoms plain, specials quoted, non-ASCII encoded") {
  using notify::email::encode_display_name;
  CHECK(encode_display_name("Family Notify") == "Family Notify");
  CHECK(encode_display_name("Kim, \"Minji\"") == R"("Kim, \"Minji\"")");
  CHECK(encode_display_name("a\\b.c") == R"("a\\b.c")");
  const std::string encoded = encode_display_name("가족 알림", 6);
  CHECK(encoded.rfind("=?UTF-8?B?", 0) == 0);
  CHECK(decode_words(unfold(encoded)) == "가족 알림");
  CHECK(encode_display_name("Evil\r\nBcc: x@y.z").find('\n') == std::string::npos);
}

TEST_CASE("HTML escaping covers & < > \" '") {
  using notify::email::escape_html;
  CHECK(escape_html(R"(<a href="x">Tom & Jerry's</a>)") ==
        "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;");
  CHECK(escape_html("가족") == "가족");
  CHECK(escape_html("") == "");
}

TEST_CASE("the HTML part is the fixed template with escaped title and body paragraphs") {
  const std::string html = notify::email::html_part("<b>T</b>", "line 1\nline <2>\n\npara & 2\r\nend");
  CHECK(html.find("<html lang=\"ko\">") != std::string::npos);
  CHECK(html.find("<meta charset=\"UTF-8\">") != std::string::npos);
  CHECK(html.find("<title>&lt;b&gt;T&lt;/b&gt;</title>") != std::string::npos);
  CHECK(html.find("<h1>&lt;b&gt;T&lt;/b&gt;</h1>") != std::string::npos);
  CHECK(html.find("<p>line 1<br>\r\nline &lt;2&gt;</p>") != std::string::npos);
  CHECK(html.find("<p>para &amp; 2<br>\r\nend</p>") != std::string::npos);
  CHECK(html.find("<b>") == std::string::npos);
}

TEST_CASE("the text part is title, blank line, body with CRLF line ends") {
  CHECK(notify::email::text_part("제목", "첫 줄\n둘째 줄") == "제목\r\n\r\n첫 줄\r\n둘째 줄");
  CHECK(notify::email::text_part("a\r\nb", "x\ry") == "a b\r\n\r\nx\r\ny");
}

TEST_CASE("base64 wraps at 76 and round-trips") {
  std::string data;
  for (int i = 0; i < 300; ++i) data += static_cast<char>(i * 7);
  const std::string encoded = notify::email::base64(data, 76);
  for (const auto& line : lines_of(encoded)) CHECK(line.size() <= 76);
  CHECK(encoded.substr(encoded.size() - 2) == "\r\n");
  CHECK(decode_base64(encoded) == data);
  CHECK(notify::email::base64("") == "");
  CHECK(notify::email::base64("f") == "Zg==");
  CHECK(notify::email::base64("fo") == "Zm8=");
  CHECK(notify::email::base64("foobar") == "Zm9vYmFy");
}

TEST_CASE("dates are RFC 5322 in UTC") {
  CHECK(notify::email::format_date(when) == "Fri, 04 Dec 2026 17:28:37 +0000");
  CHECK(notify::email::format_date(std::chrono::system_clock::time_point{}) == "Thu, 01 Jan 1970 00:00:00 +0000");
  CHECK(notify::email::format_date(std::chrono::system_clock::time_point(std::chrono::seconds(951782400))) ==
        "Tue, 29 Feb 2000 00:00:00 +0000");
}

TEST_CASE("the Message-ID is stable for a key and differs between keys") {
  using notify::email::message_id;
  const std::string a = message_id("req-1|kim@example.com", "family.example");
  CHECK(a == message_id("req-1|kim@example.com", "family.example"));
  CHECK(a != message_id("req-1|lee@example.com", "family.example"));
  CHECK(a != message_id("req-2|kim@example.com", "family.example"));
  CHECK(a.size() == 1 + 16 + 1 + 14 + 1);
  CHECK(a.front() == '<');
  CHECK(a.substr(17) == "@family.example>");

  const auto m = message("제목", "본문");
  const auto one = build_mail(m, envelope("kim@example.com", "req-1|kim@example.com"));
  const auto again = build_mail(m, envelope("kim@example.com", "req-1|kim@example.com"));
  const auto other = build_mail(m, envelope("kim@example.com", "req-2|kim@example.com"));
  REQUIRE(one);
  REQUIRE(again);
  REQUIRE(other);
  CHECK(one->message_id == a);
  CHECK(one->data == again->data);
  CHECK(one->message_id != other->message_id);
  // Without a key: from the title, body and address.
  const auto plain1 = build_mail(m, envelope("kim@example.com"));
  const auto plain2 = build_mail(m, envelope("kim@example.com"));
  const auto plain3 = build_mail(message("제목", "다른 본문"), envelope("kim@example.com"));
  const auto plain4 = build_mail(m, envelope("lee@example.com"));
  CHECK(plain1->message_id == plain2->message_id);
  CHECK(plain1->message_id != plain3->message_id);
  CHECK(plain1->message_id != plain4->message_id);
}

TEST_CASE("a built message has its headers, CRLF everywhere and two base64 parts that decode to the text") {
  const std::string title = "할머니께서 새 사진을 올렸어요 — 가족 앨범을 확인해 보세요! 오늘의 추억을 함께 나눠요";
  const std::string body = "사진 3장이 추가되었어요.\n\n<앨범> & \"추억\" 'ㅎㅎ'";
  const auto mail = build_mail(message(title, body), envelope("kim@example.com", "req-7|kim@example.com"));
  REQUIRE(mail);
  const std::string& data = mail->data;

  for (std::size_t i = 0; i < data.size(); ++i) {
    if (data[i] == '\n') {
      REQUIRE(i > 0);
      CHECK(data[i - 1] == '\r');  // no bare LF
    }
    if (data[i] == '\r') CHECK((i + 1 < data.size() && data[i + 1] == '\n'));  // no bare CR
  }
  for (const auto& line : lines_of(data)) CHECK(line.size() <= 998);

  const auto parsed = notify::test::parse_mail(data);
  CHECK(parsed.header("date") == "Fri, 04 Dec 2026 17:28:37 +0000");
  CHECK(decode_words(parsed.header("from")) == "가족 알림 <notify@family.example>");
  CHECK(parsed.header("to") == "<kim@example.com>");
  CHECK(decode_words(parsed.header("subject")) == title);
  CHECK(parsed.header("message-id") == mail->message_id);
  CHECK(parsed.header("mime-version") == "1.0");
  CHECK(parsed.count("bcc") == 0);
  const std::string content_type = parsed.header("content-type");
  CHECK(content_type.rfind("multipart/alternative;", 0) == 0);

  const auto parts = notify::test::parse_parts(parsed.body, notify::test::boundary_of(content_type));
  REQUIRE(parts.size() == 2);
  CHECK(parts[0].header("content-type") == "text/plain; charset=UTF-8");
  CHECK(parts[0].header("content-transfer-encoding") == "base64");
  CHECK(parts[1].header("content-type") == "text/html; charset=UTF-8");
  CHECK(parts[1].header("content-transfer-encoding") == "base64");
  for (const auto& part : parts)
    for (const auto& line : lines_of(part.body)) CHECK(line.size() <= 76);

  const std::string text = decode_base64(parts[0].body);
  CHECK(text == title + "\r\n\r\n사진 3장이 추가되었어요.\r\n\r\n<앨범> & \"추억\" 'ㅎㅎ'");
  const std::string html = decode_base64(parts[1].body);
  CHECK(html == notify::email::html_part(title, body));
  CHECK(html.find("<p>&lt;앨범&gt; &amp; &quot;추억&quot; &#39;ㅎㅎ&#39;</p>") != std::string::npos);
}

TEST_CASE("a title with CR/LF cannot inject a header into a built message") {
  const auto mail = build_mail(message("Hello\r\nBcc: victim@example.com\r\n\r\nspoofed body", "body"),
                               envelope("kim@example.com"));
  REQUIRE(mail);
  const auto parsed = notify::test::parse_mail(mail->data);
  CHECK(parsed.count("bcc") == 0);
  CHECK(parsed.count("subject") == 1);
  CHECK(parsed.header("subject").find("Bcc:") != std::string::npos);  // kept as text of the subject
  CHECK(parsed.headers.size() == 8);

  // A display name with CR/LF neither.
  auto e = envelope("kim@example.com");
  e.from.name = "Notify\r\nBcc: victim@example.com";
  const auto mail2 = build_mail(message("t", "b"), e);
  REQUIRE(mail2);
  CHECK(notify::test::parse_mail(mail2->data).count("bcc") == 0);
}

TEST_CASE("an address with CR/LF or brackets is refused, never written") {
  for (std::string_view to : {"kim@example.com\r\nBcc: victim@example.com", "kim@example.com>\r\nX: y",
                              "<kim@example.com>", "kim@example.com\n"}) {
    CAPTURE(to);
    const auto mail = build_mail(message("t", "b"), envelope(to));
    REQUIRE_FALSE(mail);
    CHECK(mail.error().code == notify::Errc::invalid_value);
    CHECK(mail.error().message.find("recipient: invalid e-mail address") == 0);
    CHECK(mail.error().message.find("victim") == std::string::npos);
  }
  auto e = envelope("kim@example.com");
  e.from.address = "bad address@family.example";
  const auto mail = build_mail(message("t", "b"), e);
  REQUIRE_FALSE(mail);
  CHECK(mail.error().message.find("sender: ") == 0);
}

TEST_CASE("address validation") {
  using notify::email::validate_address;
  struct Case {
    std::string address;
    bool valid;
  };
  const std::string long_local(65, 'a');
  const std::string long_domain = "a@" + std::string(250, 'b') + ".com";
  const std::vector<Case> cases = {
      {"kim@example.com", true},
      {"kim.minji+notify@mail.example.co.kr", true},
      {"a@b", true},
      {"", false},
      {"kim", false},
      {"kim@", false},
      {"@example.com", false},
      {"kim@@example.com", false},
      {"kim@lee@example.com", false},
      {"kim lee@example.com", false},
      {"kim@example.com\r\n", false},
      {"kim@exa\nmple.com", false},
      {"<kim@example.com>", false},
      {"kim@example.com>", false},
      {"\"kim\"@example.com", false},
      {"kim,lee@example.com", false},
      {"kim@.example.com", false},
      {"kim@example..com", false},
      {"kim@example.com.", false},
      {"김민지@example.com", false},
      {"kim\t@example.com", false},
      {long_local + "@example.com", false},
      {long_domain, false},
  };
  for (const Case& c : cases) {
    CAPTURE(c.address);
    const auto r = validate_address(c.address);
    CHECK(static_cast<bool>(r) == c.valid);
    if (!r) {
      CHECK(r.error().code == notify::Errc::invalid_value);
      CHECK(r.error().message.rfind("invalid e-mail address: ", 0) == 0);
    }
  }
  CHECK(validate_address(std::string(64, 'a') + "@example.com"));
}

TEST_CASE("addresses are shortened for logs") {
  using notify::email::shorten_address;
  CHECK(shorten_address("kim.minji@example.com") == "ki\u2026@example.com");
  CHECK(shorten_address("k@example.com") == "k\u2026@example.com");
  CHECK(shorten_address("김민지@example.com") == "김민\u2026@example.com");
  CHECK(shorten_address("nodomain") == "no\u2026");
  CHECK(shorten_address("a\r\nb@x\ny") == "a?\u2026@x y");
}
