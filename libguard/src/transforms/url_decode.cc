// kUrlDecode / kUrlDecodeUni: percent-decoding repeated until the value stops changing.
//
// Attackers stack encodings (%252e%252e%252f) because a WAF that decodes once sees %2e while the backend,
// decoding twice, sees "."; so we decode until stable, at most kMaxUrlDecodePasses passes (the bound keeps
// the work linear: 4n). Passes after the first run in place. '+' is a space, as in query strings.
// Invalid escapes (%4, %zz, a lone %) are kept literally. kUrlDecodeUni also decodes IIS-style %uXXXX:
// full-width ASCII (U+FF01..FF5E) maps straight to ASCII, other code points to UTF-8; surrogates are kept.
#include "transforms/transform_impl.h"

namespace guard::transforms::internal {
namespace {
size_t DecodeOnce(std::string_view in, char* out, bool unicode, bool* changed) {
  size_t n = 0, i = 0;
  const size_t len = in.size();
  while (i < len) {
    char c = in[i];
    if (c == '+') {
      out[n++] = ' ';
      *changed = true;
      ++i;
      continue;
    }
    if (c != '%') {
      out[n++] = c;
      ++i;
      continue;
    }
    if (unicode && i + 5 < len && (in[i + 1] == 'u' || in[i + 1] == 'U')) {
      int h[4] = {HexDigit(in[i + 2]), HexDigit(in[i + 3]), HexDigit(in[i + 4]), HexDigit(in[i + 5])};
      if (h[0] >= 0 && h[1] >= 0 && h[2] >= 0 && h[3] >= 0) {
        unsigned cp = (h[0] << 12) | (h[1] << 8) | (h[2] << 4) | h[3];
        if (cp < 0xD800 || cp > 0xDFFF) {
          if (cp >= 0xFF01 && cp <= 0xFF5E) cp -= 0xFEE0;  // full-width to ASCII
          n += EncodeUtf8(cp, out + n);                     // at most 3 bytes for 6 read
          i += 6;
          *changed = true;
          continue;
        }
      }
    }
    if (i + 2 < len && HexDigit(in[i + 1]) >= 0 && HexDigit(in[i + 2]) >= 0) {
      out[n++] = static_cast<char>(HexDigit(in[i + 1]) * 16 + HexDigit(in[i + 2]));
      i += 3;
      *changed = true;
      continue;
    }
    out[n++] = c;  // invalid escape: literal
    ++i;
  }
  return n;
}
}  // namespace

size_t EncodeUtf8(unsigned cp, char* out) {
  if (cp < 0x80) {
    out[0] = static_cast<char>(cp);
    return 1;
  }
  if (cp < 0x800) {
    out[0] = static_cast<char>(0xC0 | (cp >> 6));
    out[1] = static_cast<char>(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = static_cast<char>(0xE0 | (cp >> 12));
    out[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out[2] = static_cast<char>(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = static_cast<char>(0xF0 | (cp >> 18));
  out[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
  out[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
  out[3] = static_cast<char>(0x80 | (cp & 0x3F));
  return 4;
}

size_t UrlDecode(std::string_view in, char* out, bool unicode) {
  bool changed = false;
  size_t n = DecodeOnce(in, out, unicode, &changed);
  for (int pass = 1; pass < kMaxUrlDecodePasses && changed; ++pass) {
    changed = false;
    n = DecodeOnce(std::string_view(out, n), out, unicode, &changed);  // in place: output never outruns input
  }
  return n;
}

}  // namespace guard::transforms::internal
