// SPDX-License-Identifier: MIT
#include "notify/fcm/message.hpp"

#include <array>

#include "notify/catalog.hpp"
#include "notify/detail/json_writer.hpp"
#include "notify/plan.hpp"
#include "notify/text.hpp"

namespace notify::fcm {
namespace {

using detail::write_string;

/// Where the user's preview sits in a rendered body: [begin, end), or begin == end if none.
struct Span {
  std::size_t begin = 0;
  std::size_t end = 0;
};

/// The templates that end in a quoted preview: the text between their two holes and after
/// the second one (` 님이 ... 작성했습니다! "` and `"`).
Span preview_span(std::string_view text) {
  static constexpr std::array templates{catalog::comment_message, catalog::comment_photo, catalog::photo_created};
  for (std::string_view tpl : templates) {
    const std::size_t first = tpl.find("{}");
    const std::size_t second = tpl.find("{}", first + 2);
    const std::string_view infix = tpl.substr(first + 2, second - first - 2);
    const std::string_view suffix = tpl.substr(second + 2);
    if (text.size() < infix.size() + suffix.size() || text.substr(text.size() - suffix.size()) != suffix) continue;
    const std::size_t at = text.find(infix);
    if (at == std::string_view::npos || at + infix.size() > text.size() - suffix.size()) continue;
    return {at + infix.size(), text.size() - suffix.size()};
  }
  return {};
}

constexpr std::string_view ellipsis = "...";

/// Everything of the message but the token and the notification body text.
void append_head(std::string& out, bool validate_only) {
  out += validate_only ? R"({"validate_only":true,"message":{"token":)" : R"({"message":{"token":)";
}

void append_tail(std::string& out, const Message& m, std::string_view body) {
  // Title and body twice, then under 400 bytes of keys, settings and the link: one allocation.
  out.reserve(out.size() + 2 * (m.title.size() + body.size()) + 400);
  out += R"(,"notification":{"title":)";
  write_string(out, m.title);
  out += R"(,"body":)";
  write_string(out, body);
  out += '}';
  if (m.link.has_screen() || m.link.has_param()) {
    out += R"(,"data":{)";
    if (m.link.has_screen()) {
      out += R"("screen":)";
      write_string(out, to_string(m.link.screen));
    }
    if (m.link.has_param()) {
      if (m.link.has_screen()) out += ',';
      out += R"("param":)";
      write_string(out, m.link.param_json());
    }
    out += '}';
  }
  out += R"(,"android":{"priority":"high","notification":{"title":)";
  write_string(out, m.title);
  out += R"(,"body":)";
  write_string(out, body);
  out += R"(,"icon":"default","sound":"default","channel_id":"500","notification_priority":"PRIORITY_HIGH"}})";
  out += R"(,"apns":{"payload":{"aps":{"sound":"default"}}}}})";
}

void build(std::string& out, const Message& m, std::string_view token, std::string_view body, bool validate_only) {
  out.clear();
  append_head(out, validate_only);
  write_string(out, token);
  append_tail(out, m, body);
}

/// The body text is written twice, so each byte cut from it shortens the request by two
/// or more; cut until it fits. A token too long for any body is sent as is: FCM decides.
void build_within(std::string& out, const Message& m, std::string_view token, const BodyOptions& o) {
  build(out, m, token, m.body, o.validate_only);
  std::size_t target = m.body.size();
  while (out.size() > o.max_bytes && target > 0) {
    const std::size_t cut = (out.size() - o.max_bytes + 1) / 2;
    target = target > cut ? target - cut : 0;
    build(out, m, token, shorten_text(m.body, target), o.validate_only);
  }
}

}  // namespace

std::string shorten_text(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  std::string out;
  const Span p = preview_span(text);
  const std::size_t fixed = text.size() - (p.end - p.begin);
  if (p.end > p.begin && fixed + ellipsis.size() <= max_bytes) {
    out.reserve(max_bytes);
    out.append(text.substr(0, p.begin));
    out.append(utf8_prefix(text.substr(p.begin, p.end - p.begin), max_bytes - fixed - ellipsis.size()));
    out.append(ellipsis);
    out.append(text.substr(p.end));
    return out;
  }
  if (max_bytes < ellipsis.size()) return std::string(utf8_prefix(text, max_bytes));
  out.append(utf8_prefix(text, max_bytes - ellipsis.size()));
  out.append(ellipsis);
  return out;
}

BodyTemplate::BodyTemplate(const Message& message, const BodyOptions& options)
    : message_(&message), options_(options) {
  append_head(head_, options.validate_only);
  append_tail(tail_, message, message.body);
}

void BodyTemplate::render(std::string& out, std::string_view token) const {
  out.clear();
  out.reserve(head_.size() + token.size() + tail_.size() + 16);  // one allocation (a token needs no escapes)
  out += head_;
  write_string(out, token);
  out += tail_;
  if (out.size() > options_.max_bytes) build_within(out, *message_, token, options_);
}

std::string request_body(const Message& message, std::string_view token, const BodyOptions& options) {
  std::string out;
  build_within(out, message, token, options);
  return out;
}

}  // namespace notify::fcm
