// SPDX-License-Identifier: MIT
// notify::apns::PushProvider against the APNs emulator over TLS with a test CA.
#include <doctest/doctest.h>

#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "apns-emulator/emulator.hpp"
#include "notify/apns/apns.hpp"
#include "notify/catalog.hpp"
#include "notify/plan.hpp"

using namespace std::chrono_literals;
using notify::Push;
using notify::PushResult;
using notify::PushService;
using notify::PushStatus;
using notify::RetryScope;
using notify::test::ApnsEmulator;
using notify::test::ApnsEmulatorOptions;

namespace {

notify::apns::Options options_for(const ApnsEmulator& emu) {
  notify::apns::Options o;
  o.endpoint = emu.url();
  o.topic = emu.options().topic;
  if (emu.options().tls) o.ca_file = emu.ca_file();
  o.connections = 2;
  o.streams_per_connection = 50;
  o.request_timeout = 10s;
  return o;
}

notify::apns::PushProvider provider_for(const ApnsEmulator& emu, notify::apns::Options o) {
  auto c = notify::apns::read_credentials(emu.key_file(), emu.options().key_id, emu.options().team_id);
  REQUIRE(c.has_value());
  auto p = notify::apns::PushProvider::create(std::move(*c), std::move(o));
  REQUIRE_MESSAGE(p.has_value(), (p.has_value() ? "" : p.error().message));
  return std::move(*p);
}

notify::apns::PushProvider provider_for(const ApnsEmulator& emu) { return provider_for(emu, options_for(emu)); }

notify::Message story() {
  notify::Message m;
  m.title = notify::catalog::title_story;
  m.body = notify::catalog::story_arrived;
  m.link = notify::Link{notify::Screen::MessageHome};
  return m;
}

notify::Message comment() {
  notify::Message m;
  m.title = notify::catalog::title_story;
  m.body = "엄마 님이 이야기에 댓글을 작성했습니다! \"좋아요\"";
  m.link = {notify::Screen::MessageFamily, notify::LinkKey::messageId, 29001};
  return m;
}

std::vector<Push> pushes(const notify::Message& m, const std::vector<std::string>& tokens) {
  std::vector<Push> out;
  for (const auto& t : tokens) out.push_back({&m, t, PushService::apns});
  return out;
}

std::size_t count(const std::vector<PushResult>& rs, PushStatus s) {
  std::size_t n = 0;
  for (const auto& r : rs) n += r.status == s;
  return n;
}

}  // namespace

TEST_CASE("a push reaches APNs with the token in the path, the topic, type, priority, expiration, apns-id and payload") {
  ApnsEmulator emu;
  auto provider = provider_for(emu);
  const auto today = story();
  const auto reply = comment();
  const std::string t1 = "aa11bb22", t2 = "cc33dd44";
  const std::vector<Push> batch = {{&today, t1, PushService::apns}, {&reply, t2, PushService::apns}};
  const auto before = std::chrono::system_clock::now();
  const auto results = provider.send(batch);
  REQUIRE(results.size() == 2);
  CHECK(results[0].status == PushStatus::sent);
  CHECK(results[1].status == PushStatus::sent);
  const auto reqs = emu.requests();
  REQUIRE(reqs.size() == 2);
  for (const auto& r : reqs) {
    CHECK(r["status"] == 200);
    const auto& h = r["headers"];
    CHECK(h["apns-topic"] == emu.options().topic);
    CHECK(h["apns-push-type"] == "alert");
    const auto expiration = std::stoll(h["apns-expiration"].get<std::string>());
    CHECK(expiration > std::chrono::system_clock::to_time_t(before) + 24 * 3600);
    CHECK(h["apns-id"].get<std::string>().size() == 36);
    const bool is_today = r["token"] == t1;
    CHECK(h["apns-priority"] == (is_today ? "5" : "10"));
    CHECK(h.contains("apns-collapse-id") == is_today);
    const auto body = nlohmann::json::parse(r["body"].get<std::string>());
    CHECK(body["aps"]["sound"] == "default");
    if (is_today) {
      CHECK(body["aps"]["alert"]["body"] == notify::catalog::story_arrived);
      CHECK(body["screen"] == "MessageHome");
    } else {
      CHECK(body["param"] == R"({"messageId":29001})");
    }
  }
  // The sent push's detail is the apns-id APNs echoed.
  CHECK((results[0].detail == reqs[0]["headers"]["apns-id"] || results[0].detail == reqs[1]["headers"]["apns-id"]));
}

TEST_CASE("one provider token serves many requests and connections") {
  ApnsEmulator emu;
  auto provider = provider_for(emu);
  const auto m = story();
  std::vector<std::string> tokens;
  for (int i = 0; i < 300; ++i) tokens.push_back("tok" + std::to_string(i));
  const auto results = provider.send(pushes(m, tokens));
  CHECK(count(results, PushStatus::sent) == 300);
  CHECK(provider.send(pushes(m, {"again"}))[0].status == PushStatus::sent);
  const auto s = emu.stats();
  CHECK(s["tokens_seen"] == 1);
  CHECK(s["token_updates_too_soon"] == 0);
  CHECK(provider.stats().tokens_made == 1);
  CHECK(provider.stats().requests == 301);
}

TEST_CASE("every APNs error class comes back as its push outcome") {
  ApnsEmulator emu;
  const std::int64_t since = 1700000000123;
  emu.faults({{{"match", "^unregistered"}, {"action", "unregistered"}, {"timestamp_ms", since}},
              {{"match", "^expired"}, {"action", "expired_token"}, {"timestamp_ms", since}},
              {{"match", "^bad"}, {"action", "bad_device_token"}},
              {{"match", "^topic"}, {"action", "not_for_topic"}},
              {{"match", "^rate"}, {"action", "too_many_requests"}, {"retry_after", 9}},
              {{"match", "^updates"}, {"action", "too_many_token_updates"}},
              {{"match", "^internal"}, {"action", "internal"}},
              {{"match", "^unavailable"}, {"action", "unavailable"}, {"retry_after", 3}},
              {{"match", "^shutdown"}, {"action", "shutdown"}},
              {{"match", "^large"}, {"action", "payload_too_large"}}});
  auto provider = provider_for(emu);
  const auto m = comment();
  const std::vector<std::string> tokens = {"unregistered1", "expired1", "bad1", "topic1", "rate1", "updates1",
                                           "internal1", "unavailable1", "shutdown1", "large1", "fine1"};
  const auto r = provider.send(pushes(m, tokens));
  REQUIRE(r.size() == tokens.size());
  CHECK(r[0].status == PushStatus::invalid_token);
  CHECK(r[0].invalid_since_ms == since);
  CHECK(r[1].status == PushStatus::invalid_token);
  CHECK(r[1].invalid_since_ms == since);
  CHECK(r[2].status == PushStatus::invalid_token);
  CHECK(r[2].invalid_since_ms == 0);
  CHECK(r[3].status == PushStatus::invalid_token);
  CHECK(r[4].status == PushStatus::retry);
  CHECK(r[4].scope == RetryScope::token);
  CHECK(r[4].retry_after == 9s);
  CHECK(r[4].outage);
  CHECK(r[5].status == PushStatus::retry);
  CHECK(r[5].scope == RetryScope::provider);
  CHECK(r[6].status == PushStatus::retry);
  CHECK(r[6].scope == RetryScope::provider);
  CHECK(r[7].status == PushStatus::retry);
  CHECK(r[7].retry_after == 3s);
  CHECK(r[8].status == PushStatus::retry);
  CHECK(r[9].status == PushStatus::failed);
  CHECK(r[10].status == PushStatus::sent);
  for (const auto& x : r) CHECK(x.detail.find("bearer") == std::string::npos);
}

TEST_CASE("a 410 racing a fresh registration: invalid_since_ms is the time APNs gives, for the engine to compare") {
  ApnsEmulator emu;
  const std::int64_t registered_at = notify::unix_now_ms();
  // APNs saw the old token die a minute before the device registered again.
  emu.faults({{{"match", "^racy"}, {"action", "unregistered"}, {"timestamp_ms", registered_at - 60000}}});
  auto provider = provider_for(emu);
  const auto m = story();
  const auto r = provider.send(pushes(m, {"racy-token"}));
  REQUIRE(r[0].status == PushStatus::invalid_token);
  CHECK(r[0].invalid_since_ms == registered_at - 60000);
  CHECK(r[0].invalid_since_ms < registered_at);  // registered after: the engine keeps the token
}

TEST_CASE("a reset stream is sent again once on a fresh stream") {
  ApnsEmulator emu;
  emu.faults({{{"match", "^flaky"}, {"action", "reset"}, {"times", 1}}});
  auto provider = provider_for(emu);
  const auto m = story();
  const auto r = provider.send(pushes(m, {"flaky1"}));
  CHECK(r[0].status == PushStatus::sent);
  CHECK(provider.stats().connection_retries == 1);
}

TEST_CASE("an expired provider token is renewed once for all pushes in flight and they are sent") {
  ApnsEmulator emu;
  auto provider = provider_for(emu);
  const auto m = story();
  REQUIRE(provider.send(pushes(m, {"warm"}))[0].status == PushStatus::sent);
  emu.expire_tokens();
  std::vector<std::string> tokens;
  for (int i = 0; i < 40; ++i) tokens.push_back("after" + std::to_string(i));
  const auto r = provider.send(pushes(m, tokens));
  CHECK(count(r, PushStatus::sent) == 40);
  CHECK(provider.stats().tokens_made == 2);
  CHECK(provider.stats().auth_retries == 40);
  CHECK(emu.stats()["tokens_seen"] == 2);
  CHECK(emu.stats()["by_reason"]["ExpiredProviderToken"] == 40);
}

TEST_CASE("a provider token rejected again after renewal is fatal and the rest is not sent") {
  ApnsEmulator emu;
  emu.faults({{{"match", ""}, {"action", "invalid_provider_token"}}});
  auto provider = provider_for(emu);
  const auto m = story();
  const auto r = provider.send(pushes(m, {"a1", "a2", "a3"}));
  CHECK(count(r, PushStatus::fatal) >= 1);
  CHECK(count(r, PushStatus::sent) == 0);
  CHECK(provider.stats().tokens_made == 2);  // one renewal, never more
  for (const auto& x : r) {
    if (x.status != PushStatus::fatal) CHECK(x.status == PushStatus::retry);
    CHECK(x.detail.find("InvalidProviderToken") != std::string::npos);
  }
}

TEST_CASE("a key the emulator does not know is refused: fatal, after one renewal") {
  ApnsEmulator emu;
  auto o = options_for(emu);
  auto c = notify::apns::read_credentials(emu.key_file(), "OTHERKEY12", emu.options().team_id);
  REQUIRE(c.has_value());
  auto p = notify::apns::PushProvider::create(std::move(*c), o);
  REQUIRE(p.has_value());
  const auto m = story();
  const auto r = p->send(pushes(m, {"k1"}));
  CHECK(r[0].status == PushStatus::fatal);
  CHECK(p->stats().tokens_made == 2);
}

TEST_CASE("a topic APNs does not allow is fatal") {
  ApnsEmulator emu;
  auto o = options_for(emu);
  o.topic = "com.example.other";
  auto provider = provider_for(emu, o);
  const auto m = story();
  const auto r = provider.send(pushes(m, {"t1"}));
  CHECK(r[0].status == PushStatus::fatal);
  CHECK(r[0].detail == "apns: 400 TopicDisallowed");
}

TEST_CASE("a server certificate the trusted CA does not vouch for is fatal, and no push is sent") {
  ApnsEmulator emu;
  ApnsEmulator other;  // its own test CA
  auto o = options_for(emu);
  o.ca_file = other.ca_file();
  auto provider = provider_for(emu, o);
  const auto m = story();
  const auto r = provider.send(pushes(m, {"t1", "t2"}));
  CHECK(r[0].status == PushStatus::fatal);
  CHECK(r[0].detail.find("certificate verify failed") != std::string::npos);
  CHECK(emu.stats()["requests"] == 0);
}

TEST_CASE("submit and poll answer every push once, in completion order, with its tag") {
  ApnsEmulator emu;
  emu.faults({{{"match", "^dead"}, {"action", "unregistered"}}});
  auto provider = provider_for(emu);
  const auto m = story();
  std::vector<std::string> tokens;
  for (int i = 0; i < 120; ++i) tokens.push_back((i % 10 == 0 ? "dead" : "live") + std::to_string(i));
  for (std::size_t i = 0; i < tokens.size(); ++i) provider.submit({&m, tokens[i], PushService::apns}, 1000 + i);
  provider.submit({&m, "", PushService::apns}, 5);  // no token: skipped at once
  std::vector<notify::PushDone> out;
  for (int round = 0; round < 200 && out.size() < tokens.size() + 1; ++round) provider.poll(100ms, out);
  REQUIRE(out.size() == tokens.size() + 1);
  CHECK(provider.in_flight() == 0);
  std::set<std::uint64_t> tags;
  std::size_t dead = 0;
  for (const auto& d : out) {
    tags.insert(d.tag);
    if (d.tag >= 1000) CHECK(d.result.status == (tokens[d.tag - 1000].starts_with("dead") ? PushStatus::invalid_token
                                                                                          : PushStatus::sent));
    dead += d.result.status == PushStatus::invalid_token;
  }
  CHECK(tags.size() == tokens.size() + 1);
  CHECK(dead == 12);
}

TEST_CASE("the endpoint is production, sandbox or a URL, and a topic is required") {
  CHECK(*notify::apns::resolve_endpoint("production") == "https://api.push.apple.com");
  CHECK(*notify::apns::resolve_endpoint("sandbox") == "https://api.sandbox.push.apple.com");
  CHECK(*notify::apns::resolve_endpoint("http://127.0.0.1:1") == "http://127.0.0.1:1");
  CHECK_FALSE(notify::apns::resolve_endpoint("apple").has_value());
  ApnsEmulator emu;
  auto o = options_for(emu);
  o.topic.clear();
  auto c = notify::apns::read_credentials(emu.key_file(), "K", "T");
  REQUIRE(c.has_value());
  auto p = notify::apns::PushProvider::create(std::move(*c), o);
  REQUIRE_FALSE(p.has_value());
  CHECK(p.error().path == "topic");
}

TEST_CASE("a second expiry within 20 minutes of a renewal is not renewed again: fatal, never a token storm") {
  ApnsEmulator emu;
  auto provider = provider_for(emu);
  const auto m = story();
  REQUIRE(provider.send(pushes(m, {"warm"}))[0].status == PushStatus::sent);
  emu.expire_tokens();
  REQUIRE(provider.send(pushes(m, {"once"}))[0].status == PushStatus::sent);  // renewed
  REQUIRE(provider.stats().tokens_made == 2);
  emu.expire_tokens();
  const auto r = provider.send(pushes(m, {"twice"}));
  CHECK(r[0].status == PushStatus::fatal);
  CHECK(r[0].detail == "apns: 403 ExpiredProviderToken");
  CHECK(provider.stats().tokens_made == 2);
  CHECK(emu.stats()["tokens_seen"] == 2);
}

TEST_CASE("a message too long for APNs is shortened on a code point and accepted, never answered 413") {
  ApnsEmulator emu;
  auto provider = provider_for(emu);
  notify::Message m;
  m.title = notify::catalog::title_story;
  m.body = "엄마 님이 이야기에 댓글을 작성했습니다! \"";
  for (int i = 0; i < 3000; ++i) m.body += "가";
  m.body += "\"";
  m.link = {notify::Screen::MessageFamily, notify::LinkKey::messageId, 29001};
  const auto r = provider.send(pushes(m, {"long1"}));
  CHECK(r[0].status == PushStatus::sent);
  const auto reqs = emu.requests();
  REQUIRE(reqs.size() == 1);
  const std::string body = reqs[0]["body"];
  CHECK(body.size() <= notify::apns::max_payload_bytes);
  const auto alert = nlohmann::json::parse(body)["aps"]["alert"]["body"].get<std::string>();
  CHECK(alert.ends_with("...\""));
}
