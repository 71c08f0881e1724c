// SPDX-License-Identifier: MIT
#pragma once

/// Every text a user can see, in one place. `{}` marks where a (cleaned) name or preview
/// goes, in order. The texts are those of the running system, character for character.

#include <cstddef>
#include <string_view>

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

}  // namespace notify::catalog
