// SPDX-License-Identifier: MIT
// The shared HTTP/2 client's URL split (notify::http2).
#include <doctest/doctest.h>

#include "notify/http2/client.hpp"

using notify::http2::parse_url;

TEST_CASE("the HTTP/2 client splits an https URL into host, default port, authority and path") {
  const auto t = parse_url("https://fcm.googleapis.com/v1/projects/p/messages:send");
  REQUIRE(t.has_value());
  CHECK(t->tls);
  CHECK(t->host == "fcm.googleapis.com");
  CHECK(t->port == "443");
  CHECK(t->authority == "fcm.googleapis.com");
  CHECK(t->path == "/v1/projects/p/messages:send");
}

TEST_CASE("the HTTP/2 client reads http URLs with ports, IPv6 literals and no path") {
  const auto a = parse_url("http://127.0.0.1:8080/x");
  REQUIRE(a.has_value());
  CHECK_FALSE(a->tls);
  CHECK(a->host == "127.0.0.1");
  CHECK(a->port == "8080");
  CHECK(a->authority == "127.0.0.1:8080");
  const auto b = parse_url("https://[::1]:8443");
  REQUIRE(b.has_value());
  CHECK(b->host == "::1");
  CHECK(b->port == "8443");
  CHECK(b->authority == "[::1]:8443");
  CHECK(b->path == "/");
  const auto c = parse_url("http://localhost");
  REQUIRE(c.has_value());
  CHECK(c->port == "80");
}

TEST_CASE("the HTTP/2 client refuses URLs it cannot use") {
  CHECK_FALSE(parse_url("ftp://example.com/").has_value());
  CHECK_FALSE(parse_url("https:///path").has_value());
  CHECK_FALSE(parse_url("https://[::1/path").has_value());
  CHECK(parse_url("example.com").error().code == notify::Errc::configuration);
}
