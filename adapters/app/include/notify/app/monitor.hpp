// SPDX-License-Identifier: MIT
#pragma once

/// The worker's operations side: the engine's metrics plus gauges of the queue and the
/// provider on /metrics, /healthz (the delivery loop turns) and /readyz (queue, member
/// store and push provider reachable), served by notify::ops's listener on a thread of
/// its own (`notify-worker --metrics-listen HOST:PORT`); and a periodic one-line summary
/// with the rates since the last one (`--stats-interval`).
///
/// Nothing here runs on the delivery path but turn(): a heartbeat, a few gauge stores,
/// and every `probe_interval` one round trip each to the queue and the member store. The
/// listener's thread only reads atomics and a snapshot of the last probes, so a slow or
/// hostile client never holds the loop up.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "notify/app/any.hpp"
#include "notify/observer.hpp"
#include "notify/result.hpp"

namespace notify::app {

/// How the monitor listens and probes.
struct MonitorSettings {
  /// HOST:PORT to serve on (see ops::HttpListenerOptions::listen); port 0: any free one.
  /// Empty: nothing is served (the summary line may still be wanted).
  std::string listen;
  /// How often `stats` gets a summary line; zero: never.
  std::chrono::milliseconds stats_interval{0};
  std::function<void(const std::string&)> stats;
  /// The push provider's label on the push series ("fcm", "log", "null").
  std::string provider;
  /// How often the queue and the member store are probed (readiness, queue gauges).
  std::chrono::milliseconds probe_interval{5000};
  /// /healthz answers 503 once the loop has not turned for this long. The loop blocks at
  /// most about a second in a receive and five in a reconnect delay.
  std::chrono::milliseconds stuck_after{60000};
};

/// What the monitor reads of the engine on each turn.
struct EngineGauges {
  std::size_t records_in_flight = 0;
  std::size_t pushes_in_flight = 0;
  std::size_t pushes_queued = 0;
  int circuit = 0;  ///< 0 closed, 1 half-open, 2 open (Pipeline::Circuit)
  static constexpr int circuit_open = 2;
  std::string_view pause_reason;
  const Error* fatal = nullptr;
};

/// Serves the worker's metrics and health (when listening) and writes its summary lines
/// (see the file's comment). Built before the engine, which it observes.
class WorkerMonitor {
 public:
  /// Binds `settings.listen` (when given) and starts serving. The queue, store and pusher
  /// must outlive the monitor. Errors: Errc::configuration for an address that cannot
  /// be bound.
  static Result<std::unique_ptr<WorkerMonitor>> start(MonitorSettings settings, AnyQueue& queue, AnyStore& store,
                                                      const AnyPusher& pusher);
  ~WorkerMonitor();
  WorkerMonitor(const WorkerMonitor&) = delete;
  WorkerMonitor& operator=(const WorkerMonitor&) = delete;

  /// The engine's hooks (ProcessorOptions::observer).
  EngineObserver& observer() noexcept;

  /// One turn of the delivery loop (WorkerOptions::on_turn): beats the heartbeat, stores
  /// the engine's gauges, probes the queue and the store when `probe_interval` has
  /// passed since the last probe (only while serving), and hands out the summary line
  /// when it is due.
  void turn(const EngineGauges& engine);
  template <class Engine>
    requires requires(Engine& e) { e.held(); e.circuit(); }
  void turn(Engine& engine) {
    turn(gauges(engine));
  }

  /// The summary line of what happened since the last one, now (the worker is ending).
  void final_stats(const EngineGauges& engine);
  template <class Engine>
    requires requires(Engine& e) { e.held(); e.circuit(); }
  void final_stats(Engine& engine) {
    final_stats(gauges(engine));
  }

  /// Where it listens, as HOST:PORT (the port chosen when asked for 0); empty when not.
  std::string address() const;

 private:
  template <class Engine>
  static EngineGauges gauges(Engine& engine) {
    EngineGauges g;
    g.records_in_flight = engine.held();
    g.pushes_in_flight = engine.pushes_in_flight();
    g.pushes_queued = engine.pushes_queued();
    g.circuit = static_cast<int>(engine.circuit());
    g.pause_reason = engine.pause_reason();
    g.fatal = engine.fatal() ? &*engine.fatal() : nullptr;
    return g;
  }

  struct Impl;
  explicit WorkerMonitor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace notify::app
