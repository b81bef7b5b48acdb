// Internal contract of the transform implementations, one file per family.
//
// Each function reads `in` and writes its result to `out`, which has room for in.size() bytes, and returns
// the result length. No transform ever produces more bytes than it reads (every escape it decodes is at
// least as long as what it decodes to), which is what bounds chains and lets Apply() size buffers once.
// All of them write strictly left to right and never ahead of what they have read, so out == in.data()
// (in place) is allowed too; repeated URL decoding relies on that.
#pragma once

#include <cstddef>
#include <string_view>

#include "transforms/transforms.h"

namespace guard::transforms::internal {

// Passes of repeated URL decoding: enough for triple encoding seen in the wild (%25252e), while bounding
// the work to kMaxUrlDecodePasses * n.
constexpr int kMaxUrlDecodePasses = 4;

size_t UrlDecode(std::string_view in, char* out, bool unicode);
size_t HtmlEntityDecode(std::string_view in, char* out);
size_t Utf8Normalize(std::string_view in, char* out);
size_t Lowercase(std::string_view in, char* out);
size_t CompressWhitespace(std::string_view in, char* out);
size_t RemoveNulls(std::string_view in, char* out);
size_t RemoveComments(std::string_view in, char* out);
size_t NormalizePath(std::string_view in, char* out);
size_t Base64Decode(std::string_view in, char* out);
size_t CmdLine(std::string_view in, char* out);

// Dispatch by enum, and the shortcut Apply() takes: true only when `t` certainly leaves `in` unchanged.
size_t Run(Transform t, std::string_view in, char* out);
bool CannotChange(Transform t, std::string_view in);
// MayChange() without its 16-bytes-at-a-time path: the reference its SIMD path is tested against.
uint32_t MayChangeScalar(std::string_view in);

inline char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }
inline int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Appends the UTF-8 encoding of cp (<= 0x10FFFF) at out and returns the bytes written (1..4).
size_t EncodeUtf8(unsigned cp, char* out);

}  // namespace guard::transforms::internal
