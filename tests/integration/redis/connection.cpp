// SPDX-License-Identifier: MIT
#include <arpa/inet.h>
#include <hiredis/read.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <limits>
#include <stdexcept>
#include <thread>
#include <vector>

#include "helpers.hpp"

using namespace notify;
using namespace std::chrono_literals;
using notify::test::RedisServer;

TEST_CASE("a Redis URL is read into connection options") {
  struct Row {
    const char* url;
    const char* host;
    int port;
    int db;
    const char* user;
    const char* password;
    const char* unix_path;
  };
  const Row rows[] = {
      {"redis://127.0.0.1:6380/2", "127.0.0.1", 6380, 2, "", "", ""},
      {"redis://localhost", "localhost", 6379, 0, "", "", ""},
      {"redis://cache:7000/", "cache", 7000, 0, "", "", ""},
      {"redis://:s3cret@h:1", "h", 1, 0, "", "s3cret", ""},
      {"redis://alice:p%40ss%3A@h:1/0", "h", 1, 0, "alice", "p@ss:", ""},
      {"redis://[::1]:7000", "::1", 7000, 0, "", "", ""},
      {"redis://[::1]/1", "::1", 6379, 1, "", "", ""},
      {"redis://h:1?db=4", "h", 1, 4, "", "", ""},
      {"unix:///tmp/r.sock?db=3", "127.0.0.1", 6379, 3, "", "", "/tmp/r.sock"},
      {"unix://:pw@/var/run/redis.sock", "127.0.0.1", 6379, 0, "", "pw", "/var/run/redis.sock"},
  };
  for (const Row& row : rows) {
    CAPTURE(row.url);
    auto o = redis::parse_url(row.url);
    REQUIRE(o.has_value());
    CHECK(o->host == row.host);
    CHECK(o->port == row.port);
    CHECK(o->db == row.db);
    CHECK(o->user == row.user);
    CHECK(o->password == row.password);
    CHECK(o->unix_path == row.unix_path);
  }
}

TEST_CASE("a bad Redis URL is a configuration error naming the problem") {
  const char* bad[] = {"http://h:1",        "rediss://h:1",    "redis://h:0",      "redis://h:70000", "redis://h:",
                       "redis://h:abc",     "redis://h/x",     "redis://alice@h",  "redis://h?foo=1", "unix://relative",
                       "redis://",          "redis://:p%zz@h", "redis://[::1",     "redis://h:1/-1",  "redis://[::1]x",
                       "redis://[::1]:",   ""};
  for (const char* url : bad) {
    CAPTURE(url);
    auto o = redis::parse_url(url);
    REQUIRE_FALSE(o.has_value());
    CHECK(o.error().code == Errc::configuration);
    CHECK_FALSE(o.error().message.empty());
  }
}

TEST_CASE("describe() shows where a connection goes without its password") {
  auto o = redis::parse_url("redis://alice:topsecret@h:1/2");
  REQUIRE(o.has_value());
  CHECK(redis::describe(*o) == "redis://alice:***@h:1/2");
  CHECK(redis::describe(*redis::parse_url("unix:///tmp/r.sock?db=1")) == "unix:///tmp/r.sock?db=1");
}

TEST_CASE("a queue URL names the stream in its path") {
  auto q = redis::parse_queue_url("redis://:pw@h:7000/requests?db=3");
  REQUIRE(q.has_value());
  CHECK(q->stream == "requests");
  CHECK(q->connection.host == "h");
  CHECK(q->connection.port == 7000);
  CHECK(q->connection.db == 3);
  CHECK(q->connection.password == "pw");
  CHECK(redis::parse_queue_url("redis://h:7000").error().code == Errc::configuration);
  CHECK(redis::parse_queue_url("sqs://h/q").error().code == Errc::configuration);
}

TEST_CASE("hiredis failures map to notify codes, transient or not") {
  struct Row {
    int context_err;
    int sys_errno;
    const char* text;
    Errc code;
  };
  const Row rows[] = {
      // The connection failed (hiredis context errors).
      {REDIS_ERR_IO, ECONNREFUSED, "Connection refused", Errc::unavailable},
      {REDIS_ERR_IO, ENOENT, "No such file or directory", Errc::unavailable},
      {REDIS_ERR_IO, EHOSTUNREACH, "No route to host", Errc::unavailable},
      {REDIS_ERR_IO, EAGAIN, "Resource temporarily unavailable", Errc::timeout},
      {REDIS_ERR_IO, ETIMEDOUT, "Connection timed out", Errc::timeout},
      {REDIS_ERR_IO, 0, "Resource temporarily unavailable", Errc::timeout},
      {REDIS_ERR_IO, ECONNRESET, "Connection reset by peer", Errc::io_error},
      {REDIS_ERR_IO, EPIPE, "Broken pipe", Errc::io_error},
      {REDIS_ERR_IO, EACCES, "Permission denied", Errc::configuration},
      {REDIS_ERR_EOF, 0, "Server closed the connection", Errc::io_error},
      {REDIS_ERR_PROTOCOL, 0, "Protocol error, got \"H\" as reply type byte", Errc::protocol_error},
      {REDIS_ERR_OOM, 0, "Out of memory", Errc::unavailable},
      {REDIS_ERR_OTHER, 0, "Name or service not known", Errc::unavailable},
      // The server answered with an error reply.
      {0, 0, "LOADING Redis is loading the dataset in memory", Errc::unavailable},
      {0, 0, "BUSY Redis is busy running a script.", Errc::unavailable},
      {0, 0, "READONLY You can't write against a read only replica.", Errc::unavailable},
      {0, 0, "MASTERDOWN Link with MASTER is down", Errc::unavailable},
      {0, 0, "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist", Errc::unavailable},
      {0, 0, "OOM command not allowed when used memory > 'maxmemory'.", Errc::unavailable},
      {0, 0, "TRYAGAIN Multiple keys request during rehashing of slot", Errc::unavailable},
      {0, 0, "ERR max number of clients reached", Errc::unavailable},
      {0, 0, "NOAUTH Authentication required.", Errc::unauthenticated},
      {0, 0, "WRONGPASS invalid username-password pair or user is disabled.", Errc::unauthenticated},
      {0, 0, "ERR invalid password", Errc::unauthenticated},
      // Redis 7 to a client without AUTH sending a long command (then it closes the link).
      {0, 0, "ERR Protocol error: unauthenticated multibulk length", Errc::unauthenticated},
      {0, 0, "ERR Protocol error: unauthenticated bulk length", Errc::unauthenticated},
      {0, 0, "ERR AUTH <password> called without any password configured for the default user.", Errc::configuration},
      {0, 0, "NOPERM this user has no permissions to run the 'xadd' command", Errc::configuration},
      {0, 0, "ERR DB index is out of range", Errc::configuration},
      {0, 0, "ERR unknown command 'XAUTOCLAIM', with args beginning with: ", Errc::configuration},
      {0, 0, "NOSCRIPT No matching script. Please use EVAL.", Errc::not_found},
      {0, 0, "NOGROUP No such key 's' or consumer group 'g' in XREADGROUP with GROUP option", Errc::not_found},
      {0, 0, "WRONGTYPE Operation against a key holding the wrong kind of value", Errc::invalid_value},
      {0, 0, "ERR syntax error", Errc::protocol_error},
  };
  for (const Row& row : rows) {
    CAPTURE(row.text);
    const Error e = redis::map_error(row.context_err, row.sys_errno, row.text);
    CHECK(e.code == row.code);
    CHECK(e.message.find(row.text) != std::string::npos);
  }
  // Transient exactly when waiting may help.
  CHECK(is_transient(redis::map_error(REDIS_ERR_EOF, 0, "").code));
  CHECK(is_transient(redis::map_error(0, 0, "LOADING").code));
  CHECK_FALSE(is_transient(redis::map_error(0, 0, "WRONGPASS x").code));
  CHECK_FALSE(is_transient(redis::map_error(0, 0, "ERR syntax error").code));
}

TEST_CASE("the reconnect delay doubles from reconnect_min up to reconnect_max") {
  redis::Options o;
  o.reconnect_min = 100ms;
  o.reconnect_max = 1000ms;
  const std::pair<int, std::chrono::milliseconds> rows[] = {{1, 100ms}, {2, 200ms}, {3, 400ms}, {4, 800ms},
                                                            {5, 1000ms}, {60, 1000ms}};
  for (const auto& [failures, delay] : rows) {
    CAPTURE(failures);
    CHECK(redis::reconnect_delay(o, failures) == delay);
  }
}

TEST_CASE("SHA-1 names scripts as Redis does") {
  CHECK(redis::sha1_hex("") == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  CHECK(redis::sha1_hex("abc") == "a9993e364706816aba3e25717850c26c9cd0d89d");
  CHECK(redis::sha1_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  CHECK(redis::sha1_hex(std::string(1000000, 'a')) == "34aa973cd4c4daa4f61eeb2bdbad27316534016f");

  RedisServer server;
  redis::Connection c(notify::test::options_for(server));
  const std::string lua = "return {KEYS[1], ARGV[1]} -- \xea\xb0\x80";
  auto r = c.command({"SCRIPT", "LOAD", lua});
  REQUIRE(r.has_value());
  CHECK(r->str == redis::sha1_hex(lua));
}

TEST_CASE("a pipeline of several commands is one round trip and keeps reply order") {
  RedisServer server;
  redis::Connection c(notify::test::options_for(server));
  const std::vector<redis::Command> cmds = {{"SET", "k", "v"}, {"GET", "k"}, {"INCR", "k"}, {"GET", "missing"}};
  auto r = c.pipeline(cmds);
  REQUIRE(r.has_value());
  REQUIRE(r->size() == 4);
  CHECK((*r)[0].kind == redis::Reply::Kind::status);
  CHECK((*r)[1].str == "v");
  CHECK((*r)[2].is_error());  // an error reply stays in place
  CHECK((*r)[3].is_nil());
  CHECK(c.round_trips() == 1);
  auto err = c.command({"INCR", "k"});
  REQUIRE_FALSE(err.has_value());
  CHECK(err.error().code == Errc::protocol_error);
  CHECK(c.round_trips() == 2);
}

TEST_CASE("a Batch sends commands built argument by argument, keys as prefix and rest, in one round trip") {
  RedisServer server;
  redis::Connection c(notify::test::options_for(server));
  redis::Batch b;
  b.command(3).arg("SET").arg("pre:", std::string("k\0\r\n", 4)).arg("v1");
  b.command(2).arg("GET").arg("pre:k", std::string("\0\r\n", 3));
  b.command(2).arg("GET").arg("pre:missing");
  b.command(2).arg("INCR").arg("pre:", std::string("k\0\r\n", 4));
  CHECK(b.size() == 4);
  CHECK(b.complete());
  auto r = c.pipeline(b, "test");
  REQUIRE(r.has_value());
  REQUIRE(r->size() == 4);
  CHECK((*r)[0].str == "OK");
  CHECK((*r)[1].str == "v1");
  CHECK((*r)[2].is_nil());
  CHECK((*r)[3].is_error());
  CHECK(c.round_trips() == 1);
  b.clear();
  CHECK(b.empty());
  b.command(2).arg("GET");
  CHECK_FALSE(b.complete());
}

TEST_CASE("a unix socket URL with ?db= connects and selects that database") {
  RedisServer server;
  auto o = redis::parse_url("unix://" + server.unix_path() + "?db=2");
  REQUIRE(o.has_value());
  redis::Connection over_unix(*o);
  REQUIRE(over_unix.command({"SET", "where", "db2"}).has_value());

  auto tcp = notify::test::options_for(server);
  tcp.db = 2;
  redis::Connection db2(tcp);
  CHECK(db2.command({"GET", "where"})->str == "db2");
  redis::Connection db0(notify::test::options_for(server));
  CHECK(db0.command({"GET", "where"})->is_nil());
}

TEST_CASE("a password and an ACL user authenticate, wrong credentials are refused and not transient") {
  RedisServer server({.persistent = false, .password = "s3cret", .args = {}});
  auto o = notify::test::options_for(server);

  redis::Connection anonymous(o);
  auto r = anonymous.command({"PING"});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == Errc::unauthenticated);

  o.password = "wrong";
  redis::Connection wrong(o);
  r = wrong.command({"PING"});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == Errc::unauthenticated);
  CHECK_FALSE(is_transient(r.error().code));
  CHECK(r.error().message.find("wrong") == std::string::npos);  // the password never shows

  o.password = "s3cret";
  redis::Connection admin(o);
  REQUIRE(admin.command({"PING"}).has_value());
  REQUIRE(admin.command({"ACL", "SETUSER", "alice", "on", ">wonderland", "~*", "&*", "+@all"}).has_value());

  auto alice = redis::parse_url("redis://alice:wonderland@127.0.0.1:" + std::to_string(server.port()));
  REQUIRE(alice.has_value());
  redis::Connection as_alice(*alice);
  auto who = as_alice.command({"ACL", "WHOAMI"});
  REQUIRE(who.has_value());
  CHECK(who->str == "alice");

  alice->password = "rabbit";
  redis::Connection not_alice(*alice);
  r = not_alice.command({"PING"});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == Errc::unauthenticated);
}

TEST_CASE("a refused connection is unavailable, and the next attempt waits for the backoff") {
  int port = 0;
  {
    RedisServer gone;  // a port that was just free
    port = gone.port();
  }
  redis::Options o;
  o.port = port;
  o.reconnect_min = std::chrono::hours(1);
  redis::Connection c(o);
  auto r = c.command({"PING"});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == Errc::unavailable);
  CHECK(c.connect_attempts() == 1);

  r = c.command({"PING"});  // within the backoff: fails fast, same code, no new attempt
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == Errc::unavailable);
  CHECK(r.error().message.find("next reconnect in") != std::string::npos);
  CHECK(c.connect_attempts() == 1);

  o.reconnect_min = 0ms;
  o.reconnect_max = 0ms;
  redis::Connection eager(o);
  for (int i = 0; i < 3; ++i) CHECK_FALSE(eager.command({"PING"}).has_value());
  CHECK(eager.connect_attempts() == 3);
}

namespace {

/// A socket listening on a free loopback port; `addr` says where.
int loopback_listener(int backlog, sockaddr_in& addr) {
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  addr = sockaddr_in{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(listener, backlog) == 0);
  REQUIRE(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  return listener;
}

}  // namespace

TEST_CASE("a connect that gets no answer fails with timeout") {
  // A listening socket whose accept queue is full drops new SYNs: connect hangs.
  sockaddr_in addr{};
  const int listener = loopback_listener(0, addr);
  const int filler = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(::connect(filler, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);

  redis::Options o;
  o.port = ntohs(addr.sin_port);
  o.connect_timeout = 200ms;
  redis::Connection c(o);
  auto r = c.command({"PING"});
  ::close(filler);
  ::close(listener);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == Errc::timeout);
  CHECK(is_transient(r.error().code));
}

TEST_CASE("a command that outlasts the command timeout fails with timeout, and the next one works") {
  RedisServer server;
  auto o = notify::test::options_for(server);
  o.command_timeout = 200ms;
  redis::Connection c(o);
  auto r = c.command({"BLPOP", "nothing-here", "2"});  // the server answers after 2 s
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == Errc::timeout);
  CHECK_FALSE(c.connected());

  auto pong = c.command({"PING"});  // a fresh connection: no late BLPOP reply in the way
  REQUIRE(pong.has_value());
  CHECK(pong->str == "PONG");
  CHECK(c.connect_attempts() == 2);
}

TEST_CASE("a blocking command may wait longer than the command timeout when asked to") {
  RedisServer server;
  auto o = notify::test::options_for(server);
  o.command_timeout = 200ms;
  redis::Connection c(o);
  const redis::Command blpop = {"BLPOP", "nothing-here", "0.5"};
  auto r = c.pipeline(std::span(&blpop, 1), 1000ms);
  REQUIRE(r.has_value());
  CHECK(r->front().is_nil());
  CHECK(c.connected());
}

TEST_CASE("EVALSHA falls back to EVAL when the server has forgotten the script") {
  RedisServer server;
  redis::Connection c(notify::test::options_for(server));
  const redis::Script script("return ARGV[1] .. '!'");
  c.add_script(script);
  const redis::Command call = {"EVALSHA", script.sha1, "0", "hi"};

  auto r = c.pipeline(std::span(&call, 1));
  REQUIRE(r.has_value());
  CHECK(r->front().str == "hi!");
  CHECK(c.round_trips() == 2);  // NOSCRIPT, then EVAL

  r = c.pipeline(std::span(&call, 1));
  CHECK(r->front().str == "hi!");
  CHECK(c.round_trips() == 3);  // EVAL cached it

  REQUIRE(c.command({"SCRIPT", "FLUSH"}).has_value());
  r = c.pipeline(std::span(&call, 1));
  CHECK(r->front().str == "hi!");
  CHECK(c.round_trips() == 6);

  const redis::Command unknown = {"EVALSHA", std::string(40, '0'), "0"};
  auto u = c.pipeline(std::span(&unknown, 1));
  REQUIRE(u.has_value());
  CHECK(u->front().is_error());  // not registered: the NOSCRIPT error comes back as is
}

TEST_CASE("a server killed and restarted: transient errors meanwhile, then the connection recovers") {
  RedisServer server({.persistent = true, .password = {}, .args = {}});
  redis::Connection c(notify::test::options_for(server));
  CHECK(c.connects() == 0);
  REQUIRE(c.command({"SET", "survives", "yes"}).has_value());
  CHECK(c.connects() == 1);

  server.kill();
  for (int i = 0; i < 3; ++i) {
    auto r = c.command({"GET", "survives"});
    REQUIRE_FALSE(r.has_value());
    CAPTURE(r.error().message);
    CHECK(is_transient(r.error().code));
  }
  CHECK(c.connects() == 1);  // failed attempts do not count
  server.start();
  Result<redis::Reply> r = Error{};
  for (int i = 0; i < 200 && !r.has_value(); ++i) {
    r = c.command({"GET", "survives"});
    if (!r) std::this_thread::sleep_for(20ms);
  }
  REQUIRE(r.has_value());
  CHECK(r->str == "yes");
  CHECK(c.connects() == 2);  // the epoch a queue compares to hand out its own pending entries again
  REQUIRE(c.connect().has_value());  // already open: nothing to do
  CHECK(c.connects() == 2);
  c.disconnect();
  REQUIRE(c.connect().has_value());
  CHECK(c.connects() == 3);
}

namespace {

/// A server that reads whatever comes, then answers with `script` cut into pieces of
/// `piece` bytes, each written on its own (TCP_NODELAY): the client reads replies split
/// anywhere, in headers, in bulk strings, between the elements of nested arrays.
class ScriptedServer {
 public:
  ScriptedServer(std::string script, std::size_t piece, bool close_after = false)
      : ScriptedServer(cut(script, piece), close_after) {}

  /// The answer in these pieces, each written on its own 20 ms after the one before.
  explicit ScriptedServer(std::vector<std::string> pieces, bool close_after = false) {
    sockaddr_in addr{};
    listener_ = loopback_listener(1, addr);
    port_ = ntohs(addr.sin_port);
    const auto pause = pieces.size() > 100 ? 1ms : 20ms;  // so the pieces arrive in separate reads
    thread_ = std::thread([this, pieces = std::move(pieces), pause, close_after] {
      const int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) return;
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      char buf[4096];
      if (::recv(fd, buf, sizeof buf, 0) > 0) {
        for (const std::string& part : pieces) {
          if (::send(fd, part.data(), part.size(), MSG_NOSIGNAL) < 0) break;
          std::this_thread::sleep_for(pause);
        }
        if (!close_after) {
          while (::recv(fd, buf, sizeof buf, 0) > 0) {
          }
        }
      }
      ::close(fd);
    });
  }
  ~ScriptedServer() {
    ::shutdown(listener_, SHUT_RDWR);
    thread_.join();
    ::close(listener_);
  }
  redis::Options options() const {
    redis::Options o;
    o.port = port_;
    return o;
  }

 private:
  static std::vector<std::string> cut(const std::string& script, std::size_t piece) {
    std::vector<std::string> pieces;
    for (std::size_t at = 0; at < script.size(); at += piece) pieces.push_back(script.substr(at, piece));
    return pieces;
  }

  int listener_ = -1;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace

TEST_CASE("replies split anywhere across reads are read whole, of every RESP2 shape") {
  const std::string big(100000, 'x');
  const std::string shapes =
      "+OK\r\n-ERR no such thing\r\n:-42\r\n$-1\r\n*-1\r\n$0\r\n\r\n"
      "*3\r\n*2\r\n$3\r\na\nb\r\n$4\r\n\r\n\r\n\r\n*0\r\n:7\r\n:-9223372036854775808\r\n";
  const std::string script = shapes + "$" + std::to_string(big.size()) + "\r\n" + big + "\r\n";
  // Byte by byte and in threes for the short replies; the long one in pieces of 4 kB
  // and whole (a 100 kB value written a byte at a time takes long).
  for (const std::size_t piece : {std::size_t{1}, std::size_t{3}, std::size_t{4096}, script.size()}) {
    CAPTURE(piece);
    const bool with_big = piece > 3;
    ScriptedServer server(with_big ? script : shapes, piece);
    redis::Connection c(server.options());
    auto r = c.pipeline(std::vector<redis::Command>(with_big ? 9 : 8, redis::Command{"PING"}));
    REQUIRE(r.has_value());
    const auto& v = *r;
    REQUIRE(v.size() == (with_big ? 9u : 8u));
    CHECK((v[0].kind == redis::Reply::Kind::status && v[0].str == "OK"));
    CHECK((v[1].is_error() && v[1].str == "ERR no such thing"));
    CHECK((v[2].kind == redis::Reply::Kind::integer && v[2].integer == -42));
    CHECK(v[3].is_nil());
    CHECK(v[4].is_nil());  // a nil array, as hiredis read it
    CHECK((v[5].kind == redis::Reply::Kind::string && v[5].str.empty()));
    REQUIRE(v[6].kind == redis::Reply::Kind::array);
    REQUIRE(v[6].elements.size() == 3);
    REQUIRE(v[6].elements[0].elements.size() == 2);
    CHECK(v[6].elements[0].elements[0].str == "a\nb");
    CHECK(v[6].elements[0].elements[1].str == "\r\n\r\n");  // binary-safe: CRLF inside a value
    CHECK((v[6].elements[1].kind == redis::Reply::Kind::array && v[6].elements[1].elements.empty()));
    CHECK(v[6].elements[2].integer == 7);
    CHECK(v[7].integer == std::numeric_limits<std::int64_t>::min());
    if (with_big) CHECK(v[8].str == big);
    CHECK(c.connected());
  }
}

TEST_CASE("a read that ends inside an array, after a whole reply, goes on where it stopped") {
  // The first read brings reply 1 and the first element of reply 2: the rest of the
  // buffer moves to the front before the next read while the scanner is inside reply 2.
  ScriptedServer server(std::vector<std::string>{"+OK\r\n*3\r\n$1\r\na\r\n", "*1\r\n:5\r\n$", "1\r\nb\r\n:9\r\n"});
  redis::Connection c(server.options());
  auto r = c.pipeline(std::vector<redis::Command>(3, redis::Command{"PING"}));
  REQUIRE(r.has_value());
  REQUIRE(r->size() == 3);
  CHECK((*r)[0].str == "OK");
  REQUIRE((*r)[1].elements.size() == 3);
  CHECK((*r)[1].elements[0].str == "a");
  CHECK((*r)[1].elements[1].elements.at(0).integer == 5);
  CHECK((*r)[1].elements[2].str == "b");
  CHECK((*r)[2].integer == 9);
  CHECK(c.connected());
}

TEST_CASE("a server that answers more than it was asked is out of step: the replies asked for, then a new connection") {
  ScriptedServer server("+OK\r\n+UNASKED\r\n", 4096);
  redis::Connection c(server.options());
  auto r = c.command({"PING"});
  REQUIRE(r.has_value());
  CHECK(r->str == "OK");
  CHECK_FALSE(c.connected());
}

TEST_CASE("a reply the client cannot read is a protocol error, and one cut short an I/O error") {
  {
    ScriptedServer server("+OK\r\nHTTP/1.1 400 Bad Request\r\n\r\n", 4096);
    redis::Connection c(server.options());
    auto r = c.pipeline(std::vector<redis::Command>(2, redis::Command{"PING"}));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == Errc::protocol_error);
    CHECK(r.error().message.find("got \"H\" as reply type byte") != std::string::npos);
    CHECK_FALSE(c.connected());
  }
  {
    ScriptedServer server("$10\r\nabc", 4096, true);
    redis::Connection c(server.options());
    auto r = c.command({"GET", "k"});
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == Errc::io_error);
    CHECK(r.error().message.find("Server closed the connection") != std::string::npos);
    CHECK_FALSE(c.connected());
  }
  {
    ScriptedServer server("$3\r\nabcd\r\n", 4096);  // the length does not fit the value
    redis::Connection c(server.options());
    auto r = c.command({"GET", "k"});
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == Errc::protocol_error);
  }
  {
    ScriptedServer server("$536870913\r\n", 4096);  // past Redis's 512 MiB: never waited for
    redis::Connection c(server.options());
    auto r = c.command({"GET", "k"});
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == Errc::protocol_error);
    CHECK(r.error().message.find("512 MiB") != std::string::npos);
  }
  {
    ScriptedServer server(":9223372036854775808\r\n", 4096);  // past 64 bits
    redis::Connection c(server.options());
    auto r = c.command({"INCR", "k"});
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == Errc::protocol_error);
  }
}

TEST_CASE("a Batch's replies read as RESP text in place: each whole, in order, split anywhere across reads") {
  const std::vector<std::string> replies = {"+OK\r\n", "-ERR no such thing\r\n", ":-42\r\n", "$-1\r\n",
                                            "*3\r\n*2\r\n$3\r\na\nb\r\n$4\r\n\r\n\r\n\r\n*0\r\n:7\r\n",
                                            "$" + std::to_string(600) + "\r\n" + std::string(600, 'x') + "\r\n"};
  std::string script;
  for (const std::string& r : replies) script += r;
  for (const std::size_t piece : {std::size_t{1}, std::size_t{7}, script.size()}) {
    CAPTURE(piece);
    ScriptedServer server(script, piece);
    redis::Connection c(server.options());
    redis::Batch b;
    for (std::size_t i = 0; i < replies.size(); ++i) b.command(1).arg("PING");
    std::vector<std::pair<std::size_t, std::string>> seen;
    auto r = c.pipeline(b, "PING", [&](std::size_t i, std::string_view text) { seen.emplace_back(i, text); });
    REQUIRE(r.has_value());
    REQUIRE(seen.size() == replies.size());
    for (std::size_t i = 0; i < replies.size(); ++i) {
      CHECK(seen[i].first == i);
      CHECK(seen[i].second == replies[i]);
    }
    CHECK(c.round_trips() == 1);
    CHECK(c.connected());
  }
}

TEST_CASE("read as text, a NOAUTH reply still explains why the rest made no sense") {
  ScriptedServer server("-NOAUTH Authentication required.\r\nHTTP/1.1 400 Bad Request\r\n\r\n", 4096);
  redis::Connection c(server.options());
  redis::Batch b;
  b.command(1).arg("PING");
  b.command(1).arg("PING");
  std::size_t calls = 0;
  auto r = c.pipeline(b, "PING", [&](std::size_t, std::string_view) { ++calls; });
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == Errc::unauthenticated);
  CHECK(calls == 1);  // the NOAUTH reply itself
  CHECK_FALSE(c.connected());
}

TEST_CASE("a reply handler that throws leaves no reply behind for the next command") {
  RedisServer server;
  redis::Connection c(notify::test::options_for(server));
  redis::Batch b;
  b.command(2).arg("ECHO").arg("a");
  b.command(2).arg("ECHO").arg("b");
  CHECK_THROWS_AS(c.pipeline(b, "ECHO", [](std::size_t, std::string_view) { throw std::runtime_error("handler"); }),
                  std::runtime_error);
  CHECK_FALSE(c.connected());  // "b" was left unread: this connection is out of step
  auto r = c.command({"ECHO", "c"});
  REQUIRE(r.has_value());
  CHECK(r->str == "c");
}
