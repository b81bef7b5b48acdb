// Byte-level helpers shared by the request parsers: percent-decoding, UTF-8 validation, ASCII case folding.
//
// Percent-decoding is done once here (parsers must report what the application sees); repeated decoding
// against multi-encoding evasions is a transform (transforms::kUrlDecode), chosen per rule.
#include <cstring>

#include "request/parsers.h"

namespace guard::request::internal {
namespace {
int HexValue(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
unsigned char Lower(unsigned char c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }
}  // namespace

std::string_view PercentDecode(std::string_view in, bool plus_is_space, FieldList* out, bool* invalid) {
  size_t first = 0;
  while (first < in.size() && in[first] != '%' && !(plus_is_space && in[first] == '+')) ++first;
  if (first == in.size()) return in;  // common case: nothing to decode, no copy
  char* dst = out->Reserve(in.size());
  std::memcpy(dst, in.data(), first);
  size_t n = first;
  for (size_t i = first; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      int hi = i + 1 < in.size() ? HexValue(in[i + 1]) : -1;
      int lo = i + 2 < in.size() ? HexValue(in[i + 2]) : -1;
      if (hi >= 0 && lo >= 0) {
        dst[n++] = static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
      *invalid = true;  // kept literally, as most servers do
    } else if (c == '+' && plus_is_space) {
      c = ' ';
    }
    dst[n++] = c;
  }
  return out->Commit(n);
}

bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size(), i = 0;
  while (i < n) {
    unsigned char c = p[i];
    if (c < 0x80) { ++i; continue; }
    size_t len;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07; }
    else return false;  // continuation byte as lead, C0/C1 (overlong), F5+
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return false;  // overlong or surrogate
    i += len;
  }
  return true;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (Lower(a[i]) != Lower(b[i])) return false;
  return true;
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace guard::request::internal
