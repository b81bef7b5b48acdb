// The compiled signature matcher: rules grouped by transform chain, one Hyperscan database per group.
//
// Compile once (per engine), scan many: the Matcher is immutable and shared by every thread; the mutable
// per-scan state (Hyperscan scratch, transform buffers, match list) lives in a ScanState that each thread
// keeps. Grouping by transform chain means each field is transformed once per distinct chain and then
// scanned by all patterns of that chain in a single Hyperscan pass, whatever the number of rules.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <hs/hs.h>

#include "absl/status/statusor.h"
#include "request/fields.h"
#include "signatures/clean_memo.h"
#include "signatures/exclusions.h"
#include "signatures/rules.h"

namespace guard::signatures {

struct Match {
  uint32_t rule_index;   // into Matcher::rules()
  uint32_t field_index;  // into the FieldList scanned
};

struct CompileOptions {
  int paranoia_level = 1;                // rules above it are left out
  std::vector<uint32_t> disabled_rules;  // ids left out
  // The largest body scans will see (the engine's max_body_bytes). Each rule's own database, for values of
  // 4 KiB or more (scanned alone, matcher.cc kJoinMaxBytes), is compiled only when this allows such bodies:
  // it nearly doubles compile time. Without them a long value (a huge header, say) is scanned with its
  // class's database: the same matches, only the cost per byte of a repeated attack is not bounded.
  size_t max_body_bytes = SIZE_MAX;
};

class Matcher;

// Per-thread scan state. Reused across requests and engines so a steady-state scan allocates nothing.
// A scan transforms each field once per distinct transform chain that reads it, keeps each distinct
// result once (a "slice", tagged with the groups whose chain produced it), joins the slices of all fields
// and scans them in ONE Hyperscan call over every pattern. Only the slices where a match of an applicable
// rule ended are then scanned alone to confirm it. Benign requests, the vast majority, thus cost one
// Hyperscan call instead of one per (group, field): for small fields the fixed cost of a Hyperscan call
// dominates the scan itself. See Matcher::Scan.
class ScanState {
 public:
  ScanState() = default;
  ~ScanState();
  ScanState(const ScanState&) = delete;
  ScanState& operator=(const ScanState&) = delete;

  const std::vector<Match>& matches() const { return matches_; }

 private:
  friend class Matcher;
  hs_scratch_t* scratch_ = nullptr;
  uint64_t ready_for_[8] = {};  // ids of matchers the scratch was sized for (scratch only grows)
  unsigned ready_next_ = 0;
  struct Level {
    std::string a, b;        // Apply() ping-pongs between them
    std::string_view value;  // the field after the chain's first (depth + 1) transforms
  };
  std::vector<Level> levels_;
  // One distinct transformed value of a field, in a bucket's joined buffer (small fields) or in large_ (a
  // large field's own values, scanned alone), and the groups (bit per group) whose chain gave that value.
  struct Slice {
    uint32_t field_index;
    uint32_t begin, end;
    uint64_t groups;
    bool confirm;  // scan it alone: it holds the separator byte, or the joined scan saw an applicable rule's
                   // match of a pattern that is not fenced end in it
    bool line_break;  // it holds \r or \n, and its class has a line_db: scan it alone with that too
  };
  // The slices of one database class (Matcher::DbClass), joined.
  struct Bucket {
    std::string joined;
    std::vector<Slice> slices;
  };
  std::vector<Bucket> buckets_;
  Bucket large_;
  std::vector<Match> matches_;
  // Per field of the scan: kMemoCandidate if it may go into memo_ once scanned, kMatched once a pattern of
  // a rule that reads it matched it (before exclusions). See Matcher::Scan.
  enum FieldFlag : uint8_t { kNone, kMemoCandidate, kMatched };
  std::vector<uint8_t> field_flags_;
  CleanMemo memo_;
};

class Matcher {
 public:
  ~Matcher();
  Matcher(const Matcher&) = delete;
  Matcher& operator=(const Matcher&) = delete;

  // Compiles the rules kept by the options. Errors name the rule id whose pattern failed.
  static absl::StatusOr<std::unique_ptr<Matcher>> Compile(const RuleSet& rules, const CompileOptions& opts);

  // Scans every field; state->matches() then holds each (rule, first field) match once. A match the
  // exclusions remove (for a request to `path`) is not recorded, so the rule may still match another field.
  // Returns false only on an internal Hyperscan error (state->matches() holds what was found so far).
  bool Scan(const request::FieldList& fields, ScanState* state, const Exclusions* exclusions = nullptr,
            std::string_view path = {}) const;

  const std::vector<Rule>& rules() const { return rules_; }
  const std::string& version() const { return version_; }

 private:
  // Hyperscan expression id -> (rule index, group index).
  struct PatternRef {
    uint32_t rule;
    uint32_t group;
  };
  struct Group {
    std::vector<transforms::Transform> chain;
    uint32_t chain_bits = 0;              // transforms::Bit() of each step
    size_t shared_prefix = 0;             // transforms shared with the previous group's chain
    bool named_only = false;              // every rule reads only named fields: own database, no joined scan
    bool caseless_cmdline_tail = false;   // ends with cmdLine and every rule is caseless: a final cmdLine that
                                          // would only lowercase the field is skipped
    hs_database_t* db = nullptr;          // named_only groups only
    std::vector<PatternRef> patterns;     // of db
  };

  // A name-restricted target (headers:user-agent), the groups that read it and (in named_by_kind_) the
  // database class of fields with that kind and name.
  struct NamedTarget {
    uint32_t kinds;
    std::string name;
    uint64_t groups;
    uint32_t db_class = 0;
  };

  // The databases a field is scanned with: every pattern of the rules that may read it. Class 0 holds
  // every pattern (outside named_only groups); fields read by much fewer rules (header names, standard
  // headers, the method, raw bodies, ...) get a class of their own, so that they are not scanned with
  // patterns that cannot count there: Hyperscan's cost per byte grows with the patterns it runs.
  struct DbClass {
    // Without SINGLEMATCH and in joined form (each match end must be reported, so that one in a field the
    // rule does not read cannot hide a later one). The same database scans a slice alone (confirmation,
    // large values): on a value without the separator byte, a rewritten anchor (?:^|\x01) is just ^, so the
    // joined form matches exactly where the pattern does. Compiling one database per class instead of two
    // halves the matcher's compile time.
    hs_database_t* joined_db = nullptr;
    std::vector<PatternRef> patterns;  // expression id -> rule and group
    std::vector<char> rewritten;       // by expression id: its joined form differs from the pattern
    std::vector<char> fenced;          // by expression id: its joined form cannot match the separator byte
                                       // except through a rewritten anchor, so a match in the joined
                                       // buffer lies in one slice and needs no confirming scan
    // The patterns whose joined form differs, as written (SINGLEMATCH): for a value that holds the separator
    // byte itself, where the rewritten anchors would also hold; the joined database's are then ignored.
    hs_database_t* anchored_db = nullptr;
    std::vector<PatternRef> anchored_patterns;
    bool line_joined = false;          // some pattern has no joined form: join with line breaks
    // The patterns every match of which holds a line break (joined_pattern.h NeedsLineBreak: the CRLF rules'
    // `[\r\n]\s*...`), as written (SINGLEMATCH). They are left out of joined_db: there they cost at every
    // byte of every request (~1 ns a byte of class 0, a fifth of its scan), while benign values seldom hold
    // a line break; only the slices that hold one are scanned with this database, alone.
    hs_database_t* line_db = nullptr;
    std::vector<PatternRef> line_patterns;
    std::vector<uint32_t> rules;       // rule indexes whose patterns it holds
  };
  // One rule's patterns alone (SINGLEMATCH), for scanning very large values rule by rule.
  struct RuleDb {
    hs_database_t* db = nullptr;
    std::vector<PatternRef> patterns;
  };
  struct Readers {
    uint64_t groups;
    uint32_t db_class;
  };

  struct AloneContext;
  struct JoinedContext;
  static int OnAloneMatch(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags,
                          void* ctx);
  static int OnJoinedMatch(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags,
                           void* ctx);

  Matcher() = default;
  // Records that `rule` matched field `fi` (see Scan for the once-per-rule, first-field contract).
  void Record(uint32_t rule, uint32_t fi, const request::Field& f, std::vector<Match>* matches,
              const Exclusions* exclusions, std::string_view path) const;
  bool PrepareScratch(ScanState* state) const;
  // Adds the field's distinct values for the (not named_only) groups in `groups` to its class's bucket,
  // scanning them at once when the field is large, and scans named_only groups' values at once. False on a
  // Hyperscan error.
  bool TransformField(uint32_t fi, const request::Field& f, Readers readers, ScanState* state,
                      const Exclusions* exclusions, std::string_view path) const;
  // Scans one slice alone with its class's databases (see DbClass), recording matches of its groups.
  bool ScanClassAlone(const DbClass& cls, std::string_view value, uint64_t groups, uint32_t fi,
                      const request::Field& f, ScanState* state, const Exclusions* exclusions,
                      std::string_view path) const;
  // Scans one slice alone with each rule's own database (rule_dbs_) in turn, for the rules of its class and
  // groups not yet decided on this or an earlier field; each scan stops at its rule's first match.
  bool ScanRuleByRule(const DbClass& cls, std::string_view value, uint64_t groups, uint32_t fi,
                      const request::Field& f, ScanState* state, const Exclusions* exclusions,
                      std::string_view path) const;
  // Scans one slice alone with the database given, recording matches of the slice's groups.
  bool ScanAlone(const hs_database_t* db, const std::vector<PatternRef>& patterns, std::string_view value,
                 uint64_t groups, uint32_t fi, const request::Field& f, ScanState* state, const Exclusions* exclusions,
                 std::string_view path) const;
  // The groups (bit per group index) that read a field, and its database class: decided once per field.
  Readers ReadersOf(const request::Field& f) const;

  uint64_t id_ = 0;  // unique per compiled matcher, to track which scratch fits
  size_t max_chain_ = 0;
  std::string version_;
  std::vector<Rule> rules_;
  std::vector<Group> groups_;                                              // at most 64
  uint64_t named_only_groups_ = 0;
  std::vector<DbClass> db_classes_;
  std::vector<RuleDb> rule_dbs_;  // by rule index (db null for named_only rules); empty if not compiled
  uint32_t default_class_[static_cast<size_t>(request::Target::kCount)][2] = {};  // [kind][custom header]
  std::vector<uint32_t> rule_group_;  // rule index -> group index (to report matches group by group)
  uint64_t any_name_groups_[static_cast<size_t>(request::Target::kCount)] = {};  // per field kind
  uint64_t custom_header_groups_ = 0;
  std::vector<NamedTarget> named_;
  // named_ split by field kind (each entry's groups for that kind): a field is compared only with the
  // names rules restrict its own kind to.
  std::vector<NamedTarget> named_by_kind_[static_cast<size_t>(request::Target::kCount)];
};

}  // namespace guard::signatures
