// SPDX-License-Identifier: MIT
#include "helpers.hpp"

using namespace notify;
using namespace std::chrono_literals;
using notify::test::RedisServer;

TEST_CASE("delivery markers are checked and written in one round trip each, with a TTL") {
  RedisServer server;
  redis::IdempotencyStore ledger(notify::test::options_for(server));
  std::vector<std::string> keys;
  for (int i = 0; i < 50; ++i) keys.push_back("req-1:" + std::to_string(i));

  auto seen = ledger.seen(keys);
  REQUIRE(seen.has_value());
  CHECK(std::count(seen->begin(), seen->end(), true) == 0);
  CHECK(ledger.round_trips() == 1);

  const std::vector<std::string> sent(keys.begin(), keys.begin() + 20);
  REQUIRE(ledger.remember(sent, std::chrono::seconds(3600)).has_value());
  CHECK(ledger.round_trips() == 2);

  seen = ledger.seen(keys);
  REQUIRE(seen.has_value());
  CHECK(ledger.round_trips() == 3);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    CAPTURE(i);
    CHECK((*seen)[i] == (i < 20));
  }

  redis::Connection raw(notify::test::options_for(server));
  auto ttl = raw.command({"PTTL", "notify:sent:req-1:0"});
  REQUIRE(ttl.has_value());
  CHECK(ttl->integer > 0);
  CHECK(ttl->integer <= 3600 * 1000);
  CHECK(raw.command({"EXISTS", "notify:sent:req-1:30"})->integer == 0);
}

TEST_CASE("the idempotency key prefix is configurable and markers expire") {
  RedisServer server;
  redis::IdempotencyStore ledger(notify::test::options_for(server), "test:done:");
  const std::vector<std::string> keys = {"a", "b"};
  REQUIRE(ledger.remember(keys, std::chrono::seconds(1)).has_value());
  redis::Connection raw(notify::test::options_for(server));
  CHECK(raw.command({"EXISTS", "test:done:a", "test:done:b"})->integer == 2);

  // Expiry is Redis's job; PEXPIRE stands in for waiting a second.
  REQUIRE(raw.command({"PEXPIRE", "test:done:a", "1"}).has_value());
  std::this_thread::sleep_for(20ms);
  auto seen = ledger.seen(keys);
  REQUIRE(seen.has_value());
  CHECK((*seen == std::vector<bool>{false, true}));

  CHECK(ledger.remember(keys, std::chrono::seconds(0)).error().code == Errc::invalid_value);
  CHECK(ledger.seen({})->empty());
  CHECK(ledger.remember({}, std::chrono::seconds(5)).has_value());
}

TEST_CASE("the idempotency store reports a stopped server as a transient error") {
  auto server = std::make_unique<RedisServer>();
  redis::IdempotencyStore ledger(notify::test::options_for(*server));
  const std::vector<std::string> keys = {"a"};
  REQUIRE(ledger.seen(keys).has_value());
  server.reset();
  auto seen = ledger.seen(keys);
  REQUIRE_FALSE(seen.has_value());
  CHECK(is_transient(seen.error().code));
  auto remembered = ledger.remember(keys, std::chrono::seconds(5));
  REQUIRE_FALSE(remembered.has_value());
  CHECK(is_transient(remembered.error().code));
}
