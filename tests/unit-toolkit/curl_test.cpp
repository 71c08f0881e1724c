// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <fstream>
#include <string>

#include "notify/toolkit/curl.hpp"

namespace {

/// True when the process has a file whose path contains `name` mapped (Linux).
bool mapped(const std::string& name) {
  std::ifstream maps("/proc/self/maps");
  for (std::string line; std::getline(maps, line);)
    if (line.find(name) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("libcurl is mapped only once libcurl() is first called, and is 7.84 or later") {
  // This binary does not link libcurl: nothing maps it before the loader does.
  CHECK_FALSE(mapped("libcurl"));
  const notify::Result<notify::toolkit::Curl>& lib = notify::toolkit::libcurl();
  REQUIRE_MESSAGE(lib.has_value(), lib.error().message);
  CHECK(mapped("libcurl"));
  CHECK(lib->version_num >= 0x075400);
  CHECK(std::string(lib->version).size() >= 5);
  // The same outcome, the same table, on every later call.
  CHECK(&*notify::toolkit::libcurl() == &*lib);

  CURL* easy = lib->easy_init();
  REQUIRE(easy != nullptr);
  CHECK(lib->easy_setopt(easy, CURLOPT_URL, "http://127.0.0.1:1/") == CURLE_OK);
  CHECK(lib->easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK);
  long code = -1;
  CHECK(lib->easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK);
  CHECK(code == 0);
  CHECK(std::string(lib->easy_strerror(CURLE_COULDNT_CONNECT)).find("connect") != std::string::npos);
  curl_slist* list = lib->slist_append(nullptr, "Accept: application/json");
  CHECK(list != nullptr);
  lib->slist_free_all(list);
  lib->easy_cleanup(easy);
}

TEST_CASE("a library that is not there is a configuration error naming it, not a crash") {
  const auto lib = notify::toolkit::load_libcurl("libnotify-no-such-curl.so.4");
  REQUIRE_FALSE(lib.has_value());
  CHECK(lib.error().code == notify::Errc::configuration);
  CHECK(lib.error().message.find("libnotify-no-such-curl.so.4") != std::string::npos);
  CHECK(lib.error().message.find("cannot load libcurl") != std::string::npos);
}

TEST_CASE("a library without libcurl's functions is a configuration error naming the first one missing") {
  const auto lib = notify::toolkit::load_libcurl("libm.so.6");  // glibc's, always there
  REQUIRE_FALSE(lib.has_value());
  CHECK(lib.error().code == notify::Errc::configuration);
  CHECK(lib.error().message.find("libm.so.6: no curl_global_init") != std::string::npos);
}
