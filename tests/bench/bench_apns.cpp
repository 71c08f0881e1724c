// SPDX-License-Identifier: MIT
// Throughput of notify::apns::PushProvider against the APNs emulator over TLS, and the
// emulator's own ceiling measured with h2load (Debian nghttp2-client): bench_fcm's method
// for APNs.
//
//   bench_apns [--pushes N] [--batch B] [--runs R] [--connections C] [--streams S]
//              [--latency MS[,MS...]] [--h2load-requests N] [--no-h2load]
//
// For each injected latency: pushes/s and CPU seconds (user + system, this process only)
// per 10,000 pushes, as medians over the runs, and the peak RSS so far; then h2load's
// requests/s against the same emulator with the same headers and payload, and the ratio.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "apns-emulator/emulator.hpp"
#include "h2load_apns.hpp"
#include "notify/apns/apns.hpp"
#include "notify/catalog.hpp"
#include "notify/plan.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Config {
  std::size_t pushes = 20000;
  std::size_t batch = 2000;
  int runs = 5;
  std::size_t connections = 2;  // the provider's defaults
  std::size_t streams = 100;
  std::vector<int> latencies = {0, 20};
  std::size_t h2load_requests = 100000;
  bool h2load = true;
};

Config parse(int argc, char** argv) {
  Config c;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--pushes") c.pushes = std::stoul(next());
    else if (a == "--batch") c.batch = std::stoul(next());
    else if (a == "--runs") c.runs = std::stoi(next());
    else if (a == "--connections") c.connections = std::stoul(next());
    else if (a == "--streams") c.streams = std::stoul(next());
    else if (a == "--h2load-requests") c.h2load_requests = std::stoul(next());
    else if (a == "--no-h2load") c.h2load = false;
    else if (a == "--latency") {
      c.latencies.clear();
      std::string list = next();
      for (std::size_t p = 0; p <= list.size();) {
        const std::size_t q = std::min(list.find(',', p), list.size());
        c.latencies.push_back(std::stoi(list.substr(p, q - p)));
        p = q + 1;
      }
    } else {
      std::fprintf(stderr, "unknown argument %s\n", a.c_str());
      std::exit(2);
    }
  }
  return c;
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto s = [](timeval t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/// APNs device tokens are 64 hex digits.
std::string device_token(std::size_t i) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string t;
  std::size_t x = i * 2654435761u + 12345;
  while (t.size() < 64) {
    t += hex[x & 15];
    x = x * 6364136223846793005u + 1442695040888963407u;
  }
  return t;
}

struct Result {
  double pushes_per_s = 0;
  double cpu_per_10k = 0;
  std::size_t failed = 0;
};

Result run_once(notify::apns::PushProvider& provider, const notify::Message& message,
                const std::vector<std::string>& tokens, std::size_t total) {
  std::vector<notify::Push> pushes;
  for (const std::string& t : tokens) pushes.push_back({&message, t, notify::PushService::apns});
  Result r;
  const double cpu0 = cpu_seconds();
  const auto t0 = Clock::now();
  for (std::size_t sent = 0; sent < total; sent += pushes.size()) {
    for (const auto& res : provider.send(pushes)) {
      if (res.status == notify::PushStatus::sent) continue;
      if (r.failed++ == 0) std::fprintf(stderr, "first failure: %s\n", res.detail.c_str());
    }
  }
  const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  const double cpu = cpu_seconds() - cpu0;
  const auto sent = static_cast<double>((total + pushes.size() - 1) / pushes.size() * pushes.size());
  r.pushes_per_s = sent / wall;
  r.cpu_per_10k = cpu / sent * 10000.0;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  const Config c = parse(argc, argv);
  std::vector<std::string> tokens;
  for (std::size_t i = 0; i < c.batch; ++i) tokens.push_back(device_token(i));
  notify::Message message;
  message.title = notify::catalog::title_story;
  message.body = notify::catalog::story_arrived;
  message.link = {notify::Screen::MessageHome, notify::LinkKey::none, 0};

  std::printf("bench_apns: %zu pushes per run in batches of %zu, %d runs, %zu connections x %zu streams, TLS\n",
              c.pushes, c.batch, c.runs, c.connections, c.streams);
  std::printf("%-10s %12s %18s %14s %12s\n", "latency", "pushes/s", "CPU s/10k pushes", "peak RSS MB", "failed");
  for (int latency : c.latencies) {
    notify::test::ApnsEmulator emu(notify::test::ApnsEmulatorOptions{
        .tls = true, .latency_ms = latency, .max_concurrent_streams = 1000, .record = false});
    auto credentials = notify::apns::read_credentials(emu.key_file(), emu.options().key_id, emu.options().team_id);
    if (!credentials) {
      std::fprintf(stderr, "%s\n", credentials.error().message.c_str());
      return 1;
    }
    notify::apns::Options o;
    o.endpoint = emu.url();
    o.ca_file = emu.ca_file();
    o.topic = emu.options().topic;
    o.connections = c.connections;
    o.streams_per_connection = c.streams;
    auto provider = notify::apns::PushProvider::create(*credentials, o);
    if (!provider) {
      std::fprintf(stderr, "%s\n", provider.error().message.c_str());
      return 1;
    }
    run_once(*provider, message, tokens, tokens.size());  // warm-up: connections
    std::vector<double> rates, cpus;
    std::size_t failed = 0;
    for (int i = 0; i < c.runs; ++i) {
      const Result r = run_once(*provider, message, tokens, c.pushes);
      rates.push_back(r.pushes_per_s);
      cpus.push_back(r.cpu_per_10k);
      failed += r.failed;
    }
    std::printf("%-10s %12.0f %18.4f %14.1f %12zu\n", (std::to_string(latency) + " ms").c_str(), median(rates),
                median(cpus), peak_rss_mb(), failed);
    const auto st = emu.stats();
    std::printf("%-10s emulator saw %s connections, %s provider tokens, %s streams reset, at most %s streams at once\n",
                "", st["sessions_opened"].dump().c_str(), st["tokens_seen"].dump().c_str(),
                st["streams_reset"].dump().c_str(), st["max_concurrent_streams"].dump().c_str());

    if (c.h2load) {
      const std::string body_file = emu.dir() + "/payload.json";
      std::ofstream(body_file) << notify::apns::payload(message);
      const std::string jwt = notify::bench::provider_token(emu);
      const auto expiration = std::chrono::duration_cast<std::chrono::seconds>(
                                  std::chrono::system_clock::now().time_since_epoch()).count() + 86400;
      const std::vector<std::pair<std::string, std::string>> headers = {
          {"apns-topic", emu.options().topic}, {"apns-push-type", "alert"}, {"apns-priority", "5"},
          {"apns-expiration", std::to_string(expiration)}, {"apns-collapse-id", "message-today"}};
      const notify::bench::H2loadRun run{c.h2load_requests, c.connections, c.streams, body_file};
      std::vector<double> h2;
      std::string command;
      for (int i = 0; i < c.runs; ++i)
        h2.push_back(notify::bench::h2load_rate(emu, run, headers, jwt, tokens[0], command).rate);
      const double ceiling = median(h2);
      std::printf("%-10s emulator ceiling (h2load, median of %d): %.0f req/s; the provider reaches %.0f%% of it\n",
                  "", c.runs, ceiling, ceiling > 0 ? 100.0 * median(rates) / ceiling : 0.0);
      std::printf("%-10s %s\n", "", command.c_str());
    }
  }
  return 0;
}
