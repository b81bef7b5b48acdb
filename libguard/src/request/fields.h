// The request model that every detection engine reads: a request flattened into named, decoded fields.
//
// The parsers (query, cookies, form, JSON, XML, multipart) turn a guard_request into a FieldList once per
// request; signatures, fingerprints and behaviour profiles then read fields instead of re-parsing. Names
// and values are views into the FieldList's own arena (or into the request when no decoding was needed),
// valid until the next Parse() into the same FieldList. A FieldList is reused per thread so that a
// steady-state request allocates nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "guard.h"

namespace guard::request {

// Where a value came from. Names follow the CRS variables they correspond to.
enum class Target : uint8_t {
  kMethod,        // REQUEST_METHOD
  kPath,          // REQUEST_FILENAME: the percent-decoded path
  kArgName,       // ARGS_NAMES from the query string
  kArg,           // ARGS from the query string (percent-decoded once; '+' is a space)
  kHeaderName,    // REQUEST_HEADERS_NAMES
  kHeader,        // REQUEST_HEADERS (not cookies)
  kCookieName,    // REQUEST_COOKIES_NAMES
  kCookie,        // REQUEST_COOKIES
  kBodyArgName,   // ARGS_NAMES from the body (form fields, JSON keys as dotted paths, multipart names)
  kBodyArg,       // ARGS from the body (form values, JSON strings/numbers, multipart fields without a filename)
  kFileName,      // FILES: multipart filenames
  kXml,           // XML: text, attribute values and the DOCTYPE/ENTITY declarations of an XML body
  kBody,          // REQUEST_BODY: the raw body (up to the inspection limit), for bodies no parser took
  kFileContent,   // FILES_TMP_CONTENT: the content of multipart parts that carry a filename (uploads). Not a
                  // form value: images, archives and documents would trip generic rules, so only rules
                  // written for uploads (web shells, polyglots) read it, as in CRS.
  kCount
};

// Short lowercase name used in rules ("targets") and in verdicts ("args:id"): the specific names of
// schema/rules.schema.json (query, query_names, headers, header_names, cookies, ..., body).
std::string_view TargetName(Target t);

// The targets a rule's target name covers, as bits (1u << Target), 0 when unknown. Besides every
// TargetName(), the schema's unions: "args" = query + body_args, "args_names" = query_names +
// body_args_names. A ":field" suffix is not part of the name (strip it first).
uint32_t TargetMask(std::string_view name);

struct Field {
  Target target;
  std::string_view name;   // arg/header/cookie name or JSON path; empty for path, body
  std::string_view value;  // decoded once by the parser (percent-decoding for query/form/cookies)
};

struct Limits {
  size_t max_body_bytes = 64 * 1024;  // bytes of body inspected; the rest is reported, not ignored
  size_t max_fields = 1024;           // fields past this are dropped and reported
  size_t max_json_depth = 64;
  size_t max_part_bytes = 16 * 1024;  // bytes of each multipart part body inspected
};

// Anomalies found while parsing: reported in the verdict, some scored by protocol rules.
enum ParseFlag : uint32_t {
  kBodyUninspected = 1u << 0,   // body longer than max_body_bytes or truncated by the gateway
  kTooManyFields = 1u << 1,
  kMalformedBody = 1u << 2,     // JSON/XML/multipart that failed to parse (the raw body is still scanned)
  kJsonTooDeep = 1u << 3,
  kInvalidEncoding = 1u << 4,   // bad %-escapes (path, query, form, cookies), invalid UTF-8 in path or query
  kMultipartUnclosed = 1u << 5,
  kDuplicateContentType = 1u << 6,  // several Content-Type headers: the first one chose the body parser
};

// Reusable buffers for the parsers (JSON path, RapidJSON's stack, unescaping): kept across requests so that
// parsing allocates nothing in the steady state.
struct ParserScratch {
  std::string path;
  std::string text;
  std::vector<char> json_stack;
  std::vector<uint32_t> frames;
};

class FieldList {
 public:
  void Clear();  // keeps capacity (fields, arena chunks, scratch); the field limit stays as set
  // Fields past this count are dropped and kTooManyFields is set. The one kBody field is always kept, so
  // that a body whose structured fields were cut off is still scanned as a whole.
  void SetMaxFields(size_t n) { max_fields_ = n; }
  const std::vector<Field>& fields() const { return fields_; }
  uint32_t flags() const { return flags_; }
  std::string_view content_type() const { return content_type_; }

  // For parsers: append a field whose name/value already live in stable storage (the request or Intern()).
  // Returns false (and sets kTooManyFields) when the field limit dropped it.
  bool Add(Target t, std::string_view name, std::string_view value);
  bool full() const { return fields_.size() >= max_fields_; }
  // Copies bytes into the arena and returns a view that stays valid until Clear().
  std::string_view Intern(std::string_view bytes);
  // Decoding straight into the arena: Reserve(n) returns n writable bytes, Commit(used <= n) turns the first
  // `used` of them into a view valid until Clear(). One reservation at a time.
  char* Reserve(size_t n);
  std::string_view Commit(size_t used);
  ParserScratch& scratch() { return scratch_; }
  void SetFlag(uint32_t f) { flags_ |= f; }
  void SetContentType(std::string_view ct) { content_type_ = ct; }
  size_t size() const { return fields_.size(); }

 private:
  std::vector<Field> fields_;
  // A chunk of the arena: a fixed buffer (never reallocated while views point into it) and the bytes used.
  // Not a std::string: its resize() would zero every reservation before the parser overwrites it.
  struct Chunk {
    std::unique_ptr<char[]> data;
    size_t capacity = 0;
    size_t used = 0;
  };
  std::vector<Chunk> arena_;
  size_t arena_used_ = 0;           // chunks of arena_ in use
  size_t reserved_at_ = 0;          // offset of the open Reserve() in the current chunk
  size_t max_fields_ = SIZE_MAX;
  ParserScratch scratch_;
  uint32_t flags_ = 0;
  std::string_view content_type_;
};

// Flattens a request into fields. Never throws, never crashes on malformed input; linear in input size.
// If memory runs out midway, the fields so far are kept and kBodyUninspected reports the rest.
void Parse(const guard_request& req, const Limits& limits, FieldList* out);

}  // namespace guard::request
