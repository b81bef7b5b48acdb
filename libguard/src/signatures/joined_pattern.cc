#include "signatures/joined_pattern.h"

#include <vector>

namespace guard::signatures {
namespace {

struct Frame {
  bool starts_alt;      // this group is the first token of its alternative, and so are all groups around it
  bool at_alt_start;    // nothing of the current alternative seen yet
  bool dollar_pending;  // a $ ended one of this group's alternatives: the group must end its own
  bool expect_end;      // a $ was just seen: only | or ) may follow in this group
};

bool IsQuantifier(char c) { return c == '*' || c == '+' || c == '?' || c == '{'; }

// The byte value of the class item or escape at p[i] (advancing i past it), or -1 for a class shorthand.
// Sets *has_sep when the item may match the separator byte.
int ClassItem(std::string_view p, size_t* i, bool* has_sep) {
  auto hex = [](char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
  };
  if (p[*i] != '\\') return static_cast<unsigned char>(p[(*i)++]);
  if (*i + 1 >= p.size()) {
    *has_sep = true;
    ++*i;
    return -1;
  }
  const char e = p[*i + 1];
  *i += 2;
  switch (e) {
    case 'd': case 'w': case 's': case 'h': return -1;  // none of them holds \x01
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case 'f': return '\f';
    case 'e': return 0x1b;
    case 'a': return 0x07;
    case 'b': return 0x08;  // backspace, inside a class
    case 'x': {
      int v = 0;
      if (*i < p.size() && p[*i] == '{') {
        const size_t close = p.find('}', *i);
        if (close == std::string_view::npos) {
          *has_sep = true;
          return -1;
        }
        for (size_t k = *i + 1; k < close; ++k) {  // any value past 0xff (or not hex) is simply not \x01
          v = hex(p[k]) < 0 || v > 0xffff ? 0x10000 : v * 16 + hex(p[k]);
        }
        *i = close + 1;
      } else {
        for (int k = 0; k < 2 && *i < p.size() && hex(p[*i]) >= 0; ++k) v = v * 16 + hex(p[(*i)++]);
      }
      return v;
    }
    case 'c':  // \cX: a control character, X included
      if (*i < p.size()) ++*i;
      *has_sep = true;
      return -1;
    default:
      if ((e >= '0' && e <= '9') || e == 'o' || e == 'p' || e == 'P' || e == 'v' || e == 'N' ||
          (e >= 'A' && e <= 'Z')) {
        *has_sep = true;  // octal, control, property and negated shorthands: may hold \x01 (judged broadly)
        return -1;
      }
      return static_cast<unsigned char>(e);  // an escaped punctuation character
  }
}

// Whether the bracket class p[begin, end] (the brackets included, not negated) may match the separator.
bool ClassHoldsSeparator(std::string_view p, size_t begin, size_t end) {
  bool has_sep = false;
  size_t i = begin + 1;
  if (p[i] == ']') ++i;  // a leading ] is a literal
  while (i < end && !has_sep) {
    if (p[i] == '[' && i + 1 < end && p[i + 1] == ':') {  // [:alpha:]; [:cntrl:] and negated ones may hold it
      const size_t close = p.find(":]", i + 2);
      if (close == std::string_view::npos || close >= end) return true;  // not a class name after all: judged broadly
      const std::string_view name = p.substr(i + 2, close - i - 2);
      if (name == "cntrl" || name.starts_with('^')) has_sep = true;
      i = close + 2;
      continue;
    }
    const int lo = ClassItem(p, &i, &has_sep);
    if (i + 1 < end && p[i] == '-' && p[i + 1] != ']') {
      ++i;
      const int hi = ClassItem(p, &i, &has_sep);
      if (lo < 0 || hi < 0 || (lo <= 1 && hi >= 1)) has_sep = true;
    } else if (lo == 1) {
      has_sep = true;
    }
  }
  return has_sep;
}

}  // namespace

bool JoinedPattern(std::string_view p, std::string* out, bool* fenced) {
  bool fence = true;  // no token found that may match the separator
  out->clear();
  std::vector<Frame> frames{{true, true, false, false}};
  size_t i = 0;
  // A token other than an anchor, |, ( or ): the alternative has started; after a $ it is refused.
  auto plain_token = [&]() {
    Frame& f = frames.back();
    f.at_alt_start = false;
    return !f.expect_end;
  };
  while (i < p.size()) {
    const char c = p[i];
    if (c == '\\') {
      if (i + 1 >= p.size()) return false;
      const char e = p[i + 1];
      if (e == 'A' || e == 'z' || e == 'Z' || e == 'G' || e == 'Q' || e == 'E') return false;
      if (!plain_token()) return false;
      // The negated shorthands hold the separator: fenced out of them (\W, \S, \D, \H).
      if (e == 'W' || e == 'S' || e == 'D' || e == 'H' || e == 'N') {
        out->append("[^\\").push_back(e == 'N' ? 'n' : static_cast<char>(e + ('a' - 'A')));
        out->append("\\x01]");
        i += 2;
        continue;
      }
      size_t j = i;
      bool sep = false;
      if ((ClassItem(p, &j, &sep) == 1 || sep) && e != 'B' && e != 'R') fence = false;  // \x01 itself, \N, \C, octal, properties
      out->append(p.substr(i, j - i));
      i = j;
      continue;
    }
    if (c == '.') {  // DOTALL: any byte, the separator excepted
      if (!plain_token()) return false;
      out->append("[^\\x01]");
      ++i;
      continue;
    }
    if (c == '[') {
      if (!plain_token()) return false;
      size_t j = i + 1;
      if (j < p.size() && p[j] == '^') ++j;
      if (j < p.size() && p[j] == ']') ++j;  // a leading ] is a literal
      while (j < p.size() && p[j] != ']') {
        if (p[j] == '\\') {
          j += j + 1 < p.size() && p[j + 1] == 'c' ? 3 : 2;  // \cX takes the X, even a ]
        } else if (p[j] == '[' && j + 1 < p.size() && p[j + 1] == ':') {  // [:alpha:]
          const size_t close = p.find(":]", j + 2);
          if (close == std::string_view::npos) return false;
          j = close + 2;
        } else {
          ++j;
        }
      }
      if (j >= p.size()) return false;
      if (p[i + 1] == '^') {
        // A negated class: the separator joins what it excludes, first, so that it can neither end a range
        // (`[^a-]`) nor start one. A leading `]` or `-`, literal there, is escaped to stay literal after it.
        out->append("[^\\x01");
        size_t k = i + 2;
        if (k < j && (p[k] == ']' || p[k] == '-')) {
          out->push_back('\\');
          out->push_back(p[k++]);
        }
        out->append(p.substr(k, j + 1 - k));
      } else {
        if (ClassHoldsSeparator(p, i, j)) fence = false;
        out->append(p.substr(i, j + 1 - i));
      }
      i = j + 1;
      continue;
    }
    if (c == '(') {
      Frame& f = frames.back();
      if (f.expect_end) return false;
      const bool starts = f.starts_alt && f.at_alt_start;
      f.at_alt_start = false;
      size_t open = 1;
      if (i + 1 < p.size() && p[i + 1] == '?') {
        if (i + 2 >= p.size() || p[i + 2] != ':') return false;  // only (?:...)
        open = 3;
      }
      out->append(p.substr(i, open));
      i += open;
      frames.push_back({starts, true, false, false});
      continue;
    }
    if (c == '|') {
      Frame& f = frames.back();
      f.at_alt_start = true;
      f.expect_end = false;
      out->push_back(c);
      ++i;
      continue;
    }
    if (c == ')') {
      if (frames.size() == 1) return false;
      const bool pending = frames.back().dollar_pending;
      frames.pop_back();
      out->push_back(c);
      ++i;
      if (pending) {
        if (i < p.size() && IsQuantifier(p[i])) return false;
        frames.back().dollar_pending = true;
        frames.back().expect_end = true;
      }
      continue;
    }
    if (c == '^') {
      Frame& f = frames.back();
      if (!f.starts_alt || !f.at_alt_start || f.expect_end) return false;
      f.at_alt_start = false;
      out->append("(?:^|\\x01)");
      ++i;
      continue;
    }
    if (c == '$') {
      Frame& f = frames.back();
      if (f.expect_end) return false;
      f.at_alt_start = false;
      f.dollar_pending = true;
      f.expect_end = true;
      out->append("(?:$|\\x01)");
      ++i;
      continue;
    }
    if (!plain_token()) return false;
    if (c == kJoinSeparatorByte) fence = false;
    out->push_back(c);
    ++i;
  }
  if (fenced) *fenced = fence;
  return frames.size() == 1;
}

bool NeedsLineBreak(std::string_view p) {
  // The first token: \r, \n, or [...] holding only those (not negated).
  size_t i = 0;
  if (p.size() >= 2 && p[0] == '\\' && (p[1] == 'r' || p[1] == 'n')) {
    i = 2;
  } else if (!p.empty() && p[0] == '[') {
    i = 1;
    bool any = false;
    while (i + 1 < p.size() && p[i] == '\\' && (p[i + 1] == 'r' || p[i + 1] == 'n')) {
      i += 2;
      any = true;
    }
    if (!any || i >= p.size() || p[i] != ']') return false;
    ++i;
  } else {
    return false;
  }
  // Not optional: no ?, * or {0,... / {,... after it (a + or {1,} keeps at least one).
  if (i < p.size() && (p[i] == '?' || p[i] == '*')) return false;
  if (i + 1 < p.size() && p[i] == '{' && (p[i + 1] == '0' || p[i + 1] == ',')) return false;
  // No | outside groups and classes: every match is then a match of the whole sequence.
  int depth = 0;
  for (size_t k = 0; k < p.size(); ++k) {
    const char c = p[k];
    if (c == '\\') {
      ++k;  // the escaped character (\Q...\E is not handled: refused below)
      if (k < p.size() && p[k] == 'Q') return false;
    } else if (c == '[') {
      ++k;
      if (k < p.size() && p[k] == '^') ++k;
      if (k < p.size() && p[k] == ']') ++k;  // a leading ] is a literal
      while (k < p.size() && p[k] != ']') {
        if (p[k] == '\\') ++k;
        else if (p[k] == '[' && k + 1 < p.size() && p[k + 1] == ':') {
          const size_t close = p.find(":]", k + 2);
          if (close == std::string_view::npos) return false;
          k = close + 1;
        }
        ++k;
      }
      if (k >= p.size()) return false;  // unclosed: not ours to judge
    } else if (c == '(') {
      ++depth;
    } else if (c == ')') {
      if (--depth < 0) return false;
    } else if (c == '|' && depth == 0) {
      return false;
    }
  }
  return depth == 0;
}

}  // namespace guard::signatures
