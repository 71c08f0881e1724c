// SPDX-License-Identifier: MIT
#pragma once

/// How an HTTP exchange ended below HTTP: shared by the push providers' error tables
/// (notify::fcm, notify::apns) and the HTTP/2 client that carries their requests.

#include <cstdint>

namespace notify::http2 {

enum class Transport : std::uint8_t {
  ok,       ///< an HTTP response arrived
  timeout,  ///< no complete answer within the request timeout
  connect,  ///< no connection could be made (refused, unreachable, name not resolved)
  broken,   ///< the connection or stream broke mid-way (reset, GOAWAY, closed early)
  tls,      ///< the server's certificate did not verify: a configuration problem
  setup,    ///< the request could not be made at all (bad URL, unsupported option)
};

}  // namespace notify::http2
