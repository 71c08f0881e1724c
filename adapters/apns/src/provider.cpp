// SPDX-License-Identifier: MIT
#include "notify/apns/provider.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <mutex>
#include <optional>
#include <random>
#include <unordered_map>

#include "notify/apns/errors.hpp"
#include "notify/apns/payload.hpp"
#include "notify/http2/client.hpp"
#include "notify/plan.hpp"
#include "notify/toolkit/push_calls.hpp"
#include "notify/toolkit/secure.hpp"

namespace notify::apns {
namespace {

using Clock = std::chrono::steady_clock;
namespace h2 = notify::http2;

constexpr std::chrono::minutes min_refresh{20};
constexpr std::chrono::minutes max_refresh{55};

/// The rendering of one message shared by all its tokens.
struct Rendered {
  std::string payload;
  std::string priority;
  std::string collapse_id;
  std::size_t refs = 0;
};

struct Slot {
  Push push;
  std::uint64_t tag = 0;      ///< the caller's tag (for send(): the index of the push)
  Rendered* body = nullptr;   ///< the rendering of push.message
  std::string apns_id;        ///< the request's apns-id (kept across the retries)
  bool sync = false;          ///< a push of send(): its answer goes to send()'s results
  bool renewed = false;       ///< already re-sent after a 403 provider-token error
  bool resent = false;        ///< already re-sent after its connection broke
};

std::int64_t unix_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

Result<std::string> resolve_endpoint(std::string_view name_or_url) {
  if (name_or_url == "production") return std::string(production_endpoint);
  if (name_or_url == "sandbox" || name_or_url == "development") return std::string(sandbox_endpoint);
  if (name_or_url.starts_with("https://") || name_or_url.starts_with("http://")) return std::string(name_or_url);
  return Error{Errc::configuration, "apns: the endpoint must be production, sandbox or an http(s):// URL", "endpoint"};
}

class PushProvider::Impl : public toolkit::PushCalls<Impl> {
 public:
  Impl(Credentials credentials, Signer signer, Options options)
      : key_id_(std::move(credentials.key_id)),
        team_id_(std::move(credentials.team_id)),
        signer_(std::move(signer)),
        opt_(std::move(options)),
        random_(std::random_device{}()) {
    toolkit::wipe(credentials.key_pem);  // the Signer holds the key from now on
    refresh_ = std::clamp<std::chrono::minutes>(opt_.token_refresh, min_refresh, max_refresh);
    capacity_ = std::max<std::size_t>(1, opt_.connections * opt_.streams_per_connection);
    base_path_ = "/3/device/";
  }

  Result<void> init() {
    std::string endpoint = opt_.endpoint;
    while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
    auto target = h2::parse_url(endpoint);
    if (!target) return target.error();
    if (target->path != "/") base_path_ = target->path + base_path_;
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_ < 0) return Error{Errc::configuration, "apns: cannot create an epoll instance", {}};
    auto pool = h2::Pool::create(h2::Config{std::move(*target), opt_.ca_file, opt_.connections,
                                            opt_.streams_per_connection, opt_.connect_timeout, opt_.request_timeout},
                                 epoll_);
    if (!pool) return pool.error();
    pool_ = std::move(*pool);
    return {};
  }

  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  ~Impl() {
    pool_.reset();
    if (epoll_ >= 0) close(epoll_);
    toolkit::wipe(bearer_);
  }

  Stats stats() const {
    std::lock_guard lock(mu_);
    return stats_;
  }

 private:
  friend class toolkit::PushCalls<Impl>;

  void fresh_start() { fatal_.reset(); }

  std::string new_apns_id() {
    // A random (version 4) UUID in lower case.
    const std::uint64_t hi = (random_() & ~std::uint64_t{0xf000}) | 0x4000;
    const std::uint64_t lo = (random_() & ~(std::uint64_t{0xc} << 60)) | (std::uint64_t{0x8} << 60);
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(36);
    auto put = [&](std::uint64_t v, int from_bit, int nibbles) {
      for (int k = 0; k < nibbles; ++k) out += hex[(v >> (from_bit - 4 * (k + 1))) & 0xf];
    };
    put(hi, 64, 8);
    out += '-';
    put(hi, 32, 4);
    out += '-';
    put(hi, 16, 4);
    out += '-';
    put(lo, 64, 4);
    out += '-';
    put(lo, 48, 12);
    return out;
  }

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
    auto [it, fresh] = bodies_.try_emplace(push.message);
    Rendered& body = it->second;
    if (fresh) {
      body.payload = payload(*push.message);
      const Delivery d = delivery_of(*push.message);
      body.priority = std::to_string(d.priority);
      body.collapse_id = std::string(d.collapse_id);
    }
    ++body.refs;
    slots_[i] = Slot{push, tag, &body, new_apns_id(), sync, false, false};
    todo_.push_back(i);
    return true;
  }

  void answer(std::uint32_t i, PushResult result) {
    Slot& s = slots_[i];
    if (--s.body->refs == 0) bodies_.erase(s.push.message);
    deliver(s.tag, s.sync, std::move(result));
    s = Slot{};
    free_.push_back(i);
  }

  /// A provider token that may be used now: made when none is, or when the one in use has
  /// served `refresh_`. False (and the waiting pushes answered) when signing fails.
  bool ensure_token(Clock::time_point now) {
    if (!bearer_.empty() && now - made_at_ < refresh_) return true;
    if (!bearer_.empty()) forced_ = false;  // renewed for its age, not after a 403
    auto jwt = make_jwt(key_id_, team_id_, signer_, unix_seconds());
    if (!jwt) {
      if (!fatal_) fatal_ = jwt.error().message;
      return false;
    }
    toolkit::wipe(bearer_);
    bearer_ = "bearer " + *jwt;
    toolkit::wipe(*jwt);
    made_at_ = now;
    ++generation_;
    ++stats_.tokens_made;
    return true;
  }

  template <class Done>
  void drive(Clock::time_point deadline, Done done) {
    wait_events(0);
    for (bool first = true;; first = false) {
      const auto now = Clock::now();
      if (!todo_.empty()) {
        if (fatal_) give_back_waiting();
        else if (ensure_token(now)) {
          while (!todo_.empty() && on_wire_ < capacity_) {
            const std::uint32_t i = todo_.front();
            todo_.pop_front();
            start_push(i);
          }
        } else {
          give_back_waiting();
        }
      }
      pool_->pump();
      if (collect()) continue;
      if (done()) return;
      if (on_wire_ == 0 && todo_.empty()) return;  // nothing can come
      const auto left_ms = [](Clock::time_point t) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(t - Clock::now()).count();
        return static_cast<int>(std::clamp<std::int64_t>(left, 0, 100));
      };
      int wait_ms = deadline == Clock::time_point::max() ? 100 : left_ms(deadline);
      if (!first && wait_ms == 0) return;  // the deadline passed, after one look at the sockets
      if (pool_->pending() > 0) wait_ms = std::min(wait_ms, left_ms(pool_->next_deadline()));
      wait_events(wait_ms);
    }
  }

  void wait_events(int wait_ms) {
    epoll_event events[64];
    const int n = epoll_wait(epoll_, events, 64, wait_ms);
    for (int i = 0; i < n; ++i)
      if (events[i].data.u64 & h2::epoll_tag) pool_->on_event(events[i].data.u64 & ~h2::epoll_tag, events[i].events);
  }

  bool collect() {
    done_.clear();
    pool_->take(done_);
    for (h2::Done& d : done_) {
      --on_wire_;
      const auto index = static_cast<std::uint32_t>(d.tag & 0xffffffffu);
      const std::uint64_t generation = d.tag >> 32;
      Slot& s = slots_[index];
      Reply reply;
      reply.transport = d.transport;
      reply.status = d.status;
      reply.body = std::move(d.body);
      if (d.status != 200) reply.retry_after = std::move(d.retry_after);
      reply.error = std::move(d.error);
      reply.apns_id = s.apns_id;
      if (!s.renewed && needs_new_token(reply)) {
        s.renewed = true;
        ++stats_.auth_retries;
        // One renewal for all the pushes that saw the same token, and none for a token
        // that was itself made after such an answer: a rejection of it is final.
        // APNs refuses renewals more often than every 20 minutes (429
        // TooManyProviderTokenUpdates): within that time of the last forced renewal the
        // push is re-sent with the token in use, and a second rejection is final.
        const auto now = Clock::now();
        if ((generation & 0xffffffffu) == (generation_ & 0xffffffffu) && !forced_ &&
            (!last_forced_ || now - *last_forced_ >= min_refresh)) {
          toolkit::wipe(bearer_);
          forced_ = true;
          last_forced_ = now;
        }
        todo_.push_front(index);
        continue;
      }
      if (reply.transport == Transport::broken && !s.resent) {
        s.resent = true;
        ++stats_.connection_retries;
        todo_.push_back(index);
        continue;
      }
      if (reply.status == 200 && forced_ && (generation & 0xffffffffu) == (generation_ & 0xffffffffu))
        forced_ = false;  // the renewed token works
      PushResult r = classify(reply);
      if (r.status == PushStatus::fatal && !fatal_) fatal_ = r.detail;
      answer(index, std::move(r));
    }
    return !done_.empty();
  }

  void start_push(std::uint32_t i) {
    const Slot& slot = slots_[i];
    h2::Request req;
    req.path.reserve(base_path_.size() + slot.push.token.size());
    req.path = base_path_;
    req.path += slot.push.token;
    req.body = slot.body->payload;
    req.headers.reserve(6);
    req.headers.push_back({"apns-topic", opt_.topic});
    req.headers.push_back({"apns-push-type", "alert"});
    req.headers.push_back({"apns-priority", slot.body->priority});
    req.headers.push_back({"apns-expiration", std::to_string(unix_seconds() + opt_.time_to_live.count())});
    if (!slot.body->collapse_id.empty()) req.headers.push_back({"apns-collapse-id", slot.body->collapse_id});
    req.headers.push_back({"apns-id", slot.apns_id, false});
    pool_->post(((generation_ & 0xffffffffu) << 32) | i, std::move(req), bearer_);
    ++on_wire_;
    ++stats_.requests;
  }

  void give_back_waiting() {
    std::deque<std::uint32_t> waiting;
    waiting.swap(todo_);
    const std::string why = fatal_ ? *fatal_ : std::string("apns: no provider token");
    for (std::uint32_t i : waiting) answer(i, {PushStatus::retry, {}, "apns: not sent after: " + why, true, RetryScope::provider});
  }

  std::string key_id_;
  std::string team_id_;
  Signer signer_;
  Options opt_;
  std::mt19937_64 random_;
  std::chrono::minutes refresh_{40};
  std::size_t capacity_ = 1;
  std::string base_path_;

  int epoll_ = -1;
  std::unique_ptr<h2::Pool> pool_;
  std::vector<h2::Done> done_;
  std::size_t on_wire_ = 0;

  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_;
  std::deque<std::uint32_t> todo_;
  std::unordered_map<const Message*, Rendered> bodies_;
  std::optional<std::string> fatal_;

  std::string bearer_;  ///< "bearer <JWT>": a secret, wiped when replaced
  Clock::time_point made_at_{};
  std::uint64_t generation_ = 0;
  bool forced_ = false;  ///< the token in use was made after a 403 and has not worked yet
  std::optional<Clock::time_point> last_forced_;  ///< when a 403 last made the token renew
  Stats stats_;
};

Result<PushProvider> PushProvider::create(Credentials credentials, Options options) {
  struct Wipe {  // the key never outlives this call in `credentials`, whatever the outcome
    std::string& key;
    ~Wipe() { toolkit::wipe(key); }
  } wipe_key{credentials.key_pem};
  auto endpoint = resolve_endpoint(options.endpoint);
  if (!endpoint) return endpoint.error();
  options.endpoint = std::move(*endpoint);
  if (options.topic.empty()) return Error{Errc::configuration, "apns: no topic (the app's bundle id)", "topic"};
  if (options.connections == 0 || options.streams_per_connection == 0)
    return Error{Errc::configuration, "apns: connections and streams per connection must be at least 1", {}};
  if (credentials.key_id.empty()) return Error{Errc::configuration, "apns: the key id is missing", "key_id"};
  if (credentials.team_id.empty()) return Error{Errc::configuration, "apns: the team id is missing", "team_id"};
  auto signer = Signer::load(credentials.key_pem);
  if (!signer) return signer.error();
  auto impl = std::make_unique<Impl>(std::move(credentials), std::move(*signer), std::move(options));
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
Stats PushProvider::stats() const { return impl_->stats(); }

}  // namespace notify::apns
