// SPDX-License-Identifier: MIT
#pragma once

/// notify::app: what the programs are wired from (all its headers).

#include "notify/app/any.hpp"
#include "notify/app/cli.hpp"
#include "notify/app/monitor.hpp"
#include "notify/app/printing.hpp"
#include "notify/app/routing.hpp"
#include "notify/app/threaded.hpp"
#include "notify/app/wiring.hpp"
