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

}  // namespace

bool JoinedPattern(std::string_view p, std::string* out) {
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
      out->append(p.substr(i, 2));
      i += 2;
      continue;
    }
    if (c == '[') {
      if (!plain_token()) return false;
      size_t j = i + 1;
      if (j < p.size() && p[j] == '^') ++j;
      if (j < p.size() && p[j] == ']') ++j;  // a leading ] is a literal
      while (j < p.size() && p[j] != ']') {
        if (p[j] == '\\') {
          j += 2;
        } else if (p[j] == '[' && j + 1 < p.size() && p[j + 1] == ':') {  // [:alpha:]
          const size_t close = p.find(":]", j + 2);
          if (close == std::string_view::npos) return false;
          j = close + 2;
        } else {
          ++j;
        }
      }
      if (j >= p.size()) return false;
      out->append(p.substr(i, j + 1 - i));
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
    out->push_back(c);
    ++i;
  }
  return frames.size() == 1;
}

}  // namespace guard::signatures
