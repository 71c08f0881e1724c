// SPDX-License-Identifier: MIT
#include "notify/apns/errors.hpp"

#include <algorithm>
#include <charconv>

#include "notify/detail/json_reader.hpp"
#include "notify/fcm/errors.hpp"  // parse_retry_after, max_retry_after
#include "notify/text.hpp"

namespace notify::apns {
namespace {

using detail::JsonKind;
using detail::JsonReader;
using detail::StringStatus;

constexpr std::size_t max_reason = 64;
constexpr std::size_t max_error = 200;

std::string describe(const Reply& reply, const ErrorBody& e) {
  std::string out = "apns: ";
  if (reply.transport != Transport::ok) {
    out += "no answer";
  } else {
    out += std::to_string(reply.status);
    if (!e.reason.empty()) {
      out += ' ';
      out += e.reason;
    }
  }
  if (!reply.error.empty()) {
    out += ": ";
    out += utf8_prefix(reply.error, max_error);
  }
  return out;
}

std::chrono::milliseconds retry_delay(const Reply& reply, std::chrono::system_clock::time_point now,
                                      std::chrono::seconds fallback) {
  const auto after = fcm::parse_retry_after(reply.retry_after, now);
  return after ? std::min(*after, fcm::max_retry_after) : fallback;
}

bool is_provider_token_reason(std::string_view r) {
  return r == "ExpiredProviderToken" || r == "InvalidProviderToken" || r == "MissingProviderToken";
}

}  // namespace

ErrorBody parse_error_body(std::string_view body) {
  ErrorBody e;
  JsonReader r(body, 4);
  std::string ks, scratch;
  std::string_view key, value;
  if (r.peek() != JsonKind::object) return e;
  r.enter();
  while (r.next_key(key, ks)) {
    if (key == "reason" && r.peek() == JsonKind::string) {
      if (r.read_string(value, scratch) != StringStatus::ok) return {};
      e.reason = std::string(utf8_prefix(value, max_reason));
    } else if (key == "timestamp" && r.peek() == JsonKind::number) {
      detail::JsonNumber n;
      if (!r.read_number(n)) return {};
      std::int64_t v = 0;
      if (n.integral && std::from_chars(n.text.data(), n.text.data() + n.text.size(), v).ec == std::errc{} && v > 0)
        e.timestamp_ms = v;
    } else if (!r.skip_value()) {
      return {};
    }
  }
  if (r.failed()) return {};
  return e;
}

PushResult classify(const Reply& reply, std::chrono::system_clock::time_point now) {
  using enum PushStatus;
  constexpr bool outage = true;
  switch (reply.transport) {
    case Transport::ok: break;
    case Transport::timeout:
    case Transport::connect:
    case Transport::broken: return {retry, {}, describe(reply, {}), outage, RetryScope::provider};
    case Transport::tls:
    case Transport::setup: return {fatal, {}, describe(reply, {})};
  }
  if (reply.status == 200) return {sent, {}, std::string(reply.apns_id)};

  const ErrorBody e = parse_error_body(reply.body);
  const std::string why = describe(reply, e);
  const std::string_view reason = e.reason;
  if (reply.status == 410) {
    PushResult r{invalid_token, {}, why};
    r.invalid_since_ms = e.timestamp_ms;
    return r;
  }
  if (reply.status == 400 && (reason == "BadDeviceToken" || reason == "DeviceTokenNotForTopic"))
    return {invalid_token, {}, why};
  if (reply.status == 429) {
    // TooManyRequests: too many to one device; anything else (TooManyProviderTokenUpdates)
    // concerns the whole connection's token.
    const RetryScope scope = reason == "TooManyRequests" ? RetryScope::token : RetryScope::provider;
    return {retry, retry_delay(reply, now, default_throttle_delay), why, outage, scope};
  }
  if (reply.status >= 500) return {retry, retry_delay(reply, now, std::chrono::seconds(0)), why, outage, RetryScope::provider};
  if (reply.status == 403 || reply.status == 404 || reply.status == 405 ||
      (reply.status == 400 && (reason == "BadTopic" || reason == "MissingTopic" || reason == "TopicDisallowed" ||
                               reason == "BadCertificate" || reason == "BadCertificateEnvironment" ||
                               reason == "BadPath")))
    return {fatal, {}, why};
  if (reply.status >= 400) return {failed, {}, why};
  return {retry, {}, why + " (unexpected status)"};
}

bool needs_new_token(const Reply& reply) {
  return reply.transport == Transport::ok && reply.status == 403 &&
         is_provider_token_reason(parse_error_body(reply.body).reason);
}

}  // namespace notify::apns
