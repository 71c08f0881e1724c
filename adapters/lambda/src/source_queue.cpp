// SPDX-License-Identifier: MIT
#include "notify/lambda/source_queue.hpp"

#include <utility>

#include "notify/sqs/client.hpp"

namespace notify::lambda {

SourceQueue::SourceQueue() : SourceQueue([](const std::string& url) { return sqs::Queue::open(url); }) {}

SourceQueue::SourceQueue(Opener open) : open_(std::move(open)) {}

void SourceQueue::recall(std::span<QueueRecord> records, std::span<const RecordSource> sources) const {
  for (std::size_t i = 0; i < records.size() && i < sources.size(); ++i)
    if (auto it = queues_.find(sources[i].arn); it != queues_.end())
      it->second.recall(std::span<QueueRecord>(&records[i], 1));
}

Result<void> SourceQueue::settle(std::span<const Settlement> settlements) {
  auto it = queues_.find(source_.arn);
  if (it == queues_.end()) {
    auto url = sqs::url_from_arn(source_.arn);
    if (!url) return url.error();
    auto queue = open_(*url);
    if (!queue) return queue.error();
    it = queues_.emplace(source_.arn, std::move(*queue)).first;
  }
  return it->second.settle(settlements);
}

}  // namespace notify::lambda
