// SPDX-License-Identifier: MIT
// HTTP/2 over TLS and cleartext: multiplexing within the configured caps, warm connections,
// certificate verification, the dry-run mode.
#include "common.hpp"

using namespace fcmtest;
using notify::PushStatus;

TEST_CASE("pushes go over TLS verified against the test CA, multiplexed within the configured streams and connections") {
  FcmEmulator emu(EmulatorOptions{.tls = true, .latency_ms = 50});
  auto o = options_for(emu);
  o.connections = 2;
  o.streams_per_connection = 8;
  auto provider = provider_for(emu, o);
  const auto results = send_to(provider, tokens("tok-", 200));
  CHECK(count(results, PushStatus::sent) == 200);
  const auto stats = emu.stats();
  CHECK(stats["max_concurrent_streams"].get<int>() <= 16);
  CHECK(stats["max_streams_per_session"].get<int>() <= 8);
  CHECK(stats["max_streams_per_session"].get<int>() > 1);  // really multiplexed
  CHECK(stats["max_concurrent_streams"].get<int>() > 8);   // really on two connections
}

TEST_CASE("the server's own stream limit is respected too") {
  FcmEmulator emu(EmulatorOptions{.tls = true, .latency_ms = 30, .max_concurrent_streams = 4});
  auto o = options_for(emu);
  o.connections = 1;
  o.streams_per_connection = 100;
  auto provider = provider_for(emu, o);
  CHECK(count(send_to(provider, tokens("tok-", 60)), PushStatus::sent) == 60);
  CHECK(emu.stats()["max_streams_per_session"].get<int>() <= 4);
}

TEST_CASE("connections stay warm across send() calls") {
  FcmEmulator emu(EmulatorOptions{.tls = true});
  auto provider = provider_for(emu);
  CHECK(count(send_to(provider, tokens("a-", 50)), PushStatus::sent) == 50);
  const int before = emu.stats()["sessions_opened"].get<int>();
  CHECK(count(send_to(provider, tokens("b-", 50)), PushStatus::sent) == 50);
  CHECK(emu.stats()["sessions_opened"].get<int>() == before + 1);  // only the stats call's own
}

TEST_CASE("pushes go over cleartext HTTP/2 to an http:// endpoint, within the configured cap") {
  FcmEmulator emu(EmulatorOptions{.latency_ms = 20});
  auto o = options_for(emu);
  o.connections = 2;
  o.streams_per_connection = 5;
  auto provider = provider_for(emu, o);
  CHECK(count(send_to(provider, tokens("tok-", 60)), PushStatus::sent) == 60);
  CHECK(emu.stats()["max_concurrent_streams"].get<int>() <= 10);
}

TEST_CASE("a server certificate the trusted CAs do not vouch for is fatal, and no push is sent") {
  FcmEmulator emu(EmulatorOptions{.tls = true});
  auto o = options_for(emu);
  o.ca_file.clear();  // the system's CAs do not know the test CA
  auto provider = provider_for(emu, o);
  for (const auto& r : send_to(provider, tokens("tok-", 3))) {
    CHECK(r.status == PushStatus::fatal);
    CHECK(r.detail.find("TLS") != std::string::npos);
  }
  CHECK(emu.stats()["requests"] == 0);
}

TEST_CASE("validate_only asks FCM for a dry run and reports its fake message name") {
  FcmEmulator emu;
  auto o = options_for(emu);
  o.validate_only = true;
  auto provider = provider_for(emu, o);
  const auto results = send_to(provider, tokens("tok-", 2));
  for (const auto& r : results) {
    CHECK(r.status == PushStatus::sent);
    CHECK(r.detail == "projects/notify-test/messages/fake_message_id");
  }
  for (const auto& r : emu.requests()) CHECK(r["validate_only"] == true);
}

TEST_CASE("pushes without a token are skipped as sent and never reach FCM") {
  FcmEmulator emu;
  auto provider = provider_for(emu);
  const notify::Message m = message_to({"tok-1"});
  const std::vector<notify::Push> pushes{{&m, ""}, {&m, "tok-1"}, {nullptr, "tok-2"}};
  const auto results = provider.send(pushes);
  REQUIRE(results.size() == 3);
  CHECK(results[0].status == PushStatus::sent);
  CHECK(results[2].status == PushStatus::sent);
  CHECK(results[1].detail.rfind("projects/", 0) == 0);
  CHECK(emu.stats()["requests"] == 1);
  CHECK(provider.send({}).empty());
}
