// The matcher's shortcuts (joined scan, fenced patterns recorded without a confirming scan, shared transform
// prefixes, skipped steps, rule-by-rule scans of large values) against the plain definition: each rule's
// patterns, as written, over each field it reads, after its own transforms. Requests are built from
// fragments of real payloads and of the byte sequences the shortcuts depend on (the separator byte, line
// breaks, anchors at field edges), several fields per request, so that a match could span two fields.
#include <catch2/catch.hpp>

#include <hs/hs.h>

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "signatures/matcher.h"
#include "transforms/transforms.h"

using namespace guard::signatures;
using guard::request::Field;
using guard::request::FieldList;
using guard::request::Target;

namespace {

// Each rule's patterns as written, one database per rule.
class Reference {
 public:
  explicit Reference(const RuleSet& set) : rules_(set.rules) {
    for (const Rule& r : rules_) {
      std::vector<const char*> exprs;
      std::vector<unsigned> flags, ids;
      for (const std::string& p : r.patterns) {
        exprs.push_back(p.c_str());
        flags.push_back(HS_FLAG_DOTALL | HS_FLAG_MULTILINE | HS_FLAG_SINGLEMATCH |
                        (r.case_sensitive ? 0 : HS_FLAG_CASELESS));
        ids.push_back(0);
      }
      hs_database_t* db = nullptr;
      hs_compile_error_t* err = nullptr;
      REQUIRE(hs_compile_multi(exprs.data(), flags.data(), ids.data(), static_cast<unsigned>(exprs.size()),
                               HS_MODE_BLOCK, nullptr, &db, &err) == HS_SUCCESS);
      REQUIRE(hs_alloc_scratch(db, &scratch_) == HS_SUCCESS);
      dbs_.push_back(db);
    }
  }
  ~Reference() {
    for (hs_database_t* db : dbs_) hs_free_database(db);
    hs_free_scratch(scratch_);
  }

  // rule id -> the first field (in request order) it matches.
  std::map<uint32_t, uint32_t> Scan(const FieldList& fl) {
    std::map<uint32_t, uint32_t> out;
    const auto& fs = fl.fields();
    for (size_t ri = 0; ri < rules_.size(); ++ri) {
      const Rule& r = rules_[ri];
      for (uint32_t fi = 0; fi < fs.size(); ++fi) {
        if (fs[fi].value.empty() || !r.Applies(fs[fi])) continue;
        std::string a, b;
        const std::string_view v = guard::transforms::Apply(r.transforms, fs[fi].value, &a, &b);
        bool hit = false;
        hs_scan(dbs_[ri], v.data(), static_cast<unsigned>(v.size()), 0, scratch_,
                [](unsigned, unsigned long long, unsigned long long, unsigned, void* ctx) {
                  *static_cast<bool*>(ctx) = true;
                  return 1;
                },
                &hit);
        if (hit) {
          out.emplace(r.id, fi);
          break;
        }
      }
    }
    return out;
  }

 private:
  const std::vector<Rule>& rules_;
  std::vector<hs_database_t*> dbs_;
  hs_scratch_t* scratch_ = nullptr;
};

std::map<uint32_t, uint32_t> Scanned(const Matcher& m, const FieldList& fl, ScanState* st) {
  REQUIRE(m.Scan(fl, st));
  std::map<uint32_t, uint32_t> out;
  for (const Match& x : st->matches()) out.emplace(m.rules()[x.rule_index].id, x.field_index);
  return out;
}

// Fragments whose concatenations reach most kinds of pattern: attack pieces, their encodings, the
// separator byte, line breaks, and plain text.
const std::vector<std::string>& Fragments() {
  static const std::vector<std::string> f = {
      "select", " union ", "' or ", "1=1", "--", "/*", "*/", "<script>", "<img src=x ", "onerror=", "alert(1)",
      "javascript:", "../", "..%2f", "%2e%2e/", "/etc/passwd", "${", "jndi:", "ldap://", "}", "${::-j}", "#{",
      "%{", "T(", "{{", "}}", "7*7", ";", "|", "&&", "`", "$(", "id", "cat ", "whoami", "*)(", "(|(", "uid=*",
      "$where", "$ne", "http://", "127.0.0.1", "169.254.169.254", "<!ENTITY", "<!DOCTYPE", "SYSTEM ", "file://",
      "%0d%0a", "Set-Cookie:", "\r\n", "\n", "\x01", "\x01\x01", " ", "  ", "\t", "'", "\"", "(", ")", "=", "<",
      ">", "&", "%", "+", "hello", "world", "O'Brien", "2026-07-04", "Mozilla/5.0", "sqlmap", "nikto", "eval(",
      "system(", "base64_decode(", "php://", "data:", "\\", "\\\\", "%00", "&#x3c;", "&lt;", "AAAA", "^", "$",
  };
  return f;
}

}  // namespace

TEST_CASE("joined scan, fenced patterns and shortcuts: the same matches as each rule alone on each field") {
  auto set = ParseRules(CoreRulesJson());
  REQUIRE(set.ok());
  // Paranoia 1 and 4 with each rule's own database (large values and values holding the separator byte are
  // scanned rule by rule), and paranoia 1 without them (bodies under 4 KiB: the anchored databases instead).
  for (auto [paranoia, max_body] : {std::pair{1, SIZE_MAX}, std::pair{4, SIZE_MAX}, std::pair{1, size_t{1024}}}) {
    CompileOptions opts;
    opts.paranoia_level = paranoia;
    opts.max_body_bytes = max_body;
    auto m = Matcher::Compile(*set, opts);
    REQUIRE(m.ok());
    RuleSet kept{set->version, {}};
    for (const Rule& r : set->rules)
      if (r.paranoia <= paranoia) kept.rules.push_back(r);
    Reference ref(kept);

    std::mt19937 rng(static_cast<unsigned>(20261123 + paranoia + max_body % 7));
    const auto& frags = Fragments();
    const Target kinds[] = {Target::kArg, Target::kArgName, Target::kBodyArg, Target::kPath, Target::kCookie,
                            Target::kHeader, Target::kBody};
    const char* header_names[] = {"user-agent", "referer", "x-api-note", "accept", "x-forwarded-for"};
    ScanState st;
    size_t matched_requests = 0;
    for (int round = 0; round < 1500; ++round) {
      std::vector<std::string> values, names;
      std::vector<Target> targets;
      const int nfields = 1 + static_cast<int>(rng() % 10);
      for (int i = 0; i < nfields; ++i) {
        std::string v;
        const int pieces = 1 + static_cast<int>(rng() % 6);
        for (int k = 0; k < pieces; ++k) v += frags[rng() % frags.size()];
        if (rng() % 50 == 0) v = std::string(4096 + rng() % 512, 'a') + v;  // scanned alone, rule by rule
        const Target t = kinds[rng() % std::size(kinds)];
        targets.push_back(t);
        names.push_back(t == Target::kHeader ? header_names[rng() % std::size(header_names)] : "f");
        values.push_back(std::move(v));
      }
      FieldList fl;  // keeps views: built once every string is in place
      for (size_t i = 0; i < values.size(); ++i) fl.Add(targets[i], names[i], values[i]);
      const auto want = ref.Scan(fl);
      const auto got = Scanned(**m, fl, &st);
      if (!want.empty()) ++matched_requests;
      if (got != want) {
        std::string shown;
        for (size_t i = 0; i < values.size(); ++i)
          shown += std::string(guard::request::TargetName(targets[i])) + ":" + names[i] + " " + absl::CHexEscape(values[i]) + "\n";
        INFO("paranoia " << paranoia << ", max_body_bytes " << max_body << ", request:\n" << shown);
        std::string w, g;
        for (auto [id, fi] : want) w += std::to_string(id) + "@" + std::to_string(fi) + " ";
        for (auto [id, fi] : got) g += std::to_string(id) + "@" + std::to_string(fi) + " ";
        CHECK(g == w);
      }
    }
    // The generator reaches the rules: most requests match something, some match nothing.
    CHECK(matched_requests > 500);
    CHECK(matched_requests < 1500);
  }
}
