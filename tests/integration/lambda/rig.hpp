// SPDX-License-Identifier: MIT
#pragma once

/// What the notify-lambda process tests share: the Runtime API emulator, a scratch
/// directory, notify-lambda started with given settings, and SQS events to feed it.

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "lambda-runtime/emulator.hpp"
#include "process.hpp"

namespace notify::test {

using nlohmann::json;


/// The emulator, a scratch directory, and notify-lambda started with given settings.
struct Rig {
  LambdaRuntimeEmulator emulator;
  std::string dir;

  Rig() {
    char tmpl[] = "/tmp/notify-lambda-test-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir = tmpl;
  }
  ~Rig() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  Rig(const Rig&) = delete;
  Rig& operator=(const Rig&) = delete;

  std::string out() const { return dir + "/out.txt"; }
  std::string err() const { return dir + "/err.txt"; }

  /// Starts notify-lambda with the NOTIFY_* settings given (the rest unset).
  Process start(const std::map<std::string, std::string>& settings) {
    for (const char* name : {"NOTIFY_MEMBERS", "NOTIFY_PUSH", "NOTIFY_INBOX", "NOTIFY_LOG_FORMAT",
                             "NOTIFY_FCM_CREDENTIALS", "NOTIFY_FCM_ENDPOINT", "NOTIFY_CA_FILE", "NOTIFY_PUSH_DELAY_MS",
                             "NOTIFY_FCM_CONNECTIONS", "NOTIFY_FCM_STREAMS", "NOTIFY_TIME_RESERVE_MS", "NOTIFY_LOG_LEVEL",
                             "NOTIFY_METRICS", "AWS_LAMBDA_FUNCTION_NAME"})
      ::unsetenv(name);
    for (const char* name : {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_SQS",
                             "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"})
      ::unsetenv(name);  // no queue access unless a test gives it
    for (const auto& [name, value] : settings) ::setenv(name.c_str(), value.c_str(), 1);
    ::setenv("AWS_LAMBDA_RUNTIME_API", emulator.endpoint().c_str(), 1);
    return Process({NOTIFY_LAMBDA_PROGRAM}, out(), err());
  }
  Process start() { return start({{"NOTIFY_MEMBERS", NOTIFY_MEMBERS_FILE}, {"NOTIFY_PUSH", "log"}}); }

  /// The failed itemIdentifiers of a response invocation, joined with commas.
  static std::string failures(const json& inv) {
    REQUIRE(inv.is_object());
    REQUIRE(inv["state"] == "response");
    const json response = json::parse(inv["response"].get<std::string>());
    std::string out;
    for (const auto& f : response.at("batchItemFailures"))
      out += (out.empty() ? "" : ",") + f.at("itemIdentifier").get<std::string>();
    return out;
  }
};

struct Rec {
  std::string id;
  std::string body;
  std::string group = {};
};

inline json sqs_event(const std::vector<Rec>& records, const std::string& queue = "notify") {
  json list = json::array();
  for (const Rec& r : records) {
    json attributes = {{"ApproximateReceiveCount", "1"},
                       {"SentTimestamp", "1700000000000"},
                       {"SenderId", "AIDAIENQZJOLO23YVJ4VO"},
                       {"ApproximateFirstReceiveTimestamp", "1700000000001"}};
    if (!r.group.empty()) {
      attributes["MessageGroupId"] = r.group;
      attributes["SequenceNumber"] = "18849496460467696128";
      attributes["MessageDeduplicationId"] = r.id;
    }
    list.push_back({{"messageId", r.id},
                    {"receiptHandle", "AQEB-" + r.id},
                    {"body", r.body},
                    {"attributes", attributes},
                    {"messageAttributes", json::object()},
                    {"md5OfBody", "7b270e59b47ff90a553787216d55d91d"},
                    {"eventSource", "aws:sqs"},
                    {"eventSourceARN", "arn:aws:sqs:ap-northeast-2:123456789012:" + queue},
                    {"awsRegion", "ap-northeast-2"}});
  }
  return {{"Records", list}};
}

// Family 1 has 엄마 (1), 아빠 (2), 민준 (3, no token) and 지민 (5, 엄마's token); family 4 has 유진 (31).
inline const std::string story_1 = R"({"type":"MESSAGE_TODAY","param":{"familyIds":[1]}})";
inline const std::string story_4 = R"({"type":"MESSAGE_TODAY","param":{"familyIds":[4]}})";
inline const std::string emotion_4 = R"({"type":"EMOTION_POKE","param":{"familyId":4,"userId":31}})";


}  // namespace notify::test
