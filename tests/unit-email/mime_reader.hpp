// SPDX-License-Identifier: MIT
#pragma once

/// The tests' own reading of an e-mail, written apart from the builder so the two check
/// each other: base64 decoding, RFC 2047 encoded-words, header unfolding, the parts of a
/// multipart body. Small and strict: anything unexpected throws.

#include <cstddef>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace notify::test {

/// Decodes base64, skipping CR and LF; throws on any other character outside the alphabet.
inline std::string decode_base64(std::string_view in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  unsigned bits = 0;
  int count = 0;
  for (char c : in) {
    if (c == '\r' || c == '\n') continue;
    if (c == '=') break;
    const int v = value(c);
    if (v < 0) throw std::runtime_error("not base64: " + std::string(1, c));
    bits = (bits << 6) | static_cast<unsigned>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out += static_cast<char>((bits >> count) & 0xFF);
    }
  }
  return out;
}

/// Removes the CRLFs of folding (RFC 5322 2.2.3).
inline std::string unfold(std::string_view value) {
  std::string out;
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '\r' && i + 1 < value.size() && value[i + 1] == '\n') {
      ++i;
      continue;
    }
    out += value[i];
  }
  return out;
}

/// The encoded-words of an unfolded header value: "=?UTF-8?B?...?=" decoded, the white
/// space between two adjacent encoded-words dropped (RFC 2047 6.2), other text kept.
inline std::string decode_words(std::string_view value) {
  std::string out;
  std::string pending_space;
  bool last_was_word = false;
  std::size_t i = 0;
  while (i < value.size()) {
    if (value.substr(i, 2) == "=?") {
      const std::size_t q1 = value.find('?', i + 2);
      const std::size_t q2 = q1 == std::string_view::npos ? q1 : value.find('?', q1 + 1);
      const std::size_t end = q2 == std::string_view::npos ? q2 : value.find("?=", q2 + 1);
      if (end == std::string_view::npos) throw std::runtime_error("unterminated encoded-word");
      const std::string_view charset = value.substr(i + 2, q1 - i - 2);
      const std::string_view encoding = value.substr(q1 + 1, q2 - q1 - 1);
      if (charset != "UTF-8" && charset != "utf-8") throw std::runtime_error("charset " + std::string(charset));
      if (encoding != "B" && encoding != "b") throw std::runtime_error("encoding " + std::string(encoding));
      if (!last_was_word) out += pending_space;
      pending_space.clear();
      out += decode_base64(value.substr(q2 + 1, end - q2 - 1));
      last_was_word = true;
      i = end + 2;
    } else if (value[i] == ' ' || value[i] == '\t') {
      pending_space += value[i++];
    } else {
      out += pending_space;
      pending_space.clear();
      out += value[i++];
      last_was_word = false;
    }
  }
  return out + pending_space;
}

/// A message split into its header fields (names lower-cased, values unfolded, in order)
/// and its body.
struct ParsedMail {
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  /// The value of the only field with this lower-case name; throws if absent or repeated.
  std::string header(std::string_view name) const {
    const std::string* found = nullptr;
    for (const auto& [n, v] : headers) {
      if (n != name) continue;
      if (found) throw std::runtime_error("repeated header " + std::string(name));
      found = &v;
    }
    if (!found) throw std::runtime_error("no header " + std::string(name));
    return *found;
  }
  std::size_t count(std::string_view name) const {
    std::size_t n = 0;
    for (const auto& h : headers) n += h.first == name;
    return n;
  }
};

/// Splits a message (CRLF line ends) at its first empty line and reads the header fields.
inline ParsedMail parse_mail(std::string_view data) {
  const std::size_t split = data.find("\r\n\r\n");
  if (split == std::string_view::npos) throw std::runtime_error("no end of the header");
  ParsedMail mail;
  mail.body = std::string(data.substr(split + 4));
  const std::string_view head = data.substr(0, split + 2);
  std::size_t i = 0;
  while (i < head.size()) {
    std::size_t end = head.find("\r\n", i);
    // A field continues on lines starting with white space.
    while (end + 2 < head.size() && (head[end + 2] == ' ' || head[end + 2] == '\t')) end = head.find("\r\n", end + 2);
    const std::string_view field = head.substr(i, end - i);
    const std::size_t colon = field.find(':');
    if (colon == std::string_view::npos) throw std::runtime_error("a header line without ':'");
    std::string name(field.substr(0, colon));
    for (char& c : name) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    std::string value = unfold(field.substr(colon + 1));
    while (!value.empty() && value.front() == ' ') value.erase(value.begin());
    mail.headers.emplace_back(std::move(name), std::move(value));
    i = end + 2;
  }
  return mail;
}

/// The boundary parameter of a Content-Type value (quoted or not).
inline std::string boundary_of(std::string_view content_type) {
  const std::size_t at = content_type.find("boundary=");
  if (at == std::string_view::npos) throw std::runtime_error("no boundary");
  std::string_view rest = content_type.substr(at + 9);
  if (!rest.empty() && rest.front() == '"') return std::string(rest.substr(1, rest.find('"', 1) - 1));
  return std::string(rest.substr(0, rest.find(';')));
}

/// The body parts of a multipart body: what lies between "--boundary" lines, up to
/// "--boundary--" (the CRLF before each delimiter belongs to the delimiter).
inline std::vector<ParsedMail> parse_parts(std::string_view body, std::string_view boundary) {
  const std::string delimiter = "--" + std::string(boundary);
  std::vector<ParsedMail> parts;
  std::size_t at = body.find(delimiter);
  if (at == std::string_view::npos || (at > 0 && body.substr(at - 2, 2) != "\r\n"))
    throw std::runtime_error("no first delimiter");
  for (;;) {
    const std::size_t line_end = body.find("\r\n", at);
    const std::string_view line = body.substr(at, line_end - at);
    if (line == delimiter + "--") break;
    if (line != delimiter) throw std::runtime_error("a delimiter line with more on it");
    const std::size_t next = body.find("\r\n" + delimiter, line_end);
    if (next == std::string_view::npos) throw std::runtime_error("no closing delimiter");
    parts.push_back(parse_mail(body.substr(line_end + 2, next - line_end - 2)));
    at = next + 2;
  }
  return parts;
}

}  // namespace notify::test
