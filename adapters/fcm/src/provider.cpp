// SPDX-License-Identifier: MIT
#include "notify/fcm/provider.hpp"

#include <curl/curl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "notify/fcm/errors.hpp"
#include "notify/fcm/message.hpp"
#include "notify/http2/client.hpp"
#include "notify/plan.hpp"
#include "notify/toolkit/curl.hpp"
#include "notify/toolkit/push_calls.hpp"

namespace notify::fcm {
namespace h2 = notify::http2;
namespace {

using Clock = std::chrono::steady_clock;

/// Answers larger than this are cut off (FCM's are a few hundred bytes).
constexpr std::size_t max_response_bytes = 64 * 1024;

std::size_t on_data(char* data, std::size_t size, std::size_t count, void* user) {
  auto* out = static_cast<std::string*>(user);
  const std::size_t n = size * count;
  if (out->size() + n > max_response_bytes) return 0;  // fails the transfer
  out->append(data, n);
  return n;
}

Transport transport_of(CURLcode code) {
  switch (code) {
    case CURLE_OK: return Transport::ok;
    case CURLE_OPERATION_TIMEDOUT: return Transport::timeout;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SSL_CONNECT_ERROR: return Transport::connect;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_CRL_BADFILE: return Transport::tls;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_UNKNOWN_OPTION:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_FAILED_INIT: return Transport::setup;
    default: return Transport::broken;
  }
}

bool is_cleartext(std::string_view url) { return url.substr(0, 7) == "http://"; }

// Two clients, one epoll loop:
//  - HttpClient::nghttp2 (the default): notify::http2 carries everything. messages:send goes
//    through one pool (Options::connections), the access-token requests through a second
//    one to the token_uri's origin (one connection, opened for each renewal and closed once
//    the token is in: renewals are an hour apart). A separate pool even when both share an
//    origin (the FCM emulator serves /token beside messages:send): simpler, and it costs one
//    short-lived connection an hour. libcurl is never initialised nor called in this mode
//    (its library may then stay unloaded where it is loaded lazily).
//    Google's token endpoint (oauth2.googleapis.com) speaks HTTP/2 over TLS (ALPN h2). A
//    token_uri that speaks only HTTP/1.1 cannot be used by this client: over TLS the
//    connection fails at ALPN, a configuration error (fatal) that names the token endpoint;
//    over cleartext (prior knowledge) the server breaks the connection, a passing error.
//    HttpClient::curl negotiates HTTP/1.1 with such an endpoint over TLS.
//  - HttpClient::curl: libcurl multi carries both messages:send and the access tokens.
//
// Two behaviours of libcurl 7.88 (Debian 12) shape the curl client:
//  - it breaks a cleartext HTTP/2 (prior knowledge) connection when it reuses it (curl
//    issue #10634, fixed in 8.0): there, each cleartext request gets its own connection;
//  - it ends every finished stream whose answer had no content-length with RST_STREAM.
//    Servers that limit resets (nghttp2's rapid-reset guard: about 1,000 at once, then
//    33/s; Node's http2) answer with GOAWAY(INTERNAL_ERROR) after about a thousand
//    requests on a connection. curl re-sends the refused streams itself, this file re-sends
//    once what broke (see PushProvider), and the rest comes back as retry.

/// libcurl's functions (notify/toolkit/curl.hpp loads it when first asked): only called
/// once init_curl() has loaded it, so with the nghttp2 client libcurl is never mapped.
const toolkit::Curl& curl() { return *toolkit::libcurl(); }

/// libcurl before 8.0 cannot reuse a cleartext HTTP/2 connection (see above).
bool cleartext_reuse_broken() {
  return curl().version_num < 0x080000;
}

/// Points a handle at `url`, speaking HTTP/2 over TLS or in cleartext with prior knowledge.
void aim(CURL* easy, const std::string& url) {
  const bool cleartext = is_cleartext(url);
  const long one_shot = cleartext && cleartext_reuse_broken() ? 1L : 0L;
  curl().easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl().easy_setopt(easy, CURLOPT_HTTP_VERSION,
                     cleartext ? long{CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE} : long{CURL_HTTP_VERSION_2TLS});
  curl().easy_setopt(easy, CURLOPT_FRESH_CONNECT, one_shot);
  curl().easy_setopt(easy, CURLOPT_FORBID_REUSE, one_shot);
}

/// A header list owned by one access token (or the token request); curl client only.
struct HeaderList {
  curl_slist* list = nullptr;
  HeaderList() = default;
  HeaderList(const HeaderList&) = delete;
  HeaderList& operator=(const HeaderList&) = delete;
  ~HeaderList() {
    if (list) curl().slist_free_all(list);  // never called when curl is not used
  }
  bool add(const std::string& line) {
    curl_slist* next = curl().slist_append(list, line.c_str());
    if (next) list = next;
    return next != nullptr;
  }
};

/// One reusable request: an easy handle with its buffers.
struct Transfer {
  enum class Kind : std::uint8_t { none, push, token };
  CURL* easy = nullptr;
  Kind configured = Kind::none;  ///< what URL the handle is set up for
  bool is_token = false;
  std::uint32_t index = 0;        ///< the slot of the push it carries
  std::uint64_t generation = 0;   ///< the access token it was sent with
  std::string request;
  std::string response;
  char error[CURL_ERROR_SIZE] = {};

  Transfer() = default;
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;
  ~Transfer() {
    if (easy) curl().easy_cleanup(easy);
  }
};

/// A message's rendering, shared by its pushes until the last of them is answered (a
/// Message's address may be reused later by another message: the entry must not outlive
/// its pushes).
struct BodyEntry {
  BodyTemplate body;
  std::size_t refs = 0;
  BodyEntry(const Message& m, const BodyOptions& o) : body(m, o) {}
};

/// One submitted push, from submit() (or send()) until its answer. Slots are reused
/// through a free list; their index travels with the request.
struct Slot {
  Push push;
  std::uint64_t tag = 0;        ///< the caller's tag (for send(): the index of the push)
  BodyEntry* body = nullptr;    ///< the rendering of push.message
  bool sync = false;            ///< a push of send(): its answer goes to send()'s results
  bool renewed = false;         ///< already re-sent after a 401
  bool resent = false;          ///< already re-sent after its connection broke
};

/// A transient access-token failure is forgotten this long after the failed request
/// started, so a renewal is tried again (at most once per interval) even while pushes keep
/// the provider busy.
constexpr std::chrono::seconds token_retry_interval{1};

/// The nghttp2 client's pools on the provider's epoll fd (http2::Config::epoll_id).
constexpr std::uint32_t send_pool_id = 0;
constexpr std::uint32_t token_pool_id = 1;

}  // namespace

class PushProvider::Impl : public toolkit::PushCalls<Impl> {
 public:
  Impl(ServiceAccount account, Signer signer, Options options)
      : account_(std::move(account)), signer_(std::move(signer)), opt_(std::move(options)) {
    wipe(account_.private_key);  // the Signer holds the key from now on
    const std::string& project = opt_.project_id.empty() ? account_.project_id : opt_.project_id;
    std::string endpoint = opt_.endpoint;
    while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
    send_url_ = endpoint + "/v1/projects/" + project + "/messages:send";
    capacity_ = std::max<std::size_t>(1, opt_.connections * opt_.streams_per_connection);
    body_options_.validate_only = opt_.validate_only;
  }

  Result<void> init() {
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_ < 0) return Error{Errc::configuration, std::string("fcm: epoll_create1: ") + std::strerror(errno), {}};
    if (opt_.transport == HttpClient::curl) return init_curl();
    auto target = h2::parse_url(send_url_);
    if (!target) return target.error();
    h2::Config send{std::move(*target), opt_.ca_file, opt_.connections, opt_.streams_per_connection,
                    opt_.connect_timeout, opt_.request_timeout};
    send.epoll_id = send_pool_id;
    auto pool = h2::Pool::create(std::move(send), epoll_);
    if (!pool) return pool.error();
    pool_ = std::move(*pool);
    auto token_target = h2::parse_url(account_.token_uri);
    if (!token_target)
      return Error{Errc::configuration, "fcm: token_uri " + account_.token_uri + ": must be an http:// or https:// URL",
                   "token_uri"};
    // One renewal at a time: one connection, a few streams.
    h2::Config token{std::move(*token_target), opt_.ca_file, 1, 4, opt_.connect_timeout, opt_.request_timeout};
    token.epoll_id = token_pool_id;
    auto token_pool = h2::Pool::create(std::move(token), epoll_);
    if (!token_pool) return token_pool.error();
    token_pool_ = std::move(*token_pool);
    return {};
  }

  /// HttpClient::curl: libcurl multi for messages:send and the access tokens.
  Result<void> init_curl() {
    if (const Result<toolkit::Curl>& lib = toolkit::libcurl(); !lib) return lib.error();
    multi_ = curl().multi_init();
    if (!multi_) return Error{Errc::configuration, "fcm: cannot create a curl multi handle", {}};
    // The socket interface: curl tells which sockets to watch and when to time out, so
    // each wake-up only touches the transfers whose connection has something to say.
    curl().multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl().multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
    curl().multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, on_timer);
    curl().multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
    curl().multi_setopt(multi_, CURLMOPT_PIPELINING, long{CURLPIPE_MULTIPLEX});
    // Where each cleartext request needs its own connection, the cap is on connections.
    const bool one_shot = is_cleartext(send_url_) && cleartext_reuse_broken();
    curl().multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS,
                        static_cast<long>(one_shot ? capacity_ : opt_.connections));
    curl().multi_setopt(multi_, CURLMOPT_MAX_CONCURRENT_STREAMS, static_cast<long>(opt_.streams_per_connection));
    curl().multi_setopt(multi_, CURLMOPT_MAXCONNECTS, static_cast<long>(opt_.connections + 2));
    if (!token_headers_.add("Content-Type: application/x-www-form-urlencoded"))
      return Error{Errc::configuration, "fcm: out of memory", {}};
    return {};
  }

  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  ~Impl() {
    for (auto& t : transfers_)  // none without curl
      if (multi_ && t->easy) curl().multi_remove_handle(multi_, t->easy);
    transfers_.clear();
    pool_.reset();
    token_pool_.reset();
    if (multi_) curl().multi_cleanup(multi_);
    if (epoll_ >= 0) close(epoll_);
    wipe(token_);
    wipe(bearer_);
  }

  Result<void> connect() {
    std::lock_guard lock(mu_);
    if (token_usable(Clock::now())) return {};
    token_failure_.reset();
    start_refresh();
    drive(Clock::time_point::max(), [&] { return !refreshing_; });
    if (token_failure_) return *token_failure_;
    return {};
  }

  Stats stats() const {
    std::lock_guard lock(mu_);
    return stats_;
  }

 private:
  friend class toolkit::PushCalls<Impl>;

  bool token_usable(Clock::time_point now) const { return !token_.empty() && now < expires_at_; }

  /// With nothing unanswered, the next push starts afresh, as each send() call used to:
  /// a fatal answer or a failed access token of earlier pushes no longer holds it back.
  void fresh_start() {
    fatal_.reset();
    token_failure_.reset();
  }

  /// Takes a push into a slot and queues it; false (and nothing taken) when it has no
  /// message or no token.
  bool admit(const Push& push, std::uint64_t tag, bool sync) {
    if (!push.message || push.token.empty()) return false;
    std::uint32_t i = 0;
    if (!free_.empty()) {
      i = free_.back();
      free_.pop_back();
    } else {
      i = static_cast<std::uint32_t>(slots_.size());
      slots_.emplace_back();
    }
    BodyEntry& body = bodies_.try_emplace(push.message, *push.message, body_options_).first->second;
    ++body.refs;
    slots_[i] = Slot{push, tag, &body, sync, false, false};
    todo_.push_back(i);
    return true;
  }

  /// Hands a push's result to whoever waits for it and frees its slot (and its message's
  /// rendering with the last of its pushes).
  void answer(std::uint32_t i, PushResult result) {
    Slot& s = slots_[i];
    if (--s.body->refs == 0) bodies_.erase(s.push.message);
    deliver(s.tag, s.sync, std::move(result));
    s = Slot{};
    free_.push_back(i);
  }

  /// Pushes to re-send once curl has let go of the broken connection (socket) they were on.
  void release(curl_socket_t s) {
    if (auto it = parked_.find(s); it != parked_.end()) {
      todo_.insert(todo_.end(), it->second.begin(), it->second.end());
      parked_.erase(it);
    }
  }
  void release_all() {
    for (auto& [s, ids] : parked_) todo_.insert(todo_.end(), ids.begin(), ids.end());
    parked_.clear();
  }

  /// The one loop both send() and poll() run: starts waiting pushes within the capacity,
  /// drives the clients, and returns once `done()` holds, once nothing can come any more
  /// (nothing on the wire, queued or being fetched), or at `deadline`. It never sleeps:
  /// it only waits in epoll for readiness or the clients' timers.
  template <class Done>
  void drive(Clock::time_point deadline, Done done) {
    // What arrived while no call was running (a GOAWAY, a closed connection, an expired
    // curl timer) is handled before any push is given to a connection.
    wait_events(0);
    for (bool first = true;; first = false) {
      const auto now = Clock::now();
      if (on_wire_ == 0) {
        release_all();     // nothing left to wait for
        retired_.clear();  // no transfer uses an old token's headers any more
      }
      if (token_failure_ && is_transient(token_failure_->code) && now - refresh_started_ >= token_retry_interval)
        token_failure_.reset();
      if (!todo_.empty()) {
        if (!refreshing_ && !token_failure_ && (!token_usable(now) || now >= renew_at_)) start_refresh();
        if (!token_usable(now) && token_failure_ && !refreshing_) fail_waiting(*token_failure_);
        if (fatal_) give_back_waiting();
        while (!todo_.empty() && token_usable(now) && on_wire_ < capacity_) {
          const std::uint32_t i = todo_.front();
          todo_.pop_front();
          start_push(i);
        }
      }
      if (token_pool_) {
        token_pool_->pump();
        if (collect_token_h2()) continue;  // a new token: the waiting pushes can go
      }
      if (pool_) {
        // One write per connection for everything ready; answers may free room at once.
        pool_->pump();
        if (collect_h2()) continue;
      }
      if (done()) return;
      if (on_wire_ == 0 && !refreshing_ && todo_.empty()) return;  // nothing can come
      const auto left_ms = [](Clock::time_point t) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(t - Clock::now()).count();
        return static_cast<int>(std::clamp<std::int64_t>(left, 0, 100));
      };
      int wait_ms = deadline == Clock::time_point::max() ? 100 : left_ms(deadline);
      if (!first && wait_ms == 0) return;  // the deadline passed, after one look at the sockets
      if (timer_) wait_ms = std::min(wait_ms, left_ms(*timer_));
      if (pool_ && pool_->pending() > 0) wait_ms = std::min(wait_ms, left_ms(pool_->next_deadline()));
      if (token_pool_ && token_pool_->pending() > 0) wait_ms = std::min(wait_ms, left_ms(token_pool_->next_deadline()));
      wait_events(wait_ms);
    }
  }

  /// Waits up to `wait_ms` for readiness and hands the events to curl or the nghttp2 pools.
  void wait_events(int wait_ms) {
    epoll_event events[64];
    const int n = epoll_wait(epoll_, events, 64, wait_ms);
    int running = 0;
    for (int i = 0; i < n; ++i) {
      const std::uint32_t e = events[i].events;
      const std::uint64_t data = events[i].data.u64;
      if (data & h2::epoll_tag) {
        h2::Pool* pool = h2::epoll_id_of(data) == token_pool_id ? token_pool_.get() : pool_.get();
        if (pool) pool->on_event(data, e);
        continue;
      }
      if (!multi_) continue;  // never: only curl's sockets are untagged
      const int mask = ((e & EPOLLIN) ? CURL_CSELECT_IN : 0) | ((e & EPOLLOUT) ? CURL_CSELECT_OUT : 0) |
                       ((e & (EPOLLERR | EPOLLHUP)) ? CURL_CSELECT_ERR : 0);
      curl().multi_socket_action(multi_, events[i].data.fd, mask, &running);
    }
    if (!multi_) return;
    if (timer_ && Clock::now() >= *timer_) {
      timer_.reset();
      curl().multi_socket_action(multi_, CURL_SOCKET_TIMEOUT, 0, &running);
    }
    collect();
  }

  /// curl says which sockets to watch; the mask last set is kept as the socket's pointer
  /// (curl_multi_assign) so that unchanged interest costs no system call.
  static int on_socket(CURL*, curl_socket_t s, int what, void* self, void* assigned) {
    auto* impl = static_cast<Impl*>(self);
    const auto previous = reinterpret_cast<std::uintptr_t>(assigned);  // 0: not watched yet
    if (what == CURL_POLL_REMOVE) {
      epoll_ctl(impl->epoll_, EPOLL_CTL_DEL, s, nullptr);
      impl->release(s);
      return 0;
    }
    const auto wanted = static_cast<std::uintptr_t>(what) | 0x100u;
    if (wanted == previous) return 0;
    epoll_event ev{};
    ev.data.fd = s;
    ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0u) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0u);
    if (epoll_ctl(impl->epoll_, previous ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s, &ev) != 0 && errno == EEXIST)
      epoll_ctl(impl->epoll_, EPOLL_CTL_MOD, s, &ev);
    curl().multi_assign(impl->multi_, s, reinterpret_cast<void*>(wanted));
    return 0;
  }

  static int on_timer(CURLM*, long timeout_ms, void* self) {
    auto& timer = static_cast<Impl*>(self)->timer_;
    if (timeout_ms < 0) timer.reset();
    else timer = Clock::now() + std::chrono::milliseconds(timeout_ms);
    return 0;
  }

  /// Handles every finished transfer; false if there was none.
  bool collect() {
    if (!multi_) return false;
    bool any = false;
    int left = 0;
    while (CURLMsg* msg = curl().multi_info_read(multi_, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      any = true;
      CURL* easy = msg->easy_handle;
      const CURLcode code = msg->data.result;
      Transfer* t = nullptr;
      curl().easy_getinfo(easy, CURLINFO_PRIVATE, reinterpret_cast<char**>(&t));
      curl().multi_remove_handle(multi_, easy);
      if (t->is_token) token_done(*t, code);
      else push_done(*t, code);
      idle_.push_back(t);
    }
    return any;
  }

  Reply reply_of(Transfer& t, CURLcode code) const {
    Reply r;
    r.transport = transport_of(code);
    r.body = t.response;
    if (r.transport != Transport::ok) {
      r.error = t.error[0] ? std::string_view(t.error) : std::string_view(curl().easy_strerror(code));
      return r;
    }
    long status = 0;
    curl().easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &status);
    r.status = static_cast<int>(status);
    curl_header* h = nullptr;
    if ((status < 200 || status >= 300) &&
        curl().easy_header(t.easy, "Retry-After", 0, CURLH_HEADER, -1, &h) == CURLHE_OK)
      r.retry_after = h->value;
    return r;
  }

  /// Handles the token pool's answer (one request at a time); false if there was none.
  bool collect_token_h2() {
    token_answers_.clear();
    token_pool_->take(token_answers_);
    for (h2::Done& d : token_answers_) {
      Reply reply;
      reply.transport = d.transport;
      reply.status = d.status;
      reply.body = d.body;
      std::string error;
      if (d.transport != Transport::ok) {
        // Name the endpoint: its errors would otherwise read like messages:send's.
        error = "token endpoint " + account_.token_uri + ": " + d.error;
        if (d.error.find("ALPN") != std::string::npos)
          error += " (fcm::HttpClient::curl can use an HTTP/1.1 token endpoint)";
        reply.error = error;
      }
      token_answer(reply);
      wipe(d.body);  // the access token
    }
    if (token_answers_.empty()) return false;
    token_answers_.clear();
    token_pool_->close_idle();  // the next renewal is far off: no connection kept for it
    return true;
  }

  /// Handles the answers the nghttp2 pool has; false if there was none.
  bool collect_h2() {
    done_.clear();
    pool_->take(done_);
    for (h2::Done& d : done_) {
      Reply reply;
      reply.transport = d.transport;
      reply.status = d.status;
      reply.body = std::move(d.body);
      if (d.status < 200 || d.status >= 300) reply.retry_after = std::move(d.retry_after);
      reply.error = std::move(d.error);
      const auto index = static_cast<std::uint32_t>(d.tag & 0xffffffffu);
      if (handled(index, d.tag >> 32, reply)) continue;
      if (reply.transport == Transport::broken && !slots_[index].resent) {
        // The connection is gone already: the next try goes on another one.
        slots_[index].resent = true;
        ++stats_.connection_retries;
        todo_.push_back(index);
        continue;
      }
      record(index, reply);
    }
    return !done_.empty();
  }

  /// The outcomes both clients share: false if the push still needs its result.
  bool handled(std::uint32_t index, std::uint64_t generation, const Reply& reply) {
    --on_wire_;
    Slot& s = slots_[index];
    if (!s.renewed && needs_new_token(reply)) {
      // The token was revoked or expired early: renew it (once) and send this push again.
      s.renewed = true;
      ++stats_.auth_retries;
      if ((generation & 0xffffffffu) == (generation_ & 0xffffffffu)) {
        wipe(token_);
        wipe(bearer_);
        expires_at_ = {};
      }
      todo_.push_front(index);
      return true;
    }
    return false;
  }

  void record(std::uint32_t index, const Reply& reply) {
    PushResult r = classify(reply);
    if (r.status == PushStatus::fatal && !fatal_) fatal_ = r.detail;
    answer(index, std::move(r));
  }

  void push_done(Transfer& t, CURLcode code) {
    const Reply reply = reply_of(t, code);
    if (handled(t.index, t.generation, reply)) return;
    if (!slots_[t.index].resent && reply.transport == Transport::broken) {
      // The stream or its connection broke (reset, GOAWAY, closed): send it once more at
      // once rather than making the whole record wait. If the connection itself died, wait
      // until curl has let go of it, so the second try does not land on it too.
      slots_[t.index].resent = true;
      ++stats_.connection_retries;
      curl_socket_t s = CURL_SOCKET_BAD;
      if (code != CURLE_HTTP2_STREAM) curl().easy_getinfo(t.easy, CURLINFO_ACTIVESOCKET, &s);
      if (s == CURL_SOCKET_BAD) todo_.push_back(t.index);
      else parked_[s].push_back(t.index);
      return;
    }
    record(t.index, reply);
  }

  void token_done(Transfer& t, CURLcode code) {
    token_answer(reply_of(t, code));
    wipe(t.request);  // the signed assertion
    wipe(t.response);
  }

  /// The token endpoint's answer, whichever client carried it.
  void token_answer(const Reply& reply) {
    refreshing_ = false;
    if (reply.transport == Transport::ok && reply.status == 200) {
      auto token = parse_token_response(reply.body);
      if (token) install(std::move(*token));
      else token_failure_ = token.error();
    } else {
      token_failure_ = token_error(reply);
    }
  }

  void install(AccessToken token) {
    if (multi_) {  // the curl client's header list for this token
      auto headers = std::make_unique<HeaderList>();
      if (!headers->add("Authorization: Bearer " + token.value) || !headers->add("Content-Type: application/json") ||
          !headers->add("Accept:")) {
        token_failure_ = Error{Errc::unavailable, "fcm: out of memory", {}};
        wipe(token.value);
        return;
      }
      if (headers_) retired_.push_back(std::move(headers_));
      headers_ = std::move(headers);
    }
    wipe(token_);
    token_ = std::move(token.value);
    wipe(bearer_);
    bearer_ = "Bearer " + token_;
    ++generation_;
    const auto now = Clock::now();
    stats_.token_obtained = now;
    expires_at_ = now + token.expires_in;
    renew_at_ = expires_at_ - std::min<std::chrono::seconds>(opt_.renew_before, token.expires_in / 2);
  }

  void start_refresh() {
    refresh_started_ = Clock::now();
    const auto now_unix =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    auto assertion = make_assertion(account_, signer_, now_unix);
    if (!assertion) {
      token_failure_ = assertion.error();
      return;
    }
    if (token_pool_) {
      h2::Request request;
      request.body = token_request_body(*assertion);
      wipe(*assertion);
      request.content_type = "application/x-www-form-urlencoded";
      request.secret = true;  // the pool wipes its copy of the assertion and of the answer
      token_pool_->post(0, std::move(request), {});  // no authorization header
      refreshing_ = true;
      ++stats_.token_requests;
      return;
    }
    Transfer* t = acquire();
    if (!t) {
      token_failure_ = Error{Errc::unavailable, "fcm: cannot create a curl handle", {}};
      return;
    }
    t->is_token = true;
    t->request = token_request_body(*assertion);
    wipe(*assertion);
    if (t->configured != Transfer::Kind::token) {
      aim(t->easy, account_.token_uri);
      curl().easy_setopt(t->easy, CURLOPT_HTTPHEADER, token_headers_.list);
      t->configured = Transfer::Kind::token;
    }
    begin(*t);
    refreshing_ = true;
    ++stats_.token_requests;
  }

  void start_push(std::uint32_t i) {
    const Slot& slot = slots_[i];
    if (pool_) {
      std::string body;
      slot.body->body.render(body, slot.push.token);
      pool_->post((generation_ << 32) | i, std::move(body), bearer_);
      ++on_wire_;
      ++stats_.requests;
      return;
    }
    Transfer* t = acquire();
    if (!t) {
      answer(i, {PushStatus::retry, {}, "fcm: cannot create a curl handle", true, RetryScope::provider});
      return;
    }
    t->is_token = false;
    t->index = i;
    t->generation = generation_;
    slot.body->body.render(t->request, slot.push.token);
    if (t->configured != Transfer::Kind::push) {
      aim(t->easy, send_url_);
      t->configured = Transfer::Kind::push;
    }
    curl().easy_setopt(t->easy, CURLOPT_HTTPHEADER, headers_->list);
    begin(*t);
    ++on_wire_;
    ++stats_.requests;
  }

  void begin(Transfer& t) {
    t.response.clear();
    t.error[0] = '\0';
    curl().easy_setopt(t.easy, CURLOPT_POSTFIELDSIZE, static_cast<long>(t.request.size()));
    curl().easy_setopt(t.easy, CURLOPT_POSTFIELDS, t.request.data());
    curl().multi_add_handle(multi_, t.easy);
  }

  /// Pushes still waiting when the access token cannot be had.
  void fail_waiting(const Error& e) {
    const PushStatus status = is_transient(e.code) ? PushStatus::retry : PushStatus::fatal;
    if (status == PushStatus::fatal && !fatal_) fatal_ = e.message;
    std::deque<std::uint32_t> waiting;
    waiting.swap(todo_);
    for (std::uint32_t i : waiting) answer(i, {status, {}, "fcm: " + e.message, true, RetryScope::provider});
  }

  /// After a fatal answer nothing more is sent: the waiting pushes come back for later.
  void give_back_waiting() {
    std::deque<std::uint32_t> waiting;
    waiting.swap(todo_);
    for (std::uint32_t i : waiting)
      answer(i, {PushStatus::retry, {}, "fcm: not sent after: " + *fatal_, true, RetryScope::provider});
  }

  Transfer* acquire() {
    if (!idle_.empty()) {
      Transfer* t = idle_.back();
      idle_.pop_back();
      return t;
    }
    auto t = std::make_unique<Transfer>();
    t->easy = curl().easy_init();
    if (!t->easy) return nullptr;
    CURL* e = t->easy;
    curl().easy_setopt(e, CURLOPT_PRIVATE, t.get());
    curl().easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
    curl().easy_setopt(e, CURLOPT_WRITEDATA, &t->response);
    curl().easy_setopt(e, CURLOPT_ERRORBUFFER, t->error);
    curl().easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl().easy_setopt(e, CURLOPT_BUFFERSIZE, 4096L);  // answers are a few hundred bytes
    curl().easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
    curl().easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl().easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl().easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(opt_.request_timeout.count()));
    curl().easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(opt_.connect_timeout.count()));
    curl().easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl().easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!opt_.ca_file.empty()) curl().easy_setopt(e, CURLOPT_CAINFO, opt_.ca_file.c_str());
    transfers_.push_back(std::move(t));
    return transfers_.back().get();
  }

  ServiceAccount account_;  // without its private key
  Signer signer_;
  Options opt_;
  BodyOptions body_options_;
  std::string send_url_;
  std::size_t capacity_ = 1;

  CURLM* multi_ = nullptr;
  int epoll_ = -1;
  std::optional<Clock::time_point> timer_;  ///< when curl wants CURL_SOCKET_TIMEOUT
  std::vector<std::unique_ptr<Transfer>> transfers_;
  std::vector<Transfer*> idle_;
  std::size_t on_wire_ = 0;  ///< pushes sent and not yet answered by the HTTP client

  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_;  ///< slots to reuse
  std::deque<std::uint32_t> todo_;   ///< slots waiting to be sent
  /// Slots to re-send once curl has let go of the broken connection (socket) they were on.
  std::unordered_map<curl_socket_t, std::vector<std::uint32_t>> parked_;
  std::unordered_map<const Message*, BodyEntry> bodies_;
  std::optional<std::string> fatal_;

  HeaderList token_headers_;
  std::unique_ptr<HeaderList> headers_;  ///< for the current access token
  std::vector<std::unique_ptr<HeaderList>> retired_;
  std::string token_;
  std::string bearer_;  ///< "Bearer <token>" for the nghttp2 client
  std::uint64_t generation_ = 0;
  std::unique_ptr<h2::Pool> pool_;  ///< the nghttp2 client's messages:send, when chosen
  std::vector<h2::Done> done_;
  std::unique_ptr<h2::Pool> token_pool_;  ///< the nghttp2 client's access tokens, when chosen
  std::vector<h2::Done> token_answers_;
  Clock::time_point expires_at_{};
  Clock::time_point renew_at_{};
  bool refreshing_ = false;
  std::optional<Error> token_failure_;
  Clock::time_point refresh_started_{};  ///< when the last access-token request began
  Stats stats_;
};

Result<PushProvider> PushProvider::create(ServiceAccount account, Options options) {
  const std::string_view endpoint = options.endpoint;
  if (endpoint.substr(0, 8) != "https://" && !is_cleartext(endpoint))
    return Error{Errc::configuration, "fcm: the endpoint must be an http:// or https:// URL", "endpoint"};
  if (options.connections == 0 || options.streams_per_connection == 0)
    return Error{Errc::configuration, "fcm: connections and streams per connection must be at least 1", {}};
  if (options.project_id.empty() && account.project_id.empty())
    return Error{Errc::configuration, "fcm: no project id", "project_id"};
  auto signer = Signer::load(account.private_key);
  if (!signer) return signer.error();
  auto impl = std::make_unique<Impl>(std::move(account), std::move(*signer), std::move(options));
  if (auto r = impl->init(); !r) return r.error();
  return PushProvider(std::move(impl));
}

PushProvider::PushProvider(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
PushProvider::PushProvider(PushProvider&&) noexcept = default;
PushProvider& PushProvider::operator=(PushProvider&&) noexcept = default;
PushProvider::~PushProvider() = default;

std::vector<PushResult> PushProvider::send(std::span<const Push> pushes) { return impl_->send(pushes); }
void PushProvider::submit(const Push& push, std::uint64_t tag) { impl_->submit(push, tag); }
void PushProvider::poll(std::chrono::milliseconds wait, std::vector<PushDone>& out) { impl_->poll(wait, out); }
std::size_t PushProvider::in_flight() const { return impl_->in_flight(); }
Result<void> PushProvider::connect() { return impl_->connect(); }
Stats PushProvider::stats() const { return impl_->stats(); }

}  // namespace notify::fcm
