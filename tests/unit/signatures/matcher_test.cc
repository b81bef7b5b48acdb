// The matcher over parsed requests: targets, name restrictions, paranoia and disabled rules.
#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "rapidjson/document.h"
#include "signatures/matcher.h"

using namespace guard::signatures;
using guard::request::FieldList;
using guard::request::Target;

namespace {

RuleSet Rules() {
  auto set = ParseRules(R"({"version":"t","rules":[
    {"id":1,"category":"sqli","severity":5,"paranoia":1,"targets":["args"],
     "transforms":["urlDecodeUni","lowercase"],"patterns":["union\\s+select"],"message":"u"},
    {"id":2,"category":"scanner","severity":5,"paranoia":1,"targets":["headers:user-agent"],
     "patterns":["sqlmap"],"message":"s"},
    {"id":3,"category":"xss","severity":3,"paranoia":2,"targets":["args"],"patterns":["<b>"],"message":"x"},
    {"id":4,"category":"sqli","severity":2,"paranoia":1,"targets":["args","path"],"patterns":["select"],"message":"s"}
  ]})");
  REQUIRE(set.ok());
  return *set;
}

// The matcher of a rule set given as JSON.
std::unique_ptr<Matcher> Compiled(std::string_view rules_json, const CompileOptions& opts = {}) {
  auto set = ParseRules(rules_json);
  REQUIRE(set.ok());
  auto m = Matcher::Compile(*set, opts);
  REQUIRE(m.ok());
  return std::move(*m);
}

// The ids of the rules a scan of these fields matched.
std::vector<uint32_t> ScanIds(const Matcher& m, const FieldList& fl, ScanState* st) {
  REQUIRE(m.Scan(fl, st));
  std::vector<uint32_t> ids;
  for (const Match& x : st->matches()) ids.push_back(m.rules()[x.rule_index].id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::vector<uint32_t> Ids(const Matcher& m, const ScanState& st) {
  std::vector<uint32_t> ids;
  for (const Match& x : st.matches()) ids.push_back(m.rules()[x.rule_index].id);
  std::sort(ids.begin(), ids.end());  // match order is not part of the contract
  return ids;
}

}  // namespace

TEST_CASE("rules match only their targets, once per request") {
  auto m = Matcher::Compile(Rules(), {});
  REQUIRE(m.ok());
  FieldList fl;
  fl.Add(Target::kArg, "q", "1 UNION%20SELECT 2");
  fl.Add(Target::kBodyArg, "q2", "union select again");
  fl.Add(Target::kHeader, "referer", "sqlmap");  // not the user-agent: rule 2 must not fire
  ScanState st;
  REQUIRE((*m)->Scan(fl, &st));
  CHECK(Ids(**m, st) == std::vector<uint32_t>{1, 4});
  for (const Match& x : st.matches()) CHECK(x.field_index == 0);  // the first field that matched

  fl.Clear();
  fl.Add(Target::kHeader, "User-Agent", "sqlmap/1.7");
  REQUIRE((*m)->Scan(fl, &st));
  CHECK(Ids(**m, st) == std::vector<uint32_t>{2});
}

TEST_CASE("paranoia level and disabled rules decide what is compiled") {
  CompileOptions o;
  o.paranoia_level = 2;
  o.disabled_rules = {4};
  auto m = Matcher::Compile(Rules(), o);
  REQUIRE(m.ok());
  CHECK((*m)->rules().size() == 3);
  FieldList fl;
  fl.Add(Target::kArg, "x", "<b>select</b>");
  ScanState st;
  REQUIRE((*m)->Scan(fl, &st));
  CHECK(Ids(**m, st) == std::vector<uint32_t>{3});
}

TEST_CASE("one scan state serves several matchers in turn") {
  auto a = Matcher::Compile(Rules(), {});
  auto b = Matcher::Compile(*ParseRules(CoreRulesJson()), {});
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  FieldList fl;
  fl.Add(Target::kArg, "id", "1' or '1'='1");
  ScanState st;
  for (int i = 0; i < 3; ++i) {
    REQUIRE((*a)->Scan(fl, &st));
    CHECK(st.matches().empty());
    REQUIRE((*b)->Scan(fl, &st));
    CHECK_FALSE(st.matches().empty());
  }
}

TEST_CASE("empty field values (even with a NULL data pointer) scan cleanly") {
  auto m = Matcher::Compile(Rules(), {});
  REQUIRE(m.ok());
  FieldList fl;
  fl.Add(Target::kArg, "empty", std::string_view());
  fl.Add(Target::kArg, "q", "union select");
  ScanState st;
  REQUIRE((*m)->Scan(fl, &st));
  CHECK(Ids(**m, st) == std::vector<uint32_t>{1, 4});
}

TEST_CASE("groups sharing a transform prefix see the same result as fresh transforms") {
  // Three chains sharing prefixes, in an order that makes the scan reuse and then drop levels.
  auto set = ParseRules(R"({"version":"t","rules":[
    {"id":1,"category":"sqli","severity":5,"paranoia":1,"targets":["args"],
     "transforms":["urlDecodeUni","lowercase","compressWhitespace"],"patterns":["union select"],"message":"a"},
    {"id":2,"category":"sqli","severity":5,"paranoia":1,"targets":["args"],
     "transforms":["urlDecodeUni","lowercase"],"patterns":["union  +select"],"message":"b"},
    {"id":3,"category":"xss","severity":5,"paranoia":1,"targets":["headers:x-a"],
     "transforms":["urlDecodeUni","htmlEntityDecode"],"patterns":["<script"],"message":"c"},
    {"id":4,"category":"xss","severity":5,"paranoia":1,"targets":["args"],
     "transforms":["htmlEntityDecode"],"patterns":["<b>"],"message":"d"}
  ]})");
  REQUIRE(set.ok());
  auto m = Matcher::Compile(*set, {});
  REQUIRE(m.ok());
  FieldList fl;
  fl.Add(Target::kArg, "q", "UNION%20%20%20SELECT");
  fl.Add(Target::kHeader, "x-a", "%26lt;script");
  fl.Add(Target::kHeader, "x-b", "%26lt;script");  // no rule reads x-b
  fl.Add(Target::kArg, "h", "&lt;b&gt;");
  ScanState st;
  for (int round = 0; round < 2; ++round) {  // the second round starts with stale levels
    REQUIRE((*m)->Scan(fl, &st));
    CHECK(Ids(**m, st) == std::vector<uint32_t>{1, 2, 3, 4});
  }
}

TEST_CASE("custom_headers reads application headers and skips standard ones") {
  auto set = ParseRules(R"({"version":"t","rules":[
    {"id":1,"category":"sqli","severity":5,"paranoia":1,"targets":["custom_headers"],"patterns":["drop table"],"message":"c"}]})");
  REQUIRE(set.ok());
  auto m = Matcher::Compile(*set, {});
  REQUIRE(m.ok());
  ScanState st;
  FieldList fl;
  fl.Add(Target::kHeader, "X-Tenant-Id", "acme'; DROP TABLE tenants;--");
  REQUIRE((*m)->Scan(fl, &st));
  CHECK(Ids(**m, st) == std::vector<uint32_t>{1});
  fl.Clear();
  fl.Add(Target::kHeader, "Accept", "drop table");          // standard: read only by name
  fl.Add(Target::kHeader, "Sec-Fetch-Mode", "drop table");  // standard by prefix
  fl.Add(Target::kArg, "X-Tenant-Id", "drop table");        // not a header at all
  REQUIRE((*m)->Scan(fl, &st));
  CHECK(st.matches().empty());
  for (const char* h : {"accept", "b3", "user-agent", "X-XSRF-Token", "content-type", "traceparent", "via"}) {
    CHECK(IsStandardHeader(h));  // first, last and middle of the sorted table
  }
  CHECK(IsStandardHeader("Sec-CH-UA"));
  CHECK_FALSE(IsStandardHeader("x-api-host"));
}

// The scan joins every field's values and confirms candidates field by field (Matcher::Scan). These
// cases would go wrong if the joined scan stopped at a pattern's first match, if a match running from one
// field into the next counted, or if large fields (scanned alone) were treated differently.
TEST_CASE("joined scan: a match in a field the rule does not read hides nothing; nothing spans two fields") {
  auto set = ParseRules(R"({"version":"t","rules":[
    {"id":1,"category":"sqli","severity":5,"paranoia":1,"targets":["body_args"],"patterns":["evil"],"message":"a"},
    {"id":2,"category":"sqli","severity":5,"paranoia":1,"targets":["args"],"patterns":["left.*right","up\\s+down"],
     "message":"b"},
    {"id":3,"category":"sqli","severity":5,"paranoia":1,"targets":["args"],"patterns":["^whole$"],"message":"c"},
    {"id":4,"category":"xss","severity":5,"paranoia":1,"targets":["args"],"transforms":["urlDecodeUni"],
     "patterns":["<x>"],"message":"d"}
  ]})");
  REQUIRE(set.ok());
  auto m = Matcher::Compile(*set, {});
  REQUIRE(m.ok());
  ScanState st;
  FieldList fl;
  fl.Add(Target::kArg, "a", "evil");          // rule 1 does not read query args
  fl.Add(Target::kArg, "b", "left");          // "left" ... "right" and "up" "down" only across fields
  fl.Add(Target::kArg, "c", "right up");
  fl.Add(Target::kArg, "d", "down");
  fl.Add(Target::kBodyArg, "e", "so evil");  // rule 1's only field
  fl.Add(Target::kBodyArg, "f", "whole");     // anchors hold at field edges
  REQUIRE((*m)->Scan(fl, &st));
  CHECK(Ids(**m, st) == std::vector<uint32_t>{1, 3});
  for (const Match& x : st.matches()) CHECK(x.field_index == (m->get()->rules()[x.rule_index].id == 1 ? 4u : 5u));

  // Large values are scanned alone, with the same result; the decoded and the raw value are both seen.
  const std::string big(10000, 'x'), encoded = big + "%3cx%3e" + big, evil = big + " evil";
  fl.Clear();
  fl.Add(Target::kArg, "big", encoded);
  fl.Add(Target::kBodyArg, "big2", evil);
  fl.Add(Target::kArg, "small", "whole");
  REQUIRE((*m)->Scan(fl, &st));
  CHECK(Ids(**m, st) == std::vector<uint32_t>{1, 3, 4});
}

// A final cmdLine that would only lowercase a value is skipped for caseless rules (same matches, one slice
// fewer), never for case-sensitive ones, and never when an earlier step changed the value.
TEST_CASE("cmdLine that only lowercases: skipped for caseless rules only") {
  auto set = ParseRules(R"({"version":"t","rules":[
    {"id":1,"category":"cmdi","severity":5,"paranoia":1,"targets":["query"],"transforms":["urlDecodeUni","cmdLine"],
     "patterns":["whoami$"],"message":"a"},
    {"id":2,"category":"cmdi","severity":5,"paranoia":1,"targets":["body_args"],"transforms":["cmdLine"],
     "patterns":["^uname"],"case_sensitive":true,"message":"b"}
  ]})");
  REQUIRE(set.ok());
  auto m = Matcher::Compile(*set, {});
  REQUIRE(m.ok());
  ScanState st;
  FieldList fl;
  fl.Add(Target::kArg, "a", "WhoAmI");
  fl.Add(Target::kBodyArg, "b", "UNAME");
  REQUIRE((*m)->Scan(fl, &st));
  CHECK(Ids(**m, st) == std::vector<uint32_t>{1, 2});
  fl.Clear();
  fl.Add(Target::kArg, "a", "W%22HO%5eAMI");  // decoding brings the quote and caret cmdLine removes
  REQUIRE((*m)->Scan(fl, &st));
  CHECK(Ids(**m, st) == std::vector<uint32_t>{1});
}

// Values of 64 KiB or more are scanned rule by rule, each scan stopping at the rule's first match. The
// same rules must match, on the same fields, with exclusions applied per field, as for any other value.
TEST_CASE("very large values: rule by rule, same matches, exclusions still per field") {
  auto set = ParseRules(R"({"version":"t","rules":[
    {"id":1,"category":"traversal","severity":5,"paranoia":1,"targets":["args"],"transforms":["urlDecodeUni"],
     "patterns":["\\.\\./"],"message":"a"},
    {"id":2,"category":"sqli","severity":5,"paranoia":1,"targets":["args"],"patterns":["union\\s+select$"],
     "message":"b"},
    {"id":3,"category":"xss","severity":5,"paranoia":1,"targets":["body_args"],"patterns":["<script"],
     "message":"c"},
    {"id":4,"category":"xss","severity":5,"paranoia":1,"targets":["query"],"patterns":["never"],"message":"d"}
  ]})");
  REQUIRE(set.ok());
  auto m = Matcher::Compile(*set, {});
  REQUIRE(m.ok());
  std::string huge;
  while (huge.size() < 100000) huge += "..%2f";
  const std::string big = huge + " UNION SELECT", small = "../x";
  ScanState st;
  FieldList fl;
  fl.Add(Target::kArg, "small", small);
  fl.Add(Target::kBodyArg, "big", big);
  REQUIRE((*m)->Scan(fl, &st));
  CHECK(Ids(**m, st) == std::vector<uint32_t>{1, 2});
  for (const Match& x : st.matches()) {
    CHECK(x.field_index == (m->get()->rules()[x.rule_index].id == 1 ? 0u : 1u));  // rule 1: the first field
  }

  rapidjson::Document d;
  d.Parse(R"([{"rule_ids":[1],"targets":["args:small"]}, {"rule_ids":[2],"targets":["args:big"]}])");
  auto excl = Exclusions::FromJson(d);
  REQUIRE(excl.ok());
  REQUIRE((*m)->Scan(fl, &st, &*excl, "/"));
  CHECK(Ids(**m, st) == std::vector<uint32_t>{1});  // rule 1 found again in the big field, rule 2 excluded
  CHECK(st.matches()[0].field_index == 1u);
}

// A class's joined database also scans values alone (confirmation, large values): its anchors are rewritten
// to hold at the separator byte too, so a value holding that byte (\x01) must have those patterns checked as
// written. Small values (joined scan, then confirmation) and large ones (scanned alone) alike.
TEST_CASE("a value holding the join separator byte: rewritten anchors do not hold inside it") {
  auto set = ParseRules(R"({"version":"t","rules":[
    {"id":1,"category":"sqli","severity":5,"paranoia":1,"targets":["args"],"patterns":["^drop\\b"],"message":"a"},
    {"id":2,"category":"sqli","severity":5,"paranoia":1,"targets":["args"],"patterns":["shutdown$"],"message":"b"},
    {"id":3,"category":"sqli","severity":5,"paranoia":1,"targets":["args"],"patterns":["\\x01evil"],"message":"c"}
  ]})");
  REQUIRE(set.ok());
  auto m = Matcher::Compile(*set, {});
  REQUIRE(m.ok());
  ScanState st;
  const std::string sep(1, '\x01');
  for (const std::string& pad : {std::string(), std::string(10000, 'x')}) {
    // FieldList keeps views: the values must outlive the scans.
    const std::string a = pad + "x" + sep + "drop table", b = pad + "shutdown" + sep + "x", c = pad + "so" + sep + "evil",
                      a2 = "drop table" + sep + pad, b2 = pad + sep + "x\nshutdown";
    FieldList fl;
    fl.Add(Target::kArg, "a", a);  // ^ only after a line break or at the start
    fl.Add(Target::kArg, "b", b);
    fl.Add(Target::kArg, "c", c);  // the byte itself is still seen by patterns
    REQUIRE((*m)->Scan(fl, &st));
    CHECK(Ids(**m, st) == std::vector<uint32_t>{3});

    fl.Clear();
    fl.Add(Target::kArg, "a", a2);  // anchors still hold where they should
    fl.Add(Target::kArg, "b", b2);
    REQUIRE((*m)->Scan(fl, &st));
    CHECK(Ids(**m, st) == std::vector<uint32_t>{1, 2});
  }
}

// A pattern that can match an empty string, once joined, matches a lone separator byte (the one after the
// last slice, or one before a line break): such a match is in no slice, and must not be recorded as one.
TEST_CASE("a custom pattern that can match an empty string does not match every joined field") {
  const auto m = Compiled(R"({"version":"t","rules":[
    {"id":1,"category":"custom","severity":5,"paranoia":1,"targets":["args"],"patterns":["^\\s*$"],"message":"a"},
    {"id":2,"category":"custom","severity":5,"paranoia":1,"targets":["args"],"patterns":["x"],"message":"b"}
  ]})");
  ScanState st;
  FieldList plain;
  for (const char* v : {"abc", "\nabc", "def"}) plain.Add(Target::kArg, "a", v);
  CHECK(ScanIds(*m, plain, &st).empty());
  FieldList one_match;
  for (const char* v : {"abc", "x"}) one_match.Add(Target::kArg, "a", v);
  CHECK(ScanIds(*m, one_match, &st) == std::vector<uint32_t>{2});
}

// Per-rule databases are compiled only when bodies may exceed 64 KiB; without them a longer value is scanned
// with its class's database, with the same matches.
TEST_CASE("very large values without per-rule databases: same matches") {
  auto set = ParseRules(R"({"version":"t","rules":[
    {"id":1,"category":"traversal","severity":5,"paranoia":1,"targets":["args"],"transforms":["urlDecodeUni"],
     "patterns":["\\.\\./"],"message":"a"},
    {"id":2,"category":"sqli","severity":5,"paranoia":1,"targets":["args"],"patterns":["^union\\s+select$"],
     "message":"b"}
  ]})");
  REQUIRE(set.ok());
  std::string huge;
  while (huge.size() < 100000) huge += "..%2f";
  for (size_t limit : {size_t{64 * 1024}, size_t{1} << 20}) {
    CompileOptions o;
    o.max_body_bytes = limit;
    auto m = Matcher::Compile(*set, o);
    REQUIRE(m.ok());
    ScanState st;
    const std::string big = huge + "\nunion select", other = std::string(70000, 'a') + "union select";
    FieldList fl;
    fl.Add(Target::kArg, "big", big);
    REQUIRE((*m)->Scan(fl, &st));
    CHECK(Ids(**m, st) == std::vector<uint32_t>{1, 2});
    fl.Clear();
    fl.Add(Target::kArg, "big", other);
    REQUIRE((*m)->Scan(fl, &st));
    CHECK(Ids(**m, st).empty());
  }
}

// The clean memo (signatures/clean_memo.h) skips a header or name field seen clean before. It must not
// change any verdict: a field that matched (even if excluded there) is never memoised, so the same field
// in a request to another path, or after a clean sighting of a different value, still matches.
TEST_CASE("clean memo: memoised fields are clean ones only, whatever the path and exclusions") {
  auto m = Matcher::Compile(Rules(), {});
  REQUIRE(m.ok());
  rapidjson::Document d;
  d.Parse(R"([{"rule_ids":[2],"paths":["/health"]}])");
  auto excl = Exclusions::FromJson(d);
  REQUIRE(excl.ok());
  ScanState st;
  FieldList fl;
  fl.Add(Target::kHeader, "user-agent", "sqlmap/1.7");
  REQUIRE((*m)->Scan(fl, &st, &*excl, "/health"));  // matched, then excluded: nothing reported
  CHECK(st.matches().empty());
  REQUIRE((*m)->Scan(fl, &st, &*excl, "/login"));   // must not have been memoised as clean
  CHECK(Ids(**m, st) == std::vector<uint32_t>{2});

  // A clean user-agent is memoised; the scan after it still sees every other field.
  fl.Clear();
  fl.Add(Target::kHeader, "user-agent", "curl/8.4.0");
  fl.Add(Target::kArg, "q", "union select 1");
  for (int round = 0; round < 2; ++round) {
    REQUIRE((*m)->Scan(fl, &st));
    CHECK(Ids(**m, st) == std::vector<uint32_t>{1, 4});
  }
  fl.Clear();
  fl.Add(Target::kHeader, "user-agent", "curl/8.4.0 sqlmap");  // a longer value: a different key
  REQUIRE((*m)->Scan(fl, &st));
  CHECK(Ids(**m, st) == std::vector<uint32_t>{2});

  // The memo is per matcher: another rule set, same scan state, same clean-looking value, a match.
  auto curl = ParseRules(R"({"version":"t","rules":[
    {"id":9,"category":"scanner","severity":5,"paranoia":1,"targets":["headers:user-agent"],
     "patterns":["^curl/"],"message":"c"}]})");
  REQUIRE(curl.ok());
  auto m2 = Matcher::Compile(*curl, {});
  REQUIRE(m2.ok());
  fl.Clear();
  fl.Add(Target::kHeader, "user-agent", "curl/8.4.0");
  REQUIRE((*m2)->Scan(fl, &st));
  CHECK(Ids(**m2, st) == std::vector<uint32_t>{9});
}
