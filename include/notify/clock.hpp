// SPDX-License-Identifier: MIT
#pragma once

/// Pure calendar and clock arithmetic for scheduling: RFC 3339 timestamps, proleptic
/// Gregorian civil dates, a fixed table of IANA time zones with the daylight-saving rules
/// in force today, daily local-time windows (quiet hours, Korea's night-time ad window)
/// and consent age. Instants are Unix milliseconds (UTC, no leap seconds). Nothing here
/// reads the system clock or tz files: libstdc++ 12 has no std::chrono::tzdb, and a
/// worker must decide the same way on every machine.

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "notify/result.hpp"

namespace notify {

namespace detail {

inline constexpr std::int64_t minute_ms = 60'000;
inline constexpr std::int64_t hour_ms = 60 * minute_ms;
inline constexpr std::int64_t day_ms = 24 * hour_ms;
/// Zone functions clamp instants to +-2^52 ms (about 142,000 years) so nothing overflows.
inline constexpr std::int64_t instant_limit = std::int64_t{1} << 52;
/// civil_from_days clamps to +-2^39 days (about 1.5 billion years: the year fits int32).
inline constexpr std::int64_t days_limit = std::int64_t{1} << 39;

/// Division rounding toward negative infinity (b > 0).
constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  const std::int64_t q = a / b;
  return (a % b < 0) ? q - 1 : q;
}

/// The remainder matching floor_div: always in [0, b) for b > 0.
constexpr std::int64_t floor_mod(std::int64_t a, std::int64_t b) noexcept { return a - floor_div(a, b) * b; }

constexpr std::int64_t clamp_i64(std::int64_t v, std::int64_t lo, std::int64_t hi) noexcept {
  return v < lo ? lo : (v > hi ? hi : v);
}

constexpr std::int64_t clamp_instant(std::int64_t unix_ms) noexcept {
  return clamp_i64(unix_ms, -instant_limit, instant_limit);
}

}  // namespace detail

// ---------------------------------------------------------------------------------------
// Civil dates

/// A date of the proleptic Gregorian calendar (year 0 is 1 BC and a leap year).
struct CivilDate {
  std::int32_t year = 1970;
  int month = 1;  ///< 1..12
  int day = 1;    ///< 1..days_in_month(year, month)

  friend constexpr bool operator==(const CivilDate&, const CivilDate&) = default;
};

/// Whether a year has a February 29.
constexpr bool is_leap_year(std::int64_t year) noexcept {
  return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
}

/// The number of days of a month (1..12) in a year; 0 for a month out of range.
constexpr int days_in_month(std::int64_t year, int month) noexcept {
  constexpr std::array<int, 12> days{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12) return 0;
  return month == 2 && is_leap_year(year) ? 29 : days[static_cast<std::size_t>(month - 1)];
}

/// Whether year-month-day names a real date.
constexpr bool is_valid_date(std::int64_t year, int month, int day) noexcept {
  return day >= 1 && day <= days_in_month(year, month);
}

/// Days from 1970-01-01 to year-month-day (negative before). The month must be 1..12
/// (|year| below 2^40); a day past the month's end counts on into the next months.
constexpr std::int64_t days_from_civil(std::int64_t year, int month, int day) noexcept {
  NOTIFY_ASSERT(month >= 1 && month <= 12);
  // Days before each month in a common year.
  constexpr std::array<int, 12> before{0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
  // Leap years among 1..year-1, less the 477 among 1..1969, gives the leap days between
  // 1970-01-01 and year-01-01 (floor division keeps it right for years before 1).
  const std::int64_t p = year - 1;
  const std::int64_t leap_days =
      detail::floor_div(p, 4) - detail::floor_div(p, 100) + detail::floor_div(p, 400) - 477;
  const bool after_leap_day = month > 2 && is_leap_year(year);
  return 365 * (year - 1970) + leap_days + before[static_cast<std::size_t>(month - 1)] +
         (after_leap_day ? 1 : 0) + day - 1;
}

/// days_from_civil for a CivilDate.
constexpr std::int64_t days_from_civil(const CivilDate& date) noexcept {
  return days_from_civil(date.year, date.month, date.day);
}

/// The date `days` after 1970-01-01 (before it when negative; clamped to +-2^39 days).
constexpr CivilDate civil_from_days(std::int64_t days) noexcept {
  days = detail::clamp_i64(days, -detail::days_limit, detail::days_limit);
  // A first guess from the mean Gregorian year (146097 days per 400 years), off by at
  // most one, then corrected against the exact start of the year.
  std::int64_t year = 1970 + detail::floor_div(days, 146097) * 400 + detail::floor_mod(days, 146097) * 400 / 146097;
  while (days_from_civil(year, 1, 1) > days) --year;
  while (days_from_civil(year + 1, 1, 1) <= days) ++year;
  std::int64_t day_of_year = days - days_from_civil(year, 1, 1);
  int month = 1;
  while (day_of_year >= days_in_month(year, month)) {
    day_of_year -= days_in_month(year, month);
    ++month;
  }
  return CivilDate{static_cast<std::int32_t>(year), month, static_cast<int>(day_of_year) + 1};
}

/// The day of the week of `days` after 1970-01-01: 0 Sunday .. 6 Saturday.
constexpr int weekday_from_days(std::int64_t days) noexcept {
  return static_cast<int>(detail::floor_mod(days + 4, 7));  // 1970-01-01 was a Thursday
}

// ---------------------------------------------------------------------------------------
// RFC 3339

/// The first and last instant RFC 3339 can write: 0000-01-01T00:00:00Z and
/// 9999-12-31T23:59:59.999Z.
inline constexpr std::int64_t rfc3339_min_ms = days_from_civil(0, 1, 1) * detail::day_ms;
inline constexpr std::int64_t rfc3339_max_ms = days_from_civil(10000, 1, 1) * detail::day_ms - 1;

namespace detail {

/// The value of `count` decimal digits at `at`, or -1 if any is not a digit or missing.
constexpr int read_digits(std::string_view text, std::size_t at, std::size_t count) noexcept {
  if (at > text.size() || text.size() - at < count) return -1;
  int value = 0;
  for (std::size_t i = at; i < at + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return -1;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

constexpr bool char_at(std::string_view text, std::size_t at, char c) noexcept {
  return at < text.size() && text[at] == c;
}

}  // namespace detail

/// Reads an RFC 3339 date-time (section 5.6) as Unix milliseconds:
/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)`, 'T', 't' or ' ' between date and
/// time, 'Z' or 'z'. The date must exist (leap years included), hours 00-23, minutes
/// 00-59, seconds 00-60, offsets up to 23:59; "-00:00" reads as UTC. A fraction has 1 to
/// 9 digits and is truncated to milliseconds. A leap second (:60) is accepted and read as
/// the last millisecond of its minute (:59.999; Unix time has no leap seconds). Anything
/// else is rejected: a date alone, a missing offset, fields of other widths or signs,
/// trailing characters, an instant outside [rfc3339_min_ms, rfc3339_max_ms].
constexpr std::optional<std::int64_t> parse_rfc3339(std::string_view text) noexcept {
  using detail::char_at;
  using detail::read_digits;
  const int year = read_digits(text, 0, 4);
  const int month = read_digits(text, 5, 2);
  const int day = read_digits(text, 8, 2);
  const int hour = read_digits(text, 11, 2);
  const int minute = read_digits(text, 14, 2);
  int second = read_digits(text, 17, 2);
  if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0) return std::nullopt;
  if (!char_at(text, 4, '-') || !char_at(text, 7, '-') || !char_at(text, 13, ':') || !char_at(text, 16, ':'))
    return std::nullopt;
  if (!char_at(text, 10, 'T') && !char_at(text, 10, 't') && !char_at(text, 10, ' ')) return std::nullopt;
  if (!is_valid_date(year, month, day) || hour > 23 || minute > 59 || second > 60) return std::nullopt;

  std::size_t pos = 19;
  std::int64_t millis = 0;
  if (char_at(text, pos, '.')) {
    ++pos;
    std::size_t count = 0;
    for (; pos < text.size() && text[pos] >= '0' && text[pos] <= '9'; ++pos, ++count) {
      if (count < 3) millis = millis * 10 + (text[pos] - '0');
    }
    if (count == 0 || count > 9) return std::nullopt;
    for (; count < 3; ++count) millis *= 10;
  }
  if (second == 60) {
    second = 59;
    millis = 999;
  }

  std::int64_t offset_ms = 0;
  if (char_at(text, pos, 'Z') || char_at(text, pos, 'z')) {
    ++pos;
  } else if (char_at(text, pos, '+') || char_at(text, pos, '-')) {
    const int oh = read_digits(text, pos + 1, 2);
    const int om = read_digits(text, pos + 4, 2);
    if (oh < 0 || om < 0 || !char_at(text, pos + 3, ':') || oh > 23 || om > 59) return std::nullopt;
    offset_ms = (oh * 60 + om) * detail::minute_ms;
    if (text[pos] == '-') offset_ms = -offset_ms;
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;

  const std::int64_t local = days_from_civil(year, month, day) * detail::day_ms + hour * detail::hour_ms +
                             minute * detail::minute_ms + second * std::int64_t{1000} + millis;
  const std::int64_t utc = local - offset_ms;
  if (utc < rfc3339_min_ms || utc > rfc3339_max_ms) return std::nullopt;
  return utc;
}

/// Writes an instant as RFC 3339 in UTC, always with milliseconds:
/// `YYYY-MM-DDTHH:MM:SS.mmmZ` (24 characters, so the text sorts as the instants do).
/// Instants outside [rfc3339_min_ms, rfc3339_max_ms] are clamped to that range.
inline std::string format_rfc3339(std::int64_t unix_ms) {
  unix_ms = detail::clamp_i64(unix_ms, rfc3339_min_ms, rfc3339_max_ms);
  const std::int64_t days = detail::floor_div(unix_ms, detail::day_ms);
  const std::int64_t in_day = unix_ms - days * detail::day_ms;
  const CivilDate date = civil_from_days(days);
  std::string out = "0000-00-00T00:00:00.000Z";
  const auto put = [&out](std::size_t at, std::size_t width, std::int64_t value) {
    for (std::size_t i = width; i-- > 0; value /= 10) out[at + i] = static_cast<char>('0' + value % 10);
  };
  put(0, 4, date.year);
  put(5, 2, date.month);
  put(8, 2, date.day);
  put(11, 2, in_day / detail::hour_ms);
  put(14, 2, in_day / detail::minute_ms % 60);
  put(17, 2, in_day / 1000 % 60);
  put(20, 3, in_day % 1000);
  return out;
}

// ---------------------------------------------------------------------------------------
// Local time of day

/// A wall-clock time of day at minute precision, 00:00 to 23:59.
struct LocalTime {
  int minutes = 0;  ///< minutes since local midnight, 0..1439

  constexpr int hour() const noexcept { return minutes / 60; }
  constexpr int minute() const noexcept { return minutes % 60; }
  friend constexpr bool operator==(const LocalTime&, const LocalTime&) = default;
};

/// Reads "HH:MM" (exactly five characters, 00:00 to 23:59; "24:00" is rejected).
constexpr std::optional<LocalTime> parse_local_time(std::string_view text) noexcept {
  if (text.size() != 5 || text[2] != ':') return std::nullopt;
  const int hour = detail::read_digits(text, 0, 2);
  const int minute = detail::read_digits(text, 3, 2);
  if (hour < 0 || minute < 0 || hour > 23 || minute > 59) return std::nullopt;
  return LocalTime{hour * 60 + minute};
}

/// Writes "HH:MM"; the inverse of parse_local_time (minutes must be 0..1439).
inline std::string format_local_time(LocalTime t) {
  NOTIFY_ASSERT(t.minutes >= 0 && t.minutes < 24 * 60);
  std::string out = "00:00";
  out[0] = static_cast<char>('0' + t.hour() / 10);
  out[1] = static_cast<char>('0' + t.hour() % 10);
  out[3] = static_cast<char>('0' + t.minute() / 10);
  out[4] = static_cast<char>('0' + t.minute() % 10);
  return out;
}

// ---------------------------------------------------------------------------------------
// Time zones

/// The daylight-saving rules the zone table knows: the ones in force today, applied to
/// every year (earlier rules, e.g. the US before 2007, are not modelled). Daylight time
/// is standard time + 1 hour.
enum class DstRule : std::uint8_t {
  none,       ///< the standard offset all year
  us,         ///< US/Canada: 2nd Sunday of March 02:00 local -> 1st Sunday of November 02:00 local
  eu,         ///< EU/UK: last Sunday of March 01:00 UTC -> last Sunday of October 01:00 UTC
  australia,  ///< NSW/Victoria: 1st Sunday of October 02:00 standard -> 1st Sunday of April 03:00 daylight
};

/// A time zone: its IANA name, standard offset from UTC and daylight-saving rule. The
/// table's zones live for the program; one made by hand must not outlive its name's text.
class TimeZone {
 public:
  constexpr TimeZone(std::string_view name, std::int32_t standard_offset_seconds, DstRule dst) noexcept
      : name_(name), standard_offset_(standard_offset_seconds), dst_(dst) {}

  /// The IANA name, e.g. "Asia/Seoul".
  constexpr std::string_view name() const noexcept { return name_; }
  /// The offset from UTC outside daylight-saving time, in seconds (east positive).
  constexpr std::int32_t standard_offset_seconds() const noexcept { return standard_offset_; }
  constexpr DstRule dst_rule() const noexcept { return dst_; }

 private:
  std::string_view name_;
  std::int32_t standard_offset_;
  DstRule dst_;
};

namespace detail {

/// An offset of h hours and m minutes, in seconds.
constexpr std::int32_t utc_offset(std::int32_t h, std::int32_t m = 0) noexcept { return h * 3600 + m * 60; }

/// Every zone find_time_zone knows; Asia/Seoul first (the default).
inline constexpr std::array<TimeZone, 29> time_zone_table{{
    {"Asia/Seoul", utc_offset(9), DstRule::none},
    {"Asia/Tokyo", utc_offset(9), DstRule::none},
    {"Asia/Shanghai", utc_offset(8), DstRule::none},
    {"Asia/Hong_Kong", utc_offset(8), DstRule::none},
    {"Asia/Taipei", utc_offset(8), DstRule::none},
    {"Asia/Manila", utc_offset(8), DstRule::none},
    {"Asia/Singapore", utc_offset(8), DstRule::none},
    {"Asia/Ho_Chi_Minh", utc_offset(7), DstRule::none},
    {"Asia/Bangkok", utc_offset(7), DstRule::none},
    {"Asia/Jakarta", utc_offset(7), DstRule::none},
    {"Asia/Kolkata", utc_offset(5, 30), DstRule::none},
    {"UTC", 0, DstRule::none},
    {"Etc/UTC", 0, DstRule::none},
    {"Europe/London", 0, DstRule::eu},
    {"Europe/Dublin", 0, DstRule::eu},
    {"Europe/Paris", utc_offset(1), DstRule::eu},
    {"Europe/Berlin", utc_offset(1), DstRule::eu},
    {"Europe/Madrid", utc_offset(1), DstRule::eu},
    {"Europe/Rome", utc_offset(1), DstRule::eu},
    {"Europe/Amsterdam", utc_offset(1), DstRule::eu},
    {"America/New_York", utc_offset(-5), DstRule::us},
    {"America/Toronto", utc_offset(-5), DstRule::us},
    {"America/Chicago", utc_offset(-6), DstRule::us},
    {"America/Denver", utc_offset(-7), DstRule::us},
    {"America/Phoenix", utc_offset(-7), DstRule::none},
    {"America/Los_Angeles", utc_offset(-8), DstRule::us},
    {"America/Sao_Paulo", utc_offset(-3), DstRule::none},
    {"Pacific/Honolulu", utc_offset(-10), DstRule::none},
    {"Australia/Sydney", utc_offset(10), DstRule::australia},
}};

/// The day (days since 1970-01-01) of the n-th Sunday of a month, the last when n == 0.
constexpr std::int64_t sunday_of(std::int64_t year, int month, int n) noexcept {
  if (n == 0) {
    const std::int64_t last = days_from_civil(year, month, days_in_month(year, month));
    return last - weekday_from_days(last);
  }
  const std::int64_t first = days_from_civil(year, month, 1);
  return first + (7 - weekday_from_days(first)) % 7 + 7 * (n - 1);
}

/// A year's two transitions as UTC instants: daylight time starts at `start` and ends at
/// `end`. Northern rules: daylight in [start, end). Australia: daylight before `end`
/// (April) and from `start` (October).
struct DstTransitions {
  std::int64_t start = 0;
  std::int64_t end = 0;
};

constexpr DstTransitions dst_transitions(const TimeZone& zone, std::int64_t year) noexcept {
  const std::int64_t standard = zone.standard_offset_seconds() * std::int64_t{1000};
  const std::int64_t daylight = standard + hour_ms;
  switch (zone.dst_rule()) {
    case DstRule::us:
      return {sunday_of(year, 3, 2) * day_ms + 2 * hour_ms - standard, sunday_of(year, 11, 1) * day_ms + 2 * hour_ms - daylight};
    case DstRule::eu:
      return {sunday_of(year, 3, 0) * day_ms + hour_ms, sunday_of(year, 10, 0) * day_ms + hour_ms};
    case DstRule::australia:
      return {sunday_of(year, 10, 1) * day_ms + 2 * hour_ms - standard, sunday_of(year, 4, 1) * day_ms + 3 * hour_ms - daylight};
    case DstRule::none: break;
  }
  return {};
}

}  // namespace detail

/// Every zone find_time_zone knows.
constexpr std::span<const TimeZone> time_zones() noexcept { return detail::time_zone_table; }

/// The zone with this IANA name (exact, case-sensitive), or nullptr when the table does
/// not have it: Asia/{Seoul, Tokyo, Shanghai, Hong_Kong, Taipei, Manila, Singapore,
/// Ho_Chi_Minh, Bangkok, Jakarta, Kolkata}, UTC, Etc/UTC, Europe/{London, Dublin, Paris,
/// Berlin, Madrid, Rome, Amsterdam}, America/{New_York, Toronto, Chicago, Denver, Phoenix,
/// Los_Angeles, Sao_Paulo}, Pacific/Honolulu, Australia/Sydney. Callers fall back to
/// seoul_time_zone() for an unknown name and report it.
constexpr const TimeZone* find_time_zone(std::string_view iana_name) noexcept {
  for (const TimeZone& zone : detail::time_zone_table)
    if (zone.name() == iana_name) return &zone;
  return nullptr;
}

/// Asia/Seoul (UTC+9, no DST): the default zone of a member without a known one.
constexpr const TimeZone& seoul_time_zone() noexcept { return detail::time_zone_table[0]; }

/// Whether daylight-saving time is in force in the zone at the instant.
constexpr bool is_dst(const TimeZone& zone, std::int64_t unix_ms) noexcept {
  if (zone.dst_rule() == DstRule::none) return false;
  unix_ms = detail::clamp_instant(unix_ms);
  // The UTC year is the right one: no rule changes near New Year.
  const std::int64_t year = civil_from_days(detail::floor_div(unix_ms, detail::day_ms)).year;
  const detail::DstTransitions t = detail::dst_transitions(zone, year);
  if (zone.dst_rule() == DstRule::australia) return unix_ms < t.end || unix_ms >= t.start;
  return unix_ms >= t.start && unix_ms < t.end;
}

/// The zone's offset from UTC at the instant, in seconds (east positive).
constexpr std::int32_t offset_seconds(const TimeZone& zone, std::int64_t unix_ms) noexcept {
  return zone.standard_offset_seconds() + (is_dst(zone, unix_ms) ? 3600 : 0);
}

/// The local wall-clock reading at the instant, as milliseconds since 1970-01-01T00:00
/// local (what the instant would be if the zone were UTC).
constexpr std::int64_t local_ms(const TimeZone& zone, std::int64_t unix_ms) noexcept {
  unix_ms = detail::clamp_instant(unix_ms);
  return unix_ms + offset_seconds(zone, unix_ms) * std::int64_t{1000};
}

/// The local date in the zone at the instant.
constexpr CivilDate local_date(const TimeZone& zone, std::int64_t unix_ms) noexcept {
  return civil_from_days(detail::floor_div(local_ms(zone, unix_ms), detail::day_ms));
}

/// The local time of day (whole minutes) in the zone at the instant.
constexpr LocalTime local_time(const TimeZone& zone, std::int64_t unix_ms) noexcept {
  return LocalTime{static_cast<int>(detail::floor_mod(local_ms(zone, unix_ms), detail::day_ms) / detail::minute_ms)};
}

/// The first instant at or after `unix_ms` at which the zone's wall clock turns to `t`
/// (t:00.000). On a day the clock skips `t` (the DST start gap) that day's candidate is
/// the first instant after the gap; on a day it reads `t` twice (DST end) the earlier
/// reading comes first, and the later one still counts when `unix_ms` is past the first.
constexpr std::int64_t next_local(const TimeZone& zone, std::int64_t unix_ms, LocalTime t) noexcept {
  unix_ms = detail::clamp_instant(unix_ms);
  const std::int64_t standard = zone.standard_offset_seconds() * std::int64_t{1000};
  const std::int64_t daylight = standard + detail::hour_ms;
  const std::int64_t today = detail::floor_div(local_ms(zone, unix_ms), detail::day_ms);
  std::int64_t best = INT64_MAX;
  const auto consider = [&](std::int64_t candidate) {
    if (candidate >= unix_ms && candidate < best) best = candidate;
  };
  // Four local days around today always hold the answer (tomorrow's reading is at most
  // 25 hours away); each reading is tried under both offsets and kept where it holds.
  for (std::int64_t day = today - 1; day <= today + 2; ++day) {
    const std::int64_t local = day * detail::day_ms + t.minutes * detail::minute_ms;
    bool exists = false;
    for (const std::int64_t offset : {standard, daylight}) {
      if (offset == daylight && zone.dst_rule() == DstRule::none) continue;
      const std::int64_t candidate = local - offset;
      if (offset_seconds(zone, candidate) * std::int64_t{1000} == offset) {
        exists = true;
        consider(candidate);
      }
    }
    if (!exists) consider(detail::dst_transitions(zone, civil_from_days(day).year).start);
  }
  return best;
}

// ---------------------------------------------------------------------------------------
// Daily windows

/// A window of local time repeating every day, [start, end): start > end wraps past
/// midnight (22:00-07:00 holds 23:30 and 06:59, not 07:00); start == end is empty (it
/// holds nothing, so "00:00-00:00" means no quiet hours). It follows the wall clock: on a
/// DST end day a window holding the repeated hour holds it both times.
struct DailyWindow {
  LocalTime start;  ///< the first minute inside
  LocalTime end;    ///< the first minute outside; DailyWindow{} (00:00-00:00) is empty

  constexpr bool empty() const noexcept { return start == end; }

  /// Whether the window holds the time of day.
  constexpr bool contains(LocalTime t) const noexcept {
    if (start.minutes <= end.minutes) return start.minutes <= t.minutes && t.minutes < end.minutes;
    return t.minutes >= start.minutes || t.minutes < end.minutes;
  }

  /// Whether the window holds the instant's local time in the zone.
  constexpr bool contains(const TimeZone& zone, std::int64_t unix_ms) const noexcept {
    return contains(local_time(zone, unix_ms));
  }

  /// When the window holding the instant ends (the first instant a delivery it defers
  /// may go); the instant itself when the window does not hold it.
  constexpr std::int64_t end_after(const TimeZone& zone, std::int64_t unix_ms) const noexcept {
    if (!contains(zone, unix_ms)) return unix_ms;
    return next_local(zone, unix_ms, end);
  }

  friend constexpr bool operator==(const DailyWindow&, const DailyWindow&) = default;
};

/// Korea's night-time window for advertising pushes, 21:00-08:00 Asia/Seoul: an ad in it
/// needs the member's separate night-time consent (Act on Promotion of Information and
/// Communications Network Utilization, art. 50(3)); without it the ad waits for its end.
inline constexpr DailyWindow korea_night_ads{LocalTime{21 * 60}, LocalTime{8 * 60}};

// ---------------------------------------------------------------------------------------
// Consent age

/// The instant `years` calendar years after `unix_ms` in UTC, at the same time of day; a
/// February 29 lands on February 28 in a common year (as java.time and dateutil do).
/// Years are clamped to +-10000.
constexpr std::int64_t add_years(std::int64_t unix_ms, int years) noexcept {
  unix_ms = detail::clamp_instant(unix_ms);
  const std::int64_t days = detail::floor_div(unix_ms, detail::day_ms);
  const std::int64_t in_day = unix_ms - days * detail::day_ms;
  const CivilDate date = civil_from_days(days);
  const std::int64_t year = date.year + detail::clamp_i64(years, -10000, 10000);
  const int day = date.day > days_in_month(year, date.month) ? days_in_month(year, date.month) : date.day;
  return days_from_civil(year, date.month, day) * detail::day_ms + in_day;
}

/// Whether at `now_ms` at least `years` calendar years (UTC) have passed since `then_ms`:
/// true from add_years(then_ms, years) on, so a consent given 2024-02-29T10:00Z is two
/// years old from 2026-02-28T10:00Z. Negative years count as 0.
constexpr bool older_than_years(std::int64_t then_ms, std::int64_t now_ms, int years) noexcept {
  return detail::clamp_instant(now_ms) >= add_years(then_ms, years < 0 ? 0 : years);
}

}  // namespace notify
