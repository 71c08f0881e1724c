// SPDX-License-Identifier: MIT
#pragma once

/// The umbrella header of the pure core (no adapter, no nlohmann::json).

#include "notify/catalog.hpp"
#include "notify/clock.hpp"
#include "notify/codec.hpp"
#include "notify/members.hpp"
#include "notify/plan.hpp"
#include "notify/processor.hpp"
#include "notify/result.hpp"
#include "notify/schema.hpp"
#include "notify/text.hpp"
#include "notify/transport.hpp"
