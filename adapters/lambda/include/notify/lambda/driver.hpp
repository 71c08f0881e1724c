// SPDX-License-Identifier: MIT
#pragma once

/// The runtime loop: next -> handle -> respond (or post the error), until something fatal.
/// Header-only and generic over the client, so it is unit-tested without a socket.

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>

#include "notify/lambda/runtime.hpp"
#include "notify/events.hpp"

namespace notify::lambda {

/// A handler's answer to one invocation: a response body, or an error for the whole
/// invocation; either way it may ask the runtime to exit once it has been posted.
struct Reply {
  std::string body;                  ///< posted to /response when `error` is empty
  std::optional<ErrorReport> error;  ///< posted to /error: the whole invocation failed
  bool exit_after = false;           ///< exit after posting, so that Lambda starts a fresh runtime

  static Reply response(std::string body) { return Reply{std::move(body), std::nullopt, false}; }
  static Reply failure(ErrorReport report, bool exit_after = false) {
    return Reply{{}, std::move(report), exit_after};
  }
};

/// What the Runtime API client must offer the loop (RuntimeClient, or a fake in tests).
template <class C>
concept RuntimeApi = requires(C& c, std::string_view id, std::string_view body, const ErrorReport& report) {
  { c.next() } -> std::same_as<Result<Invocation>>;
  { c.respond(id, body) } -> std::same_as<Result<void>>;
  { c.error(id, report) } -> std::same_as<Result<void>>;
};

static_assert(RuntimeApi<RuntimeClient>);

/// Why run() returned.
enum class StopReason : std::uint8_t {
  handler_exit,         ///< the handler asked for it (e.g. credentials or configuration are broken)
  container_error,      ///< the Runtime API answered 500: exit promptly
  runtime_unreachable,  ///< next() kept failing
  limit_reached,        ///< RunOptions::max_invocations were handled (tests)
};

constexpr std::string_view to_string(StopReason r) noexcept {
  switch (r) {
    case StopReason::handler_exit: return "handler_exit";
    case StopReason::container_error: return "container_error";
    case StopReason::runtime_unreachable: return "runtime_unreachable";
    case StopReason::limit_reached: return "limit_reached";
  }
  return "";
}

struct RunStatus {
  StopReason reason = StopReason::limit_reached;
  std::string message;
  /// The process exit status: 0 only when stopped by the limit.
  int exit_code() const noexcept { return reason == StopReason::limit_reached ? 0 : 1; }
};

struct RunOptions {
  std::size_t max_invocations = 0;  ///< 0: no limit
  int next_attempts = 3;            ///< consecutive transport failures of next() before giving up
  std::chrono::milliseconds next_retry_delay{50};
  /// Called once per invocation after its reply was posted (or the post failed), before
  /// the loop asks for the next one or returns: per-invocation output such as metrics
  /// lines. The sandbox is only frozen once next() is called, so what it writes is
  /// flushed within this invocation.
  std::function<void(const Invocation&, const Reply&)> after_invocation;
};

/// Serves invocations until a fatal condition. Only transport failures of next() are
/// retried (aws-lambda-cpp does the same); a response the API refuses as too large (413)
/// is replaced by an error post, so the invocation still ends.
template <RuntimeApi Client, class Handler>
  requires std::same_as<std::invoke_result_t<Handler&, const Invocation&>, Reply>
RunStatus run(Client& client, Handler& handler, RunOptions options = {}, const EventSink& events = {}) {
  auto emit = [&](std::string_view step, std::string_view request, std::string_view detail) {
    if (events) events(Event{step, request, {}, {}, detail});
  };
  std::size_t handled = 0;
  int failures = 0;
  while (options.max_invocations == 0 || handled < options.max_invocations) {
    auto inv = client.next();
    if (!inv) {
      if (must_exit(inv.error())) return {StopReason::container_error, inv.error().message};
      if (!is_transient(inv.error().code) || ++failures >= options.next_attempts)
        return {StopReason::runtime_unreachable, inv.error().message};
      emit("runtime_retry", {}, inv.error().message);
      std::this_thread::sleep_for(options.next_retry_delay * failures);
      continue;
    }
    failures = 0;
    ++handled;
    const Reply reply = handler(std::as_const(*inv));
    Result<void> posted = reply.error ? client.error(inv->request_id, *reply.error)
                                      : client.respond(inv->request_id, reply.body);
    if (!posted && posted.error().code == Errc::body_too_large && !reply.error) {
      emit("response_too_large", inv->request_id, posted.error().message);
      posted = client.error(inv->request_id, ErrorReport{"Runtime.ResponseTooLarge", posted.error().message});
    }
    if (options.after_invocation) options.after_invocation(*inv, reply);
    if (!posted) {
      if (must_exit(posted.error())) return {StopReason::container_error, posted.error().message};
      emit("post_failed", inv->request_id, posted.error().message);
    }
    if (reply.exit_after)
      return {StopReason::handler_exit, reply.error ? reply.error->message : std::string("the handler asked to exit")};
  }
  return {StopReason::limit_reached, {}};
}

}  // namespace notify::lambda
