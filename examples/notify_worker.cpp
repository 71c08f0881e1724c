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
#include <cstdio>
#include <iostream>
#include <limits>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "components.hpp"
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

using namespace components;

constexpr std::string_view program = "notify-worker";

constexpr std::string_view usage_text = R"(usage: notify-worker --queue URL --members URL|FILE --push log|null|fcm [options]

  --queue URL             redis://HOST:PORT/STREAM[?db=N]: a Redis Streams queue, consumer
                          group "notify" (streams STREAM:high then STREAM, retries in
                          STREAM:delayed, dead letters in STREAM:dead);
                          https://sqs.REGION.amazonaws.com/ACCOUNT/NAME[.fifo]: an SQS
                          queue (retries by visibility timeout, dead letters to the
                          queue's RedrivePolicy target or --dead-letter); credentials and
                          region from AWS_* variables or the container endpoint;
                          memory:FILE: a JSON-lines file of request bodies ('-' is stdin),
                          each run naming its records afresh (m-<run>-1, m-<run>-2, ...)
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
                          that stream (one entry per request, field "body"), and an
                          SQS queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)
                          gets one message per request (AWS_* as for --queue)
  --dead-letter NAME|URL  SQS: the dead-letter queue's URL (default: the queue's
                          RedrivePolicy target); Redis: the queue keeps dead letters in
                          STREAM:dead, and this flag may only name that stream
  --drain                 exit 0 once the queue is empty and nothing is in flight
  --log-format text|json  events on stderr, one per line (default text: key=value pairs)
  --log-level LEVEL       debug|info|warn|error (default info): info tells each record's
                          outcome, problems and the provider's pauses; debug adds each
                          record's steps and one line per push
  --max-in-flight N       records held at once, received and not yet settled (default 256)
  --batch-size N          records per receive, 1 to 10 (default 10)
  --claim-idle-ms N       take over records another consumer has held unsettled for N ms
                          (it is presumed dead); default 30000, keep it above the
                          longest batch
  --push-delay-ms N       wait N ms before each batch of pushes (to try out shutdown and
                          crashes)

Every flag can also be set as NOTIFY_<FLAG> (NOTIFY_PUSH=log, NOTIFY_DRAIN=1,
NOTIFY_CLAIM_IDLE_MS=500, NOTIFY_FCM_CREDENTIALS=FILE, ...); the command line wins. A
NOTIFY_* variable that is no setting (a misspelling) is reported with step=warning.
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

/// Reports a setting components.hpp could not use; returns the exit status.
int fail(const Problem& p) {
  if (p.usage) return usage_error(p.message);
  cli::complain(program, p.message);
  return p.exit_code;
}


// The queues this build can use, chosen at run time from the flags (the member store,
// push provider and inbox are in components.hpp).
#if NOTIFY_WITH_REDIS && NOTIFY_WITH_SQS
using QueueImpl = std::variant<notify::memory::Queue, notify::redis::Queue, notify::sqs::Queue>;
#elif NOTIFY_WITH_REDIS
using QueueImpl = std::variant<notify::memory::Queue, notify::redis::Queue>;
#else
using QueueImpl = std::variant<notify::memory::Queue>;
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
  /// Keeps the leases of the records the engine holds (see notify::LeasedQueue).
  notify::Result<std::vector<bool>> keep_alive(std::span<const notify::QueueRecord* const> records) {
    return std::visit([&](auto& q) { return q.keep_alive(records); }, impl);
  }
  std::chrono::milliseconds lease_interval() {
    return std::visit([](auto& q) { return q.lease_interval(); }, impl);
  }
  /// Records that will still come back (for --drain); run_worker waits out a transient
  /// failure to count them and stops on a permanent one.
  notify::Result<std::size_t> pending_count() {
    return std::visit([](auto& q) { return q.pending_count(); }, impl);
  }
  /// pending_count() for the summary; a failure counts as "some".
  std::size_t pending() {
    return std::visit([](auto& q) -> std::size_t { return q.pending(); }, impl);
  }

  std::size_t settled = 0, done = 0, retried = 0, dead = 0;
};


static_assert(notify::LeasedQueue<AnyQueue>);


/// "m-<16 hex digits>-": the memory queue's record ids of this run. The ids key the
/// idempotency markers, which a Redis member store keeps for 24 h: the same file run again
/// must not look like the records already sent.
std::string run_prefix() {
  std::random_device device;
  std::uint64_t bits = (std::uint64_t{device()} << 32) ^ device();
  bits ^= static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(bits));
  return "m-" + std::string(hex) + "-";
}

/// Splits a JSON-lines text into its non-blank lines.
std::vector<std::string> json_lines(std::string_view text) {
  std::vector<std::string> out;
  cli::for_each_line(text, [&](std::size_t, std::string_view line) { out.emplace_back(line); });
  return out;
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
                    {"fcm-streams"},
                    {"log-level"},
                    {"max-in-flight"}};
  if (auto err = opts.parse(argc, argv, 1); !err.empty()) return usage_error(err);
  if (auto err = opts.parse_env(); !err.empty()) return usage_error(err);

  if (!opts.has("queue")) return usage_error("--queue is required (" + std::string(queue_forms) + ")");
  if (auto p = check_flags(opts)) return fail(*p);

  // Which transports.
  const std::string& queue_flag = opts.value("queue");
  const Scheme queue_scheme = scheme_of(queue_flag);
  const std::string queue_name = opts.flag("queue");
  if (queue_scheme == Scheme::other) return fail(unknown_kind(queue_name + " " + queue_flag, "queue", queue_forms));
  if (queue_scheme == Scheme::redis && !with_redis) return fail(not_built(queue_name + " " + queue_flag, "redis"));
  if (queue_scheme == Scheme::sqs && !with_sqs) return fail(not_built(queue_name + " " + queue_flag, "sqs"));
  if (queue_scheme == Scheme::file) return usage_error(queue_name + " must be " + std::string(queue_forms));
  const std::string& members_flag = opts.value("members");
  const Scheme members_scheme = scheme_of(members_flag);
  const std::string inbox_flag = opts.value_or("inbox", "log");
  const Scheme inbox_scheme = scheme_of(inbox_flag);
  if (opts.has("dead-letter") && queue_scheme != Scheme::redis && queue_scheme != Scheme::sqs)
    return usage_error(opts.flag("dead-letter") + " goes with Redis and SQS queues (a memory queue keeps its dead letters)");
  if (opts.has("claim-idle-ms") && queue_scheme == Scheme::sqs)
    return usage_error(opts.flag("claim-idle-ms") +
                       " goes with Redis and memory queues (an SQS queue's visibility timeout does that)");

  const std::string log_format = opts.value_or("log-format", "text");
  std::size_t batch_size = 10;
  if (opts.has("batch-size")) {
    const auto b = cli::parse_number(opts.value("batch-size"));
    if (!b || *b > 10) return usage_error(opts.flag("batch-size") + " must be 1 to 10");
    batch_size = static_cast<std::size_t>(*b);
  }
  std::string number_error;
  const auto claim_idle = number_flag(opts, "claim-idle-ms", 1, number_error);
  const auto max_in_flight = number_flag(opts, "max-in-flight", 1, number_error);
  if (!number_error.empty()) return usage_error(number_error);
  const auto log_level = notify::parse_level(opts.value_or("log-level", "info"));
  if (!log_level) return usage_error(opts.flag("log-level") + " must be debug, info, warn or error");

  const std::string queue_path = memory_path(queue_flag);
  const std::string members_path = memory_path(members_flag);
  if (queue_scheme == Scheme::memory && members_scheme != Scheme::redis && queue_path == "-" && members_path == "-")
    return usage_error("only one of the files can be '-'");

  const EventLog log(log_format == "json");
  for (const std::string& w : opts.unknown_environment(program, environ)) log(notify::Event{"warning", {}, {}, {}, w});

  // The push provider. FCM: the key file is read (and the key loaded) now; the access
  // token is fetched below, before any record is taken.
  std::optional<AnyPusher> pusher_slot;
  std::string push_description;
  if (auto p = make_pusher(opts, pusher_slot, push_description)) return fail(*p);
  AnyPusher& pusher = *pusher_slot;

  AnyStore store;
  AnyLedger ledger;
  AnyQueue queue;
  AnyInbox inbox;
  std::size_t loaded = 0;  // records read from a memory:FILE queue
  std::string consumer;

  // The member store (and the idempotency store beside it), and where inbox records go.
  if (auto p = make_store(opts, store, ledger, log)) return fail(*p);
  if (auto p = make_inbox(opts, inbox)) return fail(*p);

  // The queue.
  if (queue_scheme == Scheme::sqs) {
#if NOTIFY_WITH_SQS
    notify::sqs::QueueOptions options;
    if (opts.has("dead-letter")) options.dead_letter_url = opts.value("dead-letter");
    auto q = notify::sqs::Queue::open(queue_flag, options);
    if (!q) {
      cli::complain(program, queue_name + " " + queue_flag + ": " + q.error().message);
      return q.error().code == notify::Errc::configuration ? cli::exit_usage : cli::exit_failure;
    }
    // Dead letters need a place: found now rather than when the first one comes.
    if (auto dl = q->dead_letter_url(); !dl) {
      cli::complain(program, queue_name + " " + queue_flag + ": " + dl.error().message);
      return notify::is_transient(dl.error().code) ? cli::exit_failure : cli::exit_usage;
    }
    queue.impl.emplace<notify::sqs::Queue>(std::move(*q));
#endif
  } else if (queue_scheme == Scheme::redis) {
#if NOTIFY_WITH_REDIS
    auto address = notify::redis::parse_queue_url(queue_flag);
    if (!address) return usage_error(queue_name + ": " + address.error().message);
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
        return usage_error(opts.flag("dead-letter") + ": this queue keeps its dead letters in the stream '" + expected +
                           "' of its own Redis; name that stream or leave the flag out");
    }
    auto& q = queue.impl.emplace<notify::redis::Queue>(address->connection, options);
    consumer = q.options().consumer;
#endif
  } else {
    auto& q = std::get<notify::memory::Queue>(queue.impl);
    if (claim_idle) q.visibility_timeout = std::chrono::milliseconds(*claim_idle);
    q.id_prefix = run_prefix();
    std::string why;
    const auto queue_text = cli::read_input(queue_path, &why);
    if (!queue_text) {
      cli::complain(program, in_env(opts, "queue") + cli::cannot_read("queue file", queue_path, why));
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
  notify::ProcessorOptions processing;
  processing.log_level = *log_level;
  if (max_in_flight) processing.max_records_in_flight = static_cast<std::size_t>(*max_in_flight);
  notify::BatchProcessor processor(store, pusher, inbox, ledger, processing, sink);

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
