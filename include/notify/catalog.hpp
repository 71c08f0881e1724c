// SPDX-License-Identifier: MIT
#pragma once

/// Every text a user can see, in one place. `{}` marks where a (cleaned) name or preview
/// goes, in order. The texts are those of the running system, character for character.

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string_view>

#include "notify/members.hpp"
#include "notify/schema.hpp"

namespace notify::catalog {

// Titles.
inline constexpr std::string_view title_story = "우리가 이야기";
inline constexpr std::string_view title_album = "우리가 앨범";
inline constexpr std::string_view title_letter = "우리가 편지";
inline constexpr std::string_view title_birthday = "우리가 생일";
inline constexpr std::string_view title_emotion = "오늘의 우리가";
inline constexpr std::string_view title_emotion_poke = "오늘의 감정을 선택해주세요";
inline constexpr std::string_view title_pedia = "우리가 인물사전";

// Bodies.
inline constexpr std::string_view story_arrived = "오늘의 이야기가 도착했습니다!";
inline constexpr std::string_view comment_message = "{} 님이 이야기에 댓글을 작성했습니다! \"{}\"";
inline constexpr std::string_view comment_message_no_preview = "{} 님이 이야기에 댓글을 작성했습니다!";
inline constexpr std::string_view photo_created_own = "새로운 사진 등록이 완료됐습니다!";
inline constexpr std::string_view photo_created = "{} 님이 앨범에 새로운 사진을 등록했습니다! \"{}\"";
inline constexpr std::string_view photo_created_no_preview = "{} 님이 앨범에 새로운 사진을 등록했습니다!";
inline constexpr std::string_view comment_photo = "{} 님이 사진에 댓글을 작성했습니다! \"{}\"";
inline constexpr std::string_view comment_photo_no_preview = "{} 님이 사진에 댓글을 작성했습니다!";
inline constexpr std::string_view letter_time_capsule = "우리가족이 {} 님에게 새로운 타임캡슐을 작성했습니다!";
inline constexpr std::string_view letter_arrived = "우리가족이 {} 님에게 작성한 편지가 도착했습니다!";
inline constexpr std::string_view capsule_opened_receiver = "기다리고 있던 타임캡슐이 공개되었습니다!";
inline constexpr std::string_view capsule_opened_sender = "{} 님에게 작성한 타임캡슐이 공개되었습니다!";
inline constexpr std::string_view birthday_soon =
    "곧 사랑하는 우리가족 {} 님의 생일이에요! 따뜻한 축하의 편지를 전해보아요";
inline constexpr std::string_view emotion_chosen = "{} 님이 오늘의 감정을 선택했습니다!";
inline constexpr std::string_view emotion_poke = "가족들이 {} 님의 기분을 궁금해합니다!";
inline constexpr std::string_view pedia_question_created = "{} 님의 인물사전에 새로운 질문이 등록되었습니다!";
inline constexpr std::string_view pedia_question_edited = "{} 님의 인물사전에 등록된 질문이 수정되었습니다!";
inline constexpr std::string_view pedia_answer = "{} 님이 인물사전에 새로운 답변을 등록했습니다!";
inline constexpr std::string_view pedia_photo_changed = "{} 님의 인물사전 사진이 변경되었습니다!";

/// The name shown for a member the store does not know (or whose name is empty), so
/// that a stale actor never stops the others from being notified.
inline constexpr std::string_view unknown_member = "가족";

/// Code points of a comment kept by Preview10 before "..." is added.
inline constexpr std::size_t preview_code_points = 10;

// Advertising (정보통신망법 §50 and KISA's guidance for app pushes): a marketing notice's
// title starts with "(광고)" and its body ends with how to opt out.
inline constexpr std::string_view ad_title_prefix = "(광고) ";
inline constexpr std::string_view ad_opt_out = "\n수신거부: 앱 설정 > 알림 > 광고성 알림 끄기";

/// How members' settings apply to a type: the preference category a member switches it
/// off under, and whether it may reach a member during their quiet hours.
struct TypeRules {
  Category category;
  bool breaks_quiet_hours;
};

/// The table, one case per type (a type without one does not compile). Only operators'
/// notices that are not marketing (an outage, a security notice) break quiet hours; a
/// marketing notice never does. Everything else waits until the quiet hours end.
constexpr TypeRules rules_of(NotificationType t) noexcept {
#pragma GCC diagnostic push
#pragma GCC diagnostic error "-Wswitch"
  using T = NotificationType;
  switch (t) {
    case T::MESSAGE_TODAY: return {Category::message, false};
    case T::MESSAGE_BIRTHDAY: return {Category::birthday, false};
    case T::COMMENT_MESSAGE: return {Category::message, false};
    case T::PHOTO_CREATE: return {Category::photo, false};
    case T::COMMENT_PHOTO: return {Category::photo, false};
    case T::LETTER_SEND: return {Category::letter, false};
    case T::TIMECAPSULE_OPEN: return {Category::letter, false};
    case T::NOTIFY_BIRTHDAY: return {Category::birthday, false};
    case T::EMOTION_CHOSEN: return {Category::emotion, false};
    case T::EMOTION_POKE: return {Category::emotion, false};
    case T::PEDIA_QUESTION_CREATED: return {Category::pedia, false};
    case T::PEDIA_QUESTION_EDITTED: return {Category::pedia, false};
    case T::PEDIA_ANSWER: return {Category::pedia, false};
    case T::PEDIA_EDIT_PHOTO: return {Category::pedia, false};
    case T::SERVICE_NOTICE: return {Category::notice, true};
  }
#pragma GCC diagnostic pop
  return {Category::notice, false};
}

/// The channels a type may reach a member through, in order of preference: the first
/// channel the member can be reached on (an address, a provider for it, preferences that
/// allow it) is used, the rest are fallbacks; with `all`, every one of them is used.
struct Route {
  std::array<Channel, channel_count> channels{};
  std::uint8_t size = 0;
  bool all = false;

  constexpr Route() = default;
  constexpr Route(std::initializer_list<Channel> list, bool every = false) noexcept : all(every) {
    for (Channel c : list)
      if (size < channel_count) channels[size++] = c;
  }
  constexpr const Channel* begin() const noexcept { return channels.data(); }
  constexpr const Channel* end() const noexcept { return channels.data() + size; }
  constexpr bool uses(Channel c) const noexcept {
    for (Channel x : *this)
      if (x == c) return true;
    return false;
  }
  friend constexpr bool operator==(const Route& a, const Route& b) noexcept {
    if (a.size != b.size || a.all != b.all) return false;
    for (std::size_t i = 0; i < a.size; ++i)
      if (a.channels[i] != b.channels[i]) return false;
    return true;
  }
};

/// The built-in routes (a routing file may replace any; see notify/routing.hpp). Family
/// activity goes by push only. A birthday reminder falls back to KakaoTalk AlimTalk for a
/// member without a usable device, an operators' notice to e-mail. SMS costs money per
/// message: no type uses it unless a routing file says so.
constexpr Route route_of(NotificationType t) noexcept {
  using T = NotificationType;
  switch (t) {
    case T::MESSAGE_BIRTHDAY:
    case T::NOTIFY_BIRTHDAY: return {Channel::push, Channel::alimtalk};
    case T::SERVICE_NOTICE: return {Channel::push, Channel::email};
    default: return {Channel::push};
  }
}

}  // namespace notify::catalog
