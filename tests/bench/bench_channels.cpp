// SPDX-License-Identifier: MIT
// bench_channels: the contact channels' providers against the project's test servers, on
// this machine: e-mail (notify::email over SMTP with STARTTLS and AUTH, to aiosmtpd) and
// SMS / AlimTalk (notify::sens over HTTPS, to the SENS emulator). Each run sends the same
// deliveries afresh; the medians of --runs runs are printed.
//
// Then what a fallback costs: the engine (notify::Pipeline) sends birthday reminders one
// at a time through FCM (the emulator, answering after --fcm-latency ms) and AlimTalk (the
// SENS emulator), and times each record from admission to decision, for three kinds of
// member: a live device (push), no device but a phone (AlimTalk planned), and a device
// FCM calls dead and a phone (the push fails, then AlimTalk at run time).
//
//   bench_channels [--runs N] [--emails N] [--phones N] [--fcm-latency MS] [--records N]

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "fcm-emulator/emulator.hpp"
#include "notify/app/routing.hpp"
#include "notify/email/email.hpp"
#include "notify/fcm/fcm.hpp"
#include "notify/memory/memory.hpp"
#include "notify/pipeline.hpp"
#include "notify/plan.hpp"
#include "notify/sens/sens.hpp"
#include "sens-emulator/emulator.hpp"
#include "smtp-server/server.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Figures {
  double per_second = 0;      ///< deliveries per second
  double ms_per_call = 0;     ///< wall time per provider call (one e-mail, one SENS request)
  std::size_t calls = 0;
  std::size_t connections = 0;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

/// Sends `pushes` in slices of `batch` (as the engine hands a synchronous provider what
/// was submitted since its last poll); the seconds it took, or a negative value when a
/// delivery did not go out.
template <class Provider>
double send_all(Provider& provider, const std::vector<notify::Push>& pushes, std::size_t batch) {
  const auto start = Clock::now();
  for (std::size_t i = 0; i < pushes.size(); i += batch) {
    const std::size_t n = std::min(batch, pushes.size() - i);
    const auto results = provider.send(std::span<const notify::Push>(pushes.data() + i, n));
    for (const auto& r : results)
      if (r.status != notify::PushStatus::sent) {
        std::fprintf(stderr, "bench_channels: a delivery was not sent: %s\n", r.detail.c_str());
        return -1;
      }
  }
  return std::chrono::duration<double>(Clock::now() - start).count();
}

notify::Message message(std::string title, std::string body, notify::NotificationType type) {
  notify::Message m;
  m.title = std::move(title);
  m.body = std::move(body);
  m.type = type;
  return m;
}

Figures email_run(std::size_t count) {
  notify::test::SmtpServer smtp;
  notify::email::Options o;
  o.url = smtp.url();
  o.from = "notify@wooriga.example";
  o.from_name = "우리가";
  o.user = smtp.options().user;
  o.password = smtp.options().password;
  o.ca_file = smtp.ca_file();
  auto provider = notify::email::Provider::create(std::move(o));
  if (!provider) {
    std::fprintf(stderr, "bench_channels: %s\n", provider.error().message.c_str());
    std::exit(1);
  }
  const notify::Message m = message("우리가 점검 안내", "12월 10일 02:00부터 04:00까지 서비스 점검이 있습니다.",
                                    notify::NotificationType::SERVICE_NOTICE);
  std::vector<std::string> addresses;
  for (std::size_t i = 0; i < count; ++i) addresses.push_back("member" + std::to_string(i) + "@family.example");
  std::vector<notify::Push> pushes;
  for (const auto& a : addresses) pushes.push_back({&m, a, notify::PushService::email});
  const double seconds = send_all(*provider, pushes, 50);
  if (seconds < 0) std::exit(1);
  const auto stats = provider->stats();
  return {static_cast<double>(count) / seconds, 1000.0 * seconds / static_cast<double>(stats.transfers),
          stats.transfers, stats.connections};
}

notify::sens::Options sens_options(const notify::test::SensEmulator& emulator) {
  notify::sens::Options o;
  o.base_url = emulator.url();
  o.access_key = emulator.access_key();
  o.secret_key_file = emulator.secret_file();
  o.sms_service_id = "ncp:sms:kr:1:bench";
  o.alimtalk_service_id = "ncp:kkobizmsg:kr:1:bench";
  o.from = "0212345678";
  o.plus_friend_id = "@wooriga";
  o.templates = {{"NOTIFY_BIRTHDAY", "birthday01"}};
  o.sms_failover = true;
  o.ca_file = emulator.ca_file();
  return o;
}

/// `distinct`: every delivery its own text (one SENS call each); else one text for all
/// (calls of 100 recipients).
Figures sens_run(std::size_t count, notify::PushService service, bool distinct) {
  notify::test::SensEmulator emulator;
  auto provider = notify::sens::Provider::create(sens_options(emulator));
  if (!provider) {
    std::fprintf(stderr, "bench_channels: %s\n", provider.error().message.c_str());
    std::exit(1);
  }
  std::vector<notify::Message> messages;
  messages.reserve(distinct ? count : 1);
  for (std::size_t i = 0; i < (distinct ? count : 1); ++i)
    messages.push_back(message("우리가 생일",
                               "곧 사랑하는 우리가족 민지" + std::to_string(i) +
                                   " 님의 생일이에요! 따뜻한 축하의 편지를 전해보아요",
                               notify::NotificationType::NOTIFY_BIRTHDAY));
  std::vector<std::string> phones;
  for (std::size_t i = 0; i < count; ++i) {
    char phone[32];
    std::snprintf(phone, sizeof phone, "+82105%07zu", i % 10000000);
    phones.emplace_back(phone);
  }
  std::vector<notify::Push> pushes;
  for (std::size_t i = 0; i < count; ++i) pushes.push_back({&messages[distinct ? i : 0], phones[i], service});
  const double seconds = send_all(*provider, pushes, 500);
  if (seconds < 0) std::exit(1);
  const auto stats = provider->stats();
  return {static_cast<double>(count) / seconds, 1000.0 * seconds / static_cast<double>(stats.calls), stats.calls,
          static_cast<std::size_t>(emulator.connections())};
}

/// The kinds of member a birthday reminder reaches, and how.
enum class Way : std::uint8_t { push, alimtalk_planned, push_dead_then_alimtalk };
constexpr std::size_t way_count = 3;

/// Milliseconds from admission to decision of each record, by way (one record at a time,
/// so the figures are latencies, not queueing).
std::array<std::vector<double>, way_count> fallback_run(std::size_t records, int fcm_latency_ms) {
  namespace mem = notify::memory;
  notify::test::FcmEmulator fcm_emulator(notify::test::EmulatorOptions{
      .tls = true, .latency_ms = fcm_latency_ms, .max_concurrent_streams = 1000, .record = false});
  fcm_emulator.faults(nlohmann::json::array({{{"match", "^dead-"}, {"action", "unregistered"}}}));
  notify::test::SensEmulator sens_emulator;
  const auto fail = [](const notify::Error& e) {
    std::fprintf(stderr, "bench_channels: %s\n", e.message.c_str());
    std::exit(1);
  };
  auto account = notify::fcm::read_service_account(fcm_emulator.service_account_file());
  if (!account) fail(account.error());
  notify::fcm::Options fo;
  fo.endpoint = fcm_emulator.url();
  fo.ca_file = fcm_emulator.ca_file();
  auto fcm = notify::fcm::PushProvider::create(std::move(*account), fo);
  if (!fcm) fail(fcm.error());
  auto sens = notify::sens::Provider::create(sens_options(sens_emulator));
  if (!sens) fail(sens.error());
  notify::app::RoutingPusher pusher;
  pusher.set(notify::PushService::fcm, notify::app::AnyPusher(std::move(*fcm)));
  pusher.set(notify::PushService::alimtalk, notify::app::AnyPusher(std::move(*sens)));

  mem::MemberStore store;
  for (std::size_t f = 1; f <= records; ++f) {
    const auto family = static_cast<notify::Id>(f);
    const auto way = static_cast<Way>(f % way_count);
    char phone[32];
    std::snprintf(phone, sizeof phone, "+82104%07zu", f);
    const std::string token = (way == Way::push ? "live-" : "dead-") + std::to_string(f) + "-device-token";
    notify::Member m = notify::member_v1(2, "민지", way == Way::alimtalk_planned ? std::string() : token);
    if (way != Way::push) m.phone = phone;
    (void)store.set_member(family, notify::member_v1(1, "엄마"));
    (void)store.set_member(family, m);
  }
  mem::InboxSink inbox;
  mem::IdempotencyStore ledger;
  notify::ProcessorOptions o;
  o.plan_policy.channels = {notify::Channel::push, notify::Channel::alimtalk};
  notify::Pipeline<mem::MemberStore, notify::app::RoutingPusher, mem::InboxSink, mem::IdempotencyStore> engine(
      store, pusher, inbox, ledger, o);
  const auto reminder = [](std::size_t f) {
    return R"({"type":"NOTIFY_BIRTHDAY","param":{"familyIdsWithBirthdayUserId":[{"familyId":)" + std::to_string(f) +
           R"(,"birthdayUserId":1}]}})";
  };
  // A warm-up record: the access token and the connections.
  std::array<std::vector<double>, way_count> ms;
  for (std::size_t f = 0; f <= records; ++f) {
    notify::QueueRecord r;
    r.id = "q" + std::to_string(f);
    r.receipt = r.id;
    r.body = reminder(f == 0 ? 1 : f);
    std::vector<notify::QueueRecord> one;
    one.push_back(std::move(r));
    const auto start = Clock::now();
    engine.admit(std::move(one));
    while (!engine.idle()) {
      engine.step(std::chrono::milliseconds(50));
      for (const auto& d : engine.take_decided())
        if (d.outcome.disposition != notify::Disposition::done) {
          std::fprintf(stderr, "bench_channels: a reminder was not delivered: %s\n", d.outcome.reason.c_str());
          std::exit(1);
        }
    }
    if (f != 0)
      ms[f % way_count].push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  return ms;
}

std::size_t flag(int argc, char** argv, std::string_view name, std::size_t fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (argv[i] == name) return static_cast<std::size_t>(std::strtoull(argv[i + 1], nullptr, 10));
  return fallback;
}

template <class Run>
void report(const char* what, std::size_t runs, Run run) {
  std::vector<double> rate, per_call;
  Figures last;
  for (std::size_t r = 0; r < runs; ++r) {
    last = run();
    rate.push_back(last.per_second);
    per_call.push_back(last.ms_per_call);
  }
  std::printf("%-34s %10.0f /s %10.2f ms %8zu %6zu\n", what, median(rate), median(per_call), last.calls,
              last.connections);
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t runs = flag(argc, argv, "--runs", 3);
  const std::size_t emails = flag(argc, argv, "--emails", 300);
  const std::size_t phones = flag(argc, argv, "--phones", 2000);
  std::printf("medians of %zu runs; deliveries per second, wall time per provider call, calls and connections of "
              "the last run\n",
              runs);
  std::printf("%-34s %13s %13s %8s %6s\n", "channel (deliveries)", "deliveries", "per call", "calls", "conns");
  report(("email, one SMTP message each (" + std::to_string(emails) + ")").c_str(), runs,
         [&] { return email_run(emails); });
  report(("sms, one text, 100 per call (" + std::to_string(phones) + ")").c_str(), runs,
         [&] { return sens_run(phones, notify::PushService::sms, false); });
  report(("alimtalk, one text, 100 per call (" + std::to_string(phones) + ")").c_str(), runs,
         [&] { return sens_run(phones, notify::PushService::alimtalk, false); });
  report(("alimtalk, a text each (" + std::to_string(phones / 10) + ")").c_str(), runs,
         [&] { return sens_run(phones / 10, notify::PushService::alimtalk, true); });

  const auto fcm_latency = static_cast<int>(flag(argc, argv, "--fcm-latency", 20));
  const std::size_t records = flag(argc, argv, "--records", 60);
  std::printf("\na birthday reminder through the engine, admission to decision (FCM answering after %d ms); "
              "medians over %zu runs of %zu records, one at a time\n",
              fcm_latency, runs, records);
  std::array<std::vector<double>, way_count> all;
  for (std::size_t r = 0; r < runs; ++r) {
    auto ms = fallback_run(records, fcm_latency);
    for (std::size_t w = 0; w < way_count; ++w) all[w].insert(all[w].end(), ms[w].begin(), ms[w].end());
  }
  const char* const names[way_count] = {"push to a live device", "AlimTalk, planned (no device)",
                                        "push to a dead device, then AlimTalk"};
  for (std::size_t w = 0; w < way_count; ++w) std::printf("%-40s %8.2f ms\n", names[w], median(all[w]));
  return 0;
}
