// SPDX-License-Identifier: MIT
#pragma once

/// Producer-side helpers for queues that order per group (SQS FIFO) and for bulk requests:
/// which families a request touches, the message group that keeps each family's requests
/// in order, and splitting a bulk request into requests of a bounded number of families.
/// Pure functions of the request; no I/O.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "notify/codec.hpp"
#include "notify/digest.hpp"
#include "notify/schema.hpp"

namespace notify {

namespace detail {

template <class P>
void add_families(const P& p, std::vector<Id>& out) {
  if constexpr (requires { p.familyId; }) {
    out.push_back(p.familyId);
  } else if constexpr (requires { p.familyIds; }) {
    out.insert(out.end(), p.familyIds.begin(), p.familyIds.end());
  } else if constexpr (requires { p.timaCapsules; }) {
    for (const TimeCapsule& c : p.timaCapsules) out.push_back(c.familyId);
  } else {
    static_assert(requires { p.familyIdsWithBirthdayUserId; }, "a param type without a family: say how it is grouped");
    for (const BirthdayEntry& e : p.familyIdsWithBirthdayUserId) out.push_back(e.familyId);
  }
}

/// A param whose list of entries (each with its family) can be spread over several requests.
template <class P>
constexpr bool is_bulk = requires(P p) { p.familyIds; } || requires(P p) { p.timaCapsules; } ||
                         requires(P p) { p.familyIdsWithBirthdayUserId; };

inline Id family_of(Id id) noexcept { return id; }
inline Id family_of(const TimeCapsule& c) noexcept { return c.familyId; }
inline Id family_of(const BirthdayEntry& e) noexcept { return e.familyId; }

/// `<id>.<n>`, or when that would pass the request id limit, a digest of the id in its place.
inline std::string part_id(const std::string& id, std::size_t n, std::size_t max_bytes = Limits{}.max_request_id_bytes) {
  std::string suffix = "." + std::to_string(n);
  if (id.size() + suffix.size() <= max_bytes) return id + suffix;
  return "split-" + hex64(Digest64{}.add(id).value()) + suffix;
}

template <class P>
auto& bulk_list(P& p) {
  if constexpr (requires { p.familyIds; }) return p.familyIds;
  else if constexpr (requires { p.timaCapsules; }) return p.timaCapsules;
  else return p.familyIdsWithBirthdayUserId;
}

}  // namespace detail

/// The distinct families a request touches, ascending.
inline std::vector<Id> families_of(const Request& request) {
  std::vector<Id> ids;
  std::visit([&](const auto& p) { detail::add_families(p, ids); }, request.param);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

/// The FIFO message group of a request: `family-<id>` when it touches one family, so one
/// family's requests stay in order while different families proceed in parallel; a bulk
/// request over several families gets `families-<hash of the ids>` (ordered only with
/// itself: bulk types carry no conversation order). At most 128 characters, [a-z0-9-].
inline std::string message_group(const Request& request) {
  std::vector<Id> ids = families_of(request);
  if (ids.size() == 1) return "family-" + std::to_string(ids.front());
  Digest64 d;
  for (Id id : ids) d.add(std::to_string(id));
  return "families-" + hex64(d.value());
}

/// Splits a bulk request (MESSAGE_TODAY, MESSAGE_BIRTHDAY, TIMECAPSULE_OPEN, NOTIFY_BIRTHDAY,
/// SERVICE_NOTICE)
/// into requests of at most `max_families` distinct families each, keeping the order of
/// the entries and every entry of one family in the same part. Any other request, or a
/// bulk one already small enough, comes back as it is. When the request has an id and is
/// split, part i (from 1) gets the id `<id>.<i>` (a digest of the id replaces it when that would be too long), so each part is idempotent on its own.
inline std::vector<Request> split_by_families(const Request& request, std::size_t max_families) {
  std::vector<Request> parts;
  std::visit(
      [&](const auto& p) {
        using P = std::decay_t<decltype(p)>;
        if constexpr (detail::is_bulk<P>) {
          const auto& list = detail::bulk_list(p);
          std::vector<Id> families;
          for (const auto& entry : list) families.push_back(detail::family_of(entry));
          std::vector<Id> distinct = families;
          std::sort(distinct.begin(), distinct.end());
          distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
          if (max_families == 0 || distinct.size() <= max_families) return;
          // Families in order of first appearance, then max_families of them per part.
          std::vector<bool> seen(distinct.size());
          std::vector<Id> order;
          for (Id f : families) {
            auto at = static_cast<std::size_t>(std::lower_bound(distinct.begin(), distinct.end(), f) - distinct.begin());
            if (!seen[at]) seen[at] = true, order.push_back(f);
          }
          for (std::size_t from = 0; from < order.size(); from += max_families) {
            auto first = order.begin() + static_cast<std::ptrdiff_t>(from);
            std::vector<Id> chunk(first, first + static_cast<std::ptrdiff_t>(std::min(max_families, order.size() - from)));
            std::sort(chunk.begin(), chunk.end());
            P part = p;  // every other field (a notice's title, body, ...) as it is
            detail::bulk_list(part).clear();
            for (const auto& entry : list)
              if (std::binary_search(chunk.begin(), chunk.end(), detail::family_of(entry)))
                detail::bulk_list(part).push_back(entry);
            Request r{Param{std::move(part)}, {}, request.createdAt, request.traceparent, request.sendAt};
            if (!request.id.empty()) r.id = detail::part_id(request.id, parts.size() + 1);
            parts.push_back(std::move(r));
          }
        }
      },
      request.param);
  if (parts.empty()) parts.push_back(request);
  return parts;
}

}  // namespace notify
