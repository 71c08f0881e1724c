// SPDX-License-Identifier: MIT
// notify::sqs::Queue against a real SQS-compatible server (local-aws-sqs, started per test
// behind a front that checks every SigV4 signature and injects faults on request).

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "notify/codec.hpp"
#include "notify/memory/memory.hpp"
#include "notify/processor.hpp"
#include "notify/sqs/queue.hpp"
#include "sqs_server.hpp"

using namespace notify;
using namespace std::chrono_literals;
using notify::test::SqsServer;
using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

namespace {

sqs::Credentials test_credentials() { return {SqsServer::access_key_id, SqsServer::secret, {}, {}}; }

sqs::QueueOptions options_for(const SqsServer& server) {
  sqs::QueueOptions o;
  o.client.endpoint = server.endpoint();
  o.client.region = SqsServer::region;
  o.client.retry_base = 5ms;
  o.client.throttle_base = 10ms;
  return o;
}

/// A server with queues made through our own signed client.
struct Rig {
  SqsServer server;
  sqs::Client admin{server.endpoint(), SqsServer::region, sqs::CredentialProvider::fixed(test_credentials())};

  std::string create(const std::string& name, json attributes = json::object()) {
    auto r = admin.call("CreateQueue", json{{"QueueName", name}, {"Attributes", std::move(attributes)}}.dump());
    REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().message));
    return json::parse(*r)["QueueUrl"].get<std::string>();
  }
  /// A queue with a dead-letter queue (maxReceiveCount as given).
  std::string create_with_dlq(const std::string& name, int max_receive = 5, json attributes = json::object()) {
    bool fifo = name.ends_with(".fifo");
    std::string dlq_name = fifo ? name.substr(0, name.size() - 5) + "-dead.fifo" : name + "-dead";
    create(dlq_name, fifo ? json{{"FifoQueue", "true"}} : json::object());
    attributes["RedrivePolicy"] = json{{"deadLetterTargetArn", "arn:aws:sqs:us-east-1:123456789012:" + dlq_name},
                                       {"maxReceiveCount", std::to_string(max_receive)}}
                                      .dump();
    if (fifo) attributes["FifoQueue"] = "true";
    return create(name, std::move(attributes));
  }
  sqs::Queue open(const std::string& url, sqs::QueueOptions o) {
    auto q = sqs::Queue::open(url, sqs::CredentialProvider::fixed(test_credentials()), std::move(o));
    REQUIRE(q.has_value());
    return std::move(*q);
  }
  sqs::Queue open(const std::string& url) { return open(url, options_for(server)); }
};

std::string poke(Id family, Id user, const std::string& id = {}) {
  std::string envelope = id.empty() ? "" : R"("id":")" + id + R"(",)";
  return R"({"type":"EMOTION_POKE",)" + envelope + R"("param":{"familyId":)" + std::to_string(family) +
         R"(,"userId":)" + std::to_string(user) + "}}";
}

/// Receives until `n` records arrived (or 15 s passed).
std::vector<QueueRecord> receive_n(sqs::Queue& q, std::size_t n) {
  std::vector<QueueRecord> got;
  const auto deadline = Clock::now() + 15s;
  while (got.size() < n && Clock::now() < deadline) {
    auto r = q.receive(n - got.size(), 1s);
    REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().message));
    for (auto& rec : *r) got.push_back(std::move(rec));
  }
  REQUIRE(got.size() == n);
  return got;
}

Result<void> settle_all(sqs::Queue& q, const std::vector<QueueRecord>& batch, Outcome outcome) {
  std::vector<Settlement> s;
  for (const QueueRecord& r : batch) s.push_back({&r, outcome});
  return q.settle(s);
}

}  // namespace

TEST_CASE("send, receive, ack: ids, receive counts and timestamps, nothing left after the ack") {
  Rig rig;
  auto q = rig.open(rig.create("plain"));
  std::vector<std::string> bodies = {poke(1, 2, "req-1"), poke(1, 3), R"({"not":"a request"})"};
  REQUIRE(q.send(bodies).has_value());

  auto got = receive_n(q, 3);
  std::map<std::string, QueueRecord> by_body;
  for (auto& r : got) by_body[r.body] = r;
  REQUIRE(by_body.size() == 3);
  CHECK(by_body[bodies[0]].id == "req-1");            // the envelope id
  CHECK(by_body[bodies[1]].id.starts_with("sqs-"));   // a fresh request id
  CHECK(by_body[bodies[2]].id.starts_with("sqs-"));
  CHECK(by_body[bodies[1]].id != by_body[bodies[2]].id);
  for (const auto& r : got) {
    CHECK(r.receive_count == 1);
    CHECK(r.sent_at_ms > 1'600'000'000'000);
    CHECK_FALSE(r.receipt.empty());
    CHECK(r.group.empty());
  }
  REQUIRE(settle_all(q, got, Outcome{}).has_value());
  auto again = q.receive(10, 1s);
  REQUIRE(again.has_value());
  CHECK(again->empty());
  CHECK(q.pending_count().value() == 0);
  CHECK(rig.server.stats()["signatureFailures"] == 0);
}

TEST_CASE("every call is signed: wrong keys are refused with a structured error and no secret in it") {
  Rig rig;
  std::string url = rig.create("signed");
  auto wrong_secret = sqs::Queue::open(url, sqs::CredentialProvider::fixed({SqsServer::access_key_id, "wrong-secret-xyz", {}, {}}),
                                       options_for(rig.server));
  REQUIRE(wrong_secret.has_value());
  auto r = wrong_secret->receive(1, 0ms);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == Errc::unauthenticated);
  CHECK(r.error().message.find("SignatureDoesNotMatch") != std::string::npos);
  CHECK(r.error().message.find("wrong-secret-xyz") == std::string::npos);

  auto wrong_key = sqs::Queue::open(url, sqs::CredentialProvider::fixed({"AKIDOTHER", SqsServer::secret, {}, {}}),
                                    options_for(rig.server));
  auto r2 = wrong_key->receive(1, 0ms);
  REQUIRE_FALSE(r2.has_value());
  CHECK(r2.error().code == Errc::unauthenticated);
  CHECK(r2.error().message.find("InvalidClientTokenId") != std::string::npos);
  CHECK(rig.server.stats()["signatureFailures"] == 2);
  CHECK(rig.server.requests("ReceiveMessage") == 2);  // a refused signature is not retried

  // Temporary credentials: the session token travels signed (the front refuses it unsigned).
  auto with_token = sqs::Queue::open(
      url, sqs::CredentialProvider::fixed({SqsServer::access_key_id, SqsServer::secret, "session-token-abc", {}}),
      options_for(rig.server));
  REQUIRE(with_token->send(std::vector<std::string>{poke(1, 1)}).has_value());
  CHECK(receive_n(*with_token, 1).size() == 1);
  CHECK(rig.server.stats()["signatureFailures"] == 2);
}

TEST_CASE("retry later: the record stays hidden for the delay, then comes back with a higher receive count") {
  Rig rig;
  auto q = rig.open(rig.create("later", {{"VisibilityTimeout", "30"}}));
  REQUIRE(q.send(std::vector<std::string>{poke(1, 2, "r1")}).has_value());
  auto first = receive_n(q, 1);
  REQUIRE(settle_all(q, first, Outcome{Disposition::retry, 2s, "push failed"}).has_value());
  const auto settled = Clock::now();

  auto hidden = q.receive(10, 0ms);
  REQUIRE(hidden.has_value());
  CHECK(hidden->empty());
  auto back = receive_n(q, 1);
  CHECK(Clock::now() - settled >= 1500ms);  // not before its delay (SQS counts whole seconds)
  CHECK(back[0].id == "r1");
  // 2 on SQS; local-aws-sqs also counts the ChangeMessageVisibility as a receive.
  CHECK(back[0].receive_count >= 2);
  CHECK(back[0].receipt != first[0].receipt);
}

TEST_CASE("dead-letter: the record goes to the dead-letter queue with its reason, list and redrive bring it back") {
  Rig rig;
  auto q = rig.open(rig.create_with_dlq("work"));
  REQUIRE(q.send(std::vector<std::string>{poke(4, 5, "bad-1"), poke(4, 6, "good-1")}).has_value());
  auto got = receive_n(q, 2);
  std::sort(got.begin(), got.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  REQUIRE(got[0].id == "bad-1");
  std::vector<Settlement> s = {{&got[0], Outcome{Disposition::dead_letter, 0ms, R"([{"path":"param.userId","code":"x"}])"}},
                               {&got[1], Outcome{}}};
  REQUIRE(q.settle(s).has_value());
  CHECK(q.dead_letter_url().value() == rig.server.queue_url("work-dead"));

  auto letters = q.dead_letters();
  REQUIRE(letters.has_value());
  REQUIRE(letters->size() == 1);
  const sqs::DeadLetter& d = letters->front();
  CHECK(d.id == "bad-1");
  CHECK(d.body == got[0].body);
  CHECK(d.reason == R"([{"path":"param.userId","code":"x"}])");
  CHECK(d.deliveries == 1);
  CHECK(d.origin == q.url().url);
  CHECK(d.dead_at_ms >= d.sent_at_ms);
  CHECK(q.dead_letters()->size() == 1);  // listing leaves them in place
  auto empty = q.receive(10, 1s);
  CHECK(empty->empty());  // the original was deleted

  CHECK(q.redrive(std::vector<std::string>{"no-such-id"}).value() == 0);
  CHECK(q.redrive(std::vector<std::string>{d.entry_id}).value() == 1);
  auto back = receive_n(q, 1);
  CHECK(back[0].id == "bad-1");
  CHECK(back[0].body == got[0].body);
  CHECK(q.dead_letters()->empty());
}

TEST_CASE("without a dead-letter queue, dead-lettering fails and the record stays") {
  Rig rig;
  auto q = rig.open(rig.create("nodlq", {{"VisibilityTimeout", "1"}}));
  REQUIRE(q.send(std::vector<std::string>{poke(1, 1, "keep-me")}).has_value());
  auto got = receive_n(q, 1);
  auto r = settle_all(q, got, Outcome{Disposition::dead_letter, 0ms, "bad"});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == Errc::configuration);
  CHECK(r.error().message.find("dead-letter") != std::string::npos);
  auto back = receive_n(q, 1);  // visible again after its visibility timeout
  CHECK(back[0].id == "keep-me");
}

TEST_CASE("a record never settled (its worker died) comes back, the redrive policy moves it after maxReceiveCount") {
  Rig rig;
  auto q = rig.open(rig.create_with_dlq("poison", 2, {{"VisibilityTimeout", "1"}}));
  REQUIRE(q.send(std::vector<std::string>{poke(1, 1, "p1")}).has_value());
  for (int i = 1; i <= 2; ++i) {
    auto got = receive_n(q, 1);  // and never settled: visible again after 1 s
    CHECK(got[0].id == "p1");
    CHECK(got[0].receive_count == i);
  }
  // The third receive finds it moved.
  std::vector<sqs::DeadLetter> letters;
  const auto deadline = Clock::now() + 10s;
  while (letters.empty() && Clock::now() < deadline) {
    auto r = q.receive(1, 1s);
    REQUIRE(r.has_value());
    CHECK(r->empty());
    letters = q.dead_letters().value();
  }
  REQUIRE(letters.size() == 1);
  CHECK(letters[0].id == "p1");
  CHECK(letters[0].reason.find("redrive policy") != std::string::npos);
}

TEST_CASE("partial batch failures are handled entry by entry") {
  Rig rig;
  auto q = rig.open(rig.create("partial"));
  SUBCASE("an entry the service failed is sent again; the others once") {
    rig.server.faults(json::array({{{"target", "SendMessageBatch"}, {"action", "fail-entries"}, {"times", 1}}}));
    std::vector<std::string> bodies;
    for (int i = 0; i < 5; ++i) bodies.push_back(poke(1, i + 1, "e" + std::to_string(i)));
    REQUIRE(q.send(bodies).has_value());
    auto got = receive_n(q, 5);
    std::set<std::string> ids;
    for (const auto& r : got) ids.insert(r.id);
    CHECK(ids.size() == 5);
    CHECK(rig.server.requests("SendMessageBatch") == 2);
    auto more = q.receive(10, 1s);
    CHECK(more->empty());  // nothing twice
  }
  SUBCASE("a dead letter the dead-letter queue refuses stays in the queue; the other moves") {
    auto dq = rig.open(rig.create_with_dlq("partial-dl", 5, {{"VisibilityTimeout", "1"}}));
    REQUIRE(dq.send(std::vector<std::string>{poke(1, 1, "d1"), poke(1, 2, "d2")}).has_value());
    auto got = receive_n(dq, 2);
    rig.server.faults(json::array({{{"target", "SendMessageBatch"}, {"action", "refuse-entries"}, {"times", 1}}}));
    auto r = settle_all(dq, got, Outcome{Disposition::dead_letter, 0ms, "bad"});
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().message.find("InvalidParameterValue") != std::string::npos);
    CHECK(dq.dead_letters()->size() == 1);  // the other one
    auto back = receive_n(dq, 1);           // the refused one was not deleted: it comes back
    CHECK(back[0].receive_count == 2);
  }
  SUBCASE("a delete refused for one entry is reported; the others are deleted") {
    REQUIRE(q.send(std::vector<std::string>{poke(1, 1, "a"), poke(1, 2, "b")}).has_value());
    auto got = receive_n(q, 2);
    QueueRecord bogus = got[0];
    bogus.receipt = "not-a-receipt";
    std::vector<Settlement> s = {{&bogus, Outcome{}}, {&got[1], Outcome{}}};
    auto r = q.settle(s);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().message.find("ReceiptHandleIsInvalid") != std::string::npos);
    CHECK(q.pending_count().value() > 0);  // got[0] is still in flight
    std::vector<Settlement> rest = {{&got[0], Outcome{}}};
    REQUIRE(q.settle(rest).has_value());
    CHECK(q.pending_count().value() == 0);  // and got[1] was deleted by the first settle
  }
}

TEST_CASE("throttling and 5xx answers are retried with backoff, a lasting outage is a transient error") {
  Rig rig;
  auto q = rig.open(rig.create("flaky"));
  REQUIRE(q.send(std::vector<std::string>{poke(1, 1, "f1")}).has_value());

  rig.server.faults(json::array({{{"target", "ReceiveMessage"}, {"action", "status500"}, {"times", 1}},
                                 {{"target", "ReceiveMessage"}, {"action", "throttle"}, {"times", 1}}}));
  auto got = q.receive(10, 1s);
  REQUIRE(got.has_value());
  CHECK(got->size() == 1);
  CHECK(q.client().stats().retries == 2);

  rig.server.faults(json::array({{{"target", "DeleteMessageBatch"}, {"action", "throttle"}, {"times", 10}}}));
  auto r = settle_all(q, *got, Outcome{});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == Errc::rate_limited);
  CHECK(is_transient(r.error().code));
  CHECK(rig.server.requests("DeleteMessageBatch") == 3);  // max_attempts
}

TEST_CASE("batches respect 10 entries and the size limit, an oversized body sends nothing") {
  Rig rig;
  auto o = options_for(rig.server);
  o.max_batch_bytes = 4000;
  o.max_message_bytes = 2000;
  auto q = rig.open(rig.create("sizes"), o);
  std::string pad(1000, 'x');
  std::vector<std::string> bodies;
  for (int i = 0; i < 12; ++i)
    bodies.push_back(R"({"type":"EMOTION_POKE","id":"s)" + std::to_string(i) + R"(","param":{"familyId":1,"userId":1},"pad":")" + pad + "\"}");
  REQUIRE(q.send(bodies).has_value());
  CHECK(rig.server.requests("SendMessageBatch") >= 4);  // ~1.5 KB each with attributes: 2 per batch
  auto twelve = receive_n(q, 12);
  REQUIRE(settle_all(q, twelve, Outcome{}).has_value());

  std::vector<std::string> too_big = {poke(1, 1), std::string(2001, 'y')};
  auto r = q.send(too_big);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == Errc::body_too_large);
  auto none = q.receive(10, 1s);
  CHECK(none->empty());  // nothing of that call was sent
  CHECK(q.pending_count().value() == 0);
}

TEST_CASE("FIFO: one group per family keeps each family's order, the request id deduplicates") {
  Rig rig;
  auto q = rig.open(rig.create_with_dlq("ordered.fifo"));
  REQUIRE(q.fifo());
  std::vector<std::string> bodies;
  for (int i = 0; i < 12; ++i) bodies.push_back(poke(i % 2 == 0 ? 10 : 20, i + 1, "o" + std::to_string(i)));
  REQUIRE(q.send(bodies).has_value());
  REQUIRE(q.send(std::vector<std::string>{bodies[0]}).has_value());  // a producer retry: deduplicated
  // Another request reusing an id is not dropped as a duplicate.
  bodies.push_back(poke(10, 13, "o0"));
  REQUIRE(q.send(std::vector<std::string>{bodies.back()}).has_value());

  std::map<std::string, std::vector<Id>> order;  // group -> users in arrival order
  std::size_t total = 0;
  const auto deadline = Clock::now() + 15s;
  while (total < 13 && Clock::now() < deadline) {
    auto batch = q.receive(10, 1s);
    REQUIRE(batch.has_value());
    for (const auto& r : *batch) {
      auto req = decode(r.body);
      REQUIRE(req.has_value());
      order[r.group].push_back(std::get<EmotionPokeParam>(req->param).userId);
    }
    total += batch->size();
    REQUIRE(settle_all(q, *batch, Outcome{}).has_value());
  }
  CHECK(total == 13);
  CHECK(order["family-10"] == std::vector<Id>{1, 3, 5, 7, 9, 11, 13});
  CHECK(order["family-20"] == std::vector<Id>{2, 4, 6, 8, 10, 12});
  auto more = q.receive(10, 1s);
  CHECK(more->empty());

  // A dead letter keeps its group in the FIFO dead-letter queue.
  REQUIRE(q.send(std::vector<std::string>{poke(30, 1, "dl")}).has_value());
  auto one = receive_n(q, 1);
  REQUIRE(settle_all(q, one, Outcome{Disposition::dead_letter, 0ms, "bad"}).has_value());
  auto letters = q.dead_letters().value();
  REQUIRE(letters.size() == 1);
  CHECK(letters[0].id == "dl");
  CHECK(q.redrive({}).value() == 1);
  auto back = receive_n(q, 1);
  CHECK(back[0].group == "family-30");
}

TEST_CASE("the batch processor over SQS: pushes once, acks, and a failed token is retried alone") {
  Rig rig;
  auto q = rig.open(rig.create_with_dlq("worker"));
  memory::MemberStore store;
  for (Id u : {1, 2, 3}) REQUIRE(store.set_member(7, notify::member_v1(u, "u" + std::to_string(u), "tok-" + std::to_string(u), true)));
  memory::PushProvider push;
  memory::InboxSink inbox;
  memory::IdempotencyStore ledger;
  ProcessorOptions po;
  po.base_delay = 1s;
  po.max_delay = 1s;
  BatchProcessor processor(store, push, inbox, ledger, po);
  push.fail_token("tok-3", PushStatus::retry);

  REQUIRE(q.send(std::vector<std::string>{R"({"type":"PEDIA_ANSWER","id":"w1","param":{"familyId":7,"ownerId":1}})"}).has_value());
  auto batch = receive_n(q, 1);
  auto outcomes = processor.process(batch);
  REQUIRE(outcomes.size() == 1);
  CHECK(outcomes[0].disposition == Disposition::retry);
  std::vector<Settlement> s = {{&batch[0], outcomes[0]}};
  REQUIRE(q.settle(s).has_value());
  CHECK(push.sent().size() == 1);  // tok-2 (the owner is not notified; tok-3 failed)

  push.clear_token("tok-3");
  std::atomic<bool> stop{false};
  WorkerOptions wo;
  wo.drain = true;
  wo.wait = 1s;
  REQUIRE(run_worker(q, processor, stop, wo).has_value());
  REQUIRE(push.sent().size() == 2);
  CHECK(push.sent()[1].token == "tok-3");  // only the failed token again
  CHECK(q.pending_count().value() == 0);
  CHECK(q.dead_letters()->empty());
}

TEST_CASE("an inbox array too large for one message goes out as several arrays of whole records") {
  Rig rig;
  auto o = options_for(rig.server);
  o.max_message_bytes = 3000;
  sqs::QueueInbox inbox(rig.open(rig.create("inbox"), o));
  json records = json::array();
  for (int i = 1; i <= 40; ++i)
    records.push_back({{"receiverId", i}, {"title", "우리가 이야기"}, {"body", "오늘의 이야기가 도착했습니다! " + std::to_string(i)}});
  const std::string body = records.dump();
  REQUIRE(body.size() > 3000);
  REQUIRE(inbox.publish(std::vector<std::string>{body, R"([{"receiverId":99,"title":"t","body":"b"}])"}).has_value());
  std::set<int> receivers;
  std::size_t messages = 0;
  const auto deadline = Clock::now() + 15s;
  while (receivers.size() < 41 && Clock::now() < deadline) {
    const auto batch = inbox.queue().receive(10, 1s);
    REQUIRE(batch.has_value());
    for (const auto& r : *batch) {
      ++messages;
      CHECK(r.body.size() <= 3000);
      auto part = json::parse(r.body);
      REQUIRE(part.is_array());
      for (const auto& rec : part) CHECK(receivers.insert(rec["receiverId"].get<int>()).second);  // each once
    }
  }
  CHECK(receivers.size() == 41);
  CHECK(messages >= 3);  // the large array in two or more parts, and the small one
}

// ---- leases: keep_alive ------------------------------------------------------------------

namespace {

std::vector<const QueueRecord*> pointers(const std::vector<QueueRecord>& records) {
  std::vector<const QueueRecord*> out;
  for (const QueueRecord& r : records) out.push_back(&r);
  return out;
}

}  // namespace

TEST_CASE("keep_alive keeps messages hidden past their visibility timeout, and a deleted or invalid receipt is false") {
  static_assert(notify::LeasedQueue<sqs::Queue>);
  Rig rig;
  const std::string url = rig.create("leased", {{"VisibilityTimeout", "2"}});
  auto worker = rig.open(url);
  auto other = rig.open(url);
  std::vector<std::string> bodies;
  for (int i = 0; i < 12; ++i) bodies.push_back(poke(1, i + 1, "k" + std::to_string(i)));
  REQUIRE(worker.send(bodies).has_value());
  auto held = receive_n(worker, 12);

  CHECK(worker.lease_interval() == 666ms);  // the queue's 2 s, read once
  const auto records = pointers(held);
  const auto start = Clock::now();
  int renewals = 0;
  while (Clock::now() - start < 5s) {
    auto alive = worker.keep_alive(records);
    REQUIRE_MESSAGE(alive.has_value(), (alive ? "" : alive.error().message));
    CHECK(*alive == std::vector<bool>(12, true));
    ++renewals;
    auto stolen = other.receive(10, 0ms);
    REQUIRE(stolen.has_value());
    CHECK(stolen->empty());
    std::this_thread::sleep_for(worker.lease_interval());
  }
  MESSAGE("12 messages with a 2 s visibility timeout held 5 s by " << renewals << " renewals");
  CHECK(rig.server.requests("GetQueueAttributes") == 1);
  CHECK(rig.server.requests("ChangeMessageVisibilityBatch") == 2 * renewals);  // 10 + 2 entries

  // One deleted, one receipt that never was: false; the rest still held.
  REQUIRE(settle_all(worker, {held[0]}, Outcome{}).has_value());
  QueueRecord bogus = held[1];
  bogus.receipt = "not-a-receipt";
  const QueueRecord* mixed[] = {&held[0], &bogus, &held[2], nullptr};
  auto alive = worker.keep_alive(mixed);
  REQUIRE(alive.has_value());
  CHECK(*alive == std::vector<bool>{false, false, true, false});

  // Let go, the eleven others come back to the other worker.
  auto back = receive_n(other, 11);
  CHECK(back.size() == 11);
}

TEST_CASE("keep_alive renews to QueueOptions::visibility_timeout when set, without reading the queue's") {
  Rig rig;
  const std::string url = rig.create("leased-option", {{"VisibilityTimeout", "30"}});
  auto o = options_for(rig.server);
  o.visibility_timeout = 3s;
  auto q = rig.open(url, o);
  CHECK(q.lease_interval() == 1000ms);
  REQUIRE(q.send(std::vector<std::string>{poke(1, 1, "o1")}).has_value());
  auto held = receive_n(q, 1);
  const QueueRecord* one[] = {&held[0]};
  CHECK(*q.keep_alive(one) == std::vector<bool>{true});
  CHECK(rig.server.requests("GetQueueAttributes") == 0);
}

TEST_CASE("FIFO: the receipt of an earlier delivery is false once the message was received again") {
  Rig rig;
  auto q = rig.open(rig.create("leased.fifo", {{"FifoQueue", "true"}, {"VisibilityTimeout", "1"}}));
  REQUIRE(q.send(std::vector<std::string>{poke(1, 1, "f1")}).has_value());
  auto first = receive_n(q, 1);
  auto second = receive_n(q, 1);  // not kept alive: visible again after 1 s, received again
  REQUIRE(second[0].id == first[0].id);
  REQUIRE(second[0].receipt != first[0].receipt);
  const QueueRecord* both[] = {&first[0], &second[0]};
  auto alive = q.keep_alive(both);
  REQUIRE_MESSAGE(alive.has_value(), (alive ? "" : alive.error().message));
  CHECK(*alive == std::vector<bool>{false, true});
}

TEST_CASE("keep_alive fails on throttling and service faults instead of guessing") {
  Rig rig;
  auto q = rig.open(rig.create("leased-flaky", {{"VisibilityTimeout", "30"}}));
  REQUIRE(q.send(std::vector<std::string>{poke(1, 1, "t1"), poke(1, 2, "t2")}).has_value());
  auto held = receive_n(q, 2);
  const auto records = pointers(held);

  rig.server.faults(json::array({{{"target", "ChangeMessageVisibilityBatch"}, {"action", "throttle"}, {"times", 10}}}));
  auto throttled = q.keep_alive(records);
  REQUIRE_FALSE(throttled.has_value());
  CHECK(throttled.error().code == Errc::rate_limited);
  CHECK(is_transient(throttled.error().code));

  rig.server.faults(json::array({{{"target", "ChangeMessageVisibilityBatch"}, {"action", "fail-entries"}, {"times", 1}}}));
  auto faulted = q.keep_alive(records);
  REQUIRE_FALSE(faulted.has_value());
  CHECK(is_transient(faulted.error().code));

  rig.server.faults(json::array());
  CHECK(*q.keep_alive(records) == std::vector<bool>{true, true});
}

TEST_CASE("stats: visible, in flight (retries waiting too), delayed and dead messages, as SQS counts them") {
  Rig rig;
  const std::string url = rig.create_with_dlq("counted");
  auto q = rig.open(url);
  auto empty = q.stats();
  REQUIRE_MESSAGE(empty.has_value(), (empty ? "" : empty.error().message));
  CHECK(empty->depth == 0);
  CHECK(empty->pending == 0);
  CHECK(empty->delayed == 0);
  CHECK(empty->dead == 0);
  CHECK(empty->oldest_pending_ms == -1);
  CHECK(empty->consumers.empty());

  REQUIRE(q.send(std::vector<std::string>{poke(1, 1, "s1"), poke(1, 2, "s2"), poke(1, 3, "s3"), poke(1, 4, "s4"),
                                          poke(1, 5, "s5")})
              .has_value());
  // One sent with a delay (notify's producers never do; SQS counts it apart).
  REQUIRE(rig.admin.call("SendMessage", json{{"QueueUrl", url}, {"MessageBody", poke(1, 6)}, {"DelaySeconds", 60}}.dump())
              .has_value());
  auto got = receive_n(q, 3);
  const std::vector<Settlement> s = {{&got[0], Outcome{Disposition::retry, 60s, "later", false}},
                                     {&got[1], Outcome{Disposition::dead_letter, 0ms, "bad", false}}};
  REQUIRE(q.settle(s).has_value());  // got[2] stays in flight

  const int calls = rig.server.requests("GetQueueAttributes");
  auto stats = q.stats();
  REQUIRE_MESSAGE(stats.has_value(), (stats ? "" : stats.error().message));
  CHECK(rig.server.requests("GetQueueAttributes") == calls + 2);  // the queue's, the dead-letter queue's
  CHECK(stats->depth == 2);
  CHECK(stats->pending == 2);  // the retry is hidden for its delay
  CHECK(stats->delayed == 1);
  CHECK(stats->dead == 1);
  CHECK(stats->oldest_pending_ms == -1);
  CHECK(stats->consumers.empty());
  CHECK(*q.pending_count() == 5);  // what will still come back: visible, in flight, delayed
}

TEST_CASE("stats: dead is unknown for a queue without a dead-letter queue, counted in the one given") {
  Rig rig;
  auto plain = rig.open(rig.create("plain"));
  REQUIRE(plain.send(std::vector<std::string>{poke(2, 1, "p1")}).has_value());
  auto stats = plain.stats();
  REQUIRE(stats.has_value());
  CHECK(stats->depth == 1);
  CHECK(stats->dead == -1);

  const std::string elsewhere = rig.create("elsewhere");
  auto o = options_for(rig.server);
  o.dead_letter_url = elsewhere;
  auto given = rig.open(rig.create("given"), o);
  REQUIRE(given.send(std::vector<std::string>{poke(2, 2, "g1")}).has_value());
  auto got = receive_n(given, 1);
  REQUIRE(settle_all(given, got, Outcome{Disposition::dead_letter, 0ms, "bad", false}).has_value());
  stats = given.stats();
  REQUIRE(stats.has_value());
  CHECK(stats->depth == 0);
  CHECK(stats->pending == 0);
  CHECK(stats->dead == 1);
}
