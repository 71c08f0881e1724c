// SPDX-License-Identifier: MIT
// The engine's metrics hooks (notify::EngineObserver): each record's type on the way in,
// each push's answer, inbox records published, and each record's decision with the class
// of its reason, for every way a record can end.

#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "notify/memory/memory.hpp"
#include "notify/processor.hpp"

namespace {

namespace mem = notify::memory;
using notify::Disposition;
using notify::NotificationType;
using notify::PushStatus;
using notify::ReasonClass;

const std::string dad_token = "token-dad-bbbbbbbbbbbbbbbb-0002";
const std::string kid_token = "token-kid-cccccccccccccccc-0003";

/// Every hook call, as it came.
struct Recorder final : notify::EngineObserver {
  struct Decision {
    std::optional<NotificationType> type;
    Disposition disposition;
    ReasonClass why;
    std::int64_t sent_at_ms;
  };
  std::vector<std::optional<NotificationType>> received_types;
  std::vector<PushStatus> answers;
  std::size_t inbox_records = 0;
  std::vector<Decision> decisions;

  void received(std::optional<NotificationType> type) override { received_types.push_back(type); }
  void push_answered(PushStatus status, std::chrono::steady_clock::duration round_trip, std::string_view) override {
    CHECK(round_trip >= std::chrono::steady_clock::duration::zero());
    answers.push_back(status);
  }
  void inbox_published(std::size_t records) override { inbox_records += records; }
  void decided(std::optional<NotificationType> type, Disposition d, ReasonClass why, std::int64_t sent_at,
               std::string_view) override {
    decisions.push_back({type, d, why, sent_at});
  }
};

/// Family 3 (엄마, 아빠, 민지), the memory transports and a batch processor observed by a Recorder.
struct Rig {
  mem::MemberStore store;
  mem::PushProvider pusher;
  mem::InboxSink inbox;
  mem::IdempotencyStore ledger;
  Recorder seen;
  notify::BatchProcessor<mem::MemberStore, mem::PushProvider, mem::InboxSink, mem::IdempotencyStore> processor;

  Rig() : processor(store, pusher, inbox, ledger, options(&seen)) {
    REQUIRE(store.set_member(3, notify::member_v1(1, "엄마", "token-mom-aaaaaaaaaaaaaaaa-0001", false)));
    REQUIRE(store.set_member(3, notify::member_v1(2, "아빠", dad_token, false)));
    REQUIRE(store.set_member(3, notify::member_v1(3, "민지", kid_token, false)));
  }
  static notify::ProcessorOptions options(notify::EngineObserver* o) {
    notify::ProcessorOptions p;
    p.observer = o;
    return p;
  }

  std::vector<notify::Outcome> process(std::string body, int receive_count = 1, std::int64_t sent_at = 1700000000000) {
    notify::QueueRecord r;
    r.id = "q" + std::to_string(++n);
    r.receipt = "receipt-" + r.id;
    r.body = std::move(body);
    r.receive_count = receive_count;
    r.sent_at_ms = sent_at;
    return processor.process(std::vector<notify::QueueRecord>{r});
  }
  int n = 0;
};

/// `n` records of `body` named prefix0, prefix1, ..., in FIFO `group` when given.
std::vector<notify::QueueRecord> batch_of(std::size_t n, const std::string& prefix, const std::string& body,
                                          const std::string& group = {}) {
  std::vector<notify::QueueRecord> batch(n);
  for (std::size_t i = 0; i < n; ++i) {
    batch[i].id = prefix + std::to_string(i);
    batch[i].receipt = "receipt-" + batch[i].id;
    batch[i].body = body;
    batch[i].group = group;
  }
  return batch;
}

/// COMMENT_MESSAGE by 엄마: pushes and inbox records for 아빠 and 민지.
const std::string comment =
    R"({"type":"COMMENT_MESSAGE","param":{"familyId":3,"messageFamId":7,"authorId":1,"commentPreview":"잘 다녀와"}})";

}  // namespace

TEST_CASE("observer: a record done counts its type, its pushes, its inbox records and its send time") {
  Rig rig;
  rig.process(comment, 1, 1700000000123);
  REQUIRE(rig.seen.received_types.size() == 1);
  CHECK(rig.seen.received_types[0] == NotificationType::COMMENT_MESSAGE);
  CHECK(rig.seen.answers == std::vector<PushStatus>{PushStatus::sent, PushStatus::sent});
  CHECK(rig.seen.inbox_records == 2);
  REQUIRE(rig.seen.decisions.size() == 1);
  CHECK(rig.seen.decisions[0].type == NotificationType::COMMENT_MESSAGE);
  CHECK(rig.seen.decisions[0].disposition == Disposition::done);
  CHECK(rig.seen.decisions[0].why == ReasonClass::none);
  CHECK(rig.seen.decisions[0].sent_at_ms == 1700000000123);
}

TEST_CASE("observer: a body that does not decode is received without a type and dead-lettered as invalid") {
  Rig rig;
  rig.process(R"({"type":"NO_SUCH_TYPE","param":{}})");
  REQUIRE(rig.seen.received_types.size() == 1);
  CHECK_FALSE(rig.seen.received_types[0].has_value());
  CHECK(rig.seen.answers.empty());
  REQUIRE(rig.seen.decisions.size() == 1);
  CHECK_FALSE(rig.seen.decisions[0].type.has_value());
  CHECK(rig.seen.decisions[0].disposition == Disposition::dead_letter);
  CHECK(rig.seen.decisions[0].why == ReasonClass::invalid);
}

TEST_CASE("observer: a push failed for good dead-letters its record as push_failed") {
  Rig rig;
  rig.pusher.fail_token(dad_token, PushStatus::failed);
  rig.process(comment);
  CHECK(rig.seen.answers.size() == 2);
  REQUIRE(rig.seen.decisions.size() == 1);
  CHECK(rig.seen.decisions[0].disposition == Disposition::dead_letter);
  CHECK(rig.seen.decisions[0].why == ReasonClass::push_failed);
}

TEST_CASE("observer: a push retry of one device is the record's own failure, and at the limit max_deliveries") {
  Rig rig;
  rig.pusher.fail_token(dad_token, PushStatus::retry);
  rig.process(comment);
  REQUIRE(rig.seen.decisions.size() == 1);
  CHECK(rig.seen.decisions[0].disposition == Disposition::retry);
  CHECK(rig.seen.decisions[0].why == ReasonClass::failure);

  rig.process(comment, notify::RetryPolicy{}.max_deliveries);
  REQUIRE(rig.seen.decisions.size() == 2);
  CHECK(rig.seen.decisions[1].disposition == Disposition::dead_letter);
  CHECK(rig.seen.decisions[1].why == ReasonClass::max_deliveries);
}

TEST_CASE("observer: the member store down retries the record as an outage") {
  Rig rig;
  rig.store.faults.fail_always();
  rig.process(comment);
  CHECK(rig.seen.answers.empty());
  REQUIRE(rig.seen.decisions.size() == 1);
  CHECK(rig.seen.decisions[0].disposition == Disposition::retry);
  CHECK(rig.seen.decisions[0].why == ReasonClass::outage);
}

TEST_CASE("observer: an inbox that refuses the body dead-letters the record as inbox_refused") {
  Rig rig;
  rig.inbox.faults.fail_always(notify::Errc::body_too_large);
  rig.process(comment);
  CHECK(rig.seen.inbox_records == 0);
  REQUIRE(rig.seen.decisions.size() == 1);
  CHECK(rig.seen.decisions[0].disposition == Disposition::dead_letter);
  CHECK(rig.seen.decisions[0].why == ReasonClass::inbox_refused);
}

TEST_CASE("observer: a FIFO record handed back behind a retried one of its group is an outage retry") {
  Rig rig;
  rig.pusher.fail_token(dad_token, PushStatus::retry);
  rig.processor.process(batch_of(2, "g", comment, "family-3"));
  REQUIRE(rig.seen.decisions.size() == 2);
  CHECK(rig.seen.decisions[0].disposition == Disposition::retry);
  CHECK(rig.seen.decisions[0].why == ReasonClass::failure);
  CHECK(rig.seen.decisions[1].disposition == Disposition::retry);
  CHECK(rig.seen.decisions[1].why == ReasonClass::outage);
  CHECK(rig.seen.received_types.size() == 2);
}

TEST_CASE("observer: two copies of one request in a batch are each received and decided once") {
  Rig rig;
  const std::string with_id = comment.substr(0, comment.size() - 1) + R"(,"id":"twin-1"})";
  rig.processor.process(batch_of(2, "t", with_id));
  CHECK(rig.seen.received_types.size() == 2);
  CHECK(rig.seen.answers.size() == 2);  // the pushes went out once, for both
  REQUIRE(rig.seen.decisions.size() == 2);
  for (const auto& d : rig.seen.decisions) CHECK(d.disposition == Disposition::done);
}
