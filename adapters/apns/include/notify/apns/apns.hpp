// SPDX-License-Identifier: MIT
#pragma once

/// notify::apns: the APNs push provider (token-based auth, HTTP/2 on notify::http2).

#include "notify/apns/auth.hpp"
#include "notify/apns/errors.hpp"
#include "notify/apns/payload.hpp"
#include "notify/apns/provider.hpp"
