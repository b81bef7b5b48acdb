#include "engine/engine.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <tuple>

#include "absl/strings/str_cat.h"
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

ThreadState& LocalState() {
  thread_local ThreadState state;
  return state;
}

// Compiling the signatures costs hundreds of milliseconds, and most plugin instances share their rule
// options, so engines share compiled matchers: one per (paranoia level, disabled rules) while any engine
// holds it. Taken only when an engine is built (configure), never on the request path.
absl::StatusOr<std::shared_ptr<const signatures::Matcher>> SharedMatcher(const signatures::CompileOptions& opts) {
  using Key = std::tuple<int, std::vector<uint32_t>>;
  static std::mutex mu;
  static std::map<Key, std::weak_ptr<const signatures::Matcher>> cache;
  Key key{opts.paranoia_level, opts.disabled_rules};
  std::sort(std::get<1>(key).begin(), std::get<1>(key).end());

  std::lock_guard<std::mutex> lock(mu);
  if (auto it = cache.find(key); it != cache.end()) {
    if (auto m = it->second.lock()) return m;
  }
  auto rules = signatures::ParseRules(signatures::CoreRulesJson());
  if (!rules.ok()) return absl::InternalError(absl::StrCat("core rules: ", rules.status().message()));
  auto compiled = signatures::Matcher::Compile(*rules, opts);
  if (!compiled.ok()) return compiled.status();
  std::shared_ptr<const signatures::Matcher> m = std::move(*compiled);
  for (auto it = cache.begin(); it != cache.end();) {  // drop entries whose matcher is gone
    it = it->second.expired() ? cache.erase(it) : std::next(it);
  }
  cache[key] = m;
  return m;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Engine>> Engine::Create(std::string_view config_json) {
  auto cfg = config::ParseConfig(config_json);
  if (!cfg.ok()) return cfg.status();
  std::unique_ptr<Engine> e(new Engine());
  e->config_ = std::move(*cfg);
  e->limits_.max_body_bytes = e->config_.inspect_body ? static_cast<size_t>(e->config_.max_body_bytes) : 0;

  signatures::CompileOptions opts;
  opts.paranoia_level = e->config_.paranoia_level;
  opts.disabled_rules = e->config_.disabled_rules;
  auto matcher = SharedMatcher(opts);
  if (!matcher.ok()) return matcher.status();
  e->matcher_ = std::move(*matcher);
  e->protocol_ = std::make_unique<protocol::Checker>(opts.paranoia_level, opts.disabled_rules);
  return e;
}

absl::Status Engine::Inspect(const guard_request& req, guard_verdict* verdict) const {
  ThreadState& st = LocalState();
  request::Parse(req, limits_, &st.fields);
  const bool scanned = matcher_->Scan(st.fields, &st.scan);
  st.protocol.clear();
  protocol_->Run(req, st.fields, &st.protocol);

  st.findings.clear();
  for (const signatures::Match& m : st.scan.matches()) {
    const signatures::Rule& r = matcher_->rules()[m.rule_index];
    const request::Field& f = st.fields.fields()[m.field_index];
    st.findings.push_back({r.id, r.category, r.severity, request::TargetName(f.target), f.name});
  }
  for (const protocol::Finding& p : st.protocol) {
    st.findings.push_back({p.id, GUARD_CAT_PROTOCOL, p.severity, p.target, {}});
  }
  FillVerdict(config_, st.findings, (st.fields.flags() & request::kBodyUninspected) != 0, verdict);
  if (!scanned) return absl::InternalError("signature scan failed (Hyperscan error)");
  return absl::OkStatus();
}

}  // namespace guard::engine
