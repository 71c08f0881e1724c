// SPDX-License-Identifier: MIT
#pragma once

/// The APNs request of one push: its JSON payload (what FCM delivers to iOS today) and the
/// per-type delivery headers. Pure: no I/O.

#include <cstddef>
#include <string>
#include <string_view>

namespace notify {
struct Message;  // notify/plan.hpp
}  // namespace notify

namespace notify::apns {

/// APNs's limit for a (non-VoIP) notification payload, in bytes.
inline constexpr std::size_t max_payload_bytes = 4096;
/// apns-collapse-id's limit, in bytes.
inline constexpr std::size_t max_collapse_id_bytes = 64;

/// {"aps":{"alert":{"title","body"},"sound":"default"},"screen"?,"param"?}: the alert, the
/// default sound and the app's custom keys exactly as FCM hands them to the iOS app (the
/// data keys at the top level, param as a JSON string). A payload over `max_bytes` has its
/// body shortened like FCM's (fcm::shorten_text: code-point safe, the quoted preview first).
std::string payload(const Message& message, std::size_t max_bytes = max_payload_bytes);

/// How a message is delivered. A Message carries no notification type, so it is read from
/// the catalog texts it was rendered from.
struct Delivery {
  /// apns-priority: 10 (at once) for what a family member just did, 5 (power-friendly) for
  /// the bulk scheduled sends: the daily story ("오늘의 이야기가 도착했습니다!", which
  /// MESSAGE_TODAY and MESSAGE_BIRTHDAY both send), the NOTIFY_BIRTHDAY reminder, and an
  /// advertising SERVICE_NOTICE (its title starts "(광고) ").
  int priority = 10;
  /// apns-collapse-id, empty for none: the bulk types and EMOTION_POKE, where a newer
  /// notification replaces an unread older one of the same kind.
  std::string_view collapse_id;
};

Delivery delivery_of(const Message& message);

}  // namespace notify::apns
