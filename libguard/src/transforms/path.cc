// kNormalizePath: \ to /, repeated slashes collapsed, "." segments removed, ".." resolved.
//
// ".." pops the previous segment. At the root of an absolute path it is dropped (a server cannot climb
// above "/"); at the start of a relative value ("../../etc/passwd" in a parameter) it is kept, as CRS
// t:normalizePath does, because there the leading ".." *is* the attack and must stay visible. Rules that
// look for traversal sequences should therefore run on the decoded value, not only on this one.
// A trailing slash, or a trailing "." / ".." segment, leaves the result ending in "/".
// Linear: every byte is written once and popped at most once.
#include "transforms/transform_impl.h"

namespace guard::transforms::internal {

size_t NormalizePath(std::string_view in, char* out) {
  const size_t len = in.size();
  size_t n = 0, i = 0;
  const bool absolute = len > 0 && (in[0] == '/' || in[0] == '\\');
  if (absolute) {
    out[n++] = '/';
    ++i;
  }
  const size_t root = n;      // out[0, root) is never popped
  size_t keep_dotdot_end = root;  // out[root, this) holds leading "../" of a relative path
  while (i < len) {
    size_t start = i;
    while (i < len && in[i] != '/' && in[i] != '\\') ++i;
    std::string_view seg = in.substr(start, i - start);
    bool slash = i < len;
    if (slash) ++i;
    if (seg.empty() || seg == ".") {
      continue;  // "//" and "/./"
    }
    if (seg == "..") {
      if (n > keep_dotdot_end) {
        // pop the last segment: out is "<...>/<seg>/" or "<...>/<seg>"
        if (out[n - 1] == '/') --n;
        while (n > keep_dotdot_end && out[n - 1] != '/') --n;
      } else if (!absolute) {
        out[n++] = '.';
        out[n++] = '.';
        if (slash) out[n++] = '/';  // only what was read: output never exceeds input
        keep_dotdot_end = n;
      }
      continue;
    }
    if (n > root && out[n - 1] != '/') out[n++] = '/';
    for (char c : seg) out[n++] = c;
    if (slash) out[n++] = '/';
  }
  return n;
}

}  // namespace guard::transforms::internal
