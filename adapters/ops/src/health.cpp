// SPDX-License-Identifier: MIT
#include "notify/ops/health.hpp"

#include <nlohmann/json.hpp>

namespace notify::ops {

namespace {

HttpResponse json_response(int status, const nlohmann::ordered_json& body) {
  return HttpResponse{status, "application/json",
                      body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n", {}};
}

}  // namespace

HttpResponse health_response(const Heartbeat& heartbeat, std::chrono::milliseconds max_age) {
  const auto age = heartbeat.age();
  const bool ok = age <= max_age;
  nlohmann::ordered_json body;
  body["status"] = ok ? "ok" : "stuck";
  body["loop_age_seconds"] = std::chrono::duration<double>(age).count();
  return json_response(ok ? 200 : 503, body);
}

HttpResponse readiness_response(std::span<const ReadinessCheck> checks) {
  nlohmann::ordered_json body;
  nlohmann::ordered_json down = nlohmann::ordered_json::array();
  nlohmann::ordered_json each = nlohmann::ordered_json::object();
  for (const ReadinessCheck& c : checks) {
    if (!c.ok) down.push_back(c.name);
    nlohmann::ordered_json one{{"ok", c.ok}};
    if (!c.ok && !c.detail.empty()) one["detail"] = c.detail;
    each[c.name] = std::move(one);
  }
  const bool ready = down.empty();
  body["status"] = ready ? "ready" : "not ready";
  if (!ready) body["down"] = std::move(down);
  body["checks"] = std::move(each);
  return json_response(ready ? 200 : 503, body);
}

}  // namespace notify::ops
