// SPDX-License-Identifier: MIT
#include "notify/lambda/event.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "notify/detail/json_writer.hpp"

namespace notify::lambda {
namespace {

using Json = nlohmann::json;

Error problem(Errc code, std::string path, std::string message) { return Error{code, std::move(message), std::move(path)}; }

/// A whole number written in plain digits (SQS writes attribute values as strings), or
/// a JSON integer; nullopt if neither or if it does not fit.
std::optional<std::int64_t> whole_number(const Json& v) {
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
    return static_cast<std::int64_t>(u);
  }
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (!v.is_string()) return std::nullopt;
  const auto& s = v.get_ref<const std::string&>();
  if (s.empty() || s.size() > 18) return std::nullopt;  // 18 digits always fit in int64
  std::int64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return n;
}

/// The string member `key` of `record`: an error if absent (when required) or not a string.
Result<std::optional<std::string>> string_field(const Json& record, const char* key, const std::string& path,
                                                bool required) {
  const auto it = record.find(key);
  if (it == record.end() || it->is_null()) {
    if (required) return problem(Errc::missing_field, path + "." + key, "missing");
    return std::optional<std::string>{};
  }
  if (!it->is_string()) return problem(Errc::expected_string, path + "." + key, "expected a string");
  return std::optional<std::string>{it->get<std::string>()};
}

Result<void> read_attributes(const Json& record, const std::string& path, QueueRecord& out) {
  const auto it = record.find("attributes");
  if (it == record.end() || it->is_null()) return {};
  const std::string at = path + ".attributes";
  if (!it->is_object()) return problem(Errc::expected_object, at, "expected an object");
  if (const auto c = it->find("ApproximateReceiveCount"); c != it->end()) {
    const auto n = whole_number(*c);
    if (!n || *n < 1 || *n > std::numeric_limits<int>::max())
      return problem(Errc::invalid_value, at + ".ApproximateReceiveCount", "expected a whole number from 1");
    out.receive_count = static_cast<int>(*n);
  }
  if (const auto t = it->find("SentTimestamp"); t != it->end()) {
    const auto n = whole_number(*t);
    if (!n) return problem(Errc::invalid_value, at + ".SentTimestamp", "expected Unix milliseconds");
    out.sent_at_ms = *n;
  }
  if (const auto g = it->find("MessageGroupId"); g != it->end() && !g->is_null()) {
    if (!g->is_string()) return problem(Errc::expected_string, at + ".MessageGroupId", "expected a string");
    out.group = g->get<std::string>();
  }
  return {};
}

}  // namespace

bool is_fifo_arn(std::string_view arn) noexcept {
  // arn:aws:sqs:REGION:ACCOUNT:NAME; the name is after the last ':'.
  const auto colon = arn.rfind(':');
  const std::string_view name = colon == std::string_view::npos ? arn : arn.substr(colon + 1);
  constexpr std::string_view suffix = ".fifo";
  return name.size() > suffix.size() && name.substr(name.size() - suffix.size()) == suffix;
}

Result<SqsEvent> parse_sqs_event(std::string_view json) {
  // nlohmann's non-throwing mode: a syntax error gives a discarded value, nothing throws.
  const Json doc = Json::parse(json.begin(), json.end(), nullptr, false);
  if (doc.is_discarded()) return problem(Errc::invalid_json, "", "the event is not valid JSON");
  if (!doc.is_object()) return problem(Errc::expected_object, "", "expected an object with Records");
  const auto records = doc.find("Records");
  if (records == doc.end()) return problem(Errc::missing_field, "Records", "missing: not an SQS event");
  if (!records->is_array()) return problem(Errc::expected_array, "Records", "expected an array");

  SqsEvent event;
  event.records.reserve(records->size());
  event.sources.reserve(records->size());
  for (std::size_t i = 0; i < records->size(); ++i) {
    const Json& r = (*records)[i];
    const std::string path = "Records[" + std::to_string(i) + "]";
    if (!r.is_object()) return problem(Errc::expected_object, path, "expected an object");

    const auto source = string_field(r, "eventSource", path, true);
    if (!source) return source.error();
    if (**source != "aws:sqs")
      return problem(Errc::invalid_value, path + ".eventSource", "expected aws:sqs, not an SQS record");

    QueueRecord q;
    auto id = string_field(r, "messageId", path, true);
    if (!id) return id.error();
    if ((*id)->empty()) return problem(Errc::invalid_value, path + ".messageId", "empty");
    RecordSource src;
    src.message_id = **id;
    q.id = std::move(**id);
    // The producer's request id, when it sent one (notify::sqs::Queue::send does).
    if (const auto attrs = r.find("messageAttributes"); attrs != r.end() && attrs->is_object())
      if (const auto rid = attrs->find("notify-rid"); rid != attrs->end() && rid->is_object())
        if (const auto v = rid->find("stringValue"); v != rid->end() && v->is_string() && !v->get<std::string>().empty())
          q.id = v->get<std::string>();
    auto receipt = string_field(r, "receiptHandle", path, true);
    if (!receipt) return receipt.error();
    q.receipt = std::move(**receipt);
    auto body = string_field(r, "body", path, true);
    if (!body) return body.error();
    q.body = std::move(**body);
    if (auto a = read_attributes(r, path, q); !a) return a.error();

    auto arn = string_field(r, "eventSourceARN", path, false);
    if (!arn) return arn.error();
    if (*arn) src.arn = std::move(**arn);
    auto region = string_field(r, "awsRegion", path, false);
    if (!region) return region.error();
    if (*region) src.region = std::move(**region);
    src.fifo = is_fifo_arn(src.arn) || !q.group.empty();

    event.records.push_back(std::move(q));
    event.sources.push_back(std::move(src));
  }
  return event;
}

namespace {

template <class IdOf, class GroupOf>
std::string failures_of(std::size_t count, std::span<const Outcome> outcomes, bool fifo, IdOf id_of, GroupOf group_of) {
  std::string out = R"({"batchItemFailures":[)";
  bool first = true;
  std::vector<std::string_view> failing;  // FIFO: groups with a failure; their later records are reported
  for (std::size_t i = 0; i < count; ++i) {
    bool failed = i >= outcomes.size() || outcomes[i].disposition != Disposition::done;
    if (fifo) {
      const std::string_view group = group_of(i);
      const bool group_failing = std::find(failing.begin(), failing.end(), group) != failing.end();
      if (failed && !group_failing) failing.push_back(group);
      failed = failed || group_failing;
    }
    if (!failed) continue;
    if (!first) out += ',';
    first = false;
    out += R"({"itemIdentifier":)";
    ::notify::detail::write_string(out, id_of(i));
    out += '}';
  }
  out += "]}";
  return out;
}

}  // namespace

std::string batch_response(std::span<const QueueRecord> records, std::span<const Outcome> outcomes, bool fifo) {
  return failures_of(records.size(), outcomes, fifo, [&](std::size_t i) -> const std::string& { return records[i].id; },
                     [&](std::size_t i) -> const std::string& { return records[i].group; });
}

std::string batch_response(const SqsEvent& event, std::span<const Outcome> outcomes) {
  return failures_of(event.records.size(), outcomes, event.fifo(),
                     [&](std::size_t i) -> const std::string& { return event.sources[i].message_id; },
                     [&](std::size_t i) -> const std::string& { return event.records[i].group; });
}

}  // namespace notify::lambda
