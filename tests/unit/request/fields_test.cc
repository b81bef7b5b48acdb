// FieldList: arena views stay valid, limits drop and flag, Clear() keeps capacity.
#include <catch2/catch.hpp>

#include <set>

#include "request/fields.h"

using namespace guard::request;

TEST_CASE("Intern views survive later growth of the arena") {
  FieldList fl;
  std::vector<std::string_view> views;
  std::vector<std::string> expect;
  for (int i = 0; i < 5000; ++i) {
    std::string s(i % 97 + 1, static_cast<char>('a' + i % 26));
    expect.push_back(s);
    views.push_back(fl.Intern(s));
  }
  views.push_back(fl.Intern(std::string(100000, 'z')));  // bigger than a chunk
  expect.push_back(std::string(100000, 'z'));
  for (size_t i = 0; i < views.size(); ++i) REQUIRE(views[i] == expect[i]);
}

TEST_CASE("Field limit drops and flags, except the raw body") {
  FieldList fl;
  fl.SetMaxFields(2);
  REQUIRE(fl.Add(Target::kArg, "a", "1"));
  REQUIRE(fl.Add(Target::kArg, "b", "2"));
  REQUIRE_FALSE(fl.Add(Target::kArg, "c", "3"));
  REQUIRE(fl.flags() & kTooManyFields);
  REQUIRE(fl.Add(Target::kBody, {}, "raw"));
  REQUIRE(fl.size() == 3);
}

TEST_CASE("Clear keeps capacity: the second identical fill reuses the same storage") {
  FieldList fl;
  auto fill = [&] {
    for (int i = 0; i < 3000; ++i) fl.Add(Target::kArg, "n", fl.Intern(std::string(40, 'x')));
  };
  fill();
  const Field* first = fl.fields().data();
  const char* first_value = fl.fields()[0].value.data();
  fl.Clear();
  REQUIRE(fl.size() == 0);
  REQUIRE(fl.flags() == 0);
  fill();
  REQUIRE(fl.fields().data() == first);
  REQUIRE(fl.fields()[0].value.data() == first_value);
}

TEST_CASE("Every target has a distinct name") {
  std::set<std::string_view> names;
  for (int t = 0; t < static_cast<int>(Target::kCount); ++t) {
    auto n = TargetName(static_cast<Target>(t));
    REQUIRE_FALSE(n.empty());
    names.insert(n);
  }
  REQUIRE(names.size() == static_cast<size_t>(Target::kCount));
}

TEST_CASE("Target names follow the rules schema, with args/args_names as unions") {
  REQUIRE(TargetName(Target::kArg) == "query");
  REQUIRE(TargetName(Target::kHeaderName) == "header_names");
  REQUIRE(TargetMask("args") == ((1u << static_cast<int>(Target::kArg)) | (1u << static_cast<int>(Target::kBodyArg))));
  REQUIRE(TargetMask("args_names") ==
          ((1u << static_cast<int>(Target::kArgName)) | (1u << static_cast<int>(Target::kBodyArgName))));
  REQUIRE(TargetMask("xml") == 1u << static_cast<int>(Target::kXml));
  REQUIRE(TargetMask("nope") == 0);
  REQUIRE(TargetMask("headers:user-agent") == 0);
}
