// Parse(): the request lifecycle of the field model, top to bottom.
//
// method, path (percent-decoded once), query args, headers and cookies, then the body: the inspected part
// of the body is the first max_body_bytes; anything beyond, or a body the gateway could not read whole
// (GUARD_REQ_BODY_TRUNCATED), sets kBodyUninspected so the verdict reports it instead of passing silently.
//
// Body parser by Content-Type: urlencoded form, JSON (application/json, */*+json), XML (*/xml, */*+xml),
// multipart/form-data. The raw body is added as one kBody field only when no structured parser accepted
// the whole body: unlabelled or unknown types, malformed or truncated bodies, or bodies cut by a field or
// depth limit. When a parser did accept it, every value is already a decoded field, and scanning the raw
// bytes again would double the cost and double-count scores; when it did not, the raw body is the only
// place the rest of the payload is seen. An unlabelled body that looks like JSON is also parsed as JSON
// (quietly, no malformed flag): many backends parse JSON whatever the Content-Type says.
#include "request/parsers.h"

namespace guard::request {
namespace {
using internal::EqualsIgnoreCase;

std::string_view View(guard_str s) { return s.ptr ? std::string_view(s.ptr, s.len) : std::string_view(); }

enum class BodyKind { kNone, kForm, kJson, kXml, kMultipart };

BodyKind KindOf(std::string_view content_type) {
  std::string_view media = content_type.substr(0, content_type.find(';'));
  media = internal::TrimSpace(media);
  size_t slash = media.find('/');
  if (slash == std::string_view::npos) return BodyKind::kNone;
  std::string_view type = media.substr(0, slash), sub = media.substr(slash + 1);
  auto ends_with = [](std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && EqualsIgnoreCase(s.substr(s.size() - suffix.size()), suffix);
  };
  if (EqualsIgnoreCase(type, "application") && EqualsIgnoreCase(sub, "x-www-form-urlencoded")) return BodyKind::kForm;
  if (EqualsIgnoreCase(type, "multipart") && EqualsIgnoreCase(sub, "form-data")) return BodyKind::kMultipart;
  if (EqualsIgnoreCase(sub, "json") || ends_with(sub, "+json")) return BodyKind::kJson;
  if (EqualsIgnoreCase(sub, "xml") || ends_with(sub, "+xml")) return BodyKind::kXml;
  return BodyKind::kNone;
}

bool LooksLikeJson(std::string_view body) {
  for (char c : body) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    return c == '{' || c == '[';
  }
  return false;
}

void ParseBody(std::string_view body, bool truncated, const Limits& limits, FieldList* out) {
  bool accepted = false;
  switch (KindOf(out->content_type())) {
    case BodyKind::kForm:
      internal::ParseUrlEncoded(body, Target::kBodyArgName, Target::kBodyArg, out);
      accepted = !out->full() && !truncated;
      break;
    case BodyKind::kJson:
      accepted = internal::ParseJsonBody(body, limits, truncated, false, out);
      break;
    case BodyKind::kXml:
      accepted = internal::ParseXmlBody(body, truncated, out);
      break;
    case BodyKind::kMultipart:
      accepted = internal::ParseMultipartBody(body, out->content_type(), limits, truncated, out);
      break;
    case BodyKind::kNone:
      if (LooksLikeJson(body)) internal::ParseJsonBody(body, limits, truncated, true, out);
      break;
  }
  if (!accepted || out->full()) out->Add(Target::kBody, {}, body);
}

void ParseFields(const guard_request& req, const Limits& limits, FieldList* out) {
  out->Clear();
  out->SetMaxFields(limits.max_fields);
  bool invalid = false;

  out->Add(Target::kMethod, {}, View(req.method));

  std::string_view path = internal::PercentDecode(View(req.path), false, out, &invalid);
  if (!internal::IsValidUtf8(path)) invalid = true;
  out->Add(Target::kPath, {}, path);

  std::string_view query = View(req.query);
  internal::ParseUrlEncoded(query, Target::kArgName, Target::kArg, out);
  if (!invalid) {
    // Decoded names and values must be UTF-8: overlong forms (%c0%af for '/') are a classic evasion.
    for (const Field& f : out->fields())
      if ((f.target == Target::kArg || f.target == Target::kArgName) && !internal::IsValidUtf8(f.value)) {
        invalid = true;
        break;
      }
  }
  if (invalid) out->SetFlag(kInvalidEncoding);

  internal::ParseHeaders(req.headers, req.header_count, out);

  std::string_view body = View(req.body);
  bool truncated = (req.flags & GUARD_REQ_BODY_TRUNCATED) != 0;
  if (body.size() > limits.max_body_bytes) {
    body = body.substr(0, limits.max_body_bytes);
    truncated = true;
  }
  if (truncated) out->SetFlag(kBodyUninspected);
  if (!body.empty()) ParseBody(body, truncated, limits, out);
}
}  // namespace

void Parse(const guard_request& req, const Limits& limits, FieldList* out) {
  try {
    ParseFields(req, limits, out);
  } catch (...) {  // std::bad_alloc from a growing buffer: report, never unwind into the C ABI
    out->SetFlag(kBodyUninspected);
  }
}

}  // namespace guard::request
