// SPDX-License-Identifier: MIT
#include "notify/redis/connection.hpp"

#include <hiredis/hiredis.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <unordered_map>

#include "resp.hpp"

namespace notify::redis {

namespace {

using resp::Scanner;
using resp::build;

using Clock = std::chrono::steady_clock;

Error config_error(std::string message) { return Error{Errc::configuration, "redis: " + std::move(message), {}}; }

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

template <class Int>
bool parse_number(std::string_view s, Int& out) {
  if (!all_digits(s)) return false;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc{} && r.ptr == s.data() + s.size();
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size()) return false;
    const int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return true;
}

// "user:password", ":password" or "user" (which needs a password, so it is refused).
Result<void> parse_userinfo(std::string_view info, Options& o) {
  const auto colon = info.find(':');
  if (colon == std::string_view::npos) return config_error("a user in the URL needs a password (user:password@)");
  if (!percent_decode(info.substr(0, colon), o.user) || !percent_decode(info.substr(colon + 1), o.password))
    return config_error("bad percent-encoding in the URL's credentials");
  return {};
}

Result<void> parse_query(std::string_view query, Options& o) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view item = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (item.substr(0, 3) != "db=") return config_error("unknown URL parameter '" + std::string(item) + "'");
    if (!parse_number(item.substr(3), o.db)) return config_error("db must be a non-negative integer");
  }
  return {};
}

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<decltype(tv.tv_sec)>(ms.count() / 1000);
  tv.tv_usec = static_cast<decltype(tv.tv_usec)>((ms.count() % 1000) * 1000);
  return tv;
}

Errc reply_code(std::string_view text) {
  const std::string_view word = text.substr(0, text.find(' '));
  if (word == "LOADING" || word == "BUSY" || word == "TRYAGAIN" || word == "MASTERDOWN" || word == "READONLY" ||
      word == "CLUSTERDOWN" || word == "MISCONF" || word == "OOM")
    return Errc::unavailable;  // the server is starting, failing over or full: later may work
  // Redis 7 answers an unauthenticated client's long command with "ERR Protocol error:
  // unauthenticated multibulk length" (or "bulk length") and closes the connection.
  if (word == "NOAUTH" || word == "WRONGPASS" || text.find("invalid password") != std::string_view::npos ||
      text.find("Protocol error: unauthenticated") != std::string_view::npos)
    return Errc::unauthenticated;
  if (word == "NOSCRIPT" || word == "NOGROUP") return Errc::not_found;
  if (word == "WRONGTYPE") return Errc::invalid_value;
  if (word == "NOPERM" || text.find("without any password configured") != std::string_view::npos ||
      text.find("DB index is out of range") != std::string_view::npos ||
      text.find("unknown command") != std::string_view::npos)
    return Errc::configuration;
  if (text.find("max number of clients reached") != std::string_view::npos) return Errc::unavailable;
  return Errc::protocol_error;
}

Errc io_code(int sys_errno, std::string_view text) {
  switch (sys_errno) {
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
    case ETIMEDOUT:
    case EINPROGRESS: return Errc::timeout;
    case ECONNREFUSED:
    case ENOENT:  // a unix socket that does not exist (yet)
    case EHOSTUNREACH:
    case ENETUNREACH:
    case EADDRNOTAVAIL: return Errc::unavailable;
    case EACCES: return Errc::configuration;
    default: break;
  }
  if (text.find("timed out") != std::string_view::npos || text.find("temporarily unavailable") != std::string_view::npos)
    return Errc::timeout;
  return Errc::io_error;
}

/// "*3\r\n" or "$12\r\n": a RESP array or bulk string header.
void append_header(std::string& out, char kind, std::size_t n) {
  char digits[24];
  const auto r = std::to_chars(digits, digits + sizeof digits, n);
  out += kind;
  out.append(digits, r.ptr);
  out += "\r\n";
}

}  // namespace

Result<Options> parse_url(std::string_view url) {
  Options o;
  std::string_view rest;
  const bool is_unix = url.substr(0, 7) == "unix://";
  if (is_unix) rest = url.substr(7);
  else if (url.substr(0, 8) == "redis://") rest = url.substr(8);
  else if (url.substr(0, 9) == "rediss://") return config_error("TLS (rediss://) is not supported");
  else return config_error("expected a redis:// or unix:// URL, got '" + std::string(url) + "'");

  const auto qmark = rest.find('?');
  const std::string_view query = qmark == std::string_view::npos ? std::string_view{} : rest.substr(qmark + 1);
  rest = rest.substr(0, qmark);
  if (const auto at = rest.rfind('@'); at != std::string_view::npos && (!is_unix || at < rest.find('/'))) {
    if (auto r = parse_userinfo(rest.substr(0, at), o); !r) return r.error();
    rest.remove_prefix(at + 1);
  }

  if (is_unix) {
    if (rest.empty() || rest[0] != '/') return config_error("a unix:// URL needs an absolute path (unix:///path)");
    o.unix_path = std::string(rest);
  } else {
    const auto slash = rest.find('/');
    std::string_view hostport = rest.substr(0, slash);
    const std::string_view path = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
    std::string_view port;
    bool has_port = false;
    if (!hostport.empty() && hostport[0] == '[') {  // [IPv6]:port
      const auto close = hostport.find(']');
      if (close == std::string_view::npos) return config_error("unclosed '[' in the URL's host");
      o.host = std::string(hostport.substr(1, close - 1));
      const std::string_view after = hostport.substr(close + 1);
      if (!after.empty() && after[0] != ':') return config_error("expected ':' after ']' in the URL");
      has_port = !after.empty();
      if (has_port) port = after.substr(1);
    } else {
      const auto colon = hostport.find(':');
      o.host = std::string(hostport.substr(0, colon));
      has_port = colon != std::string_view::npos;
      if (has_port) port = hostport.substr(colon + 1);
    }
    if (o.host.empty()) return config_error("the URL has no host");
    if (has_port && (!parse_number(port, o.port) || o.port < 1 || o.port > 65535))
      return config_error("the port must be a number from 1 to 65535");
    if (!path.empty() && !parse_number(path, o.db)) return config_error("the URL path must be a database number");
  }
  if (auto r = parse_query(query, o); !r) return r.error();
  return o;
}

std::string describe(const Options& o) {
  std::string out = o.unix_path.empty() ? "redis://" : "unix://";
  if (!o.password.empty()) out += (o.user.empty() ? "" : o.user) + ":***@";
  if (!o.unix_path.empty()) {
    out += o.unix_path;
    if (o.db != 0) out += "?db=" + std::to_string(o.db);
    return out;
  }
  const bool v6 = o.host.find(':') != std::string::npos;
  out += v6 ? "[" + o.host + "]" : o.host;
  out += ':' + std::to_string(o.port);
  if (o.db != 0) out += '/' + std::to_string(o.db);
  return out;
}

std::chrono::milliseconds reconnect_delay(const Options& o, int failures) noexcept {
  const int shift = std::clamp(failures - 1, 0, 30);
  const auto doubled = o.reconnect_min * (std::int64_t{1} << shift);
  return std::min(doubled, std::max(o.reconnect_max, o.reconnect_min));
}

Error map_error(int context_err, int sys_errno, std::string_view text) {
  Errc code = Errc::protocol_error;
  switch (context_err) {
    case 0: code = reply_code(text); break;
    case REDIS_ERR_IO: code = io_code(sys_errno, text); break;
    case REDIS_ERR_EOF: code = Errc::io_error; break;  // the server closed the connection
    case REDIS_ERR_PROTOCOL: code = Errc::protocol_error; break;
    case REDIS_ERR_OOM: code = Errc::unavailable; break;
    case 6: code = Errc::timeout; break;  // REDIS_ERR_TIMEOUT, hiredis >= 1.0
    default: code = Errc::unavailable; break;  // REDIS_ERR_OTHER: name resolution, socket setup
  }
  return Error{code, "redis: " + std::string(text), {}};
}

Error reply_error(std::string_view text, std::string_view what) {
  Error e = map_error(0, 0, text);
  e.message = "redis: " + std::string(what) + ": " + std::string(text);
  if (e.code == Errc::unauthenticated && !text.starts_with("WRONGPASS")) {
    if (!text.starts_with("NOAUTH")) e.message += " (NOAUTH)";
    e.message += "; the server requires a password (give it in the URL: redis://[USER]:PASSWORD@HOST:PORT)";
  }
  return e;
}

Error reply_error(const Reply& reply, std::string_view what) { return reply_error(std::string_view(reply.str), what); }

std::string sha1_hex(std::string_view data) {
  auto rotl = [](std::uint32_t x, int n) { return (x << n) | (x >> (32 - n)); };
  std::uint32_t h[5] = {0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u};
  std::string msg(data);
  msg += '\x80';
  while (msg.size() % 64 != 56) msg += '\0';
  const std::uint64_t bits = static_cast<std::uint64_t>(data.size()) * 8;
  for (int i = 7; i >= 0; --i) msg += static_cast<char>((bits >> (i * 8)) & 0xFF);

  for (std::size_t block = 0; block < msg.size(); block += 64) {
    std::uint32_t w[80];
    for (std::size_t i = 0; i < 16; ++i) {
      w[i] = 0;
      for (std::size_t b = 0; b < 4; ++b) w[i] = (w[i] << 8) | static_cast<unsigned char>(msg[block + 4 * i + b]);
    }
    for (std::size_t i = 16; i < 80; ++i) w[i] = rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    std::uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (std::size_t i = 0; i < 80; ++i) {
      std::uint32_t f = 0, k = 0;
      if (i < 20) f = (b & c) | (~b & d), k = 0x5A827999u;
      else if (i < 40) f = b ^ c ^ d, k = 0x6ED9EBA1u;
      else if (i < 60) f = (b & c) | (b & d) | (c & d), k = 0x8F1BBCDCu;
      else f = b ^ c ^ d, k = 0xCA62C1D6u;
      const std::uint32_t t = rotl(a, 5) + f + e + k + w[i];
      e = d, d = c, c = rotl(b, 30), b = a, a = t;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
  }
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (std::uint32_t v : h)
    for (int shift = 28; shift >= 0; shift -= 4) out += digits[(v >> shift) & 0xF];
  return out;
}

// hiredis opens the connection (TCP or unix, timeouts, keep-alive); the commands and
// replies go through its socket directly. Its reader moved the rest of its buffer down
// after every reply of 1 KiB or more, and copied every read and every write once more:
// for a lookup of a thousand families that was most of the time spent on Redis.
struct Connection::Impl {
  Options opt;
  redisContext* ctx = nullptr;
  std::uint64_t round_trips = 0;
  std::uint64_t attempts = 0;
  std::uint64_t connects = 0;  // successful opens
  int failures = 0;  // consecutive failed connects
  Clock::time_point next_attempt{};
  Error last_error;
  std::unordered_map<std::string, std::string> scripts;  // sha1 -> source
  std::string wire;  // the commands of one exchange in RESP, reused
  std::unique_ptr<char[]> in;  // bytes read (in_len of in_cap); replies are built from in_start on
  std::size_t in_cap = 0, in_len = 0, in_start = 0;
  Scanner scanner;

  ~Impl() { close(); }

  void close() noexcept {
    if (ctx) redisFree(ctx);
    ctx = nullptr;
    reset_input();  // what a closed connection had sent answers nothing any more
  }

  /// Empties the input; a big reply's room is not kept.
  void reset_input() noexcept {
    in_len = in_start = 0;
    if (in_cap > 256 * 1024) {
      in.reset();
      in_cap = 0;
    }
  }

  /// A failed connect, read or write (`context_err` as hiredis names it): the connection
  /// is closed, and replies may have been lost with it.
  Error io_failure(int context_err, int sys_errno, std::string_view text, std::string_view what) {
    Error e = map_error(context_err, sys_errno, text);
    e.message = "redis: " + std::string(what) + " (" + describe(opt) + "): " + std::string(text);
    close();
    return e;
  }

  // hiredis's own error (connecting), while its context still holds the text.
  Error broken(int sys_errno, std::string_view what) { return io_failure(ctx->err, sys_errno, ctx->errstr, what); }

  Result<void> send_all(std::string_view data, std::string_view what) {
    while (!data.empty()) {
      const ssize_t n = ::send(ctx->fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        const int e = errno;
        return io_failure(REDIS_ERR_IO, e, std::strerror(e), what);
      }
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
  }

  std::string_view received() const noexcept { return {in.get(), in_len}; }

  /// Reads what the server has sent, at least a byte: blocks up to the socket's timeout.
  Result<void> receive(std::string_view what) {
    // Unparsed bytes move to the front once per read (not once per reply), and the room
    // doubles with what is buffered, so a big reply is copied a few times at most.
    if (in_start > 0) {
      std::memmove(in.get(), in.get() + in_start, in_len - in_start);
      in_len -= in_start;
      scanner.at -= in_start;
      in_start = 0;
    }
    const std::size_t room = std::max<std::size_t>(64 * 1024, in_len);
    if (in_cap - in_len < room) {
      auto bigger = std::make_unique_for_overwrite<char[]>(in_len + room);
      if (in_len > 0) std::memcpy(bigger.get(), in.get(), in_len);
      in = std::move(bigger);
      in_cap = in_len + room;
    }
    for (;;) {
      const ssize_t n = ::recv(ctx->fd, in.get() + in_len, in_cap - in_len, 0);
      if (n > 0) {
        in_len += static_cast<std::size_t>(n);
        return {};
      }
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) return io_failure(REDIS_ERR_EOF, 0, "Server closed the connection", what);
      const int e = errno;
      return io_failure(REDIS_ERR_IO, e, std::strerror(e), what);
    }
  }

  Result<std::vector<Reply>> exchange(std::span<const Command> commands, std::chrono::milliseconds extra) {
    // The commands in RESP (arrays of bulk strings), written in one piece.
    wire.clear();
    for (const Command& cmd : commands) {
      NOTIFY_ASSERT(!cmd.empty());
      append_header(wire, '*', cmd.size());
      for (const std::string& arg : cmd) {
        append_header(wire, '$', arg.size());
        wire += arg;
        wire += "\r\n";
      }
    }
    auto replies =
        exchange(wire, commands.size(), [&](std::size_t i) { return std::string_view(commands[i][0]); }, extra, nullptr);
    if (wire.capacity() > 64 * 1024) std::string().swap(wire);  // a big one is not kept
    return replies;
  }

  /// Writes `count` commands in RESP and reads their replies; `name(i)` names command i.
  /// The replies are built, or with `raw` handed to it as text (and none returned). Any
  /// failure, running out of memory included, closes the connection: replies left unread
  /// on it would otherwise answer the next commands.
  template <class Name>
  Result<std::vector<Reply>> exchange(std::string_view resp, std::size_t count, Name&& name,
                                      std::chrono::milliseconds extra, const ReplyText* raw) {
    try {
      return exchange_or_throw(resp, count, name, extra, raw);
    } catch (const std::bad_alloc&) {
      close();
      return Error{Errc::unavailable, "redis: out of memory reading the replies to " + std::string(name(0)), {}};
    } catch (...) {  // from a ReplyText: the replies after it are left unread
      close();
      throw;
    }
  }

  template <class Name>
  Result<std::vector<Reply>> exchange_or_throw(std::string_view resp, std::size_t count, Name& name,
                                               std::chrono::milliseconds extra, const ReplyText* raw) {
    if (extra.count() > 0) redisSetTimeout(ctx, to_timeval(opt.command_timeout + extra));
    if (auto sent = send_all(resp, name(0)); !sent) return sent.error();
    std::vector<Reply> replies;
    if (!raw) replies.reserve(count);
    // A server that refused an unauthenticated client said why before it closed or
    // stopped making sense: that reason, rather than what came after it.
    std::optional<Error> refused;
    for (std::size_t i = 0; i < count; ++i) {
      scanner.reset(in_start);
      for (;;) {
        const auto status = scanner.scan(received());
        if (status == Scanner::Status::complete) break;
        if (status == Scanner::Status::bad) {
          Error e = io_failure(REDIS_ERR_PROTOCOL, 0, scanner.problem, name(i));
          return refused.value_or(std::move(e));
        }
        if (auto r = receive(name(i)); !r) return refused.value_or(r.error());
      }
      const std::string_view text = received().substr(in_start, scanner.at - in_start);
      if (!refused && text[0] == '-') {
        std::size_t at = 0;
        const std::string_view error = resp::next_item(text, at).text;
        if (reply_code(error) == Errc::unauthenticated) refused = reply_error(error, name(i));
      }
      if (raw) {
        in_start = scanner.at;
        (*raw)(i, text);
      } else {
        replies.emplace_back();
        build(received(), in_start, replies.back());
      }
    }
    if (in_start != in_len) {
      // More than was asked for: RESP2 without pub/sub sends nothing unasked, so the
      // connection is out of step. These replies are whole; the next call reconnects.
      close();
      return replies;
    }
    reset_input();
    if (extra.count() > 0) redisSetTimeout(ctx, to_timeval(opt.command_timeout));
    return replies;
  }

  Result<void> open() {
    const timeval tv = to_timeval(opt.connect_timeout);
    errno = 0;
    ctx = opt.unix_path.empty() ? redisConnectWithTimeout(opt.host.c_str(), opt.port, tv)
                                : redisConnectUnixWithTimeout(opt.unix_path.c_str(), tv);
    const int e = errno;
    if (ctx == nullptr) return Error{Errc::unavailable, "redis: cannot allocate a connection", {}};
    if (ctx->err) return broken(e, "cannot connect");
    if (redisSetTimeout(ctx, to_timeval(opt.command_timeout)) != REDIS_OK) return broken(errno, "cannot set timeouts");
    if (opt.unix_path.empty()) redisEnableKeepAlive(ctx);

    std::vector<Command> hello;
    if (!opt.password.empty()) {
      if (opt.user.empty()) hello.push_back({"AUTH", opt.password});
      else hello.push_back({"AUTH", opt.user, opt.password});
    }
    if (opt.db != 0) hello.push_back({"SELECT", std::to_string(opt.db)});
    if (hello.empty()) return {};
    auto replies = exchange(hello, {});
    if (!replies) return replies.error();
    for (std::size_t i = 0; i < replies->size(); ++i)
      if ((*replies)[i].is_error()) {
        close();
        return reply_error((*replies)[i], hello[i][0] + " on " + describe(opt));
      }
    return {};
  }

  Result<void> ensure_connected() {
    if (ctx) return {};
    const auto now = Clock::now();
    if (failures > 0 && now < next_attempt) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(next_attempt - now);
      return Error{last_error.code,
                   last_error.message + " (next reconnect in " + std::to_string(left.count()) + " ms)", {}};
    }
    ++attempts;
    if (auto r = open(); !r) {
      ++failures;
      next_attempt = now + reconnect_delay(opt, failures);
      last_error = r.error();
      return r;
    }
    failures = 0;
    ++connects;
    return {};
  }
};

Connection::Connection(Options options) : impl_(std::make_unique<Impl>()) { impl_->opt = std::move(options); }
Connection::~Connection() = default;
Connection::Connection(Connection&&) noexcept = default;
Connection& Connection::operator=(Connection&&) noexcept = default;

Result<std::vector<Reply>> Connection::pipeline(std::span<const Command> commands,
                                                std::chrono::milliseconds extra_timeout) {
  NOTIFY_ASSERT(impl_);
  if (commands.empty()) return std::vector<Reply>{};
  if (auto r = impl_->ensure_connected(); !r) return r.error();
  ++impl_->round_trips;
  auto replies = impl_->exchange(commands, extra_timeout);
  if (!replies) return replies;

  // Scripts the server forgot (a restart, SCRIPT FLUSH): send their source once.
  std::vector<Command> again;
  std::vector<std::size_t> where;
  for (std::size_t i = 0; i < commands.size(); ++i) {
    const Reply& r = (*replies)[i];
    if (commands[i][0] != "EVALSHA" || commands[i].size() < 2 || !r.is_error() || r.str.rfind("NOSCRIPT", 0) != 0)
      continue;
    const auto it = impl_->scripts.find(commands[i][1]);
    if (it == impl_->scripts.end()) continue;
    Command eval = commands[i];
    eval[0] = "EVAL";
    eval[1] = it->second;
    again.push_back(std::move(eval));
    where.push_back(i);
  }
  if (!again.empty()) {
    ++impl_->round_trips;
    auto retried = impl_->exchange(again, extra_timeout);
    if (!retried) return retried.error();
    for (std::size_t k = 0; k < where.size(); ++k) (*replies)[where[k]] = std::move((*retried)[k]);
  }
  return replies;
}

Result<std::vector<Reply>> Connection::pipeline(const Batch& batch, std::string_view what) {
  NOTIFY_ASSERT(impl_ && batch.complete());
  if (batch.empty()) return std::vector<Reply>{};
  if (auto r = impl_->ensure_connected(); !r) return r.error();
  ++impl_->round_trips;
  return impl_->exchange(batch.wire(), batch.size(), [what](std::size_t) { return what; }, std::chrono::milliseconds(0),
                         nullptr);
}

Result<void> Connection::pipeline(const Batch& batch, std::string_view what, const ReplyText& on_reply) {
  NOTIFY_ASSERT(impl_ && batch.complete());
  if (batch.empty()) return {};
  if (auto r = impl_->ensure_connected(); !r) return r.error();
  ++impl_->round_trips;
  auto read = impl_->exchange(batch.wire(), batch.size(), [what](std::size_t) { return what; },
                              std::chrono::milliseconds(0), &on_reply);
  if (!read) return read.error();
  return {};
}

Batch& Batch::command(std::size_t args) {
  NOTIFY_ASSERT(args > 0 && args_left_ == 0);
  append_header(wire_, '*', args);
  ++commands_;
  args_left_ = args;
  return *this;
}

Batch& Batch::arg(std::string_view head, std::string_view tail) {
  NOTIFY_ASSERT(args_left_ > 0);
  // Written in place after one resize: this runs once per key of a lookup or a marker.
  char digits[24];
  const std::size_t n = head.size() + tail.size();
  const std::size_t len = static_cast<std::size_t>(std::to_chars(digits, digits + sizeof digits, n).ptr - digits);
  const std::size_t at = wire_.size();
  if (wire_.capacity() < at + len + n + 5) wire_.reserve(std::max(2 * wire_.capacity(), at + len + n + 5));
  wire_.resize(at + len + n + 5);
  char* out = wire_.data() + at;
  *out++ = '$';
  out = std::copy_n(digits, len, out);
  *out++ = '\r';
  *out++ = '\n';
  out = std::copy_n(head.data(), head.size(), out);
  out = std::copy_n(tail.data(), tail.size(), out);
  *out++ = '\r';
  *out = '\n';
  --args_left_;
  return *this;
}

void Batch::clear() noexcept {
  wire_.clear();
  commands_ = args_left_ = 0;
}

Result<Reply> Connection::command(Command command) {
  auto replies = pipeline(std::span<const Command>(&command, 1));
  if (!replies) return replies.error();
  Reply& r = replies->front();
  if (r.is_error()) return reply_error(r, command[0]);
  return std::move(r);
}

void Connection::add_script(const Script& script) { impl_->scripts.emplace(script.sha1, script.source); }
std::uint64_t Connection::round_trips() const noexcept { return impl_->round_trips; }
std::uint64_t Connection::connect_attempts() const noexcept { return impl_->attempts; }
std::uint64_t Connection::connects() const noexcept { return impl_->connects; }
Result<void> Connection::connect() { return impl_->ensure_connected(); }
bool Connection::connected() const noexcept { return impl_->ctx != nullptr; }
void Connection::disconnect() noexcept {
  impl_->close();
  impl_->failures = 0;
}
const Options& Connection::options() const noexcept { return impl_->opt; }

}  // namespace notify::redis
