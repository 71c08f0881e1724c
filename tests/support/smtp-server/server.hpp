// SPDX-License-Identifier: MIT
#pragma once

/// Test helper: starts tests/support/smtp-server/server.py (aiosmtpd, with /usr/bin/python3)
/// on a free loopback port with throw-away TLS keys (../fcm-emulator/make-pki.sh: a test CA
/// and a certificate for 127.0.0.1) in a temporary directory, and reads the messages it
/// received (the raw bytes and Python's reading of them as JSON). Stops the server and
/// removes the directory on destruction; the server also exits when this process dies (its
/// stdin closes). Needs python3-aiosmtpd and openssl, and NOTIFY_SMTP_SERVER_DIR defined
/// to this folder. POSIX only.

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "node_service.hpp"

namespace notify::test {

struct SmtpServerOptions {
  enum class Tls { starttls, implicit, none };
  Tls tls = Tls::starttls;  ///< none: plaintext, no STARTTLS offered
  std::string user = "notify";
  std::string password = "correct horse battery staple";  ///< empty user: no AUTH
};

class SmtpServer {
 public:
  explicit SmtpServer(SmtpServerOptions options = {}) : options_(std::move(options)) {
    char tmpl[] = "/tmp/notify-smtp-XXXXXX";
    if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    const std::string script = std::string(NOTIFY_SMTP_SERVER_DIR) + "/../fcm-emulator/make-pki.sh";
    if (std::system((script + " " + dir_ + "/pki").c_str()) != 0) throw std::runtime_error("make-pki.sh failed");
    start();
  }

  SmtpServer(const SmtpServer&) = delete;
  SmtpServer& operator=(const SmtpServer&) = delete;

  ~SmtpServer() {
    stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  /// smtp://127.0.0.1:PORT (smtps:// with implicit TLS).
  std::string url() const {
    return std::string(options_.tls == SmtpServerOptions::Tls::implicit ? "smtps" : "smtp") + "://127.0.0.1:" +
           std::to_string(port_);
  }
  std::string ca_file() const { return dir_ + "/pki/ca.pem"; }
  const std::string& dir() const { return dir_; }
  std::string maildir() const { return dir_ + "/mail"; }
  int port() const { return port_; }
  const SmtpServerOptions& options() const { return options_; }

  /// The messages received so far, in order: {"raw": bytes as received, "json": Python's reading}.
  struct Received {
    std::string raw;
    nlohmann::json json;
  };
  std::vector<Received> received() const {
    std::vector<Received> out;
    for (int n = 1;; ++n) {
      char name[16];
      std::snprintf(name, sizeof name, "/%04d", n);
      const std::string base = maildir() + name;
      if (!std::filesystem::exists(base + ".json")) break;
      out.push_back(Received{read(base + ".eml"), nlohmann::json::parse(read(base + ".json"))});
    }
    return out;
  }

  /// Connections the server has accepted so far.
  int connections() const {
    const std::string s = read(maildir() + "/connections", true);
    return s.empty() ? 0 : std::atoi(s.c_str());
  }

  /// Whether a hold-* recipient has been kept waiting at RCPT TO.
  bool holding() const { return std::filesystem::exists(maildir() + "/holding"); }
  /// Lets hold-* recipients through, those waiting and any later ones.
  void release() const { std::ofstream(maildir() + "/release").close(); }

  void stop() { service_.stop(); }

 private:
  static std::string read(const std::string& path, bool may_be_missing = false) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      if (may_be_missing) return {};
      throw std::runtime_error("cannot read " + path);
    }
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }

  void start() {
    std::vector<std::string> args = {std::string(NOTIFY_SMTP_SERVER_DIR) + "/server.py",
                                     "--maildir", maildir()};
    if (options_.tls != SmtpServerOptions::Tls::none) {
      for (const char* a : {"--cert", "server.pem", "--key", "server.key"})
        args.push_back(a[0] == '-' ? std::string(a) : dir_ + "/pki/" + a);
      if (options_.tls == SmtpServerOptions::Tls::implicit) args.emplace_back("--implicit-tls");
    }
    if (!options_.user.empty()) {
      args.insert(args.end(), {"--user", options_.user, "--password", options_.password});
    }
    const std::string line = service_.start(std::move(args), "/usr/bin/python3");
    port_ = std::atoi(line.c_str());
    if (port_ <= 0) {
      stop();
      throw std::runtime_error("the SMTP server did not start (is python3-aiosmtpd installed?)");
    }
  }

  SmtpServerOptions options_;
  std::string dir_;
  NodeService service_;  // python3 server.py, with its stdin on a pipe
  int port_ = 0;
};

}  // namespace notify::test
