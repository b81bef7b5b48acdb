// Copying into the fixed char arrays of the C ABI's structs and error buffers.
#pragma once

#include <algorithm>
#include <cstring>
#include <string_view>

namespace guard::common {

// Copies s into dst[cap], cutting it if needed and always NUL-terminating; nothing happens when dst is
// NULL or cap is 0 (a caller that passed no error buffer).
inline void CopyCut(char* dst, size_t cap, std::string_view s) {
  if (!dst || cap == 0) return;
  size_t n = std::min(s.size(), cap - 1);
  if (n) std::memcpy(dst, s.data(), n);
  dst[n] = '\0';
}

}  // namespace guard::common
