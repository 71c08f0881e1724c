// SPDX-License-Identifier: MIT
#pragma once

/// The SQS adapter: everything of notify::sqs (link notify::sqs).

#include "notify/sqs/credentials.hpp"  // IWYU pragma: export
#include "notify/sqs/sigv4.hpp"        // IWYU pragma: export
#include "notify/sqs/client.hpp"       // IWYU pragma: export
#include "notify/sqs/queue.hpp"        // IWYU pragma: export
