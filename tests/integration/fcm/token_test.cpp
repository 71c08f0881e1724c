// SPDX-License-Identifier: MIT
// The token request itself and the token endpoint's failures, with either client (the
// nghttp2 one fetches tokens through notify::http2, the curl one through libcurl).
#include <thread>

#include "common.hpp"

using namespace fcmtest;
using namespace std::chrono_literals;
using notify::PushStatus;

TEST_CASE("the token request is a form POST without an authorization header, and its token serves the pushes") {
  FcmEmulator emu;
  auto provider = provider_for(emu);
  REQUIRE(provider.connect().has_value());
  CHECK(count(send_to(provider, tokens("tok-", 4)), PushStatus::sent) == 4);
  const auto stats = emu.stats();
  CHECK(stats["token_requests"] == 1);
  CHECK(stats["tokens_issued"] == 1);  // the emulator rejects any other content type
  CHECK(stats["token_requests_with_authorization"] == 0);
  CHECK(provider.stats().token_requests == 1);
}

TEST_CASE("a token endpoint answering 503 makes the waiting pushes outage retries, and the next send gets a token") {
  FcmEmulator emu;
  emu.configure({{"token_failures", 1}});
  auto provider = provider_for(emu);
  for (const auto& r : send_to(provider, tokens("tok-", 3))) {
    CHECK(r.status == PushStatus::retry);
    CHECK(r.outage);
    CHECK(r.scope == notify::RetryScope::provider);
    CHECK(r.detail.find("access token: HTTP 503") != std::string::npos);
  }
  CHECK(emu.stats()["requests"] == 0);
  CHECK(count(send_to(provider, tokens("tok-", 3)), PushStatus::sent) == 3);
  const auto stats = emu.stats();
  CHECK(stats["token_requests"] == 2);
  CHECK(stats["tokens_issued"] == 1);
  CHECK(provider.stats().token_requests == 2);
}

TEST_CASE("a token endpoint that is down makes the pushes retry, and once it is back the next send gets a token") {
  FcmEmulator emu;
  auto provider = provider_for(emu);
  emu.outage(1000);
  std::this_thread::sleep_for(100ms);  // the emulator goes down once the control call's connection closed
  for (const auto& r : send_to(provider, tokens("tok-", 3))) {
    CHECK(r.status == PushStatus::retry);
    CHECK(r.detail.find("access token") != std::string::npos);
  }
  std::this_thread::sleep_for(1300ms);
  CHECK(count(send_to(provider, tokens("tok-", 3)), PushStatus::sent) == 3);
  CHECK(emu.stats()["tokens_issued"] == 1);
}

TEST_CASE("the access token is fetched over TLS from an https:// token endpoint and renewed there") {
  FcmEmulator emu(EmulatorOptions{.tls = true, .expires_in = 2});
  auto provider = provider_for(emu);  // renews after 1 s
  CHECK(count(send_to(provider, tokens("tok-", 3)), PushStatus::sent) == 3);
  std::this_thread::sleep_for(1200ms);
  for (int i = 0; i < 200 && emu.stats()["tokens_issued"] != 2; ++i) {
    CHECK(count(send_to(provider, tokens("tok-", 1)), PushStatus::sent) == 1);
    std::this_thread::sleep_for(10ms);
  }
  CHECK(emu.stats()["tokens_issued"] == 2);
  CHECK(provider.stats().token_requests == 2);
}
