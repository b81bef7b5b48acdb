// kBase64Decode: decodes a value only when the whole of it is base64; anything else passes unchanged.
//
// "Whole value" means: only the standard alphabet (A-Z a-z 0-9 + /) or only the URL-safe one (- _), not
// mixed; '=' padding only at the end and only as much as the length needs; no whitespace; at least
// kMinLength characters, because short words ("test", "admin123") are valid base64 by accident and
// decoding them to garbage would hide the plain value from the rule. Unpadded input is accepted (JWTs
// and URL tokens drop the padding). Decoded output is 3/4 of the input.
#include "transforms/transform_impl.h"

#include <cstring>

namespace guard::transforms::internal {
namespace {
constexpr size_t kMinLength = 8;

int Value(unsigned char c, int* alphabet) {  // alphabet: 0 unknown, 1 standard, 2 url-safe
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  int kind = (c == '+' || c == '/') ? 1 : (c == '-' || c == '_') ? 2 : 0;
  if (kind == 0 || (*alphabet != 0 && *alphabet != kind)) return -1;
  *alphabet = kind;
  return (c == '+' || c == '-') ? 62 : 63;
}
}  // namespace

size_t Base64Decode(std::string_view in, char* out) {
  size_t len = in.size();
  size_t pad = 0;
  while (len > 0 && in[len - 1] == '=' && pad < 2) {
    --len;
    ++pad;
  }
  auto unchanged = [&] {
    std::memmove(out, in.data(), in.size());
    return in.size();
  };
  if (in.size() < kMinLength || len % 4 == 1 || (pad > 0 && (len + pad) % 4 != 0)) return unchanged();
  int alphabet = 0;
  for (size_t i = 0; i < len; ++i)
    if (Value(static_cast<unsigned char>(in[i]), &alphabet) < 0) return unchanged();
  size_t n = 0;
  unsigned acc = 0;
  int bits = 0;
  for (size_t i = 0; i < len; ++i) {
    acc = ((acc << 6) | static_cast<unsigned>(Value(static_cast<unsigned char>(in[i]), &alphabet))) & 0xFFFFu;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return n;
}

}  // namespace guard::transforms::internal
