// SPDX-License-Identifier: MIT
#pragma once

/// The text rules of Korean SMS: SENS takes the content as UTF-8 JSON, but carriers count
/// it in EUC-KR (KS X 1001: ASCII 1 byte, Hangul and symbols 2 bytes). An SMS holds 90
/// bytes, an LMS 2,000 bytes plus a subject of 40. Pure: no I/O (glibc iconv is only asked
/// whether a character has an EUC-KR form).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace notify {
struct Message;  // notify/plan.hpp
}  // namespace notify

namespace notify::sens {

inline constexpr std::size_t sms_max_bytes = 90;        ///< SMS content, EUC-KR bytes
inline constexpr std::size_t lms_max_bytes = 2000;      ///< LMS content, EUC-KR bytes
inline constexpr std::size_t lms_subject_max_bytes = 40;  ///< LMS subject, EUC-KR bytes

/// What stands in for a character EUC-KR cannot carry (emoji, the 8,822 Hangul syllables
/// outside KS X 1001's 2,350 such as 똠 or 햏, most CJK extensions): one visible ASCII byte,
/// so a message is never sent with a character the carrier would break.
inline constexpr char replacement = '?';
/// What ends a text cut to its limit: two ASCII dots (2 bytes; "…" is 2 bytes in EUC-KR
/// too, but some handsets render it badly).
inline constexpr std::string_view ellipsis = "..";

/// Bytes of one code point in EUC-KR: 1 for U+0000..U+007F, 2 for a KS X 1001 character,
/// 0 when EUC-KR has no single form for it. (Python's euc_kr codec writes a syllable
/// outside KS X 1001 as an 8-byte jamo composition sequence; handsets do not show those
/// reliably, so they count as not encodable here.)
std::size_t euckr_bytes(char32_t cp) noexcept;

/// A text made fit for SMS: every character has an EUC-KR form, and it fits its limit.
struct FitText {
  std::string utf8;          ///< what is sent (UTF-8)
  std::size_t bytes = 0;     ///< its length in EUC-KR
  std::size_t replaced = 0;  ///< characters replaced by `replacement` (invalid UTF-8 included)
  bool truncated = false;    ///< cut at a character boundary, `ellipsis` appended
};

/// The EUC-KR length of `utf8` once unencodable characters and invalid UTF-8 bytes are
/// replaced (each counts 1).
std::size_t euckr_length(std::string_view utf8) noexcept;

/// Replaces what EUC-KR cannot carry, then, when longer than `max_bytes`, cuts at a
/// character boundary so that the text plus `ellipsis` fits.
FitText euckr_fit(std::string_view utf8, std::size_t max_bytes);

enum class SmsType : std::uint8_t { sms, lms };

constexpr std::string_view to_string(SmsType t) noexcept { return t == SmsType::sms ? "SMS" : "LMS"; }

/// The SMS or LMS of a message.
struct SmsText {
  SmsType type = SmsType::sms;
  std::string subject;  ///< LMS only: the title (fit to 40 bytes); empty for SMS
  std::string content;
  bool truncated = false;
  std::size_t replaced = 0;
  /// An advertisement (the title starts with catalog::ad_title_prefix, "(광고)"): sent with
  /// contentType AD, as Korean law (정보통신망법 §50) and SENS ask of advertising SMS.
  bool advertising = false;
};

/// The text of a message as one line: "title\nbody", or the body alone when the title is
/// empty (or the title alone when the body is). AlimTalk templates are registered in this
/// shape (#{title}, a line break, #{body}).
std::string plain_text(const Message& message);

/// An SMS when plain_text() fits 90 EUC-KR bytes, otherwise an LMS with the title as its
/// subject and the body (cut to 2,000 bytes) as its content. An LMS whose title is empty
/// has no subject. An advertisement is marked as such (its text already carries the
/// "(광고)" title and the opt-out line the catalog renders).
SmsText sms_text(const Message& message);

}  // namespace notify::sens
