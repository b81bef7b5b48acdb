// JSON bodies: dotted key paths, scalars as text, depth and size limits, malformed input.
#include <catch2/catch.hpp>

#include "request/fields.h"
#include "test_util.h"

using namespace guard::request;
using namespace guard::request::testing;

namespace {
FieldList ParseJson(const std::string& body, Limits limits = {}) {
  RequestBuilder b;
  b.method = "POST";
  b.headers = {{"Content-Type", "application/json; charset=utf-8"}};
  b.body = body;
  return ParseWith(Keep(std::move(b)), limits);
}
}  // namespace

TEST_CASE("JSON keys become dotted paths, values text") {
  auto fl = ParseJson(R"({"a":{"b":[{"c":"x"},2.50,true,null]},"d":"\u003cscript\u003e","e":-1e3})");
  REQUIRE(Get(fl, Target::kBodyArgName) ==
          P({{"a", "a"}, {"a.b", "a.b"}, {"a.b.0.c", "a.b.0.c"}, {"d", "d"}, {"e", "e"}}));
  REQUIRE(Get(fl, Target::kBodyArg) ==
          P({{"a.b.0.c", "x"}, {"a.b.1", "2.50"}, {"a.b.2", "true"}, {"d", "<script>"}, {"e", "-1e3"}}));
  REQUIRE(Get(fl, Target::kBody).empty());
  REQUIRE(fl.flags() == 0);
}

TEST_CASE("JSON root arrays and scalars") {
  auto fl = ParseJson(R"([["x"],{"k":"v"}])");
  REQUIRE(Get(fl, Target::kBodyArg) == P({{"0.0", "x"}, {"1.k", "v"}}));
  auto s = ParseJson(R"("bare")");
  REQUIRE(Get(s, Target::kBodyArg) == P({{"", "bare"}}));
}

TEST_CASE("vnd+json is JSON") {
  RequestBuilder b;
  b.headers = {{"Content-Type", "application/vnd.api+json"}};
  b.body = R"({"q":1})";
  REQUIRE(Get(ParseWith(b), Target::kBodyArg) == P({{"q", "1"}}));
}

TEST_CASE("Malformed JSON: flagged, fields so far kept, raw body scanned") {
  auto fl = ParseJson(R"({"a":"1","b":)");
  REQUIRE(fl.flags() & kMalformedBody);
  REQUIRE(Get(fl, Target::kBodyArg) == P({{"a", "1"}}));
  REQUIRE(Get(fl, Target::kBody).size() == 1);
}

TEST_CASE("Trailing garbage after the root is malformed") {
  auto fl = ParseJson(R"({"a":1} {"evil":"x"})");
  REQUIRE(fl.flags() & kMalformedBody);
  REQUIRE(Get(fl, Target::kBody).size() == 1);
  auto ws = ParseJson("{\"a\":1}  \r\n");
  REQUIRE(ws.flags() == 0);
}

TEST_CASE("Embedded NUL stops the parse as malformed, not as a silent end") {
  std::string body = "{\"a\":\"x";
  body.push_back('\0');
  body += "\"}";
  auto fl = ParseJson(body);
  REQUIRE(fl.flags() & kMalformedBody);
  REQUIRE(Get(fl, Target::kBody).size() == 1);
}

TEST_CASE("Deep JSON: 10k levels stop at the depth limit") {
  std::string body(10000, '[');
  body += std::string(10000, ']');
  auto fl = ParseJson(body);
  REQUIRE(fl.flags() & kJsonTooDeep);
  REQUIRE(Get(fl, Target::kBody).size() == 1);

  std::string objs;
  for (int i = 0; i < 10000; ++i) objs += "{\"a\":";
  auto fo = ParseJson(objs);
  REQUIRE(fo.flags() & kJsonTooDeep);
  REQUIRE(Get(fo, Target::kBodyArgName).size() == Limits{}.max_json_depth);
}

TEST_CASE("1 MB of open brackets is bounded") {
  Limits limits;
  limits.max_body_bytes = 2 << 20;
  auto fl = ParseJson(std::string(1 << 20, '['), limits);
  REQUIRE(fl.flags() & kJsonTooDeep);
  REQUIRE(fl.size() < 20);
}

TEST_CASE("Depth exactly at the limit is accepted") {
  Limits limits;
  limits.max_json_depth = 3;
  auto ok = ParseJson("[[[1]]]", limits);
  REQUIRE(ok.flags() == 0);
  REQUIRE(Get(ok, Target::kBodyArg) == P({{"0.0.0", "1"}}));
  auto deep = ParseJson("[[[[1]]]]", limits);
  REQUIRE(deep.flags() & kJsonTooDeep);
}

TEST_CASE("Many JSON values: bounded by max_fields, raw body kept") {
  std::string body = "[";
  for (int i = 0; i < 20000; ++i) body += "\"v\",";
  body += "1]";
  Limits limits;
  limits.max_body_bytes = 1 << 20;
  auto fl = ParseJson(body, limits);
  REQUIRE(fl.flags() & kTooManyFields);
  REQUIRE_FALSE(fl.flags() & kMalformedBody);
  REQUIRE(fl.size() <= limits.max_fields + 1);
  REQUIRE(Get(fl, Target::kBody).size() == 1);
}

TEST_CASE("Long keys under long parents: names keep a bounded prefix and the full key") {
  std::string parent(1000, 'p');
  std::string body = "{\"" + parent + "\":{";
  for (int i = 0; i < 500; ++i) body += "\"k" + std::to_string(i) + "\":1,";
  body += "\"last\":2}}";
  auto fl = ParseJson(body);
  auto names = Get(fl, Target::kBodyArgName);
  REQUIRE(names.back().first == parent.substr(0, 256) + ".last");
  size_t total = 0;
  for (auto& f : fl.fields()) total += f.name.size() + f.value.size();
  REQUIRE(total < 600 * 300 * 3);  // not 500 * 1000
}

TEST_CASE("Truncated JSON is not called malformed") {
  RequestBuilder b;
  b.headers = {{"Content-Type", "application/json"}};
  b.body = R"({"a":"1","b":"2"})";
  Limits limits;
  limits.max_body_bytes = 10;
  auto fl = ParseWith(b, limits);
  REQUIRE(fl.flags() & kBodyUninspected);
  REQUIRE_FALSE(fl.flags() & kMalformedBody);
  REQUIRE(Get(fl, Target::kBodyArg) == P({{"a", "1"}}));
  REQUIRE(Get(fl, Target::kBody).size() == 1);
}
