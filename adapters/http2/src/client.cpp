// SPDX-License-Identifier: MIT
#include "notify/http2/client.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "blocks.hpp"
#include "notify/toolkit/secure.hpp"

namespace notify::http2 {
namespace {

/// Answers larger than this are cut off (FCM's and APNs's are a few hundred bytes).
constexpr std::size_t max_response_bytes = 64 * 1024;
/// Frames are serialized while less than this waits to be written (50 requests of about
/// 600 bytes fit in about half of it).
constexpr std::size_t max_pending_output = 32 * 1024;
/// TLS: each direction of a connection's BIO pair (ciphertext between OpenSSL and the
/// socket) holds this much. Written to and read from in place, with no copy in between.
/// A ring: all of it is touched in time, so it counts whole in the resident set.
constexpr std::size_t tls_buffer = 32 * 1024;
/// Deadlines (connect, request) are checked this often.
constexpr std::chrono::milliseconds check_interval{20};

std::string errno_text(int e) { return std::strerror(e); }

std::string openssl_text() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "TLS handshake failed";
  std::array<char, 256> buf{};
  ERR_error_string_n(e, buf.data(), buf.size());
  return buf.data();
}

/// The trusted CAs of `ca_file` (empty: OpenSSL's default paths), read once per process
/// and shared by the TLS contexts of every pool: reading the system bundle costs 17-30 ms
/// of CPU, and an FCM provider has two pools (pushes, access tokens). Null when the
/// file cannot be read (the next pool tries again). A file changed later is not read
/// again by this process.
X509_STORE* trusted_cas(const std::string& ca_file) {
  static std::mutex mu;
  static auto* const stores = new std::unordered_map<std::string, X509_STORE*>();  // for the process's life
  std::lock_guard lock(mu);
  if (auto it = stores->find(ca_file); it != stores->end()) return it->second;
  X509_STORE* store = X509_STORE_new();
  const bool loaded = store && (ca_file.empty() ? X509_STORE_set_default_paths(store) == 1
                                                : X509_STORE_load_file(store, ca_file.c_str()) == 1);
  if (!loaded) {
    X509_STORE_free(store);
    return nullptr;
  }
  stores->emplace(ca_file, store);
  return store;
}

bool is_ip_literal(const std::string& host) {
  in6_addr a6{};
  in_addr a4{};
  return inet_pton(AF_INET, host.c_str(), &a4) == 1 || inet_pton(AF_INET6, host.c_str(), &a6) == 1;
}

bool is_lower_case(std::string_view name) noexcept {
  for (const char ch : name)
    if (ch >= 'A' && ch <= 'Z') return false;
  return true;
}

/// A request header that nghttp2 does not copy: name and value must stay valid until the
/// HEADERS frame is sent or given up (they live in the Stream, the pool or are literals).
/// A name nghttp2 would have to lower-case is copied (it lower-cases copies only); the
/// pool's own names are lower case.
nghttp2_nv header(std::string_view name, std::string_view value, std::uint8_t flags = NGHTTP2_NV_FLAG_NONE,
                  bool lower_case = true) {
  flags |= NGHTTP2_NV_FLAG_NO_COPY_VALUE;
  if (lower_case) flags |= NGHTTP2_NV_FLAG_NO_COPY_NAME;
  return {reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data())),
          reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(), flags};
}

}  // namespace

Result<Target> parse_url(std::string_view url) {
  Target t;
  if (url.substr(0, 8) == "https://") {
    url.remove_prefix(8);
  } else if (url.substr(0, 7) == "http://") {
    t.tls = false;
    url.remove_prefix(7);
  } else {
    return Error{Errc::configuration, "http2: the URL must start with http:// or https://", "endpoint"};
  }
  const std::size_t slash = url.find('/');
  const std::string_view authority = url.substr(0, slash);
  t.path = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  t.authority = std::string(authority);
  std::string_view host = authority;
  std::string_view port;
  if (host.substr(0, 1) == "[") {
    const std::size_t close = host.find(']');
    if (close == std::string_view::npos) return Error{Errc::configuration, "http2: bad IPv6 address in URL", "endpoint"};
    if (close + 1 < host.size() && host[close + 1] == ':') port = host.substr(close + 2);
    host = host.substr(1, close - 1);
  } else if (const std::size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    port = host.substr(colon + 1);
    host = host.substr(0, colon);
  }
  if (host.empty()) return Error{Errc::configuration, "http2: no host in URL", "endpoint"};
  t.host = std::string(host);
  t.port = port.empty() ? (t.tls ? "443" : "80") : std::string(port);
  return t;
}

namespace {

struct Stream {
  std::uint64_t tag = 0;
  std::string body;
  std::string path;  ///< empty: the target's
  std::vector<Header> headers;
  std::string content_type;  ///< empty: application/json
  bool secret = false;       ///< body and response are overwritten before being released
  std::string length;  ///< content-length's value (nghttp2 reads it without a copy)
  std::shared_ptr<const std::string> authorization;
  Clock::time_point deadline;
  std::size_t sent = 0;  ///< body bytes handed to nghttp2
  std::int32_t id = -1;
  int status = 0;
  bool expired = false;  ///< answered as a timeout; waits for nghttp2 to let go of it
  std::string response;
  std::string retry_after;

  Stream() = default;
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  ~Stream() {
    if (secret) {
      toolkit::wipe(body);
      toolkit::wipe(response);
    }
  }

  void reset_for_retry() {
    sent = 0;
    id = -1;
    status = 0;
    if (secret) toolkit::wipe(response);
    response.clear();
    retry_after.clear();
  }
};

/// A connection's streams by id, in a vector: a client's stream ids grow with each
/// request, so appending keeps it sorted and a lookup is a binary search. Unlike a hash
/// map, it allocates nothing per stream.
class StreamTable {
 public:
  using Entry = std::pair<std::int32_t, std::unique_ptr<Stream>>;

  void add(std::int32_t id, std::unique_ptr<Stream> s) {
    if (items_.empty() || items_.back().first < id) items_.emplace_back(id, std::move(s));
    else items_.emplace(lower_bound(id), id, std::move(s));
  }

  /// Null when there is no stream `id`.
  Stream* find(std::int32_t id) {
    if (id == cached_id_) return cached_;
    const auto it = at(id);
    if (it == items_.end()) return nullptr;
    cached_id_ = id;
    cached_ = it->second.get();
    return cached_;
  }

  /// Takes stream `id` out; null when there is none.
  std::unique_ptr<Stream> take(std::int32_t id) {
    const auto it = at(id);
    if (it == items_.end()) return nullptr;
    if (id == cached_id_) forget();
    auto s = std::move(it->second);
    items_.erase(it);
    return s;
  }

  std::vector<Entry> take_all() {
    forget();
    return std::exchange(items_, {});
  }

  bool empty() const noexcept { return items_.empty(); }
  auto begin() noexcept { return items_.begin(); }
  auto end() noexcept { return items_.end(); }

 private:
  std::vector<Entry>::iterator lower_bound(std::int32_t id) {
    return std::lower_bound(items_.begin(), items_.end(), id, [](const Entry& e, std::int32_t v) { return e.first < v; });
  }
  std::vector<Entry>::iterator at(std::int32_t id) {
    const auto it = lower_bound(id);
    return it != items_.end() && it->first == id ? it : items_.end();
  }
  void forget() noexcept {
    cached_id_ = 0;
    cached_ = nullptr;
  }

  std::vector<Entry> items_;
  /// The stream found last (an answer's headers, data and close come one after the
  /// other); id 0 (never a stream's): none.
  std::int32_t cached_id_ = 0;
  Stream* cached_ = nullptr;
};

struct Pool_;

/// Hands nghttp2 the next piece of a request body.
ssize_t read_body(nghttp2_session*, std::int32_t, std::uint8_t* buf, std::size_t length, std::uint32_t* flags,
                  nghttp2_data_source* source, void*) {
  auto* s = static_cast<Stream*>(source->ptr);
  const std::size_t n = std::min(length, s->body.size() - s->sent);
  std::memcpy(buf, s->body.data() + s->sent, n);
  s->sent += n;
  if (s->sent == s->body.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
  return static_cast<ssize_t>(n);
}

/// One TCP connection, its TLS state and its nghttp2 session.
struct Conn {
  enum class State : std::uint8_t { connecting, handshaking, ready };

  Pool_* pool = nullptr;
  std::size_t slot = 0;
  State state = State::connecting;
  int fd = -1;
  SSL* ssl = nullptr;
  /// TLS: our end of the BIO pair whose other end is the SSL's: ciphertext from the
  /// socket is read into it in place, ciphertext for the socket is sent from it in place.
  BIO* net = nullptr;
  nghttp2_session* session = nullptr;
  bool settings = false;  ///< the server's SETTINGS arrived: its stream limit is known
  /// No new streams: GOAWAY received, stream ids used up, or the server reset a stream (the
  /// connection may be on its way out: a retry should not land on it). It closes once its
  /// last stream has ended.
  bool draining = false;
  /// Streams above it were not processed (GOAWAY's last stream id; the maximum otherwise).
  std::int32_t last_stream_id = std::numeric_limits<std::int32_t>::max();
  Clock::time_point connect_deadline;
  std::uint32_t watched = 0;  ///< the epoll mask set
  std::string out;            ///< bytes to write to the socket (cleartext)
  std::size_t out_done = 0;
  std::string plain;  ///< frames waiting to be encrypted (TLS)
  std::size_t plain_done = 0;  ///< of them, encrypted already

  /// Bytes serialized and not yet handed to the socket.
  std::size_t unsent() const {
    return out.size() - out_done + plain.size() - plain_done + (net ? BIO_ctrl_pending(net) : 0);
  }
  StreamTable streams;
  std::size_t active = 0;  ///< streams not yet answered (expired ones excluded)

  bool open_for_requests() const { return state == State::ready && settings && !draining; }
};

struct Pool_ {
  Config cfg;
  int epoll_fd = -1;
  SSL_CTX* ctx = nullptr;
  nghttp2_session_callbacks* callbacks = nullptr;
  nghttp2_option* option = nullptr;
  detail::Blocks blocks;  ///< what the sessions allocate; outlives them
  std::vector<std::unique_ptr<Conn>> conns;  ///< by slot; null: free
  std::deque<std::unique_ptr<Stream>> queue;
  /// Streams answered, kept for the next requests (one allocation fewer per request).
  std::vector<std::unique_ptr<Stream>> spare;
  static constexpr std::size_t max_spare = 1024;
  std::vector<Done> done;
  std::shared_ptr<const std::string> authorization;
  std::size_t in_flight = 0;  ///< requests posted and not yet done
  Clock::time_point next_check{};
  /// No request queued or in flight has an earlier deadline (requests are only looked at
  /// for expiry from then on).
  Clock::time_point next_expiry = Clock::time_point::max();
  std::vector<char> rbuf;  ///< cleartext: what one read() takes (allocated on first use)
  std::vector<char> pbuf = std::vector<char>(16 * 1024);  ///< TLS: one record's plaintext
  std::vector<nghttp2_nv> nv_;  ///< the headers of the request being submitted
  /// TLS: the newest session the server handed out (a ticket), which the next connections
  /// resume: a resumed handshake reads and verifies no certificate chain, most of what a
  /// full one costs the client. Several connections may offer the same ticket (RFC 8446
  /// asks clients not to): a server that takes each ticket once answers the others with
  /// full handshakes.
  SSL_SESSION* session = nullptr;
  std::size_t resumed = 0;   ///< handshakes that resumed a session
  bool set_up_once = false;  ///< a connection got the server's SETTINGS

  ~Pool_() {
    for (auto& c : conns)
      if (c) teardown(*c);
    if (callbacks) nghttp2_session_callbacks_del(callbacks);
    if (option) nghttp2_option_del(option);
    if (session) SSL_SESSION_free(session);
    if (ctx) SSL_CTX_free(ctx);
  }

  /// OpenSSL's "new session" callback: the server gave a session (a ticket) to resume.
  static int on_new_session(SSL* ssl, SSL_SESSION* fresh) {
    auto* pool = static_cast<Pool_*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
    if (!pool) return 0;
    if (pool->session) SSL_SESSION_free(pool->session);
    pool->session = fresh;
    return 1;  // the pool holds the reference now
  }

  /// TLS, the pool's first connection: while it is being set up and no session is at
  /// hand, the next ones wait for the session it brings. Once any connection got the
  /// server's SETTINGS, connections open side by side, with a session or without.
  bool first_handshake_pending() const {
    if (!ctx || session || set_up_once) return false;
    return std::any_of(conns.begin(), conns.end(), [](const auto& c) { return c && !c->draining; });
  }

  // ---- results

  void finish(Stream& s, Transport transport, std::string error) {
    Done d;
    d.tag = s.tag;
    d.transport = transport;
    d.error = std::move(error);
    if (transport == Transport::ok) {
      d.status = s.status;
      d.body = std::move(s.response);
      d.retry_after = std::move(s.retry_after);
    }
    done.push_back(std::move(d));
    --in_flight;
  }

  /// A stream done with, for post() to use again. A secret one goes (its destructor wipes it).
  void recycle(std::unique_ptr<Stream> s) {
    if (s->secret || spare.size() >= max_spare) return;
    s->reset_for_retry();
    s->expired = false;
    // Nothing of the request stays behind: not its payload, not the authorization
    // (a renewed access token must not live on in spare streams).
    s->body = std::string();
    s->path = std::string();
    s->headers = std::vector<Header>();
    s->content_type = std::string();
    s->authorization.reset();
    spare.push_back(std::move(s));
  }

  void requeue(std::unique_ptr<Stream> s) {
    s->reset_for_retry();
    queue.push_front(std::move(s));
  }

  // ---- connections

  void watch(Conn& c, std::uint32_t mask) {
    if (mask == c.watched) return;
    epoll_event ev{};
    ev.events = mask;
    ev.data.u64 = epoll_tag | (std::uint64_t{cfg.epoll_id} << 32) | c.slot;
    epoll_ctl(epoll_fd, c.watched ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c.fd, &ev);
    c.watched = mask;
  }

  /// Closes the socket and frees the session; the streams left are the caller's business.
  void teardown(Conn& c) {
    if (c.fd >= 0) {
      if (c.watched) epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c.fd, nullptr);
      close(c.fd);
      c.fd = -1;
    }
    if (c.session) nghttp2_session_del(c.session);
    c.session = nullptr;
    if (c.ssl) SSL_free(c.ssl);  // and its end of the pair
    c.ssl = nullptr;
    if (c.net) BIO_free(c.net);
    c.net = nullptr;
  }

  /// Ends a connection: streams the server did not process go back to the queue, the
  /// others end as `transport`. A connection that never became ready (handshake done and
  /// the server's SETTINGS in) fails the queue too: the next one would most likely fail
  /// the same way.
  void drop(Conn& c, Transport transport, const std::string& error) {
    const bool never_ready = c.state != Conn::State::ready || !c.settings;
    auto streams = c.streams.take_all();
    teardown(c);
    // Newest first: each requeued stream goes to the queue's front, so they keep the order
    // they were sent in, ahead of what was queued.
    for (auto it = streams.rbegin(); it != streams.rend(); ++it) {
      auto& [id, s] = *it;
      if (s->expired) continue;
      if (id > c.last_stream_id) requeue(std::move(s));
      else finish(*s, transport, error);
    }
    if (never_ready) {
      for (auto& s : queue) finish(*s, transport, error);
      queue.clear();
    }
    conns[c.slot].reset();
  }

  void open_conn(std::size_t slot) {
    auto conn = std::make_unique<Conn>();
    Conn& c = *conn;
    c.pool = this;
    c.slot = slot;
    c.connect_deadline = Clock::now() + cfg.connect_timeout;
    conns[slot] = std::move(conn);

    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (const int rc = getaddrinfo(cfg.target.host.c_str(), cfg.target.port.c_str(), &hints, &res); rc != 0) {
      drop(c, Transport::connect, "cannot resolve " + cfg.target.host + ": " + gai_strerror(rc));
      return;
    }
    int err = 0;
    for (addrinfo* a = res; a; a = a->ai_next) {
      c.fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
      if (c.fd < 0) {
        err = errno;
        continue;
      }
      const int one = 1;
      setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      if (connect(c.fd, a->ai_addr, a->ai_addrlen) == 0 || errno == EINPROGRESS) break;
      err = errno;
      close(c.fd);
      c.fd = -1;
    }
    freeaddrinfo(res);
    if (c.fd < 0) {
      drop(c, Transport::connect, "cannot connect to " + cfg.target.authority + ": " + errno_text(err));
      return;
    }
    watch(c, EPOLLIN | EPOLLOUT);  // writable: connected (or failed)
  }

  void connected(Conn& c) {
    if (!cfg.target.tls) {
      start_session(c);
      return;
    }
    c.ssl = SSL_new(ctx);
    BIO* inner = nullptr;
    if (!c.ssl || BIO_new_bio_pair(&inner, tls_buffer, &c.net, tls_buffer) != 1) {
      drop(c, Transport::setup, "out of memory");
      return;
    }
    SSL_set_bio(c.ssl, inner, inner);
    if (session && SSL_SESSION_is_resumable(session)) SSL_set_session(c.ssl, session);
    // SSL_write stops when the pair is full and says how much it took; what is left is
    // written again from wherever c.plain then keeps it.
    SSL_set_mode(c.ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_set_connect_state(c.ssl);
    const std::string& host = cfg.target.host;
    if (is_ip_literal(host)) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c.ssl), host.c_str());
    } else {
      SSL_set_tlsext_host_name(c.ssl, host.c_str());
      SSL_set1_host(c.ssl, host.c_str());
    }
    c.state = Conn::State::handshaking;
    handshake(c);
  }

  /// A server that does not speak HTTP/2 over TLS (most likely HTTP/1.1 only): it either
  /// ignores ALPN or refuses h2 with the no_application_protocol alert (RFC 7301). This
  /// client cannot talk to it, which no retry changes: a TLS (configuration) error.
  std::string no_h2() const {
    return "the server " + cfg.target.authority + " refused HTTP/2 (ALPN h2): HTTP/1.1 only?";
  }

  /// One handshake step; false if the connection was dropped.
  bool handshake(Conn& c) {
    ERR_clear_error();
    const int rc = SSL_do_handshake(c.ssl);
    if (rc == 1) {
      const unsigned char* alpn = nullptr;
      unsigned int len = 0;
      SSL_get0_alpn_selected(c.ssl, &alpn, &len);
      if (len != 2 || std::memcmp(alpn, "h2", 2) != 0) {
        drop(c, Transport::tls, no_h2());
        return false;
      }
      if (SSL_session_reused(c.ssl)) ++resumed;
      start_session(c);
      return c.session != nullptr;
    }
    const int e = SSL_get_error(c.ssl, rc);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return true;
    if (const unsigned long first = ERR_peek_error();
        ERR_GET_LIB(first) == ERR_LIB_SSL && ERR_GET_REASON(first) == SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL) {
      ERR_clear_error();
      drop(c, Transport::tls, no_h2());
      return false;
    }
    if (const long v = SSL_get_verify_result(c.ssl); v != X509_V_OK) {
      drop(c, Transport::tls, std::string("certificate verify failed: ") + X509_verify_cert_error_string(v));
      return false;
    }
    drop(c, Transport::connect, openssl_text());
    return false;
  }

  void start_session(Conn& c) {
    if (nghttp2_session_client_new3(&c.session, callbacks, &c, option, blocks.mem()) != 0) {
      c.session = nullptr;
      drop(c, Transport::setup, "cannot create an HTTP/2 session");
      return;
    }
    // No RFC 7540 priorities (RFC 9218): every request is alike, and without the priority
    // tree nghttp2 neither walks it on each frame nor keeps closed streams for it.
    const nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
                                               {NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES, 1}};
    nghttp2_submit_settings(c.session, NGHTTP2_FLAG_NONE, settings, std::size(settings));
    c.state = Conn::State::ready;
  }

  /// Serializes what nghttp2 has ready, encrypts it, writes it in one go. False if dropped.
  bool flush(Conn& c) {
    if (c.session) {
      std::string& sink = c.ssl ? c.plain : c.out;
      while (c.unsent() < max_pending_output) {
        const std::uint8_t* data = nullptr;
        const auto n = nghttp2_session_mem_send(c.session, &data);
        if (n < 0) {
          drop(c, Transport::broken, nghttp2_strerror(static_cast<int>(n)));
          return false;
        }
        if (n == 0) break;
        sink.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
      }
    }
    bool more = false;  // the socket takes no more for now
    if (c.ssl) {
      if (!write_tls(c, more)) return false;
    } else if (c.out_done < c.out.size()) {
      if (!send_some(c, c.out.data() + c.out_done, c.out.size() - c.out_done, c.out_done, more)) return false;
      if (c.out_done == c.out.size()) {
        c.out.clear();
        c.out_done = 0;
      }
    }
    watch(c, EPOLLIN | (more ? std::uint32_t{EPOLLOUT} : 0u));
    return true;
  }

  /// One send(); `taken` grows by what the socket took, `blocked` is set when it took less
  /// than offered. False if dropped.
  bool send_some(Conn& c, const char* data, std::size_t n, std::size_t& taken, bool& blocked) {
    const ssize_t sent = send(c.fd, data, n, MSG_NOSIGNAL);
    if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      drop(c, Transport::broken, "write: " + errno_text(errno));
      return false;
    }
    if (sent > 0) taken += static_cast<std::size_t>(sent);
    blocked = sent < 0 || static_cast<std::size_t>(sent) < n;
    return true;
  }

  /// TLS: encrypts c.plain into the pair and sends the pair's ciphertext from where it
  /// lies, until both are empty or the socket takes no more. Everything that fits is
  /// encrypted before the first send (SSL_write takes one record per call here), so a
  /// flush costs one send() as long as the pair holds it. False if dropped.
  bool write_tls(Conn& c, bool& blocked) {
    for (;;) {
      while (c.plain_done < c.plain.size()) {
        ERR_clear_error();
        const int n = SSL_write(c.ssl, c.plain.data() + c.plain_done, static_cast<int>(c.plain.size() - c.plain_done));
        if (n > 0) {
          c.plain_done += static_cast<std::size_t>(n);
          continue;
        }
        if (SSL_get_error(c.ssl, n) != SSL_ERROR_WANT_WRITE) {
          drop(c, Transport::broken, openssl_text());
          return false;
        }
        break;  // the pair is full: sent from below, then written again
      }
      // The ciphertext in the pair (it may wrap around: two pieces).
      char* data = nullptr;
      while (!blocked) {
        const int n = BIO_nread0(c.net, &data);
        if (n <= 0) break;
        std::size_t sent = 0;
        if (!send_some(c, data, static_cast<std::size_t>(n), sent, blocked)) return false;
        if (sent > 0) BIO_nread(c.net, &data, static_cast<int>(sent));
      }
      if (c.plain_done == c.plain.size() || blocked) break;
    }
    if (c.plain_done == c.plain.size()) {
      c.plain.clear();
      c.plain_done = 0;
    } else if (c.plain_done >= max_pending_output / 2) {
      c.plain.erase(0, c.plain_done);  // the rest is written again from its new place
      c.plain_done = 0;
    }
    blocked = blocked || c.unsent() > 0;
    return true;
  }

  /// Feeds HTTP/2 bytes to the session; false if dropped.
  bool receive(Conn& c, const char* data, std::size_t n) {
    const auto rc = nghttp2_session_mem_recv(c.session, reinterpret_cast<const std::uint8_t*>(data), n);
    if (rc < 0) {
      drop(c, Transport::broken, nghttp2_strerror(static_cast<int>(rc)));
      return false;
    }
    return true;
  }

  void readable(Conn& c) {
    // TLS: the ciphertext goes straight into the pair's free room, where SSL_read takes it.
    char* room = nullptr;
    std::size_t size = 0;
    if (!c.ssl) {
      if (rbuf.empty()) rbuf.resize(64 * 1024);
      room = rbuf.data();
      size = rbuf.size();
    } else {
      const int free = BIO_nwrite0(c.net, &room);
      if (free <= 0) {  // never: every read below is taken out by SSL_read before the next
        drop(c, Transport::broken, "TLS input buffer full");
        return;
      }
      size = static_cast<std::size_t>(free);
    }
    const ssize_t n = read(c.fd, room, size);
    if (n == 0) {
      drop(c, Transport::broken, "connection closed by the server");
      return;
    }
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) drop(c, Transport::broken, "read: " + errno_text(errno));
      return;
    }
    if (!c.ssl) {
      receive(c, rbuf.data(), static_cast<std::size_t>(n));
      return;
    }
    BIO_nwrite(c.net, &room, static_cast<int>(n));
    if (c.state == Conn::State::handshaking && (!handshake(c) || c.state != Conn::State::ready)) return;
    for (;;) {
      ERR_clear_error();
      const int got = SSL_read(c.ssl, pbuf.data(), static_cast<int>(pbuf.size()));
      if (got > 0) {
        if (!receive(c, pbuf.data(), static_cast<std::size_t>(got))) return;
        continue;
      }
      const int e = SSL_get_error(c.ssl, got);
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return;
      drop(c, Transport::broken, e == SSL_ERROR_ZERO_RETURN ? std::string("connection closed by the server") : openssl_text());
      return;
    }
  }

  void on_event(std::uint64_t data, std::uint32_t events) {
    const std::uint64_t slot = data & 0xffffffffu;
    if (slot >= conns.size() || !conns[slot]) return;  // dropped earlier in this round
    Conn& c = *conns[slot];
    if (c.state == Conn::State::connecting) {
      if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        drop(c, Transport::connect, "cannot connect to " + cfg.target.authority + ": " + errno_text(err));
        return;
      }
      connected(c);
      return;
    }
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) readable(c);
  }

  // ---- requests

  static Conn& conn_of(void* user) { return *static_cast<Conn*>(user); }

  static Stream* stream_of(Conn& c, std::int32_t id) { return c.streams.find(id); }

  bool submit(Conn& c, std::unique_ptr<Stream> s) {
    s->length = std::to_string(s->body.size());
    const std::string_view length = s->length;
    const bool tls = cfg.target.tls;
    nv_.clear();
    nv_.push_back(header(":method", "POST"));
    nv_.push_back(header(":scheme", tls ? "https" : "http"));
    nv_.push_back(header(":authority", cfg.target.authority));
    nv_.push_back(header(":path", s->path.empty() ? std::string_view(cfg.target.path) : std::string_view(s->path)));
    nv_.push_back(header("content-type", s->content_type.empty() ? std::string_view("application/json")
                                                                 : std::string_view(s->content_type)));
    nv_.push_back(header("content-length", length, NGHTTP2_NV_FLAG_NO_INDEX));
    if (!s->authorization->empty()) nv_.push_back(header("authorization", *s->authorization));
    for (const Header& h : s->headers)
      nv_.push_back(
          header(h.name, h.value, h.indexed ? NGHTTP2_NV_FLAG_NONE : NGHTTP2_NV_FLAG_NO_INDEX, is_lower_case(h.name)));
    nghttp2_data_provider body{};
    body.source.ptr = s.get();
    body.read_callback = read_body;
    const std::int32_t id = nghttp2_submit_request(c.session, nullptr, nv_.data(), nv_.size(), &body, s.get());
    if (id < 0) {  // out of stream ids (or memory): this connection is done
      c.draining = true;
      requeue(std::move(s));
      return false;
    }
    s->id = id;
    c.streams.add(id, std::move(s));
    ++c.active;
    return true;
  }

  std::size_t limit(const Conn& c) const {
    const std::uint32_t server = nghttp2_session_get_remote_settings(c.session, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
    return std::min<std::size_t>(cfg.streams_per_connection, server);
  }

  /// Gives queued requests to the ready connection with the fewest streams.
  void assign() {
    while (!queue.empty()) {
      Conn* best = nullptr;
      for (auto& c : conns)
        if (c && c->open_for_requests() && c->active < limit(*c) && (!best || c->active < best->active)) best = c.get();
      if (!best) return;
      auto s = std::move(queue.front());
      queue.pop_front();
      submit(*best, std::move(s));
    }
  }

  /// Opens connections while the queue needs more room than the open ones will offer.
  void grow() {
    if (queue.empty()) return;
    std::size_t open = 0;
    std::size_t room = 0;
    for (auto& c : conns) {
      if (!c || c->draining) continue;
      ++open;
      const std::size_t cap = c->open_for_requests() ? limit(*c) : cfg.streams_per_connection;
      room += cap > c->active ? cap - c->active : 0;
    }
    // The pool's first TLS connection opens alone: the others resume the session its
    // server hands out once the handshake is done (before its SETTINGS), or, if it hands
    // out none, open with full handshakes once that connection is set up.
    for (std::size_t slot = 0; open < cfg.connections && room < queue.size() && !first_handshake_pending(); ++slot) {
      if (slot == conns.size()) conns.emplace_back();
      if (conns[slot]) continue;
      open_conn(slot);
      ++open;
      room += cfg.streams_per_connection;
      if (queue.empty()) return;  // the attempt failed at once and took the queue with it
    }
  }

  void expire(Clock::time_point now) {
    if (now < next_check) return;
    next_check = now + check_interval;
    // Requests are looked at only once the earliest deadline has come (a request's
    // deadline is its post time plus the same timeout: later ones never come due sooner).
    const bool due = now >= next_expiry;
    if (due) {
      next_expiry = Clock::time_point::max();
      for (auto it = queue.begin(); it != queue.end();) {
        if ((*it)->deadline <= now) {
          finish(**it, Transport::timeout, "no answer within the request timeout");
          it = queue.erase(it);
        } else {
          next_expiry = std::min(next_expiry, (*it)->deadline);
          ++it;
        }
      }
    }
    for (auto& cp : conns) {
      if (!cp) continue;
      Conn& c = *cp;
      if (c.state != Conn::State::ready || !c.settings) {
        // Set up means the server's SETTINGS too: without them no request goes out.
        if (now >= c.connect_deadline)
          drop(c, Transport::timeout, c.state != Conn::State::ready ? "connect timeout" : "no SETTINGS from the server");
        continue;
      }
      if (!due) continue;
      for (auto& [id, s] : c.streams) {
        if (s->expired) continue;
        if (s->deadline > now) {
          next_expiry = std::min(next_expiry, s->deadline);
          continue;
        }
        s->expired = true;
        --c.active;
        finish(*s, Transport::timeout, "no answer within the request timeout");
        nghttp2_submit_rst_stream(c.session, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
      }
    }
  }

  void close_idle() {
    if (!queue.empty()) return;
    for (auto& cp : conns) {
      if (!cp || !cp->streams.empty()) continue;
      Conn& c = *cp;
      if (c.session && c.state == Conn::State::ready) {
        // A polite GOAWAY where the socket takes it at once; the close follows regardless.
        nghttp2_session_terminate_session(c.session, NGHTTP2_NO_ERROR);
        if (!flush(c)) continue;  // dropped already
      }
      drop(c, Transport::broken, "idle");
    }
  }

  void pump() {
    const auto now = Clock::now();
    expire(now);
    grow();
    assign();
    for (std::size_t slot = 0; slot < conns.size(); ++slot) {
      if (!conns[slot]) continue;
      Conn& c = *conns[slot];
      if (c.state == Conn::State::connecting) continue;
      if (!flush(c)) continue;
      // A connection told to go away closes once its last stream is answered.
      if (c.session && c.draining && c.streams.empty() && c.unsent() == 0) drop(c, Transport::broken, "drained");
      else if (c.session && !nghttp2_session_want_read(c.session) && !nghttp2_session_want_write(c.session))
        drop(c, Transport::broken, "the HTTP/2 session ended");
    }
    if (!queue.empty()) grow();  // a connection dropped above: replace it now
  }

  // ---- nghttp2 callbacks

  static int on_header(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name, std::size_t namelen,
                       const std::uint8_t* value, std::size_t valuelen, std::uint8_t, void* user) {
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    Stream* s = stream_of(conn_of(user), frame->hd.stream_id);
    if (!s) return 0;
    const std::string_view n(reinterpret_cast<const char*>(name), namelen);
    const std::string_view v(reinterpret_cast<const char*>(value), valuelen);
    if (n == ":status") std::from_chars(v.data(), v.data() + v.size(), s->status);
    else if (n == "retry-after") s->retry_after = v;
    return 0;
  }

  static int on_data(nghttp2_session* session, std::uint8_t, std::int32_t id, const std::uint8_t* data, std::size_t len,
                     void* user) {
    Stream* s = stream_of(conn_of(user), id);
    if (!s) return 0;
    if (s->response.size() + len > max_response_bytes) {
      s->status = 0;  // ends as broken
      nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
      return 0;
    }
    // A secret answer is not moved by growing (that would leave copies behind).
    if (s->secret && s->response.empty()) s->response.reserve(std::max<std::size_t>(8 * 1024, len));
    if (s->secret && s->response.size() + len > s->response.capacity()) {
      std::string bigger;
      bigger.reserve(2 * (s->response.size() + len));
      bigger.append(s->response);
      toolkit::wipe(s->response);
      s->response.swap(bigger);
    }
    s->response.append(reinterpret_cast<const char*>(data), len);
    return 0;
  }

  static int on_frame(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    Conn& c = conn_of(user);
    if (frame->hd.type == NGHTTP2_SETTINGS && !(frame->hd.flags & NGHTTP2_FLAG_ACK)) {
      c.settings = true;
      c.pool->set_up_once = true;
    }
    if (frame->hd.type == NGHTTP2_GOAWAY) {
      c.draining = true;
      c.last_stream_id = frame->goaway.last_stream_id;
    }
    return 0;
  }

  /// A stream ended: answered, reset, or refused before the server processed it.
  static int on_close(nghttp2_session*, std::int32_t id, std::uint32_t code, void* user) {
    Conn& c = conn_of(user);
    auto s = c.streams.take(id);
    if (!s) return 0;
    if (s->expired) return 0;
    --c.active;
    Pool_& pool = *c.pool;
    if (code == NGHTTP2_REFUSED_STREAM) {
      pool.requeue(std::move(s));
    } else if (code == NGHTTP2_NO_ERROR && s->status > 0) {
      pool.finish(*s, Transport::ok, {});
      pool.recycle(std::move(s));
    } else {
      // Reset without an answer. Servers do that when they are about to close the
      // connection too (Node's session.destroy() resets, then closes): no new stream here.
      c.draining = true;
      pool.finish(*s, Transport::broken, std::string("stream reset: ") + nghttp2_http2_strerror(code));
    }
    return 0;
  }

  /// A request nghttp2 could not send (e.g. after GOAWAY): it never reached the server.
  static int on_not_sent(nghttp2_session*, const nghttp2_frame* frame, int, void* user) {
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    Conn& c = conn_of(user);
    auto s = c.streams.take(frame->hd.stream_id);
    if (!s) return 0;
    if (s->expired) return 0;
    --c.active;
    c.pool->requeue(std::move(s));
    return 0;
  }
};

}  // namespace

struct Pool::Impl : Pool_ {};

Result<std::unique_ptr<Pool>> Pool::create(Config config, int epoll_fd) {
  auto impl = std::make_unique<Impl>();
  impl->cfg = std::move(config);
  impl->epoll_fd = epoll_fd;
  impl->cfg.connections = std::max<std::size_t>(1, impl->cfg.connections);
  if (impl->cfg.epoll_id >= (std::uint32_t{1} << 31)) return Error{Errc::configuration, "http2: epoll_id too large", {}};
  if (impl->cfg.target.tls) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) return Error{Errc::configuration, "http2: cannot create a TLS context", {}};
    impl->ctx = ctx;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    static constexpr unsigned char alpn[] = {2, 'h', '2'};
    if (SSL_CTX_set_alpn_protos(ctx, alpn, sizeof alpn) != 0)
      return Error{Errc::configuration, "http2: cannot set ALPN", {}};
    X509_STORE* cas = trusted_cas(impl->cfg.ca_file);
    if (!cas) {
      ERR_clear_error();
      return Error{Errc::configuration, "http2: cannot read the CA certificates " + impl->cfg.ca_file, "ca_file"};
    }
    SSL_CTX_set1_cert_store(ctx, cas);
    SSL_CTX_set_app_data(ctx, static_cast<Pool_*>(impl.get()));
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx, Pool_::on_new_session);
  }
  nghttp2_session_callbacks* cb = nullptr;
  if (nghttp2_session_callbacks_new(&cb) != 0) return Error{Errc::configuration, "http2: out of memory", {}};
  impl->callbacks = cb;
  nghttp2_session_callbacks_set_on_header_callback(cb, Pool_::on_header);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, Pool_::on_data);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cb, Pool_::on_frame);
  nghttp2_session_callbacks_set_on_stream_close_callback(cb, Pool_::on_close);
  nghttp2_session_callbacks_set_on_frame_not_send_callback(cb, Pool_::on_not_sent);
  if (nghttp2_option_new(&impl->option) != 0) return Error{Errc::configuration, "http2: out of memory", {}};
  // Until the server's SETTINGS arrive no request is started, so its limit is always known.
  nghttp2_option_set_peer_max_concurrent_streams(impl->option, 1);
  return std::unique_ptr<Pool>(new Pool(std::move(impl)));
}

Pool::Pool(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Pool::~Pool() = default;

void Pool::post(std::uint64_t tag, std::string body, std::string_view authorization) {
  post(tag, Request{{}, std::move(body), {}, {}, false}, authorization);
}

void Pool::post(std::uint64_t tag, Request request, std::string_view authorization) {
  Impl& p = *impl_;
  if (!p.authorization || *p.authorization != authorization)
    p.authorization = std::make_shared<const std::string>(authorization);
  std::unique_ptr<Stream> s;
  if (p.spare.empty()) {
    s = std::make_unique<Stream>();
  } else {
    s = std::move(p.spare.back());
    p.spare.pop_back();
  }
  s->tag = tag;
  s->body = std::move(request.body);
  s->path = std::move(request.path);
  s->headers = std::move(request.headers);
  s->content_type = std::move(request.content_type);
  s->secret = request.secret;
  s->authorization = p.authorization;
  s->deadline = Clock::now() + p.cfg.request_timeout;
  p.next_expiry = std::min(p.next_expiry, s->deadline);
  p.queue.push_back(std::move(s));
  ++p.in_flight;
}

void Pool::on_event(std::uint64_t data, std::uint32_t events) { impl_->on_event(data, events); }
void Pool::pump() { impl_->pump(); }
void Pool::close_idle() { impl_->close_idle(); }

void Pool::take(std::vector<Done>& out) {
  for (Done& d : impl_->done) out.push_back(std::move(d));
  impl_->done.clear();
}

Clock::time_point Pool::next_deadline() const {
  if (impl_->in_flight == 0) return Clock::time_point::max();
  return std::max(impl_->next_check, Clock::now());
}

std::size_t Pool::pending() const { return impl_->in_flight; }
std::size_t Pool::resumed() const { return impl_->resumed; }

}  // namespace notify::http2
