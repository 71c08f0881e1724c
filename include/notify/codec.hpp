// SPDX-License-Identifier: MIT
#pragma once

/// decode / validate / encode of the request envelope. Decoding never throws, collects
/// every error of a record with its JSON path, and copies only the strings it keeps.

#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "notify/detail/json_reader.hpp"
#include "notify/detail/json_writer.hpp"
#include "notify/result.hpp"
#include "notify/clock.hpp"
#include "notify/schema.hpp"
#include "notify/text.hpp"
#include "notify/trace.hpp"

namespace notify {

/// Bounds every decoded request must respect. The defaults are the documented limits.
struct Limits {
  /// Whole message body in bytes: SQS's maximum message size (1 MiB).
  std::size_t max_body_bytes = 1024 * 1024;
  /// Nesting of objects and arrays, counting the envelope as 1.
  std::size_t max_depth = 32;
  /// A user-supplied text (commentPreview, titlePreview) in bytes of UTF-8.
  std::size_t max_text_bytes = 4096;
  /// Items in one array (familyIds, timaCapsules, familyIdsWithBirthdayUserId).
  std::size_t max_items = 1000;
  /// The envelope's "id" in bytes; allowed characters are A-Z a-z 0-9 - _ . :
  std::size_t max_request_id_bytes = 128;
};

/// Every problem found in one record.
using Errors = std::vector<Error>;

namespace detail {

/// Calls fn(field, index) for each field of a described struct.
template <class T, class Fn>
constexpr void for_each_field(Fn&& fn) {
  constexpr auto fields = T::fields();
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (fn(std::get<I>(fields), std::integral_constant<std::size_t, I>{}), ...);
  }(std::make_index_sequence<std::tuple_size_v<decltype(fields)>>{});
}

template <class M>
inline constexpr bool is_optional_v = false;
template <class M>
inline constexpr bool is_optional_v<std::optional<M>> = true;

inline bool valid_request_id_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.' || c == ':';
}

/// The value checks shared by decode (after parsing) and validate (on typed structs).
class Checker {
 public:
  explicit Checker(const Limits& limits) noexcept : limits_(limits) {}

  const Limits& limits() const noexcept { return limits_; }
  Errors& errors() noexcept { return errors_; }

  /// Records an error at the current path.
  void add(Errc code, std::string message) { errors_.push_back({code, std::move(message), path()}); }

  void check_id(Id v) {
    if (v < 1) add(Errc::out_of_range, "expected an integer id >= 1, got " + std::to_string(v));
  }
  void check_text(std::string_view s) {
    if (s.size() > limits_.max_text_bytes)
      add(Errc::too_long, "text longer than " + std::to_string(limits_.max_text_bytes) + " bytes");
    else if (!is_valid_utf8(s))
      add(Errc::invalid_utf8, "text is not valid UTF-8");
  }
  /// False when the array size is not allowed (and an error was added).
  bool check_items(std::size_t n) {
    if (n == 0) return add(Errc::empty_array, "expected at least one item"), false;
    if (n > limits_.max_items)
      return add(Errc::too_many_items, "more than " + std::to_string(limits_.max_items) + " items"), false;
    return true;
  }
  void check_request_id(std::string_view id) {
    if (id.empty()) {
      add(Errc::invalid_value, "request id must not be empty (omit it instead)");
      return;
    }
    if (id.size() > limits_.max_request_id_bytes) {
      add(Errc::too_long, "request id must be 1 to " + std::to_string(limits_.max_request_id_bytes) + " bytes");
      return;
    }
    for (char c : id)
      if (!valid_request_id_char(c)) {
        add(Errc::invalid_value, "request id may only contain A-Z a-z 0-9 - _ . :");
        return;
      }
  }

  // The current path is a stack of segments, turned into text only when an error is
  // recorded, so a valid record costs no allocation here. push returns the depth to restore.
  std::size_t push(std::string_view name) noexcept { return push_segment({name, 0}); }
  std::size_t push_index(std::size_t i) noexcept { return push_segment({{}, i}); }
  void pop(std::size_t depth) noexcept { depth_ = depth; }

  /// The current path, e.g. param.timaCapsules[2].senderId.
  std::string path() const {
    std::string out;
    for (std::size_t i = 0; i < depth_ && i < segments_.size(); ++i) {
      const Segment& seg = segments_[i];
      if (seg.name.empty()) {
        out += '[';
        out += std::to_string(seg.index);
        out += ']';
      } else {
        if (!out.empty()) out += '.';
        out += seg.name;
      }
    }
    return out;
  }

 private:
  struct Segment {
    std::string_view name;  // empty for an array index
    std::size_t index;
  };
  std::size_t push_segment(Segment seg) noexcept {
    if (depth_ < segments_.size()) segments_[depth_] = seg;  // deeper than the schema: path is cut
    return depth_++;
  }

  const Limits& limits_;
  Errors errors_;
  std::array<Segment, 16> segments_{};
  std::size_t depth_ = 0;
};

// ---- validate: the value checks on typed structs ---------------------------------

inline void validate_value(Checker& c, const Id& v) { c.check_id(v); }
inline void validate_value(Checker&, const bool&) {}
inline void validate_value(Checker& c, const std::optional<std::string>& v) {
  if (v) c.check_text(*v);
}
inline void validate_value(Checker& c, const std::string& v) { c.check_text(v); }
inline void validate_value(Checker& c, const std::optional<Id>& v) {
  if (v) c.check_id(*v);
}
template <Described T>
void validate_value(Checker& c, const T& v);
template <class T>
void validate_value(Checker& c, const std::vector<T>& v) {
  if (!c.check_items(v.size())) return;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const std::size_t mark = c.push_index(i);
    validate_value(c, v[i]);
    c.pop(mark);
  }
}
template <Described T>
void validate_value(Checker& c, const T& v) {
  const std::size_t errors = c.errors().size();
  for_each_field<T>([&](const auto& f, auto) {
    const std::size_t mark = c.push(f.name);
    validate_value(c, v.*(f.member));
    c.pop(mark);
  });
  if constexpr (requires { v.check(c); })
    if (c.errors().size() == errors) v.check(c);
}

// ---- decode ----------------------------------------------------------------------

inline std::string_view kind_name(JsonKind k) noexcept {
  switch (k) {
    case JsonKind::object: return "an object";
    case JsonKind::array: return "an array";
    case JsonKind::string: return "a string";
    case JsonKind::number: return "a number";
    case JsonKind::boolean: return "a boolean";
    case JsonKind::null: return "null";
    case JsonKind::invalid: break;
  }
  return "invalid JSON";
}

/// Reads typed values from a JsonReader, recording value errors and skipping bad values.
class Decoder {
 public:
  Decoder(JsonReader& reader, Checker& checker) noexcept : r_(reader), c_(checker) {}

  void read(Id& out) {
    const JsonKind k = r_.peek();
    if (k != JsonKind::number) return mismatch(Errc::expected_integer, "expected an integer id", k);
    JsonNumber n;
    if (!r_.read_number(n)) return;
    if (!n.integral) return c_.add(Errc::expected_integer, "expected an integer id, got " + std::string(n.text));
    if (n.text[0] == '-') return c_.add(Errc::out_of_range, "expected an integer id >= 1, got " + std::string(n.text));
    const auto res = std::from_chars(n.text.data(), n.text.data() + n.text.size(), out);
    if (res.ec != std::errc{}) return c_.add(Errc::out_of_range, "id does not fit in 64 bits: " + std::string(n.text));
    c_.check_id(out);
  }

  void read(bool& out) {
    const JsonKind k = r_.peek();
    if (k != JsonKind::boolean) return mismatch(Errc::expected_boolean, "expected a boolean", k);
    r_.read_bool(out);
  }

  void read(std::optional<std::string>& out) {
    const JsonKind k = r_.peek();
    if (k == JsonKind::null) {
      r_.read_null();
      out.reset();
      return;
    }
    if (k != JsonKind::string) return mismatch(Errc::expected_string, "expected a string", k);
    std::string_view sv;
    const StringStatus st = r_.read_string(sv, scratch_);
    if (st == StringStatus::bad_utf8) return c_.add(Errc::invalid_utf8, "text is not valid UTF-8");
    if (st != StringStatus::ok) return;
    if (sv.size() > c_.limits().max_text_bytes) return c_.check_text(sv);
    out.emplace(sv);
  }

  void read(std::string& out) {
    std::optional<std::string> text;
    const JsonKind k = r_.peek();
    if (k == JsonKind::null) return mismatch(Errc::expected_string, "expected a string", k);
    read(text);
    if (text) out = std::move(*text);
  }

  void read(std::optional<Id>& out) {
    if (r_.peek() == JsonKind::null) {
      r_.read_null();
      out.reset();
      return;
    }
    read(out.emplace());
  }

  template <class T>
  void read(std::vector<T>& out) {
    const JsonKind k = r_.peek();
    if (k != JsonKind::array) return mismatch(Errc::expected_array, "expected an array", k);
    if (!r_.enter()) return;
    std::size_t i = 0;
    bool too_many = false;
    while (r_.next_element()) {
      if (i >= c_.limits().max_items) {
        if (!too_many) c_.check_items(i + 1);
        too_many = true;
        if (!r_.skip_value()) return;
        ++i;
        continue;
      }
      const std::size_t mark = c_.push_index(i++);
      read(out.emplace_back());
      c_.pop(mark);
    }
    if (i == 0 && !r_.failed()) c_.check_items(0);
  }

  template <Described T>
  void read(T& out) {
    const JsonKind k = r_.peek();
    if (k != JsonKind::object) return mismatch(Errc::expected_object, "expected an object", k);
    if (!r_.enter()) return;
    const std::size_t errors = c_.errors().size();
    std::uint32_t seen = 0;
    std::string_view key;
    while (r_.next_key(key, key_scratch_)) {
      bool matched = false;
      for_each_field<T>([&](const auto& f, auto index) {
        if (matched || key != f.name) return;
        matched = true;
        const std::uint32_t bit = 1u << index();
        const std::size_t mark = c_.push(f.name);
        if (seen & bit) {
          c_.add(Errc::duplicate_field, "field appears more than once");
          r_.skip_value();
        } else {
          seen |= bit;
          read(out.*(f.member));
        }
        c_.pop(mark);
      });
      if (!matched && !r_.skip_value()) return;
    }
    if (r_.failed()) return;
    for_each_field<T>([&](const auto& f, auto index) {
      using M = typename std::remove_cvref_t<decltype(f)>::type;
      if (is_optional_v<M> || (seen & (1u << index()))) return;
      const std::size_t mark = c_.push(f.name);
      c_.add(Errc::missing_field, "required field is missing");
      c_.pop(mark);
    });
    if constexpr (requires { out.check(c_); })
      if (c_.errors().size() == errors) out.check(c_);
  }

 private:
  void mismatch(Errc code, std::string_view expected, JsonKind got) {
    if (got == JsonKind::invalid) {
      r_.skip_value();  // records the syntax error
      return;
    }
    std::string msg(expected);
    msg += ", got ";
    msg += kind_name(got);
    c_.add(code, std::move(msg));
    r_.skip_value();
  }

  JsonReader& r_;
  Checker& c_;
  std::string scratch_;
  std::string key_scratch_;
};

template <std::size_t I>
void decode_param(Decoder& d, Param& out) {
  d.read(out.template emplace<I>());
}

template <std::size_t... I>
constexpr auto make_param_decoders(std::index_sequence<I...>) {
  return std::array<void (*)(Decoder&, Param&), sizeof...(I)>{&decode_param<I>...};
}

inline constexpr auto param_decoders = make_param_decoders(std::make_index_sequence<type_count>{});

inline std::string known_types_list() {
  std::string s;
  for (std::size_t i = 0; i < type_count; ++i) {
    if (i) s += ", ";
    s += type_names[i];
  }
  return s;
}

inline Errors syntax_error(const JsonReader& r, std::size_t base_offset) {
  const Errc code = r.depth_exceeded() ? Errc::too_deep : Errc::invalid_json;
  std::string msg = "invalid JSON at byte " + std::to_string(base_offset + r.error_offset()) + ": ";
  msg += r.error();
  return {Error{code, std::move(msg), {}}};
}

}  // namespace detail

/// Checks a typed request against the schema's value rules (ids >= 1, arrays non-empty
/// and bounded, texts valid UTF-8 and bounded). Empty when valid.
inline Errors validate(const Request& request, const Limits& limits = {}) {
  detail::Checker c(limits);
  if (!request.id.empty()) {
    const std::size_t mark = c.push("id");
    c.check_request_id(request.id);
    c.pop(mark);
  }
  if (!request.traceparent.empty() && !valid_traceparent(request.traceparent)) {
    const std::size_t mark = c.push("traceparent");
    c.add(Errc::invalid_value, "expected a W3C traceparent: 00-<32 hex>-<16 hex>-<2 hex>, lowercase, ids not all zeros");
    c.pop(mark);
  }
  if (request.createdAt && *request.createdAt < 1) {  // the same rule as decode
    const std::size_t mark = c.push("createdAt");
    c.add(Errc::out_of_range, "expected milliseconds since 1970 >= 1, got " + std::to_string(*request.createdAt));
    c.pop(mark);
  }
  const std::size_t mark = c.push("param");
  std::visit([&](const auto& p) { detail::validate_value(c, p); }, request.param);
  c.pop(mark);
  return std::move(c.errors());
}

/// Parses and validates one queue message body. On failure, every error found is
/// returned (a JSON syntax error alone, since nothing after it can be trusted).
inline Result<Request, Errors> decode(std::string_view body, const Limits& limits = {}) {
  using detail::JsonKind;
  if (body.size() > limits.max_body_bytes)
    return Errors{{Errc::body_too_large,
                   "body of " + std::to_string(body.size()) + " bytes exceeds " +
                       std::to_string(limits.max_body_bytes),
                   {}}};

  detail::JsonReader r(body, limits.max_depth);
  detail::Checker c(limits);
  detail::Decoder d(r, c);
  Request request;

  if (r.peek() != JsonKind::object) {
    const JsonKind k = r.peek();
    if (!r.skip_value() || !r.at_end()) {
      if (!r.failed()) r.fail("unexpected data after the JSON value");
      return detail::syntax_error(r, 0);
    }
    return Errors{{Errc::expected_object, std::string("expected an object, got ") + std::string(detail::kind_name(k)), {}}};
  }

  r.enter();
  std::optional<NotificationType> type;
  bool saw_type = false, saw_param = false, type_ok = false, saw_id = false, saw_created_at = false;
  bool saw_traceparent = false, saw_send_at = false;
  std::size_t param_offset = std::string_view::npos;
  std::string_view key;
  std::string key_scratch, value_scratch;
  while (r.next_key(key, key_scratch)) {
    if (key == "type") {
      const std::size_t mark = c.push("type");
      if (saw_type) {
        c.add(Errc::duplicate_field, "field appears more than once");
        r.skip_value();
      } else if (saw_type = true; r.peek() != JsonKind::string) {
        const JsonKind k = r.peek();
        c.add(Errc::expected_string, std::string("expected a type name, got ") + std::string(detail::kind_name(k)));
        r.skip_value();
      } else {
        std::string_view name;
        const auto st = r.read_string(name, value_scratch);
        if (st == detail::StringStatus::ok) type = parse_type(name);
        if (st == detail::StringStatus::bad_utf8) c.add(Errc::invalid_utf8, "type is not valid UTF-8");
        else if (st == detail::StringStatus::ok && !type)
          c.add(Errc::unknown_type, "unknown type \"" + clean_text(name, 64) + "\"; known types: " +
                                        detail::known_types_list());
        type_ok = type.has_value();
      }
      c.pop(mark);
    } else if (key == "param") {
      const std::size_t mark = c.push("param");
      if (saw_param) {
        c.add(Errc::duplicate_field, "field appears more than once");
        r.skip_value();
      } else if (saw_param = true; type_ok) {
        detail::param_decoders[static_cast<std::size_t>(*type)](d, request.param);
      } else {
        r.peek();
        param_offset = r.offset();  // the type may come after the param: decode it later
        r.skip_value(/*allow_bad_utf8=*/true);  // bad UTF-8 is a field error found then
      }
      c.pop(mark);
    } else if (key == "id") {
      const std::size_t mark = c.push("id");
      if (saw_id) {
        c.add(Errc::duplicate_field, "field appears more than once");
        r.skip_value();
      } else if (saw_id = true; r.peek() == JsonKind::string) {
        std::string_view id;
        if (r.read_string(id, value_scratch) == detail::StringStatus::ok) {
          c.check_request_id(id);
          request.id.assign(id);
        } else {
          c.add(Errc::invalid_utf8, "request id is not valid UTF-8");
        }
      } else if (r.peek() == JsonKind::null) {
        r.read_null();
      } else {
        c.add(Errc::expected_string, std::string("expected a string, got ") + std::string(detail::kind_name(r.peek())));
        r.skip_value();
      }
      c.pop(mark);
    } else if (key == "sendAt") {
      const std::size_t mark = c.push("sendAt");
      if (saw_send_at) {
        c.add(Errc::duplicate_field, "field appears more than once");
        r.skip_value();
      } else if (saw_send_at = true; r.peek() == JsonKind::null) {
        r.read_null();
      } else if (r.peek() != JsonKind::string) {
        c.add(Errc::expected_string, std::string("expected an RFC 3339 time, got ") + std::string(detail::kind_name(r.peek())));
        r.skip_value();
      } else {
        std::string_view text;
        const auto st = r.read_string(text, value_scratch);
        const auto t = st == detail::StringStatus::ok ? parse_rfc3339(text) : std::nullopt;
        if (t) request.sendAt = *t;
        else if (st != detail::StringStatus::syntax)
          c.add(Errc::invalid_value, "expected an RFC 3339 time such as 2026-12-24T09:00:00+09:00");
      }
      c.pop(mark);
    } else if (key == "traceparent" && !saw_traceparent) {
      // As W3C Trace Context asks of a receiver: a value that does not parse is ignored
      // (the request goes on without it), never an error.
      saw_traceparent = true;
      std::string_view tp;
      if (r.peek() == JsonKind::string) {
        if (r.read_string(tp, value_scratch) == detail::StringStatus::ok && valid_traceparent(tp))
          request.traceparent.assign(tp);
      } else {
        r.skip_value();
      }
    } else if (key == "createdAt") {
      const std::size_t mark = c.push("createdAt");
      if (saw_created_at) {
        c.add(Errc::duplicate_field, "field appears more than once");
        r.skip_value();
      } else if (saw_created_at = true; r.peek() == JsonKind::null) {
        r.read_null();
      } else {
        Id at = 0;
        d.read(at);
        if (at > 0) request.createdAt = at;
      }
      c.pop(mark);
    } else if (!r.skip_value()) {
      break;
    }
  }
  if (r.failed()) return detail::syntax_error(r, 0);
  if (!r.at_end()) {
    r.fail("unexpected data after the JSON value");
    return detail::syntax_error(r, 0);
  }

  if (param_offset != std::string_view::npos && type_ok) {
    // Rare order: "param" before "type". Its syntax was checked by skip_value already;
    // its UTF-8 is checked now, field by field, exactly as in the usual order.
    detail::JsonReader pr(body.substr(param_offset), limits.max_depth - 1);
    detail::Decoder pd(pr, c);
    const std::size_t mark = c.push("param");
    detail::param_decoders[static_cast<std::size_t>(*type)](pd, request.param);
    c.pop(mark);
    if (pr.failed()) return detail::syntax_error(pr, param_offset);
  }
  if (!saw_type) c.errors().push_back({Errc::missing_field, "required field is missing", "type"});
  if (!saw_param) c.errors().push_back({Errc::missing_field, "required field is missing", "param"});
  if (!c.errors().empty()) return std::move(c.errors());
  return request;
}

namespace detail {

inline void encode_value(std::string& out, Id v) { write_int(out, v); }
inline void encode_value(std::string& out, bool v) { out += v ? "true" : "false"; }
inline void encode_value(std::string& out, const std::string& v) { write_string(out, v); }
template <Described T>
void encode_value(std::string& out, const T& v);
template <class T>
void encode_value(std::string& out, const std::vector<T>& v) {
  out += '[';
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) out += ',';
    encode_value(out, v[i]);
  }
  out += ']';
}
template <Described T>
void encode_value(std::string& out, const T& v) {
  out += '{';
  bool first = true;
  for_each_field<T>([&](const auto& f, auto) {
    const auto& m = v.*(f.member);
    if constexpr (is_optional_v<std::remove_cvref_t<decltype(m)>>) {
      if (!m) return;
      if (!first) out += ',';
      write_key(out, f.name);
      encode_value(out, *m);
    } else {
      if (!first) out += ',';
      write_key(out, f.name);
      encode_value(out, m);
    }
    first = false;
  });
  out += '}';
}

}  // namespace detail

/// The wire form of a request: {"type":...,"param":{...}} plus "id", "createdAt" and
/// "traceparent" when set. Absent optional fields are omitted. Call validate() first on data you did
/// not decode: encode writes whatever it is given (invalid UTF-8 as U+FFFD).
inline std::string encode(const Request& request) {
  std::string out;
  out.reserve(128);
  out += "{\"type\":";
  detail::write_string(out, to_string(request.type()));
  out += ",\"param\":";
  std::visit([&](const auto& p) { detail::encode_value(out, p); }, request.param);
  if (!request.id.empty()) {
    out += ",\"id\":";
    detail::write_string(out, request.id);
  }
  if (request.createdAt) {
    out += ",\"createdAt\":";
    detail::write_int(out, *request.createdAt);
  }
  if (!request.traceparent.empty()) {
    out += ",\"traceparent\":";
    detail::write_string(out, request.traceparent);
  }
  if (request.sendAt) {
    out += ",\"sendAt\":";
    detail::write_string(out, format_rfc3339(*request.sendAt));
  }
  out += '}';
  return out;
}

/// Encodes a param struct as a whole request of its type.
template <class P>
  requires requires { P::type; }
std::string encode(const P& param) {
  return encode(Request{Param{param}, {}, {}});
}

}  // namespace notify
