// SPDX-License-Identifier: MIT
// batchItemFailures for standard and FIFO queues.

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "notify/lambda/event.hpp"

namespace {

using notify::Disposition;
using notify::Outcome;
using notify::QueueRecord;

std::vector<QueueRecord> records(int n) {
  std::vector<QueueRecord> out;
  for (int i = 1; i <= n; ++i) out.push_back(QueueRecord{"m" + std::to_string(i), "r", "b", 1, 0, {}});
  return out;
}

Outcome with(Disposition d) { return Outcome{d, {}, {}}; }

/// The itemIdentifiers of a response, checking its shape on the way.
std::vector<std::string> failures(const std::string& response) {
  const auto j = nlohmann::json::parse(response);
  REQUIRE(j.is_object());
  REQUIRE(j.size() == 1);
  std::vector<std::string> out;
  for (const auto& f : j.at("batchItemFailures")) {
    REQUIRE(f.size() == 1);
    out.push_back(f.at("itemIdentifier").get<std::string>());
  }
  return out;
}

using Ids = std::vector<std::string>;

}  // namespace

TEST_CASE("a batch where everything is done answers an empty failure list") {
  const auto r = records(3);
  const std::vector<Outcome> o(3, with(Disposition::done));
  CHECK(notify::lambda::batch_response(r, o, false) == R"({"batchItemFailures":[]})");
  CHECK(notify::lambda::batch_response(r, o, true) == R"({"batchItemFailures":[]})");
  CHECK(notify::lambda::batch_response({}, {}, false) == R"({"batchItemFailures":[]})");
}

TEST_CASE("standard queue: exactly the retried and undelivered dead-lettered records are reported, by messageId") {
  const auto r = records(5);
  const std::vector<Outcome> o = {with(Disposition::done), with(Disposition::retry), with(Disposition::done),
                                  with(Disposition::dead_letter), with(Disposition::done)};
  CHECK(failures(notify::lambda::batch_response(r, o, false)) == Ids{"m2", "m4"});
}

TEST_CASE("FIFO: a failure and every later record of its group are reported, done or not, and other groups go on") {
  auto r = records(6);
  const char* groups[] = {"a", "b", "a", "b", "c", "a"};
  for (std::size_t i = 0; i < r.size(); ++i) r[i].group = groups[i];
  const std::vector<Outcome> o = {with(Disposition::done), with(Disposition::retry), with(Disposition::done),
                                  with(Disposition::done), with(Disposition::done), with(Disposition::dead_letter)};
  CHECK(failures(notify::lambda::batch_response(r, o, true)) == Ids{"m2", "m4", "m6"});
}

TEST_CASE("FIFO: records without a group count as one group: the first failure and every later one are reported") {
  const auto r = records(5);
  const std::vector<Outcome> o = {with(Disposition::done), with(Disposition::retry), with(Disposition::done),
                                  with(Disposition::done), with(Disposition::done)};
  CHECK(failures(notify::lambda::batch_response(r, o, true)) == Ids{"m2", "m3", "m4", "m5"});
}

TEST_CASE("records without an outcome were not processed and are reported on both kinds of queue") {
  const auto r = records(4);
  const std::vector<Outcome> o = {with(Disposition::done), with(Disposition::retry)};
  CHECK(failures(notify::lambda::batch_response(r, o, true)) == Ids{"m2", "m3", "m4"});
  CHECK(failures(notify::lambda::batch_response(r, o, false)) == Ids{"m2", "m3", "m4"});
}

TEST_CASE("message ids are written as escaped JSON strings") {
  std::vector<QueueRecord> r = {QueueRecord{"a\"b\\c", "r", "b", 1, 0, {}}};
  const std::vector<Outcome> o = {with(Disposition::retry)};
  CHECK(failures(notify::lambda::batch_response(r, o, false)) == Ids{"a\"b\\c"});
}
