// SPDX-License-Identifier: MIT
#include "notify/lambda/runtime.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "notify/detail/json_writer.hpp"
#include "notify/toolkit/http1.hpp"

namespace notify::lambda {

namespace {

/// Events are at most 6 MB (synchronous invocation payload); leave room.
constexpr toolkit::Http1Limits http_limits{64 * 1024, 32 * 1024 * 1024};

}  // namespace

struct detail::HttpResponse : toolkit::Http1Response {};

namespace {

Error runtime_error(Error e) {
  e.message = "runtime API: " + e.message;
  return e;
}

/// Reads one HTTP/1.1 answer from a socket, starting with the bytes already buffered;
/// leaves in `buffer` what arrived past the answer. `got_any` says whether any byte of
/// it came (a stale kept-alive connection answers nothing), `eof` whether the peer closed.
bool read_response(int fd, std::string& buffer, detail::HttpResponse& r, bool& got_any, bool& eof, Error& err) {
  toolkit::Http1ResponseParser parser(http_limits);
  std::size_t used = parser.feed(buffer);
  buffer.erase(0, used);
  char chunk[16384];
  while (!parser.done() && !parser.failed()) {
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n > 0) {
      got_any = true;
      const std::string_view data(chunk, static_cast<std::size_t>(n));
      used = parser.feed(data);
      buffer.append(data.substr(used));
    } else if (n == 0) {
      eof = true;
      if (!parser.reads_to_close()) {
        err = {Errc::io_error, "runtime API: connection closed before the answer was complete", {}};
        return false;
      }
      parser.feed_eof();
    } else if (errno != EINTR) {
      err = {Errc::io_error, std::string("runtime API: receive failed: ") + std::strerror(errno), {}};
      return false;
    }
  }
  if (parser.failed()) {
    err = runtime_error(parser.error());
    return false;
  }
  static_cast<toolkit::Http1Response&>(r) = std::move(parser).response();
  return true;
}

bool send_all(int fd, std::string_view data, Error& err) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = {Errc::io_error, std::string("runtime API: send failed: ") + std::strerror(errno), {}};
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

std::string error_body(const ErrorReport& report) {
  std::string out = R"({"errorMessage":)";
  ::notify::detail::write_string(out, report.message);
  out += R"(,"errorType":)";
  ::notify::detail::write_string(out, report.type);
  out += R"(,"stackTrace":[]})";
  return out;
}

RuntimeClient::RuntimeClient(std::string endpoint) : endpoint_(std::move(endpoint)) {
  std::string_view e = endpoint_;
  if (!e.empty() && e.front() == '[') {  // [v6]:port
    const auto close_bracket = e.find(']');
    host_ = std::string(e.substr(1, close_bracket == std::string_view::npos ? std::string_view::npos : close_bracket - 1));
    if (close_bracket != std::string_view::npos && close_bracket + 1 < e.size() && e[close_bracket + 1] == ':')
      port_ = std::string(e.substr(close_bracket + 2));
  } else if (const auto colon = e.rfind(':'); colon != std::string_view::npos) {
    host_ = std::string(e.substr(0, colon));
    port_ = std::string(e.substr(colon + 1));
  } else {
    host_ = std::string(e);
  }
  if (port_.empty()) port_ = "80";
}

Result<RuntimeClient> RuntimeClient::from_environment() {
  const char* api = std::getenv("AWS_LAMBDA_RUNTIME_API");
  if (!api || !*api)
    return Error{Errc::configuration, "AWS_LAMBDA_RUNTIME_API is not set: not running in AWS Lambda",
                 "AWS_LAMBDA_RUNTIME_API"};
  return RuntimeClient(api);
}

RuntimeClient::RuntimeClient(RuntimeClient&& other) noexcept
    : endpoint_(std::move(other.endpoint_)), host_(std::move(other.host_)), port_(std::move(other.port_)),
      fd_(std::exchange(other.fd_, -1)), buffer_(std::move(other.buffer_)) {}

RuntimeClient& RuntimeClient::operator=(RuntimeClient&& other) noexcept {
  if (this != &other) {
    close();
    endpoint_ = std::move(other.endpoint_);
    host_ = std::move(other.host_);
    port_ = std::move(other.port_);
    fd_ = std::exchange(other.fd_, -1);
    buffer_ = std::move(other.buffer_);
  }
  return *this;
}

RuntimeClient::~RuntimeClient() { close(); }

void RuntimeClient::close() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buffer_.clear();
}

Result<void> RuntimeClient::connect() {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* list = nullptr;
  if (const int rc = ::getaddrinfo(host_.c_str(), port_.c_str(), &hints, &list); rc != 0)
    return Error{Errc::unavailable, "runtime API " + endpoint_ + ": cannot resolve: " + ::gai_strerror(rc), {}};
  int last_errno = 0;
  for (addrinfo* a = list; a; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      last_errno = errno;
      continue;
    }
    int rc;
    do rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
    while (rc != 0 && errno == EINTR);
    if (rc == 0) {
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      fd_ = fd;
      buffer_.clear();
      break;
    }
    last_errno = errno;
    ::close(fd);
  }
  ::freeaddrinfo(list);
  if (fd_ < 0)
    return Error{Errc::unavailable, "runtime API " + endpoint_ + ": cannot connect: " + std::strerror(last_errno), {}};
  return {};
}

Result<detail::HttpResponse> RuntimeClient::request(std::string_view method, std::string_view path,
                                                       std::string_view body, std::string_view extra_headers) {
  std::string head;
  head.reserve(256 + extra_headers.size());
  head.append(method).append(" /").append(runtime_api_version).append(path).append(" HTTP/1.1\r\nHost: ");
  head.append(endpoint_).append("\r\nUser-Agent: notify-lambda\r\n");
  if (method == "POST") {
    head.append("Content-Type: application/json\r\nContent-Length: ").append(std::to_string(body.size())).append("\r\n");
  }
  head.append(extra_headers).append("\r\n");
  // Small bodies go out with the head: one write, one segment.
  const bool together = body.size() <= 64 * 1024;
  if (together) head.append(body);

  // A kept-alive connection the API closed meanwhile fails on first use: reopen it once.
  for (int attempt = 0;; ++attempt) {
    const bool reused = fd_ >= 0;
    if (!reused)
      if (auto c = connect(); !c) return c.error();
    Error err;
    detail::HttpResponse r;
    bool got_any = false, eof = false;
    const bool sent = send_all(fd_, head, err) && (together || send_all(fd_, body, err));
    if (sent && read_response(fd_, buffer_, r, got_any, eof, err)) {
      if (!r.keep_alive || eof) close();
      return r;
    }
    const bool stale = reused && !got_any;
    close();
    if (!stale || attempt > 0) return err;
  }
}

Result<Invocation> RuntimeClient::next() {
  auto r = request("GET", "/runtime/invocation/next", {}, {});
  if (!r) return r.error();
  if (r->status != 200) {
    if (r->status == 500) return Error{Errc::configuration, "runtime API: next answered 500 (container error)", {}};
    return Error{Errc::protocol_error, "runtime API: next answered " + std::to_string(r->status), {}};
  }
  Invocation inv;
  inv.request_id = std::string(r->header("lambda-runtime-aws-request-id"));
  if (inv.request_id.empty()) return Error{Errc::protocol_error, "runtime API: next gave no request id", {}};
  const long long deadline = toolkit::parse_decimal(r->header("lambda-runtime-deadline-ms"));
  inv.deadline_ms = deadline < 0 ? 0 : deadline;
  inv.function_arn = std::string(r->header("lambda-runtime-invoked-function-arn"));
  inv.trace_id = std::string(r->header("lambda-runtime-trace-id"));
  if (inv.trace_id.empty()) ::unsetenv("_X_AMZN_TRACE_ID");
  else ::setenv("_X_AMZN_TRACE_ID", inv.trace_id.c_str(), 1);
  inv.body = std::move(r->body);
  return inv;
}

Result<void> RuntimeClient::post_expecting_202(std::string_view path, std::string_view body,
                                               std::string_view extra_headers) {
  auto r = request("POST", path, body, extra_headers);
  if (!r) return r.error();
  if (r->status == 202) return {};
  if (r->status == 413)
    return Error{Errc::body_too_large, "runtime API: the response is larger than the payload limit (413)", {}};
  if (r->status == 500)
    return Error{Errc::configuration, "runtime API: container error (500), the runtime must exit", {}};
  return Error{Errc::protocol_error, "runtime API: answered " + std::to_string(r->status), {}};
}

Result<void> RuntimeClient::respond(std::string_view request_id, std::string_view body) {
  return post_expecting_202("/runtime/invocation/" + std::string(request_id) + "/response", body, {});
}

namespace {
std::string error_type_header(const ErrorReport& report) {
  std::string h = "Lambda-Runtime-Function-Error-Type: ";
  for (char c : report.type) h += (c == '\r' || c == '\n') ? ' ' : c;  // never split the header
  return h + "\r\n";
}
}  // namespace

Result<void> RuntimeClient::error(std::string_view request_id, const ErrorReport& report) {
  return post_expecting_202("/runtime/invocation/" + std::string(request_id) + "/error", error_body(report),
                            error_type_header(report));
}

Result<void> RuntimeClient::init_error(const ErrorReport& report) {
  return post_expecting_202("/runtime/init/error", error_body(report), error_type_header(report));
}

}  // namespace notify::lambda
