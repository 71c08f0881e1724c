// SPDX-License-Identifier: MIT
#pragma once

/// notify::outbox::Outbox: a producer's local, durable journal of requests its queue did
/// not take (down, throttling), and the relay that sends them later, in order, with their
/// bodies (id, createdAt, traceparent) exactly as they were. One directory holds the
/// journal (see journal.hpp) and a lock file: one process at a time writes it.
///
/// Durability: with Sync::each (the default) append() returns only after the record and
/// everything before it reached the disk (fdatasync); Sync::group gives the same
/// guarantee and lets concurrent appenders share one fdatasync; Sync::os returns after
/// write(): safe if the process dies, lost if the machine does (power, kernel) before
/// the kernel writes it back or flush() is called. The relay sends, then journals an
/// acknowledgement: a crash between the two sends the same requests again, which the
/// worker's idempotency (by request id) delivers once.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "notify/outbox/journal.hpp"
#include "notify/result.hpp"

namespace notify::outbox {

/// When an append is on disk.
enum class Sync : std::uint8_t {
  each,   ///< one fdatasync per append() call before it returns
  group,  ///< appends waiting at once share one fdatasync; each still returns after it
  os,     ///< no fdatasync on append (the kernel writes back; flush() forces it)
};

/// How an outbox is opened.
struct Options {
  Sync sync = Sync::each;
  /// With Sync::group: how long the thread about to sync waits for more appends to join.
  std::chrono::microseconds group_window{0};
  /// The journal's size limit; an append that would pass it fails (Errc::too_many_items).
  std::uint64_t max_bytes = 256ull << 20;
  /// How long open() waits for another process's lock (0: fail at once).
  std::chrono::milliseconds lock_wait{0};
  /// Cut a torn tail when opening (a writer does; only a read-only look leaves it).
  bool read_only = false;
};

/// Where a request goes: the queue as given, and its priority (1: Redis's high stream).
struct Destination {
  std::string queue;
  std::uint8_t priority = 0;
};

/// The figures of `notifyctl outbox status` and the metrics.
struct Stats {
  std::size_t depth = 0;              ///< requests waiting
  std::uint64_t pending_bytes = 0;    ///< their bodies' bytes
  std::uint64_t file_bytes = 0;       ///< the journal's size
  std::int64_t oldest_enqueued_ms = -1;  ///< when the oldest waiting one was appended (-1: none)
  std::uint64_t appended = 0;         ///< requests appended by this process
  std::uint64_t relayed = 0;          ///< requests the relay sent (this process)
  std::uint64_t relay_failures = 0;   ///< relay attempts a queue refused (this process)
  std::uint64_t damaged_records = 0;  ///< damaged stretches skipped when the journal was read
  std::uint64_t torn_bytes = 0;       ///< bytes of a torn tail cut when it was opened
};

/// Sends one batch of bodies to their destination; an error stops the relay there.
using Sender = std::function<Result<void>(const Destination&, std::span<const std::string> bodies)>;

/// What one relay() did.
struct RelayResult {
  std::size_t relayed = 0;        ///< requests sent and acknowledged
  std::optional<Error> error;     ///< why it stopped early (the queue's error), if it did
};

class Outbox {
 public:
  /// Opens (creating) the outbox in `dir`: takes the lock, reads the journal, cuts a
  /// torn tail. Errc::unavailable if another process holds the lock, Errc::io_error for
  /// a file that cannot be read or written, Errc::protocol_error for a file that is no
  /// journal.
  static Result<Outbox> open(const std::string& dir, const Options& options = {});
  /// Reads the journal without the lock and without changing it (status, list).
  static Result<Scan> inspect(const std::string& dir);

  Outbox(Outbox&&) noexcept;
  Outbox& operator=(Outbox&&) noexcept;
  ~Outbox();

  /// Appends requests, all to one destination, in order; returns once they are as durable
  /// as Options::sync says. On an error nothing of this call is kept (a short write is cut
  /// off again): Errc::too_many_items when the journal would pass max_bytes, Errc::io_error
  /// when the disk refuses (full, over RLIMIT_FSIZE, fdatasync failed; after a failed
  /// fdatasync every later append fails too: the kernel may have dropped the pages).
  Result<void> append(const Destination& to, std::span<const std::string> bodies);
  /// fdatasync now (Sync::os).
  Result<void> flush();

  /// Sends the waiting requests in order, up to `max_batch` of one destination per call
  /// of `send`, journalling an acknowledgement after each batch the queue took; stops at
  /// the first error (the batch stays, first in line) or after `max_requests`.
  RelayResult relay(const Sender& send, std::size_t max_batch = 100, std::size_t max_requests = SIZE_MAX);

  /// Removes the waiting requests up to sequence number `seq` without sending them (for a
  /// request its queue will never take, which would hold up every one behind it); returns
  /// them, oldest first. Journalled like an acknowledgement.
  Result<std::vector<Entry>> discard_through(std::uint64_t seq);

  /// The requests waiting, oldest first (copies).
  std::vector<Entry> pending() const;
  Stats stats() const;
  /// The directory and journal file, for messages.
  const std::string& dir() const noexcept;

  /// Rewrites the journal with only what waits (a new file renamed over the old one).
  /// relay() does it by itself when the journal is empty or mostly acknowledged.
  Result<void> compact();

 private:
  struct State;
  explicit Outbox(std::unique_ptr<State> s);
  std::unique_ptr<State> s_;
};

/// How relay_loop paces itself.
struct RelayLoopOptions {
  std::chrono::milliseconds interval{1000};     ///< between relays while the outbox is empty or drained
  std::chrono::milliseconds max_backoff{30000}; ///< the longest wait after repeated failures (doubling)
  std::size_t max_batch = 100;
};

/// Relays until `stop` is requested: at once, then every interval; after a failure
/// waits interval, 2x, 4x ... up to max_backoff. `on_result` sees each relay that sent
/// something or failed (for logs and metrics). For a thread of a long-running producer:
/// `std::jthread t([&](std::stop_token st) { relay_loop(box, send, st); });`
void relay_loop(Outbox& box, const Sender& send, std::stop_token stop, const RelayLoopOptions& options = {},
                const std::function<void(const RelayResult&)>& on_result = {});

/// `redis://user:secret@host` as `redis://host`: a queue URL without credentials, for messages.
std::string redact(std::string_view queue);

/// Milliseconds since 1970 now.
std::int64_t now_ms() noexcept;

}  // namespace notify::outbox
