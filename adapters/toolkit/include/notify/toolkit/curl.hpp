// SPDX-License-Identifier: MIT
// Private to the adapters that link libcurl: its process-wide initialisation, once.
// Include only from src/ files of adapters linking CURL::libcurl.
#pragma once

#include <curl/curl.h>

namespace notify::toolkit {

/// Runs curl_global_init once per process (thread-safe); call before the first easy or
/// multi handle. The result of the first call is returned to every caller.
inline CURLcode curl_global_init_once() noexcept {
  // A function-local static is initialised exactly once, even across threads, and is
  // shared by every adapter in the process (inline function: one definition).
  static const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
  return rc;
}

}  // namespace notify::toolkit
