// SPDX-License-Identifier: MIT
// Fuzz target: routing files (notify/routing.hpp) and planning along what they say.
// Properties checked on every input:
// - parse_routing never crashes; it answers a routing or at least one error, each error
//   with an empty path or a JSON Pointer ("/...");
// - an accepted routing is encoded and read back to the same routing;
// - every route of it has 1 to 4 distinct channels;
// - planning a notice and a birthday reminder along it, over every channel, for a family
//   whose members have devices, addresses and phones from the input, never lists an
//   address twice in a message, never uses a channel its route does not name, never sends
//   an advertisement by AlimTalk, and marks an SMS fallback only on AlimTalk targets;
// - what stands by behind a member's planned deliveries (Message::standby) is on channels
//   of the route after the planned one, in rising ranks, never an address planned or kept
//   back already, never an ad by AlimTalk, never SMS behind an AlimTalk with SMS failover,
//   and never for a route with "all".

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "notify/codec.hpp"
#include "notify/plan.hpp"
#include "notify/result.hpp"
#include "notify/routing.hpp"

namespace {

notify::Families family_from(std::string_view text) {
  // Four members whose contacts depend on the input's bytes.
  std::vector<notify::Member> members;
  for (notify::Id id = 1; id <= 4; ++id) {
    const unsigned char bits = text.size() >= static_cast<std::size_t>(id) ? static_cast<unsigned char>(text[id - 1]) : 0;
    notify::Member m = notify::member_v1(id, "m" + std::to_string(id), (bits & 1) ? "device-token-" + std::to_string(id) : "",
                                         (bits & 16) != 0);
    if (bits & 2) m.email = (bits & 32) ? "shared@family.example" : "m" + std::to_string(id) + "@family.example";
    if (bits & 4) m.phone = "+8210000000" + std::to_string(id);
    if (bits & 8) m.preferences.set(notify::Category::notice, notify::Channel::push, false);
    if (bits & 64) m.preferences.set(notify::Category::birthday, notify::Channel::sms, false);
    members.push_back(std::move(m));
  }
  return notify::Families({notify::Family{7, std::move(members)}});
}

notify::Channel channel_of_target(const notify::Target& t) { return notify::channel_of(t.service); }

std::size_t position(const notify::Route& route, notify::Channel c) {
  std::size_t k = 0;
  while (k < route.size && route.channels[k] != c) ++k;
  return k;
}

void check_plan(const notify::Request& request, const notify::Families& families, const notify::Routing& routing,
                bool marketing) {
  notify::PlanPolicy policy;
  policy.routing = &routing;
  policy.channels = {notify::Channel::push, notify::Channel::email, notify::Channel::sms, notify::Channel::alimtalk};
  const notify::Plan plan = notify::plan(request, families, policy);
  const notify::Route& route = routing.of(request.type());
  for (const notify::Message& m : plan.messages) {
    for (std::size_t i = 0; i < m.targets.size(); ++i) {
      const notify::Target& t = m.targets[i];
      NOTIFY_ASSERT(route.uses(channel_of_target(t)));
      NOTIFY_ASSERT(!(marketing && t.service == notify::PushService::alimtalk));
      NOTIFY_ASSERT(!t.sms_fallback || t.service == notify::PushService::alimtalk);
      for (std::size_t j = i + 1; j < m.targets.size(); ++j) NOTIFY_ASSERT(m.targets[j].token != t.token);
    }
    NOTIFY_ASSERT(m.standby.empty() || !route.all);
    for (std::size_t i = 0; i < m.standby.size(); ++i) {
      const notify::Standby& s = m.standby[i];
      NOTIFY_ASSERT(s.rank >= 1 && s.first < s.last && s.last <= m.targets.size());
      NOTIFY_ASSERT(!(marketing && s.target.service == notify::PushService::alimtalk));
      for (const notify::Target& t : m.targets) NOTIFY_ASSERT(t.token != s.target.token);
      bool sms_by_sens = false;
      for (std::size_t t = s.first; t < s.last; ++t) {
        // Later in the route than every delivery it stands behind.
        NOTIFY_ASSERT(position(route, channel_of_target(m.targets[t])) < position(route, channel_of_target(s.target)));
        sms_by_sens |= m.targets[t].sms_fallback;
      }
      for (std::size_t j = 0; j < i; ++j) {
        const notify::Standby& before = m.standby[j];
        NOTIFY_ASSERT(before.target.token != s.target.token);
        if (before.first != s.first) continue;
        NOTIFY_ASSERT(before.member == s.member && before.rank <= s.rank);
        sms_by_sens |= before.target.sms_fallback;
      }
      NOTIFY_ASSERT(!(sms_by_sens && s.target.service == notify::PushService::sms));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto parsed = notify::parse_routing(text);
  if (!parsed) {
    NOTIFY_ASSERT(!parsed.error().empty());
    for (const notify::Error& e : parsed.error()) NOTIFY_ASSERT(e.path.empty() || e.path.front() == '/');
    return 0;
  }
  const notify::Routing& routing = *parsed;
  const auto again = notify::parse_routing(notify::encode_routing(routing));
  NOTIFY_ASSERT(again.has_value() && *again == routing);
  for (std::size_t i = 0; i < notify::type_count; ++i) {
    const notify::Route& r = routing.of(static_cast<notify::NotificationType>(i));
    NOTIFY_ASSERT(r.size >= 1 && r.size <= notify::channel_count);
    for (std::size_t a = 0; a < r.size; ++a)
      for (std::size_t b = a + 1; b < r.size; ++b) NOTIFY_ASSERT(r.channels[a] != r.channels[b]);
  }

  const notify::Families families = family_from(text);
  for (const bool marketing : {false, true}) {
    const auto notice = notify::decode(std::string(R"({"type":"SERVICE_NOTICE","param":{"familyIds":[7],"title":"t","body":"b","marketing":)") +
                                       (marketing ? "true" : "false") + "}}");
    NOTIFY_ASSERT(notice.has_value());
    check_plan(*notice, families, routing, marketing);
  }
  const auto reminder = notify::decode(
      R"({"type":"NOTIFY_BIRTHDAY","param":{"familyIdsWithBirthdayUserId":[{"familyId":7,"birthdayUserId":1}]}})");
  NOTIFY_ASSERT(reminder.has_value());
  check_plan(*reminder, families, routing, false);
  return 0;
}
