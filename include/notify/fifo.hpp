// SPDX-License-Identifier: MIT
#pragma once

/// FIFO order for processors that take a batch at a time: the records of one message
/// group are processed one after the other, and none overtakes one that is retried.
/// (The engine keeps group order itself; see pipeline.hpp.)

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "notify/transport.hpp"

namespace notify {

/// Processes a batch keeping the order of FIFO groups (QueueRecord::group): records
/// without a group, and the first record of each group, go in one processor call; the
/// second record of each group in the next, and so on. Once a record of a group is to be
/// retried, the later records of its group are not processed: they come back right after
/// it (retry without delay, flagged as an outage: not their own failure), so no message
/// of a group overtakes an earlier one. A batch without groups is one call.
template <class Processor>
std::vector<Outcome> process_in_order(Processor& processor, std::span<const QueueRecord> batch) {
  const bool grouped = std::any_of(batch.begin(), batch.end(), [](const QueueRecord& r) { return !r.group.empty(); });
  if (!grouped) return processor.process(batch);
  std::vector<Outcome> outcomes(batch.size());
  std::vector<std::size_t> wave_of(batch.size(), 0);  // the record's place in its group
  for (std::size_t i = 0; i < batch.size(); ++i)
    if (!batch[i].group.empty())
      for (std::size_t j = 0; j < i; ++j) wave_of[i] += batch[j].group == batch[i].group;
  std::vector<std::string> stopped;  // groups with a record to retry
  const std::size_t waves = *std::max_element(wave_of.begin(), wave_of.end()) + 1;
  for (std::size_t wave = 0; wave < waves; ++wave) {
    std::vector<QueueRecord> records;
    std::vector<std::size_t> at;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (wave_of[i] != wave) continue;
      if (std::find(stopped.begin(), stopped.end(), batch[i].group) != stopped.end()) {
        outcomes[i] = Outcome{Disposition::retry, std::chrono::milliseconds(0),
                              "an earlier request of its group " + batch[i].group + " is retried first", true};
        continue;
      }
      records.push_back(batch[i]);
      at.push_back(i);
    }
    if (records.empty()) continue;
    std::vector<Outcome> got = processor.process(records);
    for (std::size_t k = 0; k < at.size(); ++k) {
      if (got[k].disposition == Disposition::retry && !batch[at[k]].group.empty())
        stopped.push_back(batch[at[k]].group);
      outcomes[at[k]] = std::move(got[k]);
    }
    if constexpr (requires { processor.fatal(); }) {
      if (processor.fatal()) {  // the rest waits for a worker that can deliver it
        for (std::size_t i = 0; i < batch.size(); ++i)
          if (wave_of[i] > wave)
            outcomes[i] = Outcome{Disposition::retry, std::chrono::milliseconds(0), "not processed: the worker stopped", true};
        break;
      }
    }
  }
  return outcomes;
}

}  // namespace notify
