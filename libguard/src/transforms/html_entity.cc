// kHtmlEntityDecode: named entities from a common set, decimal &#60; and hex &#x3c; references.
//
// Browsers decode references without the trailing ';' (&lt, &#60, &#x3c) and with any number of leading
// zeros (&#0000060;), and XSS payloads use both, so we do too. Digits are consumed however many there are
// (linear) but a value past U+10FFFF, a surrogate or NUL leaves the reference as text. Named entities are
// matched case-insensitively against a small table: the ones that spell markup and script punctuation
// (&lt; &colon; &lpar; &Tab; ...) matter for detection, the rest of HTML's 2000 names do not. &nbsp;
// becomes a plain space so that whitespace compression treats it like one. Output never exceeds input:
// each reference is at least as long as its UTF-8 encoding.
#include "transforms/transform_impl.h"

namespace guard::transforms::internal {
namespace {
struct Entity {
  std::string_view name;
  char ch;
};
constexpr Entity kEntities[] = {
    {"lt", '<'},      {"gt", '>'},      {"amp", '&'},     {"quot", '"'},    {"apos", '\''},
    {"nbsp", ' '},    {"tab", '\t'},    {"newline", '\n'}, {"colon", ':'},  {"semi", ';'},
    {"comma", ','},   {"period", '.'},  {"excl", '!'},    {"num", '#'},     {"dollar", '$'},
    {"percnt", '%'},  {"plus", '+'},    {"equals", '='},  {"quest", '?'},   {"commat", '@'},
    {"lpar", '('},    {"rpar", ')'},    {"lsqb", '['},    {"rsqb", ']'},    {"lbrack", '['},
    {"rbrack", ']'},  {"lcub", '{'},    {"rcub", '}'},    {"lbrace", '{'},  {"rbrace", '}'},
    {"sol", '/'},     {"bsol", '\\'},   {"lowbar", '_'},  {"grave", '`'},   {"verbar", '|'},
    {"vert", '|'},    {"hat", '^'},     {"ast", '*'},     {"midast", '*'},  {"tilde", '~'},
};
constexpr size_t kMaxNameLen = 7;

bool IsAlnum(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

int Digit(char c, bool hex) {
  if (hex) return HexDigit(c);
  return (c >= '0' && c <= '9') ? c - '0' : -1;
}

// Longest table name that prefixes in[i..] (case-insensitively); 0 when none.
const Entity* MatchName(std::string_view in, size_t i, size_t* len) {
  char buf[kMaxNameLen];
  size_t n = 0;
  while (n < kMaxNameLen && i + n < in.size() && IsAlnum(in[i + n])) {
    buf[n] = AsciiLower(in[i + n]);
    ++n;
  }
  const Entity* best = nullptr;
  for (const Entity& e : kEntities)
    if (e.name.size() <= n && std::string_view(buf, e.name.size()) == e.name &&
        (best == nullptr || e.name.size() > best->name.size()))
      best = &e;
  if (best) *len = best->name.size();
  return best;
}
}  // namespace

size_t HtmlEntityDecode(std::string_view in, char* out) {
  size_t n = 0, i = 0;
  const size_t len = in.size();
  while (i < len) {
    if (in[i] != '&') {
      out[n++] = in[i++];
      continue;
    }
    size_t j = i + 1;
    if (j < len && in[j] == '#') {
      ++j;
      bool hex = j < len && (in[j] == 'x' || in[j] == 'X');
      if (hex) ++j;
      size_t start = j;
      unsigned long cp = 0;
      while (j < len && Digit(in[j], hex) >= 0) {
        if (cp <= 0x10FFFF) cp = cp * (hex ? 16 : 10) + Digit(in[j], hex);  // saturates past the range
        ++j;
      }
      if (j > start && cp > 0 && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF)) {
        if (j < len && in[j] == ';') ++j;
        n += EncodeUtf8(static_cast<unsigned>(cp), out + n);  // <= j - i bytes: "&#N" is >= 3 bytes
        i = j;
        continue;
      }
    } else {
      size_t name_len = 0;
      if (const Entity* e = MatchName(in, j, &name_len)) {
        j += name_len;
        if (j < len && in[j] == ';') ++j;
        out[n++] = e->ch;
        i = j;
        continue;
      }
    }
    out[n++] = in[i++];  // not a reference we decode: keep the '&'
  }
  return n;
}

}  // namespace guard::transforms::internal
