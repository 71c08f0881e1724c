// SPDX-License-Identifier: MIT
// Microbenchmarks of the pure core, per record (items_per_second = records per second):
//   decode/<case>           decode(body) (which validates while it parses)
//   decode_validate/<case>  decode(body) then validate(request), as a producer re-checks
//   plan_render/<case>      plan(request, families) then encode_inbox(plan), given a
//                           decoded request and the families the store returned
//   full/<case>             all of the above for one record
//   plan_render_settings/<case>  plan_render with every rule of time and consent on
//                           (PlanPolicy::now_ms at 12:00 KST) and members carrying
//                           settings: a dated marketing and night-time consent, quiet
//                           hours 23:00-07:00 in Asia/Seoul or America/New_York, one
//                           channel switched off; the same devices, so against
//                           plan_render/<case> it is the cost of those rules alone
// <case> is "mix" (COMMENT_MESSAGE with a Korean preview, EMOTION_CHOSEN,
// TIMECAPSULE_OPEN with two capsules, MESSAGE_TODAY with one family, in turn), one
// notification type (families of four members with FCM-sized tokens), or
// MESSAGE_TODAY_100x10, the noon burst's shape: one request for 100 families of 10.
//
//   cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DNOTIFY_BUILD_BENCHMARKS=ON
//   cmake --build build-bench --target notify_bench_core
//   build-bench/tests/bench/notify_bench_core --benchmark_repetitions=5 --benchmark_report_aggregates_only=true

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "notify/codec.hpp"
#include "notify/members.hpp"
#include "notify/plan.hpp"

namespace {

/// One benchmark input: record bodies processed in turn, and the member store they meet.
struct Case {
  std::string name;
  std::vector<std::string> bodies;
  const notify::Families* families = nullptr;
  const notify::Families* with_settings = nullptr;  ///< the same members, with v2 settings
};

/// An FCM registration token is about 160 characters.
std::string token_for(notify::Id user) {
  std::string t = "fcm-" + std::to_string(user) + ":APA91b";
  while (t.size() < 163) t += "Xy3_kQ9-zR7pL2mN8vB4cD6fG1hJ5";
  t.resize(163);
  return t;
}

/// Families 3 and 7 with four members each; family 3's user ids are 3..6.
notify::Families make_families() {
  const std::pair<notify::Id, const char*> people[] = {{3, "엄마"}, {4, "아빠"}, {5, "민수"}, {6, "지수"}};
  std::vector<notify::Family> families;
  for (notify::Id family_id : {3, 7}) {
    notify::Family f;
    f.familyId = family_id;
    for (const auto& [offset, name] : people) {
      const notify::Id user = family_id * 100 + offset;
      f.members.push_back(notify::member_v1(family_id == 3 ? offset : user, name, token_for(user), true));
    }
    families.push_back(std::move(f));
  }
  return notify::Families(std::move(families));
}

/// The noon burst's shape: 100 families of 10 members, all with a device.
notify::Families make_burst_families() {
  std::vector<notify::Family> families;
  for (notify::Id family_id = 1; family_id <= 100; ++family_id) {
    notify::Family f;
    f.familyId = family_id;
    for (notify::Id k = 1; k <= 10; ++k) {
      const notify::Id user = family_id * 100 + k;
      f.members.push_back(notify::member_v1(user, "가족" + std::to_string(k), token_for(user), k % 2 == 0));
    }
    families.push_back(std::move(f));
  }
  return notify::Families(std::move(families));
}

/// The same families and devices, each member with settings every planning rule has to
/// look at.
notify::Families with_settings(const notify::Families& v1) {
  std::vector<notify::Family> out(v1.all().begin(), v1.all().end());
  const std::int64_t agreed = *notify::parse_rfc3339("2025-06-01T09:00:00Z");
  for (notify::Family& f : out)
    for (notify::Member& m : f.members) {
      m.consent.marketing.agreedAt = agreed;
      m.consent.nightAds.agreedAt = agreed;
      m.timeZone = m.userId % 3 == 0 ? "America/New_York" : "Asia/Seoul";
      m.quietHours = notify::DailyWindow{notify::LocalTime{23 * 60}, notify::LocalTime{7 * 60}};
      m.preferences.set(notify::Category::photo, notify::Channel::email, false);
    }
  return notify::Families(std::move(out));
}

/// 12:00 KST: inside nobody's quiet hours in Seoul, inside them in New York.
const notify::PlanPolicy settings_policy{*notify::parse_rfc3339("2026-12-04T03:00:00Z")};

std::string burst_body() {
  std::string body = R"({"type":"MESSAGE_TODAY","param":{"familyIds":[)";
  for (int id = 1; id <= 100; ++id) body += (id > 1 ? "," : "") + std::to_string(id);
  return body + "]}}";
}

const char* const comment_message =
    R"({"type":"COMMENT_MESSAGE","param":{"familyId":3,"messageFamId":29001,"authorId":3,)"
    R"("commentPreview":"오늘 저녁은 다 같이 먹어요! 늦지 말고 일곱 시까지 와요"},"id":"msg-8f14e45f","createdAt":1714550400000})";
const char* const emotion_chosen = R"({"type":"EMOTION_CHOSEN","param":{"familyId":3,"userId":5}})";
const char* const timecapsule_open =
    R"({"type":"TIMECAPSULE_OPEN","param":{"timaCapsules":[{"letterId":901,"receiverId":4,"senderId":3,"familyId":3},)"
    R"({"letterId":902,"receiverId":5,"senderId":6,"familyId":3}]}})";
const char* const message_today = R"({"type":"MESSAGE_TODAY","param":{"familyIds":[3]}})";

std::vector<Case> make_cases() {
  static const notify::Families small = make_families();
  static const notify::Families burst = make_burst_families();
  static const notify::Families small_settings = with_settings(small);
  static const notify::Families burst_settings = with_settings(burst);
  std::vector<Case> cases;
  cases.push_back({"mix", {comment_message, emotion_chosen, timecapsule_open, message_today}, &small, &small_settings});
  const std::pair<const char*, std::string> per_type[] = {
      {"MESSAGE_TODAY", message_today},
      {"MESSAGE_BIRTHDAY", R"({"type":"MESSAGE_BIRTHDAY","param":{"familyIds":[3,7]}})"},
      {"COMMENT_MESSAGE", comment_message},
      {"PHOTO_CREATE",
       R"({"type":"PHOTO_CREATE","param":{"photoId":77,"authorId":4,"familyId":3,"titlePreview":"제주도 가족여행 첫날"}})"},
      {"COMMENT_PHOTO",
       R"({"type":"COMMENT_PHOTO","param":{"photoId":77,"authorId":5,"familyId":3,"commentPreview":"와 바다 색이 정말 예쁘다"}})"},
      {"LETTER_SEND",
       R"({"type":"LETTER_SEND","param":{"letterId":501,"isTimeCapsule":false,"familyId":3,"receiverId":4}})"},
      {"TIMECAPSULE_OPEN", timecapsule_open},
      {"NOTIFY_BIRTHDAY",
       R"({"type":"NOTIFY_BIRTHDAY","param":{"familyIdsWithBirthdayUserId":[{"familyId":3,"birthdayUserId":4},)"
       R"({"familyId":7,"birthdayUserId":705}]}})"},
      {"EMOTION_CHOSEN", emotion_chosen},
      {"EMOTION_POKE", R"({"type":"EMOTION_POKE","param":{"familyId":3,"userId":5}})"},
      {"PEDIA_QUESTION_CREATED", R"({"type":"PEDIA_QUESTION_CREATED","param":{"familyId":3,"ownerId":4}})"},
      {"PEDIA_QUESTION_EDITTED", R"({"type":"PEDIA_QUESTION_EDITTED","param":{"familyId":3,"ownerId":4}})"},
      {"PEDIA_ANSWER", R"({"type":"PEDIA_ANSWER","param":{"familyId":3,"ownerId":4}})"},
      {"PEDIA_EDIT_PHOTO", R"({"type":"PEDIA_EDIT_PHOTO","param":{"familyId":3,"ownerId":4,"editorId":5}})"},
  };
  for (const auto& [name, body] : per_type) cases.push_back({name, {body}, &small, &small_settings});
  cases.push_back({"SERVICE_NOTICE_ad",
                   {R"({"type":"SERVICE_NOTICE","param":{"familyIds":[3,7],"title":"이번 주 특가",)"
                    R"("body":"가족 앨범 인화 30% 할인","marketing":true}})"},
                   &small,
                   &small_settings});
  cases.push_back({"MESSAGE_TODAY_100x10", {burst_body()}, &burst, &burst_settings});
  return cases;
}

std::vector<notify::Request> decode_all(const Case& c) {
  std::vector<notify::Request> out;
  for (const std::string& body : c.bodies) {
    auto r = notify::decode(body);
    if (!r) {
      std::fprintf(stderr, "bench input %s does not decode: %s\n", c.name.c_str(), r.error().front().message.c_str());
      std::abort();
    }
    out.push_back(std::move(*r));
  }
  return out;
}

void run_decode(benchmark::State& state, const Case& c) {
  std::size_t i = 0;
  for (auto _ : state) {
    auto r = notify::decode(c.bodies[i]);
    benchmark::DoNotOptimize(r);
    if (++i == c.bodies.size()) i = 0;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void run_decode_validate(benchmark::State& state, const Case& c) {
  std::size_t i = 0;
  for (auto _ : state) {
    auto r = notify::decode(c.bodies[i]);
    auto errors = notify::validate(*r);
    benchmark::DoNotOptimize(errors);
    if (++i == c.bodies.size()) i = 0;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void plan_render(benchmark::State& state, const Case& c, const notify::Families& fams,
                 const notify::PlanPolicy& policy) {
  const std::vector<notify::Request> requests = decode_all(c);
  std::size_t i = 0;
  for (auto _ : state) {
    notify::Plan p = notify::plan(requests[i], fams, policy);
    std::string inbox = notify::encode_inbox(p);
    benchmark::DoNotOptimize(p);
    benchmark::DoNotOptimize(inbox);
    if (++i == requests.size()) i = 0;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void run_plan_render(benchmark::State& state, const Case& c) { plan_render(state, c, *c.families, {}); }
void run_plan_render_settings(benchmark::State& state, const Case& c) {
  plan_render(state, c, *c.with_settings, settings_policy);
}

void run_full(benchmark::State& state, const Case& c) {
  const notify::Families& fams = *c.families;
  std::size_t i = 0;
  for (auto _ : state) {
    auto r = notify::decode(c.bodies[i]);
    auto errors = notify::validate(*r);
    notify::Plan p = notify::plan(*r, fams);
    std::string inbox = notify::encode_inbox(p);
    benchmark::DoNotOptimize(errors);
    benchmark::DoNotOptimize(inbox);
    if (++i == c.bodies.size()) i = 0;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

}  // namespace

int main(int argc, char** argv) {
  static const std::vector<Case> cases = make_cases();
  for (const Case& c : cases) decode_all(c);  // fail fast on a broken input
  using Fn = void (*)(benchmark::State&, const Case&);
  const std::pair<const char*, Fn> stages[] = {
      {"decode", run_decode}, {"decode_validate", run_decode_validate}, {"plan_render", run_plan_render}, {"full", run_full},
      {"plan_render_settings", run_plan_render_settings}};
  for (const auto& [stage, fn] : stages)
    for (const Case& c : cases) benchmark::RegisterBenchmark((std::string(stage) + "/" + c.name).c_str(), fn, c);

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
