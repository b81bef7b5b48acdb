// Internal interface between Parse() (parse.cc) and the individual parsers, one file each.
//
// Every parser appends to a FieldList, never throws, and does work linear in its input. A body parser
// returns true when it accepted the whole body, i.e. every byte that matters is now in some field; on
// false (malformed, cut by a limit, truncated) Parse() adds the raw body as a kBody field as well.
#pragma once

#include <string_view>

#include "request/fields.h"

namespace guard::request::internal {

// Percent-decodes `in` once ('+' to space when plus_is_space). Invalid escapes (%4, %zz) are kept as
// they are and set *invalid. Returns a view into `in` when there was nothing to decode, else into the arena.
std::string_view PercentDecode(std::string_view in, bool plus_is_space, FieldList* out, bool* invalid);

bool IsValidUtf8(std::string_view s);

// ASCII case-insensitive comparisons for protocol tokens.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix);
std::string_view TrimSpace(std::string_view s);  // spaces and tabs

// application/x-www-form-urlencoded (query strings and form bodies): '&'-separated name=value pairs.
void ParseUrlEncoded(std::string_view s, Target name_target, Target value_target, FieldList* out);

// One Cookie header value (RFC 6265 "a=b; c=d", leniently).
void ParseCookies(std::string_view header_value, FieldList* out);

// Headers to kHeaderName/kHeader (names lowercased), Cookie headers to cookies, Content-Type recorded.
void ParseHeaders(const guard_header* headers, size_t count, FieldList* out);

// Body parsers. `truncated`: the body is a prefix, so running out of input is not "malformed".
// quiet (JSON sniffing of unlabelled bodies): failures set no flags.
bool ParseJsonBody(std::string_view body, const Limits& limits, bool truncated, bool quiet, FieldList* out);
bool ParseXmlBody(std::string_view body, bool truncated, FieldList* out);
bool ParseMultipartBody(std::string_view body, std::string_view content_type, const Limits& limits,
                        bool truncated, FieldList* out);

}  // namespace guard::request::internal
