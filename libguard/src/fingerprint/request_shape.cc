// Request-shape fingerprint: value classes, route templates, the token skeleton of flagged values, and
// the hash over all of them. Everything here runs per request, so it works in fixed stack buffers.
#include "fingerprint/request_shape.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include "absl/container/flat_hash_set.h"

namespace guard::fingerprint {
namespace {

// Appends into a fixed buffer; past the end it only counts (the count is hashed, so truncated inputs of
// different lengths still differ).
template <size_t N>
struct FixedWriter {
  char buf[N];
  size_t n = 0;
  size_t dropped = 0;
  void Put(std::string_view s) {
    size_t k = std::min(s.size(), N - n);
    std::memcpy(buf + n, s.data(), k);
    n += k;
    dropped += s.size() - k;
  }
  void Put(char c) { Put(std::string_view(&c, 1)); }
  std::string_view view() const { return {buf, n}; }
};

inline bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }
inline bool IsHex(unsigned char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
inline bool IsAlpha(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
inline bool IsSpace(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
inline char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s)
    if (!IsDigit(c)) return false;
  return true;
}

bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < 36; ++i) {
    bool dash = (i == 8 || i == 13 || i == 18 || i == 23);
    if (dash ? s[i] != '-' : !IsHex(s[i])) return false;
  }
  return true;
}

// >= 8 hex digits with at least one digit ("deadline" is a word, "5f0c9a1e" an id).
bool IsHexId(std::string_view s) {
  if (s.size() < 8) return false;
  bool digit = false;
  for (unsigned char c : s) {
    if (!IsHex(c)) return false;
    digit |= IsDigit(c);
  }
  return digit;
}

bool IsEmail(std::string_view s) {
  size_t at = s.find('@');
  if (at == 0 || at == std::string_view::npos || at + 1 >= s.size()) return false;
  for (size_t i = 0; i < at; ++i) {
    unsigned char c = s[i];
    if (!(IsAlpha(c) || IsDigit(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-')) return false;
  }
  std::string_view dom = s.substr(at + 1);
  size_t dot = dom.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 2 > dom.size()) return false;
  for (unsigned char c : dom)
    if (!(IsAlpha(c) || IsDigit(c) || c == '.' || c == '-')) return false;
  return true;
}

// YYYY-MM-DD, optionally followed by a time ("T10:00:00Z", " 10:00", "+02:00").
bool IsDate(std::string_view s) {
  if (s.size() < 10) return false;
  for (size_t i = 0; i < 10; ++i) {
    if ((i == 4 || i == 7) ? s[i] != '-' : !IsDigit(s[i])) return false;
  }
  for (unsigned char c : s.substr(10))
    if (!(IsDigit(c) || c == ':' || c == 'T' || c == 'Z' || c == ' ' || c == '.' || c == '+' || c == '-'))
      return false;
  return true;
}

bool IsIpv4(std::string_view s) {
  int parts = 0;
  size_t i = 0;
  while (i <= s.size()) {
    size_t j = i;
    int v = 0;
    while (j < s.size() && IsDigit(s[j]) && j - i < 3) v = v * 10 + (s[j++] - '0');
    if (j == i || v > 255) return false;
    ++parts;
    if (j == s.size()) return parts == 4;
    if (s[j] != '.') return false;
    i = j + 1;
  }
  return false;
}

bool IsUrl(std::string_view s) {
  size_t p = s.find("://");
  if (p == std::string_view::npos || p == 0 || p > 10) return false;
  for (size_t i = 0; i < p; ++i)
    if (!IsAlpha(s[i])) return false;
  for (unsigned char c : s)
    if (c <= ' ' || c == 0x7f) return false;
  return true;
}

// Long opaque tokens: session ids, JWT parts, API keys. Mixing letters and digits separates them from
// long words.
bool IsToken(std::string_view s, bool allow_padding) {
  if (s.size() < 16) return false;
  bool alpha = false, digit = false;
  size_t pad = 0;
  for (unsigned char c : s) {
    if (c == '=' && allow_padding) {
      ++pad;
      continue;
    }
    if (pad) return false;  // '=' only at the end
    if (IsAlpha(c)) alpha = true;
    else if (IsDigit(c)) digit = true;
    else if (!(c == '-' || c == '_' || (allow_padding && (c == '+' || c == '/')))) return false;
  }
  return alpha && digit && pad <= 2;
}

bool IsFloat(std::string_view s) {
  size_t i = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
  size_t d1 = 0, d2 = 0;
  while (i < s.size() && IsDigit(s[i])) ++i, ++d1;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && IsDigit(s[i])) ++i, ++d2;
  }
  if (d1 + d2 == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    size_t d3 = 0;
    while (i < s.size() && IsDigit(s[i])) ++i, ++d3;
    if (d3 == 0) return false;
  }
  return i == s.size();
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (Lower(a[i]) != b[i]) return false;
  return true;
}

// ---- Route template -------------------------------------------------------------------------------

std::string_view SegmentClass(std::string_view seg) {
  if (seg.empty()) return {};
  if (AllDigits(seg)) return "{int}";
  if (IsUuid(seg)) return "{uuid}";
  if (IsHexId(seg)) return "{hex}";
  if (IsEmail(seg)) return "{email}";
  if (IsDate(seg)) return "{date}";
  if (IsToken(seg, false)) return "{token}";
  if (seg.size() > 64) return "{long}";
  return {};
}

template <class W>
void EmitTemplate(std::string_view path, W& w) {
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view seg = path.substr(i, j - i);
    std::string_view cls = SegmentClass(seg);
    w.Put(cls.empty() ? seg : cls);
    if (j < path.size()) w.Put('/');
    i = j + 1;
  }
}

// ---- Token skeleton ---------------------------------------------------------------------------------

// One pass of the decodings attackers stack on a payload: %XX, %uXXXX, HTML entities, full-width ASCII;
// NULs dropped, ASCII lowercased. Never grows the input, so out needs in.size() bytes.
size_t DecodePass(std::string_view in, char* out) {
  size_t o = 0;
  for (size_t i = 0; i < in.size();) {
    unsigned char c = in[i];
    auto hexv = [](unsigned char h) -> int {
      return IsDigit(h) ? h - '0' : (h >= 'a' && h <= 'f') ? h - 'a' + 10 : (h >= 'A' && h <= 'F') ? h - 'A' + 10 : -1;
    };
    if (c == '%' && i + 2 < in.size() && hexv(in[i + 1]) >= 0 && hexv(in[i + 2]) >= 0) {
      c = static_cast<unsigned char>(hexv(in[i + 1]) * 16 + hexv(in[i + 2]));
      i += 3;
    } else if (c == '%' && i + 5 < in.size() && (in[i + 1] == 'u' || in[i + 1] == 'U') && hexv(in[i + 2]) >= 0 &&
               hexv(in[i + 3]) >= 0 && hexv(in[i + 4]) >= 0 && hexv(in[i + 5]) >= 0) {
      unsigned cp = (hexv(in[i + 2]) << 12) | (hexv(in[i + 3]) << 8) | (hexv(in[i + 4]) << 4) | hexv(in[i + 5]);
      i += 6;
      if (cp >= 0xFF01 && cp <= 0xFF5E) cp -= 0xFEE0;  // full-width ASCII
      if (cp < 0x80) {
        c = static_cast<unsigned char>(cp);
      } else {
        out[o++] = static_cast<char>(0x80);  // any other code point: one opaque non-ASCII byte
        continue;
      }
    } else if (c == '&') {
      // &lt; &gt; &quot; &apos; &amp; &#NN; &#xHH; (the ';' is optional, as browsers accept).
      static constexpr std::pair<std::string_view, char> kNamed[] = {
          {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}, {"amp", '&'}, {"sol", '/'}, {"colon", ':'},
          {"lpar", '('}, {"rpar", ')'}, {"tab", '\t'}, {"newline", '\n'}};
      std::string_view rest = in.substr(i + 1);
      bool done = false;
      if (!rest.empty() && rest[0] == '#') {
        size_t k = 1;
        unsigned cp = 0;
        bool hex = k < rest.size() && (rest[k] == 'x' || rest[k] == 'X');
        if (hex) ++k;
        size_t start = k;
        while (k < rest.size() && k - start < 7 && (hex ? hexv(rest[k]) >= 0 : IsDigit(rest[k])))
          cp = cp * (hex ? 16 : 10) + (hex ? hexv(rest[k]) : rest[k] - '0'), ++k;
        if (k > start) {
          if (k < rest.size() && rest[k] == ';') ++k;
          i += 1 + k;
          if (cp >= 0xFF01 && cp <= 0xFF5E) cp -= 0xFEE0;
          if (cp == 0) continue;
          if (cp >= 0x80) {
            out[o++] = static_cast<char>(0x80);
            continue;
          }
          c = static_cast<unsigned char>(cp);
          done = true;
        }
      } else {
        for (auto& [name, ch] : kNamed) {
          if (rest.size() >= name.size() && EqualsIgnoreCase(rest.substr(0, name.size()), name)) {
            size_t k = name.size();
            if (k < rest.size() && rest[k] == ';') ++k;
            i += 1 + k;
            c = static_cast<unsigned char>(ch);
            done = true;
            break;
          }
        }
      }
      if (!done) ++i;
    } else if (c == 0xEF && i + 2 < in.size() && (static_cast<unsigned char>(in[i + 1]) == 0xBC ||
                                                  static_cast<unsigned char>(in[i + 1]) == 0xBD)) {
      unsigned cp = ((c & 0x0F) << 12) | ((in[i + 1] & 0x3F) << 6) | (in[i + 2] & 0x3F);
      if (cp >= 0xFF01 && cp <= 0xFF5E) {
        c = static_cast<unsigned char>(cp - 0xFEE0);
        i += 3;
      } else {
        ++i;
      }
    } else {
      ++i;
    }
    if (c == 0) continue;
    out[o++] = Lower(static_cast<char>(c));
  }
  return o;
}

// Up to three passes (double and triple encoding), stopping when a pass changes nothing.
std::string_view DecodeForSkeleton(std::string_view in, char* a, char* b) {
  in = in.substr(0, kMaxSkeletonInput);
  std::string_view cur = in;
  char* bufs[2] = {a, b};
  for (int pass = 0; pass < 3; ++pass) {
    char* out = bufs[pass & 1];
    size_t n = DecodePass(cur, out);
    std::string_view next(out, n);
    bool same = next == cur;
    cur = next;
    if (same) break;
  }
  return cur;
}

// Identifiers kept literally in a skeleton: the words that make an attack what it is. Everything else
// becomes 'w' (word), 'f' (called function) or 'v' (variable).
const absl::flat_hash_set<std::string_view>& Keywords() {
  static const auto* set = new absl::flat_hash_set<std::string_view>{
      // SQL
      "select", "union", "all", "distinct", "from", "where", "insert", "into", "values", "update", "set",
      "delete", "drop", "table", "create", "alter", "exec", "execute", "declare", "cast", "convert", "char",
      "concat", "group_concat", "substring", "substr", "ascii", "sleep", "benchmark", "waitfor", "delay",
      "order", "by", "group", "having", "limit", "offset", "like", "rlike", "regexp", "between", "in", "is",
      "not", "null", "case", "when", "then", "else", "end", "if", "load_file", "outfile", "dumpfile",
      "information_schema", "sysobjects", "version", "database", "user", "pg_sleep", "extractvalue",
      "updatexml", "true", "false", "top", "procedure", "shutdown", "xp_cmdshell",
      // HTML / JS
      "script", "img", "svg", "iframe", "body", "object", "embed", "style", "link", "meta", "base", "form",
      "input", "video", "audio", "math", "details", "marquee", "src", "href", "javascript", "vbscript",
      "data", "alert", "prompt", "confirm", "eval", "document", "cookie", "window", "location",
      "fromcharcode", "constructor", "prototype", "__proto__", "expression", "import",
      // shell
      "cat", "ls", "id", "whoami", "uname", "wget", "curl", "nc", "ncat", "bash", "sh", "zsh", "python",
      "perl", "php", "ruby", "ping", "nslookup", "echo", "rm", "chmod", "powershell", "cmd", "ifs",
      // traversal targets
      "etc", "proc", "windows", "system32", "passwd", "shadow", "environ", "boot", "ini",
      // JNDI / URL schemes / SSTI
      "jndi", "ldap", "ldaps", "rmi", "dns", "iiop", "corba", "nis", "nds", "http", "https", "file",
      "gopher", "dict", "expect", "phar", "class", "request", "config", "self", "lower", "upper", "env",
  };
  return *set;
}

// Static one-character token strings, so a token is always a view into static storage.
const char* OneCharTokens() {
  static const auto* table = [] {
    auto* t = new std::array<char, 256>();
    for (int i = 0; i < 256; ++i) (*t)[i] = static_cast<char>(i);
    return t;
  }();
  return table->data();
}

// Collapses repeats as they arrive: "w w" -> "w", and a repeated pair "a b a b" -> "a b", so that the
// number of columns in a UNION, of ../ in a traversal or of words in a string does not matter.
struct TokenList {
  std::string_view toks[kMaxSkeletonTokens + 2];
  size_t n = 0;
  bool truncated = false;
  bool stopped = false;
  void Push(std::string_view t) {
    if (stopped) return;
    if (n >= 1 && toks[n - 1] == t) return;
    toks[n++] = t;
    if (n >= 4 && toks[n - 1] == toks[n - 3] && toks[n - 2] == toks[n - 4]) n -= 2;
    if (n > kMaxSkeletonTokens) {
      n = kMaxSkeletonTokens;
      truncated = true;
      stopped = true;
    }
  }
};

inline bool IsIdentStart(unsigned char c) { return (c >= 'a' && c <= 'z') || c == '_' || c >= 0x80; }
inline bool IsIdentChar(unsigned char c) { return IsIdentStart(c) || IsDigit(c); }

size_t SkipSpaces(std::string_view s, size_t i) {
  while (i < s.size() && IsSpace(s[i])) ++i;
  return i;
}

// A libinjection-like tokeniser over decoded, lowercased text. Literals are abstracted (s: string,
// n: number, w: word, f: function call, v: variable, e: event-handler attribute, o: logical operator,
// c: comment to the end, P: parent directory), keywords and punctuation are kept.
void Tokenize(std::string_view s, TokenList* out) {
  const char* one = OneCharTokens();
  size_t i = 0;
  // Injections usually start inside a quoted string of the host query: ' OR 1=1 -- and
  // 1' or '1'='1 break out of it. As libinjection does with its quote contexts, the text up to the
  // first quote is taken as the end of such a string when the quotes are unbalanced, or when only a
  // plain literal (admin, 1, a.b) precedes that quote.
  size_t fq = s.find_first_of("'\"`");
  if (fq != std::string_view::npos) {
    size_t count = std::count(s.begin(), s.end(), s[fq]);
    bool plain_prefix = fq > 0;
    for (size_t k = 0; k < fq && plain_prefix; ++k)
      plain_prefix = IsIdentChar(s[k]) || s[k] == '.' || s[k] == '-' || s[k] == '@';
    if (count % 2 == 1 || plain_prefix) {
      out->Push("s");
      i = fq + 1;
    }
  }
  while (i < s.size() && !out->stopped) {
    unsigned char c = s[i];
    unsigned char d = i + 1 < s.size() ? static_cast<unsigned char>(s[i + 1]) : 0;
    if (IsSpace(c)) {
      ++i;
    } else if (c == '/' && d == '*') {
      if (i + 2 < s.size() && s[i + 2] == '!') {  // MySQL /*!50000 select */: the content is code
        i += 3;
        while (i < s.size() && IsDigit(s[i])) ++i;
        continue;
      }
      size_t e = s.find("*/", i + 2);
      if (e == std::string_view::npos) {
        out->Push("c");
        break;
      }
      i = e + 2;  // an inline comment is whitespace: UNION/**/SELECT == UNION SELECT
    } else if (c == '*' && d == '/') {
      i += 2;
    } else if ((c == '-' && d == '-') || c == '#') {
      out->Push("c");
      break;
    } else if (c == '\'' || c == '"' || c == '`') {
      size_t j = i + 1;
      while (j < s.size()) {
        if (s[j] == '\\') {
          j += 2;
          continue;
        }
        if (s[j] == static_cast<char>(c)) {
          if (j + 1 < s.size() && s[j + 1] == static_cast<char>(c)) {  // '' inside a SQL string
            j += 2;
            continue;
          }
          break;
        }
        ++j;
      }
      out->Push("s");
      i = j < s.size() ? j + 1 : s.size();
    } else if (IsDigit(c) || (c == '.' && IsDigit(d))) {
      size_t j = i;
      if (c == '0' && (d == 'x' || d == 'b')) {
        j += 2;
        while (j < s.size() && IsHex(s[j])) ++j;
      } else {
        while (j < s.size() && (IsDigit(s[j]) || s[j] == '.')) ++j;
        if (j < s.size() && s[j] == 'e' && j + 1 < s.size() && (IsDigit(s[j + 1]) || s[j + 1] == '-' || s[j + 1] == '+')) {
          j += 2;
          while (j < s.size() && IsDigit(s[j])) ++j;
        }
      }
      out->Push("n");
      i = j;
    } else if (c == '.' && d == '.') {
      out->Push("P");
      i += 2;
      while (i < s.size() && s[i] == '.') ++i;
    } else if ((c == '|' && d == '|') || (c == '&' && d == '&')) {
      out->Push("o");
      i += 2;
    } else if ((c == '<' || c == '>' || c == '!' || c == '=' || c == ':') && d == '=') {
      static constexpr std::string_view kOps[] = {"<=", ">=", "!=", "==", ":="};
      out->Push(kOps[c == '<' ? 0 : c == '>' ? 1 : c == '!' ? 2 : c == '=' ? 3 : 4]);
      i += 2;
    } else if (c == '<' && d == '>') {
      out->Push("<>");
      i += 2;
    } else if ((c == '@' || c == '$') && (IsIdentStart(d) || (c == '@' && d == '@'))) {
      size_t j = i + 1;
      if (s[j] == '@') ++j;
      while (j < s.size() && IsIdentChar(s[j])) ++j;
      out->Push("v");
      i = j;
    } else if (IsIdentStart(c)) {
      size_t j = i;
      while (j < s.size() && IsIdentChar(s[j])) ++j;
      std::string_view word = s.substr(i, j - i);
      size_t next = SkipSpaces(s, j);
      char nc = next < s.size() ? s[next] : 0;
      if (word == "or" || word == "and" || word == "xor") {
        out->Push("o");
      } else if (auto it = Keywords().find(word); it != Keywords().end()) {
        out->Push(*it);  // the set's own static view, not the scratch buffer
      } else if (word.size() > 4 && word.substr(0, 2) == "on" && nc == '=') {
        out->Push("e");
      } else if (nc == '(') {
        out->Push("f");
      } else {
        out->Push("w");
      }
      i = j;
    } else {
      out->Push(std::string_view(one + c, 1));
      ++i;
    }
  }
}

void SkeletonOf(std::string_view value, TokenList* out) {
  char a[kMaxSkeletonInput], b[kMaxSkeletonInput];
  Tokenize(DecodeForSkeleton(value, a, b), out);
}

template <class W>
void EmitSkeleton(const TokenList& t, W& w) {
  for (size_t i = 0; i < t.n; ++i) {
    if (i) w.Put(' ');
    w.Put(t.toks[i]);
  }
  if (t.truncated) w.Put(" ...");
}

// ---- Parameters -------------------------------------------------------------------------------------

// Array indices in names ("items[3]", "items.3.sku") become '#', so arrays of any length share a shape.
template <class W>
void EmitName(std::string_view name, W& w) {
  size_t i = 0;
  while (i < name.size()) {
    bool at_start = i == 0 || name[i - 1] == '.' || name[i - 1] == '[';
    if (at_start && IsDigit(name[i])) {
      size_t j = i;
      while (j < name.size() && IsDigit(name[j])) ++j;
      if (j == name.size() || name[j] == '.' || name[j] == ']') {
        w.Put('#');
        i = j;
        continue;
      }
    }
    w.Put(name[i]);
    ++i;
  }
}

constexpr char kSourceTag[] = {'q', 'b', 'c', 'h'};

template <class W>
void EmitParam(const ShapeParam& p, W& w) {
  w.Put(kSourceTag[static_cast<int>(p.source) & 3]);
  w.Put(':');
  EmitName(p.name, w);
  if (p.flagged) {
    // '!' tags a skeleton; '=' tags a class. A flagged value can never produce the text of a class.
    w.Put('!');
    TokenList t;
    SkeletonOf(p.value, &t);
    EmitSkeleton(t, w);
  } else {
    w.Put('=');
    w.Put(ValueClassName(ClassifyValue(p.value)));
  }
}

template <class W>
void EmitMethod(std::string_view m, W& w) {
  for (char c : m.substr(0, 32)) w.Put((c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c);
}

template <class W>
void EmitRoute(const ShapeInput& in, W& w) {
  if (in.path_flagged) {
    w.Put('!');
    TokenList t;
    SkeletonOf(in.path, &t);
    EmitSkeleton(t, w);
  } else {
    EmitTemplate(in.path, w);
  }
}

}  // namespace

std::string_view ValueClassName(ValueClass c) {
  static constexpr std::string_view kNames[] = {"empty", "bool", "int",    "float", "hex",  "uuid", "email",
                                                "date",  "ipv4", "url",    "base64", "word", "text", "binary"};
  return kNames[static_cast<int>(c)];
}

namespace {

// Byte kinds for ClassifyValue: one table pass tells which shape tests can possibly succeed, so that a
// value is not walked once per shape (it runs on every argument of every request).
enum ByteKind : uint16_t {
  kKindDigit = 1 << 0,
  kKindHexLetter = 1 << 1,    // a-f A-F
  kKindOtherLetter = 1 << 2,  // g-z G-Z
  kKindDash = 1 << 3,
  kKindPlus = 1 << 4,
  kKindDot = 1 << 5,
  kKindAt = 1 << 6,
  kKindColon = 1 << 7,
  kKindSlash = 1 << 8,
  kKindUnderscore = 1 << 9,
  kKindEquals = 1 << 10,
  kKindControl = 1 << 11,  // below 0x20 except \t \n \r, and 0x7f
  kKindHigh = 1 << 12,     // >= 0x80
  kKindOther = 1 << 13,
};
constexpr uint16_t kKindLetter = kKindHexLetter | kKindOtherLetter;

struct ByteKindTable {
  uint16_t of[256] = {};
  constexpr ByteKindTable() {
    for (int c = 0; c < 256; ++c) {
      uint16_t k = kKindOther;
      if (c >= '0' && c <= '9') k = kKindDigit;
      else if ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) k = kKindHexLetter;
      else if ((c >= 'g' && c <= 'z') || (c >= 'G' && c <= 'Z')) k = kKindOtherLetter;
      else if (c == '-') k = kKindDash;
      else if (c == '+') k = kKindPlus;
      else if (c == '.') k = kKindDot;
      else if (c == '@') k = kKindAt;
      else if (c == ':') k = kKindColon;
      else if (c == '/') k = kKindSlash;
      else if (c == '_') k = kKindUnderscore;
      else if (c == '=') k = kKindEquals;
      else if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) k = kKindControl;
      else if (c >= 0x80) k = kKindHigh;
      of[c] = k;
    }
  }
};
constexpr ByteKindTable kByteKinds;

}  // namespace

// The tests in order, each gated on a condition its definition implies (the bytes it allows, a length),
// so the class is the same as running every test in turn.
ValueClass ClassifyValue(std::string_view v) {
  if (v.empty()) return ValueClass::kEmpty;
  uint32_t seen = 0;
  for (unsigned char c : v) seen |= kByteKinds.of[c];
  auto only = [seen](uint32_t allowed) { return (seen & ~allowed) == 0; };
  if (v.size() <= 5 && only(kKindLetter)) {
    for (std::string_view b : {"true", "false", "yes", "no", "on", "off"})
      if (EqualsIgnoreCase(v, b)) return ValueClass::kBool;
  }
  if (only(kKindDigit | kKindDash | kKindPlus | kKindDot | kKindHexLetter)) {  // numbers, incl. 1e5
    std::string_view digits = (v[0] == '-' || v[0] == '+') ? v.substr(1) : v;
    if (AllDigits(digits) && digits.size() <= 19) return ValueClass::kInt;
    if (IsFloat(v)) return ValueClass::kFloat;
  }
  if (only(kKindDigit | kKindHexLetter | kKindDash)) {
    if (IsUuid(v)) return ValueClass::kUuid;
    if (IsHexId(v)) return ValueClass::kHex;
  }
  if (IsDate(v)) return ValueClass::kDate;  // fails on the first byte unless it is a digit
  if (only(kKindDigit | kKindDot) && IsIpv4(v)) return ValueClass::kIpv4;
  if ((seen & kKindAt) && IsEmail(v)) return ValueClass::kEmail;
  if ((seen & kKindColon) && (seen & kKindSlash) && IsUrl(v)) return ValueClass::kUrl;
  if (v.size() >= 16 &&
      only(kKindLetter | kKindDigit | kKindDash | kKindUnderscore | kKindEquals | kKindPlus | kKindSlash) &&
      IsToken(v, true)) {
    return ValueClass::kBase64;
  }
  if (seen & kKindControl) return ValueClass::kBinary;
  return only(kKindLetter | kKindDigit | kKindUnderscore | kKindDash | kKindDot | kKindHigh) ? ValueClass::kWord
                                                                                               : ValueClass::kText;
}

void RouteTemplate(std::string_view path, std::string* out) {
  out->clear();
  struct StringWriter {
    std::string* s;
    void Put(std::string_view v) { s->append(v); }
    void Put(char c) { s->push_back(c); }
  } w{out};
  EmitTemplate(path, w);
}

uint64_t RouteTemplateHash(std::string_view path) {
  FixedWriter<2048> w;
  EmitTemplate(path, w);
  StableHasher h;
  h.Add(w.view());
  h.AddU64(w.dropped);
  return h.Finish().lo;
}

bool LastNumericSegment(std::string_view path, uint64_t* id) {
  size_t end = path.size();
  while (end > 0) {
    size_t start = path.rfind('/', end - 1);
    start = start == std::string_view::npos ? 0 : start + 1;
    std::string_view seg = path.substr(start, end - start);
    if (AllDigits(seg) && seg.size() <= 18) {
      uint64_t v = 0;
      for (char c : seg) v = v * 10 + static_cast<uint64_t>(c - '0');
      *id = v;
      return true;
    }
    if (start == 0) break;
    end = start - 1;
  }
  return false;
}

std::string TokenSkeleton(std::string_view value) {
  TokenList t;
  SkeletonOf(value, &t);
  std::string out;
  struct StringWriter {
    std::string* s;
    void Put(std::string_view v) { s->append(v); }
    void Put(char c) { s->push_back(c); }
  } w{&out};
  EmitSkeleton(t, w);
  return out;
}

RequestFingerprint FingerprintRequest(const ShapeInput& in) {
  RequestFingerprint fp;
  StableHasher h;
  h.AddU64(kShapeVersion);
  {
    FixedWriter<64> m;
    EmitMethod(in.method, m);
    h.Add(m.view());
  }
  {
    FixedWriter<2048> r;
    EmitRoute(in, r);
    h.Add(r.view());
    h.AddU64(r.dropped);
  }
  fp.flagged = in.path_flagged ? 1 : 0;
  // Parameters are hashed one by one and the hashes sorted: the multiset of parameters, in any order.
  // Plain words, not Hash128: its member initialisers would zero all 2 KiB on every request.
  struct ParamHash {
    uint64_t hi, lo;
    bool operator<(const ParamHash& o) const { return hi != o.hi ? hi < o.hi : lo < o.lo; }  // Hash128's order
  };
  ParamHash params[kMaxShapeParams];
  size_t n = std::min(in.params.size(), kMaxShapeParams);
  fp.cacheable = in.params.size() <= kMaxShapeParams;
  for (size_t i = 0; i < n; ++i) {
    FixedWriter<2048> w;
    EmitParam(in.params[i], w);
    StableHasher ph;
    ph.Add(w.view());
    ph.AddU64(w.dropped);
    const Hash128 p = ph.Finish();
    params[i] = {p.hi, p.lo};
    fp.flagged += in.params[i].flagged ? 1 : 0;
  }
  std::sort(params, params + n);
  h.AddU64(in.params.size());
  for (size_t i = 0; i < n; ++i) {
    h.AddU64(params[i].lo);
    h.AddU64(params[i].hi);
  }
  fp.hash = h.Finish();
  return fp;
}

std::string DescribeShape(const ShapeInput& in) {
  std::string out = "v" + std::to_string(kShapeVersion) + "\n";
  struct StringWriter {
    std::string* s;
    void Put(std::string_view v) { s->append(v); }
    void Put(char c) { s->push_back(c); }
  };
  StringWriter w{&out};
  EmitMethod(in.method, w);
  out += '\n';
  EmitRoute(in, w);
  out += '\n';
  std::vector<std::string> lines;
  for (const ShapeParam& p : in.params) {
    std::string line;
    StringWriter lw{&line};
    EmitParam(p, lw);
    lines.push_back(std::move(line));
  }
  std::sort(lines.begin(), lines.end());
  for (const auto& l : lines) out += l + "\n";
  return out;
}

}  // namespace guard::fingerprint
