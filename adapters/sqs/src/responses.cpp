// SPDX-License-Identifier: MIT
// Reading SQS JSON-protocol answers (see responses.hpp).
#include "responses.hpp"

#include <algorithm>

namespace notify::sqs::detail {

using json = nlohmann::json;

std::string string_field(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::int64_t number_text(const std::string& s) {
  if (s.size() > 18) return 0;  // not a count or a timestamp of ours
  std::int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return 0;
    v = v * 10 + (c - '0');
  }
  return v;
}

std::string attribute(const json& message, const char* name) {
  auto attrs = message.find("MessageAttributes");
  if (attrs == message.end() || !attrs->is_object()) return {};
  auto it = attrs->find(name);
  return it != attrs->end() && it->is_object() ? string_field(*it, "StringValue") : std::string();
}

std::string system_attribute(const json& message, const char* name) {
  auto attrs = message.find("Attributes");
  return attrs != message.end() && attrs->is_object() ? string_field(*attrs, name) : std::string();
}

json messages_of(json& answer) {
  auto it = answer.find("Messages");
  return it != answer.end() && it->is_array() ? std::move(*it) : json::array();
}

Result<json> parse_answer(std::string_view operation, std::string_view body) {
  if (body.empty()) return json::object();
  auto answer = json::parse(body, nullptr, false);
  if (answer.is_discarded())
    return Error{Errc::protocol_error, "SQS " + std::string(operation) + ": the answer is not JSON", {}};
  return answer;
}

Result<std::vector<QueueRecord>> receive_records(const json& answer) {
  std::vector<QueueRecord> out;
  auto messages = answer.find("Messages");
  if (!answer.is_object() || messages == answer.end() || !messages->is_array()) return out;
  for (const json& m : *messages) {
    if (!m.is_object()) return Error{Errc::protocol_error, "SQS ReceiveMessage: a message that is not an object", {}};
    QueueRecord r;
    r.id = attribute(m, "notify-rid");
    if (r.id.empty()) r.id = string_field(m, "MessageId");
    r.receipt = string_field(m, "ReceiptHandle");
    r.body = string_field(m, "Body");
    r.receive_count = static_cast<int>(std::clamp<std::int64_t>(number_text(system_attribute(m, "ApproximateReceiveCount")), 1, 1'000'000'000));
    r.sent_at_ms = number_text(system_attribute(m, "SentTimestamp"));
    r.group = system_attribute(m, "MessageGroupId");
    if (r.receipt.empty()) return Error{Errc::protocol_error, "SQS ReceiveMessage: a message without ReceiptHandle", {}};
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<std::pair<std::string, AwsError>> failed_entries(const json& answer) {
  std::vector<std::pair<std::string, AwsError>> out;
  if (!answer.is_object()) return out;
  auto failed = answer.find("Failed");
  if (failed == answer.end() || !failed->is_array()) return out;
  for (const json& f : *failed) {
    AwsError e;
    e.code = string_field(f, "Code");
    e.message = string_field(f, "Message");
    auto sf = f.find("SenderFault");
    e.sender_fault = sf == f.end() || !sf->is_boolean() || sf->get<bool>();
    e.status = e.sender_fault ? 400 : 500;
    out.emplace_back(string_field(f, "Id"), std::move(e));
  }
  return out;
}

}  // namespace notify::sqs::detail
