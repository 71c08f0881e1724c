// SPDX-License-Identifier: MIT
// The sans-IO request-head parser: splits at every byte, errors and their statuses, the
// header budget.
#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "notify/ops/http_request.hpp"

namespace {

using notify::ops::HttpRequestParser;

std::size_t feed_in_steps(HttpRequestParser& p, std::string_view wire, std::size_t step) {
  std::size_t used = 0;
  while (used < wire.size() && !p.done() && !p.failed()) {
    const std::string_view piece = wire.substr(used, step);
    const std::size_t n = p.feed(piece);
    used += n;
    if (n < piece.size()) break;
  }
  return used;
}

}  // namespace

TEST_CASE("a GET head parses whatever the split and leaves what follows it") {
  const std::string head =
      "\r\nGET /metrics?name[]=x&y HTTP/1.1\r\nHost: localhost:9100\r\nAccept:  text/plain ;q=0.9 \r\n"
      "X-Empty:\r\nUSER-agent:\tprobe\r\n\r\n";
  const std::string wire = head + "next bytes";
  for (std::size_t step = 1; step <= wire.size(); ++step) {
    HttpRequestParser p;
    CHECK(feed_in_steps(p, wire, step) == head.size());
    REQUIRE(p.done());
    const auto& r = p.request();
    CHECK(r.method == "GET");
    CHECK(r.target == "/metrics?name[]=x&y");
    CHECK(r.path == "/metrics");
    CHECK(r.query == "name[]=x&y");
    CHECK(r.minor_version == 1);
    CHECK(r.header("host") == "localhost:9100");
    CHECK(r.header("accept") == "text/plain ;q=0.9");
    CHECK(r.header("x-empty") == "");
    CHECK(r.header("user-agent") == "probe");
    CHECK(r.headers.size() == 4);
    CHECK(p.head_bytes() == head.size());
  }
}

TEST_CASE("bare LF line ends, HTTP/1.0 and methods other than GET are parsed (the listener decides)") {
  HttpRequestParser p;
  const std::string wire = "POST /x HTTP/1.0\nContent-Length: 3\n\nabc";
  CHECK(p.feed(wire) == wire.size() - 3);
  REQUIRE(p.done());
  CHECK(p.request().method == "POST");
  CHECK(p.request().minor_version == 0);
  CHECK(p.request().query.empty());
  CHECK(p.request().header("content-length") == "3");
}

TEST_CASE("malformed heads fail with the status that answers them") {
  struct Case {
    std::string_view wire;
    int status;
  };
  const Case cases[] = {
      {"GET /x HTTP/2.0\r\n\r\n", 505},
      {"GET /x HTTP/1.1 \r\n\r\n", 400},
      {"GET  /x HTTP/1.1\r\n\r\n", 400},
      {"GET /x\r\n\r\n", 400},
      {"GET x HTTP/1.1\r\n\r\n", 400},
      {"GET http://host/x HTTP/1.1\r\n\r\n", 400},
      {"G(T /x HTTP/1.1\r\n\r\n", 400},
      {" /x HTTP/1.1\r\n\r\n", 400},
      {"GET /x HTTP/1.x\r\n\r\n", 400},
      {"GET /x HTTPS/1.1\r\n\r\n", 400},
      {"GET /x HTTP/1.1\r\nHost : a\r\n\r\n", 400},
      {"GET /x HTTP/1.1\r\n: a\r\n\r\n", 400},
      {"GET /x HTTP/1.1\r\nNo colon\r\n\r\n", 400},
      {"GET /x HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", 400},
      {std::string_view("GET /x HTTP/1.1\r\nA: b\0c\r\n\r\n", 27), 400},
      {"GET /x HTTP/1.1\r\nA: b\rc\r\n\r\n", 400},
      {"GET /\x7f HTTP/1.1\r\n\r\n", 400},
  };
  for (const Case& c : cases) {
    CAPTURE(c.wire);
    for (std::size_t step : {std::size_t{1}, std::size_t{7}, c.wire.size()}) {
      HttpRequestParser p;
      feed_in_steps(p, c.wire, step);
      REQUIRE(p.failed());
      CHECK(p.error_status() == c.status);
      CHECK(!p.error().empty());
    }
  }
}

TEST_CASE("the head budget caps what the parser holds: 414 for the request line, 431 for headers") {
  const std::string huge(1024 * 1024, 'a');
  {
    HttpRequestParser p(1024);
    p.feed("GET /" + huge);
    REQUIRE(p.failed());
    CHECK(p.error_status() == 414);
    CHECK(p.head_bytes() <= 1024);
  }
  {
    HttpRequestParser p(1024);
    const std::string wire = "GET / HTTP/1.1\r\nX-Big: " + huge + "\r\n\r\n";
    CHECK(feed_in_steps(p, wire, 4096) <= 4096);  // stopped within the first piece
    REQUIRE(p.failed());
    CHECK(p.error_status() == 431);
    CHECK(p.head_bytes() <= 1024);
  }
  {  // exactly at the budget is fine, one byte more is not
    const std::string head = "GET / HTTP/1.1\r\nA: " + std::string(40, 'b') + "\r\n\r\n";
    HttpRequestParser fits(head.size());
    CHECK(fits.feed(head) == head.size());
    CHECK(fits.done());
    HttpRequestParser over(head.size() - 1);
    over.feed(head);
    CHECK(over.failed());
    CHECK(over.error_status() == 431);
  }
  {  // endless empty lines before the request line count too
    HttpRequestParser p(64);
    p.feed(std::string(1000, '\n'));
    CHECK(p.failed());
    CHECK(p.error_status() == 414);
  }
  {  // many tiny headers: their count is capped, not only their bytes
    std::string wire = "GET / HTTP/1.1\r\n";
    for (std::size_t i = 0; i <= HttpRequestParser::max_headers; ++i) wire += "a:\r\n";
    HttpRequestParser p(64 * 1024);
    p.feed(wire + "\r\n");
    CHECK(p.failed());
    CHECK(p.error_status() == 431);
  }
}

TEST_CASE("a head without its blank line is neither done nor failed") {
  HttpRequestParser p;
  CHECK(p.feed("GET / HTTP/1.1\r\nHost: x\r\n") == 25);
  CHECK(!p.done());
  CHECK(!p.failed());
}
