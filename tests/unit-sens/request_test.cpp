// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "notify/plan.hpp"
#include "notify/sens/provider.hpp"
#include "notify/sens/request.hpp"

using namespace std::chrono_literals;
using notify::Errc;
using notify::PushStatus;
using notify::RetryScope;
using namespace notify::sens;

TEST_CASE("the string to sign is method, space, URI, line feed, timestamp, line feed, access key") {
  CHECK(string_to_sign("POST", "/sms/v2/services/s1/messages", "1700000000000", "AK") ==
        "POST /sms/v2/services/s1/messages\n1700000000000\nAK");
}

TEST_CASE("signature v2 matches HMAC-SHA256 computed independently by openssl") {
  // printf 'POST /sms/v2/services/ncp:sms:kr:123456789:notify/messages\n1700000000000\nAKIDEXAMPLE123'
  //   | openssl dgst -sha256 -hmac 'sEcReT/kEy+example' -binary | base64
  CHECK(signature_v2("POST", "/sms/v2/services/ncp:sms:kr:123456789:notify/messages", "1700000000000",
                     "AKIDEXAMPLE123", "sEcReT/kEy+example") == "3jEADROik4/v+2b+rbLCMBh0j++nlxBe9gLy5DyY7uU=");
  // printf 'POST /alimtalk/v2/services/ncp:kkobizmsg:kr:99:notify/messages?x=1\n1764800000123\nncp_iam_ACCESS'
  //   | openssl dgst -sha256 -hmac 'secret' -binary | base64
  CHECK(signature_v2("POST", "/alimtalk/v2/services/ncp:kkobizmsg:kr:99:notify/messages?x=1", "1764800000123",
                     "ncp_iam_ACCESS", "secret") == "O/WPOm6XFo5D+8rcrIKOJsSKN849ofqHrpypQDbCK3s=");
}

TEST_CASE("paths name the service id") {
  CHECK(sms_path("ncp:sms:kr:1:x") == "/sms/v2/services/ncp:sms:kr:1:x/messages");
  CHECK(alimtalk_path("ncp:kkobizmsg:kr:1:x") == "/alimtalk/v2/services/ncp:kkobizmsg:kr:1:x/messages");
}

TEST_CASE("Korean E.164 numbers become domestic numbers and others are refused with a reason") {
  CHECK(domestic_number("+821012345678").value() == "01012345678");
  CHECK(domestic_number("+8201012345678").value() == "01012345678");  // trunk 0 written after +82
  CHECK(domestic_number("+82111234567").value() == "0111234567");     // 011, 7 digits

  const auto foreign = domestic_number("+14155550100");
  REQUIRE_FALSE(foreign);
  CHECK(foreign.error().code == Errc::invalid_token);  // unreachable on this channel, not a failure
  CHECK(foreign.error().message.find("+82") != std::string::npos);
  CHECK(foreign.error().message.find("4155550100") == std::string::npos);  // never the number

  for (const char* bad : {"01012345678", "+82", "+82-10-1234-5678", "+8221234567", "+82101234567", "+82abc", ""}) {
    CAPTURE(bad);
    const auto r = domestic_number(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::invalid_token);
  }
}

TEST_CASE("phones are shortened for logs") {
  CHECK(short_phone("01012345678") == "010****5678");
  CHECK(short_phone("+821012345678") == "+82****5678");
  CHECK(short_phone("1234") == "***");
}

TEST_CASE("an SMS body carries type, sender, content and up to 100 recipients") {
  SmsText text;
  text.content = "안녕 \"따옴표\"";
  const std::vector<std::string> to = {"01011112222", "01033334444"};
  const auto j = nlohmann::json::parse(sms_body(SmsCall{&text, "0212345678", to}));
  CHECK(j["type"] == "SMS");
  CHECK(j["contentType"] == "COMM");
  CHECK(j["countryCode"] == "82");
  CHECK(j["from"] == "0212345678");
  CHECK(j["content"] == "안녕 \"따옴표\"");
  CHECK_FALSE(j.contains("subject"));
  CHECK(j["messages"] == nlohmann::json::array({{{"to", "01011112222"}}, {{"to", "01033334444"}}}));

  text.advertising = true;
  CHECK(nlohmann::json::parse(sms_body(SmsCall{&text, "0212345678", to}))["contentType"] == "AD");
  text.advertising = false;

  text.type = SmsType::lms;
  text.subject = "제목";
  const auto l = nlohmann::json::parse(sms_body(SmsCall{&text, "0212345678", to}));
  CHECK(l["type"] == "LMS");
  CHECK(l["subject"] == "제목");
}

TEST_CASE("an AlimTalk body carries channel, template, content and the failover per message") {
  SmsText failover;
  failover.type = SmsType::lms;
  failover.subject = "S";
  failover.content = "C";
  const std::vector<std::string> to = {"01011112222"};
  auto j = nlohmann::json::parse(alimtalk_body(AlimTalkCall{"@family", "T001", "내용", to, &failover, "0212345678"}));
  CHECK(j["plusFriendId"] == "@family");
  CHECK(j["templateCode"] == "T001");
  REQUIRE(j["messages"].size() == 1);
  const auto& m = j["messages"][0];
  CHECK(m["countryCode"] == "82");
  CHECK(m["to"] == "01011112222");
  CHECK(m["content"] == "내용");
  CHECK(m["useSmsFailover"] == true);
  CHECK(m["failoverConfig"] == nlohmann::json{{"type", "LMS"}, {"from", "0212345678"}, {"subject", "S"}, {"content", "C"}});

  j = nlohmann::json::parse(alimtalk_body(AlimTalkCall{"@family", "T001", "내용", to, nullptr, {}}));
  CHECK(j["messages"][0]["useSmsFailover"] == false);
  CHECK_FALSE(j["messages"][0].contains("failoverConfig"));
}

TEST_CASE("AlimTalk content is title and body, at most 1,000 characters") {
  notify::Message m;
  m.title = "제목";
  m.body = std::string(2000, 'x');
  const std::string c = alimtalk_content(m);
  CHECK(c.starts_with("제목\nxxx"));
  CHECK(c.size() == 6 + 1 + 997);
}

TEST_CASE("answers: a 202 carries the requestId and errors keep their message") {
  Answer a = parse_answer(R"({"requestId":"RSSA-1","requestTime":"2026-01-01T00:00:00.000","statusCode":"202","statusName":"success"})");
  CHECK(a.request_id == "RSSA-1");
  CHECK(a.status_code == "202");
  a = parse_answer(R"({"error":{"errorCode":"200","message":"Authentication Failed","details":"Invalid authentication information."}})");
  CHECK(a.error == "Authentication Failed");
  a = parse_answer(R"({"status":400,"errorMessage":"invalid to"})");
  CHECK(a.error == "invalid to");
  a = parse_answer("not json");
  CHECK(a.request_id.empty());
  CHECK(a.error.empty());
}

namespace {

Reply answer(int status, std::string_view body = {}, std::string_view retry_after = {}) {
  Reply r;
  r.status = status;
  r.body = body;
  r.retry_after = retry_after;
  return r;
}

Reply broken(bool configuration) {
  Reply r;
  r.transport_ok = false;
  r.configuration = configuration;
  r.error = "Connection refused";
  return r;
}

struct Row {
  const char* name;
  Reply reply;
  PushStatus status;
  bool outage = false;
  std::chrono::milliseconds retry_after{0};
};

}  // namespace

TEST_CASE("classify maps every answer as a table") {
  const Row rows[] = {
      {"202 accepted", answer(202, R"({"requestId":"R1","statusCode":"202"})"), PushStatus::sent},
      {"429 with Retry-After", answer(429, "{}", "7"), PushStatus::retry, true, 7s},
      {"429 without Retry-After", answer(429), PushStatus::retry, true, 60s},
      {"500", answer(500), PushStatus::retry, true, 0s},
      {"503 with Retry-After", answer(503, {}, "3"), PushStatus::retry, true, 3s},
      {"connection refused", broken(false), PushStatus::retry, true, 0s},
      {"TLS verification", broken(true), PushStatus::fatal},
      {"401", answer(401, R"({"error":{"message":"Authentication Failed"}})"), PushStatus::fatal},
      {"403", answer(403), PushStatus::fatal},
      {"404", answer(404), PushStatus::fatal},
      {"400", answer(400, R"({"errorMessage":"content too long"})"), PushStatus::failed},
      {"413", answer(413), PushStatus::failed},
      {"302", answer(302), PushStatus::retry},
  };
  const auto now = std::chrono::system_clock::time_point(1700000000s);
  for (const Row& row : rows) {
    CAPTURE(row.name);
    const auto r = classify(row.reply, now);
    CHECK(r.status == row.status);
    CHECK(r.outage == row.outage);
    if (row.outage) CHECK(r.scope == RetryScope::provider);
    CHECK(r.retry_after == row.retry_after);
    CHECK_FALSE(r.detail.empty());
  }
  CHECK(classify(answer(202, R"({"requestId":"R1"})"), now).detail == "requestId=R1");
  CHECK(classify(answer(401, R"({"error":{"message":"Authentication Failed"}})"), now).detail.find("Authentication Failed") !=
        std::string::npos);
}

TEST_CASE("templates are read from TYPE=CODE lists") {
  auto t = parse_templates("MESSAGE_TODAY=T01, PHOTO_CREATE = T02,,");
  REQUIRE(t);
  CHECK(t->size() == 2);
  CHECK(t->at("PHOTO_CREATE") == "T02");
  CHECK_FALSE(parse_templates("NOPE=T01"));
  CHECK_FALSE(parse_templates("MESSAGE_TODAY"));
  CHECK_FALSE(parse_templates("MESSAGE_TODAY="));
}

TEST_CASE("create refuses incomplete settings and names what is missing") {
  Options o;
  o.access_key = "AK";
  o.secret_key = "SK";
  auto p = Provider::create(o);
  REQUIRE_FALSE(p);
  CHECK(p.error().code == Errc::configuration);
  o.sms_service_id = "svc";
  p = Provider::create(o);
  REQUIRE_FALSE(p);
  CHECK(p.error().message.find("sender") != std::string::npos);
  o.from = "02-1234-5678";
  p = Provider::create(o);
  REQUIRE_FALSE(p);
  CHECK(p.error().message.find("digits") != std::string::npos);
  o.from = "0212345678";
  CHECK(Provider::create(o));
  o.alimtalk_service_id = "kko";
  p = Provider::create(o);
  REQUIRE_FALSE(p);
  CHECK(p.error().message.find("plusFriendId") != std::string::npos);
  Options no_secret;
  no_secret.access_key = "AK";
  no_secret.secret_key_file = "/nonexistent/secret";
  no_secret.sms_service_id = "svc";
  no_secret.from = "0212345678";
  p = Provider::create(no_secret);
  REQUIRE_FALSE(p);
  CHECK(p.error().message.find("/nonexistent/secret") != std::string::npos);
}

TEST_CASE("pushes that are not Korean mobile numbers or not SMS are answered without a call") {
  Options o;
  o.access_key = "AK";
  o.secret_key = "SK";
  o.sms_service_id = "svc";
  o.from = "0212345678";
  o.base_url = "http://127.0.0.1:9";  // never reached
  auto p = Provider::create(o);
  REQUIRE(p);
  notify::Message m;
  m.body = "hi";
  const notify::Push pushes[] = {
      {&m, "+14155550100", notify::PushService::sms},
      {&m, "+8221234567", notify::PushService::sms},
      {&m, "fcm-token", notify::PushService::fcm},
      {&m, "", notify::PushService::sms},
  };
  const auto r = p->send(pushes);
  REQUIRE(r.size() == 4);
  CHECK(r[0].status == PushStatus::invalid_token);  // another country's number: SENS cannot reach it
  CHECK(r[0].detail.find("4155550100") == std::string::npos);
  CHECK(r[1].status == PushStatus::invalid_token);
  CHECK(r[1].detail.find("+82****4567") != std::string::npos);
  CHECK(r[2].status == PushStatus::failed);
  CHECK(r[3].status == PushStatus::sent);
  CHECK(p->stats().calls == 0);
}
