// SPDX-License-Identifier: MIT
// The SQS handler over the worker's batch processor and the in-memory adapters, with a
// settle target that records what it is given (and can be made to fail).

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <functional>
#include <initializer_list>
#include <vector>

#include "notify/lambda/sqs_handler.hpp"
#include "notify/memory/memory.hpp"
#include "notify/processor.hpp"

namespace {

using namespace std::chrono_literals;
namespace mem = notify::memory;
using notify::Disposition;
using notify::PushStatus;

const std::string mom_token = "token-mom-aaaaaaaaaaaaaaaa-0001";
const std::string dad_token = "token-dad-bbbbbbbbbbbbbbbb-0002";
const std::string kid_token = "token-kid-cccccccccccccccc-0003";

/// Records each settle call (with copies of what it was given) and the sources named.
struct RecordingTarget {
  struct Call {
    std::string source;
    std::vector<std::string> ids;
    std::vector<Disposition> dispositions;
    std::vector<std::string> reasons;
  };
  std::vector<Call> calls;
  std::string current_source;
  bool fail = false;

  void use_source(const notify::lambda::RecordSource& s) { current_source = s.arn; }
  notify::Result<void> settle(std::span<const notify::Settlement> settlements) {
    Call c{current_source, {}, {}, {}};
    for (const notify::Settlement& s : settlements) {
      c.ids.push_back(s.record->id);
      c.dispositions.push_back(s.outcome.disposition);
      c.reasons.push_back(s.outcome.reason);
    }
    calls.push_back(std::move(c));
    if (fail) return notify::Error{notify::Errc::unavailable, "settle: injected failure", {}};
    return {};
  }
};
static_assert(notify::lambda::SettleTarget<RecordingTarget>);

/// A type without settle() is not a settle target.
struct NotATarget {
  void settle() {}
};
static_assert(!notify::lambda::SettleTarget<NotATarget>);

using Processor = notify::BatchProcessor<mem::MemberStore, mem::PushProvider, mem::InboxSink, mem::IdempotencyStore>;

struct Rig {
  mem::MemberStore store;
  mem::PushProvider pusher;
  mem::InboxSink inbox;
  mem::IdempotencyStore ledger;
  RecordingTarget target;
  std::vector<std::string> steps;
  Processor processor{store, pusher, inbox, ledger, options()};
  std::function<std::int64_t()> clock = notify::unix_now_ms;  ///< what the handler takes for now
  std::chrono::milliseconds time_reserve;
  notify::lambda::SqsHandler<Processor, RecordingTarget> handler{
      processor, target, [this](const notify::Event& e) { steps.emplace_back(e.step); },
      notify::lambda::HandlerOptions{time_reserve, [this] { return clock(); }}};

  static notify::ProcessorOptions options() {
    notify::ProcessorOptions o;
    o.base_delay = 0ms;
    return o;
  }

  explicit Rig(std::chrono::milliseconds reserve = notify::lambda::HandlerOptions{}.time_reserve)
      : time_reserve(reserve) {
    add(3, 1, "엄마", mom_token);
    add(3, 2, "아빠", dad_token);
    add(3, 3, "민지", kid_token);
    add(4, 7, "할머니", "token-granny-dddddddddddddd-0007");
  }
  void add(notify::Id family, notify::Id user, std::string name, std::string token) {
    REQUIRE(store.set_member(family, notify::member_v1(user, std::move(name), std::move(token), false)));
  }
};

std::string story(notify::Id family) {
  return R"({"type":"MESSAGE_TODAY","param":{"familyIds":[)" + std::to_string(family) + "]}}";
}

struct Rec {
  std::string id;
  std::string body;
  int receive_count = 1;
  std::string group = {};
};

/// An SQS event of `records` from `queue` (a FIFO queue when it ends in .fifo).
std::string event(const std::vector<Rec>& records, const std::string& queue = "notify") {
  nlohmann::json list = nlohmann::json::array();
  for (const Rec& r : records) {
    nlohmann::json attributes = {{"ApproximateReceiveCount", std::to_string(r.receive_count)},
                                 {"SentTimestamp", "1700000000000"}};
    if (!r.group.empty()) attributes["MessageGroupId"] = r.group;
    list.push_back({{"messageId", r.id},
                    {"receiptHandle", "rh-" + r.id},
                    {"body", r.body},
                    {"attributes", attributes},
                    {"messageAttributes", nlohmann::json::object()},
                    {"eventSource", "aws:sqs"},
                    {"eventSourceARN", "arn:aws:sqs:ap-northeast-2:123456789012:" + queue},
                    {"awsRegion", "ap-northeast-2"}});
  }
  return nlohmann::json{{"Records", list}}.dump();
}

/// The reported itemIdentifiers, joined with commas.
std::string failures(const notify::lambda::Reply& reply) {
  REQUIRE_FALSE(reply.error);
  const auto response = nlohmann::json::parse(reply.body);
  std::string out;
  for (const auto& f : response.at("batchItemFailures"))
    out += (out.empty() ? "" : ",") + f.at("itemIdentifier").get<std::string>();
  return out;
}

/// Expected failures, joined as failures() joins them.
std::string Ids(std::initializer_list<std::string_view> ids) {
  std::string out;
  for (std::string_view id : ids) out += (out.empty() ? "" : ",") + std::string(id);
  return out;
}

}  // namespace

TEST_CASE("a batch that is delivered in full answers no failures and settles nothing") {
  Rig rig;
  const auto reply = rig.handler.handle(event({{"a", story(3)}, {"b", story(4)}}));
  CHECK(failures(reply) == Ids({}));
  CHECK_FALSE(reply.exit_after);
  CHECK(rig.pusher.sent().size() == 4);
  CHECK(rig.target.calls.empty());
  CHECK(rig.store.round_trips() == 1);  // the whole standard batch in one lookup
}

TEST_CASE("partial failure: only the record to retry is reported, and it is settled with its delay") {
  Rig rig;
  rig.pusher.fail_token(dad_token, PushStatus::retry, 30s);
  const auto reply = rig.handler.handle(event({{"a", story(3)}, {"b", story(4)}}));
  CHECK(failures(reply) == Ids({"a"}));
  REQUIRE(rig.target.calls.size() == 1);
  CHECK(rig.target.calls[0].ids == std::vector<std::string>{"a"});
  CHECK(rig.target.calls[0].dispositions == std::vector<Disposition>{Disposition::retry});
  CHECK(rig.target.calls[0].source == "arn:aws:sqs:ap-northeast-2:123456789012:notify");
  CHECK(rig.pusher.count("token-granny-dddddddddddddd-0007") == 1);
}

TEST_CASE("a dead letter that the target settled is not reported: it is in the dead-letter queue") {
  Rig rig;
  const auto reply = rig.handler.handle(event({{"bad", R"({"type":"NOPE","param":{}})"}, {"b", story(4)}}));
  CHECK(failures(reply) == Ids({}));
  REQUIRE(rig.target.calls.size() == 1);
  CHECK(rig.target.calls[0].ids == std::vector<std::string>{"bad"});
  CHECK(rig.target.calls[0].dispositions == std::vector<Disposition>{Disposition::dead_letter});
  CHECK(rig.target.calls[0].reasons[0].find("unknown_type") != std::string::npos);
}

TEST_CASE("a dead letter whose settle failed is reported, so the queue's redrive policy keeps it") {
  Rig rig;
  rig.target.fail = true;
  const auto reply = rig.handler.handle(event({{"bad", "not json"}, {"b", story(4)}}));
  CHECK(failures(reply) == Ids({"bad"}));
  CHECK(std::find(rig.steps.begin(), rig.steps.end(), "settle_failed") != rig.steps.end());
}

TEST_CASE("without queue access (NoSettle) retries and dead letters are both reported") {
  Rig rig;
  rig.pusher.fail_token(dad_token, PushStatus::retry);
  notify::lambda::NoSettle none;
  notify::lambda::SqsHandler<Processor, notify::lambda::NoSettle> handler(rig.processor, none);
  const auto reply = handler.handle(event({{"a", story(3)}, {"bad", "[]"}, {"c", story(4)}}));
  CHECK(failures(reply) == Ids({"a", "bad"}));
}

TEST_CASE("FIFO: a retried record holds back the later records of its own group only, which are reported with it") {
  Rig rig;
  rig.pusher.fail_token(dad_token, PushStatus::retry);
  const auto reply = rig.handler.handle(event(
      {{"1", story(4), 1, "g1"}, {"2", story(3), 1, "g2"}, {"3", story(4), 1, "g2"}, {"4", story(4), 1, "g3"}, {"5", story(4), 1, "g1"}},
      "notify.fifo"));
  CHECK(failures(reply) == Ids({"2", "3"}));
  // Records 1, 4 and 5 were delivered (three requests to family 4); 3 never started.
  CHECK(rig.pusher.count("token-granny-dddddddddddddd-0007") == 3);
  REQUIRE(rig.target.calls.size() == 1);
  CHECK(rig.target.calls[0].ids == std::vector<std::string>{"2", "3"});
  // The record held back comes back at once, as an outage (not its failure).
  CHECK(rig.target.calls[0].dispositions == std::vector<Disposition>{Disposition::retry, Disposition::retry});
  CHECK(rig.target.calls[0].reasons[1] == "an earlier request of its group g2 is retried first");
}

/// A FIFO batch: record 1 pushes to one member (family 4), record 2 to three (family 3).
const std::string fifo_batch =
    event({{"1", story(4), 1, "g1"}, {"2", story(3), 1, "g2"}, {"3", story(4), 1, "g1"}}, "notify.fifo");

TEST_CASE("FIFO: a record is not started with less than the reserve left, the rest is handed back") {
  Rig rig;  // the default 5 s reserve
  // Each push takes a second: 1 s after record 1, 4 s after record 2.
  const std::int64_t t0 = 1'800'000'000'000;
  rig.clock = [&] { return t0 + 1000 * static_cast<std::int64_t>(rig.pusher.sent().size()); };
  // 6 s to go: half of it (3 s) is reserved, below the 5 s asked for. Record 2 starts
  // with 5 s left, record 3 would start with 2 s.
  const auto reply = rig.handler.handle(fifo_batch, "req", t0 + 6000);
  CHECK(failures(reply) == Ids({"3"}));
  CHECK(rig.pusher.count(mom_token) == 1);
  CHECK(rig.pusher.count("token-granny-dddddddddddddd-0007") == 1);
  REQUIRE(rig.target.calls.size() == 1);
  CHECK(rig.target.calls[0].ids == std::vector<std::string>{"3"});
  CHECK(rig.target.calls[0].dispositions == std::vector<Disposition>{Disposition::retry});
  CHECK(rig.target.calls[0].reasons[0] == "not processed: the invocation's time was running out");
  CHECK(std::count(rig.steps.begin(), rig.steps.end(), "time_short") == 1);
}

TEST_CASE("FIFO: the time check stands aside with a long deadline, none, a reserve of 0, and for the first record") {
  const std::int64_t t0 = 1'800'000'000'000;
  struct Case {
    const char* what;
    std::chrono::milliseconds reserve;
    std::int64_t deadline;
    std::string failed;
  };
  const Case cases[] = {
      {"a minute to go", 5000ms, t0 + 60000, ""},
      {"no deadline known", 5000ms, 0, ""},
      {"the check is off", 0ms, t0 - 1, ""},
      {"a short timeout (3 s): at most 1.5 s is reserved", 5000ms, t0 + 3000, ""},
      {"the deadline has passed: only the first record of each group runs", 5000ms, t0 - 1, "3"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    Rig rig(c.reserve);
    rig.clock = [&] { return t0 + 100 * static_cast<std::int64_t>(rig.pusher.sent().size()); };
    CHECK(failures(rig.handler.handle(fifo_batch, "req", c.deadline)) == c.failed);
    CHECK(rig.pusher.count("token-granny-dddddddddddddd-0007") == (c.failed.empty() ? 2 : 1));
  }
}

TEST_CASE("a standard batch runs at once whatever time is left") {
  Rig rig;
  const auto reply = rig.handler.handle(event({{"1", story(4)}, {"2", story(3)}}), "req", 1);
  CHECK(failures(reply) == Ids({}));
  CHECK(rig.pusher.count(mom_token) == 1);
  CHECK(rig.target.calls.empty());
}

TEST_CASE("the producer's request id (notify-rid) keys the record, the response names the messageId") {
  Rig rig;
  rig.pusher.fail_token(dad_token, PushStatus::retry);
  const std::string body = R"({"type":"MESSAGE_TODAY","param":{"familyIds":[3]}})";
  auto one = [&](const std::string& message_id) {
    return R"({"messageId":")" + message_id + R"(","receiptHandle":"h-)" + message_id + R"(","body":)" +
           nlohmann::json(body).dump() +
           R"(,"attributes":{"ApproximateReceiveCount":"1"},"messageAttributes":{"notify-rid":{"stringValue":"req-7","dataType":"String"}},"eventSource":"aws:sqs","eventSourceARN":"arn:aws:sqs:ap-northeast-2:123456789012:notify","awsRegion":"ap-northeast-2"})";
  };
  // The same request sent twice by a retried producer call: two messages, one request id.
  const auto reply = rig.handler.handle(R"({"Records":[)" + one("m-1") + "]}");
  CHECK(failures(reply) == Ids({"m-1"}));
  REQUIRE(rig.target.calls.size() == 1);
  CHECK(rig.target.calls[0].ids == std::vector<std::string>{"req-7"});
  rig.pusher.clear_token(dad_token);
  const auto again = rig.handler.handle(R"({"Records":[)" + one("m-2") + "]}");
  CHECK(failures(again) == Ids({}));
  CHECK(rig.pusher.count(mom_token) == 1);  // pushed once across both messages
  CHECK(rig.pusher.count(dad_token) == 1);
}

TEST_CASE("FIFO: a settled dead letter lets its group go on, an unsettled one is reported with the rest of its group") {
  Rig rig;
  auto reply = rig.handler.handle(event({{"1", "bad", 1, "g"}, {"2", story(4), 1, "g"}}, "notify.fifo"));
  CHECK(failures(reply) == Ids({}));
  CHECK(rig.pusher.count("token-granny-dddddddddddddd-0007") == 1);

  rig.target.fail = true;
  reply = rig.handler.handle(event({{"3", "bad", 1, "g"}, {"4", story(3), 1, "g"}}, "notify.fifo"));
  CHECK(failures(reply) == Ids({"3", "4"}));
  // Record 4 was delivered; its redelivery finds it already sent and pushes nothing.
  CHECK(rig.pusher.count(mom_token) == 1);
  rig.target.fail = false;
  CHECK(failures(rig.handler.handle(event({{"4", story(3), 2, "g"}}, "notify.fifo"))) == Ids({}));
  CHECK(rig.pusher.count(mom_token) == 1);
}

TEST_CASE("a fatal processor error fails the whole invocation and asks the runtime to exit") {
  Rig rig;
  rig.pusher.fail_token(mom_token, PushStatus::fatal);
  const auto reply = rig.handler.handle(event({{"a", story(3)}, {"b", story(4)}}));
  REQUIRE(reply.error);
  CHECK(reply.error->type == "ConfigurationError");
  CHECK(reply.exit_after);
  CHECK(rig.target.calls.empty());  // nothing settled: the whole batch comes back

  Rig fifo;
  fifo.store.faults.fail_always(notify::Errc::unauthenticated);
  const auto fifo_reply = fifo.handler.handle(event({{"a", story(3), 1, "g"}}, "notify.fifo"));
  REQUIRE(fifo_reply.error);
  CHECK(fifo_reply.exit_after);
}

TEST_CASE("a malformed event fails the invocation with its path, and the runtime keeps going") {
  Rig rig;
  const auto reply = rig.handler.handle(R"({"Records":[{"receiptHandle":"r","body":"b","eventSource":"aws:sqs"}]})");
  REQUIRE(reply.error);
  CHECK(reply.error->type == "InvalidEvent");
  CHECK(reply.error->message.find("Records[0].messageId") != std::string::npos);
  CHECK_FALSE(reply.exit_after);
  CHECK(rig.pusher.sent().empty());
}

TEST_CASE("an empty batch answers an empty failure list without touching the store") {
  Rig rig;
  const auto reply = rig.handler.handle(R"({"Records":[]})");
  CHECK(failures(reply) == Ids({}));
  CHECK(rig.store.round_trips() == 0);
}

TEST_CASE("a record delivered too often is dead-lettered and settled with the reason") {
  Rig rig;
  rig.pusher.fail_token(dad_token, PushStatus::retry);
  const auto reply = rig.handler.handle(event({{"a", story(3), 5}}));
  CHECK(failures(reply) == Ids({}));
  REQUIRE(rig.target.calls.size() == 1);
  CHECK(rig.target.calls[0].dispositions == std::vector<Disposition>{Disposition::dead_letter});
  CHECK(rig.target.calls[0].reasons[0].find("gave up after 5 deliveries") != std::string::npos);
}
