// Key128: a stable 128-bit hash of a limit key (e.g. "per-consumer|standard|<consumer id>").
//
// The hash must give the same value in every worker process and on every Kong node (it names shared-memory
// slots and Redis keys), so absl::Hash is out (it is seeded per process), and absl's CityHash only offers 32 and
// 64 bits in this version. This is MurmurHash3_x64_128 (public domain, Austin Appleby) with a fixed seed: short,
// well studied, and allocation-free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace guard::quota {

struct Key128 {
  uint64_t lo = 0;
  uint64_t hi = 0;
  bool operator==(const Key128& o) const { return lo == o.lo && hi == o.hi; }
};

inline constexpr uint32_t kKeySeed = 0x9e3779b9u;

Key128 Hash128(const void* data, size_t len, uint32_t seed = kKeySeed);
inline Key128 Hash128(std::string_view s) { return Hash128(s.data(), s.size()); }

// 32 lowercase hex digits (hi then lo), written to out[0..32); for Redis key names and logs.
void ToHex(const Key128& k, char out[32]);

}  // namespace guard::quota
