// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "notify/fcm/errors.hpp"

using namespace std::chrono_literals;
using notify::PushStatus;
using notify::RetryScope;
using notify::fcm::classify;
using notify::fcm::Reply;
using notify::fcm::Transport;

namespace {

// 2015-10-21 07:28:00 UTC
const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1445412480));

std::string fcm_error(int code, std::string_view status, std::string_view error_code, std::string_view message,
                      std::string_view extra = {}) {
  std::string out = R"({"error":{"code":)" + std::to_string(code) + R"(,"message":")" + std::string(message) +
                    R"(","status":")" + std::string(status) + R"(","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":")" +
                    std::string(error_code) + "\"}";
  if (!extra.empty()) out += "," + std::string(extra);
  return out + "]}}";
}

std::string google_error(int code, std::string_view status, std::string_view message) {
  return R"({"error":{"code":)" + std::to_string(code) + R"(,"message":")" + std::string(message) +
         R"(","status":")" + std::string(status) + "\"}}";
}

const std::string token_violation =
    R"({"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"message.token","description":"Invalid registration token"}]})";

Reply http(int status, std::string_view body, std::string_view retry_after = {}) {
  Reply r;
  r.status = status;
  r.body = body;
  r.retry_after = retry_after;
  return r;
}

Reply failure(Transport t, std::string_view error) {
  Reply r;
  r.transport = t;
  r.error = error;
  return r;
}

struct Row {
  const char* what;
  Reply reply;
  PushStatus status;
  std::chrono::milliseconds retry_after;
  bool outage = false;
  RetryScope scope = RetryScope::push;
};

/// A QuotaFailure detail with one violation about `subject`.
std::string quota_failure(std::string_view subject) {
  return R"({"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"subject":")" + std::string(subject) +
         R"(","description":"Quota exceeded."}]})";
}

constexpr bool outage = true;
constexpr RetryScope token_scope = RetryScope::token;
constexpr RetryScope provider = RetryScope::provider;

}  // namespace

TEST_CASE("every FCM answer and transport failure maps to the documented push outcome") {
  const std::string unregistered = fcm_error(404, "NOT_FOUND", "UNREGISTERED", "Requested entity was not found.");
  const std::string bad_token = fcm_error(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", "Invalid registration", token_violation);
  const std::string bad_token_text = fcm_error(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT",
                                               "The registration token is not a valid FCM registration token");
  const std::string bad_payload = fcm_error(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT",
                                            "Invalid value at 'message.data[0].value' (TYPE_STRING)");
  const std::string mismatch = fcm_error(403, "PERMISSION_DENIED", "SENDER_ID_MISMATCH", "SenderId mismatch");
  const std::string quota = fcm_error(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED", "Quota exceeded.");
  const std::string unavailable = fcm_error(503, "UNAVAILABLE", "UNAVAILABLE", "The service is currently unavailable.");
  const std::string internal = fcm_error(500, "INTERNAL", "INTERNAL", "Internal error encountered.");
  const std::string third_party = fcm_error(401, "UNAUTHENTICATED", "THIRD_PARTY_AUTH_ERROR", "Auth error from APNS");
  const std::string unauthenticated = google_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.");
  const std::string denied = google_error(403, "PERMISSION_DENIED", "Permission 'cloudmessaging.messages.create' denied");
  const std::string not_found = google_error(404, "NOT_FOUND", "Requested entity was not found.");

  const std::string project_quota = fcm_error(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED", "Quota exceeded.",
                                              quota_failure("project_number:123456"));
  const std::string device_quota = fcm_error(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED", "Quota exceeded.",
                                             quota_failure("device"));

  const std::vector<Row> rows = {
      {"200 with a name", http(200, R"({"name":"projects/p/messages/1"})"), PushStatus::sent, 0ms},
      {"404 UNREGISTERED", http(404, unregistered), PushStatus::invalid_token, 0ms},
      {"400 about message.token", http(400, bad_token), PushStatus::invalid_token, 0ms},
      {"400 saying the registration token is invalid", http(400, bad_token_text), PushStatus::invalid_token, 0ms},
      {"400 about the payload", http(400, bad_payload), PushStatus::failed, 0ms},
      {"403 SENDER_ID_MISMATCH", http(403, mismatch), PushStatus::invalid_token, 0ms},
      {"429 with Retry-After", http(429, quota, "30"), PushStatus::retry, 30s, outage, token_scope},
      {"429 with an HTTP-date Retry-After", http(429, quota, "Wed, 21 Oct 2015 07:28:45 GMT"), PushStatus::retry, 45s,
       outage, token_scope},
      {"429 without Retry-After", http(429, quota), PushStatus::retry, 60s, outage, token_scope},
      {"429 without a body", http(429, ""), PushStatus::retry, 60s, outage, token_scope},
      {"429 over the project's quota", http(429, project_quota, "20"), PushStatus::retry, 20s, outage, provider},
      {"429 with a QuotaFailure not about the project", http(429, device_quota), PushStatus::retry, 60s, outage,
       token_scope},
      {"503 with Retry-After", http(503, unavailable, "5"), PushStatus::retry, 5s, outage, provider},
      {"503 with an HTTP-date Retry-After", http(503, unavailable, "Wed, 21 Oct 2015 07:29:30 GMT"), PushStatus::retry,
       90s, outage, provider},
      {"503 without Retry-After", http(503, unavailable), PushStatus::retry, 0ms, outage, provider},
      {"500 INTERNAL", http(500, internal), PushStatus::retry, 0ms, outage, provider},
      {"502 from a proxy", http(502, "<html>bad gateway</html>"), PushStatus::retry, 0ms, outage, provider},
      {"408", http(408, ""), PushStatus::retry, 0ms, outage, provider},
      {"Retry-After beyond an hour", http(503, unavailable, "86400"), PushStatus::retry, 3600s, outage, provider},
      {"401 THIRD_PARTY_AUTH_ERROR", http(401, third_party), PushStatus::fatal, 0ms},
      {"401 UNAUTHENTICATED", http(401, unauthenticated), PushStatus::fatal, 0ms},
      {"403 PERMISSION_DENIED", http(403, denied), PushStatus::fatal, 0ms},
      {"404 without UNREGISTERED", http(404, not_found), PushStatus::fatal, 0ms},
      {"413 without a body", http(413, ""), PushStatus::failed, 0ms},
      {"an unexpected 301", http(301, ""), PushStatus::retry, 0ms},
      {"a timeout", failure(Transport::timeout, "Operation timed out"), PushStatus::retry, 0ms, outage, provider},
      {"a refused connection", failure(Transport::connect, "Connection refused"), PushStatus::retry, 0ms, outage,
       provider},
      {"a reset stream", failure(Transport::broken, "Stream error"), PushStatus::retry, 0ms, outage, provider},
      {"a certificate that does not verify", failure(Transport::tls, "SSL certificate problem"), PushStatus::fatal, 0ms},
      {"a malformed URL", failure(Transport::setup, "URL using bad/illegal format"), PushStatus::fatal, 0ms},
  };
  for (const Row& row : rows) {
    CAPTURE(row.what);
    const auto r = classify(row.reply, now);
    CHECK(r.status == row.status);
    CHECK(r.retry_after == row.retry_after);
    CHECK(r.outage == row.outage);
    if (r.status == PushStatus::retry) CHECK(r.scope == row.scope);
    CHECK(!r.detail.empty());
  }
}

TEST_CASE("an unreachable, failing or throttling FCM is flagged as an outage, an answer about the push is not") {
  const std::string quota = fcm_error(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED", "Quota exceeded.");
  const std::string unavailable = fcm_error(503, "UNAVAILABLE", "UNAVAILABLE", "The service is currently unavailable.");
  const std::string internal = fcm_error(500, "INTERNAL", "INTERNAL", "Internal error encountered.");
  const std::string bad_payload = fcm_error(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", "Invalid value");
  // A 429 is a service condition too: throttling must never dead-letter a record.
  for (const Reply& service : {http(429, quota), http(429, ""), http(503, unavailable), http(500, internal),
                               http(502, "<html>bad gateway</html>"), http(408, ""),
                               failure(Transport::timeout, "Operation timed out"),
                               failure(Transport::connect, "Connection refused"), failure(Transport::broken, "Stream error")}) {
    CAPTURE(service.status);
    CAPTURE(service.error);
    const auto r = classify(service, now);
    CHECK(r.status == PushStatus::retry);
    CHECK(r.outage);
  }
  for (const Reply& own : {http(400, bad_payload), http(404, ""), http(200, R"({"name":"projects/p/messages/1"})")}) {
    CAPTURE(own.status);
    CHECK_FALSE(classify(own, now).outage);
  }
}

TEST_CASE("a quota detail naming the project marks a project-wide quota, others do not") {
  using notify::fcm::parse_error_body;
  const auto with = [](std::string_view detail) {
    return fcm_error(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED", "Quota exceeded.", detail);
  };
  CHECK(parse_error_body(with(quota_failure("project:notify-test"))).project_quota);
  CHECK(parse_error_body(with(quota_failure("project_number:123"))).project_quota);
  CHECK(parse_error_body(with(quota_failure("projects/notify-test"))).project_quota);
  CHECK_FALSE(parse_error_body(with(quota_failure("device:abc"))).project_quota);
  CHECK_FALSE(parse_error_body(with("")).project_quota);
  // "@type" after the violations, and Google's newer ErrorInfo form.
  CHECK(parse_error_body(with(R"({"violations":[{"subject":"project:p"}],"@type":"type.googleapis.com/google.rpc.QuotaFailure"})"))
            .project_quota);
  CHECK(parse_error_body(with(R"({"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"RATE_LIMIT_EXCEEDED","domain":"googleapis.com","metadata":{"consumer":"projects/123","service":"fcm.googleapis.com"}})"))
            .project_quota);
  // An ErrorInfo names the consumer on other errors too: only a rate limit counts.
  CHECK_FALSE(parse_error_body(with(R"({"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"SERVICE_DISABLED","metadata":{"consumer":"projects/123"}})"))
                  .project_quota);
  // A subject naming a project outside a QuotaFailure is not a quota.
  CHECK_FALSE(parse_error_body(with(R"({"@type":"type.googleapis.com/google.rpc.PreconditionFailure","violations":[{"subject":"project:p"}]})"))
                  .project_quota);
}

TEST_CASE("a sent push keeps FCM's message name as its detail") {
  CHECK(classify(http(200, R"({"name":"projects/p/messages/0:123%abc"})"), now).detail ==
        "projects/p/messages/0:123%abc");
  // Without a time: a success reads no clock, anything else is classified as at now.
  const auto sent = classify(http(200, R"({"name":"projects/p/messages/1"})"));
  CHECK(sent.status == PushStatus::sent);
  CHECK(sent.detail == "projects/p/messages/1");
  const auto busy = classify(http(503, fcm_error(503, "UNAVAILABLE", "", "busy")));
  CHECK(busy.status == PushStatus::retry);
  CHECK(busy.outage);
}

TEST_CASE("a failure's detail names the status, the FCM code and FCM's message") {
  const auto r = classify(http(404, fcm_error(404, "NOT_FOUND", "UNREGISTERED", "Requested entity was not found.")), now);
  CHECK(r.detail == "fcm: HTTP 404 UNREGISTERED: Requested entity was not found.");
  const auto t = classify(failure(Transport::timeout, "Operation timed out after 10001 milliseconds"), now);
  CHECK(t.detail == "fcm: timeout: Operation timed out after 10001 milliseconds");
}

TEST_CASE("the FcmError errorCode wins over the generic status") {
  const auto e = notify::fcm::parse_error_body(fcm_error(404, "NOT_FOUND", "UNREGISTERED", "gone"));
  CHECK(e.code == "UNREGISTERED");
  CHECK(e.message == "gone");
  CHECK_FALSE(e.about_token);
  CHECK(notify::fcm::parse_error_body(google_error(403, "PERMISSION_DENIED", "no")).code == "PERMISSION_DENIED");
  CHECK(notify::fcm::parse_error_body("not json").code.empty());
  CHECK(notify::fcm::parse_error_body(R"({"error":"invalid_grant"})").code.empty());
}

TEST_CASE("Retry-After is read as seconds or as an HTTP date") {
  using notify::fcm::parse_retry_after;
  CHECK(parse_retry_after("120", now) == std::chrono::seconds(120));
  CHECK(parse_retry_after(" 7 ", now) == std::chrono::seconds(7));
  CHECK(parse_retry_after("0", now) == std::chrono::seconds(0));
  CHECK(parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now) == std::chrono::seconds(10));
  CHECK(parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now) == std::chrono::seconds(0));
  CHECK(parse_retry_after("99999999999999999999999", now) == notify::fcm::max_retry_after);
  CHECK_FALSE(parse_retry_after("", now).has_value());
  CHECK_FALSE(parse_retry_after("soon", now).has_value());
  CHECK_FALSE(parse_retry_after("-5", now).has_value());
  CHECK_FALSE(parse_retry_after("1.5", now).has_value());
  CHECK_FALSE(parse_retry_after("Wed, 21 Foo 2015 07:28:10 GMT", now).has_value());
}

TEST_CASE("only a 401 that is not THIRD_PARTY_AUTH_ERROR asks for a new access token") {
  using notify::fcm::needs_new_token;
  CHECK(needs_new_token(http(401, google_error(401, "UNAUTHENTICATED", "expired"))));
  CHECK(needs_new_token(http(401, "")));
  CHECK_FALSE(needs_new_token(http(401, fcm_error(401, "UNAUTHENTICATED", "THIRD_PARTY_AUTH_ERROR", "apns"))));
  CHECK_FALSE(needs_new_token(http(403, google_error(403, "PERMISSION_DENIED", "no"))));
  CHECK_FALSE(needs_new_token(failure(Transport::broken, "")));
}

TEST_CASE("a rejected service account is a credentials error, an unreachable token endpoint a transient one") {
  using notify::Errc;
  using notify::fcm::token_error;
  const auto rejected = token_error(http(400, R"({"error":"invalid_grant","error_description":"Invalid JWT Signature."})"));
  CHECK(rejected.code == Errc::unauthenticated);
  CHECK(rejected.message.find("invalid_grant: Invalid JWT Signature.") != std::string::npos);
  CHECK_FALSE(notify::is_transient(rejected.code));
  CHECK(token_error(http(401, "")).code == Errc::unauthenticated);
  CHECK(token_error(http(404, "")).code == Errc::configuration);
  CHECK(token_error(http(503, "")).code == Errc::unavailable);
  CHECK(token_error(http(429, "")).code == Errc::rate_limited);
  CHECK(token_error(failure(Transport::timeout, "slow")).code == Errc::timeout);
  CHECK(token_error(failure(Transport::connect, "refused")).code == Errc::unavailable);
  CHECK(token_error(failure(Transport::tls, "bad certificate")).code == Errc::configuration);
}

TEST_CASE("the message name is read from a success body and is empty when absent") {
  CHECK(notify::fcm::message_name(R"({"name":"projects/p/messages/9"})") == "projects/p/messages/9");
  CHECK(notify::fcm::message_name(R"({"other":1,"name":"n"})") == "n");
  CHECK(notify::fcm::message_name("{}").empty());
  CHECK(notify::fcm::message_name("garbage").empty());
  // FCM's own layout, and what only the JSON reader reads right: escapes, other bytes,
  // a value cut short.
  CHECK(notify::fcm::message_name("{\n  \"name\": \"projects/p/messages/0:1500415314455276%31bd1c96\"\n}\n") ==
        "projects/p/messages/0:1500415314455276%31bd1c96");
  CHECK(notify::fcm::message_name(R"({"name":"a\/b\u0041"})") == "a/bA");
  CHECK(notify::fcm::message_name("{\"name\":\"\xea\xb0\x80\"}") == "\xea\xb0\x80");
  CHECK(notify::fcm::message_name("{\"name\":\"\xff\"}").empty());  // not UTF-8
  CHECK(notify::fcm::message_name(R"({"name":"abc)").empty());
  CHECK(notify::fcm::message_name(R"({"name":"abc")") == "abc");
  CHECK(notify::fcm::message_name(R"({"name":7})").empty());
}
