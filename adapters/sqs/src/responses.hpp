// SPDX-License-Identifier: MIT
// Private to notify::sqs (and its fuzz target): reading SQS JSON-protocol answers. Not
// installed; nlohmann/json stays out of the public headers' new declarations.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "notify/result.hpp"
#include "notify/sqs/client.hpp"
#include "notify/transport.hpp"

namespace notify::sqs::detail {

/// `j[key]` if it is a string, else empty.
std::string string_field(const nlohmann::json& j, const char* key);
/// A decimal count or timestamp as SQS writes them; 0 if it is not one (or > 18 digits).
std::int64_t number_text(const std::string& s);
/// A message attribute's string value (String and Number types both carry StringValue).
std::string attribute(const nlohmann::json& message, const char* name);
/// A system attribute (Attributes.<name>) of a message.
std::string system_attribute(const nlohmann::json& message, const char* name);
/// The answer's `Messages` array (moved out), or an empty array.
nlohmann::json messages_of(nlohmann::json& answer);

/// A 2xx answer's body as JSON: an empty body is `{}`; text that is not JSON is a
/// protocol_error naming `operation`.
Result<nlohmann::json> parse_answer(std::string_view operation, std::string_view body);

/// ReceiveMessage's `Messages` as records (id from the notify-rid attribute, else the
/// MessageId). A message without ReceiptHandle is a protocol_error.
Result<std::vector<QueueRecord>> receive_records(const nlohmann::json& answer);

/// A batch answer's `Failed` list: (entry Id, error) per failed entry.
std::vector<std::pair<std::string, AwsError>> failed_entries(const nlohmann::json& answer);

}  // namespace notify::sqs::detail
