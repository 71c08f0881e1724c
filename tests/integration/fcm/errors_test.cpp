// SPDX-License-Identifier: MIT
// Every error class FCM (or the network) can produce, driven through the emulator.
#include "common.hpp"

using namespace fcmtest;
using namespace std::chrono_literals;
using notify::PushStatus;

namespace {

struct Send {
  std::vector<std::string> toks;
  std::vector<notify::Message> messages;
  std::vector<notify::PushResult> results;
};

/// Sends one push per token and keeps what the results refer to.
Send send_kept(notify::fcm::PushProvider& provider, std::vector<std::string> toks) {
  Send s;
  s.toks = std::move(toks);
  s.messages.push_back(message_to(views(s.toks)));
  s.results = provider.send(pushes_of(s.messages));
  return s;
}

const notify::PushResult& result_for(const Send& s, std::string_view token) {
  for (std::size_t i = 0; i < s.toks.size(); ++i)
    if (s.toks[i] == token) return s.results[i];
  FAIL("no such token");
  return s.results.front();
}

}  // namespace

TEST_CASE("FCM's per-token errors become invalid_token, failed or retry, and the other tokens are still sent") {
  FcmEmulator emu;
  emu.faults({
      {{"match", "^unregistered"}, {"action", "unregistered"}},
      {{"match", "^badtoken"}, {"action", "invalid_token"}},
      {{"match", "^mismatch"}, {"action", "sender_id_mismatch"}},
      {{"match", "^badpayload"}, {"action", "invalid_argument"}},
      {{"match", "^quota"}, {"action", "quota"}, {"retry_after", 7}},
      {{"match", "^quietquota"}, {"action", "quota"}},
      {{"match", "^internal"}, {"action", "internal"}},
      {{"match", "^unavailable"}, {"action", "unavailable"}, {"retry_after", 3}},
      {{"match", "^reset"}, {"action", "reset"}},
  });
  auto provider = provider_for(emu);
  const auto s = send_kept(provider, {"ok-1", "unregistered-1", "badtoken-1", "mismatch-1", "badpayload-1", "quota-1",
                                    "quietquota-1", "internal-1", "unavailable-1", "reset-1", "ok-2"});
  struct Row {
    const char* token;
    PushStatus status;
    std::chrono::milliseconds retry_after;
    const char* detail;
  };
  const Row rows[] = {
      {"ok-1", PushStatus::sent, 0ms, "projects/notify-test/messages/"},
      {"unregistered-1", PushStatus::invalid_token, 0ms, "404 UNREGISTERED"},
      {"badtoken-1", PushStatus::invalid_token, 0ms, "400 INVALID_ARGUMENT"},
      {"mismatch-1", PushStatus::invalid_token, 0ms, "403 SENDER_ID_MISMATCH"},
      {"badpayload-1", PushStatus::failed, 0ms, "400 INVALID_ARGUMENT"},
      {"quota-1", PushStatus::retry, 7s, "429 QUOTA_EXCEEDED"},
      {"quietquota-1", PushStatus::retry, 60s, "429 QUOTA_EXCEEDED"},
      {"internal-1", PushStatus::retry, 0ms, "500 INTERNAL"},
      {"unavailable-1", PushStatus::retry, 3s, "503 UNAVAILABLE"},
      {"reset-1", PushStatus::retry, 0ms, "connection broken"},
      {"ok-2", PushStatus::sent, 0ms, "projects/notify-test/messages/"},
  };
  for (const Row& row : rows) {
    CAPTURE(row.token);
    const auto& r = result_for(s, row.token);
    CHECK(r.status == row.status);
    CHECK(r.retry_after == row.retry_after);
    CHECK(r.detail.find(row.detail) != std::string::npos);
  }
  // Only a broken stream is tried again within the call; FCM's answers are final for it.
  CHECK(emu.bodies_for("reset-1").size() == 2);
  CHECK(emu.bodies_for("unavailable-1").size() == 1);
  CHECK(emu.bodies_for("quota-1").size() == 1);
}

TEST_CASE("a push whose stream was reset is sent once more at once and delivered") {
  FcmEmulator emu;
  emu.faults({{{"match", "^reset"}, {"action", "reset"}, {"times", 1}}});
  auto provider = provider_for(emu);
  const auto s = send_kept(provider, {"ok-1", "reset-1"});
  CHECK(count(s.results, PushStatus::sent) == 2);
  CHECK(emu.bodies_for("reset-1").size() == 2);
  CHECK(provider.stats().connection_retries == 1);
}

TEST_CASE("a request that takes longer than the timeout comes back as retry") {
  FcmEmulator emu;
  emu.faults({{{"match", "^slow"}, {"action", "ok"}, {"latency_ms", 3000}}});
  auto o = options_for(emu);
  o.request_timeout = 300ms;
  auto provider = provider_for(emu, o);
  const auto s = send_kept(provider, {"fast-1", "slow-1", "fast-2"});
  CHECK(result_for(s, "fast-1").status == PushStatus::sent);
  CHECK(result_for(s, "fast-2").status == PushStatus::sent);
  CHECK(result_for(s, "slow-1").status == PushStatus::retry);
  CHECK(result_for(s, "slow-1").detail.find("timeout") != std::string::npos);
}

TEST_CASE("APNs credentials rejected (THIRD_PARTY_AUTH_ERROR) are fatal and the pushes not yet started are given back") {
  FcmEmulator emu;
  emu.faults({{{"match", "^ios"}, {"action", "third_party_auth"}}});
  auto o = options_for(emu);
  o.connections = 1;
  o.streams_per_connection = 1;  // one at a time: the order is known
  auto provider = provider_for(emu, o);
  const auto s = send_kept(provider, {"android-1", "ios-1", "android-2", "android-3"});
  CHECK(s.results[0].status == PushStatus::sent);
  CHECK(s.results[1].status == PushStatus::fatal);
  CHECK(s.results[1].detail.find("THIRD_PARTY_AUTH_ERROR") != std::string::npos);
  for (std::size_t i = 2; i < 4; ++i) {
    CHECK(s.results[i].status == PushStatus::retry);
    CHECK(s.results[i].detail.find("not sent after") != std::string::npos);
  }
  CHECK(emu.stats()["requests"] == 2);
}

TEST_CASE("a project the credentials may not send for is fatal (403 PERMISSION_DENIED)") {
  FcmEmulator emu;
  auto o = options_for(emu);
  o.project_id = "someone-elses-project";
  o.connections = 1;
  o.streams_per_connection = 1;
  auto provider = provider_for(emu, o);
  const auto s = send_kept(provider, {"tok-1", "tok-2"});
  CHECK(s.results[0].status == PushStatus::fatal);
  CHECK(s.results[0].detail.find("PERMISSION_DENIED") != std::string::npos);
  CHECK(s.results[1].status == PushStatus::retry);
}

TEST_CASE("the pushes in flight on a dropped connection are sent once more on a new one") {
  FcmEmulator emu(EmulatorOptions{.tls = true, .latency_ms = 30});
  emu.faults({{{"match", "^drop"}, {"action", "drop"}, {"times", 1}}});
  auto provider = provider_for(emu);
  std::vector<std::string> toks = tokens("tok-", 20);
  toks.insert(toks.begin() + 10, "drop-1");
  const auto first = send_kept(provider, toks);
  // Nothing is lost: every push is sent, or (when the fresh connection also lost the
  // race with the dying one, as libcurl sometimes does under load) given back as retry.
  CHECK(count(first.results, PushStatus::sent) + count(first.results, PushStatus::retry) == toks.size());
  CHECK(count(first.results, PushStatus::sent) >= toks.size() - 1);
  if (result_for(first, "drop-1").status == PushStatus::sent) CHECK(emu.bodies_for("drop-1").size() >= 2);
  CHECK(provider.stats().connection_retries >= 1);
  CHECK(emu.stats()["sessions_opened"].get<int>() >= 2);  // the dropped one and its successor
}

TEST_CASE("a connection that keeps breaking gives its pushes back as retry after one more try") {
  FcmEmulator emu(EmulatorOptions{.tls = true, .latency_ms = 30});
  emu.faults({{{"match", "^drop"}, {"action", "drop"}}});
  auto o = options_for(emu);
  o.connections = 1;
  o.streams_per_connection = 1;
  auto provider = provider_for(emu, o);
  const auto s = send_kept(provider, {"ok-1", "drop-1", "ok-2"});
  CHECK(result_for(s, "ok-1").status == PushStatus::sent);
  CHECK(result_for(s, "drop-1").status == PushStatus::retry);
  CHECK(result_for(s, "ok-2").status == PushStatus::sent);
  CHECK(emu.bodies_for("drop-1").size() >= 2);  // libcurl may also retry a died connection itself
}

TEST_CASE("a GOAWAY loses no push: each is sent or given back, and later sends use a new connection") {
  FcmEmulator emu(EmulatorOptions{.tls = true, .latency_ms = 20});
  emu.faults({{{"match", "^goaway"}, {"action", "goaway"}, {"times", 1}}});
  auto o = options_for(emu);
  o.connections = 1;
  o.streams_per_connection = 5;
  auto provider = provider_for(emu, o);
  std::vector<std::string> toks = tokens("tok-", 30);
  toks.insert(toks.begin() + 3, "goaway-1");
  const auto first = send_kept(provider, toks);
  CHECK(result_for(first, "goaway-1").status == PushStatus::sent);
  CHECK(count(first.results, PushStatus::sent) + count(first.results, PushStatus::retry) == toks.size());
  const auto second = send_kept(provider, toks);
  CHECK(count(second.results, PushStatus::sent) == toks.size());
  CHECK(emu.stats()["sessions_opened"].get<int>() >= 3);  // the first, its replacement, this stats call
}
