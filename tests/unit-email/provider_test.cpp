// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <cstdio>
#include <string>

#include "notify/email/provider.hpp"
#include "notify/plan.hpp"

using notify::email::Options;
using notify::email::Provider;

namespace {

Options options() {
  Options o;
  o.url = "smtp://127.0.0.1:1";
  o.from = "notify@family.example";
  return o;
}

}  // namespace

TEST_CASE("create() refuses what could never work, before any traffic") {
  struct Case {
    const char* name;
    Options options;
    std::string message;
  };
  Options http = options();
  http.url = "https://mail.example.com";
  Options bad_from = options();
  bad_from.from = "not an address";
  Options no_password = options();
  no_password.user = "notify";
  Options missing_file = options();
  missing_file.user = "notify";
  missing_file.password_file = "/nonexistent/notify-smtp-password";
  Options bad_domain = options();
  bad_domain.message_id_domain = "family.example>\r\nX: y";
  for (const Case& c : {Case{"http URL", http, "smtp:// or smtps://"}, Case{"bad From", bad_from, "from: invalid"},
                        Case{"bad Message-ID domain", bad_domain, "message_id_domain"},
                        Case{"user without password", no_password, "needs a password"},
                        Case{"unreadable password file", missing_file, "cannot read the SMTP password file"}}) {
    CAPTURE(c.name);
    auto p = Provider::create(c.options);
    REQUIRE_FALSE(p);
    CHECK(p.error().code == notify::Errc::configuration);
    CHECK(p.error().message.find(c.message) != std::string::npos);
  }
}

TEST_CASE("create() takes smtp:// and smtps:// URLs and reads the password file's first line") {
  char path[] = "/tmp/notify-email-password-XXXXXX";
  const int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  std::FILE* f = fdopen(fd, "w");
  std::fputs("s3cret\r\nignored\n", f);
  std::fclose(f);
  Options o = options();
  o.user = "notify";
  o.password_file = path;
  CHECK(Provider::create(o));
  o.url = "SMTPS://127.0.0.1:1";
  CHECK(Provider::create(o));
  std::remove(path);
}

TEST_CASE("pushes that are not e-mail or have a bad address are failed without a connection") {
  auto p = Provider::create(options());
  REQUIRE(p);
  notify::Message m;
  m.title = "t";
  m.body = "b";
  const notify::Push pushes[] = {{&m, "kim@example.com\r\nBcc: x@y.z", notify::PushService::email},
                                 {&m, "token", notify::PushService::fcm},
                                 {nullptr, "kim@example.com", notify::PushService::email}};
  const auto results = p->send(pushes);
  REQUIRE(results.size() == 3);
  CHECK(results[0].status == notify::PushStatus::invalid_token);  // reaches nobody: not a failure of the record
  CHECK(results[1].status == notify::PushStatus::failed);
  CHECK(results[2].status == notify::PushStatus::failed);
  CHECK(results[0].detail.find("invalid e-mail address") != std::string::npos);
  CHECK(results[1].detail.find("not an e-mail push") != std::string::npos);
  CHECK(p->stats().transfers == 0);
}
