// SPDX-License-Identifier: MIT
#include "notify/redis/queue.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <optional>
#include <random>

#include "notify/codec.hpp"

namespace notify::redis {

namespace {

using Clock = std::chrono::steady_clock;

// The server's clock in Unix ms, so that workers on different hosts agree on due times.
#define NOTIFY_LUA_NOW \
  "local t = redis.call('TIME')\nlocal now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"

// KEYS: delayed, dead, the streams by priority. ARGV: group, consumer, max, claim idle ms,
// delayed data prefix, max deliveries, delete acked ("1"/"0"), then per stream the id after
// which this consumer's own pending entries are to be read again ("": none). Returns {ms
// until the next retry is due or -1, {{level, entry id, rid, body, deliveries, sent,
// outages}...}, {per stream the id to go on from next time, "" when done}}.
// Deliveries that ended in an outage retry (field o) do not count toward max deliveries.
const Script& receive_script() {
  static const Script script(NOTIFY_LUA_NOW R"lua(
local group, consumer, want = ARGV[1], ARGV[2], tonumber(ARGV[3])
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now), 'LIMIT', 0, 100)
for _, member in ipairs(due) do
  local data = ARGV[5] .. member
  local f = redis.call('HMGET', data, 'stream', 'rid', 'body', 'n', 'sent', 'o')
  if f[1] then redis.call('XADD', f[1], '*', 'rid', f[2], 'body', f[3], 'n', f[4], 'sent', f[5], 'o', f[6] or '0') end
  redis.call('DEL', data)
  redis.call('ZREM', KEYS[1], member)
end

local out = {}
-- `deliveries`: of this entry (XPENDING's count; more than 1 when workers died holding
-- it). Those abandoned deliveries are not the record's own failures: a record is
-- dead-lettered for them only once it has outlived twice max deliveries' worth of
-- workers (it likely stops them); its own failures are counted when it is settled.
local function take(level, entry, deliveries)
  local f = {}
  for i = 1, #entry[2], 2 do f[entry[2][i]] = entry[2][i + 1] end
  local n = (tonumber(f.n) or 0) + deliveries
  local o = tonumber(f.o) or 0
  if deliveries - 1 >= 2 * tonumber(ARGV[6]) then
    redis.call('XADD', KEYS[2], '*', 'rid', f.rid or '', 'body', f.body or '',
               'reason', 'delivered ' .. n .. ' times without being settled (' .. (deliveries - 1) ..
                         ' workers stopped while holding it)', 'n', n, 'sent', f.sent or '0',
               'origin', KEYS[level], 'at', string.format('%.0f', now))
    redis.call('XACK', KEYS[level], group, entry[1])
    if ARGV[7] == '1' then redis.call('XDEL', KEYS[level], entry[1]) end
    return
  end
  table.insert(out, {level - 3, entry[1], f.rid or '', f.body or '', n, f.sent or '0', o})
end

-- Own pending entries first (after a reconnect: their replies may have been lost).
local cursors = {}
for level = 3, #KEYS do
  local cursor = ARGV[5 + level]
  if cursor ~= '' and #out < want then
    local count = want - #out
    local mine = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', count, 'STREAMS', KEYS[level], cursor)
    local entries = (mine and mine[1] and mine[1][2]) or {}
    for _, entry in ipairs(entries) do
      if entry[2] then
        local p = redis.call('XPENDING', KEYS[level], group, entry[1], entry[1], 1)
        take(level, entry, p[1] and p[1][4] or 1)
      else  -- deleted while pending: nothing left to deliver
        redis.call('XACK', KEYS[level], group, entry[1])
      end
    end
    if #entries < count then cursor = '' else cursor = entries[#entries][1] end
  end
  cursors[level - 2] = cursor
end

for level = 3, #KEYS do
  if #out >= want then break end
  local claimed = redis.call('XAUTOCLAIM', KEYS[level], group, consumer, ARGV[4], '0-0', 'COUNT', want - #out)
  for _, entry in ipairs(claimed[2]) do
    local p = redis.call('XPENDING', KEYS[level], group, entry[1], entry[1], 1)
    take(level, entry, p[1] and p[1][4] or 1)
  end
  if #out < want then
    local fresh = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', want - #out, 'STREAMS', KEYS[level], '>')
    if fresh then
      for _, entry in ipairs(fresh[1][2]) do take(level, entry, 1) end
    end
  end
end

local next_due = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local wait = -1
if next_due[2] then wait = math.max(0, tonumber(next_due[2]) - now) end
return {wait, out, cursors}
)lua");
  return script;
}

// KEYS: stream, delayed, the retry's data key. ARGV: group, entry id, delay ms, member,
// rid, body, deliveries so far, sent, delete acked, outages so far (this one included).
// Nothing happens for a stale receipt.
const Script& retry_script() {
  static const Script script(NOTIFY_LUA_NOW R"lua(
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
if ARGV[9] == '1' then redis.call('XDEL', KEYS[1], ARGV[2]) end
redis.call('HSET', KEYS[3], 'stream', KEYS[1], 'rid', ARGV[5], 'body', ARGV[6], 'n', ARGV[7], 'sent', ARGV[8],
           'o', ARGV[10])
redis.call('ZADD', KEYS[2], string.format('%.0f', now + tonumber(ARGV[3])), ARGV[4])
return 1
)lua");
  return script;
}

// KEYS: stream, dead. ARGV: group, entry id, rid, body, reason, deliveries, sent, delete acked.
const Script& dead_letter_script() {
  static const Script script(NOTIFY_LUA_NOW R"lua(
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
if ARGV[8] == '1' then redis.call('XDEL', KEYS[1], ARGV[2]) end
redis.call('XADD', KEYS[2], '*', 'rid', ARGV[3], 'body', ARGV[4], 'reason', ARGV[5], 'n', ARGV[6],
           'sent', ARGV[7], 'origin', KEYS[1], 'at', string.format('%.0f', now))
return 1
)lua");
  return script;
}

// KEYS: the streams by priority. ARGV: group, consumer, then (stream number from 1, entry
// id) pairs. Per pair 1 when the entry is still pending for this consumer (its idle time is
// reset, its delivery count kept), else 0: settled, deleted, or another consumer's now.
// The owner check and the claim are one step, so an entry claimed by another consumer
// meanwhile is never taken back.
const Script& keep_alive_script() {
  static const Script script(R"lua(
local group, consumer = ARGV[1], ARGV[2]
local out = {}
for i = 3, #ARGV - 1, 2 do
  local key, id = KEYS[tonumber(ARGV[i])], ARGV[i + 1]
  local held = 0
  local ok, p = pcall(redis.call, 'XPENDING', key, group, id, id, 1)
  if ok and p[1] and p[1][2] == consumer then
    local claimed = redis.call('XCLAIM', key, group, consumer, 0, id, 'JUSTID')
    if #claimed > 0 then held = 1 end
  end
  out[#out + 1] = held
end
return out
)lua");
  return script;
}

// KEYS: dead. ARGV: max, then the entry ids to move (none: the oldest max).
const Script& redrive_script() {
  static const Script script(R"lua(
local entries = {}
if #ARGV > 1 then
  for i = 2, #ARGV do
    local e = redis.call('XRANGE', KEYS[1], ARGV[i], ARGV[i])
    if e[1] then table.insert(entries, e[1]) end
  end
else
  entries = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', ARGV[1])
end
local moved = 0
for _, e in ipairs(entries) do
  local f = {}
  for i = 1, #e[2], 2 do f[e[2][i]] = e[2][i + 1] end
  if f.origin and f.body then
    redis.call('XADD', f.origin, '*', 'rid', f.rid or '', 'body', f.body, 'n', '0', 'sent', f.sent or '0')
    redis.call('XDEL', KEYS[1], e[1])
    moved = moved + 1
  end
end
return moved
)lua");
  return script;
}

// KEYS: delayed, dead, the streams by priority. ARGV: group, delete acked ("1"/"0"),
// most pending entries to look at per stream for the oldest. Read only. Returns {depth
// (-1: unknown), pending, longest idle of a pending entry in ms (-1: none), delayed, dead,
// {{consumer, pending, idle ms}...}} with each consumer that holds entries, summed over
// the streams. Depth per stream is the group's lag (Redis 7); without it (older servers,
// or a deleted entry right at the group's last delivered id) and with deleted acked
// entries it is the stream's length less its pending entries, else unknown.
const Script& stats_script() {
  static const Script script(R"lua(
local group, scan = ARGV[1], tonumber(ARGV[3])
local depth, pending, oldest = 0, 0, -1
local held_by, names = {}, {}
local function fields(list)
  local f = {}
  for i = 1, #list, 2 do f[list[i]] = list[i + 1] end
  return f
end
for s = 3, #KEYS do
  local key = KEYS[s]
  local info = nil
  if redis.call('EXISTS', key) == 1 then
    for _, g in ipairs(redis.call('XINFO', 'GROUPS', key)) do
      local f = fields(g)
      if f.name == group then info = f end
    end
  end
  if info == nil then  -- no group yet: nothing was delivered
    depth = depth >= 0 and depth + redis.call('XLEN', key) or -1
  else
    local held = tonumber(info.pending)
    pending = pending + held
    if depth >= 0 then
      if info.lag then depth = depth + tonumber(info.lag)
      elseif ARGV[2] == '1' then depth = depth + math.max(0, redis.call('XLEN', key) - held)
      else depth = -1 end
    end
    for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', key, group)) do
      local f = fields(c)
      local n, idle = tonumber(f.pending), tonumber(f.idle)
      if n > 0 then
        local seen = held_by[f.name]
        if not seen then
          seen = {f.name, 0, idle}
          held_by[f.name] = seen
          table.insert(names, f.name)
        end
        seen[2] = seen[2] + n
        seen[3] = math.min(seen[3], idle)
      end
    end
    -- The longest idle pending entry, in pages, lowest ids (the earliest delivered) first.
    local from, looked = '-', 0
    while held > 0 and looked < scan do
      local page = redis.call('XPENDING', key, group, from, '+', math.min(1000, scan - looked))
      for _, p in ipairs(page) do oldest = math.max(oldest, tonumber(p[3])) end
      looked = looked + #page
      if #page < 1000 then break end
      from = '(' .. page[#page][1]
    end
  end
end
local consumers = {}
for _, name in ipairs(names) do table.insert(consumers, held_by[name]) end
return {depth, pending, oldest, redis.call('ZCARD', KEYS[1]), redis.call('XLEN', KEYS[2]), consumers}
)lua");
  return script;
}

#undef NOTIFY_LUA_NOW

Error unexpected(std::string_view what) {
  return Error{Errc::protocol_error, "redis: unexpected reply to " + std::string(what), {}};
}

template <class Int>
Int to_int(std::string_view s) {
  Int v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

// A record from a raw stream entry [id, [field, value, ...]] delivered for the first time.
bool fresh_record(std::size_t level, const Reply& entry, QueueRecord& out) {
  if (entry.kind != Reply::Kind::array || entry.elements.size() != 2) return false;
  const Reply& fields = entry.elements[1];
  if (fields.kind != Reply::Kind::array) return false;
  out = QueueRecord{};
  out.receipt = std::to_string(level) + ":" + entry.elements[0].str;
  int before = 0;
  for (std::size_t i = 0; i + 1 < fields.elements.size(); i += 2) {
    const std::string& name = fields.elements[i].str;
    const std::string& value = fields.elements[i + 1].str;
    if (name == "rid") out.id = value;
    else if (name == "body") out.body = value;
    else if (name == "n") before = to_int<int>(value);
    else if (name == "sent") out.sent_at_ms = to_int<std::int64_t>(value);
    else if (name == "o") out.outages = to_int<int>(value);
  }
  out.receive_count = before + 1;
  if (out.id.empty()) out.id = entry.elements[0].str;  // an entry added by another tool
  return true;
}

bool is_nogroup(const Reply& r) { return r.is_error() && r.str.find("NOGROUP") != std::string::npos; }

}  // namespace

Result<QueueAddress> parse_queue_url(std::string_view url) {
  // The path is the stream; parse_url reads the rest.
  const std::size_t scheme = url.find("://");
  if (scheme == std::string_view::npos || url.substr(0, scheme) != "redis")
    return Error{Errc::configuration, "redis: a queue URL is redis://host:port/STREAM", {}};
  const std::size_t query = std::min(url.find('?'), url.size());
  const std::size_t slash = url.find('/', scheme + 3);
  QueueAddress out;
  std::string base(url.substr(0, std::min(slash, query)));
  base += url.substr(query);
  if (slash < query) out.stream = std::string(url.substr(slash + 1, query - slash - 1));
  if (out.stream.empty()) return Error{Errc::configuration, "redis: the queue URL names no stream (redis://host:port/STREAM)", {}};
  auto options = parse_url(base);
  if (!options) return options.error();
  out.connection = std::move(*options);
  return out;
}

Queue::Queue(Options connection, QueueOptions options) : conn_(std::move(connection)), opt_(std::move(options)) {
  streams_ = {opt_.stream + ":high", opt_.stream};
  delayed_ = opt_.stream + ":delayed";
  dead_ = opt_.stream + ":dead";
  std::random_device rd;
  id_seed_ = (std::uint64_t{rd()} << 32) ^ rd();
  if (opt_.consumer.empty()) {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    opt_.consumer = std::string(host) + "-" + std::to_string(getpid()) + "-" + std::to_string(id_seed_ % 100000);
  }
  for (const Script* s :
       {&receive_script(), &retry_script(), &dead_letter_script(), &redrive_script(), &keep_alive_script(),
        &stats_script()})
    conn_.add_script(*s);
}

std::string Queue::request_id(const std::string& body) {
  if (auto request = decode(body); request && !request->id.empty()) return request->id;
  static constexpr char digits[] = "0123456789abcdef";
  std::string id = "q-";
  for (int shift = 60; shift >= 0; shift -= 4) id += digits[(id_seed_ >> shift) & 0xF];
  return id + "-" + std::to_string(++id_counter_);
}

Result<void> Queue::send(std::span<const std::string> bodies, Priority priority) {
  const std::string& stream = streams_[static_cast<std::size_t>(priority)];
  const std::string sent = std::to_string(unix_now_ms());
  std::vector<Command> commands;
  commands.reserve(bodies.size());
  for (const std::string& body : bodies) {
    Command c{"XADD", stream};
    if (opt_.max_length > 0) c.insert(c.end(), {"MAXLEN", "~", std::to_string(opt_.max_length)});
    c.insert(c.end(), {"*", "rid", request_id(body), "body", body, "n", "0", "sent", sent});
    commands.push_back(std::move(c));
  }
  auto replies = conn_.pipeline(commands);
  if (!replies) return replies.error();
  for (const Reply& r : *replies)
    if (r.is_error()) return reply_error(r, "XADD " + stream);
  return {};
}

Result<Reply> Queue::run(Command command, std::chrono::milliseconds extra) {
  for (int attempt = 0;; ++attempt) {
    if (!groups_ready_)
      if (auto r = create_groups(); !r) return r.error();
    auto replies = conn_.pipeline(std::span<const Command>(&command, 1), extra);
    if (!replies) return replies.error();
    Reply& r = replies->front();
    if (is_nogroup(r) && attempt == 0) {  // the server lost the group (restarted without data)
      groups_ready_ = false;
      continue;
    }
    if (r.is_error()) return reply_error(r, command[0]);
    return std::move(r);
  }
}

Result<void> Queue::create_groups() {
  std::vector<Command> commands;
  for (const std::string& s : streams_) commands.push_back({"XGROUP", "CREATE", s, opt_.group, "0", "MKSTREAM"});
  auto replies = conn_.pipeline(commands);
  if (!replies) return replies.error();
  for (const Reply& r : *replies)
    if (r.is_error() && r.str.rfind("BUSYGROUP", 0) != 0) return reply_error(r, "XGROUP CREATE");
  groups_ready_ = true;
  return {};
}

Result<std::chrono::milliseconds> Queue::poll(std::size_t max, std::vector<QueueRecord>& out) {
  // A new connection (the first, or a reconnect): read our own pending entries again first.
  if (auto connected = conn_.connect(); !connected) return connected.error();
  if (conn_.connects() != seen_connects_) {
    seen_connects_ = conn_.connects();
    recover_.assign(streams_.size(), "0");
  }
  Command c{"EVALSHA", receive_script().sha1, std::to_string(2 + streams_.size()), delayed_, dead_};
  c.insert(c.end(), streams_.begin(), streams_.end());
  c.insert(c.end(), {opt_.group, opt_.consumer, std::to_string(max), std::to_string(opt_.claim_idle.count()),
                     delayed_ + ":", std::to_string(opt_.max_deliveries), opt_.delete_acked ? "1" : "0"});
  c.insert(c.end(), recover_.begin(), recover_.end());
  auto r = run(std::move(c));
  if (!r) return r.error();
  if (r->kind != Reply::Kind::array || r->elements.size() != 3 || r->elements[1].kind != Reply::Kind::array ||
      r->elements[2].kind != Reply::Kind::array || r->elements[2].elements.size() != streams_.size())
    return unexpected("the receive script");
  for (std::size_t level = 0; level < streams_.size(); ++level) recover_[level] = r->elements[2].elements[level].str;
  for (const Reply& e : r->elements[1].elements) {
    if (e.kind != Reply::Kind::array || e.elements.size() != 7) return unexpected("the receive script");
    QueueRecord rec;
    rec.receipt = std::to_string(e.elements[0].integer) + ":" + e.elements[1].str;
    rec.id = e.elements[2].str.empty() ? e.elements[1].str : e.elements[2].str;
    rec.body = e.elements[3].str;
    rec.receive_count = static_cast<int>(e.elements[4].integer);
    rec.sent_at_ms = to_int<std::int64_t>(e.elements[5].str);
    rec.outages = static_cast<int>(e.elements[6].integer);
    out.push_back(std::move(rec));
  }
  return std::chrono::milliseconds(r->elements[0].integer);
}

Result<void> Queue::block(std::size_t max, std::chrono::milliseconds wait, std::vector<QueueRecord>& out) {
  Command c{"XREADGROUP", "GROUP", opt_.group, opt_.consumer, "COUNT", std::to_string(max),
            "BLOCK", std::to_string(std::max<std::int64_t>(wait.count(), 1)), "STREAMS"};
  c.insert(c.end(), streams_.begin(), streams_.end());
  c.insert(c.end(), streams_.size(), ">");
  auto r = run(std::move(c), wait);
  if (!r) return r.error();
  if (r->is_nil()) return {};
  if (r->kind != Reply::Kind::array) return unexpected("XREADGROUP");
  for (const Reply& per_stream : r->elements) {  // [stream, entries], in the order asked
    if (per_stream.kind != Reply::Kind::array || per_stream.elements.size() != 2) return unexpected("XREADGROUP");
    const auto level = static_cast<std::size_t>(
        std::find(streams_.begin(), streams_.end(), per_stream.elements[0].str) - streams_.begin());
    if (level >= streams_.size()) return unexpected("XREADGROUP");
    for (const Reply& entry : per_stream.elements[1].elements) {
      QueueRecord rec;
      if (!fresh_record(level, entry, rec)) return unexpected("XREADGROUP");
      if (out.size() < max) out.push_back(std::move(rec));
      else stash_.push_back(std::move(rec));
    }
  }
  return {};
}

Result<std::vector<QueueRecord>> Queue::receive(std::size_t max, std::chrono::milliseconds wait) {
  std::vector<QueueRecord> out;
  if (max == 0) return out;
  if (conn_.connects() != seen_connects_) stash_.clear();  // reconnected: poll() reads them again
  if (!stash_.empty()) {
    while (!stash_.empty() && out.size() < max) {
      out.push_back(std::move(stash_.front()));
      stash_.pop_front();
    }
    return out;
  }
  const auto deadline = Clock::now() + wait;
  for (;;) {
    auto next_due = poll(max, out);
    if (!next_due) return next_due.error();
    if (!out.empty()) return out;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return out;
    if (next_due->count() >= 0) left = std::min(left, std::max(*next_due, std::chrono::milliseconds(1)));
    if (auto r = block(max, left, out); !r) return r.error();
    if (!out.empty()) return out;
  }
}

Result<void> Queue::settle(std::span<const Settlement> settlements) {
  std::vector<Command> commands;
  std::optional<Error> foreign;
  const std::string del = opt_.delete_acked ? "1" : "0";
  for (const Settlement& s : settlements) {
    if (s.record == nullptr) continue;
    const QueueRecord& rec = *s.record;
    // A receipt is "<priority level digit>:<entry id>"; a foreign one is reported, the rest settled.
    const std::string& receipt = rec.receipt;
    const std::size_t level = receipt.size() > 2 && receipt[1] == ':' ? static_cast<std::size_t>(receipt[0] - '0') : 99;
    if (level >= streams_.size()) {
      foreign = Error{Errc::invalid_value, "redis: not a receipt of this queue: " + receipt, {}};
      continue;
    }
    const std::string& stream = streams_[level];
    const std::string entry = receipt.substr(2);
    Outcome outcome = s.outcome;
    // Only the record's own failures count: an outage retry never dead-letters it.
    const int own = rec.receive_count - std::max(rec.outages, 0);
    if (outcome.disposition == Disposition::retry && !outcome.outage && own >= opt_.max_deliveries) {
      outcome.disposition = Disposition::dead_letter;
      std::string why = "gave up after " + std::to_string(own) + " deliveries";
      if (rec.outages > 0) why += " (and " + std::to_string(rec.outages) + " in outages)";
      outcome.reason = why + ": " + outcome.reason;
    }
    switch (outcome.disposition) {
      case Disposition::done:
        commands.push_back({"XACK", stream, opt_.group, entry});
        if (opt_.delete_acked) commands.push_back({"XDEL", stream, entry});
        break;
      case Disposition::retry:
        commands.push_back({"EVALSHA", retry_script().sha1, "3", stream, delayed_, delayed_ + ":" + rec.receipt,
                            opt_.group, entry, std::to_string(std::max<std::int64_t>(outcome.delay.count(), 0)),
                            rec.receipt, rec.id, rec.body, std::to_string(rec.receive_count),
                            std::to_string(rec.sent_at_ms), del,
                            std::to_string(std::max(rec.outages, 0) + (outcome.outage ? 1 : 0))});
        break;
      case Disposition::dead_letter:
        commands.push_back({"EVALSHA", dead_letter_script().sha1, "2", stream, dead_, opt_.group, entry, rec.id,
                            rec.body, outcome.reason, std::to_string(rec.receive_count),
                            std::to_string(rec.sent_at_ms), del});
        break;
    }
  }
  auto replies = conn_.pipeline(commands);
  if (!replies) return replies.error();
  for (std::size_t i = 0; i < replies->size(); ++i)
    if ((*replies)[i].is_error()) return reply_error((*replies)[i], "settle: " + commands[i][0]);
  if (foreign) return *foreign;
  return {};
}

Result<std::vector<bool>> Queue::keep_alive(std::span<const QueueRecord* const> records) {
  std::vector<bool> held(records.size(), false);
  Command c{"EVALSHA", keep_alive_script().sha1, std::to_string(streams_.size())};
  c.insert(c.end(), streams_.begin(), streams_.end());
  c.insert(c.end(), {opt_.group, opt_.consumer});
  std::vector<std::size_t> asked;  // indexes of `records` sent, in order
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (records[i] == nullptr) continue;
    const std::string& receipt = records[i]->receipt;
    const std::size_t level = receipt.size() > 2 && receipt[1] == ':' ? static_cast<std::size_t>(receipt[0] - '0') : 99;
    if (level >= streams_.size()) continue;  // not ours: false
    c.insert(c.end(), {std::to_string(level + 1), receipt.substr(2)});
    asked.push_back(i);
  }
  if (asked.empty()) return held;
  auto r = run(std::move(c));
  if (!r) return r.error();
  if (r->kind != Reply::Kind::array || r->elements.size() != asked.size()) return unexpected("the keep-alive script");
  for (std::size_t k = 0; k < asked.size(); ++k) held[asked[k]] = r->elements[k].integer == 1;
  return held;
}

std::chrono::milliseconds Queue::lease_interval() const noexcept {
  return std::max(opt_.claim_idle / 3, std::chrono::milliseconds(100));
}

Result<std::size_t> Queue::pending_count() {
  std::vector<Command> commands;
  for (const std::string& s : streams_) commands.push_back({"XPENDING", s, opt_.group});
  commands.push_back({"ZCARD", delayed_});
  auto replies = conn_.pipeline(commands);
  if (!replies) return replies.error();
  std::size_t n = stash_.size();
  for (std::size_t i = 0; i < streams_.size(); ++i) {
    const Reply& r = (*replies)[i];
    if (is_nogroup(r)) continue;  // no group yet: nothing was delivered
    if (r.is_error()) return reply_error(r, "XPENDING");
    if (r.kind != Reply::Kind::array || r.elements.empty()) return unexpected("XPENDING");
    n += static_cast<std::size_t>(r.elements[0].integer);
  }
  const Reply& delayed = replies->back();
  if (delayed.is_error()) return reply_error(delayed, "ZCARD");
  return n + static_cast<std::size_t>(delayed.integer);
}

std::size_t Queue::pending() {
  auto n = pending_count();
  return n ? *n : std::numeric_limits<std::size_t>::max();
}

Result<std::size_t> Queue::dead_letter_count() {
  auto r = conn_.command({"XLEN", dead_});
  if (!r) return r.error();
  if (r->is_error()) return reply_error(*r, "XLEN");
  if (r->kind != Reply::Kind::integer) return unexpected("XLEN");
  return static_cast<std::size_t>(std::max<long long>(r->integer, 0));
}

Result<QueueStats> Queue::stats() {
  Command c{"EVALSHA", stats_script().sha1, std::to_string(2 + streams_.size()), delayed_, dead_};
  c.insert(c.end(), streams_.begin(), streams_.end());
  c.insert(c.end(), {opt_.group, opt_.delete_acked ? "1" : "0", "1000"});
  auto r = conn_.command(std::move(c));
  if (!r) return r.error();
  const auto& e = r->elements;
  if (r->kind != Reply::Kind::array || e.size() != 6 || e[5].kind != Reply::Kind::array)
    return unexpected("the stats script");
  QueueStats out;
  out.depth = e[0].integer;
  out.pending = e[1].integer;
  out.oldest_pending_ms = e[2].integer;
  out.delayed = e[3].integer;
  out.dead = e[4].integer;
  for (const Reply& held : e[5].elements) {
    if (held.kind != Reply::Kind::array || held.elements.size() != 3) return unexpected("the stats script");
    out.consumers.push_back({held.elements[0].str, held.elements[1].integer, held.elements[2].integer});
  }
  return out;
}

Result<std::vector<DeadLetter>> Queue::dead_letters(std::size_t max) {
  auto r = conn_.command({"XRANGE", dead_, "-", "+", "COUNT", std::to_string(max)});
  if (!r) return r.error();
  if (r->kind != Reply::Kind::array) return unexpected("XRANGE");
  std::vector<DeadLetter> out;
  for (const Reply& entry : r->elements) {
    if (entry.kind != Reply::Kind::array || entry.elements.size() != 2) return unexpected("XRANGE");
    DeadLetter d;
    d.entry_id = entry.elements[0].str;
    const auto& f = entry.elements[1].elements;
    for (std::size_t i = 0; i + 1 < f.size(); i += 2) {
      const std::string& name = f[i].str;
      const std::string& value = f[i + 1].str;
      if (name == "rid") d.id = value;
      else if (name == "body") d.body = value;
      else if (name == "reason") d.reason = value;
      else if (name == "n") d.deliveries = to_int<int>(value);
      else if (name == "sent") d.sent_at_ms = to_int<std::int64_t>(value);
      else if (name == "at") d.dead_at_ms = to_int<std::int64_t>(value);
      else if (name == "origin") d.origin = value;
    }
    out.push_back(std::move(d));
  }
  return out;
}

Result<std::size_t> Queue::redrive(std::span<const std::string> entry_ids, std::size_t max) {
  Command c{"EVALSHA", redrive_script().sha1, "1", dead_, std::to_string(max)};
  c.insert(c.end(), entry_ids.begin(), entry_ids.end());
  auto r = conn_.command(std::move(c));
  if (!r) return r.error();
  if (r->kind != Reply::Kind::integer) return unexpected("the redrive script");
  return static_cast<std::size_t>(r->integer);
}

}  // namespace notify::redis
