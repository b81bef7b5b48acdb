// Patterns for the joined scan (Matcher::Scan): the same pattern with its anchors also holding at the
// separator byte placed between slices.
//
// Slices are joined with one \x01 byte between them rather than a line break: with a line break, ^ and $
// (compiled multi-line) held at slice edges, but every pattern led by [\r\n] or \s woke up at every
// separator, which cost more than the rest of the scan. Each ^ becomes (?:^|\x01) and each $ becomes
// (?:$|\x01): a match that needs ^ at the start or $ at the end of a slice then also matches in the joined
// buffer, consuming the separator (its end moves one byte past the slice end when $ consumed it).
//
// That is only sound when nothing in the pattern runs before such a ^ or after such a $: each must be the
// first (last) token of its alternative, and each group around it the first (last) token of its own
// alternative, without a quantifier. Other uses of anchors, \A \z \Z \G, \Q and (?...) groups other than
// (?:...) are refused (false), and the matcher then joins with line breaks instead.
#pragma once

#include <string>
#include <string_view>

namespace guard::signatures {

inline constexpr char kJoinSeparatorByte = '\x01';

// Writes the joined-scan form of `pattern` to *out. False when the pattern is outside the shapes above.
bool JoinedPattern(std::string_view pattern, std::string* out);

}  // namespace guard::signatures
