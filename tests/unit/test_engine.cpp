// SPDX-License-Identifier: MIT
// The engine (notify::Pipeline and run_worker) with pushes in flight: records decided one
// by one, markers written as pushes complete, outages and throttling held in the worker,
// FIFO groups, copies of a request across batches, leases, and the bounds.

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "notify/memory/async_pushes.hpp"
#include "notify/memory/memory.hpp"
#include "notify/processor.hpp"

namespace {

using namespace std::chrono_literals;
namespace mem = notify::memory;
using notify::Disposition;
using notify::Id;
using notify::PushResult;
using notify::PushStatus;
using notify::RetryScope;

const std::string mom_token = "token-mom-aaaaaaaaaaaaaaaa-0001";
const std::string dad_token = "token-dad-bbbbbbbbbbbbbbbb-0002";
const std::string kid_token = "token-kid-cccccccccccccccc-0003";

/// COMMENT_MESSAGE by 엄마 in family 3: 아빠 and 민지 get a push and an inbox record.
std::string comment(Id message, std::string_view id = {}) {
  std::string b = R"({"type":"COMMENT_MESSAGE","param":{"familyId":3,"messageFamId":)" + std::to_string(message) +
                  R"(,"authorId":1,"commentPreview":"잘 다녀와"})";
  if (!id.empty()) b += R"(,"id":")" + std::string(id) + '"';
  return b + '}';
}

/// EMOTION_CHOSEN by 엄마: a push to 아빠 and 민지.
std::string emotion() { return R"({"type":"EMOTION_CHOSEN","param":{"familyId":3,"userId":1}})"; }

notify::QueueRecord record(std::string body, std::string id, std::string group = {}, int receive_count = 1) {
  notify::QueueRecord r;
  r.id = id;
  r.receipt = "receipt-" + id;
  r.body = std::move(body);
  r.receive_count = receive_count;
  r.group = std::move(group);
  return r;
}

using Engine = notify::Pipeline<mem::MemberStore, mem::AsyncPushes, mem::InboxSink, mem::IdempotencyStore>;

struct Rig {
  mem::MemberStore store;
  mem::PushProvider inner;
  std::unique_ptr<mem::AsyncPushes> pusher;
  mem::InboxSink inbox;
  mem::IdempotencyStore ledger;
  std::vector<std::string> steps;
  std::unique_ptr<Engine> engine;

  explicit Rig(notify::ProcessorOptions o = options()) {
    REQUIRE(store.set_member(3, notify::member_v1(1, "엄마", mom_token, false)));
    REQUIRE(store.set_member(3, notify::member_v1(2, "아빠", dad_token, false)));
    REQUIRE(store.set_member(3, notify::member_v1(3, "민지", kid_token, false)));
    start(o);
  }

  static notify::ProcessorOptions options() {
    notify::ProcessorOptions o;
    o.base_delay = 10ms;
    o.marker_batch = 1;  // every answer's marker is written at the next step
    o.probe_delay = 1ms;
    o.max_probe_delay = 2ms;
    return o;
  }

  /// A fresh engine over the same transports (a worker after a crash).
  void start(notify::ProcessorOptions o = options()) {
    engine.reset();
    pusher = std::make_unique<mem::AsyncPushes>(inner);  // what was in flight is gone with the worker
    engine = std::make_unique<Engine>(store, *pusher, inbox, ledger, o,
                                      [this](const notify::Event& e) { steps.emplace_back(e.step); });
  }

  /// Steps until `pred` holds (at most `limit` steps).
  template <class Pred>
  bool step_until(Pred pred, int limit = 1000) {
    for (int i = 0; i < limit && !pred(); ++i) engine->step(1ms);
    return pred();
  }

  std::size_t count(std::string_view step) const {
    return static_cast<std::size_t>(std::count(steps.begin(), steps.end(), step));
  }
};

std::vector<notify::QueueRecord> one(notify::QueueRecord r) {
  std::vector<notify::QueueRecord> v;
  v.push_back(std::move(r));
  return v;
}

}  // namespace

TEST_CASE("engine: a record is decided as soon as its own pushes are answered, not when its batch ends") {
  Rig rig;
  rig.pusher->answers_per_poll = 2;
  std::vector<notify::QueueRecord> batch;
  batch.push_back(record(emotion(), "a"));   // two pushes
  batch.push_back(record(comment(7), "b"));  // two more
  rig.engine->admit(std::move(batch));
  CHECK(rig.engine->held() == 2);

  rig.engine->step(0ms);  // the first two answers: record a's pushes
  auto first = rig.engine->take_decided();
  REQUIRE(first.size() == 1);
  CHECK(first[0].record.id == "a");
  CHECK(first[0].outcome.disposition == Disposition::done);
  CHECK(rig.engine->held() == 1);  // b still has a push in flight

  REQUIRE(rig.step_until([&] { return rig.engine->held() == 0; }));
  auto second = rig.engine->take_decided();
  REQUIRE(second.size() == 1);
  CHECK(second[0].record.id == "b");
  CHECK(second[0].outcome.disposition == Disposition::done);
}

TEST_CASE("engine: markers are written as pushes complete, so a crash repeats only the pushes in flight") {
  Rig rig;
  rig.pusher->answers_per_poll = 1;
  rig.engine->admit(one(record(comment(7, "req-1"), "q1")));
  rig.engine->step(0ms);  // one of the two pushes answered, its marker written (marker_batch 1)
  REQUIRE(rig.inner.sent().size() == 1);
  CHECK(rig.ledger.size() == 1);
  CHECK(rig.pusher->in_flight() == 1);

  // The worker dies here, with one push in flight; the record is delivered again.
  rig.start();
  rig.engine->admit(one(record(comment(7, "req-1"), "q1", {}, 2)));
  REQUIRE(rig.step_until([&] { return rig.engine->held() == 0; }));
  const auto out = rig.engine->take_decided();
  REQUIRE(out.size() == 1);
  CHECK(out[0].outcome.disposition == Disposition::done);
  CHECK(rig.inner.count(dad_token) == 1);  // each token got it once: the answered push was not repeated
  CHECK(rig.inner.count(kid_token) == 1);
  CHECK(rig.count("already_sent") == 1);
  CHECK(rig.inbox.published().size() == 1);
}

TEST_CASE("engine: with answers coalesced, unwritten markers are bounded by marker_batch") {
  notify::ProcessorOptions o = Rig::options();
  o.marker_batch = 4;
  o.marker_interval = 1h;  // only the count flushes
  Rig rig(o);
  rig.pusher->answers_per_poll = 1;
  std::vector<notify::QueueRecord> batch;
  for (int i = 0; i < 6; ++i) batch.push_back(record(comment(100 + i, "c" + std::to_string(i)), "q" + std::to_string(i)));
  rig.engine->admit(std::move(batch));
  std::size_t worst = 0;  // answered pushes whose markers were not written, at the end of a step
  while (rig.engine->held() > 0) {
    rig.engine->step(0ms);
    const std::size_t answered = rig.inner.sent().size();
    const std::size_t inbox_markers = rig.inbox.published().size();
    worst = std::max(worst, answered + inbox_markers - std::min(answered + inbox_markers, rig.ledger.size()));
  }
  CHECK(rig.inner.sent().size() == 12);
  CHECK(rig.ledger.size() == 18);  // 12 pushes + 6 inbox markers
  CHECK(worst < 4);
}

TEST_CASE("engine: an outage holds the pushes in the worker and they go out once the provider answers again, uncounted") {
  Rig rig;
  rig.engine->hold(true);
  rig.inner.faults.fail_call(1);  // the provider is down for the first three sends
  rig.inner.faults.fail_call(2);
  rig.inner.faults.fail_call(3);
  rig.engine->admit(one(record(comment(7), "q1", {}, 5)));  // at the delivery limit already
  REQUIRE(rig.step_until([&] { return rig.engine->held() == 0; }));
  const auto out = rig.engine->take_decided();
  REQUIRE(out.size() == 1);
  CHECK(out[0].outcome.disposition == Disposition::done);  // not retried, not dead-lettered
  CHECK(rig.inner.count(dad_token) == 1);
  CHECK(rig.inner.count(kid_token) == 1);
  CHECK(rig.engine->stats().breaker_trips >= 1);
  CHECK(rig.count("provider_paused") >= 1);
  CHECK(rig.count("provider_resumed") >= 1);
}

TEST_CASE("engine: while the breaker is open, one probe at a time goes to the provider") {
  Rig rig;
  rig.engine->hold(true);
  for (int i = 1; i <= 12; ++i) rig.inner.faults.fail_call(static_cast<std::size_t>(i));
  std::vector<notify::QueueRecord> batch;
  for (int i = 0; i < 5; ++i) batch.push_back(record(comment(200 + i), "q" + std::to_string(i)));
  rig.engine->admit(std::move(batch));
  rig.engine->step(0ms);  // all ten pushes fail: the breaker opens
  CHECK(rig.inner.faults.calls() == 10);
  rig.pusher->reset_max_in_flight();
  for (int i = 0; i < 1000 && rig.inner.faults.calls() < 12; ++i) rig.engine->step(1ms);
  // While the provider kept failing (calls 11 and 12), every call was a single probe.
  CHECK(rig.pusher->max_in_flight() == 1);
  CHECK(rig.inner.faults.calls() == 12);
  // The step whose probe got through also sent the nine waiting pushes (the room its
  // answer freed is filled before the step returns).
  for (int i = 0; i < 1000 && rig.inner.faults.calls() < 13; ++i) rig.engine->step(1ms);
  CHECK(rig.inner.faults.calls() == 22);
  CHECK(rig.pusher->max_in_flight() == 9);
  REQUIRE(rig.step_until([&] { return rig.engine->held() == 0; }));
  CHECK(rig.inner.sent().size() == 10);
  for (const auto& d : rig.engine->take_decided()) CHECK(d.outcome.disposition == Disposition::done);
}

TEST_CASE("engine: a 429 is a service condition: never counted toward dead-lettering") {
  Rig rig;  // not holding: the record comes back through the queue
  rig.pusher->script(dad_token, PushResult{PushStatus::retry, 30s, "QUOTA_EXCEEDED", true, RetryScope::token});
  rig.engine->admit(one(record(emotion(), "q1", {}, 5)));  // its fifth delivery
  REQUIRE(rig.step_until([&] { return rig.engine->held() == 0; }));
  const auto out = rig.engine->take_decided();
  REQUIRE(out.size() == 1);
  CHECK(out[0].outcome.disposition == Disposition::retry);
  CHECK(out[0].outcome.outage);
  CHECK(out[0].outcome.delay >= 30s);  // Retry-After honoured
}

TEST_CASE("engine: Retry-After is honoured per device: later pushes to it wait, other devices go on") {
  Rig rig;
  rig.engine->hold(true);
  rig.pusher->script(dad_token, PushResult{PushStatus::retry, 50ms, "QUOTA_EXCEEDED", true, RetryScope::token});
  rig.engine->admit(one(record(comment(7), "q1")));
  rig.engine->step(0ms);
  CHECK(rig.inner.count(kid_token) == 1);  // the other device is not held back
  CHECK(rig.inner.count(dad_token) == 0);
  rig.engine->admit(one(record(emotion(), "q2")));  // another request to the throttled device
  rig.engine->step(0ms);
  CHECK(rig.inner.count(dad_token) == 0);  // waits for the device's Retry-After
  CHECK(rig.engine->backlogged());
  REQUIRE(rig.step_until([&] { return rig.engine->held() == 0; }, 10000));
  CHECK(rig.inner.count(dad_token) == 2);
  CHECK(rig.engine->stats().breaker_trips == 0);  // a device's rate pauses nobody else
  for (const auto& d : rig.engine->take_decided()) CHECK(d.outcome.disposition == Disposition::done);
}

TEST_CASE("engine: a project-wide 429 pauses the provider and halves the window") {
  notify::ProcessorOptions o = Rig::options();
  o.max_pushes_in_flight = 8;
  Rig rig(o);
  rig.engine->hold(true);
  rig.pusher->script(dad_token, PushResult{PushStatus::retry, 5ms, "QUOTA_EXCEEDED (project)", true, RetryScope::provider});
  rig.engine->admit(one(record(comment(7), "q1")));
  rig.engine->step(0ms);
  CHECK(rig.engine->stats().window == 4);
  CHECK(rig.engine->stats().breaker_trips == 1);
  REQUIRE(rig.step_until([&] { return rig.engine->held() == 0; }, 10000));
  CHECK(rig.inner.count(dad_token) == 1);
  CHECK(rig.inner.count(kid_token) == 1);
}

TEST_CASE("engine: records of one FIFO group go one after the other, and a retry hands the later ones back unsent") {
  Rig rig;
  // The next push to 아빠 (the first record's) fails on its own: not an outage.
  rig.pusher->script(dad_token, PushResult{PushStatus::retry, {}, "INTERNAL", false, RetryScope::push});
  std::vector<notify::QueueRecord> batch;
  batch.push_back(record(emotion(), "first", "family-3"));
  batch.push_back(record(comment(7), "second", "family-3"));
  batch.push_back(record(comment(8), "other", "family-4"));
  rig.engine->admit(std::move(batch));
  REQUIRE(rig.step_until([&] { return rig.engine->held() == 0; }));
  std::vector<notify::Decided> out = rig.engine->take_decided();
  REQUIRE(out.size() == 3);
  auto of = [&](std::string_view id) {
    return *std::find_if(out.begin(), out.end(), [&](const notify::Decided& d) { return d.record.id == id; });
  };
  CHECK(of("first").outcome.disposition == Disposition::retry);
  CHECK(of("second").outcome.disposition == Disposition::retry);
  CHECK(of("second").outcome.outage);  // not its own failure
  CHECK(of("second").outcome.delay == 0ms);
  CHECK(of("other").outcome.disposition == Disposition::done);  // another group goes on
  CHECK(rig.inner.count(dad_token) == 1);  // "other"'s: "second" never went
  CHECK(rig.inner.count(kid_token) == 2);  // "first"'s and "other"'s
}

TEST_CASE("engine: a FIFO group's next record waits until the one before it is decided") {
  Rig rig;
  rig.pusher->answers_per_poll = 1;
  std::vector<notify::QueueRecord> batch;
  batch.push_back(record(comment(7), "first", "family-3"));
  batch.push_back(record(emotion(), "second", "family-3"));
  rig.engine->admit(std::move(batch));
  rig.engine->step(0ms);
  CHECK(rig.pusher->max_in_flight() == 2);  // only the first record's two pushes went out
  REQUIRE(rig.step_until([&] { return rig.engine->held() == 0; }));
  const auto out = rig.engine->take_decided();
  REQUIRE(out.size() == 2);
  CHECK(out[0].record.id == "first");
  CHECK(out[1].record.id == "second");
}

TEST_CASE("engine: a copy of a request arriving while the first is in flight pushes nothing and shares its fate") {
  Rig rig;
  rig.pusher->answers_per_poll = 1;
  rig.engine->admit(one(record(comment(7, "same"), "q1")));
  rig.engine->admit(one(record(comment(7, "same"), "q2")));  // the producer sent it twice
  REQUIRE(rig.step_until([&] { return rig.engine->held() == 0; }));
  CHECK(rig.inner.count(dad_token) == 1);
  CHECK(rig.inner.count(kid_token) == 1);
  CHECK(rig.inbox.published().size() == 1);
  const auto out = rig.engine->take_decided();
  REQUIRE(out.size() == 2);
  for (const auto& d : out) CHECK(d.outcome.disposition == Disposition::done);
}

TEST_CASE("engine: a copy is retried with the first when the first must retry") {
  Rig rig;
  rig.inner.fail_token(kid_token, PushStatus::retry);
  rig.pusher->answers_per_poll = 1;
  rig.engine->admit(one(record(comment(7, "same"), "q1")));
  rig.engine->admit(one(record(comment(7, "same"), "q2")));
  REQUIRE(rig.step_until([&] { return rig.engine->held() == 0; }));
  const auto out = rig.engine->take_decided();
  REQUIRE(out.size() == 2);
  for (const auto& d : out) CHECK(d.outcome.disposition == Disposition::retry);
  CHECK(rig.inner.count(dad_token) == 1);
}

TEST_CASE("engine: a second delivery of a record still held is dropped") {
  Rig rig;
  rig.pusher->answers_per_poll = 1;
  rig.engine->admit(one(record(comment(7), "q1")));
  const auto ids = rig.engine->admit(one(record(comment(7), "q1")));  // same receipt
  CHECK(ids[0] == 0);
  CHECK(rig.engine->held() == 1);
  REQUIRE(rig.step_until([&] { return rig.engine->held() == 0; }));
  CHECK(rig.inner.sent().size() == 2);
}

TEST_CASE("engine: a record whose lease was lost is dropped, never decided here") {
  Rig rig;
  rig.pusher->answers_per_poll = 1;
  rig.engine->admit(one(record(comment(7), "q1")));
  rig.engine->step(0ms);
  const auto held = rig.engine->leased();
  REQUIRE(held.size() == 1);
  rig.engine->lost(held[0]);
  REQUIRE(rig.step_until([&] { return rig.engine->held() == 0; }));
  CHECK(rig.engine->take_decided().empty());
  CHECK(rig.count("lease_lost") == 1);
}

TEST_CASE("engine: room() bounds the records held, and the window the pushes in flight") {
  notify::ProcessorOptions o = Rig::options();
  o.max_records_in_flight = 3;
  o.max_pushes_in_flight = 4;
  Rig rig(o);
  rig.pusher->answers_per_poll = 1;
  std::vector<notify::QueueRecord> batch;
  for (int i = 0; i < 3; ++i) batch.push_back(record(comment(300 + i), "q" + std::to_string(i)));
  rig.engine->admit(std::move(batch));
  CHECK(rig.engine->room() == 0);
  REQUIRE(rig.step_until([&] { return rig.engine->held() == 0; }));
  CHECK(rig.pusher->max_in_flight() <= 4);
  CHECK(rig.inner.sent().size() == 6);
  CHECK(rig.engine->room() == 3);
}

TEST_CASE("engine: stopping gives back held pushes as uncounted retries and finishes what was submitted") {
  Rig rig;
  rig.engine->hold(true);
  rig.inner.faults.fail_always();
  rig.engine->admit(one(record(comment(7), "q1")));
  rig.engine->step(0ms);  // fails; held in the worker
  CHECK(rig.engine->held() == 1);
  rig.engine->give_back("the worker is stopping");
  REQUIRE(rig.step_until([&] { return rig.engine->held() == 0; }));
  const auto out = rig.engine->take_decided();
  REQUIRE(out.size() == 1);
  CHECK(out[0].outcome.disposition == Disposition::retry);
  CHECK(out[0].outcome.outage);
}

TEST_CASE("run_worker: records flow through with several in flight, each settled once") {
  mem::Queue queue;
  Rig rig;
  rig.pusher->answers_per_poll = 3;
  for (int i = 0; i < 40; ++i) REQUIRE(queue.send(comment(400 + i)));
  notify::BatchProcessor<mem::MemberStore, mem::AsyncPushes, mem::InboxSink, mem::IdempotencyStore> processor(
      rig.store, *rig.pusher, rig.inbox, rig.ledger, Rig::options());
  std::atomic<bool> stop{false};
  notify::WorkerOptions wo;
  wo.drain = true;
  wo.wait = 5ms;
  REQUIRE(run_worker(queue, processor, stop, wo).has_value());
  CHECK(queue.acked() == 40);
  CHECK(queue.pending() == 0);
  CHECK(rig.inner.sent().size() == 80);
  CHECK(rig.inbox.published().size() == 40);
  CHECK(rig.pusher->max_in_flight() > 2);  // pushes of several records were in flight together
}

TEST_CASE("engine: a deferred push sends the others now and brings the record back when due, never counted") {
  notify::ProcessorOptions o = Rig::options();
  std::int64_t wall = *notify::parse_rfc3339("2026-06-01T23:30:00+09:00");
  o.wall_clock = [&wall] { return wall; };
  Rig rig(o);
  notify::Member dad = notify::member_v1(2, "아빠", dad_token);
  dad.quietHours = notify::DailyWindow{notify::LocalTime{22 * 60}, notify::LocalTime{7 * 60}};
  REQUIRE(rig.store.set_member(3, dad));

  // The last delivery the limit allows: a deferral must not dead-letter it.
  rig.engine->admit(one(record(comment(7, "req-d"), "q1", {}, o.max_deliveries)));
  REQUIRE(rig.step_until([&] { return rig.engine->held() == 0; }));
  auto first = rig.engine->take_decided();
  REQUIRE(first.size() == 1);
  CHECK(first[0].outcome.disposition == Disposition::retry);
  CHECK(first[0].outcome.outage);  // never counts toward dead-lettering
  CHECK(first[0].outcome.delay == 7h + 30min);
  CHECK(rig.inner.count(kid_token) == 1);
  CHECK(rig.inner.count(dad_token) == 0);
  CHECK(rig.inbox.published().size() == 1);  // inbox records are not deferred
  CHECK(rig.count("deferred_quiet_hours") == 1);

  // Due: only the deferred member gets it, and the inbox is not published again.
  wall = *notify::parse_rfc3339("2026-06-02T07:00:00+09:00");
  rig.engine->admit(one(record(comment(7, "req-d"), "q1", {}, o.max_deliveries + 1)));
  REQUIRE(rig.step_until([&] { return rig.engine->held() == 0; }));
  auto second = rig.engine->take_decided();
  REQUIRE(second.size() == 1);
  CHECK(second[0].outcome.disposition == Disposition::done);
  CHECK(rig.inner.count(kid_token) == 1);
  CHECK(rig.inner.count(dad_token) == 1);
  CHECK(rig.inbox.published().size() == 1);
}

TEST_CASE("engine: sendAt holds a request until then, and refuses one too far ahead") {
  notify::ProcessorOptions o = Rig::options();
  std::int64_t wall = *notify::parse_rfc3339("2026-12-24T08:00:00+09:00");
  o.wall_clock = [&wall] { return wall; };
  o.max_schedule_ahead = 48h;
  Rig rig(o);
  std::vector<notify::QueueRecord> batch;
  batch.push_back(record(R"({"type":"EMOTION_CHOSEN","param":{"familyId":3,"userId":1},"sendAt":"2026-12-24T09:00:00+09:00"})", "s1"));
  batch.push_back(record(R"({"type":"EMOTION_CHOSEN","param":{"familyId":3,"userId":1},"sendAt":"2026-12-27T09:00:00+09:00"})", "s2"));
  batch.push_back(record(R"({"type":"EMOTION_CHOSEN","param":{"familyId":3,"userId":1},"sendAt":"2026-12-24T07:59:59+09:00"})", "s3"));
  rig.engine->admit(std::move(batch));
  REQUIRE(rig.step_until([&] { return rig.engine->held() == 0; }));
  auto decided = rig.engine->take_decided();
  REQUIRE(decided.size() == 3);
  for (const auto& d : decided) {
    CAPTURE(d.record.id);
    if (d.record.id == "s1") {
      CHECK(d.outcome.disposition == Disposition::retry);
      CHECK(d.outcome.delay == 1h);
      CHECK(d.outcome.outage);
      CHECK(d.outcome.reason == "scheduled for 2026-12-24T00:00:00.000Z");
    } else if (d.record.id == "s2") {
      CHECK(d.outcome.disposition == Disposition::dead_letter);
      CHECK(d.outcome.reason.find("more than 48 hours ahead") != std::string::npos);
    } else {
      CHECK(d.outcome.disposition == Disposition::done);  // due already
    }
  }
  CHECK(rig.inner.sent().size() == 2);  // s3 only: 아빠 and 민지
}

TEST_CASE("engine: each push carries its device's service to the provider") {
  Rig rig;
  notify::Member dad = notify::member_v1(2, "아빠", dad_token);
  dad.devices.push_back({"iphone-dad-0000000000000002", notify::PushService::apns, "ios", {}, {}, {}});
  REQUIRE(rig.store.set_member(3, dad));
  rig.engine->admit(one(record(emotion(), "m1")));
  REQUIRE(rig.step_until([&] { return rig.engine->held() == 0; }));
  REQUIRE(rig.inner.sent().size() == 3);
  for (const auto& s : rig.inner.sent()) {
    CAPTURE(s.token);
    CHECK((s.service == notify::PushService::apns) == (s.token == "iphone-dad-0000000000000002"));
  }
}

namespace {

/// NOTIFY_BIRTHDAY for 엄마: 아빠 and 민지 are told, by push, else by AlimTalk (the
/// catalog's route). 아빠 has a phone too.
const std::string dad_phone = "+821000000002";
std::string reminder(std::string_view id) {
  return R"({"type":"NOTIFY_BIRTHDAY","param":{"familyIdsWithBirthdayUserId":[{"familyId":3,"birthdayUserId":1}]},"id":")" +
         std::string(id) + "\"}";
}

notify::ProcessorOptions with_alimtalk() {
  notify::ProcessorOptions o = Rig::options();
  o.plan_policy.channels = {notify::Channel::push, notify::Channel::alimtalk};
  return o;
}

void give_dad_a_phone(Rig& rig) {
  notify::Member dad = notify::member_v1(2, "아빠", dad_token);
  dad.phone = dad_phone;
  REQUIRE(rig.store.set_member(3, dad));
}

notify::Outcome run_one(Rig& rig, notify::QueueRecord r) {
  rig.engine->admit(one(std::move(r)));
  REQUIRE(rig.step_until([&] { return rig.engine->held() == 0; }));
  const auto out = rig.engine->take_decided();
  REQUIRE(out.size() == 1);
  return out[0].outcome;
}

}  // namespace

TEST_CASE("engine: a push to a dead token falls back to the member's next channel, and only theirs") {
  Rig rig(with_alimtalk());
  give_dad_a_phone(rig);
  rig.inner.fail_token(dad_token, PushStatus::invalid_token);
  CHECK(run_one(rig, record(reminder("bd-1"), "q1")).disposition == Disposition::done);
  CHECK(rig.inner.count(dad_phone) == 1);
  CHECK(rig.inner.count(kid_token) == 1);  // 민지's push went: no fallback for her
  REQUIRE(rig.inner.sent().size() == 2);
  CHECK(rig.count("fallback") == 1);
  for (const auto& s : rig.inner.sent())
    CHECK((s.service == notify::PushService::alimtalk) == (s.token == dad_phone));
  // The dead token is gone from the store: the next request plans AlimTalk at once.
  rig.steps.clear();
  CHECK(run_one(rig, record(reminder("bd-2"), "q2")).disposition == Disposition::done);
  CHECK(rig.inner.count(dad_phone) == 2);
  CHECK(rig.count("fallback") == 0);
}

TEST_CASE("engine: a push refused for good is not a failure of the record when the fallback reaches the member") {
  Rig rig(with_alimtalk());
  give_dad_a_phone(rig);
  rig.inner.fail_token(dad_token, PushStatus::failed);
  CHECK(run_one(rig, record(reminder("bd-1"), "q1")).disposition == Disposition::done);
  CHECK(rig.inner.count(dad_phone) == 1);

  // When the fallback fails too, the record is dead-lettered with the push's reason.
  rig.inner.fail_token(dad_phone, PushStatus::failed);
  const notify::Outcome both = run_one(rig, record(reminder("bd-2"), "q2"));
  CHECK(both.disposition == Disposition::dead_letter);
  CHECK(both.reason.find("push failed") != std::string::npos);
  CHECK(rig.inner.count(dad_phone) == 1);
}

TEST_CASE("engine: a push to be retried does not fall back: the record comes back with it") {
  Rig rig(with_alimtalk());
  give_dad_a_phone(rig);
  rig.inner.fail_token(dad_token, PushStatus::retry);
  const notify::Outcome out = run_one(rig, record(reminder("bd-1"), "q1"));
  CHECK(out.disposition == Disposition::retry);
  CHECK(rig.inner.count(dad_phone) == 0);
  CHECK(rig.count("fallback") == 0);
}

TEST_CASE("engine: after a fallback went out, a redelivery sends the member nothing again") {
  Rig rig(with_alimtalk());
  give_dad_a_phone(rig);
  rig.pusher->script(dad_token, PushResult{PushStatus::failed, {}, "refused once", false});
  CHECK(run_one(rig, record(reminder("bd-1"), "q1")).disposition == Disposition::done);
  REQUIRE(rig.inner.count(dad_phone) == 1);

  // The settle was lost (a crash): the same record again, with 아빠's push now accepted.
  rig.start(with_alimtalk());
  CHECK(run_one(rig, record(reminder("bd-1"), "q1", {}, 2)).disposition == Disposition::done);
  CHECK(rig.inner.count(dad_phone) == 1);
  CHECK(rig.inner.count(dad_token) == 0);  // reached by AlimTalk already: no push after it
  CHECK(rig.inner.count(kid_token) == 1);
}

TEST_CASE("engine: a member with several devices falls back only when none of them took the push") {
  Rig rig(with_alimtalk());
  notify::Member dad = notify::member_v1(2, "아빠", dad_token);
  dad.devices.push_back({"iphone-dad-0000000000000002", notify::PushService::apns, "ios", {}, {}, {}});
  dad.phone = dad_phone;
  REQUIRE(rig.store.set_member(3, dad));
  rig.inner.fail_token(dad_token, PushStatus::invalid_token);
  CHECK(run_one(rig, record(reminder("bd-1"), "q1")).disposition == Disposition::done);
  CHECK(rig.inner.count("iphone-dad-0000000000000002") == 1);
  CHECK(rig.inner.count(dad_phone) == 0);

  rig.inner.fail_token("iphone-dad-0000000000000002", PushStatus::invalid_token);
  REQUIRE(rig.store.set_member(3, dad));  // both devices again, both dead now
  CHECK(run_one(rig, record(reminder("bd-2"), "q2")).disposition == Disposition::done);
  CHECK(rig.inner.count(dad_phone) == 1);
}

TEST_CASE("engine: a service down pauses only itself: pushes through the others go on") {
  notify::ProcessorOptions o = Rig::options();
  o.plan_policy.channels = {notify::Channel::push, notify::Channel::email};
  o.probe_delay = 1h;  // the e-mail pause outlasts the test
  o.max_probe_delay = 1h;
  Rig rig(o);
  notify::Member kid = notify::member_v1(3, "민지", "");
  kid.email = "minji@family.example";
  REQUIRE(rig.store.set_member(3, kid));
  rig.engine->hold(true);
  rig.pusher->script(kid.email, PushResult{PushStatus::retry, {}, "421 closing", true, RetryScope::provider});
  // A notice: 엄마 and 아빠 by push, 민지 by e-mail, whose server is down.
  rig.engine->admit(one(record(
      R"({"type":"SERVICE_NOTICE","param":{"familyIds":[3],"title":"점검 안내","body":"오늘 밤 점검합니다","marketing":false}})", "q1")));
  rig.engine->step(0ms);
  CHECK(rig.engine->circuit(notify::PushService::email) == Engine::Circuit::open);
  CHECK(rig.engine->circuit(notify::PushService::fcm) == Engine::Circuit::closed);
  CHECK(rig.engine->circuit() == Engine::Circuit::open);
  CHECK(rig.engine->pause_reason() == "email: 421 closing");
  CHECK(rig.inner.count(mom_token) == 1);
  CHECK(rig.inner.count(dad_token) == 1);

  // Pushes keep going out through FCM while e-mail is paused.
  rig.engine->admit(one(record(emotion(), "q2")));  // 아빠 (민지 has no device)
  REQUIRE(rig.step_until([&] { return rig.engine->held() == 1; }));
  CHECK(rig.inner.count(dad_token) == 2);
  auto out = rig.engine->take_decided();
  REQUIRE(out.size() == 1);
  CHECK(out[0].record.id == "q2");
  CHECK(out[0].outcome.disposition == Disposition::done);

  // Stopping: 민지's e-mail goes back with its record, as an outage.
  rig.engine->give_back("stopping");
  REQUIRE(rig.step_until([&] { return rig.engine->held() == 0; }));
  out = rig.engine->take_decided();
  REQUIRE(out.size() == 1);
  CHECK(out[0].outcome.disposition == Disposition::retry);
  CHECK(out[0].outcome.outage);
  CHECK(rig.inner.count(kid.email) == 0);
}

TEST_CASE("engine: records of one batch naming the same family each plan from their own copy of it") {
  // Both records need family 3: the lookup is one round trip, and each record keeps its
  // own members (a record's members go when it is decided). A dead token found by the
  // first is removed from the store through that record's members.
  Rig rig;
  rig.inner.fail_token(dad_token, PushStatus::invalid_token);
  std::vector<notify::QueueRecord> batch;
  batch.push_back(record(emotion(), "a"));
  batch.push_back(record(comment(7), "b"));
  rig.engine->admit(std::move(batch));
  CHECK(rig.store.round_trips() == 1);
  REQUIRE(rig.step_until([&] { return rig.engine->held() == 0; }));
  const auto decided = rig.engine->take_decided();
  REQUIRE(decided.size() == 2);
  for (const auto& d : decided) CHECK(d.outcome.disposition == Disposition::done);
  CHECK(rig.inner.count(kid_token) == 2);  // 민지: one push per record
  CHECK(rig.count("invalid_token") == 2);  // 아빠: tried once per record, dead each time
  const std::vector<Id> family{3};
  auto now = rig.store.families(family);
  REQUIRE(now);
  const notify::Family* f = now->families.find(3);
  REQUIRE(f != nullptr);
  const notify::Member* dad = f->find(2);
  REQUIRE(dad != nullptr);
  CHECK(dad->devices.empty());
  CHECK(f->find(3)->devices.size() == 1);
}
