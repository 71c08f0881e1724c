// SPDX-License-Identifier: MIT
// The transport concepts accept the memory adapters and a complete hand-written type,
// and reject a type that lacks any one member function or returns the wrong type.

#include <doctest/doctest.h>

#include <chrono>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "notify/memory/memory.hpp"
#include "notify/transport.hpp"

namespace {

using notify::Id;
using notify::Result;
using Records = std::vector<notify::QueueRecord>;
using Ms = std::chrono::milliseconds;

// Declarations are enough: concepts only look at what the calls would return.

struct FullQueue {
  Result<Records> receive(std::size_t, Ms);
  Result<void> settle(std::span<const notify::Settlement>);
  Result<void> send(std::span<const std::string>);
};
struct QueueWithoutReceive {
  Result<void> settle(std::span<const notify::Settlement>);
  Result<void> send(std::span<const std::string>);
};
struct QueueWithoutSettle {
  Result<Records> receive(std::size_t, Ms);
  Result<void> send(std::span<const std::string>);
};
struct QueueWithoutSend {
  Result<Records> receive(std::size_t, Ms);
  Result<void> settle(std::span<const notify::Settlement>);
};
struct QueueWithBoolSettle {
  Result<Records> receive(std::size_t, Ms);
  bool settle(std::span<const notify::Settlement>);
  Result<void> send(std::span<const std::string>);
};
using Leases = std::span<const notify::QueueRecord* const>;
struct FullLeasedQueue : FullQueue {
  Result<std::vector<bool>> keep_alive(Leases);
  Ms lease_interval();
};
struct LeasedQueueWithoutInterval : FullQueue {
  Result<std::vector<bool>> keep_alive(Leases);
};
struct LeasedQueueWithVoidKeepAlive : FullQueue {
  Result<void> keep_alive(Leases);
  Ms lease_interval();
};
struct LeasedQueueWithSecondsInterval : FullQueue {
  Result<std::vector<bool>> keep_alive(Leases);
  std::chrono::seconds lease_interval();
};

struct FullStore {
  Result<notify::FamilyLookup> families(std::span<const Id>);
  Result<void> set_member(Id, const notify::Member&);
  Result<void> remove_member(Id, Id);
  Result<void> remove_family(Id);
  Result<bool> remove_token(Id, Id, std::string_view, std::string_view);
};
struct StoreWithoutFamilies {
  Result<void> set_member(Id, const notify::Member&);
  Result<void> remove_member(Id, Id);
  Result<void> remove_family(Id);
  Result<bool> remove_token(Id, Id, std::string_view, std::string_view);
};
struct StoreWithoutSetMember {
  Result<notify::FamilyLookup> families(std::span<const Id>);
  Result<void> remove_member(Id, Id);
  Result<void> remove_family(Id);
  Result<bool> remove_token(Id, Id, std::string_view, std::string_view);
};
struct StoreWithoutRemoveMember {
  Result<notify::FamilyLookup> families(std::span<const Id>);
  Result<void> set_member(Id, const notify::Member&);
  Result<void> remove_family(Id);
  Result<bool> remove_token(Id, Id, std::string_view, std::string_view);
};
struct StoreWithoutRemoveFamily {
  Result<notify::FamilyLookup> families(std::span<const Id>);
  Result<void> set_member(Id, const notify::Member&);
  Result<void> remove_member(Id, Id);
  Result<bool> remove_token(Id, Id, std::string_view, std::string_view);
};
struct StoreWithoutRemoveToken {
  Result<notify::FamilyLookup> families(std::span<const Id>);
  Result<void> set_member(Id, const notify::Member&);
  Result<void> remove_member(Id, Id);
  Result<void> remove_family(Id);
};
/// remove_token must say whether it cleared the token (compare-and-set), not just succeed.
struct StoreWithVoidRemoveToken {
  Result<notify::FamilyLookup> families(std::span<const Id>);
  Result<void> set_member(Id, const notify::Member&);
  Result<void> remove_member(Id, Id);
  Result<void> remove_family(Id);
  Result<void> remove_token(Id, Id, std::string_view, std::string_view);
};

struct FullPusher {
  std::vector<notify::PushResult> send(std::span<const notify::Push>);
};
struct PusherWithoutSend {
  std::vector<notify::PushResult> push(std::span<const notify::Push>);
};
/// One result per push is required, not one answer for the whole batch.
struct PusherWithOneResult {
  notify::PushResult send(std::span<const notify::Push>);
};

struct FullInbox {
  Result<void> publish(std::span<const std::string>);
};
struct InboxWithoutPublish {
  Result<void> send(std::span<const std::string>);
};
/// Publishing one body at a time is not the batch shape.
struct InboxOfOneBody {
  Result<void> publish(const std::string&);
};

struct FullLedger {
  Result<std::vector<bool>> seen(std::span<const std::string>);
  Result<void> remember(std::span<const std::string>, std::chrono::seconds);
};
struct LedgerWithoutSeen {
  Result<void> remember(std::span<const std::string>, std::chrono::seconds);
};
struct LedgerWithoutRemember {
  Result<std::vector<bool>> seen(std::span<const std::string>);
};
struct LedgerWithBoolSeen {
  bool seen(std::span<const std::string>);
  Result<void> remember(std::span<const std::string>, std::chrono::seconds);
};

}  // namespace

TEST_CASE("the memory adapters satisfy every transport concept") {
  static_assert(notify::Queue<notify::memory::Queue>);
  static_assert(notify::MemberStore<notify::memory::MemberStore>);
  static_assert(notify::PushProvider<notify::memory::PushProvider>);
  static_assert(notify::InboxSink<notify::memory::InboxSink>);
  static_assert(notify::IdempotencyStore<notify::memory::IdempotencyStore>);
  CHECK(notify::Queue<notify::memory::Queue>);
  CHECK(notify::MemberStore<notify::memory::MemberStore>);
  CHECK(notify::PushProvider<notify::memory::PushProvider>);
  CHECK(notify::InboxSink<notify::memory::InboxSink>);
  CHECK(notify::IdempotencyStore<notify::memory::IdempotencyStore>);
}

TEST_CASE("a memory adapter does not satisfy the concepts of the others") {
  CHECK_FALSE(notify::Queue<notify::memory::MemberStore>);
  CHECK_FALSE(notify::MemberStore<notify::memory::Queue>);
  CHECK_FALSE(notify::PushProvider<notify::memory::InboxSink>);
  CHECK_FALSE(notify::InboxSink<notify::memory::PushProvider>);
  CHECK_FALSE(notify::IdempotencyStore<notify::memory::Queue>);
}

TEST_CASE("a queue missing receive, settle or send is not a Queue") {
  static_assert(notify::Queue<FullQueue>);
  CHECK(notify::Queue<FullQueue>);
  CHECK_FALSE(notify::Queue<QueueWithoutReceive>);
  CHECK_FALSE(notify::Queue<QueueWithoutSettle>);
  CHECK_FALSE(notify::Queue<QueueWithoutSend>);
  CHECK_FALSE(notify::Queue<QueueWithBoolSettle>);
}

TEST_CASE("a LeasedQueue is a Queue with keep_alive (one bool per record) and lease_interval in ms") {
  static_assert(notify::LeasedQueue<FullLeasedQueue>);
  static_assert(notify::LeasedQueue<notify::memory::Queue>);
  CHECK(notify::LeasedQueue<FullLeasedQueue>);
  CHECK_FALSE(notify::LeasedQueue<FullQueue>);
  CHECK_FALSE(notify::LeasedQueue<LeasedQueueWithoutInterval>);
  CHECK_FALSE(notify::LeasedQueue<LeasedQueueWithVoidKeepAlive>);
  CHECK_FALSE(notify::LeasedQueue<LeasedQueueWithSecondsInterval>);
}

TEST_CASE("a member store missing any of its five calls is not a MemberStore") {
  static_assert(notify::MemberStore<FullStore>);
  CHECK(notify::MemberStore<FullStore>);
  CHECK_FALSE(notify::MemberStore<StoreWithoutFamilies>);
  CHECK_FALSE(notify::MemberStore<StoreWithoutSetMember>);
  CHECK_FALSE(notify::MemberStore<StoreWithoutRemoveMember>);
  CHECK_FALSE(notify::MemberStore<StoreWithoutRemoveFamily>);
  CHECK_FALSE(notify::MemberStore<StoreWithoutRemoveToken>);
  CHECK_FALSE(notify::MemberStore<StoreWithVoidRemoveToken>);
}

TEST_CASE("a push provider without a batch send is not a PushProvider") {
  static_assert(notify::PushProvider<FullPusher>);
  CHECK(notify::PushProvider<FullPusher>);
  CHECK_FALSE(notify::PushProvider<PusherWithoutSend>);
  CHECK_FALSE(notify::PushProvider<PusherWithOneResult>);
}

TEST_CASE("an inbox without a batch publish is not an InboxSink") {
  static_assert(notify::InboxSink<FullInbox>);
  CHECK(notify::InboxSink<FullInbox>);
  CHECK_FALSE(notify::InboxSink<InboxWithoutPublish>);
  CHECK_FALSE(notify::InboxSink<InboxOfOneBody>);
}

TEST_CASE("a ledger missing seen or remember is not an IdempotencyStore") {
  static_assert(notify::IdempotencyStore<FullLedger>);
  CHECK(notify::IdempotencyStore<FullLedger>);
  CHECK_FALSE(notify::IdempotencyStore<LedgerWithoutSeen>);
  CHECK_FALSE(notify::IdempotencyStore<LedgerWithoutRemember>);
  CHECK_FALSE(notify::IdempotencyStore<LedgerWithBoolSeen>);
}
