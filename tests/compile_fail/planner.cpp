// SPDX-License-Identifier: MIT
// plan() visits notify::Param with detail::Planner, one overload per param struct: a param
// struct the Planner has no overload for (NOTIFY_BREAK=1) must not compile.

#include <tuple>
#include <variant>
#include <vector>

#include "notify/plan.hpp"

namespace compile_fail {

/// A new param struct that nobody taught the Planner to render.
struct SomeNewParam {
  static constexpr notify::NotificationType type = notify::NotificationType::MESSAGE_TODAY;
  std::vector<notify::Id> familyIds;

  static constexpr auto fields() { return std::tuple{notify::detail::field("familyIds", &SomeNewParam::familyIds)}; }
};

#if NOTIFY_BREAK == 1
using Params = std::variant<notify::MessageTodayParam, SomeNewParam>;
#else
using Params = std::variant<notify::MessageTodayParam, notify::CommentPhotoParam>;
#endif

}  // namespace compile_fail

notify::Plan plan_some(const compile_fail::Params& param, const notify::Families& families) {
  notify::detail::PlanBuilder builder;
  std::visit(notify::detail::Planner(families, builder), param);
  return builder.take();
}
