// SPDX-License-Identifier: MIT
// Fuzz target: APNs answers (adapters/apns/src/errors.cpp): {"reason","timestamp"} bodies
// and the classification of a whole reply. The first two bytes pick the HTTP status; a
// line break after them ends a Retry-After value; the rest is the body.
// Properties checked on every input:
// - parse_error_body never fails and is deterministic; the reason is valid UTF-8 of at
//   most 64 bytes, the timestamp never negative;
// - a body written by nlohmann from the parsed reason and timestamp reads back the same;
// - classify gives a retry delay within the cap; 200 is `sent` with the apns-id as detail;
//   any other a detail naming APNs; a 410 is an invalid token carrying the body's
//   timestamp; only a 403 asks for a new token.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "notify/apns/errors.hpp"
#include "notify/fcm/errors.hpp"
#include "notify/result.hpp"
#include "notify/text.hpp"

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

  const notify::apns::ErrorBody e = notify::apns::parse_error_body(body);
  const notify::apns::ErrorBody again = notify::apns::parse_error_body(body);
  NOTIFY_ASSERT(e.reason == again.reason && e.timestamp_ms == again.timestamp_ms);
  NOTIFY_ASSERT(e.reason.size() <= 64);
  NOTIFY_ASSERT(notify::is_valid_utf8(e.reason));
  NOTIFY_ASSERT(e.timestamp_ms >= 0);

  if (!e.reason.empty()) {
    nlohmann::json plain = {{"reason", e.reason}};
    if (e.timestamp_ms > 0) plain["timestamp"] = e.timestamp_ms;
    const notify::apns::ErrorBody back = notify::apns::parse_error_body(plain.dump());
    NOTIFY_ASSERT(back.reason == e.reason);
    NOTIFY_ASSERT(back.timestamp_ms == e.timestamp_ms);
  }

  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
  notify::apns::Reply reply;
  reply.status = status;
  reply.body = body;
  reply.retry_after = retry_after;
  reply.apns_id = "00000000-0000-4000-8000-000000000000";
  const notify::PushResult r = notify::apns::classify(reply, now);
  NOTIFY_ASSERT(r.retry_after.count() >= 0);
  NOTIFY_ASSERT(r.retry_after <= std::chrono::milliseconds(notify::fcm::max_retry_after));
  if (status == 200) {
    NOTIFY_ASSERT(r.status == notify::PushStatus::sent);
    NOTIFY_ASSERT(r.detail == reply.apns_id);
  } else {
    NOTIFY_ASSERT(r.status != notify::PushStatus::sent);
    NOTIFY_ASSERT(r.detail.starts_with("apns: "));
  }
  if (status == 410) {
    NOTIFY_ASSERT(r.status == notify::PushStatus::invalid_token);
    NOTIFY_ASSERT(r.invalid_since_ms == e.timestamp_ms);
  } else {
    NOTIFY_ASSERT(r.invalid_since_ms == 0);
  }
  if (notify::apns::needs_new_token(reply)) NOTIFY_ASSERT(status == 403);
  return 0;
}
