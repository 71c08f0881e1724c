// SPDX-License-Identifier: MIT
#pragma once

/// The settle target a Lambda function on SQS needs: the queue each failed record came
/// from. A retry is hidden on it for its delay (ChangeMessageVisibility) and a dead
/// letter goes to its dead-letter queue with the reason (then it is deleted, and the
/// handler does not report it).

#include <functional>
#include <map>
#include <span>
#include <string>

#include "notify/lambda/event.hpp"
#include "notify/lambda/sqs_handler.hpp"
#include "notify/sqs/queue.hpp"
#include "notify/transport.hpp"

namespace notify::lambda {

/// notify::lambda::SettleTarget on the records' own SQS queues. Each source queue
/// (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME, from its ARN) is opened on first use
/// and kept for the runtime's life, so the outage retries it settled are remembered
/// (recall) and do not count toward dead-lettering. When a queue cannot be opened or
/// used, settle() fails: the handler then reports the records as failures, SQS
/// redelivers them, and its redrive policy moves dead letters (their reason only logged).
class SourceQueue {
 public:
  /// How a source queue is opened from its URL.
  using Opener = std::function<Result<sqs::Queue>(const std::string& url)>;

  /// Opens queues with sqs::Queue::open(url): the function's credentials
  /// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) and
  /// AWS_ENDPOINT_URL_SQS when set.
  SourceQueue();
  /// Opens queues with `open` (fixed credentials, a test server).
  explicit SourceQueue(Opener open);

  /// The queue the next settle() belongs to (SqsHandler calls it before each settle).
  void use_source(const RecordSource& source) { source_ = source; }

  /// Fills in QueueRecord::outages of `records` (sources[i] belongs to records[i]) from
  /// the outage retries settled on their queues before; queues not opened yet have none.
  void recall(std::span<QueueRecord> records, std::span<const RecordSource> sources) const;

  /// Settles on the current source's queue, opening it first if needed.
  Result<void> settle(std::span<const Settlement> settlements);

  /// The queues opened so far, by ARN.
  std::size_t open_queues() const noexcept { return queues_.size(); }

 private:
  Opener open_;
  std::map<std::string, sqs::Queue> queues_;
  RecordSource source_;
};

static_assert(SettleTarget<SourceQueue>);

}  // namespace notify::lambda
