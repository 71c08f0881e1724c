// SPDX-License-Identifier: MIT
// notify-lambda: the AWS Lambda custom-runtime bootstrap (provided.al2023). Takes SQS
// events from the Lambda Runtime API, runs the worker's batch processor on their records
// and answers with batchItemFailures. Configured from the environment with the same
// names as notify-worker's flags; member store, push provider and inbox are built as the
// worker builds them (notify::app), and failed records are settled on their source
// queue (notify::lambda::SourceQueue). After each invocation it writes the engine's
// counters as one CloudWatch Embedded Metric Format line on stdout (NOTIFY_METRICS).

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

#include <unistd.h>  // environ

#include "notify/app/app.hpp"
#include "notify/ops/build_info.hpp"
#include "notify/ops/engine_metrics.hpp"
#include "notify/lambda/lambda.hpp"
#include "notify/processor.hpp"

namespace {

namespace cli = notify::app;
namespace lambda = notify::lambda;

constexpr std::string_view program = "notify-lambda";

constexpr std::string_view usage_text = R"(usage: notify-lambda   (as `bootstrap` of a provided.al2023 function)

Runs as an AWS Lambda custom runtime: reads AWS_LAMBDA_RUNTIME_API, takes SQS events
(configure the event source mapping with FunctionResponseTypes=ReportBatchItemFailures)
and answers each with {"batchItemFailures":[...]}. Settings come from the environment
(or the same flags on the command line, which win):

  NOTIFY_MEMBERS          redis://HOST:PORT[/DB] (member store and "already sent" markers)
                          or FILE: the member store as JSON (markers then live in this
                          runtime only)
  NOTIFY_PUSH             log | null | services from fcm, apns, email, sms, alimtalk separated
                          by commas (each delivery to the provider of its service)
  NOTIFY_FCM_CREDENTIALS  the service-account JSON key file (with NOTIFY_PUSH=fcm)
  NOTIFY_FCM_ENDPOINT     the FCM API (default https://fcm.googleapis.com)
  NOTIFY_CA_FILE          PEM CA certificates trusted instead of the system's
  NOTIFY_FCM_CONNECTIONS, NOTIFY_FCM_STREAMS   HTTP/2 connections and streams to FCM
  NOTIFY_APNS_KEY, NOTIFY_APNS_KEY_ID, NOTIFY_APNS_TEAM_ID, NOTIFY_APNS_TOPIC
                          APNs token auth: the .p8 key file, its key id, the team id and
                          the app's bundle id (with apns in NOTIFY_PUSH)
  NOTIFY_APNS_ENDPOINT    production (default) | sandbox | an http(s):// URL
  NOTIFY_APNS_CONNECTIONS, NOTIFY_APNS_STREAMS HTTP/2 connections and streams to APNs
  NOTIFY_ROUTING          a routing file (the channels of each type, in order; see
                          notifyctl routing)
  NOTIFY_SMTP_URL, NOTIFY_SMTP_FROM, NOTIFY_SMTP_FROM_NAME, NOTIFY_SMTP_USER,
  NOTIFY_SMTP_PASSWORD_FILE
                          e-mail over SMTP (with email in NOTIFY_PUSH), as notify-worker's
                          --smtp-* flags
  NOTIFY_SENS_ENDPOINT, NOTIFY_SENS_ACCESS_KEY, NOTIFY_SENS_SECRET_KEY(_FILE),
  NOTIFY_SENS_SMS_SERVICE, NOTIFY_SENS_ALIMTALK_SERVICE, NOTIFY_SENS_FROM,
  NOTIFY_SENS_PLUS_FRIEND, NOTIFY_SENS_TEMPLATES, NOTIFY_SENS_SMS_FAILOVER
                          SMS/LMS and AlimTalk through Naver Cloud SENS (with sms or
                          alimtalk in NOTIFY_PUSH), as notify-worker's --sens-* flags
  NOTIFY_INBOX            log (default) | null | redis://HOST:PORT/STREAM | an SQS queue URL
  NOTIFY_LOG_FORMAT       text (default) | json: events on stderr, one per line
  NOTIFY_LOG_LEVEL        debug|info|warn|error (default info): info tells each record's
                          outcome; debug adds a line per push
  NOTIFY_TIME_RESERVE_MS  FIFO batches: a record is not started with less time than this
                          left before the invocation's deadline (default 5000, at most
                          half the invocation's time; 0: off)
  NOTIFY_METRICS          emf (default) | off: after each invocation, one CloudWatch
                          Embedded Metric Format line on stdout (a JSON object with an
                          "_aws" member; CloudWatch Logs turns it into metrics, no API
                          call) with that invocation's counts: namespace "notify",
                          dimension FunctionName (AWS_LAMBDA_FUNCTION_NAME, or
                          notify-lambda when that is not set)

--version prints the version and the git revision it was built from.

A setting that cannot be used is posted to /runtime/init/error and the runtime exits 1.
A malformed event fails its invocation (/error); a credentials or configuration failure
while delivering fails the invocation and the runtime exits 1, so Lambda starts afresh.
A record to retry is hidden on its queue for its retry delay (ChangeMessageVisibility)
and reported in batchItemFailures; a dead letter is sent to the queue's dead-letter
queue (its RedrivePolicy target) with its reason and not reported. When the queue
cannot be used for that, both are reported (the redrive policy then moves dead
letters). On a FIFO queue a failure and the later records of its group are reported.
SQS calls use the function's credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_SESSION_TOKEN) and AWS_ENDPOINT_URL_SQS when set.
)";

/// Reports a setting that cannot be used to /runtime/init/error; the exit status.
int init_failed(lambda::RuntimeClient& client, const std::string& message) {
  cli::complain(program, message);
  if (auto r = client.init_error(lambda::ErrorReport{"ConfigurationError", message}); !r)
    cli::complain(program, "could not report the init error: " + r.error().message);
  return cli::exit_failure;
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

  auto client = lambda::RuntimeClient::from_environment();
  if (!client) {
    cli::complain(program, client.error().message);
    return cli::exit_failure;
  }

  cli::Options opts{{"members"},         {"push"},        {"log-format"},      {"inbox"},
                    {"push-delay-ms"},   {"fcm-credentials"}, {"fcm-endpoint"}, {"ca-file"},
                    {"fcm-connections"}, {"fcm-streams"},     {"time-reserve-ms"}, {"log-level"},
                    {"metrics"},         {"apns-key"},    {"apns-key-id"},     {"apns-team-id"},
                    {"apns-topic"},      {"apns-endpoint"}, {"apns-connections"}, {"apns-streams"}};
  cli::add_channel_options(opts);
  if (auto err = opts.parse(argc, argv, 1); !err.empty()) return init_failed(*client, err);
  if (auto err = opts.parse_env(); !err.empty()) return init_failed(*client, err);
  if (auto p = cli::check_flags(opts)) return init_failed(*client, p->message);
  std::string number_error;
  const auto reserve = cli::number_flag(opts, "time-reserve-ms", 0, number_error);
  if (!number_error.empty()) return init_failed(*client, number_error);
  lambda::HandlerOptions handler_options;
  if (reserve) handler_options.time_reserve = std::chrono::milliseconds(*reserve);
  notify::ProcessorOptions processing;
  if (auto level = notify::parse_level(opts.value_or("log-level", "info"))) processing.log_level = *level;
  else return init_failed(*client, opts.flag("log-level") + " must be debug, info, warn or error");

  const std::string metrics_mode = opts.value_or("metrics", "emf");
  if (metrics_mode != "emf" && metrics_mode != "off")
    return init_failed(*client, opts.flag("metrics") + " must be emf or off");

  const cli::EventLog log(opts.value_or("log-format", "text") == "json");
  for (const std::string& w : opts.unknown_environment(program, environ)) log(notify::Event{"warning", {}, {}, {}, w});

  // Built as the worker builds them, without network traffic: Redis connects and FCM
  // fetches its access token on first use, so a cold start stays short.
  std::optional<cli::AnyPusher> pusher;
  std::string push_description;
  std::optional<cli::Stores> stores;
  std::optional<cli::AnyInbox> inbox;
  std::optional<notify::Routing> routing;
  if (auto p = cli::build_pusher(opts, pusher, push_description)) return init_failed(*client, p->message);
  if (auto p = cli::build_plan_settings(opts, routing, processing.plan_policy)) return init_failed(*client, p->message);
  if (auto p = cli::build_stores(opts, stores, log)) return init_failed(*client, p->message);
  if (auto p = cli::build_inbox(opts, inbox)) return init_failed(*client, p->message);

  // The engine's counters, written after each invocation as one EMF line on stdout: the
  // function's log stream, which CloudWatch Logs reads for "_aws" documents. Counters go
  // as the change since the previous line, so a warm runtime does not count twice.
  notify::ops::Registry registry;
  std::optional<notify::ops::EngineMetrics> metrics;
  notify::ops::EmfOptions emf;
  const char* function_name = std::getenv("AWS_LAMBDA_FUNCTION_NAME");
  emf.dimensions = {{"FunctionName", function_name && *function_name ? function_name : std::string(program)}};
  emf.skip_unchanged = true;  // a few metrics per invocation, not every series at 0
  if (metrics_mode == "emf") {
    metrics.emplace(registry, opts.value("push"));
    processing.observer = &*metrics;
  }

  const notify::EventSink sink = [&log](const notify::Event& e) { log(e); };
  notify::BatchProcessor processor(stores->members, *pusher, *inbox, stores->ledger, processing, sink);
  lambda::SourceQueue settle_target;
  lambda::SqsHandler handler(processor, settle_target, sink, handler_options);

  log(notify::Event{"started", {}, {}, {},
                    "runtime=" + client->endpoint() + " " + cli::describe_places(opts, false) + " push=" + push_description});

  lambda::RunOptions run_options;
  if (metrics)
    run_options.after_invocation = [&](const lambda::Invocation&, const lambda::Reply&) {
      auto& engine = processor.pipeline();
      metrics->records_in_flight.set(static_cast<double>(engine.held()));
      metrics->pushes_in_flight.set(static_cast<double>(engine.pushes_in_flight()));
      metrics->pushes_queued.set(static_cast<double>(engine.pushes_queued()));
      metrics->circuit_state.set(static_cast<double>(engine.circuit()));
      // After the response was posted (the caller does not wait for it) and before the
      // next /next, which may freeze the sandbox: flushed now, so no line is held back.
      std::cout << registry.render_emf(emf) << '\n' << std::flush;
    };
  const lambda::RunStatus status = lambda::run(*client, handler, run_options, sink);
  log(notify::Event{"stopped", {}, {}, {},
                    std::string(lambda::to_string(status.reason)) + ": " + status.message + " (" +
                        std::to_string(pusher->count()) + " pushes)"});
  return status.exit_code();
}
