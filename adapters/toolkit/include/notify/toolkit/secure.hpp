// SPDX-License-Identifier: MIT
// Private to the adapters: erasing secrets from memory.
#pragma once

#include <cstddef>
#include <string>

namespace notify::toolkit {

/// Overwrites `n` bytes at `p` with zeros in a way the optimiser may not drop.
inline void secure_zero(void* p, std::size_t n) noexcept {
  volatile unsigned char* v = static_cast<volatile unsigned char*>(p);
  while (n--) *v++ = 0;
#if defined(__GNUC__) || defined(__clang__)
  __asm__ __volatile__("" : : "r"(p) : "memory");  // the writes happen before any reuse
#endif
}

/// Zeroes a secret's bytes, then empties it (its capacity is what was zeroed).
inline void wipe(std::string& secret) noexcept {
  if (!secret.empty()) secure_zero(secret.data(), secret.size());
  secret.clear();
}

}  // namespace notify::toolkit
