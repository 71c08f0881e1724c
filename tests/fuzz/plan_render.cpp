// SPDX-License-Identifier: MIT
// Fuzz target: planning and rendering. The input is text:
//   line 1:      a request envelope (decoded with small Limits; a rejected one ends the run)
//   next lines:  "<familyId> <userId> <stored member JSON>", the member store's contents
//                (a line that does not parse is skipped, as a store read would skip it)
// Properties checked on every plan:
// - titles are catalog titles; bodies are non-empty valid UTF-8 without control,
//   line-separator or bidi-override characters;
// - tokens are non-empty and distinct within a message, and each belongs to a member of a
//   family the request names; inbox receivers likewise are distinct and such members;
// - messages are distinct and each reaches someone; the actor never gets an "others"
//   inbox record; types without an inbox produce none;
// - encode_inbox is one well-formed JSON array of inbox_count() records;
// - planning twice gives the same plan.

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "notify/catalog.hpp"
#include "notify/codec.hpp"
#include "notify/detail/json_reader.hpp"
#include "notify/members.hpp"
#include "notify/plan.hpp"
#include "notify/result.hpp"
#include "notify/text.hpp"

namespace {

using notify::Id;

constexpr std::size_t max_member_lines = 128;

notify::Limits small_limits() {
  notify::Limits l;
  l.max_body_bytes = 4096;
  l.max_depth = 8;
  l.max_text_bytes = 512;
  l.max_items = 16;
  return l;
}

std::optional<Id> read_id(std::string_view& s) {
  Id v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc{} || v < 1) return std::nullopt;
  s.remove_prefix(static_cast<std::size_t>(r.ptr - s.data()));
  if (s.empty() || s[0] != ' ') return std::nullopt;
  s.remove_prefix(1);
  return v;
}

/// The member store described by the lines after the first; a repeated user replaces the
/// earlier one, as HSET does.
notify::Families read_families(std::string_view rest) {
  std::map<Id, std::map<Id, notify::Member>> store;
  for (std::size_t lines = 0; !rest.empty() && lines < max_member_lines; ++lines) {
    const std::size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    const auto family_id = read_id(line);
    if (!family_id) continue;
    const auto user_id = read_id(line);
    if (!user_id) continue;
    auto member = notify::parse_member(*user_id, line);
    if (member) store[*family_id][*user_id] = std::move(*member);
  }
  std::vector<notify::Family> families;
  for (auto& [family_id, members] : store) {
    notify::Family& f = families.emplace_back();
    f.familyId = family_id;
    for (auto& [user_id, m] : members) f.members.push_back(std::move(m));
  }
  return notify::Families(std::move(families));
}

bool is_display_text(std::string_view s) {
  if (s.empty() || !notify::is_valid_utf8(s)) return false;
  for (std::size_t i = 0; i < s.size();) {
    char32_t cp = 0;
    const std::size_t n = notify::detail::decode_utf8(s, i, cp);
    if (notify::detail::is_unwanted(cp)) return false;
    i += n;
  }
  return true;
}

bool is_catalog_title(std::string_view t) {
  namespace c = notify::catalog;
  for (std::string_view title : {c::title_story, c::title_album, c::title_letter, c::title_birthday, c::title_emotion,
                                 c::title_emotion_poke, c::title_pedia})
    if (t == title) return true;
  return false;
}

template <class T>
bool all_distinct(const std::vector<T>& v) {
  std::set<T> seen;
  for (const T& x : v)
    if (!seen.insert(x).second) return false;
  return true;
}

bool parses_as_json(std::string_view text) {
  notify::detail::JsonReader r(text, 8);
  return r.skip_value() && r.at_end();
}

/// The member an "others" notification leaves out, for the types that have one.
std::optional<Id> excluded_actor(const notify::Request& request) {
  using T = notify::NotificationType;
  return std::visit(
      [&](const auto& p) -> std::optional<Id> {
        using P = std::remove_cvref_t<decltype(p)>;
        if constexpr (P::type == T::COMMENT_MESSAGE || P::type == T::COMMENT_PHOTO || P::type == T::PHOTO_CREATE)
          return p.authorId;
        else if constexpr (P::type == T::PEDIA_ANSWER) return p.ownerId;
        else if constexpr (P::type == T::PEDIA_EDIT_PHOTO) return p.editorId;
        else return std::nullopt;
      },
      request.param);
}

bool has_inbox(notify::NotificationType t) {
  using T = notify::NotificationType;
  return !(t == T::MESSAGE_TODAY || t == T::MESSAGE_BIRTHDAY || t == T::NOTIFY_BIRTHDAY || t == T::EMOTION_CHOSEN ||
           t == T::EMOTION_POKE || t == T::SERVICE_NOTICE);
}

bool same_message(const notify::Message& a, const notify::Message& b) {
  return a.title == b.title && a.body == b.body && a.link == b.link && a.targets == b.targets && a.inbox == b.inbox;
}

void check_plan(const notify::Request& request, const notify::Families& families, const notify::Plan& plan) {
  // Whom the request may reach: the members of the families it names.
  std::vector<Id> family_ids;
  notify::append_family_ids(request, family_ids);
  std::set<std::string_view> allowed_tokens;
  std::set<Id> allowed_receivers;
  for (Id id : family_ids)
    if (const notify::Family* f = families.find(id))
      for (const notify::Member& m : f->members) {
        for (const notify::Device& d : m.devices) allowed_tokens.insert(d.token);
        allowed_receivers.insert(m.userId);
      }

  const std::optional<Id> actor = excluded_actor(request);
  for (std::size_t i = 0; i < plan.messages.size(); ++i) {
    const notify::Message& m = plan.messages[i];
    // An operator's notice has its own title; every other type a catalog one.
    NOTIFY_ASSERT(request.type() == notify::NotificationType::SERVICE_NOTICE ? is_display_text(m.title)
                                                                             : is_catalog_title(m.title));
    NOTIFY_ASSERT(is_display_text(m.body));
    NOTIFY_ASSERT(m.link.has_screen() || !m.link.has_param());
    NOTIFY_ASSERT(parses_as_json(m.link.param_json()));

    std::vector<std::string_view> tokens;
    for (const notify::Target& t : m.targets) {
      NOTIFY_ASSERT(!t.token.empty());
      NOTIFY_ASSERT(allowed_tokens.count(t.token) == 1);
      tokens.push_back(t.token);
    }
    NOTIFY_ASSERT(all_distinct(tokens));
    for (Id receiver : m.inbox) {
      NOTIFY_ASSERT(allowed_receivers.count(receiver) == 1);
      // PHOTO_CREATE's own confirmation to the author is push only, so this holds there too.
      if (actor) NOTIFY_ASSERT(receiver != *actor);
    }
    NOTIFY_ASSERT(all_distinct(m.inbox));
    NOTIFY_ASSERT(!m.targets.empty() || !m.inbox.empty());  // a message reaching nobody is dropped

    for (std::size_t j = 0; j < i; ++j) {
      const notify::Message& o = plan.messages[j];
      NOTIFY_ASSERT(!(o.title == m.title && o.body == m.body && o.link == m.link));
    }
  }
  if (!has_inbox(request.type())) NOTIFY_ASSERT(plan.inbox_count() == 0);

  // The inbox wire form: one JSON array with one record per receiver.
  const std::string inbox = notify::encode_inbox(plan);
  NOTIFY_ASSERT(notify::is_valid_utf8(inbox));
  notify::detail::JsonReader r(inbox, 8);
  NOTIFY_ASSERT(r.peek() == notify::detail::JsonKind::array);
  NOTIFY_ASSERT(r.enter());
  std::size_t records = 0;
  while (r.next_element()) {
    NOTIFY_ASSERT(r.peek() == notify::detail::JsonKind::object);
    NOTIFY_ASSERT(r.skip_value());
    ++records;
  }
  NOTIFY_ASSERT(!r.failed() && r.at_end());
  NOTIFY_ASSERT(records == plan.inbox_count());

  // Pure: the same inputs give the same plan.
  const notify::Plan again = notify::plan(request, families);
  NOTIFY_ASSERT(again.messages.size() == plan.messages.size());
  for (std::size_t i = 0; i < plan.messages.size(); ++i)
    NOTIFY_ASSERT(same_message(again.messages[i], plan.messages[i]));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t nl = input.find('\n');
  const std::string_view envelope = input.substr(0, nl);
  const std::string_view rest = nl == std::string_view::npos ? std::string_view() : input.substr(nl + 1);

  const notify::Families families = read_families(rest);
  const auto request = notify::decode(envelope, small_limits());
  if (!request) return 0;
  const notify::Plan plan = notify::plan(*request, families);
  check_plan(*request, families, plan);
  return 0;
}
