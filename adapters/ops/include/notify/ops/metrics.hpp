// SPDX-License-Identifier: MIT
#pragma once

/// Counters, gauges and histograms for the worker and the Lambda, rendered as the
/// Prometheus text exposition format 0.0.4 or as one CloudWatch Embedded Metric Format
/// line.
///
/// Threading: every series is a set of relaxed atomics, so the delivery loop updates
/// them without a lock or an allocation while another thread (the HTTP listener)
/// renders. Registration allocates and takes the registry's mutex: do it at start-up
/// and keep the returned references (their addresses never change). A scrape reads
/// each atomic once; it is not a snapshot of all of them at one instant, which
/// Prometheus does not need (a histogram's buckets, _count and +Inf still agree).

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace notify::ops {

/// One label of a series: name and value (any UTF-8; escaped when rendered).
struct Label {
  std::string name;
  std::string value;
};
using Labels = std::vector<Label>;

/// A monotonically increasing count (`notify_..._total`).
class Counter {
 public:
  /// Adds `n` (default 1).
  void inc(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

/// A value that goes up and down (in flight, queue depth, circuit state, token age).
class Gauge {
 public:
  void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
  /// Adds `d` (may be negative).
  void add(double d) noexcept { value_.fetch_add(d, std::memory_order_relaxed); }
  double value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

/// The last observation of a histogram bucket that named a trace: an OpenMetrics
/// exemplar, so a bucket of a latency histogram points at one request's logs.
struct Exemplar {
  std::string trace_id;  ///< the W3C trace id (32 hex digits)
  double value = 0;
  double unix_seconds = 0;
};

/// Observations counted in fixed buckets (upper bounds inclusive, in base units such as
/// seconds), plus their sum. The count is the sum of the buckets, so `_count` and the
/// `+Inf` bucket always agree.
class Histogram {
 public:
  /// `bounds`: finite, strictly increasing upper bounds; +Inf is implicit.
  explicit Histogram(std::vector<double> bounds);

  /// Counts `v` in the first bucket whose bound is >= v. NaN is ignored.
  void observe(double v) noexcept { (void)count_in(v); }

  /// The same, and when `trace_id` is not empty keeps it as the bucket's exemplar (a
  /// short lock shared with the renderer; the trace id is at most 32 characters).
  void observe(double v, std::string_view trace_id);

  /// The exemplar of bucket `i`, if one was kept.
  std::optional<Exemplar> exemplar(std::size_t i) const;

  std::span<const double> bounds() const noexcept { return bounds_; }
  /// Observations in bucket `i` alone (not cumulative); i == bounds().size() is +Inf.
  std::uint64_t bucket(std::size_t i) const noexcept { return counts_[i].load(std::memory_order_relaxed); }
  std::uint64_t count() const noexcept;
  double sum() const noexcept { return sum_.load(std::memory_order_relaxed); }

 private:
  std::size_t count_in(double v) noexcept {
    if (v != v) return bounds_.size() + 1;
    std::size_t i = 0;
    while (i < bounds_.size() && v > bounds_[i]) ++i;
    counts_[i].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(v, std::memory_order_relaxed);
    return i;
  }

  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // bounds_.size() + 1
  std::atomic<double> sum_{0.0};
  mutable std::mutex exemplar_mutex_;
  std::vector<std::optional<Exemplar>> exemplars_;  // bounds_.size() + 1, under the mutex
};

/// Bucket bounds for request-style latencies in seconds: 5 ms to 10 s.
std::vector<double> latency_buckets();
/// Bucket bounds for end-to-end record latencies in seconds: 50 ms to 1 h.
std::vector<double> end_to_end_buckets();

enum class MetricType : std::uint8_t { counter, gauge, histogram };

/// How render_emf() names the line's namespace and dimensions.
struct EmfOptions {
  std::string namespace_name = "notify";
  /// Dimension keys and values, written as top-level members; at most 30.
  Labels dimensions;
  /// Milliseconds since the Unix epoch; 0 means now.
  std::int64_t timestamp_ms = 0;
  /// Counters and histograms as the change since the previous render_emf() call (what
  /// CloudWatch sums per invocation), not as totals since the process started.
  bool deltas = true;
  /// With deltas: counters and histograms that did not move since the previous call are
  /// left out (gauges never are). Each metric name is a billed CloudWatch custom metric
  /// and every label value makes another; an alarm reads a missing value as it is told
  /// (TreatMissingData), typically as 0.
  bool skip_unchanged = false;
};

/// Owns the series. Series of one name form a family: same type, help and label names.
class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  /// Registers the counter `name{labels}`; `name` must end in `_total`. Aborts on a
  /// malformed name, a clash with another family, or a series registered twice.
  Counter& counter(std::string_view name, std::string_view help, Labels labels = {});
  Gauge& gauge(std::string_view name, std::string_view help, Labels labels = {});
  Histogram& histogram(std::string_view name, std::string_view help, std::vector<double> bounds, Labels labels = {});

  /// The Prometheus text exposition format 0.0.4, families in registration order.
  std::string render_prometheus() const;
  /// The OpenMetrics 1.0 text format (what a scraper asks for with `Accept:
  /// application/openmetrics-text`): the same samples, counter families named without
  /// `_total`, histogram buckets with their exemplars, and `# EOF`.
  std::string render_openmetrics() const;
  /// One CloudWatch Embedded Metric Format JSON document on one line (no newline).
  /// Series names carry their label values: `name.label=value.label=value`. Histograms
  /// give `<name>_sum` and `<name>_count`; non-finite gauges are left out.
  std::string render_emf(const EmfOptions& options = {});

  /// The Content-Type of render_prometheus()'s output.
  static constexpr std::string_view prometheus_content_type = "text/plain; version=0.0.4; charset=utf-8";
  /// The Content-Type of render_openmetrics()'s output.
  static constexpr std::string_view openmetrics_content_type =
      "application/openmetrics-text; version=1.0.0; charset=utf-8";

 private:
  struct Series {
    Labels labels;
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
    // What render_emf() last reported (counters and histograms in delta mode).
    std::uint64_t emf_count = 0;
    double emf_sum = 0.0;
  };
  struct Family {
    std::string name;
    std::string help;
    MetricType type;
    std::vector<std::string> label_names;
    std::deque<Series> series;  // a deque: references handed out stay valid
  };

  Series& add(std::string_view name, std::string_view help, MetricType type, Labels labels);
  std::string render(bool openmetrics) const;

  mutable std::mutex mutex_;  // registration and rendering only, never the hot path
  std::deque<Family> families_;
};

/// `\` `"` and newline escaped, as label values need.
std::string escape_label_value(std::string_view v);
/// `\` and newline escaped, as HELP text needs.
std::string escape_help(std::string_view v);
/// A sample value as Prometheus writes it: shortest round-trip decimal, `+Inf`, `-Inf`, `NaN`.
std::string format_value(double v);

}  // namespace notify::ops
