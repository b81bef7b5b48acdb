// libFuzzer target: builds a guard_request from the input and runs request::Parse on it.
//
// Input layout (kept simple so that seeds can be written by hand):
//   byte 0: bits 0-2 Content-Type (see kContentTypes; 0 = only what the header block says),
//           bit 3 GUARD_REQ_BODY_TRUNCATED, bits 4-5 limits (default / tiny / medium)
//   then method \x01 path \x01 query \x01 headers \x01 body, headers as "name: value" lines split on '\n'.
// Every piece is copied into its own exactly-sized heap block so that ASan sees any read past its end.
// Each input is parsed twice into the same FieldList (reuse must not change the result), and every
// byte of every field is read so that dangling views are caught.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "request/fields.h"

namespace {
using guard::request::Field;
using guard::request::FieldList;
using guard::request::Limits;

constexpr const char* kContentTypes[] = {
    nullptr,
    "application/x-www-form-urlencoded",
    "application/json",
    "text/xml; charset=utf-8",
    "multipart/form-data; boundary=XyZ",
    "multipart/form-data; boundary=\"a;b\"",
    "text/plain",
    "application/vnd.api+json",
};

struct Piece {
  std::unique_ptr<char[]> bytes;
  size_t len = 0;
  guard_str str() const { return {len ? bytes.get() : nullptr, len}; }
};

Piece Copy(std::string_view s) {
  Piece p;
  p.len = s.size();
  if (p.len) {
    p.bytes.reset(new char[p.len]);
    std::memcpy(p.bytes.get(), s.data(), p.len);
  }
  return p;
}

std::string_view Next(std::string_view* rest) {
  size_t sep = rest->find('\x01');
  std::string_view piece = rest->substr(0, sep);
  rest->remove_prefix(sep == std::string_view::npos ? rest->size() : sep + 1);
  return piece;
}

uint64_t Touch(const FieldList& fl) {
  uint64_t sum = fl.flags();
  for (const Field& f : fl.fields()) {
    for (char c : f.name) sum = sum * 31 + static_cast<unsigned char>(c);
    for (char c : f.value) sum = sum * 31 + static_cast<unsigned char>(c);
    sum += static_cast<uint64_t>(f.target);
  }
  return sum;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t control = data[0];
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  Piece method = Copy(Next(&rest)), path = Copy(Next(&rest)), query = Copy(Next(&rest));
  std::string_view header_block = Next(&rest);
  Piece body = Copy(rest);

  std::vector<Piece> header_pieces;
  while (!header_block.empty()) {
    size_t eol = header_block.find('\n');
    std::string_view line = header_block.substr(0, eol);
    header_block.remove_prefix(eol == std::string_view::npos ? header_block.size() : eol + 1);
    size_t colon = line.find(':');
    std::string_view value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    header_pieces.push_back(Copy(line.substr(0, colon)));
    header_pieces.push_back(Copy(value));
  }
  if (const char* ct = kContentTypes[control & 7]) {
    header_pieces.push_back(Copy("Content-Type"));
    header_pieces.push_back(Copy(ct));
  }
  std::vector<guard_header> headers;
  for (size_t i = 0; i + 1 < header_pieces.size(); i += 2)
    headers.push_back({header_pieces[i].str(), header_pieces[i + 1].str()});

  guard_request req{};
  req.method = method.str();
  req.path = path.str();
  req.query = query.str();
  req.headers = headers.empty() ? nullptr : headers.data();
  req.header_count = headers.size();
  req.body = body.str();
  req.flags = (control & 8) ? GUARD_REQ_BODY_TRUNCATED : 0;

  Limits limits;
  switch ((control >> 4) & 3) {
    case 1: limits = Limits{64, 8, 4, 8}; break;
    case 2: limits = Limits{4096, 128, 16, 256}; break;
    default: break;
  }

  static FieldList fl;  // reused across inputs, as a worker reuses it across requests
  guard::request::Parse(req, limits, &fl);
  uint64_t first = Touch(fl);
  if (fl.size() > limits.max_fields + 1) abort();
  guard::request::Parse(req, limits, &fl);
  if (Touch(fl) != first) abort();  // reuse changed the result
  return 0;
}
