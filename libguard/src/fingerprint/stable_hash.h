// A small seeded 128-bit hash whose value never changes between processes, runs, hosts or releases.
//
// Fingerprints are compared across nginx workers and nodes (via Redis) and stored in warm files, so the
// hash must be a pure function of the bytes: absl::Hash and std::hash are seeded per process and are no
// use here. Two independent 64-bit lanes built from the xxHash64 round (bijective in the state for a
// fixed input word, so no input can "reset" a lane), finished by a murmur3-style avalanche that mixes
// the lanes into each other. It is not a cryptographic hash: nothing that depends on it for safety may
// trust it against a determined attacker (see docs/fingerprint.md, "Collisions").
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace guard::fingerprint {

struct Hash128 {
  uint64_t lo = 0;
  uint64_t hi = 0;
  friend bool operator==(const Hash128&, const Hash128&) = default;
  friend bool operator<(const Hash128& a, const Hash128& b) {
    return a.hi != b.hi ? a.hi < b.hi : a.lo < b.lo;
  }
  std::string Hex() const;  // 32 lowercase hex digits, hi then lo
};

// Streaming hasher. Every Add is length-prefixed, so Add("ab"),Add("c") and Add("a"),Add("bc") differ:
// callers can feed structured data field by field without inventing separators.
class StableHasher {
 public:
  // Changing the default seed changes every fingerprint ever stored: bump docs/fingerprint.md's version.
  static constexpr uint64_t kDefaultSeed = 0x6b67756172642d31ULL;  // "kguard-1"

  explicit StableHasher(uint64_t seed = kDefaultSeed);
  void Add(std::string_view bytes);
  void AddU64(uint64_t v);
  Hash128 Finish() const;

 private:
  void Word(uint64_t w);
  uint64_t a_, b_;
  uint64_t words_ = 0;
};

inline Hash128 StableHash128(std::string_view bytes, uint64_t seed = StableHasher::kDefaultSeed) {
  StableHasher h(seed);
  h.Add(bytes);
  return h.Finish();
}

// 64-bit convenience (the low lane of the 128-bit hash), for sketches and table keys.
inline uint64_t StableHash64(std::string_view bytes, uint64_t seed = StableHasher::kDefaultSeed) {
  return StableHash128(bytes, seed).lo;
}

}  // namespace guard::fingerprint
