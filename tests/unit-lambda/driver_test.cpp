// SPDX-License-Identifier: MIT
// The runtime loop over a fake Runtime API client.

#include <doctest/doctest.h>

#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "notify/lambda/driver.hpp"

namespace {

using notify::Errc;
using notify::Error;
using notify::Result;
using notify::lambda::ErrorReport;
using notify::lambda::Invocation;
using notify::lambda::Reply;
using notify::lambda::StopReason;

struct FakeClient {
  std::deque<Result<Invocation>> next_results;
  std::deque<Result<void>> post_results;  // consumed by respond() and error(); success when empty
  std::vector<std::string> posts;         // "response <id> <body>" / "error <id> <type>"
  int next_calls = 0;

  Result<Invocation> next() {
    ++next_calls;
    if (next_results.empty()) return Error{Errc::unavailable, "no more invocations", {}};
    auto r = std::move(next_results.front());
    next_results.pop_front();
    return r;
  }
  Result<void> post() {
    if (post_results.empty()) return {};
    auto r = post_results.front();
    post_results.pop_front();
    return r;
  }
  Result<void> respond(std::string_view id, std::string_view body) {
    posts.push_back("response " + std::string(id) + " " + std::string(body));
    return post();
  }
  Result<void> error(std::string_view id, const ErrorReport& e) {
    posts.push_back("error " + std::string(id) + " " + e.type);
    return post();
  }
};
static_assert(notify::lambda::RuntimeApi<FakeClient>);

Invocation inv(std::string id, std::string body = "{}") { return Invocation{std::move(id), 0, "arn", "", std::move(body)}; }

notify::lambda::RunOptions fast() {
  notify::lambda::RunOptions o;
  o.next_retry_delay = std::chrono::milliseconds(0);
  return o;
}

}  // namespace

TEST_CASE("each invocation is answered with the handler's body or error, in order") {
  FakeClient c;
  c.next_results = {inv("1", "a"), inv("2", "b")};
  auto handler = [](const Invocation& i) {
    return i.body == "a" ? Reply::response("ok") : Reply::failure(ErrorReport{"InvalidEvent", "bad"});
  };
  auto o = fast();
  o.max_invocations = 2;
  const auto status = notify::lambda::run(c, handler, o);
  CHECK(status.reason == StopReason::limit_reached);
  CHECK(status.exit_code() == 0);
  CHECK(c.posts == std::vector<std::string>{"response 1 ok", "error 2 InvalidEvent"});
}

TEST_CASE("a handler that asks to exit stops the loop after its error is posted") {
  FakeClient c;
  c.next_results = {inv("1"), inv("2")};
  auto handler = [](const Invocation&) { return Reply::failure(ErrorReport{"ConfigurationError", "bad key"}, true); };
  const auto status = notify::lambda::run(c, handler, fast());
  CHECK(status.reason == StopReason::handler_exit);
  CHECK(status.exit_code() == 1);
  CHECK(status.message == "bad key");
  CHECK(c.posts == std::vector<std::string>{"error 1 ConfigurationError"});
  CHECK(c.next_calls == 1);
}

TEST_CASE("a container error (500) from a post or from next stops the loop at once") {
  FakeClient c;
  c.next_results = {inv("1"), inv("2")};
  c.post_results = {Error{Errc::configuration, "container error", {}}};
  auto handler = [](const Invocation&) { return Reply::response("{}"); };
  CHECK(notify::lambda::run(c, handler, fast()).reason == StopReason::container_error);
  CHECK(c.next_calls == 1);

  FakeClient d;
  d.next_results = {Error{Errc::configuration, "container error", {}}};
  CHECK(notify::lambda::run(d, handler, fast()).reason == StopReason::container_error);
}

TEST_CASE("next() is retried after a transport failure, then the runtime gives up") {
  FakeClient c;
  c.next_results = {Error{Errc::io_error, "reset", {}}, inv("1")};
  auto handler = [](const Invocation&) { return Reply::response("{}"); };
  const auto status = notify::lambda::run(c, handler, fast());  // then "no more invocations" x3
  CHECK(status.reason == StopReason::runtime_unreachable);
  CHECK(c.posts == std::vector<std::string>{"response 1 {}"});
  CHECK(c.next_calls == 5);
}

TEST_CASE("a response refused as too large (413) ends the invocation with an error instead") {
  FakeClient c;
  c.next_results = {inv("1")};
  c.post_results = {Error{Errc::body_too_large, "413", {}}};
  auto handler = [](const Invocation&) { return Reply::response("huge"); };
  auto o = fast();
  o.max_invocations = 1;
  CHECK(notify::lambda::run(c, handler, o).reason == StopReason::limit_reached);
  CHECK(c.posts == std::vector<std::string>{"response 1 huge", "error 1 Runtime.ResponseTooLarge"});
}

TEST_CASE("after_invocation runs once per invocation, after its reply was posted, also before an exit") {
  FakeClient c;
  c.next_results = {inv("1", "a"), inv("2", "b"), inv("3", "c")};
  c.post_results = {Result<void>{}, Error{Errc::configuration, "container error", {}}};
  auto handler = [](const Invocation& i) { return Reply::response(i.body); };
  std::vector<std::string> seen;  // "<request id> <reply body> after <posts so far>"
  auto o = fast();
  o.after_invocation = [&](const Invocation& i, const Reply& r) {
    seen.push_back(i.request_id + " " + r.body + " after " + std::to_string(c.posts.size()));
  };
  CHECK(notify::lambda::run(c, handler, o).reason == StopReason::container_error);
  CHECK(seen == std::vector<std::string>{"1 a after 1", "2 b after 2"});
}
