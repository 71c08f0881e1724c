// SPDX-License-Identifier: MIT
// notify::outbox::Outbox on files in a temporary directory: reopening, relaying in order,
// the size bound, the lock, torn tails and damage, group commit, kill -9 in the middle of
// appends, a disk that refuses (RLIMIT_FSIZE), the relay loop and the metrics.

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "notify/ops/metrics.hpp"
#include "notify/outbox/metrics.hpp"
#include "notify/outbox/outbox.hpp"

namespace ob = notify::outbox;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

/// A fresh directory, removed at the end.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string t = (fs::temp_directory_path() / "notify-outbox-XXXXXX").string();
    REQUIRE(::mkdtemp(t.data()) != nullptr);
    path = t;
  }
  ~TempDir() { fs::remove_all(path); }
  std::string box() const { return (path / "box").string(); }
  std::string journal() const { return (path / "box" / "journal").string(); }
};

const ob::Destination to{"redis://127.0.0.1:1/notify", 0};

std::string body(const std::string& id) { return R"({"type":"EMOTION_POKE","param":{"familyId":1,"userId":2},"id":")" + id + "\"}"; }

ob::Outbox open_box(const std::string& dir, ob::Options o = {}) {
  auto box = ob::Outbox::open(dir, o);
  REQUIRE_MESSAGE(box.has_value(), (box ? "" : box.error().message));
  return std::move(*box);
}

void append(ob::Outbox& box, const std::string& id) {
  const std::string b = body(id);
  auto r = box.append(to, std::span<const std::string>(&b, 1));
  REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().message));
}

std::vector<std::string> ids_of(const std::vector<ob::Entry>& entries) {
  std::vector<std::string> ids;
  for (const ob::Entry& e : entries) {
    const auto at = e.body.find("\"id\":\"");
    ids.push_back(e.body.substr(at + 6, e.body.find('"', at + 6) - at - 6));
  }
  return ids;
}

/// A sender that records what it got, refusing while `down`.
struct FakeQueue {
  std::vector<std::string> got;
  bool down = false;
  int calls = 0;
  ob::Sender sender() {
    return [this](const ob::Destination&, std::span<const std::string> bodies) -> notify::Result<void> {
      ++calls;
      if (down) return notify::Error{notify::Errc::unavailable, "connection refused", {}};
      got.insert(got.end(), bodies.begin(), bodies.end());
      return {};
    };
  }
};

std::uintmax_t file_size(const std::string& p) { return fs::file_size(p); }

}  // namespace

TEST_CASE("appended requests survive a reopen and are relayed in order, then compacted away") {
  TempDir t;
  {
    auto box = open_box(t.box());
    for (int i = 1; i <= 5; ++i) append(box, "r-" + std::to_string(i));
    CHECK(box.stats().depth == 5);
    CHECK(box.stats().appended == 5);
  }
  auto box = open_box(t.box());
  REQUIRE(ids_of(box.pending()) == std::vector<std::string>{"r-1", "r-2", "r-3", "r-4", "r-5"});
  FakeQueue q;
  const ob::RelayResult r = box.relay(q.sender(), 2);
  CHECK(r.relayed == 5);
  CHECK_FALSE(r.error);
  CHECK(q.calls == 3);
  REQUIRE(q.got.size() == 5);
  CHECK(q.got[0] == body("r-1"));
  CHECK(q.got[4] == body("r-5"));
  CHECK(box.stats().depth == 0);
  CHECK(box.stats().relayed == 5);
  CHECK(file_size(t.journal()) == ob::file_magic.size());  // nothing waits: compacted
  // The next append after compaction goes to the new file.
  append(box, "r-6");
  auto again = ob::Outbox::inspect(t.box());
  REQUIRE(again);
  CHECK(ids_of(again->entries) == std::vector<std::string>{"r-6"});
}

TEST_CASE("the relay stops at the first refusal and the requests keep their place") {
  TempDir t;
  auto box = open_box(t.box());
  for (int i = 1; i <= 3; ++i) append(box, "r-" + std::to_string(i));
  FakeQueue q;
  q.down = true;
  ob::RelayResult r = box.relay(q.sender());
  CHECK(r.relayed == 0);
  REQUIRE(r.error);
  CHECK(r.error->code == notify::Errc::unavailable);
  CHECK(box.stats().relay_failures == 1);
  append(box, "r-4");
  q.down = false;
  r = box.relay(q.sender(), 100, 2);  // at most two
  CHECK(r.relayed == 2);
  CHECK(ids_of(box.pending()) == std::vector<std::string>{"r-3", "r-4"});
  // Acknowledged in the journal: a reopen does not send r-1 and r-2 again.
  {
    auto look = ob::Outbox::inspect(t.box());
    REQUIRE(look);
    CHECK(ids_of(look->entries) == std::vector<std::string>{"r-3", "r-4"});
  }
}

TEST_CASE("requests to different destinations go to each in order, one batch per run") {
  TempDir t;
  auto box = open_box(t.box());
  const std::vector<std::string> a{body("a-1"), body("a-2")}, b{body("b-1")}, c{body("a-3")};
  REQUIRE(box.append(to, a));
  REQUIRE(box.append({"https://sqs.eu-west-1.amazonaws.com/1/q", 0}, b));
  REQUIRE(box.append(to, c));
  std::vector<std::pair<std::string, std::size_t>> calls;
  auto r = box.relay([&](const ob::Destination& d, std::span<const std::string> bodies) -> notify::Result<void> {
    calls.emplace_back(d.queue, bodies.size());
    return {};
  });
  CHECK(r.relayed == 4);
  REQUIRE(calls.size() == 3);
  CHECK(calls[0] == std::pair<std::string, std::size_t>{to.queue, 2});
  CHECK(calls[1].first == "https://sqs.eu-west-1.amazonaws.com/1/q");
  CHECK(calls[2] == std::pair<std::string, std::size_t>{to.queue, 1});
}

TEST_CASE("a full outbox refuses with a clear error and stores nothing of the call") {
  TempDir t;
  ob::Options o;
  o.max_bytes = 600;
  auto box = open_box(t.box(), o);
  int stored = 0;
  notify::Result<void> r;
  for (; stored < 100; ++stored) {
    const std::string b = body("r-" + std::to_string(stored));
    r = box.append(to, std::span<const std::string>(&b, 1));
    if (!r) break;
  }
  REQUIRE_FALSE(r);
  CHECK(stored > 0);
  CHECK(r.error().code == notify::Errc::too_many_items);
  CHECK(r.error().message.find("full") != std::string::npos);
  CHECK(r.error().message.find("nothing stored") != std::string::npos);
  CHECK(box.stats().depth == static_cast<std::size_t>(stored));
  CHECK(file_size(t.journal()) <= 600);
  // Relaying makes room again.
  FakeQueue q;
  CHECK(box.relay(q.sender()).relayed == static_cast<std::size_t>(stored));
  append(box, "after");
}

TEST_CASE("one process at a time: a second open waits for the lock, then fails naming the holder") {
  TempDir t;
  auto first = open_box(t.box());
  ob::Options o;
  o.lock_wait = 50ms;
  const auto began = std::chrono::steady_clock::now();
  auto second = ob::Outbox::open(t.box(), o);
  REQUIRE_FALSE(second);
  CHECK(std::chrono::steady_clock::now() - began >= 50ms);
  CHECK(second.error().code == notify::Errc::unavailable);
  CHECK(second.error().message.find("pid " + std::to_string(::getpid())) != std::string::npos);
  { auto gone = std::move(first); }
  CHECK(ob::Outbox::open(t.box()).has_value());
}

TEST_CASE("a torn tail is cut when the outbox is opened and appends continue after it") {
  TempDir t;
  {
    auto box = open_box(t.box());
    for (int i = 1; i <= 3; ++i) append(box, "r-" + std::to_string(i));
  }
  const auto whole = file_size(t.journal());
  fs::resize_file(t.journal(), whole - 7);
  auto look = ob::Outbox::inspect(t.box());  // a look does not change the file
  REQUIRE(look);
  CHECK(look->torn_bytes > 0);
  CHECK(file_size(t.journal()) == whole - 7);
  {
    auto box = open_box(t.box());
    CHECK(box.stats().torn_bytes > 0);
    CHECK(file_size(t.journal()) < whole - 7);
    CHECK(ids_of(box.pending()) == std::vector<std::string>{"r-1", "r-2"});
    append(box, "r-4");
  }
  auto reread = open_box(t.box());
  CHECK(ids_of(reread.pending()) == std::vector<std::string>{"r-1", "r-2", "r-4"});
}

TEST_CASE("a damaged record in the middle is reported and skipped, the others relayed") {
  TempDir t;
  {
    auto box = open_box(t.box());
    for (int i = 1; i <= 3; ++i) append(box, "r-" + std::to_string(i));
  }
  const auto entries = ob::Outbox::inspect(t.box())->entries;
  {
    std::fstream f(t.journal(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(entries[1].offset + 30));
    f.put('#');
  }
  auto box = open_box(t.box());
  CHECK(box.stats().damaged_records == 1);
  FakeQueue q;
  CHECK(box.relay(q.sender()).relayed == 2);
  REQUIRE(q.got.size() == 2);
  CHECK(q.got[0] == body("r-1"));
  CHECK(q.got[1] == body("r-3"));
  // Compaction dropped the damage with the rest.
  CHECK(ob::Outbox::inspect(t.box())->damaged.empty());
}

TEST_CASE("group commit: concurrent appenders share fdatasyncs and each thread's order is kept") {
  TempDir t;
  ob::Options o;
  o.sync = ob::Sync::group;
  o.group_window = 200us;
  auto box = open_box(t.box(), o);
  constexpr int threads = 4, each = 50;
  std::atomic<int> failed{0};
  std::vector<std::thread> pool;
  for (int k = 0; k < threads; ++k)
    pool.emplace_back([&, k] {
      for (int i = 0; i < each; ++i) {
        const std::string b = body("t" + std::to_string(k) + "-" + std::to_string(i));
        if (!box.append(to, std::span<const std::string>(&b, 1))) ++failed;
      }
    });
  for (auto& th : pool) th.join();
  CHECK(failed == 0);
  const auto ids = ids_of(ob::Outbox::inspect(t.box())->entries);
  REQUIRE(ids.size() == threads * each);
  std::map<char, int> next;
  for (const std::string& id : ids) {
    const int n = std::stoi(id.substr(id.find('-') + 1));
    CHECK(n == next[id[1]]++);
  }
}

TEST_CASE("kill -9 in the middle of appends, 100 times: every acknowledged request is there exactly once") {
  TempDir t;
  std::mt19937 rng(16);
  std::set<std::string> acked;
  int unacked_found = 0;
  for (int round = 0; round < 100; ++round) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      ::close(fds[0]);
      ob::Options o;
      o.lock_wait = 5s;
      auto box = ob::Outbox::open(t.box(), o);
      if (!box) ::_exit(3);
      for (int i = 0;; ++i) {
        const std::string id = "k" + std::to_string(round) + "-" + std::to_string(i);
        const std::string b = body(id);
        if (!box->append(to, std::span<const std::string>(&b, 1))) ::_exit(4);
        const std::string line = id + "\n";  // acknowledged: durable before this is written
        if (::write(fds[1], line.data(), line.size()) < 0) ::_exit(5);
      }
    }
    ::close(fds[1]);
    std::this_thread::sleep_for(std::chrono::microseconds(std::uniform_int_distribution<int>(1000, 15000)(rng)));
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    CHECK_MESSAGE((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL), "the child ended before the kill");
    std::string got;
    char buf[4096];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) got.append(buf, static_cast<std::size_t>(n));
    ::close(fds[0]);
    for (std::size_t at = 0, nl; (nl = got.find('\n', at)) != std::string::npos; at = nl + 1) acked.insert(got.substr(at, nl - at));
  }
  auto box = open_box(t.box());
  const auto ids = ids_of(box.pending());
  std::map<std::string, int> seen;
  for (const std::string& id : ids) ++seen[id];
  for (const std::string& id : acked) CHECK_MESSAGE(seen[id] == 1, id);
  for (const auto& [id, n] : seen) {
    CHECK_MESSAGE(n == 1, id);
    if (!acked.count(id)) ++unacked_found;  // written, killed before it was reported: allowed
  }
  CHECK(box.stats().damaged_records == 0);
  MESSAGE(acked.size() << " acknowledged appends over 100 kills; " << unacked_found << " more stored but not yet acknowledged");
  CHECK(acked.size() > 0);
}

TEST_CASE("a disk that refuses (RLIMIT_FSIZE): a clear error and nothing acknowledged that was not stored") {
  TempDir t;
  { auto box = open_box(t.box()); }
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(fds[0]);
    std::signal(SIGXFSZ, SIG_IGN);  // a write past the limit fails with EFBIG instead of killing
    rlimit lim{4096, 4096};
    if (::setrlimit(RLIMIT_FSIZE, &lim) != 0) ::_exit(3);
    auto box = ob::Outbox::open(t.box());
    if (!box) ::_exit(4);
    std::string report;
    for (int i = 0; i < 1000; ++i) {
      const std::string b = body("f-" + std::to_string(i) + std::string(300, 'x'));
      auto r = box->append(to, std::span<const std::string>(&b, 1));
      if (!r) {
        report = std::to_string(i) + "\n" + r.error().message;
        break;
      }
    }
    if (::write(fds[1], report.data(), report.size()) < 0) ::_exit(5);
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string got;
  char buf[4096];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) got.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  const auto nl = got.find('\n');
  REQUIRE(nl != std::string::npos);
  const int acknowledged = std::stoi(got.substr(0, nl));
  const std::string message = got.substr(nl + 1);
  CHECK(acknowledged > 0);
  CHECK(message.find("File too large") != std::string::npos);
  CHECK(message.find("nothing stored") != std::string::npos);
  auto box = open_box(t.box());
  CHECK(box.stats().depth == static_cast<std::size_t>(acknowledged));
  CHECK(box.stats().torn_bytes == 0);  // the short write was cut off at once
  CHECK(file_size(t.journal()) <= 4096);
}

TEST_CASE("the relay loop retries with backoff and stops on its stop token") {
  TempDir t;
  auto box = open_box(t.box());
  for (int i = 1; i <= 3; ++i) append(box, "r-" + std::to_string(i));
  std::atomic<int> calls{0};
  std::vector<std::string> got;
  std::mutex m;
  const ob::Sender send = [&](const ob::Destination&, std::span<const std::string> bodies) -> notify::Result<void> {
    if (++calls <= 2) return notify::Error{notify::Errc::unavailable, "down", {}};
    std::lock_guard lock(m);
    got.insert(got.end(), bodies.begin(), bodies.end());
    return {};
  };
  std::atomic<int> results{0};
  ob::RelayLoopOptions o;
  o.interval = 5ms;
  o.max_backoff = 20ms;
  {
    std::jthread relay([&](std::stop_token st) { ob::relay_loop(box, send, st, o, [&](const ob::RelayResult&) { ++results; }); });
    for (int i = 0; i < 400 && box.stats().depth > 0; ++i) std::this_thread::sleep_for(5ms);
  }  // the jthread asks it to stop and joins
  CHECK(box.stats().depth == 0);
  CHECK(got.size() == 3);
  CHECK(results == 3);  // two failures, one success
}

TEST_CASE("the outbox metrics show depth, age and totals") {
  notify::ops::Registry registry;
  ob::OutboxMetrics metrics(registry);
  ob::Stats s;
  s.depth = 2;
  s.file_bytes = 300;
  s.oldest_enqueued_ms = 1000;
  s.relayed = 5;
  s.relay_failures = 1;
  metrics.update(s, 4000);
  const std::string text = registry.render_prometheus();
  CHECK(text.find("notify_outbox_depth 2\n") != std::string::npos);
  CHECK(text.find("notify_outbox_oldest_age_seconds 3\n") != std::string::npos);
  CHECK(text.find("notify_outbox_relayed_total 5\n") != std::string::npos);
  s.relayed = 7;
  metrics.update(s, 4000);
  CHECK(registry.render_prometheus().find("notify_outbox_relayed_total 7\n") != std::string::npos);
}

TEST_CASE("credentials are taken out of a queue URL for messages") {
  CHECK(ob::redact("redis://:secret@127.0.0.1:6379/notify") == "redis://127.0.0.1:6379/notify");
  CHECK(ob::redact("redis://user:pw@h:1/s?db=2") == "redis://h:1/s?db=2");
  CHECK(ob::redact("https://sqs.eu-west-1.amazonaws.com/1/q@x") == "https://sqs.eu-west-1.amazonaws.com/1/q@x");
  CHECK(ob::redact("redis://h:1/notify") == "redis://h:1/notify");
}

TEST_CASE("requests dropped by seq are gone for good and the rest keep their order") {
  TempDir t;
  auto box = open_box(t.box());
  for (int i = 1; i <= 4; ++i) append(box, "r-" + std::to_string(i));
  const auto seq2 = box.pending()[1].seq;
  auto removed = box.discard_through(seq2);
  REQUIRE(removed);
  CHECK(ids_of(*removed) == std::vector<std::string>{"r-1", "r-2"});
  CHECK(ids_of(box.pending()) == std::vector<std::string>{"r-3", "r-4"});
  CHECK(box.discard_through(seq2)->empty());
  CHECK(ids_of(ob::Outbox::inspect(t.box())->entries) == std::vector<std::string>{"r-3", "r-4"});
}

TEST_CASE("a full outbox makes room from acknowledged records before it refuses") {
  TempDir t;
  ob::Options o;
  o.max_bytes = 1000;
  auto box = open_box(t.box(), o);
  for (int i = 1; i <= 5; ++i) append(box, "r-" + std::to_string(i));
  FakeQueue q;
  CHECK(box.relay(q.sender(), 100, 3).relayed == 3);  // 3 acknowledged, still in the file
  for (int i = 6; i <= 8; ++i) append(box, "r-" + std::to_string(i));
  CHECK(ids_of(ob::Outbox::inspect(t.box())->entries) == std::vector<std::string>{"r-4", "r-5", "r-6", "r-7", "r-8"});
  CHECK(file_size(t.journal()) <= 1000);
}
