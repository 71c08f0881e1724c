// SPDX-License-Identifier: MIT
// The pure parts of the SQS client: queue URLs, ARNs, error answers and what they mean.

#include <doctest/doctest.h>

#include <string>

#include "notify/sqs/client.hpp"

using notify::Errc;
using namespace notify::sqs;

TEST_CASE("queue URLs: AWS hosts give the region, local servers keep their origin") {
  auto aws = parse_queue_url("https://sqs.ap-northeast-2.amazonaws.com/123456789012/notify-requests.fifo");
  REQUIRE(aws.has_value());
  CHECK(aws->origin == "https://sqs.ap-northeast-2.amazonaws.com");
  CHECK(aws->account == "123456789012");
  CHECK(aws->name == "notify-requests.fifo");
  CHECK(aws->region == "ap-northeast-2");
  CHECK(aws->fifo());

  auto legacy = parse_queue_url("https://eu-west-1.queue.amazonaws.com/1/q");
  REQUIRE(legacy.has_value());
  CHECK(legacy->region == "eu-west-1");

  auto local = parse_queue_url("http://127.0.0.1:9324/000000000000/requests/");
  REQUIRE(local.has_value());
  CHECK(local->origin == "http://127.0.0.1:9324");
  CHECK(local->name == "requests");
  CHECK(local->region.empty());
  CHECK_FALSE(local->fifo());

  for (const char* bad : {"redis://127.0.0.1:6379/requests", "https://sqs.us-east-1.amazonaws.com/",
                          "https://sqs.us-east-1.amazonaws.com/onlyname", "http:///1/q",
                          "https://h/1/q?Action=ReceiveMessage"}) {
    CAPTURE(bad);
    auto r = parse_queue_url(bad);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == Errc::configuration);
  }
  CHECK(is_queue_url("https://x/1/q"));
  CHECK_FALSE(is_queue_url("redis://x/q"));
}

TEST_CASE("ARNs: to the URL on the same origin, another region's AWS host when it differs") {
  auto local = parse_queue_url("http://127.0.0.1:9324/123456789012/main").value();
  CHECK(url_from_arn("arn:aws:sqs:us-east-1:123456789012:main-dead", local).value() ==
        "http://127.0.0.1:9324/123456789012/main-dead");
  auto aws = parse_queue_url("https://sqs.us-east-1.amazonaws.com/123456789012/main").value();
  CHECK(url_from_arn("arn:aws:sqs:us-east-1:123456789012:dead", aws).value() ==
        "https://sqs.us-east-1.amazonaws.com/123456789012/dead");
  CHECK(url_from_arn("arn:aws:sqs:eu-west-1:123456789012:dead", aws).value() ==
        "https://sqs.eu-west-1.amazonaws.com/123456789012/dead");
  CHECK(url_from_arn("arn:aws:sqs:ap-northeast-2:123456789012:notify.fifo").value() ==
        "https://sqs.ap-northeast-2.amazonaws.com/123456789012/notify.fifo");
  CHECK(queue_arn(aws, "us-east-1") == "arn:aws:sqs:us-east-1:123456789012:main");
  CHECK(url_from_arn("arn:aws-cn:sqs:cn-north-1:123456789012:dead").value() ==
        "https://sqs.cn-north-1.amazonaws.com.cn/123456789012/dead");
  auto china = parse_queue_url("https://sqs.cn-northwest-1.amazonaws.com.cn/123456789012/main").value();
  CHECK(china.region == "cn-northwest-1");
  CHECK(queue_arn(china, china.region) == "arn:aws-cn:sqs:cn-northwest-1:123456789012:main");
  auto gov = parse_queue_url("https://sqs.us-gov-west-1.amazonaws.com/123456789012/main").value();
  CHECK(queue_arn(gov, gov.region) == "arn:aws-us-gov:sqs:us-gov-west-1:123456789012:main");
  CHECK(url_from_arn("arn:aws-us-gov:sqs:us-gov-east-1:123456789012:dead", gov).value() ==
        "https://sqs.us-gov-east-1.amazonaws.com/123456789012/dead");
  for (const char* bad : {"", "arn:aws:sns:us-east-1:1:topic", "arn:aws:sqs:us-east-1:1:", "not:an:arn"}) {
    CAPTURE(bad);
    CHECK_FALSE(url_from_arn(bad, aws).has_value());
  }
}

TEST_CASE("error answers: the code from __type without namespace or suffix, else from the query header") {
  auto e = parse_error(400, R"({"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."})",
                       "AWS.SimpleQueueService.NonExistentQueue;Sender");
  CHECK(e.code == "QueueDoesNotExist");
  CHECK(e.message == "The specified queue does not exist.");
  CHECK(e.sender_fault);
  CHECK(classify(e) == Errc::not_found);

  auto suffixed = parse_error(400, R"({"__type":"com.amazon.coral.service#InvalidClientTokenId:http://internal.amazon.com/","Message":"bad"})", "");
  CHECK(suffixed.code == "InvalidClientTokenId");
  CHECK(suffixed.message == "bad");

  auto header_only = parse_error(503, "<html>Service Unavailable</html>", "ServiceUnavailable;Receiver");
  CHECK(header_only.code == "ServiceUnavailable");
  CHECK_FALSE(header_only.sender_fault);

  auto nothing = parse_error(502, "", "");
  CHECK(nothing.code == "InternalFailure");
  auto long_message = parse_error(400, R"({"__type":"X","message":")" + std::string(5000, 'm') + "\"}", "");
  CHECK(long_message.message.size() <= 300);
}

TEST_CASE("what an error means: throttling and 5xx are transient, credentials and permissions are not") {
  struct Row {
    int status;
    const char* code;
    bool sender_fault;
    Errc expected;
  };
  const Row rows[] = {
      {400, "RequestThrottled", true, Errc::rate_limited},
      {400, "ThrottlingException", true, Errc::rate_limited},
      {400, "KmsThrottled", true, Errc::rate_limited},
      {429, "Anything", true, Errc::rate_limited},
      {500, "InternalError", false, Errc::unavailable},
      {503, "ServiceUnavailable", false, Errc::unavailable},
      {400, "SomethingTransient", false, Errc::unavailable},  // the service's fault
      {403, "InvalidClientTokenId", true, Errc::unauthenticated},
      {403, "SignatureDoesNotMatch", true, Errc::unauthenticated},
      {400, "ExpiredToken", true, Errc::unauthenticated},
      {403, "AccessDenied", true, Errc::configuration},
      {400, "KmsAccessDenied", true, Errc::configuration},
      {403, "OverLimit", true, Errc::rate_limited},
      {400, "QueueDoesNotExist", true, Errc::not_found},
      {400, "InvalidParameterValue", true, Errc::invalid_value},
      {400, "ReceiptHandleIsInvalid", true, Errc::invalid_value},
      {0, "ConnectionReset", true, Errc::io_error},
  };
  for (const Row& r : rows) {
    CAPTURE(r.code);
    AwsError e{r.status, r.code, "m", r.sender_fault};
    CHECK(classify(e) == r.expected);
  }
  notify::Error error = to_error("ReceiveMessage", AwsError{400, "RequestThrottled", "slow down", true});
  CHECK(error.message == "SQS ReceiveMessage: RequestThrottled (HTTP 400): slow down");
  CHECK(notify::is_transient(error.code));
}

TEST_CASE("a receipt SQS no longer honours is told apart from failures worth retrying") {
  struct Row {
    const char* code;
    const char* message;
    bool sender_fault;
    bool lost;
  };
  const Row rows[] = {
      {"ReceiptHandleIsInvalid", "The input receipt handle is not valid.", true, true},
      {"AWS.SimpleQueueService.ReceiptHandleIsInvalid", "", true, true},
      {"MessageNotInflight", "The message referred to isn't in flight.", true, true},
      {"AWS.SimpleQueueService.MessageNotInflight", "", true, true},
      {"InvalidParameterValue",
       "Value abc for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for "
       "visibility timeout change.",
       true, true},
      {"InvalidParameterValue", "Value 99999 for parameter VisibilityTimeout is invalid.", true, false},
      {"InternalError", "ReceiptHandle", false, false},
      {"RequestThrottled", "", true, false},
      {"ServiceUnavailable", "", false, false},
      {"AccessDenied", "", true, false},
  };
  for (const Row& r : rows) {
    CAPTURE(r.code);
    CAPTURE(r.message);
    CHECK(is_lost_receipt(AwsError{400, r.code, r.message, r.sender_fault}) == r.lost);
  }
}

TEST_CASE("endpoint and region: explicit options first, then the URL") {
  auto aws = parse_queue_url("https://sqs.eu-central-1.amazonaws.com/1/q").value();
  ClientOptions o;
  CHECK(resolve_region(aws, o) == "eu-central-1");
  o.region = "us-west-2";
  o.endpoint = "http://127.0.0.1:1234";
  CHECK(resolve_region(aws, o) == "us-west-2");
  CHECK(resolve_endpoint(aws, o) == "http://127.0.0.1:1234");
}
