// SPDX-License-Identifier: MIT
#pragma once

/// A child process for tests: argv run with stdout and stderr to files, signalled and
/// waited for by PID, killed with SIGKILL if the test leaves it running (and if the
/// test process dies). Plus small helpers to read what it wrote. POSIX only.

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace notify::test {

class Process {
 public:
  /// Starts argv[0] (a path) with stdin from /dev/null.
  Process(std::vector<std::string> argv, const std::string& out_path, const std::string& err_path) {
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      const int in = ::open("/dev/null", O_RDONLY);
      const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (in < 0 || out < 0 || err < 0) ::_exit(126);
      ::dup2(in, 0);
      ::dup2(out, 1);
      ::dup2(err, 2);
      std::vector<char*> args;
      for (std::string& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    pid_ = pid;
  }
  ~Process() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  void signal(int sig) const {
    if (pid_ > 0) ::kill(pid_, sig);
  }

  /// The exit status (a signal N as 128 + N), or nullopt if it did not end within
  /// `limit`; it is then killed.
  std::optional<int> wait(std::chrono::milliseconds limit = std::chrono::seconds(60)) {
    if (pid_ <= 0) return status_;
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return status_;
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
        return std::nullopt;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  pid_t pid() const noexcept { return pid_; }

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

/// The lines of a file (none if it does not exist).
inline std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

/// A line without the event log's leading `ts=... ` pair (other lines as they are).
inline std::string_view without_time(std::string_view line) {
  if (!line.starts_with("ts=")) return line;
  const auto space = line.find(' ');
  return space == std::string_view::npos ? std::string_view{} : line.substr(space + 1);
}

/// How many lines of a file start with `prefix` (event lines: after their timestamp).
inline std::size_t count_lines(const std::string& path, const std::string& prefix) {
  std::size_t n = 0;
  for (const std::string& line : read_lines(path))
    if (without_time(line).starts_with(prefix)) ++n;
  return n;
}

/// Polls `ready` every 20 ms until it holds or `limit` passes; true if it held.
inline bool eventually(const std::function<bool()>& ready, std::chrono::milliseconds limit = std::chrono::seconds(60)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!ready()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

/// How often each (shortened token, messageId) was pushed, from `--push log` lines.
using PushCounts = std::map<std::string, int>;

/// The pushes in the given worker outputs; each push line must carry a messageId param.
inline PushCounts count_pushes(const std::vector<std::string>& out_paths) {
  PushCounts counts;
  for (const std::string& path : out_paths)
    for (const std::string& line : read_lines(path)) {
      if (line.rfind("push token=", 0) != 0) continue;
      const auto token_end = line.find(" title=");
      const auto id_at = line.find("{\"messageId\":");
      if (token_end == std::string::npos || id_at == std::string::npos)
        throw std::runtime_error("a push line without token or messageId: " + line);
      const std::string token = line.substr(11, token_end - 11);
      const std::string id = line.substr(id_at + 13, line.find('}', id_at) - id_at - 13);
      ++counts[token + " " + id];
    }
  return counts;
}

/// A readable diff of push counts, for failure messages.
inline std::string differences(const PushCounts& got, const PushCounts& expected) {
  std::string out;
  for (const auto& [key, n] : expected)
    if (auto it = got.find(key); it == got.end() || it->second != n)
      out += key + ": " + std::to_string(it == got.end() ? 0 : it->second) + " pushes\n";
  for (const auto& [key, n] : got)
    if (!expected.contains(key)) out += key + ": unexpected, " + std::to_string(n) + " pushes\n";
  return out;
}

/// The output files of the workers a test starts in `dir` (NAME.out, NAME.err) and what
/// they say: pushes (`--push log`), and the requests of each step (`--log-format text`).
struct WorkerFiles {
  std::string dir;

  std::string out(const std::string& name) const { return dir + "/" + name + ".out"; }
  std::string err(const std::string& name) const { return dir + "/" + name + ".err"; }

  /// The pushes in the named workers' outputs.
  PushCounts pushes(std::initializer_list<std::string> names) const {
    std::vector<std::string> paths;
    for (const std::string& name : names) paths.push_back(out(name));
    return count_pushes(paths);
  }

  /// The requests of a worker's events of one step ("received", "done", ...).
  std::set<std::string> requests(const std::string& name, const std::string& step) const {
    std::set<std::string> ids;
    const std::string prefix = "step=" + step + " request=";
    for (const std::string& full : read_lines(err(name)))
      if (const std::string_view line = without_time(full); line.starts_with(prefix))
        ids.emplace(line.substr(prefix.size(), line.find(' ', prefix.size()) - prefix.size()));
    return ids;
  }

  std::size_t events(const std::string& name, const std::string& step) const {
    return count_lines(err(name), "step=" + step + " ");
  }
};

}  // namespace notify::test
