// SPDX-License-Identifier: MIT
// Fuzz target: the RFC 3339 and HH:MM readers of notify/clock.hpp, and the zone
// arithmetic on what they accept. Properties checked on every input:
// - parse_rfc3339 never crashes; an accepted instant lies in [rfc3339_min_ms, rfc3339_max_ms];
// - format_rfc3339 of it is 24 characters and parses back to the same millisecond;
// - parse_local_time accepts only what format_local_time writes back unchanged;
// - for a zone and time of day picked from the input: next_local lands at or after the
//   instant, within two days, on that wall-clock reading or on a DST transition; a daily
//   window holding the instant ends after it, one not holding it ends at it.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "notify/clock.hpp"
#include "notify/result.hpp"

namespace {

constexpr std::int64_t day_ms = 24 * 60 * 60 * 1000;

void check_zone_arithmetic(std::int64_t instant, std::string_view text) {
  // A zone and two times of day from the input's bytes, so every zone gets its turn.
  std::size_t mix = text.size();
  for (const char c : text) mix = mix * 31 + static_cast<unsigned char>(c);
  const std::span<const notify::TimeZone> zones = notify::time_zones();
  const notify::TimeZone& zone = zones[mix % zones.size()];
  const notify::LocalTime t{static_cast<int>(mix / zones.size() % 1440)};
  const notify::LocalTime u{static_cast<int>(mix / zones.size() / 1440 % 1440)};

  const std::int64_t next = notify::next_local(zone, instant, t);
  NOTIFY_ASSERT(next >= instant && next - instant <= 2 * day_ms);
  const bool transition = notify::offset_seconds(zone, next - 1) != notify::offset_seconds(zone, next);
  NOTIFY_ASSERT(notify::local_time(zone, next) == t || transition);
  NOTIFY_ASSERT(notify::local_ms(zone, next) % 60'000 == 0);

  const notify::DailyWindow window{t, u};
  const std::int64_t end = window.end_after(zone, instant);
  if (window.contains(zone, instant)) {
    NOTIFY_ASSERT(!window.empty() && end > instant && end - instant <= 2 * day_ms);
  } else {
    NOTIFY_ASSERT(end == instant);
  }
  NOTIFY_ASSERT(notify::older_than_years(instant, notify::add_years(instant, 2), 2));
  NOTIFY_ASSERT(!notify::older_than_years(instant, notify::add_years(instant, 2) - 1, 2));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  if (const std::optional<notify::LocalTime> t = notify::parse_local_time(text)) {
    NOTIFY_ASSERT(notify::format_local_time(*t) == text);
  }

  const std::optional<std::int64_t> instant = notify::parse_rfc3339(text);
  if (!instant) return 0;
  NOTIFY_ASSERT(*instant >= notify::rfc3339_min_ms && *instant <= notify::rfc3339_max_ms);
  const std::string formatted = notify::format_rfc3339(*instant);
  NOTIFY_ASSERT(formatted.size() == 24);
  NOTIFY_ASSERT(notify::parse_rfc3339(formatted) == instant);
  // Without a fraction beyond milliseconds, a leap second or an offset, the text is the
  // formatted one up to letter case and the date-time separator.
  if (size == 24 && text[19] == '.' && text.substr(17, 2) != "60") {
    std::string normal(text);
    normal[10] = 'T';
    normal[23] = 'Z';
    NOTIFY_ASSERT(normal == formatted);
  }
  check_zone_arithmetic(*instant, text);
  return 0;
}
