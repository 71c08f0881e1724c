// SPDX-License-Identifier: MIT
#pragma once

/// Families and members as the member store (Redis) holds them, and the pure parsing of
/// a stored member value. Hash key `family:<familyId>`, field `user:<userId>`, value
/// `{"userName": "...", "fcmToken": "...", "mktPushAgreed": true}`.

#include <algorithm>
#include <charconv>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "notify/detail/json_reader.hpp"
#include "notify/detail/json_writer.hpp"
#include "notify/result.hpp"
#include "notify/schema.hpp"

namespace notify {

/// One family member with the device token pushes go to (empty when none).
struct Member {
  Id userId = 0;
  std::string userName;
  std::string fcmToken;
  bool mktPushAgreed = false;

  friend bool operator==(const Member&, const Member&) = default;
};

/// A family and its members, ordered by userId.
struct Family {
  Id familyId = 0;
  std::vector<Member> members;

  /// The member with this id, or nullptr.
  const Member* find(Id userId) const noexcept {
    for (const Member& m : members)
      if (m.userId == userId) return &m;
    return nullptr;
  }
  friend bool operator==(const Family&, const Family&) = default;
};

/// The families a batch needs, looked up by id. Missing families are simply absent.
class Families {
 public:
  Families() = default;
  explicit Families(std::vector<Family> families) : items_(std::move(families)) { normalize(); }

  /// Adds (or replaces) a family.
  void insert(Family family) {
    items_.push_back(std::move(family));
    normalize();
  }

  /// The family with this id, or nullptr when the store has none.
  const Family* find(Id familyId) const noexcept {
    const auto it = std::lower_bound(items_.begin(), items_.end(), familyId,
                                     [](const Family& f, Id id) { return f.familyId < id; });
    return it != items_.end() && it->familyId == familyId ? &*it : nullptr;
  }

  std::span<const Family> all() const noexcept { return items_; }
  std::size_t size() const noexcept { return items_.size(); }

 private:
  void normalize() {
    // Stable so that, for a repeated id, the last one inserted wins below.
    std::stable_sort(items_.begin(), items_.end(),
                     [](const Family& a, const Family& b) { return a.familyId < b.familyId; });
    auto last = std::unique(items_.rbegin(), items_.rend(),
                            [](const Family& a, const Family& b) { return a.familyId == b.familyId; });
    items_.erase(items_.begin(), last.base());
    for (Family& f : items_)
      std::sort(f.members.begin(), f.members.end(), [](const Member& a, const Member& b) { return a.userId < b.userId; });
  }

  std::vector<Family> items_;
};

namespace detail {
inline std::optional<Id> parse_prefixed_id(std::string_view s, std::string_view prefix) noexcept {
  if (s.substr(0, prefix.size()) != prefix) return std::nullopt;
  s.remove_prefix(prefix.size());
  if (s.empty() || s[0] == '0' || s[0] == '+' || s[0] == '-') return std::nullopt;
  Id v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc{} || r.ptr != s.data() + s.size() || v < 1) return std::nullopt;
  return v;
}
}  // namespace detail

/// The Redis key of a family's hash.
inline std::string family_key(Id familyId) { return "family:" + std::to_string(familyId); }
/// The hash field of a member.
inline std::string member_field(Id userId) { return "user:" + std::to_string(userId); }
/// The family id in a `family:<id>` key, if it is one.
inline std::optional<Id> parse_family_key(std::string_view key) noexcept { return detail::parse_prefixed_id(key, "family:"); }
/// The user id in a `user:<id>` field, if it is one.
inline std::optional<Id> parse_member_field(std::string_view field) noexcept { return detail::parse_prefixed_id(field, "user:"); }

/// Reads a stored member value. userName is required (invalid UTF-8 in it is kept, to be
/// replaced when rendered); fcmToken may be absent, null or empty (no device);
/// mktPushAgreed (or the legacy spelling mktPushAreed) defaults to false.
inline Result<Member> parse_member(Id userId, std::string_view json) {
  using detail::JsonKind;
  detail::JsonReader r(json, 32);
  Member m;
  m.userId = userId;
  bool has_name = false;
  auto bad = [&](std::string what) { return Error{Errc::invalid_member, std::move(what), member_field(userId)}; };
  if (r.peek() != JsonKind::object) return bad("stored value is not a JSON object");
  r.enter();
  std::string_view key, value;
  std::string key_scratch, scratch;
  while (r.next_key(key, key_scratch)) {
    const JsonKind k = r.peek();
    if (k == JsonKind::invalid) { r.skip_value(); break; }  // records the syntax error
    if (key == "userName" || key == "fcmToken") {
      const bool is_name = key == "userName";
      if (k == JsonKind::null && !is_name) {
        r.read_null();
        m.fcmToken.clear();
        continue;
      }
      if (k != JsonKind::string) return bad(std::string(is_name ? "userName" : "fcmToken") + " is not a string");
      const auto st = r.read_string(value, scratch);
      if (st == detail::StringStatus::syntax) return bad("stored value is not valid JSON");
      // A name with invalid UTF-8 is kept (rendering shows U+FFFD) so that member is
      // still notified; a token with invalid UTF-8 cannot be a real token.
      if (st == detail::StringStatus::bad_utf8 && !is_name) return bad("fcmToken is not valid UTF-8");
      (is_name ? m.userName : m.fcmToken).assign(value);
      has_name |= is_name;
    } else if (key == "mktPushAgreed" || key == "mktPushAreed") {
      if (k == JsonKind::null) { r.read_null(); continue; }
      // Consent is only ever given by a real `true`: any other value reads as "no" and
      // never costs the member their (non-marketing) notifications.
      if (k == JsonKind::boolean) r.read_bool(m.mktPushAgreed);
      else if (!r.skip_value()) break;
    } else if (!r.skip_value()) {
      break;
    }
  }
  if (r.failed() || !r.at_end()) return bad("stored value is not valid JSON");
  if (!has_name) return bad("userName is missing");
  return m;
}

/// The stored JSON value of a member (the writer side of parse_member).
inline std::string encode_member(const Member& m) {
  std::string out = "{\"userName\":";
  detail::write_string(out, m.userName);
  out += ",\"fcmToken\":";
  detail::write_string(out, m.fcmToken);
  out += ",\"mktPushAgreed\":";
  out += m.mktPushAgreed ? "true" : "false";
  out += '}';
  return out;
}

}  // namespace notify
