// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <string>

#include "notify/toolkit/ascii.hpp"
#include "notify/toolkit/secure.hpp"

using notify::toolkit::iequals;
using notify::toolkit::trim;

TEST_CASE("iequals ignores ASCII case only") {
  CHECK(iequals("Content-Length", "content-length"));
  CHECK(iequals("", ""));
  CHECK_FALSE(iequals("chunked", "chunke"));
  CHECK_FALSE(iequals("a", "b"));
  // '@' | 0x20 == '`': a bit trick would call these equal.
  CHECK_FALSE(iequals("@", "`"));
  CHECK_FALSE(iequals("\xC3\x84", "\xC3\xA4"));  // not Unicode-aware, by design
  static_assert(iequals("Bearer", "bEARER"));
}

TEST_CASE("trim drops spaces, tabs, CR and LF at both ends") {
  CHECK(trim(" \t value \r\n") == "value");
  CHECK(trim("a b") == "a b");
  CHECK(trim(" \r\n\t").empty());
  CHECK(trim("").empty());
}

TEST_CASE("to_lower lowers ASCII letters") {
  CHECK(notify::toolkit::to_lower("X-Amz-Date:1") == "x-amz-date:1");
}

TEST_CASE("wipe zeroes and empties a secret") {
  std::string secret = "a secret longer than the small string buffer";
  const char* data = secret.data();
  const std::size_t n = secret.size();
  notify::toolkit::wipe(secret);
  CHECK(secret.empty());
  CHECK(secret.data() == data);  // clear() keeps the buffer that was zeroed
  for (std::size_t i = 0; i < n; ++i) CHECK(data[i] == '\0');
}
