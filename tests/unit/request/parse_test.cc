// Parse(): method, path, query, headers, cookies, form bodies, body limits and the raw-body fallback.
#include <catch2/catch.hpp>

#include "request/fields.h"
#include "test_util.h"

using namespace guard::request;
using namespace guard::request::testing;

TEST_CASE("Method and percent-decoded path") {
  RequestBuilder b;
  b.method = "POST";
  b.path = "/a%20b/%2e%2e/c+d";
  auto fl = ParseWith(b);
  REQUIRE(Get(fl, Target::kMethod) == P({{"", "POST"}}));
  REQUIRE(Get(fl, Target::kPath) == P({{"", "/a b/../c+d"}}));  // '+' is not a space in a path
  REQUIRE(fl.flags() == 0);
}

TEST_CASE("Invalid escapes are kept literally and flagged") {
  for (std::string p : {"/x%4", "/x%zz", "/x%", "/%G0"}) {
    RequestBuilder b;
    b.path = p;
    auto fl = ParseWith(b);
    REQUIRE(Get(fl, Target::kPath)[0].second == p);
    REQUIRE(fl.flags() & kInvalidEncoding);
  }
}

TEST_CASE("Invalid UTF-8 in path or query is flagged") {
  RequestBuilder b;
  b.path = "/%c0%af";
  REQUIRE(ParseWith(b).flags() & kInvalidEncoding);
  RequestBuilder q;
  q.query = "a=%ff";
  REQUIRE(ParseWith(q).flags() & kInvalidEncoding);
  RequestBuilder ok;
  ok.query = "a=%c3%a9";
  REQUIRE_FALSE(ParseWith(ok).flags() & kInvalidEncoding);
}

TEST_CASE("Query: repeated names, brackets, empty names, names without =") {
  RequestBuilder b;
  b.query = "a=1&a=2&b[]=x&c[d]=y&=hidden&flag&&e=%27+or+1%3D1&f=a;b";
  auto fl = ParseWith(b);
  REQUIRE(Get(fl, Target::kArg) == P({{"a", "1"},
                                      {"a", "2"},
                                      {"b[]", "x"},
                                      {"c[d]", "y"},
                                      {"", "hidden"},
                                      {"flag", ""},
                                      {"e", "' or 1=1"},
                                      {"f", "a;b"}}));
  REQUIRE(Get(fl, Target::kArgName) ==
          P({{"a", "a"}, {"a", "a"}, {"b[]", "b[]"}, {"c[d]", "c[d]"}, {"flag", "flag"}, {"e", "e"}, {"f", "f"}}));
}

TEST_CASE("Query names are decoded too") {
  RequestBuilder b;
  b.query = "%3Cscript%3E=1";
  auto fl = ParseWith(b);
  REQUIRE(Get(fl, Target::kArg) == P({{"<script>", "1"}}));
}

TEST_CASE("Headers: lowercased names, cookies split out, content type recorded") {
  RequestBuilder b;
  b.headers = {{"User-Agent", "sqlmap/1.0"},
               {"Cookie", "session=abc; theme=\"dark\"; q=%3Cx%3E;  spaced = v ; lonely"},
               {"Content-Type", "application/json"},
               {"cookie", "second=2"}};
  auto fl = ParseWith(b);
  REQUIRE(Get(fl, Target::kHeader) == P({{"user-agent", "sqlmap/1.0"}, {"content-type", "application/json"}}));
  REQUIRE(Get(fl, Target::kHeaderName) == P({{"user-agent", "user-agent"}, {"content-type", "content-type"}}));
  REQUIRE(Get(fl, Target::kCookie) == P({{"session", "abc"},
                                         {"theme", "dark"},
                                         {"q", "<x>"},
                                         {"spaced", "v"},
                                         {"", "lonely"},
                                         {"second", "2"}}));
  REQUIRE(Get(fl, Target::kCookieName).size() == 5);
  REQUIRE(fl.content_type() == "application/json");
}

TEST_CASE("A second Content-Type is flagged, the first one wins") {
  RequestBuilder b;
  b.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"content-type", "application/json"}};
  b.body = "a=1";
  auto fl = ParseWith(b);
  REQUIRE(fl.flags() & kDuplicateContentType);
  REQUIRE(Get(fl, Target::kBodyArg) == P({{"a", "1"}}));
}

TEST_CASE("Urlencoded form bodies") {
  RequestBuilder b;
  b.method = "POST";
  b.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=UTF-8"}};
  b.body = "user=admin&pass=%27%20OR%20%271%27%3D%271&x";
  auto fl = ParseWith(b);
  REQUIRE(Get(fl, Target::kBodyArg) == P({{"user", "admin"}, {"pass", "' OR '1'='1"}, {"x", ""}}));
  REQUIRE(Get(fl, Target::kBodyArgName).size() == 3);
  REQUIRE(Get(fl, Target::kBody).empty());  // accepted: no raw duplicate
  REQUIRE(fl.flags() == 0);
}

TEST_CASE("Unlabelled bodies are kept raw, JSON-looking ones are also parsed") {
  RequestBuilder b;
  b.body = "just some text <script>";
  auto fl = ParseWith(b);
  REQUIRE(Get(fl, Target::kBody) == P({{"", "just some text <script>"}}));

  RequestBuilder j;
  j.headers = {{"Content-Type", "text/plain"}};
  j.body = " {\"q\":\"1 union select\"}";
  auto fj = ParseWith(j);
  REQUIRE(Get(fj, Target::kBodyArg) == P({{"q", "1 union select"}}));
  REQUIRE(Get(fj, Target::kBody).size() == 1);
  REQUIRE(fj.flags() == 0);
}

TEST_CASE("Body past max_body_bytes is cut, flagged and still scanned raw") {
  RequestBuilder b;
  b.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  b.body = "a=" + std::string(100, 'x');
  Limits limits;
  limits.max_body_bytes = 10;
  auto fl = ParseWith(b, limits);
  REQUIRE(fl.flags() & kBodyUninspected);
  REQUIRE(Get(fl, Target::kBody) == P({{"", "a=xxxxxxxx"}}));
  REQUIRE(Get(fl, Target::kBodyArg) == P({{"a", "xxxxxxxx"}}));
}

TEST_CASE("Gateway truncation flag is reported even for a small body") {
  RequestBuilder b;
  b.body = "abc";
  b.flags = GUARD_REQ_BODY_TRUNCATED;
  REQUIRE(ParseWith(b).flags() & kBodyUninspected);
}

TEST_CASE("Huge header count: bounded fields, flagged, content type still found, raw body kept") {
  RequestBuilder b;
  for (int i = 0; i < 100000; ++i) b.headers.emplace_back("X-H" + std::to_string(i), "v");
  b.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  b.body = "a=1";
  auto fl = ParseWith(b);
  REQUIRE(fl.size() <= Limits{}.max_fields + 1);
  REQUIRE(fl.flags() & kTooManyFields);
  REQUIRE(fl.content_type() == "application/x-www-form-urlencoded");
  REQUIRE(Get(fl, Target::kBody) == P({{"", "a=1"}}));
}

TEST_CASE("Many query args: bounded and flagged") {
  RequestBuilder b;
  for (int i = 0; i < 50000; ++i) b.query += "a=%41&";
  auto fl = ParseWith(b);
  REQUIRE(fl.size() <= Limits{}.max_fields);
  REQUIRE(fl.flags() & kTooManyFields);
}

TEST_CASE("Null pointers with zero lengths are fine") {
  guard_request r{};
  FieldList fl;
  Parse(r, Limits{}, &fl);
  REQUIRE(Get(fl, Target::kMethod) == P({{"", ""}}));
  REQUIRE(Get(fl, Target::kPath) == P({{"", ""}}));
}

TEST_CASE("Reparsing into the same FieldList gives the same result") {
  RequestBuilder b;
  b.query = "a=%41%42&b=2";
  b.headers = {{"Cookie", "c=%43"}, {"Content-Type", "application/json"}};
  b.body = "{\"k\":[1,\"two\",{\"x\":true}]}";
  FieldList fl;
  guard_request r = b.Build();
  Parse(r, Limits{}, &fl);
  auto first = Get(fl, Target::kBodyArg);
  auto args = Get(fl, Target::kArg);
  for (int i = 0; i < 3; ++i) Parse(r, Limits{}, &fl);
  REQUIRE(Get(fl, Target::kBodyArg) == first);
  REQUIRE(Get(fl, Target::kArg) == args);
}

TEST_CASE("Cookie edge cases") {
  RequestBuilder b;
  b.headers = {{"Cookie", ";;  ; a=; =b; c=d=e; \"q\"=\"\"; t=\t%zz\t;"}};
  auto fl = ParseWith(b);
  REQUIRE(Get(fl, Target::kCookie) == P({{"a", ""}, {"", "b"}, {"c", "d=e"}, {"\"q\"", ""}, {"t", "%zz"}}));
  REQUIRE(fl.flags() & kInvalidEncoding);
}

TEST_CASE("Form body with the field limit reached keeps the raw body") {
  RequestBuilder b;
  b.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  for (int i = 0; i < 100; ++i) b.body += "k=v&";
  Limits limits;
  limits.max_fields = 20;
  auto fl = ParseWith(b, limits);
  REQUIRE(fl.flags() & kTooManyFields);
  REQUIRE(Get(fl, Target::kBody).size() == 1);
}
