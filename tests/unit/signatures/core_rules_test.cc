// Regressions of the core rule set itself (libguard/rules/core.json) at paranoia level 1: requests that
// real APIs send all day must not match, and the attacks a fix narrowed must still match.
#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include "signatures/matcher.h"

using namespace guard::signatures;
using guard::request::FieldList;
using guard::request::Target;

namespace {

const Matcher& CoreMatcher() {
  static const std::unique_ptr<Matcher> m = [] {
    auto rules = ParseRules(CoreRulesJson());
    REQUIRE(rules.ok());
    auto compiled = Matcher::Compile(*rules, {});
    REQUIRE(compiled.ok());
    return std::move(*compiled);
  }();
  return *m;
}

std::vector<uint32_t> Matches(Target t, std::string_view name, std::string_view value) {
  FieldList fl;
  fl.Add(t, name, value);
  ScanState st;
  REQUIRE(CoreMatcher().Scan(fl, &st));
  std::vector<uint32_t> ids;
  for (const Match& x : st.matches()) ids.push_back(CoreMatcher().rules()[x.rule_index].id);
  return ids;
}

}  // namespace

TEST_CASE("a parameter or value that is just `id` (or a list of columns) is not a command") {
  // GET /users?id=42, ?sort=id, ?fields=id,name: rule 3005 once read a bare `id` as the Unix command.
  CHECK(Matches(Target::kArgName, "id", "id").empty());
  CHECK(Matches(Target::kArg, "id", "42").empty());
  CHECK(Matches(Target::kArg, "sort", "id").empty());
  CHECK(Matches(Target::kArg, "order_by", "id desc").empty());
  CHECK(Matches(Target::kArg, "fields", "id,name,email").empty());
  CHECK(Matches(Target::kBodyArg, "q", "what is my user id").empty());
}

TEST_CASE("`id` after a command separator or in a substitution is still a command") {
  for (const char* v : {";id", "1|id", "a && id", "$(id)", "`id`", "x; id;"}) {
    INFO(v);
    CHECK_FALSE(Matches(Target::kArg, "cmd", v).empty());
  }
}
