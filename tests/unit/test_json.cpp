// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "notify/codec.hpp"
#include "notify/json.hpp"
#include "notify/schema.hpp"

namespace {

using nlohmann::json;
using notify::Request;

/// to_json gives `expected`, and from_json of `expected` gives the struct back.
template <class P>
void check_both_ways(const P& value, const json& expected) {
  const json j = value;
  INFO("to_json: ", j.dump());
  CHECK(j == expected);
  CHECK(expected.get<P>() == value);
  CHECK(j.get<P>() == value);
}

/// One request of every type, with the optional parts set where the type has them.
std::vector<Request> one_of_each() {
  return {
      Request{notify::MessageTodayParam{{3, 17}}, {}, {}},
      Request{notify::MessageBirthdayParam{{17}}, "birthday-1", {}},
      Request{notify::CommentMessageParam{29001, 3, 3, "오늘 저녁은 외식!"}, {}, 1714532400000},
      Request{notify::PhotoCreateParam{5120, 12, 3, std::nullopt}, {}, {}},
      Request{notify::CommentPhotoParam{5120, 14, 3, "귀엽다 \xF0\x9F\x98\x80"}, "c:1", 1},
      Request{notify::LetterSendParam{881, true, 3, 12}, {}, {}},
      Request{notify::TimeCapsulesOpenParam{{{700, 12, 3, 3}, {731, 40, 41, 17}}}, {}, {}},
      Request{notify::NotifyBirthdayParam{{{3, 14}}}, {}, {}},
      Request{notify::EmotionChosenParam{3, 12}, {}, {}},
      Request{notify::EmotionPokeParam{3, 14}, {}, {}},
      Request{notify::PediaQuestionCreatedParam{3, 12}, {}, {}},
      Request{notify::PediaQuestionEdittedParam{3, 12}, {}, {}},
      Request{notify::PediaAnswerParam{3, 14}, {}, {}},
      Request{notify::PediaEditPhotoParam{3, 14, std::numeric_limits<std::int64_t>::max()}, {}, {}},
  };
}

}  // namespace

TEST_CASE("to_json and from_json map every param struct to its wire object") {
  check_both_ways(notify::MessageTodayParam{{3, 17}}, json::parse(R"({"familyIds":[3,17]})"));
  check_both_ways(notify::MessageBirthdayParam{{17}}, json::parse(R"({"familyIds":[17]})"));
  check_both_ways(notify::CommentMessageParam{29001, 3, 3, "안녕"},
                  json::parse(R"({"messageFamId":29001,"authorId":3,"familyId":3,"commentPreview":"안녕"})"));
  check_both_ways(notify::CommentMessageParam{29001, 3, 3, std::nullopt},
                  json::parse(R"({"messageFamId":29001,"authorId":3,"familyId":3})"));
  check_both_ways(notify::PhotoCreateParam{5120, 12, 3, "제주도"},
                  json::parse(R"({"photoId":5120,"authorId":12,"familyId":3,"titlePreview":"제주도"})"));
  check_both_ways(notify::CommentPhotoParam{5120, 14, 3, ""},
                  json::parse(R"({"photoId":5120,"authorId":14,"familyId":3,"commentPreview":""})"));
  check_both_ways(notify::LetterSendParam{881, true, 3, 12},
                  json::parse(R"({"letterId":881,"isTimeCapsule":true,"familyId":3,"receiverId":12})"));
  check_both_ways(notify::TimeCapsule{700, 12, 3, 3},
                  json::parse(R"({"letterId":700,"receiverId":12,"senderId":3,"familyId":3})"));
  check_both_ways(notify::TimeCapsulesOpenParam{{{700, 12, 3, 3}}},
                  json::parse(R"({"timaCapsules":[{"letterId":700,"receiverId":12,"senderId":3,"familyId":3}]})"));
  check_both_ways(notify::BirthdayEntry{3, 14}, json::parse(R"({"familyId":3,"birthdayUserId":14})"));
  check_both_ways(notify::NotifyBirthdayParam{{{3, 14}, {17, 40}}},
                  json::parse(R"({"familyIdsWithBirthdayUserId":[{"familyId":3,"birthdayUserId":14},{"familyId":17,"birthdayUserId":40}]})"));
  check_both_ways(notify::EmotionChosenParam{3, 12}, json::parse(R"({"familyId":3,"userId":12})"));
  check_both_ways(notify::EmotionPokeParam{3, 14}, json::parse(R"({"familyId":3,"userId":14})"));
  check_both_ways(notify::PediaQuestionCreatedParam{3, 12}, json::parse(R"({"familyId":3,"ownerId":12})"));
  check_both_ways(notify::PediaQuestionEdittedParam{3, 12}, json::parse(R"({"familyId":3,"ownerId":12})"));
  check_both_ways(notify::PediaAnswerParam{3, 14}, json::parse(R"({"familyId":3,"ownerId":14})"));
  check_both_ways(notify::PediaEditPhotoParam{3, 14, 12}, json::parse(R"({"familyId":3,"ownerId":14,"editorId":12})"));
}

TEST_CASE("from_json reads a null optional as absent and ignores unknown keys") {
  const auto p = json::parse(R"({"photoId":1,"authorId":2,"familyId":3,"titlePreview":null,"extra":[1]})")
                     .get<notify::PhotoCreateParam>();
  CHECK(p == notify::PhotoCreateParam{1, 2, 3, std::nullopt});
  const auto q = json::parse(R"({"x":{},"familyId":3,"userId":12})").get<notify::EmotionChosenParam>();
  CHECK(q == notify::EmotionChosenParam{3, 12});
}

TEST_CASE("every Request round-trips through nlohmann and matches the codec's wire form") {
  for (const auto& r : one_of_each()) {
    const std::string wire = notify::encode(r);
    CAPTURE(wire);
    const json j = r;
    CHECK(j == json::parse(wire));
    CHECK(j.at("type") == std::string(notify::to_string(r.type())));
    CHECK(j.get<Request>() == r);
    CHECK(json::parse(wire).get<Request>() == r);
    // And the codec reads what nlohmann writes.
    const auto back = notify::decode(j.dump());
    REQUIRE(back.has_value());
    CHECK(*back == r);
  }
}

TEST_CASE("to_json of a Request writes id and createdAt only when set") {
  const json bare = Request{notify::EmotionPokeParam{3, 14}, {}, {}};
  CHECK_FALSE(bare.contains("id"));
  CHECK_FALSE(bare.contains("createdAt"));
  CHECK(bare.size() == 2);
  const json full = Request{notify::EmotionPokeParam{3, 14}, "req-1", 1714532400000};
  CHECK(full.at("id") == "req-1");
  CHECK(full.at("createdAt") == 1714532400000);
}

TEST_CASE("from_json of a Request reads the param in either key order") {
  const auto r = json::parse(R"({"param":{"familyId":3,"ownerId":12},"type":"PEDIA_QUESTION_EDITTED","id":"x"})")
                     .get<Request>();
  CHECK(r.type() == notify::NotificationType::PEDIA_QUESTION_EDITTED);
  CHECK(std::get<notify::PediaQuestionEdittedParam>(r.param) == notify::PediaQuestionEdittedParam{3, 12});
  CHECK(r.id == "x");
  CHECK_FALSE(r.createdAt.has_value());
}

TEST_CASE("from_json of an unknown type throws nlohmann::json::exception") {
  const json j = json::parse(R"({"type":"MESSAGE_TOMORROW","param":{"familyIds":[1]}})");
  CHECK_THROWS_AS(j.get<Request>(), nlohmann::json::exception);
  CHECK_THROWS_AS(json::parse(R"({"type":"message_today","param":{"familyIds":[1]}})").get<Request>(),
                  nlohmann::json::exception);
}

TEST_CASE("from_json of a wrong shape throws nlohmann::json::exception") {
  CHECK_THROWS_AS(json::parse(R"({"param":{"familyIds":[1]}})").get<Request>(), nlohmann::json::exception);
  CHECK_THROWS_AS(json::parse(R"({"type":"MESSAGE_TODAY"})").get<Request>(), nlohmann::json::exception);
  CHECK_THROWS_AS(json::parse(R"({"type":3,"param":{}})").get<Request>(), nlohmann::json::exception);
  CHECK_THROWS_AS(json::parse(R"({"familyId":3})").get<notify::EmotionPokeParam>(), nlohmann::json::exception);
  CHECK_THROWS_AS(json::parse(R"({"familyId":"3","userId":4})").get<notify::EmotionPokeParam>(),
                  nlohmann::json::exception);
  CHECK_THROWS_AS(json::parse(R"([1,2])").get<notify::EmotionPokeParam>(), nlohmann::json::exception);
  CHECK_THROWS_AS(json::parse(R"({"timaCapsules":[1]})").get<notify::TimeCapsulesOpenParam>(),
                  nlohmann::json::exception);
  CHECK_THROWS_AS(
      json::parse(R"({"letterId":1,"isTimeCapsule":"yes","familyId":3,"receiverId":4})").get<notify::LetterSendParam>(),
      nlohmann::json::exception);
}
