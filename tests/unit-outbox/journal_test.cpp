// SPDX-License-Identifier: MIT
// The journal format as bytes: round trips, acknowledgements, a torn tail, damage in the
// middle (skipped and reported), and the CRC-32C check value.

#include <doctest/doctest.h>

#include <string>

#include "notify/outbox/journal.hpp"

namespace ob = notify::outbox;

namespace {

ob::Entry entry(std::uint64_t seq, std::string body) {
  return ob::Entry{seq, 1700000000000 + static_cast<std::int64_t>(seq), 0, "redis://127.0.0.1:6379/notify", std::move(body), 0};
}

std::string journal_of(int n) {
  std::string f(ob::file_magic);
  for (int i = 1; i <= n; ++i) f += ob::encode_entry(entry(static_cast<std::uint64_t>(i), "{\"id\":\"r-" + std::to_string(i) + "\"}"));
  return f;
}

}  // namespace

TEST_CASE("crc32c gives the standard check value for 123456789") {
  CHECK(ob::crc32c("123456789") == 0xe3069283u);
  CHECK(ob::crc32c("") == 0u);
  CHECK(ob::crc32c("6789", ob::crc32c("12345")) == 0xe3069283u);
}

TEST_CASE("a journal of requests reads back in order with every field") {
  std::string f(ob::file_magic);
  ob::Entry high{7, 42, 1, "redis://:secret@h:1/s", std::string("{\"a\":\"\0b\"}", 11), 0};
  f += ob::encode_entry(entry(5, "{}"));
  f += ob::encode_entry(high);
  const ob::Scan s = ob::scan(f);
  REQUIRE(s.entries.size() == 2);
  CHECK(s.entries[0].seq == 5);
  CHECK(s.entries[0].offset == ob::file_magic.size());
  CHECK(s.entries[1].seq == 7);
  CHECK(s.entries[1].enqueued_ms == 42);
  CHECK(s.entries[1].priority == 1);
  CHECK(s.entries[1].queue == "redis://:secret@h:1/s");
  CHECK(s.entries[1].body == high.body);
  CHECK(s.last_seq == 7);
  CHECK(s.valid_end == f.size());
  CHECK(s.torn_bytes == 0);
  CHECK(s.damaged.empty());
}

TEST_CASE("an empty input is a new journal and a foreign file is refused") {
  CHECK(ob::scan("").valid_end == 0);
  CHECK(ob::scan("NTFY").valid_end == 0);  // a header cut short by a crash
  CHECK(ob::scan("NTFY").torn_bytes == 4);
  CHECK(ob::scan("hello, world").bad_header);
  CHECK(ob::scan(ob::file_magic).valid_end == ob::file_magic.size());
}

TEST_CASE("acknowledged requests are not pending any more") {
  std::string f = journal_of(4);
  f += ob::encode_ack(2);
  const ob::Scan s = ob::scan(f);
  REQUIRE(s.entries.size() == 2);
  CHECK(s.entries[0].seq == 3);
  CHECK(s.acked_through == 2);
  CHECK(ob::scan(f + ob::encode_ack(4)).entries.empty());
}

TEST_CASE("a torn tail is found at every cut of the last record") {
  const std::string whole = journal_of(3);
  const std::size_t last = ob::scan(whole).entries.back().offset;
  for (std::size_t cut = last; cut < whole.size(); ++cut) {
    CAPTURE(cut);
    const ob::Scan s = ob::scan(std::string_view(whole).substr(0, cut));
    CHECK(s.entries.size() == 2);
    CHECK(s.valid_end == last);
    CHECK(s.torn_bytes == cut - last);
    CHECK(s.damaged.empty());
  }
}

TEST_CASE("a damaged record in the middle is skipped and reported, the rest read") {
  const std::string whole = journal_of(5);
  const auto entries = ob::scan(whole).entries;
  const std::size_t third = entries[2].offset, fourth = entries[3].offset;
  SUBCASE("a flipped byte in its body") {
    std::string f = whole;
    f[fourth - 3] ^= 0x20;
    const ob::Scan s = ob::scan(f);
    REQUIRE(s.entries.size() == 4);
    CHECK(s.entries[2].seq == 4);
    REQUIRE(s.damaged.size() == 1);
    CHECK(s.damaged[0].offset == third);
    CHECK(s.damaged[0].bytes == fourth - third);
    CHECK(s.valid_end == whole.size());
  }
  SUBCASE("its size field overwritten") {
    std::string f = whole;
    f[third + 4] = '\x7f';
    f[third + 6] = '\x7f';
    const ob::Scan s = ob::scan(f);
    CHECK(s.entries.size() == 4);
    REQUIRE(s.damaged.size() == 1);
    CHECK(s.damaged[0].offset == third);
  }
  SUBCASE("zeros over two records") {
    std::string f = whole;
    for (std::size_t i = entries[1].offset; i < fourth; ++i) f[i] = 0;
    const ob::Scan s = ob::scan(f);
    REQUIRE(s.entries.size() == 3);
    CHECK(s.entries[1].seq == 4);
    REQUIRE(s.damaged.size() == 1);
    CHECK(s.damaged[0].bytes == fourth - entries[1].offset);
  }
}

TEST_CASE("a record with a size field past the limit is damage, not an allocation") {
  std::string f = journal_of(1);
  f += std::string("\x4f\x58\x42\x4e\xff\xff\xff\xff\0\0\0\0\x01", 13);
  const ob::Scan s = ob::scan(f);
  CHECK(s.entries.size() == 1);
  CHECK(s.torn_bytes == 13);
}
