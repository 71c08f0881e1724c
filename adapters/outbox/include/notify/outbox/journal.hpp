// SPDX-License-Identifier: MIT
#pragma once

/// The outbox journal's on-disk format, as pure functions over bytes (no I/O): records
/// framed by a marker, a length and a CRC-32C, and a scanner that finds the requests
/// still to send, cuts a torn tail and reports (and skips) damaged records in the middle.
///
/// File: the 8 bytes "NTFYOBX1", then records. Record (little-endian):
///   u32 marker 0x4e42584f | u32 n = size of kind+payload | u32 crc32c(kind+payload) |
///   u8 kind | payload (n-1 bytes)
/// kind 1, a request: u64 seq | i64 enqueued_ms | u8 priority | u16 queue size | queue |
///   body (the rest: the encoded request exactly as it is sent).
/// kind 2, an acknowledgement: u64 seq (every request up to it was accepted by its queue).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace notify::outbox {

/// The first bytes of every journal file (format version 1).
inline constexpr std::string_view file_magic = "NTFYOBX1";
/// The first four bytes of every record (where a scan resynchronises after damage).
inline constexpr std::uint32_t record_marker = 0x4e42584fu;
/// Bytes before a record's kind: marker, size, checksum.
inline constexpr std::size_t record_header_bytes = 12;
/// The largest record the scanner accepts (a bigger size field is damage).
inline constexpr std::uint32_t max_record_bytes = 16u << 20;

/// CRC-32C (Castagnoli, as iSCSI and ext4 use), continuing from `crc` (0 to start).
std::uint32_t crc32c(std::string_view data, std::uint32_t crc = 0) noexcept;

/// One request kept in the outbox.
struct Entry {
  std::uint64_t seq = 0;          ///< 1, 2, ... in the order of appending
  std::int64_t enqueued_ms = 0;   ///< when it was appended (ms since 1970)
  std::uint8_t priority = 0;      ///< 0 normal, 1 high (Redis queues)
  std::string queue;              ///< the destination as given (may hold a password: never print as is)
  std::string body;               ///< the encoded request, exactly as it is to be sent
  std::uint64_t offset = 0;       ///< where its record starts in the journal
};

/// A request record's bytes.
std::string encode_entry(const Entry& e);
/// An acknowledgement record's bytes: every request up to `seq` is in its queue.
std::string encode_ack(std::uint64_t seq);

/// A stretch of the journal that held no readable record, between two good ones.
struct Damage {
  std::uint64_t offset = 0;  ///< where it starts
  std::uint64_t bytes = 0;   ///< how long it is
};

/// What a scan of a journal found.
struct Scan {
  bool bad_header = false;            ///< the file does not start with file_magic (nothing else read)
  std::vector<Entry> entries;         ///< requests not acknowledged, in order
  std::uint64_t acked_through = 0;    ///< the highest acknowledged seq
  std::uint64_t last_seq = 0;         ///< the highest seq of any readable request record
  std::uint64_t valid_end = 0;        ///< the end of the last readable record (where appends go)
  std::uint64_t torn_bytes = 0;       ///< bytes after valid_end that hold no record (a torn tail)
  std::vector<Damage> damaged;        ///< unreadable stretches between readable records (skipped)
};

/// Reads a whole journal's bytes. An empty input is a new journal (valid_end 0).
Scan scan(std::string_view file);

}  // namespace notify::outbox
