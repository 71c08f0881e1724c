// SPDX-License-Identifier: MIT
// Fuzzes the engine's bookkeeping: the input is a script of batches (valid, invalid,
// copies of one request, FIFO groups), provider answers (sent, dead token, retries of
// every scope, failures, fatal), lost leases and stops. Some members have a phone or an
// e-mail address, so dead tokens and failures set fallbacks off (a birthday reminder: push,
// else AlimTalk; a notice: push, else e-mail). Whatever the script, every record
// admitted is decided exactly once (or dropped after a lost lease), nothing is decided
// that was not admitted, and the engine empties once it stops holding pushes.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "notify/memory/memory.hpp"
#include "notify/processor.hpp"

namespace {

using namespace std::chrono_literals;
namespace mem = notify::memory;

struct Script {
  const std::uint8_t* data;
  std::size_t size;
  std::size_t at = 0;
  bool done() const { return at >= size; }
  std::uint8_t next() { return at < size ? data[at++] : 0; }
};

/// Answers pushes as the script says, a few per poll.
struct ScriptedPushes {
  Script& script;
  std::vector<std::pair<notify::Push, std::uint64_t>> queued;

  void submit(const notify::Push& p, std::uint64_t tag) { queued.push_back({p, tag}); }
  void poll(std::chrono::milliseconds, std::vector<notify::PushDone>& out) {
    std::size_t n = std::min<std::size_t>(queued.size(), 1 + script.next() % 4);
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint64_t tag = queued.front().second;
      queued.erase(queued.begin());
      out.push_back({tag, answer(script.next())});
    }
  }
  std::size_t in_flight() const { return queued.size(); }

  static notify::PushResult answer(std::uint8_t b) {
    using notify::PushStatus;
    using notify::RetryScope;
    const auto after = std::chrono::milliseconds(b >> 6);  // 0-3 ms
    switch (b % 10) {
      case 0: return {PushStatus::invalid_token, {}, "UNREGISTERED"};
      case 1: return {PushStatus::retry, after, "INTERNAL", false, RetryScope::push};
      case 2: return {PushStatus::retry, after, "QUOTA_EXCEEDED", true, RetryScope::token};
      case 3: return {PushStatus::retry, after, "UNAVAILABLE", true, RetryScope::provider};
      case 4: return {PushStatus::failed, {}, "INVALID_ARGUMENT"};
      case 5: return b > 250 ? notify::PushResult{PushStatus::fatal, {}, "SENDER_ID_MISMATCH"}
                             : notify::PushResult{PushStatus::sent, {}, "ok"};
      default: return {PushStatus::sent, {}, "ok"};
    }
  }
};

std::string body(std::uint8_t b) {
  const std::string id = (b & 0x10) ? R"(,"id":"req-)" + std::to_string(b % 3) + '"' : std::string();
  switch (b % 7) {
    case 5:
      return R"({"type":"NOTIFY_BIRTHDAY","param":{"familyIdsWithBirthdayUserId":[{"familyId":3,"birthdayUserId":1},{"familyId":4,"birthdayUserId":5}]})" +
             id + "}";
    case 6:
      return R"({"type":"SERVICE_NOTICE","param":{"familyIds":[3,4],"title":"t","body":"b","marketing":false})" + id + "}";
    case 0: return R"({"type":"EMOTION_CHOSEN","param":{"familyId":3,"userId":1})" + id + "}";
    case 1:
      return R"({"type":"COMMENT_MESSAGE","param":{"familyId":3,"messageFamId":)" + std::to_string(b % 7) +
             R"(,"authorId":1,"commentPreview":"잘 다녀와"})" + id + "}";
    case 2: return R"({"type":"MESSAGE_TODAY","param":{"familyIds":[3,4]})" + id + "}";
    case 3: return R"({"type":"EMOTION_POKE","param":{"familyId":4,"userId":5})" + id + "}";
    default: return "{not json";
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Script script{data, size};
  mem::MemberStore store;
  (void)store.set_member(3, notify::member_v1(1, "엄마", "tok-mom-000000000001", false));
  notify::Member dad = notify::member_v1(2, "아빠", "tok-dad-000000000002", false), kid = notify::member_v1(3, "민지", "tok-kid-000000000003", false);
  notify::Member gpa = notify::member_v1(6, "할아버지", "tok-gpa-000000000006", false);
  dad.phone = "+821000000002";
  dad.email = "dad@family.example";
  kid.email = "kid@family.example";
  gpa.phone = "+821000000006";
  (void)store.set_member(3, dad);
  (void)store.set_member(3, kid);
  (void)store.set_member(4, notify::member_v1(5, "할머니", "tok-gma-000000000005", false));
  (void)store.set_member(4, gpa);
  ScriptedPushes pushes{script, {}};
  mem::InboxSink inbox;
  mem::IdempotencyStore ledger;
  // Time moves only by the script (deterministic runs): 0-3 ms per step.
  auto clock = std::make_shared<std::chrono::steady_clock::time_point>();
  notify::ProcessorOptions o;
  o.clock = [clock] { return *clock; };
  o.base_delay = 1ms;
  o.probe_delay = 1ms;
  o.max_probe_delay = 2ms;
  o.marker_batch = 1 + script.next() % 8;
  o.max_pushes_in_flight = 1 + script.next() % 16;
  o.plan_policy.channels = {notify::Channel::push, notify::Channel::email, notify::Channel::alimtalk};
  notify::Pipeline<mem::MemberStore, ScriptedPushes, mem::InboxSink, mem::IdempotencyStore> engine(store, pushes, inbox,
                                                                                                   ledger, o);
  engine.hold(script.next() & 1);

  std::set<std::uint64_t> admitted, decided, lost;
  std::map<std::string, std::uint64_t> receipts;
  int next_record = 0;
  auto take = [&] {
    for (notify::Decided& d : engine.take_decided()) {
      if (!admitted.contains(d.order) || !decided.insert(d.order).second) {
        std::fprintf(stderr, "record %llu decided twice or never admitted\n", static_cast<unsigned long long>(d.order));
        std::abort();
      }
    }
  };
  while (!script.done()) {
    const std::uint8_t op = script.next();
    switch (op % 6) {
      case 0:
      case 1: {  // a batch
        std::vector<notify::QueueRecord> batch;
        const int n = 1 + script.next() % 4;
        for (int i = 0; i < n; ++i) {
          const std::uint8_t b = script.next();
          notify::QueueRecord r;
          r.id = "q" + std::to_string(++next_record);
          r.receipt = (b & 0x20) && next_record > 1 ? "r" + std::to_string(next_record - 1) : "r" + r.id;
          r.body = body(b);
          r.receive_count = 1 + b % 6;
          r.group = (b & 0x40) ? "g" + std::to_string(b % 2) : std::string();
          batch.push_back(std::move(r));
        }
        for (std::uint64_t id : engine.admit(std::move(batch)))
          if (id != 0) admitted.insert(id);
        break;
      }
      case 2:
      case 3:
        *clock += std::chrono::milliseconds(op >> 6);
        engine.step(0ms);
        break;
      case 4: {  // a lease lost
        const auto held = engine.leased();
        if (!held.empty()) engine.lost(held[script.next() % held.size()]);
        break;
      }
      case 5:
        if ((script.next() & 7) == 0) engine.give_back("stopping");
        break;
    }
    take();
  }
  // Stop: everything held must come out, decided or dropped after a lost lease.
  engine.give_back("stopping");
  for (int i = 0; i < 100000 && engine.held() > 0; ++i) {  // 100 s of the engine's time
    *clock += 1ms;
    engine.step(1ms);
    take();
  }
  take();
  if (engine.held() != 0) {
    std::fprintf(stderr, "the engine still holds %zu records after stopping\n", engine.held());
    std::abort();
  }
  if (decided.size() > admitted.size()) std::abort();
  return 0;
}
