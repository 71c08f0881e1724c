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

namespace notify::lambda {

namespace {

constexpr std::size_t max_header_bytes = 64 * 1024;
/// Events are at most 6 MB (synchronous invocation payload); leave room.
constexpr std::size_t max_body_bytes = 32 * 1024 * 1024;

char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

/// Digits only, no overflow; nullopt-like -1 otherwise.
long long parse_decimal(std::string_view s) noexcept {
  if (s.empty() || s.size() > 18) return -1;
  long long v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

long long parse_hex(std::string_view s) noexcept {
  if (s.empty() || s.size() > 15) return -1;
  long long v = 0;
  for (char c : s) {
    int d = 0;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else return -1;
    v = v * 16 + d;
  }
  return v;
}

}  // namespace

struct detail::HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
  std::string body;

  std::string_view header(std::string_view name) const noexcept {
    for (const auto& [k, v] : headers)
      if (k == name) return v;
    return {};
  }
};

namespace {

/// Reads one HTTP/1.1 answer from a socket, with the bytes already buffered.
class Reader {
 public:
  Reader(int fd, std::string& buffer) : fd_(fd), buf_(buffer) {}

  /// Bytes received for this answer so far (to tell "closed before answering").
  bool got_any() const noexcept { return got_any_; }
  bool closed() const noexcept { return eof_; }

  /// A line without its CRLF; false on EOF, error or an over-long line.
  bool line(std::string& out, Error& err) {
    for (;;) {
      if (const auto nl = buf_.find('\n', pos_); nl != std::string::npos) {
        out.assign(buf_, pos_, nl - pos_);
        if (!out.empty() && out.back() == '\r') out.pop_back();
        pos_ = nl + 1;
        return true;
      }
      if (buf_.size() - pos_ > max_header_bytes) {
        err = {Errc::protocol_error, "runtime API: header line too long", {}};
        return false;
      }
      if (!fill(err)) return false;
    }
  }

  /// Exactly n bytes appended to `out`.
  bool exact(std::size_t n, std::string& out, Error& err) {
    while (buf_.size() - pos_ < n)
      if (!fill(err)) return false;
    out.append(buf_, pos_, n);
    pos_ += n;
    return true;
  }

  /// Everything up to the peer's close.
  bool to_close(std::string& out, Error& err) {
    while (!eof_) {
      if (buf_.size() - pos_ > max_body_bytes) {
        err = {Errc::protocol_error, "runtime API: answer too large", {}};
        return false;
      }
      if (!fill(err, true)) return false;
    }
    out.append(buf_, pos_, std::string::npos);
    pos_ = buf_.size();
    return true;
  }

  /// Drops what this answer consumed, keeping any bytes of a next one.
  void finish() { buf_.erase(0, pos_); }

 private:
  bool fill(Error& err, bool eof_ok = false) {
    if (pos_ > 0 && pos_ == buf_.size()) {
      buf_.clear();
      pos_ = 0;
    }
    char chunk[16384];
    for (;;) {
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n > 0) {
        got_any_ = true;
        buf_.append(chunk, static_cast<std::size_t>(n));
        return true;
      }
      if (n == 0) {
        eof_ = true;
        if (eof_ok) return true;
        err = {Errc::io_error, "runtime API: connection closed before the answer was complete", {}};
        return false;
      }
      if (errno == EINTR) continue;
      err = {Errc::io_error, std::string("runtime API: receive failed: ") + std::strerror(errno), {}};
      return false;
    }
  }

  int fd_;
  std::string& buf_;
  std::size_t pos_ = 0;
  bool got_any_ = false;
  bool eof_ = false;
};

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

/// Reads an answer (skipping 1xx ones); `keep` says whether the connection can be reused.
bool read_response(Reader& in, detail::HttpResponse& r, bool& keep, Error& err) {
  std::string line;
  for (;;) {
    if (!in.line(line, err)) return false;
    // "HTTP/1.1 202 Accepted"
    if (line.size() < 12 || line.compare(0, 5, "HTTP/") != 0 || line[8] != ' ') {
      err = {Errc::protocol_error, "runtime API: malformed status line", {}};
      return false;
    }
    const long long status = parse_decimal(std::string_view(line).substr(9, 3));
    if (status < 100 || status > 599) {
      err = {Errc::protocol_error, "runtime API: malformed status line", {}};
      return false;
    }
    r.status = static_cast<int>(status);
    keep = line.compare(0, 8, "HTTP/1.0") != 0;
    r.headers.clear();
    std::size_t header_bytes = 0;
    for (;;) {
      if (!in.line(line, err)) return false;
      if (line.empty()) break;
      header_bytes += line.size();
      if (header_bytes > max_header_bytes) {
        err = {Errc::protocol_error, "runtime API: headers too large", {}};
        return false;
      }
      const auto colon = line.find(':');
      if (colon == std::string::npos || colon == 0) {
        err = {Errc::protocol_error, "runtime API: malformed header", {}};
        return false;
      }
      std::string name(line, 0, colon);
      for (char& c : name) c = lower(c);
      r.headers.emplace_back(std::move(name), std::string(trim(std::string_view(line).substr(colon + 1))));
    }
    if (r.status >= 200) break;  // 1xx: informational, the real answer follows
  }

  if (const std::string_view c = r.header("connection"); iequals(c, "close")) keep = false;
  else if (iequals(c, "keep-alive")) keep = true;

  r.body.clear();
  if (r.status == 204 || r.status == 304) return true;
  const std::string_view te = r.header("transfer-encoding");
  if (!te.empty() && !iequals(te, "identity")) {
    if (!iequals(te, "chunked")) {
      err = {Errc::protocol_error, "runtime API: unsupported transfer-encoding", {}};
      return false;
    }
    for (;;) {
      if (!in.line(line, err)) return false;
      std::string_view size = line;
      if (const auto semi = size.find(';'); semi != std::string_view::npos) size = size.substr(0, semi);
      const long long n = parse_hex(trim(size));
      if (n < 0 || r.body.size() + static_cast<std::size_t>(n) > max_body_bytes) {
        err = {Errc::protocol_error, "runtime API: malformed or oversized chunk", {}};
        return false;
      }
      if (n == 0) break;
      if (!in.exact(static_cast<std::size_t>(n), r.body, err)) return false;
      if (!in.line(line, err)) return false;  // the CRLF after the chunk
    }
    do {  // trailers, up to the empty line
      if (!in.line(line, err)) return false;
    } while (!line.empty());
    return true;
  }
  if (const std::string_view cl = r.header("content-length"); !cl.empty()) {
    const long long n = parse_decimal(cl);
    if (n < 0 || static_cast<std::size_t>(n) > max_body_bytes) {
      err = {Errc::protocol_error, "runtime API: bad content-length", {}};
      return false;
    }
    return in.exact(static_cast<std::size_t>(n), r.body, err);
  }
  keep = false;  // neither: the body ends when the connection does
  return in.to_close(r.body, err);
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
    bool keep = true;
    const bool sent = send_all(fd_, head, err) && (together || send_all(fd_, body, err));
    Reader in(fd_, buffer_);
    if (sent && read_response(in, r, keep, err)) {
      in.finish();
      if (!keep || in.closed()) close();
      return r;
    }
    const bool stale = reused && !in.got_any();
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
  const long long deadline = parse_decimal(r->header("lambda-runtime-deadline-ms"));
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
