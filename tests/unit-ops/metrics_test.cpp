// SPDX-License-Identifier: MIT
// The metrics registry: Prometheus text 0.0.4 (golden), escaping, cumulative buckets,
// the CloudWatch EMF line, build info.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "notify/ops/build_info.hpp"
#include "notify/ops/metrics.hpp"

using notify::ops::Registry;

TEST_CASE("a registry renders families in registration order as Prometheus text 0.0.4") {
  Registry r;
  auto& done = r.counter("notify_records_total", "Records settled, by outcome.", {{"outcome", "done"}});
  auto& dead = r.counter("notify_records_total", "Records settled, by outcome.", {{"outcome", "dead_letter"}});
  auto& in_flight = r.gauge("notify_records_in_flight", "Records admitted and not yet settled.");
  auto& latency = r.histogram("notify_push_duration_seconds", "Push round trips.", {0.1, 0.5, 1}, {{"provider", "fcm"}});
  done.inc(3);
  dead.inc();
  in_flight.set(7);
  latency.observe(0.25);
  latency.observe(0.5);
  latency.observe(4);

  CHECK(r.render_prometheus() ==
        "# HELP notify_records_total Records settled, by outcome.\n"
        "# TYPE notify_records_total counter\n"
        "notify_records_total{outcome=\"done\"} 3\n"
        "notify_records_total{outcome=\"dead_letter\"} 1\n"
        "# HELP notify_records_in_flight Records admitted and not yet settled.\n"
        "# TYPE notify_records_in_flight gauge\n"
        "notify_records_in_flight 7\n"
        "# HELP notify_push_duration_seconds Push round trips.\n"
        "# TYPE notify_push_duration_seconds histogram\n"
        "notify_push_duration_seconds_bucket{provider=\"fcm\",le=\"0.1\"} 0\n"
        "notify_push_duration_seconds_bucket{provider=\"fcm\",le=\"0.5\"} 2\n"
        "notify_push_duration_seconds_bucket{provider=\"fcm\",le=\"1\"} 2\n"
        "notify_push_duration_seconds_bucket{provider=\"fcm\",le=\"+Inf\"} 3\n"
        "notify_push_duration_seconds_sum{provider=\"fcm\"} 4.75\n"
        "notify_push_duration_seconds_count{provider=\"fcm\"} 3\n");
  CHECK(Registry::prometheus_content_type == "text/plain; version=0.0.4; charset=utf-8");
}

TEST_CASE("label values escape backslash, double quote and newline, help escapes backslash and newline") {
  CHECK(notify::ops::escape_label_value("a\\b\"c\nd") == "a\\\\b\\\"c\\nd");
  CHECK(notify::ops::escape_label_value("plain ünïcode") == "plain ünïcode");
  CHECK(notify::ops::escape_help("x\\y\nz \"q\"") == "x\\\\y\\nz \"q\"");

  Registry r;
  r.gauge("notify_test_info", "Line one\nline \\two", {{"path", "C:\\dir\n\"quoted\""}}).set(1);
  CHECK(r.render_prometheus() ==
        "# HELP notify_test_info Line one\\nline \\\\two\n"
        "# TYPE notify_test_info gauge\n"
        "notify_test_info{path=\"C:\\\\dir\\n\\\"quoted\\\"\"} 1\n");
}

TEST_CASE("histogram buckets are cumulative, bounds inclusive, and _count equals the +Inf bucket") {
  notify::ops::Histogram h({0.01, 0.1, 1});
  for (double v : {0.001, 0.01, 0.05, 0.1, 0.7, 1.0, 100.0, -1.0}) h.observe(v);
  h.observe(std::numeric_limits<double>::quiet_NaN());  // ignored
  CHECK(h.bucket(0) == 3);  // -1, 0.001, 0.01 (le is inclusive)
  CHECK(h.bucket(1) == 2);  // 0.05, 0.1
  CHECK(h.bucket(2) == 2);  // 0.7, 1
  CHECK(h.bucket(3) == 1);  // 100
  CHECK(h.count() == 8);

  Registry r;
  auto& g = r.histogram("notify_x_seconds", "x", {0.01, 0.1, 1});
  for (double v : {0.001, 0.01, 0.05, 0.1, 0.7, 1.0, 100.0}) g.observe(v);
  const std::string text = r.render_prometheus();
  CHECK(text.find("notify_x_seconds_bucket{le=\"0.01\"} 2\n") != std::string::npos);
  CHECK(text.find("notify_x_seconds_bucket{le=\"0.1\"} 4\n") != std::string::npos);
  CHECK(text.find("notify_x_seconds_bucket{le=\"1\"} 6\n") != std::string::npos);
  CHECK(text.find("notify_x_seconds_bucket{le=\"+Inf\"} 7\n") != std::string::npos);
  CHECK(text.find("notify_x_seconds_count 7\n") != std::string::npos);
}

TEST_CASE("sample values are written as Prometheus reads them") {
  using notify::ops::format_value;
  CHECK(format_value(0) == "0");
  CHECK(format_value(1) == "1");
  CHECK(format_value(0.005) == "0.005");
  CHECK(format_value(-2.5) == "-2.5");
  CHECK(format_value(1e21) == "1e+21");
  CHECK(format_value(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(format_value(-std::numeric_limits<double>::infinity()) == "-Inf");
  CHECK(format_value(std::numeric_limits<double>::quiet_NaN()) == "NaN");
  CHECK(std::stod(format_value(0.1 + 0.2)) == 0.1 + 0.2);  // round trip exact
}

TEST_CASE("the default bucket sets are increasing and in seconds") {
  for (const auto& bounds : {notify::ops::latency_buckets(), notify::ops::end_to_end_buckets()}) {
    REQUIRE(!bounds.empty());
    for (std::size_t i = 1; i < bounds.size(); ++i) CHECK(bounds[i - 1] < bounds[i]);
  }
  CHECK(notify::ops::latency_buckets().back() == 10);
  CHECK(notify::ops::end_to_end_buckets().back() == 3600);
}

TEST_CASE("the EMF line is one JSON document with the _aws block CloudWatch documents") {
  Registry r;
  r.counter("notify_pushes_total", "Pushes.", {{"outcome", "sent"}, {"provider", "fcm"}}).inc(5);
  r.gauge("notify_oauth_token_age_seconds", "Token age.").set(12.5);
  r.gauge("notify_nan", "Left out.").set(std::numeric_limits<double>::quiet_NaN());
  auto& h = r.histogram("notify_record_duration_seconds", "End to end.", {1, 10});
  h.observe(0.5);
  h.observe(2);

  notify::ops::EmfOptions opt;
  opt.namespace_name = "notify/test";
  opt.dimensions = {{"function", "notify-lambda"}};
  opt.timestamp_ms = 1700000000123;
  const std::string line = r.render_emf(opt);
  CHECK(line.find('\n') == std::string::npos);

  const auto doc = nlohmann::json::parse(line);
  REQUIRE(doc.is_object());
  const auto& aws = doc.at("_aws");
  CHECK(aws.at("Timestamp") == 1700000000123);
  REQUIRE(aws.at("CloudWatchMetrics").is_array());
  REQUIRE(aws.at("CloudWatchMetrics").size() == 1);
  const auto& directive = aws.at("CloudWatchMetrics").at(0);
  CHECK(directive.at("Namespace") == "notify/test");
  CHECK(directive.at("Dimensions") == nlohmann::json::parse(R"([["function"]])"));
  CHECK(doc.at("function") == "notify-lambda");  // each dimension key is a top-level string

  const auto& metrics = directive.at("Metrics");
  REQUIRE(metrics.is_array());
  for (const auto& m : metrics) {  // every metric named has its value at the top level
    REQUIRE(m.at("Name").is_string());
    REQUIRE(m.at("Unit").is_string());
    CHECK(doc.at(m.at("Name").get<std::string>()).is_number());
  }
  CHECK(metrics == nlohmann::json::parse(R"([
    {"Name": "notify_pushes_total.outcome=sent.provider=fcm", "Unit": "Count"},
    {"Name": "notify_oauth_token_age_seconds", "Unit": "Seconds"},
    {"Name": "notify_record_duration_seconds_sum", "Unit": "Seconds"},
    {"Name": "notify_record_duration_seconds_count", "Unit": "Count"}])"));
  CHECK(doc.at("notify_pushes_total.outcome=sent.provider=fcm") == 5);
  CHECK(doc.at("notify_oauth_token_age_seconds") == 12.5);
  CHECK(doc.at("notify_record_duration_seconds_sum") == 2.5);
  CHECK(doc.at("notify_record_duration_seconds_count") == 2);
  CHECK(!doc.contains("notify_nan"));
}

TEST_CASE("EMF counters and histograms are the change since the previous line, totals on request") {
  Registry r;
  auto& c = r.counter("notify_records_total", "Records.");
  auto& h = r.histogram("notify_push_duration_seconds", "Pushes.", {1});
  c.inc(3);
  h.observe(0.5);
  notify::ops::EmfOptions opt;
  opt.timestamp_ms = 1;
  auto first = nlohmann::json::parse(r.render_emf(opt));
  CHECK(first.at("notify_records_total") == 3);
  CHECK(first.at("notify_push_duration_seconds_count") == 1);
  c.inc(2);
  auto second = nlohmann::json::parse(r.render_emf(opt));
  CHECK(second.at("notify_records_total") == 2);
  CHECK(second.at("notify_push_duration_seconds_count") == 0);
  CHECK(second.at("notify_push_duration_seconds_sum") == 0.0);
  opt.deltas = false;
  CHECK(nlohmann::json::parse(r.render_emf(opt)).at("notify_records_total") == 5);
}

TEST_CASE("EMF with skip_unchanged leaves out the counters and histograms that did not move, never gauges") {
  Registry r;
  auto& moved = r.counter("notify_records_total", "Records.");
  r.counter("notify_other_total", "Never moves.");
  auto& h = r.histogram("notify_push_duration_seconds", "Pushes.", {1});
  r.gauge("notify_in_flight", "A gauge.").set(0);
  notify::ops::EmfOptions opt;
  opt.timestamp_ms = 1;
  opt.skip_unchanged = true;
  moved.inc();
  h.observe(0.5);
  auto first = nlohmann::json::parse(r.render_emf(opt));
  CHECK(first.at("notify_records_total") == 1);
  CHECK(first.at("notify_push_duration_seconds_count") == 1);
  CHECK_FALSE(first.contains("notify_other_total"));
  CHECK(first.at("notify_in_flight") == 0.0);
  moved.inc(4);
  auto second = nlohmann::json::parse(r.render_emf(opt));
  CHECK(second.at("notify_records_total") == 4);
  CHECK_FALSE(second.contains("notify_push_duration_seconds_count"));
  CHECK_FALSE(second.contains("notify_push_duration_seconds_sum"));
  CHECK(second.contains("notify_in_flight"));
  // Every metric the directive names is in the document, and only those.
  std::size_t named = 0;
  for (const auto& d : second.at("_aws").at("CloudWatchMetrics"))
    for (const auto& m : d.at("Metrics")) {
      CHECK(second.contains(m.at("Name").get<std::string>()));
      ++named;
    }
  CHECK(named == 2);
}

TEST_CASE("OpenMetrics: counter families without _total, canonical le, the last traced observation per bucket, # EOF") {
  Registry r;
  r.counter("notify_records_total", "Records.").inc(2);
  auto& h = r.histogram("notify_push_duration_seconds", "Pushes.", {0.5, 1});
  h.observe(0.2, "4bf92f3577b34da6a3ce929d0e0e4736");
  h.observe(0.3);  // no trace: the bucket keeps its exemplar
  h.observe(0.9, "0af7651916cd43dd8448eb211c80319c");
  const std::string t = r.render_openmetrics();
  CHECK(t.starts_with("# HELP notify_records Records.\n# TYPE notify_records counter\nnotify_records_total 2\n"));
  CHECK(t.find("notify_push_duration_seconds_bucket{le=\"0.5\"} 2 # {trace_id=\"4bf92f3577b34da6a3ce929d0e0e4736\"} 0.2 ") !=
        std::string::npos);
  CHECK(t.find("notify_push_duration_seconds_bucket{le=\"1.0\"} 3 # {trace_id=\"0af7651916cd43dd8448eb211c80319c\"} 0.9 ") !=
        std::string::npos);
  CHECK(t.find("notify_push_duration_seconds_bucket{le=\"+Inf\"} 3\n") != std::string::npos);
  CHECK(t.ends_with("notify_push_duration_seconds_count 3\n# EOF\n"));
  // The 0.0.4 text is unchanged: no exemplars there.
  CHECK(r.render_prometheus().find("trace_id") == std::string::npos);
  CHECK(r.render_prometheus().find("le=\"1\"") != std::string::npos);
}

TEST_CASE("an EMF line with more than 100 metrics splits them over several directives") {
  Registry r;
  for (int i = 0; i < 250; ++i) r.counter("notify_many_total", "Many.", {{"i", std::to_string(i)}}).inc();
  const auto doc = nlohmann::json::parse(r.render_emf({}));
  const auto& directives = doc.at("_aws").at("CloudWatchMetrics");
  REQUIRE(directives.size() == 3);
  CHECK(directives[0].at("Metrics").size() == 100);
  CHECK(directives[2].at("Metrics").size() == 50);
  CHECK(doc.at("_aws").at("Timestamp").is_number_integer());
  CHECK(doc.at("_aws").at("Timestamp").get<std::int64_t>() > 1600000000000);  // now, in ms
  CHECK(directives[0].at("Dimensions") == nlohmann::json::parse("[[]]"));
  CHECK(doc.at("notify_many_total.i=249") == 1);
}

TEST_CASE("increments from one thread are all seen by a thread rendering meanwhile") {
  Registry r;
  auto& c = r.counter("notify_hot_total", "Hot path.");
  auto& h = r.histogram("notify_hot_seconds", "Hot path.", {0.5});
  std::thread writer([&] {
    for (int i = 0; i < 200000; ++i) {
      c.inc();
      h.observe(i % 2 ? 0.25 : 1.0);
    }
  });
  for (int i = 0; i < 50; ++i) CHECK(!r.render_prometheus().empty());
  writer.join();
  CHECK(c.value() == 200000);
  CHECK(h.count() == 200000);
  CHECK(h.sum() == 100000 * 0.25 + 100000 * 1.0);
}

TEST_CASE("build info names the CMake version and a revision, as a gauge of 1") {
  CHECK(notify::ops::version() == NOTIFY_TEST_VERSION);
  const std::string_view rev = notify::ops::revision();
  REQUIRE(!rev.empty());
  if (rev != "unknown")
    for (char ch : rev) CHECK(((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')));
  Registry r;
  notify::ops::register_build_info(r);
  const std::string expected = "notify_build_info{version=\"" + std::string(notify::ops::version()) +
                               "\",revision=\"" + std::string(rev) + "\"} 1\n";
  CHECK(r.render_prometheus().find(expected) != std::string::npos);
}
