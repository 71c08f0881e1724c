// SPDX-License-Identifier: MIT
// bench_lambda: the cold start and peak memory of notify-lambda. Starts the Runtime API
// emulator once; then, N times (default 20): queues one SQS event of 10 records, starts
// notify-lambda, and takes the time from just before the process is spawned to the
// moment the emulator received its response (both clocks are CLOCK_MONOTONIC), then
// kills the runtime (it waits in the next /next) and reads its peak RSS (wait4's
// ru_maxrss). Prints median, min and max of each.
//
//   bench_lambda [RUNS] [NOTIFY_PUSH] [PROGRAM]   (default 20, null, the notify-lambda built
//                                                  here; members from a file)

#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "lambda-runtime/emulator.hpp"

extern char** environ;

namespace {

nlohmann::json event_of(int records) {
  nlohmann::json list = nlohmann::json::array();
  for (int i = 0; i < records; ++i)
    list.push_back({{"messageId", "m" + std::to_string(i)},
                    {"receiptHandle", "AQEB" + std::to_string(i)},
                    {"body", R"({"type":"MESSAGE_TODAY","param":{"familyIds":[1,2,4]}})"},
                    {"attributes", {{"ApproximateReceiveCount", "1"}, {"SentTimestamp", "1700000000000"}}},
                    {"messageAttributes", nlohmann::json::object()},
                    {"md5OfBody", "x"},
                    {"eventSource", "aws:sqs"},
                    {"eventSourceARN", "arn:aws:sqs:ap-northeast-2:123456789012:notify"},
                    {"awsRegion", "ap-northeast-2"}});
  return {{"Records", list}};
}

double monotonic_ms() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1000.0 + static_cast<double>(ts.tv_nsec) / 1e6;
}

struct Summary {
  double median, min, max;
};

Summary summarize(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  const double median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  return {median, v.front(), v.back()};
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 20;
  const std::string push = argc > 2 ? argv[2] : "null";
  notify::test::LambdaRuntimeEmulator emulator;

  std::vector<std::string> env_strings = {"AWS_LAMBDA_RUNTIME_API=" + emulator.endpoint(),
                                          std::string("NOTIFY_MEMBERS=") + NOTIFY_MEMBERS_FILE, "NOTIFY_PUSH=" + push,
                                          "PATH=/usr/bin:/bin", "AWS_REGION=ap-northeast-2"};
  std::vector<char*> env;
  for (std::string& s : env_strings) env.push_back(s.data());
  env.push_back(nullptr);
  std::string program = argc > 3 ? argv[3] : NOTIFY_LAMBDA_PROGRAM;
  char* args[] = {program.data(), nullptr};

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);

  std::vector<double> start_ms, next_ms, rss_mb;
  const nlohmann::json event = event_of(10);
  for (int i = 0; i < runs; ++i) {
    const std::string id = emulator.enqueue(event);
    const double t0 = monotonic_ms();
    pid_t pid = -1;
    if (posix_spawn(&pid, program.c_str(), &actions, nullptr, args, env.data()) != 0) {
      std::perror("posix_spawn");
      return 1;
    }
    const nlohmann::json inv = emulator.wait_answered(id, std::chrono::seconds(20));
    if (!inv.is_object() || inv["state"] != "response") {
      std::fprintf(stderr, "run %d: no response\n", i);
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      return 1;
    }
    const double elapsed = inv["answeredAt"].get<double>() - t0;
    const double to_next = inv["nextAt"].get<double>() - t0;  // start-up, up to the event handed over
    // Wait until it asks for the next invocation (all the work is done), then stop it.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (emulator.results()["waiting"] == 0 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ::kill(pid, SIGKILL);
    int status = 0;
    rusage usage{};
    ::wait4(pid, &status, 0, &usage);
    start_ms.push_back(elapsed);
    next_ms.push_back(to_next);
    rss_mb.push_back(static_cast<double>(usage.ru_maxrss) / 1024.0);  // KiB on Linux
    std::printf("run %2d: first response after %.2f ms (event handed over after %.2f ms), peak RSS %.1f MiB\n", i + 1,
                elapsed, to_next, rss_mb.back());
  }
  posix_spawn_file_actions_destroy(&actions);

  const Summary t = summarize(start_ms);
  const Summary n = summarize(next_ms);
  const Summary m = summarize(rss_mb);
  std::printf("\n%s\ncold start (spawn -> first response at the emulator), %d runs, NOTIFY_PUSH=%s, 10 records:\n",
              program.c_str(), runs, push.c_str());
  std::printf("  median %.2f ms, min %.2f ms, max %.2f ms\n", t.median, t.min, t.max);
  std::printf("  of which start-up until the event was handed over: median %.2f ms, min %.2f ms, max %.2f ms\n",
              n.median, n.min, n.max);
  std::printf("peak RSS: median %.1f MiB, min %.1f MiB, max %.1f MiB\n", m.median, m.min, m.max);
  return 0;
}
