// SPDX-License-Identifier: MIT
// The sans-IO HTTP/1.1 response parser: framing, splits at every byte, limits.
#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "notify/toolkit/http1.hpp"

namespace {

using notify::toolkit::Http1Limits;
using notify::toolkit::Http1ResponseParser;

/// Feeds `wire` in pieces of `step` bytes; returns the bytes consumed in total.
std::size_t feed_in_steps(Http1ResponseParser& p, std::string_view wire, std::size_t step) {
  std::size_t used = 0;
  while (used < wire.size() && !p.done() && !p.failed()) {
    const std::string_view piece = wire.substr(used, step);
    const std::size_t n = p.feed(piece);
    used += n;
    if (n < piece.size()) break;  // the response ended inside this piece
  }
  return used;
}

}  // namespace

TEST_CASE("a Content-Length response parses whatever the split, leaving the next bytes") {
  const std::string response =
      "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: abc\r\nContent-Length:  5 \r\n\r\nhello";
  const std::string wire = response + "HTTP/1.1 202";
  for (std::size_t step = 1; step <= wire.size(); ++step) {
    Http1ResponseParser p;
    const std::size_t used = feed_in_steps(p, wire, step);
    REQUIRE(p.done());
    CHECK(used == response.size());
    CHECK(p.response().status == 200);
    CHECK(p.response().header("lambda-runtime-aws-request-id") == "abc");
    CHECK(p.response().body == "hello");
    CHECK(p.response().keep_alive);
  }
}

TEST_CASE("a chunked body is the concatenation of its chunks, extensions and trailers ignored") {
  const std::string wire =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n"
      "5;name=value\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n";
  for (std::size_t step = 1; step <= wire.size(); ++step) {
    Http1ResponseParser p;
    CHECK(feed_in_steps(p, wire, step) == wire.size());
    REQUIRE(p.done());
    CHECK(p.response().body == "hello 0123456789");
  }
}

TEST_CASE("1xx answers are skipped and 204 has no body") {
  Http1ResponseParser p;
  const std::string wire = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nX: y\r\n\r\n";
  CHECK(p.feed(wire) == wire.size());
  REQUIRE(p.done());
  CHECK(p.response().status == 204);
  CHECK(p.response().headers.size() == 1);
  CHECK(p.response().body.empty());
}

TEST_CASE("without a length the body runs to the close, and the connection is not reused") {
  Http1ResponseParser p;
  p.feed("HTTP/1.0 200 OK\r\n\r\npart one, ");
  CHECK(p.reads_to_close());
  p.feed("part two");
  CHECK_FALSE(p.done());
  p.feed_eof();
  REQUIRE(p.done());
  CHECK(p.response().body == "part one, part two");
  CHECK_FALSE(p.response().keep_alive);
}

TEST_CASE("Connection: close and HTTP/1.0 keep-alive are honoured") {
  Http1ResponseParser a;
  a.feed("HTTP/1.1 202 Accepted\r\nConnection: Close\r\nContent-Length: 0\r\n\r\n");
  REQUIRE(a.done());
  CHECK_FALSE(a.response().keep_alive);
  Http1ResponseParser b;
  b.feed("HTTP/1.0 202 Accepted\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n");
  REQUIRE(b.done());
  CHECK(b.response().keep_alive);
}

TEST_CASE("malformed responses fail with a protocol error naming the problem") {
  struct Case {
    std::string_view wire;
    std::string_view message_part;
  };
  const Case cases[] = {
      {"HTTP/1.1 20 OK\r\n", "status line"},
      {"HTTP/1.1 2000 OK\r\n", "status line"},
      {"ICY 200 OK\r\n\r\n", "status line"},
      {"HTTP/1.1 600 Nope\r\n", "status line"},
      {"HTTP/1.1 200 OK\r\nno colon\r\n", "header line"},
      {"HTTP/1.1 200 OK\r\n: empty name\r\n", "header line"},
      {"HTTP/1.1 200 OK\r\nName : v\r\n", "header line"},
      {"HTTP/1.1 200 OK\r\n folded: v\r\n", "header line"},
      {"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "content-length"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", "content-length"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "transfer-encoding"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "chunk size"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n", "chunk data"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.wire);
    Http1ResponseParser p;
    p.feed(c.wire);
    REQUIRE(p.failed());
    CHECK(p.error().code == notify::Errc::protocol_error);
    CHECK(p.error().message.find(c.message_part) != std::string::npos);
  }
}

TEST_CASE("the header and body limits are enforced with clear errors") {
  const Http1Limits limits{64, 10};
  SUBCASE("a header section over the limit, even without a line end") {
    Http1ResponseParser p(limits);
    p.feed("HTTP/1.1 200 OK\r\nX-Long: " + std::string(100, 'a'));
    REQUIRE(p.failed());
    CHECK(p.error().message.find("header section is larger than 64 bytes") != std::string::npos);
  }
  SUBCASE("a content-length over the limit") {
    Http1ResponseParser p(limits);
    p.feed("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n");
    REQUIRE(p.failed());
    CHECK(p.error().message.find("larger than 10 bytes") != std::string::npos);
  }
  SUBCASE("chunks adding up past the limit") {
    Http1ResponseParser p(limits);
    p.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n5\r\n");
    REQUIRE(p.failed());
    CHECK(p.error().message.find("larger than 10 bytes") != std::string::npos);
  }
  SUBCASE("a body to the close past the limit") {
    Http1ResponseParser p(limits);
    p.feed("HTTP/1.1 200 OK\r\n\r\n0123456789");
    CHECK_FALSE(p.failed());
    p.feed("x");
    REQUIRE(p.failed());
  }
  SUBCASE("exactly at the limits is fine") {
    Http1ResponseParser p(limits);
    p.feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789");
    CHECK(p.done());
  }
}

TEST_CASE("a close before the end fails, a close before any byte too") {
  Http1ResponseParser p;
  CHECK_FALSE(p.started());
  p.feed_eof();
  CHECK(p.failed());
  Http1ResponseParser q;
  q.feed("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nab");
  CHECK(q.started());
  q.feed_eof();
  CHECK(q.failed());
}
