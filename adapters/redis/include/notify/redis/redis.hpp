// SPDX-License-Identifier: MIT
#pragma once

/// The Redis adapters: connection, member store, idempotency store and Streams queue.

#include "notify/redis/connection.hpp"
#include "notify/redis/idempotency_store.hpp"
#include "notify/redis/member_store.hpp"
#include "notify/redis/queue.hpp"
