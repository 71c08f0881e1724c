// SPDX-License-Identifier: MIT
#pragma once

/// The sample traffic of the worker process tests: families of three members whose
/// tokens shorten uniquely, and numbered COMMENT_MESSAGE requests with the pushes each
/// must lead to.

#include <cstdio>
#include <string>
#include <vector>

#include "notify/codec.hpp"
#include "notify/transport.hpp"
#include "process.hpp"

namespace notify::test {

/// A device token whose shortened form (first 6 and last 4 characters) is unique.
inline std::string sample_token(Id family, Id user) {
  char key[16];
  std::snprintf(key, sizeof key, "f%02du%02d", static_cast<int>(family), static_cast<int>(user));
  return std::string(key) + "-device-token-" + key;
}

/// Requests 1..n (ids r-1..r-n; family i % families + 1, messageId 100000 + i; user 1
/// writes, users 2 and 3 are pushed); adds the pushes each must lead to to `expected`.
inline std::vector<std::string> comment_requests(int n, Id families, PushCounts& expected) {
  std::vector<std::string> bodies;
  for (int i = 1; i <= n; ++i) {
    const Id family = (i % families) + 1;
    const Id message = 100000 + i;
    const CommentMessageParam param{
        .messageFamId = message, .authorId = 1, .familyId = family, .commentPreview = "r" + std::to_string(i)};
    bodies.push_back(encode(Request{Param{param}, "r-" + std::to_string(i), {}}));
    for (Id user : {2, 3}) expected[short_token(sample_token(family, user)) + " " + std::to_string(message)] = 1;
  }
  return bodies;
}

}  // namespace notify::test
