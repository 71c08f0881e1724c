// SPDX-License-Identifier: MIT
// notify-worker --push fcm as a process, end to end: requests published to a real
// redis-server, the worker draining them through the FCM emulator over TLS (a throw-away
// test CA, the service account the emulator wrote), and what the emulator recorded.
// Faults are injected per token by the emulator's rules: 404 UNREGISTERED (the token is
// cleared from the member store in Redis, unless it changed meanwhile), 503 (only that
// token is sent again), a rejected service account and a fatal answer (the worker stops
// with a non-zero status and keeps the records). And --push fcm,apns: one family of
// Android and iPhone members served by both emulators in one run; --push with e-mail and
// AlimTalk (aiosmtpd, the SENS emulator): routes planned, and fallbacks taken at run time
// when FCM calls a device dead.

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apns-emulator/emulator.hpp"
#include "fcm-emulator/emulator.hpp"
#include "notify/codec.hpp"
#include "notify/redis/redis.hpp"
#include "process.hpp"
#include "redis_server.hpp"
#include "sens-emulator/emulator.hpp"
#include "smtp-server/server.hpp"

using namespace notify;
using namespace std::chrono_literals;
using notify::test::count_lines;
using notify::test::eventually;
using notify::test::FcmEmulator;
using notify::test::Process;
using notify::test::RedisServer;

namespace {

/// A Redis with sample families, the FCM emulator (TLS), and a directory for output.
struct FcmRig {
  static constexpr Id family_count = 3;

  FcmRig() : emulator(tls()), store(options()), producer(options(), queue_options()) {
    char tmpl[] = "/tmp/notify-worker-fcm-test-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    // Families 1..3 of three members; user 1 writes the comments, users 2 and 3 get them.
    for (Id f = 1; f <= family_count; ++f)
      for (Id u = 1; u <= 3; ++u)
        REQUIRE(store.set_member(f, notify::member_v1(u, "member" + std::to_string(u), token(f, u), true)).has_value());
  }
  ~FcmRig() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  FcmRig(const FcmRig&) = delete;
  FcmRig& operator=(const FcmRig&) = delete;

  static notify::test::EmulatorOptions tls() {
    notify::test::EmulatorOptions o;
    o.tls = true;
    return o;
  }
  redis::Options options() const {
    auto o = redis::parse_url(server.url());
    REQUIRE(o.has_value());
    return *o;
  }
  static redis::QueueOptions queue_options() {
    redis::QueueOptions q;
    q.stream = "notify";
    q.consumer = "test-producer";
    return q;
  }

  /// A device token (longer than 12 characters, so events only ever show it shortened).
  static std::string token(Id family, Id user) {
    char key[16];
    std::snprintf(key, sizeof key, "f%02du%02d", static_cast<int>(family), static_cast<int>(user));
    return std::string(key) + "-device-token-" + key;
  }

  /// Publishes a comment on message 100000+i in family `family` (request id r-i).
  void publish(int i, Id family) {
    const CommentMessageParam param{.messageFamId = 100000 + i,
                                    .authorId = 1,
                                    .familyId = family,
                                    .commentPreview = "r" + std::to_string(i)};
    const std::vector<std::string> bodies = {encode(Request{Param{param}, "r-" + std::to_string(i), {}})};
    REQUIRE(producer.send(bodies).has_value());
  }

  /// The request body SPEC.md ("Push") prescribes for that comment, sent to `to`.
  static nlohmann::json expected_body(int i, const std::string& to) {
    const std::string title = "우리가 이야기";
    const std::string body = "member1 님이 이야기에 댓글을 작성했습니다! \"r" + std::to_string(i) + "\"";
    return {{"message",
             {{"token", to},
              {"notification", {{"title", title}, {"body", body}}},
              {"data", {{"screen", "MessageFamily"}, {"param", "{\"messageId\":" + std::to_string(100000 + i) + "}"}}},
              {"android",
               {{"priority", "high"},
                {"notification",
                 {{"title", title},
                  {"body", body},
                  {"icon", "default"},
                  {"sound", "default"},
                  {"channel_id", "500"},
                  {"notification_priority", "PRIORITY_HIGH"}}}}},
              {"apns", {{"payload", {{"aps", {{"sound", "default"}}}}}}}}}};
  }

  std::string out(const std::string& name) const { return dir + "/" + name + ".out"; }
  std::string err(const std::string& name) const { return dir + "/" + name + ".err"; }

  /// notify-worker --push fcm on this Redis and the emulator.
  std::unique_ptr<Process> worker(const std::string& name, const std::string& credentials,
                                  std::vector<std::string> extra = {}) const {
    std::vector<std::string> argv = {NOTIFY_WORKER_PROGRAM, "--queue", server.url() + "/notify", "--members",
                                     server.url(), "--push", "fcm", "--fcm-credentials", credentials,
                                     "--fcm-endpoint", emulator.url(), "--ca-file", emulator.ca_file(),
                                     "--inbox", "null", "--log-format", "text", "--log-level", "debug"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return std::make_unique<Process>(std::move(argv), out(name), err(name));
  }

  /// Runs a worker to its end; its exit status.
  int run(const std::string& name, const std::string& credentials, std::vector<std::string> extra = {}) {
    auto w = worker(name, credentials, std::move(extra));
    const auto status = w->wait();
    REQUIRE(status.has_value());
    return *status;
  }

  std::size_t events(const std::string& name, const std::string& step) const {
    return count_lines(err(name), "step=" + step + " ");
  }
  /// The whole stdout and stderr of a worker.
  std::string output(const std::string& name) const {
    std::string all;
    for (const std::string& path : {out(name), err(name)})
      for (const std::string& line : notify::test::read_lines(path)) all += line + "\n";
    return all;
  }

  /// The member as `notifyctl members get` prints it.
  nlohmann::json member(Id family, Id user) const {
    const std::string path = dir + "/member.out";
    Process ctl({NOTIFY_NOTIFYCTL_PROGRAM, "members", "get", "--store", server.url(), "--family",
                 std::to_string(family), "--user", std::to_string(user)},
                path, dir + "/member.err");
    const auto status = ctl.wait();
    REQUIRE(status.has_value());
    REQUIRE(*status == 0);
    const auto lines = notify::test::read_lines(path);
    REQUIRE(lines.size() == 1);
    return nlohmann::json::parse(lines[0]);
  }

  /// The emulator's records for `to`, oldest first: (HTTP status, parsed body).
  std::vector<std::pair<int, nlohmann::json>> sent_to(const std::string& to) {
    std::vector<std::pair<int, nlohmann::json>> out;
    for (const auto& r : emulator.requests())
      if (r["token"].is_string() && r["token"] == to)
        out.emplace_back(r["status"].is_number() ? r["status"].get<int>() : 0,
                         nlohmann::json::parse(r["body"].get<std::string>()));
    return out;
  }

  long long xlen(const std::string& stream) {
    auto r = producer.connection().command({"XLEN", stream});
    REQUIRE(r.has_value());
    return r->integer;
  }
  std::size_t pending() {
    auto n = producer.pending_count();
    REQUIRE(n.has_value());
    return *n;
  }

  /// A copy of the emulator's service account signed by another key: its JWTs are rejected.
  std::string foreign_service_account() {
    const std::string key = dir + "/other.key";
    REQUIRE(std::system(("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out " + key +
                         " 2>/dev/null")
                            .c_str()) == 0);
    std::ifstream sa_in(emulator.service_account_file());
    nlohmann::json sa = nlohmann::json::parse(sa_in);
    std::ifstream key_in(key);
    sa["private_key"] = std::string(std::istreambuf_iterator<char>(key_in), {});
    const std::string path = dir + "/foreign-service-account.json";
    std::ofstream(path) << sa.dump(2);
    return path;
  }

  RedisServer server;
  FcmEmulator emulator;
  std::string dir;
  redis::MemberStore store;
  redis::Queue producer;
};

}  // namespace

TEST_CASE("notify-worker --push fcm sends each recipient's token exactly the SPEC body through the FCM emulator") {
  FcmRig rig;
  std::vector<nlohmann::json> expected;
  for (int i = 1; i <= 6; ++i) {
    const Id family = (i % FcmRig::family_count) + 1;
    rig.publish(i, family);
    for (Id user : {2, 3}) expected.push_back(FcmRig::expected_body(i, FcmRig::token(family, user)));
  }
  // The FCM flags may come from the environment as well.
  ::setenv("NOTIFY_FCM_CONNECTIONS", "2", 1);
  ::setenv("NOTIFY_FCM_STREAMS", "4", 1);
  const int status = rig.run("w", rig.emulator.service_account_file(), {"--drain"});
  ::unsetenv("NOTIFY_FCM_CONNECTIONS");
  ::unsetenv("NOTIFY_FCM_STREAMS");
  CHECK(status == 0);

  std::vector<nlohmann::json> got;
  for (const auto& r : rig.emulator.requests()) {
    CHECK(r["status"] == 200);
    got.push_back(nlohmann::json::parse(r["body"].get<std::string>()));
  }
  const auto by_text = [](const nlohmann::json& a, const nlohmann::json& b) { return a.dump() < b.dump(); };
  std::sort(got.begin(), got.end(), by_text);
  std::sort(expected.begin(), expected.end(), by_text);
  CHECK(got.size() == 12);
  CHECK(got == expected);  // one request per token, nothing for the author, nothing twice

  CHECK(rig.events("w", "sent") == 12);
  CHECK(rig.events("w", "done") == 6);
  CHECK(rig.events("w", "started") == 1);
  CHECK(rig.emulator.stats()["tokens_issued"] == 1);
  // --fcm-connections 2 for messages:send, plus the OAuth token fetch on its own connection.
  CHECK(rig.emulator.stats()["max_sessions_open"].get<int>() <= 3);
  CHECK(rig.pending() == 0);
  CHECK(rig.xlen("notify") == 0);
  // Neither the private key, nor the access token, nor a whole device token is logged.
  const std::string output = rig.output("w");
  CHECK(output.find("PRIVATE KEY") == std::string::npos);
  CHECK(output.find("Bearer") == std::string::npos);
  CHECK(output.find(FcmRig::token(2, 2)) == std::string::npos);
  CHECK(output.find("token=f02u02...2u02") != std::string::npos);  // shortened
}

TEST_CASE("a token FCM answers UNREGISTERED for is cleared in the Redis member store, unless it changed meanwhile") {
  FcmRig rig;
  const std::string changed = "f01u03-the-new-device-token";
  // User 2's token is dead; user 3's is too, but its answer comes late, after the app has
  // registered a new token for user 3.
  rig.emulator.faults(nlohmann::json::array(
      {{{"match", "^f01u02"}, {"action", "unregistered"}},
       {{"match", "^f01u03"}, {"action", "unregistered"}, {"latency_ms", 3000}}}));
  rig.publish(1, 1);
  auto w = rig.worker("w", rig.emulator.service_account_file(), {"--drain"});
  REQUIRE(eventually([&] { return !rig.sent_to(FcmRig::token(1, 3)).empty(); }));
  REQUIRE(rig.store.set_member(1, notify::member_v1(3, "member3", changed, true)).has_value());
  const auto status = w->wait();
  REQUIRE(status.has_value());
  CHECK(*status == 0);

  CHECK(rig.events("w", "invalid_token") == 2);
  CHECK(rig.events("w", "done") == 1);
  CHECK(rig.member(1, 2)["fcmToken"] == "");
  CHECK(rig.member(1, 2)["userName"] == "member2");  // the member itself stays
  CHECK(rig.member(1, 3)["fcmToken"] == changed);
  CHECK(rig.member(1, 1)["fcmToken"] == FcmRig::token(1, 1));
  // A dead token is not tried again.
  CHECK(rig.sent_to(FcmRig::token(1, 2)).size() == 1);
  CHECK(rig.xlen("notify:dead") == 0);
}

TEST_CASE("a 503 for one token is held in the worker and sends only that token again, without a queue retry") {
  FcmRig rig;
  rig.emulator.faults(nlohmann::json::array({{{"match", "^f01u03"}, {"action", "unavailable"}, {"times", 1}}}));
  rig.publish(1, 1);
  CHECK(rig.run("w", rig.emulator.service_account_file(), {"--drain"}) == 0);

  const auto to_3 = rig.sent_to(FcmRig::token(1, 3));
  REQUIRE(to_3.size() == 2);
  CHECK(to_3[0].first == 503);
  CHECK(to_3[1].first == 200);
  CHECK(to_3[1].second == FcmRig::expected_body(1, FcmRig::token(1, 3)));
  const auto to_2 = rig.sent_to(FcmRig::token(1, 2));
  REQUIRE(to_2.size() == 1);
  CHECK(to_2[0].first == 200);
  CHECK(rig.emulator.requests().size() == 3);

  // A 503 is the provider's condition: the push waits in the worker (the breaker pauses
  // and probes) rather than sending the record back to the queue with a backoff.
  CHECK(rig.events("w", "push_held") == 1);
  CHECK(rig.events("w", "provider_paused") == 1);
  CHECK(rig.events("w", "retry") == 0);
  CHECK(rig.events("w", "done") == 1);
  CHECK(rig.pending() == 0);
  CHECK(rig.xlen("notify:dead") == 0);
}

TEST_CASE("a service account the token endpoint rejects stops the worker with status 1 and keeps every record") {
  FcmRig rig;
  for (int i = 1; i <= 3; ++i) rig.publish(i, 1);
  const std::string foreign = rig.foreign_service_account();
  CHECK(rig.run("bad", foreign, {"--drain"}) == 1);

  CHECK(rig.events("bad", "fatal") == 1);
  CHECK(rig.output("bad").find("FCM did not accept the service account") != std::string::npos);
  CHECK(rig.output("bad").find("PRIVATE KEY") == std::string::npos);
  CHECK(rig.emulator.stats()["tokens_rejected"].get<int>() >= 1);
  CHECK(rig.emulator.requests().empty());  // no push was even tried
  // Nothing lost, nothing dead-lettered: a worker with the right account sends them all.
  CHECK(rig.xlen("notify:dead") == 0);
  CHECK(rig.xlen("notify") == 3);
  CHECK(rig.run("good", rig.emulator.service_account_file(), {"--drain"}) == 0);
  CHECK(rig.events("good", "done") == 3);
  CHECK(rig.emulator.requests().size() == 6);
}

TEST_CASE("a fatal FCM answer mid-run stops the worker with status 1 and the record waits, not dead-lettered") {
  FcmRig rig;
  rig.emulator.faults(nlohmann::json::array({{{"match", "^f01u03"}, {"action", "third_party_auth"}}}));
  rig.publish(1, 1);
  CHECK(rig.run("w", rig.emulator.service_account_file(), {"--drain"}) == 1);
  CHECK(rig.events("w", "push_fatal") == 1);
  CHECK(rig.events("w", "fatal") == 1);
  CHECK(rig.events("w", "dead_letter") == 0);
  CHECK(rig.xlen("notify:dead") == 0);
  CHECK(rig.pending() == 1);  // kept for a later run

  // Fixed: the next run sends the token that failed, and only that one.
  rig.emulator.faults(nlohmann::json::array());
  CHECK(rig.run("w2", rig.emulator.service_account_file(), {"--drain"}) == 0);
  CHECK(rig.events("w2", "done") == 1);
  CHECK(rig.sent_to(FcmRig::token(1, 2)).size() == 1);
  const auto to_3 = rig.sent_to(FcmRig::token(1, 3));
  REQUIRE(to_3.size() == 2);
  CHECK(to_3[1].first == 200);
  CHECK(rig.pending() == 0);
  CHECK(rig.xlen("notify:dead") == 0);
}

TEST_CASE("notify-worker --push fcm,apns sends a family of Android and iPhone members through both services in one batch") {
  FcmRig rig;
  notify::test::ApnsEmulator apns;
  // Each emulator has its own test CA: --ca-file takes a bundle of both.
  const std::string bundle = rig.dir + "/ca-bundle.pem";
  {
    std::ofstream out(bundle);
    for (const std::string& ca : {rig.emulator.ca_file(), apns.ca_file()}) out << std::ifstream(ca).rdbuf();
  }
  apns.faults(nlohmann::json::array({{{"match", "^f01u03-iphone"}, {"action", "unregistered"}}}));
  const std::string dad_iphone = "f01u02-iphone-token-0002";
  const std::string minji_iphone = "f01u03-iphone-token-0003";
  // 아빠 (2) has an Android phone and an iPhone; 민지 (3) only an iPhone, which APNs says is gone.
  notify::Member dad = notify::member_v1(2, "member2", FcmRig::token(1, 2), true);
  dad.devices.push_back({dad_iphone, PushService::apns, "ios", "2026-01-05T09:00:00.000Z", {}, {}});
  notify::Member minji = notify::member_v1(3, "member3", {}, true);
  minji.devices.push_back({minji_iphone, PushService::apns, "ios", "2026-01-05T09:00:00.000Z", {}, {}});
  REQUIRE(rig.store.set_member(1, dad).has_value());
  REQUIRE(rig.store.set_member(1, minji).has_value());
  rig.publish(1, 1);
  rig.publish(2, 1);

  const auto run_both = [&](const std::string& name) {
    Process w({NOTIFY_WORKER_PROGRAM, "--queue", rig.server.url() + "/notify", "--members",
                               rig.server.url(), "--push", "fcm,apns", "--fcm-credentials",
                               rig.emulator.service_account_file(), "--fcm-endpoint", rig.emulator.url(),
                               "--apns-key", apns.key_file(), "--apns-key-id", apns.options().key_id,
                               "--apns-team-id", apns.options().team_id, "--apns-topic", apns.options().topic,
                               "--apns-endpoint", apns.url(), "--ca-file", bundle, "--inbox", "null",
                               "--log-format", "text", "--log-level", "debug", "--drain"},
              rig.out(name), rig.err(name));
    const auto status = w.wait();
    REQUIRE(status.has_value());
    CHECK_MESSAGE(*status == 0, rig.output(name));
  };
  run_both("w");

  // FCM got the Android phone only, once per request, with the SPEC body.
  const auto android = rig.sent_to(FcmRig::token(1, 2));
  REQUIRE(android.size() == 2);
  CHECK(rig.emulator.requests().size() == 2);
  // APNs got both iPhones for each request, with the same text.
  std::map<std::string, std::vector<nlohmann::json>> to_apple;
  for (const auto& r : apns.requests()) to_apple[r["token"].get<std::string>()].push_back(r);
  REQUIRE(to_apple[dad_iphone].size() == 2);
  // Both requests were planned in one batch, before APNs answered for the dead iPhone:
  // each tried it once, no request twice.
  const std::size_t dead_tries = to_apple[minji_iphone].size();
  CHECK(dead_tries >= 1);
  CHECK(dead_tries <= 2);
  for (const auto& r : to_apple[minji_iphone]) CHECK(r["status"] == 410);
  CHECK(to_apple.size() == 2);
  for (const auto& r : to_apple[dad_iphone]) {
    CHECK(r["status"] == 200);
    const auto payload = nlohmann::json::parse(r["body"].get<std::string>());
    const auto& fcm_body = android[0].second["message"]["notification"];
    const bool same_request = payload["param"] == android[0].second["message"]["data"]["param"];
    CHECK(payload["aps"]["alert"]["title"] == fcm_body["title"]);
    if (same_request) CHECK(payload["aps"]["alert"]["body"] == fcm_body["body"]);
    CHECK(payload["screen"] == "MessageFamily");
  }

  CHECK(rig.events("w", "sent") == 4);
  CHECK(rig.events("w", "invalid_token") == dead_tries);
  CHECK(rig.events("w", "done") == 2);
  CHECK(rig.pending() == 0);
  CHECK(rig.xlen("notify:dead") == 0);
  // The dead iPhone left 민지's devices; 아빠 keeps both of his.
  CHECK(rig.member(1, 3)["devices"].empty());
  CHECK(rig.member(1, 3)["userName"] == "member3");
  CHECK(rig.member(1, 2)["devices"].size() == 2);
  CHECK(rig.output("w").find(dad_iphone) == std::string::npos);  // tokens are shortened in logs

  // The next request does not try the dead iPhone again.
  rig.publish(3, 1);
  run_both("w2");
  CHECK(rig.events("w2", "done") == 1);
  std::size_t after = 0;
  for (const auto& r : apns.requests()) after += r["token"] == minji_iphone;
  CHECK(after == dead_tries);
}

TEST_CASE("notify-worker --push fcm,email: each member once, by push where they have a device and by e-mail where not") {
  FcmRig rig;
  notify::test::SmtpServer smtp;
  const std::string bundle = rig.dir + "/ca-bundle.pem";
  {
    std::ofstream out(bundle);
    for (const std::string& ca : {rig.emulator.ca_file(), smtp.ca_file()}) out << std::ifstream(ca).rdbuf();
  }
  const std::string password_file = rig.dir + "/smtp-password";
  std::ofstream(password_file) << smtp.options().password << "\n";
  // Comments go by push, then e-mail; a notice's built-in route is the same.
  const std::string routing_file = rig.dir + "/routing.json";
  std::ofstream(routing_file) << R"({"COMMENT_MESSAGE": {"channels": ["push", "email"]}})";

  // Family 1: 1 has a phone and an address (push only), 2 no device (e-mail), 3 a phone
  // and no address, 4 no device and 2's address (one e-mail for both).
  notify::Member one = notify::member_v1(1, "member1", FcmRig::token(1, 1), true);
  one.email = "one@family.example";
  notify::Member two = notify::member_v1(2, "member2", {}, true);
  two.email = "parents@family.example";
  notify::Member four = notify::member_v1(4, "member4", {}, true);
  four.email = "parents@family.example";
  for (const auto& m : {one, two, four}) REQUIRE(rig.store.set_member(1, m).has_value());
  const std::string notice =
      R"({"id":"n-1","type":"SERVICE_NOTICE","param":{"familyIds":[1],"title":"점검 안내","body":"오늘 밤 2시에 점검합니다 <30분>","marketing":false}})";
  const std::vector<std::string> bodies = {notice};
  REQUIRE(rig.producer.send(bodies).has_value());
  rig.publish(1, 1);  // a comment by member 1: 2, 3 and 4 are told

  const auto run = [&](const std::string& name) {
    Process w({NOTIFY_WORKER_PROGRAM, "--queue", rig.server.url() + "/notify", "--members", rig.server.url(),
               "--push", "fcm,email", "--fcm-credentials", rig.emulator.service_account_file(), "--fcm-endpoint",
               rig.emulator.url(), "--smtp-url", smtp.url(), "--smtp-from", "notify@wooriga.example",
               "--smtp-from-name", "우리가", "--smtp-user", smtp.options().user, "--smtp-password-file",
               password_file, "--ca-file", bundle, "--routing", routing_file, "--inbox", "null", "--log-format",
               "text", "--log-level", "debug", "--drain"},
              rig.out(name), rig.err(name));
    const auto status = w.wait();
    REQUIRE(status.has_value());
    CHECK_MESSAGE(*status == 0, rig.output(name));
  };
  run("w");

  // Push: 1 (notice) and 3 (notice and comment).
  CHECK(rig.sent_to(FcmRig::token(1, 1)).size() == 1);
  CHECK(rig.sent_to(FcmRig::token(1, 3)).size() == 2);
  CHECK(rig.emulator.requests().size() == 3);
  // E-mail: one per request to the address 2 and 4 share, none to 1's address.
  const auto mail = smtp.received();
  REQUIRE(mail.size() == 2);
  std::vector<std::string> subjects;
  for (const auto& m : mail) {
    const auto& j = m.json;
    CHECK(j["rcpt_tos"] == nlohmann::json::array({"parents@family.example"}));
    CHECK(j["tls"] == true);
    CHECK(j["authenticated"] == true);
    CHECK(j["defects"].empty());
    CHECK(j["headers"]["from"] == "우리가 <notify@wooriga.example>");
    subjects.push_back(j["headers"]["subject"].get<std::string>());
    std::string text, html;
    for (const auto& part : j["parts"]) {
      if (part["content_type"] == "text/plain") text = part["content"].get<std::string>();
      if (part["content_type"] == "text/html") html = part["content"].get<std::string>();
    }
    if (subjects.back() == "점검 안내") {
      CHECK(text.find("오늘 밤 2시에 점검합니다 <30분>") != std::string::npos);
      CHECK(html.find("오늘 밤 2시에 점검합니다 &lt;30분&gt;") != std::string::npos);
    } else {
      CHECK(text.find("member1 님이 이야기에 댓글을 작성했습니다! \"r1\"") != std::string::npos);
    }
  }
  std::sort(subjects.begin(), subjects.end());
  CHECK(subjects == std::vector<std::string>{"우리가 이야기", "점검 안내"});
  CHECK(rig.events("w", "sent") == 5);
  CHECK(rig.events("w", "done") == 2);
  CHECK(rig.pending() == 0);
  CHECK(rig.xlen("notify:dead") == 0);
  // Addresses are shortened in logs, like tokens.
  CHECK(rig.output("w").find("parents@family.example") == std::string::npos);
  CHECK(rig.output("w").find("pa...@family.example") != std::string::npos);

  // The same notice again (same id): every delivery is already marked, on both channels.
  REQUIRE(rig.producer.send(bodies).has_value());
  run("w2");
  CHECK(rig.emulator.requests().size() == 3);
  CHECK(smtp.received().size() == 2);
  CHECK(rig.events("w2", "already_sent") == 3);
  CHECK(rig.events("w2", "done") == 1);
}

TEST_CASE("notify-worker with e-mail beside FCM: while the SMTP server stalls other records still go by FCM and are done") {
  FcmRig rig;
  notify::test::SmtpServer smtp;
  const std::string bundle = rig.dir + "/ca-bundle.pem";
  {
    std::ofstream out(bundle);
    for (const std::string& ca : {rig.emulator.ca_file(), smtp.ca_file()}) out << std::ifstream(ca).rdbuf();
  }
  const std::string password_file = rig.dir + "/smtp-password";
  std::ofstream(password_file) << smtp.options().password << "\n";
  const std::string routing_file = rig.dir + "/routing.json";
  std::ofstream(routing_file) << R"({"COMMENT_MESSAGE": {"channels": ["push", "email"]}})";
  // Family 1's member 2 has no device: the comment reaches them by e-mail, which the
  // server holds at RCPT TO until the test lets it go.
  notify::Member two = notify::member_v1(2, "member2", {}, true);
  two.email = "hold-two@family.example";
  REQUIRE(rig.store.set_member(1, two).has_value());

  rig.publish(1, 1);
  Process w({NOTIFY_WORKER_PROGRAM, "--queue", rig.server.url() + "/notify", "--members", rig.server.url(), "--push",
             "fcm,email", "--fcm-credentials", rig.emulator.service_account_file(), "--fcm-endpoint",
             rig.emulator.url(), "--smtp-url", smtp.url(), "--smtp-from", "notify@wooriga.example", "--smtp-user",
             smtp.options().user, "--smtp-password-file", password_file, "--ca-file", bundle, "--routing",
             routing_file, "--inbox", "null", "--log-format", "text", "--log-level", "debug", "--drain"},
            rig.out("w"), rig.err("w"));
  REQUIRE_MESSAGE(eventually([&] { return smtp.holding(); }), rig.output("w"));

  // The e-mail is stuck in the SMTP conversation; a request to family 2 (push only) is
  // received, pushed and settled meanwhile.
  rig.publish(2, 2);
  CHECK_MESSAGE(eventually([&] { return rig.events("w", "done") == 1; }), rig.output("w"));
  CHECK(rig.sent_to(FcmRig::token(2, 2)).size() == 1);
  CHECK(rig.sent_to(FcmRig::token(2, 3)).size() == 1);
  CHECK(smtp.received().empty());

  smtp.release();
  const auto status = w.wait();
  REQUIRE(status.has_value());
  CHECK_MESSAGE(*status == 0, rig.output("w"));
  REQUIRE(smtp.received().size() == 1);
  CHECK(smtp.received()[0].json["rcpt_tos"] == nlohmann::json::array({"hold-two@family.example"}));
  CHECK(rig.sent_to(FcmRig::token(1, 3)).size() == 1);
  CHECK(rig.events("w", "done") == 2);
  CHECK(rig.pending() == 0);
}

namespace {

/// A member of family 1 with a device token, an e-mail address and a phone (each optional).
notify::Member with(notify::Id id, std::string token, std::string email, std::string phone) {
  notify::Member m = notify::member_v1(id, "member" + std::to_string(id), std::move(token), true);
  m.email = std::move(email);
  m.phone = std::move(phone);
  return m;
}

/// The contact channels' servers beside an FcmRig: aiosmtpd and the SENS emulator, one CA
/// bundle for the three, and notify-worker --push fcm,email,alimtalk on them all.
struct ContactRig {
  explicit ContactRig(const FcmRig& fcm) : rig(fcm), bundle(fcm.dir + "/ca-bundle.pem"), password_file(fcm.dir + "/smtp-password") {
    {
      std::ofstream out(bundle);
      for (const std::string& ca : {rig.emulator.ca_file(), smtp.ca_file(), sens.ca_file()})
        out << std::ifstream(ca).rdbuf();
    }
    std::ofstream(password_file) << smtp.options().password << "\n";
  }

  std::vector<std::string> worker(std::vector<std::string> extra) const {
    std::vector<std::string> argv = {
        NOTIFY_WORKER_PROGRAM, "--queue", rig.server.url() + "/notify", "--members", rig.server.url(), "--push",
        "fcm,email,alimtalk", "--fcm-credentials", rig.emulator.service_account_file(), "--fcm-endpoint",
        rig.emulator.url(), "--smtp-url", smtp.url(), "--smtp-from", "notify@wooriga.example", "--smtp-user",
        smtp.options().user, "--smtp-password-file", password_file, "--sens-endpoint", sens.url(),
        "--sens-access-key", sens.access_key(), "--sens-secret-key-file", sens.secret_file(),
        "--sens-alimtalk-service", "ncp:kkobizmsg:kr:1:wooriga", "--sens-from", "0212345678",
        "--sens-plus-friend", "@wooriga", "--sens-templates", "NOTIFY_BIRTHDAY=birthday01,MESSAGE_BIRTHDAY=birthday02",
        "--ca-file", bundle, "--inbox", "null", "--log-format", "text", "--log-level", "debug", "--drain"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }

  const FcmRig& rig;
  notify::test::SmtpServer smtp;
  notify::test::SensEmulator sens;
  std::string bundle;
  std::string password_file;
};

}  // namespace

TEST_CASE("notify-worker --push fcm,email,alimtalk: one family across push, AlimTalk fallback and e-mail, no member twice") {
  FcmRig rig;
  ContactRig contacts(rig);
  auto& smtp = contacts.smtp;
  auto& sens = contacts.sens;

  // A birthday reminder by push, else AlimTalk with SENS's SMS in its place when KakaoTalk
  // cannot deliver (the route names sms after alimtalk); a notice by push, else e-mail (built in).
  const std::string routing_file = rig.dir + "/routing.json";
  std::ofstream(routing_file) << R"({"NOTIFY_BIRTHDAY": {"channels": ["push", "alimtalk", "sms"]}})";
  const std::vector<notify::Member> family = {
      with(1, FcmRig::token(1, 1), {}, {}),                                      // whose birthday it is
      with(2, FcmRig::token(1, 2), "two@family.example", "+821000000002"),      // push for both
      with(3, {}, "three@family.example", "+821000000003"),                     // AlimTalk, e-mail
      with(4, {}, "four@family.example", {}),                                   // nothing, e-mail
      with(5, {}, {}, "+821000000005")};                                        // AlimTalk, nothing
  // 3 switched SMS off for birthdays: AlimTalk without the SMS failover.
  notify::Member three = family[2];
  three.preferences.set(notify::Category::birthday, notify::Channel::sms, false);
  for (const auto& m : family) REQUIRE(rig.store.set_member(1, m.userId == 3 ? three : m).has_value());
  const std::vector<std::string> bodies = {
      R"({"id":"b-1","type":"NOTIFY_BIRTHDAY","param":{"familyIdsWithBirthdayUserId":[{"familyId":1,"birthdayUserId":1}]}})",
      R"({"id":"n-1","type":"SERVICE_NOTICE","param":{"familyIds":[1],"title":"점검 안내","body":"오늘 밤 점검합니다","marketing":false}})"};
  REQUIRE(rig.producer.send(bodies).has_value());

  Process w(contacts.worker({"--sens-sms-failover", "--routing", routing_file}), rig.out("w"), rig.err("w"));
  const auto status = w.wait();
  REQUIRE(status.has_value());
  CHECK_MESSAGE(*status == 0, rig.output("w"));

  // Push: 1 the notice; 2 the reminder and the notice.
  CHECK(rig.sent_to(FcmRig::token(1, 1)).size() == 1);
  CHECK(rig.sent_to(FcmRig::token(1, 2)).size() == 2);
  CHECK(rig.emulator.requests().size() == 3);
  // AlimTalk: the reminder's template to 3 (no SMS failover: SMS off) and 5 (failover on),
  // one call each.
  const auto calls = sens.received();
  REQUIRE(calls.size() == 2);
  std::map<std::string, bool> failover;
  for (const auto& call : calls) {
    CHECK(call["status"] == 202);
    CHECK(call["kind"] == "alimtalk");
    CHECK(call["body"]["plusFriendId"] == "@wooriga");
    CHECK(call["body"]["templateCode"] == "birthday01");
    REQUIRE(call["body"]["messages"].size() == 1);
    const auto& m = call["body"]["messages"][0];
    CHECK(m["content"] == "우리가 생일\n곧 사랑하는 우리가족 member1 님의 생일이에요! 따뜻한 축하의 편지를 전해보아요");
    failover[m["to"].get<std::string>()] = m["useSmsFailover"].get<bool>();
  }
  CHECK(failover == std::map<std::string, bool>{{"01000000003", false}, {"01000000005", true}});
  // E-mail: the notice to 3 and 4.
  std::vector<std::string> mailed;
  for (const auto& m : smtp.received()) {
    CHECK(m.json["headers"]["subject"] == "점검 안내");
    mailed.push_back(m.json["rcpt_tos"][0].get<std::string>());
  }
  std::sort(mailed.begin(), mailed.end());
  CHECK(mailed == std::vector<std::string>{"four@family.example", "three@family.example"});
  CHECK(rig.events("w", "sent") == 7);
  CHECK(rig.events("w", "done") == 2);
  CHECK(rig.xlen("notify:dead") == 0);
  CHECK(rig.output("w").find("+821000000003") == std::string::npos);  // phones shortened in logs
  CHECK(rig.output("w").find(sens.secret_key()) == std::string::npos);
}

TEST_CASE("a push FCM answers UNREGISTERED for falls back at run time: AlimTalk for a reminder, e-mail for a notice") {
  FcmRig rig;
  ContactRig contacts(rig);
  // Member 2's device is dead, but the store does not know it yet: planned by push.
  rig.emulator.faults(nlohmann::json::array({{{"match", "^f01u02"}, {"action", "unregistered"}}}));
  for (const auto& m : {with(1, FcmRig::token(1, 1), {}, {}), with(2, FcmRig::token(1, 2), "two@family.example", "+821000000002"),
                        with(3, FcmRig::token(1, 3), "three@family.example", "+821000000003")})
    REQUIRE(rig.store.set_member(1, m).has_value());
  const std::vector<std::string> bodies = {
      R"({"id":"b-1","type":"NOTIFY_BIRTHDAY","param":{"familyIdsWithBirthdayUserId":[{"familyId":1,"birthdayUserId":1}]}})",
      R"({"id":"n-1","type":"SERVICE_NOTICE","param":{"familyIds":[1],"title":"점검 안내","body":"오늘 밤 점검합니다","marketing":false}})"};
  REQUIRE(rig.producer.send(bodies).has_value());
  Process w(contacts.worker({}), rig.out("w"), rig.err("w"));
  const auto status = w.wait();
  REQUIRE(status.has_value());
  CHECK_MESSAGE(*status == 0, rig.output("w"));

  // Member 2: the reminder by AlimTalk, the notice by e-mail, each once, and nothing else.
  const auto calls = contacts.sens.received();
  REQUIRE(calls.size() == 1);
  CHECK(calls[0]["kind"] == "alimtalk");
  REQUIRE(calls[0]["body"]["messages"].size() == 1);
  CHECK(calls[0]["body"]["messages"][0]["to"] == "01000000002");
  const auto mails = contacts.smtp.received();
  REQUIRE(mails.size() == 1);
  CHECK(mails[0].json["rcpt_tos"][0] == "two@family.example");
  // Members 1 and 3 by push, as planned: 3 both, 1 the notice; no fallback for them.
  CHECK(rig.sent_to(FcmRig::token(1, 3)).size() == 2);
  CHECK(rig.sent_to(FcmRig::token(1, 1)).size() == 1);
  // The dead token is cleared, and both records are done: the member was reached.
  CHECK(rig.member(1, 2)["fcmToken"] == "");
  CHECK(rig.events("w", "done") == 2);
  CHECK(rig.xlen("notify:dead") == 0);
  // Each push tried to the dead token fell back once; a record planned after the token was
  // cleared went to the next channel at once (the first was planned before).
  CHECK(rig.events("w", "fallback") == rig.sent_to(FcmRig::token(1, 2)).size());
  CHECK(rig.events("w", "fallback") >= 1);
}
