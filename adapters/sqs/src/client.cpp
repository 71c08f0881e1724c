// SPDX-License-Identifier: MIT
// The SQS JSON-protocol client: URL and error parsing, SigV4-signed POSTs over libcurl,
// retries of transient failures.

#include "notify/sqs/client.hpp"

#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <mutex>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "notify/sqs/sigv4.hpp"
#include "notify/text.hpp"
#include "responses.hpp"
#include "notify/toolkit/ascii.hpp"
#include "notify/toolkit/curl.hpp"

namespace notify::sqs {

namespace {

constexpr std::size_t max_error_message = 300;

std::string_view env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string_view(v) : std::string_view();
}

using toolkit::iequals;

/// The code part of `namespace#Code:suffix`.
std::string_view bare_code(std::string_view code) {
  if (auto hash = code.rfind('#'); hash != std::string_view::npos) code.remove_prefix(hash + 1);
  if (auto colon = code.find(':'); colon != std::string_view::npos) code = code.substr(0, colon);
  return code;
}

// The error codes AWS SDKs treat as throttling (PROTOCOLS.md section 6), plus KmsThrottled.
constexpr std::array throttling_codes = {
    std::string_view("RequestThrottled"),   std::string_view("ThrottlingException"),
    std::string_view("Throttling"),         std::string_view("ThrottledException"),
    std::string_view("RequestThrottledException"), std::string_view("TooManyRequestsException"),
    std::string_view("RequestLimitExceeded"), std::string_view("SlowDown"),
    std::string_view("KmsThrottled"),       std::string_view("KMS.ThrottlingException"),
    std::string_view("OverLimit"),  // too many messages in flight: settles will make room
};

constexpr std::array credential_codes = {
    std::string_view("InvalidClientTokenId"), std::string_view("UnrecognizedClientException"),
    std::string_view("SignatureDoesNotMatch"), std::string_view("IncompleteSignature"),
    std::string_view("MissingAuthenticationToken"), std::string_view("ExpiredToken"),
    std::string_view("ExpiredTokenException"), std::string_view("InvalidSecurity"),
    std::string_view("AuthFailure"),
};

constexpr std::array permission_codes = {
    std::string_view("AccessDenied"), std::string_view("AccessDeniedException"),
    std::string_view("KmsAccessDenied"), std::string_view("KmsDisabled"), std::string_view("KmsNotFound"),
    std::string_view("KmsInvalidState"), std::string_view("KmsInvalidKeyUsage"), std::string_view("KmsOptInRequired"),
};

template <std::size_t N>
bool listed(const std::array<std::string_view, N>& codes, std::string_view code) {
  return std::find(codes.begin(), codes.end(), code) != codes.end();
}

Error transport_error(const toolkit::Curl& lib, std::string_view operation, CURLcode rc, const char* detail) {
  Errc code = Errc::io_error;
  switch (rc) {
    case CURLE_OPERATION_TIMEDOUT: code = Errc::timeout; break;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: code = Errc::unavailable; break;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT: code = Errc::configuration; break;
    default: break;
  }
  std::string message = "SQS " + std::string(operation) + ": " + lib.easy_strerror(rc);
  if (detail && *detail) message += std::string(" (") + detail + ")";
  return {code, std::move(message), {}};
}


}  // namespace

// ---- pure parts ---------------------------------------------------------------------

bool is_queue_url(std::string_view location) noexcept {
  return location.starts_with("https://") || location.starts_with("http://");
}

Result<QueueUrl> parse_queue_url(std::string_view url) {
  auto bad = [&](std::string why) {
    return Error{Errc::configuration, "not an SQS queue URL (" + why + "): " + std::string(url), {}};
  };
  if (!is_queue_url(url)) return bad("it must start with http:// or https://");
  std::size_t host_start = url.find("://") + 3;
  std::size_t path_start = url.find('/', host_start);
  if (path_start == std::string_view::npos || path_start == host_start) return bad("no host or no path");
  std::string_view host = url.substr(host_start, path_start - host_start);
  std::string_view path = url.substr(path_start + 1);
  if (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (path.find_first_of("?#") != std::string_view::npos) return bad("a query or fragment is not part of a queue URL");
  std::size_t slash = path.rfind('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == path.size())
    return bad("the path must be /<account>/<queue name>");
  QueueUrl q;
  q.url = std::string(url);
  q.origin = std::string(url.substr(0, path_start));
  q.account = std::string(path.substr(0, path.find('/')));
  q.name = std::string(path.substr(slash + 1));
  // sqs.<region>.amazonaws.com[.cn], or the legacy <region>.queue.amazonaws.com.
  std::string_view h = host.substr(0, host.find(':'));
  if (h.starts_with("sqs.")) {
    std::string_view rest = h.substr(4);
    if (auto dot = rest.find('.'); dot != std::string_view::npos && rest.substr(dot).starts_with(".amazonaws.com"))
      q.region = std::string(rest.substr(0, dot));
  } else if (auto at = h.find(".queue.amazonaws.com"); at != std::string_view::npos) {
    q.region = std::string(h.substr(0, at));
  }
  return q;
}

std::string queue_arn(const QueueUrl& q, std::string_view region) {
  // The partition follows from the region: China's and GovCloud's have their own.
  const std::string_view partition = region.starts_with("cn-")       ? "aws-cn"
                                     : region.starts_with("us-gov-") ? "aws-us-gov"
                                                                     : "aws";
  return "arn:" + std::string(partition) + ":sqs:" + std::string(region) + ":" + q.account + ":" + q.name;
}

Result<std::string> url_from_arn(std::string_view arn) {
  QueueUrl aws;
  aws.origin = "https://sqs.amazonaws.com";  // replaced below: the ARN's region differs
  aws.region = "-";
  return url_from_arn(arn, aws);
}

Result<std::string> url_from_arn(std::string_view arn, const QueueUrl& like) {
  // arn:<partition>:sqs:<region>:<account>:<name>
  std::array<std::string_view, 6> parts{};
  std::size_t at = 0;
  for (std::size_t i = 0; i < 5; ++i) {
    std::size_t colon = arn.find(':', at);
    if (colon == std::string_view::npos) return Error{Errc::invalid_value, "not an SQS queue ARN: " + std::string(arn), {}};
    parts[i] = arn.substr(at, colon - at);
    at = colon + 1;
  }
  parts[5] = arn.substr(at);
  if (parts[0] != "arn" || parts[2] != "sqs" || parts[4].empty() || parts[5].empty())
    return Error{Errc::invalid_value, "not an SQS queue ARN: " + std::string(arn), {}};
  std::string origin = like.origin;
  // An AWS queue in another region lives on that region's host (China's partition has its own domain).
  if (!like.region.empty() && like.region != parts[3])
    origin = origin.substr(0, origin.find("://") + 3) + "sqs." + std::string(parts[3]) +
             (parts[1] == "aws-cn" ? ".amazonaws.com.cn" : ".amazonaws.com");
  return origin + "/" + std::string(parts[4]) + "/" + std::string(parts[5]);
}

AwsError parse_error(int status, std::string_view body, std::string_view query_error_header) {
  AwsError e;
  e.status = status;
  e.sender_fault = status < 500;
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_object()) {
    auto text = [&](const char* key) -> std::string {
      auto it = json.find(key);
      return it != json.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    e.code = std::string(bare_code(text("__type")));
    e.message = text("message");
    if (e.message.empty()) e.message = text("Message");
  }
  if (!query_error_header.empty()) {
    std::string_view h = query_error_header;
    std::size_t semi = h.find(';');
    if (e.code.empty()) e.code = std::string(bare_code(h.substr(0, semi)));
    if (semi != std::string_view::npos) e.sender_fault = h.substr(semi + 1) != "Receiver";
  }
  if (e.code.empty()) e.code = status >= 500 ? "InternalFailure" : "HTTP" + std::to_string(status);
  // Cut at a character boundary: the message goes into logs and dead letters as UTF-8.
  if (e.message.size() > max_error_message) e.message.resize(utf8_prefix(e.message, max_error_message).size());
  return e;
}

Errc classify(const AwsError& e) noexcept {
  if (listed(throttling_codes, e.code) || e.status == 429) return Errc::rate_limited;
  if (e.status == 0) return Errc::io_error;
  if (e.status >= 500 || !e.sender_fault) return Errc::unavailable;
  if (listed(credential_codes, e.code)) return Errc::unauthenticated;
  if (listed(permission_codes, e.code) || e.status == 403) return Errc::configuration;
  if (e.code == "QueueDoesNotExist" || e.code == "AWS.SimpleQueueService.NonExistentQueue") return Errc::not_found;
  return Errc::invalid_value;
}

bool is_lost_receipt(const AwsError& e) noexcept {
  std::string_view code = e.code;
  if (code.starts_with("AWS.SimpleQueueService.")) code.remove_prefix(23);
  if (code == "ReceiptHandleIsInvalid" || code == "MessageNotInflight") return true;
  return e.sender_fault && (code == "InvalidParameterValue" || code == "InvalidParameterValueException") &&
         e.message.find("ReceiptHandle") != std::string::npos;
}

Error to_error(std::string_view operation, const AwsError& e) {
  std::string message = "SQS " + std::string(operation) + ": " + e.code + " (HTTP " + std::to_string(e.status) + ")";
  if (!e.message.empty()) message += ": " + e.message;
  return {classify(e), std::move(message), {}};
}

std::string resolve_endpoint(const QueueUrl& q, const ClientOptions& options) {
  if (!options.endpoint.empty()) return options.endpoint;
  if (auto v = env("AWS_ENDPOINT_URL_SQS"); !v.empty()) return std::string(v);
  if (auto v = env("AWS_ENDPOINT_URL"); !v.empty()) return std::string(v);
  return q.origin;
}

std::string resolve_region(const QueueUrl& q, const ClientOptions& options) {
  if (!options.region.empty()) return options.region;
  if (!q.region.empty()) return q.region;
  if (auto v = env("AWS_REGION"); !v.empty()) return std::string(v);
  if (auto v = env("AWS_DEFAULT_REGION"); !v.empty()) return std::string(v);
  return "us-east-1";
}

// ---- the client ---------------------------------------------------------------------

struct Client::Impl {
  std::string endpoint;
  std::string host;  // Host header value: host[:port] as in the endpoint
  std::string region;
  CredentialProvider credentials;
  ClientOptions options;
  ClientStats stats;
  const toolkit::Curl* lib = nullptr;  ///< libcurl, loaded by the first post()
  CURL* curl = nullptr;
  std::string response;
  std::string query_error;
  std::mt19937_64 rng{std::random_device{}()};

  Impl(std::string ep, std::string rg, CredentialProvider creds, ClientOptions opt)
      : endpoint(std::move(ep)), region(std::move(rg)), credentials(std::move(creds)), options(std::move(opt)) {
    while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
    std::size_t start = endpoint.find("://");
    host = start == std::string::npos ? endpoint : endpoint.substr(start + 3);
    host = host.substr(0, host.find('/'));
  }
  ~Impl() {
    if (curl) lib->easy_cleanup(curl);
  }

  static std::size_t on_body(char* data, std::size_t size, std::size_t count, void* self) {
    static_cast<Impl*>(self)->response.append(data, size * count);
    return size * count;
  }
  static std::size_t on_header(char* data, std::size_t size, std::size_t count, void* self) {
    std::string_view line(data, size * count);
    constexpr std::string_view name = "x-amzn-query-error:";
    if (line.size() > name.size() && iequals(line.substr(0, name.size()), name)) {
      line.remove_prefix(name.size());
      while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
      while (!line.empty() && (line.back() == '\r' || line.back() == '\n' || line.back() == ' ')) line.remove_suffix(1);
      static_cast<Impl*>(self)->query_error = std::string(line);
    }
    return size * count;
  }

  /// One HTTP exchange. Ok(status) with the body in `response`, or a transport error.
  Result<long> post(std::string_view operation, const std::string& body, std::chrono::milliseconds wait) {
    auto creds = credentials.get();
    if (!creds) return creds.error();
    std::string target = "AmazonSQS." + std::string(operation);
    SigningInput input{"POST", "/", "", {{"Host", host}, {"Content-Type", "application/x-amz-json-1.0"}, {"X-Amz-Target", target}}, body};
    Signature sig = sign(input, *creds, Scope{region, "sqs"}, std::chrono::system_clock::now());

    if (!lib) {
      const Result<toolkit::Curl>& loaded = toolkit::libcurl();
      if (!loaded) return Error{loaded.error().code, "SQS: " + loaded.error().message, {}};  // configuration
      lib = &*loaded;
    }
    if (!curl) {
      curl = lib->easy_init();
      if (!curl) return Error{Errc::unavailable, "SQS: curl_easy_init failed", {}};
    } else {
      lib->easy_reset(curl);  // keeps the connection cache
    }
    curl_slist* headers = nullptr;
    for (const HttpHeader& h : input.headers) headers = lib->slist_append(headers, (h.name + ": " + h.value).c_str());
    for (const HttpHeader& h : sig.headers_to_add) headers = lib->slist_append(headers, (h.name + ": " + h.value).c_str());
    headers = lib->slist_append(headers, "Expect:");  // no 100-continue round trip
    headers = lib->slist_append(headers, "Accept:");
    std::string url = endpoint + "/";
    response.clear();
    query_error.clear();
    char detail[CURL_ERROR_SIZE] = {};
    lib->easy_setopt(curl, CURLOPT_URL, url.c_str());
    lib->easy_setopt(curl, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
    lib->easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    lib->easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    lib->easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    lib->easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Impl::on_body);
    lib->easy_setopt(curl, CURLOPT_WRITEDATA, this);
    lib->easy_setopt(curl, CURLOPT_HEADERFUNCTION, &Impl::on_header);
    lib->easy_setopt(curl, CURLOPT_HEADERDATA, this);
    lib->easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    lib->easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout.count()));
    lib->easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>((options.request_timeout + wait).count()));
    lib->easy_setopt(curl, CURLOPT_ERRORBUFFER, detail);
    lib->easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    if (!options.ca_file.empty()) lib->easy_setopt(curl, CURLOPT_CAINFO, options.ca_file.c_str());
    ++stats.requests;
    CURLcode rc = lib->easy_perform(curl);
    lib->slist_free_all(headers);
    lib->easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
    if (rc != CURLE_OK) return transport_error(*lib, operation, rc, detail);
    long status = 0;
    lib->easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    return status;
  }

  std::chrono::milliseconds backoff(int attempt, bool throttled) {
    auto base = throttled ? options.throttle_base : options.retry_base;
    auto ceiling = std::min(options.retry_cap, std::chrono::milliseconds(base.count() << std::min(attempt - 1, 20)));
    std::uniform_int_distribution<long long> pick(0, ceiling.count());
    return std::chrono::milliseconds(pick(rng));
  }
};

Client::Client(std::string endpoint, std::string region, CredentialProvider credentials, ClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(endpoint), std::move(region), std::move(credentials), std::move(options))) {}
Client::~Client() = default;
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;

const std::string& Client::endpoint() const noexcept { return impl_->endpoint; }
const std::string& Client::region() const noexcept { return impl_->region; }
const ClientStats& Client::stats() const noexcept { return impl_->stats; }
std::string_view Client::credential_source() const noexcept { return impl_->credentials.source(); }

Result<std::string> Client::call(std::string_view operation, std::string_view request,
                                 std::chrono::milliseconds wait) {
  Impl& s = *impl_;
  ++s.stats.calls;
  const std::string body(request);
  Error last{Errc::unavailable, "SQS " + std::string(operation) + ": not attempted", {}};
  for (int attempt = 1; attempt <= std::max(1, s.options.max_attempts); ++attempt) {
    if (attempt > 1) {
      ++s.stats.retries;
      std::this_thread::sleep_for(s.backoff(attempt - 1, last.code == Errc::rate_limited));
    }
    auto status = s.post(operation, body, wait);
    if (!status) {
      last = status.error();
      if (is_transient(last.code)) continue;
      return last;
    }
    if (*status >= 200 && *status < 300) {
      if (s.response.empty()) return std::string("{}");
      if (!nlohmann::json::accept(s.response))
        return Error{Errc::protocol_error, "SQS " + std::string(operation) + ": the answer is not JSON", {}};
      return std::move(s.response);
    }
    last = to_error(operation, parse_error(static_cast<int>(*status), s.response, s.query_error));
    if (!is_transient(last.code)) return last;
  }
  return last;
}

}  // namespace notify::sqs
