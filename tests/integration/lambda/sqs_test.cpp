// SPDX-License-Identifier: MIT
// notify-lambda settling on its source queue (the SQS test server): a dead letter goes to
// the queue's dead-letter queue with its reason and is not reported; a retry is hidden
// for its delay and reported.

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "notify/sqs/sqs.hpp"
#include "rig.hpp"
#include "sqs_server.hpp"

using namespace std::chrono_literals;
using nlohmann::json;
using notify::test::count_lines;
using notify::test::eventually;
using notify::test::Rig;
using notify::test::SqsServer;

namespace {

/// A queue "notify" with its dead-letter queue on the SQS server, and an open handle on it.
struct SqsRig {
  SqsServer server;
  std::optional<notify::sqs::Queue> queue;

  SqsRig() {
    notify::sqs::Client admin(server.endpoint(), SqsServer::region,
                              notify::sqs::CredentialProvider::fixed({SqsServer::access_key_id, SqsServer::secret, {}, {}}));
    REQUIRE(admin.call("CreateQueue", json{{"QueueName", "notify-dead"}}.dump()).has_value());
    json policy = {{"deadLetterTargetArn", "arn:aws:sqs:us-east-1:123456789012:notify-dead"}, {"maxReceiveCount", "10"}};
    REQUIRE(admin.call("CreateQueue", json{{"QueueName", "notify"}, {"Attributes", {{"RedrivePolicy", policy.dump()}}}}.dump())
                .has_value());
    notify::sqs::QueueOptions o;
    o.client.endpoint = server.endpoint();
    o.client.region = SqsServer::region;
    auto q = notify::sqs::Queue::open("https://sqs.us-east-1.amazonaws.com/123456789012/notify",
                                      notify::sqs::CredentialProvider::fixed({SqsServer::access_key_id, SqsServer::secret, {}, {}}), o);
    REQUIRE(q.has_value());
    queue.emplace(std::move(*q));
  }

  /// Sends the bodies and receives them: records with real receipt handles.
  std::vector<notify::QueueRecord> deliver(const std::vector<std::string>& bodies) {
    REQUIRE(queue->send(bodies).has_value());
    std::vector<notify::QueueRecord> got;
    for (int i = 0; i < 20 && got.size() < bodies.size(); ++i) {
      auto r = queue->receive(10, 1s);
      REQUIRE(r.has_value());
      got.insert(got.end(), r->begin(), r->end());
    }
    REQUIRE(got.size() == bodies.size());
    return got;
  }
};

/// The SQS event Lambda would deliver for these records of queue "notify" in us-east-1.
json event_of(const std::vector<notify::QueueRecord>& records) {
  json list = json::array();
  for (const auto& r : records)
    list.push_back({{"messageId", r.id},
                    {"receiptHandle", r.receipt},
                    {"body", r.body},
                    {"attributes", {{"ApproximateReceiveCount", std::to_string(r.receive_count)},
                                    {"SentTimestamp", std::to_string(r.sent_at_ms)}}},
                    {"messageAttributes", json::object()},
                    {"md5OfBody", "x"},
                    {"eventSource", "aws:sqs"},
                    {"eventSourceARN", "arn:aws:sqs:us-east-1:123456789012:notify"},
                    {"awsRegion", "us-east-1"}});
  return {{"Records", list}};
}

}  // namespace

TEST_CASE("on its source queue: a dead letter goes to the dead-letter queue with its reason and is not reported") {
  SqsRig sqs;
  Rig rig;
  auto records = sqs.deliver({R"({"type":"NOT_A_TYPE","id":"bad-1","param":{}})", notify::test::story_4});
  auto lambda = rig.start({{"NOTIFY_MEMBERS", NOTIFY_MEMBERS_FILE},
                           {"NOTIFY_PUSH", "log"},
                           {"AWS_ACCESS_KEY_ID", SqsServer::access_key_id},
                           {"AWS_SECRET_ACCESS_KEY", SqsServer::secret},
                           {"AWS_ENDPOINT_URL_SQS", sqs.server.endpoint()}});
  const std::string id = rig.emulator.enqueue(event_of(records));
  CHECK(Rig::failures(rig.emulator.wait_answered(id)) == "");
  CHECK(eventually([&] { return count_lines(rig.out(), "push ") == 1; }, 5s));
  auto letters = sqs.queue->dead_letters();
  REQUIRE(letters.has_value());
  REQUIRE(letters->size() == 1);
  CHECK(letters->front().body == R"({"type":"NOT_A_TYPE","id":"bad-1","param":{}})");
  CHECK(letters->front().reason.find("unknown_type") != std::string::npos);
  CHECK(sqs.server.stats()["signatureFailures"] == 0);
}

TEST_CASE("on its source queue: a record to retry is hidden for its delay and reported") {
  SqsRig sqs;
  Rig rig;
  auto records = sqs.deliver({notify::test::story_4});
  // The member store cannot be reached: an outage, retried after the first backoff (1 s).
  auto lambda = rig.start({{"NOTIFY_MEMBERS", "redis://127.0.0.1:1"},
                           {"NOTIFY_PUSH", "log"},
                           {"AWS_ACCESS_KEY_ID", SqsServer::access_key_id},
                           {"AWS_SECRET_ACCESS_KEY", SqsServer::secret},
                           {"AWS_ENDPOINT_URL_SQS", sqs.server.endpoint()}});
  const std::string id = rig.emulator.enqueue(event_of(records));
  CHECK(Rig::failures(rig.emulator.wait_answered(id)) == records[0].id);
  CHECK(sqs.server.requests("ChangeMessageVisibilityBatch") == 1);
  // Visible again after the delay (it was hidden for the queue's 30 s before).
  bool back = false;
  for (int i = 0; i < 10 && !back; ++i) back = !sqs.queue->receive(1, 1s)->empty();
  CHECK(back);
}
