// SPDX-License-Identifier: MIT
#pragma once

/// The JSON Schema (draft 2020-12) of the request envelope, generated from the param
/// structs' fields() tables and Limits, so producers in other languages validate against
/// the same truth the decoder enforces. Pure: builds a string, no I/O.
///
/// What a JSON Schema cannot say, and decode() still checks:
/// - ids: decode() wants integers written without fraction or exponent; JSON Schema's
///   "integer" also accepts 3.0 and 1e3, and JavaScript validators see 2^63 as INT64_MAX.
/// - texts: Limits::max_text_bytes counts bytes of UTF-8, "maxLength" counts code points.
///   The schema's maxLength is max_text_bytes: a text decode() accepts has at most that
///   many code points (each is at least one byte), so the schema never refuses a text
///   decode() accepts; a text of multi-byte characters within maxLength may still be too
///   long in bytes for decode(). Lone surrogate escapes (invalid UTF-8) pass the schema
///   and fail decode().
/// - duplicate keys, the body size (Limits::max_body_bytes) and nesting depth.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "notify/codec.hpp"
#include "notify/detail/json_writer.hpp"
#include "notify/schema.hpp"

namespace notify {

namespace detail {

template <class T>
inline constexpr bool is_vector_v = false;
template <class T>
inline constexpr bool is_vector_v<std::vector<T>> = true;

template <class T>
inline constexpr bool always_false_v = false;

inline void write_size(std::string& out, std::size_t v) {
  write_int(out, static_cast<std::int64_t>(v));
}

template <Described T>
void write_object_schema(std::string& out, const Limits& limits);

/// The schema of one field type: the overloads the decoder has, one branch each.
template <class M>
void write_value_schema(std::string& out, const Limits& limits) {
  if constexpr (std::is_same_v<M, Id>) {
    out += R"({"$ref":"#/$defs/id"})";
  } else if constexpr (std::is_same_v<M, bool>) {
    out += R"({"type":"boolean"})";
  } else if constexpr (std::is_same_v<M, std::optional<std::string>>) {
    out += R"({"$ref":"#/$defs/text"})";
  } else if constexpr (is_vector_v<M>) {
    out += R"({"type":"array","minItems":1,"maxItems":)";
    write_size(out, limits.max_items);
    out += R"(,"items":)";
    write_value_schema<typename M::value_type>(out, limits);
    out += '}';
  } else if constexpr (Described<M>) {
    write_object_schema<M>(out, limits);
  } else {
    static_assert(always_false_v<M>, "json_schema: add a schema for this field type");
  }
}

/// {"type":"object","required":[...],"properties":{...}}: unknown keys stay allowed.
template <Described T>
void write_object_schema(std::string& out, const Limits& limits) {
  out += R"({"type":"object","required":[)";
  bool first = true;
  for_each_field<T>([&](const auto& f, auto) {
    using M = typename std::remove_cvref_t<decltype(f)>::type;
    if constexpr (!is_optional_v<M>) {
      if (!first) out += ',';
      first = false;
      write_string(out, f.name);
    }
  });
  out += R"(],"properties":{)";
  first = true;
  for_each_field<T>([&](const auto& f, auto) {
    using M = typename std::remove_cvref_t<decltype(f)>::type;
    if (!first) out += ',';
    first = false;
    write_key(out, f.name);
    write_value_schema<M>(out, limits);
  });
  out += R"(},"additionalProperties":true})";
}

template <std::size_t I>
void write_param_def(std::string& out, const Limits& limits) {
  if (I) out += ',';
  write_key(out, type_names[I]);
  write_object_schema<std::variant_alternative_t<I, Param>>(out, limits);
}

}  // namespace detail

/// The JSON Schema (draft 2020-12) of one request envelope, as compact JSON. Its $defs
/// hold one param schema per type, keyed by the wire name; an if/then per type ties
/// "type" to the schema of "param".
inline std::string json_schema(const Limits& limits = {}) {
  using detail::write_size;
  using detail::write_string;
  std::string out;
  out.reserve(8192);
  out += R"({"$schema":"https://json-schema.org/draft/2020-12/schema")";
  out += R"(,"$id":"urn:notify:request")";
  out += R"(,"title":"notify request envelope")";
  out += R"(,"description":"One queue message body. Unknown fields are ignored. )"
         R"(Ids are integers written without fraction or exponent; texts are limited to )";
  detail::write_int(out, static_cast<std::int64_t>(limits.max_text_bytes));
  out += R"( bytes of UTF-8 (maxLength counts code points, so a text of multi-byte characters may pass it and still be too long).")";
  out += R"(,"type":"object","required":["type","param"],"properties":{)";

  out += R"("type":{"description":"The notification type, its exact wire name","enum":[)";
  for (std::size_t i = 0; i < type_count; ++i) {
    if (i) out += ',';
    write_string(out, type_names[i]);
  }
  out += "]}";
  out += R"(,"param":{"description":"The parameters of the type, see $defs","type":"object"})";
  out += R"(,"id":{"description":"Idempotency id chosen by the producer","type":["string","null"],)"
         R"("pattern":"^[A-Za-z0-9._:-]{1,)";
  write_size(out, limits.max_request_id_bytes);
  out += R"(}$"})";
  out += R"(,"traceparent":{"description":"W3C Trace Context traceparent; a receiver ignores a malformed one",)"
         R"("type":["string","null"],"pattern":"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"})";
  out += R"(,"createdAt":{"description":"Creation time in Unix milliseconds",)"
         R"("type":["integer","null"],"minimum":1,"maximum":)";
  detail::write_int(out, std::numeric_limits<Id>::max());
  out += "}}";

  out += R"(,"additionalProperties":true,"allOf":[)";
  for (std::size_t i = 0; i < type_count; ++i) {
    if (i) out += ',';
    out += R"({"if":{"properties":{"type":{"const":)";
    write_string(out, type_names[i]);
    out += R"(}},"required":["type"]},"then":{"properties":{"param":{"$ref":"#/$defs/)";
    out += type_names[i];  // plain ASCII, no escaping needed
    out += R"("}}}})";
  }
  out += ']';

  out += R"(,"$defs":{"id":{"type":"integer","minimum":1,"maximum":)";
  detail::write_int(out, std::numeric_limits<Id>::max());
  out += R"(},"text":{"description":"Optional user text; null means absent. The limit is )";
  write_size(out, limits.max_text_bytes);
  out += R"( bytes of UTF-8; maxLength, in code points, is the same number (every text within the limit passes it).","type":["string","null"],"maxLength":)";
  write_size(out, limits.max_text_bytes);
  out += '}';
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    out += ',';
    (detail::write_param_def<I>(out, limits), ...);
  }(std::make_index_sequence<type_count>{});
  out += "}}";
  return out;
}

}  // namespace notify
