// SPDX-License-Identifier: MIT
// notify-lambda's metrics, without a process: the runtime loop over a fake client drives
// the SQS handler and the batch processor (in-memory adapters) with ops::EngineMetrics as
// the engine's observer, and renders one CloudWatch EMF line after each invocation, as
// examples/notify_lambda.cpp does. Each line must be the document AWS specifies, and its
// counters that invocation's alone.

#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "notify/lambda/driver.hpp"
#include "notify/lambda/sqs_handler.hpp"
#include "notify/memory/memory.hpp"
#include "notify/ops/engine_metrics.hpp"
#include "notify/processor.hpp"

namespace {

using nlohmann::json;
namespace mem = notify::memory;
using notify::Result;
using notify::lambda::ErrorReport;
using notify::lambda::Invocation;

/// Hands out the queued invocations, then says the API is gone; records the responses.
struct FakeClient {
  std::deque<Invocation> invocations;
  std::vector<std::string> responses;

  Result<Invocation> next() {
    if (invocations.empty()) return notify::Error{notify::Errc::unavailable, "no more invocations", {}};
    Invocation i = std::move(invocations.front());
    invocations.pop_front();
    return i;
  }
  Result<void> respond(std::string_view, std::string_view body) {
    responses.emplace_back(body);
    return {};
  }
  Result<void> error(std::string_view, const ErrorReport& e) {
    responses.push_back("error " + e.type);
    return {};
  }
};

/// Settles everything it is given (the queue took the retries and dead letters).
struct AcceptingTarget {
  Result<void> settle(std::span<const notify::Settlement>) { return {}; }
};

std::string story(notify::Id family) {
  return R"({"type":"MESSAGE_TODAY","param":{"familyIds":[)" + std::to_string(family) + "]}}";
}

constexpr std::int64_t sent_at_ms = 1700000000000;

/// An SQS event of (messageId, body) records, each sent at `sent_at_ms`.
Invocation invocation(std::string id, const std::vector<std::pair<std::string, std::string>>& records) {
  json list = json::array();
  for (const auto& [message_id, body] : records)
    list.push_back({{"messageId", message_id},
                    {"receiptHandle", "rh-" + message_id},
                    {"body", body},
                    {"attributes", {{"ApproximateReceiveCount", "1"}, {"SentTimestamp", std::to_string(sent_at_ms)}}},
                    {"eventSource", "aws:sqs"},
                    {"eventSourceARN", "arn:aws:sqs:ap-northeast-2:123456789012:notify"},
                    {"awsRegion", "ap-northeast-2"}});
  return Invocation{std::move(id), 0, "arn", "", json{{"Records", list}}.dump()};
}

/// Checks `line` against the EMF specification's document structure and returns the
/// metric values by name (every metric a directive names, read from the root).
std::map<std::string, double> check_emf(const std::string& line, std::string_view function_name) {
  CAPTURE(line);
  REQUIRE(line.find('\n') == std::string::npos);  // one log event
  const json doc = json::parse(line);
  REQUIRE(doc.is_object());
  REQUIRE(doc.contains("_aws"));
  const json& aws = doc["_aws"];
  REQUIRE(aws.is_object());
  CHECK(aws["Timestamp"].is_number_integer());
  CHECK(aws["Timestamp"].get<std::int64_t>() > sent_at_ms);  // milliseconds since the epoch, now
  REQUIRE(aws["CloudWatchMetrics"].is_array());
  REQUIRE_FALSE(aws["CloudWatchMetrics"].empty());
  std::map<std::string, double> values;
  for (const json& directive : aws["CloudWatchMetrics"]) {
    CHECK(directive["Namespace"] == "notify");
    REQUIRE(directive["Dimensions"].is_array());
    CHECK(directive["Dimensions"] == json::array({json::array({"FunctionName"})}));
    for (const json& set : directive["Dimensions"]) {
      REQUIRE(set.is_array());
      for (const json& key : set) CHECK(doc[key.get<std::string>()] == function_name);  // a string member
    }
    REQUIRE(directive["Metrics"].is_array());
    CHECK(directive["Metrics"].size() <= 100);
    for (const json& m : directive["Metrics"]) {
      const std::string name = m["Name"].get<std::string>();
      CAPTURE(name);
      CHECK(m["Unit"].is_string());
      REQUIRE(doc.contains(name));
      REQUIRE(doc[name].is_number());
      CHECK(values.count(name) == 0);  // named once
      values[name] = doc[name].get<double>();
    }
  }
  return values;
}

/// The value of one series, 0 if the line does not carry it.
double of(const std::map<std::string, double>& values, const std::string& name) {
  const auto it = values.find(name);
  return it == values.end() ? 0.0 : it->second;
}

/// The sum of the series of one family whose name starts with `prefix`.
double sum_of(const std::map<std::string, double>& values, std::string_view prefix) {
  double total = 0;
  for (const auto& [name, v] : values)
    if (name.starts_with(prefix)) total += v;
  return total;
}

}  // namespace

TEST_CASE("an EMF line after each invocation: the document AWS specifies, with that invocation's counters") {
  using Processor =
      notify::BatchProcessor<mem::MemberStore, mem::PushProvider, mem::InboxSink, mem::IdempotencyStore>;
  mem::MemberStore store;
  mem::PushProvider pusher;
  mem::InboxSink inbox;
  mem::IdempotencyStore ledger;
  const std::string dad_token = "token-dad-bbbbbbbbbbbbbbbb-0002";
  REQUIRE(store.set_member(3, notify::member_v1(1, "엄마", "token-mom-aaaaaaaaaaaaaaaa-0001", false)));
  REQUIRE(store.set_member(3, notify::member_v1(2, "아빠", dad_token, false)));
  REQUIRE(store.set_member(4, notify::member_v1(7, "할머니", "token-granny-dddddddddddddd-0007", false)));

  notify::ops::Registry registry;
  notify::ops::EngineMetrics metrics(registry, "memory");
  metrics.unix_ms = [] { return sent_at_ms + 1500; };  // every record decided 1.5 s after it was sent
  notify::ProcessorOptions options;
  options.base_delay = std::chrono::milliseconds(0);
  options.observer = &metrics;
  Processor processor(store, pusher, inbox, ledger, options);
  AcceptingTarget target;
  notify::lambda::SqsHandler<Processor, AcceptingTarget> handler(processor, target);

  FakeClient client;
  // First: two records delivered (3 pushes), one that is not JSON (dead-lettered as invalid).
  client.invocations.push_back(invocation("inv-1", {{"a", story(3)}, {"bad", "not json"}, {"b", story(4)}}));
  // Second: one record whose push to 아빠 must be retried.
  client.invocations.push_back(invocation("inv-2", {{"c", story(3)}}));

  notify::ops::EmfOptions emf;
  emf.dimensions = {{"FunctionName", "notify-test"}};
  std::vector<std::string> lines;
  notify::lambda::RunOptions run;
  run.max_invocations = 2;
  run.after_invocation = [&](const Invocation& i, const notify::lambda::Reply&) {
    if (i.request_id == "inv-1") pusher.fail_token(dad_token, notify::PushStatus::retry);  // for the next one
    lines.push_back(registry.render_emf(emf));
  };
  CHECK(notify::lambda::run(client, handler, run).reason == notify::lambda::StopReason::limit_reached);
  REQUIRE(client.responses.size() == 2);
  REQUIRE(lines.size() == 2);

  const auto first = check_emf(lines[0], "notify-test");
  CHECK(of(first, "notify_records_received_total.type=MESSAGE_TODAY") == 2);
  CHECK(of(first, "notify_records_received_total.type=unknown") == 1);
  CHECK(sum_of(first, "notify_records_received_total") == 3);
  CHECK(of(first, "notify_records_done_total.type=MESSAGE_TODAY") == 2);
  CHECK(of(first, "notify_records_dead_lettered_total.type=unknown.reason=invalid") == 1);
  CHECK(sum_of(first, "notify_records_dead_lettered_total") == 1);
  CHECK(sum_of(first, "notify_records_retried_total") == 0);
  CHECK(of(first, "notify_pushes_total.provider=memory.result=sent") == 3);
  CHECK(sum_of(first, "notify_pushes_total") == 3);
  CHECK(of(first, "notify_push_duration_seconds_count.provider=memory") == 3);
  CHECK(of(first, "notify_record_latency_seconds_count") == 3);
  CHECK(of(first, "notify_record_latency_seconds_sum") == doctest::Approx(4.5));

  // The second line counts the second invocation only, not the totals since the start.
  const auto second = check_emf(lines[1], "notify-test");
  CHECK(sum_of(second, "notify_records_received_total") == 1);
  CHECK(of(second, "notify_records_received_total.type=MESSAGE_TODAY") == 1);
  CHECK(sum_of(second, "notify_records_done_total") == 0);
  CHECK(sum_of(second, "notify_records_dead_lettered_total") == 0);
  CHECK(of(second, "notify_records_retried_total.type=MESSAGE_TODAY.reason=failure") == 1);
  CHECK(of(second, "notify_pushes_total.provider=memory.result=sent") == 1);
  CHECK(of(second, "notify_pushes_total.provider=memory.result=retry") == 1);
  CHECK(of(second, "notify_record_latency_seconds_count") == 0);  // a retry is observed when it ends
  CHECK(of(second, "notify_records_in_flight") == 0);

  // Both lines name the same metrics (a series that did not move reads 0), with units.
  std::set<std::string> names_first, names_second;
  for (const auto& [name, v] : first) names_first.insert(name);
  for (const auto& [name, v] : second) names_second.insert(name);
  CHECK(names_first == names_second);
  const json doc = json::parse(lines[0]);
  for (const json& directive : doc["_aws"]["CloudWatchMetrics"])
    for (const json& m : directive["Metrics"]) {
      const std::string name = m["Name"].get<std::string>();
      CAPTURE(name);
      if (name.starts_with("notify_push_duration_seconds_sum")) CHECK(m["Unit"] == "Seconds");
      if (name.starts_with("notify_records_received_total")) CHECK(m["Unit"] == "Count");
    }
}
