// SPDX-License-Identifier: MIT
// notify::outbox appends on the local disk: fdatasync per append (Sync::each), group
// commit (Sync::group, appenders sharing one fdatasync), no fdatasync (Sync::os), and
// 100 requests per append call. Each benchmark opens a fresh journal in NOTIFY_BENCH_DIR
// (default: the temporary directory) with a 1 GiB bound. Counters: requests per second
// (rate) and, per thread, the median and 99th percentile latency of one append (µs).
// Run: bench_outbox --benchmark_repetitions=5 --benchmark_report_aggregates_only=true

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

#include "notify/outbox/outbox.hpp"

namespace {

namespace ob = notify::outbox;
namespace fs = std::filesystem;

std::unique_ptr<ob::Outbox> box;  // shared by the threads of one benchmark run
fs::path box_dir;

const std::string request =
    R"({"type":"COMMENT_MESSAGE","param":{"familyId":3,"senderId":4,"messageId":29001,"comment":"오늘 저녁은 다 같이 먹어요"},)"
    R"("id":"bench-0000000001","createdAt":1700000000000,"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"})";

void open_box(ob::Sync sync, std::chrono::microseconds window) {
  const char* base = std::getenv("NOTIFY_BENCH_DIR");
  box_dir = fs::path(base ? base : fs::temp_directory_path().string()) /
            ("notify-bench-outbox-" + std::to_string(::getpid()));
  fs::remove_all(box_dir);
  ob::Options o;
  o.sync = sync;
  o.group_window = window;
  o.max_bytes = 1ull << 30;
  auto opened = ob::Outbox::open(box_dir.string(), o);
  if (!opened) std::abort();
  box = std::make_unique<ob::Outbox>(std::move(*opened));
}

void append(benchmark::State& state, ob::Sync sync, std::size_t per_call, std::chrono::microseconds window = {}) {
  if (state.thread_index() == 0) open_box(sync, window);
  const ob::Destination to{"redis://127.0.0.1:6379/notify", 0};
  const std::vector<std::string> bodies(per_call, request);
  std::vector<double> latencies;
  for (auto _ : state) {
    const auto began = std::chrono::steady_clock::now();
    if (!box->append(to, bodies)) {
      state.SkipWithError("append failed");
      break;
    }
    latencies.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - began).count());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * per_call));
  if (!latencies.empty()) {
    std::sort(latencies.begin(), latencies.end());
    state.counters["p50_us"] = benchmark::Counter(latencies[latencies.size() / 2], benchmark::Counter::kAvgThreads);
    state.counters["p99_us"] = benchmark::Counter(latencies[latencies.size() * 99 / 100], benchmark::Counter::kAvgThreads);
  }
  if (state.thread_index() == 0) {
    box.reset();
    fs::remove_all(box_dir);
  }
}

void each(benchmark::State& s) { append(s, ob::Sync::each, 1); }
void group(benchmark::State& s) { append(s, ob::Sync::group, 1); }
void group_window_100us(benchmark::State& s) { append(s, ob::Sync::group, 1, std::chrono::microseconds(100)); }
void os(benchmark::State& s) { append(s, ob::Sync::os, 1); }
void each_batch_100(benchmark::State& s) { append(s, ob::Sync::each, 100); }

}  // namespace

BENCHMARK(each)->Threads(1)->Threads(8)->UseRealTime()->MinTime(1.0);
BENCHMARK(group)->Threads(1)->Threads(8)->UseRealTime()->MinTime(1.0);
BENCHMARK(group_window_100us)->Threads(8)->UseRealTime()->MinTime(1.0);
BENCHMARK(os)->Threads(1)->UseRealTime()->MinTime(1.0);
BENCHMARK(each_batch_100)->Threads(1)->UseRealTime()->MinTime(1.0);

BENCHMARK_MAIN();
