// SPDX-License-Identifier: MIT
#pragma once

/// notify::ops in one include: metrics (the engine's among them), build info, the HTTP listener.

#include "notify/ops/build_info.hpp"
#include "notify/ops/engine_metrics.hpp"
#include "notify/ops/health.hpp"
#include "notify/ops/http_listener.hpp"
#include "notify/ops/http_request.hpp"
#include "notify/ops/metrics.hpp"
