// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "notify/codec.hpp"
#include "notify/json.hpp"
#include "notify/schema.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

fs::path golden_dir() { return fs::path(NOTIFY_TEST_DATA_DIR) / "golden"; }

std::vector<fs::path> golden_files() {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(golden_dir()))
    if (entry.is_regular_file() && entry.path().extension() == ".json") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot open ", p.string());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// The type named by a golden file: everything before the first dot.
std::string type_prefix(const fs::path& p) {
  const std::string name = p.filename().string();
  return name.substr(0, name.find('.'));
}

std::string describe(const notify::Errors& errors) {
  std::string s;
  for (const auto& e : errors) s += std::string(notify::to_string(e.code)) + " at '" + e.path + "': " + e.message + "\n";
  return s;
}

template <class M>
struct is_vector : std::false_type {};
template <class M>
struct is_vector<std::vector<M>> : std::true_type {};

template <class M>
inline constexpr bool is_optional = false;
template <class M>
inline constexpr bool is_optional<std::optional<M>> = true;

template <class T>
json keep_known(const json& in);

/// One member's value with unknown fields removed from nested objects.
template <class M>
json keep_known_value(const json& v) {
  if constexpr (is_vector<M>::value) {
    using Item = typename M::value_type;
    if constexpr (notify::detail::Described<Item>) {
      json out = json::array();
      for (const auto& item : v) out.push_back(keep_known<Item>(item));
      return out;
    } else {
      return v;
    }
  } else {
    return v;
  }
}

/// The object with only the fields T declares, null optionals dropped: what survives decoding.
template <class T>
json keep_known(const json& in) {
  json out = json::object();
  std::apply(
      [&](const auto&... f) {
        (
            [&](const auto& field) {
              using M = typename std::remove_cvref_t<decltype(field)>::type;
              const auto it = in.find(std::string(field.name));
              if (it == in.end()) return;
              if (is_optional<M> && it->is_null()) return;
              out[std::string(field.name)] = keep_known_value<M>(*it);
            }(f),
            ...);
      },
      T::fields());
  return out;
}

/// The whole envelope reduced to its known, non-null fields.
json meaning_of(const json& original) {
  json out = json::object();
  out["type"] = original.at("type");
  const auto type = notify::parse_type(original.at("type").get<std::string>());
  REQUIRE(type.has_value());
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    ((static_cast<std::size_t>(*type) == I
          ? (out["param"] = keep_known<std::variant_alternative_t<I, notify::Param>>(original.at("param")), 0)
          : 0),
     ...);
  }(std::make_index_sequence<notify::type_count>{});
  for (const char* key : {"id", "createdAt"}) {
    const auto it = original.find(key);
    if (it != original.end() && !it->is_null()) out[key] = *it;
  }
  // A time means its instant, whatever offset it was written with.
  if (const auto it = original.find("sendAt"); it != original.end() && it->is_string())
    out["sendAt"] = notify::parse_rfc3339(it->get<std::string>()).value_or(-1);
  return out;
}

}  // namespace

TEST_CASE("the golden directory holds a plain file for each of the 15 types") {
  std::set<std::string> names;
  for (const auto& p : golden_files()) names.insert(p.filename().string());
  for (const auto type : notify::type_names) {
    const std::string file = std::string(type) + ".json";
    CAPTURE(file);
    CHECK(names.count(file) == 1);
  }
  // Every file, variants included, is named after a real type.
  for (const auto& name : names) {
    CAPTURE(name);
    CHECK(notify::parse_type(name.substr(0, name.find('.'))).has_value());
  }
  CHECK(names.size() >= notify::type_count + 7);
}

TEST_CASE("every golden file decodes to a request of the type its name says") {
  const auto files = golden_files();
  REQUIRE_FALSE(files.empty());
  for (const auto& p : files) {
    CAPTURE(p.filename().string());
    const std::string body = read_file(p);
    const auto r = notify::decode(body);
    REQUIRE_MESSAGE(r.has_value(), describe(r.error()));
    CHECK(notify::to_string(r->type()) == type_prefix(p));
    CHECK(notify::validate(*r).empty());
  }
}

TEST_CASE("every golden file survives encode and decode unchanged") {
  for (const auto& p : golden_files()) {
    CAPTURE(p.filename().string());
    const auto first = notify::decode(read_file(p));
    REQUIRE(first.has_value());
    const std::string wire = notify::encode(*first);
    CAPTURE(wire);
    const auto second = notify::decode(wire);
    REQUIRE_MESSAGE(second.has_value(), describe(second.error()));
    CHECK(*second == *first);
    CHECK(notify::encode(*second) == wire);  // encoding is deterministic
  }
}

TEST_CASE("encoding a golden request keeps its meaning: the known, non-null fields") {
  for (const auto& p : golden_files()) {
    CAPTURE(p.filename().string());
    const std::string body = read_file(p);
    const auto r = notify::decode(body);
    REQUIRE(r.has_value());
    const json original = json::parse(body);
    const json expected = meaning_of(original);
    const json encoded = json::parse(notify::encode(*r));
    INFO("expected: ", expected.dump());
    INFO("encoded:  ", encoded.dump());
    CHECK(meaning_of(encoded) == expected);  // sendAt may come back with another offset
    CHECK(encoded.size() == expected.size());
    // The nlohmann conversions agree with the codec on the same contract.
    CHECK(meaning_of(json(*r)) == expected);
    CHECK(original.get<notify::Request>() == *r);
  }
}

TEST_CASE("golden variants carry what their names promise") {
  const auto load = [](const char* name) {
    const auto r = notify::decode(read_file(golden_dir() / name));
    REQUIRE_MESSAGE(r.has_value(), describe(r.error()));
    return *r;
  };
  CHECK_FALSE(std::get<notify::CommentMessageParam>(load("COMMENT_MESSAGE.no-preview.json").param).commentPreview);
  CHECK_FALSE(std::get<notify::PhotoCreateParam>(load("PHOTO_CREATE.null-title.json").param).titlePreview);
  CHECK(std::get<notify::LetterSendParam>(load("LETTER_SEND.time-capsule.json").param).isTimeCapsule);
  CHECK_FALSE(std::get<notify::LetterSendParam>(load("LETTER_SEND.json").param).isTimeCapsule);
  const auto with_id = load("MESSAGE_TODAY.with-envelope-id.json");
  CHECK_FALSE(with_id.id.empty());
  CHECK(with_id.createdAt.has_value());
  CHECK(std::get<notify::CommentPhotoParam>(load("COMMENT_PHOTO.escaped-unicode.json").param).commentPreview ==
        "생일 축하해요 \xF0\x9F\x8E\x82\n\"가족\" & \xC3\xA9");
  // The raw texts really are what the variants claim.
  CHECK(read_file(golden_dir() / "COMMENT_PHOTO.escaped-unicode.json").find("\\ud83c\\udf82") != std::string::npos);
  const std::string param_first = read_file(golden_dir() / "COMMENT_MESSAGE.param-first.json");
  CHECK(param_first.find("\"param\"") < param_first.find("\"type\""));
  const json extra = json::parse(read_file(golden_dir() / "COMMENT_MESSAGE.extra-fields.json"));
  CHECK(extra.size() > 2);
  CHECK(extra.at("param").size() > 4);
  CHECK(json::parse(read_file(golden_dir() / "TIMECAPSULE_OPEN.json")).at("param").contains("timaCapsules"));
}
