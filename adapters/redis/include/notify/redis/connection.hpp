// SPDX-License-Identifier: MIT
#pragma once

/// A thin connection to one Redis server: options parsed from a URL, pipelines as the
/// only way to talk (one call, one round trip), replies as plain values, every failure
/// as a notify::Error, and reconnection with a capped exponential backoff. hiredis stays
/// in src/. A Connection is not thread-safe: use one per thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "notify/result.hpp"

namespace notify::redis {

/// Where and how to connect. Parsed from a URL by parse_url().
struct Options {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string unix_path;  ///< a unix socket; when set, host and port are unused
  std::string user;       ///< ACL user (Redis 6+); empty means the default user
  std::string password;   ///< sent with AUTH on connect when not empty
  int db = 0;             ///< selected on connect when not 0
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds command_timeout{2000};
  /// After a failed reconnect the next attempt waits reconnect_min, doubling up to reconnect_max.
  std::chrono::milliseconds reconnect_min{100};
  std::chrono::milliseconds reconnect_max{5000};
};

/// Reads `redis://[[user]:password@]host[:port][/db]` or `unix:///path[?db=N]`. User and
/// password may be percent-encoded; an IPv6 host is written in brackets.
Result<Options> parse_url(std::string_view url);

/// The URL of these options without the password, for logs.
std::string describe(const Options& options);

/// How long to wait before reconnect attempt number `failures + 1` (failures >= 1).
std::chrono::milliseconds reconnect_delay(const Options& options, int failures) noexcept;

/// One reply, owned. RESP2 shapes: status and error replies keep their text in `str`.
struct Reply {
  enum class Kind : std::uint8_t { nil, string, status, integer, array, error };
  Kind kind = Kind::nil;
  std::string str;
  long long integer = 0;
  std::vector<Reply> elements;

  bool is_error() const noexcept { return kind == Kind::error; }
  bool is_nil() const noexcept { return kind == Kind::nil; }
};

/// One command as its arguments, binary-safe.
using Command = std::vector<std::string>;

/// Commands written straight into RESP as they are built, for callers that send many at
/// once (a lookup per family, a marker per push): no string per argument, and a key can
/// be given as its prefix and the rest. Scripts go with EVAL here (no NOSCRIPT fallback).
class Batch {
 public:
  /// Starts a command of `args` arguments (its name included); exactly that many arg()
  /// calls must follow.
  Batch& command(std::size_t args);
  /// The next argument: `head` followed by `tail`, binary-safe.
  Batch& arg(std::string_view head, std::string_view tail = {});
  std::size_t size() const noexcept { return commands_; }
  bool empty() const noexcept { return commands_ == 0; }
  /// Every command started has all its arguments.
  bool complete() const noexcept { return args_left_ == 0; }
  /// The RESP text of every command so far.
  std::string_view wire() const noexcept { return wire_; }
  void clear() noexcept;

 private:
  std::string wire_;
  std::size_t commands_ = 0;
  std::size_t args_left_ = 0;
};

/// The one mapping of hiredis failures to notify codes (transient or not). `context_err`
/// is hiredis's connection error (REDIS_ERR_IO, _EOF, _PROTOCOL, _OOM, _OTHER) with the
/// errno seen with it, or 0 for an error reply, whose text ("LOADING ...") is `text`.
Error map_error(int context_err, int sys_errno, std::string_view text);

/// Receives one reply's RESP2 text: the reply's index in its pipeline and the text.
using ReplyText = std::function<void(std::size_t, std::string_view)>;

/// The lower-case hex SHA-1 of `data`, the name Redis gives a script.
std::string sha1_hex(std::string_view data);

/// A Lua script and its SHA-1, for EVALSHA.
struct Script {
  explicit Script(std::string lua) : source(std::move(lua)), sha1(sha1_hex(source)) {}
  std::string source;
  std::string sha1;
};

/// A connection, opened on first use and re-opened after a failure.
class Connection {
 public:
  explicit Connection(Options options);
  ~Connection();
  Connection(Connection&&) noexcept;
  Connection& operator=(Connection&&) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// Writes every command, then reads every reply: one round trip. Error replies come
  /// back in place. A transport failure fails the whole call and closes the connection;
  /// the next call reconnects at once, and after a failed reconnect only once the backoff
  /// has passed (calls before then fail fast with `unavailable`). `extra_timeout` extends
  /// the read timeout for blocking commands. EVALSHA of a script registered with
  /// add_script() falls back to EVAL when the server answers NOSCRIPT.
  Result<std::vector<Reply>> pipeline(std::span<const Command> commands,
                                      std::chrono::milliseconds extra_timeout = std::chrono::milliseconds(0));

  /// The same for commands built in a Batch (which must be complete); `what` names them
  /// in errors.
  Result<std::vector<Reply>> pipeline(const Batch& batch, std::string_view what);

  /// The same, without building Replies: each reply's RESP2 text goes to `on_reply(i,
  /// text)` as soon as it has been read whole, and is valid during that call only. For a
  /// store that reads large replies in place (MemberStore). Error replies come as text too.
  /// `on_reply` must not use this connection. Running out of memory in it fails the call
  /// as reading would (unavailable); any other exception it throws closes the connection
  /// (the replies after it are left unread) and is passed on.
  Result<void> pipeline(const Batch& batch, std::string_view what, const ReplyText& on_reply);

  /// One command; an error reply becomes an Error.
  Result<Reply> command(Command command);

  /// Remembers a script's source for the NOSCRIPT fallback of pipeline().
  void add_script(const Script& script);

  /// Round trips made so far (pipelines written to the server, fallbacks included).
  std::uint64_t round_trips() const noexcept;
  /// Connection attempts made so far, successful or not.
  std::uint64_t connect_attempts() const noexcept;
  /// Connections opened so far: an epoch that changes whenever the connection was
  /// (re-)established, so a caller can tell that replies may have been lost in between.
  std::uint64_t connects() const noexcept;
  /// Opens the connection now unless it is open, with pipeline()'s backoff rules.
  Result<void> connect();
  bool connected() const noexcept;
  /// Closes the connection; the next call reconnects.
  void disconnect() noexcept;
  const Options& options() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The Error of an error reply, with `what` (the operation) in its message.
Error reply_error(const Reply& reply, std::string_view what);
/// The same for an error reply's text (without its '-').
Error reply_error(std::string_view text, std::string_view what);

}  // namespace notify::redis
