// String helpers for guardctl over std::string_view. Debian's Abseil 20220623 has its own
// absl::string_view (not std::string_view), so the readers keep Abseil to Status/StatusOr and use these.
#pragma once

#include <cctype>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/strings/string_view.h"

namespace guardctl::str {

inline void AppendOne(std::string& out, std::string_view s) { out.append(s); }
inline void AppendOne(std::string& out, const char* s) { out.append(s); }
inline void AppendOne(std::string& out, const std::string& s) { out.append(s); }
inline void AppendOne(std::string& out, absl::string_view s) { out.append(s.data(), s.size()); }
inline void AppendOne(std::string& out, char c) { out.push_back(c); }
template <typename T, typename = std::enable_if_t<std::is_integral_v<T>>>
void AppendOne(std::string& out, T n) {
  out.append(std::to_string(n));
}

template <typename... Args>
std::string Cat(const Args&... args) {
  std::string out;
  (AppendOne(out, args), ...);
  return out;
}

inline char Lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

inline bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

inline bool EndsWithIgnoreCase(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && EqualsIgnoreCase(s.substr(s.size() - suffix.size()), suffix);
}

inline bool ContainsIgnoreCase(std::string_view s, std::string_view needle) {
  if (needle.size() > s.size()) return false;
  for (size_t i = 0; i + needle.size() <= s.size(); ++i) {
    if (EqualsIgnoreCase(s.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

inline std::string_view Strip(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n\v\f");
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(" \t\r\n\v\f");
  return s.substr(b, e - b + 1);
}

// Splits on any of `seps`, dropping empty pieces.
inline std::vector<std::string_view> SplitAny(std::string_view s, std::string_view seps) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = s.find_first_of(seps, i);
    if (j == std::string_view::npos) j = s.size();
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

}  // namespace guardctl::str
