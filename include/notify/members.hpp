// SPDX-License-Identifier: MIT
#pragma once

/// Families and members as the member store (Redis) holds them, and the pure parsing of
/// a stored member value. Hash key `family:<familyId>`, field `user:<userId>`, value
/// `{"userName": "...", "fcmToken": "...", "mktPushAgreed": true}`.

#include <algorithm>
#include <array>
#include <cstdint>
#include <charconv>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "notify/clock.hpp"
#include "notify/detail/json_reader.hpp"
#include "notify/detail/json_writer.hpp"
#include "notify/result.hpp"
#include "notify/schema.hpp"

namespace notify {

/// The service a delivery goes through: a device's push service (a Device's `provider`
/// is fcm or apns), or the service behind a contact channel (SMTP e-mail, SMS/LMS, and
/// KakaoTalk AlimTalk through Naver Cloud SENS).
enum class PushService : std::uint8_t { fcm, apns, email, sms, alimtalk };
inline constexpr std::size_t service_count = 5;
inline constexpr std::array<std::string_view, service_count> service_names = {"fcm", "apns", "email", "sms",
                                                                              "alimtalk"};

constexpr std::string_view to_string(PushService s) noexcept {
  const auto i = static_cast<std::size_t>(s);
  return i < service_count ? service_names[i] : std::string_view{};
}

/// The service with this name ("fcm", "apns", "email", "sms", "alimtalk"), or nullopt.
constexpr std::optional<PushService> parse_service(std::string_view name) noexcept {
  for (std::size_t i = 0; i < service_count; ++i)
    if (service_names[i] == name) return static_cast<PushService>(i);
  return std::nullopt;
}

/// The ways a notification can reach a member outside the app.
enum class Channel : std::uint8_t { push, email, sms, alimtalk };
inline constexpr std::size_t channel_count = 4;
inline constexpr std::array<std::string_view, channel_count> channel_names = {"push", "email", "sms", "alimtalk"};

/// The channel with this name ("push", "email", "sms", "alimtalk"), or nullopt.
constexpr std::optional<Channel> parse_channel(std::string_view name) noexcept {
  for (std::size_t i = 0; i < channel_count; ++i)
    if (channel_names[i] == name) return static_cast<Channel>(i);
  return std::nullopt;
}

/// The channel a service serves: FCM and APNs both push.
constexpr Channel channel_of(PushService s) noexcept {
  switch (s) {
    case PushService::fcm:
    case PushService::apns: return Channel::push;
    case PushService::email: return Channel::email;
    case PushService::sms: return Channel::sms;
    case PushService::alimtalk: return Channel::alimtalk;
  }
  return Channel::push;
}

/// The kinds of notification a member can switch off (each type belongs to one).
enum class Category : std::uint8_t { message, photo, letter, pedia, emotion, birthday, notice };
inline constexpr std::size_t category_count = 7;
inline constexpr std::array<std::string_view, category_count> category_names = {
    "message", "photo", "letter", "pedia", "emotion", "birthday", "notice"};

constexpr std::string_view to_string(Channel c) noexcept { return channel_names[static_cast<std::size_t>(c)]; }
constexpr std::string_view to_string(Category c) noexcept { return category_names[static_cast<std::size_t>(c)]; }

/// One device of a member.
struct Device {
  std::string token;
  PushService provider = PushService::fcm;
  std::string platform;      ///< "android", "ios", "web", ... (empty: not said)
  std::string registeredAt;  ///< RFC 3339 as stored (empty: not said); compared as text by the token clean-up
  std::string app;           ///< optional: which app (bundle or package id)
  std::string locale;        ///< optional: e.g. "ko-KR"

  friend bool operator==(const Device&, const Device&) = default;
};

/// What a member switched off: everything (mute), or a channel for a category.
struct Preferences {
  bool mute = false;
  std::array<std::uint8_t, category_count> off{};  ///< per category, bit (1 << channel) set: off

  bool allows(Category c, Channel ch) const noexcept {
    return !mute && (off[static_cast<std::size_t>(c)] & (1u << static_cast<unsigned>(ch))) == 0;
  }
  void set(Category c, Channel ch, bool on) noexcept {
    const auto bit = static_cast<std::uint8_t>(1u << static_cast<unsigned>(ch));
    auto& v = off[static_cast<std::size_t>(c)];
    v = on ? static_cast<std::uint8_t>(v & ~bit) : static_cast<std::uint8_t>(v | bit);
  }
  bool is_default() const noexcept { return *this == Preferences{}; }
  friend bool operator==(const Preferences&, const Preferences&) = default;
};

/// One consent: when it was given and when withdrawn (Unix ms, 0: never).
struct Grant {
  std::int64_t agreedAt = 0;
  std::int64_t withdrawnAt = 0;

  /// Given, not withdrawn since, and not older than `max_age_years` (0: no limit) at `now`.
  bool in_force(std::int64_t now_ms, int max_age_years) const noexcept {
    if (agreedAt == 0 || agreedAt > now_ms) return false;
    if (withdrawnAt != 0 && withdrawnAt >= agreedAt) return false;
    return max_age_years <= 0 || !older_than_years(agreedAt, now_ms, max_age_years);
  }
  friend bool operator==(const Grant&, const Grant&) = default;
};

/// Advertising consents (Korea: 정보통신망법 §50): marketing at all, and at night (21-08 KST).
struct Consent {
  Grant marketing;
  Grant nightAds;
  bool unreadable = false;  ///< the stored consent could not be read: treated as no consent, reported
  bool is_default() const noexcept { return *this == Consent{}; }
  friend bool operator==(const Consent&, const Consent&) = default;
};

/// One family member: name, devices, contacts and settings.
///
/// The stored value (v2) is a superset of the first version's `{"userName", "fcmToken",
/// "mktPushAgreed"}`: `fcmToken` still names one FCM device.
struct Member {
  Id userId = 0;
  std::string userName;
  std::vector<Device> devices;  ///< distinct tokens
  bool mktPushAgreed = false;   ///< the first version's marketing flag (no date)
  std::string email;
  std::string phone;     ///< E.164
  std::string timeZone;  ///< IANA name; empty: Asia/Seoul
  Preferences preferences;
  Consent consent;
  std::optional<DailyWindow> quietHours;
  /// v2 fields that could not be read and were left out (each "field: reason"); the
  /// member is still notified without that feature.
  std::vector<std::string> problems;

  /// The first version's single token: the first FCM device's, or empty.
  std::string_view fcm_token() const noexcept {
    for (const Device& d : devices)
      if (d.provider == PushService::fcm) return d.token;
    return {};
  }
  const Device* device(std::string_view token) const noexcept {
    for (const Device& d : devices)
      if (d.token == token) return &d;
    return nullptr;
  }

  friend bool operator==(const Member&, const Member&) = default;
};

/// A first-version member: a name, one FCM token (or none) and the marketing flag.
inline Member member_v1(Id userId, std::string userName, std::string fcmToken = {}, bool mktPushAgreed = false) {
  Member m;
  m.userId = userId;
  m.userName = std::move(userName);
  if (!fcmToken.empty()) m.devices.push_back(Device{std::move(fcmToken), PushService::fcm, {}, {}, {}, {}});
  m.mktPushAgreed = mktPushAgreed;
  return m;
}

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
  /// Moves the families out, in order of family id.
  std::vector<Family> take() && noexcept { return std::move(items_); }

 private:
  void normalize() {
    // Stable so that, for a repeated id, the last one inserted wins below. (Lookups give
    // families and members in order already: checking is cheaper than sorting again.)
    const auto by_family = [](const Family& a, const Family& b) { return a.familyId < b.familyId; };
    if (!std::is_sorted(items_.begin(), items_.end(), by_family))
      std::stable_sort(items_.begin(), items_.end(), by_family);
    auto last = std::unique(items_.rbegin(), items_.rend(),
                            [](const Family& a, const Family& b) { return a.familyId == b.familyId; });
    items_.erase(items_.begin(), last.base());
    const auto by_user = [](const Member& a, const Member& b) { return a.userId < b.userId; };
    for (Family& f : items_)
      if (!std::is_sorted(f.members.begin(), f.members.end(), by_user))
        std::sort(f.members.begin(), f.members.end(), by_user);
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

/// What a family's Redis key is made of: this, then the family id in decimal.
inline constexpr std::string_view family_key_prefix = "family:";
/// The Redis key of a family's hash.
inline std::string family_key(Id familyId) { return std::string(family_key_prefix) + std::to_string(familyId); }
/// The hash field of a member.
inline std::string member_field(Id userId) { return "user:" + std::to_string(userId); }
/// The family id in a `family:<id>` key, if it is one.
inline std::optional<Id> parse_family_key(std::string_view key) noexcept { return detail::parse_prefixed_id(key, family_key_prefix); }
/// The user id in a `user:<id>` field, if it is one.
inline std::optional<Id> parse_member_field(std::string_view field) noexcept { return detail::parse_prefixed_id(field, "user:"); }

namespace detail {

/// Limits of a member value's v2 fields.
inline constexpr std::size_t max_devices = 16;
inline constexpr std::size_t max_token_bytes = 4096;
inline constexpr std::size_t max_contact_bytes = 254;

inline bool is_e164(std::string_view s) noexcept {
  if (s.size() < 8 || s.size() > 16 || s[0] != '+' || s[1] == '0') return false;
  return std::all_of(s.begin() + 1, s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

inline bool is_email(std::string_view s) noexcept {
  const std::size_t at = s.find('@');
  if (at == 0 || at == std::string_view::npos || at + 1 >= s.size() || s.find('@', at + 1) != std::string_view::npos)
    return false;
  if (s.size() > max_contact_bytes) return false;
  for (char c : s)
    if (static_cast<unsigned char>(c) <= ' ' || c == '<' || c == '>' || c == '"' || c == ',' || c == ';')
      return false;
  return s.find('.', at) != std::string_view::npos;
}


/// Reads a string value into `out`; an error text when it is not a valid UTF-8 string.
inline std::string_view text_value(JsonReader& r, std::string& out, std::string& scratch) {
  if (r.peek() != JsonKind::string) return "not a string";
  std::string_view v;
  if (r.read_string(v, scratch) != StringStatus::ok) return "not a valid UTF-8 string";
  out.assign(v);
  return {};
}

/// A string that is absent when null.
inline std::string_view optional_text_value(JsonReader& r, std::string& out, std::string& scratch) {
  if (r.peek() == JsonKind::null) {
    r.read_null();
    out.clear();
    return {};
  }
  return text_value(r, out, scratch);
}

/// Walks the object `raw`, calling `on_key(key, reader)` for each member; on_key reads the
/// value and returns an error text (empty when fine). Returns the first error.
template <class F>
std::string read_object(std::string_view raw, F&& on_key) {
  JsonReader r(raw, 8);
  if (r.peek() != JsonKind::object) return "not an object";
  r.enter();
  std::string_view key;
  std::string key_scratch;
  while (r.next_key(key, key_scratch)) {
    std::string e(on_key(key, r));
    if (!e.empty()) return std::string(key) + ": " + e;
  }
  if (r.failed() || !r.at_end()) return "not valid JSON";
  return {};
}

/// The raw text of the value the reader is at, consumed; empty when it is not valid JSON.
inline std::string_view raw_value(JsonReader& r, std::string_view text) {
  r.peek();  // past white space
  const std::size_t start = r.offset();
  if (!r.skip_value()) return {};
  return text.substr(start, r.offset() - start);
}

/// An RFC 3339 time or null (0).
inline std::string_view time_value(JsonReader& r, std::int64_t& out, std::string& scratch) {
  out = 0;
  if (r.peek() == JsonKind::null) {
    r.read_null();
    return {};
  }
  std::string text;
  if (auto e = text_value(r, text, scratch); !e.empty()) return e;
  const auto t = parse_rfc3339(text);
  if (!t) return "not an RFC 3339 time";
  out = *t;
  return {};
}

template <std::size_t N>
std::optional<std::size_t> index_of(const std::array<std::string_view, N>& names, std::string_view name) noexcept {
  for (std::size_t i = 0; i < N; ++i)
    if (names[i] == name) return i;
  return std::nullopt;
}

inline std::string read_device(std::string_view raw, Device& d) {
  std::string scratch;
  bool has_token = false;
  std::string e = read_object(raw, [&](std::string_view key, JsonReader& r) -> std::string {
    if (key == "token") {
      has_token = true;
      if (auto err = text_value(r, d.token, scratch); !err.empty()) return std::string(err);
      if (d.token.empty()) return "empty";
      if (d.token.size() > max_token_bytes) return "longer than 4096 bytes";
      return {};
    }
    if (key == "provider") {
      std::string v;
      if (auto err = text_value(r, v, scratch); !err.empty()) return std::string(err);
      if (v == "fcm") d.provider = PushService::fcm;
      else if (v == "apns") d.provider = PushService::apns;
      else return "not fcm or apns";
      return {};
    }
    if (key == "registeredAt") {
      if (auto err = optional_text_value(r, d.registeredAt, scratch); !err.empty()) return std::string(err);
      if (!d.registeredAt.empty() && !parse_rfc3339(d.registeredAt)) return "registeredAt is not an RFC 3339 time";
      return {};
    }
    std::string* field = key == "platform" ? &d.platform : key == "app" ? &d.app : key == "locale" ? &d.locale : nullptr;
    if (field) return std::string(optional_text_value(r, *field, scratch));
    return r.skip_value() ? std::string() : std::string("not valid JSON");
  });
  if (e.empty() && !has_token) e = "token is missing";
  return e;
}

inline std::string read_devices(std::string_view raw, Member& m) {
  JsonReader r(raw, 8);
  if (r.peek() != JsonKind::array) return "not an array";
  r.enter();
  std::string problems;
  std::size_t index = 0;
  while (r.next_element()) {
    const std::string_view item = raw_value(r, raw);
    if (item.empty()) break;
    Device d;
    std::string e = read_device(item, d);
    if (e.empty() && m.devices.size() >= max_devices) e = "more than 16 devices";
    if (e.empty() && m.device(d.token)) continue;  // the same token twice: one device
    if (!e.empty()) {
      if (!problems.empty()) problems += "; ";
      problems += "[" + std::to_string(index) + "] " + e;
    } else {
      m.devices.push_back(std::move(d));
    }
    ++index;
  }
  if (r.failed() || !r.at_end()) return "not valid JSON";
  return problems;
}

inline std::string read_preferences(std::string_view raw, Preferences& p) {
  return read_object(raw, [&](std::string_view key, JsonReader& r) -> std::string {
    if (key == "mute") {
      if (r.peek() != JsonKind::boolean) return "not a boolean";
      r.read_bool(p.mute);
      return {};
    }
    const auto category = index_of(category_names, key);
    if (!category) return "not a category (message, photo, letter, pedia, emotion, birthday, notice) or mute";
    if (r.peek() != JsonKind::object) return "not an object of channels";
    r.enter();
    std::string_view channel;
    std::string scratch;
    while (r.next_key(channel, scratch)) {
      const auto ch = index_of(channel_names, channel);
      if (!ch) return std::string(channel) + " is not a channel (push, email, sms, alimtalk)";
      bool on = true;
      if (r.peek() != JsonKind::boolean) return std::string(channel) + " is not a boolean";
      r.read_bool(on);
      p.set(static_cast<Category>(*category), static_cast<Channel>(*ch), on);
    }
    return r.failed() ? "not valid JSON" : "";
  });
}

inline std::string read_consent(std::string_view raw, Consent& c) {
  return read_object(raw, [&](std::string_view key, JsonReader& r) -> std::string {
    Grant* g = key == "marketing" ? &c.marketing : key == "nightAds" ? &c.nightAds : nullptr;
    if (!g) return "not marketing or nightAds";
    if (r.peek() == JsonKind::null) {
      r.read_null();
      return {};
    }
    if (r.peek() != JsonKind::object) return "not an object";
    r.enter();
    std::string_view name;
    std::string scratch, key_scratch;
    while (r.next_key(name, key_scratch)) {
      std::int64_t* t = name == "agreedAt" ? &g->agreedAt : name == "withdrawnAt" ? &g->withdrawnAt : nullptr;
      if (!t) return std::string(name) + " is not agreedAt or withdrawnAt";
      if (auto e = time_value(r, *t, scratch); !e.empty()) return std::string(name) + " " + std::string(e);
    }
    return r.failed() ? "not valid JSON" : "";
  });
}

inline std::string read_quiet_hours(std::string_view raw, std::optional<DailyWindow>& out) {
  std::optional<LocalTime> start, end;
  std::string e = read_object(raw, [&](std::string_view key, JsonReader& r) -> std::string {
    std::optional<LocalTime>* t = key == "start" ? &start : key == "end" ? &end : nullptr;
    if (!t) return "not start or end";
    std::string text, scratch;
    if (auto err = text_value(r, text, scratch); !err.empty()) return std::string(err);
    *t = parse_local_time(text);
    return *t ? "" : "not a local time HH:MM";
  });
  if (e.empty() && (!start || !end)) e = "needs start and end";
  if (e.empty()) out = DailyWindow{*start, *end};
  return e;
}

/// Reads one v2 field of a member value; an error text when it cannot be read (the field
/// is then left at its default, or marked unreadable for consent).
inline std::string read_member_field(std::string_view name, std::string_view raw, Member& m) {
  std::string scratch;
  if (name == "devices") return read_devices(raw, m);
  if (name == "preferences") {
    Preferences p;
    std::string e = read_preferences(raw, p);
    if (e.empty()) m.preferences = p;
    return e;
  }
  if (name == "consent") {
    Consent c;
    std::string e = read_consent(raw, c);
    if (e.empty()) m.consent = c;
    else m.consent = Consent{{}, {}, true};
    return e;
  }
  if (name == "quietHours") return read_quiet_hours(raw, m.quietHours);
  JsonReader r(raw, 1);
  std::string value;
  if (auto e = text_value(r, value, scratch); !e.empty()) return std::string(e);
  if (name == "email") {
    if (!is_email(value)) return "not an e-mail address";
    m.email = std::move(value);
  } else if (name == "phone") {
    if (!is_e164(value)) return "not an E.164 number (+ and 8 to 15 digits)";
    m.phone = std::move(value);
  } else {
    if (!find_time_zone(value)) return "not a supported IANA time zone";
    m.timeZone = std::move(value);
  }
  return {};
}

}  // namespace detail

/// Reads a stored member value. userName is required (invalid UTF-8 in it is kept, to be
/// replaced when rendered); fcmToken may be absent, null or empty (no device);
/// mktPushAgreed (or the legacy spelling mktPushAreed) defaults to false.
///
/// The v2 fields (devices, email, phone, timeZone, preferences, consent, quietHours) are
/// optional and null means absent. One that cannot be read is left out and described in
/// Member::problems; the member is still notified without it. An unreadable consent is
/// kept as Consent::unreadable so that nothing needing consent goes to that member.
inline Result<Member> parse_member(Id userId, std::string_view json) {
  using detail::JsonKind;
  detail::JsonReader r(json, 32);
  Member m;
  m.userId = userId;
  bool has_name = false;
  std::string fcm;
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
        fcm.clear();
        continue;
      }
      if (k != JsonKind::string) return bad(std::string(is_name ? "userName" : "fcmToken") + " is not a string");
      const auto st = r.read_string(value, scratch);
      if (st == detail::StringStatus::syntax) return bad("stored value is not valid JSON");
      // A name with invalid UTF-8 is kept (rendering shows U+FFFD) so that member is
      // still notified; a token with invalid UTF-8 cannot be a real token.
      if (st == detail::StringStatus::bad_utf8 && !is_name) return bad("fcmToken is not valid UTF-8");
      (is_name ? m.userName : fcm).assign(value);
      has_name |= is_name;
    } else if (key == "mktPushAgreed" || key == "mktPushAreed") {
      if (k == JsonKind::null) { r.read_null(); continue; }
      // Consent is only ever given by a real `true`: any other value reads as "no" and
      // never costs the member their (non-marketing) notifications.
      if (k == JsonKind::boolean) r.read_bool(m.mktPushAgreed);
      else if (!r.skip_value()) break;
    } else if (key == "devices" || key == "email" || key == "phone" || key == "timeZone" || key == "preferences" ||
               key == "consent" || key == "quietHours") {
      const std::string name(key);
      const std::string_view raw = detail::raw_value(r, json);
      if (raw.empty()) break;
      if (k == JsonKind::null) continue;
      if (std::string e = detail::read_member_field(name, raw, m); !e.empty()) m.problems.push_back(name + ": " + e);
    } else if (!r.skip_value()) {
      break;
    }
  }
  if (r.failed() || !r.at_end()) return bad("stored value is not valid JSON");
  if (!has_name) return bad("userName is missing");
  if (!fcm.empty() && !m.device(fcm)) m.devices.insert(m.devices.begin(), Device{std::move(fcm), PushService::fcm, {}, {}, {}, {}});
  return m;
}

/// The problems of a member value as the writer side sees them: it refuses what the
/// reader would have to leave out. Empty when the value is fully readable.
inline Result<Member> validate_member(Id userId, std::string_view json) {
  auto m = parse_member(userId, json);
  if (!m) return m;
  if (!m->problems.empty()) {
    std::string all;
    for (const std::string& p : m->problems) all += (all.empty() ? "" : "; ") + p;
    return Error{Errc::invalid_member, std::move(all), member_field(userId)};
  }
  return m;
}

namespace detail {
inline void write_time(std::string& out, std::int64_t ms) {
  if (ms == 0) out += "null";
  else write_string(out, format_rfc3339(ms));
}
inline void write_grant(std::string& out, std::string_view name, const Grant& g) {
  write_string(out, name);
  out += ":{\"agreedAt\":";
  write_time(out, g.agreedAt);
  out += ",\"withdrawnAt\":";
  write_time(out, g.withdrawnAt);
  out += '}';
}
inline void write_local(std::string& out, LocalTime t) { write_string(out, format_local_time(t)); }
}  // namespace detail

/// True when a member has nothing beyond the first version's fields (and at most one FCM
/// device with nothing but a token): it is stored in the first version's form.
inline bool is_v1(const Member& m) noexcept {
  if (m.devices.size() > 1) return false;
  if (!m.devices.empty()) {
    const Device& d = m.devices.front();
    if (d.provider != PushService::fcm || !d.platform.empty() || !d.registeredAt.empty() || !d.app.empty() ||
        !d.locale.empty())
      return false;
  }
  return m.email.empty() && m.phone.empty() && m.timeZone.empty() && m.preferences.is_default() &&
         m.consent.is_default() && !m.quietHours;
}

/// The stored JSON value of a member (the writer side of parse_member). A first-version
/// member is written exactly as the first version did; a v2 one still carries `fcmToken`
/// (its first FCM device) so that a first-version reader reaches that device.
inline std::string encode_member(const Member& m) {
  using detail::write_string;
  std::string out = "{\"userName\":";
  write_string(out, m.userName);
  out += ",\"fcmToken\":";
  write_string(out, m.fcm_token());
  out += ",\"mktPushAgreed\":";
  out += m.mktPushAgreed ? "true" : "false";
  if (is_v1(m)) return out += '}';
  out += ",\"devices\":[";
  for (const Device& d : m.devices) {
    if (out.back() != '[') out += ',';
    out += "{\"token\":";
    write_string(out, d.token);
    out += ",\"provider\":";
    write_string(out, to_string(d.provider));
    const std::pair<std::string_view, const std::string*> optional[] = {
        {"platform", &d.platform}, {"registeredAt", &d.registeredAt}, {"app", &d.app}, {"locale", &d.locale}};
    for (const auto& [name, v] : optional)
      if (!v->empty()) {
        out += ',';
        write_string(out, name);
        out += ':';
        write_string(out, *v);
      }
    out += '}';
  }
  out += ']';
  const std::pair<std::string_view, const std::string*> contacts[] = {
      {"email", &m.email}, {"phone", &m.phone}, {"timeZone", &m.timeZone}};
  for (const auto& [name, v] : contacts)
    if (!v->empty()) {
      out += ',';
      write_string(out, name);
      out += ':';
      write_string(out, *v);
    }
  if (!m.preferences.is_default()) {
    out += ",\"preferences\":{\"mute\":";
    out += m.preferences.mute ? "true" : "false";
    for (std::size_t c = 0; c < category_count; ++c) {
      if (m.preferences.off[c] == 0) continue;
      out += ',';
      write_string(out, category_names[c]);
      out += ":{";
      for (std::size_t ch = 0; ch < channel_count; ++ch) {
        if (out.back() != '{') out += ',';
        write_string(out, channel_names[ch]);
        out += (m.preferences.off[c] >> ch) & 1u ? ":false" : ":true";
      }
      out += '}';
    }
    out += '}';
  }
  if (!m.consent.is_default() && !m.consent.unreadable) {
    out += ",\"consent\":{";
    detail::write_grant(out, "marketing", m.consent.marketing);
    out += ',';
    detail::write_grant(out, "nightAds", m.consent.nightAds);
    out += '}';
  }
  if (m.quietHours) {
    out += ",\"quietHours\":{\"start\":";
    detail::write_local(out, m.quietHours->start);
    out += ",\"end\":";
    detail::write_local(out, m.quietHours->end);
    out += '}';
  }
  return out += '}';
}

}  // namespace notify
