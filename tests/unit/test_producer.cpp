// SPDX-License-Identifier: MIT
// Unit tests for include/notify/producer.hpp: families of a request, FIFO message groups,
// splitting bulk requests into parts of a bounded number of families.

#include <doctest/doctest.h>

#include <set>
#include <string>
#include <vector>

#include "notify/codec.hpp"
#include "notify/producer.hpp"

using notify::Id;
using notify::Request;

namespace {

Request decoded(std::string_view body) {
  auto r = notify::decode(body);
  REQUIRE(r);
  return *r;
}

std::vector<Id> today_ids(const Request& r) { return std::get<notify::MessageTodayParam>(r.param).familyIds; }

}  // namespace

TEST_CASE("families_of: single-family params, lists, and entries with families") {
  CHECK(notify::families_of(decoded(R"({"type":"EMOTION_POKE","param":{"familyId":7,"userId":3}})")) ==
        std::vector<Id>{7});
  CHECK(notify::families_of(decoded(R"({"type":"MESSAGE_TODAY","param":{"familyIds":[9,2,9,5]}})")) ==
        std::vector<Id>{2, 5, 9});
  CHECK(notify::families_of(decoded(
            R"({"type":"TIMECAPSULE_OPEN","param":{"timaCapsules":[{"letterId":1,"receiverId":2,"senderId":3,"familyId":8},{"letterId":4,"receiverId":5,"senderId":6,"familyId":1}]}})")) ==
        std::vector<Id>{1, 8});
  CHECK(notify::families_of(decoded(
            R"({"type":"NOTIFY_BIRTHDAY","param":{"familyIdsWithBirthdayUserId":[{"familyId":4,"birthdayUserId":1}]}})")) ==
        std::vector<Id>{4});
}

TEST_CASE("message_group: one family keeps its own group, a multi-family request gets a stable digest") {
  Request a = decoded(R"({"type":"COMMENT_MESSAGE","param":{"familyId":3,"messageFamId":1,"authorId":2}})");
  Request b = decoded(R"({"type":"PEDIA_ANSWER","param":{"familyId":3,"ownerId":4}})");
  CHECK(notify::message_group(a) == "family-3");
  CHECK(notify::message_group(a) == notify::message_group(b));  // same family, same order
  CHECK(notify::message_group(decoded(R"({"type":"MESSAGE_TODAY","param":{"familyIds":[3]}})")) == "family-3");

  std::string g1 = notify::message_group(decoded(R"({"type":"MESSAGE_TODAY","param":{"familyIds":[1,2,3]}})"));
  std::string g2 = notify::message_group(decoded(R"({"type":"MESSAGE_BIRTHDAY","param":{"familyIds":[3,2,1,1]}})"));
  std::string g3 = notify::message_group(decoded(R"({"type":"MESSAGE_TODAY","param":{"familyIds":[1,2,4]}})"));
  CHECK(g1.starts_with("families-"));
  CHECK(g1 == g2);  // the set of families decides, not order or repeats
  CHECK(g1 != g3);
  CHECK(g1.size() <= 128);
}

TEST_CASE("split_by_families: MESSAGE_TODAY in parts of N families, order kept, ids suffixed") {
  std::string ids;
  for (int i = 1; i <= 250; ++i) ids += (i > 1 ? "," : "") + std::to_string(i * 10);
  Request r = decoded(R"({"type":"MESSAGE_TODAY","id":"noon-2026-11-23","param":{"familyIds":[)" + ids + "]}}");
  auto parts = notify::split_by_families(r, 100);
  REQUIRE(parts.size() == 3);
  CHECK(today_ids(parts[0]).size() == 100);
  CHECK(today_ids(parts[1]).size() == 100);
  CHECK(today_ids(parts[2]).size() == 50);
  CHECK(today_ids(parts[0]).front() == 10);
  CHECK(today_ids(parts[2]).back() == 2500);
  CHECK(parts[0].id == "noon-2026-11-23.1");
  CHECK(parts[2].id == "noon-2026-11-23.3");
  std::vector<Id> joined;
  for (const Request& p : parts) {
    CHECK(notify::validate(p).empty());
    for (Id id : today_ids(p)) joined.push_back(id);
  }
  CHECK(joined == today_ids(r));
  // Every part is a valid request on the wire and decodes back to itself.
  for (const Request& p : parts) CHECK(*notify::decode(notify::encode(p)) == p);
}

TEST_CASE("split_by_families: entries of one family stay together, small requests come back unchanged") {
  Request r = decoded(
      R"({"type":"NOTIFY_BIRTHDAY","param":{"familyIdsWithBirthdayUserId":[{"familyId":1,"birthdayUserId":1},{"familyId":2,"birthdayUserId":2},{"familyId":1,"birthdayUserId":3},{"familyId":3,"birthdayUserId":4}]}})");
  auto parts = notify::split_by_families(r, 2);
  REQUIRE(parts.size() == 2);
  const auto& first = std::get<notify::NotifyBirthdayParam>(parts[0].param).familyIdsWithBirthdayUserId;
  REQUIRE(first.size() == 3);  // family 1 twice, family 2
  CHECK(first[0].birthdayUserId == 1);
  CHECK(first[1].birthdayUserId == 2);
  CHECK(first[2].birthdayUserId == 3);
  CHECK(notify::families_of(parts[1]) == std::vector<Id>{3});
  CHECK(parts[0].id.empty());  // no id: none invented

  CHECK(notify::split_by_families(r, 3) == std::vector<Request>{r});
  CHECK(notify::split_by_families(r, 0) == std::vector<Request>{r});  // 0: never split
  Request single = decoded(R"({"type":"EMOTION_CHOSEN","id":"x","param":{"familyId":7,"userId":3}})");
  CHECK(notify::split_by_families(single, 1) == std::vector<Request>{single});
}

TEST_CASE("split_by_families: a long id becomes a digest so every part id stays within the limit") {
  std::string long_id(127, 'a');
  Request r = decoded(R"({"type":"MESSAGE_TODAY","id":")" + long_id + R"(","param":{"familyIds":[1,2,3]}})");
  auto parts = notify::split_by_families(r, 1);
  REQUIRE(parts.size() == 3);
  std::set<std::string> seen;
  for (const Request& p : parts) {
    CHECK(notify::validate(p).empty());
    CHECK(p.id.size() <= 128);
    seen.insert(p.id);
  }
  CHECK(seen.size() == 3);
  CHECK(notify::split_by_families(r, 1)[0].id == parts[0].id);  // deterministic: a retried publish dedups
}
