// SPDX-License-Identifier: MIT
// Private to notify::http2: the memory of a pool's nghttp2 sessions.
#pragma once

#include <nghttp2/nghttp2.h>

#include <array>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>

namespace notify::http2::detail {

/// Small blocks kept once freed and handed out again, last freed first, for one thread.
///
/// nghttp2 allocates a few small objects for every request (the stream, its frames, the
/// answer's header buffers) and frees them when the stream ends. With a hundred streams
/// ending together these overflow glibc's per-thread cache (7 chunks per size), and the
/// rest goes through malloc's bins, which costs several times as much. Here a block of up
/// to 512 bytes goes back to a list of its size class (16-byte steps); larger ones, and
/// those beyond `max_kept` in a class, go to malloc. A class keeps no more than it once
/// had in use, so nothing is held that was not already resident.
class Blocks {
 public:
  static constexpr std::size_t step = 16;
  static constexpr std::size_t max_small = 512;
  static constexpr std::size_t max_kept = 4096;  ///< freed blocks a class keeps

  Blocks() = default;
  Blocks(const Blocks&) = delete;
  Blocks& operator=(const Blocks&) = delete;
  ~Blocks() {
    for (Free* f : free_)
      while (f) {
        Free* next = f->next;
        std::free(reinterpret_cast<Head*>(f) - 1);
        f = next;
      }
  }

  /// Null when out of memory, as malloc.
  void* allocate(std::size_t n) noexcept {
    const std::size_t size = n <= max_small ? rounded(n) : n;
    if (size <= max_small) {
      const std::size_t c = size / step - 1;
      if (Free* f = free_[c]) {
        free_[c] = f->next;
        --kept_[c];
        return f;
      }
    }
    if (size > std::numeric_limits<std::size_t>::max() - sizeof(Head)) return nullptr;
    auto* h = static_cast<Head*>(std::malloc(sizeof(Head) + size));
    if (!h) return nullptr;
    h->size = size;
    return h + 1;
  }

  void release(void* p) noexcept {
    if (!p) return;
    Head* h = static_cast<Head*>(p) - 1;
    if (h->size <= max_small) {
      const std::size_t c = h->size / step - 1;
      if (kept_[c] < max_kept) {
        free_[c] = ::new (p) Free{free_[c]};
        ++kept_[c];
        return;
      }
    }
    std::free(h);
  }

  void* zeroed(std::size_t count, std::size_t size) noexcept {
    if (size != 0 && count > std::numeric_limits<std::size_t>::max() / size) return nullptr;
    void* p = allocate(count * size);
    if (p) std::memset(p, 0, count * size);
    return p;
  }

  /// As realloc; a size of 0 frees the block and returns null.
  void* resize(void* p, std::size_t n) noexcept {
    if (!p) return allocate(n);
    if (n == 0) {
      release(p);
      return nullptr;
    }
    const std::size_t had = (static_cast<Head*>(p) - 1)->size;
    if (n <= had) return p;
    void* q = allocate(n);
    if (!q) return nullptr;
    std::memcpy(q, p, had);
    release(p);
    return q;
  }

  /// For nghttp2_session_client_new3; valid while this object is.
  nghttp2_mem* mem() noexcept { return &mem_; }

  /// Freed blocks held, over all classes (for tests).
  std::size_t kept() const noexcept {
    std::size_t n = 0;
    for (std::size_t k : kept_) n += k;
    return n;
  }

 private:
  /// Before each block: its usable size (a class's size for small blocks). 16 bytes, so
  /// the block keeps malloc's alignment.
  struct alignas(16) Head {
    std::size_t size;
  };
  static_assert(alignof(std::max_align_t) <= alignof(Head), "a block must keep malloc's alignment");
  struct Free {
    Free* next;
  };
  static constexpr std::size_t classes = max_small / step;

  static constexpr std::size_t rounded(std::size_t n) noexcept { return n == 0 ? step : (n + step - 1) / step * step; }

  std::array<Free*, classes> free_{};
  std::array<std::size_t, classes> kept_{};
  nghttp2_mem mem_{this,
                   [](std::size_t n, void* self) { return static_cast<Blocks*>(self)->allocate(n); },
                   [](void* p, void* self) { static_cast<Blocks*>(self)->release(p); },
                   [](std::size_t count, std::size_t n, void* self) { return static_cast<Blocks*>(self)->zeroed(count, n); },
                   [](void* p, std::size_t n, void* self) { return static_cast<Blocks*>(self)->resize(p, n); }};
};

}  // namespace notify::http2::detail
