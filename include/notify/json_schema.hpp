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

#include "notify/clock.hpp"
#include "notify/codec.hpp"
#include "notify/members.hpp"
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

/// An RFC 3339 date-time as parse_rfc3339 reads it (field ranges are checked there), as a
/// JSON string's content. A pattern, not "format": validators treat formats differently.
inline constexpr std::string_view rfc3339_pattern =
    R"(^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})$)";

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
  } else if constexpr (std::is_same_v<M, std::string>) {
    out += R"({"type":"string","minLength":1,"maxLength":)";
    write_size(out, limits.max_text_bytes);
    out += '}';
  } else if constexpr (std::is_same_v<M, std::optional<Id>>) {
    out += R"({"$ref":"#/$defs/id"})";
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
  out += R"(,"sendAt":{"description":"When to send, RFC 3339 with an offset; the request is held until then",)"
         R"("type":["string","null"],"pattern":")" + std::string(detail::rfc3339_pattern) + R"("})";
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

/// The JSON Schema (draft 2020-12) of a stored member value (hash `family:<id>`, field
/// `user:<id>`), as compact JSON: the first version's fields and the v2 ones. The main
/// API validates what it writes against it; parse_member() reads exactly this, and
/// validate_member() (notifyctl members set --value) refuses what it would leave out.
/// What it cannot say: a timeZone must be one of the zones clock.hpp knows (the enum
/// lists them), and a device token must be unique within the member.
inline std::string member_json_schema() {
  using detail::write_string;
  std::string out;
  out.reserve(4096);
  out += R"({"$schema":"https://json-schema.org/draft/2020-12/schema","$id":"urn:notify:member")";
  out += R"(,"title":"notify member value","description":"One family member as the member store holds it. )"
         R"(Unknown fields are ignored; null means absent. A v2 field that does not validate is left out by the )"
         R"(worker (the member is still notified without that feature), an unreadable consent counts as none.")";
  out += R"(,"type":"object","required":["userName"],"properties":{)";
  out += R"("userName":{"type":"string"})";
  out += R"(,"fcmToken":{"description":"The first version's single Android/FCM device; empty or null: none",)"
         R"("type":["string","null"],"maxLength":4096})";
  out += R"(,"mktPushAgreed":{"description":"The first version's marketing consent (no date); only true counts",)"
         R"("type":["boolean","null"]})";
  out += R"(,"mktPushAreed":{"description":"Legacy spelling of mktPushAgreed","type":["boolean","null"]})";
  out += R"(,"devices":{"type":["array","null"],"maxItems":16,"items":{"type":"object","required":["token"],)"
         R"("properties":{"token":{"type":"string","minLength":1,"maxLength":4096},)"
         R"("provider":{"enum":["fcm","apns"],"default":"fcm"},"platform":{"type":["string","null"]},)"
         R"("registeredAt":{"$ref":"#/$defs/time"},"app":{"type":["string","null"]},)"
         R"("locale":{"type":["string","null"]}}}})";
  out += R"(,"email":{"type":["string","null"],"maxLength":254,"pattern":"^[^@\\s<>\",;]+@[^@\\s<>\",;]+\\.[^@\\s<>\",;]+$"})";
  out += R"(,"phone":{"description":"E.164","type":["string","null"],"pattern":"^\\+[1-9][0-9]{6,14}$"})";
  out += R"(,"timeZone":{"description":"IANA name; absent: Asia/Seoul","enum":[null)";
  for (const TimeZone& z : time_zones()) {
    out += ',';
    write_string(out, z.name());
  }
  out += "]}";
  out += R"(,"preferences":{"description":"Everything is on unless switched off here",)"
         R"("type":["object","null"],"properties":{"mute":{"type":"boolean"})";
  for (std::string_view c : category_names) {
    out += ',';
    write_string(out, c);
    out += R"(:{"type":"object","additionalProperties":false,"properties":{)";
    for (std::size_t i = 0; i < channel_count; ++i) {
      if (i) out += ',';
      write_string(out, channel_names[i]);
      out += R"(:{"type":"boolean"})";
    }
    out += "}}";
  }
  out += R"(},"additionalProperties":false})";
  out += R"(,"consent":{"type":["object","null"],"additionalProperties":false,"properties":{)"
         R"("marketing":{"$ref":"#/$defs/grant"},"nightAds":{"$ref":"#/$defs/grant"}}})";
  out += R"(,"quietHours":{"type":["object","null"],"required":["start","end"],"additionalProperties":false,)"
         R"("properties":{"start":{"$ref":"#/$defs/localTime"},"end":{"$ref":"#/$defs/localTime"}}})";
  out += R"(},"$defs":{"grant":{"type":["object","null"],"additionalProperties":false,"properties":{)"
         R"("agreedAt":{"$ref":"#/$defs/time"},"withdrawnAt":{"$ref":"#/$defs/time"}}},)"
         R"("time":{"description":"RFC 3339 with an offset","type":["string","null"],"pattern":")" +
         std::string(detail::rfc3339_pattern) + R"("},)"
         R"("localTime":{"type":"string","pattern":"^([01][0-9]|2[0-3]):[0-5][0-9]$"}}})";
  return out;
}

}  // namespace notify
