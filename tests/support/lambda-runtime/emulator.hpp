// SPDX-License-Identifier: MIT
#pragma once

/// Test helper: starts tests/support/lambda-runtime/emulator.js (a Lambda Runtime API
/// emulator) on a free loopback port and talks to its control endpoints with a tiny
/// HTTP/1.1 client (one connection per call). Stops the emulator on destruction; it also
/// exits when this process dies (its stdin closes). Needs node on PATH and
/// NOTIFY_LAMBDA_EMULATOR_DIR defined to this folder. POSIX only.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "../node_service.hpp"

namespace notify::test {

class LambdaRuntimeEmulator {
 public:
  LambdaRuntimeEmulator() { start(); }
  LambdaRuntimeEmulator(const LambdaRuntimeEmulator&) = delete;
  LambdaRuntimeEmulator& operator=(const LambdaRuntimeEmulator&) = delete;
  ~LambdaRuntimeEmulator() { stop(); }

  /// The value for AWS_LAMBDA_RUNTIME_API.
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }
  int port() const noexcept { return port_; }

  /// Queues one event (any JSON value); returns its request id.
  std::string enqueue(const nlohmann::json& event) {
    return nlohmann::json::parse(control("POST", "/_emulator/events", event.dump()))["ids"][0].get<std::string>();
  }
  /// Queues a body as it is (it need not be JSON); returns its request id.
  std::string enqueue_raw(const std::string& body) {
    return nlohmann::json::parse(control("POST", "/_emulator/raw-event", body))["ids"][0].get<std::string>();
  }
  nlohmann::json results() { return nlohmann::json::parse(control("GET", "/_emulator/results")); }
  void configure(const nlohmann::json& config) { control("POST", "/_emulator/config", config.dump()); }
  void reset() { control("POST", "/_emulator/reset"); }

  /// The recorded invocation `id` (null if unknown).
  nlohmann::json invocation(const std::string& id) {
    const nlohmann::json all = results();
    for (const auto& inv : all["invocations"])
      if (inv["id"] == id) return inv;
    return nullptr;
  }

  /// Polls until invocation `id` was answered (response or error); returns it, or null.
  nlohmann::json wait_answered(const std::string& id, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      nlohmann::json inv = invocation(id);
      if (inv.is_object() && (inv["state"] == "response" || inv["state"] == "error")) return inv;
      if (std::chrono::steady_clock::now() >= deadline) return nullptr;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  /// One request to the emulator; returns the answer body, throws on a transport error.
  std::string control(const std::string& method, const std::string& path, const std::string& body = {}) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error("socket failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port_));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd);
      throw std::runtime_error("cannot connect to the Lambda emulator");
    }
    std::string req = method + " " + path + " HTTP/1.1\r\nHost: " + endpoint() +
                      "\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: " +
                      std::to_string(body.size()) + "\r\n\r\n" + body;
    for (std::size_t off = 0; off < req.size();) {
      const ssize_t n = ::send(fd, req.data() + off, req.size() - off, MSG_NOSIGNAL);
      if (n <= 0) {
        ::close(fd);
        throw std::runtime_error("send to the Lambda emulator failed");
      }
      off += static_cast<std::size_t>(n);
    }
    std::string answer;
    char buf[65536];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) answer.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
    const auto split = answer.find("\r\n\r\n");
    if (answer.compare(0, 12, "HTTP/1.1 200") != 0 || split == std::string::npos)
      throw std::runtime_error("Lambda emulator " + path + ": " + answer.substr(0, 200));
    return answer.substr(split + 4);  // answers carry Content-Length and the connection closes
  }

 private:
  void start() {
    std::vector<std::string> args = {std::string(NOTIFY_LAMBDA_EMULATOR_DIR) + "/emulator.js",
                                     "--exit-on-stdin-close"};
    const std::string line = node_.start(std::move(args));
    port_ = std::atoi(line.c_str());
    if (port_ <= 0) {
      stop();
      throw std::runtime_error("the Lambda runtime emulator did not start (is node installed?)");
    }
  }

  void stop() { node_.stop(); }

  NodeService node_;
  int port_ = 0;
};

}  // namespace notify::test
