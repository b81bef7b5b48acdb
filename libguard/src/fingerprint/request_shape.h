// Request-shape fingerprint: the canonical skeleton of a request, hashed to 128 stable bits.
//
// Two requests get the same fingerprint when they have the same method, the same route template
// (/users/{int}/orders/{uuid}), the same multiset of parameter names, the same value class for every
// unflagged value (int, email, word, ...) and the same token skeleton for every value that the detection
// stage flagged (' OR 1=1 -- and '  or 7=7-- both give "s o n = n c"). Literal values, case, encodings
// and whitespace/comment evasions therefore do not change the fingerprint of an attack, while a flagged
// value can never share a fingerprint with an unflagged one (the two are hashed under different tags).
// The verdict cache keys on it; docs/fingerprint.md describes the algorithm and its version.
//
// Inputs are plain views (no dependency on the request parser). FingerprintRequest allocates nothing:
// canonical text is built in fixed stack buffers, flagged values are decoded into stack buffers of
// kMaxSkeletonInput bytes, and per-parameter hashes are sorted in a stack array.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "fingerprint/stable_hash.h"

namespace guard::fingerprint {

// Bumped whenever any rule below changes the fingerprint of some request (it is hashed in, so old
// fingerprints stop matching instead of matching the wrong thing).
inline constexpr uint32_t kShapeVersion = 1;

inline constexpr size_t kMaxShapeParams = 128;     // more parameters: the request is not cacheable
inline constexpr size_t kMaxSkeletonInput = 4096;  // bytes of a flagged value that are tokenised
inline constexpr size_t kMaxSkeletonTokens = 64;   // tokens kept after collapsing repeats

// Class of an unflagged value. Only the class enters the fingerprint, never the value.
enum class ValueClass : uint8_t {
  kEmpty, kBool, kInt, kFloat, kHex, kUuid, kEmail, kDate, kIpv4, kUrl, kBase64, kWord, kText, kBinary,
};
std::string_view ValueClassName(ValueClass c);
ValueClass ClassifyValue(std::string_view value);

// Route template: "/users/42/orders/5f0c..." -> "/users/{int}/orders/{uuid}". Writes into *out (its
// capacity is reused). Segments: {int}, {uuid}, {hex} (>= 8 hex digits with a digit), {email}, {date},
// {token} (>= 16 base64url chars mixing letters and digits), {long} (> 64 bytes); others are kept.
void RouteTemplate(std::string_view path, std::string* out);
// Stable 64-bit hash of the route template, computed without allocating (for behaviour profiles).
uint64_t RouteTemplateHash(std::string_view path);
// The last all-digit path segment (up to 18 digits), e.g. 42 for /users/42/orders: enumeration input.
bool LastNumericSegment(std::string_view path, uint64_t* id);

// Token skeleton of a (suspicious) value, as text: "' OR 1=1 --" -> "s o n = n c". For tests, logs and
// docs; FingerprintRequest computes the same tokens without building this string.
std::string TokenSkeleton(std::string_view value);

enum class ParamSource : uint8_t { kQuery, kBody, kCookie, kHeader };

struct ShapeParam {
  ParamSource source = ParamSource::kQuery;
  std::string_view name;   // as parsed (JSON keys as dotted paths)
  std::string_view value;  // decoded once by the parser
  bool flagged = false;    // the detection stage matched a rule on this value
};

struct ShapeInput {
  std::string_view method;
  std::string_view path;     // percent-decoded path, no query string
  bool path_flagged = false; // a rule matched the path itself: its skeleton replaces the template
  // Query and body arguments; cookies and headers only when flagged (their benign values are noise).
  std::span<const ShapeParam> params;
};

struct RequestFingerprint {
  Hash128 hash;
  uint32_t flagged = 0;    // flagged values (including the path) that entered as skeletons
  bool cacheable = true;   // false when the request had more than kMaxShapeParams parameters
};

RequestFingerprint FingerprintRequest(const ShapeInput& in);

// The canonical text the fingerprint is computed from, one part per line, parameters sorted. Allocates;
// for debugging, the docs and the tests.
std::string DescribeShape(const ShapeInput& in);

}  // namespace guard::fingerprint
