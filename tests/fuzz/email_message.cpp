// SPDX-License-Identifier: MIT
// Fuzz target: the e-mail message builder (adapters/email/src/message.cpp). The input is
// split at NUL bytes into title, body, recipient address and sender display name.
// Properties checked on every input:
// - a message is built exactly when the recipient passes validate_address();
// - the message has CRLF line ends only (no bare CR or LF), no line over 998 bytes, and
//   exactly its eight header fields, whatever the title, name or body hold (no injection);
// - the Subject decodes (the tests' own RFC 2047 reader) to the sanitised title, and every
//   encoded-word is at most 75 characters;
// - both parts decode from base64 to text_part() and html_part() of the input, and the
//   HTML's interpolated text holds no markup characters.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "mime_reader.hpp"
#include "notify/email/message.hpp"
#include "notify/plan.hpp"
#include "notify/result.hpp"

namespace {

std::string_view next_field(std::string_view& rest) {
  const std::size_t nul = rest.find('\0');
  const std::string_view field = rest.substr(0, nul);
  rest = nul == std::string_view::npos ? std::string_view() : rest.substr(nul + 1);
  return field;
}

std::string_view trim_front(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  notify::Message message;
  message.title = std::string(next_field(rest));
  message.body = std::string(next_field(rest));
  const std::string to(next_field(rest));
  notify::email::Envelope envelope;
  envelope.from = {"notify@family.example", std::string(next_field(rest))};
  envelope.to = to;
  envelope.date = std::chrono::system_clock::time_point(std::chrono::seconds(1796405317));

  const auto mail = notify::email::build_mail(message, envelope);
  NOTIFY_ASSERT(static_cast<bool>(mail) == static_cast<bool>(notify::email::validate_address(to)));
  if (!mail) return 0;
  const std::string& out = mail->data;

  std::size_t line_start = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (out[i] == '\r') {
      NOTIFY_ASSERT(i + 1 < out.size() && out[i + 1] == '\n');
    } else if (out[i] == '\n') {
      NOTIFY_ASSERT(i > 0 && out[i - 1] == '\r');
      NOTIFY_ASSERT(i - 1 - line_start <= 998);
      line_start = i + 1;
    }
  }

  const auto parsed = notify::test::parse_mail(out);
  NOTIFY_ASSERT(parsed.headers.size() == 8);
  for (std::string_view name : {"date", "from", "to", "subject", "message-id", "auto-submitted", "mime-version",
                                "content-type"})
    NOTIFY_ASSERT(parsed.count(name) == 1);

  const std::string subject = parsed.header("subject");
  for (std::size_t i = subject.find("=?"); i != std::string::npos; i = subject.find("=?", i)) {
    const std::size_t end = subject.find("?=", subject.find('?', subject.find('?', i + 2) + 1) + 1);
    NOTIFY_ASSERT(end != std::string::npos && end + 2 - i <= notify::email::max_encoded_word);
    i = end + 2;  // padding "==" before "?=" is not the start of the next word
  }
  const std::string decoded = notify::test::decode_words(subject);
  NOTIFY_ASSERT(trim_front(decoded) == trim_front(notify::email::sanitize_header_text(message.title)));

  const auto parts = notify::test::parse_parts(parsed.body, notify::test::boundary_of(parsed.header("content-type")));
  NOTIFY_ASSERT(parts.size() == 2);
  NOTIFY_ASSERT(notify::test::decode_base64(parts[0].body) == notify::email::text_part(message.title, message.body));
  NOTIFY_ASSERT(notify::test::decode_base64(parts[1].body) == notify::email::html_part(message.title, message.body));
  const std::string escaped = notify::email::escape_html(message.body);
  NOTIFY_ASSERT(escaped.find_first_of("<>\"'") == std::string::npos);
  return 0;
}
