// Request-shape fingerprint: exact skeletons/templates/classes, attack variants that must collide,
// and benign/attack/route pairs that must not.
#include "fingerprint/request_shape.h"

#include <catch2/catch.hpp>

#include <random>
#include <set>
#include <string>
#include <vector>

using namespace guard::fingerprint;

namespace {

std::string RandWord(std::mt19937& rng) {
  // 'z' + 5..9 letters: never a keyword, never starts with "on".
  std::string w = "z";
  int n = 5 + rng() % 5;
  for (int i = 0; i < n; ++i) w += static_cast<char>('a' + rng() % 26);
  return w;
}

std::string Fill(std::string tmpl, std::mt19937& rng) {
  std::string out;
  for (size_t i = 0; i < tmpl.size(); ++i) {
    if (tmpl.compare(i, 3, "{N}") == 0) {
      out += std::to_string(1 + rng() % 99999);
      i += 2;
    } else if (tmpl.compare(i, 3, "{W}") == 0) {
      out += RandWord(rng);
      i += 2;
    } else if (tmpl.compare(i, 6, "{COLS}") == 0) {
      int n = 2 + rng() % 5;
      for (int k = 0; k < n; ++k) out += (k ? "," : "") + RandWord(rng);
      i += 5;
    } else if (tmpl.compare(i, 6, "{DOTS}") == 0) {
      int n = 2 + rng() % 7;
      for (int k = 0; k < n; ++k) out += "../";
      i += 5;
    } else {
      out += tmpl[i];
    }
  }
  return out;
}

std::string Hex2(unsigned char c, bool upper) {
  const char* d = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  return std::string{'%', d[c >> 4], d[c & 15]};
}

// An attacker's toolbox: case, whitespace/comment padding, %-encoding, double encoding, HTML entities.
std::string Mutate(const std::string& s, std::mt19937& rng, bool sql) {
  std::string out;
  for (char c : s) {
    if (c >= 'a' && c <= 'z' && rng() % 2) c = static_cast<char>(c - 32);
    else if (c >= 'A' && c <= 'Z' && rng() % 2) c = static_cast<char>(c + 32);
    if (c == ' ') {
      static const char* kSql[] = {" ", "  ", "\t", "/**/", "\n", " /*x*/ "};
      static const char* kOther[] = {" ", "  ", "\t"};
      out += sql ? kSql[rng() % 6] : kOther[rng() % 3];
      continue;
    }
    if (c == '<' && rng() % 3 == 0) {
      static const char* kLt[] = {"&lt;", "&#60;", "&#x3c;", "&LT;"};
      out += kLt[rng() % 4];
      continue;
    }
    if (rng() % 4 == 0) {
      out += Hex2(static_cast<unsigned char>(c), rng() % 2);
      continue;
    }
    out += c;
  }
  if (rng() % 3 == 0) {  // double encoding: every '%' once more
    std::string twice;
    for (char c : out) twice += c == '%' ? std::string("%25") : std::string(1, c);
    out = twice;
  }
  return out;
}

struct Req {
  std::string method, path;
  std::vector<std::string> names, values;
  std::vector<bool> flagged;
  std::vector<ShapeParam> params;
  ShapeInput Input() {
    params.clear();
    for (size_t i = 0; i < names.size(); ++i)
      params.push_back({ParamSource::kQuery, names[i], values[i], static_cast<bool>(flagged[i])});
    return ShapeInput{method, path, false, params};
  }
};

// The attack in parameter q of GET /api/v1/users/<id>/search?page=<int>&sort=<word>, params shuffled.
Req AttackRequest(const std::string& payload, std::mt19937& rng) {
  Req r;
  r.method = rng() % 2 ? "GET" : "get";
  r.path = "/api/v1/users/" + std::to_string(rng() % 1000000) + "/search";
  std::vector<std::pair<std::string, std::pair<std::string, bool>>> ps = {
      {"q", {payload, true}}, {"page", {std::to_string(rng() % 100), false}}, {"sort", {RandWord(rng), false}}};
  std::shuffle(ps.begin(), ps.end(), rng);
  for (auto& p : ps) {
    r.names.push_back(p.first);
    r.values.push_back(p.second.first);
    r.flagged.push_back(p.second.second);
  }
  return r;
}

struct Payload {
  const char* name;
  const char* tmpl;
  bool sql;
  const char* skeleton;  // exact expected skeleton of every variant
};

const Payload kPayloads[] = {
    {"sqli tautology", "' OR {N}={N} -- {W}", true, "s o n = n c"},
    {"sqli union", "{N} UNION SELECT {COLS} FROM {W}", true, "n union select w , w from w"},
    {"sqli union 1col", "{N} UNION SELECT {W} FROM {W}", true, "n union select w from w"},
    {"sqli time", "{N}' AND SLEEP({N}) AND '{W}'='{W}", true, "s o sleep ( n ) o s = s"},
    {"xss script", "<script>alert({N})</script>", false, "< script > alert ( n ) < / script >"},
    {"xss img", "<img src={W} onerror=alert({N})>", false, "< img src = w e = alert ( n ) >"},
    {"traversal", "{DOTS}etc/{W}", false, "P / etc / w"},
    {"cmdi", "; cat /etc/{W}", false, "; cat / etc / w"},
    {"jndi", "${jndi:ldap://{W}.{W}.com:{N}/{W}}", false, "$ { jndi : ldap : / w . w : n / w }"},
};

}  // namespace

TEST_CASE("stable hash has fixed values") {
  // Golden values: if these change, every stored fingerprint changes (bump kShapeVersion and the docs).
  CHECK(StableHash128("").Hex() == "54dffdc35aabaa1c7b1a58f4dfd6a4a9");
  CHECK(StableHash128("abc").Hex() == "b103f90195137282253cfae5b509aa4b");
  CHECK(StableHash128("abc") == StableHash128("abc"));
  CHECK_FALSE(StableHash128("abc") == StableHash128("abd"));
  StableHasher a, b;
  a.Add("ab");
  a.Add("c");
  b.Add("a");
  b.Add("bc");
  CHECK_FALSE(a.Finish() == b.Finish());
}

TEST_CASE("value classes") {
  CHECK(ClassifyValue("") == ValueClass::kEmpty);
  CHECK(ClassifyValue("TRUE") == ValueClass::kBool);
  CHECK(ClassifyValue("-42") == ValueClass::kInt);
  CHECK(ClassifyValue("3.14") == ValueClass::kFloat);
  CHECK(ClassifyValue("1e10") == ValueClass::kFloat);
  CHECK(ClassifyValue("550e8400-e29b-41d4-a716-446655440000") == ValueClass::kUuid);
  CHECK(ClassifyValue("5f0c9a1e3b") == ValueClass::kHex);
  CHECK(ClassifyValue("deadbeef") == ValueClass::kWord);  // no digit: a word that happens to be hex
  CHECK(ClassifyValue("john.doe+x@example.com") == ValueClass::kEmail);
  CHECK(ClassifyValue("2024-01-31T10:00:00Z") == ValueClass::kDate);
  CHECK(ClassifyValue("10.0.0.1") == ValueClass::kIpv4);
  CHECK(ClassifyValue("https://example.com/a?b=c") == ValueClass::kUrl);
  CHECK(ClassifyValue("eyJhbGciOiJIUzI1NiJ9==") == ValueClass::kBase64);
  CHECK(ClassifyValue("john_doe") == ValueClass::kWord);
  CHECK(ClassifyValue("hello world") == ValueClass::kText);
  CHECK(ClassifyValue(std::string_view("a\x01", 2)) == ValueClass::kBinary);
}

TEST_CASE("route templates") {
  std::string t;
  RouteTemplate("/users/42/orders/550e8400-e29b-41d4-a716-446655440000", &t);
  CHECK(t == "/users/{int}/orders/{uuid}");
  RouteTemplate("/files/5f0c9a1e3b/raw", &t);
  CHECK(t == "/files/{hex}/raw");
  RouteTemplate("/u/john@example.com/d/2024-01-31", &t);
  CHECK(t == "/u/{email}/d/{date}");
  RouteTemplate("/s/eyJhbGciOiJIUzI1NiJ9x1", &t);
  CHECK(t == "/s/{token}");
  RouteTemplate("/api/v2/users/", &t);
  CHECK(t == "/api/v2/users/");
  CHECK(RouteTemplateHash("/users/1") == RouteTemplateHash("/users/999"));
  CHECK(RouteTemplateHash("/users/1") != RouteTemplateHash("/orders/1"));
  uint64_t id = 0;
  REQUIRE(LastNumericSegment("/users/42/orders", &id));
  CHECK(id == 42);
  REQUIRE(LastNumericSegment("/a/7/b/1234", &id));
  CHECK(id == 1234);
  CHECK_FALSE(LastNumericSegment("/a/b", &id));
}

TEST_CASE("token skeletons") {
  CHECK(TokenSkeleton("' OR 1=1 --") == "s o n = n c");
  CHECK(TokenSkeleton("admin'--") == "s c");
  CHECK(TokenSkeleton("1' or '1'='1") == "s o s = s");
  CHECK(TokenSkeleton("1 UNION/**/SELECT a,b,c FROM users") == "n union select w , w from w");
  CHECK(TokenSkeleton("1 /*!50000UNION*/ SELECT 1") == "n union select n");
  CHECK(TokenSkeleton("%253Cscript%253Ealert(1)%253C/script%253E") == "< script > alert ( n ) < / script >");
  CHECK(TokenSkeleton("&lt;svg/onload=alert(1)&gt;") == "< svg / e = alert ( n ) >");
  CHECK(TokenSkeleton("\xEF\xBC\x9C" "script\xEF\xBC\x9E") == "< script >");  // full-width < >
  CHECK(TokenSkeleton("..%2f..%2f..%2fetc%2fpasswd") == "P / etc / passwd");
  CHECK(TokenSkeleton("{{7*7}}") == "{ n * n }");
  CHECK(TokenSkeleton("a; $IFS cat") == "w ; v cat");
  CHECK(TokenSkeleton("x || y && z") == "w o w");  // a repeated pair collapses
  std::string big(10000, 'a');
  for (size_t i = 1; i < big.size(); i += 2) big[i] = ',';
  CHECK(TokenSkeleton(big) == "w ,");  // repeats collapse; input beyond kMaxSkeletonInput ignored
}

TEST_CASE("attack variants share a fingerprint") {
  std::mt19937 rng(20261123);
  std::set<std::string> all;
  for (const Payload& p : kPayloads) {
    INFO(p.name);
    Hash128 first;
    for (int v = 0; v < 25; ++v) {
      std::string payload = Mutate(Fill(p.tmpl, rng), rng, p.sql);
      INFO("variant " << v << ": " << payload);
      CHECK(TokenSkeleton(payload) == p.skeleton);
      Req r = AttackRequest(payload, rng);
      RequestFingerprint fp = FingerprintRequest(r.Input());
      CHECK(fp.flagged == 1);
      CHECK(fp.cacheable);
      if (v == 0) first = fp.hash;
      CHECK(fp.hash == first);
    }
    all.insert(first.Hex());
  }
  CHECK(all.size() == std::size(kPayloads));  // different attacks, different fingerprints
}

TEST_CASE("benign requests never share an attack's fingerprint") {
  std::mt19937 rng(7);
  const char* benign[] = {"hello world", "shoes", "42", "john@example.com", "it's a test", "", "O'Brien",
                          "select a size", "1=1", "<b>bold</b>", "../relative", "true"};
  std::set<std::string> attack_fps, benign_fps;
  for (const Payload& p : kPayloads) {
    Req r = AttackRequest(Fill(p.tmpl, rng), rng);
    attack_fps.insert(FingerprintRequest(r.Input()).hash.Hex());
  }
  for (const char* b : benign) {
    for (bool flagged : {false, true}) {  // even a false positive's skeleton is not an attack's
      Req r = AttackRequest(b, rng);
      for (size_t i = 0; i < r.names.size(); ++i)
        if (r.names[i] == "q") r.flagged[i] = flagged;
      std::string fp = FingerprintRequest(r.Input()).hash.Hex();
      INFO(b << " flagged=" << flagged);
      CHECK(attack_fps.count(fp) == 0);
      benign_fps.insert(fp);
    }
  }
  // An unflagged value enters as its class: "shoes" and "it's a test" differ (word vs text), "" too.
  CHECK(benign_fps.size() >= 10);
  // The same value flagged and unflagged differ (tag '!' vs '=').
  Req a = AttackRequest("shoes", rng), b = a;
  for (size_t i = 0; i < b.names.size(); ++i)
    if (b.names[i] == "q") a.flagged[i] = false, b.flagged[i] = true;
  CHECK_FALSE(FingerprintRequest(a.Input()).hash == FingerprintRequest(b.Input()).hash);
}

TEST_CASE("benign values of one class share a fingerprint, routes and methods do not") {
  auto fp = [](std::string method, std::string path, std::vector<std::pair<std::string, std::string>> kv) {
    std::vector<ShapeParam> ps;
    for (auto& [k, v] : kv) ps.push_back({ParamSource::kQuery, k, v, false});
    return FingerprintRequest(ShapeInput{method, path, false, ps}).hash;
  };
  CHECK(fp("GET", "/users/1", {{"fields", "name"}}) == fp("GET", "/users/77", {{"fields", "email"}}));
  CHECK(fp("GET", "/users/1", {{"a", "1"}, {"b", "x"}}) == fp("GET", "/users/1", {{"b", "y"}, {"a", "2"}}));
  CHECK(fp("GET", "/items", {{"items[0]", "1"}}) == fp("GET", "/items", {{"items[12]", "5"}}));
  CHECK_FALSE(fp("GET", "/users/1", {}) == fp("GET", "/orders/1", {}));
  CHECK_FALSE(fp("GET", "/users/1", {}) == fp("DELETE", "/users/1", {}));
  CHECK_FALSE(fp("GET", "/users/1", {{"a", "1"}}) == fp("GET", "/users/1", {{"b", "1"}}));
  CHECK_FALSE(fp("GET", "/users/1", {{"a", "1"}}) == fp("GET", "/users/1", {{"a", "x"}}));
  CHECK_FALSE(fp("GET", "/users/1", {{"a", "1"}}) == fp("GET", "/users/1", {{"a", "1"}, {"a", "1"}}));
  // Golden fingerprint: a change here means stored fingerprints change (bump kShapeVersion).
  CHECK(fp("GET", "/users/1", {{"fields", "name"}}).Hex() == "b09bf57c9a5517bb685cfa52a0ac2ba5");
}

TEST_CASE("flagged path and parameter limits") {
  ShapeInput a{"GET", "/static/../../etc/passwd", true, {}};
  ShapeInput b{"GET", "/assets/../../../../etc/passwd", true, {}};
  CHECK(FingerprintRequest(a).hash == FingerprintRequest(b).hash);
  CHECK(FingerprintRequest(a).flagged == 1);
  std::vector<std::string> names(kMaxShapeParams + 1);
  std::vector<ShapeParam> ps;
  for (size_t i = 0; i < names.size(); ++i) {
    names[i] = "p" + std::to_string(i);
    ps.push_back({ParamSource::kQuery, names[i], "1", false});
  }
  CHECK_FALSE(FingerprintRequest(ShapeInput{"GET", "/", false, ps}).cacheable);
  ps.pop_back();
  CHECK(FingerprintRequest(ShapeInput{"GET", "/", false, ps}).cacheable);
}

TEST_CASE("describe shows the canonical form") {
  std::vector<ShapeParam> ps = {{ParamSource::kBody, "q", "' or 2=2 --", true},
                                {ParamSource::kQuery, "id", "17", false}};
  CHECK(DescribeShape(ShapeInput{"post", "/users/5/login", false, ps}) ==
        "v1\nPOST\n/users/{int}/login\nb:q!s o n = n c\nq:id=int\n");
}

#include <malloc.h>

TEST_CASE("fingerprinting allocates nothing") {
  std::vector<ShapeParam> ps = {{ParamSource::kQuery, "q", "1 union/**/select a,b from users --", true},
                                {ParamSource::kQuery, "page", "2", false},
                                {ParamSource::kBody, "items[3].sku", "AB-123", false}};
  ShapeInput in{"GET", "/api/v1/users/42/search", false, ps};
  Hash128 first = FingerprintRequest(in).hash;  // first use builds the keyword set
  size_t before = mallinfo2().uordblks;
  bool same = true;
  uint64_t sink = 0;
  for (int i = 0; i < 1000; ++i) {
    same &= FingerprintRequest(in).hash == first;
    sink += RouteTemplateHash("/users/123/orders/550e8400-e29b-41d4-a716-446655440000");
  }
  size_t after = mallinfo2().uordblks;
  CHECK(same);
  CHECK(sink != 0);
  CHECK(after == before);
}

TEST_CASE("random input never breaks the skeleton bounds") {
  std::mt19937 rng(99);
  const std::string alphabet = "%&#;'\"`/\\*-.<>=()${}[]|!@:,+ \t\nuxX0123456789abcdefORSELCTorselct\xEF\xBC\x9C\x80";
  for (int i = 0; i < 20000; ++i) {
    std::string s(rng() % 300, ' ');
    for (char& c : s) c = rng() % 8 == 0 ? static_cast<char>(rng() % 256) : alphabet[rng() % alphabet.size()];
    std::string sk = TokenSkeleton(s);
    size_t tokens = sk.empty() ? 0 : std::count(sk.begin(), sk.end(), ' ') + 1;
    if (sk.ends_with(" ...")) tokens -= 1;
    REQUIRE(tokens <= kMaxSkeletonTokens);
    (void)ClassifyValue(s);
    std::string t;
    RouteTemplate(s, &t);
    ShapeParam p{ParamSource::kBody, s, s, (i & 1) != 0};
    (void)FingerprintRequest(ShapeInput{s, s, (i & 2) != 0, std::span<const ShapeParam>(&p, 1)});
  }
}
