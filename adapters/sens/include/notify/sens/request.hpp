// SPDX-License-Identifier: MIT
#pragma once

/// The wire of Naver Cloud SENS: the API Gateway signature (v2), phone numbers, the JSON
/// bodies of the SMS and AlimTalk send calls, and the one place where answers become push
/// outcomes. Pure: no I/O, no clock read (callers pass the time).

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "notify/result.hpp"
#include "notify/sens/text.hpp"
#include "notify/transport.hpp"

namespace notify::sens {

inline constexpr std::string_view default_base_url = "https://sens.apigw.ntruss.com";
/// Recipients one send call may carry (SMS and AlimTalk alike).
inline constexpr std::size_t max_recipients = 100;
/// AlimTalk content limit, in characters (Kakao counts code points).
inline constexpr std::size_t alimtalk_max_chars = 1000;

/// POST /sms/v2/services/{serviceId}/messages
std::string sms_path(std::string_view service_id);
/// POST /alimtalk/v2/services/{serviceId}/messages
std::string alimtalk_path(std::string_view service_id);

/// The string the API Gateway signs (signature v2): method, a space, the URI (path and
/// query as sent), a line feed, the timestamp (Unix ms, as in x-ncp-apigw-timestamp), a
/// line feed, the access key. No body, no trailing line feed.
std::string string_to_sign(std::string_view method, std::string_view uri, std::string_view timestamp_ms,
                           std::string_view access_key);

/// x-ncp-apigw-signature-v2: Base64(HMAC-SHA256(secret key, string_to_sign(...))).
std::string signature_v2(std::string_view method, std::string_view uri, std::string_view timestamp_ms,
                         std::string_view access_key, std::string_view secret_key);

/// A Korean number in SENS's domestic form: "+821012345678" -> "01012345678". An E.164
/// number of another country is Errc::invalid_value ("SENS sends to +82 numbers only");
/// a +82 number that is not a mobile number (01X and 7 or 8 more digits), or a value that
/// is not E.164 at all, is Errc::invalid_token. Messages never contain the number itself.
Result<std::string> domestic_number(std::string_view e164);

/// A phone number for logs: 010****5678 (the first 3 and last 4 digits kept). Anything
/// shorter than 8 characters becomes "***".
std::string short_phone(std::string_view number);

/// Fields of an SMS/LMS send call.
struct SmsCall {
  const SmsText* text = nullptr;
  std::string_view from;                ///< the registered sender number
  std::span<const std::string> to;      ///< domestic numbers, at most max_recipients
};

/// {"type","from","subject"? (LMS),"content","contentType":"COMM" (or "AD" for an
///  advertisement),"countryCode":"82","messages":[{"to"},...]}
std::string sms_body(const SmsCall& call);

/// Fields of an AlimTalk send call.
struct AlimTalkCall {
  std::string_view plus_friend_id;  ///< the KakaoTalk channel ("@name")
  std::string_view template_code;
  std::string_view content;         ///< the template's text with its variables filled in
  std::span<const std::string> to;  ///< domestic numbers, at most max_recipients
  /// When set, each message asks for an SMS/LMS in its place should KakaoTalk not deliver
  /// it ("useSmsFailover":true, "failoverConfig":{"type","from","subject"?,"content"}).
  const SmsText* failover = nullptr;
  std::string_view from;            ///< the failover's sender number
};

/// {"plusFriendId","templateCode","messages":[{"countryCode":"82","to","content",
///  "useSmsFailover", "failoverConfig"?},...]}
std::string alimtalk_body(const AlimTalkCall& call);

/// The AlimTalk content of a message: plain_text() cut to alimtalk_max_chars code points.
std::string alimtalk_content(const Message& message);

/// One answer of a send call as the provider saw it.
struct Reply {
  bool transport_ok = true;      ///< false: no HTTP answer (refused, reset, timeout, TLS)
  bool configuration = false;    ///< with !transport_ok: our setup is wrong (bad URL, CA file, TLS peer)
  int status = 0;                ///< the HTTP status when transport_ok
  std::string_view body;
  std::string_view retry_after;  ///< the Retry-After header, empty when absent
  std::string_view error;        ///< the transport's description when !transport_ok
};

/// A 202's {"requestId","requestTime","statusCode":"202","statusName":"success"}, and the
/// error text of other answers ("errorMessage", "error.message", "error.details",
/// "statusName", whichever comes first), each at most 200 bytes.
struct Answer {
  std::string request_id;
  std::string status_code;
  std::string error;
};

/// Reads an answer body; never fails (an unreadable body gives empty fields).
Answer parse_answer(std::string_view body);

/// The delay after a 429 without Retry-After.
inline constexpr std::chrono::seconds default_throttle_delay{60};

/// The outcome of a send call for each of its recipients:
///  202 (any 2xx) with a requestId               sent (detail: "requestId=...")
///  2xx without a requestId                      sent (detail notes it)
///  429                                          retry, outage, scope provider, Retry-After or 60 s
///  5xx, no answer (refused, reset, timeout)     retry, outage, scope provider (Retry-After if any)
///  401, 403                                     fatal (the access key, secret or permissions)
///  404                                          fatal (a wrong service id or base URL)
///  TLS / URL / CA problems                      fatal (configuration)
///  400 and other 4xx                            failed (this payload will not pass)
///  anything else (1xx, 3xx)                     retry, scope push, not an outage
PushResult classify(const Reply& reply, std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

}  // namespace notify::sens
