// Normalisation transforms applied to a field before signatures see it, chained per rule as in CRS
// (t:urlDecodeUni,t:lowercase,...). Every transform is linear in its input and bounded in output size.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace guard::transforms {

enum class Transform : uint8_t {
  kUrlDecode,          // %XX and '+' repeatedly until stable (multi-encoding evasions), bounded passes
  kUrlDecodeUni,       // as kUrlDecode, plus %uXXXX
  kHtmlEntityDecode,   // &lt; &#x3c; &#60; (with or without ';')
  kUtf8Normalize,      // overlong UTF-8 forms and full-width ASCII (U+FF01..FF5E) to ASCII
  kLowercase,
  kCompressWhitespace, // runs of whitespace (incl. \v \f and non-breaking space) to one space
  kRemoveComments,     // /* */, --, # to end of line: SQL/C comment evasion
  kNormalizePath,      // \ to /, //, ./, ../ resolved (without climbing above the root)
  kRemoveNulls,
  kBase64Decode,       // decodes if the whole value is base64; otherwise unchanged
  kCmdLine,            // as CRS t:cmdLine: drop \ " ' ^, ',' ';' to space, compress spaces, lowercase
  kCount
};

std::string_view TransformName(Transform t);
absl::StatusOr<Transform> ParseTransform(std::string_view name);

// Applies the chain to input. The result is a view into input (when nothing changed) or into one of the
// two scratch buffers, which are reused across calls to avoid allocation. input may itself be a view into
// one of the buffers (e.g. an earlier result); the result is never longer than input. Never throws.
// Names: TransformName() gives the CRS-style name; ParseTransform() also accepts the aliases
// replaceComments (= removeComments: ours replaces a comment by a space) and normalizePathWin/normalisePath.
std::string_view Apply(std::span<const Transform> chain, std::string_view input, std::string* scratch_a,
                       std::string* scratch_b);

constexpr uint32_t Bit(Transform t) { return 1u << static_cast<uint32_t>(t); }

// The transforms (Bit(t)) that might change `input`, from one pass over its bytes. A clear bit is a
// guarantee that the transform returns `input` unchanged; a set bit only means "maybe". Most values of most
// requests are plain (no %, &, comment or path syntax, ...): the matcher then skips whole chains for them
// instead of testing every step of every chain.
uint32_t MayChange(std::string_view input);
// Also set by MayChange() when kCmdLine might change `input` other than by lowercasing ASCII letters. For
// caseless patterns a final cmdLine step that would only lowercase is a no-op.
inline constexpr uint32_t kCmdLineBeyondCase = 1u << 31;

}  // namespace guard::transforms
