// SPDX-License-Identifier: MIT
#pragma once

/// notify::sens: SMS/LMS and KakaoTalk AlimTalk through Naver Cloud SENS.

#include "notify/sens/provider.hpp"
#include "notify/sens/request.hpp"
#include "notify/sens/text.hpp"
