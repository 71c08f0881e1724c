// SPDX-License-Identifier: MIT
#pragma once

/// Planning: who gets which rendered message for one request. Pure: the same request and
/// families always give the same plan.

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "notify/catalog.hpp"
#include "notify/clock.hpp"
#include "notify/detail/claims.hpp"
#include "notify/detail/json_writer.hpp"
#include "notify/members.hpp"
#include "notify/routing.hpp"
#include "notify/schema.hpp"
#include "notify/text.hpp"

namespace notify {

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

/// One address a message goes to (a device token, an e-mail address, a phone number in
/// E.164), and the service that reaches it.
struct Target {
  std::string_view token;
  PushService service = PushService::fcm;
  /// AlimTalk: an SMS/LMS may go in its place when KakaoTalk cannot deliver it (대체발송,
  /// sent by SENS): only when the route names sms after alimtalk, and the member allows
  /// SMS for the type's category.
  bool sms_fallback = false;

  constexpr Target(std::string_view t, PushService s = PushService::fcm, bool sms = false) noexcept
      : token(t), service(s), sms_fallback(sms) {}
  friend bool operator==(const Target&, const Target&) = default;
};

/// A delivery held back for one member, for when the channel planned for them fails: it
/// goes out only if every delivery of the member's earlier rank ended for good without
/// reaching them (a dead device or address, or the provider refused the message). Rank 1
/// stands behind the deliveries `first`..`last` of Message::targets (the member's planned
/// channel), rank 2 behind rank 1, and so on, in the order of the type's route.
struct Standby {
  Id member = 0;
  std::uint8_t rank = 1;
  Target target;
  std::uint32_t first = 0;  ///< the member's planned deliveries: targets[first, last)
  std::uint32_t last = 0;
  friend bool operator==(const Standby&, const Standby&) = default;
};

/// One rendered notification and everyone it goes to.
struct Message {
  std::string title;
  std::string body;
  Link link;
  /// Addresses to deliver to, each with its service: distinct, in routing order per
  /// member. Views into the Families the plan was made from, which must outlive the plan.
  std::vector<Target> targets;
  /// Members who get an in-app inbox record of this message, distinct.
  std::vector<Id> inbox;
  /// The type of the request it renders (a channel's template may depend on it).
  NotificationType type{};
  /// Deliveries kept back, each for one member, in routing order: an address is never both
  /// here and in `targets`, nor here twice. Empty unless the route names fallbacks.
  std::vector<Standby> standby{};
};

/// Why a member's push of a request is left out, or put off.
enum class SkipReason : std::uint8_t {
  muted_by_preference,   ///< the member muted everything, or this category on push
  no_marketing_consent,  ///< a marketing notice without a marketing consent in force
  consent_unreadable,    ///< a marketing notice and a stored consent that could not be read
  night_ads,             ///< deferred: a marketing notice at night (21-08 KST) without night consent
  quiet_hours,           ///< deferred: inside the member's quiet hours
};

constexpr std::string_view to_string(SkipReason r) noexcept {
  switch (r) {
    case SkipReason::muted_by_preference: return "muted_by_preference";
    case SkipReason::no_marketing_consent: return "no_marketing_consent";
    case SkipReason::consent_unreadable: return "consent_unreadable";
    case SkipReason::night_ads: return "deferred_night_ads";
    case SkipReason::quiet_hours: return "deferred_quiet_hours";
  }
  return "";
}

/// A member whose push was left out (until == 0) or deferred until a time (Unix ms).
struct Skip {
  Id userId = 0;
  SkipReason reason{};
  std::int64_t until = 0;
  friend bool operator==(const Skip&, const Skip&) = default;
};

/// The rules planning applies beyond who is in the family. Planning stays pure: the
/// caller says what time it is.
struct PlanPolicy {
  /// Now, in Unix ms; 0 turns the rules of time off (quiet hours, night-time ads).
  std::int64_t now_ms = 0;
  /// A consent older than this many years counts as absent (0: never expires).
  int consent_max_age_years = 2;
  /// Whether the first version's `mktPushAgreed: true` (no date) counts as marketing
  /// consent for members without a dated one.
  bool legacy_marketing_flag = true;
  /// The route of each type (nullptr: the catalog's, catalog::route_of).
  const Routing* routing = nullptr;
  /// The channels the caller can deliver through; a route's other channels are passed
  /// over. Push alone by default, so a caller without contact providers plans as before.
  ChannelSet channels{Channel::push};
};

/// Everything one request leads to. Messages are distinct by content.
struct Plan {
  std::vector<Message> messages;
  /// Members left out or deferred, with the reason, in planning order.
  std::vector<Skip> skipped;

  std::size_t push_count() const noexcept {
    std::size_t n = 0;
    for (const Message& m : messages) n += m.targets.size();
    return n;
  }
  /// The earliest time a deferred push is due (Unix ms), 0 when nothing is deferred.
  std::int64_t next_due() const noexcept {
    std::int64_t due = 0;
    for (const Skip& s : skipped)
      if (s.until != 0 && (due == 0 || s.until < due)) due = s.until;
    return due;
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

/// Collects messages, merging equal contents and dropping repeated tokens and receivers,
/// and applies members' settings (preferences, consent, quiet hours) to their pushes.
class PlanBuilder {
 public:
  PlanBuilder() = default;
  PlanBuilder(const PlanPolicy& policy, NotificationType type, bool marketing) noexcept
      : policy_(policy), rules_(catalog::rules_of(type)), type_(type), marketing_(marketing) {
    route_ = policy_.routing ? policy_.routing->of(type) : catalog::route_of(type);
    for (std::size_t k = 0; k < route_.size; ++k)
      if (route_.channels[k] == Channel::alimtalk)
        for (std::size_t j = k + 1; j < route_.size; ++j) sms_after_alimtalk_ |= route_.channels[j] == Channel::sms;
    if (marketing_) rules_.breaks_quiet_hours = false;
    // The night-time window is Korea's for everyone: judged once per request.
    if (marketing_ && policy_.now_ms != 0 && korea_night_ads.contains(seoul_time_zone(), policy_.now_ms))
      night_ads_until_ = korea_night_ads.end_after(seoul_time_zone(), policy_.now_ms);
  }

  /// Index of the message with this content, added if new.
  std::size_t message(std::string_view title, std::string body, Link link) {
    for (std::size_t i = 0; i < plan_.messages.size(); ++i) {
      const Message& m = plan_.messages[i];
      if (m.link == link && m.title == title && m.body == body) return i;
    }
    plan_.messages.push_back(Message{std::string(title), std::move(body), link, {}, {}, type_});
    seen_.emplace_back();
    standby_seen_.emplace_back();
    return plan_.messages.size() - 1;
  }

  /// Sends message `i` to the member along the type's route (as their settings allow)
  /// and, optionally, puts it in their inbox (settings apply outside the app only).
  void deliver(std::size_t i, const Member& m, bool inbox) {
    Message& msg = plan_.messages[i];
    // The route's channels this member can be reached on and has not switched off.
    std::array<Channel, channel_count> usable{};
    std::size_t n = 0;
    bool muted = false;
    for (Channel ch : route_) {
      if (!policy_.channels.has(ch) || !reachable(m, ch)) continue;
      if (marketing_ && ch == Channel::alimtalk) continue;  // AlimTalk carries no advertising
      if (!m.preferences.allows(rules_.category, ch)) muted = true;
      else usable[n++] = ch;
    }
    if (n == 0 && muted) skip(m, SkipReason::muted_by_preference);
    bool listed_before = false;
    if (n != 0 && !route_.all && route_.size > 1) {
      // A member listed again (in another family of the request, with another copy of
      // their settings) keeps the channel chosen first: never a second channel.
      if (chosen_.size() < plan_.messages.size()) chosen_.resize(plan_.messages.size());
      const auto [it, first] = chosen_[i].try_emplace(m.userId, usable[0]);
      if (!first) {
        n = std::find(usable.begin(), usable.begin() + n, it->second) != usable.begin() + n ? 1 : 0;
        usable[0] = it->second;
        listed_before = true;
      }
    }
    if (n != 0 && member_allowed(m)) {
      const std::size_t first = msg.targets.size();
      for (std::size_t k = 0; k < (route_.all ? n : 1); ++k)
        for_each_address(m, usable[k], [&](Target t) {
          if (!first_time(i, t.token)) return;
          drop_standby(i, t.token);  // delivered here: nobody needs it kept back
          msg.targets.push_back(t);
        });
      // The route's next channels stand behind the planned one, rank by rank. AlimTalk
      // with SMS failover is its own fallback to SMS (SENS sends it): no second SMS.
      const auto last = static_cast<std::uint32_t>(msg.targets.size());
      if (!route_.all && !listed_before && last > first) {
        std::uint8_t rank = 0;
        bool sms_by_sens = usable[0] == Channel::alimtalk && sms_allowed(m);
        for (std::size_t k = 1; k < n; ++k) {
          if (usable[k] == Channel::sms && sms_by_sens) continue;
          ++rank;
          for_each_address(m, usable[k], [&](Target t) {
            sms_by_sens |= t.sms_fallback;
            if (targeted(i, t.token) || in_standby(i, t.token)) return;
            msg.standby.push_back({m.userId, rank, t, static_cast<std::uint32_t>(first), last});
            if (standby_seen_[i].size() != 0) standby_seen_[i].claim(t.token, planned);
          });
        }
      }
    }
    if (inbox && std::find(msg.inbox.begin(), msg.inbox.end(), m.userId) == msg.inbox.end())
      msg.inbox.push_back(m.userId);
  }

  /// Room for `n` more recipients of message `i`, so delivering to a family allocates once.
  void reserve(std::size_t i, std::size_t n, bool inbox) {
    Message& msg = plan_.messages[i];
    msg.targets.reserve(msg.targets.size() + n);
    if (inbox) msg.inbox.reserve(msg.inbox.size() + n);
  }

  /// The plan, without messages that reach nobody (no device and no inbox record).
  Plan take() {
    std::erase_if(plan_.messages, [](const Message& m) { return m.targets.empty() && m.inbox.empty(); });
    seen_.clear();
    standby_seen_.clear();
    chosen_.clear();
    return std::move(plan_);
  }

 private:
  static constexpr std::size_t linear_limit = 32;

  /// The owner of every entry in seen_ and standby_seen_ (a set: any id but 0 would do).
  static constexpr std::uint64_t planned = 1;

  /// Whether message `i` goes to `token` already.
  bool targeted(std::size_t i, std::string_view token) {
    const auto& targets = plan_.messages[i].targets;
    if (targets.size() < linear_limit)
      return std::any_of(targets.begin(), targets.end(), [&](const Target& t) { return t.token == token; });
    return target_table(i).contains(token);
  }

  /// Whether message `i` does not go to `token` yet; the caller then adds it as a target.
  bool first_time(std::size_t i, std::string_view token) {
    if (plan_.messages[i].targets.size() < linear_limit) return !targeted(i, token);
    return target_table(i).claim(token, planned);
  }

  /// The tokens of message `i`'s targets, in a table from the first time they are many.
  detail::Claims& target_table(std::size_t i) {
    return filled(seen_[i], plan_.messages[i].targets, [](const Target& t) { return t.token; });
  }

  /// `table` holding the token of each of `items`: filled when first asked for, then kept
  /// up to date by the caller.
  template <class Items, class TokenOf>
  static detail::Claims& filled(detail::Claims& table, const Items& items, TokenOf token_of) {
    if (table.size() == 0)
      for (const auto& item : items) table.claim(token_of(item), planned);
    return table;
  }

  /// Calls `f` with each of the member's addresses on the channel, as a Target.
  template <class F>
  void for_each_address(const Member& m, Channel ch, F&& f) const {
    if (ch == Channel::push) {
      for (const Device& d : m.devices) f(Target{d.token, d.provider});
      return;
    }
    f(Target{ch == Channel::email ? std::string_view(m.email) : std::string_view(m.phone), service_of(ch),
             ch == Channel::alimtalk && sms_allowed(m)});
  }

  /// Whether SENS may send an SMS in place of this member's AlimTalk.
  bool sms_allowed(const Member& m) const noexcept {
    return sms_after_alimtalk_ && m.preferences.allows(rules_.category, Channel::sms);
  }

  bool in_standby(std::size_t i, std::string_view token) {
    const auto& standby = plan_.messages[i].standby;
    if (standby.size() < linear_limit)
      return std::any_of(standby.begin(), standby.end(), [&](const Standby& s) { return s.target.token == token; });
    return filled(standby_seen_[i], standby, [](const Standby& s) { return s.target.token; }).contains(token);
  }

  void drop_standby(std::size_t i, std::string_view token) {
    auto& standby = plan_.messages[i].standby;
    if (standby.empty() || !in_standby(i, token)) return;
    std::erase_if(standby, [&](const Standby& s) { return s.target.token == token; });
    standby_seen_[i].release(token);
  }

  /// Whether the member has an address for the channel.
  static bool reachable(const Member& m, Channel ch) noexcept {
    switch (ch) {
      case Channel::push: return !m.devices.empty();
      case Channel::email: return !m.email.empty();
      case Channel::sms:
      case Channel::alimtalk: return !m.phone.empty();
    }
    return false;
  }

  static PushService service_of(Channel ch) noexcept {
    return ch == Channel::email ? PushService::email : ch == Channel::sms ? PushService::sms : PushService::alimtalk;
  }

  /// Whether consent and time let this request reach the member now (on any channel);
  /// when not, the member is recorded as skipped (or deferred) with the reason.
  bool member_allowed(const Member& m) {
    const std::int64_t now = policy_.now_ms;
    // Without a clock, consent is judged as if given just now (no expiry).
    const int years = now != 0 ? policy_.consent_max_age_years : 0;
    if (marketing_) {
      if (m.consent.unreadable) return skip(m, SkipReason::consent_unreadable);
      const Grant& g = m.consent.marketing;
      const bool dated = g.agreedAt != 0 || g.withdrawnAt != 0;
      const bool agreed = dated ? g.in_force(now != 0 ? now : g.agreedAt, years)
                                : policy_.legacy_marketing_flag && m.mktPushAgreed;
      if (!agreed) return skip(m, SkipReason::no_marketing_consent);
      if (night_ads_until_ != 0 && !m.consent.nightAds.in_force(now, years))
        return skip(m, SkipReason::night_ads, night_ads_until_);
    }
    if (now != 0 && m.quietHours && !rules_.breaks_quiet_hours) {
      const TimeZone* zone = m.timeZone.empty() ? nullptr : find_time_zone(m.timeZone);
      const TimeZone& z = zone ? *zone : seoul_time_zone();
      if (m.quietHours->contains(z, now)) return skip(m, SkipReason::quiet_hours, m.quietHours->end_after(z, now));
    }
    return true;
  }

  bool skip(const Member& m, SkipReason reason, std::int64_t until = 0) {
    const Skip s{m.userId, reason, until};
    if (std::find(plan_.skipped.begin(), plan_.skipped.end(), s) == plan_.skipped.end()) plan_.skipped.push_back(s);
    return false;
  }

  PlanPolicy policy_{};
  catalog::TypeRules rules_{Category::notice, true};
  NotificationType type_{};
  Route route_{Channel::push};
  bool sms_after_alimtalk_ = false;  ///< the route allows SENS's SMS in place of AlimTalk
  /// Per message, the channel each member got (routes with fallbacks only).
  std::vector<std::unordered_map<Id, Channel>> chosen_;
  bool marketing_ = false;
  std::int64_t night_ads_until_ = 0;  ///< an ad now falls in the night-time window, until then (Unix ms)
  Plan plan_;
  /// Per message, the tokens of its targets (once they are many): a flat table of the
  /// tokens' fingerprints, as the engine keeps its delivery keys (no allocation per token).
  std::vector<detail::Claims> seen_;
  std::vector<detail::Claims> standby_seen_;  ///< per message, once its standby is long
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

  void operator()(const ServiceNoticeParam& p) {
    std::string title, body;
    if (p.marketing) title += catalog::ad_title_prefix;
    append_clean(title, p.title, std::string_view::npos);
    append_clean(body, p.body, std::string_view::npos);
    if (p.marketing) body += catalog::ad_opt_out;
    const std::size_t i = b_.message(title, std::move(body), notice_link(p));
    for (Id id : p.familyIds)
      if (const Family* f = families_.find(id))
        for (const Member& m : f->members) b_.deliver(i, m, false);
  }

  void operator()(const PediaEditPhotoParam& p) {
    const Family* f = families_.find(p.familyId);
    if (!f) return;
    others(*f, p.editorId, catalog::title_pedia, fill(catalog::pedia_photo_changed, {name_of(f->find(p.ownerId))}),
           pedia_link(p.ownerId), true);
  }

 private:
  static Link pedia_link(Id owner) noexcept { return {Screen::FamilyPediaMember, LinkKey::pediaId, owner}; }

  /// A notice's screen, with its id under the key that screen reads.
  static Link notice_link(const ServiceNoticeParam& p) noexcept {
    const std::optional<Screen> screen = p.screen ? parse_screen(*p.screen) : std::nullopt;
    if (!screen) return {};
    if (!p.paramId) return {*screen};
    switch (*screen) {
      case Screen::MessageFamily: return {*screen, LinkKey::messageId, *p.paramId};
      case Screen::Photo: return {*screen, LinkKey::photoId, *p.paramId};
      case Screen::LetterReceived:
      case Screen::LetterSent: return {*screen, LinkKey::letterId, *p.paramId};
      case Screen::LetterSend: return {*screen, LinkKey::targetId, *p.paramId};
      case Screen::FamilyPediaMember: return {*screen, LinkKey::pediaId, *p.paramId};
      case Screen::none:
      case Screen::MessageHome:
      case Screen::TimeCapsulesNav: break;
    }
    return {*screen};
  }

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

/// Who gets which message for this request, given the families the store returned and
/// the policy (the time, consent rules). Families missing from `families` are skipped;
/// the plan refers to `families`.
inline Plan plan(const Request& request, const Families& families, const PlanPolicy& policy = {}) {
  const auto* notice = std::get_if<ServiceNoticeParam>(&request.param);
  detail::PlanBuilder builder(policy, request.type(), notice && notice->marketing);
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
