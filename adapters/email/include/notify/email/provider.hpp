// SPDX-License-Identifier: MIT
#pragma once

/// notify::email::Provider: e-mail over SMTP with libcurl, one message per push (the push's
/// token is the recipient's address). Behind a pimpl: this header needs no libcurl.

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "notify/result.hpp"
#include "notify/transport.hpp"

namespace notify::email {

/// Everything the provider needs; each field maps to one flag of a program.
struct Options {
  /// `smtp://host[:port]` (STARTTLS is required unless allow_plaintext) or
  /// `smtps://host[:port]` (TLS from the first byte). A path names the EHLO domain
  /// (`smtp://mail.example.com:587/notify.example.com`). Required.
  std::string url;
  /// The envelope sender and From address. Required.
  std::string from;
  /// The From display name (UTF-8; RFC 2047 encoded when not ASCII). Optional.
  std::string from_name;
  /// The SMTP AUTH user; empty: no AUTH.
  std::string user;
  /// The password, or empty to read it from password_file. create() wipes this copy.
  std::string password;
  /// A file holding the password (its first line). Read by create(), never logged.
  std::string password_file;
  /// A PEM file of CA certificates trusted instead of the system's (e.g. a test CA). The
  /// server's certificate and name are always verified.
  std::string ca_file;
  /// Lets an `smtp://` URL go without TLS when the server offers no STARTTLS (it is still
  /// used when offered). For local tests only: the password would cross in the clear.
  bool allow_plaintext = false;
  /// The Message-ID's domain; empty: the From address's domain.
  std::string message_id_domain;
  std::chrono::milliseconds connect_timeout{10000};
  /// The longest one message may take, connecting included.
  std::chrono::milliseconds timeout{60000};
};

/// Counters since construction, for tests and logs.
struct Stats {
  std::uint64_t transfers = 0;    ///< messages attempted (curl_easy_perform calls for a message)
  std::uint64_t sent = 0;         ///< messages the server took
  std::uint64_t connections = 0;  ///< connections opened (a reused connection is not counted)
};

/// Sends each push as one e-mail: MAIL FROM, RCPT TO the push's address, DATA, over one
/// connection kept open across the messages of a batch and between batches (libcurl
/// reconnects when the server closed it). Results by classify() (notify/email/errors.hpp);
/// an address that fails validate_address() is failed without being sent, a push of
/// another service is failed too. After an outage or a fatal answer the pushes not yet
/// tried come back as retry (outage, scope provider) without being tried. Not thread-safe.
/// Details never hold the password and show addresses shortened ("ki…@example.com").
class Provider {
 public:
  /// Checks the options and reads the password; no network traffic yet. Errc::configuration
  /// for a URL that is not smtp:// or smtps://, an invalid From address or Message-ID
  /// domain, an unreadable password file or a user without a password. The password in
  /// `options` is wiped (pass the Options by move so no other copy is left).
  static Result<Provider> create(Options options);

  Provider(Provider&&) noexcept;
  Provider& operator=(Provider&&) noexcept;
  ~Provider();

  /// Connects, says EHLO, STARTTLS, logs in and sends NOOP: checks the server and the
  /// credentials. The connection stays open for the next send(). Errc::unauthenticated
  /// (login denied), Errc::configuration (TLS required but unavailable, certificate),
  /// Errc::unavailable / timeout / io_error (transient).
  Result<void> connect();

  /// One result per push, in order. Message-IDs from notify::email::default_delivery_key.
  std::vector<PushResult> send(std::span<const Push> pushes);

  /// Like send(pushes), with the Message-ID of pushes[i] made from keys[i] (e.g. the
  /// request id and the address): a resend of the same delivery has the same Message-ID.
  /// An empty key, or a missing one (keys shorter than pushes), uses the default.
  std::vector<PushResult> send(std::span<const Push> pushes, std::span<const std::string> keys);

  Stats stats() const;

 private:
  class Impl;
  explicit Provider(std::unique_ptr<Impl> impl) noexcept;
  std::unique_ptr<Impl> impl_;
};

static_assert(notify::PushProvider<Provider>);

}  // namespace notify::email
