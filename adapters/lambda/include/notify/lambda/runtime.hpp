// SPDX-License-Identifier: MIT
#pragma once

/// A client of the Lambda Runtime API (custom runtimes, e.g. provided.al2023): HTTP/1.1
/// with keep-alive over one plain blocking TCP socket to AWS_LAMBDA_RUNTIME_API. No
/// libcurl: the bootstrap should start in a few milliseconds. The socket stays in src/.

#include <cstdint>
#include <string>
#include <string_view>

#include "notify/result.hpp"

namespace notify::lambda {

/// The Runtime API version this client speaks (the path prefix).
inline constexpr std::string_view runtime_api_version = "2018-06-01";

namespace detail {
struct HttpResponse;  // src/runtime.cpp
}

/// One invocation handed over by GET /runtime/invocation/next.
struct Invocation {
  std::string request_id;        ///< Lambda-Runtime-Aws-Request-Id
  std::int64_t deadline_ms = 0;  ///< Lambda-Runtime-Deadline-Ms (Unix ms), 0 if absent
  std::string function_arn;      ///< Lambda-Runtime-Invoked-Function-Arn
  std::string trace_id;          ///< Lambda-Runtime-Trace-Id (also set as _X_AMZN_TRACE_ID)
  std::string body;              ///< the event JSON
};

/// What is posted to /error and /init/error: `{"errorMessage","errorType","stackTrace":[]}`
/// plus the Lambda-Runtime-Function-Error-Type header.
struct ErrorReport {
  std::string type;     ///< e.g. "InvalidEvent", "Runtime.ExitError"
  std::string message;  ///< must not carry secrets: it ends up in the caller's logs
};

/// The JSON body of an error post.
std::string error_body(const ErrorReport& report);

/// True when the Runtime API said the container is broken ("500 Container error.
/// Non-recoverable state. Runtime should exit promptly."): the runtime must exit now.
inline bool must_exit(const Error& e) noexcept { return e.code == Errc::configuration; }

/// Talks to the Runtime API. Errors (notify::Error):
///  - unavailable / io_error: the API cannot be reached, or the connection broke twice
///    (a keep-alive connection found closed is reopened once, transparently);
///  - body_too_large: 413, the response exceeds the API's payload limit (6 MB);
///  - configuration: 500, a container error: exit promptly (see must_exit);
///  - protocol_error: any other unexpected status or a malformed HTTP answer.
/// Not thread-safe; one invocation at a time, as the API requires.
class RuntimeClient {
 public:
  /// `endpoint` is AWS_LAMBDA_RUNTIME_API: HOST:PORT (e.g. 127.0.0.1:9001, [::1]:9001).
  explicit RuntimeClient(std::string endpoint);
  /// From AWS_LAMBDA_RUNTIME_API; a configuration error when it is not set.
  static Result<RuntimeClient> from_environment();

  RuntimeClient(RuntimeClient&& other) noexcept;
  RuntimeClient& operator=(RuntimeClient&& other) noexcept;
  RuntimeClient(const RuntimeClient&) = delete;
  RuntimeClient& operator=(const RuntimeClient&) = delete;
  ~RuntimeClient();

  /// Waits (without a time limit: the sandbox may be frozen meanwhile) for the next
  /// invocation. Sets or clears _X_AMZN_TRACE_ID from its trace header.
  Result<Invocation> next();
  /// POST /runtime/invocation/{id}/response; 202 expected.
  Result<void> respond(std::string_view request_id, std::string_view body);
  /// POST /runtime/invocation/{id}/error: the whole invocation failed.
  Result<void> error(std::string_view request_id, const ErrorReport& report);
  /// POST /runtime/init/error: the runtime cannot start; the caller exits afterwards.
  Result<void> init_error(const ErrorReport& report);

  const std::string& endpoint() const noexcept { return endpoint_; }

 private:
  Result<detail::HttpResponse> request(std::string_view method, std::string_view path, std::string_view body,
                           std::string_view extra_headers);
  Result<void> connect();
  void close() noexcept;
  Result<void> post_expecting_202(std::string_view path, std::string_view body, std::string_view extra_headers);

  std::string endpoint_;
  std::string host_;  ///< without brackets
  std::string port_;
  int fd_ = -1;
  std::string buffer_;  ///< bytes read past the last answer
};

}  // namespace notify::lambda
