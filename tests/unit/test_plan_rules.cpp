// SPDX-License-Identifier: MIT
// Members' settings applied by planning: preferences per category and channel, a global
// mute, marketing and night-time ad consent (Korea, 21:00-08:00 KST), quiet hours in the
// member's time zone, and SERVICE_NOTICE.

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "notify/codec.hpp"
#include "notify/plan.hpp"

namespace {

using notify::Family;
using notify::Families;
using notify::Member;
using notify::Plan;
using notify::PlanPolicy;
using notify::SkipReason;

std::int64_t at(std::string_view rfc3339) { return notify::parse_rfc3339(rfc3339).value(); }

Member member(notify::Id id, std::string token) { return notify::member_v1(id, "m" + std::to_string(id), std::move(token)); }

notify::Request request(std::string_view body) {
  auto r = notify::decode(body);
  REQUIRE_MESSAGE(r.has_value(), body);
  return *r;
}

std::string notice(bool marketing) {
  return std::string(R"({"type":"SERVICE_NOTICE","param":{"familyIds":[5],"title":"새 기능","body":"앨범이 바뀌었어요","marketing":)") +
         (marketing ? "true" : "false") + "}}";
}

std::vector<std::string> tokens(const Plan& p) {
  std::vector<std::string> out;
  for (const auto& m : p.messages)
    for (const auto& t : m.targets) out.emplace_back(t.token);
  std::sort(out.begin(), out.end());
  return out;
}

PlanPolicy now(std::string_view t) {
  PlanPolicy p;
  p.now_ms = at(t);
  return p;
}

const notify::Skip* skip_of(const Plan& p, notify::Id user) {
  for (const auto& s : p.skipped)
    if (s.userId == user) return &s;
  return nullptr;
}

}  // namespace

TEST_CASE("rules: a muted member gets no push but keeps the inbox record") {
  Member mom = member(1, "t1"), dad = member(2, "t2"), kid = member(3, "t3");
  dad.preferences.mute = true;
  const Families fs({Family{3, {mom, dad, kid}}});
  const Plan p = notify::plan(request(R"({"type":"PEDIA_ANSWER","param":{"familyId":3,"ownerId":1}})"), fs);
  CHECK(tokens(p) == std::vector<std::string>{"t3"});
  REQUIRE(p.messages.size() == 1);
  CHECK(p.messages[0].inbox == std::vector<notify::Id>{2, 3});
  REQUIRE(skip_of(p, 2) != nullptr);
  CHECK(skip_of(p, 2)->reason == SkipReason::muted_by_preference);
  CHECK(skip_of(p, 2)->until == 0);
  CHECK(p.next_due() == 0);
}

TEST_CASE("rules: a category switched off on push stops that category only") {
  Member dad = member(2, "t2");
  dad.preferences.set(notify::Category::photo, notify::Channel::push, false);
  dad.preferences.set(notify::Category::message, notify::Channel::email, false);  // another channel: no effect
  const Families fs({Family{3, {member(1, "t1"), dad}}});
  const Plan photo = notify::plan(request(R"({"type":"COMMENT_PHOTO","param":{"photoId":9,"authorId":1,"familyId":3}})"), fs);
  CHECK(photo.push_count() == 0);
  REQUIRE(skip_of(photo, 2) != nullptr);
  const Plan comment =
      notify::plan(request(R"({"type":"COMMENT_MESSAGE","param":{"messageFamId":9,"authorId":1,"familyId":3}})"), fs);
  CHECK(tokens(comment) == std::vector<std::string>{"t2"});
  CHECK(comment.skipped.empty());
}

TEST_CASE("rules: every device of a member gets the push, with its service") {
  Member mom = member(1, "android-1");
  mom.devices.push_back({"iphone-1", notify::PushService::apns, "ios", {}, {}, {}});
  const Families fs({Family{3, {mom, member(2, "t2")}}});
  const Plan p = notify::plan(request(R"({"type":"EMOTION_POKE","param":{"familyId":3,"userId":1}})"), fs);
  REQUIRE(p.messages.size() == 1);
  REQUIRE(p.messages[0].targets.size() == 2);
  CHECK(p.messages[0].targets[0] == notify::Target("android-1", notify::PushService::fcm));
  CHECK(p.messages[0].targets[1] == notify::Target("iphone-1", notify::PushService::apns));
}

TEST_CASE("rules: a marketing notice goes only to members with marketing consent in force") {
  Member legacy = member(1, "t1");
  legacy.mktPushAgreed = true;  // the first version's flag
  Member dated = member(2, "t2");
  dated.consent.marketing.agreedAt = at("2026-01-01T00:00:00Z");
  Member withdrawn = member(3, "t3");
  withdrawn.consent.marketing = {at("2026-01-01T00:00:00Z"), at("2026-02-01T00:00:00Z")};
  withdrawn.mktPushAgreed = true;  // a dated record wins over the flag
  Member none = member(4, "t4");
  Member unreadable = member(5, "t5");
  unreadable.consent.unreadable = true;
  unreadable.mktPushAgreed = true;
  Member expired = member(6, "t6");
  expired.consent.marketing.agreedAt = at("2024-06-01T12:00:00+09:00");
  const Families fs({Family{5, {legacy, dated, withdrawn, none, unreadable, expired}}});

  const Plan p = notify::plan(request(notice(true)), fs, now("2026-06-01T12:00:00+09:00"));
  CHECK(tokens(p) == std::vector<std::string>{"t1", "t2"});
  CHECK(skip_of(p, 3)->reason == SkipReason::no_marketing_consent);
  CHECK(skip_of(p, 4)->reason == SkipReason::no_marketing_consent);
  CHECK(skip_of(p, 5)->reason == SkipReason::consent_unreadable);
  CHECK(skip_of(p, 6)->reason == SkipReason::no_marketing_consent);  // two years old: absent
  REQUIRE(p.messages.size() == 1);
  CHECK(p.messages[0].title == "(광고) 새 기능");
  CHECK(p.messages[0].body.starts_with("앨범이 바뀌었어요\n수신거부"));
  CHECK(p.messages[0].inbox.empty());  // push only

  // The first version's flag can be turned off as consent.
  PlanPolicy strict = now("2026-06-01T12:00:00+09:00");
  strict.legacy_marketing_flag = false;
  CHECK(tokens(notify::plan(request(notice(true)), fs, strict)) == std::vector<std::string>{"t2"});

  // Not marketing: everyone, no "(광고)".
  const Plan plain = notify::plan(request(notice(false)), fs, now("2026-06-01T12:00:00+09:00"));
  CHECK(plain.push_count() == 6);
  CHECK(plain.messages[0].title == "새 기능");
  CHECK(plain.messages[0].body == "앨범이 바뀌었어요");
}

TEST_CASE("rules: a marketing notice at night waits for 08:00 KST unless the member agreed to night-time ads") {
  Member day_only = member(1, "t1");
  day_only.consent.marketing.agreedAt = at("2026-01-01T00:00:00Z");
  Member night_too = member(2, "t2");
  night_too.consent.marketing.agreedAt = at("2026-01-01T00:00:00Z");
  night_too.consent.nightAds.agreedAt = at("2026-01-01T00:00:00Z");
  const Families fs({Family{5, {day_only, night_too}}});
  const auto req = request(notice(true));

  struct Row {
    std::string_view now;
    bool deferred;
    std::string_view until;
  };
  const Row rows[] = {
      {"2026-06-01T20:59:59+09:00", false, ""},
      {"2026-06-01T21:00:00+09:00", true, "2026-06-02T08:00:00+09:00"},
      {"2026-06-02T00:30:00+09:00", true, "2026-06-02T08:00:00+09:00"},
      {"2026-06-02T07:59:59+09:00", true, "2026-06-02T08:00:00+09:00"},
      {"2026-06-02T08:00:00+09:00", false, ""},
  };
  for (const Row& row : rows) {
    CAPTURE(row.now);
    const Plan p = notify::plan(req, fs, now(row.now));
    if (row.deferred) {
      CHECK(tokens(p) == std::vector<std::string>{"t2"});
      REQUIRE(skip_of(p, 1) != nullptr);
      CHECK(skip_of(p, 1)->reason == SkipReason::night_ads);
      CHECK(skip_of(p, 1)->until == at(row.until));
      CHECK(p.next_due() == at(row.until));
    } else {
      CHECK(tokens(p) == std::vector<std::string>{"t1", "t2"});
      CHECK(p.skipped.empty());
    }
  }
  // A notice that is not marketing is not an ad: it goes at night.
  CHECK(notify::plan(request(notice(false)), fs, now("2026-06-01T23:00:00+09:00")).push_count() == 2);
}

TEST_CASE("rules: quiet hours defer non-urgent pushes to their end, in the member's time zone") {
  Member seoul = member(1, "t-seoul");
  seoul.quietHours = notify::DailyWindow{notify::LocalTime{22 * 60}, notify::LocalTime{7 * 60}};
  Member ny = member(2, "t-ny");
  ny.timeZone = "America/New_York";
  ny.quietHours = seoul.quietHours;
  Member awake = member(3, "t-awake");
  const Families fs({Family{3, {seoul, ny, awake}}, Family{5, {seoul, ny, awake}}});
  const auto poke = request(R"({"type":"EMOTION_CHOSEN","param":{"familyId":3,"userId":3}})");

  // 23:30 in Seoul is 09:30 in New York (EST, UTC-5): only Seoul is asleep.
  Plan p = notify::plan(poke, fs, now("2026-01-15T23:30:00+09:00"));
  CHECK(tokens(p) == std::vector<std::string>{"t-ny"});
  REQUIRE(skip_of(p, 1) != nullptr);
  CHECK(skip_of(p, 1)->reason == SkipReason::quiet_hours);
  CHECK(skip_of(p, 1)->until == at("2026-01-16T07:00:00+09:00"));

  // 06:59:59 in New York on the day after DST starts (EDT, UTC-4): due at 07:00 EDT.
  p = notify::plan(poke, fs, now("2026-03-09T06:59:59-04:00"));
  REQUIRE(skip_of(p, 2) != nullptr);
  CHECK(skip_of(p, 2)->until == at("2026-03-09T07:00:00-04:00"));
  CHECK(notify::plan(poke, fs, now("2026-03-09T07:00:00-04:00")).skipped.size() == 0);

  // An operator's notice that is not marketing breaks quiet hours; a marketing one never does.
  const Plan urgent = notify::plan(request(notice(false)), fs, now("2026-01-15T23:30:00+09:00"));
  CHECK(urgent.push_count() == 3);
  Member seoul_ads = seoul;
  seoul_ads.consent.marketing.agreedAt = seoul_ads.consent.nightAds.agreedAt = at("2026-01-01T00:00:00Z");
  const Plan ad = notify::plan(request(notice(true)), Families({Family{5, {seoul_ads}}}), now("2026-01-15T23:30:00+09:00"));
  REQUIRE(skip_of(ad, 1) != nullptr);
  CHECK(skip_of(ad, 1)->reason == SkipReason::quiet_hours);
}

TEST_CASE("rules: without a clock the rules of time are off, and the earliest deferral is the plan's due time") {
  Member asleep = member(1, "t1");
  asleep.quietHours = notify::DailyWindow{notify::LocalTime{0}, notify::LocalTime{23 * 60 + 59}};
  const Families fs({Family{3, {asleep, member(2, "t2")}}});
  const auto req = request(R"({"type":"EMOTION_CHOSEN","param":{"familyId":3,"userId":2}})");
  CHECK(notify::plan(req, fs).push_count() == 1);  // PlanPolicy{}: now_ms 0

  Plan p;
  p.skipped = {{1, SkipReason::quiet_hours, 500}, {2, SkipReason::muted_by_preference, 0}, {3, SkipReason::night_ads, 300}};
  CHECK(p.next_due() == 300);
}

TEST_CASE("SERVICE_NOTICE: a screen and its id become the link, and validation names what is wrong") {
  const Families fs({Family{5, {member(1, "t1")}}});
  const Plan p = notify::plan(
      request(R"({"type":"SERVICE_NOTICE","param":{"familyIds":[5],"title":"t","body":"b","marketing":false,"screen":"Photo","paramId":77}})"),
      fs);
  REQUIRE(p.messages.size() == 1);
  CHECK(notify::to_string(p.messages[0].link.screen) == "Photo");
  CHECK(p.messages[0].link.param_json() == R"({"photoId":77})");

  struct Row {
    std::string_view param;
    std::string_view path;
  };
  const Row rows[] = {
      {R"({"familyIds":[5],"title":"  ","body":"b","marketing":false})", "param.title"},
      {R"({"familyIds":[5],"title":"t","body":"","marketing":false})", "param.body"},
      {R"({"familyIds":[5],"title":"t","body":"b","marketing":false,"screen":"Nowhere"})", "param.screen"},
      {R"({"familyIds":[5],"title":"t","body":"b","marketing":false,"paramId":3})", "param.paramId"},
      {R"({"familyIds":[5],"title":"t","body":"b","marketing":false,"screen":"MessageHome","paramId":3})", "param.paramId"},
      {R"({"familyIds":[5],"title":"t","body":"b"})", "param.marketing"},
      {R"({"familyIds":[5],"body":"b","marketing":true})", "param.title"},
  };
  for (const Row& row : rows) {
    const std::string body = R"({"type":"SERVICE_NOTICE","param":)" + std::string(row.param) + "}";
    CAPTURE(body);
    const auto r = notify::decode(body);
    REQUIRE_FALSE(r.has_value());
    REQUIRE(r.error().size() == 1);
    CHECK(r.error()[0].path == row.path);
  }
}

TEST_CASE("sendAt: read as RFC 3339 with any offset, written back in UTC, refused when it does not parse") {
  const auto r = notify::decode(R"({"type":"MESSAGE_TODAY","param":{"familyIds":[1]},"sendAt":"2026-12-24T09:00:00+09:00"})");
  REQUIRE(r.has_value());
  REQUIRE(r->sendAt.has_value());
  CHECK(*r->sendAt == at("2026-12-24T00:00:00Z"));
  const auto again = notify::decode(notify::encode(*r));
  REQUIRE(again.has_value());
  CHECK(again->sendAt == r->sendAt);
  for (std::string_view bad : {R"("2026-12-24")", R"("tomorrow")", "1767000000000", R"("2026-12-24T09:00:00")"}) {
    const std::string body = R"({"type":"MESSAGE_TODAY","param":{"familyIds":[1]},"sendAt":)" + std::string(bad) + "}";
    CAPTURE(body);
    const auto e = notify::decode(body);
    REQUIRE_FALSE(e.has_value());
    CHECK(e.error()[0].path == "sendAt");
  }
  CHECK_FALSE(notify::decode(R"({"type":"MESSAGE_TODAY","param":{"familyIds":[1]},"sendAt":null})")->sendAt.has_value());
}
