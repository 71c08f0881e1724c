// SPDX-License-Identifier: MIT
#include "notify/app/wiring.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <limits>
#include <random>
#include <utility>
#include <vector>

#include <unistd.h>

#include "notify/apns/apns.hpp"
#include "notify/app/routing.hpp"
#include "notify/app/threaded.hpp"
#include "notify/email/email.hpp"
#include "notify/fcm/fcm.hpp"
#include "notify/memory/memory.hpp"
#include "notify/redis/redis.hpp"
#include "notify/sens/sens.hpp"
#include "notify/sqs/sqs.hpp"

namespace notify::app {

Scheme scheme_of(std::string_view location) {
  if (location.starts_with("memory:")) return Scheme::memory;
  if (location.starts_with("redis://") || location.starts_with("unix://")) return Scheme::redis;
  if (location.starts_with("https://") || location.starts_with("http://")) return Scheme::sqs;
  if (location.find("://") != std::string_view::npos) return Scheme::other;
  return Scheme::file;
}

std::string memory_path(std::string_view location) {
  return std::string(location.starts_with("memory:") ? location.substr(7) : location);
}

std::string for_log(const std::string& location, Scheme scheme, bool with_stream) {
  if (scheme == Scheme::redis && with_stream)
    if (auto a = redis::parse_queue_url(location)) return redis::describe(a->connection) + "/" + a->stream;
  if (scheme == Scheme::redis && !with_stream)
    if (auto o = redis::parse_url(location)) return redis::describe(*o);
  return location;
}

std::string run_prefix() {
  std::random_device device;
  std::uint64_t bits = (std::uint64_t{device()} << 32) ^ device();
  bits ^= static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(bits));
  return "m-" + std::string(hex) + "-";
}

// --- transports from URLs ---

Result<AnyQueue> make_queue(std::string_view url, const QueueSettings& settings) {
  switch (scheme_of(url)) {
    case Scheme::redis: {
      auto address = redis::parse_queue_url(url);
      if (!address) return address.error();
      if (!settings.dead_letter.empty()) {
        // The adapter names its dead-letter stream; the setting may only confirm it.
        const std::string expected = address->stream + ":dead";
        bool same = settings.dead_letter == expected;
        if (auto dl = redis::parse_queue_url(settings.dead_letter); dl && !same)
          same = dl->stream == expected && redis::describe(dl->connection) == redis::describe(address->connection);
        if (!same)
          return Error{Errc::configuration,
                       "this queue keeps its dead letters in the stream '" + expected +
                           "' of its own Redis; name that stream or leave the flag out",
                       "dead_letter"};
      }
      redis::QueueOptions options;
      options.stream = address->stream;
      if (settings.claim_idle) options.claim_idle = *settings.claim_idle;
      return AnyQueue(redis::Queue(address->connection, options));
    }
    case Scheme::sqs: {
      sqs::QueueOptions options;
      options.dead_letter_url = settings.dead_letter;
      auto queue = sqs::Queue::open(url, options);
      if (!queue) return queue.error();
      return AnyQueue(std::move(*queue));
    }
    case Scheme::memory: {
      AnyQueue queue(std::in_place_type<memory::Queue>, std::string(url));
      auto* memory_queue = queue.get<memory::Queue>();
      memory_queue->id_prefix = run_prefix();
      if (settings.claim_idle) memory_queue->visibility_timeout = *settings.claim_idle;
      return queue;
    }
    case Scheme::file:
    case Scheme::other: break;
  }
  return Error{Errc::configuration, "unknown kind of queue; use " + std::string(queue_forms), {}};
}

Result<Stores> make_stores(std::string_view url) {
  switch (scheme_of(url)) {
    case Scheme::redis: {
      auto options = redis::parse_url(url);
      if (!options) return options.error();
      return Stores{AnyStore(redis::MemberStore(*options)), AnyLedger(redis::IdempotencyStore(*options))};
    }
    case Scheme::memory:
    case Scheme::file: return Stores{AnyStore(memory::MemberStore()), AnyLedger(memory::IdempotencyStore())};
    case Scheme::sqs:
    case Scheme::other: break;
  }
  return Error{Errc::configuration, "unknown kind of member store; use " + std::string(members_forms), {}};
}

Result<AnyInbox> make_inbox(std::string_view url) {
  if (url == "log" || url == "null") return AnyInbox(PrintingInbox(url == "log"));
  switch (scheme_of(url)) {
    case Scheme::redis: {
      auto address = redis::parse_queue_url(url);
      if (!address) return address.error();
      return AnyInbox(redis::StreamInbox(address->connection, address->stream));
    }
    case Scheme::sqs: {
      auto queue = sqs::Queue::open(url);
      if (!queue) return queue.error();
      return AnyInbox(sqs::QueueInbox(std::move(*queue)));
    }
    case Scheme::memory:
    case Scheme::file:
    case Scheme::other: break;
  }
  return Error{Errc::configuration, "unknown kind of inbox; use " + std::string(inbox_forms), {}};
}

std::string load_members(AnyStore& store, std::string_view text,
                         const std::function<void(const std::string&, const std::string&)>& skipped) {
  auto* memory_store = store.get<memory::MemberStore>();
  if (!memory_store) return "only an in-memory member store loads a members file";
  return for_each_stored_member(
      text,
      [&](Id family, const std::string& field, const std::string& value) { memory_store->put_raw(family, field, value); },
      skipped);
}

// --- a program's settings ---

Problem usage_problem(std::string message) { return Problem(exit_usage, std::move(message), true); }

namespace {

/// A place of a kind no build knows: say which kinds there are.
Problem unknown_kind(std::string_view what, std::string_view kind, std::string_view forms) {
  return usage_problem(std::string(what) + ": unknown kind of " + std::string(kind) + "; use " + std::string(forms));
}

}  // namespace

std::optional<std::int64_t> number_flag(const Options& opts, std::string_view name, std::int64_t min,
                                        std::string& error) {
  if (!opts.has(name)) return std::nullopt;
  auto v = parse_number(opts.value(name), min);
  if (!v || *v > std::numeric_limits<int>::max())
    error = opts.flag(name) + " must be a whole number from " + std::to_string(min) + " up";
  return v;
}

std::string in_env(const Options& opts, std::string_view name) {
  return opts.from_env(name) ? env_name(name) + ": " : std::string();
}

namespace {
constexpr std::string_view apns_flags[] = {"apns-key",      "apns-key-id",      "apns-team-id",
                                           "apns-topic",    "apns-endpoint",    "apns-connections",
                                           "apns-streams"};
constexpr std::string_view smtp_flags[] = {"smtp-url", "smtp-from", "smtp-from-name", "smtp-user",
                                           "smtp-password-file"};
constexpr std::string_view sens_flags[] = {"sens-endpoint",    "sens-access-key", "sens-secret-key-file",
                                           "sens-sms-service", "sens-alimtalk-service", "sens-from",
                                           "sens-plus-friend", "sens-templates",  "sens-sms-failover"};

bool has_service(const std::vector<std::string>& services, std::string_view name) {
  return std::find(services.begin(), services.end(), name) != services.end();
}
}  // namespace

std::optional<Problem> check_flags(const Options& opts) {
  if (!opts.has("members")) return usage_problem("--members is required (redis://HOST:PORT[/DB] or FILE)");
  if (!opts.has("push")) return usage_problem("--push is required (" + std::string(push_forms) + ")");
  const std::string& members_flag = opts.value("members");
  const Scheme members_scheme = scheme_of(members_flag);
  if (members_scheme == Scheme::other || members_scheme == Scheme::sqs)
    return unknown_kind(opts.flag("members") + " " + members_flag, "member store", members_forms);
  const std::string inbox_flag = opts.value_or("inbox", "log");
  const Scheme inbox_scheme = scheme_of(inbox_flag);
  if (inbox_scheme == Scheme::other) return unknown_kind(opts.flag("inbox") + " " + inbox_flag, "inbox", inbox_forms);
  if (inbox_scheme != Scheme::redis && inbox_scheme != Scheme::sqs && inbox_flag != "log" && inbox_flag != "null")
    return usage_problem(opts.flag("inbox") + " must be " + std::string(inbox_forms));

  const std::string& push = opts.value("push");
  const auto services = push_services(push);
  if (!services) return usage_problem(opts.flag("push") + " must be " + std::string(push_forms));
  const bool fcm = has_service(*services, "fcm");
  const bool apns = has_service(*services, "apns");
  const bool email = has_service(*services, "email");
  const bool sms = has_service(*services, "sms");
  const bool alimtalk = has_service(*services, "alimtalk");
  constexpr std::string_view fcm_flags[] = {"fcm-credentials", "fcm-endpoint", "fcm-connections", "fcm-streams"};
  for (std::string_view flag : fcm_flags)
    if (!fcm && opts.has(flag)) return usage_problem(opts.flag(flag) + " goes with --push fcm");
  for (std::string_view flag : apns_flags)
    if (!apns && opts.has(flag)) return usage_problem(opts.flag(flag) + " goes with --push apns");
  for (std::string_view flag : smtp_flags)
    if (!email && opts.has(flag)) return usage_problem(opts.flag(flag) + " goes with --push email");
  for (std::string_view flag : sens_flags)
    if (!sms && !alimtalk && opts.has(flag)) return usage_problem(opts.flag(flag) + " goes with --push sms or alimtalk");
  if (!sms && opts.has("sens-sms-service")) return usage_problem(opts.flag("sens-sms-service") + " goes with --push sms");
  if (!alimtalk)
    for (std::string_view flag : {"sens-alimtalk-service", "sens-plus-friend", "sens-templates", "sens-sms-failover"})
      if (opts.has(flag)) return usage_problem(opts.flag(flag) + " goes with --push alimtalk");
  if (sms || alimtalk) {
    std::vector<std::pair<std::string_view, std::string_view>> needed = {{"sens-access-key", "KEY"},
                                                                         {"sens-from", "NUMBER (the registered sender)"}};
    if (sms) needed.push_back({"sens-sms-service", "ID (the SMS service id)"});
    if (alimtalk) {
      needed.push_back({"sens-alimtalk-service", "ID (the AlimTalk service id)"});
      needed.push_back({"sens-plus-friend", "ID (the KakaoTalk channel, @name)"});
      needed.push_back({"sens-templates", "TYPE=CODE,..."});
    }
    for (auto [flag, what] : needed)
      if (!opts.has(flag)) {
        const bool alimtalk_only = flag == "sens-alimtalk-service" || flag == "sens-plus-friend" || flag == "sens-templates";
        return usage_problem(opts.flag("push") + (sms && !alimtalk_only ? " sms" : " alimtalk") + " needs --" +
                             std::string(flag) + " " + std::string(what) + " (or " + env_name(flag) + ")");
      }
    if (!opts.has("sens-secret-key-file") && !std::getenv(std::string(sens::env_secret_key).c_str()))
      return usage_problem(opts.flag("push") + (sms ? " sms" : " alimtalk") +
                           " needs --sens-secret-key-file FILE (or " + std::string(sens::env_secret_key) + ")");
    if (opts.has("sens-templates"))
      if (auto t = sens::parse_templates(opts.value("sens-templates")); !t)
        return usage_problem(opts.flag("sens-templates") + ": " + t.error().message);
  }
  if (!fcm && !apns && !email && !sms && !alimtalk && opts.has("ca-file"))
    return usage_problem(opts.flag("ca-file") + " goes with a service in --push");
  if (fcm && !opts.has("fcm-credentials"))
    return usage_problem(opts.flag("push") +
                         " fcm needs --fcm-credentials FILE (a service-account JSON key file; or NOTIFY_FCM_CREDENTIALS)");
  if (apns)
    for (auto [flag, what] : {std::pair{"apns-key", "FILE (the .p8 signing key)"}, std::pair{"apns-key-id", "ID"},
                              std::pair{"apns-team-id", "ID"}, std::pair{"apns-topic", "BUNDLE-ID"}})
      if (!opts.has(flag))
        return usage_problem(opts.flag("push") + " apns needs --" + flag + " " + what + " (or " + env_name(flag) + ")");
  if (email)
    for (auto [flag, what] : {std::pair{"smtp-url", "smtp://HOST:PORT or smtps://HOST:PORT"},
                              std::pair{"smtp-from", "ADDRESS"}})
      if (!opts.has(flag))
        return usage_problem(opts.flag("push") + " email needs --" + flag + " " + what + " (or " + env_name(flag) + ")");
  if (email && opts.has("smtp-user") != opts.has("smtp-password-file"))
    return usage_problem(opts.flag("smtp-user") + " and " + opts.flag("smtp-password-file") + " go together");
  if (apns && opts.has("apns-endpoint"))
    if (auto e = apns::resolve_endpoint(opts.value("apns-endpoint")); !e)
      return usage_problem(opts.flag("apns-endpoint") + " must be production, sandbox or an http(s):// URL");
  const std::string log_format = opts.value_or("log-format", "text");
  if (log_format != "text" && log_format != "json") return usage_problem(opts.flag("log-format") + " must be text or json");
  std::string number_error;
  const auto push_delay = number_flag(opts, "push-delay-ms", 0, number_error);
  number_flag(opts, "fcm-connections", 1, number_error);
  number_flag(opts, "fcm-streams", 1, number_error);
  number_flag(opts, "apns-connections", 1, number_error);
  number_flag(opts, "apns-streams", 1, number_error);
  if (!number_error.empty()) return usage_problem(number_error);
  if ((fcm || apns || email || sms || alimtalk) && push_delay)
    return usage_problem(opts.flag("push-delay-ms") + " goes with --push log or null");
  return std::nullopt;
}

namespace {

/// --ca-file into `out` when given, after checking that it can be read (66 if not).
std::optional<Problem> ca_file(const Options& opts, std::string& out) {
  if (!opts.has("ca-file")) return std::nullopt;
  out = opts.value("ca-file");
  std::string why;
  if (!read_input(out, &why)) return Problem{exit_no_input, in_env(opts, "ca-file") + cannot_read("the CA file", out, why)};
  return std::nullopt;
}

std::optional<Problem> build_fcm(const Options& opts, std::optional<AnyPusher>& pusher, std::string& description) {
  std::string number_error;
  const auto fcm_connections = number_flag(opts, "fcm-connections", 1, number_error);
  const auto fcm_streams = number_flag(opts, "fcm-streams", 1, number_error);
  const std::string& credentials_path = opts.value("fcm-credentials");
  std::string why;
  auto credentials_text = credentials_path == "-" ? std::nullopt : read_input(credentials_path, &why);
  if (!credentials_text)
    return Problem{exit_no_input,
                   in_env(opts, "fcm-credentials") + cannot_read("the service-account file", credentials_path, why)};
  auto account = fcm::parse_service_account(*credentials_text);
  fcm::wipe(*credentials_text);
  if (!account) return Problem{exit_data, credentials_path + ": " + account.error().message};
  fcm::Options fcm_options;
  fcm_options.endpoint = opts.value_or("fcm-endpoint", std::string(fcm::default_endpoint));
  if (auto p = ca_file(opts, fcm_options.ca_file)) return p;
  if (fcm_connections) fcm_options.connections = static_cast<std::size_t>(*fcm_connections);
  if (fcm_streams) fcm_options.streams_per_connection = static_cast<std::size_t>(*fcm_streams);
  description = "fcm endpoint=" + fcm_options.endpoint + " project=" + account->project_id;
  auto provider = fcm::PushProvider::create(std::move(*account), std::move(fcm_options));
  if (!provider) {
    // A bad --fcm-endpoint is a usage error; anything else (the key) is in the file.
    const bool endpoint = provider.error().path == "endpoint";
    return Problem{endpoint ? exit_usage : exit_data,
                   (endpoint ? in_env(opts, "fcm-endpoint") : in_env(opts, "fcm-credentials")) +
                       "cannot set up FCM: " + provider.error().message};
  }
  pusher.emplace(std::move(*provider));
  return std::nullopt;
}

std::optional<Problem> build_apns(const Options& opts, std::optional<AnyPusher>& pusher, std::string& description) {
  const std::string& key_path = opts.value("apns-key");
  std::string why;
  auto key = read_input(key_path, &why);
  if (!key) return Problem{exit_no_input, in_env(opts, "apns-key") + cannot_read("the APNs signing key", key_path, why)};
  apns::Credentials credentials{std::move(*key), opts.value("apns-key-id"), opts.value("apns-team-id")};
  std::string number_error;
  const auto connections = number_flag(opts, "apns-connections", 1, number_error);
  const auto streams = number_flag(opts, "apns-streams", 1, number_error);
  apns::Options o;
  if (connections) o.connections = static_cast<std::size_t>(*connections);
  if (streams) o.streams_per_connection = static_cast<std::size_t>(*streams);
  o.endpoint = opts.value_or("apns-endpoint", "production");
  o.topic = opts.value("apns-topic");
  if (auto p = ca_file(opts, o.ca_file)) return p;
  const auto resolved = apns::resolve_endpoint(o.endpoint);
  const std::string endpoint = resolved ? *resolved : o.endpoint;
  description = "apns endpoint=" + endpoint + " topic=" + o.topic + " key-id=" + opts.value("apns-key-id");
  auto provider = apns::PushProvider::create(std::move(credentials), std::move(o));
  if (!provider) {
    const bool endpoint_problem = provider.error().path == "endpoint";
    return Problem{endpoint_problem ? exit_usage : exit_data,
                   (endpoint_problem ? in_env(opts, "apns-endpoint") : in_env(opts, "apns-key")) +
                       "cannot set up APNs: " + provider.error().message};
  }
  pusher.emplace(std::move(*provider));
  return std::nullopt;
}

/// A provider that refused its settings: a file's content is data (65), the rest usage (64).
Problem setup_problem(std::string_view what, const std::string& message) {
  const bool file = message.find("file") != std::string::npos;
  return Problem{file ? exit_data : exit_usage, "cannot set up " + std::string(what) + ": " + message, !file};
}

std::optional<Problem> build_email(const Options& opts, std::optional<AnyPusher>& pusher, std::string& description) {
  email::Options o;
  o.url = opts.value("smtp-url");
  o.from = opts.value("smtp-from");
  o.from_name = opts.value_or("smtp-from-name", "");
  o.user = opts.value_or("smtp-user", "");
  o.password_file = opts.value_or("smtp-password-file", "");
  // Only whether it can be read: the provider reads it once and wipes its copy.
  if (!o.password_file.empty() && ::access(o.password_file.c_str(), R_OK) != 0)
    return Problem{exit_no_input, in_env(opts, "smtp-password-file") +
                                      cannot_read("the SMTP password file", o.password_file, std::strerror(errno))};
  if (auto p = ca_file(opts, o.ca_file)) return p;
  description = "email url=" + o.url + " from=" + o.from;
  auto provider = email::Provider::create(std::move(o));
  if (!provider) return setup_problem("e-mail", provider.error().message);
  // SMTP is synchronous: on its own thread, a slow server never holds up the engine.
  pusher.emplace(ThreadedPusher<email::Provider>(std::move(*provider)));
  return std::nullopt;
}

/// One SENS provider (sms and alimtalk each get their own, with its own connection).
std::optional<Problem> build_sens(const Options& opts, std::optional<AnyPusher>& pusher, std::string& description) {
  sens::Options o;
  o.base_url = opts.value_or("sens-endpoint", std::string(sens::default_base_url));
  o.access_key = opts.value("sens-access-key");
  o.secret_key_file = opts.value_or("sens-secret-key-file", "");
  if (!o.secret_key_file.empty() && ::access(o.secret_key_file.c_str(), R_OK) != 0)
    return Problem{exit_no_input, in_env(opts, "sens-secret-key-file") + cannot_read("the SENS secret key file",
                                                                                  o.secret_key_file, std::strerror(errno))};
  o.sms_service_id = opts.value_or("sens-sms-service", "");
  o.alimtalk_service_id = opts.value_or("sens-alimtalk-service", "");
  o.from = opts.value("sens-from");
  o.plus_friend_id = opts.value_or("sens-plus-friend", "");
  if (opts.has("sens-templates")) o.templates = *sens::parse_templates(opts.value("sens-templates"));
  o.sms_failover = opts.has("sens-sms-failover");
  if (auto p = ca_file(opts, o.ca_file)) return p;
  description = "sens endpoint=" + o.base_url + " from=" + o.from;
  auto provider = sens::Provider::create(std::move(o));
  if (!provider) return setup_problem("SENS", provider.error().message);
  pusher.emplace(ThreadedPusher<sens::Provider>(std::move(*provider)));  // synchronous HTTPS, as e-mail
  return std::nullopt;
}

}  // namespace

std::optional<std::vector<std::string>> push_services(std::string_view push) {
  std::vector<std::string> out;
  while (true) {
    const std::size_t comma = push.find(',');
    std::string item(push.substr(0, comma));
    if (item != "log" && item != "null" && !parse_service(item)) return std::nullopt;
    if (std::find(out.begin(), out.end(), item) == out.end()) out.push_back(std::move(item));
    if (comma == std::string_view::npos) break;
    push.remove_prefix(comma + 1);
  }
  const bool plain = std::any_of(out.begin(), out.end(), [](const std::string& s) { return s == "log" || s == "null"; });
  if (plain && out.size() > 1) return std::nullopt;  // log and null stand alone
  return out;
}

std::optional<Problem> build_pusher(const Options& opts, std::optional<AnyPusher>& pusher, std::string& description) {
  const std::string& push = opts.value("push");
  std::string number_error;
  const auto push_delay = number_flag(opts, "push-delay-ms", 0, number_error);
  description = push;
  const auto services = push_services(push).value_or(std::vector<std::string>{"log"});
  if (services.front() == "log" || services.front() == "null") {
    pusher.emplace(PrintingPushProvider(push == "log", std::chrono::milliseconds(push_delay.value_or(0))));
    return std::nullopt;
  }
  if (services.size() == 1 && services.front() == "fcm") return build_fcm(opts, pusher, description);
  // apns, or several services: each push goes to the provider of its device's service.
  RoutingPusher router;
  description.clear();
  for (const std::string& service : services) {
    std::optional<AnyPusher> one;
    std::string what;
    const PushService kind = *parse_service(service);
    std::optional<Problem> problem;
    switch (kind) {
      case PushService::fcm: problem = build_fcm(opts, one, what); break;
      case PushService::apns: problem = build_apns(opts, one, what); break;
      case PushService::email: problem = build_email(opts, one, what); break;
      case PushService::sms:
      case PushService::alimtalk: problem = build_sens(opts, one, what); break;
    }
    if (problem) return problem;
    router.set(kind, std::move(*one));
    if (!description.empty()) description += "; ";
    description += what;
  }
  pusher.emplace(std::move(router));
  return std::nullopt;
}

std::optional<Problem> build_stores(const Options& opts, std::optional<Stores>& stores, const EventLog& log) {
  const std::string& members_flag = opts.value("members");
  auto made = make_stores(members_flag);
  if (!made) return usage_problem(opts.flag("members") + ": " + made.error().message);
  stores.emplace(std::move(*made));
  if (scheme_of(members_flag) == Scheme::redis) return std::nullopt;
  const std::string members_path = memory_path(members_flag);
  std::string why;
  const auto members_text = read_input(members_path, &why);
  if (!members_text)
    return Problem{exit_no_input, in_env(opts, "members") + cannot_read("members file", members_path, why)};
  const std::string bad_members = load_members(stores->members, *members_text, [&](const std::string& where, const std::string& what) {
    log(Event{"member_skipped", where, {}, {}, what});
  });
  if (!bad_members.empty()) return Problem{exit_data, in_env(opts, "members") + members_path + ": " + bad_members};
  return std::nullopt;
}

ChannelSet channels_of(const std::vector<std::string>& services) {
  ChannelSet set;
  for (const std::string& s : services) {
    if (s == "email") set.add(Channel::email);
    else if (s == "sms") set.add(Channel::sms);
    else if (s == "alimtalk") set.add(Channel::alimtalk);
    else set.add(Channel::push);
  }
  return set;
}

std::optional<Problem> check_templates(const Options& opts, const Routing& routing) {
  const auto services = push_services(opts.value_or("push", "log"));
  if (!services || !has_service(*services, "alimtalk")) return std::nullopt;
  const auto templates = sens::parse_templates(opts.value_or("sens-templates", ""));
  std::string missing;
  for (std::size_t i = 0; i < type_count; ++i) {
    const auto type = static_cast<NotificationType>(i);
    if (!routing.of(type).uses(Channel::alimtalk)) continue;
    if (templates && templates->find(to_string(type)) != templates->end()) continue;
    if (!missing.empty()) missing += ", ";
    missing += to_string(type);
  }
  if (missing.empty()) return std::nullopt;
  return usage_problem(opts.flag("sens-templates") + " has no AlimTalk template for " + missing +
                       ", which the routes send by AlimTalk (give TYPE=CODE for each, or a --routing file without alimtalk for them)");
}

std::optional<Problem> build_routing(const Options& opts, std::optional<Routing>& routing) {
  if (!opts.has("routing")) return std::nullopt;
  const std::string& path = opts.value("routing");
  std::string why;
  const auto text = read_input(path, &why);
  if (!text) return Problem{exit_no_input, in_env(opts, "routing") + cannot_read("routing file", path, why)};
  auto parsed = parse_routing(*text);
  if (!parsed) {
    std::string message = in_env(opts, "routing") + path + ": not a valid routing file:";
    for (const Error& e : parsed.error())
      message += "\n  " + (e.path.empty() ? std::string("(top)") : e.path) + ": " + e.message + " (" +
                 std::string(to_string(e.code)) + ")";
    return Problem{exit_data, std::move(message)};
  }
  routing.emplace(*parsed);
  return std::nullopt;
}

std::optional<Problem> build_plan_settings(const Options& opts, std::optional<Routing>& routing, PlanPolicy& policy) {
  if (auto p = build_routing(opts, routing)) return p;
  if (auto p = check_templates(opts, routing.value_or(Routing{}))) return p;
  policy.routing = routing ? &*routing : nullptr;
  policy.channels = channels_of(push_services(opts.value("push")).value_or(std::vector<std::string>{"log"}));
  return std::nullopt;
}

std::optional<Problem> build_inbox(const Options& opts, std::optional<AnyInbox>& inbox) {
  const std::string inbox_flag = opts.value_or("inbox", "log");
  auto made = make_inbox(inbox_flag);
  if (!made) {
    if (scheme_of(inbox_flag) == Scheme::sqs)
      return Problem{made.error().code == Errc::configuration ? exit_usage : exit_failure,
                     opts.flag("inbox") + " " + inbox_flag + ": " + made.error().message};
    return usage_problem(opts.flag("inbox") + ": " + made.error().message);
  }
  inbox.emplace(std::move(*made));
  return std::nullopt;
}

std::optional<Problem> check_queue_flags(const Options& opts) {
  const std::string& queue_flag = opts.value("queue");
  const Scheme scheme = scheme_of(queue_flag);
  const std::string name = opts.flag("queue");
  if (scheme == Scheme::other) return unknown_kind(name + " " + queue_flag, "queue", queue_forms);
  if (scheme == Scheme::file) return usage_problem(name + " must be " + std::string(queue_forms));
  if (opts.has("dead-letter") && scheme == Scheme::memory)
    return usage_problem(opts.flag("dead-letter") +
                         " goes with Redis and SQS queues (a memory queue keeps its dead letters)");
  if (opts.has("claim-idle-ms") && scheme == Scheme::sqs)
    return usage_problem(opts.flag("claim-idle-ms") +
                         " goes with Redis and memory queues (an SQS queue's visibility timeout does that)");
  std::string number_error;
  number_flag(opts, "claim-idle-ms", 1, number_error);
  if (!number_error.empty()) return usage_problem(number_error);
  return std::nullopt;
}

std::optional<Problem> build_worker_queue(const Options& opts, std::optional<AnyQueue>& queue, std::size_t& loaded) {
  if (auto p = check_queue_flags(opts)) return p;
  const std::string& queue_flag = opts.value("queue");
  const Scheme scheme = scheme_of(queue_flag);
  const std::string name = opts.flag("queue");
  std::string number_error;
  const auto claim_idle = number_flag(opts, "claim-idle-ms", 1, number_error);

  QueueSettings settings;
  settings.dead_letter = opts.value_or("dead-letter", "");
  if (claim_idle) settings.claim_idle = std::chrono::milliseconds(*claim_idle);
  auto made = make_queue(queue_flag, settings);
  if (!made) {
    const Error& e = made.error();
    if (scheme == Scheme::sqs)
      return Problem{e.code == Errc::configuration ? exit_usage : exit_failure, name + " " + queue_flag + ": " + e.message};
    if (e.path == "dead_letter") return usage_problem(opts.flag("dead-letter") + ": " + e.message);
    return usage_problem(name + ": " + e.message);
  }
  queue.emplace(std::move(*made));
  queue->on_dead_letter = [](const Settlement& s) {
    std::cout << "dead_letter id=" << s.record->id << " reason=" << s.outcome.reason << " body=" << s.record->body
              << '\n'
              << std::flush;
  };

  if (auto* sqs_queue = queue->get<sqs::Queue>()) {
    // Dead letters need a place: found now rather than when the first one comes.
    if (auto dl = sqs_queue->dead_letter_url(); !dl)
      return Problem{is_transient(dl.error().code) ? exit_failure : exit_usage,
                     name + " " + queue_flag + ": " + dl.error().message};
  } else if (scheme == Scheme::memory) {
    const std::string path = memory_path(queue_flag);
    std::string why;
    const auto text = read_input(path, &why);
    if (!text) return Problem{exit_no_input, in_env(opts, "queue") + cannot_read("queue file", path, why)};
    std::vector<std::string> bodies;
    for_each_line(*text, [&](std::size_t, std::string_view line) { bodies.emplace_back(line); });
    loaded = bodies.size();
    if (auto r = queue->send(bodies); !r) return Problem{exit_failure, "cannot load the queue: " + r.error().message};
  }
  return std::nullopt;
}

std::optional<Problem> build_shared_queue(const Options& opts, std::optional<AnyQueue>& queue) {
  const std::string& url = opts.value("queue");
  const Scheme scheme = scheme_of(url);
  if (scheme != Scheme::sqs && scheme != Scheme::redis)
    // memory:FILE (the worker's) and unknown schemes alike: say what this program takes.
    return usage_problem("--queue " + url + ": notifyctl needs " + std::string(shared_queue_forms) +
                         "; memory: queues live inside one notify-worker");
  if (scheme == Scheme::redis && opts.has("dead-letter"))
    return usage_problem("--dead-letter goes with SQS queues (a Redis queue's is always STREAM:dead)");
  QueueSettings settings;
  settings.dead_letter = opts.value_or("dead-letter", "");
  auto made = make_queue(url, settings);
  if (!made) {
    if (scheme == Scheme::sqs)
      return Problem{made.error().code == Errc::configuration ? exit_usage : exit_unavailable,
                     "--queue " + url + ": " + made.error().message};
    return usage_problem("--queue: " + made.error().message);
  }
  queue.emplace(std::move(*made));
  return std::nullopt;
}

std::optional<Problem> build_shared_store(const Options& opts, std::optional<AnyStore>& store, std::string& where) {
  const std::string& url = opts.value("store");
  auto options = redis::parse_url(url);
  if (!options) return usage_problem("--store: " + options.error().message);
  where = redis::describe(*options);
  store.emplace(redis::MemberStore(*options));
  return std::nullopt;
}

std::string describe_places(const Options& opts, bool with_queue) {
  std::string out;
  if (with_queue) {
    const std::string& queue_flag = opts.value("queue");
    out = "queue=" + for_log(queue_flag, scheme_of(queue_flag), true) + " ";
  }
  const std::string& members_flag = opts.value("members");
  const std::string inbox_flag = opts.value_or("inbox", "log");
  return out + "members=" + for_log(members_flag, scheme_of(members_flag), false) +
         " inbox=" + for_log(inbox_flag, scheme_of(inbox_flag), true);
}

std::optional<Problem> connect_pusher(AnyPusher& pusher, const EventLog& log) {
  auto r = pusher.connect();
  if (r) return std::nullopt;
  if (is_transient(r.error().code)) {
    log(Event{"push_unavailable", {}, {}, {}, "fcm: " + r.error().message});  // APNs has nothing to connect
    return std::nullopt;
  }
  log(Event{"fatal", {}, {}, {}, "fcm: " + r.error().message});
  return Problem{exit_failure, (r.error().code == Errc::unauthenticated ? "FCM did not accept the service account: "
                                                                       : "cannot use FCM: ") +
                                   r.error().message};
}

std::string worker_summary(AnyQueue& queue, std::size_t loaded, const AnyPusher& pusher) {
  std::string summary;
  if (const auto* q = queue.get<memory::Queue>()) {
    summary = std::to_string(loaded) + " records: " + std::to_string(q->acked()) + " done, " +
              std::to_string(q->dead_letters().size()) + " dead-lettered, " + std::to_string(q->pending()) +
              " pending; ";
  } else {
    // This worker's share; "pending" is the whole queue's (any consumer's, and delayed retries).
    const SettleCounts& n = queue.counts();
    const std::size_t pending = queue.pending();
    summary = std::to_string(n.settled) + " records: " + std::to_string(n.done) + " done, " +
              std::to_string(n.retried) + " retried, " + std::to_string(n.dead) + " dead-lettered, " +
              (pending == std::numeric_limits<std::size_t>::max() ? std::string("unknown") : std::to_string(pending)) +
              " pending; ";
  }
  return summary + std::to_string(pusher.count()) + " pushes";
}

}  // namespace notify::app
