// SPDX-License-Identifier: MIT
// Member values v2 (devices, contacts, preferences, consent, quiet hours): reading,
// writing, and a malformed field costing only its own feature.

#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "notify/members.hpp"

namespace {

using notify::Category;
using notify::Channel;
using notify::Member;
using notify::PushService;

std::int64_t at(std::string_view rfc3339) { return notify::parse_rfc3339(rfc3339).value(); }

constexpr std::string_view full = R"({
  "userName": "엄마", "fcmToken": "tok-android", "mktPushAgreed": true,
  "devices": [
    {"token": "tok-android", "provider": "fcm", "platform": "android", "registeredAt": "2026-11-01T09:00:00+09:00"},
    {"token": "tok-iphone", "provider": "apns", "platform": "ios", "registeredAt": "2026-11-02T00:00:00Z",
     "app": "kr.woorigah.app", "locale": "ko-KR"}
  ],
  "email": "mom@example.kr", "phone": "+821012345678", "timeZone": "America/New_York",
  "preferences": {"mute": false, "photo": {"push": false, "email": true}, "notice": {"sms": false}},
  "consent": {"marketing": {"agreedAt": "2026-01-10T12:00:00+09:00", "withdrawnAt": null},
              "nightAds": {"agreedAt": "2026-01-10T12:00:00+09:00"}},
  "quietHours": {"start": "22:00", "end": "07:00"}
})";

}  // namespace

TEST_CASE("member v2: every field is read") {
  const auto m = notify::parse_member(4, full);
  REQUIRE(m.has_value());
  CHECK(m->problems.empty());
  CHECK(m->userName == "엄마");
  REQUIRE(m->devices.size() == 2);  // fcmToken names the first device: not a third one
  CHECK(m->devices[0].token == "tok-android");
  CHECK(m->devices[0].provider == PushService::fcm);
  CHECK(m->devices[0].registeredAt == "2026-11-01T09:00:00+09:00");
  CHECK(m->devices[1].provider == PushService::apns);
  CHECK(m->devices[1].platform == "ios");
  CHECK(m->devices[1].app == "kr.woorigah.app");
  CHECK(m->devices[1].locale == "ko-KR");
  CHECK(m->fcm_token() == "tok-android");
  CHECK(m->email == "mom@example.kr");
  CHECK(m->phone == "+821012345678");
  CHECK(m->timeZone == "America/New_York");
  CHECK_FALSE(m->preferences.allows(Category::photo, Channel::push));
  CHECK(m->preferences.allows(Category::photo, Channel::email));
  CHECK(m->preferences.allows(Category::message, Channel::push));
  CHECK_FALSE(m->preferences.allows(Category::notice, Channel::sms));
  CHECK(m->consent.marketing.agreedAt == at("2026-01-10T03:00:00Z"));
  CHECK(m->consent.marketing.withdrawnAt == 0);
  CHECK(m->consent.nightAds.in_force(at("2026-06-01T00:00:00Z"), 2));
  REQUIRE(m->quietHours.has_value());
  CHECK(m->quietHours->start.minutes == 22 * 60);
  CHECK(m->quietHours->end.minutes == 7 * 60);
}

TEST_CASE("member v2: a first-version value reads as one FCM device and writes back byte for byte") {
  const std::string v1 = R"({"userName":"아빠","fcmToken":"tok-4","mktPushAgreed":true})";
  const auto m = notify::parse_member(4, v1);
  REQUIRE(m.has_value());
  REQUIRE(m->devices.size() == 1);
  CHECK(m->devices[0] == notify::Device{"tok-4", PushService::fcm, {}, {}, {}, {}});
  CHECK(notify::is_v1(*m));
  CHECK(notify::encode_member(*m) == v1);
  // The legacy spelling too.
  const auto legacy = notify::parse_member(4, R"({"userName":"아빠","fcmToken":"t","mktPushAreed":true})");
  REQUIRE(legacy.has_value());
  CHECK(legacy->mktPushAgreed);
}

TEST_CASE("member v2: written and read back, it is the same member, and still carries fcmToken") {
  const auto m = notify::parse_member(4, full);
  REQUIRE(m.has_value());
  const std::string json = notify::encode_member(*m);
  CHECK(json.find(R"("fcmToken":"tok-android")") != std::string::npos);  // a first-version reader reaches it
  const auto back = notify::parse_member(4, json);
  REQUIRE(back.has_value());
  CHECK(back->problems.empty());
  // The times come back in UTC, the same instants.
  CHECK(back->consent == m->consent);
  CHECK(back->devices == m->devices);
  CHECK(back->preferences == m->preferences);
  CHECK(back->quietHours == m->quietHours);
  CHECK(notify::encode_member(*back) == json);

  // A member with only an APNs device has no first-version token.
  Member ios = notify::member_v1(5, "딸");
  ios.devices.push_back({"tok-ios", PushService::apns, "ios", {}, {}, {}});
  const std::string ios_json = notify::encode_member(ios);
  CHECK(ios_json.find(R"("fcmToken":"")") != std::string::npos);
  const auto ios_back = notify::parse_member(5, ios_json);
  REQUIRE(ios_back.has_value());
  CHECK(ios_back->devices == ios.devices);
}

TEST_CASE("member v2: a malformed field is left out with a problem, the member is still read") {
  struct Row {
    std::string_view field;
    std::string_view value;
  };
  const Row rows[] = {
      {"devices", R"("tok")"},
      {"devices", R"([{"provider":"fcm"}])"},
      {"devices", R"([{"token":"t","provider":"webpush"}])"},
      {"devices", R"([{"token":"t","registeredAt":"yesterday"}])"},
      {"email", R"("not-an-address")"},
      {"email", "7"},
      {"phone", R"("010-1234-5678")"},
      {"timeZone", R"("Mars/Olympus")"},
      {"preferences", R"({"photo":{"pigeon":false}})"},
      {"preferences", R"({"gardening":{"push":false}})"},
      {"preferences", R"({"mute":"yes"})"},
      {"quietHours", R"({"start":"22:00"})"},
      {"quietHours", R"({"start":"25:00","end":"07:00"})"},
      {"quietHours", R"("22-07")"},
  };
  for (const Row& row : rows) {
    const std::string json = R"({"userName":"엄마","fcmToken":"tok-1",")" + std::string(row.field) + "\":" +
                             std::string(row.value) + "}";
    CAPTURE(json);
    const auto m = notify::parse_member(3, json);
    REQUIRE(m.has_value());
    REQUIRE(m->problems.size() == 1);
    CHECK(m->problems[0].starts_with(std::string(row.field) + ": "));
    CHECK(m->fcm_token() == "tok-1");  // still notified
    CHECK(m->preferences.allows(Category::photo, Channel::push));
    CHECK_FALSE(m->quietHours.has_value());
    CHECK_FALSE(m->consent.unreadable);
    // The writer side refuses what the reader had to leave out.
    const auto strict = notify::validate_member(3, json);
    REQUIRE_FALSE(strict.has_value());
    CHECK(strict.error().message.find(std::string(row.field)) != std::string::npos);
  }
}

TEST_CASE("member v2: one bad device costs only that device") {
  const auto m = notify::parse_member(
      3, R"({"userName":"a","devices":[{"token":"good-1"},{"token":""},{"token":"good-2","provider":"apns"}]})");
  REQUIRE(m.has_value());
  REQUIRE(m->devices.size() == 2);
  CHECK(m->devices[0].token == "good-1");
  CHECK(m->devices[1].token == "good-2");
  REQUIRE(m->problems.size() == 1);
  CHECK(m->problems[0].find("[1]") != std::string::npos);
}

TEST_CASE("member v2: an unreadable consent is kept as unreadable (nothing that needs consent goes)") {
  for (std::string_view consent : {R"("yes")", R"({"marketing":true})", R"({"marketing":{"agreedAt":"soon"}})",
                                   R"({"ads":{"agreedAt":null}})"}) {
    const std::string json = R"({"userName":"a","fcmToken":"t","mktPushAgreed":true,"consent":)" + std::string(consent) + "}";
    CAPTURE(json);
    const auto m = notify::parse_member(3, json);
    REQUIRE(m.has_value());
    CHECK(m->consent.unreadable);
    REQUIRE(m->problems.size() == 1);
    CHECK(m->problems[0].starts_with("consent: "));
  }
}

TEST_CASE("member v2: null fields are absent, and a repeated token is one device") {
  const auto m = notify::parse_member(3, R"({"userName":"a","fcmToken":"t","devices":[{"token":"t"},{"token":"t"}],)"
                                         R"("email":null,"phone":null,"consent":null,"quietHours":null})");
  REQUIRE(m.has_value());
  CHECK(m->problems.empty());
  CHECK(m->devices.size() == 1);
  CHECK(notify::is_v1(*m));
}

TEST_CASE("member v2: more than 16 devices keeps the first 16") {
  std::string json = R"({"userName":"a","devices":[)";
  for (int i = 0; i < 18; ++i) json += (i ? "," : "") + std::string(R"({"token":"t)") + std::to_string(i) + "\"}";
  json += "]}";
  const auto m = notify::parse_member(3, json);
  REQUIRE(m.has_value());
  CHECK(m->devices.size() == 16);
  CHECK(m->problems.size() == 1);
}

TEST_CASE("consent: in force from agreement, ended by a later withdrawal, renewed by a later agreement, expired after 2 years") {
  const std::int64_t agreed = at("2024-12-03T10:00:00Z");
  notify::Grant g{agreed, 0};
  CHECK_FALSE(g.in_force(agreed - 1, 2));
  CHECK(g.in_force(agreed, 2));
  CHECK(g.in_force(at("2026-12-03T09:59:59.999Z"), 2));
  CHECK_FALSE(g.in_force(at("2026-12-03T10:00:00Z"), 2));  // exactly two years old
  CHECK(g.in_force(at("2030-01-01T00:00:00Z"), 0));        // 0: no limit
  g.withdrawnAt = at("2025-01-01T00:00:00Z");
  CHECK_FALSE(g.in_force(at("2025-06-01T00:00:00Z"), 2));
  g.agreedAt = at("2025-03-01T00:00:00Z");  // agreed again after withdrawing
  CHECK(g.in_force(at("2025-06-01T00:00:00Z"), 2));
  CHECK_FALSE(notify::Grant{}.in_force(agreed, 2));
}
