// SPDX-License-Identifier: MIT
// notify::lambda::RuntimeClient itself against the Runtime API emulator: the invocation
// headers, the trace variable, error posts, and how each refusal is reported.

#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "lambda-runtime/emulator.hpp"
#include "notify/lambda/runtime.hpp"

using nlohmann::json;
using notify::Errc;
using notify::lambda::ErrorReport;
using notify::lambda::RuntimeClient;
using notify::test::LambdaRuntimeEmulator;

namespace {
std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace

TEST_CASE("next() hands over the event with its request id, deadline, function ARN and trace id") {
  LambdaRuntimeEmulator emulator;
  const std::string id = emulator.enqueue(json{{"Records", json::array()}});
  RuntimeClient client(emulator.endpoint());
  auto inv = client.next();
  REQUIRE(inv);
  CHECK(inv->request_id == id);
  CHECK(json::parse(inv->body) == json{{"Records", json::array()}});
  CHECK(inv->deadline_ms > now_ms());
  CHECK(inv->function_arn == "arn:aws:lambda:ap-northeast-2:123456789012:function:notify");
  CHECK(inv->trace_id.rfind("Root=1-", 0) == 0);
  const char* trace = std::getenv("_X_AMZN_TRACE_ID");
  REQUIRE(trace != nullptr);
  CHECK(std::string(trace) == inv->trace_id);
  REQUIRE(client.respond(inv->request_id, R"({"batchItemFailures":[]})"));
  CHECK(emulator.invocation(id)["response"] == R"({"batchItemFailures":[]})");
}

TEST_CASE("an error post carries the error type header and the errorMessage/errorType/stackTrace body") {
  LambdaRuntimeEmulator emulator;
  const std::string id = emulator.enqueue(json::object());
  RuntimeClient client(emulator.endpoint());
  auto inv = client.next();
  REQUIRE(inv);
  REQUIRE(client.error(inv->request_id, ErrorReport{"InvalidEvent", "Records: \"missing\"\nsecond line"}));
  const json recorded = emulator.invocation(id);
  CHECK(recorded["state"] == "error");
  CHECK(recorded["errorType"] == "InvalidEvent");
  const json body = json::parse(recorded["error"].get<std::string>());
  CHECK(body == json{{"errorMessage", "Records: \"missing\"\nsecond line"}, {"errorType", "InvalidEvent"},
                     {"stackTrace", json::array()}});
  // The same id cannot be answered twice: any other refusal is a protocol error.
  auto again = client.respond(inv->request_id, "{}");
  REQUIRE_FALSE(again);
  CHECK(again.error().code == Errc::protocol_error);
}

TEST_CASE("a response above 6 MB is refused (413) as body_too_large, and the invocation can still fail") {
  LambdaRuntimeEmulator emulator;
  const std::string id = emulator.enqueue(json::object());
  RuntimeClient client(emulator.endpoint());
  auto inv = client.next();
  REQUIRE(inv);
  auto r = client.respond(inv->request_id, std::string(6 * 1024 * 1024 + 1, 'x'));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::body_too_large);
  REQUIRE(client.error(inv->request_id, ErrorReport{"Runtime.ResponseTooLarge", "too large"}));
  CHECK(emulator.invocation(id)["state"] == "error");
}

TEST_CASE("a 500 container error is reported so that the runtime exits, from a post and from init/error") {
  LambdaRuntimeEmulator emulator;
  emulator.enqueue(json::object());
  RuntimeClient client(emulator.endpoint());
  auto inv = client.next();
  REQUIRE(inv);
  emulator.configure({{"post_status", 500}});
  auto r = client.respond(inv->request_id, "{}");
  REQUIRE_FALSE(r);
  CHECK(notify::lambda::must_exit(r.error()));

  REQUIRE(client.init_error(ErrorReport{"ConfigurationError", "bad"}));
  const json results = emulator.results();
  REQUIRE(results["initErrors"].size() == 1);
  CHECK(results["initErrors"][0]["errorType"] == "ConfigurationError");
}

TEST_CASE("an API that cannot be reached is reported as unavailable, and a missing variable as configuration") {
  RuntimeClient client("127.0.0.1:1");
  auto inv = client.next();
  REQUIRE_FALSE(inv);
  CHECK(inv.error().code == Errc::unavailable);
  CHECK(inv.error().message.find("127.0.0.1:1") != std::string::npos);

  const char* saved = std::getenv("AWS_LAMBDA_RUNTIME_API");
  const std::string keep = saved ? saved : "";
  ::unsetenv("AWS_LAMBDA_RUNTIME_API");
  auto none = RuntimeClient::from_environment();
  REQUIRE_FALSE(none);
  CHECK(none.error().code == Errc::configuration);
  if (saved) ::setenv("AWS_LAMBDA_RUNTIME_API", keep.c_str(), 1);
}

TEST_CASE("an IPv6 endpoint in brackets is understood") {
  RuntimeClient client("[::1]:1");
  auto inv = client.next();
  REQUIRE_FALSE(inv);
  CHECK(inv.error().code == Errc::unavailable);
}
