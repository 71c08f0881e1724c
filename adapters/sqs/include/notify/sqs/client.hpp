// SPDX-License-Identifier: MIT
#pragma once

/// A small SQS client for the JSON protocol (x-amz-json-1.0): one POST per call to the
/// endpoint's `/`, signed with SigV4, over a kept-alive HTTP/1.1 connection (libcurl,
/// behind a pimpl). Throttling, 5xx and broken connections are retried with capped
/// exponential backoff and full jitter; every other AWS error comes back as a structured
/// notify::Error. Also the pure parts: queue URLs, ARNs, error bodies.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "notify/result.hpp"
#include "notify/sqs/credentials.hpp"

namespace notify::sqs {

/// A queue URL taken apart: `https://sqs.us-east-1.amazonaws.com/123456789012/name.fifo`,
/// or a local server's `http://127.0.0.1:9324/123456789012/name`.
struct QueueUrl {
  std::string url;      ///< as given
  std::string origin;   ///< scheme://host[:port], where calls go unless an endpoint is set
  std::string account;  ///< the path's first segment
  std::string name;     ///< the queue name (the last segment)
  std::string region;   ///< from an AWS host name (sqs.<region>.amazonaws.com); empty otherwise
  bool fifo() const noexcept { return name.ends_with(".fifo"); }
};

/// Parses an http(s) queue URL; an error names what is wrong.
Result<QueueUrl> parse_queue_url(std::string_view url);
/// True for http:// and https:// locations (how the programs tell SQS from redis://).
bool is_queue_url(std::string_view location) noexcept;
/// `arn:aws:sqs:<region>:<account>:<name>`, given a queue URL.
std::string queue_arn(const QueueUrl& q, std::string_view region);
/// The URL of the queue an ARN names, on the same origin as `like` (so a local server's
/// dead-letter queue resolves to the local server).
Result<std::string> url_from_arn(std::string_view arn, const QueueUrl& like);
/// The AWS URL of the queue an ARN names: https://sqs.<region>.amazonaws.com/<account>/<name>.
Result<std::string> url_from_arn(std::string_view arn);

/// An AWS error answer, taken apart (from `__type` / `x-amzn-query-error`).
struct AwsError {
  int status = 0;            ///< HTTP status, 0 for a transport failure
  std::string code;          ///< e.g. QueueDoesNotExist, RequestThrottled
  std::string message;
  bool sender_fault = true;  ///< false: the service's fault (batch entries: retry them)
};

/// Parses an error answer: the code from the body's `__type` (namespace `...#` and any
/// `:...` suffix removed), else from the `x-amzn-query-error` header (`Code;Sender`).
AwsError parse_error(int status, std::string_view body, std::string_view query_error_header);
/// What an AWS error means for us: rate_limited (throttling), unavailable (5xx, service
/// faults), unauthenticated / configuration (credentials, permissions), not_found (no such
/// queue), invalid_value (anything else the caller sent).
Errc classify(const AwsError& e) noexcept;
/// True when an error about one receipt handle means the message is no longer held with
/// it (deleted, its visibility ended, received again with a newer handle):
/// ReceiptHandleIsInvalid, MessageNotInflight (with or without the legacy
/// `AWS.SimpleQueueService.` prefix), and the InvalidParameterValue about the ReceiptHandle
/// that SQS answers to a ChangeMessageVisibility with an expired handle.
bool is_lost_receipt(const AwsError& e) noexcept;
/// A notify::Error for an AWS error, without secrets: `SQS <operation>: <code> (HTTP n): <message>`.
Error to_error(std::string_view operation, const AwsError& e);

struct ClientOptions {
  /// Signing region; empty: the queue URL's AWS host, else AWS_REGION, AWS_DEFAULT_REGION,
  /// else us-east-1.
  std::string region;
  /// Where calls go; empty: AWS_ENDPOINT_URL_SQS, else AWS_ENDPOINT_URL, else the queue URL's origin.
  std::string endpoint;
  /// A PEM file of CA certificates trusted instead of the system's.
  std::string ca_file;
  std::chrono::milliseconds connect_timeout{3000};
  /// Time allowed for one call, on top of a long poll's wait.
  std::chrono::milliseconds request_timeout{10000};
  /// Attempts per call, the first included (throttling, 5xx, broken connections only).
  int max_attempts = 3;
  /// Backoff before retry n: random in [0, min(cap, base * 2^(n-1))]; throttling uses throttle_base.
  std::chrono::milliseconds retry_base{50};
  std::chrono::milliseconds throttle_base{1000};
  std::chrono::milliseconds retry_cap{20000};
};

/// Counters for tests and logs.
struct ClientStats {
  std::uint64_t calls = 0;     ///< call() invocations
  std::uint64_t requests = 0;  ///< HTTP requests made (retries included)
  std::uint64_t retries = 0;
};

class Client {
 public:
  /// `endpoint` is scheme://host[:port]; calls POST to its `/`.
  Client(std::string endpoint, std::string region, CredentialProvider credentials, ClientOptions options = {});
  ~Client();
  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;

  /// Calls `AmazonSQS.<operation>` with `request`, a JSON document, as the body. `wait` is a
  /// long poll's wait, added to the request timeout. The answer body on success (2xx; `{}`
  /// when empty, a protocol_error when it is not JSON); errors as above.
  Result<std::string> call(std::string_view operation, std::string_view request,
                           std::chrono::milliseconds wait = std::chrono::milliseconds(0));

  const std::string& endpoint() const noexcept;
  const std::string& region() const noexcept;
  const ClientStats& stats() const noexcept;
  std::string_view credential_source() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The endpoint and region ClientOptions resolve to for a queue (see ClientOptions).
std::string resolve_endpoint(const QueueUrl& q, const ClientOptions& options);
std::string resolve_region(const QueueUrl& q, const ClientOptions& options);

}  // namespace notify::sqs
