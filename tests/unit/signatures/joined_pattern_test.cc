// JoinedPattern: anchors rewritten for the joined scan only where that keeps every match of a slice alone.
#include <catch2/catch.hpp>

#include <hs/hs.h>

#include <string>
#include <vector>

#include "signatures/joined_pattern.h"
#include "signatures/rules.h"

using guard::signatures::JoinedPattern;

namespace {
std::string J(std::string_view p) {
  std::string out;
  return JoinedPattern(p, &out) ? out : "<refused>";
}

// Whether the joined form is fenced: it cannot match the separator byte except through a rewritten anchor.
bool Fenced(std::string_view p) {
  std::string out;
  bool fenced = false;
  REQUIRE(JoinedPattern(p, &out, &fenced));
  return fenced;
}
}  // namespace

TEST_CASE("anchors that start or end their alternative also hold at the separator") {
  CHECK(J("^abc$") == "(?:^|\\x01)abc(?:$|\\x01)");
  CHECK(J("(?:^|/)\\.env") == "(?:(?:^|\\x01)|/)\\.env");
  CHECK(J("a\\s*(?:--|#|$)") == "a\\s*(?:--|#|(?:$|\\x01))");
  CHECK(J("0(?:[:/]|$)|x") == "0(?:[:/]|(?:$|\\x01))|x");
  CHECK(J("id\\s*$|^\\s*\\*") == "id\\s*(?:$|\\x01)|(?:^|\\x01)\\s*\\*");
  CHECK(J("(?:a|(?:b|$))") == "(?:a|(?:b|(?:$|\\x01)))");
}

TEST_CASE("escaped anchors and anchors inside classes are left alone") {
  CHECK(J("\\$\\{[^}\\n]{0,30}\\}") == "\\$\\{[^\\x01}\\n]{0,30}\\}");
  CHECK(J("[$^]x[]^]") == "[$^]x[]^]");
  CHECK(J("[[:alpha:]^]+$") == "[[:alpha:]^]+(?:$|\\x01)");
  CHECK(J("no anchors") == "no anchors");
}

// Fenced: every token that could match the separator byte is rewritten not to, so that a match in the joined
// buffer never spans two slices and needs no confirming scan of the slice alone.
TEST_CASE("dots, negated classes and negated shorthands are fenced off the separator") {
  CHECK(J("a.*b") == "a[^\\x01]*b");
  CHECK(J("<[^>]*>") == "<[^\\x01>]*>");
  CHECK(J("[^]x]+") == "[^\\x01\\]x]+");  // a leading ] stays a literal
  CHECK(J("[^-x]") == "[^\\x01\\-x]");    // so does a leading -
  CHECK(J("[^x-]") == "[^\\x01x-]");        // and a trailing one: the separator cannot end a range
  CHECK(J("[^[:alpha:]]") == "[^\\x01[:alpha:]]");
  CHECK(J("\\W\\S+\\D\\H\\N") == "[^\\w\\x01][^\\s\\x01]+[^\\d\\x01][^\\h\\x01][^\\n\\x01]");
  CHECK(J("[.]\\.") == "[.]\\.");  // a dot in a class, or escaped, is a dot
  CHECK(J("\\c\\W") == "\\c\\W");  // \cX takes the next character, whatever it is
  CHECK(J("[\\c]]") == "[\\c]]");
  for (std::string_view p : {"a.*b", "<[^>]*>", "[^]x]+", "[^-x]", "[^x-]", "[^]-x]", "[^[:alpha:]]", "\\W\\S+\\D\\H\\N", "\\c\\W", "[^\\c]]"}) {
    INFO(p);
    hs_database_t* db = nullptr;
    hs_compile_error_t* err = nullptr;
    CHECK(hs_compile(J(p).c_str(), HS_FLAG_DOTALL | HS_FLAG_MULTILINE, HS_MODE_BLOCK, nullptr, &db, &err) ==
          HS_SUCCESS);  // the fenced forms are valid Hyperscan
    hs_free_database(db);
    hs_free_compile_error(err);
  }
  for (std::string_view p : {"a.*b", "<[^>]*>", "\\W+", "[a-z0-9_]+", "[\\s\\d\\w]", "\\x02-\\x7f",
                             "[\\x02-\\x7f]", "[\\t\\n\\r]", "\\bx\\B", "^a$", "[[:alpha:]]+"}) {
    INFO(p);
    CHECK(Fenced(p));
  }
}

TEST_CASE("a pattern that may match the separator itself is not fenced") {
  for (std::string_view p : std::initializer_list<std::string_view>{"\\x01", "[\\x00-\\x1f]", "[\\x01]", "[\\W_]", "[\\S]", "[[:cntrl:]]",
                             "[[:^alpha:]]", "\\x{1}", "\\cA", "\\001", "[\\0-\\x20]", "\\C",
                             "\\p{Cc}", std::string_view("a\x01" "b", 3)}) {
    INFO(p);
    CHECK_FALSE(Fenced(p));
  }
}

TEST_CASE("anchors with something before ^ or after $ in the match are refused") {
  CHECK(J("a^b") == "<refused>");
  CHECK(J("a$b") == "<refused>");
  CHECK(J("(?:a|$)b") == "<refused>");        // b would have to follow the consumed separator
  CHECK(J("(?:a|$)+") == "<refused>");        // a quantified group ending in $
  CHECK(J("(?:x)(?:^|/)") == "<refused>");    // the group with ^ is not first
  CHECK(J("$\\b") == "<refused>");
  CHECK(J("\\Aabc") == "<refused>");
  CHECK(J("abc\\z") == "<refused>");
  CHECK(J("(?i)abc") == "<refused>");
  CHECK(J("(abc") == "<refused>");
  CHECK(J("[abc") == "<refused>");
}

// Otherwise the core set would be joined with line breaks, the slow way (correct, but every [\r\n]-led
// pattern wakes at every separator).
TEST_CASE("every core rule pattern has a joined form") {
  auto set = guard::signatures::ParseRules(guard::signatures::CoreRulesJson());
  REQUIRE(set.ok());
  for (const auto& r : set->rules) {
    for (const std::string& p : r.patterns) {
      INFO("rule " << r.id << " pattern " << p);
      CHECK(J(p) != "<refused>");
    }
  }
}

// Patterns led by a mandatory line break leave the joined scan for DbClass::line_db, scanned only over values
// holding one: a pattern judged so wrongly would lose its matches on values without a line break.
TEST_CASE("a pattern needs a line break only when its mandatory first token is one") {
  using guard::signatures::NeedsLineBreak;
  for (const char* p : {"\\r\\nx", "\\nx", "[\\r\\n]\\s*<", "[\\n\\r]x", "[\\n]+x", "[\\r\\n]{1,3}x",
                        "\\n(?:a|b)", "[\\r\\n][^|]x", "\\n\\|y", "[\\r\\n][\\w-]+\\s*:"}) {
    INFO(p);
    CHECK(NeedsLineBreak(p));
  }
  for (const char* p : {"[\\r\\n]?x", "[\\r\\n]*x", "[\\r\\n]{0,2}x", "[\\r\\n]{,2}x", "\\nx|y", "a|\\nx",
                        "[^\\r\\n]x", "(?:\\r|\\n)x", "[\\r\\n\\t]x", "\\\\nx", "\\sx", "x\\n", "[\\r\\n]x)",
                        "[\\r\\n][x", "(?i)\\nx", "", "\\n\\Q|\\E"}) {
    INFO(p);
    CHECK_FALSE(NeedsLineBreak(p));
  }
}

TEST_CASE("the core patterns judged to need a line break never match a value without one") {
  auto set = guard::signatures::ParseRules(guard::signatures::CoreRulesJson());
  REQUIRE(set.ok());
  const std::vector<std::string> values = {
      "Set-Cookie: a=1", " set-cookie : x", "x-injected: 1", "<script>", "  <html>", "HTTP/1.1 200 OK",
      "location: http://a", "\t\t<a>", "a\x0b\x0c<b>", "%0d%0aSet-Cookie: a", "\\r\\nX-A: b", "Bcc: all@example.com", "[INFO] admin logged in", std::string(300, ' ') + "<"};
  size_t gated = 0;
  for (const auto& r : set->rules) {
    for (const std::string& p : r.patterns) {
      if (!guard::signatures::NeedsLineBreak(p)) continue;
      ++gated;
      hs_database_t* db = nullptr;
      hs_compile_error_t* err = nullptr;
      REQUIRE(hs_compile(p.c_str(), HS_FLAG_DOTALL | HS_FLAG_MULTILINE | HS_FLAG_CASELESS, HS_MODE_BLOCK, nullptr, &db,
                         &err) == HS_SUCCESS);
      hs_scratch_t* scratch = nullptr;
      REQUIRE(hs_alloc_scratch(db, &scratch) == HS_SUCCESS);
      auto matches = [&](const std::string& v) {
        bool hit = false;
        hs_scan(db, v.data(), static_cast<unsigned>(v.size()), 0, scratch,
                [](unsigned, unsigned long long, unsigned long long, unsigned, void* ctx) {
                  *static_cast<bool*>(ctx) = true;
                  return 1;
                },
                &hit);
        return hit;
      };
      bool with_break = false;
      for (const std::string& v : values) {
        INFO("rule " << r.id << " pattern " << p << " value " << v);
        CHECK_FALSE(matches(v));
        with_break |= matches("\r\n" + v) || matches("\n" + v);
      }
      CHECK(with_break);  // and the same values after a line break reach it
      hs_free_scratch(scratch);
      hs_free_database(db);
    }
  }
  CHECK(gated == 7);  // 8001's four, 8002's one, 8004's two (CRLF injection, log forging)
}
