// SPDX-License-Identifier: MIT
#include "notify/redis/idempotency_store.hpp"

#include <algorithm>

namespace notify::redis {

namespace {

// Marks every key of KEYS for ARGV[1] milliseconds: one command instead of one SET per
// marker, which is what the worker's client paid for most per push. Sent whole with EVAL
// (the server compiles it once and keeps it): no NOSCRIPT round trip on a fresh server.
constexpr std::string_view remember_script =
    "for i = 1, #KEYS do redis.call('SET', KEYS[i], '1', 'PX', ARGV[1]) end return #KEYS";

// Keys per script call: a call runs alone on the server, so a long one delays everyone.
constexpr std::size_t keys_per_call = 256;

}  // namespace

IdempotencyStore::IdempotencyStore(Options options, std::string prefix)
    : conn_(std::move(options)), prefix_(std::move(prefix)) {}

Result<std::vector<bool>> IdempotencyStore::seen(std::span<const std::string> keys) {
  if (keys.empty()) return std::vector<bool>{};
  Batch mget;
  mget.command(keys.size() + 1).arg("MGET");
  for (const std::string& k : keys) mget.arg(prefix_, k);
  auto r = conn_.pipeline(mget, "MGET");
  if (!r) return r.error();
  const Reply& reply = r->front();
  if (reply.is_error()) return reply_error(reply, "MGET");
  if (reply.kind != Reply::Kind::array || reply.elements.size() != keys.size())
    return Error{Errc::protocol_error, "redis: unexpected reply to MGET", {}};
  std::vector<bool> out;
  out.reserve(keys.size());
  for (const Reply& e : reply.elements) out.push_back(!e.is_nil());
  return out;
}

Result<void> IdempotencyStore::remember(std::span<const std::string> keys, std::chrono::seconds ttl) {
  if (keys.empty()) return {};
  if (ttl.count() <= 0) return Error{Errc::invalid_value, "redis: an idempotency TTL must be positive", {}};
  const std::string px = std::to_string(std::chrono::milliseconds(ttl).count());
  Batch batch;
  for (std::size_t at = 0; at < keys.size(); at += keys_per_call) {
    const std::size_t n = std::min(keys_per_call, keys.size() - at);
    batch.command(n + 4).arg("EVAL").arg(remember_script).arg(std::to_string(n));
    for (const std::string& k : keys.subspan(at, n)) batch.arg(prefix_, k);
    batch.arg(px);
  }
  auto replies = conn_.pipeline(batch, "EVAL");
  if (!replies) return replies.error();
  for (const Reply& r : *replies)
    if (r.is_error()) return reply_error(r, "SET");
  return {};
}

}  // namespace notify::redis
