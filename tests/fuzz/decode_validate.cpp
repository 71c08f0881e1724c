// SPDX-License-Identifier: MIT
// Fuzz target: the envelope decoder, the member-value parser and the text cleaner.
// Properties checked on every input:
// - decode never crashes; a failure carries well-formed errors (known code, message,
//   a path under the envelope);
// - a decoded request validates, encodes to valid UTF-8 that decodes to the same
//   request, and nlohmann/json reads the same request from that text;
// - decoding under tighter Limits only ever rejects more, never decodes differently;
// - a parsed member value survives encode_member -> parse_member;
// - clean_text yields valid UTF-8 without unwanted characters, within its bound;
// - splitting a request by families (producer.hpp) gives valid parts within the bound
//   whose families together are the request's, each family in one part only, and the
//   FIFO message group is well-formed.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "notify/codec.hpp"
#include "notify/json.hpp"
#include "notify/members.hpp"
#include "notify/producer.hpp"
#include "notify/result.hpp"
#include "notify/text.hpp"

namespace {

using notify::Errc;

bool is_input_error(Errc code) {
  return code <= Errc::invalid_member && notify::to_string(code) != "unknown";
}

bool path_is_under_envelope(std::string_view path) {
  if (path.empty()) return true;
  for (std::string_view root : {"type", "param", "id", "createdAt", "sendAt", "traceparent"}) {
    if (path.substr(0, root.size()) != root) continue;
    const std::string_view rest = path.substr(root.size());
    if (rest.empty() || rest[0] == '.' || rest[0] == '[') return true;
  }
  return false;
}

void check_errors(const notify::Errors& errors) {
  NOTIFY_ASSERT(!errors.empty());
  for (const notify::Error& e : errors) {
    NOTIFY_ASSERT(is_input_error(e.code));
    NOTIFY_ASSERT(!e.message.empty());
    NOTIFY_ASSERT(notify::is_valid_utf8(e.message));
    NOTIFY_ASSERT(path_is_under_envelope(e.path));
  }
  // A syntax error stands alone: nothing after it can be trusted.
  if (errors.front().code == Errc::invalid_json || errors.front().code == Errc::too_deep)
    NOTIFY_ASSERT(errors.size() == 1);
}

/// Limits far below the defaults, still large enough for every type's shape.
notify::Limits tight_limits() {
  notify::Limits l;
  l.max_depth = 4;
  l.max_text_bytes = 16;
  l.max_items = 2;
  l.max_request_id_bytes = 8;
  return l;
}

void check_request(std::string_view input, const notify::Request& request) {
  NOTIFY_ASSERT(notify::validate(request).empty());

  const std::string wire = notify::encode(request);
  NOTIFY_ASSERT(notify::is_valid_utf8(wire));
  NOTIFY_ASSERT(wire.size() <= input.size());  // encode never writes more than it was given

  const auto again = notify::decode(wire);
  NOTIFY_ASSERT(again.has_value());
  NOTIFY_ASSERT(*again == request);
  NOTIFY_ASSERT(notify::encode(*again) == wire);

  // The nlohmann conversions agree with the hand-written codec.
  const auto j = nlohmann::json::parse(wire, nullptr, false);
  NOTIFY_ASSERT(!j.is_discarded());
  NOTIFY_ASSERT(j.get<notify::Request>() == request);
  NOTIFY_ASSERT(nlohmann::json(request) == j);
}

void check_split(const notify::Request& request) {
  const std::string group = notify::message_group(request);
  NOTIFY_ASSERT(!group.empty() && group.size() <= 128);
  const std::vector<notify::Id> families = notify::families_of(request);
  for (std::size_t max : {std::size_t{1}, std::size_t{2}, std::size_t{7}}) {
    const auto parts = notify::split_by_families(request, max);
    NOTIFY_ASSERT(!parts.empty());
    if (parts.size() == 1) {
      NOTIFY_ASSERT(parts.front() == request);
      continue;
    }
    std::vector<notify::Id> seen;
    for (const notify::Request& part : parts) {
      NOTIFY_ASSERT(part.type() == request.type());
      NOTIFY_ASSERT(notify::validate(part).empty());
      NOTIFY_ASSERT(request.id.empty() == part.id.empty());
      const auto mine = notify::families_of(part);
      NOTIFY_ASSERT(!mine.empty() && mine.size() <= max);
      seen.insert(seen.end(), mine.begin(), mine.end());
    }
    std::sort(seen.begin(), seen.end());
    NOTIFY_ASSERT(std::adjacent_find(seen.begin(), seen.end()) == seen.end());  // one part per family
    NOTIFY_ASSERT(seen == families);
  }
}

void check_member(std::string_view input) {
  const auto member = notify::parse_member(7, input);
  if (!member) {
    NOTIFY_ASSERT(member.error().code == Errc::invalid_member);
    NOTIFY_ASSERT(member.error().path == "user:7");
    return;
  }
  NOTIFY_ASSERT(member->userId == 7);
  NOTIFY_ASSERT(notify::is_valid_utf8(member->fcm_token()));
  const std::string stored = notify::encode_member(*member);
  NOTIFY_ASSERT(notify::is_valid_utf8(stored));
  const auto again = notify::parse_member(7, stored);
  NOTIFY_ASSERT(again.has_value());
  // A stored name with invalid UTF-8 is kept as read; writing it back replaces the bad
  // bytes with U+FFFD, after which the value is stable.
  // What could not be read (a problem, unreadable consent) was left out, so is not written
  // back: the value read again is the one without it.
  notify::Member readable = *member;
  readable.problems.clear();
  if (readable.consent.unreadable) readable.consent = {};
  if (notify::is_valid_utf8(member->userName)) NOTIFY_ASSERT(*again == readable);
  NOTIFY_ASSERT(again->fcm_token() == member->fcm_token() && again->mktPushAgreed == member->mktPushAgreed);
  NOTIFY_ASSERT(notify::is_valid_utf8(again->userName));
  NOTIFY_ASSERT(notify::encode_member(*again) == stored);
}

bool has_unwanted(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    char32_t cp = 0;
    const std::size_t n = notify::detail::decode_utf8(s, i, cp);
    if (n == 0 || notify::detail::is_unwanted(cp)) return true;
    i += n;
  }
  return false;
}

void check_text(std::string_view input) {
  const std::string clean = notify::clean_text(input);
  NOTIFY_ASSERT(notify::is_valid_utf8(clean));
  NOTIFY_ASSERT(!has_unwanted(clean));
  NOTIFY_ASSERT(notify::clean_text(clean) == clean);

  const std::string preview = notify::clean_text(input, 10);
  if (notify::utf8_length(clean) <= 10) {
    NOTIFY_ASSERT(preview == clean);
  } else {  // cut: the first 10 code points of the clean text, then "..."
    NOTIFY_ASSERT(notify::utf8_length(preview) == 13);
    NOTIFY_ASSERT(preview.compare(preview.size() - 3, 3, "...") == 0);
    NOTIFY_ASSERT(clean.compare(0, preview.size() - 3, preview, 0, preview.size() - 3) == 0);
  }

  const std::string_view cut = notify::utf8_prefix(clean, input.size() / 2);
  NOTIFY_ASSERT(cut.size() <= input.size() / 2 || cut.size() == clean.size());
  NOTIFY_ASSERT(notify::is_valid_utf8(cut));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  const auto decoded = notify::decode(input);
  if (decoded) {
    check_request(input, *decoded);
    check_split(*decoded);
  }
  else check_errors(decoded.error());

  const notify::Limits tight = tight_limits();
  const auto strict = notify::decode(input, tight);
  if (strict) {
    NOTIFY_ASSERT(decoded.has_value());
    NOTIFY_ASSERT(*strict == *decoded);
    NOTIFY_ASSERT(notify::validate(*strict, tight).empty());
  } else {
    check_errors(strict.error());
  }

  check_member(input);
  check_text(input);
  return 0;
}
