// SPDX-License-Identifier: MIT
#pragma once

/// notify::sens::Provider: SMS/LMS and KakaoTalk AlimTalk through Naver Cloud SENS, one
/// signed HTTPS POST per (service, message) and at most 100 recipients (libcurl, behind a
/// pimpl: this header needs neither libcurl nor OpenSSL).

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "notify/result.hpp"
#include "notify/sens/request.hpp"
#include "notify/transport.hpp"

namespace notify::sens {

/// Environment variables read when the keys are not given: the access key, and the secret
/// key (after `secret_key_file`).
inline constexpr std::string_view env_access_key = "NOTIFY_SENS_ACCESS_KEY";
inline constexpr std::string_view env_secret_key = "NOTIFY_SENS_SECRET_KEY";

/// Everything the provider needs; plain fields, each easy to fill from a flag.
struct Options {
  /// Where calls go (scheme://host[:port]); https:// always verifies the certificate.
  std::string base_url = std::string(default_base_url);
  std::string access_key;       ///< x-ncp-iam-access-key; empty: NOTIFY_SENS_ACCESS_KEY
  std::string secret_key;       ///< a secret: never logged, wiped once loaded
  std::string secret_key_file;  ///< read when secret_key is empty (one line; a trailing newline is dropped)
  std::string sms_service_id;       ///< for PushService::sms; empty: SMS pushes are fatal
  std::string alimtalk_service_id;  ///< for PushService::alimtalk; empty: AlimTalk pushes are fatal
  std::string from;             ///< the registered sender number ("from"), digits only
  std::string plus_friend_id;   ///< the KakaoTalk channel id ("@channel")
  /// AlimTalk template code per notification type, keyed by the type's wire name
  /// ("MESSAGE_TODAY" -> "notice01"). A type without a code fails ("no AlimTalk template").
  std::map<std::string, std::string, std::less<>> templates;
  /// AlimTalk messages ask SENS to send an SMS/LMS instead when KakaoTalk cannot deliver.
  bool sms_failover = false;
  std::string ca_file;  ///< a PEM file of CA certificates trusted instead of the system's
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds request_timeout{15000};
};

/// Reads "TYPE=CODE,TYPE=CODE" (e.g. a flag's value) into Options::templates. Errc::invalid_value
/// names an entry without '=', an unknown type or an empty code.
Result<std::map<std::string, std::string, std::less<>>> parse_templates(std::string_view list);

/// Counters since construction, for tests and logs.
struct Stats {
  std::uint64_t calls = 0;         ///< HTTP requests made
  std::uint64_t sms = 0;           ///< SMS calls (type SMS)
  std::uint64_t lms = 0;           ///< SMS calls (type LMS)
  std::uint64_t alimtalk = 0;      ///< AlimTalk calls
  std::uint64_t resent_calls = 0;  ///< calls made again without the numbers a 400 named
};

/// Sends SMS/LMS and AlimTalk pushes. A Push's token is the member's phone in E.164
/// (+821012345678); its service is sms or alimtalk (anything else fails).
///
/// send() groups the pushes by (service, message), converts the numbers (a +82 number that
/// is not a mobile number is invalid_token, another country's number fails: SENS is used
/// for Korean numbers only), and makes one call per 100 recipients of a group. Every
/// recipient of a call gets the call's outcome (request.hpp's classify), except that a 400
/// whose error text names recipients makes those invalid_token and the call is made again
/// for the others (a 400 naming none fails them all: a payload SENS refuses). After a fatal
/// or an outage answer, the calls not yet made are not made: their pushes get that answer
/// too. Not thread-safe; one call at a time, on one kept-alive connection.
class Provider {
 public:
  /// Resolves the keys (Options, else the file or environment) and checks the settings;
  /// Errc::configuration names what is missing. No network traffic yet.
  static Result<Provider> create(Options options);

  Provider(Provider&&) noexcept;
  Provider& operator=(Provider&&) noexcept;
  ~Provider();

  std::vector<PushResult> send(std::span<const Push> pushes);
  Stats stats() const;

  /// Opens the connection to the base URL (a HEAD /, TLS verified) and keeps it for the
  /// sends: Errc::configuration when TLS or the URL is wrong, Errc::unavailable when SENS
  /// cannot be reached. Any HTTP answer will do; the keys are first checked by a send.
  Result<void> connect();

 private:
  class Impl;
  explicit Provider(std::unique_ptr<Impl> impl) noexcept;
  std::unique_ptr<Impl> impl_;
};

static_assert(notify::PushProvider<Provider>);

}  // namespace notify::sens
