#include "signatures/matcher.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "signatures/compile_jobs.h"
#include "signatures/joined_pattern.h"

namespace guard::signatures {
namespace {

std::atomic<uint64_t> g_next_matcher_id{1};

// Between slices in the joined scan, one byte that \s, \w and [\r\n] do not match, with the joined
// database's anchors also holding at it (joined_pattern.h). When a pattern's anchors cannot be rewritten so
// (a custom rule, say), the joined scan uses the original patterns and line breaks around it instead, which
// keep ^ and $ true at slice edges (patterns are compiled multi-line) but wake \s-led patterns ([\r\n]-led
// ones are not in the joined database: DbClass::line_db).
constexpr std::string_view kSeparator(&kJoinSeparatorByte, 1);
constexpr std::string_view kLineSeparator("\n\x01\n", 3);

// Fields this long or longer are not joined: each of their values is scanned alone, rule by rule, each
// rule's scan stopping at its first match (when the per-rule databases exist: CompileOptions::max_body_bytes).
// In one database, a pattern keeps costing at every occurrence even after it matched (its engine still runs
// and reports, with or without SINGLEMATCH): a body made of one attack repeated (`../`, `${::-`) cost 5 to 14
// times a benign body per byte at 8-64 KiB. Rule by rule, such a rule costs a few bytes; the price is one
// Hyperscan call per rule, which only values this long make negligible. Without per-rule databases a long
// value is scanned with its class's joined database: the same matches, at the cost per byte above.
constexpr size_t kJoinMaxBytes = 4096;
// The rule-by-rule loop skips rules already decided on an earlier field, so it does not tell a field clean:
// only fields too short for it may be memoised (Scan).
static_assert(CleanMemo::kMaxKeyBytes < kJoinMaxBytes);

// Whether the pattern can match an empty string (`^$`, `^\s*$`): joined, it would match a lone separator
// byte, which is in no slice, so its matches are confirmed rather than recorded. Unsure means yes.
bool MayMatchEmpty(const std::string& pattern, unsigned flags) {
  hs_expr_info_t* info = nullptr;
  hs_compile_error_t* err = nullptr;
  if (hs_expression_info(pattern.c_str(), flags, &info, &err) != HS_SUCCESS) {
    hs_free_compile_error(err);
    return true;
  }
  const bool empty = info->min_width == 0;
  std::free(info);  // allocated with Hyperscan's misc allocator, malloc by default
  return empty;
}

// Whether the value holds \r or \n (DbClass::line_db): 8 bytes at a time, as it runs on every new slice.
bool HasLineBreak(std::string_view v) {
  constexpr uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
  auto zero_byte = [](uint64_t x) { return (x - kOnes) & ~x & kHigh; };
  size_t i = 0;
  for (; i + 8 <= v.size(); i += 8) {
    uint64_t x;
    std::memcpy(&x, v.data() + i, 8);
    if (zero_byte(x ^ (kOnes * '\n')) | zero_byte(x ^ (kOnes * '\r'))) return true;
  }
  for (; i < v.size(); ++i)
    if (v[i] == '\n' || v[i] == '\r') return true;
  return false;
}

unsigned HsFlags(const Rule& r, bool single_match) {
  // MULTILINE: ^ and $ hold at line breaks, which is what lets a scan of slices joined by '\n' see every
  // match a slice alone has (Scan). Within one field it lets anchored patterns also see each line of
  // multi-line values, which for injection signatures is a feature.
  return HS_FLAG_DOTALL | HS_FLAG_MULTILINE | (single_match ? HS_FLAG_SINGLEMATCH : 0) |
         (r.case_sensitive ? 0 : HS_FLAG_CASELESS);
}

}  // namespace

struct Matcher::AloneContext {
  const Matcher* matcher;
  const std::vector<PatternRef>* patterns;
  const std::vector<Rule>* rules;
  uint64_t groups;  // groups whose value this slice is
  const request::Field* field;
  uint32_t field_index;
  std::vector<Match>* matches;
  const Exclusions* exclusions;
  std::string_view path;
  bool one_rule = false;  // a rule's own database: once the rule is decided for this value, stop the scan
  const std::vector<char>* skip = nullptr;  // expression ids to ignore (DbClass::rewritten)
  uint8_t* field_flag = nullptr;             // ScanState::field_flags_ of this field
};

struct Matcher::JoinedContext {
  const Matcher* matcher;
  unsigned slack;  // 1 when a rewritten $ may have consumed the separator after a slice
  const std::vector<PatternRef>* patterns;
  const std::vector<char>* fenced;  // DbClass::fenced
  const std::vector<Rule>* rules;
  const std::vector<request::Field>* fields;
  std::vector<ScanState::Slice>* slices;
  size_t cursor;  // slice of the last match: matches come (mostly) in order of end offset
  ScanState* state;
  const Exclusions* exclusions;
  std::string_view path;
};

// Records that `rule` matched field `fi`, unless an exclusion removes it: once per rule, on the first field
// in request order.
void Matcher::Record(uint32_t rule, uint32_t fi, const request::Field& f, std::vector<Match>* matches,
                     const Exclusions* exclusions, std::string_view path) const {
  // A rule scores once per request, reported on the first field (in request order) it matched: buckets
  // are scanned class by class, so a later field may have been recorded first.
  Match* seen = nullptr;
  for (Match& m : *matches) {
    if (m.rule_index == rule) {
      if (m.field_index <= fi) return;
      seen = &m;
      break;
    }
  }
  if (exclusions && exclusions->Excludes(rules_[rule].id, &f, path)) return;
  if (seen) {
    seen->field_index = fi;
  } else {
    matches->push_back({rule, fi});
  }
}

int Matcher::OnAloneMatch(unsigned int id, unsigned long long, unsigned long long, unsigned int, void* ctx_ptr) {
  auto* ctx = static_cast<AloneContext*>(ctx_ptr);
  if (ctx->skip && (*ctx->skip)[id]) return 0;
  const PatternRef& p = (*ctx->patterns)[id];
  if (!((ctx->groups >> p.group) & 1)) return 0;  // a pattern of another chain: this is not its value
  const Rule& rule = (*ctx->rules)[p.rule];
  if (!rule.Applies(*ctx->field)) return 0;
  *ctx->field_flag = ScanState::kMatched;  // before exclusions and de-duplication: not clean for the memo
  ctx->matcher->Record(p.rule, ctx->field_index, *ctx->field, ctx->matches, ctx->exclusions, ctx->path);
  return ctx->one_rule ? 1 : 0;  // 1 stops the scan: nothing more to learn from this database
}

// A match in the joined buffer is a candidate only: it may have started in an earlier slice. Each match a
// slice has alone ends inside that slice (in the joined buffer too, see Scan), so the slice where a
// candidate ends is the one to confirm, if the pattern's group produced it and its rule reads the field.
int Matcher::OnJoinedMatch(unsigned int id, unsigned long long, unsigned long long to, unsigned int, void* ctx_ptr) {
  auto* ctx = static_cast<JoinedContext*>(ctx_ptr);
  auto& slices = *ctx->slices;
  const unsigned slack = ctx->slack;
  size_t i = ctx->cursor;
  if (to <= slices[i].begin || to > slices[i].end + slack) {
    if (to > slices[i].end + slack) {
      while (i + 1 < slices.size() && to > slices[i].end + slack) ++i;
    } else {
      auto it = std::lower_bound(slices.begin(), slices.end(), to, [slack](const ScanState::Slice& s, unsigned long long t) {
        return s.end + slack < t;
      });
      i = static_cast<size_t>(it - slices.begin());
      if (i == slices.size()) return 0;
    }
    ctx->cursor = i;
  }
  ScanState::Slice& s = slices[i];
  if (s.confirm || to <= s.begin || to > s.end + slack) return 0;  // already to confirm, or ends in a separator
  const PatternRef& p = (*ctx->patterns)[id];
  if (!((s.groups >> p.group) & 1)) return 0;
  const request::Field& f = (*ctx->fields)[s.field_index];
  if (!(*ctx->rules)[p.rule].Applies(f)) return 0;
  if ((*ctx->fenced)[id]) {
    // A fenced pattern cannot match across the separator: this match lies in the slice, as it would alone.
    ctx->state->field_flags_[s.field_index] = ScanState::kMatched;
    ctx->matcher->Record(p.rule, s.field_index, f, &ctx->state->matches_, ctx->exclusions, ctx->path);
    return 0;
  }
  s.confirm = true;
  return 0;
}

ScanState::~ScanState() { hs_free_scratch(scratch_); }

Matcher::~Matcher() {
  for (Group& g : groups_) hs_free_database(g.db);
  for (DbClass& c : db_classes_) {
    hs_free_database(c.joined_db);
    hs_free_database(c.anchored_db);
    hs_free_database(c.line_db);
  }
  for (RuleDb& rd : rule_dbs_) hs_free_database(rd.db);
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
  // often with broad patterns that would match all over a joined scan, so their fields are scanned alone.
  auto named_only = [&](uint32_t ri) {
    const auto& ts = m->rules_[ri].targets;
    return std::all_of(ts.begin(), ts.end(), [](const RuleTarget& t) { return !t.name.empty(); });
  };
  std::map<std::pair<std::vector<transforms::Transform>, bool>, std::vector<uint32_t>> rules_of;
  for (uint32_t ri = 0; ri < m->rules_.size(); ++ri) rules_of[{m->rules_[ri].transforms, named_only(ri)}].push_back(ri);
  m->rule_group_.resize(m->rules_.size());
  for (auto& [key, rule_indexes] : rules_of) {
    const auto& chain = key.first;
    Group g;
    g.chain = chain;
    for (transforms::Transform t : chain) g.chain_bits |= transforms::Bit(t);
    g.named_only = key.second;
    if (!m->groups_.empty()) {
      const auto& prev = m->groups_.back().chain;
      while (g.shared_prefix < prev.size() && g.shared_prefix < chain.size() &&
             prev[g.shared_prefix] == chain[g.shared_prefix]) {
        ++g.shared_prefix;
      }
    }
    if (m->groups_.size() == 64) return absl::InvalidArgumentError("more than 64 rule groups (distinct transform chains)");
    const auto gi = static_cast<uint32_t>(m->groups_.size());
    const uint64_t bit = uint64_t{1} << gi;
    if (g.named_only) m->named_only_groups_ |= bit;
    g.caseless_cmdline_tail =
        !chain.empty() && chain.back() == transforms::Transform::kCmdLine &&
        std::none_of(rule_indexes.begin(), rule_indexes.end(), [&](uint32_t ri) { return m->rules_[ri].case_sensitive; });
    for (uint32_t ri : rule_indexes) {
      m->rule_group_[ri] = gi;
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

  for (const NamedTarget& n : m->named_) {
    for (size_t k = 0; k < static_cast<size_t>(request::Target::kCount); ++k) {
      if (!(n.kinds & (1u << k))) continue;
      auto& list = m->named_by_kind_[k];
      auto same = std::find_if(list.begin(), list.end(), [&](const NamedTarget& x) { return x.name == n.name; });
      if (same == list.end()) {
        list.push_back({1u << k, n.name, n.groups});
      } else {
        same->groups |= n.groups;
      }
    }
  }

  // Databases: one per named_only group; the other groups' patterns go to the database classes.
  std::vector<DbJob> jobs;
  for (uint32_t gi = 0; gi < m->groups_.size(); ++gi) {
    Group& g = m->groups_[gi];
    if (!g.named_only) continue;
    DbJob& job = jobs.emplace_back();
    job.out = &g.db;
    for (uint32_t ri = 0; ri < m->rules_.size(); ++ri) {
      if (m->rule_group_[ri] != gi) continue;
      for (const std::string& p : m->rules_[ri].patterns) {
        job.exprs.push_back(p);
        job.flags.push_back(HsFlags(m->rules_[ri], true));
        job.expr_rule.push_back(ri);
        g.patterns.push_back({ri, gi});
      }
    }
  }

  // Database classes: the rules that may read each shape of field (kind, name rules restrict it to, custom
  // header or not). Shapes read by most rules share class 0 (every rule): a superset is always correct,
  // as matches are filtered by Rule::Applies, and few databases keep compilation short.
  const size_t kinds = static_cast<size_t>(request::Target::kCount);
  size_t unified_rules = 0;
  for (uint32_t ri = 0; ri < m->rules_.size(); ++ri) unified_rules += !m->groups_[m->rule_group_[ri]].named_only;
  std::vector<std::vector<char>> class_rules{std::vector<char>(m->rules_.size(), 0)};
  for (uint32_t ri = 0; ri < m->rules_.size(); ++ri) class_rules[0][ri] = !m->groups_[m->rule_group_[ri]].named_only;
  auto class_of = [&](size_t kind, const std::string* name, bool custom) -> uint32_t {
    std::vector<char> set(m->rules_.size(), 0);
    size_t count = 0;
    for (uint32_t ri = 0; ri < m->rules_.size(); ++ri) {
      if (m->groups_[m->rule_group_[ri]].named_only) continue;
      for (const RuleTarget& t : m->rules_[ri].targets) {
        if (!(t.kinds & (1u << kind))) continue;
        const bool reads = t.name.empty() ? (!t.custom_only || custom) : (name && t.name == *name);
        if (reads) {
          set[ri] = 1;
          ++count;
          break;
        }
      }
    }
    if (count * 2 >= unified_rules) return 0;  // most rules: the class of every rule
    auto same = std::find(class_rules.begin(), class_rules.end(), set);
    if (same != class_rules.end()) return static_cast<uint32_t>(same - class_rules.begin());
    class_rules.push_back(std::move(set));
    return static_cast<uint32_t>(class_rules.size() - 1);
  };
  for (size_t k = 0; k < kinds; ++k) {
    const bool header = k == static_cast<size_t>(request::Target::kHeader);
    m->default_class_[k][0] = class_of(k, nullptr, false);
    m->default_class_[k][1] = header ? class_of(k, nullptr, true) : m->default_class_[k][0];
    for (NamedTarget& n : m->named_by_kind_[k]) n.db_class = class_of(k, &n.name, header && !IsStandardHeader(n.name));
  }
  // Each rule's own database (below), for values scanned alone (see kJoinMaxBytes), if bodies may be that
  // large. They also serve values that hold the separator byte; without them the anchored databases do.
  const bool rule_dbs = opts.max_body_bytes >= kJoinMaxBytes;
  m->db_classes_.resize(class_rules.size());
  for (size_t ci = 0; ci < class_rules.size(); ++ci) {
    DbClass& c = m->db_classes_[ci];
    DbJob joined{}, anchored{}, line{};
    joined.out = &c.joined_db;
    anchored.out = &c.anchored_db;
    line.out = &c.line_db;
    // Line-break patterns go apart only if others remain for the joined scan (a class of nothing but them
    // keeps them joined: its slices need one scan anyway).
    size_t others = 0;
    for (uint32_t ri = 0; ri < m->rules_.size(); ++ri) {
      if (!class_rules[ci][ri]) continue;
      for (const std::string& p : m->rules_[ri].patterns) others += !NeedsLineBreak(p);
    }
    std::vector<std::string> written;  // the patterns as the rules have them
    for (uint32_t ri = 0; ri < m->rules_.size(); ++ri) {
      if (!class_rules[ci][ri]) continue;
      const Rule& r = m->rules_[ri];
      for (const std::string& p : r.patterns) {
        if (others && NeedsLineBreak(p)) {
          line.exprs.push_back(p);
          line.flags.push_back(HsFlags(r, true));
          line.expr_rule.push_back(ri);
          c.line_patterns.push_back({ri, m->rule_group_[ri]});
          continue;
        }
        written.push_back(p);
        joined.exprs.emplace_back();
        bool fenced = false;
        if (!JoinedPattern(p, &joined.exprs.back(), &fenced)) c.line_joined = true;
        c.rewritten.push_back(joined.exprs.back() != p);
        c.fenced.push_back(fenced && !MayMatchEmpty(p, HsFlags(r, false)));
        joined.flags.push_back(HsFlags(r, false));
        joined.expr_rule.push_back(ri);
        c.patterns.push_back({ri, m->rule_group_[ri]});
      }
    }
    if (joined.exprs.empty()) continue;  // no slice ever reaches an empty class
    if (c.line_joined) {  // joined with line breaks: the patterns as written, nothing rewritten
      joined.exprs = std::move(written);
      c.rewritten.assign(c.rewritten.size(), 0);
      c.fenced.assign(c.fenced.size(), 0);
    } else if (!rule_dbs) {  // with them, a value holding the separator is scanned rule by rule instead
      for (size_t i = 0; i < written.size(); ++i) {
        if (!c.rewritten[i]) continue;
        anchored.exprs.push_back(written[i]);
        anchored.flags.push_back(joined.flags[i] | HS_FLAG_SINGLEMATCH);
        anchored.expr_rule.push_back(joined.expr_rule[i]);
        c.anchored_patterns.push_back(c.patterns[i]);
      }
    }
    jobs.push_back(std::move(joined));
    if (!anchored.exprs.empty()) jobs.push_back(std::move(anchored));
    if (!line.exprs.empty()) jobs.push_back(std::move(line));
  }

  if (rule_dbs) m->rule_dbs_.resize(m->rules_.size());
  for (uint32_t ri = 0; ri < m->rule_dbs_.size(); ++ri) {
    if (m->groups_[m->rule_group_[ri]].named_only) continue;
    RuleDb& rd = m->rule_dbs_[ri];
    DbJob& job = jobs.emplace_back();
    job.out = &rd.db;
    for (const std::string& p : m->rules_[ri].patterns) {
      job.exprs.push_back(p);
      job.flags.push_back(HsFlags(m->rules_[ri], true));
      job.expr_rule.push_back(ri);
      rd.patterns.push_back({ri, m->rule_group_[ri]});
    }
  }
  if (absl::Status st = RunJobs(jobs, m->rules_); !st.ok()) {  // ~Matcher frees what compiled
    // A joined database names the rewritten pattern: find the pattern as written that does not compile.
    std::vector<DbJob> check(1);
    hs_database_t* db = nullptr;
    check[0].out = &db;
    for (uint32_t ri = 0; ri < m->rules_.size(); ++ri) {
      for (const std::string& p : m->rules_[ri].patterns) {
        check[0].exprs.push_back(p);
        check[0].flags.push_back(HsFlags(m->rules_[ri], true));
        check[0].expr_rule.push_back(ri);
      }
    }
    absl::Status written = RunJobs(check, m->rules_);
    hs_free_database(db);
    return written.ok() ? st : written;
  }
  for (size_t ci = 0; ci < class_rules.size(); ++ci) {
    for (uint32_t ri = 0; ri < m->rules_.size(); ++ri) {
      if (class_rules[ci][ri]) m->db_classes_[ci].rules.push_back(ri);
    }
  }
  return m;
}

bool Matcher::PrepareScratch(ScanState* state) const {
  for (uint64_t id : state->ready_for_) {
    if (id == id_) return true;
  }
  // First scan of this matcher on this thread: grow the scratch to fit every database. Scratch only
  // grows, so once sized for a matcher it stays valid for it.
  for (const Group& g : groups_) {
    if (g.db && hs_alloc_scratch(g.db, &state->scratch_) != HS_SUCCESS) return false;
  }
  for (const DbClass& c : db_classes_) {
    for (const hs_database_t* db : {c.joined_db, c.anchored_db, c.line_db}) {
      if (db && hs_alloc_scratch(db, &state->scratch_) != HS_SUCCESS) return false;
    }
  }
  for (const RuleDb& rd : rule_dbs_) {
    if (rd.db && hs_alloc_scratch(rd.db, &state->scratch_) != HS_SUCCESS) return false;
  }
  state->ready_for_[state->ready_next_++ % 8] = id_;
  return true;
}

Matcher::Readers Matcher::ReadersOf(const request::Field& f) const {
  const auto kind = static_cast<size_t>(f.target);
  Readers r{any_name_groups_[kind], default_class_[kind][0]};
  if (f.target == request::Target::kHeader && (custom_header_groups_ || default_class_[kind][1] != r.db_class) &&
      !IsStandardHeader(f.name)) {
    r.groups |= custom_header_groups_;
    r.db_class = default_class_[kind][1];
  }
  for (const NamedTarget& n : named_by_kind_[kind]) {
    if (f.name.size() == n.name.size() && absl::EqualsIgnoreCase(common::ToAbsl(f.name), n.name)) {
      r.groups |= n.groups;
      r.db_class = n.db_class;
      return r;  // names are unique per kind
    }
  }
  // A nested field (JSON path, form array) is read by the rules that name its last segment (RuleTarget::leaf).
  if (named_by_kind_[kind].empty()) return r;
  const std::string_view leaf = LeafName(f.name);
  if (leaf.empty()) return r;
  for (const NamedTarget& n : named_by_kind_[kind]) {
    if (leaf.size() == n.name.size() && absl::EqualsIgnoreCase(common::ToAbsl(leaf), n.name)) {
      r.groups |= n.groups;
      r.db_class = n.db_class;
      break;
    }
  }
  return r;
}

bool Matcher::ScanClassAlone(const DbClass& cls, std::string_view value, uint64_t groups, uint32_t fi,
                             const request::Field& f, ScanState* state, const Exclusions* exclusions,
                             std::string_view path) const {
  // A separator byte in the value would let the rewritten anchors hold inside it, and stop the fenced
  // patterns: the value is then scanned as written, rule by rule (which skips rules already decided on an
  // earlier field, so it does not prove the field clean for the memo), or without per-rule databases by
  // the anchored database for the rewritten patterns.
  if (!rule_dbs_.empty() && std::memchr(value.data(), kJoinSeparatorByte, value.size())) {
    state->field_flags_[fi] = ScanState::kNone;
    return ScanRuleByRule(cls, value, groups, fi, f, state, exclusions, path);
  }
  const bool separator = cls.anchored_db && std::memchr(value.data(), kJoinSeparatorByte, value.size());
  AloneContext ctx{this, &cls.patterns, &rules_, groups, &f, fi, &state->matches_, exclusions, path};
  ctx.field_flag = &state->field_flags_[fi];
  if (separator) ctx.skip = &cls.rewritten;
  if (hs_scan(cls.joined_db, value.data(), static_cast<unsigned>(value.size()), 0, state->scratch_, OnAloneMatch,
              &ctx) != HS_SUCCESS) {
    return false;
  }
  if (separator && !ScanAlone(cls.anchored_db, cls.anchored_patterns, value, groups, fi, f, state, exclusions, path)) {
    return false;
  }
  return !cls.line_db || !HasLineBreak(value) ||
         ScanAlone(cls.line_db, cls.line_patterns, value, groups, fi, f, state, exclusions, path);
}

bool Matcher::ScanRuleByRule(const DbClass& cls, std::string_view value, uint64_t groups, uint32_t fi,
                             const request::Field& f, ScanState* state, const Exclusions* exclusions,
                             std::string_view path) const {
  for (uint32_t ri : cls.rules) {
    if (!((groups >> rule_group_[ri]) & 1) || !rules_[ri].Applies(f)) continue;
    auto seen = std::find_if(state->matches_.begin(), state->matches_.end(),
                             [&](const Match& m) { return m.rule_index == ri && m.field_index <= fi; });
    if (seen != state->matches_.end()) continue;  // already decided on this or an earlier field
    const RuleDb& rd = rule_dbs_[ri];
    AloneContext ctx{this, &rd.patterns, &rules_, groups, &f, fi, &state->matches_, exclusions, path, true};
    ctx.field_flag = &state->field_flags_[fi];
    const hs_error_t rc =
        hs_scan(rd.db, value.data(), static_cast<unsigned>(value.size()), 0, state->scratch_, OnAloneMatch, &ctx);
    if (rc != HS_SUCCESS && rc != HS_SCAN_TERMINATED) return false;
  }
  return true;
}

bool Matcher::ScanAlone(const hs_database_t* db, const std::vector<PatternRef>& patterns, std::string_view value,
                        uint64_t groups, uint32_t fi, const request::Field& f, ScanState* state,
                        const Exclusions* exclusions, std::string_view path) const {
  AloneContext ctx{this, &patterns, &rules_, groups, &f, fi, &state->matches_, exclusions, path};
  ctx.field_flag = &state->field_flags_[fi];
  return hs_scan(db, value.data(), static_cast<unsigned>(value.size()), 0, state->scratch_, OnAloneMatch, &ctx) ==
         HS_SUCCESS;
}

// Runs the field through the chains of the groups that read it, reusing the transform prefix the last
// group computed (levels_[d] holds the value after d + 1 transforms of that chain). Steps that the field's
// bytes show cannot change it are skipped while the value is still the field's own.
bool Matcher::TransformField(uint32_t fi, const request::Field& f, Readers readers, ScanState* state,
                             const Exclusions* exclusions, std::string_view path) const {
  const bool large = f.value.size() >= kJoinMaxBytes;
  const DbClass& cls = db_classes_[readers.db_class];
  ScanState::Bucket& bucket = large ? state->large_ : state->buckets_[readers.db_class];
  std::string& buf = bucket.joined;
  std::vector<ScanState::Slice>& slices = bucket.slices;
  const size_t first_slice = slices.size();
  const uint32_t may = transforms::MayChange(f.value);
  size_t raw_slice = SIZE_MAX;  // index of the slice holding the field's own value, if any
  auto add = [&](std::string_view v, uint64_t bit) {
    if (v.empty()) return;  // no pattern matches an empty value (Hyperscan rejects those that could)
    const bool raw = v.data() == f.value.data() && v.size() == f.value.size();
    if (raw && raw_slice != SIZE_MAX) {
      slices[raw_slice].groups |= bit;
      return;
    }
    for (size_t i = first_slice; i < slices.size(); ++i) {  // the same result from another chain
      ScanState::Slice& s = slices[i];
      if (s.end - s.begin == v.size() && std::memcmp(buf.data() + s.begin, v.data(), v.size()) == 0) {
        s.groups |= bit;
        return;
      }
    }
    const auto begin = static_cast<uint32_t>(buf.size());
    buf.append(v.data(), v.size());
    // A value holding the separator byte is always scanned alone: in the joined buffer a fenced pattern
    // stops at that byte, and a rewritten anchor holds there.
    slices.push_back({fi, begin, static_cast<uint32_t>(buf.size()), bit,
                      std::memchr(v.data(), kJoinSeparatorByte, v.size()) != nullptr,
                      cls.line_db && HasLineBreak(v)});
    buf.append(cls.line_joined ? kLineSeparator : kSeparator);
    if (raw) raw_slice = slices.size() - 1;
  };

  size_t valid = 0;  // levels computed for the chain of the last group transformed
  const Group* last = nullptr;
  for (uint64_t reading = readers.groups; reading; reading &= reading - 1) {
    const size_t gi = __builtin_ctzll(reading);
    const Group& g = groups_[gi];
    const uint64_t bit = uint64_t{1} << gi;
    std::string_view v = f.value;
    if (g.chain_bits & may) {
      // Levels stay valid only up to what this chain shares with the last chain computed for the field.
      if (last && last != &g - 1) {
        size_t common = 0;
        while (common < valid && common < g.chain.size() && last->chain[common] == g.chain[common]) ++common;
        valid = common;
      } else if (last) {
        valid = std::min(valid, g.shared_prefix);
      }
      size_t steps = g.chain.size();
      // Caseless patterns see no difference between a value and its lowercase: a final cmdLine that could
      // only lowercase the field's own value is left out, and the field keeps one slice instead of two.
      if (g.caseless_cmdline_tail && !(may & transforms::kCmdLineBeyondCase)) --steps;
      valid = std::min(valid, steps);
      if (valid) v = state->levels_[valid - 1].value;
      for (size_t d = valid; d < steps; ++d) {
        ScanState::Level& lv = state->levels_[d];
        if (v.data() != f.value.data() || (may & transforms::Bit(g.chain[d]))) {
          v = transforms::Apply(std::span<const transforms::Transform>(&g.chain[d], 1), v, &lv.a, &lv.b);
        }
        lv.value = v;
      }
      if (steps < g.chain.size() && v.data() != f.value.data()) {
        // An earlier step changed the value, whose bytes MayChange() did not see: cmdLine runs after all.
        ScanState::Level& lv = state->levels_[steps];
        v = transforms::Apply(std::span<const transforms::Transform>(&g.chain[steps], 1), v, &lv.a, &lv.b);
        lv.value = v;
        ++steps;
      }
      valid = steps;  // levels_[0, steps) hold this chain's results
      last = &g;
    }
    if (g.named_only) {
      if (!v.empty() && !ScanAlone(g.db, g.patterns, v, bit, fi, f, state, exclusions, path)) return false;
    } else {
      add(v, bit);
    }
  }
  if (large) {
    for (const ScanState::Slice& s : slices) {
      const std::string_view v(buf.data() + s.begin, s.end - s.begin);
      if (rule_dbs_.empty()) {
        if (!ScanClassAlone(cls, v, s.groups, fi, f, state, exclusions, path)) return false;
        continue;
      }
      if (!ScanRuleByRule(cls, v, s.groups, fi, f, state, exclusions, path)) return false;
    }
    buf.clear();
    slices.clear();
  }
  return true;
}

// Field by field: transform, keep each distinct value once as a slice (large fields are scanned at once),
// then one joined scan of all small slices, and a scan alone of each slice where it found a candidate.
// Why the joined scan misses nothing: every match a slice has alone is found in the joined buffer ending
// in that slice (or on the separator right after it, consumed by a rewritten $), because the separator is
// a non-word byte at which the joined patterns' ^ and $ also hold, so ^, $, \b and \B behave at slice
// edges as at the edges of a lone value; and without SINGLEMATCH every match end is reported (a pattern's
// first match may be a candidate in a slice that does not count, e.g. one its rule does not read).
bool Matcher::Scan(const request::FieldList& fields, ScanState* state, const Exclusions* exclusions,
                   std::string_view path) const {
  state->matches_.clear();
  if (!PrepareScratch(state)) return false;
  // Sized before any view into a level exists: growing later would move short (SSO) strings.
  if (state->levels_.size() < max_chain_) state->levels_.resize(max_chain_);
  if (state->buckets_.size() < db_classes_.size()) state->buckets_.resize(db_classes_.size());
  for (ScanState::Bucket& b : state->buckets_) {
    b.joined.clear();
    b.slices.clear();
  }

  const auto& fs = fields.fields();
  state->field_flags_.assign(fs.size(), ScanState::kNone);  // within capacity after the first requests
  for (uint32_t fi = 0; fi < fs.size(); ++fi) {
    const request::Field& f = fs[fi];
    if (f.value.empty()) continue;
    const bool memoisable = CleanMemo::Memoisable(f.target);
    if (memoisable && state->memo_.Contains(id_, f)) continue;  // clean when last seen: clean now
    const Readers readers = ReadersOf(f);
    if (!readers.groups) continue;
    if (memoisable) state->field_flags_[fi] = ScanState::kMemoCandidate;
    if (!TransformField(fi, f, readers, state, exclusions, path)) return false;
  }

  for (size_t ci = 0; ci < db_classes_.size(); ++ci) {
    const DbClass& cls = db_classes_[ci];
    ScanState::Bucket& b = state->buckets_[ci];
    auto& slices = b.slices;
    if (slices.size() == 1) {  // a lone slice: the joined scan would only scan it twice
      slices[0].confirm = true;
    } else if (slices.size() > 1) {
      JoinedContext ctx{this, cls.line_joined ? 0u : 1u, &cls.patterns, &cls.fenced, &rules_, &fs, &slices, 0,
                        state, exclusions, path};
      if (hs_scan(cls.joined_db, b.joined.data(), static_cast<unsigned>(b.joined.size()), 0, state->scratch_,
                  OnJoinedMatch, &ctx) != HS_SUCCESS) {
        return false;
      }
    }
    for (const ScanState::Slice& s : slices) {
      if (!s.confirm && !s.line_break) continue;
      const std::string_view v(b.joined.data() + s.begin, s.end - s.begin);
      const request::Field& f = fs[s.field_index];
      // A slice confirmed is scanned alone with every database of its class (line_db included); one that only
      // holds a line break, with line_db alone.
      if (s.confirm ? !ScanClassAlone(cls, v, s.groups, s.field_index, f, state, exclusions, path)
                    : !ScanAlone(cls.line_db, cls.line_patterns, v, s.groups, s.field_index, f, state, exclusions,
                                 path)) {
        return false;
      }
    }
  }
  // Every scan is done: a memoisable field no pattern matched is clean whatever the rest of the request.
  for (uint32_t fi = 0; fi < fs.size(); ++fi) {
    if (state->field_flags_[fi] == ScanState::kMemoCandidate) state->memo_.Insert(id_, fs[fi]);
  }
  // Report group by group, each in field order, as scanning group by group would. An insertion sort: stable,
  // in place (std::stable_sort may allocate a buffer), and matches are few.
  auto before = [&](const Match& a, const Match& b) {
    const uint32_t ga = rule_group_[a.rule_index], gb = rule_group_[b.rule_index];
    return ga != gb ? ga < gb : a.field_index < b.field_index;
  };
  auto& ms = state->matches_;
  for (size_t i = 1; i < ms.size(); ++i) {
    const Match x = ms[i];
    size_t j = i;
    for (; j > 0 && before(x, ms[j - 1]); --j) ms[j] = ms[j - 1];
    ms[j] = x;
  }
  return true;
}

}  // namespace guard::signatures
