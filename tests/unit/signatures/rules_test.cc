// Rules files: schema validation, rule-level checks, and the core set shipped in the library.
#include <catch2/catch.hpp>

#include <string>

#include "signatures/matcher.h"
#include "signatures/rules.h"

using namespace guard::signatures;

namespace {
std::string OneRule(const std::string& fields) {
  return R"({"version":"t","rules":[{"id":7,"category":"sqli","severity":5,"paranoia":1,"targets":["args"],)"
         R"("patterns":["union\\s+select"],"message":"m")" + fields + "}]}";
}
}  // namespace

TEST_CASE("the core rule set validates and compiles at every paranoia level") {
  auto set = ParseRules(CoreRulesJson());
  REQUIRE(set.ok());
  CHECK(set->rules.size() >= 50);
  size_t previous = 0;
  for (int pl = 1; pl <= 4; ++pl) {
    CompileOptions o;
    o.paranoia_level = pl;
    auto m = Matcher::Compile(*set, o);
    REQUIRE(m.ok());
    CHECK((*m)->rules().size() >= previous);  // higher levels only add rules
    previous = (*m)->rules().size();
  }
}

TEST_CASE("a rule file is parsed into rules with targets and transforms") {
  auto ok = ParseRules(R"({"version":"t","rules":[{"id":7,"category":"xss","severity":4,"paranoia":2,)"
                       R"("targets":["args","headers:user-agent"],"transforms":["urlDecodeUni","lowercase"],)"
                       R"("patterns":["<script"],"message":"m"}]})");
  INFO(ok.status().ToString());
  REQUIRE(ok.ok());
  const Rule& r = ok->rules.at(0);
  CHECK(r.id == 7);
  CHECK(r.category == GUARD_CAT_XSS);
  CHECK(r.severity == 4);
  CHECK(r.paranoia == 2);
  REQUIRE(r.targets.size() == 2);
  CHECK(r.targets[1].name == "user-agent");
  CHECK(r.transforms.size() == 2);
}

TEST_CASE("invalid rule files are rejected with the path or rule id") {
  auto bad_category = ParseRules(OneRule("").replace(OneRule("").find("sqli"), 4, "sqlx"));
  REQUIRE_FALSE(bad_category.ok());
  CHECK(bad_category.status().message().find("/rules/0/category: must be one of") != std::string_view::npos);

  auto dup = ParseRules(R"({"version":"t","rules":[)"
                        R"({"id":1,"category":"xss","severity":4,"paranoia":1,"targets":["args"],"patterns":["a"],"message":"m"},)"
                        R"({"id":1,"category":"xss","severity":4,"paranoia":1,"targets":["args"],"patterns":["b"],"message":"m"}]})");
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.status().message() == "invalid rules: rule 1: duplicate rule id");

  auto bad_target = ParseRules(OneRule("").replace(OneRule("").find("\"args\""), 6, "\"argz\""));
  REQUIRE_FALSE(bad_target.ok());
  CHECK(bad_target.status().message().find("/rules/0/targets/0: must match the pattern") != std::string_view::npos);

  auto bad_transform = ParseRules(OneRule(R"(,"transforms":["rot13"])"));
  REQUIRE_FALSE(bad_transform.ok());
  CHECK(bad_transform.status().message().find("/rules/0/transforms/0: must be one of") != std::string_view::npos);
}

TEST_CASE("a pattern Hyperscan cannot compile is reported with its rule id") {
  auto set = ParseRules(R"({"version":"t","rules":[{"id":42,"category":"xss","severity":4,"paranoia":1,)"
                        R"("targets":["args"],"patterns":["(a)\\1"],"message":"backreference"}]})");
  REQUIRE(set.ok());
  auto m = Matcher::Compile(*set, {});
  REQUIRE_FALSE(m.ok());
  CHECK(m.status().message().rfind("rule 42: pattern '(a)\\1'", 0) == 0);
}
