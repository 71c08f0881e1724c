// SPDX-License-Identifier: MIT
#pragma once

/// An emulator's ceiling as h2load (Debian nghttp2-client) measures it: one request, the
/// same body and headers, over and over on the given connections x streams. The service
/// parts are in h2load_fcm.hpp (bench_fcm, bench_worker) and h2load_apns.hpp (bench_apns,
/// bench_worker).

#include <sys/resource.h>

#include <cstdio>
#include <string>

namespace notify::bench {

/// How h2load is run.
struct H2loadRun {
  std::size_t requests = 100000;
  std::size_t connections = 8;
  std::size_t streams = 50;  ///< concurrent streams per connection (-m)
  std::string body_file;     ///< the request body
};

/// "h2load -n N -c C -m M -t 1 -d BODY": the part common to every service.
inline std::string h2load_command(const H2loadRun& run) {
  return "h2load -n " + std::to_string(run.requests) + " -c " + std::to_string(run.connections) + " -m " +
         std::to_string(run.streams) + " -t 1 -d " + run.body_file;
}

/// What one h2load run measured.
struct H2loadResult {
  double rate = 0;         ///< requests/s; 0 when it could not run or not every request got a 2xx
  double cpu_seconds = 0;  ///< h2load's own user+sys time (with its shell's): the same run's CPU yardstick
};

/// Runs `command` (h2load_command's, then the headers and the URL). The secret in the
/// command (`secret`, e.g. a bearer token) is then replaced by `shown` (e.g. "$TOKEN"), so
/// the command can be printed.
inline H2loadResult run_h2load(std::string& command, const H2loadRun& run, const std::string& secret,
                               const std::string& shown) {
  auto children_cpu = [] {
    rusage u{};
    getrusage(RUSAGE_CHILDREN, &u);
    auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
    return seconds(u.ru_utime) + seconds(u.ru_stime);
  };
  const double cpu_before = children_cpu();
  // h2load trusts no CA file of ours: it does not verify certificates at all.
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (const auto at = command.find(secret); !secret.empty() && at != std::string::npos)
    command.replace(at, secret.size(), shown);  // never print a secret
  if (!p) return {};
  char line[512];
  double rate = 0;
  long ok = 0;
  while (std::fgets(line, sizeof line, p)) {
    double took = 0, rps = 0;
    char unit[8] = {};
    long x2 = 0;
    // "finished in 1.52s, ..." or, under a second, "finished in 756.36ms, ...".
    if (std::sscanf(line, "finished in %lf%7[^,], %lf req/s", &took, unit, &rps) == 3) rate = rps;
    if (std::sscanf(line, "status codes: %ld 2xx", &x2) == 1) ok = x2;
  }
  pclose(p);  // reaps the shell, which reaped h2load: both are in RUSAGE_CHILDREN now
  return {ok == static_cast<long>(run.requests) ? rate : 0, children_cpu() - cpu_before};
}

}  // namespace notify::bench
