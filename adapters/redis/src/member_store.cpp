// SPDX-License-Identifier: MIT
#include "notify/redis/member_store.hpp"

#include <algorithm>
#include <charconv>
#include <optional>
#include <utility>
#include <vector>

#include "resp.hpp"

namespace notify::redis {

namespace {

// Removes the device with the dead token, as a compare-and-set. KEYS[1] the family hash;
// ARGV[1] the member field, ARGV[2] the dead token, ARGV[3] the device's registeredAt as
// looked up ('' when it had none): a device registered again meanwhile has another one
// and is kept. A first-version fcmToken equal to the token is cleared with its device
// (or alone, when no device lists it and none was expected). Other fields are kept as
// decoded; an emptied devices array is dropped (cjson would write it as {}).
const Script& remove_token_script() {
  static const Script script(R"lua(
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local ok, member = pcall(cjson.decode, raw)
if not ok or type(member) ~= 'table' then return 0 end
local token, registered = ARGV[2], ARGV[3]
local listed, removed = false, false
if type(member.devices) == 'table' then
  local kept = {}
  for _, d in ipairs(member.devices) do
    if type(d) == 'table' and d.token == token then
      listed = true
      if registered == '' or d.registeredAt == registered then removed = true else kept[#kept + 1] = d end
    else
      kept[#kept + 1] = d
    end
  end
  if removed then member.devices = kept end
  if next(member.devices) == nil then member.devices = nil end
end
if member.fcmToken == token and (removed or (not listed and registered == '')) then
  member.fcmToken = ''
  removed = true
end
if not removed then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(member))
return 1
)lua");
  return script;
}

Error unexpected(std::string_view what) { return Error{Errc::protocol_error, "redis: unexpected reply to " + std::string(what), {}}; }

Result<void> expect_ok(Result<Reply> r) {
  if (!r) return r.error();
  return {};
}

}  // namespace

MemberStore::MemberStore(Options options) : conn_(std::move(options)) { conn_.add_script(remove_token_script()); }

Result<FamilyLookup> MemberStore::families(std::span<const Id> ids) {
  FamilyLookup out;
  if (ids.empty()) return out;
  Batch batch;
  char digits[24];
  for (Id id : ids) {
    const auto end = std::to_chars(digits, digits + sizeof digits, id).ptr;
    batch.command(2).arg("HGETALL").arg(family_key_prefix, std::string_view(digits, static_cast<std::size_t>(end - digits)));
  }
  // Each family's reply is read where it lies in the connection's input: no Reply is
  // built and no value copied before its member is parsed.
  std::vector<Family> found;
  found.reserve(ids.size());
  std::optional<Error> failed;
  struct Field {
    Id user;
    std::string_view name, value;
  };
  std::vector<Field> fields;  // one family's, sorted by user id
  auto read = conn_.pipeline(batch, "HGETALL", [&](std::size_t i, std::string_view text) {
    if (failed) return;
    auto key = [&] { return family_key(ids[i]); };  // for problems only
    std::size_t at = 0;
    const resp::Item head = resp::next_item(text, at);
    if (head.type == '-') {
      Error e = reply_error(head.text, "HGETALL " + key());
      if (e.code != Errc::invalid_value) failed = std::move(e);  // WRONGTYPE is bad data in one family; the rest is not
      else out.problems.push_back({Errc::invalid_member, "the key is not a hash", key()});
      return;
    }
    if (head.type != '*' || head.n < 0 || head.n % 2 != 0) {
      failed = unexpected("HGETALL");
      return;
    }
    if (head.n == 0) return;  // no such family
    fields.clear();
    for (std::int64_t f = 0; f < head.n; f += 2) {
      const resp::Item name = resp::next_item(text, at);
      const resp::Item value = resp::next_item(text, at);
      if (!name.is_string() || !value.is_string()) {
        failed = unexpected("HGETALL");
        return;
      }
      const auto user = parse_member_field(name.text);
      if (!user) out.problems.push_back({Errc::invalid_member, "field is not user:<id>", key() + "." + std::string(name.text)});
      else fields.push_back({*user, name.text, value.text});
    }
    // Members are parsed in order of user id (a hash's fields come in no order), so the
    // family is built sorted instead of sorting whole members afterwards.
    std::sort(fields.begin(), fields.end(), [](const Field& a, const Field& b) {
      return a.user != b.user ? a.user < b.user : a.name.data() < b.name.data();
    });
    Family family{ids[i], {}};
    family.members.reserve(fields.size());
    for (const Field& f : fields) {
      auto member = parse_member(f.user, f.value);
      if (!member) out.problems.push_back({member.error().code, member.error().message, key() + "." + std::string(f.name)});
      else family.members.push_back(std::move(*member));
    }
    found.push_back(std::move(family));
  });
  if (!read) return read.error();
  if (failed) return *std::move(failed);
  out.families = Families(std::move(found));
  return out;
}

Result<std::optional<Member>> MemberStore::get_member(Id familyId, Id userId) {
  auto r = conn_.command({"HGET", family_key(familyId), member_field(userId)});
  if (!r) return r.error();
  if (r->is_nil()) return std::optional<Member>{};
  if (r->kind != Reply::Kind::string) return unexpected("HGET");
  auto member = parse_member(userId, r->str);
  if (!member) {
    Error e = member.error();
    e.path = family_key(familyId) + "." + member_field(userId);
    return e;
  }
  return std::optional<Member>(std::move(*member));
}

Result<void> MemberStore::set_member(Id familyId, const Member& member) {
  return expect_ok(conn_.command({"HSET", family_key(familyId), member_field(member.userId), encode_member(member)}));
}

Result<void> MemberStore::put_raw(Id familyId, std::string_view field, std::string_view value) {
  return expect_ok(conn_.command({"HSET", family_key(familyId), std::string(field), std::string(value)}));
}

Result<void> MemberStore::put_raw(std::span<const StoredValue> values) {
  if (values.empty()) return {};
  std::vector<Command> commands;
  commands.reserve(values.size());
  for (const StoredValue& v : values) commands.push_back({"HSET", family_key(v.familyId), v.field, v.value});
  auto replies = conn_.pipeline(commands);
  if (!replies) return replies.error();
  for (const Reply& r : *replies)
    if (r.is_error()) return reply_error(r, "HSET");
  return {};
}

Result<void> MemberStore::remove_member(Id familyId, Id userId) {
  return expect_ok(conn_.command({"HDEL", family_key(familyId), member_field(userId)}));
}

Result<void> MemberStore::remove_family(Id familyId) {
  return expect_ok(conn_.command({"UNLINK", family_key(familyId)}));
}

Result<void> MemberStore::ping() {
  auto r = conn_.command({"PING"});
  if (!r) return r.error();
  return {};
}

Result<bool> MemberStore::remove_token(Id familyId, Id userId, std::string_view token, std::string_view registered_at) {
  if (token.empty()) return false;  // an empty token is "no device", never a dead one
  auto r = conn_.command({"EVALSHA", remove_token_script().sha1, "1", family_key(familyId), member_field(userId),
                          std::string(token), std::string(registered_at)});
  if (!r) return r.error();
  if (r->kind != Reply::Kind::integer) return unexpected("the remove_token script");
  return r->integer == 1;
}

}  // namespace notify::redis
