// SPDX-License-Identifier: MIT
// The registry check schema.hpp runs on notify::Param, run on a test registry of 14 types.
// NOTIFY_BREAK=1 adds a 15th type without a param struct; NOTIFY_BREAK=2 lists two param
// structs out of enum order; without NOTIFY_BREAK the registry is whole and this compiles.

#include <array>
#include <cstdint>
#include <string_view>
#include <tuple>
#include <variant>

#include "notify/schema.hpp"

namespace {

enum class Kind : std::uint8_t {
  k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11, k12, k13,
#if NOTIFY_BREAK == 1
  k14,
#endif
};

#if NOTIFY_BREAK == 1
constexpr Kind last = Kind::k14;
#else
constexpr Kind last = Kind::k13;
#endif

constexpr std::array<std::string_view, static_cast<std::size_t>(last) + 1> names = {
    "K0", "K1", "K2", "K3", "K4", "K5", "K6", "K7", "K8", "K9", "K10", "K11", "K12", "K13",
#if NOTIFY_BREAK == 1
    "K14",
#endif
};

template <Kind k>
struct Param {
  static constexpr Kind type = k;
  notify::Id familyId = 0;

  static constexpr auto fields() { return std::tuple{notify::detail::field("familyId", &Param::familyId)}; }
};

#if NOTIFY_BREAK == 2
using Registry = std::variant<Param<Kind::k0>, Param<Kind::k1>, Param<Kind::k2>, Param<Kind::k3>, Param<Kind::k4>,
                              Param<Kind::k5>, Param<Kind::k6>, Param<Kind::k7>, Param<Kind::k8>, Param<Kind::k9>,
                              Param<Kind::k10>, Param<Kind::k11>, Param<Kind::k13>, Param<Kind::k12>>;
#else
using Registry = std::variant<Param<Kind::k0>, Param<Kind::k1>, Param<Kind::k2>, Param<Kind::k3>, Param<Kind::k4>,
                              Param<Kind::k5>, Param<Kind::k6>, Param<Kind::k7>, Param<Kind::k8>, Param<Kind::k9>,
                              Param<Kind::k10>, Param<Kind::k11>, Param<Kind::k12>, Param<Kind::k13>>;
#endif

static_assert(notify::detail::registry_is_complete<Kind, Registry, names, static_cast<std::size_t>(last) + 1>());

}  // namespace
