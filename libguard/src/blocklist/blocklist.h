// Blocklist / allowlist of IPs, CIDRs (IPv4 and IPv6) and consumers, with expiry.
//
// Rules: an allowlist match always wins over a ban; expired entries never match (they are dropped by
// Purge, which the lead calls from a timer, not from the request path). Lookup takes a shared lock,
// allocates nothing and costs one binary search per prefix length that is in use (a bitmap of lengths
// skips the rest), so /32 host bans and a few network bans cost a handful of comparisons.
//
// Storage: IPv4 addresses are stored as IPv4-mapped IPv6 (::ffff:a.b.c.d, prefix 96+n), so one
// 128-bit table per list serves both families, and ::ffff:1.2.3.4 written by a proxy matches 1.2.3.4.
// Each prefix length has a sorted vector of masked networks. Writes (admin API, Redis propagation,
// behaviour decisions) are rare: they take the exclusive lock and insert into the sorted vectors.
//
// Serialisation, for sharing through Redis: one entry per line,
//   ban 203.0.113.0/24 1767225600000 scanner: 404 burst
//   allow consumer:4f1c... 0 partner
//   unban 2001:db8::/32
// i.e. "<ban|allow|unban|unallow> <cidr|ip|consumer:id> [<expires_unix_ms> <reason>]", 0 = never.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace guard::blocklist {

// An address as 16 bytes, IPv4 mapped into IPv6.
struct IpAddress {
  std::array<uint8_t, 16> bytes{};
  bool v4 = false;
};
// Parses "1.2.3.4", "2001:db8::1", "[::1]", "fe80::1%eth0". No allocation.
bool ParseIp(std::string_view text, IpAddress* out);

struct Cidr {
  IpAddress network;   // masked
  uint8_t prefix = 0;  // in bits of the 128-bit mapped form (a v4 /24 is 120)
};
absl::StatusOr<Cidr> ParseCidr(std::string_view text);  // "10.0.0.0/8", "1.2.3.4" (= /32), "2001:db8::/32"
std::string FormatCidr(const Cidr& c);                    // canonical: "10.0.0.0/8", "2001:db8::/32"

enum class List : uint8_t { kBan, kAllow };

struct Entry {
  List list = List::kBan;
  std::string subject;     // canonical CIDR, or "consumer:<id>"
  int64_t expires_ms = 0;  // unix ms; 0 = never
  std::string reason;      // one line, at most kMaxReason bytes
};
inline constexpr size_t kMaxReason = 200;

enum class Match : uint8_t { kNone, kAllowed, kBanned };

struct LookupResult {
  Match match = Match::kNone;
  int64_t expires_ms = 0;
  char reason[64] = {0};  // copied (truncated) so that the result outlives later writes, without allocating
};

class Blocklist {
 public:
  // Adds or replaces (same list and subject) an entry; the subject is parsed and canonicalised.
  absl::Status Add(List list, std::string_view subject, int64_t expires_ms, std::string_view reason);
  // NotFound when there was no such entry.
  absl::Status Remove(List list, std::string_view subject);

  // ip may be empty (no IP check); consumer_id may be empty. Allow beats ban.
  LookupResult Lookup(std::string_view ip, std::string_view consumer_id, int64_t now_ms) const;
  LookupResult Lookup(const IpAddress& ip, std::string_view consumer_id, int64_t now_ms) const;

  std::vector<Entry> Entries(int64_t now_ms) const;  // live entries, allow first, then ban, sorted
  size_t Purge(int64_t now_ms);                    // drops expired entries; returns how many
  size_t size() const;
  // No entry at all (live or expired, not yet purged): lookups then answer at once, without the lock or
  // parsing the client's address (Engine::BlocklistFirst). A change racing with it is seen by the next call.
  bool empty() const { return stored_.load(std::memory_order_acquire) == 0; }

  // The line format above. Serialize writes live entries only.
  std::string Serialize(int64_t now_ms) const;
  // Applies lines (ban/allow add or replace, unban/unallow remove). Stops at nothing: bad lines are
  // skipped and the first error is returned with its line number, after the good lines are applied.
  absl::Status ApplyLines(std::string_view text);

 private:
  struct Net {
    uint64_t hi, lo;  // masked network
    int64_t expires_ms;
    std::string reason;
  };
  struct Consumer {
    std::string id;
    int64_t expires_ms;
    std::string reason;
  };
  struct Table {
    std::vector<Net> by_len[129];        // sorted by (hi, lo)
    std::array<uint64_t, 3> used{};      // bit per prefix length with entries
    std::vector<Consumer> consumers;     // sorted by id
  };
  bool Find(const Table& t, const IpAddress* ip, std::string_view consumer, int64_t now_ms,
             LookupResult* out) const;
  Table& T(enum List l) { return l == List::kBan ? ban_ : allow_; }

  // Entries stored, updated under mu_ by every change (Recount), read without it by empty().
  void Recount();
  std::atomic<size_t> stored_{0};
  mutable std::shared_mutex mu_;
  Table ban_, allow_;
};

}  // namespace guard::blocklist
