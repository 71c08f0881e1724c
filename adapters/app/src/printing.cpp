// SPDX-License-Identifier: MIT
#include "notify/app/printing.hpp"

#include <chrono>
#include <iostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "notify/plan.hpp"

namespace notify::app {

namespace {

/// key=value, the value quoted when it has spaces, quotes, '=' or '\' (logfmt).
void append_pair(std::string& out, std::string_view key, std::string_view value) {
  if (value.empty()) return;
  if (!out.empty()) out += ' ';
  out += key;
  out += '=';
  if (value.find_first_of(" \"=\\") == std::string_view::npos) {
    out += value;
    return;
  }
  out += '"';
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

/// RFC 3339 in UTC with milliseconds: 2026-12-04T05:50:01.123Z (years 0 to 9999).
std::string utc_time(std::int64_t ms) {
  using namespace std::chrono;
  const sys_time<milliseconds> t{milliseconds(ms)};
  const sys_days midnight = floor<days>(t);
  const year_month_day date{midnight};
  const hh_mm_ss since_midnight{t - midnight};
  std::string out = "0000-00-00T00:00:00.000Z";
  auto put = [&out](std::size_t at, std::size_t width, long long value) {
    for (std::size_t i = at + width; i-- > at; value /= 10) out[i] = static_cast<char>('0' + value % 10);
  };
  put(0, 4, static_cast<int>(date.year()));
  put(5, 2, static_cast<unsigned>(date.month()));
  put(8, 2, static_cast<unsigned>(date.day()));
  put(11, 2, since_midnight.hours().count());
  put(14, 2, since_midnight.minutes().count());
  put(17, 2, since_midnight.seconds().count());
  put(20, 3, since_midnight.subseconds().count());
  return out;
}

}  // namespace

std::string EventLog::line(const notify::Event& e, std::int64_t ts_ms) const {
  std::string line;
  if (json_) {
    nlohmann::ordered_json j;
    j["ts"] = ts_ms;
    j["step"] = e.step;
    if (!e.request.empty()) j["request"] = e.request;
    if (!e.type.empty()) j["type"] = e.type;
    if (!e.token.empty()) j["token"] = e.token;
    if (!e.detail.empty()) j["detail"] = e.detail;
    if (e.attempt > 0) j["attempt"] = e.attempt;
    if (e.delay_ms >= 0) j["delay_ms"] = e.delay_ms;
    if (!e.trace.empty()) j["trace"] = e.trace;
    return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  }
  line.reserve(64 + e.step.size() + e.request.size() + e.type.size() + e.token.size() + e.detail.size() +
               e.trace.size());
  append_pair(line, "ts", utc_time(ts_ms));
  append_pair(line, "step", e.step);
  append_pair(line, "request", e.request);
  append_pair(line, "type", e.type);
  append_pair(line, "token", e.token);
  if (e.attempt > 0) append_pair(line, "attempt", std::to_string(e.attempt));
  if (e.delay_ms >= 0) append_pair(line, "delay_ms", std::to_string(e.delay_ms));
  append_pair(line, "detail", e.detail);
  append_pair(line, "trace", e.trace);
  return line;
}

void EventLog::operator()(const notify::Event& e) const {
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  const std::string text = line(e, now.count());
  std::lock_guard lock(mu_);
  kept_ += text;
  kept_ += '\n';
  if (!buffered_ || e.level >= notify::Level::warn || kept_.size() >= kept_limit) write_kept();
}

void EventLog::buffer(bool on) {
  std::lock_guard lock(mu_);
  buffered_ = on;
  if (!on) write_kept();
}

void EventLog::flush() {
  std::lock_guard lock(mu_);
  write_kept();
}

void EventLog::salvage() noexcept {
  std::unique_lock lock(mu_, std::try_to_lock);
  if (!lock) return;
  try {
    write_kept();
  } catch (...) {  // stderr refused: nothing more can be done
  }
}

void EventLog::write_kept() const {
  if (kept_.empty()) return;
  std::cerr << kept_ << std::flush;
  kept_.clear();
}

std::string PrintingPushProvider::line(const notify::Push& p) {
  const notify::Message& m = *p.message;
  std::string line = "push token=" + notify::short_token(p.token);
  line += " title=";
  line += m.title;
  line += " body=";
  line += m.body;
  if (m.link.has_screen()) {
    line += " screen=";
    line += notify::to_string(m.link.screen);
  }
  if (m.link.has_param()) {
    line += " param=";
    m.link.append_param_json(line);
  }
  return line;
}

std::vector<notify::PushResult> PrintingPushProvider::send(std::span<const notify::Push> pushes) {
  if (!pushes.empty() && delay_.count() > 0) std::this_thread::sleep_for(delay_);
  std::vector<notify::PushResult> out;
  out.reserve(pushes.size());
  for (const notify::Push& p : pushes) {
    ++count_;
    if (print_) std::cout << line(p) + '\n' << std::flush;  // one line at a time: a crash loses none
    out.push_back({notify::PushStatus::sent, {}, (print_ ? "log/" : "null/") + std::to_string(count_)});
  }
  return out;
}

notify::Result<void> PrintingInbox::publish(std::span<const std::string> bodies) {
  if (!print_) return {};
  for (const std::string& b : bodies) std::cout << "inbox " << b << '\n';
  std::cout << std::flush;
  return {};
}

}  // namespace notify::app
