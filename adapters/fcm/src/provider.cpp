// SPDX-License-Identifier: MIT
#include "notify/fcm/provider.hpp"

#include <curl/curl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "notify/fcm/errors.hpp"
#include "notify/fcm/message.hpp"
#include "h2.hpp"

namespace notify::fcm {
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

// Two clients carry messages:send: the nghttp2 one (h2.hpp, the default) and libcurl multi
// (HttpClient::curl). Access tokens always come through libcurl; both share one epoll loop.
//
// Two behaviours of libcurl 7.88 (Debian 12) shape the curl client:
//  - it breaks a cleartext HTTP/2 (prior knowledge) connection when it reuses it (curl
//    issue #10634, fixed in 8.0): there, each cleartext request gets its own connection;
//  - it ends every finished stream whose answer had no content-length with RST_STREAM.
//    Servers that limit resets (nghttp2's rapid-reset guard: about 1,000 at once, then
//    33/s; Node's http2) answer with GOAWAY(INTERNAL_ERROR) after about a thousand
//    requests on a connection. curl re-sends the refused streams itself, this file re-sends
//    once what broke (see PushProvider), and the rest comes back as retry.

/// libcurl before 8.0 cannot reuse a cleartext HTTP/2 connection (see above).
bool cleartext_reuse_broken() {
  return curl_version_info(CURLVERSION_NOW)->version_num < 0x080000;
}

/// Points a handle at `url`, speaking HTTP/2 over TLS or in cleartext with prior knowledge.
void aim(CURL* easy, const std::string& url) {
  const bool cleartext = is_cleartext(url);
  const long one_shot = cleartext && cleartext_reuse_broken() ? 1L : 0L;
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_HTTP_VERSION,
                   cleartext ? long{CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE} : long{CURL_HTTP_VERSION_2TLS});
  curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, one_shot);
  curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, one_shot);
}

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

/// A header list owned by one access token (or the token request).
struct HeaderList {
  curl_slist* list = nullptr;
  HeaderList() = default;
  HeaderList(const HeaderList&) = delete;
  HeaderList& operator=(const HeaderList&) = delete;
  ~HeaderList() { curl_slist_free_all(list); }
  bool add(const std::string& line) {
    curl_slist* next = curl_slist_append(list, line.c_str());
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
  std::size_t index = 0;          ///< the push this answers
  std::uint64_t generation = 0;   ///< the access token it was sent with
  std::string request;
  std::string response;
  char error[CURL_ERROR_SIZE] = {};

  Transfer() = default;
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;
  ~Transfer() {
    if (easy) curl_easy_cleanup(easy);
  }
};

/// The state of one send() call.
struct Batch {
  std::span<const Push> pushes;
  std::vector<PushResult> results;
  std::deque<std::size_t> todo;
  std::vector<bool> renewed;  ///< pushes already re-sent after a 401
  std::vector<bool> resent;   ///< pushes already re-sent after their connection broke
  std::unordered_map<const Message*, BodyTemplate> bodies;
  /// Pushes to re-send once curl has let go of the broken connection (socket) they were on.
  std::unordered_map<curl_socket_t, std::vector<std::size_t>> parked;

  void release(curl_socket_t s) {
    if (auto it = parked.find(s); it != parked.end()) {
      todo.insert(todo.end(), it->second.begin(), it->second.end());
      parked.erase(it);
    }
  }
  void release_all() {
    for (auto& [s, ids] : parked) todo.insert(todo.end(), ids.begin(), ids.end());
    parked.clear();
  }
};

}  // namespace

class PushProvider::Impl {
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
    global_init();
    multi_ = curl_multi_init();
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    if (!multi_ || epoll_ < 0) return Error{Errc::configuration, "fcm: cannot create a curl multi handle", {}};
    // The socket interface: curl tells which sockets to watch and when to time out, so
    // each wake-up only touches the transfers whose connection has something to say.
    curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_PIPELINING, long{CURLPIPE_MULTIPLEX});
    // Where each cleartext request needs its own connection, the cap is on connections.
    const bool one_shot = is_cleartext(send_url_) && cleartext_reuse_broken();
    curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, static_cast<long>(one_shot ? capacity_ : opt_.connections));
    curl_multi_setopt(multi_, CURLMOPT_MAX_CONCURRENT_STREAMS, static_cast<long>(opt_.streams_per_connection));
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, static_cast<long>(opt_.connections + 2));
    if (!token_headers_.add("Content-Type: application/x-www-form-urlencoded"))
      return Error{Errc::configuration, "fcm: out of memory", {}};
    if (opt_.transport == HttpClient::nghttp2) {
      auto target = h2::parse_url(send_url_);
      if (!target) return target.error();
      auto pool = h2::Pool::create(h2::Config{std::move(*target), opt_.ca_file, opt_.connections,
                                              opt_.streams_per_connection, opt_.connect_timeout, opt_.request_timeout},
                                   epoll_);
      if (!pool) return pool.error();
      pool_ = std::move(*pool);
    }
    return {};
  }

  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  ~Impl() {
    for (auto& t : transfers_)
      if (multi_ && t->easy) curl_multi_remove_handle(multi_, t->easy);
    transfers_.clear();
    pool_.reset();
    if (multi_) curl_multi_cleanup(multi_);
    if (epoll_ >= 0) close(epoll_);
    wipe(token_);
    wipe(bearer_);
  }

  std::vector<PushResult> send(std::span<const Push> pushes) {
    std::lock_guard lock(mu_);
    Batch b;
    b.pushes = pushes;
    b.results.resize(pushes.size());
    b.renewed.assign(pushes.size(), false);
    b.resent.assign(pushes.size(), false);
    for (std::size_t i = 0; i < pushes.size(); ++i) {
      if (pushes[i].message && !pushes[i].token.empty()) b.todo.push_back(i);
      else b.results[i] = {PushStatus::sent, {}, "skipped: no token"};
    }
    batch_ = &b;
    token_failure_.reset();
    fatal_.reset();
    run([&] { return b.todo.empty(); });
    batch_ = nullptr;
    retired_.clear();  // no transfer uses an old token's headers any more
    return std::move(b.results);
  }

  Result<void> connect() {
    std::lock_guard lock(mu_);
    if (token_usable(Clock::now())) return {};
    token_failure_.reset();
    start_refresh();
    run([] { return true; });
    if (token_failure_) return *token_failure_;
    return {};
  }

  Stats stats() const {
    std::lock_guard lock(mu_);
    return stats_;
  }

 private:
  bool token_usable(Clock::time_point now) const { return !token_.empty() && now < expires_at_; }

  /// Drives the multi handle until `idle()` holds and nothing is in flight.
  template <class Idle>
  void run(Idle idle) {
    // What arrived while no call was running (a GOAWAY, a closed connection) is handled
    // before any push is given to a connection.
    if (pool_) poll(0);
    for (;;) {
      const auto now = Clock::now();
      if (batch_ && in_flight_ == 0) batch_->release_all();  // nothing left to wait for
      if (batch_ && !batch_->todo.empty()) {
        if (!refreshing_ && !token_failure_ && (!token_usable(now) || now >= renew_at_)) start_refresh();
        if (!token_usable(now) && token_failure_ && !refreshing_) fail_waiting(*token_failure_);
        if (fatal_) give_back_waiting();
        while (!batch_->todo.empty() && token_usable(now) && in_flight_ < capacity_) {
          start_push(batch_->todo.front());
          batch_->todo.pop_front();
        }
      }
      if (pool_) {
        // One write per connection for everything ready; answers may free room at once.
        pool_->pump();
        if (collect_h2()) continue;
      }
      if (in_flight_ == 0 && !refreshing_ && idle()) return;
      int wait_ms = 100;
      if (timer_) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(*timer_ - Clock::now()).count();
        wait_ms = static_cast<int>(std::clamp<std::int64_t>(left, 0, wait_ms));
      }
      if (pool_ && pool_->pending() > 0) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(pool_->next_deadline() - Clock::now()).count();
        wait_ms = static_cast<int>(std::clamp<std::int64_t>(left, 0, wait_ms));
      }
      poll(wait_ms);
    }
  }

  /// Waits up to `wait_ms` for readiness and hands the events to curl or the nghttp2 pool.
  void poll(int wait_ms) {
    epoll_event events[64];
    const int n = epoll_wait(epoll_, events, 64, wait_ms);
    int running = 0;
    for (int i = 0; i < n; ++i) {
      const std::uint32_t e = events[i].events;
      if (events[i].data.u64 & h2::epoll_tag) {
        pool_->on_event(events[i].data.u64 & ~h2::epoll_tag, e);
        continue;
      }
      const int mask = ((e & EPOLLIN) ? CURL_CSELECT_IN : 0) | ((e & EPOLLOUT) ? CURL_CSELECT_OUT : 0) |
                       ((e & (EPOLLERR | EPOLLHUP)) ? CURL_CSELECT_ERR : 0);
      curl_multi_socket_action(multi_, events[i].data.fd, mask, &running);
    }
    if (timer_ && Clock::now() >= *timer_) {
      timer_.reset();
      curl_multi_socket_action(multi_, CURL_SOCKET_TIMEOUT, 0, &running);
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
      if (impl->batch_) impl->batch_->release(s);
      return 0;
    }
    const auto wanted = static_cast<std::uintptr_t>(what) | 0x100u;
    if (wanted == previous) return 0;
    epoll_event ev{};
    ev.data.fd = s;
    ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0u) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0u);
    if (epoll_ctl(impl->epoll_, previous ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s, &ev) != 0 && errno == EEXIST)
      epoll_ctl(impl->epoll_, EPOLL_CTL_MOD, s, &ev);
    curl_multi_assign(impl->multi_, s, reinterpret_cast<void*>(wanted));
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
    bool any = false;
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      any = true;
      CURL* easy = msg->easy_handle;
      const CURLcode code = msg->data.result;
      Transfer* t = nullptr;
      curl_easy_getinfo(easy, CURLINFO_PRIVATE, reinterpret_cast<char**>(&t));
      curl_multi_remove_handle(multi_, easy);
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
      r.error = t.error[0] ? std::string_view(t.error) : std::string_view(curl_easy_strerror(code));
      return r;
    }
    long status = 0;
    curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &status);
    r.status = static_cast<int>(status);
    curl_header* h = nullptr;
    if ((status < 200 || status >= 300) &&
        curl_easy_header(t.easy, "Retry-After", 0, CURLH_HEADER, -1, &h) == CURLHE_OK)
      r.retry_after = h->value;
    return r;
  }

  /// Handles the answers the nghttp2 pool has; false if there was none.
  bool collect_h2() {
    done_.clear();
    pool_->take(done_);
    for (const h2::Done& d : done_) {
      Reply reply;
      reply.transport = d.transport;
      reply.status = d.status;
      reply.body = d.body;
      if (d.status < 200 || d.status >= 300) reply.retry_after = d.retry_after;
      reply.error = d.error;
      const auto index = static_cast<std::size_t>(d.tag & 0xffffffffu);
      if (handled(index, d.tag >> 32, reply)) continue;
      if (reply.transport == Transport::broken && !batch_->resent[index]) {
        // The connection is gone already: the next try goes on another one.
        batch_->resent[index] = true;
        ++stats_.connection_retries;
        batch_->todo.push_back(index);
        continue;
      }
      record(index, reply);
    }
    return !done_.empty();
  }

  /// The outcomes both clients share: false if the push still needs its result.
  bool handled(std::size_t index, std::uint64_t generation, const Reply& reply) {
    --in_flight_;
    Batch& b = *batch_;
    if (!b.renewed[index] && needs_new_token(reply)) {
      // The token was revoked or expired early: renew it (once) and send this push again.
      b.renewed[index] = true;
      ++stats_.auth_retries;
      if ((generation & 0xffffffffu) == (generation_ & 0xffffffffu)) {
        wipe(token_);
        wipe(bearer_);
        expires_at_ = {};
      }
      b.todo.push_front(index);
      return true;
    }
    return false;
  }

  void record(std::size_t index, const Reply& reply) {
    PushResult& r = batch_->results[index];
    r = classify(reply);
    if (r.status == PushStatus::fatal && !fatal_) fatal_ = r.detail;
  }

  void push_done(Transfer& t, CURLcode code) {
    Batch& b = *batch_;
    const Reply reply = reply_of(t, code);
    if (handled(t.index, t.generation, reply)) return;
    if (!b.resent[t.index] && reply.transport == Transport::broken) {
      // The stream or its connection broke (reset, GOAWAY, closed): send it once more at
      // once rather than making the whole record wait. If the connection itself died, wait
      // until curl has let go of it, so the second try does not land on it too.
      b.resent[t.index] = true;
      ++stats_.connection_retries;
      curl_socket_t s = CURL_SOCKET_BAD;
      if (code != CURLE_HTTP2_STREAM) curl_easy_getinfo(t.easy, CURLINFO_ACTIVESOCKET, &s);
      if (s == CURL_SOCKET_BAD) b.todo.push_back(t.index);
      else b.parked[s].push_back(t.index);
      return;
    }
    record(t.index, reply);
  }

  void token_done(Transfer& t, CURLcode code) {
    refreshing_ = false;
    const Reply reply = reply_of(t, code);
    if (reply.transport == Transport::ok && reply.status == 200) {
      auto token = parse_token_response(t.response);
      if (token) install(std::move(*token));
      else token_failure_ = token.error();
    } else {
      token_failure_ = token_error(reply);
    }
    wipe(t.request);  // the signed assertion
    wipe(t.response);
  }

  void install(AccessToken token) {
    auto headers = std::make_unique<HeaderList>();
    if (!headers->add("Authorization: Bearer " + token.value) || !headers->add("Content-Type: application/json") ||
        !headers->add("Accept:")) {
      token_failure_ = Error{Errc::unavailable, "fcm: out of memory", {}};
      return;
    }
    if (headers_) retired_.push_back(std::move(headers_));
    headers_ = std::move(headers);
    wipe(token_);
    token_ = std::move(token.value);
    wipe(bearer_);
    bearer_ = "Bearer " + token_;
    ++generation_;
    const auto now = Clock::now();
    expires_at_ = now + token.expires_in;
    renew_at_ = expires_at_ - std::min<std::chrono::seconds>(opt_.renew_before, token.expires_in / 2);
  }

  void start_refresh() {
    const auto now_unix =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    auto assertion = make_assertion(account_, signer_, now_unix);
    if (!assertion) {
      token_failure_ = assertion.error();
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
      curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, token_headers_.list);
      t->configured = Transfer::Kind::token;
    }
    begin(*t);
    refreshing_ = true;
    ++stats_.token_requests;
  }

  void start_push(std::size_t i) {
    Batch& b = *batch_;
    if (pool_) {
      const Push& p = b.pushes[i];
      std::string body;
      b.bodies.try_emplace(p.message, *p.message, body_options_).first->second.render(body, p.token);
      pool_->post((generation_ << 32) | i, std::move(body), bearer_);
      ++in_flight_;
      ++stats_.requests;
      return;
    }
    Transfer* t = acquire();
    if (!t) {
      b.results[i] = {PushStatus::retry, {}, "fcm: cannot create a curl handle", true};
      return;
    }
    const Push& p = b.pushes[i];
    t->is_token = false;
    t->index = i;
    t->generation = generation_;
    b.bodies.try_emplace(p.message, *p.message, body_options_).first->second.render(t->request, p.token);
    if (t->configured != Transfer::Kind::push) {
      aim(t->easy, send_url_);
      t->configured = Transfer::Kind::push;
    }
    curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, headers_->list);
    begin(*t);
    ++in_flight_;
    ++stats_.requests;
  }

  void begin(Transfer& t) {
    t.response.clear();
    t.error[0] = '\0';
    curl_easy_setopt(t.easy, CURLOPT_POSTFIELDSIZE, static_cast<long>(t.request.size()));
    curl_easy_setopt(t.easy, CURLOPT_POSTFIELDS, t.request.data());
    curl_multi_add_handle(multi_, t.easy);
  }

  /// Pushes still waiting when the access token cannot be had.
  void fail_waiting(const Error& e) {
    const PushStatus status = is_transient(e.code) ? PushStatus::retry : PushStatus::fatal;
    for (std::size_t i : batch_->todo) batch_->results[i] = {status, {}, "fcm: " + e.message, true};
    batch_->todo.clear();
    if (status == PushStatus::fatal && !fatal_) fatal_ = e.message;
  }

  /// After a fatal answer nothing more is sent: the waiting pushes come back for later.
  void give_back_waiting() {
    for (std::size_t i : batch_->todo)
      batch_->results[i] = {PushStatus::retry, {}, "fcm: not sent after: " + *fatal_, true};
    batch_->todo.clear();
  }

  Transfer* acquire() {
    if (!idle_.empty()) {
      Transfer* t = idle_.back();
      idle_.pop_back();
      return t;
    }
    auto t = std::make_unique<Transfer>();
    t->easy = curl_easy_init();
    if (!t->easy) return nullptr;
    CURL* e = t->easy;
    curl_easy_setopt(e, CURLOPT_PRIVATE, t.get());
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &t->response);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->error);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 4096L);  // answers are a few hundred bytes
    curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(opt_.request_timeout.count()));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(opt_.connect_timeout.count()));
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!opt_.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, opt_.ca_file.c_str());
    transfers_.push_back(std::move(t));
    return transfers_.back().get();
  }

  ServiceAccount account_;  // without its private key
  Signer signer_;
  Options opt_;
  BodyOptions body_options_;
  std::string send_url_;
  std::size_t capacity_ = 1;

  mutable std::mutex mu_;
  CURLM* multi_ = nullptr;
  int epoll_ = -1;
  std::optional<Clock::time_point> timer_;  ///< when curl wants CURL_SOCKET_TIMEOUT
  std::vector<std::unique_ptr<Transfer>> transfers_;
  std::vector<Transfer*> idle_;
  std::size_t in_flight_ = 0;  ///< pushes in flight
  Batch* batch_ = nullptr;
  std::optional<std::string> fatal_;

  HeaderList token_headers_;
  std::unique_ptr<HeaderList> headers_;  ///< for the current access token
  std::vector<std::unique_ptr<HeaderList>> retired_;
  std::string token_;
  std::string bearer_;  ///< "Bearer <token>" for the nghttp2 client
  std::uint64_t generation_ = 0;
  std::unique_ptr<h2::Pool> pool_;  ///< the nghttp2 client, when chosen
  std::vector<h2::Done> done_;
  Clock::time_point expires_at_{};
  Clock::time_point renew_at_{};
  bool refreshing_ = false;
  std::optional<Error> token_failure_;
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
Result<void> PushProvider::connect() { return impl_->connect(); }
Stats PushProvider::stats() const { return impl_->stats(); }

}  // namespace notify::fcm
