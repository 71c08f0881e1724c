// SPDX-License-Identifier: MIT
#pragma once

/// The RFC 5322 / MIME message of one e-mail: headers (RFC 2047 encoded where not plain
/// ASCII), a multipart/alternative body with a text/plain and a text/html part, both UTF-8
/// in base64. Pure: no I/O, no clock (the Date is passed in), deterministic.

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "notify/result.hpp"

namespace notify {
struct Message;  // notify/plan.hpp
}  // namespace notify

namespace notify::email {

/// The longest address accepted (RFC 5321's path limit less the angle brackets).
inline constexpr std::size_t max_address_bytes = 254;
/// RFC 2047: an encoded-word is at most 75 characters long.
inline constexpr std::size_t max_encoded_word = 75;

/// Checks an address minimally: one '@' with a non-empty local part (at most 64 bytes) and
/// domain (no empty label), at most 254 bytes, printable ASCII only (no SMTPUTF8), and none
/// of space, CR, LF, < > ( ) , ; : " \ [ ]. Errc::invalid_value with the reason otherwise;
/// the message never contains the address itself.
Result<void> validate_address(std::string_view address);

/// The address for logs: its first two characters, "…", then "@domain" ("ki…@example.com").
std::string shorten_address(std::string_view address);

/// The domain of an address (after the last '@'), empty without one.
std::string_view address_domain(std::string_view address);

/// Header text made safe: CR, LF, TAB and other control characters become spaces, so
/// nothing in it can start a new header line.
std::string sanitize_header_text(std::string_view text);

/// Unstructured header text (RFC 5322 2.2.1) as it goes after "Name: ". Printable ASCII
/// that fits the line is kept plain; anything else (non-ASCII, "=?", too long) becomes
/// RFC 2047 encoded-words "=?UTF-8?B?...?=" of at most 75 characters, never splitting a
/// UTF-8 character, folded with CRLF SP between them. `used` is how many characters of the
/// first line are already taken (e.g. 9 for "Subject: "), so its first word fits in 76.
/// Control characters are sanitised first.
std::string encode_header_text(std::string_view text, std::size_t used = 0);

/// A display name as an RFC 5322 phrase: plain atoms when it can be, a quoted-string for
/// ASCII with specials, RFC 2047 encoded-words when not ASCII.
std::string encode_display_name(std::string_view name, std::size_t used = 0);

/// Escapes & < > " ' for HTML text and attribute values.
std::string escape_html(std::string_view text);

/// Base64 (RFC 4648, with padding) of `data`; `line` > 0 wraps every `line` characters
/// with CRLF (MIME's 76), with a CRLF after the last line too.
std::string base64(std::string_view data, std::size_t line = 0);

/// The RFC 5322 date-time of `when` in UTC: "Fri, 04 Dec 2026 17:28:37 +0000".
std::string format_date(std::chrono::system_clock::time_point when);

/// "<16 hex digits@domain>": notify::Digest64 of `key`, so the same key always gives the
/// same Message-ID (a resend is recognisable) and different keys different ones.
std::string message_id(std::string_view key, std::string_view domain);

/// The key of a delivery without one passed in: the message's title and body and the
/// recipient's address.
std::string default_delivery_key(const Message& message, std::string_view to);

/// The text/plain part: title, blank line, body; line breaks as CRLF. Links are left out.
std::string text_part(std::string_view title, std::string_view body);

/// The text/html part: a small fixed page (lang="ko") with the title in <h1> and the body
/// as paragraphs (a blank line between paragraphs, "<br>" for a single line break), every
/// text escaped.
std::string html_part(std::string_view title, std::string_view body);

/// Who sends.
struct Sender {
  std::string address;  ///< the envelope sender and From address
  std::string name;     ///< optional display name (UTF-8)
};

/// What the message is built from.
struct Envelope {
  Sender from;
  std::string_view to;
  std::chrono::system_clock::time_point date;
  /// Decides the Message-ID: e.g. request id + address. Empty: default_delivery_key().
  std::string_view delivery_key;
  /// The Message-ID's right side. Empty: the From address's domain.
  std::string_view message_id_domain;
};

/// A built message.
struct Mail {
  std::string data;        ///< the whole message, headers and body, CRLF line ends
  std::string message_id;  ///< with its angle brackets
};

/// Builds the message of `message` to `envelope.to`. Errc::invalid_value when the
/// recipient or sender address is not valid (validate_address); nothing else fails.
Result<Mail> build_mail(const Message& message, const Envelope& envelope);

}  // namespace notify::email
