// SPDX-License-Identifier: MIT
#include "notify/fcm/errors.hpp"

#include <array>
#include <charconv>
#include <cstdint>
#include <optional>

#include "notify/detail/json_reader.hpp"
#include "notify/text.hpp"

namespace notify::fcm {
namespace {

using detail::JsonKind;
using detail::JsonReader;
using detail::StringStatus;

constexpr std::size_t max_message = 200;
constexpr std::size_t max_depth = 8;

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

/// Reads a string value into `out` if the next value is a string, else skips it.
void read_text(JsonReader& r, std::string& out, std::string& scratch) {
  if (r.peek() != JsonKind::string) {
    r.skip_value();
    return;
  }
  std::string_view v;
  if (r.read_string(v, scratch) == StringStatus::ok) out.assign(utf8_prefix(v, max_message));
}

/// True when some element of an array of objects has a string `field` that `wanted` accepts.
template <class Wanted>
bool any_element_field(JsonReader& r, std::string_view field, Wanted wanted) {
  if (r.peek() != JsonKind::array) {
    r.skip_value();
    return false;
  }
  bool found = false;
  std::string ks, scratch, value;
  std::string_view key;
  r.enter();
  while (r.next_element()) {
    if (r.peek() != JsonKind::object) {
      r.skip_value();
      continue;
    }
    r.enter();
    while (r.next_key(key, ks)) {
      if (key == field) {
        value.clear();
        read_text(r, value, scratch);
        found |= wanted(std::string_view(value));
      } else {
        r.skip_value();
      }
    }
  }
  return found;
}

/// True when some fieldViolations[].field is "message.token".
bool names_token(JsonReader& r) {
  return any_element_field(r, "field", [](std::string_view f) { return f == "message.token"; });
}

/// Google names a quota's consumer "project:<id>", "project_number:<n>" or "projects/<id>".
bool names_project(std::string_view subject) { return subject.substr(0, 7) == "project"; }

/// True when some violations[].subject (google.rpc.QuotaFailure) names a project.
bool violation_names_project(JsonReader& r) { return any_element_field(r, "subject", names_project); }

/// True when metadata.consumer (google.rpc.ErrorInfo) names a project.
bool consumer_names_project(JsonReader& r) {
  if (r.peek() != JsonKind::object) {
    r.skip_value();
    return false;
  }
  bool found = false;
  std::string ks, scratch, consumer;
  std::string_view key;
  r.enter();
  while (r.next_key(key, ks)) {
    if (key == "consumer") {
      consumer.clear();
      read_text(r, consumer, scratch);
      found |= names_project(consumer);
    } else {
      r.skip_value();
    }
  }
  return found;
}

void read_details(JsonReader& r, ErrorBody& out, std::string& fcm_code) {
  std::string ks, scratch, type, code, reason;
  std::string_view key;
  r.enter();
  while (r.next_element()) {
    if (r.peek() != JsonKind::object) {
      r.skip_value();
      continue;
    }
    type.clear();
    code.clear();
    reason.clear();
    bool project = false;  // "@type" may come after the fields it qualifies
    r.enter();
    while (r.next_key(key, ks)) {
      if (key == "@type") read_text(r, type, scratch);
      else if (key == "errorCode") read_text(r, code, scratch);
      else if (key == "reason") read_text(r, reason, scratch);
      else if (key == "fieldViolations") out.about_token |= names_token(r);
      else if (key == "violations") project |= violation_names_project(r);
      else if (key == "metadata") project |= consumer_names_project(r);
      else r.skip_value();
    }
    if (ends_with(type, ".FcmError") && !code.empty()) fcm_code = code;
    // Only a quota's own details count: an ErrorInfo names the consumer on other errors too.
    if (project && (ends_with(type, "google.rpc.QuotaFailure") ||
                    (ends_with(type, "google.rpc.ErrorInfo") && reason == "RATE_LIMIT_EXCEEDED")))
      out.project_quota = true;
  }
}

std::string describe(const Reply& reply, const ErrorBody& e) {
  std::string out = "fcm: HTTP " + std::to_string(reply.status);
  if (!e.code.empty()) out += " " + e.code;
  if (!e.message.empty()) out += ": " + e.message;
  return out;
}

std::string describe(const Reply& reply) {
  static constexpr std::array names{"ok", "timeout", "connection failed", "connection broken", "TLS", "setup"};
  std::string out = "fcm: ";
  out += names[static_cast<std::size_t>(reply.transport)];
  if (!reply.error.empty()) {
    out += ": ";
    out += utf8_prefix(reply.error, max_message);
  }
  return out;
}

std::chrono::milliseconds retry_delay(const Reply& reply, std::chrono::system_clock::time_point now,
                                      std::chrono::seconds fallback) {
  const auto after = parse_retry_after(reply.retry_after, now);
  return after ? std::min(*after, max_retry_after) : fallback;
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool read_uint(std::string_view s, unsigned& out) {
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc{} && r.ptr == s.data() + s.size();
}

/// IMF-fixdate, the form HTTP/1.1 requires senders to use: "Sun, 06 Nov 1994 08:49:37 GMT".
std::optional<std::int64_t> parse_http_date(std::string_view s) {
  static constexpr std::array<std::string_view, 12> months{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (s.size() != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
      s[19] != ':' || s[22] != ':' || s.substr(25) != " GMT")
    return std::nullopt;
  unsigned day = 0, year = 0, hour = 0, minute = 0, second = 0, month = 0;
  while (month < 12 && months[month] != s.substr(8, 3)) ++month;
  if (month == 12 || !read_uint(s.substr(5, 2), day) || !read_uint(s.substr(12, 4), year) ||
      !read_uint(s.substr(17, 2), hour) || !read_uint(s.substr(20, 2), minute) || !read_uint(s.substr(23, 2), second))
    return std::nullopt;
  if (day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  return days_from_civil(year, month + 1, day) * 86400 + hour * 3600 + minute * 60 + second;
}

/// FCM's answer to every push sent, `{"name": "projects/p/messages/0:1500415314455276%31bd..."}`,
/// read without the JSON reader when it is exactly that shape with a plain ASCII name;
/// nullopt sends anything else to the reader.
std::optional<std::string_view> plain_message_name(std::string_view body) {
  auto skip_space = [&] {
    while (!body.empty() && (body[0] == ' ' || body[0] == '\n' || body[0] == '\r' || body[0] == '\t'))
      body.remove_prefix(1);
  };
  auto take = [&](std::string_view token) {
    skip_space();
    if (!body.starts_with(token)) return false;
    body.remove_prefix(token.size());
    return true;
  };
  if (!take("{") || !take("\"name\"") || !take(":") || !take("\"")) return std::nullopt;
  std::size_t end = 0;
  while (end < body.size() && body[end] != '"') {
    const auto c = static_cast<unsigned char>(body[end]);
    if (c < 0x20 || c > 0x7e || c == '\\') return std::nullopt;
    ++end;
  }
  const std::string_view name = body.substr(0, end);
  if (end == body.size()) return std::nullopt;
  body.remove_prefix(end + 1);
  if (!take("}") && !take(",")) return std::nullopt;
  return name;
}

/// An HTTP answer in the 2xx range: the push was sent.
bool succeeded(const Reply& reply) {
  return reply.transport == Transport::ok && reply.status >= 200 && reply.status < 300;
}

}  // namespace

ErrorBody parse_error_body(std::string_view body) {
  ErrorBody out;
  std::string fcm_code, status, ks;
  std::string_view key;
  JsonReader r(body, max_depth);
  if (r.peek() != JsonKind::object) return out;
  r.enter();
  while (r.next_key(key, ks)) {
    if (key != "error" || r.peek() != JsonKind::object) {
      r.skip_value();
      continue;
    }
    std::string scratch;
    r.enter();
    while (r.next_key(key, ks)) {
      if (key == "message") read_text(r, out.message, scratch);
      else if (key == "status") read_text(r, status, scratch);
      else if (key == "details" && r.peek() == JsonKind::array) read_details(r, out, fcm_code);
      else r.skip_value();
    }
  }
  out.code = !fcm_code.empty() ? fcm_code : status;
  if (out.message.find("registration token") != std::string::npos) out.about_token = true;
  return out;
}

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                      std::chrono::system_clock::time_point now) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (value.front() >= '0' && value.front() <= '9') {
    std::uint64_t s = 0;
    const auto r = std::from_chars(value.data(), value.data() + value.size(), s);
    if (r.ptr != value.data() + value.size()) return std::nullopt;
    if (r.ec == std::errc::result_out_of_range || s > static_cast<std::uint64_t>(max_retry_after.count()))
      return max_retry_after;
    if (r.ec != std::errc{}) return std::nullopt;
    return std::chrono::seconds(static_cast<std::int64_t>(s));
  }
  const auto at = parse_http_date(value);
  if (!at) return std::nullopt;
  const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  return std::chrono::seconds(*at > now_s ? *at - now_s : 0);
}

PushResult classify(const Reply& reply, std::chrono::system_clock::time_point now) {
  using enum PushStatus;
  constexpr bool outage = true;
  switch (reply.transport) {
    case Transport::ok: break;
    case Transport::timeout:
    case Transport::connect:
    case Transport::broken:  // FCM unreachable, or the way to it broke: every push is affected
      return {retry, {}, describe(reply), outage, RetryScope::provider};
    case Transport::tls:
    case Transport::setup: return {fatal, {}, describe(reply)};
  }
  if (succeeded(reply)) return {sent, {}, message_name(reply.body)};

  const ErrorBody e = parse_error_body(reply.body);
  const std::string why = describe(reply, e);
  const std::string_view code = e.code;
  if (code == "UNREGISTERED" || code == "SENDER_ID_MISMATCH") return {invalid_token, {}, why};
  if (code == "INVALID_ARGUMENT") return {e.about_token ? invalid_token : failed, {}, why};
  if (code == "QUOTA_EXCEEDED" || code == "RESOURCE_EXHAUSTED" || reply.status == 429) {
    // Throttling is a service condition, never the record's fault. FCM's QUOTA_EXCEEDED
    // is most often one device's message rate, so by default only that token waits; a
    // detail naming the project (QuotaFailure subject, ErrorInfo consumer) means the
    // project's sending quota ran out, and every push must wait.
    const RetryScope scope = e.project_quota ? RetryScope::provider : RetryScope::token;
    return {retry, retry_delay(reply, now, default_quota_delay), why, outage, scope};
  }
  if (code == "UNAVAILABLE" || code == "INTERNAL" || reply.status >= 500 || reply.status == 408)
    return {retry, retry_delay(reply, now, std::chrono::seconds(0)), why, outage, RetryScope::provider};
  if (code == "THIRD_PARTY_AUTH_ERROR" || code == "UNAUTHENTICATED" || code == "PERMISSION_DENIED" ||
      reply.status == 401 || reply.status == 403 || reply.status == 404)
    return {fatal, {}, why};
  if (reply.status >= 400) return {failed, {}, why};
  return {retry, {}, why + " (unexpected status)"};
}

PushResult classify(const Reply& reply) {
  if (succeeded(reply)) return {PushStatus::sent, {}, message_name(reply.body)};
  return classify(reply, std::chrono::system_clock::now());
}

bool needs_new_token(const Reply& reply) {
  return reply.transport == Transport::ok && reply.status == 401 &&
         parse_error_body(reply.body).code != "THIRD_PARTY_AUTH_ERROR";
}

std::string message_name(std::string_view body) {
  if (const auto plain = plain_message_name(body)) return std::string(*plain);
  JsonReader r(body, max_depth);
  std::string ks, scratch, name;
  std::string_view key;
  if (r.peek() != JsonKind::object) return name;
  r.enter();
  while (r.next_key(key, ks)) {
    if (key == "name") {
      if (r.peek() != JsonKind::string) break;
      std::string_view v;
      if (r.read_string(v, scratch) == StringStatus::ok) name.assign(v);
      break;
    }
    r.skip_value();
  }
  return name;
}

Error token_error(const Reply& reply) {
  switch (reply.transport) {
    case Transport::ok: break;
    case Transport::timeout: return {Errc::timeout, "access token: " + describe(reply), {}};
    case Transport::connect:
    case Transport::broken: return {Errc::unavailable, "access token: " + describe(reply), {}};
    case Transport::tls:
    case Transport::setup: return {Errc::configuration, "access token: " + describe(reply), {}};
  }
  // OAuth2 errors are {"error":"invalid_grant","error_description":"..."}.
  std::string error, description, ks, scratch;
  std::string_view key;
  JsonReader r(reply.body, max_depth);
  if (r.peek() == JsonKind::object) {
    r.enter();
    while (r.next_key(key, ks)) {
      if (key == "error") read_text(r, error, scratch);
      else if (key == "error_description") read_text(r, description, scratch);
      else r.skip_value();
    }
  }
  std::string why = "access token: HTTP " + std::to_string(reply.status);
  if (!error.empty()) why += " " + error;
  if (!description.empty()) why += ": " + description;
  if (reply.status == 400 || reply.status == 401 || reply.status == 403)
    return {Errc::unauthenticated, why + " (the service account was rejected)", {}};
  if (reply.status == 404) return {Errc::configuration, why + " (check token_uri)", {}};
  if (reply.status == 429) return {Errc::rate_limited, why, {}};
  return {Errc::unavailable, why, {}};
}

}  // namespace notify::fcm
