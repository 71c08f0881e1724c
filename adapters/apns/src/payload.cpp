// SPDX-License-Identifier: MIT
#include "notify/apns/payload.hpp"

#include "notify/catalog.hpp"
#include "notify/detail/json_writer.hpp"
#include "notify/fcm/message.hpp"  // shorten_text: the same shortening as FCM's
#include "notify/plan.hpp"

namespace notify::apns {
namespace {

using detail::write_string;

void build(std::string& out, const Message& m, std::string_view body) {
  out.clear();
  out += R"({"aps":{"alert":{"title":)";
  write_string(out, m.title);
  out += R"(,"body":)";
  write_string(out, body);
  out += R"(},"sound":"default"})";
  if (m.link.has_screen()) {
    out += R"(,"screen":)";
    write_string(out, to_string(m.link.screen));
  }
  if (m.link.has_param()) {
    out += R"(,"param":)";
    write_string(out, m.link.param_json());
  }
  out += '}';
}

/// The fixed text of a template before its first hole.
constexpr std::string_view before_hole(std::string_view tpl) { return tpl.substr(0, tpl.find("{}")); }

}  // namespace

std::string payload(const Message& message, std::size_t max_bytes) {
  std::string out;
  build(out, message, message.body);
  // The body is written once: each byte cut from it (escapes aside) shortens the payload
  // by one or more. Cut until it fits; a title alone too long is sent as is (APNs decides).
  std::size_t target = message.body.size();
  while (out.size() > max_bytes && target > 0) {
    const std::size_t cut = out.size() - max_bytes;
    target = target > cut ? target - cut : 0;
    build(out, message, fcm::shorten_text(message.body, target));
  }
  return out;
}

Delivery delivery_of(const Message& message) {
  const std::string_view body = message.body;
  if (body == catalog::story_arrived) return {5, "message-today"};
  if (message.title == catalog::title_birthday && body.starts_with(before_hole(catalog::birthday_soon)))
    return {5, "notify-birthday"};
  if (message.title == catalog::title_emotion_poke) return {10, "emotion-poke"};
  if (std::string_view(message.title).starts_with(catalog::ad_title_prefix)) return {5, {}};  // an ad is never urgent
  return {10, {}};
}

}  // namespace notify::apns
