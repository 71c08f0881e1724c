// SPDX-License-Identifier: MIT
// The core's BatchProcessor and worker loop (in-memory queue, store, inbox and ledger)
// delivering through the FCM provider and the emulator: per-token outcomes drive retries,
// Retry-After, dead-token cleanup and fatal stops.
#include <atomic>

#include "common.hpp"
#include "notify/memory/memory.hpp"
#include "notify/processor.hpp"

using namespace fcmtest;
using namespace std::chrono_literals;

namespace {

struct World {
  notify::memory::Queue queue;
  notify::memory::MemberStore store;
  notify::memory::InboxSink inbox;
  notify::memory::IdempotencyStore ledger;

  World() {
    const notify::Families families = sample_families();
    for (const notify::Family& f : families.all())
      for (const notify::Member& m : f.members) REQUIRE(store.set_member(f.familyId, m).has_value());
  }

  /// Runs the worker until the queue is drained (or a fatal error stops it).
  notify::Result<void> drain(notify::fcm::PushProvider& provider) {
    notify::ProcessorOptions po;
    po.base_delay = 10ms;
    notify::BatchProcessor processor(store, provider, inbox, ledger, po);
    std::atomic<bool> stop{false};
    notify::WorkerOptions wo;
    wo.drain = true;
    wo.wait = 10ms;
    return notify::run_worker(queue, processor, stop, wo);
  }

  std::string token_of(notify::Id user) {
    const notify::Id family = 3;
    auto lookup = store.families(std::span<const notify::Id>(&family, 1));
    REQUIRE(lookup.has_value());
    const notify::Member* m = lookup->families.find(3)->find(user);
    REQUIRE(m != nullptr);
    return std::string(m->fcm_token());
  }
};

const std::string story = R"({"type":"MESSAGE_TODAY","param":{"familyIds":[3]}})";

}  // namespace

TEST_CASE("after a transient failure only the failed token is sent again, and the record is then acked") {
  FcmEmulator emu;
  emu.faults({{{"match", "^tok-dad$"}, {"action", "unavailable"}, {"times", 1}}});
  auto provider = provider_for(emu);
  World w;
  REQUIRE(w.queue.send(story).has_value());
  REQUIRE(w.drain(provider).has_value());
  CHECK(emu.bodies_for("tok-mom").size() == 1);
  CHECK(emu.bodies_for("tok-minji").size() == 1);
  CHECK(emu.bodies_for("tok-dad").size() == 2);
  CHECK(w.queue.acked() == 1);
  CHECK(w.queue.dead_letters().empty());
}

TEST_CASE("Retry-After is honoured: the failed token is not tried again before FCM allows it") {
  FcmEmulator emu;
  emu.faults({{{"match", "^tok-dad$"}, {"action", "quota"}, {"retry_after", 1}, {"times", 1}}});
  auto provider = provider_for(emu);
  World w;
  REQUIRE(w.queue.send(story).has_value());
  REQUIRE(w.drain(provider).has_value());
  std::vector<double> at;
  for (const auto& r : emu.requests())
    if (r["token"] == "tok-dad") at.push_back(r["t_ms"].get<double>());
  REQUIRE(at.size() == 2);
  CHECK(at[1] - at[0] >= 1000.0);  // a lower bound: the queue held the record that long
  CHECK(w.queue.acked() == 1);
}

TEST_CASE("a token FCM calls UNREGISTERED is cleared from the member store and the record is still acked") {
  FcmEmulator emu;
  emu.faults({{{"match", "^tok-dad$"}, {"action", "unregistered"}}});
  auto provider = provider_for(emu);
  World w;
  REQUIRE(w.queue.send(story).has_value());
  REQUIRE(w.drain(provider).has_value());
  CHECK(w.token_of(4).empty());
  CHECK(w.token_of(3) == "tok-mom");
  CHECK(emu.bodies_for("tok-dad").size() == 1);
  CHECK(w.queue.acked() == 1);
}

TEST_CASE("a rejected payload dead-letters the record with FCM's reason instead of losing it") {
  FcmEmulator emu;
  emu.faults({{{"match", "^tok-dad$"}, {"action", "invalid_argument"}}});
  auto provider = provider_for(emu);
  World w;
  REQUIRE(w.queue.send(story).has_value());
  REQUIRE(w.drain(provider).has_value());
  const auto dead = w.queue.dead_letters();
  REQUIRE(dead.size() == 1);
  CHECK(dead[0].reason.find("INVALID_ARGUMENT") != std::string::npos);
  CHECK(emu.bodies_for("tok-mom").size() == 1);
}

TEST_CASE("a fatal answer stops the worker with a clear error and keeps the record for later") {
  FcmEmulator emu;
  emu.faults({{{"match", ""}, {"action", "permission_denied"}}});
  auto provider = provider_for(emu);
  World w;
  REQUIRE(w.queue.send(story).has_value());
  const auto r = w.drain(provider);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == notify::Errc::configuration);
  CHECK(r.error().message.find("PERMISSION_DENIED") != std::string::npos);
  CHECK(w.queue.acked() == 0);
  CHECK(w.queue.dead_letters().empty());
  CHECK(w.queue.pending() == 1);
}
