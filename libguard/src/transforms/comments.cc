// kRemoveComments: SQL and C comments, the classic token-splitting evasion (UNION/**/SELECT).
//
// Decisions:
// - A comment is replaced by one space, not by nothing: MySQL treats a comment as a token separator, so
//   UNION/**/SELECT means "UNION SELECT" and "UNIONSELECT" would hide it from signatures.
// - MySQL versioned comments /*!50000 select*/ and /*! select*/ are *executed* by MySQL, so their inner
//   text is kept (the version digits dropped), between spaces. Optimizer hints /*+ ... */ are dropped.
// - An unterminated /* runs to the end of the input (what MySQL does with a trailing comment).
// - "--" and "#" remove to the end of the line; the newline stays. No SQL tokenising is attempted, so a
//   "--" or "#" inside a quoted string is treated as a comment too: this transform is for SQLi rules.
// Linear: one left-to-right pass; output never exceeds input (each comment is >= 2 bytes, its
// replacement 1).
#include "transforms/transform_impl.h"

namespace guard::transforms::internal {

size_t RemoveComments(std::string_view in, char* out) {
  const size_t len = in.size();
  size_t n = 0, i = 0;
  bool in_versioned = false;  // inside /*! ... */ whose text we keep
  while (i < len) {
    char c = in[i];
    if (in_versioned && c == '*' && i + 1 < len && in[i + 1] == '/') {
      out[n++] = ' ';
      i += 2;
      in_versioned = false;
      continue;
    }
    if (c == '/' && i + 1 < len && in[i + 1] == '*') {
      if (i + 2 < len && in[i + 2] == '!' && !in_versioned) {
        i += 3;
        while (i < len && in[i] >= '0' && in[i] <= '9') ++i;  // version number
        out[n++] = ' ';
        in_versioned = true;
        continue;
      }
      size_t end = in.find("*/", i + 2);
      i = end == std::string_view::npos ? len : end + 2;
      out[n++] = ' ';
      continue;
    }
    if ((c == '-' && i + 1 < len && in[i + 1] == '-') || c == '#') {
      while (i < len && in[i] != '\n') ++i;  // the newline (if any) is copied next round
      out[n++] = ' ';
      continue;
    }
    out[n++] = c;
    ++i;
  }
  return n;
}

}  // namespace guard::transforms::internal
