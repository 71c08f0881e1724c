// SPDX-License-Identifier: MIT
// RoutingPusher: each push to the provider of its Push::service (in-memory providers).
#include <doctest/doctest.h>

#include <set>
#include <vector>

#include "notify/app/routing.hpp"
#include "notify/memory/async_pushes.hpp"
#include "notify/memory/memory.hpp"
#include "notify/plan.hpp"

namespace app = notify::app;
using notify::Push;
using notify::PushService;
using notify::PushStatus;

namespace {

notify::Message message() {
  notify::Message m;
  m.title = "t";
  m.body = "b";
  return m;
}

/// An asynchronous in-memory provider (answers at the next poll).
class Async {
 public:
  explicit Async(notify::memory::PushProvider& inner) : inner_(inner), pushes_(inner) {}
  std::vector<notify::PushResult> send(std::span<const Push> p) { return inner_.send(p); }
  void submit(const Push& push, std::uint64_t tag) { pushes_.submit(push, tag); }
  void poll(std::chrono::milliseconds wait, std::vector<notify::PushDone>& out) { pushes_.poll(wait, out); }
  std::size_t in_flight() const { return pushes_.in_flight(); }

 private:
  notify::memory::PushProvider& inner_;
  notify::memory::AsyncPushes pushes_;
};

}  // namespace

TEST_CASE("a mixed batch goes to each device's service and the results come back in order") {
  app::RoutingPusher router;
  router.set(PushService::fcm, app::AnyPusher{notify::memory::PushProvider{}});
  router.set(PushService::apns, app::AnyPusher{notify::memory::PushProvider{}});
  router.get(PushService::apns)->get<notify::memory::PushProvider>()->fail_token("ios-dead", PushStatus::invalid_token);
  const auto m = message();
  const std::vector<Push> batch = {{&m, "android-1", PushService::fcm},
                                   {&m, "ios-1", PushService::apns},
                                   {&m, "ios-dead", PushService::apns},
                                   {&m, "android-2", PushService::fcm}};
  const auto r = router.send(batch);
  REQUIRE(r.size() == 4);
  CHECK(r[0].status == PushStatus::sent);
  CHECK(r[1].status == PushStatus::sent);
  CHECK(r[2].status == PushStatus::invalid_token);
  CHECK(r[3].status == PushStatus::sent);
  const auto& fcm = router.get(PushService::fcm)->get<notify::memory::PushProvider>()->sent();
  const auto& apns = router.get(PushService::apns)->get<notify::memory::PushProvider>()->sent();
  REQUIRE(fcm.size() == 2);
  REQUIRE(apns.size() == 1);
  CHECK(fcm[0].token == "android-1");
  CHECK(fcm[1].token == "android-2");
  CHECK(apns[0].token == "ios-1");
}

TEST_CASE("submit and poll route by service, keep the caller's tags and answer each push once") {
  notify::memory::PushProvider fcm_inner, apns_inner;
  app::RoutingPusher router;
  router.set(PushService::fcm, app::AnyPusher{Async(fcm_inner)});
  router.set(PushService::apns, app::AnyPusher{Async(apns_inner)});
  const auto m = message();
  router.submit({&m, "a1", PushService::fcm}, 1);
  router.submit({&m, "i1", PushService::apns}, 2);
  router.submit({&m, "i2", PushService::apns}, 3);
  CHECK(router.in_flight() == 3);
  std::vector<notify::PushDone> out;
  for (int i = 0; i < 10 && out.size() < 3; ++i) router.poll(std::chrono::milliseconds(10), out);
  REQUIRE(out.size() == 3);
  std::set<std::uint64_t> tags;
  for (const auto& d : out) {
    tags.insert(d.tag);
    CHECK(d.result.status == PushStatus::sent);
  }
  CHECK(tags == std::set<std::uint64_t>{1, 2, 3});
  CHECK(fcm_inner.sent().size() == 1);
  CHECK(apns_inner.sent().size() == 2);
  CHECK(router.in_flight() == 0);
}

TEST_CASE("a push for a service without a provider fails at once and never reaches another provider") {
  app::RoutingPusher router;
  router.set(PushService::fcm, app::AnyPusher{notify::memory::PushProvider{}});
  const auto m = message();
  const std::vector<Push> batch = {{&m, "ios-1", PushService::apns}, {&m, "android-1", PushService::fcm}};
  const auto r = router.send(batch);
  CHECK(r[0].status == PushStatus::failed);
  CHECK(r[0].detail == "no apns provider (see --push)");
  CHECK(r[1].status == PushStatus::sent);
  router.submit({&m, "ios-2", PushService::apns}, 9);
  CHECK(router.in_flight() == 1);
  std::vector<notify::PushDone> out;
  router.poll(std::chrono::milliseconds(0), out);
  REQUIRE(out.size() == 1);
  CHECK(out[0].tag == 9);
  CHECK(out[0].result.status == PushStatus::failed);
  CHECK(router.get(PushService::fcm)->get<notify::memory::PushProvider>()->sent().size() == 1);
}

TEST_CASE("a RoutingPusher fits in an AnyPusher, as the worker holds it") {
  app::RoutingPusher router;
  router.set(PushService::apns, app::AnyPusher{notify::memory::PushProvider{}});
  app::AnyPusher pusher{std::move(router)};
  const auto m = message();
  const std::vector<Push> batch = {{&m, "ios-1", PushService::apns}};
  CHECK(pusher.send(batch)[0].status == PushStatus::sent);
  CHECK(pusher.connect().has_value());
  CHECK_FALSE(pusher.token_obtained().has_value());
}
