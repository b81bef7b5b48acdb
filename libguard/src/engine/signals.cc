// The stages of behaviour as a signal around the signatures; see engine/signals.h and docs/fingerprint.md.
#include "engine/signals.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <tuple>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/fixed_string.h"
#include "common/incident_id.h"
#include "config/signal_sections.h"
#include "engine/behaviour_node.h"
#include "engine/engine.h"
#include "engine/verdict.h"
#include "fingerprint/client.h"
#include "signatures/rules.h"

namespace guard::engine {

const request::FieldList& CurrentFields();  // engine.cc: this thread's request being inspected
const signatures::ScanState& CurrentScan();

namespace {

using common::CopyCut;

struct SignalScratch {
  std::vector<fingerprint::ShapeParam> params;
  std::vector<uint8_t> flagged;  // per field index
};

// Not inlined: see LocalState() in engine.cc (inlined, the field loop below called __tls_get_addr per field).
[[gnu::noinline]] SignalScratch& Scratch() {
  thread_local SignalScratch s;
  return s;
}

std::string_view View(const guard_str& s) { return s.len ? std::string_view(s.ptr, s.len) : std::string_view(); }

inline uint64_t Mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  return x ^ (x >> 33);
}

int LowestCategory(uint64_t bits) {
  for (int c = 0; c < GUARD_CAT_COUNT; ++c)
    if (bits & (uint64_t{1} << c)) return c;
  return GUARD_CAT_BEHAVIOUR;
}

// A verdict for the client rather than the request: banned (blocklist or behaviour) or score pushed over the
// threshold by a scenario. Monitor mode reports instead of blocking.
void MarkBehaviourBlock(const config::Config& cfg, std::string_view target, uint32_t flag, guard_verdict* v) {
  v->action = cfg.mode == config::Mode::kMonitor ? GUARD_ACTION_MONITOR : GUARD_ACTION_BLOCK;
  v->categories |= uint64_t{1} << GUARD_CAT_BEHAVIOUR;
  CopyCut(v->category, sizeof v->category, signatures::CategoryName(GUARD_CAT_BEHAVIOUR));
  CopyCut(v->target, sizeof v->target, target);
  v->flags |= flag;
  if (v->incident_id[0] == '\0') common::NewIncidentId(v->incident_id, sizeof v->incident_id);
}

// "ban:probing": what decided, for the verdict's target (logs, X-Guard headers). No allocation.
std::string_view ScenarioTarget(std::string_view kind, const behaviour::BehaviourConfig& bc, int scenario,
                                char (&buf)[GUARD_TARGET_LEN]) {
  std::string_view name = scenario >= 0 && scenario < static_cast<int>(bc.scenarios.size())
                              ? std::string_view(bc.scenarios[scenario].name) : std::string_view("behaviour");
  size_t n = std::min(kind.size(), sizeof buf - 1);
  std::memcpy(buf, kind.data(), n);
  size_t m = std::min(name.size(), sizeof buf - 1 - n);
  std::memcpy(buf + n, name.data(), m);
  return std::string_view(buf, n + m);
}

bool IsLoginRoute(const config::BehaviourSection& b, std::string_view route_id, std::string_view path) {
  for (const std::string& r : b.login_routes)
    if (r == route_id) return true;
  for (const std::string& p : b.login_paths)
    if (config::GlobMatch(p, path)) return true;
  return false;
}

// The profile key: consumer (or IP) x plugin instance.
uint64_t ProfileKey(const SignalState& s, std::string_view ip, std::string_view consumer) {
  return Mix(fingerprint::MakeClientKey(ip, consumer).hash ^ s.instance_key) | 1;
}

// "ban <subject> <expires> behaviour: <scenario>" for the client, or "" when it has no identity.
std::string BanLine(std::string_view ip, std::string_view consumer, int64_t until_ms, std::string_view scenario) {
  std::string subject;
  if (!consumer.empty()) {
    subject = "consumer:" + std::string(consumer);
  } else if (!ip.empty()) {
    auto cidr = blocklist::ParseCidr(ip);
    if (!cidr.ok()) return {};
    subject = blocklist::FormatCidr(*cidr);
  } else {
    return {};
  }
  return "ban " + subject + " " + std::to_string(until_ms) + " behaviour: " + std::string(scenario) + "\n";
}

void Propagate(const SignalState& s, const behaviour::BehaviourConfig& bc, const behaviour::Assessment& a,
               std::string_view ip, std::string_view consumer) {
  if (!a.new_decision || a.scenario < 0) return;
  if (a.decision == behaviour::DecisionType::kBan) {
    s.decisions_ban.fetch_add(1, std::memory_order_relaxed);
    // Rare (a decision, not a request): the allocation and the journal lock are acceptable here.
    std::string line = BanLine(ip, consumer, a.decision_until_ms, bc.scenarios[a.scenario].name);
    if (!line.empty()) (void)PublishBlocklistLines(line);
  } else if (a.decision == behaviour::DecisionType::kThrottle) {
    s.decisions_throttle.fetch_add(1, std::memory_order_relaxed);
  }
}

// One L1 cache per process for every engine with the same cache settings (Kong users often run a plugin
// instance per route: a cache of 65 536 entries is ~11 MB, per instance per worker that would add up fast).
// Sharing is safe: the key holds the route and the version (config digest + rules), so engines with other
// configs never read each other's verdicts, and engines with the same config would compute the same ones.
// Taken when an engine is built, never per request.
absl::StatusOr<std::shared_ptr<cache::VerdictCache>> SharedVerdictCache(const cache::VerdictCacheConfig& c) {
  using Key = std::tuple<size_t, size_t, size_t, int64_t, int64_t>;
  static std::mutex mu;
  static std::map<Key, std::weak_ptr<cache::VerdictCache>> caches;
  const Key key{c.max_entries, c.max_bytes, c.shards, c.benign_ttl_ms, c.malicious_ttl_ms};
  std::lock_guard<std::mutex> lock(mu);
  if (auto it = caches.find(key); it != caches.end())
    if (auto shared = it->second.lock()) return shared;
  auto made = cache::VerdictCache::Create(c);
  if (!made.ok()) return made.status();
  std::shared_ptr<cache::VerdictCache> shared = std::move(*made);
  for (auto it = caches.begin(); it != caches.end();) it = it->second.expired() ? caches.erase(it) : std::next(it);
  caches[key] = shared;
  return shared;
}

}  // namespace

fingerprint::RequestFingerprint FingerprintFields(std::string_view method, const request::FieldList& fields,
                                                  std::span<const signatures::Match> matches) {
  SignalScratch& sc = Scratch();
  const auto& fs = fields.fields();
  sc.flagged.assign(fs.size(), 0);
  for (const signatures::Match& m : matches)
    if (m.field_index < fs.size()) sc.flagged[m.field_index] = 1;
  sc.params.clear();
  fingerprint::ShapeInput in;
  in.method = method;
  using request::Target;
  using fingerprint::ParamSource;
  for (size_t i = 0; i < fs.size(); ++i) {
    const request::Field& f = fs[i];
    const bool flagged = sc.flagged[i] != 0;
    switch (f.target) {
      case Target::kPath:
        in.path = f.value;
        in.path_flagged = flagged;
        break;
      case Target::kArg:
        sc.params.push_back({ParamSource::kQuery, f.name, f.value, flagged});
        break;
      case Target::kBodyArg:
        sc.params.push_back({ParamSource::kBody, f.name, f.value, flagged});
        break;
      case Target::kArgName:
      case Target::kBodyArgName:
      case Target::kHeaderName:
      case Target::kCookieName:
        // An attack in a name: its skeleton enters as a value of a nameless parameter.
        if (flagged) sc.params.push_back({ParamSource::kQuery, request::TargetName(f.target), f.name, true});
        break;
      case Target::kCookie:
        if (flagged) sc.params.push_back({ParamSource::kCookie, f.name, f.value, true});
        break;
      case Target::kHeader:
        if (flagged) sc.params.push_back({ParamSource::kHeader, f.name, f.value, true});
        break;
      case Target::kMethod:
        break;
      default:  // raw body, XML, file names and contents: only what a rule flagged
        if (flagged) sc.params.push_back({ParamSource::kBody, request::TargetName(f.target), f.value, true});
        break;
    }
  }
  in.params = sc.params;
  return fingerprint::FingerprintRequest(in);
}

Engine::~Engine() {
  if (signals_ && signals_->sync && cache_) signals_->sync->Unregister(cache_.get());
}

absl::Status Engine::BuildSignals(const Identity& id) {
  signals_ = std::make_unique<SignalState>();
  SignalState& s = *signals_;
  const std::string& instance = id.instance_id.empty() ? std::string("default") : id.instance_id;
  s.instance_key = fingerprint::StableHash64(instance);
  // Version: the config as validated (keys sorted) and the core rules. A rules or config change is a new key
  // space: stale verdicts are never read again and age out of the LRU.
  fingerprint::StableHasher vh;
  vh.AddU64(config_.digest);
  vh.Add(signatures::CoreRulesJson());
  version_ = vh.Finish().lo;

  for (const std::string& a : config_.blocklist.allow)
    if (absl::Status st = s.static_list.Add(blocklist::List::kAllow, a, 0, "config"); !st.ok()) return st;
  for (const std::string& d : config_.blocklist.deny)
    if (absl::Status st = s.static_list.Add(blocklist::List::kBan, d, 0, "config"); !st.ok()) return st;
  s.static_entries = config_.blocklist.allow.size() + config_.blocklist.deny.size();

  if (config_.cache.enabled) {
    auto c = SharedVerdictCache(config_.cache.l1);
    if (!c.ok()) return absl::InvalidArgumentError(absl::StrCat("invalid config: cache: ", c.status().message()));
    cache_ = std::move(*c);
  }
  if (config_.behaviour.enabled) {
    if (behaviour::ProfileTable* node = NodeProfiles()) {
      auto b = behaviour::BehaviourEngine::CreateOn(config_.behaviour.engine, node);
      if (!b.ok()) return absl::InvalidArgumentError(absl::StrCat("invalid config: ", b.status().message()));
      s.behaviour = std::move(*b);
      s.node_profiles = true;
    } else {
      auto b = behaviour::BehaviourEngine::Create(config_.behaviour.engine);
      if (!b.ok()) return absl::InvalidArgumentError(absl::StrCat("invalid config: ", b.status().message()));
      s.behaviour = std::move(*b);
    }
  }
  if (config_.has_redis) {
    s.sync = cluster::StateSync::For(config_.redis, &SharedBlocklist());
    SetClusterPublisher(&cluster::StateSync::PublishToAll);
    if (cache_) s.sync->Register(cache_.get());
  }

  if (cache_ && !config_.cache.warm_file.empty()) {
    std::ifstream in(config_.cache.warm_file, std::ios::binary);
    if (!in) return absl::InvalidArgumentError(absl::StrCat("invalid config: cache.warm_file: cannot read ",
                                                            config_.cache.warm_file));
    std::stringstream text;
    text << in.rdbuf();
    // Each warm request goes through this engine's own pipeline (parse, signatures, fingerprint), so its key
    // is what a live request of that shape computes.
    auto fn = [this](const cache::WarmRequest& w) -> absl::StatusOr<cache::WarmFingerprint> {
      std::vector<guard_header> hdrs;
      for (const auto& [n, v] : w.headers) hdrs.push_back({{n.data(), n.size()}, {v.data(), v.size()}});
      guard_request r{};
      r.method = {w.method.data(), w.method.size()};
      r.path = {w.path.data(), w.path.size()};
      r.query = {w.query.data(), w.query.size()};
      r.body = {w.body.data(), w.body.size()};
      r.headers = hdrs.data();
      r.header_count = hdrs.size();
      request::FieldList fields;
      signatures::ScanState scan;
      request::Parse(r, limits_, &fields);
      matcher_->Scan(fields, &scan, nullptr, w.path);
      cache::WarmFingerprint out;
      fingerprint::RequestFingerprint fp = FingerprintFields(w.method, fields, scan.matches());
      if (!fp.cacheable) return absl::InvalidArgumentError("too many parameters to cache");
      out.fingerprint = fp.hash;
      out.signatures_flagged = fp.flagged > 0;
      return out;
    };
    std::vector<cache::WarmEntry> entries;
    cache::WarmReport report = cache::ParseWarmFile(text.str(), version_, fn, &entries);
    s.warmed = cache_->Warm(entries, CoarseUnixMs());
    (void)report;
  }
  return absl::OkStatus();
}

bool Engine::BlocklistFirst(const guard_request& req, int64_t now_ms, guard_verdict* v, int* listed) const {
  const SignalState& s = *signals_;
  CatchUpBlocklist();  // one atomic load unless another worker decided something
  if (!s.static_entries && SharedBlocklist().empty()) return false;  // nobody listed: no address to parse
  const std::string_view ip = View(req.client_ip), consumer = View(req.consumer_id);
  blocklist::IpAddress addr;
  const bool has_ip = !ip.empty() && blocklist::ParseIp(ip, &addr);
  auto lookup = [&](const blocklist::Blocklist& l) {
    return has_ip ? l.Lookup(addr, consumer, now_ms) : l.Lookup(std::string_view(), consumer, now_ms);
  };
  blocklist::LookupResult a = s.static_entries ? lookup(s.static_list) : blocklist::LookupResult{};
  blocklist::LookupResult b = lookup(SharedBlocklist());
  if (a.match == blocklist::Match::kAllowed || b.match == blocklist::Match::kAllowed) {
    *listed = 1;  // the allow list always wins, whoever banned
    return false;
  }
  if (a.match != blocklist::Match::kBanned && b.match != blocklist::Match::kBanned) return false;
  if (config_.mode == config::Mode::kMonitor) {
    *listed = 2;  // inspect as usual; SignalsAfterSignatures reports the ban
    return false;
  }
  ClearVerdict(v);
  v->threshold = config_.anomaly_threshold;
  v->score = config_.anomaly_threshold;
  MarkBehaviourBlock(config_, "blocklist", GUARD_VERDICT_BANNED, v);
  s.requests_banned.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void Engine::ShapeAndCache(const guard_request& req, int64_t now_ms, guard_verdict* v, bool* cache_attack) const {
  const SignalState& s = *signals_;
  const request::FieldList& fields = CurrentFields();
  const auto& matches = CurrentScan().matches();
  const bool attack = v->score >= config_.anomaly_threshold;
  const fingerprint::RequestFingerprint fp = FingerprintFields(View(req.method), fields, matches);
  {
    static constexpr char kHex[] = "0123456789abcdef";
    uint64_t parts[2] = {fp.hash.hi, fp.hash.lo};
    for (int p = 0; p < 2; ++p)
      for (int i = 0; i < 16; ++i) v->fingerprint[p * 16 + i] = kHex[(parts[p] >> (60 - 4 * i)) & 0xf];
    v->fingerprint[32] = '\0';
  }
  if (cache_ && fp.cacheable) {
    const bool flagged = fp.flagged > 0 || v->rule_count > 0;
    const cache::VerdictKey key{fp.hash, cache::RouteKey(View(req.route_id)), version_};
    std::optional<cache::CachedVerdict> hit = cache_->Lookup(key, flagged, now_ms);
    if (hit) {
      v->flags |= GUARD_VERDICT_CACHED;
      if (hit->kind == cache::VerdictKind::kMalicious) {
        *cache_attack = true;
        // A known attack's shape: block this variant even if its own matches score below the threshold.
        v->categories |= hit->categories;
        if (v->score < hit->score) v->score = hit->score;
        if (v->action == GUARD_ACTION_ALLOW) {
          v->action = config_.mode == config::Mode::kMonitor ? GUARD_ACTION_MONITOR : GUARD_ACTION_BLOCK;
          if (v->category[0] == '\0')
            CopyCut(v->category, sizeof v->category,
                    signatures::CategoryName(static_cast<guard_category>(LowestCategory(hit->categories))));
          CopyCut(v->target, sizeof v->target, "cache");
          common::NewIncidentId(v->incident_id, sizeof v->incident_id);
          s.requests_cache_blocked.fetch_add(1, std::memory_order_relaxed);
        }
      }
    } else if (attack && fp.flagged > 0) {
      // Only shapes that carry a flagged value's skeleton: a request blocked for something else (protocol
      // checks) has a benign-looking shape, and caching it as malicious would poison benign requests.
      cache::CachedVerdict cv{cache::VerdictKind::kMalicious, v->score, v->categories, v->rule_ids[0]};
      if (cache_->Insert(key, cv, true, now_ms).ok() && s.sync) {
        s.sync->EnsureStarted();
        s.sync->QueueStore(key, cv, config_.cache.l1.malicious_ttl_ms);
      }
    } else if (!flagged) {
      (void)cache_->Insert(key, cache::CachedVerdict{}, false, now_ms);
    } else if (s.sync) {
      // Flagged but not (yet) known here: another node may know this shape. The answer fills L1 for the
      // requests that follow; this one is decided without it.
      s.sync->EnsureStarted();
      s.sync->QueueFetch(cache_.get(), key);
    }
  }
}

void Engine::SignalsAfterSignatures(const guard_request& req, int64_t now_ms, int listed, guard_verdict* v) const {
  const SignalState& s = *signals_;
  const bool allowlisted = listed == 1;
  if (listed == 2 && v->action == GUARD_ACTION_ALLOW) {
    MarkBehaviourBlock(config_, "blocklist", GUARD_VERDICT_BANNED, v);  // monitor mode: MONITOR, reported
    s.requests_banned.fetch_add(1, std::memory_order_relaxed);
  }
  const request::FieldList& fields = CurrentFields();
  const auto& matches = CurrentScan().matches();
  const bool attack = v->score >= config_.anomaly_threshold;

  bool cache_attack = false;
  // Request-shape fingerprint and verdict cache. The shape of a request no rule matched holds no flagged
  // value's skeleton, so the cache can only know it as benign (every malicious entry holds one), and a
  // benign entry changes a later verdict in one way alone: it spares that request an AI escalation. Without
  // an ai section such a request skips both (verdict fingerprint ""): ~1 us, and benign shapes no longer
  // churn the LRU that keeps the known attacks (docs/fingerprint.md, Wiring).
  if (matches.empty() && !ai_) {
    v->fingerprint[0] = '\0';
  } else {
    ShapeAndCache(req, now_ms, v, &cache_attack);
  }
  if (s.sync) s.sync->EnsureStarted();  // the blocklist must flow even without cache traffic

  // Behaviour: profile, scenarios, decisions.
  if (!s.behaviour || allowlisted) return;
  const config::BehaviourSection& bs = config_.behaviour;
  const std::string_view ip = View(req.client_ip), consumer = View(req.consumer_id), path = View(req.path);
  behaviour::RequestEvent ev;
  ev.method = View(req.method);
  ev.route_template = fingerprint::RouteTemplateHash(path);
  ev.login_route = IsLoginRoute(bs, View(req.route_id), path);
  if (ev.login_route) {
    for (const request::Field& f : fields.fields()) {
      if (f.target != request::Target::kBodyArg && f.target != request::Target::kArg) continue;
      if (std::find(bs.username_fields.begin(), bs.username_fields.end(), f.name) == bs.username_fields.end()) continue;
      ev.username = fingerprint::StableHash64(f.value) | 1;
      break;
    }
  }
  ev.has_numeric_id = fingerprint::LastNumericSegment(path, &ev.numeric_id);
  // Only attacks count as signature hits: a low-severity match on a benign request must not feed a ban.
  ev.signature_score = attack || cache_attack ? v->score : 0;
  // Header fingerprint. Kong hands headers over as a Lua table (order lost): sort them by name so the
  // fingerprint is stable (docs/fingerprint.md, Client fingerprint).
  fingerprint::HeaderView hv[32];
  size_t nh = 0;
  for (size_t i = 0; i < req.header_count && nh < 32; ++i) hv[nh++] = {View(req.headers[i].name), View(req.headers[i].value)};
  std::sort(hv, hv + nh, [](const auto& a, const auto& b) { return a.name < b.name; });
  const fingerprint::HeaderFingerprint hf = fingerprint::FingerprintHeaders(std::span(hv, nh));
  ev.header_fingerprint = hf.hash;
  ev.ua_hash = hf.ua_hash;
  ev.ua_class = hf.ua_class;
  ev.header_traits = hf.traits;

  const behaviour::Assessment a = s.behaviour->OnRequest(ProfileKey(s, ip, consumer), ev, now_ms);
  Propagate(s, bs.engine, a, ip, consumer);
  v->score += a.score;  // a scenario's score is part of the request's anomaly score
  char target[GUARD_TARGET_LEN];
  // A decision outranks a score: the client is answered as decided (ban_status, or 429 with Retry-After).
  if (a.decision == behaviour::DecisionType::kBan && a.new_decision) {
    // Banned by this very request (the blocklist has it from now on; a ban in a profile that is no longer
    // on the blocklist was lifted by an admin and is not enforced).
    if (v->action == GUARD_ACTION_BLOCK) {
      v->flags |= GUARD_VERDICT_BANNED;  // blocked anyway: keep the attack's category
    } else {
      v->score = std::max(v->score, config_.anomaly_threshold);
      MarkBehaviourBlock(config_, ScenarioTarget("ban:", bs.engine, a.scenario, target), GUARD_VERDICT_BANNED, v);
    }
    s.requests_banned.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (v->action == GUARD_ACTION_BLOCK) return;
  if (a.decision == behaviour::DecisionType::kThrottle && config_.mode == config::Mode::kBlock) {
    v->action = GUARD_ACTION_RATE_LIMITED;
    v->flags |= GUARD_VERDICT_THROTTLED;
    v->categories |= uint64_t{1} << GUARD_CAT_BEHAVIOUR;
    CopyCut(v->category, sizeof v->category, signatures::CategoryName(GUARD_CAT_BEHAVIOUR));
    CopyCut(v->target, sizeof v->target, ScenarioTarget("throttle:", bs.engine, a.scenario, target));
    const int64_t left = a.decision_until_ms - now_ms;
    v->rate.retry_after_s = static_cast<uint64_t>(std::max<int64_t>(1, (left + 999) / 1000));
    s.requests_throttled.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (a.score > 0 && v->action == GUARD_ACTION_ALLOW && v->score >= config_.anomaly_threshold) {
    // A scenario's score tipped it over: name the first that overflowed.
    int first = -1;
    for (int i = 0; i < static_cast<int>(bs.engine.scenarios.size()) && first < 0; ++i)
      if (a.overflowed & (1u << i)) first = i;
    MarkBehaviourBlock(config_, ScenarioTarget("score:", bs.engine, first, target), 0, v);
  }
}

absl::Status Engine::Observe(const guard_response_info& r, guard_decision_info* out) const {
  if (out) std::memset(out, 0, sizeof *out);
  const SignalState& s = *signals_;
  if (!s.behaviour) return absl::OkStatus();
  const int64_t now_ms = CoarseUnixMs();
  const std::string_view ip = View(r.client_ip), consumer = View(r.consumer_id), path = View(r.path);
  blocklist::IpAddress addr;
  const bool has_ip = !ip.empty() && blocklist::ParseIp(ip, &addr);
  auto allowed = [&](const blocklist::Blocklist& l) {
    return (has_ip ? l.Lookup(addr, consumer, now_ms) : l.Lookup(std::string_view(), consumer, now_ms)).match ==
           blocklist::Match::kAllowed;
  };
  if ((s.static_entries && allowed(s.static_list)) || allowed(SharedBlocklist())) return absl::OkStatus();
  behaviour::ResponseEvent ev;
  ev.status = r.status;
  ev.login_route = IsLoginRoute(config_.behaviour, View(r.route_id), path);
  ev.login_failed = (r.flags & GUARD_RESP_LOGIN_FAILED) != 0;
  const behaviour::Assessment a = s.behaviour->OnResponse(ProfileKey(s, ip, consumer), ev, now_ms);
  Propagate(s, config_.behaviour.engine, a, ip, consumer);
  if (out) {
    out->decision = static_cast<int32_t>(a.decision);
    out->is_new = a.new_decision ? 1 : 0;
    out->until_unix_ms = a.decision_until_ms;
    if (a.scenario >= 0)
      CopyCut(out->scenario, sizeof out->scenario, config_.behaviour.engine.scenarios[a.scenario].name);
  }
  return absl::OkStatus();
}

}  // namespace guard::engine
