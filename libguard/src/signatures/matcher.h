// The compiled signature matcher: rules grouped by transform chain, one Hyperscan database per group.
//
// Compile once (per engine), scan many: the Matcher is immutable and shared by every thread; the mutable
// per-scan state (Hyperscan scratch, transform buffers, match list) lives in a ScanState that each thread
// keeps. Grouping by transform chain means each field is transformed once per distinct chain and then
// scanned by all patterns of that chain in a single Hyperscan pass, whatever the number of rules.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <hs/hs.h>

#include "absl/status/statusor.h"
#include "request/fields.h"
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
};

class Matcher;

// Per-thread scan state. Reused across requests and engines so a steady-state scan allocates nothing.
// A scan is one Hyperscan call per group over all the fields it reads, joined; only when that finds
// something are the group's fields scanned one by one to attribute matches. Benign requests, the vast
// majority, thus cost one call per group instead of one per (group, field): for small fields the
// per-call overhead of Hyperscan dominates the scan itself.
// Transform results are kept per chain depth (two buffers each) so that groups whose chains share a
// prefix (most start with the same decoding steps) reuse it instead of decoding the field again.
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
  // Per group: every field it reads, transformed, joined by '\n' (prefilter input), and where each
  // field's slice starts and ends.
  struct Slice {
    uint32_t field_index;
    uint32_t begin, end;
  };
  struct Batch {
    std::string joined;
    std::vector<Slice> slices;
  };
  std::vector<Batch> batches_;
  std::vector<Match> matches_;
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
  struct Group {
    std::vector<transforms::Transform> chain;
    hs_database_t* db = nullptr;
    std::vector<uint32_t> pattern_rule;   // Hyperscan expression id -> rule index
    size_t shared_prefix = 0;             // transforms shared with the previous group's chain
    bool named_only = false;              // every rule reads only named fields (no joined prefilter)
  };

  // A name-restricted target (headers:user-agent) and the groups that read it.
  struct NamedTarget {
    uint32_t kinds;
    std::string name;
    uint64_t groups;
  };

  Matcher() = default;
  bool PrepareScratch(ScanState* state) const;
  // The groups (bit per group index) that read a field: decided once per field, not once per group.
  uint64_t GroupsReading(const request::Field& f) const;

  uint64_t id_ = 0;  // unique per compiled matcher, to track which scratch fits
  size_t max_chain_ = 0;
  std::string version_;
  std::vector<Rule> rules_;
  std::vector<Group> groups_;                                              // at most 64
  uint64_t any_name_groups_[static_cast<size_t>(request::Target::kCount)] = {};  // per field kind
  uint64_t custom_header_groups_ = 0;
  std::vector<NamedTarget> named_;
};

}  // namespace guard::signatures
