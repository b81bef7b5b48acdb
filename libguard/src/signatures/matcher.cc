#include "signatures/matcher.h"

#include <algorithm>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"

namespace guard::signatures {
namespace {

std::atomic<uint64_t> g_next_matcher_id{1};

// Between fields in a group's joined scan: line breaks keep ^ and $ true at field edges (multi-line
// patterns), and the \x01 between them stops \s, \w and [\r\n]-led patterns from running on into the
// next field, so benign requests rarely need the field-by-field pass.
constexpr std::string_view kSeparator("\n\x01\n", 3);

struct ScanContext {
  const std::vector<uint32_t>* pattern_rule;
  const std::vector<Rule>* rules;
  const request::Field* field;
  uint32_t field_index;
  std::vector<Match>* matches;
  const Exclusions* exclusions;
  std::string_view path;
};

int OnMatch(unsigned int id, unsigned long long, unsigned long long, unsigned int, void* ctx_ptr) {
  auto* ctx = static_cast<ScanContext*>(ctx_ptr);
  const uint32_t rule_index = (*ctx->pattern_rule)[id];
  const Rule& rule = (*ctx->rules)[rule_index];
  if (!rule.Applies(*ctx->field)) return 0;
  for (const Match& m : *ctx->matches) {
    if (m.rule_index == rule_index) return 0;  // a rule scores once per request
  }
  if (ctx->exclusions && ctx->exclusions->Excludes(rule.id, ctx->field, ctx->path)) return 0;
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

  // One group per distinct transform chain, sorted so that chains sharing a prefix are neighbours: a
  // field's transform results for the shared prefix are then reused from the previous group. Rules that
  // read only named fields (headers:content-length, ...) get groups of their own: they read few fields,
  // often with broad patterns, so they skip the joined prefilter (Scan) and must not spoil it for others.
  auto named_only = [&](uint32_t ri) {
    const auto& ts = m->rules_[ri].targets;
    return std::all_of(ts.begin(), ts.end(), [](const RuleTarget& t) { return !t.name.empty(); });
  };
  std::map<std::pair<std::vector<transforms::Transform>, bool>, std::vector<uint32_t>> rules_of;
  for (uint32_t ri = 0; ri < m->rules_.size(); ++ri) rules_of[{m->rules_[ri].transforms, named_only(ri)}].push_back(ri);
  for (auto& [key, rule_indexes] : rules_of) {
    const auto& chain = key.first;
    Group g{chain};
    g.named_only = key.second;
    if (!m->groups_.empty()) {
      const auto& prev = m->groups_.back().chain;
      while (g.shared_prefix < prev.size() && g.shared_prefix < chain.size() &&
             prev[g.shared_prefix] == chain[g.shared_prefix]) {
        ++g.shared_prefix;
      }
    }
    if (m->groups_.size() == 64) return absl::InvalidArgumentError("more than 64 rule groups (distinct transform chains)");
    const uint64_t bit = uint64_t{1} << m->groups_.size();
    for (uint32_t ri : rule_indexes) {
      for (const RuleTarget& t : m->rules_[ri].targets) {
        if (t.custom_only) {
          m->custom_header_groups_ |= bit;
        } else if (t.name.empty()) {
          for (size_t k = 0; k < static_cast<size_t>(request::Target::kCount); ++k) {
            if (t.kinds & (1u << k)) m->any_name_groups_[k] |= bit;
          }
        } else {
          auto same = std::find_if(m->named_.begin(), m->named_.end(),
                                   [&](const NamedTarget& n) { return n.kinds == t.kinds && n.name == t.name; });
          if (same == m->named_.end()) {
            m->named_.push_back({t.kinds, t.name, bit});
          } else {
            same->groups |= bit;
          }
        }
      }
    }
    m->max_chain_ = std::max(m->max_chain_, chain.size());
    m->groups_.push_back(std::move(g));
  }
  for (size_t gi = 0; gi < m->groups_.size(); ++gi) {
    Group& g = m->groups_[gi];
    std::vector<const char*> exprs;
    std::vector<unsigned> flags, ids;
    for (uint32_t ri = 0; ri < m->rules_.size(); ++ri) {
      const Rule& r = m->rules_[ri];
      if (r.transforms != g.chain || named_only(ri) != g.named_only) continue;
      for (const std::string& p : r.patterns) {
        ids.push_back(static_cast<unsigned>(g.pattern_rule.size()));
        g.pattern_rule.push_back(ri);
        exprs.push_back(p.c_str());
        // MULTILINE: ^ and $ hold at line breaks, which is what lets a group scan all its fields joined by
        // '\n' at once (Scan). Within one field it lets anchored patterns also see each line of multi-line
        // values, which for injection signatures is a feature.
        flags.push_back(HS_FLAG_DOTALL | HS_FLAG_SINGLEMATCH | HS_FLAG_MULTILINE |
                        (r.case_sensitive ? 0 : HS_FLAG_CASELESS));
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

uint64_t Matcher::GroupsReading(const request::Field& f) const {
  const uint32_t bit = 1u << static_cast<uint32_t>(f.target);
  uint64_t groups = any_name_groups_[static_cast<size_t>(f.target)];
  if (f.target == request::Target::kHeader && custom_header_groups_ && !IsStandardHeader(f.name)) {
    groups |= custom_header_groups_;
  }
  for (const NamedTarget& n : named_) {
    if ((n.kinds & bit) && f.name.size() == n.name.size() && absl::EqualsIgnoreCase(common::ToAbsl(f.name), n.name)) {
      groups |= n.groups;
    }
  }
  return groups;
}

// Field-major: each field runs through the groups in order, reusing the transform prefix the previous
// group it was read by computed (levels_[d] holds the value after d + 1 transforms of that chain).
bool Matcher::Scan(const request::FieldList& fields, ScanState* state, const Exclusions* exclusions,
                   std::string_view path) const {
  state->matches_.clear();
  if (!PrepareScratch(state)) return false;
  // Sized before any view into a level exists: growing later would move short (SSO) strings.
  if (state->levels_.size() < max_chain_) state->levels_.resize(max_chain_);
  if (state->batches_.size() < groups_.size()) state->batches_.resize(groups_.size());
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    state->batches_[gi].joined.clear();
    state->batches_[gi].slices.clear();
  }

  // Transform each field once per chain (reusing shared prefixes) and append it to its groups' batches.
  const auto& fs = fields.fields();
  for (uint32_t fi = 0; fi < fs.size(); ++fi) {
    const request::Field& f = fs[fi];
    size_t valid = 0;  // levels computed for the chain of the last group that read this field
    const Group* last = nullptr;
    for (uint64_t reading = GroupsReading(f); reading; reading &= reading - 1) {
      const size_t gi = __builtin_ctzll(reading);
      const Group& g = groups_[gi];
      // Levels stay valid only up to what this chain shares with the last chain computed for the field.
      if (last && last != &g - 1) {
        size_t common = 0;
        while (common < valid && common < g.chain.size() && last->chain[common] == g.chain[common]) ++common;
        valid = common;
      } else if (last) {
        valid = std::min(valid, g.shared_prefix);
      }
      std::string_view v = valid ? state->levels_[valid - 1].value : f.value;
      for (size_t d = valid; d < g.chain.size(); ++d) {
        ScanState::Level& lv = state->levels_[d];
        v = transforms::Apply(std::span<const transforms::Transform>(&g.chain[d], 1), v, &lv.a, &lv.b);
        lv.value = v;
      }
      valid = g.chain.size();
      last = &g;
      ScanState::Batch& b = state->batches_[gi];
      const auto begin = static_cast<uint32_t>(b.joined.size());
      b.joined.append(v.data() ? v.data() : "", v.size());
      b.slices.push_back({fi, begin, static_cast<uint32_t>(b.joined.size())});
      b.joined.append(kSeparator);
    }
  }

  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    const Group& g = groups_[gi];
    ScanState::Batch& b = state->batches_[gi];
    if (b.slices.empty()) continue;
    // Prefilter: patterns are compiled multi-line, so ^ and $ also hold at the line breaks between fields
    // and any match within one field is a match here too (a superset: a match may straddle two fields).
    // Groups whose rules all read named fields (headers:content-length, ...) read few fields, often with
    // broad patterns: their fields are scanned one by one straight away, as is a lone field (a prefilter
    // would only scan it twice).
    bool any = g.named_only || b.slices.size() == 1;
    hs_error_t rc = any ? HS_SUCCESS : hs_scan(g.db, b.joined.data(), static_cast<unsigned>(b.joined.size()), 0, state->scratch_,
                            [](unsigned, unsigned long long, unsigned long long, unsigned, void* hit) {
                              *static_cast<bool*>(hit) = true;
                              return 1;  // one is enough: stop scanning
                            },
                            &any);
    if (rc != HS_SUCCESS && rc != HS_SCAN_TERMINATED) return false;
    if (!any) continue;
    for (const ScanState::Slice& sl : b.slices) {
      ScanContext ctx{&g.pattern_rule, &rules_, &fs[sl.field_index], sl.field_index, &state->matches_,
                      exclusions, path};
      rc = hs_scan(g.db, b.joined.data() + sl.begin, sl.end - sl.begin, 0, state->scratch_, OnMatch, &ctx);
      if (rc != HS_SUCCESS) return false;
    }
  }
  return true;
}

}  // namespace guard::signatures
