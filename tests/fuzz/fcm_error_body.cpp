// SPDX-License-Identifier: MIT
// Fuzz target: FCM answers (adapters/fcm/src/errors.cpp): error bodies, Retry-After and
// the classification of a whole reply. The first two bytes pick the HTTP status; a line
// break after them ends a Retry-After value; the rest is the body.
// Properties checked on every input:
// - parse_error_body never fails and is deterministic; its message is valid UTF-8 of at
//   most 200 bytes;
// - an error body written by nlohmann from the parsed code and message reads back the same;
// - parse_retry_after gives nothing negative; classify gives a retry delay within the
//   cap, and a 2xx reply is `sent` with the message name as detail;
// - message_name (with its shortcut for FCM's usual body) reads what a plain walk of the
//   JSON with the core's reader reads.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "notify/detail/json_reader.hpp"
#include "notify/fcm/errors.hpp"
#include "notify/result.hpp"
#include "notify/text.hpp"

namespace {

/// The reference: the first top-level "name" read as a string, nothing else.
std::string name_by_reader(std::string_view body) {
  using notify::detail::JsonKind;
  notify::detail::JsonReader r(body, 64);
  std::string ks, scratch;
  std::string_view key;
  if (r.peek() != JsonKind::object) return {};
  r.enter();
  while (r.next_key(key, ks)) {
    if (key != "name") {
      r.skip_value();
      continue;
    }
    std::string_view v;
    if (r.peek() == JsonKind::string && r.read_string(v, scratch) == notify::detail::StringStatus::ok) return std::string(v);
    return {};
  }
  return {};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const int status = 100 + (data[0] << 8 | data[1]) % 500;
  std::string_view rest(reinterpret_cast<const char*>(data) + 2, size - 2);
  std::string_view retry_after;
  if (const auto nl = rest.find('\n'); nl != std::string_view::npos && nl < 40) {
    retry_after = rest.substr(0, nl);
    rest.remove_prefix(nl + 1);
  }
  const std::string_view body = rest;

  const notify::fcm::ErrorBody e = notify::fcm::parse_error_body(body);
  const notify::fcm::ErrorBody again = notify::fcm::parse_error_body(body);
  NOTIFY_ASSERT(e.code == again.code && e.message == again.message && e.about_token == again.about_token &&
                e.project_quota == again.project_quota);
  NOTIFY_ASSERT(e.message.size() <= 200);
  NOTIFY_ASSERT(notify::is_valid_utf8(e.message));
  NOTIFY_ASSERT(notify::is_valid_utf8(e.code));

  // Round trip: the plain shape {"error":{"status","message"}} reads back as written.
  if (!e.code.empty()) {
    const nlohmann::json plain = {{"error", {{"code", status}, {"message", e.message}, {"status", e.code}}}};
    const notify::fcm::ErrorBody back = notify::fcm::parse_error_body(plain.dump());
    NOTIFY_ASSERT(back.code == e.code);
    NOTIFY_ASSERT(back.message == e.message);
  }

  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
  if (const auto delay = notify::fcm::parse_retry_after(retry_after, now)) NOTIFY_ASSERT(delay->count() >= 0);

  notify::fcm::Reply reply;
  reply.status = status;
  reply.body = body;
  reply.retry_after = retry_after;
  const notify::PushResult r = notify::fcm::classify(reply, now);
  NOTIFY_ASSERT(r.retry_after.count() >= 0);
  NOTIFY_ASSERT(r.retry_after <= std::chrono::milliseconds(notify::fcm::max_retry_after));
  if (status >= 200 && status < 300) {
    NOTIFY_ASSERT(r.status == notify::PushStatus::sent);
    NOTIFY_ASSERT(r.detail == notify::fcm::message_name(body));
  } else {
    NOTIFY_ASSERT(r.status != notify::PushStatus::sent);
  }
  NOTIFY_ASSERT(notify::fcm::message_name(body) == name_by_reader(body));
  (void)notify::fcm::needs_new_token(reply);
  (void)notify::fcm::token_error(reply);
  return 0;
}
