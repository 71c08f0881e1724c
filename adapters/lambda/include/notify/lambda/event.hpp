// SPDX-License-Identifier: MIT
#pragma once

/// SQS events as the Lambda Runtime API hands them over, and the partial batch response
/// (`batchItemFailures`) that answers them. Pure: no I/O.

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "notify/result.hpp"
#include "notify/transport.hpp"

namespace notify::lambda {

/// Where one record of an event came from.
struct RecordSource {
  std::string message_id;  ///< the SQS messageId: what batchItemFailures names
  std::string arn;     ///< eventSourceARN, e.g. arn:aws:sqs:ap-northeast-2:123456789012:notify.fifo
  std::string region;  ///< awsRegion
  bool fifo = false;   ///< the queue name ends in ".fifo", or the record has a MessageGroupId
};

/// The records of one SQS event, in delivery order; sources[i] belongs to records[i].
struct SqsEvent {
  std::vector<QueueRecord> records;
  std::vector<RecordSource> sources;

  /// True if any record comes from a FIFO queue: the batch then follows FIFO rules.
  bool fifo() const noexcept {
    for (const RecordSource& s : sources)
      if (s.fifo) return true;
    return false;
  }
};

/// True if the queue an SQS ARN names is a FIFO queue (its name ends in ".fifo").
bool is_fifo_arn(std::string_view arn) noexcept;

/// Reads `{"Records":[{messageId, receiptHandle, body, attributes{...}, eventSource,
/// eventSourceARN, awsRegion, ...}]}`. QueueRecord::id is the request id the producer
/// put in the `notify-rid` message attribute (notify::sqs::Queue::send does), else the
/// messageId, so a message a retried producer call sent twice keeps one id; receipt the
/// receiptHandle, receive_count ApproximateReceiveCount (1 when absent), sent_at_ms
/// SentTimestamp (0 when absent), group MessageGroupId. Unknown fields are ignored.
///
/// A record whose own fields are malformed (no messageId, no body, a receive count that
/// is not a number, an eventSource other than aws:sqs) rejects the WHOLE event: the
/// partial batch response can name a record only by its messageId, so such a record
/// could neither be reported nor acknowledged alone. The caller posts the error to
/// /error and SQS redelivers the batch (its redrive policy is the safety net).
/// The error names the first problem: path (`Records[2].messageId`) and reason.
Result<SqsEvent> parse_sqs_event(std::string_view json);

/// The partial batch response `{"batchItemFailures":[{"itemIdentifier":"<messageId>"}...]}`.
///
/// `outcomes[i]` is what became of `records[i]` once settled: `done` is handled (Lambda
/// deletes the message); `retry` and `dead_letter` are failures that SQS must redeliver (a
/// dead letter that reached the dead-letter queue is passed as `done`). Records beyond
/// `outcomes.size()` were not processed and are failures too.
///
/// Standard queue: each failed record is reported. FIFO: a failed record and every later
/// record of its message group are reported, failed or not, so none overtakes an earlier
/// one; other groups go on (records without a group count as one group). AWS's text
/// reports every later record whatever its group; this is the refinement Powertools
/// offers as skip_group_on_error, since order holds within a group only.
std::string batch_response(std::span<const QueueRecord> records, std::span<const Outcome> outcomes, bool fifo);
/// The same for a parsed event: each record named by its messageId (RecordSource::message_id).
std::string batch_response(const SqsEvent& event, std::span<const Outcome> outcomes);

}  // namespace notify::lambda
