// SPDX-License-Identifier: MIT
#pragma once

/// AWS Signature Version 4 for request headers (no presigned URLs): the canonical request,
/// the string to sign, the signature and the headers to add. Pure: no I/O, no clock read
/// (the caller passes `now`). The secret key never appears in anything returned.

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace notify::sqs {

/// AWS credentials. Secrets: never log secret_access_key or session_token.
struct Credentials {
  std::string access_key_id, secret_access_key, session_token;  // session_token empty if none
  std::chrono::system_clock::time_point expires{};               // {} = does not expire
};

/// One HTTP header as sent (any case).
struct HttpHeader {
  std::string name, value;
};

/// The request to sign, exactly as it will be sent.
struct SigningInput {
  std::string_view method;          // "POST"
  std::string_view path;            // as sent, percent-encoded ("/" for SQS)
  std::string_view query;           // as sent, without '?', may be empty
  std::vector<HttpHeader> headers;  // as sent, Host included; duplicates and any case allowed
  std::string_view body;
};

/// The credential scope's region and service ("us-east-1", "sqs").
struct Scope {
  std::string region, service;
};

/// Per-service signing rules.
struct SigningOptions {
  bool normalize_path = true;  // false for S3-style services
};

/// A signature and everything that led to it (canonical request and string to sign are
/// kept for tests and debugging; neither contains the secret key).
struct Signature {
  std::string amz_date;  // yyyymmddThhmmssZ used
  std::string canonical_request, string_to_sign, signature /*hex*/, authorization /*full header value*/;
  std::vector<HttpHeader> headers_to_add;  // X-Amz-Date (if absent in input), X-Amz-Security-Token (if session
                                           // token and absent), Authorization — in that order
};

/// Signs `in` with AWS4-HMAC-SHA256.
///
/// - The date is the input's X-Amz-Date header if it has one, else `now` (UTC).
/// - With a session token and no X-Amz-Security-Token in the input, the token header is
///   added and signed (as botocore does).
/// - Every input header is signed except Authorization, User-Agent, Expect,
///   Transfer-Encoding and X-Amzn-Trace-Id, which proxies and SDKs may change (botocore's list).
/// - An input X-Amz-Content-Sha256 header is used as the payload hash (S3's UNSIGNED-PAYLOAD).
/// - normalize_path: remove dot segments, collapse slashes and percent-encode each segment
///   once more (AWS's rule for all services but S3); false: the path is used as sent.
Signature sign(const SigningInput&, const Credentials&, const Scope&, std::chrono::system_clock::time_point now,
               SigningOptions = {});

/// Lowercase hex SHA-256 of `data`.
std::string sha256_hex(std::string_view);

}  // namespace notify::sqs
