// SPDX-License-Identifier: MIT
// notify-worker: the long-running consumer. Receives batches from a queue, plans them
// against the member store, pushes, publishes inbox records, and settles each record.
// Transports: a Redis Streams queue, member store and idempotency store (when built with
// notify::redis), or in memory (a JSON-lines file as the queue, a members JSON file as
// the store); the push provider logs (or drops) each push, or sends it to FCM HTTP v1 (when
// built with notify::fcm).

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <iostream>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "notify/memory/memory.hpp"
#include "notify/processor.hpp"
#if NOTIFY_WITH_REDIS
#include "notify/redis/redis.hpp"
#endif
#if NOTIFY_WITH_FCM
#include "notify/fcm/fcm.hpp"
#endif
#if NOTIFY_WITH_SQS
#include "notify/sqs/sqs.hpp"
#endif

namespace {

constexpr std::string_view program = "notify-worker";

constexpr std::string_view usage_text = R"(usage: notify-worker --queue URL --members URL|FILE --push log|null|fcm [options]

  --queue URL             redis://HOST:PORT/STREAM[?db=N]: a Redis Streams queue, consumer
                          group "notify" (streams STREAM:high then STREAM, retries in
                          STREAM:delayed, dead letters in STREAM:dead);
                          https://sqs.REGION.amazonaws.com/ACCOUNT/NAME[.fifo]: an SQS
                          queue (retries by visibility timeout, dead letters to the
                          queue's RedrivePolicy target or --dead-letter); credentials and
                          region from AWS_* variables or the container endpoint;
                          memory:FILE: a JSON-lines file of request bodies ('-' is stdin)
  --members URL|FILE      redis://HOST:PORT[/DB]: the member store (hashes family:<id>);
                          the "already sent" markers (notify:sent:*) live there too;
                          FILE or memory:FILE: the member store as JSON, as `notifyctl
                          render` reads it (markers then live in this process)
  --push log|null|fcm     log: print each push to stdout; null: accept every push silently;
                          fcm: send each push to FCM HTTP v1 (needs --fcm-credentials)
  --fcm-credentials FILE  the service-account JSON key file (project_id, client_email,
                          private_key; its token_uri is where access tokens come from)
  --fcm-endpoint URL      the FCM API (default https://fcm.googleapis.com); an http://
                          URL speaks HTTP/2 in cleartext, for tests
  --ca-file FILE          PEM CA certificates trusted instead of the system's, for the
                          FCM endpoint and the token endpoint (TLS is always verified)
  --fcm-connections N     HTTP/2 connections to FCM, kept open (default 8)
  --fcm-streams N         concurrent requests per connection (default 50)
  --inbox log|null|URL    inbox records: log (default) prints them to stdout, null drops
                          them, redis://HOST:PORT/STREAM appends each request's records to
                          that stream (one entry per request, field "body")
  --dead-letter NAME|URL  SQS: the dead-letter queue's URL (default: the queue's
                          RedrivePolicy target); Redis: the queue keeps dead letters in
                          STREAM:dead, and this flag may only name that stream
  --drain                 exit 0 once the queue is empty and nothing is in flight
  --log-format text|json  events on stderr, one per line (default text: key=value pairs)
  --batch-size N          records per receive, 1 to 10 (default 10)
  --claim-idle-ms N       take over records another consumer has held unsettled for N ms
                          (it is presumed dead); default 30000, keep it above the
                          longest batch
  --push-delay-ms N       wait N ms before each batch of pushes (to try out shutdown and
                          crashes)

Every flag can also be set as NOTIFY_<FLAG> (NOTIFY_PUSH=log, NOTIFY_DRAIN=1,
NOTIFY_CLAIM_IDLE_MS=500, NOTIFY_FCM_CREDENTIALS=FILE, ...); the command line wins.
Credentials, access tokens and full device tokens
are never logged (events show tokens shortened).
SIGTERM or SIGINT: finish and settle the batch in flight, then exit 0.

stdout: "push token=... title=... body=... [screen=...] [param=...]" per push,
        "inbox <JSON array>" per request with inbox records (--inbox log), and
        "dead_letter id=... reason=... body=..." per record this worker dead-lettered.
exit status: 0 drained or stopped by SIGTERM/SIGINT, 1 stopped on an error (such as
Redis refusing the credentials, or FCM's token endpoint rejecting the service account:
the records in hand are kept for a later run, never dead-lettered for it), 64 usage or
unsupported transport, 65 malformed members file or service-account file, 66 unreadable
file.
)";

std::atomic<bool> stop_requested{false};
static_assert(std::atomic<bool>::is_always_lock_free, "the signal handler needs a lock-free flag");

extern "C" void on_stop_signal(int) { stop_requested.store(true); }

int usage_error(std::string_view message) {
  cli::complain(program, message);
  std::cerr << '\n' << usage_text;
  return cli::exit_usage;
}

int not_supported(std::string_view what) {
  cli::complain(program, std::string(what) + ": not supported yet in this build");
  return cli::exit_usage;
}

/// Prints events one per line on stderr: key=value pairs, or one JSON object.
class EventLog {
 public:
  explicit EventLog(bool json) : json_(json) {}

  void operator()(const notify::Event& e) const {
    std::string line;
    if (json_) {
      nlohmann::ordered_json j;
      j["ts"] = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
      j["step"] = e.step;
      if (!e.request.empty()) j["request"] = e.request;
      if (!e.type.empty()) j["type"] = e.type;
      if (!e.token.empty()) j["token"] = e.token;
      if (!e.detail.empty()) j["detail"] = e.detail;
      line = j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    } else {
      append_pair(line, "step", e.step);
      append_pair(line, "request", e.request);
      append_pair(line, "type", e.type);
      append_pair(line, "token", e.token);
      append_pair(line, "detail", e.detail);
    }
    line += '\n';
    std::cerr << line << std::flush;
  }

 private:
  /// key=value, the value quoted when it has spaces, quotes or '=' (logfmt).
  static void append_pair(std::string& out, std::string_view key, std::string_view value) {
    if (value.empty()) return;
    if (!out.empty()) out += ' ';
    out += key;
    out += '=';
    if (value.find_first_of(" \"=\\") == std::string_view::npos) {
      out += value;
      return;
    }
    out += '"';
    for (char c : value) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }

  bool json_;
};

/// A push provider that prints each push (log) or drops it (null); every push succeeds.
/// With a delay it waits before each batch, as a slow provider would.
class PrintingPushProvider {
 public:
  PrintingPushProvider(bool print, std::chrono::milliseconds delay) : print_(print), delay_(delay) {}

  std::vector<notify::PushResult> send(std::span<const notify::Push> pushes) {
    if (!pushes.empty() && delay_.count() > 0) std::this_thread::sleep_for(delay_);
    std::vector<notify::PushResult> out;
    out.reserve(pushes.size());
    for (const notify::Push& p : pushes) {
      ++count_;
      if (print_) {
        const notify::Message& m = *p.message;
        std::string line = "push token=" + notify::short_token(p.token);
        line += " title=";
        line += m.title;
        line += " body=";
        line += m.body;
        if (m.link.has_screen()) {
          line += " screen=";
          line += notify::to_string(m.link.screen);
        }
        if (m.link.has_param()) {
          line += " param=";
          m.link.append_param_json(line);
        }
        line += '\n';
        std::cout << line << std::flush;  // one line at a time: a crash loses none
      }
      out.push_back({notify::PushStatus::sent, {}, (print_ ? "log/" : "null/") + std::to_string(count_)});
    }
    return out;
  }

  std::size_t count() const noexcept { return count_; }

 private:
  bool print_;
  std::chrono::milliseconds delay_;
  std::size_t count_ = 0;
};

/// Prints each request's inbox records as "inbox <JSON array>" (log), or drops them (null).
class PrintingInbox {
 public:
  explicit PrintingInbox(bool print = true) : print_(print) {}

  notify::Result<void> publish(std::span<const std::string> bodies) {
    if (!print_) return {};
    for (const std::string& b : bodies) std::cout << "inbox " << b << '\n';
    std::cout << std::flush;
    return {};
  }

 private:
  bool print_;
};

static_assert(notify::PushProvider<PrintingPushProvider>);
static_assert(notify::InboxSink<PrintingInbox>);

#if NOTIFY_WITH_FCM
using PusherImpl = std::variant<PrintingPushProvider, notify::fcm::PushProvider>;
constexpr bool with_fcm = true;
#else
using PusherImpl = std::variant<PrintingPushProvider>;
constexpr bool with_fcm = false;
#endif

/// The push provider in use; counts the pushes handed to it (retries included).
struct AnyPusher {
  PusherImpl impl;
  std::size_t count = 0;

  std::vector<notify::PushResult> send(std::span<const notify::Push> pushes) {
    count += pushes.size();
    return std::visit([&](auto& p) { return p.send(pushes); }, impl);
  }
};

static_assert(notify::PushProvider<AnyPusher>);

// The transports this build can use, chosen at run time from the flags.
#if NOTIFY_WITH_REDIS && NOTIFY_WITH_SQS
using QueueImpl = std::variant<notify::memory::Queue, notify::redis::Queue, notify::sqs::Queue>;
#elif NOTIFY_WITH_REDIS
using QueueImpl = std::variant<notify::memory::Queue, notify::redis::Queue>;
#else
using QueueImpl = std::variant<notify::memory::Queue>;
#endif
#if NOTIFY_WITH_SQS
constexpr bool with_sqs = true;
#else
constexpr bool with_sqs = false;
#endif
#if NOTIFY_WITH_REDIS
using StoreImpl = std::variant<notify::memory::MemberStore, notify::redis::MemberStore>;
using LedgerImpl = std::variant<notify::memory::IdempotencyStore, notify::redis::IdempotencyStore>;
using InboxImpl = std::variant<PrintingInbox, notify::redis::StreamInbox>;
constexpr bool with_redis = true;
#else
using StoreImpl = std::variant<notify::memory::MemberStore>;
using LedgerImpl = std::variant<notify::memory::IdempotencyStore>;
using InboxImpl = std::variant<PrintingInbox>;
constexpr bool with_redis = false;
#endif

/// The queue in use. Counts what it settles, and prints each record it dead-letters.
class AnyQueue {
 public:
  QueueImpl impl;

  notify::Result<std::vector<notify::QueueRecord>> receive(std::size_t max, std::chrono::milliseconds wait) {
    return std::visit([&](auto& q) { return q.receive(max, wait); }, impl);
  }
  notify::Result<void> settle(std::span<const notify::Settlement> settlements) {
    auto r = std::visit([&](auto& q) { return q.settle(settlements); }, impl);
    if (!r) return r;
    for (const notify::Settlement& s : settlements) {
      ++settled;
      switch (s.outcome.disposition) {
        case notify::Disposition::done: ++done; break;
        case notify::Disposition::retry: ++retried; break;
        case notify::Disposition::dead_letter:
          ++dead;
          std::cout << "dead_letter id=" << s.record->id << " reason=" << s.outcome.reason
                    << " body=" << s.record->body << '\n'
                    << std::flush;
          break;
      }
    }
    return r;
  }
  notify::Result<void> send(std::span<const std::string> bodies) {
    return std::visit([&](auto& q) { return q.send(bodies); }, impl);
  }
  /// Records that will still come back (for --drain); a failure counts as "some".
  std::size_t pending() {
    return std::visit([](auto& q) -> std::size_t { return q.pending(); }, impl);
  }

  std::size_t settled = 0, done = 0, retried = 0, dead = 0;
};

/// The member store in use.
struct AnyStore {
  StoreImpl impl;

  notify::Result<notify::FamilyLookup> families(std::span<const notify::Id> ids) {
    return std::visit([&](auto& s) { return s.families(ids); }, impl);
  }
  notify::Result<void> set_member(notify::Id family, const notify::Member& m) {
    return std::visit([&](auto& s) { return s.set_member(family, m); }, impl);
  }
  notify::Result<void> remove_member(notify::Id family, notify::Id user) {
    return std::visit([&](auto& s) { return s.remove_member(family, user); }, impl);
  }
  notify::Result<void> remove_family(notify::Id family) {
    return std::visit([&](auto& s) { return s.remove_family(family); }, impl);
  }
  notify::Result<bool> remove_token(notify::Id family, notify::Id user, std::string_view token) {
    return std::visit([&](auto& s) { return s.remove_token(family, user, token); }, impl);
  }
};

/// The idempotency store in use: beside the member store.
struct AnyLedger {
  LedgerImpl impl;

  notify::Result<std::vector<bool>> seen(std::span<const std::string> keys) {
    return std::visit([&](auto& l) { return l.seen(keys); }, impl);
  }
  notify::Result<void> remember(std::span<const std::string> keys, std::chrono::seconds ttl) {
    return std::visit([&](auto& l) { return l.remember(keys, ttl); }, impl);
  }
};

/// Where inbox records go.
struct AnyInbox {
  InboxImpl impl;

  notify::Result<void> publish(std::span<const std::string> bodies) {
    return std::visit([&](auto& i) { return i.publish(bodies); }, impl);
  }
};

static_assert(notify::Queue<AnyQueue>);
static_assert(notify::MemberStore<AnyStore>);
static_assert(notify::IdempotencyStore<AnyLedger>);
static_assert(notify::InboxSink<AnyInbox>);

/// What kind of place a flag names.
enum class Scheme : std::uint8_t { memory, file, redis, sqs, other };

Scheme scheme_of(std::string_view location) {
  if (location.substr(0, 7) == "memory:") return Scheme::memory;
  if (location.substr(0, 8) == "redis://" || location.substr(0, 7) == "unix://") return Scheme::redis;
  if (location.starts_with("https://") || location.starts_with("http://")) return Scheme::sqs;
  if (location.find("://") != std::string_view::npos) return Scheme::other;
  return Scheme::file;
}

/// The path of a memory:PATH location (or a plain PATH).
std::string memory_path(std::string_view location) {
  return std::string(location.substr(0, 7) == "memory:" ? location.substr(7) : location);
}

/// Splits a JSON-lines text into its non-blank lines.
std::vector<std::string> json_lines(std::string_view text) {
  std::vector<std::string> out;
  cli::for_each_line(text, [&](std::size_t, std::string_view line) { out.emplace_back(line); });
  return out;
}

/// A location for logs: a Redis URL without its password.
std::string for_log(const std::string& location, Scheme scheme, bool with_stream) {
#if NOTIFY_WITH_REDIS
  if (scheme == Scheme::redis && with_stream)
    if (auto a = notify::redis::parse_queue_url(location)) return notify::redis::describe(a->connection) + "/" + a->stream;
  if (scheme == Scheme::redis && !with_stream)
    if (auto o = notify::redis::parse_url(location)) return notify::redis::describe(*o);
#else
  (void)scheme;
  (void)with_stream;
#endif
  return location;
}

/// A number flag from `min` up, or nullopt (and a usage message in `error`).
std::optional<std::int64_t> number_flag(const cli::Options& opts, std::string_view name, std::int64_t min,
                                        std::string& error) {
  if (!opts.has(name)) return std::nullopt;
  auto v = cli::parse_number(opts.value(name), min);
  if (!v || *v > std::numeric_limits<int>::max())
    error = "--" + std::string(name) + " must be a whole number from " + std::to_string(min) + " up";
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::string_view a = argv[i]; a == "-h" || a == "--help") {
      std::cout << usage_text;
      return cli::exit_ok;
    }

  cli::Options opts{{"queue"},
                    {"members"},
                    {"push"},
                    {"drain", false},
                    {"log-format"},
                    {"batch-size"},
                    {"inbox"},
                    {"dead-letter"},
                    {"claim-idle-ms"},
                    {"push-delay-ms"},
                    {"fcm-credentials"},
                    {"fcm-endpoint"},
                    {"ca-file"},
                    {"fcm-connections"},
                    {"fcm-streams"}};
  if (auto err = opts.parse(argc, argv, 1); !err.empty()) return usage_error(err);
  if (auto err = opts.parse_env(); !err.empty()) return usage_error(err);

  if (!opts.has("queue")) return usage_error("--queue is required (redis://HOST:PORT/STREAM or memory:FILE)");
  if (!opts.has("members")) return usage_error("--members is required (redis://HOST:PORT[/DB] or FILE)");
  if (!opts.has("push")) return usage_error("--push is required (log, null or fcm)");

  // Which transports.
  const std::string& queue_flag = opts.value("queue");
  const Scheme queue_scheme = scheme_of(queue_flag);
  if (queue_scheme == Scheme::other || (queue_scheme == Scheme::redis && !with_redis) ||
      (queue_scheme == Scheme::sqs && !with_sqs))
    return not_supported("queue " + queue_flag);
  if (queue_scheme == Scheme::file)
    return usage_error("--queue must be redis://HOST:PORT/STREAM, an SQS queue URL or memory:FILE");
  const std::string& members_flag = opts.value("members");
  const Scheme members_scheme = scheme_of(members_flag);
  if (members_scheme == Scheme::other || members_scheme == Scheme::sqs || (members_scheme == Scheme::redis && !with_redis))
    return not_supported("member store " + members_flag);
  const std::string inbox_flag = opts.value_or("inbox", "log");
  const Scheme inbox_scheme = scheme_of(inbox_flag);
  if (inbox_scheme == Scheme::other || inbox_scheme == Scheme::sqs || (inbox_scheme == Scheme::redis && !with_redis))
    return not_supported("--inbox " + inbox_flag);
  if (inbox_scheme != Scheme::redis && inbox_flag != "log" && inbox_flag != "null")
    return usage_error("--inbox must be log, null or redis://HOST:PORT/STREAM");
  if (opts.has("dead-letter") && queue_scheme != Scheme::redis && queue_scheme != Scheme::sqs)
    return not_supported("--dead-letter");
  if (opts.has("claim-idle-ms") && queue_scheme == Scheme::sqs)
    return usage_error("--claim-idle-ms goes with Redis and memory queues (an SQS queue's visibility timeout does that)");

  const std::string& push = opts.value("push");
  if (push == "fcm" && !with_fcm) {
    cli::complain(program, "--push fcm: not supported in this build (built without notify::fcm)");
    return cli::exit_usage;
  }
  if (push != "log" && push != "null" && push != "fcm") return usage_error("--push must be log, null or fcm");
  constexpr std::string_view fcm_flags[] = {"fcm-credentials", "fcm-endpoint", "ca-file", "fcm-connections",
                                            "fcm-streams"};
  for (std::string_view flag : fcm_flags)
    if (push != "fcm" && opts.has(flag)) return usage_error("--" + std::string(flag) + " goes with --push fcm");
  if (push == "fcm" && !opts.has("fcm-credentials"))
    return usage_error("--push fcm needs --fcm-credentials FILE (a service-account JSON key file)");
  const std::string log_format = opts.value_or("log-format", "text");
  if (log_format != "text" && log_format != "json") return usage_error("--log-format must be text or json");
  std::size_t batch_size = 10;
  if (opts.has("batch-size")) {
    const auto b = cli::parse_number(opts.value("batch-size"));
    if (!b || *b > 10) return usage_error("--batch-size must be 1 to 10");
    batch_size = static_cast<std::size_t>(*b);
  }
  std::string number_error;
  const auto claim_idle = number_flag(opts, "claim-idle-ms", 1, number_error);
  const auto push_delay = number_flag(opts, "push-delay-ms", 0, number_error);
  const auto fcm_connections = number_flag(opts, "fcm-connections", 1, number_error);
  const auto fcm_streams = number_flag(opts, "fcm-streams", 1, number_error);
  if (!number_error.empty()) return usage_error(number_error);
  if (push == "fcm" && push_delay) return usage_error("--push-delay-ms goes with --push log or null");

  const std::string queue_path = memory_path(queue_flag);
  const std::string members_path = memory_path(members_flag);
  if (queue_scheme == Scheme::memory && members_scheme != Scheme::redis && queue_path == "-" && members_path == "-")
    return usage_error("only one of the files can be '-'");

  const EventLog log(log_format == "json");

  // The push provider. FCM: the key file is read (and the key loaded) now; the access
  // token is fetched below, before any record is taken.
  std::optional<AnyPusher> pusher_slot;
  std::string push_description = push;
  if (push == "fcm") {
#if NOTIFY_WITH_FCM
    const std::string& credentials_path = opts.value("fcm-credentials");
    auto credentials_text = cli::read_input(credentials_path);
    if (!credentials_text || credentials_path == "-") {
      cli::complain(program, "cannot read the service-account file '" + credentials_path + "'");
      return cli::exit_no_input;
    }
    auto account = notify::fcm::parse_service_account(*credentials_text);
    notify::fcm::wipe(*credentials_text);
    if (!account) {
      cli::complain(program, credentials_path + ": " + account.error().message);
      return cli::exit_data;
    }
    notify::fcm::Options fcm_options;
    fcm_options.endpoint = opts.value_or("fcm-endpoint", std::string(notify::fcm::default_endpoint));
    if (opts.has("ca-file")) {
      fcm_options.ca_file = opts.value("ca-file");
      if (!cli::read_input(fcm_options.ca_file)) {
        cli::complain(program, "cannot read the CA file '" + fcm_options.ca_file + "'");
        return cli::exit_no_input;
      }
    }
    if (fcm_connections) fcm_options.connections = static_cast<std::size_t>(*fcm_connections);
    if (fcm_streams) fcm_options.streams_per_connection = static_cast<std::size_t>(*fcm_streams);
    push_description = "fcm endpoint=" + fcm_options.endpoint + " project=" + account->project_id;
    auto provider = notify::fcm::PushProvider::create(std::move(*account), std::move(fcm_options));
    if (!provider) {
      cli::complain(program, "cannot set up FCM: " + provider.error().message);
      // A bad --fcm-endpoint is a usage error; anything else (the key) is in the file.
      return provider.error().path == "endpoint" ? cli::exit_usage : cli::exit_data;
    }
    pusher_slot.emplace(AnyPusher{PusherImpl{std::in_place_type<notify::fcm::PushProvider>, std::move(*provider)}});
#else
    (void)fcm_connections;
    (void)fcm_streams;
#endif
  } else {
    pusher_slot.emplace(AnyPusher{PusherImpl{std::in_place_type<PrintingPushProvider>, push == "log",
                                             std::chrono::milliseconds(push_delay.value_or(0))}});
  }
  AnyPusher& pusher = *pusher_slot;

  AnyStore store;
  AnyLedger ledger;
  AnyQueue queue;
  AnyInbox inbox;
  std::size_t loaded = 0;  // records read from a memory:FILE queue
  std::string consumer;

  // The member store, and the idempotency store beside it.
  if (members_scheme == Scheme::redis) {
#if NOTIFY_WITH_REDIS
    auto options = notify::redis::parse_url(members_flag);
    if (!options) return usage_error("--members: " + options.error().message);
    store.impl.emplace<notify::redis::MemberStore>(*options);
    ledger.impl.emplace<notify::redis::IdempotencyStore>(*options);
#endif
  } else {
    auto& memory_store = std::get<notify::memory::MemberStore>(store.impl);
    const auto members_text = cli::read_input(members_path);
    if (!members_text) {
      cli::complain(program, "cannot read members file '" + members_path + "'");
      return cli::exit_no_input;
    }
    const std::string bad_members = cli::for_each_stored_member(
        *members_text,
        [&](notify::Id family, const std::string& field, const std::string& value) {
          memory_store.put_raw(family, field, value);
        },
        [&](const std::string& where, const std::string& what) {
          log(notify::Event{"member_skipped", where, {}, {}, what});
        });
    if (!bad_members.empty()) {
      cli::complain(program, members_path + ": " + bad_members);
      return cli::exit_data;
    }
  }

  // Where inbox records go.
  if (inbox_scheme == Scheme::redis) {
#if NOTIFY_WITH_REDIS
    auto address = notify::redis::parse_queue_url(inbox_flag);
    if (!address) return usage_error("--inbox: " + address.error().message);
    inbox.impl.emplace<notify::redis::StreamInbox>(address->connection, address->stream);
#endif
  } else {
    inbox.impl.emplace<PrintingInbox>(inbox_flag == "log");
  }

  // The queue.
  if (queue_scheme == Scheme::sqs) {
#if NOTIFY_WITH_SQS
    notify::sqs::QueueOptions options;
    if (opts.has("dead-letter")) options.dead_letter_url = opts.value("dead-letter");
    auto q = notify::sqs::Queue::open(queue_flag, options);
    if (!q) {
      cli::complain(program, "--queue " + queue_flag + ": " + q.error().message);
      return q.error().code == notify::Errc::configuration ? cli::exit_usage : cli::exit_failure;
    }
    // Dead letters need a place: found now rather than when the first one comes.
    if (auto dl = q->dead_letter_url(); !dl) {
      cli::complain(program, "--queue " + queue_flag + ": " + dl.error().message);
      return notify::is_transient(dl.error().code) ? cli::exit_failure : cli::exit_usage;
    }
    queue.impl.emplace<notify::sqs::Queue>(std::move(*q));
#endif
  } else if (queue_scheme == Scheme::redis) {
#if NOTIFY_WITH_REDIS
    auto address = notify::redis::parse_queue_url(queue_flag);
    if (!address) return usage_error("--queue: " + address.error().message);
    notify::redis::QueueOptions options;
    options.stream = address->stream;
    if (claim_idle) options.claim_idle = std::chrono::milliseconds(*claim_idle);
    if (opts.has("dead-letter")) {
      // The adapter names its dead-letter stream; the flag may only confirm it.
      const std::string expected = address->stream + ":dead";
      const std::string& given = opts.value("dead-letter");
      bool same = given == expected;
      if (auto dl = notify::redis::parse_queue_url(given); dl && !same)
        same = dl->stream == expected && notify::redis::describe(dl->connection) ==
                                             notify::redis::describe(address->connection);
      if (!same)
        return usage_error("--dead-letter: this queue keeps its dead letters in the stream '" + expected +
                           "' of its own Redis; name that stream or leave the flag out");
    }
    auto& q = queue.impl.emplace<notify::redis::Queue>(address->connection, options);
    consumer = q.options().consumer;
#endif
  } else {
    auto& q = std::get<notify::memory::Queue>(queue.impl);
    if (claim_idle) q.visibility_timeout = std::chrono::milliseconds(*claim_idle);
    const auto queue_text = cli::read_input(queue_path);
    if (!queue_text) {
      cli::complain(program, "cannot read queue file '" + queue_path + "'");
      return cli::exit_no_input;
    }
    const std::vector<std::string> bodies = json_lines(*queue_text);
    loaded = bodies.size();
    if (auto r = q.send(bodies); !r) {
      cli::complain(program, "cannot load the queue: " + r.error().message);
      return cli::exit_failure;
    }
  }

  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);

  const notify::EventSink sink = [&log](const notify::Event& e) { log(e); };
  notify::BatchProcessor processor(store, pusher, inbox, ledger, notify::ProcessorOptions{}, sink);

  notify::WorkerOptions worker;
  worker.batch_size = batch_size;
  worker.drain = opts.has("drain");
  if (queue_scheme == Scheme::memory) worker.wait = std::chrono::milliseconds(worker.drain ? 20 : 1000);
  else worker.wait = std::chrono::milliseconds(worker.drain ? 100 : 1000);
  worker.max_reconnect_delay = std::chrono::seconds(5);

  std::string started = "queue=" + for_log(queue_flag, queue_scheme, true) +
                        " members=" + for_log(members_flag, members_scheme, false) +
                        " inbox=" + for_log(inbox_flag, inbox_scheme, true) + " push=" + push_description;
  if (!consumer.empty()) started += " consumer=" + consumer;
  log(notify::Event{"started", {}, {}, {}, started});

#if NOTIFY_WITH_FCM
  // Credentials are checked before any record is taken: rejected ones stop the worker
  // with every record still in the queue. An endpoint that cannot be reached yet is only
  // reported: the pushes are retried with the records.
  if (auto* fcm = std::get_if<notify::fcm::PushProvider>(&pusher.impl)) {
    if (auto r = fcm->connect(); !r) {
      if (!notify::is_transient(r.error().code)) {
        log(notify::Event{"fatal", {}, {}, {}, "fcm: " + r.error().message});
        cli::complain(program, (r.error().code == notify::Errc::unauthenticated
                                    ? "FCM did not accept the service account: "
                                    : "cannot use FCM: ") +
                                   r.error().message);
        return cli::exit_failure;
      }
      log(notify::Event{"push_unavailable", {}, {}, {}, "fcm: " + r.error().message});
    }
  }
#endif

  const notify::Result<void> result = notify::run_worker(queue, processor, stop_requested, worker, sink);

  std::string summary;
  if (const auto* q = std::get_if<notify::memory::Queue>(&queue.impl); q && queue_scheme == Scheme::memory) {
    summary = std::to_string(loaded) + " records: " + std::to_string(q->acked()) + " done, " +
              std::to_string(q->dead_letters().size()) + " dead-lettered, " + std::to_string(q->pending()) +
              " pending; ";
  } else {
    // This worker's share; "pending" is the whole queue's (any consumer's, and delayed retries).
    const std::size_t pending = queue.pending();
    summary = std::to_string(queue.settled) + " records: " + std::to_string(queue.done) + " done, " +
              std::to_string(queue.retried) + " retried, " + std::to_string(queue.dead) + " dead-lettered, " +
              (pending == std::numeric_limits<std::size_t>::max() ? std::string("unknown") : std::to_string(pending)) +
              " pending; ";
  }
  summary += std::to_string(pusher.count) + " pushes";
  if (!result) {
    log(notify::Event{"fatal", {}, {}, {}, result.error().message});
    cli::complain(program, "stopped: " + result.error().message + " (" + summary +
                               "; the records in hand are kept for a later run)");
    return cli::exit_failure;
  }
  log(notify::Event{stop_requested.load() ? "stopped" : "drained", {}, {}, {}, summary});
  return cli::exit_ok;
}
