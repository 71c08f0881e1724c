// SPDX-License-Identifier: MIT
#pragma once

// Shared pieces of the FCM integration tests: an emulator plus a provider pointed at it,
// and a sample family to plan requests for.

#include <doctest/doctest.h>

#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "fcm-emulator/emulator.hpp"
#include "notify/codec.hpp"
#include "notify/fcm/fcm.hpp"
#include "notify/plan.hpp"

namespace fcmtest {

using notify::test::EmulatorOptions;
using notify::test::FcmEmulator;

/// The HTTP/2 client under test: nghttp2 unless NOTIFY_FCM_CLIENT=curl.
inline notify::fcm::HttpClient client_under_test() {
  const char* env = std::getenv("NOTIFY_FCM_CLIENT");
  return env && std::string_view(env) == "curl" ? notify::fcm::HttpClient::curl : notify::fcm::HttpClient::nghttp2;
}

/// Provider options aimed at an emulator.
inline notify::fcm::Options options_for(const FcmEmulator& emu) {
  notify::fcm::Options o;
  o.transport = client_under_test();
  o.endpoint = emu.url();
  if (emu.options().tls) o.ca_file = emu.ca_file();
  o.connections = 2;
  o.streams_per_connection = 50;
  o.request_timeout = std::chrono::seconds(10);
  return o;
}

inline notify::fcm::ServiceAccount account_for(const FcmEmulator& emu) {
  auto sa = notify::fcm::read_service_account(emu.service_account_file());
  REQUIRE(sa.has_value());
  return std::move(*sa);
}

inline notify::fcm::PushProvider provider_for(const FcmEmulator& emu, notify::fcm::Options o) {
  auto p = notify::fcm::PushProvider::create(account_for(emu), std::move(o));
  REQUIRE_MESSAGE(p.has_value(), (p.has_value() ? "" : p.error().message));
  return std::move(*p);
}

inline notify::fcm::PushProvider provider_for(const FcmEmulator& emu) { return provider_for(emu, options_for(emu)); }

/// Family 3: 엄마 (3), 아빠 (4), 민지 (5), each with a device.
inline notify::Families sample_families() {
  return notify::Families({notify::Family{3,
                                          {notify::member_v1(3, "엄마", "tok-mom", true),
                                           notify::member_v1(4, "아빠", "tok-dad", false),
                                           notify::member_v1(5, "민지", "tok-minji", true)}}});
}

/// A message with the given tokens (its text does not matter to the test).
inline notify::Message message_to(std::vector<std::string_view> tokens) {
  notify::Message m;
  m.title = "우리가 이야기";
  m.body = "오늘의 이야기가 도착했습니다!";
  m.link = notify::Link{notify::Screen::MessageHome};
  for (std::string_view t : tokens) m.targets.emplace_back(t);
  return m;
}

/// One push per token of each message.
inline std::vector<notify::Push> pushes_of(const std::vector<notify::Message>& messages) {
  std::vector<notify::Push> out;
  for (const notify::Message& m : messages)
    for (const notify::Target& t : m.targets) out.push_back({&m, t.token, t.service});
  return out;
}

/// Distinct tokens "<prefix>0" .. "<prefix>n-1", kept alive by the returned vector.
inline std::vector<std::string> tokens(const std::string& prefix, std::size_t n) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < n; ++i) out.push_back(prefix + std::to_string(i));
  return out;
}

inline std::vector<std::string_view> views(const std::vector<std::string>& v) {
  return {v.begin(), v.end()};
}

/// One message to each of `toks`, sent and waited for: the results in token order.
inline std::vector<notify::PushResult> send_to(notify::fcm::PushProvider& provider, const std::vector<std::string>& toks) {
  const std::vector<notify::Message> messages{message_to(views(toks))};
  return provider.send(pushes_of(messages));
}

inline std::size_t count(const std::vector<notify::PushResult>& results, notify::PushStatus s) {
  std::size_t n = 0;
  for (const auto& r : results) n += r.status == s;
  return n;
}

}  // namespace fcmtest
