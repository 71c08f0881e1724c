// SPDX-License-Identifier: MIT
// Unit tests for include/notify/members.hpp: stored member values, keys and the Families index.

#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "notify/members.hpp"

using notify::Errc;
using notify::Families;
using notify::Family;
using notify::Id;
using notify::Member;
using notify::parse_member;

namespace {

// Asserts that parsing fails as invalid_member with the member's field as path.
void check_invalid(Id user, std::string_view json) {
  CAPTURE(json);
  const auto r = parse_member(user, json);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == Errc::invalid_member);
  CHECK(r.error().path == "user:" + std::to_string(user));
  CHECK_FALSE(r.error().message.empty());
}

std::vector<Id> member_ids(const Family& f) {
  std::vector<Id> ids;
  for (const Member& m : f.members) ids.push_back(m.userId);
  return ids;
}

}  // namespace

TEST_CASE("a valid stored member is parsed with every field") {
  const auto r = parse_member(4, R"({"userName": "아빠", "fcmToken": "tok-4", "mktPushAgreed": true})");
  REQUIRE(r.has_value());
  CHECK(r->userId == 4);
  CHECK(r->userName == "아빠");
  CHECK(r->fcm_token() == "tok-4");
  CHECK(r->mktPushAgreed == true);
  CHECK(*r == notify::member_v1(4, "아빠", "tok-4", true));
}

TEST_CASE("a stored member may come in any key order and with white space") {
  const auto r = parse_member(9, " \n{ \"mktPushAgreed\" : false ,\"fcmToken\":\"t\",\t\"userName\":\"엄마\" } \n");
  REQUIRE(r.has_value());
  CHECK(*r == notify::member_v1(9, "엄마", "t", false));
}

TEST_CASE("the legacy spelling mktPushAreed is read as mktPushAgreed") {
  const auto yes = parse_member(3, R"({"userName":"엄마","fcmToken":"t","mktPushAreed":true})");
  REQUIRE(yes.has_value());
  CHECK(yes->mktPushAgreed == true);
  const auto no = parse_member(3, R"({"userName":"엄마","fcmToken":"t","mktPushAreed":false})");
  REQUIRE(no.has_value());
  CHECK(no->mktPushAgreed == false);
}

TEST_CASE("mktPushAgreed defaults to false when absent or null") {
  const auto absent = parse_member(3, R"({"userName":"엄마","fcmToken":"t"})");
  REQUIRE(absent.has_value());
  CHECK(absent->mktPushAgreed == false);
  const auto null = parse_member(3, R"({"userName":"엄마","fcmToken":"t","mktPushAgreed":null})");
  REQUIRE(null.has_value());
  CHECK(null->mktPushAgreed == false);
}

TEST_CASE("a missing, null or empty fcmToken gives a member without a device") {
  for (std::string_view json : {R"({"userName":"딸"})", R"({"userName":"딸","fcmToken":null})",
                                R"({"userName":"딸","fcmToken":""})"}) {
    CAPTURE(json);
    const auto r = parse_member(5, json);
    REQUIRE(r.has_value());
    CHECK(r->userName == "딸");
    CHECK(r->fcm_token().empty());
  }
}

TEST_CASE("escapes in stored strings are decoded") {
  const auto r = parse_member(3, R"({"userName":"\uc5c4\ub9c8 \"A\"\n","fcmToken":"a\/b"})");
  REQUIRE(r.has_value());
  CHECK(r->userName == "엄마 \"A\"\n");
  CHECK(r->fcm_token() == "a/b");
}

TEST_CASE("unknown fields of a stored member are ignored") {
  const auto r = parse_member(
      6, R"({"profile":{"age":12,"tags":["a",{"b":null}]},"userName":"아들","fcmToken":"t6","extra":1.5e3,"z":true})");
  REQUIRE(r.has_value());
  CHECK(*r == notify::member_v1(6, "아들", "t6", false));
}

TEST_CASE("a stored member without userName is invalid") {
  check_invalid(7, R"({"fcmToken":"t"})");
  check_invalid(7, R"({})");
  check_invalid(7, R"({"username":"lowercase key is another field"})");
}

TEST_CASE("stored member fields of the wrong type are invalid") {
  check_invalid(3, R"({"userName":null})");
  check_invalid(3, R"({"userName":3})");
  check_invalid(3, R"({"userName":["엄마"]})");
  check_invalid(3, R"({"userName":"엄마","fcmToken":7})");
  check_invalid(3, R"({"userName":"엄마","fcmToken":{}})");
}

TEST_CASE("a mktPushAgreed that is not a boolean reads as no consent and keeps the member") {
  // Only a real `true` is consent; a wrong type must not cost the member their other pushes.
  for (std::string_view json : {R"({"userName":"엄마","fcmToken":"t","mktPushAgreed":"true"})",
                                R"({"userName":"엄마","fcmToken":"t","mktPushAgreed":1})",
                                R"({"userName":"엄마","fcmToken":"t","mktPushAreed":"yes"})",
                                R"({"userName":"엄마","fcmToken":"t","mktPushAgreed":{"v":[true]}})",
                                R"({"mktPushAgreed":[true],"userName":"엄마","fcmToken":"t"})"}) {
    CAPTURE(json);
    const auto r = parse_member(3, json);
    REQUIRE(r.has_value());
    CHECK(*r == notify::member_v1(3, "엄마", "t", false));
  }
  // ... but it must still be JSON.
  check_invalid(3, R"({"userName":"엄마","mktPushAgreed":tru})");
  check_invalid(3, R"({"userName":"엄마","mktPushAgreed":[1,]})");
}

TEST_CASE("unknown fields of a stored member may nest up to 32 levels") {
  const auto nested = [](int containers) {  // an "extra" field of `containers` nested arrays/objects
    std::string v = "1";
    for (int i = 0; i < containers; ++i) v = (i % 2 ? "{\"k\":" : "[") + v + (i % 2 ? "}" : "]");
    return R"({"userName":"엄마","fcmToken":"t","extra":)" + v + "}";
  };
  const auto deep = parse_member(3, nested(31));  // 31 inside the member object: 32 levels
  REQUIRE(deep.has_value());
  CHECK(*deep == notify::member_v1(3, "엄마", "t", false));
  check_invalid(3, nested(32));
}

TEST_CASE("a stored member value that is not JSON is invalid") {
  check_invalid(12, "");
  check_invalid(12, "   ");
  check_invalid(12, "{");
  check_invalid(12, R"({"userName":"엄마")");
  check_invalid(12, R"({"userName":"엄마",})");
  check_invalid(12, R"({"userName" "엄마"})");
  check_invalid(12, R"({'userName':'엄마'})");
  check_invalid(12, R"({"userName":"엄마","x":tru})");
  check_invalid(12, R"({"userName":"엄마","x":[1,]})");
  check_invalid(12, "{\"userName\":\"a\nb\"}");  // raw control character in a string
}

TEST_CASE("a stored member value that is not an object is invalid") {
  check_invalid(3, R"("엄마")");
  check_invalid(3, R"(["엄마"])");
  check_invalid(3, "null");
  check_invalid(3, "42");
  check_invalid(3, "true");
}

TEST_CASE("trailing garbage after a stored member object is invalid") {
  check_invalid(3, R"({"userName":"엄마"} x)");
  check_invalid(3, R"({"userName":"엄마"}{})");
  check_invalid(3, R"({"userName":"엄마"},)");
  check_invalid(3, R"({"userName":"엄마"}})");
}

TEST_CASE("the error path of an invalid member names its hash field") {
  const auto r = parse_member(123456789, "nope");
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().path == "user:123456789");
}

TEST_CASE("a stored name with invalid UTF-8 keeps the member, to be cleaned when rendered") {
  // Nothing is lost: the member is still notified; rendering replaces the bad bytes.
  const auto r = parse_member(3, "{\"userName\":\"\xEC\x97\",\"fcmToken\":\"t\"}");
  REQUIRE(r.has_value());
  CHECK(r->userName == "\xEC\x97");
  CHECK(r->fcm_token() == "t");
}

TEST_CASE("a stored token with invalid UTF-8 makes the member unreadable") {
  check_invalid(3, "{\"userName\":\"a\",\"fcmToken\":\"t\xEC\x97\"}");
}

TEST_CASE("a cut-off stored value is reported as invalid JSON, not as a wrong type") {
  const auto r = parse_member(4, R"({"userName": "x", "fcmToken": )");
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message == "stored value is not valid JSON");
}

TEST_CASE("encode_member writes the stored JSON form") {
  CHECK(notify::encode_member(notify::member_v1(4, "아빠", "tok-4", true)) ==
        R"({"userName":"아빠","fcmToken":"tok-4","mktPushAgreed":true})");
  CHECK(notify::encode_member(notify::member_v1(5, "딸", "", false)) == R"({"userName":"딸","fcmToken":"","mktPushAgreed":false})");
  CHECK(notify::encode_member(notify::member_v1(5, "a\"b\\c\n", "t", false)) ==
        R"({"userName":"a\"b\\c\n","fcmToken":"t","mktPushAgreed":false})");
}

TEST_CASE("encode_member and parse_member round trip") {
  const std::vector<Member> members = {
      notify::member_v1(3, "엄마", "tok-3", true),
      notify::member_v1(5, "딸", "", false),
      notify::member_v1(6, "아들 😀", "fMEP0vJqS0:APA91bH-very_long-token", false),
      notify::member_v1(7, "quote \" back \\ tab \t nl \n ctl \x01 end", "t", true),
      notify::member_v1(std::numeric_limits<Id>::max(), "max", "t-max", true),
  };
  for (const Member& m : members) {
    CAPTURE(m.userName);
    const std::string json = notify::encode_member(m);
    const auto back = parse_member(m.userId, json);
    REQUIRE(back.has_value());
    CHECK(*back == m);
  }
}

TEST_CASE("family_key and member_field build the Redis names") {
  CHECK(notify::family_key(3) == "family:3");
  CHECK(notify::member_field(4) == "user:4");
  CHECK(notify::family_key(std::numeric_limits<Id>::max()) == "family:9223372036854775807");
  CHECK(notify::member_field(1) == "user:1");
}

TEST_CASE("parse_family_key and parse_member_field read valid names") {
  CHECK(notify::parse_family_key("family:3") == Id{3});
  CHECK(notify::parse_family_key("family:9223372036854775807") == std::numeric_limits<Id>::max());
  CHECK(notify::parse_member_field("user:4") == Id{4});
  CHECK(notify::parse_member_field("user:1234567890") == Id{1234567890});
  for (Id id : {Id{1}, Id{10}, Id{29001}, std::numeric_limits<Id>::max()}) {
    CHECK(notify::parse_family_key(notify::family_key(id)) == id);
    CHECK(notify::parse_member_field(notify::member_field(id)) == id);
  }
}

TEST_CASE("parse_member_field rejects anything but user:<positive id>") {
  for (std::string_view bad : {"user:0", "user:-1", "user:abc", "user:01", "user:", "user", "", "user:+1", "user: 1",
                               "user:1 ", "user:1a", "User:1", "family:1", "user:9223372036854775808",
                               "user:99999999999999999999", "user:00", "xuser:1"}) {
    CAPTURE(bad);
    CHECK_FALSE(notify::parse_member_field(bad).has_value());
  }
}

TEST_CASE("parse_family_key rejects anything but family:<positive id>") {
  for (std::string_view bad : {"family:", "family:0", "family:-1", "family:abc", "family:01", "family", "user:3",
                               "family:3:x", "family:9223372036854775808", "Family:3", "family:+3"}) {
    CAPTURE(bad);
    CHECK_FALSE(notify::parse_family_key(bad).has_value());
  }
}

TEST_CASE("Families finds a family by id and returns null for a missing one") {
  const Families fs({Family{7, {notify::member_v1(1, "a", "t1", false)}}, Family{3, {notify::member_v1(4, "아빠", "t4", false)}}});
  CHECK(fs.size() == 2);
  const Family* f3 = fs.find(3);
  REQUIRE(f3 != nullptr);
  CHECK(f3->familyId == 3);
  CHECK(f3->members.at(0).userName == "아빠");
  REQUIRE(fs.find(7) != nullptr);
  CHECK(fs.find(7)->familyId == 7);
  CHECK(fs.find(4) == nullptr);
  CHECK(fs.find(1) == nullptr);
  CHECK(fs.find(100) == nullptr);

  const Families empty;
  CHECK(empty.size() == 0);
  CHECK(empty.find(3) == nullptr);
  CHECK(empty.all().empty());
}

TEST_CASE("Families keep their families ordered by id") {
  Families fs({Family{9, {}}, Family{2, {}}, Family{5, {}}});
  fs.insert(Family{1, {}});
  fs.insert(Family{7, {}});
  std::vector<Id> ids;
  for (const Family& f : fs.all()) ids.push_back(f.familyId);
  CHECK(ids == std::vector<Id>{1, 2, 5, 7, 9});
}

TEST_CASE("inserting a family again replaces it: the last insert wins") {
  Families fs;
  fs.insert(Family{3, {notify::member_v1(3, "old", "t-old", false)}});
  fs.insert(Family{4, {notify::member_v1(1, "other", "t", false)}});
  fs.insert(Family{3, {notify::member_v1(4, "new", "t-new", false)}});
  CHECK(fs.size() == 2);
  const Family* f = fs.find(3);
  REQUIRE(f != nullptr);
  REQUIRE(f->members.size() == 1);
  CHECK(f->members[0].userName == "new");
  REQUIRE(fs.find(4) != nullptr);
  CHECK(fs.find(4)->members.at(0).userName == "other");
}

TEST_CASE("a repeated family id in the constructor keeps the last one") {
  const Families fs({Family{3, {notify::member_v1(1, "first", "", false)}}, Family{5, {}}, Family{3, {notify::member_v1(2, "second", "", false)}},
                     Family{3, {notify::member_v1(3, "third", "", false)}}});
  CHECK(fs.size() == 2);
  const Family* f = fs.find(3);
  REQUIRE(f != nullptr);
  REQUIRE(f->members.size() == 1);
  CHECK(f->members[0].userName == "third");
}

TEST_CASE("members of a family are sorted by userId") {
  Families fs({Family{3, {notify::member_v1(6, "아들", "t6", false), notify::member_v1(3, "엄마", "t3", false), notify::member_v1(5, "딸", "", false), notify::member_v1(4, "아빠", "t4", false)}}});
  REQUIRE(fs.find(3) != nullptr);
  CHECK(member_ids(*fs.find(3)) == std::vector<Id>{3, 4, 5, 6});

  fs.insert(Family{8, {notify::member_v1(20, "b", "", false), notify::member_v1(10, "a", "", false)}});
  REQUIRE(fs.find(8) != nullptr);
  CHECK(member_ids(*fs.find(8)) == std::vector<Id>{10, 20});
  CHECK(member_ids(*fs.find(3)) == std::vector<Id>{3, 4, 5, 6});
}

TEST_CASE("Family::find returns the member or null") {
  const Family f{3, {notify::member_v1(3, "엄마", "t3", false), notify::member_v1(4, "아빠", "t4", true)}};
  REQUIRE(f.find(4) != nullptr);
  CHECK(f.find(4)->userName == "아빠");
  CHECK(f.find(5) == nullptr);
  CHECK(f.find(0) == nullptr);
}
