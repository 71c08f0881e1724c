// SPDX-License-Identifier: MIT
#include "common.hpp"

using namespace fcmtest;
using notify::PushStatus;

TEST_CASE("pushes reach the emulator over cleartext HTTP/2 and come back sent with their message names") {
  FcmEmulator emu;
  auto provider = provider_for(emu);
  const auto toks = tokens("tok-", 5);
  const std::vector<notify::Message> messages{message_to(views(toks))};
  const auto pushes = pushes_of(messages);
  const auto results = provider.send(pushes);
  REQUIRE(results.size() == 5);
  for (const auto& r : results) {
    INFO(r.detail);
    CHECK(r.status == PushStatus::sent);
    CHECK(r.detail.rfind("projects/notify-test/messages/", 0) == 0);
  }
  const auto stats = emu.stats();
  CHECK(stats["requests"] == 5);
  CHECK(stats["by_status"]["200"] == 5);
  CHECK(stats["tokens_issued"] == 1);
}
