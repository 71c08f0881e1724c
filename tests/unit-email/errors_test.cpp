// SPDX-License-Identifier: MIT
#include <curl/curl.h>
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "notify/email/errors.hpp"

using notify::PushStatus;
using notify::RetryScope;
using notify::email::classify;
using notify::email::Reply;
using notify::email::Stage;

namespace {

struct Case {
  const char* name;
  int curl_code;
  long smtp_code;
  Stage stage;
  PushStatus status;
  bool outage;
  RetryScope scope;
};

}  // namespace

TEST_CASE("libcurl results and SMTP reply codes map to push outcomes (table)") {
  const auto push = RetryScope::push;
  const auto provider = RetryScope::provider;
  const std::vector<Case> cases = {
      {"accepted", CURLE_OK, 250, Stage::end_of_data, PushStatus::sent, false, push},
      {"login denied", CURLE_LOGIN_DENIED, 535, Stage::auth, PushStatus::fatal, false, push},
      {"login denied without a code", CURLE_LOGIN_DENIED, 0, Stage::auth, PushStatus::fatal, false, push},
      {"STARTTLS not offered", CURLE_USE_SSL_FAILED, 250, Stage::ehlo, PushStatus::fatal, false, push},
      {"certificate not trusted", CURLE_PEER_FAILED_VERIFICATION, 0, Stage::starttls, PushStatus::fatal, false, push},
      {"TLS handshake", CURLE_SSL_CONNECT_ERROR, 0, Stage::connect, PushStatus::fatal, false, push},
      {"bad URL", CURLE_URL_MALFORMAT, 0, Stage::connect, PushStatus::fatal, false, push},
      {"connection refused", CURLE_COULDNT_CONNECT, 0, Stage::connect, PushStatus::retry, true, provider},
      {"host unknown", CURLE_COULDNT_RESOLVE_HOST, 0, Stage::connect, PushStatus::retry, true, provider},
      {"timeout", CURLE_OPERATION_TIMEDOUT, 0, Stage::data, PushStatus::retry, true, provider},
      {"connection broke while sending", CURLE_SEND_ERROR, 0, Stage::data, PushStatus::retry, true, provider},
      {"connection broke while reading", CURLE_RECV_ERROR, 250, Stage::rcpt_to, PushStatus::retry, true, provider},
      {"nothing from the server", CURLE_GOT_NOTHING, 0, Stage::connect, PushStatus::retry, true, provider},
      {"421 at the greeting", CURLE_WEIRD_SERVER_REPLY, 421, Stage::connect, PushStatus::retry, true, provider},
      {"421 at RCPT", CURLE_SEND_ERROR, 421, Stage::rcpt_to, PushStatus::retry, true, provider},
      {"454 at AUTH", CURLE_LOGIN_DENIED, 454, Stage::auth, PushStatus::retry, true, provider},
      {"454 at STARTTLS", CURLE_WEIRD_SERVER_REPLY, 454, Stage::starttls, PushStatus::retry, true, provider},
      {"451 at RCPT (greylisting)", CURLE_SEND_ERROR, 451, Stage::rcpt_to, PushStatus::retry, false, push},
      {"452 at RCPT (mailbox full for now)", CURLE_SEND_ERROR, 452, Stage::rcpt_to, PushStatus::retry, false, push},
      {"451 at MAIL", CURLE_SEND_ERROR, 451, Stage::mail_from, PushStatus::retry, false, push},
      {"451 after the data", CURLE_WEIRD_SERVER_REPLY, 451, Stage::end_of_data, PushStatus::retry, false, push},
      {"550 at RCPT", CURLE_SEND_ERROR, 550, Stage::rcpt_to, PushStatus::invalid_token, false, push},
      {"551 at RCPT", CURLE_SEND_ERROR, 551, Stage::rcpt_to, PushStatus::invalid_token, false, push},
      {"553 at RCPT", CURLE_SEND_ERROR, 553, Stage::rcpt_to, PushStatus::invalid_token, false, push},
      {"501 at RCPT", CURLE_SEND_ERROR, 501, Stage::rcpt_to, PushStatus::invalid_token, false, push},
      {"552 at RCPT", CURLE_SEND_ERROR, 552, Stage::rcpt_to, PushStatus::failed, false, push},
      {"554 at RCPT (policy)", CURLE_SEND_ERROR, 554, Stage::rcpt_to, PushStatus::failed, false, push},
      {"550 at MAIL", CURLE_SEND_ERROR, 550, Stage::mail_from, PushStatus::failed, false, push},
      {"530 at MAIL (auth required)", CURLE_SEND_ERROR, 530, Stage::mail_from, PushStatus::fatal, false, push},
      {"554 after the data (spam)", CURLE_WEIRD_SERVER_REPLY, 554, Stage::end_of_data, PushStatus::failed, false, push},
      {"552 after the data (too big)", CURLE_WEIRD_SERVER_REPLY, 552, Stage::end_of_data, PushStatus::failed, false,
       push},
      {"554 at the greeting", CURLE_WEIRD_SERVER_REPLY, 554, Stage::connect, PushStatus::fatal, false, push},
      {"5xx at STARTTLS", CURLE_USE_SSL_FAILED, 502, Stage::starttls, PushStatus::fatal, false, push},
      {"read callback failed", CURLE_READ_ERROR, 354, Stage::data, PushStatus::retry, false, push},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    Reply r;
    r.curl_code = c.curl_code;
    r.smtp_code = c.smtp_code;
    r.stage = c.stage;
    r.message_id = "<0123456789abcdef@family.example>";
    const notify::PushResult p = classify(r);
    CHECK(p.status == c.status);
    CHECK(p.outage == c.outage);
    if (p.status == PushStatus::retry) CHECK(p.scope == c.scope);
    if (p.status == PushStatus::sent) CHECK(p.detail == "<0123456789abcdef@family.example>");
    else CHECK_FALSE(p.detail.empty());
  }
}

TEST_CASE("a dead address is reported with the stage, the code and the server's words, the address shortened") {
  Reply r;
  r.curl_code = CURLE_SEND_ERROR;
  r.smtp_code = 550;
  r.stage = Stage::rcpt_to;
  r.server_text = "550 5.1.1 <dead-1@example.com>: no such user\r\n";
  r.recipient = "dead-1@example.com";
  const auto p = classify(r);
  CHECK(p.status == PushStatus::invalid_token);
  CHECK(p.detail == "dead address (RCPT TO, SMTP 550): 550 5.1.1 <de\u2026@example.com>: no such user");
}

TEST_CASE("without a server reply the detail is libcurl's error") {
  Reply r;
  r.curl_code = CURLE_COULDNT_CONNECT;
  r.error = "Failed to connect to 127.0.0.1 port 1: Connection refused";
  const auto p = classify(r);
  CHECK(p.detail == "SMTP server unreachable (connect): Failed to connect to 127.0.0.1 port 1: Connection refused");
}

TEST_CASE("a long server reply is cut without splitting a character") {
  Reply r;
  r.curl_code = CURLE_SEND_ERROR;
  r.smtp_code = 554;
  r.stage = Stage::rcpt_to;
  std::string text = "554 ";
  for (int i = 0; i < 100; ++i) text += "거부";
  r.server_text = text;
  const auto p = classify(r);
  CHECK(p.status == PushStatus::failed);
  CHECK(p.detail.size() < 300);
  CHECK(p.detail.substr(p.detail.size() - 3) == "...");
  const std::string cut = p.detail.substr(0, p.detail.size() - 3);
  // The last character before "..." is whole: a Korean syllable is 3 bytes from 0xEA.
  const std::size_t lead = cut.size() - 3;
  CHECK(static_cast<unsigned char>(cut[lead]) >= 0xE0);
}
