// SPDX-License-Identifier: MIT
#pragma once

/// The FCM adapter: everything of notify::fcm (link notify::fcm).

#include "notify/fcm/auth.hpp"      // IWYU pragma: export
#include "notify/fcm/errors.hpp"    // IWYU pragma: export
#include "notify/fcm/message.hpp"   // IWYU pragma: export
#include "notify/fcm/provider.hpp"  // IWYU pragma: export
