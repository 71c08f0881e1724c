// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "notify/catalog.hpp"
#include "notify/fcm/message.hpp"
#include "notify/plan.hpp"
#include "notify/text.hpp"

using notify::fcm::BodyOptions;
using notify::fcm::BodyTemplate;
using notify::fcm::request_body;
using notify::fcm::shorten_text;

namespace {

notify::Message photo_message(std::string body) {
  notify::Message m;
  m.title = notify::catalog::title_album;
  m.body = std::move(body);
  m.link = {notify::Screen::Photo, notify::LinkKey::photoId, 7};
  return m;
}

std::string repeat(std::string_view s, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

const std::string photo_prefix = "엄마 님이 앨범에 새로운 사진을 등록했습니다! \"";

}  // namespace

TEST_CASE("the request body carries token, notification, data, android and apns exactly as the running system") {
  const auto m = photo_message("엄마 님이 앨범에 새로운 사진을 등록했습니다! \"가족 여행\"");
  CHECK(request_body(m, "tok-1") ==
        R"json({"message":{"token":"tok-1","notification":{"title":"우리가 앨범","body":"엄마 님이 앨범에 새로운 사진을 등록했습니다! \"가족 여행\""},"data":{"screen":"Photo","param":"{\"photoId\":7}"},"android":{"priority":"high","notification":{"title":"우리가 앨범","body":"엄마 님이 앨범에 새로운 사진을 등록했습니다! \"가족 여행\"","icon":"default","sound":"default","channel_id":"500","notification_priority":"PRIORITY_HIGH"}},"apns":{"payload":{"aps":{"sound":"default"}}}}})json");
}

TEST_CASE("data holds only the screen when a message has no param") {
  notify::Message m;
  m.title = notify::catalog::title_letter;
  m.body = "우리가족이 민지 님에게 새로운 타임캡슐을 작성했습니다!";
  m.link = {notify::Screen::TimeCapsulesNav, notify::LinkKey::none, 0};
  const auto j = nlohmann::json::parse(request_body(m, "t"));
  CHECK(j["message"]["data"] == nlohmann::json{{"screen", "TimeCapsulesNav"}});
}

TEST_CASE("data is left out when a message has neither screen nor param") {
  notify::Message m;
  m.title = "t";
  m.body = "b";
  const auto j = nlohmann::json::parse(request_body(m, "t"));
  CHECK_FALSE(j["message"].contains("data"));
  CHECK(j["message"]["notification"] == nlohmann::json{{"title", "t"}, {"body", "b"}});
}

TEST_CASE("data values are strings: the param object is JSON-encoded text") {
  notify::Message m = photo_message("b");
  m.link = {notify::Screen::MessageHome, notify::LinkKey::emotionUserId, 5};
  const auto j = nlohmann::json::parse(request_body(m, "t"));
  REQUIRE(j["message"]["data"]["param"].is_string());
  CHECK(nlohmann::json::parse(j["message"]["data"]["param"].get<std::string>()) ==
        nlohmann::json{{"openEmotion", true}, {"userId", 5}});
}

TEST_CASE("validate_only adds the dry-run flag before the message") {
  const auto m = photo_message("b");
  const std::string body = request_body(m, "tok", BodyOptions{true});
  CHECK(body.rfind(R"({"validate_only":true,"message":{"token":"tok",)", 0) == 0);
  CHECK(nlohmann::json::parse(body)["validate_only"] == true);
}

TEST_CASE("tokens and texts are JSON-escaped") {
  const auto m = photo_message("a \"quoted\" \\ back");
  const auto j = nlohmann::json::parse(request_body(m, "to\"k"));
  CHECK(j["message"]["token"] == "to\"k");
  CHECK(j["message"]["notification"]["body"] == "a \"quoted\" \\ back");
}

TEST_CASE("the body template renders the same bytes as request_body for every token") {
  const auto short_one = photo_message(photo_prefix + "가족 여행\"");
  const auto long_one = photo_message(photo_prefix + repeat("가", 1500) + "\"");
  for (const auto* m : {&short_one, &long_one}) {
    const BodyTemplate tpl(*m, BodyOptions{});
    std::string out;
    for (std::string_view token : {"a", "token-2", "a-much-longer-token-with-more-characters"}) {
      tpl.render(out, token);
      CHECK(out == request_body(*m, token));
    }
  }
}

TEST_CASE("text that fits is not shortened") {
  CHECK(shorten_text("오늘의 이야기가 도착했습니다!", 100) == "오늘의 이야기가 도착했습니다!");
}

TEST_CASE("shortening cuts the quoted user preview first and keeps the rest of the sentence") {
  const std::string text = photo_prefix + repeat("가", 100) + "\"";
  const std::string out = shorten_text(text, 120);
  CHECK(out.size() <= 120);
  CHECK(out.rfind(photo_prefix, 0) == 0);
  CHECK(out.substr(out.size() - 4) == "...\"");
  const std::string kept = out.substr(photo_prefix.size(), out.size() - photo_prefix.size() - 4);
  CHECK(!kept.empty());
  CHECK(kept == repeat("가", kept.size() / 3));
  CHECK(notify::is_valid_utf8(out));
}

TEST_CASE("shortening finds the preview of each quoting template") {
  for (std::string_view prefix : {"아빠 님이 이야기에 댓글을 작성했습니다! \"", "아빠 님이 사진에 댓글을 작성했습니다! \""}) {
    const std::string text = std::string(prefix) + repeat("나", 50) + "\"";
    const std::string out = shorten_text(text, prefix.size() + 20);
    CHECK(out.rfind(prefix, 0) == 0);
    CHECK(out.substr(out.size() - 4) == "...\"");
  }
}

TEST_CASE("shortening never cuts a Korean character in half, whatever the byte budget") {
  const std::string text = "우리가족이 " + repeat("민지", 40) + " 님에게 작성한 편지가 도착했습니다!";
  for (std::size_t max = 0; max < 60; ++max) {
    const std::string out = shorten_text(text, max);
    CHECK(out.size() <= max);
    CHECK(notify::is_valid_utf8(out));
    CHECK(text.rfind(out.substr(0, out.size() >= 3 ? out.size() - 3 : 0), 0) == 0);
  }
}

TEST_CASE("text without a preview is cut at its end with an ellipsis") {
  const std::string text = "곧 사랑하는 우리가족 " + repeat("할머니", 30) + " 님의 생일이에요!";
  const std::string out = shorten_text(text, 40);
  CHECK(out.size() <= 40);
  CHECK(out.substr(out.size() - 3) == "...");
  CHECK(out.rfind("곧 사랑하는", 0) == 0);
}

TEST_CASE("a message over FCM's 4096 bytes is shortened to fit, never rejected, and stays the same message") {
  const auto m = photo_message(photo_prefix + repeat("가", 3000) + "\"");
  const std::string body = request_body(m, "tok-1");
  CHECK(body.size() <= notify::fcm::max_message_bytes);
  CHECK(body.size() > notify::fcm::max_message_bytes - 16);  // not shortened more than needed
  const auto j = nlohmann::json::parse(body);
  const auto& msg = j["message"];
  const std::string text = msg["notification"]["body"];
  CHECK(text.rfind(photo_prefix, 0) == 0);
  CHECK(text.substr(text.size() - 4) == "...\"");
  CHECK(msg["android"]["notification"]["body"] == text);
  CHECK(msg["notification"]["title"] == "우리가 앨범");
  CHECK(msg["data"]["param"] == R"({"photoId":7})");
  CHECK(msg["token"] == "tok-1");
}

TEST_CASE("text full of escaped characters is still shortened to the byte limit of the encoded body") {
  const auto m = photo_message(photo_prefix + repeat("\"\\", 2000) + "\"");
  const std::string body = request_body(m, "tok");
  CHECK(body.size() <= notify::fcm::max_message_bytes);
  CHECK(nlohmann::json::accept(body));
}

TEST_CASE("a token too long for any body is still sent, with the text cut away") {
  const auto m = photo_message("본문");
  const std::string token(5000, 'x');
  const auto j = nlohmann::json::parse(request_body(m, token));
  CHECK(j["message"]["token"] == token);
  CHECK(j["message"]["notification"]["body"] == "");
}
