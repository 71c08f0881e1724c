// SPDX-License-Identifier: MIT
// The journal format: encoding and scanning, no I/O.

#include "notify/outbox/journal.hpp"

#include <array>
#include <cstring>

namespace notify::outbox {

namespace {

constexpr std::array<std::uint32_t, 256> make_crc_table() {
  std::array<std::uint32_t, 256> t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1u) ? (c >> 1) ^ 0x82f63b78u : c >> 1;  // reflected Castagnoli
    t[i] = c;
  }
  return t;
}
constexpr auto crc_table = make_crc_table();

constexpr unsigned char kind_entry = 1;
constexpr unsigned char kind_ack = 2;

template <class T>
void put(std::string& out, T v) {
  for (std::size_t i = 0; i < sizeof(T); ++i) out.push_back(static_cast<char>((static_cast<std::uint64_t>(v) >> (8 * i)) & 0xffu));
}

template <class T>
T get(std::string_view in, std::size_t at) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) v |= static_cast<std::uint64_t>(static_cast<unsigned char>(in[at + i])) << (8 * i);
  return static_cast<T>(v);
}

/// Frames kind+payload as a record.
std::string frame(const std::string& kind_and_payload) {
  std::string out;
  out.reserve(record_header_bytes + kind_and_payload.size());
  put<std::uint32_t>(out, record_marker);
  put<std::uint32_t>(out, static_cast<std::uint32_t>(kind_and_payload.size()));
  put<std::uint32_t>(out, crc32c(kind_and_payload));
  out += kind_and_payload;
  return out;
}

/// The record at `at`: its total size, or 0 when there is none readable there.
std::size_t record_at(std::string_view file, std::size_t at) {
  if (file.size() - at < record_header_bytes + 1) return 0;
  if (get<std::uint32_t>(file, at) != record_marker) return 0;
  const auto n = get<std::uint32_t>(file, at + 4);
  if (n == 0 || n > max_record_bytes || n > file.size() - at - record_header_bytes) return 0;
  if (crc32c(file.substr(at + record_header_bytes, n)) != get<std::uint32_t>(file, at + 8)) return 0;
  return record_header_bytes + n;
}

/// Reads a checked record's content; false when its kind or layout is unknown.
bool read_record(std::string_view rec, std::uint64_t offset, Scan& out) {
  const auto kind = static_cast<unsigned char>(rec[0]);
  std::string_view p = rec.substr(1);
  if (kind == kind_ack) {
    if (p.size() != 8) return false;
    const auto seq = get<std::uint64_t>(p, 0);
    if (seq > out.acked_through) out.acked_through = seq;
    return true;
  }
  if (kind != kind_entry || p.size() < 8 + 8 + 1 + 2) return false;
  Entry e;
  e.seq = get<std::uint64_t>(p, 0);
  e.enqueued_ms = get<std::int64_t>(p, 8);
  e.priority = static_cast<std::uint8_t>(p[16]);
  const auto qn = get<std::uint16_t>(p, 17);
  if (p.size() < 19u + qn) return false;
  e.queue.assign(p.substr(19, qn));
  e.body.assign(p.substr(19 + qn));
  e.offset = offset;
  if (e.seq > out.last_seq) out.last_seq = e.seq;
  out.entries.push_back(std::move(e));
  return true;
}

}  // namespace

std::uint32_t crc32c(std::string_view data, std::uint32_t crc) noexcept {
  crc = ~crc;
  for (char ch : data) crc = crc_table[(crc ^ static_cast<unsigned char>(ch)) & 0xffu] ^ (crc >> 8);
  return ~crc;
}

std::string encode_entry(const Entry& e) {
  std::string p;
  p.reserve(1 + 19 + e.queue.size() + e.body.size());
  p.push_back(static_cast<char>(kind_entry));
  put<std::uint64_t>(p, e.seq);
  put<std::int64_t>(p, e.enqueued_ms);
  p.push_back(static_cast<char>(e.priority));
  put<std::uint16_t>(p, static_cast<std::uint16_t>(e.queue.size()));
  p += e.queue;
  p += e.body;
  return frame(p);
}

std::string encode_ack(std::uint64_t seq) {
  std::string p;
  p.push_back(static_cast<char>(kind_ack));
  put<std::uint64_t>(p, seq);
  return frame(p);
}

Scan scan(std::string_view file) {
  Scan out;
  if (file.empty()) return out;
  if (file.size() < file_magic.size() || file.substr(0, file_magic.size()) != file_magic) {
    // A crash while the file was created leaves fewer bytes than the magic: a new journal.
    if (file.size() < file_magic.size() && file_magic.substr(0, file.size()) == file) {
      out.torn_bytes = file.size();
      return out;
    }
    out.bad_header = true;
    return out;
  }
  std::size_t at = file_magic.size();
  out.valid_end = at;
  while (at < file.size()) {
    std::size_t n = record_at(file, at);
    if (n != 0 && read_record(file.substr(at + record_header_bytes, n - record_header_bytes), at, out)) {
      at += n;
      out.valid_end = at;
      continue;
    }
    // No record here: find the next readable one. None: a torn tail. One: damage between.
    std::size_t next = at + 1;
    for (; next < file.size(); ++next) {
      if (file.size() - next < record_header_bytes + 1) { next = file.size(); break; }
      if (get<std::uint32_t>(file, next) != record_marker) continue;
      const std::size_t m = record_at(file, next);
      if (m == 0) continue;
      Scan probe;  // only a record whose content reads counts as a resynchronisation point
      if (read_record(file.substr(next + record_header_bytes, m - record_header_bytes), next, probe)) break;
    }
    if (next >= file.size()) {
      out.torn_bytes = file.size() - at;
      break;
    }
    out.damaged.push_back({at, next - at});
    at = next;
  }
  // Keep only what no acknowledgement covers.
  std::erase_if(out.entries, [&](const Entry& e) { return e.seq <= out.acked_through; });
  return out;
}

}  // namespace notify::outbox
