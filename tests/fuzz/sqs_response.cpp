// SPDX-License-Identifier: MIT
// Fuzz target: SQS JSON-protocol answers (adapters/sqs/src/responses.cpp and
// parse_error in client.cpp). The first byte picks the HTTP status of an error answer
// and whether a query-error header comes with it (the first line of the rest); the rest
// is the body.
// Properties checked on every input:
// - a 2xx body that is not JSON is a protocol_error; ReceiveMessage records all have a
//   receipt handle and a receive count from 1;
// - records written back as a ReceiveMessage answer read back the same;
// - a batch answer's Failed entries have a 400 or 500 status matching their fault;
// - parse_error always gives a code and a bounded message (cut at a UTF-8 boundary), classify a known error code,
//   and is deterministic.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "notify/result.hpp"
#include "notify/sqs/client.hpp"
#include "notify/text.hpp"
#include "responses.hpp"

namespace {

namespace detail = notify::sqs::detail;

nlohmann::json as_answer(const std::vector<notify::QueueRecord>& records) {
  nlohmann::json messages = nlohmann::json::array();
  for (const auto& r : records) {
    nlohmann::json attrs = {{"ApproximateReceiveCount", std::to_string(r.receive_count)},
                            {"SentTimestamp", std::to_string(r.sent_at_ms)}};
    if (!r.group.empty()) attrs["MessageGroupId"] = r.group;
    messages.push_back({{"MessageId", "m"},
                        {"ReceiptHandle", r.receipt},
                        {"Body", r.body},
                        {"Attributes", attrs},
                        {"MessageAttributes", {{"notify-rid", {{"DataType", "String"}, {"StringValue", r.id}}}}}});
  }
  return {{"Messages", messages}};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string_view header;
  if (data[0] & 0x80) {
    const auto nl = body.find('\n');
    header = body.substr(0, nl);
    body = nl == std::string_view::npos ? std::string_view() : body.substr(nl + 1);
  }
  const int status = 400 + (data[0] & 0x7f) % 200;

  // An error answer.
  const notify::sqs::AwsError e = notify::sqs::parse_error(status, body, header);
  const notify::sqs::AwsError e2 = notify::sqs::parse_error(status, body, header);
  NOTIFY_ASSERT(e.code == e2.code && e.message == e2.message && e.sender_fault == e2.sender_fault);
  NOTIFY_ASSERT(!e.code.empty());
  NOTIFY_ASSERT(e.status == status);
  NOTIFY_ASSERT(e.message.size() <= 300);
  NOTIFY_ASSERT(!notify::is_valid_utf8(body) || notify::is_valid_utf8(e.message));
  const notify::Errc code = notify::sqs::classify(e);
  NOTIFY_ASSERT(notify::to_string(code) != "unknown");
  const notify::Error err = notify::sqs::to_error("ReceiveMessage", e);
  NOTIFY_ASSERT(err.code == code && !err.message.empty());

  // A success answer.
  auto answer = detail::parse_answer("ReceiveMessage", body);
  if (!answer) {
    NOTIFY_ASSERT(answer.error().code == notify::Errc::protocol_error);
    return 0;
  }
  if (auto records = detail::receive_records(*answer)) {
    for (const auto& r : *records) {
      NOTIFY_ASSERT(!r.receipt.empty());
      NOTIFY_ASSERT(r.receive_count >= 1);
      NOTIFY_ASSERT(r.sent_at_ms >= 0);
    }
    // Written back (ids as the notify-rid attribute) and read again.
    auto back = detail::receive_records(as_answer(*records));
    NOTIFY_ASSERT(back.has_value() && back->size() == records->size());
    for (std::size_t i = 0; i < records->size(); ++i) {
      const auto& x = (*records)[i];
      const auto& y = (*back)[i];
      NOTIFY_ASSERT(y.id == (x.id.empty() ? "m" : x.id));
      NOTIFY_ASSERT(x.receipt == y.receipt && x.body == y.body && x.group == y.group);
      NOTIFY_ASSERT(x.receive_count == y.receive_count && x.sent_at_ms == y.sent_at_ms);
    }
  } else {
    NOTIFY_ASSERT(records.error().code == notify::Errc::protocol_error);
  }
  for (const auto& [id, f] : detail::failed_entries(*answer)) {
    NOTIFY_ASSERT(f.status == (f.sender_fault ? 400 : 500));
    (void)id;
    (void)notify::sqs::classify(f);
  }
  return 0;
}
