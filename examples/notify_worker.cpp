// SPDX-License-Identifier: MIT
// notify-worker: the long-running consumer. Receives batches from a queue, plans them
// against the member store, pushes, publishes inbox records, and settles each record.
// A thin main: the flags and exit codes are here; the transports are built from their
// URLs by notify::app (adapters/app).

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <unistd.h>  // environ

#include "notify/app/app.hpp"
#include "notify/ops/build_info.hpp"
#include "notify/processor.hpp"
#include "notify/redis/queue.hpp"

namespace {

namespace cli = notify::app;
using notify::app::Problem;

constexpr std::string_view program = "notify-worker";

constexpr std::string_view usage_text = R"(usage: notify-worker --queue URL --members URL|FILE --push log|null|SERVICES [options]

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
  --push log|null|SERVICES
                          log: print each push to stdout; null: accept every push silently;
                          SERVICES, separated by commas, each delivery going to the
                          provider of its service: fcm: FCM HTTP v1 (needs
                          --fcm-credentials); apns: APNs (needs --apns-key, --apns-key-id,
                          --apns-team-id, --apns-topic); email: SMTP (needs --smtp-url,
                          --smtp-from); sms (SMS/LMS) and alimtalk (KakaoTalk AlimTalk):
                          Naver Cloud SENS (needs --sens-access-key, the secret, --sens-from
                          and the service's id; alimtalk also --sens-plus-friend and
                          --sens-templates); a route's channels without a provider here
                          are passed over
  --fcm-credentials FILE  the service-account JSON key file (project_id, client_email,
                          private_key; its token_uri is where access tokens come from)
  --fcm-endpoint URL      the FCM API (default https://fcm.googleapis.com); an http://
                          URL speaks HTTP/2 in cleartext, for tests
  --ca-file FILE          PEM CA certificates trusted instead of the system's, for the
                          FCM endpoint, the token endpoint, APNs and the SMTP server (TLS
                          is always verified)
  --fcm-connections N     HTTP/2 connections to FCM, kept open (default 8)
  --fcm-streams N         concurrent requests per connection (default 50)
  --apns-key FILE         the APNs signing key (.p8, EC P-256) for token-based auth
  --apns-key-id ID        its key id (the JWT's kid)
  --apns-team-id ID       the developer team id (the JWT's iss)
  --apns-topic BUNDLE-ID  the app's bundle id (apns-topic)
  --apns-endpoint production|sandbox|URL
                          api.push.apple.com (default), api.sandbox.push.apple.com, or an
                          emulator's URL (http:// speaks HTTP/2 in cleartext)
  --apns-connections N    HTTP/2 connections to APNs, kept open (default 2)
  --apns-streams N        concurrent requests per connection (default 100)
  --routing FILE          the channels each type may use, in order, as JSON over the
                          built-in routes ({"NOTIFY_BIRTHDAY": {"channels": ["push",
                          "alimtalk"]}}; see `notifyctl routing`); checked at start, a
                          channel without a provider in --push is passed over
  --smtp-url URL          with email: smtp://HOST:PORT (STARTTLS required) or
                          smtps://HOST:PORT (TLS from the start)
  --smtp-from ADDRESS     the sender (envelope and From)
  --smtp-from-name NAME   the From display name (UTF-8)
  --smtp-user USER        SMTP AUTH user (with --smtp-password-file)
  --smtp-password-file FILE
                          the SMTP password: the file's first line (never logged)
  --sens-endpoint URL     SENS (default https://sens.apigw.ntruss.com)
  --sens-access-key KEY   the Naver Cloud access key (x-ncp-iam-access-key)
  --sens-secret-key-file FILE
                          the secret key (its first line; or NOTIFY_SENS_SECRET_KEY;
                          never logged)
  --sens-sms-service ID   with sms: the SMS service id
  --sens-alimtalk-service ID
                          with alimtalk: the AlimTalk service id
  --sens-from NUMBER      the registered sender number
  --sens-plus-friend ID   with alimtalk: the KakaoTalk channel (@name)
  --sens-templates TYPE=CODE,...
                          with alimtalk: the registered template of each type; a type
                          without one is not sent by AlimTalk (failed, with the reason)
  --sens-sms-failover     with alimtalk: SENS sends an SMS/LMS when KakaoTalk cannot deliver
  --inbox log|null|URL    inbox records: log (default) prints them to stdout, null drops
                          them, redis://HOST:PORT/STREAM appends each request's records to
                          that stream (one entry per request, field "body"), and an
                          SQS queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)
                          gets one message per request (AWS_* as for --queue)
  --dead-letter NAME|URL  SQS: the dead-letter queue's URL (default: the queue's
                          RedrivePolicy target); Redis: the queue keeps dead letters in
                          STREAM:dead, and this flag may only name that stream
  --drain                 exit 0 once the queue is empty and nothing is in flight
  --log-format text|json  events on stderr, one per line (default text: key=value pairs),
                          written out before each wait of the loop (warn and error at once)
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
  --metrics-listen HOST:PORT
                          serve GET /metrics (Prometheus text format 0.0.4), /healthz
                          (the delivery loop turns) and /readyz (queue, member store and
                          push provider reachable; 503 with a JSON body naming what is
                          down) over HTTP/1.1 on HOST:PORT (port 0: any free one; the
                          address is in the started event); off by default
  --stats-interval SECONDS
                          every SECONDS (default 60; 0: never) a "stats" event sums up
                          what happened since the last one, with rates (info level);
                          a last one when the worker ends
  --version               print the version and the git revision it was built from

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
the records in hand are kept for a later run, never dead-lettered for it), 64 usage,
unsupported transport, or a --metrics-listen address that cannot be bound, 65 malformed
members file, service-account file or routing file, 66 unreadable file.
)";

std::atomic<bool> stop_requested{false};
/// The event log, for the terminate handler.
notify::app::EventLog* kept_log = nullptr;
static_assert(std::atomic<bool>::is_always_lock_free, "the signal handler needs a lock-free flag");

extern "C" void on_stop_signal(int) { stop_requested.store(true); }

int usage_error(std::string_view message) {
  cli::complain(program, message);
  std::cerr << '\n' << usage_text;
  return cli::exit_usage;
}

/// Reports a setting notify::app could not use; returns the exit status.
int fail(const Problem& p) {
  if (p.usage) return usage_error(p.message);
  cli::complain(program, p.message);
  return p.exit_code;
}


}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::string_view a = argv[i]; a == "-h" || a == "--help") {
      std::cout << usage_text;
      return cli::exit_ok;
    } else if (a == "--version") {
      std::cout << program << ' ' << notify::ops::version() << " (" << notify::ops::revision() << ")\n";
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
                    {"apns-key"},
                    {"apns-key-id"},
                    {"apns-team-id"},
                    {"apns-topic"},
                    {"apns-endpoint"},
                    {"apns-connections"},
                    {"apns-streams"},
                    {"log-level"},
                    {"max-in-flight"},
                    {"metrics-listen"},
                    {"stats-interval"}};
  cli::add_channel_options(opts);
  if (auto err = opts.parse(argc, argv, 1); !err.empty()) return usage_error(err);
  if (auto err = opts.parse_env(); !err.empty()) return usage_error(err);

  if (!opts.has("queue")) return usage_error("--queue is required (" + std::string(cli::queue_forms) + ")");
  if (auto p = cli::check_flags(opts)) return fail(*p);
  if (auto p = cli::check_queue_flags(opts)) return fail(*p);

  std::size_t batch_size = 10;
  if (opts.has("batch-size")) {
    const auto b = cli::parse_number(opts.value("batch-size"));
    if (!b || *b > 10) return usage_error(opts.flag("batch-size") + " must be 1 to 10");
    batch_size = static_cast<std::size_t>(*b);
  }
  std::string number_error;
  const auto max_in_flight = cli::number_flag(opts, "max-in-flight", 1, number_error);
  if (!number_error.empty()) return usage_error(number_error);
  const auto log_level = notify::parse_level(opts.value_or("log-level", "info"));
  if (!log_level) return usage_error(opts.flag("log-level") + " must be debug, info, warn or error");
  const auto stats_interval = cli::number_flag(opts, "stats-interval", 0, number_error);
  if (!number_error.empty()) return usage_error(number_error);

  const std::string& queue_flag = opts.value("queue");
  const std::string& members_flag = opts.value("members");
  const bool memory_queue = cli::scheme_of(queue_flag) == cli::Scheme::memory;
  if (memory_queue && cli::scheme_of(members_flag) != cli::Scheme::redis && cli::memory_path(queue_flag) == "-" &&
      cli::memory_path(members_flag) == "-")
    return usage_error("only one of the files can be '-'");

  cli::EventLog log(opts.value_or("log-format", "text") == "json");
  for (const std::string& w : opts.unknown_environment(program, environ)) log(notify::Event{"warning", {}, {}, {}, w});

  // The push provider (FCM: the key file is read and the key loaded now; the access
  // token is fetched below, before any record is taken), the member store with the
  // idempotency store beside it, the inbox, and the queue.
  std::optional<cli::AnyPusher> pusher;
  std::string push_description;
  std::optional<cli::Stores> stores;
  std::optional<cli::AnyInbox> inbox;
  std::optional<cli::AnyQueue> queue;
  std::size_t loaded = 0;  // records read from a memory:FILE queue
  std::optional<notify::Routing> routing;
  if (auto p = cli::build_pusher(opts, pusher, push_description)) return fail(*p);
  notify::PlanPolicy plan_policy;
  if (auto p = cli::build_plan_settings(opts, routing, plan_policy)) return fail(*p);
  if (auto p = cli::build_stores(opts, stores, log)) return fail(*p);
  if (auto p = cli::build_inbox(opts, inbox)) return fail(*p);
  if (auto p = cli::build_worker_queue(opts, queue, loaded)) return fail(*p);

  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);

  // The monitor counts what the engine does when something shows it: the endpoints of
  // --metrics-listen, or the periodic stats event (which the log level may leave out).
  std::unique_ptr<cli::WorkerMonitor> monitor;
  const std::chrono::seconds stats_every(stats_interval.value_or(60));
  const bool stats_shown = stats_every.count() > 0 && *log_level <= notify::Level::info;
  if (opts.has("metrics-listen") || stats_shown) {
    cli::MonitorSettings settings;
    settings.listen = opts.value_or("metrics-listen", "");
    settings.provider = opts.value("push");
    if (stats_shown) {
      settings.stats_interval = stats_every;
      settings.stats = [&log](const std::string& line) { log(notify::Event{"stats", {}, {}, {}, line}); };
    }
    auto started = cli::WorkerMonitor::start(settings, *queue, stores->members, *pusher);
    if (!started) {
      cli::complain(program, opts.flag("metrics-listen") + ": " + started.error().message);
      return cli::exit_usage;
    }
    monitor = std::move(*started);
  }

  const notify::EventSink sink = [&log](const notify::Event& e) { log(e); };
  notify::ProcessorOptions processing;
  if (monitor) processing.observer = &monitor->observer();
  processing.log_level = *log_level;
  processing.plan_policy = plan_policy;
  if (max_in_flight) processing.max_records_in_flight = static_cast<std::size_t>(*max_in_flight);
  notify::BatchProcessor processor(stores->members, *pusher, *inbox, stores->ledger, processing, sink);

  notify::WorkerOptions worker;
  worker.batch_size = batch_size;
  worker.drain = opts.has("drain");
  if (memory_queue) worker.wait = std::chrono::milliseconds(worker.drain ? 20 : 1000);
  else worker.wait = std::chrono::milliseconds(worker.drain ? 100 : 1000);
  worker.max_reconnect_delay = std::chrono::seconds(5);
  worker.on_turn = [&] {
    if (monitor) monitor->turn(processor.pipeline());  // may add the periodic stats line
    log.flush();
  };
  worker.before_step = [&] { log.flush(); };

  std::string started = cli::describe_places(opts, true) + " push=" + push_description;
  if (const auto* q = queue->get<notify::redis::Queue>()) started += " consumer=" + q->options().consumer;
  if (monitor && !monitor->address().empty()) started += " metrics=http://" + monitor->address() + "/metrics";
  log(notify::Event{"started", {}, {}, {}, started});
  if (auto p = cli::connect_pusher(*pusher, log)) return fail(*p);

  // While the loop runs, its lines go out in one write before each wait (warn and error
  // at once). A failed assertion or an escaped exception ends in std::terminate, and the
  // lines kept until then tell how it came to that.
  kept_log = &log;
  std::set_terminate([] {
    if (kept_log) kept_log->salvage();
    std::abort();
  });
  log.buffer(true);
  const notify::Result<void> result = notify::run_worker(*queue, processor, stop_requested, worker, sink);
  log.buffer(false);
  kept_log = nullptr;

  if (monitor) monitor->final_stats(processor.pipeline());
  const std::string summary = cli::worker_summary(*queue, loaded, *pusher);
  if (!result) {
    log(notify::Event{"fatal", {}, {}, {}, result.error().message});
    cli::complain(program, "stopped: " + result.error().message + " (" + summary +
                               "; the records in hand are kept for a later run)");
    return cli::exit_failure;
  }
  log(notify::Event{stop_requested.load() ? "stopped" : "drained", {}, {}, {}, summary});
  return cli::exit_ok;
}
