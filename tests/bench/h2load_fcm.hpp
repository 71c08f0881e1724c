// SPDX-License-Identifier: MIT
#pragma once

/// The FCM emulator's ceiling as h2load measures it: one access token from the emulator,
/// then messages:send with one body over and over. Shared by bench_fcm and bench_worker.

#include <chrono>
#include <string>

#include "fcm-emulator/emulator.hpp"
#include "h2load.hpp"
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

/// h2load against the emulator's messages:send (its rate is 0 when it could not run or not
/// every request got a 2xx). `command` gets the command line, the token replaced by $TOKEN.
inline H2loadResult h2load_rate(notify::test::FcmEmulator& emu, const H2loadRun& run, const std::string& token,
                                std::string& command) {
  command = h2load_command(run) + " -H 'content-type: application/json' -H 'authorization: Bearer " + token + "' " +
            emu.url() + "/v1/projects/" + emu.options().project + "/messages:send";
  return run_h2load(command, run, token, "$TOKEN");
}

}  // namespace notify::bench
