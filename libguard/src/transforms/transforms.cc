// Transform names and Apply(): runs a chain over two reused buffers.
//
// Apply() writes each step into whichever scratch buffer does not hold the current value, so a chain of
// any length needs only the two buffers the caller keeps per worker, and allocation stops once they have
// grown to the largest field seen. A step that changes nothing leaves the current view where it is, so a
// value no transform touches is returned as a view into the input.
#include <cstdint>
#include <cstring>

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

}  // namespace

uint32_t MayChange(std::string_view in) {
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  const size_t n = in.size();
  // seen: every class present; twice: classes found in two neighbouring bytes, which for the one-byte
  // classes kSpace, kDash and kSlash means "  ", "--" and "//" (what some transforms need, beyond the bytes
  // alone). Two bytes per step into two accumulators of each: one table load per byte, no string search.
  uint32_t seen_a = 0, seen_b = 0, twice_a = 0, twice_b = 0;
  uint32_t prev = n ? kByteClasses.of[p[0]] : 0;
  seen_a = prev;
  size_t i = 1;
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
  const uint32_t seen = seen_a | seen_b, twice = twice_a | twice_b;
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
