// SPDX-License-Identifier: MIT
#pragma once

/// Planning: who gets which rendered message for one request. Pure: the same request and
/// families always give the same plan.

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <unordered_set>
#include <variant>
#include <vector>

#include "notify/catalog.hpp"
#include "notify/detail/json_writer.hpp"
#include "notify/members.hpp"
#include "notify/schema.hpp"
#include "notify/text.hpp"

namespace notify {

/// The app screen a notification opens.
enum class Screen : std::uint8_t {
  none,
  MessageHome,
  MessageFamily,
  Photo,
  TimeCapsulesNav,
  LetterReceived,
  LetterSent,
  LetterSend,
  FamilyPediaMember,
};

/// The screen's wire name; empty for Screen::none.
constexpr std::string_view to_string(Screen s) noexcept {
  switch (s) {
    case Screen::none: return "";
    case Screen::MessageHome: return "MessageHome";
    case Screen::MessageFamily: return "MessageFamily";
    case Screen::Photo: return "Photo";
    case Screen::TimeCapsulesNav: return "TimeCapsulesNav";
    case Screen::LetterReceived: return "LetterReceived";
    case Screen::LetterSent: return "LetterSent";
    case Screen::LetterSend: return "LetterSend";
    case Screen::FamilyPediaMember: return "FamilyPediaMember";
  }
  return "";
}

/// Which single id a screen param carries.
enum class LinkKey : std::uint8_t { none, messageId, photoId, letterId, targetId, emotionUserId, pediaId };

/// Where a notification leads: a screen and its param object ({"photoId": 7}, ...).
struct Link {
  Screen screen = Screen::none;
  LinkKey key = LinkKey::none;
  Id id = 0;

  bool has_screen() const noexcept { return screen != Screen::none; }
  bool has_param() const noexcept { return key != LinkKey::none; }

  /// Appends the param object as JSON, e.g. {"openEmotion":true,"userId":5}.
  void append_param_json(std::string& out) const {
    out += '{';
    switch (key) {
      case LinkKey::none: break;
      case LinkKey::messageId: out += "\"messageId\":"; break;
      case LinkKey::photoId: out += "\"photoId\":"; break;
      case LinkKey::letterId: out += "\"letterId\":"; break;
      case LinkKey::targetId: out += "\"targetId\":"; break;
      case LinkKey::emotionUserId: out += "\"openEmotion\":true,\"userId\":"; break;
      case LinkKey::pediaId: out += "\"pediaId\":"; break;
    }
    if (key != LinkKey::none) detail::write_int(out, id);
    out += '}';
  }
  std::string param_json() const {
    std::string out;
    append_param_json(out);
    return out;
  }

  friend bool operator==(const Link&, const Link&) = default;
};

/// One rendered notification and everyone it goes to.
struct Message {
  std::string_view title;  ///< a catalog constant
  std::string body;
  Link link;
  /// Device tokens to push to: distinct, never empty strings. Views into the Families
  /// the plan was made from, which must outlive the plan.
  std::vector<std::string_view> tokens;
  /// Members who get an in-app inbox record of this message, distinct.
  std::vector<Id> inbox;
};

/// Everything one request leads to. Messages are distinct by content.
struct Plan {
  std::vector<Message> messages;

  std::size_t push_count() const noexcept {
    std::size_t n = 0;
    for (const Message& m : messages) n += m.tokens.size();
    return n;
  }
  std::size_t inbox_count() const noexcept {
    std::size_t n = 0;
    for (const Message& m : messages) n += m.inbox.size();
    return n;
  }
};

namespace detail {

/// One argument of a template: user text, cleaned on the way in.
struct TextArg {
  std::string_view text;
  std::size_t max_code_points = std::string_view::npos;
};

/// True when cleaning leaves nothing but white space (or nothing at all): such a name
/// is shown as catalog::unknown_member and such a preview is dropped.
inline bool is_blank(std::string_view in) noexcept {
  for (std::size_t i = 0; i < in.size();) {
    char32_t cp = 0;
    const std::size_t n = decode_utf8(in, i, cp);
    if (n == 0) return false;  // becomes U+FFFD, which is visible
    i += n;
    const bool space = cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == 0xA0 || cp == 0x1680 ||
                       (cp >= 0x2000 && cp <= 0x200A) || cp == 0x202F || cp == 0x205F || cp == 0x3000;
    if (!space && !is_unwanted(cp)) return false;
  }
  return true;
}

/// A member's display name, or the documented fallback when unknown or blank.
inline TextArg name_of(const Member* m) noexcept {
  return TextArg{m ? std::string_view(m->userName) : catalog::unknown_member};
}

/// Fills the `{}` holes of a catalog template in order with cleaned arguments. An
/// argument that is blank once cleaned is replaced with catalog::unknown_member.
inline std::string fill(std::string_view tpl, std::initializer_list<TextArg> args) {
  std::string out;
  std::size_t extra = 0;
  for (const TextArg& a : args) extra += a.text.size();
  out.reserve(tpl.size() + extra + 3);
  auto arg = args.begin();
  for (std::size_t i = 0; i < tpl.size(); ++i) {
    if (tpl[i] == '{' && i + 1 < tpl.size() && tpl[i + 1] == '}' && arg != args.end()) {
      if (is_blank(arg->text)) out += catalog::unknown_member;
      else append_clean(out, arg->text, arg->max_code_points);
      ++arg;
      ++i;
    } else {
      out += tpl[i];
    }
  }
  return out;
}

/// Cleaned preview text (empty when absent or blank).
inline std::string preview(const std::optional<std::string>& s, std::size_t max_code_points) {
  std::string out;
  if (s && !is_blank(*s)) append_clean(out, *s, max_code_points);
  return out;
}

/// Collects messages, merging equal contents and dropping repeated tokens and receivers.
class PlanBuilder {
 public:
  /// Index of the message with this content, added if new.
  std::size_t message(std::string_view title, std::string body, Link link) {
    for (std::size_t i = 0; i < plan_.messages.size(); ++i) {
      const Message& m = plan_.messages[i];
      if (m.link == link && m.title == title && m.body == body) return i;
    }
    plan_.messages.push_back(Message{title, std::move(body), link, {}, {}});
    seen_.emplace_back();
    return plan_.messages.size() - 1;
  }

  /// Pushes message `i` to the member's device (if any) and, optionally, to their inbox.
  void deliver(std::size_t i, const Member& m, bool inbox) {
    Message& msg = plan_.messages[i];
    if (!m.fcmToken.empty() && first_time(i, m.fcmToken)) msg.tokens.emplace_back(m.fcmToken);
    if (inbox && std::find(msg.inbox.begin(), msg.inbox.end(), m.userId) == msg.inbox.end())
      msg.inbox.push_back(m.userId);
  }

  /// The plan, without messages that reach nobody (no device and no inbox record).
  /// Room for `n` more recipients of message `i`, so delivering to a family allocates once.
  void reserve(std::size_t i, std::size_t n, bool inbox) {
    Message& msg = plan_.messages[i];
    msg.tokens.reserve(msg.tokens.size() + n);
    if (inbox) msg.inbox.reserve(msg.inbox.size() + n);
  }

  Plan take() {
    std::erase_if(plan_.messages, [](const Message& m) { return m.tokens.empty() && m.inbox.empty(); });
    seen_.clear();
    return std::move(plan_);
  }

 private:
  static constexpr std::size_t linear_limit = 32;

  bool first_time(std::size_t i, std::string_view token) {
    auto& tokens = plan_.messages[i].tokens;
    auto& seen = seen_[i];
    if (tokens.size() < linear_limit) return std::find(tokens.begin(), tokens.end(), token) == tokens.end();
    if (seen.empty()) seen.insert(tokens.begin(), tokens.end());
    return seen.insert(token).second;
  }

  Plan plan_;
  std::vector<std::unordered_set<std::string_view>> seen_;
};

/// One overload per param struct: std::visit fails to compile if a type has none.
class Planner {
 public:
  Planner(const Families& families, PlanBuilder& out) noexcept : families_(families), b_(out) {}

  void operator()(const MessageTodayParam& p) { story(p.familyIds); }
  void operator()(const MessageBirthdayParam& p) { story(p.familyIds); }

  void operator()(const CommentMessageParam& p) {
    commented(p.familyId, p.authorId, p.commentPreview, catalog::comment_message, catalog::comment_message_no_preview,
              Link{Screen::MessageFamily, LinkKey::messageId, p.messageFamId});
  }

  void operator()(const PhotoCreateParam& p) {
    const Family* f = families_.find(p.familyId);
    if (!f) return;
    const Link link{Screen::Photo, LinkKey::photoId, p.photoId};
    const Member* author = f->find(p.authorId);
    if (author) b_.deliver(b_.message(catalog::title_album, std::string(catalog::photo_created_own), link), *author, false);
    const std::string title = preview(p.titlePreview, std::string_view::npos);
    std::string body = title.empty() ? fill(catalog::photo_created_no_preview, {name_of(author)})
                                     : fill(catalog::photo_created, {name_of(author), {title}});
    others(*f, p.authorId, catalog::title_album, std::move(body), link, true);
  }

  void operator()(const CommentPhotoParam& p) {
    commented(p.familyId, p.authorId, p.commentPreview, catalog::comment_photo, catalog::comment_photo_no_preview,
              Link{Screen::Photo, LinkKey::photoId, p.photoId});
  }

  void operator()(const LetterSendParam& p) {
    const Family* f = families_.find(p.familyId);
    const Member* receiver = f ? f->find(p.receiverId) : nullptr;
    if (!receiver) return;  // nobody to tell
    const std::size_t i =
        p.isTimeCapsule
            ? b_.message(catalog::title_letter, fill(catalog::letter_time_capsule, {name_of(receiver)}),
                         Link{Screen::TimeCapsulesNav, LinkKey::none, 0})
            : b_.message(catalog::title_letter, fill(catalog::letter_arrived, {name_of(receiver)}),
                         Link{Screen::LetterReceived, LinkKey::letterId, p.letterId});
    b_.deliver(i, *receiver, true);
  }

  void operator()(const TimeCapsulesOpenParam& p) {
    for (const TimeCapsule& c : p.timaCapsules) {
      const Family* f = families_.find(c.familyId);
      if (!f) continue;
      const Member* receiver = f->find(c.receiverId);
      const Member* sender = f->find(c.senderId);
      if (receiver)
        b_.deliver(b_.message(catalog::title_letter, std::string(catalog::capsule_opened_receiver),
                              Link{Screen::LetterReceived, LinkKey::letterId, c.letterId}),
                   *receiver, true);
      if (sender)
        b_.deliver(b_.message(catalog::title_letter, fill(catalog::capsule_opened_sender, {name_of(receiver)}),
                              Link{Screen::LetterSent, LinkKey::letterId, c.letterId}),
                   *sender, true);
    }
  }

  void operator()(const NotifyBirthdayParam& p) {
    // Each entry stands alone: a missing family or a family of one skips only that entry.
    for (const BirthdayEntry& e : p.familyIdsWithBirthdayUserId) {
      const Family* f = families_.find(e.familyId);
      if (!f) continue;
      others(*f, e.birthdayUserId, catalog::title_birthday,
             fill(catalog::birthday_soon, {name_of(f->find(e.birthdayUserId))}),
             Link{Screen::LetterSend, LinkKey::targetId, e.birthdayUserId}, false);
    }
  }

  void operator()(const EmotionChosenParam& p) {
    const Family* f = families_.find(p.familyId);
    if (!f) return;
    others(*f, p.userId, catalog::title_emotion, fill(catalog::emotion_chosen, {name_of(f->find(p.userId))}),
           Link{Screen::MessageHome, LinkKey::emotionUserId, p.userId}, false);
  }

  void operator()(const EmotionPokeParam& p) {
    const Family* f = families_.find(p.familyId);
    const Member* user = f ? f->find(p.userId) : nullptr;
    if (!user) return;
    b_.deliver(b_.message(catalog::title_emotion_poke, fill(catalog::emotion_poke, {name_of(user)}),
                          Link{Screen::MessageHome, LinkKey::emotionUserId, p.userId}),
               *user, false);
  }

  void operator()(const PediaQuestionCreatedParam& p) { to_owner(p.familyId, p.ownerId, catalog::pedia_question_created); }
  void operator()(const PediaQuestionEdittedParam& p) { to_owner(p.familyId, p.ownerId, catalog::pedia_question_edited); }

  void operator()(const PediaAnswerParam& p) {
    const Family* f = families_.find(p.familyId);
    if (!f) return;
    others(*f, p.ownerId, catalog::title_pedia, fill(catalog::pedia_answer, {name_of(f->find(p.ownerId))}),
           pedia_link(p.ownerId), true);
  }

  void operator()(const PediaEditPhotoParam& p) {
    const Family* f = families_.find(p.familyId);
    if (!f) return;
    others(*f, p.editorId, catalog::title_pedia, fill(catalog::pedia_photo_changed, {name_of(f->find(p.ownerId))}),
           pedia_link(p.ownerId), true);
  }

 private:
  static Link pedia_link(Id owner) noexcept { return {Screen::FamilyPediaMember, LinkKey::pediaId, owner}; }

  void story(const std::vector<Id>& family_ids) {
    const std::size_t i = b_.message(catalog::title_story, std::string(catalog::story_arrived), Link{Screen::MessageHome});
    for (Id id : family_ids)
      if (const Family* f = families_.find(id))
        for (const Member& m : f->members) b_.deliver(i, m, false);
  }

  void commented(Id family_id, Id author_id, const std::optional<std::string>& comment, std::string_view tpl,
                 std::string_view tpl_no_preview, Link link) {
    const Family* f = families_.find(family_id);
    if (!f) return;
    const TextArg author = name_of(f->find(author_id));
    const std::string text = preview(comment, catalog::preview_code_points);
    others(*f, author_id, title_for(link),
           text.empty() ? fill(tpl_no_preview, {author}) : fill(tpl, {author, {text}}), link, true);
  }

  static std::string_view title_for(const Link& link) noexcept {
    return link.screen == Screen::Photo ? catalog::title_album : catalog::title_story;
  }

  void others(const Family& f, Id except, std::string_view title, std::string body, Link link, bool inbox) {
    std::size_t i = SIZE_MAX;
    for (const Member& m : f.members) {
      if (m.userId == except) continue;
      if (i == SIZE_MAX) {
        i = b_.message(title, std::move(body), link);
        b_.reserve(i, f.members.size(), inbox);
      }
      b_.deliver(i, m, inbox);
    }
  }

  void to_owner(Id family_id, Id owner_id, std::string_view tpl) {
    const Family* f = families_.find(family_id);
    const Member* owner = f ? f->find(owner_id) : nullptr;
    if (!owner) return;
    b_.deliver(b_.message(catalog::title_pedia, fill(tpl, {name_of(owner)}), pedia_link(owner_id)), *owner, true);
  }

  const Families& families_;
  PlanBuilder& b_;
};

}  // namespace detail

/// Appends every family id the request needs from the member store.
inline void append_family_ids(const Request& request, std::vector<Id>& out) {
  std::visit(
      [&](const auto& p) {
        using P = std::remove_cvref_t<decltype(p)>;
        if constexpr (requires { p.familyIds; }) out.insert(out.end(), p.familyIds.begin(), p.familyIds.end());
        if constexpr (requires { p.familyId; }) out.push_back(p.familyId);
        if constexpr (std::is_same_v<P, TimeCapsulesOpenParam>)
          for (const TimeCapsule& c : p.timaCapsules) out.push_back(c.familyId);
        if constexpr (std::is_same_v<P, NotifyBirthdayParam>)
          for (const BirthdayEntry& e : p.familyIdsWithBirthdayUserId) out.push_back(e.familyId);
      },
      request.param);
}

/// Who gets which message for this request, given the families the store returned.
/// Families missing from `families` are skipped; the plan refers to `families`.
inline Plan plan(const Request& request, const Families& families) {
  detail::PlanBuilder builder;
  std::visit(detail::Planner(families, builder), request.param);
  return builder.take();
}

/// The inbox wire form: one JSON array of {"receiverId","title","body","screen"?,"param"?}.
inline std::string encode_inbox(const Plan& plan, std::string_view traceparent = {}) {
  std::string out = "[";
  std::string tail;  // everything after the receiverId, the same for each receiver of a message
  for (const Message& m : plan.messages) {
    if (m.inbox.empty()) continue;
    tail.assign(",\"title\":");
    detail::write_string(tail, m.title);
    tail += ",\"body\":";
    detail::write_string(tail, m.body);
    if (m.link.has_screen()) {
      tail += ",\"screen\":";
      detail::write_string(tail, to_string(m.link.screen));
    }
    if (m.link.has_param()) {
      tail += ",\"param\":";
      m.link.append_param_json(tail);
    }
    if (!traceparent.empty()) {
      tail += ",\"traceparent\":";
      detail::write_string(tail, traceparent);
    }
    tail += '}';
    out.reserve(out.size() + m.inbox.size() * (tail.size() + 32));
    for (Id receiver : m.inbox) {
      if (out.size() > 1) out += ',';
      out += "{\"receiverId\":";
      detail::write_int(out, receiver);
      out += tail;
    }
  }
  out += ']';
  return out;
}

}  // namespace notify
