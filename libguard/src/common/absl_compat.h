// Debian's Abseil is built with its own absl::string_view (ABSL_OPTION_USE_STD_STRING_VIEW 0), which
// does not convert to or from std::string_view. These two helpers are the one place we bridge them.
#pragma once

#include <string_view>

#include "absl/strings/string_view.h"

namespace guard::common {

inline std::string_view ToStd(absl::string_view s) { return {s.data(), s.size()}; }
inline absl::string_view ToAbsl(std::string_view s) { return {s.data(), s.size()}; }

}  // namespace guard::common
