// SPDX-License-Identifier: MIT
// SQS events as Lambda hands them over: the fields kept, FIFO detection, and malformed
// events rejected as a whole with the path of the first problem.

#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "notify/lambda/event.hpp"

namespace {

using notify::Errc;
using notify::lambda::parse_sqs_event;

// The shape of aws-lambda-go's testdata/sqs-event.json, two records.
constexpr std::string_view standard_event = R"({
  "Records": [
    {
      "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
      "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...",
      "body": "{\"type\":\"MESSAGE_TODAY\",\"param\":{\"familyIds\":[3]}}",
      "attributes": {
        "ApproximateReceiveCount": "2",
        "SentTimestamp": "1545082649183",
        "SenderId": "AIDAIENQZJOLO23YVJ4VO",
        "ApproximateFirstReceiveTimestamp": "1545082649185"
      },
      "messageAttributes": {"trace": {"stringValue": "x", "dataType": "String"}},
      "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
      "eventSource": "aws:sqs",
      "eventSourceARN": "arn:aws:sqs:ap-northeast-2:123456789012:notify",
      "awsRegion": "ap-northeast-2"
    },
    {
      "messageId": "2e1424d4-f796-459a-8184-9c92662be6da",
      "receiptHandle": "AQEBzWwaftRI0KuVm4tP+/7q1rGgNqicHq...",
      "body": "second",
      "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1545082650636"},
      "messageAttributes": {},
      "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
      "eventSource": "aws:sqs",
      "eventSourceARN": "arn:aws:sqs:ap-northeast-2:123456789012:notify",
      "awsRegion": "ap-northeast-2"
    }
  ]
})";

/// One record with `fields` spliced in after the required ones.
std::string one_record(std::string_view fields, std::string_view arn = "arn:aws:sqs:us-east-1:1:q") {
  return R"({"Records":[{"messageId":"m1","receiptHandle":"r1","body":"b","eventSource":"aws:sqs","eventSourceARN":")" +
         std::string(arn) + "\"" + std::string(fields) + "}]}";
}

}  // namespace

TEST_CASE("an SQS event gives one QueueRecord per record with id, receipt, body, count and timestamp") {
  auto e = parse_sqs_event(standard_event);
  REQUIRE(e);
  REQUIRE(e->records.size() == 2);
  REQUIRE(e->sources.size() == 2);
  const notify::QueueRecord& r = e->records[0];
  CHECK(r.id == "059f36b4-87a3-44ab-83d2-661975830a7d");
  CHECK(r.receipt == "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...");
  CHECK(r.body == R"({"type":"MESSAGE_TODAY","param":{"familyIds":[3]}})");
  CHECK(r.receive_count == 2);
  CHECK(r.sent_at_ms == 1545082649183);
  CHECK(r.group.empty());
  CHECK(e->records[1].body == "second");
  CHECK(e->sources[0].arn == "arn:aws:sqs:ap-northeast-2:123456789012:notify");
  CHECK(e->sources[0].region == "ap-northeast-2");
  CHECK_FALSE(e->sources[0].fifo);
  CHECK_FALSE(e->fifo());
}

TEST_CASE("a queue whose name ends in .fifo or a record with a MessageGroupId makes the batch FIFO") {
  auto by_arn = parse_sqs_event(one_record("", "arn:aws:sqs:us-east-1:1:notify.fifo"));
  REQUIRE(by_arn);
  CHECK(by_arn->sources[0].fifo);
  CHECK(by_arn->fifo());

  auto by_group = parse_sqs_event(one_record(R"(,"attributes":{"MessageGroupId":"family-3","SequenceNumber":"1"})"));
  REQUIRE(by_group);
  CHECK(by_group->records[0].group == "family-3");
  CHECK(by_group->fifo());

  CHECK(notify::lambda::is_fifo_arn("arn:aws:sqs:us-east-1:1:a.fifo"));
  CHECK_FALSE(notify::lambda::is_fifo_arn("arn:aws:sqs:us-east-1:1:a-fifo"));
  CHECK_FALSE(notify::lambda::is_fifo_arn("arn:aws:sqs:us-east-1:1:.fifo.x"));
  CHECK_FALSE(notify::lambda::is_fifo_arn(""));
}

TEST_CASE("missing attributes default to one delivery and an unknown send time, and an empty batch is valid") {
  auto e = parse_sqs_event(one_record(""));
  REQUIRE(e);
  CHECK(e->records[0].receive_count == 1);
  CHECK(e->records[0].sent_at_ms == 0);
  auto empty = parse_sqs_event(R"({"Records":[]})");
  REQUIRE(empty);
  CHECK(empty->records.empty());
}

TEST_CASE("a malformed event is rejected as a whole, naming the path and the reason") {
  struct Case {
    std::string json;
    Errc code;
    std::string path;
  };
  const Case cases[] = {
      {"{not json", Errc::invalid_json, ""},
      {"[]", Errc::expected_object, ""},
      {R"({"Records":{}})", Errc::expected_array, "Records"},
      {R"({"detail-type":"Scheduled Event"})", Errc::missing_field, "Records"},
      {R"({"Records":[7]})", Errc::expected_object, "Records[0]"},
      {R"({"Records":[{"receiptHandle":"r","body":"b","eventSource":"aws:sqs"}]})", Errc::missing_field,
       "Records[0].messageId"},
      {R"({"Records":[{"messageId":"","receiptHandle":"r","body":"b","eventSource":"aws:sqs"}]})",
       Errc::invalid_value, "Records[0].messageId"},
      {R"({"Records":[{"messageId":5,"receiptHandle":"r","body":"b","eventSource":"aws:sqs"}]})",
       Errc::expected_string, "Records[0].messageId"},
      {R"({"Records":[{"messageId":"m","body":"b","eventSource":"aws:sqs"}]})", Errc::missing_field,
       "Records[0].receiptHandle"},
      {R"({"Records":[{"messageId":"m","receiptHandle":"r","eventSource":"aws:sqs"}]})", Errc::missing_field,
       "Records[0].body"},
      {R"({"Records":[{"messageId":"m","receiptHandle":"r","body":"b","eventSource":"aws:kinesis"}]})",
       Errc::invalid_value, "Records[0].eventSource"},
      {R"({"Records":[{"messageId":"m","receiptHandle":"r","body":"b"}]})", Errc::missing_field,
       "Records[0].eventSource"},
      {one_record(R"(,"attributes":{"ApproximateReceiveCount":"two"})"), Errc::invalid_value,
       "Records[0].attributes.ApproximateReceiveCount"},
      {one_record(R"(,"attributes":{"ApproximateReceiveCount":"0"})"), Errc::invalid_value,
       "Records[0].attributes.ApproximateReceiveCount"},
      {one_record(R"(,"attributes":{"SentTimestamp":"-1"})"), Errc::invalid_value,
       "Records[0].attributes.SentTimestamp"},
      {one_record(R"(,"attributes":{"MessageGroupId":3})"), Errc::expected_string,
       "Records[0].attributes.MessageGroupId"},
      {one_record(R"(,"attributes":[])"), Errc::expected_object, "Records[0].attributes"},
      {one_record(R"(,"awsRegion":1)"), Errc::expected_string, "Records[0].awsRegion"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.json);
    auto e = parse_sqs_event(c.json);
    REQUIRE_FALSE(e);
    CHECK(e.error().code == c.code);
    CHECK(e.error().path == c.path);
    CHECK_FALSE(e.error().message.empty());
  }
}

TEST_CASE("the second record's problem rejects the event even though the first is fine") {
  const std::string json = R"({"Records":[{"messageId":"m1","receiptHandle":"r","body":"b","eventSource":"aws:sqs"},)"
                           R"({"receiptHandle":"r","body":"b","eventSource":"aws:sqs"}]})";
  auto e = parse_sqs_event(json);
  REQUIRE_FALSE(e);
  CHECK(e.error().path == "Records[1].messageId");
}

TEST_CASE("a JSON integer receive count is accepted as well as SQS's string form") {
  auto e = parse_sqs_event(one_record(R"(,"attributes":{"ApproximateReceiveCount":4,"SentTimestamp":17})"));
  REQUIRE(e);
  CHECK(e->records[0].receive_count == 4);
  CHECK(e->records[0].sent_at_ms == 17);
}
