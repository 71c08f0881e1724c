// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include "notify/json.hpp"
#include "notify/notify.hpp"

TEST_CASE("a request survives encode and decode") {
  const notify::MessageTodayParam p{{3, 4}};
  const auto r = notify::decode(notify::encode(p));
  REQUIRE(r.has_value());
  CHECK(std::get<notify::MessageTodayParam>(r->param) == p);
}
