// SPDX-License-Identifier: MIT
// Unit tests for include/notify/clock.hpp: civil dates, RFC 3339, local times, the zone
// table and its DST rules, daily windows (quiet hours, Korea's night-ad window), consent age.

#include <doctest/doctest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "notify/clock.hpp"

using notify::CivilDate;
using notify::DailyWindow;
using notify::LocalTime;
using notify::TimeZone;
using notify::format_rfc3339;
using notify::parse_rfc3339;

namespace {

constexpr std::int64_t second_ms = 1000;
constexpr std::int64_t minute_ms = 60 * second_ms;
constexpr std::int64_t hour_ms = 60 * minute_ms;
constexpr std::int64_t day_ms = 24 * hour_ms;

// An instant from an RFC 3339 text the test trusts.
std::int64_t at(std::string_view text) {
  const std::optional<std::int64_t> ms = parse_rfc3339(text);
  INFO(text);
  REQUIRE(ms.has_value());
  return *ms;
}

constexpr LocalTime hm(int hour, int minute) { return LocalTime{hour * 60 + minute}; }

const TimeZone& zone(std::string_view name) {
  const TimeZone* z = notify::find_time_zone(name);
  INFO(name);
  REQUIRE(z != nullptr);
  return *z;
}

// Formats in UTC: failures then print readable instants.
std::string utc(std::int64_t ms) { return format_rfc3339(ms); }

// The reference for next_local: walks minute by minute from `from` and stops at the first
// minute where the zone's wall clock reads t or jumps over it (a DST gap).
std::int64_t next_local_by_scan(const TimeZone& z, std::int64_t from, LocalTime t) {
  std::int64_t u = (from + minute_ms - 1) / minute_ms * minute_ms;  // from >= 0 here
  std::int64_t before = notify::local_ms(z, u - minute_ms);
  for (int i = 0; i < 3 * 24 * 60; ++i, u += minute_ms) {
    const std::int64_t local = notify::local_ms(z, u);
    if (local % day_ms == t.minutes * minute_ms) return u;
    const std::int64_t target = local / day_ms * day_ms + t.minutes * minute_ms;
    if (before / day_ms == local / day_ms && before < target && target < local) return u;
    before = local;
  }
  FAIL("no reading of the local time within three days");
  return 0;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Civil dates

static_assert(notify::days_from_civil(1970, 1, 1) == 0);
static_assert(notify::days_from_civil(2000, 1, 1) == 10957);
static_assert(notify::civil_from_days(-1) == CivilDate{1969, 12, 31});
static_assert(notify::parse_rfc3339("1970-01-01T00:00:00Z") == 0);
static_assert(notify::korea_night_ads.contains(hm(23, 0)));

TEST_CASE("civil dates: known days and leap years and weekdays") {
  CHECK(notify::days_from_civil(0, 1, 1) == -719528);
  CHECK(notify::days_from_civil(1, 1, 1) == -719162);
  CHECK(notify::days_from_civil(2000, 3, 1) == 11017);
  CHECK(notify::days_from_civil(9999, 12, 31) == 2932896);
  CHECK(notify::days_from_civil(2026, 2, 29) == notify::days_from_civil(2026, 3, 1));  // a day past the end counts on
  CHECK(notify::civil_from_days(-719528) == CivilDate{0, 1, 1});
  CHECK(notify::civil_from_days(11016) == CivilDate{2000, 2, 29});

  CHECK(notify::is_leap_year(2024));
  CHECK(notify::is_leap_year(2000));
  CHECK(notify::is_leap_year(0));
  CHECK_FALSE(notify::is_leap_year(2100));
  CHECK_FALSE(notify::is_leap_year(1900));
  CHECK_FALSE(notify::is_leap_year(2026));
  CHECK(notify::days_in_month(2024, 2) == 29);
  CHECK(notify::days_in_month(2100, 2) == 28);
  CHECK(notify::days_in_month(2026, 4) == 30);
  CHECK(notify::days_in_month(2026, 13) == 0);
  CHECK(notify::days_in_month(2026, 0) == 0);
  CHECK_FALSE(notify::is_valid_date(2026, 2, 29));
  CHECK(notify::is_valid_date(2028, 2, 29));

  CHECK(notify::weekday_from_days(0) == 4);  // Thursday
  CHECK(notify::weekday_from_days(notify::days_from_civil(2026, 12, 4)) == 5);  // Friday
  CHECK(notify::weekday_from_days(notify::days_from_civil(2026, 3, 8)) == 0);   // Sunday
  CHECK(notify::weekday_from_days(-1) == 3);
}

TEST_CASE("civil dates: every day from 0000-01-01 to 9999-12-31 converts both ways in order") {
  CivilDate expected{0, 1, 1};
  const std::int64_t first = notify::days_from_civil(0, 1, 1);
  const std::int64_t last = notify::days_from_civil(9999, 12, 31);
  std::int64_t mismatches = 0;
  for (std::int64_t d = first; d <= last; ++d) {
    const CivilDate got = notify::civil_from_days(d);
    if (!(got == expected) || notify::days_from_civil(got) != d) ++mismatches;
    if (++expected.day > notify::days_in_month(expected.year, expected.month)) {
      expected.day = 1;
      if (++expected.month > 12) {
        expected.month = 1;
        ++expected.year;
      }
    }
  }
  CHECK(mismatches == 0);
  CHECK(expected == CivilDate{10000, 1, 1});
}

TEST_CASE("civil dates: far instants are clamped without overflow") {
  CHECK(notify::civil_from_days(INT64_MAX).year > 1'000'000'000);
  CHECK(notify::civil_from_days(INT64_MIN).year < -1'000'000'000);
  CHECK(notify::offset_seconds(zone("America/New_York"), INT64_MAX) <= 0);
  CHECK(notify::offset_seconds(zone("Australia/Sydney"), INT64_MIN) >= 10 * 3600);
  CHECK(notify::next_local(zone("Europe/London"), INT64_MAX, hm(7, 0)) > 0);
  CHECK(format_rfc3339(INT64_MAX) == "9999-12-31T23:59:59.999Z");
  CHECK(format_rfc3339(INT64_MIN) == "0000-01-01T00:00:00.000Z");
  CHECK_FALSE(notify::older_than_years(INT64_MAX, INT64_MIN, 2));
  CHECK(notify::older_than_years(INT64_MIN, INT64_MAX, 2));
}

// ---------------------------------------------------------------------------------------
// RFC 3339

TEST_CASE("rfc3339: valid date-times read as Unix milliseconds") {
  struct Case {
    std::string_view text;
    std::int64_t ms;
  };
  const Case cases[] = {
      {"1970-01-01T00:00:00Z", 0},
      {"1970-01-01t00:00:00z", 0},
      {"1970-01-01 00:00:00Z", 0},
      {"1970-01-01T00:00:00-00:00", 0},
      {"1970-01-01T00:00:00+00:00", 0},
      {"1969-12-31T23:59:59.5Z", -500},
      {"2026-12-04T09:45:00Z", 1796377500000},
      {"2026-12-04T18:45:00+09:00", 1796377500000},
      {"2026-12-04T18:45:00.000+09:00", 1796377500000},
      {"2026-12-04T09:45:00.1Z", 1796377500100},
      {"2026-12-04T09:45:00.12Z", 1796377500120},
      {"2026-12-04T09:45:00.123Z", 1796377500123},
      {"2026-12-04T09:45:00.123999999Z", 1796377500123},  // truncated, not rounded
      {"2024-02-29T23:59:59-05:30", 1709270999000},
      {"2000-02-29T12:00:00Z", 951825600000},
      {"0001-01-01T00:00:00Z", -62135596800000},
      {"0000-01-01T00:00:00Z", notify::rfc3339_min_ms},
      {"0000-01-01T00:00:00-23:59", notify::rfc3339_min_ms + 23 * hour_ms + 59 * minute_ms},
      {"9999-12-31T23:59:59.999Z", 253402300799999},
      {"9999-12-31T23:59:59.999+00:01", 253402300799999 - minute_ms},
      {"2016-12-31T23:59:60Z", 1483228799999},  // a leap second: the last ms of its minute
      {"2016-12-31T23:59:60.5Z", 1483228799999},
      {"2017-01-01T08:59:60+09:00", 1483228799999},
      {"9999-12-31T23:59:60Z", 253402300799999},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    const std::optional<std::int64_t> got = parse_rfc3339(c.text);
    REQUIRE(got.has_value());
    CHECK(*got == c.ms);
  }
  CHECK(notify::rfc3339_min_ms == -62167219200000);
  CHECK(notify::rfc3339_max_ms == 253402300799999);
}

TEST_CASE("rfc3339: anything else is rejected") {
  const std::string_view cases[] = {
      "",
      "2026-12-04",                           // a date alone
      "2026-12-04T09:45:00",                  // no offset
      "2026-12-04T09:45Z",                    // no seconds
      "2026-12-04T09:45:00ZZ",                // trailing garbage
      "2026-12-04T09:45:00Z ",
      " 2026-12-04T09:45:00Z",
      "2026-12-04T09:45:00+09:00x",
      "2026-12-04T09:45:00+0900",
      "2026-12-04T09:45:00+09",
      "2026-12-04T09:45:00+9:00",
      "2026-12-04T09:45:00+24:00",
      "2026-12-04T09:45:00+09:60",
      "2026-12-04T09:45:00UTC",
      "2026-12-04X09:45:00Z",
      "2026-12-04_09:45:00Z",
      "2026/12/04T09:45:00Z",
      "2026-12-04T09-45-00Z",
      "26-12-04T09:45:00Z",
      "+2026-12-04T09:45:00Z",
      "-0001-12-04T09:45:00Z",
      "12026-12-04T09:45:00Z",
      "2026-1-04T09:45:00Z",
      "2026-12-4T09:45:00Z",
      "2026-12-04T9:45:00Z",
      "2026-12-04T09:45:0Z",
      "2026-00-10T00:00:00Z",  // month 0
      "2026-13-10T00:00:00Z",
      "2026-12-00T00:00:00Z",  // day 0
      "2026-12-32T00:00:00Z",
      "2026-04-31T00:00:00Z",
      "2026-02-29T00:00:00Z",  // not a leap year
      "2100-02-29T00:00:00Z",  // divisible by 100, not by 400
      "2026-12-04T24:00:00Z",
      "2026-12-04T23:60:00Z",
      "2026-12-04T23:59:61Z",
      "2026-12-04T09:45:00.Z",                // an empty fraction
      "2026-12-04T09:45:00.1234567890Z",      // ten fraction digits
      "2026-12-04T09:45:00,5Z",
      "2026-12-04T09:45:00.5",
      "2026-12-04T09:45:00.-5Z",
      "0000-01-01T00:00:00+00:01",            // before year 0000 in UTC
      "0000-01-01T00:59:59.999+01:00",
      "9999-12-31T23:59:59-00:01",            // after year 9999 in UTC
      "2026-12-04T09:45:00\0Z",
      "2026-12-04T09:45:00Z\n",
      "\xef\xbc\x92\xef\xbc\x90\xef\xbc\x92\xef\xbc\x96-12-04T09:45:00Z",  // full-width digits
  };
  for (std::string_view text : cases) {
    CAPTURE(text);
    CHECK_FALSE(parse_rfc3339(text).has_value());
  }
  // An embedded NUL (the literal above stops at it).
  CHECK_FALSE(parse_rfc3339(std::string_view("2026-12-04T09:45:00\0Z", 21)).has_value());
}

TEST_CASE("rfc3339: format writes UTC with milliseconds and reads back the same instant") {
  CHECK(format_rfc3339(0) == "1970-01-01T00:00:00.000Z");
  CHECK(format_rfc3339(-1) == "1969-12-31T23:59:59.999Z");
  CHECK(format_rfc3339(1796377500123) == "2026-12-04T09:45:00.123Z");
  CHECK(format_rfc3339(at("2024-02-29T23:59:59-05:30")) == "2024-03-01T05:29:59.000Z");
  CHECK(format_rfc3339(notify::rfc3339_min_ms) == "0000-01-01T00:00:00.000Z");
  CHECK(format_rfc3339(notify::rfc3339_max_ms) == "9999-12-31T23:59:59.999Z");
  CHECK(format_rfc3339(notify::rfc3339_min_ms - 1) == "0000-01-01T00:00:00.000Z");  // clamped
  CHECK(format_rfc3339(notify::rfc3339_max_ms + 1) == "9999-12-31T23:59:59.999Z");

  // Spread over the whole range, odd steps so every field moves.
  const std::int64_t step = 987'654'321'987;
  for (std::int64_t ms = notify::rfc3339_min_ms; ms <= notify::rfc3339_max_ms; ms += step) {
    const std::string text = format_rfc3339(ms);
    CAPTURE(text);
    CHECK(text.size() == 24);
    CHECK(parse_rfc3339(text) == ms);
  }
}

// ---------------------------------------------------------------------------------------
// Local time of day

TEST_CASE("local time: HH:MM reads 00:00 to 23:59 and writes back") {
  CHECK(notify::parse_local_time("00:00") == hm(0, 0));
  CHECK(notify::parse_local_time("07:30") == hm(7, 30));
  CHECK(notify::parse_local_time("23:59") == hm(23, 59));
  for (std::string_view bad : {"24:00", "23:60", "7:30", "07:3", "0730", "07-30", "07:30 ", " 07:30", "", "ab:cd",
                               "07:30:00", "-1:00"}) {
    CAPTURE(bad);
    CHECK_FALSE(notify::parse_local_time(bad).has_value());
  }
  for (int m = 0; m < 24 * 60; ++m) {
    const std::string text = notify::format_local_time(LocalTime{m});
    CHECK(notify::parse_local_time(text) == LocalTime{m});
  }
  CHECK(notify::format_local_time(hm(8, 5)) == "08:05");
  CHECK(hm(21, 45).hour() == 21);
  CHECK(hm(21, 45).minute() == 45);
}

// ---------------------------------------------------------------------------------------
// Time zones

TEST_CASE("time zones: the table knows the required zones by exact IANA name") {
  for (std::string_view name :
       {"Asia/Seoul", "Asia/Tokyo", "Asia/Shanghai", "Asia/Singapore", "Asia/Ho_Chi_Minh", "Asia/Kolkata", "UTC", "Etc/UTC",
        "Europe/London", "Europe/Paris", "Europe/Berlin", "America/New_York", "America/Chicago", "America/Denver",
        "America/Los_Angeles", "America/Sao_Paulo", "Australia/Sydney"}) {
    CAPTURE(name);
    const TimeZone* z = notify::find_time_zone(name);
    REQUIRE(z != nullptr);
    CHECK(z->name() == name);
  }
  for (std::string_view unknown : {"", "asia/seoul", "Asia/Seoul ", "KST", "Asia/Pyongyang", "Mars/Olympus", "+09:00"}) {
    CAPTURE(unknown);
    CHECK(notify::find_time_zone(unknown) == nullptr);
  }
  CHECK(notify::seoul_time_zone().name() == "Asia/Seoul");
  CHECK(&notify::seoul_time_zone() == notify::find_time_zone("Asia/Seoul"));
  // Every name once.
  for (const TimeZone& z : notify::time_zones()) CHECK(notify::find_time_zone(z.name()) == &z);
}

TEST_CASE("time zones: fixed offsets") {
  const std::int64_t winter = at("2026-01-15T12:00:00Z");
  const std::int64_t summer = at("2026-07-15T12:00:00Z");
  struct Case {
    std::string_view name;
    std::int32_t offset;
  };
  const Case cases[] = {{"Asia/Seoul", 9 * 3600},       {"Asia/Tokyo", 9 * 3600},     {"Asia/Shanghai", 8 * 3600},
                        {"Asia/Singapore", 8 * 3600},   {"Asia/Ho_Chi_Minh", 7 * 3600}, {"Asia/Kolkata", 5 * 3600 + 1800},
                        {"UTC", 0},                     {"Etc/UTC", 0},               {"America/Sao_Paulo", -3 * 3600},
                        {"America/Phoenix", -7 * 3600}, {"Pacific/Honolulu", -10 * 3600}};
  for (const Case& c : cases) {
    CAPTURE(c.name);
    CHECK(notify::offset_seconds(zone(c.name), winter) == c.offset);
    CHECK(notify::offset_seconds(zone(c.name), summer) == c.offset);
    CHECK_FALSE(notify::is_dst(zone(c.name), summer));
  }
  CHECK(notify::local_date(zone("Asia/Seoul"), at("2026-12-31T15:00:00Z")) == CivilDate{2027, 1, 1});
  CHECK(notify::local_time(zone("Asia/Seoul"), at("2026-12-31T15:00:00Z")) == hm(0, 0));
  CHECK(notify::local_time(zone("Asia/Kolkata"), at("2026-12-31T18:29:59Z")) == hm(23, 59));
  CHECK(notify::local_date(zone("America/Sao_Paulo"), at("2027-01-01T02:59:59Z")) == CivilDate{2026, 12, 31});
}

TEST_CASE("time zones: offsets switch at the US and EU and Sydney transitions") {
  struct Case {
    std::string_view zone;
    std::string_view instant;  // the first instant of the new offset
    std::int32_t before;
    std::int32_t after;
  };
  const Case cases[] = {
      // US 2026: 2nd Sunday of March 02:00 EST, 1st Sunday of November 02:00 EDT.
      {"America/New_York", "2026-03-08T07:00:00Z", -5 * 3600, -4 * 3600},
      {"America/New_York", "2026-11-01T06:00:00Z", -4 * 3600, -5 * 3600},
      {"America/Chicago", "2026-03-08T08:00:00Z", -6 * 3600, -5 * 3600},
      {"America/Denver", "2026-11-01T08:00:00Z", -6 * 3600, -7 * 3600},
      {"America/Los_Angeles", "2026-03-08T10:00:00Z", -8 * 3600, -7 * 3600},
      {"America/Los_Angeles", "2027-03-14T10:00:00Z", -8 * 3600, -7 * 3600},
      {"America/New_York", "2027-11-07T06:00:00Z", -4 * 3600, -5 * 3600},
      // EU 2026: last Sunday of March and October, 01:00 UTC everywhere.
      {"Europe/London", "2026-03-29T01:00:00Z", 0, 3600},
      {"Europe/London", "2026-10-25T01:00:00Z", 3600, 0},
      {"Europe/Paris", "2026-03-29T01:00:00Z", 3600, 7200},
      {"Europe/Berlin", "2026-10-25T01:00:00Z", 7200, 3600},
      {"Europe/London", "2027-03-28T01:00:00Z", 0, 3600},
      // Sydney: 1st Sunday of April 03:00 AEDT, 1st Sunday of October 02:00 AEST.
      {"Australia/Sydney", "2026-04-04T16:00:00Z", 11 * 3600, 10 * 3600},
      {"Australia/Sydney", "2026-10-03T16:00:00Z", 10 * 3600, 11 * 3600},
      {"Australia/Sydney", "2027-04-03T16:00:00Z", 11 * 3600, 10 * 3600},
  };
  for (const Case& c : cases) {
    CAPTURE(c.zone);
    CAPTURE(c.instant);
    const std::int64_t t = at(c.instant);
    CHECK(notify::offset_seconds(zone(c.zone), t - 1) == c.before);
    CHECK(notify::offset_seconds(zone(c.zone), t) == c.after);
  }
  // Sydney's summer spans New Year.
  CHECK(notify::is_dst(zone("Australia/Sydney"), at("2026-12-31T13:00:00Z")));
  CHECK(notify::is_dst(zone("Australia/Sydney"), at("2027-01-01T13:00:00Z")));
  CHECK_FALSE(notify::is_dst(zone("Australia/Sydney"), at("2026-07-01T00:00:00Z")));
  CHECK(notify::local_date(zone("Australia/Sydney"), at("2026-12-31T13:00:00Z")) == CivilDate{2027, 1, 1});
}

TEST_CASE("next_local: the next wall-clock reading across DST gaps and overlaps") {
  const TimeZone& ny = zone("America/New_York");
  // Spring forward 2026-03-08: 02:00 EST -> 03:00 EDT (07:00Z); 02:30 does not exist.
  CHECK(utc(notify::next_local(ny, at("2026-03-08T05:00:00Z"), hm(2, 30))) == "2026-03-08T07:00:00.000Z");
  CHECK(utc(notify::next_local(ny, at("2026-03-08T05:00:00Z"), hm(1, 59))) == "2026-03-08T06:59:00.000Z");
  CHECK(utc(notify::next_local(ny, at("2026-03-08T05:00:00Z"), hm(3, 0))) == "2026-03-08T07:00:00.000Z");
  CHECK(utc(notify::next_local(ny, at("2026-03-08T07:00:00Z"), hm(2, 30))) == "2026-03-08T07:00:00.000Z");
  CHECK(utc(notify::next_local(ny, at("2026-03-08T07:00:00.001Z"), hm(2, 30))) == "2026-03-09T06:30:00.000Z");
  // Fall back 2026-11-01: 02:00 EDT -> 01:00 EST (06:00Z); 01:30 happens twice.
  CHECK(utc(notify::next_local(ny, at("2026-11-01T04:00:00Z"), hm(1, 30))) == "2026-11-01T05:30:00.000Z");
  CHECK(utc(notify::next_local(ny, at("2026-11-01T05:30:00.001Z"), hm(1, 30))) == "2026-11-01T06:30:00.000Z");
  CHECK(utc(notify::next_local(ny, at("2026-11-01T06:30:00.001Z"), hm(1, 30))) == "2026-11-02T06:30:00.000Z");
  // An exact reading is its own answer; a millisecond later waits a day.
  CHECK(utc(notify::next_local(ny, at("2026-06-01T11:00:00Z"), hm(7, 0))) == "2026-06-01T11:00:00.000Z");
  CHECK(utc(notify::next_local(ny, at("2026-06-01T11:00:00.001Z"), hm(7, 0))) == "2026-06-02T11:00:00.000Z");
  // London's gap is 01:00-02:00 local on 2026-03-29; Sydney's 02:00-03:00 on 2026-10-04.
  CHECK(utc(notify::next_local(zone("Europe/London"), at("2026-03-29T00:00:00Z"), hm(1, 30))) ==
        "2026-03-29T01:00:00.000Z");
  CHECK(utc(notify::next_local(zone("Australia/Sydney"), at("2026-10-03T14:00:00Z"), hm(2, 30))) ==
        "2026-10-03T16:00:00.000Z");
  // Sydney's repeated hour 02:00-03:00 on 2026-04-05.
  CHECK(utc(notify::next_local(zone("Australia/Sydney"), at("2026-04-04T15:00:00Z"), hm(2, 30))) ==
        "2026-04-04T15:30:00.000Z");
  CHECK(utc(notify::next_local(zone("Australia/Sydney"), at("2026-04-04T15:31:00Z"), hm(2, 30))) ==
        "2026-04-04T16:30:00.000Z");
  CHECK(utc(notify::next_local(notify::seoul_time_zone(), at("2026-12-04T23:00:00Z"), hm(8, 0))) ==
        "2026-12-04T23:00:00.000Z");
}

TEST_CASE("next_local: agrees with a minute-by-minute scan around every transition of 2025 to 2027") {
  const LocalTime times[] = {hm(0, 0), hm(0, 59), hm(1, 0), hm(1, 30), hm(2, 0), hm(2, 30), hm(3, 0), hm(7, 0), hm(23, 59)};
  int checked = 0;
  for (std::string_view name : {"America/New_York", "America/Los_Angeles", "Europe/London", "Europe/Berlin", "Australia/Sydney"}) {
    const TimeZone& z = zone(name);
    CAPTURE(name);
    // Each transition: the instants where the offset changes, found by an hourly walk.
    for (std::int64_t t = at("2025-01-01T00:00:00Z"); t < at("2028-01-01T00:00:00Z"); t += hour_ms) {
      if (notify::offset_seconds(z, t) == notify::offset_seconds(z, t + hour_ms)) continue;
      for (std::int64_t from = t - 26 * hour_ms; from < t + 3 * hour_ms; from += 131 * minute_ms + 7 * second_ms) {
        for (const LocalTime lt : times) {
          CAPTURE(utc(from));
          CAPTURE(notify::format_local_time(lt));
          CHECK(utc(notify::next_local(z, from, lt)) == utc(next_local_by_scan(z, from, lt)));
          ++checked;
        }
      }
    }
  }
  CHECK(checked > 1000);
}

// ---------------------------------------------------------------------------------------
// Daily windows

TEST_CASE("daily windows: the Korean night-ad window 21:00-08:00 KST at its edges") {
  const TimeZone& seoul = notify::seoul_time_zone();
  const DailyWindow& w = notify::korea_night_ads;
  CHECK(w.start == hm(21, 0));
  CHECK(w.end == hm(8, 0));
  // 20:59:59 KST: outside, may go now.
  CHECK_FALSE(w.contains(seoul, at("2026-12-04T20:59:59+09:00")));
  CHECK(w.end_after(seoul, at("2026-12-04T20:59:59+09:00")) == at("2026-12-04T20:59:59+09:00"));
  CHECK_FALSE(w.contains(seoul, at("2026-12-04T20:59:59.999+09:00")));
  // 21:00:00 KST: inside, deferred to 08:00 the next morning.
  CHECK(w.contains(seoul, at("2026-12-04T21:00:00+09:00")));
  CHECK(utc(w.end_after(seoul, at("2026-12-04T21:00:00+09:00"))) == utc(at("2026-12-05T08:00:00+09:00")));
  CHECK(utc(w.end_after(seoul, at("2026-12-04T23:59:59+09:00"))) == utc(at("2026-12-05T08:00:00+09:00")));
  CHECK(utc(w.end_after(seoul, at("2026-12-05T00:00:00+09:00"))) == utc(at("2026-12-05T08:00:00+09:00")));
  // 07:59:59 KST: inside, deferred one second.
  CHECK(w.contains(seoul, at("2026-12-05T07:59:59.999+09:00")));
  CHECK(w.contains(seoul, at("2026-12-05T07:59:59+09:00")));
  CHECK(w.end_after(seoul, at("2026-12-05T07:59:59+09:00")) == at("2026-12-05T08:00:00+09:00"));
  // 08:00:00 KST: outside.
  CHECK_FALSE(w.contains(seoul, at("2026-12-05T08:00:00+09:00")));
  CHECK(w.end_after(seoul, at("2026-12-05T08:00:00+09:00")) == at("2026-12-05T08:00:00+09:00"));
  // The same instants written in UTC, across the UTC date line.
  CHECK(w.contains(seoul, at("2026-12-04T12:00:00Z")));
  CHECK_FALSE(w.contains(seoul, at("2026-12-04T11:59:59Z")));
  CHECK(w.contains(seoul, at("2026-12-04T22:59:59Z")));
  CHECK_FALSE(w.contains(seoul, at("2026-12-04T23:00:00Z")));
  // New Year's Eve and a leap day.
  CHECK(utc(w.end_after(seoul, at("2026-12-31T22:00:00+09:00"))) == "2026-12-31T23:00:00.000Z");
  CHECK(utc(w.end_after(seoul, at("2028-02-28T21:30:00+09:00"))) == utc(at("2028-02-29T08:00:00+09:00")));
}

TEST_CASE("daily windows: empty and same-day and wrapping windows by time of day") {
  const DailyWindow empty{hm(22, 0), hm(22, 0)};
  CHECK(empty.empty());
  for (int m = 0; m < 24 * 60; ++m) CHECK_FALSE(empty.contains(LocalTime{m}));
  CHECK(empty.end_after(notify::seoul_time_zone(), 12345) == 12345);

  const DailyWindow lunch{hm(12, 0), hm(13, 0)};
  CHECK_FALSE(lunch.empty());
  CHECK_FALSE(lunch.contains(hm(11, 59)));
  CHECK(lunch.contains(hm(12, 0)));
  CHECK(lunch.contains(hm(12, 59)));
  CHECK_FALSE(lunch.contains(hm(13, 0)));

  const DailyWindow quiet{hm(22, 0), hm(7, 0)};
  CHECK(quiet.contains(hm(22, 0)));
  CHECK(quiet.contains(hm(23, 59)));
  CHECK(quiet.contains(hm(0, 0)));
  CHECK(quiet.contains(hm(6, 59)));
  CHECK_FALSE(quiet.contains(hm(7, 0)));
  CHECK_FALSE(quiet.contains(hm(21, 59)));

  const DailyWindow to_midnight{hm(22, 0), hm(0, 0)};
  CHECK(to_midnight.contains(hm(23, 59)));
  CHECK_FALSE(to_midnight.contains(hm(0, 0)));
  CHECK(utc(to_midnight.end_after(zone("UTC"), at("2026-12-04T22:30:00Z"))) == "2026-12-05T00:00:00.000Z");
}

TEST_CASE("daily windows: quiet hours in New York across the March and November switches") {
  const TimeZone& ny = zone("America/New_York");
  // 01:30-03:00 on spring-forward day 2026-03-08: only 90 real minutes minus the skipped hour.
  const DailyWindow early{hm(1, 30), hm(3, 0)};
  CHECK_FALSE(early.contains(ny, at("2026-03-08T06:29:59Z")));  // 01:29:59 EST
  CHECK(early.contains(ny, at("2026-03-08T06:30:00Z")));        // 01:30 EST
  CHECK(early.contains(ny, at("2026-03-08T06:59:59Z")));        // 01:59:59 EST
  CHECK_FALSE(early.contains(ny, at("2026-03-08T07:00:00Z")));  // 03:00 EDT
  CHECK(utc(early.end_after(ny, at("2026-03-08T06:30:00Z"))) == "2026-03-08T07:00:00.000Z");
  CHECK(utc(early.end_after(ny, at("2026-03-08T06:59:59.999Z"))) == "2026-03-08T07:00:00.000Z");
  // The next day the window is 90 minutes again.
  CHECK(early.contains(ny, at("2026-03-09T05:30:00Z")));  // 01:30 EDT
  CHECK(utc(early.end_after(ny, at("2026-03-09T05:30:00Z"))) == "2026-03-09T07:00:00.000Z");

  // 22:00-07:00 across both switches: the night is 8 and 10 hours of real time.
  const DailyWindow night{hm(22, 0), hm(7, 0)};
  CHECK(night.contains(ny, at("2026-03-08T03:00:00Z")));  // 22:00 EST Saturday
  CHECK(utc(night.end_after(ny, at("2026-03-08T03:00:00Z"))) == "2026-03-08T11:00:00.000Z");  // 07:00 EDT
  CHECK(night.contains(ny, at("2026-11-01T02:00:00Z")));  // 22:00 EDT Saturday
  CHECK(utc(night.end_after(ny, at("2026-11-01T02:00:00Z"))) == "2026-11-01T12:00:00.000Z");  // 07:00 EST
  CHECK_FALSE(night.contains(ny, at("2026-11-01T12:00:00Z")));
  CHECK(night.contains(ny, at("2026-11-01T11:59:59Z")));

  // A window over the repeated hour holds it both times (wall-clock semantics).
  const DailyWindow repeated{hm(1, 0), hm(1, 30)};
  CHECK(repeated.contains(ny, at("2026-11-01T05:15:00Z")));   // 01:15 EDT
  CHECK_FALSE(repeated.contains(ny, at("2026-11-01T05:45:00Z")));  // 01:45 EDT
  CHECK(repeated.contains(ny, at("2026-11-01T06:15:00Z")));   // 01:15 EST
  CHECK(utc(repeated.end_after(ny, at("2026-11-01T05:15:00Z"))) == "2026-11-01T05:30:00.000Z");
  CHECK(utc(repeated.end_after(ny, at("2026-11-01T06:15:00Z"))) == "2026-11-01T06:30:00.000Z");
}

TEST_CASE("daily windows: quiet hours in London and Sydney across their switches") {
  const DailyWindow night{hm(22, 0), hm(7, 0)};
  const TimeZone& london = zone("Europe/London");
  CHECK(utc(night.end_after(london, at("2026-03-28T22:00:00Z"))) == "2026-03-29T06:00:00.000Z");  // 07:00 BST
  CHECK(utc(night.end_after(london, at("2026-10-24T21:00:00Z"))) == "2026-10-25T07:00:00.000Z");  // 07:00 GMT
  CHECK_FALSE(night.contains(london, at("2026-10-24T20:59:59Z")));  // 21:59:59 BST
  CHECK(night.contains(london, at("2026-10-24T21:00:00Z")));        // 22:00 BST
  CHECK(night.contains(london, at("2026-07-01T05:59:59Z")));        // 06:59:59 BST
  CHECK_FALSE(night.contains(london, at("2026-07-01T06:00:00Z")));  // 07:00 BST

  const TimeZone& sydney = zone("Australia/Sydney");
  CHECK(night.contains(sydney, at("2026-10-03T13:00:00Z")));  // 23:00 AEST
  CHECK(utc(night.end_after(sydney, at("2026-10-03T13:00:00Z"))) == "2026-10-03T20:00:00.000Z");  // 07:00 AEDT
  CHECK(utc(night.end_after(sydney, at("2026-04-04T12:00:00Z"))) == "2026-04-04T21:00:00.000Z");  // 07:00 AEST
  CHECK(night.contains(sydney, at("2026-01-15T11:00:00Z")));        // 22:00 AEDT
  CHECK_FALSE(night.contains(sydney, at("2026-01-15T10:59:59Z")));  // 21:59:59 AEDT
}

// ---------------------------------------------------------------------------------------
// Consent age

TEST_CASE("consent age: exactly two calendar years is expired and a millisecond before is not") {
  const std::int64_t given = at("2024-06-15T10:20:30.400Z");
  CHECK_FALSE(notify::older_than_years(given, at("2026-06-15T10:20:30.399Z"), 2));
  CHECK(notify::older_than_years(given, at("2026-06-15T10:20:30.400Z"), 2));
  CHECK(notify::older_than_years(given, at("2030-01-01T00:00:00Z"), 2));
  CHECK_FALSE(notify::older_than_years(given, given, 2));
  CHECK_FALSE(notify::older_than_years(given, given - 1, 0));  // now before then (clock skew)
  CHECK(notify::older_than_years(given, given, 0));
  CHECK(notify::older_than_years(given, given, -3));  // counts as 0
  CHECK_FALSE(notify::older_than_years(given, at("2027-06-15T10:20:30.399Z"), 3));
  CHECK(notify::older_than_years(given, at("2027-06-15T10:20:30.400Z"), 3));
  // Calendar years, not 730 days: 2024 has a leap day.
  CHECK(at("2026-06-15T10:20:30.400Z") - given == 730 * day_ms);
  CHECK(at("2025-06-15T00:00:00Z") - at("2023-06-15T00:00:00Z") == 731 * day_ms);
  CHECK_FALSE(notify::older_than_years(at("2023-06-15T00:00:00Z"), at("2023-06-15T00:00:00Z") + 730 * day_ms, 2));
}

TEST_CASE("consent age: a consent given on February 29 expires on February 28") {
  const std::int64_t leap_day = at("2024-02-29T12:00:00Z");
  CHECK(utc(notify::add_years(leap_day, 2)) == "2026-02-28T12:00:00.000Z");
  CHECK(utc(notify::add_years(leap_day, 4)) == "2028-02-29T12:00:00.000Z");
  CHECK(utc(notify::add_years(leap_day, -1)) == "2023-02-28T12:00:00.000Z");
  CHECK_FALSE(notify::older_than_years(leap_day, at("2026-02-28T11:59:59.999Z"), 2));
  CHECK(notify::older_than_years(leap_day, at("2026-02-28T12:00:00Z"), 2));
  // UTC decides: 2024-02-29T23:30 in Seoul is 14:30Z the same day.
  CHECK(utc(notify::add_years(at("2024-02-29T23:30:00+09:00"), 2)) == "2026-02-28T14:30:00.000Z");
  CHECK(utc(notify::add_years(at("2024-03-01T08:30:00+09:00"), 2)) == "2026-02-28T23:30:00.000Z");
  CHECK(utc(notify::add_years(at("2024-12-31T23:59:59.999Z"), 2)) == "2026-12-31T23:59:59.999Z");
}
