// SPDX-License-Identifier: MIT
// notify::sens::Provider against the SENS emulator (tests/support/sens-emulator), which
// checks the signature, the byte rules and the fields with its own implementation.
#include <doctest/doctest.h>

#include <chrono>
#include <deque>
#include <string>
#include <vector>

#include "notify/plan.hpp"
#include "notify/sens/provider.hpp"
#include "sens-emulator/emulator.hpp"

using namespace std::chrono_literals;
using notify::Message;
using notify::Push;
using notify::PushResult;
using notify::PushService;
using notify::PushStatus;
using notify::RetryScope;
using notify::test::SensEmulator;

namespace {

constexpr const char* sms_service = "ncp:sms:kr:123456789:notify";
constexpr const char* alimtalk_service = "ncp:kkobizmsg:kr:987:notify";

notify::sens::Options options_for(const SensEmulator& emu) {
  notify::sens::Options o;
  o.base_url = emu.url();
  o.ca_file = emu.ca_file();
  o.access_key = emu.access_key();
  o.secret_key_file = emu.secret_file();
  o.sms_service_id = sms_service;
  o.alimtalk_service_id = alimtalk_service;
  o.from = "0212345678";
  o.plus_friend_id = "@family";
  o.templates = {{"PHOTO_CREATE", "PHOTO01"}};
  o.request_timeout = 5000ms;
  o.connect_timeout = 2000ms;
  return o;
}

notify::sens::Provider make(const notify::sens::Options& o) {
  auto p = notify::sens::Provider::create(o);
  REQUIRE(p);
  return std::move(*p);
}

/// +8210 then 8 digits made from i.
std::string phone(int i) {
  std::string digits = std::to_string(10000000 + i);
  return "+8210" + digits;
}
std::string domestic(int i) { return "010" + std::to_string(10000000 + i); }

Message message(std::string title, std::string body, notify::NotificationType type = notify::NotificationType::PHOTO_CREATE) {
  Message m;
  m.title = std::move(title);
  m.body = std::move(body);
  m.type = type;
  return m;
}

std::vector<Push> pushes_to(const Message& m, int n, PushService service, int first = 0) {
  std::vector<Push> out;
  static std::deque<std::string> phones;  // the tokens are views: keep them alive and in place
  for (int i = 0; i < n; ++i) {
    phones.push_back(phone(first + i));
    out.push_back(Push{&m, phones.back(), service});
  }
  return out;
}

void check_all(const std::vector<PushResult>& results, PushStatus status) {
  for (const PushResult& r : results) {
    CAPTURE(r.detail);
    CHECK(r.status == status);
  }
}

}  // namespace

TEST_CASE("a short message goes as one signed SMS, a long one as an LMS with the title as subject") {
  SensEmulator emu;
  auto provider = make(options_for(emu));
  const Message short_msg = message("새 사진", "엄마가 사진을 올렸어요.");
  std::string long_body;
  for (int i = 0; i < 60; ++i) long_body += "가";  // 120 bytes
  const Message long_msg = message("긴 글", long_body);
  auto pushes = pushes_to(short_msg, 2, PushService::sms);
  const auto more = pushes_to(long_msg, 1, PushService::sms, 10);
  pushes.insert(pushes.end(), more.begin(), more.end());

  const auto results = provider.send(pushes);
  REQUIRE(results.size() == 3);
  check_all(results, PushStatus::sent);
  CHECK(results[0].detail.starts_with("requestId=R"));

  const auto got = emu.received();
  REQUIRE(got.size() == 2);
  CHECK(got[0]["status"] == 202);
  CHECK(got[0]["kind"] == "sms");
  CHECK(got[0]["service"] == sms_service);
  CHECK(got[0]["body"]["type"] == "SMS");
  CHECK(got[0]["body"]["content"] == "새 사진\n엄마가 사진을 올렸어요.");
  CHECK(got[0]["body"]["from"] == "0212345678");
  CHECK(got[0]["body"]["messages"] == nlohmann::json::array({{{"to", domestic(0)}}, {{"to", domestic(1)}}}));
  CHECK(got[1]["body"]["type"] == "LMS");
  CHECK(got[1]["body"]["subject"] == "긴 글");
  CHECK(got[1]["body"]["content"] == long_body);
  CHECK(provider.stats().sms == 1);
  CHECK(provider.stats().lms == 1);
}

TEST_CASE("an advertisement goes as contentType AD") {
  SensEmulator emu;
  auto provider = make(options_for(emu));
  const Message m = message("(광고) 봄맞이 이벤트", "혜택을 확인하세요.\n수신거부: 앱 설정 > 알림 > 광고성 알림 끄기",
                            notify::NotificationType::SERVICE_NOTICE);
  const auto pushes = pushes_to(m, 1, PushService::sms);
  check_all(provider.send(pushes), PushStatus::sent);
  const auto got = emu.received();
  REQUIRE(got.size() == 1);
  CHECK(got[0]["body"]["contentType"] == "AD");
  CHECK(got[0]["body"]["type"] == "SMS");  // 83 EUC-KR bytes with the opt-out line (CPython)
  CHECK(got[0]["body"]["content"].get<std::string>().starts_with("(광고) 봄맞이 이벤트\n"));
}

TEST_CASE("emoji and syllables outside KS X 1001 are replaced, so SENS accepts the SMS") {
  SensEmulator emu;
  auto provider = make(options_for(emu));
  const Message m = message("", "똠방각하 😀");
  const auto pushes = pushes_to(m, 1, PushService::sms);
  check_all(provider.send(pushes), PushStatus::sent);
  const auto got = emu.received();
  REQUIRE(got.size() == 1);
  CHECK(got[0]["body"]["content"] == "?방각하 ?");
}

TEST_CASE("150 pushes of one message are split into calls of 100 and 50") {
  SensEmulator emu;
  auto provider = make(options_for(emu));
  const Message m = message("알림", "새 소식");
  const auto pushes = pushes_to(m, 150, PushService::sms);
  const auto results = provider.send(pushes);
  REQUIRE(results.size() == 150);
  check_all(results, PushStatus::sent);
  const auto got = emu.received();
  REQUIRE(got.size() == 2);
  CHECK(got[0]["body"]["messages"].size() == 100);
  CHECK(got[1]["body"]["messages"].size() == 50);
  CHECK(got[1]["body"]["messages"][49]["to"] == domestic(149));
  CHECK(provider.stats().calls == 2);
  check_all(provider.send(pushes), PushStatus::sent);
  CHECK(emu.connections() == 1);  // four calls over one kept-alive connection
}

TEST_CASE("AlimTalk carries the template code of the type and, when asked, an SMS failover") {
  SensEmulator emu;
  auto o = options_for(emu);
  o.sms_failover = true;
  auto provider = make(o);
  const Message m = message("새 사진", "아빠가 사진을 올렸어요.");
  auto pushes = pushes_to(m, 4, PushService::alimtalk);
  // The first three may fall back to SMS (their route and settings allow it), the last not.
  for (std::size_t i = 0; i < 3; ++i) pushes[i].sms_fallback = true;
  check_all(provider.send(pushes), PushStatus::sent);
  const auto got = emu.received();
  REQUIRE(got.size() == 2);
  REQUIRE(got[1]["body"]["messages"].size() == 1);
  CHECK(got[1]["body"]["messages"][0]["to"] == domestic(3));
  CHECK(got[1]["body"]["messages"][0]["useSmsFailover"] == false);
  CHECK_FALSE(got[1]["body"]["messages"][0].contains("failoverConfig"));
  CHECK(got[0]["kind"] == "alimtalk");
  CHECK(got[0]["service"] == alimtalk_service);
  const auto& body = got[0]["body"];
  CHECK(body["plusFriendId"] == "@family");
  CHECK(body["templateCode"] == "PHOTO01");
  REQUIRE(body["messages"].size() == 3);
  const auto& first = body["messages"][0];
  CHECK(first["to"] == domestic(0));
  CHECK(first["countryCode"] == "82");
  CHECK(first["content"] == "새 사진\n아빠가 사진을 올렸어요.");
  CHECK(first["useSmsFailover"] == true);
  CHECK(first["failoverConfig"] ==
        nlohmann::json{{"type", "SMS"}, {"from", "0212345678"}, {"content", "새 사진\n아빠가 사진을 올렸어요."}});
}

TEST_CASE("a type without an AlimTalk template fails without a call") {
  SensEmulator emu;
  auto provider = make(options_for(emu));
  const Message m = message("t", "b", notify::NotificationType::EMOTION_POKE);
  const auto pushes = pushes_to(m, 2, PushService::alimtalk);
  const auto results = provider.send(pushes);
  check_all(results, PushStatus::failed);
  CHECK(results[0].detail == "no AlimTalk template for EMOTION_POKE");
  CHECK(emu.received().empty());
}

TEST_CASE("a wrong secret key is fatal, and no further call is made in that send") {
  SensEmulator emu;
  auto o = options_for(emu);
  o.secret_key_file.clear();
  o.secret_key = "not-the-secret";
  auto provider = make(o);
  const Message m = message("t", "b");
  const auto pushes = pushes_to(m, 150, PushService::sms);
  const auto results = provider.send(pushes);
  check_all(results, PushStatus::fatal);
  const auto got = emu.received();
  REQUIRE(got.size() == 1);
  CHECK(got[0]["status"] == 401);
  CHECK(got[0]["error"] == "signature mismatch");
}

TEST_CASE("429 is an outage retry for the provider, after Retry-After") {
  SensEmulator emu;
  auto provider = make(options_for(emu));
  emu.fault(429, "7");
  const Message m = message("t", "b");
  const auto pushes = pushes_to(m, 120, PushService::sms);
  const auto results = provider.send(pushes);
  for (const PushResult& r : results) {
    CHECK(r.status == PushStatus::retry);
    CHECK(r.outage);
    CHECK(r.scope == RetryScope::provider);
    CHECK(r.retry_after == 7s);
  }
  CHECK(emu.received().size() == 1);  // the second call of 20 is not made
}

TEST_CASE("500 is an outage retry, and once SENS recovers the next send goes through") {
  SensEmulator emu;
  auto provider = make(options_for(emu));
  emu.fault(500, {}, 1);
  const Message m = message("t", "b");
  const auto pushes = pushes_to(m, 2, PushService::sms);
  auto results = provider.send(pushes);
  for (const PushResult& r : results) {
    CHECK(r.status == PushStatus::retry);
    CHECK(r.outage);
  }
  results = provider.send(pushes);
  check_all(results, PushStatus::sent);
}

TEST_CASE("a number SENS calls invalid is told apart from the others of its call") {
  SensEmulator emu;
  auto provider = make(options_for(emu));
  emu.invalid({domestic(1)});
  const Message m = message("t", "b");
  const auto pushes = pushes_to(m, 3, PushService::sms);
  const auto results = provider.send(pushes);
  REQUIRE(results.size() == 3);
  CHECK(results[0].status == PushStatus::sent);
  CHECK(results[1].status == PushStatus::invalid_token);
  CHECK(results[1].detail.find("010****0001") != std::string::npos);
  CHECK(results[1].detail.find(domestic(1)) == std::string::npos);
  CHECK(results[2].status == PushStatus::sent);
  CHECK(provider.stats().calls == 2);
  CHECK(provider.stats().resent_calls == 1);
  const auto got = emu.received();
  REQUIRE(got.size() == 2);
  CHECK(got[1]["body"]["messages"] == nlohmann::json::array({{{"to", domestic(0)}}, {{"to", domestic(2)}}}));
}

TEST_CASE("a payload SENS refuses fails every push of the call") {
  SensEmulator emu;
  auto provider = make(options_for(emu));
  emu.fault(400, {}, 1);
  const Message m = message("t", "b");
  const auto pushes = pushes_to(m, 3, PushService::sms);
  const auto results = provider.send(pushes);
  check_all(results, PushStatus::failed);
  CHECK(provider.stats().calls == 1);  // the error names no recipient: nothing to send again
}

TEST_CASE("a call whose every recipient is invalid is not made again") {
  SensEmulator emu;
  auto provider = make(options_for(emu));
  emu.invalid({domestic(0), domestic(1)});
  const Message m = message("t", "b");
  const auto pushes = pushes_to(m, 2, PushService::sms);
  const auto results = provider.send(pushes);
  REQUIRE(results.size() == 2);
  CHECK(results[0].status == PushStatus::invalid_token);
  // The emulator names the first invalid number only: the second call finds the other.
  CHECK(results[1].status == PushStatus::invalid_token);
  CHECK(provider.stats().calls == 2);
}

TEST_CASE("an emulator that is gone is an outage retry") {
  SensEmulator emu;
  auto provider = make(options_for(emu));
  const Message m = message("t", "b");
  const auto pushes = pushes_to(m, 2, PushService::sms);
  check_all(provider.send(pushes), PushStatus::sent);
  emu.kill();
  const auto results = provider.send(pushes);
  for (const PushResult& r : results) {
    CAPTURE(r.detail);
    CHECK(r.status == PushStatus::retry);
    CHECK(r.outage);
    CHECK(r.scope == RetryScope::provider);
  }
}

TEST_CASE("a server certificate the CA file does not vouch for is fatal") {
  SensEmulator emu;
  auto o = options_for(emu);
  o.ca_file = "/etc/ssl/certs/ca-certificates.crt";  // the system's CAs do not know the test CA
  auto provider = make(o);
  const Message m = message("t", "b");
  const auto pushes = pushes_to(m, 1, PushService::sms);
  const auto results = provider.send(pushes);
  check_all(results, PushStatus::fatal);
}

namespace {

/// A hand-made send call, signed like the provider signs: for checking the emulator's rules.
long raw_send(SensEmulator& emu, const std::string& path, const std::string& body) {
  const std::string ts = std::to_string(notify::unix_now_ms());
  const std::string sig = notify::sens::signature_v2("POST", path, ts, emu.access_key(), emu.secret_key());
  long status = 0;
  notify::test::http_call(emu.url() + path,
                          notify::test::HttpCall{"POST", body,
                                                 {"Content-Type: application/json", "x-ncp-apigw-timestamp: " + ts,
                                                  "x-ncp-iam-access-key: " + emu.access_key(),
                                                  "x-ncp-apigw-signature-v2: " + sig},
                                                 CURL_HTTP_VERSION_1_1, emu.ca_file(), &status});
  return status;
}

std::string sms_json(const std::string& type, const std::string& content, int recipients = 1) {
  nlohmann::json j{{"type", type}, {"contentType", "COMM"}, {"countryCode", "82"}, {"from", "0212345678"}, {"content", content}};
  for (int i = 0; i < recipients; ++i) j["messages"].push_back({{"to", domestic(i)}});
  return j.dump();
}

}  // namespace

TEST_CASE("the emulator enforces SENS's byte and count rules on its own") {
  SensEmulator emu;
  const std::string path = notify::sens::sms_path(sms_service);
  std::string ninety = std::string(88, 'a') + "가";
  CHECK(raw_send(emu, path, sms_json("SMS", ninety)) == 202);
  CHECK(raw_send(emu, path, sms_json("SMS", "a" + ninety)) == 400);  // 91 bytes
  CHECK(raw_send(emu, path, sms_json("LMS", "a" + ninety)) == 202);
  CHECK(raw_send(emu, path, sms_json("SMS", "똠")) == 400);           // no EUC-KR form
  CHECK(raw_send(emu, path, sms_json("SMS", "hi", 101)) == 400);
  CHECK(raw_send(emu, path, sms_json("SMS", "hi", 100)) == 202);
  std::string lms(2000, 'x');
  CHECK(raw_send(emu, path, sms_json("LMS", lms)) == 202);
  CHECK(raw_send(emu, path, sms_json("LMS", lms + "x")) == 400);
  const auto got = emu.received();
  REQUIRE(got.size() == 8);
  CHECK(got[1]["error"] == "content: 91 bytes, over 90 for SMS");
}

TEST_CASE("the emulator refuses a timestamp over 5 minutes old even when it is signed") {
  SensEmulator emu;
  const std::string path = notify::sens::sms_path(sms_service);
  const std::string ts = std::to_string(notify::unix_now_ms() - 6 * 60 * 1000);
  const std::string sig = notify::sens::signature_v2("POST", path, ts, emu.access_key(), emu.secret_key());
  long status = 0;
  notify::test::http_call(emu.url() + path,
                          notify::test::HttpCall{"POST", sms_json("SMS", "hi"),
                                                 {"Content-Type: application/json", "x-ncp-apigw-timestamp: " + ts,
                                                  "x-ncp-iam-access-key: " + emu.access_key(),
                                                  "x-ncp-apigw-signature-v2: " + sig},
                                                 CURL_HTTP_VERSION_1_1, emu.ca_file(), &status});
  CHECK(status == 401);
  CHECK(emu.received()[0]["error"] == "timestamp out of range");
}

TEST_CASE("connect opens the connection, and tells a wrong CA from an unreachable SENS") {
  SensEmulator emu;
  auto provider = make(options_for(emu));
  CHECK(provider.connect());
  CHECK(provider.stats().calls == 0);
  const Message m = message("t", "b");
  const auto pushes = pushes_to(m, 1, PushService::sms);
  check_all(provider.send(pushes), PushStatus::sent);

  auto o = options_for(emu);
  o.ca_file = "/etc/ssl/certs/ca-certificates.crt";
  auto untrusted = make(o);
  auto r = untrusted.connect();
  REQUIRE_FALSE(r);
  CHECK(r.error().code == notify::Errc::configuration);

  emu.kill();
  auto gone = make(options_for(emu));
  r = gone.connect();
  REQUIRE_FALSE(r);
  CHECK(r.error().code == notify::Errc::unavailable);
}
