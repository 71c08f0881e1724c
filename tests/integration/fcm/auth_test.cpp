// SPDX-License-Identifier: MIT
// Access tokens against the emulator's token endpoint: caching, renewal, revocation,
// rejected credentials, an unreachable endpoint.
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "common.hpp"

using namespace fcmtest;
using notify::PushStatus;

namespace {

int status_count(const nlohmann::json& stats, const char* status) {
  return stats["by_status"].contains(status) ? stats["by_status"][status].get<int>() : 0;
}

}  // namespace

TEST_CASE("one access token is fetched with the signed assertion and reused across sends") {
  FcmEmulator emu;
  auto provider = provider_for(emu);
  const auto toks = tokens("tok-", 10);
  CHECK(count(send_to(provider, toks), PushStatus::sent) == 10);
  CHECK(count(send_to(provider, toks), PushStatus::sent) == 10);
  const auto stats = emu.stats();
  CHECK(stats["token_requests"] == 1);
  CHECK(stats["tokens_issued"] == 1);
  CHECK(status_count(stats, "401") == 0);
  CHECK(provider.stats().token_requests == 1);
}

TEST_CASE("the access token is renewed before it expires, so no push meets a 401") {
  FcmEmulator emu(EmulatorOptions{.expires_in = 2});
  auto provider = provider_for(emu);  // renews at half the lifetime: after 1 s
  const auto toks = tokens("tok-", 5);
  CHECK(count(send_to(provider, toks), PushStatus::sent) == 5);
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  CHECK(count(send_to(provider, toks), PushStatus::sent) == 5);
  // The renewal runs beside the pushes (they go with the token still valid), so a send
  // may return before it has finished: the next sends drive it to its end. Not a time
  // limit on the machine: on a loaded one it takes more sends.
  for (int i = 0; i < 200 && emu.stats()["tokens_issued"] != 2; ++i) {
    CHECK(count(send_to(provider, {toks[0]}), PushStatus::sent) == 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const auto stats = emu.stats();
  CHECK(stats["tokens_issued"] == 2);
  CHECK(status_count(stats, "401") == 0);
}

TEST_CASE("an access token that expired while the worker was idle is replaced before sending") {
  FcmEmulator emu(EmulatorOptions{.expires_in = 1});
  auto provider = provider_for(emu);
  const auto toks = tokens("tok-", 3);
  CHECK(count(send_to(provider, toks), PushStatus::sent) == 3);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  CHECK(count(send_to(provider, toks), PushStatus::sent) == 3);
  const auto stats = emu.stats();
  CHECK(stats["tokens_issued"] == 2);
  CHECK(status_count(stats, "401") == 0);
}

TEST_CASE("a revoked token is renewed once however many pushes are in flight, and each of them is re-sent once") {
  FcmEmulator emu(EmulatorOptions{.latency_ms = 20});
  auto o = options_for(emu);
  o.connections = 2;
  o.streams_per_connection = 50;
  auto provider = provider_for(emu, o);
  const auto toks = tokens("tok-", 300);
  CHECK(count(send_to(provider, toks), PushStatus::sent) == 300);
  emu.reset();
  emu.revoke_tokens();
  const auto results = send_to(provider, toks);
  CHECK(count(results, PushStatus::sent) == 300);
  const auto stats = emu.stats();
  CHECK(stats["token_requests"] == 1);
  const int rejected = status_count(stats, "401");
  CHECK(rejected >= 1);
  CHECK(rejected <= 100);  // only what was in flight with the revoked token
  CHECK(status_count(stats, "200") == 300);
  CHECK(provider.stats().auth_retries == static_cast<std::uint64_t>(rejected));
  CHECK(provider.stats().token_requests == 2);
}

TEST_CASE("credentials the token endpoint rejects are fatal for every push and nothing is sent") {
  FcmEmulator emu;
  auto account = account_for(emu);
  // Another key than the one whose public half the emulator trusts.
  std::system(("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out " + emu.dir() + "/other.key 2>/dev/null")
                  .c_str());
  std::ifstream in(emu.dir() + "/other.key");
  std::stringstream pem;
  pem << in.rdbuf();
  account.private_key = pem.str();
  auto created = notify::fcm::PushProvider::create(account, options_for(emu));
  REQUIRE(created.has_value());
  auto& provider = *created;

  const auto results = send_to(provider, tokens("tok-", 4));
  for (const auto& r : results) {
    CHECK(r.status == PushStatus::fatal);
    CHECK(r.detail.find("Invalid JWT Signature") != std::string::npos);
    CHECK(r.detail.find("PRIVATE KEY") == std::string::npos);
  }
  CHECK(emu.stats()["requests"] == 0);
  CHECK(emu.stats()["tokens_rejected"] == 1);

  const auto checked = provider.connect();
  REQUIRE_FALSE(checked.has_value());
  CHECK(checked.error().code == notify::Errc::unauthenticated);
}

TEST_CASE("connect() fetches the access token at start-up so the first push needs no round trip for it") {
  FcmEmulator emu;
  auto provider = provider_for(emu);
  REQUIRE(provider.connect().has_value());
  CHECK(emu.stats()["tokens_issued"] == 1);
  CHECK(count(send_to(provider, tokens("tok-", 2)), PushStatus::sent) == 2);
  CHECK(emu.stats()["tokens_issued"] == 1);
}

TEST_CASE("an unreachable token endpoint makes every push retryable, not fatal") {
  FcmEmulator emu;
  auto account = account_for(emu);
  account.token_uri = "http://127.0.0.1:1/token";  // nothing listens on port 1
  auto provider = notify::fcm::PushProvider::create(account, options_for(emu));
  REQUIRE(provider.has_value());
  for (const auto& r : send_to(*provider, tokens("tok-", 3))) {
    CHECK(r.status == PushStatus::retry);
    CHECK(r.detail.find("access token") != std::string::npos);
  }
  CHECK(emu.stats()["requests"] == 0);
}

TEST_CASE("no result detail ever carries the private key or the access token") {
  FcmEmulator emu;
  emu.faults({{{"match", "^bad-"}, {"action", "invalid_argument"}}, {{"match", "^gone-"}, {"action", "unregistered"}}});
  auto provider = provider_for(emu);
  std::vector<std::string> toks = {"ok-1", "bad-1", "gone-1"};
  for (const auto& r : send_to(provider, toks)) {
    CHECK(r.detail.find("ya29.") == std::string::npos);
    CHECK(r.detail.find("PRIVATE") == std::string::npos);
    CHECK(r.detail.find("Bearer") == std::string::npos);
  }
}
