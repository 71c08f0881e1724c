// SPDX-License-Identifier: MIT
// notifyctl: the command-line tool around the notify core. Subcommands:
//   render    print the plan of one request against a members file
//   validate  check one request (exit 0, or 2 with the errors as JSON)
//   schema    print the JSON Schema of the wire format
//   publish   send requests to a queue (Redis stream or SQS), each checked first
//   members   import, set, get or remove members of the Redis member store
//   dlq       list or redrive a queue's dead letters
//   queue     a queue's counts (stats)
//   outbox    a producer outbox's status, contents, and relaying it to its queues
// Each subcommand is one function in the table at the bottom: its flags and exit codes.
// Queues and the member store are reached through notify::app (adapters/app).

#include <algorithm>
#include <array>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <map>
#include <iostream>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "notify/app/app.hpp"
#include "notify/ops/build_info.hpp"
#include "notify/outbox/outbox.hpp"
#include "notify/codec.hpp"
#include "notify/json_schema.hpp"
#include "notify/members.hpp"
#include "notify/plan.hpp"
#include "notify/producer.hpp"

namespace {

namespace cli = notify::app;
namespace ob = notify::outbox;

/// The outbox could not store what the queue did not take (full, disk refused, locked).
constexpr int exit_outbox = 74;

constexpr std::string_view program = "notifyctl";

constexpr std::string_view usage_text = R"(usage: notifyctl <command> [options]
       notifyctl --version

commands:
  render --request FILE|- --members FILE [--at TIME] [--routing FILE] [--channels LIST]
      Print the plan of one request as JSON, as the worker would make it at TIME
      (RFC 3339; default now: quiet hours and night-time ads depend on it), along
      the routes of --routing (see routing) over the channels of LIST (default
      push,email,sms,alimtalk: a worker with a provider for each):
      {"pushes": [{"tokens", "apns"?, "email"?, "sms"?, "alimtalk"?,
                   "fallbacks"?, "title", "body", "screen"?, "param"?}],
       "inbox": [{"receiverId", "title", "body", "screen"?, "param"?}],
       "skipped"?: [{"userId", "reason", "until"?}]}
      The members file is the member store as JSON:
      {"family:3": {"user:4": "{\"userName\":\"...\",\"fcmToken\":\"...\"}"}}.
      Stored values that cannot be read are reported on stderr and skipped.
      "tokens" are the devices pushed to ("apns": those through APNs); "email",
      "sms" and "alimtalk" the addresses the message goes to on those channels;
      "fallbacks" [{"userId", "rank", "service", "address"}] what goes to a member
      only if every delivery of their lower rank (rank 0: the one planned) ends
      for good without reaching them (a dead device or address, a refusal).
  routing [--routing FILE]
      Print the route of every type (the built-in ones, or FILE's over them) as
      JSON; a FILE with mistakes prints each with its path and exits 65.
  validate --request FILE|-
  validate --member FILE|-
      Check one request, or one stored member value (see schema --member); print
      nothing when it is valid, the errors (exit 2) when not.
  schema [--member]
      Print the JSON Schema (draft 2020-12) of a request, or of a stored member value.

  publish --queue QUEUE --type TYPE --param JSON [--id ID] [--priority high|normal]
          [--max-families N]
      Build one request, check it, send it. If it is invalid, print the errors as
      render does and exit 2. A bulk request (MESSAGE_TODAY, MESSAGE_BIRTHDAY,
      TIMECAPSULE_OPEN, NOTIFY_BIRTHDAY) over more than N families (default 100, 0:
      never) is sent as several requests of at most N families; with an id, part i
      gets the id ID.i.
  publish --queue QUEUE --file FILE|- [--priority high|normal] [--skip-invalid|--no-validate]
          [--max-families N]
      Send one request per non-blank line of a JSON-lines file. Every line is checked
      first; an invalid one prints {"line": N, "errors": [...]} on stdout, and then
      nothing is sent (exit 2) unless --skip-invalid (the valid lines are sent, exit 0).
      --no-validate sends every line as it is (to try the worker's dead-letter path).
      Either way, a valid request without a "traceparent" (W3C Trace Context) is
      given a fresh one; the worker logs its trace id with each of the request's
      events and copies it into the request's inbox records.
  publish ... --outbox DIR [--outbox-max-bytes N]
      Either form, with a durable outbox: requests the queue does not take because
      it is down, times out or throttles (after the client's own retries) are
      appended to the journal in DIR (fsync'd) and the command exits 0 saying how
      many were stored; `outbox drain` sends them later. While the outbox holds
      requests, new ones are stored behind them (after one attempt to drain it), so
      the queue gets every request in order. Each request without an "id" is given
      one (ob-<32 hex>) and without a "createdAt" the current time, so a request
      sent twice (a crash between send and acknowledgement) is delivered once and
      keeps its creation time. N (default 268435456) bounds the journal: when the
      requests do not fit, nothing more is stored and the exit status is 74.
  members import --members FILE|- --store STORE
      Write every stored value of a members file (the format render reads) as it is
      (HSET). Values the worker will skip are reported on stderr.
  members set --store STORE --family ID --user ID --name NAME [--token TOKEN] [--mkt]
  members set --store STORE --family ID --user ID --value JSON-FILE|-
      Write one member: a first-version one from flags (--mkt means mktPushAgreed is
      true), or a whole value (devices, contacts, preferences, consent, quiet hours;
      see schema --member), refused with every problem when it does not validate.
  members get --store STORE --family ID --user ID
      Print the member's stored JSON; exit 1 if there is no such member.
  members remove --store STORE --family ID [--user ID]
      Remove one member (HDEL), or the whole family (UNLINK).
  dlq list --queue QUEUE [--max N | --all] [--dead-letter URL]
      Print the oldest N dead letters (default 100; --all: every one there is now),
      one JSON object per line:
      {"id", "requestId", "reason", "deliveries", "deadAt", "origin", "body"}.
  dlq redrive --queue QUEUE (--id ID | --all) [--dead-letter URL]
      Move dead letters (by the id dlq list prints) back to the queue they came
      from, with a fresh delivery count; exit 1 if --id names none.
  queue stats --queue QUEUE [--dead-letter URL] [--json]
      Print the queue's counts, one per line: depth (waiting, not yet delivered),
      pending (received, not yet settled), delayed (retries waiting for their
      delay), dead (dead letters), oldest pending (the longest a pending record has
      been idle: since its delivery or its worker's last lease renewal), then one
      line per consumer holding records (Redis): how many and how long it has been
      idle. "unknown" where the queue cannot tell (SQS: oldest pending). --json
      prints one object instead, null where unknown: {"depth", "pending",
      "delayed", "dead", "oldest_pending_ms", "consumers": [{"name", "pending",
      "idle_ms"}]}. On SQS, figures are approximate, a retry waiting for its delay
      is pending (SQS hides it) and delayed counts messages sent with a delay.
  outbox status --outbox DIR [--json]
      Print the outbox's figures without taking its lock: depth (requests waiting),
      bytes (journal size), oldest (age of the oldest waiting request), damaged
      (unreadable stretches that will be skipped), torn (bytes of an unfinished
      append the next writer cuts), then one line per destination queue (without
      credentials). --json: {"depth", "bytes", "oldest_age_ms", "damaged",
      "torn_bytes", "queues": [{"queue", "priority", "depth"}]}, null where empty.
  outbox list --outbox DIR [--max N]
      Print the waiting requests, oldest first, one JSON object per line:
      {"seq", "enqueuedAt", "queue", "priority", "body"}.
  outbox drain --outbox DIR [--max N]
      Take the outbox's lock and send what waits, in order, to the queue each was
      meant for; each batch the queue takes is acknowledged in the journal (and the
      journal compacted once empty). A damaged record is reported on stderr and
      skipped. Exit 0 when it is empty (or N were sent), 69 when a queue refused
      (what is left waits for the next drain; for cron), 74 when the outbox cannot be
      opened or is another process's.
  outbox drop --outbox DIR --through SEQ
      Remove the waiting requests up to SEQ (as outbox list prints it) without
      sending them, and print their bodies on stdout: for a request its queue
      refuses for good, which would hold up every request behind it. Exit 1 if
      none was that old.

QUEUE is redis://HOST:PORT/STREAM[?db=N] or an SQS queue URL (https://sqs.REGION.
amazonaws.com/ACCOUNT/NAME; the worker's --queue). SQS uses the AWS_* environment
(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION, the container
credentials endpoint, AWS_ENDPOINT_URL_SQS); its dead-letter queue is the queue's
RedrivePolicy target unless --dead-letter names one; --priority is Redis only. STORE is
redis://HOST:PORT[/DB] (the worker's --members). FILE '-' reads stdin.
exit status: 0 ok, 1 not found, 2 invalid request ({"errors":[{"path","code",
"message"}]} on stdout), 64 usage, 65 malformed members file or stored member,
66 unreadable file, 69 Redis or SQS failed or cannot be reached, 74 the outbox could not
store (full, disk refused) or cannot be opened (in use by another process).
)";

int usage_error(std::string_view message) {
  cli::complain(program, message);
  std::cerr << '\n' << usage_text;
  return cli::exit_usage;
}

/// Reads the request named by --request and decodes it; prints errors as JSON.
std::optional<notify::Request> load_request(const cli::Options& opts, int& exit_code) {
  const std::string& path = opts.value("request");
  std::string why;
  const auto body = cli::read_input(path, &why);
  if (!body) {
    cli::complain(program, cli::cannot_read("request file", path, why));
    exit_code = cli::exit_no_input;
    return std::nullopt;
  }
  auto decoded = notify::decode(*body);
  if (!decoded) {
    std::cout << cli::pretty(cli::errors_document(decoded.error()));
    exit_code = cli::exit_invalid;
    return std::nullopt;
  }
  return std::move(*decoded);
}

/// Appends "screen" and "param" (each only when the link has one).
void add_link(nlohmann::ordered_json& j, const notify::Link& link) {
  if (link.has_screen()) j["screen"] = std::string(notify::to_string(link.screen));
  if (link.has_param()) j["param"] = nlohmann::ordered_json::parse(link.param_json());
}

nlohmann::ordered_json plan_document(const notify::Plan& plan) {
  nlohmann::ordered_json pushes = nlohmann::ordered_json::array();
  nlohmann::ordered_json inbox = nlohmann::ordered_json::array();
  for (const notify::Message& m : plan.messages) {
    if (!m.targets.empty()) {
      nlohmann::ordered_json p;
      p["tokens"] = nlohmann::ordered_json::array();
      std::array<nlohmann::ordered_json, notify::service_count> by_service;
      for (auto& list : by_service) list = nlohmann::ordered_json::array();
      for (const notify::Target& t : m.targets) {
        if (notify::channel_of(t.service) == notify::Channel::push) p["tokens"].push_back(std::string(t.token));
        by_service[static_cast<std::size_t>(t.service)].push_back(std::string(t.token));
      }
      // Which of the tokens go through APNs, then the contact channels' addresses.
      for (notify::PushService s : {notify::PushService::apns, notify::PushService::email, notify::PushService::sms,
                                    notify::PushService::alimtalk})
        if (auto& list = by_service[static_cast<std::size_t>(s)]; !list.empty())
          p[std::string(notify::to_string(s))] = std::move(list);
      if (!m.standby.empty()) {
        nlohmann::ordered_json& fallbacks = p["fallbacks"] = nlohmann::ordered_json::array();
        for (const notify::Standby& s : m.standby)
          fallbacks.push_back({{"userId", s.member},
                               {"rank", s.rank},
                               {"service", std::string(notify::to_string(s.target.service))},
                               {"address", std::string(s.target.token)}});
      }
      p["title"] = std::string(m.title);
      p["body"] = m.body;
      add_link(p, m.link);
      pushes.push_back(std::move(p));
    }
    for (notify::Id receiver : m.inbox) {
      nlohmann::ordered_json r;
      r["receiverId"] = receiver;
      r["title"] = std::string(m.title);
      r["body"] = m.body;
      add_link(r, m.link);
      inbox.push_back(std::move(r));
    }
  }
  nlohmann::ordered_json doc;
  doc["pushes"] = std::move(pushes);
  doc["inbox"] = std::move(inbox);
  if (!plan.skipped.empty()) {
    nlohmann::ordered_json skipped = nlohmann::ordered_json::array();
    for (const notify::Skip& s : plan.skipped) {
      nlohmann::ordered_json e;
      e["userId"] = s.userId;
      e["reason"] = std::string(notify::to_string(s.reason));
      if (s.until != 0) e["until"] = notify::format_rfc3339(s.until);
      skipped.push_back(std::move(e));
    }
    doc["skipped"] = std::move(skipped);
  }
  return doc;
}

int render(int argc, char** argv) {
  cli::Options opts{{"request"}, {"members"}, {"at"}, {"routing"}, {"channels"}};
  if (auto err = opts.parse(argc, argv, 2); !err.empty()) return usage_error(err);
  if (!opts.has("request") || !opts.has("members")) return usage_error("render needs --request and --members");
  notify::ChannelSet channels{notify::Channel::push, notify::Channel::email, notify::Channel::sms,
                              notify::Channel::alimtalk};
  if (opts.has("channels")) {
    channels = {};
    std::string_view list = opts.value("channels");
    while (true) {
      const std::size_t comma = list.find(',');
      const auto ch = notify::parse_channel(list.substr(0, comma));
      if (!ch) return usage_error("--channels takes channels from push, email, sms, alimtalk, separated by commas");
      channels.add(*ch);
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
  }
  std::optional<notify::Routing> routing;
  if (auto p = cli::build_routing(opts, routing)) {
    cli::complain(program, p->message);
    return p->exit_code;
  }

  const std::string& members_path = opts.value("members");
  if (members_path == "-" && opts.value("request") == "-") return usage_error("only one of the files can be '-'");
  std::string why;
  const auto members_text = cli::read_input(members_path, &why);
  if (!members_text) {
    cli::complain(program, cli::cannot_read("members file", members_path, why));
    return cli::exit_no_input;
  }

  int exit_code = cli::exit_ok;
  const auto request = load_request(opts, exit_code);
  if (!request) return exit_code;

  std::vector<notify::Family> families;
  const auto report = [&](const std::string& where, const std::string& what) {
    cli::complain(program, members_path + ": " + where + ": " + what + " (skipped)");
  };
  const std::string bad_file = cli::for_each_stored_member(
      *members_text,
      [&](notify::Id family_id, const std::string& field, const std::string& value) {
        auto member = notify::parse_member(*notify::parse_member_field(field), value);
        if (!member) return report(notify::family_key(family_id) + "." + field, member.error().message);
        for (const std::string& problem : member->problems)
          cli::complain(program, members_path + ": " + notify::family_key(family_id) + "." + field + ": " + problem +
                                     " (left out)");
        auto it = std::find_if(families.begin(), families.end(),
                               [&](const notify::Family& f) { return f.familyId == family_id; });
        if (it == families.end()) it = families.insert(families.end(), notify::Family{family_id, {}});
        it->members.push_back(std::move(*member));
      },
      report);
  if (!bad_file.empty()) {
    cli::complain(program, members_path + ": " + bad_file);
    return cli::exit_data;
  }

  notify::PlanPolicy policy;
  policy.now_ms = notify::unix_now_ms();
  policy.routing = routing ? &*routing : nullptr;
  policy.channels = channels;
  if (opts.has("at")) {
    const auto at = notify::parse_rfc3339(opts.value("at"));
    if (!at) return usage_error("--at needs an RFC 3339 time such as 2026-12-24T21:30:00+09:00");
    policy.now_ms = *at;
  }
  const notify::Families store(std::move(families));
  std::cout << cli::pretty(plan_document(notify::plan(*request, store, policy)));
  return cli::exit_ok;
}

int routing(int argc, char** argv) {
  cli::Options opts{{"routing"}};
  if (auto err = opts.parse(argc, argv, 2); !err.empty()) return usage_error(err);
  std::optional<notify::Routing> table;
  if (auto p = cli::build_routing(opts, table)) {
    cli::complain(program, p->message);
    return p->exit_code;
  }
  std::cout << notify::encode_routing(table.value_or(notify::Routing{}));
  return cli::exit_ok;
}

int validate(int argc, char** argv) {
  cli::Options opts{{"request"}, {"member"}};
  if (auto err = opts.parse(argc, argv, 2); !err.empty()) return usage_error(err);
  if (opts.has("request") == opts.has("member")) return usage_error("validate needs --request or --member");
  if (opts.has("member")) {
    std::string why;
    const auto text = cli::read_input(opts.value("member"), &why);
    if (!text) {
      cli::complain(program, cli::cannot_read("member value", opts.value("member"), why));
      return cli::exit_no_input;
    }
    if (auto m = notify::validate_member(1, *text); !m) {
      std::cout << cli::pretty(nlohmann::ordered_json{{"errors", {{{"path", "member"}, {"message", m.error().message}}}}});
      return cli::exit_invalid;
    }
    return cli::exit_ok;
  }
  int exit_code = cli::exit_ok;
  load_request(opts, exit_code);
  return exit_code;
}

int schema(int argc, char** argv) {
  cli::Options opts{{"member", false}};
  if (auto err = opts.parse(argc, argv, 2); !err.empty()) return usage_error(err);
  const std::string text = opts.has("member") ? notify::member_json_schema() : notify::json_schema();
  std::cout << cli::pretty(nlohmann::ordered_json::parse(text));
  return cli::exit_ok;
}

/// Reports a failed Redis or SQS call; the exit status for it.
int redis_failed(std::string_view what, const notify::Error& e) {
  cli::complain(program, std::string(what) + ": " + e.message);
  return cli::exit_unavailable;
}

/// Reports a setting notify::app could not use; the exit status.
int fail(const cli::Problem& p) {
  if (p.usage) return usage_error(p.message);
  cli::complain(program, p.message);
  return p.exit_code;
}

/// A dead letter as dlq list prints it.
nlohmann::ordered_json dead_letter_document(const notify::DeadLetter& d) {
  nlohmann::ordered_json j;
  j["id"] = d.entry_id;
  j["requestId"] = d.id;
  j["reason"] = d.reason;
  j["deliveries"] = d.deliveries;
  j["deadAt"] = d.dead_at_ms;
  j["origin"] = d.origin;
  j["body"] = d.body;
  return j;
}

/// An id flag (1 to 2^63-1), or nullopt after a usage error (in `exit_code`).
std::optional<notify::Id> id_flag(const cli::Options& opts, std::string_view name, int& exit_code) {
  auto id = cli::parse_number(opts.value(name));
  if (!id) exit_code = usage_error("--" + std::string(name) + " must be an id from 1 to 2^63-1");
  return id;
}

/// Gives a request bound for an outbox an id and a createdAt when it has none, so a
/// resend is recognised by the worker and the request keeps its creation time.
void stamp_for_outbox(std::string& body, notify::Request& request) {
  if (request.id.empty() && body.find("\"id\"") == std::string::npos) {
    request.id = "ob-" + std::string(notify::trace_id_of(notify::new_traceparent()));
    body.insert(body.rfind('}'), ",\"id\":\"" + request.id + '"');
  }
  if (!request.createdAt && body.find("\"createdAt\"") == std::string::npos) {
    request.createdAt = ob::now_ms();
    body.insert(body.rfind('}'), ",\"createdAt\":" + std::to_string(*request.createdAt));
  }
}

/// The queues an outbox's requests go to, each built once from its URL.
class QueueCache {
 public:
  ob::Sender sender() {
    return [this](const ob::Destination& to, std::span<const std::string> bodies) -> notify::Result<void> {
      auto it = queues_.find(to.queue);
      if (it == queues_.end()) {
        auto made = cli::make_queue(to.queue);
        if (!made) return made.error();
        it = queues_.emplace(to.queue, std::move(*made)).first;
      }
      return it->second.send(bodies, to.priority == 1 ? cli::Priority::high : cli::Priority::normal);
    };
  }

 private:
  std::map<std::string, cli::AnyQueue> queues_;
};

/// Says on stderr what damage reading the outbox found (the damaged records are skipped).
void report_damage(const ob::Outbox& box) {
  const ob::Stats s = box.stats();
  if (s.damaged_records > 0)
    cli::complain(program, "outbox " + box.dir() + ": " + std::to_string(s.damaged_records) +
                               " damaged record(s) in the journal skipped (outbox status shows where)");
  if (s.torn_bytes > 0)
    cli::complain(program, "outbox " + box.dir() + ": cut " + std::to_string(s.torn_bytes) +
                               " byte(s) of an unfinished append (a crash before it was acknowledged)");
}

/// Appends outgoing[from...] to the outbox after the queue refused them with `why`.
int store_in_outbox(ob::Outbox& box, const ob::Destination& to, const std::vector<std::string>& outgoing,
                    std::size_t from, const notify::Error& why, std::size_t before_split, std::size_t invalid) {
  const std::span<const std::string> rest(outgoing.data() + from, outgoing.size() - from);
  const std::string queue = ob::redact(to.queue);
  if (auto r = box.append(to, rest); !r) {
    cli::complain(program, "publish to " + queue + " failed (" + why.message + ") and " + r.error().message + "; " +
                               std::to_string(from) + " of " + std::to_string(outgoing.size()) +
                               " request(s) were sent, the others were not stored");
    return exit_outbox;
  }
  std::string summary = "stored " + std::to_string(rest.size()) + " request(s) for " + queue + " in the outbox " +
                        box.dir() + " (" + std::to_string(box.stats().depth) + " waiting): " + why.message;
  if (from > 0) summary += "; " + std::to_string(from) + " were sent before";
  if (outgoing.size() != before_split) summary += " (" + std::to_string(before_split) + " before splitting bulk requests)";
  if (invalid > 0) summary += ", skipped " + std::to_string(invalid) + " invalid line(s)";
  cli::complain(program, summary);
  return cli::exit_ok;
}

int publish(int argc, char** argv) {
  cli::Options opts{{"queue"}, {"type"}, {"param"}, {"id"}, {"file"}, {"priority"}, {"skip-invalid", false},
                    {"no-validate", false}, {"max-families"}, {"dead-letter"}, {"outbox"}, {"outbox-max-bytes"}};
  if (auto err = opts.parse(argc, argv, 2); !err.empty()) return usage_error(err);
  const bool with_outbox = opts.has("outbox");
  if (opts.has("outbox-max-bytes") && !with_outbox) return usage_error("--outbox-max-bytes goes with --outbox");
  ob::Options outbox_options;
  outbox_options.lock_wait = std::chrono::seconds(10);
  if (opts.has("outbox-max-bytes")) {
    const auto n = cli::parse_number(opts.value("outbox-max-bytes"));
    if (!n || *n < 4096) return usage_error("--outbox-max-bytes must be a number of bytes, at least 4096");
    outbox_options.max_bytes = static_cast<std::uint64_t>(*n);
  }
  const bool from_flags = opts.has("type") || opts.has("param") || opts.has("id");
  if (!opts.has("queue")) return usage_error("publish needs --queue");
  if (from_flags == opts.has("file")) return usage_error("publish needs --type and --param, or --file");
  if (from_flags && !(opts.has("type") && opts.has("param"))) return usage_error("publish needs both --type and --param");
  if (from_flags && (opts.has("skip-invalid") || opts.has("no-validate")))
    return usage_error("--skip-invalid and --no-validate go with --file");
  if (opts.has("skip-invalid") && opts.has("no-validate")) return usage_error("give --skip-invalid or --no-validate, not both");
  const std::string priority_name = opts.value_or("priority", "normal");
  if (priority_name != "high" && priority_name != "normal") return usage_error("--priority must be high or normal");
  const auto priority = priority_name == "high" ? cli::Priority::high : cli::Priority::normal;
  std::size_t max_families = 100;
  if (opts.has("max-families")) {
    const auto n = cli::parse_number(opts.value("max-families"), 0);
    if (!n || *n > 1000000) return usage_error("--max-families must be 0 to 1000000");
    max_families = static_cast<std::size_t>(*n);
  }
  std::optional<cli::AnyQueue> queue;
  if (auto p = cli::build_shared_queue(opts, queue)) return fail(*p);
  if (!queue->has_priorities() && opts.has("priority"))
    return usage_error("--priority goes with Redis queues; with SQS, publish urgent requests to their own queue");

  std::vector<std::string> bodies;
  std::size_t invalid = 0;
  if (from_flags) {
    const auto param = nlohmann::ordered_json::parse(opts.value("param"), nullptr, false);
    if (param.is_discarded()) {
      std::cout << cli::pretty(cli::errors_document(
          {notify::Error{notify::Errc::invalid_json, "--param is not valid JSON", "param"}}));
      return cli::exit_invalid;
    }
    nlohmann::ordered_json body;
    body["type"] = opts.value("type");
    body["param"] = param;
    if (opts.has("id")) body["id"] = opts.value("id");
    std::string text = body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    if (auto decoded = notify::decode(text); !decoded) {
      std::cout << cli::pretty(cli::errors_document(decoded.error()));
      return cli::exit_invalid;
    }
    bodies.push_back(std::move(text));
  } else {
    const std::string& path = opts.value("file");
    std::string why;
    const auto text = cli::read_input(path, &why);
    if (!text) {
      cli::complain(program, cli::cannot_read("requests file", path, why));
      return cli::exit_no_input;
    }
    const bool check = !opts.has("no-validate");
    cli::for_each_line(*text, [&](std::size_t number, std::string_view line) {
      if (check) {
        if (auto decoded = notify::decode(line); !decoded) {
          nlohmann::ordered_json report;
          report["line"] = number;
          report["errors"] = cli::errors_document(decoded.error())["errors"];
          std::cout << report.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << '\n';
          ++invalid;
          return;
        }
      }
      bodies.emplace_back(line);
    });
    std::cout << std::flush;
    if (invalid > 0 && !opts.has("skip-invalid")) {
      cli::complain(program, path + ": " + std::to_string(invalid) +
                                 " invalid line(s); nothing was sent (--skip-invalid sends the valid ones)");
      return cli::exit_invalid;
    }
  }

  // Bulk requests over many families go out as several smaller ones.
  std::vector<std::string> outgoing;
  outgoing.reserve(bodies.size());
  // Each request that has no traceparent gets one, written into its body as it is (its
  // other fields, unknown ones included, stay as they were).
  for (std::string& body : bodies) {
    auto decoded = notify::decode(body);
    if (decoded && decoded->traceparent.empty() && body.find("\"traceparent\"") == std::string::npos) {
      decoded->traceparent = notify::new_traceparent();
      body.insert(body.rfind('}'), ",\"traceparent\":\"" + decoded->traceparent + '"');
    }
    if (with_outbox && decoded) stamp_for_outbox(body, *decoded);
    if (!decoded || max_families == 0) {
      outgoing.push_back(std::move(body));
      continue;
    }
    auto parts = notify::split_by_families(*decoded, max_families);
    if (parts.size() == 1) {
      outgoing.push_back(std::move(body));
      continue;
    }
    for (const notify::Request& part : parts) outgoing.push_back(notify::encode(part));
  }
  constexpr std::size_t chunk = 500;  // requests per call
  const std::string where = queue->where(priority);
  std::optional<ob::Outbox> box;
  const ob::Destination destination{opts.value("queue"), static_cast<std::uint8_t>(priority == cli::Priority::high)};
  if (with_outbox) {
    auto opened = ob::Outbox::open(opts.value("outbox"), outbox_options);
    if (!opened) {
      cli::complain(program, opened.error().message + "; nothing was sent");
      return exit_outbox;
    }
    box.emplace(std::move(*opened));
    report_damage(*box);
    if (box->stats().depth > 0) {
      // Older requests wait: try them first, and if they cannot go, these wait behind them.
      QueueCache queues;
      const ob::RelayResult relayed = box->relay(queues.sender());
      if (relayed.relayed > 0)
        cli::complain(program, "relayed " + std::to_string(relayed.relayed) + " request(s) from the outbox " + box->dir());
      if (relayed.error)
        return store_in_outbox(*box, destination, outgoing, 0, *relayed.error, bodies.size(), invalid);
    }
  }
  for (std::size_t from = 0; from < outgoing.size(); from += chunk) {
    const std::span<const std::string> part(outgoing.data() + from, std::min(chunk, outgoing.size() - from));
    if (auto r = queue->send(part, priority); !r && box && notify::is_transient(r.error().code))
      return store_in_outbox(*box, destination, outgoing, from, r.error(), bodies.size(), invalid);
    else if (!r)
      return redis_failed("publish to " + where + " (" + std::to_string(from) + " of " +
                              std::to_string(outgoing.size()) + " sent before)",
                          r.error());
  }
  std::string summary = "published " + std::to_string(outgoing.size()) + " request(s) to " + where;
  if (outgoing.size() != bodies.size())
    summary += " (" + std::to_string(bodies.size()) + " before splitting bulk requests)";
  if (invalid > 0) summary += ", skipped " + std::to_string(invalid) + " invalid line(s)";
  cli::complain(program, summary);
  return cli::exit_ok;
}

int members_import(int argc, char** argv) {
  cli::Options opts{{"members"}, {"store"}};
  if (auto err = opts.parse(argc, argv, 3); !err.empty()) return usage_error(err);
  if (!opts.has("members") || !opts.has("store")) return usage_error("members import needs --members and --store");
  std::optional<cli::AnyStore> store;
  std::string store_where;
  if (auto p = cli::build_shared_store(opts, store, store_where)) return fail(*p);
  const std::string& path = opts.value("members");
  std::string why;
  const auto text = cli::read_input(path, &why);
  if (!text) {
    cli::complain(program, cli::cannot_read("members file", path, why));
    return cli::exit_no_input;
  }

  std::vector<notify::redis::StoredValue> values;
  std::vector<notify::Id> families;
  const std::string bad_file = cli::for_each_stored_member(
      *text,
      [&](notify::Id family, const std::string& field, const std::string& value) {
        if (auto m = notify::parse_member(*notify::parse_member_field(field), value); !m)
          cli::complain(program, path + ": " + notify::family_key(family) + "." + field + ": " + m.error().message +
                                     " (stored as it is; the worker will skip it)");
        else
          for (const std::string& problem : m->problems)
            cli::complain(program, path + ": " + notify::family_key(family) + "." + field + ": " + problem +
                                       " (stored as it is; the worker leaves that field out)");
        values.push_back({family, field, value});
        families.push_back(family);
      },
      [&](const std::string& where, const std::string& what) {
        cli::complain(program, path + ": " + where + ": " + what + " (skipped)");
      });
  if (!bad_file.empty()) {
    cli::complain(program, path + ": " + bad_file);
    return cli::exit_data;
  }

  constexpr std::size_t chunk = 1000;  // values per round trip
  for (std::size_t from = 0; from < values.size(); from += chunk) {
    const std::span<const notify::redis::StoredValue> part(values.data() + from, std::min(chunk, values.size() - from));
    if (auto r = store->put_raw(part); !r) return redis_failed("members import", r.error());
  }
  std::sort(families.begin(), families.end());
  families.erase(std::unique(families.begin(), families.end()), families.end());
  cli::complain(program, "imported " + std::to_string(values.size()) + " member(s) of " +
                             std::to_string(families.size()) + " family(ies) into " + store_where);
  return cli::exit_ok;
}

/// The family and user of a `members set|get` call; empty (with exit_code set) on error.
struct MemberTarget {
  notify::Id family = 0;
  notify::Id user = 0;
};
std::optional<MemberTarget> member_target(const cli::Options& opts, int& exit_code) {
  const auto family = id_flag(opts, "family", exit_code);
  if (!family) return std::nullopt;
  const auto user = id_flag(opts, "user", exit_code);
  if (!user) return std::nullopt;
  return MemberTarget{*family, *user};
}

int members_set(int argc, char** argv) {
  cli::Options opts{{"store"}, {"family"}, {"user"}, {"name"}, {"token"}, {"mkt", false}, {"value"}};
  if (auto err = opts.parse(argc, argv, 3); !err.empty()) return usage_error(err);
  if (!opts.has("store") || !opts.has("family") || !opts.has("user") || opts.has("name") == opts.has("value"))
    return usage_error("members set needs --store, --family, --user and either --name or --value");
  if (opts.has("value") && (opts.has("token") || opts.has("mkt")))
    return usage_error("--token and --mkt go with --name; with --value they are fields of the value");
  std::optional<cli::AnyStore> store;
  std::string store_where;
  if (auto p = cli::build_shared_store(opts, store, store_where)) return fail(*p);
  int exit_code = cli::exit_ok;
  const auto target = member_target(opts, exit_code);
  if (!target) return exit_code;
  notify::Member member;
  if (opts.has("value")) {
    std::string why;
    const auto text = cli::read_input(opts.value("value"), &why);
    if (!text) {
      cli::complain(program, cli::cannot_read("member value", opts.value("value"), why));
      return cli::exit_no_input;
    }
    // The writer refuses what the worker would have to leave out (notifyctl schema --member).
    auto checked = notify::validate_member(target->user, *text);
    if (!checked) {
      cli::complain(program, "member value: " + checked.error().message);
      return cli::exit_data;
    }
    member = std::move(*checked);
  } else {
    member = notify::member_v1(target->user, opts.value("name"), opts.value_or("token", ""), opts.has("mkt"));
  }
  if (auto r = store->set_member(target->family, member); !r) return redis_failed("members set", r.error());
  return cli::exit_ok;
}

int members_get(int argc, char** argv) {
  cli::Options opts{{"store"}, {"family"}, {"user"}};
  if (auto err = opts.parse(argc, argv, 3); !err.empty()) return usage_error(err);
  if (!opts.has("store") || !opts.has("family") || !opts.has("user"))
    return usage_error("members get needs --store, --family and --user");
  std::optional<cli::AnyStore> store;
  std::string store_where;
  if (auto p = cli::build_shared_store(opts, store, store_where)) return fail(*p);
  int exit_code = cli::exit_ok;
  const auto target = member_target(opts, exit_code);
  if (!target) return exit_code;
  auto member = store->get_member(target->family, target->user);
  if (!member) {
    if (member.error().code == notify::Errc::invalid_member) {
      cli::complain(program, member.error().path + ": " + member.error().message);
      return cli::exit_data;
    }
    return redis_failed("members get", member.error());
  }
  if (!*member) {
    cli::complain(program, notify::family_key(target->family) + " has no " + notify::member_field(target->user));
    return cli::exit_failure;
  }
  std::cout << notify::encode_member(**member) << '\n';
  return cli::exit_ok;
}

int members_remove(int argc, char** argv) {
  cli::Options opts{{"store"}, {"family"}, {"user"}};
  if (auto err = opts.parse(argc, argv, 3); !err.empty()) return usage_error(err);
  if (!opts.has("store") || !opts.has("family")) return usage_error("members remove needs --store and --family");
  std::optional<cli::AnyStore> store;
  std::string store_where;
  if (auto p = cli::build_shared_store(opts, store, store_where)) return fail(*p);
  int exit_code = cli::exit_ok;
  const auto family = id_flag(opts, "family", exit_code);
  if (!family) return exit_code;
  std::optional<notify::Id> user;
  if (opts.has("user") && !(user = id_flag(opts, "user", exit_code))) return exit_code;
  auto r = user ? store->remove_member(*family, *user) : store->remove_family(*family);
  if (!r) return redis_failed("members remove", r.error());
  return cli::exit_ok;
}

int members(int argc, char** argv) {
  const std::string_view action = argc > 2 ? argv[2] : "";
  if (action == "import") return members_import(argc, argv);
  if (action == "set") return members_set(argc, argv);
  if (action == "get") return members_get(argc, argv);
  if (action == "remove") return members_remove(argc, argv);
  return usage_error(action.empty() ? "members needs import, set, get or remove"
                                    : "unknown members command '" + std::string(action) + "'");
}

/// A stream entry id: "<ms>-<seq>".
bool is_entry_id(std::string_view id) {
  const auto dash = id.find('-');
  return dash != std::string_view::npos && cli::parse_number(id.substr(0, dash), 0) &&
         cli::parse_number(id.substr(dash + 1), 0);
}

int dlq_list(int argc, char** argv) {
  cli::Options opts{{"queue"}, {"max"}, {"all", false}, {"dead-letter"}};
  if (auto err = opts.parse(argc, argv, 3); !err.empty()) return usage_error(err);
  if (!opts.has("queue")) return usage_error("dlq list needs --queue");
  if (opts.has("all") && opts.has("max")) return usage_error("dlq list takes --all or --max, not both");
  std::size_t max = 100;
  if (opts.has("max")) {
    const auto n = cli::parse_number(opts.value("max"));
    if (!n || *n > 1000000) return usage_error("--max must be 1 to 1000000");
    max = static_cast<std::size_t>(*n);
  }
  std::optional<cli::AnyQueue> queue;
  if (auto p = cli::build_shared_queue(opts, queue)) return fail(*p);
  if (opts.has("all")) {
    // As many as there are now (letters dead meanwhile wait for the next listing).
    auto count = queue->dead_letter_count();
    if (!count) return redis_failed("dlq list", count.error());
    if (*count == 0) return cli::exit_ok;
    max = *count;
  }
  auto letters = queue->dead_letters(max);
  if (!letters) return redis_failed("dlq list", letters.error());
  for (const notify::DeadLetter& d : *letters)
    std::cout << dead_letter_document(d).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << '\n';
  return cli::exit_ok;
}

int dlq_redrive(int argc, char** argv) {
  cli::Options opts{{"queue"}, {"id"}, {"all", false}, {"dead-letter"}};
  if (auto err = opts.parse(argc, argv, 3); !err.empty()) return usage_error(err);
  if (!opts.has("queue")) return usage_error("dlq redrive needs --queue");
  if (opts.has("id") == opts.has("all")) return usage_error("dlq redrive needs --id ID or --all");
  const bool on_redis = opts.value("queue").starts_with("redis://");
  if (on_redis && opts.has("id") && !is_entry_id(opts.value("id")))
    return usage_error("--id must be a dead letter's id as dlq list prints it (such as 1700000000000-0)");
  std::optional<cli::AnyQueue> queue;
  if (auto p = cli::build_shared_queue(opts, queue)) return fail(*p);

  std::size_t moved = 0;
  if (opts.has("id")) {
    const std::string id = opts.value("id");
    auto r = queue->redrive(std::span<const std::string>(&id, 1), 1);
    if (!r) return redis_failed("dlq redrive", r.error());
    if (*r == 0) {
      cli::complain(program, "no dead letter with id " + id + " in " + queue->dead_letter_place());
      return cli::exit_failure;
    }
    moved = *r;
  } else {
    // In chunks, each one script call; at most as many as were there at the start, so
    // letters dead again meanwhile are not moved round and round.
    auto count = queue->dead_letter_count();
    if (!count) return redis_failed("dlq redrive", count.error());
    const std::size_t total = *count;
    constexpr std::size_t chunk = 100;
    while (moved < total) {
      auto r = queue->redrive({}, std::min(chunk, total - moved));
      if (!r) return redis_failed("dlq redrive (" + std::to_string(moved) + " moved before)", r.error());
      moved += *r;
      if (*r == 0) break;
    }
  }
  cli::complain(program, "moved " + std::to_string(moved) + " dead letter(s) back from " + queue->dead_letter_place());
  return cli::exit_ok;
}

int dlq(int argc, char** argv) {
  const std::string_view action = argc > 2 ? argv[2] : "";
  if (action == "list") return dlq_list(argc, argv);
  if (action == "redrive") return dlq_redrive(argc, argv);
  return usage_error(action.empty() ? "dlq needs list or redrive"
                                    : "unknown dlq command '" + std::string(action) + "'");
}

/// A figure of queue stats as JSON: null when the queue cannot tell (-1).
nlohmann::ordered_json figure_json(std::int64_t n) {
  return n < 0 ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(n);
}

/// A figure of queue stats in the table: "unknown" when the queue cannot tell (-1).
std::string figure_text(std::int64_t n, std::string_view unit = "") {
  if (n < 0) return "unknown";
  return std::to_string(n) + (unit.empty() ? "" : " " + std::string(unit));
}

nlohmann::ordered_json stats_document(const notify::QueueStats& s) {
  nlohmann::ordered_json j;
  j["depth"] = figure_json(s.depth);
  j["pending"] = figure_json(s.pending);
  j["delayed"] = figure_json(s.delayed);
  j["dead"] = figure_json(s.dead);
  j["oldest_pending_ms"] = figure_json(s.oldest_pending_ms);
  j["consumers"] = nlohmann::ordered_json::array();
  for (const notify::QueueStats::Consumer& c : s.consumers) {
    nlohmann::ordered_json one;
    one["name"] = c.name;
    one["pending"] = c.pending;
    one["idle_ms"] = figure_json(c.idle_ms);
    j["consumers"].push_back(std::move(one));
  }
  return j;
}

/// The table: a label column as wide as the longest label, then the figure.
std::string stats_table(const notify::QueueStats& s) {
  std::vector<std::pair<std::string, std::string>> rows = {{"depth", figure_text(s.depth)},
                                                            {"pending", figure_text(s.pending)},
                                                            {"delayed", figure_text(s.delayed)},
                                                            {"dead", figure_text(s.dead)},
                                                            {"oldest pending", figure_text(s.oldest_pending_ms, "ms")}};
  for (const notify::QueueStats::Consumer& c : s.consumers)
    rows.emplace_back("consumer " + c.name, std::to_string(c.pending) + " pending, idle " + figure_text(c.idle_ms, "ms"));
  std::size_t width = 0;
  for (const auto& row : rows) width = std::max(width, row.first.size());
  std::string out;
  for (const auto& [label, value] : rows) out += label + std::string(width + 2 - label.size(), ' ') + value + '\n';
  return out;
}

int queue_stats(int argc, char** argv) {
  cli::Options opts{{"queue"}, {"dead-letter"}, {"json", false}};
  if (auto err = opts.parse(argc, argv, 3); !err.empty()) return usage_error(err);
  if (!opts.has("queue")) return usage_error("queue stats needs --queue");
  std::optional<cli::AnyQueue> queue;
  if (auto p = cli::build_shared_queue(opts, queue)) return fail(*p);
  auto stats = queue->stats();
  if (!stats) return redis_failed("queue stats for " + queue->where(), stats.error());
  if (opts.has("json"))
    std::cout << stats_document(*stats).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << '\n';
  else
    std::cout << stats_table(*stats);
  return cli::exit_ok;
}

int queue_command(int argc, char** argv) {
  const std::string_view action = argc > 2 ? argv[2] : "";
  if (action == "stats") return queue_stats(argc, argv);
  return usage_error(action.empty() ? "queue needs stats" : "unknown queue command '" + std::string(action) + "'");
}

/// An --outbox DIR flag's outbox read without its lock; nullopt after reporting why.
std::optional<ob::Scan> look_at_outbox(const cli::Options& opts, int& exit_code) {
  auto found = ob::Outbox::inspect(opts.value("outbox"));
  if (!found) {
    cli::complain(program, found.error().message);
    exit_code = exit_outbox;
    return std::nullopt;
  }
  return std::move(*found);
}

int outbox_status(int argc, char** argv) {
  cli::Options opts{{"outbox"}, {"json", false}};
  if (auto err = opts.parse(argc, argv, 3); !err.empty()) return usage_error(err);
  if (!opts.has("outbox")) return usage_error("outbox status needs --outbox");
  int exit_code = cli::exit_ok;
  const auto found = look_at_outbox(opts, exit_code);
  if (!found) return exit_code;
  std::uint64_t bytes = found->valid_end + found->torn_bytes;
  const std::int64_t age = found->entries.empty() ? -1 : std::max<std::int64_t>(0, ob::now_ms() - found->entries.front().enqueued_ms);
  // Waiting requests per destination (credentials left out), in order of first appearance.
  std::vector<std::pair<std::pair<std::string, int>, std::size_t>> queues;
  for (const ob::Entry& e : found->entries) {
    const std::pair<std::string, int> key{ob::redact(e.queue), e.priority};
    auto it = std::find_if(queues.begin(), queues.end(), [&](const auto& q) { return q.first == key; });
    if (it == queues.end()) queues.push_back({key, 1});
    else ++it->second;
  }
  if (opts.has("json")) {
    nlohmann::ordered_json j;
    j["depth"] = found->entries.size();
    j["bytes"] = bytes;
    j["oldest_age_ms"] = figure_json(age);
    j["damaged"] = found->damaged.size();
    j["torn_bytes"] = found->torn_bytes;
    j["queues"] = nlohmann::ordered_json::array();
    for (const auto& [key, n] : queues) {
      nlohmann::ordered_json q;
      q["queue"] = key.first;
      q["priority"] = key.second == 1 ? "high" : "normal";
      q["depth"] = n;
      j["queues"].push_back(std::move(q));
    }
    std::cout << j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << '\n';
    return cli::exit_ok;
  }
  std::vector<std::pair<std::string, std::string>> rows = {{"depth", std::to_string(found->entries.size())},
                                                            {"bytes", std::to_string(bytes)},
                                                            {"oldest", age < 0 ? "none" : std::to_string(age) + " ms"},
                                                            {"damaged", std::to_string(found->damaged.size())},
                                                            {"torn", std::to_string(found->torn_bytes) + " bytes"}};
  for (const ob::Damage& d : found->damaged)
    rows.emplace_back("damaged at", std::to_string(d.offset) + " (" + std::to_string(d.bytes) + " bytes)");
  for (const auto& [key, n] : queues)
    rows.emplace_back("queue " + key.first + (key.second == 1 ? " (high)" : ""), std::to_string(n) + " waiting");
  std::size_t width = 0;
  for (const auto& row : rows) width = std::max(width, row.first.size());
  for (const auto& [label, value] : rows) std::cout << label << std::string(width + 2 - label.size(), ' ') << value << '\n';
  return cli::exit_ok;
}

/// --max N of outbox list and drain: N, no limit without the flag, nullopt when not a number.
std::optional<std::size_t> max_flag(const cli::Options& opts) {
  if (!opts.has("max")) return SIZE_MAX;
  const auto n = cli::parse_number(opts.value("max"));
  if (!n) return std::nullopt;
  return static_cast<std::size_t>(*n);
}

int outbox_list(int argc, char** argv) {
  cli::Options opts{{"outbox"}, {"max"}};
  if (auto err = opts.parse(argc, argv, 3); !err.empty()) return usage_error(err);
  if (!opts.has("outbox")) return usage_error("outbox list needs --outbox");
  const auto max = max_flag(opts);
  if (!max) return usage_error("--max must be a number from 1");
  int exit_code = cli::exit_ok;
  const auto found = look_at_outbox(opts, exit_code);
  if (!found) return exit_code;
  for (std::size_t i = 0; i < found->entries.size() && i < *max; ++i) {
    const ob::Entry& e = found->entries[i];
    nlohmann::ordered_json j;
    j["seq"] = e.seq;
    j["enqueuedAt"] = e.enqueued_ms;
    j["queue"] = ob::redact(e.queue);
    j["priority"] = e.priority == 1 ? "high" : "normal";
    j["body"] = e.body;
    std::cout << j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << '\n';
  }
  return cli::exit_ok;
}

int outbox_drain(int argc, char** argv) {
  cli::Options opts{{"outbox"}, {"max"}};
  if (auto err = opts.parse(argc, argv, 3); !err.empty()) return usage_error(err);
  if (!opts.has("outbox")) return usage_error("outbox drain needs --outbox");
  const auto max = max_flag(opts);
  if (!max) return usage_error("--max must be a number from 1");
  ob::Options options;
  options.lock_wait = std::chrono::seconds(10);
  auto box = ob::Outbox::open(opts.value("outbox"), options);
  if (!box) {
    cli::complain(program, box.error().message);
    return exit_outbox;
  }
  report_damage(*box);
  QueueCache queues;
  const ob::RelayResult r = box->relay(queues.sender(), 500, *max);
  const ob::Stats s = box->stats();
  std::string summary = "relayed " + std::to_string(r.relayed) + " request(s) from the outbox " + box->dir() + ", " +
                        std::to_string(s.depth) + " waiting";
  if (r.error) {
    const auto waiting = box->pending();
    const std::string queue = waiting.empty() ? std::string() : " (" + ob::redact(waiting.front().queue) + ")";
    cli::complain(program, summary + "; stopped" + queue + ": " + r.error->message);
    return cli::exit_unavailable;
  }
  cli::complain(program, summary);
  return cli::exit_ok;
}

int outbox_drop(int argc, char** argv) {
  cli::Options opts{{"outbox"}, {"through"}};
  if (auto err = opts.parse(argc, argv, 3); !err.empty()) return usage_error(err);
  if (!opts.has("outbox") || !opts.has("through")) return usage_error("outbox drop needs --outbox and --through");
  const auto seq = cli::parse_number(opts.value("through"));
  if (!seq) return usage_error("--through must be a seq as outbox list prints it");
  ob::Options options;
  options.lock_wait = std::chrono::seconds(10);
  auto box = ob::Outbox::open(opts.value("outbox"), options);
  if (!box) {
    cli::complain(program, box.error().message);
    return exit_outbox;
  }
  auto removed = box->discard_through(static_cast<std::uint64_t>(*seq));
  if (!removed) {
    cli::complain(program, removed.error().message);
    return exit_outbox;
  }
  for (const ob::Entry& e : *removed) std::cout << e.body << '\n';
  cli::complain(program, "dropped " + std::to_string(removed->size()) + " request(s) from the outbox " + box->dir() +
                             " (printed on stdout), " + std::to_string(box->stats().depth) + " waiting");
  return removed->empty() ? cli::exit_failure : cli::exit_ok;
}

int outbox_command(int argc, char** argv) {
  const std::string_view action = argc > 2 ? argv[2] : "";
  if (action == "status") return outbox_status(argc, argv);
  if (action == "list") return outbox_list(argc, argv);
  if (action == "drain") return outbox_drain(argc, argv);
  if (action == "drop") return outbox_drop(argc, argv);
  return usage_error(action.empty() ? "outbox needs status, list, drain or drop"
                                    : "unknown outbox command '" + std::string(action) + "'");
}

struct Command {
  std::string_view name;
  int (*run)(int argc, char** argv);
};

constexpr Command commands[] = {
    {"render", render},
    {"routing", routing},
    {"validate", validate},
    {"schema", schema},
    {"publish", publish},
    {"members", members},
    {"dlq", dlq},
    {"queue", queue_command},
    {"outbox", outbox_command},
};

}  // namespace

int main(int argc, char** argv) {
  // Past a file size limit (ulimit -f) a write fails with EFBIG, which the outbox reports,
  // instead of the default SIGXFSZ ending the process.
  std::signal(SIGXFSZ, SIG_IGN);
  if (argc < 2) return usage_error("missing command");
  const std::string_view name = argv[1];
  for (int i = 1; i < argc; ++i)
    if (std::string_view a = argv[i]; a == "-h" || a == "--help" || (i == 1 && a == "help")) {
      std::cout << usage_text;
      return cli::exit_ok;
    } else if (i == 1 && a == "--version") {
      std::cout << program << ' ' << notify::ops::version() << " (" << notify::ops::revision() << ")\n";
      return cli::exit_ok;
    }
  for (const Command& c : commands)
    if (c.name == name) return c.run(argc, argv);
  return usage_error("unknown command '" + std::string(name) + "'");
}
