// SPDX-License-Identifier: MIT
#pragma once

/// Routing as data: which channels each type may use, in what order. The built-in routes
/// are the catalog's (catalog::route_of); a routing file replaces the route of any type:
///
///     {"NOTIFY_BIRTHDAY": {"channels": ["push", "alimtalk", "sms"]},
///      "SERVICE_NOTICE":  {"channels": ["push", "email"], "all": true}}
///
/// A type the file does not name keeps its built-in route. The file is checked whole when
/// it is read; every mistake is reported with its JSON path.

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "notify/catalog.hpp"
#include "notify/detail/json_reader.hpp"
#include "notify/members.hpp"
#include "notify/result.hpp"
#include "notify/schema.hpp"

namespace notify {

using catalog::Route;

/// A route per type.
class Routing {
 public:
  /// The catalog's routes.
  constexpr Routing() noexcept {
    for (std::size_t i = 0; i < type_count; ++i) routes_[i] = catalog::route_of(static_cast<NotificationType>(i));
  }

  constexpr const Route& of(NotificationType t) const noexcept { return routes_[static_cast<std::size_t>(t)]; }
  constexpr void set(NotificationType t, const Route& r) noexcept { routes_[static_cast<std::size_t>(t)] = r; }

  friend constexpr bool operator==(const Routing&, const Routing&) = default;

 private:
  std::array<Route, type_count> routes_{};
};

/// A set of channels, e.g. those a worker has providers for.
class ChannelSet {
 public:
  constexpr ChannelSet() noexcept = default;
  constexpr ChannelSet(std::initializer_list<Channel> list) noexcept {
    for (Channel c : list) bits_ |= bit(c);
  }
  constexpr bool has(Channel c) const noexcept { return (bits_ & bit(c)) != 0; }
  constexpr ChannelSet& add(Channel c) noexcept {
    bits_ |= bit(c);
    return *this;
  }
  friend constexpr bool operator==(const ChannelSet&, const ChannelSet&) = default;

 private:
  static constexpr std::uint8_t bit(Channel c) noexcept { return static_cast<std::uint8_t>(1u << static_cast<unsigned>(c)); }
  std::uint8_t bits_ = 0;
};

namespace detail {

inline void routing_error(std::vector<Error>& errors, Errc code, std::string path, std::string message) {
  errors.push_back(Error{code, std::move(message), std::move(path)});
}

/// Appends `raw` to a JSON Pointer path, escaping '~' and '/'.
inline std::string pointer(std::string_view base, std::string_view raw) {
  std::string out(base);
  out += '/';
  for (char c : raw) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

/// Reads one route object; false (with errors) when it is not a valid route.
inline bool read_route(JsonReader& r, const std::string& path, Route& out, std::vector<Error>& errors) {
  const std::size_t before = errors.size();
  if (r.peek() != JsonKind::object) {
    routing_error(errors, Errc::expected_object, path, "a route is an object: {\"channels\": [...], \"all\": false}");
    r.skip_value();
    return false;
  }
  r.enter();
  Route route;
  bool saw_channels = false, saw_all = false;
  std::string_view key;
  std::string scratch;
  while (r.next_key(key, scratch)) {
    const std::string at = pointer(path, key);
    if (key == "channels") {
      if (saw_channels) routing_error(errors, Errc::duplicate_field, at, "channels given twice");
      saw_channels = true;
      if (r.peek() != JsonKind::array) {
        routing_error(errors, Errc::expected_array, at, "channels is an array of channel names");
        r.skip_value();
        continue;
      }
      r.enter();
      std::size_t index = 0;
      while (r.next_element()) {
        const std::string item = at + "/" + std::to_string(index++);
        std::string_view name;
        std::string name_scratch;
        if (r.peek() != JsonKind::string) {
          routing_error(errors, Errc::expected_string, item, "a channel name (push, email, sms, alimtalk)");
          r.skip_value();
          continue;
        }
        r.read_string(name, name_scratch);
        const auto ch = parse_channel(name);
        if (!ch) {
          routing_error(errors, Errc::invalid_value, item,
                        "\"" + std::string(name) + "\" is not a channel (push, email, sms, alimtalk)");
        } else if (route.uses(*ch)) {
          routing_error(errors, Errc::invalid_value, item, std::string(name) + " is listed twice");
        } else {
          route.channels[route.size++] = *ch;
        }
      }
      if (index == 0) routing_error(errors, Errc::empty_array, at, "a route needs at least one channel");
    } else if (key == "all") {
      if (saw_all) routing_error(errors, Errc::duplicate_field, at, "all given twice");
      saw_all = true;
      if (r.peek() != JsonKind::boolean) {
        routing_error(errors, Errc::expected_boolean, at, "all is true (every channel) or false (the first that reaches)");
        r.skip_value();
        continue;
      }
      r.read_bool(route.all);
    } else {
      routing_error(errors, Errc::invalid_value, at, "unknown field (a route has channels and all)");
      r.skip_value();
    }
  }
  if (!saw_channels && !r.failed()) routing_error(errors, Errc::missing_field, pointer(path, "channels"), "missing");
  out = route;
  return errors.size() == before;
}

}  // namespace detail

/// Reads a routing file's text over the built-in routes. Every error is reported, each
/// with its JSON Pointer path ("/NOTIFY_BIRTHDAY/channels/2"); nothing is half-applied.
inline Result<Routing, std::vector<Error>> parse_routing(std::string_view json) {
  using detail::JsonKind;
  std::vector<Error> errors;
  Routing routing;
  detail::JsonReader r(json, 8);
  if (r.peek() != JsonKind::object) {
    if (r.failed()) errors.push_back(Error{Errc::invalid_json, std::string(r.error()), ""});
    else errors.push_back(Error{Errc::expected_object, "a routing file is an object of routes by type", ""});
    return errors;
  }
  r.enter();
  std::array<bool, type_count> seen{};
  std::string_view key;
  std::string scratch;
  while (r.next_key(key, scratch)) {
    const std::string path = detail::pointer("", key);
    const auto type = parse_type(key);
    Route route;
    // Read on either way, so the rest of the file is checked too.
    const bool ok = detail::read_route(r, path, route, errors);
    if (!type) {
      errors.push_back(Error{Errc::unknown_type, "\"" + std::string(key) + "\" is not a notification type", path});
      continue;
    }
    if (seen[static_cast<std::size_t>(*type)]) {
      errors.push_back(Error{Errc::duplicate_field, "the route of " + std::string(key) + " is given twice", path});
      continue;
    }
    seen[static_cast<std::size_t>(*type)] = true;
    if (ok) routing.set(*type, route);
  }
  if (r.failed() || !r.at_end()) {
    errors.push_back(Error{Errc::invalid_json, r.failed() ? std::string(r.error()) : "text after the routing object",
                           ""});
  }
  if (!errors.empty()) return errors;
  return routing;
}

/// The routing as JSON, every type with its route (what `notifyctl routing` prints).
inline std::string encode_routing(const Routing& routing) {
  std::string out = "{";
  for (std::size_t i = 0; i < type_count; ++i) {
    const Route& route = routing.of(static_cast<NotificationType>(i));
    if (i != 0) out += ',';
    out += "\n  \"";
    out += type_names[i];
    out += "\": {\"channels\": [";
    for (std::size_t k = 0; k < route.size; ++k) {
      if (k != 0) out += ", ";
      out += '"';
      out += to_string(route.channels[k]);
      out += '"';
    }
    out += "]";
    if (route.all) out += ", \"all\": true";
    out += '}';
  }
  out += "\n}\n";
  return out;
}

}  // namespace notify
