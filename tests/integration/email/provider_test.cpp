// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mime_reader.hpp"
#include "notify/email/email.hpp"
#include "notify/plan.hpp"
#include "smtp-server/server.hpp"

using notify::PushService;
using notify::PushStatus;
using notify::RetryScope;
using notify::email::Options;
using notify::email::Provider;
using notify::test::SmtpServer;
using notify::test::SmtpServerOptions;

namespace {

const std::string title = "할머니께서 새 사진을 올렸어요 — 가족 앨범에서 오늘의 추억을 함께 나눠 보세요 🎉";
const std::string body = "사진 3장이 추가되었어요.\n\n<앨범> & \"추억\" 'ㅎㅎ'";

notify::Message korean_message() {
  notify::Message m;
  m.title = title;
  m.body = body;
  return m;
}

Options options_for(const SmtpServer& server) {
  Options o;
  o.url = server.url();
  o.from = "notify@family.example";
  o.from_name = "가족 알림";
  o.user = server.options().user;
  o.password = server.options().password;
  o.ca_file = server.ca_file();
  o.connect_timeout = std::chrono::milliseconds(5000);
  o.timeout = std::chrono::milliseconds(20000);
  return o;
}

notify::Push email_push(const notify::Message& m, std::string_view address) {
  return notify::Push{&m, address, PushService::email};
}

std::string crlf_to_lf(std::string s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (!(s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n')) out += s[i];
  return out;
}

// A loopback port nothing listens on (bound, then closed).
int closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace

TEST_CASE("a batch goes out over STARTTLS with AUTH, each address judged on its own") {
  SmtpServer server;
  auto provider = Provider::create(options_for(server));
  REQUIRE(provider);
  const notify::Message m = korean_message();
  const std::vector<notify::Push> pushes = {
      email_push(m, "kim@example.com"), email_push(m, "lee@example.com"), email_push(m, "dead-1@example.com"),
      email_push(m, "busy-1@example.com"), email_push(m, "park@example.com")};
  const std::vector<std::string> keys = {"req-1|kim@example.com", "req-1|lee@example.com", "req-1|dead-1@example.com",
                                         "req-1|busy-1@example.com", "req-1|park@example.com"};
  const auto results = provider->send(pushes, keys);
  REQUIRE(results.size() == 5);
  CHECK(results[0].status == PushStatus::sent);
  CHECK(results[1].status == PushStatus::sent);
  CHECK(results[2].status == PushStatus::invalid_token);
  INFO(results[2].detail);
  CHECK(results[2].detail.find("dead address (RCPT TO, SMTP 550)") == 0);
  CHECK(results[2].detail.find("dead-1@") == std::string::npos);  // shortened: "de…@example.com"
  CHECK(results[2].detail.find("de\u2026@example.com") != std::string::npos);
  CHECK(results[3].status == PushStatus::retry);
  CHECK_FALSE(results[3].outage);
  CHECK(results[3].scope == RetryScope::push);
  CHECK(results[3].detail.find("SMTP 451") != std::string::npos);
  CHECK(results[4].status == PushStatus::sent);
  for (const auto& r : results) CHECK(r.detail.find(server.options().password) == std::string::npos);

  const auto received = server.received();
  REQUIRE(received.size() == 3);
  const std::vector<std::string> to = {"kim@example.com", "lee@example.com", "park@example.com"};
  const std::vector<std::size_t> index = {0, 1, 4};
  for (std::size_t i = 0; i < received.size(); ++i) {
    CAPTURE(to[i]);
    const auto& json = received[i].json;
    // The envelope and the session.
    CHECK(json["mail_from"] == "notify@family.example");
    CHECK(json["rcpt_tos"] == nlohmann::json::array({to[i]}));
    CHECK(json["tls"] == true);
    CHECK(json["authenticated"] == true);
    CHECK(json["defects"].empty());
    // Python's email package reads the headers: RFC 2047 decoded.
    const auto& h = json["headers"];
    CHECK(h["subject"] == title);
    CHECK(h["from"] == "가족 알림 <notify@family.example>");
    CHECK(h["to"] == to[i]);
    CHECK(h["mime-version"] == "1.0");
    CHECK(h["message-id"] == notify::email::message_id(keys[index[i]], "family.example"));
    CHECK(h["message-id"] == results[index[i]].detail);
    CHECK(h.contains("date"));
    CHECK(json["content_type"] == "multipart/alternative");
    // Both parts, decoded by Python.
    const auto& parts = json["parts"];
    REQUIRE(parts.size() == 2);
    CHECK(parts[0]["content_type"] == "text/plain");
    CHECK(parts[0]["charset"] == "utf-8");
    CHECK(parts[0]["transfer_encoding"] == "base64");
    CHECK(crlf_to_lf(parts[0]["content"].get<std::string>()) == title + "\n\n" + body);
    CHECK(parts[1]["content_type"] == "text/html");
    CHECK(parts[1]["charset"] == "utf-8");
    CHECK(crlf_to_lf(parts[1]["content"].get<std::string>()) == crlf_to_lf(notify::email::html_part(title, body)));
    // The bytes as received: CRLF only, and this test's own reader agrees with Python's.
    const std::string& raw = received[i].raw;
    for (std::size_t k = raw.find('\n'); k != std::string::npos; k = raw.find('\n', k + 1))
      CHECK((k > 0 && raw[k - 1] == '\r'));
    const auto parsed = notify::test::parse_mail(raw);
    CHECK(notify::test::decode_words(parsed.header("subject")) == title);
  }

  // The address answered 451 is taken the second time.
  const std::vector<notify::Push> again = {email_push(m, "busy-1@example.com")};
  const auto second = provider->send(again);
  REQUIRE(second.size() == 1);
  CHECK(second[0].status == PushStatus::sent);
  CHECK(server.received().size() == 4);
}

TEST_CASE("one connection carries the messages of a batch and of the next batch") {
  SmtpServer server;
  auto provider = Provider::create(options_for(server));
  REQUIRE(provider);
  REQUIRE(provider->connect());
  const notify::Message m = korean_message();
  const std::vector<notify::Push> pushes = {email_push(m, "a@example.com"), email_push(m, "b@example.com"),
                                            email_push(m, "c@example.com")};
  for (const auto& r : provider->send(pushes)) CHECK(r.status == PushStatus::sent);
  for (const auto& r : provider->send(pushes)) CHECK(r.status == PushStatus::sent);
  CHECK(server.received().size() == 6);
  CHECK(server.connections() == 1);
  CHECK(provider->stats().connections == 1);
  CHECK(provider->stats().transfers == 6);
  CHECK(provider->stats().sent == 6);
  // Without a key the Message-ID comes from title, body and address: stable across resends.
  const auto received = server.received();
  CHECK(received[0].json["headers"]["message-id"] == received[3].json["headers"]["message-id"]);
  CHECK(received[0].json["headers"]["message-id"] != received[1].json["headers"]["message-id"]);
}

TEST_CASE("a wrong password is fatal and the rest of the batch is not tried") {
  SmtpServer server;
  Options o = options_for(server);
  o.password = "wrong";
  auto provider = Provider::create(o);
  REQUIRE(provider);
  const notify::Message m = korean_message();
  const std::vector<notify::Push> pushes = {email_push(m, "kim@example.com"), email_push(m, "lee@example.com")};
  const auto results = provider->send(pushes);
  REQUIRE(results.size() == 2);
  CHECK(results[0].status == PushStatus::fatal);
  CHECK(results[0].detail.find("SMTP login denied") == 0);
  CHECK(results[0].detail.find("wrong") == std::string::npos);
  CHECK(results[1].status == PushStatus::retry);
  CHECK(results[1].outage);
  CHECK(results[1].scope == RetryScope::provider);
  CHECK(server.received().empty());

  const auto check = provider->connect();
  REQUIRE_FALSE(check);
  CHECK(check.error().code == notify::Errc::unauthenticated);
}

TEST_CASE("the password can come from a file, and connect() checks it") {
  SmtpServer server;
  const std::string path = server.dir() + "/password";
  {
    std::FILE* f = std::fopen(path.c_str(), "w");
    REQUIRE(f);
    std::fprintf(f, "%s\n", server.options().password.c_str());
    std::fclose(f);
  }
  Options o = options_for(server);
  o.password.clear();
  o.password_file = path;
  auto provider = Provider::create(o);
  REQUIRE(provider);
  CHECK(provider->connect());
  const notify::Message m = korean_message();
  const std::vector<notify::Push> pushes = {email_push(m, "kim@example.com")};
  CHECK(provider->send(pushes)[0].status == PushStatus::sent);
}

TEST_CASE("a server without STARTTLS is refused while TLS is required") {
  SmtpServerOptions plain;
  plain.tls = SmtpServerOptions::Tls::none;
  plain.user.clear();  // aiosmtpd offers AUTH only over TLS
  SmtpServer server(plain);
  const notify::Message m = korean_message();
  const std::vector<notify::Push> pushes = {email_push(m, "kim@example.com"), email_push(m, "lee@example.com")};

  auto provider = Provider::create(options_for(server));
  REQUIRE(provider);
  const auto results = provider->send(pushes);
  CHECK(results[0].status == PushStatus::fatal);
  CHECK(results[0].detail.find("TLS required") != std::string::npos);
  CHECK(results[1].status == PushStatus::retry);
  CHECK(server.received().empty());
  const auto check = provider->connect();
  REQUIRE_FALSE(check);
  CHECK(check.error().code == notify::Errc::configuration);

  // allow_plaintext (local tests only) lets it through.
  Options o = options_for(server);
  o.allow_plaintext = true;
  auto lax = Provider::create(o);
  REQUIRE(lax);
  for (const auto& r : lax->send(pushes)) CHECK(r.status == PushStatus::sent);
  const auto received = server.received();
  REQUIRE(received.size() == 2);
  CHECK(received[0].json["tls"] == false);
}

TEST_CASE("a server certificate from an untrusted CA is fatal") {
  SmtpServer server;
  Options o = options_for(server);
  o.ca_file.clear();  // the system's CAs do not know the test CA
  auto provider = Provider::create(o);
  REQUIRE(provider);
  const notify::Message m = korean_message();
  const std::vector<notify::Push> pushes = {email_push(m, "kim@example.com")};
  const auto results = provider->send(pushes);
  CHECK(results[0].status == PushStatus::fatal);
  CHECK(results[0].detail.find("TLS failed") == 0);
  CHECK(server.received().empty());
}

TEST_CASE("smtps:// speaks TLS from the first byte") {
  SmtpServerOptions implicit;
  implicit.tls = SmtpServerOptions::Tls::implicit;
  SmtpServer server(implicit);
  auto provider = Provider::create(options_for(server));
  REQUIRE(provider);
  const notify::Message m = korean_message();
  const std::vector<notify::Push> pushes = {email_push(m, "kim@example.com")};
  const auto results = provider->send(pushes);
  CHECK(results[0].status == PushStatus::sent);
  INFO(results[0].detail);
  const auto received = server.received();
  REQUIRE(received.size() == 1);
  CHECK(received[0].json["tls"] == true);
  CHECK(received[0].json["headers"]["subject"] == title);
}

TEST_CASE("a refused connection is a retry in an outage, for the whole batch") {
  Options o;
  o.url = "smtp://127.0.0.1:" + std::to_string(closed_port());
  o.from = "notify@family.example";
  auto provider = Provider::create(o);
  REQUIRE(provider);
  const notify::Message m = korean_message();
  const std::vector<notify::Push> pushes = {email_push(m, "kim@example.com"), email_push(m, "lee@example.com")};
  const auto results = provider->send(pushes);
  REQUIRE(results.size() == 2);
  for (const auto& r : results) {
    CHECK(r.status == PushStatus::retry);
    CHECK(r.outage);
    CHECK(r.scope == RetryScope::provider);
  }
  CHECK(results[0].detail.find("SMTP server unreachable") == 0);
  const auto check = provider->connect();
  REQUIRE_FALSE(check);
  CHECK(check.error().code == notify::Errc::unavailable);
}

TEST_CASE("a server that goes away between batches is reconnected to") {
  SmtpServer server;
  auto provider = Provider::create(options_for(server));
  REQUIRE(provider);
  const notify::Message m = korean_message();
  const std::vector<notify::Push> pushes = {email_push(m, "kim@example.com")};
  CHECK(provider->send(pushes)[0].status == PushStatus::sent);
  server.stop();
  const auto down = provider->send(pushes);
  CHECK(down[0].status == PushStatus::retry);
  CHECK(down[0].outage);
}

TEST_CASE("421 from the server is an outage: the rest of the batch waits, the next batch reconnects") {
  SmtpServer server;
  auto provider = Provider::create(options_for(server));
  REQUIRE(provider);
  const notify::Message m = korean_message();
  const std::vector<notify::Push> pushes = {email_push(m, "closing-1@example.com"), email_push(m, "kim@example.com")};
  const auto results = provider->send(pushes);
  REQUIRE(results.size() == 2);
  for (const auto& r : results) {
    CHECK(r.status == PushStatus::retry);
    CHECK(r.outage);
    CHECK(r.scope == RetryScope::provider);
  }
  CHECK(results[0].detail.find("SMTP 421") != std::string::npos);
  CHECK(results[1].detail.rfind("not tried: ", 0) == 0);
  CHECK(server.received().empty());
  const std::vector<notify::Push> later = {email_push(m, "kim@example.com")};
  CHECK(provider->send(later)[0].status == PushStatus::sent);
}

TEST_CASE("an invalid address in a batch is an invalid address for e-mail and never reaches the server") {
  SmtpServer server;
  auto provider = Provider::create(options_for(server));
  REQUIRE(provider);
  const notify::Message m = korean_message();
  const std::vector<notify::Push> pushes = {email_push(m, "kim@example.com>\r\nRCPT TO:<victim@example.com"),
                                            email_push(m, "lee@example.com")};
  const auto results = provider->send(pushes);
  REQUIRE(results.size() == 2);
  CHECK(results[0].status == PushStatus::invalid_token);
  CHECK(results[0].detail.find("invalid e-mail address") != std::string::npos);
  CHECK(results[0].detail.find("victim") == std::string::npos);
  CHECK(results[1].status == PushStatus::sent);
  const auto received = server.received();
  REQUIRE(received.size() == 1);
  CHECK(received[0].json["rcpt_tos"] == nlohmann::json::array({"lee@example.com"}));
}
