// SPDX-License-Identifier: MIT
#pragma once

/// What notify-worker and notify-lambda build alike from their settings (flags or
/// NOTIFY_<FLAG> variables): the event log, the member store and the idempotency store
/// beside it, the push provider and the inbox. Each program keeps its own driver (the
/// worker its queue, the Lambda bootstrap the Runtime API).

#include <chrono>
#include <cstdint>
#include <iostream>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
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

namespace components {

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

/// The push provider in use; counts the pushes handed to it (retries included). It takes
/// pushes one at a time for the engine: FCM's go out at once over its connections; the
/// printing provider's go out together at the next poll.
struct AnyPusher {
  PusherImpl impl;
  std::size_t count = 0;

  std::vector<notify::PushResult> send(std::span<const notify::Push> pushes) {
    count += pushes.size();
    return std::visit([&](auto& p) { return p.send(pushes); }, impl);
  }

  void submit(const notify::Push& push, std::uint64_t tag) {
    ++count;
#if NOTIFY_WITH_FCM
    if (auto* fcm = std::get_if<notify::fcm::PushProvider>(&impl)) return fcm->submit(push, tag);
#endif
    queued_.push_back(push);
    tags_.push_back(tag);
  }
  void poll(std::chrono::milliseconds wait, std::vector<notify::PushDone>& out) {
#if NOTIFY_WITH_FCM
    if (auto* fcm = std::get_if<notify::fcm::PushProvider>(&impl)) return fcm->poll(wait, out);
#endif
    (void)wait;
    if (queued_.empty()) return;
    const std::vector<notify::PushResult> results = std::get<PrintingPushProvider>(impl).send(queued_);
    for (std::size_t i = 0; i < tags_.size(); ++i) out.push_back({tags_[i], results[i]});
    queued_.clear();
    tags_.clear();
  }
  std::size_t in_flight() const {
#if NOTIFY_WITH_FCM
    if (const auto* fcm = std::get_if<notify::fcm::PushProvider>(&impl)) return fcm->in_flight();
#endif
    return queued_.size();
  }

  // The printing provider's pushes waiting for the next poll (public: AnyPusher stays an aggregate).
  std::vector<notify::Push> queued_{};
  std::vector<std::uint64_t> tags_{};
};

static_assert(notify::PushProvider<AnyPusher>);
static_assert(notify::AsyncPushProvider<AnyPusher>);

// The member store, idempotency store and inbox this build can use, chosen at run time.
#if NOTIFY_WITH_REDIS
using StoreImpl = std::variant<notify::memory::MemberStore, notify::redis::MemberStore>;
using LedgerImpl = std::variant<notify::memory::IdempotencyStore, notify::redis::IdempotencyStore>;
constexpr bool with_redis = true;
#else
using StoreImpl = std::variant<notify::memory::MemberStore>;
using LedgerImpl = std::variant<notify::memory::IdempotencyStore>;
constexpr bool with_redis = false;
#endif
#if NOTIFY_WITH_REDIS && NOTIFY_WITH_SQS
using InboxImpl = std::variant<PrintingInbox, notify::redis::StreamInbox, notify::sqs::QueueInbox>;
#elif NOTIFY_WITH_REDIS
using InboxImpl = std::variant<PrintingInbox, notify::redis::StreamInbox>;
#elif NOTIFY_WITH_SQS
using InboxImpl = std::variant<PrintingInbox, notify::sqs::QueueInbox>;
#else
using InboxImpl = std::variant<PrintingInbox>;
#endif
#if NOTIFY_WITH_SQS
constexpr bool with_sqs = true;
#else
constexpr bool with_sqs = false;
#endif

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

static_assert(notify::MemberStore<AnyStore>);
static_assert(notify::IdempotencyStore<AnyLedger>);
static_assert(notify::InboxSink<AnyInbox>);

/// What kind of place a flag names.
enum class Scheme : std::uint8_t { memory, file, redis, sqs, other };

inline Scheme scheme_of(std::string_view location) {
  if (location.substr(0, 7) == "memory:") return Scheme::memory;
  if (location.substr(0, 8) == "redis://" || location.substr(0, 7) == "unix://") return Scheme::redis;
  if (location.starts_with("https://") || location.starts_with("http://")) return Scheme::sqs;
  if (location.find("://") != std::string_view::npos) return Scheme::other;
  return Scheme::file;
}

/// The path of a memory:PATH location (or a plain PATH).
inline std::string memory_path(std::string_view location) {
  return std::string(location.substr(0, 7) == "memory:" ? location.substr(7) : location);
}

/// A location for logs: a Redis URL without its password.
inline std::string for_log(const std::string& location, Scheme scheme, bool with_stream) {
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
inline std::optional<std::int64_t> number_flag(const cli::Options& opts, std::string_view name, std::int64_t min,
                                        std::string& error) {
  if (!opts.has(name)) return std::nullopt;
  auto v = cli::parse_number(opts.value(name), min);
  if (!v || *v > std::numeric_limits<int>::max())
    error = opts.flag(name) + " must be a whole number from " + std::to_string(min) + " up";
  return v;
}

/// "NOTIFY_NAME: " when the option came from the environment, else nothing: the prefix of
/// a message about the file or value it names.
inline std::string in_env(const cli::Options& opts, std::string_view name) {
  return opts.from_env(name) ? cli::env_name(name) + ": " : std::string();
}

/// A setting that cannot be used: what to say, the exit status, and whether the usage
/// text should follow.
struct Problem {
  Problem(int code, std::string what, bool show_usage = false)
      : exit_code(code), message(std::move(what)), usage(show_usage) {}
  int exit_code;
  std::string message;
  bool usage;
};

inline Problem usage_problem(std::string message) { return Problem(cli::exit_usage, std::move(message), true); }
/// A kind of place this program knows but this build left out.
inline Problem not_built(std::string_view what, std::string_view adapter) {
  return Problem(cli::exit_usage, std::string(what) + ": not supported in this build (built without notify::" +
                                      std::string(adapter) + ")");
}
/// A place of a kind no build knows: say which kinds there are.
inline Problem unknown_kind(std::string_view what, std::string_view kind, std::string_view forms) {
  return usage_problem(std::string(what) + ": unknown kind of " + std::string(kind) + "; use " + std::string(forms));
}

/// The valid forms of each place, for messages.
inline constexpr std::string_view queue_forms =
    "redis://HOST:PORT/STREAM, an SQS queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME) or memory:FILE";
inline constexpr std::string_view members_forms = "redis://HOST:PORT[/DB] or a members FILE";
inline constexpr std::string_view inbox_forms = "log, null, redis://HOST:PORT/STREAM or an SQS queue URL";

/// Checks the shared settings: --members (required), --push (required) and the FCM
/// flags that go with it, --push-delay-ms, --inbox and --log-format. Files are read later.
/// Messages name an option as it was given: --flag, or NOTIFY_FLAG from the environment.
inline std::optional<Problem> check_flags(const cli::Options& opts) {
  if (!opts.has("members")) return usage_problem("--members is required (redis://HOST:PORT[/DB] or FILE)");
  if (!opts.has("push")) return usage_problem("--push is required (log, null or fcm)");
  const std::string& members_flag = opts.value("members");
  const Scheme members_scheme = scheme_of(members_flag);
  if (members_scheme == Scheme::other || members_scheme == Scheme::sqs)
    return unknown_kind(opts.flag("members") + " " + members_flag, "member store", members_forms);
  if (members_scheme == Scheme::redis && !with_redis) return not_built(opts.flag("members") + " " + members_flag, "redis");
  const std::string inbox_flag = opts.value_or("inbox", "log");
  const Scheme inbox_scheme = scheme_of(inbox_flag);
  if (inbox_scheme == Scheme::other) return unknown_kind(opts.flag("inbox") + " " + inbox_flag, "inbox", inbox_forms);
  if (inbox_scheme == Scheme::redis && !with_redis) return not_built(opts.flag("inbox") + " " + inbox_flag, "redis");
  if (inbox_scheme == Scheme::sqs && !with_sqs) return not_built(opts.flag("inbox") + " " + inbox_flag, "sqs");
  if (inbox_scheme != Scheme::redis && inbox_scheme != Scheme::sqs && inbox_flag != "log" && inbox_flag != "null")
    return usage_problem(opts.flag("inbox") + " must be " + std::string(inbox_forms));

  const std::string& push = opts.value("push");
  if (push == "fcm" && !with_fcm)
    return Problem{cli::exit_usage, opts.flag("push") + " fcm: not supported in this build (built without notify::fcm)",
                   false};
  if (push != "log" && push != "null" && push != "fcm") return usage_problem(opts.flag("push") + " must be log, null or fcm");
  constexpr std::string_view fcm_flags[] = {"fcm-credentials", "fcm-endpoint", "ca-file", "fcm-connections",
                                            "fcm-streams"};
  for (std::string_view flag : fcm_flags)
    if (push != "fcm" && opts.has(flag)) return usage_problem(opts.flag(flag) + " goes with --push fcm");
  if (push == "fcm" && !opts.has("fcm-credentials"))
    return usage_problem(opts.flag("push") +
                         " fcm needs --fcm-credentials FILE (a service-account JSON key file; or NOTIFY_FCM_CREDENTIALS)");
  const std::string log_format = opts.value_or("log-format", "text");
  if (log_format != "text" && log_format != "json") return usage_problem(opts.flag("log-format") + " must be text or json");
  std::string number_error;
  const auto push_delay = number_flag(opts, "push-delay-ms", 0, number_error);
  number_flag(opts, "fcm-connections", 1, number_error);
  number_flag(opts, "fcm-streams", 1, number_error);
  if (!number_error.empty()) return usage_problem(number_error);
  if (push == "fcm" && push_delay) return usage_problem(opts.flag("push-delay-ms") + " goes with --push log or null");
  return std::nullopt;
}

/// The push provider the (checked) settings name, and a description for the log. FCM:
/// the key file is read and the key loaded; no network traffic yet.
inline std::optional<Problem> make_pusher(const cli::Options& opts, std::optional<AnyPusher>& pusher_slot,
                                          std::string& push_description) {
  const std::string& push = opts.value("push");
  std::string number_error;
  const auto push_delay = number_flag(opts, "push-delay-ms", 0, number_error);
  const auto fcm_connections = number_flag(opts, "fcm-connections", 1, number_error);
  const auto fcm_streams = number_flag(opts, "fcm-streams", 1, number_error);
  push_description = push;
  if (push == "fcm") {
#if NOTIFY_WITH_FCM
    const std::string& credentials_path = opts.value("fcm-credentials");
    std::string why;
    auto credentials_text = credentials_path == "-" ? std::nullopt : cli::read_input(credentials_path, &why);
    if (!credentials_text)
      return Problem{cli::exit_no_input,
                     in_env(opts, "fcm-credentials") + cli::cannot_read("the service-account file", credentials_path, why)};
    auto account = notify::fcm::parse_service_account(*credentials_text);
    notify::fcm::wipe(*credentials_text);
    if (!account) return Problem{cli::exit_data, credentials_path + ": " + account.error().message};
    notify::fcm::Options fcm_options;
    fcm_options.endpoint = opts.value_or("fcm-endpoint", std::string(notify::fcm::default_endpoint));
    if (opts.has("ca-file")) {
      fcm_options.ca_file = opts.value("ca-file");
      if (!cli::read_input(fcm_options.ca_file, &why))
        return Problem{cli::exit_no_input, in_env(opts, "ca-file") + cli::cannot_read("the CA file", fcm_options.ca_file, why)};
    }
    if (fcm_connections) fcm_options.connections = static_cast<std::size_t>(*fcm_connections);
    if (fcm_streams) fcm_options.streams_per_connection = static_cast<std::size_t>(*fcm_streams);
    push_description = "fcm endpoint=" + fcm_options.endpoint + " project=" + account->project_id;
    auto provider = notify::fcm::PushProvider::create(std::move(*account), std::move(fcm_options));
    if (!provider) {
      // A bad --fcm-endpoint is a usage error; anything else (the key) is in the file.
      const bool endpoint = provider.error().path == "endpoint";
      return Problem{endpoint ? cli::exit_usage : cli::exit_data,
                     (endpoint ? in_env(opts, "fcm-endpoint") : in_env(opts, "fcm-credentials")) +
                         "cannot set up FCM: " + provider.error().message};
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
  return std::nullopt;
}

/// The member store, and the idempotency store beside it. Redis: nothing is connected
/// yet. A members file: loaded now (malformed entries are logged and skipped).
inline std::optional<Problem> make_store(const cli::Options& opts, AnyStore& store, AnyLedger& ledger,
                                         const EventLog& log) {
  const std::string& members_flag = opts.value("members");
  if (scheme_of(members_flag) == Scheme::redis) {
#if NOTIFY_WITH_REDIS
    auto options = notify::redis::parse_url(members_flag);
    if (!options) return usage_problem(opts.flag("members") + ": " + options.error().message);
    store.impl.emplace<notify::redis::MemberStore>(*options);
    ledger.impl.emplace<notify::redis::IdempotencyStore>(*options);
#else
    (void)ledger;
#endif
    return std::nullopt;
  }
  const std::string members_path = memory_path(members_flag);
  auto& memory_store = std::get<notify::memory::MemberStore>(store.impl);
  std::string why;
  const auto members_text = cli::read_input(members_path, &why);
  if (!members_text)
    return Problem{cli::exit_no_input, in_env(opts, "members") + cli::cannot_read("members file", members_path, why)};
  const std::string bad_members = cli::for_each_stored_member(
      *members_text,
      [&](notify::Id family, const std::string& field, const std::string& value) {
        memory_store.put_raw(family, field, value);
      },
      [&](const std::string& where, const std::string& what) {
        log(notify::Event{"member_skipped", where, {}, {}, what});
      });
  if (!bad_members.empty()) return Problem{cli::exit_data, in_env(opts, "members") + members_path + ": " + bad_members};
  return std::nullopt;
}

/// Where inbox records go: printed (log), dropped (null), a Redis stream or an SQS queue.
inline std::optional<Problem> make_inbox(const cli::Options& opts, AnyInbox& inbox) {
  const std::string inbox_flag = opts.value_or("inbox", "log");
  if (scheme_of(inbox_flag) == Scheme::sqs) {
#if NOTIFY_WITH_SQS
    auto queue = notify::sqs::Queue::open(inbox_flag);
    if (!queue)
      return Problem{queue.error().code == notify::Errc::configuration ? cli::exit_usage : cli::exit_failure,
                     opts.flag("inbox") + " " + inbox_flag + ": " + queue.error().message};
    inbox.impl.emplace<notify::sqs::QueueInbox>(std::move(*queue));
#endif
  } else if (scheme_of(inbox_flag) == Scheme::redis) {
#if NOTIFY_WITH_REDIS
    auto address = notify::redis::parse_queue_url(inbox_flag);
    if (!address) return usage_problem(opts.flag("inbox") + ": " + address.error().message);
    inbox.impl.emplace<notify::redis::StreamInbox>(address->connection, address->stream);
#endif
  } else {
    inbox.impl.emplace<PrintingInbox>(inbox_flag == "log");
  }
  return std::nullopt;
}

}  // namespace components
