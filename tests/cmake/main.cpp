// SPDX-License-Identifier: MIT
// The consumer program every tests/cmake project builds: it uses notify the way a producer
// and a worker would, through whichever way the project got notify (add_subdirectory,
// FetchContent or find_package). Exit status 0 only when every round trip is exact.

#include <notify/json.hpp>
#include <notify/memory/memory.hpp>
#include <notify/notify.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <variant>

static_assert(notify::Queue<notify::memory::Queue>);

namespace {

int fail(const char* what) {
  std::fprintf(stderr, "notify consumer: %s\n", what);
  return 1;
}

}  // namespace

int main() {
  const notify::MessageTodayParam param{{3, 9}};

  // The wire format: encode, decode, compare.
  const std::string body = notify::encode(param);
  const auto decoded = notify::decode(body);
  if (!decoded) return fail("decode rejected what encode wrote");
  const auto* today = std::get_if<notify::MessageTodayParam>(&decoded->param);
  if (today == nullptr || !(*today == param)) return fail("the decoded param differs from the encoded one");

  // nlohmann_json came along with notify::json.
  const nlohmann::json json = param;
  if (!(json.get<notify::MessageTodayParam>() == param)) return fail("the nlohmann round trip differs");

  // The in-memory queue carries the body unchanged.
  notify::memory::Queue queue;
  if (!queue.send(body)) return fail("the memory queue refused a send");
  const auto received = queue.receive(10, std::chrono::milliseconds(0));
  if (!received || received->size() != 1 || received->front().body != body)
    return fail("the memory queue did not give the body back");

  std::printf("notify consumer: ok (%s)\n", body.c_str());
  return 0;
}
