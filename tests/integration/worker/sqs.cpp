// SPDX-License-Identifier: MIT
// notify-worker as a process on an SQS queue (the SQS test server: local-aws-sqs behind a
// SigV4-checking front) with its members and "already sent" markers in a real
// redis-server: a worker killed mid-batch, two workers sharing a queue, a FIFO queue's
// order per family. Pushes are counted from `--push log` lines, keyed by token and
// messageId, so a push sent twice or never shows up. Time only paces the tests.

#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "notify/codec.hpp"
#include "notify/redis/redis.hpp"
#include "notify/sqs/sqs.hpp"
#include "process.hpp"
#include "samples.hpp"
#include "redis_server.hpp"
#include "sqs_server.hpp"

using namespace notify;
using namespace std::chrono_literals;
using notify::test::differences;
using notify::test::eventually;
using notify::test::Process;
using notify::test::PushCounts;
using notify::test::RedisServer;
using notify::test::SqsServer;
using json = nlohmann::json;

namespace {

struct Rig : notify::test::WorkerFiles {
  static constexpr Id family_count = 4;

  /// `queue_name` is created with a dead-letter queue and the given visibility timeout.
  explicit Rig(const std::string& queue_name, int visibility_seconds = 30) : store(redis_options()) {
    char tmpl[] = "/tmp/notify-worker-sqs-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    ::setenv("AWS_ACCESS_KEY_ID", SqsServer::access_key_id, 1);
    ::setenv("AWS_SECRET_ACCESS_KEY", SqsServer::secret, 1);
    ::setenv("AWS_REGION", SqsServer::region, 1);
    ::setenv("AWS_ENDPOINT_URL_SQS", sqs.endpoint().c_str(), 1);
    ::unsetenv("AWS_SESSION_TOKEN");
    const bool fifo = queue_name.ends_with(".fifo");
    const std::string dead = fifo ? queue_name.substr(0, queue_name.size() - 5) + "-dead.fifo" : queue_name + "-dead";
    create(dead, fifo ? json{{"FifoQueue", "true"}} : json::object());
    json attributes = {{"VisibilityTimeout", std::to_string(visibility_seconds)},
                       {"RedrivePolicy", json{{"deadLetterTargetArn", "arn:aws:sqs:us-east-1:123456789012:" + dead},
                                              {"maxReceiveCount", "10"}}
                                             .dump()}};
    if (fifo) attributes["FifoQueue"] = "true";
    url = create(queue_name, attributes);
    auto q = sqs::Queue::open(url);
    REQUIRE(q.has_value());
    producer.emplace(std::move(*q));
    for (Id f = 1; f <= family_count; ++f)
      for (Id u = 1; u <= 3; ++u)
        REQUIRE(store.set_member(f, notify::member_v1(u, "member" + std::to_string(u), token(f, u), true)).has_value());
  }
  ~Rig() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  Rig(const Rig&) = delete;
  Rig& operator=(const Rig&) = delete;

  redis::Options redis_options() const {
    auto o = redis::parse_url(redis_server.url());
    REQUIRE(o.has_value());
    return *o;
  }

  std::string create(const std::string& name, json attributes) {
    sqs::Client admin(sqs.endpoint(), SqsServer::region,
                      sqs::CredentialProvider::fixed({SqsServer::access_key_id, SqsServer::secret, {}, {}}));
    auto r = admin.call("CreateQueue", json{{"QueueName", name}, {"Attributes", std::move(attributes)}}.dump());
    REQUIRE(r.has_value());
    return json::parse(*r)["QueueUrl"].get<std::string>();
  }

  static std::string token(Id family, Id user) { return notify::test::sample_token(family, user); }

  /// Publishes requests 1..n (see comment_requests) and records the pushes each must lead to.
  void publish(int n) { REQUIRE(producer->send(notify::test::comment_requests(n, family_count, expected)).has_value()); }


  std::unique_ptr<Process> worker(const std::string& name, std::vector<std::string> extra) const {
    std::vector<std::string> argv = {NOTIFY_WORKER_PROGRAM, "--queue", url, "--members", redis_server.url(),
                                     "--push", "log", "--inbox", "null", "--log-format", "text", "--log-level", "debug"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return std::make_unique<Process>(std::move(argv), out(name), err(name));
  }


  RedisServer redis_server;
  SqsServer sqs;
  std::string url;
  redis::MemberStore store;
  std::optional<sqs::Queue> producer;
  PushCounts expected;
};

}  // namespace

TEST_CASE("on SQS, a worker killed mid-batch leaves its records to come back after the visibility timeout: none lost, none pushed twice") {
  Rig rig("killed", 3);
  rig.publish(30);
  auto a = rig.worker("a", {"--push-delay-ms", "2000", "--batch-size", "10"});
  REQUIRE(eventually([&] { return rig.events("a", "done") == 10 && rig.events("a", "received") == 20; }));
  a->signal(SIGKILL);
  REQUIRE(a->wait().has_value());
  const auto done_a = rig.requests("a", "done");
  REQUIRE(done_a.size() == 10);

  auto b = rig.worker("b", {"--drain"});
  const auto status_b = b->wait(90s);
  REQUIRE(status_b.has_value());
  CHECK(*status_b == 0);
  const auto done_b = rig.requests("b", "done");
  for (const std::string& id : done_a) CHECK_MESSAGE(!done_b.contains(id), id << " was done twice");
  CHECK(done_a.size() + done_b.size() == 30);
  const PushCounts all = rig.pushes({"a", "b"});
  CHECK_MESSAGE(all == rig.expected, differences(all, rig.expected));
  CHECK(rig.producer->pending_count().value() == 0);
  CHECK(rig.producer->dead_letters()->empty());
  CHECK(rig.sqs.stats()["signatureFailures"] == 0);
}

TEST_CASE("on SQS, a draining worker that may not count the queue's messages stops with the error") {
  Rig rig("notify-count-refused");
  rig.publish(3);
  // Every GetQueueAttributes is refused, as for a role without sqs:GetQueueAttributes
  // (the dead-letter queue is named, so the worker need not read the redrive policy).
  rig.sqs.faults(json::array({{{"target", "GetQueueAttributes"}, {"action", "access-denied"}, {"times", 1000}}}));
  auto worker = rig.worker("w", {"--drain", "--dead-letter", rig.sqs.queue_url("notify-count-refused-dead")});
  REQUIRE(worker->wait(60s) == 1);  // not a drain that polls forever
  const PushCounts pushed = rig.pushes({"w"});
  CHECK_MESSAGE(pushed == rig.expected, differences(pushed, rig.expected));  // what it received was delivered first
  bool said = false;
  for (const std::string& line : notify::test::read_lines(rig.err("w")))
    said = said || (line.starts_with("notify-worker: stopped: ") && line.find("AccessDenied") != std::string::npos);
  CHECK(said);
}

TEST_CASE("on SQS, two workers share a queue and no push is sent twice") {
  Rig rig("shared");
  rig.publish(40);
  auto a = rig.worker("a", {"--drain", "--batch-size", "5"});
  auto b = rig.worker("b", {"--drain", "--batch-size", "5"});
  REQUIRE(a->wait(90s) == 0);
  REQUIRE(b->wait(90s) == 0);
  const PushCounts all = rig.pushes({"a", "b"});
  CHECK_MESSAGE(all == rig.expected, differences(all, rig.expected));
  CHECK(rig.requests("a", "done").size() + rig.requests("b", "done").size() == 40);
}

TEST_CASE("on a FIFO queue, each family's requests are pushed in the order they were published") {
  Rig rig("ordered.fifo");
  rig.publish(24);
  auto w = rig.worker("w", {"--drain"});
  REQUIRE(w->wait(90s) == 0);
  const PushCounts all = rig.pushes({"w"});
  CHECK_MESSAGE(all == rig.expected, differences(all, rig.expected));
  // Per family, the messageIds of the pushes to one recipient rise.
  std::map<std::string, std::vector<int>> by_token;
  for (const std::string& line : notify::test::read_lines(rig.out("w"))) {
    if (line.rfind("push token=", 0) != 0) continue;
    const std::string token = line.substr(11, line.find(" title=") - 11);
    const auto id_at = line.find("{\"messageId\":") + 13;
    by_token[token].push_back(std::stoi(line.substr(id_at, line.find('}', id_at) - id_at)));
  }
  REQUIRE(by_token.size() == 2 * Rig::family_count);
  for (const auto& [token, ids] : by_token) {
    CAPTURE(token);
    CHECK(std::is_sorted(ids.begin(), ids.end()));
    CHECK(ids.size() == 6);
  }
}
