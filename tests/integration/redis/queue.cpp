// SPDX-License-Identifier: MIT
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <set>
#include <thread>

#include "helpers.hpp"
#include "notify/codec.hpp"

using namespace notify;
using namespace std::chrono_literals;
using notify::test::RedisServer;
using Clock = std::chrono::steady_clock;

namespace {

redis::QueueOptions queue_options(std::string consumer) {
  redis::QueueOptions q;
  q.stream = "test";
  q.consumer = std::move(consumer);
  return q;
}

std::vector<std::string> bodies(std::initializer_list<const char*> list) { return {list.begin(), list.end()}; }

/// Receives until `n` records came or `limit` passed (transient errors are retried).
std::vector<QueueRecord> receive_until(redis::Queue& q, std::size_t n, std::chrono::milliseconds limit = 15s) {
  std::vector<QueueRecord> got;
  const auto deadline = Clock::now() + limit;
  while (got.size() < n && Clock::now() < deadline) {
    auto r = q.receive(n - got.size(), 100ms);
    if (!r) {
      std::this_thread::sleep_for(20ms);
      continue;
    }
    for (QueueRecord& rec : *r) got.push_back(std::move(rec));
  }
  return got;
}

Result<void> settle_all(redis::Queue& q, const std::vector<QueueRecord>& records, Outcome outcome = {}) {
  std::vector<Settlement> s;
  for (const QueueRecord& r : records) s.push_back({&r, outcome});
  return q.settle(s);
}

std::vector<std::string> bodies_of(const std::vector<QueueRecord>& records) {
  std::vector<std::string> out;
  for (const QueueRecord& r : records) out.push_back(r.body);
  return out;
}

}  // namespace

TEST_CASE("a sent entry carries its body, a request id and the send time") {
  RedisServer server;
  redis::Queue q(notify::test::options_for(server), queue_options("c1"));
  Request request{Param{MessageTodayParam{{3}}}, "req-42", {}};
  const std::vector<std::string> sent = {encode(request), "not json"};
  REQUIRE(q.send(sent).has_value());

  auto got = q.receive(10, 1s);
  REQUIRE(got.has_value());
  REQUIRE(got->size() == 2);
  CHECK((*got)[0].id == "req-42");  // the envelope id is the request id
  CHECK((*got)[0].body == sent[0]);
  CHECK((*got)[0].receive_count == 1);
  CHECK((*got)[0].sent_at_ms > 0);
  CHECK((*got)[1].id.rfind("q-", 0) == 0);  // no envelope id: a generated one
  CHECK((*got)[1].body == "not json");
  CHECK((*got)[0].receipt != (*got)[1].receipt);

  redis::Connection raw(notify::test::options_for(server));
  auto entry = raw.command({"XRANGE", "test", "-", "+", "COUNT", "1"});
  REQUIRE(entry.has_value());
  const auto& fields = entry->elements.at(0).elements.at(1).elements;
  std::vector<std::string> names;
  for (std::size_t i = 0; i < fields.size(); i += 2) names.push_back(fields[i].str);
  CHECK(names == std::vector<std::string>{"rid", "body", "n", "sent"});
}

TEST_CASE("the producer trims the stream approximately to max_length") {
  RedisServer server({.persistent = false, .password = {}, .args = {"--stream-node-max-entries", "10"}});
  auto qo = queue_options("c1");
  qo.max_length = 20;
  redis::Queue q(notify::test::options_for(server), qo);
  std::vector<std::string> many(200, "x");
  REQUIRE(q.send(many).has_value());
  CHECK(q.connection().round_trips() == 1);
  redis::Connection raw(notify::test::options_for(server));
  const auto len = raw.command({"XLEN", "test"})->integer;
  CHECK(len >= 20);
  CHECK(len < 200);
}

TEST_CASE("an acked record is gone: not pending, not delivered again") {
  RedisServer server;
  redis::Queue q(notify::test::options_for(server), queue_options("c1"));
  REQUIRE(q.send(bodies({"a", "b"})).has_value());
  auto got = q.receive(10, 1s);
  REQUIRE(got.has_value());
  REQUIRE(got->size() == 2);
  CHECK(*q.pending_count() == 2);

  REQUIRE(settle_all(q, *got).has_value());
  CHECK(*q.pending_count() == 0);
  CHECK(q.pending() == 0);
  redis::Connection raw(notify::test::options_for(server));
  CHECK(raw.command({"XLEN", "test"})->integer == 0);  // settled entries are deleted
  auto again = q.receive(10, 200ms);
  REQUIRE(again.has_value());
  CHECK(again->empty());

  REQUIRE(settle_all(q, *got).has_value());  // a stale receipt changes nothing
  CHECK(q.dead_letters()->empty());
}

TEST_CASE("a foreign receipt is reported while the rest of the batch is settled") {
  RedisServer server;
  redis::Queue q(notify::test::options_for(server), queue_options("c1"));
  REQUIRE(q.send(bodies({"a"})).has_value());
  auto got = q.receive(1, 1s);
  REQUIRE(got->size() == 1);
  QueueRecord foreign = got->front();
  for (const char* receipt : {"", "7:1-0", "x:1-0", "0:", "1-0"}) {
    CAPTURE(receipt);
    foreign.receipt = receipt;
    const Settlement s[] = {{&foreign, Outcome{}}};
    auto r = q.settle(s);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == Errc::invalid_value);
  }
  const Settlement s[] = {{&foreign, Outcome{}}, {&got->front(), Outcome{}}};
  CHECK_FALSE(q.settle(s).has_value());
  CHECK(*q.pending_count() == 0);  // the real one was acked
}

TEST_CASE("a retried record comes back only after its delay, with its delivery count") {
  RedisServer server;
  redis::Queue q(notify::test::options_for(server), queue_options("c1"));
  REQUIRE(q.send(bodies({"later"})).has_value());
  auto got = q.receive(1, 1s);
  REQUIRE(got.has_value());
  REQUIRE(got->size() == 1);
  const QueueRecord first = got->front();

  const auto delay = 1500ms;
  const auto settled_at = Clock::now();
  REQUIRE(settle_all(q, *got, Outcome{Disposition::retry, delay, "push retry"}).has_value());
  CHECK(*q.pending_count() == 1);  // delayed, so a drain keeps waiting

  auto early = q.receive(1, 300ms);
  REQUIRE(early.has_value());
  if (Clock::now() - settled_at < delay) CHECK(early->empty());  // only meaningful while the delay runs

  auto back = receive_until(q, 1);
  const auto waited = Clock::now() - settled_at;
  REQUIRE(back.size() == 1);
  CHECK(waited >= delay - 50ms);  // the server's clock decided; allow for the settle's own round trip
  CHECK(back[0].id == first.id);
  CHECK(back[0].body == "later");
  CHECK(back[0].sent_at_ms == first.sent_at_ms);
  CHECK(back[0].receive_count == 2);
  CHECK(back[0].receipt != first.receipt);
  REQUIRE(settle_all(q, back).has_value());
  CHECK(*q.pending_count() == 0);
}

TEST_CASE("a record retried max_deliveries times moves to the dead-letter stream with its reason and body") {
  RedisServer server;
  auto qo = queue_options("c1");
  qo.max_deliveries = 3;
  redis::Queue q(notify::test::options_for(server), qo);
  REQUIRE(q.send(bodies({"poison"})).has_value());
  for (int delivery = 1; delivery <= 3; ++delivery) {
    CAPTURE(delivery);
    auto got = receive_until(q, 1);
    REQUIRE(got.size() == 1);
    CHECK(got[0].receive_count == delivery);
    REQUIRE(settle_all(q, got, Outcome{Disposition::retry, 0ms, "fcm unavailable"}).has_value());
  }
  auto dead = q.dead_letters();
  REQUIRE(dead.has_value());
  REQUIRE(dead->size() == 1);
  const redis::DeadLetter& d = dead->front();
  CHECK(d.body == "poison");
  CHECK(d.deliveries == 3);
  CHECK(d.origin == "test");
  CHECK(d.dead_at_ms > 0);
  CHECK(d.reason.find("gave up after 3 deliveries") != std::string::npos);
  CHECK(d.reason.find("fcm unavailable") != std::string::npos);
  CHECK(*q.pending_count() == 0);
  CHECK(q.receive(1, 200ms)->empty());
}

TEST_CASE("an outage retry is never dead-lettered however often it comes back, while the record's own failures still count") {
  RedisServer server;
  auto qo = queue_options("c1");
  qo.max_deliveries = 2;
  redis::Queue q(notify::test::options_for(server), qo);
  REQUIRE(q.send(bodies({"waits out an outage"})).has_value());
  Outcome outage{Disposition::retry, 0ms, "fcm unavailable"};
  outage.outage = true;
  for (int delivery = 1; delivery <= 4; ++delivery) {  // twice max_deliveries
    CAPTURE(delivery);
    auto got = receive_until(q, 1);
    REQUIRE(got.size() == 1);
    CHECK(got[0].receive_count == delivery);
    CHECK(got[0].outages == delivery - 1);
    REQUIRE(settle_all(q, got, outage).has_value());
    CHECK(q.dead_letters()->empty());
  }
  // The outage is over; the record now fails on its own: max_deliveries of its own.
  auto got = receive_until(q, 1);
  REQUIRE(got.size() == 1);
  CHECK(got[0].receive_count == 5);
  CHECK(got[0].outages == 4);
  REQUIRE(settle_all(q, got, Outcome{Disposition::retry, 0ms, "bad token"}).has_value());
  CHECK(q.dead_letters()->empty());
  got = receive_until(q, 1);
  REQUIRE(got.size() == 1);
  CHECK(got[0].receive_count == 6);
  REQUIRE(settle_all(q, got, Outcome{Disposition::retry, 0ms, "bad token"}).has_value());
  auto dead = q.dead_letters();
  REQUIRE(dead->size() == 1);
  CHECK(dead->front().deliveries == 6);
  CHECK(dead->front().reason == "gave up after 2 deliveries (and 4 in outages): bad token");
  CHECK(*q.pending_count() == 0);
}

TEST_CASE("a dead_letter outcome moves the record at once, and redrive brings it back") {
  RedisServer server;
  redis::Queue q(notify::test::options_for(server), queue_options("c1"));
  REQUIRE(q.send(bodies({"one", "two"})).has_value());
  auto got = q.receive(2, 1s);
  REQUIRE(got->size() == 2);
  REQUIRE(settle_all(q, *got, Outcome{Disposition::dead_letter, 0ms, R"([{"code":"invalid_json"}])"}).has_value());

  auto dead = q.dead_letters();
  REQUIRE(dead->size() == 2);
  CHECK((*dead)[0].reason == R"([{"code":"invalid_json"}])");
  CHECK((*dead)[0].id == (*got)[0].id);
  CHECK((*dead)[0].deliveries == 1);

  const std::vector<std::string> second = {(*dead)[1].entry_id};
  CHECK(*q.redrive(second) == 1);  // by id
  auto back = q.receive(5, 1s);
  REQUIRE(back->size() == 1);
  CHECK(back->front().body == "two");
  CHECK(back->front().id == (*got)[1].id);
  CHECK(back->front().receive_count == 1);  // a fresh start
  CHECK(q.dead_letters()->size() == 1);

  CHECK(*q.redrive({}) == 1);  // the oldest
  CHECK(q.dead_letters()->empty());
  CHECK(q.receive(5, 1s)->front().body == "one");
}

TEST_CASE("higher-priority records are received first") {
  RedisServer server;
  redis::Queue q(notify::test::options_for(server), queue_options("c1"));
  REQUIRE(q.send(bodies({"n1", "n2", "n3"})).has_value());
  REQUIRE(q.send(bodies({"h1", "h2"}), redis::Priority::high).has_value());

  auto got = q.receive(3, 1s);
  REQUIRE(got.has_value());
  CHECK(bodies_of(*got) == std::vector<std::string>{"h1", "h2", "n1"});
  REQUIRE(q.send(bodies({"h3"}), redis::Priority::high).has_value());
  got = q.receive(10, 1s);
  CHECK(bodies_of(*got) == std::vector<std::string>{"h3", "n2", "n3"});
}

TEST_CASE("a blocked receive wakes up for a record of any priority") {
  RedisServer server;
  redis::Queue consumer(notify::test::options_for(server), queue_options("c1"));
  redis::Queue producer(notify::test::options_for(server), queue_options("producer"));
  REQUIRE(consumer.receive(1, 0ms).has_value());  // creates the group
  for (const redis::Priority p : {redis::Priority::normal, redis::Priority::high}) {
    std::thread later([&] {
      std::this_thread::sleep_for(200ms);
      REQUIRE(producer.send(bodies({"wake"}), p).has_value());
    });
    auto got = consumer.receive(10, 10s);
    later.join();
    REQUIRE(got.has_value());
    REQUIRE(got->size() == 1);
    CHECK(got->front().body == "wake");
    CHECK(settle_all(consumer, *got).has_value());
  }
}

TEST_CASE("two consumers in one group share the work") {
  RedisServer server;
  redis::Queue a(notify::test::options_for(server), queue_options("a"));
  redis::Queue b(notify::test::options_for(server), queue_options("b"));
  std::vector<std::string> ten;
  for (int i = 0; i < 10; ++i) ten.push_back("r" + std::to_string(i));
  REQUIRE(a.send(ten).has_value());

  auto got_a = a.receive(5, 1s);
  auto got_b = b.receive(10, 1s);
  REQUIRE(got_a.has_value());
  REQUIRE(got_b.has_value());
  CHECK(got_a->size() == 5);
  CHECK(got_b->size() == 5);
  std::set<std::string> all;
  for (const auto& r : *got_a) all.insert(r.body);
  for (const auto& r : *got_b) all.insert(r.body);
  CHECK(all.size() == 10);  // disjoint and complete
  CHECK(settle_all(a, *got_a).has_value());
  CHECK(settle_all(b, *got_b).has_value());
  CHECK(*a.pending_count() == 0);
}

TEST_CASE("entries of a consumer killed with SIGKILL are reclaimed by another after the idle time") {
  RedisServer server;
  int ids_pipe[2];
  REQUIRE(::pipe(ids_pipe) == 0);
  {
    redis::Queue producer(notify::test::options_for(server), queue_options("producer"));
    REQUIRE(producer.send(bodies({"x", "y", "z", "w"})).has_value());
  }
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {  // the doomed consumer: takes three records and hangs
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    redis::Queue doomed(notify::test::options_for(server), queue_options("doomed"));
    auto got = doomed.receive(3, 5s);
    std::string ids;
    if (got)
      for (const auto& r : *got) ids += r.id + "\n";
    (void)!::write(ids_pipe[1], ids.data(), ids.size());
    ::close(ids_pipe[1]);
    for (;;) ::pause();
  }
  ::close(ids_pipe[1]);
  std::string taken;
  char buf[512];
  for (ssize_t n; (n = ::read(ids_pipe[0], buf, sizeof buf)) > 0;) taken.append(buf, static_cast<std::size_t>(n));
  ::close(ids_pipe[0]);
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  const auto killed_at = Clock::now();
  REQUIRE(std::count(taken.begin(), taken.end(), '\n') == 3);

  auto qo = queue_options("survivor");
  qo.claim_idle = 1000ms;
  redis::Queue survivor(notify::test::options_for(server), qo);
  auto first = survivor.receive(10, 0ms);
  REQUIRE(first.has_value());
  if (Clock::now() - killed_at < qo.claim_idle) {
    REQUIRE(first->size() == 1);  // only the record nobody had taken
    CHECK(first->front().receive_count == 1);
  }
  auto reclaimed = receive_until(survivor, 4 - first->size());
  std::vector<QueueRecord> all = *first;
  all.insert(all.end(), reclaimed.begin(), reclaimed.end());
  REQUIRE(all.size() == 4);
  int second_deliveries = 0;
  for (const QueueRecord& r : all)
    if (taken.find(r.id + "\n") != std::string::npos) {
      CHECK(r.receive_count == 2);
      ++second_deliveries;
    }
  CHECK(second_deliveries == 3);
  REQUIRE(settle_all(survivor, all).has_value());
  CHECK(*survivor.pending_count() == 0);
}

TEST_CASE("a record that keeps killing its consumers is dead-lettered once twice max_deliveries workers died holding it") {
  RedisServer server;
  auto qo = queue_options("c0");
  qo.max_deliveries = 2;
  qo.claim_idle = 100ms;
  redis::Queue first(notify::test::options_for(server), qo);
  REQUIRE(first.send(bodies({"crashes everyone"})).has_value());
  REQUIRE(first.receive(1, 1s)->size() == 1);  // delivery 1, never settled
  // Workers 1 to 3 claim it and die holding it: abandoned deliveries are not the record's
  // own failures, so it is still handed out past max_deliveries (2)...
  for (int worker = 1; worker <= 3; ++worker) {
    CAPTURE(worker);
    qo.consumer = "c" + std::to_string(worker);
    redis::Queue next(notify::test::options_for(server), qo);
    auto got = receive_until(next, 1);
    REQUIRE(got.size() == 1);
    CHECK(got[0].receive_count == worker + 1);
    CHECK(next.dead_letters()->empty());
  }
  // ... until 2 x max_deliveries workers have stopped while holding it: then it is poison.
  qo.consumer = "last";
  redis::Queue last(notify::test::options_for(server), qo);
  const auto deadline = Clock::now() + 10s;
  while (last.dead_letters()->empty() && Clock::now() < deadline) CHECK(last.receive(1, 50ms)->empty());
  auto dead = last.dead_letters();
  REQUIRE(dead->size() == 1);
  CHECK(dead->front().body == "crashes everyone");
  CHECK(dead->front().deliveries == 5);
  CHECK(dead->front().reason.find("without being settled (4 workers stopped while holding it)") != std::string::npos);
  CHECK(*last.pending_count() == 0);
}

TEST_CASE("pending counts delivered-but-unsettled and delayed records, for a drain") {
  RedisServer server;
  redis::Queue q(notify::test::options_for(server), queue_options("c1"));
  CHECK(*q.pending_count() == 0);  // no group yet
  REQUIRE(q.send(bodies({"a", "b", "c"})).has_value());
  auto got = q.receive(2, 1s);
  REQUIRE(got->size() == 2);
  CHECK(*q.pending_count() == 2);
  const Settlement s[] = {{&(*got)[0], Outcome{Disposition::retry, 60s, "later"}}, {&(*got)[1], Outcome{}}};
  REQUIRE(q.settle(s).has_value());
  CHECK(*q.pending_count() == 1);  // the delayed one; "c" was never delivered
}

TEST_CASE("the queue recreates its consumer group when the server lost it") {
  RedisServer server;
  redis::Queue q(notify::test::options_for(server), queue_options("c1"));
  REQUIRE(q.receive(1, 0ms).has_value());
  redis::Connection raw(notify::test::options_for(server));
  REQUIRE(raw.command({"FLUSHALL"}).has_value());
  REQUIRE(q.send(bodies({"after flush"})).has_value());
  auto got = q.receive(1, 1s);
  REQUIRE(got.has_value());
  REQUIRE(got->size() == 1);
  CHECK(got->front().body == "after flush");
}

TEST_CASE("redis-server killed and restarted mid-stream: transient errors, then nothing is lost") {
  RedisServer server({.persistent = true, .password = {}, .args = {}});
  auto qo = queue_options("c1");
  qo.claim_idle = 300ms;
  redis::Queue q(notify::test::options_for(server), qo);
  std::vector<std::string> six;
  for (int i = 0; i < 6; ++i) six.push_back("m" + std::to_string(i));
  REQUIRE(q.send(six).has_value());

  std::multiset<std::string> acked;
  auto done = q.receive(2, 1s);
  REQUIRE(done->size() == 2);
  REQUIRE(settle_all(q, *done).has_value());
  for (const auto& r : *done) acked.insert(r.body);
  auto in_flight = q.receive(2, 1s);
  REQUIRE(in_flight->size() == 2);

  server.kill();
  auto r = q.receive(2, 100ms);
  REQUIRE_FALSE(r.has_value());
  CHECK(is_transient(r.error().code));
  auto s = settle_all(q, *in_flight);  // the ack is lost with the connection
  REQUIRE_FALSE(s.has_value());
  CHECK(is_transient(s.error().code));
  auto p = q.send(bodies({"while down"}));
  REQUIRE_FALSE(p.has_value());
  CHECK(is_transient(p.error().code));

  server.start();
  // The two never-acked records come back (claimed after the idle time); the rest as new.
  auto rest = receive_until(q, 4);
  REQUIRE(rest.size() == 4);
  REQUIRE(settle_all(q, rest).has_value());
  for (const auto& rec : rest) acked.insert(rec.body);
  CHECK(acked == std::multiset<std::string>(six.begin(), six.end()));
  CHECK(*q.pending_count() == 0);
}

// ---- leases: keep_alive, and own pending entries after a reconnect -------------------

namespace {

std::vector<const QueueRecord*> pointers(const std::vector<QueueRecord>& records) {
  std::vector<const QueueRecord*> out;
  for (const QueueRecord& r : records) out.push_back(&r);
  return out;
}

/// The consumer an entry is pending for ("" when it is not pending).
std::string owner(redis::Connection& raw, const std::string& stream, const std::string& entry) {
  auto p = raw.command({"XPENDING", stream, "notify", entry, entry, "1"});
  REQUIRE(p.has_value());
  return p->elements.empty() ? std::string() : p->elements[0].elements[1].str;
}

std::string entry_of(const QueueRecord& r) { return r.receipt.substr(2); }

}  // namespace

TEST_CASE("lease_interval is a third of claim_idle, at least 100 ms, and the queue is a LeasedQueue") {
  static_assert(notify::LeasedQueue<redis::Queue>);
  RedisServer server;
  auto qo = queue_options("c1");
  CHECK(redis::Queue(notify::test::options_for(server), qo).lease_interval() == 10000ms);
  qo.claim_idle = 150ms;
  CHECK(redis::Queue(notify::test::options_for(server), qo).lease_interval() == 100ms);
}

TEST_CASE("keep_alive holds entries past claim_idle so another consumer does not claim them") {
  RedisServer server;
  auto qo = queue_options("holder");
  qo.claim_idle = 600ms;  // renewed every 200 ms: a stall of 400 ms is tolerated
  redis::Queue holder(notify::test::options_for(server), qo);
  qo.consumer = "other";
  redis::Queue other(notify::test::options_for(server), qo);
  REQUIRE(holder.send(bodies({"urgent"}), redis::Priority::high).has_value());
  REQUIRE(holder.send(bodies({"normal"})).has_value());
  auto held = holder.receive(10, 1s);
  REQUIRE(held.has_value());
  REQUIRE(held->size() == 2);  // one in each stream

  const auto records = pointers(*held);
  const auto until = Clock::now() + 3 * qo.claim_idle;
  int renewals = 0;
  while (Clock::now() < until) {
    const auto trips = holder.connection().round_trips();
    auto alive = holder.keep_alive(records);
    REQUIRE(alive.has_value());
    // One script for both streams (the first call also sends its source after NOSCRIPT).
    CHECK(holder.connection().round_trips() - trips == (renewals == 0 ? 2U : 1U));
    CHECK(*alive == std::vector<bool>{true, true});
    ++renewals;
    auto stolen = other.receive(10, 0ms);
    REQUIRE(stolen.has_value());
    CHECK(stolen->empty());
    std::this_thread::sleep_for(holder.lease_interval());
  }
  MESSAGE("held for " << std::chrono::duration_cast<std::chrono::milliseconds>(3 * qo.claim_idle).count()
                      << " ms with " << renewals << " renewals");
  // Renewals do not count deliveries: once let go, the entries are claimed as delivery 2.
  auto claimed = receive_until(other, 2, 5s);
  REQUIRE(claimed.size() == 2);
  for (const QueueRecord& r : claimed) CHECK(r.receive_count == 2);
  REQUIRE(settle_all(other, claimed).has_value());
}

TEST_CASE("keep_alive answers false for an entry another consumer claimed, and does not take it back") {
  RedisServer server;
  auto qo = queue_options("slow");
  qo.claim_idle = 300ms;
  redis::Queue slow(notify::test::options_for(server), qo);
  qo.consumer = "taker";
  redis::Queue taker(notify::test::options_for(server), qo);
  REQUIRE(slow.send(bodies({"a", "b", "c"})).has_value());
  auto mine = slow.receive(3, 1s);
  REQUIRE(mine->size() == 3);

  // "a" is settled, "b" kept alive, "c" left to go idle and be claimed.
  REQUIRE(settle_all(slow, {(*mine)[0]}).has_value());
  const QueueRecord* b[] = {&(*mine)[1]};
  const auto until = Clock::now() + 2 * qo.claim_idle;
  std::vector<QueueRecord> taken;
  while (Clock::now() < until || taken.empty()) {
    REQUIRE(slow.keep_alive(b)->front());
    if (taken.empty()) {  // once only: the taker would reclaim its own idle entry
      auto got = taker.receive(10, 0ms);
      REQUIRE(got.has_value());
      for (QueueRecord& r : *got) taken.push_back(std::move(r));
    }
    std::this_thread::sleep_for(30ms);  // well within the lease, to check a claim soon after it is due
    REQUIRE(Clock::now() < until + 5s);
  }
  REQUIRE(taken.size() == 1);
  CHECK(taken[0].body == "c");

  redis::Connection raw(notify::test::options_for(server));
  const std::string stream = slow.stream(redis::Priority::normal);
  REQUIRE(owner(raw, stream, entry_of((*mine)[2])) == "taker");
  QueueRecord foreign = (*mine)[1];
  foreign.receipt = "7:" + entry_of(foreign);
  QueueRecord garbage = (*mine)[1];
  garbage.receipt = "1:not-an-id";
  const QueueRecord* all[] = {&(*mine)[0], &(*mine)[1], &(*mine)[2], &foreign, &garbage, nullptr};
  auto alive = slow.keep_alive(all);
  REQUIRE(alive.has_value());
  CHECK(*alive == std::vector<bool>{false, true, false, false, false, false});
  CHECK(owner(raw, stream, entry_of((*mine)[2])) == "taker");  // not taken back
  CHECK(owner(raw, stream, entry_of((*mine)[1])) == "slow");
  auto p = raw.command({"XPENDING", stream, "notify", entry_of((*mine)[2]), entry_of((*mine)[2]), "1"});
  CHECK(p->elements[0].elements[3].integer == 2);  // its delivery count is the taker's

  REQUIRE(settle_all(taker, taken).has_value());
  REQUIRE(settle_all(slow, {(*mine)[1]}).has_value());
  CHECK(*slow.pending_count() == 0);
  const QueueRecord* none[] = {nullptr};
  CHECK(*slow.keep_alive(none) == std::vector<bool>{false});
}

TEST_CASE("a consumer's first receive hands out entries delivered to it whose reply never arrived") {
  RedisServer server;
  redis::Queue producer(notify::test::options_for(server), queue_options("producer"));
  REQUIRE(producer.send(bodies({"lost 1", "lost 2"})).has_value());
  // Deliver one to "c1" behind its back, as a read whose reply was lost with the
  // connection, and one to another consumer.
  redis::Connection raw(notify::test::options_for(server));
  REQUIRE(raw.command({"XGROUP", "CREATE", "test", "notify", "0"}).has_value());
  REQUIRE(raw.command({"XREADGROUP", "GROUP", "notify", "c1", "COUNT", "1", "STREAMS", "test", ">"}).has_value());
  REQUIRE(raw.command({"XREADGROUP", "GROUP", "notify", "nobody-else", "COUNT", "1", "STREAMS", "test", ">"}).has_value());
  REQUIRE(producer.send(bodies({"fresh"})).has_value());

  redis::Queue c1(notify::test::options_for(server), queue_options("c1"));  // claim_idle 30 s
  const auto start = Clock::now();
  auto got = c1.receive(10, 0ms);
  REQUIRE(got.has_value());
  REQUIRE(got->size() == 2);
  CHECK((*got)[0].body == "lost 1");  // own pending first, then fresh; not "lost 2" (another's)
  CHECK((*got)[0].receive_count == 2);  // the lost delivery and this one
  CHECK((*got)[1].body == "fresh");
  CHECK((*got)[1].receive_count == 1);
  CHECK(Clock::now() - start < 5s);
  REQUIRE(settle_all(c1, *got).has_value());
  CHECK(c1.receive(10, 0ms)->empty());  // handed out once per connection
}

TEST_CASE("after redis-server is killed and restarted, a consumer gets its own pending entries at once") {
  RedisServer server({.persistent = true, .password = {}, .args = {}});
  auto qo = queue_options("c1");  // claim_idle 30 s: nobody would claim them in this test
  redis::Queue q(notify::test::options_for(server), qo);
  std::vector<std::string> seven;
  for (int i = 0; i < 7; ++i) seven.push_back("p" + std::to_string(i));
  REQUIRE(q.send(seven).has_value());
  auto held = q.receive(5, 1s);
  REQUIRE(held->size() == 5);
  std::set<std::string> receipts;
  for (const QueueRecord& r : *held) receipts.insert(r.receipt);

  server.kill();
  auto down = q.receive(5, 0ms);
  REQUIRE_FALSE(down.has_value());
  CHECK(is_transient(down.error().code));
  server.start();

  // In batches of 2 so recovery goes on across calls; the first three batches are ours.
  const auto start = Clock::now();
  std::vector<QueueRecord> again;
  while (again.size() < 5 && Clock::now() - start < 10s) {
    auto r = q.receive(2, 0ms);
    if (!r) {
      std::this_thread::sleep_for(20ms);
      continue;
    }
    for (QueueRecord& rec : *r) again.push_back(std::move(rec));
  }
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  MESSAGE("own pending entries back " << took.count() << " ms after the restart (claim_idle "
                                      << qo.claim_idle.count() << " ms)");
  CHECK(took < 10s);
  REQUIRE(again.size() >= 5);
  for (std::size_t i = 0; i < 5; ++i) {
    CHECK(receipts.count(again[i].receipt) == 1);  // the same receipts: a holder can drop duplicates
    CHECK(again[i].receive_count == 2);
  }
  auto rest = receive_until(q, 7 - again.size());
  again.insert(again.end(), rest.begin(), rest.end());
  REQUIRE(again.size() == 7);
  REQUIRE(settle_all(q, again).has_value());
  CHECK(*q.pending_count() == 0);
  CHECK(q.receive(10, 0ms)->empty());
}

TEST_CASE("dead_letter_count() counts the dead-letter stream: none at first, each dead letter, less what is redriven") {
  RedisServer server;
  redis::Queue q(notify::test::options_for(server), queue_options("c1"));
  CHECK(*q.dead_letter_count() == 0);  // no stream yet
  REQUIRE(q.send(bodies({"one", "two", "three"})).has_value());
  auto got = q.receive(3, 1s);
  REQUIRE(got->size() == 3);
  REQUIRE(settle_all(q, *got, Outcome{Disposition::dead_letter, 0ms, "bad"}).has_value());
  CHECK(*q.dead_letter_count() == 3);
  CHECK(*q.redrive({}, 2) == 2);
  CHECK(*q.dead_letter_count() == 1);
}

TEST_CASE("dead_letter_count() fails with a transient error when the server cannot be reached") {
  redis::Options o;
  o.port = 1;
  redis::Queue q(o, queue_options("c1"));
  auto n = q.dead_letter_count();
  REQUIRE_FALSE(n.has_value());
  CHECK(is_transient(n.error().code));
}

namespace {

/// The consumers of `stats` by name.
std::vector<std::pair<std::string, std::int64_t>> held_by(const QueueStats& stats) {
  std::vector<std::pair<std::string, std::int64_t>> out;
  for (const QueueStats::Consumer& c : stats.consumers) out.emplace_back(c.name, c.pending);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("stats count what waits, what each consumer holds, the delayed and the dead, in one round trip") {
  RedisServer server;
  redis::Queue a(notify::test::options_for(server), queue_options("c1"));
  redis::Queue b(notify::test::options_for(server), queue_options("c2"));
  redis::Connection raw(notify::test::options_for(server));

  // Nothing there yet: all zero, and asking creates nothing.
  auto empty = a.stats();
  REQUIRE(empty.has_value());
  CHECK(empty->depth == 0);
  CHECK(empty->pending == 0);
  CHECK(empty->delayed == 0);
  CHECK(empty->dead == 0);
  CHECK(empty->oldest_pending_ms == -1);
  CHECK(empty->consumers.empty());
  CHECK(raw.command({"EXISTS", "test", "test:high"})->integer == 0);

  // Before the first receive there is no group: every entry waits.
  REQUIRE(a.send(bodies({"n1", "n2", "n3", "n4", "n5", "n6"})).has_value());
  REQUIRE(a.send(bodies({"h1", "h2"}), redis::Priority::high).has_value());
  CHECK(a.stats()->depth == 8);

  auto first = receive_until(a, 3);
  REQUIRE(first.size() == 3);
  auto second = receive_until(b, 2);
  REQUIRE(second.size() == 2);
  // c1 retries one (a minute from now) and dead-letters another; it keeps the third.
  const Settlement settle[] = {{&first[0], Outcome{Disposition::retry, 60s, "later", false}},
                               {&first[1], Outcome{Disposition::dead_letter, 0ms, "bad", false}}};
  REQUIRE(a.settle(settle).has_value());
  std::this_thread::sleep_for(100ms);

  const auto trips = a.connection().round_trips();
  auto stats = a.stats();
  REQUIRE(stats.has_value());
  CHECK(a.connection().round_trips() == trips + 1);
  CHECK(stats->depth == 3);
  CHECK(stats->pending == 3);
  CHECK(stats->delayed == 1);
  CHECK(stats->dead == 1);
  CHECK(stats->oldest_pending_ms >= 100);
  CHECK(stats->oldest_pending_ms < 10000);
  CHECK(held_by(*stats) == std::vector<std::pair<std::string, std::int64_t>>{{"c1", 1}, {"c2", 2}});
  for (const QueueStats::Consumer& c : stats->consumers) {
    CHECK(c.idle_ms >= 0);
    CHECK(c.idle_ms < 10000);
  }

  // Settled, the consumers hold nothing and drop out of the list.
  REQUIRE(settle_all(a, {first[2]}).has_value());
  REQUIRE(settle_all(b, second).has_value());
  stats = a.stats();
  REQUIRE(stats.has_value());
  CHECK(stats->depth == 3);
  CHECK(stats->pending == 0);
  CHECK(stats->oldest_pending_ms == -1);
  CHECK(stats->consumers.empty());
  CHECK(stats->delayed == 1);
  CHECK(stats->dead == 1);
}

TEST_CASE("stats read the depth from the group's lag when settled entries are kept (Redis 7)") {
  RedisServer server;
  auto qo = queue_options("c1");
  qo.delete_acked = false;  // no XDEL: Redis can always tell the lag
  redis::Queue q(notify::test::options_for(server), qo);
  REQUIRE(q.send(bodies({"a", "b", "c", "d", "e"})).has_value());
  auto got = receive_until(q, 2);
  REQUIRE(got.size() == 2);
  REQUIRE(settle_all(q, {got[0]}).has_value());
  auto stats = q.stats();
  REQUIRE(stats.has_value());
  CHECK(stats->depth == 3);  // XLEN is 5: the acked entry and the held one are not waiting
  CHECK(stats->pending == 1);
  CHECK(held_by(*stats) == std::vector<std::pair<std::string, std::int64_t>>{{"c1", 1}});
}

TEST_CASE("stats count the depth as the stream's length less its pending entries where Redis cannot tell the lag") {
  RedisServer server;
  redis::Queue q(notify::test::options_for(server), queue_options("c1"));
  REQUIRE(q.send(bodies({"a", "b", "c", "d", "e", "f"})).has_value());
  auto got = receive_until(q, 2);
  REQUIRE(got.size() == 2);
  // Acking (and deleting) the last delivered entry while an earlier one is still pending
  // leaves Redis unable to tell the group's lag.
  REQUIRE(settle_all(q, {got[1]}).has_value());
  redis::Connection raw(notify::test::options_for(server));
  auto groups = raw.command({"XINFO", "GROUPS", "test"});
  REQUIRE(groups.has_value());
  const auto& fields = groups->elements.at(0).elements;
  for (std::size_t i = 0; i + 1 < fields.size(); i += 2)
    if (fields[i].str == "lag") CHECK(fields[i + 1].is_nil());
  auto stats = q.stats();
  REQUIRE(stats.has_value());
  CHECK(stats->depth == 4);
  CHECK(stats->pending == 1);
}
