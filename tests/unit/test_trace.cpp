// SPDX-License-Identifier: MIT
// The envelope's optional W3C traceparent: checked as Trace Context defines version 00,
// ignored when malformed on the way in (as a receiver must), refused by validate() on
// the producer's side, carried into log events and inbox records.

#include <doctest/doctest.h>

#include <set>
#include <string>
#include <vector>

#include "notify/memory/memory.hpp"
#include "notify/processor.hpp"
#include "notify/producer.hpp"
#include "notify/trace.hpp"

namespace {

const std::string tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const std::string poke = R"({"type":"EMOTION_POKE","param":{"familyId":3,"userId":2}})";

namespace mem = notify::memory;

/// Family 3 (엄마 and 아빠) in the memory transports.
struct Family {
  mem::MemberStore store;
  mem::PushProvider pusher;
  mem::InboxSink inbox;
  mem::IdempotencyStore ledger;
  Family() {
    REQUIRE(store.set_member(3, notify::member_v1(1, "엄마", "token-mom-aaaaaaaaaaaaaaaa-0001", false)));
    REQUIRE(store.set_member(3, notify::member_v1(2, "아빠", "token-dad-bbbbbbbbbbbbbbbb-0002", false)));
  }
};

}  // namespace

TEST_CASE("trace: valid_traceparent takes version 00 with lowercase hex and ids not all zeros") {
  CHECK(notify::valid_traceparent(tp));
  CHECK(notify::trace_id_of(tp) == "4bf92f3577b34da6a3ce929d0e0e4736");
  CHECK_FALSE(notify::valid_traceparent("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"));  // uppercase
  CHECK_FALSE(notify::valid_traceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01"));
  CHECK_FALSE(notify::valid_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"));
  CHECK_FALSE(notify::valid_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
  CHECK_FALSE(notify::valid_traceparent(tp + "-x"));
  CHECK_FALSE(notify::valid_traceparent(""));
  CHECK(notify::trace_id_of("nonsense").empty());
}

TEST_CASE("trace: new_traceparent makes valid, distinct values") {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string v = notify::new_traceparent();
    CHECK(notify::valid_traceparent(v));
    CHECK(v.ends_with("-01"));
    seen.insert(v);
  }
  CHECK(seen.size() == 1000);
}

TEST_CASE("trace: decode keeps a valid traceparent, encode writes it back, a malformed one is ignored") {
  auto r = notify::decode(poke.substr(0, poke.size() - 1) + R"(,"traceparent":")" + tp + "\"}");
  REQUIRE(r.has_value());
  CHECK(r->traceparent == tp);
  CHECK(notify::encode(*r).ends_with(R"(,"traceparent":")" + tp + "\"}"));
  CHECK(notify::decode(notify::encode(*r)).value() == *r);

  for (const std::string bad : {R"("nonsense")", "17", "null", R"("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01")"}) {
    auto d = notify::decode(poke.substr(0, poke.size() - 1) + R"(,"traceparent":)" + bad + "}");
    REQUIRE_MESSAGE(d.has_value(), bad);
    CHECK(d->traceparent.empty());
  }
}

TEST_CASE("trace: validate refuses a malformed traceparent a producer set") {
  notify::Request r{notify::EmotionPokeParam{3, 2}, {}, {}, "not a traceparent"};
  const notify::Errors errors = notify::validate(r);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].path == "traceparent");
  r.traceparent = notify::new_traceparent();
  CHECK(notify::validate(r).empty());
}

TEST_CASE("trace: split parts of a bulk request keep its traceparent") {
  notify::Request r{notify::MessageTodayParam{{1, 2, 3}}, "bulk", {}, tp};
  const auto parts = notify::split_by_families(r, 1);
  REQUIRE(parts.size() == 3);
  for (const auto& p : parts) CHECK(p.traceparent == tp);
}

TEST_CASE("trace: the engine's events carry the trace id, and the inbox records the traceparent") {
  Family f;
  std::vector<std::string> traces;
  notify::BatchProcessor processor(f.store, f.pusher, f.inbox, f.ledger, notify::ProcessorOptions{},
                                   [&](const notify::Event& e) { traces.emplace_back(e.trace); });
  const std::string comment =
      R"({"type":"COMMENT_MESSAGE","param":{"familyId":3,"messageFamId":7,"authorId":1,"commentPreview":"hi"},"traceparent":")" +
      tp + "\"}";
  notify::QueueRecord rec;
  rec.id = "q1";
  rec.body = comment;
  processor.process(std::vector<notify::QueueRecord>{rec});
  REQUIRE_FALSE(traces.empty());
  for (const std::string& t : traces) CHECK(t == "4bf92f3577b34da6a3ce929d0e0e4736");
  REQUIRE(f.inbox.published().size() == 1);
  CHECK(f.inbox.published()[0].find(R"("traceparent":")" + tp + "\"") != std::string::npos);
}

TEST_CASE("trace: a request sent again with another traceparent is the same delivery: no push, no inbox record twice") {
  Family f;
  notify::BatchProcessor processor(f.store, f.pusher, f.inbox, f.ledger);
  for (int i = 0; i < 2; ++i) {
    notify::Request r{notify::CommentMessageParam{.messageFamId = 7, .authorId = 1, .familyId = 3, .commentPreview = "hi"},
                      "same-request", {}, notify::new_traceparent()};
    notify::QueueRecord rec;
    rec.id = "q" + std::to_string(i);
    rec.receipt = "receipt-" + rec.id;
    rec.body = notify::encode(r);
    const auto outcomes = processor.process(std::vector<notify::QueueRecord>{rec});
    REQUIRE(outcomes.size() == 1);
    CHECK(outcomes[0].disposition == notify::Disposition::done);
  }
  CHECK(f.pusher.sent().size() == 1);
  CHECK(f.inbox.published().size() == 1);
}
