// Request headers: names lowercased (HTTP names are case-insensitive; rules name them in lowercase),
// values kept raw. Cookie headers become cookie fields instead of a header field, so a rule on
// "headers" does not double-count what a rule on "cookies" sees. The first Content-Type chooses the body
// parser; a second one is flagged, because a backend that takes the last one would parse differently.
#include "request/parsers.h"

namespace guard::request::internal {
namespace {
std::string_view LowercaseName(std::string_view name, FieldList* out) {
  size_t i = 0;
  while (i < name.size() && !(name[i] >= 'A' && name[i] <= 'Z')) ++i;
  if (i == name.size()) return name;
  char* dst = out->Reserve(name.size());
  for (size_t k = 0; k < name.size(); ++k) {
    char c = name[k];
    dst[k] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
  }
  return out->Commit(name.size());
}
}  // namespace

void ParseHeaders(const guard_header* headers, size_t count, FieldList* out) {
  if (headers == nullptr) return;
  bool have_content_type = false;
  for (size_t i = 0; i < count; ++i) {
    std::string_view raw_name(headers[i].name.ptr, headers[i].name.ptr ? headers[i].name.len : 0);
    std::string_view value(headers[i].value.ptr, headers[i].value.ptr ? headers[i].value.len : 0);
    if (EqualsIgnoreCase(raw_name, "cookie")) {
      ParseCookies(value, out);
      continue;
    }
    if (EqualsIgnoreCase(raw_name, "content-type")) {
      if (have_content_type) out->SetFlag(kDuplicateContentType);
      else out->SetContentType(value);
      have_content_type = true;
    }
    if (out->full()) {  // keep looking for Content-Type and cookies, but do not lowercase into the arena
      out->SetFlag(kTooManyFields);
      continue;
    }
    std::string_view name = LowercaseName(raw_name, out);
    out->Add(Target::kHeaderName, name, name);
    out->Add(Target::kHeader, name, value);
  }
}

}  // namespace guard::request::internal
