// Query strings and application/x-www-form-urlencoded bodies.
//
// Only '&' separates pairs (';' is not a separator for the servers we protect, and treating it as one
// would split values the application sees whole). Names are kept as sent, brackets included: `a[]=1` and
// `a[b]=c` become fields named "a[]" and "a[b]", as in CRS, rather than guessing one framework's nesting.
// Empty names keep their value (`=x` is still scanned); a name without '=' has an empty value; empty
// pairs (`&&`) are skipped. Each name is also emitted as an *_NAMES field whose value is the name.
#include "request/parsers.h"

namespace guard::request::internal {

void ParseUrlEncoded(std::string_view s, Target name_target, Target value_target, FieldList* out) {
  bool invalid = false;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t amp = s.find('&', pos);
    if (amp == std::string_view::npos) amp = s.size();
    std::string_view pair = s.substr(pos, amp - pos);
    pos = amp + 1;
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string_view raw_name = pair.substr(0, eq);
    std::string_view raw_value = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    std::string_view name = PercentDecode(raw_name, true, out, &invalid);
    std::string_view value = PercentDecode(raw_value, true, out, &invalid);
    if (!name.empty()) out->Add(name_target, name, name);
    if (!out->Add(value_target, name, value)) break;  // limit reached: the rest would be dropped anyway
  }
  if (invalid) out->SetFlag(kInvalidEncoding);
}

}  // namespace guard::request::internal
