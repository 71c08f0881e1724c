// SPDX-License-Identifier: MIT
#pragma once

/// The FCM emulator's ceiling as h2load (Debian nghttp2-client) measures it: one access
/// token from the emulator, then messages:send with one body over and over. Shared by
/// bench_fcm and bench_worker.

#include <chrono>
#include <cstdio>
#include <string>

#include "fcm-emulator/emulator.hpp"
#include "notify/fcm/fcm.hpp"

namespace notify::bench {

/// An access token from the emulator, for h2load's Authorization header.
inline std::string access_token(notify::test::FcmEmulator& emu) {
  auto sa = notify::fcm::read_service_account(emu.service_account_file());
  auto signer = notify::fcm::Signer::load(sa->private_key);
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
  const auto jwt = notify::fcm::make_assertion(*sa, *signer, now.count());
  const auto answer = emu.control("POST", "/token", notify::fcm::token_request_body(*jwt));
  return notify::fcm::parse_token_response(answer)->value;
}

/// How h2load is run.
struct H2loadRun {
  std::size_t requests = 100000;
  std::size_t connections = 8;
  std::size_t streams = 50;  ///< concurrent streams per connection (-m)
  std::string body_file;     ///< the messages:send body
};

/// h2load's requests/s against the emulator, or 0 when it could not run or not every
/// request got a 2xx. `command` gets the command line, the token replaced by $TOKEN.
inline double h2load_rate(notify::test::FcmEmulator& emu, const H2loadRun& run, const std::string& token,
                          std::string& command) {
  command = "h2load -n " + std::to_string(run.requests) + " -c " + std::to_string(run.connections) + " -m " +
            std::to_string(run.streams) + " -t 1 -d " + run.body_file +
            " -H 'content-type: application/json' -H 'authorization: Bearer " + token + "' " + emu.url() +
            "/v1/projects/" + emu.options().project + "/messages:send";
  FILE* p = popen((command + " 2>&1").c_str(), "r");
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
  const auto at = command.find("Bearer ");
  command.replace(at + 7, token.size(), "$TOKEN");  // never print a secret
  return ok == static_cast<long>(run.requests) ? rate : 0;
}

}  // namespace notify::bench
