#include "signatures/matcher.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"

namespace guard::signatures {
namespace {

std::atomic<uint64_t> g_next_matcher_id{1};

struct ScanContext {
  const std::vector<uint32_t>* pattern_rule;
  const std::vector<Rule>* rules;
  const request::Field* field;
  uint32_t field_index;
  std::vector<Match>* matches;
};

int OnMatch(unsigned int id, unsigned long long, unsigned long long, unsigned int, void* ctx_ptr) {
  auto* ctx = static_cast<ScanContext*>(ctx_ptr);
  const uint32_t rule_index = (*ctx->pattern_rule)[id];
  if (!(*ctx->rules)[rule_index].Applies(*ctx->field)) return 0;
  for (const Match& m : *ctx->matches) {
    if (m.rule_index == rule_index) return 0;  // a rule scores once per request
  }
  ctx->matches->push_back({rule_index, ctx->field_index});
  return 0;
}

}  // namespace

ScanState::~ScanState() { hs_free_scratch(scratch_); }

Matcher::~Matcher() {
  for (Group& g : groups_) hs_free_database(g.db);
}

absl::StatusOr<std::unique_ptr<Matcher>> Matcher::Compile(const RuleSet& set, const CompileOptions& opts) {
  std::unique_ptr<Matcher> m(new Matcher());
  m->id_ = g_next_matcher_id.fetch_add(1);
  m->version_ = set.version;
  for (const Rule& r : set.rules) {
    if (r.paranoia > opts.paranoia_level) continue;
    if (std::find(opts.disabled_rules.begin(), opts.disabled_rules.end(), r.id) != opts.disabled_rules.end()) continue;
    m->rules_.push_back(r);
  }

  // One group per distinct transform chain, in a stable order.
  std::map<std::vector<transforms::Transform>, size_t> group_of;
  for (uint32_t ri = 0; ri < m->rules_.size(); ++ri) {
    const Rule& r = m->rules_[ri];
    auto [it, inserted] = group_of.try_emplace(r.transforms, m->groups_.size());
    if (inserted) m->groups_.push_back(Group{r.transforms});
    m->groups_[it->second].target_kinds |= r.target_kinds();
  }
  for (size_t gi = 0; gi < m->groups_.size(); ++gi) {
    Group& g = m->groups_[gi];
    std::vector<const char*> exprs;
    std::vector<unsigned> flags, ids;
    for (uint32_t ri = 0; ri < m->rules_.size(); ++ri) {
      const Rule& r = m->rules_[ri];
      if (r.transforms != g.chain) continue;
      for (const std::string& p : r.patterns) {
        ids.push_back(static_cast<unsigned>(g.pattern_rule.size()));
        g.pattern_rule.push_back(ri);
        exprs.push_back(p.c_str());
        flags.push_back(HS_FLAG_DOTALL | HS_FLAG_SINGLEMATCH | (r.case_sensitive ? 0 : HS_FLAG_CASELESS));
      }
    }
    hs_compile_error_t* err = nullptr;
    if (hs_compile_multi(exprs.data(), flags.data(), ids.data(), static_cast<unsigned>(exprs.size()), HS_MODE_BLOCK,
                         nullptr, &g.db, &err) != HS_SUCCESS) {
      std::string msg = absl::StrCat("Hyperscan: ", err ? err->message : "compile failed");
      if (err && err->expression >= 0) {
        const Rule& bad = m->rules_[g.pattern_rule[err->expression]];
        msg = absl::StrCat("rule ", bad.id, ": pattern '", exprs[err->expression], "': ", err->message);
      }
      hs_free_compile_error(err);
      return absl::InvalidArgumentError(msg);
    }
  }
  return m;
}

bool Matcher::PrepareScratch(ScanState* state) const {
  for (uint64_t id : state->ready_for_) {
    if (id == id_) return true;
  }
  // First scan of this matcher on this thread: grow the scratch to fit every group's database. Scratch
  // only grows, so once sized for a matcher it stays valid for it.
  for (const Group& g : groups_) {
    if (hs_alloc_scratch(g.db, &state->scratch_) != HS_SUCCESS) return false;
  }
  state->ready_for_[state->ready_next_++ % 8] = id_;
  return true;
}

bool Matcher::Scan(const request::FieldList& fields, ScanState* state) const {
  state->matches_.clear();
  if (!PrepareScratch(state)) return false;
  const auto& fs = fields.fields();
  for (const Group& g : groups_) {
    for (uint32_t fi = 0; fi < fs.size(); ++fi) {
      const request::Field& f = fs[fi];
      if (!(g.target_kinds & (1u << static_cast<uint32_t>(f.target)))) continue;
      std::string_view v = transforms::Apply(g.chain, f.value, &state->buf_a_, &state->buf_b_);
      ScanContext ctx{&g.pattern_rule, &rules_, &f, fi, &state->matches_};
      hs_error_t rc = hs_scan(g.db, v.data(), static_cast<unsigned>(v.size()), 0, state->scratch_, OnMatch, &ctx);
      if (rc != HS_SUCCESS) return false;
    }
  }
  return true;
}

}  // namespace guard::signatures
