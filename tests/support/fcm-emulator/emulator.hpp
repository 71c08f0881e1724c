// SPDX-License-Identifier: MIT
#pragma once

/// Test helper: starts tests/support/fcm-emulator/emulator.js with throw-away keys
/// (make-pki.sh) in a temporary directory, where the emulator also writes the matching
/// service-account file, and talks to the emulator's control endpoints. Stops the emulator and removes the keys on
/// destruction; the emulator also exits when this process dies (its stdin closes).
/// Needs node and openssl on PATH, and NOTIFY_FCM_EMULATOR_DIR defined to this folder.

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "../http_call.hpp"
#include "../node_service.hpp"

namespace notify::test {

struct EmulatorOptions {
  bool tls = false;
  int expires_in = 3600;         ///< lifetime of the access tokens it issues, seconds
  int latency_ms = 0;            ///< added before every messages:send answer
  int max_concurrent_streams = 1000;  ///< its HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS
  bool record = true;            ///< keep every request body (off for benchmarks)
  bool content_length = false;   ///< send content-length with answers (FCM's are assumed not to)
  std::string project = "notify-test";
};

class FcmEmulator {
 public:
  explicit FcmEmulator(EmulatorOptions options = {}) : options_(std::move(options)) {
    char tmpl[] = "/tmp/notify-fcm-XXXXXX";
    if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    const std::string script = std::string(NOTIFY_FCM_EMULATOR_DIR) + "/make-pki.sh";
    if (std::system((script + " " + dir_).c_str()) != 0) throw std::runtime_error("make-pki.sh failed");
    start();
  }

  FcmEmulator(const FcmEmulator&) = delete;
  FcmEmulator& operator=(const FcmEmulator&) = delete;

  ~FcmEmulator() {
    stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  /// The base URL for notify::fcm::Options::endpoint.
  std::string url() const { return std::string(options_.tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_); }
  std::string token_uri() const { return url() + "/token"; }
  std::string ca_file() const { return dir_ + "/ca.pem"; }
  std::string service_account_file() const { return dir_ + "/service-account.json"; }
  std::string private_key_file() const { return dir_ + "/sa.key"; }
  const std::string& dir() const { return dir_; }
  int port() const { return port_; }
  const EmulatorOptions& options() const { return options_; }

  nlohmann::json stats() { return nlohmann::json::parse(control("GET", "/_emulator/stats")); }
  nlohmann::json requests() { return nlohmann::json::parse(control("GET", "/_emulator/requests")); }
  void reset() { control("POST", "/_emulator/reset"); }
  void revoke_tokens() { control("POST", "/_emulator/revoke"); }
  /// Replaces the fault rules, e.g. {{"match","^dead-"},{"action","unregistered"}}.
  void faults(const nlohmann::json& rules) { control("POST", "/_emulator/faults", nlohmann::json{{"rules", rules}}.dump()); }
  void configure(const nlohmann::json& config) { control("POST", "/_emulator/config", config.dump()); }
  /// Takes the emulator down for `ms` milliseconds (no listener, every connection
  /// destroyed), then up again on the same port; stats() tells last_down_ms and last_up_ms.
  void outage(int ms) { control("POST", "/_emulator/outage", nlohmann::json{{"ms", ms}}.dump()); }

  /// The recorded request bodies sent to `token`, oldest first.
  std::vector<std::string> bodies_for(const std::string& token) {
    std::vector<std::string> out;
    for (const auto& r : requests())
      if (r["token"].is_string() && r["token"] == token) out.push_back(r["body"].get<std::string>());
    return out;
  }

  /// One request to the emulator; returns the answer body, throws on a transport error.
  std::string control(const std::string& method, const std::string& path, const std::string& body = {},
                      const std::vector<std::string>& headers = {}) {
    return http_call(url() + path,
                     HttpCall{method, body, headers,
                              options_.tls ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE,
                              options_.tls ? ca_file() : std::string()});
  }

 private:
  void start() {
    std::vector<std::string> args = {std::string(NOTIFY_FCM_EMULATOR_DIR) + "/emulator.js",
                                     "--sa-public-key", dir_ + "/sa.pub",
                                     "--project", options_.project,
                                     "--expires-in", std::to_string(options_.expires_in),
                                     "--latency-ms", std::to_string(options_.latency_ms),
                                     "--max-concurrent-streams", std::to_string(options_.max_concurrent_streams),
                                     "--exit-on-stdin-close",
                                     "--service-account-out", service_account_file(),
                                     "--sa-private-key", private_key_file()};
    if (options_.tls) {
      for (const char* a : {"--tls-cert", "server.pem", "--tls-key", "server.key"})
        args.push_back(a[0] == '-' ? std::string(a) : dir_ + "/" + a);
    }
    if (!options_.record) args.emplace_back("--no-record");
    if (options_.content_length) args.emplace_back("--content-length");
    const std::string line = node_.start(std::move(args));
    port_ = std::atoi(line.c_str());
    if (port_ <= 0) {
      stop();
      throw std::runtime_error("the FCM emulator did not start (is node installed?)");
    }
  }

  void stop() { node_.stop(); }

  EmulatorOptions options_;
  std::string dir_;
  NodeService node_;
  int port_ = 0;
};

}  // namespace notify::test
