// SPDX-License-Identifier: MIT
#pragma once

/// A small non-cryptographic digest for keys and names (idempotency keys, FIFO message
/// groups, split request ids), apart so producers need not include the planner.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace notify {

/// A 64-bit FNV-1a digest of a sequence of strings, each followed by a separator, so
/// "ab"+"c" and "a"+"bc" differ. Not cryptographic: for keys and names only.
class Digest64 {
 public:
  constexpr Digest64& add(std::string_view s) noexcept {
    for (unsigned char c : s) h_ = (h_ ^ c) * prime;
    h_ = (h_ ^ 0xFF) * prime;
    return *this;
  }
  constexpr std::uint64_t value() const noexcept { return h_; }

 private:
  static constexpr std::uint64_t prime = 0x100000001b3ull;
  std::uint64_t h_ = 0xcbf29ce484222325ull;
};

/// Appends 16 lower-case hex digits.
inline void append_hex64(std::string& out, std::uint64_t v) {
  static constexpr char digits[] = "0123456789abcdef";
  char s[16];
  for (int i = 15; i >= 0; --i, v >>= 4) s[i] = digits[v & 0xF];
  out.append(s, sizeof s);
}

/// 16 lower-case hex digits.
inline std::string hex64(std::uint64_t v) {
  std::string s;
  append_hex64(s, v);
  return s;
}

}  // namespace notify
