// SPDX-License-Identifier: MIT
#pragma once

/// W3C Trace Context `traceparent` values for the envelope: `00-<trace id: 32 hex>-
/// <parent id: 16 hex>-<flags: 2 hex>`, lowercase, neither id all zeros. The producer
/// side sets one when the caller has none; the worker carries it into its log events and
/// inbox records, so a request can be followed from the main API to the phones.

#include <cstdint>
#include <random>
#include <string>
#include <string_view>

namespace notify {

/// Whether `v` is a traceparent of version 00 as W3C Trace Context defines it. (A later
/// version may be longer; those are not accepted here.)
constexpr bool valid_traceparent(std::string_view v) noexcept {
  if (v.size() != 55 || v[2] != '-' || v[35] != '-' || v[52] != '-') return false;
  if (v.substr(0, 2) != "00") return false;
  auto hex = [](std::string_view s) {
    for (char c : s)
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
  };
  auto zeros = [](std::string_view s) { return s.find_first_not_of('0') == std::string_view::npos; };
  const std::string_view trace = v.substr(3, 32), parent = v.substr(36, 16), flags = v.substr(53, 2);
  return hex(trace) && hex(parent) && hex(flags) && !zeros(trace) && !zeros(parent);
}

/// The trace id (32 hex digits) of a valid traceparent; empty otherwise.
constexpr std::string_view trace_id_of(std::string_view traceparent) noexcept {
  return valid_traceparent(traceparent) ? traceparent.substr(3, 32) : std::string_view{};
}

/// A fresh traceparent: random trace and parent ids, the "sampled" flag set.
inline std::string new_traceparent() {
  thread_local std::mt19937_64 random{(static_cast<std::uint64_t>(std::random_device{}()) << 32) ^
                                      std::random_device{}()};
  constexpr char digits[] = "0123456789abcdef";
  std::string out = "00-";
  auto put = [&](int n) {
    for (;;) {
      std::string hex;
      for (int i = 0; i < n; i += 16) {
        std::uint64_t bits = random();
        for (int j = 0; j < 16 && i + j < n; ++j, bits >>= 4) hex += digits[bits & 15];
      }
      if (hex.find_first_not_of('0') != std::string::npos) return out += hex;  // all zeros is invalid
    }
  };
  put(32);
  out += '-';
  put(16);
  out += "-01";
  return out;
}

}  // namespace notify
