// SPDX-License-Identifier: MIT
// notify::app's URL factories and settings checks: which transport a URL builds, and what
// a URL that names none is told.

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "notify/app/app.hpp"
#include "notify/memory/memory.hpp"
#include "notify/redis/redis.hpp"
#include "notify/sqs/sqs.hpp"

namespace app = notify::app;
using namespace std::chrono_literals;

namespace {

/// Fixed AWS credentials in the environment, for SQS URLs (nothing is called).
struct AwsEnvironment {
  AwsEnvironment() {
    ::setenv("AWS_ACCESS_KEY_ID", "AKIDAPPUNIT", 1);
    ::setenv("AWS_SECRET_ACCESS_KEY", "app-unit-secret", 1);
  }
};

/// Options parsed from a command line (argv[0] is skipped).
struct Parsed {
  app::Options opts;
  std::string error;
  Parsed(app::Options o, std::vector<std::string> args) : opts(std::move(o)) {
    std::vector<char*> argv = {const_cast<char*>("test")};
    for (std::string& a : args) argv.push_back(a.data());
    error = opts.parse(static_cast<int>(argv.size()), argv.data(), 1);
  }
};

app::Options worker_options() {
  app::Options o{{"queue"},         {"members"},         {"push"},         {"drain", false}, {"log-format"},
          {"batch-size"},    {"inbox"},           {"dead-letter"},  {"claim-idle-ms"}, {"push-delay-ms"},
          {"fcm-credentials"}, {"fcm-endpoint"},  {"ca-file"},      {"fcm-connections"}, {"fcm-streams"},
          {"log-level"},     {"max-in-flight"},   {"apns-key"},     {"apns-key-id"},  {"apns-team-id"},
          {"apns-topic"},    {"apns-endpoint"},     {"apns-connections"}, {"apns-streams"}};
  app::add_channel_options(o);
  return o;
}

std::string temp_file(const std::string& name, const std::string& content) {
  const auto path = std::filesystem::temp_directory_path() / ("notify-app-unit-" + name);
  std::ofstream(path) << content;
  return path.string();
}

}  // namespace

TEST_CASE("scheme_of tells the kinds of place apart") {
  CHECK(app::scheme_of("memory:requests.jsonl") == app::Scheme::memory);
  CHECK(app::scheme_of("redis://127.0.0.1:6379/notify") == app::Scheme::redis);
  CHECK(app::scheme_of("unix:///run/redis.sock") == app::Scheme::redis);
  CHECK(app::scheme_of("https://sqs.us-east-1.amazonaws.com/1/q") == app::Scheme::sqs);
  CHECK(app::scheme_of("http://127.0.0.1:9324/1/q") == app::Scheme::sqs);
  CHECK(app::scheme_of("amqp://broker/q") == app::Scheme::other);
  CHECK(app::scheme_of("members.json") == app::Scheme::file);
  CHECK(app::memory_path("memory:-") == "-");
  CHECK(app::memory_path("members.json") == "members.json");
}

TEST_CASE("for_log leaves a Redis password out") {
  const std::string url = "redis://user:s3cret@127.0.0.1:6380/jobs";
  const std::string logged = app::for_log(url, app::Scheme::redis, true);
  CHECK(logged.find("s3cret") == std::string::npos);
  CHECK(logged.find("/jobs") != std::string::npos);
  CHECK(app::for_log("redis://:pw@127.0.0.1:6379/2", app::Scheme::redis, false).find("pw") == std::string::npos);
  CHECK(app::for_log("memory:x", app::Scheme::memory, true) == "memory:x");
}

TEST_CASE("make_queue builds a Redis queue from a redis:// URL, connecting to nothing") {
  auto q = app::make_queue("redis://127.0.0.1:1/jobs");
  REQUIRE(q.has_value());
  REQUIRE(q->get<notify::redis::Queue>() != nullptr);
  CHECK(q->get<notify::memory::Queue>() == nullptr);
  CHECK(q->get<notify::redis::Queue>()->options().stream == "jobs");
  CHECK(q->has_priorities());
  CHECK(q->where() == "redis://127.0.0.1:1/jobs");
  CHECK(q->where(app::Priority::high) == "redis://127.0.0.1:1/jobs:high");
  CHECK(q->dead_letter_place() == "jobs:dead");
}

TEST_CASE("make_queue passes the claim idle time to Redis and accepts only its own dead-letter stream") {
  app::QueueSettings settings;
  settings.claim_idle = 1234ms;
  settings.dead_letter = "jobs:dead";
  auto q = app::make_queue("redis://127.0.0.1:1/jobs", settings);
  REQUIRE(q.has_value());
  CHECK(q->get<notify::redis::Queue>()->options().claim_idle == 1234ms);
  settings.dead_letter = "redis://127.0.0.1:1/jobs:dead";
  CHECK(app::make_queue("redis://127.0.0.1:1/jobs", settings).has_value());

  settings.dead_letter = "jobs:dlq";
  auto wrong = app::make_queue("redis://127.0.0.1:1/jobs", settings);
  REQUIRE_FALSE(wrong.has_value());
  CHECK(wrong.error().path == "dead_letter");
  CHECK(wrong.error().message.find("'jobs:dead'") != std::string::npos);
  settings.dead_letter = "redis://127.0.0.1:2/jobs:dead";  // another server's
  CHECK_FALSE(app::make_queue("redis://127.0.0.1:1/jobs", settings).has_value());
}

TEST_CASE("make_queue builds an SQS queue from an https:// queue URL") {
  AwsEnvironment aws;
  auto q = app::make_queue("https://sqs.ap-northeast-2.amazonaws.com/123456789012/notify.fifo");
  REQUIRE(q.has_value());
  REQUIRE(q->get<notify::sqs::Queue>() != nullptr);
  CHECK(q->get<notify::sqs::Queue>()->fifo());
  CHECK_FALSE(q->has_priorities());
  CHECK(q->where() == "https://sqs.ap-northeast-2.amazonaws.com/123456789012/notify.fifo");
  const std::vector<std::string> bodies = {"{}"};
  auto high = q->send(bodies, app::Priority::high);  // refused before any call
  REQUIRE_FALSE(high.has_value());
  CHECK(high.error().message.find("priorities") != std::string::npos);

  auto bad = app::make_queue("https://sqs.ap-northeast-2.amazonaws.com/notify");
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().message.find("not an SQS queue URL") != std::string::npos);
}

TEST_CASE("make_queue builds an empty memory queue whose record ids are fresh for each queue") {
  auto a = app::make_queue("memory:requests.jsonl");
  auto b = app::make_queue("memory:requests.jsonl");
  REQUIRE(a.has_value());
  REQUIRE(b.has_value());
  auto* qa = a->get<notify::memory::Queue>();
  REQUIRE(qa != nullptr);
  CHECK(qa->id_prefix.starts_with("m-"));
  CHECK(qa->id_prefix != b->get<notify::memory::Queue>()->id_prefix);
  CHECK(a->where() == "memory:requests.jsonl");
  CHECK(qa->ready() == 0);

  app::QueueSettings settings;
  settings.claim_idle = 50ms;
  auto c = app::make_queue("memory:x", settings);
  CHECK(c->get<notify::memory::Queue>()->visibility_timeout == 50ms);
}

TEST_CASE("a URL that names no queue is told the valid forms") {
  for (const char* url : {"amqp://broker/notify", "requests.jsonl", ""}) {
    CAPTURE(url);
    auto q = app::make_queue(url);
    REQUIRE_FALSE(q.has_value());
    CHECK(q.error().code == notify::Errc::configuration);
    CHECK(q.error().message == "unknown kind of queue; use " + std::string(app::queue_forms));
  }
  CHECK(app::queue_forms.find("redis://HOST:PORT/STREAM") != std::string_view::npos);
  CHECK(app::queue_forms.find("SQS queue URL") != std::string_view::npos);
  CHECK(app::queue_forms.find("memory:FILE") != std::string_view::npos);
  auto no_stream = app::make_queue("redis://127.0.0.1:6379");
  REQUIRE_FALSE(no_stream.has_value());
  CHECK(no_stream.error().message.find("names no stream") != std::string::npos);
}

TEST_CASE("make_stores builds Redis stores from redis:// and in-memory ones from a file or memory:") {
  auto redis = app::make_stores("redis://127.0.0.1:1/2");
  REQUIRE(redis.has_value());
  CHECK(redis->members.get<notify::redis::MemberStore>() != nullptr);
  auto memory = app::make_stores("members.json");
  REQUIRE(memory.has_value());
  CHECK(memory->members.get<notify::memory::MemberStore>() != nullptr);
  CHECK(app::make_stores("memory:members.json")->members.get<notify::memory::MemberStore>() != nullptr);

  auto bad = app::make_stores("https://members.example/");
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().message == "unknown kind of member store; use redis://HOST:PORT[/DB] or a members FILE");
}

TEST_CASE("make_inbox builds a printing, Redis stream or SQS inbox, and lists the forms otherwise") {
  AwsEnvironment aws;
  CHECK(app::make_inbox("log")->get<app::PrintingInbox>() != nullptr);
  CHECK(app::make_inbox("null")->get<app::PrintingInbox>() != nullptr);
  CHECK(app::make_inbox("redis://127.0.0.1:1/inbox")->get<notify::redis::StreamInbox>() != nullptr);
  CHECK(app::make_inbox("https://sqs.us-east-1.amazonaws.com/1/inbox")->get<notify::sqs::QueueInbox>() != nullptr);
  for (const char* url : {"stdout", "amqp://broker/inbox", "memory:x"}) {
    CAPTURE(url);
    auto bad = app::make_inbox(url);
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error().message == "unknown kind of inbox; use " + std::string(app::inbox_forms));
  }
}

TEST_CASE("load_members fills an in-memory store, reports what it skips, and refuses other stores") {
  auto stores = app::make_stores("members.json");
  REQUIRE(stores.has_value());
  std::vector<std::string> skipped;
  const std::string error = app::load_members(
      stores->members,
      R"({"family:3": {"user:4": "{\"userName\":\"민준\",\"fcmToken\":\"tok-4\"}", "nope": "x"}, "families": {}})",
      [&](const std::string& where, const std::string&) { skipped.push_back(where); });
  CHECK(error.empty());
  CHECK(skipped == std::vector<std::string>{"family:3.nope", "families"});
  const std::vector<notify::Id> ids = {3};
  auto lookup = stores->members.families(ids);
  REQUIRE(lookup.has_value());
  REQUIRE(lookup->families.size() == 1);

  CHECK(app::load_members(stores->members, "{", [](auto&, auto&) {}).starts_with("not valid JSON at byte"));
  auto redis = app::make_stores("redis://127.0.0.1:1");
  CHECK_FALSE(app::load_members(redis->members, "{}", [](auto&, auto&) {}).empty());
}

TEST_CASE("check_flags names each setting as it was given and lists the valid forms") {
  {
    Parsed p(worker_options(), {"--queue", "memory:x", "--members", "ftp://store.example", "--push", "log"});
    auto problem = app::check_flags(p.opts);
    REQUIRE(problem.has_value());
    CHECK(problem->exit_code == app::exit_usage);
    CHECK(problem->usage);
    CHECK(problem->message ==
          "--members ftp://store.example: unknown kind of member store; use redis://HOST:PORT[/DB] or a members FILE");
  }
  {
    Parsed p(worker_options(), {"--members", "m.json", "--push", "log", "--fcm-streams", "2"});
    CHECK(app::check_flags(p.opts)->message == "--fcm-streams goes with --push fcm");
  }
  {
    Parsed p(worker_options(), {"--members", "m.json", "--push", "carrier-pigeon"});
    CHECK(app::check_flags(p.opts)->message == "--push must be log, null, or services from fcm, apns, email, sms, alimtalk separated by commas");
  }
  {
    Parsed p(worker_options(), {"--members", "m.json", "--push", "log", "--inbox", "amqp://b/i"});
    CHECK(app::check_flags(p.opts)->message ==
          "--inbox amqp://b/i: unknown kind of inbox; use log, null, redis://HOST:PORT/STREAM or an SQS queue URL");
  }
  {
    Parsed p(worker_options(), {"--members", "m.json", "--push", "log"});
    CHECK_FALSE(app::check_flags(p.opts).has_value());
  }
}

TEST_CASE("--push takes fcm and apns together, and the APNs settings go with apns") {
  CHECK(app::push_services("fcm,apns") == std::vector<std::string>{"fcm", "apns"});
  CHECK(app::push_services("apns,fcm,apns") == std::vector<std::string>{"apns", "fcm"});
  CHECK_FALSE(app::push_services("log,fcm").has_value());
  CHECK_FALSE(app::push_services("fcm,").has_value());
  {
    Parsed p(worker_options(), {"--members", "m.json", "--push", "fcm", "--fcm-credentials", "sa.json", "--apns-topic",
                                "com.example"});
    CHECK(app::check_flags(p.opts)->message == "--apns-topic goes with --push apns");
  }
  {
    Parsed p(worker_options(), {"--members", "m.json", "--push", "log", "--apns-streams", "50"});
    CHECK(app::check_flags(p.opts)->message == "--apns-streams goes with --push apns");
  }
  {
    Parsed p(worker_options(), {"--members", "m.json", "--push", "fcm,apns", "--fcm-credentials", "sa.json",
                                "--apns-key", "k.p8", "--apns-key-id", "K", "--apns-team-id", "T"});
    CHECK(app::check_flags(p.opts)->message ==
          "--push apns needs --apns-topic BUNDLE-ID (or NOTIFY_APNS_TOPIC)");
  }
  {
    Parsed p(worker_options(), {"--members", "m.json", "--push", "apns", "--apns-key", "k.p8", "--apns-key-id", "K",
                                "--apns-team-id", "T", "--apns-topic", "com.example", "--apns-endpoint", "apple"});
    CHECK(app::check_flags(p.opts)->message == "--apns-endpoint must be production, sandbox or an http(s):// URL");
  }
  {
    Parsed p(worker_options(), {"--members", "m.json", "--push", "apns", "--apns-key", "k.p8", "--apns-key-id", "K",
                                "--apns-team-id", "T", "--apns-topic", "com.example", "--apns-endpoint", "sandbox"});
    CHECK_FALSE(app::check_flags(p.opts).has_value());
  }
  {
    Parsed p(worker_options(), {"--members", "m.json", "--push", "apns", "--apns-key", "/nonexistent/k.p8",
                                "--apns-key-id", "K", "--apns-team-id", "T", "--apns-topic", "com.example"});
    std::optional<app::AnyPusher> pusher;
    std::string description;
    const auto problem = app::build_pusher(p.opts, pusher, description);
    REQUIRE(problem.has_value());
    CHECK(problem->exit_code == app::exit_no_input);
    CHECK(problem->message.starts_with("cannot read the APNs signing key '/nonexistent/k.p8'"));
  }
}

TEST_CASE("check_queue_flags refuses what the queue kind cannot do") {
  {
    Parsed p(worker_options(), {"--queue", "memory:x", "--dead-letter", "x"});
    CHECK(app::check_queue_flags(p.opts)->message ==
          "--dead-letter goes with Redis and SQS queues (a memory queue keeps its dead letters)");
  }
  {
    Parsed p(worker_options(), {"--queue", "requests.jsonl"});
    CHECK(app::check_queue_flags(p.opts)->message == "--queue must be " + std::string(app::queue_forms));
  }
  {
    Parsed p(worker_options(), {"--queue", "memory:x", "--claim-idle-ms", "0"});
    CHECK(app::check_queue_flags(p.opts)->message == "--claim-idle-ms must be a whole number from 1 up");
  }
}

TEST_CASE("build_worker_queue loads a memory:FILE queue and reports an unreadable one with exit 66") {
  const std::string path = temp_file("queue.jsonl", "{\"a\":1}\n\n{\"b\":2}\r\n");
  Parsed p(worker_options(), {"--queue", "memory:" + path});
  std::optional<app::AnyQueue> queue;
  std::size_t loaded = 0;
  REQUIRE_FALSE(app::build_worker_queue(p.opts, queue, loaded).has_value());
  CHECK(loaded == 2);
  auto got = queue->receive(10, 0ms);
  REQUIRE(got.has_value());
  REQUIRE(got->size() == 2);
  CHECK((*got)[1].body == "{\"b\":2}");

  Parsed dir(worker_options(), {"--queue", "memory:" + std::filesystem::temp_directory_path().string()});
  std::optional<app::AnyQueue> none;
  auto problem = app::build_worker_queue(dir.opts, none, loaded);
  REQUIRE(problem.has_value());
  CHECK(problem->exit_code == app::exit_no_input);
  CHECK(problem->message.find("is a directory") != std::string::npos);
}

TEST_CASE("build_shared_queue takes Redis and SQS only, and no --dead-letter for Redis") {
  app::Options ctl{{"queue"}, {"dead-letter"}};
  {
    Parsed p(ctl, {"--queue", "memory:x"});
    std::optional<app::AnyQueue> q;
    auto problem = app::build_shared_queue(p.opts, q);
    REQUIRE(problem.has_value());
    CHECK(problem->message == "--queue memory:x: notifyctl needs " + std::string(app::shared_queue_forms) +
                                  "; memory: queues live inside one notify-worker");
  }
  {
    Parsed p(ctl, {"--queue", "redis://127.0.0.1:1/n", "--dead-letter", "n:dead"});
    std::optional<app::AnyQueue> q;
    CHECK(app::build_shared_queue(p.opts, q)->message ==
          "--dead-letter goes with SQS queues (a Redis queue's is always STREAM:dead)");
  }
  {
    Parsed p(ctl, {"--queue", "redis://127.0.0.1:1/n"});
    std::optional<app::AnyQueue> q;
    REQUIRE_FALSE(app::build_shared_queue(p.opts, q).has_value());
    CHECK(q->get<notify::redis::Queue>() != nullptr);
  }
}

TEST_CASE("build_pusher builds the printing provider for log and null, and FCM from a key file") {
  Parsed p(worker_options(), {"--members", "m.json", "--push", "null", "--push-delay-ms", "0"});
  std::optional<app::AnyPusher> pusher;
  std::string description;
  REQUIRE_FALSE(app::build_pusher(p.opts, pusher, description).has_value());
  CHECK(description == "null");
  CHECK(pusher->get<app::PrintingPushProvider>() != nullptr);
  CHECK(pusher->connect().has_value());

  Parsed missing(worker_options(), {"--members", "m.json", "--push", "fcm", "--fcm-credentials", "/nonexistent/sa.json"});
  std::optional<app::AnyPusher> none;
  auto problem = app::build_pusher(missing.opts, none, description);
  REQUIRE(problem.has_value());
  CHECK(problem->exit_code == app::exit_no_input);
  CHECK(problem->message.starts_with("cannot read the service-account file '/nonexistent/sa.json'"));
}

namespace {

/// A push provider whose credentials check answers `code`.
struct RefusingPusher {
  notify::Errc code;
  std::vector<notify::PushResult> send(std::span<const notify::Push> p) { return std::vector<notify::PushResult>(p.size()); }
  notify::Result<void> connect() { return notify::Error{code, "token endpoint said no", {}}; }
};

}  // namespace

TEST_CASE("connect_pusher stops on rejected credentials and only logs an endpoint that cannot be reached yet") {
  const app::EventLog log(false);
  app::AnyPusher rejected{RefusingPusher{notify::Errc::unauthenticated}};
  auto problem = app::connect_pusher(rejected, log);
  REQUIRE(problem.has_value());
  CHECK(problem->exit_code == app::exit_failure);
  CHECK(problem->message == "FCM did not accept the service account: token endpoint said no");
  app::AnyPusher down{RefusingPusher{notify::Errc::unavailable}};
  CHECK_FALSE(app::connect_pusher(down, log).has_value());
  app::AnyPusher printing{app::PrintingPushProvider(false)};
  CHECK_FALSE(app::connect_pusher(printing, log).has_value());
}

TEST_CASE("describe_places names each place without a password") {
  Parsed p(worker_options(), {"--queue", "redis://:pw@127.0.0.1:6379/jobs", "--members", "redis://:pw@127.0.0.1:6379/2",
                              "--inbox", "null", "--push", "log"});
  CHECK(app::describe_places(p.opts, true) ==
        "queue=redis://:***@127.0.0.1:6379/jobs members=redis://:***@127.0.0.1:6379/2 inbox=null");
  CHECK(app::describe_places(p.opts, false) == "members=redis://:***@127.0.0.1:6379/2 inbox=null");
}

TEST_CASE("worker_summary counts a memory queue's loaded records, and another queue's settlements") {
  auto memory = app::make_queue("memory:x");
  const std::vector<std::string> bodies = {"a", "b"};
  REQUIRE(memory->send(bodies).has_value());
  auto got = memory->receive(1, 0ms);
  const std::vector<notify::Settlement> done = {{&got->front(), {}}};
  REQUIRE(memory->settle(done).has_value());
  const app::AnyPusher pusher{app::PrintingPushProvider(false)};
  CHECK(app::worker_summary(*memory, 2, pusher) == "2 records: 1 done, 0 dead-lettered, 0 pending; 0 pushes");

  auto redis = app::make_queue("redis://127.0.0.1:1/jobs");  // nothing listens: pending is unknown
  CHECK(app::worker_summary(*redis, 0, pusher) == "0 records: 0 done, 0 retried, 0 dead-lettered, unknown pending; 0 pushes");
}
