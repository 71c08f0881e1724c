// SPDX-License-Identifier: MIT
// detail::Claims, the engine's table of which held record makes each delivery: checked
// against std::unordered_map over many claims and releases (growth, probe chains that
// wrap around the end of the table, holes filled by backward shifts).

#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "notify/detail/claims.hpp"

using notify::detail::Claims;

TEST_CASE("claims: a key is claimed once, released by its holder, and free again afterwards") {
  Claims c;
  CHECK(c.owner("e:1:00ff") == 0);
  CHECK(c.claim("e:1:00ff", 7));
  CHECK_FALSE(c.claim("e:1:00ff", 8));  // another flight: already made by 7
  CHECK(c.owner("e:1:00ff") == 7);
  CHECK(c.contains("e:1:00ff"));
  CHECK_FALSE(c.contains("e:1:00fe"));

  c.release("e:1:00ff", 8);  // not its holder: nothing happens
  CHECK(c.owner("e:1:00ff") == 7);
  c.release("e:1:00ff", 7);
  CHECK(c.owner("e:1:00ff") == 0);
  CHECK(c.size() == 0);

  CHECK(c.claim("e:1:00ff", 8));
  c.release("e:1:00ff");  // any holder
  CHECK_FALSE(c.contains("e:1:00ff"));
}

TEST_CASE("claims: the same answers as a map over many claims and releases") {
  Claims c;
  std::unordered_map<std::string, std::uint64_t> model;
  std::mt19937_64 rng(12345);
  std::vector<std::string> keys;
  for (int i = 0; i < 6000; ++i) keys.push_back("q:" + std::to_string(i * 7919) + ":inbox:" + std::to_string(i));
  for (int round = 0; round < 60000; ++round) {
    const std::string& k = keys[rng() % keys.size()];
    const std::uint64_t flight = 1 + rng() % 50;
    switch (rng() % 3) {
      case 0: {
        const bool free = !model.contains(k);
        CHECK(c.claim(k, flight) == free);
        if (free) model[k] = flight;
        break;
      }
      case 1:
        c.release(k, flight);
        if (auto it = model.find(k); it != model.end() && it->second == flight) model.erase(it);
        break;
      default:
        c.release(k);
        model.erase(k);
    }
    if (round % 5000 == 0) {
      CHECK(c.size() == model.size());
      for (const std::string& key : keys) {
        auto it = model.find(key);
        REQUIRE(c.owner(key) == (it == model.end() ? 0 : it->second));
      }
    }
  }
  // Fill past several growths, then empty it again.
  for (const std::string& k : keys) c.claim(k, 99);
  CHECK(c.size() == keys.size());
  for (const std::string& k : keys) c.release(k, c.owner(k));
  CHECK(c.size() == 0);
  for (const std::string& k : keys) CHECK_FALSE(c.contains(k));
}
