// SPDX-License-Identifier: MIT
// notify-lambda as a process against the Runtime API emulator: what it answers for each
// event (batchItemFailures, /error, /init/error), what it pushes (--push log lines on
// stdout), the CloudWatch EMF line it writes after each invocation, and when it exits. Members come from a file, so no Redis is needed.

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "rig.hpp"

using namespace std::chrono_literals;
using nlohmann::json;
using notify::test::count_lines;
using notify::test::eventually;
using notify::test::LambdaRuntimeEmulator;
using notify::test::Process;
using notify::test::Rig;
using notify::test::sqs_event;
using notify::test::story_1;
using notify::test::story_4;
using notify::test::emotion_4;


TEST_CASE("NOTIFY_LOG_LEVEL: a line per record's outcome by default, a line per push at debug") {
  for (const bool debug : {false, true}) {
    CAPTURE(debug);
    Rig rig;
    std::map<std::string, std::string> env = {{"NOTIFY_MEMBERS", NOTIFY_MEMBERS_FILE}, {"NOTIFY_PUSH", "log"}};
    if (debug) env["NOTIFY_LOG_LEVEL"] = "debug";
    Process lambda = rig.start(env);
    const std::string id = rig.emulator.enqueue(sqs_event({{"a", story_1}}));
    CHECK(Rig::failures(rig.emulator.wait_answered(id)) == "");
    CHECK(eventually([&] { return count_lines(rig.err(), "step=done") == 1; }, 5s));
    CHECK(count_lines(rig.err(), "step=sent") == (debug ? 2 : 0));
  }
}

TEST_CASE("a batch that is delivered in full is answered with no failures, and the pushes are on stdout") {
  Rig rig;
  Process lambda = rig.start();
  const std::string id = rig.emulator.enqueue(sqs_event({{"a", story_1}, {"b", story_4}}));
  const json inv = rig.emulator.wait_answered(id);
  CHECK(Rig::failures(inv) == "");
  CHECK(eventually([&] { return count_lines(rig.out(), "push ") == 3; }, 5s));  // 엄마/지민 share a token
  CHECK(count_lines(rig.out(), "push token=tok-yu...") == 1);
  // It keeps serving: a second invocation on the same runtime.
  const std::string second = rig.emulator.enqueue(sqs_event({{"c", emotion_4}}));
  CHECK(Rig::failures(rig.emulator.wait_answered(second)) == "");
  CHECK(eventually([&] { return count_lines(rig.out(), "push ") == 4; }, 5s));
  CHECK(lambda.wait(10ms) == std::nullopt);  // still running (then killed)
  CHECK(rig.emulator.results()["connections"] == 1);  // one kept-alive connection throughout
}

TEST_CASE("partial failure: only the record that could not be handled is reported") {
  Rig rig;
  Process lambda = rig.start();
  const std::string id = rig.emulator.enqueue(
      sqs_event({{"good-1", story_4}, {"invalid", R"({"type":"NOT_A_TYPE","param":{}})"}, {"good-2", story_1}}));
  // No queue access is configured, so the dead letter is left to the queue's redrive policy.
  CHECK(Rig::failures(rig.emulator.wait_answered(id)) == "invalid");
  CHECK(eventually([&] { return count_lines(rig.out(), "push ") == 3; }, 5s));
  CHECK(eventually([&] { return count_lines(rig.err(), "step=dead_letter") == 1; }, 5s));
}

TEST_CASE("FIFO: groups keep their order, and a failure is reported with the later records of its group only") {
  Rig rig;
  Process lambda = rig.start();
  const std::string id = rig.emulator.enqueue(sqs_event(
      {{"1", story_4, "g1"}, {"2", "not json", "g1"}, {"3", story_1, "g2"}, {"4", emotion_4, "g1"}}, "notify.fifo"));
  // Record 2 is a dead letter left to the redrive policy (no queue access here): it is
  // reported, and so is record 4 behind it in g1 (delivered; a redelivery pushes nothing).
  CHECK(Rig::failures(rig.emulator.wait_answered(id)) == "2,4");
  CHECK(eventually([&] { return count_lines(rig.err(), "step=dead_letter") == 1; }, 5s));
  // Record 3 was pushed: g2 went on. Record 1 too (family 4's one device).
  CHECK(eventually([&] { return count_lines(rig.out(), "push token=tok-mo...") == 1; }, 5s));
  CHECK(count_lines(rig.out(), "push token=tok-yu...") >= 1);
}

TEST_CASE("FIFO: a record is not started with too little time left before the deadline, and is handed back") {
  Rig rig;
  // A 5 s deadline: of the 5 s reserve only half of that (2.5 s) is kept. Records 1 and
  // 2 (different groups) go together and take 3 s; record 3 would start with 2 s left.
  rig.emulator.configure(json{{"timeout_ms", 5000}});
  Process lambda = rig.start({{"NOTIFY_MEMBERS", NOTIFY_MEMBERS_FILE},
                              {"NOTIFY_PUSH", "log"},
                              {"NOTIFY_PUSH_DELAY_MS", "3000"}});
  const std::string id =
      rig.emulator.enqueue(sqs_event({{"1", story_4, "g1"}, {"2", story_1, "g2"}, {"3", story_4, "g1"}}, "notify.fifo"));
  CHECK(Rig::failures(rig.emulator.wait_answered(id)) == "3");
  CHECK(eventually([&] { return count_lines(rig.err(), "step=time_short") == 1; }, 5s));
  CHECK(count_lines(rig.out(), "push token=tok-yu...") == 1);  // record 3 (family 4 again) was not pushed
}

TEST_CASE("a malformed event fails its invocation with /error, and the runtime goes on") {
  Rig rig;
  Process lambda = rig.start();
  const std::string bad = rig.emulator.enqueue(json{{"Records", {{{"body", "x"}, {"eventSource", "aws:sqs"}}}}});
  const json inv = rig.emulator.wait_answered(bad);
  REQUIRE(inv.is_object());
  CHECK(inv["state"] == "error");
  CHECK(inv["errorType"] == "InvalidEvent");
  const json error = json::parse(inv["error"].get<std::string>());
  CHECK(error["errorType"] == "InvalidEvent");
  CHECK(error["errorMessage"].get<std::string>().find("Records[0].messageId") != std::string::npos);
  CHECK(error["stackTrace"].is_array());

  const std::string not_json = rig.emulator.enqueue_raw("{oops");
  CHECK(rig.emulator.wait_answered(not_json)["state"] == "error");
  const std::string good = rig.emulator.enqueue(sqs_event({{"a", story_4}}));
  CHECK(Rig::failures(rig.emulator.wait_answered(good)) == "");
}

TEST_CASE("a setting that cannot be used is posted to /init/error and the runtime exits 1") {
  struct Case {
    std::map<std::string, std::string> settings;
    std::string says;
  };
  const Case cases[] = {
      {{{"NOTIFY_MEMBERS", NOTIFY_MEMBERS_FILE}, {"NOTIFY_PUSH", "carrier-pigeon"}}, "NOTIFY_PUSH must be"},
      {{{"NOTIFY_PUSH", "log"}}, "--members is required"},
      {{{"NOTIFY_MEMBERS", "/nonexistent/members.json"}, {"NOTIFY_PUSH", "log"}},
       "NOTIFY_MEMBERS: cannot read members file '/nonexistent/members.json': No such file or directory"},
      {{{"NOTIFY_MEMBERS", NOTIFY_MEMBERS_FILE}, {"NOTIFY_PUSH", "fcm"}}, "--fcm-credentials"},
      {{{"NOTIFY_MEMBERS", NOTIFY_MEMBERS_FILE}, {"NOTIFY_PUSH", "log"}, {"NOTIFY_LOG_FORMAT", "xml"}},
       "NOTIFY_LOG_FORMAT must be text or json"},
      {{{"NOTIFY_MEMBERS", NOTIFY_MEMBERS_FILE}, {"NOTIFY_PUSH", "log"}, {"NOTIFY_TIME_RESERVE_MS", "soon"}},
       "NOTIFY_TIME_RESERVE_MS must be a whole number"},
      {{{"NOTIFY_MEMBERS", NOTIFY_MEMBERS_FILE}, {"NOTIFY_PUSH", "log"}, {"NOTIFY_METRICS", "statsd"}},
       "NOTIFY_METRICS must be emf or off"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.says);
    Rig rig;
    Process lambda = rig.start(c.settings);
    CHECK(lambda.wait(10s) == 1);
    const json results = rig.emulator.results();
    REQUIRE(results["initErrors"].size() == 1);
    CHECK(results["initErrors"][0]["errorType"] == "ConfigurationError");
    const json body = json::parse(results["initErrors"][0]["body"].get<std::string>());
    CHECK(body["errorMessage"].get<std::string>().find(c.says) != std::string::npos);
    CHECK(results["invocations"].empty());
    CHECK(results["requests"].size() == 1);  // never asked for an invocation
  }
}

TEST_CASE("without AWS_LAMBDA_RUNTIME_API the runtime says so and exits 1") {
  Rig rig;
  ::unsetenv("AWS_LAMBDA_RUNTIME_API");
  Process lambda({NOTIFY_LAMBDA_PROGRAM}, rig.out(), rig.err());
  CHECK(lambda.wait(10s) == 1);
  CHECK(count_lines(rig.err(), "notify-lambda: AWS_LAMBDA_RUNTIME_API is not set") == 1);
}

TEST_CASE("a container error (500) from the Runtime API makes the runtime exit promptly") {
  Rig rig;
  Process lambda = rig.start();
  rig.emulator.configure({{"post_status", 500}});
  rig.emulator.enqueue(sqs_event({{"a", story_4}}));
  CHECK(lambda.wait(10s) == 1);
  CHECK(eventually([&] { return count_lines(rig.err(), "step=stopped detail=\"container_error") == 1; }, 5s));
}

TEST_CASE("events sent with chunked encoding are read whole") {
  Rig rig;
  rig.emulator.configure({{"chunked", true}});
  Process lambda = rig.start();
  const std::string id = rig.emulator.enqueue(sqs_event({{"a", story_4}, {"b", story_1}}));
  CHECK(Rig::failures(rig.emulator.wait_answered(id)) == "");
  CHECK(eventually([&] { return count_lines(rig.out(), "push ") == 3; }, 5s));
}

TEST_CASE("a keep-alive connection the API closed is reopened, and no invocation is lost") {
  Rig rig;
  rig.emulator.configure({{"drop_after_post", true}});
  Process lambda = rig.start();
  for (int i = 0; i < 5; ++i) {
    CAPTURE(i);
    const std::string id = rig.emulator.enqueue(sqs_event({{"m" + std::to_string(i), story_4}}));
    CHECK(Rig::failures(rig.emulator.wait_answered(id)) == "");
  }
  CHECK(lambda.wait(10ms) == std::nullopt);
  CHECK(rig.emulator.results()["connections"] >= 5);  // reopened after every dropped one
}

TEST_CASE("JSON logs carry the batch and each record's steps") {
  Rig rig;
  Process lambda = rig.start({{"NOTIFY_MEMBERS", NOTIFY_MEMBERS_FILE}, {"NOTIFY_PUSH", "null"}, {"NOTIFY_LOG_FORMAT", "json"}});
  const std::string id = rig.emulator.enqueue(sqs_event({{"a", story_4}}));
  CHECK(Rig::failures(rig.emulator.wait_answered(id)) == "");
  CHECK(eventually([&] { return count_lines(rig.err(), R"({"ts":)") >= 4; }, 5s));
  CHECK(count_lines(rig.out(), "push ") == 0);
  bool saw_done = false;
  for (const std::string& line : notify::test::read_lines(rig.err())) {
    const json j = json::parse(line);
    if (j["step"] == "done") saw_done = j["request"] == "a";
  }
  CHECK(saw_done);
}

TEST_CASE("a member store that cannot be reached reports every record for a retry, and the runtime stays up") {
  Rig rig;
  // Nothing listens on port 1: the lookup fails as "unavailable", which is transient.
  Process lambda = rig.start({{"NOTIFY_MEMBERS", "redis://127.0.0.1:1"}, {"NOTIFY_PUSH", "log"}});
  const std::string id = rig.emulator.enqueue(sqs_event({{"a", story_4}, {"b", story_1}}));
  CHECK(Rig::failures(rig.emulator.wait_answered(id)) == "a,b");
  CHECK(count_lines(rig.out(), "push ") == 0);
  CHECK(lambda.wait(100ms) == std::nullopt);  // not fatal: still serving
  CHECK(rig.emulator.results()["initErrors"].empty());
}

namespace {

/// The EMF lines of notify-lambda's stdout (JSON objects with an "_aws" member), parsed.
std::vector<json> emf_lines(const std::string& path) {
  std::vector<json> out;
  for (const std::string& line : notify::test::read_lines(path))
    if (line.rfind(R"({"_aws":)", 0) == 0) out.push_back(json::parse(line));
  return out;
}

/// The sum of the metrics of `doc` whose names start with `prefix` (a family's series).
double sum_of(const json& doc, std::string_view prefix) {
  double total = 0;
  for (const json& directive : doc["_aws"]["CloudWatchMetrics"])
    for (const json& m : directive["Metrics"])
      if (m["Name"].get<std::string>().starts_with(prefix)) total += doc[m["Name"].get<std::string>()].get<double>();
  return total;
}

}  // namespace

TEST_CASE("after each invocation one EMF line on stdout, with that invocation's counts") {
  Rig rig;
  Process lambda = rig.start({{"NOTIFY_MEMBERS", NOTIFY_MEMBERS_FILE},
                              {"NOTIFY_PUSH", "log"},
                              {"AWS_LAMBDA_FUNCTION_NAME", "notify-emf-test"}});
  // Two records delivered (3 pushes), one of an unknown type (dead-lettered as invalid).
  const std::string first = rig.emulator.enqueue(
      sqs_event({{"a", story_1}, {"bad", R"({"type":"NOT_A_TYPE","param":{}})"}, {"b", story_4}}));
  CHECK(Rig::failures(rig.emulator.wait_answered(first)) == "bad");
  CHECK(eventually([&] { return emf_lines(rig.out()).size() == 1; }, 5s));
  const std::string second = rig.emulator.enqueue(sqs_event({{"c", emotion_4}}));
  CHECK(Rig::failures(rig.emulator.wait_answered(second)) == "");
  CHECK(eventually([&] { return emf_lines(rig.out()).size() == 2; }, 5s));

  const std::vector<json> lines = emf_lines(rig.out());
  REQUIRE(lines.size() == 2);
  for (const json& doc : lines) {
    CAPTURE(doc.dump());
    REQUIRE(doc["_aws"].is_object());
    CHECK(doc["_aws"]["Timestamp"].is_number_integer());
    REQUIRE(doc["_aws"]["CloudWatchMetrics"].is_array());
    REQUIRE_FALSE(doc["_aws"]["CloudWatchMetrics"].empty());
    for (const json& directive : doc["_aws"]["CloudWatchMetrics"]) {
      CHECK(directive["Namespace"] == "notify");
      CHECK(directive["Dimensions"] == json::array({json::array({"FunctionName"})}));
      REQUIRE(directive["Metrics"].is_array());
      CHECK(directive["Metrics"].size() <= 100);
      for (const json& m : directive["Metrics"]) {
        CHECK(m["Unit"].is_string());
        CHECK(doc[m["Name"].get<std::string>()].is_number());
      }
    }
    CHECK(doc["FunctionName"] == "notify-emf-test");
  }
  const json& one = lines[0];
  CHECK(one["notify_records_received_total.type=MESSAGE_TODAY"] == 2);
  CHECK(one["notify_records_received_total.type=unknown"] == 1);
  CHECK(sum_of(one, "notify_records_done_total") == 2);
  CHECK(one["notify_records_dead_lettered_total.type=unknown.reason=invalid"] == 1);
  CHECK(sum_of(one, "notify_records_dead_lettered_total") == 1);
  CHECK(one["notify_pushes_total.provider=log.result=sent"] == 3);
  CHECK(sum_of(one, "notify_pushes_total") == 3);
  const json& two = lines[1];  // the second invocation only, not totals
  CHECK(sum_of(two, "notify_records_received_total") == 1);
  CHECK(two["notify_records_received_total.type=EMOTION_POKE"] == 1);
  CHECK(two["notify_records_done_total.type=EMOTION_POKE"] == 1);
  CHECK(sum_of(two, "notify_records_dead_lettered_total") == 0);
  CHECK(sum_of(two, "notify_pushes_total") == 1);

  // Every other stdout line is a push or an inbox line: nothing else looks like JSON, and
  // each EMF line follows the pushes of its invocation.
  const std::vector<std::string> out = notify::test::read_lines(rig.out());
  std::size_t pushes = 0, emf = 0;
  for (const std::string& line : out) {
    CAPTURE(line);
    if (line.rfind("push ", 0) == 0) ++pushes;
    else if (line.rfind(R"({"_aws":)", 0) == 0) CHECK(pushes == (++emf == 1 ? 3u : 4u));
    else CHECK(line.rfind("inbox ", 0) == 0);
  }
}

TEST_CASE("NOTIFY_METRICS=off: no EMF line") {
  Rig rig;
  Process lambda = rig.start({{"NOTIFY_MEMBERS", NOTIFY_MEMBERS_FILE}, {"NOTIFY_PUSH", "log"}, {"NOTIFY_METRICS", "off"}});
  const std::string id = rig.emulator.enqueue(sqs_event({{"a", story_4}}));
  CHECK(Rig::failures(rig.emulator.wait_answered(id)) == "");
  CHECK(eventually([&] { return count_lines(rig.out(), "push ") == 1; }, 5s));
  std::this_thread::sleep_for(200ms);  // a line would be written right after the response
  CHECK(emf_lines(rig.out()).empty());
  CHECK(count_lines(rig.out(), "{") == 0);
}
