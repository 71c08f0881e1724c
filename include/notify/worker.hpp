// SPDX-License-Identifier: MIT
#pragma once

/// The long-running worker: receives while the engine has room, keeps the engine's
/// pushes moving, settles each record as soon as it is decided, keeps the leases of the
/// records it holds alive, and stops on request (finishing what is in flight), on a
/// fatal error, or when drained.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "notify/events.hpp"
#include "notify/pipeline.hpp"
#include "notify/transport.hpp"

namespace notify {

struct WorkerOptions {
  /// Records asked for per receive (the queue's own maximum applies too).
  std::size_t batch_size = 10;
  /// How long a receive waits when the worker holds nothing.
  std::chrono::milliseconds wait{1000};
  /// Return once the queue is empty, nothing is held, and the queue holds nothing delayed.
  bool drain = false;
  std::chrono::milliseconds max_reconnect_delay{std::chrono::seconds(30)};
  /// While records are held and a receive found nothing, the next receive waits this long.
  std::chrono::milliseconds receive_interval{20};
  /// After a stop, how long settling may keep failing before the worker gives up (the
  /// records then come back by the queue's own timeout).
  std::chrono::milliseconds settle_grace{std::chrono::seconds(10)};
  /// Whether outages and throttling make pushes wait in the worker (see ProcessorOptions::max_hold).
  bool hold = true;
  /// Called once per turn of the loop, on its thread, before it receives: where a
  /// monitor beats its heartbeat and reads the engine's gauges. Keep it cheap.
  std::function<void()> on_turn;
  /// Called right before the engine's step, which may wait for answers (or, with a
  /// blocking provider, for the pushes themselves): where a buffered event log writes out
  /// what the turn's receive produced, so that no line is held through a wait.
  std::function<void()> before_step;
};

/// Runs the processor's engine over `queue` until `stop` is set (what is in flight is
/// finished and settled first), a fatal error, or, with `drain`, an empty queue.
template <Queue Q, class Processor>
  requires requires(Processor& p) { p.pipeline(); }
Result<void> run_worker(Q& queue, Processor& processor, const std::atomic<bool>& stop, WorkerOptions options = {},
                        EventSink events = {}) {
  using Clock = std::chrono::steady_clock;
  using std::chrono::milliseconds;
  auto& engine = processor.pipeline();
  engine.hold(options.hold);
  engine.clear_fatal();
  auto emit = [&](std::string_view step, std::string_view detail, Level level) {
    if (events) events(Event{step, {}, {}, {}, detail, level});
  };

  milliseconds fault_delay{100};  // grows across failed receives or counts
  auto fault = [&](const Error& e) {
    emit("queue_error", e.message, Level::warn);
    const milliseconds d = fault_delay;
    fault_delay = std::min(fault_delay * 2, options.max_reconnect_delay);
    return d;
  };

  std::vector<Decided> unsettled;  // decided, not yet settled (the queue failed)
  milliseconds settle_delay{100};
  Clock::time_point next_settle{}, next_receive{}, next_lease = Clock::now();
  std::optional<Clock::time_point> stopped_at;
  std::optional<Error> ended;  // a permanent queue error

  auto settle = [&] {
    for (Decided& d : engine.take_decided()) unsettled.push_back(std::move(d));
    if (unsettled.empty() || Clock::now() < next_settle) return;
    engine.flush_markers();  // a record is settled only after its markers are written
    std::vector<Settlement> settlements;
    settlements.reserve(unsettled.size());
    for (const Decided& d : unsettled) settlements.push_back({&d.record, d.outcome});
    if (auto r = queue.settle(settlements)) {
      unsettled.clear();
      settle_delay = milliseconds(100);
    } else {
      // Kept and settled again shortly: a queue back from a restart gets them at once,
      // not after its claim or visibility timeout.
      emit("settle_error", r.error().message, Level::warn);
      next_settle = Clock::now() + settle_delay;
      settle_delay = std::min(settle_delay * 2, milliseconds(2000));
    }
  };

  for (;;) {
    if (options.on_turn) options.on_turn();
    const auto now = Clock::now();
    bool more = false;  // records came and there is room: receive again before waiting on answers
    if (!stopped_at && (stop.load(std::memory_order_relaxed) || engine.fatal() || ended)) {
      stopped_at = now;
      engine.give_back(engine.fatal() ? "not processed: the worker stopped" : "the worker is stopping");
    }
    const bool idle = engine.held() == 0 && unsettled.empty();
    if (stopped_at) {
      if (idle) break;
      if (!unsettled.empty() && engine.held() == 0 && now - *stopped_at > options.settle_grace) {
        emit("settle_abandoned", std::to_string(unsettled.size()) + " records come back by the queue's timeout",
             Level::warn);
        break;
      }
    } else if (engine.room() > 0 && unsettled.empty() && now >= next_receive) {
      // (While settling fails, nothing more is taken: the queue is likely down.)
      const std::size_t want = std::min(options.batch_size, engine.room());
      auto batch = queue.receive(want, idle ? options.wait : milliseconds(0));
      if (!batch) {
        if (!is_transient(batch.error().code)) {
          ended = batch.error();
          continue;
        }
        const milliseconds d = fault(batch.error());
        if (idle) std::this_thread::sleep_for(d);
        else next_receive = now + d;
      } else if (!batch->empty()) {
        fault_delay = milliseconds(100);
        engine.admit(std::move(*batch));
        more = engine.room() > 0;
      } else if (!idle) {
        fault_delay = milliseconds(100);
        next_receive = now + options.receive_interval;
      } else if (options.drain) {
        // Drained means nothing is left to come back: in flight elsewhere, delayed, or hidden.
        if constexpr (requires { { queue.pending_count() } -> std::same_as<Result<std::size_t>>; }) {
          auto left = queue.pending_count();
          if (!left) {
            if (!is_transient(left.error().code)) return left.error();
            std::this_thread::sleep_for(fault(left.error()));
            continue;
          }
          fault_delay = milliseconds(100);  // reset only once counting works again
          if (*left > 0) continue;
        }
        break;
      } else {
        fault_delay = milliseconds(100);
      }
    }
    if (options.before_step) options.before_step();
    engine.step(engine.held() > 0 && !more ? milliseconds(50) : milliseconds(0));
    settle();
    if constexpr (LeasedQueue<Q>) {
      if (engine.held() > 0 && Clock::now() >= next_lease) {
        const std::vector<const QueueRecord*> held = engine.leased();
        if (auto r = queue.keep_alive(held)) {
          for (std::size_t i = 0; i < held.size() && i < r->size(); ++i)
            if (!(*r)[i]) engine.lost(held[i]);
        } else {
          emit("lease_error", r.error().message, Level::warn);
        }
        next_lease = Clock::now() + queue.lease_interval();
      }
    }
    if (!unsettled.empty() && engine.held() == 0 && Clock::now() < next_settle)
      std::this_thread::sleep_for(std::min(milliseconds(50), std::chrono::ceil<milliseconds>(next_settle - Clock::now())));
  }
  engine.flush_markers();
  if (ended) return *ended;
  if (engine.fatal()) return *engine.fatal();
  return {};
}

}  // namespace notify
