// libFuzzer target: the joined form of a pattern (signatures/joined_pattern.h), which also runs on the
// custom rules an operator puts in the plugin config, so it must never read out of bounds on any pattern.
//
// Input: the pattern, a NUL byte, then a subject. Checked, whenever the pattern as written compiles with
// Hyperscan (the flags the matcher uses), on the subject with every separator byte (\x01) removed:
// - the joined form compiles too, and matches the subject alone exactly when the pattern does (rewritten
//   anchors and fences only differ at the separator byte);
// - the subject cut into slices at each \x02 byte and joined as the matcher joins them: every slice the
//   pattern matches alone has a match of the joined form ending in it (or on the separator after it), and
//   when the joined form is fenced and the pattern cannot match an empty string, no other slice has one
//   (the matcher then records such matches without confirming them).
#include <hs/hs.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "signatures/joined_pattern.h"

namespace {

constexpr unsigned kFlags = HS_FLAG_DOTALL | HS_FLAG_MULTILINE | HS_FLAG_CASELESS;

struct Compiled {
  hs_database_t* db = nullptr;
  hs_scratch_t* scratch = nullptr;
  ~Compiled() {
    hs_free_scratch(scratch);
    hs_free_database(db);
  }
  bool Compile(const std::string& expr, unsigned extra = HS_FLAG_SINGLEMATCH) {
    hs_compile_error_t* err = nullptr;
    if (hs_compile(expr.c_str(), kFlags | extra, HS_MODE_BLOCK, nullptr, &db, &err) != HS_SUCCESS) {
      hs_free_compile_error(err);
      return false;
    }
    return hs_alloc_scratch(db, &scratch) == HS_SUCCESS;
  }
  bool Matches(std::string_view s) const {
    bool hit = false;
    hs_scan(db, s.data(), static_cast<unsigned>(s.size()), 0, scratch,
            [](unsigned, unsigned long long, unsigned long long, unsigned, void* ctx) {
              *static_cast<bool*>(ctx) = true;
              return 1;
            },
            &hit);
    return hit;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t nul = input.find('\0');
  const std::string_view pattern_bytes = input.substr(0, nul);
  if (pattern_bytes.size() > 96) return 0;  // Hyperscan compile time grows fast with pattern size
  // An exactly-sized heap copy, so that ASan sees any read past the pattern's end.
  std::unique_ptr<char[]> copy(new char[pattern_bytes.size() ? pattern_bytes.size() : 1]);
  std::memcpy(copy.get(), pattern_bytes.data(), pattern_bytes.size());
  const std::string_view pattern(copy.get(), pattern_bytes.size());

  std::string joined;
  bool fenced = false;
  if (!guard::signatures::JoinedPattern(pattern, &joined, &fenced)) return 0;

  Compiled written, rewritten;
  if (!written.Compile(std::string(pattern))) return 0;  // the matcher reports it as an invalid rule
  if (!rewritten.Compile(joined)) abort();                // a valid pattern whose joined form is not
  // As the matcher decides (Matcher::Compile, MayMatchEmpty): a pattern that can match an empty string
  // would match a lone separator byte once joined, so it is never treated as fenced.
  hs_expr_info_t* info = nullptr;
  hs_compile_error_t* err = nullptr;
  if (hs_expression_info(std::string(pattern).c_str(), kFlags, &info, &err) != HS_SUCCESS) abort();
  if (info->min_width == 0) fenced = false;
  std::free(info);

  std::string subject(nul == std::string_view::npos ? std::string_view() : input.substr(nul + 1));
  std::erase(subject, guard::signatures::kJoinSeparatorByte);
  if (written.Matches(subject) != rewritten.Matches(subject)) abort();

  // Joined: slices separated (and the last one followed) by the separator byte, as Matcher::Scan builds them.
  std::string buf;
  std::vector<std::pair<size_t, size_t>> slices;  // [begin, end) in buf
  size_t from = 0;
  while (from <= subject.size()) {
    size_t to = subject.find('\x02', from);
    if (to == std::string::npos) to = subject.size();
    if (to > from) {  // the matcher never adds an empty slice
      slices.push_back({buf.size(), buf.size() + (to - from)});
      buf.append(subject, from, to - from);
      buf.push_back(guard::signatures::kJoinSeparatorByte);
    }
    from = to + 1;
  }
  Compiled every_end;
  if (!every_end.Compile(joined, 0)) abort();
  std::vector<char> ended(slices.size(), 0);
  struct Ctx {
    const std::vector<std::pair<size_t, size_t>>* slices;
    std::vector<char>* ended;
  } ctx{&slices, &ended};
  hs_scan(every_end.db, buf.data(), static_cast<unsigned>(buf.size()), 0, every_end.scratch,
          [](unsigned, unsigned long long, unsigned long long to, unsigned, void* p) {
            auto* c = static_cast<Ctx*>(p);
            for (size_t i = 0; i < c->slices->size(); ++i) {  // a rewritten $ may consume the separator after it
              if (to > (*c->slices)[i].first && to <= (*c->slices)[i].second + 1) (*c->ended)[i] = 1;
            }
            return 0;
          },
          &ctx);
  for (size_t i = 0; i < slices.size(); ++i) {
    const bool alone = written.Matches(std::string_view(buf).substr(slices[i].first, slices[i].second - slices[i].first));
    if (alone && !ended[i]) abort();            // the joined scan would miss it
    if (fenced && ended[i] && !alone) abort();  // recorded without confirmation, yet not a match alone
  }
  return 0;
}
