// SPDX-License-Identifier: MIT
#pragma once

/// Everything the worker side needs, in one include: the engine (pipeline.hpp), the batch
/// processor for drivers handed a batch (batch_processor.hpp), the long-running worker
/// loop (worker.hpp), events, retry policy and idempotency keys. FIFO order is the
/// engine's, for both drivers.

#include "notify/batch_processor.hpp"
#include "notify/delivery_keys.hpp"
#include "notify/events.hpp"
#include "notify/pipeline.hpp"
#include "notify/retry_policy.hpp"
#include "notify/worker.hpp"
