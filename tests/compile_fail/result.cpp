// SPDX-License-Identifier: MIT
// notify::Result is [[nodiscard]]: dropping a failed send on the floor (NOTIFY_BREAK=1) must
// not compile under -Werror=unused-result; Result<void>::value() has no value to take
// (NOTIFY_BREAK=2). Without NOTIFY_BREAK the same calls, used correctly, compile.

#include <string>

#include "notify/memory/memory.hpp"
#include "notify/result.hpp"

int send_one(notify::memory::Queue& queue) {
#if NOTIFY_BREAK == 1
  queue.send(std::string("{}"));
  return 0;
#elif NOTIFY_BREAK == 2
  const int sent = queue.send(std::string("{}")).value();
  return sent;
#else
  const notify::Result<void> sent = queue.send(std::string("{}"));
  if (!sent) return 1;
  sent.value();
  return 0;
#endif
}
