// SPDX-License-Identifier: MIT
#pragma once

/// notify::lambda: the AWS Lambda custom runtime for SQS events (all its headers).

#include "notify/lambda/driver.hpp"
#include "notify/lambda/event.hpp"
#include "notify/lambda/runtime.hpp"
#include "notify/lambda/source_queue.hpp"
#include "notify/lambda/sqs_handler.hpp"
