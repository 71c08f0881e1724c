// SPDX-License-Identifier: MIT
#pragma once

/// Test helper: starts tests/support/sens-emulator/emulator.js over HTTPS with throw-away
/// test PKI (../fcm-emulator/make-pki.sh: a test CA and the server's certificate) and a
/// secret key file in a temporary directory, and talks to the emulator's control endpoints.
/// Stops the emulator and removes the files on destruction; the emulator also exits when
/// this process dies (its stdin closes). Needs node and openssl on PATH, and
/// NOTIFY_SENS_EMULATOR_DIR and NOTIFY_FCM_EMULATOR_DIR defined to those folders.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "../http_call.hpp"
#include "../node_service.hpp"

namespace notify::test {

class SensEmulator {
 public:
  explicit SensEmulator(std::string access_key = "ncp_iam_TESTACCESSKEY", std::string secret_key = "test/secret+key=")
      : access_key_(std::move(access_key)), secret_key_(std::move(secret_key)) {
    char tmpl[] = "/tmp/notify-sens-XXXXXX";
    if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    const std::string script = std::string(NOTIFY_FCM_EMULATOR_DIR) + "/make-pki.sh";
    if (std::system((script + " " + dir_).c_str()) != 0) throw std::runtime_error("make-pki.sh failed");
    std::ofstream(secret_file()) << secret_key_ << "\n";
    start();
  }

  SensEmulator(const SensEmulator&) = delete;
  SensEmulator& operator=(const SensEmulator&) = delete;

  ~SensEmulator() {
    node_.stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  /// The base URL for notify::sens::Options::base_url.
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }
  std::string ca_file() const { return dir_ + "/ca.pem"; }
  std::string secret_file() const { return dir_ + "/sens.secret"; }
  const std::string& access_key() const { return access_key_; }
  const std::string& secret_key() const { return secret_key_; }

  /// Stops the emulator (its port then refuses connections).
  void kill() { node_.stop(); }

  /// Every send call received so far.
  nlohmann::json received() { return nlohmann::json::parse(control("GET", "/_received"))["requests"]; }
  /// How many connections carried send calls (keep-alive: one for a provider's calls).
  int connections() { return nlohmann::json::parse(control("GET", "/_received"))["connections"].get<int>(); }
  void reset() { control("POST", "/_reset"); }
  /// Answers the next `times` send calls (all, when negative) with `status`.
  void fault(int status, std::string retry_after = {}, int times = -1) {
    nlohmann::json f{{"status", status}};
    if (!retry_after.empty()) f["retry_after"] = retry_after;
    if (times >= 0) f["times"] = times;
    control("POST", "/_fault", f.dump());
  }
  void clear_fault() { control("POST", "/_fault", "{}"); }
  /// Numbers (domestic form) SENS calls invalid.
  void invalid(const std::vector<std::string>& numbers) {
    control("POST", "/_invalid", nlohmann::json{{"numbers", numbers}}.dump());
  }

  std::string control(const std::string& method, const std::string& path, const std::string& body = {}) {
    return http_call(url() + path, HttpCall{method, body, {}, CURL_HTTP_VERSION_1_1, ca_file()});
  }

 private:
  void start() {
    std::vector<std::string> args = {std::string(NOTIFY_SENS_EMULATOR_DIR) + "/emulator.js",
                                     "--access-key", access_key_,
                                     "--secret-key-file", secret_file(),
                                     "--tls-cert", dir_ + "/server.pem",
                                     "--tls-key", dir_ + "/server.key",
                                     "--exit-on-stdin-close"};
    const std::string line = node_.start(std::move(args));
    port_ = std::atoi(line.c_str());
    if (port_ <= 0) {
      node_.stop();
      throw std::runtime_error("the SENS emulator did not start (is node installed?)");
    }
  }

  std::string access_key_, secret_key_;
  std::string dir_;
  NodeService node_;
  int port_ = 0;
};

}  // namespace notify::test
