// SPDX-License-Identifier: MIT
// notify::lambda::SourceQueue on the SQS test server (local-aws-sqs): the settle target
// of a Lambda function opens each record's source queue from its ARN, hides a retry for
// its delay, sends a dead letter to the redrive target with its reason, and remembers the
// outage retries it settled.

#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "notify/lambda/source_queue.hpp"
#include "notify/sqs/sqs.hpp"
#include "sqs_server.hpp"

using namespace std::chrono_literals;
using nlohmann::json;
using notify::test::SqsServer;

namespace {

constexpr const char* source_arn = "arn:aws:sqs:us-east-1:123456789012:notify";

notify::sqs::CredentialProvider test_credentials() {
  return notify::sqs::CredentialProvider::fixed({SqsServer::access_key_id, SqsServer::secret, {}, {}});
}

notify::sqs::QueueOptions test_options(const SqsServer& server) {
  notify::sqs::QueueOptions o;
  o.client.endpoint = server.endpoint();
  o.client.region = SqsServer::region;
  return o;
}

/// Queue "notify" (visibility 30 s) with the redrive target "notify-dead", a handle on it
/// for the test's own sends and receives, and a SourceQueue that opens queues on the server.
struct Rig {
  SqsServer server;
  std::optional<notify::sqs::Queue> queue;
  notify::lambda::SourceQueue target{[this](const std::string& url) {
    opened.push_back(url);
    return notify::sqs::Queue::open(url, test_credentials(), test_options(server));
  }};
  std::vector<std::string> opened;

  Rig() {
    notify::sqs::Client admin(server.endpoint(), SqsServer::region, test_credentials());
    REQUIRE(admin.call("CreateQueue", json{{"QueueName", "notify-dead"}}.dump()).has_value());
    json policy = {{"deadLetterTargetArn", "arn:aws:sqs:us-east-1:123456789012:notify-dead"}, {"maxReceiveCount", "10"}};
    REQUIRE(admin
                .call("CreateQueue", json{{"QueueName", "notify"},
                                          {"Attributes", {{"RedrivePolicy", policy.dump()}, {"VisibilityTimeout", "30"}}}}
                                         .dump())
                .has_value());
    auto q = notify::sqs::Queue::open("https://sqs.us-east-1.amazonaws.com/123456789012/notify", test_credentials(),
                                      test_options(server));
    REQUIRE(q.has_value());
    queue.emplace(std::move(*q));
  }

  /// Sends one body and receives it: a record with a real receipt handle.
  notify::QueueRecord deliver(const std::string& body) {
    const std::vector<std::string> bodies = {body};
    REQUIRE(queue->send(bodies).has_value());
    for (int i = 0; i < 20; ++i) {
      auto r = queue->receive(1, 1s);
      REQUIRE(r.has_value());
      if (!r->empty()) return r->front();
    }
    FAIL("the record did not arrive");
    return {};
  }

  /// Settles one record on the queue named by `arn`.
  notify::Result<void> settle(const notify::QueueRecord& record, notify::Outcome outcome,
                              const std::string& arn = source_arn) {
    notify::lambda::RecordSource source;
    source.arn = arn;
    source.message_id = record.id;
    target.use_source(source);
    const notify::Settlement s{&record, std::move(outcome)};
    return target.settle(std::span<const notify::Settlement>(&s, 1));
  }
};

}  // namespace

TEST_CASE("a retry is hidden on its source queue for its delay, then comes back") {
  Rig rig;
  const notify::QueueRecord record = rig.deliver(R"({"id":"r-1"})");
  REQUIRE(rig.settle(record, notify::Outcome{notify::Disposition::retry, 2s, "later"}).has_value());
  CHECK(rig.opened == std::vector<std::string>{"https://sqs.us-east-1.amazonaws.com/123456789012/notify"});
  CHECK(rig.server.requests("ChangeMessageVisibilityBatch") == 1);
  // Hidden for the delay (2 s), not for the queue's 30 s.
  const auto start = std::chrono::steady_clock::now();
  CHECK(rig.queue->receive(1, 0ms)->empty());
  std::optional<notify::QueueRecord> back;
  while (!back && std::chrono::steady_clock::now() - start < 15s) {
    auto r = rig.queue->receive(1, 1s);
    REQUIRE(r.has_value());
    if (!r->empty()) back = r->front();
  }
  REQUIRE(back.has_value());
  CHECK(back->body == R"({"id":"r-1"})");
  CHECK(std::chrono::steady_clock::now() - start >= 1500ms);
}

TEST_CASE("a dead letter goes to the redrive target with its reason and leaves the source queue") {
  Rig rig;
  const notify::QueueRecord record = rig.deliver(R"({"type":"NOT_A_TYPE","id":"bad-1","param":{}})");
  REQUIRE(rig.settle(record, notify::Outcome{notify::Disposition::dead_letter, 0ms, "unknown_type"}).has_value());
  auto letters = rig.queue->dead_letters();
  REQUIRE(letters.has_value());
  REQUIRE(letters->size() == 1);
  CHECK(letters->front().body == R"({"type":"NOT_A_TYPE","id":"bad-1","param":{}})");
  CHECK(letters->front().reason == "unknown_type");
  CHECK(letters->front().origin == "https://sqs.us-east-1.amazonaws.com/123456789012/notify");
  CHECK(*rig.queue->pending_count() == 0);  // deleted from the source queue
  CHECK(rig.server.stats()["signatureFailures"] == 0);
}

TEST_CASE("each source queue is opened once and kept, and the outage retries settled on it are recalled") {
  Rig rig;
  const notify::QueueRecord first = rig.deliver(R"({"id":"r-out"})");
  notify::Outcome outage{notify::Disposition::retry, 20s, "redis down"};  // hidden while r-2 comes
  outage.outage = true;
  REQUIRE(rig.settle(first, outage).has_value());
  const notify::QueueRecord again = rig.deliver(R"({"id":"r-2"})");
  CHECK(again.body == R"({"id":"r-2"})");
  REQUIRE(rig.settle(again, notify::Outcome{notify::Disposition::retry, 20s, "later"}).has_value());
  CHECK(rig.opened.size() == 1);
  CHECK(rig.target.open_queues() == 1);

  // The same request delivered again (as Lambda would hand it over): its outage is known.
  std::vector<notify::QueueRecord> records = {first, first};
  records[0].receive_count = records[1].receive_count = 2;  // its second delivery
  records[1].id = "someone-else";
  notify::lambda::RecordSource here;
  here.arn = source_arn;
  notify::lambda::RecordSource elsewhere;
  elsewhere.arn = "arn:aws:sqs:us-east-1:123456789012:other";
  const std::vector<notify::lambda::RecordSource> sources = {here, elsewhere};
  rig.target.recall(records, sources);
  CHECK(records[0].outages == 1);
  CHECK(records[1].outages == 0);  // a queue not opened: nothing known
}

TEST_CASE("a source that is no SQS ARN, or a queue that cannot be opened, fails the settle") {
  Rig rig;
  const notify::QueueRecord record = rig.deliver(R"({"id":"r-3"})");
  auto bad_arn = rig.settle(record, notify::Outcome{notify::Disposition::retry, 1s, "later"}, "not-an-arn");
  CHECK_FALSE(bad_arn.has_value());
  CHECK(rig.opened.empty());

  notify::lambda::SourceQueue refusing([](const std::string&) -> notify::Result<notify::sqs::Queue> {
    return notify::Error{notify::Errc::configuration, "no credentials", {}};
  });
  notify::lambda::RecordSource source;
  source.arn = source_arn;
  refusing.use_source(source);
  const notify::Settlement s{&record, notify::Outcome{notify::Disposition::retry, 1s, "later"}};
  auto r = refusing.settle(std::span<const notify::Settlement>(&s, 1));
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message == "no credentials");
  CHECK(refusing.open_queues() == 0);
}
