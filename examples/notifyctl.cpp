// SPDX-License-Identifier: MIT
// notifyctl: the command-line tool around the notify core. Subcommands:
//   render    print the plan of one request against a members file
//   validate  check one request (exit 0, or 2 with the errors as JSON)
//   schema    print the JSON Schema of the wire format
// Each subcommand is one function in the table at the bottom; publish, members and dlq
// join it when the transports they need are built.

#include <algorithm>
#include <iostream>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "notify/codec.hpp"
#include "notify/json_schema.hpp"
#include "notify/members.hpp"
#include "notify/plan.hpp"

namespace {

constexpr std::string_view program = "notifyctl";

constexpr std::string_view usage_text = R"(usage: notifyctl <command> [options]

commands:
  render --request FILE|- --members FILE
      Print the plan of one request as JSON:
      {"pushes": [{"tokens", "title", "body", "screen"?, "param"?}],
       "inbox": [{"receiverId", "title", "body", "screen"?, "param"?}]}
      The members file is the member store as JSON:
      {"family:3": {"user:4": "{\"userName\":\"...\",\"fcmToken\":\"...\"}"}}.
      Stored values that cannot be read are reported on stderr and skipped.
  validate --request FILE|-
      Check one request; print nothing when it is valid.
  schema
      Print the JSON Schema (draft 2020-12) of a request.

FILE '-' reads stdin.
exit status: 0 ok, 2 invalid request ({"errors":[{"path","code","message"}]} on
stdout), 64 usage, 65 malformed members file, 66 unreadable file.
)";

int usage_error(std::string_view message) {
  cli::complain(program, message);
  std::cerr << '\n' << usage_text;
  return cli::exit_usage;
}

/// Reads the request named by --request and decodes it; prints errors as JSON.
std::optional<notify::Request> load_request(const cli::Options& opts, int& exit_code) {
  const std::string& path = opts.value("request");
  const auto body = cli::read_input(path);
  if (!body) {
    cli::complain(program, "cannot read request file '" + path + "'");
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
    if (!m.tokens.empty()) {
      nlohmann::ordered_json p;
      p["tokens"] = nlohmann::ordered_json::array();
      for (std::string_view t : m.tokens) p["tokens"].push_back(std::string(t));
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
  return doc;
}

int render(int argc, char** argv) {
  cli::Options opts{{"request"}, {"members"}};
  if (auto err = opts.parse(argc, argv, 2); !err.empty()) return usage_error(err);
  if (!opts.has("request") || !opts.has("members")) return usage_error("render needs --request and --members");

  const std::string& members_path = opts.value("members");
  if (members_path == "-" && opts.value("request") == "-") return usage_error("only one of the files can be '-'");
  const auto members_text = cli::read_input(members_path);
  if (!members_text) {
    cli::complain(program, "cannot read members file '" + members_path + "'");
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

  const notify::Families store(std::move(families));
  std::cout << cli::pretty(plan_document(notify::plan(*request, store)));
  return cli::exit_ok;
}

int validate(int argc, char** argv) {
  cli::Options opts{{"request"}};
  if (auto err = opts.parse(argc, argv, 2); !err.empty()) return usage_error(err);
  if (!opts.has("request")) return usage_error("validate needs --request");
  int exit_code = cli::exit_ok;
  load_request(opts, exit_code);
  return exit_code;
}

int schema(int argc, char** argv) {
  cli::Options opts{};
  if (auto err = opts.parse(argc, argv, 2); !err.empty()) return usage_error(err);
  std::cout << cli::pretty(nlohmann::ordered_json::parse(notify::json_schema()));
  return cli::exit_ok;
}

struct Command {
  std::string_view name;
  int (*run)(int argc, char** argv);
};

constexpr Command commands[] = {
    {"render", render},
    {"validate", validate},
    {"schema", schema},
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage_error("missing command");
  const std::string_view name = argv[1];
  for (int i = 1; i < argc; ++i)
    if (std::string_view a = argv[i]; a == "-h" || a == "--help" || (i == 1 && a == "help")) {
      std::cout << usage_text;
      return cli::exit_ok;
    }
  for (const Command& c : commands)
    if (c.name == name) return c.run(argc, argv);
  return usage_error("unknown command '" + std::string(name) + "'");
}
