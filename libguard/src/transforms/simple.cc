// The byte-at-a-time transforms: kLowercase, kCompressWhitespace, kRemoveNulls, kCmdLine.
//
// Whitespace is what parsers of SQL, shells and HTML treat as a separator: space, \t \n \r \v \f, the
// Latin-1 non-breaking space 0xA0 (what %a0 decodes to, which MySQL accepts between tokens) when it is not
// part of a UTF-8 character, and its UTF-8 form C2 A0. kCmdLine follows CRS t:cmdLine exactly, so CRS-derived rules keep their meaning.
#include "transforms/transform_impl.h"

namespace guard::transforms::internal {
namespace {
// Length of the whitespace character at in[i], 0 if none. A lone 0xA0 is Latin-1 NBSP only when it is not
// the continuation byte of a UTF-8 character (à is C3 A0): *pending counts the continuation bytes still
// expected after a UTF-8 lead byte.
size_t SpaceAt(std::string_view in, size_t i, int* pending) {
  unsigned char c = static_cast<unsigned char>(in[i]);
  if (c == ' ' || (c >= '\t' && c <= '\r')) {  // \t \n \v \f \r
    *pending = 0;
    return 1;
  }
  if (c == 0xC2 && i + 1 < in.size() && static_cast<unsigned char>(in[i + 1]) == 0xA0) {
    *pending = 0;
    return 2;
  }
  if ((c & 0xC0) == 0x80) {  // continuation byte
    if (*pending > 0) {
      --*pending;
      return 0;
    }
    return c == 0xA0 ? 1 : 0;
  }
  *pending = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
  return 0;
}
}  // namespace

size_t Lowercase(std::string_view in, char* out) {
  for (size_t i = 0; i < in.size(); ++i) out[i] = AsciiLower(in[i]);
  return in.size();
}

size_t CompressWhitespace(std::string_view in, char* out) {
  size_t n = 0, i = 0;
  bool in_space = false;
  int pending = 0;
  while (i < in.size()) {
    if (size_t w = SpaceAt(in, i, &pending)) {
      if (!in_space) out[n++] = ' ';
      in_space = true;
      i += w;
      continue;
    }
    in_space = false;
    out[n++] = in[i++];
  }
  return n;
}

size_t RemoveNulls(std::string_view in, char* out) {
  size_t n = 0;
  for (char c : in)
    if (c != '\0') out[n++] = c;
  return n;
}

// CRS t:cmdLine: delete \ " ' ^; delete spaces before / and (; , and ; become spaces; whitespace runs
// become one space; lowercase. So that c^a"t /e't'c/pa''sswd and cat /etc/passwd look the same.
size_t CmdLine(std::string_view in, char* out) {
  size_t n = 0;
  bool space = false;
  for (char c : in) {
    switch (c) {
      case '"': case '\'': case '\\': case '^':
        break;
      case ' ': case ',': case ';': case '\t': case '\r': case '\n': case '\v': case '\f':
        if (!space) {
          out[n++] = ' ';
          space = true;
        }
        break;
      case '/': case '(':
        if (space) --n;  // drop the space before it
        space = false;
        out[n++] = c;
        break;
      default:
        out[n++] = AsciiLower(c);
        space = false;
    }
  }
  return n;
}

}  // namespace guard::transforms::internal
