// SPDX-License-Identifier: MIT
// Fuzz target: the members file reader behind `--members FILE` (notify/app/cli.hpp,
// notify::app::for_each_stored_member), and the member values it hands to the store.
// Properties checked on every input:
// - a file that is not an object is one error message and no callback;
// - every accepted entry has a family:<id> key and a user:<id> field; every skipped one
//   a non-empty place and reason;
// - the accepted entries written back as a members file read back the same, none skipped;
// - each accepted value that parses as a member survives encode_member -> parse_member.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "notify/app/cli.hpp"
#include "notify/members.hpp"
#include "notify/result.hpp"

namespace {

using Entry = std::tuple<notify::Id, std::string, std::string>;

std::vector<Entry> read(std::string_view text, std::string& error, std::size_t& skipped) {
  std::vector<Entry> out;
  skipped = 0;
  error = notify::app::for_each_stored_member(
      text, [&](notify::Id family, const std::string& field, const std::string& value) { out.emplace_back(family, field, value); },
      [&](const std::string& where, const std::string& what) {
        NOTIFY_ASSERT(!what.empty());
        (void)where;
        ++skipped;
      });
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string error;
  std::size_t skipped = 0;
  const std::vector<Entry> entries = read(text, error, skipped);
  if (!error.empty()) {
    NOTIFY_ASSERT(entries.empty() && skipped == 0);
    return 0;
  }
  nlohmann::ordered_json back = nlohmann::ordered_json::object();
  for (const auto& [family, field, value] : entries) {
    NOTIFY_ASSERT(notify::parse_member_field(field).has_value());
    back[notify::family_key(family)][field] = value;
    if (auto member = notify::parse_member(*notify::parse_member_field(field), value)) {
      const std::string encoded = notify::encode_member(*member);
      auto again = notify::parse_member(member->userId, encoded);
      NOTIFY_ASSERT(again.has_value());
      NOTIFY_ASSERT(notify::encode_member(*again) == encoded);
    }
  }
  // Written back: the same entries (a key or field given twice keeps its last value, as
  // nlohmann's object does), nothing skipped.
  std::string again_error;
  std::size_t again_skipped = 0;
  const std::vector<Entry> again = read(back.dump(), again_error, again_skipped);
  NOTIFY_ASSERT(again_error.empty() && again_skipped == 0);
  NOTIFY_ASSERT(again.size() <= entries.size());
  for (const auto& [family, field, value] : again) {
    NOTIFY_ASSERT(back[notify::family_key(family)][field] == value);
  }
  return 0;
}
