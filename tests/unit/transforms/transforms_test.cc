// Transforms: each one on its own, chains, malformed input, bounds.
#include <catch2/catch.hpp>

#include <random>
#include <vector>

#include "transforms/transform_impl.h"
#include "transforms/transforms.h"

using namespace guard::transforms;

namespace {
std::string T(Transform t, std::string_view in) {
  std::string a, b;
  Transform chain[] = {t};
  return std::string(Apply(chain, in, &a, &b));
}
std::string Chain(std::initializer_list<Transform> l, std::string_view in) {
  std::vector<Transform> chain(l);
  std::string a, b;
  return std::string(Apply(chain, in, &a, &b));
}
}  // namespace

TEST_CASE("Names round-trip") {
  for (int i = 0; i < static_cast<int>(Transform::kCount); ++i) {
    auto t = static_cast<Transform>(i);
    auto parsed = ParseTransform(TransformName(t));
    REQUIRE(parsed.ok());
    REQUIRE(*parsed == t);
  }
  REQUIRE_FALSE(ParseTransform("nope").ok());
  // Every name schema/rules.schema.json allows.
  for (auto name : {"urlDecode", "urlDecodeUni", "htmlEntityDecode", "utf8Normalize", "lowercase", "replaceComments",
                    "compressWhitespace", "removeComments", "normalizePath", "removeNulls", "base64Decode", "cmdLine"})
    REQUIRE(ParseTransform(name).ok());
  REQUIRE(*ParseTransform("replaceComments") == Transform::kRemoveComments);
}

TEST_CASE("urlDecode: plain, plus, repeated until stable, invalid escapes kept") {
  REQUIRE(T(Transform::kUrlDecode, "a%20b+c") == "a b c");
  REQUIRE(T(Transform::kUrlDecode, "%252e%252e%252f") == "../");
  REQUIRE(T(Transform::kUrlDecode, "%25252e") == ".");         // three passes
  REQUIRE(T(Transform::kUrlDecode, "%2525252e") == ".");       // four passes
  REQUIRE(T(Transform::kUrlDecode, "%252525252e") == "%2e");   // then the cap
  REQUIRE(T(Transform::kUrlDecode, "%4") == "%4");
  REQUIRE(T(Transform::kUrlDecode, "%zz%") == "%zz%");
  REQUIRE(T(Transform::kUrlDecode, "%u003c") == "%u003c");    // not the Uni variant
  REQUIRE(T(Transform::kUrlDecode, "%00x") == std::string("\0x", 2));
}

TEST_CASE("urlDecodeUni: %uXXXX, full-width to ASCII") {
  REQUIRE(T(Transform::kUrlDecodeUni, "%u003cscript%U003E") == "<script>");
  REQUIRE(T(Transform::kUrlDecodeUni, "%uFF1C") == "<");
  REQUIRE(T(Transform::kUrlDecodeUni, "%u00e9") == "\xc3\xa9");
  REQUIRE(T(Transform::kUrlDecodeUni, "%uD800") == "%uD800");  // lone surrogate kept
  REQUIRE(T(Transform::kUrlDecodeUni, "%u12") == "%u12");
  REQUIRE(T(Transform::kUrlDecodeUni, "%25u003c") == "<");
}

TEST_CASE("htmlEntityDecode: named, decimal, hex, with and without the semicolon") {
  REQUIRE(T(Transform::kHtmlEntityDecode, "&lt;script&gt;") == "<script>");
  REQUIRE(T(Transform::kHtmlEntityDecode, "&LT;&ltx") == "<<x");
  REQUIRE(T(Transform::kHtmlEntityDecode, "&#60;&#x3C;&#X3c&#0000000060;") == "<<<<");
  REQUIRE(T(Transform::kHtmlEntityDecode, "java&Tab;script&colon;alert&lpar;1&rpar;") == "java\tscript:alert(1)");
  REQUIRE(T(Transform::kHtmlEntityDecode, "&#233;") == "\xc3\xa9");
  REQUIRE(T(Transform::kHtmlEntityDecode, "&#x1F600;") == "\xf0\x9f\x98\x80");
  REQUIRE(T(Transform::kHtmlEntityDecode, "&#99999999999999999999;") == "&#99999999999999999999;");
  REQUIRE(T(Transform::kHtmlEntityDecode, "&#0;&#xD800;&#;&#x;&unknown;&") == "&#0;&#xD800;&#;&#x;&unknown;&");
  REQUIRE(T(Transform::kHtmlEntityDecode, "a&nbsp;b") == "a b");
}

TEST_CASE("utf8Normalize: overlong forms and full-width ASCII") {
  REQUIRE(T(Transform::kUtf8Normalize, "..\xc0\xaf..\xc0\xaf") == "../../");
  REQUIRE(T(Transform::kUtf8Normalize, "\xe0\x80\xaf") == "/");
  REQUIRE(T(Transform::kUtf8Normalize, "\xf0\x80\x80\xaf") == "/");
  REQUIRE(T(Transform::kUtf8Normalize, "\xef\xbc\x9c\xef\xbd\x93\xef\xbd\x83\xef\xbc\x9e") == "<sc>");
  REQUIRE(T(Transform::kUtf8Normalize, "caf\xc3\xa9") == "caf\xc3\xa9");
  REQUIRE(T(Transform::kUtf8Normalize, "\xc0") == "\xc0");
  REQUIRE(T(Transform::kUtf8Normalize, "\xe0\x80") == "\xe0\x80");
  REQUIRE(T(Transform::kUtf8Normalize, "\xff\xfe") == "\xff\xfe");
  REQUIRE(T(Transform::kUtf8Normalize, "a\xe3\x80\x80" "b") == "a b");
}

// Look-alikes of '/', '\\' and '.' that best-fit mappings turn into them: a traversal spelled with them is one.
TEST_CASE("utf8Normalize: slash, backslash and dot look-alikes") {
  CHECK(T(Transform::kUtf8Normalize, "..\xe2\x88\x95..\xe2\x88\x95" "etc") == "../../etc");  // U+2215
  CHECK(T(Transform::kUtf8Normalize, "..\xe2\x88\x96win.ini") == "..\\win.ini");            // U+2216
  CHECK(T(Transform::kUtf8Normalize, "1\xe2\x81\x84" "2") == "1/2");                       // U+2044
  CHECK(T(Transform::kUtf8Normalize, "\xe2\xa7\xb8\xe2\xa7\xb9\xef\xb9\xa8") == "/\\\\");         // U+29F8 29F9 FE68
  CHECK(T(Transform::kUtf8Normalize, "\xe2\x80\xa4\xef\xb9\x92\xe2\x80\xa5/") == "..../");  // U+2024 FE52 2025
  CHECK(T(Transform::kUtf8Normalize, "\xe2\x88\x94") == "\xe2\x88\x94");                // U+2214, a neighbour: kept
  CHECK(T(Transform::kUtf8Normalize, "\xe2\x91\xa0\xe2\x91\xa1\xe2\x91\xa6.\xe2\x93\xaa") == "127.0");  // circled digits
  CHECK(T(Transform::kUtf8Normalize, "\xe2\x91\xa9\xe2\x91\xb3") == "1020");                  // circled 10, 20
  CHECK(T(Transform::kUtf8Normalize, "\xe2\x93\x9b\xe2\x93\x9e\xe2\x92\xb8") == "loC");    // circled letters
  CHECK(T(Transform::kUtf8Normalize, "a\xe3\x80\x82" "b\xef\xbd\xa1" "c") == "a.b.c");                // ideographic stops
  CHECK(T(Transform::kUtf8Normalize, "\xe2\x91\x9f\xe2\x91\xb4") == "\xe2\x91\x9f\xe2\x91\xb4");  // U+245F, U+2474: kept
}

TEST_CASE("lowercase, removeNulls") {
  REQUIRE(T(Transform::kLowercase, "SeLeCT \xc3\x89") == "select \xc3\x89");
  REQUIRE(T(Transform::kRemoveNulls, std::string("a\0b\0", 4)) == "ab");
}

TEST_CASE("compressWhitespace includes VT, FF and non-breaking spaces") {
  REQUIRE(T(Transform::kCompressWhitespace, "a \t\n\r\v\fb") == "a b");
  REQUIRE(T(Transform::kCompressWhitespace, "union\xa0select") == "union select");
  REQUIRE(T(Transform::kCompressWhitespace, "union\xc2\xa0\xc2\xa0select") == "union select");
  REQUIRE(T(Transform::kCompressWhitespace, "\xc2") == "\xc2");
  REQUIRE(T(Transform::kCompressWhitespace, "voil\xc3\xa0  \xd0\xa0") == "voil\xc3\xa0 \xd0\xa0");  // A0 inside UTF-8
  REQUIRE(T(Transform::kCompressWhitespace, "\xe4\xa0\xa0x\xa0\xa0y") == "\xe4\xa0\xa0x y");
}

TEST_CASE("removeComments") {
  REQUIRE(T(Transform::kRemoveComments, "UNION/**/SELECT") == "UNION SELECT");
  REQUIRE(T(Transform::kRemoveComments, "1/*!50000union*/select") == "1 union select");
  REQUIRE(T(Transform::kRemoveComments, "/*!select*/") == " select ");
  REQUIRE(T(Transform::kRemoveComments, "1 or 1=1-- -x\nnext") == "1 or 1=1 \nnext");
  REQUIRE(T(Transform::kRemoveComments, "1#comment") == "1 ");
  REQUIRE(T(Transform::kRemoveComments, "a/* unterminated") == "a ");
  REQUIRE(T(Transform::kRemoveComments, "a/*!unterminated") == "a unterminated");
  REQUIRE(T(Transform::kRemoveComments, "x/*+ hint */y") == "x y");
  REQUIRE(T(Transform::kRemoveComments, "a-b/c*d") == "a-b/c*d");
}

TEST_CASE("normalizePath") {
  REQUIRE(T(Transform::kNormalizePath, "/a/b/../c") == "/a/c");
  REQUIRE(T(Transform::kNormalizePath, "/../../etc/passwd") == "/etc/passwd");
  REQUIRE(T(Transform::kNormalizePath, "../../etc/passwd") == "../../etc/passwd");
  REQUIRE(T(Transform::kNormalizePath, "a/../../b") == "../b");
  REQUIRE(T(Transform::kNormalizePath, "\\a\\.\\b\\\\c") == "/a/b/c");
  REQUIRE(T(Transform::kNormalizePath, "//a//b/") == "/a/b/");
  REQUIRE(T(Transform::kNormalizePath, "/a/b/..") == "/a/");
  REQUIRE(T(Transform::kNormalizePath, "..") == "..");
  REQUIRE(T(Transform::kNormalizePath, "/") == "/");
  REQUIRE(T(Transform::kNormalizePath, "./x") == "x");
  REQUIRE(T(Transform::kNormalizePath, "a/..") == "");
}

TEST_CASE("base64Decode only when the whole value is base64") {
  REQUIRE(T(Transform::kBase64Decode, "PHNjcmlwdD4=") == "<script>");
  REQUIRE(T(Transform::kBase64Decode, "PHNjcmlwdD4") == "<script>");  // unpadded
  REQUIRE(T(Transform::kBase64Decode, "YWxlcnQoMSk=") == "alert(1)");
  REQUIRE(T(Transform::kBase64Decode, "Pz8-Pz8_") == "?\?>?\?\?");  // url-safe
  REQUIRE(T(Transform::kBase64Decode, "abc") == "abc");                 // too short
  REQUIRE(T(Transform::kBase64Decode, "hello world!") == "hello world!");
  REQUIRE(T(Transform::kBase64Decode, "PHNjcmlwdD4=x") == "PHNjcmlwdD4=x");
  REQUIRE(T(Transform::kBase64Decode, "Pz8+Pz8_") == "Pz8+Pz8_");       // mixed alphabets
  REQUIRE(T(Transform::kBase64Decode, "AAAAAAAAA") == "AAAAAAAAA");     // length % 4 == 1
}

TEST_CASE("cmdLine as CRS") {
  REQUIRE(T(Transform::kCmdLine, "c^a\"t /e't'c/pa''sswd") == "cat/etc/passwd");
  REQUIRE(T(Transform::kCmdLine, "WHOAMI;  ID,ls") == "whoami id ls");
  REQUIRE(T(Transform::kCmdLine, "echo (x)") == "echo(x)");
}

TEST_CASE("Unchanged values are returned as views into the input") {
  std::string a, b;
  std::string_view in = "nothing to do";
  Transform chain[] = {Transform::kUrlDecode, Transform::kLowercase, Transform::kRemoveNulls};
  REQUIRE(Apply(chain, in, &a, &b).data() == in.data());
}

TEST_CASE("Input may be a view into a scratch buffer, even a substring of one") {
  std::string a, b;
  Transform url[] = {Transform::kUrlDecode};
  Transform lower[] = {Transform::kLowercase};
  std::string_view first = Apply(url, "X%41%42Y", &a, &b);
  REQUIRE(Apply(lower, first, &a, &b) == "xaby");
  std::string_view again = Apply(url, "%20%20Q%51", &a, &b);
  REQUIRE(Apply(lower, again.substr(1), &a, &b) == " qq");
}

TEST_CASE("Chains ping-pong between the two buffers") {
  REQUIRE(Chain({Transform::kUrlDecodeUni, Transform::kHtmlEntityDecode, Transform::kLowercase,
                 Transform::kCompressWhitespace},
                "%26lt%3BSCRIPT%26gt%3B%20%20ALERT") == "<script> alert");
  REQUIRE(Chain({Transform::kUrlDecode, Transform::kUtf8Normalize, Transform::kNormalizePath},
                "/x/..%c0%af..%c0%af%2e%2e/etc/passwd") == "/etc/passwd");
  REQUIRE(Chain({Transform::kBase64Decode, Transform::kRemoveComments, Transform::kLowercase},
                "VU5JT04vKiovU0VMRUNU") == "union select");
  REQUIRE(Chain({}, "x") == "x");
}

TEST_CASE("Random bytes: every transform and chains stay within input size") {
  std::mt19937 rng(42);
  const char alphabet[] = "%u0aF+&#;x/\\.*-!\xc0\xaf\xef\xbc\x9c=lt \t\0AZ";
  std::string a, b;
  for (int iter = 0; iter < 3000; ++iter) {
    std::string in(rng() % 64, ' ');
    for (char& c : in) c = alphabet[rng() % (sizeof(alphabet) - 1)];
    std::vector<Transform> chain;
    for (int k = rng() % 5; k >= 0; --k) chain.push_back(static_cast<Transform>(rng() % static_cast<int>(Transform::kCount)));
    std::string_view out = Apply(chain, in, &a, &b);
    REQUIRE(out.size() <= in.size());
  }
}

TEST_CASE("Normalising transforms are idempotent") {
  std::mt19937 rng(7);
  const char alphabet[] = "./\\aB \t\xa0\xc2\xc0\xaf\xef\xbc\x9c,;^'\"(";
  const Transform idempotent[] = {Transform::kNormalizePath, Transform::kLowercase, Transform::kRemoveNulls,
                                  Transform::kCompressWhitespace, Transform::kCmdLine, Transform::kUtf8Normalize};
  for (int iter = 0; iter < 20000; ++iter) {
    std::string in(rng() % 24, ' ');
    for (char& c : in) c = alphabet[rng() % (sizeof(alphabet) - 1)];
    for (Transform t : idempotent) {
      std::string once = T(t, in);
      INFO(TransformName(t) << " on [" << in << "]");
      REQUIRE(T(t, once) == once);
    }
  }
}

TEST_CASE("Large hostile inputs are processed (linear work)") {
  std::string big;
  for (int i = 0; i < 200000; ++i) big += "%25";
  REQUIRE(T(Transform::kUrlDecode, big).size() <= big.size());
  REQUIRE(T(Transform::kHtmlEntityDecode, std::string(500000, '&')).size() == 500000);
  REQUIRE(T(Transform::kHtmlEntityDecode, "&#" + std::string(500000, '9')).size() == 500002);
  REQUIRE(T(Transform::kRemoveComments, std::string(500000, '/') + "*").size() <= 500001);
  std::string dots;
  for (int i = 0; i < 100000; ++i) dots += "a/../";
  REQUIRE(T(Transform::kNormalizePath, dots) == "");
  REQUIRE(T(Transform::kNormalizePath, std::string(300000, '/')) == "/");
}

// Apply skips a transform when a quick look shows it cannot change the value. That shortcut must never
// hide a change: whenever it says "unchanged", running the transform must give the value back as is.
TEST_CASE("the no-change shortcut never skips a transform that would change the value") {
  using guard::transforms::Transform;
  namespace in = guard::transforms::internal;
  const std::string alphabet = std::string("aZ09 %+&;#-/*!\t\n\x0b\r\xa0\xc2\xc3\x80\xef\xbc\x8f\\'\"^,.<>u") +
                               std::string(1, '\0');
  uint64_t seed = 42;
  auto next = [&] { seed = seed * 6364136223846793005ULL + 1442695040888963407ULL; return seed >> 33; };
  int skipped = 0;
  std::string out;
  for (int t = 0; t < static_cast<int>(Transform::kCount); ++t) {
    const Transform tr = static_cast<Transform>(t);
    for (int round = 0; round < 20000; ++round) {
      std::string value;
      const size_t len = next() % 10;
      for (size_t i = 0; i < len; ++i) value.push_back(alphabet[next() % alphabet.size()]);
      if (!in::CannotChange(tr, value)) continue;
      ++skipped;
      out.assign(value.size() + 1, '?');
      size_t n = in::Run(tr, value, out.data());
      INFO("transform " << t << " input '" << value << "'");
      REQUIRE(std::string_view(out.data(), n) == value);
    }
  }
  CHECK(skipped > 10000);  // the shortcut is taken often enough for this to test something
}

// MayChange() lets the matcher skip whole chains for plain values: a transform whose bit it leaves clear
// must give the value back as is. Same random values as above, plus the edge cases of its byte tests.
TEST_CASE("MayChange never clears the bit of a transform that would change the value") {
  using guard::transforms::Transform;
  namespace in = guard::transforms::internal;
  const std::string alphabet = std::string("aZ09 %+&;#-/*!\t\n\x0b\r\xa0\xc2\xc3\x80\xef\xbc\x8f\\'\"^,.<>u(") +
                               std::string(1, '\0');
  uint64_t seed = 7;
  auto next = [&] { seed = seed * 6364136223846793005ULL + 1442695040888963407ULL; return seed >> 33; };
  std::vector<std::string> values = {".", "..", "/", "//", "a/.", "./a", "a b", "a  b", "a /b", "a (b", "A", "--",
                                     "/*", "*/", "a*b/c", "\xc2\xa0", "x\x0cy"};
  for (int round = 0; round < 200000; ++round) {
    std::string value;
    const size_t len = next() % 10;
    for (size_t i = 0; i < len; ++i) value.push_back(alphabet[next() % alphabet.size()]);
    values.push_back(std::move(value));
  }
  int cleared = 0;
  std::string out;
  for (const std::string& value : values) {
    const uint32_t may = MayChange(value);
    for (int t = 0; t < static_cast<int>(Transform::kCount); ++t) {
      const Transform tr = static_cast<Transform>(t);
      if (may & Bit(tr)) continue;
      ++cleared;
      out.assign(value.size() + 1, '?');
      size_t n = in::Run(tr, value, out.data());
      INFO("transform " << t << " input '" << value << "'");
      REQUIRE(std::string_view(out.data(), n) == value);
    }
  }
  CHECK(cleared > 100000);  // bits are cleared often enough for this to test something
  // Without kCmdLineBeyondCase, cmdLine only lowercases.
  for (const std::string& value : values) {
    if (MayChange(value) & kCmdLineBeyondCase) continue;
    out.assign(value.size() + 1, '?');
    size_t n = in::Run(Transform::kCmdLine, value, out.data());
    std::string lower = value;
    for (char& c : lower) c = in::AsciiLower(c);
    INFO("input '" << value << "'");
    REQUIRE(std::string_view(out.data(), n) == lower);
  }
  CHECK((MayChange("Plain Words") & kCmdLineBeyondCase) == 0);
  CHECK((MayChange("a;b") & kCmdLineBeyondCase) != 0);
  CHECK((MayChange("plain-value_42") & (Bit(Transform::kUrlDecodeUni) | Bit(Transform::kCmdLine))) == 0);
}

// MayChange() reads long values 16 bytes at a time (SSSE3 nibble lookups): it must give what the byte-by-byte
// table gives, at every length and alignment, with each special byte at every position of a 16-byte block
// and across block edges (the pairs "  ", "--", "//").
TEST_CASE("MayChange's 16-bytes-at-a-time path gives what the byte-by-byte one gives") {
  namespace in = guard::transforms::internal;
  uint64_t seed = 11;
  auto next = [&] { seed = seed * 6364136223846793005ULL + 1442695040888963407ULL; return seed >> 33; };
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  const std::string specials = std::string("%+&#-*/. \"',(;^\\\t\n\x0b\x0c\r\x80\xa0\xff" "AZ@[`{") + std::string(1, '\0');
  size_t compared = 0, differing_inputs = 0;
  std::string buf;
  for (int round = 0; round < 20000; ++round) {
    const size_t len = next() % 100;
    std::string v(len, 'a');
    for (char& c : v) c = next() % 4 ? "abcdefghijklmnopqrstuvwxyz0123456789"[next() % 36] : specials[next() % specials.size()];
    buf.assign(next() % 16, 'x');  // misalign the value
    buf += v;
    const std::string_view value(buf.data() + buf.size() - len, len);
    INFO("input '" << std::string(value) << "'");
    REQUIRE(MayChange(value) == in::MayChangeScalar(value));
    ++compared;
  }
  // Each byte value alone at each position of a 48-byte plain value, and each pair of specials straddling
  // the 16-byte edge.
  for (int c = 0; c < 256; ++c) {
    for (size_t pos = 0; pos < 48; ++pos) {
      std::string v(48, 'q');
      v[pos] = static_cast<char>(c);
      INFO("byte " << c << " at " << pos);
      REQUIRE(MayChange(v) == in::MayChangeScalar(v));
      differing_inputs += MayChange(v) != MayChange(std::string(48, 'q'));
    }
  }
  for (char a : specials) {
    for (char b : specials) {
      for (size_t pos : {14, 15, 16, 31, 32}) {
        std::string v(40, 'q');
        v[pos] = a;
        v[pos + 1] = b;
        REQUIRE(MayChange(v) == in::MayChangeScalar(v));
      }
    }
  }
  CHECK(compared == 20000);
  CHECK(differing_inputs > 1000);  // the byte values do reach the classes
  CHECK((MayChange(std::string(40, 'a') + "  b") & Bit(guard::transforms::Transform::kCompressWhitespace)) != 0);
  CHECK((MayChange(std::string(15, 'a') + "//" + std::string(20, 'b')) & Bit(guard::transforms::Transform::kNormalizePath)) != 0);
  CHECK((MayChange(std::string(64, 'a')) & Bit(guard::transforms::Transform::kLowercase)) == 0);
  CHECK((MayChange(std::string(63, 'a') + "A") & Bit(guard::transforms::Transform::kLowercase)) != 0);
}
