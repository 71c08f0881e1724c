// SPDX-License-Identifier: MIT
#pragma once

/// The transport concepts adapters satisfy (queue, member store, push provider, inbox,
/// idempotency store) and the plain records that cross them. No I/O here.

#include <algorithm>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "notify/members.hpp"
#include "notify/result.hpp"

namespace notify {

struct Message;  // notify/plan.hpp: a Push only points to one

/// One message taken from a queue.
struct QueueRecord {
  std::string id;       ///< the queue's message id; stable across redeliveries
  std::string receipt;  ///< what settle() needs to ack / delay / dead-letter this delivery
  std::string body;
  int receive_count = 1;          ///< deliveries so far, this one included
  std::int64_t sent_at_ms = 0;    ///< when the producer sent it (Unix ms), 0 if unknown
  std::string group{};            ///< the FIFO message group (SQS FIFO queues), empty otherwise
  /// How many of the earlier deliveries ended in an outage retry (Outcome::outage): they
  /// do not count toward dead-lettering. 0 for queues that cannot tell.
  int outages = 0;
};

/// What should happen to a record after processing.
enum class Disposition : std::uint8_t { done, retry, dead_letter };

constexpr std::string_view to_string(Disposition d) noexcept {
  switch (d) {
    case Disposition::done: return "done";
    case Disposition::retry: return "retry";
    case Disposition::dead_letter: return "dead_letter";
  }
  return "";
}

/// The outcome of one record: ack it, bring it back after `delay`, or dead-letter it.
struct Outcome {
  Disposition disposition = Disposition::done;
  std::chrono::milliseconds delay{0};
  std::string reason;  ///< why it is retried or dead-lettered (JSON errors for invalid input)
  /// The retry is due to an outage (a service down, our configuration), not to this
  /// record: a queue that dead-letters after N deliveries must not count it.
  bool outage = false;
};

/// The wall clock in Unix milliseconds: the clock of the queues' sent-at and dead-at times
/// and of Lambda's invocation deadline.
inline std::int64_t unix_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// A record a queue holds in its dead-letter place, as a queue lists it for people
/// (`notifyctl dlq list`) and for redrive.
struct DeadLetter {
  std::string entry_id;  ///< its id in the dead-letter stream or queue (for redrive)
  std::string id;        ///< the request id
  std::string body;
  std::string reason;
  int deliveries = 0;
  std::int64_t sent_at_ms = 0;
  std::int64_t dead_at_ms = 0;
  std::string origin;  ///< the stream or queue it came from (and goes back to on redrive)
};

/// A queue's counts as an operator sees them (notifyctl queue stats, the worker's gauges).
/// -1: the queue cannot tell.
struct QueueStats {
  std::int64_t depth = -1;    ///< waiting to be received (not yet delivered)
  std::int64_t pending = -1;  ///< received and not yet settled (in flight in some worker)
  std::int64_t delayed = -1;  ///< retries waiting for their delay
  std::int64_t dead = -1;     ///< dead letters
  std::int64_t oldest_pending_ms = -1;  ///< how long the oldest pending record has been held
  struct Consumer { std::string name; std::int64_t pending = 0; std::int64_t idle_ms = -1; };
  std::vector<Consumer> consumers;  ///< pending per consumer (Redis consumer groups; empty for SQS)
};

/// A record paired with its outcome, for Queue::settle.
struct Settlement {
  const QueueRecord* record = nullptr;
  Outcome outcome;
};

/// A queue: receive a batch, settle a batch (ack / retry later / dead-letter), send bodies.
template <class Q>
concept Queue = requires(Q& q, std::size_t max, std::chrono::milliseconds wait, std::span<const Settlement> settle,
                         std::span<const std::string> bodies) {
  { q.receive(max, wait) } -> std::same_as<Result<std::vector<QueueRecord>>>;
  { q.settle(settle) } -> std::same_as<Result<void>>;
  { q.send(bodies) } -> std::same_as<Result<void>>;
};

/// A queue that can keep records a worker holds from going to another worker while it
/// works on them (Redis: re-claiming its own entries; SQS: extending their visibility).
/// keep_alive() answers, per record, whether this worker still holds it: a record taken
/// over meanwhile is false and must not be settled here. lease_interval() is how often
/// the leases need renewing.
template <class Q>
concept LeasedQueue = Queue<Q> && requires(Q& q, std::span<const QueueRecord* const> records) {
  { q.keep_alive(records) } -> std::same_as<Result<std::vector<bool>>>;
  { q.lease_interval() } -> std::same_as<std::chrono::milliseconds>;
};

/// The families of a lookup, plus the stored values that could not be read (skipped).
struct FamilyLookup {
  Families families;
  std::vector<Error> problems;
};

/// The member store: one round trip for a whole batch, plus the main API's writer side.
template <class S>
concept MemberStore = requires(S& s, std::span<const Id> ids, Id id, const Member& m, std::string_view token) {
  { s.families(ids) } -> std::same_as<Result<FamilyLookup>>;
  { s.set_member(id, m) } -> std::same_as<Result<void>>;
  { s.remove_member(id, id) } -> std::same_as<Result<void>>;
  { s.remove_family(id) } -> std::same_as<Result<void>>;
  /// Removes the member's device with this token (a first-version `fcmToken` too), only
  /// if it is still there and, when `registered_at` is not empty, still has that
  /// registeredAt (not registered again meanwhile): a compare-and-set. True if it did.
  { s.remove_token(id, id, token, token) } -> std::same_as<Result<bool>>;
};

/// One push to send: a message to one device, through the service the device is reached by.
struct Push {
  const Message* message = nullptr;
  std::string_view token;
  PushService service = PushService::fcm;
  /// AlimTalk: SENS may send an SMS/LMS in its place when KakaoTalk cannot deliver it
  /// (the route names sms after alimtalk and the member allows SMS; see Target).
  bool sms_fallback = false;
};

/// What became of one push.
enum class PushStatus : std::uint8_t {
  sent,           ///< accepted by the provider
  invalid_token,  ///< the token is dead: clean it up, do not retry
  retry,          ///< transient: try again later (after retry_after at least)
  failed,         ///< permanent for this push (e.g. a rejected payload): give up with the reason
  fatal,          ///< credentials or configuration: stop the worker, keep the record
};

constexpr std::string_view to_string(PushStatus s) noexcept {
  switch (s) {
    case PushStatus::sent: return "sent";
    case PushStatus::invalid_token: return "invalid_token";
    case PushStatus::retry: return "retry";
    case PushStatus::failed: return "failed";
    case PushStatus::fatal: return "fatal";
  }
  return "";
}

/// How far the cause of a retry reaches: this push only, every push to its device (a
/// device's message rate), or every push through the provider (down, project quota).
enum class RetryScope : std::uint8_t { push, token, provider };

struct PushResult {
  PushStatus status = PushStatus::sent;
  std::chrono::milliseconds retry_after{0};
  std::string detail;  ///< the provider's message name when sent, the reason otherwise
  /// A retry because the provider (or the way to it) failed, not this push: down,
  /// unreachable, overloaded, throttled. Such retries never dead-letter a record.
  bool outage = false;
  /// For a retry: whom `retry_after` (and the condition behind it) applies to.
  RetryScope scope = RetryScope::push;
  /// invalid_token: when the provider saw the token stop being valid (Unix ms), 0 if it
  /// does not say. A device registered after it is kept.
  std::int64_t invalid_since_ms = 0;
};

/// A push provider: one result per push, in order.
template <class P>
concept PushProvider = requires(P& p, std::span<const Push> pushes) {
  { p.send(pushes) } -> std::same_as<std::vector<PushResult>>;
};

/// An answer of an AsyncPushProvider, under the tag its push was submitted with.
struct PushDone {
  std::uint64_t tag = 0;
  PushResult result;
};

/// A push provider that takes pushes one at a time and answers each as it completes, so
/// the pushes of many records share its connections. submit() never waits on the
/// network; poll() appends the answers that are ready, waiting up to `wait` only while
/// there is none; in_flight() counts pushes submitted and not yet answered. What a
/// submitted Push points to (message, token) must stay valid until it is answered.
template <class P>
concept AsyncPushProvider = requires(P& p, const Push& push, std::uint64_t tag, std::chrono::milliseconds wait,
                                     std::vector<PushDone>& out) {
  { p.submit(push, tag) } -> std::same_as<void>;
  { p.poll(wait, out) } -> std::same_as<void>;
  { p.in_flight() } -> std::same_as<std::size_t>;
};

/// Where inbox records go: one JSON array body per request.
template <class I>
concept InboxSink = requires(I& i, std::span<const std::string> bodies) {
  { i.publish(bodies) } -> std::same_as<Result<void>>;
};

/// Remembers which deliveries were made, with a TTL; both calls are one round trip.
template <class D>
concept IdempotencyStore = requires(D& d, std::span<const std::string> keys, std::chrono::seconds ttl) {
  { d.seen(keys) } -> std::same_as<Result<std::vector<bool>>>;
  { d.remember(keys, ttl) } -> std::same_as<Result<void>>;
};

/// An address shortened for logs. A device token: its first 6 and last 4 characters; an
/// e-mail address: its domain after the first 2 characters of its local part (1 when
/// the local part is shorter than 4: "mo...@example.kr", "m...@x.kr"); a phone number
/// in E.164: "+" with its first 2 and last 4 digits ("+82...5678"; the last 2 for a
/// number under 10 digits).
inline std::string short_token(std::string_view token) {
  if (const std::size_t at = token.rfind('@'); at != std::string_view::npos)
    return std::string(token.substr(0, std::min<std::size_t>(at, at < 4 ? 1 : 2))) + "..." +
           std::string(token.substr(at));
  if (token.size() > 7 && token[0] == '+') {
    const std::size_t tail = token.size() < 11 ? 2 : 4;
    return std::string(token.substr(0, 3)) + "..." + std::string(token.substr(token.size() - tail));
  }
  if (token.size() <= 12) return std::string(token.substr(0, 3)) + "...";
  return std::string(token.substr(0, 6)) + "..." + std::string(token.substr(token.size() - 4));
}

}  // namespace notify
