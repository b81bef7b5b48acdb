// Sorted prefix tables per length, IPv4 mapped into IPv6; see blocklist.h.
#include "blocklist/blocklist.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <mutex>

namespace guard::blocklist {
namespace {

uint64_t Load64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

void Mask(uint64_t* hi, uint64_t* lo, int prefix) {
  if (prefix <= 0) {
    *hi = *lo = 0;
  } else if (prefix < 64) {
    *hi &= ~uint64_t{0} << (64 - prefix);
    *lo = 0;
  } else if (prefix == 64) {
    *lo = 0;
  } else if (prefix < 128) {
    *lo &= ~uint64_t{0} << (128 - prefix);
  }
}

std::string OneLine(std::string_view reason) {
  std::string r(reason.substr(0, kMaxReason));
  for (char& c : r)
    if (c == '\n' || c == '\r' || c == '\0') c = ' ';
  return r;
}

bool NetLess(const auto& a, const auto& b) { return a.hi != b.hi ? a.hi < b.hi : a.lo < b.lo; }

constexpr std::string_view kConsumerPrefix = "consumer:";

absl::StatusOr<std::string> ConsumerId(std::string_view subject) {
  std::string_view id = subject.substr(kConsumerPrefix.size());
  if (id.empty() || id.size() > 256) return absl::InvalidArgumentError("consumer id must be 1..256 bytes");
  for (char c : id)
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f)
      return absl::InvalidArgumentError("consumer id must not contain spaces or control characters");
  return std::string(id);
}

}  // namespace

bool ParseIp(std::string_view text, IpAddress* out) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  if (size_t pct = text.find('%'); pct != std::string_view::npos) text = text.substr(0, pct);  // zone id
  char buf[INET6_ADDRSTRLEN + 1];
  if (text.empty() || text.size() >= sizeof(buf)) return false;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  *out = IpAddress{};
  if (text.find(':') == std::string_view::npos) {
    uint8_t v4[4];
    if (inet_pton(AF_INET, buf, v4) != 1) return false;
    out->bytes[10] = out->bytes[11] = 0xff;
    std::memcpy(&out->bytes[12], v4, 4);
    out->v4 = true;
    return true;
  }
  if (inet_pton(AF_INET6, buf, out->bytes.data()) != 1) return false;
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  out->v4 = std::memcmp(out->bytes.data(), kMapped, 12) == 0;
  return true;
}

absl::StatusOr<Cidr> ParseCidr(std::string_view text) {
  std::string_view addr = text;
  int len = -1;
  if (size_t slash = text.find('/'); slash != std::string_view::npos) {
    addr = text.substr(0, slash);
    std::string_view l = text.substr(slash + 1);
    if (l.empty() || l.size() > 3) return absl::InvalidArgumentError("bad prefix length in \"" + std::string(text) + "\"");
    len = 0;
    for (char c : l) {
      if (c < '0' || c > '9') return absl::InvalidArgumentError("bad prefix length in \"" + std::string(text) + "\"");
      len = len * 10 + (c - '0');
    }
  }
  Cidr c;
  if (!ParseIp(addr, &c.network)) return absl::InvalidArgumentError("not an IP address: \"" + std::string(addr) + "\"");
  bool v4_text = addr.find(':') == std::string_view::npos;
  int max = v4_text ? 32 : 128;
  if (len < 0) len = max;
  if (len > max) return absl::InvalidArgumentError("prefix length > " + std::to_string(max) + " in \"" + std::string(text) + "\"");
  c.prefix = static_cast<uint8_t>(v4_text ? 96 + len : len);
  uint64_t hi = Load64(c.network.bytes.data()), lo = Load64(c.network.bytes.data() + 8);
  Mask(&hi, &lo, c.prefix);
  for (int i = 0; i < 8; ++i) {
    c.network.bytes[i] = static_cast<uint8_t>(hi >> (56 - 8 * i));
    c.network.bytes[8 + i] = static_cast<uint8_t>(lo >> (56 - 8 * i));
  }
  c.network.v4 = v4_text || (c.network.v4 && c.prefix >= 96);
  return c;
}

std::string FormatCidr(const Cidr& c) {
  char buf[INET6_ADDRSTRLEN + 8];
  if (c.network.v4 && c.prefix >= 96) {
    inet_ntop(AF_INET, &c.network.bytes[12], buf, sizeof(buf));
    return std::string(buf) + "/" + std::to_string(c.prefix - 96);
  }
  inet_ntop(AF_INET6, c.network.bytes.data(), buf, sizeof(buf));
  return std::string(buf) + "/" + std::to_string(c.prefix);
}

absl::Status Blocklist::Add(enum List list, std::string_view subject, int64_t expires_ms, std::string_view reason) {
  if (expires_ms < 0) return absl::InvalidArgumentError("expires_ms must be >= 0 (0 = never)");
  if (subject.starts_with(kConsumerPrefix)) {
    absl::StatusOr<std::string> id = ConsumerId(subject);
    if (!id.ok()) return id.status();
    std::unique_lock lock(mu_);
    auto& v = T(list).consumers;
    auto it = std::lower_bound(v.begin(), v.end(), *id, [](const Consumer& c, const std::string& k) { return c.id < k; });
    if (it != v.end() && it->id == *id) {
      it->expires_ms = expires_ms;
      it->reason = OneLine(reason);
    } else {
      v.insert(it, Consumer{std::move(*id), expires_ms, OneLine(reason)});
    }
    Recount();
    return absl::OkStatus();
  }
  absl::StatusOr<Cidr> c = ParseCidr(subject);
  if (!c.ok()) return c.status();
  Net n{Load64(c->network.bytes.data()), Load64(c->network.bytes.data() + 8), expires_ms, OneLine(reason)};
  std::unique_lock lock(mu_);
  Table& t = T(list);
  auto& v = t.by_len[c->prefix];
  auto it = std::lower_bound(v.begin(), v.end(), n, [](const Net& a, const Net& b) { return NetLess(a, b); });
  if (it != v.end() && it->hi == n.hi && it->lo == n.lo) *it = std::move(n);
  else v.insert(it, std::move(n));
  t.used[c->prefix / 64] |= uint64_t{1} << (c->prefix % 64);
  Recount();
  return absl::OkStatus();
}

absl::Status Blocklist::Remove(enum List list, std::string_view subject) {
  if (subject.starts_with(kConsumerPrefix)) {
    absl::StatusOr<std::string> id = ConsumerId(subject);
    if (!id.ok()) return id.status();
    std::unique_lock lock(mu_);
    auto& v = T(list).consumers;
    auto it = std::lower_bound(v.begin(), v.end(), *id, [](const Consumer& c, const std::string& k) { return c.id < k; });
    if (it == v.end() || it->id != *id) return absl::NotFoundError("no entry for " + std::string(subject));
    v.erase(it);
    Recount();
    return absl::OkStatus();
  }
  absl::StatusOr<Cidr> c = ParseCidr(subject);
  if (!c.ok()) return c.status();
  Net n{Load64(c->network.bytes.data()), Load64(c->network.bytes.data() + 8), 0, {}};
  std::unique_lock lock(mu_);
  Table& t = T(list);
  auto& v = t.by_len[c->prefix];
  auto it = std::lower_bound(v.begin(), v.end(), n, [](const Net& a, const Net& b) { return NetLess(a, b); });
  if (it == v.end() || it->hi != n.hi || it->lo != n.lo) return absl::NotFoundError("no entry for " + FormatCidr(*c));
  v.erase(it);
  if (v.empty()) t.used[c->prefix / 64] &= ~(uint64_t{1} << (c->prefix % 64));
  Recount();
  return absl::OkStatus();
}

bool Blocklist::Find(const Table& t, const IpAddress* ip, std::string_view consumer, int64_t now_ms,
                      LookupResult* out) const {
  auto live = [now_ms](int64_t exp) { return exp == 0 || exp > now_ms; };
  auto fill = [out](int64_t exp, const std::string& reason) {
    out->expires_ms = exp;
    size_t n = std::min(reason.size(), sizeof(out->reason) - 1);
    std::memcpy(out->reason, reason.data(), n);
    out->reason[n] = '\0';
  };
  if (!consumer.empty() && !t.consumers.empty()) {
    auto it = std::lower_bound(t.consumers.begin(), t.consumers.end(), consumer,
                               [](const Consumer& c, std::string_view k) { return c.id < k; });
    if (it != t.consumers.end() && it->id == consumer && live(it->expires_ms)) {
      fill(it->expires_ms, it->reason);
      return true;
    }
  }
  if (ip == nullptr) return false;
  uint64_t hi = Load64(ip->bytes.data()), lo = Load64(ip->bytes.data() + 8);
  // Most specific first, visiting only the prefix lengths that have entries (usually none or a few).
  for (int w = static_cast<int>(t.used.size()) - 1; w >= 0; --w) {
    for (uint64_t bits = t.used[w]; bits != 0;) {
      const int top = 63 - __builtin_clzll(bits);
      bits &= ~(uint64_t{1} << top);
      const int len = 64 * w + top;
      struct {
        uint64_t hi, lo;
      } k{hi, lo};
      Mask(&k.hi, &k.lo, len);
      const auto& v = t.by_len[len];
      auto it = std::lower_bound(v.begin(), v.end(), k, [](const Net& a, const auto& b) { return NetLess(a, b); });
      if (it != v.end() && it->hi == k.hi && it->lo == k.lo && live(it->expires_ms)) {
        fill(it->expires_ms, it->reason);
        return true;
      }
    }
  }
  return false;
}

LookupResult Blocklist::Lookup(const IpAddress& ip, std::string_view consumer_id, int64_t now_ms) const {
  LookupResult r;
  if (empty()) return r;
  std::shared_lock lock(mu_);
  if (Find(allow_, &ip, consumer_id, now_ms, &r)) r.match = Match::kAllowed;
  else if (Find(ban_, &ip, consumer_id, now_ms, &r)) r.match = Match::kBanned;
  return r;
}

LookupResult Blocklist::Lookup(std::string_view ip, std::string_view consumer_id, int64_t now_ms) const {
  if (empty()) return LookupResult{};
  IpAddress addr;
  bool have_ip = !ip.empty() && ParseIp(ip, &addr);
  LookupResult r;
  std::shared_lock lock(mu_);
  if (Find(allow_, have_ip ? &addr : nullptr, consumer_id, now_ms, &r)) r.match = Match::kAllowed;
  else if (Find(ban_, have_ip ? &addr : nullptr, consumer_id, now_ms, &r)) r.match = Match::kBanned;
  return r;
}

std::vector<Entry> Blocklist::Entries(int64_t now_ms) const {
  std::vector<Entry> out;
  std::shared_lock lock(mu_);
  for (enum List l : {List::kAllow, List::kBan}) {
    const Table& t = l == List::kBan ? ban_ : allow_;
    for (int len = 0; len <= 128; ++len) {
      for (const Net& n : t.by_len[len]) {
        if (n.expires_ms != 0 && n.expires_ms <= now_ms) continue;
        Cidr c;
        for (int i = 0; i < 8; ++i) {
          c.network.bytes[i] = static_cast<uint8_t>(n.hi >> (56 - 8 * i));
          c.network.bytes[8 + i] = static_cast<uint8_t>(n.lo >> (56 - 8 * i));
        }
        c.prefix = static_cast<uint8_t>(len);
        static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        c.network.v4 = len >= 96 && std::memcmp(c.network.bytes.data(), kMapped, 12) == 0;
        out.push_back(Entry{l, FormatCidr(c), n.expires_ms, n.reason});
      }
    }
    for (const Consumer& c : t.consumers)
      if (c.expires_ms == 0 || c.expires_ms > now_ms)
        out.push_back(Entry{l, std::string(kConsumerPrefix) + c.id, c.expires_ms, c.reason});
  }
  return out;
}

size_t Blocklist::Purge(int64_t now_ms) {
  size_t n = 0;
  std::unique_lock lock(mu_);
  auto dead = [now_ms](int64_t exp) { return exp != 0 && exp <= now_ms; };
  for (Table* t : {&ban_, &allow_}) {
    for (int len = 0; len <= 128; ++len) {
      auto& v = t->by_len[len];
      size_t before = v.size();
      std::erase_if(v, [&](const Net& x) { return dead(x.expires_ms); });
      n += before - v.size();
      if (v.empty()) t->used[len / 64] &= ~(uint64_t{1} << (len % 64));
    }
    size_t before = t->consumers.size();
    std::erase_if(t->consumers, [&](const Consumer& x) { return dead(x.expires_ms); });
    n += before - t->consumers.size();
  }
  Recount();
  return n;
}

void Blocklist::Recount() {
  size_t n = ban_.consumers.size() + allow_.consumers.size();
  for (int len = 0; len <= 128; ++len) n += ban_.by_len[len].size() + allow_.by_len[len].size();
  stored_.store(n, std::memory_order_release);
}

size_t Blocklist::size() const {
  std::shared_lock lock(mu_);
  size_t n = ban_.consumers.size() + allow_.consumers.size();
  for (int len = 0; len <= 128; ++len) n += ban_.by_len[len].size() + allow_.by_len[len].size();
  return n;
}

std::string Blocklist::Serialize(int64_t now_ms) const {
  std::string out;
  for (const Entry& e : Entries(now_ms)) {
    out += e.list == List::kBan ? "ban " : "allow ";
    out += e.subject;
    out += ' ';
    out += std::to_string(e.expires_ms);
    if (!e.reason.empty()) {
      out += ' ';
      out += e.reason;
    }
    out += '\n';
  }
  return out;
}

absl::Status Blocklist::ApplyLines(std::string_view text) {
  absl::Status first;
  size_t line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line[0] == '#') continue;
    auto next_word = [&line]() {
      size_t sp = line.find(' ');
      std::string_view w = line.substr(0, sp);
      line = sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
      return w;
    };
    std::string_view op = next_word();
    std::string_view subject = next_word();
    absl::Status st;
    if (op == "ban" || op == "allow") {
      std::string_view exp = next_word();
      int64_t expires = 0;
      bool ok = !exp.empty() && exp.size() <= 18;  // 18 digits cannot overflow int64
      for (size_t k = 0; ok && k < exp.size(); ++k) {
        ok = exp[k] >= '0' && exp[k] <= '9';
        expires = expires * 10 + (exp[k] - '0');
      }
      st = ok ? Add(op == "ban" ? List::kBan : List::kAllow, subject, expires, line)
              : absl::InvalidArgumentError("expires must be unix milliseconds, got \"" + std::string(exp) + "\"");
    } else if (op == "unban" || op == "unallow") {
      st = Remove(op == "unban" ? List::kBan : List::kAllow, subject);
      if (absl::IsNotFound(st)) st = absl::OkStatus();  // propagation is idempotent
    } else {
      st = absl::InvalidArgumentError("unknown operation \"" + std::string(op) + "\"");
    }
    if (!st.ok() && first.ok())
      first = absl::Status(st.code(), "line " + std::to_string(line_no) + ": " + std::string(st.message()));
  }
  return first;
}

}  // namespace guard::blocklist
