// SPDX-License-Identifier: MIT
// The batch processor against the in-memory transports, with faults injected at every
// step: nothing valid is lost, nothing is pushed twice, the store is read once per batch.

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <nlohmann/json.hpp>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "notify/memory/memory.hpp"
#include "notify/processor.hpp"

namespace {

using namespace std::chrono_literals;
namespace mem = notify::memory;
using notify::Disposition;
using notify::Id;
using notify::Outcome;
using notify::PushStatus;

// Device tokens longer than 12 characters, so short_token keeps 6 + 4 of them.
const std::string mom_token = "token-mom-aaaaaaaaaaaaaaaa-0001";
const std::string dad_token = "token-dad-bbbbbbbbbbbbbbbb-0002";
const std::string kid_token = "token-kid-cccccccccccccccc-0003";

/// An Event with its views copied, so it outlives the callback.
struct Seen {
  std::string step, request, type, token, detail;
};

/// A ledger that counts its calls, to show one seen() round trip per batch.
struct CountingLedger {
  mem::IdempotencyStore inner;
  std::size_t seen_calls = 0;
  std::size_t remember_calls = 0;
  notify::Result<std::vector<bool>> seen(std::span<const std::string> keys) {
    ++seen_calls;
    return inner.seen(keys);
  }
  notify::Result<void> remember(std::span<const std::string> keys, std::chrono::seconds ttl) {
    ++remember_calls;
    return inner.remember(keys, ttl);
  }
};

notify::ProcessorOptions fast_options() {
  notify::ProcessorOptions o;
  o.base_delay = 0ms;
  return o;
}

/// Every in-memory transport, a processor over them, and the events it emitted.
template <class Ledger = mem::IdempotencyStore>
struct BasicRig {
  mem::Queue queue;
  mem::MemberStore store;
  mem::PushProvider pusher;
  mem::InboxSink inbox;
  Ledger ledger;
  std::vector<Seen> events;
  notify::BatchProcessor<mem::MemberStore, mem::PushProvider, mem::InboxSink, Ledger> processor;

  explicit BasicRig(notify::ProcessorOptions options = fast_options())
      : processor(store, pusher, inbox, ledger, std::move(options), [this](const notify::Event& e) {
          events.push_back({std::string(e.step), std::string(e.request), std::string(e.type), std::string(e.token),
                            std::string(e.detail)});
        }) {
    // Family 3: 엄마 (1), 아빠 (2), 민지 (3), each with a device.
    add(3, 1, "엄마", mom_token);
    add(3, 2, "아빠", dad_token);
    add(3, 3, "민지", kid_token);
  }

  void add(Id family, Id user, std::string name, std::string token) {
    REQUIRE(store.set_member(family, notify::member_v1(user, std::move(name), std::move(token), false)));
  }

  void send(const std::string& body) { REQUIRE(queue.send(body)); }

  /// Receives what is ready (waiting up to `wait` for delayed records), processes and settles it.
  std::vector<Outcome> pass(std::size_t max = 10, std::chrono::milliseconds wait = 2000ms) {
    auto batch = queue.receive(max, wait);
    REQUIRE(batch);
    std::vector<Outcome> outcomes = processor.process(*batch);
    REQUIRE(outcomes.size() == batch->size());
    std::vector<notify::Settlement> s;
    for (std::size_t i = 0; i < outcomes.size(); ++i) s.push_back({&(*batch)[i], outcomes[i]});
    REQUIRE(queue.settle(s));
    return outcomes;
  }

  /// The member's token as the store holds it now.
  std::string token_of(Id family, Id user) {
    const Id ids[] = {family};
    auto r = store.families(ids);
    REQUIRE(r);
    const notify::Family* f = r->families.find(family);
    REQUIRE(f != nullptr);
    const notify::Member* m = f->find(user);
    REQUIRE(m != nullptr);
    return std::string(m->fcm_token());
  }

  std::size_t count_events(std::string_view step) const {
    return static_cast<std::size_t>(
        std::count_if(events.begin(), events.end(), [&](const Seen& e) { return e.step == step; }));
  }
};
using Rig = BasicRig<>;

/// COMMENT_MESSAGE by `author` in family 3: the two others get a push and an inbox record.
std::string comment(Id message, Id author = 1, std::string_view id = {}) {
  std::string b = R"({"type":"COMMENT_MESSAGE","param":{"familyId":3,"messageFamId":)" + std::to_string(message) +
                  R"(,"authorId":)" + std::to_string(author) + R"(,"commentPreview":"잘 다녀와"})";
  if (!id.empty()) b += R"(,"id":")" + std::string(id) + '"';
  return b + '}';
}

std::string story(Id family) {
  return R"({"type":"MESSAGE_TODAY","param":{"familyIds":[)" + std::to_string(family) + "]}}";
}

notify::QueueRecord record(std::string body, int receive_count = 1, std::string id = "m1") {
  return notify::QueueRecord{std::move(id), "r-" + std::to_string(receive_count), std::move(body), receive_count, 0, {}};
}

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

}  // namespace

TEST_CASE("a failing push provider makes the record come back later, and the next pass delivers it") {
  notify::ProcessorOptions o;
  o.base_delay = 10ms;
  Rig rig(o);
  rig.pusher.faults.fail_call(1);  // the first send answers "retry" for every push
  rig.send(comment(29001));

  const auto first = rig.pass();
  REQUIRE(first.size() == 1);
  CHECK(first[0].disposition == Disposition::retry);
  CHECK(first[0].delay >= 5ms);  // equal jitter: between half and all of base_delay
  CHECK(first[0].delay <= 10ms);
  CHECK(contains(first[0].reason, "injected failure"));
  CHECK(rig.pusher.sent().empty());
  CHECK(rig.queue.pending() == 1);  // kept, not lost
  CHECK(rig.queue.dead_letters().empty());

  const auto second = rig.pass();
  REQUIRE(second.size() == 1);
  CHECK(second[0].disposition == Disposition::done);
  CHECK(rig.pusher.count(dad_token) == 1);
  CHECK(rig.pusher.count(kid_token) == 1);
  CHECK(rig.pusher.count(mom_token) == 0);  // the author
  CHECK(rig.inbox.published().size() == 1);  // the inbox went out on the first pass, once
  CHECK(rig.queue.acked() == 1);
  CHECK(rig.queue.pending() == 0);
}

TEST_CASE("a retried record is not re-sent to tokens that already got it, the failed token gets it once it recovers") {
  Rig rig;
  rig.pusher.fail_token(kid_token, PushStatus::retry);
  rig.send(comment(29001));

  CHECK(rig.pass()[0].disposition == Disposition::retry);
  CHECK(rig.pusher.count(dad_token) == 1);
  CHECK(rig.pusher.count(kid_token) == 0);

  CHECK(rig.pass()[0].disposition == Disposition::retry);  // still failing
  CHECK(rig.pusher.count(dad_token) == 1);

  rig.pusher.clear_token(kid_token);
  CHECK(rig.pass()[0].disposition == Disposition::done);
  CHECK(rig.pusher.count(dad_token) == 1);
  CHECK(rig.pusher.count(kid_token) == 1);
  CHECK(rig.pusher.sent().size() == 2);
  CHECK(rig.inbox.published().size() == 1);
}

TEST_CASE("a push asking to retry after longer than the backoff gets at least that delay") {
  notify::ProcessorOptions o;
  o.base_delay = 1ms;
  Rig rig(o);
  rig.pusher.fail_token(kid_token, PushStatus::retry, 90s);
  const notify::QueueRecord r = record(comment(29001));
  const auto out = rig.processor.process(std::span(&r, 1));
  REQUIRE(out.size() == 1);
  CHECK(out[0].disposition == Disposition::retry);
  CHECK(out[0].delay >= 90s);
}

TEST_CASE("the retry delay doubles with each delivery and is capped at max_delay") {
  notify::ProcessorOptions o;
  o.base_delay = 100ms;
  o.max_delay = 1000ms;
  o.max_deliveries = 100;
  Rig rig(o);
  rig.store.faults.fail_always(notify::Errc::unavailable);
  struct Case {
    int receive_count;
    std::chrono::milliseconds full;
  };
  for (const Case c : {Case{1, 100ms}, Case{2, 200ms}, Case{3, 400ms}, Case{4, 800ms}, Case{5, 1000ms},
                       Case{40, 1000ms}}) {
    CAPTURE(c.receive_count);
    const notify::QueueRecord r = record(comment(29001), c.receive_count);
    const auto out = rig.processor.process(std::span(&r, 1));
    REQUIRE(out.size() == 1);
    CHECK(out[0].disposition == Disposition::retry);
    CHECK(out[0].delay >= c.full / 2);
    CHECK(out[0].delay <= c.full);
  }
}

TEST_CASE("a malformed record is dead-lettered with its validation errors while the rest of its batch proceeds") {
  Rig rig;
  rig.send(comment(1));
  rig.send(R"({"type":"COMMENT_MESSAGE","param":{"familyId":"3","messageFamId":2,"authorId":1}})");
  rig.send(comment(3));

  const auto out = rig.pass();
  REQUIRE(out.size() == 3);
  CHECK(out[0].disposition == Disposition::done);
  CHECK(out[1].disposition == Disposition::dead_letter);
  CHECK(out[2].disposition == Disposition::done);

  const auto reason = nlohmann::json::parse(out[1].reason, nullptr, false);
  REQUIRE(reason.is_array());
  REQUIRE(reason.size() == 1);
  CHECK(reason[0]["path"] == "param.familyId");
  CHECK(reason[0]["code"] == "expected_integer");
  CHECK(reason[0]["message"].is_string());

  const auto dead = rig.queue.dead_letters();
  REQUIRE(dead.size() == 1);
  CHECK(dead[0].reason == out[1].reason);
  CHECK(contains(dead[0].record.body, R"("familyId":"3")"));
  CHECK(rig.pusher.count(dad_token) == 2);  // messages 1 and 3
  CHECK(rig.pusher.count(kid_token) == 2);
  CHECK(rig.inbox.published().size() == 2);
  CHECK(rig.queue.acked() == 2);
}

TEST_CASE("a batch of only malformed records touches no transport") {
  Rig rig;
  const std::size_t store_calls = rig.store.faults.calls();
  const notify::QueueRecord batch[] = {record("not json", 1, "m1"), record(R"({"type":"NOPE","param":{}})", 1, "m2")};
  const auto out = rig.processor.process(batch);
  REQUIRE(out.size() == 2);
  CHECK(out[0].disposition == Disposition::dead_letter);
  CHECK(out[1].disposition == Disposition::dead_letter);
  CHECK(contains(out[0].reason, "invalid_json"));
  CHECK(contains(out[1].reason, "unknown_type"));
  CHECK(rig.store.faults.calls() == store_calls);
  CHECK(rig.ledger.faults.calls() == 0);
  CHECK(rig.pusher.faults.calls() == 0);
  CHECK(rig.inbox.faults.calls() == 0);
}

TEST_CASE("a batch of 10 records reads the member store once and checks the ledger once") {
  BasicRig<CountingLedger> rig;
  for (Id family = 10; family < 20; ++family) {
    rig.add(family, 1, "엄마", "token-family-" + std::to_string(family) + "-mom-xxxxxx");
    rig.add(family, 2, "아빠", "token-family-" + std::to_string(family) + "-dad-xxxxxx");
  }
  for (Id family = 10; family < 20; ++family) rig.send(story(family));
  REQUIRE(rig.store.round_trips() == 0);

  const auto out = rig.pass(10);
  REQUIRE(out.size() == 10);
  for (const Outcome& o : out) CHECK(o.disposition == Disposition::done);
  CHECK(rig.store.round_trips() == 1);
  CHECK(rig.ledger.seen_calls == 1);
  CHECK(rig.ledger.remember_calls == 1);
  CHECK(rig.pusher.faults.calls() == 1);  // one send call for the 20 pushes
  CHECK(rig.pusher.sent().size() == 20);
  CHECK(rig.pusher.count("token-family-15-dad-xxxxxx") == 1);
}

TEST_CASE("with the member store down every valid record is retried and an invalid one is still dead-lettered") {
  Rig rig;
  rig.store.faults.fail_always(notify::Errc::unavailable);
  rig.send(comment(1));
  rig.send(R"({"type":"COMMENT_MESSAGE","param":{}})");
  rig.send(story(3));

  const auto out = rig.pass();
  REQUIRE(out.size() == 3);
  CHECK(out[0].disposition == Disposition::retry);
  CHECK(out[1].disposition == Disposition::dead_letter);
  CHECK(out[2].disposition == Disposition::retry);
  CHECK(contains(out[0].reason, "families: injected failure"));
  CHECK_FALSE(rig.processor.fatal().has_value());  // transient: the worker keeps going
  CHECK(rig.pusher.sent().empty());
  CHECK(rig.inbox.published().empty());
  CHECK(rig.queue.pending() == 2);

  rig.store.faults.clear();
  const auto again = rig.pass();
  REQUIRE(again.size() == 2);
  CHECK(again[0].disposition == Disposition::done);
  CHECK(again[1].disposition == Disposition::done);
  CHECK(rig.pusher.count(dad_token) == 2);
  CHECK(rig.pusher.count(mom_token) == 1);
}

TEST_CASE("a member store error that retrying cannot fix stops the worker and keeps the records") {
  Rig rig;
  rig.store.faults.fail_always(notify::Errc::unauthenticated);
  const notify::QueueRecord r = record(comment(1));
  const auto out = rig.processor.process(std::span(&r, 1));
  REQUIRE(out.size() == 1);
  CHECK(out[0].disposition == Disposition::retry);
  REQUIRE(rig.processor.fatal().has_value());
  CHECK(rig.processor.fatal()->code == notify::Errc::unauthenticated);
}

TEST_CASE("a failing ledger lookup retries the record and pushes nothing") {
  Rig rig;
  rig.ledger.faults.fail_call(1);
  rig.send(comment(1));

  const auto out = rig.pass();
  REQUIRE(out.size() == 1);
  CHECK(out[0].disposition == Disposition::retry);
  CHECK(contains(out[0].reason, "seen: injected failure"));
  CHECK(rig.pusher.faults.calls() == 0);
  CHECK(rig.inbox.published().empty());

  CHECK(rig.pass()[0].disposition == Disposition::done);
  CHECK(rig.pusher.count(dad_token) == 1);
  CHECK(rig.pusher.count(kid_token) == 1);
  CHECK(rig.inbox.published().size() == 1);
}

TEST_CASE("a failing inbox publish retries the record without repeating its pushes, the inbox goes out once") {
  Rig rig;
  rig.inbox.faults.fail_call(1);
  rig.send(comment(1));

  const auto out = rig.pass();
  REQUIRE(out.size() == 1);
  CHECK(out[0].disposition == Disposition::retry);
  CHECK(contains(out[0].reason, "inbox: "));
  CHECK(rig.pusher.count(dad_token) == 1);
  CHECK(rig.pusher.count(kid_token) == 1);
  CHECK(rig.inbox.published().empty());

  CHECK(rig.pass()[0].disposition == Disposition::done);
  CHECK(rig.pusher.count(dad_token) == 1);
  CHECK(rig.pusher.count(kid_token) == 1);
  REQUIRE(rig.inbox.published().size() == 1);
  const auto records = nlohmann::json::parse(rig.inbox.published()[0], nullptr, false);
  REQUIRE(records.is_array());
  CHECK(records.size() == 2);  // 아빠 and 민지

  rig.queue.redeliver_unsettled();
  CHECK(rig.queue.ready() == 0);  // nothing left to come back
  CHECK(rig.inbox.faults.calls() == 2);
}

TEST_CASE("an invalid token is removed from the member store and the record is done") {
  Rig rig;
  rig.pusher.fail_token(kid_token, PushStatus::invalid_token);
  rig.send(comment(1));

  const auto out = rig.pass();
  REQUIRE(out.size() == 1);
  CHECK(out[0].disposition == Disposition::done);
  CHECK(rig.token_of(3, 3).empty());
  CHECK(rig.token_of(3, 2) == dad_token);
  CHECK(rig.token_of(3, 1) == mom_token);
  CHECK(rig.pusher.count(dad_token) == 1);
  CHECK(rig.count_events("invalid_token") == 1);
  CHECK(rig.queue.pending() == 0);

  // The next request no longer tries the dead token at all.
  rig.pusher.clear_token(kid_token);
  rig.send(comment(2));
  CHECK(rig.pass()[0].disposition == Disposition::done);
  CHECK(rig.pusher.count(kid_token) == 0);
  CHECK(rig.pusher.count(dad_token) == 2);
}

namespace {
/// A provider during whose send the app registers a new token for 민지, as if the main
/// API wrote it between the member lookup and the provider's "invalid token" answer.
struct TokenChangingPusher {
  mem::PushProvider& inner;
  mem::MemberStore& store;
  std::vector<notify::PushResult> send(std::span<const notify::Push> pushes) {
    REQUIRE(store.set_member(3, notify::member_v1(3, "민지", "token-kid-brand-new-device-9999", false)));
    return inner.send(pushes);
  }
};
}  // namespace

TEST_CASE("a token changed since the lookup is not cleared when the old one turns out invalid") {
  mem::MemberStore store;
  mem::PushProvider inner;
  mem::InboxSink inbox;
  mem::IdempotencyStore ledger;
  REQUIRE(store.set_member(3, notify::member_v1(1, "엄마", mom_token, false)));
  REQUIRE(store.set_member(3, notify::member_v1(3, "민지", kid_token, false)));
  inner.fail_token(kid_token, PushStatus::invalid_token);
  TokenChangingPusher pusher{inner, store};
  notify::BatchProcessor processor(store, pusher, inbox, ledger, fast_options());

  const notify::QueueRecord r = record(comment(1));
  const auto out = processor.process(std::span(&r, 1));
  REQUIRE(out.size() == 1);
  CHECK(out[0].disposition == Disposition::done);

  const Id ids[] = {3};
  auto after = store.families(ids);
  REQUIRE(after);
  const notify::Member* kid = after->families.find(3)->find(3);
  REQUIRE(kid != nullptr);
  CHECK(kid->fcm_token() == "token-kid-brand-new-device-9999");
}

TEST_CASE("a permanently failed push dead-letters the record with the reason, other tokens are still sent") {
  Rig rig;
  rig.pusher.fail_token(kid_token, PushStatus::failed);
  rig.send(comment(1));

  const auto out = rig.pass();
  REQUIRE(out.size() == 1);
  CHECK(out[0].disposition == Disposition::dead_letter);
  CHECK(contains(out[0].reason, "push failed"));
  CHECK(contains(out[0].reason, "injected failed"));
  CHECK(rig.pusher.count(dad_token) == 1);
  CHECK(rig.inbox.published().size() == 1);
  const auto dead = rig.queue.dead_letters();
  REQUIRE(dead.size() == 1);
  CHECK(dead[0].reason == out[0].reason);
  CHECK(rig.count_events("push_failed") == 1);
}

TEST_CASE("a fatal push answer flags the processor and keeps the record for later") {
  Rig rig;
  rig.pusher.fail_token(kid_token, PushStatus::fatal);
  const notify::QueueRecord r = record(comment(1));

  const auto out = rig.processor.process(std::span(&r, 1));
  REQUIRE(out.size() == 1);
  CHECK(out[0].disposition == Disposition::retry);
  REQUIRE(rig.processor.fatal().has_value());
  CHECK(rig.processor.fatal()->code == notify::Errc::configuration);
  CHECK(rig.pusher.count(dad_token) == 1);

  // The flag belongs to one batch: the next clean batch clears it.
  rig.pusher.clear_token(kid_token);
  const notify::QueueRecord again = record(comment(1), 2);
  const auto out2 = rig.processor.process(std::span(&again, 1));
  CHECK(out2[0].disposition == Disposition::done);
  CHECK_FALSE(rig.processor.fatal().has_value());
  CHECK(rig.pusher.count(dad_token) == 1);
  CHECK(rig.pusher.count(kid_token) == 1);
}

TEST_CASE("a record still failing after max_deliveries is dead-lettered as given up") {
  Rig rig;
  rig.pusher.fail_token(kid_token, PushStatus::retry);  // this record's own failure: 아빠 still gets it
  rig.send(comment(1));

  for (int delivery = 1; delivery < 5; ++delivery) {
    CAPTURE(delivery);
    const auto out = rig.pass();
    REQUIRE(out.size() == 1);
    CHECK(out[0].disposition == Disposition::retry);
    CHECK_FALSE(out[0].outage);
  }
  const auto last = rig.pass();
  REQUIRE(last.size() == 1);
  CHECK(last[0].disposition == Disposition::dead_letter);
  CHECK(contains(last[0].reason, "gave up after 5 deliveries: injected retry"));
  const auto dead = rig.queue.dead_letters();
  REQUIRE(dead.size() == 1);
  CHECK(dead[0].record.receive_count == 5);
  CHECK(rig.queue.pending() == 0);
  CHECK(rig.pusher.count(dad_token) == 1);  // once, not once per delivery
  CHECK(rig.pusher.count(kid_token) == 0);
  CHECK(rig.inbox.published().size() == 1);
}

TEST_CASE("an outage is retried however many deliveries it lasts, flagged as one, and never dead-lettered") {
  notify::ProcessorOptions o = fast_options();
  o.max_deliveries = 3;
  Rig rig(o);
  SUBCASE("the push provider is down: every push answers retry") { rig.pusher.faults.fail_always(); }
  SUBCASE("every push answers fatal") {
    rig.pusher.fail_token(dad_token, PushStatus::fatal);
    rig.pusher.fail_token(kid_token, PushStatus::fatal);
  }
  SUBCASE("the member store is down") { rig.store.faults.fail_always(); }
  SUBCASE("the member store rejects our credentials") { rig.store.faults.fail_always(notify::Errc::unauthenticated); }
  SUBCASE("the ledger is down") { rig.ledger.faults.fail_always(); }
  SUBCASE("the inbox is down") { rig.inbox.faults.fail_always(); }
  rig.send(comment(1));

  for (int delivery = 1; delivery <= 10; ++delivery) {
    CAPTURE(delivery);
    const auto out = rig.pass();
    REQUIRE(out.size() == 1);
    CHECK(out[0].disposition == Disposition::retry);
    CHECK(out[0].outage);
  }
  CHECK(rig.queue.dead_letters().empty());
  CHECK(rig.queue.pending() == 1);

  // Over: delivered, and each push once.
  rig.pusher.clear_token(dad_token);
  rig.pusher.clear_token(kid_token);
  rig.pusher.faults.clear();
  rig.store.faults.clear();
  rig.ledger.faults.clear();
  rig.inbox.faults.clear();
  const auto out = rig.pass();
  REQUIRE(out.size() == 1);
  CHECK(out[0].disposition == Disposition::done);
  CHECK(rig.pusher.count(dad_token) == 1);
  CHECK(rig.pusher.count(kid_token) == 1);
  CHECK(rig.inbox.published().size() == 1);
  CHECK(rig.queue.acked() == 1);
}

TEST_CASE("an outage at any delivery count is retried, not dead-lettered") {
  Rig rig;
  rig.pusher.faults.fail_always();
  for (int count : {1, 5, 6, 40}) {
    CAPTURE(count);
    const notify::QueueRecord r = record(comment(1), count);
    const auto out = rig.processor.process(std::span(&r, 1));
    REQUIRE(out.size() == 1);
    CHECK(out[0].disposition == Disposition::retry);
    CHECK(out[0].outage);
    CHECK(contains(out[0].reason, "injected failure"));
  }
}

TEST_CASE("deliveries lost to an outage do not use up a record's own retries") {
  notify::ProcessorOptions o = fast_options();
  o.max_deliveries = 3;
  Rig rig(o);
  rig.pusher.faults.fail_always();
  rig.send(comment(1));
  for (int delivery = 1; delivery <= 4; ++delivery) CHECK(rig.pass()[0].outage);

  // The provider is back, but one token keeps failing: three deliveries of its own.
  rig.pusher.faults.clear();
  rig.pusher.fail_token(kid_token, PushStatus::retry);
  for (int own = 1; own < 3; ++own) {
    CAPTURE(own);
    const auto out = rig.pass();
    CHECK(out[0].disposition == Disposition::retry);
    CHECK_FALSE(out[0].outage);
  }
  const auto last = rig.pass();
  CHECK(last[0].disposition == Disposition::dead_letter);
  CHECK(contains(last[0].reason, "gave up after 3 deliveries (and 4 in outages): injected retry"));
  const auto dead = rig.queue.dead_letters();
  REQUIRE(dead.size() == 1);
  CHECK(dead[0].record.receive_count == 7);
  CHECK(rig.pusher.count(dad_token) == 1);
}

TEST_CASE("a push failing for one record while others of the batch go out is that record's failure, not an outage") {
  Rig rig;
  rig.add(7, 1, "할머니", "token-grandma-ffffffff-0004");
  rig.add(7, 2, "할아버지", "token-grandpa-gggggggg-0005");
  rig.pusher.fail_token("token-grandpa-gggggggg-0005", PushStatus::retry);
  const notify::QueueRecord batch[] = {record(comment(1), 1, "m1"),
                                       record(R"({"type":"EMOTION_CHOSEN","param":{"familyId":7,"userId":1}})", 1, "m2")};
  const auto out = rig.processor.process(batch);
  REQUIRE(out.size() == 2);
  CHECK(out[0].disposition == Disposition::done);
  CHECK(out[1].disposition == Disposition::retry);
  CHECK_FALSE(out[1].outage);
}

TEST_CASE("a crash before settling redelivers the record and the ledger prevents duplicates") {
  Rig rig;
  rig.send(comment(1));
  auto batch = rig.queue.receive(10, 0ms);
  REQUIRE(batch);
  REQUIRE(batch->size() == 1);
  CHECK(rig.processor.process(*batch)[0].disposition == Disposition::done);
  // ... and the worker dies here, before settle.
  rig.queue.redeliver_unsettled();

  const auto out = rig.pass();
  REQUIRE(out.size() == 1);
  CHECK(out[0].disposition == Disposition::done);
  CHECK(rig.pusher.count(dad_token) == 1);
  CHECK(rig.pusher.count(kid_token) == 1);
  CHECK(rig.inbox.published().size() == 1);
  CHECK(rig.count_events("already_sent") == 2);
  CHECK(rig.queue.acked() == 1);
}

TEST_CASE("the same token in two different messages of one request gets both, each once") {
  Rig rig;
  // Two capsules for 아빠 (2), from 엄마 and from 민지: two messages to the same token.
  const std::string body =
      R"({"type":"TIMECAPSULE_OPEN","param":{"timaCapsules":[)"
      R"({"letterId":10,"receiverId":2,"senderId":1,"familyId":3},)"
      R"({"letterId":11,"receiverId":2,"senderId":3,"familyId":3}]}})";
  rig.send(body);
  auto batch = rig.queue.receive(10, 0ms);
  REQUIRE(batch);
  CHECK(rig.processor.process(*batch)[0].disposition == Disposition::done);
  rig.queue.redeliver_unsettled();  // and once more, to see the ledger tell them apart
  CHECK(rig.pass()[0].disposition == Disposition::done);

  CHECK(rig.pusher.count(dad_token) == 2);
  CHECK(rig.pusher.count(mom_token) == 1);
  CHECK(rig.pusher.count(kid_token) == 1);
  std::vector<std::string> dad_params;
  for (const auto& s : rig.pusher.sent())
    if (s.token == dad_token) dad_params.push_back(s.param);
  std::sort(dad_params.begin(), dad_params.end());
  CHECK(dad_params == std::vector<std::string>{R"({"letterId":10})", R"({"letterId":11})"});

  notify::Message a{"t", "b", {notify::Screen::LetterReceived, notify::LinkKey::letterId, 10}, {}, {}};
  notify::Message b = a;
  b.link.id = 11;
  CHECK(notify::delivery_key("req", a, dad_token) != notify::delivery_key("req", b, dad_token));
  CHECK(notify::delivery_key("req", a, dad_token) == notify::delivery_key("req", a, dad_token));
  CHECK(notify::delivery_key("req", a, dad_token) != notify::delivery_key("req", a, kid_token));
  CHECK(notify::delivery_key("req", a, dad_token) != notify::delivery_key("req2", a, dad_token));
}

TEST_CASE("a request sent twice with the same envelope id is pushed once") {
  Rig rig;
  const std::string body = comment(1, 1, "comment-29001-v1");

  SUBCASE("in two batches") {
    rig.send(body);
    rig.send(body);
    CHECK(rig.pass(1)[0].disposition == Disposition::done);
    CHECK(rig.pass(1)[0].disposition == Disposition::done);
  }
  SUBCASE("in one batch") {
    rig.send(body);
    rig.send(body);
    const auto out = rig.pass(10);
    REQUIRE(out.size() == 2);
    CHECK(out[0].disposition == Disposition::done);
    CHECK(out[1].disposition == Disposition::done);
  }
  CHECK(rig.queue.acked() == 2);
  CHECK(rig.pusher.count(dad_token) == 1);
  CHECK(rig.pusher.count(kid_token) == 1);
  CHECK(rig.inbox.published().size() == 1);
}

TEST_CASE("without an envelope id two equal bodies are two requests and both are pushed") {
  Rig rig;
  rig.send(comment(1));
  rig.send(comment(1));
  const auto out = rig.pass();
  REQUIRE(out.size() == 2);
  CHECK(rig.pusher.count(dad_token) == 2);
  CHECK(rig.inbox.published().size() == 2);
}

TEST_CASE("a duplicate in one batch retries together with the copy that attempted its deliveries") {
  Rig rig;
  rig.pusher.fail_token(kid_token, PushStatus::retry);
  const std::string body = comment(1, 1, "comment-29001-v1");
  rig.send(body);
  rig.send(body);
  const auto out = rig.pass();
  REQUIRE(out.size() == 2);
  CHECK(out[0].disposition == Disposition::retry);
  CHECK(out[1].disposition == Disposition::retry);  // not acked while its twin's delivery is still owed
  CHECK(out[1].reason == out[0].reason);
  CHECK_FALSE(out[1].outage);
  CHECK(rig.pusher.count(dad_token) == 1);
  CHECK(rig.pusher.faults.calls() == 1);
  CHECK(rig.queue.pending() == 2);

  rig.pusher.clear_token(kid_token);
  while (rig.queue.pending() > 0) rig.pass();
  CHECK(rig.queue.acked() == 2);
  CHECK(rig.queue.dead_letters().empty());
  CHECK(rig.pusher.count(dad_token) == 1);
  CHECK(rig.pusher.count(kid_token) == 1);
  CHECK(rig.inbox.published().size() == 1);
}

TEST_CASE("a duplicate in one batch shares its twin's outage and is not dead-lettered for it") {
  Rig rig;
  rig.pusher.faults.fail_always();
  const std::string body = comment(1, 1, "comment-29001-v1");
  const notify::QueueRecord batch[] = {record(body, 1, "m1"), record(body, 9, "m2")};
  const auto out = rig.processor.process(batch);
  REQUIRE(out.size() == 2);
  CHECK(out[0].disposition == Disposition::retry);
  CHECK(out[0].outage);
  CHECK(out[1].disposition == Disposition::retry);  // past max_deliveries, but the failure is an outage
  CHECK(out[1].outage);
}

TEST_CASE("a duplicate in one batch is done when its first copy has nothing left to retry") {
  Rig rig;
  rig.pusher.fail_token(kid_token, PushStatus::failed);
  const std::string body = comment(1, 1, "comment-29001-v1");
  const notify::QueueRecord batch[] = {record(body, 1, "m1"), record(body, 1, "m2")};
  const auto out = rig.processor.process(batch);
  REQUIRE(out.size() == 2);
  CHECK(out[0].disposition == Disposition::dead_letter);  // the copy that met the failure keeps the reason
  CHECK(out[1].disposition == Disposition::done);
  CHECK(rig.pusher.count(dad_token) == 1);
}

TEST_CASE("stored member values that cannot be read are skipped and the others are still notified") {
  Rig rig;
  rig.store.put_raw(3, "user:4", "{not json");
  rig.store.put_raw(3, "user:5", R"({"fcmToken":"token-nameless-dddddddd-0005"})");
  rig.store.put_raw(3, "owner", R"({"userName":"x","fcmToken":"token-bad-field-eeeeeeee"})");
  rig.send(comment(1));

  const auto out = rig.pass();
  REQUIRE(out.size() == 1);
  CHECK(out[0].disposition == Disposition::done);
  CHECK(rig.pusher.count(dad_token) == 1);
  CHECK(rig.pusher.count(kid_token) == 1);
  CHECK(rig.pusher.count("token-nameless-dddddddd-0005") == 0);
  CHECK(rig.pusher.count("token-bad-field-eeeeeeee") == 0);
  CHECK(rig.count_events("member_skipped") == 3);
  bool saw_path = false;
  for (const Seen& e : rig.events) saw_path |= e.step == "member_skipped" && e.request == "family:3.user:4";
  CHECK(saw_path);
}

TEST_CASE("each step emits an event and device tokens appear only shortened") {
  Rig rig;
  rig.pusher.fail_token(kid_token, PushStatus::invalid_token);
  rig.add(3, 4, "할머니", "token-grandma-ffffffff-0004");
  rig.pusher.fail_token("token-grandma-ffffffff-0004", PushStatus::retry);
  rig.send(comment(1, 1, "comment-7"));
  rig.send("{broken");

  const auto out = rig.pass();
  REQUIRE(out.size() == 2);
  CHECK(out[0].disposition == Disposition::retry);
  CHECK(out[1].disposition == Disposition::dead_letter);

  for (std::string_view step :
       {"received", "planned", "sent", "invalid_token", "push_retry", "inbox_published", "retry", "invalid", "dead_letter"}) {
    CAPTURE(step);
    CHECK(rig.count_events(step) >= 1);
  }
  bool dad_sent = false;
  for (const Seen& e : rig.events) {
    CAPTURE(e.step);
    for (const std::string& full : {mom_token, dad_token, kid_token, std::string("token-grandma-ffffffff-0004")}) {
      CHECK_FALSE(contains(e.step, full));
      CHECK_FALSE(contains(e.request, full));
      CHECK_FALSE(contains(e.token, full));
      CHECK_FALSE(contains(e.detail, full));
    }
    if (e.step == "sent" && e.token == notify::short_token(dad_token)) {
      dad_sent = true;
      CHECK(e.request == "comment-7");  // the envelope id names the request
      CHECK(e.type == "COMMENT_MESSAGE");
    }
    if (e.step == "invalid" || (e.step == "dead_letter" && e.type.empty())) CHECK(e.request == "m2");  // the queue id
  }
  CHECK(dad_sent);
  CHECK(notify::short_token(dad_token) == "token-...0002");

  // The retried record, delivered later, says so as well.
  rig.pusher.clear_token("token-grandma-ffffffff-0004");
  rig.events.clear();
  CHECK(rig.pass()[0].disposition == Disposition::done);
  CHECK(rig.count_events("already_sent") == 1);  // 아빠 (민지's token is gone)
  CHECK(rig.count_events("sent") == 1);          // 할머니
  CHECK(rig.count_events("done") == 1);
}

namespace {
/// An inbox sink whose publish kills the worker (an exception nobody catches), to see
/// what a crash between the pushes and the inbox leaves behind.
struct CrashingInbox {
  mem::InboxSink inner;
  bool crash = true;
  notify::Result<void> publish(std::span<const std::string> bodies) {
    if (crash) throw std::runtime_error("worker killed during the inbox publish");
    return inner.publish(bodies);
  }
};

/// A ledger whose seen() answers one key too few or too many.
struct MiscountingLedger {
  mem::IdempotencyStore inner;
  int off_by = -1;
  notify::Result<std::vector<bool>> seen(std::span<const std::string> keys) {
    auto r = inner.seen(keys);
    if (r && off_by < 0 && !r->empty()) r->pop_back();
    if (r && off_by > 0) r->push_back(false);
    return r;
  }
  notify::Result<void> remember(std::span<const std::string> keys, std::chrono::seconds ttl) {
    return inner.remember(keys, ttl);
  }
};
}  // namespace

TEST_CASE("push markers are stored before the inbox publish: a worker killed there repeats no push") {
  mem::Queue queue;
  mem::MemberStore store;
  mem::PushProvider pusher;
  CrashingInbox inbox;
  mem::IdempotencyStore ledger;
  REQUIRE(store.set_member(3, notify::member_v1(1, "엄마", mom_token, false)));
  REQUIRE(store.set_member(3, notify::member_v1(2, "아빠", dad_token, false)));
  REQUIRE(store.set_member(3, notify::member_v1(3, "민지", kid_token, false)));
  REQUIRE(queue.send(comment(1)));

  {
    notify::BatchProcessor dying(store, pusher, inbox, ledger, fast_options());
    auto batch = queue.receive(10, 0ms);
    REQUIRE(batch);
    CHECK_THROWS(dying.process(*batch));
  }
  CHECK(pusher.count(dad_token) == 1);
  CHECK(pusher.count(kid_token) == 1);
  CHECK(ledger.size() == 2);  // both pushes remembered before the crash

  // Another worker gets the record: the inbox goes out, no push is repeated.
  queue.redeliver_unsettled();
  inbox.crash = false;
  notify::BatchProcessor next(store, pusher, inbox, ledger, fast_options());
  auto batch = queue.receive(10, 0ms);
  REQUIRE(batch);
  REQUIRE(batch->size() == 1);
  const auto out = next.process(*batch);
  CHECK(out[0].disposition == Disposition::done);
  CHECK(pusher.count(dad_token) == 1);
  CHECK(pusher.count(kid_token) == 1);
  CHECK(inbox.inner.published().size() == 1);
}

TEST_CASE("two different requests that share an envelope id both get their pushes and their inbox") {
  Rig rig;
  rig.send(comment(29001, 1, "same-id"));
  rig.send(comment(29002, 1, "same-id"));
  SUBCASE("in one batch") {
    const auto out = rig.pass(10);
    REQUIRE(out.size() == 2);
    CHECK(out[0].disposition == Disposition::done);
    CHECK(out[1].disposition == Disposition::done);
  }
  SUBCASE("in two batches") {
    CHECK(rig.pass(1)[0].disposition == Disposition::done);
    CHECK(rig.pass(1)[0].disposition == Disposition::done);
  }
  CHECK(rig.pusher.count(dad_token) == 2);
  CHECK(rig.pusher.count(kid_token) == 2);
  CHECK(rig.inbox.published().size() == 2);
  CHECK(rig.count_events("already_sent") == 0);

  CHECK(notify::inbox_key("e:a", "[1]") != notify::inbox_key("e:a", "[2]"));
  CHECK(notify::inbox_key("e:a", "[1]") == notify::inbox_key("e:a", "[1]"));
  CHECK(notify::inbox_key("e:a", "[1]") != notify::inbox_key("e:b", "[1]"));
}

TEST_CASE("an envelope id equal to another record's queue id does not share its markers") {
  Rig rig;
  rig.send(comment(1));             // no envelope id: keyed by its queue id, m1
  rig.send(comment(1, 1, "m1"));    // the same content, with envelope id "m1"
  SUBCASE("in one batch") { CHECK(rig.pass(10).size() == 2); }
  SUBCASE("in two batches") {
    CHECK(rig.pass(1)[0].disposition == Disposition::done);
    CHECK(rig.pass(1)[0].disposition == Disposition::done);
  }
  CHECK(rig.queue.acked() == 2);
  CHECK(rig.pusher.count(dad_token) == 2);
  CHECK(rig.pusher.count(kid_token) == 2);
  CHECK(rig.inbox.published().size() == 2);
}

TEST_CASE("a record with neither an envelope id nor a queue id never meets another record's markers") {
  Rig rig;
  const notify::QueueRecord r = record(comment(1), 1, "");
  CHECK(rig.processor.process(std::span(&r, 1))[0].disposition == Disposition::done);
  CHECK(rig.processor.process(std::span(&r, 1))[0].disposition == Disposition::done);
  // A restarted worker as well.
  notify::BatchProcessor restarted(rig.store, rig.pusher, rig.inbox, rig.ledger, fast_options());
  CHECK(restarted.process(std::span(&r, 1))[0].disposition == Disposition::done);
  const notify::QueueRecord two[] = {r, r};
  for (const Outcome& o : restarted.process(two)) CHECK(o.disposition == Disposition::done);
  CHECK(rig.pusher.count(dad_token) == 5);
  CHECK(rig.inbox.published().size() == 5);
  CHECK(rig.ledger.faults.calls() == 0);  // nothing to look up or remember for it
  CHECK(rig.ledger.size() == 0);
}

TEST_CASE("a ledger answer of the wrong size retries the batch as an outage and pushes nothing") {
  BasicRig<MiscountingLedger> rig;
  SUBCASE("too few") { rig.ledger.off_by = -1; }
  SUBCASE("too many") { rig.ledger.off_by = 1; }
  rig.send(comment(1));
  rig.send(story(3));
  const auto out = rig.pass();
  REQUIRE(out.size() == 2);
  for (const Outcome& o : out) {
    CHECK(o.disposition == Disposition::retry);
    CHECK(o.outage);
    CHECK(contains(o.reason, "idempotency store answered"));
  }
  CHECK_FALSE(rig.processor.fatal().has_value());
  CHECK(rig.pusher.faults.calls() == 0);
  CHECK(rig.inbox.faults.calls() == 0);

  rig.ledger.off_by = 0;
  const auto again = rig.pass();
  REQUIRE(again.size() == 2);
  for (const Outcome& o : again) CHECK(o.disposition == Disposition::done);
  CHECK(rig.pusher.count(dad_token) == 2);
}

TEST_CASE("an inbox body the inbox refuses (too large) dead-letters its own record, the others' inboxes go out") {
  Rig rig;
  rig.inbox.faults.fail_call(1, notify::Errc::body_too_large);  // the batch's publish
  rig.inbox.faults.fail_call(3, notify::Errc::body_too_large);  // then the second body alone
  rig.send(comment(29001, 1, "first"));
  rig.send(comment(29002, 1, "second"));
  const auto outcomes = rig.pass();
  REQUIRE(outcomes.size() == 2);
  CHECK(outcomes[0].disposition == Disposition::done);
  CHECK(outcomes[1].disposition == Disposition::dead_letter);
  CHECK_FALSE(outcomes[1].outage);
  CHECK(contains(outcomes[1].reason, "inbox: "));
  CHECK(contains(outcomes[1].reason, "injected failure"));
  CHECK(rig.inbox.published().size() == 1);
  CHECK(rig.pusher.count(dad_token) == 2);  // the pushes of both went out, once
  CHECK(rig.queue.dead_letters().size() == 1);

  // An inbox that is down is an outage: retried, never dead-lettered for it.
  Rig down;
  down.inbox.faults.fail_call(1, notify::Errc::unavailable);
  down.send(comment(29003, 1, "third"));
  const auto later = down.pass();
  CHECK(later[0].disposition == Disposition::retry);
  CHECK(later[0].outage);
}
