// SPDX-License-Identifier: MIT
#pragma once

/// The Redis adapters: connection, member store, idempotency store, Streams queue and inbox stream.

#include "notify/redis/connection.hpp"
#include "notify/redis/idempotency_store.hpp"
#include "notify/redis/inbox_sink.hpp"
#include "notify/redis/member_store.hpp"
#include "notify/redis/queue.hpp"
