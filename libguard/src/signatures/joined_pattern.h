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
//
// The joined form is also fenced where it can be: `.`, negated classes and the negated shorthands (\W \S \D
// \H \N) exclude the separator byte. Without that, one `<` or `${` woke engines that ran on through every
// following field (`<[^>]*`, `\$\{[^\n]{0,48}`), and a match could start in one field and end in another,
// so that each one had to be confirmed by a scan of its slice alone. A fenced pattern's match lies within
// one slice (plus the separator a rewritten anchor consumed), so the matcher records it at once. A pattern
// that may still match the separator (the byte itself, a class holding it such as [\x00-\x1f] or [\W_], a
// control, octal or property escape) is not fenced, and its matches are confirmed as before. On a value that
// holds the separator byte itself, the joined form is never used: such a value is scanned as written.
#pragma once

#include <string>
#include <string_view>

namespace guard::signatures {

inline constexpr char kJoinSeparatorByte = '\x01';

// Writes the joined-scan form of `pattern` to *out, and to *fenced whether that form is fenced. False when
// the pattern is outside the shapes above.
bool JoinedPattern(std::string_view pattern, std::string* out, bool* fenced = nullptr);

// Whether every match of `pattern` holds a line break (\r or \n): its first token is \r, \n or a class of
// only those, not made optional by its quantifier, and it has no alternative at the top level. Judged
// narrowly (the CRLF rules' `[\r\n]\s*...`): unsure means false. Such patterns are left out of the joined
// scan and run only over the slices that hold a line break (Matcher, DbClass::line_db).
bool NeedsLineBreak(std::string_view pattern);

}  // namespace guard::signatures
