// kUtf8Normalize: folds the UTF-8 spellings of ASCII that decoders accept but signatures do not expect.
//
// - Overlong forms (C0 AF, E0 80 AF, F0 80 80 AF for '/'): lenient decoders (old IIS, some Java) read
//   them as ASCII, which is how ..%c0%af.. traversals worked. Any overlong sequence whose value is ASCII
//   becomes that byte; other overlong values are re-encoded in their shortest form.
// - Full-width ASCII U+FF01..FF5E (＜ｓｃｒｉｐｔ＞) and the ideographic space U+3000: NFKC folds them to
//   ASCII and many backends normalise before use.
// - Look-alikes of the path characters, which "best fit" code-page mappings (Windows, IIS) and some
//   normalisers turn into them: ∕ U+2215, ⁄ U+2044, ⧸ U+29F8 → '/'; ∖ U+2216, ⧹ U+29F9, ﹨ U+FE68 → '\';
//   ․ U+2024, ﹒ U+FE52 → '.'; ‥ U+2025 → "..". (..%u2215..%u2215etc%u2215passwd is a traversal.)
// - Enclosed alphanumerics, which NFKC (and so IDNA, URL parsers, many HTTP clients) folds to ASCII:
//   ① U+2460..⑳ U+2473 → 1..20, ⓪ U+24EA → 0, Ⓐ U+24B6..ⓩ U+24E9 → A..z; and the ideographic full stops
//   。 U+3002, ｡ U+FF61, which IDNA reads as '.'. http://①②⑦.⓪.⓪.① reaches 127.0.0.1.
// Everything else, invalid bytes included, is copied unchanged. Output never exceeds input.
#include "transforms/transform_impl.h"

namespace guard::transforms::internal {

size_t Utf8Normalize(std::string_view in, char* out) {
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  const size_t len = in.size();
  size_t n = 0, i = 0;
  while (i < len) {
    unsigned char c = p[i];
    size_t seq = c >= 0xF0 && c <= 0xF7 ? 4 : c >= 0xE0 ? (c <= 0xEF ? 3 : 0) : c >= 0xC0 ? 2 : 0;
    if (seq == 0 || i + seq > len) {
      out[n++] = static_cast<char>(p[i++]);
      continue;
    }
    unsigned cp = c & (seq == 2 ? 0x1F : seq == 3 ? 0x0F : 0x07);
    bool ok = true;
    for (size_t k = 1; k < seq; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) {
        ok = false;
        break;
      }
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if (!ok) {
      out[n++] = static_cast<char>(p[i++]);
      continue;
    }
    const unsigned shortest = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (cp >= 0xFF01 && cp <= 0xFF5E) {
      out[n++] = static_cast<char>(cp - 0xFEE0);
    } else if (cp == 0x3000) {
      out[n++] = ' ';
    } else if (cp == 0x2215 || cp == 0x2044 || cp == 0x29F8) {
      out[n++] = '/';
    } else if (cp == 0x2216 || cp == 0x29F9 || cp == 0xFE68) {
      out[n++] = '\\';
    } else if (cp == 0x2024 || cp == 0xFE52) {
      out[n++] = '.';
    } else if (cp == 0x2025) {
      out[n++] = '.';
      out[n++] = '.';
    } else if (cp >= 0x2460 && cp <= 0x2473) {  // circled 1..20: at most 2 bytes for 3 read
      const unsigned v = cp - 0x2460 + 1;
      if (v >= 10) out[n++] = static_cast<char>('0' + v / 10);
      out[n++] = static_cast<char>('0' + v % 10);
    } else if (cp == 0x24EA) {
      out[n++] = '0';
    } else if (cp >= 0x24B6 && cp <= 0x24E9) {
      out[n++] = static_cast<char>(cp <= 0x24CF ? 'A' + (cp - 0x24B6) : 'a' + (cp - 0x24D0));
    } else if (cp == 0x3002 || cp == 0xFF61) {
      out[n++] = '.';
    } else if (shortest < seq) {
      n += EncodeUtf8(cp, out + n);  // overlong: shortest form (ASCII for the attacks that matter)
    } else {
      for (size_t k = 0; k < seq; ++k) out[n++] = static_cast<char>(p[i + k]);
    }
    i += seq;
  }
  return n;
}

}  // namespace guard::transforms::internal
