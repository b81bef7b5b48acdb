// JoinedPattern: anchors rewritten for the joined scan only where that keeps every match of a slice alone.
#include <catch2/catch.hpp>

#include <string>

#include "signatures/joined_pattern.h"
#include "signatures/rules.h"

using guard::signatures::JoinedPattern;

namespace {
std::string J(std::string_view p) {
  std::string out;
  return JoinedPattern(p, &out) ? out : "<refused>";
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
  CHECK(J("\\$\\{[^}\\n]{0,30}\\}") == "\\$\\{[^}\\n]{0,30}\\}");
  CHECK(J("[$^]x[]^]") == "[$^]x[]^]");
  CHECK(J("[[:alpha:]^]+$") == "[[:alpha:]^]+(?:$|\\x01)");
  CHECK(J("no anchors") == "no anchors");
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
