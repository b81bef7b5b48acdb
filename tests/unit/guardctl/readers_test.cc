// Readers of guardctl (tools/guardctl): well-formed input in each format, and malformed input giving a
// clear error (source and line) instead of a crash.
#include <catch2/catch.hpp>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>

#include "readers.h"

using guardctl::ReadHar;
using guardctl::ReadHttp;
using guardctl::ReadJsonl;

namespace {
std::string Msg(const absl::Status& s) { return std::string(s.message()); }
}  // namespace

TEST_CASE("jsonl: headers object, labels, path and query split") {
  auto r = ReadJsonl(
      "{\"id\":\"a-1\",\"method\":\"GET\",\"uri\":\"/x/y?q=%27+or+1\",\"headers\":{\"Host\":\"h\",\"User-Agent\":\"u\"},"
      "\"label\":\"attack\",\"category\":\"sqli\",\"split\":\"holdout\"}\n\n",
      "c.jsonl");
  REQUIRE(r.ok());
  REQUIRE(r->size() == 1);
  const auto& q = (*r)[0];
  CHECK(q.id == "a-1");
  CHECK(q.path() == "/x/y");
  CHECK(q.query() == "q=%27+or+1");
  CHECK(q.headers.size() == 2);
  CHECK(*q.header("user-agent") == "u");
  CHECK(q.label == "attack");
  CHECK(q.category == "sqli");
  CHECK(q.split == "holdout");
}

TEST_CASE("jsonl: header_list keeps duplicates; body_b64 is decoded; missing id gets the line number") {
  auto r = ReadJsonl(
      "{\"method\":\"POST\",\"uri\":\"/\",\"header_list\":[[\"Content-Length\",\"1\"],[\"Content-Length\",\"2\"]],"
      "\"body_b64\":\"AAEC/w==\"}\r\n",
      "c.jsonl");
  REQUIRE(r.ok());
  const auto& q = (*r)[0];
  CHECK(q.id == "line-1");
  CHECK(q.headers.size() == 2);
  CHECK(q.body == std::string("\x00\x01\x02\xff", 4));
  CHECK(q.query().empty());
}

TEST_CASE("jsonl: the view handed to libguard points into the request") {
  auto r = ReadJsonl("{\"method\":\"PUT\",\"uri\":\"/a?b=c\",\"headers\":{\"X\":\"1\"},\"body\":\"hi\"}", "c");
  REQUIRE(r.ok());
  guardctl::RequestView v((*r)[0]);
  const guard_request* g = v.get();
  CHECK(std::string(g->method.ptr, g->method.len) == "PUT");
  CHECK(std::string(g->path.ptr, g->path.len) == "/a");
  CHECK(std::string(g->query.ptr, g->query.len) == "b=c");
  CHECK(g->header_count == 1);
  CHECK(std::string(g->body.ptr, g->body.len) == "hi");
}

TEST_CASE("jsonl: malformed lines name the file and line") {
  struct Case {
    const char* text;
    const char* expect;
  } cases[] = {
      {"{\"method\":\"GET\",\"uri\":\"/\"}\n{not json", "c.jsonl:2: invalid JSON"},
      {"[1,2]", "c.jsonl:1: a line must be a JSON object"},
      {"{\"uri\":\"/\"}", "missing \"method\""},
      {"{\"method\":\"GET\"}", "missing \"uri\""},
      {"{\"method\":1,\"uri\":\"/\"}", "\"method\" must be a string"},
      {"{\"method\":\"GET\",\"uri\":\"\"}", "\"uri\" is empty"},
      {"{\"method\":\"GET\",\"uri\":\"/\",\"headers\":[]}", "\"headers\" must be an object"},
      {"{\"method\":\"GET\",\"uri\":\"/\",\"headers\":{\"a\":1}}", "header \"a\" must be a string"},
      {"{\"method\":\"GET\",\"uri\":\"/\",\"header_list\":[[\"a\"]]}", "[name, value] string pairs"},
      {"{\"method\":\"GET\",\"uri\":\"/\",\"headers\":{},\"header_list\":[]}", "both"},
      {"{\"method\":\"GET\",\"uri\":\"/\",\"body_b64\":\"!!!\"}", "not valid base64"},
      {"{\"method\":\"GET\",\"uri\":\"/\",\"body\":\"a\",\"body_b64\":\"YQ==\"}", "both \"body\" and \"body_b64\""},
      {"{\"method\":\"GET\",\"uri\":\"/\",\"label\":\"evil\"}", "\"label\" must be"},
  };
  for (const auto& c : cases) {
    auto r = ReadJsonl(c.text, "c.jsonl");
    INFO(c.text);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(Msg(r.status()), Catch::Contains(c.expect));
  }
}

TEST_CASE("jsonl: deeply nested and truncated input is an error, not a crash") {
  std::string deep(200000, '[');
  auto r = ReadJsonl(deep, "deep");
  CHECK_FALSE(r.ok());
  auto t = ReadJsonl("{\"method\":\"GET\",\"uri\":\"/\",\"body\":\"abc", "t");
  CHECK_FALSE(t.ok());
  auto nul = ReadJsonl(std::string("{\"method\":\"GET\"\0,\"uri\":\"/\"}", 27), "n");
  CHECK_FALSE(nul.ok());
}

TEST_CASE("har: entries become requests; url gives target and host; pseudo-headers dropped") {
  const char* har = R"({"log":{"version":"1.2","entries":[
    {"request":{"method":"GET","url":"https://api.example.com:8443/v1/items?x=1&y=%27#frag",
                "headers":[{"name":":authority","value":"api.example.com:8443"},{"name":"accept","value":"*/*"}]}},
    {"_id":"post-1","_label":"benign","request":{"method":"POST","url":"http://h/?a=b","headers":[{"name":"Host","value":"h2"}],
     "postData":{"mimeType":"application/json","text":"{\"a\":1}"}}},
    {"request":{"method":"PUT","url":"http://user:pw@h","headers":[],"postData":{"text":"aGk=","encoding":"base64"}}}
  ]}})";
  auto r = ReadHar(har, "x.har");
  REQUIRE(r.ok());
  REQUIRE(r->size() == 3);
  CHECK((*r)[0].target == "/v1/items?x=1&y=%27");
  CHECK(*(*r)[0].header("host") == "api.example.com:8443");
  CHECK((*r)[0].headers.size() == 2);
  CHECK((*r)[0].id == "entry-0");
  CHECK((*r)[1].id == "post-1");
  CHECK((*r)[1].label == "benign");
  CHECK((*r)[1].target == "/?a=b");
  CHECK(*(*r)[1].header("host") == "h2");
  CHECK((*r)[1].body == "{\"a\":1}");
  CHECK((*r)[2].target == "/");
  CHECK(*(*r)[2].header("host") == "h");
  CHECK((*r)[2].body == "hi");
}

TEST_CASE("har: malformed files give a clear error") {
  struct Case {
    const char* text;
    const char* expect;
  } cases[] = {
      {"", "invalid JSON"},
      {"{}", "not a HAR file"},
      {"{\"log\":{}}", "\"log.entries\" must be an array"},
      {"{\"log\":{\"entries\":[1]}}", "log.entries[0]: entry must be an object"},
      {"{\"log\":{\"entries\":[{}]}}", "missing \"request\""},
      {"{\"log\":{\"entries\":[{\"request\":{\"method\":\"GET\"}}]}}", "missing \"url\""},
      {"{\"log\":{\"entries\":[{\"request\":{\"method\":\"GET\",\"url\":\"nope\"}}]}}", "not absolute"},
      {"{\"log\":{\"entries\":[{\"request\":{\"method\":\"GET\",\"url\":\"http:///x\"}}]}}", "no host"},
      {"{\"log\":{\"entries\":[{\"request\":{\"method\":\"GET\",\"url\":\"/\",\"headers\":{}}}]}}", "\"headers\" must be an array"},
      {"{\"log\":{\"entries\":[{\"request\":{\"method\":\"GET\",\"url\":\"/\",\"headers\":[{\"name\":\"a\"}]}}]}}", "missing \"value\""},
      {"{\"log\":{\"entries\":[{\"request\":{\"method\":\"GET\",\"url\":\"/\",\"postData\":{\"text\":\"%%\",\"encoding\":\"base64\"}}}]}}",
       "not valid base64"},
  };
  for (const auto& c : cases) {
    auto r = ReadHar(c.text, "x.har");
    INFO(c.text);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(Msg(r.status()), Catch::Contains(c.expect));
    CHECK_THAT(Msg(r.status()), Catch::StartsWith("x.har: "));
  }
}

TEST_CASE("http: ### separated requests with ids, labels and bodies without Content-Length") {
  const char* text =
      "### sqli-1 attack sqli\n"
      "GET /search?q=%27%20or%201=1 HTTP/1.1\n"
      "Host: example.com\n"
      "\n"
      "### form benign\n"
      "POST /login HTTP/1.1\r\n"
      "Host: example.com\r\n"
      "Content-Type: application/x-www-form-urlencoded\r\n"
      "X-Folded: a\r\n"
      "  b\r\n"
      "\r\n"
      "user=jane&pass=x\r\n"
      "\r\n"
      "###\n"
      "GET / HTTP/1.1\n"
      "Host: h\n";
  auto r = ReadHttp(text, "t.http");
  REQUIRE(r.ok());
  REQUIRE(r->size() == 3);
  CHECK((*r)[0].id == "sqli-1");
  CHECK((*r)[0].label == "attack");
  CHECK((*r)[0].category == "sqli");
  CHECK((*r)[0].query() == "q=%27%20or%201=1");
  CHECK((*r)[0].body.empty());
  CHECK((*r)[1].id == "form");
  CHECK((*r)[1].body == "user=jane&pass=x");
  CHECK(*(*r)[1].header("x-folded") == "a b");
  CHECK((*r)[2].id == "request-3");
  CHECK((*r)[2].body.empty());
}

TEST_CASE("http: concatenated requests delimited by Content-Length and chunked encoding") {
  const char* text =
      "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"
      "POST /b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\n\r\n"
      "GET /c HTTP/1.1\r\nHost: h\r\n\r\n"
      "GET /d HTTP/1.0\r\n\r\n";
  auto r = ReadHttp(text, "t.http");
  REQUIRE(r.ok());
  REQUIRE(r->size() == 4);
  CHECK((*r)[0].body == "hello");
  CHECK((*r)[1].body == "abcde");
  CHECK((*r)[2].target == "/c");
  CHECK((*r)[2].body.empty());
  CHECK((*r)[3].target == "/d");
}

TEST_CASE("http: malformed requests give the file and line") {
  struct Case {
    const char* text;
    const char* expect;
  } cases[] = {
      {"GARBAGE\n", "t.http:1: malformed request line"},
      {"GET / HTTP/1.1 extra\n", "malformed request line"},
      {"GET / FTP/1.0\n", "bad HTTP version"},
      {"G(T / HTTP/1.1\n", "malformed request line"},
      {"GET / HTTP/1.1\nHost h\n\n", "t.http:2: header line without a name"},
      {"GET / HTTP/1.1\n: v\n\n", "header line without a name"},
      {"POST / HTTP/1.1\nContent-Length: 10\n\nabc", "only 3 bytes left"},
      {"POST / HTTP/1.1\nContent-Length: -1\n\n", "bad Content-Length"},
      {"POST / HTTP/1.1\nContent-Length: 99999999999999999999999\n\n", "bad Content-Length"},
      {"POST / HTTP/1.1\nTransfer-Encoding: chunked\n\nzz\r\n", "bad chunk size"},
      {"POST / HTTP/1.1\nTransfer-Encoding: chunked\n\nfffffff\r\nab", "chunk runs past the end"},
      {"POST / HTTP/1.1\nTransfer-Encoding: chunked\n\n2\r\nab", "ends before the last chunk"},
      {"### x evil\nGET / HTTP/1.1\n\n", "label must be attack or benign"},
  };
  for (const auto& c : cases) {
    auto r = ReadHttp(c.text, "t.http");
    INFO(c.text);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(Msg(r.status()), Catch::Contains(c.expect));
  }
}

TEST_CASE("http: empty input and binary noise never crash") {
  CHECK(ReadHttp("", "e")->empty());
  CHECK(ReadHttp("\n\n###\n\n", "e")->empty());
  std::string noise;
  for (int i = 0; i < 4096; ++i) noise += static_cast<char>((i * 7919) & 0xff);
  auto r = ReadHttp(noise, "noise");
  (void)r;  // either outcome is fine; it must return
  SUCCEED();
}

TEST_CASE("formats: names and guesses") {
  CHECK(*guardctl::ParseFormat("har") == guardctl::Format::kHar);
  CHECK_FALSE(guardctl::ParseFormat("xml").ok());
  CHECK(guardctl::FormatFromPath("a/b.HAR") == guardctl::Format::kHar);
  CHECK(guardctl::FormatFromPath("x.http") == guardctl::Format::kHttp);
  CHECK(guardctl::FormatFromPath("c.jsonl") == guardctl::Format::kJsonl);
  CHECK(guardctl::ReadFile("/nonexistent/file.jsonl", guardctl::Format::kJsonl).status().code() ==
        absl::StatusCode::kNotFound);
}

TEST_CASE("the committed corpus reads cleanly and keeps its shape") {
  const std::set<std::string> categories = {"sqli", "xss",    "cmdi",  "traversal", "rfi",  "ssrf",    "xxe",     "ssti",
                                            "jndi", "nosqli", "ldapi", "crlf",      "code", "scanner", "protocol"};
  std::set<std::string> ids;
  std::map<std::string, int> per_category;
  int benign = 0, holdout = 0, total = 0;
  for (const char* name : {"attacks.jsonl", "benign.jsonl"}) {
    auto r = guardctl::ReadFile(std::string(GUARD_SOURCE_DIR) + "/tests/corpus/" + name, guardctl::Format::kJsonl);
    INFO(name);
    REQUIRE(r.ok());
    for (const auto& q : *r) {
      INFO(q.id);
      CHECK(ids.insert(q.id).second);  // ids unique across files
      CHECK((q.split == "tune" || q.split == "holdout"));
      holdout += q.split == "holdout";
      ++total;
      if (q.label == "attack") {
        CHECK(categories.count(q.category) == 1);
        ++per_category[q.category];
      } else {
        CHECK(q.label == "benign");
        ++benign;
      }
    }
  }
  CHECK(benign >= 800);
  for (const auto& c : categories) {
    INFO(c);
    CHECK(per_category[c] >= 40);
  }
  CHECK(holdout * 100 / total >= 10);
  CHECK(holdout * 100 / total <= 30);
}

TEST_CASE("implied Content-Length is added once, only for bodies without framing headers") {
  auto r = ReadJsonl(
      "{\"method\":\"POST\",\"uri\":\"/\",\"body\":\"abc\"}\n"
      "{\"method\":\"POST\",\"uri\":\"/\",\"headers\":{\"content-length\":\"3\"},\"body\":\"abc\"}\n"
      "{\"method\":\"GET\",\"uri\":\"/\"}\n",
      "c");
  REQUIRE(r.ok());
  for (auto& q : *r) q.AddImpliedContentLength();
  REQUIRE((*r)[0].header("content-length") != nullptr);
  CHECK(*(*r)[0].header("content-length") == "3");
  CHECK((*r)[1].headers.size() == 1);
  CHECK((*r)[2].headers.empty());
}

TEST_CASE("every prefix and byte-flip of the sample files reads or fails cleanly") {
  for (const char* name : {"sample.http", "sample.har"}) {
    std::string path = std::string(GUARD_SOURCE_DIR) + "/tests/unit/guardctl/data/" + name;
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    guardctl::Format fmt = guardctl::FormatFromPath(name);
    size_t ok = 0;
    for (size_t n = 0; n <= text.size(); ++n) ok += guardctl::Read(fmt, std::string_view(text).substr(0, n), name).ok();
    for (size_t i = 0; i < text.size(); ++i) {
      std::string m = text;
      m[i] = static_cast<char>(m[i] ^ 0x5a);
      ok += guardctl::Read(fmt, m, name).ok();
    }
    CHECK(guardctl::Read(fmt, text, name).ok());
    CHECK(ok > 0);
  }
}
