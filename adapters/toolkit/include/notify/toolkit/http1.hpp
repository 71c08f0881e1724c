// SPDX-License-Identifier: MIT
// Private to the adapters: a sans-IO HTTP/1.1 response parser. The caller owns the
// socket; it feeds whatever bytes arrived and asks whether a whole response is there.
// Handles 1xx answers (skipped), Content-Length, chunked transfer-encoding (extensions
// and trailers ignored) and bodies delimited by the connection's close, with limits on
// the header section and the body.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "notify/result.hpp"
#include "notify/toolkit/ascii.hpp"

namespace notify::toolkit {

/// Bounds on what one response may hold.
struct Http1Limits {
  std::size_t max_header_bytes = 64 * 1024;        ///< status line + headers (+ trailers)
  std::size_t max_body_bytes = 32 * 1024 * 1024;   ///< decoded body
};

/// A parsed response.
struct Http1Response {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  ///< names lower-cased, values trimmed
  std::string body;                                           ///< decoded (chunks joined)
  bool keep_alive = true;  ///< the connection may carry another request after this one

  /// The first value of header `name` (lower-case), or empty.
  std::string_view header(std::string_view name) const noexcept {
    for (const auto& h : headers)
      if (h.first == name) return h.second;
    return {};
  }
};

/// Digits only, at most 18 of them; -1 otherwise.
constexpr long long parse_decimal(std::string_view s) noexcept {
  if (s.empty() || s.size() > 18) return -1;
  long long v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

/// Hex digits only, at most 15 of them; -1 otherwise.
constexpr long long parse_hex(std::string_view s) noexcept {
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

/// Parses one HTTP/1.1 response from bytes fed in any split. Usage:
///   Http1ResponseParser p;  while (!p.done() && !p.failed()) p.feed(bytes read);
/// then p.response(); bytes past the response are not consumed (feed returns the count
/// it used), so a caller keeps them for the next response on the connection.
class Http1ResponseParser {
 public:
  explicit Http1ResponseParser(Http1Limits limits = {}) : limits_(limits) {}

  /// Consumes bytes of this response from `data`; returns how many were used. Stops at
  /// the end of the response (done) or at the first error (failed).
  std::size_t feed(std::string_view data) {
    std::size_t pos = 0;
    if (!data.empty()) started_ = true;
    while (pos < data.size() && state_ != State::done && state_ != State::failed) {
      switch (state_) {
        case State::body_length:
        case State::chunk_data: {
          const std::size_t n = std::min(remaining_, data.size() - pos);
          response_.body.append(data.substr(pos, n));
          pos += n;
          remaining_ -= n;
          if (remaining_ == 0) state_ = state_ == State::body_length ? State::done : State::chunk_end;
          break;
        }
        case State::body_to_close: {
          const std::size_t n = data.size() - pos;
          if (n > limits_.max_body_bytes - response_.body.size())
            return fail(pos, "HTTP/1.1: the body is larger than " + std::to_string(limits_.max_body_bytes) + " bytes");
          response_.body.append(data.substr(pos));
          pos = data.size();
          break;
        }
        default: {  // a line: status, header, chunk size, chunk end, trailer
          const std::size_t nl = data.find('\n', pos);
          const std::size_t end = nl == std::string_view::npos ? data.size() : nl;
          const std::size_t budget = line_budget();
          if (line_.size() + (end - pos) > budget) return fail(end, over_budget_message());
          line_.append(data.substr(pos, end - pos));
          if (nl == std::string_view::npos) {
            pos = data.size();
            break;
          }
          pos = nl + 1;
          if (!line_.empty() && line_.back() == '\r') line_.pop_back();
          head_bytes_ += line_.size() + 2;
          on_line(line_);
          line_.clear();
          break;
        }
      }
    }
    return pos;
  }

  /// The peer closed the connection: ends a body delimited by the close; anything else
  /// not yet complete fails.
  void feed_eof() {
    if (state_ == State::done || state_ == State::failed) return;
    if (state_ == State::body_to_close) {
      state_ = State::done;
      return;
    }
    fail(0, "HTTP/1.1: connection closed before the response was complete");
  }

  bool done() const noexcept { return state_ == State::done; }
  bool failed() const noexcept { return state_ == State::failed; }
  /// Some bytes of this response were consumed (tells "closed before answering").
  bool started() const noexcept { return started_; }
  /// The body runs to the connection's close: the caller must call feed_eof() then.
  bool reads_to_close() const noexcept { return state_ == State::body_to_close; }
  const Error& error() const noexcept { return error_; }
  const Http1Response& response() const& noexcept { return response_; }
  Http1Response&& response() && noexcept { return std::move(response_); }

 private:
  enum class State { status_line, header, body_length, body_to_close, chunk_size, chunk_data, chunk_end, trailer, done, failed };

  std::size_t fail(std::size_t pos, std::string message) {
    state_ = State::failed;
    error_ = Error{Errc::protocol_error, std::move(message), {}};
    return pos;
  }

  bool in_head() const noexcept { return state_ == State::status_line || state_ == State::header || state_ == State::trailer; }

  /// The most bytes the line being read may have: head lines share the header budget.
  std::size_t line_budget() const noexcept {
    if (in_head()) return head_bytes_ >= limits_.max_header_bytes ? 0 : limits_.max_header_bytes - head_bytes_;
    return 1024;  // a chunk-size line (with extensions) or the CRLF after a chunk
  }
  std::string over_budget_message() const {
    if (in_head()) return "HTTP/1.1: the header section is larger than " + std::to_string(limits_.max_header_bytes) + " bytes";
    return "HTTP/1.1: chunk size line too long";
  }

  void on_line(std::string_view line) {
    switch (state_) {
      case State::status_line: return on_status(line);
      case State::header:
        if (line.empty()) return on_head_end();
        return on_header(line);
      case State::chunk_size: return on_chunk_size(line);
      case State::chunk_end:
        if (!line.empty()) fail(0, "HTTP/1.1: chunk data longer than its size");
        else state_ = State::chunk_size;
        return;
      case State::trailer:
        if (line.empty()) state_ = State::done;
        return;
      default: return;
    }
  }

  void on_status(std::string_view line) {
    // "HTTP/1.1 202 Accepted": version, space, three digits, then a space or the end.
    if (line.size() < 12 || line.substr(0, 5) != "HTTP/" || line[8] != ' ' || (line.size() > 12 && line[12] != ' ')) {
      fail(0, "HTTP/1.1: malformed status line");
      return;
    }
    const long long status = parse_decimal(line.substr(9, 3));
    if (status < 100 || status > 599) {
      fail(0, "HTTP/1.1: malformed status line");
      return;
    }
    response_.status = static_cast<int>(status);
    response_.keep_alive = line.substr(0, 8) != "HTTP/1.0";
    response_.headers.clear();
    state_ = State::header;
  }

  void on_header(std::string_view line) {
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0 || is_blank(line[colon - 1]) || is_blank(line[0])) {
      fail(0, "HTTP/1.1: malformed header line");
      return;
    }
    response_.headers.emplace_back(to_lower(line.substr(0, colon)), std::string(trim(line.substr(colon + 1))));
  }

  void on_head_end() {
    if (response_.status < 200) {  // 1xx: informational, the real answer follows
      state_ = State::status_line;
      return;
    }
    if (const std::string_view c = response_.header("connection"); iequals(c, "close")) response_.keep_alive = false;
    else if (iequals(c, "keep-alive")) response_.keep_alive = true;

    if (response_.status == 204 || response_.status == 304) {
      state_ = State::done;
      return;
    }
    const std::string_view te = response_.header("transfer-encoding");
    if (!te.empty() && !iequals(te, "identity")) {
      if (!iequals(te, "chunked")) {
        fail(0, "HTTP/1.1: unsupported transfer-encoding '" + std::string(te) + "'");
        return;
      }
      state_ = State::chunk_size;
      return;
    }
    if (const std::string_view cl = response_.header("content-length"); !cl.empty()) {
      const long long n = parse_decimal(cl);
      if (n < 0) {
        fail(0, "HTTP/1.1: malformed content-length");
        return;
      }
      if (static_cast<unsigned long long>(n) > limits_.max_body_bytes) {
        fail(0, "HTTP/1.1: content-length " + std::to_string(n) + " is larger than " +
                    std::to_string(limits_.max_body_bytes) + " bytes");
        return;
      }
      remaining_ = static_cast<std::size_t>(n);
      state_ = remaining_ == 0 ? State::done : State::body_length;
      return;
    }
    response_.keep_alive = false;  // neither: the body ends when the connection does
    state_ = State::body_to_close;
  }

  void on_chunk_size(std::string_view line) {
    if (const auto semi = line.find(';'); semi != std::string_view::npos) line = line.substr(0, semi);
    const long long n = parse_hex(trim(line));
    if (n < 0) {
      fail(0, "HTTP/1.1: malformed chunk size");
      return;
    }
    if (static_cast<unsigned long long>(n) > limits_.max_body_bytes - response_.body.size()) {
      fail(0, "HTTP/1.1: the body is larger than " + std::to_string(limits_.max_body_bytes) + " bytes");
      return;
    }
    remaining_ = static_cast<std::size_t>(n);
    state_ = remaining_ == 0 ? State::trailer : State::chunk_data;
  }

  Http1Limits limits_;
  State state_ = State::status_line;
  Http1Response response_;
  Error error_;
  std::string line_;             ///< the line being read, without its LF
  std::size_t head_bytes_ = 0;   ///< status line + headers + trailers read so far
  std::size_t remaining_ = 0;    ///< bytes left of the body or of the current chunk
  bool started_ = false;
};

}  // namespace notify::toolkit
