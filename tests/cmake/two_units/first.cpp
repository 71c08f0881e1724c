// SPDX-License-Identifier: MIT
// Two translation units include every public header and are linked into one program: a
// function defined in a header without `inline` is then a multiple-definition link error.

#include "notify/json.hpp"
#include "notify/memory/memory.hpp"
#include "notify/notify.hpp"

#include <cstdio>
#include <string>
#include <string_view>
#include <variant>

// Defined in second.cpp.
notify::Result<notify::Request, notify::Errors> decode_in_second_unit(std::string_view body);

int main() {
  const notify::CommentPhotoParam param{5, 7, 3, std::string("사진 좋아요")};
  const std::string body = notify::encode(param);
  const auto decoded = decode_in_second_unit(body);
  if (!decoded) {
    std::fprintf(stderr, "two units: the second unit rejected %s\n", body.c_str());
    return 1;
  }
  const auto* back = std::get_if<notify::CommentPhotoParam>(&decoded->param);
  if (back == nullptr || !(*back == param)) {
    std::fprintf(stderr, "two units: the round trip through the second unit changed %s\n", body.c_str());
    return 1;
  }
  std::printf("two units: ok\n");
  return 0;
}
