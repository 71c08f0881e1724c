// SPDX-License-Identifier: MIT
#pragma once

/// notify::Queue on Amazon SQS (standard or FIFO), JSON protocol.
///
///   receive   ReceiveMessage (long poll up to 20 s, at most 10, every system attribute);
///             QueueRecord::outages counts the outage retries this process settled for the
///             record (SQS keeps no such count: the queue's maxReceiveCount counts every
///             receive, so set it well above notify's max deliveries)
///   settle    done: DeleteMessageBatch; retry: ChangeMessageVisibilityBatch to the delay;
///             dead_letter: SendMessageBatch to the dead-letter queue with the reason, then
///             DeleteMessageBatch. Each batch answer is read entry by entry.
///   keep_alive ChangeMessageVisibilityBatch (10 entries a call) to the lease length again:
///             QueueOptions::visibility_timeout when set, else the queue's VisibilityTimeout
///             attribute (GetQueueAttributes, read once). A receipt SQS no longer honours
///             (is_lost_receipt) answers false; throttling and 5xx fail the call.
///   send      SendMessageBatch (10 entries, the size limit) with the request id as the
///             `notify-rid` message attribute; on a FIFO queue MessageGroupId is
///             notify::message_group(request) and MessageDeduplicationId a digest of the
///             request id and the body.
///
/// The request id is the envelope "id" when the body has one, else a fresh unique id; a
/// received record's id is its `notify-rid` (the SQS MessageId for messages sent by others),
/// so a message sent twice by a retried producer call keeps one id and is pushed once.
/// Dead letters carry `notify-reason`, `notify-deliveries`, `notify-origin` (the queue URL),
/// `notify-sent-at` and `notify-dead-at` message attributes.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "notify/sqs/client.hpp"
#include "notify/transport.hpp"

namespace notify::sqs {

struct QueueOptions {
  ClientOptions client;
  /// The visibility timeout asked for on receive, and the lease keep_alive() renews;
  /// 0: the queue's own setting (read once by keep_alive() / lease_interval()).
  std::chrono::seconds visibility_timeout{0};
  /// The dead-letter queue's URL; empty: the target of the queue's RedrivePolicy, read
  /// once when first needed. With neither, dead-lettering fails and the record stays.
  std::string dead_letter_url;
  /// SQS limits (1 MiB since 2025; some queues may still have 256 KiB).
  std::size_t max_message_bytes = 1024 * 1024;
  std::size_t max_batch_bytes = 1024 * 1024;
};

/// One entry of the dead-letter place (notify::DeadLetter, shared by the queues).
using DeadLetter = notify::DeadLetter;

class Queue {
 public:
  /// Checks the URL and the credentials' presence; makes no call.
  static Result<Queue> open(std::string_view url, QueueOptions options = {});
  /// The same with the given credentials (tests, fixed keys).
  static Result<Queue> open(std::string_view url, CredentialProvider credentials, QueueOptions options = {});

  /// Up to min(max, 10) records, waiting up to `wait` (rounded up to seconds, at most 20).
  Result<std::vector<QueueRecord>> receive(std::size_t max, std::chrono::milliseconds wait);
  /// Deletes, delays or dead-letters each record. Entries that failed are named in the
  /// error; they come back when their visibility timeout ends.
  Result<void> settle(std::span<const Settlement> settlements);
  /// Sends bodies in batches. A body above max_message_bytes fails the call before anything is sent.
  Result<void> send(std::span<const std::string> bodies);

  /// Hides each record again for the lease length (see above), in calls of 10. Per
  /// record: true if its visibility was extended; false if its receipt is no longer
  /// valid (deleted, its visibility ended, received by another worker since). Throttling,
  /// 5xx and a lease length that cannot be read fail the whole call.
  Result<std::vector<bool>> keep_alive(std::span<const QueueRecord* const> records);
  /// The lease length / 3, at least 100 ms. While the queue's VisibilityTimeout cannot be
  /// read (only when QueueOptions::visibility_timeout is 0), a conservative 1 s.
  std::chrono::milliseconds lease_interval();
  /// How long a received record stays hidden: the option, else the queue's attribute.
  Result<std::chrono::seconds> lease_length();

  /// Messages visible, in flight or delayed (approximate, as SQS counts them).
  Result<std::size_t> pending_count();
  /// pending_count() where a failure counts as "some" (the maximum, shown as unknown).
  std::size_t pending();

  /// The queue's counts (approximate, as SQS counts them), from GetQueueAttributes:
  /// depth ApproximateNumberOfMessages, pending ApproximateNumberOfMessagesNotVisible,
  /// delayed ApproximateNumberOfMessagesDelayed (messages sent with a delay: a retry is
  /// a received message hidden for its delay, so SQS counts it as pending), dead every
  /// message of the dead-letter queue (a second call; -1 when the queue has none).
  /// oldest_pending_ms is -1 and consumers empty: SQS cannot tell.
  Result<QueueStats> stats();

  /// Up to `max` dead letters, left in the dead-letter queue.
  Result<std::vector<DeadLetter>> dead_letters(std::size_t max = 100);
  /// Sends the given dead letters (by entry_id or request id) back to this queue and
  /// deletes them from the dead-letter queue; with no ids, up to `max`. Returns how many moved.
  Result<std::size_t> redrive(std::span<const std::string> ids, std::size_t max = 100);

  /// Fills in QueueRecord::outages of records received some other way (a Lambda event)
  /// from the outage retries this queue object settled.
  void recall(std::span<QueueRecord> records) const;

  /// The dead-letter queue's URL (from the options or the RedrivePolicy).
  Result<std::string> dead_letter_url();

  const QueueUrl& url() const noexcept { return url_; }
  bool fifo() const noexcept { return url_.fifo(); }
  Client& client() noexcept { return client_; }
  const QueueOptions& options() const noexcept { return opt_; }

 private:
  Queue(QueueUrl url, Client client, QueueOptions options);

  struct Outgoing {
    std::string body;
    std::string rid;
    std::string group;        // FIFO only
    std::string dedup;        // FIFO only
    std::vector<std::pair<std::string, std::string>> strings;  // extra String attributes
    std::vector<std::pair<std::string, std::int64_t>> numbers;  // extra Number attributes
  };
  /// Sends to `queue_url` in batches; the indexes of `out` that were sent are set in `sent`.
  Result<void> send_batches(const std::string& queue_url, bool fifo, std::span<const Outgoing> out,
                            std::vector<bool>& sent);
  /// Deletes / changes visibility for (receipt, seconds) pairs; failures are appended to `failures`.
  void delete_batches(const std::string& queue_url, std::span<const std::string> receipts, std::vector<Error>& failures);
  void visibility_batches(const std::string& queue_url, std::span<const std::pair<std::string, long>> entries,
                          std::vector<Error>& failures);
  std::string fresh_id();
  /// A message's size as SQS counts it (body and attributes).
  static std::size_t size_of(const Outgoing& o);

  QueueUrl url_;
  Client client_;
  QueueOptions opt_;
  std::optional<std::string> dead_letter_url_;
  std::optional<std::chrono::seconds> queue_visibility_;  // the queue's VisibilityTimeout, once read
  /// Outage retries per request id, as far as this process saw them (SQS cannot carry a
  /// count on a message): they do not count toward dead-lettering (QueueRecord::outages).
  std::unordered_map<std::string, int> outages_;
  std::uint64_t id_seed_ = 0;
  std::uint64_t id_counter_ = 0;
};

static_assert(notify::LeasedQueue<Queue>);

/// notify::InboxSink that sends each request's inbox body to an SQS queue (notify-worker's
/// `--inbox https://...`). A failure leaves the caller to retry, so a body may arrive twice
/// when only the answer was lost (the main API keys inbox rows by content).
class QueueInbox {
 public:
  explicit QueueInbox(Queue queue) : queue_(std::move(queue)) {}
  /// Sends each body as a message; an inbox array above the queue's message size goes
  /// out as several arrays of whole records.
  Result<void> publish(std::span<const std::string> bodies);
  Queue& queue() noexcept { return queue_; }

 private:
  Queue queue_;
};

static_assert(notify::InboxSink<QueueInbox>);

}  // namespace notify::sqs
