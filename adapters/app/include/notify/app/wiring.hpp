// SPDX-License-Identifier: MIT
#pragma once

/// Transports from the URLs the programs take: a queue from `redis://HOST:PORT/STREAM`,
/// an SQS queue URL or `memory:`; the member store (and the idempotency store beside it)
/// from `redis://HOST:PORT[/DB]` or a members file; the inbox from `log`, `null`, a Redis
/// stream or an SQS queue URL; the push provider from `log`, `null`, `fcm`, `apns` or `fcm,apns`.
///
/// Two layers: make_*(url) build a transport from one URL and answer an Error whose
/// message lists the valid forms; build_*(options) check a program's settings as the user
/// gave them (a flag or a NOTIFY_* variable) and answer a Problem that names the setting
/// and carries the exit status.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "notify/app/any.hpp"
#include "notify/app/cli.hpp"
#include "notify/app/printing.hpp"
#include "notify/plan.hpp"
#include "notify/routing.hpp"

namespace notify::app {

/// What kind of place a URL names.
enum class Scheme : std::uint8_t { memory, file, redis, sqs, other };

/// memory:..., redis:// or unix://, http(s):// (SQS), another scheme, or a plain path.
Scheme scheme_of(std::string_view location);

/// The path of a memory:PATH location (or a plain PATH).
std::string memory_path(std::string_view location);

/// A location for logs: a Redis URL without its password (with its stream when
/// `with_stream`), anything else as it is.
std::string for_log(const std::string& location, Scheme scheme, bool with_stream);

/// The valid forms of each place, for messages.
inline constexpr std::string_view queue_forms =
    "redis://HOST:PORT/STREAM, an SQS queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME) or memory:FILE";
inline constexpr std::string_view members_forms = "redis://HOST:PORT[/DB] or a members FILE";
inline constexpr std::string_view inbox_forms = "log, null, redis://HOST:PORT/STREAM or an SQS queue URL";
/// The queues a program outside the worker can reach (a memory queue lives in one process).
inline constexpr std::string_view shared_queue_forms =
    "redis://HOST:PORT/STREAM[?db=N] or an SQS queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)";

/// How a queue is opened.
struct QueueSettings {
  /// SQS: the dead-letter queue's URL (empty: the queue's RedrivePolicy target). Redis:
  /// may only name the queue's own `STREAM:dead` (as a stream name or a redis:// URL).
  std::string dead_letter;
  /// Redis: take over records another consumer held this long; memory: hide a received
  /// record this long.
  std::optional<std::chrono::milliseconds> claim_idle;
};

/// A queue from its URL: `redis://HOST:PORT/STREAM[?db=N]` (or `unix://`), an SQS queue
/// URL, or `memory:NAME` (an empty queue in this process whose record ids are fresh for
/// each run; NAME only labels it). Connects to nothing yet. Errors: Errc::configuration
/// with the valid forms for an unknown scheme; a Redis URL's parse error; a dead-letter
/// setting Redis cannot honour (path "dead_letter"); what sqs::Queue::open answers.
Result<AnyQueue> make_queue(std::string_view url, const QueueSettings& settings = {});

/// The member store and the idempotency store that lives beside it.
struct Stores {
  AnyStore members;
  AnyLedger ledger;
};

/// The stores from `redis://HOST:PORT[/DB]`, or empty in-memory ones for `memory:NAME`
/// or a plain path (see load_members to fill them from a members file).
Result<Stores> make_stores(std::string_view url);

/// Where inbox records go: `log` (printed), `null` (dropped), `redis://HOST:PORT/STREAM`
/// or an SQS queue URL.
Result<AnyInbox> make_inbox(std::string_view url);

/// Fills an in-memory member store from a members file's text; entries that cannot be
/// read are passed to `skipped(where, what)`. Returns an error message if the whole text
/// is not a members file; an AnyStore of another kind is an error too.
std::string load_members(AnyStore& store, std::string_view text,
                         const std::function<void(const std::string&, const std::string&)>& skipped);

/// "m-<16 hex digits>-": a fresh prefix for a memory queue's record ids. The ids key the
/// idempotency markers (kept 24 h in Redis): the same file run again must not look like
/// records already sent.
std::string run_prefix();

/// A setting that cannot be used: what to say, the exit status, and whether the usage
/// text should follow.
struct Problem {
  Problem(int code, std::string what, bool show_usage = false)
      : exit_code(code), message(std::move(what)), usage(show_usage) {}
  int exit_code;
  std::string message;
  bool usage;
};

/// A usage problem (exit 64, the usage text follows).
Problem usage_problem(std::string message);

/// A number option from `min` up (and at most INT_MAX), or nullopt; a message in `error`
/// when it is given and not such a number.
std::optional<std::int64_t> number_flag(const Options& opts, std::string_view name, std::int64_t min,
                                        std::string& error);

/// "NOTIFY_NAME: " when the option came from the environment, else nothing: the prefix of
/// a message about the file or value it names.
std::string in_env(const Options& opts, std::string_view name);

/// Checks the settings notify-worker and notify-lambda share: --members (required),
/// --push (required) and the FCM options that go with it, --push-delay-ms, --inbox and
/// --log-format. Files are read later. Messages name an option as it was given.
std::optional<Problem> check_flags(const Options& opts);

/// The valid --push values, for messages.
inline constexpr std::string_view push_forms = "log, null, or services from fcm, apns, email, sms, alimtalk separated by commas";

/// The services of a --push value: "log", "null", or a comma-separated list of services
/// (fcm, apns, email, sms, alimtalk; duplicates dropped); nullopt when it is none of these
/// (log and null stand alone).
std::optional<std::vector<std::string>> push_services(std::string_view push);

/// The push provider the (checked) settings name, and a description for the log. FCM:
/// the key file is read and the key loaded; APNs: the .p8 key is loaded (--apns-key,
/// --apns-key-id, --apns-team-id, --apns-topic, --apns-endpoint); no network traffic yet.
/// `--push fcm` alone is the FCM provider itself; `apns` or `fcm,apns` is a RoutingPusher
/// that hands each push to the provider of its Push::service.
std::optional<Problem> build_pusher(const Options& opts, std::optional<AnyPusher>& pusher, std::string& description);

/// The channels the services of a (checked) --push value deliver through: fcm and apns
/// push, email, sms and alimtalk their own; log and null push.
ChannelSet channels_of(const std::vector<std::string>& services);

/// --routing FILE: the routes of the types it names over the catalog's (nullopt without
/// the flag). A file that cannot be read is exit 66; one with mistakes exit 65, every
/// mistake listed with its JSON path.
std::optional<Problem> build_routing(const Options& opts, std::optional<Routing>& routing);

/// With alimtalk in --push: every type whose route in force sends by AlimTalk needs its
/// template in --sens-templates (a usage problem naming the types without one), or each
/// such delivery would fail and dead-letter its record.
std::optional<Problem> check_templates(const Options& opts, const Routing& routing);

/// What notify-worker and notify-lambda plan with: --routing into `routing` (checked,
/// with the AlimTalk templates it needs), and `policy` pointing at it, over the channels
/// of --push.
std::optional<Problem> build_plan_settings(const Options& opts, std::optional<Routing>& routing, PlanPolicy& policy);

/// The member store and the idempotency store beside it (--members). Redis: nothing is
/// connected yet. A members file: loaded now (malformed entries are logged and skipped).
std::optional<Problem> build_stores(const Options& opts, std::optional<Stores>& stores, const EventLog& log);

/// Where inbox records go (--inbox, default log).
std::optional<Problem> build_inbox(const Options& opts, std::optional<AnyInbox>& inbox);

/// Checks notify-worker's queue settings (--queue, --dead-letter, --claim-idle-ms)
/// without building anything.
std::optional<Problem> check_queue_flags(const Options& opts);

/// notify-worker's queue (--queue, with --dead-letter and --claim-idle-ms). SQS: its
/// dead-letter queue is found now. memory:FILE: the file is read into the queue
/// (`loaded` records). Each record the queue dead-letters is printed as a
/// "dead_letter id=... reason=... body=..." line on stdout.
std::optional<Problem> build_worker_queue(const Options& opts, std::optional<AnyQueue>& queue, std::size_t& loaded);

/// notifyctl's queue (--queue, with --dead-letter): Redis or SQS, never memory.
std::optional<Problem> build_shared_queue(const Options& opts, std::optional<AnyQueue>& queue);

/// notifyctl's member store (--store): Redis only; `where` names it for messages (no password).
std::optional<Problem> build_shared_store(const Options& opts, std::optional<AnyStore>& store, std::string& where);

/// "members=... inbox=..." (with "queue=... " first when `with_queue`): the places of
/// the settings for the started event, without passwords.
std::string describe_places(const Options& opts, bool with_queue);

/// Checks the push provider's credentials now (FCM: fetches the access token), before
/// any record is taken. Rejected ones are a Problem (exit 1, logged as "fatal"); an
/// endpoint that cannot be reached yet is only logged (push_unavailable): the pushes are
/// retried with the records.
std::optional<Problem> connect_pusher(AnyPusher& pusher, const EventLog& log);

/// The worker's closing summary: "N records: ... done, ... dead-lettered, ... pending; M
/// pushes". A memory queue counts the records loaded from its file and what became of
/// them; another queue this worker's settlements and the whole queue's pending records.
std::string worker_summary(AnyQueue& queue, std::size_t loaded, const AnyPusher& pusher);

}  // namespace notify::app
