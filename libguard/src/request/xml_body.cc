// XML bodies: a small bounded scanner, not a parser of the whole language, and it never expands entities.
//
// What detection needs from XML is the DTD (XXE lives in <!DOCTYPE ... [<!ENTITY x SYSTEM "file:...">]>)
// and the character data an application will read. So the scanner emits as kXml fields:
//   - the whole DOCTYPE declaration (name "doctype") and each ENTITY declaration of its internal subset
//     (name "entity"), verbatim;
//   - text and CDATA content (named by the most recently opened element), attribute values (named by the
//     attribute), and processing instructions other than <?xml ...?> (name "pi");
// Entity references (&xxe; &lt;) stay as written: expanding them is how XXE and billion-laughs work, and
// rules see the reference itself. Comments are skipped. Well-formedness is checked only as far as
// needed to know whether the fields are the whole story: unclosed constructs, unbalanced tags, text or
// a second element outside the root; such bodies are flagged kMalformedBody and also scanned raw.
// Element names are not matched against their end tags (no per-depth storage). Every construct is
// scanned once, forward, so the work is linear in the body.
#include "request/parsers.h"

namespace guard::request::internal {
namespace {
constexpr size_t npos = std::string_view::npos;

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool IsNameChar(char c) {
  return !IsSpace(c) && c != '/' && c != '>' && c != '=' && c != '<' && c != '"' && c != '\'';
}
bool IsBlank(std::string_view s) {
  for (char c : s)
    if (!IsSpace(c)) return false;
  return true;
}
bool At(std::string_view s, size_t i, std::string_view what) { return s.substr(i, what.size()) == what; }

// s[i] is a quote: the position after the matching quote, or npos.
size_t SkipQuoted(std::string_view s, size_t i) {
  size_t end = s.find(s[i], i + 1);
  return end == npos ? npos : end + 1;
}

// A markup declaration inside the DTD (<!ENTITY ...>, <!ELEMENT ...>): position after its '>', quotes
// respected (an entity value may contain '>'), or npos.
size_t SkipDeclaration(std::string_view s, size_t i) {
  while (i < s.size()) {
    char c = s[i];
    if (c == '"' || c == '\'') {
      i = SkipQuoted(s, i);
      if (i == npos) return npos;
      continue;
    }
    if (c == '>') return i + 1;
    ++i;
  }
  return npos;
}

// s[i..] starts with "<!DOCTYPE": emits the ENTITY declarations and returns the position after the
// closing '>' of the DOCTYPE, or npos when it is not closed.
size_t ScanDoctype(std::string_view s, size_t i, FieldList* out) {
  i += 9;
  bool in_subset = false;
  while (i < s.size()) {
    char c = s[i];
    if (c == '"' || c == '\'') {
      i = SkipQuoted(s, i);
      if (i == npos) return npos;
    } else if (!in_subset && c == '[') {
      in_subset = true;
      ++i;
    } else if (in_subset && c == ']') {
      in_subset = false;
      ++i;
    } else if (!in_subset && c == '>') {
      return i + 1;
    } else if (in_subset && At(s, i, "<!--")) {
      size_t end = s.find("-->", i + 4);
      if (end == npos) return npos;
      i = end + 3;
    } else if (in_subset && At(s, i, "<!")) {
      size_t end = SkipDeclaration(s, i + 2);
      if (end == npos) return npos;
      if (StartsWithIgnoreCase(s.substr(i), "<!ENTITY")) out->Add(Target::kXml, "entity", s.substr(i, end - i));
      i = end;
    } else {
      ++i;
    }
  }
  return npos;
}
}  // namespace

bool ParseXmlBody(std::string_view s, bool truncated, FieldList* out) {
  const size_t n = s.size();
  size_t i = 0;
  long depth = 0;
  bool seen_root = false, malformed = false;
  std::string_view current;  // most recently opened element: names the text that follows
  // A UTF-8 byte order mark is not text outside the root.
  if (At(s, 0, "\xEF\xBB\xBF")) i = 3;
  while (i < n && !malformed) {
    if (s[i] != '<') {
      size_t lt = s.find('<', i);
      if (lt == npos) lt = n;
      std::string_view text = s.substr(i, lt - i);
      if (!IsBlank(text)) {
        if (depth == 0) malformed = true;
        out->Add(Target::kXml, current, text);
      }
      i = lt;
      continue;
    }
    if (At(s, i, "<?")) {
      size_t end = s.find("?>", i + 2);
      if (end == npos) break;
      size_t t = i + 2;
      while (t < end && IsNameChar(s[t]) && s[t] != '?') ++t;
      if (!EqualsIgnoreCase(s.substr(i + 2, t - i - 2), "xml")) out->Add(Target::kXml, "pi", s.substr(i, end + 2 - i));
      i = end + 2;
      continue;
    }
    if (At(s, i, "<!--")) {
      size_t end = s.find("-->", i + 4);
      if (end == npos) break;
      i = end + 3;
      continue;
    }
    if (At(s, i, "<![CDATA[")) {
      size_t end = s.find("]]>", i + 9);
      if (end == npos) break;
      if (depth == 0) malformed = true;
      out->Add(Target::kXml, current, s.substr(i + 9, end - i - 9));
      i = end + 3;
      continue;
    }
    if (StartsWithIgnoreCase(s.substr(i), "<!DOCTYPE")) {
      size_t end = ScanDoctype(s, i, out);
      out->Add(Target::kXml, "doctype", s.substr(i, end == npos ? npos : end - i));
      if (end == npos) break;
      if (seen_root) malformed = true;
      i = end;
      continue;
    }
    if (At(s, i, "<!")) {
      malformed = true;
      break;
    }
    if (At(s, i, "</")) {
      size_t end = s.find('>', i + 2);
      if (end == npos) break;
      if (--depth < 0) malformed = true;
      i = end + 1;
      continue;
    }
    // Start tag: name, attributes, then '>' or "/>".
    size_t j = i + 1;
    while (j < n && IsNameChar(s[j])) ++j;
    if (j == i + 1) {
      malformed = true;
      break;
    }
    current = s.substr(i + 1, j - i - 1);
    if (depth == 0 && seen_root) malformed = true;
    seen_root = true;
    bool closed = false, self_closing = false;
    while (j < n) {
      while (j < n && IsSpace(s[j])) ++j;
      if (j >= n) break;
      if (s[j] == '>') {
        closed = true;
        ++j;
        break;
      }
      if (At(s, j, "/>")) {
        closed = self_closing = true;
        j += 2;
        break;
      }
      size_t name_start = j;
      while (j < n && IsNameChar(s[j])) ++j;
      std::string_view attr = s.substr(name_start, j - name_start);
      if (attr.empty()) {  // stray '/', '=', quote or '<': keep going, but the fields are not the whole story
        malformed = true;
        ++j;
        continue;
      }
      while (j < n && IsSpace(s[j])) ++j;
      if (j >= n || s[j] != '=') continue;  // attribute without value (HTML-ish); lenient
      ++j;
      while (j < n && IsSpace(s[j])) ++j;
      if (j >= n) break;
      std::string_view value;
      if (s[j] == '"' || s[j] == '\'') {
        size_t end = SkipQuoted(s, j);
        if (end == npos) {
          j = n;
          break;
        }
        value = s.substr(j + 1, end - j - 2);
        j = end;
      } else {
        malformed = true;  // unquoted attribute value
        size_t start = j;
        while (j < n && !IsSpace(s[j]) && s[j] != '>') ++j;
        value = s.substr(start, j - start);
      }
      out->Add(Target::kXml, attr, value);
    }
    if (!closed) break;
    if (!self_closing) ++depth;
    i = j;
  }
  if (i < n || depth != 0 || !seen_root) malformed = true;
  if (malformed && !truncated) out->SetFlag(kMalformedBody);
  return !malformed && !out->full();
}

}  // namespace guard::request::internal
