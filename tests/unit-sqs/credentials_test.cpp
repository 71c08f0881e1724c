// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "notify/sqs/credentials.hpp"

using namespace std::chrono_literals;
using notify::Errc;
using notify::sqs::CredentialOptions;
using notify::sqs::CredentialProvider;
using notify::sqs::Credentials;

namespace {

using Env = std::map<std::string, std::string, std::less<>>;

notify::sqs::EnvLookup lookup_in(const Env& env) {
  return [&env](std::string_view name) -> std::optional<std::string> {
    const auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
}

/// One scripted HTTP answer.
struct Reply {
  int status = 200;
  std::string body;
  std::chrono::milliseconds delay{0};
};

/// A one-thread HTTP/1.1 server on 127.0.0.1:<ephemeral>: reads a request's head, records
/// it and answers with the handler's reply, then closes the connection.
class LocalServer {
 public:
  explicit LocalServer(std::function<Reply(const std::string& request)> handler) : handler_(std::move(handler)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    const int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(fd_, 8) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~LocalServer() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  LocalServer(const LocalServer&) = delete;
  LocalServer& operator=(const LocalServer&) = delete;

  std::string url(std::string_view path = "/v2/credentials") const {
    return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }
  std::vector<std::string> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  void run() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      std::string request;
      char buf[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        pollfd cp{c, POLLIN, 0};
        if (::poll(&cp, 1, 2000) <= 0) break;
        const ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        request.append(buf, static_cast<std::size_t>(n));
      }
      {
        std::lock_guard lock(mutex_);
        requests_.push_back(request);
      }
      const Reply r = handler_(request);
      for (auto waited = 0ms; waited < r.delay && !stop_; waited += 10ms) std::this_thread::sleep_for(10ms);
      const std::string answer = "HTTP/1.1 " + std::to_string(r.status) +
                                 " X\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
                                 std::to_string(r.body.size()) + "\r\n\r\n" + r.body;
      ::send(c, answer.data(), answer.size(), MSG_NOSIGNAL);
      ::close(c);
    }
  }

  std::function<Reply(const std::string&)> handler_;
  int fd_ = -1;
  unsigned short port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::vector<std::string> requests_;
  std::thread thread_;
};

std::string iso8601(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const auto secs = floor<seconds>(t);
  const auto day = floor<days>(secs);
  const year_month_day ymd(day);
  const hh_mm_ss<seconds> hms(secs - day);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

constexpr std::string_view secret = "SECRETsecretSECRETsecret0123456789abcdef";
constexpr std::string_view session = "SESSIONtokenVALUE==";
constexpr std::string_view auth_token = "container-auth-TOKEN-42";

std::string creds_json(std::chrono::system_clock::time_point expires, std::string_view id = "ASIACONTAINER") {
  return R"({"RoleArn":"arn:aws:iam::123456789012:role/x","AccessKeyId":")" + std::string(id) +
         R"(","SecretAccessKey":")" + std::string(secret) + R"(","Token":")" + std::string(session) +
         R"(","Expiration":")" + iso8601(expires) + R"("})";
}

bool mentions_secret(const std::string& message) {
  return message.find(secret) != std::string::npos || message.find(session) != std::string::npos ||
         message.find(auth_token) != std::string::npos;
}

bool has_header(const std::string& request, std::string_view line) {
  return request.find("\r\n" + std::string(line) + "\r\n") != std::string::npos;
}

}  // namespace

TEST_CASE("environment keys come first, with the session token when set") {
  Env env{{"AWS_ACCESS_KEY_ID", "AKIDENV"},
          {"AWS_SECRET_ACCESS_KEY", std::string(secret)},
          {"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:1/never-called"}};
  SUBCASE("without a token") {
    auto p = CredentialProvider::from_environment(lookup_in(env));
    REQUIRE(p);
    CHECK(p->source() == "environment");
    const auto c = p->get();
    REQUIRE(c);
    CHECK(c->access_key_id == "AKIDENV");
    CHECK(c->secret_access_key == secret);
    CHECK(c->session_token.empty());
    CHECK(c->expires == std::chrono::system_clock::time_point{});
  }
  SUBCASE("with a token") {
    env["AWS_SESSION_TOKEN"] = std::string(session);
    auto p = CredentialProvider::from_environment(lookup_in(env));
    REQUIRE(p);
    const auto c = p->get();
    REQUIRE(c);
    CHECK(c->session_token == session);
  }
  SUBCASE("the environment is read once") {
    auto p = CredentialProvider::from_environment(lookup_in(env));
    REQUIRE(p);
    env["AWS_ACCESS_KEY_ID"] = "CHANGED";
    CHECK(p->get()->access_key_id == "AKIDENV");
  }
}

TEST_CASE("missing or partial variables are a configuration error that names them, without values") {
  SUBCASE("nothing set") {
    const Env env;
    auto p = CredentialProvider::from_environment(lookup_in(env));
    REQUIRE(!p);
    CHECK(p.error().code == Errc::configuration);
    for (const char* name : {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                             "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"})
      CHECK(p.error().message.find(name) != std::string::npos);
  }
  SUBCASE("empty values count as unset") {
    const Env env{{"AWS_ACCESS_KEY_ID", ""}, {"AWS_SECRET_ACCESS_KEY", ""}};
    auto p = CredentialProvider::from_environment(lookup_in(env));
    REQUIRE(!p);
    CHECK(p.error().code == Errc::configuration);
  }
  SUBCASE("a secret without a key id") {
    const Env env{{"AWS_SECRET_ACCESS_KEY", std::string(secret)}};
    auto p = CredentialProvider::from_environment(lookup_in(env));
    REQUIRE(!p);
    CHECK(p.error().code == Errc::configuration);
    CHECK(p.error().message == "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
  }
  SUBCASE("a key id without a secret") {
    const Env env{{"AWS_ACCESS_KEY_ID", "AKID"}};
    auto p = CredentialProvider::from_environment(lookup_in(env));
    REQUIRE(!p);
    CHECK(p.error().message == "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
  }
  SUBCASE("a full URI over plain HTTP to a host that is not local") {
    const Env env{{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://example.com/creds?x=1"},
                  {"AWS_CONTAINER_AUTHORIZATION_TOKEN", std::string(auth_token)}};
    auto p = CredentialProvider::from_environment(lookup_in(env));
    REQUIRE(!p);
    CHECK(p.error().code == Errc::configuration);
    CHECK(p.error().message.find("AWS_CONTAINER_CREDENTIALS_FULL_URI") != std::string::npos);
    CHECK(!mentions_secret(p.error().message));
  }
}

TEST_CASE("the relative URI and HTTPS full URIs are accepted without fetching") {
  const Env relative{{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc"}};
  auto p = CredentialProvider::from_environment(lookup_in(relative));
  REQUIRE(p);
  CHECK(p->source() == "container");
  const Env full{{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "https://creds.example.com/x"}};
  CHECK(CredentialProvider::from_environment(lookup_in(full)));
  const Env eks{{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://169.254.170.23/v1/credentials"}};
  CHECK(CredentialProvider::from_environment(lookup_in(eks)));
}

TEST_CASE("fixed credentials are handed out as given") {
  auto p = CredentialProvider::fixed(Credentials{"AKIDFIXED", std::string(secret), "", {}});
  CHECK(p.source() == "fixed");
  const auto c = p.get();
  REQUIRE(c);
  CHECK(c->access_key_id == "AKIDFIXED");
}

TEST_CASE("the container endpoint is called with the authorization token and its answer is cached until near expiry") {
  const auto now = std::chrono::system_clock::now();
  std::atomic<std::chrono::system_clock::duration> expires_in{2h};
  LocalServer server([&](const std::string&) { return Reply{200, creds_json(now + expires_in.load())}; });
  const Env env{{"AWS_CONTAINER_CREDENTIALS_FULL_URI", server.url()},
                {"AWS_CONTAINER_AUTHORIZATION_TOKEN", std::string(auth_token)}};
  auto p = CredentialProvider::from_environment(lookup_in(env));
  REQUIRE(p);
  CHECK(p->source() == "container");
  CHECK(server.requests().empty());  // nothing fetched before the first get()

  auto c = p->get();
  REQUIRE(c);
  CHECK(c->access_key_id == "ASIACONTAINER");
  CHECK(c->secret_access_key == secret);
  CHECK(c->session_token == session);
  CHECK(std::chrono::floor<std::chrono::seconds>(c->expires) == std::chrono::floor<std::chrono::seconds>(now + 2h));
  REQUIRE(server.requests().size() == 1);
  const std::string request = server.requests()[0];
  CHECK(request.starts_with("GET /v2/credentials HTTP/1.1\r\n"));
  CHECK(has_header(request, "Authorization: " + std::string(auth_token)));

  SUBCASE("two hours left: cached") {
    CHECK(p->get());
    CHECK(server.requests().size() == 1);
  }
  SUBCASE("within five minutes of Expiration: fetched again") {
    // The cached answer expires in 2 h; make the next ones expire in 2 min.
    expires_in = 2min;
    auto p2 = CredentialProvider::from_environment(lookup_in(env));
    REQUIRE(p2);
    REQUIRE(p2->get());
    REQUIRE(p2->get());
    CHECK(server.requests().size() == 3);  // 1 above + 2: each get() is within the refresh window
  }
}

TEST_CASE("a failed early refresh keeps the still-valid cached credentials, and once they expire the error surfaces") {
  const auto now = std::chrono::system_clock::now();
  std::atomic<int> calls{0};
  std::atomic<std::chrono::system_clock::duration> expires_in{2min};
  LocalServer server([&](const std::string&) {
    if (calls++ == 0) return Reply{200, creds_json(now + expires_in.load())};
    return Reply{503, R"({"message":"busy"})"};
  });
  const Env env{{"AWS_CONTAINER_CREDENTIALS_FULL_URI", server.url()}};
  auto p = CredentialProvider::from_environment(lookup_in(env));
  REQUIRE(p);
  REQUIRE(p->get());
  auto again = p->get();  // refresh attempted (503), cached ones still valid for 2 min
  REQUIRE(again);
  CHECK(again->access_key_id == "ASIACONTAINER");
  CHECK(calls == 2);
  // No Authorization header when no token is configured.
  CHECK(server.requests()[0].find("Authorization:") == std::string::npos);

  SUBCASE("already expired") {
    calls = 0;
    expires_in = -1min;
    auto q = CredentialProvider::from_environment(lookup_in(env));
    REQUIRE(q);
    REQUIRE(q->get());  // the endpoint's answer is taken as it is, even if already past
    auto r = q->get();
    REQUIRE(!r);
    CHECK(r.error().code == Errc::unavailable);
  }
}

TEST_CASE("the token file is read again on each fetch") {
  const auto path = std::filesystem::temp_directory_path() / ("notify-sqs-token-" + std::to_string(::getpid()));
  {
    std::ofstream(path) << "token-from-file-A\n";
  }
  LocalServer server([&](const std::string&) { return Reply{200, creds_json(std::chrono::system_clock::now() + 1min)}; });
  const Env env{{"AWS_CONTAINER_CREDENTIALS_FULL_URI", server.url()},
                {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", path.string()},
                {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "ignored-when-a-file-is-named"}};
  auto p = CredentialProvider::from_environment(lookup_in(env));
  REQUIRE(p);
  REQUIRE(p->get());
  {
    std::ofstream(path) << "token-from-file-B";
  }
  REQUIRE(p->get());
  const auto requests = server.requests();
  REQUIRE(requests.size() == 2);
  CHECK(has_header(requests[0], "Authorization: token-from-file-A"));
  CHECK(has_header(requests[1], "Authorization: token-from-file-B"));

  std::filesystem::remove(path);
  auto gone = CredentialProvider::from_environment(lookup_in(env));
  REQUIRE(gone);
  auto r = gone->get();
  REQUIRE(!r);
  CHECK(r.error().code == Errc::configuration);
  CHECK(r.error().message.find("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE") != std::string::npos);
}

TEST_CASE("endpoint failures map to codes, transient where a retry may help, and never carry secrets") {
  struct Row {
    const char* what;
    Reply reply;
    Errc code;
  };
  // Error bodies quote the secrets: the message must still not.
  const std::string leaky = std::string(R"({"message":")") + std::string(secret) + " " + std::string(session) +
                            " " + std::string(auth_token) + R"("})";
  const Row rows[] = {
      {"500", {500, leaky, 0ms}, Errc::unavailable},
      {"503", {503, leaky, 0ms}, Errc::unavailable},
      {"429", {429, leaky, 0ms}, Errc::rate_limited},
      {"401", {401, leaky, 0ms}, Errc::unauthenticated},
      {"403", {403, leaky, 0ms}, Errc::unauthenticated},
      {"404", {404, leaky, 0ms}, Errc::configuration},
      {"200 not JSON", {200, "AccessKeyId=" + std::string(secret), 0ms}, Errc::protocol_error},
      {"200 without SecretAccessKey", {200, R"({"AccessKeyId":"A","Token":")" + std::string(session) + R"("})", 0ms},
       Errc::protocol_error},
      {"200 with a bad Expiration",
       {200, R"({"AccessKeyId":"A","SecretAccessKey":")" + std::string(secret) + R"(","Expiration":"soon"})", 0ms},
       Errc::protocol_error},
      {"no answer in time", {200, creds_json(std::chrono::system_clock::now() + 1h), 1500ms}, Errc::timeout},
  };
  for (const Row& row : rows) {
    CAPTURE(row.what);
    LocalServer server([&](const std::string&) { return row.reply; });
    const Env env{{"AWS_CONTAINER_CREDENTIALS_FULL_URI", server.url()},
                  {"AWS_CONTAINER_AUTHORIZATION_TOKEN", std::string(auth_token)}};
    CredentialOptions options;
    options.timeout = 300ms;
    auto p = CredentialProvider::from_environment(lookup_in(env), options);
    REQUIRE(p);
    const auto r = p->get();
    REQUIRE(!r);
    CHECK(r.error().code == row.code);
    CHECK(notify::is_transient(r.error().code) ==
          (row.code == Errc::unavailable || row.code == Errc::rate_limited || row.code == Errc::timeout));
    CHECK(!mentions_secret(r.error().message));
    CHECK(r.error().message.starts_with("container credentials ("));
  }
}

TEST_CASE("a refused connection is transient") {
  std::string url;
  {
    LocalServer server([](const std::string&) { return Reply{}; });
    url = server.url();
  }  // closed: nothing listens on that port any more
  const Env env{{"AWS_CONTAINER_CREDENTIALS_FULL_URI", url},
                {"AWS_CONTAINER_AUTHORIZATION_TOKEN", std::string(auth_token)}};
  auto p = CredentialProvider::from_environment(lookup_in(env));
  REQUIRE(p);
  const auto r = p->get();
  REQUIRE(!r);
  CHECK(r.error().code == Errc::unavailable);
  CHECK(notify::is_transient(r.error().code));
  CHECK(!mentions_secret(r.error().message));
}

TEST_CASE("parse_container_credentials reads the endpoint's JSON") {
  const auto c = notify::sqs::parse_container_credentials(
      R"({"AccessKeyId":"A","SecretAccessKey":"S","Token":"T","Expiration":"2026-11-23T20:38:25Z"})");
  REQUIRE(c);
  CHECK(c->access_key_id == "A");
  CHECK(c->secret_access_key == "S");
  CHECK(c->session_token == "T");
  CHECK(c->expires == notify::sqs::parse_iso8601("2026-11-23T20:38:25Z"));
  const auto no_expiry = notify::sqs::parse_container_credentials(R"({"AccessKeyId":"A","SecretAccessKey":"S"})");
  REQUIRE(no_expiry);
  CHECK(no_expiry->session_token.empty());
  CHECK(no_expiry->expires == std::chrono::system_clock::time_point{});
  const auto wrong = notify::sqs::parse_container_credentials(R"({"AccessKeyId":1,"SecretAccessKey":"S"})");
  REQUIRE(!wrong);
  CHECK(wrong.error().code == Errc::protocol_error);
  CHECK(wrong.error().message == "container credentials: AccessKeyId is not a string");
}

TEST_CASE("parse_iso8601 reads UTC times with optional fraction and offset") {
  using namespace std::chrono;
  const auto base = sys_days(year{2026} / 11 / 23) + 20h + 38min + 25s;
  CHECK(notify::sqs::parse_iso8601("2026-11-23T20:38:25Z") == base);
  CHECK(notify::sqs::parse_iso8601("2026-11-23T20:38:25.123Z") == base);
  CHECK(notify::sqs::parse_iso8601("2026-11-23T21:38:25+01:00") == base);
  CHECK(notify::sqs::parse_iso8601("2026-11-23T20:38:25+00:00") == base);
  CHECK(notify::sqs::parse_iso8601("2026-11-23T18:08:25-02:30") == base);
  for (const char* bad : {"", "soon", "2026-11-23", "2026-11-23T20:38:25", "2026-13-01T00:00:00Z",
                          "2026-02-30T00:00:00Z", "2026-11-23T24:00:00Z", "2026-11-23T20:38:25.Z",
                          "2026-11-23T20:38:25+0100", "2026-11-23 20:38:25Z"}) {
    CAPTURE(bad);
    CHECK(!notify::sqs::parse_iso8601(bad));
  }
}
