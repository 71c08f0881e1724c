// SPDX-License-Identifier: MIT
#include "notify/ops/build_info.hpp"

#include "notify/ops/metrics.hpp"

#ifndef NOTIFY_OPS_VERSION
#error "NOTIFY_OPS_VERSION is set by adapters/ops/CMakeLists.txt"
#endif
#ifndef NOTIFY_OPS_REVISION
#define NOTIFY_OPS_REVISION "unknown"
#endif

namespace notify::ops {

std::string_view version() noexcept { return NOTIFY_OPS_VERSION; }
std::string_view revision() noexcept { return NOTIFY_OPS_REVISION; }

void register_build_info(Registry& registry) {
  registry
      .gauge("notify_build_info", "Build information: the version and git revision; always 1.",
             {{"version", std::string(version())}, {"revision", std::string(revision())}})
      .set(1);
}

}  // namespace notify::ops
