// XML bodies: DOCTYPE/ENTITY kept verbatim, text/CDATA/attributes as fields, no expansion, malformed input.
#include <catch2/catch.hpp>

#include "request/fields.h"
#include "test_util.h"

using namespace guard::request;
using namespace guard::request::testing;

namespace {
FieldList ParseXml(const std::string& body, std::string ct = "application/xml") {
  RequestBuilder b;
  b.method = "POST";
  b.headers = {{"Content-Type", ct}};
  b.body = body;
  return ParseWith(Keep(std::move(b)));
}
}  // namespace

TEST_CASE("XXE: DOCTYPE and ENTITY declarations are fields, references are not expanded") {
  auto fl = ParseXml(
      "<?xml version=\"1.0\"?>\n"
      "<!DOCTYPE foo [ <!ELEMENT foo ANY> <!-- c ] > --> <!ENTITY xxe SYSTEM \"file:///etc/passwd\" > "
      "<!ENTITY q '>' > ]>\n"
      "<foo a=\"1\" b='two'>&xxe;<bar/><![CDATA[<script>]]></foo>");
  auto xml = Get(fl, Target::kXml);
  REQUIRE(xml == P({{"entity", "<!ENTITY xxe SYSTEM \"file:///etc/passwd\" >"},
                    {"entity", "<!ENTITY q '>' >"},
                    {"doctype",
                     "<!DOCTYPE foo [ <!ELEMENT foo ANY> <!-- c ] > --> <!ENTITY xxe SYSTEM \"file:///etc/passwd\" > "
                     "<!ENTITY q '>' > ]>"},
                    {"a", "1"},
                    {"b", "two"},
                    {"foo", "&xxe;"},
                    {"bar", "<script>"}}));
  REQUIRE(fl.flags() == 0);
  REQUIRE(Get(fl, Target::kBody).empty());
}

TEST_CASE("text/xml and +xml are XML, processing instructions are kept") {
  auto fl = ParseXml("<?xml-stylesheet href=\"evil.xsl\"?><r>x</r>", "application/soap+xml; charset=utf-8");
  REQUIRE(Get(fl, Target::kXml) == P({{"pi", "<?xml-stylesheet href=\"evil.xsl\"?>"}, {"r", "x"}}));
  auto t = ParseXml("<r/>", "text/xml");
  REQUIRE(t.flags() == 0);
}

TEST_CASE("Malformed XML is flagged and scanned raw") {
  for (std::string body : {"<a>", "<a></a></b></c>", "<a>x</a><b/>", "text only", "<a b=c></a>",
                           "<!DOCTYPE x [<!ENTITY e \"unclosed>", "<a><!-- open</a>", "<a><![CDATA[x</a>",
                           "<a attr=\"unclosed></a>", "<>", "<a/>trailing", "<!WHAT><a/>"}) {
    auto fl = ParseXml(body);
    INFO(body);
    REQUIRE(fl.flags() & kMalformedBody);
    REQUIRE(Get(fl, Target::kBody).size() == 1);
  }
}

TEST_CASE("Deep and large XML is linear and does not crash") {
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += "<a>";
  Limits limits;
  limits.max_body_bytes = 1 << 20;
  RequestBuilder b;
  b.headers = {{"Content-Type", "text/xml"}};
  b.body = deep;
  auto fl = ParseWith(b, limits);
  REQUIRE(fl.flags() & kMalformedBody);
  b.body = std::string(500000, '<');
  REQUIRE(ParseWith(b, limits).flags() & kMalformedBody);
  b.body = "<!DOCTYPE x [" + std::string(500000, '[');
  REQUIRE(ParseWith(b, limits).flags() & kMalformedBody);
}

TEST_CASE("Billion laughs is reported as declarations, never expanded") {
  std::string body = "<!DOCTYPE lolz [<!ENTITY lol \"lol\">";
  for (int i = 1; i < 10; ++i)
    body += "<!ENTITY lol" + std::to_string(i) + " \"" + std::string(10, '&') + "lol" + std::to_string(i - 1) + ";\">";
  body += "]><lolz>&lol9;</lolz>";
  auto fl = ParseXml(body);
  REQUIRE(Get(fl, Target::kXml).size() == 12);
  size_t total = 0;
  for (auto& f : fl.fields()) total += f.value.size();
  REQUIRE(total < 4 * body.size());
}
