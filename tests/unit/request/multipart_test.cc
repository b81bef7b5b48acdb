// multipart/form-data: names, filenames, part bodies, limits, unclosed and malformed bodies.
#include <catch2/catch.hpp>

#include "request/fields.h"
#include "test_util.h"

using namespace guard::request;
using namespace guard::request::testing;

namespace {
FieldList ParseMultipart(const std::string& body, const std::string& ct = "multipart/form-data; boundary=XyZ",
                         Limits limits = {}) {
  RequestBuilder b;
  b.method = "POST";
  b.headers = {{"Content-Type", ct}};
  b.body = body;
  return ParseWith(Keep(std::move(b)), limits);
}
const std::string kBody =
    "preamble\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"user\"\r\n"
    "\r\n"
    "admin' --\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"file\"; filename=\"shell;.php\"\r\n"
    "Content-Type: application/octet-stream\r\n"
    "\r\n"
    "<?php system($_GET['c']); ?>\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=empty\r\n"
    "\r\n"
    "\r\n"
    "--XyZ--\r\n"
    "epilogue";
}  // namespace

TEST_CASE("Multipart names, filenames and part bodies") {
  auto fl = ParseMultipart(kBody);
  REQUIRE(Get(fl, Target::kBodyArgName) == P({{"user", "user"}, {"file", "file"}, {"empty", "empty"}}));
  REQUIRE(Get(fl, Target::kFileName) == P({{"file", "shell;.php"}}));
  REQUIRE(Get(fl, Target::kBodyArg) == P({{"user", "admin' --"}, {"empty", ""}}));
  // An uploaded file's content is not a form value: it has a target of its own.
  REQUIRE(Get(fl, Target::kFileContent) == P({{"file", "<?php system($_GET['c']); ?>"}}));
  REQUIRE(fl.flags() == 0);
  REQUIRE(Get(fl, Target::kBody).empty());
}

TEST_CASE("Quoted boundary, bare LF line ends, filename*") {
  std::string body =
      "--a;b\n"
      "content-disposition: form-data; name=\"x\"; filename*=UTF-8''%3Cimg%3E.svg\n"
      "\n"
      "data\n"
      "--a;b--";
  auto fl = ParseMultipart(body, "multipart/form-data; charset=utf-8; boundary=\"a;b\"");
  REQUIRE(Get(fl, Target::kFileName) == P({{"x", "<img>.svg"}}));
  REQUIRE(Get(fl, Target::kFileContent) == P({{"x", "data"}}));
  REQUIRE(Get(fl, Target::kBodyArg).empty());
  REQUIRE(fl.flags() == 0);
}

TEST_CASE("Unclosed multipart: flagged, the part so far kept, raw body scanned") {
  std::string body = kBody.substr(0, kBody.find("--XyZ--"));
  auto fl = ParseMultipart(body);
  REQUIRE(fl.flags() & kMultipartUnclosed);
  REQUIRE(Get(fl, Target::kBody).size() == 1);
  REQUIRE(Get(fl, Target::kBodyArg).size() == 2);
  REQUIRE(Get(fl, Target::kFileContent).size() == 1);

  auto headers_only = ParseMultipart("--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n");
  REQUIRE(headers_only.flags() & kMultipartUnclosed);
}

TEST_CASE("Malformed multipart") {
  REQUIRE(ParseMultipart(kBody, "multipart/form-data").flags() & kMalformedBody);  // no boundary
  REQUIRE(ParseMultipart(kBody, "multipart/form-data; boundary=" + std::string(300, 'b')).flags() &
          kMalformedBody);
  REQUIRE(ParseMultipart("no delimiter at all").flags() & kMalformedBody);
  REQUIRE(ParseMultipart("--XyZjunk\r\n\r\nx\r\n--XyZ--").flags() & kMalformedBody);
  REQUIRE(ParseMultipart("--XyZ--").flags() & kMalformedBody);
  auto dup = ParseMultipart("--XyZ\r\nContent-Disposition: form-data; name=\"a\"; name=\"b\"\r\n\r\nv\r\n--XyZ--");
  REQUIRE(dup.flags() & kMalformedBody);
  REQUIRE(Get(dup, Target::kBody).size() == 1);
  auto quote = ParseMultipart("--XyZ\r\nContent-Disposition: form-data; name=\"a\r\n\r\nv\r\n--XyZ--");
  REQUIRE(quote.flags() & kMalformedBody);
}

TEST_CASE("Part bodies past max_part_bytes are cut and reported") {
  Limits limits;
  limits.max_part_bytes = 4;
  auto fl = ParseMultipart(kBody, "multipart/form-data; boundary=XyZ", limits);
  REQUIRE(Get(fl, Target::kBodyArg)[0].second == "admi");
  REQUIRE(fl.flags() & kBodyUninspected);
}

TEST_CASE("Hostile multipart input stays bounded") {
  Limits limits;
  limits.max_body_bytes = 1 << 20;
  std::string many;
  for (int i = 0; i < 20000; ++i) many += "--XyZ\r\n\r\nv\r\n";
  many += "--XyZ--";
  auto fl = ParseMultipart(many, "multipart/form-data; boundary=XyZ", limits);
  REQUIRE(fl.flags() & kTooManyFields);
  REQUIRE(fl.size() <= limits.max_fields + 1);

  std::string near_misses;
  for (int i = 0; i < 100000; ++i) near_misses += "\n--XyY";
  auto nm = ParseMultipart("--XyZ\r\n\r\n" + near_misses, "multipart/form-data; boundary=XyZ", limits);
  REQUIRE(nm.flags() & kMultipartUnclosed);

  // A boundary of dashes over a body of dashes: a candidate at every byte, still one pass.
  std::string dashes(150, '-');
  auto d = ParseMultipart("--" + dashes + "x\r\n\r\n" + std::string(1000000, '-'),
                          "multipart/form-data; boundary=" + dashes + "x", limits);
  REQUIRE(d.flags() & kMultipartUnclosed);
}
