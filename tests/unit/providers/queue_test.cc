// Per-provider wait queue: bounded, deadline-aware, sheds the lowest risk first.
#include <catch2/catch.hpp>

#include "providers/queue.h"

using namespace guard::providers;

TEST_CASE("a full queue sheds the lowest-risk job, possibly the newcomer") {
  absl::Time t0 = absl::FromUnixSeconds(1000);
  ProviderQueue q(2);
  CHECK_FALSE(q.Push({1, 0.5, t0 + absl::Seconds(5)}));
  CHECK_FALSE(q.Push({2, 0.9, t0 + absl::Seconds(5)}));
  CHECK(q.Push({3, 0.1, t0 + absl::Seconds(5)}) == 3u);  // lower than everything queued
  CHECK(q.Push({4, 0.7, t0 + absl::Seconds(5)}) == 1u);  // 0.5 goes
  CHECK(q.size() == 2);
  std::vector<uint64_t> expired;
  CHECK(q.Pop(t0, &expired)->id == 2u);  // highest risk first
  CHECK(q.Pop(t0, &expired)->id == 4u);
  CHECK_FALSE(q.Pop(t0, &expired));
  CHECK(expired.empty());
}

TEST_CASE("expired jobs are dropped, not sent") {
  absl::Time t0 = absl::FromUnixSeconds(1000);
  ProviderQueue q(8);
  q.Push({1, 0.9, t0 + absl::Seconds(1)});
  q.Push({2, 0.1, t0 + absl::Seconds(9)});
  q.Push({3, 0.1, t0 + absl::Seconds(3)});
  CHECK(q.NextDeadline() == t0 + absl::Seconds(1));
  std::vector<uint64_t> expired;
  auto next = q.Pop(t0 + absl::Seconds(2), &expired);
  REQUIRE(expired == std::vector<uint64_t>{1});
  CHECK(next->id == 3u);  // equal risk: the earlier deadline first
  CHECK(q.DropExpired(t0 + absl::Seconds(10)) == std::vector<uint64_t>{2});
  CHECK(q.size() == 0);
}

TEST_CASE("a cancelled job can be removed, and a zero-capacity queue sheds everything") {
  ProviderQueue q(4);
  q.Push({1, 0.5, absl::InfiniteFuture()});
  CHECK(q.Remove(1));
  CHECK_FALSE(q.Remove(1));
  ProviderQueue none(0);
  CHECK(none.Push({7, 1.0, absl::InfiniteFuture()}) == 7u);
}
