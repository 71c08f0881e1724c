// SPDX-License-Identifier: MIT
#include "notify/sens/text.hpp"

#include <iconv.h>

#include <cerrno>

#include "notify/catalog.hpp"
#include "notify/plan.hpp"
#include "notify/text.hpp"

namespace notify::sens {
namespace {

/// One EUC-KR converter per thread (an iconv_t is not thread-safe), opened on first use.
class EucKr {
 public:
  EucKr() noexcept : cd_(iconv_open("EUC-KR", "UTF-8")) {}
  ~EucKr() {
    if (ok()) iconv_close(cd_);
  }
  EucKr(const EucKr&) = delete;
  EucKr& operator=(const EucKr&) = delete;

  bool ok() const noexcept { return cd_ != reinterpret_cast<iconv_t>(-1); }

  /// Bytes of the EUC-KR form of one code point given as UTF-8, 0 when there is none.
  std::size_t bytes(std::string_view utf8_char) noexcept {
    if (!ok()) return 0;
    char in[4];
    char out[16];
    std::size_t n = 0;
    for (char c : utf8_char) in[n++] = c;
    char* pin = in;
    char* pout = out;
    std::size_t in_left = n, out_left = sizeof out;
    iconv(cd_, nullptr, nullptr, nullptr, nullptr);  // initial state
    const std::size_t r = iconv(cd_, &pin, &in_left, &pout, &out_left);
    if (r == static_cast<std::size_t>(-1) || in_left != 0) return 0;
    // glibc replaces nothing without //TRANSLIT, but r counts irreversible conversions.
    if (r != 0) return 0;
    return sizeof out - out_left;
  }

 private:
  iconv_t cd_;
};

EucKr& converter() {
  thread_local EucKr cd;
  return cd;
}

/// Walks `utf8` giving each character's UTF-8 bytes and EUC-KR length (0: not encodable;
/// invalid UTF-8 comes one byte at a time with length 0).
template <class F>
void each_char(std::string_view utf8, F&& f) {
  for (std::size_t i = 0; i < utf8.size();) {
    char32_t cp = 0;
    std::size_t n = detail::decode_utf8(utf8, i, cp);
    std::size_t b = 0;
    if (n == 0) {
      n = 1;
    } else {
      b = cp < 0x80 ? 1 : euckr_bytes(cp);
    }
    f(utf8.substr(i, n), b);
    i += n;
  }
}

}  // namespace

std::size_t euckr_bytes(char32_t cp) noexcept {
  if (cp < 0x80) return 1;
  if (cp > 0xFFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;  // KS X 1001 is inside the BMP
  std::string s;
  detail::append_utf8(s, cp);
  const std::size_t b = converter().bytes(s);
  return b == 2 ? 2 : 0;
}

std::size_t euckr_length(std::string_view utf8) noexcept {
  std::size_t total = 0;
  each_char(utf8, [&](std::string_view, std::size_t b) { total += b == 0 ? 1 : b; });
  return total;
}

FitText euckr_fit(std::string_view utf8, std::size_t max_bytes) {
  FitText out;
  out.utf8.reserve(utf8.size());
  // First pass: replace, remembering where the text can be cut so that ".." still fits.
  const std::size_t keep = max_bytes >= ellipsis.size() ? max_bytes - ellipsis.size() : 0;
  std::size_t cut_utf8 = 0, cut_bytes = 0;
  each_char(utf8, [&](std::string_view ch, std::size_t b) {
    if (b == 0) {
      out.utf8 += replacement;
      ++out.replaced;
      b = 1;
    } else {
      out.utf8 += ch;
    }
    out.bytes += b;
    if (out.bytes <= keep) {
      cut_utf8 = out.utf8.size();
      cut_bytes = out.bytes;
    }
  });
  if (out.bytes > max_bytes) {
    out.utf8.resize(cut_utf8);
    out.bytes = cut_bytes;
    if (max_bytes >= ellipsis.size()) {
      out.utf8 += ellipsis;
      out.bytes += ellipsis.size();
    }
    out.truncated = true;
  }
  return out;
}

std::string plain_text(const Message& message) {
  if (message.title.empty()) return message.body;
  if (message.body.empty()) return message.title;
  return message.title + "\n" + message.body;
}

SmsText sms_text(const Message& message) {
  SmsText out;
  out.advertising = message.title.starts_with(catalog::ad_title_prefix.substr(0, catalog::ad_title_prefix.find(' ')));
  const std::string text = plain_text(message);
  if (euckr_length(text) <= sms_max_bytes) {
    FitText fit = euckr_fit(text, sms_max_bytes);
    out.content = std::move(fit.utf8);
    out.replaced = fit.replaced;
    return out;
  }
  out.type = SmsType::lms;
  FitText subject = euckr_fit(message.title, lms_subject_max_bytes);
  FitText content = euckr_fit(message.body.empty() ? message.title : message.body, lms_max_bytes);
  out.subject = std::move(subject.utf8);
  out.content = std::move(content.utf8);
  out.truncated = subject.truncated || content.truncated;
  out.replaced = subject.replaced + content.replaced;
  return out;
}

}  // namespace notify::sens
