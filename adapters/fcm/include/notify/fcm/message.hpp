// SPDX-License-Identifier: MIT
#pragma once

/// The FCM HTTP v1 request body of one push, exactly as SPEC.md "Push" describes it, kept
/// within FCM's size limit. Pure: no I/O.

#include <cstddef>
#include <string>
#include <string_view>

namespace notify {
struct Message;  // notify/plan.hpp
}  // namespace notify

namespace notify::fcm {

/// FCM's limit for a message to a device token, in bytes ("both the keys and the values").
/// Which parts FCM counts is not documented, so the whole request body is kept within it.
inline constexpr std::size_t max_message_bytes = 4096;

struct BodyOptions {
  /// Adds `"validate_only":true`: FCM checks the message but delivers nothing.
  bool validate_only = false;
  /// The request body is kept within this many bytes by shortening the notification body.
  std::size_t max_bytes = max_message_bytes;
};

/// Shortens a rendered notification body to at most `max_bytes` bytes without ever cutting
/// a UTF-8 character: the quoted user preview at its end goes first (cut, then "..."
/// before the closing quote); only if that is not enough is the text itself cut and
/// ended with "...". Text that fits is returned unchanged.
std::string shorten_text(std::string_view text, std::size_t max_bytes);

/// The body of `POST /v1/projects/<project>/messages:send` for one token:
/// {"message":{"token","notification":{title,body},"data":{screen?,param?}?,
/// "android":{...},"apns":{...}}}. A body over `max_bytes` is shortened, never rejected.
std::string request_body(const Message& message, std::string_view token, const BodyOptions& options = {});

/// The rendering of one message shared by all its tokens: only the token is written per push.
class BodyTemplate {
 public:
  BodyTemplate(const Message& message, const BodyOptions& options);

  /// Replaces `out` with the request body for `token` (same result as request_body).
  void render(std::string& out, std::string_view token) const;

 private:
  const Message* message_;
  BodyOptions options_;
  std::string head_;  ///< up to the token value
  std::string tail_;  ///< after the token value
};

}  // namespace notify::fcm
