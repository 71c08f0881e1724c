// SPDX-License-Identifier: MIT
#pragma once

/// What was built: the project version and the git revision it was configured from.

#include <string_view>

namespace notify::ops {

class Registry;

/// The project version from CMake, e.g. "0.1.0".
std::string_view version() noexcept;
/// `git rev-parse --short HEAD` at configure time, or "unknown" outside a checkout.
std::string_view revision() noexcept;
/// Registers `notify_build_info{version="...",revision="..."} 1`.
void register_build_info(Registry& registry);

}  // namespace notify::ops
