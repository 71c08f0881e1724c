// SPDX-License-Identifier: MIT
// The exact bytes FCM receives for each of the 14 notification types, planned for a sample
// family and sent through the emulator (which also checks FCM's body shape).
#include <map>
#include <set>

#include "common.hpp"

using namespace fcmtest;

namespace {

/// What one device must receive: the texts as they appear inside JSON strings (escaped)
/// and the whole "data" object.
struct Expected {
  std::string token;
  std::string title;
  std::string body;
  std::string data;
};

struct Case {
  std::string request;
  std::vector<Expected> pushes;
};

/// SPEC.md "Push", written out once: the body of messages:send for one token.
std::string wire(const Expected& e) {
  std::string data = e.data.empty() ? "" : R"(,"data":)" + e.data;
  return R"({"message":{"token":")" + e.token + R"(","notification":{"title":")" + e.title + R"(","body":")" + e.body +
         R"("})" + data + R"(,"android":{"priority":"high","notification":{"title":")" + e.title + R"(","body":")" +
         e.body +
         R"(","icon":"default","sound":"default","channel_id":"500","notification_priority":"PRIORITY_HIGH"}},"apns":{"payload":{"aps":{"sound":"default"}}}}})";
}

std::vector<Case> cases() {
  const std::string story = R"({"screen":"MessageHome"})";
  return {
      {R"({"type":"MESSAGE_TODAY","param":{"familyIds":[3]}})",
       {{"tok-mom", "우리가 이야기", "오늘의 이야기가 도착했습니다!", story},
        {"tok-dad", "우리가 이야기", "오늘의 이야기가 도착했습니다!", story},
        {"tok-minji", "우리가 이야기", "오늘의 이야기가 도착했습니다!", story}}},
      {R"({"type":"MESSAGE_BIRTHDAY","param":{"familyIds":[3]}})",
       {{"tok-mom", "우리가 이야기", "오늘의 이야기가 도착했습니다!", story},
        {"tok-dad", "우리가 이야기", "오늘의 이야기가 도착했습니다!", story},
        {"tok-minji", "우리가 이야기", "오늘의 이야기가 도착했습니다!", story}}},
      {R"({"type":"COMMENT_MESSAGE","param":{"familyId":3,"messageFamId":29001,"authorId":3,"commentPreview":"오늘 저녁은 다같이 외식할까요?"}})",
       {{"tok-dad", "우리가 이야기", R"(엄마 님이 이야기에 댓글을 작성했습니다! \"오늘 저녁은 다같이...\")",
         R"({"screen":"MessageFamily","param":"{\"messageId\":29001}"})"},
        {"tok-minji", "우리가 이야기", R"(엄마 님이 이야기에 댓글을 작성했습니다! \"오늘 저녁은 다같이...\")",
         R"({"screen":"MessageFamily","param":"{\"messageId\":29001}"})"}}},
      {R"({"type":"PHOTO_CREATE","param":{"familyId":3,"photoId":77,"authorId":4,"titlePreview":"가족 여행"}})",
       {{"tok-dad", "우리가 앨범", "새로운 사진 등록이 완료됐습니다!", R"({"screen":"Photo","param":"{\"photoId\":77}"})"},
        {"tok-mom", "우리가 앨범", R"(아빠 님이 앨범에 새로운 사진을 등록했습니다! \"가족 여행\")",
         R"({"screen":"Photo","param":"{\"photoId\":77}"})"},
        {"tok-minji", "우리가 앨범", R"(아빠 님이 앨범에 새로운 사진을 등록했습니다! \"가족 여행\")",
         R"({"screen":"Photo","param":"{\"photoId\":77}"})"}}},
      {R"({"type":"COMMENT_PHOTO","param":{"familyId":3,"photoId":77,"authorId":5,"commentPreview":"좋아요"}})",
       {{"tok-mom", "우리가 앨범", R"(민지 님이 사진에 댓글을 작성했습니다! \"좋아요\")", R"({"screen":"Photo","param":"{\"photoId\":77}"})"},
        {"tok-dad", "우리가 앨범", R"(민지 님이 사진에 댓글을 작성했습니다! \"좋아요\")", R"({"screen":"Photo","param":"{\"photoId\":77}"})"}}},
      {R"({"type":"LETTER_SEND","param":{"familyId":3,"letterId":501,"isTimeCapsule":false,"receiverId":5}})",
       {{"tok-minji", "우리가 편지", "우리가족이 민지 님에게 작성한 편지가 도착했습니다!",
         R"({"screen":"LetterReceived","param":"{\"letterId\":501}"})"}}},
      {R"({"type":"LETTER_SEND","param":{"familyId":3,"letterId":502,"isTimeCapsule":true,"receiverId":5}})",
       {{"tok-minji", "우리가 편지", "우리가족이 민지 님에게 새로운 타임캡슐을 작성했습니다!", R"({"screen":"TimeCapsulesNav"})"}}},
      {R"({"type":"TIMECAPSULE_OPEN","param":{"timaCapsules":[{"letterId":601,"receiverId":4,"senderId":3,"familyId":3}]}})",
       {{"tok-dad", "우리가 편지", "기다리고 있던 타임캡슐이 공개되었습니다!", R"({"screen":"LetterReceived","param":"{\"letterId\":601}"})"},
        {"tok-mom", "우리가 편지", "아빠 님에게 작성한 타임캡슐이 공개되었습니다!", R"({"screen":"LetterSent","param":"{\"letterId\":601}"})"}}},
      {R"({"type":"NOTIFY_BIRTHDAY","param":{"familyIdsWithBirthdayUserId":[{"familyId":3,"birthdayUserId":5}]}})",
       {{"tok-mom", "우리가 생일", "곧 사랑하는 우리가족 민지 님의 생일이에요! 따뜻한 축하의 편지를 전해보아요",
         R"({"screen":"LetterSend","param":"{\"targetId\":5}"})"},
        {"tok-dad", "우리가 생일", "곧 사랑하는 우리가족 민지 님의 생일이에요! 따뜻한 축하의 편지를 전해보아요",
         R"({"screen":"LetterSend","param":"{\"targetId\":5}"})"}}},
      {R"({"type":"EMOTION_CHOSEN","param":{"familyId":3,"userId":4}})",
       {{"tok-mom", "오늘의 우리가", "아빠 님이 오늘의 감정을 선택했습니다!",
         R"({"screen":"MessageHome","param":"{\"openEmotion\":true,\"userId\":4}"})"},
        {"tok-minji", "오늘의 우리가", "아빠 님이 오늘의 감정을 선택했습니다!",
         R"({"screen":"MessageHome","param":"{\"openEmotion\":true,\"userId\":4}"})"}}},
      {R"({"type":"EMOTION_POKE","param":{"familyId":3,"userId":5}})",
       {{"tok-minji", "오늘의 감정을 선택해주세요", "가족들이 민지 님의 기분을 궁금해합니다!",
         R"({"screen":"MessageHome","param":"{\"openEmotion\":true,\"userId\":5}"})"}}},
      {R"({"type":"PEDIA_QUESTION_CREATED","param":{"familyId":3,"ownerId":3}})",
       {{"tok-mom", "우리가 인물사전", "엄마 님의 인물사전에 새로운 질문이 등록되었습니다!",
         R"({"screen":"FamilyPediaMember","param":"{\"pediaId\":3}"})"}}},
      {R"({"type":"PEDIA_QUESTION_EDITTED","param":{"familyId":3,"ownerId":3}})",
       {{"tok-mom", "우리가 인물사전", "엄마 님의 인물사전에 등록된 질문이 수정되었습니다!",
         R"({"screen":"FamilyPediaMember","param":"{\"pediaId\":3}"})"}}},
      {R"({"type":"PEDIA_ANSWER","param":{"familyId":3,"ownerId":3}})",
       {{"tok-dad", "우리가 인물사전", "엄마 님이 인물사전에 새로운 답변을 등록했습니다!",
         R"({"screen":"FamilyPediaMember","param":"{\"pediaId\":3}"})"},
        {"tok-minji", "우리가 인물사전", "엄마 님이 인물사전에 새로운 답변을 등록했습니다!",
         R"({"screen":"FamilyPediaMember","param":"{\"pediaId\":3}"})"}}},
      {R"({"type":"PEDIA_EDIT_PHOTO","param":{"familyId":3,"ownerId":5,"editorId":4}})",
       {{"tok-mom", "우리가 인물사전", "민지 님의 인물사전 사진이 변경되었습니다!",
         R"({"screen":"FamilyPediaMember","param":"{\"pediaId\":5}"})"},
        {"tok-minji", "우리가 인물사전", "민지 님의 인물사전 사진이 변경되었습니다!",
         R"({"screen":"FamilyPediaMember","param":"{\"pediaId\":5}"})"}}},
  };
}

}  // namespace

TEST_CASE("each of the 14 types reaches FCM as exactly the body the running system sends, one request per token") {
  FcmEmulator emu;
  auto provider = provider_for(emu);
  const notify::Families families = sample_families();
  std::set<std::string> types;
  for (const Case& c : cases()) {
    CAPTURE(c.request);
    emu.reset();
    auto request = notify::decode(c.request);
    REQUIRE(request.has_value());
    types.insert(std::string(notify::to_string(request->type())));
    const notify::Plan plan = notify::plan(*request, families);
    const auto pushes = pushes_of(plan.messages);
    const auto results = provider.send(pushes);
    CHECK(count(results, notify::PushStatus::sent) == c.pushes.size());

    std::map<std::string, std::vector<std::string>> received;
    for (const auto& r : emu.requests()) received[r["token"].get<std::string>()].push_back(r["body"].get<std::string>());
    CHECK(received.size() == c.pushes.size());
    for (const Expected& e : c.pushes) {
      CAPTURE(e.token);
      REQUIRE(received[e.token].size() == 1);
      CHECK(received[e.token][0] == wire(e));
    }
  }
  CHECK(types.size() == 14);
}
