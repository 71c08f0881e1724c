// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "notify/codec.hpp"
#include "notify/schema.hpp"

namespace {

using notify::Errc;
using notify::Errors;
using notify::Request;

std::string describe(const Errors& errors) {
  std::string s;
  for (const auto& e : errors) {
    s += std::string(notify::to_string(e.code)) + " at '" + e.path + "': " + e.message + "\n";
  }
  return s;
}

Request decode_ok(std::string_view body, const notify::Limits& limits = {}) {
  auto r = notify::decode(body, limits);
  INFO("body: ", std::string(body));
  REQUIRE_MESSAGE(r.has_value(), describe(r.error()));
  return std::move(r).value();
}

template <class P>
P decode_as(std::string_view body) {
  const Request r = decode_ok(body);
  REQUIRE(std::holds_alternative<P>(r.param));
  CHECK(r.type() == P::type);
  return std::get<P>(r.param);
}

Errors decode_errors(std::string_view body, const notify::Limits& limits = {}) {
  auto r = notify::decode(body, limits);
  INFO("body: ", std::string(body));
  REQUIRE_FALSE(r.has_value());
  return r.error();
}

bool has_error(const Errors& errors, Errc code, std::string_view path) {
  for (const auto& e : errors)
    if (e.code == code && e.path == path) return true;
  return false;
}

/// (code, path) pairs, the part of an error that decode and validate must agree on.
std::vector<std::pair<Errc, std::string>> codes_and_paths(const Errors& errors) {
  std::vector<std::pair<Errc, std::string>> out;
  for (const auto& e : errors) out.emplace_back(e.code, e.path);
  return out;
}

std::string repeat(std::string_view unit, std::size_t n) {
  std::string s;
  s.reserve(unit.size() * n);
  for (std::size_t i = 0; i < n; ++i) s += unit;
  return s;
}

std::string id_list(std::size_t n) {
  std::string s = "[";
  for (std::size_t i = 0; i < n; ++i) {
    if (i) s += ',';
    s += std::to_string(i + 1);
  }
  return s + "]";
}

}  // namespace

// ---- positive decoding, one case per type ----------------------------------------

TEST_CASE("decode reads MESSAGE_TODAY and MESSAGE_BIRTHDAY family ids in order") {
  const auto today = decode_as<notify::MessageTodayParam>(
      R"({"type":"MESSAGE_TODAY","param":{"familyIds":[3,17,42,9223372036854775807]}})");
  CHECK(today.familyIds == std::vector<notify::Id>{3, 17, 42, std::numeric_limits<std::int64_t>::max()});
  const auto birthday =
      decode_as<notify::MessageBirthdayParam>(R"({"type":"MESSAGE_BIRTHDAY","param":{"familyIds":[17]}})");
  CHECK(birthday.familyIds == std::vector<notify::Id>{17});
}

TEST_CASE("decode reads COMMENT_MESSAGE with its Korean preview") {
  const auto p = decode_as<notify::CommentMessageParam>(
      R"({"type": "COMMENT_MESSAGE", "param": {"familyId": 3, "messageFamId": 29001, "authorId": 7, "commentPreview": "오늘 저녁은 외식!"}})");
  CHECK(p.messageFamId == 29001);
  CHECK(p.authorId == 7);
  CHECK(p.familyId == 3);
  REQUIRE(p.commentPreview.has_value());
  CHECK(*p.commentPreview == "오늘 저녁은 외식!");
}

TEST_CASE("decode reads PHOTO_CREATE and COMMENT_PHOTO") {
  const auto created = decode_as<notify::PhotoCreateParam>(
      R"({"type":"PHOTO_CREATE","param":{"photoId":5120,"authorId":12,"familyId":3,"titlePreview":"제주도 가족여행"}})");
  CHECK(created == notify::PhotoCreateParam{5120, 12, 3, "제주도 가족여행"});
  const auto comment = decode_as<notify::CommentPhotoParam>(
      R"({"type":"COMMENT_PHOTO","param":{"photoId":5120,"authorId":14,"familyId":3,"commentPreview":"귀엽다"}})");
  CHECK(comment == notify::CommentPhotoParam{5120, 14, 3, "귀엽다"});
}

TEST_CASE("decode reads LETTER_SEND with either value of isTimeCapsule") {
  const auto letter = decode_as<notify::LetterSendParam>(
      R"({"type":"LETTER_SEND","param":{"letterId":881,"isTimeCapsule":false,"familyId":3,"receiverId":12}})");
  CHECK(letter == notify::LetterSendParam{881, false, 3, 12});
  const auto capsule = decode_as<notify::LetterSendParam>(
      R"({"type":"LETTER_SEND","param":{"letterId":882,"isTimeCapsule":true,"familyId":3,"receiverId":14}})");
  CHECK(capsule.isTimeCapsule);
  CHECK(capsule.letterId == 882);
  CHECK(capsule.receiverId == 14);
}

TEST_CASE("decode reads TIMECAPSULE_OPEN from the misspelled timaCapsules key") {
  const auto p = decode_as<notify::TimeCapsulesOpenParam>(
      R"({"type":"TIMECAPSULE_OPEN","param":{"timaCapsules":[)"
      R"({"letterId":700,"receiverId":12,"senderId":3,"familyId":3},)"
      R"({"familyId":17,"senderId":41,"receiverId":40,"letterId":731}]}})");
  REQUIRE(p.timaCapsules.size() == 2);
  CHECK(p.timaCapsules[0] == notify::TimeCapsule{700, 12, 3, 3});
  CHECK(p.timaCapsules[1] == notify::TimeCapsule{731, 40, 41, 17});
  // The correctly spelled key is just an unknown field.
  const auto errors =
      decode_errors(R"({"type":"TIMECAPSULE_OPEN","param":{"timeCapsules":[{"letterId":1,"receiverId":2,"senderId":3,"familyId":4}]}})");
  CHECK(has_error(errors, Errc::missing_field, "param.timaCapsules"));
}

TEST_CASE("decode reads NOTIFY_BIRTHDAY entries") {
  const auto p = decode_as<notify::NotifyBirthdayParam>(
      R"({"type":"NOTIFY_BIRTHDAY","param":{"familyIdsWithBirthdayUserId":[{"familyId":3,"birthdayUserId":14},{"birthdayUserId":40,"familyId":17}]}})");
  REQUIRE(p.familyIdsWithBirthdayUserId.size() == 2);
  CHECK(p.familyIdsWithBirthdayUserId[0] == notify::BirthdayEntry{3, 14});
  CHECK(p.familyIdsWithBirthdayUserId[1] == notify::BirthdayEntry{17, 40});
}

TEST_CASE("decode reads EMOTION_CHOSEN and EMOTION_POKE") {
  CHECK(decode_as<notify::EmotionChosenParam>(R"({"type":"EMOTION_CHOSEN","param":{"familyId":3,"userId":12}})") ==
        notify::EmotionChosenParam{3, 12});
  CHECK(decode_as<notify::EmotionPokeParam>(R"({"type":"EMOTION_POKE","param":{"userId":14,"familyId":3}})") ==
        notify::EmotionPokeParam{3, 14});
}

TEST_CASE("decode reads the four PEDIA types") {
  CHECK(decode_as<notify::PediaQuestionCreatedParam>(
            R"({"type":"PEDIA_QUESTION_CREATED","param":{"familyId":3,"ownerId":12}})") ==
        notify::PediaQuestionCreatedParam{3, 12});
  CHECK(decode_as<notify::PediaQuestionEdittedParam>(
            R"({"type":"PEDIA_QUESTION_EDITTED","param":{"familyId":4,"ownerId":13}})") ==
        notify::PediaQuestionEdittedParam{4, 13});
  CHECK(decode_as<notify::PediaAnswerParam>(R"({"type":"PEDIA_ANSWER","param":{"familyId":5,"ownerId":14}})") ==
        notify::PediaAnswerParam{5, 14});
  CHECK(decode_as<notify::PediaEditPhotoParam>(
            R"({"type":"PEDIA_EDIT_PHOTO","param":{"familyId":6,"ownerId":15,"editorId":16}})") ==
        notify::PediaEditPhotoParam{6, 15, 16});
}

TEST_CASE("decode reads the optional envelope id and createdAt") {
  const Request r = decode_ok(
      R"({"type":"EMOTION_POKE","param":{"familyId":3,"userId":14},"id":"req-01:a.b_C","createdAt":1714532400000})");
  CHECK(r.id == "req-01:a.b_C");
  REQUIRE(r.createdAt.has_value());
  CHECK(*r.createdAt == 1714532400000);

  const Request bare = decode_ok(R"({"type":"EMOTION_POKE","param":{"familyId":3,"userId":14}})");
  CHECK(bare.id.empty());
  CHECK_FALSE(bare.createdAt.has_value());

  const Request nulls =
      decode_ok(R"({"type":"EMOTION_POKE","param":{"familyId":3,"userId":14},"id":null,"createdAt":null})");
  CHECK(nulls.id.empty());
  CHECK_FALSE(nulls.createdAt.has_value());
  CHECK(nulls == bare);

  const Request longest = decode_ok(R"({"type":"EMOTION_POKE","param":{"familyId":3,"userId":14},"id":")" +
                                    std::string(128, 'x') + "\"}");
  CHECK(longest.id.size() == 128);
}

// ---- optional fields, unknown fields, order ---------------------------------------

TEST_CASE("a null or absent optional text decodes to nullopt, an empty one to an empty string") {
  const auto null_title = decode_as<notify::PhotoCreateParam>(
      R"({"type":"PHOTO_CREATE","param":{"photoId":1,"authorId":2,"familyId":3,"titlePreview":null}})");
  CHECK_FALSE(null_title.titlePreview.has_value());
  const auto absent = decode_as<notify::CommentMessageParam>(
      R"({"type":"COMMENT_MESSAGE","param":{"messageFamId":1,"authorId":2,"familyId":3}})");
  CHECK_FALSE(absent.commentPreview.has_value());
  const auto null_comment = decode_as<notify::CommentPhotoParam>(
      R"({"type":"COMMENT_PHOTO","param":{"photoId":1,"authorId":2,"familyId":3,"commentPreview":null}})");
  CHECK_FALSE(null_comment.commentPreview.has_value());
  const auto empty = decode_as<notify::CommentMessageParam>(
      R"({"type":"COMMENT_MESSAGE","param":{"messageFamId":1,"authorId":2,"familyId":3,"commentPreview":""}})");
  REQUIRE(empty.commentPreview.has_value());
  CHECK(empty.commentPreview->empty());
}

TEST_CASE("unknown top-level and param fields of any shape are ignored") {
  const Request plain =
      decode_ok(R"({"type":"COMMENT_MESSAGE","param":{"messageFamId":1,"authorId":2,"familyId":3,"commentPreview":"hi"}})");
  const Request extra = decode_ok(
      R"({"version":2,"trace":{"a":[1,2,{"b":null}]},"type":"COMMENT_MESSAGE","x":"y",)"
      R"("param":{"messageId":9,"messageFamId":1,"meta":{"k":[true,false,1.5e3,"\u00e9"]},"authorId":2,)"
      R"("familyId":3,"commentPreview":"hi","authorName":"엄마","z":null},"zz":[]})");
  CHECK(extra == plain);
  // Unknown fields inside array items are ignored too.
  const auto capsules = decode_as<notify::TimeCapsulesOpenParam>(
      R"({"type":"TIMECAPSULE_OPEN","param":{"timaCapsules":[{"letterId":1,"receiverId":2,"senderId":3,"familyId":4,"openedAt":"2024-05-01"}]}})");
  CHECK(capsules.timaCapsules.at(0) == notify::TimeCapsule{1, 2, 3, 4});
}

TEST_CASE("the order of type, param and envelope fields does not matter") {
  const Request type_first = decode_ok(
      R"({"type":"COMMENT_MESSAGE","param":{"messageFamId":1,"authorId":2,"familyId":3,"commentPreview":"안녕"},"id":"a","createdAt":5})");
  const Request param_first = decode_ok(
      R"({"param":{"messageFamId":1,"authorId":2,"familyId":3,"commentPreview":"안녕"},"createdAt":5,"id":"a","type":"COMMENT_MESSAGE"})");
  const Request middle = decode_ok(
      R"({"id":"a","param":{"commentPreview":"안녕","familyId":3,"authorId":2,"messageFamId":1},"createdAt":5,"type":"COMMENT_MESSAGE"})");
  CHECK(param_first == type_first);
  CHECK(middle == type_first);
  // Param-first with nested arrays of objects.
  const auto capsules = decode_as<notify::TimeCapsulesOpenParam>(
      R"({"param":{"timaCapsules":[{"letterId":1,"receiverId":2,"senderId":3,"familyId":4}]},"type":"TIMECAPSULE_OPEN"})");
  CHECK(capsules.timaCapsules.at(0) == notify::TimeCapsule{1, 2, 3, 4});
}

TEST_CASE("value errors get the same codes and paths whether param comes before or after type") {
  const std::string param =
      R"({"messageFamId":0,"authorId":"2","familyId":3.5,"commentPreview":")" + std::string("\xff") + R"("})";
  const auto first = decode_errors(R"({"type":"COMMENT_MESSAGE","param":)" + param + "}");
  const auto last = decode_errors(R"({"param":)" + param + R"(,"type":"COMMENT_MESSAGE"})");
  CHECK(codes_and_paths(first) == codes_and_paths(last));
  CHECK(has_error(last, Errc::invalid_utf8, "param.commentPreview"));
  CHECK(has_error(last, Errc::out_of_range, "param.messageFamId"));
  CHECK(first.size() == 4);
}

TEST_CASE("a syntax error inside a param that comes first is reported at its byte in the whole body") {
  const std::string body = R"({"param":{"familyId":3,"userId":12,"x":[1,]},"type":"EMOTION_POKE"})";
  const auto errors = decode_errors(body);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].code == Errc::invalid_json);
  CHECK(errors[0].path.empty());
  const auto at = body.find(",]") + 1;
  CHECK(errors[0].message.find("at byte " + std::to_string(at)) != std::string::npos);
}

TEST_CASE("white space between tokens is accepted") {
  const auto p = decode_as<notify::MessageTodayParam>(
      " \r\n\t{ \"type\" :\n\"MESSAGE_TODAY\" ,\t\"param\" : { \"familyIds\" : [ 1 ,\r\n 2 ] } } \n");
  CHECK(p.familyIds == std::vector<notify::Id>{1, 2});
}

// ---- escapes ----------------------------------------------------------------------

TEST_CASE("\\u escapes and surrogate pairs in texts are decoded to UTF-8") {
  const auto p = decode_as<notify::CommentMessageParam>(
      R"({"type":"COMMENT_MESSAGE","param":{"messageFamId":1,"authorId":2,"familyId":3,)"
      R"("commentPreview":"\uc0dd\uc77c \ucd95\ud558\ud574\uc694 \ud83c\udf82 \u00e9\u0041\/\"\\\b\f\n\r\t"}})");
  REQUIRE(p.commentPreview.has_value());
  CHECK(*p.commentPreview == "생일 축하해요 \xF0\x9F\x8E\x82 \xC3\xA9" "A/\"\\\b\f\n\r\t");
  // Upper-case hex digits and escaped keys work as well.
  const auto q = decode_as<notify::PhotoCreateParam>(
      R"({"\u0074ype":"PHOTO_CREATE","param":{"photoId":1,"authorId":2,"familyId":3,"\u0074itlePreview":"\uD83D\uDC4D\uAC00"}})");
  REQUIRE(q.titlePreview.has_value());
  CHECK(*q.titlePreview == "\xF0\x9F\x91\x8D\xEA\xB0\x80");
}

TEST_CASE("a lone surrogate escape becomes U+FFFD instead of failing the request") {
  const auto preview = [](std::string_view escaped) {
    const auto p = decode_as<notify::CommentMessageParam>(
        R"({"type":"COMMENT_MESSAGE","param":{"messageFamId":1,"authorId":2,"familyId":3,"commentPreview":")" +
        std::string(escaped) + "\"}}");
    REQUIRE(p.commentPreview.has_value());
    return *p.commentPreview;
  };
  const std::string fffd(notify::replacement_character);
  CHECK(preview(R"(\ud83d)") == fffd);                        // high surrogate at the end
  CHECK(preview(R"(a\ud83db)") == "a" + fffd + "b");          // high surrogate before a letter
  CHECK(preview(R"(\ude00)") == fffd);                        // low surrogate alone
  CHECK(preview(R"(\ud83d\ud83d)") == fffd + fffd);           // two highs
  CHECK(preview(R"(\ud83d\u0041)") == fffd + "A");            // high then a BMP escape
  CHECK(preview(R"(\ude00\ud83d\ude00)") == fffd + "\xF0\x9F\x98\x80");  // low, then a good pair
}

// ---- validate on typed structs ------------------------------------------------------

TEST_CASE("validate accepts every well-formed request") {
  CHECK(notify::validate(Request{notify::MessageTodayParam{{3, 17}}, {}, {}}).empty());
  CHECK(notify::validate(Request{notify::CommentMessageParam{1, 2, 3, std::nullopt}, "req-1", 1}).empty());
  CHECK(notify::validate(Request{notify::PhotoCreateParam{1, 2, 3, std::string(4096, 'a')}, {}, {}}).empty());
  CHECK(notify::validate(Request{notify::TimeCapsulesOpenParam{{{1, 2, 3, 4}}}, {}, 1714532400000}).empty());
  CHECK(notify::validate(Request{notify::MessageTodayParam{std::vector<notify::Id>(1000, 1)}, {}, {}}).empty());
}

TEST_CASE("validate reports the same codes and paths as decode for the same bad values") {
  struct Case {
    const char* name;
    Request typed;
    std::string body;
  };
  const std::string long_text(4097, 'a');
  const std::vector<Case> cases = {
      {"id 0", Request{notify::CommentMessageParam{0, 2, 3, {}}, {}, {}},
       R"({"type":"COMMENT_MESSAGE","param":{"messageFamId":0,"authorId":2,"familyId":3}})"},
      {"negative id", Request{notify::EmotionPokeParam{3, -1}, {}, {}},
       R"({"type":"EMOTION_POKE","param":{"familyId":3,"userId":-1}})"},
      {"empty familyIds", Request{notify::MessageTodayParam{}, {}, {}},
       R"({"type":"MESSAGE_TODAY","param":{"familyIds":[]}})"},
      {"too many familyIds", Request{notify::MessageBirthdayParam{std::vector<notify::Id>(1001, 1)}, {}, {}},
       R"({"type":"MESSAGE_BIRTHDAY","param":{"familyIds":)" + id_list(1001) + "}}"},
      {"bad family id item", Request{notify::MessageTodayParam{{1, 2, 3, 0}}, {}, {}},
       R"({"type":"MESSAGE_TODAY","param":{"familyIds":[1,2,3,0]}})"},
      {"empty timaCapsules", Request{notify::TimeCapsulesOpenParam{}, {}, {}},
       R"({"type":"TIMECAPSULE_OPEN","param":{"timaCapsules":[]}})"},
      {"bad capsule sender",
       Request{notify::TimeCapsulesOpenParam{{{1, 2, 3, 4}, {5, 6, 7, 8}, {9, 10, 0, 12}}}, {}, {}},
       R"({"type":"TIMECAPSULE_OPEN","param":{"timaCapsules":[{"letterId":1,"receiverId":2,"senderId":3,"familyId":4},)"
       R"({"letterId":5,"receiverId":6,"senderId":7,"familyId":8},{"letterId":9,"receiverId":10,"senderId":0,"familyId":12}]}})"},
      {"bad birthday user", Request{notify::NotifyBirthdayParam{{{3, 14}, {17, 0}}}, {}, {}},
       R"({"type":"NOTIFY_BIRTHDAY","param":{"familyIdsWithBirthdayUserId":[{"familyId":3,"birthdayUserId":14},{"familyId":17,"birthdayUserId":0}]}})"},
      {"long comment", Request{notify::CommentPhotoParam{1, 2, 3, long_text}, {}, {}},
       R"({"type":"COMMENT_PHOTO","param":{"photoId":1,"authorId":2,"familyId":3,"commentPreview":")" + long_text +
           "\"}}"},
      {"long Korean title", Request{notify::PhotoCreateParam{1, 2, 3, repeat("가", 1366)}, {}, {}},
       R"({"type":"PHOTO_CREATE","param":{"photoId":1,"authorId":2,"familyId":3,"titlePreview":")" +
           repeat("가", 1366) + "\"}}"},
      {"invalid UTF-8 comment", Request{notify::CommentMessageParam{1, 2, 3, "ab\xC3"}, {}, {}},
       R"({"type":"COMMENT_MESSAGE","param":{"messageFamId":1,"authorId":2,"familyId":3,"commentPreview":"ab)"
       "\xC3" R"("}})"},
      {"surrogate bytes in title", Request{notify::PhotoCreateParam{1, 2, 3, "\xED\xA0\x80"}, {}, {}},
       R"({"type":"PHOTO_CREATE","param":{"photoId":1,"authorId":2,"familyId":3,"titlePreview":")"
       "\xED\xA0\x80" R"("}})"},
      {"several problems", Request{notify::PediaEditPhotoParam{0, -5, 0}, {}, {}},
       R"({"type":"PEDIA_EDIT_PHOTO","param":{"familyId":0,"ownerId":-5,"editorId":0}})"},
      {"bad request id characters", Request{notify::EmotionChosenParam{3, 12}, "a b", {}},
       R"({"type":"EMOTION_CHOSEN","param":{"familyId":3,"userId":12},"id":"a b"})"},
      {"request id too long", Request{notify::EmotionChosenParam{3, 12}, std::string(129, 'r'), {}},
       R"({"type":"EMOTION_CHOSEN","param":{"familyId":3,"userId":12},"id":")" + std::string(129, 'r') + "\"}"},
      {"negative createdAt", Request{notify::EmotionChosenParam{3, 12}, {}, -1},
       R"({"type":"EMOTION_CHOSEN","param":{"familyId":3,"userId":12},"createdAt":-1})"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    const Errors from_validate = notify::validate(c.typed);
    const Errors from_decode = decode_errors(c.body);
    INFO("validate: ", describe(from_validate));
    INFO("decode: ", describe(from_decode));
    CHECK_FALSE(from_validate.empty());
    CHECK(codes_and_paths(from_validate) == codes_and_paths(from_decode));
  }
}

TEST_CASE("validate finds the path of a bad item deep inside an array") {
  const auto errors =
      notify::validate(Request{notify::TimeCapsulesOpenParam{{{1, 2, 3, 4}, {5, 6, 7, 8}, {9, 10, 0, 12}}}, {}, {}});
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].code == Errc::out_of_range);
  CHECK(errors[0].path == "param.timaCapsules[2].senderId");
}

TEST_CASE("a request validate accepts survives encode and decode unchanged") {
  const std::vector<Request> requests = {
      Request{notify::EmotionChosenParam{3, 12}, {}, 0},
      Request{notify::EmotionChosenParam{3, 12}, {}, 1},
      Request{notify::EmotionChosenParam{3, 12}, "x", std::numeric_limits<std::int64_t>::max()},
      Request{notify::CommentMessageParam{1, 2, 3, ""}, {}, {}},
      Request{notify::CommentMessageParam{1, 2, 3, "tab\tnew\nline \"q\" \\ \x01"}, {}, {}},
      Request{notify::MessageTodayParam{{std::numeric_limits<std::int64_t>::max()}}, {}, {}},
  };
  for (const auto& r : requests) {
    const std::string wire = notify::encode(r);
    CAPTURE(wire);
    const bool valid = notify::validate(r).empty();
    const auto back = notify::decode(wire);
    CHECK(valid == back.has_value());
    if (back) CHECK(*back == r);
  }
}

// ---- encode -----------------------------------------------------------------------

TEST_CASE("encode writes the exact compact wire form of every type") {
  using notify::encode;
  CHECK(encode(notify::MessageTodayParam{{3, 17}}) == R"({"type":"MESSAGE_TODAY","param":{"familyIds":[3,17]}})");
  CHECK(encode(notify::MessageBirthdayParam{{17}}) == R"({"type":"MESSAGE_BIRTHDAY","param":{"familyIds":[17]}})");
  CHECK(encode(notify::CommentMessageParam{29001, 3, 3, "오늘 저녁은 외식!"}) ==
        R"({"type":"COMMENT_MESSAGE","param":{"messageFamId":29001,"authorId":3,"familyId":3,"commentPreview":"오늘 저녁은 외식!"}})");
  CHECK(encode(notify::PhotoCreateParam{5120, 12, 3, "제주도"}) ==
        R"({"type":"PHOTO_CREATE","param":{"photoId":5120,"authorId":12,"familyId":3,"titlePreview":"제주도"}})");
  CHECK(encode(notify::CommentPhotoParam{5120, 14, 3, "귀엽다"}) ==
        R"({"type":"COMMENT_PHOTO","param":{"photoId":5120,"authorId":14,"familyId":3,"commentPreview":"귀엽다"}})");
  CHECK(encode(notify::LetterSendParam{881, true, 3, 12}) ==
        R"({"type":"LETTER_SEND","param":{"letterId":881,"isTimeCapsule":true,"familyId":3,"receiverId":12}})");
  CHECK(encode(notify::LetterSendParam{881, false, 3, 12}) ==
        R"({"type":"LETTER_SEND","param":{"letterId":881,"isTimeCapsule":false,"familyId":3,"receiverId":12}})");
  CHECK(encode(notify::TimeCapsulesOpenParam{{{700, 12, 3, 3}, {731, 40, 41, 17}}}) ==
        R"({"type":"TIMECAPSULE_OPEN","param":{"timaCapsules":[{"letterId":700,"receiverId":12,"senderId":3,"familyId":3},)"
        R"({"letterId":731,"receiverId":40,"senderId":41,"familyId":17}]}})");
  CHECK(encode(notify::NotifyBirthdayParam{{{3, 14}, {17, 40}}}) ==
        R"({"type":"NOTIFY_BIRTHDAY","param":{"familyIdsWithBirthdayUserId":[{"familyId":3,"birthdayUserId":14},{"familyId":17,"birthdayUserId":40}]}})");
  CHECK(encode(notify::EmotionChosenParam{3, 12}) == R"({"type":"EMOTION_CHOSEN","param":{"familyId":3,"userId":12}})");
  CHECK(encode(notify::EmotionPokeParam{3, 14}) == R"({"type":"EMOTION_POKE","param":{"familyId":3,"userId":14}})");
  CHECK(encode(notify::PediaQuestionCreatedParam{3, 12}) ==
        R"({"type":"PEDIA_QUESTION_CREATED","param":{"familyId":3,"ownerId":12}})");
  CHECK(encode(notify::PediaQuestionEdittedParam{3, 12}) ==
        R"({"type":"PEDIA_QUESTION_EDITTED","param":{"familyId":3,"ownerId":12}})");
  CHECK(encode(notify::PediaAnswerParam{3, 14}) == R"({"type":"PEDIA_ANSWER","param":{"familyId":3,"ownerId":14}})");
  CHECK(encode(notify::PediaEditPhotoParam{3, 14, 12}) ==
        R"({"type":"PEDIA_EDIT_PHOTO","param":{"familyId":3,"ownerId":14,"editorId":12}})");
}

TEST_CASE("encode writes the envelope id and createdAt only when set") {
  const notify::EmotionPokeParam p{3, 14};
  CHECK(notify::encode(Request{p, "req-7", 1714532400000}) ==
        R"({"type":"EMOTION_POKE","param":{"familyId":3,"userId":14},"id":"req-7","createdAt":1714532400000})");
  CHECK(notify::encode(Request{p, "req-7", std::nullopt}) ==
        R"({"type":"EMOTION_POKE","param":{"familyId":3,"userId":14},"id":"req-7"})");
  CHECK(notify::encode(Request{p, "", 5}) == R"({"type":"EMOTION_POKE","param":{"familyId":3,"userId":14},"createdAt":5})");
  CHECK(notify::encode(Request{p, {}, {}}) == notify::encode(p));
}

TEST_CASE("encode omits an absent optional text and keeps an empty one") {
  CHECK(notify::encode(notify::CommentMessageParam{1, 2, 3, std::nullopt}) ==
        R"({"type":"COMMENT_MESSAGE","param":{"messageFamId":1,"authorId":2,"familyId":3}})");
  CHECK(notify::encode(notify::PhotoCreateParam{1, 2, 3, std::nullopt}) ==
        R"({"type":"PHOTO_CREATE","param":{"photoId":1,"authorId":2,"familyId":3}})");
  CHECK(notify::encode(notify::CommentPhotoParam{1, 2, 3, ""}) ==
        R"({"type":"COMMENT_PHOTO","param":{"photoId":1,"authorId":2,"familyId":3,"commentPreview":""}})");
}

TEST_CASE("encode escapes quotes, backslashes and control characters and keeps other text as UTF-8") {
  CHECK(notify::encode(notify::CommentMessageParam{1, 2, 3, "\"a\"\\b\n\r\t\b\f\x01\x1f\x7f/é🎂"}) ==
        R"({"type":"COMMENT_MESSAGE","param":{"messageFamId":1,"authorId":2,"familyId":3,"commentPreview":"\"a\"\\b\n\r\t\b\f\u0001\u001f)"
        "\x7f/é🎂\"}}");
}

TEST_CASE("encode writes invalid UTF-8 as U+FFFD so its output is always valid") {
  const std::string out = notify::encode(notify::CommentMessageParam{1, 2, 3, "a\xFF" "b\xC3\xED\xA0\x80" "c"});
  CHECK(out == R"({"type":"COMMENT_MESSAGE","param":{"messageFamId":1,"authorId":2,"familyId":3,"commentPreview":"a)"
               "\xEF\xBF\xBD" "b" "\xEF\xBF\xBD" "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" "c\"}}");
  CHECK(notify::is_valid_utf8(out));
  const auto back = decode_as<notify::CommentMessageParam>(out);
  REQUIRE(back.commentPreview.has_value());
  CHECK(notify::is_valid_utf8(*back.commentPreview));
  const std::string bad_id = notify::encode(Request{notify::EmotionPokeParam{3, 14}, "\xFF", {}});
  CHECK(bad_id == R"({"type":"EMOTION_POKE","param":{"familyId":3,"userId":14},"id":")" "\xEF\xBF\xBD" "\"}");
}

// ---- limits -----------------------------------------------------------------------

TEST_CASE("the default limits are the documented ones") {
  const notify::Limits limits;
  CHECK(limits.max_body_bytes == 1024 * 1024);
  CHECK(limits.max_depth == 32);
  CHECK(limits.max_text_bytes == 4096);
  CHECK(limits.max_items == 1000);
  CHECK(limits.max_request_id_bytes == 128);
}

TEST_CASE("values exactly at the default limits are accepted") {
  const std::string text(4096, 'a');
  const auto p = decode_as<notify::CommentMessageParam>(
      R"({"type":"COMMENT_MESSAGE","param":{"messageFamId":1,"authorId":2,"familyId":3,"commentPreview":")" + text + "\"}}");
  CHECK(p.commentPreview == text);
  const auto korean = repeat("가", 1365);  // 4095 bytes
  CHECK(decode_as<notify::PhotoCreateParam>(
            R"({"type":"PHOTO_CREATE","param":{"photoId":1,"authorId":2,"familyId":3,"titlePreview":")" + korean + "\"}}")
            .titlePreview == korean);
  CHECK(decode_as<notify::MessageTodayParam>(R"({"type":"MESSAGE_TODAY","param":{"familyIds":)" + id_list(1000) + "}}")
            .familyIds.size() == 1000);
  // Depth 32: the envelope (1), param (2) and 30 nested arrays in an unknown field.
  const std::string deep = R"({"type":"EMOTION_POKE","param":{"familyId":3,"userId":14,"x":)" + std::string(30, '[') +
                           std::string(30, ']') + "}}";
  CHECK(decode_as<notify::EmotionPokeParam>(deep).userId == 14);
  const std::string too_deep = R"({"type":"EMOTION_POKE","param":{"familyId":3,"userId":14,"x":)" +
                               std::string(31, '[') + std::string(31, ']') + "}}";
  const auto errors = decode_errors(too_deep);
  CHECK(has_error(errors, Errc::too_deep, ""));
  // A body of exactly max_body_bytes passes the size check.
  std::string body = R"({"type":"EMOTION_POKE","param":{"familyId":3,"userId":14}})";
  body += std::string(1024 * 1024 - body.size(), ' ');
  CHECK(decode_as<notify::EmotionPokeParam>(body).familyId == 3);
}

TEST_CASE("a custom Limits is honoured by decode and validate") {
  notify::Limits limits;
  limits.max_body_bytes = 200;
  limits.max_depth = 4;
  limits.max_text_bytes = 6;
  limits.max_items = 2;
  limits.max_request_id_bytes = 3;

  const std::string ok = R"({"type":"COMMENT_MESSAGE","param":{"messageFamId":1,"authorId":2,"familyId":3,"commentPreview":"가나"},"id":"abc"})";
  CHECK(decode_ok(ok, limits).id == "abc");

  auto errors = decode_errors(
      R"({"type":"COMMENT_MESSAGE","param":{"messageFamId":1,"authorId":2,"familyId":3,"commentPreview":"가나다"}})", limits);
  CHECK(has_error(errors, Errc::too_long, "param.commentPreview"));
  CHECK(has_error(notify::validate(Request{notify::CommentMessageParam{1, 2, 3, "가나다"}, {}, {}}, limits),
                  Errc::too_long, "param.commentPreview"));
  CHECK(notify::validate(Request{notify::CommentMessageParam{1, 2, 3, "가나"}, {}, {}}, limits).empty());

  errors = decode_errors(R"({"type":"MESSAGE_TODAY","param":{"familyIds":[1,2,3]}})", limits);
  CHECK(has_error(errors, Errc::too_many_items, "param.familyIds"));
  CHECK(has_error(notify::validate(Request{notify::MessageTodayParam{{1, 2, 3}}, {}, {}}, limits),
                  Errc::too_many_items, "param.familyIds"));
  CHECK(decode_ok(R"({"type":"MESSAGE_TODAY","param":{"familyIds":[1,2]}})", limits).type() ==
        notify::NotificationType::MESSAGE_TODAY);

  errors = decode_errors(R"({"type":"EMOTION_POKE","param":{"familyId":3,"userId":14},"id":"abcd"})", limits);
  CHECK(has_error(errors, Errc::too_long, "id"));
  CHECK(has_error(notify::validate(Request{notify::EmotionPokeParam{3, 14}, "abcd", {}}, limits), Errc::too_long, "id"));

  // Envelope (1) > param (2) > timaCapsules (3) > capsule (4) fits; one more level does not.
  CHECK(decode_ok(R"({"type":"TIMECAPSULE_OPEN","param":{"timaCapsules":[{"letterId":1,"receiverId":2,"senderId":3,"familyId":4}]}})",
                  limits)
            .type() == notify::NotificationType::TIMECAPSULE_OPEN);
  errors = decode_errors(
      R"({"type":"TIMECAPSULE_OPEN","param":{"timaCapsules":[{"letterId":1,"receiverId":2,"senderId":3,"familyId":4,"x":[]}]}})",
      limits);
  CHECK(has_error(errors, Errc::too_deep, ""));
  // The same depth limit applies when param comes first.
  errors = decode_errors(
      R"({"param":{"timaCapsules":[{"letterId":1,"receiverId":2,"senderId":3,"familyId":4,"x":[]}]},"type":"TIMECAPSULE_OPEN"})",
      limits);
  CHECK(has_error(errors, Errc::too_deep, ""));

  errors = decode_errors(std::string(201, ' '), limits);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].code == Errc::body_too_large);
}
