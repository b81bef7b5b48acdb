#include "engine/engine.h"

#include "absl/strings/str_cat.h"
#include "engine/verdict.h"

namespace guard::engine {
namespace {

// Per-thread scratch shared by every engine used on the thread (nginx workers are single-threaded; tools
// such as guardctl may run several threads, each with its own).
struct ThreadState {
  request::FieldList fields;
  signatures::ScanState scan;
};

ThreadState& LocalState() {
  thread_local ThreadState state;
  return state;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Engine>> Engine::Create(std::string_view config_json) {
  auto cfg = config::ParseConfig(config_json);
  if (!cfg.ok()) return cfg.status();
  std::unique_ptr<Engine> e(new Engine());
  e->config_ = std::move(*cfg);
  e->limits_.max_body_bytes = e->config_.inspect_body ? static_cast<size_t>(e->config_.max_body_bytes) : 0;

  auto rules = signatures::ParseRules(signatures::CoreRulesJson());
  if (!rules.ok()) return absl::InternalError(absl::StrCat("core rules: ", rules.status().message()));
  signatures::CompileOptions opts;
  opts.paranoia_level = e->config_.paranoia_level;
  opts.disabled_rules = e->config_.disabled_rules;
  auto matcher = signatures::Matcher::Compile(*rules, opts);
  if (!matcher.ok()) return matcher.status();
  e->matcher_ = std::move(*matcher);
  return e;
}

absl::Status Engine::Inspect(const guard_request& req, guard_verdict* verdict) const {
  ThreadState& st = LocalState();
  request::Parse(req, limits_, &st.fields);
  const bool scanned = matcher_->Scan(st.fields, &st.scan);
  FillVerdict(config_, *matcher_, st.fields, st.scan.matches(), verdict);
  if (!scanned) return absl::InternalError("signature scan failed (Hyperscan error)");
  return absl::OkStatus();
}

}  // namespace guard::engine
