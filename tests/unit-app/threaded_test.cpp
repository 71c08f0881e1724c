// SPDX-License-Identifier: MIT
// ThreadedPusher: a synchronous provider on its own thread, offered as an asynchronous
// one. The provider here blocks in send() until the test lets it go, so every ordering is
// set by the test (no clocks); waits are bounded only so that a bug fails instead of hanging.

#include <doctest/doctest.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "notify/app/any.hpp"
#include "notify/app/routing.hpp"
#include "notify/app/threaded.hpp"
#include "notify/memory/memory.hpp"
#include "notify/plan.hpp"

namespace app = notify::app;
using namespace std::chrono_literals;
using notify::Push;
using notify::PushDone;
using notify::PushService;
using notify::PushStatus;

namespace {

/// How long a test waits for something that must happen before it calls it a failure.
constexpr auto patience = 30s;

/// What the test and its provider share: send() calls begun and finished, and the permits
/// the test hands out, one per send() allowed to return.
class Gate {
 public:
  /// Lets `n` more send() calls return.
  void release(std::size_t n = 1) {
    {
      const std::lock_guard lock(mutex_);
      permits_ = n > std::numeric_limits<std::size_t>::max() - permits_ ? std::numeric_limits<std::size_t>::max()
                                                                        : permits_ + n;
    }
    changed_.notify_all();
  }
  /// Lets every send() return from now on.
  void open() { release(std::numeric_limits<std::size_t>::max()); }
  /// Waits until `n` send() calls have begun; false if that takes longer than `patience`.
  bool wait_entered(std::size_t n) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, patience, [&] { return entered_ >= n; });
  }

  std::size_t entered() const {
    const std::lock_guard lock(mutex_);
    return entered_;
  }
  std::size_t finished() const {
    const std::lock_guard lock(mutex_);
    return batches_.size();
  }
  /// The tokens of each finished send(), in order.
  std::vector<std::vector<std::string>> batches() const {
    const std::lock_guard lock(mutex_);
    return batches_;
  }

  /// The provider's side: counts the call, waits for a permit, records the batch.
  void pass(std::vector<std::string> tokens) {
    std::unique_lock lock(mutex_);
    ++entered_;
    changed_.notify_all();
    changed_.wait(lock, [&] { return permits_ > 0; });
    if (permits_ != std::numeric_limits<std::size_t>::max()) --permits_;
    batches_.push_back(std::move(tokens));
  }

  std::thread::id connected_on{};

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::size_t entered_ = 0;
  std::size_t permits_ = 0;
  std::vector<std::vector<std::string>> batches_;
};

/// A synchronous provider that blocks in send() until its Gate lets it go, then answers
/// each push as sent with the push's token and title as the detail (so a test can tell
/// which answer belongs to which push, and the message was read on the thread).
struct GatedProvider {
  Gate* gate = nullptr;
  std::vector<notify::PushResult> send(std::span<const Push> pushes) {
    std::vector<std::string> tokens;
    for (const Push& p : pushes) tokens.emplace_back(p.token);
    gate->pass(tokens);
    std::vector<notify::PushResult> results;
    for (const Push& p : pushes) results.push_back({PushStatus::sent, {}, std::string(p.token) + "/" + p.message->title});
    return results;
  }
  notify::Result<void> connect() {
    gate->connected_on = std::this_thread::get_id();
    return {};
  }
};

/// A provider whose send() throws, as a provider out of memory would.
struct ThrowingProvider {
  std::vector<notify::PushResult> send(std::span<const Push>) { throw std::runtime_error("boom"); }
};

notify::Message message(std::string title) {
  notify::Message m;
  m.title = std::move(title);
  m.body = "b";
  return m;
}

/// Polls until `out` holds `n` answers (each poll waits for one; `patience` in all).
template <class Pusher>
void poll_until(Pusher& pusher, std::size_t n, std::vector<PushDone>& out) {
  const auto give_up = std::chrono::steady_clock::now() + patience;
  while (out.size() < n && std::chrono::steady_clock::now() < give_up) pusher.poll(1s, out);
}

/// The answers by tag; fails the test on a tag answered twice.
std::map<std::uint64_t, std::string> by_tag(const std::vector<PushDone>& out) {
  std::map<std::uint64_t, std::string> m;
  for (const PushDone& d : out) {
    CHECK(d.result.status == PushStatus::sent);
    CHECK_MESSAGE(m.emplace(d.tag, d.result.detail).second, "tag " << d.tag << " answered twice");
  }
  return m;
}

}  // namespace

TEST_CASE("ThreadedPusher: submit and poll return at once while the provider is blocked in send") {
  Gate gate;
  app::ThreadedPusher pusher{GatedProvider{&gate}};
  const notify::Message m = message("hello");
  std::vector<PushDone> out;

  pusher.submit({&m, "a", PushService::email}, 1);
  REQUIRE(gate.wait_entered(1));  // the thread is in send({a}) and stays there
  pusher.submit({&m, "b", PushService::email}, 2);
  pusher.submit({&m, "c", PushService::email}, 3);
  CHECK(pusher.in_flight() == 3);
  pusher.poll(0ms, out);
  CHECK(out.empty());
  CHECK(gate.finished() == 0);  // all of the above happened while send() was blocked
  CHECK(pusher.in_flight() == 3);

  gate.release();
  REQUIRE(gate.wait_entered(2));  // {a} answered, then {b, c} taken together
  pusher.poll(0ms, out);
  REQUIRE(out.size() == 1);
  CHECK(out[0].tag == 1);
  CHECK(out[0].result.detail == "a/hello");
  CHECK(pusher.in_flight() == 2);

  gate.release();
  poll_until(pusher, 3, out);
  CHECK(out.size() == 3);
  CHECK(by_tag(out) == std::map<std::uint64_t, std::string>{{1, "a/hello"}, {2, "b/hello"}, {3, "c/hello"}});
  CHECK(pusher.in_flight() == 0);
  CHECK(gate.batches() == std::vector<std::vector<std::string>>{{"a"}, {"b", "c"}});
  pusher.poll(0ms, out);  // nothing more, nothing twice
  CHECK(out.size() == 3);
}

TEST_CASE("ThreadedPusher hands its provider at most max_batch pushes in one send") {
  Gate gate;
  app::ThreadedPusher pusher{GatedProvider{&gate}, 2};
  CHECK(pusher.max_batch() == 2);
  const notify::Message m = message("t");
  pusher.submit({&m, "a"}, 10);
  REQUIRE(gate.wait_entered(1));
  const std::vector<std::string> tokens = {"b", "c", "d", "e", "f"};
  for (std::size_t i = 0; i < tokens.size(); ++i) pusher.submit({&m, tokens[i]}, 11 + i);
  CHECK(pusher.in_flight() == 6);
  gate.open();
  std::vector<PushDone> out;
  poll_until(pusher, 6, out);
  const auto answers = by_tag(out);
  CHECK(answers.size() == 6);
  CHECK(answers.begin()->first == 10);
  CHECK(answers.rbegin()->first == 15);
  CHECK(gate.batches() == std::vector<std::vector<std::string>>{{"a"}, {"b", "c"}, {"d", "e"}, {"f"}});
  CHECK(pusher.in_flight() == 0);
}

TEST_CASE("a RoutingPusher answers its fast provider while the threaded e-mail provider is blocked") {
  Gate gate;
  app::RoutingPusher router;
  router.set(PushService::fcm, app::AnyPusher{notify::memory::PushProvider{}});
  router.set(PushService::email, app::AnyPusher{app::ThreadedPusher{GatedProvider{&gate}}});
  const notify::Message m = message("hi");
  std::vector<PushDone> out;

  router.submit({&m, "mail-1", PushService::email}, 1);
  REQUIRE(gate.wait_entered(1));
  router.submit({&m, "android-1", PushService::fcm}, 2);
  router.submit({&m, "mail-2", PushService::email}, 3);
  CHECK(router.in_flight() == 3);
  router.poll(patience, out);  // returns with the FCM answer: it does not wait for the e-mail
  REQUIRE(out.size() == 1);
  CHECK(out[0].tag == 2);
  CHECK(out[0].result.status == PushStatus::sent);
  CHECK(gate.finished() == 0);
  CHECK(router.in_flight() == 2);

  router.submit({&m, "android-2", PushService::fcm}, 4);
  router.poll(patience, out);
  REQUIRE(out.size() == 2);
  CHECK(out[1].tag == 4);
  CHECK(router.in_flight() == 2);

  gate.open();
  poll_until(router, 4, out);
  const auto answers = by_tag(out);
  CHECK(answers.size() == 4);
  CHECK(answers.at(1) == "mail-1/hi");
  CHECK(answers.at(3) == "mail-2/hi");
  CHECK(router.in_flight() == 0);
  CHECK(router.get(PushService::fcm)->get<notify::memory::PushProvider>()->sent().size() == 2);
}

namespace {

/// A ThreadedPusher blocked in send({a}), with {b} queued behind it. Destroyed pusher
/// first, the gate last.
struct Blocked {
  Gate gate;
  notify::Message m = message("t");
  std::optional<app::ThreadedPusher<GatedProvider>> pusher{std::in_place, GatedProvider{&gate}};

  Blocked() {
    pusher->submit({&m, "a"}, 1);
    REQUIRE(gate.wait_entered(1));
    pusher->submit({&m, "b"}, 2);
  }
};

}  // namespace

TEST_CASE("stop and then destruction while send is blocked finish that send and drop the queued pushes") {
  Blocked b;
  Gate& gate = b.gate;
  auto& pusher = b.pusher;
  pusher->stop();  // returns at once: send({a}) is still blocked
  CHECK(gate.finished() == 0);
  std::thread destroyer([&] { pusher.reset(); });
  gate.release();
  destroyer.join();  // the destructor waited for send({a}) and sent nothing more
  CHECK(gate.entered() == 1);
  CHECK(gate.batches() == std::vector<std::vector<std::string>>{{"a"}});
}

TEST_CASE("destruction while send is blocked does not hang once the provider returns") {
  Blocked b;
  Gate& gate = b.gate;
  auto& pusher = b.pusher;
  std::thread destroyer([&] { pusher.reset(); });
  gate.open();  // before or after the destructor asked the thread to stop: {b} may go or not
  destroyer.join();
  CHECK(gate.entered() == gate.finished());
  REQUIRE(gate.finished() >= 1);
  CHECK(gate.batches().front() == std::vector<std::string>{"a"});
}

TEST_CASE("ThreadedPusher in an AnyPusher: connect and send run on the caller's thread") {
  Gate gate;
  app::AnyPusher pusher{app::ThreadedPusher{GatedProvider{&gate}}};
  REQUIRE(pusher.connect().has_value());
  CHECK(gate.connected_on == std::this_thread::get_id());
  CHECK(pusher.get<app::ThreadedPusher<GatedProvider>>() != nullptr);
  CHECK_FALSE(pusher.token_obtained().has_value());

  gate.open();
  const notify::Message m = message("s");
  const std::vector<Push> batch = {{&m, "x"}, {&m, "y"}};
  const auto results = pusher.send(batch);
  REQUIRE(results.size() == 2);
  CHECK(results[1].detail == "y/s");
  pusher.submit({&m, "z"}, 5);
  std::vector<PushDone> out;
  poll_until(pusher, 1, out);
  REQUIRE(out.size() == 1);
  CHECK(out[0].tag == 5);
  CHECK(pusher.count() == 3);
  CHECK(pusher.in_flight() == 0);
}

TEST_CASE("a provider that throws on the thread has its pushes retried as an outage") {
  app::ThreadedPusher pusher{ThrowingProvider{}};
  const notify::Message m = message("t");
  pusher.submit({&m, "a"}, 1);
  pusher.submit({&m, "b"}, 2);
  std::vector<PushDone> out;
  poll_until(pusher, 2, out);
  REQUIRE(out.size() == 2);
  for (const PushDone& d : out) {
    CHECK(d.result.status == PushStatus::retry);
    CHECK(d.result.outage);
    CHECK(d.result.scope == notify::RetryScope::provider);
    CHECK(d.result.detail == "the provider failed: boom");
  }
  CHECK(pusher.in_flight() == 0);
}
