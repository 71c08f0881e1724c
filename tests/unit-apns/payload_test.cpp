// SPDX-License-Identifier: MIT
// The APNs payload of every type against what FCM delivers to iOS for the same message.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "notify/apns/payload.hpp"
#include "notify/catalog.hpp"
#include "notify/codec.hpp"
#include "notify/fcm/message.hpp"
#include "notify/plan.hpp"
#include "notify/text.hpp"

namespace fs = std::filesystem;
using notify::apns::delivery_of;
using notify::apns::payload;

namespace {

notify::Families families() {
  return notify::Families({notify::Family{3, {notify::member_v1(3, "엄마", "tok-3", true), notify::member_v1(12, "민지", "tok-12", true), notify::member_v1(14, "아빠", "tok-14", true)}},
                           notify::Family{17, {notify::member_v1(40, "할머니", "tok-40", true), notify::member_v1(41, "할아버지", "tok-41", true)}}});
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// The plain golden request of each type (TYPE.json).
std::vector<fs::path> golden() {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(fs::path(NOTIFY_TEST_DATA_DIR) / "golden")) {
    const std::string name = e.path().filename().string();
    if (name.find('.') == name.rfind('.') && e.path().extension() == ".json") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("every type's payload holds the alert, the default sound, screen and param as FCM gives them to iOS") {
  const auto files = golden();
  REQUIRE(files.size() == notify::type_count);
  const auto fams = families();
  std::size_t messages = 0;
  for (const auto& file : files) {
    CAPTURE(file.filename().string());
    auto request = notify::decode(read(file));
    REQUIRE(request.has_value());
    const notify::Plan plan = notify::plan(*request, fams);
    for (const notify::Message& m : plan.messages) {
      ++messages;
      const auto apns = nlohmann::json::parse(payload(m));
      const auto fcm = nlohmann::json::parse(notify::fcm::request_body(m, "tok"))["message"];
      CHECK(apns["aps"]["alert"] == fcm["notification"]);
      CHECK(apns["aps"]["sound"] == fcm["apns"]["payload"]["aps"]["sound"]);
      nlohmann::json custom = apns;
      custom.erase("aps");
      CHECK(custom == fcm.value("data", nlohmann::json::object()));
    }
  }
  CHECK(messages >= notify::type_count);
}

TEST_CASE("priority 5 and a collapse id for the bulk daily types, 5 for an ad, 10 for what someone just did") {
  const auto fams = families();
  std::set<std::string> seen;
  for (const auto& file : golden()) {
    const std::string type = file.stem().string();
    CAPTURE(type);
    auto request = notify::decode(read(file));
    REQUIRE(request.has_value());
    for (const notify::Message& m : notify::plan(*request, fams).messages) {
      const auto d = delivery_of(m);
      const bool bulk = type == "MESSAGE_TODAY" || type == "MESSAGE_BIRTHDAY" || type == "NOTIFY_BIRTHDAY";
      CHECK(d.priority == (bulk ? 5 : 10));
      CHECK(d.collapse_id.size() <= notify::apns::max_collapse_id_bytes);
      if (bulk || type == "EMOTION_POKE") CHECK_FALSE(d.collapse_id.empty());
      else CHECK(d.collapse_id.empty());
      seen.insert(type);
    }
  }
  CHECK(seen.size() == notify::type_count);

  // An advertising notice is bulk too: power-friendly, and each one stays (no collapse).
  auto ad = notify::decode(read(fs::path(NOTIFY_TEST_DATA_DIR) / "golden" / "SERVICE_NOTICE.marketing-scheduled.json"));
  REQUIRE(ad.has_value());
  const auto ad_plan = notify::plan(*ad, fams);
  REQUIRE_FALSE(ad_plan.messages.empty());
  for (const notify::Message& m : ad_plan.messages) {
    CHECK(delivery_of(m).priority == 5);
    CHECK(delivery_of(m).collapse_id.empty());
  }
}

TEST_CASE("a payload over 4096 bytes is shortened like FCM's: the preview cut on a code point, then \"...\"") {
  notify::Message m;
  m.title = notify::catalog::title_album;
  std::string preview;
  for (int i = 0; i < 2000; ++i) preview += "가";  // 3 bytes each
  m.body = "엄마 님이 앨범에 새로운 사진을 등록했습니다! \"" + preview + "\"";
  m.link = {notify::Screen::Photo, notify::LinkKey::photoId, 7};
  const std::string p = payload(m);
  CHECK(p.size() <= notify::apns::max_payload_bytes);
  CHECK(p.size() > notify::apns::max_payload_bytes - 8);  // not cut more than needed
  const auto j = nlohmann::json::parse(p);  // valid JSON: no character was split
  const std::string body = j["aps"]["alert"]["body"];
  CHECK(body.starts_with("엄마 님이 앨범에 새로운 사진을 등록했습니다! \"가"));
  CHECK(body.ends_with("...\""));
  CHECK(notify::utf8_prefix(body, body.size()) == body);
  CHECK(body == notify::fcm::shorten_text(m.body, body.size()));
}

TEST_CASE("a payload that fits is not touched, and shortening works for any limit") {
  notify::Message m;
  m.title = notify::catalog::title_story;
  m.body = notify::catalog::story_arrived;
  m.link = notify::Link{notify::Screen::MessageHome};
  CHECK(payload(m) ==
        R"({"aps":{"alert":{"title":"우리가 이야기","body":"오늘의 이야기가 도착했습니다!"},"sound":"default"},"screen":"MessageHome"})");
  for (std::size_t limit = 60; limit < 140; ++limit) {
    CAPTURE(limit);
    const std::string p = payload(m, limit);
    const auto j = nlohmann::json::parse(p);
    if (j["aps"]["alert"]["body"] != "") CHECK(p.size() <= limit);
  }
}
