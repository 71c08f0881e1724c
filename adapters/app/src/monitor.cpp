// SPDX-License-Identifier: MIT
#include "notify/app/monitor.hpp"

#include <cstdio>
#include <mutex>
#include <utility>
#include <vector>

#include "notify/ops/build_info.hpp"
#include "notify/ops/engine_metrics.hpp"
#include "notify/ops/health.hpp"
#include "notify/ops/http_listener.hpp"

namespace notify::app {

using Clock = std::chrono::steady_clock;

struct WorkerMonitor::Impl {
  Impl(MonitorSettings s, AnyQueue& q, AnyStore& st, const AnyPusher& p)
      : settings(std::move(s)), queue(q), store(st), pusher(p), engine(registry, settings.provider),
        queue_depth(registry.gauge("notify_queue_depth",
                                   "Records waiting in the queue, not yet received by any worker (refreshed every "
                                   "probe interval; -1 unknown).")),
        queue_pending(registry.gauge("notify_queue_pending",
                                     "Records received by some worker and not yet settled (refreshed every probe "
                                     "interval; -1 unknown).")),
        queue_delayed(registry.gauge("notify_queue_delayed",
                                     "Records waiting for a delay: Redis retries, SQS messages sent with a delay "
                                     "(refreshed every probe interval; -1 unknown).")),
        queue_dead(registry.gauge("notify_queue_dead_letters",
                                  "Dead letters the queue holds (refreshed every probe interval; -1 unknown).")),
        queue_oldest(registry.gauge("notify_queue_oldest_pending_seconds",
                                    "Redis: the longest a pending record has gone untouched by its consumer (a "
                                    "live worker renews its leases; a large value means a consumer stopped while "
                                    "holding records). -1: unknown or nothing pending.")),
        token_age(registry.gauge("notify_oauth_token_age_seconds",
                                 "Age of the push provider's access token (-1: none yet, or no token).",
                                 {{"provider", settings.provider}})),
        loop_age(registry.gauge("notify_loop_age_seconds",
                                "Time since the delivery loop last turned, as of the scrape.")) {
    ops::register_build_info(registry);
    checks = {{"queue", false, "not probed yet"}, {"members", false, "not probed yet"}, {"push", false, "not probed yet"}};
  }

  MonitorSettings settings;
  AnyQueue& queue;
  AnyStore& store;
  const AnyPusher& pusher;
  ops::Registry registry;
  ops::EngineMetrics engine;
  ops::Gauge& queue_depth;
  ops::Gauge& queue_pending;
  ops::Gauge& queue_delayed;
  ops::Gauge& queue_dead;
  ops::Gauge& queue_oldest;
  ops::Gauge& token_age;
  ops::Gauge& loop_age;
  ops::Heartbeat heartbeat;
  Clock::time_point next_probe{};
  Clock::time_point last_stats = Clock::now();
  ops::EngineMetrics::Totals last_totals;

  std::mutex mutex;  // guards `checks`: written by the loop, read by the listener
  std::vector<ops::ReadinessCheck> checks;

  std::optional<ops::HttpListener> listener;  // last: stopped first

  ops::HttpResponse handle(const ops::HttpRequest& request) {
    if (request.path == "/metrics") {
      loop_age.set(std::chrono::duration<double>(heartbeat.age()).count());
      // OpenMetrics (with exemplars) for a scraper that asks for it, else text 0.0.4.
      if (request.header("accept").find("application/openmetrics-text") != std::string_view::npos)
        return {200, std::string(ops::Registry::openmetrics_content_type), registry.render_openmetrics(), {}};
      return {200, std::string(ops::Registry::prometheus_content_type), registry.render_prometheus(), {}};
    }
    if (request.path == "/healthz") return ops::health_response(heartbeat, settings.stuck_after);
    if (request.path == "/readyz") {
      std::vector<ops::ReadinessCheck> now;
      {
        std::lock_guard lock(mutex);
        now = checks;
      }
      return ops::readiness_response(now);
    }
    return {404, "text/plain; charset=utf-8", "not found: try /metrics, /healthz or /readyz\n", {}};
  }

  /// "60.0 s: 1200 records (20.0/s): 1180 done, ...": what happened since the last line.
  std::string summary(const EngineGauges& g, Clock::time_point now) {
    const ops::EngineMetrics::Totals t = engine.totals(), was = std::exchange(last_totals, t);
    const double seconds = std::chrono::duration<double>(now - std::exchange(last_stats, now)).count();
    auto rate = [&](std::uint64_t n) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.1f/s", seconds > 0 ? static_cast<double>(n) / seconds : 0.0);
      return std::string(buf);
    };
    char head[32];
    std::snprintf(head, sizeof head, "%.1f s: ", seconds);
    const std::uint64_t records = t.received - was.received, pushes = t.pushes - was.pushes;
    return std::string(head) + std::to_string(records) + " records (" + rate(records) + "): " +
           std::to_string(t.done - was.done) + " done, " + std::to_string(t.retried - was.retried) + " retried, " +
           std::to_string(t.dead_lettered - was.dead_lettered) + " dead-lettered; " + std::to_string(pushes) +
           " pushes (" + rate(pushes) + "): " + std::to_string(t.sent - was.sent) + " sent, " +
           std::to_string(t.invalid_tokens - was.invalid_tokens) + " invalid tokens, " +
           std::to_string(t.push_retries - was.push_retries) + " retried, " +
           std::to_string(t.push_failures - was.push_failures) + " failed; " +
           std::to_string(t.inbox_records - was.inbox_records) + " inbox records; in flight " +
           std::to_string(g.records_in_flight) + " records, " + std::to_string(g.pushes_in_flight) + " pushes";
  }

  void probe(const EngineGauges& g) {
    std::vector<ops::ReadinessCheck> fresh;
    auto stats = queue.stats();
    const QueueStats counts = stats ? *stats : QueueStats{};
    queue_depth.set(static_cast<double>(counts.depth));
    queue_pending.set(static_cast<double>(counts.pending));
    queue_delayed.set(static_cast<double>(counts.delayed));
    queue_dead.set(static_cast<double>(counts.dead));
    queue_oldest.set(counts.oldest_pending_ms < 0 ? -1.0 : static_cast<double>(counts.oldest_pending_ms) / 1000.0);
    fresh.push_back({"queue", bool(stats), stats ? std::string() : stats.error().message});
    auto ping = store.ping();
    fresh.push_back({"members", bool(ping), ping ? std::string() : ping.error().message});
    if (g.fatal)
      fresh.push_back({"push", false, "stopped: " + g.fatal->message});
    else if (g.circuit == EngineGauges::circuit_open)
      fresh.push_back({"push", false, "paused: " + std::string(g.pause_reason)});
    else
      fresh.push_back({"push", true, {}});
    std::lock_guard lock(mutex);
    checks = std::move(fresh);
  }
};

Result<std::unique_ptr<WorkerMonitor>> WorkerMonitor::start(MonitorSettings settings, AnyQueue& queue,
                                                             AnyStore& store, const AnyPusher& pusher) {
  auto impl = std::make_unique<Impl>(std::move(settings), queue, store, pusher);
  if (impl->settings.listen.empty()) return std::unique_ptr<WorkerMonitor>(new WorkerMonitor(std::move(impl)));
  ops::HttpListenerOptions options;
  options.listen = impl->settings.listen;
  Impl* self = impl.get();
  auto listener = ops::HttpListener::open(options, [self](const ops::HttpRequest& r) { return self->handle(r); });
  if (!listener) return listener.error();
  impl->listener.emplace(std::move(*listener));
  impl->listener->start();
  return std::unique_ptr<WorkerMonitor>(new WorkerMonitor(std::move(impl)));
}

WorkerMonitor::WorkerMonitor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

WorkerMonitor::~WorkerMonitor() {
  if (impl_ && impl_->listener) impl_->listener->stop();
}

EngineObserver& WorkerMonitor::observer() noexcept { return impl_->engine; }

std::string WorkerMonitor::address() const { return impl_->listener ? impl_->listener->address() : std::string(); }

void WorkerMonitor::final_stats(const EngineGauges& g) {
  if (impl_->settings.stats) impl_->settings.stats(impl_->summary(g, Clock::now()));
}

void WorkerMonitor::turn(const EngineGauges& g) {
  Impl& m = *impl_;
  const auto now = Clock::now();
  m.heartbeat.beat(now);
  m.engine.records_in_flight.set(static_cast<double>(g.records_in_flight));
  m.engine.pushes_in_flight.set(static_cast<double>(g.pushes_in_flight));
  m.engine.pushes_queued.set(static_cast<double>(g.pushes_queued));
  m.engine.circuit_state.set(g.circuit);
  if (m.settings.stats && m.settings.stats_interval.count() > 0 && now - m.last_stats >= m.settings.stats_interval)
    m.settings.stats(m.summary(g, now));
  if (!m.listener || now < m.next_probe) return;
  m.next_probe = now + m.settings.probe_interval;
  const auto token = m.pusher.token_obtained();
  m.token_age.set(token ? std::chrono::duration<double>(now - *token).count() : -1.0);
  m.probe(g);
}

}  // namespace notify::app
