// The per-thread memo of clean fields: exact keys, bounded, and a replacement policy that keeps the values
// clients repeat when a stream of one-off values (request ids) goes through the same sets.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "signatures/clean_memo.h"

using guard::request::Field;
using guard::request::Target;
using guard::signatures::CleanMemo;

TEST_CASE("clean memo: the key is matcher, kind, name and every byte of the value") {
  CleanMemo memo;
  const Field ua{Target::kHeader, "user-agent", "curl/8.4.0"};
  CHECK_FALSE(memo.Contains(1, ua));
  memo.Insert(1, ua);
  CHECK(memo.Contains(1, ua));
  const std::string copy = "curl/8.4.0";  // other storage, same bytes
  CHECK(memo.Contains(1, Field{Target::kHeader, "user-agent", copy}));
  CHECK_FALSE(memo.Contains(2, ua));                                          // another matcher
  CHECK_FALSE(memo.Contains(1, Field{Target::kHeader, "referer", "curl/8.4.0"}));  // another name
  CHECK_FALSE(memo.Contains(1, Field{Target::kCookieName, "user-agent", "curl/8.4.0"}));  // another kind
  CHECK_FALSE(memo.Contains(1, Field{Target::kHeader, "user-agent", "curl/8.4.1"}));
  CHECK_FALSE(memo.Contains(1, Field{Target::kHeader, "user-agent", "curl/8.4.0 "}));
}

TEST_CASE("clean memo: fields longer than the entry are not kept") {
  CleanMemo memo;
  const std::string name = "x-long", value(CleanMemo::kMaxKeyBytes - name.size() + 1, 'a');
  memo.Insert(1, Field{Target::kHeader, name, value});
  CHECK_FALSE(memo.Contains(1, Field{Target::kHeader, name, value}));
  const std::string fits(CleanMemo::kMaxKeyBytes - name.size(), 'a');
  memo.Insert(1, Field{Target::kHeader, name, fits});
  CHECK(memo.Contains(1, Field{Target::kHeader, name, fits}));
}

TEST_CASE("clean memo: only kinds that clients repeat verbatim are memoised") {
  CHECK(CleanMemo::Memoisable(Target::kHeader));
  CHECK(CleanMemo::Memoisable(Target::kHeaderName));
  CHECK(CleanMemo::Memoisable(Target::kArgName));
  CHECK_FALSE(CleanMemo::Memoisable(Target::kArg));
  CHECK_FALSE(CleanMemo::Memoisable(Target::kBodyArg));
  CHECK_FALSE(CleanMemo::Memoisable(Target::kCookie));
  CHECK_FALSE(CleanMemo::Memoisable(Target::kPath));
  CHECK_FALSE(CleanMemo::Memoisable(Target::kBody));
}

TEST_CASE("clean memo: values in use survive a stream of one-off values") {
  CleanMemo memo;
  std::vector<std::string> popular;
  for (int i = 0; i < 40; ++i) popular.push_back("Mozilla/5.0 client " + std::to_string(i));
  for (const std::string& p : popular) memo.Insert(1, Field{Target::kHeader, "user-agent", p});
  for (const std::string& p : popular) memo.Contains(1, Field{Target::kHeader, "user-agent", p});  // hit once
  // 20,000 request ids, far more than the table holds: ~8 per set between two uses of the popular values,
  // more than a set's 4 ways, so a plain least-recently-used policy would lose them all.
  size_t kept = 0;
  for (int i = 0; i < 20000; ++i) {
    memo.Insert(1, Field{Target::kHeader, "x-request-id", "id-" + std::to_string(i)});
    if (i % 2000 == 1999) {
      kept = 0;
      for (const std::string& p : popular) kept += memo.Contains(1, Field{Target::kHeader, "user-agent", p});
    }
  }
  // The hash is seeded per process, so where values land varies from run to run: 40 values in 256 sets
  // put four in one set about once in 200 runs, and a one-off value then takes one of them.
  CHECK(kept >= 39);
}
