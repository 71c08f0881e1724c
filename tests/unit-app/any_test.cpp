// SPDX-License-Identifier: MIT
// notify::app's type-erased transports: each forwards to the adapter it holds (the
// in-memory ones, and small fakes for what those lack), counts what the programs report,
// and answers an error for what its adapter cannot do.

#include <doctest/doctest.h>

#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "notify/app/any.hpp"
#include "notify/app/printing.hpp"
#include "notify/memory/async_pushes.hpp"
#include "notify/memory/memory.hpp"
#include "notify/plan.hpp"

namespace app = notify::app;
using namespace std::chrono_literals;

namespace {

/// A queue with the administration notifyctl uses, recording what reached it.
struct AdminQueue {
  std::vector<std::string> calls;
  notify::Result<std::vector<notify::QueueRecord>> receive(std::size_t, std::chrono::milliseconds) {
    return std::vector<notify::QueueRecord>{};
  }
  notify::Result<void> settle(std::span<const notify::Settlement>) { return {}; }
  notify::Result<void> send(std::span<const std::string> bodies, app::Priority p = app::Priority::normal) {
    calls.push_back("send " + std::to_string(bodies.size()) + (p == app::Priority::high ? " high" : " normal"));
    return {};
  }
  notify::Result<std::vector<bool>> keep_alive(std::span<const notify::QueueRecord* const> r) {
    return std::vector<bool>(r.size(), true);
  }
  std::chrono::milliseconds lease_interval() { return 42ms; }
  notify::Result<std::size_t> pending_count() { return std::size_t{7}; }
  notify::Result<std::vector<notify::DeadLetter>> dead_letters(std::size_t max) {
    calls.push_back("dead_letters " + std::to_string(max));
    notify::DeadLetter d;
    d.entry_id = "1-0";
    d.reason = "bad";
    return std::vector<notify::DeadLetter>{d};
  }
  notify::Result<std::size_t> redrive(std::span<const std::string> ids, std::size_t max) {
    calls.push_back("redrive " + std::to_string(ids.size()) + " " + std::to_string(max));
    return std::size_t{1};
  }
  notify::Result<std::size_t> dead_letter_count() { return std::size_t{3}; }
  const std::string& dead_letter_stream() const { return dead_; }
  std::string dead_ = "jobs:dead";
};

/// A member store that cannot read one member.
struct BareStore {
  notify::Result<notify::FamilyLookup> families(std::span<const notify::Id>) { return notify::FamilyLookup{}; }
  notify::Result<void> set_member(notify::Id, const notify::Member&) { return {}; }
  notify::Result<void> remove_member(notify::Id, notify::Id) { return {}; }
  notify::Result<void> remove_family(notify::Id) { return {}; }
  notify::Result<bool> remove_token(notify::Id, notify::Id, std::string_view, std::string_view) { return true; }
};

/// A provider that sends a batch at once or takes pushes one at a time (as FCM does).
struct AsyncProvider {
  explicit AsyncProvider(notify::memory::PushProvider& inner) : inner_(inner), pushes_(inner) {}
  std::vector<notify::PushResult> send(std::span<const notify::Push> p) { return inner_.send(p); }
  void submit(const notify::Push& push, std::uint64_t tag) { pushes_.submit(push, tag); }
  void poll(std::chrono::milliseconds wait, std::vector<notify::PushDone>& out) { pushes_.poll(wait, out); }
  std::size_t in_flight() const { return pushes_.in_flight(); }
  notify::memory::PushProvider& inner_;
  notify::memory::AsyncPushes pushes_;
};

notify::Message message(std::string body) {
  notify::Message m;
  m.title = "title";
  m.body = std::move(body);
  return m;
}

}  // namespace

TEST_CASE("AnyQueue forwards to a memory queue, counts what it settles and reports each dead letter") {
  app::AnyQueue queue(std::in_place_type<notify::memory::Queue>, "memory:test");
  const std::vector<std::string> bodies = {"a", "b", "c"};
  REQUIRE(queue.send(bodies).has_value());
  CHECK(queue.get<notify::memory::Queue>()->ready() == 3);
  auto got = queue.receive(10, 0ms);
  REQUIRE(got.has_value());
  REQUIRE(got->size() == 3);
  CHECK(*queue.pending_count() == 3);  // in flight
  auto stats = queue.stats();
  REQUIRE(stats.has_value());
  CHECK(stats->depth == 0);
  CHECK(stats->pending == 3);

  std::vector<std::string> reported;
  queue.on_dead_letter = [&](const notify::Settlement& s) { reported.push_back(s.record->body + ":" + s.outcome.reason); };
  const std::vector<const notify::QueueRecord*> held = {&(*got)[0], &(*got)[1]};
  CHECK(*queue.keep_alive(held) == std::vector<bool>{true, true});
  CHECK(queue.lease_interval() == queue.get<notify::memory::Queue>()->lease_interval());
  const std::vector<notify::Settlement> settlements = {
      {&(*got)[0], {notify::Disposition::done, 0ms, {}}},
      {&(*got)[1], {notify::Disposition::retry, 10ms, "later"}},
      {&(*got)[2], {notify::Disposition::dead_letter, 0ms, "broken"}}};
  REQUIRE(queue.settle(settlements).has_value());
  const app::SettleCounts& n = queue.counts();
  CHECK(n.settled == 3);
  CHECK(n.done == 1);
  CHECK(n.retried == 1);
  CHECK(n.dead == 1);
  CHECK(reported == std::vector<std::string>{"c:broken"});
  auto* memory = queue.get<notify::memory::Queue>();
  REQUIRE(memory != nullptr);
  CHECK(memory->acked() == 1);
  CHECK(memory->dead_letters().size() == 1);
  CHECK(queue.pending() == 1);  // the retry
}

TEST_CASE("AnyQueue answers an error for what a memory queue cannot do") {
  app::AnyQueue queue(std::in_place_type<notify::memory::Queue>, "memory:test");
  CHECK_FALSE(queue.has_priorities());
  const std::vector<std::string> bodies = {"a"};
  CHECK_FALSE(queue.send(bodies, app::Priority::high).has_value());
  CHECK(queue.send(bodies, app::Priority::normal).has_value());
  CHECK(queue.dead_letters(10).error().message == "this queue has no dead-letter listing");
  CHECK_FALSE(queue.redrive({}, 10).has_value());
  CHECK_FALSE(queue.dead_letter_count().has_value());
  CHECK(queue.dead_letter_place() == "the dead-letter queue");
  CHECK(queue.where() == "memory:test");
}

TEST_CASE("AnyQueue forwards priorities and the dead-letter administration to an adapter that has them") {
  app::AnyQueue queue(AdminQueue{}, "admin");
  CHECK(queue.has_priorities());
  const std::vector<std::string> bodies = {"a", "b"};
  REQUIRE(queue.send(bodies, app::Priority::high).has_value());
  REQUIRE(queue.send(bodies).has_value());
  auto letters = queue.dead_letters(5);
  REQUIRE(letters.has_value());
  CHECK(letters->front().reason == "bad");
  const std::vector<std::string> ids = {"1-0"};
  CHECK(*queue.redrive(ids, 1) == 1);
  CHECK(*queue.dead_letter_count() == 3);
  CHECK(queue.dead_letter_place() == "jobs:dead");
  CHECK(queue.lease_interval() == 42ms);
  CHECK(queue.pending() == 7);
  CHECK(queue.where() == "admin");
  CHECK(queue.stats().error().message == "this queue has no statistics");
  CHECK(queue.get<AdminQueue>()->calls ==
        std::vector<std::string>{"send 2 high", "send 2 normal", "dead_letters 5", "redrive 1 1"});
}

TEST_CASE("AnyStore forwards to a memory store, and stored values go in as they are") {
  app::AnyStore store{notify::memory::MemberStore{}};
  REQUIRE(store.set_member(3, notify::member_v1(4, "민준", "tok-4", false)).has_value());
  const std::vector<notify::redis::StoredValue> values = {
      {3, "user:5", R"({"userName":"서연","fcmToken":"tok-5"})"}, {3, "user:6", "not JSON"}};
  REQUIRE(store.put_raw(values).has_value());
  const std::vector<notify::Id> ids = {3};
  auto lookup = store.families(ids);
  REQUIRE(lookup.has_value());
  REQUIRE(lookup->families.size() == 1);
  CHECK(lookup->problems.size() == 1);  // user:6
  CHECK(*store.remove_token(3, 4, "tok-4"));
  REQUIRE(store.remove_member(3, 5).has_value());
  REQUIRE(store.remove_family(3).has_value());
  CHECK(store.families(ids)->families.size() == 0);
  // The memory store has no single-member read.
  CHECK(store.get_member(3, 4).error().message == "this member store cannot read one member");
}

TEST_CASE("AnyStore answers an error for stored values a store cannot take") {
  app::AnyStore store{BareStore{}};
  const std::vector<notify::redis::StoredValue> values = {{1, "user:2", "{}"}};
  CHECK_FALSE(store.put_raw(values).has_value());
  CHECK(*store.remove_token(1, 2, "t"));
  CHECK(store.get<BareStore>() != nullptr);
  CHECK(store.get<notify::memory::MemberStore>() == nullptr);
}

TEST_CASE("AnyLedger and AnyInbox forward to the memory adapters") {
  app::AnyLedger ledger{notify::memory::IdempotencyStore{}};
  const std::vector<std::string> keys = {"r1:t1", "r1:t2"};
  const std::vector<std::string> first = {"r1:t1"};
  REQUIRE(ledger.remember(first, 60s).has_value());
  CHECK(*ledger.seen(keys) == std::vector<bool>{true, false});

  app::AnyInbox inbox{notify::memory::InboxSink{}};
  const std::vector<std::string> bodies = {"[1]", "[2]"};
  REQUIRE(inbox.publish(bodies).has_value());
  CHECK(inbox.get<notify::memory::InboxSink>()->published() == bodies);
}

TEST_CASE("AnyPusher hands a synchronous provider the pushes submitted since the last poll, with their tags") {
  app::AnyPusher pusher{notify::memory::PushProvider{}};
  const notify::Message m = message("hello");
  pusher.submit(notify::Push{&m, "tok-a"}, 11);
  pusher.submit(notify::Push{&m, "tok-b"}, 12);
  CHECK(pusher.in_flight() == 2);
  CHECK(pusher.get<notify::memory::PushProvider>()->sent().empty());  // not before the poll
  std::vector<notify::PushDone> done;
  pusher.poll(0ms, done);
  REQUIRE(done.size() == 2);
  CHECK(done[0].tag == 11);
  CHECK(done[1].tag == 12);
  CHECK(done[0].result.status == notify::PushStatus::sent);
  CHECK(pusher.in_flight() == 0);
  CHECK(pusher.get<notify::memory::PushProvider>()->sent().size() == 2);
  const std::vector<notify::Push> batch = {{&m, "tok-c"}};
  CHECK(pusher.send(batch).size() == 1);
  CHECK(pusher.count() == 3);
  CHECK(pusher.connect().has_value());  // nothing to check
}

TEST_CASE("AnyPusher forwards submit and poll to an asynchronous provider") {
  notify::memory::PushProvider inner;
  app::AnyPusher pusher{AsyncProvider(inner)};
  const notify::Message m = message("hi");
  pusher.submit(notify::Push{&m, "tok-a"}, 7);
  CHECK(pusher.in_flight() == 1);
  std::vector<notify::PushDone> done;
  pusher.poll(0ms, done);
  REQUIRE(done.size() == 1);
  CHECK(done[0].tag == 7);
  CHECK(inner.sent().size() == 1);
  CHECK(pusher.count() == 1);
}

TEST_CASE("the printing provider prints one line per push and answers each as sent") {
  notify::Message m = message("body text");
  const notify::Push push{&m, "abcdefghijklmnopqrstuvwxyz"};
  const std::string line = app::PrintingPushProvider::line(push);
  CHECK(line.starts_with("push token="));
  CHECK(line.find("abcdefghijklmnopqrstuvwxyz") == std::string::npos);  // shortened
  CHECK(line.find(" title=title body=body text") != std::string::npos);
  app::PrintingPushProvider silent(false);
  const std::vector<notify::Push> pushes = {push, push};
  auto results = silent.send(pushes);
  REQUIRE(results.size() == 2);
  CHECK(results[1].detail == "null/2");
}

TEST_CASE("the event log writes logfmt pairs led by a UTC timestamp, quoting values with spaces, or one JSON object") {
  const notify::Event e{"member_skipped", "family:3.user:9", {}, {}, "not valid \"JSON\""};
  CHECK(app::EventLog(false).line(e, 1764827401123) ==
        R"(ts=2025-12-04T05:50:01.123Z step=member_skipped request=family:3.user:9 detail="not valid \"JSON\"")");
  CHECK(app::EventLog(false).line(e, 5).starts_with("ts=1970-01-01T00:00:00.005Z step=member_skipped "));
  CHECK(app::EventLog(false).line(e, 951782400000).starts_with("ts=2000-02-29T00:00:00.000Z "));
  CHECK(app::EventLog(false).line(e, 1767225599999).starts_with("ts=2025-12-31T23:59:59.999Z "));
  CHECK(app::EventLog(true).line(e, 5) ==
        R"({"ts":5,"step":"member_skipped","request":"family:3.user:9","detail":"not valid \"JSON\""})");
}

TEST_CASE("the event log gives a retry's attempt and delay") {
  notify::Event e{"retry", "r-1", "MESSAGE_TODAY", {}, "fcm: 503", notify::Level::info, 3, 4000};
  CHECK(app::EventLog(false).line(e, 0) ==
        R"(ts=1970-01-01T00:00:00.000Z step=retry request=r-1 type=MESSAGE_TODAY attempt=3 delay_ms=4000 detail="fcm: 503")");
  CHECK(app::EventLog(true).line(e, 0) ==
        R"({"ts":0,"step":"retry","request":"r-1","type":"MESSAGE_TODAY","detail":"fcm: 503","attempt":3,"delay_ms":4000})");
}

TEST_CASE("a buffered event log keeps info lines until flushed, and writes a warning with what it keeps at once") {
  std::ostringstream err;
  std::streambuf* const saved = std::cerr.rdbuf(err.rdbuf());
  auto info = [](std::string_view step) { return notify::Event{step, {}, {}, {}, {}}; };
  auto steps = [&] {
    std::vector<std::string> out;
    std::istringstream in(err.str());
    for (std::string l; std::getline(in, l);) {
      const std::size_t at = l.find("step=") + 5;
      out.push_back(l.substr(at, l.find(' ', at) - at));
    }
    return out;
  };
  {
    app::EventLog log(false);
    log(info("one"));
    CHECK(steps() == std::vector<std::string>{"one"});  // unbuffered: at once
    log.buffer(true);
    log(info("two"));
    log(notify::Event{"three", {}, {}, {}, {}, notify::Level::debug});
    CHECK(steps().size() == 1);
    log.flush();
    CHECK(steps() == std::vector<std::string>{"one", "two", "three"});
    log(info("four"));
    log(notify::Event{"five", {}, {}, {}, "a warning", notify::Level::warn});  // in order, at once
    CHECK(steps() == std::vector<std::string>{"one", "two", "three", "four", "five"});
    for (int i = 0; i < 400; ++i) log(notify::Event{"many", {}, {}, {}, std::string(60, 'x')});  // > 16 KiB: written
    CHECK(steps().size() > 5);
    CHECK(steps().size() < 405);
    log(info("last"));
    log.buffer(false);  // ending writes out the rest
    CHECK(steps().size() == 406);
    CHECK(steps().back() == "last");
    log.buffer(true);
    log(info("last_words"));
    log.salvage();  // what a terminate handler calls
    CHECK(steps().back() == "last_words");
  }
  std::cerr.rdbuf(saved);
}
