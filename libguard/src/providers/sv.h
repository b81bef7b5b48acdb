// Debian's Abseil 20220623 is built with its own absl::string_view (not an alias of std::string_view), so
// our std::string_view APIs convert explicitly at the few places they meet Abseil's string functions.
#pragma once

#include <string_view>

#include "absl/strings/string_view.h"

namespace guard::providers {
inline absl::string_view AV(std::string_view s) { return absl::string_view(s.data(), s.size()); }
inline std::string_view SV(absl::string_view s) { return std::string_view(s.data(), s.size()); }
}  // namespace guard::providers
