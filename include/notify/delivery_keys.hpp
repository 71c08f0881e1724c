// SPDX-License-Identifier: MIT
#pragma once

/// Idempotency keys: which deliveries of a request were made. A key names the request
/// and digests what was delivered, so a redelivered record never repeats a push and two
/// different messages of one request never share a key.

#include <string>
#include <string_view>

#include "notify/digest.hpp"
#include "notify/plan.hpp"

namespace notify {

/// The content part of a message's delivery keys: digest it once, then each token.
inline Digest64 message_digest(const Message& m) {
  Digest64 d;
  d.add(m.title).add(m.body).add(to_string(m.link.screen)).add(m.link.param_json());
  return d;
}

/// The idempotency key of one delivery of the message digested in `content` (see
/// message_digest): the request id plus a digest of content and token, so the same token
/// may still get two different messages of one request.
inline std::string delivery_key(std::string_view request_id, Digest64 content, std::string_view token) {
  std::string key;
  key.reserve(request_id.size() + 17);
  key += request_id;
  key += ':';
  append_hex64(key, content.add(token).value());
  return key;
}

inline std::string delivery_key(std::string_view request_id, const Message& m, std::string_view token) {
  return delivery_key(request_id, message_digest(m), token);
}

/// The idempotency key of a request's inbox records: the request id plus a digest of the
/// inbox body, so two different requests that share an id both get theirs.
inline std::string inbox_key(std::string_view request_id, std::string_view inbox_body) {
  std::string key(request_id);
  key += ":inbox:";
  key += hex64(Digest64{}.add(inbox_body).value());
  return key;
}

}  // namespace notify
