// SPDX-License-Identifier: MIT
// Uses one pure function of each installed adapter, so the program links every adapter
// library and its dependencies. Exit status 0 only when each answers as expected.

#include <notify/apns/apns.hpp>
#include <notify/app/app.hpp>
#include <notify/email/email.hpp>
#include <notify/fcm/fcm.hpp>
#include <notify/http2/client.hpp>
#include <notify/lambda/lambda.hpp>
#include <notify/ops/ops.hpp>
#include <notify/outbox/outbox.hpp>
#include <notify/redis/redis.hpp>
#include <notify/sens/sens.hpp>
#include <notify/sqs/sqs.hpp>

#include <cstdio>

int main() {
  auto redis = notify::redis::parse_url("redis://127.0.0.1:6379/2");
  auto queue = notify::sqs::parse_queue_url("https://sqs.ap-northeast-2.amazonaws.com/123456789012/notify.fifo");
  auto event = notify::lambda::parse_sqs_event(R"({"Records":[]})");
  auto retry = notify::fcm::parse_retry_after("30", std::chrono::system_clock::now());
  auto apns = notify::apns::resolve_endpoint("sandbox");
  auto sens = notify::sens::domestic_number("+821012345678");
  auto h2 = notify::http2::parse_url("https://api.push.apple.com/3/device/x");
  const std::string digest = notify::sqs::sha256_hex("");
  auto memory_queue = notify::app::make_queue("memory:consumer");
  notify::ops::Registry metrics;
  metrics.counter("notify_consumer_total", "Consumer checks.").inc();
  if (!redis || !queue || !apns || !sens || *sens != "01012345678" || *apns != "https://api.sandbox.push.apple.com" || !h2 || h2->port != "443" || queue->region != "ap-northeast-2" || !event || !retry || retry->count() != 30 ||
      digest != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" || !memory_queue ||
      notify::app::make_queue("amqp://broker/q") || notify::outbox::crc32c("123456789") != 0xe3069283u ||
      !notify::email::validate_address("kim@example.com") || notify::email::validate_address("a b@example.com") ||
      metrics.render_prometheus().find("notify_consumer_total 1\n") == std::string::npos) {
    std::fprintf(stderr, "notify consumer: an adapter answered wrongly\n");
    return 1;
  }
  std::printf("notify consumer: ok (redis, http2, fcm, apns, email, sens, sqs, lambda, app, ops, outbox)\n");
  return 0;
}
