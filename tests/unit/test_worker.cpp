// SPDX-License-Identifier: MIT
// run_worker over the in-memory queue: draining, stopping, fatal errors, queue faults.

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "notify/memory/memory.hpp"
#include "notify/processor.hpp"

namespace {

using namespace std::chrono_literals;
namespace mem = notify::memory;
using notify::Id;
using notify::PushStatus;

const std::string mom_token = "token-mom-aaaaaaaaaaaaaaaa-0001";
const std::string dad_token = "token-dad-bbbbbbbbbbbbbbbb-0002";
const std::string kid_token = "token-kid-cccccccccccccccc-0003";

notify::WorkerOptions draining() {
  notify::WorkerOptions o;
  o.drain = true;
  o.wait = 5ms;
  return o;
}

/// The transports, a processor and a stop flag the processor's events may set.
struct Worker {
  mem::Queue queue;
  mem::MemberStore store;
  mem::PushProvider pusher;
  mem::InboxSink inbox;
  mem::IdempotencyStore ledger;
  std::atomic<bool> stop{false};
  std::vector<std::string> steps;
  std::string_view stop_on;  ///< set `stop` when the processor emits this step
  notify::BatchProcessor<mem::MemberStore, mem::PushProvider, mem::InboxSink, mem::IdempotencyStore> processor;

  static notify::ProcessorOptions options() {
    notify::ProcessorOptions o;
    o.base_delay = 1ms;
    return o;
  }

  Worker()
      : processor(store, pusher, inbox, ledger, options(), [this](const notify::Event& e) {
          steps.emplace_back(e.step);
          if (!stop_on.empty() && e.step == stop_on) stop = true;
        }) {
    REQUIRE(store.set_member(3, notify::member_v1(1, "엄마", mom_token, false)));
    REQUIRE(store.set_member(3, notify::member_v1(2, "아빠", dad_token, false)));
  }

  /// EMOTION_CHOSEN by 엄마: one push to 아빠, no inbox. No envelope id: each is its own request.
  void send_emotion() {
    REQUIRE(queue.send(std::string(R"({"type":"EMOTION_CHOSEN","param":{"familyId":3,"userId":1}})")));
  }
};

/// A queue whose unsettled records come back once nothing else is ready, as after a
/// visibility timeout (the memory queue only does this when told to).
struct VisibilityQueue {
  mem::Queue& inner;
  notify::Result<std::vector<notify::QueueRecord>> receive(std::size_t max, std::chrono::milliseconds wait) {
    auto r = inner.receive(max, wait);
    if (r && r->empty() && inner.pending() > 0) {
      inner.redeliver_unsettled();
      r = inner.receive(max, wait);
    }
    return r;
  }
  notify::Result<void> settle(std::span<const notify::Settlement> s) { return inner.settle(s); }
  notify::Result<void> send(std::span<const std::string> bodies) { return inner.send(bodies); }
  notify::Result<std::size_t> pending_count() const { return inner.pending_count(); }
};
static_assert(notify::Queue<VisibilityQueue>);

/// A queue that counts what is left the way the network queues do (pending_count(), which
/// can fail), with its first answers scripted.
struct CountingQueue {
  mem::Queue& inner;
  std::vector<notify::Errc> count_faults;  ///< the next pending_count() calls fail with these
  int counts = 0;
  notify::Result<std::vector<notify::QueueRecord>> receive(std::size_t max, std::chrono::milliseconds wait) {
    return inner.receive(max, wait);
  }
  notify::Result<void> settle(std::span<const notify::Settlement> s) { return inner.settle(s); }
  notify::Result<void> send(std::span<const std::string> bodies) { return inner.send(bodies); }
  notify::Result<std::size_t> pending_count() {
    if (counts++ < static_cast<int>(count_faults.size()))
      return notify::Error{count_faults[static_cast<std::size_t>(counts - 1)], "GetQueueAttributes: scripted", {}};
    return inner.pending();
  }
};
static_assert(notify::Queue<CountingQueue>);

}  // namespace

TEST_CASE("a draining worker returns once the queue is empty and nothing is pending") {
  Worker w;
  for (int i = 0; i < 3; ++i) w.send_emotion();
  const auto r = run_worker(w.queue, w.processor, w.stop, draining());
  CHECK(r.has_value());
  CHECK(w.queue.acked() == 3);
  CHECK(w.queue.pending() == 0);
  CHECK(w.queue.ready() == 0);
  CHECK(w.pusher.count(dad_token) == 3);  // no envelope id: three requests
  CHECK(w.pusher.count(mom_token) == 0);
}

TEST_CASE("a draining worker that does not hold pushes waits for records that are retried later") {
  Worker w;
  w.pusher.faults.fail_call(1);
  w.send_emotion();
  w.send_emotion();
  notify::WorkerOptions o = draining();
  o.hold = false;
  const auto r = run_worker(w.queue, w.processor, w.stop, o);
  CHECK(r.has_value());
  CHECK(w.queue.acked() == 2);
  CHECK(w.queue.pending() == 0);
  CHECK(w.pusher.count(dad_token) == 2);
  CHECK(w.pusher.faults.calls() == 2);  // the failed batch, then its retry
}

TEST_CASE("a worker whose stop flag is already set returns at once without receiving") {
  Worker w;
  w.send_emotion();
  const std::size_t queue_calls = w.queue.faults.calls();
  w.stop = true;
  const auto r = run_worker(w.queue, w.processor, w.stop, draining());
  CHECK(r.has_value());
  CHECK(w.queue.faults.calls() == queue_calls);
  CHECK(w.queue.ready() == 1);
  CHECK(w.pusher.sent().empty());
}

TEST_CASE("a stop requested mid-batch finishes and settles the batch in flight, then returns") {
  Worker w;
  for (int i = 0; i < 4; ++i) w.send_emotion();
  w.stop_on = "done";
  notify::WorkerOptions o;  // not draining: only the stop flag ends it
  o.batch_size = 2;
  o.wait = 5ms;
  const auto r = run_worker(w.queue, w.processor, w.stop, o);
  CHECK(r.has_value());
  CHECK(w.queue.acked() == 2);
  CHECK(w.queue.pending() == 0);
  CHECK(w.queue.ready() == 2);
  CHECK(w.pusher.count(dad_token) == 2);
}

TEST_CASE("a fatal push answer stops the worker with the error and keeps the record") {
  Worker w;
  w.pusher.fail_token(dad_token, PushStatus::fatal);
  w.send_emotion();
  w.send_emotion();
  const auto r = run_worker(w.queue, w.processor, w.stop, draining());
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == notify::Errc::configuration);
  CHECK(w.queue.acked() == 0);
  CHECK(w.queue.dead_letters().empty());
  CHECK(w.queue.pending() == 2);  // settled as "retry later", waiting for a healthy worker
  CHECK(w.pusher.faults.calls() == 1);  // it stopped after the first batch

  // A healthy worker later delivers them.
  w.pusher.clear_token(dad_token);
  const auto again = run_worker(w.queue, w.processor, w.stop, draining());
  CHECK(again.has_value());
  CHECK(w.queue.acked() == 2);
  CHECK(w.pusher.count(dad_token) == 2);
}

TEST_CASE("a failing settle loses no record and repeats no push") {
  Worker w;
  for (int i = 0; i < 3; ++i) w.send_emotion();
  // The calls so far were sends; the next is the first receive, then its settle.
  w.queue.faults.fail_call(w.queue.faults.calls() + 2);
  std::vector<std::string> worker_events;
  VisibilityQueue q{w.queue};
  const auto r = run_worker(q, w.processor, w.stop, draining(),
                            [&](const notify::Event& e) { worker_events.emplace_back(e.step); });
  CHECK(r.has_value());
  CHECK(w.queue.acked() == 3);
  CHECK(w.queue.pending() == 0);
  CHECK(w.queue.dead_letters().empty());
  CHECK(w.pusher.count(dad_token) == 3);  // once per request, not twice
  CHECK(std::count(worker_events.begin(), worker_events.end(), "settle_error") == 1);
  // The worker settles them again itself: they are not redelivered and re-checked.
  CHECK(std::count(w.steps.begin(), w.steps.end(), "already_sent") == 0);
}

TEST_CASE("a transient receive failure is retried, a permanent one ends the worker with the error") {
  Worker w;
  w.send_emotion();
  std::vector<std::string> worker_events;
  auto log = [&](const notify::Event& e) { worker_events.emplace_back(e.step); };

  SUBCASE("transient") {
    w.queue.faults.fail_call(w.queue.faults.calls() + 1, notify::Errc::timeout);
    const auto r = run_worker(w.queue, w.processor, w.stop, draining(), log);
    CHECK(r.has_value());
    CHECK(w.queue.acked() == 1);
    CHECK(std::count(worker_events.begin(), worker_events.end(), "queue_error") == 1);
  }
  SUBCASE("permanent") {
    w.queue.faults.fail_always(notify::Errc::unauthenticated);
    const auto r = run_worker(w.queue, w.processor, w.stop, draining(), log);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == notify::Errc::unauthenticated);
    CHECK(w.pusher.sent().empty());
    w.queue.faults.clear();
    CHECK(w.queue.ready() == 1);  // still there
  }
}

TEST_CASE("a draining worker dead-letters what keeps failing and still returns") {
  Worker w;
  // 민지's token keeps failing while 아빠's goes out: the record's own failure.
  REQUIRE(w.store.set_member(3, notify::member_v1(3, "민지", kid_token, false)));
  w.pusher.fail_token(kid_token, PushStatus::retry);
  w.send_emotion();
  const auto r = run_worker(w.queue, w.processor, w.stop, draining());
  CHECK(r.has_value());
  CHECK(w.queue.acked() == 0);
  const auto dead = w.queue.dead_letters();
  REQUIRE(dead.size() == 1);
  CHECK(dead[0].record.receive_count == 5);
  CHECK(dead[0].reason.rfind("gave up after 5 deliveries", 0) == 0);
  CHECK(w.pusher.faults.calls() == 5);
  CHECK(w.pusher.count(dad_token) == 1);  // once, not once per delivery
  CHECK(w.pusher.count(kid_token) == 0);
}

TEST_CASE("a draining worker waits out an outage longer than max_deliveries and then delivers") {
  Worker w;
  for (std::size_t call = 1; call <= 8; ++call) w.pusher.faults.fail_call(call);  // the provider is down
  w.send_emotion();
  const auto r = run_worker(w.queue, w.processor, w.stop, draining());
  CHECK(r.has_value());
  CHECK(w.queue.dead_letters().empty());
  CHECK(w.queue.acked() == 1);
  CHECK(w.pusher.faults.calls() == 9);
  CHECK(w.pusher.count(dad_token) == 1);
}

TEST_CASE("FIFO groups: a record to retry holds back the later records of its group, not other groups") {
  Worker w;
  REQUIRE(w.store.set_member(4, notify::member_v1(7, "유진", kid_token, false)));
  REQUIRE(w.store.set_member(4, notify::member_v1(8, "준", "token-jun-dddddddddddddddd-0008", false)));
  w.pusher.fail_token(dad_token, PushStatus::retry);
  auto record = [](std::string id, std::string body, std::string group) {
    notify::QueueRecord r;
    r.id = std::move(id);
    r.receipt = "r-" + r.id;
    r.body = std::move(body);
    r.group = std::move(group);
    return r;
  };
  const std::string family_3 = R"({"type":"EMOTION_CHOSEN","param":{"familyId":3,"userId":1}})";
  const std::string family_3_poke = R"({"type":"EMOTION_POKE","param":{"familyId":3,"userId":1}})";
  const std::string family_4 = R"({"type":"EMOTION_CHOSEN","param":{"familyId":4,"userId":7}})";
  const std::vector<notify::QueueRecord> batch = {
      record("a", family_3, "family-3"),       // pushes 아빠: fails, retried
      record("b", family_4, "family-4"),       // another group: goes on
      record("c", family_3_poke, "family-3"),  // would push 엄마: held back behind "a"
      record("d", family_4, "family-4"),       // second of its group: processed (a duplicate push is not sent)
  };
  const auto outcomes = w.processor.process(batch);
  REQUIRE(outcomes.size() == 4);
  CHECK(outcomes[0].disposition == notify::Disposition::retry);
  CHECK_FALSE(outcomes[0].outage);
  CHECK(outcomes[1].disposition == notify::Disposition::done);
  CHECK(outcomes[2].disposition == notify::Disposition::retry);
  CHECK(outcomes[2].outage);  // not its own failure: it does not count toward dead-lettering
  CHECK(outcomes[2].delay == 0ms);
  CHECK(outcomes[2].reason.find("family-3") != std::string::npos);
  CHECK(outcomes[3].disposition == notify::Disposition::done);
  CHECK(w.pusher.count(mom_token) == 0);  // "c" was not processed
  CHECK(w.pusher.count("token-jun-dddddddddddddddd-0008") == 2);  // "b" and "d", in order

  // Without groups every record goes at once.
  w.pusher.clear_token(dad_token);
  const std::vector<notify::QueueRecord> plain = {record("e", family_3_poke, ""), record("f", family_3, "")};
  const auto plain_outcomes = w.processor.process(plain);
  CHECK(plain_outcomes[0].disposition == notify::Disposition::done);
  CHECK(plain_outcomes[1].disposition == notify::Disposition::done);
  CHECK(w.pusher.count(mom_token) == 1);

  // A driver short of time starts no more records: the first of each group runs, the
  // rest is handed back at once (an outage), and the check is gone after the call.
  int asked = 0;
  const std::vector<notify::QueueRecord> timed = {record("g", family_4, "family-4"), record("h", family_3_poke, "family-3"),
                                                 record("i", family_4, "family-4")};
  const auto timed_outcomes = w.processor.process(timed, [&] { return ++asked == 0; }, "no time left");
  CHECK(timed_outcomes[0].disposition == notify::Disposition::done);
  CHECK(timed_outcomes[1].disposition == notify::Disposition::done);
  CHECK(timed_outcomes[2].disposition == notify::Disposition::retry);
  CHECK(timed_outcomes[2].outage);
  CHECK(timed_outcomes[2].reason == "no time left");
  CHECK(asked == 1);
  CHECK(w.processor.process(std::vector<notify::QueueRecord>{record("j", family_4, "family-4"), record("k", family_4, "family-4")})[1]
            .disposition == notify::Disposition::done);
}

TEST_CASE("a draining worker waits out a failing count of what is left, and stops on a permanent one") {
  Worker w;
  w.send_emotion();
  std::vector<std::string> worker_events;
  auto log = [&](const notify::Event& e) { worker_events.emplace_back(e.step); };
  notify::WorkerOptions o = draining();
  o.max_reconnect_delay = 1ms;

  SUBCASE("transient: counted again until the answer comes") {
    CountingQueue q{w.queue, {notify::Errc::unavailable, notify::Errc::timeout}};
    const auto r = run_worker(q, w.processor, w.stop, o, log);
    CHECK(r.has_value());
    CHECK(q.counts == 3);
    CHECK(w.queue.acked() == 1);
    CHECK(std::count(worker_events.begin(), worker_events.end(), "queue_error") == 2);
  }
  SUBCASE("permanent: the worker ends with the error instead of polling forever") {
    CountingQueue q{w.queue, {notify::Errc::configuration}};
    const auto r = run_worker(q, w.processor, w.stop, o, log);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == notify::Errc::configuration);
    CHECK(q.counts == 1);
    CHECK(w.queue.acked() == 1);  // what was received was settled first
  }
}
