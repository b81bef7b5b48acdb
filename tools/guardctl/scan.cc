// guardctl scan: replays requests through guard_inspect and reports verdicts against the labels.
//
// An attack counts as detected when the verdict would stop it (block, or monitor: "would have blocked");
// "category hit" additionally needs the expected category's bit in the verdict. A benign request with such
// a verdict is a false positive. Summary per category and per split; exit 1 per --fail-on.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <sstream>
#include <string>

#include "commands.h"
#include "options.h"
#include "strutil.h"

namespace guardctl {
namespace {

std::string JsonEscape(std::string_view s) {
  std::string o;
  o.reserve(s.size() + 2);
  o += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': o += "\\\""; break;
      case '\\': o += "\\\\"; break;
      case '\n': o += "\\n"; break;
      case '\r': o += "\\r"; break;
      case '\t': o += "\\t"; break;
      default:
        if (c < 0x20) {
          char b[8];
          std::snprintf(b, sizeof b, "\\u%04x", c);
          o += b;
        } else {
          o += static_cast<char>(c);
        }
    }
  }
  o += '"';
  return o;
}

// libguard returns static strings; a NULL would be a libguard bug, but must not crash the reporter.
const char* Safe(const char* s) { return s ? s : ""; }

std::vector<std::string> CategoryNames(uint64_t bits) {
  std::vector<std::string> out;
  for (int c = 0; c < 64; ++c) {
    if (bits & (uint64_t{1} << c)) {
      const char* n = Safe(guard_category_name(c));
      out.emplace_back(*n ? n : "cat" + std::to_string(c));
    }
  }
  return out;
}

int CategoryIndex(const std::string& name) {
  for (int c = 0; c < GUARD_CAT_COUNT; ++c) {
    if (name == Safe(guard_category_name(c))) return c;
  }
  return -1;
}

bool Flags(const guard_verdict& v) { return v.action == GUARD_ACTION_BLOCK || v.action == GUARD_ACTION_MONITOR; }

struct Tally {
  int total = 0, detected = 0, category_hit = 0;
};

}  // namespace

int RunScan(const std::vector<std::string>& args) {
  auto opts = ParseOptions(args, {"--format", "--config", "--output", "--fail-on", "--split"}, {"--verbose"});
  if (!opts.ok()) {
    std::cerr << "guardctl scan: " << opts.status().message() << "\n";
    return kExitUsage;
  }
  std::string output = opts->get("--output", "text");
  if (output != "text" && output != "jsonl") {
    std::cerr << "guardctl scan: --output must be text or jsonl\n";
    return kExitUsage;
  }
  bool fail_on_attack = false, fail_on_fp = false;
  for (std::string_view f : str::SplitAny(opts->get("--fail-on"), ",")) {
    if (f == "attack") {
      fail_on_attack = true;
    } else if (f == "fp") {
      fail_on_fp = true;
    } else {
      std::cerr << "guardctl scan: --fail-on takes attack, fp or attack,fp\n";
      return kExitUsage;
    }
  }
  std::string split = opts->get("--split");
  auto reqs = ReadInputs(*opts);
  if (!reqs.ok()) {
    std::cerr << "guardctl scan: " << reqs.status().message() << "\n";
    return kExitUsage;
  }
  EnginePtr engine = LoadEngine(opts->get("--config"));
  if (!engine) return kExitUsage;

  std::ostream& summary = output == "jsonl" ? std::cerr : std::cout;
  std::map<std::string, Tally> per_category;
  std::map<std::string, Tally> per_split;  // attacks only
  int benign = 0, false_pos = 0, unlabelled = 0, flagged_unlabelled = 0, errors = 0;
  std::vector<std::string> misses, fps;

  {  // warm-up, as in bench and bench/modsec: the first calls pay for lazy initialisation
    guard_verdict v{};
    char err[512];
    for (size_t i = 0; i < reqs->size() && i < 50; ++i) guard_inspect(engine.get(), RequestView((*reqs)[i]).get(), &v, err, sizeof err);
  }
  for (const Request& r : *reqs) {
    if (!split.empty() && r.split != split) continue;
    RequestView view(r);
    guard_verdict v{};
    char err[512] = {0};
    auto t0 = std::chrono::steady_clock::now();
    int rc = guard_inspect(engine.get(), view.get(), &v, err, sizeof err);
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
    if (rc != GUARD_OK) {
      ++errors;
      std::cerr << "guardctl scan: " << r.id << ": guard_inspect failed (status " << rc << "): " << err << "\n";
      continue;
    }
    std::vector<std::string> cats = CategoryNames(v.categories);
    bool flagged = Flags(v);

    if (output == "jsonl") {
      std::ostringstream line;
      line << "{\"id\":" << JsonEscape(r.id) << ",\"action\":" << JsonEscape(Safe(guard_action_name(v.action)))
           << ",\"score\":" << v.score << ",\"categories\":[";
      for (size_t i = 0; i < cats.size(); ++i) line << (i ? "," : "") << JsonEscape(cats[i]);
      line << "],\"rule_ids\":[";
      uint32_t n = v.rule_count < GUARD_MAX_RULE_IDS ? v.rule_count : GUARD_MAX_RULE_IDS;
      for (uint32_t i = 0; i < n; ++i) line << (i ? "," : "") << v.rule_ids[i];
      line << "],\"target\":" << JsonEscape(v.target) << ",\"ns\":" << ns << "}";
      std::cout << line.str() << "\n";
    } else if (opts->has("--verbose")) {
      std::cout << r.id << "\t" << Safe(guard_action_name(v.action)) << "\tscore=" << v.score << "\t";
      for (size_t i = 0; i < cats.size(); ++i) std::cout << (i ? "," : "") << cats[i];
      std::cout << "\t" << v.target << "\n";
    }

    if (r.label == "attack") {
      std::string cat = r.category.empty() ? "(none)" : r.category;
      int idx = CategoryIndex(r.category);
      bool hit = flagged && idx >= 0 && (v.categories & (uint64_t{1} << idx));
      for (Tally* t : {&per_category[cat], &per_split[r.split.empty() ? "all" : r.split]}) {
        ++t->total;
        t->detected += flagged;
        t->category_hit += hit;
      }
      if (!flagged) misses.push_back(r.id);
    } else if (r.label == "benign") {
      ++benign;
      if (flagged) {
        ++false_pos;
        fps.push_back(r.id + " (" + v.category + " " + v.target + ")");
      }
    } else {
      ++unlabelled;
      flagged_unlabelled += flagged;
    }
  }

  if (output == "text") {
    for (const auto& m : misses) summary << "MISS " << m << "\n";
    for (const auto& f : fps) summary << "FP   " << f << "\n";
  }
  char buf[256];
  if (!per_category.empty()) {
    summary << "category      detected/total   rate  category-hit\n";
    Tally all;
    for (const auto& [cat, t] : per_category) {
      std::snprintf(buf, sizeof buf, "%-12s %6d/%-6d %6.1f%%  %6d\n", cat.c_str(), t.detected, t.total,
                    100.0 * t.detected / t.total, t.category_hit);
      summary << buf;
      all.total += t.total;
      all.detected += t.detected;
      all.category_hit += t.category_hit;
    }
    std::snprintf(buf, sizeof buf, "%-12s %6d/%-6d %6.1f%%  %6d\n", "ALL", all.detected, all.total,
                  100.0 * all.detected / all.total, all.category_hit);
    summary << buf;
    if (per_split.size() > 1) {
      for (const auto& [s, t] : per_split) {
        std::snprintf(buf, sizeof buf, "split %-8s %6d/%-6d %6.1f%%\n", s.c_str(), t.detected, t.total, 100.0 * t.detected / t.total);
        summary << buf;
      }
    }
  }
  if (benign > 0) {
    std::snprintf(buf, sizeof buf, "false positives: %d/%d benign (%.2f%%)\n", false_pos, benign, 100.0 * false_pos / benign);
    summary << buf;
  }
  if (unlabelled > 0) summary << "unlabelled: " << flagged_unlabelled << "/" << unlabelled << " flagged\n";
  if (errors > 0) {
    summary << "errors: " << errors << " requests could not be inspected\n";
    return kExitUsage;
  }
  if ((fail_on_attack && !misses.empty()) || (fail_on_fp && false_pos > 0)) return kExitCheckFailed;
  return kExitOk;
}

}  // namespace guardctl
