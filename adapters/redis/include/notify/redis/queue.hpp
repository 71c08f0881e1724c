// SPDX-License-Identifier: MIT
#pragma once

/// A queue on Redis Streams with a consumer group. Keys, for a base name `S`:
///   `S:high`, `S`        the streams, highest priority first (entry fields: rid, body, n, sent, o)
///   `S:delayed`          a sorted set of retries scored by due time (Unix ms, server clock),
///   `S:delayed:<member>` each retry's fields until it is due
///   `S:dead`             the dead-letter stream (fields: rid, body, reason, n, sent, origin, at)
/// `rid` is the request id (QueueRecord::id, stable across retries), `n` how many times
/// the request was delivered before this entry, `o` how many of those ended in an outage
/// retry (they do not count toward max_deliveries; absent: 0), `sent` the producer's Unix ms.

#include <chrono>
#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "notify/redis/connection.hpp"
#include "notify/transport.hpp"

namespace notify::redis {

/// Priority levels; higher ones are drained first.
enum class Priority : std::uint8_t { high, normal };

struct QueueOptions {
  std::string stream = "notify";      ///< the base name S of every key
  std::string group = "notify";       ///< the consumer group
  std::string consumer;               ///< this consumer's name; empty: host-pid-random
  std::size_t max_length = 1000000;   ///< XADD MAXLEN ~ (0: unbounded); keep far above any backlog
  /// A retry at this many deliveries dead-letters; deliveries that ended in an outage
  /// retry (Outcome::outage) are not counted, nor are deliveries abandoned by a worker that
  /// stopped: a claim dead-letters only once twice this many workers died holding the
  /// record (it likely stops them).
  int max_deliveries = 5;
  /// Entries pending longer are taken from their consumer (presumed dead): keep it well
  /// above the longest batch, or keep the batch's leases alive (keep_alive() every
  /// lease_interval()), or a slow consumer's records are processed twice (the
  /// idempotency store then stops repeated pushes).
  std::chrono::milliseconds claim_idle{30000};
  bool delete_acked = true;           ///< XDEL settled entries so the streams hold only live ones
};

/// A redis:// queue URL: `redis://[user:password@]host:port/STREAM[?db=N]`.
struct QueueAddress {
  Options connection;
  std::string stream;
};
Result<QueueAddress> parse_queue_url(std::string_view url);

/// One entry of the dead-letter place (notify::DeadLetter, shared by the queues).
using DeadLetter = notify::DeadLetter;

/// notify::LeasedQueue on Redis Streams. receive() is one round trip when records are
/// ready (a Lua script: due retries go back, entries abandoned by a crashed consumer are
/// claimed, new entries are read, highest priority first); otherwise it blocks with
/// XREADGROUP.
///
/// After every new connection (the first one and each reconnect) receive() first hands
/// out this consumer's own pending entries again (XREADGROUP ... ID 0): entries delivered
/// to it whose reply may have been lost with the connection, which would otherwise wait
/// claim_idle for another consumer. The same entries may still be held by the caller
/// (received before the connection broke): they come back with the same receipt, so a
/// caller holding records drops a received record whose receipt it already holds. The
/// consumer name must therefore be unique per live Queue (the default is).
class Queue {
 public:
  Queue(Options connection, QueueOptions options = {});

  /// Up to `max` records, waiting up to `wait` for the first.
  Result<std::vector<QueueRecord>> receive(std::size_t max, std::chrono::milliseconds wait);
  /// Acks, delays or dead-letters each record: one round trip for the batch.
  Result<void> settle(std::span<const Settlement> settlements);
  /// Appends bodies (XADD MAXLEN ~): one round trip. The request id is the envelope "id"
  /// when the body has one, else a fresh unique id.
  Result<void> send(std::span<const std::string> bodies, Priority priority = Priority::normal);

  /// Keeps this consumer's entries from being claimed by others (resets their idle time
  /// with XCLAIM ... JUSTID, without counting a delivery), one round trip for the batch
  /// (a Lua script). Per record: true if it is still pending for this consumer; false if
  /// it was settled, claimed by another consumer meanwhile (it is never taken back), or
  /// its receipt is not one of this queue's.
  Result<std::vector<bool>> keep_alive(std::span<const QueueRecord* const> records);
  /// How often keep_alive() must run: claim_idle / 3, at least 100 ms.
  std::chrono::milliseconds lease_interval() const noexcept;

  /// Records that will still come back: delivered and unsettled, or delayed.
  Result<std::size_t> pending_count();
  /// pending_count() where a failure counts as "some" (the maximum, shown as unknown).
  std::size_t pending();

  /// How many dead letters there are now (XLEN of `S:dead`).
  Result<std::size_t> dead_letter_count();

  /// The queue's counts, one round trip (a read-only Lua script):
  ///   depth    entries not yet delivered to the group: its `lag` (XINFO GROUPS, Redis 7);
  ///            where Redis cannot tell (before 7, or after an XDEL at the group's last
  ///            delivered entry) XLEN less the pending entries when delete_acked, else -1
  ///   pending  XPENDING's count over both streams; `consumers` each consumer holding
  ///            entries, with its pending count and idle time (XINFO CONSUMERS), summed
  ///            over both streams (the least idle time)
  ///   oldest_pending_ms  the longest idle time of a pending entry (XPENDING extended form,
  ///            the earliest 1000 per stream, so a probe every few seconds stays cheap
  ///            for Redis): since its delivery or its last keep_alive(),
  ///            so a live worker's entries stay under lease_interval() and a large figure
  ///            means entries held by a consumer that stopped; -1 when nothing is pending
  ///   delayed  ZCARD of `S:delayed`; dead: XLEN of `S:dead`
  /// It creates nothing: before the first receive() every entry counts as depth.
  Result<QueueStats> stats();

  /// The oldest dead letters, up to `max`.
  Result<std::vector<DeadLetter>> dead_letters(std::size_t max = 100);
  /// Moves the given dead letters (by entry_id) back to their stream with a fresh
  /// delivery count; with no ids, the oldest `max`. Returns how many moved.
  Result<std::size_t> redrive(std::span<const std::string> entry_ids, std::size_t max = 100);

  const std::string& stream(Priority priority) const noexcept { return streams_[static_cast<std::size_t>(priority)]; }
  const std::string& dead_letter_stream() const noexcept { return dead_; }
  const std::string& delayed_key() const noexcept { return delayed_; }
  const QueueOptions& options() const noexcept { return opt_; }
  Connection& connection() noexcept { return conn_; }

 private:
  Result<Reply> run(Command command, std::chrono::milliseconds extra = std::chrono::milliseconds(0));
  Result<void> create_groups();
  Result<std::chrono::milliseconds> poll(std::size_t max, std::vector<QueueRecord>& out);
  Result<void> block(std::size_t max, std::chrono::milliseconds wait, std::vector<QueueRecord>& out);
  std::string request_id(const std::string& body);

  Connection conn_;
  QueueOptions opt_;
  std::vector<std::string> streams_;  // by Priority
  std::string delayed_;
  std::string dead_;
  bool groups_ready_ = false;
  std::deque<QueueRecord> stash_;  // read beyond `max` by a blocking read; returned first
  std::uint64_t seen_connects_ = 0;   // conn_.connects() when receive() last looked
  std::vector<std::string> recover_;  // per level: own pending entries to re-read after this id ("": none)
  std::uint64_t id_seed_ = 0;
  std::uint64_t id_counter_ = 0;
};

static_assert(notify::LeasedQueue<Queue>);

}  // namespace notify::redis
