// SPDX-License-Identifier: MIT
// The in-memory transports themselves: the fault-injection tests are only as good as these.

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "notify/memory/memory.hpp"

namespace {

using namespace std::chrono_literals;
namespace mem = notify::memory;
using notify::Disposition;
using notify::Errc;
using notify::Id;

std::vector<notify::QueueRecord> take(mem::Queue& q, std::size_t max = 10) {
  auto r = q.receive(max, 0ms);
  REQUIRE(r);
  return std::move(*r);
}

void settle(mem::Queue& q, const notify::QueueRecord& r, Disposition d, std::chrono::milliseconds delay = 0ms,
            std::string reason = {}) {
  const notify::Settlement s{&r, notify::Outcome{d, delay, std::move(reason)}};
  REQUIRE(q.settle(std::span(&s, 1)));
}

}  // namespace

TEST_CASE("the memory queue hands out records oldest first, up to the batch size, with distinct ids") {
  mem::Queue q;
  const std::vector<std::string> bodies = {"a", "b", "c"};
  REQUIRE(q.send(bodies));
  CHECK(q.ready() == 3);
  CHECK(q.bodies() == bodies);

  const auto first = take(q, 2);
  REQUIRE(first.size() == 2);
  CHECK(first[0].body == "a");
  CHECK(first[1].body == "b");
  CHECK(first[0].id != first[1].id);
  CHECK(first[0].receipt != first[1].receipt);
  CHECK(first[0].receive_count == 1);
  CHECK(first[0].sent_at_ms > 0);
  CHECK(q.ready() == 1);

  const auto rest = take(q);
  REQUIRE(rest.size() == 1);
  CHECK(rest[0].body == "c");
  CHECK(take(q).empty());
}

TEST_CASE("a received record stays invisible and pending until it is settled") {
  mem::Queue q;
  REQUIRE(q.send(std::string("x")));
  const auto batch = take(q);
  REQUIRE(batch.size() == 1);
  CHECK(q.pending() == 1);
  CHECK(q.ready() == 0);
  CHECK(take(q).empty());

  settle(q, batch[0], Disposition::done);
  CHECK(q.pending() == 0);
  CHECK(q.acked() == 1);
  CHECK(take(q).empty());
}

TEST_CASE("a retried record comes back after its delay with its id kept and its receive count raised") {
  mem::Queue q;
  REQUIRE(q.send(std::string("x")));
  const auto first = take(q);
  REQUIRE(first.size() == 1);

  SUBCASE("a long delay keeps it away") {
    settle(q, first[0], Disposition::retry, std::chrono::hours(1));
    CHECK(q.pending() == 1);
    CHECK(take(q).empty());
    CHECK(q.pending() == 1);
  }
  SUBCASE("no delay brings it back at once") {
    settle(q, first[0], Disposition::retry, 0ms);
    const auto second = take(q);
    REQUIRE(second.size() == 1);
    CHECK(second[0].id == first[0].id);
    CHECK(second[0].receipt != first[0].receipt);
    CHECK(second[0].receive_count == 2);
    CHECK(second[0].body == "x");
    CHECK(second[0].sent_at_ms == first[0].sent_at_ms);
  }
  SUBCASE("receive waits for a short delay to pass") {
    settle(q, first[0], Disposition::retry, 5ms);
    auto r = q.receive(10, 10s);  // returns as soon as the record is back
    REQUIRE(r);
    REQUIRE(r->size() == 1);
    CHECK((*r)[0].receive_count == 2);
  }
}

TEST_CASE("a dead-lettered record is kept with its reason and is no longer pending") {
  mem::Queue q;
  REQUIRE(q.send(std::string("poison")));
  auto batch = take(q);
  REQUIRE(batch.size() == 1);
  settle(q, batch[0], Disposition::retry);
  batch = take(q);
  REQUIRE(batch.size() == 1);
  settle(q, batch[0], Disposition::dead_letter, 0ms, "why");

  const auto dead = q.dead_letters();
  REQUIRE(dead.size() == 1);
  CHECK(dead[0].reason == "why");
  CHECK(dead[0].record.body == "poison");
  CHECK(dead[0].record.id == batch[0].id);
  CHECK(dead[0].record.receive_count == 2);
  CHECK(q.pending() == 0);
  CHECK(q.acked() == 0);
  CHECK(take(q).empty());
}

TEST_CASE("unsettled records are redelivered, and a stale receipt settles nothing") {
  mem::Queue q;
  REQUIRE(q.send(std::string("x")));
  const auto first = take(q);
  REQUIRE(first.size() == 1);
  q.redeliver_unsettled();
  CHECK(q.pending() == 0);
  CHECK(q.ready() == 1);

  const auto second = take(q);
  REQUIRE(second.size() == 1);
  CHECK(second[0].receive_count == 2);

  settle(q, first[0], Disposition::done);  // the old delivery's receipt
  CHECK(q.acked() == 0);
  CHECK(q.pending() == 1);
  settle(q, second[0], Disposition::done);
  CHECK(q.acked() == 1);
  CHECK(q.pending() == 0);
}

TEST_CASE("fault injection fails exactly the numbered call, counting every call from 1") {
  mem::Queue q;
  q.faults.fail_call(2, Errc::timeout);
  CHECK(q.send(std::string("a")).has_value());  // call 1
  const auto failed = q.send(std::string("b"));  // call 2
  REQUIRE_FALSE(failed.has_value());
  CHECK(failed.error().code == Errc::timeout);
  CHECK(failed.error().message.find("call 2") != std::string::npos);
  CHECK(q.ready() == 1);  // the failed send added nothing

  const auto r = q.receive(10, 0ms);  // call 3
  REQUIRE(r);
  CHECK(r->size() == 1);
  CHECK(q.faults.calls() == 3);
}

TEST_CASE("fault injection can fail every call until cleared") {
  mem::Queue q;
  q.faults.fail_always(Errc::unavailable);
  for (int i = 0; i < 3; ++i) {
    const auto r = q.receive(10, 0ms);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == Errc::unavailable);
  }
  CHECK(q.faults.calls() == 3);
  q.faults.clear();
  CHECK(q.receive(10, 0ms).has_value());
  CHECK(q.faults.calls() == 4);
}

TEST_CASE("a failing settle leaves the records in flight") {
  mem::Queue q;
  REQUIRE(q.send(std::string("x")));
  const auto batch = take(q);
  REQUIRE(batch.size() == 1);
  q.faults.fail_always();
  const notify::Settlement s{&batch[0], {}};
  CHECK_FALSE(q.settle(std::span(&s, 1)).has_value());
  CHECK(q.acked() == 0);
  CHECK(q.pending() == 1);
}

TEST_CASE("the memory queue is a LeasedQueue whose lease interval is a third of its visibility timeout") {
  static_assert(notify::LeasedQueue<mem::Queue>);
  mem::Queue q;
  CHECK(q.lease_interval() == std::chrono::minutes(1));  // records never become visible again
  q.visibility_timeout = 300ms;
  CHECK(q.lease_interval() == 100ms);
  q.visibility_timeout = 2ms;
  CHECK(q.lease_interval() == 1ms);
}

TEST_CASE("keep_alive keeps a record hidden past its visibility timeout, and once let go it comes back") {
  mem::Queue q;
  q.visibility_timeout = 300ms;
  REQUIRE(q.send(std::string("slow work")));
  const auto held = take(q);
  REQUIRE(held.size() == 1);
  const notify::QueueRecord* records[] = {&held[0]};

  const auto until = mem::Clock::now() + 2 * q.visibility_timeout;
  while (mem::Clock::now() < until) {
    const auto alive = q.keep_alive(records);
    REQUIRE(alive.has_value());
    CHECK(*alive == std::vector<bool>{true});
    CHECK(take(q).empty());
    std::this_thread::sleep_for(30ms);
  }
  CHECK(q.pending() == 1);
  CHECK(q.renewals() >= 5);

  std::this_thread::sleep_for(q.visibility_timeout + 100ms);  // no more renewals
  const auto again = take(q);
  REQUIRE(again.size() == 1);
  CHECK(again[0].id == held[0].id);
  CHECK(again[0].receive_count == 2);
  CHECK(*q.keep_alive(records) == std::vector<bool>{false});  // handed to another receive
  const notify::QueueRecord* both[] = {&held[0], &again[0]};
  CHECK(*q.keep_alive(both) == std::vector<bool>{false, true});
  settle(q, again[0], Disposition::done);
  CHECK(*q.keep_alive(both) == std::vector<bool>{false, false});  // settled
  CHECK(q.acked() == 1);
}

TEST_CASE("a lease that ran out is lost even before another receive takes the record") {
  mem::Queue q;
  q.visibility_timeout = 20ms;
  REQUIRE(q.send(std::string("x")));
  const auto held = take(q);
  REQUIRE(held.size() == 1);
  std::this_thread::sleep_for(60ms);
  const notify::QueueRecord* records[] = {&held[0], nullptr};
  CHECK(*q.keep_alive(records) == std::vector<bool>{false, false});
  CHECK(q.ready() == 1);  // visible again, for anyone
  CHECK(take(q).size() == 1);
}

TEST_CASE("keep_alive without a visibility timeout answers per record, and redelivery or a fault ends the leases") {
  mem::Queue q;
  REQUIRE(q.send(std::vector<std::string>{"a", "b"}));
  const auto held = take(q);
  REQUIRE(held.size() == 2);
  notify::QueueRecord stranger = held[0];
  stranger.receipt = "no such receipt";
  const notify::QueueRecord* records[] = {&held[0], &stranger, &held[1]};
  CHECK(*q.keep_alive(records) == std::vector<bool>{true, false, true});

  q.faults.fail_always(Errc::unavailable);
  const auto failed = q.keep_alive(records);
  REQUIRE_FALSE(failed.has_value());
  CHECK(failed.error().code == Errc::unavailable);
  q.faults.clear();

  q.redeliver_unsettled();
  CHECK(*q.keep_alive(records) == std::vector<bool>{false, false, false});
  CHECK(q.keep_alive(std::span<const notify::QueueRecord* const>{})->empty());
}

TEST_CASE("the memory member store reads families in one call and reports unreadable values") {
  mem::MemberStore s;
  REQUIRE(s.set_member(3, notify::member_v1(1, "엄마", "tok-1", true)));
  REQUIRE(s.set_member(3, notify::member_v1(2, "아빠", "", false)));
  REQUIRE(s.set_member(4, notify::member_v1(7, "할머니", "tok-7", false)));
  s.put_raw(3, "user:9", "{oops");
  s.put_raw(3, "guest", R"({"userName":"x"})");
  s.put_raw(4, "user:8", R"({"userName":"삼촌","fcmToken":"tok-8","mktPushAreed":true})");

  const Id ids[] = {3, 4, 5};
  const auto r = s.families(ids);
  REQUIRE(r);
  CHECK(s.round_trips() == 1);
  CHECK(r->families.size() == 2);  // 5 does not exist
  CHECK(r->families.find(5) == nullptr);
  const notify::Family* f3 = r->families.find(3);
  REQUIRE(f3 != nullptr);
  REQUIRE(f3->members.size() == 2);
  CHECK(f3->find(1)->userName == "엄마");
  CHECK(f3->find(1)->mktPushAgreed);
  CHECK(f3->find(2)->fcm_token().empty());
  const notify::Member* uncle = r->families.find(4)->find(8);
  REQUIRE(uncle != nullptr);
  CHECK(uncle->mktPushAgreed);  // the legacy spelling is read too

  REQUIRE(r->problems.size() == 2);
  std::vector<std::string> paths = {r->problems[0].path, r->problems[1].path};
  std::sort(paths.begin(), paths.end());
  CHECK(paths == std::vector<std::string>{"family:3.guest", "family:3.user:9"});
  for (const notify::Error& e : r->problems) CHECK(e.code == Errc::invalid_member);
}

TEST_CASE("a failed member lookup is not a round trip") {
  mem::MemberStore s;
  s.faults.fail_always(Errc::timeout);
  const Id ids[] = {3};
  const auto r = s.families(ids);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == Errc::timeout);
  CHECK(s.round_trips() == 0);
}

TEST_CASE("the memory member store removes members, families and tokens") {
  mem::MemberStore s;
  REQUIRE(s.set_member(3, notify::member_v1(1, "엄마", "tok-1", false)));
  REQUIRE(s.set_member(3, notify::member_v1(2, "아빠", "tok-2", false)));
  REQUIRE(s.set_member(4, notify::member_v1(7, "할머니", "tok-7", false)));
  const Id ids[] = {3, 4};

  SUBCASE("remove_token clears only a token that still matches") {
    auto stale = s.remove_token(3, 1, "tok-old");
    REQUIRE(stale);
    CHECK_FALSE(*stale);
    auto missing = s.remove_token(3, 99, "tok-1");
    REQUIRE(missing);
    CHECK_FALSE(*missing);
    auto gone_family = s.remove_token(99, 1, "tok-1");
    REQUIRE(gone_family);
    CHECK_FALSE(*gone_family);
    auto cleared = s.remove_token(3, 1, "tok-1");
    REQUIRE(cleared);
    CHECK(*cleared);
    const auto r = s.families(ids);
    REQUIRE(r);
    CHECK(r->families.find(3)->find(1)->fcm_token().empty());
    CHECK(r->families.find(3)->find(1)->userName == "엄마");
    CHECK(r->families.find(3)->find(2)->fcm_token() == "tok-2");
  }
  SUBCASE("removing the last member removes the family") {
    REQUIRE(s.remove_member(4, 7));
    REQUIRE(s.remove_member(3, 1));
    const auto r = s.families(ids);
    REQUIRE(r);
    CHECK(r->families.find(4) == nullptr);
    REQUIRE(r->families.find(3) != nullptr);
    CHECK(r->families.find(3)->members.size() == 1);
  }
  SUBCASE("remove_family removes every member") {
    REQUIRE(s.remove_family(3));
    const auto r = s.families(ids);
    REQUIRE(r);
    CHECK(r->families.find(3) == nullptr);
    CHECK(r->families.find(4) != nullptr);
  }
}

TEST_CASE("the memory push provider records pushes and answers injected statuses per token") {
  mem::PushProvider p;
  const notify::Message m{"우리가 앨범", "사진", {notify::Screen::Photo, notify::LinkKey::photoId, 7}, {}, {}};
  p.fail_token("dead", notify::PushStatus::invalid_token);
  p.fail_token("slow", notify::PushStatus::retry, 30s);
  const notify::Push pushes[] = {{&m, "ok"}, {&m, "dead"}, {&m, "slow"}};

  const auto results = p.send(pushes);
  REQUIRE(results.size() == 3);
  CHECK(results[0].status == notify::PushStatus::sent);
  CHECK(results[1].status == notify::PushStatus::invalid_token);
  CHECK(results[2].status == notify::PushStatus::retry);
  CHECK(results[2].retry_after == 30s);
  REQUIRE(p.sent().size() == 1);
  CHECK(p.sent()[0].token == "ok");
  CHECK(p.sent()[0].screen == "Photo");
  CHECK(p.sent()[0].param == R"({"photoId":7})");
  CHECK(p.count("ok") == 1);
  CHECK(p.count("dead") == 0);

  p.clear_token("slow");
  p.faults.fail_call(2);
  const auto failed = p.send(pushes);  // call 2: every push answers retry
  REQUIRE(failed.size() == 3);
  for (const auto& r : failed) CHECK(r.status == notify::PushStatus::retry);
  CHECK(p.sent().size() == 1);

  const auto third = p.send(pushes);
  CHECK(third[2].status == notify::PushStatus::sent);
  CHECK(p.count("slow") == 1);
}

TEST_CASE("the memory inbox keeps every body, and nothing from a failed call") {
  mem::InboxSink i;
  const std::vector<std::string> one = {"[1]"}, two = {"[2]", "[3]"};
  REQUIRE(i.publish(one));
  i.faults.fail_call(2);
  CHECK_FALSE(i.publish(two).has_value());
  REQUIRE(i.publish(two));
  CHECK(i.published() == std::vector<std::string>{"[1]", "[2]", "[3]"});
}

TEST_CASE("the memory ledger remembers keys until their TTL runs out") {
  mem::IdempotencyStore d;
  const std::vector<std::string> kept = {"a", "b"}, expired = {"c"}, asked = {"a", "c", "z", "b"};
  REQUIRE(d.remember(kept, std::chrono::hours(1)));
  REQUIRE(d.remember(expired, 0s));
  const auto r = d.seen(asked);
  REQUIRE(r);
  CHECK(*r == std::vector<bool>{true, false, false, true});
  CHECK(d.size() == 3);

  d.faults.fail_always();
  CHECK_FALSE(d.seen(asked).has_value());
  CHECK_FALSE(d.remember(asked, 1s).has_value());
  d.faults.clear();
  CHECK(d.size() == 3);
}

TEST_CASE("the memory queue's stats count ready, in flight, delayed and dead records, and the oldest held") {
  mem::Queue q;
  auto empty = q.stats();
  REQUIRE(empty);
  CHECK(empty->depth == 0);
  CHECK(empty->pending == 0);
  CHECK(empty->delayed == 0);
  CHECK(empty->dead == 0);
  CHECK(empty->oldest_pending_ms == -1);
  CHECK(empty->consumers.empty());

  const std::vector<std::string> bodies = {"a", "b", "c", "d", "e", "f"};
  REQUIRE(q.send(bodies));
  const auto first = take(q, 1);
  std::this_thread::sleep_for(30ms);
  const auto more = take(q, 3);
  settle(q, more[0], Disposition::retry, 1h, "later");
  settle(q, more[1], Disposition::dead_letter, 0ms, "bad");
  auto stats = q.stats();
  REQUIRE(stats);
  CHECK(stats->depth == 2);
  CHECK(stats->pending == 2);  // first[0] and more[2]
  CHECK(stats->delayed == 1);
  CHECK(stats->dead == 1);
  CHECK(stats->oldest_pending_ms >= 30);  // first[0], received before the pause
  CHECK(stats->consumers.empty());

  // A retry whose delay ended waits again: depth, not delayed.
  settle(q, first[0], Disposition::retry, 0ms, "now");
  stats = q.stats();
  REQUIRE(stats);
  CHECK(stats->depth == 3);
  CHECK(stats->pending == 1);
  CHECK(stats->delayed == 1);

  q.faults.fail_always();
  CHECK_FALSE(q.stats());
}
