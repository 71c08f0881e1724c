// SPDX-License-Identifier: MIT
// notify::ops::HttpListener over real loopback sockets: answers, statuses, and the
// limits a slow or hostile client meets (a 1 MB header line, 1,000 idle connections,
// slowloris), with the listener's own bookkeeping checked for bounded memory.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "notify/ops/build_info.hpp"
#include "notify/ops/http_listener.hpp"
#include "notify/ops/metrics.hpp"
#include "notify/toolkit/http1.hpp"

namespace {

using namespace std::chrono_literals;
using notify::ops::HttpListener;
using notify::ops::HttpListenerOptions;
using notify::ops::HttpRequest;
using notify::ops::HttpResponse;

/// A blocking loopback client socket with receive and send timeouts.
class Client {
 public:
  explicit Client(std::uint16_t port, std::chrono::milliseconds timeout = 5000ms) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd_);
      throw std::runtime_error(std::string("connect: ") + std::strerror(errno));
    }
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  Client(Client&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }

  /// Sends all of `data`; false if the peer stopped taking it.
  bool send_all(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }
  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }

  /// Reads until the peer closes (or the timeout); `closed` tells which.
  std::string read_all(bool* closed = nullptr) {
    std::string out;
    char buf[8192];
    for (;;) {
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n > 0) {
        out.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      if (closed) *closed = n == 0 || errno == ECONNRESET;
      return out;
    }
  }

  int fd() const noexcept { return fd_; }

 private:
  int fd_ = -1;
};

notify::toolkit::Http1Response parse(const std::string& wire) {
  notify::toolkit::Http1ResponseParser p;
  p.feed(wire);
  p.feed_eof();
  REQUIRE_MESSAGE(p.done(), "not a whole response: ", wire.substr(0, 200));
  return std::move(p).response();
}

notify::toolkit::Http1Response request(std::uint16_t port, std::string_view wire) {
  Client c(port);
  REQUIRE(c.send_all(wire));
  bool closed = false;
  const std::string answer = c.read_all(&closed);
  CHECK(closed);  // Connection: close, and closed
  return parse(answer);
}

notify::toolkit::Http1Response get(std::uint16_t port, std::string_view path) {
  return request(port, "GET " + std::string(path) + " HTTP/1.1\r\nHost: test\r\n\r\n");
}

/// A listener with /metrics over `registry`, /healthz, and /boom that throws.
HttpListener serve(notify::ops::Registry& registry, HttpListenerOptions options = {}) {
  notify::ops::HttpRoutes routes;
  routes.add("/metrics",
             [&registry](const HttpRequest&) {
               return HttpResponse{200, std::string(notify::ops::Registry::prometheus_content_type),
                                   registry.render_prometheus(), {}};
             })
      .add("/healthz", [](const HttpRequest&) { return HttpResponse{200, "text/plain", "ok\n", {}}; })
      .add("/boom", [](const HttpRequest&) -> HttpResponse { throw std::runtime_error("boom"); });
  auto listener = HttpListener::open(std::move(options), routes);
  if (!listener) FAIL("cannot listen: " << listener.error().message);
  listener->start();
  return std::move(*listener);
}

/// Raises the soft limit on open files to at least `want` (up to the hard limit).
rlim_t raise_nofile(rlim_t want) {
  rlimit rl{};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < want) {
    rl.rlim_cur = std::min(want, rl.rlim_max);
    ::setrlimit(RLIMIT_NOFILE, &rl);
    ::getrlimit(RLIMIT_NOFILE, &rl);
  }
  return rl.rlim_cur;
}

}  // namespace

TEST_CASE("GET /metrics over a socket answers 200 with the registry's text, HEAD without the body") {
  notify::ops::Registry registry;
  notify::ops::register_build_info(registry);
  registry.counter("notify_records_total", "Records.").inc(42);
  HttpListener listener = serve(registry);
  REQUIRE(listener.port() != 0);
  CHECK(listener.address() == "127.0.0.1:" + std::to_string(listener.port()));

  const auto r = get(listener.port(), "/metrics");
  CHECK(r.status == 200);
  CHECK(r.header("content-type") == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(r.header("connection") == "close");
  CHECK(r.body == registry.render_prometheus());
  CHECK(r.body.find("notify_records_total 42\n") != std::string::npos);
  CHECK(r.body.find("notify_build_info{") != std::string::npos);

  Client c(listener.port());
  REQUIRE(c.send_all("HEAD /metrics HTTP/1.1\r\n\r\n"));
  const std::string head = c.read_all();
  CHECK(head.starts_with("HTTP/1.1 200 OK\r\n"));
  CHECK(head.find("Content-Length: " + std::to_string(registry.render_prometheus().size()) + "\r\n") !=
        std::string::npos);
  CHECK(head.ends_with("\r\n\r\n"));  // no body
  CHECK(get(listener.port(), "/metrics?x=1").status == 200);  // the query is not the path
}

TEST_CASE("unknown paths are 404, methods but GET and HEAD 405, a throwing handler 500, bad heads 400/505") {
  notify::ops::Registry registry;
  HttpListener listener = serve(registry);
  CHECK(get(listener.port(), "/nope").status == 404);
  const auto post = request(listener.port(), "POST /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello");
  CHECK(post.status == 405);
  CHECK(post.header("allow") == "GET, HEAD");
  CHECK(request(listener.port(), "DELETE /metrics HTTP/1.1\r\n\r\n").status == 405);
  CHECK(get(listener.port(), "/boom").status == 500);
  CHECK(request(listener.port(), "GET metrics HTTP/1.1\r\n\r\n").status == 400);
  CHECK(request(listener.port(), "GET /metrics HTTP/2.0\r\n\r\n").status == 505);
  CHECK(get(listener.port(), "/healthz").body == "ok\n");
  const auto s = listener.stats();
  CHECK(s.served == 7);
  CHECK(s.rejected == 4);  // 405 twice, 400, 505 (the 404 and 500 are the handler's)
}

TEST_CASE("a 1 MB header line is answered 431 and closed while another client is served") {
  notify::ops::Registry registry;
  registry.gauge("notify_up", "Up.").set(1);
  HttpListenerOptions opt;
  opt.max_header_bytes = 8 * 1024;
  HttpListener listener = serve(registry, opt);

  Client hostile(listener.port());
  REQUIRE(hostile.send_all("GET /metrics HTTP/1.1\r\nX-Huge: "));
  std::atomic<bool> sent_all{false};
  std::thread sender([&] {
    const std::string line(1024 * 1024, 'x');
    sent_all = hostile.send_all(line) && hostile.send_all("\r\n\r\n");
    hostile.shutdown_write();
  });
  // Meanwhile a well-behaved client is served.
  const auto ok = get(listener.port(), "/metrics");
  CHECK(ok.status == 200);
  CHECK(ok.body == "# HELP notify_up Up.\n# TYPE notify_up gauge\nnotify_up 1\n");
  sender.join();
  CHECK(sent_all);  // the listener kept reading (and dropping) until the client was done

  bool closed = false;
  const std::string answer = hostile.read_all(&closed);
  CHECK(closed);
  const auto r = parse(answer);
  CHECK(r.status == 431);
  CHECK(r.header("connection") == "close");
  CHECK(listener.stats().connections <= 2);
  CHECK(get(listener.port(), "/healthz").status == 200);
}

TEST_CASE("1,000 idle and half-sent connections neither stop a fresh client nor exceed the cap") {
  constexpr std::size_t idle = 1000;
  constexpr std::size_t cap = 64;
  const rlim_t limit = raise_nofile(idle + cap + 64);
  REQUIRE_MESSAGE(limit >= idle + cap + 32, "RLIMIT_NOFILE hard limit too low for 1,000 connections: ", limit);

  notify::ops::Registry registry;
  registry.gauge("notify_up", "Up.").set(1);
  HttpListenerOptions opt;
  opt.max_connections = cap;
  opt.request_timeout = 30s;  // the idle ones do not time out during the test: the cap acts
  HttpListener listener = serve(registry, opt);

  std::vector<Client> hold;
  hold.reserve(idle);
  std::size_t peak_seen = 0;
  for (std::size_t i = 0; i < idle; ++i) {
    hold.emplace_back(listener.port());
    if (i % 2 == 1) REQUIRE(hold.back().send_all("GET /metrics HTTP/1.1\r\nX-Slow: "));  // slowloris
    if (i % 100 == 0) peak_seen = std::max(peak_seen, listener.stats().connections);
  }
  const auto start = std::chrono::steady_clock::now();
  const auto fresh = get(listener.port(), "/metrics");
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK(fresh.status == 200);
  CHECK(fresh.body.find("notify_up 1\n") != std::string::npos);
  // (how long it took is reported, not asserted: machines here are small and noisy)

  const auto s = listener.stats();
  MESSAGE("accepted ", s.accepted, ", evicted ", s.evicted, ", refused ", s.refused, ", open ", s.connections,
          ", peak ", s.peak_connections, ", served in ",
          std::chrono::duration_cast<std::chrono::milliseconds>(took).count(), " ms");
  CHECK(s.accepted == idle + 1);
  CHECK(s.peak_connections <= cap);
  CHECK(s.connections <= cap);
  CHECK(peak_seen <= cap);
  CHECK(s.evicted >= idle - cap);
  CHECK(s.served == 1);
}

TEST_CASE("a slowloris client is closed at the request timeout and counted") {
  notify::ops::Registry registry;
  HttpListenerOptions opt;
  opt.request_timeout = 300ms;
  HttpListener listener = serve(registry, opt);
  Client slow(listener.port(), 3000ms);
  const auto start = std::chrono::steady_clock::now();
  bool closed_by_peer = false;
  for (char ch : std::string("GET /metrics HTTP/1.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaa")) {
    if (!slow.send_all(std::string_view(&ch, 1))) {
      closed_by_peer = true;
      break;
    }
    std::this_thread::sleep_for(50ms);
    if (std::chrono::steady_clock::now() - start > 2s) break;
  }
  if (!closed_by_peer) {
    bool closed = false;
    slow.read_all(&closed);
    closed_by_peer = closed;
  }
  CHECK(closed_by_peer);
  CHECK(std::chrono::steady_clock::now() - start < 2500ms);
  CHECK(listener.stats().timed_out == 1);
  CHECK(listener.stats().connections == 0);
}

TEST_CASE("a caller's own loop can drive the listener with fd() and run_once()") {
  notify::ops::Registry registry;
  registry.gauge("notify_up", "Up.").set(1);
  auto listener = HttpListener::open({}, [&](const HttpRequest& req) {
    return HttpResponse{200, "text/plain", "path " + req.path + "\n", {}};
  });
  REQUIRE(listener.has_value());
  CHECK(listener->fd() >= 0);
  CHECK(listener->next_wait() <= 1000ms);
  std::atomic<bool> done{false};
  std::string body;
  const std::uint16_t port = listener->port();
  std::thread client([&] {
    body = get(port, "/here").body;
    done = true;
  });
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (!done && std::chrono::steady_clock::now() < until) listener->run_once(20ms);
  client.join();
  CHECK(body == "path /here\n");
}

TEST_CASE("listen addresses: port 0 picks a free port, IPv6 in brackets, bad ones are configuration errors") {
  auto handler = [](const HttpRequest&) { return HttpResponse{}; };
  for (const char* bad : {"nonsense", "127.0.0.1:", "127.0.0.1:70000", "::1:80", "127.0.0.1:x", "300.1.1.1:0"}) {
    CAPTURE(bad);
    auto l = HttpListener::open({bad}, handler);
    REQUIRE(!l.has_value());
    CHECK(l.error().code == notify::Errc::configuration);
  }
  auto first = HttpListener::open({"127.0.0.1:0"}, handler);
  REQUIRE(first.has_value());
  CHECK(first->port() != 0);
  // The same port again is taken.
  auto again = HttpListener::open({"127.0.0.1:" + std::to_string(first->port())}, handler);
  CHECK(!again.has_value());
  auto v6 = HttpListener::open({"[::1]:0"}, handler);
  if (v6) CHECK(v6->address().starts_with("[::1]:"));
  else MESSAGE("no IPv6 loopback here: ", v6.error().message);
  auto named = HttpListener::open({"localhost:0"}, handler);
  CHECK(named.has_value());
  auto any = HttpListener::open({":0"}, handler);
  REQUIRE(any.has_value());
  CHECK(any->address().starts_with("0.0.0.0:"));
}

TEST_CASE("a client that never reads a large answer is closed at the write timeout, its buffer freed") {
  HttpListenerOptions opt;
  opt.write_timeout = 300ms;
  opt.max_connections = 4;
  auto listener = HttpListener::open(std::move(opt), [](const HttpRequest&) {
    return HttpResponse{200, "text/plain", std::string(16 * 1024 * 1024, 'm'), {}};
  });
  REQUIRE(listener.has_value());
  listener->start();
  Client stalled(listener->port());
  const int small = 4096;
  ::setsockopt(stalled.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  REQUIRE(stalled.send_all("GET /big HTTP/1.1\r\n\r\n"));
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (listener->stats().timed_out == 0 && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(20ms);
  const auto s = listener->stats();
  CHECK(s.timed_out == 1);
  CHECK(s.served == 0);
  CHECK(s.connections == 0);
  // Still answering others.
  Client other(listener->port());
  REQUIRE(other.send_all("HEAD / HTTP/1.1\r\n\r\n"));
  CHECK(other.read_all().starts_with("HTTP/1.1 200 OK\r\n"));
}
