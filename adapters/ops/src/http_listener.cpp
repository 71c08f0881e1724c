// SPDX-License-Identifier: MIT
#include "notify/ops/http_listener.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

namespace notify::ops {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::uint64_t listen_id = ~std::uint64_t{0};
constexpr std::uint64_t wake_id = ~std::uint64_t{0} - 1;
/// After an answer, at most this much of what the client still sends is read and dropped
/// (so that closing does not reset the connection before the client has read the answer).
constexpr std::size_t linger_discard_bytes = 4 * 1024 * 1024;
/// Connections accepted per run_once() at most, so a flood cannot starve the others.
constexpr int accepts_per_round = 1024;
constexpr auto accept_pause = std::chrono::milliseconds(100);

Error config_error(std::string message) { return Error{Errc::configuration, std::move(message), {}}; }

std::string errno_text(int e) { return std::strerror(e); }

/// Splits "HOST:PORT" / "[V6]:PORT" / ":PORT".
bool split_host_port(std::string_view spec, std::string& host, std::string& port) {
  const std::size_t colon = spec.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string_view h = spec.substr(0, colon);
  const std::string_view p = spec.substr(colon + 1);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  else if (h.find(':') != std::string_view::npos) return false;  // a bare IPv6 address needs brackets
  if (p.empty() || p.size() > 5 || !std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  if (std::stoul(std::string(p)) > 65535) return false;
  host = h.empty() || h == "*" ? "0.0.0.0" : std::string(h);
  port = std::string(p);
  return true;
}

bool has_crlf(std::string_view s) noexcept { return s.find_first_of("\r\n") != std::string_view::npos; }

}  // namespace

std::string_view reason_phrase(int status) noexcept {
  switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "";
  }
}

struct HttpListener::Impl {
  enum class State { free, reading, writing, lingering };

  struct Conn {
    int fd = -1;
    std::uint32_t generation = 0;
    State state = State::free;
    HttpRequestParser parser{0};  // replaced on accept
    std::string out;
    std::size_t out_pos = 0;
    std::size_t discarded = 0;
    Clock::time_point since;     // accepted at: the eviction order
    Clock::time_point deadline;  // of the current state
  };

  HttpListenerOptions opt;
  HttpHandler handler;
  int listen_fd = -1;
  int epoll_fd = -1;
  int wake_fd = -1;
  std::uint16_t bound_port = 0;
  std::string bound_address;
  std::vector<Conn> conns;          // max_connections slots, allocated once
  std::vector<std::size_t> free_slots;
  Clock::time_point accept_paused_until{};
  bool accept_paused = false;
  std::thread thread;
  std::atomic<bool> stopping{false};

  std::atomic<std::uint64_t> accepted{0}, served{0}, rejected{0}, evicted{0}, refused{0}, timed_out{0};
  std::atomic<std::size_t> open_count{0}, peak{0};

  ~Impl() {
    stop();
    for (Conn& c : conns)
      if (c.fd >= 0) ::close(c.fd);
    for (int fd : {listen_fd, epoll_fd, wake_fd})
      if (fd >= 0) ::close(fd);
  }

  void stop() {
    if (!thread.joinable()) return;
    stopping.store(true);
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto n = ::write(wake_fd, &one, sizeof one);
    thread.join();
    stopping.store(false);
  }

  Result<void> bind_and_listen() {
    std::string host, port;
    if (!split_host_port(opt.listen, host, port))
      return config_error("listen address '" + opt.listen + "': expected HOST:PORT (IPv6 in brackets)");
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    if (const int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0)
      return config_error("listen address '" + opt.listen + "': " + ::gai_strerror(rc));
    std::string last_error = "no address";
    for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
      const int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
      if (fd < 0) {
        last_error = errno_text(errno);
        continue;
      }
      const int on = 1;
      ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
      if (::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(fd, SOMAXCONN) != 0) {
        last_error = errno_text(errno);
        ::close(fd);
        continue;
      }
      listen_fd = fd;
      break;
    }
    ::freeaddrinfo(found);
    if (listen_fd < 0) return config_error("cannot listen on '" + opt.listen + "': " + last_error);

    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    ::getsockname(listen_fd, reinterpret_cast<sockaddr*>(&ss), &len);
    char text[INET6_ADDRSTRLEN] = {};
    if (ss.ss_family == AF_INET6) {
      const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
      bound_port = ntohs(a->sin6_port);
      ::inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
      bound_address = "[" + std::string(text) + "]:" + std::to_string(bound_port);
    } else {
      const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
      bound_port = ntohs(a->sin_port);
      ::inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
      bound_address = std::string(text) + ":" + std::to_string(bound_port);
    }

    epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
    wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (epoll_fd < 0 || wake_fd < 0) return config_error("epoll/eventfd: " + errno_text(errno));
    if (!watch(listen_fd, EPOLLIN, listen_id, EPOLL_CTL_ADD) || !watch(wake_fd, EPOLLIN, wake_id, EPOLL_CTL_ADD))
      return config_error("epoll_ctl: " + errno_text(errno));

    conns.resize(opt.max_connections);
    free_slots.reserve(opt.max_connections);
    for (std::size_t i = opt.max_connections; i-- > 0;) free_slots.push_back(i);
    return {};
  }

  bool watch(int fd, std::uint32_t events, std::uint64_t id, int op) const {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = id;
    return ::epoll_ctl(epoll_fd, op, fd, &ev) == 0;
  }

  static std::uint64_t id_of(std::size_t slot, const Conn& c) {
    return (std::uint64_t{c.generation} << 32) | static_cast<std::uint32_t>(slot);
  }

  // ---- the loop ------------------------------------------------------------------------

  Clock::time_point next_deadline() const {
    Clock::time_point next = Clock::time_point::max();
    for (const Conn& c : conns)
      if (c.state != State::free) next = std::min(next, c.deadline);
    if (accept_paused) next = std::min(next, accept_paused_until);
    return next;
  }

  std::chrono::milliseconds wait_for(std::chrono::milliseconds wait) const {
    const Clock::time_point next = next_deadline();
    if (next == Clock::time_point::max()) return wait;
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(next - Clock::now());
    return std::clamp(left, std::chrono::milliseconds(0), wait);
  }

  void run_once(std::chrono::milliseconds wait) {
    epoll_event events[64];
    const int n = ::epoll_wait(epoll_fd, events, 64, static_cast<int>(wait_for(wait).count()));
    for (int i = 0; i < n; ++i) {
      const std::uint64_t id = events[i].data.u64;
      if (id == listen_id) {
        accept_all();
      } else if (id == wake_id) {
        std::uint64_t value = 0;
        [[maybe_unused]] const auto r = ::read(wake_fd, &value, sizeof value);
      } else {
        const std::size_t slot = static_cast<std::uint32_t>(id);
        if (slot >= conns.size()) continue;
        Conn& c = conns[slot];
        // A connection closed earlier in this batch (its slot maybe reused) is skipped.
        if (c.state == State::free || id_of(slot, c) != id) continue;
        on_ready(slot, events[i].events);
      }
    }
    expire(Clock::now());
  }

  void accept_all() {
    for (int k = 0; k < accepts_per_round; ++k) {
      const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
          // Out of descriptors: stop listening for a moment instead of spinning on it.
          accept_paused = true;
          accept_paused_until = Clock::now() + accept_pause;
          watch(listen_fd, 0, listen_id, EPOLL_CTL_MOD);
        }
        return;
      }
      accepted.fetch_add(1, std::memory_order_relaxed);
      if (free_slots.empty() && !evict_one()) {
        ::close(fd);
        refused.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      const std::size_t slot = free_slots.back();
      free_slots.pop_back();
      Conn& c = conns[slot];
      c.fd = fd;
      c.state = State::reading;
      c.parser = HttpRequestParser(opt.max_header_bytes);
      c.since = Clock::now();
      c.deadline = c.since + opt.request_timeout;
      const std::size_t now_open = open_count.fetch_add(1, std::memory_order_relaxed) + 1;  // close_conn() takes it back
      if (now_open > peak.load(std::memory_order_relaxed)) peak.store(now_open, std::memory_order_relaxed);
      if (!watch(fd, EPOLLIN | EPOLLRDHUP, id_of(slot, c), EPOLL_CTL_ADD)) close_conn(slot);
    }
  }

  /// Closes the connection that has waited longest for its request; false if every one
  /// is busy answering (those finish or time out on their own).
  bool evict_one() {
    std::size_t victim = conns.size();
    for (std::size_t i = 0; i < conns.size(); ++i)
      if (conns[i].state == State::reading || conns[i].state == State::lingering)
        if (victim == conns.size() || conns[i].since < conns[victim].since) victim = i;
    if (victim == conns.size()) return false;
    close_conn(victim);
    evicted.fetch_add(1, std::memory_order_relaxed);
    return true;
  }

  void close_conn(std::size_t slot) {
    Conn& c = conns[slot];
    if (c.fd >= 0) {
      ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c.fd, nullptr);
      ::close(c.fd);
      open_count.fetch_sub(1, std::memory_order_relaxed);
    }
    const std::uint32_t next_generation = c.generation + 1;
    c = Conn{};  // releases the parser's and the answer's memory
    c.generation = next_generation;
    free_slots.push_back(slot);
  }

  void expire(Clock::time_point now) {
    for (std::size_t i = 0; i < conns.size(); ++i) {
      Conn& c = conns[i];
      if (c.state == State::free || c.deadline > now) continue;
      if (c.state != State::lingering) timed_out.fetch_add(1, std::memory_order_relaxed);
      close_conn(i);
    }
    if (accept_paused && accept_paused_until <= now) {
      accept_paused = false;
      watch(listen_fd, EPOLLIN, listen_id, EPOLL_CTL_MOD);
    }
  }

  void on_ready(std::size_t slot, std::uint32_t events) {
    Conn& c = conns[slot];
    switch (c.state) {
      case State::reading: return read_request(slot);
      case State::writing:
        if (events & (EPOLLERR | EPOLLHUP)) return close_conn(slot);
        return write_answer(slot);
      case State::lingering: return discard(slot);
      case State::free: return;
    }
  }

  void read_request(std::size_t slot) {
    Conn& c = conns[slot];
    char buf[4096];
    while (c.state == State::reading) {
      const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (n <= 0) return close_conn(slot);  // closed or broken before a whole request
      c.parser.feed(std::string_view(buf, static_cast<std::size_t>(n)));
      if (c.parser.failed()) {
        rejected.fetch_add(1, std::memory_order_relaxed);
        const int status = c.parser.error_status();
        return answer(slot, false, HttpResponse{status, "text/plain; charset=utf-8",
                                                std::string(reason_phrase(status)) + ": " +
                                                    std::string(c.parser.error()) + "\n",
                                                {}});
      }
      if (c.parser.done()) return dispatch(slot);
    }
  }

  void dispatch(std::size_t slot) {
    Conn& c = conns[slot];
    const HttpRequest& req = c.parser.request();
    const bool head = req.method == "HEAD";
    if (req.method != "GET" && !head) {
      rejected.fetch_add(1, std::memory_order_relaxed);
      return answer(slot, false,
                    HttpResponse{405, "text/plain; charset=utf-8", "only GET and HEAD\n", {{"Allow", "GET, HEAD"}}});
    }
    HttpResponse res;
    try {
      res = handler(req);
    } catch (...) {
      res = HttpResponse{500, "text/plain; charset=utf-8", "the handler failed\n", {}};
    }
    bool clean = !has_crlf(res.content_type) && res.status >= 100 && res.status <= 999;
    for (const auto& h : res.headers)
      clean = clean && !h.first.empty() && !has_crlf(h.first) && !has_crlf(h.second) &&
              h.first.find(':') == std::string::npos;
    if (!clean) res = HttpResponse{500, "text/plain; charset=utf-8", "the handler's answer is malformed\n", {}};
    answer(slot, head, std::move(res));
  }

  void answer(std::size_t slot, bool head, HttpResponse res) {
    Conn& c = conns[slot];
    std::string& out = c.out;
    out = "HTTP/1.1 " + std::to_string(res.status) + " " + std::string(reason_phrase(res.status)) + "\r\n";
    out += "Content-Type: " + res.content_type + "\r\n";
    out += "Content-Length: " + std::to_string(res.body.size()) + "\r\n";
    out += "Connection: close\r\n";
    for (const auto& h : res.headers) out += h.first + ": " + h.second + "\r\n";
    out += "\r\n";
    if (!head) out += res.body;
    c.out_pos = 0;
    c.parser = HttpRequestParser(0);  // the request is no longer needed
    c.state = State::writing;
    c.deadline = Clock::now() + opt.write_timeout;
    write_answer(slot);
  }

  void write_answer(std::size_t slot) {
    Conn& c = conns[slot];
    while (c.out_pos < c.out.size()) {
      const ssize_t n = ::send(c.fd, c.out.data() + c.out_pos, c.out.size() - c.out_pos, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        watch(c.fd, EPOLLOUT | EPOLLRDHUP, id_of(slot, c), EPOLL_CTL_MOD);
        return;
      }
      if (n <= 0) return close_conn(slot);
      c.out_pos += static_cast<std::size_t>(n);
    }
    served.fetch_add(1, std::memory_order_relaxed);
    // Half-close, then read until the client closes too: closing with unread input
    // would reset the connection and could destroy the answer before it is read.
    ::shutdown(c.fd, SHUT_WR);
    c.out = std::string();
    c.state = State::lingering;
    c.deadline = Clock::now() + opt.linger_timeout;
    watch(c.fd, EPOLLIN | EPOLLRDHUP, id_of(slot, c), EPOLL_CTL_MOD);
    discard(slot);
  }

  void discard(std::size_t slot) {
    Conn& c = conns[slot];
    char buf[16384];
    for (;;) {
      const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (n <= 0) return close_conn(slot);
      c.discarded += static_cast<std::size_t>(n);
      if (c.discarded > linger_discard_bytes) return close_conn(slot);
    }
  }
};

HttpListener::HttpListener(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpListener::HttpListener(HttpListener&&) noexcept = default;
HttpListener& HttpListener::operator=(HttpListener&&) noexcept = default;
HttpListener::~HttpListener() = default;

Result<HttpListener> HttpListener::open(HttpListenerOptions options, HttpHandler handler) {
  if (options.max_connections == 0 || options.max_connections > 65536)
    return config_error("max_connections must be between 1 and 65536");
  if (options.max_header_bytes < 64) return config_error("max_header_bytes must be at least 64");
  if (!handler) return config_error("no handler");
  auto impl = std::make_unique<Impl>();
  impl->opt = std::move(options);
  impl->handler = std::move(handler);
  if (auto r = impl->bind_and_listen(); !r) return r.error();
  return HttpListener(std::move(impl));
}

std::uint16_t HttpListener::port() const noexcept { return impl_->bound_port; }
std::string HttpListener::address() const { return impl_->bound_address; }
int HttpListener::fd() const noexcept { return impl_->epoll_fd; }

void HttpListener::start() {
  if (impl_->thread.joinable()) return;
  Impl* impl = impl_.get();
  // The thread starts with every signal blocked (it inherits the mask), so SIGTERM and
  // SIGINT reach the program's own threads and interrupt what they wait on.
  sigset_t all, before;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &before);
  impl->thread = std::thread([impl] {
    while (!impl->stopping.load()) impl->run_once(std::chrono::milliseconds(1000));
  });
  pthread_sigmask(SIG_SETMASK, &before, nullptr);
}

void HttpListener::stop() { impl_->stop(); }

void HttpListener::run_once(std::chrono::milliseconds wait) { impl_->run_once(wait); }

std::chrono::milliseconds HttpListener::next_wait() const { return impl_->wait_for(std::chrono::milliseconds(1000)); }

HttpListenerStats HttpListener::stats() const noexcept {
  const Impl& i = *impl_;
  constexpr auto r = std::memory_order_relaxed;
  return HttpListenerStats{i.accepted.load(r),  i.served.load(r),     i.rejected.load(r),
                           i.evicted.load(r),   i.refused.load(r),    i.timed_out.load(r),
                           i.open_count.load(r), i.peak.load(r)};
}

}  // namespace notify::ops
