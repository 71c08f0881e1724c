// SPDX-License-Identifier: MIT
#pragma once

/// The one place where libcurl's result of an SMTP transfer and the server's reply code
/// become push outcomes. Pure: no I/O, no libcurl header (the CURLcode travels as an int),
/// tested as a table.

#include <cstdint>
#include <string_view>

#include "notify/transport.hpp"

namespace notify::email {

/// The last step of the SMTP dialogue a transfer reached: the command last sent, as seen
/// by the provider in libcurl's protocol trace.
enum class Stage : std::uint8_t {
  connect,      ///< connecting, TLS handshake or the server's greeting: no command yet
  ehlo,         ///< EHLO / HELO
  starttls,     ///< STARTTLS
  auth,         ///< AUTH (and the SASL exchange after it)
  mail_from,    ///< MAIL FROM
  rcpt_to,      ///< RCPT TO: the recipient's address is judged here
  data,         ///< DATA, and the message being uploaded
  end_of_data,  ///< the message sent, waiting for the server to take it
  other,        ///< another command (NOOP, QUIT, ...)
};

constexpr std::string_view to_string(Stage s) noexcept {
  switch (s) {
    case Stage::connect: return "connect";
    case Stage::ehlo: return "EHLO";
    case Stage::starttls: return "STARTTLS";
    case Stage::auth: return "AUTH";
    case Stage::mail_from: return "MAIL FROM";
    case Stage::rcpt_to: return "RCPT TO";
    case Stage::data: return "DATA";
    case Stage::end_of_data: return "end of data";
    case Stage::other: return "command";
  }
  return "";
}

/// One transfer as the provider saw it.
struct Reply {
  int curl_code = 0;             ///< the CURLcode of curl_easy_perform (0: CURLE_OK)
  long smtp_code = 0;            ///< CURLINFO_RESPONSE_CODE: the last SMTP reply code, 0 if none
  Stage stage = Stage::connect;  ///< the last command sent
  std::string_view error;        ///< libcurl's error buffer (never holds the password)
  std::string_view server_text;  ///< the server's last reply line, as it came
  std::string_view recipient;    ///< the address: shortened wherever it appears in a detail
  std::string_view message_id;   ///< the detail of a sent message
};

/// The outcome of one message from its transfer:
///  CURLE_OK                                        sent (detail: the Message-ID)
///  CURLE_LOGIN_DENIED, 5xx at AUTH, 530/534/535/538  fatal (credentials)
///  CURLE_USE_SSL_FAILED, 5xx at STARTTLS, TLS
///  handshake or certificate errors                 fatal (TLS required but unavailable)
///  bad URL, unsupported protocol, bad option       fatal (configuration)
///  421 (service closing), 454 at AUTH             retry, outage, scope provider
///  4xx before MAIL FROM (greeting, EHLO, STARTTLS,
///  AUTH: e.g. 454)                                 retry, outage, scope provider
///  other 4xx (e.g. 451 at RCPT TO, 452)            retry, scope push, not an outage
///  550, 551, 553, 501 at RCPT TO                   invalid_token: a dead address
///  554 at the greeting                             fatal (the server refuses us)
///  other 5xx                                       failed
///  no reply: refused, unreachable, unresolvable,
///  timeout, broken connection                      retry, outage, scope provider
///  anything else                                   retry, scope push
/// The detail names the stage, the code and the server's words, the recipient shortened.
PushResult classify(const Reply& reply);

}  // namespace notify::email
