// SPDX-License-Identifier: MIT
// Unit tests for include/notify/plan.hpp (with catalog.hpp): who gets which rendered
// message. Expected texts are typed out here on purpose, character for character from
// SPEC.md, so that a typo in notify::catalog fails these tests.

#include <doctest/doctest.h>

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "notify/codec.hpp"
#include "notify/plan.hpp"

using notify::Families;
using notify::Family;
using notify::Id;
using notify::Member;
using notify::Plan;
using notify::Request;

namespace {

// ---- fixtures --------------------------------------------------------------------

// Family 3: 엄마(3), 아빠(4), 딸(5, no device), 아들(6).
Family family3() {
  return Family{3,
                {notify::member_v1(3, "엄마", "tok-mom", true), notify::member_v1(4, "아빠", "tok-dad", false), notify::member_v1(5, "딸", "", true),
                 notify::member_v1(6, "아들", "tok-son", false)}};
}
// Family 8: 할머니(10), 할아버지(11), 손자(12, no device).
Family family8() {
  return Family{8,
                {notify::member_v1(10, "할머니", "tok-grandma", false), notify::member_v1(11, "할아버지", "tok-grandpa", false),
                 notify::member_v1(12, "손자", "", false)}};
}
// Family 9: one member only.
Family family9() { return Family{9, {notify::member_v1(20, "혼자", "tok-alone", false)}}; }

Families store() { return Families({family3(), family8(), family9()}); }

Request req(notify::Param p) {
  Request r;
  r.param = std::move(p);
  return r;
}

// ---- expected messages -----------------------------------------------------------

struct Msg {
  std::string title;
  std::string body;
  std::string screen;
  std::optional<std::string> param;
  std::vector<std::string> tokens;
  std::vector<Id> inbox;
};

std::string join_tokens(std::vector<std::string> v, bool sorted) {
  if (sorted) std::sort(v.begin(), v.end());
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + v[i];
  return out + "]";
}
std::string join_ids(std::vector<Id> v, bool sorted) {
  if (sorted) std::sort(v.begin(), v.end());
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + std::to_string(v[i]);
  return out + "]";
}

std::string line(const Msg& m, bool sorted) {
  return "title=" + m.title + " | body=" + m.body + " | screen=" + m.screen +
         " | param=" + (m.param ? *m.param : std::string("<none>")) + " | tokens=" + join_tokens(m.tokens, sorted) +
         " | inbox=" + join_ids(m.inbox, sorted);
}

Msg from_plan(const notify::Message& m) {
  Msg out{std::string(m.title), m.body, std::string(notify::to_string(m.link.screen)),
          m.link.has_param() ? std::optional<std::string>(m.link.param_json()) : std::nullopt, {}, m.inbox};
  for (const notify::Target& t : m.targets) out.tokens.emplace_back(t.token);
  return out;
}

// Canonical text of a set of messages: order of messages, tokens and inbox ignored.
std::string canonical(const std::vector<Msg>& msgs) {
  std::vector<std::string> lines;
  for (const Msg& m : msgs) lines.push_back(line(m, true));
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}
std::string canonical(const Plan& p) {
  std::vector<Msg> msgs;
  for (const notify::Message& m : p.messages) msgs.push_back(from_plan(m));
  return canonical(msgs);
}

// Exact text of a plan, order included (for determinism).
std::string exact(const Plan& p) {
  std::string out;
  for (const notify::Message& m : p.messages) out += line(from_plan(m), false) + "\n";
  return out;
}

// Invariants every plan must keep, whatever the request.
void check_invariants(const Plan& p) {
  std::set<std::tuple<std::string, std::string, std::string, std::string>> contents;
  std::set<std::tuple<std::string, std::string, std::string, std::string, std::string>> pushes;
  std::set<std::tuple<Id, std::string, std::string, std::string, std::string>> records;
  for (const notify::Message& m : p.messages) {
    const Msg e = from_plan(m);
    CHECK_FALSE(e.title.empty());
    CHECK_FALSE(e.body.empty());
    CHECK(notify::is_valid_utf8(e.body));
    const std::string param = e.param.value_or("");
    // Messages are distinct by content.
    CHECK(contents.emplace(e.title, e.body, e.screen, param).second);
    // A message always goes to someone.
    CHECK((!m.targets.empty() || !m.inbox.empty()));
    for (const std::string& t : e.tokens) {
      CHECK_FALSE(t.empty());
      // Nobody gets the same push twice from one request.
      CHECK(pushes.emplace(t, e.title, e.body, e.screen, param).second);
    }
    for (Id r : m.inbox) {
      CHECK(r > 0);
      CHECK(records.emplace(r, e.title, e.body, e.screen, param).second);
    }
  }
}

// Plans the request and checks it gives exactly these messages.
void check_plan(const Request& r, const Families& fs, const std::vector<Msg>& expected) {
  const Plan p = notify::plan(r, fs);
  check_invariants(p);
  CHECK(canonical(p) == canonical(expected));
  // The same input always gives the same plan.
  CHECK(exact(notify::plan(r, fs)) == exact(p));
}

void check_empty(const Request& r, const Families& fs) {
  const Plan p = notify::plan(r, fs);
  CHECK(p.messages.empty());
  CHECK(p.push_count() == 0);
  CHECK(p.inbox_count() == 0);
  CHECK(notify::encode_inbox(p) == "[]");
}

using V = std::vector<std::string>;
using I = std::vector<Id>;

}  // namespace

// ---- the 14 types ----------------------------------------------------------------

TEST_CASE("MESSAGE_TODAY reaches every member of every listed family, without inbox") {
  const Families fs = store();
  check_plan(req(notify::MessageTodayParam{{3, 8, 99}}), fs,
             {{"우리가 이야기", "오늘의 이야기가 도착했습니다!", "MessageHome", std::nullopt,
               V{"tok-mom", "tok-dad", "tok-son", "tok-grandma", "tok-grandpa"}, I{}}});
}

TEST_CASE("MESSAGE_BIRTHDAY has the text, screen and audience of MESSAGE_TODAY") {
  const Families fs = store();
  check_plan(req(notify::MessageBirthdayParam{{8, 9}}), fs,
             {{"우리가 이야기", "오늘의 이야기가 도착했습니다!", "MessageHome", std::nullopt,
               V{"tok-grandma", "tok-grandpa", "tok-alone"}, I{}}});
}

TEST_CASE("MESSAGE_TODAY skips families missing from the store silently") {
  const Families fs = store();
  check_plan(req(notify::MessageTodayParam{{98, 9, 99}}), fs,
             {{"우리가 이야기", "오늘의 이야기가 도착했습니다!", "MessageHome", std::nullopt, V{"tok-alone"}, I{}}});
}

TEST_CASE("COMMENT_MESSAGE goes to everyone but the author, with inbox") {
  const Families fs = store();
  check_plan(req(notify::CommentMessageParam{
                 .messageFamId = 29001, .authorId = 3, .familyId = 3, .commentPreview = "안녕하세요"}),
             fs,
             {{"우리가 이야기", "엄마 님이 이야기에 댓글을 작성했습니다! \"안녕하세요\"", "MessageFamily",
               R"({"messageId":29001})", V{"tok-dad", "tok-son"}, I{4, 5, 6}}});
}

TEST_CASE("PHOTO_CREATE confirms to the author by push only and tells the others with inbox") {
  const Families fs = store();
  check_plan(req(notify::PhotoCreateParam{.photoId = 77, .authorId = 4, .familyId = 3, .titlePreview = "가족여행"}),
             fs,
             {{"우리가 앨범", "새로운 사진 등록이 완료됐습니다!", "Photo", R"({"photoId":77})", V{"tok-dad"}, I{}},
              {"우리가 앨범", "아빠 님이 앨범에 새로운 사진을 등록했습니다! \"가족여행\"", "Photo",
               R"({"photoId":77})", V{"tok-mom", "tok-son"}, I{3, 5, 6}}});
}

TEST_CASE("PHOTO_CREATE does not cut the title preview") {
  const Families fs = store();
  check_plan(req(notify::PhotoCreateParam{
                 .photoId = 78, .authorId = 6, .familyId = 3, .titlePreview = "제주도 가족여행 둘째 날 바닷가에서 찍은 사진"}),
             fs,
             {{"우리가 앨범", "새로운 사진 등록이 완료됐습니다!", "Photo", R"({"photoId":78})", V{"tok-son"}, I{}},
              {"우리가 앨범", "아들 님이 앨범에 새로운 사진을 등록했습니다! \"제주도 가족여행 둘째 날 바닷가에서 찍은 사진\"",
               "Photo", R"({"photoId":78})", V{"tok-mom", "tok-dad"}, I{3, 4, 5}}});
}

TEST_CASE("PHOTO_CREATE by an author without a device still tells the others") {
  const Families fs = store();
  check_plan(req(notify::PhotoCreateParam{.photoId = 79, .authorId = 5, .familyId = 3, .titlePreview = std::nullopt}),
             fs,
             {{"우리가 앨범", "딸 님이 앨범에 새로운 사진을 등록했습니다!", "Photo", R"({"photoId":79})",
               V{"tok-mom", "tok-dad", "tok-son"}, I{3, 4, 6}}});
}

TEST_CASE("COMMENT_PHOTO goes to everyone but the author with a 10-character preview") {
  const Families fs = store();
  check_plan(req(notify::CommentPhotoParam{
                 .photoId = 77, .authorId = 6, .familyId = 3, .commentPreview = "정말 멋진 사진이네요 엄마"}),
             fs,
             {{"우리가 앨범", "아들 님이 사진에 댓글을 작성했습니다! \"정말 멋진 사진이네...\"", "Photo",
               R"({"photoId":77})", V{"tok-mom", "tok-dad"}, I{3, 4, 5}}});
}

TEST_CASE("LETTER_SEND tells the receiver that a letter arrived") {
  const Families fs = store();
  check_plan(req(notify::LetterSendParam{.letterId = 501, .isTimeCapsule = false, .familyId = 3, .receiverId = 4}), fs,
             {{"우리가 편지", "우리가족이 아빠 님에게 작성한 편지가 도착했습니다!", "LetterReceived",
               R"({"letterId":501})", V{"tok-dad"}, I{4}}});
}

TEST_CASE("LETTER_SEND of a time capsule opens TimeCapsulesNav without param") {
  const Families fs = store();
  check_plan(req(notify::LetterSendParam{.letterId = 502, .isTimeCapsule = true, .familyId = 3, .receiverId = 6}), fs,
             {{"우리가 편지", "우리가족이 아들 님에게 새로운 타임캡슐을 작성했습니다!", "TimeCapsulesNav", std::nullopt,
               V{"tok-son"}, I{6}}});
}

TEST_CASE("LETTER_SEND to a receiver without a device gives only an inbox record") {
  const Families fs = store();
  check_plan(req(notify::LetterSendParam{.letterId = 503, .isTimeCapsule = true, .familyId = 3, .receiverId = 5}), fs,
             {{"우리가 편지", "우리가족이 딸 님에게 새로운 타임캡슐을 작성했습니다!", "TimeCapsulesNav", std::nullopt,
               V{}, I{5}}});
}

TEST_CASE("TIMECAPSULE_OPEN tells receiver and sender of each capsule, across families") {
  const Families fs = store();
  notify::TimeCapsulesOpenParam p;
  p.timaCapsules = {{.letterId = 601, .receiverId = 4, .senderId = 3, .familyId = 3},
                    {.letterId = 602, .receiverId = 11, .senderId = 10, .familyId = 8},
                    {.letterId = 603, .receiverId = 5, .senderId = 6, .familyId = 3},
                    {.letterId = 604, .receiverId = 1, .senderId = 2, .familyId = 99}};
  check_plan(req(p), fs,
             {{"우리가 편지", "기다리고 있던 타임캡슐이 공개되었습니다!", "LetterReceived", R"({"letterId":601})",
               V{"tok-dad"}, I{4}},
              {"우리가 편지", "아빠 님에게 작성한 타임캡슐이 공개되었습니다!", "LetterSent", R"({"letterId":601})",
               V{"tok-mom"}, I{3}},
              {"우리가 편지", "기다리고 있던 타임캡슐이 공개되었습니다!", "LetterReceived", R"({"letterId":602})",
               V{"tok-grandpa"}, I{11}},
              {"우리가 편지", "할아버지 님에게 작성한 타임캡슐이 공개되었습니다!", "LetterSent", R"({"letterId":602})",
               V{"tok-grandma"}, I{10}},
              {"우리가 편지", "기다리고 있던 타임캡슐이 공개되었습니다!", "LetterReceived", R"({"letterId":603})", V{},
               I{5}},
              {"우리가 편지", "딸 님에게 작성한 타임캡슐이 공개되었습니다!", "LetterSent", R"({"letterId":603})",
               V{"tok-son"}, I{6}}});
}

TEST_CASE("NOTIFY_BIRTHDAY handles each entry on its own: a missing family or a family of one stops nothing") {
  const Families fs = store();
  notify::NotifyBirthdayParam p;
  // The problem entries come first: the first version aborted every entry after them.
  p.familyIdsWithBirthdayUserId = {{.familyId = 99, .birthdayUserId = 1},
                                   {.familyId = 9, .birthdayUserId = 20},
                                   {.familyId = 3, .birthdayUserId = 4},
                                   {.familyId = 9, .birthdayUserId = 20},
                                   {.familyId = 8, .birthdayUserId = 12}};
  check_plan(req(p), fs,
             {{"우리가 생일", "곧 사랑하는 우리가족 아빠 님의 생일이에요! 따뜻한 축하의 편지를 전해보아요", "LetterSend",
               R"({"targetId":4})", V{"tok-mom", "tok-son"}, I{}},
              {"우리가 생일", "곧 사랑하는 우리가족 손자 님의 생일이에요! 따뜻한 축하의 편지를 전해보아요", "LetterSend",
               R"({"targetId":12})", V{"tok-grandma", "tok-grandpa"}, I{}}});
}

TEST_CASE("EMOTION_CHOSEN goes to the others, without inbox") {
  const Families fs = store();
  check_plan(req(notify::EmotionChosenParam{.familyId = 3, .userId = 6}), fs,
             {{"오늘의 우리가", "아들 님이 오늘의 감정을 선택했습니다!", "MessageHome",
               R"({"openEmotion":true,"userId":6})", V{"tok-mom", "tok-dad"}, I{}}});
}

TEST_CASE("EMOTION_POKE goes to the user only, without inbox") {
  const Families fs = store();
  check_plan(req(notify::EmotionPokeParam{.familyId = 3, .userId = 4}), fs,
             {{"오늘의 감정을 선택해주세요", "가족들이 아빠 님의 기분을 궁금해합니다!", "MessageHome",
               R"({"openEmotion":true,"userId":4})", V{"tok-dad"}, I{}}});
}

TEST_CASE("EMOTION_POKE of a user without a device plans nothing") {
  const Families fs = store();
  check_empty(req(notify::EmotionPokeParam{.familyId = 3, .userId = 5}), fs);
}

TEST_CASE("PEDIA_QUESTION_CREATED goes to the owner only, with inbox") {
  const Families fs = store();
  check_plan(req(notify::PediaQuestionCreatedParam{.familyId = 3, .ownerId = 6}), fs,
             {{"우리가 인물사전", "아들 님의 인물사전에 새로운 질문이 등록되었습니다!", "FamilyPediaMember",
               R"({"pediaId":6})", V{"tok-son"}, I{6}}});
}

TEST_CASE("PEDIA_QUESTION_EDITTED goes to the owner only, with inbox") {
  const Families fs = store();
  check_plan(req(notify::PediaQuestionEdittedParam{.familyId = 3, .ownerId = 5}), fs,
             {{"우리가 인물사전", "딸 님의 인물사전에 등록된 질문이 수정되었습니다!", "FamilyPediaMember",
               R"({"pediaId":5})", V{}, I{5}}});
}

TEST_CASE("PEDIA_ANSWER goes to everyone but the owner, with inbox") {
  const Families fs = store();
  check_plan(req(notify::PediaAnswerParam{.familyId = 3, .ownerId = 4}), fs,
             {{"우리가 인물사전", "아빠 님이 인물사전에 새로운 답변을 등록했습니다!", "FamilyPediaMember",
               R"({"pediaId":4})", V{"tok-mom", "tok-son"}, I{3, 5, 6}}});
}

TEST_CASE("PEDIA_EDIT_PHOTO goes to everyone but the editor and names the owner") {
  const Families fs = store();
  check_plan(req(notify::PediaEditPhotoParam{.familyId = 3, .ownerId = 4, .editorId = 3}), fs,
             {{"우리가 인물사전", "아빠 님의 인물사전 사진이 변경되었습니다!", "FamilyPediaMember", R"({"pediaId":4})",
               V{"tok-dad", "tok-son"}, I{4, 5, 6}}});
}

TEST_CASE("PEDIA_EDIT_PHOTO by the owner goes to everyone but the owner") {
  const Families fs = store();
  check_plan(req(notify::PediaEditPhotoParam{.familyId = 8, .ownerId = 11, .editorId = 11}), fs,
             {{"우리가 인물사전", "할아버지 님의 인물사전 사진이 변경되었습니다!", "FamilyPediaMember",
               R"({"pediaId":11})", V{"tok-grandma"}, I{10, 12}}});
}

// ---- missing families, actors and recipients -------------------------------------

TEST_CASE("a request for a family missing from the store plans nothing") {
  const Families fs = store();
  const std::vector<notify::Param> params = {
      notify::MessageTodayParam{{99}},
      notify::MessageBirthdayParam{{99, 98}},
      notify::CommentMessageParam{.messageFamId = 1, .authorId = 3, .familyId = 99, .commentPreview = "x"},
      notify::PhotoCreateParam{.photoId = 1, .authorId = 3, .familyId = 99, .titlePreview = "x"},
      notify::CommentPhotoParam{.photoId = 1, .authorId = 3, .familyId = 99, .commentPreview = "x"},
      notify::LetterSendParam{.letterId = 1, .isTimeCapsule = false, .familyId = 99, .receiverId = 3},
      notify::LetterSendParam{.letterId = 1, .isTimeCapsule = true, .familyId = 99, .receiverId = 3},
      notify::TimeCapsulesOpenParam{{{.letterId = 1, .receiverId = 3, .senderId = 4, .familyId = 99}}},
      notify::NotifyBirthdayParam{{{.familyId = 99, .birthdayUserId = 3}}},
      notify::EmotionChosenParam{.familyId = 99, .userId = 3},
      notify::EmotionPokeParam{.familyId = 99, .userId = 3},
      notify::PediaQuestionCreatedParam{.familyId = 99, .ownerId = 3},
      notify::PediaQuestionEdittedParam{.familyId = 99, .ownerId = 3},
      notify::PediaAnswerParam{.familyId = 99, .ownerId = 3},
      notify::PediaEditPhotoParam{.familyId = 99, .ownerId = 3, .editorId = 4},
  };
  for (const notify::Param& p : params) {
    CAPTURE(notify::to_string(static_cast<notify::NotificationType>(p.index())));
    check_empty(req(p), fs);
    check_empty(req(p), Families{});
  }
}

TEST_CASE("a comment author missing from the store is shown as 가족 and everyone is told") {
  const Families fs = store();
  check_plan(req(notify::CommentMessageParam{.messageFamId = 9, .authorId = 42, .familyId = 3, .commentPreview = "hi"}),
             fs,
             {{"우리가 이야기", "가족 님이 이야기에 댓글을 작성했습니다! \"hi\"", "MessageFamily", R"({"messageId":9})",
               V{"tok-mom", "tok-dad", "tok-son"}, I{3, 4, 5, 6}}});
  check_plan(req(notify::CommentPhotoParam{.photoId = 7, .authorId = 42, .familyId = 8, .commentPreview = std::nullopt}),
             fs,
             {{"우리가 앨범", "가족 님이 사진에 댓글을 작성했습니다!", "Photo", R"({"photoId":7})",
               V{"tok-grandma", "tok-grandpa"}, I{10, 11, 12}}});
}

TEST_CASE("a photo author missing from the store gets nothing and the others see 가족") {
  const Families fs = store();
  check_plan(req(notify::PhotoCreateParam{.photoId = 5, .authorId = 42, .familyId = 8, .titlePreview = "봄"}), fs,
             {{"우리가 앨범", "가족 님이 앨범에 새로운 사진을 등록했습니다! \"봄\"", "Photo", R"({"photoId":5})",
               V{"tok-grandma", "tok-grandpa"}, I{10, 11, 12}}});
}

TEST_CASE("a birthday user missing from the store is shown as 가족 and the whole family is told") {
  const Families fs = store();
  check_plan(req(notify::NotifyBirthdayParam{{{.familyId = 8, .birthdayUserId = 42}}}), fs,
             {{"우리가 생일", "곧 사랑하는 우리가족 가족 님의 생일이에요! 따뜻한 축하의 편지를 전해보아요", "LetterSend",
               R"({"targetId":42})", V{"tok-grandma", "tok-grandpa"}, I{}}});
}

TEST_CASE("an emotion user missing from the store: others see 가족, a poke plans nothing") {
  const Families fs = store();
  check_plan(req(notify::EmotionChosenParam{.familyId = 8, .userId = 42}), fs,
             {{"오늘의 우리가", "가족 님이 오늘의 감정을 선택했습니다!", "MessageHome",
               R"({"openEmotion":true,"userId":42})", V{"tok-grandma", "tok-grandpa"}, I{}}});
  check_empty(req(notify::EmotionPokeParam{.familyId = 8, .userId = 42}), fs);
}

TEST_CASE("a pedia owner missing from the store: owner-only types plan nothing, the others see 가족") {
  const Families fs = store();
  check_empty(req(notify::PediaQuestionCreatedParam{.familyId = 3, .ownerId = 42}), fs);
  check_empty(req(notify::PediaQuestionEdittedParam{.familyId = 3, .ownerId = 42}), fs);
  check_plan(req(notify::PediaAnswerParam{.familyId = 8, .ownerId = 42}), fs,
             {{"우리가 인물사전", "가족 님이 인물사전에 새로운 답변을 등록했습니다!", "FamilyPediaMember",
               R"({"pediaId":42})", V{"tok-grandma", "tok-grandpa"}, I{10, 11, 12}}});
  check_plan(req(notify::PediaEditPhotoParam{.familyId = 8, .ownerId = 42, .editorId = 10}), fs,
             {{"우리가 인물사전", "가족 님의 인물사전 사진이 변경되었습니다!", "FamilyPediaMember", R"({"pediaId":42})",
               V{"tok-grandpa"}, I{11, 12}}});
}

TEST_CASE("a pedia photo editor missing from the store leaves everyone as recipient") {
  const Families fs = store();
  check_plan(req(notify::PediaEditPhotoParam{.familyId = 8, .ownerId = 10, .editorId = 42}), fs,
             {{"우리가 인물사전", "할머니 님의 인물사전 사진이 변경되었습니다!", "FamilyPediaMember", R"({"pediaId":10})",
               V{"tok-grandma", "tok-grandpa"}, I{10, 11, 12}}});
}

TEST_CASE("a letter receiver missing from the store plans nothing") {
  const Families fs = store();
  check_empty(req(notify::LetterSendParam{.letterId = 1, .isTimeCapsule = false, .familyId = 3, .receiverId = 42}), fs);
  check_empty(req(notify::LetterSendParam{.letterId = 1, .isTimeCapsule = true, .familyId = 3, .receiverId = 42}), fs);
}

TEST_CASE("a capsule receiver missing from the store is shown as 가족 to the sender") {
  const Families fs = store();
  check_plan(req(notify::TimeCapsulesOpenParam{{{.letterId = 700, .receiverId = 42, .senderId = 3, .familyId = 3}}}),
             fs,
             {{"우리가 편지", "가족 님에게 작성한 타임캡슐이 공개되었습니다!", "LetterSent", R"({"letterId":700})",
               V{"tok-mom"}, I{3}}});
}

TEST_CASE("a capsule sender missing from the store still lets the receiver know") {
  const Families fs = store();
  check_plan(req(notify::TimeCapsulesOpenParam{{{.letterId = 701, .receiverId = 6, .senderId = 42, .familyId = 3}}}),
             fs,
             {{"우리가 편지", "기다리고 있던 타임캡슐이 공개되었습니다!", "LetterReceived", R"({"letterId":701})",
               V{"tok-son"}, I{6}}});
}

TEST_CASE("a family whose only member is the actor plans nothing") {
  const Families fs = store();
  check_empty(req(notify::CommentMessageParam{.messageFamId = 1, .authorId = 20, .familyId = 9, .commentPreview = "x"}),
              fs);
  check_empty(req(notify::EmotionChosenParam{.familyId = 9, .userId = 20}), fs);
  check_empty(req(notify::PediaAnswerParam{.familyId = 9, .ownerId = 20}), fs);
  check_empty(req(notify::NotifyBirthdayParam{{{.familyId = 9, .birthdayUserId = 20}}}), fs);
  // The author of a photo still gets the confirmation.
  check_plan(req(notify::PhotoCreateParam{.photoId = 2, .authorId = 20, .familyId = 9, .titlePreview = "x"}), fs,
             {{"우리가 앨범", "새로운 사진 등록이 완료됐습니다!", "Photo", R"({"photoId":2})", V{"tok-alone"}, I{}}});
}

TEST_CASE("recipients without a device get nothing when the type has no inbox") {
  const Families fs({Family{60, {notify::member_v1(1, "가", "", false), notify::member_v1(2, "나", "", false)}}});
  check_empty(req(notify::MessageTodayParam{{60}}), fs);
  check_empty(req(notify::EmotionChosenParam{.familyId = 60, .userId = 1}), fs);
  check_empty(req(notify::NotifyBirthdayParam{{{.familyId = 60, .birthdayUserId = 1}}}), fs);
  check_empty(req(notify::EmotionPokeParam{.familyId = 60, .userId = 2}), fs);
  // The photo author without a device gets no confirmation; the other gets an inbox record.
  check_plan(req(notify::PhotoCreateParam{.photoId = 1, .authorId = 1, .familyId = 60, .titlePreview = std::nullopt}),
             fs,
             {{"우리가 앨범", "가 님이 앨범에 새로운 사진을 등록했습니다!", "Photo", R"({"photoId":1})", V{}, I{2}}});
}

TEST_CASE("members without a device still get their inbox records") {
  const Families fs({Family{61, {notify::member_v1(1, "가", "", false), notify::member_v1(2, "나", "", false), notify::member_v1(3, "다", "t3", false)}}});
  const Plan p = notify::plan(
      req(notify::CommentMessageParam{.messageFamId = 5, .authorId = 3, .familyId = 61, .commentPreview = "ok"}), fs);
  check_invariants(p);
  REQUIRE(p.messages.size() == 1);
  CHECK(p.messages[0].targets.empty());
  CHECK(p.messages[0].inbox == I{1, 2});
  CHECK(p.push_count() == 0);
  CHECK(p.inbox_count() == 2);
}

// ---- names and previews ----------------------------------------------------------

TEST_CASE("an empty or blank userName is shown as 가족") {
  const Families fs({Family{30,
                            {notify::member_v1(1, "", "t1", false), notify::member_v1(2, " \t\n ", "t2", false),
                             notify::member_v1(3, "\x01\xE2\x80\xAE\xEF\xBB\xBF", "t3", false), notify::member_v1(4, "보는사람", "t4", false),
                             notify::member_v1(5, "\xE3\x80\x80\xC2\xA0", "t5", false)}}});
  for (Id user : {Id{1}, Id{2}, Id{3}, Id{5}}) {
    CAPTURE(user);
    const Plan p = notify::plan(req(notify::EmotionPokeParam{.familyId = 30, .userId = user}), fs);
    REQUIRE(p.messages.size() == 1);
    CHECK(p.messages[0].body == "가족들이 가족 님의 기분을 궁금해합니다!");
  }
}

TEST_CASE("a blank name of an actor is shown as 가족 to the others") {
  const Families fs({Family{33, {notify::member_v1(1, "  ", "t1", false), notify::member_v1(2, "보는사람", "t2", false)}}});
  check_plan(req(notify::CommentMessageParam{.messageFamId = 3, .authorId = 1, .familyId = 33, .commentPreview = "네"}),
             fs,
             {{"우리가 이야기", "가족 님이 이야기에 댓글을 작성했습니다! \"네\"", "MessageFamily", R"({"messageId":3})",
               V{"t2"}, I{2}}});
}

TEST_CASE("text with something visible is not blank") {
  CHECK(notify::detail::is_blank(""));
  CHECK(notify::detail::is_blank(" \t\r\n\x01\x7F"));
  CHECK(notify::detail::is_blank("\xE3\x80\x80\xE2\x80\x80\xE2\x80\x8A\xE2\x80\xAF\xE2\x81\x9F\xE1\x9A\x80\xC2\xA0"));
  CHECK_FALSE(notify::detail::is_blank(" a "));
  CHECK_FALSE(notify::detail::is_blank(" 가"));
  CHECK_FALSE(notify::detail::is_blank(" \xFF"));  // shown as U+FFFD
  CHECK_FALSE(notify::detail::is_blank("."));
}

TEST_CASE("control characters are removed from names and a newline becomes a space") {
  const Families fs({Family{31, {notify::member_v1(1, "엄\x01마\x7F", "t1", false), notify::member_v1(2, "큰\n아들", "t2", false),
                                 notify::member_v1(3, "\xE2\x80\xAE" "evil", "t3", false)}}});
  const Plan p1 = notify::plan(req(notify::EmotionPokeParam{.familyId = 31, .userId = 1}), fs);
  REQUIRE(p1.messages.size() == 1);
  CHECK(p1.messages[0].body == "가족들이 엄마 님의 기분을 궁금해합니다!");
  const Plan p2 = notify::plan(req(notify::EmotionPokeParam{.familyId = 31, .userId = 2}), fs);
  REQUIRE(p2.messages.size() == 1);
  CHECK(p2.messages[0].body == "가족들이 큰 아들 님의 기분을 궁금해합니다!");
  const Plan p3 = notify::plan(req(notify::EmotionPokeParam{.familyId = 31, .userId = 3}), fs);
  REQUIRE(p3.messages.size() == 1);
  CHECK(p3.messages[0].body == "가족들이 evil 님의 기분을 궁금해합니다!");
}

TEST_CASE("invalid UTF-8 in a stored userName is shown as U+FFFD") {
  const Families fs({Family{32, {notify::member_v1(1, "엄\xFF마", "t1", false), notify::member_v1(2, "x", "t2", false)}}});
  const Plan p = notify::plan(req(notify::EmotionChosenParam{.familyId = 32, .userId = 1}), fs);
  check_invariants(p);
  REQUIRE(p.messages.size() == 1);
  CHECK(p.messages[0].body == "엄\xEF\xBF\xBD마 님이 오늘의 감정을 선택했습니다!");
}

TEST_CASE("an absent, null, empty or blank comment preview drops the quoted part") {
  const Families fs = store();
  std::vector<std::optional<std::string>> previews = {
      std::nullopt, "", "   ", "\n\t\r", "\x01\xEF\xBB\xBF\xE2\x80\xAE", " \n ",
      "               ",            // 15 spaces: blank even though longer than Preview10
      "\xE3\x80\x80\xC2\xA0 "};  // U+3000 ideographic space, U+00A0 no-break space
  for (const auto& preview : previews) {
    CAPTURE(preview.value_or("<absent>"));
    const Plan pm = notify::plan(
        req(notify::CommentMessageParam{.messageFamId = 1, .authorId = 3, .familyId = 3, .commentPreview = preview}), fs);
    REQUIRE(pm.messages.size() == 1);
    CHECK(pm.messages[0].body == "엄마 님이 이야기에 댓글을 작성했습니다!");
    const Plan pp = notify::plan(
        req(notify::CommentPhotoParam{.photoId = 1, .authorId = 3, .familyId = 3, .commentPreview = preview}), fs);
    REQUIRE(pp.messages.size() == 1);
    CHECK(pp.messages[0].body == "엄마 님이 사진에 댓글을 작성했습니다!");
    const Plan ph = notify::plan(
        req(notify::PhotoCreateParam{.photoId = 1, .authorId = 3, .familyId = 3, .titlePreview = preview}), fs);
    REQUIRE(ph.messages.size() == 2);
    CHECK(std::count_if(ph.messages.begin(), ph.messages.end(), [](const notify::Message& m) {
            return m.body == "엄마 님이 앨범에 새로운 사진을 등록했습니다!";
          }) == 1);
  }
}

TEST_CASE("a null preview on the wire drops the quoted part") {
  const Families fs = store();
  const auto r = notify::decode(
      R"({"type":"COMMENT_MESSAGE","param":{"familyId":3,"messageFamId":29001,"authorId":4,"commentPreview":null}})");
  REQUIRE(r.has_value());
  check_plan(*r, fs,
             {{"우리가 이야기", "아빠 님이 이야기에 댓글을 작성했습니다!", "MessageFamily", R"({"messageId":29001})",
               V{"tok-mom", "tok-son"}, I{3, 5, 6}}});
  const auto photo = notify::decode(
      R"({"type":"PHOTO_CREATE","param":{"familyId":3,"photoId":7,"authorId":4,"titlePreview":null}})");
  REQUIRE(photo.has_value());
  check_plan(*photo, fs,
             {{"우리가 앨범", "새로운 사진 등록이 완료됐습니다!", "Photo", R"({"photoId":7})", V{"tok-dad"}, I{}},
              {"우리가 앨범", "아빠 님이 앨범에 새로운 사진을 등록했습니다!", "Photo", R"({"photoId":7})",
               V{"tok-mom", "tok-son"}, I{3, 5, 6}}});
}

TEST_CASE("Preview10 keeps exactly ten code points without dots and cuts eleven") {
  const Families fs = store();
  auto body = [&](std::string preview) {
    const Plan p = notify::plan(req(notify::CommentMessageParam{
                                    .messageFamId = 1, .authorId = 4, .familyId = 3, .commentPreview = std::move(preview)}),
                                fs);
    REQUIRE(p.messages.size() == 1);
    return p.messages[0].body;
  };
  CHECK(body("가나다라마바사아자차") == "아빠 님이 이야기에 댓글을 작성했습니다! \"가나다라마바사아자차\"");
  CHECK(body("가나다라마바사아자차카") == "아빠 님이 이야기에 댓글을 작성했습니다! \"가나다라마바사아자차...\"");
  CHECK(body("가나다라마바사아자차카타파하") == "아빠 님이 이야기에 댓글을 작성했습니다! \"가나다라마바사아자차...\"");
  CHECK(body("짧은 글") == "아빠 님이 이야기에 댓글을 작성했습니다! \"짧은 글\"");
  // A 4-byte emoji counts as one code point.
  CHECK(body("😀😀😀😀😀😀😀😀😀😀") == "아빠 님이 이야기에 댓글을 작성했습니다! \"😀😀😀😀😀😀😀😀😀😀\"");
  CHECK(body("가나다라마바사아자😀차") == "아빠 님이 이야기에 댓글을 작성했습니다! \"가나다라마바사아자😀...\"");
  // Cleaning: a newline becomes a space, control characters vanish and do not count.
  CHECK(body("안녕\n하세요") == "아빠 님이 이야기에 댓글을 작성했습니다! \"안녕 하세요\"");
  CHECK(body("가\x01나다라마바사아자차\x02") == "아빠 님이 이야기에 댓글을 작성했습니다! \"가나다라마바사아자차\"");
  CHECK(body("가\xFF나") == "아빠 님이 이야기에 댓글을 작성했습니다! \"가\xEF\xBF\xBD나\"");
}

TEST_CASE("COMMENT_PHOTO previews are cut at ten code points too") {
  const Families fs = store();
  const Plan p = notify::plan(
      req(notify::CommentPhotoParam{.photoId = 1, .authorId = 4, .familyId = 3, .commentPreview = "abcdefghijk"}), fs);
  REQUIRE(p.messages.size() == 1);
  CHECK(p.messages[0].body == "아빠 님이 사진에 댓글을 작성했습니다! \"abcdefghij...\"");
}

// ---- deduplication ---------------------------------------------------------------

TEST_CASE("a family listed twice gets each token once") {
  const Families fs = store();
  check_plan(req(notify::MessageTodayParam{{3, 3}}), fs,
             {{"우리가 이야기", "오늘의 이야기가 도착했습니다!", "MessageHome", std::nullopt,
               V{"tok-mom", "tok-dad", "tok-son"}, I{}}});
}

TEST_CASE("two members sharing one token get one push and two inbox records") {
  const Families fs({Family{50, {notify::member_v1(1, "가", "shared", false), notify::member_v1(2, "나", "shared", false),
                                 notify::member_v1(3, "다", "own", false)}},
                     Family{51, {notify::member_v1(7, "라", "own", false)}}});
  check_plan(req(notify::MessageTodayParam{{50, 51}}), fs,
             {{"우리가 이야기", "오늘의 이야기가 도착했습니다!", "MessageHome", std::nullopt, V{"shared", "own"}, I{}}});
  check_plan(req(notify::CommentMessageParam{.messageFamId = 2, .authorId = 3, .familyId = 50, .commentPreview = "a"}),
             fs,
             {{"우리가 이야기", "다 님이 이야기에 댓글을 작성했습니다! \"a\"", "MessageFamily", R"({"messageId":2})",
               V{"shared"}, I{1, 2}}});
}

TEST_CASE("two capsules with identical content make one message") {
  const Families fs = store();
  notify::TimeCapsulesOpenParam p;
  p.timaCapsules = {{.letterId = 601, .receiverId = 4, .senderId = 3, .familyId = 3},
                    {.letterId = 601, .receiverId = 4, .senderId = 3, .familyId = 3},
                    {.letterId = 601, .receiverId = 4, .senderId = 6, .familyId = 3}};
  check_plan(req(p), fs,
             {{"우리가 편지", "기다리고 있던 타임캡슐이 공개되었습니다!", "LetterReceived", R"({"letterId":601})",
               V{"tok-dad"}, I{4}},
              {"우리가 편지", "아빠 님에게 작성한 타임캡슐이 공개되었습니다!", "LetterSent", R"({"letterId":601})",
               V{"tok-mom", "tok-son"}, I{3, 6}}});
}

TEST_CASE("capsules of different letters to one receiver stay separate messages") {
  const Families fs = store();
  notify::TimeCapsulesOpenParam p;
  p.timaCapsules = {{.letterId = 801, .receiverId = 4, .senderId = 3, .familyId = 3},
                    {.letterId = 802, .receiverId = 4, .senderId = 3, .familyId = 3}};
  const Plan plan = notify::plan(req(p), fs);
  check_invariants(plan);
  CHECK(plan.messages.size() == 4);
  CHECK(plan.push_count() == 4);
  CHECK(plan.inbox_count() == 4);
}

TEST_CASE("a repeated birthday entry is told once") {
  const Families fs = store();
  check_plan(req(notify::NotifyBirthdayParam{{{.familyId = 3, .birthdayUserId = 6}, {.familyId = 3, .birthdayUserId = 6}}}),
             fs,
             {{"우리가 생일", "곧 사랑하는 우리가족 아들 님의 생일이에요! 따뜻한 축하의 편지를 전해보아요", "LetterSend",
               R"({"targetId":6})", V{"tok-mom", "tok-dad"}, I{}}});
}

TEST_CASE("a token in two families gets the story once") {
  const Families fs({family3(), Family{51, {notify::member_v1(1, "엄마 폰", "tok-mom", false), notify::member_v1(2, "다른", "tok-x", false)}}});
  check_plan(req(notify::MessageTodayParam{{3, 51}}), fs,
             {{"우리가 이야기", "오늘의 이야기가 도착했습니다!", "MessageHome", std::nullopt,
               V{"tok-mom", "tok-dad", "tok-son", "tok-x"}, I{}}});
}

TEST_CASE("MESSAGE_TODAY for 1000 families of 10 pushes 10,000 distinct tokens once each") {
  std::vector<Family> families;
  std::vector<Id> ids;
  for (Id f = 1; f <= 1000; ++f) {
    Family fam{f, {}};
    for (Id u = 1; u <= 10; ++u)
      fam.members.push_back(notify::member_v1(f * 100 + u, "m", "tok-" + std::to_string(f) + "-" + std::to_string(u), false));
    families.push_back(std::move(fam));
    ids.push_back(f);
  }
  // Every family listed twice, so the hashed dedup path has to reject the repeats.
  for (Id f = 1000; f >= 1; --f) ids.push_back(f);
  const Families fs(std::move(families));
  notify::MessageTodayParam p;
  p.familyIds = ids;
  const Plan plan = notify::plan(req(p), fs);
  REQUIRE(plan.messages.size() == 1);
  CHECK(plan.push_count() == 10000);
  CHECK(plan.inbox_count() == 0);
  std::set<std::string_view> distinct;
  for (const notify::Target& t : plan.messages[0].targets) distinct.insert(t.token);
  CHECK(distinct.size() == 10000);
  CHECK(distinct.count("tok-1-1") == 1);
  CHECK(distinct.count("tok-1000-10") == 1);
  CHECK(distinct.count("tok-500-5") == 1);
  CHECK(exact(notify::plan(req(p), fs)) == exact(plan));
}

TEST_CASE("a token shared across many families is pushed once past the linear dedup limit") {
  std::vector<Family> families;
  std::vector<Id> ids;
  for (Id f = 1; f <= 100; ++f) {
    families.push_back(Family{f, {notify::member_v1(1, "a", "tok-" + std::to_string(f), false), notify::member_v1(2, "b", "shared", false)}});
    ids.push_back(f);
  }
  const Families fs(std::move(families));
  const Plan plan = notify::plan(req(notify::MessageTodayParam{ids}), fs);
  check_invariants(plan);
  REQUIRE(plan.messages.size() == 1);
  CHECK(plan.push_count() == 101);
  CHECK(std::count(plan.messages[0].targets.begin(), plan.messages[0].targets.end(), notify::Target("shared")) == 1);
}

// ---- inbox wire form ---------------------------------------------------------------

TEST_CASE("encode_inbox writes one record per receiver with screen and param") {
  const Families fs = store();
  const Plan p = notify::plan(
      req(notify::CommentMessageParam{.messageFamId = 29001, .authorId = 3, .familyId = 3, .commentPreview = "안녕"}),
      fs);
  CHECK(notify::encode_inbox(p) ==
        R"([{"receiverId":4,"title":"우리가 이야기","body":"엄마 님이 이야기에 댓글을 작성했습니다! \"안녕\"","screen":"MessageFamily","param":{"messageId":29001}},)"
        R"({"receiverId":5,"title":"우리가 이야기","body":"엄마 님이 이야기에 댓글을 작성했습니다! \"안녕\"","screen":"MessageFamily","param":{"messageId":29001}},)"
        R"({"receiverId":6,"title":"우리가 이야기","body":"엄마 님이 이야기에 댓글을 작성했습니다! \"안녕\"","screen":"MessageFamily","param":{"messageId":29001}}])");
}

TEST_CASE("encode_inbox writes the pedia param object") {
  const Families fs = store();
  const Plan p = notify::plan(req(notify::PediaQuestionCreatedParam{.familyId = 3, .ownerId = 4}), fs);
  CHECK(notify::encode_inbox(p) ==
        R"([{"receiverId":4,"title":"우리가 인물사전","body":"아빠 님의 인물사전에 새로운 질문이 등록되었습니다!","screen":"FamilyPediaMember","param":{"pediaId":4}}])");
}

TEST_CASE("encode_inbox omits the param when the link has none") {
  const Families fs = store();
  const Plan p = notify::plan(
      req(notify::LetterSendParam{.letterId = 9, .isTimeCapsule = true, .familyId = 3, .receiverId = 5}), fs);
  CHECK(notify::encode_inbox(p) ==
        R"([{"receiverId":5,"title":"우리가 편지","body":"우리가족이 딸 님에게 새로운 타임캡슐을 작성했습니다!","screen":"TimeCapsulesNav"}])");
}

TEST_CASE("encode_inbox omits screen and param when absent and escapes text") {
  Plan p;
  p.messages.push_back(notify::Message{"우리가 편지", "a \"q\" \\ \n", notify::Link{}, {}, {12}, {}});
  CHECK(notify::encode_inbox(p) == R"([{"receiverId":12,"title":"우리가 편지","body":"a \"q\" \\ \n"}])");
}

TEST_CASE("encode_inbox of a plan without inbox records is an empty array") {
  const Families fs = store();
  CHECK(notify::encode_inbox(notify::plan(req(notify::MessageTodayParam{{3, 8}}), fs)) == "[]");
  CHECK(notify::encode_inbox(notify::plan(req(notify::EmotionChosenParam{.familyId = 3, .userId = 3}), fs)) == "[]");
  CHECK(notify::encode_inbox(Plan{}) == "[]");
}

TEST_CASE("encode_inbox leaves out the photo author's own confirmation") {
  const Families fs({Family{70, {notify::member_v1(1, "작가", "t1", false), notify::member_v1(2, "보는이", "", false)}}});
  const Plan p =
      notify::plan(req(notify::PhotoCreateParam{.photoId = 4, .authorId = 1, .familyId = 70, .titlePreview = "산"}), fs);
  CHECK(notify::encode_inbox(p) ==
        R"([{"receiverId":2,"title":"우리가 앨범","body":"작가 님이 앨범에 새로운 사진을 등록했습니다! \"산\"","screen":"Photo","param":{"photoId":4}}])");
}

TEST_CASE("link params have their wire JSON form") {
  using notify::Link;
  using notify::LinkKey;
  using notify::Screen;
  CHECK(Link{Screen::MessageFamily, LinkKey::messageId, 29001}.param_json() == R"({"messageId":29001})");
  CHECK(Link{Screen::Photo, LinkKey::photoId, 7}.param_json() == R"({"photoId":7})");
  CHECK(Link{Screen::LetterSent, LinkKey::letterId, 9223372036854775807}.param_json() ==
        R"({"letterId":9223372036854775807})");
  CHECK(Link{Screen::LetterSend, LinkKey::targetId, 4}.param_json() == R"({"targetId":4})");
  CHECK(Link{Screen::MessageHome, LinkKey::emotionUserId, 5}.param_json() == R"({"openEmotion":true,"userId":5})");
  CHECK(Link{Screen::FamilyPediaMember, LinkKey::pediaId, 6}.param_json() == R"({"pediaId":6})");
  CHECK_FALSE(Link{Screen::TimeCapsulesNav, LinkKey::none, 0}.has_param());
  CHECK_FALSE(Link{}.has_screen());
  CHECK(notify::to_string(Screen::none).empty());
}

// ---- family ids ------------------------------------------------------------------

TEST_CASE("append_family_ids lists the families of every type and appends to what is there") {
  auto ids = [](notify::Param p) {
    std::vector<Id> out{1000};
    notify::append_family_ids(req(std::move(p)), out);
    return out;
  };
  CHECK(ids(notify::MessageTodayParam{{3, 8, 3}}) == I{1000, 3, 8, 3});
  CHECK(ids(notify::MessageBirthdayParam{{5}}) == I{1000, 5});
  CHECK(ids(notify::CommentMessageParam{.messageFamId = 1, .authorId = 2, .familyId = 3, .commentPreview = {}}) ==
        I{1000, 3});
  CHECK(ids(notify::PhotoCreateParam{.photoId = 1, .authorId = 2, .familyId = 4, .titlePreview = {}}) == I{1000, 4});
  CHECK(ids(notify::CommentPhotoParam{.photoId = 1, .authorId = 2, .familyId = 5, .commentPreview = {}}) == I{1000, 5});
  CHECK(ids(notify::LetterSendParam{.letterId = 1, .isTimeCapsule = true, .familyId = 6, .receiverId = 2}) ==
        I{1000, 6});
  CHECK(ids(notify::TimeCapsulesOpenParam{{{.letterId = 1, .receiverId = 2, .senderId = 3, .familyId = 7},
                                           {.letterId = 4, .receiverId = 5, .senderId = 6, .familyId = 8}}}) ==
        I{1000, 7, 8});
  CHECK(ids(notify::NotifyBirthdayParam{{{.familyId = 9, .birthdayUserId = 1}, {.familyId = 10, .birthdayUserId = 2}}}) ==
        I{1000, 9, 10});
  CHECK(ids(notify::EmotionChosenParam{.familyId = 11, .userId = 1}) == I{1000, 11});
  CHECK(ids(notify::EmotionPokeParam{.familyId = 12, .userId = 1}) == I{1000, 12});
  CHECK(ids(notify::PediaQuestionCreatedParam{.familyId = 13, .ownerId = 1}) == I{1000, 13});
  CHECK(ids(notify::PediaQuestionEdittedParam{.familyId = 14, .ownerId = 1}) == I{1000, 14});
  CHECK(ids(notify::PediaAnswerParam{.familyId = 15, .ownerId = 1}) == I{1000, 15});
  CHECK(ids(notify::PediaEditPhotoParam{.familyId = 16, .ownerId = 1, .editorId = 2}) == I{1000, 16});
}

// ---- determinism -----------------------------------------------------------------

TEST_CASE("the same request and families always give the same plan") {
  const Families fs = store();
  const std::vector<notify::Param> params = {
      notify::MessageTodayParam{{8, 3, 9}},
      notify::CommentMessageParam{.messageFamId = 1, .authorId = 3, .familyId = 3, .commentPreview = "가나다라마바사아자차카"},
      notify::PhotoCreateParam{.photoId = 1, .authorId = 4, .familyId = 3, .titlePreview = "t"},
      notify::TimeCapsulesOpenParam{{{.letterId = 1, .receiverId = 3, .senderId = 4, .familyId = 3},
                                     {.letterId = 2, .receiverId = 10, .senderId = 11, .familyId = 8}}},
      notify::NotifyBirthdayParam{{{.familyId = 8, .birthdayUserId = 10}, {.familyId = 3, .birthdayUserId = 3}}},
      notify::PediaEditPhotoParam{.familyId = 3, .ownerId = 4, .editorId = 5},
  };
  for (const notify::Param& p : params) {
    const Plan a = notify::plan(req(p), fs);
    const Families again = store();
    const Plan b = notify::plan(req(p), again);
    CHECK_FALSE(a.messages.empty());
    CHECK(exact(a) == exact(b));
    CHECK(notify::encode_inbox(a) == notify::encode_inbox(b));
  }
}
