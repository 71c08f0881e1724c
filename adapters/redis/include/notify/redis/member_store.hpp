// SPDX-License-Identifier: MIT
#pragma once

/// The member store on Redis: hash `family:<familyId>`, field `user:<userId>`, value the
/// member JSON. Reads a whole batch of families in one pipelined round trip; the writer
/// side is what the main API needs.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "notify/members.hpp"
#include "notify/redis/connection.hpp"
#include "notify/transport.hpp"

namespace notify::redis {

/// One stored value of the member store as it is kept: hash `family:<familyId>`, field
/// `user:<id>`, the member JSON (or whatever was stored there).
struct StoredValue {
  Id familyId = 0;
  std::string field;
  std::string value;
};

/// notify::MemberStore on one Redis connection.
class MemberStore {
 public:
  explicit MemberStore(Options options);

  /// Every family of `ids` in one round trip (one HGETALL each). Stored values that cannot
  /// be read are reported in `problems` (path `family:<id>.<field>`) and skipped.
  Result<FamilyLookup> families(std::span<const Id> ids);

  /// One member; empty when the family or the member does not exist.
  Result<std::optional<Member>> get_member(Id familyId, Id userId);

  /// Writes a member (HSET of its encoded JSON).
  Result<void> set_member(Id familyId, const Member& member);
  /// Writes a stored value as is (an import, or a malformed value in a test).
  Result<void> put_raw(Id familyId, std::string_view field, std::string_view value);
  /// Writes stored values as they are (an import): one pipelined round trip of HSETs.
  /// An error reply fails the call (the values before it are written).
  Result<void> put_raw(std::span<const StoredValue> values);
  /// HDEL of one member.
  Result<void> remove_member(Id familyId, Id userId);
  /// UNLINK of the family's hash.
  Result<void> remove_family(Id familyId);
  /// Atomically (a Lua script) empties the member's fcmToken if it still equals `token`;
  /// true when it did. A fresh token written meanwhile survives.
  Result<bool> remove_token(Id familyId, Id userId, std::string_view token, std::string_view registered_at = {});

  /// One PING round trip: whether the store answers (a readiness probe).
  Result<void> ping();

  /// Round trips made by this store's connection.
  std::uint64_t round_trips() const noexcept { return conn_.round_trips(); }
  Connection& connection() noexcept { return conn_; }

 private:
  Connection conn_;
};

static_assert(notify::MemberStore<MemberStore>);

}  // namespace notify::redis
