// Transform names and Apply(): runs a chain over two reused buffers.
//
// Apply() writes each step into whichever scratch buffer does not hold the current value, so a chain of
// any length needs only the two buffers the caller keeps per worker, and allocation stops once they have
// grown to the largest field seen. A step that changes nothing leaves the current view where it is, so a
// value no transform touches is returned as a view into the input.
#include <cstdint>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "transforms/transform_impl.h"
#include "transforms/transforms.h"

namespace guard::transforms {
namespace {
using namespace internal;

struct NameEntry {
  std::string_view name;
  Transform t;
};
// CRS names first; the aliases are transforms whose CRS behaviour ours subsumes.
constexpr NameEntry kNames[] = {
    {"urlDecode", Transform::kUrlDecode},
    {"urlDecodeUni", Transform::kUrlDecodeUni},
    {"htmlEntityDecode", Transform::kHtmlEntityDecode},
    {"utf8Normalize", Transform::kUtf8Normalize},
    {"lowercase", Transform::kLowercase},
    {"compressWhitespace", Transform::kCompressWhitespace},
    {"removeComments", Transform::kRemoveComments},
    {"normalizePath", Transform::kNormalizePath},
    {"removeNulls", Transform::kRemoveNulls},
    {"base64Decode", Transform::kBase64Decode},
    {"cmdLine", Transform::kCmdLine},
    {"replaceComments", Transform::kRemoveComments},  // ours replaces a comment by a space, as this one does
    {"normalizePathWin", Transform::kNormalizePath},  // ours always folds '\' to '/'
    {"normalisePath", Transform::kNormalizePath},
};

bool Holds(const std::string& buf, std::string_view v) {
  auto p = reinterpret_cast<uintptr_t>(v.data()), b = reinterpret_cast<uintptr_t>(buf.data());
  return p >= b && p < b + buf.size();
}

}  // namespace

namespace internal {

bool HasByteIn(std::string_view s, unsigned char lo, unsigned char hi) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u >= lo && u <= hi) return true;
  }
  return false;
}

// True when `t` is certain to leave `in` unchanged: most values of most requests contain none of the
// bytes a transform acts on, and a quick look (memchr, a byte-class test) is far cheaper than running the
// transform into a buffer and comparing. False means "maybe": the transform runs as usual.
bool CannotChange(Transform t, std::string_view in) {
  const void* p = in.data();
  const size_t n = in.size();
  switch (t) {
    case Transform::kUrlDecode:
    case Transform::kUrlDecodeUni:
      return !std::memchr(p, '%', n) && !std::memchr(p, '+', n);
    case Transform::kHtmlEntityDecode:
      return !std::memchr(p, '&', n);
    case Transform::kUtf8Normalize:
      return !HasByteIn(in, 0x80, 0xFF);
    case Transform::kLowercase:
      return !HasByteIn(in, 'A', 'Z');
    case Transform::kRemoveNulls:
      return !std::memchr(p, '\0', n);
    case Transform::kCompressWhitespace:
      // Only single spaces, no other whitespace byte, no NBSP (0xA0 alone or in C2 A0).
      return !HasByteIn(in, '\t', '\r') && !std::memchr(p, 0xA0, n) && in.find("  ") == std::string_view::npos;
    case Transform::kRemoveComments:
      return !std::memchr(p, '#', n) && in.find("--") == std::string_view::npos &&
             in.find("/*") == std::string_view::npos && in.find("*/") == std::string_view::npos;
    default:
      return false;
  }
}

size_t Run(Transform t, std::string_view in, char* out) {
  switch (t) {
    case Transform::kUrlDecode: return UrlDecode(in, out, false);
    case Transform::kUrlDecodeUni: return UrlDecode(in, out, true);
    case Transform::kHtmlEntityDecode: return HtmlEntityDecode(in, out);
    case Transform::kUtf8Normalize: return Utf8Normalize(in, out);
    case Transform::kLowercase: return Lowercase(in, out);
    case Transform::kCompressWhitespace: return CompressWhitespace(in, out);
    case Transform::kRemoveComments: return RemoveComments(in, out);
    case Transform::kNormalizePath: return NormalizePath(in, out);
    case Transform::kRemoveNulls: return RemoveNulls(in, out);
    case Transform::kBase64Decode: return Base64Decode(in, out);
    case Transform::kCmdLine: return CmdLine(in, out);
    case Transform::kCount: break;
  }
  std::memmove(out, in.data(), in.size());  // unknown value: identity
  return in.size();
}

}  // namespace internal

namespace {

// Byte classes MayChange() looks for, one bit each, and the table giving each byte's classes: one OR per
// byte instead of a memchr per transform and chain step.
enum ByteClass : uint16_t {
  kPercentPlus = 1 << 0,  // % +
  kAmp = 1 << 1,
  kHigh = 1 << 2,   // >= 0x80 (incl. 0xA0, NBSP)
  kUpper = 1 << 3,  // A-Z
  kNul = 1 << 4,
  kCtrlSpace = 1 << 5,  // \t \n \v \f \r
  kSpace = 1 << 6,
  kHash = 1 << 7,
  kDash = 1 << 8,
  kStar = 1 << 9,
  kSlash = 1 << 10,
  kDot = 1 << 11,
  kBackslash = 1 << 12,
  kCmdLineChar = 1 << 13,  // " ' ^ , ;
  kParen = 1 << 14,        // (
};

struct ByteClassTable {
  uint16_t of[256] = {};
  constexpr ByteClassTable() {
    of[static_cast<unsigned char>('%')] = of[static_cast<unsigned char>('+')] = kPercentPlus;
    of[static_cast<unsigned char>('&')] = kAmp;
    for (int c = 0x80; c < 0x100; ++c) of[c] = kHigh;
    for (int c = 'A'; c <= 'Z'; ++c) of[c] = kUpper;
    of[0] = kNul;
    for (int c = '\t'; c <= '\r'; ++c) of[c] = kCtrlSpace;
    of[static_cast<unsigned char>(' ')] = kSpace;
    of[static_cast<unsigned char>('#')] = kHash;
    of[static_cast<unsigned char>('-')] = kDash;
    of[static_cast<unsigned char>('*')] = kStar;
    of[static_cast<unsigned char>('/')] = kSlash;
    of[static_cast<unsigned char>('.')] = kDot;
    of[static_cast<unsigned char>('\\')] = kBackslash;
    for (char c : {'"', '\'', '^', ',', ';'}) of[static_cast<unsigned char>(c)] = kCmdLineChar;
    of[static_cast<unsigned char>('(')] = kParen;
  }
};
constexpr ByteClassTable kByteClasses;

// The classes of bytes [i, n) of p, ORed into *seen, and those of two neighbouring bytes into *twice;
// `prev` is the class of byte i - 1 (0 at the start). Two bytes per step into two accumulators of each:
// one table load per byte, no string search.
void ClassifyScalar(const unsigned char* p, size_t i, size_t n, uint32_t prev, uint32_t* seen, uint32_t* twice) {
  uint32_t seen_a = 0, seen_b = 0, twice_a = 0, twice_b = 0;
  for (; i + 2 <= n; i += 2) {
    const uint32_t x = kByteClasses.of[p[i]], y = kByteClasses.of[p[i + 1]];
    seen_a |= x;
    seen_b |= y;
    twice_a |= prev & x;
    twice_b |= x & y;
    prev = y;
  }
  if (i < n) {
    const uint32_t x = kByteClasses.of[p[i]];
    seen_a |= x;
    twice_a |= prev & x;
  }
  *seen |= seen_a | seen_b;
  *twice |= twice_a | twice_b;
}

#if defined(__x86_64__)
// The same over the first n / 16 * 16 bytes, 16 at a time (long values: raw bodies, long arguments), for
// the classes MayChange reads; returns the bytes done. Each byte's classes come from two nibble lookups
// (PSHUFB, SSSE3: Hyperscan needs it too) ANDed, two sets of 8 classes, every class one rectangle of
// (high nibble, low nibble) pairs; A-Z by a range compare. `twice` only for the first set (MayChange reads
// it for space, '-' and '/').
__attribute__((target("ssse3"))) size_t ClassifySsse3(const unsigned char* p, size_t n, uint32_t* seen,
                                                      uint32_t* twice) {
  // Set 1, bytes 0x2X by low nibble: bit 0 '%' '+', 1 '&', 2 '#', 3 '-', 4 '*', 5 '/', 6 '.', 7 ' '.
  const __m128i lo1 = _mm_setr_epi8(char(0x80), 0, 0, 0x04, 0, 0x01, 0x02, 0, 0, 0, 0x10, 0x01, 0, 0x08, 0x40, 0x20);
  const __m128i hi1 = _mm_setr_epi8(0, 0, char(0xff), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
  // Set 2: bit 0 '"' '\'' ',', 1 '(', 2 ';', 3 '^', 4 '\\', 5 NUL, 6 \t-\r, 7 >= 0x80.
  const __m128i lo2 = _mm_setr_epi8(char(0xa0), char(0x80), char(0x81), char(0x80), char(0x80), char(0x80),
                                    char(0x80), char(0x81), char(0x82), char(0xc0), char(0xc0), char(0xc4),
                                    char(0xd1), char(0xc0), char(0x88), char(0x80));
  const __m128i hi2 = _mm_setr_epi8(0x60, 0, 0x03, 0x04, 0, 0x18, 0, 0, char(0x80), char(0x80), char(0x80),
                                    char(0x80), char(0x80), char(0x80), char(0x80), char(0x80));
  const __m128i nibble = _mm_set1_epi8(0x0f), upper_a = _mm_set1_epi8('A'), upper_span = _mm_set1_epi8(25);
  __m128i acc1 = _mm_setzero_si128(), acc2 = acc1, acc_upper = acc1, acc_twice = acc1, prev1 = acc1;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    const __m128i lo = _mm_and_si128(x, nibble), hi = _mm_and_si128(_mm_srli_epi16(x, 4), nibble);
    const __m128i c1 = _mm_and_si128(_mm_shuffle_epi8(lo1, lo), _mm_shuffle_epi8(hi1, hi));
    const __m128i c2 = _mm_and_si128(_mm_shuffle_epi8(lo2, lo), _mm_shuffle_epi8(hi2, hi));
    const __m128i y = _mm_sub_epi8(x, upper_a);
    acc_upper = _mm_or_si128(acc_upper, _mm_cmpeq_epi8(_mm_min_epu8(y, upper_span), y));
    acc1 = _mm_or_si128(acc1, c1);
    acc2 = _mm_or_si128(acc2, c2);
    acc_twice = _mm_or_si128(acc_twice, _mm_and_si128(c1, _mm_alignr_epi8(c1, prev1, 15)));  // byte k-1's set 1
    prev1 = c1;
  }
  auto any_bits = [](__m128i v) {
    v = _mm_or_si128(v, _mm_srli_si128(v, 8));
    v = _mm_or_si128(v, _mm_srli_si128(v, 4));
    v = _mm_or_si128(v, _mm_srli_si128(v, 2));
    v = _mm_or_si128(v, _mm_srli_si128(v, 1));
    return static_cast<uint32_t>(_mm_cvtsi128_si32(v)) & 0xff;
  };
  static constexpr uint16_t kSet1[8] = {kPercentPlus, kAmp, kHash, kDash, kStar, kSlash, kDot, kSpace};
  static constexpr uint16_t kSet2[8] = {kCmdLineChar, kParen, kCmdLineChar, kCmdLineChar, kBackslash, kNul, kCtrlSpace, kHigh};
  const uint32_t b1 = any_bits(acc1), b2 = any_bits(acc2), t1 = any_bits(acc_twice);
  for (int b = 0; b < 8; ++b) {
    if (b1 & (1u << b)) *seen |= kSet1[b];
    if (b2 & (1u << b)) *seen |= kSet2[b];
    if (t1 & (1u << b)) *twice |= kSet1[b];
  }
  if (_mm_movemask_epi8(acc_upper)) *seen |= kUpper;
  return i;
}
#endif

uint32_t MayChangeWith(std::string_view in, bool simd) {
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  const size_t n = in.size();
  // seen: every class present; twice: classes found in two neighbouring bytes, which for the one-byte
  // classes kSpace, kDash and kSlash means "  ", "--" and "//" (what some transforms need, beyond the bytes
  // alone).
  uint32_t seen = 0, twice = 0;
  size_t done = 0;
#if defined(__x86_64__)
  static const bool ssse3 = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("ssse3") != 0;
  }();
  if (simd && ssse3 && n >= 32) done = ClassifySsse3(p, n, &seen, &twice);
#else
  (void)simd;
#endif
  ClassifyScalar(p, done, n, done ? kByteClasses.of[p[done - 1]] : 0, &seen, &twice);
  auto has = [&](uint32_t cls) { return (seen & cls) != 0; };
  const bool double_space = (twice & kSpace) != 0;
  uint32_t may = Bit(Transform::kBase64Decode);  // decided by the whole value's shape: always run it
  if (has(kPercentPlus)) may |= Bit(Transform::kUrlDecode) | Bit(Transform::kUrlDecodeUni);
  if (has(kAmp)) may |= Bit(Transform::kHtmlEntityDecode);
  if (has(kHigh)) may |= Bit(Transform::kUtf8Normalize);
  if (has(kUpper)) may |= Bit(Transform::kLowercase);
  if (has(kNul)) may |= Bit(Transform::kRemoveNulls);
  if (has(kCtrlSpace | kHigh) || double_space) may |= Bit(Transform::kCompressWhitespace);
  if (has(kHash) || (twice & kDash) ||
      (has(kStar) && has(kSlash) &&
       (in.find("/*") != std::string_view::npos || in.find("*/") != std::string_view::npos))) {
    may |= Bit(Transform::kRemoveComments);
  }
  // Without '\\', a value changes only through an empty or "."/".." segment: it needs "//", or a '/' and
  // a '.', or is the whole value ".".
  if (has(kBackslash) || (has(kSlash) && (has(kDot) || (twice & kSlash))) || in == ".") {
    may |= Bit(Transform::kNormalizePath);
  }
  // cmdLine deletes \ " ' ^, turns , ; and whitespace into single spaces, drops a space before / or (, and
  // lowercases.
  if (has(kBackslash | kCmdLineChar | kCtrlSpace) || double_space || (has(kSpace) && has(kSlash | kParen))) {
    may |= Bit(Transform::kCmdLine) | kCmdLineBeyondCase;
  } else if (has(kUpper)) {
    may |= Bit(Transform::kCmdLine);
  }
  return may;
}

}  // namespace

namespace internal {
uint32_t MayChangeScalar(std::string_view in) { return MayChangeWith(in, false); }
}  // namespace internal

uint32_t MayChange(std::string_view in) { return MayChangeWith(in, true); }

std::string_view TransformName(Transform t) {
  for (const NameEntry& e : kNames)
    if (e.t == t) return e.name;
  return "";
}

absl::StatusOr<Transform> ParseTransform(std::string_view name) {
  for (const NameEntry& e : kNames)
    if (e.name == name) return e.t;
  // absl::string_view is not std::string_view in Debian's absl build: go through std::string.
  return absl::InvalidArgumentError("unknown transform \"" + std::string(name) + "\"");
}

std::string_view Apply(std::span<const Transform> chain, std::string_view input, std::string* scratch_a,
                       std::string* scratch_b) {
  std::string_view cur = input;
  try {
    for (Transform t : chain) {
      if (cur.empty()) break;  // every transform maps "" to ""
      // Write into the buffer that does not hold the current value (the input itself may be a view into
      // one of them, e.g. the result of an earlier Apply with the same buffers).
      if (CannotChange(t, cur)) continue;
      std::string* out = Holds(*scratch_a, cur) ? scratch_b : scratch_a;
      out->resize(cur.size());  // results never exceed the input (transform_impl.h)
      size_t n = Run(t, cur, out->data());
      if (n == cur.size() && std::memcmp(out->data(), cur.data(), n) == 0) continue;
      out->resize(n);
      cur = std::string_view(out->data(), n);
    }
  } catch (...) {
    // Only resize() can throw (std::bad_alloc), before the step writes anything: the value transformed
    // so far is still intact, and is returned rather than unwinding into the C ABI.
  }
  return cur;
}

}  // namespace guard::transforms
