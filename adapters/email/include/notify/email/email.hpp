// SPDX-License-Identifier: MIT
#pragma once

/// notify::email: e-mail over SMTP with libcurl (the message builder, the mapping of SMTP
/// answers to push outcomes, the provider).

#include "notify/email/errors.hpp"
#include "notify/email/message.hpp"
#include "notify/email/provider.hpp"
