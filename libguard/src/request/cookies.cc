// Cookie header values: RFC 6265 `name=value; name2=value2`, parsed leniently because servers are lenient.
//
// Pairs are split on ';' and trimmed; a value in double quotes loses its quotes; values (not names) are
// percent-decoded once, since most frameworks decode cookies. A pair without '=' becomes a cookie with an
// empty name and that value (what browsers and most servers do), so its bytes are still scanned.
#include "request/parsers.h"

namespace guard::request::internal {

void ParseCookies(std::string_view v, FieldList* out) {
  bool invalid = false;
  size_t pos = 0;
  while (pos <= v.size()) {
    size_t semi = v.find(';', pos);
    if (semi == std::string_view::npos) semi = v.size();
    std::string_view pair = TrimSpace(v.substr(pos, semi - pos));
    pos = semi + 1;
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string_view name, value;
    if (eq == std::string_view::npos) {
      value = pair;
    } else {
      name = TrimSpace(pair.substr(0, eq));
      value = TrimSpace(pair.substr(eq + 1));
    }
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    value = PercentDecode(value, false, out, &invalid);
    if (!name.empty()) out->Add(Target::kCookieName, name, name);
    if (!out->Add(Target::kCookie, name, value)) break;
  }
  if (invalid) out->SetFlag(kInvalidEncoding);
}

}  // namespace guard::request::internal
