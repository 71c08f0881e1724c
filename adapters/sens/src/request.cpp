// SPDX-License-Identifier: MIT
#include "notify/sens/request.hpp"

#include <string>

#include "notify/detail/json_reader.hpp"
#include "notify/detail/json_writer.hpp"
#include "notify/fcm/errors.hpp"  // parse_retry_after: one reading of Retry-After for every provider
#include "notify/plan.hpp"
#include "notify/text.hpp"
#include "notify/toolkit/hmac.hpp"

namespace notify::sens {

using detail::write_key;
using detail::write_string;

std::string sms_path(std::string_view service_id) {
  return "/sms/v2/services/" + std::string(service_id) + "/messages";
}

std::string alimtalk_path(std::string_view service_id) {
  return "/alimtalk/v2/services/" + std::string(service_id) + "/messages";
}

// The string to sign (signature v2). The SENS overview (api.ncloud-docs.com/docs/en/sens-overview,
// "Request headers") says x-ncp-apigw-signature-v2 is an HMAC-SHA256 signature made with
// the secret key paired with x-ncp-iam-access-key, over a timestamp in Unix ms that must be
// within 5 minutes of the gateway's clock, and sends readers to the common guide "Ncloud
// API" (api.ncloud-docs.com/docs/en/common-ncpapi, "Create signature") for how to make it.
// The message signed, with no trailing line feed:
//   method + " " + url + "\n" + timestamp + "\n" + accessKey
// where url is the request URI with its query string (not the host); the MAC is
// Base64-encoded. Checked on 2026-12-04 with the search tool: the guide's indexed pages
// show the header table but cut off before the sample code; the formula above is that
// sample's as copied, identically, by docs.3rdeyesys.com's NCP API call samples and Java
// makeSignature posts, and by the project's protocol fact sheet (PROTOCOLS.md §8).
std::string string_to_sign(std::string_view method, std::string_view uri, std::string_view timestamp_ms,
                           std::string_view access_key) {
  std::string s;
  s.reserve(method.size() + uri.size() + timestamp_ms.size() + access_key.size() + 3);
  s.append(method).append(" ").append(uri).append("\n").append(timestamp_ms).append("\n").append(access_key);
  return s;
}

std::string signature_v2(std::string_view method, std::string_view uri, std::string_view timestamp_ms,
                         std::string_view access_key, std::string_view secret_key) {
  return toolkit::base64(toolkit::hmac_sha256(secret_key, string_to_sign(method, uri, timestamp_ms, access_key)));
}

namespace {

bool all_digits(std::string_view s) noexcept {
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return !s.empty();
}

}  // namespace

Result<std::string> domestic_number(std::string_view e164) {
  if (e164.size() < 2 || e164[0] != '+' || !all_digits(e164.substr(1)) || e164.size() > 16)
    return Error{Errc::invalid_token, "not an E.164 phone number", {}};
  if (!e164.starts_with("+82"))  // unreachable on this channel: an invalid address for it, not a failure
    return Error{Errc::invalid_token, "SENS sends to Korean (+82) numbers only; country code of this number: +" +
                                          std::string(e164.substr(1, e164.size() >= 4 ? 3 : e164.size() - 1)) + "...",
                 {}};
  std::string national(e164.substr(3));
  if (national.starts_with("0")) national.erase(0, 1);  // "+82 010..." written with the trunk prefix
  std::string domestic = "0" + national;
  // Mobile numbers: 010 (8 more digits) and the older 011, 016, 017, 018, 019 (7 or 8).
  const bool mobile = domestic.size() >= 10 && domestic.size() <= 11 && domestic.starts_with("01") &&
                      (domestic[2] == '0' || domestic[2] == '1' || (domestic[2] >= '6' && domestic[2] <= '9')) &&
                      (domestic[2] != '0' || domestic.size() == 11);
  if (!mobile) return Error{Errc::invalid_token, "not a Korean mobile number (01X and 7 or 8 digits)", {}};
  return domestic;
}

std::string short_phone(std::string_view number) {
  if (number.size() < 8) return "***";
  return std::string(number.substr(0, 3)) + "****" + std::string(number.substr(number.size() - 4));
}

namespace {

void write_sms_fields(std::string& out, const SmsText& text, std::string_view from) {
  write_key(out, "type");
  write_string(out, to_string(text.type));
  out += ',';
  write_key(out, "from");
  write_string(out, from);
  if (text.type == SmsType::lms && !text.subject.empty()) {
    out += ',';
    write_key(out, "subject");
    write_string(out, text.subject);
  }
  out += ',';
  write_key(out, "content");
  write_string(out, text.content);
}

}  // namespace

std::string sms_body(const SmsCall& call) {
  NOTIFY_ASSERT(call.text != nullptr && call.to.size() <= max_recipients);
  std::string out = "{";
  write_sms_fields(out, *call.text, call.from);
  out += call.text->advertising ? R"(,"contentType":"AD")" : R"(,"contentType":"COMM")";
  out += R"(,"countryCode":"82","messages":[)";
  for (std::size_t i = 0; i < call.to.size(); ++i) {
    if (i) out += ',';
    out += '{';
    write_key(out, "to");
    write_string(out, call.to[i]);
    out += '}';
  }
  out += "]}";
  return out;
}

std::string alimtalk_body(const AlimTalkCall& call) {
  NOTIFY_ASSERT(call.to.size() <= max_recipients);
  std::string out = "{";
  write_key(out, "plusFriendId");
  write_string(out, call.plus_friend_id);
  out += ',';
  write_key(out, "templateCode");
  write_string(out, call.template_code);
  out += R"(,"messages":[)";
  for (std::size_t i = 0; i < call.to.size(); ++i) {
    if (i) out += ',';
    out += R"({"countryCode":"82",)";
    write_key(out, "to");
    write_string(out, call.to[i]);
    out += ',';
    write_key(out, "content");
    write_string(out, call.content);
    out += R"(,"useSmsFailover":)";
    out += call.failover ? "true" : "false";
    if (call.failover) {
      out += R"(,"failoverConfig":{)";
      write_sms_fields(out, *call.failover, call.from);
      out += '}';
    }
    out += '}';
  }
  out += "]}";
  return out;
}

std::string alimtalk_content(const Message& message) {
  const std::string text = plain_text(message);
  std::string out;
  std::size_t chars = 0;
  for (std::size_t i = 0; i < text.size() && chars < alimtalk_max_chars; ++chars) {
    char32_t cp = 0;
    const std::size_t n = detail::decode_utf8(text, i, cp);
    if (n == 0) {
      out += replacement_character;
      ++i;
    } else {
      out.append(text, i, n);
      i += n;
    }
  }
  return out;
}

namespace {

constexpr std::size_t max_kept = 200;

void keep(std::string& field, std::string_view value) {
  if (field.empty()) field = std::string(utf8_prefix(value, max_kept));
}

}  // namespace

namespace {

/// Masks every run of 7 or more digits (a phone number, with '-' or ' ' inside it allowed)
/// as "***".
void mask_numbers(std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    std::size_t j = i, digits = 0;
    while (j < text.size() && ((text[j] >= '0' && text[j] <= '9') || (digits > 0 && (text[j] == '-' || text[j] == ' ')))) {
      if (text[j] >= '0' && text[j] <= '9') ++digits;
      ++j;
    }
    while (j > i && (text[j - 1] == '-' || text[j - 1] == ' ')) --j;  // not the separators after it
    if (digits >= 7) {
      out += "***";
      i = j;
    } else {
      out += text[i];
      ++i;
    }
  }
  text = std::move(out);
}

}  // namespace

Answer parse_answer(std::string_view body) {
  Answer a;
  detail::JsonReader r(body, 8);
  std::string scratch;
  if (r.peek() != detail::JsonKind::object || !r.enter()) return a;
  std::string_view key;
  while (r.next_key(key, scratch)) {
    const std::string k(key);
    std::string_view v;
    if ((k == "requestId" || k == "statusCode" || k == "errorMessage" || k == "statusName") &&
        r.peek() == detail::JsonKind::string) {
      if (r.read_string(v, scratch) != detail::StringStatus::ok) continue;
      if (k == "requestId") keep(a.request_id, v);
      else if (k == "statusCode") keep(a.status_code, v);
      else if (k == "errorMessage") a.error = std::string(utf8_prefix(v, max_kept));
      else keep(a.error, v);
    } else if (k == "statusCode" && r.peek() == detail::JsonKind::number) {
      detail::JsonNumber n;
      if (r.read_number(n)) keep(a.status_code, n.text);
    } else if (k == "error" && r.peek() == detail::JsonKind::object) {
      if (!r.enter()) break;
      std::string_view ek;
      while (r.next_key(ek, scratch)) {
        const std::string e(ek);
        if ((e == "message" || e == "details") && r.peek() == detail::JsonKind::string) {
          if (r.read_string(v, scratch) == detail::StringStatus::ok) {
            if (e == "message") a.error = std::string(utf8_prefix(v, max_kept));
            else keep(a.error, v);
          }
        } else if (!r.skip_value()) {
          break;
        }
      }
    } else if (!r.skip_value()) {
      break;
    }
  }
  mask_numbers(a.error);  // an error text quoting a phone number must not carry it into logs
  return a;
}

PushResult classify(const Reply& reply, std::chrono::system_clock::time_point now) {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  PushResult out;
  const auto after = [&](std::chrono::seconds dflt) {
    const auto ra = fcm::parse_retry_after(reply.retry_after, now);
    std::chrono::seconds s = ra ? std::min(*ra, fcm::max_retry_after) : dflt;
    return duration_cast<milliseconds>(s);
  };
  const auto outage = [&](std::string detail, std::chrono::seconds dflt) {
    out.status = PushStatus::retry;
    out.outage = true;
    out.scope = RetryScope::provider;
    out.retry_after = after(dflt);
    out.detail = std::move(detail);
  };
  if (!reply.transport_ok) {
    if (reply.configuration) {
      out.status = PushStatus::fatal;
      out.detail = "SENS: " + std::string(reply.error);
    } else {
      outage("SENS unreachable: " + std::string(reply.error), std::chrono::seconds(0));
    }
    return out;
  }
  const Answer a = parse_answer(reply.body);
  const std::string why = a.error.empty() ? std::string() : ": " + a.error;
  const std::string http = "SENS HTTP " + std::to_string(reply.status);
  if (reply.status >= 200 && reply.status < 300) {
    out.detail = a.request_id.empty() ? http + " without a requestId" : "requestId=" + a.request_id;
  } else if (reply.status == 429) {
    outage(http + " (throttled)" + why, default_throttle_delay);
  } else if (reply.status >= 500) {
    outage(http + why, std::chrono::seconds(0));
  } else if (reply.status == 401 || reply.status == 403) {
    out.status = PushStatus::fatal;
    out.detail = http + " (access key, secret key or permissions)" + why;
  } else if (reply.status == 404) {
    out.status = PushStatus::fatal;
    out.detail = http + " (service id or base URL)" + why;
  } else if (reply.status >= 400) {
    out.status = PushStatus::failed;
    out.detail = http + why;
  } else {
    out.status = PushStatus::retry;
    out.detail = http + " (unexpected)";
  }
  return out;
}

}  // namespace notify::sens
