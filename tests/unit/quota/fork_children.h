// Test helper: runs a body in several forked processes at once, as nginx workers share the node table.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <vector>

#include <catch2/catch.hpp>

#include "quota/shm_table.h"

namespace guard::quota::testing {

// Forks `children` processes that start together (a barrier in a shared mapping, so none runs ahead
// alone) and run body(child_index), which returns a count; returns the sum of the counts. Fails the test
// if a fork fails or a child does not exit normally.
template <class Body>
uint64_t SumInChildren(int children, Body body) {
  auto side = SharedRegion::Create(4096);
  REQUIRE(side.ok());
  auto* words = static_cast<uint64_t*>(side->data());  // [0] barrier, [8 + c] child c's count
  REQUIRE(children <= 64);
  std::vector<pid_t> kids;
  for (int c = 0; c < children; ++c) {
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      std::atomic_ref<uint64_t>(words[0]).fetch_add(1);
      while (std::atomic_ref<uint64_t>(words[0]).load() < static_cast<uint64_t>(children)) {
      }
      std::atomic_ref<uint64_t>(words[8 + c]).store(body(c));
      _exit(0);
    }
    kids.push_back(pid);
  }
  for (pid_t pid : kids) {
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
  }
  uint64_t total = 0;
  for (int c = 0; c < children; ++c) total += words[8 + c];
  return total;
}

}  // namespace guard::quota::testing
