// Parsing of the `quota` config section and allocation-free key building; see limits.h.
#include "quota/limits.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "rapidjson/error/en.h"

namespace guard::quota {

namespace {

// Debian's abseil is built with its own absl::string_view (not std::string_view): convert at the boundary.
inline absl::string_view AV(std::string_view s) { return absl::string_view(s.data(), s.size()); }
inline bool StartsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }
inline std::string Lower(std::string_view s) { return absl::AsciiStrToLower(AV(s)); }

constexpr std::string_view kPeriodNames[kPeriodCount] = {"second", "minute", "hour", "day", "month", "year"};
constexpr std::string_view kPeriodHeaders[kPeriodCount] = {"Second", "Minute", "Hour", "Day", "Month", "Year"};
constexpr uint64_t kPeriodSeconds[kPeriodCount] = {1, 60, 3600, 86400, 30 * 86400, 365 * 86400};

absl::Status Err(std::string_view path, std::string_view msg) {
  return absl::InvalidArgumentError(absl::StrCat(AV(path), ": ", AV(msg)));
}

std::string_view Str(const rapidjson::Value& v) { return std::string_view(v.GetString(), v.GetStringLength()); }

absl::StatusOr<uint64_t> PositiveInt(const rapidjson::Value& v, std::string_view path) {
  if (!v.IsUint64() || v.GetUint64() == 0) return Err(path, "expected a positive integer");
  return v.GetUint64();
}

absl::Status CheckName(std::string_view s, std::string_view path) {
  if (s.empty() || s.size() > kMaxNameBytes) return Err(path, absl::StrCat("expected 1 to ", kMaxNameBytes, " bytes"));
  return absl::OkStatus();
}

absl::StatusOr<Tier> ParseWindows(const rapidjson::Value& arr, std::string name, const std::string& path) {
  if (!arr.IsArray() || arr.Empty()) return Err(path, "expected a non-empty array of windows");
  if (arr.Size() > kSlotWindows) return Err(path, absl::StrCat("at most ", kSlotWindows, " windows"));
  Tier tier;
  tier.name = std::move(name);
  bool seen[kPeriodCount] = {};
  for (rapidjson::SizeType i = 0; i < arr.Size(); ++i) {
    const std::string wpath = absl::StrCat(path, "[", i, "]");
    const auto& w = arr[i];
    if (!w.IsObject()) return Err(wpath, "expected an object");
    for (auto m = w.MemberBegin(); m != w.MemberEnd(); ++m) {
      const auto k = Str(m->name);
      if (k != "per" && k != "limit" && k != "burst") return Err(absl::StrCat(wpath, ".", AV(k)), "unknown field");
    }
    if (!w.HasMember("per") || !w["per"].IsString()) return Err(absl::StrCat(wpath, ".per"), "required string");
    const auto per = Str(w["per"]);
    const auto* it = std::find(std::begin(kPeriodNames), std::end(kPeriodNames), per);
    if (it == std::end(kPeriodNames)) {
      return Err(absl::StrCat(wpath, ".per"), "expected one of second, minute, hour, day, month, year");
    }
    const auto period = static_cast<Period>(it - std::begin(kPeriodNames));
    if (seen[static_cast<size_t>(period)]) return Err(absl::StrCat(wpath, ".per"), "period given twice");
    seen[static_cast<size_t>(period)] = true;
    if (!w.HasMember("limit")) return Err(absl::StrCat(wpath, ".limit"), "required");
    auto limit = PositiveInt(w["limit"], absl::StrCat(wpath, ".limit"));
    if (!limit.ok()) return limit.status();
    uint64_t burst = 0;
    if (w.HasMember("burst")) {
      auto b = PositiveInt(w["burst"], absl::StrCat(wpath, ".burst"));
      if (!b.ok()) return b.status();
      burst = *b;
    }
    auto rate = MakeRate(*limit, PeriodNs(period), burst);
    if (!rate.ok()) return Err(wpath, std::string(rate.status().message()));
    tier.windows.push_back(Window{period, *rate});
  }
  std::sort(tier.windows.begin(), tier.windows.end(),
            [](const Window& a, const Window& b) { return a.period < b.period; });
  uint64_t shape[3 * kSlotWindows] = {};
  size_t n = 0;
  for (const auto& w : tier.windows) {
    tier.rates.push_back(w.rate);
    shape[n++] = static_cast<uint64_t>(w.period);
    shape[n++] = w.rate.interval_ns;
    shape[n++] = w.rate.tau_ns;
  }
  tier.fingerprint = Hash128(shape, n * sizeof(uint64_t)).lo;
  return tier;
}

absl::StatusOr<KeyPart> ParseKeyPart(std::string_view s, std::string_view path) {
  if (s == "consumer") return KeyPart{KeyPartKind::kConsumer, {}};
  if (s == "credential") return KeyPart{KeyPartKind::kCredential, {}};
  if (s == "ip") return KeyPart{KeyPartKind::kIp, {}};
  if (s == "route") return KeyPart{KeyPartKind::kRoute, {}};
  if (s == "service") return KeyPart{KeyPartKind::kService, {}};
  if (StartsWith(s, "header:") && s.size() > 7 && s.size() <= 7 + kMaxNameBytes) {
    return KeyPart{KeyPartKind::kHeader, Lower(s.substr(7))};
  }
  return Err(path, "expected consumer, credential, ip, route, service or header:<name>");
}

absl::StatusOr<LimitSpec> ParseLimit(const rapidjson::Value& v, const std::string& path) {
  if (!v.IsObject()) return Err(path, "expected an object");
  static constexpr std::string_view kFields[] = {"name",  "key",          "when_missing", "tiers",
                                                 "windows", "default_tier", "tier_from",    "cost"};
  for (auto m = v.MemberBegin(); m != v.MemberEnd(); ++m) {
    if (std::find(std::begin(kFields), std::end(kFields), Str(m->name)) == std::end(kFields)) {
      return Err(absl::StrCat(path, ".", AV(Str(m->name))), "unknown field");
    }
  }
  LimitSpec spec;
  if (!v.HasMember("name") || !v["name"].IsString()) return Err(path + ".name", "required string");
  spec.name = std::string(Str(v["name"]));
  if (auto st = CheckName(spec.name, path + ".name"); !st.ok()) return st;
  if (spec.name == "global") return Err(path + ".name", "\"global\" is reserved for the global section");

  if (!v.HasMember("key") || !v["key"].IsArray() || v["key"].Empty()) {
    return Err(path + ".key", "required non-empty array");
  }
  if (v["key"].Size() > kMaxKeyParts) return Err(path + ".key", absl::StrCat("at most ", kMaxKeyParts, " parts"));
  for (rapidjson::SizeType i = 0; i < v["key"].Size(); ++i) {
    const std::string kpath = absl::StrCat(path, ".key[", i, "]");
    if (!v["key"][i].IsString()) return Err(kpath, "expected a string");
    auto part = ParseKeyPart(Str(v["key"][i]), kpath);
    if (!part.ok()) return part.status();
    spec.key.push_back(std::move(*part));
  }

  if (v.HasMember("when_missing")) {
    const auto& w = v["when_missing"];
    const std::string_view s = w.IsString() ? Str(w) : "";
    if (s == "ip") spec.when_missing = WhenMissing::kIp;
    else if (s == "skip") spec.when_missing = WhenMissing::kSkip;
    else if (s == "shared") spec.when_missing = WhenMissing::kShared;
    else return Err(path + ".when_missing", "expected one of ip, skip, shared");
  }

  const bool has_tiers = v.HasMember("tiers"), has_windows = v.HasMember("windows");
  if (has_tiers == has_windows) return Err(path, "exactly one of \"tiers\" and \"windows\" is required");
  if (has_windows) {
    auto tier = ParseWindows(v["windows"], "default", path + ".windows");
    if (!tier.ok()) return tier.status();
    spec.tiers.push_back(std::move(*tier));
    if (v.HasMember("tier_from") || v.HasMember("default_tier")) {
      return Err(path, "tier_from and default_tier need \"tiers\"");
    }
  } else {
    const auto& tiers = v["tiers"];
    if (!tiers.IsObject() || tiers.MemberCount() == 0) return Err(path + ".tiers", "expected a non-empty object");
    for (auto m = tiers.MemberBegin(); m != tiers.MemberEnd(); ++m) {
      const std::string tname(Str(m->name));
      const std::string tpath = absl::StrCat(path, ".tiers.", tname);
      if (auto st = CheckName(tname, tpath); !st.ok()) return st;
      auto tier = ParseWindows(m->value, tname, tpath);
      if (!tier.ok()) return tier.status();
      spec.tiers.push_back(std::move(*tier));
    }
    if (!v.HasMember("default_tier") || !v["default_tier"].IsString()) {
      return Err(path + ".default_tier", "required string when \"tiers\" is given");
    }
    const auto def = Str(v["default_tier"]);
    auto it = std::find_if(spec.tiers.begin(), spec.tiers.end(), [&](const Tier& t) { return t.name == def; });
    if (it == spec.tiers.end()) return Err(path + ".default_tier", "names no tier in \"tiers\"");
    spec.default_tier = static_cast<size_t>(it - spec.tiers.begin());
    if (!v.HasMember("tier_from") || !v["tier_from"].IsString()) {
      return Err(path + ".tier_from", "required string when \"tiers\" is given: consumer_tag or header:<name>");
    }
    const auto from = Str(v["tier_from"]);
    if (from == "consumer_tag") {
      spec.tier_from = TierFrom::kConsumerTag;
    } else if (StartsWith(from, "header:") && from.size() > 7 && from.size() <= 7 + kMaxNameBytes) {
      spec.tier_from = TierFrom::kHeader;
      spec.tier_header = Lower(from.substr(7));
    } else {
      return Err(path + ".tier_from", "expected consumer_tag or header:<name>");
    }
  }

  if (v.HasMember("cost")) {
    auto c = PositiveInt(v["cost"], path + ".cost");
    if (!c.ok()) return c.status();
    spec.cost = *c;
    for (const auto& t : spec.tiers) {
      for (const auto& w : t.windows) {
        if (spec.cost > w.rate.burst) {
          return Err(path + ".cost", absl::StrCat("larger than the burst of tier ", t.name, " (", w.rate.burst,
                                                  " per ", AV(PeriodName(w.period)), "): nothing would ever pass"));
        }
      }
    }
  }
  return spec;
}

absl::StatusOr<uint64_t> UintIn(const rapidjson::Value& v, std::string_view path, uint64_t lo, uint64_t hi) {
  if (!v.IsUint64() || v.GetUint64() < lo || v.GetUint64() > hi) {
    return Err(path, absl::StrCat("expected an integer between ", lo, " and ", hi));
  }
  return v.GetUint64();
}

absl::StatusOr<SyncConfig> ParseSync(const rapidjson::Value& v) {
  if (!v.IsObject()) return Err("quota.sync", "expected an object");
  SyncConfig c;
  for (auto m = v.MemberBegin(); m != v.MemberEnd(); ++m) {
    const auto k = Str(m->name);
    const std::string path = absl::StrCat("quota.sync.", AV(k));
    const auto& x = m->value;
    if (k == "redis") {
      if (!x.IsObject()) return Err(path, "expected an object");
      for (auto r = x.MemberBegin(); r != x.MemberEnd(); ++r) {
        const auto rk = Str(r->name);
        const std::string rpath = absl::StrCat(path, ".", AV(rk));
        if (rk == "host" || rk == "password") {
          if (!r->value.IsString() || (rk == "host" && r->value.GetStringLength() == 0)) {
            return Err(rpath, "expected a non-empty string");
          }
          (rk == "host" ? c.host : c.password) = std::string(Str(r->value));
        } else if (rk == "port") {
          auto p = UintIn(r->value, rpath, 1, 65535);
          if (!p.ok()) return p.status();
          c.port = static_cast<uint16_t>(*p);
        } else if (rk == "database") {
          auto d = UintIn(r->value, rpath, 0, 15);
          if (!d.ok()) return d.status();
          c.database = static_cast<uint32_t>(*d);
        } else if (rk == "timeout_ms") {
          auto t = UintIn(r->value, rpath, 1, 60000);
          if (!t.ok()) return t.status();
          c.timeout_ms = static_cast<uint32_t>(*t);
        } else {
          return Err(rpath, "unknown field");
        }
      }
    } else if (k == "interval_ms") {
      auto t = UintIn(x, path, 10, 60000);
      if (!t.ok()) return t.status();
      c.interval_ms = static_cast<uint32_t>(*t);
    } else if (k == "expected_nodes") {
      auto t = UintIn(x, path, 1, 10000);
      if (!t.ok()) return t.status();
      c.expected_nodes = static_cast<uint32_t>(*t);
    } else if (k == "on_failure") {
      const std::string_view p = x.IsString() ? Str(x) : "";
      if (p == "local_fallback") c.on_failure = FailurePolicy::kLocalFallback;
      else if (p == "fail_open") c.on_failure = FailurePolicy::kFailOpen;
      else if (p == "fail_closed") c.on_failure = FailurePolicy::kFailClosed;
      else return Err(path, "expected one of local_fallback, fail_open, fail_closed");
    } else if (k == "prefix") {
      if (!x.IsString() || x.GetStringLength() == 0 || x.GetStringLength() > kMaxNameBytes ||
          Str(x).find_first_of("{}") != std::string_view::npos) {
        return Err(path, "expected 1 to 64 bytes without braces");
      }
      c.prefix = std::string(Str(x));
    } else {
      return Err(path, "unknown field");
    }
  }
  return c;
}

}  // namespace

std::string_view PeriodName(Period p) { return kPeriodNames[static_cast<size_t>(p)]; }
std::string_view PeriodHeaderName(Period p) { return kPeriodHeaders[static_cast<size_t>(p)]; }
uint64_t PeriodNs(Period p) { return kPeriodSeconds[static_cast<size_t>(p)] * kNsPerSecond; }

absl::StatusOr<QuotaConfig> ParseQuotaConfig(const rapidjson::Value& section) {
  if (!section.IsObject()) return Err("quota", "expected an object");
  for (auto m = section.MemberBegin(); m != section.MemberEnd(); ++m) {
    const auto k = Str(m->name);
    if (k != "limits" && k != "global" && k != "on_unavailable" && k != "sync") {
      return Err(absl::StrCat("quota.", AV(k)), "unknown field");
    }
  }
  QuotaConfig cfg;
  if (section.HasMember("limits")) {
    const auto& arr = section["limits"];
    if (!arr.IsArray()) return Err("quota.limits", "expected an array");
    for (rapidjson::SizeType i = 0; i < arr.Size(); ++i) {
      auto spec = ParseLimit(arr[i], absl::StrCat("quota.limits[", i, "]"));
      if (!spec.ok()) return spec.status();
      for (const auto& other : cfg.limits) {
        if (other.name == spec->name) return Err(absl::StrCat("quota.limits[", i, "].name"), "duplicate name");
      }
      cfg.limits.push_back(std::move(*spec));
    }
  }
  if (section.HasMember("global")) {
    auto tier = ParseWindows(section["global"], "default", "quota.global");
    if (!tier.ok()) return tier.status();
    LimitSpec g;
    g.name = "global";
    g.tiers.push_back(std::move(*tier));
    cfg.limits.push_back(std::move(g));
  }
  if (cfg.limits.size() > kMaxLimits) return Err("quota.limits", absl::StrCat("at most ", kMaxLimits, " limits"));
  if (section.HasMember("on_unavailable")) {
    const auto& v = section["on_unavailable"];
    const std::string_view s = v.IsString() ? Str(v) : "";
    if (s == "allow") cfg.fail_open = true;
    else if (s == "deny") cfg.fail_open = false;
    else return Err("quota.on_unavailable", "expected one of allow, deny");
  }
  if (section.HasMember("sync")) {
    auto sync = ParseSync(section["sync"]);
    if (!sync.ok()) return sync.status();
    cfg.has_sync = true;
    cfg.sync = std::move(*sync);
  }
  return cfg;
}

absl::StatusOr<QuotaConfig> ParseQuotaConfig(std::string_view json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError()) {
    return Err("quota", absl::StrCat("invalid JSON at offset ", doc.GetErrorOffset(), ": ",
                                     rapidjson::GetParseError_En(doc.GetParseError())));
  }
  return ParseQuotaConfig(doc);
}

// ---------------------------------------------------------------- keys

namespace {

// A fixed buffer of length-prefixed fields. Overflow cannot happen with the limits enforced by the parser
// (namespace is cut at kMaxNamespaceBytes), but Append still refuses rather than writes past the end.
class KeyWriter {
 public:
  void Append(std::string_view field) {
    if (field.size() > kMaxPartBytes) {
      // Long values (e.g. an API key header) go in as their own hash: fixed size, same identity.
      const Key128 h = Hash128(field);
      char digest[17];
      digest[0] = '#';
      std::memcpy(digest + 1, &h, 16);
      Put(std::string_view(digest, 17), true);
      return;
    }
    Put(field, false);
  }
  Key128 Finish() const { return Hash128(buf_, len_); }

 private:
  void Put(std::string_view field, bool hashed) {
    if (len_ + 3 + field.size() > sizeof(buf_)) return;
    buf_[len_++] = static_cast<char>(field.size() & 0xff);
    buf_[len_++] = static_cast<char>(field.size() >> 8);
    buf_[len_++] = hashed ? 'h' : 'v';  // a hashed long value never equals a short literal "#..."
    if (!field.empty()) std::memcpy(buf_ + len_, field.data(), field.size());  // data() may be null when empty
    len_ += field.size();
  }
  char buf_[kKeyBufferBytes];
  size_t len_ = 0;
};

bool HeaderNameEquals(const guard_str& name, std::string_view lower) {
  if (name.len != lower.size()) return false;
  for (size_t i = 0; i < name.len; ++i) {
    if (absl::ascii_tolower(static_cast<unsigned char>(name.ptr[i])) != lower[i]) return false;
  }
  return true;
}

std::string_view FindHeader(const RequestKeys& req, std::string_view lower) {
  for (size_t i = 0; i < req.header_count; ++i) {
    const auto& h = req.headers[i];
    if (HeaderNameEquals(h.name, lower)) return std::string_view(h.value.ptr, h.value.len);
  }
  return {};
}

std::string_view PartValue(const KeyPart& part, const RequestKeys& req) {
  switch (part.kind) {
    case KeyPartKind::kConsumer: return req.consumer;
    case KeyPartKind::kCredential: return req.credential;
    case KeyPartKind::kIp: return req.ip;
    case KeyPartKind::kRoute: return req.route;
    case KeyPartKind::kService: return req.service;
    case KeyPartKind::kHeader: return FindHeader(req, part.header);
  }
  return {};
}

const Tier& PickTier(const LimitSpec& spec, const RequestKeys& req) {
  std::string_view want;
  if (spec.tier_from == TierFrom::kHeader) {
    want = FindHeader(req, spec.tier_header);
  } else if (spec.tier_from == TierFrom::kConsumerTag) {
    for (size_t i = 0; i < req.consumer_tag_count && want.empty(); ++i) {
      std::string_view tag(req.consumer_tags[i].ptr, req.consumer_tags[i].len);
      if (StartsWith(tag, kTierTagPrefix)) want = tag.substr(kTierTagPrefix.size());
    }
  }
  if (!want.empty()) {
    for (const auto& t : spec.tiers) {
      if (t.name == want) return t;
    }
  }
  return spec.tiers[spec.default_tier];
}

constexpr size_t kMaxNamespaceBytes = 256;

}  // namespace

ResolvedKey ResolveKey(const LimitSpec& spec, std::string_view ns, const RequestKeys& req) {
  ResolvedKey out;
  const Tier& tier = PickTier(spec, req);
  out.tier = &tier;

  bool missing = false;
  for (const auto& part : spec.key) missing = missing || PartValue(part, req).empty();
  if (missing && spec.when_missing == WhenMissing::kSkip) return out;
  const bool by_ip = missing && spec.when_missing == WhenMissing::kIp;

  KeyWriter w;
  w.Append(ns.substr(0, kMaxNamespaceBytes));
  w.Append(spec.name);
  w.Append(tier.name);
  w.Append(std::string_view(reinterpret_cast<const char*>(&tier.fingerprint), sizeof(tier.fingerprint)));
  // The mode field keeps the IP fallback bucket apart from a keyed bucket whose values happen to look alike.
  w.Append(by_ip ? "ip-fallback" : "keyed");
  if (by_ip) {
    // As in Kong's rate-limiting: no consumer (or header...) means limit by client IP.
    w.Append(req.ip);
  } else {
    for (const auto& part : spec.key) w.Append(PartValue(part, req));  // kShared: empty values share a bucket
  }
  out.key = w.Finish();
  out.applies = true;
  return out;
}

}  // namespace guard::quota
