// SPDX-License-Identifier: MIT
#pragma once

/// The shared wire schema: the 15 notification types, one param struct each, and
/// the request envelope. Both the main API and the worker compile against this file.

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "notify/result.hpp"

namespace notify {

/// A family, user, letter, photo, ... id: a JSON integer in [1, INT64_MAX].
using Id = std::int64_t;

/// The 15 notification types; enumerators carry the exact wire names (typos included).
enum class NotificationType : std::uint8_t {
  MESSAGE_TODAY,
  MESSAGE_BIRTHDAY,
  COMMENT_MESSAGE,
  PHOTO_CREATE,
  COMMENT_PHOTO,
  LETTER_SEND,
  TIMECAPSULE_OPEN,
  NOTIFY_BIRTHDAY,
  EMOTION_CHOSEN,
  EMOTION_POKE,
  PEDIA_QUESTION_CREATED,
  PEDIA_QUESTION_EDITTED,
  PEDIA_ANSWER,
  PEDIA_EDIT_PHOTO,
  SERVICE_NOTICE,
};

/// The app screen a notification opens.
enum class Screen : std::uint8_t {
  none,
  MessageHome,
  MessageFamily,
  Photo,
  TimeCapsulesNav,
  LetterReceived,
  LetterSent,
  LetterSend,
  FamilyPediaMember,
};

/// The screen's wire name; empty for Screen::none.
constexpr std::string_view to_string(Screen s) noexcept {
  switch (s) {
    case Screen::none: return "";
    case Screen::MessageHome: return "MessageHome";
    case Screen::MessageFamily: return "MessageFamily";
    case Screen::Photo: return "Photo";
    case Screen::TimeCapsulesNav: return "TimeCapsulesNav";
    case Screen::LetterReceived: return "LetterReceived";
    case Screen::LetterSent: return "LetterSent";
    case Screen::LetterSend: return "LetterSend";
    case Screen::FamilyPediaMember: return "FamilyPediaMember";
  }
  return "";
}

/// The screen with this wire name (exact), or nullopt.
constexpr std::optional<Screen> parse_screen(std::string_view name) noexcept {
  for (int i = 1; i <= static_cast<int>(Screen::FamilyPediaMember); ++i)
    if (to_string(static_cast<Screen>(i)) == name) return static_cast<Screen>(i);
  return std::nullopt;
}

namespace detail {

/// A named data member: the unit the decoder, encoder, nlohmann conversions and
/// JSON Schema are all generated from, so the four can never disagree.
template <class S, class M>
struct Field {
  std::string_view name;
  M S::*member;
  using type = M;
};

template <class S, class M>
constexpr Field<S, M> field(std::string_view name, M S::*member) noexcept {
  return {name, member};
}

template <class T>
concept Described = requires { T::fields(); };

}  // namespace detail

/// MESSAGE_TODAY: today's story reached every listed family.
struct MessageTodayParam {
  static constexpr NotificationType type = NotificationType::MESSAGE_TODAY;
  std::vector<Id> familyIds;

  static constexpr auto fields() { return std::tuple{detail::field("familyIds", &MessageTodayParam::familyIds)}; }
  friend bool operator==(const MessageTodayParam&, const MessageTodayParam&) = default;
};

/// MESSAGE_BIRTHDAY: the birthday story, same audience as MESSAGE_TODAY.
struct MessageBirthdayParam {
  static constexpr NotificationType type = NotificationType::MESSAGE_BIRTHDAY;
  std::vector<Id> familyIds;

  static constexpr auto fields() { return std::tuple{detail::field("familyIds", &MessageBirthdayParam::familyIds)}; }
  friend bool operator==(const MessageBirthdayParam&, const MessageBirthdayParam&) = default;
};

/// COMMENT_MESSAGE: someone commented on a family story.
struct CommentMessageParam {
  static constexpr NotificationType type = NotificationType::COMMENT_MESSAGE;
  Id messageFamId = 0;
  Id authorId = 0;
  Id familyId = 0;
  std::optional<std::string> commentPreview;

  static constexpr auto fields() {
    using P = CommentMessageParam;
    return std::tuple{detail::field("messageFamId", &P::messageFamId), detail::field("authorId", &P::authorId),
                      detail::field("familyId", &P::familyId), detail::field("commentPreview", &P::commentPreview)};
  }
  friend bool operator==(const CommentMessageParam&, const CommentMessageParam&) = default;
};

/// PHOTO_CREATE: a photo was added to the family album.
struct PhotoCreateParam {
  static constexpr NotificationType type = NotificationType::PHOTO_CREATE;
  Id photoId = 0;
  Id authorId = 0;
  Id familyId = 0;
  std::optional<std::string> titlePreview;

  static constexpr auto fields() {
    using P = PhotoCreateParam;
    return std::tuple{detail::field("photoId", &P::photoId), detail::field("authorId", &P::authorId),
                      detail::field("familyId", &P::familyId), detail::field("titlePreview", &P::titlePreview)};
  }
  friend bool operator==(const PhotoCreateParam&, const PhotoCreateParam&) = default;
};

/// COMMENT_PHOTO: someone commented on an album photo.
struct CommentPhotoParam {
  static constexpr NotificationType type = NotificationType::COMMENT_PHOTO;
  Id photoId = 0;
  Id authorId = 0;
  Id familyId = 0;
  std::optional<std::string> commentPreview;

  static constexpr auto fields() {
    using P = CommentPhotoParam;
    return std::tuple{detail::field("photoId", &P::photoId), detail::field("authorId", &P::authorId),
                      detail::field("familyId", &P::familyId), detail::field("commentPreview", &P::commentPreview)};
  }
  friend bool operator==(const CommentPhotoParam&, const CommentPhotoParam&) = default;
};

/// LETTER_SEND: a letter (or a sealed time capsule) was written to one member.
struct LetterSendParam {
  static constexpr NotificationType type = NotificationType::LETTER_SEND;
  Id letterId = 0;
  bool isTimeCapsule = false;
  Id familyId = 0;
  Id receiverId = 0;

  static constexpr auto fields() {
    using P = LetterSendParam;
    return std::tuple{detail::field("letterId", &P::letterId), detail::field("isTimeCapsule", &P::isTimeCapsule),
                      detail::field("familyId", &P::familyId), detail::field("receiverId", &P::receiverId)};
  }
  friend bool operator==(const LetterSendParam&, const LetterSendParam&) = default;
};

/// One opened time capsule inside TIMECAPSULE_OPEN.
struct TimeCapsule {
  Id letterId = 0;
  Id receiverId = 0;
  Id senderId = 0;
  Id familyId = 0;

  static constexpr auto fields() {
    using P = TimeCapsule;
    return std::tuple{detail::field("letterId", &P::letterId), detail::field("receiverId", &P::receiverId),
                      detail::field("senderId", &P::senderId), detail::field("familyId", &P::familyId)};
  }
  friend bool operator==(const TimeCapsule&, const TimeCapsule&) = default;
};

/// TIMECAPSULE_OPEN: capsules whose opening day came. The wire key is `timaCapsules`.
struct TimeCapsulesOpenParam {
  static constexpr NotificationType type = NotificationType::TIMECAPSULE_OPEN;
  std::vector<TimeCapsule> timaCapsules;

  static constexpr auto fields() { return std::tuple{detail::field("timaCapsules", &TimeCapsulesOpenParam::timaCapsules)}; }
  friend bool operator==(const TimeCapsulesOpenParam&, const TimeCapsulesOpenParam&) = default;
};

/// One family with an upcoming birthday inside NOTIFY_BIRTHDAY.
struct BirthdayEntry {
  Id familyId = 0;
  Id birthdayUserId = 0;

  static constexpr auto fields() {
    return std::tuple{detail::field("familyId", &BirthdayEntry::familyId),
                      detail::field("birthdayUserId", &BirthdayEntry::birthdayUserId)};
  }
  friend bool operator==(const BirthdayEntry&, const BirthdayEntry&) = default;
};

/// NOTIFY_BIRTHDAY: remind the others of a member's coming birthday.
struct NotifyBirthdayParam {
  static constexpr NotificationType type = NotificationType::NOTIFY_BIRTHDAY;
  std::vector<BirthdayEntry> familyIdsWithBirthdayUserId;

  static constexpr auto fields() {
    return std::tuple{detail::field("familyIdsWithBirthdayUserId", &NotifyBirthdayParam::familyIdsWithBirthdayUserId)};
  }
  friend bool operator==(const NotifyBirthdayParam&, const NotifyBirthdayParam&) = default;
};

/// EMOTION_CHOSEN: a member picked today's emotion.
struct EmotionChosenParam {
  static constexpr NotificationType type = NotificationType::EMOTION_CHOSEN;
  Id familyId = 0;
  Id userId = 0;

  static constexpr auto fields() {
    return std::tuple{detail::field("familyId", &EmotionChosenParam::familyId),
                      detail::field("userId", &EmotionChosenParam::userId)};
  }
  friend bool operator==(const EmotionChosenParam&, const EmotionChosenParam&) = default;
};

/// EMOTION_POKE: the family asks a member to pick today's emotion.
struct EmotionPokeParam {
  static constexpr NotificationType type = NotificationType::EMOTION_POKE;
  Id familyId = 0;
  Id userId = 0;

  static constexpr auto fields() {
    return std::tuple{detail::field("familyId", &EmotionPokeParam::familyId),
                      detail::field("userId", &EmotionPokeParam::userId)};
  }
  friend bool operator==(const EmotionPokeParam&, const EmotionPokeParam&) = default;
};

/// PEDIA_QUESTION_CREATED: a question was added to a member's encyclopedia page.
struct PediaQuestionCreatedParam {
  static constexpr NotificationType type = NotificationType::PEDIA_QUESTION_CREATED;
  Id familyId = 0;
  Id ownerId = 0;

  static constexpr auto fields() {
    return std::tuple{detail::field("familyId", &PediaQuestionCreatedParam::familyId),
                      detail::field("ownerId", &PediaQuestionCreatedParam::ownerId)};
  }
  friend bool operator==(const PediaQuestionCreatedParam&, const PediaQuestionCreatedParam&) = default;
};

/// PEDIA_QUESTION_EDITTED (wire spelling): a question on a member's page was edited.
struct PediaQuestionEdittedParam {
  static constexpr NotificationType type = NotificationType::PEDIA_QUESTION_EDITTED;
  Id familyId = 0;
  Id ownerId = 0;

  static constexpr auto fields() {
    return std::tuple{detail::field("familyId", &PediaQuestionEdittedParam::familyId),
                      detail::field("ownerId", &PediaQuestionEdittedParam::ownerId)};
  }
  friend bool operator==(const PediaQuestionEdittedParam&, const PediaQuestionEdittedParam&) = default;
};

/// PEDIA_ANSWER: the owner answered a question on their encyclopedia page.
struct PediaAnswerParam {
  static constexpr NotificationType type = NotificationType::PEDIA_ANSWER;
  Id familyId = 0;
  Id ownerId = 0;

  static constexpr auto fields() {
    return std::tuple{detail::field("familyId", &PediaAnswerParam::familyId),
                      detail::field("ownerId", &PediaAnswerParam::ownerId)};
  }
  friend bool operator==(const PediaAnswerParam&, const PediaAnswerParam&) = default;
};

/// PEDIA_EDIT_PHOTO: someone changed the photo of a member's encyclopedia page.
struct PediaEditPhotoParam {
  static constexpr NotificationType type = NotificationType::PEDIA_EDIT_PHOTO;
  Id familyId = 0;
  Id ownerId = 0;
  Id editorId = 0;

  static constexpr auto fields() {
    using P = PediaEditPhotoParam;
    return std::tuple{detail::field("familyId", &P::familyId), detail::field("ownerId", &P::ownerId),
                      detail::field("editorId", &P::editorId)};
  }
  friend bool operator==(const PediaEditPhotoParam&, const PediaEditPhotoParam&) = default;
};

/// SERVICE_NOTICE: an operator's notice to every member of the listed families (split
/// into parts like MESSAGE_TODAY). A marketing notice follows Korea's rules for
/// advertising: only to members with marketing consent, at night only with night-time
/// consent (the others get it at 08:00 KST), "(광고)" before the title and the way to opt
/// out after the body. Push only: no inbox records.
struct ServiceNoticeParam {
  static constexpr NotificationType type = NotificationType::SERVICE_NOTICE;
  std::vector<Id> familyIds;
  std::string title;
  std::string body;
  bool marketing = false;
  std::optional<std::string> screen;  ///< a Screen's wire name
  std::optional<Id> paramId;          ///< the screen's id (photoId for Photo, ...); needs a screen that takes one

  static constexpr auto fields() {
    using P = ServiceNoticeParam;
    return std::tuple{detail::field("familyIds", &P::familyIds), detail::field("title", &P::title),
                      detail::field("body", &P::body),           detail::field("marketing", &P::marketing),
                      detail::field("screen", &P::screen),       detail::field("paramId", &P::paramId)};
  }
  /// The checks beyond the field types, with a checker of codec.hpp.
  template <class Checker>
  void check(Checker& c) const {
    auto at = [&](std::string_view field, std::string why) {
      const std::size_t mark = c.push(field);
      c.add(Errc::invalid_value, std::move(why));
      c.pop(mark);
    };
    if (title.find_first_not_of(" \t\r\n") == std::string::npos) at("title", "must not be blank");
    if (body.find_first_not_of(" \t\r\n") == std::string::npos) at("body", "must not be blank");
    const std::optional<Screen> s = screen ? parse_screen(*screen) : std::nullopt;
    if (screen && !s) at("screen", "not a screen of the app (MessageHome, MessageFamily, Photo, ...)");
    if (paramId && !screen) at("paramId", "needs a screen");
    if (paramId && s && (*s == Screen::MessageHome || *s == Screen::TimeCapsulesNav))
      at("paramId", "screen " + *screen + " takes no id");
  }
  friend bool operator==(const ServiceNoticeParam&, const ServiceNoticeParam&) = default;
};

/// Every param struct, in NotificationType order: the registry the compile-time checks walk.
using Param = std::variant<MessageTodayParam, MessageBirthdayParam, CommentMessageParam, PhotoCreateParam,
                           CommentPhotoParam, LetterSendParam, TimeCapsulesOpenParam, NotifyBirthdayParam,
                           EmotionChosenParam, EmotionPokeParam, PediaQuestionCreatedParam,
                           PediaQuestionEdittedParam, PediaAnswerParam, PediaEditPhotoParam, ServiceNoticeParam>;

/// The number of notification types.
inline constexpr std::size_t type_count = std::variant_size_v<Param>;

/// The wire names, indexed by NotificationType.
inline constexpr std::array<std::string_view, type_count> type_names = {
    "MESSAGE_TODAY",    "MESSAGE_BIRTHDAY", "COMMENT_MESSAGE", "PHOTO_CREATE",
    "COMMENT_PHOTO",    "LETTER_SEND",      "TIMECAPSULE_OPEN", "NOTIFY_BIRTHDAY",
    "EMOTION_CHOSEN",   "EMOTION_POKE",     "PEDIA_QUESTION_CREATED", "PEDIA_QUESTION_EDITTED",
    "PEDIA_ANSWER",     "PEDIA_EDIT_PHOTO", "SERVICE_NOTICE",
};

namespace detail {

/// True when T is the param struct of enumerator `expected` (its `type`) with a field list.
template <class T, auto expected>
concept ParamFor = Described<T> && requires {
  { T::type } -> std::convertible_to<decltype(expected)>;
} && (T::type == expected);

template <class Enum, class Variant, std::size_t... I>
constexpr bool params_in_order(std::index_sequence<I...>) {
  return (ParamFor<std::variant_alternative_t<I, Variant>, static_cast<Enum>(I)> && ...);
}

template <class Names>
constexpr bool names_present(const Names& names) {
  for (const std::string_view name : names)
    if (name.empty()) return false;
  return true;
}

/// The registry check: `Variant` lists one param struct per enumerator of `Enum` (`count`
/// of them, numbered from 0), in enum order, and `names` a non-empty wire name for each;
/// otherwise it does not compile. Generic so that tests/compile_fail can run it on a
/// registry with a type too many.
template <class Enum, class Variant, const auto& names, std::size_t count>
constexpr bool registry_is_complete() {
  static_assert(std::variant_size_v<Variant> == count, "every NotificationType needs a param struct in notify::Param");
  static_assert(std::size(names) == count, "every NotificationType needs a wire name in notify::type_names");
  if constexpr (std::variant_size_v<Variant> == count && std::size(names) == count) {
    static_assert(params_in_order<Enum, Variant>(std::make_index_sequence<count>{}),
                  "notify::Param must list one param struct per NotificationType, in enum order");
    static_assert(names_present(names), "every NotificationType needs a non-empty wire name");
  }
  return true;
}

inline constexpr std::size_t not_a_type = static_cast<std::size_t>(-1);

/// Switch over every enumerator: with -Werror=switch a new enumerator without a case fails.
constexpr std::size_t checked_index(NotificationType t) {
#pragma GCC diagnostic push
#pragma GCC diagnostic error "-Wswitch"
  switch (t) {
    case NotificationType::MESSAGE_TODAY:
    case NotificationType::MESSAGE_BIRTHDAY:
    case NotificationType::COMMENT_MESSAGE:
    case NotificationType::PHOTO_CREATE:
    case NotificationType::COMMENT_PHOTO:
    case NotificationType::LETTER_SEND:
    case NotificationType::TIMECAPSULE_OPEN:
    case NotificationType::NOTIFY_BIRTHDAY:
    case NotificationType::EMOTION_CHOSEN:
    case NotificationType::EMOTION_POKE:
    case NotificationType::PEDIA_QUESTION_CREATED:
    case NotificationType::PEDIA_QUESTION_EDITTED:
    case NotificationType::PEDIA_ANSWER:
    case NotificationType::PEDIA_EDIT_PHOTO:
    case NotificationType::SERVICE_NOTICE:
      return static_cast<std::size_t>(t);
  }
#pragma GCC diagnostic pop
  return not_a_type;
}

/// How many enumerators NotificationType has, as counted by checked_index's switch.
constexpr std::size_t enumerator_count() {
  std::size_t n = 0;
  for (unsigned v = 0; v <= 0xFF; ++v) n += checked_index(static_cast<NotificationType>(v)) != not_a_type;
  return n;
}

}  // namespace detail

// Adding an enumerator: checked_index stops compiling (-Wswitch) until it has a case; then
// the enumerator count grows, and this fails until Param and type_names list the new type.
static_assert(detail::registry_is_complete<NotificationType, Param, type_names, detail::enumerator_count()>());

/// The exact wire name of a type (empty for a value that is not an enumerator).
constexpr std::string_view to_string(NotificationType t) noexcept {
  const std::size_t i = detail::checked_index(t);
  return i < type_count ? type_names[i] : std::string_view{};
}

/// The type with this exact wire name, or nullopt for anything else (case-sensitive).
constexpr std::optional<NotificationType> parse_type(std::string_view name) noexcept {
  for (std::size_t i = 0; i < type_count; ++i)
    if (type_names[i] == name) return static_cast<NotificationType>(i);
  return std::nullopt;
}

/// The param struct of a type.
template <NotificationType T>
using param_t = std::variant_alternative_t<static_cast<std::size_t>(T), Param>;

/// One request: a typed param plus the optional envelope fields this project adds.
struct Request {
  Param param;
  /// Idempotency id chosen by the producer ("id" on the wire); empty when absent.
  std::string id;
  /// Producer's creation time in Unix milliseconds ("createdAt"); absent when unknown.
  std::optional<std::int64_t> createdAt;
  /// W3C Trace Context ("traceparent", see trace.hpp); empty when absent. The worker
  /// logs its trace id with every event of the request and copies it into the inbox
  /// records.
  std::string traceparent = {};
  /// When to send ("sendAt", RFC 3339 on the wire), in Unix milliseconds; absent: now.
  /// The request is held until then; its inbox records are written when it is sent.
  std::optional<std::int64_t> sendAt = {};

  NotificationType type() const noexcept { return static_cast<NotificationType>(param.index()); }

  friend bool operator==(const Request&, const Request&) = default;
};

}  // namespace notify
