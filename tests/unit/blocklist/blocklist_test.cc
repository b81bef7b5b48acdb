#include "blocklist/blocklist.h"

#include <catch2/catch.hpp>

using namespace guard::blocklist;

TEST_CASE("parse and format CIDRs") {
  auto c = ParseCidr("10.1.2.3/8");
  REQUIRE(c.ok());
  CHECK(FormatCidr(*c) == "10.0.0.0/8");
  CHECK(c->prefix == 104);
  CHECK(FormatCidr(*ParseCidr("192.0.2.7")) == "192.0.2.7/32");
  CHECK(FormatCidr(*ParseCidr("2001:db8:aa::1/32")) == "2001:db8::/32");
  CHECK(FormatCidr(*ParseCidr("::1")) == "::1/128");
  CHECK(ParseCidr("10.0.0.0/33").status().message() == "prefix length > 32 in \"10.0.0.0/33\"");
  CHECK_FALSE(ParseCidr("10.0.0/8").ok());
  CHECK_FALSE(ParseCidr("2001:db8::/129").ok());
  CHECK_FALSE(ParseCidr("10.0.0.0/x").ok());
  IpAddress a;
  CHECK(ParseIp("[::ffff:10.0.0.1]", &a));
  CHECK(a.v4);
  CHECK(ParseIp("fe80::1%eth0", &a));
  CHECK_FALSE(a.v4);
  CHECK_FALSE(ParseIp("", &a));
  CHECK_FALSE(ParseIp("1.2.3.4.5", &a));
}

TEST_CASE("ban and allow lookups, v4 and v6") {
  Blocklist b;
  REQUIRE(b.Add(List::kBan, "203.0.113.0/24", 0, "scanner").ok());
  REQUIRE(b.Add(List::kBan, "2001:db8::/32", 0, "v6 net").ok());
  REQUIRE(b.Add(List::kBan, "198.51.100.7", 0, "host").ok());
  REQUIRE(b.Add(List::kAllow, "203.0.113.10", 0, "monitoring").ok());

  LookupResult r = b.Lookup("203.0.113.99", "", 0);
  CHECK(r.match == Match::kBanned);
  CHECK(std::string(r.reason) == "scanner");
  CHECK(b.Lookup("203.0.114.1", "", 0).match == Match::kNone);
  CHECK(b.Lookup("203.0.113.10", "", 0).match == Match::kAllowed);  // allow beats the /24 ban
  CHECK(b.Lookup("::ffff:203.0.113.5", "", 0).match == Match::kBanned);  // mapped form
  CHECK(b.Lookup("2001:db8:1::5", "", 0).match == Match::kBanned);
  CHECK(b.Lookup("2001:db9::5", "", 0).match == Match::kNone);
  CHECK(std::string(b.Lookup("198.51.100.7", "", 0).reason) == "host");
  CHECK(b.Lookup("198.51.100.8", "", 0).match == Match::kNone);
  CHECK(b.Lookup("not-an-ip", "", 0).match == Match::kNone);
  CHECK(b.size() == 4);
}

TEST_CASE("consumers, expiry, allow wins across kinds") {
  Blocklist b;
  REQUIRE(b.Add(List::kBan, "consumer:alice", 1000, "stuffing").ok());
  REQUIRE(b.Add(List::kBan, "10.0.0.0/8", 0, "net").ok());
  REQUIRE(b.Add(List::kAllow, "consumer:bob", 0, "partner").ok());
  CHECK(b.Lookup("", "alice", 999).match == Match::kBanned);
  CHECK(b.Lookup("", "alice", 999).expires_ms == 1000);
  CHECK(b.Lookup("", "alice", 1000).match == Match::kNone);  // expired at its expiry instant
  CHECK(b.Lookup("10.1.1.1", "bob", 0).match == Match::kAllowed);  // allowed consumer from a banned net
  CHECK(b.Lookup("10.1.1.1", "carol", 0).match == Match::kBanned);
  CHECK_FALSE(b.Add(List::kBan, "consumer:has space", 0, "").ok());
  CHECK(b.Purge(1000) == 1);
  CHECK(b.size() == 2);
  // Replace keeps one entry per subject.
  REQUIRE(b.Add(List::kBan, "10.9.9.9/8", 5000, "again").ok());
  CHECK(b.size() == 2);
  CHECK(b.Lookup("10.2.2.2", "", 0).expires_ms == 5000);
  CHECK(b.Remove(List::kBan, "10.0.0.0/8").ok());
  CHECK(absl::IsNotFound(b.Remove(List::kBan, "10.0.0.0/8")));
  CHECK(b.Lookup("10.2.2.2", "", 0).match == Match::kNone);
}

TEST_CASE("serialisation round trip") {
  Blocklist b;
  REQUIRE(b.Add(List::kBan, "203.0.113.0/24", 1767225600000, "scanner: 404 burst").ok());
  REQUIRE(b.Add(List::kBan, "consumer:c-1", 0, "").ok());
  REQUIRE(b.Add(List::kAllow, "2001:db8::1", 0, "ops\nnewline").ok());
  REQUIRE(b.Add(List::kBan, "192.0.2.1", 5, "expired").ok());
  std::string text = b.Serialize(10);
  CHECK(text ==
        "allow 2001:db8::1/128 0 ops newline\n"
        "ban 203.0.113.0/24 1767225600000 scanner: 404 burst\n"
        "ban consumer:c-1 0\n");
  Blocklist c;
  REQUIRE(c.ApplyLines(text).ok());
  CHECK(c.Serialize(10) == text);
  absl::Status st = c.ApplyLines("unban consumer:c-1\nban 1.2.3.4 soon x\nfrobnicate 1.2.3.4\nunban 9.9.9.9\n");
  CHECK(st.message() == "line 2: expires must be unix milliseconds, got \"soon\"");
  CHECK(c.Lookup("", "c-1", 0).match == Match::kNone);
  CHECK(c.size() == 2);
}

TEST_CASE("many prefixes") {
  Blocklist b;
  for (int i = 0; i < 256; ++i)
    for (int j = 0; j < 64; ++j)
      REQUIRE(b.Add(List::kBan, "10." + std::to_string(i) + "." + std::to_string(j * 4) + ".0/22", 0, "n").ok());
  REQUIRE(b.Add(List::kBan, "172.16.0.0/12", 0, "private").ok());
  CHECK(b.Lookup("10.200.255.255", "", 0).match == Match::kBanned);
  CHECK(b.Lookup("172.31.255.255", "", 0).match == Match::kBanned);
  CHECK(b.Lookup("172.32.0.0", "", 0).match == Match::kNone);
  CHECK(b.Lookup("11.0.0.0", "", 0).match == Match::kNone);
  CHECK(b.Entries(0).size() == 256 * 64 + 1);
}

#include <malloc.h>

TEST_CASE("lookups allocate nothing") {
  Blocklist b;
  REQUIRE(b.Add(List::kBan, "203.0.113.0/24", 0, "a reason longer than the sixty-four bytes of the result buffer, truncated").ok());
  REQUIRE(b.Add(List::kAllow, "consumer:ok", 0, "").ok());
  size_t before = mallinfo2().uordblks;
  int banned = 0;
  for (int i = 0; i < 1000; ++i) banned += b.Lookup("203.0.113.77", "someone", i).match == Match::kBanned;
  size_t after = mallinfo2().uordblks;
  CHECK(after == before);
  CHECK(banned == 1000);
  CHECK(std::string(b.Lookup("203.0.113.77", "", 0).reason).size() == 63);
}

#include <random>

TEST_CASE("random lines never break the lists") {
  std::mt19937 rng(4);
  const char* words[] = {"ban", "allow", "unban", "unallow", "consumer:x", "10.0.0.0/8", "::/0", "1.2.3.4/33",
                         "0", "99999999999999999999", "-1", "reason", "", " ", "2001:db8::/129", "fe80::1%eth0"};
  Blocklist b;
  for (int i = 0; i < 5000; ++i) {
    std::string line;
    int n = rng() % 5;
    for (int k = 0; k < n; ++k) line += std::string(k ? " " : "") + words[rng() % std::size(words)];
    (void)b.ApplyLines(line);
  }
  // Whatever was accepted serialises and reloads to the same text.
  Blocklist c;
  REQUIRE(c.ApplyLines(b.Serialize(1)).ok());
  CHECK(c.Serialize(1) == b.Serialize(1));
}

// empty() lets the request path skip the lock and the address parsing while nobody is listed: it must
// follow every change, and lookups on an empty list find nothing.
TEST_CASE("empty() follows adds, removals, line application and purges") {
  Blocklist b;
  CHECK(b.empty());
  CHECK(b.Lookup("10.0.0.1", "c1", 0).match == Match::kNone);
  REQUIRE(b.Add(List::kBan, "10.0.0.0/8", 0, "r").ok());
  CHECK_FALSE(b.empty());
  CHECK(b.Lookup("10.0.0.1", "", 0).match == Match::kBanned);
  REQUIRE(b.Remove(List::kBan, "10.0.0.0/8").ok());
  CHECK(b.empty());
  REQUIRE(b.Add(List::kAllow, "consumer:c1", 0, "").ok());
  CHECK_FALSE(b.empty());
  CHECK(b.Lookup("", "c1", 0).match == Match::kAllowed);
  REQUIRE(b.Remove(List::kAllow, "consumer:c1").ok());
  CHECK(b.empty());
  REQUIRE(b.ApplyLines("ban 192.0.2.1 1000 x\n").ok());
  CHECK_FALSE(b.empty());
  CHECK(b.Lookup("192.0.2.1", "", 999).match == Match::kBanned);
  CHECK(b.Purge(2000) == 1);
  CHECK(b.empty());
  CHECK(b.Lookup("192.0.2.1", "", 999).match == Match::kNone);
}
