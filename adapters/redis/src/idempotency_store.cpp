// SPDX-License-Identifier: MIT
#include "notify/redis/idempotency_store.hpp"

namespace notify::redis {

IdempotencyStore::IdempotencyStore(Options options, std::string prefix)
    : conn_(std::move(options)), prefix_(std::move(prefix)) {}

Result<std::vector<bool>> IdempotencyStore::seen(std::span<const std::string> keys) {
  if (keys.empty()) return std::vector<bool>{};
  Command mget{"MGET"};
  mget.reserve(keys.size() + 1);
  for (const std::string& k : keys) mget.push_back(prefix_ + k);
  auto r = conn_.command(std::move(mget));
  if (!r) return r.error();
  if (r->kind != Reply::Kind::array || r->elements.size() != keys.size())
    return Error{Errc::protocol_error, "redis: unexpected reply to MGET", {}};
  std::vector<bool> out;
  out.reserve(keys.size());
  for (const Reply& e : r->elements) out.push_back(!e.is_nil());
  return out;
}

Result<void> IdempotencyStore::remember(std::span<const std::string> keys, std::chrono::seconds ttl) {
  if (keys.empty()) return {};
  if (ttl.count() <= 0) return Error{Errc::invalid_value, "redis: an idempotency TTL must be positive", {}};
  const std::string px = std::to_string(std::chrono::milliseconds(ttl).count());
  std::vector<Command> commands;
  commands.reserve(keys.size());
  for (const std::string& k : keys) commands.push_back({"SET", prefix_ + k, "1", "PX", px});
  auto replies = conn_.pipeline(commands);
  if (!replies) return replies.error();
  for (const Reply& r : *replies)
    if (r.is_error()) return reply_error(r, "SET");
  return {};
}

}  // namespace notify::redis
