// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <array>
#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include "notify/schema.hpp"

namespace {

using notify::NotificationType;

struct NamedType {
  NotificationType type;
  std::string_view name;
};

// Spelled out by hand (not taken from type_names) so a typo in the header is caught.
constexpr std::array<NamedType, 14> expected_names = {{
    {NotificationType::MESSAGE_TODAY, "MESSAGE_TODAY"},
    {NotificationType::MESSAGE_BIRTHDAY, "MESSAGE_BIRTHDAY"},
    {NotificationType::COMMENT_MESSAGE, "COMMENT_MESSAGE"},
    {NotificationType::PHOTO_CREATE, "PHOTO_CREATE"},
    {NotificationType::COMMENT_PHOTO, "COMMENT_PHOTO"},
    {NotificationType::LETTER_SEND, "LETTER_SEND"},
    {NotificationType::TIMECAPSULE_OPEN, "TIMECAPSULE_OPEN"},
    {NotificationType::NOTIFY_BIRTHDAY, "NOTIFY_BIRTHDAY"},
    {NotificationType::EMOTION_CHOSEN, "EMOTION_CHOSEN"},
    {NotificationType::EMOTION_POKE, "EMOTION_POKE"},
    {NotificationType::PEDIA_QUESTION_CREATED, "PEDIA_QUESTION_CREATED"},
    {NotificationType::PEDIA_QUESTION_EDITTED, "PEDIA_QUESTION_EDITTED"},
    {NotificationType::PEDIA_ANSWER, "PEDIA_ANSWER"},
    {NotificationType::PEDIA_EDIT_PHOTO, "PEDIA_EDIT_PHOTO"},
}};

template <NotificationType T, class Expected>
constexpr bool param_is() {
  return std::is_same_v<notify::param_t<T>, Expected> && notify::param_t<T>::type == T;
}

// param_t<T> names the right struct and that struct reports T back.
static_assert(param_is<NotificationType::MESSAGE_TODAY, notify::MessageTodayParam>());
static_assert(param_is<NotificationType::MESSAGE_BIRTHDAY, notify::MessageBirthdayParam>());
static_assert(param_is<NotificationType::COMMENT_MESSAGE, notify::CommentMessageParam>());
static_assert(param_is<NotificationType::PHOTO_CREATE, notify::PhotoCreateParam>());
static_assert(param_is<NotificationType::COMMENT_PHOTO, notify::CommentPhotoParam>());
static_assert(param_is<NotificationType::LETTER_SEND, notify::LetterSendParam>());
static_assert(param_is<NotificationType::TIMECAPSULE_OPEN, notify::TimeCapsulesOpenParam>());
static_assert(param_is<NotificationType::NOTIFY_BIRTHDAY, notify::NotifyBirthdayParam>());
static_assert(param_is<NotificationType::EMOTION_CHOSEN, notify::EmotionChosenParam>());
static_assert(param_is<NotificationType::EMOTION_POKE, notify::EmotionPokeParam>());
static_assert(param_is<NotificationType::PEDIA_QUESTION_CREATED, notify::PediaQuestionCreatedParam>());
static_assert(param_is<NotificationType::PEDIA_QUESTION_EDITTED, notify::PediaQuestionEdittedParam>());
static_assert(param_is<NotificationType::PEDIA_ANSWER, notify::PediaAnswerParam>());
static_assert(param_is<NotificationType::PEDIA_EDIT_PHOTO, notify::PediaEditPhotoParam>());

// Usable at compile time.
static_assert(notify::to_string(NotificationType::PEDIA_QUESTION_EDITTED) == "PEDIA_QUESTION_EDITTED");
static_assert(notify::parse_type("TIMECAPSULE_OPEN") == NotificationType::TIMECAPSULE_OPEN);
static_assert(!notify::parse_type("TIME_CAPSULE_OPEN").has_value());

template <std::size_t... I>
bool every_param_reports_its_index(std::index_sequence<I...>) {
  return ((static_cast<std::size_t>(notify::param_t<static_cast<NotificationType>(I)>::type) == I) && ...);
}

}  // namespace

TEST_CASE("there are exactly 15 notification types") {
  CHECK(notify::type_count == 15);
  CHECK(std::variant_size_v<notify::Param> == 15);
  CHECK(notify::type_names.size() == 15);
}

TEST_CASE("to_string gives the exact wire name of every type") {
  for (const auto& [type, name_ref] : expected_names) {
    const std::string_view name = name_ref;  // clang 14 cannot capture a structured binding
    CAPTURE(name);
    CHECK(notify::to_string(type) == name);
  }
}

TEST_CASE("parse_type accepts every exact wire name") {
  for (const auto& [type, name_ref] : expected_names) {
    const std::string_view name = name_ref;  // clang 14 cannot capture a structured binding
    CAPTURE(name);
    const auto parsed = notify::parse_type(name);
    REQUIRE(parsed.has_value());
    CHECK(*parsed == type);
    CHECK(notify::to_string(*parsed) == name);
  }
}

TEST_CASE("the wire names are distinct") {
  std::set<std::string_view> names;
  for (const auto name : notify::type_names) names.insert(name);
  CHECK(names.size() == notify::type_count);
}

TEST_CASE("parse_type is case-sensitive and rejects near misses") {
  for (const auto& [type, name_ref] : expected_names) {
    const std::string_view name = name_ref;  // clang 14 cannot capture a structured binding
    CAPTURE(name);
    std::string lower(name);
    for (char& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    CHECK_FALSE(notify::parse_type(lower).has_value());
    CHECK_FALSE(notify::parse_type(std::string(name) + " ").has_value());
    CHECK_FALSE(notify::parse_type(" " + std::string(name)).has_value());
    CHECK_FALSE(notify::parse_type(name.substr(0, name.size() - 1)).has_value());
    CHECK_FALSE(notify::parse_type(std::string(name) + '\0').has_value());
  }
  // The typos are the wire names; the corrected spellings are not.
  CHECK_FALSE(notify::parse_type("PEDIA_QUESTION_EDITED").has_value());
  CHECK_FALSE(notify::parse_type("Message_Today").has_value());
  CHECK_FALSE(notify::parse_type("").has_value());
  CHECK_FALSE(notify::parse_type("UNKNOWN").has_value());
}

TEST_CASE("param_t of every type is a struct whose type is that type") {
  CHECK(every_param_reports_its_index(std::make_index_sequence<notify::type_count>{}));
  CHECK(notify::param_t<NotificationType::TIMECAPSULE_OPEN>::type == NotificationType::TIMECAPSULE_OPEN);
  CHECK(notify::param_t<NotificationType::PEDIA_EDIT_PHOTO>::type == NotificationType::PEDIA_EDIT_PHOTO);
}

TEST_CASE("a request reports the type of the param it holds") {
  notify::Request r{notify::PediaQuestionEdittedParam{3, 12}, {}, {}};
  CHECK(r.type() == NotificationType::PEDIA_QUESTION_EDITTED);
  r.param = notify::TimeCapsulesOpenParam{{{700, 12, 3, 3}}};
  CHECK(r.type() == NotificationType::TIMECAPSULE_OPEN);
  r.param = notify::MessageTodayParam{{3}};
  CHECK(r.type() == NotificationType::MESSAGE_TODAY);
}

TEST_CASE("the field lists carry the exact wire keys") {
  CHECK(std::get<0>(notify::TimeCapsulesOpenParam::fields()).name == "timaCapsules");
  CHECK(std::get<0>(notify::NotifyBirthdayParam::fields()).name == "familyIdsWithBirthdayUserId");
  CHECK(std::get<0>(notify::CommentMessageParam::fields()).name == "messageFamId");
  CHECK(std::get<3>(notify::CommentMessageParam::fields()).name == "commentPreview");
  CHECK(std::get<3>(notify::PhotoCreateParam::fields()).name == "titlePreview");
  CHECK(std::get<1>(notify::LetterSendParam::fields()).name == "isTimeCapsule");
  CHECK(std::get<1>(notify::BirthdayEntry::fields()).name == "birthdayUserId");
  CHECK(std::get<2>(notify::PediaEditPhotoParam::fields()).name == "editorId");
}
