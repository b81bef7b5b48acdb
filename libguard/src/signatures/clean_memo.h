// A per-thread memo of fields a matcher found clean: (matcher, field kind, name, value) seen before with
// no match of any rule that reads it, so that the next request carrying the same field skips its
// transforms and its share of the Hyperscan scan.
//
// Why it is exact: a field's matches depend only on the matcher, the field's kind and name (which rules
// read it, through which transforms) and its bytes; never on the other fields (the joined scan confirms
// each candidate on the field alone) nor on the request path (exclusions only remove matches, and a field
// is memoised only if nothing matched before exclusions). Entries keep the bytes and are compared in
// full: a hash collision costs a miss, never a skipped field.
//
// Why it pays: most of a typical API request is header names and values, cookie names and argument names
// that the same clients send again and again (Host, User-Agent, Accept, Content-Type, JSON keys, ...).
// Only those kinds are memoised (Memoisable()); values a client makes up per request (query and body
// values, paths, cookie values) are not, so an attacker gains nothing and a replayed benchmark is not
// flattered by them. docs/benchmarks.md ("Inspect latency") gives the figure for requests seen once.
//
// Bounded: a fixed 4-way set-associative table allocated on first use; nothing allocates afterwards. On a
// miss the entry least recently used in its set is replaced, and a new entry counts as the least recently
// used until it is hit, so values that never repeat (request ids, tokens) replace each other rather than
// the popular ones, which lose their place only to three other popular values of the same set.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "request/fields.h"

namespace guard::signatures {

class CleanMemo {
 public:
  static constexpr size_t kSets = 256;
  static constexpr size_t kWays = 4;
  static constexpr size_t kMaxKeyBytes = 240;  // name + value; longer fields are not memoised

  // The field kinds worth memoising: those clients repeat verbatim from request to request.
  static bool Memoisable(request::Target t);

  // True if this matcher found this field clean before (and the entry is still there).
  bool Contains(uint64_t matcher_id, const request::Field& f);
  // Records a field the matcher found clean. Fields too long to keep are ignored.
  void Insert(uint64_t matcher_id, const request::Field& f);

 private:
  // A set's tags, compared first (one cache line), then the entry's bytes.
  struct Set {
    uint64_t hash[kWays] = {};
    uint32_t last_use[kWays] = {};
  };
  struct Entry {
    uint64_t matcher_id = 0;  // 0: empty
    uint8_t target = 0;
    uint8_t name_len = 0;
    uint8_t value_len = 0;
    char bytes[kMaxKeyBytes];  // name then value
  };
  static uint64_t Hash(uint64_t matcher_id, const request::Field& f);
  static bool Same(const Entry& e, uint64_t matcher_id, const request::Field& f);

  std::unique_ptr<Set[]> sets_;       // kSets
  std::unique_ptr<Entry[]> entries_;  // kSets * kWays, set s at [kWays * s, kWays * (s + 1))
  uint32_t clock_ = 0;
};

}  // namespace guard::signatures
