// SPDX-License-Identifier: MIT
// The blocks a pool's nghttp2 sessions allocate from (notify::http2, private).
#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "blocks.hpp"

using notify::http2::detail::Blocks;

namespace {
bool aligned(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % alignof(std::max_align_t) == 0; }
}  // namespace

TEST_CASE("http2 blocks: a freed small block is handed out again for any size of its class (last freed first)") {
  Blocks b;
  void* p = b.allocate(40);
  void* q = b.allocate(40);
  REQUIRE(p);
  REQUIRE(q);
  CHECK(aligned(p));
  CHECK(aligned(q));
  std::memset(p, 0xab, 40);
  b.release(p);
  b.release(q);
  CHECK(b.kept() == 2);
  CHECK(b.allocate(33) == q);  // 33..48 bytes: the same class
  CHECK(b.allocate(48) == p);
  CHECK(b.kept() == 0);
  void* next_class = b.allocate(49);  // 49..64 bytes: a new block
  CHECK(next_class != p);
  b.release(next_class);
  b.release(p);
  b.release(q);
}

TEST_CASE("http2 blocks: large blocks and zero sizes") {
  Blocks b;
  void* big = b.allocate(Blocks::max_small + 1);
  REQUIRE(big);
  CHECK(aligned(big));
  std::memset(big, 1, Blocks::max_small + 1);
  b.release(big);
  CHECK(b.kept() == 0);  // went back to malloc
  void* none = b.allocate(0);
  REQUIRE(none);  // a real block, as malloc(0) may give
  b.release(none);
  b.release(nullptr);
  CHECK(b.kept() == 1);
  CHECK(b.allocate(static_cast<std::size_t>(-1)) == nullptr);
}

TEST_CASE("http2 blocks: zeroed and resized blocks keep their contents") {
  Blocks b;
  auto* z = static_cast<unsigned char*>(b.zeroed(10, 7));
  REQUIRE(z);
  for (int i = 0; i < 70; ++i) CHECK(z[i] == 0);
  CHECK(b.zeroed(std::size_t{1} << 62, 8) == nullptr);  // the product overflows
  for (int i = 0; i < 70; ++i) z[i] = static_cast<unsigned char>(i);
  CHECK(b.resize(z, 80) == z);  // 70 rounds up to 80: still fits
  auto* grown = static_cast<unsigned char*>(b.resize(z, 2000));
  REQUIRE(grown);
  for (int i = 0; i < 70; ++i) CHECK(grown[i] == i);
  auto* fresh = static_cast<unsigned char*>(b.resize(nullptr, 16));
  REQUIRE(fresh);
  CHECK(b.resize(fresh, 0) == nullptr);  // freed
  CHECK(b.resize(grown, 0) == nullptr);
}

TEST_CASE("http2 blocks: a class keeps at most max_kept freed blocks and the rest go back to malloc") {
  Blocks b;
  std::vector<void*> many;
  for (std::size_t i = 0; i < Blocks::max_kept + 10; ++i) many.push_back(b.allocate(100));
  for (void* p : many) b.release(p);
  CHECK(b.kept() == Blocks::max_kept);
}

TEST_CASE("http2 blocks: nghttp2's allocator calls reach the blocks") {
  Blocks b;
  nghttp2_mem* mem = b.mem();
  void* p = mem->malloc(64, mem->mem_user_data);
  REQUIRE(p);
  mem->free(p, mem->mem_user_data);
  CHECK(b.kept() == 1);
  auto* z = static_cast<char*>(mem->calloc(4, 16, mem->mem_user_data));
  CHECK(z == p);
  CHECK(z[63] == 0);
  void* r = mem->realloc(z, 1000, mem->mem_user_data);
  REQUIRE(r);
  mem->free(r, mem->mem_user_data);
}
