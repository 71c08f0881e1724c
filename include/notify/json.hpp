// SPDX-License-Identifier: MIT
#pragma once

/// nlohmann::json conversions (to_json / from_json, found by ADL) for every param struct
/// and for Request. Part of the opt-in target notify::json (link it to include this
/// header); the only notify header that includes nlohmann/json.hpp. from_json
/// follows nlohmann's conventions and throws nlohmann::json::exception on a wrong shape;
/// use notify::decode for untrusted input: it validates and never throws.

#include <nlohmann/json.hpp>

#include "notify/codec.hpp"
#include "notify/schema.hpp"

namespace notify {

namespace detail {
template <class T>
void field_to_json(nlohmann::json& j, std::string_view name, const T& v) {
  if constexpr (is_optional_v<T>) {
    if (v) j[std::string(name)] = *v;
  } else {
    j[std::string(name)] = v;
  }
}
template <class T>
void field_from_json(const nlohmann::json& j, std::string_view name, T& v) {
  const auto it = j.find(name);
  if constexpr (is_optional_v<T>) {
    if (it == j.end() || it->is_null()) v.reset();
    else v = it->template get<typename T::value_type>();
  } else {
    if (it == j.end()) throw nlohmann::json::out_of_range::create(403, "key '" + std::string(name) + "' not found", &j);
    it->get_to(v);
  }
}
}  // namespace detail

/// Serializes any described struct (param structs, TimeCapsule, BirthdayEntry).
template <detail::Described T>
void to_json(nlohmann::json& j, const T& v) {
  j = nlohmann::json::object();
  detail::for_each_field<T>([&](const auto& f, auto) { detail::field_to_json(j, f.name, v.*(f.member)); });
}

/// Deserializes any described struct; unknown keys are ignored.
template <detail::Described T>
void from_json(const nlohmann::json& j, T& v) {
  if (!j.is_object()) throw nlohmann::json::type_error::create(302, "expected an object", &j);
  detail::for_each_field<T>([&](const auto& f, auto) { detail::field_from_json(j, f.name, v.*(f.member)); });
}

inline void to_json(nlohmann::json& j, const Request& r) {
  j = nlohmann::json::object();
  j["type"] = std::string(to_string(r.type()));
  std::visit([&](const auto& p) { j["param"] = p; }, r.param);
  if (!r.id.empty()) j["id"] = r.id;
  if (r.createdAt) j["createdAt"] = *r.createdAt;
  if (!r.traceparent.empty()) j["traceparent"] = r.traceparent;
  if (r.sendAt) j["sendAt"] = format_rfc3339(*r.sendAt);
}

inline void from_json(const nlohmann::json& j, Request& r) {
  const auto type = parse_type(j.at("type").get<std::string>());
  if (!type) throw nlohmann::json::other_error::create(501, "unknown notification type", &j);
  const auto& param = j.at("param");
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    ((static_cast<std::size_t>(*type) == I ? (r.param = param.get<std::variant_alternative_t<I, Param>>(), 0) : 0),
     ...);
  }(std::make_index_sequence<type_count>{});
  r.id = j.contains("id") && j["id"].is_string() ? j["id"].get<std::string>() : std::string();
  if (j.contains("createdAt") && j["createdAt"].is_number_integer()) r.createdAt = j["createdAt"].get<std::int64_t>();
  else r.createdAt.reset();
  r.traceparent.clear();
  if (j.contains("traceparent") && j["traceparent"].is_string()) {
    const auto& tp = j["traceparent"].get_ref<const std::string&>();
    if (valid_traceparent(tp)) r.traceparent = tp;
  }
  r.sendAt.reset();
  if (j.contains("sendAt") && j["sendAt"].is_string()) r.sendAt = parse_rfc3339(j["sendAt"].get<std::string>());
}

}  // namespace notify
