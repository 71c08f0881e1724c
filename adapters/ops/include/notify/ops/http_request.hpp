// SPDX-License-Identifier: MIT
#pragma once

/// A sans-IO HTTP/1.1 request-head parser: the caller owns the socket, feeds whatever
/// bytes arrived, and learns when the request line and headers are complete or which
/// status answers a bad one. It never holds more than `max_header_bytes` (the request
/// line, headers and their line ends, counted together), so a client cannot grow it.
/// Bodies are not read: the listener serves GET and HEAD and closes the connection.

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace notify::ops {

/// A parsed request head.
struct HttpRequest {
  std::string method;  ///< as sent (methods are case-sensitive)
  std::string target;  ///< origin form: "/path?query"
  std::string path;    ///< the target before '?'
  std::string query;   ///< the target after '?', without it
  int minor_version = 1;  ///< HTTP/1.<minor>
  std::vector<std::pair<std::string, std::string>> headers;  ///< names lower-cased, values trimmed

  /// The first value of header `name` (lower-case), or empty.
  std::string_view header(std::string_view name) const noexcept {
    for (const auto& h : headers)
      if (h.first == name) return h.second;
    return {};
  }
};

/// Parses one request head from bytes fed in any split.
class HttpRequestParser {
 public:
  explicit HttpRequestParser(std::size_t max_header_bytes = 8 * 1024) : max_(max_header_bytes) {}

  /// Consumes bytes of the head from `data`; returns how many were used. Stops at the
  /// blank line that ends the head (done) or at the first error (failed).
  std::size_t feed(std::string_view data) {
    std::size_t pos = 0;
    while (pos < data.size() && state_ != State::done && state_ != State::failed) {
      const std::size_t nl = data.find('\n', pos);
      const std::size_t end = nl == std::string_view::npos ? data.size() : nl;
      // Every byte of the head counts, its LF included, so the budget bounds memory.
      const std::size_t take = end - pos + (nl == std::string_view::npos ? 0 : 1);
      if (take > max_ - used_) {
        if (state_ == State::request_line) return fail(end, 414, "request line too long");
        return fail(end, 431, "header section too large");
      }
      used_ += take;
      line_.append(data.substr(pos, end - pos));
      pos = end;
      if (nl == std::string_view::npos) break;
      ++pos;
      if (!line_.empty() && line_.back() == '\r') line_.pop_back();
      on_line();
      line_.clear();
    }
    return pos;
  }

  bool done() const noexcept { return state_ == State::done; }
  bool failed() const noexcept { return state_ == State::failed; }
  /// After a failure: the status to answer with (400, 414, 431 or 505).
  int error_status() const noexcept { return status_; }
  /// After a failure: why, for logs.
  std::string_view error() const noexcept { return error_; }
  /// Bytes of the head consumed so far.
  std::size_t head_bytes() const noexcept { return used_; }
  const HttpRequest& request() const& noexcept { return request_; }
  HttpRequest&& request() && noexcept { return std::move(request_); }

  /// At most this many header lines (each costs more memory than its bytes on the wire).
  static constexpr std::size_t max_headers = 100;

  /// Characters of a token (method, header name): RFC 9110's tchar.
  static constexpr bool is_tchar(char c) noexcept {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  }

 private:
  enum class State { request_line, header, done, failed };

  std::size_t fail(std::size_t pos, int status, std::string_view why) {
    state_ = State::failed;
    status_ = status;
    error_ = why;
    return pos;
  }

  /// No control bytes but horizontal tab (CR, LF and NUL included); DEL excluded too.
  static bool clean(std::string_view s) noexcept {
    for (char c : s) {
      const auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u == 0x7f) return false;
    }
    return true;
  }

  static std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
  }

  void on_line() {
    const std::string_view line = line_;
    if (!clean(line)) {
      fail(0, 400, "control character in the request head");
      return;
    }
    if (state_ == State::request_line) {
      if (line.empty()) return;  // RFC 9112 2.2: empty lines before the request line are ignored
      on_request_line(line);
      return;
    }
    if (line.empty()) {
      state_ = State::done;
      return;
    }
    on_header(line);
  }

  // "GET /metrics HTTP/1.1": exactly one space between the three parts.
  void on_request_line(std::string_view line) {
    const std::size_t sp1 = line.find(' ');
    const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
      fail(0, 400, "malformed request line");
      return;
    }
    const std::string_view method = line.substr(0, sp1);
    const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    const std::string_view version = line.substr(sp2 + 1);
    if (method.empty()) {
      fail(0, 400, "empty method");
      return;
    }
    for (char c : method)
      if (!is_tchar(c)) {
        fail(0, 400, "malformed method");
        return;
      }
    if (target.empty() || target[0] != '/' || target.find('\t') != std::string_view::npos) {
      fail(0, 400, "the target must be an absolute path");
      return;
    }
    if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' || version[5] < '0' ||
        version[5] > '9' || version[7] < '0' || version[7] > '9') {
      fail(0, 400, "malformed HTTP version");
      return;
    }
    if (version[5] != '1') {
      fail(0, 505, "only HTTP/1.x is served");
      return;
    }
    request_.method = method;
    request_.target = target;
    const std::size_t q = target.find('?');
    request_.path = target.substr(0, q);
    request_.query = q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
    request_.minor_version = version[7] - '0';
    state_ = State::header;
  }

  void on_header(std::string_view line) {
    if (line[0] == ' ' || line[0] == '\t') {  // obsolete line folding (RFC 9112 5.2)
      fail(0, 400, "folded header line");
      return;
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      fail(0, 400, "malformed header line");
      return;
    }
    if (request_.headers.size() == max_headers) {
      fail(0, 431, "too many header lines");
      return;
    }
    std::string name(line.substr(0, colon));
    for (char& c : name) {
      if (!is_tchar(c)) {  // a space before the colon included (RFC 9112 5.1)
        fail(0, 400, "malformed header name");
        return;
      }
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    request_.headers.emplace_back(std::move(name), std::string(trim(line.substr(colon + 1))));
  }

  std::size_t max_;
  std::size_t used_ = 0;
  State state_ = State::request_line;
  int status_ = 0;
  std::string_view error_;
  std::string line_;
  HttpRequest request_;
};

}  // namespace notify::ops
