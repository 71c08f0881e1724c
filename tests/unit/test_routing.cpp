// SPDX-License-Identifier: MIT
// Routing as data (notify/routing.hpp): the catalog's routes, routing files and their
// errors, and planning along a route: fallbacks to the contact channels, "all", the
// channels a caller has providers for, preferences per channel, no member twice.

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "notify/codec.hpp"
#include "notify/plan.hpp"
#include "notify/routing.hpp"
#include "notify/transport.hpp"

namespace {

using notify::Channel;
using notify::ChannelSet;
using notify::Family;
using notify::Families;
using notify::Member;
using notify::NotificationType;
using notify::Plan;
using notify::PlanPolicy;
using notify::PushService;
using notify::Route;
using notify::Routing;

Member member(notify::Id id, std::string token, std::string email = {}, std::string phone = {}) {
  Member m = notify::member_v1(id, "m" + std::to_string(id), std::move(token));
  m.email = std::move(email);
  m.phone = std::move(phone);
  return m;
}

notify::Request request(std::string_view body) {
  auto r = notify::decode(body);
  REQUIRE_MESSAGE(r.has_value(), body);
  return *r;
}

/// "service:address" of every target, in plan order.
std::vector<std::string> targets(const Plan& p) {
  std::vector<std::string> out;
  for (const auto& m : p.messages)
    for (const auto& t : m.targets) out.push_back(std::string(notify::to_string(t.service)) + ":" + std::string(t.token));
  return out;
}

Routing routing(std::string_view json) {
  auto r = notify::parse_routing(json);
  REQUIRE_MESSAGE(r.has_value(), json);
  return *r;
}

std::vector<std::string> errors(std::string_view json) {
  auto r = notify::parse_routing(json);
  REQUIRE_FALSE(r.has_value());
  std::vector<std::string> out;
  for (const auto& e : r.error()) out.push_back(e.path + " " + std::string(notify::to_string(e.code)));
  return out;
}

const char* const birthday = R"({"type":"NOTIFY_BIRTHDAY","param":{"familyIdsWithBirthdayUserId":[{"familyId":3,"birthdayUserId":1}]}})";
const char* const photo = R"({"type":"PHOTO_CREATE","param":{"familyId":3,"authorId":1,"photoId":7}})";

std::string notice(bool marketing) {
  return std::string(R"({"type":"SERVICE_NOTICE","param":{"familyIds":[3],"title":"새 기능","body":"앨범이 바뀌었어요","marketing":)") +
         (marketing ? "true" : "false") + "}}";
}

PlanPolicy with(ChannelSet channels, const Routing* r = nullptr) {
  PlanPolicy p;
  p.channels = channels;
  p.routing = r;
  return p;
}

const ChannelSet every{Channel::push, Channel::email, Channel::sms, Channel::alimtalk};

}  // namespace

TEST_CASE("routing: the catalog's routes never use SMS: birthdays fall back to AlimTalk and notices to e-mail") {
  const Routing r;
  for (std::size_t i = 0; i < notify::type_count; ++i) {
    const Route& route = r.of(static_cast<NotificationType>(i));
    CHECK(route.size >= 1);
    CHECK(route.channels[0] == Channel::push);
    CHECK_FALSE(route.uses(Channel::sms));
    CHECK_FALSE(route.all);
  }
  CHECK(r.of(NotificationType::NOTIFY_BIRTHDAY) == Route{Channel::push, Channel::alimtalk});
  CHECK(r.of(NotificationType::SERVICE_NOTICE) == Route{Channel::push, Channel::email});
  CHECK(r.of(NotificationType::PHOTO_CREATE) == Route{Channel::push});
}

TEST_CASE("routing: a file replaces the routes it names and keeps the others") {
  const Routing r = routing(R"({"PHOTO_CREATE": {"channels": ["email", "push"], "all": true},
                                "NOTIFY_BIRTHDAY": {"channels": ["push", "alimtalk", "sms"]}})");
  CHECK(r.of(NotificationType::PHOTO_CREATE) == Route({Channel::email, Channel::push}, true));
  CHECK(r.of(NotificationType::NOTIFY_BIRTHDAY) == Route{Channel::push, Channel::alimtalk, Channel::sms});
  CHECK(r.of(NotificationType::SERVICE_NOTICE) == Routing{}.of(NotificationType::SERVICE_NOTICE));
  CHECK(routing("{}") == Routing{});
}

TEST_CASE("routing: encode_routing reads back to the same routing") {
  const Routing r = routing(R"({"LETTER_SEND": {"channels": ["push", "email", "sms"], "all": true}})");
  const std::string text = notify::encode_routing(r);
  CHECK(text.find(R"("LETTER_SEND": {"channels": ["push", "email", "sms"], "all": true})") != std::string::npos);
  CHECK(routing(text) == r);
  CHECK(routing(notify::encode_routing(Routing{})) == Routing{});
}

TEST_CASE("routing: every mistake of a file is reported with its path") {
  CHECK(errors(R"({"PHOTO_CREATED": {"channels": ["push"]},
                   "PHOTO_CREATE": {"channels": ["push", "fax", "push", 3], "every": true},
                   "LETTER_SEND": {"channels": []},
                   "COMMENT_PHOTO": {"all": "yes"},
                   "EMOTION_POKE": ["push"]})") ==
        std::vector<std::string>{"/PHOTO_CREATED unknown_type",
                                 "/PHOTO_CREATE/channels/1 invalid_value",
                                 "/PHOTO_CREATE/channels/2 invalid_value",
                                 "/PHOTO_CREATE/channels/3 expected_string",
                                 "/PHOTO_CREATE/every invalid_value",
                                 "/LETTER_SEND/channels empty_array",
                                 "/COMMENT_PHOTO/all expected_boolean",
                                 "/COMMENT_PHOTO/channels missing_field",
                                 "/EMOTION_POKE expected_object"});
  CHECK(errors(R"({"PHOTO_CREATE": {"channels": ["push"]}, "PHOTO_CREATE": {"channels": ["email"]}})") ==
        std::vector<std::string>{"/PHOTO_CREATE duplicate_field"});
  CHECK(errors("[]") == std::vector<std::string>{" expected_object"});
  CHECK(errors(R"({"PHOTO_CREATE": {"channels": ["push"]})") == std::vector<std::string>{" invalid_json"});
  CHECK(errors(R"({"a/b~": 1})") ==
        std::vector<std::string>{"/a~1b~0 expected_object", "/a~1b~0 unknown_type"});
  const auto r = notify::parse_routing(R"({"PHOTO_CREATE": {"channels": ["fax"]}})");
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error()[0].message == R"("fax" is not a channel (push, email, sms, alimtalk))");
}

TEST_CASE("routing: with push alone (the default policy) a member without a device gets nothing, as before") {
  const Families fs({Family{3, {member(1, ""), member(2, "t2", "b@x.kr", "+821000000002"),
                                member(3, "", "c@x.kr", "+821000000003")}}});
  CHECK(targets(notify::plan(request(birthday), fs)) == std::vector<std::string>{"fcm:t2"});
  CHECK(targets(notify::plan(request(notice(false)), fs)) == std::vector<std::string>{"fcm:t2"});
}

TEST_CASE("routing: the first channel that reaches a member is used, the rest are fallbacks") {
  const Families fs({Family{3, {member(1, ""), member(2, "t2", "b@x.kr", "+821000000002"),
                                member(3, "", "c@x.kr", "+821000000003"), member(4, "", "d@x.kr")}}});
  // Birthday: push, then AlimTalk. Member 4 has neither a device nor a phone.
  CHECK(targets(notify::plan(request(birthday), fs, with(every))) ==
        std::vector<std::string>{"fcm:t2", "alimtalk:+821000000003"});
  // Notice: push, then e-mail.
  CHECK(targets(notify::plan(request(notice(false)), fs, with(every))) ==
        std::vector<std::string>{"fcm:t2", "email:c@x.kr", "email:d@x.kr"});
  // Without an AlimTalk provider the birthday goes by push only.
  CHECK(targets(notify::plan(request(birthday), fs, with({Channel::push, Channel::email}))) ==
        std::vector<std::string>{"fcm:t2"});
}

TEST_CASE("routing: all sends on every channel of the route the member can be reached on") {
  const Routing r = routing(R"({"SERVICE_NOTICE": {"channels": ["push", "email", "sms"], "all": true}})");
  const Families fs({Family{3, {member(1, "t1", "a@x.kr", "+821000000001"), member(2, "", "b@x.kr")}}});
  CHECK(targets(notify::plan(request(notice(false)), fs, with(every, &r))) ==
        std::vector<std::string>{"fcm:t1", "email:a@x.kr", "sms:+821000000001", "email:b@x.kr"});
}

TEST_CASE("routing: a channel switched off in preferences passes to the next and all off is a skip") {
  Member a = member(1, "t1", "a@x.kr"), b = member(2, "t2", "b@x.kr");
  a.preferences.set(notify::Category::notice, Channel::push, false);
  b.preferences.set(notify::Category::notice, Channel::push, false);
  b.preferences.set(notify::Category::notice, Channel::email, false);
  const Families fs({Family{3, {a, b}}});
  const Plan p = notify::plan(request(notice(false)), fs, with(every));
  CHECK(targets(p) == std::vector<std::string>{"email:a@x.kr"});
  REQUIRE(p.skipped.size() == 1);
  CHECK(p.skipped[0].userId == 2);
  CHECK(p.skipped[0].reason == notify::SkipReason::muted_by_preference);
}

TEST_CASE("routing: SMS only when a route names it, and marketing never goes by AlimTalk") {
  const Families fs({Family{3, {member(1, "", "", "+821000000001")}}});
  const Routing ads = routing(R"({"SERVICE_NOTICE": {"channels": ["push", "alimtalk", "sms"]}})");
  // The catalog's notice route has no SMS: a member with only a phone gets nothing.
  CHECK(targets(notify::plan(request(notice(false)), fs, with(every))).empty());
  // With the file: AlimTalk for information, SMS for an advertisement (AlimTalk may not carry ads).
  CHECK(targets(notify::plan(request(notice(false)), fs, with(every, &ads))) ==
        std::vector<std::string>{"alimtalk:+821000000001"});
  Member m = notify::member_v1(1, "m1", "", true);
  m.phone = "+821000000001";
  const Families with_consent({Family{3, {m}}});
  CHECK(targets(notify::plan(request(notice(true)), with_consent, with(every, &ads))) ==
        std::vector<std::string>{"sms:+821000000001"});
}

TEST_CASE("routing: consent applies on every channel, and a shared address is sent once") {
  Member a = member(1, "", "family@x.kr"), b = member(2, "", "family@x.kr");
  const Families fs({Family{3, {a, b}}});
  const Plan p = notify::plan(request(notice(false)), fs, with(every));
  CHECK(targets(p) == std::vector<std::string>{"email:family@x.kr"});
  // A marketing notice without consent reaches nobody, whatever the channel.
  const Plan ads = notify::plan(request(notice(true)), fs, with(every));
  CHECK(targets(ads).empty());
  CHECK(ads.skipped.size() == 2);
  CHECK(ads.skipped[0].reason == notify::SkipReason::no_marketing_consent);
}

TEST_CASE("routing: every message of a plan carries its request's type") {
  const Families fs({Family{3, {member(1, "t1"), member(2, "t2")}}});
  const Plan p = notify::plan(request(photo), fs);
  REQUIRE_FALSE(p.messages.empty());
  for (const auto& m : p.messages) CHECK(m.type == NotificationType::PHOTO_CREATE);
}

TEST_CASE("routing: AlimTalk may fall back to SENS's SMS only where the route names sms after it and the member allows SMS") {
  Member a = member(3, "", "", "+821000000001"), b = member(2, "", "", "+821000000002");
  b.preferences.set(notify::Category::birthday, Channel::sms, false);
  const Families fs({Family{3, {member(1, "t1"), a, b}}});
  const auto fallback = [&](const Plan& p) {
    std::vector<std::string> out;
    for (const auto& m : p.messages)
      for (const auto& t : m.targets)
        out.push_back(std::string(t.token) + (t.sms_fallback ? " sms" : " -"));
    return out;
  };
  const std::string reminder =
      R"({"type":"NOTIFY_BIRTHDAY","param":{"familyIdsWithBirthdayUserId":[{"familyId":3,"birthdayUserId":1}]}})";
  // Built in (push, alimtalk): no SMS in place of AlimTalk.
  CHECK(fallback(notify::plan(request(reminder), fs, with(every))) ==
        std::vector<std::string>{"+821000000002 -", "+821000000001 -"});
  const Routing r = routing(R"({"NOTIFY_BIRTHDAY": {"channels": ["push", "alimtalk", "sms"]}})");
  CHECK(fallback(notify::plan(request(reminder), fs, with(every, &r))) ==
        std::vector<std::string>{"+821000000002 -", "+821000000001 sms"});
  const Routing before = routing(R"({"NOTIFY_BIRTHDAY": {"channels": ["sms", "alimtalk"]}})");
  CHECK(targets(notify::plan(request(reminder), fs, with(every, &before))) ==
        std::vector<std::string>{"alimtalk:+821000000002", "sms:+821000000001"});
}

TEST_CASE("routing: a member listed in two families of a request keeps the channel chosen first") {
  // Two copies of member 2 that disagree: a device in family 3's copy, none in family 4's.
  Member in3 = member(2, "t2", "two@x.kr"), in4 = member(2, "", "two@x.kr");
  const Families fs({Family{3, {member(1, "t1"), in3}}, Family{4, {in4}}});
  const std::string notice2 =
      R"({"type":"SERVICE_NOTICE","param":{"familyIds":[3,4],"title":"새 기능","body":"앨범이 바뀌었어요","marketing":false}})";
  CHECK(targets(notify::plan(request(notice2), fs, with(every))) == std::vector<std::string>{"fcm:t1", "fcm:t2"});
  // The other way round: e-mail first, and the device of the later copy is not pushed to.
  const Families reversed({Family{3, {member(1, "t1"), in4}}, Family{4, {in3}}});
  CHECK(targets(notify::plan(request(notice2), reversed, with(every))) ==
        std::vector<std::string>{"fcm:t1", "email:two@x.kr"});
}

TEST_CASE("routing: logs shorten e-mail addresses and phone numbers as they do device tokens") {
  CHECK(notify::short_token("mother@example.kr") == "mo...@example.kr");
  CHECK(notify::short_token("mom@x.kr") == "m...@x.kr");
  CHECK(notify::short_token("m@x.kr") == "m...@x.kr");
  CHECK(notify::short_token("+821012345678") == "+82...5678");
  CHECK(notify::short_token("+8212345") == "+82...45");
  CHECK(notify::short_token("token-mom-aaaaaaaaaaaaaaaa-0001") == "token-...0001");
}

namespace {

/// "rank service:address for member [first,last)" of every standby delivery, in plan order.
std::vector<std::string> standby(const Plan& p) {
  std::vector<std::string> out;
  for (const auto& m : p.messages)
    for (const auto& s : m.standby)
      out.push_back(std::to_string(s.rank) + " " + std::string(notify::to_string(s.target.service)) + ":" +
                    std::string(s.target.token) + (s.target.sms_fallback ? "+sms" : "") + " for " +
                    std::to_string(s.member) + " [" + std::to_string(s.first) + "," + std::to_string(s.last) + ")");
  return out;
}

}  // namespace

TEST_CASE("routing: the route's next channels stand behind the planned one, per member and rank") {
  Member two = member(2, "t2", "b@x.kr", "+821000000002");
  two.devices.push_back({"t2-ios", PushService::apns, "ios", {}, {}, {}});
  const Families fs({Family{3, {member(1, ""), two, member(3, "", "c@x.kr", "+821000000003")}}});
  // Notice: push, else e-mail. Member 2's two devices stand before their e-mail.
  const Plan p = notify::plan(request(notice(false)), fs, with(every));
  CHECK(targets(p) == std::vector<std::string>{"fcm:t2", "apns:t2-ios", "email:c@x.kr"});
  CHECK(standby(p) == std::vector<std::string>{"1 email:b@x.kr for 2 [0,2)"});
  // Push, e-mail, AlimTalk and SMS: AlimTalk with SENS's SMS failover is the last rank (no
  // SMS of our own after it).
  const Routing r = routing(R"({"SERVICE_NOTICE": {"channels": ["push", "email", "alimtalk", "sms"]}})");
  CHECK(standby(notify::plan(request(notice(false)), fs, with(every, &r))) ==
        std::vector<std::string>{"1 email:b@x.kr for 2 [0,2)", "2 alimtalk:+821000000002+sms for 2 [0,2)",
                                 "1 alimtalk:+821000000003+sms for 3 [2,3)"});
  // Without a provider for a channel, nothing stands by on it; with "all", nothing stands by.
  CHECK(standby(notify::plan(request(notice(false)), fs, with({Channel::push}))).empty());
  const Routing all = routing(R"({"SERVICE_NOTICE": {"channels": ["push", "email"], "all": true}})");
  CHECK(standby(notify::plan(request(notice(false)), fs, with(every, &all))).empty());
}

TEST_CASE("routing: an address is planned once: a delivery to it outranks keeping it back for someone else") {
  // Member 1 has a device and the family's shared address; member 2 only the address.
  const Families fs({Family{3, {member(1, "t1", "family@x.kr"), member(2, "", "family@x.kr")}}});
  const Plan p = notify::plan(request(notice(false)), fs, with(every));
  CHECK(targets(p) == std::vector<std::string>{"fcm:t1", "email:family@x.kr"});
  CHECK(standby(p).empty());
  // The other order: member 2's e-mail is planned first, so member 1 has nothing kept back.
  const Families reversed({Family{3, {member(2, "", "family@x.kr"), member(1, "t1", "family@x.kr")}}});
  CHECK(standby(notify::plan(request(notice(false)), reversed, with(every))).empty());
  // Two members sharing a phone behind their devices: kept back once, for the first.
  const Families three({Family{3, {member(1, "t1"), member(2, "t2", "", "+821000000009"),
                                   member(3, "t3", "", "+821000000009")}}});
  CHECK(standby(notify::plan(request(birthday), three, with(every))) ==
        std::vector<std::string>{"1 alimtalk:+821000000009 for 2 [0,1)"});
}

TEST_CASE("routing: past 32 targets too, a delivery to an address outranks keeping it back for someone else") {
  // Past linear_limit targets the planner looks tokens up in a table: the same rules.
  std::vector<Member> many;
  for (notify::Id k = 1; k <= 40; ++k) many.push_back(member(k, "d" + std::to_string(k)));
  many.push_back(member(41, "t41", "family@x.kr"));
  many.push_back(member(42, "", "family@x.kr"));
  many.push_back(member(43, "d1"));  // a device listed twice: pushed to once
  const Families fs({Family{3, many}});  // the plan's targets point into it
  const Plan p = notify::plan(request(notice(false)), fs, with(every));
  const auto t = targets(p);
  CHECK(t.size() == 42);
  CHECK(std::count(t.begin(), t.end(), "email:family@x.kr") == 1);
  CHECK(std::count(t.begin(), t.end(), "fcm:d1") == 1);
  CHECK(standby(p).empty());
}

TEST_CASE("routing: a member listed again gets no second fallback, and an ad never stands by on AlimTalk") {
  Member in3 = member(2, "t2", "two@x.kr"), again = member(2, "t2", "two@x.kr");
  const Families fs({Family{3, {member(1, "t1"), in3}}, Family{4, {again}}});
  const std::string notice2 =
      R"({"type":"SERVICE_NOTICE","param":{"familyIds":[3,4],"title":"새 기능","body":"앨범이 바뀌었어요","marketing":false}})";
  CHECK(standby(notify::plan(request(notice2), fs, with(every))) ==
        std::vector<std::string>{"1 email:two@x.kr for 2 [1,2)"});
  Member m = notify::member_v1(1, "m1", "t1", true);
  m.phone = "+821000000001";
  const Families ads({Family{3, {m}}});
  const Routing r = routing(R"({"SERVICE_NOTICE": {"channels": ["push", "alimtalk", "sms"]}})");
  CHECK(standby(notify::plan(request(notice(true)), ads, with(every, &r))) ==
        std::vector<std::string>{"1 sms:+821000000001 for 1 [0,1)"});
}
