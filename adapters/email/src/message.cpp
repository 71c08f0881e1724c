// SPDX-License-Identifier: MIT
#include "notify/email/message.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "notify/digest.hpp"
#include "notify/plan.hpp"

namespace notify::email {

namespace {

constexpr std::string_view crlf = "\r\n";

bool is_control(unsigned char c) { return c < 0x20 || c == 0x7F; }

// RFC 5322 atext (letters, digits and these), for display names kept as plain atoms.
bool is_atext(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-/=?^_`{|}~").find(static_cast<char>(c)) != std::string_view::npos;
}

bool printable_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return c >= 0x20 && c < 0x7F;
  });
}

// The byte length of the UTF-8 character starting at s[i]; an invalid lead byte or a
// truncated sequence counts as one byte, so every byte belongs to exactly one "character".
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  std::size_t n = 1;
  if (c >= 0xF0 && c <= 0xF7) n = 4;
  else if (c >= 0xE0) n = c <= 0xEF ? 3 : 1;
  else if (c >= 0xC2) n = 2;
  if (i + n > s.size()) return 1;
  for (std::size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 1;
  return n;
}

// Encoded-words "=?UTF-8?B?...?=" of `text`, the first at most `first_limit` characters,
// the others at most 75, folded with CRLF SP.
std::string encoded_words(std::string_view text, std::size_t first_limit) {
  constexpr std::string_view open = "=?UTF-8?B?";
  constexpr std::string_view close = "?=";
  constexpr std::size_t overhead = open.size() + close.size();
  auto payload_bytes = [&](std::size_t limit) { return (limit - overhead) / 4 * 3; };
  std::string out;
  std::size_t limit = first_limit;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t budget = payload_bytes(limit);
    std::size_t end = i;
    while (end < text.size()) {
      const std::size_t n = utf8_length(text, end);
      if (end + n - i > budget) break;
      end += n;
    }
    if (end == i) end = i + utf8_length(text, i);  // budget is always >= 4 bytes; never reached
    if (!out.empty()) out += "\r\n ";
    out += open;
    out += base64(text.substr(i, end - i));
    out += close;
    i = end;
    limit = max_encoded_word;
  }
  return out;
}

// Plain ASCII words folded before a space so lines stay within 78 characters where a
// space allows it.
std::string fold_plain(std::string_view text, std::size_t used) {
  std::string out;
  std::size_t line = used;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t next = text.find(' ', i + 1);
    if (next == std::string_view::npos) next = text.size();
    const std::string_view piece = text.substr(i, next - i);  // a word with its leading space
    if (line + piece.size() > 78 && i > 0 && piece.front() == ' ') {
      out += crlf;
      line = 0;
    }
    out += piece;
    line += piece.size();
    i = next;
  }
  return out;
}

std::string normalize_newlines(std::string_view text, std::string_view newline) {
  std::string out;
  out.reserve(text.size() + text.size() / 16);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r') {
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
      out += newline;
    } else if (text[i] == '\n') {
      out += newline;
    } else {
      out += text[i];
    }
  }
  return out;
}

}  // namespace

Result<void> validate_address(std::string_view address) {
  auto bad = [](std::string message) { return Error{Errc::invalid_value, std::move(message), {}}; };
  if (address.empty()) return bad("invalid e-mail address: empty");
  if (address.size() > max_address_bytes) return bad("invalid e-mail address: longer than 254 bytes");
  for (char ch : address) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x80) return bad("invalid e-mail address: not ASCII (SMTPUTF8 is not supported)");
    if (is_control(c)) return bad("invalid e-mail address: control character (CR, LF, ...)");
    if (std::string_view(" <>(),;:\"\\[]").find(ch) != std::string_view::npos)
      return bad("invalid e-mail address: space or one of <>(),;:\"\\[]");
  }
  const std::size_t at = address.find('@');
  if (at == std::string_view::npos) return bad("invalid e-mail address: no '@'");
  if (address.find('@', at + 1) != std::string_view::npos) return bad("invalid e-mail address: more than one '@'");
  const std::string_view local = address.substr(0, at);
  const std::string_view domain = address.substr(at + 1);
  if (local.empty()) return bad("invalid e-mail address: empty local part");
  if (local.size() > 64) return bad("invalid e-mail address: local part longer than 64 bytes");
  if (domain.empty()) return bad("invalid e-mail address: empty domain");
  if (domain.front() == '.' || domain.back() == '.' || domain.find("..") != std::string_view::npos)
    return bad("invalid e-mail address: empty domain label");
  return {};
}

std::string shorten_address(std::string_view address) {
  const std::size_t at = address.rfind('@');
  const std::string_view local = at == std::string_view::npos ? address : address.substr(0, at);
  std::string out;
  for (std::size_t i = 0, chars = 0; i < local.size() && chars < 2; ++chars) {
    const std::size_t n = utf8_length(local, i);
    for (std::size_t k = 0; k < n; ++k) {
      const auto c = static_cast<unsigned char>(local[i + k]);
      out += is_control(c) ? '?' : local[i + k];
    }
    i += n;
  }
  out += "\u2026";
  if (at != std::string_view::npos) out += sanitize_header_text(address.substr(at));
  return out;
}

std::string_view address_domain(std::string_view address) {
  const std::size_t at = address.rfind('@');
  return at == std::string_view::npos ? std::string_view() : address.substr(at + 1);
}

std::string sanitize_header_text(std::string_view text) {
  std::string out(text);
  for (char& ch : out)
    if (is_control(static_cast<unsigned char>(ch))) ch = ' ';
  return out;
}

std::string encode_header_text(std::string_view text, std::size_t used) {
  const std::string clean = sanitize_header_text(text);
  if (printable_ascii(clean) && clean.find("=?") == std::string::npos && clean.size() <= 900)
    return fold_plain(clean, used);
  const std::size_t room = used < 76 ? 76 - used : 0;
  return encoded_words(clean, std::clamp<std::size_t>(room, 20, max_encoded_word));
}

std::string encode_display_name(std::string_view name, std::size_t used) {
  const std::string clean = sanitize_header_text(name);
  if (printable_ascii(clean) && clean.find("=?") == std::string::npos && clean.size() <= 200) {
    const bool atoms = std::all_of(clean.begin(), clean.end(),
                                   [](char ch) { return ch == ' ' || is_atext(static_cast<unsigned char>(ch)); });
    if (atoms && !clean.empty() && clean.front() != ' ' && clean.back() != ' ' &&
        clean.find("  ") == std::string::npos)
      return clean;
    std::string quoted = "\"";
    for (char ch : clean) {
      if (ch == '"' || ch == '\\') quoted += '\\';
      quoted += ch;
    }
    quoted += '"';
    return quoted;
  }
  const std::size_t room = used < 76 ? 76 - used : 0;
  return encoded_words(clean, std::clamp<std::size_t>(room, 20, max_encoded_word));
}

std::string escape_html(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (char ch : text) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += ch;
    }
  }
  return out;
}

std::string base64(std::string_view data, std::size_t line) {
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4 + (line ? (data.size() / (line / 4 * 3) + 1) * 2 : 0));
  std::size_t column = 0;
  auto put = [&](char c) {
    if (line && column == line) {
      out += crlf;
      column = 0;
    }
    out += c;
    ++column;
  };
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    const std::uint32_t v = static_cast<std::uint32_t>(static_cast<unsigned char>(data[i])) << 16 |
                            static_cast<std::uint32_t>(static_cast<unsigned char>(data[i + 1])) << 8 |
                            static_cast<unsigned char>(data[i + 2]);
    put(alphabet[v >> 18 & 63]);
    put(alphabet[v >> 12 & 63]);
    put(alphabet[v >> 6 & 63]);
    put(alphabet[v & 63]);
  }
  if (const std::size_t rest = data.size() - i; rest > 0) {
    std::uint32_t v = static_cast<std::uint32_t>(static_cast<unsigned char>(data[i])) << 16;
    if (rest == 2) v |= static_cast<std::uint32_t>(static_cast<unsigned char>(data[i + 1])) << 8;
    put(alphabet[v >> 18 & 63]);
    put(alphabet[v >> 12 & 63]);
    put(rest == 2 ? alphabet[v >> 6 & 63] : '=');
    put('=');
  }
  if (line && !out.empty()) out += crlf;
  return out;
}

std::string format_date(std::chrono::system_clock::time_point when) {
  using namespace std::chrono;
  static constexpr const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto seconds = floor<std::chrono::seconds>(when);
  const auto day = floor<std::chrono::days>(seconds);
  const year_month_day ymd{day};
  const weekday wd{day};
  const hh_mm_ss<std::chrono::seconds> time{seconds - day};
  auto two = [](long v) {
    std::string s = std::to_string(v);
    return s.size() < 2 ? "0" + s : s;
  };
  std::string out = days[wd.c_encoding()];
  out += ", ";
  out += two(static_cast<long>(static_cast<unsigned>(ymd.day())));
  out += ' ';
  out += months[static_cast<unsigned>(ymd.month()) - 1];
  out += ' ';
  out += std::to_string(static_cast<int>(ymd.year()));
  out += ' ';
  out += two(time.hours().count()) + ':' + two(time.minutes().count()) + ':' + two(time.seconds().count());
  out += " +0000";
  return out;
}

std::string message_id(std::string_view key, std::string_view domain) {
  std::string out = "<";
  append_hex64(out, Digest64().add("notify.email.message-id").add(key).value());
  out += '@';
  out += domain.empty() ? std::string_view("localhost") : domain;
  out += '>';
  return out;
}

std::string default_delivery_key(const Message& message, std::string_view to) {
  return hex64(Digest64().add(message.title).add(message.body).add(to).value());
}

std::string text_part(std::string_view title, std::string_view body) {
  std::string out = normalize_newlines(title, " ");
  out += crlf;
  out += crlf;
  out += normalize_newlines(body, crlf);
  return out;
}

std::string html_part(std::string_view title, std::string_view body) {
  const std::string heading = escape_html(normalize_newlines(title, " "));
  std::string out;
  out += "<!DOCTYPE html>\r\n";
  out += "<html lang=\"ko\">\r\n";
  out += "<head>\r\n<meta charset=\"UTF-8\">\r\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\r\n";
  out += "<title>" + heading + "</title>\r\n";
  out += "</head>\r\n";
  out += "<body style=\"font-family: sans-serif; line-height: 1.5;\">\r\n";
  out += "<h1>" + heading + "</h1>\r\n";
  // Paragraphs are separated by one or more blank lines; a single line break is a <br>.
  const std::string text = normalize_newlines(body, "\n");
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == '\n') ++i;
    if (i >= text.size()) break;
    std::size_t end = text.find("\n\n", i);
    if (end == std::string::npos) end = text.size();
    std::string_view paragraph = std::string_view(text).substr(i, end - i);
    out += "<p>";
    for (std::size_t line_start = 0;;) {
      const std::size_t nl = paragraph.find('\n', line_start);
      out += escape_html(paragraph.substr(line_start, nl == std::string_view::npos ? nl : nl - line_start));
      if (nl == std::string_view::npos) break;
      out += "<br>\r\n";
      line_start = nl + 1;
    }
    out += "</p>\r\n";
    i = end;
  }
  out += "</body>\r\n</html>\r\n";
  return out;
}

Result<Mail> build_mail(const Message& message, const Envelope& envelope) {
  if (auto ok = validate_address(envelope.to); !ok) {
    Error e = ok.error();
    e.message.insert(0, "recipient: ");
    return e;
  }
  if (auto ok = validate_address(envelope.from.address); !ok) {
    Error e = ok.error();
    e.message.insert(0, "sender: ");
    return e;
  }
  const std::string key =
      envelope.delivery_key.empty() ? default_delivery_key(message, envelope.to) : std::string(envelope.delivery_key);
  const std::string_view domain =
      envelope.message_id_domain.empty() ? address_domain(envelope.from.address) : envelope.message_id_domain;
  Mail mail;
  mail.message_id = message_id(key, sanitize_header_text(domain));
  std::string boundary = "=_notify_";
  append_hex64(boundary, Digest64().add("notify.email.boundary").add(key).value());

  std::string& out = mail.data;
  out.reserve(1024 + message.title.size() * 3 + message.body.size() * 4);
  out += "Date: " + format_date(envelope.date) + "\r\n";
  out += "From: ";
  if (!envelope.from.name.empty()) {
    out += encode_display_name(envelope.from.name, 6);
    out += ' ';
  }
  out += "<" + envelope.from.address + ">\r\n";
  out += "To: <";
  out += envelope.to;
  out += ">\r\n";
  const std::string subject = encode_header_text(message.title, 9);
  out += subject.empty() ? "Subject:\r\n" : "Subject: " + subject + "\r\n";
  out += "Message-ID: " + mail.message_id + "\r\n";
  out += "Auto-Submitted: auto-generated\r\n";
  out += "MIME-Version: 1.0\r\n";
  out += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n";
  out += "\r\n";
  out += "This is a multi-part message in MIME format.\r\n";
  auto part = [&](std::string_view type, const std::string& content) {
    out += "--" + boundary + "\r\n";  // the CRLF before it ends the line above
    out += "Content-Type: ";
    out += type;
    out += "; charset=UTF-8\r\n";
    out += "Content-Transfer-Encoding: base64\r\n\r\n";
    out += base64(content, 76);  // ends with CRLF (the content is never empty)
  };
  part("text/plain", text_part(message.title, message.body));
  part("text/html", html_part(message.title, message.body));
  out += "--" + boundary + "--\r\n";
  return mail;
}

}  // namespace notify::email
