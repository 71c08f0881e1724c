// SPDX-License-Identifier: MIT
// The provider as an AsyncPushProvider: submit() pushes one at a time under tags, poll()
// for their answers, against the FCM emulator.
#include <ctime>
#include <map>
#include <optional>
#include <thread>

#include "common.hpp"

using namespace fcmtest;
using namespace std::chrono_literals;
using notify::PushDone;
using notify::PushStatus;
using notify::RetryScope;

namespace {

using Clock = std::chrono::steady_clock;

/// Polls until nothing is in flight (or 30 s passed); returns every answer.
std::vector<PushDone> drain(notify::fcm::PushProvider& provider) {
  std::vector<PushDone> out;
  const auto give_up = Clock::now() + 30s;
  while (provider.in_flight() > 0 && Clock::now() < give_up) provider.poll(1s, out);
  CHECK(provider.in_flight() == 0);
  return out;
}

/// The answers by tag; each tag must come back once.
std::map<std::uint64_t, notify::PushResult> by_tag(const std::vector<PushDone>& done) {
  std::map<std::uint64_t, notify::PushResult> out;
  for (const PushDone& d : done) {
    CAPTURE(d.tag);
    CHECK(out.emplace(d.tag, d.result).second);
  }
  return out;
}

/// A message whose title and body say `text`.
notify::Message message_saying(const std::string& text) {
  notify::Message m = message_to({});
  m.title = text;
  m.body = text + " body";
  return m;
}

}  // namespace

TEST_CASE("every submitted push is answered exactly once under its tag, with its own result") {
  FcmEmulator emu(EmulatorOptions{.latency_ms = 5});
  emu.faults({{{"match", "^dead-"}, {"action", "unregistered"}}, {{"match", "^bad-"}, {"action", "invalid_argument"}}});
  auto provider = provider_for(emu);
  std::vector<std::string> toks = tokens("tok-", 150);
  for (const std::string& t : tokens("dead-", 20)) toks.push_back(t);
  for (const std::string& t : tokens("bad-", 10)) toks.push_back(t);
  const notify::Message m = message_to(views(toks));
  for (std::size_t i = 0; i < toks.size(); ++i) provider.submit({&m, toks[i]}, 1000 + i);
  provider.submit({&m, ""}, 7);  // no token: answered at once, never sent
  CHECK(provider.in_flight() == toks.size() + 1);

  const auto answers = by_tag(drain(provider));
  REQUIRE(answers.size() == toks.size() + 1);
  CHECK(answers.at(7).status == PushStatus::sent);
  CHECK(answers.at(7).detail == "skipped: no token");
  for (std::size_t i = 0; i < toks.size(); ++i) {
    CAPTURE(toks[i]);
    const auto& r = answers.at(1000 + i);
    const PushStatus expected = toks[i].rfind("dead-", 0) == 0  ? PushStatus::invalid_token
                                : toks[i].rfind("bad-", 0) == 0 ? PushStatus::failed
                                                                : PushStatus::sent;
    CHECK(r.status == expected);
    if (expected == PushStatus::sent) CHECK(r.detail.rfind("projects/notify-test/messages/", 0) == 0);
  }
  CHECK(emu.stats()["requests"] == toks.size());
  CHECK(provider.stats().requests == toks.size());
  CHECK(provider.stats().token_requests == 1);
}

TEST_CASE("pushes submitted while others are in flight share the warm connections") {
  FcmEmulator emu(EmulatorOptions{.tls = true, .latency_ms = 150});
  auto o = options_for(emu);
  o.connections = 2;
  o.streams_per_connection = 50;
  auto provider = provider_for(emu, o);
  // Warm up: more pushes than one connection carries opens both.
  const auto warm = tokens("warm-", 60);
  const notify::Message w = message_to(views(warm));
  CHECK(count(provider.send(pushes_of({w})), PushStatus::sent) == 60);
  const int sessions_before = emu.stats()["sessions_opened"].get<int>();
  emu.reset();  // the concurrency peaks from here on

  const auto first = tokens("first-", 20);
  const auto second = tokens("second-", 20);
  const notify::Message a = message_to(views(first));
  const notify::Message b = message_to(views(second));
  std::vector<PushDone> out;
  for (std::size_t i = 0; i < first.size(); ++i) provider.submit({&a, first[i]}, i);
  provider.poll(0ms, out);  // starts them; their answers take 150 ms
  CHECK(out.empty());
  CHECK(provider.in_flight() == 20);
  for (std::size_t i = 0; i < second.size(); ++i) provider.submit({&b, second[i]}, 100 + i);
  for (const PushDone& d : drain(provider)) out.push_back(d);
  const auto answers = by_tag(out);
  REQUIRE(answers.size() == 40);
  for (const auto& [tag, r] : answers) CHECK(r.status == PushStatus::sent);

  CHECK(provider.stats().requests == 60 + 40);
  const auto stats = emu.stats();
  CHECK(stats["requests"] == 40);
  CHECK(stats["max_concurrent_streams"].get<int>() > 20);  // the second pushes joined the first
  // No connection was added for them: the sessions opened since the warm-up are the two
  // control calls' own (reset, stats).
  CHECK(stats["sessions_opened"].get<int>() == 1);
  CHECK(sessions_before >= 2);
}

TEST_CASE("a message freed after its answer and another made at its address is rendered afresh") {
  FcmEmulator emu;
  auto provider = provider_for(emu);
  std::optional<notify::Message> storage;
  storage.emplace(message_saying("first text"));
  const notify::Message* first = &*storage;
  provider.submit({first, "tok-1"}, 1);
  provider.submit({first, "tok-2"}, 2);
  CHECK(by_tag(drain(provider)).size() == 2);

  storage.reset();
  storage.emplace(message_saying("second text"));
  REQUIRE(&*storage == first);  // the same address, a different message
  provider.submit({&*storage, "tok-3"}, 3);
  const auto answers = by_tag(drain(provider));
  REQUIRE(answers.size() == 1);
  CHECK(answers.at(3).status == PushStatus::sent);

  const auto bodies = emu.bodies_for("tok-3");
  REQUIRE(bodies.size() == 1);
  CHECK(bodies[0].find("second text") != std::string::npos);
  CHECK(bodies[0].find("first text") == std::string::npos);
  CHECK(emu.bodies_for("tok-1")[0].find("first text") != std::string::npos);
}

TEST_CASE("throttling and FCM's failures come back as outage retries with their scope and Retry-After") {
  FcmEmulator emu;
  emu.faults({
      {{"match", "^quota"}, {"action", "quota"}, {"retry_after", 7}},
      {{"match", "^quietquota"}, {"action", "quota"}},
      {{"match", "^projectquota"}, {"action", "project_quota"}, {"retry_after", 30}},
      {{"match", "^unavailable"}, {"action", "unavailable"}, {"retry_after", 3}},
      {{"match", "^internal"}, {"action", "internal"}},
  });
  auto provider = provider_for(emu);
  const std::vector<std::string> toks = {"quota-1", "quietquota-1", "projectquota-1", "unavailable-1", "internal-1", "ok-1"};
  const notify::Message m = message_to(views(toks));
  for (std::size_t i = 0; i < toks.size(); ++i) provider.submit({&m, toks[i]}, i);
  const auto answers = by_tag(drain(provider));
  REQUIRE(answers.size() == toks.size());
  struct Row {
    PushStatus status;
    std::chrono::milliseconds retry_after;
    bool outage;
    RetryScope scope;
  };
  const Row rows[] = {
      {PushStatus::retry, 7s, true, RetryScope::token},
      {PushStatus::retry, 60s, true, RetryScope::token},
      {PushStatus::retry, 30s, true, RetryScope::provider},
      {PushStatus::retry, 3s, true, RetryScope::provider},
      {PushStatus::retry, 0s, true, RetryScope::provider},
      {PushStatus::sent, 0s, false, RetryScope::push},
  };
  for (std::size_t i = 0; i < toks.size(); ++i) {
    CAPTURE(toks[i]);
    const auto& r = answers.at(i);
    CHECK(r.status == rows[i].status);
    CHECK(r.retry_after == rows[i].retry_after);
    CHECK(r.outage == rows[i].outage);
    if (r.status == PushStatus::retry) CHECK(r.scope == rows[i].scope);
  }
  // FCM's answers are final for the provider: the caller's backoff does the retrying.
  CHECK(emu.bodies_for("quota-1").size() == 1);
  CHECK(emu.bodies_for("unavailable-1").size() == 1);
}

TEST_CASE("poll returns at once with nothing in flight, and within its wait without spinning otherwise") {
  FcmEmulator emu;
  emu.faults({{{"match", "^slow"}, {"action", "ok"}, {"latency_ms", 1500}}});
  auto provider = provider_for(emu);
  std::vector<PushDone> out;

  auto t0 = Clock::now();
  provider.poll(2s, out);
  CHECK(out.empty());
  CHECK(Clock::now() - t0 < 500ms);

  const notify::Message m = message_to({"slow-1"});
  provider.submit({&m, "slow-1"}, 1);
  t0 = Clock::now();
  const std::clock_t cpu0 = std::clock();
  provider.poll(400ms, out);
  const auto waited = Clock::now() - t0;
  const double cpu_s = static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC;
  CHECK(out.empty());
  CHECK(provider.in_flight() == 1);
  CHECK(waited >= 350ms);
  CHECK(waited < 1200ms);
  CHECK(cpu_s < 0.2);  // waited in epoll, not in a loop

  out = drain(provider);
  REQUIRE(out.size() == 1);
  CHECK(out[0].tag == 1);
  CHECK(out[0].result.status == PushStatus::sent);

  t0 = Clock::now();
  provider.poll(2s, out);  // everything answered: nothing to wait for
  CHECK(Clock::now() - t0 < 500ms);
  CHECK(out.size() == 1);
}

TEST_CASE("after a fatal answer the pushes not yet started come back as outage retries, and a later submit tries again") {
  FcmEmulator emu;
  emu.faults({{{"match", "^ios"}, {"action", "third_party_auth"}, {"times", 1}}});
  auto o = options_for(emu);
  o.connections = 1;
  o.streams_per_connection = 1;  // one at a time: the order is known
  auto provider = provider_for(emu, o);
  const std::vector<std::string> toks = {"android-1", "ios-1", "android-2", "android-3"};
  const notify::Message m = message_to(views(toks));
  for (std::size_t i = 0; i < toks.size(); ++i) provider.submit({&m, toks[i]}, i);
  const auto answers = by_tag(drain(provider));
  REQUIRE(answers.size() == 4);
  CHECK(answers.at(0).status == PushStatus::sent);
  CHECK(answers.at(1).status == PushStatus::fatal);
  for (std::uint64_t i : {2, 3}) {
    CHECK(answers.at(i).status == PushStatus::retry);
    CHECK(answers.at(i).outage);
    CHECK(answers.at(i).detail.find("not sent after") != std::string::npos);
  }
  CHECK(emu.stats()["requests"] == 2);

  provider.submit({&m, "android-2"}, 9);
  const auto again = by_tag(drain(provider));
  REQUIRE(again.size() == 1);
  CHECK(again.at(9).status == PushStatus::sent);
}

TEST_CASE("send() runs beside submitted pushes and leaves their answers to poll()") {
  FcmEmulator emu(EmulatorOptions{.latency_ms = 50});
  auto provider = provider_for(emu);
  const auto async_toks = tokens("async-", 5);
  const auto sync_toks = tokens("sync-", 3);
  const notify::Message a = message_to(views(async_toks));
  const notify::Message s = message_to(views(sync_toks));
  for (std::size_t i = 0; i < async_toks.size(); ++i) provider.submit({&a, async_toks[i]}, 50 + i);
  const auto results = provider.send(pushes_of({s}));
  REQUIRE(results.size() == 3);
  CHECK(count(results, PushStatus::sent) == 3);
  const auto answers = by_tag(drain(provider));
  REQUIRE(answers.size() == 5);
  for (std::uint64_t i = 0; i < 5; ++i) CHECK(answers.at(50 + i).status == PushStatus::sent);
}

TEST_CASE("an access token that cannot be had fails the waiting pushes as outage retries of the provider") {
  FcmEmulator emu;
  auto account = account_for(emu);
  account.token_uri = "http://127.0.0.1:1/token";  // nothing listens there
  auto p = notify::fcm::PushProvider::create(std::move(account), options_for(emu));
  REQUIRE(p.has_value());
  auto& provider = *p;
  const notify::Message m = message_to({"tok-1", "tok-2"});
  provider.submit({&m, "tok-1"}, 1);
  provider.submit({&m, "tok-2"}, 2);
  const auto answers = by_tag(drain(provider));
  REQUIRE(answers.size() == 2);
  for (const auto& [tag, r] : answers) {
    CHECK(r.status == PushStatus::retry);
    CHECK(r.outage);
    CHECK(r.scope == RetryScope::provider);
  }
  CHECK(emu.stats()["requests"] == 0);
}

TEST_CASE("the one-time retries work per submitted push, round after round on reused slots") {
  FcmEmulator emu(EmulatorOptions{.latency_ms = 20});
  emu.faults({{{"match", "^reset-0$"}, {"action", "reset"}, {"times", 1}},
              {{"match", "^reset-1$"}, {"action", "reset"}, {"times", 1}},
              {{"match", "^reset-2$"}, {"action", "reset"}, {"times", 1}}});
  auto provider = provider_for(emu);
  for (int round = 0; round < 3; ++round) {
    CAPTURE(round);
    const auto toks = tokens("r" + std::to_string(round) + "-", 30);
    const std::string reset = "reset-" + std::to_string(round);
    const notify::Message m = message_to(views(toks));
    const notify::Message r = message_to({reset});
    for (std::size_t i = 0; i < 15; ++i) provider.submit({&m, toks[i]}, i);
    provider.submit({&r, reset}, 99);
    std::vector<PushDone> out;
    provider.poll(0ms, out);
    if (round == 1) emu.revoke_tokens();  // the pushes in flight and those to come get a 401
    for (std::size_t i = 15; i < toks.size(); ++i) provider.submit({&m, toks[i]}, i);
    for (const PushDone& d : drain(provider)) out.push_back(d);
    const auto answers = by_tag(out);
    REQUIRE(answers.size() == toks.size() + 1);
    for (const auto& [tag, res] : answers) {
      CAPTURE(tag);
      CAPTURE(res.detail);
      CHECK(res.status == PushStatus::sent);
    }
    CHECK(emu.bodies_for(reset).size() == 2);  // broke once, sent again at once
  }
  const auto stats = provider.stats();
  CHECK(stats.connection_retries == 3);
  CHECK(stats.token_requests == 2);  // the first, and one renewal after the revocation
  CHECK(stats.auth_retries >= 1);
}

TEST_CASE("a renewal that failed for a passing reason is tried again while pushes keep the provider busy") {
  // Tokens live 4 s and are renewed after 2 s; one push stays in flight all along, so the
  // provider is never idle (nothing would otherwise clear the failure before the expiry).
  FcmEmulator emu(EmulatorOptions{.expires_in = 4});
  emu.faults({{{"match", "^slow"}, {"action", "ok"}, {"latency_ms", 7000}}});
  auto provider = provider_for(emu);
  const notify::Message m = message_to({"slow-1", "tok-1", "tok-2"});
  const auto start = Clock::now();
  provider.submit({&m, "slow-1"}, 1);
  std::vector<PushDone> out;
  provider.poll(200ms, out);
  CHECK(provider.stats().token_requests == 1);

  emu.configure({{"token_failures", 1}});
  std::this_thread::sleep_until(start + 2300ms);
  provider.submit({&m, "tok-1"}, 2);  // due for renewal: the renewal fails, the old token still serves
  while (out.empty() && Clock::now() < start + 4s) provider.poll(100ms, out);
  REQUIRE(out.size() == 1);
  CHECK(out[0].tag == 2);
  CHECK(out[0].result.status == PushStatus::sent);
  CHECK(provider.stats().token_requests == 2);

  std::this_thread::sleep_until(start + 4500ms);  // the old token has expired
  provider.submit({&m, "tok-2"}, 3);
  out.clear();
  while (out.empty() && Clock::now() < start + 6500ms) provider.poll(100ms, out);
  REQUIRE(out.size() == 1);
  CHECK(out[0].tag == 3);
  INFO(out[0].result.detail);
  CHECK(out[0].result.status == PushStatus::sent);
  CHECK(provider.stats().token_requests == 3);
  CHECK(provider.in_flight() == 1);  // the slow push, still on its way

  out = drain(provider);
  REQUIRE(out.size() == 1);
  CHECK(out[0].result.status == PushStatus::sent);
}
