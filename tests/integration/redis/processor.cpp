// SPDX-License-Identifier: MIT
#include <algorithm>
#include <atomic>
#include <map>
#include <thread>

#include "helpers.hpp"
#include "notify/codec.hpp"
#include "notify/memory/memory.hpp"
#include "notify/processor.hpp"

using namespace notify;
using namespace std::chrono_literals;
using notify::test::RedisServer;
using Clock = std::chrono::steady_clock;

namespace {

/// The whole worker side on Redis, with in-memory push and inbox.
struct Rig {
  explicit Rig(const RedisServer& server, std::string consumer = "w1", ProcessorOptions options = processor_options(),
               EventSink events = {})
      : store(notify::test::options_for(server)),
        ledger(notify::test::options_for(server)),
        queue(notify::test::options_for(server), queue_options(std::move(consumer))),
        processor(store, push, inbox, ledger, std::move(options), std::move(events)) {}

  static redis::QueueOptions queue_options(std::string consumer) {
    redis::QueueOptions q;
    q.stream = "requests";
    q.consumer = std::move(consumer);
    q.claim_idle = 300ms;
    return q;
  }
  static ProcessorOptions processor_options() {
    ProcessorOptions p;
    p.base_delay = 100ms;
    p.max_delay = 200ms;
    return p;
  }

  void seed_family(Id familyId, std::initializer_list<Id> users) {
    for (Id u : users)
      REQUIRE(store.set_member(familyId, notify::member_v1(u, "u" + std::to_string(u), "tok-" + std::to_string(u), true))
                  .has_value());
  }

  std::vector<QueueRecord> receive(std::size_t n) {
    std::vector<QueueRecord> got;
    const auto deadline = Clock::now() + 15s;
    while (got.size() < n && Clock::now() < deadline) {
      auto r = queue.receive(n - got.size(), 100ms);
      REQUIRE(r.has_value());
      for (auto& rec : *r) got.push_back(std::move(rec));
    }
    REQUIRE(got.size() == n);
    return got;
  }

  Result<void> settle(const std::vector<QueueRecord>& batch, std::vector<Outcome> outcomes) {
    std::vector<Settlement> s;
    for (std::size_t i = 0; i < batch.size(); ++i) s.push_back({&batch[i], std::move(outcomes[i])});
    return queue.settle(s);
  }

  redis::MemberStore store;
  redis::IdempotencyStore ledger;
  redis::Queue queue;
  memory::PushProvider push;
  memory::InboxSink inbox;
  BatchProcessor<redis::MemberStore, memory::PushProvider, memory::InboxSink, redis::IdempotencyStore> processor;
};

std::string today(std::vector<Id> families, std::string id = {}) {
  return encode(Request{Param{MessageTodayParam{std::move(families)}}, std::move(id), {}});
}

}  // namespace

TEST_CASE("a record retried after a partial failure re-sends only to the tokens that did not get it") {
  RedisServer server;
  Rig rig(server);
  rig.seed_family(3, {4, 5, 6});
  const PhotoCreateParam photo{901, 4, 3, "소풍"};
  const std::vector<std::string> request = {encode(Request{Param{photo}, "photo-901", {}})};
  REQUIRE(rig.queue.send(request).has_value());

  rig.push.fail_token("tok-6", PushStatus::retry);
  auto batch = rig.receive(1);
  auto outcomes = rig.processor.process(batch);
  REQUIRE(outcomes.size() == 1);
  CHECK(outcomes[0].disposition == Disposition::retry);
  CHECK(rig.push.count("tok-4") == 1);
  CHECK(rig.push.count("tok-5") == 1);
  CHECK(rig.push.count("tok-6") == 0);
  CHECK(rig.inbox.published().size() == 1);  // inbox records for 5 and 6
  REQUIRE(rig.settle(batch, outcomes).has_value());

  rig.push.clear_token("tok-6");
  auto again = rig.receive(1);  // after the processor's retry delay
  CHECK(again[0].receive_count == 2);
  outcomes = rig.processor.process(again);
  CHECK(outcomes[0].disposition == Disposition::done);
  CHECK(rig.push.count("tok-4") == 1);  // not again
  CHECK(rig.push.count("tok-5") == 1);
  CHECK(rig.push.count("tok-6") == 1);
  CHECK(rig.inbox.published().size() == 1);  // the inbox records went out once
  REQUIRE(rig.settle(again, outcomes).has_value());
  CHECK(*rig.queue.pending_count() == 0);
}

TEST_CASE("a record redelivered after its worker died unsettled does not re-send anything") {
  RedisServer server;
  Rig first(server, "first");
  first.seed_family(3, {4, 5});
  first.seed_family(7, {8});
  const std::vector<std::string> requests = {today({3}), today({7})};
  REQUIRE(first.queue.send(requests).has_value());

  auto batch = first.receive(2);
  auto outcomes = first.processor.process(batch);
  CHECK(outcomes[0].disposition == Disposition::done);
  CHECK(first.push.sent().size() == 3);
  // ... and the worker dies before settling: the records stay pending.

  Rig second(server, "second");
  auto redelivered = second.receive(2);  // claimed after the idle time
  CHECK(redelivered[0].receive_count == 2);
  CHECK(redelivered[0].id == batch[0].id);  // the generated request id travels with the record
  outcomes = second.processor.process(redelivered);
  CHECK(outcomes[0].disposition == Disposition::done);
  CHECK(outcomes[1].disposition == Disposition::done);
  CHECK(second.push.sent().empty());
  CHECK(second.inbox.published().empty());
  REQUIRE(second.settle(redelivered, outcomes).has_value());
  CHECK(*second.queue.pending_count() == 0);
}

TEST_CASE("a batch costs one member-store round trip and two idempotency round trips") {
  RedisServer server;
  Rig rig(server);
  std::vector<std::string> requests;
  for (Id f = 1; f <= 10; ++f) {
    rig.seed_family(f, {f * 10 + 1, f * 10 + 2, f * 10 + 3, f * 10 + 4});
    requests.push_back(today({f, f + 1}));
  }
  REQUIRE(rig.queue.send(requests).has_value());
  auto batch = rig.receive(10);

  const auto store_before = rig.store.round_trips();
  const auto ledger_before = rig.ledger.round_trips();
  const auto queue_before = rig.queue.connection().round_trips();
  auto outcomes = rig.processor.process(batch);
  REQUIRE(rig.settle(batch, outcomes).has_value());
  for (const Outcome& o : outcomes) CHECK(o.disposition == Disposition::done);
  CHECK(rig.push.sent().size() == 10 * 8 - 4);  // family 11 does not exist
  CHECK(rig.store.round_trips() - store_before == 1);
  CHECK(rig.ledger.round_trips() - ledger_before == 2);  // seen, then remember
  CHECK(rig.queue.connection().round_trips() - queue_before == 1);  // settle
}

TEST_CASE("run_worker drains a Redis queue: invalid records dead-lettered, the rest delivered once") {
  RedisServer server;
  Rig rig(server);
  rig.seed_family(1, {1, 2});
  rig.seed_family(2, {3});
  const std::vector<std::string> requests = {today({1}), R"({"type":"NOPE","param":{}})", today({2})};
  REQUIRE(rig.queue.send(requests).has_value());
  REQUIRE(rig.queue.send(std::vector<std::string>{today({1, 2}, "urgent")}, redis::Priority::high).has_value());

  std::atomic<bool> stop{false};
  WorkerOptions wo;
  wo.wait = 200ms;
  wo.drain = true;
  auto r = run_worker(rig.queue, rig.processor, stop, wo);
  REQUIRE(r.has_value());
  CHECK(rig.push.count("tok-1") == 2);
  CHECK(rig.push.count("tok-2") == 2);
  CHECK(rig.push.count("tok-3") == 2);
  CHECK(*rig.queue.pending_count() == 0);
  auto dead = rig.queue.dead_letters();
  REQUIRE(dead->size() == 1);
  CHECK(dead->front().reason.find("unknown_type") != std::string::npos);
}

namespace {

/// A wall clock that reads `reads` now and runs on in real time.
std::function<std::int64_t()> clock_reading(std::string_view reads) {
  const std::int64_t offset = *parse_rfc3339(reads) - unix_now_ms();
  return [offset] { return unix_now_ms() + offset; };
}

/// The wall-clock time of each push to a token, as the worker saw it, by its log name.
struct SentTimes {
  std::function<std::int64_t()> clock;
  std::map<std::string, std::vector<std::int64_t>> at;
  std::vector<std::string> steps;
  EventSink sink() {
    return [this](const Event& e) {
      steps.emplace_back(e.step);
      if (e.step == "sent") at[std::string(e.token)].push_back(clock());
    };
  }
};

}  // namespace

TEST_CASE("quiet hours: the others get the push at once, the sleeper when they end, nobody twice (Redis queue)") {
  RedisServer server;
  ProcessorOptions po = Rig::processor_options();
  po.wall_clock = clock_reading("2026-06-02T06:59:58+09:00");  // 2 s before the quiet hours end
  SentTimes times{po.wall_clock, {}, {}};
  Rig rig(server, "w1", po, times.sink());
  REQUIRE(rig.store.set_member(3, member_v1(1, "엄마", "awake-device-00000001")).has_value());
  Member sleeper = member_v1(2, "아빠", "sleepy-device-00000002");
  sleeper.quietHours = DailyWindow{LocalTime{22 * 60}, LocalTime{7 * 60}};
  REQUIRE(rig.store.set_member(3, sleeper).has_value());
  REQUIRE(rig.store.set_member(3, member_v1(3, "민지", "chooser-device-0000003")).has_value());
  REQUIRE(rig.queue.send(std::vector<std::string>{R"({"type":"EMOTION_CHOSEN","param":{"familyId":3,"userId":3},"id":"e-1"})"})
              .has_value());

  std::atomic<bool> stop{false};
  WorkerOptions wo;
  wo.wait = 100ms;
  wo.drain = true;  // returns once nothing is held or delayed: after the deferred push
  REQUIRE(run_worker(rig.queue, rig.processor, stop, wo).has_value());
  CHECK(rig.push.count("awake-device-00000001") == 1);
  CHECK(rig.push.count("sleepy-device-00000002") == 1);
  CHECK(rig.push.count("chooser-device-0000003") == 0);
  const auto seven = *parse_rfc3339("2026-06-02T07:00:00+09:00");
  REQUIRE(times.at[short_token("sleepy-device-00000002")].size() == 1);
  CHECK(times.at[short_token("sleepy-device-00000002")][0] >= seven);
  REQUIRE(times.at[short_token("awake-device-00000001")].size() == 1);
  CHECK(times.at[short_token("awake-device-00000001")][0] < seven);
  CHECK(std::count(times.steps.begin(), times.steps.end(), "deferred_quiet_hours") == 1);
  CHECK(std::count(times.steps.begin(), times.steps.end(), "deferred") == 1);
  CHECK(rig.queue.dead_letters()->empty());
  CHECK(*rig.queue.pending_count() == 0);
}

TEST_CASE("sendAt: held in the Redis delayed set until then, inbox records written when sent") {
  RedisServer server;
  ProcessorOptions po = Rig::processor_options();
  po.max_schedule_ahead = std::chrono::hours(24);
  SentTimes times{[] { return unix_now_ms(); }, {}, {}};
  Rig rig(server, "w1", po, times.sink());
  REQUIRE(rig.store.set_member(3, member_v1(1, "엄마", "mom-device-000000001")).has_value());
  REQUIRE(rig.store.set_member(3, member_v1(2, "아빠", "dad-device-000000002")).has_value());
  const std::int64_t send_at = unix_now_ms() + 1500;
  Request later{Param{PediaAnswerParam{3, 1}}, "pedia-1", {}};
  later.sendAt = send_at;
  Request too_far{Param{PediaAnswerParam{3, 1}}, "pedia-2", {}};
  too_far.sendAt = unix_now_ms() + 25LL * 3600 * 1000;
  REQUIRE(rig.queue.send(std::vector<std::string>{encode(later), encode(too_far)}).has_value());

  std::atomic<bool> stop{false};
  WorkerOptions wo;
  wo.wait = 100ms;
  wo.drain = true;
  REQUIRE(run_worker(rig.queue, rig.processor, stop, wo).has_value());
  REQUIRE(times.at[short_token("dad-device-000000002")].size() == 1);
  CHECK(times.at[short_token("dad-device-000000002")][0] >= send_at);
  CHECK(rig.inbox.published().size() == 1);
  auto dead = rig.queue.dead_letters();
  REQUIRE(dead->size() == 1);
  CHECK(dead->front().reason.find("more than 24 hours ahead") != std::string::npos);
  CHECK(std::count(times.steps.begin(), times.steps.end(), "deferred") == 1);
}
