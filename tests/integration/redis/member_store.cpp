// SPDX-License-Identifier: MIT
#include <algorithm>

#include "helpers.hpp"

using namespace notify;
using notify::test::RedisServer;

namespace {

Member member(Id id, std::string name, std::string token, bool agreed = false) {
  return notify::member_v1(id, std::move(name), std::move(token), agreed);
}

}  // namespace

TEST_CASE("families() reads a batch of 100 families in one round trip, one HGETALL each") {
  RedisServer server;
  redis::MemberStore store(notify::test::options_for(server));
  std::vector<Id> ids;
  for (Id f = 1; f <= 100; ++f) {
    ids.push_back(f);
    for (Id u = 1; u <= 4; ++u)
      REQUIRE(store.set_member(f, member(f * 10 + u, "m" + std::to_string(u), "tok-" + std::to_string(f * 10 + u)))
                  .has_value());
  }
  ids.push_back(5000);  // no such family

  redis::Connection stats(notify::test::options_for(server));
  // The server's count of socket reads tells pipelined traffic from one command per read.
  const auto reads_idle = notify::test::info_number(stats, "stats", "total_reads_processed");
  const auto reads_baseline = notify::test::info_number(stats, "stats", "total_reads_processed");
  const auto info_overhead = reads_baseline - reads_idle;  // the INFO itself
  const auto hgetall_before = notify::test::command_calls(stats, "hgetall");
  const auto round_trips_before = store.round_trips();
  const auto reads_before = notify::test::info_number(stats, "stats", "total_reads_processed");

  auto lookup = store.families(ids);

  const auto reads_after = notify::test::info_number(stats, "stats", "total_reads_processed");
  REQUIRE(lookup.has_value());
  CHECK(store.round_trips() - round_trips_before == 1);
  CHECK(notify::test::command_calls(stats, "hgetall") - hgetall_before == 101);
  // 101 commands arrived in a handful of reads (one, unless the kernel split the write).
  CHECK(reads_after - reads_before - info_overhead <= 3);
  CHECK(lookup->families.size() == 100);
  CHECK(lookup->problems.empty());
  const Family* f7 = lookup->families.find(7);
  REQUIRE(f7 != nullptr);
  REQUIRE(f7->members.size() == 4);
  CHECK(f7->members[0] == member(71, "m1", "tok-71"));
  CHECK(lookup->families.find(5000) == nullptr);
}

TEST_CASE("malformed stored values are reported per member and skipped, never failing the batch") {
  RedisServer server;
  redis::MemberStore store(notify::test::options_for(server));
  REQUIRE(store.set_member(1, member(1, "엄마", "t1", true)).has_value());
  REQUIRE(store.put_raw(1, "user:2", "{not json").has_value());
  REQUIRE(store.put_raw(1, "user:3", R"({"fcmToken":"t3"})").has_value());                      // no userName
  REQUIRE(store.put_raw(1, "user:4", R"({"userName":7,"fcmToken":"t4"})").has_value());         // wrong type
  REQUIRE(store.put_raw(1, "user:5", R"({"userName":"아빠","fcmToken":"t5","mktPushAreed":true})").has_value());
  REQUIRE(store.put_raw(1, "admin", R"({"userName":"x"})").has_value());                         // not user:<id>
  REQUIRE(store.put_raw(1, "user:6", R"({"userName":"삼촌","fcmToken":null})").has_value());
  redis::Connection raw(notify::test::options_for(server));
  REQUIRE(raw.command({"SET", "family:2", "not a hash"}).has_value());  // WRONGTYPE for this family only
  REQUIRE(store.set_member(3, member(9, "할머니", "t9")).has_value());

  const Id ids[] = {1, 2, 3};
  auto lookup = store.families(ids);
  REQUIRE(lookup.has_value());

  const Family* f1 = lookup->families.find(1);
  REQUIRE(f1 != nullptr);
  std::vector<Id> users;
  for (const Member& m : f1->members) users.push_back(m.userId);
  CHECK(users == std::vector<Id>{1, 5, 6});
  CHECK(f1->find(5)->mktPushAgreed);  // the legacy spelling is read
  CHECK(f1->find(6)->fcm_token().empty());
  CHECK(lookup->families.find(2) == nullptr);
  CHECK(lookup->families.find(3) != nullptr);

  std::vector<std::string> paths;
  for (const Error& e : lookup->problems) {
    CHECK(e.code == Errc::invalid_member);
    CHECK_FALSE(e.message.empty());
    paths.push_back(e.path);
  }
  std::sort(paths.begin(), paths.end());
  CHECK(paths == std::vector<std::string>{"family:1.admin", "family:1.user:2", "family:1.user:3", "family:1.user:4",
                                          "family:2"});
}

TEST_CASE("the writer side sets, reads and removes members and families") {
  RedisServer server;
  redis::MemberStore store(notify::test::options_for(server));
  const Member mom = member(4, "엄마 \"quoted\"", "tok-4", true);
  REQUIRE(store.set_member(3, mom).has_value());
  REQUIRE(store.set_member(3, member(5, "아빠", "")).has_value());

  auto got = store.get_member(3, 4);
  REQUIRE(got.has_value());
  REQUIRE(got->has_value());
  CHECK(**got == mom);
  CHECK_FALSE(store.get_member(3, 99)->has_value());
  CHECK_FALSE(store.get_member(42, 4)->has_value());

  REQUIRE(store.set_member(3, member(4, "엄마", "tok-new")).has_value());  // overwrite
  CHECK((*store.get_member(3, 4))->fcm_token() == "tok-new");

  REQUIRE(store.remove_member(3, 4).has_value());
  CHECK_FALSE(store.get_member(3, 4)->has_value());
  CHECK(store.get_member(3, 5)->has_value());

  REQUIRE(store.remove_family(3).has_value());
  const Id ids[] = {3};
  auto lookup = store.families(ids);
  REQUIRE(lookup.has_value());
  CHECK(lookup->families.size() == 0);

  REQUIRE(store.put_raw(8, "user:1", "[]").has_value());
  auto bad = store.get_member(8, 1);
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().code == Errc::invalid_member);
  CHECK(bad.error().path == "family:8.user:1");
}

TEST_CASE("a dead token is cleared only while it is still the member's token") {
  RedisServer server;
  redis::MemberStore store(notify::test::options_for(server));
  REQUIRE(store.set_member(3, member(4, "엄마", "dead-token", true)).has_value());

  auto cleared = store.remove_token(3, 4, "dead-token");
  REQUIRE(cleared.has_value());
  CHECK(*cleared);
  auto m = store.get_member(3, 4);
  REQUIRE(m.has_value());
  REQUIRE(m->has_value());
  CHECK((*m)->fcm_token().empty());
  CHECK((*m)->userName == "엄마");  // the rest survives the rewrite
  CHECK((*m)->mktPushAgreed);

  // The app registered a fresh token meanwhile: the late cleanup must not erase it.
  REQUIRE(store.set_member(3, member(4, "엄마", "fresh-token", true)).has_value());
  cleared = store.remove_token(3, 4, "dead-token");
  REQUIRE(cleared.has_value());
  CHECK_FALSE(*cleared);
  CHECK((*store.get_member(3, 4))->fcm_token() == "fresh-token");

  CHECK_FALSE(*store.remove_token(3, 99, "dead-token"));  // no such member
  CHECK_FALSE(*store.remove_token(3, 4, ""));              // "no device" is never dead
  REQUIRE(store.put_raw(3, "user:7", "{broken").has_value());
  CHECK_FALSE(*store.remove_token(3, 7, "dead-token"));  // unreadable values are left alone
}

TEST_CASE("a dead device is removed per device, only while registered as looked up, other fields kept") {
  RedisServer server;
  redis::MemberStore store(notify::test::options_for(server));
  const std::string value =
      R"({"userName":"엄마","fcmToken":"android-1","mktPushAgreed":true,"extra":{"kept":[1,2]},)"
      R"("devices":[{"token":"android-1","provider":"fcm","registeredAt":"2026-01-01T00:00:00Z"},)"
      R"({"token":"iphone-1","provider":"apns","platform":"ios","registeredAt":"2026-02-01T00:00:00Z"}],)"
      R"("quietHours":{"start":"22:00","end":"07:00"}})";
  REQUIRE(store.put_raw(3, "user:4", value).has_value());

  // Registered again since the lookup (another registeredAt): kept.
  CHECK_FALSE(*store.remove_token(3, 4, "iphone-1", "2026-01-15T00:00:00Z"));
  auto m = store.get_member(3, 4);
  REQUIRE((m.has_value() && m->has_value()));
  CHECK((*m)->devices.size() == 2);

  // As looked up: only that device goes.
  CHECK(*store.remove_token(3, 4, "iphone-1", "2026-02-01T00:00:00Z"));
  m = store.get_member(3, 4);
  REQUIRE((m.has_value() && m->has_value()));
  REQUIRE((*m)->devices.size() == 1);
  CHECK((*m)->devices[0].token == "android-1");
  CHECK((*m)->problems.empty());
  CHECK((*m)->quietHours.has_value());

  // The first-version token goes with its device; an emptied list still reads.
  CHECK(*store.remove_token(3, 4, "android-1", "2026-01-01T00:00:00Z"));
  m = store.get_member(3, 4);
  REQUIRE((m.has_value() && m->has_value()));
  CHECK((*m)->devices.empty());
  CHECK((*m)->problems.empty());
  CHECK((*m)->fcm_token().empty());
  redis::Connection raw(notify::test::options_for(server));
  auto stored = raw.command({"HGET", "family:3", "user:4"});
  REQUIRE(stored.has_value());
  CHECK(stored->str.find("\"kept\"") != std::string::npos);  // fields it does not know survive
  CHECK(stored->str.find("\"devices\"") == std::string::npos);
}

TEST_CASE("the member store reports a stopped server as a transient error, never an empty answer") {
  auto server = std::make_unique<RedisServer>();
  redis::MemberStore store(notify::test::options_for(*server));
  REQUIRE(store.set_member(1, member(1, "a", "t")).has_value());
  server.reset();
  const Id ids[] = {1};
  auto lookup = store.families(ids);
  REQUIRE_FALSE(lookup.has_value());
  CHECK(is_transient(lookup.error().code));
  auto removed = store.remove_token(1, 1, "t");
  REQUIRE_FALSE(removed.has_value());
  CHECK(is_transient(removed.error().code));
}

TEST_CASE("put_raw() of many stored values writes each as it is, in one round trip") {
  RedisServer server;
  redis::MemberStore store(notify::test::options_for(server));
  std::vector<redis::StoredValue> values;
  for (Id f = 1; f <= 50; ++f)
    values.push_back({f, member_field(f * 10), encode_member(member(f * 10, "m", "tok-" + std::to_string(f)))});
  values.push_back({7, "user:999", "not JSON"});  // stored as it is: the reader skips it
  const auto before = store.round_trips();
  REQUIRE(store.put_raw(values).has_value());
  CHECK(store.round_trips() - before == 1);

  const std::vector<Id> ids = {1, 7, 50};
  auto lookup = store.families(ids);
  REQUIRE(lookup.has_value());
  REQUIRE(lookup->families.size() == 3);
  CHECK(lookup->problems.size() == 1);
  CHECK(lookup->problems.front().path == "family:7.user:999");
  auto one = store.get_member(50, 500);
  REQUIRE(one.has_value());
  REQUIRE(one->has_value());
  CHECK((*one)->fcm_token() == "tok-50");
  CHECK(store.put_raw(std::span<const redis::StoredValue>()).has_value());  // nothing to write
}

TEST_CASE("put_raw() of many stored values fails on an error reply") {
  RedisServer server;
  redis::MemberStore store(notify::test::options_for(server));
  redis::Connection c(notify::test::options_for(server));
  REQUIRE(c.command({"SET", family_key(3), "a string, not a hash"}).has_value());
  const std::vector<redis::StoredValue> values = {{3, "user:4", "{}"}};
  auto r = store.put_raw(values);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message.find("WRONGTYPE") != std::string::npos);
}
