// SPDX-License-Identifier: MIT
#include "notify/ops/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "notify/result.hpp"

namespace notify::ops {

namespace {

constexpr bool is_alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

/// [a-zA-Z_:][a-zA-Z0-9_:]*
bool valid_metric_name(std::string_view n) noexcept {
  if (n.empty() || is_digit(n[0])) return false;
  return std::all_of(n.begin(), n.end(), [](char c) { return is_alpha(c) || is_digit(c) || c == '_' || c == ':'; });
}

/// [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" (reserved), not "le" (histograms' own).
bool valid_label_name(std::string_view n) noexcept {
  if (n.empty() || is_digit(n[0]) || n.starts_with("__") || n == "le") return false;
  return std::all_of(n.begin(), n.end(), [](char c) { return is_alpha(c) || is_digit(c) || c == '_'; });
}

std::string_view type_name(MetricType t) noexcept {
  switch (t) {
    case MetricType::counter: return "counter";
    case MetricType::gauge: return "gauge";
    case MetricType::histogram: return "histogram";
  }
  return "untyped";
}

void append_labels(std::string& out, const Labels& labels, std::string_view le = {}) {
  if (labels.empty() && le.empty()) return;
  out += '{';
  bool first = true;
  for (const Label& l : labels) {
    if (!first) out += ',';
    first = false;
    out += l.name;
    out += "=\"";
    out += escape_label_value(l.value);
    out += '"';
  }
  if (!le.empty()) {
    if (!first) out += ',';
    out += "le=\"";
    out += le;
    out += '"';
  }
  out += '}';
}

void append_sample(std::string& out, std::string_view name, std::string_view suffix, const Labels& labels,
                   std::string_view value, std::string_view le = {}, const Exemplar* exemplar = nullptr) {
  out += name;
  out += suffix;
  append_labels(out, labels, le);
  out += ' ';
  out += value;
  if (exemplar) {  // OpenMetrics: ` # {trace_id="..."} value timestamp`
    out += " # {trace_id=\"";
    out += escape_label_value(exemplar->trace_id);
    out += "\"} ";
    out += format_value(exemplar->value);
    out += ' ';
    char ts[32];
    std::snprintf(ts, sizeof ts, "%.3f", exemplar->unix_seconds);
    out += ts;
  }
  out += '\n';
}

/// The CloudWatch unit a series' name implies (base units in the name's suffix).
std::string_view emf_unit(std::string_view name, bool is_count) noexcept {
  if (name.ends_with("_total")) name.remove_suffix(6);
  if (name.ends_with("_seconds")) return "Seconds";
  if (name.ends_with("_bytes")) return "Bytes";
  return is_count ? "Count" : "None";
}

std::string emf_name(std::string_view name, std::string_view suffix, const Labels& labels) {
  std::string out(name);
  out += suffix;
  for (const Label& l : labels) {
    out += '.';
    out += l.name;
    out += '=';
    out += l.value;
  }
  return out;
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)),
      exemplars_(bounds_.size() + 1) {
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    NOTIFY_ASSERT(std::isfinite(bounds_[i]));
    NOTIFY_ASSERT(i == 0 || bounds_[i - 1] < bounds_[i]);
  }
}

void Histogram::observe(double v, std::string_view trace_id) {
  const std::size_t i = count_in(v);
  if (trace_id.empty() || i > bounds_.size()) return;
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::lock_guard lock(exemplar_mutex_);
  std::optional<Exemplar>& e = exemplars_[i];
  if (!e) e.emplace();
  e->trace_id.assign(trace_id.substr(0, 64));  // OpenMetrics caps an exemplar's labels at 128 characters
  e->value = v;
  e->unix_seconds = now;
}

std::optional<Exemplar> Histogram::exemplar(std::size_t i) const {
  std::lock_guard lock(exemplar_mutex_);
  return i < exemplars_.size() ? exemplars_[i] : std::nullopt;
}

std::uint64_t Histogram::count() const noexcept {
  std::uint64_t n = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) n += bucket(i);
  return n;
}

std::vector<double> latency_buckets() { return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}; }
std::vector<double> end_to_end_buckets() {
  return {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600};
}

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string escape_help(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  NOTIFY_ASSERT(r.ec == std::errc{});
  return std::string(buf, r.ptr);
}

Registry::Series& Registry::add(std::string_view name, std::string_view help, MetricType type, Labels labels) {
  NOTIFY_ASSERT(valid_metric_name(name));
  NOTIFY_ASSERT(type == MetricType::counter ? name.ends_with("_total") : !name.ends_with("_total"));
  std::vector<std::string> label_names;
  for (const Label& l : labels) {
    NOTIFY_ASSERT(valid_label_name(l.name));
    NOTIFY_ASSERT(std::find(label_names.begin(), label_names.end(), l.name) == label_names.end());
    label_names.push_back(l.name);
  }
  std::lock_guard lock(mutex_);
  auto fam = std::find_if(families_.begin(), families_.end(), [&](const Family& f) { return f.name == name; });
  if (fam == families_.end()) {
    families_.push_back(Family{std::string(name), std::string(help), type, std::move(label_names), {}});
    fam = std::prev(families_.end());
  } else {
    // One family: same type, help and label names; each label set once.
    NOTIFY_ASSERT(fam->type == type && fam->help == help && fam->label_names == label_names);
    for (const Series& s : fam->series) {
      bool same = true;
      for (std::size_t i = 0; i < labels.size(); ++i) same = same && s.labels[i].value == labels[i].value;
      NOTIFY_ASSERT(!same);
    }
  }
  fam->series.push_back(Series{std::move(labels), nullptr, nullptr, nullptr});
  return fam->series.back();
}

Counter& Registry::counter(std::string_view name, std::string_view help, Labels labels) {
  Series& s = add(name, help, MetricType::counter, std::move(labels));
  s.counter = std::make_unique<Counter>();
  return *s.counter;
}

Gauge& Registry::gauge(std::string_view name, std::string_view help, Labels labels) {
  Series& s = add(name, help, MetricType::gauge, std::move(labels));
  s.gauge = std::make_unique<Gauge>();
  return *s.gauge;
}

Histogram& Registry::histogram(std::string_view name, std::string_view help, std::vector<double> bounds, Labels labels) {
  auto h = std::make_unique<Histogram>(std::move(bounds));  // checks the bounds before registering
  Series& s = add(name, help, MetricType::histogram, std::move(labels));
  s.histogram = std::move(h);
  return *s.histogram;
}

std::string Registry::render_prometheus() const { return render(false); }

std::string Registry::render_openmetrics() const { return render(true); }

std::string Registry::render(bool openmetrics) const {
  std::lock_guard lock(mutex_);
  std::string out;
  out.reserve(4096);
  for (const Family& f : families_) {
    // OpenMetrics names a counter family without its samples' `_total`.
    std::string_view family = f.name;
    if (openmetrics && f.type == MetricType::counter) family.remove_suffix(std::string_view("_total").size());
    out += "# HELP ";
    out += family;
    out += ' ';
    out += escape_help(f.help);
    out += "\n# TYPE ";
    out += family;
    out += ' ';
    out += type_name(f.type);
    out += '\n';
    for (const Series& s : f.series) {
      switch (f.type) {
        case MetricType::counter:
          append_sample(out, f.name, "", s.labels, std::to_string(s.counter->value()));
          break;
        case MetricType::gauge:
          append_sample(out, f.name, "", s.labels, format_value(s.gauge->value()));
          break;
        case MetricType::histogram: {
          const Histogram& h = *s.histogram;
          const std::span<const double> bounds = h.bounds();
          std::uint64_t cumulative = 0;
          for (std::size_t i = 0; i <= bounds.size(); ++i) {
            cumulative += h.bucket(i);
            const std::optional<Exemplar> e = openmetrics ? h.exemplar(i) : std::nullopt;
            std::string le = i < bounds.size() ? format_value(bounds[i]) : "+Inf";
            // OpenMetrics wants `le` canonical: a whole number as "1.0", not "1".
            if (openmetrics && le.find_first_not_of("-0123456789") == std::string::npos) le += ".0";
            append_sample(out, f.name, "_bucket", s.labels, std::to_string(cumulative), le, e ? &*e : nullptr);
          }
          append_sample(out, f.name, "_sum", s.labels, format_value(h.sum()));
          append_sample(out, f.name, "_count", s.labels, std::to_string(cumulative));
          break;
        }
      }
    }
  }
  if (openmetrics) out += "# EOF\n";
  return out;
}

std::string Registry::render_emf(const EmfOptions& options) {
  using Json = nlohmann::ordered_json;
  NOTIFY_ASSERT(options.dimensions.size() <= 30);
  std::int64_t ts = options.timestamp_ms;
  if (ts == 0)
    ts = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
             .count();

  // Members in order: the metadata, the dimensions, the values.
  Json doc = Json::object();
  doc["_aws"] = nullptr;
  for (const Label& d : options.dimensions) doc[d.name] = d.value;
  std::vector<std::pair<std::string, std::string_view>> metrics;  // name, unit
  auto put = [&](std::string name, std::string_view unit, Json value) {
    doc[name] = std::move(value);
    metrics.emplace_back(std::move(name), unit);
  };

  std::lock_guard lock(mutex_);
  for (Family& f : families_) {
    for (Series& s : f.series) {
      switch (f.type) {
        case MetricType::counter: {
          const std::uint64_t v = s.counter->value();
          if (options.deltas && options.skip_unchanged && v == s.emf_count) break;
          put(emf_name(f.name, "", s.labels), emf_unit(f.name, true), options.deltas ? v - s.emf_count : v);
          if (options.deltas) s.emf_count = v;
          break;
        }
        case MetricType::gauge: {
          const double v = s.gauge->value();
          if (std::isfinite(v)) put(emf_name(f.name, "", s.labels), emf_unit(f.name, false), v);
          break;
        }
        case MetricType::histogram: {
          const std::uint64_t n = s.histogram->count();
          const double sum = s.histogram->sum();
          if (options.deltas && options.skip_unchanged && n == s.emf_count) break;
          put(emf_name(f.name, "_sum", s.labels), emf_unit(f.name, false), options.deltas ? sum - s.emf_sum : sum);
          put(emf_name(f.name, "_count", s.labels), "Count", options.deltas ? n - s.emf_count : n);
          if (options.deltas) {
            s.emf_count = n;
            s.emf_sum = sum;
          }
          break;
        }
      }
    }
  }

  Json dimension_keys = Json::array();
  for (const Label& d : options.dimensions) dimension_keys.push_back(d.name);
  // A directive holds at most 100 metrics: more go into further directives.
  Json directives = Json::array();
  for (std::size_t i = 0; i < metrics.size() || i == 0; i += 100) {
    Json list = Json::array();
    for (std::size_t j = i; j < std::min(metrics.size(), i + 100); ++j)
      list.push_back(Json{{"Name", metrics[j].first}, {"Unit", metrics[j].second}});
    directives.push_back(Json{{"Namespace", options.namespace_name},
                              {"Dimensions", Json::array({dimension_keys})},
                              {"Metrics", std::move(list)}});
  }
  doc["_aws"] = Json{{"Timestamp", ts}, {"CloudWatchMetrics", std::move(directives)}};
  return doc.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace notify::ops
