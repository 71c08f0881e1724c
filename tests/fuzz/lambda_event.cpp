// SPDX-License-Identifier: MIT
// Fuzz target: the Lambda SQS event parser (notify::lambda::parse_sqs_event).
// Properties checked on every input:
// - a rejected event carries one input error with a message and a path under Records;
// - an accepted event has one source per record, non-empty ids, receive counts from 1;
// - the event written back as an SQS event (nlohmann) parses to the same records;
// - the batch response names exactly the failed records, as JSON nlohmann reads.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "notify/lambda/event.hpp"
#include "notify/result.hpp"

namespace {

using notify::lambda::SqsEvent;

nlohmann::json as_event(const SqsEvent& e) {
  nlohmann::json records = nlohmann::json::array();
  for (std::size_t i = 0; i < e.records.size(); ++i) {
    const auto& r = e.records[i];
    nlohmann::json attrs = {{"ApproximateReceiveCount", r.receive_count}, {"SentTimestamp", r.sent_at_ms}};
    if (!r.group.empty()) attrs["MessageGroupId"] = r.group;
    records.push_back({{"messageId", r.id},
                       {"receiptHandle", r.receipt},
                       {"body", r.body},
                       {"attributes", attrs},
                       {"eventSource", "aws:sqs"},
                       {"eventSourceARN", e.sources[i].arn},
                       {"awsRegion", e.sources[i].region}});
  }
  return {{"Records", records}};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto event = notify::lambda::parse_sqs_event(text);
  if (!event) {
    const notify::Error& e = event.error();
    NOTIFY_ASSERT(!e.message.empty());
    NOTIFY_ASSERT(e.path.empty() || e.path.substr(0, 7) == "Records");
    return 0;
  }
  NOTIFY_ASSERT(event->records.size() == event->sources.size());
  for (std::size_t i = 0; i < event->records.size(); ++i) {
    const auto& r = event->records[i];
    NOTIFY_ASSERT(!r.id.empty());
    NOTIFY_ASSERT(!event->sources[i].message_id.empty());
    NOTIFY_ASSERT(r.receive_count >= 1);
    NOTIFY_ASSERT(event->sources[i].fifo == (notify::lambda::is_fifo_arn(event->sources[i].arn) || !r.group.empty()));
  }

  // Written back (ids as messageIds, numbers as JSON integers) and read again: the same
  // records. nlohmann accepted the input, so every string is valid UTF-8.
  const std::string again = as_event(*event).dump();
  auto reparsed = notify::lambda::parse_sqs_event(again);
  NOTIFY_ASSERT(reparsed.has_value());
  NOTIFY_ASSERT(reparsed->records.size() == event->records.size());
  for (std::size_t i = 0; i < event->records.size(); ++i) {
    const auto& x = event->records[i];
    const auto& y = reparsed->records[i];
    NOTIFY_ASSERT(x.id == y.id && x.receipt == y.receipt && x.body == y.body && x.group == y.group);
    NOTIFY_ASSERT(x.receive_count == y.receive_count && x.sent_at_ms == y.sent_at_ms);
    NOTIFY_ASSERT(event->sources[i].arn == reparsed->sources[i].arn);
    NOTIFY_ASSERT(event->sources[i].region == reparsed->sources[i].region);
    NOTIFY_ASSERT(event->sources[i].fifo == reparsed->sources[i].fifo);
  }

  // Every other record fails: the response lists exactly those messageIds.
  std::vector<notify::Outcome> outcomes;
  for (std::size_t i = 0; i < event->records.size(); ++i)
    outcomes.push_back(notify::Outcome{i % 2 ? notify::Disposition::retry : notify::Disposition::done, {}, {}});
  const std::string response = notify::lambda::batch_response(*event, outcomes);
  const auto j = nlohmann::json::parse(response, nullptr, false);
  NOTIFY_ASSERT(j.is_object() && j.contains("batchItemFailures") && j["batchItemFailures"].is_array());
  const auto& listed = j["batchItemFailures"];
  std::size_t k = 0;
  std::vector<std::string> failed_groups;  // FIFO: a failure and every later record of its group
  for (std::size_t i = 0; i < event->records.size(); ++i) {
    const std::string& group = event->records[i].group;
    const bool group_failed = std::find(failed_groups.begin(), failed_groups.end(), group) != failed_groups.end();
    if (i % 2 == 1 && !group_failed) failed_groups.push_back(group);
    if (!(i % 2 == 1 || (event->fifo() && group_failed))) continue;
    NOTIFY_ASSERT(k < listed.size() && listed[k]["itemIdentifier"] == event->sources[i].message_id);
    ++k;
  }
  NOTIFY_ASSERT(k == listed.size());
  return 0;
}
