// SPDX-License-Identifier: MIT
// What the nghttp2 client does better than libcurl 7.88: cleartext connections reused, no
// RST_STREAM after answers, connections opened only when the open ones are full, refused
// streams after GOAWAY sent again without counting as broken.
#include <sys/epoll.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "common.hpp"
#include "notify/http2/client.hpp"

using namespace fcmtest;
using namespace std::chrono_literals;
using notify::PushStatus;

namespace {

notify::fcm::Options nghttp2_options(const FcmEmulator& emu) {
  auto o = options_for(emu);
  o.transport = notify::fcm::HttpClient::nghttp2;
  return o;
}

}  // namespace

TEST_CASE("the nghttp2 client keeps one cleartext connection for many requests and resets no stream") {
  FcmEmulator emu;
  auto o = nghttp2_options(emu);
  o.connections = 1;
  o.streams_per_connection = 10;
  auto provider = provider_for(emu, o);
  CHECK(count(send_to(provider, tokens("a-", 300)), PushStatus::sent) == 300);
  CHECK(count(send_to(provider, tokens("b-", 300)), PushStatus::sent) == 300);
  const auto stats = emu.stats();
  CHECK(stats["requests"] == 600);
  CHECK(stats["sessions_opened"] == 3);  // the token request's, the pushes' one, this stats call's
  CHECK(stats["streams_reset"] == 0);
  CHECK(stats["max_streams_per_session"].get<int>() <= 10);
}

TEST_CASE("the nghttp2 client opens another connection only when the open ones have no free stream") {
  FcmEmulator emu(EmulatorOptions{.tls = true, .latency_ms = 20});
  auto o = nghttp2_options(emu);
  o.connections = 4;
  o.streams_per_connection = 50;
  auto provider = provider_for(emu, o);
  CHECK(count(send_to(provider, tokens("a-", 40)), PushStatus::sent) == 40);
  CHECK(emu.stats()["sessions_opened"] == 3);  // the token request's, one for the pushes, this stats call's
  CHECK(count(send_to(provider, tokens("b-", 400)), PushStatus::sent) == 400);
  const auto stats = emu.stats();
  CHECK(stats["sessions_opened"] == 3 + 3 + 1);  // three more for the pushes, one more stats call
  CHECK(stats["max_concurrent_streams"].get<int>() > 50);
  CHECK(stats["max_concurrent_streams"].get<int>() <= 200);
}

TEST_CASE("over TLS the first push connection opens alone and the others resume the session its server handed out") {
  FcmEmulator emu(EmulatorOptions{.tls = true, .latency_ms = 20});
  auto o = nghttp2_options(emu);
  o.connections = 4;
  o.streams_per_connection = 10;
  auto provider = provider_for(emu, o);
  CHECK(count(send_to(provider, tokens("a-", 400)), PushStatus::sent) == 400);
  const auto stats = emu.stats();
  CHECK(stats["sessions_opened"] == 1 + 4 + 1);  // the token request's, the pushes', this stats call's
  // The token's connection (a pool of its own) and the first push connection handshake in
  // full; the other three resume.
  CHECK(stats["tls_sessions_resumed"] == 3);
  CHECK(stats["max_sessions_open"].get<int>() >= 4);
}

TEST_CASE("a TLS server that never sends its SETTINGS fails the queue at the connect timeout, not the request timeout") {
  namespace h2 = notify::http2;
  FcmEmulator emu(EmulatorOptions{.tls = true});  // for its certificates only
  const std::string dir = std::filesystem::path(emu.ca_file()).parent_path().string();
  // Completes the TLS handshake with ALPN h2, then says nothing.
  const std::string script =
      "const tls = require('tls'), fs = require('fs'); const d = process.argv[1];"
      "const s = tls.createServer({cert: fs.readFileSync(d + '/server.pem'), key: fs.readFileSync(d + '/server.key'),"
      " ALPNProtocols: ['h2']}, (sock) => sock.on('error', () => {}));"
      "s.listen(0, '127.0.0.1', () => console.log(s.address().port));"
      "process.stdin.on('end', () => process.exit(0)); process.stdin.resume();";
  notify::test::NodeService silent;
  const int port = std::atoi(silent.start({"-e", script, dir}).c_str());
  REQUIRE(port > 0);
  auto target = h2::parse_url("https://127.0.0.1:" + std::to_string(port) + "/v1/projects/p/messages:send");
  REQUIRE(target.has_value());
  h2::Config cfg{*target, emu.ca_file(), 2, 10, 300ms, 60s};
  const int ep = epoll_create1(EPOLL_CLOEXEC);
  REQUIRE(ep >= 0);
  auto pool = h2::Pool::create(cfg, ep);
  REQUIRE(pool.has_value());
  (*pool)->post(1, std::string("{}"), "Bearer x");
  std::vector<h2::Done> done;
  for (int i = 0; i < 1000 && done.empty(); ++i) {  // 20 s at most; the connect timeout is 0.3 s
    (*pool)->pump();
    epoll_event events[8];
    const int n = epoll_wait(ep, events, 8, 20);
    for (int k = 0; k < n; ++k) (*pool)->on_event(events[k].data.u64, events[k].events);
    (*pool)->take(done);
  }
  close(ep);
  REQUIRE(done.size() == 1);
  CHECK(done[0].transport == h2::Transport::timeout);
  CHECK(done[0].error == "no SETTINGS from the server");
}

TEST_CASE("streams refused after a GOAWAY are sent again on a new connection without counting as broken") {
  FcmEmulator emu(EmulatorOptions{.latency_ms = 20});
  emu.faults({{{"match", "^goaway"}, {"action", "goaway"}, {"times", 1}}});
  auto o = nghttp2_options(emu);
  o.connections = 1;
  o.streams_per_connection = 5;
  auto provider = provider_for(emu, o);
  std::vector<std::string> toks = tokens("tok-", 30);
  toks.insert(toks.begin() + 3, "goaway-1");
  CHECK(count(send_to(provider, toks), PushStatus::sent) == toks.size());
  CHECK(provider.stats().connection_retries == 0);
  CHECK(emu.stats()["requests"] == toks.size());  // each exactly once
}

TEST_CASE("a timed-out request resets only its own stream: the connection carries on") {
  FcmEmulator emu;
  emu.faults({{{"match", "^slow"}, {"action", "ok"}, {"latency_ms", 2000}}});
  auto o = nghttp2_options(emu);
  o.connections = 1;
  o.request_timeout = 300ms;
  auto provider = provider_for(emu, o);
  const auto first = send_to(provider, {"slow-1", "fast-1"});
  CHECK(first[0].status == PushStatus::retry);
  CHECK(first[0].detail.find("timeout") != std::string::npos);
  CHECK(first[1].status == PushStatus::sent);
  CHECK(count(send_to(provider, tokens("after-", 20)), PushStatus::sent) == 20);
  const auto stats = emu.stats();
  CHECK(stats["sessions_opened"] == 4);  // the faults call, the token request, the pushes' one, this stats call
  CHECK(stats["streams_reset"] == 1);
}

TEST_CASE("the nghttp2 client reports a refused connection as retry") {
  int port = 0;
  {
    FcmEmulator emu;
    port = emu.port();
  }
  // The emulator is gone: nothing listens there any more. The token still comes from a live one.
  FcmEmulator live;
  auto o = nghttp2_options(live);
  o.endpoint = "http://127.0.0.1:" + std::to_string(port);
  auto provider = provider_for(live, o);
  for (const auto& r : send_to(provider, tokens("tok-", 3))) {
    CHECK(r.status == PushStatus::retry);
    CHECK(r.detail.find("connection failed") != std::string::npos);
  }
}

TEST_CASE("the nghttp2 client fetches the access token on a connection of its own, closed once the token is in") {
  FcmEmulator emu;
  auto o = nghttp2_options(emu);
  o.connections = 1;
  auto provider = provider_for(emu, o);
  CHECK(count(send_to(provider, tokens("tok-", 20)), PushStatus::sent) == 20);
  // Open now: the pushes' connection and the stats call's own (the emulator may see the
  // token connection's close a moment later).
  auto stats = emu.stats();
  for (int i = 0; i < 100 && stats["sessions_open"] != 2; ++i) {
    std::this_thread::sleep_for(20ms);
    stats = emu.stats();
  }
  CHECK(stats["sessions_open"] == 2);
  CHECK(stats["token_requests"] == 1);
  CHECK(stats["token_requests_with_authorization"] == 0);
  CHECK(stats["requests"] == 20);
}

TEST_CASE("the nghttp2 client renews a revoked access token over HTTP/2 once, and the pushes go") {
  FcmEmulator emu;
  auto provider = provider_for(emu, nghttp2_options(emu));
  CHECK(count(send_to(provider, tokens("a-", 5)), PushStatus::sent) == 5);
  emu.revoke_tokens();
  CHECK(count(send_to(provider, tokens("b-", 5)), PushStatus::sent) == 5);
  const auto stats = emu.stats();
  CHECK(stats["token_requests"] == 2);
  CHECK(stats["tokens_issued"] == 2);
  CHECK(provider.stats().token_requests == 2);
  CHECK(provider.stats().auth_retries >= 1);
}

TEST_CASE("a token endpoint that speaks only HTTP/1.1 over TLS is a configuration error that names it") {
  FcmEmulator emu(EmulatorOptions{.tls = true});
  // An HTTPS server without HTTP/2, with the emulator's certificate.
  const std::string script = emu.dir() + "/http1.js";
  {
    std::ofstream js(script);
    js << "const fs = require('fs');\n"
          "const s = require('https').createServer({cert: fs.readFileSync(process.argv[2]),\n"
          "  key: fs.readFileSync(process.argv[3])}, (q, r) => r.end('{}'));\n"
          "s.listen(0, '127.0.0.1', () => process.stdout.write(s.address().port + '\\n'));\n"
          "process.stdin.on('end', () => process.exit(0));\n"
          "process.stdin.resume();\n";
  }
  notify::test::NodeService http1;
  const int port = std::atoi(http1.start({script, emu.dir() + "/server.pem", emu.dir() + "/server.key"}).c_str());
  REQUIRE(port > 0);
  auto account = account_for(emu);
  account.token_uri = "https://127.0.0.1:" + std::to_string(port) + "/token";
  auto created = notify::fcm::PushProvider::create(account, nghttp2_options(emu));
  REQUIRE(created.has_value());
  auto& provider = *created;
  for (const auto& r : send_to(provider, tokens("tok-", 2))) {
    CAPTURE(r.detail);
    CHECK(r.status == PushStatus::fatal);
    CHECK(r.detail.find("token endpoint " + account.token_uri) != std::string::npos);
    CHECK(r.detail.find("refused HTTP/2") != std::string::npos);
    CHECK(r.detail.find("HttpClient::curl") != std::string::npos);
  }
  const auto checked = provider.connect();
  REQUIRE_FALSE(checked.has_value());
  CHECK(checked.error().code == notify::Errc::configuration);
  CHECK(emu.stats()["requests"] == 0);
}

TEST_CASE("a token_uri that is no http:// or https:// URL is refused at creation with the nghttp2 client") {
  FcmEmulator emu;
  auto account = account_for(emu);
  account.token_uri = "ftp://127.0.0.1/token";
  const auto created = notify::fcm::PushProvider::create(account, nghttp2_options(emu));
  REQUIRE_FALSE(created.has_value());
  CHECK(created.error().code == notify::Errc::configuration);
  CHECK(created.error().path == "token_uri");
}

TEST_CASE("two http2 pools share one epoll fd, told apart by epoll_id, and a request carries its own content type") {
  namespace h2 = notify::http2;
  FcmEmulator emu;
  const int ep = epoll_create1(EPOLL_CLOEXEC);
  REQUIRE(ep >= 0);
  auto target = h2::parse_url(emu.token_uri());
  REQUIRE(target.has_value());
  h2::Config a{*target, {}, 1, 4, 5s, 10s};
  a.epoll_id = 0;
  h2::Config b{*target, {}, 1, 4, 5s, 10s};
  b.epoll_id = 5;
  auto form = h2::Pool::create(a, ep);
  auto json = h2::Pool::create(b, ep);
  REQUIRE(form.has_value());
  REQUIRE(json.has_value());
  const std::string body = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=x";
  (*form)->post(1, h2::Request{{}, body, {}, "application/x-www-form-urlencoded", true}, {});  // no authorization
  (*json)->post(2, body, "Bearer not-needed");  // application/json
  std::vector<h2::Done> done;
  std::set<std::uint32_t> ids;
  for (int i = 0; i < 500 && done.size() < 2; ++i) {
    (*form)->pump();
    (*json)->pump();
    epoll_event events[8];
    const int n = epoll_wait(ep, events, 8, 20);
    for (int k = 0; k < n; ++k) {
      REQUIRE((events[k].data.u64 & h2::epoll_tag) != 0);
      const std::uint32_t id = h2::epoll_id_of(events[k].data.u64);
      ids.insert(id);
      (id == 5 ? *json : *form)->on_event(events[k].data.u64, events[k].events);
    }
    (*form)->take(done);
    (*json)->take(done);
  }
  close(ep);
  REQUIRE(done.size() == 2);
  CHECK(ids == std::set<std::uint32_t>{0, 5});
  for (const h2::Done& d : done) {
    CAPTURE(d.body);
    CHECK(d.status == 400);
    if (d.tag == 1) CHECK(d.body.find("malformed JWT") != std::string::npos);  // the form was read
    else CHECK(d.body.find("content-type must be application/x-www-form-urlencoded") != std::string::npos);
  }
  const auto stats = emu.stats();
  CHECK(stats["token_requests"] == 2);
  CHECK(stats["token_requests_with_authorization"] == 1);  // the second one's
}

TEST_CASE("a CA file is read once per process: a later pool with the same path shares what the first one read") {
  FcmEmulator emu(EmulatorOptions{.tls = true});
  const std::string copy = emu.dir() + "/shared-ca.pem";
  std::filesystem::copy_file(emu.ca_file(), copy);
  auto o = nghttp2_options(emu);
  o.ca_file = copy;
  auto first = provider_for(emu, o);
  CHECK(count(send_to(first, tokens("a-", 20)), PushStatus::sent) == 20);
  std::filesystem::remove(copy);
  // Read again, the missing file would refuse the provider; shared, it verifies the emulator.
  auto second = provider_for(emu, o);
  CHECK(count(send_to(second, tokens("b-", 20)), PushStatus::sent) == 20);
  o.ca_file = emu.dir() + "/never-there.pem";
  auto refused = notify::fcm::PushProvider::create(account_for(emu), o);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().message.find("cannot read the CA certificates") != std::string::npos);
}
