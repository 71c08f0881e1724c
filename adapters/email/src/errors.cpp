// SPDX-License-Identifier: MIT
#include "notify/email/errors.hpp"

#include <curl/curl.h>

#include <string>
#include <string_view>

#include "notify/email/message.hpp"

namespace notify::email {

namespace {

// `text` with every address in it shortened (the recipient's as the server wrote it, in
// any case, and any other word with an '@'), control characters made spaces and at most
// 200 bytes kept.
std::string redacted(std::string_view text) {
  std::string out;
  const auto delimiter = [](char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '<' || c == '>' || c == '(' || c == ')' ||
           c == ',' || c == ';' || c == '"' || c == '\'' || c == '[' || c == ']';
  };
  for (std::size_t i = 0; i < text.size();) {
    if (delimiter(text[i])) {
      out += text[i++];
      continue;
    }
    std::size_t j = i;
    while (j < text.size() && !delimiter(text[j])) ++j;
    const std::string_view word = text.substr(i, j - i);
    if (word.find('@') != std::string_view::npos) out += shorten_address(word);
    else out += word;
    i = j;
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r' || out.back() == ' ')) out.pop_back();
  out = sanitize_header_text(out);
  if (out.size() > 200) {
    std::size_t cut = 200;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;  // not inside a character
    out.resize(cut);
    out += "...";
  }
  return out;
}

std::string describe(const Reply& r, std::string_view what) {
  std::string out(what);
  out += " (";
  out += to_string(r.stage);
  if (r.smtp_code > 0) out += ", SMTP " + std::to_string(r.smtp_code);
  out += ")";
  if (!r.server_text.empty()) out += ": " + redacted(r.server_text);
  else if (!r.error.empty()) out += ": " + redacted(r.error);
  return out;
}

PushResult result(PushStatus status, std::string detail, bool outage = false, RetryScope scope = RetryScope::push) {
  PushResult p;
  p.status = status;
  p.detail = std::move(detail);
  p.outage = outage;
  p.scope = scope;
  return p;
}

bool tls_failure(int code) {
  switch (code) {
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS: return true;
    default: return false;
  }
}

bool configuration_failure(int code) {
  switch (code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_FAILED_INIT:
    case CURLE_URL_MALFORMAT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_UNKNOWN_OPTION:
    case CURLE_AUTH_ERROR: return true;
    default: return false;
  }
}

bool connection_failure(int code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_SSL_SHUTDOWN_FAILED: return true;
    default: return false;
  }
}

}  // namespace

PushResult classify(const Reply& r) {
  if (r.curl_code == CURLE_OK) return result(PushStatus::sent, std::string(r.message_id));
  if (r.curl_code == CURLE_LOGIN_DENIED) {
    if (r.smtp_code >= 400 && r.smtp_code < 500)  // 454: a temporary authentication failure
      return result(PushStatus::retry, describe(r, "SMTP login failed for now"), true, RetryScope::provider);
    return result(PushStatus::fatal, describe(r, "SMTP login denied"));
  }
  if (r.curl_code == CURLE_USE_SSL_FAILED)
    return result(PushStatus::fatal, describe(r, "TLS required but the server does not offer STARTTLS"));
  if (tls_failure(r.curl_code)) return result(PushStatus::fatal, describe(r, "TLS failed"));
  if (configuration_failure(r.curl_code)) return result(PushStatus::fatal, describe(r, "SMTP configuration"));

  const long code = r.smtp_code;
  if (code >= 400 && code < 600) {
    if (code == 421) return result(PushStatus::retry, describe(r, "SMTP service closing"), true, RetryScope::provider);
    if (code < 500) {
      const bool before_mail = r.stage == Stage::connect || r.stage == Stage::ehlo || r.stage == Stage::starttls ||
                               r.stage == Stage::auth;
      if (before_mail)
        return result(PushStatus::retry, describe(r, "SMTP temporary failure"), true, RetryScope::provider);
      return result(PushStatus::retry, describe(r, "SMTP temporary failure"));
    }
    if (r.stage == Stage::auth || code == 530 || code == 534 || code == 535 || code == 538)
      return result(PushStatus::fatal, describe(r, "SMTP authentication failed"));
    if (r.stage == Stage::starttls) return result(PushStatus::fatal, describe(r, "STARTTLS refused"));
    if (r.stage == Stage::connect || r.stage == Stage::ehlo)
      return result(PushStatus::fatal, describe(r, "SMTP server refuses the session"));
    if (r.stage == Stage::rcpt_to && (code == 550 || code == 551 || code == 553 || code == 501))
      return result(PushStatus::invalid_token, describe(r, "dead address"));
    return result(PushStatus::failed, describe(r, "SMTP rejected the message"));
  }
  if (connection_failure(r.curl_code))
    return result(PushStatus::retry, describe(r, "SMTP server unreachable"), true, RetryScope::provider);
  return result(PushStatus::retry, describe(r, "SMTP transfer failed"));
}

}  // namespace notify::email
