#include "protocol/checks.h"

#include <algorithm>
#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <emmintrin.h>
#endif

#include "absl/strings/ascii.h"

namespace guard::protocol {
namespace {

constexpr uint32_t kFirstId = 9600;

// Ids are stable: operators put them in disabled_rules. Severity as CRS: 5 critical, 3 warning, 2 notice.
constexpr CheckInfo kChecks[] = {
    {9601, 5, 1, "Method not allowed (only GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS)"},
    {9602, 5, 1, "Content-Length is not a single non-negative integer of at most 15 digits"},
    {9603, 5, 1, "Both Content-Length and Transfer-Encoding (request smuggling)"},
    {9604, 5, 1, "Transfer-Encoding other than chunked"},
    {9605, 5, 1, "GET or HEAD request with a body"},
    {9606, 3, 1, "Invalid percent-encoding or UTF-8 in the path, query, form or cookies"},
    {9607, 5, 1, "Control character in the path, an argument or a header"},
    {9608, 5, 1, "Missing, empty, repeated or malformed Host header (port not 1-65535)"},
    {9609, 5, 1, "Content-Type charset other than UTF-8, US-ASCII, ISO-8859-1/15, Windows-1252 (UTF-7, EBCDIC)"},
    {9610, 5, 1, "Request body content type not allowed, or a content type or its parameter given twice"},
    {9611, 5, 1, "Malformed multipart body (boundary, unclosed part, duplicate parameters)"},
    {9612, 5, 1, "Malformed JSON or XML body"},
    {9613, 5, 1, "Restricted header (Proxy, Lock-Token, Content-Range, If)"},
    {9614, 5, 1, "Connection header names a hop-by-hop abuse target (framing, Host, auth)"},
    {9615, 5, 1, "Invalid character in a header name"},
    {9616, 5, 1, "Request target is not a path (absolute-form or authority-form)"},
    {9617, 4, 1, "Range header with more than 5 ranges"},
    {9618, 5, 1, "Accept-Encoding header longer than any real client sends"},
    {9619, 3, 2, "Host header is a numeric IP address"},
    {9620, 2, 1, "Empty User-Agent header"},
    {9621, 3, 1, "Expect header other than 100-continue"},
    {9622, 2, 2, "Missing User-Agent header"},
    {9623, 5, 1, "Upgrade to cleartext HTTP/2 (h2c) through the gateway (request smuggling)"},
    {9624, 5, 1, "Method override on a GET or HEAD request, or to TRACE, TRACK, CONNECT or DEBUG"},
    {9625, 5, 1, "Header name with '_' that reads as a framing or Host header (Content_Length)"},
    {9626, 5, 1, "Header value longer than 8 KiB (nginx's default header buffer)"},
    {9627, 5, 1, "Range bound past 18 digits, ending before its start, or overlapping (MS15-034, Apache Killer)"},
    {9628, 5, 1, "Date, Accept-Language or Accept-Encoding header with characters its grammar has not"},
    {9629, 5, 1, "Overlong UTF-8 in the path, query, form or cookies (%c0%af for '/', %c0%80 for NUL)"},
};

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return absl::ascii_tolower(x) == absl::ascii_tolower(y); });
}

bool IStartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && IEquals(s.substr(0, prefix.size()), prefix);
}

bool IContains(std::string_view s, std::string_view needle) {
  if (needle.size() > s.size()) return false;
  for (size_t i = 0; i + needle.size() <= s.size(); ++i) {
    if (IEquals(s.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string_view Str(const guard_str& s) { return {s.ptr ? s.ptr : "", s.len}; }

bool IsControl(unsigned char c) { return (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f; }

bool HasControlBytewise(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return IsControl(static_cast<unsigned char>(c)); });
}

// Runs over every header value and argument of every request: 16 bytes at a time (SSE2, part of x86-64),
// a byte below 0x20 other than \t \n \r, or 0x7f; 8 bytes at a time elsewhere, a word with any byte below
// 0x20 or equal to 0x7f (exact as to whether there is one, not which) checked byte by byte.
bool HasControl(std::string_view s) {
  size_t i = 0;
#if defined(__x86_64__)
  const __m128i below = _mm_set1_epi8(0x1f), tab = _mm_set1_epi8('\t'), lf = _mm_set1_epi8('\n'),
                cr = _mm_set1_epi8('\r'), del = _mm_set1_epi8(0x7f);
  for (; i + 16 <= s.size(); i += 16) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
    const __m128i low = _mm_cmpeq_epi8(_mm_min_epu8(x, below), x);  // x <= 0x1f
    const __m128i allowed = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, tab), _mm_cmpeq_epi8(x, lf)), _mm_cmpeq_epi8(x, cr));
    const __m128i bad = _mm_or_si128(_mm_andnot_si128(allowed, low), _mm_cmpeq_epi8(x, del));
    if (_mm_movemask_epi8(bad)) return true;
  }
#endif
  constexpr uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t x;
    std::memcpy(&x, s.data() + i, 8);
    const uint64_t below_space = (x - kOnes * 0x20) & ~x & kHigh;
    const uint64_t del = x ^ (kOnes * 0x7f);
    const uint64_t is_del = (del - kOnes) & ~del & kHigh;
    if ((below_space | is_del) && HasControlBytewise(s.substr(i, 8))) return true;
  }
  return HasControlBytewise(s.substr(i));
}

// A byte table of letters, digits and `extra`: character classes looked up once per byte of every header.
constexpr std::array<bool, 256> AlnumAnd(std::string_view extra) {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = t[c - 32] = true;
  for (unsigned char c : extra) t[c] = true;
  return t;
}

// RFC 9110 token characters, which header names consist of.
constexpr auto kTokenChars = AlnumAnd("!#$%&'*+-.^_`|~");
bool IsTokenChar(unsigned char c) { return kTokenChars[c]; }

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "name", "name:port", "[v6]" or "[v6]:port", the port 1-65535: what nginx and Kong route on.
bool ValidHostPort(std::string_view host) {
  std::string_view port;
  if (!host.empty() && host.front() == '[') {
    const size_t close = host.find(']');
    if (close == std::string_view::npos) return false;
    if (close + 1 == host.size()) return true;
    if (host[close + 1] != ':') return false;
    port = host.substr(close + 2);
  } else {
    const size_t colon = host.find(':');
    if (colon == std::string_view::npos) return true;
    port = host.substr(colon + 1);
  }
  if (port.empty() || port.size() > 5 || !AllDigits(port)) return false;
  const int v = std::stoi(std::string(port));
  return v >= 1 && v <= 65535;
}

bool IsOverrideToUnsafe(std::string_view m) {
  m = Trim(m);
  return IEquals(m, "TRACE") || IEquals(m, "TRACK") || IEquals(m, "CONNECT") || IEquals(m, "DEBUG");
}

bool LooksLikeIp(std::string_view host) {
  if (!host.empty() && host.front() == '[') return true;  // IPv6 literal
  size_t colon = host.rfind(':');
  if (colon != std::string_view::npos) host = host.substr(0, colon);
  int dots = 0;
  for (char c : host) {
    if (c == '.') {
      ++dots;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  return dots == 3;
}

// Content types a JSON/form API legitimately receives, by prefix (parameters such as charset follow).
bool AllowedContentType(std::string_view ct) {
  static constexpr std::string_view kAllowed[] = {
      "application/x-www-form-urlencoded", "multipart/form-data", "multipart/related", "text/xml",
      "application/xml", "application/soap+xml", "application/json", "application/graphql",
      "application/octet-stream", "application/csp-report", "application/x-ndjson", "application/pdf",
      "application/zip", "application/gzip", "text/plain", "text/csv", "text/markdown", "text/calendar",
      "text/vcard", "application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "application/grpc",
      "application/x-protobuf", "application/protobuf", "image/", "audio/", "video/", "font/"};
  for (std::string_view a : kAllowed) {
    if (IStartsWith(ct, a)) return true;
  }
  // Structured syntax suffixes (RFC 6839): application/vnd.api+json, application/merge-patch+json, ...
  size_t semi = ct.find(';');
  std::string_view type = Trim(ct.substr(0, semi));
  return IStartsWith(type, "application/") &&
         (type.size() > 5 && (IEquals(type.substr(type.size() - 5), "+json") || IEquals(type.substr(type.size() - 4), "+xml")));
}

bool AllowedCharset(std::string_view ct) {
  size_t at = 0;
  while ((at = ct.find(';', at)) != std::string_view::npos) {
    std::string_view param = Trim(ct.substr(at + 1));
    at += 1;
    if (!IStartsWith(param, "charset=")) continue;
    // The value ends at the next parameter: "charset=utf-8; action=..." (SOAP 1.2) names utf-8.
    std::string_view cs = param.substr(8);
    cs = Trim(cs.substr(0, cs.find(';')));
    if (!cs.empty() && cs.front() == '"' && cs.size() >= 2) cs = cs.substr(1, cs.size() - 2);
    // CRS's allowed_request_content_type_charset (utf-8|iso-8859-1|iso-8859-15|windows-1252), and US-ASCII.
    return IEquals(cs, "utf-8") || IEquals(cs, "utf8") || IEquals(cs, "us-ascii") || IEquals(cs, "iso-8859-1") ||
           IEquals(cs, "iso-8859-15") || IEquals(cs, "windows-1252");
  }
  return true;
}

// "bytes=0-1,5-9". kMalformed: a bound past 18 digits (beyond any file, overflowing 64-bit parsers:
// MS15-034's 0-18446744073709551615), an end before its start (Apache Killer's 5-1,5-2,...) or two ranges
// that overlap (Apache Killer's 0-,0-,0-; RFC 9110 14.2 names them a denial-of-service vector), none of
// which a client sends; kTooMany: more than 5 ranges, which PDF readers' byte serving can legitimately ask
// for (ascending and disjoint). Overlaps are looked for among the first kMaxRanges ranges.
enum class RangeProblem { kNone, kTooMany, kMalformed };
RangeProblem BadRange(std::string_view v) {
  size_t eq = v.find('=');
  if (eq == std::string_view::npos) return RangeProblem::kNone;
  v = v.substr(eq + 1);
  constexpr size_t kMaxRanges = 64;
  constexpr uint64_t kOpen = UINT64_MAX;  // "500-": to the end
  uint64_t first[kMaxRanges], last[kMaxRanges];
  size_t kept = 0;
  int ranges = 0, suffixes = 0;
  while (!v.empty()) {
    size_t comma = v.find(',');
    std::string_view r = Trim(v.substr(0, comma));
    ++ranges;
    size_t dash = r.find('-');
    if (dash != std::string_view::npos) {
      std::string_view a = Trim(r.substr(0, dash)), b = Trim(r.substr(dash + 1));
      if (a.size() > 18 || b.size() > 18) return RangeProblem::kMalformed;
      if (a.empty() && AllDigits(b)) {
        if (++suffixes > 1) return RangeProblem::kMalformed;  // two "last N bytes" ranges share the end
      } else if (AllDigits(a) && (b.empty() || AllDigits(b))) {
        const uint64_t from = std::stoull(std::string(a)), to = b.empty() ? kOpen : std::stoull(std::string(b));
        if (to < from) return RangeProblem::kMalformed;
        for (size_t i = 0; i < kept; ++i) {
          if (from <= last[i] && first[i] <= to) return RangeProblem::kMalformed;
        }
        if (kept < kMaxRanges) {
          first[kept] = from;
          last[kept++] = to;
        }
      }
    }
    if (comma == std::string_view::npos) break;
    v = v.substr(comma + 1);
  }
  return ranges > 5 ? RangeProblem::kTooMany : RangeProblem::kNone;
}

// A parameter of a Content-Type given twice ("boundary=a; boundary=b"): parsers disagree on which one
// counts (the first, the last), which is how a multipart body is made to read one way to the WAF and
// another to the application. Names are compared case-insensitively; quoted values may hold ';'.
bool RepeatedParameter(std::string_view ct) {
  constexpr size_t kMaxParams = 8;
  std::string_view names[kMaxParams];
  size_t count = 0;
  bool quoted = false;
  for (size_t i = 0; i < ct.size(); ++i) {
    if (ct[i] == '"') quoted = !quoted;
    if (quoted || ct[i] != ';') continue;
    std::string_view param = Trim(ct.substr(i + 1));
    std::string_view name = Trim(param.substr(0, param.find_first_of("=;")));
    if (name.empty()) continue;
    for (size_t k = 0; k < count; ++k) {
      if (IEquals(names[k], name)) return true;
    }
    if (count == kMaxParams) return false;
    names[count++] = name;
  }
  return false;
}

// Whether `name` equals `lower` (lowercase letters, digits and '-') ignoring case, 8 bytes at a time: a
// letter of `lower` matches itself or its capital only; '-' or a digit matches itself or that byte minus
// 0x20 (a control or a space, which no valid header name holds: 9615 reports it). Exact enough to route
// a header to a grammar check, at a fraction of IEquals's cost per byte.
bool SameNameFast(std::string_view name, std::string_view lower) {
  if (name.size() != lower.size()) return false;
  size_t i = 0;
  for (; i + 8 <= name.size(); i += 8) {
    uint64_t x, y;
    std::memcpy(&x, name.data() + i, 8);
    std::memcpy(&y, lower.data() + i, 8);
    if ((x | 0x2020202020202020ull) != y) return false;
  }
  for (; i < name.size(); ++i) {
    if ((static_cast<unsigned char>(name[i]) | 0x20) != static_cast<unsigned char>(lower[i])) return false;
  }
  return true;
}

// Standard headers whose grammar is a short list of characters (RFC 9110 dates, language ranges, codings).
// A quote, a parenthesis, '<', '$', '%', '/' or a backslash in one of them is not a client quirk but a
// payload aimed at whatever logs or parses the header: scanners try every header. These headers are
// otherwise read by name only (docs/detection.md, custom_headers), so this is the check that sees them.
// Returns the header's target name, or "" when the header is not one of them.
std::string_view StructuredHeader(std::string_view name) {
  // Every header of every request comes here: candidates by length first, so most names cost one switch.
  // Fetch metadata, DNT and the like are left out: browsers set them, scanners seldom aim at them, and a
  // browser sends seven of them on every request.
  auto is = [&](std::string_view lower) { return SameNameFast(name, lower); };
  switch (name.size()) {
    case 4: return is("date") ? "headers:date" : "";
    case 15:
      if (is("accept-language")) return "headers:accept-language";
      if (is("accept-encoding")) return "headers:accept-encoding";
      return "";
    case 17: return is("if-modified-since") ? "headers:if-modified-since" : "";
    case 19: return is("if-unmodified-since") ? "headers:if-unmodified-since" : "";
    default: return "";
  }
}

// Letters, digits, space, tab and ", ; : = . * + - _ ?" cover every value these headers take: "Sun, 06 Nov
// 1994 08:49:37 GMT" (and the RFC 850 and asctime forms, and Netscape's "; length=123"), "en-US,en;q=0.9",
// "zh_CN", "gzip, deflate, br;q=1.0, *;q=0".
constexpr auto kStructuredChars = AlnumAnd(" \t,;:=.*+-_?");
bool StructuredValueOk(std::string_view v) {
  return std::all_of(v.begin(), v.end(), [](char c) { return kStructuredChars[static_cast<unsigned char>(c)]; });
}

// Overlong UTF-8: a lead byte C0/C1, or E0 then 80-9F, or F0 then 80-8F, followed by a continuation byte.
// No encoder produces them; decoders that accept them turn %c0%af into '/' and %c0%80 into NUL behind the
// WAF's back (the IIS traversal). utf8Normalize folds them for the rules; this check reports the evasion.
bool HasOverlongUtf8(std::string_view s) {
  for (size_t i = 0; i + 1 < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]), n = static_cast<unsigned char>(s[i + 1]);
    if (c < 0xc0) continue;
    if ((c == 0xc0 || c == 0xc1) && n >= 0x80 && n <= 0xbf) return true;
    if (c == 0xe0 && n >= 0x80 && n <= 0x9f) return true;
    if (c == 0xf0 && n >= 0x80 && n <= 0x8f) return true;
  }
  return false;
}

}  // namespace

std::span<const CheckInfo> AllChecks() { return kChecks; }

Checker::Checker(int paranoia_level, std::span<const uint32_t> disabled_rules) {
  for (const CheckInfo& c : kChecks) {
    if (c.paranoia > paranoia_level) continue;
    if (std::find(disabled_rules.begin(), disabled_rules.end(), c.id) != disabled_rules.end()) continue;
    enabled_ |= uint64_t{1} << (c.id - kFirstId);
  }
}

bool Checker::Enabled(uint32_t id) const { return (enabled_ >> (id - kFirstId)) & 1; }

void Checker::Run(const guard_request& req, const request::FieldList& fields, std::vector<Finding>* out) const {
  auto report = [&](uint32_t id, std::string_view target) {
    if (Enabled(id)) out->push_back({id, [&] {
      for (const CheckInfo& c : kChecks) if (c.id == id) return c.severity;
      return 0;
    }(), target});
  };

  const std::string_view method = Str(req.method);
  static constexpr std::string_view kMethods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
  if (std::find(std::begin(kMethods), std::end(kMethods), method) == std::end(kMethods)) report(9601, "method");

  const std::string_view path = Str(req.path);
  if (path.empty() || (path.front() != '/' && !(method == "OPTIONS" && path == "*"))) report(9616, "path");

  // One pass over the headers collects what the framing checks need.
  std::string_view content_length, transfer_encoding, content_type, host, user_agent, connection;
  std::string_view method_override;
  int content_lengths = 0, hosts = 0;
  bool has_ua = false, has_override = false;
  for (size_t i = 0; i < req.header_count; ++i) {
    std::string_view name = Str(req.headers[i].name), value = Str(req.headers[i].value);
    if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) { return IsTokenChar(static_cast<unsigned char>(c)); })) {
      report(9615, "header_names");
    }
    if (HasControl(value)) report(9607, "headers");
    if (value.size() > 8192) report(9626, "headers");
    if (name.find('_') != std::string_view::npos &&
        (IEquals(name, "content_length") || IEquals(name, "transfer_encoding") || IEquals(name, "host"))) {
      report(9625, "header_names");
    }
    if (IEquals(name, "content-length")) {
      content_length = value;
      ++content_lengths;
    } else if (IEquals(name, "transfer-encoding")) {
      transfer_encoding = value;
    } else if (IEquals(name, "content-type")) {
      content_type = value;
    } else if (IEquals(name, "host")) {
      host = value;
      ++hosts;
    } else if (IEquals(name, "user-agent")) {
      user_agent = value;
      has_ua = true;
    } else if (IEquals(name, "connection")) {
      connection = value;
    } else if (IEquals(name, "proxy") || IEquals(name, "lock-token") || IEquals(name, "content-range") || IEquals(name, "if")) {
      report(9613, "headers");
    } else if (IEquals(name, "range") || IEquals(name, "request-range")) {
      const RangeProblem problem = BadRange(value);
      if (problem == RangeProblem::kTooMany) report(9617, "headers:range");
      if (problem == RangeProblem::kMalformed) report(9627, "headers:range");
    } else if (IEquals(name, "accept-encoding")) {
      if (value.size() > 100) report(9618, "headers:accept-encoding");
    } else if (IEquals(name, "expect")) {
      if (!IEquals(Trim(value), "100-continue")) report(9621, "headers:expect");
    } else if (IEquals(name, "upgrade")) {
      if (IContains(value, "h2c")) report(9623, "headers:upgrade");
    } else if (IEquals(name, "x-http-method-override") || IEquals(name, "x-http-method") ||
               IEquals(name, "x-method-override")) {
      method_override = value;
      has_override = true;
    }
    if (std::string_view target = StructuredHeader(name); !target.empty() && !StructuredValueOk(value)) {
      report(9628, target);
    }
  }

  if (content_lengths > 1 || (content_lengths == 1 && (!AllDigits(Trim(content_length)) || Trim(content_length).size() > 15))) {
    report(9602, "headers:content-length");
  }
  if (content_lengths && !transfer_encoding.empty()) report(9603, "headers:transfer-encoding");
  if (!transfer_encoding.empty() && !IEquals(Trim(transfer_encoding), "chunked")) {
    report(9604, "headers:transfer-encoding");
  }
  const bool has_body = req.body.len > 0 || !transfer_encoding.empty() ||
                        (content_lengths && Trim(content_length) != "0" && AllDigits(Trim(content_length)));
  if ((method == "GET" || method == "HEAD") && has_body) report(9605, "body");
  if (hosts != 1 || Trim(host).empty() || !ValidHostPort(Trim(host))) {
    report(9608, "headers:host");
  } else if (LooksLikeIp(Trim(host))) {
    report(9619, "headers:host");
  }
  if (!has_ua) {
    report(9622, "headers:user-agent");
  } else if (Trim(user_agent).empty()) {
    report(9620, "headers:user-agent");
  }
  if (!connection.empty()) {
    for (std::string_view bad : {"transfer-encoding", "content-length", "host", "authorization", "x-forwarded-for",
                                 "cookie", "x-real-ip"}) {
      if (IContains(connection, bad)) {
        report(9614, "headers:connection");
        break;
      }
    }
  }
  if (has_body && !content_type.empty() && !AllowedContentType(content_type)) report(9610, "headers:content-type");
  // A charset or a parameter given twice is an evasion whether a body follows or not (CRS 920480 reads
  // the header alone too); the content type itself only matters for a body.
  if (!content_type.empty()) {
    if (!AllowedCharset(content_type)) report(9609, "headers:content-type");
    if (RepeatedParameter(content_type)) {
      report(IStartsWith(Trim(content_type), "multipart/") ? 9611 : 9610, "headers:content-type");
    }
  }

  // A method override lets a link or an <img> (GET) change state, or reaches methods 9601 refuses. The
  // form field _method on a POST is the Rails/Laravel convention and stays allowed.
  const bool safe_method = method == "GET" || method == "HEAD";
  bool override_bad = has_override && (safe_method || IsOverrideToUnsafe(method_override));
  for (const request::Field& f : fields.fields()) {
    if (override_bad) break;
    if ((f.target == request::Target::kArg || f.target == request::Target::kBodyArg) && IEquals(f.name, "_method")) {
      override_bad = (safe_method && f.target == request::Target::kArg) || IsOverrideToUnsafe(f.value);
    }
  }
  if (override_bad) report(9624, "headers");

  // What the parsers found.
  const uint32_t flags = fields.flags();
  if (flags & request::kInvalidEncoding) {
    report(9606, "args");
    // Only then can a decoded value hold an overlong sequence (they are invalid UTF-8): benign traffic
    // never pays for this loop.
    for (const request::Field& f : fields.fields()) {
      if ((f.target == request::Target::kPath || f.target == request::Target::kArg ||
           f.target == request::Target::kArgName || f.target == request::Target::kBodyArg ||
           f.target == request::Target::kBodyArgName || f.target == request::Target::kCookie) &&
          HasOverlongUtf8(f.value)) {
        report(9629, request::TargetName(f.target));
        break;
      }
    }
  }
  if (flags & (request::kMultipartUnclosed)) report(9611, "body");
  if (flags & request::kMalformedBody) {
    report(IStartsWith(Trim(content_type), "multipart/") ? 9611 : 9612, "body");
  }
  if (flags & request::kDuplicateContentType) report(9610, "headers:content-type");
  for (const request::Field& f : fields.fields()) {
    if (f.target == request::Target::kPath || f.target == request::Target::kArg || f.target == request::Target::kArgName) {
      if (HasControl(f.value)) {
        report(9607, request::TargetName(f.target));
        break;
      }
    }
  }
}

}  // namespace guard::protocol
