// SPDX-License-Identifier: MIT
// notify-worker: the long-running consumer. Receives batches from a queue, plans them
// against the member store, pushes, publishes inbox records, and settles each record.
// This build has the in-memory transports only: a JSON-lines file as the queue, a
// members JSON file as the store, and a push provider that logs (or drops) each push.

#include <atomic>
#include <chrono>
#include <csignal>
#include <iostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "notify/memory/memory.hpp"
#include "notify/processor.hpp"

namespace {

constexpr std::string_view program = "notify-worker";

constexpr std::string_view usage_text = R"(usage: notify-worker --queue memory:FILE --members FILE --push log|null [options]

  --queue memory:FILE     a JSON-lines file of request bodies (FILE '-' is stdin)
  --members FILE          the member store as JSON, as `notifyctl render` reads it
                          (memory:FILE is the same)
  --push log|null         log: print each push to stdout; null: accept every push silently
  --drain                 exit 0 once the queue is empty and nothing is in flight
  --log-format text|json  events on stderr, one per line (default text: key=value pairs)
  --batch-size N          records per receive, 1 to 10 (default 10)

Every flag can also be set as NOTIFY_<FLAG> (NOTIFY_PUSH=log, NOTIFY_DRAIN=1, ...);
the command line wins. redis://, SQS and FCM transports (and --inbox, --dead-letter,
--fcm-credentials, --fcm-endpoint, --ca-file) are not supported yet in this build.

stdout: "push token=... title=... body=... [screen=...] [param=...]" per push,
        "inbox <JSON array>" per request with inbox records, and at exit
        "dead_letter id=... reason=... body=..." per dead-lettered record.
exit status: 0 drained or stopped by SIGTERM/SIGINT, 1 stopped on an error,
64 usage or unsupported transport, 65 malformed members file, 66 unreadable file.
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
class PrintingPushProvider {
 public:
  explicit PrintingPushProvider(bool print) : print_(print) {}

  std::vector<notify::PushResult> send(std::span<const notify::Push> pushes) {
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
        std::cout << line << std::flush;
      }
      out.push_back({notify::PushStatus::sent, {}, (print_ ? "log/" : "null/") + std::to_string(count_)});
    }
    return out;
  }

  std::size_t count() const noexcept { return count_; }

 private:
  bool print_;
  std::size_t count_ = 0;
};

/// Prints each request's inbox records as "inbox <JSON array>".
class PrintingInbox {
 public:
  notify::Result<void> publish(std::span<const std::string> bodies) {
    for (const std::string& b : bodies) std::cout << "inbox " << b << '\n';
    std::cout << std::flush;
    return {};
  }
};

static_assert(notify::PushProvider<PrintingPushProvider>);
static_assert(notify::InboxSink<PrintingInbox>);

/// The path of a memory:PATH (or plain PATH when `plain_ok`) location; empty when the
/// location is some other URL.
std::string memory_path(std::string_view location, bool plain_ok) {
  if (location.substr(0, 7) == "memory:") return std::string(location.substr(7));
  if (plain_ok && location.find("://") == std::string_view::npos) return std::string(location);
  return {};
}

/// Splits a JSON-lines text into its non-blank lines.
std::vector<std::string> json_lines(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") != std::string_view::npos) out.emplace_back(line);
  }
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
                    {"fcm-credentials"},
                    {"fcm-endpoint"},
                    {"ca-file"}};
  if (auto err = opts.parse(argc, argv, 1); !err.empty()) return usage_error(err);
  if (auto err = opts.parse_env(); !err.empty()) return usage_error(err);

  for (std::string_view later : {"inbox", "dead-letter", "fcm-credentials", "fcm-endpoint", "ca-file"})
    if (opts.has(later)) return not_supported("--" + std::string(later));
  if (!opts.has("queue")) return usage_error("--queue is required (memory:FILE)");
  if (!opts.has("members")) return usage_error("--members is required (FILE)");
  if (!opts.has("push")) return usage_error("--push is required (log or null)");

  const std::string queue_path = memory_path(opts.value("queue"), false);
  if (queue_path.empty()) {
    if (opts.value("queue").find("://") != std::string::npos) return not_supported("queue " + opts.value("queue"));
    return usage_error("--queue must be memory:FILE");
  }
  const std::string members_path = memory_path(opts.value("members"), true);
  if (members_path.empty()) return not_supported("member store " + opts.value("members"));
  const std::string& push = opts.value("push");
  if (push == "fcm") return not_supported("--push fcm");
  if (push != "log" && push != "null") return usage_error("--push must be log or null");
  const std::string log_format = opts.value_or("log-format", "text");
  if (log_format != "text" && log_format != "json") return usage_error("--log-format must be text or json");
  std::size_t batch_size = 10;
  if (opts.has("batch-size")) {
    const std::string& b = opts.value("batch-size");
    if (b.size() == 1 && b[0] >= '1' && b[0] <= '9') batch_size = static_cast<std::size_t>(b[0] - '0');
    else if (b != "10") return usage_error("--batch-size must be 1 to 10");
  }
  if (queue_path == "-" && members_path == "-") return usage_error("only one of the files can be '-'");

  const EventLog log(log_format == "json");

  // The member store.
  notify::memory::MemberStore store;
  const auto members_text = cli::read_input(members_path);
  if (!members_text) {
    cli::complain(program, "cannot read members file '" + members_path + "'");
    return cli::exit_no_input;
  }
  const std::string bad_members = cli::for_each_stored_member(
      *members_text,
      [&](notify::Id family, const std::string& field, const std::string& value) { store.put_raw(family, field, value); },
      [&](const std::string& where, const std::string& what) {
        log(notify::Event{"member_skipped", where, {}, {}, what});
      });
  if (!bad_members.empty()) {
    cli::complain(program, members_path + ": " + bad_members);
    return cli::exit_data;
  }

  // The queue.
  notify::memory::Queue queue;
  const auto queue_text = cli::read_input(queue_path);
  if (!queue_text) {
    cli::complain(program, "cannot read queue file '" + queue_path + "'");
    return cli::exit_no_input;
  }
  const std::vector<std::string> bodies = json_lines(*queue_text);
  if (auto r = queue.send(bodies); !r) {
    cli::complain(program, "cannot load the queue: " + r.error().message);
    return cli::exit_failure;
  }

  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);

  PrintingPushProvider pusher(push == "log");
  PrintingInbox inbox;
  notify::memory::IdempotencyStore ledger;
  const notify::EventSink sink = [&log](const notify::Event& e) { log(e); };
  notify::BatchProcessor processor(store, pusher, inbox, ledger, notify::ProcessorOptions{}, sink);

  notify::WorkerOptions worker;
  worker.batch_size = batch_size;
  worker.drain = opts.has("drain");
  worker.wait = std::chrono::milliseconds(worker.drain ? 20 : 1000);
  const notify::Result<void> result = notify::run_worker(queue, processor, stop_requested, worker, sink);

  for (const auto& d : queue.dead_letters())
    std::cout << "dead_letter id=" << d.record.id << " reason=" << d.reason << " body=" << d.record.body
              << '\n';
  std::cout << std::flush;

  const std::string summary = std::to_string(bodies.size()) + " records: " + std::to_string(queue.acked()) +
                              " done, " + std::to_string(queue.dead_letters().size()) + " dead-lettered, " +
                              std::to_string(queue.pending()) + " pending; " + std::to_string(pusher.count()) +
                              " pushes";
  if (!result) {
    log(notify::Event{"fatal", {}, {}, {}, result.error().message});
    return cli::exit_failure;
  }
  log(notify::Event{stop_requested.load() ? "stopped" : "drained", {}, {}, {}, summary});
  return cli::exit_ok;
}
