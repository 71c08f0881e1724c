// SPDX-License-Identifier: MIT
#pragma once

/// Test helper: starts tests/support/apns-emulator/emulator.js with throw-away keys
/// (make-pki.sh: a test CA, the server's certificate, an APNs .p8 key) in a temporary
/// directory, and talks to the emulator's control endpoints. Stops the emulator and removes
/// the keys on destruction; the emulator also exits when this process dies (its stdin
/// closes). Needs node and openssl on PATH, and NOTIFY_APNS_EMULATOR_DIR defined to this folder.

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "../http_call.hpp"
#include "../node_service.hpp"

namespace notify::test {

struct ApnsEmulatorOptions {
  bool tls = true;
  int latency_ms = 0;
  int max_concurrent_streams = 1000;
  bool record = true;
  std::string key_id = "KEY1234567";
  std::string team_id = "TEAM123456";
  std::string topic = "com.example.family";
};

class ApnsEmulator {
 public:
  explicit ApnsEmulator(ApnsEmulatorOptions options = {}) : options_(std::move(options)) {
    char tmpl[] = "/tmp/notify-apns-XXXXXX";
    if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    const std::string script = std::string(NOTIFY_APNS_EMULATOR_DIR) + "/make-pki.sh";
    if (std::system((script + " " + dir_).c_str()) != 0) throw std::runtime_error("make-pki.sh failed");
    start();
  }

  ApnsEmulator(const ApnsEmulator&) = delete;
  ApnsEmulator& operator=(const ApnsEmulator&) = delete;

  ~ApnsEmulator() {
    node_.stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  /// The base URL for notify::apns::Options::endpoint.
  std::string url() const { return std::string(options_.tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_); }
  std::string ca_file() const { return dir_ + "/ca.pem"; }
  std::string key_file() const { return dir_ + "/apns.p8"; }
  const std::string& dir() const { return dir_; }
  int port() const { return port_; }
  const ApnsEmulatorOptions& options() const { return options_; }

  nlohmann::json stats() { return nlohmann::json::parse(control("GET", "/_emulator/stats")); }
  nlohmann::json requests() { return nlohmann::json::parse(control("GET", "/_emulator/requests")); }
  void reset() { control("POST", "/_emulator/reset"); }
  void expire_tokens() { control("POST", "/_emulator/expire-tokens"); }
  /// Changes settings while running, e.g. {{"latency_ms", 20}} (kept across reset()).
  void configure(const nlohmann::json& config) { control("POST", "/_emulator/config", config.dump()); }
  /// Replaces the fault rules, e.g. {{"match","^dead-"},{"action","unregistered"}}.
  void faults(const nlohmann::json& rules) { control("POST", "/_emulator/faults", nlohmann::json{{"rules", rules}}.dump()); }

  std::string control(const std::string& method, const std::string& path, const std::string& body = {}) {
    return http_call(url() + path, HttpCall{method, body, {},
                                            options_.tls ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE,
                                            options_.tls ? ca_file() : std::string()});
  }

 private:
  void start() {
    std::vector<std::string> args = {std::string(NOTIFY_APNS_EMULATOR_DIR) + "/emulator.js",
                                     "--key-public", dir_ + "/apns.pub",
                                     "--key-id", options_.key_id,
                                     "--team-id", options_.team_id,
                                     "--topic", options_.topic,
                                     "--latency-ms", std::to_string(options_.latency_ms),
                                     "--max-concurrent-streams", std::to_string(options_.max_concurrent_streams),
                                     "--exit-on-stdin-close"};
    if (options_.tls) {
      for (const char* a : {"--tls-cert", "server.pem", "--tls-key", "server.key"})
        args.push_back(a[0] == '-' ? std::string(a) : dir_ + "/" + a);
    }
    if (!options_.record) args.emplace_back("--no-record");
    const std::string line = node_.start(std::move(args));
    port_ = std::atoi(line.c_str());
    if (port_ <= 0) {
      node_.stop();
      throw std::runtime_error("the APNs emulator did not start (is node installed?)");
    }
  }

  ApnsEmulatorOptions options_;
  std::string dir_;
  NodeService node_;
  int port_ = 0;
};

}  // namespace notify::test
