#include "signatures/clean_memo.h"

#include <cstring>

#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"

namespace guard::signatures {

bool CleanMemo::Memoisable(request::Target t) {
  switch (t) {
    case request::Target::kMethod:
    case request::Target::kHeaderName:
    case request::Target::kHeader:
    case request::Target::kCookieName:
    case request::Target::kArgName:
    case request::Target::kBodyArgName:
      return true;
    default:
      return false;
  }
}

uint64_t CleanMemo::Hash(uint64_t matcher_id, const request::Field& f) {
  // absl::Hash is seeded per process: an attacker cannot aim values at one set from outside.
  return absl::HashOf(matcher_id, static_cast<uint8_t>(f.target), absl::string_view(f.name.data(), f.name.size()),
                      absl::string_view(f.value.data(), f.value.size()));
}

bool CleanMemo::Same(const Entry& e, uint64_t matcher_id, const request::Field& f) {
  return e.matcher_id == matcher_id && e.target == static_cast<uint8_t>(f.target) && e.name_len == f.name.size() &&
         e.value_len == f.value.size() &&
         (f.name.empty() || std::memcmp(e.bytes, f.name.data(), f.name.size()) == 0) &&
         (f.value.empty() || std::memcmp(e.bytes + f.name.size(), f.value.data(), f.value.size()) == 0);
}

bool CleanMemo::Contains(uint64_t matcher_id, const request::Field& f) {
  if (!sets_ || f.name.size() + f.value.size() > kMaxKeyBytes) return false;
  const uint64_t h = Hash(matcher_id, f);
  const size_t s = h % kSets;
  Set& set = sets_[s];
  for (size_t way = 0; way < kWays; ++way) {
    if (set.hash[way] == h && Same(entries_[kWays * s + way], matcher_id, f)) {
      set.last_use[way] = ++clock_;
      return true;
    }
  }
  return false;
}

void CleanMemo::Insert(uint64_t matcher_id, const request::Field& f) {
  if (f.name.size() + f.value.size() > kMaxKeyBytes) return;
  if (!sets_) {  // once per thread
    sets_ = std::make_unique<Set[]>(kSets);
    entries_ = std::make_unique<Entry[]>(kSets * kWays);
  }
  const uint64_t h = Hash(matcher_id, f);
  const size_t s = h % kSets;
  Set& set = sets_[s];
  // An empty way, else the way used least recently (a wrap-around of the 32-bit clock only makes one choice
  // arbitrary). A new entry starts as the oldest of its set: it survives the next insertion there only if
  // it is hit before, so a stream of values that never repeat keeps replacing itself, not the entries in use.
  size_t way = 0;
  for (size_t w = 0; w < kWays; ++w) {
    if (entries_[kWays * s + w].matcher_id == 0) {
      way = w;
      break;
    }
    if (set.last_use[w] < set.last_use[way]) way = w;
  }
  set.hash[way] = h;
  set.last_use[way] = 0;
  Entry& e = entries_[kWays * s + way];
  e.matcher_id = matcher_id;
  e.target = static_cast<uint8_t>(f.target);
  e.name_len = static_cast<uint8_t>(f.name.size());
  e.value_len = static_cast<uint8_t>(f.value.size());
  if (!f.name.empty()) std::memcpy(e.bytes, f.name.data(), f.name.size());
  if (!f.value.empty()) std::memcpy(e.bytes + f.name.size(), f.value.data(), f.value.size());
}

}  // namespace guard::signatures
