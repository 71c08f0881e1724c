// SPDX-License-Identifier: MIT
// notify-worker as a process on a real redis-server: what happens to the records of a
// batch when the worker is told to stop, when it is killed, when a second worker shares
// the stream, and when Redis itself is killed and restarted. Every push is counted from
// the workers' `--push log` lines, keyed by token and request (each request has its own
// messageId), so a push sent twice or never shows up.
//
// Slow batches come from --push-delay-ms; time only paces the tests (generous upper
// bounds so nothing hangs), it is never asserted.

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "http_call.hpp"
#include "notify/codec.hpp"
#include "notify/redis/redis.hpp"
#include "notify/trace.hpp"
#include "process.hpp"
#include "samples.hpp"
#include "redis_rig.hpp"
#include "redis_server.hpp"

using namespace notify;
using namespace std::chrono_literals;
using notify::test::count_lines;
using notify::test::eventually;
using notify::test::Process;
using notify::test::RedisServer;

namespace {

using notify::test::differences;
using notify::test::PushCounts;

/// A Redis with sample families, a producer, and a directory for the workers' output.
struct Rig : notify::test::WorkerFiles {
  static constexpr Id family_count = 6;

  explicit Rig(RedisServer::Config config = {})
      : server(std::move(config)), store(options()), producer(options(), queue_options()) {
    char tmpl[] = "/tmp/notify-worker-test-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    // Families 1..6 of three members; user 1 writes the comments, users 2 and 3 get them.
    for (Id f = 1; f <= family_count; ++f)
      for (Id u = 1; u <= 3; ++u)
        REQUIRE(store.set_member(f, notify::member_v1(u, "member" + std::to_string(u), token(f, u), true)).has_value());
  }
  ~Rig() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  Rig(const Rig&) = delete;
  Rig& operator=(const Rig&) = delete;

  redis::Options options() const { return notify::test::fast_reconnect_options(server.url()); }
  static redis::QueueOptions queue_options() { return notify::test::producer_queue_options(); }

  static std::string token(Id family, Id user) { return notify::test::sample_token(family, user); }

  /// Publishes requests 1..n (see comment_requests) and records the pushes each must lead to.
  void publish(int n) { REQUIRE(producer.send(notify::test::comment_requests(n, family_count, expected)).has_value()); }


  /// notify-worker on this Redis, stdout and stderr to files named after `name`.
  std::unique_ptr<Process> worker(const std::string& name, std::vector<std::string> extra) const {
    std::vector<std::string> argv = {NOTIFY_WORKER_PROGRAM, "--queue", server.url() + "/notify", "--members",
                                     server.url(), "--push", "log", "--log-format", "text", "--log-level", "debug"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return std::make_unique<Process>(std::move(argv), out(name), err(name));
  }


  long long xlen(const std::string& stream) {
    auto r = producer.connection().command({"XLEN", stream});
    REQUIRE(r.has_value());
    return r->integer;
  }
  std::size_t pending() {
    auto n = producer.pending_count();
    REQUIRE(n.has_value());
    return *n;
  }
  /// Nothing left to do: no entry in the streams, none delivered and unsettled, none delayed.
  bool drained() {
    auto n = producer.pending_count();
    return n && *n == 0 && xlen("notify") == 0 && xlen("notify:high") == 0;
  }

  RedisServer server;
  redis::MemberStore store;
  redis::Queue producer;
  PushCounts expected;
};

}  // namespace

TEST_CASE("SIGTERM makes the worker finish the batch in flight, settle it and exit 0") {
  Rig rig;
  rig.publish(30);
  auto worker = rig.worker("w", {"--push-delay-ms", "2000", "--batch-size", "10"});
  REQUIRE(eventually([&] { return rig.events("w", "received") > 0; }));
  worker->signal(SIGTERM);
  const auto status = worker->wait();
  REQUIRE(status.has_value());
  CHECK(*status == 0);
  CHECK(rig.events("w", "stopped") == 1);

  // Every record it took was finished: pushed, acked; none was left delivered-unsettled.
  const auto received = rig.requests("w", "received");
  const auto done = rig.requests("w", "done");
  CHECK(received.size() >= 10);
  CHECK(done == received);
  CHECK(rig.pending() == 0);
  // The rest is still in the stream, untouched: none lost.
  CHECK(rig.xlen("notify") == static_cast<long long>(30 - done.size()));
  const PushCounts first = rig.pushes({"w"});
  CHECK(first.size() == 2 * done.size());

  // A second worker drains the rest; together they pushed everything exactly once.
  auto second = rig.worker("w2", {"--drain"});
  const auto second_status = second->wait();
  REQUIRE(second_status.has_value());
  CHECK(*second_status == 0);
  const PushCounts all = rig.pushes({"w", "w2"});
  CHECK_MESSAGE(all == rig.expected, differences(all, rig.expected));
  CHECK(rig.drained());
}

TEST_CASE("SIGINT stops an idle worker waiting for work with status 0") {
  Rig rig;
  auto worker = rig.worker("w", {});
  REQUIRE(eventually([&] { return rig.events("w", "started") == 1; }));
  worker->signal(SIGINT);
  const auto status = worker->wait();
  REQUIRE(status.has_value());
  CHECK(*status == 0);
  CHECK(rig.events("w", "stopped") == 1);
}

TEST_CASE("two workers on one stream share the work and no push is sent twice") {
  Rig rig;
  rig.publish(60);
  auto a = rig.worker("a", {"--push-delay-ms", "300", "--drain"});
  // B starts while A holds its first batch, so both find work.
  REQUIRE(eventually([&] { return rig.events("a", "received") > 0; }));
  auto b = rig.worker("b", {"--push-delay-ms", "300", "--drain"});
  const auto status_a = a->wait();
  const auto status_b = b->wait();
  REQUIRE(status_a.has_value());
  REQUIRE(status_b.has_value());
  CHECK(*status_a == 0);
  CHECK(*status_b == 0);

  const auto done_a = rig.requests("a", "done");
  const auto done_b = rig.requests("b", "done");
  CHECK(!done_a.empty());
  CHECK(!done_b.empty());
  CHECK(done_a.size() + done_b.size() == 60);
  for (const std::string& id : done_a) CHECK_MESSAGE(!done_b.contains(id), id << " was done by both workers");
  const PushCounts all = rig.pushes({"a", "b"});
  CHECK_MESSAGE(all == rig.expected, differences(all, rig.expected));
  CHECK(rig.drained());
}

TEST_CASE("a worker killed with SIGKILL mid-batch has its records reclaimed by another, none lost, none pushed twice") {
  Rig rig;
  rig.publish(40);
  // A finishes one batch, then is killed while its second batch waits on the (slow) push.
  auto a = rig.worker("a", {"--push-delay-ms", "1500", "--batch-size", "10"});
  REQUIRE(eventually([&] { return rig.events("a", "done") == 10 && rig.events("a", "received") == 20; }));
  a->signal(SIGKILL);
  const auto status_a = a->wait();
  REQUIRE(status_a.has_value());
  CHECK(*status_a == 128 + SIGKILL);
  const auto taken = rig.requests("a", "received");
  const auto done_a = rig.requests("a", "done");
  REQUIRE(done_a.size() == 10);
  CHECK(rig.pending() == 10);  // the killed worker's batch, delivered and never settled

  // B takes over what A held once it has been idle for 500 ms, and drains the rest.
  auto b = rig.worker("b", {"--claim-idle-ms", "500", "--drain"});
  const auto status_b = b->wait();
  REQUIRE(status_b.has_value());
  CHECK(*status_b == 0);
  const auto done_b = rig.requests("b", "done");
  for (const std::string& id : taken)
    if (!done_a.contains(id)) CHECK_MESSAGE(done_b.contains(id), id << " held by the killed worker was not reclaimed");
  for (const std::string& id : done_a) CHECK_MESSAGE(!done_b.contains(id), id << " was done twice");
  CHECK(done_a.size() + done_b.size() == 40);
  const PushCounts all = rig.pushes({"a", "b"});
  CHECK_MESSAGE(all == rig.expected, differences(all, rig.expected));
  CHECK(rig.drained());
  CHECK(rig.xlen("notify:dead") == 0);
}

TEST_CASE("the worker reconnects after redis-server is killed and restarted mid-stream, losing and repeating nothing") {
  // Redis without persistence loses everything on a restart; with AOF and fsync on every
  // write (appendfsync always) it keeps every acknowledged write: the stream, the
  // consumer group's pending entries and the "sent" markers.
  RedisServer::Config config;
  config.persistent = true;
  Rig rig(config);
  rig.publish(100);
  auto worker = rig.worker("w", {"--push-delay-ms", "100", "--claim-idle-ms", "500"});
  REQUIRE(eventually([&] { return rig.events("w", "done") >= 20; }));
  rig.server.kill();
  std::this_thread::sleep_for(300ms);  // the worker meets a dead server for a while
  rig.server.start();

  REQUIRE(eventually([&] { return rig.drained(); }));
  worker->signal(SIGTERM);
  const auto status = worker->wait();
  REQUIRE(status.has_value());
  CHECK(*status == 0);

  // It noticed the outage (its connections broke) and carried on.
  CHECK(rig.events("w", "queue_error") + rig.events("w", "settle_error") > 0);
  const PushCounts all = rig.pushes({"w"});
  CHECK_MESSAGE(all == rig.expected, differences(all, rig.expected));
  CHECK(rig.requests("w", "done").size() == 100);
  CHECK(rig.xlen("notify:dead") == 0);
}

// ---- --metrics-listen: /metrics, /healthz, /readyz against the running worker --------

namespace {

/// The worker's monitor address, from its started event ("metrics=http://HOST:PORT/metrics").
std::string monitor_address(const Rig& rig, const std::string& name) {
  for (const std::string& line : notify::test::read_lines(rig.err(name))) {
    const auto at = line.find("metrics=http://");
    if (at == std::string::npos) continue;
    const auto begin = at + std::string_view("metrics=http://").size();
    return line.substr(begin, line.find("/metrics", begin) - begin);
  }
  return {};
}

/// GET `url`: the status and the body (status 0: no answer).
std::pair<long, std::string> get(const std::string& url) {
  long status = 0;
  notify::test::HttpCall call;
  call.status = &status;
  try {
    std::string body = notify::test::http_call(url, call);
    return {status, std::move(body)};
  } catch (const std::exception&) {
    return {0, {}};
  }
}

/// The sum of every sample of `family` whose labels contain `labels` (e.g. `result="sent"`).
double sample_sum(const std::string& exposition, const std::string& family, const std::string& labels = {}) {
  double sum = 0;
  std::istringstream in(exposition);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(family, 0) != 0 || line.size() <= family.size()) continue;
    const char next = line[family.size()];
    if (next != '{' && next != ' ') continue;
    if (!labels.empty() && line.find(labels) == std::string::npos) continue;
    sum += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return sum;
}

/// `promtool check metrics` on `exposition`: empty when it passes (or promtool is not
/// installed: then a message says so), the findings otherwise.
std::string promtool_findings(const std::string& exposition, const std::string& dir) {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) {
    MESSAGE("promtool not installed (apt-get install prometheus): the exposition is not linted");
    return {};
  }
  const std::string in = dir + "/scrape.txt", out = dir + "/promtool.txt";
  {
    std::ofstream f(in);
    f << exposition;
  }
  const int rc = std::system(("promtool check metrics < " + in + " > " + out + " 2>&1").c_str());
  std::ifstream f(out);
  std::string findings((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  return rc == 0 ? std::string() : "promtool failed:\n" + findings;
}

}  // namespace

TEST_CASE("--metrics-listen: counters equal what was driven, and promtool passes on a scrape taken mid-run") {
  Rig rig;
  rig.publish(40);
  const std::vector<std::string> invalid = {R"({"type":"NO_SUCH_TYPE","param":{}})", "not json",
                                            R"({"type":"COMMENT_MESSAGE","param":{"familyId":"x"}})"};
  REQUIRE(rig.producer.send(invalid).has_value());
  auto worker = rig.worker("m", {"--metrics-listen", "127.0.0.1:0", "--push-delay-ms", "20", "--stats-interval", "1"});
  std::string address;
  REQUIRE(eventually([&] { return !(address = monitor_address(rig, "m")).empty(); }));
  const std::string base = "http://" + address;

  // Mid-run: some records done, not all.
  REQUIRE(eventually([&] { return rig.events("m", "done") >= 5; }));
  const auto [mid_status, mid] = get(base + "/metrics");
  REQUIRE(mid_status == 200);
  const std::string findings = promtool_findings(mid, rig.dir);
  CHECK_MESSAGE(findings.empty(), findings);
  CHECK(sample_sum(mid, "notify_records_received_total") >= sample_sum(mid, "notify_records_done_total"));
  CHECK(sample_sum(mid, "notify_build_info") == 1);

  REQUIRE(eventually([&] { return rig.drained(); }));
  // The last records are settled right after they are decided; the counters are final
  // once every request is logged done or dead-lettered.
  REQUIRE(eventually([&] { return rig.events("m", "done") + rig.events("m", "dead_letter") >= 43; }));
  // The counters move right after the log lines, the gauges at the loop's next turn.
  std::pair<long, std::string> last;
  CHECK(eventually([&] {
    last = get(base + "/metrics");
    return last.first == 200 && sample_sum(last.second, "notify_records_done_total") == 40 &&
           sample_sum(last.second, "notify_records_dead_lettered_total") == 3 &&
           sample_sum(last.second, "notify_records_in_flight") == 0;
  }));
  const std::string& end = last.second;
  std::size_t pushes = 0;
  for (const auto& [key, n] : rig.expected) pushes += static_cast<std::size_t>(n);
  CHECK(sample_sum(end, "notify_records_received_total") == 43);
  CHECK(sample_sum(end, "notify_records_received_total", R"(type="COMMENT_MESSAGE")") == 40);
  CHECK(sample_sum(end, "notify_records_done_total") == 40);
  CHECK(sample_sum(end, "notify_records_dead_lettered_total") == 3);
  CHECK(sample_sum(end, "notify_records_dead_lettered_total", R"(type="unknown",reason="invalid")") == 3);
  CHECK(sample_sum(end, "notify_records_retried_total") == 0);
  CHECK(sample_sum(end, "notify_pushes_total", R"(provider="log",result="sent")") == static_cast<double>(pushes));
  CHECK(sample_sum(end, "notify_pushes_total") == static_cast<double>(pushes));
  CHECK(sample_sum(end, "notify_push_duration_seconds_count") == static_cast<double>(pushes));
  CHECK(sample_sum(end, "notify_record_latency_seconds_count") == 43);
  CHECK(sample_sum(end, "notify_records_in_flight") == 0);
  // The queue's gauges follow within a probe interval.
  CHECK(eventually([&] { return sample_sum(get(base + "/metrics").second, "notify_queue_dead_letters") == 3; }));
  CHECK(promtool_findings(end, rig.dir).empty());
  // The worker printed each request's inbox records (--inbox log): as many as it counted.
  std::size_t inbox = 0;
  for (const std::string& line : notify::test::read_lines(rig.out("m")))
    if (line.rfind("inbox ", 0) == 0) inbox += nlohmann::json::parse(line.substr(6)).size();
  CHECK(inbox > 0);
  CHECK(sample_sum(end, "notify_inbox_records_published_total") == static_cast<double>(inbox));

  // The stats events, one a second, add up to the same records and pushes.
  auto stats_sum = [&](const std::string& what) {
    long long n = 0;
    for (const std::string& line : notify::test::read_lines(rig.err("m"))) {
      if (line.find(" step=stats ") == std::string::npos) continue;
      const auto at = line.find(" " + what + " (");
      if (at == std::string::npos) continue;
      const auto begin = line.rfind(' ', at - 1) + 1;
      n += std::stoll(line.substr(begin, at - begin));
    }
    return n;
  };
  CHECK(eventually([&] { return stats_sum("records") == 43 && stats_sum("pushes") == static_cast<long long>(pushes); }));

  worker->signal(SIGTERM);
  const auto status = worker->wait();
  REQUIRE(status.has_value());
  CHECK(*status == 0);
}

TEST_CASE("--metrics-listen: /readyz turns 503 while redis-server is down and 200 once it is back, and /healthz stays 200") {
  RedisServer::Config config;
  config.persistent = true;
  Rig rig(config);
  auto worker = rig.worker("r", {"--metrics-listen", "127.0.0.1:0"});
  std::string address;
  REQUIRE(eventually([&] { return !(address = monitor_address(rig, "r")).empty(); }));
  const std::string base = "http://" + address;
  REQUIRE(eventually([&] { return get(base + "/readyz").first == 200; }));
  CHECK(get(base + "/healthz").first == 200);

  rig.server.kill();
  const auto down_at = std::chrono::steady_clock::now();
  std::pair<long, std::string> ready;
  REQUIRE(eventually([&] { return (ready = get(base + "/readyz")).first == 503; }));
  MESSAGE("not ready " << std::chrono::duration<double>(std::chrono::steady_clock::now() - down_at).count()
                       << " s after redis-server was killed: " << ready.second);
  CHECK(ready.second.find(R"("down":["queue","members"])") != std::string::npos);
  CHECK(get(base + "/healthz").first == 200);

  rig.server.start();
  const auto up_at = std::chrono::steady_clock::now();
  REQUIRE(eventually([&] { return get(base + "/readyz").first == 200; }));
  MESSAGE("ready again " << std::chrono::duration<double>(std::chrono::steady_clock::now() - up_at).count()
                         << " s after redis-server restarted");
  CHECK(get(base + "/healthz").first == 200);

  // And it still delivers.
  rig.publish(5);
  REQUIRE(eventually([&] { return rig.drained(); }));
  worker->signal(SIGTERM);
  const auto status = worker->wait();
  REQUIRE(status.has_value());
  CHECK(*status == 0);
  const PushCounts all = rig.pushes({"r"});
  CHECK_MESSAGE(all == rig.expected, differences(all, rig.expected));
}

TEST_CASE("a traceparent goes from the producer through the queue into the worker's log lines, the inbox record and the dead letter") {
  Rig rig;
  notify::Request request{notify::CommentMessageParam{.messageFamId = 501, .authorId = 1, .familyId = 2,
                                                      .commentPreview = "traced"},
                          "traced-1", {}};
  request.traceparent = notify::new_traceparent();  // what the producer side does when the caller set none
  const std::string trace(notify::trace_id_of(request.traceparent));
  const std::string bad_tp = notify::new_traceparent();
  const std::vector<std::string> bodies = {
      notify::encode(request),
      R"({"type":"COMMENT_MESSAGE","param":{"familyId":"x"},"id":"traced-bad","traceparent":")" + bad_tp + "\"}"};
  REQUIRE(rig.producer.send(bodies).has_value());

  auto worker = rig.worker("t", {"--metrics-listen", "127.0.0.1:0"});
  std::string address;
  REQUIRE(eventually([&] { return !(address = monitor_address(rig, "t")).empty(); }));
  REQUIRE(eventually([&] { return rig.drained() && rig.events("t", "done") == 1; }));
  // A scraper asking for OpenMetrics gets the latency buckets' exemplars: this trace.
  long scrape_status = 0;
  notify::test::HttpCall call;
  call.status = &scrape_status;
  call.headers = {"Accept: application/openmetrics-text; version=1.0.0"};
  const std::string open_metrics = notify::test::http_call("http://" + address + "/metrics", call);
  CHECK(scrape_status == 200);
  CHECK(open_metrics.ends_with("# EOF\n"));
  std::set<std::string> with_exemplar;  // the families whose buckets point at this trace
  std::istringstream lines(open_metrics);
  for (std::string line; std::getline(lines, line);)
    if (line.find(" # {trace_id=\"" + trace + "\"} ") != std::string::npos) with_exemplar.insert(line.substr(0, line.find('{')));
  const std::set<std::string> expected = {"notify_push_duration_seconds_bucket", "notify_record_latency_seconds_bucket"};
  CHECK_MESSAGE(with_exemplar == expected, open_metrics);
  worker->signal(SIGTERM);
  const auto status = worker->wait();
  REQUIRE(status.has_value());
  CHECK(*status == 0);

  // Every event of the request names its trace.
  std::size_t events = 0;
  for (const std::string& line : notify::test::read_lines(rig.err("t")))
    if (line.find(" request=traced-1 ") != std::string::npos) {
      ++events;
      CHECK_MESSAGE(line.ends_with(" trace=" + trace), line);
    }
  CHECK(events >= 4);  // received, planned, sent x2, inbox_published, done
  // Its inbox records carry the traceparent.
  std::size_t inbox = 0;
  for (const std::string& line : notify::test::read_lines(rig.out("t")))
    if (line.rfind("inbox ", 0) == 0)
      for (const auto& record : nlohmann::json::parse(line.substr(6))) {
        ++inbox;
        CHECK(record.at("traceparent") == request.traceparent);
      }
  CHECK(inbox == 2);
  // The dead letter keeps the request as it came, traceparent included.
  auto dead = rig.producer.dead_letters();
  REQUIRE(dead.has_value());
  REQUIRE(dead->size() == 1);
  CHECK((*dead)[0].body.find(bad_tp) != std::string::npos);
}

namespace {

/// A loopback TCP connection to `port` (-1 when it could not connect).
int connect_to(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

/// A process's peak resident set (VmHWM) in KiB, 0 if unknown.
long peak_rss_kib(pid_t pid) {
  for (const std::string& line : notify::test::read_lines("/proc/" + std::to_string(pid) + "/status"))
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  return 0;
}

}  // namespace

TEST_CASE("--metrics-listen: 1,000 idle connections and a 1 MB header neither stop the deliveries nor grow the worker") {
  rlimit rl{};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = std::min<rlim_t>(std::max<rlim_t>(rl.rlim_cur, 1200), rl.rlim_max);
  ::setrlimit(RLIMIT_NOFILE, &rl);
  REQUIRE_MESSAGE(rl.rlim_cur >= 1100, "RLIMIT_NOFILE too low for 1,000 connections: ", rl.rlim_cur);

  Rig rig;
  auto worker = rig.worker("h", {"--metrics-listen", "127.0.0.1:0", "--push-delay-ms", "10"});
  std::string address;
  REQUIRE(eventually([&] { return !(address = monitor_address(rig, "h")).empty(); }));
  const auto port = static_cast<std::uint16_t>(std::stoi(address.substr(address.rfind(':') + 1)));
  REQUIRE(eventually([&] { return get("http://" + address + "/readyz").first == 200; }));
  const long rss_before = peak_rss_kib(worker->pid());

  // 1,000 connections that never finish a request (every other one sends half a head).
  std::vector<int> idle;
  for (int i = 0; i < 1000; ++i) {
    const int fd = connect_to(port);
    if (fd < 0) break;
    if (i % 2 == 1) send_all(fd, "GET /metrics HTTP/1.1\r\nX-Slow: ");
    idle.push_back(fd);
  }
  CHECK(idle.size() == 1000);
  // And one that sends a 1 MB header line, while records come in.
  std::thread hostile([&] {
    const int fd = connect_to(port);
    if (fd < 0) return;
    send_all(fd, "GET /metrics HTTP/1.1\r\nX-Huge: ");
    send_all(fd, std::string(1024 * 1024, 'x'));
    send_all(fd, "\r\n\r\n");
    ::close(fd);
  });
  rig.publish(40);
  REQUIRE(eventually([&] { return rig.drained(); }));
  hostile.join();

  // Delivered, each push once; the endpoints still answer; memory stayed put.
  const auto [status, scrape] = get("http://" + address + "/metrics");
  CHECK(status == 200);
  CHECK(sample_sum(scrape, "notify_records_done_total") == 40);
  const long rss_after = peak_rss_kib(worker->pid());
  MESSAGE("worker peak RSS " << rss_before << " KiB before the clients, " << rss_after << " KiB after");
  CHECK(rss_after > 0);
  CHECK(rss_after - rss_before < 16 * 1024);  // 64 connections x 8 KiB heads at most, plus a scrape
  for (int fd : idle) ::close(fd);
  worker->signal(SIGTERM);
  const auto exit_status = worker->wait();
  REQUIRE(exit_status.has_value());
  CHECK(*exit_status == 0);
  const PushCounts all = rig.pushes({"h"});
  CHECK_MESSAGE(all == rig.expected, differences(all, rig.expected));
}
