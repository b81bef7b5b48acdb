// multipart/form-data bodies (RFC 7578 / RFC 2046), parsed leniently the way servers parse them.
//
// The boundary comes from the Content-Type's boundary parameter (quoted or not; RFC 2046 allows at most
// 70 characters, we take up to kMaxBoundary). A delimiter is "--boundary" at the start of the body or
// right after a '\n' (CRLF or bare LF: servers accept both); it is searched with memmem, linear in the
// body. Each part's Content-Disposition gives `name` (kBodyArgName) and `filename` (kFileName, also
// filename*=charset''...), and its body becomes kBodyArg, cut at max_part_bytes (the rest is reported as
// kBodyUninspected). Other part headers are not fields. A body without a closing "--boundary--" is
// kMultipartUnclosed; a missing boundary, junk after a delimiter, an unclosed quote or duplicate
// name/filename parameters (which servers resolve differently) are kMalformedBody. Either way the raw
// body is scanned too.
#include <string.h>  // memmem (GNU)

#include "request/parsers.h"

namespace guard::request::internal {
namespace {
constexpr size_t kMaxBoundary = 200;
constexpr size_t npos = std::string_view::npos;

// Calls fn(name, value) for each `; name=value` parameter after the first token of a header value.
// Quoted values keep backslash escapes as written (the closing quote is the first one not escaped).
// Returns false if a quoted value is not closed.
template <typename Fn>
bool ForEachParam(std::string_view v, Fn fn) {
  size_t i = v.find(';');
  while (i != npos && i < v.size()) {
    ++i;  // past ';'
    while (i < v.size() && (v[i] == ' ' || v[i] == '\t')) ++i;
    size_t name_start = i;
    while (i < v.size() && v[i] != '=' && v[i] != ';') ++i;
    std::string_view name = TrimSpace(v.substr(name_start, i - name_start));
    if (i >= v.size() || v[i] == ';') {
      if (!name.empty()) fn(name, std::string_view());
      continue;
    }
    ++i;  // past '='
    while (i < v.size() && (v[i] == ' ' || v[i] == '\t')) ++i;
    std::string_view value;
    if (i < v.size() && v[i] == '"') {
      size_t j = i + 1;
      while (j < v.size() && v[j] != '"') j += (v[j] == '\\') ? 2 : 1;
      if (j >= v.size()) return false;
      value = v.substr(i + 1, j - i - 1);
      i = v.find(';', j + 1);
    } else {
      size_t end = v.find(';', i);
      value = TrimSpace(v.substr(i, end == npos ? npos : end - i));
      i = end;
    }
    fn(name, value);
  }
  return true;
}

// glibc's memmem is linear in the worst case (Two-Way fallback), unlike string_view::find (O(n*m)).
size_t Find(std::string_view hay, std::string_view needle, size_t from) {
  if (from > hay.size()) return npos;
  const void* at = memmem(hay.data() + from, hay.size() - from, needle.data(), needle.size());
  return at ? static_cast<size_t>(static_cast<const char*>(at) - hay.data()) : npos;
}

// Next delimiter at or after `from` that starts the body or follows a '\n'. nl_delim is "\n--boundary":
// searching for it (rather than for every "--boundary" and then checking the byte before) keeps the
// total work linear even when the body is full of near-misses.
size_t FindDelimiter(std::string_view body, std::string_view nl_delim, size_t from) {
  if (from == 0 && body.substr(0, nl_delim.size() - 1) == nl_delim.substr(1)) return 0;
  size_t at = Find(body, nl_delim, from == 0 ? 0 : from - 1);
  return at == npos ? npos : at + 1;
}
}  // namespace

bool ParseMultipartBody(std::string_view body, std::string_view content_type, const Limits& limits,
                        bool truncated, FieldList* out) {
  std::string_view boundary;
  bool malformed = !ForEachParam(content_type, [&](std::string_view name, std::string_view value) {
    if (boundary.empty() && EqualsIgnoreCase(name, "boundary")) boundary = value;
  });
  if (boundary.empty() || boundary.size() > kMaxBoundary) {
    out->SetFlag(kMalformedBody);  // the Content-Type itself is wrong: truncation does not explain it
    return false;
  }
  std::string& nl_delim = out->scratch().text;
  nl_delim.assign("\n--");
  nl_delim.append(boundary.data(), boundary.size());
  const std::string_view delim = std::string_view(nl_delim).substr(1);

  size_t pos = FindDelimiter(body, nl_delim, 0);
  bool closed = false;
  size_t parts = 0;
  bool invalid = false;
  while (pos != npos && !malformed) {
    size_t p = pos + delim.size();
    if (body.substr(p, 2) == "--") {
      closed = true;  // the epilogue after the close delimiter is ignored, as by servers
      break;
    }
    while (p < body.size() && (body[p] == ' ' || body[p] == '\t')) ++p;  // transport padding
    if (body.substr(p, 2) == "\r\n") p += 2;
    else if (p < body.size() && body[p] == '\n') p += 1;
    else {
      if (p < body.size()) malformed = true;
      break;
    }
    // Part headers, up to the empty line.
    std::string_view name, filename;
    int names = 0, filenames = 0;
    bool headers_done = false;
    while (p < body.size()) {
      size_t eol = body.find('\n', p);
      if (eol == npos) break;
      std::string_view line = body.substr(p, eol - p);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      p = eol + 1;
      if (line.empty()) {
        headers_done = true;
        break;
      }
      size_t colon = line.find(':');
      if (colon == npos) continue;
      if (!EqualsIgnoreCase(TrimSpace(line.substr(0, colon)), "content-disposition")) continue;
      if (!ForEachParam(line.substr(colon + 1), [&](std::string_view k, std::string_view v) {
            if (EqualsIgnoreCase(k, "name")) {
              name = v;
              ++names;
            } else if (EqualsIgnoreCase(k, "filename")) {
              filename = v;
              ++filenames;
            } else if (EqualsIgnoreCase(k, "filename*")) {
              size_t tick = v.find("''");  // charset'lang'percent-encoded
              filename = PercentDecode(tick == npos ? v : v.substr(tick + 2), false, out, &invalid);
              ++filenames;
            }
          }))
        malformed = true;
    }
    if (!headers_done) break;  // body ended inside the part headers: unclosed
    if (names > 1 || filenames > 1) malformed = true;

    size_t next = FindDelimiter(body, nl_delim, p);
    size_t end = next == npos ? body.size() : next - 1;  // drop the '\n' before the delimiter...
    if (next != npos && end > p && body[end - 1] == '\r') --end;  // ...and the '\r' of a CRLF
    if (end < p) end = p;
    std::string_view content = body.substr(p, end - p);
    if (content.size() > limits.max_part_bytes) {
      content = content.substr(0, limits.max_part_bytes);
      out->SetFlag(kBodyUninspected);
    }
    if (!name.empty()) out->Add(Target::kBodyArgName, name, name);
    if (filenames > 0) {
      out->Add(Target::kFileName, name, filename);
      out->Add(Target::kFileContent, name, content);
    } else {
      out->Add(Target::kBodyArg, name, content);
    }
    ++parts;
    pos = next;
  }
  if (invalid) out->SetFlag(kInvalidEncoding);
  if (parts == 0 && closed) malformed = true;  // "--b--" and nothing else
  if (!truncated) {
    if (malformed || (pos == npos && parts == 0)) out->SetFlag(kMalformedBody);
    else if (!closed) out->SetFlag(kMultipartUnclosed);
  }
  return closed && !malformed && !out->full();
}

}  // namespace guard::request::internal
