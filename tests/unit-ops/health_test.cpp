// SPDX-License-Identifier: MIT
// /healthz and /readyz answers: the heartbeat's age and the readiness JSON.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <vector>

#include "notify/ops/health.hpp"

using namespace std::chrono_literals;

TEST_CASE("healthz is 200 while the loop beats and 503 once it is older than the limit") {
  notify::ops::Heartbeat hb;
  const auto ok = notify::ops::health_response(hb, 5000ms);
  CHECK(ok.status == 200);
  CHECK(ok.content_type == "application/json");
  const auto body = nlohmann::json::parse(ok.body);
  CHECK(body.at("status") == "ok");
  CHECK(body.at("loop_age_seconds").get<double>() < 5.0);

  hb.beat(notify::ops::Heartbeat::Clock::now() - 10s);
  CHECK(hb.age() >= 10s);
  const auto stuck = notify::ops::health_response(hb, 5000ms);
  CHECK(stuck.status == 503);
  CHECK(nlohmann::json::parse(stuck.body).at("status") == "stuck");
}

TEST_CASE("readyz is 200 when every check is up and 503 naming what is down") {
  std::vector<notify::ops::ReadinessCheck> checks{{"queue", true, ""}, {"members", true, ""}, {"push", true, ""}};
  const auto ready = notify::ops::readiness_response(checks);
  CHECK(ready.status == 200);
  CHECK(nlohmann::json::parse(ready.body) ==
        nlohmann::json::parse(R"({"status":"ready","checks":{"queue":{"ok":true},"members":{"ok":true},"push":{"ok":true}}})"));

  checks[0] = {"queue", false, "redis: Connection refused"};
  checks[2] = {"push", false, "fcm: circuit open"};
  const auto down = notify::ops::readiness_response(checks);
  CHECK(down.status == 503);
  const auto body = nlohmann::json::parse(down.body);
  CHECK(body.at("status") == "not ready");
  CHECK(body.at("down") == nlohmann::json::parse(R"(["queue","push"])"));
  CHECK(body.at("checks").at("queue").at("detail") == "redis: Connection refused");
  CHECK(body.at("checks").at("members").at("ok") == true);
}
