#include "engine/engine.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "engine/behaviour_node.h"
#include "engine/node_table.h"
#include "engine/signals.h"
#include "engine/verdict.h"

namespace guard::engine {
namespace {

// Per-thread scratch shared by every engine used on the thread (nginx workers are single-threaded; tools
// such as guardctl may run several threads, each with its own).
struct ThreadState {
  request::FieldList fields;
  signatures::ScanState scan;
  std::vector<protocol::Finding> protocol;
  std::vector<Finding> findings;
};

}  // namespace

// The fields and matches of the request being inspected on this thread, for the signal stages.
const request::FieldList& CurrentFields();
const signatures::ScanState& CurrentScan();

namespace {

// The thread_local accessors are not inlined: inlined, GCC recomputes a thread_local's address (a call to
// __tls_get_addr, as the library is loaded with dlopen) at nearly every use instead of keeping the
// reference, 14 calls in Inspect alone. One call each, and callers keep the reference.
[[gnu::noinline]] quota::Decision& LocalDecision() {
  thread_local quota::Decision d;  // ~400 bytes: kept off the worker's stack frame, reused
  return d;
}

[[gnu::noinline]] ThreadState& LocalState() {
  thread_local ThreadState state;
  return state;
}

}  // namespace

const request::FieldList& CurrentFields() { return LocalState().fields; }
const signatures::ScanState& CurrentScan() { return LocalState().scan; }

namespace {

// Compiling the signatures costs hundreds of milliseconds, and most plugin instances share their rule
// options, so engines share compiled matchers: one per (paranoia level, disabled rules) while any engine
// holds it. Taken only when an engine is built (configure), never on the request path.
absl::StatusOr<std::shared_ptr<const signatures::Matcher>> SharedMatcher(const signatures::CompileOptions& opts,
                                                                         const config::Config& cfg) {
  using Key = std::tuple<int, std::vector<uint32_t>, std::string, size_t>;
  static std::mutex mu;
  static std::map<Key, std::weak_ptr<const signatures::Matcher>> cache;
  Key key{opts.paranoia_level, opts.disabled_rules, cfg.custom_rules_json, opts.max_body_bytes};
  std::sort(std::get<1>(key).begin(), std::get<1>(key).end());

  std::lock_guard<std::mutex> lock(mu);
  if (auto it = cache.find(key); it != cache.end()) {
    if (auto m = it->second.lock()) return m;
  }
  auto rules = signatures::ParseRules(signatures::CoreRulesJson());
  if (!rules.ok()) return absl::InternalError(absl::StrCat("core rules: ", rules.status().message()));
  for (const signatures::Rule& r : cfg.custom_rules) {
    for (const signatures::Rule& core : rules->rules) {
      if (core.id == r.id) {
        return absl::InvalidArgumentError(
            absl::StrCat("invalid config: custom_rules: rule ", r.id, ": id already used by a core rule"));
      }
    }
    rules->rules.push_back(r);
  }
  auto compiled = signatures::Matcher::Compile(*rules, opts);
  if (!compiled.ok()) {
    // The core set compiles (a test proves it): a failure here is the config's custom rules.
    return cfg.custom_rules.empty() ? compiled.status()
                                    : absl::InvalidArgumentError(absl::StrCat(
                                          "invalid config: custom_rules: ", compiled.status().message()));
  }
  std::shared_ptr<const signatures::Matcher> m = std::move(*compiled);
  for (auto it = cache.begin(); it != cache.end();) {  // drop entries whose matcher is gone
    it = it->second.expired() ? cache.erase(it) : std::next(it);
  }
  cache[key] = m;
  return m;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Engine>> Engine::Create(std::string_view config_json, Identity id) {
  auto cfg = config::ParseConfig(config_json);
  if (!cfg.ok()) return cfg.status();
  std::unique_ptr<Engine> e(new Engine());
  e->config_ = std::move(*cfg);
  e->limits_.max_body_bytes = e->config_.inspect_body ? static_cast<size_t>(e->config_.max_body_bytes) : 0;

  signatures::CompileOptions opts;
  opts.paranoia_level = e->config_.paranoia_level;
  opts.disabled_rules = e->config_.disabled_rules;
  opts.max_body_bytes = e->limits_.max_body_bytes;  // per-rule databases only if bodies reach 4 KiB
  auto matcher = SharedMatcher(opts, e->config_);
  if (!matcher.ok()) return matcher.status();
  e->matcher_ = std::move(*matcher);
  e->protocol_ = std::make_unique<protocol::Checker>(opts.paranoia_level, opts.disabled_rules);

  if (e->config_.has_quota) {
    auto table = NodeTableOrLocal();
    if (!table.ok()) return table.status();
    quota::EngineOptions qopts;
    qopts.node_id = id.node_id.empty() ? "node" : id.node_id;
    auto q = quota::QuotaEngine::Create(e->config_.quota, *table, id.instance_id.empty() ? "default" : id.instance_id,
                                        std::move(qopts));
    if (!q.ok()) return q.status();
    e->quota_ = std::move(*q);
  }
  if (absl::Status st = e->BuildSignals(id); !st.ok()) return st;
  if (absl::Status st = e->InitAi(); !st.ok()) return st;  // AI escalation (engine_ai.cc)
  return e;
}

void Engine::CheckQuota(const guard_request& req, guard_verdict* verdict) const {
  quota::RequestKeys keys;
  keys.consumer = {req.consumer_id.ptr, req.consumer_id.len};
  keys.credential = {req.credential_id.ptr, req.credential_id.len};
  keys.ip = {req.client_ip.ptr, req.client_ip.len};
  keys.route = {req.route_id.ptr, req.route_id.len};
  keys.service = {req.service_id.ptr, req.service_id.len};
  keys.headers = req.headers;
  keys.header_count = req.header_count;
  keys.consumer_tags = req.consumer_tags;
  keys.consumer_tag_count = req.consumer_tag_count;
  quota::Decision& d = LocalDecision();
  quota_->Check(keys, req.cost == 0 ? 1 : req.cost, quota::MonotonicNowNs(), &d);
  FillRateLimit(*quota_, d, &verdict->rate);
  if (!d.admitted) verdict->action = GUARD_ACTION_RATE_LIMITED;
}

absl::Status Engine::Inspect(const guard_request& req, guard_verdict* verdict) const {
  // Blocklist first: a banned client costs no parsing and no signatures; an allowlisted one skips behaviour.
  const int64_t now_ms = CoarseUnixMs();
  int listed = 0;
  if (BlocklistFirst(req, now_ms, verdict, &listed)) return absl::OkStatus();
  ThreadState& st = LocalState();
  request::Parse(req, limits_, &st.fields);
  // Exclusions name paths as operators write them: the raw path (an encoded variant of an excluded path
  // is simply not excluded, the safe direction).
  const std::string_view path(req.path.ptr ? req.path.ptr : "", req.path.len);
  const signatures::Exclusions* excl = config_.exclusions.empty() ? nullptr : &config_.exclusions;
  const bool scanned = matcher_->Scan(st.fields, &st.scan, excl, path);
  st.protocol.clear();
  protocol_->Run(req, st.fields, &st.protocol);

  st.findings.clear();
  for (const signatures::Match& m : st.scan.matches()) {
    const signatures::Rule& r = matcher_->rules()[m.rule_index];
    const request::Field& f = st.fields.fields()[m.field_index];
    st.findings.push_back({r.id, r.category, r.severity, request::TargetName(f.target), f.name});
  }
  for (const protocol::Finding& p : st.protocol) {
    if (excl && excl->Excludes(p.id, nullptr, path)) continue;  // protocol findings have no field
    st.findings.push_back({p.id, GUARD_CAT_PROTOCOL, p.severity, p.target, {}});
  }
  FillVerdict(config_, st.findings, (st.fields.flags() & request::kBodyUninspected) != 0, verdict);
  SignalsAfterSignatures(req, now_ms, listed, verdict);
  // Quota after signatures: a blocked attack is answered without spending anyone's quota (it must not let an
  // attacker drain a victim's consumer or IP bucket, and it is refused anyway). A monitored one is proxied, so
  // it pays like any other request.
  if (quota_ && verdict->action != GUARD_ACTION_BLOCK && verdict->action != GUARD_ACTION_RATE_LIMITED) {
    CheckQuota(req, verdict);
  }
  MarkEscalation(req, verdict);  // AI escalation (engine_ai.cc): last, on the final action
  if (!scanned) return absl::InternalError("signature scan failed (Hyperscan error)");
  return absl::OkStatus();
}

}  // namespace guard::engine
