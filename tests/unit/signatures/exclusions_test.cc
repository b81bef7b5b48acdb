// Exclusions: rule ids, targets and paths, each optional, combined with AND inside one exclusion.
#include <catch2/catch.hpp>

#include "signatures/exclusions.h"

using namespace guard::signatures;
using guard::request::Field;
using guard::request::Target;

namespace {
Exclusions Parse(const char* json) {
  rapidjson::Document d;
  d.Parse(json);
  auto x = Exclusions::FromJson(d);
  REQUIRE(x.ok());
  return *x;
}
}  // namespace

TEST_CASE("an exclusion matches on every part it names") {
  Exclusions x = Parse(R"([{"rule_ids":[2001,2002],"targets":["args:html"],"paths":["/api/wiki/*"]}])");
  Field html{Target::kBodyArg, "html", "<script>"};
  Field other{Target::kBodyArg, "title", "<script>"};
  CHECK(x.Excludes(2001, &html, "/api/wiki/pages/7"));
  CHECK_FALSE(x.Excludes(1001, &html, "/api/wiki/pages/7"));    // other rule
  CHECK_FALSE(x.Excludes(2001, &other, "/api/wiki/pages/7"));   // other field
  CHECK_FALSE(x.Excludes(2001, &html, "/api/users"));           // other path
  CHECK_FALSE(x.Excludes(2001, nullptr, "/api/wiki/pages/7"));  // no field: a target-scoped exclusion does not apply
}

TEST_CASE("parts left out match everything") {
  Exclusions by_rule = Parse(R"([{"rule_ids":[9619]}])");
  CHECK(by_rule.Excludes(9619, nullptr, "/anything"));
  Exclusions by_target = Parse(R"([{"targets":["headers:x-signature"]}])");
  Field sig{Target::kHeader, "X-Signature", "' or 1=1"};
  CHECK(by_target.Excludes(1001, &sig, "/"));
  CHECK(by_target.Excludes(2005, &sig, "/x"));
  Exclusions by_path = Parse(R"([{"paths":["/health"]}])");
  CHECK(by_path.Excludes(1, nullptr, "/health"));
  CHECK_FALSE(by_path.Excludes(1, nullptr, "/healthz"));  // exact unless it ends with *
  CHECK_FALSE(Parse("[]").Excludes(1, nullptr, "/"));
}

TEST_CASE("unknown targets are reported with their index") {
  rapidjson::Document d;
  d.Parse(R"([{"targets":["args:x"]},{"targets":["args:y","argz:z"]}])");
  auto x = Exclusions::FromJson(d);
  REQUIRE_FALSE(x.ok());
  CHECK(x.status().message() == "/exclusions/1/targets/1: unknown target 'argz:z'");
}

TEST_CASE("an exclusion names one field: it does not reach a nested field with the same last segment") {
  // Rules read `args:lang` in data.lang and user[lang] too (RuleTarget::leaf); an exclusion must not widen.
  Exclusions x = Parse(R"([{"targets":["args:html"]}])");
  Field top{Target::kBodyArg, "html", "<script>"};
  Field nested{Target::kBodyArg, "post.html", "<script>"};
  Field bracket{Target::kBodyArg, "post[html]", "<script>"};
  CHECK(x.Excludes(2001, &top, "/"));
  CHECK_FALSE(x.Excludes(2001, &nested, "/"));
  CHECK_FALSE(x.Excludes(2001, &bracket, "/"));
}
