// SPDX-License-Identifier: MIT
#pragma once

/// What the programs share for their command lines: exit codes, reading files or stdin,
/// option parsing (with NOTIFY_<FLAG> environment fallbacks), the errors document and the
/// members file. The programs name this namespace `cli`.

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>  // environ, for Options::unknown_environment

#include <nlohmann/json.hpp>

#include "notify/codec.hpp"
#include "notify/members.hpp"

namespace notify::app {

/// Exit codes (the sysexits.h values for the last three).
enum Exit : int {
  exit_ok = 0,
  exit_failure = 1,       ///< the worker stopped on an error
  exit_invalid = 2,       ///< the request is invalid (errors JSON on stdout)
  exit_usage = 64,        ///< bad command line (usage on stderr)
  exit_data = 65,         ///< an input file is not what it should be (e.g. members not JSON)
  exit_no_input = 66,     ///< an input file cannot be read
  exit_unavailable = 69,  ///< a service (Redis) failed or cannot be reached
};

/// The whole content of a file, or of stdin for "-"; nullopt if it cannot be read, with
/// the reason in `why` (when given): a directory, a missing file, a read error. Never
/// throws, so every caller can answer exit_no_input.
inline std::optional<std::string> read_input(const std::string& path, std::string* why = nullptr) {
  const auto fail = [&](std::string reason) -> std::optional<std::string> {
    if (why) *why = std::move(reason);
    return std::nullopt;
  };
  try {
    if (path == "-") {
      std::ostringstream ss;
      ss << std::cin.rdbuf();
      if (std::cin.bad()) return fail("read error on stdin");
      return std::move(ss).str();
    }
    // A directory opens like a file and fails on the first read (libstdc++ then throws
    // std::ios_base::failure from inside the stream buffer): refuse it first.
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) return fail("is a directory, not a file");
    errno = 0;
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(errno != 0 ? std::strerror(errno) : "cannot open");
    std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) return fail("read error");
    return s;
  } catch (const std::exception& e) {  // a read error the checks above did not foresee
    return fail(errno != 0 ? std::strerror(errno) : e.what());
  }
}

/// "cannot read <what> '<path>': <why>", the message for exit_no_input.
inline std::string cannot_read(std::string_view what, const std::string& path, const std::string& why) {
  std::string m = "cannot read " + std::string(what) + " '" + path + "'";
  if (!why.empty()) m += ": " + why;
  return m;
}

/// Calls `line(number, text)` for each non-blank line of a JSON-lines text; numbers
/// start at 1 and count blank lines too, a final CR is dropped.
inline void for_each_line(std::string_view text, const std::function<void(std::size_t, std::string_view)>& line) {
  std::size_t number = 0;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view l = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++number;
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    if (l.find_first_not_of(" \t") != std::string_view::npos) line(number, l);
  }
}

/// A whole number from `min` to INT64_MAX written in plain digits (no sign, no leading
/// zero); nullopt otherwise.
inline std::optional<std::int64_t> parse_number(std::string_view s, std::int64_t min = 1) {
  if (s.empty() || (s[0] == '0' && s.size() > 1)) return std::nullopt;
  std::int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const int digit = c - '0';
    if (v > (INT64_MAX - digit) / 10) return std::nullopt;
    v = v * 10 + digit;
  }
  if (v < min) return std::nullopt;
  return v;
}

/// One command-line option: `--name VALUE`, `--name=VALUE`, or a flag `--name`.
struct Option {
  Option(std::string_view option_name, bool with_value = true) : name(option_name), takes_value(with_value) {}

  std::string_view name;  ///< without the leading dashes
  bool takes_value = true;
  std::string value;      ///< the value, or "1" for a flag that is set
  bool set = false;
  bool from_env = false;  ///< set by its NOTIFY_<NAME> variable, not the command line
};

/// NOTIFY_<NAME>: the variable of an option (dashes as '_').
inline std::string env_name(std::string_view option) {
  std::string var = "NOTIFY_";
  for (char c : option) var += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return var;
}

/// Every setting some notify program reads from NOTIFY_<NAME> (notify-worker's flags and
/// notify-lambda's), so that one environment may serve both without warnings.
inline constexpr std::string_view known_settings[] = {
    "queue",         "members",        "push",         "drain",           "log-format",
    "batch-size",    "inbox",          "dead-letter",  "claim-idle-ms",   "push-delay-ms",
    "fcm-credentials", "fcm-endpoint", "ca-file",      "fcm-connections", "fcm-streams",
    "time-reserve-ms", "metrics-listen", "stats-interval", "metrics", "log-level",
    "apns-key",      "apns-key-id",    "apns-team-id", "apns-topic",      "apns-endpoint",
    "apns-connections", "apns-streams", "routing",
    "smtp-url",      "smtp-from",      "smtp-from-name", "smtp-user",     "smtp-password-file",
    "sens-endpoint", "sens-access-key", "sens-secret-key", "sens-secret-key-file", "sens-sms-service",
    "sens-alimtalk-service", "sens-from", "sens-plus-friend", "sens-templates", "sens-sms-failover"};

/// NOTIFY_* variables the project's own scripts and tests set (tests/run.sh, the e2e
/// suite, examples/demo.sh); the programs inherit them and ignore them quietly.
inline bool is_tooling_variable(std::string_view var) {
  constexpr std::string_view exact[] = {"NOTIFY_REDIS_SERVER", "NOTIFY_REDIS_CLI", "NOTIFY_TESTDATA_DIR",
                                        "NOTIFY_BUILD_ROOT", "NOTIFY_SKIP_FUZZ"};
  for (std::string_view e : exact)
    if (var == e) return true;
  return var.starts_with("NOTIFY_E2E_") || var.starts_with("NOTIFY_DEMO_");
}

/// Levenshtein distance, for "did you mean".
inline std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

/// Options of one (sub)command, looked up by name.
class Options {
 public:
  Options(std::initializer_list<Option> options) : items_(options) {}

  /// Declares more options (before parse()).
  void add(std::initializer_list<Option> options) { items_.insert(items_.end(), options); }

  /// Parses argv[first..]; returns an error message for the usage text, empty if fine.
  std::string parse(int argc, char** argv, int first) {
    for (int i = first; i < argc; ++i) {
      std::string_view arg = argv[i];
      if (arg.substr(0, 2) != "--" || arg.size() == 2) return "unexpected argument '" + std::string(arg) + "'";
      arg.remove_prefix(2);
      std::optional<std::string_view> inline_value;
      if (const auto eq = arg.find('='); eq != std::string_view::npos) {
        inline_value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
      }
      Option* o = find(arg);
      if (!o) return "unknown option --" + std::string(arg);
      if (o->set) return "--" + std::string(arg) + " given twice";
      o->set = true;
      if (!o->takes_value) {
        if (inline_value) return "--" + std::string(arg) + " takes no value";
        o->value = "1";
      } else if (inline_value) {
        o->value = *inline_value;
      } else if (i + 1 < argc) {
        o->value = argv[++i];
      } else {
        return "--" + std::string(arg) + " needs a value";
      }
    }
    return {};
  }

  /// Fills options not given on the command line from NOTIFY_<NAME> (dashes as '_').
  /// Flags read 1/true/yes and 0/false/no/empty; returns an error message if neither.
  std::string parse_env() {
    for (Option& o : items_) {
      if (o.set) continue;
      const std::string var = env_name(o.name);
      const char* v = std::getenv(var.c_str());
      if (!v) continue;
      const std::string_view value = v;
      if (o.takes_value) {
        if (value.empty()) continue;
        o.value = value;
        o.set = o.from_env = true;
      } else if (value == "1" || value == "true" || value == "yes") {
        o.value = "1";
        o.set = o.from_env = true;
      } else if (!(value.empty() || value == "0" || value == "false" || value == "no")) {
        return var + " must be 1/true/yes or 0/false/no";
      }
    }
    return {};
  }

  /// One warning per NOTIFY_* variable in `environment` that is no setting of any notify
  /// program (a misspelling, most likely), naming the closest setting of `program`.
  std::vector<std::string> unknown_environment(std::string_view program, char** environment) const {
    std::vector<std::string> warnings;
    for (char** e = environment; e && *e; ++e) {
      const std::string_view entry = *e;
      const std::string_view var = entry.substr(0, entry.find('='));
      if (!var.starts_with("NOTIFY_") || is_tooling_variable(var)) continue;
      bool known = false;
      for (std::string_view s : known_settings) known = known || env_name(s) == var;
      for (const Option& o : items_) known = known || env_name(o.name) == var;  // a new one not listed yet
      if (known) continue;
      std::string warning = std::string(var) + " is not a setting of " + std::string(program) + " (ignored)";
      std::string best;
      std::size_t best_distance = 4;  // suggest only what is close
      for (const Option& o : items_) {
        const std::string candidate = env_name(o.name);
        if (const std::size_t d = edit_distance(var, candidate); d < best_distance) {
          best_distance = d;
          best = candidate;
        }
      }
      if (!best.empty()) warning += "; did you mean " + best + "?";
      warnings.push_back(std::move(warning));
    }
    return warnings;
  }

  /// How a message names an option: "--name", or "NOTIFY_NAME" when the value came from
  /// the environment, so the user looks in the right place.
  std::string flag(std::string_view name) const {
    return get(name).from_env ? env_name(name) : "--" + std::string(name);
  }
  bool from_env(std::string_view name) const { return get(name).from_env; }

  bool has(std::string_view name) const { return get(name).set; }
  const std::string& value(std::string_view name) const { return get(name).value; }
  /// The value, or `fallback` when the option was not given.
  std::string value_or(std::string_view name, std::string fallback) const {
    const Option& o = get(name);
    return o.set ? o.value : fallback;
  }

 private:
  Option* find(std::string_view name) {
    for (Option& o : items_)
      if (o.name == name) return &o;
    return nullptr;
  }
  const Option& get(std::string_view name) const {
    for (const Option& o : items_)
      if (o.name == name) return o;
    NOTIFY_ASSERT(false && "option not declared");
    return items_.front();
  }

  std::vector<Option> items_;
};

/// Declares the settings of the contact channels and routing that notify-worker and
/// notify-lambda share: --routing, the SMTP provider's (--smtp-*) and SENS's (--sens-*).
inline void add_channel_options(Options& opts) {
  opts.add({{"routing"}, {"smtp-url"}, {"smtp-from"}, {"smtp-from-name"}, {"smtp-user"}, {"smtp-password-file"},
            {"sens-endpoint"}, {"sens-access-key"}, {"sens-secret-key-file"}, {"sens-sms-service"},
            {"sens-alimtalk-service"}, {"sens-from"}, {"sens-plus-friend"}, {"sens-templates"},
            {"sens-sms-failover", false}});
}

/// {"errors":[{"path","code","message"}]} as printed by render and validate.
inline nlohmann::ordered_json errors_document(const notify::Errors& errors) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const notify::Error& e : errors)
    list.push_back({{"path", e.path}, {"code", std::string(notify::to_string(e.code))}, {"message", e.message}});
  return {{"errors", std::move(list)}};
}

/// Pretty JSON with a final newline; invalid UTF-8 (never expected) as U+FFFD.
inline std::string pretty(const nlohmann::ordered_json& j) {
  return j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

/// Where a text stops being JSON: the offset from 0 of the byte that broke the parse (as
/// the request decoder reports it). nlohmann's non-throwing parse does not say; its SAX
/// interface hands over the parse_error instead of throwing it.
inline std::size_t json_error_offset(std::string_view text) {
  struct Sax final : nlohmann::json_sax<nlohmann::json> {
    std::size_t byte = 0;
    bool null() override { return true; }
    bool boolean(bool) override { return true; }
    bool number_integer(number_integer_t) override { return true; }
    bool number_unsigned(number_unsigned_t) override { return true; }
    bool number_float(number_float_t, const string_t&) override { return true; }
    bool string(string_t&) override { return true; }
    bool binary(binary_t&) override { return true; }
    bool start_object(std::size_t) override { return true; }
    bool key(string_t&) override { return true; }
    bool end_object() override { return true; }
    bool start_array(std::size_t) override { return true; }
    bool end_array() override { return true; }
    bool parse_error(std::size_t, const std::string&, const nlohmann::json::exception& e) override {
      // parse_error::byte counts from 1 and is one past the byte that broke the parse.
      if (const auto* p = dynamic_cast<const nlohmann::json::parse_error*>(&e)) byte = p->byte;
      return false;
    }
  } sax;
  nlohmann::json::sax_parse(text.begin(), text.end(), &sax);
  return sax.byte > 0 ? sax.byte - 1 : 0;
}

/// Walks a members file: the member store's contents as JSON,
/// {"family:<id>": {"user:<id>": "<stored member JSON string>"}}. Calls
/// `member(familyId, field, value)` for each stored value whose key and field are well
/// formed, and `problem(where, what)` for each entry skipped. Returns an error message
/// if the file as a whole is not such an object.
inline std::string for_each_stored_member(
    std::string_view text, const std::function<void(notify::Id, const std::string&, const std::string&)>& member,
    const std::function<void(const std::string&, const std::string&)>& problem) {
  const auto doc = nlohmann::ordered_json::parse(text.begin(), text.end(), nullptr, false);
  if (doc.is_discarded()) return "not valid JSON at byte " + std::to_string(json_error_offset(text));
  if (!doc.is_object()) return "expected an object {\"family:<id>\": {\"user:<id>\": \"<member JSON>\"}}";
  for (const auto& [key, fields] : doc.items()) {
    const auto family = notify::parse_family_key(key);
    if (!family) {
      problem(key, "key is not family:<id>");
      continue;
    }
    if (!fields.is_object()) {
      problem(key, "expected an object of user:<id> fields");
      continue;
    }
    for (const auto& [field, value] : fields.items()) {
      const std::string where = key + "." + field;
      if (!notify::parse_member_field(field)) problem(where, "field is not user:<id>");
      else if (!value.is_string()) problem(where, "value is not a string (the stored member JSON)");
      else member(*family, field, value.get<std::string>());
    }
  }
  return {};
}

/// Writes a message to stderr as "<program>: <message>".
inline void complain(std::string_view program, std::string_view message) {
  std::cerr << program << ": " << message << '\n';
}

}  // namespace notify::app
