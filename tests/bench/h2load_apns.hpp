// SPDX-License-Identifier: MIT
#pragma once

/// The APNs emulator's ceiling as h2load measures it: one provider token (an ES256 JWT
/// signed with the emulator's test key), then POST /3/device/<token> with one payload and
/// one set of apns-* headers over and over. Shared by bench_apns and bench_worker.

#include <chrono>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "apns-emulator/emulator.hpp"
#include "h2load.hpp"
#include "notify/apns/apns.hpp"

namespace notify::bench {

/// A provider token for the emulator's key, as notify::apns::PushProvider makes them.
inline std::string provider_token(notify::test::ApnsEmulator& emu) {
  auto credentials = notify::apns::read_credentials(emu.key_file(), emu.options().key_id, emu.options().team_id);
  if (!credentials) throw std::runtime_error(credentials.error().message);
  auto signer = notify::apns::Signer::load(credentials->key_pem);
  if (!signer) throw std::runtime_error(signer.error().message);
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
  auto jwt = notify::apns::make_jwt(credentials->key_id, credentials->team_id, *signer, now.count());
  if (!jwt) throw std::runtime_error(jwt.error().message);
  return std::move(*jwt);
}

/// h2load against the emulator's /3/device/<device_token> with `headers` (the apns-* ones,
/// in order); its rate is 0 when it could not run or not every request got a 2xx.
/// `command` gets the command line, the provider token replaced by $JWT.
inline H2loadResult h2load_rate(notify::test::ApnsEmulator& emu, const H2loadRun& run,
                                const std::vector<std::pair<std::string, std::string>>& headers,
                                const std::string& jwt, const std::string& device_token, std::string& command) {
  command = h2load_command(run);
  for (const auto& [name, value] : headers) command += " -H '" + name + ": " + value + "'";
  command += " -H 'content-type: application/json' -H 'authorization: bearer " + jwt + "' " + emu.url() +
             "/3/device/" + device_token;
  return run_h2load(command, run, jwt, "$JWT");
}

}  // namespace notify::bench
