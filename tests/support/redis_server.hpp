// SPDX-License-Identifier: MIT
#pragma once

/// A real redis-server for tests: started on a free loopback port and a unix socket in a
/// fresh temporary directory, stopped by its PID, restartable on the same port and data
/// (to test reconnection). POSIX only. NOTIFY_REDIS_SERVER names the binary.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#ifndef NOTIFY_REDIS_SERVER
#define NOTIFY_REDIS_SERVER "redis-server"
#endif

namespace notify::test {

/// How to run a test server.
struct RedisServerConfig {
  bool persistent = false;        ///< AOF with fsync on every write, to survive a SIGKILL
  std::string password;           ///< requirepass
  std::vector<std::string> args;  ///< more `--option value` arguments
};

class RedisServer {
 public:
  using Config = RedisServerConfig;

  explicit RedisServer(Config config = {}) : config_(std::move(config)) {
    char dir[] = "/tmp/notify-redis-XXXXXX";
    if (mkdtemp(dir) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = dir;
    for (int attempt = 0; attempt < 5 && pid_ < 0; ++attempt) {
      port_ = free_port();
      try_start();
    }
    if (pid_ < 0) throw std::runtime_error("redis-server did not start; see " + dir_ + "/redis.log");
  }
  ~RedisServer() {
    kill();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  /// Starts it again on the same port and directory (after stop() or kill()).
  void start() {
    if (pid_ >= 0) return;
    try_start();
    if (pid_ < 0) throw std::runtime_error("redis-server did not restart; see " + dir_ + "/redis.log");
  }
  /// SIGTERM and wait.
  void stop() { signal_and_wait(SIGTERM); }
  /// SIGKILL and wait: a crash.
  void kill() { signal_and_wait(SIGKILL); }

  int port() const noexcept { return port_; }
  pid_t pid() const noexcept { return pid_; }
  std::string unix_path() const { return dir_ + "/redis.sock"; }
  const std::string& dir() const noexcept { return dir_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }

 private:
  static int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      throw std::runtime_error("cannot find a free port");
    ::close(fd);
    return ntohs(addr.sin_port);
  }

  void try_start() {
    std::vector<std::string> args = {NOTIFY_REDIS_SERVER, "--port", std::to_string(port_), "--bind", "127.0.0.1",
                                     "--dir", dir_, "--unixsocket", unix_path(), "--unixsocketperm", "700",
                                     "--save", "", "--daemonize", "no"};
    if (config_.persistent) args.insert(args.end(), {"--appendonly", "yes", "--appendfsync", "always"});
    else args.insert(args.end(), {"--appendonly", "no"});
    if (!config_.password.empty()) args.insert(args.end(), {"--requirepass", config_.password});
    args.insert(args.end(), config_.args.begin(), config_.args.end());

    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the test
      const int log = ::open((dir_ + "/redis.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      if (log >= 0) {
        ::dup2(log, 1);
        ::dup2(log, 2);
      }
      std::vector<char*> argv;
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    pid_ = pid;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {  // it exited: the port was taken, or a bad option
        pid_ = -1;
        return;
      }
      if (answers_ping()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    kill();
  }

  bool answers_ping() const {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return false;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port_));
    bool ok = false;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 && ::write(fd, "PING\r\n", 6) == 6) {
      char buf[64] = {};
      const ssize_t n = ::read(fd, buf, sizeof buf - 1);
      const std::string reply(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
      ok = reply.rfind("+PONG", 0) == 0 || reply.rfind("-NOAUTH", 0) == 0;  // not -LOADING
    }
    ::close(fd);
    return ok;
  }

  void signal_and_wait(int sig) {
    if (pid_ < 0) return;
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  Config config_;
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace notify::test
