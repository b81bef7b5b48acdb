#include "fingerprint/client.h"

#include <catch2/catch.hpp>

#include <vector>

using namespace guard::fingerprint;

TEST_CASE("user-agent classes") {
  CHECK(ClassifyUserAgent("") == UaClass::kEmpty);
  CHECK(ClassifyUserAgent("curl/8.4.0") == UaClass::kCliTool);
  CHECK(ClassifyUserAgent("python-requests/2.31.0") == UaClass::kLibrary);
  CHECK(ClassifyUserAgent("Go-http-client/1.1") == UaClass::kLibrary);
  CHECK(ClassifyUserAgent("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)") ==
        UaClass::kBot);
  CHECK(ClassifyUserAgent("sqlmap/1.7.2#stable (https://sqlmap.org)") == UaClass::kScanner);
  CHECK(ClassifyUserAgent("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                          "Chrome/120.0 Safari/537.36") == UaClass::kBrowser);
  CHECK(ClassifyUserAgent("MyApp/1.0") == UaClass::kOther);
}

TEST_CASE("header fingerprint") {
  const char* chrome = "Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0";
  std::vector<HeaderView> browser = {{"Host", "a"},         {"User-Agent", chrome},   {"Accept", "*/*"},
                                     {"Accept-Language", "en"}, {"Accept-Encoding", "gzip"}, {"Cookie", "s=1"}};
  HeaderFingerprint b = FingerprintHeaders(browser);
  CHECK(b.ua_class == UaClass::kBrowser);
  CHECK(b.casing == NameCasing::kTitle);
  CHECK(b.traits == (kHasAccept | kHasAcceptLanguage | kHasAcceptEncoding | kHasCookie));
  CHECK(b.names == 6);

  // Other values, same software: same fingerprint. Proxy headers do not count.
  std::vector<HeaderView> browser2 = {{"Host", "b"},         {"X-Forwarded-For", "1.2.3.4"}, {"User-Agent", chrome},
                                      {"Accept", "text/html"}, {"Accept-Language", "fr"}, {"Accept-Encoding", "br"},
                                      {"Cookie", "t=2"}};
  CHECK(FingerprintHeaders(browser2).hash == b.hash);

  // Order matters, casing matters.
  std::vector<HeaderView> reordered = {browser[1], browser[0], browser[2], browser[3], browser[4], browser[5]};
  CHECK(FingerprintHeaders(reordered).hash != b.hash);
  std::vector<HeaderView> lower = {{"host", "a"},         {"user-agent", chrome},   {"accept", "*/*"},
                                   {"accept-language", "en"}, {"accept-encoding", "gzip"}, {"cookie", "s=1"}};
  HeaderFingerprint l = FingerprintHeaders(lower);
  CHECK(l.casing == NameCasing::kLower);
  CHECK(l.hash != b.hash);

  // A browser UA without Accept-Language: a script pretending.
  std::vector<HeaderView> fake = {{"Host", "a"}, {"User-Agent", chrome}, {"Accept", "*/*"}};
  HeaderFingerprint f = FingerprintHeaders(fake);
  CHECK((f.traits & kUaInconsistent) != 0);
  CHECK(DescribeHeaderFingerprint(f).starts_with("kgh1:title:41:browser:"));

  std::vector<HeaderView> curl = {{"Host", "a"}, {"User-Agent", "curl/8.4.0"}, {"Accept", "*/*"}};
  HeaderFingerprint c = FingerprintHeaders(curl);
  CHECK(c.ua_class == UaClass::kCliTool);
  CHECK(c.traits == kHasAccept);
  CHECK(c.ua_hash != f.ua_hash);
  std::vector<HeaderView> odd = {{"host", "a"}, {"USER-agent", "x"}};
  CHECK(FingerprintHeaders(odd).casing == NameCasing::kMixed);
  std::vector<HeaderView> dnt = {{"Host", "a"}, {"DNT", "1"}, {"User-Agent", chrome}};
  CHECK(FingerprintHeaders(dnt).casing == NameCasing::kTitle);
}

TEST_CASE("client keys") {
  CHECK(MakeClientKey("10.0.0.1", "").hash == MakeClientKey("10.0.0.1", "").hash);
  CHECK(MakeClientKey("10.0.0.1", "").hash != MakeClientKey("10.0.0.2", "").hash);
  CHECK(MakeClientKey("10.0.0.1", "c1").consumer);
  CHECK(MakeClientKey("10.0.0.1", "c1").hash == MakeClientKey("10.9.9.9", "c1").hash);
  CHECK(MakeClientKey("c1", "").hash != MakeClientKey("", "c1").hash);
}
