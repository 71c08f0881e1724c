// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "notify/apns/errors.hpp"

using namespace std::chrono_literals;
using notify::PushStatus;
using notify::RetryScope;
using notify::apns::classify;
using notify::apns::needs_new_token;
using notify::apns::Reply;
using notify::apns::Transport;

namespace {

Reply answer(int status, std::string_view body = {}, std::string_view retry_after = {}) {
  Reply r;
  r.status = status;
  r.body = body;
  r.retry_after = retry_after;
  r.apns_id = "6f1c2a3b-0000-4000-8000-000000000001";
  return r;
}

Reply failure(Transport t, std::string_view error) {
  Reply r;
  r.transport = t;
  r.error = error;
  return r;
}

struct Row {
  const char* name;
  Reply reply;
  PushStatus status;
  std::chrono::milliseconds retry_after{0};
  bool outage = false;
  RetryScope scope = RetryScope::push;
};

}  // namespace

TEST_CASE("the APNs error table: every status and reason to its push outcome") {
  const auto now = std::chrono::system_clock::from_time_t(1700000000);
  constexpr bool outage = true;
  const auto token = RetryScope::token;
  const auto provider = RetryScope::provider;
  const std::vector<Row> rows = {
      {"200", answer(200), PushStatus::sent},
      {"410 Unregistered", answer(410, R"({"reason":"Unregistered","timestamp":1699999999000})"), PushStatus::invalid_token},
      {"410 ExpiredToken", answer(410, R"({"reason":"ExpiredToken"})"), PushStatus::invalid_token},
      {"400 BadDeviceToken", answer(400, R"({"reason":"BadDeviceToken"})"), PushStatus::invalid_token},
      {"400 DeviceTokenNotForTopic", answer(400, R"({"reason":"DeviceTokenNotForTopic"})"), PushStatus::invalid_token},
      {"429 TooManyRequests", answer(429, R"({"reason":"TooManyRequests"})"), PushStatus::retry, 60s, outage, token},
      {"429 with Retry-After", answer(429, R"({"reason":"TooManyRequests"})", "7"), PushStatus::retry, 7s, outage, token},
      {"429 TooManyProviderTokenUpdates", answer(429, R"({"reason":"TooManyProviderTokenUpdates"})"), PushStatus::retry,
       60s, outage, provider},
      {"500 InternalServerError", answer(500, R"({"reason":"InternalServerError"})"), PushStatus::retry, 0s, outage,
       provider},
      {"503 ServiceUnavailable", answer(503, R"({"reason":"ServiceUnavailable"})", "30"), PushStatus::retry, 30s, outage,
       provider},
      {"503 Shutdown", answer(503, R"({"reason":"Shutdown"})"), PushStatus::retry, 0s, outage, provider},
      {"403 ExpiredProviderToken", answer(403, R"({"reason":"ExpiredProviderToken"})"), PushStatus::fatal},
      {"403 InvalidProviderToken", answer(403, R"({"reason":"InvalidProviderToken"})"), PushStatus::fatal},
      {"403 MissingProviderToken", answer(403, R"({"reason":"MissingProviderToken"})"), PushStatus::fatal},
      {"403 BadCertificateEnvironment", answer(403, R"({"reason":"BadCertificateEnvironment"})"), PushStatus::fatal},
      {"400 TopicDisallowed", answer(400, R"({"reason":"TopicDisallowed"})"), PushStatus::fatal},
      {"400 MissingTopic", answer(400, R"({"reason":"MissingTopic"})"), PushStatus::fatal},
      {"404 BadPath", answer(404, R"({"reason":"BadPath"})"), PushStatus::fatal},
      {"405 MethodNotAllowed", answer(405, R"({"reason":"MethodNotAllowed"})"), PushStatus::fatal},
      {"413 PayloadTooLarge", answer(413, R"({"reason":"PayloadTooLarge"})"), PushStatus::failed},
      {"400 BadCollapseId", answer(400, R"({"reason":"BadCollapseId"})"), PushStatus::failed},
      {"400 unreadable body", answer(400, "<html>"), PushStatus::failed},
      {"a timeout", failure(Transport::timeout, "no answer"), PushStatus::retry, 0s, outage, provider},
      {"a refused connection", failure(Transport::connect, "Connection refused"), PushStatus::retry, 0s, outage, provider},
      {"a reset stream", failure(Transport::broken, "stream reset"), PushStatus::retry, 0s, outage, provider},
      {"a certificate that does not verify", failure(Transport::tls, "certificate verify failed"), PushStatus::fatal},
      {"a bad URL", failure(Transport::setup, "bad URL"), PushStatus::fatal},
      {"a 3xx", answer(302), PushStatus::retry},
  };
  for (const Row& row : rows) {
    CAPTURE(row.name);
    const auto r = classify(row.reply, now);
    CHECK(r.status == row.status);
    CHECK(r.retry_after == row.retry_after);
    CHECK(r.outage == row.outage);
    if (r.status == PushStatus::retry) CHECK(r.scope == row.scope);
  }
}

TEST_CASE("a sent push's detail is its apns-id and a failure's names the status and reason") {
  CHECK(classify(answer(200)).detail == "6f1c2a3b-0000-4000-8000-000000000001");
  CHECK(classify(answer(400, R"({"reason":"BadDeviceToken"})")).detail == "apns: 400 BadDeviceToken");
  CHECK(classify(failure(Transport::connect, "refused")).detail == "apns: no answer: refused");
}

TEST_CASE("a 410 carries the body's timestamp as invalid_since_ms, 0 when it has none") {
  CHECK(classify(answer(410, R"({"reason":"Unregistered","timestamp":1699999999123})")).invalid_since_ms ==
        1699999999123);
  CHECK(classify(answer(410, R"({"reason":"Unregistered"})")).invalid_since_ms == 0);
  CHECK(classify(answer(410, R"({"timestamp":"soon","reason":"Unregistered"})")).invalid_since_ms == 0);
  CHECK(classify(answer(400, R"({"reason":"BadDeviceToken","timestamp":5})")).invalid_since_ms == 0);
}

TEST_CASE("only the three provider-token reasons of a 403 call for a new token") {
  CHECK(needs_new_token(answer(403, R"({"reason":"ExpiredProviderToken"})")));
  CHECK(needs_new_token(answer(403, R"({"reason":"InvalidProviderToken"})")));
  CHECK(needs_new_token(answer(403, R"({"reason":"MissingProviderToken"})")));
  CHECK_FALSE(needs_new_token(answer(403, R"({"reason":"BadCertificate"})")));
  CHECK_FALSE(needs_new_token(answer(400, R"({"reason":"ExpiredProviderToken"})")));
  CHECK_FALSE(needs_new_token(failure(Transport::broken, "")));
}

TEST_CASE("error bodies: reason and timestamp read, the rest ignored, garbage gives nothing") {
  const auto e = notify::apns::parse_error_body(R"({"x":[1,{"y":2}],"reason":"Unregistered","timestamp":12})");
  CHECK(e.reason == "Unregistered");
  CHECK(e.timestamp_ms == 12);
  CHECK(notify::apns::parse_error_body("").reason.empty());
  CHECK(notify::apns::parse_error_body(R"({"reason":)").reason.empty());
  CHECK(notify::apns::parse_error_body(std::string(R"({"reason":")") + std::string(300, 'a') + "\"}").reason.size() ==
        64);
}
