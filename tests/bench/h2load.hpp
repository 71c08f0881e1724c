// SPDX-License-Identifier: MIT
#pragma once

/// An emulator's ceiling as h2load (Debian nghttp2-client) measures it: one request, the
/// same body and headers, over and over on the given connections x streams. The service
/// parts are in h2load_fcm.hpp (bench_fcm, bench_worker) and h2load_apns.hpp (bench_apns,
/// bench_worker).

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

/// Runs `command` (h2load_command's, then the headers and the URL); h2load's requests/s,
/// or 0 when it could not run or not every one of run.requests got a 2xx. The secret in
/// the command (`secret`, e.g. a bearer token) is then replaced by `shown` (e.g. "$TOKEN"),
/// so the command can be printed.
inline double run_h2load(std::string& command, const H2loadRun& run, const std::string& secret,
                         const std::string& shown) {
  // h2load trusts no CA file of ours: it does not verify certificates at all.
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (const auto at = command.find(secret); !secret.empty() && at != std::string::npos)
    command.replace(at, secret.size(), shown);  // never print a secret
  if (!p) return 0;
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
  pclose(p);
  return ok == static_cast<long>(run.requests) ? rate : 0;
}

}  // namespace notify::bench
