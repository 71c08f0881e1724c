// SPDX-License-Identifier: MIT
// The Redis adapters on loopback, against a redis-server this program starts itself.
// Run: bench_redis --benchmark_repetitions=10 --benchmark_report_aggregates_only=true

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "notify/redis/redis.hpp"
#include "redis_server.hpp"

namespace {

using namespace notify;

test::RedisServer& server() {
  static test::RedisServer s;  // stopped when the program exits
  return s;
}

/// 100 families of 4 members each, as the noon burst reads them.
std::vector<Id> seed_families(redis::MemberStore& store) {
  std::vector<Id> ids;
  for (Id f = 1; f <= 100; ++f) {
    ids.push_back(f);
    for (Id u = 1; u <= 4; ++u) {
      const Id user = f * 10 + u;
      (void)store.set_member(f, notify::member_v1(user, "가족 " + std::to_string(user), "token-" + std::to_string(user), true));
    }
  }
  return ids;
}

void families(benchmark::State& state, const redis::Options& options) {
  redis::MemberStore store(options);
  const std::vector<Id> ids = seed_families(store);
  const auto before = store.round_trips();
  for (auto _ : state) {
    auto lookup = store.families(ids);
    if (!lookup || lookup->families.size() != 100) {
      state.SkipWithError("families() failed");
      break;
    }
    benchmark::DoNotOptimize(lookup);
  }
  state.counters["round_trips_per_call"] =
      static_cast<double>(store.round_trips() - before) / static_cast<double>(state.iterations());
}

void BM_families_100x4_tcp(benchmark::State& state) { families(state, *redis::parse_url(server().url())); }
void BM_families_100x4_unix(benchmark::State& state) {
  families(state, *redis::parse_url("unix://" + server().unix_path()));
}

/// One batch of 10 records through the queue: send, receive, ack.
void BM_queue_batch_of_10(benchmark::State& state) {
  redis::QueueOptions qo;
  qo.stream = "bench";
  qo.consumer = "bench";
  redis::Queue queue(*redis::parse_url(server().url()), qo);
  const std::vector<std::string> bodies(10, R"({"type":"MESSAGE_TODAY","param":{"familyIds":[1,2,3]},"id":"b"})");
  const auto before = queue.connection().round_trips();
  std::int64_t batches = 0;
  for (auto _ : state) {
    auto sent = queue.send(bodies);
    auto got = queue.receive(10, std::chrono::milliseconds(1000));
    if (!sent || !got || got->size() != 10) {
      state.SkipWithError("queue round failed");
      break;
    }
    std::vector<Settlement> settle;
    for (const QueueRecord& r : *got) settle.push_back({&r, Outcome{}});
    if (!queue.settle(settle)) {
      state.SkipWithError("settle failed");
      break;
    }
    ++batches;
  }
  if (batches > 0)
    state.counters["round_trips_per_batch"] =
        static_cast<double>(queue.connection().round_trips() - before) / static_cast<double>(batches);
}

}  // namespace

BENCHMARK(BM_families_100x4_tcp)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_families_100x4_unix)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_queue_batch_of_10)->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
