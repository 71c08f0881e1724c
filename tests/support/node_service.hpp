// SPDX-License-Identifier: MIT
#pragma once

/// A Node.js service for tests (the FCM, SQS and Lambda Runtime API emulators; or any
/// other program, such as the Python SMTP server): `node ARGS...` with its stdin on a pipe, so it can exit when the test process dies (the
/// pipe closes), and its first stdout line read as its "ready" announcement. Stopped
/// with SIGTERM and waited for by PID on stop() or destruction. POSIX only.

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace notify::test {

class NodeService {
 public:
  NodeService() = default;
  NodeService(const NodeService&) = delete;
  NodeService& operator=(const NodeService&) = delete;
  ~NodeService() { stop(); }

  /// Starts `program args...` (found on PATH unless it has a '/'); returns the first line
  /// it prints (empty if it exits first).
  std::string start(std::vector<std::string> args, const std::string& program = "node") {
    int out[2], in[2];
    if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(in, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    args.insert(args.begin(), program);
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      ::dup2(in[0], STDIN_FILENO);
      std::vector<char*> argv;
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execvp(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    ::close(in[0]);
    stdin_ = in[1];
    std::string line;
    char c = 0;
    while (::read(out[0], &c, 1) == 1 && c != '\n') line += c;
    ::close(out[0]);
    return line;
  }

  void stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
    if (stdin_ >= 0) {
      ::close(stdin_);
      stdin_ = -1;
    }
  }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
};

}  // namespace notify::test
