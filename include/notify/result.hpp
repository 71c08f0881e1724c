// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

/// Aborts with file:line when a programmer invariant is broken; never an input error.
#define NOTIFY_ASSERT(cond)                                                              \
  do {                                                                                   \
    if (!(cond)) ::notify::detail::assert_fail(#cond, __FILE__, __LINE__);               \
  } while (false)

namespace notify {

/// Machine-readable error codes shared by validation and every transport.
enum class Errc : std::uint8_t {
  // Input (never transient).
  invalid_json,      ///< the body is not well-formed JSON
  body_too_large,    ///< the body exceeds Limits::max_body_bytes
  too_deep,          ///< nesting exceeds Limits::max_depth
  expected_object,
  expected_array,
  expected_string,
  expected_integer,  ///< a JSON number without fraction or exponent is required
  expected_boolean,
  missing_field,
  duplicate_field,
  unknown_type,
  out_of_range,      ///< an id below 1 or above INT64_MAX
  invalid_utf8,
  too_long,          ///< a string longer than its limit
  empty_array,
  too_many_items,
  invalid_value,     ///< a value of the right type whose content is not allowed
  invalid_member,    ///< a stored member value that cannot be read
  // Transport.
  unavailable,       ///< the service is down or refused the connection (transient)
  timeout,           ///< no answer in time (transient)
  rate_limited,      ///< the service asked us to slow down (transient)
  io_error,          ///< a connection broke mid-way (transient)
  unauthenticated,   ///< credentials rejected
  invalid_token,     ///< a device token the provider says is dead
  not_found,
  protocol_error,    ///< the peer answered something we cannot understand
  configuration,     ///< a setting or credential is wrong; retrying will not help
};

/// The stable snake_case name of a code, as printed in JSON errors.
constexpr std::string_view to_string(Errc code) noexcept {
  switch (code) {
    case Errc::invalid_json: return "invalid_json";
    case Errc::body_too_large: return "body_too_large";
    case Errc::too_deep: return "too_deep";
    case Errc::expected_object: return "expected_object";
    case Errc::expected_array: return "expected_array";
    case Errc::expected_string: return "expected_string";
    case Errc::expected_integer: return "expected_integer";
    case Errc::expected_boolean: return "expected_boolean";
    case Errc::missing_field: return "missing_field";
    case Errc::duplicate_field: return "duplicate_field";
    case Errc::unknown_type: return "unknown_type";
    case Errc::out_of_range: return "out_of_range";
    case Errc::invalid_utf8: return "invalid_utf8";
    case Errc::too_long: return "too_long";
    case Errc::empty_array: return "empty_array";
    case Errc::too_many_items: return "too_many_items";
    case Errc::invalid_value: return "invalid_value";
    case Errc::invalid_member: return "invalid_member";
    case Errc::unavailable: return "unavailable";
    case Errc::timeout: return "timeout";
    case Errc::rate_limited: return "rate_limited";
    case Errc::io_error: return "io_error";
    case Errc::unauthenticated: return "unauthenticated";
    case Errc::invalid_token: return "invalid_token";
    case Errc::not_found: return "not_found";
    case Errc::protocol_error: return "protocol_error";
    case Errc::configuration: return "configuration";
  }
  return "unknown";
}

/// True when the same call may succeed later, so the work is retried rather than dropped.
constexpr bool is_transient(Errc code) noexcept {
  return code == Errc::unavailable || code == Errc::timeout || code == Errc::rate_limited ||
         code == Errc::io_error;
}

/// One error: what went wrong (code), for whom (message) and where (JSON path, may be empty).
struct Error {
  Errc code{};
  std::string message;
  std::string path;

  friend bool operator==(const Error&, const Error&) = default;
};

namespace detail {
[[noreturn]] inline void assert_fail(const char* cond, const char* file, int line) noexcept {
  std::fprintf(stderr, "notify: assertion failed: %s at %s:%d\n", cond, file, line);
  std::terminate();  // aborts, after the program's terminate handler (a log may write out what it holds)
}
}  // namespace detail

/// A value or an error, with std::expected's member names (C++20 has no std::expected).
template <class T, class E = Error>
class [[nodiscard]] Result {
 public:
  using value_type = T;
  using error_type = E;

  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit on purpose
  Result(E error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & { NOTIFY_ASSERT(has_value()); return std::get<0>(v_); }
  const T& value() const& { NOTIFY_ASSERT(has_value()); return std::get<0>(v_); }
  T&& value() && { NOTIFY_ASSERT(has_value()); return std::get<0>(std::move(v_)); }
  E& error() & { NOTIFY_ASSERT(!has_value()); return std::get<1>(v_); }
  const E& error() const& { NOTIFY_ASSERT(!has_value()); return std::get<1>(v_); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, E> v_;
};

/// Success without a value, or an error.
template <class E>
class [[nodiscard]] Result<void, E> {
 public:
  Result() = default;
  Result(E error) : error_(std::move(error)), failed_(true) {}  // NOLINT: implicit on purpose

  bool has_value() const noexcept { return !failed_; }
  explicit operator bool() const noexcept { return has_value(); }
  void value() const { NOTIFY_ASSERT(has_value()); }
  const E& error() const& { NOTIFY_ASSERT(!has_value()); return error_; }

 private:
  E error_{};
  bool failed_ = false;
};

}  // namespace notify
