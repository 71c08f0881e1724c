// SPDX-License-Identifier: MIT
// End to end: the real notify-worker binary draining a Redis stream through the FCM
// emulator or the APNs emulator (TLS, their test CA), against the emulator's own ceiling
// measured with h2load.
//
//   bench_worker [--service fcm|apns] [--runs R] [--workload w1|w2|all] [--latency MS[,MS...]]
//                [--small] [--worker-args "ARGS"] [--no-h2load] [--h2load-requests N (40000)]
//                [--redis-stats]
//
// --service fcm (the default): `--push fcm`, members in the first version's form
// {"userName", "fcmToken", "mktPushAgreed"}, each with a unique ~160-character token.
// --service apns: `--push apns` with --apns-key/-key-id/-team-id/-topic/-endpoint and
// --ca-file pointing at the APNs emulator; members in the v2 form, each with one device
// {"token", "provider": "apns", "platform": "ios"} and a unique 64-hex-digit token. The
// emulator's records give the pushes: the device token from the path, screen and param
// from the payload's top-level custom keys (param a JSON string, as with FCM's data).
//
// One redis-server (free loopback port) and one emulator for the whole run; members are
// loaded once. Workloads (families of 4 members, one device each):
//   w1 "noon burst": MESSAGE_TODAY to 10,000 families, 100 requests of 100 families each
//      (every family exactly once, as the daily job does): 40,000 pushes, no inbox.
//   w2 "interactive": 2,000 records of 12 interactive types in a fixed mix of 20 (comments,
//      photos, letters, time capsules, pedia, birthday reminders, emotions) over 500
//      families: 5,000 pushes and 1,500 inbox records.
// --small: w1 over 1,000 families (4,000 pushes), w2 200 records (500 pushes).
//
// Each run publishes the workload on a fresh stream (fresh request ids, a fresh inbox
// stream), resets the emulator and sets its latency (POST /_emulator/config), runs
// `notify-worker ... --drain` and waits for it (wait4: its CPU time and peak RSS).
// pushes/s is the emulator's view, from the first to the last push (messages:send or
// /3/device) it received; "wall" is from the worker's start to its exit. Every run is
// checked: exit status 0, each expected (token, screen, param) pushed exactly as often as
// expected and answered 200, the expected inbox records, no dead letters; any difference
// ends the benchmark with status 1, so a fast but wrong worker cannot look good.
//
// The ceiling: h2load with the worker's connections x streams (FCM: --fcm-connections /
// --fcm-streams from --worker-args, else 8 x 50; APNs: --apns-connections / --apns-streams,
// else the provider's 2 x 100), the same latency, a recorded body of about the average size
// (APNs: with the apns-* headers the worker sent with it, but apns-id).
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "apns-emulator/emulator.hpp"
#include "fcm-emulator/emulator.hpp"
#include "h2load_apns.hpp"
#include "h2load_fcm.hpp"
#include "notify/apns/apns.hpp"
#include "notify/redis/redis.hpp"
#include "redis_server.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using json = nlohmann::json;
using notify::Id;

enum class Service { fcm, apns };

struct Config {
  Service service = Service::fcm;
  int runs = 3;
  std::vector<std::string> workloads = {"w1", "w2"};
  std::vector<int> latencies = {0, 20};
  bool small = false;
  bool h2load = true;
  std::size_t h2load_requests = 40000;
  std::vector<std::string> worker_args;
  bool redis_stats = false;
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr, "bench_worker: %s\n", why.c_str());
  std::exit(2);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string word;
  std::istringstream in(s);
  while (std::getline(in, word, sep))
    if (!word.empty()) out.push_back(word);
  return out;
}

Config parse(int argc, char** argv) {
  Config c;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) usage(a + " needs a value");
      return argv[++i];
    };
    if (a == "--service") {
      const std::string v = next();
      if (v == "fcm") c.service = Service::fcm;
      else if (v == "apns") c.service = Service::apns;
      else usage("--service is fcm or apns");
    } else if (a == "--runs") c.runs = std::max(1, std::stoi(next()));
    else if (a == "--small") c.small = true;
    else if (a == "--no-h2load") c.h2load = false;
    else if (a == "--redis-stats") c.redis_stats = true;
    else if (a == "--h2load-requests") c.h2load_requests = std::stoul(next());
    else if (a == "--worker-args") c.worker_args = split(next(), ' ');
    else if (a == "--workload") {
      const std::string v = next();
      if (v == "all") c.workloads = {"w1", "w2"};
      else if (v == "w1" || v == "w2") c.workloads = {v};
      else usage("--workload is w1, w2 or all");
    } else if (a == "--latency") {
      c.latencies.clear();
      for (const std::string& ms : split(next(), ',')) c.latencies.push_back(std::stoi(ms));
    } else usage("unknown argument " + a);
  }
  return c;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

// ---- the data ------------------------------------------------------------------------

constexpr int members_per_family = 4;
const char* const names[members_per_family] = {"엄마", "아빠", "민지", "준호"};

/// Member k (1..4) of family f: user id f*10+k, so ids are unique across families.
Id user_id(Id family, int k) { return family * 10 + k; }

/// A unique FCM-like registration token of about 160 characters, or a unique APNs-like
/// device token of 64 hex digits (the user id, then digits that vary with it).
std::string device_token(Service service, Id family, int k) {
  if (service == Service::apns) {
    static constexpr char hex[] = "0123456789abcdef";
    auto x = static_cast<std::uint64_t>(user_id(family, k));
    std::string t(16, '0');
    for (std::size_t i = 16; i-- > 0; x >>= 4) t[i] = hex[x & 15];
    for (std::uint64_t y = static_cast<std::uint64_t>(user_id(family, k)) * 0x9E3779B97F4A7C15u + 1; t.size() < 64;) {
      y = y * 6364136223846793005u + 1442695040888963407u;
      t += hex[(y >> 59) & 15];
    }
    return t;
  }
  std::string t = "f" + std::to_string(family) + "u" + std::to_string(k) + ":APA91b";
  while (t.size() < 163) t += static_cast<char>('A' + (t.size() * 7 + static_cast<std::size_t>(family) * 13 + k) % 26);
  return t;
}

/// What a workload must lead to: pushes keyed "token|screen|param" and inbox records
/// keyed "receiverId|screen", each with how often.
struct Expected {
  Service service = Service::fcm;
  std::map<std::string, int> pushes;
  std::map<std::string, int> inbox;
  std::size_t push_count = 0;
  std::size_t inbox_count = 0;

  void push(Id family, int k, const std::string& screen, const json& param) {
    ++pushes[device_token(service, family, k) + "|" + screen + "|" + (param.is_null() ? std::string() : param.dump())];
    ++push_count;
  }
  void record(Id family, int k, const std::string& screen) {
    ++inbox[std::to_string(user_id(family, k)) + "|" + screen];
    ++inbox_count;
  }
};

struct Workload {
  std::string name;
  std::vector<std::string> bodies;  // request envelopes, ids without the run prefix
  Expected expected;
};

/// w1: MESSAGE_TODAY, families 1..families in requests of 100 consecutive families.
Workload noon_burst(Service service, Id families) {
  Workload w{"w1", {}, {}};
  w.expected.service = service;
  for (Id first = 1; first <= families; first += 100) {
    json ids = json::array();
    for (Id f = first; f < first + 100 && f <= families; ++f) {
      ids.push_back(f);
      for (int k = 1; k <= members_per_family; ++k) w.expected.push(f, k, "MessageHome", nullptr);
    }
    w.bodies.push_back(json{{"type", "MESSAGE_TODAY"}, {"param", {{"familyIds", ids}}},
                            {"id", "today-" + std::to_string(first)}, {"createdAt", 1732345200000}}
                           .dump());
  }
  return w;
}

/// w2: `records` interactive requests over families 1..families. A block of 20 records
/// holds 6 that write inbox records (comments, photo, time capsule, letter or pedia
/// question: 16 pushes, 15 inbox records) and 14 that do not (6 EMOTION_CHOSEN, 4
/// NOTIFY_BIRTHDAY, 4 EMOTION_POKE: 34 pushes): 2.5 pushes and 0.75 inbox records each.
Workload interactive(Service service, int records, Id families) {
  Workload w{"w2", {}, {}};
  w.expected.service = service;
  Expected& e = w.expected;
  const std::string comment = "오늘 저녁은 다 같이 삼겹살 먹어요! 일찍 와요";
  for (int i = 0; i < records; ++i) {
    const Id f = 1 + (static_cast<Id>(i) * 37) % families;
    const int a = 1 + (i / 3) % members_per_family;  // the actor
    const int b = 1 + a % members_per_family;         // someone else
    const Id A = user_id(f, a), B = user_id(f, b);
    const int slot = i % 20, variant = (i / 20) % 4;
    auto others = [&](int except, const std::string& screen, const json& param, bool inbox) {
      for (int k = 1; k <= members_per_family; ++k) {
        if (k == except) continue;
        e.push(f, k, screen, param);
        if (inbox) e.record(f, k, screen);
      }
    };
    json r;
    if (slot == 0 || (slot == 1 && variant % 2 == 0)) {
      r = {{"type", "COMMENT_MESSAGE"},
           {"param", {{"messageFamId", 100000 + i}, {"authorId", A}, {"familyId", f}, {"commentPreview", comment}}}};
      others(a, "MessageFamily", {{"messageId", 100000 + i}}, true);
    } else if (slot == 1) {
      r = {{"type", "PEDIA_ANSWER"}, {"param", {{"familyId", f}, {"ownerId", A}}}};
      others(a, "FamilyPediaMember", {{"pediaId", A}}, true);
    } else if (slot == 2 && variant % 2 == 0) {
      r = {{"type", "COMMENT_PHOTO"},
           {"param", {{"photoId", 200000 + i}, {"authorId", A}, {"familyId", f}, {"commentPreview", comment}}}};
      others(a, "Photo", {{"photoId", 200000 + i}}, true);
    } else if (slot == 2) {
      r = {{"type", "PEDIA_EDIT_PHOTO"}, {"param", {{"familyId", f}, {"ownerId", A}, {"editorId", B}}}};
      others(b, "FamilyPediaMember", {{"pediaId", A}}, true);
    } else if (slot == 3) {
      r = {{"type", "PHOTO_CREATE"},
           {"param", {{"photoId", 300000 + i}, {"authorId", A}, {"familyId", f}, {"titlePreview", "제주도 가족 여행 🍊"}}}};
      e.push(f, a, "Photo", {{"photoId", 300000 + i}});  // the author: push only
      others(a, "Photo", {{"photoId", 300000 + i}}, true);
    } else if (slot == 4) {
      r = {{"type", "TIMECAPSULE_OPEN"},
           {"param", {{"timaCapsules", {{{"letterId", 400000 + i}, {"receiverId", A}, {"senderId", B}, {"familyId", f}}}}}}};
      e.push(f, a, "LetterReceived", {{"letterId", 400000 + i}});
      e.record(f, a, "LetterReceived");
      e.push(f, b, "LetterSent", {{"letterId", 400000 + i}});
      e.record(f, b, "LetterSent");
    } else if (slot == 5 && variant <= 1) {
      const bool capsule = variant == 1;
      r = {{"type", "LETTER_SEND"},
           {"param", {{"letterId", 500000 + i}, {"isTimeCapsule", capsule}, {"familyId", f}, {"receiverId", A}}}};
      const std::string screen = capsule ? "TimeCapsulesNav" : "LetterReceived";
      e.push(f, a, screen, capsule ? json() : json{{"letterId", 500000 + i}});
      e.record(f, a, screen);
    } else if (slot == 5) {
      r = {{"type", variant == 2 ? "PEDIA_QUESTION_CREATED" : "PEDIA_QUESTION_EDITTED"},
           {"param", {{"familyId", f}, {"ownerId", A}}}};
      e.push(f, a, "FamilyPediaMember", {{"pediaId", A}});
      e.record(f, a, "FamilyPediaMember");
    } else if (slot < 12) {
      r = {{"type", "EMOTION_CHOSEN"}, {"param", {{"familyId", f}, {"userId", A}}}};
      others(a, "MessageHome", {{"openEmotion", true}, {"userId", A}}, false);
    } else if (slot < 16) {
      r = {{"type", "NOTIFY_BIRTHDAY"},
           {"param", {{"familyIdsWithBirthdayUserId", {{{"familyId", f}, {"birthdayUserId", A}}}}}}};
      others(a, "LetterSend", {{"targetId", A}}, false);
    } else {
      r = {{"type", "EMOTION_POKE"}, {"param", {{"familyId", f}, {"userId", A}}}};
      e.push(f, a, "MessageHome", {{"openEmotion", true}, {"userId", A}});
    }
    r["id"] = "i-" + std::to_string(i);
    w.bodies.push_back(r.dump());
  }
  return w;
}

/// HSET family:<f> for families 1..n, 1,000 families per round trip. FCM: the first
/// version's form; APNs: the v2 form with one iOS device.
void load_members(notify::redis::Connection& conn, Service service, Id families) {
  std::vector<notify::redis::Command> batch;
  for (Id f = 1; f <= families; ++f) {
    notify::redis::Command c = {"HSET", "family:" + std::to_string(f)};
    for (int k = 1; k <= members_per_family; ++k) {
      c.push_back("user:" + std::to_string(user_id(f, k)));
      const std::string token = device_token(service, f, k);
      c.push_back(service == Service::apns
                      ? json{{"userName", names[k - 1]},
                             {"devices", {{{"token", token}, {"provider", "apns"}, {"platform", "ios"}}}},
                             {"mktPushAgreed", true}}
                            .dump()
                      : json{{"userName", names[k - 1]}, {"fcmToken", token}, {"mktPushAgreed", true}}.dump());
    }
    batch.push_back(std::move(c));
    if (batch.size() == 1000 || f == families) {
      auto r = conn.pipeline(batch);
      if (!r) throw std::runtime_error("loading members: " + r.error().message);
      batch.clear();
    }
  }
}

// ---- one run -------------------------------------------------------------------------

struct RunResult {
  std::size_t pushes = 0;
  double wall_s = 0;          // worker start to exit
  double push_span_s = 0;     // first to last messages:send, as the emulator saw them
  double startup_s = 0;       // worker start to its first push
  double tail_s = 0;          // its last push to its exit
  int max_streams = 0;        // most messages:send in flight at once, as the emulator saw
  int sessions = 0;           // HTTP/2 connections the emulator saw opened
  double cpu_s = 0;           // user + system of the worker
  double max_rss_mib = 0;
  std::string body_sample;    // a request body of about the average size
  std::string token_sample;   // APNs: its device token
  std::vector<std::pair<std::string, std::string>> headers_sample;  // APNs: its apns-* headers but apns-id
};

/// Thrown by fail(), caught in main: the servers stop and their directories go.
struct Failed {};

/// Fails the benchmark loudly (status 1), with the end of the worker's stderr.
[[noreturn]] void fail(const std::string& what, const std::string& dir = {}) {
  std::fprintf(stderr, "bench_worker: FAILED: %s\n", what.c_str());
  if (!dir.empty()) {
    std::fprintf(stderr, "--- the worker's stderr (last lines):\n");
    std::ifstream in(dir + "/worker.err");
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    for (std::size_t i = lines.size() > 20 ? lines.size() - 20 : 0; i < lines.size(); ++i)
      std::fprintf(stderr, "%s\n", lines[i].c_str());
  }
  throw Failed{};
}

std::string diff(const std::map<std::string, int>& got, const std::map<std::string, int>& expected) {
  std::string out;
  std::size_t shown = 0, total = 0;
  auto note = [&](const std::string& key, int g, int x) {
    const std::size_t bar = key.find('|');  // a token is long: its start is enough
    const std::string shown_key = bar > 24 && bar != std::string::npos ? key.substr(0, 24) + "..." + key.substr(bar) : key;
    if (++total <= 10) out += "  " + shown_key + ": got " + std::to_string(g) + ", expected " + std::to_string(x) + "\n";
    ++shown;
  };
  for (const auto& [key, n] : expected)
    if (auto it = got.find(key); it == got.end() || it->second != n) note(key, it == got.end() ? 0 : it->second, n);
  for (const auto& [key, n] : got)
    if (!expected.contains(key)) note(key, n, 0);
  return out + "  (" + std::to_string(shown) + " keys differ)\n";
}

/// Starts the worker from a small helper process forked at the very start of main: a
/// child's ru_maxrss includes what it inherited at fork time (Linux keeps the pre-exec
/// high-water mark), and this process grows big parsing the emulator's records.
class Launcher {
 public:
  Launcher() {
    int to[2], from[2];
    if (::pipe2(to, O_CLOEXEC) != 0 || ::pipe2(from, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      ::close(to[1]);
      ::close(from[0]);
      serve(to[0], from[1]);
      ::_exit(0);
    }
    ::close(to[0]);
    ::close(from[1]);
    to_ = to[1];
    from_ = from[0];
  }
  ~Launcher() {
    ::close(to_);  // the helper's read fails: it exits
    ::close(from_);
    ::waitpid(pid_, nullptr, 0);
  }
  Launcher(const Launcher&) = delete;
  Launcher& operator=(const Launcher&) = delete;

  /// Runs {out_path, err_path, program, args...}; the exit status (128 + signal, -1 when
  /// it was killed after 10 minutes) and its rusage.
  int run(const std::vector<std::string>& argv, rusage& usage) {
    std::string msg;
    for (const std::string& a : argv) msg += a + '\0';
    const auto n = static_cast<std::uint32_t>(msg.size());
    if (!write_all(to_, &n, sizeof n) || !write_all(to_, msg.data(), n)) throw std::runtime_error("launcher gone");
    int status = 0;
    if (!read_all(from_, &status, sizeof status) || !read_all(from_, &usage, sizeof usage))
      throw std::runtime_error("launcher gone");
    return status;
  }

 private:
  static bool write_all(int fd, const void* p, std::size_t n) {
    for (auto c = static_cast<const char*>(p); n > 0;) {
      const ssize_t w = ::write(fd, c, n);
      if (w <= 0) return false;
      c += w, n -= static_cast<std::size_t>(w);
    }
    return true;
  }
  static bool read_all(int fd, void* p, std::size_t n) {
    for (auto c = static_cast<char*>(p); n > 0;) {
      const ssize_t r = ::read(fd, c, n);
      if (r <= 0) return false;
      c += r, n -= static_cast<std::size_t>(r);
    }
    return true;
  }

  [[noreturn]] static void serve(int in, int out) {
    for (;;) {
      std::uint32_t n = 0;
      if (!read_all(in, &n, sizeof n)) ::_exit(0);
      std::string msg(n, '\0');
      if (!read_all(in, msg.data(), n)) ::_exit(0);
      std::vector<std::string> argv;
      for (std::size_t p = 0; p < msg.size();) {
        const std::size_t q = msg.find('\0', p);
        argv.push_back(msg.substr(p, q - p));
        p = q + 1;
      }
      rusage usage{};
      int status = launch(argv, usage);
      if (!write_all(out, &status, sizeof status) || !write_all(out, &usage, sizeof usage)) ::_exit(0);
    }
  }

  static int launch(std::vector<std::string> argv, rusage& usage) {
    const pid_t pid = ::fork();
    if (pid < 0) return 126;
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      const int in = ::open("/dev/null", O_RDONLY);
      const int o = ::open(argv[0].c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      const int e = ::open(argv[1].c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (in < 0 || o < 0 || e < 0) ::_exit(126);
      ::dup2(in, 0);
      ::dup2(o, 1);
      ::dup2(e, 2);
      std::vector<char*> args;
      for (std::size_t i = 2; i < argv.size(); ++i) args.push_back(argv[i].data());
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    const auto deadline = Clock::now() + std::chrono::minutes(10);
    int status = 0;
    while (::wait4(pid, &status, WNOHANG, &usage) != pid) {
      if (Clock::now() > deadline) {
        ::kill(pid, SIGKILL);
        ::wait4(pid, &status, 0, &usage);
        return -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  pid_t pid_ = -1;
  int to_ = -1;
  int from_ = -1;
};

class Bench {
 public:
  Bench(const Config& config, Id families, Launcher& launcher)
      : config_(config), launcher_(launcher) {
    if (config.service == Service::apns)
      apns_.emplace(notify::test::ApnsEmulatorOptions{
          .tls = true, .latency_ms = 0, .max_concurrent_streams = 1000, .record = true});
    else
      fcm_.emplace(notify::test::EmulatorOptions{.tls = true, .latency_ms = 0, .max_concurrent_streams = 1000, .record = true});
    conn_.emplace(*notify::redis::parse_url(redis_.url()));
    char tmpl[] = "/tmp/notify-bench-worker-XXXXXX";
    if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    load_members(*conn_, config.service, families);
  }
  ~Bench() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  Bench(const Bench&) = delete;
  Bench& operator=(const Bench&) = delete;

  /// The emulator in use: FCM's unless --service apns.
  notify::test::FcmEmulator& fcm() { return *fcm_; }
  notify::test::ApnsEmulator& apns() { return *apns_; }
  void reset_emulator() { fcm_ ? fcm_->reset() : apns_->reset(); }
  const std::string& dir() const { return dir_; }

  RunResult run(const Workload& w, int latency) {
    const std::string tag = "r" + std::to_string(++run_count_);
    const std::string stream = "notify-" + tag, inbox = "inbox-" + tag;
    // Publish: fresh request ids, so no "already sent" marker of an earlier run applies.
    {
      notify::redis::QueueOptions q;
      q.stream = stream;
      q.consumer = "bench-producer";
      notify::redis::Queue producer(*notify::redis::parse_url(redis_.url()), q);
      std::vector<std::string> bodies;
      for (const std::string& b : w.bodies) {
        json r = json::parse(b);
        r["id"] = tag + "-" + r["id"].get<std::string>();
        bodies.push_back(r.dump());
        if (bodies.size() == 500) {
          if (auto s = producer.send(bodies); !s) fail("publishing: " + s.error().message);
          bodies.clear();
        }
      }
      if (!bodies.empty())
        if (auto s = producer.send(bodies); !s) fail("publishing: " + s.error().message);
    }
    reset_emulator();
    const json config = {{"latency_ms", latency}};
    fcm_ ? fcm_->configure(config) : apns_->configure(config);
    if (config_.redis_stats) (void)conn_->command({"CONFIG", "RESETSTAT"});

    std::vector<std::string> argv = {NOTIFY_WORKER_PROGRAM, "--queue", redis_.url() + "/" + stream, "--members",
                                     redis_.url()};
    if (fcm_) {
      argv.insert(argv.end(), {"--push", "fcm", "--fcm-credentials", fcm_->service_account_file(), "--fcm-endpoint",
                               fcm_->url(), "--ca-file", fcm_->ca_file()});
    } else {
      const notify::test::ApnsEmulatorOptions& o = apns_->options();
      argv.insert(argv.end(), {"--push", "apns", "--apns-key", apns_->key_file(), "--apns-key-id", o.key_id,
                               "--apns-team-id", o.team_id, "--apns-topic", o.topic, "--apns-endpoint", apns_->url(),
                               "--ca-file", apns_->ca_file()});
    }
    argv.insert(argv.end(), {"--inbox", redis_.url() + "/" + inbox, "--drain"});
    argv.insert(argv.end(), config_.worker_args.begin(), config_.worker_args.end());
    RunResult r;
    // The FCM emulator's t_ms is CLOCK_MONOTONIC (as steady_clock on Linux), the APNs
    // emulator's the Unix time in milliseconds (Date.now()).
    const auto t0 = Clock::now();
    const double t0_ms = fcm_ ? std::chrono::duration<double, std::milli>(t0.time_since_epoch()).count()
                              : std::chrono::duration<double, std::milli>(
                                    std::chrono::system_clock::now().time_since_epoch()).count();
    rusage usage{};
    const int status = spawn_and_wait(argv, usage);
    const auto t1 = Clock::now();
    r.wall_s = std::chrono::duration<double>(t1 - t0).count();
    auto secs = [](timeval t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
    r.cpu_s = secs(usage.ru_utime) + secs(usage.ru_stime);
    r.max_rss_mib = static_cast<double>(usage.ru_maxrss) / 1024.0;
    if (status != 0) fail(w.name + " run " + tag + ": notify-worker exited with status " + std::to_string(status), dir_);
    if (config_.redis_stats) print_redis_stats(w.name + " " + std::to_string(latency) + " ms " + tag);
    check(w, tag, inbox, stream, t0_ms, r);
    return r;
  }

 private:
  /// Runs argv[0] with stdout and stderr to files in dir_ (through the launcher); its
  /// exit status and rusage.
  int spawn_and_wait(std::vector<std::string> argv, rusage& usage) {
    argv.insert(argv.begin(), {dir_ + "/worker.out", dir_ + "/worker.err"});
    const int status = launcher_.run(argv, usage);
    if (status < 0) fail("notify-worker did not drain within 10 minutes", dir_);
    return status;
  }

  /// The commands Redis served during the run (INFO commandstats): calls and microseconds.
  void print_redis_stats(const std::string& what) {
    auto info = conn_->command({"INFO", "commandstats"});
    if (!info) return;
    std::string line;
    std::istringstream in(info->str);
    long total = 0;
    for (std::string l; std::getline(in, l);) {
      unsigned long calls = 0, usec = 0;
      char name[64] = {};
      if (std::sscanf(l.c_str(), "cmdstat_%63[^:]:calls=%lu,usec=%lu", name, &calls, &usec) != 3) continue;
      if (std::string(name) == "info" || std::string(name) == "config") continue;
      line += " " + std::string(name) + "=" + std::to_string(calls) + "/" + std::to_string(usec / 1000) + "ms";
      total += static_cast<long>(calls);
    }
    std::printf("  redis %s: %ld calls (calls/server ms):%s\n", what.c_str(), total, line.c_str());
  }

  /// Compares what the emulator and the inbox stream saw with what the workload must
  /// lead to; fills the timings the emulator saw.
  void check(const Workload& w, const std::string& tag, const std::string& inbox, const std::string& stream,
             double started_ms, RunResult& r) {
    const json records = fcm_ ? fcm_->requests() : apns_->requests();
    std::map<std::string, int> got;
    double first = 0, last = 0;
    std::size_t not_ok = 0, bytes = 0;
    for (const json& rec : records) {
      if (!rec["status"].is_number() || rec["status"].get<int>() != 200) ++not_ok;
      const double t = rec["t_ms"].get<double>();
      first = &rec == &records.front() ? t : std::min(first, t);
      last = &rec == &records.front() ? t : std::max(last, t);
      const std::string& body = rec["body"].get_ref<const std::string&>();
      bytes += body.size();
      if (apns_) {
        // The device token is the path's; screen and param are the payload's own keys.
        const json p = json::parse(body);
        const std::string param = p.contains("param") ? json::parse(p["param"].get<std::string>()).dump() : "";
        ++got[rec.value("token", std::string()) + "|" + p.value("screen", std::string()) + "|" + param];
        continue;
      }
      const json m = json::parse(body)["message"];
      const json& data = m.contains("data") ? m["data"] : json::object();
      const std::string param = data.contains("param") ? json::parse(data["param"].get<std::string>()).dump() : "";
      ++got[m.value("token", std::string()) + "|" + data.value("screen", std::string()) + "|" + param];
    }
    if (not_ok > 0)
      fail(w.name + " run " + tag + ": " + std::to_string(not_ok) + (apns_ ? " /3/device" : " messages:send") +
               " answers were not 200",
           dir_);
    if (records.size() != w.expected.push_count || got != w.expected.pushes)
      fail(w.name + " run " + tag + ": the emulator received " + std::to_string(records.size()) + " pushes, expected " +
               std::to_string(w.expected.push_count) + " (each exactly once):\n" + diff(got, w.expected.pushes),
           dir_);
    r.pushes = records.size();
    r.push_span_s = (last - first) / 1000.0;
    r.startup_s = (first - started_ms) / 1000.0;
    r.tail_s = r.wall_s - r.startup_s - r.push_span_s;
    const json stats = fcm_ ? fcm_->stats() : apns_->stats();
    r.max_streams = stats.value("max_concurrent_streams", 0);
    r.sessions = stats.value("sessions_opened", 0);
    // The body closest to the average size, for h2load.
    const double mean = records.empty() ? 0 : static_cast<double>(bytes) / static_cast<double>(records.size());
    double best = 1e18;
    const json* sample = nullptr;
    for (const json& rec : records) {
      const auto& body = rec["body"].get_ref<const std::string&>();
      const double d = std::abs(static_cast<double>(body.size()) - mean);
      if (d < best) best = d, r.body_sample = body, sample = &rec;
    }
    if (apns_ && sample) {
      r.token_sample = (*sample)["token"].get<std::string>();
      for (const auto& [name, value] : (*sample)["headers"].items())
        if (name != "apns-id") r.headers_sample.emplace_back(name, value.get<std::string>());
    }

    std::map<std::string, int> inbox_got;
    std::size_t inbox_count = 0;
    for (std::string from = "-";;) {
      auto reply = conn_->command({"XRANGE", inbox, from, "+", "COUNT", "1000"});
      if (!reply) fail("XRANGE " + inbox + ": " + reply.error().message);
      if (reply->elements.empty()) break;
      for (const auto& entry : reply->elements) {
        const auto& fields = entry.elements[1].elements;
        for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
          if (fields[i].str != "body") continue;
          for (const json& item : json::parse(fields[i + 1].str)) {
            ++inbox_got[std::to_string(item["receiverId"].get<Id>()) + "|" + item.value("screen", std::string())];
            ++inbox_count;
          }
        }
      }
      from = "(" + reply->elements.back().elements[0].str;
    }
    if (inbox_got != w.expected.inbox)
      fail(w.name + " run " + tag + ": " + std::to_string(inbox_count) + " inbox records, expected " +
               std::to_string(w.expected.inbox_count) + ":\n" + diff(inbox_got, w.expected.inbox),
           dir_);
    for (const std::string& s : {stream, stream + ":dead", stream + ":delayed"}) {
      auto type = conn_->command({"TYPE", s});
      if (!type || type->str == "none") continue;
      auto n = conn_->command({type->str == "zset" ? "ZCARD" : "XLEN", s});
      if (n && n->integer != 0) fail(w.name + " run " + tag + ": " + s + " still holds " + std::to_string(n->integer) + " entries", dir_);
    }
  }

  Config config_;
  Launcher& launcher_;
  notify::test::RedisServer redis_;
  std::optional<notify::test::FcmEmulator> fcm_;    // --service fcm
  std::optional<notify::test::ApnsEmulator> apns_;  // --service apns
  std::optional<notify::redis::Connection> conn_;
  std::string dir_;
  int run_count_ = 0;
};

/// --fcm-connections / --fcm-streams from the worker's arguments, else its defaults.
std::size_t worker_flag(const Config& c, const std::string& flag, std::size_t fallback) {
  for (std::size_t i = 0; i + 1 < c.worker_args.size(); ++i)
    if (c.worker_args[i] == flag) return std::stoul(c.worker_args[i + 1]);
  return fallback;
}

}  // namespace

int run_benchmark(const Config& c, Launcher& launcher);

int main(int argc, char** argv) {
  const Config c = parse(argc, argv);
  Launcher launcher;  // first, while this process is small
  try {
    return run_benchmark(c, launcher);
  } catch (const Failed&) {
    return 1;
  }
}

int run_benchmark(const Config& c, Launcher& launcher) {
  const Id w1_families = c.small ? 1000 : 10000, w2_families = c.small ? 50 : 500;
  const int w2_records = c.small ? 200 : 2000;

  std::vector<Workload> workloads;
  for (const std::string& name : c.workloads)
    workloads.push_back(name == "w1" ? noon_burst(c.service, w1_families)
                                     : interactive(c.service, w2_records, w2_families));

  const bool apns = c.service == Service::apns;
  std::printf("bench_worker: notify-worker --push %s --drain, TLS %semulator, %d run(s) per line, medians; load average %s\n",
              apns ? "apns" : "fcm", apns ? "APNs " : "", c.runs, load_average().c_str());
  std::string extra;
  for (const std::string& a : c.worker_args) extra += " " + a;
  std::printf("worker args:%s\n", extra.empty() ? " (defaults)" : extra.c_str());
  for (const Workload& w : workloads)
    std::printf("%s: %zu requests, %zu pushes, %zu inbox records\n", w.name.c_str(), w.bodies.size(),
                w.expected.push_count, w.expected.inbox_count);

  const auto load0 = Clock::now();
  Bench bench(c, std::max(w1_families, w2_families), launcher);
  std::printf("redis-server and emulator up, %lld families of %d members loaded in %.1f s\n",
              static_cast<long long>(std::max(w1_families, w2_families)), members_per_family,
              std::chrono::duration<double>(Clock::now() - load0).count());

  std::printf("\n%-4s %7s %7s %10s %10s %7s %7s %7s %10s %7s %10s %10s %9s %6s\n", "", "latency", "pushes",
              "pushes/s", "wall p/s", "start s", "tail s", "streams", "h2load/s", "ratio", "CPU s/10k", "h2 s/10k",
              "RSS MiB", "load1");
  std::string command;
  for (const Workload& w : workloads) {
    for (int latency : c.latencies) {
      std::vector<double> rate, wall_rate, startup, tail, streams, cpu;
      double rss = 0;
      std::string sample, sample_token;
      std::vector<std::pair<std::string, std::string>> sample_headers;
      std::size_t pushes = 0;
      for (int i = 0; i < c.runs; ++i) {
        const RunResult r = bench.run(w, latency);
        pushes = r.pushes;
        rate.push_back(r.push_span_s > 0 ? static_cast<double>(r.pushes) / r.push_span_s : 0);
        wall_rate.push_back(static_cast<double>(r.pushes) / r.wall_s);
        startup.push_back(r.startup_s);
        tail.push_back(r.tail_s);
        streams.push_back(r.max_streams);
        cpu.push_back(r.cpu_s / static_cast<double>(r.pushes) * 10000.0);
        rss = std::max(rss, r.max_rss_mib);
        sample = r.body_sample;
        sample_token = r.token_sample;
        sample_headers = r.headers_sample;
      }
      double ceiling = 0, ceiling_cpu = 0;
      if (c.h2load) {
        notify::bench::H2loadRun run;
        run.requests = c.h2load_requests;
        if (apns) {
          run.connections = worker_flag(c, "--apns-connections", notify::apns::Options{}.connections);
          run.streams = worker_flag(c, "--apns-streams", notify::apns::Options{}.streams_per_connection);
        } else {
          run.connections = worker_flag(c, "--fcm-connections", 8);
          run.streams = worker_flag(c, "--fcm-streams", 50);
        }
        run.body_file = bench.dir() + "/body.json";
        std::ofstream(run.body_file) << sample;
        bench.reset_emulator();
        std::vector<double> h2, h2_cpu;
        const std::string credential =  // one for every run
            apns ? notify::bench::provider_token(bench.apns()) : notify::bench::access_token(bench.fcm());
        for (int i = 0; i < c.runs; ++i) {
          const notify::bench::H2loadResult r =
              apns ? notify::bench::h2load_rate(bench.apns(), run, sample_headers, credential, sample_token, command)
                   : notify::bench::h2load_rate(bench.fcm(), run, credential, command);
          h2.push_back(r.rate);
          if (r.rate > 0) h2_cpu.push_back(r.cpu_seconds / static_cast<double>(run.requests) * 10000.0);
        }
        ceiling = median(h2);
        ceiling_cpu = h2_cpu.empty() ? 0 : median(h2_cpu);
        if (ceiling == 0) std::fprintf(stderr, "h2load did not complete: %s\n", command.c_str());
      }
      char h2[32] = "-", ratio[32] = "-", h2_cpu[32] = "-";
      if (ceiling > 0) {
        std::snprintf(h2, sizeof h2, "%.0f", ceiling);
        std::snprintf(ratio, sizeof ratio, "%.0f%%", 100.0 * median(rate) / ceiling);
        std::snprintf(h2_cpu, sizeof h2_cpu, "%.3f", ceiling_cpu);
      }
      std::string load = load_average();
      std::printf("%-4s %4d ms %7zu %10.0f %10.0f %7.2f %7.2f %7.0f %10s %7s %10.3f %10s %9.1f %6s\n",
                  w.name.c_str(), latency, pushes, median(rate), median(wall_rate), median(startup), median(tail),
                  median(streams), h2, ratio, median(cpu), h2_cpu, rss, load.substr(0, load.find(' ')).c_str());
      std::fflush(stdout);
    }
  }
  if (apns)
    std::printf("\npushes/s: first to last POST /3/device as the emulator saw them; wall p/s: worker start to exit;\n"
                "start s: worker start to its first push; tail s: its last push to its exit; streams: most pushes in\n"
                "flight at once at the emulator; h2load/s: the emulator's ceiling, same latency, a payload of the\n"
                "average size with its apns-* headers, the provider's %zu x %zu connections x streams; ratio: pushes/s\n"
                "/ h2load; CPU: the worker's user+sys; h2 s/10k: h2load's own CPU per 10k requests, in the same run (the\n"
                "machine's yardstick); RSS: the worker's peak (max over runs). Every run checked: each push exactly\n"
                "once, every inbox record.\n",
                notify::apns::Options{}.connections, notify::apns::Options{}.streams_per_connection);
  else
    std::printf("\npushes/s: first to last messages:send as the emulator saw them; wall p/s: worker start to exit;\n"
                "start s: worker start to its first push; tail s: its last push to its exit; streams: most pushes in\n"
                "flight at once at the emulator; h2load/s: the emulator's ceiling, same latency, a body of the\n"
                "average size, the worker's connections x streams; ratio: pushes/s / h2load; CPU: the worker's user+sys;\n"
                "h2 s/10k: h2load's own CPU per 10k requests, in the same run (the machine's yardstick); RSS: the\n"
                "worker's peak (max over runs). Every run checked: each push exactly once, every inbox record.\n");
  if (!command.empty()) std::printf("h2load: %s\n", command.c_str());
  return 0;
}
