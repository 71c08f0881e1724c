// SPDX-License-Identifier: MIT
#pragma once

/// Keys mapped to owners: for the engine, which held record makes each delivery (delivery
/// keys to flight ids: a request received twice makes each push once); for the planner, a
/// set of the tokens a message goes to (one owner for all). Kept by a 128-bit fingerprint
/// of the key (two independent 64-bit hashes) in one flat open-addressing array, so that
/// claiming and releasing a key, once per push, copies no key and allocates nothing. Two
/// different keys share a fingerprint with a probability of about n² / 2^129 for n keys
/// held at once: for the few thousand a worker holds, never in practice.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string_view>
#include <vector>

namespace notify::detail {

class Claims {
 public:
  /// The flight making `key`, or 0 when none does.
  std::uint64_t owner(std::string_view key) const noexcept {
    const std::size_t i = find(fingerprint(key));
    return i == npos ? 0 : table_[i].flight;
  }
  bool contains(std::string_view key) const noexcept { return owner(key) != 0; }

  /// Claims `key` for `flight` (not 0) unless a flight holds it already; true if it did not.
  bool claim(std::string_view key, std::uint64_t flight) {
    const Fingerprint fp = fingerprint(key);
    if (find(fp) != npos) return false;
    if ((size_ + 1) * 2 > table_.size()) grow();
    std::size_t i = fp.a & mask();
    while (table_[i].flight != 0) i = (i + 1) & mask();
    table_[i] = Entry{fp.a, fp.b, flight};
    ++size_;
    return true;
  }

  /// Releases `key` when `flight` holds it; any holder's claim when `flight` is 0.
  void release(std::string_view key, std::uint64_t flight = 0) noexcept {
    const std::size_t i = find(fingerprint(key));
    if (i != npos && (flight == 0 || table_[i].flight == flight)) erase_at(i);
  }

  std::size_t size() const noexcept { return size_; }

 private:
  struct Fingerprint {
    std::uint64_t a = 0, b = 0;
  };
  struct Entry {
    std::uint64_t a = 0, b = 0;
    std::uint64_t flight = 0;  // 0: a free place
  };
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  static Fingerprint fingerprint(std::string_view key) noexcept {
    return {std::hash<std::string_view>{}(key), words_hash(key)};
  }

  /// The second hash: eight bytes at a time, each word mixed in by a multiply and a fold.
  static std::uint64_t words_hash(std::string_view s) noexcept {
    constexpr std::uint64_t m = 0x9fb21c651e98df25ull;
    std::uint64_t h = 0x2545f4914f6cdd1dull ^ (s.size() * m);
    std::size_t i = 0;
    const auto mix = [&](std::uint64_t w) {
      h = (h ^ w) * m;
      h ^= h >> 29;
    };
    for (; i + 8 <= s.size(); i += 8) {
      std::uint64_t w = 0;
      std::memcpy(&w, s.data() + i, 8);
      mix(w);
    }
    std::uint64_t tail = 0;
    if (i < s.size()) std::memcpy(&tail, s.data() + i, s.size() - i);
    mix(tail);
    return h;
  }
  std::size_t mask() const noexcept { return table_.size() - 1; }

  std::size_t find(const Fingerprint& fp) const noexcept {
    if (size_ == 0) return npos;
    for (std::size_t i = fp.a & mask();; i = (i + 1) & mask()) {
      const Entry& e = table_[i];
      if (e.flight == 0) return npos;
      if (e.a == fp.a && e.b == fp.b) return i;
    }
  }

  // Linear probing with backward shifts: an entry after the freed place moves into it
  // when its home is not between the two, so every probe sequence stays unbroken.
  void erase_at(std::size_t hole) noexcept {
    for (std::size_t j = (hole + 1) & mask(); table_[j].flight != 0; j = (j + 1) & mask()) {
      const std::size_t home = table_[j].a & mask();
      const bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
      if (stays) continue;
      table_[hole] = table_[j];
      hole = j;
    }
    table_[hole] = Entry{};
    --size_;
  }

  void grow() {
    std::vector<Entry> old(table_.empty() ? 1024 : table_.size() * 2);
    old.swap(table_);
    for (const Entry& e : old) {
      if (e.flight == 0) continue;
      std::size_t i = e.a & mask();
      while (table_[i].flight != 0) i = (i + 1) & mask();
      table_[i] = e;
    }
  }

  std::vector<Entry> table_;  // a power of two long (or empty), at most half full
  std::size_t size_ = 0;
};

}  // namespace notify::detail
