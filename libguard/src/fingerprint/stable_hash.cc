// Two xxHash64-round lanes + avalanche; see stable_hash.h for why not absl::Hash.
#include "fingerprint/stable_hash.h"

namespace guard::fingerprint {
namespace {

constexpr uint64_t kP1 = 0x9E3779B185EBCA87ULL;  // xxHash64 primes
constexpr uint64_t kP2 = 0xC2B2AE3D27D4EB4FULL;
constexpr uint64_t kP3 = 0x165667B19E3779F9ULL;
constexpr uint64_t kP4 = 0x85EBCA77C2B2AE63ULL;
constexpr uint64_t kP5 = 0x27D4EB2F165667C5ULL;

inline uint64_t Rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

inline uint64_t Avalanche(uint64_t x) {  // murmur3 fmix64
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

inline uint64_t LoadLe64(const char* p) {
  // Little-endian by definition, whatever the host, so that the value is the same everywhere.
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

}  // namespace

StableHasher::StableHasher(uint64_t seed) : a_(seed + kP1), b_(Rotl(seed, 32) ^ kP2) {}

void StableHasher::Word(uint64_t w) {
  // Lane a: the xxHash64 round. Lane b: the same round on a differently scrambled word, with other
  // constants, so that a collision in one lane is independent of the other.
  a_ = Rotl(a_ + w * kP2, 31) * kP1;
  b_ = Rotl(b_ + Rotl(w, 29) * kP4, 27) * kP3;
  ++words_;
}

void StableHasher::Add(std::string_view bytes) {
  Word(bytes.size() ^ kP5);
  const char* p = bytes.data();
  size_t n = bytes.size();
  while (n >= 8) {
    Word(LoadLe64(p));
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    char tail[8] = {0};
    std::memcpy(tail, p, n);
    Word(LoadLe64(tail));
  }
}

void StableHasher::AddU64(uint64_t v) {
  Word(0x7575 ^ kP5);  // a distinct tag so that AddU64(x) never equals an Add() of 8 bytes
  Word(v);
}

Hash128 StableHasher::Finish() const {
  uint64_t a = a_ ^ (words_ * kP5);
  uint64_t b = b_ ^ Rotl(words_ * kP1, 17);
  a = Avalanche(a + Rotl(b, 23));
  b = Avalanche(b ^ (a * kP3));
  return Hash128{a, b};
}

std::string Hash128::Hex() const {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(32, '0');
  for (int i = 0; i < 16; ++i) {
    out[15 - i] = kDigits[(hi >> (4 * i)) & 0xf];
    out[31 - i] = kDigits[(lo >> (4 * i)) & 0xf];
  }
  return out;
}

}  // namespace guard::fingerprint
