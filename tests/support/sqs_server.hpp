// SPDX-License-Identifier: MIT
#pragma once

/// Test helper: starts tests/support/sqs/server.mjs (the npm package local-aws-sqs behind a
/// front that checks SigV4 signatures and injects faults) and talks to its control
/// endpoints. Stops it on destruction; it also exits when this process dies (its stdin
/// closes). Needs node, `npm ci` done in tests/support/sqs, and NOTIFY_SQS_SERVER_DIR.

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "http_call.hpp"
#include "node_service.hpp"

namespace notify::test {

class SqsServer {
 public:
  /// The credentials the server accepts.
  static constexpr const char* access_key_id = "AKIDNOTIFYTEST";
  static constexpr const char* secret = "notify-test-secret";
  static constexpr const char* region = "us-east-1";

  SqsServer() { start(); }
  SqsServer(const SqsServer&) = delete;
  SqsServer& operator=(const SqsServer&) = delete;
  ~SqsServer() { stop(); }

  /// Where signed calls go (the checking front).
  const std::string& endpoint() const { return endpoint_; }
  /// The URL prefix of the server's queue URLs (`<direct>/123456789012/<name>`).
  const std::string& direct() const { return direct_; }
  std::string queue_url(const std::string& name) const { return direct_ + "/123456789012/" + name; }

  nlohmann::json stats() { return nlohmann::json::parse(control("/_test/stats")); }
  void reset() { control("/_test/reset", "{}"); }
  /// Fault rules, e.g. {{{"target","SendMessageBatch"},{"action","status500"},{"times",1}}}.
  void faults(const nlohmann::json& rules) { control("/_test/faults", nlohmann::json{{"rules", rules}}.dump()); }
  /// Requests seen for one operation (all attempts).
  int requests(const std::string& operation) {
    auto s = stats();
    return s["requests"].contains(operation) ? s["requests"][operation].get<int>() : 0;
  }

  /// A POST when `body` is given, else a GET.
  std::string control(const std::string& path, const std::string& body = {}) {
    return http_call(endpoint_ + path, HttpCall{body.empty() ? "GET" : "POST", body, {}, CURL_HTTP_VERSION_NONE, {}});
  }

 private:
  void start() {
    std::vector<std::string> args = {std::string(NOTIFY_SQS_SERVER_DIR) + "/server.mjs",
                                     "--access-key-id", access_key_id, "--secret", secret, "--region", region};
    const std::string line = node_.start(std::move(args));
    auto ready = nlohmann::json::parse(line, nullptr, false);
    if (!ready.is_object() || !ready.contains("endpoint")) {
      stop();
      throw std::runtime_error("the SQS server did not start (node installed? npm ci in tests/support/sqs?)");
    }
    endpoint_ = ready["endpoint"].get<std::string>();
    direct_ = ready["direct"].get<std::string>();
  }

  void stop() { node_.stop(); }

  NodeService node_;
  std::string endpoint_, direct_;
};

}  // namespace notify::test
